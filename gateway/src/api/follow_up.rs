//! Veilig Thuis's follow-up of a melding in the local API, as the console does it
//! (`crate::information`): the melding's stages with their review moments, information requests
//! (the question sealed here to the organisation asked), the requests sent (answers opened here)
//! and received (questions opened here), and the answer (sealed here to Veilig Thuis) or a
//! decline. The hub's field and enum names; a system without the role concerned gets 403
//! `denied`, as the console refuses its FG.
use super::auth::Caller;
use super::problem::{ApiProblem, FieldError};
use super::veilig_thuis::{
    SignalRef, bad, case_reference, denied, fresh_id, here, hub_problem, melding, read_problem,
    veilig_thuis, vt_role, with, with_melding,
};
use super::{ApiResult, JsonBody, Routes, decision_json, ok, ok_or_invalid, reference, ts};
use crate::actions;
use crate::app::App;
use crate::information::{self, DraftProblem, ReadRequest, Reply, RequestDraft};
use crate::session::Professional;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use signaalhub_client::signaalhub_proto::pb;
use std::sync::Arc;

/// The routes of the follow-up.
pub(super) fn add(r: Routes) -> Routes {
    r.add(Method::POST, "/stages", post(set_stage))
        .add(Method::POST, "/stages/list", post(stages))
        .add(Method::POST, "/information-requests", post(request))
        .add(Method::GET, "/information-requests/sent", get(sent))
        .add(Method::GET, "/information-requests/received", get(received))
        .add(
            Method::POST,
            "/information-requests/{veilig_thuis_oin}/{request_id}/answer",
            post(answer),
        )
}

fn stages_json(s: &pb::MeldingStages) -> Value {
    let v = json!({
        "current": information::stage_name(s.current),
        "current_nl": s.current_nl,
        "under_assessment": s.under_assessment,
        "history": s.history.iter().map(|h| json!({
            "seq": h.seq,
            "stage": information::stage_name(h.stage),
            "stage_nl": h.stage_nl,
            "since": ts(&h.since),
            "review_at": ts(&h.review_at),
            "review_state": if h.review_state.is_empty() { Value::Null } else { Value::String(h.review_state.clone()) },
            "role": h.role,
        })).collect::<Vec<_>>(),
    });
    with_melding(v, &s.zorgmelding_id, s.signal.as_ref())
}

fn opened_json(opened: Option<&Result<String, String>>) -> Value {
    match opened {
        None => Value::Null,
        Some(Ok(text)) => json!({"verified": true, "text": text}),
        Some(Err(why)) => json!({"verified": false, "error": why}),
    }
}

/// A request as the API shows it; `sealed` is the question (received) or the answer (sent).
fn request_json(r: &ReadRequest, sent: bool) -> Value {
    let (q, opened) = r;
    let mut v = json!({
        "request_id": q.request_id,
        "veilig_thuis_oin": q.veilig_thuis_oin,
        "recipient_oin": q.recipient_oin,
        "categories": q.categories,
        "case_reference": q.case_reference,
        "requested_at": ts(&q.requested_at),
        "state": information::state_name(q.state),
        "answer_categories": q.answer_categories,
        "decline_reason": information::decline_name(q.decline_reason),
        "decline_reason_nl": if q.decline_reason_nl.is_empty() { Value::Null } else { Value::String(q.decline_reason_nl.clone()) },
        "answered_at": ts(&q.answered_at),
    });
    if sent {
        v = with_melding(v, &q.zorgmelding_id, q.signal.as_ref());
        with(v, vec![("answer", opened_json(opened.as_ref()))])
    } else {
        with(v, vec![("question", opened_json(opened.as_ref()))])
    }
}

// ---------------------------------------------------------------------------------------------
// Stages.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StageBody {
    #[serde(default)]
    zorgmelding_id: Option<String>,
    #[serde(default)]
    signal: Option<SignalRef>,
    stage: String,
    #[serde(default)]
    review_date: Option<String>,
    #[serde(default)]
    acting_role: Option<String>,
}

/// `POST /stages`: records the next stage of a melding here and its review moment
/// (`SetMeldingStage`). `melding_stage_set` in the audit log.
async fn set_stage(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<StageBody>,
) -> ApiResult {
    let actor = veilig_thuis(&app, &caller)?;
    let mut errors = Vec::new();
    let m = melding(b.zorgmelding_id.as_deref(), b.signal.as_ref(), &mut errors);
    let stage = information::stage_named(&b.stage);
    if stage.is_none() {
        bad(
            &mut errors,
            "stage",
            "TRIAGE, ONDERZOEK, OVERDRACHT, MONITORING or AFGESLOTEN",
        );
    }
    let review = match b.review_date.as_deref() {
        None => None,
        Some(d) => {
            let r = information::review_date(d);
            if r.is_none() {
                bad(
                    &mut errors,
                    "review_date",
                    "a date as YYYY-MM-DD (the review is planned at 09:00 UTC that day)",
                );
            }
            r
        }
    };
    let role = vt_role(&app, &actor, b.acting_role.as_deref(), &mut errors);
    ok_or_invalid(errors)?;
    let m = here(&app, m).await?;
    let stage = stage.unwrap_or(pb::MeldingStage::Unspecified);
    let s = information::set_stage(&app, &actor, &m, stage, review, &role)
        .await
        .map_err(|e| hub_problem(&e))?;
    Ok((StatusCode::CREATED, axum::Json(stages_json(&s))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MeldingBody {
    #[serde(default)]
    zorgmelding_id: Option<String>,
    #[serde(default)]
    signal: Option<SignalRef>,
}

/// `POST /stages/list`: where a melding here stands (`GetMeldingStages`).
async fn stages(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<MeldingBody>,
) -> ApiResult {
    let actor = veilig_thuis(&app, &caller)?;
    let mut errors = Vec::new();
    let m = melding(b.zorgmelding_id.as_deref(), b.signal.as_ref(), &mut errors);
    ok_or_invalid(errors)?;
    let m = here(&app, m).await?;
    let s = information::stages(&app, &actor, &m)
        .await
        .map_err(|e| hub_problem(&e))?;
    Ok(ok(stages_json(&s)))
}

// ---------------------------------------------------------------------------------------------
// Information requests.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestBody {
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    zorgmelding_id: Option<String>,
    #[serde(default)]
    signal: Option<SignalRef>,
    recipient_oin: String,
    categories: Vec<String>,
    case_reference: String,
    question: String,
    client_informed: bool,
    #[serde(default)]
    client_not_informed_reason: Option<String>,
    #[serde(default)]
    acting_role: Option<String>,
}

fn draft_error(errors: &mut Vec<FieldError>, p: DraftProblem, answer: bool) {
    bad(errors, p.field(answer), p.describe(false));
}

/// `POST /information-requests`: Veilig Thuis asks an organisation about a melding here
/// (`RequestInformation`), the question sealed here to that organisation only; idempotent on
/// `request_id` (default a fresh `iv-…`). `information_requested` in the audit log.
async fn request(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<RequestBody>,
) -> ApiResult {
    let actor = veilig_thuis(&app, &caller)?;
    let mut errors = Vec::new();
    let m = melding(b.zorgmelding_id.as_deref(), b.signal.as_ref(), &mut errors);
    let d = RequestDraft {
        request_id: fresh_id(b.request_id, "iv-")?,
        recipient: b.recipient_oin,
        categories: b.categories,
        case_reference: b.case_reference,
        question: b.question,
        client_informed: b.client_informed,
        not_informed_reason: b.client_not_informed_reason.unwrap_or_default(),
    };
    for p in d.problems(&information::askable_categories(&app)) {
        if p != DraftProblem::CaseReference {
            draft_error(&mut errors, p, false);
        }
    }
    case_reference(&mut errors, &d.case_reference);
    let role = vt_role(&app, &actor, b.acting_role.as_deref(), &mut errors);
    ok_or_invalid(errors)?;
    let m = here(&app, m).await?;
    let r = information::request(&app, &actor, &m, &d, &role)
        .await
        .map_err(|e| hub_problem(&e))?;
    let v = r
        .request
        .map_or(Value::Null, |q| request_json(&(q, None), true));
    let v = with(
        v,
        vec![
            ("duplicate", Value::Bool(r.duplicate)),
            (
                "decision",
                r.decision.as_ref().map_or(Value::Null, decision_json),
            ),
        ],
    );
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

/// `GET /information-requests/sent`: the requests this Veilig Thuis sent, newest first, each
/// answer opened here (`information_answer_opened` in the audit log first; 503 and nothing
/// returned if it cannot be written).
async fn sent(State(app): State<Arc<App>>, caller: Caller) -> ApiResult {
    let actor = veilig_thuis(&app, &caller)?;
    let list = information::sent(&app, &actor, None)
        .await
        .map_err(read_problem)?;
    Ok(ok(json!({
        "requests": list.iter().map(|r| request_json(r, true)).collect::<Vec<_>>(),
    })))
}

fn answering(app: &App, caller: &Caller) -> Result<Professional, ApiProblem> {
    let p = caller.professional();
    if information::may_answer(app, &p) {
        Ok(p)
    } else {
        Err(denied(
            "Veilig Thuis's information requests are answered by systems acting in a convenant role of a sector that may give Veilig Thuis information.",
        ))
    }
}

/// `GET /information-requests/received`: the requests this organisation received, newest first,
/// each question opened here (`information_question_opened` in the audit log first). The hub
/// never names the melding.
async fn received(State(app): State<Arc<App>>, caller: Caller) -> ApiResult {
    let actor = answering(&app, &caller)?;
    let list = information::received_opened(&app, &actor, None)
        .await
        .map_err(read_problem)?;
    Ok(ok(json!({
        "requests": list.iter().map(|r| request_json(r, false)).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    #[serde(default)]
    answer: Option<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    case_reference: Option<String>,
    #[serde(default)]
    decline_reason: Option<String>,
    #[serde(default)]
    acting_role: Option<String>,
}

/// `POST /information-requests/{veilig_thuis_oin}/{request_id}/answer`: the organisation asked
/// answers (sealed here to Veilig Thuis; `categories` only ones asked for; `case_reference`
/// default the request's) or declines with a `decline_reason` (`AnswerInformation`).
async fn answer(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((vt, id)): Path<(String, String)>,
    JsonBody(b): JsonBody<AnswerBody>,
) -> ApiResult {
    let actor = answering(&app, &caller)?;
    if !actions::valid_received_key(&vt, &id) {
        return Err(ApiProblem::not_found("No such information request."));
    }
    let asked = information::received(&app, &actor)
        .await
        .map_err(|e| hub_problem(&e))?
        .into_iter()
        .find(|q| q.veilig_thuis_oin == vt && q.request_id == id)
        .ok_or_else(|| {
            ApiProblem::not_found("No such information request for this organisation.")
        })?;
    let mut errors = Vec::new();
    let reply = match (b.answer, b.decline_reason.as_deref()) {
        (Some(_), Some(_)) => {
            bad(
                &mut errors,
                "decline_reason",
                "either an answer or a decline reason, not both",
            );
            None
        }
        (None, None) => {
            bad(
                &mut errors,
                "answer",
                "the answer (sealed here to Veilig Thuis), or a decline_reason",
            );
            None
        }
        (None, Some(reason)) => match information::decline_named(reason) {
            Some(r) => Some(Reply::Decline(r)),
            None => {
                bad(
                    &mut errors,
                    "decline_reason",
                    "NO_INFORMATION, PROFESSIONAL_SECRECY, NOT_INVOLVED or OTHER_SEE_FILE",
                );
                None
            }
        },
        (Some(text), None) => {
            let case = b
                .case_reference
                .unwrap_or_else(|| asked.case_reference.clone());
            if !case.trim().is_empty() {
                reference(&mut errors, "case_reference", &case);
            }
            let r = Reply::Answer {
                text,
                categories: b.categories,
                case_reference: case,
            };
            for p in r.problems(&asked.categories) {
                draft_error(&mut errors, p, true);
            }
            Some(r)
        }
    };
    let mut role_errors = Vec::new();
    let role = match b.acting_role.as_deref() {
        Some(r) => {
            reference(&mut role_errors, "acting_role", r);
            r.to_owned()
        }
        None => information::answer_roles(&app, &actor)
            .into_iter()
            .next()
            .unwrap_or_default(),
    };
    errors.extend(role_errors);
    ok_or_invalid(errors)?;
    let reply = reply.ok_or_else(|| ApiProblem::not_found("No such answer."))?;
    let r = information::reply(&app, &actor, &vt, &id, &reply, &role)
        .await
        .map_err(|e| hub_problem(&e))?;
    let v = r
        .request
        .map_or(Value::Null, |q| request_json(&(q, None), false));
    let v = with(
        v,
        vec![
            ("duplicate", Value::Bool(r.duplicate)),
            (
                "decision",
                r.decision.as_ref().map_or(Value::Null, decision_json),
            ),
        ],
    );
    Ok(ok(v))
}
