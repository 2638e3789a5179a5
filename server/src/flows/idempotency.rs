//! The one idempotency rule: a request that creates something carries a client-chosen id; the
//! hub keeps a hash of what the request said. The same id with the same hash is a retry, answered
//! as the first time was, without deciding again; the same id with another hash is a conflict.
use super::error::FlowError;

/// SHA-256 over the request's canonical parts, each length-prefixed, so no two different
/// requests share a hash by moving bytes between parts. The edge gives the request's own bytes
/// with every BSN left out; the flow adds the subjects' pseudonyms under the first key version
/// (stable across a key rotation) and the role acted in.
pub fn request_hash<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p);
    }
    ctx.finish().as_ref().to_vec()
}

/// The hash of a request about persons: its own bytes (`canonical`, without BSNs and role), the
/// subjects' pseudonyms under the first key version and the role acted in.
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

/// What a stored record with the same id means for a new request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Nothing stored under the id: go on.
    New,
    /// The same request again: answer as the first time.
    Retry,
}

/// Compares a stored request hash with a new one; `what` names the id in the conflict message
/// (e.g. `signal id "s-1"`).
pub fn compare(stored: Option<&[u8]>, new: &[u8], what: &str) -> Result<Seen, FlowError> {
    match stored {
        None => Ok(Seen::New),
        Some(h) if h == new => Ok(Seen::Retry),
        Some(_) => Err(conflict(what)),
    }
}

/// The conflict answer for an id used for different content.
pub fn conflict(what: &str) -> FlowError {
    FlowError::Conflict(format!(
        "{what} was used for a different request; choose a new id"
    ))
}
