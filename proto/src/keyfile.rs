//! Private key files for Ed25519 (signing, tokens, checkpoints) and X25519 (opening envelopes):
//! PKCS#8 `PrivateKeyInfo` as RFC 8410 §7 gives it, so that `openssl pkey`, Python's
//! `cryptography`, Go's `x509.ParsePKCS8PrivateKey` and Java's `PKCS8EncodedKeySpec` read the
//! same files as hub and SDK.
//!
//! Written as **version 1** (RFC 5208: version 0, algorithm, private key; no public key). *ring*'s
//! `Ed25519KeyPair::generate_pkcs8` writes version 2 (RFC 5958, with the public key as `[1]`),
//! which OpenSSL 3.0 and `cryptography` refuse; dev kits made before this module hold such files,
//! so every reader here and in *ring* (`from_pkcs8_maybe_unchecked`) accepts both. No
//! cryptography happens here: the DER is fixed apart from the 32 secret bytes.

use std::fmt;

/// The two RFC 8410 curves a key file may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// Ed25519 (OID 1.3.101.112): the private key is the 32-byte seed.
    Ed25519,
    /// X25519 (OID 1.3.101.110): the private key is the 32-byte scalar.
    X25519,
}

impl Curve {
    fn oid_last(self) -> u8 {
        match self {
            Curve::Ed25519 => 0x70,
            Curve::X25519 => 0x6e,
        }
    }

    /// The fixed first 16 bytes of a version 1 `PrivateKeyInfo` for this curve (RFC 8410 §10.3):
    /// `SEQUENCE(46) { INTEGER 0, SEQUENCE { OID 1.3.101.x }, OCTET STRING { OCTET STRING(32) } }`.
    pub fn v1_prefix(self) -> [u8; 16] {
        [
            0x30,
            0x2e,
            0x02,
            0x01,
            0x00,
            0x30,
            0x05,
            0x06,
            0x03,
            0x2b,
            0x65,
            self.oid_last(),
            0x04,
            0x22,
            0x04,
            0x20,
        ]
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Curve::Ed25519 => "Ed25519",
            Curve::X25519 => "X25519",
        })
    }
}

/// Why a DER document is not a PKCS#8 key of the expected curve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFileError {
    /// Not DER of a PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey` (version 1 or 2).
    NotPkcs8,
    /// A PKCS#8 key, but of another algorithm (or with algorithm parameters, which RFC 8410
    /// forbids).
    WrongAlgorithm(Curve),
    /// The private key is not a 32-byte `CurvePrivateKey` OCTET STRING.
    BadPrivateKey,
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyFileError::NotPkcs8 => f.write_str("not a PKCS#8 private key"),
            KeyFileError::WrongAlgorithm(c) => write!(f, "not an {c} private key"),
            KeyFileError::BadPrivateKey => {
                f.write_str("the private key is not 32 bytes in an OCTET STRING")
            }
        }
    }
}

impl std::error::Error for KeyFileError {}

/// The version 1 PKCS#8 DER of a 32-byte `secret` (Ed25519 seed or X25519 scalar). The result
/// holds the secret: wrap it in something that zeroes it if the caller keeps it.
pub fn pkcs8_v1(curve: Curve, secret: &[u8; 32]) -> Vec<u8> {
    let mut der = Vec::with_capacity(48);
    der.extend_from_slice(&curve.v1_prefix());
    der.extend_from_slice(secret);
    der
}

/// One DER element: (tag, contents, rest). Definite lengths up to 65535 bytes only (a key file is
/// far smaller).
fn tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), KeyFileError> {
    let (&tag, rest) = input.split_first().ok_or(KeyFileError::NotPkcs8)?;
    let (&first, rest) = rest.split_first().ok_or(KeyFileError::NotPkcs8)?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81 => match rest.split_first() {
            Some((&l, r)) if l >= 0x80 => (usize::from(l), r),
            _ => return Err(KeyFileError::NotPkcs8),
        },
        0x82 => match rest {
            [hi, lo, r @ ..] if *hi != 0 => ((usize::from(*hi) << 8) | usize::from(*lo), r),
            _ => return Err(KeyFileError::NotPkcs8),
        },
        _ => return Err(KeyFileError::NotPkcs8),
    };
    if rest.len() < len {
        return Err(KeyFileError::NotPkcs8);
    }
    let (contents, rest) = rest.split_at(len);
    Ok((tag, contents, rest))
}

/// The 32-byte secret of a PKCS#8 key of `curve`: version 1 (RFC 5208, what [`pkcs8_v1`],
/// `openssl genpkey` and `cryptography` write) or version 2 (RFC 5958, with the public key, as
/// *ring* writes). For version 2 the public key is not checked against the secret here; derive it
/// from the secret and compare where that matters.
pub fn secret_from_pkcs8(curve: Curve, der: &[u8]) -> Result<[u8; 32], KeyFileError> {
    let (tag, body, trailing) = tlv(der)?;
    if tag != 0x30 || !trailing.is_empty() {
        return Err(KeyFileError::NotPkcs8);
    }
    let (tag, version, body) = tlv(body)?;
    let v2 = match (tag, version) {
        (0x02, [0]) => false,
        (0x02, [1]) => true,
        _ => return Err(KeyFileError::NotPkcs8),
    };
    let (tag, algorithm, body) = tlv(body)?;
    if tag != 0x30 {
        return Err(KeyFileError::NotPkcs8);
    }
    if algorithm != [0x06, 0x03, 0x2b, 0x65, curve.oid_last()] {
        return Err(KeyFileError::WrongAlgorithm(curve));
    }
    let (tag, private_key, mut rest) = tlv(body)?;
    if tag != 0x04 {
        return Err(KeyFileError::NotPkcs8);
    }
    let secret = match tlv(private_key) {
        Ok((0x04, s, [])) => <[u8; 32]>::try_from(s).map_err(|_| KeyFileError::BadPrivateKey)?,
        _ => return Err(KeyFileError::BadPrivateKey),
    };
    // Optional `[0] attributes`, then (version 2 only) optional `[1] publicKey`, in that order.
    let mut last_tag = 0u8;
    while !rest.is_empty() {
        let (tag, _, r) = tlv(rest)?;
        let allowed = match tag {
            0xa0 => last_tag == 0,
            0x81 => v2 && last_tag != 0x81,
            _ => false,
        };
        if !allowed {
            return Err(KeyFileError::NotPkcs8);
        }
        last_tag = tag;
        rest = r;
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use ring::signature::{Ed25519KeyPair, KeyPair as _};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 8410 §10.3: the example Ed25519 private key, byte for byte, and what *ring* derives.
    #[test]
    fn rfc8410_example_round_trips() {
        let der = hex(concat!(
            "302e020100300506032b657004220420",
            "d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842"
        ));
        let secret = secret_from_pkcs8(Curve::Ed25519, &der).unwrap();
        assert_eq!(pkcs8_v1(Curve::Ed25519, &secret), der);
        // ring reads version 1 only through the "maybe unchecked" door, and derives the key.
        let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).unwrap();
        assert_eq!(
            kp.public_key().as_ref(),
            Ed25519KeyPair::from_seed_unchecked(&secret)
                .unwrap()
                .public_key()
                .as_ref()
        );
        assert_eq!(
            secret_from_pkcs8(Curve::X25519, &der),
            Err(KeyFileError::WrongAlgorithm(Curve::X25519))
        );
    }

    /// The X25519 prefix is the Ed25519 one with the OID's last byte 0x6e (RFC 8410 §3).
    #[test]
    fn x25519_v1_layout() {
        let secret = [7u8; 32];
        let der = pkcs8_v1(Curve::X25519, &secret);
        assert_eq!(
            der[..16],
            hex("302e020100300506032b656e04220420")[..],
            "RFC 8410 X25519 PrivateKeyInfo prefix"
        );
        assert_eq!(secret_from_pkcs8(Curve::X25519, &der), Ok(secret));
        assert_eq!(
            secret_from_pkcs8(Curve::Ed25519, &der),
            Err(KeyFileError::WrongAlgorithm(Curve::Ed25519))
        );
    }

    /// Files of older dev kits: *ring*'s version 2 documents still read, with the same seed.
    #[test]
    fn ring_v2_documents_still_read() {
        let rng = ring::rand::SystemRandom::new();
        let v2 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        assert_eq!(v2.as_ref()[4], 1, "ring writes version 2 (INTEGER 1)");
        let secret = secret_from_pkcs8(Curve::Ed25519, v2.as_ref()).unwrap();
        let from_v2 = Ed25519KeyPair::from_pkcs8(v2.as_ref()).unwrap();
        let v1 = pkcs8_v1(Curve::Ed25519, &secret);
        let from_v1 = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&v1).unwrap();
        assert_eq!(from_v1.public_key().as_ref(), from_v2.public_key().as_ref());
    }

    #[test]
    fn malformed_documents_are_refused() {
        let good = pkcs8_v1(Curve::X25519, &[1u8; 32]);
        assert_eq!(
            secret_from_pkcs8(Curve::X25519, &[]),
            Err(KeyFileError::NotPkcs8)
        );
        // Truncated at every length, and one byte too many.
        for n in 0..good.len() {
            assert!(secret_from_pkcs8(Curve::X25519, &good[..n]).is_err(), "{n}");
        }
        let mut long = good.clone();
        long.push(0);
        assert_eq!(
            secret_from_pkcs8(Curve::X25519, &long),
            Err(KeyFileError::NotPkcs8)
        );
        // Version 3; a 31-byte key; a public key in a version 1 document.
        let mut v3 = good.clone();
        v3[4] = 2;
        assert_eq!(
            secret_from_pkcs8(Curve::X25519, &v3),
            Err(KeyFileError::NotPkcs8)
        );
        let mut short = hex("302d020100300506032b656e04210420");
        short[15] = 0x1f;
        short.extend_from_slice(&[1u8; 31]);
        assert_eq!(
            secret_from_pkcs8(Curve::X25519, &short),
            Err(KeyFileError::BadPrivateKey)
        );
        let mut with_public = good.clone();
        with_public.extend_from_slice(&[0x81, 0x21, 0x00]);
        with_public.extend_from_slice(&[2u8; 32]);
        with_public[1] += 35;
        assert_eq!(
            secret_from_pkcs8(Curve::X25519, &with_public),
            Err(KeyFileError::NotPkcs8)
        );
        // The same with version 2 is a valid RFC 5958 document.
        with_public[4] = 1;
        assert_eq!(
            secret_from_pkcs8(Curve::X25519, &with_public),
            Ok([1u8; 32])
        );
    }
}
