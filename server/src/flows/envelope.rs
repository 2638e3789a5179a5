//! The one check of an envelope's outside, for every flow that carries one (signals, police
//! fragments, handovers, safety plans). The hub cannot open an envelope, but it refuses one that
//! is not the sender's, not bound to what the request says, sealed to someone else or to a key
//! that is not current, or whose signature does not verify against the published key.
use super::Ctx;
use super::error::{Violations, echo};
use crate::domain::directory::KeyUsage;
use crate::domain::envelope::SealedEnvelope;
use crate::ids::{Category, Oin, Purpose};

/// What an envelope must be bound to and sealed to.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The caller's OIN: the envelope's sender.
    pub sender: &'a str,
    /// What `binding.signal_id` must say: the signal's id, a fragment's or handover envelope's
    /// id, or a safety plan's `<case_id>.v<version>` (the wire field names every kind alike).
    pub binding_id: &'a str,
    /// `binding.purpose`.
    pub purpose: &'a Purpose,
    /// `binding.categories` (same order).
    pub categories: &'a [Category],
    /// `binding.basis_reference` (`Basis::reference` of the basis the request presents).
    pub basis_reference: &'a str,
    /// Exactly these recipients, each once; `None` when the flow checks the recipients itself
    /// where they are known (a safety plan: inside the transaction that reads the case's parties).
    pub recipients: Option<&'a [&'a str]>,
}

/// Checks binding and recipients against `x` and, when they hold, the signature and key ids
/// against the directory. Violations are named `envelope.*`.
pub fn check(ctx: &Ctx, env: &SealedEnvelope, x: Expected<'_>, bad: &mut Violations) {
    let before = bad.len();
    check_binding(env, x, bad);
    if bad.len() == before {
        check_current(ctx, env, bad);
    }
}

/// What a request that stores an envelope must carry in `binding.content_digest`, and how a
/// client computes it (docs/ENVELOPE.md, "Content digest").
pub const CONTENT_DIGEST_RULE: &str = "required: the 32-byte HMAC-SHA256 of \"signaalhub/envelope/v1/content-digest\" || u32_be(len(signal_id)) || signal_id || payload, keyed with HKDF-SHA256(salt empty, IKM = your Ed25519 signing key's 32-byte seed, info \"signaalhub/envelope/v1/content-key\", 32 bytes); signaalhub-client's seal sets it (docs/ENVELOPE.md, \"Content digest\")";

/// The first half of [`check`], which needs no directory: sender, binding (with its content
/// digest) and recipients. A flow that answers retries runs it before looking the id up, and
/// [`check_current`] after (a retry of an accepted request is answered as the first time even
/// after a key rotation).
pub fn check_binding(env: &SealedEnvelope, x: Expected<'_>, bad: &mut Violations) {
    if env.sender_oin != x.sender {
        bad.push(("envelope.sender_oin", "must be your own OIN".into()));
    }
    let b = &env.binding;
    if b.content_digest.len() != signaalhub_proto::envelope::CONTENT_DIGEST_LEN {
        bad.push((
            "envelope.binding.content_digest",
            CONTENT_DIGEST_RULE.into(),
        ));
    }
    if b.signal_id != x.binding_id {
        bad.push((
            "envelope.binding.signal_id",
            format!("must be {:?}", echo(x.binding_id)),
        ));
    }
    if b.purpose != x.purpose.as_str() {
        bad.push((
            "envelope.binding.purpose",
            format!("must be {:?}", x.purpose.as_str()),
        ));
    }
    if !b
        .categories
        .iter()
        .map(String::as_str)
        .eq(x.categories.iter().map(Category::as_str))
    {
        bad.push((
            "envelope.binding.categories",
            "must equal the request's categories (same order)".into(),
        ));
    }
    if b.basis_reference != x.basis_reference {
        bad.push((
            "envelope.binding.basis_reference",
            format!(
                "must be {:?} for the basis this request presents",
                x.basis_reference
            ),
        ));
    }
    let Some(recipients) = x.recipients else {
        return;
    };
    for rc in recipients {
        if !env.sealed_to.iter().any(|k| k.recipient_oin == *rc) {
            bad.push((
                "envelope.sealed_keys",
                format!("no data key is sealed to recipient {rc}"),
            ));
        }
    }
    for k in &env.sealed_to {
        if !recipients.contains(&k.recipient_oin.as_str()) {
            bad.push((
                "envelope.sealed_keys",
                format!(
                    "a data key is sealed to {}, which is not a recipient",
                    echo(&k.recipient_oin)
                ),
            ));
        }
    }
}

/// How long before its arrival an envelope may have been sealed (`binding.created_at_unix`).
pub const MAX_AGE_SECS: i64 = 24 * 3600;
/// How far ahead of the hub's clock a sender's clock may be.
pub const MAX_SKEW_SECS: i64 = 300;

/// The violations of an envelope that travels in a field other than `envelope` (a handover
/// answer's `question`, feedback's `note`): each `envelope…` field named by `field` instead.
pub fn in_field(found: Violations, field: &'static str) -> Violations {
    found
        .into_iter()
        .map(|(f, why)| (f.strip_prefix("envelope").map_or(f, |_| field), why))
        .collect()
}

/// The second half of [`check`], what depends on now: the envelope was sealed within the last
/// [`MAX_AGE_SECS`] (and at most [`MAX_SKEW_SECS`] ahead); the sender's signature verifies with
/// the signing key it names, which its organisation published and has not retired; every data
/// key is sealed to its recipient's current key.
pub fn check_current(ctx: &Ctx, env: &SealedEnvelope, bad: &mut Violations) {
    let now = super::now();
    let sealed = env.binding.created_at;
    if sealed > now.saturating_add(MAX_SKEW_SECS) || sealed < now.saturating_sub(MAX_AGE_SECS) {
        bad.push((
            "envelope.binding.created_at_unix",
            format!(
                "the envelope must have been sealed in the last {} hours (and not more than {} minutes ahead of the hub's clock); seal it again",
                MAX_AGE_SECS / 3600,
                MAX_SKEW_SECS / 60
            ),
        ));
    }
    check_keys(ctx, env, bad);
}

fn check_keys(ctx: &Ctx, env: &SealedEnvelope, bad: &mut Violations) {
    let dir = ctx.directory.snapshot();
    let current = |oin: &str, usage: KeyUsage, kid: &str| {
        oin.parse::<Oin>()
            .ok()
            .and_then(|o| dir.orgs.get(&o))
            .and_then(|e| e.envelope_keys.get(&(usage, kid.to_owned())).cloned())
    };
    match current(&env.sender_oin, KeyUsage::Signing, &env.signing_key_id) {
        None => bad.push((
            "envelope.sender_signing_key_id",
            "not the current signing key your organisation published".into(),
        )),
        Some(key) => {
            if ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &key)
                .verify(&env.signing_input, &env.signature)
                .is_err()
            {
                bad.push((
                    "envelope.signature",
                    "does not verify with the signing key it names".into(),
                ));
            }
        }
    }
    for sk in &env.sealed_to {
        if current(&sk.recipient_oin, KeyUsage::Encryption, &sk.key_id).is_none() {
            bad.push((
                "envelope.sealed_keys.key_id",
                format!(
                    "{} is not the current encryption key of {}; fetch it with GetOrganization",
                    echo(&sk.key_id),
                    echo(&sk.recipient_oin)
                ),
            ));
        }
    }
}
