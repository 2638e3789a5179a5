//! Identifier newtypes: validated at the edge, so the rest of the hub never sees a malformed one.
//!
//! A [`Bsn`] never leaves this module in the clear: its `Debug` and `Display` redact it, and the only
//! thing the hub keeps of it is the keyed [`SubjectPseudonym`] made by a [`Pseudonymizer`].
use ring::hmac;
use std::fmt;
use std::str::FromStr;

/// Organisatie-identificatienummer: exactly 20 ASCII digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oin(String);

/// Why a string is not an OIN. Never echoes more than the length of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOin {
    /// Wrong number of characters.
    #[error("an OIN has exactly 20 digits, this one has {0} characters")]
    Length(usize),
    /// Something other than 0-9.
    #[error("an OIN consists of digits 0-9 only")]
    NotDigits,
}

impl Oin {
    /// The OIN as its 20 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Oin {
    type Err = InvalidOin;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != signaalhub_proto::OIN_LEN {
            return Err(InvalidOin::Length(s.chars().count()));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidOin::NotDigits);
        }
        Ok(Oin(s.to_owned()))
    }
}

impl fmt::Display for Oin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Oin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oin({})", self.0)
    }
}

/// A burgerservicenummer that passed the elfproef. Its digits are never displayed or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Bsn([u8; 9]);

/// Why a string is not a valid BSN. Never contains the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBsn {
    /// Not 8 or 9 digits.
    #[error("a BSN has 9 digits (8 with the leading zero dropped)")]
    Length,
    /// Something other than 0-9.
    #[error("a BSN consists of digits 0-9 only")]
    NotDigits,
    /// The eleven test (elfproef) fails: most likely a typing error.
    #[error("this BSN fails the elfproef (check for a typing error)")]
    Elfproef,
}

impl FromStr for Bsn {
    type Err = InvalidBsn;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if !(b.len() == 9 || b.len() == 8) {
            return Err(InvalidBsn::Length);
        }
        if !b.iter().all(u8::is_ascii_digit) {
            return Err(InvalidBsn::NotDigits);
        }
        let mut digits = [0u8; 9];
        let off = 9 - b.len();
        for (i, c) in b.iter().enumerate() {
            digits[off + i] = c - b'0';
        }
        // Elfproef: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 must be a multiple of 11 (and not all zeros).
        let mut sum: i32 = 0;
        for (i, d) in digits.iter().take(8).enumerate() {
            sum += i32::from(*d) * (9 - i as i32);
        }
        sum -= i32::from(digits[8]);
        if sum == 0 || sum % 11 != 0 {
            return Err(InvalidBsn::Elfproef);
        }
        Ok(Bsn(digits))
    }
}

impl fmt::Debug for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bsn(<redacted>)")
    }
}

impl fmt::Display for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<bsn redacted>")
    }
}

/// The keyed pseudonym of a subject: HMAC-SHA256(hub secret, "signaalhub/bsn/v1" || BSN), hex.
/// The same BSN always gives the same pseudonym within one hub; without the secret it cannot be
/// reversed by trying all 10^9 BSNs.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectPseudonym(String);

impl SubjectPseudonym {
    /// The hex form kept in the store and the log.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Rebuild from the stored hex form (64 lowercase hex digits).
    pub fn from_stored(s: &str) -> Option<Self> {
        (s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| SubjectPseudonym(s.to_owned()))
    }
}

impl fmt::Debug for SubjectPseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectPseudonym({}…)", &self.0[..12])
    }
}

/// Turns BSNs into pseudonyms at the edge. Holds the hub's pseudonym secret.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: hmac::Key,
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pseudonymizer(<secret>)")
    }
}

/// The smallest accepted pseudonym secret.
pub const MIN_PSEUDONYM_KEY_LEN: usize = 32;

impl Pseudonymizer {
    /// A pseudonymizer with this secret; `None` when it is shorter than 32 bytes.
    pub fn new(secret: &[u8]) -> Option<Self> {
        (secret.len() >= MIN_PSEUDONYM_KEY_LEN).then(|| Pseudonymizer {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        })
    }

    /// The pseudonym of this BSN.
    pub fn pseudonym(&self, bsn: &Bsn) -> SubjectPseudonym {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(b"signaalhub/bsn/v1\0");
        let mut ascii = [0u8; 9];
        for (a, d) in ascii.iter_mut().zip(bsn.0.iter()) {
            *a = b'0' + d;
        }
        ctx.update(&ascii);
        SubjectPseudonym(hex::encode(ctx.sign().as_ref()))
    }

    /// A keyed pseudonym of other identifiers (e.g. a professional's id), domain-separated by
    /// `label`; parts are length-prefixed so that no two inputs collide.
    pub fn keyed(&self, label: &str, parts: &[&str]) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(label.as_bytes());
        ctx.update(&[0]);
        for p in parts {
            ctx.update(&(p.len() as u32).to_be_bytes());
            ctx.update(p.as_bytes());
        }
        hex::encode(ctx.sign().as_ref())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn oin_validation() {
        assert!("00000001234567890000".parse::<Oin>().is_ok());
        assert_eq!("123".parse::<Oin>(), Err(InvalidOin::Length(3)));
        assert_eq!(
            "0000000123456789000a".parse::<Oin>(),
            Err(InvalidOin::NotDigits)
        );
    }

    #[test]
    fn bsn_elfproef() {
        // 111222333: 9+8+7+12+10+8+9+6-3 = 66 = 6*11.
        assert!("111222333".parse::<Bsn>().is_ok());
        assert_eq!("111222334".parse::<Bsn>(), Err(InvalidBsn::Elfproef));
        assert_eq!("000000000".parse::<Bsn>(), Err(InvalidBsn::Elfproef));
        assert_eq!("12345".parse::<Bsn>(), Err(InvalidBsn::Length));
        assert_eq!("11122233x".parse::<Bsn>(), Err(InvalidBsn::NotDigits));
        // Leading zero dropped is the same number.
        let p = Pseudonymizer::new(&[7u8; 32]).unwrap();
        let a: Bsn = "012345672".parse().unwrap();
        let b: Bsn = "12345672".parse().unwrap();
        assert_eq!(p.pseudonym(&a), p.pseudonym(&b));
    }

    #[test]
    fn bsn_is_never_printed() {
        let b: Bsn = "111222333".parse().unwrap();
        assert!(!format!("{b:?} {b}").contains("111222333"));
        let p = Pseudonymizer::new(&[1u8; 32]).unwrap();
        let ps = p.pseudonym(&b);
        assert!(!ps.as_str().contains("111222333"));
        assert_eq!(ps.as_str().len(), 64);
        assert!(SubjectPseudonym::from_stored(ps.as_str()).is_some());
    }

    #[test]
    fn pseudonym_depends_on_the_secret() {
        let b: Bsn = "111222333".parse().unwrap();
        let p1 = Pseudonymizer::new(&[1u8; 32]).unwrap();
        let p2 = Pseudonymizer::new(&[2u8; 32]).unwrap();
        assert_ne!(p1.pseudonym(&b), p2.pseudonym(&b));
        assert!(Pseudonymizer::new(&[1u8; 31]).is_none());
    }

    proptest! {
        #[test]
        fn bsn_parse_never_panics(s in ".{0,20}") {
            let _ = s.parse::<Bsn>();
            let _ = s.parse::<Oin>();
        }

        #[test]
        fn a_single_digit_change_fails_the_elfproef(pos in 0usize..9, delta in 1u8..10) {
            let valid = "111222333";
            let mut d: Vec<u8> = valid.bytes().collect();
            d[pos] = b'0' + (d[pos] - b'0' + delta) % 10;
            let s = String::from_utf8(d).unwrap();
            prop_assert!(s.parse::<Bsn>().is_err());
        }
    }
}
