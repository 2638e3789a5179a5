//! Disclosure-log Merkle tree and checkpoint tests: RFC 6962/9162 reference vectors (as used by
//! the Certificate Transparency implementations), a straightforward recursive reference
//! implementation of RFC 9162 §2.1 to compare the tile-based code against, property tests, and
//! checkpoint signing/parsing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use signaalhub_proto::merkle::{
    self, AppendResult, EMPTY_ROOT, Frontier, Hash, MemoryTiles, ProofError, TileError, TileId,
    TileReader, append, consistency_proof, inclusion_proof, inclusion_proofs, leaf_hash, node_hash,
    recompute_root_from_leaves, root, tiles_for_append, tiles_for_consistency_proof,
    tiles_for_inclusion_proof, tiles_for_inclusion_proofs, tiles_for_root, verify_consistency,
    verify_inclusion,
};

// ------------------------------------------------------------------------------------------------
// Reference implementation: RFC 9162 §2.1, literally.
// ------------------------------------------------------------------------------------------------

/// Largest power of two smaller than n (n > 1).
fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH(D[n]) over leaf hashes.
fn ref_mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => EMPTY_ROOT,
        1 => d[0],
        n => {
            let k = k_of(n);
            node_hash(&ref_mth(&d[..k]), &ref_mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]).
fn ref_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = k_of(n);
    if m < k {
        let mut p = ref_path(m, &d[..k]);
        p.push(ref_mth(&d[k..]));
        p
    } else {
        let mut p = ref_path(m - k, &d[k..]);
        p.push(ref_mth(&d[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b).
fn ref_subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { Vec::new() } else { vec![ref_mth(d)] };
    }
    let k = k_of(n);
    if m <= k {
        let mut p = ref_subproof(m, &d[..k], b);
        p.push(ref_mth(&d[k..]));
        p
    } else {
        let mut p = ref_subproof(m - k, &d[k..], false);
        p.push(ref_mth(&d[..k]));
        p
    }
}

/// PROOF(m, D[n]) for 0 < m < n; empty otherwise.
fn ref_consistency(m: usize, d: &[Hash]) -> Vec<Hash> {
    if m == 0 || m == d.len() {
        Vec::new()
    } else {
        ref_subproof(m, d, true)
    }
}

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

fn hx(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn h(s: &str) -> Hash {
    hx(s).try_into().unwrap()
}

/// Synthetic leaf hashes.
fn leaves(n: usize) -> Vec<Hash> {
    (0..n as u64).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

fn build(d: &[Hash], batch: usize) -> MemoryTiles {
    let mut t = MemoryTiles::new();
    for chunk in d.chunks(batch.max(1)) {
        t.append_leaves(chunk).unwrap();
    }
    t
}

/// Counts reads and tracks distinct tiles.
struct Counting<'a> {
    inner: &'a MemoryTiles,
    reads: Cell<usize>,
}

impl TileReader for Counting<'_> {
    fn read_tile(&self, id: TileId) -> Result<Option<Vec<Hash>>, TileError> {
        self.reads.set(self.reads.get() + 1);
        self.inner.read_tile(id)
    }
}

/// Serves only the listed tiles; records any other request.
struct Only<'a> {
    inner: &'a MemoryTiles,
    allowed: HashSet<TileId>,
    refused: RefCell<Vec<TileId>>,
}

impl TileReader for Only<'_> {
    fn read_tile(&self, id: TileId) -> Result<Option<Vec<Hash>>, TileError> {
        if self.allowed.contains(&id) {
            self.inner.read_tile(id)
        } else {
            self.refused.borrow_mut().push(id);
            Ok(None)
        }
    }
}

fn only<'a>(inner: &'a MemoryTiles, ids: Vec<TileId>) -> Only<'a> {
    Only {
        inner,
        allowed: ids.into_iter().collect(),
        refused: RefCell::new(Vec::new()),
    }
}

fn flip(h: &Hash, byte: usize) -> Hash {
    let mut x = *h;
    x[byte % 32] ^= 0x10;
    x
}

/// Every tampering of an inclusion proof that must fail.
fn assert_inclusion_tamper_fails(leaf: &Hash, index: u64, size: u64, proof: &[Hash], rt: &Hash) {
    let bad = |l: &Hash, i: u64, s: u64, p: &[Hash], r: &Hash, what: &str| {
        assert!(
            verify_inclusion(l, i, s, p, r).is_err(),
            "tampered ({what}) inclusion proof verified: index {index} size {size}"
        );
    };
    bad(&flip(leaf, 0), index, size, proof, rt, "leaf");
    bad(leaf, index, size, proof, &flip(rt, 31), "root");
    bad(leaf, index, size, proof, &EMPTY_ROOT, "empty root");
    if index > 0 {
        bad(leaf, index - 1, size, proof, rt, "index - 1");
    }
    if index + 1 < size {
        bad(leaf, index + 1, size, proof, rt, "index + 1");
    }
    if index ^ 2 < size {
        bad(leaf, index ^ 2, size, proof, rt, "index ^ 2");
    }
    bad(leaf, index, size * 2, proof, rt, "size * 2");
    if size / 2 > index {
        bad(leaf, index, size / 2, proof, rt, "size / 2");
    }
    bad(leaf, size, size, proof, rt, "index = size");
    for i in 0..proof.len() {
        let mut p = proof.to_vec();
        p[i] = flip(&p[i], i);
        bad(leaf, index, size, &p, rt, "proof element");
    }
    if !proof.is_empty() {
        bad(
            leaf,
            index,
            size,
            &proof[..proof.len() - 1],
            rt,
            "truncated",
        );
        let mut p = proof.to_vec();
        p.insert(1.min(p.len()), [0xab; 32]);
        bad(leaf, index, size, &p, rt, "inserted");
    }
    let mut p = proof.to_vec();
    p.push(*rt);
    bad(leaf, index, size, &p, rt, "trailing root");
    let mut p = vec![*rt];
    p.extend_from_slice(proof);
    bad(leaf, index, size, &p, rt, "preceding root");
}

/// Every tampering of a (non-trivial) consistency proof that must fail.
fn assert_consistency_tamper_fails(m: u64, n: u64, r1: &Hash, r2: &Hash, proof: &[Hash]) {
    let bad = |a: u64, b: u64, x: &Hash, y: &Hash, p: &[Hash], what: &str| {
        assert!(
            verify_consistency(a, b, x, y, p).is_err(),
            "tampered ({what}) consistency proof verified: {m} -> {n}"
        );
    };
    bad(m - 1, n, r1, r2, proof, "old - 1");
    if m + 1 < n {
        bad(m + 1, n, r1, r2, proof, "old + 1");
    }
    if m ^ 2 != m && m ^ 2 <= n {
        bad(m ^ 2, n, r1, r2, proof, "old ^ 2");
    }
    bad(m, n * 2, r1, r2, proof, "new * 2");
    if n / 2 >= m {
        bad(m, n / 2, r1, r2, proof, "new / 2");
    }
    bad(m, n, &flip(r1, 3), r2, proof, "old root");
    bad(m, n, r1, &flip(r2, 3), proof, "new root");
    bad(m, n, r2, r1, proof, "swapped roots");
    bad(m, n, r1, r2, &[], "empty proof");
    for i in 0..proof.len() {
        let mut p = proof.to_vec();
        p[i] = flip(&p[i], i);
        bad(m, n, r1, r2, &p, "proof element");
    }
    bad(m, n, r1, r2, &proof[..proof.len() - 1], "truncated");
    for extra in [*r1, *r2, [0u8; 32]] {
        let mut p = proof.to_vec();
        p.push(extra);
        bad(m, n, r1, r2, &p, "trailing element");
        let mut p = vec![extra];
        p.extend_from_slice(proof);
        bad(m, n, r1, r2, &p, "preceding element");
    }
    let mut p = vec![proof[0]];
    p.extend_from_slice(proof);
    bad(m, n, r1, r2, &p, "preceding proof[0]");
}

// ------------------------------------------------------------------------------------------------
// Known answers: the Certificate Transparency reference vectors (RFC 6962 test data, as used by
// certificate-transparency and transparency-dev/merkle).
// ------------------------------------------------------------------------------------------------

const CT_INPUTS: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Roots for tree sizes 0..=8.
const CT_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (0-based leaf index, tree size, audit path).
const CT_INCLUSION: [(u64, u64, &[&str]); 5] = [
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, consistency proof).
const CT_CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn ct_leaves() -> Vec<Hash> {
    CT_INPUTS.iter().map(|s| leaf_hash(&hx(s))).collect()
}

#[test]
fn ct_reference_roots() {
    let d = ct_leaves();
    assert_eq!(EMPTY_ROOT, h(CT_ROOTS[0]));
    for (n, want) in CT_ROOTS.iter().enumerate() {
        let want = h(want);
        assert_eq!(ref_mth(&d[..n]), want, "reference implementation, size {n}");
        let tiles = build(&d[..n], 3);
        assert_eq!(root(n as u64, &tiles).unwrap(), want, "tiles, size {n}");
        assert_eq!(
            recompute_root_from_leaves(d[..n].iter().copied()),
            (n as u64, want),
            "streaming, size {n}"
        );
    }
    // Roots of older sizes from the tiles of the full tree.
    let full = build(&d, 8);
    for (n, want) in CT_ROOTS.iter().enumerate() {
        assert_eq!(
            root(n as u64, &full).unwrap(),
            h(want),
            "size {n} from size 8"
        );
    }
    // Leaf hash of the empty entry is SHA-256(0x00), the root of size 1.
    assert_eq!(leaf_hash(b""), h(CT_ROOTS[1]));
}

#[test]
fn ct_reference_inclusion_proofs() {
    let d = ct_leaves();
    let tiles = build(&d, 8);
    for (index, size, path) in CT_INCLUSION {
        let want: Vec<Hash> = path.iter().map(|s| h(s)).collect();
        assert_eq!(
            ref_path(index as usize, &d[..size as usize]),
            want,
            "reference {index}/{size}"
        );
        let got = inclusion_proof(index, size, &tiles).unwrap();
        assert_eq!(got, want, "tiles {index}/{size}");
        let rt = h(CT_ROOTS[size as usize]);
        verify_inclusion(&d[index as usize], index, size, &got, &rt).unwrap();
        assert_inclusion_tamper_fails(&d[index as usize], index, size, &got, &rt);
    }
}

#[test]
fn ct_reference_consistency_proofs() {
    let d = ct_leaves();
    let tiles = build(&d, 8);
    for (m, n, path) in CT_CONSISTENCY {
        let want: Vec<Hash> = path.iter().map(|s| h(s)).collect();
        assert_eq!(
            ref_consistency(m as usize, &d[..n as usize]),
            want,
            "reference {m}->{n}"
        );
        let got = consistency_proof(m, n, &tiles).unwrap();
        assert_eq!(got, want, "tiles {m}->{n}");
        let (r1, r2) = (h(CT_ROOTS[m as usize]), h(CT_ROOTS[n as usize]));
        verify_consistency(m, n, &r1, &r2, &got).unwrap();
        if !got.is_empty() {
            assert_consistency_tamper_fails(m, n, &r1, &r2, &got);
        }
    }
}

#[test]
fn trivial_consistency_cases() {
    let a = [1u8; 32];
    let b = [2u8; 32];
    // Equal sizes: empty proof, equal roots.
    assert_eq!(verify_consistency(5, 5, &a, &a, &[]), Ok(()));
    assert_eq!(
        verify_consistency(5, 5, &a, &b, &[]),
        Err(ProofError::RootMismatch)
    );
    assert_eq!(
        verify_consistency(5, 5, &a, &a, &[a]),
        Err(ProofError::ProofTooLong)
    );
    // From the empty tree: empty proof and the empty root.
    assert_eq!(verify_consistency(0, 9, &EMPTY_ROOT, &b, &[]), Ok(()));
    assert_eq!(
        verify_consistency(0, 0, &EMPTY_ROOT, &EMPTY_ROOT, &[]),
        Ok(())
    );
    assert!(verify_consistency(0, 9, &a, &b, &[]).is_err());
    assert!(verify_consistency(0, 9, &EMPTY_ROOT, &b, &[EMPTY_ROOT]).is_err());
    // Time travel.
    assert_eq!(
        verify_consistency(2, 1, &a, &b, &[a]),
        Err(ProofError::SizeOrder)
    );
    // Non-trivial sizes need a proof.
    assert_eq!(
        verify_consistency(1, 2, &a, &b, &[]),
        Err(ProofError::ProofTooShort)
    );
    // Inclusion in an empty tree, or past the end.
    assert_eq!(
        verify_inclusion(&a, 0, 0, &[], &a),
        Err(ProofError::IndexOutOfRange)
    );
    assert_eq!(
        verify_inclusion(&a, 2, 1, &[], &a),
        Err(ProofError::IndexOutOfRange)
    );
    assert_eq!(verify_inclusion(&a, 0, 1, &[], &a), Ok(()));
    assert_eq!(
        verify_inclusion(&a, 0, 1, &[], &b),
        Err(ProofError::RootMismatch)
    );
    // The tile-side proof builders reject impossible requests.
    let t = build(&leaves(3), 3);
    assert!(matches!(
        inclusion_proof(3, 3, &t),
        Err(TileError::InvalidArgument(_))
    ));
    assert!(matches!(
        consistency_proof(4, 3, &t),
        Err(TileError::InvalidArgument(_))
    ));
    assert_eq!(consistency_proof(0, 3, &t).unwrap(), Vec::<Hash>::new());
    assert_eq!(consistency_proof(3, 3, &t).unwrap(), Vec::<Hash>::new());
}

// ------------------------------------------------------------------------------------------------
// Tile layout, appends, storage contract
// ------------------------------------------------------------------------------------------------

#[test]
fn tile_layout_is_as_documented() {
    let d = leaves(600);
    let t = build(&d, 600);
    // Level 0: leaf hashes 0..256, 256..512, partial 512..600.
    assert_eq!(t.get(TileId { level: 0, index: 0 }).unwrap(), &d[..256]);
    assert_eq!(t.get(TileId { level: 0, index: 1 }).unwrap(), &d[256..512]);
    assert_eq!(t.get(TileId { level: 0, index: 2 }).unwrap(), &d[512..]);
    // Level 1: the level-8 nodes (roots of the full level-0 tiles).
    let l1 = t.get(TileId { level: 1, index: 0 }).unwrap();
    assert_eq!(l1, &[ref_mth(&d[..256]), ref_mth(&d[256..512])]);
    assert_eq!(t.len(), 4);
    assert_eq!(merkle::tile_width(TileId { level: 0, index: 2 }, 600), 88);
    // Encoding for a SQL blob column.
    let blob = merkle::encode_tile(l1);
    assert_eq!(blob.len(), 64);
    assert_eq!(merkle::decode_tile(&blob).unwrap(), l1);
}

#[test]
fn append_result_lists_each_changed_tile_once_in_order() {
    let d = leaves(1000);
    let mut t = build(&d[..300], 300);
    let r: AppendResult = append(300, &d[300..1000], &t).unwrap();
    assert_eq!(r.new_size, 1000);
    assert_eq!(r.root, ref_mth(&d));
    let ids: Vec<TileId> = r.tiles.iter().map(|(id, _)| *id).collect();
    let l = |level, index| TileId { level, index };
    assert_eq!(ids, vec![l(0, 1), l(0, 2), l(0, 3), l(1, 0)]);
    assert_eq!(r.tiles[3].1.len(), 3);
    t.apply(&r);
    assert_eq!(t, build(&d, 1000));
    // An empty append changes nothing and reports the current root.
    let e = append(1000, &[], &t).unwrap();
    assert_eq!((e.new_size, e.root, e.tiles.len()), (1000, ref_mth(&d), 0));
}

#[test]
fn append_detects_missing_or_stale_tiles() {
    let d = leaves(300);
    let t = build(&d, 300);
    // The caller thinks the tree is smaller than what is stored: the right-edge tile is too wide.
    let err = append(290, &d[..1], &t).unwrap_err();
    assert!(
        matches!(
            err,
            TileError::BadWidth {
                width: 44,
                expected: 34,
                ..
            }
        ),
        "{err}"
    );
    // The caller thinks the tree is larger than what is stored.
    let err = append(310, &d[..1], &t).unwrap_err();
    assert!(
        matches!(
            err,
            TileError::BadWidth {
                width: 44,
                expected: 54,
                ..
            }
        ),
        "{err}"
    );
    // The caller thinks the tree ends at a tile boundary, but the next tile already exists.
    let err = append(256, &d[..1], &t).unwrap_err();
    assert!(
        matches!(
            err,
            TileError::BadWidth {
                width: 44,
                expected: 0,
                ..
            }
        ),
        "{err}"
    );
    // A tile the size says must exist is missing.
    let empty = MemoryTiles::new();
    let err = append(5, &d[..1], &empty).unwrap_err();
    assert!(
        matches!(err, TileError::Missing(TileId { level: 0, index: 0 })),
        "{err}"
    );
    assert!(matches!(root(5, &empty), Err(TileError::Missing(_))));
    // A short tile is reported, never a panic.
    let mut short = t.clone();
    short.insert(TileId { level: 0, index: 1 }, d[256..260].to_vec());
    assert!(matches!(root(300, &short), Err(TileError::BadWidth { .. })));
    assert!(matches!(
        inclusion_proof(299, 300, &short),
        Err(TileError::BadWidth { .. })
    ));
    // Overflow of the tree size.
    assert!(matches!(
        append(u64::MAX, &d[..1], &t),
        Err(TileError::TreeTooLarge)
    ));
}

#[test]
fn backend_errors_propagate() {
    struct Failing;
    impl TileReader for Failing {
        fn read_tile(&self, _: TileId) -> Result<Option<Vec<Hash>>, TileError> {
            Err(TileError::Backend("database is locked".into()))
        }
    }
    let err = root(10, &Failing).unwrap_err();
    assert!(err.to_string().contains("database is locked"));
    assert!(std::error::Error::source(&err).is_some());
    // A dyn reader works too.
    let dynamic: &dyn TileReader = &Failing;
    assert!(inclusion_proof(1, 10, dynamic).is_err());
}

#[test]
fn tile_reads_are_logarithmic() {
    let n = 70_000usize; // crosses 256, 65536: three tile levels
    let d = leaves(n);
    let t = build(&d, 4096);
    assert_eq!(t.tree_size(), n as u64);
    let want = recompute_root_from_leaves(d.iter().copied()).1;
    assert_eq!(root(n as u64, &t).unwrap(), want);
    let c = Counting {
        inner: &t,
        reads: Cell::new(0),
    };
    root(n as u64, &c).unwrap();
    assert!(c.reads.get() <= 3, "root: {} reads", c.reads.get());
    for index in [0u64, 1, 255, 256, 65_535, 65_536, 69_999] {
        c.reads.set(0);
        let p = inclusion_proof(index, n as u64, &c).unwrap();
        assert!(
            c.reads.get() <= 6,
            "inclusion {index}: {} reads",
            c.reads.get()
        );
        verify_inclusion(&d[index as usize], index, n as u64, &p, &want).unwrap();
    }
    for m in [1u64, 255, 256, 257, 65_536, 65_537, 69_999] {
        c.reads.set(0);
        let p = consistency_proof(m, n as u64, &c).unwrap();
        assert!(
            c.reads.get() <= 6,
            "consistency {m}: {} reads",
            c.reads.get()
        );
        let old = root(m, &t).unwrap();
        verify_consistency(m, n as u64, &old, &want, &p).unwrap();
    }
    // A batch append reads at most one tile per level.
    c.reads.set(0);
    let more = leaves(n + 70_000);
    let r = append(n as u64, &more[n..], &c).unwrap();
    assert!(c.reads.get() <= 3, "append: {} reads", c.reads.get());
    assert_eq!(r.root, recompute_root_from_leaves(more.iter().copied()).1);
    // Each changed tile appears once.
    let distinct: HashSet<TileId> = r.tiles.iter().map(|(id, _)| *id).collect();
    assert_eq!(distinct.len(), r.tiles.len());
}

#[test]
fn frontier_roots_at_every_size() {
    let d = leaves(600);
    let mut f = Frontier::new();
    assert_eq!(f.root(), EMPTY_ROOT);
    for (i, leaf) in d.iter().enumerate() {
        f.push(*leaf).unwrap();
        assert_eq!(f.size(), i as u64 + 1);
        if i < 70 || i % 37 == 0 || i > 500 {
            assert_eq!(f.root(), ref_mth(&d[..=i]), "size {}", i + 1);
        }
    }
}

/// `cargo test --release -p signaalhub-proto --test merkle -- --ignored --nocapture`
#[test]
#[ignore = "timing: run in release mode"]
fn recompute_root_10_million_timing() {
    let n: u64 = 10_000_000;
    let synthetic = (0..n).map(|i| {
        let mut hsh = [0u8; 32];
        hsh[..8].copy_from_slice(&i.to_le_bytes());
        hsh[24..].copy_from_slice(&(!i).to_le_bytes());
        hsh
    });
    let start = std::time::Instant::now();
    let (size, rt) = recompute_root_from_leaves(synthetic);
    let took = start.elapsed();
    eprintln!(
        "recompute_root_from_leaves: {size} leaves in {:.2?} ({:.0} ns/leaf), root {:02x?}",
        took,
        took.as_nanos() as f64 / n as f64,
        &rt[..4]
    );
    assert_eq!(size, n);
    assert!(took.as_secs() < 30, "too slow: {took:?}");
}

// ------------------------------------------------------------------------------------------------
// Properties
// ------------------------------------------------------------------------------------------------

/// Splits `n` into batches of the given sizes (cycled), covering exactly n.
fn split(n: usize, sizes: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < n {
        let len = sizes[i % sizes.len()].clamp(1, n - at);
        out.push(at..at + len);
        at += len;
        i += 1;
    }
    out
}

fn interesting_size() -> impl Strategy<Value = usize> {
    prop_oneof![
        0usize..=20,
        250usize..=262,
        505usize..=520,
        0usize..=3000,
        // exactly at tile and level boundaries
        Just(256usize),
        Just(512usize),
        Just(256 * 3 + 1),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any batch split gives the same tiles and the same roots as the reference, after every batch.
    #[test]
    fn appends_in_any_split_match_reference(
        n in interesting_size(),
        sizes in proptest::collection::vec(prop_oneof![1usize..=3, 1usize..=300, 200usize..=700], 1..6),
    ) {
        let d = leaves(n);
        let mut t = MemoryTiles::new();
        let mut f = Frontier::new();
        for r in split(n, &sizes) {
            let res = append(t.tree_size(), &d[r.clone()], &t).unwrap();
            prop_assert_eq!(res.new_size, r.end as u64);
            for leaf in &d[r.clone()] { f.push(*leaf).unwrap(); }
            prop_assert_eq!(res.root, f.root());
            t.apply(&res);
        }
        prop_assert_eq!(t.tree_size(), n as u64);
        prop_assert_eq!(root(n as u64, &t).unwrap(), ref_mth(&d));
        prop_assert_eq!(&t, &build(&d, n.max(1)));
        prop_assert_eq!(recompute_root_from_leaves(d.iter().copied()), (n as u64, ref_mth(&d)));
    }

    /// Inclusion proofs from tiles (of the same or a larger tree) equal the reference, verify, and
    /// fail when anything is altered.
    #[test]
    fn inclusion_proofs_verify_and_resist_tampering(
        n in 1usize..=3000,
        extra in prop_oneof![Just(0usize), 0usize..=600],
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..8),
        batch in 1usize..=700,
    ) {
        let d_all = leaves(n + extra);
        let t = build(&d_all, batch);
        let d = &d_all[..n];
        let rt = ref_mth(d);
        prop_assert_eq!(root(n as u64, &t).unwrap(), rt);
        let mut indices: Vec<usize> = picks.iter().map(|p| p.index(n)).collect();
        indices.extend([0, n - 1, n / 2]);
        for i in indices {
            let i64_ = i as u64;
            let p = inclusion_proof(i64_, n as u64, &t).unwrap();
            prop_assert_eq!(&p, &ref_path(i, d));
            prop_assert_eq!(verify_inclusion(&d[i], i64_, n as u64, &p, &rt), Ok(()));
            assert_inclusion_tamper_fails(&d[i], i64_, n as u64, &p, &rt);
            // Prefetching exactly the listed tiles is enough.
            let ids = tiles_for_inclusion_proof(i64_, n as u64).unwrap();
            let o = only(&t, ids);
            prop_assert_eq!(inclusion_proof(i64_, n as u64, &o).unwrap(), p);
            prop_assert!(o.refused.borrow().is_empty());
        }
    }

    /// Proofs of many leaves against one tree size, sharing their tiles and nodes, are each the
    /// reference proof; the listed tiles suffice and each is read once.
    #[test]
    fn batched_inclusion_proofs_equal_single_ones(
        n in 1usize..=3000,
        extra in prop_oneof![Just(0usize), 0usize..=600],
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 0..40),
        batch in 1usize..=700,
    ) {
        let d_all = leaves(n + extra);
        let t = build(&d_all, batch);
        let d = &d_all[..n];
        let mut indices: Vec<u64> = picks.iter().map(|p| p.index(n) as u64).collect();
        indices.extend([n as u64 - 1, 0, (n / 2) as u64, 0]);
        let proofs = inclusion_proofs(&indices, n as u64, &t).unwrap();
        prop_assert_eq!(proofs.len(), indices.len());
        for (i, p) in indices.iter().zip(&proofs) {
            prop_assert_eq!(p, &ref_path(*i as usize, d));
        }
        let ids = tiles_for_inclusion_proofs(&indices, n as u64).unwrap();
        let mut union: Vec<TileId> = indices
            .iter()
            .flat_map(|i| tiles_for_inclusion_proof(*i, n as u64).unwrap())
            .collect();
        union.sort();
        union.dedup();
        prop_assert_eq!(&ids, &union);
        let o = only(&t, ids.clone());
        let counted = Counting { inner: &t, reads: Cell::new(0) };
        prop_assert_eq!(&inclusion_proofs(&indices, n as u64, &o).unwrap(), &proofs);
        prop_assert!(o.refused.borrow().is_empty());
        inclusion_proofs(&indices, n as u64, &counted).unwrap();
        prop_assert_eq!(counted.reads.get(), ids.len());
        // An index beyond the tree is refused, as for one proof.
        prop_assert!(inclusion_proofs(&[0, n as u64], n as u64, &t).is_err());
    }

    /// Consistency proofs between any old <= new verify and fail when altered.
    #[test]
    fn consistency_proofs_verify_and_resist_tampering(
        n in 1usize..=3000,
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..6),
        batch in 1usize..=700,
    ) {
        let d = leaves(n);
        let t = build(&d, batch);
        let r2 = ref_mth(&d);
        let mut olds: Vec<usize> = picks.iter().map(|p| p.index(n) + 1).collect();
        olds.extend([1, n, (n / 256) * 256, 256.min(n)]);
        for m in olds {
            if m == 0 { continue; }
            let p = consistency_proof(m as u64, n as u64, &t).unwrap();
            prop_assert_eq!(&p, &ref_consistency(m, &d));
            let r1 = ref_mth(&d[..m]);
            prop_assert_eq!(root(m as u64, &t).unwrap(), r1);
            prop_assert_eq!(verify_consistency(m as u64, n as u64, &r1, &r2, &p), Ok(()));
            if m < n {
                assert_consistency_tamper_fails(m as u64, n as u64, &r1, &r2, &p);
            }
            let ids = tiles_for_consistency_proof(m as u64, n as u64).unwrap();
            let o = only(&t, ids);
            prop_assert_eq!(consistency_proof(m as u64, n as u64, &o).unwrap(), p);
            prop_assert!(o.refused.borrow().is_empty());
        }
    }

    /// The prefetch lists for root and append are sufficient.
    #[test]
    fn prefetch_lists_suffice(n in interesting_size(), more in 0usize..=600) {
        let d = leaves(n + more);
        let t = build(&d[..n], 97);
        let o = only(&t, tiles_for_root(n as u64));
        prop_assert_eq!(root(n as u64, &o).unwrap(), ref_mth(&d[..n]));
        let o = only(&t, tiles_for_append(n as u64));
        let r = append(n as u64, &d[n..], &o).unwrap();
        prop_assert!(o.refused.borrow().is_empty(), "refused {:?}", o.refused.borrow());
        prop_assert_eq!(r.root, ref_mth(&d));
    }

    /// Arbitrary proofs over arbitrary sizes never panic.
    #[test]
    fn verifiers_never_panic(
        a in any::<u64>(), b in any::<u64>(),
        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..70),
        x in any::<[u8; 32]>(), y in any::<[u8; 32]>(),
    ) {
        let _ = verify_inclusion(&x, a, b, &proof, &y);
        let _ = verify_consistency(a, b, &x, &y, &proof);
        let _ = verify_consistency(a.min(b), a.max(b), &x, &y, &proof);
        let w = merkle::tile_width(TileId { level: (a % 9) as u8, index: b }, a);
        prop_assert!(w <= 256);
    }
}

// ------------------------------------------------------------------------------------------------
// Checkpoints
// ------------------------------------------------------------------------------------------------

mod checkpoints {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::Ed25519KeyPair;
    use signaalhub_proto::checkpoint::{
        Checkpoint, CheckpointError, CheckpointSigner, MAX_NOTE_LEN, PublicKeys, SignedCheckpoint,
        sign, verify, verify_note,
    };

    fn pkcs8() -> Vec<u8> {
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .unwrap()
            .as_ref()
            .to_vec()
    }

    fn sample() -> Checkpoint {
        let d = ct_leaves();
        Checkpoint {
            origin: "signaalhub.example.nl/verstrekkingenlog".into(),
            tree_size: 8,
            root: ref_mth(&d),
            timestamp_unix: 1_767_225_600,
        }
    }

    fn keys(signers: &[&CheckpointSigner]) -> HashMap<String, [u8; 32]> {
        signers
            .iter()
            .map(|s| (s.key_id().to_owned(), s.public_key()))
            .collect()
    }

    #[test]
    fn body_format_is_exact() {
        assert_eq!(
            sample().body(),
            "signaalhub.example.nl/verstrekkingenlog\n8\n\
             XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n1767225600\n"
        );
        assert_eq!(Checkpoint::parse_body(&sample().body()).unwrap(), sample());
    }

    #[test]
    fn sign_parse_verify_round_trip() {
        let signer = CheckpointSigner::from_pkcs8("hub-2026a", &pkcs8()).unwrap();
        let signed = signer.sign(&sample()).unwrap();
        let note = signed.to_note();
        assert!(note.starts_with(&sample().body()));
        assert!(note.contains("\n\n\u{2014} hub-2026a "));
        assert!(note.ends_with('\n'));
        let parsed = SignedCheckpoint::parse(note.as_bytes()).unwrap();
        assert_eq!(parsed, signed);
        assert_eq!(verify(&parsed, &keys(&[&signer])).unwrap(), sample());
        assert_eq!(
            verify_note(note.as_bytes(), &keys(&[&signer])).unwrap(),
            sample()
        );
        // The free function and a closure key lookup work too.
        let pk = signer.public_key();
        let k = pkcs8();
        let s2 = sign(&sample(), "other", &k).unwrap();
        let other_pk = CheckpointSigner::from_pkcs8("other", &k)
            .unwrap()
            .public_key();
        let lookup = |id: &str| (id == "other").then_some(other_pk);
        assert_eq!(verify(&s2, &lookup).unwrap(), sample());
        assert_ne!(pk, other_pk);
    }

    #[test]
    fn tampering_fails() {
        let signer = CheckpointSigner::from_pkcs8("hub-2026a", &pkcs8()).unwrap();
        let ks = keys(&[&signer]);
        let signed = signer.sign(&sample()).unwrap();
        let note = signed.to_note();
        // Body changes.
        let bumped = note.replacen("\n8\n", "\n9\n", 1);
        assert_eq!(
            verify_note(bumped.as_bytes(), &ks),
            Err(CheckpointError::BadSignature)
        );
        let mut other = signed.clone();
        other.checkpoint.timestamp_unix += 1;
        assert_eq!(verify(&other, &ks), Err(CheckpointError::BadSignature));
        let mut other = signed.clone();
        other.checkpoint.root[0] ^= 1;
        assert_eq!(verify(&other, &ks), Err(CheckpointError::BadSignature));
        let mut other = signed.clone();
        other.checkpoint.origin.push('x');
        assert_eq!(verify(&other, &ks), Err(CheckpointError::BadSignature));
        // Signature changes.
        for i in [0, 31, 63] {
            let mut other = signed.clone();
            other.signature[i] ^= 0x40;
            assert_eq!(verify(&other, &ks), Err(CheckpointError::BadSignature));
        }
        // Unknown key id.
        let mut other = signed.clone();
        other.key_id = "hub-2025".into();
        assert_eq!(
            verify(&other, &ks),
            Err(CheckpointError::UnknownKey("hub-2025".into()))
        );
        let none = |_: &str| None;
        assert!(matches!(
            verify(&signed, &none),
            Err(CheckpointError::UnknownKey(_))
        ));
        // Every single-byte corruption of the note is rejected (or is the same checkpoint).
        let bytes = note.as_bytes();
        for i in 0..bytes.len() {
            let mut b = bytes.to_vec();
            b[i] ^= 0x01;
            if let Ok(cp) = verify_note(&b, &ks) {
                panic!("corrupted byte {i} verified: {cp:?}");
            }
        }
    }

    #[test]
    fn old_checkpoints_verify_after_key_rotation() {
        let old = CheckpointSigner::from_pkcs8("hub-2025", &pkcs8()).unwrap();
        let new = CheckpointSigner::from_pkcs8("hub-2026", &pkcs8()).unwrap();
        let before = old.sign(&sample()).unwrap().to_note();
        let mut later = sample();
        later.tree_size = 9;
        later.timestamp_unix += 3600;
        let after = new.sign(&later).unwrap().to_note();
        let both = keys(&[&old, &new]);
        assert_eq!(verify_note(before.as_bytes(), &both).unwrap(), sample());
        assert_eq!(verify_note(after.as_bytes(), &both).unwrap(), later);
        // Without the old key, the old checkpoint is unknown, not "bad".
        let only_new = keys(&[&new]);
        assert!(matches!(
            verify_note(before.as_bytes(), &only_new),
            Err(CheckpointError::UnknownKey(id)) if id == "hub-2025"
        ));
        // Relabelling an old signature with the new key id fails.
        let relabelled = before.replace("hub-2025", "hub-2026");
        assert_eq!(
            verify_note(relabelled.as_bytes(), &both),
            Err(CheckpointError::BadSignature)
        );
        // A BTreeMap works as a key set too.
        let bt: std::collections::BTreeMap<String, [u8; 32]> = both.into_iter().collect();
        assert_eq!(bt.public_key("hub-2025"), Some(old.public_key()));
    }

    #[test]
    fn malformed_notes_are_rejected() {
        let signer = CheckpointSigner::from_pkcs8("k1", &pkcs8()).unwrap();
        let note = signer.sign(&sample()).unwrap().to_note();
        let body = sample().body();
        let sig_line = &note[body.len() + 1..];
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty"),
            (body.clone(), "no signature"),
            (format!("{body}\n"), "blank line, no signature"),
            (note.replace('\n', "\r\n"), "CRLF"),
            (format!("{note}{sig_line}"), "two signature lines"),
            (format!("{note}x"), "trailing data"),
            (note.trim_end().to_owned(), "no final newline"),
            (note.replacen("\n8\n", "\n08\n", 1), "leading zero"),
            (note.replacen("\n8\n", "\n+8\n", 1), "plus sign"),
            (note.replacen("\n8\n", "\n-8\n", 1), "negative size"),
            (
                note.replacen("1767225600", "1767225600.0", 1),
                "fractional time",
            ),
            (
                note.replacen("Qyg=", "Qyh=", 1),
                "non-canonical base64 root",
            ),
            (note.replacen("Qyg=", "Qyg", 1), "unpadded root"),
            (note.replacen("\u{2014} ", "-- ", 1), "ASCII dashes"),
            (
                note.replacen("\u{2014} k1 ", "\u{2014} k1  ", 1),
                "double space",
            ),
            (
                note.replacen("\u{2014} k1 ", "\u{2014}  ", 1),
                "empty key id",
            ),
            (
                note.replacen("\u{2014} k1 ", "\u{2014} k+1 ", 1),
                "plus in key id",
            ),
            (format!("extra\n{note}"), "five body lines"),
            (format!(" {note}"), "origin with leading space"),
            (
                note.replacen("signaalhub", "signaal\u{7}hub", 1),
                "control char in origin",
            ),
            (format!("{}\n{note}", "x".repeat(MAX_NOTE_LEN)), "too large"),
        ];
        for (text, what) in cases {
            assert!(
                SignedCheckpoint::parse(text.as_bytes()).is_err(),
                "accepted malformed note ({what}): {text:?}"
            );
        }
        assert!(SignedCheckpoint::parse(&[0xff, 0xfe, b'\n', b'\n']).is_err());
        // The parser accepts what it produces.
        assert!(SignedCheckpoint::parse(note.as_bytes()).is_ok());
    }

    #[test]
    fn invalid_inputs_to_sign() {
        assert_eq!(
            CheckpointSigner::from_pkcs8("k", b"not a key").unwrap_err(),
            CheckpointError::InvalidSigningKey
        );
        assert_eq!(
            CheckpointSigner::from_pkcs8("a key", &pkcs8()).unwrap_err(),
            CheckpointError::InvalidKeyId
        );
        let signer = CheckpointSigner::from_pkcs8("k", &pkcs8()).unwrap();
        let mut cp = sample();
        cp.origin = "two\nlines".into();
        assert_eq!(
            signer.sign(&cp).unwrap_err(),
            CheckpointError::InvalidOrigin
        );
        cp.origin = String::new();
        assert_eq!(
            signer.sign(&cp).unwrap_err(),
            CheckpointError::InvalidOrigin
        );
        // Extreme numbers round-trip.
        let cp = Checkpoint {
            origin: "o".into(),
            tree_size: u64::MAX,
            root: [0xff; 32],
            timestamp_unix: i64::MIN,
        };
        let note = signer.sign(&cp).unwrap().to_note();
        assert_eq!(verify_note(note.as_bytes(), &keys(&[&signer])).unwrap(), cp);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn garbage_never_panics(s in ".{0,300}", bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = SignedCheckpoint::parse(s.as_bytes());
            let _ = SignedCheckpoint::parse(&bytes);
            let _ = Checkpoint::parse_body(&s);
            let none = |_: &str| None;
            let _ = verify_note(s.as_bytes(), &none);
        }

        #[test]
        fn structured_garbage_never_panics(
            origin in "[^\n]{0,20}", size in "[-+0-9a-z]{0,22}", root in "[A-Za-z0-9+/=]{0,46}",
            ts in "[-+0-9]{0,21}", key in "[ -~]{0,10}", sig in "[A-Za-z0-9+/=]{0,90}",
            dash in prop_oneof![Just("\u{2014} "), Just("- "), Just("\u{2014}")],
        ) {
            let note = format!("{origin}\n{size}\n{root}\n{ts}\n\n{dash}{key} {sig}\n");
            if let Ok(parsed) = SignedCheckpoint::parse(note.as_bytes()) {
                // Whatever parses re-serialises to the same bytes (canonical form).
                prop_assert_eq!(parsed.to_note(), note);
            }
        }

        #[test]
        fn any_checkpoint_round_trips(
            origin in "[a-z0-9./-]{1,40}", tree_size in any::<u64>(),
            root in any::<[u8; 32]>(), ts in any::<i64>(),
        ) {
            let cp = Checkpoint { origin, tree_size, root, timestamp_unix: ts };
            let parsed = Checkpoint::parse_body(&cp.body()).unwrap();
            prop_assert_eq!(parsed, cp);
        }
    }
}
