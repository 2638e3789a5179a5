//! gRPC edges: one module per service, translating wire types to domain types and back.
//! Errors become statuses in one place ([`status`]).
/// The wire's enums for the domain's coded values: each wire value's name is its enum's prefix and
/// the domain code (`TRIAGE_DECISION_KIND_` + `JOINT_VISIT`), so one rule converts both ways and
/// a test holds every value to it.
macro_rules! wire_codes {
    ($($domain:ident => $pb:ty, $prefix:literal, $to:ident, $from:ident;)*) => {$(
        /// The wire value of a domain value.
        fn $to(v: $domain) -> i32 {
            <$pb>::from_str_name(&format!(concat!($prefix, "{}"), v.code())).map_or(0, i32::from)
        }

        /// The domain value of a wire value; `None` for UNSPECIFIED and unknown numbers.
        fn $from(v: i32) -> Option<$domain> {
            <$pb>::try_from(v)
                .ok()?
                .as_str_name()
                .strip_prefix($prefix)
                .and_then($domain::from_code)
        }
    )*};
}

pub mod basis;
pub mod consent;
pub mod directory;
pub mod family;
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
