//! The one rule for identifiers a client chooses (signal, fragment, handover and agreement ids),
//! and the hub's own random ids: neither may hide a BSN.
use std::fmt::Write;

/// Why a client-chosen id is refused when it holds a long run of digits; said as is to the
/// client under the field's name (it echoes nothing of the id).
pub const DIGIT_RUN: &str = "must not contain 9 or more digits in a row (it could be a BSN)";

pub use signaalhub_proto::has_digit_run;

/// Whether `s` is well formed as an identifier: 1-64 of `A-Za-z0-9._-`. Every id the hub stores
/// has this form (ids stored before the digit-run rule included).
pub(crate) fn well_formed(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The rule for an id a client chooses: well formed (1-64 of `A-Za-z0-9._-`) and without a run
/// of 9 or more digits ([`has_digit_run`]): the hub stores and logs these ids.
pub fn valid_client_id(s: &str) -> bool {
    well_formed(s) && !has_digit_run(s)
}

/// The letters a hub-generated id is written in: 16 of them, so each carries 4 random bits, and no
/// digit, so no generated id can hold a run of digits (let alone a BSN).
const ALPHABET: &[u8; 16] = b"bcdfghjkmnpqrstv";

/// `prefix` followed by 128 random bits written as 32 letters of [`ALPHABET`]; `None` when the
/// system has no randomness.
pub fn random(prefix: &str) -> Option<String> {
    let mut b = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).ok()?;
    Some(letters(prefix, &b))
}

fn letters(prefix: &str, bytes: &[u8]) -> String {
    let mut s = String::with_capacity(prefix.len() + 2 * bytes.len());
    s.push_str(prefix);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            let _ = s.write_char(char::from(ALPHABET[usize::from(nibble)]));
        }
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_client_rule_refuses_nine_digits_in_a_row() {
        assert!(valid_client_id("sig-2024-0001"));
        assert!(valid_client_id("a12345678b12345678"));
        assert!(!valid_client_id("sig-123456789"));
        assert!(!valid_client_id("999999999"));
        assert!(!valid_client_id(""));
        assert!(!valid_client_id(&"a".repeat(65)));
        assert!(!valid_client_id("sig 1"));
    }

    #[test]
    fn generated_ids_have_no_digits_whatever_the_bytes() {
        // Every nibble value, including all the ones hex would have written as digits.
        let all: Vec<u8> = (0..=255).collect();
        let s = letters("c_", &all);
        assert_eq!(s.len(), 2 + 512);
        assert!(!s[2..].bytes().any(|b| b.is_ascii_digit()));
        for _ in 0..1000 {
            let id = random("zm_").unwrap();
            assert_eq!(id.len(), 3 + 32);
            assert!(valid_client_id(&id), "{id}");
            assert!(!id.bytes().any(|b| b.is_ascii_digit()), "{id}");
        }
    }
}
