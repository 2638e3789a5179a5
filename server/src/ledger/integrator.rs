//! Integration: folds sequenced entries into Merkle tiles and signs a checkpoint per batch, off
//! the request path. Verification: recomputes everything from the entries and names the first
//! entry, tile or checkpoint that does not match.
use crate::store::log::{CheckKind, LogVerification};
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
    /// The id of the key that signs new checkpoints.
    pub fn current_key_id(&self) -> &str {
        self.signer.key_id()
    }
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
        self.check_extends(integrated, &tiles.0).await?;
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
        crate::jobs::spawn_periodic(every, shutdown, move || {
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

    /// The start-up check ([`check_startup`]); the hub refuses to serve when it fails.
    pub async fn check_startup(&self) -> Result<StartupReport, LedgerError> {
        check_startup(&self.store, &self.keys, VERIFY_BATCH).await
    }

    /// Before signing over the tiles it extends: the tiles of the first `integrated` entries
    /// must still give the root of the signed checkpoint of that size, so that a changed
    /// right-edge tile is never folded into a new checkpoint (which would sign the change).
    async fn check_extends(&self, integrated: u64, tiles: &MemoryTiles) -> Result<(), LedgerError> {
        if integrated == 0 {
            return Ok(());
        }
        let note = self.store.checkpoint_at(integrated).await?.ok_or_else(|| {
            LedgerError::Invalid(format!(
                "the checkpoint of the {integrated} integrated entries is missing; not signing a new one (run `signaalhub log verify`)"
            ))
        })?;
        let cp = verified_note(&note, &self.keys, integrated)?;
        let root = merkle::root(integrated, tiles).map_err(|e| {
            LedgerError::Invalid(format!(
                "the tiles cannot give the root at size {integrated}: {e}"
            ))
        })?;
        if root != cp.root {
            return Err(LedgerError::Invalid(format!(
                "the tiles no longer give the root of the checkpoint at size {integrated}: a tile was changed; not signing a new checkpoint (run `signaalhub log verify`)"
            )));
        }
        Ok(())
    }
}

/// Parses and verifies a stored checkpoint note, which must be of `size` entries.
fn verified_note(
    note: &str,
    keys: &HashMap<String, [u8; 32]>,
    size: u64,
) -> Result<Checkpoint, LedgerError> {
    let signed = SignedCheckpoint::parse(note.as_bytes()).map_err(|e| {
        LedgerError::Invalid(format!("checkpoint at size {size} does not parse: {e}"))
    })?;
    signaalhub_proto::checkpoint::verify(&signed, keys).map_err(|e| {
        LedgerError::Invalid(format!("checkpoint at size {size} does not verify: {e}"))
    })?;
    if signed.checkpoint.tree_size != size {
        return Err(LedgerError::Invalid(format!(
            "checkpoint row {size} holds a checkpoint of size {}",
            signed.checkpoint.tree_size
        )));
    }
    Ok(signed.checkpoint)
}

/// What the start-up check verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupReport {
    /// The integrated size, whose signed checkpoint the tiles were checked against (0: nothing
    /// integrated yet).
    pub tree_size: u64,
    /// The size verified before (by an earlier start-up check or `log verify`): the entries
    /// `[verified_from, tree_size)` were re-hashed now.
    pub verified_from: u64,
    /// The last `signaalhub log verify` that passed, if any.
    pub last_full: Option<LogVerification>,
}

impl StartupReport {
    /// Entries re-hashed by this check.
    pub fn entries_checked(&self) -> u64 {
        self.tree_size - self.verified_from
    }
}

/// The newest signed checkpoint: the one of the integrated size, verified, which must also be
/// the newest checkpoint row (`None`: nothing integrated and no checkpoint).
async fn newest_checkpoint(
    store: &Store,
    keys: &HashMap<String, [u8; 32]>,
) -> Result<Option<Checkpoint>, LedgerError> {
    // Another instance may integrate between the reads: then read again, a little later.
    for attempt in 0..50u64 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(10 * attempt.min(10))).await;
        }
        let integrated = store.log_integrated().await?;
        let latest = store.latest_checkpoint().await?;
        if integrated == 0 {
            match latest {
                None => return Ok(None),
                // Another instance's first integration, or a changed integration state.
                Some(_) if store.log_integrated().await? > 0 => continue,
                Some(_) => {
                    return Err(LedgerError::Invalid(
                        "a checkpoint is stored but no entry is integrated: the integration state was changed".into(),
                    ));
                }
            }
        }
        let note = store.checkpoint_at(integrated).await?.ok_or_else(|| {
            LedgerError::Invalid(format!(
                "the checkpoint of the {integrated} integrated entries is missing (deleted or moved)"
            ))
        })?;
        let cp = verified_note(&note, keys, integrated)?;
        if latest.as_deref() == Some(note.as_str()) {
            return Ok(Some(cp));
        }
        // A newer row is only fine as another instance's newer, valid checkpoint.
        let newer = latest.as_deref().and_then(|l| {
            let s = SignedCheckpoint::parse(l.as_bytes()).ok()?;
            signaalhub_proto::checkpoint::verify(&s, keys).ok()?;
            Some(s.checkpoint.tree_size)
        });
        match newer {
            Some(n) if n > integrated => {
                if store.log_integrated().await? == integrated {
                    return Err(LedgerError::Invalid(format!(
                        "a signed checkpoint of {n} entries is stored, beyond the {integrated} integrated: the integration state was changed"
                    )));
                }
            }
            _ => {
                return Err(LedgerError::Invalid(format!(
                    "the newest checkpoint row is not the signed checkpoint of the {integrated} integrated entries: a checkpoint was changed or moved"
                )));
            }
        }
    }
    Err(LedgerError::Invalid(
        "the log kept growing while its newest checkpoint was read; start again".into(),
    ))
}

/// Reads one tile (`None`: no row), naming a tile that does not parse.
async fn stored_tile(store: &Store, id: merkle::TileId) -> Result<Option<Vec<Hash>>, LedgerError> {
    match store
        .tiles_in_range(id.level, id.index, id.index.saturating_add(1))
        .await?
        .into_iter()
        .next()
    {
        None => Ok(None),
        Some((_, blob)) => merkle::decode_tile(&blob).map(Some).map_err(|e| {
            LedgerError::Invalid(format!(
                "tile {}/{} does not parse: {e}",
                id.level, id.index
            ))
        }),
    }
}

/// The root of the first `size` entries from the stored tiles alone (at most one tile per tile
/// level; no entry is read).
async fn root_from_tiles(store: &Store, size: u64) -> Result<Hash, LedgerError> {
    let mut tiles = MemoryTiles::new();
    for id in merkle::tiles_for_root(size) {
        if let Some(h) = stored_tile(store, id).await? {
            tiles.insert(id, h);
        }
    }
    merkle::root(size, &tiles).map_err(|e| {
        LedgerError::Invalid(format!(
            "the stored tiles cannot give the root at size {size}: {e}"
        ))
    })
}

/// Compares tiles recomputed from entries with the stored ones: a stored tile may be longer (the
/// log grew), never different in what both cover. Names the first entry affected.
async fn compare_tiles(
    store: &Store,
    computed: &[(merkle::TileId, Vec<Hash>)],
) -> Result<(), LedgerError> {
    let mut i = 0;
    while let Some((first, _)) = computed.get(i) {
        // `append` returns each level's tiles as one run of consecutive indexes.
        let run = computed[i..]
            .iter()
            .take_while(|(id, _)| id.level == first.level)
            .count();
        let level = &computed[i..i + run];
        let last = level[run - 1].0.index;
        let stored: HashMap<u64, Vec<u8>> = store
            .tiles_in_range(first.level, first.index, last.saturating_add(1))
            .await?
            .into_iter()
            .collect();
        for (id, expected) in level {
            let blob = stored.get(&id.index).ok_or_else(|| {
                LedgerError::Invalid(format!("tile {}/{} is missing", id.level, id.index))
            })?;
            let hashes = merkle::decode_tile(blob).map_err(|e| {
                LedgerError::Invalid(format!(
                    "tile {}/{} does not parse: {e}",
                    id.level, id.index
                ))
            })?;
            if hashes.len() >= expected.len() && hashes[..expected.len()] == expected[..] {
                continue;
            }
            let pos = expected
                .iter()
                .zip(hashes.iter())
                .position(|(a, b)| a != b)
                .unwrap_or(hashes.len().min(expected.len()));
            let node = id.index * 256 + pos as u64;
            return Err(LedgerError::Invalid(if id.level == 0 {
                format!(
                    "log entry {node} was changed: its hash differs from the one recorded in the log's tiles"
                )
            } else {
                format!(
                    "tile {}/{} differs from the entries (first affected entry {})",
                    id.level,
                    id.index,
                    node << (8 * u32::from(id.level))
                )
            }));
        }
        i += run;
    }
    Ok(())
}

/// Re-hashes the entries `[from, to)` and folds them onto the stored tree of `from` entries (its
/// right-edge tiles, cut to that size), comparing every tile this produces with the stored one,
/// and the resulting root with `root` (the signed checkpoint's at `to`). `batch` entries per
/// store round trip.
async fn recheck_entries(
    store: &Store,
    from: u64,
    to: u64,
    root: &Hash,
    batch: u64,
) -> Result<(), LedgerError> {
    let mut edge = MemoryTiles::new();
    for id in merkle::tiles_for_append(from) {
        let width = merkle::tile_width(id, from);
        if width == 0 {
            continue;
        }
        match stored_tile(store, id).await? {
            Some(h) if h.len() >= width => edge.insert(id, h[..width].to_vec()),
            _ => {
                return Err(LedgerError::Invalid(format!(
                    "tile {}/{} is missing or shorter than the {from} verified entries need",
                    id.level, id.index
                )));
            }
        }
    }
    let mut at = from;
    let mut recomputed = None;
    while at < to {
        let end = to.min(at.saturating_add(batch.max(1)));
        let rows = store.log_range(at, end).await?;
        let hashed = tokio::task::spawn_blocking(move || {
            hash_batch(ReadBatch {
                at,
                to: end,
                rows,
                leaf_tiles: Vec::new(),
            })
        })
        .await
        .map_err(|e| LedgerError::Invalid(format!("the start-up check stopped: {e}")))?;
        if let Some(problem) = hashed.problem {
            return Err(problem);
        }
        let result = merkle::append(at, &hashed.leaves, &edge).map_err(|e| {
            LedgerError::Invalid(format!("the tiles do not fit the log at size {at}: {e}"))
        })?;
        compare_tiles(store, &result.tiles).await?;
        // Only the right edge is read by the next append.
        let mut next = MemoryTiles::new();
        for id in merkle::tiles_for_append(end) {
            let fresh = result
                .tiles
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, h)| h.clone());
            if let Some(h) = fresh.or_else(|| edge.get(id).map(<[Hash]>::to_vec)) {
                next.insert(id, h);
            }
        }
        edge = next;
        recomputed = Some(result.root);
        at = end;
    }
    if recomputed.is_some_and(|r| r != *root) {
        return Err(LedgerError::Invalid(format!(
            "the entries up to {to} do not give the root of the checkpoint of that size: an entry before index {to} was changed"
        )));
    }
    Ok(())
}

/// The start-up check, in O(log n) tile reads plus the entries since the last verification:
///
/// 1. the newest checkpoint row is the signed checkpoint of the integrated size, and its
///    signature verifies with a trusted key;
/// 2. the root recomputed from the stored tiles (one tile per tile level) is that checkpoint's;
/// 3. the tiles still give the root recorded by the last verification (start-up or
///    `log verify`), at its size;
/// 4. the entries integrated since then are re-hashed and folded onto the tree of that size:
///    every tile this produces equals the stored one, and the root is the checkpoint's.
///
/// What passed is recorded ([`CheckKind::Startup`]). Entries and tiles below the last verified
/// size are not read again: changes to them are found by `signaalhub log verify` (run it on a
/// schedule, docs/OPERATIONS.md), and a subject access report refuses an entry that no longer
/// proves against the signed root (`flows::log`). With no verification recorded (the first
/// start after the upgrade that added the record), every entry is re-hashed once.
pub async fn check_startup(
    store: &Store,
    keys: &HashMap<String, [u8; 32]>,
    batch: u64,
) -> Result<StartupReport, LedgerError> {
    let records = store.log_verifications().await?;
    let last_full = records.iter().find(|r| r.kind == CheckKind::Full).cloned();
    let Some(cp) = newest_checkpoint(store, keys).await? else {
        return Ok(StartupReport {
            tree_size: 0,
            verified_from: 0,
            last_full,
        });
    };
    let size = cp.tree_size;
    if root_from_tiles(store, size).await? != cp.root {
        return Err(LedgerError::Invalid(format!(
            "the root recomputed from the stored tiles disagrees with the signed checkpoint at size {size}: a tile was changed; run `signaalhub log verify`"
        )));
    }
    let verified = records.iter().max_by_key(|r| r.tree_size);
    let from = match verified {
        None => 0,
        Some(v) if v.tree_size > size => {
            return Err(LedgerError::Invalid(format!(
                "the log was verified at {} entries ({} check), more than the {size} integrated now: entries, tiles or checkpoints were removed",
                v.tree_size,
                v.kind.as_str()
            )));
        }
        Some(v) => {
            if v.tree_size > 0 && root_from_tiles(store, v.tree_size).await? != v.root {
                return Err(LedgerError::Invalid(format!(
                    "the stored tiles no longer give the root verified at size {} ({} check): a tile was changed after it was verified; run `signaalhub log verify`",
                    v.tree_size,
                    v.kind.as_str()
                )));
            }
            v.tree_size
        }
    };
    recheck_entries(store, from, size, &cp.root, batch).await?;
    store
        .record_log_verification(&LogVerification {
            kind: CheckKind::Startup,
            tree_size: size,
            root: cp.root,
            entries_checked: size - from,
            verified_at: now(),
        })
        .await?;
    Ok(StartupReport {
        tree_size: size,
        verified_from: from,
        last_full,
    })
}

/// [`verify`], and on success records it ([`CheckKind::Full`]), so that the next start-up check
/// re-hashes only the entries integrated after it: what `signaalhub log verify` runs.
pub async fn verify_and_record(
    store: &Store,
    keys: &HashMap<String, [u8; 32]>,
) -> Result<VerifyReport, LedgerError> {
    let report = verify(store, keys).await?;
    store
        .record_log_verification(&LogVerification {
            kind: CheckKind::Full,
            tree_size: report.integrated,
            root: report.root,
            entries_checked: report.entries,
            verified_at: now(),
        })
        .await?;
    Ok(report)
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

/// Entries `verify` reads per store round trip (a multiple of the tile width, so a batch covers
/// whole leaf tiles).
const VERIFY_BATCH: u64 = 32_768;

/// One batch as read from the store: entries `[at, to)` and the leaf tiles covering the
/// integrated part of them.
struct ReadBatch {
    at: u64,
    to: u64,
    rows: Vec<(u64, Vec<u8>)>,
    leaf_tiles: Vec<(u64, Vec<u8>)>,
}

/// One batch hashed: the leaf hashes of its entries up to the first problem (if any), and its
/// leaf tiles decoded.
struct HashedBatch {
    at: u64,
    leaves: Vec<Hash>,
    problem: Option<LedgerError>,
    leaf_tiles: HashMap<u64, Vec<Hash>>,
}

/// Reads the entries `[0, size)` and the leaf tiles of the first `integrated` in batches, ahead of
/// the hashing (bounded: at most two batches wait).
fn spawn_reader(
    store: Store,
    size: u64,
    integrated: u64,
    batch: u64,
) -> tokio::sync::mpsc::Receiver<Result<ReadBatch, LedgerError>> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(async move {
        let mut at = 0;
        while at < size {
            let to = size.min(at + batch);
            let tiled_to = to.min(integrated);
            let read = async {
                let rows = store.log_range(at, to).await?;
                let leaf_tiles = if at < tiled_to {
                    store
                        .tiles_in_range(0, at >> 8, (tiled_to - 1) / 256 + 1)
                        .await?
                } else {
                    Vec::new()
                };
                Ok::<_, LedgerError>(ReadBatch {
                    at,
                    to,
                    rows,
                    leaf_tiles,
                })
            };
            let r = read.await;
            let failed = r.is_err();
            if tx.send(r).await.is_err() || failed {
                return;
            }
            at = to;
        }
    });
    rx
}

/// Checks that every entry of a batch is present and parses, and hashes it into its leaf; the
/// work is split over the machine's cores. Stops at the first problem, keeping the leaves before
/// it (so the caller can still report an earlier tile mismatch first).
fn hash_batch(b: ReadBatch) -> HashedBatch {
    let ReadBatch {
        at,
        to,
        rows,
        leaf_tiles,
    } = b;
    let mut problem = None;
    // The first entry missing: a gap in the indexes, or fewer rows than asked for.
    let missing = (at..to)
        .zip(rows.iter())
        .position(|(expected, (idx, _))| *idx != expected)
        .or((rows.len() as u64 != to - at).then_some(rows.len()));
    let present = &rows[..missing.unwrap_or(rows.len())];
    let parts = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let chunk = present.len().div_ceil(parts).max(1);
    // Per chunk: the leaf hashes up to its first unparseable entry, and that entry's position.
    let results: Vec<(Vec<Hash>, Option<usize>)> = std::thread::scope(|s| {
        let handles: Vec<_> = present
            .chunks(chunk)
            .map(|c| {
                s.spawn(move || {
                    let mut leaves = Vec::with_capacity(c.len());
                    for (i, (_, bytes)) in c.iter().enumerate() {
                        if !crate::ledger::LogEntry::is_valid_bytes(bytes) {
                            return (leaves, Some(i));
                        }
                        leaves.push(merkle::leaf_hash(bytes));
                    }
                    (leaves, None)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| (Vec::new(), Some(0))))
            .collect()
    });
    let mut leaves = Vec::with_capacity(present.len());
    let mut changed = None;
    for (n, (hashes, bad)) in results.into_iter().enumerate() {
        leaves.extend(hashes);
        if let Some(i) = bad {
            changed = Some(n * chunk + i);
            break;
        }
    }
    if let Some(pos) = changed {
        problem = Some(LedgerError::Invalid(format!(
            "log entry {} is not a valid entry (changed)",
            at + pos as u64
        )));
    } else if let Some(pos) = missing {
        problem = Some(LedgerError::Invalid(format!(
            "log entry {} is missing (deleted)",
            at + pos as u64
        )));
    }
    let mut tiles = HashMap::with_capacity(leaf_tiles.len());
    for (index, blob) in leaf_tiles {
        match merkle::decode_tile(&blob) {
            Ok(h) => {
                tiles.insert(index, h);
            }
            Err(e) => {
                // Reported when the first entry it covers is reached, unless something earlier is.
                let first = index * 256;
                if first < at + leaves.len() as u64 {
                    leaves.truncate(first.saturating_sub(at) as usize);
                    problem = Some(LedgerError::Invalid(format!(
                        "tile 0/{index} does not parse: {e}"
                    )));
                }
            }
        }
    }
    HashedBatch {
        at,
        leaves,
        problem,
        leaf_tiles: tiles,
    }
}

/// The sequential part of verification: the tree over the leaves in order.
struct Recompute {
    integrated: u64,
    checkpoints: Vec<Checkpoint>,
    next_cp: usize,
    frontier: Frontier,
    root_at_integrated: Hash,
    /// The tiles recomputed from the first `integrated` leaves. Leaf tiles are dropped once
    /// complete: each of their hashes was compared with the stored leaf tile entry by entry.
    tiles: MemoryTiles,
    /// Leaf tiles `[0, leaf_tiles_dropped)` are dropped from `tiles`.
    leaf_tiles_dropped: u64,
}

impl Recompute {
    fn feed(&mut self, b: &HashedBatch) -> Result<(), LedgerError> {
        for (i, leaf) in b.leaves.iter().enumerate() {
            let idx = b.at + i as u64;
            // The stored leaf hash (level-0 tile) names a changed entry exactly.
            if idx < self.integrated
                && b.leaf_tiles
                    .get(&(idx >> 8))
                    .and_then(|h| h.get((idx & 255) as usize))
                    != Some(leaf)
            {
                return Err(LedgerError::Invalid(format!(
                    "log entry {idx} was changed: its hash differs from the one recorded in the log's tiles"
                )));
            }
            self.frontier
                .push(*leaf)
                .map_err(|e| LedgerError::Invalid(e.to_string()))?;
            let n = idx + 1;
            while let Some(cp) = self.checkpoints.get(self.next_cp) {
                if cp.tree_size != n {
                    break;
                }
                if cp.root != self.frontier.root() {
                    return Err(LedgerError::Invalid(format!(
                        "checkpoint at size {n} disagrees with the entries: an entry before index {n} was changed"
                    )));
                }
                self.next_cp += 1;
            }
            if n == self.integrated {
                self.root_at_integrated = self.frontier.root();
            }
        }
        let tile_part = (self.integrated.saturating_sub(b.at)).min(b.leaves.len() as u64) as usize;
        if tile_part > 0 {
            self.tiles
                .append_leaves(&b.leaves[..tile_part])
                .map_err(|e| LedgerError::Invalid(e.to_string()))?;
            let complete = self.tiles.tree_size() >> 8;
            for index in self.leaf_tiles_dropped..complete {
                self.tiles.remove(merkle::TileId { level: 0, index });
            }
            self.leaf_tiles_dropped = complete;
        }
        Ok(())
    }
}

/// Recomputes the whole log from its entries: every entry present and parseable, every stored
/// tile equal to the recomputed one, every checkpoint signed by a trusted key and equal to the
/// recomputed root at its size. Names the first problem.
///
/// Entries are read in batches of [`VERIFY_BATCH`] ahead of the hashing, and parsed and hashed
/// on all cores, while the tree over them is built in order; memory stays bounded (a few batches
/// and the tiles above the leaves, one per 65 536 entries).
pub async fn verify(
    store: &Store,
    keys: &HashMap<String, [u8; 32]>,
) -> Result<VerifyReport, LedgerError> {
    verify_in_batches(store, keys, VERIFY_BATCH).await
}

/// [`verify`] reading `batch` entries at a time (a multiple of 256; tests use small batches).
async fn verify_in_batches(
    store: &Store,
    keys: &HashMap<String, [u8; 32]>,
    batch: u64,
) -> Result<VerifyReport, LedgerError> {
    let size = store.log_size().await?;
    let integrated = store.log_integrated().await?;
    let mut checkpoints = Vec::new();
    for (s, note) in store.checkpoints().await? {
        checkpoints.push(verified_note(&note, keys, s)?);
    }
    // The integrated size is signed in the same transaction that sets it: its checkpoint must be
    // there (a live hub may have added newer ones since `integrated` was read).
    if integrated > 0 && !checkpoints.iter().any(|c| c.tree_size == integrated) {
        return Err(LedgerError::Invalid(format!(
            "the checkpoint of the {integrated} integrated entries is missing (deleted or moved)"
        )));
    }
    let checkpoint_count = checkpoints.len();
    let mut state = Recompute {
        integrated,
        checkpoints,
        next_cp: 0,
        frontier: Frontier::new(),
        root_at_integrated: Frontier::new().root(),
        tiles: MemoryTiles::new(),
        leaf_tiles_dropped: 0,
    };
    // Three stages run at once: reading (the store's own thread), parsing and hashing (all
    // cores), and the tree (in order).
    let mut read = spawn_reader(store.clone(), size, integrated, batch.max(256));
    let (hashed_tx, mut hashed) = tokio::sync::mpsc::channel::<Result<HashedBatch, LedgerError>>(1);
    let hasher = tokio::spawn(async move {
        while let Some(batch) = read.recv().await {
            let out = match batch {
                Ok(b) => tokio::task::spawn_blocking(move || hash_batch(b))
                    .await
                    .map_err(|e| LedgerError::Invalid(format!("verification stopped: {e}"))),
                Err(e) => Err(e),
            };
            let failed = out.is_err();
            if hashed_tx.send(out).await.is_err() || failed {
                return;
            }
        }
    });
    let mut seen = 0;
    while let Some(batch) = hashed.recv().await {
        let b = batch?;
        let done = b.at + b.leaves.len() as u64;
        let (s, b, r) = tokio::task::spawn_blocking(move || {
            let r = state.feed(&b);
            (state, b, r)
        })
        .await
        .map_err(|e| LedgerError::Invalid(format!("verification stopped: {e}")))?;
        state = s;
        r?;
        if let Some(problem) = b.problem {
            return Err(problem);
        }
        seen = done;
    }
    let _ = hasher.await;
    if seen < size {
        // The reader stopped early without an error: entries vanished while reading.
        return Err(LedgerError::Invalid(format!(
            "log entry {seen} is missing (deleted)"
        )));
    }
    if let Some(cp) = state.checkpoints.get(state.next_cp) {
        return Err(LedgerError::Invalid(format!(
            "checkpoint at size {} is beyond the {size} entries (entries deleted)",
            cp.tree_size
        )));
    }
    // Every stored tile must parse and agree with the recomputed one; the first difference names
    // an entry. The complete leaf tiles were compared entry by entry above; what is left is the
    // right-edge leaf tile and the levels above. Integration may go on while this runs (a live
    // hub): a stored tile may then be longer than the recomputed one, or exist beyond it, but
    // never differ in what both cover.
    let mut stored: HashMap<merkle::TileId, Vec<Hash>> = HashMap::new();
    for (id, blob) in store.tiles_after(0, integrated >> 8).await? {
        let hashes = merkle::decode_tile(&blob).map_err(|e| {
            LedgerError::Invalid(format!(
                "tile {}/{} does not parse: {e}",
                id.level, id.index
            ))
        })?;
        stored.insert(id, hashes);
    }
    let mut remaining: Vec<_> = state.tiles.iter().collect();
    remaining.sort_by_key(|(id, _)| (id.level, id.index));
    for (id, expected) in remaining {
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
        checkpoints: checkpoint_count,
        root: state.root_at_integrated,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::ledger::{Checks, EntryOutcome, Event, LogEntry, PendingEntry};

    fn entry(i: u64) -> PendingEntry {
        PendingEntry {
            entry: LogEntry {
                v: 1,
                event: Event::SignalSent,
                at: 1_764_000_000 + i as i64,
                actor_oin: "00000001234567890000".into(),
                actor_pro: format!("{i:064x}"),
                actor_role: "leerkracht".into(),
                subjects: vec![format!("{:064x}", i % 7)],
                recipient_oin: Some("00000001234567890001".into()),
                categories: vec!["zorgen_thuissituatie".into()],
                purpose: Some("vroegtijdige_ondersteuning".into()),
                basis: vec![format!("consent:{i}")],
                checks: Checks::default(),
                outcome: EntryOutcome::Disclosed,
                reasons: vec![],
                policy_version: Some("test".into()),
                reference: Some(format!("sig-{i}")),
            },
            professional: "p".into(),
            inform: None,
        }
    }

    async fn sql(store: &Store, q: &str) {
        match store {
            Store::Sqlite { write, .. } => {
                sqlx::query(q).execute(write).await.unwrap();
            }
            Store::Postgres(p) => {
                sqlx::query(q).execute(p).await.unwrap();
            }
        }
    }

    /// A log of 1 500 entries with checkpoints at several sizes, the last 200 not integrated.
    async fn log() -> (crate::store::testing::TestDb, HashMap<String, [u8; 32]>) {
        let db = crate::store::testing::fresh("sqlite").await.unwrap();
        let rng = ring::rand::SystemRandom::new();
        let der = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let signer = CheckpointSigner::from_pkcs8("k1", der.as_ref()).unwrap();
        let ledger = Ledger::new(db.store.clone(), "test/log".into(), signer, HashMap::new());
        let mut next = 0;
        for upto in [300u64, 700, 1_300, 1_500] {
            let batch: Vec<_> = (next..upto).map(entry).collect();
            db.store.append_log(&batch).await.unwrap();
            next = upto;
            if upto < 1_500 {
                ledger.integrate_all().await.unwrap();
            }
        }
        (db, ledger.keys.clone())
    }

    #[tokio::test]
    async fn small_batches_verify_the_same_as_one_batch() {
        let (db, keys) = log().await;
        let small = verify_in_batches(&db.store, &keys, 256).await.unwrap();
        let whole = verify_in_batches(&db.store, &keys, 1 << 20).await.unwrap();
        assert_eq!(small, whole);
        assert_eq!((small.entries, small.integrated), (1_500, 1_300));
        assert_eq!(small.checkpoints, 3);
        // The root at the integrated size is the last checkpoint's.
        let tiles = db.store.tiles_after(0, 0).await.unwrap();
        assert!(tiles.iter().any(|(id, _)| id.level == 1));
    }

    #[tokio::test]
    async fn the_first_problem_is_named_across_batches() {
        let (db, keys) = log().await;
        // Entry 900 still parses but differs from its tile; 950, in the same batch, no longer
        // parses: the earlier one is named.
        sql(&db.store, "UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'leerkracht', 'mentor') AS BLOB) WHERE idx = 900").await;
        sql(
            &db.store,
            "UPDATE log_entries SET entry = X'00' WHERE idx = 950",
        )
        .await;
        let e = verify_in_batches(&db.store, &keys, 256)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("log entry 900 was changed"), "{e}");
        sql(&db.store, "DELETE FROM log_entries WHERE idx = 600").await;
        let e = verify_in_batches(&db.store, &keys, 256)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("log entry 600 is missing"), "{e}");
    }

    #[tokio::test]
    async fn unparseable_and_deleted_entries_beyond_the_tiles_are_named() {
        let (db, keys) = log().await;
        sql(
            &db.store,
            "UPDATE log_entries SET entry = X'7b' WHERE idx = 1400",
        )
        .await;
        let e = verify_in_batches(&db.store, &keys, 256)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("log entry 1400 is not a valid entry"), "{e}");
        sql(&db.store, "DELETE FROM log_entries WHERE idx >= 1450").await;
        let e = verify_in_batches(&db.store, &keys, 256)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("log entry 1400 is not a valid entry"), "{e}");
    }

    #[tokio::test]
    async fn upper_tiles_and_leaf_tiles_are_checked() {
        let (db, keys) = log().await;
        // A changed hash in the level-1 tile (the node over entries 0..255).
        sql(&db.store, "UPDATE log_tiles SET hashes = zeroblob(32) || substr(hashes, 33) WHERE level = 1 AND idx = 0").await;
        let e = verify_in_batches(&db.store, &keys, 256)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("tile 1/0 differs from the entries (first affected entry 0)"),
            "{e}"
        );
        let (db, keys) = log().await;
        sql(
            &db.store,
            "DELETE FROM log_tiles WHERE level = 0 AND idx = 3",
        )
        .await;
        let e = verify_in_batches(&db.store, &keys, 256)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("log entry 768 was changed"), "{e}");
        let (db, keys) = log().await;
        sql(
            &db.store,
            "UPDATE log_tiles SET hashes = X'0102' WHERE level = 0 AND idx = 2",
        )
        .await;
        let e = verify_in_batches(&db.store, &keys, 256)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("tile 0/2 does not parse"), "{e}");
    }

    /// A ledger on a fresh SQLite store, and a way to sequence entries `[from, to)` on it.
    async fn fresh_ledger() -> (crate::store::testing::TestDb, Ledger) {
        let db = crate::store::testing::fresh("sqlite").await.unwrap();
        let rng = ring::rand::SystemRandom::new();
        let der = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let signer = CheckpointSigner::from_pkcs8("k1", der.as_ref()).unwrap();
        let ledger = Ledger::new(db.store.clone(), "test/log".into(), signer, HashMap::new());
        (db, ledger)
    }

    async fn grow(ledger: &Ledger, from: u64, to: u64) {
        let batch: Vec<_> = (from..to).map(entry).collect();
        assert_eq!(ledger.store.append_log(&batch).await.unwrap(), from);
        assert_eq!(ledger.integrate_all().await.unwrap(), to);
    }

    async fn startup(ledger: &Ledger) -> Result<StartupReport, String> {
        // Batches of 256 entries: several round trips even in these small logs.
        check_startup(&ledger.store, &ledger.keys, 256)
            .await
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn start_up_re_hashes_only_what_came_after_the_last_verification() {
        let (_db, ledger) = fresh_ledger().await;
        let r = startup(&ledger).await.unwrap();
        assert_eq!((r.tree_size, r.verified_from, r.last_full), (0, 0, None));
        grow(&ledger, 0, 700).await;
        // Nothing recorded yet: every entry once.
        let r = startup(&ledger).await.unwrap();
        assert_eq!((r.tree_size, r.verified_from), (700, 0));
        // Then only what was integrated since.
        assert_eq!(startup(&ledger).await.unwrap().entries_checked(), 0);
        grow(&ledger, 700, 1_300).await;
        let r = startup(&ledger).await.unwrap();
        assert_eq!((r.tree_size, r.verified_from), (1_300, 700));
        // A full verification is recorded too, and the next start-up starts from it.
        grow(&ledger, 1_300, 1_500).await;
        let full = verify_and_record(&ledger.store, &ledger.keys)
            .await
            .unwrap();
        assert_eq!(full.integrated, 1_500);
        grow(&ledger, 1_500, 1_600).await;
        let r = startup(&ledger).await.unwrap();
        assert_eq!((r.tree_size, r.verified_from), (1_600, 1_500));
        let last = r.last_full.unwrap();
        assert_eq!(
            (last.kind, last.tree_size, last.root),
            (CheckKind::Full, 1_500, full.root)
        );
        let records = ledger.store.log_verifications().await.unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(
            (records[0].kind, records[0].tree_size),
            (CheckKind::Startup, 1_600)
        );
        assert_eq!(records[0].entries_checked, 100);
        // Small and large batches check the same.
        sql(&ledger.store, "DELETE FROM log_verifications").await;
        let whole = check_startup(&ledger.store, &ledger.keys, 1 << 20)
            .await
            .unwrap();
        assert_eq!((whole.tree_size, whole.verified_from), (1_600, 0));
    }

    #[tokio::test]
    async fn changes_after_the_last_verification_stop_the_start() {
        // Entry 1 000 (integrated after the check at 700) changed: named.
        let (_db, ledger) = fresh_ledger().await;
        grow(&ledger, 0, 700).await;
        startup(&ledger).await.unwrap();
        grow(&ledger, 700, 1_300).await;
        sql(&ledger.store, "UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'leerkracht', 'mentor') AS BLOB) WHERE idx = 1000").await;
        let e = startup(&ledger).await.unwrap_err();
        assert!(e.contains("log entry 1000 was changed"), "{e}");
        // Not recorded: the next start checks it again.
        assert_eq!(
            ledger.store.log_verifications().await.unwrap()[0].tree_size,
            700
        );
        assert!(startup(&ledger).await.is_err());

        // A leaf tile after the verified size: the entry it no longer matches is named.
        let (_db, ledger) = fresh_ledger().await;
        grow(&ledger, 0, 700).await;
        startup(&ledger).await.unwrap();
        grow(&ledger, 700, 1_300).await;
        sql(&ledger.store, "UPDATE log_tiles SET hashes = substr(hashes, 1, 96) || zeroblob(32) || substr(hashes, 129) WHERE level = 0 AND idx = 3").await;
        let e = startup(&ledger).await.unwrap_err();
        assert!(e.contains("log entry 771 was changed"), "{e}");

        // An entry that no longer parses; one deleted.
        let (_db, ledger) = fresh_ledger().await;
        grow(&ledger, 0, 1_300).await;
        sql(
            &ledger.store,
            "UPDATE log_entries SET entry = X'7b' WHERE idx = 900",
        )
        .await;
        let e = startup(&ledger).await.unwrap_err();
        assert!(e.contains("log entry 900 is not a valid entry"), "{e}");
        sql(&ledger.store, "DELETE FROM log_entries WHERE idx = 800").await;
        let e = startup(&ledger).await.unwrap_err();
        assert!(e.contains("log entry 800 is missing"), "{e}");
    }

    #[tokio::test]
    async fn the_newest_checkpoint_and_the_tiles_under_its_root_are_checked_every_start() {
        let sqls = [
            // The right-edge leaf tile (entries 1 280..1 299).
            (
                "UPDATE log_tiles SET hashes = zeroblob(32) || substr(hashes, 33) WHERE level = 0 AND idx = 5",
                "disagrees with the signed checkpoint at size 1300",
            ),
            (
                "UPDATE log_tiles SET hashes = X'0102' WHERE level = 0 AND idx = 5",
                "tile 0/5 does not parse",
            ),
            (
                "DELETE FROM log_tiles WHERE level = 1 AND idx = 0",
                "cannot give the root at size 1300",
            ),
            (
                "UPDATE log_checkpoints SET note = replace(note, 'test/log', 'test/LOG') WHERE tree_size = 1300",
                "checkpoint at size 1300 does not verify",
            ),
            (
                "DELETE FROM log_checkpoints WHERE tree_size = 1300",
                "checkpoint of the 1300 integrated entries is missing",
            ),
            (
                "UPDATE log_checkpoints SET tree_size = 5000 WHERE tree_size = 700",
                "newest checkpoint row is not the signed checkpoint",
            ),
            (
                "UPDATE log_integration SET integrated = 700",
                "beyond the 700 integrated",
            ),
            (
                "UPDATE log_integration SET integrated = 0",
                "no entry is integrated",
            ),
            (
                "UPDATE log_verifications SET tree_size = 9000",
                "more than the 1300 integrated",
            ),
        ];
        for (change, expected) in sqls {
            let (_db, ledger) = fresh_ledger().await;
            grow(&ledger, 0, 300).await;
            grow(&ledger, 300, 700).await;
            grow(&ledger, 700, 1_300).await;
            startup(&ledger).await.unwrap();
            sql(&ledger.store, change).await;
            let e = startup(&ledger).await.unwrap_err();
            assert!(e.contains(expected), "{change}: {e}");
        }
    }

    #[tokio::test]
    async fn changes_below_the_verified_size_are_left_to_log_verify() {
        // What the start-up check no longer reads: an entry, a full leaf tile, an older
        // checkpoint. Each passes the start, and `log verify` names it (and records nothing).
        let sqls = [
            (
                "UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'leerkracht', 'mentor') AS BLOB) WHERE idx = 400",
                "log entry 400 was changed",
            ),
            (
                "DELETE FROM log_entries WHERE idx = 10",
                "log entry 10 is missing",
            ),
            (
                "UPDATE log_tiles SET hashes = substr(hashes, 1, 96) || zeroblob(32) || substr(hashes, 129) WHERE level = 0 AND idx = 1",
                "log entry 259 was changed",
            ),
            (
                "UPDATE log_checkpoints SET note = replace(note, 'test/log', 'test/LOG') WHERE tree_size = 700",
                "checkpoint at size 700 does not verify",
            ),
        ];
        for (change, expected) in sqls {
            let (_db, ledger) = fresh_ledger().await;
            grow(&ledger, 0, 700).await;
            grow(&ledger, 700, 1_300).await;
            verify_and_record(&ledger.store, &ledger.keys)
                .await
                .unwrap();
            let before = ledger.store.log_verifications().await.unwrap();
            sql(&ledger.store, change).await;
            let r = startup(&ledger).await.unwrap();
            assert_eq!((r.tree_size, r.verified_from), (1_300, 1_300), "{change}");
            let e = verify_and_record(&ledger.store, &ledger.keys)
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains(expected), "{change}: {e}");
            // The failed verification recorded nothing (the start-up check did, at the same size).
            let after = ledger.store.log_verifications().await.unwrap();
            assert_eq!(
                after.iter().find(|v| v.kind == CheckKind::Full),
                before.iter().find(|v| v.kind == CheckKind::Full)
            );
        }
    }

    #[tokio::test]
    async fn a_tile_changed_under_the_verified_root_is_not_signed_over() {
        // Verified at 700; then entry 522's hash in its leaf tile (full at 768, so not under the
        // root at 1 300) is changed before more entries are integrated.
        let (_db, ledger) = fresh_ledger().await;
        grow(&ledger, 0, 700).await;
        startup(&ledger).await.unwrap();
        sql(&ledger.store, "UPDATE log_tiles SET hashes = substr(hashes, 1, 320) || zeroblob(32) || substr(hashes, 353) WHERE level = 0 AND idx = 2").await;
        // Integration refuses to sign a checkpoint over it.
        let batch: Vec<_> = (700..1_300).map(entry).collect();
        ledger.store.append_log(&batch).await.unwrap();
        let e = ledger.integrate_all().await.unwrap_err().to_string();
        assert!(e.contains("not signing a new checkpoint"), "{e}");
        // Had it been folded in anyway (an older hub), the start-up check names it.
        let (_db, ledger) = fresh_ledger().await;
        grow(&ledger, 0, 700).await;
        startup(&ledger).await.unwrap();
        grow(&ledger, 700, 1_300).await;
        sql(&ledger.store, "UPDATE log_tiles SET hashes = substr(hashes, 1, 320) || zeroblob(32) || substr(hashes, 353) WHERE level = 0 AND idx = 2").await;
        let e = startup(&ledger).await.unwrap_err();
        assert!(
            e.contains("no longer give the root verified at size 700"),
            "{e}"
        );
    }
}
