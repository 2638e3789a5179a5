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
}
