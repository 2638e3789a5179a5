//! The GI's maatregel register in the local API (as the console's *Register*): a child's
//! maatregelen, registering one, ending one with who has the case next. For a system acting in
//! a role the convenant gives the jeugdbescherming sector (others 403 `denied`, as the console
//! refuses them); the hub decides every act. The same actions as the console
//! (`actions::{list_maatregelen, register_maatregel, end_maatregel}`) and the same audit lines.
use super::auth::Caller;
use super::problem::{ApiProblem, FieldError};
use super::veilig_thuis::{acting_role, bad, denied, hub_problem};
use super::{
    ApiResult, JsonBody, Routes, bsn_only, contact_problem, kind_name, ok, ok_or_invalid,
    subject_field, ts,
};
use crate::actions;
use crate::app::App;
use crate::session::Professional;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};
use signaalhub_client::sealed;
use signaalhub_client::signaalhub_proto::pb;
use std::sync::Arc;

/// The routes of this module.
pub(super) fn add(r: Routes) -> Routes {
    r.add(Method::POST, "/maatregelen/search", post(search))
        .add(Method::POST, "/maatregelen", post(register))
        .add(Method::POST, "/maatregelen/{maatregel_id}/end", post(end))
}

/// The caller, when it acts for a GI (a role the convenant gives the jeugdbescherming sector).
fn gi(app: &App, caller: &Caller) -> Result<Professional, ApiProblem> {
    let actor = caller.professional();
    if actions::roles_of(app, &actor, pb::Sector::Jeugdbescherming).is_empty() {
        return Err(denied(
            "The maatregel register is for a certified institution's system (youth protection) in a convenant role.",
        ));
    }
    Ok(actor)
}

/// The role the GI's system acts in: the one named, or its first of the jeugdbescherming sector.
fn gi_role(
    app: &App,
    actor: &Professional,
    named: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> String {
    acting_role(app, actor, pb::Sector::Jeugdbescherming, named, errors)
}

/// A kind by the name [`kind_name`] gives it (the one list of names).
fn kind_of(name: &str) -> Option<pb::MaatregelKind> {
    [
        pb::MaatregelKind::Ots,
        pb::MaatregelKind::Voogdij,
        pb::MaatregelKind::MachtigingUithuisplaatsing,
        pb::MaatregelKind::Jeugdreclassering,
    ]
    .into_iter()
    .find(|k| kind_name(*k as i32) == name)
}

pub(super) fn maatregel_json(m: &pb::Maatregel) -> Value {
    json!({
        "maatregel_id": m.maatregel_id,
        "kind": kind_name(m.kind),
        "starts_at": ts(&m.starts_at),
        "ends_at": ts(&m.ends_at),
        "responsible_oin": m.responsible_oin,
        "contact_point": m.contact_point,
        "registered_by_oin": m.registered_by_oin,
        "registered_at": ts(&m.registered_at),
        "ended_at": ts(&m.ended_at),
        "next_oin": m.next_oin,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchBody {
    bsn: String,
    #[serde(default)]
    include_ended: bool,
    #[serde(default)]
    acting_role: Option<String>,
}

/// `POST /maatregelen/search`: the maatregelen of a child this GI registered or runs.
async fn search(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<SearchBody>,
) -> ApiResult {
    let actor = gi(&app, &caller)?;
    let bsn = bsn_only(&b.bsn)?;
    let mut errors = Vec::new();
    let role = gi_role(&app, &actor, b.acting_role.as_deref(), &mut errors);
    ok_or_invalid(errors)?;
    let list = actions::list_maatregelen(&app, &actor, &role, &bsn, b.include_ended)
        .await
        .map_err(|e| hub_problem(&e))?;
    Ok(ok(json!({
        "maatregelen": list.iter().map(maatregel_json).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    bsn: String,
    kind: String,
    #[serde(default)]
    starts_on: Option<String>,
    #[serde(default)]
    ends_on: Option<String>,
    #[serde(default)]
    responsible_oin: Option<String>,
    contact_point: String,
    #[serde(default)]
    acting_role: Option<String>,
}

/// A day as `YYYY-MM-DD` (09:00 UTC that day, as the console takes it), in `field`.
fn day(
    errors: &mut Vec<FieldError>,
    field: &str,
    typed: Option<&str>,
) -> Option<prost_types::Timestamp> {
    let typed = typed?;
    match crate::information::review_date(typed) {
        Some(seconds) => Some(prost_types::Timestamp { seconds, nanos: 0 }),
        None => {
            bad(errors, field, "a date such as 2026-12-06");
            None
        }
    }
}

/// `POST /maatregelen`: registers a maatregel for a child.
async fn register(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(b): JsonBody<RegisterBody>,
) -> ApiResult {
    let actor = gi(&app, &caller)?;
    let mut errors = Vec::new();
    let bsn = subject_field(&mut errors, "bsn", &b.bsn);
    let kind = kind_of(&b.kind);
    if kind.is_none() {
        bad(
            &mut errors,
            "kind",
            "one of ots, voogdij, machtiging_uithuisplaatsing, jeugdreclassering",
        );
    }
    let starts_at = day(&mut errors, "starts_on", b.starts_on.as_deref());
    let ends_at = day(&mut errors, "ends_on", b.ends_on.as_deref());
    let responsible = b.responsible_oin.unwrap_or_default();
    if !responsible.is_empty() && !sealed::is_oin(&responsible) {
        bad(
            &mut errors,
            "responsible_oin",
            "an OIN (20 digits), or left out for this organisation",
        );
    }
    let contact = b.contact_point.trim();
    if let Some(detail) = contact_problem(contact) {
        bad(&mut errors, "contact_point", detail);
    }
    let role = gi_role(&app, &actor, b.acting_role.as_deref(), &mut errors);
    ok_or_invalid(errors)?;
    let m = actions::register_maatregel(
        &app,
        &actor,
        pb::RegisterMaatregelRequest {
            subject_bsn: bsn,
            kind: kind.unwrap_or(pb::MaatregelKind::Unspecified) as i32,
            starts_at,
            ends_at,
            responsible_oin: responsible,
            contact_point: contact.to_owned(),
            acting_role: role,
        },
    )
    .await
    .map_err(|e| hub_problem(&e))?;
    Ok((StatusCode::CREATED, axum::Json(maatregel_json(&m))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndBody {
    #[serde(default)]
    next_oin: Option<String>,
    #[serde(default)]
    acting_role: Option<String>,
}

/// `POST /maatregelen/{maatregel_id}/end`: ends it now; the organisations involved with the
/// child are told where the convenant lets the GI tell them.
async fn end(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<EndBody>,
) -> ApiResult {
    let actor = gi(&app, &caller)?;
    if !actions::valid_record_id(&id) {
        return Err(ApiProblem::not_found(
            "No such maatregel of this organisation.",
        ));
    }
    let mut errors = Vec::new();
    let next = b.next_oin.unwrap_or_default();
    if !next.is_empty() && !sealed::is_oin(&next) {
        bad(
            &mut errors,
            "next_oin",
            "the OIN (20 digits) of the organisation that has the case next",
        );
    }
    let role = gi_role(&app, &actor, b.acting_role.as_deref(), &mut errors);
    ok_or_invalid(errors)?;
    let r = actions::end_maatregel(&app, &actor, &role, &id, &next)
        .await
        .map_err(|e| hub_problem(&e))?;
    Ok(ok(json!({
        "maatregel": r.maatregel.as_ref().map(maatregel_json),
        "parties": r.parties.iter().map(|p| json!({"oin": p.oin, "told": p.told})).collect::<Vec<_>>(),
    })))
}
