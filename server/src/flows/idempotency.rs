//! The one idempotency rule: a request that creates something carries a client-chosen id; the
//! hub keeps, with what it stored, a hash of the request's metadata and the sender's content
//! digest of each envelope (`binding.content_digest`, docs/ENVELOPE.md "Content digest"). The same
//! id with the same hash and the same digest is a retry — even re-sealed, with a new HPKE
//! encapsulation and a new `created_at_unix` — answered as the first time was, without deciding,
//! storing or logging again; the same id with another hash or another digest is a conflict
//! (`ALREADY_EXISTS`, naming the id, never the content).
use super::error::FlowError;
use crate::domain::envelope::SealedEnvelope;

/// SHA-256 over the request's canonical parts, each length-prefixed, so no two different
/// requests share a hash by moving bytes between parts. The edge gives the request's own bytes
/// with every envelope and BSN left out; the flow adds the subjects' pseudonyms under the first
/// key version (stable across a key rotation) and the role acted in. The envelopes' content is
/// compared through their content digests, not their bytes, which differ at every seal.
pub fn request_hash<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p);
    }
    ctx.finish().as_ref().to_vec()
}

/// The hash of a request about persons: its own bytes (`canonical`, without envelopes, BSNs and
/// role), the subjects' pseudonyms under the first key version and the role acted in.
pub fn subjects_request_hash(
    canonical: &[u8],
    subjects: &[crate::ids::SubjectKey],
    role: &str,
) -> Vec<u8> {
    request_hash(
        std::iter::once(canonical)
            .chain(subjects.iter().map(|s| s.root().as_str().as_bytes()))
            .chain(std::iter::once(role.as_bytes())),
    )
}

/// The content digest kept for a request with several envelopes (a handover): their digests in
/// the request's order, concatenated (each is 32 bytes, so the concatenation is unambiguous).
pub fn content_digests(envelopes: &[SealedEnvelope]) -> Vec<u8> {
    envelopes
        .iter()
        .flat_map(|e| e.binding.content_digest.iter().copied())
        .collect()
}

/// What the hub keeps of a request to recognise it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint<'a> {
    /// [`request_hash`] of its metadata.
    pub request_hash: &'a [u8],
    /// The sender's content digest(s); `None` for a record stored before the hub kept them.
    pub content_digest: Option<&'a [u8]>,
}

impl<'a> Fingerprint<'a> {
    /// A fingerprint of a new request (which always carries a digest).
    pub fn new(request_hash: &'a [u8], content_digest: &'a [u8]) -> Self {
        Fingerprint {
            request_hash,
            content_digest: Some(content_digest),
        }
    }
}

/// What a stored record with the same id means for a new request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Nothing stored under the id: go on.
    New,
    /// The same request again: answer as the first time.
    Retry,
}

/// Compares what is stored under an id with a new request; `what` names the id in the conflict
/// message (e.g. `signal id "s-1"`).
pub fn compare(
    stored: Option<Fingerprint<'_>>,
    new: Fingerprint<'_>,
    what: &str,
) -> Result<Seen, FlowError> {
    let Some(stored) = stored else {
        return Ok(Seen::New);
    };
    if stored.request_hash != new.request_hash {
        return Err(conflict(what));
    }
    match stored.content_digest {
        Some(d) if Some(d) == new.content_digest => Ok(Seen::Retry),
        Some(_) => Err(FlowError::Conflict(format!(
            "{what} was used for other content (another binding.content_digest); a retry must carry the same payload, new content needs a new id"
        ))),
        None => Err(FlowError::Conflict(format!(
            "{what} was stored before the hub kept content digests, so a retry cannot be told from other content; choose a new id"
        ))),
    }
}

/// The conflict answer for an id used for a different request.
pub fn conflict(what: &str) -> FlowError {
    FlowError::Conflict(format!(
        "{what} was used for a different request; choose a new id"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_id_is_a_retry_only_with_the_same_metadata_and_content() {
        let (h, d) = (vec![1u8; 32], vec![2u8; 32]);
        let stored = Fingerprint::new(&h, &d);
        let what = "signal id \"s-1\"";
        assert_eq!(compare(None, stored, what).ok(), Some(Seen::New));
        assert_eq!(compare(Some(stored), stored, what).ok(), Some(Seen::Retry));
        let other_digest = vec![3u8; 32];
        let other_hash = vec![4u8; 32];
        for new in [
            Fingerprint::new(&h, &other_digest),
            Fingerprint::new(&other_hash, &d),
        ] {
            match compare(Some(stored), new, what) {
                Err(FlowError::Conflict(m)) => {
                    assert!(m.contains(what), "{m}");
                    assert!(m.contains("new id"), "{m}");
                }
                other => panic!("{other:?}"),
            }
        }
        // A record stored before digests cannot tell a retry from other content.
        let old = Fingerprint {
            request_hash: &h,
            content_digest: None,
        };
        assert!(matches!(
            compare(Some(old), stored, what),
            Err(FlowError::Conflict(_))
        ));
    }
}
