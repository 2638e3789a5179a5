//! *Gezin*: the family's rights at this organisation (issue 20). The duties to inform a family of
//! what this organisation disclosed — open ones with a form to record how the family was told or
//! why not, overdue ones marked —, the family's requests (object, correct, restrict, erase)
//! recorded and decided here, and the notices of requests other organisations granted about data
//! this organisation received, to confirm. Every rule is the hub's (`FamilyService`); the
//! console only asks and shows.
use super::i18n::{Lang, when};
use super::layout::page;
use super::problem::Problem;
use super::signal::FormData;
use super::{Authed, bsn_field, csrf_refused};
use crate::app::App;
use crate::session::Professional;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use signaalhub_client::ClientError;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_policy::reasons;
use std::sync::Arc;

/// The role this professional acts in towards the family's rights: a convenant role of any
/// sector the professional holds, else `fg` (the privacy officer).
fn family_role(app: &App, p: &Professional) -> String {
    let convenant_role = p.roles.iter().find(|r| {
        app.convenant
            .sectors
            .iter()
            .any(|s| s.roles.iter().any(|x| x == *r))
    });
    convenant_role
        .or_else(|| p.roles.iter().find(|r| r.as_str() == "fg"))
        .cloned()
        .unwrap_or_default()
}

/// Whether the menu shows the screen: a professional with a convenant role or the FG.
pub fn may_use(app: &App, p: &Professional) -> bool {
    !family_role(app, p).is_empty()
}

const ACTS: &[(&str, &str, &str, pb::InformAct)] = &[
    ("letter", "per brief", "by letter", pb::InformAct::Letter),
    (
        "conversation",
        "in een gesprek",
        "in a conversation",
        pb::InformAct::Conversation,
    ),
    (
        "digital",
        "via een beveiligd bericht",
        "by secure message",
        pb::InformAct::Digital,
    ),
];

const KINDS: &[(&str, &str, &str, pb::FamilyRequestKind)] = &[
    (
        "objection",
        "Bezwaar",
        "Objection",
        pb::FamilyRequestKind::Objection,
    ),
    (
        "correction",
        "Verbetering",
        "Correction",
        pb::FamilyRequestKind::Correction,
    ),
    (
        "restriction",
        "Beperking",
        "Restriction",
        pb::FamilyRequestKind::Restriction,
    ),
    (
        "erasure",
        "Verwijdering",
        "Erasure",
        pb::FamilyRequestKind::Erasure,
    ),
];

fn reason_text(lang: Lang, r: &reasons::Reason) -> &'static str {
    lang.t(r.nl, r.en)
}

fn purpose_text(app: &App, purpose: &str) -> String {
    app.convenant
        .purposes
        .iter()
        .find(|p| p.name == purpose)
        .and_then(|p| p.description.clone())
        .unwrap_or_else(|| purpose.to_owned())
}

/// What the screen shows, each part as the hub answered it.
struct Screen {
    /// Organisation names by OIN, from the sociale kaart (an OIN it does not list shows as is).
    names: std::collections::HashMap<String, String>,
    obligations: Result<Vec<pb::InformObligation>, ClientError>,
    requests: Result<Vec<pb::FamilyRequest>, ClientError>,
    notices: Result<Vec<pb::FamilyRequestNotice>, ClientError>,
}

async fn load(app: &App, p: &Professional) -> Screen {
    let role = family_role(app, p);
    // One hub client (one token) for the whole page; without one, the first part says why.
    let mut hub = match app.hub_as(p) {
        Ok(hub) => hub,
        Err(e) => {
            return Screen {
                names: Default::default(),
                obligations: Err(e),
                requests: Ok(Vec::new()),
                notices: Ok(Vec::new()),
            };
        }
    };
    let obligations = hub
        .all_inform_obligations(pb::ListInformObligationsRequest {
            acting_role: role.clone(),
            ..Default::default()
        })
        .await;
    let requests = hub.list_family_requests(&role).await;
    let notices = hub.list_family_request_notices(false, &role).await;
    let mut names = std::collections::HashMap::new();
    let mut page_token = String::new();
    // A few pages at most: a region's sociale kaart; what is not listed shows as its OIN.
    for _ in 0..10 {
        let Ok(r) = hub
            .list_organizations(pb::ListOrganizationsRequest {
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
        else {
            break;
        };
        names.extend(r.organizations.into_iter().map(|o| (o.oin, o.name)));
        if r.next_page_token.is_empty() {
            break;
        }
        page_token = r.next_page_token;
    }
    Screen {
        names,
        obligations,
        requests,
        notices,
    }
}

/// An organisation by name, with its OIN small.
fn org(s: &Screen, oin: &str) -> Markup {
    html! {
        @match s.names.get(oin) {
            Some(name) => { (name) " " small { "(" (oin) ")" } }
            None => { (oin) }
        }
    }
}

fn obligation_row(
    app: &App,
    a: &Authed,
    lang: Lang,
    s: &Screen,
    o: &pb::InformObligation,
) -> Markup {
    let open = o.state == pb::InformState::Open as i32;
    html! {
        tr {
            td { (o.disclosed_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
            td { (o.reference) br; small { (lang.t("aan ", "to ")) (org(s, &o.recipient_oin)) } }
            td { (purpose_text(app, &o.purpose)) }
            td {
                @if open && o.overdue {
                    strong.overdue { (lang.t("Te laat, was uiterlijk ", "Overdue, was due ")) (o.due_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
                } @else if open {
                    (lang.t("Open, uiterlijk ", "Open, due ")) (o.due_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default())
                } @else if o.state == pb::InformState::Informed as i32 {
                    (lang.t("Geïnformeerd ", "Informed ")) (ACTS.iter().find(|x| x.3 as i32 == o.act).map(|x| lang.t(x.1, x.2)).unwrap_or_default())
                    " " (o.informed_on.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default())
                } @else {
                    (lang.t("Niet geïnformeerd: ", "Not informed: "))
                    (reasons::lookup(reasons::INFORM_EXEMPTION, &o.ground).map(|r| reason_text(lang, r)).unwrap_or(o.ground.as_str()))
                }
            }
            td {
                @if open {
                    form method="post" action="/gezin/geinformeerd" {
                        input type="hidden" name="csrf" value=(a.session.csrf);
                        input type="hidden" name="log_index" value=(o.log_index);
                        label for={"act-" (o.log_index)} { (lang.t("Hoe", "How")) }
                        select id={"act-" (o.log_index)} name="act" {
                            @for (code, nl, en, _) in ACTS { option value=(code) { (lang.t(nl, en)) } }
                        }
                        label for={"day-" (o.log_index)} { (lang.t("Datum", "Date")) }
                        input type="date" id={"day-" (o.log_index)} name="day" required;
                        button type="submit" { (lang.t("Vastleggen: geïnformeerd", "Record: informed")) }
                    }
                    form method="post" action="/gezin/uitzondering" {
                        input type="hidden" name="csrf" value=(a.session.csrf);
                        input type="hidden" name="log_index" value=(o.log_index);
                        label for={"ground-" (o.log_index)} { (lang.t("Of: waarom niet", "Or: why not")) }
                        select id={"ground-" (o.log_index)} name="ground" {
                            @for r in reasons::INFORM_EXEMPTION { option value=(r.code) { (reason_text(lang, r)) } }
                        }
                        button type="submit" { (lang.t("Vastleggen: niet informeren", "Record: not informing")) }
                    }
                }
            }
        }
    }
}

fn obligations_section(app: &App, a: &Authed, lang: Lang, s: &Screen) -> Markup {
    html! {
        section aria-labelledby="informeren" {
            h2 id="informeren" { (lang.t("Het gezin informeren", "Informing the family")) }
            p.hint { (lang.t(
                "Bij deze verstrekkingen zegt het convenant dat het gezin het hoort (AVG art. 13/14). Leg vast hoe en wanneer, of waarom niet.",
                "For these disclosures the convenant says the family is to be told (GDPR art. 13/14). Record how and when, or why not.",
            )) }
            @match &s.obligations {
                Err(e) => { (Problem::from_client(lang, e).render()) }
                Ok(list) if list.is_empty() => { p { (lang.t("Geen.", "None.")) } }
                Ok(list) => {
                    table {
                        thead { tr {
                            th scope="col" { (lang.t("Verstrekt", "Disclosed")) }
                            th scope="col" { (lang.t("Wat, aan wie", "What, to whom")) }
                            th scope="col" { (lang.t("Doel", "Purpose")) }
                            th scope="col" { (lang.t("Stand", "State")) }
                            th scope="col" { (lang.t("Vastleggen", "Record")) }
                        } }
                        tbody {
                            // Open ones first (overdue before the rest), then what was closed.
                            @for o in list.iter().filter(|o| o.overdue) { (obligation_row(app, a, lang, s, o)) }
                            @for o in list.iter().filter(|o| !o.overdue && o.state == pb::InformState::Open as i32) { (obligation_row(app, a, lang, s, o)) }
                            @for o in list.iter().filter(|o| o.state != pb::InformState::Open as i32) { (obligation_row(app, a, lang, s, o)) }
                        }
                    }
                }
            }
        }
    }
}

fn requests_section(a: &Authed, lang: Lang, s: &Screen) -> Markup {
    html! {
        section aria-labelledby="verzoeken" {
            h2 id="verzoeken" { (lang.t("Verzoeken van gezinnen", "Requests from families")) }
            p.hint { (lang.t(
                "Bezwaar, verbetering, beperking of verwijdering (AVG art. 16-21). Een toegewezen verzoek gaat naar elke organisatie die de gegevens van ons kreeg; die bevestigt het.",
                "Objection, correction, restriction or erasure (GDPR art. 16-21). A granted request goes to every organisation that received the data from us; each confirms it.",
            )) }
            form method="post" action="/gezin/verzoek" {
                input type="hidden" name="csrf" value=(a.session.csrf);
                (super::subject_field(lang, "v-bsn", ""))
                label for="v-kind" { (lang.t("Verzoek", "Request")) }
                select id="v-kind" name="kind" { @for (code, nl, en, _) in KINDS { option value=(code) { (lang.t(nl, en)) } } }
                label for="v-day" { (lang.t("Ontvangen op", "Received on")) }
                input type="date" id="v-day" name="day" required;
                div.actions { button.primary type="submit" { (lang.t("Verzoek vastleggen", "Record the request")) } }
            }
            @match &s.requests {
                Err(e) => { (Problem::from_client(lang, e).render()) }
                Ok(list) if list.is_empty() => {}
                Ok(list) => {
                    table {
                        thead { tr {
                            th scope="col" { (lang.t("Verzoek", "Request")) }
                            th scope="col" { (lang.t("Ontvangen", "Received")) }
                            th scope="col" { (lang.t("Besluit", "Decision")) }
                            th scope="col" { (lang.t("Doorgegeven aan", "Told to")) }
                        } }
                        tbody {
                            @for r in list.iter().rev() {
                                tr {
                                    td { (r.kind_nl) br; small { (r.request_id) } }
                                    td { (r.received_on.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) br; small { (r.covers.len()) (lang.t(" verstrekking(en)", " disclosure(s)")) } }
                                    td {
                                        @if r.state == pb::FamilyRequestState::Open as i32 {
                                            (decide_form(a, lang, r))
                                        } @else {
                                            (r.state_nl) ": " (r.decision_reason_nl)
                                        }
                                    }
                                    td {
                                        ul {
                                            @for n in &r.notices {
                                                li { (org(s, &n.recipient_oin)) ": "
                                                    @match &n.acknowledged_at {
                                                        Some(t) => { (lang.t("bevestigd ", "confirmed ")) (when(lang, t.seconds)) }
                                                        None => { strong { (lang.t("nog niet bevestigd", "not yet confirmed")) } }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn decide_form(a: &Authed, lang: Lang, r: &pb::FamilyRequest) -> Markup {
    html! {
        form method="post" action="/gezin/besluit" {
            input type="hidden" name="csrf" value=(a.session.csrf);
            input type="hidden" name="request_id" value=(r.request_id);
            label for={"reason-" (r.request_id)} { (lang.t("Besluit en reden", "Decision and reason")) }
            select id={"reason-" (r.request_id)} name="reason" {
                optgroup label=(lang.t("Toewijzen", "Grant")) {
                    @for x in reasons::FAMILY_REQUEST_GRANTED { option value={"grant:" (x.code)} { (reason_text(lang, x)) } }
                }
                optgroup label=(lang.t("Afwijzen", "Refuse")) {
                    @for x in reasons::FAMILY_REQUEST_REFUSED { option value={"refuse:" (x.code)} { (reason_text(lang, x)) } }
                }
            }
            button type="submit" { (lang.t("Besluiten", "Decide")) }
        }
    }
}

fn notices_section(a: &Authed, lang: Lang, s: &Screen) -> Markup {
    html! {
        section aria-labelledby="doorgegeven" {
            h2 id="doorgegeven" { (lang.t("Verzoeken die andere organisaties toewezen", "Requests other organisations granted")) }
            @match &s.notices {
                Err(e) => { (Problem::from_client(lang, e).render()) }
                Ok(list) if list.is_empty() => { p { (lang.t("Geen.", "None.")) } }
                Ok(list) => {
                    ul {
                        @for n in list {
                            li {
                                (org(s, &n.org_oin)) ": " (n.kind_nl) " — " (n.references.join(", "))
                                " (" (n.notified_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) ") "
                                @match &n.acknowledged_at {
                                    Some(t) => { (lang.t("bevestigd ", "confirmed ")) (when(lang, t.seconds)) }
                                    None => {
                                        form.inline method="post" action="/gezin/bevestigen" {
                                            input type="hidden" name="csrf" value=(a.session.csrf);
                                            input type="hidden" name="org" value=(n.org_oin);
                                            input type="hidden" name="request_id" value=(n.request_id);
                                            button type="submit" { (lang.t("Aangepast: bevestigen", "Updated: confirm")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn references_section(a: &Authed, lang: Lang) -> Markup {
    html! {
        section aria-labelledby="zonder-bsn" {
            h2 id="zonder-bsn" { (lang.t("Iemand zonder BSN", "Someone without a BSN")) }
            p.hint { (lang.t(
                "Voor iemand van wie u het BSN niet kent (een cliënt van de opvang, een kind zonder papieren) geeft de hub een referentie (SH-…). Die werkt overal waar om een BSN wordt gevraagd. Zodra het BSN bekend is, koppelt u de referentie eraan: alles wat onder de referentie staat, gaat dan naar het BSN.",
                "For someone whose BSN you do not know (a shelter client, a child without papers) the hub issues a reference (SH-…). It works wherever a BSN is asked for. Once the BSN is known, merge the reference with it: everything under the reference moves to the BSN.",
            )) }
            form method="post" action="/gezin/referentie" {
                input type="hidden" name="csrf" value=(a.session.csrf);
                div.actions { button.primary type="submit" { (lang.t("Referentie aanvragen", "Ask for a reference")) } }
            }
            form method="post" action="/gezin/koppelen" {
                input type="hidden" name="csrf" value=(a.session.csrf);
                label for="k-ref" { (lang.t("Referentie (SH-…)", "Reference (SH-…)")) }
                input id="k-ref" name="reference" autocomplete="off" spellcheck="false" maxlength="24" required;
                label for="k-bsn" { (lang.t("Het BSN van deze persoon", "This person's BSN")) }
                input id="k-bsn" name="bsn" inputmode="numeric" autocomplete="off" maxlength="11" required;
                div.actions { button type="submit" { (lang.t("Koppelen aan het BSN", "Merge with the BSN")) } }
            }
        }
    }
}

async fn show(app: &App, a: &Authed, problem: Option<Markup>) -> Response {
    let lang = a.lang();
    let s = load(app, &a.session.professional).await;
    let body = html! {
        @if let Some(p) = problem { (p) }
        (obligations_section(app, a, lang, &s))
        (requests_section(a, lang, &s))
        (notices_section(a, lang, &s))
        (references_section(a, lang))
    };
    page(
        app,
        a,
        lang.t("Rechten van het gezin", "The family's rights"),
        body,
    )
    .into_response()
}

/// `GET /gezin`.
pub async fn home(State(app): State<Arc<App>>, a: Authed) -> Response {
    show(&app, &a, None).await
}

/// The outcome of a form: back to the screen, or the screen with the hub's answer.
async fn done(app: &App, a: &Authed, r: Result<(), ClientError>) -> Response {
    match r {
        Ok(()) => Redirect::to("/gezin").into_response(),
        Err(e) => show(app, a, Some(Problem::from_client(a.lang(), &e).render())).await,
    }
}

fn bad(lang: Lang, nl: &'static str, en: &'static str) -> Markup {
    Problem::new(lang.t(nl, en)).render()
}

/// `POST /gezin/geinformeerd`: how and when the family was informed.
pub async fn informed(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let lang = a.lang();
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    let act = ACTS.iter().find(|x| x.0 == f.get("act")).map(|x| x.3);
    let (Ok(idx), Some(act), Some(day)) = (
        f.get("log_index").parse::<u64>(),
        act,
        crate::information::review_date(f.get("day")),
    ) else {
        let p = bad(
            lang,
            "Kies hoe, en een datum als 2026-12-06.",
            "Choose how, and a date such as 2026-12-06.",
        );
        return show(&app, &a, Some(p)).await;
    };
    let p = &a.session.professional;
    let r = async {
        app.hub_as(p)?
            .record_family_informed(pb::RecordFamilyInformedRequest {
                log_index: idx,
                act: act as i32,
                informed_on: Some(prost_types::Timestamp {
                    seconds: day,
                    nanos: 0,
                }),
                acting_role: family_role(&app, p),
            })
            .await?;
        let _ = app
            .store
            .audit(&p.id, "family_informed", &idx.to_string())
            .await;
        Ok(())
    }
    .await;
    done(&app, &a, r).await
}

/// `POST /gezin/uitzondering`: why the family is not informed.
pub async fn exemption(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let lang = a.lang();
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    let Ok(idx) = f.get("log_index").parse::<u64>() else {
        return show(
            &app,
            &a,
            Some(bad(lang, "Onbekende verstrekking.", "Unknown disclosure.")),
        )
        .await;
    };
    let p = &a.session.professional;
    let r = async {
        app.hub_as(p)?
            .record_inform_exemption(pb::RecordInformExemptionRequest {
                log_index: idx,
                ground: f.get("ground").to_owned(),
                acting_role: family_role(&app, p),
            })
            .await?;
        let _ = app
            .store
            .audit(&p.id, "inform_exempted", &idx.to_string())
            .await;
        Ok(())
    }
    .await;
    done(&app, &a, r).await
}

/// `POST /gezin/verzoek`: records a family's request.
pub async fn request(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let lang = a.lang();
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    let bsn = match bsn_field(lang, f.get("bsn")) {
        Ok(b) => b,
        Err(p) => return show(&app, &a, Some(Problem::new(p).render())).await,
    };
    let kind = KINDS.iter().find(|x| x.0 == f.get("kind")).map(|x| x.3);
    let (Some(kind), Some(day)) = (kind, crate::information::review_date(f.get("day"))) else {
        let p = bad(
            lang,
            "Kies het verzoek, en een datum als 2026-12-06.",
            "Choose the request, and a date such as 2026-12-06.",
        );
        return show(&app, &a, Some(p)).await;
    };
    let p = &a.session.professional;
    let r = async {
        let r = app
            .hub_as(p)?
            .record_family_request(pb::RecordFamilyRequestRequest {
                subject_bsns: vec![bsn],
                kind: kind as i32,
                received_on: Some(prost_types::Timestamp {
                    seconds: day,
                    nanos: 0,
                }),
                references: Vec::new(),
                acting_role: family_role(&app, p),
            })
            .await?;
        let _ = app
            .store
            .audit(&p.id, "family_request_recorded", &r.request_id)
            .await;
        Ok(())
    }
    .await;
    done(&app, &a, r).await
}

/// `POST /gezin/besluit`: grants or refuses a request, with its reason.
pub async fn decide(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let lang = a.lang();
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    let (decision, reason) = match f.get("reason").split_once(':') {
        Some(("grant", r)) => (pb::FamilyRequestState::Granted, r),
        Some(("refuse", r)) => (pb::FamilyRequestState::Refused, r),
        _ => {
            return show(
                &app,
                &a,
                Some(bad(
                    lang,
                    "Kies een besluit met reden.",
                    "Choose a decision with its reason.",
                )),
            )
            .await;
        }
    };
    let p = &a.session.professional;
    let id = f.get("request_id").to_owned();
    let r = async {
        app.hub_as(p)?
            .decide_family_request(pb::DecideFamilyRequestRequest {
                request_id: id.clone(),
                decision: decision as i32,
                reason: reason.to_owned(),
                acting_role: family_role(&app, p),
            })
            .await?;
        let _ = app.store.audit(&p.id, "family_request_decided", &id).await;
        Ok(())
    }
    .await;
    done(&app, &a, r).await
}

/// `POST /gezin/bevestigen`: this organisation acted on a granted request it was told of.
pub async fn confirm(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let lang = a.lang();
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    let p = &a.session.professional;
    let (org, id) = (f.get("org").to_owned(), f.get("request_id").to_owned());
    let r = async {
        app.hub_as(p)?
            .acknowledge_family_request_notice(&org, &id, &family_role(&app, p))
            .await?;
        let _ = app
            .store
            .audit(&p.id, "family_request_acknowledged", &id)
            .await;
        Ok(())
    }
    .await;
    done(&app, &a, r).await
}

/// `POST /gezin/referentie`: a fresh subject reference, shown once (the gateway keeps no copy
/// and logs only that one was issued).
pub async fn reference(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let lang = a.lang();
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    let p = &a.session.professional;
    let r = async {
        let r = app
            .hub_as(p)?
            .issue_subject_reference(&family_role(&app, p))
            .await?;
        let _ = app.store.audit(&p.id, "subject_reference_issued", "").await;
        Ok::<_, ClientError>(r.reference)
    }
    .await;
    match r {
        Ok(reference) => {
            let notice = html! {
                div.notice role="status" {
                    p { (lang.t("De referentie voor deze persoon:", "The reference for this person:")) " " strong { code id="issued-reference" { (reference) } } }
                    p { (lang.t(
                        "Neem haar over in uw eigen dossier: deze pagina toont haar maar één keer, en de hub en deze gateway bewaren haar niet leesbaar.",
                        "Copy it into your own file: this page shows it only once, and neither the hub nor this gateway keeps it readable.",
                    )) }
                }
            };
            show(&app, &a, Some(notice)).await
        }
        Err(e) => show(&app, &a, Some(Problem::from_client(lang, &e).render())).await,
    }
}

/// `POST /gezin/koppelen`: merges this organisation's reference with the person's BSN.
pub async fn merge(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let lang = a.lang();
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    let reference = match crate::actions::bsn_rule(f.get("reference")) {
        Ok(r) if r.starts_with("SH-") => r,
        Ok(_) => {
            let p = bad(
                lang,
                "Referentie: vul de referentie van de hub in (SH-…), niet een BSN.",
                "Reference: enter the hub's reference (SH-…), not a BSN.",
            );
            return show(&app, &a, Some(p)).await;
        }
        Err(i) => {
            return show(&app, &a, Some(Problem::new(i.describe(lang)).render())).await;
        }
    };
    let bsn = match bsn_field(lang, f.get("bsn")) {
        Ok(b) if !b.starts_with("SH-") => b,
        Ok(_) => {
            let p = bad(
                lang,
                "BSN: een referentie kan alleen aan een BSN worden gekoppeld.",
                "BSN: a reference can only be merged with a BSN.",
            );
            return show(&app, &a, Some(p)).await;
        }
        Err(p) => return show(&app, &a, Some(Problem::new(p).render())).await,
    };
    let p = &a.session.professional;
    let r = async {
        let r = app
            .hub_as(p)?
            .merge_subject_reference(&reference, &bsn, &family_role(&app, p))
            .await?;
        let _ = app
            .store
            .audit(&p.id, "subject_merged", &r.log_index.to_string())
            .await;
        Ok::<_, ClientError>(r)
    }
    .await;
    match r {
        Ok(r) => {
            let notice = html! {
                div.notice role="status" {
                    p { (lang.t("Gekoppeld. Gegevens die naar de referentie verwezen en nu naar het BSN: ", "Merged. Records that named the reference and now name the BSN: ")) (r.records_moved) "." }
                }
            };
            show(&app, &a, Some(notice)).await
        }
        Err(e) => show(&app, &a, Some(Problem::from_client(lang, &e).render())).await,
    }
}
