//! RFC 9162 (Certificate Transparency v2) Merkle hashing for the disclosure log, stored as
//! tlog-tiles style tiles of height 8.
//!
//! * Hashing: [`leaf_hash`] = SHA-256(0x00 || entry), [`node_hash`] = SHA-256(0x01 || l || r), the
//!   empty tree hashes to SHA-256("") ([`EMPTY_ROOT`]); the tree hash of any size is RFC 9162
//!   §2.1.1's MTH.
//! * Tiles: tile `(level L, index N)` holds the hashes of the *complete* nodes at tree level `8·L`
//!   with node indices `N·256 .. N·256+255` (level-0 tiles hold leaf hashes). The rightmost tile of
//!   a level may be partial (fewer than 256 hashes). A stored tile only ever grows by appending.
//! * Proofs: [`inclusion_proof`] / [`consistency_proof`] are computed from tiles with O(log n)
//!   tile reads; [`verify_inclusion`] / [`verify_consistency`] are RFC 9162 §2.1.3.2 / §2.1.4.2.
//!
//! Everything here is pure: storage is reached only through [`TileReader`]. A caller with async
//! storage can prefetch the exact tiles an operation needs ([`tiles_for_root`],
//! [`tiles_for_append`], [`tiles_for_inclusion_proof`], [`tiles_for_consistency_proof`]) into a
//! [`MemoryTiles`] and run the operation against that.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use ring::digest;

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// Height of a tile: a tile spans 8 tree levels and holds up to 256 hashes.
pub const TILE_HEIGHT: u32 = 8;
/// Number of hashes in a full tile (2^[`TILE_HEIGHT`]).
pub const TILE_WIDTH: usize = 1 << TILE_HEIGHT;
/// The highest tile level that can hold a hash for a tree of at most `u64::MAX` leaves
/// (level 7 holds tree level 56).
pub const MAX_TILE_LEVEL: u8 = 7;

/// Root of the empty tree: SHA-256 of the empty string.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// RFC 9162 leaf hash: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[0x00]);
    ctx.update(entry);
    to_hash(ctx.finish())
}

/// RFC 9162 interior node hash: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 0x01;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    to_hash(digest::digest(&digest::SHA256, &buf))
}

fn to_hash(d: digest::Digest) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

// ---------------------------------------------------------------------------------------------
// Streaming root (compact range)
// ---------------------------------------------------------------------------------------------

/// The right frontier of a growing tree (a compact range `[0, size)`): one hash per set bit of
/// `size`, O(log n) memory, no allocation. Push leaf hashes in order; ask for the root at any time.
#[derive(Clone)]
pub struct Frontier {
    size: u64,
    /// `stack[..len]`: roots of the perfect subtrees covering `[0, size)`, largest first.
    stack: [Hash; 64],
    len: usize,
}

impl fmt::Debug for Frontier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frontier")
            .field("size", &self.size)
            .field("subtrees", &self.len)
            .finish()
    }
}

impl Default for Frontier {
    fn default() -> Self {
        Self::new()
    }
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Frontier {
            size: 0,
            stack: [[0u8; 32]; 64],
            len: 0,
        }
    }

    /// Number of leaves pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash. Fails only when the tree already holds `u64::MAX` leaves.
    pub fn push(&mut self, leaf: Hash) -> Result<(), TileError> {
        if self.size == u64::MAX {
            return Err(TileError::TreeTooLarge);
        }
        let mut h = leaf;
        let mut s = self.size;
        // Every trailing 1-bit of the old size is a perfect subtree that now gets a sibling.
        while s & 1 == 1 && self.len > 0 {
            self.len -= 1;
            h = node_hash(&self.stack[self.len], &h);
            s >>= 1;
        }
        // len <= popcount(size) <= 63 here, so the slot exists.
        if let Some(slot) = self.stack.get_mut(self.len) {
            *slot = h;
            self.len += 1;
        }
        self.size += 1;
        Ok(())
    }

    /// The RFC 9162 tree hash of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut it = self.stack[..self.len].iter().rev();
        match it.next() {
            None => EMPTY_ROOT,
            Some(last) => it.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }
}

/// Streams leaf hashes and returns `(tree_size, root)`, in O(log n) memory and without allocating
/// per leaf. Used by `signaalhub log verify` to recompute the root from the stored entries.
///
/// Stops counting at `u64::MAX` leaves (unreachable in practice).
pub fn recompute_root_from_leaves(leaf_hashes: impl Iterator<Item = Hash>) -> (u64, Hash) {
    let mut f = Frontier::new();
    for h in leaf_hashes {
        if f.push(h).is_err() {
            break;
        }
    }
    (f.size(), f.root())
}

// ---------------------------------------------------------------------------------------------
// Tiles
// ---------------------------------------------------------------------------------------------

/// Identifies a tile: `level` L holds tree level 8·L, `index` N holds node indices
/// `N·256 .. N·256+255` of that tree level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Tile level (tree level / 8), 0 ..= [`MAX_TILE_LEVEL`].
    pub level: u8,
    /// Tile index within the level.
    pub index: u64,
}

/// Errors from tile-based operations.
#[derive(Debug)]
#[non_exhaustive]
pub enum TileError {
    /// The reader has no tile with this id, but the tree size says it must exist.
    Missing(TileId),
    /// The stored tile has an impossible width: shorter than the tree size requires, wider than
    /// [`TILE_WIDTH`], or (when appending) wider than the tree size allows.
    BadWidth {
        /// The tile.
        id: TileId,
        /// How many hashes the reader returned.
        width: usize,
        /// How many hashes were required (at least, or exactly when appending).
        expected: usize,
    },
    /// A stored tile blob is not a whole number of 32-byte hashes, or is too long.
    BadEncoding {
        /// Length of the blob in bytes.
        len: usize,
    },
    /// The arguments do not describe a valid proof request (e.g. `index >= tree_size`).
    InvalidArgument(&'static str),
    /// The tree would exceed `u64::MAX` leaves.
    TreeTooLarge,
    /// The storage backend failed.
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for TileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TileError::Missing(id) => {
                write!(
                    f,
                    "tile (level {}, index {}) is missing",
                    id.level, id.index
                )
            }
            TileError::BadWidth {
                id,
                width,
                expected,
            } => write!(
                f,
                "tile (level {}, index {}) holds {width} hashes, {expected} expected",
                id.level, id.index
            ),
            TileError::BadEncoding { len } => {
                write!(
                    f,
                    "tile blob of {len} bytes is not 1..=256 hashes of 32 bytes"
                )
            }
            TileError::InvalidArgument(why) => write!(f, "invalid argument: {why}"),
            TileError::TreeTooLarge => f.write_str("tree would exceed 2^64-1 leaves"),
            TileError::Backend(e) => write!(f, "tile storage failed: {e}"),
        }
    }
}

impl std::error::Error for TileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TileError::Backend(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

/// Read access to stored tiles.
///
/// `read_tile` returns the hashes stored for the tile (1 ..= 256 of them, in node-index order), or
/// `None` if there is no such tile. A tile stored for a newer (larger) tree is fine for proofs
/// about an older tree size: tiles only grow by appending.
pub trait TileReader {
    /// Returns the stored hashes of the tile, possibly a partial tile, or `None`.
    fn read_tile(&self, id: TileId) -> Result<Option<Vec<Hash>>, TileError>;

    /// The tile's hashes where the reader holds them in memory (then they are used in place
    /// instead of copied by [`TileReader::read_tile`]); `None` otherwise.
    fn tile_ref(&self, _id: TileId) -> Option<&[Hash]> {
        None
    }
}

impl<T: TileReader + ?Sized> TileReader for &T {
    fn read_tile(&self, id: TileId) -> Result<Option<Vec<Hash>>, TileError> {
        (**self).read_tile(id)
    }
    fn tile_ref(&self, id: TileId) -> Option<&[Hash]> {
        (**self).tile_ref(id)
    }
}

/// Number of hashes tile `id` holds in a tree of `tree_size` leaves (0 if it does not exist).
pub fn tile_width(id: TileId, tree_size: u64) -> usize {
    let nodes = tree_size
        .checked_shr(TILE_HEIGHT * u32::from(id.level))
        .unwrap_or(0);
    let first = match id.index.checked_mul(TILE_WIDTH as u64) {
        Some(f) => f,
        None => return 0,
    };
    // min(256, nodes - first) fits in usize.
    nodes.saturating_sub(first).min(TILE_WIDTH as u64) as usize
}

/// Encodes a tile for storage: the concatenation of its 32-byte hashes (32 · width bytes).
pub fn encode_tile(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

/// Decodes a stored tile blob produced by [`encode_tile`].
pub fn decode_tile(blob: &[u8]) -> Result<Vec<Hash>, TileError> {
    if blob.is_empty() || !blob.len().is_multiple_of(32) || blob.len() > 32 * TILE_WIDTH {
        return Err(TileError::BadEncoding { len: blob.len() });
    }
    Ok(blob
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect())
}

/// The outcome of [`append`]: the new tree size and root, and every tile that changed, with its
/// complete new content (so the caller can upsert one row per tile). Tiles are ordered by level,
/// then index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendResult {
    /// Tree size after the append.
    pub new_size: u64,
    /// Root of the tree after the append.
    pub root: Hash,
    /// Every changed or new tile with its full content (1 ..= 256 hashes).
    pub tiles: Vec<(TileId, Vec<Hash>)>,
}

/// Hashes `2^r` consecutive hashes up `r` levels (`hashes.len()` must be a power of two ≤ 256).
fn hash_up(hashes: &[Hash]) -> Hash {
    match hashes {
        [] => EMPTY_ROOT,
        [one] => *one,
        _ => {
            let mut buf = [[0u8; 32]; TILE_WIDTH / 2];
            let mut n = 0;
            for (slot, pair) in buf.iter_mut().zip(hashes.chunks_exact(2)) {
                *slot = node_hash(&pair[0], &pair[1]);
                n += 1;
            }
            while n > 1 {
                for i in 0..n / 2 {
                    buf[i] = node_hash(&buf[2 * i], &buf[2 * i + 1]);
                }
                n /= 2;
            }
            buf[0]
        }
    }
}

/// The complete nodes above a tile's hashes inside the tile, hashed once when the tile is first
/// used: `up[r - 1][j]` is the node `r` tree levels above the tile's row, covering the tile's
/// hashes `j·2^r .. (j+1)·2^r`.
struct Inner {
    width: usize,
    up: Vec<Vec<Hash>>,
}

/// Reads tiles through a [`TileReader`] for one or more operations on one tree, optionally
/// consulting freshly computed tiles first (during [`append`]). Each tile is read once and its
/// inner nodes hashed once, and each subtree range hashed once: proofs of many leaves against one
/// tree size ([`inclusion_proofs`]) share every node they have in common. Tiles the reader holds
/// in memory ([`TileReader::tile_ref`]) are used where they are, not copied.
struct Tiles<'a, R: TileReader + ?Sized> {
    reader: &'a R,
    overlay: Option<&'a [(TileId, Vec<Hash>)]>,
    /// Only which tiles are read matters ([`record`]): for a tree of this size, nothing is read
    /// or hashed, the tiles asked for are noted in `seen`.
    recording: Option<u64>,
    seen: RefCell<Vec<TileId>>,
    owned: RefCell<HashMap<TileId, std::rc::Rc<Vec<Hash>>>>,
    inner: RefCell<HashMap<TileId, std::rc::Rc<Inner>>>,
    ranges: RefCell<HashMap<(u64, u64), Hash>>,
}

impl<'a, R: TileReader + ?Sized> Tiles<'a, R> {
    fn new(reader: &'a R) -> Self {
        Tiles {
            reader,
            overlay: None,
            recording: None,
            seen: RefCell::new(Vec::new()),
            owned: RefCell::new(HashMap::new()),
            inner: RefCell::new(HashMap::new()),
            ranges: RefCell::new(HashMap::new()),
        }
    }

    /// Calls `f` with the hashes of tile `id` (read once).
    fn with_hashes<T>(&self, id: TileId, f: impl FnOnce(&[Hash]) -> T) -> Result<T, TileError> {
        if let Some((_, t)) = self.overlay.and_then(|o| o.iter().find(|(i, _)| *i == id)) {
            return Ok(f(t));
        }
        if let Some(t) = self.reader.tile_ref(id) {
            return Ok(f(t));
        }
        let cached = self.owned.borrow().get(&id).cloned();
        let t = match cached {
            Some(t) => t,
            None => {
                let t = std::rc::Rc::new(self.reader.read_tile(id)?.ok_or(TileError::Missing(id))?);
                self.owned.borrow_mut().insert(id, t.clone());
                t
            }
        };
        Ok(f(&t))
    }

    /// Tile `id`'s inner nodes; the tile must hold at least `need` hashes.
    fn inner(&self, id: TileId, need: usize) -> Result<std::rc::Rc<Inner>, TileError> {
        let cached = self.inner.borrow().get(&id).cloned();
        let inner = match cached {
            Some(i) => i,
            None => {
                let inner = match self.recording {
                    Some(size) => {
                        self.seen.borrow_mut().push(id);
                        match tile_width(id, size) {
                            0 => return Err(TileError::Missing(id)),
                            width => Inner {
                                width,
                                up: Vec::new(),
                            },
                        }
                    }
                    None => self.with_hashes(id, |t| {
                        let mut up: Vec<Vec<Hash>> = Vec::new();
                        if t.len() <= TILE_WIDTH {
                            let mut row = t;
                            while row.len() >= 2 {
                                up.push(
                                    row.chunks_exact(2)
                                        .map(|p| node_hash(&p[0], &p[1]))
                                        .collect(),
                                );
                                row = up.last().map_or(&[], Vec::as_slice);
                            }
                        }
                        Inner { width: t.len(), up }
                    })?,
                };
                let inner = std::rc::Rc::new(inner);
                self.inner.borrow_mut().insert(id, inner.clone());
                inner
            }
        };
        if inner.width < need || inner.width > TILE_WIDTH {
            return Err(TileError::BadWidth {
                id,
                width: inner.width,
                expected: need,
            });
        }
        Ok(inner)
    }

    /// Hash of the complete node at tree level `k`, index `i`.
    fn node(&self, k: u32, i: u64) -> Result<Hash, TileError> {
        let level = k / TILE_HEIGHT;
        let r = k % TILE_HEIGHT;
        let first = i
            .checked_shl(r)
            .filter(|f| f >> r == i)
            .ok_or(TileError::InvalidArgument("node index out of range"))?;
        let id = TileId {
            level: u8::try_from(level).map_err(|_| TileError::InvalidArgument("level"))?,
            index: first >> TILE_HEIGHT,
        };
        let off = (first % TILE_WIDTH as u64) as usize;
        let inner = self.inner(id, off + (1usize << r))?;
        if self.recording.is_some() {
            return Ok([0u8; 32]);
        }
        let missing = TileError::InvalidArgument("node index out of range");
        if r == 0 {
            // The tile holds `off + 1` hashes (checked above).
            return self
                .with_hashes(id, |t| t.get(off).copied())?
                .ok_or(missing);
        }
        // The tile holds `off + 2^r` hashes, so row `r` holds node `off >> r`.
        inner
            .up
            .get(r as usize - 1)
            .and_then(|row| row.get(off >> r))
            .copied()
            .ok_or(missing)
    }

    /// MTH(D[start:end]) where `start` is a multiple of the largest power of two ≤ `end - start`
    /// (true for every subtree RFC 9162's proofs use). Complete nodes are read from tiles.
    fn range(&self, start: u64, end: u64) -> Result<Hash, TileError> {
        if end <= start {
            return Err(TileError::InvalidArgument("empty range"));
        }
        if let Some(h) = self.ranges.borrow().get(&(start, end)) {
            return Ok(*h);
        }
        let size = end - start;
        let top = 63 - size.leading_zeros();
        if !start.is_multiple_of(1u64 << top) {
            return Err(TileError::InvalidArgument("unaligned range"));
        }
        // Decompose [start, end) into perfect subtrees, largest first, then fold right-to-left.
        let mut parts: [Hash; 64] = [[0u8; 32]; 64];
        let mut n = 0;
        let mut pos = start;
        for k in (0..=top).rev() {
            if (size >> k) & 1 == 1 {
                parts[n] = self.node(k, pos >> k)?;
                n += 1;
                pos += 1u64 << k;
            }
        }
        let mut it = parts[..n].iter().rev();
        let last = it.next().copied().unwrap_or(EMPTY_ROOT);
        let h = it.fold(last, |acc, left| node_hash(left, &acc));
        self.ranges.borrow_mut().insert((start, end), h);
        Ok(h)
    }
}

/// Largest power of two strictly less than `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The RFC 9162 §2.1.1 tree hash of the first `tree_size` leaves, from tiles (at most one tile
/// read per tile level, so at most 8).
pub fn root<R: TileReader + ?Sized>(tree_size: u64, reader: &R) -> Result<Hash, TileError> {
    root_in(&Tiles::new(reader), tree_size)
}

fn root_in<R: TileReader + ?Sized>(t: &Tiles<'_, R>, tree_size: u64) -> Result<Hash, TileError> {
    if tree_size == 0 {
        return Ok(EMPTY_ROOT);
    }
    t.range(0, tree_size)
}

/// Appends `new_leaf_hashes` to a tree of `tree_size` leaves stored in `reader`.
///
/// Reads at most one tile per tile level (the partial right-edge tile, only where new hashes land
/// in it) and returns every tile that changed with its complete content, the new size and the new
/// root. Nothing is written: the caller stores `tiles` (upsert by `(level, index)`) and the new
/// size atomically. The caller must serialise appends; a right-edge tile wider than `tree_size`
/// allows is reported as [`TileError::BadWidth`] (a stale `tree_size`).
pub fn append<R: TileReader + ?Sized>(
    tree_size: u64,
    new_leaf_hashes: &[Hash],
    reader: &R,
) -> Result<AppendResult, TileError> {
    let new_size = tree_size
        .checked_add(new_leaf_hashes.len() as u64)
        .ok_or(TileError::TreeTooLarge)?;
    let mut tiles: Vec<(TileId, Vec<Hash>)> = Vec::new();
    // New hashes at tree level 8·L (node indices old_count .. new_count).
    let mut fresh: Vec<Hash> = new_leaf_hashes.to_vec();
    for level in 0..=MAX_TILE_LEVEL {
        let shift = TILE_HEIGHT * u32::from(level);
        let old_count = tree_size >> shift;
        let new_count = new_size >> shift;
        if new_count == old_count {
            break;
        }
        debug_assert_eq!(fresh.len() as u64, new_count - old_count);
        let first_tile = old_count >> TILE_HEIGHT;
        let kept = (old_count % TILE_WIDTH as u64) as usize;
        let mut row: Vec<Hash> = Vec::with_capacity(kept + fresh.len());
        // The right-edge tile must hold exactly the `kept` hashes the old size implies (and must
        // not exist when `kept` is 0): otherwise `tree_size` is stale and we would rewrite history.
        let id = TileId {
            level,
            index: first_tile,
        };
        let stored = reader.read_tile(id)?;
        let width = stored.as_ref().map_or(0, Vec::len);
        if width != kept {
            return Err(match stored {
                None => TileError::Missing(id),
                Some(_) => TileError::BadWidth {
                    id,
                    width,
                    expected: kept,
                },
            });
        }
        if let Some(t) = stored {
            row.extend_from_slice(&t);
        }
        row.append(&mut fresh);
        // `fresh` is now empty and collects the next level's new hashes: one per tile completed.
        for (n, chunk) in row.chunks(TILE_WIDTH).enumerate() {
            if chunk.len() == TILE_WIDTH {
                fresh.push(hash_up(chunk));
            }
            tiles.push((
                TileId {
                    level,
                    index: first_tile + n as u64,
                },
                chunk.to_vec(),
            ));
        }
    }
    let root = if new_size == 0 {
        EMPTY_ROOT
    } else {
        let view = Tiles {
            overlay: Some(&tiles),
            ..Tiles::new(reader)
        };
        view.range(0, new_size)?
    };
    Ok(AppendResult {
        new_size,
        root,
        tiles,
    })
}

/// RFC 9162 §2.1.3.1 inclusion proof (audit path) for leaf `index` in the tree of `tree_size`
/// leaves, from tiles (O(log n) tile reads, at most two per tile level). Ordered from the leaf
/// upwards, as the verifier consumes it.
pub fn inclusion_proof<R: TileReader + ?Sized>(
    index: u64,
    tree_size: u64,
    reader: &R,
) -> Result<Vec<Hash>, TileError> {
    proof_in(&Tiles::new(reader), index, tree_size)
}

fn proof_in<R: TileReader + ?Sized>(
    t: &Tiles<'_, R>,
    index: u64,
    tree_size: u64,
) -> Result<Vec<Hash>, TileError> {
    if index >= tree_size {
        return Err(TileError::InvalidArgument("index >= tree_size"));
    }
    let mut proof = Vec::new();
    path(t, index, 0, tree_size, &mut proof)?;
    Ok(proof)
}

/// Inclusion proofs for several leaves of the tree of `tree_size` leaves, in the order of
/// `indices`, each as [`inclusion_proof`] gives it. They share their work: every tile is read
/// once and every node the proofs have in common is hashed once (a subject access report proves
/// a page of entries against one checkpoint).
pub fn inclusion_proofs<R: TileReader + ?Sized>(
    indices: &[u64],
    tree_size: u64,
    reader: &R,
) -> Result<Vec<Vec<Hash>>, TileError> {
    let tiles = Tiles::new(reader);
    indices
        .iter()
        .map(|&index| proof_in(&tiles, index, tree_size))
        .collect()
}

/// PATH(m, D[start:end]), appending the deepest element first.
fn path<R: TileReader + ?Sized>(
    t: &Tiles<'_, R>,
    m: u64,
    start: u64,
    end: u64,
    out: &mut Vec<Hash>,
) -> Result<(), TileError> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        path(t, m, start, start + k, out)?;
        out.push(t.range(start + k, end)?);
    } else {
        path(t, m - k, start + k, end, out)?;
        out.push(t.range(start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.1 consistency proof between the trees of `old_size` and `new_size` leaves,
/// from tiles (O(log n) tile reads). Empty when `old_size` is 0 or equals `new_size`.
pub fn consistency_proof<R: TileReader + ?Sized>(
    old_size: u64,
    new_size: u64,
    reader: &R,
) -> Result<Vec<Hash>, TileError> {
    consistency_in(&Tiles::new(reader), old_size, new_size)
}

fn consistency_in<R: TileReader + ?Sized>(
    t: &Tiles<'_, R>,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, TileError> {
    if old_size > new_size {
        return Err(TileError::InvalidArgument("old_size > new_size"));
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    let mut proof = Vec::new();
    subproof(t, old_size, 0, new_size, true, &mut proof)?;
    Ok(proof)
}

/// SUBPROOF(m, D[start:end], b), appending the deepest element first.
fn subproof<R: TileReader + ?Sized>(
    t: &Tiles<'_, R>,
    m: u64,
    start: u64,
    end: u64,
    b: bool,
    out: &mut Vec<Hash>,
) -> Result<(), TileError> {
    let n = end - start;
    if m == n {
        if !b {
            out.push(t.range(start, end)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(t, m, start, start + k, b, out)?;
        out.push(t.range(start + k, end)?);
    } else {
        subproof(t, m - k, start + k, end, false, out)?;
        out.push(t.range(start, start + k)?);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Which tiles an operation reads (for prefetching from async storage)
// ---------------------------------------------------------------------------------------------

/// Runs `op` as if on the tiles of a tree of `tree_size` leaves, reading and hashing nothing,
/// and returns the tiles it would read, sorted.
fn record<T>(
    tree_size: u64,
    op: impl FnOnce(&Tiles<'_, MemoryTiles>) -> Result<T, TileError>,
) -> Result<Vec<TileId>, TileError> {
    let nothing = MemoryTiles::new();
    let tiles = Tiles {
        recording: Some(tree_size),
        ..Tiles::new(&nothing)
    };
    op(&tiles)?;
    // `Tiles` notes each tile once; sorted for the caller.
    let mut ids = tiles.seen.into_inner();
    ids.sort();
    Ok(ids)
}

/// The tiles [`root`] reads for `tree_size` (the partial right-edge tile of each level; ≤ 8).
pub fn tiles_for_root(tree_size: u64) -> Vec<TileId> {
    record(tree_size, |t| root_in(t, tree_size)).unwrap_or_default()
}

/// The tiles [`append`] may read when appending to a tree of `tree_size` leaves, whatever the
/// batch: the right-edge tile of every level, `(L, (tree_size >> 8L) >> 8)` for L = 0..=7. Those
/// that are partial must exist; those that would be empty must not (append checks both).
pub fn tiles_for_append(tree_size: u64) -> Vec<TileId> {
    (0..=MAX_TILE_LEVEL)
        .map(|level| TileId {
            level,
            index: (tree_size >> (TILE_HEIGHT * u32::from(level))) >> TILE_HEIGHT,
        })
        .collect()
}

/// The tiles [`inclusion_proof`] reads for `(index, tree_size)`.
pub fn tiles_for_inclusion_proof(index: u64, tree_size: u64) -> Result<Vec<TileId>, TileError> {
    record(tree_size, |t| proof_in(t, index, tree_size))
}

/// The tiles [`inclusion_proofs`] reads for `(indices, tree_size)`, each once.
pub fn tiles_for_inclusion_proofs(
    indices: &[u64],
    tree_size: u64,
) -> Result<Vec<TileId>, TileError> {
    record(tree_size, |t| {
        indices
            .iter()
            .try_for_each(|&index| proof_in(t, index, tree_size).map(|_| ()))
    })
}

/// The tiles [`consistency_proof`] reads for `(old_size, new_size)`.
pub fn tiles_for_consistency_proof(old_size: u64, new_size: u64) -> Result<Vec<TileId>, TileError> {
    record(new_size, |t| consistency_in(t, old_size, new_size))
}

// ---------------------------------------------------------------------------------------------
// In-memory tiles
// ---------------------------------------------------------------------------------------------

/// Tiles kept in a `HashMap`, for tests, tooling (`log verify`) and as a prefetch buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTiles {
    tiles: HashMap<TileId, Vec<Hash>>,
    tree_size: u64,
}

impl MemoryTiles {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tree size after the last [`MemoryTiles::apply`].
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// Stores every tile of an [`AppendResult`] and adopts its tree size.
    pub fn apply(&mut self, result: &AppendResult) {
        for (id, hashes) in &result.tiles {
            self.tiles.insert(*id, hashes.clone());
        }
        self.tree_size = result.new_size;
    }

    /// Appends leaf hashes (through [`append`] and [`MemoryTiles::apply`]); returns the new root.
    pub fn append_leaves(&mut self, leaf_hashes: &[Hash]) -> Result<Hash, TileError> {
        let result = append(self.tree_size, leaf_hashes, &*self)?;
        self.apply(&result);
        Ok(result.root)
    }

    /// Inserts (or replaces) one tile, e.g. when prefetching from storage.
    pub fn insert(&mut self, id: TileId, hashes: Vec<Hash>) {
        self.tiles.insert(id, hashes);
    }

    /// Removes a tile and returns its hashes. A complete tile left of the right edge is never
    /// read again by [`append`], so a long recomputation (`log verify`) can drop tiles once it
    /// has checked them and keep its memory small.
    pub fn remove(&mut self, id: TileId) -> Option<Vec<Hash>> {
        self.tiles.remove(&id)
    }

    /// The stored hashes of a tile.
    pub fn get(&self, id: TileId) -> Option<&[Hash]> {
        self.tiles.get(&id).map(Vec::as_slice)
    }

    /// Number of stored tiles.
    pub fn len(&self) -> usize {
        self.tiles.len()
    }

    /// True when no tile is stored.
    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }

    /// All stored tiles, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (TileId, &[Hash])> {
        self.tiles.iter().map(|(id, h)| (*id, h.as_slice()))
    }
}

impl TileReader for MemoryTiles {
    fn read_tile(&self, id: TileId) -> Result<Option<Vec<Hash>>, TileError> {
        Ok(self.tiles.get(&id).cloned())
    }
    fn tile_ref(&self, id: TileId) -> Option<&[Hash]> {
        self.tiles.get(&id).map(Vec::as_slice)
    }
}

// ---------------------------------------------------------------------------------------------
// Verification (RFC 9162 §2.1.3.2 and §2.1.4.2)
// ---------------------------------------------------------------------------------------------

/// Why a proof did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// `index >= tree_size`.
    IndexOutOfRange,
    /// `old_size > new_size`.
    SizeOrder,
    /// The proof has more elements than the tree sizes allow.
    ProofTooLong,
    /// The proof has fewer elements than the tree sizes require.
    ProofTooShort,
    /// The proof is well-formed but the recomputed root(s) differ.
    RootMismatch,
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProofError::IndexOutOfRange => "leaf index is not below the tree size",
            ProofError::SizeOrder => "old tree size is larger than new tree size",
            ProofError::ProofTooLong => "proof has too many elements",
            ProofError::ProofTooShort => "proof has too few elements",
            ProofError::RootMismatch => "proof does not lead to the expected root",
        })
    }
}

impl std::error::Error for ProofError {}

/// Verifies an inclusion proof exactly as RFC 9162 §2.1.3.2.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= tree_size {
        return Err(ProofError::IndexOutOfRange);
    }
    let mut fnode = index;
    let mut snode = tree_size - 1;
    let mut r = *leaf_hash;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::ProofTooShort);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof exactly as RFC 9162 §2.1.4.2, plus the trivial cases the RFC
/// leaves out: `old_size == new_size` needs an empty proof and equal roots; `old_size == 0` needs
/// an empty proof and `old_root == EMPTY_ROOT` (the empty tree is a prefix of every tree).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizeOrder);
    }
    if old_size == new_size || old_size == 0 {
        if !proof.is_empty() {
            return Err(ProofError::ProofTooLong);
        }
        let ok = if old_size == 0 {
            *old_root == EMPTY_ROOT
        } else {
            old_root == new_root
        };
        return if ok {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    // 1. An empty consistency_path fails.
    let Some((head, tail)) = proof.split_first() else {
        return Err(ProofError::ProofTooShort);
    };
    // 2. If first is an exact power of 2, prepend first_hash.
    let (first_value, rest): (&Hash, &[Hash]) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (head, tail)
    };
    // 3.
    let mut fnode = old_size - 1;
    let mut snode = new_size - 1;
    // 4.
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // 5.
    let mut fr = *first_value;
    let mut sr = *first_value;
    // 6.
    for c in rest {
        if snode == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // 7.
    if snode != 0 {
        return Err(ProofError::ProofTooShort);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            EMPTY_ROOT,
            to_hash(digest::digest(&digest::SHA256, b"")),
            "EMPTY_ROOT constant"
        );
    }

    #[test]
    fn hash_up_matches_pairwise() {
        let hs: Vec<Hash> = (0u8..8).map(|i| leaf_hash(&[i])).collect();
        let l = node_hash(&node_hash(&hs[0], &hs[1]), &node_hash(&hs[2], &hs[3]));
        let r = node_hash(&node_hash(&hs[4], &hs[5]), &node_hash(&hs[6], &hs[7]));
        assert_eq!(hash_up(&hs), node_hash(&l, &r));
        assert_eq!(hash_up(&hs[..1]), hs[0]);
    }

    #[test]
    fn tile_width_edges() {
        let id = |level, index| TileId { level, index };
        assert_eq!(tile_width(id(0, 0), 0), 0);
        assert_eq!(tile_width(id(0, 0), 5), 5);
        assert_eq!(tile_width(id(0, 0), 300), 256);
        assert_eq!(tile_width(id(0, 1), 300), 44);
        assert_eq!(tile_width(id(1, 0), 300), 1);
        assert_eq!(tile_width(id(1, 0), 255), 0);
        assert_eq!(tile_width(id(7, 0), u64::MAX), 255);
        assert_eq!(tile_width(id(8, 0), u64::MAX), 0);
        assert_eq!(tile_width(id(0, u64::MAX), u64::MAX), 0);
    }

    #[test]
    fn tiles_for_append_lists_right_edges() {
        let id = |level, index| TileId { level, index };
        let t = tiles_for_append(257 + 256 * 256);
        assert_eq!(t.len(), 8);
        assert_eq!(&t[..4], &[id(0, 257), id(1, 1), id(2, 0), id(3, 0)]);
        assert_eq!(tiles_for_append(0)[0], id(0, 0));
    }

    #[test]
    fn decode_rejects_bad_blobs() {
        assert!(decode_tile(&[]).is_err());
        assert!(decode_tile(&[0u8; 33]).is_err());
        assert!(decode_tile(&vec![0u8; 32 * 257]).is_err());
        let hs = vec![[7u8; 32], [9u8; 32]];
        assert_eq!(decode_tile(&encode_tile(&hs)).unwrap(), hs);
    }
}
