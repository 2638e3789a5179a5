//! *Triage* (Veilig Thuis): a melding — a police zorgmelding or a meldcode signal in the
//! Postvak — triaged with the six Arnhem criteria (the hub answers with the advice and the
//! recidive), the triagist's *Besluit* (the advice, or another decision with a reason from the
//! fixed list), *Gezin wil geen wijkteam*, the way to *Overdragen* (`web::overdragen`), the
//! melding's *Fase* and *Informatie vragen* (`web::informatie`) and *Terugkoppeling*. Only
//! for a professional in a Veilig Thuis role of the convenant; the hub decides every step.
use super::disclosure::role_select_as;
use super::i18n::{Lang, when};
use super::layout::page;
use super::problem::Problem;
use super::signal::FormData;
use super::{Authed, csrf_refused, problem_page, refused_unless};
use crate::actions;
use crate::app::App;
use crate::handover::{self, MELDING_PURPOSES, Melding};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use signaalhub_client::signaalhub_proto::pb;
use std::collections::HashMap;
use std::sync::Arc;

/// The routes under one melding (`/melding/zm/{id}`, `/melding/signaal/{sender}/{id}`).
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(view))
        .route("/triage", post(record))
        .route("/besluit", post(decide))
        .route("/gezin-weigert", post(declined))
        .route("/terugkoppeling", post(super::terugkoppeling::submit))
        .route("/fase", post(super::informatie::set_stage))
        .route("/informatie", post(super::informatie::ask))
        .route(
            "/overdragen",
            get(super::overdragen::form).post(super::overdragen::submit),
        )
}

/// The melding a path names.
pub(super) fn melding_of(p: &HashMap<String, String>) -> Option<Melding> {
    match p.get("sender") {
        Some(sender) => Melding::parse(None, Some((sender, p.get("id")?))),
        None => Melding::parse(Some(p.get("id")?), None),
    }
}

/// Whether the melding is here: a stored zorgmelding, or a received signal under a melding
/// purpose. (Whether it is this Veilig Thuis's to triage is the hub's question.)
pub(super) async fn is_here(app: &App, m: &Melding) -> bool {
    match m {
        Melding::Zorgmelding(z) => matches!(app.store.get_melding(z).await, Ok(Some(_))),
        Melding::Signal { sender, id } => matches!(
            app.store.get_received(sender, id).await,
            Ok(Some(r)) if MELDING_PURPOSES.contains(&r.purpose.as_str())
        ),
    }
}

/// The refusal for anyone without a Veilig Thuis role (e.g. the FG, or a wijkcoach).
pub(super) fn not_veilig_thuis(app: &App, a: &Authed, title: &str) -> Option<Response> {
    let lang = a.lang();
    let why = lang.t(
        "Triage en overdracht zijn voor medewerkers van Veilig Thuis in een rol van het convenant.",
        "Triage and handover are for Veilig Thuis staff in a convenant role.",
    );
    refused_unless(
        app,
        a,
        actions::handles_zorgmeldingen(app, &a.session.professional),
        title,
        why,
    )
}

pub(super) fn melding_not_found(app: &App, a: &Authed, title: &str) -> Response {
    let lang = a.lang();
    problem_page(
        app,
        a,
        StatusCode::NOT_FOUND,
        title,
        lang.t(
            "Deze melding is er niet (meer), of is geen melding aan Veilig Thuis.",
            "This melding is not (or no longer) here, or is not a melding to Veilig Thuis.",
        ),
    )
}

/// The professional's roles of the Veilig Thuis sector (to act in).
pub(super) fn vt_roles(app: &App, a: &Authed) -> Vec<String> {
    sector_roles(app, a, pb::Sector::VeiligThuis)
}

/// The professional's roles that the convenant gives `sector`.
pub(super) fn sector_roles(app: &App, a: &Authed, sector: pb::Sector) -> Vec<String> {
    actions::roles_of(app, &a.session.professional, sector)
}

/// The role a form names, when it is one of `roles`; else the first.
pub(super) fn chosen_role(roles: &[String], posted: &str) -> String {
    roles
        .iter()
        .find(|r| *r == posted)
        .or(roles.first())
        .cloned()
        .unwrap_or_default()
}

/// Criteria 1-3 and 6: (form name, Dutch, English).
const YES_NO: &[(&str, &str, &str)] = &[
    (
        "physical_abuse",
        "1. Lichamelijke mishandeling of ernstig geweld",
        "1. Physical abuse or severe violence",
    ),
    ("sexual_abuse", "2. Seksueel misbruik", "2. Sexual abuse"),
    (
        "witnessed",
        "3. Huiselijk geweld waar kinderen getuige van zijn",
        "3. Domestic violence witnessed by children",
    ),
];

const STACKED: &[(&str, &str, &str)] = &[
    (
        "stacked_reports",
        "6a. Stapeling van meldingen (ook die de hub niet kent)",
        "6a. Stacked reports (also those the hub does not know of)",
    ),
    (
        "mutual_accusations",
        "6b. Wederzijdse beschuldigingen",
        "6b. Mutual accusations",
    ),
    ("addiction", "6c. Verslaving", "6c. Addiction"),
];

fn yes_no(v: &str) -> pb::CriterionAnswer {
    match v {
        "ja" => pb::CriterionAnswer::Yes,
        "nee" => pb::CriterionAnswer::No,
        "onbekend" => pb::CriterionAnswer::Unknown,
        _ => pb::CriterionAnswer::Unspecified,
    }
}

/// The role a triage form starts with: the one posted, else `triagist` (the triagist triages and
/// decides; a professional without that role gets the first of theirs).
fn preferred(posted: &str) -> &str {
    if posted.is_empty() {
        "triagist"
    } else {
        posted
    }
}

/// The criteria as posted; unanswered ones stay unspecified.
fn criteria_of(f: &FormData) -> pb::ArnhemCriteria {
    pb::ArnhemCriteria {
        physical_abuse_or_severe_violence: yes_no(f.get("physical_abuse")) as i32,
        sexual_abuse: yes_no(f.get("sexual_abuse")) as i32,
        violence_witnessed_by_children: yes_no(f.get("witnessed")) as i32,
        safety_conflict: match f.get("safety_conflict") {
            "ja" => pb::SafetyConflictAnswer::Yes,
            "nee" => pb::SafetyConflictAnswer::No,
            "scheiding" => pb::SafetyConflictAnswer::DivorceOnly,
            "onbekend" => pb::SafetyConflictAnswer::Unknown,
            _ => pb::SafetyConflictAnswer::Unspecified,
        } as i32,
        open_to_help: match f.get("open_to_help") {
            "open" => pb::OpenToHelpAnswer::Open,
            "verwacht_niet" => pb::OpenToHelpAnswer::ExpectedNotOpen,
            "gebleken_niet" => pb::OpenToHelpAnswer::FoundNotOpen,
            "onbekend" => pb::OpenToHelpAnswer::Unknown,
            _ => pb::OpenToHelpAnswer::Unspecified,
        } as i32,
        stacked_reports: yes_no(f.get("stacked_reports")) as i32,
        mutual_accusations: yes_no(f.get("mutual_accusations")) as i32,
        addiction: yes_no(f.get("addiction")) as i32,
    }
}

/// Whether every criterion is answered (UNKNOWN is an answer).
fn all_answered(c: &pb::ArnhemCriteria) -> bool {
    [
        c.physical_abuse_or_severe_violence,
        c.sexual_abuse,
        c.violence_witnessed_by_children,
        c.safety_conflict,
        c.open_to_help,
        c.stacked_reports,
        c.mutual_accusations,
        c.addiction,
    ]
    .iter()
    .all(|v| *v != 0)
}

/// The decisions a triagist can record: (form value, kind, Dutch, English).
pub(super) const DECISIONS: &[crate::coded::Coded<pb::TriageDecisionKind>] = &[
    (
        "samen",
        pb::TriageDecisionKind::JointVisit,
        "Samen optrekken: Veilig Thuis en het wijkteam gaan samen op het eerste bezoek",
        "Act jointly: Veilig Thuis and the wijkteam make the first visit together",
    ),
    (
        "wijkteam",
        pb::TriageDecisionKind::WijkteamAlone,
        "Het wijkteam pakt het alleen op",
        "The wijkteam picks it up alone",
    ),
    (
        "veilig_thuis",
        pb::TriageDecisionKind::VeiligThuisAlone,
        "Veilig Thuis houdt de zaak (onderzoek); geen overdracht",
        "Veilig Thuis keeps the case (investigation); no handover",
    ),
    (
        "advies",
        pb::TriageDecisionKind::AdviceOnly,
        "Alleen advies aan de melder; geen overdracht",
        "Advice to the reporter only; no handover",
    ),
];

/// Why a decision may differ from the advice: (form value, reason, Dutch, English).
const REASONS: &[crate::coded::Coded<pb::DecisionReason>] = &[
    (
        "eenmalig",
        pb::DecisionReason::SingleIncident,
        "eenmalig incident, geen patroon",
        "a single incident, no pattern",
    ),
    (
        "hulp_betrokken",
        pb::DecisionReason::HelpAlreadyInvolved,
        "er is al passende hulp betrokken",
        "suitable help is already involved",
    ),
    (
        "gezin_werkt_mee",
        pb::DecisionReason::FamilyCooperates,
        "het gezin staat open voor hulp",
        "the family is open to help",
    ),
    (
        "veiligheid",
        pb::DecisionReason::SafetyNeedsVeiligThuis,
        "de veiligheid vraagt Veilig Thuis zelf",
        "safety needs Veilig Thuis itself",
    ),
    (
        "nieuwe_informatie",
        pb::DecisionReason::NewInformation,
        "nieuwe informatie na de triage",
        "new information after the triage",
    ),
    (
        "dossier",
        pb::DecisionReason::OtherSeeFile,
        "andere reden, vastgelegd in het dossier van Veilig Thuis",
        "another reason, written down in Veilig Thuis's file",
    ),
];

/// A decision kind in the console's language.
pub(super) fn decision_text(lang: Lang, kind: i32) -> &'static str {
    crate::coded::words(DECISIONS, kind)
        .map_or(lang.t("onbekend", "unknown"), |(nl, en)| lang.t(nl, en))
}

fn reason_text(lang: Lang, reason: i32) -> Option<&'static str> {
    crate::coded::words(REASONS, reason).map(|(nl, en)| lang.t(nl, en))
}

/// The advice in the console's language.
pub(super) fn advice_text(lang: Lang, advice: i32) -> &'static str {
    match pb::Advice::try_from(advice).unwrap_or(pb::Advice::Unspecified) {
        pb::Advice::JointVisit => lang.t(
            "samen optrekken (Veilig Thuis en het wijkteam samen op het eerste bezoek)",
            "act jointly (Veilig Thuis and the wijkteam visit together)",
        ),
        pb::Advice::WijkteamAlone => lang.t("het wijkteam alleen", "the wijkteam alone"),
        pb::Advice::StaysWithVeiligThuis => lang.t(
            "blijft bij Veilig Thuis (acuut)",
            "stays with Veilig Thuis (acute)",
        ),
        pb::Advice::Unspecified => lang.t("geen advies", "no advice"),
    }
}

/// The advice with its criteria and explanation.
pub(super) fn advice_box(lang: Lang, a: &pb::TriageAdvice) -> Markup {
    let criterion = |c: &pb::Criterion| {
        format!(
            "{}. {}",
            c.number,
            lang.s(c.text_nl.clone(), c.text_en.clone())
        )
    };
    let explanation = match lang {
        Lang::Nl => &a.explanation_nl,
        Lang::En => &a.explanation_en,
    };
    html! {
        div.notice {
            p { strong { (lang.t("Advies: ", "Advice: ")) (advice_text(lang, a.advice)) } }
            @if !a.criteria_met.is_empty() {
                p { (lang.t("Op grond van:", "Because of:")) }
                ul { @for c in &a.criteria_met { li { (criterion(c)) } } }
            }
            @if !a.open_questions.is_empty() {
                p { (lang.t("Nog onbekend (het advies is voorlopig):", "Not known yet (the advice is provisional):")) }
                ul { @for c in &a.open_questions { li { (criterion(c)) } } }
            }
            @for line in explanation { p.small { (line) } }
        }
    }
}

fn recidive_text(lang: Lang, r: &pb::Recidive) -> String {
    lang.s(
        format!(
            "{} eerdere zorgmelding(en) en {} eerder(e) signaal/signalen in de afgelopen {} dagen",
            r.earlier_zorgmeldingen, r.earlier_signals, r.window_days
        ),
        format!(
            "{} earlier zorgmelding(s) and {} earlier signal(s) in the last {} days",
            r.earlier_zorgmeldingen, r.earlier_signals, r.window_days
        ),
    )
}

fn triage_section(lang: Lang, t: &pb::Triage, declined: Option<&pb::FamilyDeclined>) -> Markup {
    html! {
        section aria-labelledby="advies" {
            h2 id="advies" { (lang.t("Triage en advies", "Triage and advice")) }
            dl.meta {
                dt { (lang.t("Dossiernummer", "Case reference")) } dd { (t.case_reference) }
                dt { (lang.t("Door", "By")) } dd { (t.triagist) " (" (t.role) ")"
                    @if let Some(at) = &t.recorded_at { ", " (when(lang, at.seconds)) } }
                @if t.acute { dt { (lang.t("Acuut", "Acute")) } dd { (lang.t("ja", "yes")) } }
                @if let Some(r) = &t.recidive { dt { (lang.t("Eerder gemeld", "Reported before")) } dd { (recidive_text(lang, r)) } }
            }
            @if let Some(a) = &t.advice { (advice_box(lang, a)) }
            @if let Some(d) = &t.decision {
                p {
                    strong { (lang.t("Besluit: ", "Decision: ")) } (decision_text(lang, d.decision))
                    @if d.recorded {
                        " — " (lang.t("vastgelegd door ", "recorded by ")) (d.decided_by)
                        @if let Some(at) = &d.decided_at { ", " (when(lang, at.seconds)) }
                    } @else {
                        " — " (lang.t("volgt het advies (nog geen besluit vastgelegd)", "follows the advice (no decision recorded yet)"))
                    }
                    @if d.recorded && !d.follows_advice { " — " strong { (lang.t("afwijkend van het advies", "differs from the advice")) } }
                }
                @if let Some(r) = reason_text(lang, d.reason) { p { (lang.t("Reden: ", "Reason: ")) (r) } }
            }
            @if let Some(d) = declined {
                (Problem::new(lang.s(
                    format!("Het gezin wil geen wijkteam ({}, {}): de zaak blijft bij Veilig Thuis.", d.declined_by, d.recorded_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()),
                    format!("The family does not want the wijkteam ({}, {}): the case stays with Veilig Thuis.", d.declined_by, d.recorded_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()),
                )).render())
            }
        }
    }
}

fn answer_select(name: &str, label: &str, options: &[(&str, &str)], chosen: &str) -> Markup {
    html! {
        label for=(name) { (label) }
        select id=(name) name=(name) required {
            option value="" { "—" }
            @for (v, text) in options { option value=(v) selected[*v == chosen] { (text) } }
        }
    }
}

fn triage_form(a: &Authed, app: &App, m: &Melding, f: &FormData, case: &str) -> Markup {
    let lang = a.lang();
    let yn = [
        ("ja", lang.t("ja", "yes")),
        ("nee", lang.t("nee", "no")),
        ("onbekend", lang.t("onbekend", "unknown")),
    ];
    let roles = vt_roles(app, a);
    html! {
        form method="post" action=(format!("{}/triage", m.path())) {
            input type="hidden" name="csrf" value=(a.session.csrf);
            fieldset {
                legend { (lang.t("De zes criteria", "The six criteria")) }
                @for (name, nl, en) in YES_NO { (answer_select(name, lang.t(nl, en), &yn, f.get(name))) }
                (answer_select("safety_conflict", lang.t("4. Conflict over de veiligheid van de kinderen", "4. Conflict about the children's safety"), &[
                    ("ja", lang.t("ja", "yes")), ("nee", lang.t("nee", "no")),
                    ("scheiding", lang.t("alleen scheidingsproblematiek", "divorce problems only")),
                    ("onbekend", lang.t("onbekend", "unknown")),
                ], f.get("safety_conflict")))
                (answer_select("open_to_help", lang.t("5. Staan de ouders open voor hulp?", "5. Are the parents open to help?"), &[
                    ("open", lang.t("ja, open voor hulp", "yes, open to help")),
                    ("verwacht_niet", lang.t("naar verwachting niet", "expected not to be")),
                    ("gebleken_niet", lang.t("gebleken van niet", "found not to be")),
                    ("onbekend", lang.t("onbekend", "unknown")),
                ], f.get("open_to_help")))
                @for (name, nl, en) in STACKED { (answer_select(name, lang.t(nl, en), &yn, f.get(name))) }
            }
            div.check {
                input type="checkbox" id="acute" name="acute" checked[f.get("acute") == "on"];
                label for="acute" { (lang.t("Acuut: Veilig Thuis houdt de zaak", "Acute: Veilig Thuis keeps the case")) }
            }
            label for="case_reference" { (lang.t("Dossiernummer van Veilig Thuis", "Veilig Thuis's case reference")) }
            input id="case_reference" name="case_reference" value=(case) maxlength="64" required aria-describedby="case-hint";
            p.hint id="case-hint" { (lang.t("Geen naam of BSN: het nummer in uw eigen dossier.", "No name or BSN: the number in your own file.")) }
            (role_select_as(lang, &roles, preferred(f.get("role")), "triage-role"))
            div.actions { button.primary type="submit" { (lang.t("Triage vastleggen", "Record the triage")) } }
        }
    }
}

fn decision_form(a: &Authed, app: &App, m: &Melding, t: &pb::Triage) -> Markup {
    let lang = a.lang();
    let follows = t.decision.as_ref().map_or(0, |d| d.decision);
    let roles = vt_roles(app, a);
    html! {
        form method="post" action=(format!("{}/besluit", m.path())) {
            input type="hidden" name="csrf" value=(a.session.csrf);
            input type="hidden" name="triage_id" value=(t.triage_id);
            fieldset.group {
                legend { (lang.t("Besluit van de triagist", "The triagist's decision")) }
                @for (i, (v, kind, nl, en)) in DECISIONS.iter().enumerate() {
                    div.check {
                        input type="radio" id=(format!("dec{i}")) name="decision" value=(v) checked[*kind as i32 == follows];
                        label for=(format!("dec{i}")) { (lang.t(nl, en)) @if *kind as i32 == follows { " " em { (lang.t("(het advies)", "(the advice)")) } } }
                    }
                }
            }
            label for="reason" { (lang.t("Reden, als het besluit afwijkt van het advies", "Reason, when the decision differs from the advice")) }
            select id="reason" name="reason" {
                option value="" { (lang.t("— geen (volgt het advies) —", "— none (follows the advice) —")) }
                @for (v, _, nl, en) in REASONS { option value=(v) { (lang.t(nl, en)) } }
            }
            p.hint { (lang.t("De volledige motivering hoort in het dossier van Veilig Thuis; de hub bewaart alleen de reden uit deze lijst.", "The full motivation belongs in Veilig Thuis's file; the hub keeps only the reason from this list.")) }
            (role_select_as(lang, &roles, preferred(""), "decision-role"))
            div.actions { button.primary type="submit" { (lang.t("Besluit vastleggen", "Record the decision")) } }
        }
    }
}

fn declined_form(a: &Authed, app: &App, m: &Melding) -> Markup {
    let lang = a.lang();
    let roles = vt_roles(app, a);
    html! {
        details {
            summary { (lang.t("Gezin wil geen wijkteam", "The family does not want the wijkteam")) }
            form method="post" action=(format!("{}/gezin-weigert", m.path())) {
                input type="hidden" name="csrf" value=(a.session.csrf);
                label for="declined_by" { (lang.t("Wie zei dat (een verwijzing, geen naam)", "Who said so (a reference, no name)")) }
                input id="declined_by" name="declined_by" placeholder="ouder-1" maxlength="32" required;
                (role_select_as(lang, &roles, "", "declined-role"))
                p.hint { (lang.t("Daarna weigert de hub elke overdracht van deze melding; de zaak blijft bij Veilig Thuis.", "After this the hub refuses every handover of this melding; the case stays with Veilig Thuis.")) }
                div.actions { button type="submit" { (lang.t("Vastleggen", "Record")) } }
            }
        }
    }
}

/// `GET /melding/...`: the melding's triage page.
async fn view(
    State(app): State<Arc<App>>,
    a: Authed,
    Path(p): Path<HashMap<String, String>>,
) -> Response {
    show(&app, &a, &p, None, &FormData::default(), StatusCode::OK).await
}

/// The triage page with `notice` (a problem or a confirmation) above it, the triage form filled
/// as `f` was posted.
pub(super) async fn show(
    app: &App,
    a: &Authed,
    p: &HashMap<String, String>,
    notice: Option<Markup>,
    f: &FormData,
    status: StatusCode,
) -> Response {
    let lang = a.lang();
    let title = lang.t("Triage", "Triage");
    if let Some(refused) = not_veilig_thuis(app, a, title) {
        return refused;
    }
    let Some(m) = melding_of(p) else {
        return melding_not_found(app, a, title);
    };
    if !is_here(app, &m).await {
        return melding_not_found(app, a, title);
    }
    let (triage, declined, problem) =
        match handover::triage_of(app, &a.session.professional, &m).await {
            Ok(r) => (r.triage, r.family_declined, None),
            Err(e) => (None, None, Some(Problem::from_client(lang, &e))),
        };
    let case = if f.get("case_reference").is_empty() {
        triage
            .as_ref()
            .map(|t| t.case_reference.clone())
            .unwrap_or_default()
    } else {
        f.get("case_reference").to_owned()
    };
    let (stages, under_assessment) = super::informatie::stage_section(app, a, &m, f).await;
    let requests =
        match super::informatie::request_section(app, a, &m, f, &case, under_assessment).await {
            Ok(r) => r,
            Err(unavailable) => return unavailable,
        };
    let feedback = super::terugkoppeling::section(app, a, &m, f, &case).await;
    let body = html! {
        @if let Some(n) = notice { (n) }
        @if let Some(p) = problem { (p.render()) }
        p { (lang.t("Melding: ", "Melding: ")) a href=(m.source_path()) { code { (m.reference()) } } }
        @match &triage {
            Some(t) => {
                (triage_section(lang, t, declined.as_ref()))
                @if !t.decision.as_ref().is_some_and(|d| d.recorded) { (decision_form(a, app, &m, t)) }
                @if declined.is_none() {
                    p { a href=(format!("{}/overdragen", m.path())) { (lang.t("Overdragen aan het wijkteam", "Hand over to the wijkteam")) } }
                }
            }
            None => { p { (lang.t("Nog geen triage vastgelegd.", "No triage recorded yet.")) } }
        }
        section aria-labelledby="triage-form" {
            h2 id="triage-form" { @if triage.is_some() { (lang.t("Opnieuw triëren", "Triage again")) } @else { (lang.t("Triage", "Triage")) } }
            (triage_form(a, app, &m, f, &case))
        }
        @if declined.is_none() { (declined_form(a, app, &m)) }
        (stages)
        (requests)
        (feedback)
    };
    (status, page(app, a, title, body)).into_response()
}

/// A triage form as posted: the fields and the melding once the CSRF token is the session's,
/// the professional has a Veilig Thuis role and the path names a melding; else the refusal.
pub(super) fn vt_post(
    app: &App,
    a: &Authed,
    p: &HashMap<String, String>,
    body: &[u8],
) -> Result<(FormData, Melding), Box<Response>> {
    let f = FormData::parse(body);
    if !a.csrf_ok(f.get("csrf")) {
        return Err(Box::new(csrf_refused(a.lang())));
    }
    if let Some(refused) = not_veilig_thuis(app, a, a.lang().t("Triage", "Triage")) {
        return Err(Box::new(refused));
    }
    match melding_of(p) {
        Some(m) => Ok((f, m)),
        None => Err(Box::new(melding_not_found(app, a, "Triage"))),
    }
}

/// The melding's page again (422), with what to complete above it and the form as posted.
pub(super) async fn incomplete(
    app: &App,
    a: &Authed,
    p: &HashMap<String, String>,
    f: &FormData,
    title: &str,
    items: Vec<String>,
) -> Response {
    let problem = Problem {
        title: title.into(),
        items,
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    show(app, a, p, Some(problem.render()), f, status).await
}

/// After a step: back to the melding's page, or the page with the hub's refusal above it.
async fn after<T>(
    app: &App,
    a: &Authed,
    p: &HashMap<String, String>,
    f: &FormData,
    done: Result<T, signaalhub_client::ClientError>,
) -> Response {
    match (done, melding_of(p)) {
        (Ok(_), Some(m)) => Redirect::to(&m.path()).into_response(),
        (Err(e), _) => {
            let problem = Problem::from_client(a.lang(), &e).render();
            show(app, a, p, Some(problem), f, StatusCode::OK).await
        }
        (Ok(_), None) => melding_not_found(app, a, "Triage"),
    }
}

/// `POST /melding/.../triage`.
async fn record(
    State(app): State<Arc<App>>,
    a: Authed,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let (f, m) = match vt_post(&app, &a, &p, &body) {
        Ok(x) => x,
        Err(refused) => return *refused,
    };
    let lang = a.lang();
    let criteria = criteria_of(&f);
    let mut missing = Vec::new();
    if !all_answered(&criteria) {
        missing.push(lang.t(
            "Criteria: beantwoord elk criterium (onbekend is ook een antwoord).",
            "Criteria: answer every criterion (unknown is an answer too).",
        ));
    }
    if f.get("case_reference").is_empty() {
        missing.push(lang.t(
            "Dossiernummer: vul het nummer in uw eigen dossier in.",
            "Case reference: enter the number in your own file.",
        ));
    }
    if !missing.is_empty() {
        let title = lang.t(
            "De triage is niet vastgelegd; vul aan:",
            "The triage was not recorded; please complete:",
        );
        let items = missing.into_iter().map(str::to_owned).collect();
        return incomplete(&app, &a, &p, &f, title, items).await;
    }
    let role = chosen_role(&vt_roles(&app, &a), f.get("role"));
    let done = handover::record_triage(
        &app,
        &a.session.professional,
        &m,
        criteria,
        f.get("acute") == "on",
        f.get("case_reference"),
        &role,
    )
    .await;
    after(&app, &a, &p, &f, done).await
}

/// `POST /melding/.../besluit`.
async fn decide(
    State(app): State<Arc<App>>,
    a: Authed,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let (f, _) = match vt_post(&app, &a, &p, &body) {
        Ok(x) => x,
        Err(refused) => return *refused,
    };
    let lang = a.lang();
    let decision = DECISIONS.iter().find(|(v, ..)| *v == f.get("decision"));
    let reason = match f.get("reason") {
        "" => Some(pb::DecisionReason::Unspecified),
        r => REASONS.iter().find(|(v, ..)| *v == r).map(|(_, r, ..)| *r),
    };
    let triage_id = f.get("triage_id");
    let (Some((_, decision, ..)), Some(reason), true) =
        (decision, reason, actions::valid_record_id(triage_id))
    else {
        let problem = Problem::new(lang.t(
            "Kies een besluit en, als het afwijkt van het advies, een reden uit de lijst.",
            "Choose a decision and, when it differs from the advice, a reason from the list.",
        ));
        return show(
            &app,
            &a,
            &p,
            Some(problem.render()),
            &FormData::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let role = chosen_role(&vt_roles(&app, &a), f.get("role"));
    let done = handover::decide(
        &app,
        &a.session.professional,
        triage_id,
        *decision,
        reason,
        &role,
    )
    .await;
    after(&app, &a, &p, &FormData::default(), done).await
}

/// `POST /melding/.../gezin-weigert`.
async fn declined(
    State(app): State<Arc<App>>,
    a: Authed,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let (f, m) = match vt_post(&app, &a, &p, &body) {
        Ok(x) => x,
        Err(refused) => return *refused,
    };
    let role = chosen_role(&vt_roles(&app, &a), f.get("role"));
    let done = handover::decline(
        &app,
        &a.session.professional,
        &m,
        f.get("declined_by"),
        &role,
    )
    .await;
    after(&app, &a, &p, &FormData::default(), done).await
}
