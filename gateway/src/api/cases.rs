//! The console's newer pages in the local API: cases and their safety plan (any version), ending
//! the organisation's involvement, the organisation's notifications, a Veilig Thuis's stored
//! zorgmeldingen opened here, and the gateway's audit log for the FG. The same functions as the
//! console (`crate::actions`, `crate::notifications`), the same checks inside the organisation
//! (a case worker for cases and notifications, a Veilig Thuis role for zorgmeldingen, `fg` for
//! the audit log; others 403 `denied`), and the same audit lines, written before anything sealed
//! is opened or returned.
use super::auth::Caller;
use super::problem::{ApiProblem, FieldError};
use super::{ApiResult, JsonBody, PREFIX, Routes, ok, ok_or_invalid, reference, rfc3339, ts};
use crate::actions::{self, ConfirmProblem, OpenError, PlanIssue, PlanProblem, PlanText, Unopened};
use crate::app::App;
use crate::notifications::{self, Notification};
use crate::session::Professional;
use crate::store::StoredMelding;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use signaalhub_client::involvement::{Agreement, SafetyPlan};
use signaalhub_client::sealed;
use signaalhub_client::signaalhub_proto::pb;
use std::collections::HashMap;
use std::sync::Arc;

/// Notifications per page.
const NOTIFICATIONS_PAGE: usize = 25;
/// Audit lines per page (as the console's).
const AUDIT_PAGE: i64 = 50;

/// The routes of this module.
pub(super) fn add(r: Routes) -> Routes {
    r.add(Method::GET, "/cases/{case_id}", get(case))
        .add(Method::GET, "/cases/{case_id}/plan", get(latest_plan))
        .add(Method::GET, "/cases/{case_id}/plan/{version}", get(plan))
        .add(Method::POST, "/cases/{case_id}/coordinator", post(propose))
        .add(
            Method::POST,
            "/proposals/{proposal_id}/answer",
            post(answer_proposal),
        )
        .add(Method::POST, "/cases/{case_id}/plan", post(publish_plan))
        .add(
            Method::POST,
            "/cases/{case_id}/plan/{version}/confirm",
            post(confirm_plan),
        )
        .add(
            Method::POST,
            "/involvements/{involvement_id}/end",
            post(end_involvement),
        )
        .add(Method::GET, "/notifications", get(notification_page))
        .add(Method::GET, "/zorgmeldingen", get(zorgmeldingen))
        .add(
            Method::GET,
            "/zorgmeldingen/{zorgmelding_id}",
            get(zorgmelding),
        )
        .add(Method::GET, "/audit", get(audit))
}

fn denied(detail: &str) -> ApiProblem {
    ApiProblem::new("denied", 403, "Not allowed for this system", detail)
}

fn hub_problem(e: &signaalhub_client::ClientError) -> ApiProblem {
    ApiProblem::from_client(e)
}

fn audit_down(e: &crate::store::StoreError, what: &str) -> ApiProblem {
    tracing::warn!(error = %e, "api: audit log");
    ApiProblem::store_unavailable(format!("The access log cannot be written now, so {what}."))
}

/// A case worker: a system with a role the convenant gives some sector (not e.g. an FG system).
pub(super) fn case_worker(app: &App, caller: &Caller) -> Result<Professional, ApiProblem> {
    let p = caller.professional();
    if actions::works_on_cases(app, &p) {
        Ok(p)
    } else {
        Err(denied(
            "Cases and notifications are for systems acting in a convenant role of a sector.",
        ))
    }
}

/// An id in the path: not found unless it has an id's form (never echoed).
fn id_path(id: &str, what: &str) -> Result<(), ApiProblem> {
    if actions::valid_record_id(id) {
        Ok(())
    } else {
        Err(ApiProblem::not_found(format!("No such {what}.")))
    }
}

/// The `before` cursor of a page (absent: the newest).
fn before(q: &HashMap<String, String>) -> Result<Option<u64>, ApiProblem> {
    match q.get("before") {
        None => Ok(None),
        Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
            ApiProblem::invalid(vec![FieldError {
                field: "before".into(),
                detail: "a cursor: a whole number from an earlier page's `older`".into(),
            }])
        }),
    }
}

pub(super) fn involvement_json(i: &pb::Involvement) -> Value {
    json!({
        "involvement_id": i.involvement_id,
        "organization_oin": i.organization_oin,
        "organization_name": i.organization_name,
        "sector": i.sector_name,
        "contact_professional": i.contact_professional,
        "started_at": ts(&i.started_at),
        "ended_at": ts(&i.ended_at),
        "case_id": i.case_id,
        "retain_until": ts(&i.retain_until),
    })
}

fn proposal_state(s: i32) -> &'static str {
    match pb::ProposalState::try_from(s).unwrap_or(pb::ProposalState::Unspecified) {
        pb::ProposalState::Open => "OPEN",
        pb::ProposalState::Accepted => "ACCEPTED",
        pb::ProposalState::Declined => "DECLINED",
        pb::ProposalState::Superseded => "SUPERSEDED",
        _ => "UNSPECIFIED",
    }
}

fn proposal_json(p: &pb::CoordinatorProposal) -> Value {
    json!({
        "proposal_id": p.proposal_id,
        "proposed_oin": p.proposed_oin,
        "proposed_by_oin": p.proposed_by_oin,
        "state": proposal_state(p.state),
        "accepted_by_oins": p.accepted_by_oins,
        "awaiting_oins": p.awaiting_oins,
    })
}

pub(super) fn case_json(c: &pb::Case) -> Value {
    json!({
        "case_id": c.case_id,
        "created_at": ts(&c.created_at),
        "parties": c.parties.iter().map(involvement_json).collect::<Vec<_>>(),
        "coordinator": c.coordinator.as_ref().map(|k| json!({
            "organization_oin": k.oin,
            "organization_name": k.organization_name,
            "contact_professional": k.contact_professional,
            "since": ts(&k.since),
        })),
        "proposals": c.proposals.iter().map(proposal_json).collect::<Vec<_>>(),
        "safety_plan_version": c.safety_plan_version,
    })
}

/// `GET /cases/{case_id}`: one case (`GetCase`; the hub answers its parties only). `case_viewed`.
async fn case(State(app): State<Arc<App>>, caller: Caller, Path(id): Path<String>) -> ApiResult {
    let actor = case_worker(&app, &caller)?;
    id_path(&id, "case")?;
    let c = actions::case(&app, &actor, &id)
        .await
        .map_err(|e| hub_problem(&e))?;
    Ok(ok(case_json(&c)))
}

fn plan_json(v: &pb::SafetyPlanVersion, content: Option<&Result<SafetyPlan, String>>) -> Value {
    let confirmed = |id: &str| -> Vec<String> {
        v.agreements
            .iter()
            .find(|m| m.agreement_id == id)
            .map(|m| m.confirmations.iter().map(|c| c.oin.clone()).collect())
            .unwrap_or_default()
    };
    let content = match content {
        None => json!({"sealed_to_us": false}),
        Some(Err(why)) => json!({"sealed_to_us": true, "verified": false, "error": why}),
        Some(Ok(p)) => json!({
            "sealed_to_us": true,
            "verified": true,
            "title": p.title,
            "goal": p.goal,
            "emergency_contact": p.emergency_contact,
            "agreements": p.agreements.iter().map(|a| json!({
                "id": a.id,
                "who": a.who,
                "what": a.what,
                "by_when": a.by_when,
                "party_oins": a.party_oins,
                "concerns_family": a.concerns_family,
                "confirmed_by_oins": confirmed(&a.id),
            })).collect::<Vec<_>>(),
        }),
    };
    json!({
        "case_id": v.case_id,
        "version": v.version,
        "author_oin": v.author_oin,
        "published_at": ts(&v.published_at),
        "fully_confirmed": v.fully_confirmed,
        "plan": content,
    })
}

async fn plan_version(app: &App, caller: &Caller, id: &str, version: u32) -> ApiResult {
    let actor = case_worker(app, caller)?;
    id_path(id, "case")?;
    let (v, content) = actions::safety_plan(app, &actor, id, version)
        .await
        .map_err(|p| match p {
            PlanProblem::Hub(e) => hub_problem(&e),
            PlanProblem::Audit(e) => audit_down(&e, "the plan is not opened"),
        })?;
    Ok(ok(plan_json(&v, content.as_ref())))
}

/// `GET /cases/{case_id}/plan`: the latest safety plan version, opened here when it was sealed
/// to this organisation (`plan_opened` first).
async fn latest_plan(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    plan_version(&app, &caller, &id, 0).await
}

/// `GET /cases/{case_id}/plan/{version}`: one version (1, 2, ...), as the latest.
async fn plan(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult {
    let version = match version.parse::<u32>() {
        Ok(n) if n > 0 => n,
        _ => return Err(ApiProblem::not_found("No such version of the safety plan.")),
    };
    plan_version(&app, &caller, &id, version).await
}

/// `POST /involvements/{involvement_id}/end`: ends this organisation's involvement
/// (`EndInvolvement`; the case's other parties are told). `involvement_ended`.
async fn end_involvement(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let actor = case_worker(&app, &caller)?;
    id_path(&id, "involvement")?;
    let ended = actions::end_involvement(&app, &actor, &id)
        .await
        .map_err(|e| hub_problem(&e))?;
    Ok(ok(json!({"involvement": involvement_json(&ended)})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposeBody {
    /// The party proposed; default this organisation.
    #[serde(default)]
    proposed_oin: Option<String>,
}

/// `POST /cases/{case_id}/coordinator`: propose a party of the case (by default this
/// organisation) as its coordinator (`ProposeCoordinator`); every other party is asked.
/// `coordinator_proposed`.
async fn propose(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ProposeBody>,
) -> ApiResult {
    let actor = case_worker(&app, &caller)?;
    id_path(&id, "case")?;
    let proposed = b.proposed_oin.unwrap_or_else(|| app.oin().to_owned());
    if !sealed::is_oin(&proposed) {
        return Err(ApiProblem::invalid(vec![FieldError {
            field: "proposed_oin".into(),
            detail:
                "the OIN (20 digits) of a party of the case; leave it out for this organisation"
                    .into(),
        }]));
    }
    let r = actions::propose_coordinator(&app, &actor, &id, &proposed)
        .await
        .map_err(|e| hub_problem(&e))?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "proposal": r.proposal.as_ref().map(proposal_json),
            "case": r.case.as_ref().map(case_json),
        })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposalAnswerBody {
    accept: bool,
}

/// `POST /proposals/{proposal_id}/answer`: accept or decline a coordinator proposal this
/// organisation's answer is awaited for (`RespondToCoordinatorProposal`).
/// `coordinator_accepted` / `coordinator_declined`.
async fn answer_proposal(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ProposalAnswerBody>,
) -> ApiResult {
    let actor = case_worker(&app, &caller)?;
    id_path(&id, "proposal")?;
    let r = actions::respond_to_proposal(&app, &actor, &id, b.accept)
        .await
        .map_err(|e| hub_problem(&e))?;
    Ok(ok(json!({
        "proposal": r.proposal.as_ref().map(proposal_json),
        "case": r.case.as_ref().map(case_json),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgreementBody {
    who: String,
    what: String,
    #[serde(default)]
    by_when: Option<String>,
    #[serde(default)]
    party_oins: Vec<String>,
    #[serde(default)]
    concerns_family: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanBody {
    title: String,
    #[serde(default)]
    goal: String,
    #[serde(default)]
    emergency_contact: String,
    agreements: Vec<AgreementBody>,
    consents: Vec<String>,
}

/// The shared plan rules' findings, by the API's field names.
fn plan_errors(issues: &[PlanIssue]) -> Vec<FieldError> {
    let text = |t: &PlanText| match t {
        PlanText::Title => "title".to_owned(),
        PlanText::Goal => "goal".to_owned(),
        PlanText::EmergencyContact => "emergency_contact".to_owned(),
        PlanText::Who(n) => format!("agreements[{n}].who"),
        PlanText::What(n) => format!("agreements[{n}].what"),
        PlanText::ByWhen(n) => format!("agreements[{n}].by_when"),
    };
    issues
        .iter()
        .map(|i| {
            let (field, detail) = match i {
                PlanIssue::NoTitle => ("title".to_owned(), "give the plan a title".to_owned()),
                PlanIssue::NoAgreements => (
                    "agreements".to_owned(),
                    "at least one agreement (who does what)".to_owned(),
                ),
                PlanIssue::TooManyAgreements => (
                    "agreements".to_owned(),
                    format!("at most {} agreements", actions::MAX_PLAN_AGREEMENTS),
                ),
                PlanIssue::AgreementIncomplete(n) => (
                    format!("agreements[{n}]"),
                    "an agreement says who (`who`) does what (`what`)".to_owned(),
                ),
                PlanIssue::TooManyParties(n) => (
                    format!("agreements[{n}].party_oins"),
                    format!("at most {} organisations", actions::MAX_AGREEMENT_PARTIES),
                ),
                PlanIssue::PartyOin(n) => (
                    format!("agreements[{n}].party_oins"),
                    "OINs (20 digits) of parties of the case".to_owned(),
                ),
                PlanIssue::NoConsent => (
                    "consents".to_owned(),
                    "the family's consent for casusafstemming (category veiligheidsafspraken): its id"
                        .to_owned(),
                ),
                PlanIssue::TooManyConsents => (
                    "consents".to_owned(),
                    format!("at most {} consent ids", actions::MAX_BASIS_CONSENTS),
                ),
                PlanIssue::TooLong(t) => (text(t), format!("at most {} characters", t.max_chars())),
            };
            FieldError { field, detail }
        })
        .collect()
}

/// What the hub knows of a version (no content): its agreements by id, whom each concerns and
/// who confirmed it.
fn plan_meta_json(v: &pb::SafetyPlanVersion) -> Value {
    json!({
        "case_id": v.case_id,
        "version": v.version,
        "author_oin": v.author_oin,
        "published_at": ts(&v.published_at),
        "fully_confirmed": v.fully_confirmed,
        "agreements": v.agreements.iter().map(|m| json!({
            "agreement_id": m.agreement_id,
            "party_oins": m.party_oins,
            "concerns_family": m.concerns_family,
            "confirmed_by_oins": m.confirmations.iter().map(|c| c.oin.clone()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// `POST /cases/{case_id}/plan`: a new version of the safety plan, sealed here to every party of
/// the case and signed with the organisation's key, published on the family's consents
/// (`PublishSafetyPlan`). The agreements get the ids `a1`, `a2`, ... in the order given.
/// `case_viewed`, `plan_published`.
async fn publish_plan(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PlanBody>,
) -> ApiResult {
    let actor = case_worker(&app, &caller)?;
    id_path(&id, "case")?;
    let plan = SafetyPlan {
        title: b.title,
        goal: b.goal,
        emergency_contact: b.emergency_contact,
        agreements: b
            .agreements
            .into_iter()
            .enumerate()
            .map(|(n, a)| Agreement {
                id: format!("a{}", n + 1),
                who: a.who,
                what: a.what,
                by_when: a.by_when.filter(|w| !w.trim().is_empty()),
                party_oins: a.party_oins,
                concerns_family: a.concerns_family,
            })
            .collect(),
    };
    let mut errors = plan_errors(&actions::plan_issues(&plan, &b.consents));
    for (i, c) in b
        .consents
        .iter()
        .take(actions::MAX_BASIS_CONSENTS)
        .enumerate()
    {
        reference(&mut errors, &format!("consents[{i}]"), c);
    }
    ok_or_invalid(errors)?;
    let case = actions::case(&app, &actor, &id)
        .await
        .map_err(|e| hub_problem(&e))?;
    let v = actions::publish_safety_plan(&app, &actor, &case, &plan, &b.consents)
        .await
        .map_err(|e| hub_problem(&e))?;
    let location = format!("{PREFIX}/cases/{}/plan/{}", v.case_id, v.version);
    let mut res = (StatusCode::CREATED, axum::Json(plan_meta_json(&v))).into_response();
    if let Ok(h) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, h);
    }
    Ok(res)
}

/// `POST /cases/{case_id}/plan/{version}/confirm`: confirm the agreements of this version that
/// concern this organisation (`ConfirmSafetyPlan`), once (409 when they are confirmed already).
/// No body. `plan_confirmed`.
async fn confirm_plan(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult {
    let actor = case_worker(&app, &caller)?;
    id_path(&id, "case")?;
    let version = match version.parse::<u32>() {
        Ok(n) if n > 0 => n,
        _ => return Err(ApiProblem::not_found("No such version of the safety plan.")),
    };
    let v = actions::confirm_safety_plan_once(&app, &actor, &id, version)
        .await
        .map_err(|e| match e {
            ConfirmProblem::Hub(e) => hub_problem(&e),
            ConfirmProblem::AlreadyConfirmed => ApiProblem::new(
                "conflict",
                409,
                "Not possible in this state",
                "This organisation already confirmed its agreements of this version.",
            ),
        })?;
    Ok(ok(plan_meta_json(&v)))
}

fn kind_name(k: i32) -> String {
    pb::NotificationKind::try_from(k)
        .unwrap_or(pb::NotificationKind::Unspecified)
        .as_str_name()
        .trim_start_matches("NOTIFICATION_KIND_")
        .to_owned()
}

fn notification_json(n: &Notification) -> Value {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    json!({
        "cursor": n.cursor,
        "kind": kind_name(n.kind),
        "at": ts(&n.at),
        "actor_oin": n.actor_oin,
        "actor_name": n.actor_name,
        "actor_professional": n.actor_professional,
        "case_id": opt(&n.case_id),
        "maatregel_id": opt(&n.maatregel_id),
        "involvement_id": opt(&n.involvement_id),
        "proposal_id": opt(&n.proposal_id),
        "plan_version": (n.plan_version > 0).then_some(n.plan_version),
        "summary_nl": n.summary_nl,
    })
}

/// `GET /notifications[?before=CURSOR]`: the organisation's notifications, newest first, 25 a
/// page (`StreamNotifications`, read until the hub has sent what it holds).
/// `notifications_viewed` first.
async fn notification_page(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let actor = case_worker(&app, &caller)?;
    let before = before(&q)?;
    app.store
        .audit(
            &actor.id,
            "notifications_viewed",
            &before.map_or("-".into(), |c| c.to_string()),
        )
        .await
        .map_err(|e| audit_down(&e, "no notifications are returned"))?;
    let all = notifications::read_all(&app, &actor)
        .await
        .map_err(|e| hub_problem(&e))?;
    let (page, older) = notifications::page(&all, before, NOTIFICATIONS_PAGE);
    Ok(ok(json!({
        "notifications": page.iter().map(|n| notification_json(n)).collect::<Vec<_>>(),
        "older": older,
    })))
}

fn veilig_thuis(app: &App, caller: &Caller) -> Result<Professional, ApiProblem> {
    let p = caller.professional();
    if actions::handles_zorgmeldingen(app, &p) {
        Ok(p)
    } else {
        Err(denied(
            "Zorgmeldingen are for Veilig Thuis systems acting in a convenant role of the Veilig Thuis sector.",
        ))
    }
}

fn stored_json(m: &StoredMelding) -> Value {
    json!({
        "zorgmelding_id": m.zorgmelding_id,
        "police_oin": m.police_oin,
        "registration_number": m.registration_number,
        "version": m.version,
        "fragment_count": m.fragment_count,
        "complete": m.complete,
        "received_at": rfc3339(m.received_at),
        "updated_at": rfc3339(m.updated_at),
        "retain_until": m.retain_until.and_then(rfc3339),
    })
}

/// `GET /zorgmeldingen`: the police's zorgmeldingen in this Veilig Thuis's store (metadata;
/// fragments still sealed).
async fn zorgmeldingen(State(app): State<Arc<App>>, caller: Caller) -> ApiResult {
    veilig_thuis(&app, &caller)?;
    let list = app.store.list_meldingen(200).await.map_err(|e| {
        tracing::warn!(error = %e, "api: zorgmeldingen");
        ApiProblem::store_unavailable("The zorgmeldingen cannot be read now.")
    })?;
    Ok(ok(
        json!({"zorgmeldingen": list.iter().map(stored_json).collect::<Vec<_>>()}),
    ))
}

fn fragment_kind(k: i32) -> String {
    pb::FragmentKind::try_from(k)
        .unwrap_or(pb::FragmentKind::Unspecified)
        .as_str_name()
        .trim_start_matches("FRAGMENT_KIND_")
        .to_owned()
}

/// `GET /zorgmeldingen/{zorgmelding_id}`: one zorgmelding with each fragment opened here
/// (`zorgmelding_opened` first; each envelope checked against the melding, the police's
/// signature verified).
async fn zorgmelding(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult {
    let actor = veilig_thuis(&app, &caller)?;
    let (stored, m, opened) =
        actions::open_melding(&app, &actor, &id)
            .await
            .map_err(|e| match e {
                OpenError::NotFound => {
                    ApiProblem::not_found("This zorgmelding is not (or no longer) here.")
                }
                OpenError::Store(e) => {
                    tracing::warn!(error = %e, "api: zorgmelding read");
                    ApiProblem::store_unavailable("The zorgmeldingen cannot be read now.")
                }
                OpenError::Audit(e) => audit_down(&e, "the zorgmelding is not opened"),
            })?;
    let why = |u: &Unopened| match u {
        Unopened::Damaged => "the stored melding is damaged".to_owned(),
        Unopened::Hub(e) => e.to_string(),
        Unopened::Refused(why) => why.clone(),
    };
    let fragments: Vec<Value> = m
        .fragments
        .iter()
        .zip(opened.iter())
        .map(|(f, o)| {
            let mut v = json!({
                "sequence": f.sequence,
                "fragment_id": f.fragment_id,
                "kind": fragment_kind(f.kind),
                "categories": f.categories,
                "received_at": ts(&f.received_at),
            });
            if let Some(obj) = v.as_object_mut() {
                match o {
                    Ok(b) => {
                        obj.insert("verified".into(), Value::Bool(true));
                        obj.insert("text".into(), json!(String::from_utf8_lossy(b)));
                    }
                    Err(u) => {
                        obj.insert("verified".into(), Value::Bool(false));
                        obj.insert("error".into(), json!(why(u)));
                    }
                }
            }
            v
        })
        .collect();
    let mut body = stored_json(&stored);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("subject_count".into(), json!(m.subject_count));
        obj.insert(
            "recidive".into(),
            m.recidive.as_ref().map_or(Value::Null, |r| {
                json!({
                    "earlier_zorgmeldingen": r.earlier_zorgmeldingen,
                    "earlier_signals": r.earlier_signals,
                    "window_days": r.window_days,
                    "sectors": r.sectors,
                })
            }),
        );
        obj.insert("fragments".into(), Value::Array(fragments));
        // A melding that could not be decoded at all has no fragments to pair the answer with.
        if m.fragments.is_empty()
            && let Some(Err(u)) = opened.first()
        {
            obj.insert("error".into(), json!(why(u)));
        }
    }
    Ok(ok(body))
}

/// `GET /audit[?before=ID]`: the gateway's own audit log, newest first, 50 lines a page; only a
/// system with role `fg` (the gateway decides: it is its own log). `audit_viewed` first. A value
/// that could hold a BSN is masked as on the console.
async fn audit(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    if !caller.roles.iter().any(|r| r == "fg") {
        return Err(denied(
            "The gateway's audit log is for the privacy officer's systems (role fg) only.",
        ));
    }
    let before = before(&q)?.map(|b| i64::try_from(b).unwrap_or(i64::MAX));
    app.store
        .audit(&caller.client, "audit_viewed", "-")
        .await
        .map_err(|e| audit_down(&e, "the audit log is not returned"))?;
    let lines = app
        .store
        .audit_page(before, AUDIT_PAGE)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "api: audit log");
            ApiProblem::store_unavailable("The audit log cannot be read now.")
        })?;
    let older = (lines.len() as i64 == AUDIT_PAGE)
        .then(|| lines.last().map(|e| e.id))
        .flatten();
    Ok(ok(json!({
        "lines": lines.iter().map(|e| json!({
            "id": e.id,
            "at": rfc3339(e.at),
            "actor": crate::web::audit_shown(&e.professional),
            "action": e.action,
            "object": crate::web::audit_shown(&e.object),
        })).collect::<Vec<_>>(),
        "older": older,
    })))
}
