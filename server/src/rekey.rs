//! The online re-key: moves every stored subject pseudonym to the newest version of the key ring
//! (`signaalhub pseudonym rekey`), in small transactions next to live traffic.
//!
//! Order of events (docs/OPERATIONS.md, "Rotating the pseudonym key"): every instance runs with
//! the new key in `pseudonym.rekey_files`, so new records are written under it and every lookup
//! by BSN matches all versions. This job then makes passes over every pseudonym column until one
//! pass finds nothing older left, and only then raises the store's floor, which tells lookups by
//! a stored pseudonym that no older version can remain.
use crate::ids::Pseudonymizer;
use crate::store::rekey::{Behind, RingError, TableProgress};
use crate::store::{Store, StoreError};
use std::time::Duration;

/// How the re-key runs.
#[derive(Debug, Clone)]
pub struct RekeyOptions {
    /// Rows per transaction.
    pub batch_size: usize,
    /// Pause between passes, so that instances and requests still busy with an older key
    /// finish (at least `directory.refresh_ms`, better a request timeout).
    pub settle: Duration,
    /// Give up (floor not raised; run again) after this many passes that still moved rows.
    pub max_passes: u32,
}

impl Default for RekeyOptions {
    fn default() -> Self {
        RekeyOptions {
            batch_size: 500,
            settle: Duration::from_secs(2),
            max_passes: 5,
        }
    }
}

/// What a re-key did.
#[derive(Debug, Clone)]
pub struct RekeyReport {
    /// The version everything was moved to.
    pub version: u32,
    /// Per pass, per table.
    pub passes: Vec<Vec<TableProgress>>,
    /// Whether the last pass found nothing left and the floor was raised to `version`.
    pub complete: bool,
    /// Rows still behind at the end (zero when complete).
    pub behind: Behind,
}

/// Why the re-key could not run.
#[derive(Debug, thiserror::Error)]
pub enum RekeyError {
    /// The ring has only version 1.
    #[error(
        "nothing to re-key to: add the new key file to pseudonym.rekey_files (and restart every instance with it) first"
    )]
    NoNewKey,
    /// The ring does not fit the store.
    #[error(transparent)]
    Ring(#[from] RingError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Re-keys the store to the ring's newest version. `progress` sees every batch's running totals.
pub async fn run(
    store: &Store,
    ring: &Pseudonymizer,
    opts: &RekeyOptions,
    progress: &mut (dyn FnMut(u32, &TableProgress) + Send),
) -> Result<RekeyReport, RekeyError> {
    let version = ring.version();
    if version < 2 {
        return Err(RekeyError::NoNewKey);
    }
    // Refuses a ring older than the store or a changed key; makes `version` the write version.
    store.open_pseudonym_ring(ring).await?;
    let mut passes = Vec::new();
    let mut complete = false;
    for pass in 1..=opts.max_passes.max(1) {
        let mut cb = |p: &TableProgress| progress(pass, p);
        let done = store.rekey_pass(ring, opts.batch_size, &mut cb).await?;
        let touched: u64 = done.iter().map(|t| t.moved + t.left).sum();
        passes.push(done);
        if touched == 0 {
            complete = store.pseudonyms_behind(version).await?.total() == 0;
            if complete {
                store.raise_pseudonym_floor(version).await?;
                let state = store.pseudonym_state().await?;
                ring.observe_store(state.version, state.floor);
                complete = state.floor == version;
            }
            break;
        }
        tokio::time::sleep(opts.settle).await;
    }
    let behind = store.pseudonyms_behind(version).await?;
    tracing::info!(
        version,
        complete,
        passes = passes.len(),
        behind = behind.total(),
        "pseudonym re-key finished"
    );
    Ok(RekeyReport {
        version,
        passes,
        complete,
        behind,
    })
}
