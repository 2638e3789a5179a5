//! Signals and their deliveries. Every state change is sequenced into the disclosure log in the
//! same transaction.
use super::melding::OVERVIEW_COLUMNS;
use super::{Columns, Store, StoreError, StoreResult, json, parse};
use crate::domain::consent::Consent;
use crate::domain::signal::{
    Delivery, DeliveryState, NewDelivery, SignalRecord, StoredReason, Urgency,
};
use crate::domain::zorgmelding::{MELDING_SIGNAL_PURPOSES, MeldingPageKey};
use crate::ledger::PendingEntry;

const SIGNAL_COLUMNS: &str = "sender_oin, signal_id, request_hash, envelope, purpose, categories, urgency, basis, subjects, subject_facts, sender_role, sender_professional, received_for, inform_exemption, created_at, retain_until, content_digest";
const DELIVERY_COLUMNS: &str =
    "recipient_oin, sender_oin, signal_id, cursor, state, reasons, consent_ids, updated_at";

/// Builds a signal from a row with the columns of [`SIGNAL_COLUMNS`].
fn signal_from_row(r: &impl Columns) -> StoreResult<SignalRecord> {
    Ok(SignalRecord {
        sender_oin: r.parsed("sender_oin")?,
        signal_id: r.parsed("signal_id")?,
        request_hash: r.col("request_hash")?,
        envelope: r.col("envelope")?,
        purpose: r.parsed("purpose")?,
        categories: parse(&r.col::<String>("categories")?, "signals.categories")?,
        urgency: Urgency::from_stored(r.col("urgency")?)
            .ok_or(StoreError::Corrupt("signals.urgency"))?,
        basis: crate::wire::decode_basis(&r.col::<Vec<u8>>("basis")?),
        subjects: parse(&r.col::<String>("subjects")?, "signals.subjects")?,
        facts: parse(&r.col::<String>("subject_facts")?, "signals.subject_facts")?,
        sender_role: r.parsed("sender_role")?,
        sender_professional: r.col("sender_professional")?,
        received_for: r
            .col::<Option<String>>("received_for")?
            .unwrap_or_default()
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse()
                    .map_err(|_| StoreError::Corrupt("signals.received_for"))
            })
            .collect::<StoreResult<_>>()?,
        inform_exemption: r.col("inform_exemption")?,
        created_at: r.col("created_at")?,
        retain_until: r.col("retain_until")?,
        content_digest: r.col("content_digest")?,
    })
}

/// Builds a delivery from a row with the columns of [`DELIVERY_COLUMNS`].
fn delivery_from_row(r: &impl Columns) -> StoreResult<Delivery> {
    Ok(Delivery {
        recipient_oin: r.parsed("recipient_oin")?,
        sender_oin: r.parsed("sender_oin")?,
        signal_id: r.parsed("signal_id")?,
        cursor: r.col::<i64>("cursor")? as u64,
        state: DeliveryState::parse(&r.col::<String>("state")?)
            .ok_or(StoreError::Corrupt("deliveries.state"))?,
        reasons: parse(&r.col::<String>("reasons")?, "deliveries.reasons")?,
        consent_ids: parse(&r.col::<String>("consent_ids")?, "deliveries.consent_ids")?,
        updated_at: r.col("updated_at")?,
    })
}

use super::placeholders_rows as placeholders;

/// Placeholders for new delivery rows: six bound values and the constant state and reasons, in
/// `DELIVERY_COLUMNS` order.
fn delivery_placeholders(rows: usize) -> String {
    (0..rows)
        .map(|r| {
            let b = r * 6;
            format!(
                "(${}, ${}, ${}, ${}, 'pending', '[]', ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The deliveries just inserted for a new signal whose first log entry has index `first`.
fn pending_deliveries(s: &SignalRecord, deliveries: &[NewDelivery], first: i64) -> Vec<Delivery> {
    let mut v: Vec<Delivery> = deliveries
        .iter()
        .enumerate()
        .map(|(i, d)| Delivery {
            recipient_oin: d.recipient_oin.clone(),
            sender_oin: s.sender_oin.clone(),
            signal_id: s.signal_id.clone(),
            cursor: (first + i as i64 + 1) as u64,
            state: DeliveryState::Pending,
            reasons: Vec::new(),
            consent_ids: d.consent_ids.clone(),
            updated_at: s.created_at,
        })
        .collect();
    // The order `deliveries_of` reads them in.
    v.sort_by(|a, b| a.recipient_oin.cmp(&b.recipient_oin));
    v
}

/// PostgreSQL notification channel that announces new signals to every hub instance.
pub const INBOX_CHANNEL: &str = "signaalhub_inbox";

/// The result of submitting a signal.
#[derive(Debug)]
pub enum Submitted {
    /// Stored now.
    New(Vec<Delivery>),
    /// A retry of an identical earlier request: its deliveries as they stand.
    Duplicate(Vec<Delivery>),
}

/// What a delivery attempt decided.
#[derive(Debug, Clone)]
pub enum DeliveryVerdict {
    /// Deliver, logging this entry.
    Deliver(PendingEntry),
    /// Hold back with these reasons, logging this entry.
    Withhold(Vec<StoredReason>, PendingEntry),
}

pub use crate::domain::signal::InboxRow;

impl Store {
    /// On PostgreSQL, listens for new signals committed by any hub instance and wakes local
    /// inbox streams (they also poll, so a lost connection only delays, never loses). On SQLite
    /// there is one instance and local notification suffices: returns `None`.
    pub fn spawn_inbox_listener(
        &self,
        wake: std::sync::Arc<tokio::sync::Notify>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let Store::Postgres(pool) = self else {
            return None;
        };
        let pool = pool.clone();
        Some(tokio::spawn(async move {
            loop {
                let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::warn!(error = %e, "inbox listener cannot connect; retrying");
                        tokio::select! {
                            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                            _ = stop.changed() => return,
                        }
                    }
                };
                if let Err(e) = listener.listen(INBOX_CHANNEL).await {
                    tracing::warn!(error = %e, "inbox listener cannot listen; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
                loop {
                    tokio::select! {
                        n = listener.recv() => match n {
                            Ok(_) => wake.notify_waiters(),
                            Err(e) => {
                                tracing::warn!(error = %e, "inbox listener lost its connection; reconnecting");
                                wake.notify_waiters();
                                break;
                            }
                        },
                        _ = stop.changed() => return,
                    }
                }
            }
        }))
    }

    /// Stores a new signal with one pending delivery per recipient, and one `signal_sent` log
    /// entry per recipient (`entries[i]` for `deliveries[i]`); each delivery's inbox cursor is its
    /// entry's log index plus one (so cursor 0 means "from the start"). Idempotent on (sender,
    /// signal id).
    pub async fn insert_signal(
        &self,
        s: &SignalRecord,
        deliveries: &[NewDelivery],
        entries: &[PendingEntry],
    ) -> StoreResult<Submitted> {
        // A group of one: the same statements, so the two paths cannot drift apart.
        self.insert_signals(&[(s, deliveries, entries)])
            .await?
            .pop()
            .unwrap_or_else(|| Err(StoreError::Corrupt("insert_signals answered no member")))
    }

    /// Group commit: stores several new signals in ONE transaction — one `log_state` update for
    /// all their entries, one `pg_notify`, one commit (one `fsync`). Each submission keeps its own
    /// outcome: a retry of an identical request is `Duplicate`, a reused id with other content is
    /// `Conflict`, and neither disturbs the others. The outer error means the transaction as a
    /// whole failed and nothing of it was stored; the caller then stores each alone.
    pub async fn insert_signals(
        &self,
        batch: &[(&SignalRecord, &[NewDelivery], &[PendingEntry])],
    ) -> StoreResult<Vec<StoreResult<Submitted>>> {
        let is_pg = matches!(self, Store::Postgres(_));
        // Multi-row statements: a group costs a handful of statements, not a handful per member.
        let signal_rows: Vec<&SignalRecord> = batch.iter().map(|(s, _, _)| *s).collect();
        // Per submission: Ok(Some(first log index)) new, Ok(None) duplicate, Err conflict.
        let outcome: Vec<StoreResult<Option<i64>>> = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let mut inserted: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
            for chunk in super::shaped(&signal_rows) {
                let sql = format!(
                    "INSERT INTO signals ({SIGNAL_COLUMNS}) VALUES {} ON CONFLICT DO NOTHING RETURNING sender_oin, signal_id",
                    placeholders(chunk.len(), 17)
                );
                let mut q = sqlx::query(&sql);
                for s in chunk {
                    q = q.bind(&s.sender_oin).bind(&s.signal_id).bind(&s.request_hash).bind(&s.envelope)
                        .bind(&s.purpose).bind(json(&s.categories)).bind(s.urgency.as_stored()).bind(crate::wire::encode_basis(&s.basis))
                        .bind(json(&s.subjects)).bind(json(&s.facts)).bind(&s.sender_role).bind(&s.sender_professional)
                        .bind((!s.received_for.is_empty()).then(|| s.received_for.join(","))).bind(&s.inform_exemption).bind(s.created_at).bind(s.retain_until)
                        .bind(&s.content_digest);
                }
                for r in q.fetch_all(&mut *tx).await? {
                    inserted.insert((r.col("sender_oin")?, r.col("signal_id")?));
                }
            }
            // Who is new: a key inserted now and met once in the group is that member's. Keys met
            // more than once, or not inserted (stored earlier), are settled by the stored hash and
            // content digest.
            let mut seen: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
            for s in &signal_rows {
                *seen.entry((s.sender_oin.as_str(), s.signal_id.as_str())).or_default() += 1;
            }
            let mut claimed: std::collections::HashSet<(&str, &str)> = std::collections::HashSet::new();
            let mut accepted: Vec<StoreResult<bool>> = Vec::with_capacity(batch.len());
            for s in &signal_rows {
                let key = (s.sender_oin.as_str(), s.signal_id.as_str());
                let now_inserted = inserted.contains(&(s.sender_oin.to_string(), s.signal_id.to_string()));
                if now_inserted && seen.get(&key) == Some(&1) {
                    accepted.push(Ok(true));
                    continue;
                }
                let (hash, digest): (Vec<u8>, Option<Vec<u8>>) = sqlx::query_as("SELECT request_hash, content_digest FROM signals WHERE sender_oin = $1 AND signal_id = $2")
                    .bind(&s.sender_oin).bind(&s.signal_id).fetch_one(&mut *tx).await?;
                accepted.push(if hash != s.request_hash || digest.is_none() || digest != s.content_digest {
                    Err(StoreError::taken("signal", &s.signal_id))
                } else if now_inserted && claimed.insert(key) {
                    Ok(true)
                } else {
                    Ok(false)
                });
            }
            let entries: Vec<&PendingEntry> = batch
                .iter()
                .zip(&accepted)
                .filter(|(_, a)| matches!(a, Ok(true)))
                .flat_map(|((_, _, e), _)| e.iter())
                .collect();
            let mut next = 0i64;
            if !entries.is_empty() {
                next = super::sequence_log(&mut tx, &entries).await?;
            }
            let mut out = Vec::with_capacity(batch.len());
            let mut delivery_rows: Vec<(&NewDelivery, &SignalRecord, i64)> = Vec::new();
            for ((s, deliveries, entries), a) in batch.iter().zip(accepted) {
                match a {
                    Ok(true) => {
                        let first = next;
                        next += entries.len() as i64;
                        for (i, d) in deliveries.iter().enumerate() {
                            delivery_rows.push((d, s, first + i as i64 + 1));
                        }
                        out.push(Ok(Some(first)));
                    }
                    Ok(false) => out.push(Ok(None)),
                    Err(e) => out.push(Err(e)),
                }
            }
            for chunk in super::shaped(&delivery_rows) {
                let sql = format!(
                    "INSERT INTO deliveries ({DELIVERY_COLUMNS}) VALUES {}",
                    delivery_placeholders(chunk.len())
                );
                let mut q = sqlx::query(&sql);
                for (d, s, cursor) in chunk {
                    q = q.bind(&d.recipient_oin).bind(&s.sender_oin).bind(&s.signal_id)
                        .bind(*cursor).bind(json(&d.consent_ids)).bind(s.created_at);
                }
                q.execute(&mut *tx).await?;
            }
            let links: Vec<(&str, &str, &str, &str)> = delivery_rows.iter()
                .flat_map(|(d, s, _)| d.consent_ids.iter().map(move |c| (c.as_str(), d.recipient_oin.as_str(), s.sender_oin.as_str(), s.signal_id.as_str())))
                .collect();
            for chunk in super::shaped(&links) {
                let sql = format!(
                    "INSERT INTO delivery_consents (consent_id, recipient_oin, sender_oin, signal_id) VALUES {} ON CONFLICT DO NOTHING",
                    placeholders(chunk.len(), 4)
                );
                let mut q = sqlx::query(&sql);
                for (c, r, snd, id) in chunk {
                    q = q.bind(*c).bind(*r).bind(*snd).bind(*id);
                }
                q.execute(&mut *tx).await?;
            }
            if is_pg && out.iter().any(|o| matches!(o, Ok(Some(_)))) {
                sqlx::query("SELECT pg_notify($1, '')").bind(INBOX_CHANNEL).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            out
        });
        let mut results = Vec::with_capacity(batch.len());
        for ((s, deliveries, _), o) in batch.iter().zip(outcome) {
            results.push(match o {
                Ok(Some(first)) => Ok(Submitted::New(pending_deliveries(s, deliveries, first))),
                Ok(None) => self
                    .deliveries_of(&s.sender_oin, &s.signal_id)
                    .await
                    .map(Submitted::Duplicate),
                Err(e) => Err(e),
            });
        }
        Ok(results)
    }

    /// A signal by sender and id.
    pub async fn get_signal(
        &self,
        sender: &str,
        signal_id: &str,
    ) -> StoreResult<Option<SignalRecord>> {
        let s = on_pool!(self, p => {
            match sqlx::query(&format!("SELECT {SIGNAL_COLUMNS} FROM signals WHERE sender_oin = $1 AND signal_id = $2"))
                .bind(sender).bind(signal_id).fetch_optional(p).await? {
                Some(r) => Some(signal_from_row(&r)?),
                None => None,
            }
        });
        Ok(s)
    }

    /// Every delivery of a signal, by recipient.
    pub async fn deliveries_of(&self, sender: &str, signal_id: &str) -> StoreResult<Vec<Delivery>> {
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            for r in sqlx::query(&format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE sender_oin = $1 AND signal_id = $2 ORDER BY recipient_oin"))
                .bind(sender).bind(signal_id).fetch_all(p).await? {
                v.push(delivery_from_row(&r)?);
            }
            v
        });
        Ok(v)
    }

    /// The next inbox items of `recipient` after `after`: pending or delivered-unacknowledged,
    /// in cursor order; never a signal erased at the end of its retention.
    pub async fn inbox(
        &self,
        recipient: &str,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<InboxRow>> {
        let cols: String = SIGNAL_COLUMNS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        // The delivery's sender and signal id are the signal's (the join says so): each column
        // name occurs once in the row.
        let dcols: String = DELIVERY_COLUMNS
            .split(", ")
            .filter(|c| !matches!(*c, "sender_oin" | "signal_id"))
            .map(|c| format!("d.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols}, {dcols} FROM deliveries d JOIN signals s ON s.sender_oin = d.sender_oin AND s.signal_id = d.signal_id
             WHERE d.recipient_oin = $1 AND d.cursor > $2 AND d.state IN ('pending', 'delivered') AND s.erased_at IS NULL ORDER BY d.cursor LIMIT $3"
        );
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            for r in sqlx::query(&sql).bind(recipient).bind(i64::try_from(after).unwrap_or(i64::MAX)).bind(i64::from(limit)).fetch_all(p).await? {
                let signal = signal_from_row(&r)?;
                let delivery = delivery_from_row(&r)?;
                v.push(InboxRow { delivery, signal });
            }
            v
        });
        Ok(v)
    }

    /// Delivers one pending delivery, deciding again with the consents as they stand *inside*
    /// the transaction (PostgreSQL: rows locked FOR SHARE, so a withdrawal either commits first
    /// and is seen, or waits for this delivery). Returns the new state; a delivery that is no
    /// longer pending is returned as it is.
    pub async fn deliver(
        &self,
        recipient: &str,
        sender: &str,
        signal_id: &str,
        consent_ids: &[crate::ids::ConsentId],
        decide: impl FnOnce(&[Consent]) -> DeliveryVerdict,
    ) -> StoreResult<DeliveryState> {
        let lock = if matches!(self, Store::Sqlite { .. }) {
            ""
        } else {
            " FOR UPDATE"
        };
        let state = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            // Lock order: consents first, then the delivery — the same order as a withdrawal
            // (consent, then its pending deliveries), so the two can never deadlock.
            let consents = super::consent::lock_consents(&mut tx, consent_ids).await?;
            let current: Option<String> = sqlx::query_scalar(&format!("SELECT state FROM deliveries WHERE recipient_oin = $1 AND sender_oin = $2 AND signal_id = $3{lock}"))
                .bind(recipient).bind(sender).bind(signal_id).fetch_optional(&mut *tx).await?;
            let current = current.and_then(|s| DeliveryState::parse(&s)).ok_or_else(|| StoreError::missing("delivery of signal", signal_id))?;
            if current != DeliveryState::Pending {
                tx.rollback().await?;
                current
            } else {
                let (state, reasons, entry) = match decide(&consents) {
                    DeliveryVerdict::Deliver(e) => (DeliveryState::Delivered, Vec::new(), e),
                    DeliveryVerdict::Withhold(r, e) => (DeliveryState::Withheld, r, e),
                };
                sqlx::query("UPDATE deliveries SET state = $4, reasons = $5, updated_at = $6 WHERE recipient_oin = $1 AND sender_oin = $2 AND signal_id = $3")
                    .bind(recipient).bind(sender).bind(signal_id).bind(state.as_str()).bind(json(&reasons)).bind(entry.entry.at)
                    .execute(&mut *tx).await?;
                if state == DeliveryState::Delivered {
                    // A signal under a melding purpose is now a melding of this Veilig Thuis:
                    // it enters its overview (ListMeldingen) in triage.
                    sqlx::query(&format!("INSERT INTO vt_meldingen ({OVERVIEW_COLUMNS}) SELECT $1, 'signal/' || sender_oin || '/' || signal_id, 'signal', created_at, -created_at, 'TRIAGE', $4
                            FROM signals WHERE sender_oin = $2 AND signal_id = $3 AND purpose IN ($5, $6) AND erased_at IS NULL ON CONFLICT DO NOTHING"))
                        .bind(recipient).bind(sender).bind(signal_id).bind(MeldingPageKey::NO_REVIEW)
                        .bind(MELDING_SIGNAL_PURPOSES[0]).bind(MELDING_SIGNAL_PURPOSES[1])
                        .execute(&mut *tx).await?;
                }
                super::sequence_log(&mut tx, std::slice::from_ref(&entry)).await?;
                tx.commit().await?;
                state
            }
        });
        Ok(state)
    }

    /// Acknowledges a delivered signal. `NotFound` when there is no such delivery; `Conflict` when
    /// it was not delivered (pending, withheld, withdrawn).
    pub async fn acknowledge(
        &self,
        recipient: &str,
        sender: &str,
        signal_id: &str,
        at: i64,
    ) -> StoreResult<()> {
        on_writer!(self, p => {
            let n = sqlx::query("UPDATE deliveries SET state = 'acknowledged', updated_at = $4 WHERE recipient_oin = $1 AND sender_oin = $2 AND signal_id = $3 AND state IN ('delivered', 'acknowledged')")
                .bind(recipient).bind(sender).bind(signal_id).bind(at).execute(p).await?.rows_affected();
            if n == 0 {
                let exists: Option<String> = sqlx::query_scalar("SELECT state FROM deliveries WHERE recipient_oin = $1 AND sender_oin = $2 AND signal_id = $3")
                    .bind(recipient).bind(sender).bind(signal_id).fetch_optional(p).await?;
                return Err(match exists {
                    Some(s) => StoreError::in_state("signal", signal_id, s),
                    None => StoreError::missing("signal", signal_id),
                });
            }
        });
        Ok(())
    }

    /// Recalls every pending delivery of a signal; `entry_for(recipient)` gives each log entry.
    pub async fn withdraw_signal(
        &self,
        sender: &str,
        signal_id: &str,
        entry_for: impl Fn(&str) -> PendingEntry,
    ) -> StoreResult<Vec<Delivery>> {
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let recipients: Vec<String> = sqlx::query_scalar("SELECT recipient_oin FROM deliveries WHERE sender_oin = $1 AND signal_id = $2 AND state = 'pending' ORDER BY recipient_oin")
                .bind(sender).bind(signal_id).fetch_all(&mut *tx).await?;
            let mut entries = Vec::new();
            for r in &recipients {
                let e = entry_for(r);
                sqlx::query("UPDATE deliveries SET state = 'withdrawn', updated_at = $4 WHERE recipient_oin = $1 AND sender_oin = $2 AND signal_id = $3 AND state = 'pending'")
                    .bind(r).bind(sender).bind(signal_id).bind(e.entry.at).execute(&mut *tx).await?;
                entries.push(e);
            }
            if !entries.is_empty() {
                super::sequence_log(&mut tx, &entries).await?;
            }
            tx.commit().await?;
        });
        self.deliveries_of(sender, signal_id).await
    }
}
