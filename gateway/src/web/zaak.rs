//! *Zaak*: a case behind *Maatregel?* — the organisations involved with one child, who
//! coordinates (casusregisseur) and which proposal still waits for whom, and the safety plan
//! (veiligheidsplan) with who confirmed which agreement. A party proposes a coordinator,
//! accepts or declines a proposal it is asked about, publishes a new version of the plan (sealed
//! here to every party) and confirms the agreements that concern its organisation. The hub decides
//! every step (only parties of the case get an answer); opening the plan is written to the
//! gateway's audit log first.
use super::i18n::{Lang, when};
use super::layout::page;
use super::problem::Problem;
use super::signal::FormData;
use super::{Authed, csrf_refused, problem_page, refused_unless};
use crate::actions::{self, ConfirmProblem, LatestPlan, PlanProblem};
use crate::app::App;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use signaalhub_client::involvement::{Agreement, SafetyPlan};
use signaalhub_client::sealed;
use signaalhub_client::signaalhub_proto::pb;
use std::sync::Arc;

/// Agreement rows the publish form offers.
const AGREEMENT_ROWS: usize = 4;

fn not_found(app: &App, a: &Authed) -> Response {
    let lang = a.lang();
    problem_page(
        app,
        a,
        StatusCode::NOT_FOUND,
        lang.t("Zaak", "Case"),
        lang.t(
            "Deze zaak is er niet, of niet voor u.",
            "This case does not exist, or not for you.",
        ),
    )
}

/// Why a professional who does not work on cases (e.g. the FG) sees none.
pub(super) fn not_a_case_worker(lang: Lang) -> &'static str {
    lang.t(
        "Zaken zijn voor professionals in een rol van het convenant.",
        "Cases are for professionals in a convenant role.",
    )
}

/// The refusal for a professional who does not work on cases (e.g. the FG).
fn no_case_worker(app: &App, a: &Authed) -> Option<Response> {
    let lang = a.lang();
    refused_unless(
        app,
        a,
        actions::works_on_cases(app, &a.session.professional),
        lang.t("Zaak", "Case"),
        not_a_case_worker(lang),
    )
}

fn proposal_state(lang: Lang, s: i32) -> &'static str {
    match pb::ProposalState::try_from(s).unwrap_or(pb::ProposalState::Unspecified) {
        pb::ProposalState::Open => lang.t("open", "open"),
        pb::ProposalState::Accepted => lang.t("aanvaard", "accepted"),
        pb::ProposalState::Declined => lang.t("afgewezen", "declined"),
        pb::ProposalState::Superseded => lang.t("vervallen", "superseded"),
        _ => lang.t("onbekend", "unknown"),
    }
}

/// An OIN as the party's name where the case names it.
fn name_of(case: &pb::Case, oin: &str) -> String {
    case.parties
        .iter()
        .find(|p| p.organization_oin == oin)
        .map(|p| p.organization_name.clone())
        .unwrap_or_else(|| oin.to_owned())
}

fn names(case: &pb::Case, oins: &[String]) -> String {
    oins.iter()
        .map(|o| name_of(case, o))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parties(a: &Authed, app: &App, case: &pb::Case) -> Markup {
    let lang = a.lang();
    let me = app.oin();
    html! {
        section aria-labelledby="betrokkenen" {
            h2 id="betrokkenen" { (lang.t("Betrokkenen", "Involved parties")) }
            table {
                thead { tr {
                    th scope="col" { (lang.t("Organisatie", "Organisation")) }
                    th scope="col" { (lang.t("Sector", "Sector")) }
                    th scope="col" { (lang.t("Contact", "Contact")) }
                    th scope="col" { (lang.t("Sinds", "Since")) }
                } }
                tbody {
                    @for p in &case.parties {
                        tr {
                            td { (p.organization_name) br; small { (p.organization_oin) } }
                            td { (p.sector_name) }
                            td { (p.contact_professional) }
                            td { (p.started_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
                        }
                    }
                }
            }
            @for (i, p) in case.parties.iter().filter(|p| p.organization_oin == me && actions::valid_record_id(&p.involvement_id)).enumerate() {
                details {
                    summary { (lang.t("Onze betrokkenheid beëindigen", "End our involvement")) @if i > 0 { " (" (i + 1) ")" } }
                    form method="post" action=(format!("/zaak/{}/betrokkenheid/{}/beeindigen", case.case_id, p.involvement_id)) {
                        input type="hidden" name="csrf" value=(a.session.csrf);
                        p.hint { (lang.t(
                            "Uw organisatie is dan niet meer betrokken bij dit kind: de andere betrokkenen krijgen bericht, u ziet deze zaak en haar veiligheidsplan niet meer en kunt niet meer vragen of er een maatregel loopt. De hub bewaart de registratie nog tot het einde van de bewaartermijn.",
                            "Your organisation is then no longer involved with this child: the other parties are told, you no longer see this case or its safety plan and can no longer ask whether a measure runs. The hub keeps the record until the end of the retention period.",
                        )) }
                        div.actions { button type="submit" { (lang.t("Betrokkenheid beëindigen", "End the involvement")) } }
                    }
                }
            }
        }
    }
}

fn coordination(a: &Authed, app: &App, case: &pb::Case) -> Markup {
    let lang = a.lang();
    let me = app.oin();
    html! {
        section aria-labelledby="regie" {
            h2 id="regie" { (lang.t("Casusregie", "Case coordination")) }
            @match &case.coordinator {
                Some(c) => p { strong { (lang.t("Casusregisseur: ", "Coordinator: ")) } (c.organization_name) " — " (c.contact_professional)
                    @if let Some(t) = &c.since { " (" (lang.t("sinds ", "since ")) (when(lang, t.seconds)) ")" } },
                None => p { (lang.t("Nog niemand heeft de regie.", "Nobody coordinates yet.")) },
            }
            @for pr in &case.proposals {
                div.notice {
                    p {
                        (lang.t("Voorstel: ", "Proposal: ")) strong { (name_of(case, &pr.proposed_oin)) }
                        (lang.t(" als casusregisseur, voorgesteld door ", " as coordinator, proposed by ")) (name_of(case, &pr.proposed_by_oin))
                        " — " (proposal_state(lang, pr.state))
                    }
                    @if !pr.accepted_by_oins.is_empty() {
                        p { (lang.t("Aanvaard door: ", "Accepted by: ")) (names(case, &pr.accepted_by_oins)) }
                    }
                    @if !pr.awaiting_oins.is_empty() {
                        p { (lang.t("Wacht nog op: ", "Still waiting for: ")) (names(case, &pr.awaiting_oins)) }
                    }
                    @if pr.awaiting_oins.iter().any(|o| o == me) {
                        form method="post" action=(format!("/zaak/{}/voorstel/{}", case.case_id, pr.proposal_id)) {
                            input type="hidden" name="csrf" value=(a.session.csrf);
                            div.actions {
                                button.primary type="submit" name="answer" value="ja" { (lang.t("Aanvaarden", "Accept")) }
                                button type="submit" name="answer" value="nee" { (lang.t("Afwijzen", "Decline")) }
                            }
                        }
                    }
                }
            }
            form method="post" action=(format!("/zaak/{}/regisseur", case.case_id)) {
                input type="hidden" name="csrf" value=(a.session.csrf);
                label for="proposed" { (lang.t("Voorstellen als casusregisseur", "Propose as coordinator")) }
                select id="proposed" name="proposed" {
                    @for p in &case.parties {
                        option value=(p.organization_oin) {
                            (p.organization_name) @if p.organization_oin == me { (lang.t(" (wij)", " (us)")) }
                        }
                    }
                }
                div.actions { button type="submit" { (lang.t("Voorstellen", "Propose")) } }
            }
        }
    }
}

fn plan_section(
    a: &Authed,
    app: &App,
    case: &pb::Case,
    plan: &Result<LatestPlan, Problem>,
    consents: &str,
) -> Markup {
    let lang = a.lang();
    let me = app.oin();
    html! {
        section aria-labelledby="plan" {
            h2 id="plan" { (lang.t("Veiligheidsplan", "Safety plan")) }
            @match plan {
                Err(p) => { (p.render()) }
                Ok((v, content)) => {
                    (plan_version(lang, case, v, content))
                    @if actions::awaits_confirmation(v, me) {
                        form method="post" action=(format!("/zaak/{}/plan/{}/bevestigen", case.case_id, v.version)) {
                            input type="hidden" name="csrf" value=(a.session.csrf);
                            div.actions { button.primary type="submit" { (lang.t("Onze afspraken bevestigen", "Confirm our agreements")) } }
                        }
                    }
                    @if v.version > 1 {
                        nav aria-labelledby="eerdere-versies" {
                            h3 id="eerdere-versies" { (lang.t("Eerdere versies", "Earlier versions")) }
                            ul {
                                @for n in (1..v.version).rev() {
                                    li { a href=(format!("/zaak/{}/plan/{n}", case.case_id)) { (lang.t("Versie ", "Version ")) (n) } }
                                }
                            }
                        }
                    }
                }
            }
            (publish_form(a, case, consents))
        }
    }
}

/// One version of the plan: who wrote it when, whether everyone confirmed, and its content opened
/// here (or why not).
fn plan_version(
    lang: Lang,
    case: &pb::Case,
    v: &pb::SafetyPlanVersion,
    content: &Option<Result<SafetyPlan, String>>,
) -> Markup {
    html! {
        p {
            (lang.t("Versie ", "Version ")) (v.version) (lang.t(" door ", " by ")) (name_of(case, &v.author_oin))
            @if let Some(t) = &v.published_at { ", " (when(lang, t.seconds)) }
            " — " @if v.fully_confirmed { strong { (lang.t("door iedereen bevestigd", "confirmed by everyone")) } }
            @else { (lang.t("nog niet door iedereen bevestigd", "not yet confirmed by everyone")) }
        }
        @match content {
            None => p { (lang.t("Deze versie is niet aan uw organisatie versleuteld.", "This version was not sealed to your organisation.")) },
            Some(Err(why)) => { (Problem { title: lang.t("Het plan kon niet worden geopend.", "The plan could not be opened.").into(), items: vec![why.clone()] }.render()) },
            Some(Ok(p)) => {
                p.verified { (lang.t("Handtekening van de opsteller gecontroleerd.", "The author's signature verified.")) }
                h3 { (p.title) }
                @if !p.goal.is_empty() { p { (lang.t("Doel: ", "Goal: ")) (p.goal) } }
                table {
                    thead { tr {
                        th scope="col" { (lang.t("Wie", "Who")) }
                        th scope="col" { (lang.t("Wat", "What")) }
                        th scope="col" { (lang.t("Wanneer", "When")) }
                        th scope="col" { (lang.t("Bevestigd door", "Confirmed by")) }
                        th scope="col" { (lang.t("Wacht op", "Waiting for")) }
                    } }
                    tbody {
                        @for ag in &p.agreements {
                            @let meta = v.agreements.iter().find(|m| m.agreement_id == ag.id);
                            @let confirmed: Vec<String> = meta.map(|m| m.confirmations.iter().map(|c| c.oin.clone()).collect()).unwrap_or_default();
                            @let waiting: Vec<String> = ag.party_oins.iter().filter(|o| !confirmed.contains(o)).cloned().collect();
                            tr {
                                td { (ag.who) @if ag.concerns_family { br; small { (lang.t("(gezin)", "(family)")) } } }
                                td { (ag.what) }
                                td { (ag.by_when.as_deref().unwrap_or("")) }
                                td { (names(case, &confirmed)) }
                                td { (names(case, &waiting)) }
                            }
                        }
                    }
                }
                @if !p.emergency_contact.is_empty() { p { (lang.t("Bij nood: ", "In an emergency: ")) (p.emergency_contact) } }
            },
        }
    }
}

/// The form for a new version of the plan; `consents` fills in the consent for casusafstemming
/// (carried from *Maatregel?*, or as posted).
fn publish_form(a: &Authed, case: &pb::Case, consents: &str) -> Markup {
    let lang = a.lang();
    html! {
        details open[!consents.is_empty()] {
            summary { (lang.t("Nieuwe versie van het plan opstellen", "Write a new version of the plan")) }
            // The family's consents on record, looked up by the child (the gateway keeps no BSN
            // with a case): those for casusafstemming that cover the safety plan fill in the form.
            form method="post" action=(format!("/zaak/{}/toestemmingen", case.case_id)) {
                input type="hidden" name="csrf" value=(a.session.csrf);
                fieldset {
                    legend { (lang.t("Toestemming van het gezin opzoeken", "Look up the family's consent")) }
                    (super::subject_field(lang, "plan-bsn", ""))
                    div.actions { button type="submit" { (lang.t("Toestemmingen opzoeken", "Look up consents")) } }
                }
            }
            form method="post" action=(format!("/zaak/{}/plan", case.case_id)) {
                input type="hidden" name="csrf" value=(a.session.csrf);
                label for="plan-title" { (lang.t("Titel", "Title")) }
                input id="plan-title" name="title" maxlength="200" required;
                label for="plan-goal" { (lang.t("Waar het plan voor is", "What the plan is for")) }
                input id="plan-goal" name="goal" maxlength="500";
                label for="plan-emergency" { (lang.t("Wie het gezin belt als het misgaat", "Whom the family calls when it goes wrong")) }
                input id="plan-emergency" name="emergency" maxlength="200";
                @for i in 1..=AGREEMENT_ROWS {
                    fieldset {
                        legend { (lang.t("Afspraak ", "Agreement ")) (i) }
                        label for=(format!("who{i}")) { (lang.t("Wie", "Who")) }
                        input id=(format!("who{i}")) name=(format!("who{i}")) maxlength="200";
                        label for=(format!("what{i}")) { (lang.t("Doet wat", "Does what")) }
                        input id=(format!("what{i}")) name=(format!("what{i}")) maxlength="500";
                        label for=(format!("when{i}")) { (lang.t("Wanneer", "When")) }
                        input id=(format!("when{i}")) name=(format!("when{i}")) maxlength="100";
                        label for=(format!("party{i}")) { (lang.t("Betreft organisatie (bevestigt de afspraak)", "Concerns organisation (confirms the agreement)")) }
                        select id=(format!("party{i}")) name=(format!("party{i}")) {
                            option value="" { (lang.t("— geen —", "— none —")) }
                            @for p in &case.parties { option value=(p.organization_oin) { (p.organization_name) } }
                        }
                        div.check {
                            input type="checkbox" id=(format!("family{i}")) name=(format!("family{i}"));
                            label for=(format!("family{i}")) { (lang.t("betreft het gezin", "concerns the family")) }
                        }
                    }
                }
                label for="plan-consents" { (lang.t("Toestemming voor casusafstemming (kenmerken c_…, gescheiden door komma's)", "Consent for casusafstemming (ids c_…, comma-separated)")) }
                input id="plan-consents" name="consents" value=(consents) maxlength="400" required aria-describedby="plan-consents-hint";
                p.hint id="plan-consents-hint" { (lang.t(
                    "Ingevuld als u de zaak opende vanaf Maatregel? met de toestemming aangevinkt. Nog geen toestemming van het gezin? Leg haar vast op ",
                    "Filled in when you opened the case from Measure? with the consent ticked. No consent from the family yet? Record it on ",
                )) a href="/maatregel" { (lang.t("Maatregel?", "Measure?")) } "." }
                p.hint { (lang.t("Het plan wordt hier versleuteld aan elke betrokkene van de zaak; de hub ziet alleen wie welke afspraak betreft.", "The plan is sealed here to every party of the case; the hub sees only whom each agreement concerns.")) }
                div.actions { button.primary type="submit" { (lang.t("Plan versturen", "Publish the plan")) } }
            }
        }
    }
}

/// `GET /zaak/{case}`: `?toestemming=c_…,c_…` fills in the safety plan's consent.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CaseQuery {
    toestemming: Option<String>,
}

/// `GET /zaak/{case}`.
pub async fn view(
    State(app): State<Arc<App>>,
    a: Authed,
    Path(case_id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Response {
    let consents: Vec<String> = super::disclosure::holders(q.toestemming.as_deref().unwrap_or(""))
        .into_iter()
        .filter(|c| actions::valid_record_id(c))
        .collect();
    show_with(&app, &a, &case_id, None, &consents.join(", ")).await
}

/// The case page, with `notice` (a problem or a confirmation) above it.
async fn show(app: &App, a: &Authed, case_id: &str, notice: Option<Markup>) -> Response {
    show_with(app, a, case_id, notice, "").await
}

/// [`show`], with the safety plan's consent filled in.
async fn show_with(
    app: &App,
    a: &Authed,
    case_id: &str,
    notice: Option<Markup>,
    consents: &str,
) -> Response {
    let lang = a.lang();
    if let Some(refused) = no_case_worker(app, a) {
        return refused;
    }
    if !actions::valid_record_id(case_id) {
        return not_found(app, a);
    }
    let case = match actions::case(app, &a.session.professional, case_id).await {
        Ok(c) => c,
        Err(e) if e.code() == tonic::Code::NotFound => return not_found(app, a),
        Err(e) => {
            let status = if e.code() == tonic::Code::PermissionDenied {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::OK
            };
            return (
                status,
                page(
                    app,
                    a,
                    lang.t("Zaak", "Case"),
                    Problem::from_client(lang, &e).render(),
                ),
            )
                .into_response();
        }
    };
    let plan = if case.safety_plan_version == 0 {
        Ok(None)
    } else {
        match actions::safety_plan(app, &a.session.professional, case_id, 0).await {
            Ok(p) => Ok(Some(p)),
            Err(PlanProblem::Hub(e)) => Err(Problem::from_client(lang, &e)),
            Err(PlanProblem::Audit(e)) => {
                tracing::warn!(error = %e, "audit log");
                Err(Problem::new(lang.t(
                    "Het inzagelog kan nu niet worden bijgewerkt; daarom wordt het plan niet geopend.",
                    "The access log cannot be written now, so the plan is not opened.",
                )))
            }
        }
    };
    let body = html! {
        @if let Some(n) = notice { (n) }
        p.small { (lang.t("Zaak ", "Case ")) code { (case.case_id) }
            @if let Some(t) = &case.created_at { " — " (lang.t("sinds ", "since ")) (when(lang, t.seconds)) } }
        (parties(a, app, &case))
        (coordination(a, app, &case))
        @match plan {
            Ok(None) => {
                section aria-labelledby="plan" {
                    h2 id="plan" { (lang.t("Veiligheidsplan", "Safety plan")) }
                    p { (lang.t("Er is nog geen veiligheidsplan.", "There is no safety plan yet.")) }
                    (publish_form(a, &case, consents))
                }
            }
            Ok(Some(p)) => { (plan_section(a, app, &case, &Ok(p), consents)) }
            Err(p) => { (plan_section(a, app, &case, &Err(p), consents)) }
        }
    };
    page(app, a, lang.t("Zaak", "Case"), body).into_response()
}

/// A case form as posted: its fields once the CSRF token is the session's, the professional
/// works on cases and every id in the path has an id's form; else the refusal.
fn case_post(app: &App, a: &Authed, ids: &[&str], body: &[u8]) -> Result<FormData, Box<Response>> {
    let f = FormData::parse(body);
    if !a.csrf_ok(f.get("csrf")) {
        return Err(Box::new(csrf_refused(a.lang())));
    }
    if let Some(refused) = no_case_worker(app, a) {
        return Err(Box::new(refused));
    }
    if !ids.iter().all(|id| actions::valid_record_id(id)) {
        return Err(Box::new(not_found(app, a)));
    }
    Ok(f)
}

/// After a step: back to the case, or the case with the hub's refusal above it.
async fn after<T>(
    app: &App,
    a: &Authed,
    case_id: &str,
    done: Result<T, signaalhub_client::ClientError>,
) -> Response {
    match done {
        Ok(_) => Redirect::to(&format!("/zaak/{case_id}")).into_response(),
        Err(e) => {
            let p = Problem::from_client(a.lang(), &e).render();
            show(app, a, case_id, Some(p)).await
        }
    }
}

/// `POST /zaak/{case}/regisseur`: propose a party as coordinator.
pub async fn propose(
    State(app): State<Arc<App>>,
    a: Authed,
    Path(case_id): Path<String>,
    body: Bytes,
) -> Response {
    let f = match case_post(&app, &a, &[&case_id], &body) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let proposed = f.get("proposed");
    if !sealed::is_oin(proposed) {
        let lang = a.lang();
        let p = Problem::new(lang.t("Kies wie u voorstelt.", "Choose whom you propose."));
        return show(&app, &a, &case_id, Some(p.render())).await;
    }
    let done =
        actions::propose_coordinator(&app, &a.session.professional, &case_id, proposed).await;
    after(&app, &a, &case_id, done).await
}

/// `POST /zaak/{case}/voorstel/{proposal}`: accept (`answer=ja`) or decline.
pub async fn respond(
    State(app): State<Arc<App>>,
    a: Authed,
    Path((case_id, proposal_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let f = match case_post(&app, &a, &[&case_id, &proposal_id], &body) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let accept = f.get("answer") == "ja";
    let done =
        actions::respond_to_proposal(&app, &a.session.professional, &proposal_id, accept).await;
    after(&app, &a, &case_id, done).await
}

/// The plan as the publish form states it: rows without a "who" and "what" are left out.
fn plan_from(f: &FormData) -> SafetyPlan {
    let agreements = (1..=AGREEMENT_ROWS)
        .filter_map(|i| {
            let who = f.get(&format!("who{i}"));
            let what = f.get(&format!("what{i}"));
            if who.is_empty() || what.is_empty() {
                return None;
            }
            let when = f.get(&format!("when{i}"));
            let party = f.get(&format!("party{i}"));
            Some(Agreement {
                id: format!("a{i}"),
                who: who.to_owned(),
                what: what.to_owned(),
                by_when: (!when.is_empty()).then(|| when.to_owned()),
                party_oins: if party.is_empty() {
                    Vec::new()
                } else {
                    vec![party.to_owned()]
                },
                concerns_family: f.get(&format!("family{i}")) == "on",
            })
        })
        .collect();
    SafetyPlan {
        title: f.get("title").to_owned(),
        goal: f.get("goal").to_owned(),
        emergency_contact: f.get("emergency").to_owned(),
        agreements,
    }
}

/// What keeps the plan from being published, in `lang`: the shared rules
/// ([`actions::plan_issues`]: a title, at least one agreement, a consent, no field longer than
/// its form allows — the plan is sealed, so only the gateway can hold it to the form).
fn plan_problems(lang: Lang, plan: &SafetyPlan, consents: &[String]) -> Vec<String> {
    use actions::PlanIssue as I;
    let mut out: Vec<String> = Vec::new();
    let mut need = |nl: &'static str, en: &'static str| {
        let t = lang.t(nl, en).to_owned();
        if !out.contains(&t) {
            out.push(t);
        }
    };
    let issues = actions::plan_issues(plan, consents);
    for i in &issues {
        match i {
            I::NoTitle => need(
                "Titel: geef het plan een titel.",
                "Title: give the plan a title.",
            ),
            I::NoAgreements | I::AgreementIncomplete(_) => need(
                "Afspraken: vul bij minstens één afspraak wie en wat in.",
                "Agreements: fill in who and what for at least one agreement.",
            ),
            I::TooManyAgreements => need(
                "Afspraken: te veel afspraken in één versie.",
                "Agreements: too many agreements in one version.",
            ),
            I::TooManyParties(_) | I::PartyOin(_) => need(
                "Betreft organisatie: kies een betrokkene uit de lijst.",
                "Concerns organisation: choose a party from the list.",
            ),
            I::NoConsent => need(
                "Toestemming: noem de toestemming voor casusafstemming.",
                "Consent: name the consent for casusafstemming.",
            ),
            I::TooManyConsents => need(
                "Toestemming: noem ten hoogste 16 toestemmingen.",
                "Consent: name at most 16 consents.",
            ),
            I::TooLong(_) => {}
        }
    }
    // One sentence for every field that is too long, after the rest (as before).
    if issues.iter().any(|i| matches!(i, I::TooLong(_))) {
        need(
            "Te lang: titel, wie en wanneer hoogstens 200 (wanneer 100) tekens, doel en wat hoogstens 500.",
            "Too long: title and who at most 200 characters (when 100), goal and what at most 500.",
        );
    }
    out
}

/// `POST /zaak/{case}/toestemmingen`: the child's consents on record (`ListConsents`; the hub
/// logs it) that are for casusafstemming and cover the safety plan fill in the plan's form; the
/// others are not offered.
pub async fn consents(
    State(app): State<Arc<App>>,
    a: Authed,
    Path(case_id): Path<String>,
    body: Bytes,
) -> Response {
    use signaalhub_client::involvement::{CASE_PURPOSE, SAFETY_PLAN_CATEGORY};
    let lang = a.lang();
    let f = match case_post(&app, &a, &[&case_id], &body) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let bsn = match super::bsn_field(lang, f.get("bsn")) {
        Ok(b) => b,
        Err(p) => return show(&app, &a, &case_id, Some(Problem::new(p).render())).await,
    };
    let listed = match app.hub_as(&a.session.professional) {
        Ok(mut hub) => actions::list_consents(&mut hub, &bsn, false).await,
        Err(e) => Err(e),
    };
    let on_record = match listed {
        Ok(list) => list,
        Err(e) => {
            let p = Problem::from_client(lang, &e).render();
            return show(&app, &a, &case_id, Some(p)).await;
        }
    };
    let fitting: Vec<&pb::Consent> = on_record
        .iter()
        .filter(|c| {
            c.purposes.iter().any(|p| p == CASE_PURPOSE)
                && c.categories.iter().any(|k| k == SAFETY_PLAN_CATEGORY)
        })
        .collect();
    if fitting.is_empty() {
        let p = Problem::new(lang.t(
            "Er is geen toestemming van het gezin voor casusafstemming die de veiligheidsafspraken dekt. Leg haar vast op Maatregel?.",
            "There is no consent from the family for casusafstemming that covers the safety agreements. Record it on Measure?.",
        ))
        .render();
        return show(&app, &a, &case_id, Some(p)).await;
    }
    let notice = html! {
        div.notice role="status" {
            p { (lang.t("Ingevuld in het plan: de toestemming(en) van het gezin voor casusafstemming.", "Filled in on the plan: the family's consent(s) for casusafstemming.")) }
            ul { @for c in &fitting {
                li { (c.givers.iter().map(|g| g.person.as_str()).collect::<Vec<_>>().join(", "))
                    " — " (lang.t("geldig tot ", "valid until ")) (c.valid_until.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default())
                    " (" code { (c.consent_id) } ")" }
            } }
        }
    };
    let ids: Vec<&str> = fitting.iter().map(|c| c.consent_id.as_str()).collect();
    show_with(&app, &a, &case_id, Some(notice), &ids.join(", ")).await
}

/// `POST /zaak/{case}/plan`: seal the new version here to every party and publish it.
pub async fn publish(
    State(app): State<Arc<App>>,
    a: Authed,
    Path(case_id): Path<String>,
    body: Bytes,
) -> Response {
    let lang = a.lang();
    let f = match case_post(&app, &a, &[&case_id], &body) {
        Ok(f) => f,
        Err(refused) => return *refused,
    };
    let plan = plan_from(&f);
    let consents = super::disclosure::holders(f.get("consents"));
    let missing = plan_problems(lang, &plan, &consents);
    if !missing.is_empty() {
        let p = Problem {
            title: lang
                .t(
                    "Het plan is niet verstuurd; vul aan:",
                    "The plan was not published; please complete:",
                )
                .into(),
            items: missing,
        };
        return show_with(&app, &a, &case_id, Some(p.render()), f.get("consents")).await;
    }
    let who = &a.session.professional;
    let done = match actions::case(&app, who, &case_id).await {
        Ok(case) => actions::publish_safety_plan(&app, who, &case, &plan, &consents).await,
        Err(e) => Err(e),
    };
    after(&app, &a, &case_id, done).await
}

/// `POST /zaak/{case}/plan/{version}/bevestigen`: confirm the agreements that concern us.
pub async fn confirm(
    State(app): State<Arc<App>>,
    a: Authed,
    Path((case_id, version)): Path<(String, u32)>,
    body: Bytes,
) -> Response {
    if let Err(refused) = case_post(&app, &a, &[&case_id], &body) {
        return *refused;
    }
    let done =
        actions::confirm_safety_plan_once(&app, &a.session.professional, &case_id, version).await;
    match done {
        Ok(v) => after(&app, &a, &case_id, Ok(v)).await,
        Err(ConfirmProblem::Hub(e)) => after::<()>(&app, &a, &case_id, Err(e)).await,
        Err(ConfirmProblem::AlreadyConfirmed) => {
            let lang = a.lang();
            let p = Problem::new(lang.t(
                "Uw organisatie heeft haar afspraken van deze versie al bevestigd.",
                "Your organisation already confirmed its agreements of this version.",
            ));
            show(&app, &a, &case_id, Some(p.render())).await
        }
    }
}

/// `GET /zaak/{case}/plan/{version}`: an earlier version of the safety plan, opened here like the
/// latest (`plan_opened` in the audit log first). Read only: agreements are confirmed on the
/// latest version.
pub async fn version(
    State(app): State<Arc<App>>,
    a: Authed,
    Path((case_id, version)): Path<(String, String)>,
) -> Response {
    let lang = a.lang();
    if let Some(refused) = no_case_worker(&app, &a) {
        return refused;
    }
    let version = match version.parse::<u32>() {
        Ok(n) if n > 0 => n,
        _ => return not_found(&app, &a),
    };
    if !actions::valid_record_id(&case_id) {
        return not_found(&app, &a);
    }
    let who = &a.session.professional;
    let title = format!(
        "{}{version}",
        lang.t("Veiligheidsplan, versie ", "Safety plan, version ")
    );
    let refused = |e: &signaalhub_client::ClientError| {
        if e.code() == tonic::Code::NotFound {
            return not_found(&app, &a);
        }
        let status = if e.code() == tonic::Code::PermissionDenied {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::OK
        };
        (
            status,
            page(&app, &a, &title, Problem::from_client(lang, e).render()),
        )
            .into_response()
    };
    let case = match actions::case(&app, who, &case_id).await {
        Ok(c) => c,
        Err(e) => return refused(&e),
    };
    if version > case.safety_plan_version {
        return problem_page(
            &app,
            &a,
            StatusCode::NOT_FOUND,
            &title,
            lang.t(
                "Deze versie van het veiligheidsplan bestaat niet.",
                "This version of the safety plan does not exist.",
            ),
        );
    }
    let (v, content) = match actions::safety_plan(&app, who, &case_id, version).await {
        Ok(p) => p,
        Err(PlanProblem::Hub(e)) => return refused(&e),
        Err(PlanProblem::Audit(e)) => {
            tracing::warn!(error = %e, "audit log");
            return problem_page(
                &app,
                &a,
                StatusCode::SERVICE_UNAVAILABLE,
                &title,
                lang.t(
                    "Het inzagelog kan nu niet worden bijgewerkt; daarom wordt het plan niet geopend.",
                    "The access log cannot be written now, so the plan is not opened.",
                ),
            );
        }
    };
    let body = html! {
        p.small { (lang.t("Zaak ", "Case ")) code { (case.case_id) } }
        @if v.version < case.safety_plan_version {
            div.notice { p {
                (lang.t("Dit is een eerdere versie; de geldende is versie ", "This is an earlier version; the current one is version "))
                (case.safety_plan_version) "."
            } }
        }
        section aria-labelledby="plan" {
            h2 id="plan" { (lang.t("Veiligheidsplan", "Safety plan")) }
            (plan_version(lang, &case, &v, &content))
        }
        p { a href=(format!("/zaak/{}#plan", case.case_id)) { (lang.t("Terug naar de zaak", "Back to the case")) } }
    };
    page(&app, &a, &title, body).into_response()
}

/// `POST /zaak/{case}/betrokkenheid/{involvement}/beeindigen`: end this organisation's
/// involvement (the hub tells the case's other parties). The case is then no longer ours to see,
/// so the answer is a page of its own.
pub async fn end(
    State(app): State<Arc<App>>,
    a: Authed,
    Path((case_id, involvement_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Err(refused) = case_post(&app, &a, &[&case_id, &involvement_id], &body) {
        return *refused;
    }
    let lang = a.lang();
    let ended = match actions::end_involvement(&app, &a.session.professional, &involvement_id).await
    {
        Ok(i) => i,
        Err(e) if e.code() == tonic::Code::NotFound => return not_found(&app, &a),
        Err(e) => {
            let p = Problem::from_client(lang, &e).render();
            return show(&app, &a, &case_id, Some(p)).await;
        }
    };
    let title = lang.t("Betrokkenheid beëindigd", "Involvement ended");
    let body = html! {
        div.notice role="status" {
            p { (lang.t(
                "Uw organisatie is niet meer betrokken bij dit kind. De andere betrokkenen van de zaak hebben bericht gekregen.",
                "Your organisation is no longer involved with this child. The case's other parties have been told.",
            )) }
            @if let Some(t) = &ended.ended_at { p { (lang.t("Beëindigd: ", "Ended: ")) (when(lang, t.seconds)) } }
            @if let Some(t) = &ended.retain_until { p { (lang.t("De hub bewaart de registratie tot ", "The hub keeps the record until ")) (super::i18n::date(lang, t.seconds)) "." } }
        }
        p { a href="/maatregel" { (lang.t("Naar Maatregel?", "To Measure?")) } }
    };
    page(&app, &a, title, body).into_response()
}
