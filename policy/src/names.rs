//! A small read-only interning table for the hot path of a decision.
//!
//! The names of a convenant (sectors, roles, purposes, categories, bases, party OINs) are known when
//! it is compiled and requests only look them up. Each name is reduced to two words — the first and
//! the last eight bytes (shorter names are packed into the first word) — plus its length, and for
//! names of 17 to 32 bytes two more words covering the middle. A name of at most 32 bytes is equal
//! to a table entry exactly when those words and the length are equal, so a lookup hashes two words
//! and compares a few integers: no byte loop, no `memcmp` call and no pointer to follow. Longer
//! names are confirmed with a full byte comparison.
//!
//! The table is open addressing with linear probing, at most a quarter full, built once from
//! trusted input; a lookup never inserts, so request strings cannot degrade it.

/// A word pair summarising a name (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    a: u64,
    b: u64,
    /// For names of 17 to 32 bytes the middle words (bytes 8..16 and len-16..len-8), so that the
    /// key is exact up to 32 bytes and a lookup follows no pointer to confirm; zero otherwise.
    c: u64,
    d: u64,
    len: usize,
}

#[inline(always)]
fn le64(s: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(src) = s.get(at..at + 8) {
        w.copy_from_slice(src);
    }
    u64::from_le_bytes(w)
}

#[inline(always)]
fn le32(s: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 4];
    if let Some(src) = s.get(at..at + 4) {
        w.copy_from_slice(src);
    }
    u64::from(u32::from_le_bytes(w))
}

#[inline(always)]
fn key(s: &[u8]) -> Key {
    let len = s.len();
    let (a, b) = if len >= 8 {
        (le64(s, 0), le64(s, len - 8))
    } else if len >= 4 {
        // Two overlapping 4-byte reads cover every byte; with the length they are injective.
        (le32(s, 0) | (le32(s, len - 4) << 32), 0)
    } else if len > 0 {
        let at = |i: usize| u64::from(s.get(i).copied().unwrap_or(0));
        (at(0) | (at(len / 2) << 8) | (at(len - 1) << 16), 0)
    } else {
        (0, 0)
    };
    let (c, d) = if len > 16 && len <= 32 {
        (le64(s, 8), le64(s, len - 16))
    } else {
        (0, 0)
    };
    Key { a, b, c, d, len }
}

/// Byte equality for short strings (names, references), inline: eight bytes at a time, without
/// calling `memcmp`.
#[inline(always)]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        if n >= 4 {
            return le32(a, 0) == le32(b, 0) && le32(a, n - 4) == le32(b, n - 4);
        }
        return a == b;
    }
    if n <= 16 {
        return le64(a, 0) == le64(b, 0) && le64(a, n - 8) == le64(b, n - 8);
    }
    if n <= 32 {
        // Four overlapping words cover every byte; no loop for the names a convenant uses.
        return le64(a, 0) == le64(b, 0)
            && le64(a, 8) == le64(b, 8)
            && le64(a, n - 16) == le64(b, n - 16)
            && le64(a, n - 8) == le64(b, n - 8);
    }
    let mut i = 0;
    while i + 8 < n {
        if le64(a, i) != le64(b, i) {
            return false;
        }
        i += 8;
    }
    le64(a, n - 8) == le64(b, n - 8)
}

#[inline(always)]
fn hash(k: &Key) -> u64 {
    let h = (k.a ^ (k.len as u64).rotate_left(56)).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ k.b;
    let h = h.wrapping_mul(0xd6e8_feb8_6659_fd93);
    h ^ (h >> 32)
}

#[derive(Clone, Debug)]
struct Slot {
    key: Key,
    id: u16,
}

/// Name → small id, for names given at compile time.
#[derive(Clone, Debug, Default)]
pub(crate) struct Names {
    mask: usize,
    slots: Vec<Option<Slot>>,
    names: Vec<Box<[u8]>>,
}

impl Names {
    /// Build from `(name, id)` pairs. A repeated name takes the last id (as `HashMap::insert`).
    pub(crate) fn new<'a>(entries: impl IntoIterator<Item = (&'a str, u16)>) -> Self {
        let entries: Vec<(&str, u16)> = entries.into_iter().collect();
        let size = (entries.len() * 4).max(8).next_power_of_two();
        let mut t = Self {
            mask: size - 1,
            slots: vec![None; size],
            names: Vec::new(),
        };
        for (name, id) in entries {
            let k = key(name.as_bytes());
            let mut i = hash(&k) as usize & t.mask;
            loop {
                match t.slots.get_mut(i) {
                    Some(Some(slot))
                        if slot.key == k
                            && t.names
                                .get(usize::from(slot.id))
                                .is_some_and(|n| **n == *name.as_bytes()) =>
                    {
                        slot.id = id;
                        break;
                    }
                    Some(Some(_)) => i = (i + 1) & t.mask,
                    Some(empty) => {
                        *empty = Some(Slot { key: k, id });
                        break;
                    }
                    None => break,
                }
            }
            let idx = usize::from(id);
            if t.names.len() <= idx {
                t.names.resize(idx + 1, Box::default());
            }
            if let Some(n) = t.names.get_mut(idx) {
                *n = name.as_bytes().into();
            }
        }
        t
    }

    /// The id of `name`, if it is in the table.
    #[inline(always)]
    pub(crate) fn get(&self, name: &str) -> Option<u16> {
        let s = name.as_bytes();
        let k = key(s);
        let mut i = hash(&k) as usize & self.mask;
        // The table is never more than a quarter full, so an empty slot ends every probe.
        loop {
            let slot = self.slots.get(i)?.as_ref()?;
            if slot.key == k
                && (k.len <= 32
                    || self
                        .names
                        .get(usize::from(slot.id))
                        .is_some_and(|n| same(n, s)))
            {
                return Some(slot.id);
            }
            i = (i + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_sees_every_byte_at_every_length() {
        for n in 0..48usize {
            let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same(&a, &a.clone()), "{n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same(&a, &b), "length {n}, byte {at}");
                if n <= 32 {
                    assert_ne!(key(&a), key(&b), "key, length {n}, byte {at}");
                }
            }
            assert!(!same(&a, &a[..n.saturating_sub(1)]) || n == 0);
        }
    }

    #[test]
    fn finds_exactly_the_names_given() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "abcdefghXjklmnopq",
            "school",
            "wijkteam",
            "zorgen_thuissituatie",
            "zorgen_thuissituatie_",
            "zorgen_XXuissituatie",
        ];
        let t = Names::new(words.iter().enumerate().map(|(i, w)| (*w, i as u16)));
        for (i, w) in words.iter().enumerate() {
            assert_eq!(t.get(w), Some(i as u16), "{w}");
        }
        for w in [
            "b",
            "ba",
            "abd",
            "abce",
            "abcdf",
            "abcdefh",
            "abcdefgi",
            "abcdefghj",
            "abcdefghijklmnoq",
            "abcdefghijklmnopr",
            "abcdefghYjklmnopq",
            "zorgen_thuissituatiE",
            "zorgen_thuisXituatie",
            "schoo",
            "school ",
            "\0",
            "\0\0",
            "a\0",
            "\0a",
        ] {
            assert_eq!(t.get(w), None, "{w:?}");
        }
        let empty = Names::new([]);
        assert_eq!(empty.get("x"), None);
        assert_eq!(empty.get(""), None);
    }
}
