//! Reading the disclosure log.
use super::{Store, StoreResult};
use crate::ledger::LogEntry;

/// A stored log entry with its index.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    /// Index in the log.
    pub idx: u64,
    /// The canonical bytes (leaf input).
    pub bytes: Vec<u8>,
    /// Parsed.
    pub entry: Option<LogEntry>,
}

impl Store {
    /// The number of sequenced entries.
    pub async fn log_size(&self) -> StoreResult<u64> {
        let n: i64 = on_pool!(self, p => sqlx::query_scalar("SELECT size FROM log_state WHERE id = 1").fetch_one(p).await?);
        Ok(n as u64)
    }

    /// Entries about a subject, in log order.
    pub async fn log_entries_for_subject(&self, subject: &str) -> StoreResult<Vec<StoredEntry>> {
        let rows: Vec<(i64, Vec<u8>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT e.idx, e.entry FROM log_subject_index s JOIN log_entries e ON e.idx = s.idx WHERE s.subject = $1 ORDER BY e.idx")
            .bind(subject).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(idx, bytes)| StoredEntry {
                idx: idx as u64,
                entry: LogEntry::from_bytes(&bytes),
                bytes,
            })
            .collect())
    }

    /// Entries an organisation took part in (as actor or recipient), in log order, paged.
    pub async fn log_entries_for_org(
        &self,
        oin: &str,
        after: Option<u64>,
        limit: u32,
    ) -> StoreResult<Vec<StoredEntry>> {
        let after = after.map(|a| a as i64).unwrap_or(-1);
        let rows: Vec<(i64, Vec<u8>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT e.idx, e.entry FROM log_org_index o JOIN log_entries e ON e.idx = o.idx WHERE o.oin = $1 AND o.idx > $2 ORDER BY e.idx LIMIT $3")
            .bind(oin).bind(after).bind(i64::from(limit)).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(idx, bytes)| StoredEntry {
                idx: idx as u64,
                entry: LogEntry::from_bytes(&bytes),
                bytes,
            })
            .collect())
    }
}
