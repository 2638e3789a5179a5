//! The gateway's own SQLite store: received envelopes (sealed), sent signals, its audit log.
//!
//! Nothing identifying is written: no BSN, no plaintext. A received envelope is opened only when
//! a professional looks at it, and [`Store::audit`] records that look (NEN 7513).
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use std::path::Path;

/// A store failure. The message names what failed, never stored values.
#[derive(Debug, thiserror::Error)]
#[error("gateway store: {0}")]
pub struct StoreError(String);

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError(e.to_string())
    }
}

/// A received signal as the gateway keeps it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Sender.
    pub sender_oin: String,
    /// The sender's id.
    pub signal_id: String,
    /// The hub's inbox cursor.
    pub cursor: i64,
    /// Purpose.
    pub purpose: String,
    /// Categories.
    pub categories: Vec<String>,
    /// Urgency (wire value).
    pub urgency: i32,
    /// Basis references.
    pub basis: Vec<String>,
    /// When the sender sent it (unix seconds).
    pub sent_at: Option<i64>,
    /// Until when the convenant lets it be kept (unix seconds).
    pub retain_until: Option<i64>,
    /// The sealed envelope (encoded).
    pub envelope: Vec<u8>,
    /// When the gateway stored it.
    pub received_at: i64,
    /// When a professional acknowledged it, and who.
    pub acknowledged: Option<(i64, String)>,
}

/// A signal this organisation sent through the gateway.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Its id.
    pub signal_id: String,
    /// Recipient OINs.
    pub recipients: Vec<String>,
    /// Purpose.
    pub purpose: String,
    /// Categories.
    pub categories: Vec<String>,
    /// When.
    pub sent_at: i64,
    /// By which professional.
    pub sent_by: String,
    /// Until when it may be kept.
    pub retain_until: Option<i64>,
}

/// A zorgmelding as a Veilig Thuis gateway keeps it.
#[derive(Debug, Clone)]
pub struct StoredMelding {
    /// The hub's id.
    pub zorgmelding_id: String,
    /// The police organisation.
    pub police_oin: String,
    /// The police's registration number of the incident.
    pub registration_number: String,
    /// The version delivered (a late fragment makes a new one).
    pub version: i64,
    /// How many fragments it has.
    pub fragment_count: i64,
    /// Whether the police marked it complete.
    pub complete: bool,
    /// The hub's stream cursor.
    pub cursor: i64,
    /// Until when the convenant lets it be kept (unix seconds).
    pub retain_until: Option<i64>,
    /// The encoded `signaalhub.v1.Zorgmelding`, fragments still sealed.
    pub melding: Vec<u8>,
    /// When the gateway first stored it.
    pub received_at: i64,
    /// When the gateway stored its current version.
    pub updated_at: i64,
}

fn melding_from(r: &sqlx::sqlite::SqliteRow) -> Result<StoredMelding, sqlx::Error> {
    Ok(StoredMelding {
        zorgmelding_id: r.try_get("zorgmelding_id")?,
        police_oin: r.try_get("police_oin")?,
        registration_number: r.try_get("registration_number")?,
        version: r.try_get("version")?,
        fragment_count: r.try_get("fragment_count")?,
        complete: r.try_get::<i64, _>("complete")? != 0,
        cursor: r.try_get("cursor")?,
        retain_until: r.try_get("retain_until")?,
        melding: r.try_get("melding")?,
        received_at: r.try_get("received_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// One line of the gateway's audit log.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Its place in the log (grows with every line).
    pub id: i64,
    /// When (unix seconds).
    pub at: i64,
    /// Who.
    pub professional: String,
    /// What, e.g. `opened`, `sent`, `acknowledged`, `login`.
    pub action: String,
    /// On what, e.g. `<sender OIN>/<signal id>`.
    pub object: String,
}

/// The store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn parse_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn received_from(r: &sqlx::sqlite::SqliteRow) -> Result<Received, sqlx::Error> {
    let ack_at: Option<i64> = r.try_get("acknowledged_at")?;
    let ack_by: Option<String> = r.try_get("acknowledged_by")?;
    Ok(Received {
        sender_oin: r.try_get("sender_oin")?,
        signal_id: r.try_get("signal_id")?,
        cursor: r.try_get("cursor")?,
        purpose: r.try_get("purpose")?,
        categories: parse_list(&r.try_get::<String, _>("categories")?),
        urgency: r.try_get::<i64, _>("urgency")? as i32,
        basis: parse_list(&r.try_get::<String, _>("basis")?),
        sent_at: r.try_get("sent_at")?,
        retain_until: r.try_get("retain_until")?,
        envelope: r.try_get("envelope")?,
        received_at: r.try_get("received_at")?,
        acknowledged: ack_at.zip(ack_by),
    })
}

impl Store {
    /// Opens (creating if needed, owner-only) and migrates the SQLite file at `path`.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError(format!("{}: {e}", dir.display())))?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| StoreError(format!("{}: {e}", path.display())))?;
        Ok(Store { pool })
    }

    /// Keeps a received item; a second copy of the same (sender, id) is ignored. Returns whether
    /// it was new.
    pub async fn put_received(&self, r: &Received) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO received (sender_oin, signal_id, cursor, purpose, categories, urgency, basis, \
             sent_at, retain_until, envelope, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (sender_oin, signal_id) DO NOTHING",
        )
        .bind(&r.sender_oin)
        .bind(&r.signal_id)
        .bind(r.cursor)
        .bind(&r.purpose)
        .bind(json_list(&r.categories))
        .bind(i64::from(r.urgency))
        .bind(json_list(&r.basis))
        .bind(r.sent_at)
        .bind(r.retain_until)
        .bind(&r.envelope)
        .bind(r.received_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Received items, newest first (at most `limit`).
    pub async fn list_received(&self, limit: i64) -> Result<Vec<Received>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM received ORDER BY received_at DESC, cursor DESC LIMIT ?")
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .iter()
            .map(received_from)
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// How many received items no professional acknowledged yet.
    pub async fn count_unacknowledged(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM received WHERE acknowledged_at IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// One received item.
    pub async fn get_received(
        &self,
        sender_oin: &str,
        signal_id: &str,
    ) -> Result<Option<Received>, StoreError> {
        let row = sqlx::query("SELECT * FROM received WHERE sender_oin = ? AND signal_id = ?")
            .bind(sender_oin)
            .bind(signal_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(received_from).transpose()?)
    }

    /// Records that `professional` acknowledged a received item.
    pub async fn mark_acknowledged(
        &self,
        sender_oin: &str,
        signal_id: &str,
        professional: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE received SET acknowledged_at = ?, acknowledged_by = ? \
             WHERE sender_oin = ? AND signal_id = ? AND acknowledged_at IS NULL",
        )
        .bind(now_unix())
        .bind(professional)
        .bind(sender_oin)
        .bind(signal_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Keeps a sent signal's metadata.
    pub async fn put_sent(&self, s: &Sent) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sent (signal_id, recipients, purpose, categories, sent_at, sent_by, retain_until) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (signal_id) DO NOTHING",
        )
        .bind(&s.signal_id)
        .bind(json_list(&s.recipients))
        .bind(&s.purpose)
        .bind(json_list(&s.categories))
        .bind(s.sent_at)
        .bind(&s.sent_by)
        .bind(s.retain_until)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sent signals, newest first.
    pub async fn list_sent(&self, limit: i64) -> Result<Vec<Sent>, StoreError> {
        let rows = sqlx::query("SELECT * FROM sent ORDER BY sent_at DESC LIMIT ?")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Sent {
                    signal_id: r.try_get("signal_id")?,
                    recipients: parse_list(&r.try_get::<String, _>("recipients")?),
                    purpose: r.try_get("purpose")?,
                    categories: parse_list(&r.try_get::<String, _>("categories")?),
                    sent_at: r.try_get("sent_at")?,
                    sent_by: r.try_get("sent_by")?,
                    retain_until: r.try_get("retain_until")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Appends to the audit log.
    pub async fn audit(
        &self,
        professional: &str,
        action: &str,
        object: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO audit (at, professional, action, object) VALUES (?, ?, ?, ?)")
            .bind(now_unix())
            .bind(professional)
            .bind(action)
            .bind(object)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The audit log, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_page(None, limit).await
    }

    /// A page of the audit log, newest first: the `limit` lines before line `before` (from the
    /// newest when `None`).
    pub async fn audit_page(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, professional, action, object FROM audit WHERE id < ? \
             ORDER BY id DESC LIMIT ?",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    professional: r.try_get("professional")?,
                    action: r.try_get("action")?,
                    object: r.try_get("object")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Keeps a zorgmelding, or its newer version; an older or equal version is ignored. Returns
    /// whether anything changed.
    pub async fn put_melding(&self, m: &StoredMelding) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO zorgmeldingen (zorgmelding_id, police_oin, registration_number, version, \
             fragment_count, complete, cursor, retain_until, melding, received_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (zorgmelding_id) DO UPDATE SET version = excluded.version, \
             fragment_count = excluded.fragment_count, complete = excluded.complete, \
             cursor = excluded.cursor, retain_until = excluded.retain_until, \
             melding = excluded.melding, updated_at = excluded.updated_at \
             WHERE excluded.version > zorgmeldingen.version",
        )
        .bind(&m.zorgmelding_id)
        .bind(&m.police_oin)
        .bind(&m.registration_number)
        .bind(m.version)
        .bind(m.fragment_count)
        .bind(i64::from(m.complete))
        .bind(m.cursor)
        .bind(m.retain_until)
        .bind(&m.melding)
        .bind(m.received_at)
        .bind(m.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Zorgmeldingen, the most recently updated first (at most `limit`).
    pub async fn list_meldingen(&self, limit: i64) -> Result<Vec<StoredMelding>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM zorgmeldingen ORDER BY updated_at DESC, cursor DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(melding_from)
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// One zorgmelding.
    pub async fn get_melding(&self, id: &str) -> Result<Option<StoredMelding>, StoreError> {
        let row = sqlx::query("SELECT * FROM zorgmeldingen WHERE zorgmelding_id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(melding_from).transpose()?)
    }

    /// Deletes what the convenant no longer lets the organisation keep: every received signal,
    /// sent signal and zorgmelding whose `retain_until` passed before `now`.
    pub async fn sweep(&self, now: i64) -> Result<Swept, StoreError> {
        self.delete_per_kind(None, now, |table, _| {
            Some(format!(
                "DELETE FROM {table} WHERE retain_until IS NOT NULL AND retain_until < ?"
            ))
        })
        .await
    }

    /// Deletes the received and sent signals of `purpose` that carry no `retain_until` (the hub
    /// gave none) and were received or sent before `cutoff`: now minus the purpose's retention.
    pub async fn sweep_undated(&self, purpose: &str, cutoff: i64) -> Result<Swept, StoreError> {
        self.delete_per_kind(Some(purpose), cutoff, |table, since| {
            since.map(|at| {
                format!(
                    "DELETE FROM {table} WHERE retain_until IS NULL AND purpose = ? AND {at} < ?"
                )
            })
        })
        .await
    }

    /// Runs the statement `sql(table, dated_by)` gives for each kind of record (none: that kind
    /// is left alone), binding `purpose` (when given) and then `at`.
    async fn delete_per_kind(
        &self,
        purpose: Option<&str>,
        at: i64,
        sql: impl Fn(&str, Option<&str>) -> Option<String>,
    ) -> Result<Swept, StoreError> {
        // Each kind's table and the column that dates a record of it (zorgmeldingen always
        // carry the hub's date).
        const KINDS: [(&str, Option<&str>); 3] = [
            ("received", Some("received_at")),
            ("sent", Some("sent_at")),
            ("zorgmeldingen", None),
        ];
        let mut deleted = [0u64; 3];
        for (n, (table, dated_by)) in KINDS.iter().enumerate() {
            let Some(statement) = sql(table, *dated_by) else {
                continue;
            };
            let mut q = sqlx::query(&statement);
            if let Some(p) = purpose {
                q = q.bind(p);
            }
            deleted[n] = q.bind(at).execute(&self.pool).await?.rows_affected();
        }
        Ok(Swept {
            received: deleted[0],
            sent: deleted[1],
            zorgmeldingen: deleted[2],
        })
    }
}

/// What a retention pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Received signals.
    pub received: u64,
    /// Sent signals' records.
    pub sent: u64,
    /// Zorgmeldingen.
    pub zorgmeldingen: u64,
}

impl std::ops::AddAssign for Swept {
    fn add_assign(&mut self, o: Swept) {
        self.received += o.received;
        self.sent += o.sent;
        self.zorgmeldingen += o.zorgmeldingen;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, retain_until: Option<i64>) -> Received {
        Received {
            sender_oin: "00000009901000000000".into(),
            signal_id: id.into(),
            cursor: 1,
            purpose: "vroegtijdige_ondersteuning".into(),
            categories: vec!["zorgen_thuissituatie".into()],
            urgency: 1,
            basis: vec!["consent:c_1".into()],
            sent_at: Some(10),
            retain_until,
            envelope: vec![1, 2, 3],
            received_at: now_unix(),
            acknowledged: None,
        }
    }

    #[tokio::test]
    async fn received_is_kept_once_acknowledged_and_swept() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("sub/gw.db");
        let s = Store::open(&file).await?;
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file)?.permissions().mode() & 0o777,
            0o600
        );
        assert!(s.put_received(&item("a", Some(100))).await?);
        assert!(
            !s.put_received(&item("a", Some(100))).await?,
            "a second copy is ignored"
        );
        assert!(s.put_received(&item("b", None)).await?);
        assert_eq!(s.list_received(10).await?.len(), 2);
        assert_eq!(s.count_unacknowledged().await?, 2);
        s.mark_acknowledged("00000009901000000000", "a", "ib-1")
            .await?;
        let a = s.get_received("00000009901000000000", "a").await?;
        assert_eq!(
            a.and_then(|a| a.acknowledged).map(|x| x.1),
            Some("ib-1".into())
        );
        assert_eq!(
            s.sweep(101).await?,
            Swept {
                received: 1,
                ..Swept::default()
            }
        );
        assert_eq!(s.list_received(10).await?.len(), 1);
        // "b" has no deadline from the hub: its purpose's retention, from when it was received.
        let received_at = s.list_received(10).await?[0].received_at;
        let other = s.sweep_undated("casusafstemming", received_at + 1).await?;
        assert_eq!(other, Swept::default(), "another purpose's retention");
        let early = s
            .sweep_undated("vroegtijdige_ondersteuning", received_at)
            .await?;
        assert_eq!(early, Swept::default(), "not before its retention ends");
        s.put_sent(&Sent {
            signal_id: "s1".into(),
            recipients: vec![],
            purpose: "vroegtijdige_ondersteuning".into(),
            categories: vec![],
            sent_at: received_at,
            sent_by: "ib-1".into(),
            retain_until: None,
        })
        .await?;
        let late = s
            .sweep_undated("vroegtijdige_ondersteuning", received_at + 1)
            .await?;
        assert_eq!(
            late,
            Swept {
                received: 1,
                sent: 1,
                zorgmeldingen: 0
            }
        );
        assert!(s.list_received(10).await?.is_empty());
        assert!(s.list_sent(10).await?.is_empty());
        s.audit("ib-1", "opened", "x/b").await?;
        assert_eq!(s.audit_log(10).await?[0].action, "opened");
        for i in 0..5 {
            s.audit("ib-1", "sent", &format!("sig-{i}")).await?;
        }
        let first = s.audit_page(None, 3).await?;
        let objects: Vec<&str> = first.iter().map(|e| e.object.as_str()).collect();
        assert_eq!(objects, ["sig-4", "sig-3", "sig-2"], "newest first");
        let next = s.audit_page(first.last().map(|e| e.id), 3).await?;
        let objects: Vec<&str> = next.iter().map(|e| e.object.as_str()).collect();
        assert_eq!(
            objects,
            ["sig-1", "sig-0", "x/b"],
            "the page after the last one shown"
        );
        Ok(())
    }
}
