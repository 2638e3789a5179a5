//! Signed checkpoints of the disclosure log: a simplified C2SP signed note.
//!
//! The body is four lines, each ending in `\n`:
//!
//! ```text
//! {origin}
//! {tree_size, decimal}
//! {base64(root), standard alphabet with padding}
//! {timestamp, unix seconds, decimal}
//! ```
//!
//! The note is the body, one empty line, and one signature line
//! `— {key_id} {base64(ed25519 signature over the body bytes)}\n` (the dash is U+2014 EM DASH).
//! The key id in the signature line selects the verifying public key, so checkpoints signed
//! before a key rotation stay verifiable by anyone who keeps the old public key.
//!
//! Parsing is strict and canonical (one way to write each checkpoint), bounded
//! ([`MAX_NOTE_LEN`]) and never panics.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};

use crate::merkle::Hash;

/// Longest accepted signed note, in bytes.
pub const MAX_NOTE_LEN: usize = 4096;
/// Longest accepted origin line, in bytes.
pub const MAX_ORIGIN_LEN: usize = 255;
/// Longest accepted key id, in bytes.
pub const MAX_KEY_ID_LEN: usize = 128;

/// Start of a signature line: EM DASH (U+2014) and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// A log checkpoint: the log's identity, its size and root at a point in time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// Identity of the log, e.g. `signaalhub.example.nl/verstrekkingenlog`. Non-empty, at most
    /// [`MAX_ORIGIN_LEN`] bytes, no control characters, no leading or trailing whitespace.
    pub origin: String,
    /// Number of leaves in the tree.
    pub tree_size: u64,
    /// RFC 9162 root of the first `tree_size` leaves.
    pub root: Hash,
    /// When the hub signed the checkpoint, in seconds since the Unix epoch.
    pub timestamp_unix: i64,
}

/// A checkpoint with the signature of the hub's checkpoint key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SignedCheckpoint {
    /// The signed checkpoint.
    pub checkpoint: Checkpoint,
    /// Identifies the signing key: 1 ..= [`MAX_KEY_ID_LEN`] printable ASCII characters, no space,
    /// no `+`.
    pub key_id: String,
    /// Ed25519 signature over [`Checkpoint::body`].
    pub signature: [u8; 64],
}

/// Why a checkpoint could not be signed, parsed or verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The note is longer than [`MAX_NOTE_LEN`].
    TooLarge {
        /// Length of the note in bytes.
        len: usize,
    },
    /// The note or body does not follow the format; the text says which part.
    Malformed(&'static str),
    /// The origin is empty, too long, or contains control characters or edge whitespace.
    InvalidOrigin,
    /// The key id is empty, too long, or contains characters other than printable ASCII
    /// (space and `+` excluded).
    InvalidKeyId,
    /// The PKCS#8 document is not an Ed25519 private key.
    InvalidSigningKey,
    /// The verifier knows no public key for this key id.
    UnknownKey(String),
    /// The signature does not verify with the key for this key id.
    BadSignature,
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::TooLarge { len } => {
                write!(f, "checkpoint note of {len} bytes exceeds {MAX_NOTE_LEN}")
            }
            CheckpointError::Malformed(what) => write!(f, "malformed checkpoint note: {what}"),
            CheckpointError::InvalidOrigin => f.write_str("invalid checkpoint origin"),
            CheckpointError::InvalidKeyId => f.write_str("invalid checkpoint key id"),
            CheckpointError::InvalidSigningKey => {
                f.write_str("checkpoint signing key is not an Ed25519 PKCS#8 key")
            }
            CheckpointError::UnknownKey(id) => write!(f, "unknown checkpoint key id {id:?}"),
            CheckpointError::BadSignature => f.write_str("checkpoint signature does not verify"),
        }
    }
}

impl std::error::Error for CheckpointError {}

fn validate_origin(origin: &str) -> Result<(), CheckpointError> {
    let ok = !origin.is_empty()
        && origin.len() <= MAX_ORIGIN_LEN
        && !origin.chars().any(char::is_control)
        && origin.trim() == origin;
    if ok {
        Ok(())
    } else {
        Err(CheckpointError::InvalidOrigin)
    }
}

fn validate_key_id(key_id: &str) -> Result<(), CheckpointError> {
    let ok = !key_id.is_empty()
        && key_id.len() <= MAX_KEY_ID_LEN
        && key_id.bytes().all(|b| b.is_ascii_graphic() && b != b'+');
    if ok {
        Ok(())
    } else {
        Err(CheckpointError::InvalidKeyId)
    }
}

/// Parses a canonical decimal (no sign for u64, no leading zeros, no `+`, no `-0`).
fn parse_canonical<T: std::str::FromStr + ToString>(s: &str) -> Option<T> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let v: T = s.parse().ok()?;
    (v.to_string() == s).then_some(v)
}

impl Checkpoint {
    /// Checks the origin (the only field with constraints).
    pub fn validate(&self) -> Result<(), CheckpointError> {
        validate_origin(&self.origin)
    }

    /// The canonical body `"{origin}\n{tree_size}\n{base64(root)}\n{timestamp}\n"`: the bytes
    /// that are signed.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n",
            self.origin,
            self.tree_size,
            STANDARD.encode(self.root),
            self.timestamp_unix
        )
    }

    /// Parses a canonical body (exactly what [`Checkpoint::body`] produces).
    pub fn parse_body(body: &str) -> Result<Self, CheckpointError> {
        if body.len() > MAX_NOTE_LEN {
            return Err(CheckpointError::TooLarge { len: body.len() });
        }
        let text = body
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("body does not end in a newline"))?;
        let mut lines = text.split('\n');
        let (Some(origin), Some(size), Some(root), Some(ts), None) = (
            lines.next(),
            lines.next(),
            lines.next(),
            lines.next(),
            lines.next(),
        ) else {
            return Err(CheckpointError::Malformed("body is not exactly four lines"));
        };
        validate_origin(origin)?;
        let tree_size: u64 =
            parse_canonical(size).ok_or(CheckpointError::Malformed("tree size"))?;
        if root.len() != 44 {
            return Err(CheckpointError::Malformed("root hash"));
        }
        let root_bytes = STANDARD
            .decode(root)
            .map_err(|_| CheckpointError::Malformed("root hash"))?;
        let root: Hash = root_bytes
            .as_slice()
            .try_into()
            .map_err(|_| CheckpointError::Malformed("root hash"))?;
        let timestamp_unix: i64 =
            parse_canonical(ts).ok_or(CheckpointError::Malformed("timestamp"))?;
        let cp = Checkpoint {
            origin: origin.to_owned(),
            tree_size,
            root,
            timestamp_unix,
        };
        // One way to write each checkpoint: the body must round-trip byte for byte.
        if cp.body() != body {
            return Err(CheckpointError::Malformed("body is not canonical"));
        }
        Ok(cp)
    }
}

impl SignedCheckpoint {
    /// The signed note: body, an empty line, `— {key_id} {base64(signature)}\n`.
    pub fn to_note(&self) -> String {
        format!(
            "{}\n{SIG_PREFIX}{} {}\n",
            self.checkpoint.body(),
            self.key_id,
            STANDARD.encode(self.signature)
        )
    }

    /// Parses a signed note (does not verify the signature: see [`verify`]). Accepts exactly one
    /// signature line. At most [`MAX_NOTE_LEN`] bytes; never panics.
    pub fn parse(note: &[u8]) -> Result<Self, CheckpointError> {
        if note.len() > MAX_NOTE_LEN {
            return Err(CheckpointError::TooLarge { len: note.len() });
        }
        let text =
            std::str::from_utf8(note).map_err(|_| CheckpointError::Malformed("not UTF-8"))?;
        let split = text
            .find("\n\n")
            .ok_or(CheckpointError::Malformed("no blank line after the body"))?;
        let (body, sigs) = (&text[..split + 1], &text[split + 2..]);
        let checkpoint = Checkpoint::parse_body(body)?;
        let line = sigs
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("signature line"))?;
        if line.contains('\n') {
            return Err(CheckpointError::Malformed(
                "expected exactly one signature line",
            ));
        }
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or(CheckpointError::Malformed("signature line"))?;
        let (key_id, sig_b64) = rest
            .split_once(' ')
            .ok_or(CheckpointError::Malformed("signature line"))?;
        validate_key_id(key_id)?;
        if sig_b64.len() != 88 {
            return Err(CheckpointError::Malformed("signature"));
        }
        let sig = STANDARD
            .decode(sig_b64)
            .map_err(|_| CheckpointError::Malformed("signature"))?;
        let signature: [u8; 64] = sig
            .as_slice()
            .try_into()
            .map_err(|_| CheckpointError::Malformed("signature"))?;
        if STANDARD.encode(signature) != sig_b64 {
            return Err(CheckpointError::Malformed("signature"));
        }
        Ok(SignedCheckpoint {
            checkpoint,
            key_id: key_id.to_owned(),
            signature,
        })
    }
}

/// Looks up a checkpoint public key (raw 32-byte Ed25519) by key id. Implemented for closures,
/// `HashMap<String, [u8; 32]>` and `BTreeMap<String, [u8; 32]>`.
pub trait PublicKeys {
    /// The public key for `key_id`, if the verifier trusts one.
    fn public_key(&self, key_id: &str) -> Option<[u8; 32]>;
}

impl<F: Fn(&str) -> Option<[u8; 32]>> PublicKeys for F {
    fn public_key(&self, key_id: &str) -> Option<[u8; 32]> {
        self(key_id)
    }
}

impl PublicKeys for HashMap<String, [u8; 32]> {
    fn public_key(&self, key_id: &str) -> Option<[u8; 32]> {
        self.get(key_id).copied()
    }
}

impl PublicKeys for BTreeMap<String, [u8; 32]> {
    fn public_key(&self, key_id: &str) -> Option<[u8; 32]> {
        self.get(key_id).copied()
    }
}

/// The hub's checkpoint signing key with its key id.
#[derive(Debug)]
pub struct CheckpointSigner {
    key_id: String,
    key: Ed25519KeyPair,
}

impl CheckpointSigner {
    /// Loads an Ed25519 PKCS#8 document (v2 as made by ring, or v1) under `key_id`.
    pub fn from_pkcs8(key_id: &str, pkcs8: &[u8]) -> Result<Self, CheckpointError> {
        validate_key_id(key_id)?;
        let key = Ed25519KeyPair::from_pkcs8(pkcs8)
            .or_else(|_| Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8))
            .map_err(|_| CheckpointError::InvalidSigningKey)?;
        Ok(CheckpointSigner {
            key_id: key_id.to_owned(),
            key,
        })
    }

    /// The key id written in signature lines.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The raw Ed25519 public key verifiers need.
    pub fn public_key(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        let pk = self.key.public_key().as_ref();
        if pk.len() == 32 {
            out.copy_from_slice(pk);
        }
        out
    }

    /// Signs the canonical body of `checkpoint`.
    pub fn sign(&self, checkpoint: &Checkpoint) -> Result<SignedCheckpoint, CheckpointError> {
        checkpoint.validate()?;
        let sig = self.key.sign(checkpoint.body().as_bytes());
        let signature: [u8; 64] = sig
            .as_ref()
            .try_into()
            .map_err(|_| CheckpointError::InvalidSigningKey)?;
        Ok(SignedCheckpoint {
            checkpoint: checkpoint.clone(),
            key_id: self.key_id.clone(),
            signature,
        })
    }
}

/// Signs `checkpoint` with the Ed25519 PKCS#8 key `pkcs8` under `key_id`. For repeated signing,
/// load the key once with [`CheckpointSigner::from_pkcs8`].
pub fn sign(
    checkpoint: &Checkpoint,
    key_id: &str,
    pkcs8: &[u8],
) -> Result<SignedCheckpoint, CheckpointError> {
    CheckpointSigner::from_pkcs8(key_id, pkcs8)?.sign(checkpoint)
}

/// Verifies the signature with the public key `keys` holds for the signature's key id and returns
/// the checkpoint. The caller still compares `origin` with the log it expects, and checks the
/// tree with [`crate::merkle::verify_consistency`] against the last checkpoint it trusted.
pub fn verify(
    signed: &SignedCheckpoint,
    keys: &(impl PublicKeys + ?Sized),
) -> Result<Checkpoint, CheckpointError> {
    validate_key_id(&signed.key_id)?;
    signed.checkpoint.validate()?;
    let pk = keys
        .public_key(&signed.key_id)
        .ok_or_else(|| CheckpointError::UnknownKey(signed.key_id.clone()))?;
    UnparsedPublicKey::new(&ED25519, pk)
        .verify(signed.checkpoint.body().as_bytes(), &signed.signature)
        .map_err(|_| CheckpointError::BadSignature)?;
    Ok(signed.checkpoint.clone())
}

/// [`SignedCheckpoint::parse`] then [`verify`].
pub fn verify_note(
    note: &[u8],
    keys: &(impl PublicKeys + ?Sized),
) -> Result<Checkpoint, CheckpointError> {
    verify(&SignedCheckpoint::parse(note)?, keys)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn canonical_numbers() {
        assert_eq!(parse_canonical::<u64>("0"), Some(0));
        assert_eq!(
            parse_canonical::<u64>("18446744073709551615"),
            Some(u64::MAX)
        );
        assert_eq!(parse_canonical::<u64>("18446744073709551616"), None);
        assert_eq!(parse_canonical::<u64>("007"), None);
        assert_eq!(parse_canonical::<u64>("+7"), None);
        assert_eq!(parse_canonical::<u64>("-1"), None);
        assert_eq!(parse_canonical::<i64>("-1"), Some(-1));
        assert_eq!(parse_canonical::<i64>("-0"), None);
        assert_eq!(
            parse_canonical::<i64>("-9223372036854775808"),
            Some(i64::MIN)
        );
        assert_eq!(parse_canonical::<i64>(" 1"), None);
        assert_eq!(parse_canonical::<i64>(""), None);
    }

    #[test]
    fn origin_and_key_id_rules() {
        assert!(validate_origin("signaalhub.example/log").is_ok());
        assert!(validate_origin("").is_err());
        assert!(validate_origin(" x").is_err());
        assert!(validate_origin("a\nb").is_err());
        assert!(validate_origin(&"x".repeat(256)).is_err());
        assert!(validate_key_id("hub-2026-01").is_ok());
        assert!(validate_key_id("a b").is_err());
        assert!(validate_key_id("a+b").is_err());
        assert!(validate_key_id("").is_err());
        assert!(validate_key_id("é").is_err());
    }
}
