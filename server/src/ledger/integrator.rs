//! Integration: folds sequenced entries into Merkle tiles and signs a checkpoint per batch, off
//! the request path. Verification: recomputes everything from the entries and names the first
//! entry, tile or checkpoint that does not match.
use crate::store::{Store, StoreError};
use signaalhub_proto::checkpoint::{Checkpoint, CheckpointSigner, SignedCheckpoint};
use signaalhub_proto::merkle::{self, Frontier, Hash, MemoryTiles};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Most entries folded in one integration step.
pub const BATCH: u64 = 4096;

/// What can go wrong with the log.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The store could not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log does not verify.
    #[error("{0}")]
    Invalid(String),
}

/// The hub's log keeper: integration and checkpoint signing.
#[derive(Debug)]
pub struct Ledger {
    store: Store,
    origin: String,
    signer: CheckpointSigner,
    /// Every checkpoint key the hub trusts for verification (current and retired), by key id.
    pub keys: HashMap<String, [u8; 32]>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Ledger {
    /// A ledger signing with `signer`, trusting also `old_keys` for checkpoints made before a
    /// rotation.
    pub fn new(
        store: Store,
        origin: String,
        signer: CheckpointSigner,
        old_keys: HashMap<String, [u8; 32]>,
    ) -> Ledger {
        let mut keys = old_keys;
        keys.insert(signer.key_id().to_owned(), signer.public_key());
        Ledger {
            store,
            origin,
            signer,
            keys,
        }
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Folds up to [`BATCH`] new entries into the tiles and signs a checkpoint. Returns the new
    /// integrated size, or `None` when there was nothing to do (or another instance did it).
    pub async fn integrate_once(&self) -> Result<Option<u64>, LedgerError> {
        let integrated = self.store.log_integrated().await?;
        let size = self.store.log_size().await?;
        if size <= integrated {
            return Ok(None);
        }
        let to = size.min(integrated + BATCH);
        let rows = self.store.log_range(integrated, to).await?;
        let mut leaves = Vec::with_capacity(rows.len());
        for (expected, (idx, bytes)) in (integrated..to).zip(rows.iter()) {
            if *idx != expected {
                return Err(LedgerError::Invalid(format!(
                    "log entry {expected} is missing"
                )));
            }
            leaves.push(merkle::leaf_hash(bytes));
        }
        if leaves.len() as u64 != to - integrated {
            // Sequenced but not yet visible (a concurrent transaction of another instance).
            return Ok(None);
        }
        let tiles = self
            .store
            .read_tiles(&merkle::tiles_for_append(integrated))
            .await?;
        let result = match merkle::append(integrated, &leaves, &tiles.0) {
            Ok(r) => r,
            Err(e) => {
                // Another instance integrated between our reads: its tiles are newer. Retry.
                if self.store.log_integrated().await? != integrated {
                    return Ok(None);
                }
                return Err(LedgerError::Invalid(format!(
                    "tiles do not fit the log: {e}"
                )));
            }
        };
        let signed = self
            .signer
            .sign(&Checkpoint {
                origin: self.origin.clone(),
                tree_size: result.new_size,
                root: result.root,
                timestamp_unix: now(),
            })
            .map_err(|e| LedgerError::Invalid(format!("cannot sign checkpoint: {e}")))?;
        let blobs: Vec<_> = result
            .tiles
            .iter()
            .map(|(id, h)| (*id, merkle::encode_tile(h)))
            .collect();
        let won = self
            .store
            .store_integration(
                integrated,
                result.new_size,
                &blobs,
                &signed.to_note(),
                now(),
            )
            .await?;
        Ok(won.then_some(result.new_size))
    }

    /// Integrates everything sequenced before the call (by this or another instance).
    pub async fn integrate_all(&self) -> Result<u64, LedgerError> {
        let target = self.store.log_size().await?;
        loop {
            if self.integrate_once().await?.is_none() {
                let done = self.store.log_integrated().await?;
                if done >= target {
                    return Ok(done);
                }
                // Another instance won the race or an earlier entry is not yet visible: retry.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }

    /// Runs integration every `every` until `shutdown`.
    pub fn spawn(
        self: &Arc<Self>,
        every: Duration,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        crate::spawn_periodic(every, shutdown, move || {
            let me = Arc::clone(&me);
            async move {
                if let Err(e) = me.integrate_all().await {
                    tracing::error!(error = %e, "log integration failed");
                }
            }
        })
    }

    /// The newest signed checkpoint, verified.
    pub async fn latest(&self) -> Result<Option<SignedCheckpoint>, LedgerError> {
        match self.store.latest_checkpoint().await? {
            None => Ok(None),
            Some(note) => {
                let signed = SignedCheckpoint::parse(note.as_bytes())
                    .map_err(|e| LedgerError::Invalid(format!("latest checkpoint: {e}")))?;
                signaalhub_proto::checkpoint::verify(&signed, &self.keys)
                    .map_err(|e| LedgerError::Invalid(format!("latest checkpoint: {e}")))?;
                Ok(Some(signed))
            }
        }
    }

    /// The start-up check: recompute the root of the integrated entries and compare it with the
    /// last checkpoint. The hub refuses to serve when they disagree.
    pub async fn check_startup(&self) -> Result<(), LedgerError> {
        let Some(latest) = self.latest().await? else {
            return Ok(());
        };
        let size = latest.checkpoint.tree_size;
        let mut f = Frontier::new();
        let mut at = 0;
        while at < size {
            let to = size.min(at + 10_000);
            let rows = self.store.log_range(at, to).await?;
            for (expected, (idx, bytes)) in (at..to).zip(rows.iter()) {
                if *idx != expected {
                    return Err(LedgerError::Invalid(format!(
                        "log entry {expected} is missing"
                    )));
                }
                f.push(merkle::leaf_hash(bytes))
                    .map_err(|e| LedgerError::Invalid(e.to_string()))?;
            }
            if rows.len() as u64 != to - at {
                return Err(LedgerError::Invalid(format!(
                    "log entries {at}..{to} are incomplete"
                )));
            }
            at = to;
        }
        if f.root() != latest.checkpoint.root {
            return Err(LedgerError::Invalid(format!(
                "the recomputed root of the first {size} log entries disagrees with the last checkpoint; run `signaalhub log verify`"
            )));
        }
        Ok(())
    }
}

/// The result of a full verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked.
    pub entries: u64,
    /// Entries integrated into tiles.
    pub integrated: u64,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// The root at the integrated size.
    pub root: Hash,
}

/// Recomputes the whole log from its entries: every entry present and parseable, every stored
/// tile equal to the recomputed one, every checkpoint signed by a trusted key and equal to the
/// recomputed root at its size. Names the first problem.
pub async fn verify(
    store: &Store,
    keys: &HashMap<String, [u8; 32]>,
) -> Result<VerifyReport, LedgerError> {
    let size = store.log_size().await?;
    let integrated = store.log_integrated().await?;
    let mut checkpoints = Vec::new();
    for (s, note) in store.checkpoints().await? {
        let signed = SignedCheckpoint::parse(note.as_bytes()).map_err(|e| {
            LedgerError::Invalid(format!("checkpoint at size {s} does not parse: {e}"))
        })?;
        signaalhub_proto::checkpoint::verify(&signed, keys).map_err(|e| {
            LedgerError::Invalid(format!("checkpoint at size {s} does not verify: {e}"))
        })?;
        if signed.checkpoint.tree_size != s {
            return Err(LedgerError::Invalid(format!(
                "checkpoint row {s} holds a checkpoint of size {}",
                signed.checkpoint.tree_size
            )));
        }
        checkpoints.push(signed.checkpoint);
    }
    let mut next_cp = checkpoints.iter().peekable();
    let mut tiles = MemoryTiles::new();
    let mut f = Frontier::new();
    let mut root_at_integrated = Frontier::new().root();
    let mut current_tile: Option<(merkle::TileId, Vec<Hash>)> = None;
    let mut at = 0;
    while at < size {
        let to = size.min(at + 10_000);
        let rows = store.log_range(at, to).await?;
        let mut leaves = Vec::with_capacity(rows.len());
        for (expected, (idx, bytes)) in (at..to).zip(rows.iter()) {
            if *idx != expected {
                return Err(LedgerError::Invalid(format!(
                    "log entry {expected} is missing (deleted)"
                )));
            }
            if crate::ledger::LogEntry::from_bytes(bytes).is_none() {
                return Err(LedgerError::Invalid(format!(
                    "log entry {expected} is not a valid entry (changed)"
                )));
            }
            leaves.push(merkle::leaf_hash(bytes));
        }
        if rows.len() as u64 != to - at {
            return Err(LedgerError::Invalid(format!(
                "log entry {} is missing (deleted)",
                at + rows.len() as u64
            )));
        }
        for (i, leaf) in leaves.iter().enumerate() {
            let idx = at + i as u64;
            // The stored leaf hash (level-0 tile) names a changed entry exactly.
            if idx < integrated {
                let tile = merkle::TileId {
                    level: 0,
                    index: idx >> 8,
                };
                if current_tile.as_ref().map(|(id, _)| *id) != Some(tile) {
                    let set = store.read_tiles(&[tile]).await?;
                    current_tile = Some((
                        tile,
                        set.0.get(tile).map(<[Hash]>::to_vec).unwrap_or_default(),
                    ));
                }
                let stored = current_tile
                    .as_ref()
                    .and_then(|(_, h)| h.get((idx & 255) as usize));
                if stored != Some(leaf) {
                    return Err(LedgerError::Invalid(format!(
                        "log entry {idx} was changed: its hash differs from the one recorded in the log's tiles"
                    )));
                }
            }
            f.push(*leaf)
                .map_err(|e| LedgerError::Invalid(e.to_string()))?;
            let n = idx + 1;
            while let Some(cp) = next_cp.peek() {
                if cp.tree_size == n {
                    if cp.root != f.root() {
                        return Err(LedgerError::Invalid(format!(
                            "checkpoint at size {n} disagrees with the entries: an entry before index {n} was changed"
                        )));
                    }
                    next_cp.next();
                } else {
                    break;
                }
            }
            if n == integrated {
                root_at_integrated = f.root();
            }
        }
        let tile_part = (integrated.saturating_sub(at)).min(leaves.len() as u64) as usize;
        if tile_part > 0 {
            tiles
                .append_leaves(&leaves[..tile_part])
                .map_err(|e| LedgerError::Invalid(e.to_string()))?;
        }
        at = to;
    }
    if let Some(cp) = next_cp.next() {
        return Err(LedgerError::Invalid(format!(
            "checkpoint at size {} is beyond the {size} entries (entries deleted)",
            cp.tree_size
        )));
    }
    // Every stored tile must agree with the recomputed one; the first difference names an entry.
    // Integration may go on while this runs (a live hub): a stored tile may then be longer than
    // the recomputed one, or exist beyond it, but never differ in what both cover.
    let mut stored: HashMap<merkle::TileId, Vec<Hash>> = HashMap::new();
    for (id, blob) in store.all_tiles().await? {
        let hashes = merkle::decode_tile(&blob).map_err(|e| {
            LedgerError::Invalid(format!(
                "tile {}/{} does not parse: {e}",
                id.level, id.index
            ))
        })?;
        stored.insert(id, hashes);
    }
    for (id, expected) in tiles.iter() {
        let Some(hashes) = stored.get(&id) else {
            return Err(LedgerError::Invalid(format!(
                "tile {}/{} is missing",
                id.level, id.index
            )));
        };
        if hashes.len() < expected.len() || hashes[..expected.len()] != *expected {
            let pos = expected
                .iter()
                .zip(hashes.iter())
                .position(|(a, b)| a != b)
                .unwrap_or(hashes.len().min(expected.len()));
            let first = (id.index * 256 + pos as u64) << (8 * u32::from(id.level));
            return Err(LedgerError::Invalid(format!(
                "tile {}/{} differs from the entries (first affected entry {first})",
                id.level, id.index
            )));
        }
    }
    Ok(VerifyReport {
        entries: size,
        integrated,
        checkpoints: checkpoints.len(),
        root: root_at_integrated,
    })
}
