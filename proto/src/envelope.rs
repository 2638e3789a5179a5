//! Canonical byte encodings of an [`pb::Envelope`], shared by the client SDK (which seals, signs
//! and opens) and the hub (which checks structure and signatures but can never open).
//!
//! Pure Rust, no cryptography: this module only decides *which bytes* the AEADs bind and the
//! sender signs. The layouts are specified in `docs/ENVELOPE.md`; every encoding starts with a
//! fixed domain-separation label, every variable-length field is prefixed with its length as a
//! big-endian `u32`, every list with its element count as a big-endian `u32`, so two different
//! inputs never encode to the same bytes.

use crate::pb;
use std::collections::HashSet;
use std::fmt;

/// The only envelope format version this code writes and accepts.
pub const VERSION: u32 = 1;
/// Domain-separation label that starts [`aad`].
pub const AAD_LABEL: &[u8] = b"signaalhub/envelope/v1/aad";
/// Domain-separation label that starts [`hpke_info`].
pub const INFO_LABEL: &[u8] = b"signaalhub/envelope/v1/info";
/// Domain-separation label that starts [`signing_input`].
pub const SIGNING_LABEL: &[u8] = b"signaalhub/envelope/v1/signature";
/// The HKDF-SHA256 `info` that derives a sender's content-digest key from its Ed25519 seed.
pub const CONTENT_KEY_LABEL: &[u8] = b"signaalhub/envelope/v1/content-key";
/// Domain-separation label that starts [`content_digest_input`].
pub const CONTENT_DIGEST_LABEL: &[u8] = b"signaalhub/envelope/v1/content-digest";
/// Length of `binding.content_digest` (HMAC-SHA256).
pub const CONTENT_DIGEST_LEN: usize = 32;

/// Length of the payload's AES-256-GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Length of an AES-GCM authentication tag.
pub const TAG_LEN: usize = 16;
/// Length of the per-envelope data key (AES-256).
pub const DATA_KEY_LEN: usize = 32;
/// Length of an HPKE encapsulated key for DHKEM(X25519, HKDF-SHA256).
pub const ENC_LEN: usize = 32;
/// Length of a sealed data key: the 32-byte data key plus the 16-byte tag.
pub const SEALED_DATA_KEY_LEN: usize = DATA_KEY_LEN + TAG_LEN;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Most recipients (sealed keys) one envelope may carry.
pub const MAX_SEALED_KEYS: usize = 64;
/// Longest accepted identifier (OINs, key ids, signal id), in bytes.
pub const MAX_ID_LEN: usize = 64;
/// Longest accepted purpose, category or basis reference, in bytes.
pub const MAX_BINDING_TEXT_LEN: usize = 256;
/// Most data categories one binding may list.
pub const MAX_CATEGORIES: usize = 64;
/// Largest accepted ciphertext (payload plus tag): the hub's largest message.
pub const MAX_CIPHERTEXT_LEN: usize = 64 * 1024 * 1024;

/// Why an envelope is malformed. Messages name fields and sizes, never contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeStructureError {
    /// `version` is not [`VERSION`].
    UnsupportedVersion(u32),
    /// `binding` is absent.
    MissingBinding,
    /// An identifier is empty or longer than [`MAX_ID_LEN`] bytes.
    BadIdentifier {
        /// The field, e.g. `sealed_keys[2].key_id`.
        field: String,
    },
    /// A binding text or list is too long.
    BindingTooLarge {
        /// The field, e.g. `binding.categories`.
        field: String,
    },
    /// A fixed-size field has the wrong length.
    BadLength {
        /// The field, e.g. `nonce`.
        field: String,
        /// The length it must have.
        expected: usize,
        /// The length it has.
        actual: usize,
    },
    /// The ciphertext is shorter than a tag or longer than [`MAX_CIPHERTEXT_LEN`].
    BadCiphertextLength(usize),
    /// Not between 1 and [`MAX_SEALED_KEYS`] sealed keys.
    BadRecipientCount(usize),
    /// Two sealed keys name the same recipient OIN and key id.
    DuplicateSealedKey {
        /// Index of the second one.
        index: usize,
    },
}

impl fmt::Display for EnvelopeStructureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedVersion(v) => {
                write!(
                    f,
                    "envelope version {v} is not supported (expected {VERSION})"
                )
            }
            Self::MissingBinding => f.write_str("envelope has no binding"),
            Self::BadIdentifier { field } => {
                write!(f, "{field} must be 1 to {MAX_ID_LEN} bytes")
            }
            Self::BindingTooLarge { field } => write!(
                f,
                "{field} is too large (at most {MAX_CATEGORIES} entries of {MAX_BINDING_TEXT_LEN} bytes)"
            ),
            Self::BadLength {
                field,
                expected,
                actual,
            } => write!(f, "{field} must be {expected} bytes, not {actual}"),
            Self::BadCiphertextLength(n) => write!(
                f,
                "ciphertext must be {TAG_LEN} to {MAX_CIPHERTEXT_LEN} bytes, not {n}"
            ),
            Self::BadRecipientCount(n) => write!(
                f,
                "an envelope needs 1 to {MAX_SEALED_KEYS} sealed keys, not {n}"
            ),
            Self::DuplicateSealedKey { index } => write!(
                f,
                "sealed_keys[{index}] repeats an earlier recipient OIN and key id"
            ),
        }
    }
}

impl std::error::Error for EnvelopeStructureError {}

/// Appends a length prefix: big-endian `u32`. Every length reaching here is bounded far below
/// `u32::MAX` (protobuf messages are at most 2 GiB; [`check_structure`] bounds every field).
fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
}

/// Appends `u32_be(len(bytes)) || bytes`.
fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// The AEAD additional data for the payload and every sealed data key: the binding's canonical
/// encoding.
///
/// ```text
/// "signaalhub/envelope/v1/aad"
/// || lp(signal_id) || lp(purpose)
/// || u32_be(len(categories)) || lp(categories[0]) || ... || lp(categories[n-1])
/// || lp(basis_reference) || i64_be(created_at_unix)
/// || lp(content_digest)            only when content_digest is not empty
/// ```
/// where `lp(x) = u32_be(len(x)) || x` (UTF-8 bytes for strings). Everything before the digest
/// is self-delimiting, so the optional tail is unambiguous; without a digest the encoding is the
/// one envelopes sealed before the digest existed were bound to, so they still open.
pub fn aad(binding: &pb::EnvelopeBinding) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        AAD_LABEL.len()
            + 4 * (4 + binding.categories.len())
            + binding.signal_id.len()
            + binding.purpose.len()
            + binding.categories.iter().map(String::len).sum::<usize>()
            + binding.basis_reference.len()
            + 8
            + 4
            + binding.content_digest.len(),
    );
    out.extend_from_slice(AAD_LABEL);
    put_bytes(&mut out, binding.signal_id.as_bytes());
    put_bytes(&mut out, binding.purpose.as_bytes());
    put_len(&mut out, binding.categories.len());
    for c in &binding.categories {
        put_bytes(&mut out, c.as_bytes());
    }
    put_bytes(&mut out, binding.basis_reference.as_bytes());
    out.extend_from_slice(&binding.created_at_unix.to_be_bytes());
    if !binding.content_digest.is_empty() {
        put_bytes(&mut out, &binding.content_digest);
    }
    out
}

/// The message a sender's content digest is the HMAC-SHA256 of:
///
/// ```text
/// "signaalhub/envelope/v1/content-digest" || lp(signal_id) || payload
/// ```
/// The key is `HKDF-SHA256(salt = "", IKM = the sender's 32-byte Ed25519 seed,
/// info = "signaalhub/envelope/v1/content-key", L = 32)`: only the sender can compute it, so the
/// hub (which compares digests to tell a retry from other content under the same id) cannot
/// confirm a guess of the payload. The signal id makes equal payloads under different ids
/// unlinkable. The SDK (`signaalhub_client::envelope::content_digest`) computes it; this module
/// only fixes the bytes.
pub fn content_digest_input(signal_id: &str, payload: &[u8]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(CONTENT_DIGEST_LABEL.len() + 4 + signal_id.len() + payload.len());
    out.extend_from_slice(CONTENT_DIGEST_LABEL);
    put_bytes(&mut out, signal_id.as_bytes());
    out.extend_from_slice(payload);
    out
}

/// The HPKE `info` for the data key sealed to one recipient key:
///
/// ```text
/// "signaalhub/envelope/v1/info" || lp(sender_oin) || lp(recipient_oin) || lp(key_id)
/// ```
pub fn hpke_info(sender_oin: &str, recipient_oin: &str, key_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        INFO_LABEL.len() + 12 + sender_oin.len() + recipient_oin.len() + key_id.len(),
    );
    out.extend_from_slice(INFO_LABEL);
    put_bytes(&mut out, sender_oin.as_bytes());
    put_bytes(&mut out, recipient_oin.as_bytes());
    put_bytes(&mut out, key_id.as_bytes());
    out
}

/// The bytes the sender signs with Ed25519: every field of the envelope except the signature.
///
/// ```text
/// "signaalhub/envelope/v1/signature"
/// || u32_be(version) || lp(sender_oin) || lp(sender_signing_key_id)
/// || binding: 0x00 when absent, or 0x01 || lp(aad(binding))
/// || lp(nonce) || lp(ciphertext)
/// || u32_be(len(sealed_keys))
/// || for each sealed key in order: lp(recipient_oin) || lp(key_id) || lp(enc) || lp(sealed_data_key)
/// ```
pub fn signing_input(env: &pb::Envelope) -> Vec<u8> {
    let keys_len: usize = env
        .sealed_keys
        .iter()
        .map(|k| {
            16 + k.recipient_oin.len() + k.key_id.len() + k.enc.len() + k.sealed_data_key.len()
        })
        .sum();
    let mut out = Vec::with_capacity(
        SIGNING_LABEL.len()
            + 64
            + env.sender_oin.len()
            + env.sender_signing_key_id.len()
            + env.nonce.len()
            + env.ciphertext.len()
            + keys_len
            + 512,
    );
    out.extend_from_slice(SIGNING_LABEL);
    out.extend_from_slice(&env.version.to_be_bytes());
    put_bytes(&mut out, env.sender_oin.as_bytes());
    put_bytes(&mut out, env.sender_signing_key_id.as_bytes());
    match &env.binding {
        None => out.push(0x00),
        Some(b) => {
            out.push(0x01);
            put_bytes(&mut out, &aad(b));
        }
    }
    put_bytes(&mut out, &env.nonce);
    put_bytes(&mut out, &env.ciphertext);
    put_len(&mut out, env.sealed_keys.len());
    for k in &env.sealed_keys {
        put_bytes(&mut out, k.recipient_oin.as_bytes());
        put_bytes(&mut out, k.key_id.as_bytes());
        put_bytes(&mut out, &k.enc);
        put_bytes(&mut out, &k.sealed_data_key);
    }
    out
}

fn check_id(field: impl FnOnce() -> String, value: &str) -> Result<(), EnvelopeStructureError> {
    if value.is_empty() || value.len() > MAX_ID_LEN {
        return Err(EnvelopeStructureError::BadIdentifier { field: field() });
    }
    Ok(())
}

fn check_len(
    field: impl FnOnce() -> String,
    value: &[u8],
    expected: usize,
) -> Result<(), EnvelopeStructureError> {
    if value.len() != expected {
        return Err(EnvelopeStructureError::BadLength {
            field: field(),
            expected,
            actual: value.len(),
        });
    }
    Ok(())
}

fn check_text(field: &str, value: &str) -> Result<(), EnvelopeStructureError> {
    if value.len() > MAX_BINDING_TEXT_LEN {
        return Err(EnvelopeStructureError::BindingTooLarge {
            field: field.to_owned(),
        });
    }
    Ok(())
}

/// Checks the binding's sizes (what [`check_structure`] checks of it). The content digest is
/// empty (an envelope sealed before it existed) or [`CONTENT_DIGEST_LEN`] bytes; the hub requires
/// it on every request that stores an envelope.
pub fn check_binding(binding: &pb::EnvelopeBinding) -> Result<(), EnvelopeStructureError> {
    check_id(|| "binding.signal_id".into(), &binding.signal_id)?;
    if !binding.content_digest.is_empty() {
        check_len(
            || "binding.content_digest".into(),
            &binding.content_digest,
            CONTENT_DIGEST_LEN,
        )?;
    }
    check_text("binding.purpose", &binding.purpose)?;
    check_text("binding.basis_reference", &binding.basis_reference)?;
    if binding.categories.len() > MAX_CATEGORIES {
        return Err(EnvelopeStructureError::BindingTooLarge {
            field: "binding.categories".into(),
        });
    }
    for c in &binding.categories {
        check_text("binding.categories", c)?;
    }
    Ok(())
}

/// Checks an envelope's shape without any cryptography (the hub runs this on every send; the SDK
/// before opening): version 1; a binding with a 1..=64-byte signal id, bounded texts and an empty
/// or 32-byte content digest; 1..=64-byte
/// sender OIN and signing key id; a 12-byte nonce; a ciphertext of at least a tag; 1 to 64 sealed
/// keys, each with a 1..=64-byte recipient OIN and key id, a 32-byte `enc` and a 48-byte
/// `sealed_data_key`, no (recipient OIN, key id) twice; a 64-byte signature.
pub fn check_structure(env: &pb::Envelope) -> Result<(), EnvelopeStructureError> {
    if env.version != VERSION {
        return Err(EnvelopeStructureError::UnsupportedVersion(env.version));
    }
    check_id(|| "sender_oin".into(), &env.sender_oin)?;
    check_id(
        || "sender_signing_key_id".into(),
        &env.sender_signing_key_id,
    )?;
    let binding = env
        .binding
        .as_ref()
        .ok_or(EnvelopeStructureError::MissingBinding)?;
    check_binding(binding)?;
    check_len(|| "nonce".into(), &env.nonce, NONCE_LEN)?;
    if env.ciphertext.len() < TAG_LEN || env.ciphertext.len() > MAX_CIPHERTEXT_LEN {
        return Err(EnvelopeStructureError::BadCiphertextLength(
            env.ciphertext.len(),
        ));
    }
    let n = env.sealed_keys.len();
    if n == 0 || n > MAX_SEALED_KEYS {
        return Err(EnvelopeStructureError::BadRecipientCount(n));
    }
    let mut seen = HashSet::with_capacity(n);
    for (i, k) in env.sealed_keys.iter().enumerate() {
        check_id(
            || format!("sealed_keys[{i}].recipient_oin"),
            &k.recipient_oin,
        )?;
        check_id(|| format!("sealed_keys[{i}].key_id"), &k.key_id)?;
        check_len(|| format!("sealed_keys[{i}].enc"), &k.enc, ENC_LEN)?;
        check_len(
            || format!("sealed_keys[{i}].sealed_data_key"),
            &k.sealed_data_key,
            SEALED_DATA_KEY_LEN,
        )?;
        if !seen.insert((k.recipient_oin.as_str(), k.key_id.as_str())) {
            return Err(EnvelopeStructureError::DuplicateSealedKey { index: i });
        }
    }
    check_len(|| "signature".into(), &env.signature, SIGNATURE_LEN)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    type Mutation = Box<dyn Fn(&mut pb::Envelope)>;

    fn binding() -> pb::EnvelopeBinding {
        pb::EnvelopeBinding {
            signal_id: "sig-1".into(),
            purpose: "zorgsignaal".into(),
            categories: vec!["gezondheid".into(), "gezinssituatie".into()],
            basis_reference: "consent:c-42".into(),
            created_at_unix: 1_750_000_000,
            content_digest: vec![6; CONTENT_DIGEST_LEN],
        }
    }

    fn envelope() -> pb::Envelope {
        pb::Envelope {
            version: VERSION,
            sender_oin: "00000001234567890000".into(),
            sender_signing_key_id: "sign-2025".into(),
            binding: Some(binding()),
            nonce: vec![7; NONCE_LEN],
            ciphertext: vec![9; 40],
            sealed_keys: vec![
                pb::SealedKey {
                    recipient_oin: "00000009876543210000".into(),
                    key_id: "enc-1".into(),
                    enc: vec![1; ENC_LEN],
                    sealed_data_key: vec![2; SEALED_DATA_KEY_LEN],
                },
                pb::SealedKey {
                    recipient_oin: "00000001111111110000".into(),
                    key_id: "enc-1".into(),
                    enc: vec![3; ENC_LEN],
                    sealed_data_key: vec![4; SEALED_DATA_KEY_LEN],
                },
            ],
            signature: vec![5; SIGNATURE_LEN],
        }
    }

    #[test]
    fn aad_layout_is_exact() {
        let b = pb::EnvelopeBinding {
            signal_id: "s".into(),
            purpose: "p".into(),
            categories: vec!["a".into(), "bc".into()],
            basis_reference: "".into(),
            created_at_unix: -2,
            content_digest: Vec::new(),
        };
        let mut want = b"signaalhub/envelope/v1/aad".to_vec();
        want.extend_from_slice(&[0, 0, 0, 1, b's']);
        want.extend_from_slice(&[0, 0, 0, 1, b'p']);
        want.extend_from_slice(&[0, 0, 0, 2]);
        want.extend_from_slice(&[0, 0, 0, 1, b'a']);
        want.extend_from_slice(&[0, 0, 0, 2, b'b', b'c']);
        want.extend_from_slice(&[0, 0, 0, 0]);
        want.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
        // Without a digest: exactly the layout envelopes sealed before it existed are bound to.
        assert_eq!(aad(&b), want);
        // With one: `lp(content_digest)` appended.
        let digest: Vec<u8> = (0..32).collect();
        let with = pb::EnvelopeBinding {
            content_digest: digest.clone(),
            ..b
        };
        want.extend_from_slice(&[0, 0, 0, 32]);
        want.extend_from_slice(&digest);
        assert_eq!(aad(&with), want);
    }

    #[test]
    fn content_digest_input_layout_is_exact() {
        let mut want = b"signaalhub/envelope/v1/content-digest".to_vec();
        want.extend_from_slice(&[0, 0, 0, 3, b's', b'-', b'1', b'x', b'y']);
        assert_eq!(content_digest_input("s-1", b"xy"), want);
        // Moving a byte between the id and the payload changes it.
        assert_ne!(
            content_digest_input("ab", b"c"),
            content_digest_input("a", b"bc")
        );
    }

    #[test]
    fn info_layout_is_exact() {
        let mut want = b"signaalhub/envelope/v1/info".to_vec();
        want.extend_from_slice(&[0, 0, 0, 2, b'a', b'b', 0, 0, 0, 1, b'c', 0, 0, 0, 0]);
        assert_eq!(hpke_info("ab", "c", ""), want);
    }

    #[test]
    fn encodings_are_unambiguous() {
        // Moving a boundary between fields changes the encoding.
        let a = pb::EnvelopeBinding {
            signal_id: "ab".into(),
            purpose: "c".into(),
            ..Default::default()
        };
        let b = pb::EnvelopeBinding {
            signal_id: "a".into(),
            purpose: "bc".into(),
            ..Default::default()
        };
        assert_ne!(aad(&a), aad(&b));
        let c = pb::EnvelopeBinding {
            categories: vec!["x,y".into()],
            ..Default::default()
        };
        let d = pb::EnvelopeBinding {
            categories: vec!["x".into(), "y".into()],
            ..Default::default()
        };
        assert_ne!(aad(&c), aad(&d));
        assert_ne!(hpke_info("ab", "c", "d"), hpke_info("a", "bc", "d"));
        // A binding with a digest differs from one without, and from one with another digest.
        let g = pb::EnvelopeBinding {
            content_digest: vec![1; CONTENT_DIGEST_LEN],
            ..Default::default()
        };
        let h = pb::EnvelopeBinding {
            content_digest: vec![2; CONTENT_DIGEST_LEN],
            ..Default::default()
        };
        assert_ne!(aad(&g), aad(&pb::EnvelopeBinding::default()));
        assert_ne!(aad(&g), aad(&h));
        // A missing binding differs from an empty one.
        let mut e = envelope();
        e.binding = Some(pb::EnvelopeBinding::default());
        let mut f = envelope();
        f.binding = None;
        assert_ne!(signing_input(&e), signing_input(&f));
    }

    #[test]
    fn signing_input_covers_every_field() {
        let base = signing_input(&envelope());
        let mutations: Vec<Mutation> = vec![
            Box::new(|e| e.version = 2),
            Box::new(|e| e.sender_oin.push('1')),
            Box::new(|e| e.sender_signing_key_id.push('x')),
            Box::new(|e| e.binding.as_mut().unwrap().signal_id.push('x')),
            Box::new(|e| e.binding.as_mut().unwrap().purpose.push('x')),
            Box::new(|e| {
                e.binding.as_mut().unwrap().categories.pop();
            }),
            Box::new(|e| e.binding.as_mut().unwrap().basis_reference.push('x')),
            Box::new(|e| e.binding.as_mut().unwrap().created_at_unix += 1),
            Box::new(|e| e.binding.as_mut().unwrap().content_digest[31] ^= 1),
            Box::new(|e| e.binding.as_mut().unwrap().content_digest.clear()),
            Box::new(|e| e.nonce[0] ^= 1),
            Box::new(|e| e.ciphertext[39] ^= 0x80),
            Box::new(|e| e.sealed_keys[1].recipient_oin.push('0')),
            Box::new(|e| e.sealed_keys[0].key_id.push('0')),
            Box::new(|e| e.sealed_keys[1].enc[31] ^= 1),
            Box::new(|e| e.sealed_keys[0].sealed_data_key[47] ^= 1),
            Box::new(|e| e.sealed_keys.swap(0, 1)),
            Box::new(|e| {
                e.sealed_keys.pop();
            }),
        ];
        for (i, m) in mutations.iter().enumerate() {
            let mut e = envelope();
            m(&mut e);
            assert_ne!(signing_input(&e), base, "mutation {i} not covered");
        }
        // The signature itself is not part of what is signed.
        let mut e = envelope();
        e.signature[0] ^= 1;
        assert_eq!(signing_input(&e), base);
    }

    #[test]
    fn structure_accepts_a_good_envelope() {
        check_structure(&envelope()).unwrap();
    }

    #[test]
    fn structure_rejects_each_defect() {
        let cases: Vec<(&str, Mutation)> = vec![
            ("version", Box::new(|e| e.version = 2)),
            ("version 0", Box::new(|e| e.version = 0)),
            ("sender_oin empty", Box::new(|e| e.sender_oin.clear())),
            (
                "sender_oin long",
                Box::new(|e| e.sender_oin = "1".repeat(65)),
            ),
            (
                "signing key id",
                Box::new(|e| e.sender_signing_key_id.clear()),
            ),
            ("binding", Box::new(|e| e.binding = None)),
            (
                "signal id",
                Box::new(|e| e.binding.as_mut().unwrap().signal_id.clear()),
            ),
            (
                "purpose",
                Box::new(|e| e.binding.as_mut().unwrap().purpose = "p".repeat(257)),
            ),
            (
                "categories",
                Box::new(|e| e.binding.as_mut().unwrap().categories = vec!["c".into(); 65]),
            ),
            (
                "content digest short",
                Box::new(|e| e.binding.as_mut().unwrap().content_digest.truncate(31)),
            ),
            (
                "content digest long",
                Box::new(|e| e.binding.as_mut().unwrap().content_digest.push(0)),
            ),
            ("nonce", Box::new(|e| e.nonce.push(0))),
            ("ciphertext", Box::new(|e| e.ciphertext.truncate(15))),
            ("no keys", Box::new(|e| e.sealed_keys.clear())),
            (
                "too many keys",
                Box::new(|e| {
                    let k = e.sealed_keys[0].clone();
                    e.sealed_keys = (0..65)
                        .map(|i| pb::SealedKey {
                            key_id: format!("k{i}"),
                            ..k.clone()
                        })
                        .collect();
                }),
            ),
            ("enc", Box::new(|e| e.sealed_keys[0].enc.truncate(31))),
            (
                "sealed key",
                Box::new(|e| e.sealed_keys[1].sealed_data_key.truncate(32)),
            ),
            (
                "recipient",
                Box::new(|e| e.sealed_keys[1].recipient_oin.clear()),
            ),
            (
                "key id",
                Box::new(|e| e.sealed_keys[1].key_id = "k".repeat(65)),
            ),
            (
                "duplicate",
                Box::new(|e| {
                    let k = e.sealed_keys[0].clone();
                    e.sealed_keys.push(k);
                }),
            ),
            ("signature", Box::new(|e| e.signature.truncate(63))),
        ];
        for (name, m) in cases {
            let mut e = envelope();
            m(&mut e);
            let err = check_structure(&e).expect_err(name);
            assert!(!err.to_string().is_empty());
        }
        // 64 sealed keys are fine; so is the same key id for different recipients.
        let mut e = envelope();
        let k = e.sealed_keys[0].clone();
        e.sealed_keys = (0..64)
            .map(|i| pb::SealedKey {
                recipient_oin: format!("{i:020}"),
                ..k.clone()
            })
            .collect();
        check_structure(&e).unwrap();
        // An envelope sealed before the content digest existed still has a valid structure.
        let mut e = envelope();
        e.binding.as_mut().unwrap().content_digest.clear();
        check_structure(&e).unwrap();
    }
}
