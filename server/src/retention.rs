//! The retention sweeper: data past its purpose's retention disappears by itself, and the log
//! shows that it did.
//!
//! Every record that carries personal data is stored with `retain_until`, fixed when it is
//! recorded from the convenant's retention of its purpose(s) (`[purposes.*] retention`). The
//! sweeper erases what has expired — the kinds listed in [`crate::store::retention::TARGETS`] —
//! in batches, each erased record with one `erased` log entry in the same transaction. The log
//! itself holds pseudonyms only, so it stays verifiable after the erasure.
//!
//! It runs inside every hub instance (`retention.sweep_interval_ms`); on PostgreSQL instances
//! share the work (`FOR UPDATE SKIP LOCKED`). `signaalhub retention sweep` runs one sweep now.
use crate::ledger::{EntryActor, EntryOutcome, Event, PendingEntry};
use crate::store::retention::{Expired, TARGETS};
use crate::store::{Store, StoreResult};
use std::collections::BTreeMap;
use std::time::Duration;

/// The reason code of every erasure entry.
pub const REASON: &str = "RETENTION_EXPIRED";
/// The role the hub acts in when it erases.
pub const ROLE: &str = "hub:retention";

/// What one sweep erased, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Erased records per kind (`signal`, `consent`, ...); every kind is present.
    pub erased: BTreeMap<&'static str, u64>,
}

impl SweepReport {
    /// Records erased in total.
    pub fn total(&self) -> u64 {
        self.erased.values().sum()
    }
}

/// The log entry that records the erasure of `item` at `now`: the owning organisation, the
/// subject pseudonyms, purposes and categories (no readable personal data), `reference`
/// `<kind>:<id>`, basis `retention:<purpose>`, reason [`REASON`].
pub fn erased_entry(item: &Expired, now: i64, policy_version: &str) -> PendingEntry {
    let mut e = PendingEntry::new(
        EntryActor {
            oin: &item.owner,
            pseudonym: "",
            professional: "",
            role: ROLE,
        },
        Event::Erased,
        EntryOutcome::Recorded,
        now,
        policy_version,
    )
    .subjects(item.subjects.iter().cloned())
    .categories(item.categories.iter().cloned())
    .basis_strings(
        item.purposes
            .iter()
            .map(|p| format!("retention:{p}"))
            .collect(),
    )
    .reasons([REASON])
    .reference(format!("{}:{}", item.kind, item.id));
    e.entry.purpose = item.purposes.first().map(|p| p.to_string());
    e
}

/// Erases everything that expired at or before `now`, in batches of `batch`, until nothing
/// expired is left (or another instance holds the rest). A store error stops the sweep; what
/// was committed before it stays erased and logged.
pub async fn sweep(
    store: &Store,
    policy_version: &str,
    now: i64,
    batch: u32,
) -> StoreResult<SweepReport> {
    let batch = batch.max(1);
    let mut report = SweepReport::default();
    for target in TARGETS {
        let mut n = 0u64;
        loop {
            let erased = store
                .erase_expired(target, now, batch, |item| {
                    erased_entry(item, now, policy_version)
                })
                .await?;
            n += erased.len() as u64;
            crate::metrics::erased(target.kind, erased.len() as u64);
            if erased.len() < batch as usize {
                break;
            }
        }
        report.erased.insert(target.kind, n);
    }
    // Confirmations of contact hold pseudonyms and OINs only, until they expire.
    store.drop_expired_confirmations(now).await?;
    if report.total() > 0 {
        // What was erased stays erased (and logged) either way; a later sweep that erases
        // something tries again.
        if let Err(e) = store.purge_erased().await {
            tracing::warn!(error = %e, "could not truncate the write-ahead log after erasing");
        }
    }
    Ok(report)
}

/// Erases the professional's clear id beside every log entry made more than `days` days before
/// `now` (0: never), in transactions of `batch` entries; returns how many entries it passed. The
/// entries themselves stay: their leaf names the professional only by a keyed pseudonym, so the
/// log still verifies, and an FG's per-professional audit no longer finds them
/// (docs/OPERATIONS.md "Retention").
pub async fn sweep_log_professionals(
    store: &Store,
    now: i64,
    days: u32,
    batch: u32,
) -> StoreResult<u64> {
    if days == 0 {
        return Ok(0);
    }
    let before = now - i64::from(days) * 86_400;
    let batch = batch.max(1);
    let mut n = 0u64;
    loop {
        let passed = store.erase_log_professionals(before, batch).await?;
        n += passed;
        if passed < u64::from(batch) {
            break;
        }
    }
    crate::metrics::erased(LOG_PROFESSIONAL, n);
    Ok(n)
}

/// The kind under which [`sweep_log_professionals`] counts in the `erased` metric and the CLI.
pub const LOG_PROFESSIONAL: &str = "log_professional";

/// How many records of each kind are expired but not yet erased at `now`.
pub async fn backlog(store: &Store, now: i64) -> StoreResult<BTreeMap<&'static str, u64>> {
    let mut out = BTreeMap::new();
    for target in TARGETS {
        out.insert(target.kind, store.expired_count(target, now).await?);
    }
    Ok(out)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Runs [`sweep`] every `every` with the system clock until `stop` turns true.
pub fn spawn(
    store: Store,
    policy_version: String,
    every: Duration,
    batch: u32,
    professional_days: u32,
    stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    crate::jobs::spawn_periodic(every, stop, move || {
        let store = store.clone();
        let version = policy_version.clone();
        async move {
            match sweep(&store, &version, unix_now(), batch).await {
                Ok(r) if r.total() > 0 => {
                    tracing::info!(erased = ?r.erased, "retention sweep erased expired records")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "retention sweep failed; retrying"),
            }
            match sweep_log_professionals(&store, unix_now(), professional_days, batch).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    entries = n,
                    "retention sweep erased professionals' ids beside old log entries"
                ),
                Err(e) => tracing::error!(error = %e, "retention sweep failed; retrying"),
            }
        }
    })
}
