//! Retention: erasing records whose retention period has passed, with one `erased` log entry per
//! record in the same transaction.
//!
//! What can expire is a table-driven list, [`TARGETS`]: each [`RetentionTarget`] names, in SQL
//! that both dialects accept, how to find expired records and how to erase one. A new kind of
//! record (e.g. involvements) is one more entry: a table with `retain_until BIGINT NOT NULL` and
//! `erased_at BIGINT` columns, a `candidates` query and its `erase` statements.
use super::{Store, StoreError, StoreResult};
use crate::ledger::PendingEntry;

/// One kind of record that expires.
#[derive(Debug, Clone, Copy)]
pub struct RetentionTarget {
    /// The kind's name: in the log entry's `reference` (`<kind>:<id>`), metrics and reports.
    pub kind: &'static str,
    /// Selects expired, not yet erased records, oldest first: `$1` = now (unix seconds), `$2` =
    /// the batch size. Columns, all TEXT: the owning organisation's OIN, the record's id (unique
    /// with the owner), and JSON arrays of its subject pseudonyms, purposes and categories.
    /// PostgreSQL appends `FOR UPDATE SKIP LOCKED`, so instances sweeping at once share the work.
    pub candidates: &'static str,
    /// Statements that erase one record, run in order with `$1` = owner, `$2` = id, `$3` = now
    /// (each statement must use all three: PostgreSQL refuses unused parameters). The first must set `erased_at = $3` guarded by `erased_at IS NULL`: when it changes no
    /// row, another sweeper erased the record first and nothing is logged for it.
    pub erase: &'static [&'static str],
}

/// Facts as stored once erased (no age, no references of the holders of gezag).
macro_rules! no_facts {
    () => {
        r#"'{"age_years":null,"age_band":null,"gezag_holders":[]}'"#
    };
}

/// Every kind of record that expires. Order matters only for reports.
pub const TARGETS: &[RetentionTarget] = &[
    RetentionTarget {
        kind: "signal",
        candidates: "SELECT sender_oin, signal_id, subjects, '[\"' || purpose || '\"]', categories
            FROM signals WHERE erased_at IS NULL AND retain_until <= $1 ORDER BY retain_until, sender_oin, signal_id LIMIT $2",
        erase: &[
            // The envelope, the subjects, the facts, the basis with its evidence, the sending
            // professional and any exemption text go; sender, id, purpose, categories, times
            // and the request hash (idempotency) stay as a tombstone.
            concat!(
                "UPDATE signals SET envelope = NULL, subjects = '[]', subject_facts = ",
                no_facts!(),
                ", basis = substr(basis, 1, 0), sender_professional = '', inform_exemption = NULL, erased_at = $3
                 WHERE sender_oin = $1 AND signal_id = $2 AND erased_at IS NULL"
            ),
            // What was never delivered never will be: held back, with the reason.
            r#"UPDATE deliveries SET state = 'withheld', updated_at = $3, reasons = '[{"code":"RETENTION_EXPIRED","rule":"retention","nl":"de bewaartermijn van het signaal is verstreken voordat het werd afgeleverd","en":"the signal''s retention period ended before it was delivered"}]'
                 WHERE sender_oin = $1 AND signal_id = $2 AND state = 'pending'"#,
            "DELETE FROM delivery_consents WHERE sender_oin = $1 AND signal_id = $2
                 AND EXISTS (SELECT 1 FROM signals WHERE sender_oin = $1 AND signal_id = $2 AND erased_at = $3)",
        ],
    },
    RetentionTarget {
        kind: "consent",
        candidates: "SELECT recorded_by_oin, consent_id, '[\"' || subject || '\"]', purposes, categories
            FROM consents WHERE erased_at IS NULL AND retain_until <= $1 ORDER BY retain_until, consent_id LIMIT $2",
        erase: &[
            // The givers, the evidence reference, the facts and who recorded or withdrew it go;
            // id, subject pseudonym, purposes, categories, validity and withdrawal time stay.
            concat!(
                "UPDATE consents SET givers = '[]', evidence_reference = NULL, subject_facts = ",
                no_facts!(),
                ", recorded_by = '', withdrawn_by = NULL, erased_at = $3
                 WHERE recorded_by_oin = $1 AND consent_id = $2 AND erased_at IS NULL"
            ),
            "DELETE FROM delivery_consents WHERE consent_id = $2
                 AND EXISTS (SELECT 1 FROM consents WHERE recorded_by_oin = $1 AND consent_id = $2 AND erased_at = $3)",
        ],
    },
];

/// An expired record about to be erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    /// [`RetentionTarget::kind`].
    pub kind: &'static str,
    /// The owning organisation.
    pub owner: String,
    /// The record's id.
    pub id: String,
    /// Subject pseudonyms.
    pub subjects: Vec<String>,
    /// Purposes whose retention ended.
    pub purposes: Vec<String>,
    /// Data categories.
    pub categories: Vec<String>,
}

fn list(s: &str, what: &'static str) -> StoreResult<Vec<String>> {
    serde_json::from_str(s).map_err(|_| StoreError::Corrupt(what))
}

impl Store {
    /// Erases up to `batch` expired records of `target` (retain_until <= `now`) in one
    /// transaction, sequencing `entry_for(record)` for each erased one in the same transaction.
    /// Returns what was erased; fewer than `batch` means nothing more has expired.
    pub async fn erase_expired(
        &self,
        target: &RetentionTarget,
        now: i64,
        batch: u32,
        entry_for: impl Fn(&Expired) -> PendingEntry,
    ) -> StoreResult<Vec<Expired>> {
        let lock = match self {
            Store::Sqlite { .. } => "",
            Store::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!("{}{lock}", target.candidates);
        let erased = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(&sql)
                .bind(now)
                .bind(i64::from(batch))
                .fetch_all(&mut *tx)
                .await?;
            let mut erased = Vec::with_capacity(rows.len());
            let mut entries = Vec::with_capacity(rows.len());
            for (owner, id, subjects, purposes, categories) in rows {
                let item = Expired {
                    kind: target.kind,
                    subjects: list(&subjects, "retention candidate subjects")?,
                    purposes: list(&purposes, "retention candidate purposes")?,
                    categories: list(&categories, "retention candidate categories")?,
                    owner,
                    id,
                };
                let mut first = true;
                let mut mine = true;
                for stmt in target.erase {
                    let n = sqlx::query(stmt)
                        .bind(&item.owner)
                        .bind(&item.id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if first && n == 0 {
                        mine = false;
                        break;
                    }
                    first = false;
                }
                if mine {
                    entries.push(entry_for(&item));
                    erased.push(item);
                }
            }
            if entries.is_empty() {
                tx.rollback().await?;
            } else {
                sequence_log!(tx, &entries);
                tx.commit().await?;
            }
            erased
        });
        Ok(erased)
    }

    /// How many records of `target` are expired and not yet erased at `now`.
    pub async fn expired_count(&self, target: &RetentionTarget, now: i64) -> StoreResult<u64> {
        let sql = format!("SELECT COUNT(*) FROM ({}) AS expired", target.candidates);
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(&sql).bind(now).bind(i64::MAX).fetch_one(p).await?);
        Ok(n as u64)
    }
}
