//! Token verification keys: which keys an organisation may register for its professionals'
//! tokens, the one JWT algorithm each is pinned to, and the form the hub stores them in.
//!
//! | key (registered as a PEM SubjectPublicKeyInfo) | stored `public_key`              | pinned `alg` |
//! |------------------------------------------------|----------------------------------|--------------|
//! | Ed25519                                        | the raw 32-byte key (as ever)    | `EdDSA`      |
//! | RSA, 2048-4096 bits (`rsaEncryption`)          | the SubjectPublicKeyInfo DER     | `RS256`      |
//! | EC on P-256 (`id-ecPublicKey`, `prime256v1`)   | the SubjectPublicKeyInfo DER     | `ES256`      |
//!
//! The algorithm is derived from the stored bytes alone, unambiguously: 32 bytes are an Ed25519
//! key, anything else must be a DER SubjectPublicKeyInfo whose algorithm identifier names the key
//! type (a DER SubjectPublicKeyInfo is never 32 bytes long). The store also writes the pinned
//! algorithm into the row's `algorithm` column, for people reading the database; the hub itself
//! trusts only the key bytes. No token header ever chooses the algorithm.
use std::fmt;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

/// Shortest RSA modulus accepted for token keys, in bits.
pub const MIN_RSA_BITS: usize = 2048;
/// Longest RSA modulus the verifier can use, in bits.
pub const MAX_RSA_BITS: usize = 4096;

/// The JWT algorithm a token key is pinned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenAlgorithm {
    /// Ed25519 signatures.
    EdDSA,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
}

impl TokenAlgorithm {
    /// The JWT `alg` name (RFC 7518 / RFC 8037).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenAlgorithm::EdDSA => "EdDSA",
            TokenAlgorithm::RS256 => "RS256",
            TokenAlgorithm::ES256 => "ES256",
        }
    }

    /// Parses a JWT `alg` name; `None` for every algorithm the hub never accepts (`none`, all
    /// `HS*`, `PS*`, `RS384`, ...).
    pub fn parse(alg: &str) -> Option<TokenAlgorithm> {
        match alg {
            "EdDSA" => Some(TokenAlgorithm::EdDSA),
            "RS256" => Some(TokenAlgorithm::RS256),
            "ES256" => Some(TokenAlgorithm::ES256),
            _ => None,
        }
    }

    /// The accepted algorithms, for messages.
    pub const ACCEPTED: &'static str = "RS256 (RSA >= 2048 bits), ES256 (P-256) or EdDSA (Ed25519)";
}

impl fmt::Display for TokenAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a key cannot be a token key; the message says what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidTokenKey(pub String);

/// A stored token key, checked: its pinned algorithm and the bytes the verifier takes (the raw
/// Ed25519 key, the PKCS#1 `RSAPublicKey` DER, or the SEC1 P-256 point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenKeyMaterial {
    /// The one algorithm this key verifies.
    pub algorithm: TokenAlgorithm,
    /// Key bytes in the form the verifier takes for `algorithm`.
    pub key: Vec<u8>,
}

const OID_ED25519: &str = "1.3.101.112";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";

fn key_type_name(oid: &str) -> String {
    match oid {
        "1.3.101.113" => "an Ed448 key".into(),
        "1.3.101.110" => "an X25519 key".into(),
        "1.3.101.111" => "an X448 key".into(),
        "1.2.840.113549.1.1.10" => "an RSASSA-PSS key".into(),
        "1.2.840.10040.4.1" => "a DSA key".into(),
        other => format!("a key of algorithm {other}"),
    }
}

fn curve_name(oid: &str) -> String {
    match oid {
        "1.3.132.0.34" => "P-384".into(),
        "1.3.132.0.35" => "P-521".into(),
        "1.3.132.0.10" => "secp256k1".into(),
        other => other.to_owned(),
    }
}

fn accepted() -> String {
    format!("token keys are Ed25519, RSA of {MIN_RSA_BITS}-{MAX_RSA_BITS} bits, or EC on P-256")
}

/// Bits in a big-endian unsigned integer.
fn bit_length(be: &[u8]) -> usize {
    let be = match be.iter().position(|b| *b != 0) {
        Some(i) => &be[i..],
        None => return 0,
    };
    (be.len() - 1) * 8 + (8 - be[0].leading_zeros() as usize)
}

/// Checks a DER SubjectPublicKeyInfo as a token key: its type, and for RSA its size, for EC its
/// curve and point.
fn parse_spki(der: &[u8]) -> Result<TokenKeyMaterial, InvalidTokenKey> {
    let bad = |m: String| InvalidTokenKey(m);
    let spki = match SubjectPublicKeyInfo::from_der(der) {
        Ok(([], spki)) => spki,
        _ => {
            return Err(bad(format!(
                "not a DER SubjectPublicKeyInfo (a PEM `PUBLIC KEY`); {}",
                accepted()
            )));
        }
    };
    let oid = spki.algorithm.algorithm.to_id_string();
    let key: &[u8] = &spki.subject_public_key.data;
    match oid.as_str() {
        OID_ED25519 => {
            if key.len() != 32 || spki.algorithm.parameters.is_some() {
                return Err(bad(
                    "an Ed25519 public key is 32 bytes, without parameters".into()
                ));
            }
            Ok(TokenKeyMaterial {
                algorithm: TokenAlgorithm::EdDSA,
                key: key.to_vec(),
            })
        }
        OID_RSA => {
            let bits = match spki.parsed() {
                Ok(x509_parser::public_key::PublicKey::RSA(k)) => bit_length(k.modulus),
                _ => return Err(bad("the RSA public key does not parse".into())),
            };
            if bits < MIN_RSA_BITS {
                return Err(bad(format!(
                    "an RSA key of {bits} bits is too short: RS256 token keys need at least {MIN_RSA_BITS} bits"
                )));
            }
            if bits > MAX_RSA_BITS {
                return Err(bad(format!(
                    "an RSA key of {bits} bits is longer than the {MAX_RSA_BITS} bits the hub verifies"
                )));
            }
            use rsa::pkcs1::DecodeRsaPublicKey;
            rsa::RsaPublicKey::from_pkcs1_der(key).map_err(|_| {
                bad("the RSA public key is not usable (modulus or exponent out of range)".into())
            })?;
            Ok(TokenKeyMaterial {
                algorithm: TokenAlgorithm::RS256,
                key: key.to_vec(),
            })
        }
        OID_EC => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            match curve.as_deref() {
                Some(OID_P256) => {}
                Some(other) => {
                    return Err(bad(format!(
                        "an EC key on {} is not accepted: ES256 token keys are on P-256 (prime256v1)",
                        curve_name(other)
                    )));
                }
                None => {
                    return Err(bad(
                        "the EC key names no curve: ES256 token keys are on P-256 (prime256v1)"
                            .into(),
                    ));
                }
            }
            p256::PublicKey::from_sec1_bytes(key)
                .map_err(|_| bad("the EC public key is not a point on P-256".into()))?;
            Ok(TokenKeyMaterial {
                algorithm: TokenAlgorithm::ES256,
                key: key.to_vec(),
            })
        }
        other => Err(bad(format!(
            "{} is not accepted: {}",
            key_type_name(other),
            accepted()
        ))),
    }
}

/// The stored form of a token key registered as a DER SubjectPublicKeyInfo: Ed25519 keys as
/// their raw 32 bytes (the form the hub always stored), RSA and P-256 keys as the SPKI DER
/// itself. Refuses every other key type, RSA outside 2048-4096 bits and points off the curve.
pub fn stored_token_key(spki_der: &[u8]) -> Result<(TokenAlgorithm, Vec<u8>), InvalidTokenKey> {
    let m = parse_spki(spki_der)?;
    Ok(match m.algorithm {
        TokenAlgorithm::EdDSA => (m.algorithm, m.key),
        TokenAlgorithm::RS256 | TokenAlgorithm::ES256 => (m.algorithm, spki_der.to_vec()),
    })
}

/// A stored token key, checked again (a row changed outside the hub must never reach the
/// verifier): its pinned algorithm and verifier bytes.
pub fn token_key_material(stored: &[u8]) -> Result<TokenKeyMaterial, InvalidTokenKey> {
    if stored.len() == 32 {
        return Ok(TokenKeyMaterial {
            algorithm: TokenAlgorithm::EdDSA,
            key: stored.to_vec(),
        });
    }
    parse_spki(stored)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_counts_from_the_first_set_bit() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x7f, 0xff]), 15);
    }

    #[test]
    fn only_three_algorithms_parse() {
        for a in [
            "none", "None", "HS256", "HS384", "HS512", "RS384", "PS256", "ES384", "", "eddsa",
        ] {
            assert_eq!(TokenAlgorithm::parse(a), None, "{a}");
        }
        for a in [
            TokenAlgorithm::EdDSA,
            TokenAlgorithm::RS256,
            TokenAlgorithm::ES256,
        ] {
            assert_eq!(TokenAlgorithm::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn ed25519_spki_is_stored_raw_and_read_back_as_eddsa() {
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(&[7u8; 32]);
        let (alg, stored) = stored_token_key(&der).unwrap();
        assert_eq!(alg, TokenAlgorithm::EdDSA);
        assert_eq!(stored, vec![7u8; 32]);
        let m = token_key_material(&stored).unwrap();
        assert_eq!(m.algorithm, TokenAlgorithm::EdDSA);
        // The SPKI form reads as EdDSA too.
        assert_eq!(
            token_key_material(&der).unwrap().algorithm,
            TokenAlgorithm::EdDSA
        );
    }

    #[test]
    fn garbage_and_other_key_types_are_refused_with_a_reason() {
        assert!(token_key_material(&[1, 2, 3]).is_err());
        // X25519 SPKI: the right shape, the wrong key type.
        let mut x = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00,
        ];
        x.extend_from_slice(&[7u8; 32]);
        let e = stored_token_key(&x).unwrap_err();
        assert!(e.0.contains("X25519"), "{e}");
    }
}
