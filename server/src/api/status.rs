//! The one place where errors become gRPC statuses.
use crate::store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// A store failure as a status: internals are logged with a correlation id, never returned.
pub fn from_store(e: StoreError) -> Status {
    match e {
        StoreError::NotFound(what) => Status::not_found(format!("{what} not found")),
        StoreError::Conflict(what) => Status::already_exists(format!("{what} already exists")),
        other => {
            let id = correlation_id();
            crate::metrics::store_error();
            tracing::error!(correlation_id = %id, error = %other, "store error");
            Status::unavailable(format!(
                "the hub's store cannot answer right now; nothing was changed or disclosed (correlation id {id})"
            ))
        }
    }
}

/// `INVALID_ARGUMENT` with one field violation per bad field, as google.rpc.BadRequest details.
pub fn invalid(violations: &[(&str, String)]) -> Status {
    let mut details = ErrorDetails::new();
    for (field, why) in violations {
        details.add_bad_request_violation(*field, why.clone());
    }
    let summary = violations
        .iter()
        .map(|(f, w)| format!("{f}: {w}"))
        .collect::<Vec<_>>()
        .join("; ");
    Status::with_error_details(Code::InvalidArgument, summary, details)
}

/// A short random id to correlate a client-visible error with the hub's log.
pub fn correlation_id() -> String {
    let mut b = [0u8; 8];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).is_err() {
        return "unavailable".into();
    }
    hex::encode(b)
}
