//! The one place where errors become gRPC statuses: `From<FlowError> for Status`. Every
//! message passes the BSN guard here, whatever the flow wrote into it.
use crate::flows::error::{FlowError, redact_bsns};
use signaalhub_policy as policy;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

impl From<FlowError> for Status {
    fn from(e: FlowError) -> Status {
        match e {
            FlowError::Invalid(violations) => invalid(&violations),
            FlowError::Denied { context, decision } => denied(&context, &decision),
            FlowError::Forbidden(m) => Status::permission_denied(redact_bsns(&m)),
            FlowError::NotFound(m) => Status::not_found(redact_bsns(&m)),
            FlowError::Conflict(m) => Status::already_exists(redact_bsns(&m)),
            FlowError::Precondition(m) => Status::failed_precondition(redact_bsns(&m)),
            FlowError::Aborted(m) => Status::aborted(redact_bsns(&m)),
            FlowError::Unavailable(m) => Status::unavailable(redact_bsns(&m)),
            FlowError::Store(e) => store_unavailable(&e),
            FlowError::Refused(r) => refused(r.code, r.rule, &r.nl, &r.en, &r.message),
        }
    }
}

/// A refusal the convenant does not decide: PERMISSION_DENIED with an ErrorInfo code, the
/// refusal as PreconditionFailure and the Dutch text as LocalizedMessage.
fn refused(code: &str, rule: &str, nl: &str, en: &str, message: &str) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(code, "signaalhub.nl", []);
    details.add_precondition_failure_violation(code, rule, redact_bsns(en));
    details.set_localized_message("nl-NL", redact_bsns(nl));
    Status::with_error_details(Code::PermissionDenied, redact_bsns(message), details)
}

/// A store failure as a status: internals are logged with a correlation id, never returned.
fn store_unavailable(e: &dyn std::fmt::Display) -> Status {
    let id = correlation_id();
    crate::metrics::store_error();
    tracing::error!(correlation_id = %id, error = %e, "store error");
    Status::unavailable(format!(
        "the hub's store cannot answer right now; nothing was changed or disclosed (correlation id {id})"
    ))
}

/// `INVALID_ARGUMENT` with one field violation per bad field, as google.rpc.BadRequest details.
pub fn invalid(violations: &[(&str, String)]) -> Status {
    let mut details = ErrorDetails::new();
    for (field, why) in violations {
        details.add_bad_request_violation(*field, redact_bsns(why));
    }
    let summary = violations
        .iter()
        .map(|(f, w)| format!("{f}: {}", redact_bsns(w)))
        .collect::<Vec<_>>()
        .join("; ");
    Status::with_error_details(Code::InvalidArgument, summary, details)
}

/// A denial as a status, its message starting with `context`: `PERMISSION_DENIED`
/// (FAILED_PRECONDITION would suggest retrying as is), with the reasons as google.rpc details —
/// ErrorInfo (first code), PreconditionFailure (every reason: type = code, subject = rule,
/// description = English text) and a Dutch LocalizedMessage.
pub fn denied(context: &str, d: &policy::Decision) -> Status {
    let mut details = ErrorDetails::new();
    if let Some(first) = d.reasons.first() {
        details.set_error_info(
            first.code.as_str(),
            "signaalhub.nl",
            [("policy_version".to_string(), d.policy_version.to_string())],
        );
    }
    for r in &d.reasons {
        details.add_precondition_failure_violation(r.code.as_str(), r.rule.clone(), r.en.clone());
    }
    let nl = d
        .reasons
        .iter()
        .map(|r| r.nl.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    details.set_localized_message("nl-NL", nl);
    let en = d
        .reasons
        .iter()
        .map(|r| format!("{} ({})", r.en, r.code.as_str()))
        .collect::<Vec<_>>()
        .join("; ");
    Status::with_error_details(
        Code::PermissionDenied,
        redact_bsns(&format!("{context}: not allowed: {en}")),
        details,
    )
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
