//! gRPC edges: one module per service, translating wire types to domain types and back.
//! Errors become statuses in one place ([`status`]).
pub mod basis;
pub mod consent;
pub mod directory;
pub mod involvement;
pub mod log;
pub mod maatregel;
pub mod policy;
pub mod safety_plan;
pub mod signals;
pub mod status;
pub mod stream;
pub mod triage;
pub mod zorgmelding;

use crate::auth::Caller;

/// The authenticated caller the auth layer attached to this request.
pub(crate) fn caller<T>(req: &tonic::Request<T>) -> Result<Caller, tonic::Status> {
    req.extensions().get::<Caller>().cloned().ok_or_else(|| {
        // Only reachable if a service were mounted outside the auth layer: fail closed.
        tonic::Status::unauthenticated("request was not authenticated")
    })
}

/// Seconds since the epoch as a protobuf timestamp.
pub(crate) fn timestamp(secs: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: secs,
        nanos: 0,
    }
}
