//! The local API: the console's actions as JSON over HTTP for the organisation's own systems
//! (school administration, a Veilig Thuis registration system, a police system), under
//! `/api/v1/`, described by the OpenAPI document at `/api/v1/openapi.json`.
//!
//! A system that cannot do HPKE still sends end-to-end encrypted signals: it sends the text
//! here, on the organisation's own network, and the gateway seals it to the recipient's keys,
//! exactly as for the console (the same functions, `crate::actions`).
//!
//! Authentication is a bearer access token from the organisation's identity provider
//! (client-credentials grant; [`auth`]); there is no cookie and so no CSRF path. The calling
//! system's client id is the actor in the gateway's audit log and the `sub` of the hub tokens
//! the gateway mints for it. Every field is checked before the hub is asked; errors are RFC 9457
//! problem details ([`problem`]) that never echo a BSN, a token or a signal's text.
pub mod auth;
mod cases;
mod follow_up;
pub mod problem;
mod register;
mod veilig_thuis;

use crate::actions::{self, ConsentDraft, ConsentProblem, OpenError, SignalDraft, Step, Unopened};
use crate::app::App;
use crate::store::{Received, Sent};
use auth::{AuthError, Caller};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use problem::{ApiProblem, FieldError, ReasonView};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use signaalhub_client::sealed;
use signaalhub_client::signaalhub_proto::pb;
use std::sync::Arc;

/// The OpenAPI 3.1 document, written by hand next to this file (the routes are few and the
/// document is the contract; `tests/api_openapi.rs` checks that both list the same routes).
pub const OPENAPI: &str = include_str!("openapi.json");

/// The prefix of every route.
pub const PREFIX: &str = "/api/v1";

/// Largest request body: a signal's text (64 KiB) as JSON, escaped, with its fields.
pub const MAX_BODY: usize = 160 * 1024;

/// Longest value of a reference field (ids, references, names of convenant terms).
const MAX_REF: usize = 128;

/// The router and the list of (method, path) it serves, built together so they cannot differ.
struct Routes {
    router: Router<Arc<App>>,
    table: Vec<(Method, &'static str)>,
}

impl Routes {
    fn add(mut self, method: Method, path: &'static str, m: MethodRouter<Arc<App>>) -> Routes {
        self.table.push((method, path));
        self.router = self.router.route(path, m);
        self
    }
}

fn routes() -> Routes {
    let r = Routes {
        router: Router::new(),
        table: Vec::new(),
    }
    .add(Method::GET, "/openapi.json", get(openapi))
    .add(Method::GET, "/whoami", get(whoami))
    .add(Method::POST, "/signals/check", post(check))
    .add(Method::POST, "/signals", post(send))
    .add(Method::GET, "/signals", get(sent_list))
    .add(Method::GET, "/signals/{signal_id}", get(status))
    .add(Method::POST, "/signals/{signal_id}/recall", post(recall))
    .add(Method::POST, "/consents", post(record_consent))
    .add(Method::POST, "/consents/search", post(search_consents))
    .add(
        Method::POST,
        "/consents/{consent_id}/withdraw",
        post(withdraw_consent),
    )
    .add(Method::GET, "/inbox", get(inbox))
    .add(Method::GET, "/inbox/{sender_oin}/{signal_id}", get(open))
    .add(
        Method::POST,
        "/inbox/{sender_oin}/{signal_id}/acknowledge",
        post(acknowledge),
    )
    .add(Method::POST, "/maatregel/involvement", post(involvement))
    .add(Method::POST, "/maatregel/query", post(maatregel))
    .add(Method::POST, "/maatregel/cases", post(child_cases))
    .add(Method::POST, "/maatregel/confirm", post(confirm_contact))
    .add(Method::GET, "/fg/disclosures", get(disclosures));
    register::add(follow_up::add(cases::add(veilig_thuis::add(r))))
}

/// Every (method, path) the API serves, paths relative to [`PREFIX`] in OpenAPI's `{name}`
/// template syntax.
pub fn route_table() -> Vec<(Method, &'static str)> {
    routes().table
}

/// The API's routes, to be nested under [`PREFIX`]; anything else under it is a 404 problem.
pub fn router() -> Router<Arc<App>> {
    routes()
        .router
        .fallback(|| async { ApiProblem::not_found("No such endpoint; see /api/v1/openapi.json.") })
        .method_not_allowed_fallback(|| async {
            ApiProblem::new(
                "method-not-allowed",
                405,
                "Method not allowed",
                "This endpoint does not take this method; see /api/v1/openapi.json.",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

async fn openapi() -> Response {
    let mut res = OPENAPI.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

// ---------------------------------------------------------------------------------------------
// Extractors: who is calling, and what they sent.

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiProblem;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiProblem> {
        let Some(api) = &app.api else {
            return Err(ApiProblem::not_found(
                "The local API is not configured on this gateway ([api] in gateway.toml).",
            ));
        };
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        api.verify_header(header).await.map_err(|e| {
            tracing::info!(reason = %e, "api: token refused");
            auth_problem(&e)
        })
    }
}

fn auth_problem(e: &AuthError) -> ApiProblem {
    match e.status() {
        403 => ApiProblem::new(
            "no-role",
            403,
            "This system has no convenant role",
            e.to_string(),
        ),
        503 => ApiProblem::new(
            "idp-unavailable",
            503,
            "The identity provider's keys cannot be read",
            e.to_string(),
        ),
        _ => ApiProblem::new(
            "unauthenticated",
            401,
            "A valid access token is required",
            e.to_string(),
        ),
    }
}

/// A JSON body of type `T` (unknown fields refused), read within [`MAX_BODY`].
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<App>> for JsonBody<T> {
    type Rejection = ApiProblem;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Self, ApiProblem> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        if !json {
            return Err(ApiProblem::new(
                "unsupported-media-type",
                415,
                "Send JSON",
                "Send the body as JSON with Content-Type: application/json.",
            ));
        }
        let bytes = Bytes::from_request(req, app).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiProblem::new(
                    "payload-too-large",
                    413,
                    "The body is too large",
                    format!("At most {MAX_BODY} bytes."),
                )
            } else {
                ApiProblem::bad_json("The body could not be read.")
            }
        })?;
        // Every body is an object: serde would also take a struct from an array of its fields
        // in order (so `[]` for a body whose fields are all optional), which no schema allows.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiProblem::bad_json(
                "The body is not a JSON object; see the endpoint's schema in /api/v1/openapi.json.",
            ));
        }
        // serde's messages can quote the offending value (a BSN, the text): only say where.
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    "is not valid JSON"
                }
                _ => "has a field that is unknown, missing or of the wrong type",
            };
            ApiProblem::bad_json(format!(
                "The body {what} (line {}, column {}); see the endpoint's schema in /api/v1/openapi.json.",
                e.line(),
                e.column()
            ))
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Field rules beyond the shared draft's: references must be plain and hold no BSN.

/// Checks a reference-like value (an id, a reference into the organisation's own file, a
/// convenant term): 1-128 characters, no control characters, and no run of 9 or more digits (it
/// could be a BSN). Never echoes the value.
fn reference(errors: &mut Vec<FieldError>, field: &str, value: &str) {
    let detail = if value.trim().is_empty() {
        "must not be empty"
    } else if value.len() > MAX_REF {
        "at most 128 characters"
    } else if value.chars().any(char::is_control) {
        "must not contain control characters"
    } else if sealed::has_digit_run(value) {
        "holds a run of 9 or more digits, which could be a BSN; use a reference without one"
    } else {
        return;
    };
    errors.push(FieldError {
        field: field.to_owned(),
        detail: detail.to_owned(),
    });
}

fn references(errors: &mut Vec<FieldError>, field: &str, values: &[String]) {
    for (i, v) in values.iter().enumerate() {
        reference(errors, &format!("{field}[{i}]"), v);
    }
}

fn optional_reference(errors: &mut Vec<FieldError>, field: &str, value: Option<&str>) {
    if let Some(v) = value {
        reference(errors, field, v);
    }
}

/// The shared draft's problems (the console's rules), worded for a system's developer.
fn draft_errors(d: &SignalDraft, step: Step, text: &str) -> Vec<FieldError> {
    use actions::FieldProblem as F;
    d.problems(step, text)
        .into_iter()
        .map(|p| FieldError {
            field: p.field().to_owned(),
            detail: match p {
                F::Bsn(i) => i.describe(crate::web::i18n::Lang::En),
                F::Age => "a number of years, 0 to 120",
                F::Recipient => "the recipient's OIN (20 digits)",
                F::Purpose => "a purpose of the convenant",
                F::Categories => "at least one category of the convenant",
                F::Basis => {
                    "name consent ids in `consents` (record one with POST /api/v1/consents), or a legal basis in `basis`"
                }
                F::TextEmpty => "the signal's text must not be empty",
                F::TextTooLong => "at most 64 KiB of text",
                F::SignalId => {
                    "not a signal id: 1-64 of A-Z a-z 0-9 . _ - without a run of 9 or more digits (it could be a BSN)"
                }
            }
            .to_owned(),
        })
        .collect()
}

fn ok_or_invalid(errors: Vec<FieldError>) -> Result<(), ApiProblem> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiProblem::invalid(errors))
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies.

/// Urgency of a signal.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Urgency {
    #[default]
    Normal,
    High,
    Acute,
}

/// The child and the question: shared by check, send and record-consent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    bsn: String,
    #[serde(default)]
    age: Option<u32>,
    #[serde(default)]
    gezag: Vec<String>,
    recipient: String,
    purpose: String,
    categories: Vec<String>,
    #[serde(default)]
    basis: Option<String>,
    #[serde(default)]
    consents: Vec<String>,
    #[serde(default)]
    evidence: Option<EvidenceBody>,
    #[serde(default)]
    role: Option<String>,
}

/// The evidence that goes with a legal basis: for a report to Veilig Thuis under the meldcode
/// (`meldrecht` in the sample), the steps taken, the afwegingskader's outcome, whether the family
/// was told (and if not, why: a code of the convenant's list) and whether the family may learn
/// who reported.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceBody {
    #[serde(default)]
    meldcode_steps_completed: Vec<u32>,
    #[serde(default)]
    afwegingskader: Option<String>,
    #[serde(default)]
    client_informed: Option<bool>,
    #[serde(default)]
    client_not_informed_reason: Option<String>,
    #[serde(default)]
    reporter_may_be_named: bool,
}

/// The evidence as the hub takes it, or the fields to fix (`evidence.…`). Only with a legal
/// basis; the hub decides whether it suffices (steps 1-4, an outcome, ...).
fn evidence(
    errors: &mut Vec<FieldError>,
    e: Option<&EvidenceBody>,
    basis: Option<&str>,
) -> Option<pb::Evidence> {
    let e = e?;
    if basis.is_none_or(|b| b.trim().is_empty()) {
        errors.push(FieldError {
            field: "evidence".into(),
            detail: "evidence goes with a legal basis: name it in `basis`".into(),
        });
    }
    let mut bad = |field: &str, detail: &str| {
        errors.push(FieldError {
            field: format!("evidence.{field}"),
            detail: detail.to_owned(),
        });
    };
    let mut steps = e.meldcode_steps_completed.clone();
    steps.sort_unstable();
    steps.dedup();
    if steps.len() != e.meldcode_steps_completed.len() || steps.iter().any(|s| !(1..=5).contains(s))
    {
        bad(
            "meldcode_steps_completed",
            "the meldcode's steps 1 to 5, each at most once",
        );
    }
    let afweging = match e.afwegingskader.as_deref() {
        None | Some("") => pb::Afwegingskader::Unspecified,
        Some(name) => pb::Afwegingskader::from_str_name(&format!("AFWEGINGSKADER_{name}"))
            .filter(|a| *a != pb::Afwegingskader::Unspecified)
            .unwrap_or_else(|| {
                bad(
                    "afwegingskader",
                    "ACUTE_ONVEILIGHEID, STRUCTURELE_ONVEILIGHEID, VERMOEDEN_ZONDER_ACUTE_OF_STRUCTURELE_ONVEILIGHEID or GEEN_VERMOEDEN",
                );
                pb::Afwegingskader::Unspecified
            }),
    };
    let reason = e.client_not_informed_reason.as_deref().unwrap_or("").trim();
    if e.client_informed == Some(false)
        && signaalhub_policy::reasons::lookup(signaalhub_policy::reasons::NOT_INFORMED, reason)
            .is_none()
    {
        bad(
            "client_not_informed_reason",
            "the family was not told: give the reason, a code of the convenant's list (veiligheid_kind, ...)",
        );
    }
    if e.client_informed != Some(false) && !reason.is_empty() {
        bad(
            "client_not_informed_reason",
            "only when `client_informed` is false",
        );
    }
    Some(pb::Evidence {
        meldcode_steps_completed: steps,
        afwegingskader: afweging as i32,
        client_informed: e.client_informed,
        client_not_informed_reason: reason.to_owned(),
        reporter_may_be_named: e.reporter_may_be_named.then_some(true),
        ..Default::default()
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    #[serde(default)]
    signal_id: Option<String>,
    bsn: String,
    #[serde(default)]
    age: Option<u32>,
    #[serde(default)]
    gezag: Vec<String>,
    recipient: String,
    purpose: String,
    categories: Vec<String>,
    #[serde(default)]
    basis: Option<String>,
    #[serde(default)]
    consents: Vec<String>,
    #[serde(default)]
    evidence: Option<EvidenceBody>,
    #[serde(default)]
    urgency: Urgency,
    #[serde(default)]
    role: Option<String>,
    text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentBody {
    bsn: String,
    #[serde(default)]
    age: Option<u32>,
    #[serde(default)]
    gezag: Vec<String>,
    /// Required unless `sectors` names the recipients.
    #[serde(default)]
    recipient: String,
    purpose: String,
    categories: Vec<String>,
    givers: Vec<String>,
    #[serde(default)]
    whole_sector: bool,
    months: i64,
    #[serde(default)]
    evidence: Option<String>,
    #[serde(default)]
    explicit: bool,
    #[serde(default)]
    role: Option<String>,
    /// Instead of `recipient`: the organisations of these sectors (convenant names), which may
    /// also present it — a case's parties sharing with each other (casusafstemming).
    #[serde(default)]
    sectors: Vec<String>,
}

/// Most sectors a consent names (the convenant's sectors are fewer).
const MAX_SECTORS: usize = 16;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BsnBody {
    bsn: String,
    #[serde(default)]
    include_inactive: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WithdrawBody {
    withdrawn_by: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvolvementBody {
    bsn: String,
    contact: String,
    /// The family's consents for casusafstemming (category `betrokkenheid`): the basis for
    /// telling the other involved parties (none: matches are withheld).
    #[serde(default)]
    consents: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MaatregelBody {
    bsn: String,
}

/// The child and the question, as the check, send and consent bodies name them.
struct Question<'a> {
    bsn: &'a str,
    age: Option<u32>,
    gezag: &'a [String],
    recipient: &'a str,
    purpose: &'a str,
    categories: &'a [String],
    basis: Option<&'a str>,
    consents: &'a [String],
    role: Option<&'a str>,
}

/// Builds the shared draft from the API's fields and collects every field problem: the shared
/// draft's rules (the console's), plus the reference rule for each id-like field.
fn draft(errors: &mut Vec<FieldError>, q: Question<'_>) -> SignalDraft {
    references(errors, "gezag", q.gezag);
    if !q.purpose.is_empty() {
        reference(errors, "purpose", q.purpose);
    }
    references(errors, "categories", q.categories);
    optional_reference(errors, "basis", q.basis);
    references(errors, "consents", q.consents);
    if q.consents.len() > actions::MAX_BASIS_CONSENTS {
        errors.push(FieldError {
            field: "consents".into(),
            detail: format!("at most {} consent ids", actions::MAX_BASIS_CONSENTS),
        });
    }
    optional_reference(errors, "role", q.role);
    SignalDraft {
        signal_id: String::new(),
        // The console's rule takes the BSN as typed; the digits go to the hub.
        bsn: actions::bsn_rule(q.bsn).unwrap_or_else(|_| q.bsn.to_owned()),
        age: q.age.map(|a| a.to_string()).unwrap_or_default(),
        gezag: q.gezag.to_vec(),
        recipient: q.recipient.to_owned(),
        purpose: q.purpose.to_owned(),
        categories: q.categories.to_vec(),
        basis: q.basis.unwrap_or_default().to_owned(),
        consents: q.consents.to_vec(),
        urgency: "normal".into(),
        role: q.role.unwrap_or_default().to_owned(),
        evidence: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Answers.

fn rfc3339(seconds: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
}

fn ts(t: &Option<prost_types::Timestamp>) -> Value {
    t.as_ref()
        .and_then(|t| rfc3339(t.seconds))
        .map_or(Value::Null, Value::String)
}

fn decision_json(d: &pb::Decision) -> Value {
    let allowed = d.outcome == pb::Outcome::Allow as i32;
    json!({
        "allowed": allowed,
        "reasons": d.reasons.iter().map(ReasonView::from).collect::<Vec<_>>(),
        "obligations": d.obligations.iter().map(|o| json!({"kind": o.kind, "detail": o.detail})).collect::<Vec<_>>(),
        "retain_until": ts(&d.retain_until),
        "policy_version": d.policy_version,
        "rules": d.rules,
    })
}

fn capacity_name(c: i32) -> &'static str {
    match pb::GiverCapacity::try_from(c).unwrap_or(pb::GiverCapacity::Unspecified) {
        pb::GiverCapacity::GezagHolder => "gezag_holder",
        pb::GiverCapacity::Subject => "subject",
        _ => "other",
    }
}

fn consent_json(c: &pb::Consent) -> Value {
    use pb::consent_recipient::Recipient as R;
    let recipients: Vec<Value> = c
        .recipients
        .iter()
        .filter_map(|r| r.recipient.as_ref())
        .map(|r| match r {
            R::Oin(o) => json!({"oin": o}),
            R::Sector(s) => json!({"sector": pb::Sector::try_from(*s)
                .map(|s| s.as_str_name().trim_start_matches("SECTOR_").to_ascii_lowercase())
                .unwrap_or_default()}),
            R::SectorName(n) => json!({"sector": n}),
        })
        .collect();
    json!({
        "consent_id": c.consent_id,
        "recorded_by_oin": c.recorded_by_oin,
        "givers": c.givers.iter().map(|g| json!({"person": g.person, "capacity": capacity_name(g.capacity)})).collect::<Vec<_>>(),
        "recipients": recipients,
        "discloser_oins": c.discloser_oins,
        "purposes": c.purposes,
        "categories": c.categories,
        "valid_from": ts(&c.valid_from),
        "valid_until": ts(&c.valid_until),
        "withdrawn_at": ts(&c.withdrawn_at),
        "explicit": c.explicit,
        "evidence_reference": c.evidence_reference,
    })
}

fn state_name(state: i32) -> &'static str {
    match pb::DeliveryState::try_from(state).unwrap_or(pb::DeliveryState::Unspecified) {
        pb::DeliveryState::Pending => "pending",
        pb::DeliveryState::Delivered => "delivered",
        pb::DeliveryState::Acknowledged => "acknowledged",
        pb::DeliveryState::Withheld => "withheld",
        pb::DeliveryState::Withdrawn => "withdrawn",
        _ => "unknown",
    }
}

fn deliveries_json(ds: &[pb::Delivery]) -> Vec<Value> {
    ds.iter()
        .map(|d| {
            json!({
                "recipient_oin": d.recipient_oin,
                "state": state_name(d.state),
                "reasons": d.reasons.iter().map(ReasonView::from).collect::<Vec<_>>(),
                "updated_at": ts(&d.updated_at),
            })
        })
        .collect()
}

fn urgency_name(u: i32) -> &'static str {
    match pb::Urgency::try_from(u).unwrap_or(pb::Urgency::Unspecified) {
        pb::Urgency::High => "high",
        pb::Urgency::Acute => "acute",
        _ => "normal",
    }
}

fn received_json(r: &Received) -> Value {
    json!({
        "sender_oin": r.sender_oin,
        "signal_id": r.signal_id,
        "purpose": r.purpose,
        "categories": r.categories,
        "basis": r.basis,
        "urgency": urgency_name(r.urgency),
        "sent_at": r.sent_at.and_then(rfc3339),
        "received_at": rfc3339(r.received_at),
        "retain_until": r.retain_until.and_then(rfc3339),
        "acknowledged": r.acknowledged.as_ref().map(|(at, by)| json!({"at": rfc3339(*at), "by": by})),
    })
}

fn sent_json(s: &Sent) -> Value {
    json!({
        "signal_id": s.signal_id,
        "recipients": s.recipients,
        "purpose": s.purpose,
        "categories": s.categories,
        "sent_at": rfc3339(s.sent_at),
        "sent_by": s.sent_by,
        "retain_until": s.retain_until.and_then(rfc3339),
    })
}

pub(super) fn kind_name(k: i32) -> &'static str {
    match pb::MaatregelKind::try_from(k).unwrap_or(pb::MaatregelKind::Unspecified) {
        pb::MaatregelKind::Ots => "ots",
        pb::MaatregelKind::Voogdij => "voogdij",
        pb::MaatregelKind::MachtigingUithuisplaatsing => "machtiging_uithuisplaatsing",
        pb::MaatregelKind::Jeugdreclassering => "jeugdreclassering",
        _ => "other",
    }
}

#[derive(Debug, Serialize)]
struct LogEntryJson {
    index: u64,
    at: Option<String>,
    event: String,
    actor_oin: String,
    actor_role: String,
    actor_professional: String,
    recipient_oin: String,
    purpose: String,
    categories: Vec<String>,
    basis: Vec<String>,
    outcome: String,
    reasons: Vec<String>,
    reference: String,
    policy_version: String,
    withheld: Vec<String>,
}

fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

type ApiResult = Result<Response, ApiProblem>;

fn hub(app: &App, caller: &Caller) -> Result<signaalhub_client::HubClient, ApiProblem> {
    app.hub_as(&caller.professional())
        .map_err(|e| ApiProblem::from_client(&e))
}

// ---------------------------------------------------------------------------------------------
// Handlers: who is calling, what do they ask, do it (through `actions`), answer.

/// `GET /whoami`: the calling system as the gateway sees it.
async fn whoami(State(app): State<Arc<App>>, caller: Caller) -> ApiResult {
    Ok(ok(json!({
        "client": caller.client,
        "roles": caller.roles,
        "organisation": {"oin": app.oin(), "name": app.config.organisation.name},
    })))
}

/// `POST /signals/check`: the convenant's answer (`CheckBasis`).
async fn check(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<CheckBody>,
) -> ApiResult {
    let mut errors = Vec::new();
    let d = draft(
        &mut errors,
        Question {
            bsn: &b.bsn,
            age: b.age,
            gezag: &b.gezag,
            recipient: &b.recipient,
            purpose: &b.purpose,
            categories: &b.categories,
            basis: b.basis.as_deref(),
            consents: &b.consents,
            role: b.role.as_deref(),
        },
    );
    let mut d = d;
    d.evidence = evidence(&mut errors, b.evidence.as_ref(), b.basis.as_deref());
    errors.extend(draft_errors(&d, Step::Check, ""));
    ok_or_invalid(errors)?;
    let decision = actions::check(&mut hub(&app, &caller)?, &d)
        .await
        .map_err(|e| ApiProblem::from_client(&e))?;
    Ok(ok(decision_json(&decision)))
}

/// `POST /signals`: seal the text here and send it (`SendSignal`).
async fn send(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<SendBody>,
) -> ApiResult {
    let mut errors = Vec::new();
    let mut d = draft(
        &mut errors,
        Question {
            bsn: &b.bsn,
            age: b.age,
            gezag: &b.gezag,
            recipient: &b.recipient,
            purpose: &b.purpose,
            categories: &b.categories,
            basis: b.basis.as_deref(),
            consents: &b.consents,
            role: b.role.as_deref(),
        },
    );
    d.evidence = evidence(&mut errors, b.evidence.as_ref(), b.basis.as_deref());
    d.urgency = match b.urgency {
        Urgency::Normal => "normal",
        Urgency::High => "high",
        Urgency::Acute => "acute",
    }
    .into();
    d.signal_id = match b.signal_id {
        Some(id) => id,
        None => sealed::new_signal_id().map_err(|e| ApiProblem::from_client(&e))?,
    };
    errors.extend(draft_errors(&d, Step::Send, &b.text));
    ok_or_invalid(errors)?;
    let actor = caller.professional();
    let mut hub = hub(&app, &caller)?;
    let id = actions::send(&app, &actor, &mut hub, &d, &b.text)
        .await
        .map_err(|e| ApiProblem::from_client(&e))?;
    let location = format!("{PREFIX}/signals/{id}");
    let mut res = (
        StatusCode::CREATED,
        axum::Json(json!({"signal_id": id, "status": location})),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// `GET /signals`: what this organisation sent through the gateway (newest first).
async fn sent_list(State(app): State<Arc<App>>, _caller: Caller) -> ApiResult {
    let sent = app.store.list_sent(200).await.map_err(|e| {
        tracing::warn!(error = %e, "api: sent list");
        ApiProblem::store_unavailable("The sent signals cannot be read now.")
    })?;
    Ok(ok(
        json!({"signals": sent.iter().map(sent_json).collect::<Vec<_>>()}),
    ))
}

fn signal_id_path(id: &str) -> Result<(), ApiProblem> {
    if sealed::valid_signal_id(id) {
        Ok(())
    } else {
        Err(ApiProblem::invalid(vec![FieldError {
            field: "signal_id".into(),
            detail: "not a signal id: 1-64 of A-Z a-z 0-9 . _ - without a run of 9 or more digits"
                .into(),
        }]))
    }
}

/// `GET /signals/{signal_id}`: the state per recipient (`GetSignal`).
async fn status(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    signal_id_path(&id)?;
    let r = actions::status(&app, &caller.professional(), &id)
        .await
        .map_err(|e| ApiProblem::from_client(&e))?;
    let recallable = r
        .deliveries
        .iter()
        .any(|d| d.state == pb::DeliveryState::Pending as i32);
    Ok(ok(json!({
        "signal_id": r.signal_id,
        "purpose": r.purpose,
        "categories": r.categories,
        "sent_at": ts(&r.sent_at),
        "deliveries": deliveries_json(&r.deliveries),
        "recallable": recallable,
    })))
}

/// `POST /signals/{signal_id}/recall`: recall wherever not delivered yet (`WithdrawSignal`).
async fn recall(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    signal_id_path(&id)?;
    let r = actions::recall(&app, &caller.professional(), &id)
        .await
        .map_err(|e| ApiProblem::from_client(&e))?;
    Ok(ok(json!({"deliveries": deliveries_json(&r.deliveries)})))
}

/// `POST /consents`: record a consent (`RecordConsent`).
async fn record_consent(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<ConsentBody>,
) -> ApiResult {
    let mut errors = Vec::new();
    let d = draft(
        &mut errors,
        Question {
            bsn: &b.bsn,
            age: b.age,
            gezag: &b.gezag,
            recipient: &b.recipient,
            purpose: &b.purpose,
            categories: &b.categories,
            basis: None,
            consents: &[],
            role: b.role.as_deref(),
        },
    );
    references(&mut errors, "givers", &b.givers);
    optional_reference(&mut errors, "evidence", b.evidence.as_deref());
    let mut sectors = Vec::new();
    for (i, name) in b.sectors.iter().enumerate() {
        match signaalhub_client::sector_from_name(name) {
            Some(s) if !sectors.contains(&s) => sectors.push(s),
            Some(_) => {}
            None => errors.push(FieldError {
                field: format!("sectors[{i}]"),
                detail: "not a sector of the convenant (e.g. wijkteam, jeugdbescherming)".into(),
            }),
        }
    }
    if b.sectors.len() > MAX_SECTORS {
        errors.push(FieldError {
            field: "sectors".into(),
            detail: format!("at most {MAX_SECTORS} sectors"),
        });
    }
    if !b.sectors.is_empty() && (!b.recipient.is_empty() || b.whole_sector) {
        errors.push(FieldError {
            field: "sectors".into(),
            detail: "either sectors or a recipient (with whole_sector), not both".into(),
        });
    }
    errors.extend(
        draft_errors(&d, Step::RecordConsent, "")
            .into_iter()
            // With sectors, the consent has no single recipient.
            .filter(|e| b.sectors.is_empty() || e.field != "recipient"),
    );
    let c = ConsentDraft {
        givers: b.givers,
        whole_sector: b.whole_sector,
        months: b.months,
        evidence: b.evidence.unwrap_or_default(),
        explicit: b.explicit,
        sectors,
    };
    if c.givers.is_empty() {
        errors.push(FieldError {
            field: "givers".into(),
            detail: "name who gave the consent (holders of gezag by reference, or `kind`)".into(),
        });
    }
    if !(1..=24).contains(&c.months) {
        errors.push(FieldError {
            field: "months".into(),
            detail: "valid for 1 to 24 months".into(),
        });
    }
    ok_or_invalid(errors)?;
    let actor = caller.professional();
    let mut hub = hub(&app, &caller)?;
    let consent = actions::record_consent(&app, &actor, &mut hub, &d, &c)
        .await
        .map_err(|p| match p {
            // Checked above; kept for completeness of the shared function's answer.
            ConsentProblem::NoGivers | ConsentProblem::Months => {
                ApiProblem::invalid(vec![FieldError {
                    field: "givers".into(),
                    detail: "givers and months are required".into(),
                }])
            }
            ConsentProblem::Hub(e) => ApiProblem::from_client(&e),
        })?;
    Ok((StatusCode::CREATED, axum::Json(consent_json(&consent))).into_response())
}

/// `POST /consents/search`: the consents about a child that concern this organisation
/// (`ListConsents`; a POST so that the BSN is never in a URL or an access log).
async fn search_consents(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<BsnBody>,
) -> ApiResult {
    let bsn = bsn_only(&b.bsn)?;
    let list = actions::list_consents(&mut hub(&app, &caller)?, &bsn, b.include_inactive)
        .await
        .map_err(|e| ApiProblem::from_client(&e))?;
    Ok(ok(
        json!({"consents": list.iter().map(consent_json).collect::<Vec<_>>()}),
    ))
}

/// `POST /consents/{consent_id}/withdraw` (`WithdrawConsent`, effective at once).
async fn withdraw_consent(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(consent_id): Path<String>,
    JsonBody(b): JsonBody<WithdrawBody>,
) -> ApiResult {
    let mut errors = Vec::new();
    reference(&mut errors, "consent_id", &consent_id);
    reference(&mut errors, "withdrawn_by", &b.withdrawn_by);
    ok_or_invalid(errors)?;
    let actor = caller.professional();
    let mut hub = hub(&app, &caller)?;
    let r = actions::withdraw_consent(&app, &actor, &mut hub, &consent_id, &b.withdrawn_by)
        .await
        .map_err(|e| ApiProblem::from_client(&e))?;
    Ok(ok(json!({
        "consent": r.consent.as_ref().map(consent_json),
        "signals_withheld": r.signals_withheld,
    })))
}

/// The subject in `field` (a BSN or a hub reference), or what to fix in `errors`.
pub(super) fn subject_field(errors: &mut Vec<FieldError>, field: &str, typed: &str) -> String {
    actions::bsn_rule(typed).unwrap_or_else(|i| {
        errors.push(FieldError {
            field: field.into(),
            detail: i.describe(crate::web::i18n::Lang::En).to_owned(),
        });
        String::new()
    })
}

/// What is wrong with a contact text others call (`None`: nothing): how colleagues reach the
/// caller, or a maatregel's contact point.
pub(super) fn contact_problem(contact: &str) -> Option<&'static str> {
    if contact.is_empty() {
        Some("say how others reach you (a name or desk and a phone number)")
    } else if contact.len() > actions::MAX_CONTACT {
        Some("at most 200 characters")
    } else if contact.chars().any(char::is_control) {
        Some("must not contain control characters")
    } else if sealed::has_digit_run(contact) {
        Some(
            "holds a run of 9 or more digits, which could be a BSN; write a phone number with a dash or spaces",
        )
    } else {
        None
    }
}

pub(super) fn bsn_only(typed: &str) -> Result<String, ApiProblem> {
    actions::bsn_rule(typed).map_err(|i| {
        ApiProblem::invalid(vec![FieldError {
            field: "bsn".into(),
            detail: i.describe(crate::web::i18n::Lang::En).to_owned(),
        }])
    })
}

/// `GET /inbox`: what arrived for this organisation (metadata; still sealed).
async fn inbox(State(app): State<Arc<App>>, _caller: Caller) -> ApiResult {
    let items = app.store.list_received(500).await.map_err(|e| {
        tracing::warn!(error = %e, "api: inbox list");
        ApiProblem::store_unavailable("The inbox cannot be read now.")
    })?;
    Ok(ok(
        json!({"items": items.iter().map(received_json).collect::<Vec<_>>()}),
    ))
}

/// `GET /inbox/{sender_oin}/{signal_id}`: opens the envelope here, after writing who opened it
/// to the audit log (nothing is returned when that cannot be written).
async fn open(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((sender, id)): Path<(String, String)>,
) -> ApiResult {
    let (item, opened) = actions::open_received(&app, &caller.professional(), &sender, &id)
        .await
        .map_err(|e| match e {
            OpenError::NotFound => {
                ApiProblem::not_found("This signal is not (or no longer) in the inbox.")
            }
            OpenError::Store(e) => {
                tracing::warn!(error = %e, "api: inbox read");
                ApiProblem::store_unavailable("The inbox cannot be read now.")
            }
            OpenError::Audit(e) => {
                tracing::warn!(error = %e, "api: audit log");
                ApiProblem::store_unavailable(
                    "The access log cannot be written now, so the signal is not opened.",
                )
            }
        })?;
    let bytes = opened.map_err(|u| match u {
        Unopened::Damaged => ApiProblem::new(
            "unopenable",
            422,
            "The signal could not be opened",
            "The stored envelope is damaged.",
        ),
        Unopened::Hub(e) => ApiProblem::from_client(&e),
        Unopened::Refused(why) => {
            ApiProblem::new("unopenable", 422, "The signal could not be opened", why)
        }
    })?;
    let mut body = received_json(&item);
    if let Some(m) = body.as_object_mut() {
        m.insert("verified".into(), Value::Bool(true));
        m.insert("size".into(), json!(bytes.len()));
        m.insert(
            "text".into(),
            std::str::from_utf8(&bytes).map_or(Value::Null, |t| Value::String(t.to_owned())),
        );
    }
    Ok(ok(body))
}

/// `POST /inbox/{sender_oin}/{signal_id}/acknowledge`: tells the sender it arrived (`AckSignal`).
async fn acknowledge(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((sender, id)): Path<(String, String)>,
) -> ApiResult {
    if !actions::valid_received_key(&sender, &id) {
        return Err(ApiProblem::not_found(
            "This signal is not (or no longer) in the inbox.",
        ));
    }
    actions::acknowledge(&app, &caller.professional(), &sender, &id)
        .await
        .map_err(|e| ApiProblem::from_client(&e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /maatregel/involvement`: records the organisation's involvement with a child, on the
/// consents named (as the console's *Maatregel?*); answers with the involvement and, when it
/// belongs to one, the case it shares with other involved parties.
async fn involvement(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<InvolvementBody>,
) -> ApiResult {
    let mut errors = Vec::new();
    let bsn = subject_field(&mut errors, "bsn", &b.bsn);
    let contact = b.contact.trim();
    let bad_contact = contact_problem(contact);
    if let Some(detail) = bad_contact {
        errors.push(FieldError {
            field: "contact".into(),
            detail: detail.into(),
        });
    }
    if b.consents.len() > actions::MAX_BASIS_CONSENTS {
        errors.push(FieldError {
            field: "consents".into(),
            detail: format!("at most {} consent ids", actions::MAX_BASIS_CONSENTS),
        });
    }
    for (i, c) in b
        .consents
        .iter()
        .take(actions::MAX_BASIS_CONSENTS)
        .enumerate()
    {
        reference(&mut errors, &format!("consents[{i}]"), c);
    }
    ok_or_invalid(errors)?;
    let actor = caller.professional();
    let mut hub = hub(&app, &caller)?;
    let r = actions::register_involvement(&app, &actor, &mut hub, &bsn, contact, &b.consents)
        .await
        .map_err(|e| ApiProblem::from_client(&e))?;
    Ok(ok(json!({
        "involvement": r.involvement.as_ref().map(cases::involvement_json),
        "already_registered": r.already_registered,
        "case": r.case.as_ref().map(cases::case_json),
    })))
}

/// `POST /maatregel/query`: does a child protection measure run, and whom to call
/// (`HasMaatregel`).
async fn maatregel(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<MaatregelBody>,
) -> ApiResult {
    let bsn = bsn_only(&b.bsn)?;
    let actor = caller.professional();
    let mut hub = hub(&app, &caller)?;
    let r = actions::ask_maatregel(&app, &actor, &mut hub, &bsn)
        .await
        .map_err(|e| ApiProblem::from_client(&e))?;
    Ok(ok(json!({
        "exists": r.exists,
        "kinds": r.kinds.iter().map(|k| kind_name(*k)).collect::<Vec<_>>(),
        "contacts": r.contacts.iter().map(|c| json!({
            "oin": c.oin, "organization_name": c.organization_name, "contact_point": c.contact_point
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChildBody {
    bsn: String,
}

/// `POST /maatregel/cases`: this organisation's own active involvements with a child and the
/// cases they belong to (`ListInvolvedParties`), as *Zaken van dit kind* on the console; for a
/// case worker (others 403 `denied`).
async fn child_cases(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<ChildBody>,
) -> ApiResult {
    let actor = cases::case_worker(&app, &caller)?;
    let bsn = bsn_only(&b.bsn)?;
    let mut hub = hub(&app, &caller)?;
    let r = actions::involved_parties(&app, &actor, &mut hub, &bsn)
        .await
        .map_err(|e| ApiProblem::from_client(&e))?;
    Ok(ok(json!({
        "own": r.own.iter().map(cases::involvement_json).collect::<Vec<_>>(),
        "cases": r.cases.iter().map(cases::case_json).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmContactBody {
    bsn: String,
    organisation_oin: String,
}

/// `POST /maatregel/confirm`: this organisation confirms that another organisation has contact
/// with the child (`ConfirmInvolvement`), so that it may record its involvement; answers until
/// when.
async fn confirm_contact(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<ConfirmContactBody>,
) -> ApiResult {
    let mut errors = Vec::new();
    let bsn = subject_field(&mut errors, "bsn", &b.bsn);
    if !sealed::is_oin(&b.organisation_oin) {
        errors.push(FieldError {
            field: "organisation_oin".into(),
            detail: "the OIN (20 digits) of the organisation whose contact you confirm".into(),
        });
    }
    ok_or_invalid(errors)?;
    let actor = caller.professional();
    let mut hub = hub(&app, &caller)?;
    let until = actions::confirm_involvement(&app, &actor, &mut hub, &bsn, &b.organisation_oin)
        .await
        .map_err(|e| ApiProblem::from_client(&e))?;
    Ok(ok(json!({
        "organisation_oin": b.organisation_oin,
        "valid_until": rfc3339(until),
    })))
}

/// `GET /fg/disclosures`: this organisation's entries in the disclosure log (role `fg`; the hub
/// refuses others).
async fn disclosures(State(app): State<Arc<App>>, caller: Caller) -> ApiResult {
    let entries = actions::own_disclosures(&app, &caller.professional())
        .await
        .map_err(|e| ApiProblem::from_client(&e))?;
    let entries: Vec<LogEntryJson> = entries
        .into_iter()
        .map(|e| LogEntryJson {
            index: e.index,
            at: e.at.as_ref().and_then(|t| rfc3339(t.seconds)),
            event: e.event,
            actor_oin: e.actor_oin,
            actor_role: e.actor_role,
            actor_professional: e.actor_professional,
            recipient_oin: e.recipient_oin,
            purpose: e.purpose,
            categories: e.categories,
            basis: e.basis,
            outcome: e.outcome,
            reasons: e.reasons,
            reference: e.reference,
            policy_version: e.policy_version,
            withheld: e.withheld,
        })
        .collect();
    Ok(ok(json!({"entries": entries})))
}
