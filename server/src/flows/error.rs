//! The one error type of the flows layer. Flows say *what* went wrong; the edge
//! (`api/status.rs`, the only `From<FlowError> for Status`) says it in gRPC, guards every
//! message against BSNs and logs store failures with a correlation id.
use crate::store::{Clash, StoreError};
use signaalhub_policy as policy;

/// Field violations: `(field, why)`, in the order found.
pub type Violations = Vec<(&'static str, String)>;

/// What a flow can answer instead of its outcome.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The request is malformed: one violation per bad field (`INVALID_ARGUMENT` with
    /// google.rpc.BadRequest details).
    #[error("invalid request")]
    Invalid(Violations),
    /// The convenant does not allow it: the decision with its reasons (`PERMISSION_DENIED` with
    /// ErrorInfo, PreconditionFailure and a Dutch LocalizedMessage).
    #[error("{context}: not allowed")]
    Denied {
        /// What was refused, e.g. "signal to 0000…".
        context: String,
        /// The decision that refused it.
        decision: Box<policy::Decision<'static>>,
    },
    /// The caller may not do this, for a reason that is not a convenant decision (role,
    /// sector, someone else's record) (`PERMISSION_DENIED`).
    #[error("{0}")]
    Forbidden(String),
    /// What the request names does not exist, or not for this caller (`NOT_FOUND`).
    #[error("{0}")]
    NotFound(String),
    /// An id is taken by something else (`ALREADY_EXISTS`).
    #[error("{0}")]
    Conflict(String),
    /// The thing exists but is not in a state that allows this (`FAILED_PRECONDITION`).
    #[error("{0}")]
    Precondition(String),
    /// A concurrent change won; read again and retry (`ABORTED`).
    #[error("{0}")]
    Aborted(String),
    /// The hub cannot answer now for a reason it can say (draining, a key missing)
    /// (`UNAVAILABLE`).
    #[error("{0}")]
    Unavailable(String),
    /// The store cannot answer: logged with a correlation id, never shown (`UNAVAILABLE`).
    #[error("store: {0}")]
    Store(StoreError),
    /// A refusal the convenant does not decide (the family declined, acute danger):
    /// `PERMISSION_DENIED` with an ErrorInfo code, a PreconditionFailure and the Dutch text.
    #[error("{}", .0.message)]
    Refused(Box<Refusal>),
}

/// A refusal the convenant does not decide (see [`FlowError::Refused`]).
#[derive(Debug)]
pub struct Refusal {
    /// The refusal code, e.g. `FAMILY_DECLINED_WIJKTEAM`.
    pub code: &'static str,
    /// What it refuses (the PreconditionFailure subject), e.g. "handover".
    pub rule: &'static str,
    /// Why, in Dutch.
    pub nl: String,
    /// Why, in English.
    pub en: String,
    /// The status message.
    pub message: String,
}

impl From<StoreError> for FlowError {
    /// A store error a flow did not handle itself: a missing or taken row is said as such; any
    /// other failure is an outage.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(r) => {
                FlowError::NotFound(format!("no {} {:?}", r.kind, echo(&r.id)))
            }
            StoreError::Conflict(c) => c.into(),
            other => FlowError::Store(other),
        }
    }
}

impl From<Clash> for FlowError {
    /// How a conflict with what is stored reads: a taken id is `ALREADY_EXISTS`, a state that no
    /// longer allows the change `FAILED_PRECONDITION`, a concurrent change that won `ABORTED`.
    fn from(c: Clash) -> Self {
        match c {
            Clash::Taken(r) => {
                FlowError::Conflict(format!("{} {:?} already exists", r.kind, echo(&r.id)))
            }
            Clash::State { record, state } => FlowError::Precondition(format!(
                "{} {:?} is {state}",
                record.kind,
                echo(&record.id)
            )),
            Clash::NotAParty { case_id, oin } => FlowError::Precondition(format!(
                "{} is not an active party of case {:?}",
                echo(&oin),
                echo(&case_id)
            )),
            Clash::Merged { case_id, into } => FlowError::Aborted(format!(
                "case {:?} was merged into case {:?}; read it again and retry there",
                echo(&case_id),
                echo(&into)
            )),
            Clash::Stale {
                record,
                version,
                latest,
            } => FlowError::Aborted(format!(
                "version {version} of the {} {:?} is not the next one (the latest is {latest}); read it again and retry",
                record.kind,
                echo(&record.id)
            )),
        }
    }
}

/// A flow's result.
pub type FlowResult<T> = Result<T, FlowError>;

impl FlowError {
    /// One bad field.
    pub fn invalid(field: &'static str, why: impl Into<String>) -> Self {
        FlowError::Invalid(vec![(field, why.into())])
    }

    /// A refusal by the convenant.
    pub fn denied(context: impl Into<String>, decision: &policy::Decision<'_>) -> Self {
        FlowError::Denied {
            context: context.into(),
            decision: Box::new(decision.clone().into_owned()),
        }
    }
}

/// `Err(Invalid)` when `bad` holds any violation.
/// A value the edge parsed, once [`reject`] has passed: every `None` pushed a violation, so this
/// only fails (naming `field`) if a conversion forgot to.
pub fn parsed<T>(v: Option<T>, field: &'static str) -> FlowResult<T> {
    v.ok_or_else(|| FlowError::invalid(field, "missing or malformed"))
}

pub fn reject(bad: Violations) -> FlowResult<()> {
    if bad.is_empty() {
        Ok(())
    } else {
        Err(FlowError::Invalid(bad))
    }
}

/// A client value as it may be echoed in an error: capped at 64 characters (cut at a
/// character boundary, marked with `…`) and with any BSN in it blanked. The edge blanks BSNs in
/// every message again; this keeps echoes short and readable.
pub fn echo(s: &str) -> String {
    let mut capped: String = s.chars().take(64).collect();
    if capped.len() < s.len() {
        capped.push('…');
    }
    redact_bsns(&capped)
}

/// Blanks every BSN in `s`: the whole value when it parses as one, and every run of exactly
/// nine digits that passes the elfproef (found by the `rpc_validation` fuzz target: an id field
/// a client filled with a BSN must not come back in the error).
pub fn redact_bsns(s: &str) -> String {
    if s.parse::<crate::ids::Bsn>().is_ok() {
        return "<BSN removed>".into();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let len = run.find(|c: char| !c.is_ascii_digit()).unwrap_or(run.len());
        let digits = &run[..len];
        if len == 9 && digits.parse::<crate::ids::Bsn>().is_ok() {
            out.push_str("<BSN removed>");
        } else {
            out.push_str(digits);
        }
        rest = &run[len..];
    }
    out.push_str(rest);
    redact_references(&out)
}

/// Blanks every subject reference (`SH-` + 13 letters with a matching check letter, any case)
/// in `s`.
fn redact_references(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if let Some(candidate) = s.get(i..i + 16)
            && candidate
                .parse::<crate::ids::Bsn>()
                .is_ok_and(|b| b.is_reference())
        {
            out.push_str("<reference removed>");
            i += 16;
            continue;
        }
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        out.push(c);
        i += c.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{echo, redact_bsns};

    #[test]
    fn echo_removes_bsns_and_keeps_other_numbers() {
        assert_eq!(echo("111222333"), "<BSN removed>");
        assert_eq!(echo("case-111222333.v1"), "case-<BSN removed>.v1");
        // Not elfproef-valid, or not 9 digits: kept.
        assert_eq!(echo("case-111222334"), "case-111222334");
        assert_eq!(echo("00000009901000000000"), "00000009901000000000");
        assert_eq!(echo(&"x".repeat(100)).chars().count(), 65);
        assert!(echo(&"x".repeat(100)).ends_with('…'));
        assert_eq!(echo(&"x".repeat(64)), "x".repeat(64));
    }

    #[test]
    fn subject_references_are_removed_too() {
        // All A: the check letter of twelve zeros is A.
        assert_eq!(echo("SH-AAAAAAAAAAAAA"), "<BSN removed>");
        assert_eq!(
            redact_bsns("id sh-aaaaaaaaaaaaa-2"),
            "id <reference removed>-2"
        );
        // A wrong check letter is not a reference: kept (it names nobody).
        assert_eq!(echo("SH-AAAAAAAAAAAAB"), "SH-AAAAAAAAAAAAB");
    }

    #[test]
    fn redaction_covers_a_whole_sentence() {
        assert_eq!(
            redact_bsns("no consent about 111222333 for 00000009901000000000"),
            "no consent about <BSN removed> for 00000009901000000000"
        );
    }
}
