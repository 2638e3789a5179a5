//! End-to-end encrypted envelopes: seal a signal's payload for its recipient organisations, and
//! open one addressed to yours. The hub only ever sees ciphertext and the metadata in
//! [`pb::EnvelopeBinding`]; see `docs/ENVELOPE.md` for the format.
//!
//! One pinned suite, format version 1:
//! - a fresh random 32-byte data key per envelope encrypts the payload once with AES-256-GCM
//!   (*ring*), random 12-byte nonce, AAD = [`aad`]`(binding)`;
//! - the data key is sealed to each recipient organisation's published X25519 key with RFC 9180
//!   HPKE base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM (single-shot),
//!   `info` = [`hpke_info`]`(sender OIN, recipient OIN, key id)`, AAD = [`aad`]`(binding)`;
//! - the sender signs [`signing_input`]`(envelope)` (every field but the signature) with its
//!   Ed25519 key (*ring*);
//! - [`seal`] sets `binding.content_digest` to [`content_digest`]: an HMAC-SHA256 of the signal
//!   id and payload under a key only the sender derives (from its signing key's seed), which the
//!   hub compares to tell a retry of the same content from other content under the same id.
//!
//! ```no_run
//! # fn demo(kit: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
//! use signaalhub_client::envelope::{open, seal, RecipientKey, RecipientSecrets, SenderKeys};
//! use signaalhub_client::signaalhub_proto::pb;
//! let pem = std::fs::read_to_string(kit.join("orgs/school/signing-key.pem"))?;
//! let sender = SenderKeys::from_pem("00000001000000000001", "school-sign-1", &pem)?;
//! // Public keys come from the hub's directory (GetOrganization).
//! let vt = RecipientKey { oin: "00000001000000000006".into(), key_id: "vt-enc-1".into(), public_key: [9; 32] };
//! let binding = pb::EnvelopeBinding {
//!     signal_id: "5f0c...".into(),
//!     purpose: "zorgsignaal".into(),
//!     categories: vec!["gezinssituatie".into()],
//!     basis_reference: "consent:c-1".into(),
//!     created_at_unix: 1_750_000_000,
//!     content_digest: Vec::new(), // seal sets it
//! };
//! let envelope = seal(b"...", binding, &sender, &[vt])?;
//! // At Veilig Thuis, with the sender's verifying key looked up in the directory:
//! let pem = std::fs::read_to_string(kit.join("orgs/veilig_thuis/encryption-key.pem"))?;
//! let me = RecipientSecrets::from_pem("00000001000000000006", "vt-enc-1", &pem)?;
//! let payload = open(&envelope, &me, &sender.public_key())?;
//! # Ok(()) }
//! ```

use hpke::kem::X25519HkdfSha256;
use hpke::rand_core::{CryptoRng, RngCore};
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use signaalhub_proto::envelope::{
    CONTENT_DIGEST_LEN, CONTENT_KEY_LABEL, DATA_KEY_LEN, MAX_CIPHERTEXT_LEN, MAX_SEALED_KEYS,
    NONCE_LEN, TAG_LEN, VERSION, check_binding, content_digest_input,
};
use signaalhub_proto::pb;
use std::collections::HashMap;
use std::fmt;
use zeroize::Zeroizing;

/// The canonical encodings and structure check, shared with the hub.
pub use signaalhub_proto::envelope::{
    EnvelopeStructureError, aad, check_structure, hpke_info, signing_input,
};

/// The HPKE KEM of the pinned suite: DHKEM(X25519, HKDF-SHA256), id 0x0020.
pub type SuiteKem = X25519HkdfSha256;
/// The HPKE KDF of the pinned suite: HKDF-SHA256, id 0x0001.
pub type SuiteKdf = hpke::kdf::HkdfSha256;
/// The HPKE AEAD of the pinned suite: AES-256-GCM, id 0x0002.
pub type SuiteAead = hpke::aead::AesGcm256;

/// The pinned suite, for logs and documentation.
pub const SUITE: &str = "HPKE base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM";

/// The largest payload [`seal`] accepts.
pub const MAX_PAYLOAD_LEN: usize = MAX_CIPHERTEXT_LEN - TAG_LEN;

/// Why sealing or opening failed. Messages never contain key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The envelope (or the binding given to [`seal`]) is malformed.
    #[error("malformed envelope: {0}")]
    BadStructure(#[from] EnvelopeStructureError),
    /// A key could not be read (PEM, PKCS#8, hex or length).
    #[error("unusable key: {0}")]
    BadKey(&'static str),
    /// A recipient's published X25519 key is unusable (sealing to it failed).
    #[error("cannot seal to recipient {index} (OIN {oin}, key id {key_id})")]
    BadRecipientKey {
        /// Position in the recipient list.
        index: usize,
        /// The recipient's OIN.
        oin: String,
        /// The key id.
        key_id: String,
    },
    /// [`seal`] was given no recipients, or more than 64.
    #[error("an envelope needs 1 to {MAX_SEALED_KEYS} recipients, not {0}")]
    BadRecipientCount(usize),
    /// The payload is larger than [`MAX_PAYLOAD_LEN`].
    #[error("payload of {0} bytes is larger than {MAX_PAYLOAD_LEN}")]
    PayloadTooLarge(usize),
    /// The signature does not verify with the sender's key: the envelope was altered, or the
    /// caller looked up the wrong key.
    #[error("the sender's signature does not verify")]
    BadSignature,
    /// No sealed key names this organisation's OIN.
    #[error("this organisation is not a recipient of the envelope")]
    NotARecipient,
    /// The envelope is sealed to this organisation, but to key ids it does not hold.
    #[error("sealed to key id(s) {0:?}, none of which this organisation holds")]
    NoKeyForKeyId(Vec<String>),
    /// Decryption failed: the metadata or a ciphertext was altered, or the held key for that key
    /// id is not the one it was sealed to.
    #[error("the envelope could not be opened (altered, or sealed to another key)")]
    OpenFailed,
    /// The system random number generator failed.
    #[error("the random number generator failed")]
    Rng,
    /// A cryptographic operation failed unexpectedly while sealing.
    #[error("sealing failed")]
    SealFailed,
}

/// The sender's identity and Ed25519 signing key, with the content-digest key derived from it.
pub struct SenderKeys {
    /// The sending organisation's OIN.
    pub oin: String,
    /// The key id under which the hub's directory publishes the signing key.
    pub signing_key_id: String,
    key_pair: Ed25519KeyPair,
    content_key: ring::hmac::Key,
}

impl fmt::Debug for SenderKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SenderKeys")
            .field("oin", &self.oin)
            .field("signing_key_id", &self.signing_key_id)
            .field("public_key", &hex::encode(self.public_key()))
            .finish_non_exhaustive()
    }
}

impl SenderKeys {
    /// From a PKCS#8 DER Ed25519 key: version 1 (RFC 8410, as the dev kit, `openssl genpkey
    /// -algorithm ed25519` and Python's `cryptography` write it) or version 2 (as *ring*'s
    /// `Ed25519KeyPair::generate_pkcs8` and dev kits before it wrote it).
    pub fn from_pkcs8_der(
        oin: impl Into<String>,
        signing_key_id: impl Into<String>,
        pkcs8_der: &[u8],
    ) -> Result<SenderKeys, EnvelopeError> {
        let key_pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8_der)
            .map_err(|_| EnvelopeError::BadKey("not an Ed25519 PKCS#8 key"))?;
        // The seed, for the content-digest key; it must be the one the key pair comes from.
        let seed = Zeroizing::new(
            signaalhub_proto::keyfile::secret_from_pkcs8(
                signaalhub_proto::keyfile::Curve::Ed25519,
                pkcs8_der,
            )
            .map_err(|_| EnvelopeError::BadKey("not an Ed25519 PKCS#8 key"))?,
        );
        let from_seed = Ed25519KeyPair::from_seed_unchecked(seed.as_slice())
            .map_err(|_| EnvelopeError::BadKey("not an Ed25519 PKCS#8 key"))?;
        if from_seed.public_key().as_ref() != key_pair.public_key().as_ref() {
            return Err(EnvelopeError::BadKey(
                "the PKCS#8 public key does not belong to its private key",
            ));
        }
        Ok(SenderKeys {
            oin: oin.into(),
            signing_key_id: signing_key_id.into(),
            key_pair,
            content_key: content_key(&seed)?,
        })
    }

    /// From PEM text with a `PRIVATE KEY` block (the dev kit's `signing-key.pem`).
    pub fn from_pem(
        oin: impl Into<String>,
        signing_key_id: impl Into<String>,
        pem: &str,
    ) -> Result<SenderKeys, EnvelopeError> {
        let der = pem_private_key(pem)?;
        SenderKeys::from_pkcs8_der(oin, signing_key_id, &der)
    }

    /// The raw 32-byte Ed25519 public key (as published in the directory).
    pub fn public_key(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.key_pair.public_key().as_ref());
        out
    }
}

/// The content-digest key: `HKDF-SHA256(salt = "", IKM = seed, info = CONTENT_KEY_LABEL, L = 32)`
/// (RFC 5869; an empty salt is HashLen zero bytes).
fn content_key(seed: &[u8; 32]) -> Result<ring::hmac::Key, EnvelopeError> {
    struct Len32;
    impl ring::hkdf::KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let mut okm = Zeroizing::new([0u8; 32]);
    ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, &[])
        .extract(seed)
        .expand(&[CONTENT_KEY_LABEL], Len32)
        .and_then(|o| o.fill(okm.as_mut_slice()))
        .map_err(|_| EnvelopeError::BadKey("cannot derive the content-digest key"))?;
    Ok(ring::hmac::Key::new(
        ring::hmac::HMAC_SHA256,
        okm.as_slice(),
    ))
}

/// The content digest [`seal`] puts in `binding.content_digest`:
///
/// ```text
/// key    = HKDF-SHA256(salt = "", IKM = the sender's 32-byte Ed25519 seed,
///                      info = "signaalhub/envelope/v1/content-key", L = 32)
/// digest = HMAC-SHA256(key, "signaalhub/envelope/v1/content-digest" || u32_be(len(signal_id))
///                           || signal_id || payload)
/// ```
///
/// The same payload under the same id gives the same digest however often it is sealed (a new
/// data key, nonce, HPKE encapsulation and `created_at_unix` each time), so the hub can answer a
/// retry as the first time and refuse other content under a used id. Without the sender's
/// private key nobody (the hub, a recipient, a database reader) can compute it, so it does not
/// let them confirm a guess of a low-entropy payload; the id in the input keeps equal payloads
/// under different ids unlinkable. A sender that changes signing keys gets another digest key:
/// retry with the key of the first attempt.
pub fn content_digest(sender: &SenderKeys, signal_id: &str, payload: &[u8]) -> [u8; 32] {
    let tag = ring::hmac::sign(
        &sender.content_key,
        &content_digest_input(signal_id, payload),
    );
    let mut out = [0u8; CONTENT_DIGEST_LEN];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Decodes the first PKCS#8 `PRIVATE KEY` PEM block of `pem`.
pub(crate) fn pem_private_key(pem: &str) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    use rustls::pki_types::PrivatePkcs8KeyDer;
    use rustls::pki_types::pem::PemObject;
    PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
        .map(|k| Zeroizing::new(k.secret_pkcs8_der().to_vec()))
        .map_err(|_| EnvelopeError::BadKey("no PKCS#8 PRIVATE KEY block in the PEM text"))
}

/// One recipient organisation's published X25519 encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientKey {
    /// The recipient organisation's OIN.
    pub oin: String,
    /// The key id under which the directory publishes the key.
    pub key_id: String,
    /// The raw X25519 public key.
    pub public_key: [u8; 32],
}

impl RecipientKey {
    /// From a key as the directory lists it (`algorithm` must be `X25519`, 32 bytes).
    pub fn from_directory(
        oin: impl Into<String>,
        key: &pb::PublicKey,
    ) -> Result<RecipientKey, EnvelopeError> {
        if !key.algorithm.eq_ignore_ascii_case("X25519") {
            return Err(EnvelopeError::BadKey("not an X25519 key"));
        }
        let public_key = key
            .public_key
            .as_slice()
            .try_into()
            .map_err(|_| EnvelopeError::BadKey("an X25519 public key is 32 bytes"))?;
        Ok(RecipientKey {
            oin: oin.into(),
            key_id: key.key_id.clone(),
            public_key,
        })
    }
}

/// A recipient organisation's X25519 secret keys by key id: the current one and the retired ones,
/// so envelopes sealed before a rotation still open.
pub struct RecipientSecrets {
    /// The organisation's OIN.
    pub oin: String,
    keys: HashMap<String, Zeroizing<[u8; 32]>>,
}

impl fmt::Debug for RecipientSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("RecipientSecrets")
            .field("oin", &self.oin)
            .field("key_ids", &ids)
            .finish_non_exhaustive()
    }
}

fn parse_pem_secret(pem: &str) -> Result<Zeroizing<[u8; 32]>, EnvelopeError> {
    use signaalhub_proto::keyfile::{Curve, KeyFileError, secret_from_pkcs8};
    let der = pem_private_key(pem)?;
    secret_from_pkcs8(Curve::X25519, &der)
        .map(Zeroizing::new)
        .map_err(|e| {
            EnvelopeError::BadKey(match e {
                KeyFileError::NotPkcs8 => "not a PKCS#8 private key",
                KeyFileError::WrongAlgorithm(_) => "not an X25519 private key",
                KeyFileError::BadPrivateKey => "an X25519 private key is 32 bytes",
            })
        })
}

fn parse_hex_secret(hex_text: &str) -> Result<Zeroizing<[u8; 32]>, EnvelopeError> {
    let mut secret = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(hex_text.trim(), secret.as_mut_slice())
        .map_err(|_| EnvelopeError::BadKey("an X25519 secret key is 64 hex characters"))?;
    Ok(secret)
}

impl RecipientSecrets {
    /// No keys yet; add them with [`RecipientSecrets::add_key`].
    pub fn new(oin: impl Into<String>) -> RecipientSecrets {
        RecipientSecrets {
            oin: oin.into(),
            keys: HashMap::new(),
        }
    }

    /// One key from hex text (the dev kit's `encryption-key.hex`: 64 hex characters, the raw
    /// X25519 secret; surrounding whitespace is ignored).
    pub fn from_hex(
        oin: impl Into<String>,
        key_id: impl Into<String>,
        hex_text: &str,
    ) -> Result<RecipientSecrets, EnvelopeError> {
        let mut me = RecipientSecrets::new(oin);
        me.add_hex_key(key_id, hex_text)?;
        Ok(me)
    }

    /// One key from PEM text with a PKCS#8 `PRIVATE KEY` block of an X25519 key (the dev kit's
    /// `encryption-key.pem`; `openssl genpkey -algorithm x25519` writes the same form).
    pub fn from_pem(
        oin: impl Into<String>,
        key_id: impl Into<String>,
        pem: &str,
    ) -> Result<RecipientSecrets, EnvelopeError> {
        let mut me = RecipientSecrets::new(oin);
        me.add_pem_key(key_id, pem)?;
        Ok(me)
    }

    /// One key from the text of a key file in either form: PEM (PKCS#8, as
    /// [`RecipientSecrets::from_pem`]) when it holds a `-----BEGIN` line, else 64 hex characters
    /// (as [`RecipientSecrets::from_hex`]; dev kits before PKCS#8 wrote `encryption-key.hex`).
    pub fn from_key_file_text(
        oin: impl Into<String>,
        key_id: impl Into<String>,
        text: &str,
    ) -> Result<RecipientSecrets, EnvelopeError> {
        if text.contains("-----BEGIN") {
            RecipientSecrets::from_pem(oin, key_id, text)
        } else {
            RecipientSecrets::from_hex(oin, key_id, text)
        }
    }

    /// Adds (or replaces) the secret for `key_id` from a key file's text in either form (see
    /// [`RecipientSecrets::from_key_file_text`]).
    pub fn add_key_file_text(
        &mut self,
        key_id: impl Into<String>,
        text: &str,
    ) -> Result<(), EnvelopeError> {
        if text.contains("-----BEGIN") {
            self.add_pem_key(key_id, text)
        } else {
            self.add_hex_key(key_id, text)
        }
    }

    /// Adds (or replaces) the raw X25519 secret for `key_id`.
    pub fn add_key(&mut self, key_id: impl Into<String>, secret: [u8; 32]) {
        self.keys.insert(key_id.into(), Zeroizing::new(secret));
    }

    /// Adds (or replaces) the secret for `key_id` from 64 hex characters.
    pub fn add_hex_key(
        &mut self,
        key_id: impl Into<String>,
        hex_text: &str,
    ) -> Result<(), EnvelopeError> {
        let secret = parse_hex_secret(hex_text)?;
        self.keys.insert(key_id.into(), secret);
        Ok(())
    }

    /// Adds (or replaces) the secret for `key_id` from a PKCS#8 `PRIVATE KEY` PEM block
    /// (version 1 or 2).
    pub fn add_pem_key(
        &mut self,
        key_id: impl Into<String>,
        pem: &str,
    ) -> Result<(), EnvelopeError> {
        let secret = parse_pem_secret(pem)?;
        self.keys.insert(key_id.into(), secret);
        Ok(())
    }

    /// Forgets the secret for `key_id` (after every envelope sealed to it was opened).
    pub fn remove_key(&mut self, key_id: &str) -> bool {
        self.keys.remove(key_id).is_some()
    }

    /// The key ids held, sorted.
    pub fn key_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.keys.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// The X25519 public key for `key_id` (what the directory should publish), if held.
    pub fn public_key(&self, key_id: &str) -> Option<[u8; 32]> {
        let secret = self.keys.get(key_id)?;
        let sk = <SuiteKem as hpke::Kem>::PrivateKey::from_bytes(secret.as_slice()).ok()?;
        let pk = SuiteKem::sk_to_pk(&sk).to_bytes();
        let mut out = [0u8; 32];
        out.copy_from_slice(&pk[..]);
        Some(out)
    }
}

/// *ring*'s system RNG as the `rand_core` generator HPKE asks for. `RngCore` cannot fail, so a
/// failure fills zeros and is recorded; [`seal`] checks [`RingRng::failed`] after each use and
/// discards the result.
struct RingRng {
    rng: SystemRandom,
    failed: bool,
}

impl RingRng {
    fn new() -> RingRng {
        RingRng {
            rng: SystemRandom::new(),
            failed: false,
        }
    }
}

impl RngCore for RingRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        if self.rng.fill(dst).is_err() {
            dst.fill(0);
            self.failed = true;
        }
    }
}

impl CryptoRng for RingRng {}

/// Seals `payload` for `recipients` (1 to 64 published keys; an organisation may appear with
/// several key ids) and signs the envelope as `sender`.
///
/// The returned envelope passes [`check_structure`]; its binding is `binding` with
/// `content_digest` set to [`content_digest`]`(sender, binding.signal_id, payload)` (whatever the
/// caller put there is replaced), so the AAD and the signature bind it.
pub fn seal(
    payload: &[u8],
    mut binding: pb::EnvelopeBinding,
    sender: &SenderKeys,
    recipients: &[RecipientKey],
) -> Result<pb::Envelope, EnvelopeError> {
    binding.content_digest = content_digest(sender, &binding.signal_id, payload).to_vec();
    check_binding(&binding)?;
    if recipients.is_empty() || recipients.len() > MAX_SEALED_KEYS {
        return Err(EnvelopeError::BadRecipientCount(recipients.len()));
    }
    if payload.len() > MAX_PAYLOAD_LEN {
        return Err(EnvelopeError::PayloadTooLarge(payload.len()));
    }
    let aad_bytes = aad(&binding);
    let mut rng = RingRng::new();

    // The payload, once, under a fresh data key.
    let mut data_key = Zeroizing::new([0u8; DATA_KEY_LEN]);
    let mut nonce = [0u8; NONCE_LEN];
    rng.rng
        .fill(data_key.as_mut_slice())
        .map_err(|_| EnvelopeError::Rng)?;
    rng.rng.fill(&mut nonce).map_err(|_| EnvelopeError::Rng)?;
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, data_key.as_slice())
            .map_err(|_| EnvelopeError::SealFailed)?,
    );
    let mut ciphertext = Vec::with_capacity(payload.len() + TAG_LEN);
    ciphertext.extend_from_slice(payload);
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad_bytes.as_slice()),
        &mut ciphertext,
    )
    .map_err(|_| EnvelopeError::SealFailed)?;

    // The data key, to each recipient.
    let mut sealed_keys = Vec::with_capacity(recipients.len());
    for (index, r) in recipients.iter().enumerate() {
        let bad = || EnvelopeError::BadRecipientKey {
            index,
            oin: r.oin.clone(),
            key_id: r.key_id.clone(),
        };
        let pk =
            <SuiteKem as hpke::Kem>::PublicKey::from_bytes(&r.public_key).map_err(|_| bad())?;
        let info = hpke_info(&sender.oin, &r.oin, &r.key_id);
        let (enc, sealed_data_key) = hpke::single_shot_seal::<SuiteAead, SuiteKdf, SuiteKem, _>(
            &OpModeS::Base,
            &pk,
            &info,
            data_key.as_slice(),
            &aad_bytes,
            &mut rng,
        )
        .map_err(|_| bad())?;
        if rng.failed {
            return Err(EnvelopeError::Rng);
        }
        sealed_keys.push(pb::SealedKey {
            recipient_oin: r.oin.clone(),
            key_id: r.key_id.clone(),
            enc: enc.to_bytes().to_vec(),
            sealed_data_key,
        });
    }

    let mut env = pb::Envelope {
        version: VERSION,
        sender_oin: sender.oin.clone(),
        sender_signing_key_id: sender.signing_key_id.clone(),
        binding: Some(binding),
        nonce: nonce.to_vec(),
        ciphertext,
        sealed_keys,
        signature: Vec::new(),
    };
    env.signature = sender.key_pair.sign(&signing_input(&env)).as_ref().to_vec();
    check_structure(&env)?;
    Ok(env)
}

/// Checks only the envelope's structure and sender signature (what the hub also checks), given
/// the raw Ed25519 public key of `env.sender_signing_key_id`.
pub fn verify(env: &pb::Envelope, sender_verifying_key: &[u8; 32]) -> Result<(), EnvelopeError> {
    check_structure(env)?;
    UnparsedPublicKey::new(&ED25519, sender_verifying_key)
        .verify(&signing_input(env), &env.signature)
        .map_err(|_| EnvelopeError::BadSignature)
}

/// Opens an envelope addressed to `me`: checks its structure, verifies the sender's signature
/// with `sender_verifying_key` (the raw Ed25519 public key the directory publishes for
/// `env.sender_oin` under `env.sender_signing_key_id`; looking it up is the caller's job), then
/// unseals the data key with the held secret for a key id it was sealed to, and decrypts.
pub fn open(
    env: &pb::Envelope,
    me: &RecipientSecrets,
    sender_verifying_key: &[u8; 32],
) -> Result<Vec<u8>, EnvelopeError> {
    verify(env, sender_verifying_key)?;
    let binding = env
        .binding
        .as_ref()
        .ok_or(EnvelopeStructureError::MissingBinding)?;
    let aad_bytes = aad(binding);

    let mine: Vec<&pb::SealedKey> = env
        .sealed_keys
        .iter()
        .filter(|k| k.recipient_oin == me.oin)
        .collect();
    if mine.is_empty() {
        return Err(EnvelopeError::NotARecipient);
    }
    let mut held = mine
        .iter()
        .filter_map(|k| me.keys.get(&k.key_id).map(|s| (*k, s)))
        .peekable();
    if held.peek().is_none() {
        return Err(EnvelopeError::NoKeyForKeyId(
            mine.iter().map(|k| k.key_id.clone()).collect(),
        ));
    }
    let data_key = held
        .find_map(|(k, secret)| unseal_data_key(env, k, secret, &aad_bytes))
        .ok_or(EnvelopeError::OpenFailed)?;

    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, data_key.as_slice())
            .map_err(|_| EnvelopeError::OpenFailed)?,
    );
    let nonce =
        Nonce::try_assume_unique_for_key(&env.nonce).map_err(|_| EnvelopeError::OpenFailed)?;
    let mut buf = Zeroizing::new(env.ciphertext.clone());
    let plain_len = key
        .open_in_place(nonce, Aad::from(aad_bytes.as_slice()), buf.as_mut_slice())
        .map_err(|_| EnvelopeError::OpenFailed)?
        .len();
    Ok(buf[..plain_len].to_vec())
}

/// HPKE-opens one sealed data key; `None` on any failure.
fn unseal_data_key(
    env: &pb::Envelope,
    k: &pb::SealedKey,
    secret: &[u8; 32],
    aad_bytes: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let sk = <SuiteKem as hpke::Kem>::PrivateKey::from_bytes(secret).ok()?;
    let enc = <SuiteKem as hpke::Kem>::EncappedKey::from_bytes(&k.enc).ok()?;
    let info = hpke_info(&env.sender_oin, &k.recipient_oin, &k.key_id);
    let data_key = Zeroizing::new(
        hpke::single_shot_open::<SuiteAead, SuiteKdf, SuiteKem>(
            &OpModeR::Base,
            &sk,
            &enc,
            &info,
            &k.sealed_data_key,
            aad_bytes,
        )
        .ok()?,
    );
    (data_key.len() == DATA_KEY_LEN).then_some(data_key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn sender() -> SenderKeys {
        let pk8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        SenderKeys::from_pkcs8_der("00000001000000000001", "sign-1", pk8.as_ref()).unwrap()
    }

    fn binding() -> pb::EnvelopeBinding {
        pb::EnvelopeBinding {
            signal_id: "s-1".into(),
            purpose: "zorgsignaal".into(),
            categories: vec!["gezinssituatie".into()],
            basis_reference: "legal:wet-meldcode".into(),
            created_at_unix: 1_750_000_000,
            content_digest: Vec::new(), // seal sets it
        }
    }

    fn recipient(oin: &str, key_id: &str) -> (RecipientSecrets, RecipientKey) {
        let mut secret = [0u8; 32];
        SystemRandom::new().fill(&mut secret).unwrap();
        let me = RecipientSecrets::from_hex(oin, key_id, &hex::encode(secret)).unwrap();
        let public_key = me.public_key(key_id).unwrap();
        (
            me,
            RecipientKey {
                oin: oin.into(),
                key_id: key_id.into(),
                public_key,
            },
        )
    }

    #[test]
    fn round_trip_and_secrets_are_not_printed() {
        let s = sender();
        let (me, rk) = recipient("00000001000000000006", "vt-1");
        let env = seal(b"hello", binding(), &s, std::slice::from_ref(&rk)).unwrap();
        assert_eq!(open(&env, &me, &s.public_key()).unwrap(), b"hello");
        let secret_hex = hex::encode(*me.keys["vt-1"]);
        let dbg = format!("{me:?} {s:?}");
        assert!(!dbg.contains(&secret_hex), "{dbg}");
        assert!(dbg.contains("vt-1"));
    }

    #[test]
    fn pem_and_der_give_the_same_key() {
        use base64::Engine;
        let pk8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(pk8.as_ref());
        let label = "PRIVATE KEY";
        let pem = format!(
            "-----BEGIN {label}-----\n{}\n{}\n-----END {label}-----\n",
            &b64[..64],
            &b64[64..]
        );
        let a = SenderKeys::from_pem("o", "k", &pem).unwrap();
        let b = SenderKeys::from_pkcs8_der("o", "k", pk8.as_ref()).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        assert!(matches!(
            SenderKeys::from_pem("o", "k", "nothing"),
            Err(EnvelopeError::BadKey(_))
        ));
        assert!(matches!(
            SenderKeys::from_pkcs8_der("o", "k", b"junk"),
            Err(EnvelopeError::BadKey(_))
        ));
    }

    #[test]
    fn hex_secrets_are_checked() {
        assert!(RecipientSecrets::from_hex("o", "k", "abcd").is_err());
        assert!(RecipientSecrets::from_hex("o", "k", &"zz".repeat(32)).is_err());
        let me = RecipientSecrets::from_hex("o", "k", &format!(" {}\n", "11".repeat(32))).unwrap();
        assert_eq!(me.key_ids(), vec!["k".to_string()]);
    }

    #[test]
    fn seal_rejects_bad_inputs() {
        let s = sender();
        let (_, rk) = recipient("00000001000000000006", "vt-1");
        assert!(matches!(
            seal(b"x", binding(), &s, &[]),
            Err(EnvelopeError::BadRecipientCount(0))
        ));
        let mut b = binding();
        b.signal_id.clear();
        assert!(matches!(
            seal(b"x", b, &s, std::slice::from_ref(&rk)),
            Err(EnvelopeError::BadStructure(_))
        ));
        // The all-zero point is not a usable X25519 key.
        let zero = RecipientKey {
            public_key: [0; 32],
            ..rk.clone()
        };
        assert!(matches!(
            seal(b"x", binding(), &s, &[rk.clone(), zero]),
            Err(EnvelopeError::BadRecipientKey { index: 1, .. })
        ));
        // The same recipient key twice is refused (the hub would refuse it too).
        assert!(matches!(
            seal(b"x", binding(), &s, &[rk.clone(), rk]),
            Err(EnvelopeError::BadStructure(_))
        ));
    }

    #[test]
    fn directory_keys_convert() {
        let k = pb::PublicKey {
            key_id: "e1".into(),
            algorithm: "X25519".into(),
            public_key: vec![7; 32],
            ..Default::default()
        };
        let rk = RecipientKey::from_directory("o", &k).unwrap();
        assert_eq!(rk.public_key, [7; 32]);
        let ed = pb::PublicKey {
            algorithm: "Ed25519".into(),
            ..k.clone()
        };
        assert!(RecipientKey::from_directory("o", &ed).is_err());
        let short = pb::PublicKey {
            public_key: vec![7; 31],
            ..k
        };
        assert!(RecipientKey::from_directory("o", &short).is_err());
    }
}
