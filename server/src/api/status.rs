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

/// The items of a server stream fed by a spawned task, with the request id (`x-request-id`) added
/// to the error status that ends the stream: that status travels in the trailers, long after the
/// headers that carried the id, and a client should not have to keep both to report a failure.
pub fn stream_with_request_id<T: Send + 'static>(
    rx: tokio::sync::mpsc::Receiver<Result<T, Status>>,
    id: Option<crate::metrics::RequestId>,
) -> impl futures::Stream<Item = Result<T, Status>> + Send + 'static {
    use tokio_stream::StreamExt;
    let value = id.and_then(|i| tonic::metadata::MetadataValue::try_from(i.0.as_str()).ok());
    tokio_stream::wrappers::ReceiverStream::new(rx).map(move |item| {
        item.map_err(|mut s| {
            if let Some(v) = &value {
                s.metadata_mut()
                    .insert(crate::metrics::REQUEST_ID, v.clone());
            }
            s
        })
    })
}

/// The request id the metrics layer gave this call.
pub fn request_id<T>(request: &tonic::Request<T>) -> Option<crate::metrics::RequestId> {
    request
        .extensions()
        .get::<crate::metrics::RequestId>()
        .cloned()
}
