//! Pseudonym key versions in the store: the versions the store is written with and may still hold
//! (`hub_meta`), the start-up check of the configured key ring against them, and the re-key that
//! moves every stored subject pseudonym forward to the newest version in small transactions.
//!
//! Log leaves are never rewritten (their bytes are the Merkle log): only the subject index rows
//! that point at them move on, so a subject access report still finds every entry.
use super::{Columns, Store, StoreError, StoreResult};
use crate::ids::{Oin, Pseudonymizer, Role};
use crate::ledger::PendingEntry;

/// A subject reference the hub issued (issue 20, item 4), as the store keeps it: its pseudonym,
/// never the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectReference {
    /// The reference's pseudonym (the key version it was written or last re-keyed under).
    pub pseudonym: String,
    /// The organisation it was issued to.
    pub org_oin: Oin,
    /// When.
    pub issued_at: i64,
    /// When it was merged with a BSN.
    pub merged_at: Option<i64>,
    /// The role the merge was done in (until merged: none).
    pub merged_role: Option<Role>,
    /// The professional who merged it (empty until merged).
    pub merged_professional: String,
}

fn subject_reference_from_row(r: &impl Columns) -> StoreResult<SubjectReference> {
    Ok(SubjectReference {
        pseudonym: r.col("pseudonym")?,
        org_oin: r.parsed("org_oin")?,
        issued_at: r.col("issued_at")?,
        merged_at: r.col("merged_at")?,
        merged_role: {
            let role: String = r.col("merged_role")?;
            if role.is_empty() {
                None
            } else {
                Some(
                    role.parse()
                        .map_err(|_| StoreError::Corrupt("subject_references.merged_role"))?,
                )
            }
        },
        merged_professional: r.col("merged_professional")?,
    })
}

/// What the store says about pseudonym key versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PseudonymState {
    /// The version new records are written with (the newest ring any instance started with).
    pub version: u32,
    /// The lowest version the store may still hold (raised by a finished re-key).
    pub floor: u32,
}

/// Why the configured key ring does not fit the store (the hub refuses to start).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RingMismatch {
    /// The store holds pseudonyms of a newer key version than the ring.
    #[error(
        "the store is written with pseudonym key version {store}, but the configuration has keys up to version {configured}; add the missing key file(s) to pseudonym.rekey_files"
    )]
    StoreAhead {
        /// The store's version.
        store: u32,
        /// The ring's newest version.
        configured: u32,
    },
    /// A key file differs from the key this store was written with.
    #[error(
        "pseudonym key version {version} is not the key this store was written with (its check value differs); restore the original key file"
    )]
    WrongKey {
        /// The version whose key differs.
        version: u32,
    },
}

/// The error of [`Store::open_pseudonym_ring`].
#[derive(Debug, thiserror::Error)]
pub enum RingError {
    /// The ring does not fit.
    #[error(transparent)]
    Mismatch(#[from] RingMismatch),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a column holds pseudonyms.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// One pseudonym per row.
    Scalar,
    /// One pseudonym per row, part of the primary key: moved by delete + insert.
    Key,
    /// A JSON array of pseudonyms; `dedupe` drops a person named twice under two versions.
    List { dedupe: bool },
}

/// One column that holds subject pseudonyms.
#[derive(Debug)]
struct Target {
    table: &'static str,
    /// Primary key columns in index order (`true`: BIGINT), used as the scan cursor.
    keys: &'static [(&'static str, bool)],
    column: &'static str,
    kind: Kind,
}

/// Every stored subject pseudonym outside the log leaves.
const TARGETS: &[Target] = &[
    Target {
        table: "consents",
        keys: &[("consent_id", false)],
        column: "subject",
        kind: Kind::Scalar,
    },
    Target {
        table: "maatregelen",
        keys: &[("maatregel_id", false)],
        column: "subject",
        kind: Kind::Scalar,
    },
    Target {
        table: "involvements",
        keys: &[("involvement_id", false)],
        column: "subject",
        kind: Kind::Scalar,
    },
    Target {
        table: "involvement_confirmations",
        keys: &[("confirmation_id", false)],
        column: "subject",
        kind: Kind::Scalar,
    },
    Target {
        table: "involvement_persons",
        keys: &[("involvement_id", false), ("person", false)],
        column: "person",
        kind: Kind::Key,
    },
    Target {
        table: "zorgmelding_subjects",
        keys: &[("subject", false), ("zorgmelding_id", false)],
        column: "subject",
        kind: Kind::Key,
    },
    Target {
        table: "log_subject_index",
        keys: &[("subject", false), ("idx", true)],
        column: "subject",
        kind: Kind::Key,
    },
    Target {
        table: "log_received_purposes",
        keys: &[
            ("subject", false),
            ("recipient_oin", false),
            ("purpose", false),
        ],
        column: "subject",
        kind: Kind::Key,
    },
    Target {
        table: "signals",
        keys: &[("sender_oin", false), ("signal_id", false)],
        column: "subjects",
        kind: Kind::List { dedupe: false },
    },
    Target {
        table: "zorgmelding_fragments",
        keys: &[("police_oin", false), ("fragment_id", false)],
        column: "subjects",
        kind: Kind::List { dedupe: false },
    },
    Target {
        table: "zorgmeldingen",
        keys: &[("zorgmelding_id", false)],
        column: "subjects",
        kind: Kind::List { dedupe: true },
    },
    Target {
        table: "handovers",
        keys: &[("sender_oin", false), ("handover_id", false)],
        column: "subjects",
        kind: Kind::List { dedupe: false },
    },
    Target {
        table: "melding_feedback",
        keys: &[("vt_oin", false), ("feedback_id", false)],
        column: "subjects",
        kind: Kind::List { dedupe: false },
    },
    Target {
        table: "melding_stages",
        keys: &[("vt_oin", false), ("melding_id", false), ("seq", true)],
        column: "subjects",
        kind: Kind::List { dedupe: false },
    },
    Target {
        table: "information_requests",
        keys: &[("vt_oin", false), ("request_id", false)],
        column: "subjects",
        kind: Kind::List { dedupe: false },
    },
    // The registration of a subject reference (its own pseudonym): moved by the re-key, never by
    // a merge (see `REGISTRATION`).
    Target {
        table: "subject_references",
        keys: &[("pseudonym", false)],
        column: "pseudonym",
        kind: Kind::Scalar,
    },
];

/// The one target a merge leaves alone: the reference's registration stays the reference's.
const REGISTRATION: &str = "subject_references";

/// The columns (`table.column`) the re-key moves, for the schema test that every column holding
/// subject pseudonyms is one of them.
pub fn rekey_columns() -> Vec<String> {
    TARGETS
        .iter()
        .map(|t| format!("{}.{}", t.table, t.column))
        .collect()
}

/// The names of the tables the re-key rewrites (for reports and tests).
pub fn rekey_tables() -> Vec<&'static str> {
    TARGETS.iter().map(|t| t.table).collect()
}

/// The erased-subject marker (see `store/retention.rs`): never moved.
const ERASED: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl Target {
    /// The SQL condition for "holds a pseudonym of another version than `v`".
    fn stale(&self, v: u32) -> String {
        let c = self.column;
        if v == 1 {
            // Version 1 is stored bare (hex, no `v1:` prefix): every other version starts `v`.
            return match self.kind {
                Kind::Scalar | Kind::Key => format!("{c} LIKE 'v%'"),
                Kind::List { .. } => format!("{c} LIKE '%\"v%'"),
            };
        }
        let prefix = format!("v{v}:");
        match self.kind {
            Kind::Scalar | Kind::Key => format!("{c} NOT LIKE '{prefix}%' AND {c} <> '{ERASED}'"),
            // Each element opens with one quote; the list is current when every opening quote
            // starts `"v<v>:` — i.e. the quotes are twice the occurrences of that prefix.
            Kind::List { .. } => {
                let q = format!("\"{prefix}");
                format!(
                    "{c} <> '[]' AND length({c}) - length(replace({c}, '\"', '')) <> 2 * ((length({c}) - length(replace({c}, '{q}', ''))) / {})",
                    q.len()
                )
            }
        }
    }

    fn key_list(&self) -> String {
        self.keys
            .iter()
            .map(|(k, _)| *k)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `$from…` placeholders for the key columns, cast where the column is BIGINT.
    fn key_params(&self, from: usize) -> Vec<String> {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, (_, int))| {
                if *int {
                    format!("CAST(${} AS BIGINT)", from + i)
                } else {
                    format!("${}", from + i)
                }
            })
            .collect()
    }

    fn key_match(&self, from: usize) -> String {
        self.keys
            .iter()
            .zip(self.key_params(from))
            .map(|((k, _), p)| format!("{k} = {p}"))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// One batch after `cursor` (all key values as text), in key order.
    fn select(&self, v: u32, with_cursor: bool, limit: usize) -> String {
        let cols = self
            .keys
            .iter()
            .map(|(k, _)| format!("CAST({k} AS TEXT)"))
            .collect::<Vec<_>>()
            .join(", ");
        let after = if with_cursor {
            format!(
                "({}) > ({}) AND ",
                self.key_list(),
                self.key_params(1).join(", ")
            )
        } else {
            String::new()
        };
        format!(
            "SELECT {cols}, {} FROM {} WHERE {after}{} ORDER BY {} LIMIT {limit}",
            self.column,
            self.table,
            self.stale(v),
            self.key_list()
        )
    }
}

/// Progress of one table in a re-key pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableProgress {
    /// The table.
    pub table: &'static str,
    /// Rows moved to the newest version.
    pub moved: u64,
    /// Rows that changed under the re-key (a concurrent write) or could not move (a second
    /// active involvement of the same organisation with the person): left for the next pass.
    pub left: u64,
}

/// Rows per table still holding pseudonyms of an older version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Behind {
    /// (table, rows) for every table.
    pub tables: Vec<(&'static str, u64)>,
}

impl Behind {
    /// Rows behind in all tables.
    pub fn total(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

impl Store {
    /// The pseudonym key versions the store is written with and may still hold.
    pub async fn pseudonym_state(&self) -> StoreResult<PseudonymState> {
        let rows: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT key, value FROM hub_meta WHERE key IN ('pseudonym_version', 'pseudonym_floor')")
            .fetch_all(p).await?);
        let get = |k: &str| {
            rows.iter()
                .find(|(key, _)| key == k)
                .map_or(1, |(_, v)| (*v).clamp(1, i64::from(u32::MAX)) as u32)
        };
        Ok(PseudonymState {
            version: get("pseudonym_version"),
            floor: get("pseudonym_floor"),
        })
    }

    /// Checks the configured key ring against the store at start-up and records it: refuses a
    /// ring older than the store or a key file that differs from the one a version was first
    /// used with; a newer ring makes its newest version the store's write version. Returns the
    /// state after.
    pub async fn open_pseudonym_ring(
        &self,
        ring: &Pseudonymizer,
    ) -> Result<PseudonymState, RingError> {
        let n = ring.version();
        let outcome: Result<(), RingMismatch> = on_writer!(self, p => {
            let mut tx = p.begin().await.map_err(StoreError::from)?;
            // Serialise with other instances starting and with a re-key raising the floor.
            let version: i64 = sqlx::query_scalar("UPDATE hub_meta SET value = value WHERE key = 'pseudonym_version' RETURNING value")
                .fetch_optional(&mut *tx).await.map_err(StoreError::from)?.unwrap_or(1);
            let mut result = Ok(());
            if version > i64::from(n) {
                result = Err(RingMismatch::StoreAhead { store: version as u32, configured: n });
            } else {
                for v in 1..=n {
                    let key = format!("pseudonym_check_{v}");
                    let Some(check) = ring.check_value(v) else { continue };
                    let stored: Option<i64> = sqlx::query_scalar("SELECT value FROM hub_meta WHERE key = $1")
                        .bind(&key).fetch_optional(&mut *tx).await.map_err(StoreError::from)?;
                    match stored {
                        Some(s) if s != check => {
                            result = Err(RingMismatch::WrongKey { version: v });
                            break;
                        }
                        Some(_) => {}
                        None => {
                            sqlx::query("INSERT INTO hub_meta (key, value) VALUES ($1, $2)")
                                .bind(&key).bind(check).execute(&mut *tx).await.map_err(StoreError::from)?;
                        }
                    }
                }
                if result.is_ok() && version < i64::from(n) {
                    sqlx::query("INSERT INTO hub_meta (key, value) VALUES ('pseudonym_version', $1) ON CONFLICT (key) DO UPDATE SET value = $1")
                        .bind(i64::from(n)).execute(&mut *tx).await.map_err(StoreError::from)?;
                }
            }
            if result.is_ok() {
                tx.commit().await.map_err(StoreError::from)?;
            } else {
                tx.rollback().await.map_err(StoreError::from)?;
            }
            result
        });
        outcome?;
        let state = self.pseudonym_state().await?;
        ring.observe_store(state.version, state.floor);
        Ok(state)
    }

    /// How many rows per table still hold a pseudonym of another version than `version`.
    pub async fn pseudonyms_behind(&self, version: u32) -> StoreResult<Behind> {
        let mut out = Behind::default();
        for t in TARGETS {
            let sql = format!(
                "SELECT COUNT(*) FROM {} WHERE {}",
                t.table,
                t.stale(version)
            );
            let n: i64 = on_pool!(self, p => sqlx::query_scalar(&sql).fetch_one(p).await?);
            out.tables.push((t.table, n as u64));
        }
        Ok(out)
    }

    /// One re-key pass over every table: moves each stored pseudonym of an older version to the
    /// ring's newest, `batch` rows per transaction. Each row is changed only if it still holds
    /// what was read (compare-and-set), so a concurrent write is never lost; it is left for the
    /// next pass instead. `progress` is called after every batch.
    pub async fn rekey_pass(
        &self,
        ring: &Pseudonymizer,
        batch: usize,
        progress: &mut (dyn FnMut(&TableProgress) + Send),
    ) -> StoreResult<Vec<TableProgress>> {
        let batch = batch.clamp(1, 10_000);
        let mut out = Vec::new();
        for t in TARGETS {
            let mut p = TableProgress {
                table: t.table,
                ..TableProgress::default()
            };
            let mut cursor: Option<Vec<String>> = None;
            loop {
                let (next, moved, left) =
                    self.rekey_batch(t, ring, cursor.as_deref(), batch).await?;
                p.moved += moved;
                p.left += left;
                progress(&p);
                match next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            out.push(p);
        }
        Ok(out)
    }

    /// One batch of one table in one transaction; returns the cursor to continue after (none
    /// when the table is done), rows moved and rows left.
    async fn rekey_batch(
        &self,
        t: &Target,
        ring: &Pseudonymizer,
        cursor: Option<&[String]>,
        batch: usize,
    ) -> StoreResult<(Option<Vec<String>>, u64, u64)> {
        let v = ring.version();
        let nk = t.keys.len();
        let select = t.select(v, cursor.is_some(), batch);
        let col_pos = t.keys.iter().position(|(k, _)| *k == t.column);
        let res = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let mut q = sqlx::query(&select);
            for c in cursor.unwrap_or_default() {
                q = q.bind(c);
            }
            let rows = q.fetch_all(&mut *tx).await?;
            let mut last: Option<Vec<String>> = None;
            let (mut moved, mut left) = (0u64, 0u64);
            let full = rows.len() == batch;
            for r in &rows {
                use sqlx::Row;
                let mut keys: Vec<String> = Vec::with_capacity(nk);
                for i in 0..nk {
                    keys.push(r.try_get::<String, _>(i)?);
                }
                let old: String = r.try_get(nk)?;
                last = Some(keys.clone());
                let new = match t.kind {
                    Kind::Scalar | Kind::Key => ring
                        .to_current(&old)
                        .map(|p| p.as_str().to_owned())
                        .ok_or(StoreError::Corrupt(t.table))?,
                    Kind::List { dedupe } => {
                        let list: Vec<String> = super::parse(&old, t.table)?;
                        let mut moved_list: Vec<String> = Vec::with_capacity(list.len());
                        for s in &list {
                            let m = ring
                                .to_current(s)
                                .map(|p| p.as_str().to_owned())
                                .ok_or(StoreError::Corrupt(t.table))?;
                            if !(dedupe && moved_list.contains(&m)) {
                                moved_list.push(m);
                            }
                        }
                        super::json(&moved_list)
                    }
                };
                let changed = match t.kind {
                    Kind::Scalar | Kind::List { .. } => {
                        // Compare-and-set: a row changed since it was read is left for the next pass.
                        let guard = if t.table == "involvements" {
                            // At most one active involvement per organisation and person.
                            " AND (ended_at IS NOT NULL OR NOT EXISTS (SELECT 1 FROM involvements o WHERE o.org_oin = involvements.org_oin AND o.subject = $1 AND o.ended_at IS NULL))"
                        } else {
                            ""
                        };
                        let sql = format!(
                            "UPDATE {} SET {} = $1 WHERE {} AND {} = $2{guard}",
                            t.table, t.column, t.key_match(3), t.column
                        );
                        let mut q = sqlx::query(&sql).bind(&new).bind(&old);
                        for k in &keys {
                            q = q.bind(k);
                        }
                        q.execute(&mut *tx).await?.rows_affected() == 1
                    }
                    Kind::Key => {
                        // Delete the old row; only if it was still there, insert the new one
                        // (a row erased meanwhile stays erased).
                        let del = format!("DELETE FROM {} WHERE {}", t.table, t.key_match(1));
                        let mut q = sqlx::query(&del);
                        for k in &keys {
                            q = q.bind(k);
                        }
                        let gone = q.execute(&mut *tx).await?.rows_affected() == 1;
                        if gone {
                            let mut vals = keys.clone();
                            if let Some(i) = col_pos {
                                vals[i] = new.clone();
                            }
                            let ins = format!(
                                "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING",
                                t.table, t.key_list(), t.key_params(1).join(", ")
                            );
                            let mut q = sqlx::query(&ins);
                            for k in &vals {
                                q = q.bind(k);
                            }
                            q.execute(&mut *tx).await?;
                        }
                        gone
                    }
                };
                if changed {
                    moved += 1;
                } else {
                    left += 1;
                }
            }
            tx.commit().await?;
            (if full { last } else { None }, moved, left)
        });
        Ok(res)
    }

    /// Raises the floor (the lowest version the store may hold) to `version` once a pass found
    /// nothing left, provided the store is still written with that version.
    pub async fn raise_pseudonym_floor(&self, version: u32) -> StoreResult<bool> {
        let n = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE hub_meta SET value = $1 WHERE key = 'pseudonym_floor' AND value < $1 AND (SELECT value FROM hub_meta WHERE key = 'pseudonym_version') = $1")
                .bind(i64::from(version)).execute(&mut *tx).await?.rows_affected();
            // Older forms below the new floor are gone from the store: nothing needs them.
            if n == 1 {
                sqlx::query("DELETE FROM subject_forms WHERE older_version < $1")
                    .bind(i64::from(version)).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            n
        });
        Ok(n == 1)
    }

    /// Records the older stored forms of persons written now under a newer key version
    /// (`(form, older, older's version)`; known pairs are kept once).
    pub async fn remember_older_forms(&self, pairs: &[(String, String, u32)]) -> StoreResult<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            for (form, older, version) in pairs {
                sqlx::query("INSERT INTO subject_forms (form, older, older_version) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(form).bind(older).bind(i64::from(*version)).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The older stored forms recorded for the stored pseudonym `form` (an index lookup).
    pub async fn older_forms(&self, form: &str) -> StoreResult<Vec<String>> {
        let v: Vec<String> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT older FROM subject_forms WHERE form = $1 ORDER BY older_version")
            .bind(form).fetch_all(p).await?);
        Ok(v)
    }

    /// Registers a subject reference issued to `org` (stored as its pseudonym only) with its log
    /// entry. `Conflict` when the pseudonym is registered already.
    pub async fn insert_subject_reference(
        &self,
        pseudonym: &str,
        org: &str,
        entry: &PendingEntry,
    ) -> StoreResult<SubjectReference> {
        let at = entry.entry.at;
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("INSERT INTO subject_references (pseudonym, org_oin, issued_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(pseudonym).bind(org).bind(at).execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(StoreError::taken("subject reference", "(issued before)"));
            }
            super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
            tx.commit().await?;
        });
        self.subject_reference(&[pseudonym.to_owned()])
            .await?
            .ok_or_else(|| StoreError::missing("subject reference", "(just issued)"))
    }

    /// The registration of a subject reference by any of its stored forms (every key version).
    pub async fn subject_reference(
        &self,
        forms: &[String],
    ) -> StoreResult<Option<SubjectReference>> {
        for f in forms {
            let row = on_pool!(self, p => match sqlx::query("SELECT pseudonym, org_oin, issued_at, merged_at, merged_role, merged_professional FROM subject_references WHERE pseudonym = $1")
                .bind(f).fetch_optional(p).await? {
                Some(r) => Some(subject_reference_from_row(&r)?),
                None => None,
            });
            if row.is_some() {
                return Ok(row);
            }
        }
        Ok(None)
    }

    /// Merges a subject reference with a person's BSN in one transaction: marks the reference
    /// (`registration`: its stored forms) of organisation `org` merged, moves every stored form
    /// `old` of each pair to `new` (the same key version) in every table that holds subject
    /// pseudonyms (the same list the re-key moves; log leaves are never rewritten, their subject
    /// index rows move), and writes `entry`. Returns the rows moved and the entry's log index.
    /// `NotFound` when `org` has no such reference; `Conflict` when it was merged before.
    pub async fn merge_subject_forms(
        &self,
        pairs: &[(String, String)],
        registration: &[String],
        org: &str,
        entry: &PendingEntry,
    ) -> StoreResult<(u64, u64)> {
        let e = &entry.entry;
        let (moved, idx) = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let mut marked = 0;
            for f in registration {
                marked += sqlx::query("UPDATE subject_references SET merged_at = $3, merged_role = $4, merged_professional = $5 WHERE pseudonym = $1 AND org_oin = $2 AND merged_at IS NULL")
                    .bind(f).bind(org).bind(e.at).bind(&e.actor_role).bind(&entry.professional)
                    .execute(&mut *tx).await?.rows_affected();
            }
            if marked != 1 {
                let mut merged: Option<Option<i64>> = None;
                for f in registration {
                    let m: Option<Option<i64>> = sqlx::query_scalar("SELECT merged_at FROM subject_references WHERE pseudonym = $1 AND org_oin = $2")
                        .bind(f).bind(org).fetch_optional(&mut *tx).await?;
                    merged = merged.or(m);
                }
                tx.rollback().await?;
                return Err(match merged {
                    Some(_) => StoreError::in_state("subject reference", "(issued to your organisation)", "merged"),
                    None => StoreError::missing("subject reference", "(not issued to your organisation)"),
                });
            }
            let mut moved = 0u64;
            for t in TARGETS.iter().filter(|t| t.table != REGISTRATION) {
                for (old, new) in pairs {
                    let (c, tb) = (t.column, t.table);
                    moved += match t.kind {
                        Kind::Scalar => {
                            // At most one active involvement per organisation and person: one
                            // that would clash stays under the reference.
                            let guard = if tb == "involvements" {
                                " AND (ended_at IS NOT NULL OR NOT EXISTS (SELECT 1 FROM involvements o WHERE o.org_oin = involvements.org_oin AND o.subject = $1 AND o.ended_at IS NULL))"
                            } else {
                                ""
                            };
                            sqlx::query(&format!("UPDATE {tb} SET {c} = $1 WHERE {c} = $2{guard}"))
                                .bind(new).bind(old).execute(&mut *tx).await?.rows_affected()
                        }
                        Kind::Key => {
                            let cols = t.key_list();
                            let select = t.keys.iter()
                                .map(|(k, _)| if *k == c { "$1".to_owned() } else { (*k).to_owned() })
                                .collect::<Vec<_>>().join(", ");
                            sqlx::query(&format!("INSERT INTO {tb} ({cols}) SELECT {select} FROM {tb} WHERE {c} = $2 ON CONFLICT DO NOTHING"))
                                .bind(new).bind(old).execute(&mut *tx).await?;
                            sqlx::query(&format!("DELETE FROM {tb} WHERE {c} = $1"))
                                .bind(old).execute(&mut *tx).await?.rows_affected()
                        }
                        Kind::List { .. } => {
                            sqlx::query(&format!("UPDATE {tb} SET {c} = REPLACE({c}, $1, $2) WHERE {c} LIKE $3"))
                                .bind(format!("\"{old}\"")).bind(format!("\"{new}\"")).bind(format!("%\"{old}\"%"))
                                .execute(&mut *tx).await?.rows_affected()
                        }
                    };
                }
            }
            let idx = super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
            tx.commit().await?;
            (moved, idx)
        });
        let idx = u64::try_from(idx).map_err(|_| StoreError::Corrupt("log_entries.idx"))?;
        Ok((moved, idx))
    }

    /// The distinct subjects of the meldingen to `recipient` that are not erased (for recidive
    /// while a re-key runs).
    pub async fn melding_subjects_for_recipient(
        &self,
        recipient: &str,
    ) -> StoreResult<Vec<String>> {
        let v: Vec<String> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT DISTINCT s.subject FROM zorgmelding_subjects s JOIN zorgmeldingen z ON z.zorgmelding_id = s.zorgmelding_id WHERE z.recipient_oin = $1 AND z.erased_at IS NULL")
            .bind(recipient).fetch_all(p).await?);
        Ok(v)
    }

    /// The distinct subjects of the log entries indexed for organisation `oin` (for recidive
    /// while a re-key runs).
    pub async fn log_subjects_for_org(&self, oin: &str) -> StoreResult<Vec<String>> {
        let v: Vec<String> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT DISTINCT s.subject FROM log_org_index o JOIN log_subject_index s ON s.idx = o.idx WHERE o.oin = $1")
            .bind(oin).fetch_all(p).await?);
        Ok(v)
    }
}
