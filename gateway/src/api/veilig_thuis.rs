//! Veilig Thuis's chain in the local API, as the console does it (`crate::handover`,
//! `crate::feedback`): record a triage and decide on it, hand a melding over to a wijkteam, the
//! wijkteam receiving and answering the handover, feedback to the melder and reading it. The
//! hub's field and enum names (`zorgmelding_id` or `signal`, `WIJKTEAM_ALONE`, ...) and English
//! texts; the gateway checks the fields the console checks before the hub is asked, and refuses
//! a system without a role of the sector concerned (403 `denied`), as the console does its FG.
use super::problem::{ApiProblem, FieldError, ReasonView};
use super::{ApiResult, JsonBody, Routes, decision_json, ok, ok_or_invalid, reference, ts};
use crate::actions;
use crate::app::App;
use crate::feedback::{self, FeedbackDraft};
use crate::handover::{self, Answer, HandoverDraft, HandoverProblem, Melding, ReadProblem};
use crate::session::Professional;
use crate::store::StoreError;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use signaalhub_client::sealed;
use signaalhub_client::signaalhub_proto::pb;
use std::sync::Arc;

use super::auth::Caller;

/// Persons in one handover, at most.
const MAX_PERSONS: usize = 8;

/// The routes of the chain.
pub(super) fn add(r: Routes) -> Routes {
    r.add(Method::POST, "/triage", post(record_triage))
        .add(Method::POST, "/triage/{triage_id}/decide", post(decide))
        .add(
            Method::POST,
            "/triage/family-declined",
            post(family_declined),
        )
        .add(Method::POST, "/handovers", post(hand_over))
        .add(
            Method::GET,
            "/handovers/{sender_oin}/{handover_id}",
            get(receive),
        )
        .add(
            Method::POST,
            "/handovers/{sender_oin}/{handover_id}/answer",
            post(answer),
        )
        .add(
            Method::GET,
            "/handovers/{sender_oin}/{handover_id}/questions/{n}",
            get(question),
        )
        .add(Method::POST, "/feedback", post(send_feedback))
        .add(Method::POST, "/feedback/list", post(list_feedback))
        .add(Method::GET, "/meldingen", get(meldingen))
}

// ---------------------------------------------------------------------------------------------
// Names: the hub's enum names without their prefix.

fn named<E>(prefix: &str, value: &str, from: fn(&str) -> Option<E>) -> Option<E> {
    if value.is_empty() || value == "UNSPECIFIED" {
        return None;
    }
    from(&format!("{prefix}{value}"))
}

fn name_of(prefix: &str, full: Option<&str>) -> Value {
    full.map_or(Value::Null, |n| {
        Value::String(n.trim_start_matches(prefix).to_owned())
    })
}

pub(super) fn bad(errors: &mut Vec<FieldError>, field: &str, detail: &str) {
    errors.push(FieldError {
        field: field.into(),
        detail: detail.into(),
    });
}

pub(super) fn denied(detail: &str) -> ApiProblem {
    ApiProblem::new("denied", 403, "Not allowed for this system", detail)
}

fn store_problem(e: &StoreError) -> ApiProblem {
    tracing::warn!(error = %e, "api: audit log or store");
    ApiProblem::store_unavailable("The access log cannot be written now, so nothing was opened.")
}

pub(super) fn hub_problem(e: &signaalhub_client::ClientError) -> ApiProblem {
    ApiProblem::from_client(e)
}

/// The role to act in: the one named (checked), else the system's first role of `sector`.
pub(super) fn acting_role(
    app: &App,
    p: &Professional,
    sector: pb::Sector,
    named: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> String {
    match named {
        Some(r) => {
            reference(errors, "acting_role", r);
            r.to_owned()
        }
        None => actions::roles_of(app, p, sector)
            .into_iter()
            .next()
            .unwrap_or_default(),
    }
}

/// [`acting_role`] in the Veilig Thuis sector.
pub(super) fn vt_role(
    app: &App,
    p: &Professional,
    named: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> String {
    acting_role(app, p, pb::Sector::VeiligThuis, named, errors)
}

/// The id a system chose, or a fresh one with `prefix` (so a retry with it is the same).
pub(super) fn fresh_id(given: Option<String>, prefix: &str) -> Result<String, ApiProblem> {
    match given {
        Some(id) => Ok(id),
        None => sealed::new_signal_id()
            .map(|id| id.replacen("sig-", prefix, 1))
            .map_err(|e| hub_problem(&e)),
    }
}

pub(super) fn read_problem(e: ReadProblem) -> ApiProblem {
    match e {
        ReadProblem::Hub(e) => hub_problem(&e),
        ReadProblem::Audit(e) => store_problem(&e),
    }
}

/// `v` (an object) with `extra` members.
pub(super) fn with(mut v: Value, extra: Vec<(&str, Value)>) -> Value {
    if let Some(o) = v.as_object_mut() {
        for (k, x) in extra {
            o.insert(k.to_owned(), x);
        }
    }
    v
}

pub(super) fn veilig_thuis(app: &App, caller: &Caller) -> Result<Professional, ApiProblem> {
    let p = caller.professional();
    if actions::handles_zorgmeldingen(app, &p) {
        Ok(p)
    } else {
        Err(denied(
            "Triage, handover and feedback are for Veilig Thuis systems acting in a convenant role of the Veilig Thuis sector.",
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// The melding: exactly one of `zorgmelding_id` and `signal`, as the hub names it.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignalRef {
    sender_oin: String,
    signal_id: String,
}

pub(super) fn melding(
    zorgmelding_id: Option<&str>,
    signal: Option<&SignalRef>,
    errors: &mut Vec<FieldError>,
) -> Option<Melding> {
    let m = Melding::parse(
        zorgmelding_id,
        signal.map(|s| (s.sender_oin.as_str(), s.signal_id.as_str())),
    );
    if m.is_none() {
        bad(
            errors,
            "zorgmelding_id",
            "name the melding: exactly one of `zorgmelding_id` and `signal` {sender_oin, signal_id}",
        );
    }
    m
}

/// The melding, when it is in this gateway's store (a zorgmelding, or a signal under a melding
/// purpose).
pub(super) async fn here(app: &App, m: Option<Melding>) -> Result<Melding, ApiProblem> {
    let found = match &m {
        None => false,
        Some(Melding::Zorgmelding(z)) => matches!(app.store.get_melding(z).await, Ok(Some(_))),
        Some(Melding::Signal { sender, id }) => matches!(
            app.store.get_received(sender, id).await,
            Ok(Some(r)) if handover::MELDING_PURPOSES.contains(&r.purpose.as_str())
        ),
    };
    match (found, m) {
        (true, Some(m)) => Ok(m),
        _ => Err(ApiProblem::not_found(
            "This melding is not (or no longer) here, or is not a melding to Veilig Thuis.",
        )),
    }
}

pub(super) fn with_melding(
    v: Value,
    zorgmelding_id: &str,
    signal: Option<&pb::SignalReference>,
) -> Value {
    let z = if zorgmelding_id.is_empty() {
        Value::Null
    } else {
        Value::String(zorgmelding_id.to_owned())
    };
    let signal = signal.map_or(
        Value::Null,
        |s| json!({"sender_oin": s.sender_oin, "signal_id": s.signal_id}),
    );
    with(v, vec![("zorgmelding_id", z), ("signal", signal)])
}

// ---------------------------------------------------------------------------------------------
// Triage.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CriteriaBody {
    physical_abuse_or_severe_violence: String,
    sexual_abuse: String,
    violence_witnessed_by_children: String,
    safety_conflict: String,
    open_to_help: String,
    stacked_reports: String,
    mutual_accusations: String,
    addiction: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TriageBody {
    #[serde(default)]
    zorgmelding_id: Option<String>,
    #[serde(default)]
    signal: Option<SignalRef>,
    criteria: CriteriaBody,
    #[serde(default)]
    acute: bool,
    case_reference: String,
    #[serde(default)]
    acting_role: Option<String>,
}

const YES_NO: &str = "YES, NO or UNKNOWN (unknown is an answer; none is not)";

fn criteria(c: &CriteriaBody, errors: &mut Vec<FieldError>) -> pb::ArnhemCriteria {
    let mut yes_no = |field: &str, v: &str| -> i32 {
        match named("CRITERION_ANSWER_", v, pb::CriterionAnswer::from_str_name) {
            Some(a) => a as i32,
            None => {
                bad(errors, &format!("criteria.{field}"), YES_NO);
                0
            }
        }
    };
    let mut out = pb::ArnhemCriteria {
        physical_abuse_or_severe_violence: yes_no(
            "physical_abuse_or_severe_violence",
            &c.physical_abuse_or_severe_violence,
        ),
        sexual_abuse: yes_no("sexual_abuse", &c.sexual_abuse),
        violence_witnessed_by_children: yes_no(
            "violence_witnessed_by_children",
            &c.violence_witnessed_by_children,
        ),
        stacked_reports: yes_no("stacked_reports", &c.stacked_reports),
        mutual_accusations: yes_no("mutual_accusations", &c.mutual_accusations),
        addiction: yes_no("addiction", &c.addiction),
        ..Default::default()
    };
    match named(
        "SAFETY_CONFLICT_ANSWER_",
        &c.safety_conflict,
        pb::SafetyConflictAnswer::from_str_name,
    ) {
        Some(a) => out.safety_conflict = a as i32,
        None => bad(
            errors,
            "criteria.safety_conflict",
            "YES, NO, DIVORCE_ONLY or UNKNOWN",
        ),
    }
    match named(
        "OPEN_TO_HELP_ANSWER_",
        &c.open_to_help,
        pb::OpenToHelpAnswer::from_str_name,
    ) {
        Some(a) => out.open_to_help = a as i32,
        None => bad(
            errors,
            "criteria.open_to_help",
            "OPEN, EXPECTED_NOT_OPEN, FOUND_NOT_OPEN or UNKNOWN",
        ),
    }
    out
}

pub(super) fn case_reference(errors: &mut Vec<FieldError>, value: &str) {
    if value.trim().is_empty() || value.len() > 64 {
        bad(
            errors,
            "case_reference",
            "required: the case reference in Veilig Thuis's own file (1-64 characters, no name or BSN)",
        );
    } else {
        reference(errors, "case_reference", value);
    }
}

fn triage_json(t: &pb::Triage) -> Value {
    let advice = t.advice.as_ref().map(|a| {
        let criteria = |list: &[pb::Criterion]| {
            list.iter()
                .map(|c| json!({"number": c.number, "code": c.code, "text_en": c.text_en}))
                .collect::<Vec<_>>()
        };
        json!({
            "advice": name_of("ADVICE_", pb::Advice::try_from(a.advice).ok().map(|a| a.as_str_name())),
            "criteria_met": criteria(&a.criteria_met),
            "open_questions": criteria(&a.open_questions),
            "divorce_only": a.divorce_only,
            "explanation_en": a.explanation_en,
        })
    });
    let decision = t.decision.as_ref().map(|d| {
        json!({
            "decision": name_of("TRIAGE_DECISION_KIND_", pb::TriageDecisionKind::try_from(d.decision).ok().map(|k| k.as_str_name())),
            "reason": name_of("DECISION_REASON_", pb::DecisionReason::try_from(d.reason).ok().filter(|r| *r != pb::DecisionReason::Unspecified).map(|r| r.as_str_name())),
            "follows_advice": d.follows_advice,
            "recorded": d.recorded,
            "decided_by": d.decided_by,
            "decided_at": ts(&d.decided_at),
        })
    });
    let v = json!({
        "triage_id": t.triage_id,
        "acute": t.acute,
        "case_reference": t.case_reference,
        "advice": advice,
        "recidive": t.recidive.as_ref().map(|r| json!({
            "window_days": r.window_days,
            "earlier_zorgmeldingen": r.earlier_zorgmeldingen,
            "earlier_signals": r.earlier_signals,
            "sectors": r.sectors,
        })),
        "triagist": t.triagist,
        "role": t.role,
        "recorded_at": ts(&t.recorded_at),
        "decision": decision,
    });
    with_melding(v, &t.zorgmelding_id, t.signal.as_ref())
}

/// `POST /triage`: records a triage of a melding here (`RecordTriage`).
async fn record_triage(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<TriageBody>,
) -> ApiResult {
    let actor = veilig_thuis(&app, &caller)?;
    let mut errors = Vec::new();
    let m = melding(b.zorgmelding_id.as_deref(), b.signal.as_ref(), &mut errors);
    let c = criteria(&b.criteria, &mut errors);
    case_reference(&mut errors, &b.case_reference);
    let role = vt_role(&app, &actor, b.acting_role.as_deref(), &mut errors);
    ok_or_invalid(errors)?;
    let m = here(&app, m).await?;
    let t = handover::record_triage(&app, &actor, &m, c, b.acute, b.case_reference.trim(), &role)
        .await
        .map_err(|e| hub_problem(&e))?;
    Ok((StatusCode::CREATED, axum::Json(triage_json(&t))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclinedBody {
    #[serde(default)]
    zorgmelding_id: Option<String>,
    #[serde(default)]
    signal: Option<SignalRef>,
    declined_by: String,
    #[serde(default)]
    acting_role: Option<String>,
}

/// `POST /triage/family-declined`: the family does not want the wijkteam
/// (`RecordFamilyDeclined`; `declined_by` a reference such as `ouder-1`, never a name). Every
/// handover of the melding is refused after this. `family_declined` in the audit log.
async fn family_declined(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<DeclinedBody>,
) -> ApiResult {
    let actor = veilig_thuis(&app, &caller)?;
    let mut errors = Vec::new();
    let m = melding(b.zorgmelding_id.as_deref(), b.signal.as_ref(), &mut errors);
    reference(&mut errors, "declined_by", &b.declined_by);
    let role = vt_role(&app, &actor, b.acting_role.as_deref(), &mut errors);
    ok_or_invalid(errors)?;
    let m = here(&app, m).await?;
    let d = handover::decline(&app, &actor, &m, b.declined_by.trim(), &role)
        .await
        .map_err(|e| hub_problem(&e))?;
    let v = json!({
        "declined_by": d.declined_by,
        "recorded_at": ts(&d.recorded_at),
    });
    let (zorgmelding_id, signal) =
        signaalhub_client::zorgmelding::melding_reference(&m.reference());
    Ok((
        StatusCode::CREATED,
        axum::Json(with_melding(v, &zorgmelding_id, signal.as_ref())),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideBody {
    decision: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    acting_role: Option<String>,
}

/// `POST /triage/{triage_id}/decide`: the triagist's decision (`DecideTriage`).
async fn decide(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(triage_id): Path<String>,
    JsonBody(b): JsonBody<DecideBody>,
) -> ApiResult {
    let actor = veilig_thuis(&app, &caller)?;
    let mut errors = Vec::new();
    if !actions::valid_record_id(&triage_id) {
        bad(&mut errors, "triage_id", "not a triage id");
    }
    let decision = named(
        "TRIAGE_DECISION_KIND_",
        &b.decision,
        pb::TriageDecisionKind::from_str_name,
    );
    if decision.is_none() {
        bad(
            &mut errors,
            "decision",
            "JOINT_VISIT, WIJKTEAM_ALONE, VEILIG_THUIS_ALONE or ADVICE_ONLY",
        );
    }
    let reason = match b.reason.as_deref() {
        None => Some(pb::DecisionReason::Unspecified),
        Some(r) => named("DECISION_REASON_", r, pb::DecisionReason::from_str_name),
    };
    if reason.is_none() {
        bad(
            &mut errors,
            "reason",
            "SINGLE_INCIDENT, HELP_ALREADY_INVOLVED, FAMILY_COOPERATES, SAFETY_NEEDS_VEILIG_THUIS, NEW_INFORMATION or OTHER_SEE_FILE",
        );
    }
    let role = vt_role(&app, &actor, b.acting_role.as_deref(), &mut errors);
    ok_or_invalid(errors)?;
    let (Some(decision), Some(reason)) = (decision, reason) else {
        return Err(ApiProblem::not_found("No such decision."));
    };
    let t = handover::decide(&app, &actor, &triage_id, decision, reason, &role)
        .await
        .map_err(|e| hub_problem(&e))?;
    Ok(ok(triage_json(&t)))
}

// ---------------------------------------------------------------------------------------------
// Handover.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactBody {
    name: String,
    #[serde(default)]
    function: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
}

impl ContactBody {
    fn check(&self, field: &str, errors: &mut Vec<FieldError>) -> pb::ContactPerson {
        let all = [&self.name, &self.function, &self.phone, &self.email];
        if self.name.trim().is_empty() || (self.phone.is_empty() && self.email.is_empty()) {
            bad(errors, field, "a name, with a phone or an e-mail address");
        } else if all
            .iter()
            .any(|v| v.len() > 200 || v.chars().any(char::is_control))
        {
            bad(
                errors,
                field,
                "each part at most 200 characters, without control characters",
            );
        } else if all.iter().any(|v| sealed::has_digit_run(v)) {
            bad(
                errors,
                field,
                "holds a run of 9 or more digits, which could be a BSN; write a phone number with a dash or spaces",
            );
        }
        pb::ContactPerson {
            name: self.name.trim().into(),
            function: self.function.trim().into(),
            phone: self.phone.trim().into(),
            email: self.email.trim().into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HandoverBody {
    #[serde(default)]
    handover_id: Option<String>,
    #[serde(default)]
    zorgmelding_id: Option<String>,
    #[serde(default)]
    signal: Option<SignalRef>,
    recipient_oin: String,
    subject_bsns: Vec<String>,
    categories: Vec<String>,
    #[serde(default)]
    fragments: Vec<u32>,
    case_reference: String,
    client_informed: bool,
    #[serde(default)]
    consent_ids: Vec<String>,
    veilig_thuis_contact: ContactBody,
    wijkteam_contact: ContactBody,
    #[serde(default)]
    acting_role: Option<String>,
}

/// Checked BSNs (1 to [`MAX_PERSONS`], each with the elfproef), in `field`.
fn persons(field: &str, typed: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out = Vec::new();
    for (i, b) in typed.iter().enumerate() {
        match actions::bsn_rule(b) {
            Ok(b) if !out.contains(&b) => out.push(b),
            Ok(_) => {}
            Err(issue) => bad(
                errors,
                &format!("{field}[{i}]"),
                issue.describe(crate::web::i18n::Lang::En),
            ),
        }
    }
    if typed.is_empty() || typed.len() > MAX_PERSONS {
        bad(errors, field, "1 to 8 persons, each a BSN");
    }
    out
}

fn handover_json(h: &pb::Handover) -> Value {
    let answers: Vec<Value> = h
        .answers
        .iter()
        .enumerate()
        .map(|(i, a)| {
            json!({
                "answer": name_of("HANDOVER_ANSWER_KIND_", pb::HandoverAnswerKind::try_from(a.answer).ok().map(|k| k.as_str_name())),
                "reason": name_of("RETURN_REASON_", pb::ReturnReason::try_from(a.reason).ok().filter(|r| *r != pb::ReturnReason::Unspecified).map(|r| r.as_str_name())),
                "answered_by": a.answered_by,
                "answered_at": ts(&a.answered_at),
                "question": a.question.as_ref().map(|_| format!("{}.q{}", h.handover_id, i + 1)),
            })
        })
        .collect();
    let contact = |c: Option<&pb::ContactPerson>| {
        c.map(
            |c| json!({"name": c.name, "function": c.function, "phone": c.phone, "email": c.email}),
        )
    };
    let v = json!({
        "handover_id": h.handover_id,
        "sender_oin": h.sender_oin,
        "recipient_oin": h.recipient_oin,
        "purpose": h.purpose,
        "categories": h.categories,
        "basis": h.basis,
        "state": name_of("HANDOVER_STATE_", pb::HandoverState::try_from(h.state).ok().map(|s| s.as_str_name())),
        "reasons": h.reasons.iter().map(ReasonView::from).collect::<Vec<_>>(),
        "veilig_thuis_contact": contact(h.veilig_thuis_contact.as_ref()),
        "wijkteam_contact": contact(h.wijkteam_contact.as_ref()),
        "created_at": ts(&h.created_at),
        "retain_until": ts(&h.retain_until),
        "subject_count": h.subject_count,
        "family_letter": h.family_letter,
        "answers": answers,
        "answer_due": ts(&h.answer_due),
        "answer_overdue": h.answer_overdue,
    });
    with_melding(v, &h.zorgmelding_id, h.signal.as_ref())
}

/// `POST /handovers`: the melding opened here and re-sealed for the wijkteam (`HandOver`).
async fn hand_over(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<HandoverBody>,
) -> ApiResult {
    let actor = veilig_thuis(&app, &caller)?;
    let mut errors = Vec::new();
    let m = melding(b.zorgmelding_id.as_deref(), b.signal.as_ref(), &mut errors);
    let handover_id = fresh_id(b.handover_id, "ho-")?;
    if !sealed::valid_signal_id(&handover_id) {
        bad(
            &mut errors,
            "handover_id",
            "1-64 of A-Z a-z 0-9 . _ - without a run of 9 or more digits",
        );
    }
    if !sealed::is_oin(&b.recipient_oin) {
        bad(
            &mut errors,
            "recipient_oin",
            "the wijkteam's OIN (20 digits)",
        );
    }
    let bsns = persons("subject_bsns", &b.subject_bsns, &mut errors);
    if b.categories.is_empty() {
        bad(
            &mut errors,
            "categories",
            "at least one category of the convenant's handover flow",
        );
    }
    super::references(&mut errors, "categories", &b.categories);
    super::references(&mut errors, "consent_ids", &b.consent_ids);
    case_reference(&mut errors, &b.case_reference);
    let vt_contact = b
        .veilig_thuis_contact
        .check("veilig_thuis_contact", &mut errors);
    let wijkteam_contact = b.wijkteam_contact.check("wijkteam_contact", &mut errors);
    let role = vt_role(&app, &actor, b.acting_role.as_deref(), &mut errors);
    ok_or_invalid(errors)?;
    let m = here(&app, m).await?;
    let d = HandoverDraft {
        handover_id,
        recipient: b.recipient_oin,
        bsns,
        categories: b.categories,
        fragments: b.fragments,
        basis: handover::handover_flow(&app).1,
        case_reference: b.case_reference.trim().into(),
        client_informed: b.client_informed,
        consents: b.consent_ids,
        vt_contact,
        wijkteam_contact,
        role,
    };
    let r = handover::hand_over(&app, &actor, &m, &d)
        .await
        .map_err(|e| match e {
            HandoverProblem::Hub(e) => hub_problem(&e),
            HandoverProblem::NotFound => {
                ApiProblem::not_found("This melding is not (or no longer) here.")
            }
            HandoverProblem::Store(e) => store_problem(&e),
            HandoverProblem::Unopened(why) => ApiProblem::new(
                "unopenable",
                422,
                "The melding could not be opened here; nothing was handed over",
                why,
            ),
            HandoverProblem::NoSuchFragment(n) => ApiProblem::invalid(vec![FieldError {
                field: "fragments".into(),
                detail: format!("fragment {n} is not part of this zorgmelding"),
            }]),
        })?;
    let v = r.handover.as_ref().map_or(Value::Null, handover_json);
    let v = with(
        v,
        vec![
            ("duplicate", Value::Bool(r.duplicate)),
            ("decisions", r.decisions.iter().map(decision_json).collect()),
        ],
    );
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

/// `GET /handovers/{own OIN}/{handover_id}/questions/{n}`: Veilig Thuis opens the wijkteam's
/// question in its `n`th answer (1, 2, ...) — `question_opened` written to the audit log first,
/// then the envelope checked against the handover (`<handover id>.q<n>`, its purpose and
/// categories) and the wijkteam's signature verified.
async fn question(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((sender, id, n)): Path<(String, String, String)>,
) -> ApiResult {
    let actor = veilig_thuis(&app, &caller)?;
    let n = match n.parse::<usize>() {
        Ok(n) if n > 0 => n,
        _ => return Err(ApiProblem::not_found("No such answer of the handover.")),
    };
    if sender != app.oin() {
        return Err(ApiProblem::not_found(
            "No such handover of this Veilig Thuis (name its own OIN).",
        ));
    }
    handover_path(&sender, &id)?;
    let (h, opened) = handover::open_question(&app, &actor, &id, n)
        .await
        .map_err(read_problem)?;
    let question = match opened {
        None => {
            return Err(ApiProblem::not_found(
                "This answer of the handover holds no question.",
            ));
        }
        Some(Ok(text)) => json!({"verified": true, "text": text}),
        Some(Err(why)) => json!({"verified": false, "error": why}),
    };
    Ok(ok(json!({
        "handover_id": h.handover_id,
        "answer": n,
        "wijkteam_oin": h.recipient_oin,
        "asked_at": h.answers.get(n - 1).map_or(Value::Null, |a| ts(&a.answered_at)),
        "question": question,
    })))
}

fn wijkteam(app: &App, caller: &Caller) -> Result<Professional, ApiProblem> {
    let p = caller.professional();
    if handover::works_for_wijkteam(app, &p) {
        Ok(p)
    } else {
        Err(denied(
            "Receiving and answering a handover is for wijkteam systems acting in a convenant role of the wijkteam sector.",
        ))
    }
}

fn handover_path(sender: &str, id: &str) -> Result<(), ApiProblem> {
    if actions::valid_received_key(sender, id) {
        Ok(())
    } else {
        Err(ApiProblem::not_found("No such handover."))
    }
}

/// `GET /handovers/{sender_oin}/{handover_id}`: the wijkteam receives a handover — written to
/// the audit log first, then `GetHandover` (the first read delivers it) and its parts opened here.
async fn receive(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((sender, id)): Path<(String, String)>,
) -> ApiResult {
    let actor = wijkteam(&app, &caller)?;
    handover_path(&sender, &id)?;
    let (h, opened) = handover::receive(&app, &actor, &sender, &id)
        .await
        .map_err(read_problem)?;
    let parts: Value = opened
        .iter()
        .map(|p| match p {
            Ok(b) => json!({"verified": true, "text": String::from_utf8_lossy(b)}),
            Err(why) => json!({"verified": false, "error": why}),
        })
        .collect();
    let v = with(handover_json(&h), vec![("parts", parts)]);
    Ok(ok(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    answer: String,
    #[serde(default)]
    subject_bsns: Vec<String>,
    #[serde(default)]
    contact_professional: Option<String>,
    #[serde(default)]
    question: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    acting_role: Option<String>,
}

/// `POST /handovers/{sender_oin}/{handover_id}/answer`: the wijkteam accepts, asks (the question
/// sealed here to Veilig Thuis) or returns the handover (`AnswerHandover`).
async fn answer(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((sender, id)): Path<(String, String)>,
    JsonBody(b): JsonBody<AnswerBody>,
) -> ApiResult {
    let actor = wijkteam(&app, &caller)?;
    handover_path(&sender, &id)?;
    let mut errors = Vec::new();
    let a = match b.answer.as_str() {
        "ACCEPTED" => {
            let bsns = persons("subject_bsns", &b.subject_bsns, &mut errors);
            let contact = b.contact_professional.unwrap_or_default().trim().to_owned();
            if contact.is_empty() || contact.len() > actions::MAX_CONTACT {
                bad(
                    &mut errors,
                    "contact_professional",
                    "how colleagues reach the wijkcoach, 1-200 characters",
                );
            } else if sealed::has_digit_run(&contact) || contact.chars().any(char::is_control) {
                bad(
                    &mut errors,
                    "contact_professional",
                    "no control characters and no run of 9 or more digits (it could be a BSN)",
                );
            }
            Some(Answer::Accept { bsns, contact })
        }
        "QUESTION" => {
            let q = b.question.unwrap_or_default().trim().to_owned();
            if q.is_empty() || q.chars().count() > feedback::NOTE_MAX {
                bad(
                    &mut errors,
                    "question",
                    "the question to Veilig Thuis, 1-2000 characters",
                );
            }
            Some(Answer::Question(q))
        }
        "RETURNED" => {
            let r = b
                .reason
                .as_deref()
                .and_then(|r| named("RETURN_REASON_", r, pb::ReturnReason::from_str_name));
            if r.is_none() {
                bad(
                    &mut errors,
                    "reason",
                    "NOT_OUR_AREA, ALREADY_IN_CARE_ELSEWHERE, NOT_ENOUGH_INFORMATION, SAFETY_NEEDS_VEILIG_THUIS or OTHER_SEE_FILE",
                );
            }
            r.map(Answer::Return)
        }
        _ => {
            bad(&mut errors, "answer", "ACCEPTED, QUESTION or RETURNED");
            None
        }
    };
    let role = acting_role(
        &app,
        &actor,
        pb::Sector::Wijkteam,
        b.acting_role.as_deref(),
        &mut errors,
    );
    ok_or_invalid(errors)?;
    let a = a.ok_or_else(|| ApiProblem::not_found("No such answer."))?;
    let r = handover::answer(&app, &actor, &sender, &id, a, &role)
        .await
        .map_err(|e| hub_problem(&e))?;
    let v = r.handover.as_ref().map_or(Value::Null, handover_json);
    let v = with(
        v,
        vec![
            ("involvement_ids", json!(r.involvement_ids)),
            ("duplicate", Value::Bool(r.duplicate)),
        ],
    );
    Ok(ok(v))
}

// ---------------------------------------------------------------------------------------------
// Feedback to the melder.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackBody {
    #[serde(default)]
    feedback_id: Option<String>,
    #[serde(default)]
    zorgmelding_id: Option<String>,
    #[serde(default)]
    signal: Option<SignalRef>,
    outcome: String,
    case_reference: String,
    client_informed: bool,
    #[serde(default)]
    client_not_informed_reason: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    acting_role: Option<String>,
}

fn feedback_json(f: &pb::Feedback, note: Option<&Result<String, String>>) -> Value {
    let v = json!({
        "feedback_id": f.feedback_id,
        "veilig_thuis_oin": f.veilig_thuis_oin,
        "outcome": feedback::outcome_name(f.outcome),
        "outcome_nl": f.outcome_nl,
        "sent_at": ts(&f.sent_at),
        "has_note": f.note.is_some(),
        "note": note.and_then(|n| n.as_ref().ok()),
        "note_error": note.and_then(|n| n.as_ref().err()),
    });
    with_melding(v, &f.zorgmelding_id, f.signal.as_ref())
}

/// `POST /feedback`: Veilig Thuis tells the melder what it does (`SendFeedback`); the note is
/// sealed here to the melder only.
async fn send_feedback(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<FeedbackBody>,
) -> ApiResult {
    let actor = veilig_thuis(&app, &caller)?;
    let mut errors = Vec::new();
    let m = melding(b.zorgmelding_id.as_deref(), b.signal.as_ref(), &mut errors);
    let outcome = feedback::outcome_named(&b.outcome);
    if outcome.is_none() {
        bad(
            &mut errors,
            "outcome",
            "RECEIVED, HANDED_OVER_TO_WIJKTEAM, VEILIG_THUIS_INVESTIGATES, ADVICE_GIVEN or NO_FURTHER_ACTION",
        );
    }
    let feedback_id = fresh_id(b.feedback_id, "fb-")?;
    let d = FeedbackDraft {
        feedback_id,
        outcome: outcome.unwrap_or(pb::FeedbackOutcome::Unspecified),
        case_reference: b.case_reference,
        client_informed: b.client_informed,
        not_informed_reason: b.client_not_informed_reason.unwrap_or_default(),
        note: b.note.unwrap_or_default(),
    };
    for p in d.problems() {
        bad(&mut errors, p.field(), p.describe(false));
    }
    if !d.case_reference.trim().is_empty() {
        reference(&mut errors, "case_reference", &d.case_reference);
    }
    let role = vt_role(&app, &actor, b.acting_role.as_deref(), &mut errors);
    ok_or_invalid(errors)?;
    let m = here(&app, m).await?;
    let r = feedback::send(&app, &actor, &m, &d, &role)
        .await
        .map_err(|e| hub_problem(&e))?;
    let v = r
        .feedback
        .as_ref()
        .map_or(Value::Null, |f| feedback_json(f, None));
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFeedbackBody {
    #[serde(default)]
    zorgmelding_id: Option<String>,
    #[serde(default)]
    signal: Option<SignalRef>,
}

/// `POST /feedback/list`: the feedback about a melding (`ListFeedback`), oldest first; a melder
/// names its own signal and reads the notes, opened here after the audit log.
async fn list_feedback(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<ListFeedbackBody>,
) -> ApiResult {
    let mut errors = Vec::new();
    let m = melding(b.zorgmelding_id.as_deref(), b.signal.as_ref(), &mut errors);
    ok_or_invalid(errors)?;
    let m = m.ok_or_else(|| ApiProblem::not_found("No such melding."))?;
    let list = feedback::read(&app, &caller.professional(), &m.reference())
        .await
        .map_err(read_problem)?;
    Ok(ok(json!({
        "feedback": list.iter().map(|(f, n)| feedback_json(f, n.as_ref())).collect::<Vec<_>>(),
    })))
}

/// `GET /meldingen?stage=&page_token=`: Veilig Thuis's meldingen (`ListMeldingen`) with their
/// stage and review moment, due reviews first, 25 a page, as the console's *Meldingen*. For a
/// Veilig Thuis system (others 403 `denied`); no BSN in or out, so a GET.
async fn meldingen(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> ApiResult {
    let actor = veilig_thuis(&app, &caller)?;
    let mut errors = Vec::new();
    if let Some(k) = q.keys().find(|k| *k != "stage" && *k != "page_token") {
        bad(
            &mut errors,
            k,
            "not a parameter of this endpoint (stage, page_token)",
        );
    }
    let stage = match q.get("stage").map(String::as_str).unwrap_or_default() {
        "" => 0,
        s => named(
            "MELDING_STAGE_",
            &s.to_ascii_uppercase(),
            pb::MeldingStage::from_str_name,
        )
        .map_or_else(
            || {
                bad(
                    &mut errors,
                    "stage",
                    "one of triage, onderzoek, overdracht, monitoring, afgesloten",
                );
                0
            },
            |s| s as i32,
        ),
    };
    let token = q.get("page_token").cloned().unwrap_or_default();
    if token.len() > 128 || token.chars().any(|c| !c.is_ascii_graphic()) {
        bad(
            &mut errors,
            "page_token",
            "the next_page_token of the previous page",
        );
    }
    ok_or_invalid(errors)?;
    let r = crate::information::meldingen(&app, &actor, stage, &token)
        .await
        .map_err(|e| hub_problem(&e))?;
    let list: Vec<Value> = r
        .meldingen
        .iter()
        .map(|m| {
            json!({
                "zorgmelding_id": (!m.zorgmelding_id.is_empty()).then_some(&m.zorgmelding_id),
                "signal": m.signal.as_ref().map(|s| json!({"sender_oin": s.sender_oin, "signal_id": s.signal_id})),
                "kind": name_of("MELDING_KIND_", pb::MeldingKind::try_from(m.kind).ok().map(|k| k.as_str_name())),
                "received_at": ts(&m.received_at),
                "stage": name_of("MELDING_STAGE_", pb::MeldingStage::try_from(m.stage).ok().map(|k| k.as_str_name())),
                "stage_nl": m.stage_nl,
                "under_assessment": m.under_assessment,
                "stage_since": ts(&m.stage_since),
                "review_at": ts(&m.review_at),
                "review_state": m.review_state,
                "review_due": m.review_due,
                "triaged": m.triaged,
                "decision": name_of("TRIAGE_DECISION_KIND_", pb::TriageDecisionKind::try_from(m.decision).ok().map(|k| k.as_str_name())),
                "decision_recorded": m.decision_recorded,
            })
        })
        .collect();
    Ok(ok(
        json!({"meldingen": list, "next_page_token": r.next_page_token}),
    ))
}
