//! The local API's errors as RFC 9457 problem details (`application/problem+json`): `type`,
//! `title`, `status`, `detail`, plus `errors` (one per field to fix) and `reasons` (the
//! convenant's, when the hub says no). Fixed texts or the hub's own sentences: never a token, a
//! BSN or a signal's text.
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use signaalhub_client::ClientError;
use signaalhub_client::signaalhub_proto::pb;
use tonic_types::StatusExt;

/// The problem types, as URNs (`urn:signaalhub:problem:<name>`); docs/API.md explains each.
pub const TYPE_PREFIX: &str = "urn:signaalhub:problem:";

/// A field to fix.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as named in the request body (or path).
    pub field: String,
    /// What is wrong with it.
    pub detail: String,
}

/// One reason of the convenant (or the hub) for saying no.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReasonView {
    /// Stable code, e.g. `CONSENT_MISSING_GEZAG_HOLDER`.
    pub code: String,
    /// The rule that decided, when known.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rule: String,
    /// Dutch.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text_nl: String,
    /// English.
    pub text_en: String,
}

impl From<&pb::Reason> for ReasonView {
    fn from(r: &pb::Reason) -> Self {
        ReasonView {
            code: r.code.clone(),
            rule: r.rule.clone(),
            text_nl: r.text_nl.clone(),
            text_en: r.text_en.clone(),
        }
    }
}

/// A problem answer.
#[derive(Debug, Clone, Serialize)]
pub struct ApiProblem {
    /// The type's name; serialized as `urn:signaalhub:problem:<name>`.
    #[serde(rename = "type", serialize_with = "urn")]
    pub kind: &'static str,
    /// Short, the same for every occurrence of the type.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// This occurrence.
    pub detail: String,
    /// Fields to fix.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The convenant's reasons.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<ReasonView>,
}

fn urn<S: serde::Serializer>(name: &&'static str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{TYPE_PREFIX}{name}"))
}

impl ApiProblem {
    /// A problem of type `name` with `status`.
    pub fn new(
        name: &'static str,
        status: u16,
        title: &'static str,
        detail: impl Into<String>,
    ) -> ApiProblem {
        ApiProblem {
            kind: name,
            title,
            status,
            detail: detail.into(),
            errors: Vec::new(),
            reasons: Vec::new(),
        }
    }

    /// 422 with the fields to fix.
    pub fn invalid(errors: Vec<FieldError>) -> ApiProblem {
        ApiProblem {
            errors,
            ..ApiProblem::new(
                "invalid-request",
                422,
                "The request has fields to fix",
                "Nothing was sent to the hub; fix the fields listed in `errors`.",
            )
        }
    }

    /// 400 for a body that is not the endpoint's JSON.
    pub fn bad_json(detail: impl Into<String>) -> ApiProblem {
        ApiProblem::new(
            "bad-json",
            400,
            "The body is not this endpoint's JSON",
            detail,
        )
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> ApiProblem {
        ApiProblem::new("not-found", 404, "Not found", detail)
    }

    /// 503 when the gateway's store or audit log cannot be used.
    pub fn store_unavailable(detail: impl Into<String>) -> ApiProblem {
        ApiProblem::new(
            "store-unavailable",
            503,
            "The gateway's store cannot be used now",
            detail,
        )
    }

    /// From a failed hub call: the convenant's refusal with its reasons (403), the hub's field
    /// violations (422), or what went wrong on the way.
    pub fn from_client(e: &ClientError) -> ApiProblem {
        match e {
            ClientError::Status(s) => from_status(s),
            ClientError::Transport(_) => ApiProblem::new(
                "hub-unavailable",
                503,
                "The hub cannot be reached",
                "The hub cannot be reached now; nothing was sent. Retry in a minute.",
            ),
            ClientError::Config(m) => ApiProblem::new(
                "gateway-error",
                502,
                "The gateway could not prepare this",
                m.clone(),
            ),
        }
    }
}

fn from_status(s: &tonic::Status) -> ApiProblem {
    let details = s.get_error_details();
    let errors: Vec<FieldError> = details
        .bad_request()
        .map(|br| {
            br.field_violations
                .iter()
                .map(|v| FieldError {
                    field: v.field.clone(),
                    detail: v.description.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let message = s.message().to_owned();
    match s.code() {
        tonic::Code::PermissionDenied => {
            let mut p = ApiProblem::new(
                "denied",
                403,
                "The convenant (or the hub's access rules) does not allow this",
                message,
            );
            if let Some(pf) = details.precondition_failure() {
                // The Dutch texts come as one localized message, joined by "; " in the same
                // order; they are paired only when the count matches.
                let nl: Vec<String> = details
                    .localized_message()
                    .filter(|m| m.locale.starts_with("nl"))
                    .map(|m| m.message.split("; ").map(str::to_owned).collect())
                    .unwrap_or_default();
                let paired = nl.len() == pf.violations.len();
                p.reasons = pf
                    .violations
                    .iter()
                    .enumerate()
                    .map(|(i, v)| ReasonView {
                        code: v.r#type.clone(),
                        rule: v.subject.clone(),
                        text_nl: if paired { nl[i].clone() } else { String::new() },
                        text_en: v.description.clone(),
                    })
                    .collect();
            }
            p
        }
        tonic::Code::InvalidArgument => ApiProblem {
            errors,
            ..ApiProblem::new(
                "invalid-request",
                422,
                "The hub could not accept the request",
                message,
            )
        },
        tonic::Code::NotFound => ApiProblem::not_found(message),
        tonic::Code::AlreadyExists => ApiProblem::new(
            "conflict",
            409,
            "This already exists with other content",
            message,
        ),
        tonic::Code::Aborted => ApiProblem::new("conflict", 409, "Changed meanwhile", message),
        tonic::Code::FailedPrecondition => {
            ApiProblem::new("conflict", 409, "Not possible in this state", message)
        }
        tonic::Code::Unauthenticated => ApiProblem::new(
            "hub-refused-gateway",
            502,
            "The hub did not accept the gateway's token",
            "The gateway's token for the hub was refused; its administrator must check [tokens].",
        ),
        tonic::Code::ResourceExhausted => ApiProblem::new(
            "too-many-requests",
            429,
            "Too many requests",
            "Too many requests at once; retry shortly.",
        ),
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => ApiProblem::new(
            "hub-unavailable",
            503,
            "The hub is not available",
            "The hub is not available now; retry shortly.",
        ),
        _ => ApiProblem::new("hub-error", 502, "The hub returned an error", message),
    }
}

impl IntoResponse for ApiProblem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"signaal-gateway\", error=\"invalid_token\"",
                ),
            );
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::ErrorDetails;

    #[test]
    fn a_convenant_refusal_carries_its_reasons() {
        let mut d = ErrorDetails::new();
        d.add_precondition_failure_violation(
            "CONSENT_MISSING_GEZAG_HOLDER",
            "floor:consent",
            "consent of ouder-2 is missing",
        );
        d.set_localized_message("nl-NL", "toestemming van ouder-2 ontbreekt");
        let s = tonic::Status::with_error_details(tonic::Code::PermissionDenied, "denied", d);
        let p = ApiProblem::from_client(&ClientError::Status(s));
        assert_eq!(p.status, 403);
        assert_eq!(p.kind, "denied");
        assert_eq!(p.reasons[0].code, "CONSENT_MISSING_GEZAG_HOLDER");
        assert_eq!(p.reasons[0].rule, "floor:consent");
        assert_eq!(p.reasons[0].text_nl, "toestemming van ouder-2 ontbreekt");
    }

    #[test]
    fn field_violations_become_errors() {
        let mut d = ErrorDetails::new();
        d.add_bad_request_violation("subject_bsn", "fails the elfproef");
        let s = tonic::Status::with_error_details(tonic::Code::InvalidArgument, "bad", d);
        let p = ApiProblem::from_client(&ClientError::Status(s));
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].field, "subject_bsn");
        let json = serde_json::to_value(&p).unwrap_or_default();
        assert_eq!(json["type"], "urn:signaalhub:problem:invalid-request");
        assert!(json.get("reasons").is_none(), "{json}");
    }
}
