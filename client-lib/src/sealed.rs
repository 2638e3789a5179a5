//! Sealed signals end to end, as the `signaal` CLI and the organisation gateway both do them:
//! choose an id, seal to every recipient's current keys, send; and on the receiving side check an
//! inbox item against its envelope, verify the sender's signature against the directory and open.
//!
//! No rule of the convenant lives here: the hub decides; this only seals and opens.
use crate::envelope::{self, RecipientKey, RecipientSecrets, SenderKeys};
use crate::{ClientError, HubClient};
use signaalhub_proto::pb;
use std::collections::HashMap;

/// Signal ids the hub accepts: 1-64 of `A-Za-z0-9._-`, without a run of 9 or more digits (it
/// could be a BSN).
pub fn valid_signal_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !has_digit_run(id)
}

pub use signaalhub_proto::has_digit_run;

/// Whether `s` is an OIN (20 ASCII digits).
pub fn is_oin(s: &str) -> bool {
    s.len() == signaalhub_proto::OIN_LEN && s.bytes().all(|b| b.is_ascii_digit())
}

/// A fresh signal id: `sig-` and 16 random hex characters, never with a run of 9 digits.
pub fn new_signal_id() -> Result<String, ClientError> {
    use ring::rand::SecureRandom;
    let rng = ring::rand::SystemRandom::new();
    loop {
        let mut bytes = [0u8; 8];
        rng.fill(&mut bytes)
            .map_err(|_| ClientError::Config("the random number generator failed".into()))?;
        let id = format!("sig-{}", hex::encode(bytes));
        if !has_digit_run(&id) {
            return Ok(id);
        }
    }
}

/// The current (not retired) X25519 keys an organisation publishes.
pub async fn current_encryption_keys(
    hub: &mut HubClient,
    oin: &str,
) -> Result<Vec<RecipientKey>, ClientError> {
    let org = hub.get_organization(oin).await?;
    let keys = org
        .encryption_keys
        .iter()
        .filter(|k| k.retired_at.is_none())
        .map(|k| RecipientKey::from_directory(oin, k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ClientError::Config(format!("{oin}'s published encryption key: {e}")))?;
    if keys.is_empty() {
        return Err(ClientError::Config(format!(
            "{oin} publishes no current encryption key; it cannot receive signals"
        )));
    }
    Ok(keys)
}

/// What to send: everything of a `SendSignalRequest` except the envelope, plus the plaintext.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The signal id (see [`new_signal_id`]).
    pub signal_id: String,
    /// Recipient OINs.
    pub recipient_oins: Vec<String>,
    /// The subject's BSN.
    pub subject_bsn: String,
    /// The subject's facts (age, holders of gezag).
    pub subject: pb::SubjectFacts,
    /// Purpose (convenant name).
    pub purpose: String,
    /// Categories (convenant names).
    pub categories: Vec<String>,
    /// How fast the recipient should look.
    pub urgency: pb::Urgency,
    /// Consent ids and/or the legal basis with its evidence.
    pub basis: pb::Basis,
    /// The role to act in ("" when the token carries one).
    pub acting_role: String,
}

/// Seals `payload` to every recipient's current keys, signs it as `sender` and sends it. The
/// hub's refusal comes back as [`ClientError::Status`] with its reasons in the details.
pub async fn send_sealed(
    hub: &mut HubClient,
    sender: &SenderKeys,
    out: Outgoing,
    payload: &[u8],
) -> Result<pb::SendSignalResponse, ClientError> {
    let mut keys = Vec::new();
    for oin in &out.recipient_oins {
        keys.extend(current_encryption_keys(hub, oin).await?);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let binding = pb::EnvelopeBinding {
        signal_id: out.signal_id.clone(),
        purpose: out.purpose.clone(),
        categories: out.categories.clone(),
        basis_reference: signaalhub_proto::basis_reference(&out.basis),
        created_at_unix: now,
        content_digest: Vec::new(), // seal sets it
    };
    let env = envelope::seal(payload, binding, sender, &keys)
        .map_err(|e| ClientError::Config(format!("sealing: {e}")))?;
    hub.send_signal(pb::SendSignalRequest {
        signal_id: out.signal_id,
        envelope: Some(env),
        recipient_oins: out.recipient_oins,
        subject_bsns: vec![out.subject_bsn],
        purpose: out.purpose,
        categories: out.categories,
        urgency: out.urgency as i32,
        basis: Some(out.basis),
        subject: Some(out.subject),
        acting_role: out.acting_role,
        received_for: String::new(),
        inform_exemption: String::new(),
    })
    .await
}

/// Caches the senders' published signing keys by (OIN, key id).
#[derive(Debug, Default)]
pub struct SenderKeyCache(HashMap<(String, String), [u8; 32]>);

impl SenderKeyCache {
    /// The Ed25519 key `oin` publishes under `kid`, from the directory (once per key).
    pub async fn get(
        &mut self,
        hub: &mut HubClient,
        oin: &str,
        kid: &str,
    ) -> Result<[u8; 32], String> {
        let k = (oin.to_owned(), kid.to_owned());
        if let Some(key) = self.0.get(&k) {
            return Ok(*key);
        }
        let org = hub
            .get_organization(oin)
            .await
            .map_err(|e| format!("looking up the sender's signing key: {e}"))?;
        let key: [u8; 32] = org
            .signing_keys
            .iter()
            .find(|p| p.key_id == kid)
            .ok_or_else(|| format!("sender {oin} publishes no signing key {kid:?}"))?
            .public_key
            .as_slice()
            .try_into()
            .map_err(|_| format!("sender {oin}'s signing key {kid:?} is not 32 bytes"))?;
        self.0.insert(k, key);
        Ok(key)
    }
}

/// Checks that `env` is what the inbox item says (sender, id, purpose, categories), verifies the
/// sender's signature against the directory and opens it. The error is a sentence for a person;
/// it never contains payload bytes.
#[allow(clippy::too_many_arguments)]
pub async fn open_received(
    hub: &mut HubClient,
    keys: &mut SenderKeyCache,
    me: &RecipientSecrets,
    sender_oin: &str,
    signal_id: &str,
    purpose: &str,
    categories: &[String],
    env: &pb::Envelope,
) -> Result<Vec<u8>, String> {
    if !is_oin(sender_oin) || !(1..=64).contains(&signal_id.len()) {
        return Err("malformed sender OIN or signal id".into());
    }
    let binding = env.binding.as_ref().ok_or("the envelope has no binding")?;
    if env.sender_oin != sender_oin
        || binding.signal_id != signal_id
        || binding.purpose != purpose
        || binding.categories != categories
    {
        return Err("the envelope's sender or binding differs from the inbox item".into());
    }
    let key = keys
        .get(hub, &env.sender_oin, &env.sender_signing_key_id)
        .await?;
    envelope::open(env, me, &key).map_err(|e| e.to_string())
}

/// [`open_received`] for an inbox stream item.
pub async fn open_item(
    hub: &mut HubClient,
    keys: &mut SenderKeyCache,
    me: &RecipientSecrets,
    item: &pb::StreamInboxResponse,
) -> Result<Vec<u8>, String> {
    let env = item.envelope.as_ref().ok_or("no envelope")?;
    open_received(
        hub,
        keys,
        me,
        &item.sender_oin,
        &item.signal_id,
        &item.purpose,
        &item.categories,
        env,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_signal_ids_are_valid_and_differ() {
        for _ in 0..200 {
            let (a, b) = (new_signal_id().ok(), new_signal_id().ok());
            let a = a.unwrap_or_default();
            assert!(
                a.starts_with("sig-") && a.len() == 20 && valid_signal_id(&a),
                "{a}"
            );
            assert_ne!(Some(a), b);
        }
    }

    #[test]
    fn signal_id_rules() {
        assert!(valid_signal_id("melding-1.v2_x"));
        assert!(valid_signal_id("sig-12345678a"));
        assert!(!valid_signal_id("sig-123456789"));
        assert!(!valid_signal_id(""));
        assert!(!valid_signal_id("a/b"));
        assert!(!valid_signal_id(&"x".repeat(65)));
    }
}
