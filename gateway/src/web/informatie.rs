//! Veilig Thuis's follow-up of a melding, and the other end of its information requests
//! (docs/VEILIG_THUIS.md, sections 6 and 7; `crate::information` seals, opens and logs).
//!
//! On the melding's page (Veilig Thuis): *Fase* — the stage now, every stage recorded with its
//! review moment and that moment's state, and the form for the next stage with the date of the
//! next review — and *Informatie vragen* — the requests sent about this melding with their state,
//! each answer opened here (`information_answer_opened` in the audit log first) or the reason it
//! was declined, and the form to ask an organisation from the sociale kaart.
//!
//! *Vragen van Veilig Thuis* (`/informatieverzoeken`, the organisation asked): the requests
//! received (never which melding), each question opened here on its own page
//! (`information_question_opened` first), and the answer — sealed here to Veilig Thuis, only the
//! categories asked for, on the request's case reference — or a decline with a reason.
use super::disclosure::{directory, role_select_as};
use super::i18n::{Lang, date, when};
use super::layout::page;
use super::problem::Problem;
use super::signal::FormData;
use super::triage::{chosen_role, incomplete, show, vt_post, vt_roles};
use super::{Authed, csrf_refused, problem_page, refused_unless};
use crate::actions;
use crate::app::App;
use crate::handover::{Melding, ReadProblem};
use crate::information::{
    self, DECLINE_REASONS, DraftProblem, ReadRequest, Reply, RequestDraft, STAGES, STATES,
};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use signaalhub_client::sealed;
use signaalhub_client::signaalhub_proto::pb;
use std::collections::HashMap;
use std::sync::Arc;

/// A stage in the console's language.
pub(super) fn stage_text(lang: Lang, stage: i32) -> &'static str {
    crate::coded::words(STAGES, stage)
        .map_or(lang.t("onbekend", "unknown"), |(nl, en)| lang.t(nl, en))
}

fn review_state_text(lang: Lang, state: &str) -> &'static str {
    match state {
        "PLANNED" => lang.t("gepland", "planned"),
        "REMINDED" => lang.t(
            "aan de beurt (Veilig Thuis is herinnerd)",
            "due (Veilig Thuis was reminded)",
        ),
        "SUPERSEDED" => lang.t(
            "vervallen: een latere fase verving haar",
            "lapsed: a later stage replaced it",
        ),
        "" => "—",
        _ => lang.t("onbekend", "unknown"),
    }
}

fn state_text(lang: Lang, state: i32) -> &'static str {
    crate::coded::words(STATES, state)
        .map_or(lang.t("onbekend", "unknown"), |(nl, en)| lang.t(nl, en))
}

fn decline_text(lang: Lang, q: &pb::InformationRequest) -> String {
    crate::coded::words(DECLINE_REASONS, q.decline_reason)
        .map_or(q.decline_reason_nl.clone(), |(nl, en)| {
            lang.t(nl, en).to_owned()
        })
}

/// A convenant category by its description (its name when it has none).
fn category_text(app: &App, name: &str) -> String {
    app.convenant
        .categories
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.description.clone())
        .unwrap_or_else(|| name.to_owned())
}

fn categories_text(app: &App, names: &[String]) -> String {
    names
        .iter()
        .map(|n| category_text(app, n))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checkboxes for `names` (convenant categories), ids prefixed with `prefix`.
fn category_boxes(
    app: &App,
    lang: Lang,
    legend: &str,
    names: &[String],
    ticked: &[String],
    prefix: &str,
) -> Markup {
    html! {
        fieldset.group {
            legend { (legend) }
            @for (i, name) in names.iter().enumerate() {
                @let art9 = app.convenant.categories.iter().any(|c| c.name == *name && c.art9);
                div.check {
                    input type="checkbox" id=(format!("{prefix}{i}")) name="category" value=(name) checked[ticked.contains(name)];
                    label for=(format!("{prefix}{i}")) {
                        (category_text(app, name))
                        @if art9 { " " em { (lang.t("(bijzonder persoonsgegeven)", "(special category)")) } }
                    }
                }
            }
        }
    }
}

/// Organisation names from the sociale kaart, by OIN (empty when the hub cannot answer: the
/// OIN is shown instead).
async fn names(app: &App, a: &Authed, sector: Option<pb::Sector>) -> HashMap<String, String> {
    let Ok(mut hub) = app.hub_as(&a.session.professional) else {
        return HashMap::new();
    };
    directory(&mut hub, app.oin(), sector)
        .await
        .map(|orgs| orgs.into_iter().map(|o| (o.oin, o.name)).collect())
        .unwrap_or_default()
}

fn org_name(names: &HashMap<String, String>, oin: &str) -> String {
    names.get(oin).cloned().unwrap_or_else(|| oin.to_owned())
}

// ---------------------------------------------------------------------------------------------
// The melding's page: Fase.

/// The melding's stages and the form for the next; with whether it is under assessment.
pub(super) async fn stage_section(
    app: &App,
    a: &Authed,
    m: &Melding,
    f: &FormData,
) -> (Markup, bool) {
    let lang = a.lang();
    let stages = information::stages(app, &a.session.professional, m).await;
    let under = stages.as_ref().is_ok_and(|s| s.under_assessment);
    let closed = stages
        .as_ref()
        .is_ok_and(|s| s.current == pb::MeldingStage::Afgesloten as i32);
    let chosen = f.get("stage");
    let roles = vt_roles(app, a);
    let markup = html! {
        section aria-labelledby="fase" {
            h2 id="fase" { (lang.t("Fase", "Stage")) }
            @match &stages {
                Ok(s) => {
                    p {
                        strong { (lang.t("Nu: ", "Now: ")) (stage_text(lang, s.current)) }
                        " — "
                        @if s.under_assessment {
                            (lang.t("in beoordeling: Veilig Thuis kan informatie vragen.", "under assessment: Veilig Thuis may ask for information."))
                        } @else {
                            (lang.t("niet in beoordeling: Veilig Thuis kan nu geen informatie vragen.", "not under assessment: Veilig Thuis cannot ask for information now."))
                        }
                    }
                    @if s.history.is_empty() {
                        p { (lang.t("Nog geen fase vastgelegd: de melding is in triage sinds zij binnenkwam.", "No stage recorded yet: the melding is in triage since it arrived.")) }
                    } @else {
                        table {
                            caption.visually-hidden { (lang.t("Verloop van de fasen, oudste eerst", "Stages, oldest first")) }
                            thead { tr {
                                th scope="col" { (lang.t("Fase", "Stage")) }
                                th scope="col" { (lang.t("Sinds", "Since")) }
                                th scope="col" { (lang.t("Herbeoordeling", "Review")) }
                                th scope="col" { (lang.t("Stand van de herbeoordeling", "Review state")) }
                                th scope="col" { (lang.t("Rol", "Role")) }
                            } }
                            tbody { @for h in &s.history { tr {
                                td { (stage_text(lang, h.stage)) }
                                td { (h.since.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
                                td { (h.review_at.as_ref().map_or_else(|| "—".to_owned(), |t| date(lang, t.seconds))) }
                                td { (review_state_text(lang, &h.review_state)) }
                                td { (h.role) }
                            } } }
                        }
                    }
                }
                Err(e) => (Problem::from_client(lang, e).render()),
            }
            @if closed {
                p { (lang.t("De melding is afgesloten; dat is definitief. Een nieuwe melding begint opnieuw.", "The melding is closed; that is final. A new melding starts again.")) }
            } @else {
                form method="post" action=(format!("{}/fase", m.path())) {
                    input type="hidden" name="csrf" value=(a.session.csrf);
                    fieldset.group {
                        legend { (lang.t("Volgende fase", "Next stage")) }
                        @for (i, (name, _, nl, en)) in STAGES.iter().enumerate() {
                            div.check {
                                input type="radio" id=(format!("stage{i}")) name="stage" value=(name) checked[*name == chosen];
                                label for=(format!("stage{i}")) { (lang.t(nl, en)) }
                            }
                        }
                    }
                    label for="review_date" { (lang.t("Volgende herbeoordeling (datum)", "Next review (date)")) }
                    input type="date" id="review_date" name="review_date" value=(f.get("review_date")) aria-describedby="review-hint";
                    p.hint id="review-hint" { (lang.t(
                        "Verplicht bij monitoring, niet bij afgesloten; na vandaag en binnen twee jaar. Op die dag meldt de hub het onder Berichten.",
                        "Required for monitoring, not for closed; after today and within two years. On that day the hub says so under Notifications.",
                    )) }
                    (role_select_as(lang, &roles, f.get("role"), "stage-role"))
                    div.actions { button.primary type="submit" { (lang.t("Fase vastleggen", "Record the stage")) } }
                }
            }
        }
    };
    (markup, under)
}

/// `POST /melding/.../fase`.
pub(super) async fn set_stage(
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
    let stage = information::stage_named(f.get("stage"));
    let typed = f.get("review_date");
    let review = information::review_date(typed);
    let mut missing = Vec::new();
    if stage.is_none() {
        missing.push(lang.t(
            "Fase: kies de volgende fase.",
            "Stage: choose the next stage.",
        ));
    }
    if !typed.is_empty() && review.is_none() {
        missing.push(lang.t(
            "Herbeoordeling: een datum als 2027-03-01.",
            "Review: a date such as 2027-03-01.",
        ));
    }
    if !missing.is_empty() {
        let title = lang.t(
            "De fase is niet vastgelegd; vul aan:",
            "The stage was not recorded; please complete:",
        );
        let items = missing.into_iter().map(str::to_owned).collect();
        return incomplete(&app, &a, &p, &f, title, items).await;
    }
    let stage = stage.unwrap_or(pb::MeldingStage::Unspecified);
    let role = chosen_role(&vt_roles(&app, &a), f.get("role"));
    match information::set_stage(&app, &a.session.professional, &m, stage, review, &role).await {
        Ok(_) => Redirect::to(&format!("{}#fase", m.path())).into_response(),
        Err(e) => {
            let problem = Problem::from_client(lang, &e).render();
            show(&app, &a, &p, Some(problem), &f, StatusCode::OK).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The melding's page: Informatie vragen.

fn answer_cell(lang: Lang, r: &ReadRequest) -> Markup {
    let (q, opened) = r;
    html! {
        @match opened {
            Some(Ok(text)) => blockquote { (text) },
            Some(Err(_)) => p.problem { (lang.t("Het antwoord kon niet worden geopend (de handtekening of de koppeling klopt niet).", "The answer could not be opened (its signature or binding is wrong).")) },
            None if q.state == pb::InformationRequestState::Declined as i32 => {
                (lang.t("Reden: ", "Reason: ")) (decline_text(lang, q))
            },
            None => "—",
        }
    }
}

/// The requests sent about `m` (answers opened here, logged first) and the form to ask.
/// `Err`: the page to answer instead (503: the audit log cannot be written, nothing was opened).
pub(super) async fn request_section(
    app: &App,
    a: &Authed,
    m: &Melding,
    f: &FormData,
    case: &str,
    under_assessment: bool,
) -> Result<Markup, Response> {
    let lang = a.lang();
    let sent = match information::sent(app, &a.session.professional, Some(m)).await {
        Ok(l) => Ok(l),
        Err(ReadProblem::Audit(e)) => {
            tracing::warn!(error = %e, "information: audit log");
            return Err(problem_page(
                app,
                a,
                StatusCode::SERVICE_UNAVAILABLE,
                lang.t("Triage", "Triage"),
                lang.t(
                    "Het auditlog kan nu niet worden geschreven; daarom zijn de antwoorden op de informatieverzoeken niet geopend.",
                    "The audit log cannot be written now, so the answers to the information requests were not opened.",
                ),
            ));
        }
        Err(ReadProblem::Hub(e)) => Err(Problem::from_client(lang, &e)),
    };
    let mut orgs = match app.hub_as(&a.session.professional) {
        Ok(mut hub) => directory(&mut hub, app.oin(), None)
            .await
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let sectors = information::askable_sectors(app);
    orgs.retain(|o| sectors.contains(&o.sector_name));
    let names: HashMap<String, String> = orgs
        .iter()
        .map(|o| (o.oin.clone(), o.name.clone()))
        .collect();
    let request_id = if f.get("request_id").is_empty() {
        sealed::new_signal_id()
            .map(|id| id.replacen("sig-", "iv-", 1))
            .unwrap_or_default()
    } else {
        f.get("request_id").to_owned()
    };
    let askable = information::askable_categories(app);
    let roles = vt_roles(app, a);
    Ok(html! {
        section aria-labelledby="informatie" {
            h2 id="informatie" { (lang.t("Informatie vragen", "Ask for information")) }
            p { (lang.t(
                "Zolang Veilig Thuis de melding beoordeelt, vraagt zij beroepskrachten om informatie (Wmo 2015 art. 4.1.1). De organisatie krijgt de vraag versleuteld en hoort niet om welke melding het gaat.",
                "While Veilig Thuis assesses the melding it asks professionals for information (Wmo 2015 art. 4.1.1). The organisation gets the question sealed and does not learn which melding it concerns.",
            )) }
            @match &sent {
                Ok(list) if list.is_empty() => p { (lang.t("Nog geen informatie gevraagd over deze melding.", "No information asked about this melding yet.")) },
                Ok(list) => table {
                    caption.visually-hidden { (lang.t("Verzonden informatieverzoeken, nieuwste eerst", "Information requests sent, newest first")) }
                    thead { tr {
                        th scope="col" { (lang.t("Gevraagd", "Asked")) }
                        th scope="col" { (lang.t("Aan", "To")) }
                        th scope="col" { (lang.t("Waarom", "For")) }
                        th scope="col" { (lang.t("Stand", "State")) }
                        th scope="col" { (lang.t("Antwoord", "Answer")) }
                    } }
                    tbody { @for r in list { @let q = &r.0; tr {
                        td { (q.requested_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) br; small { code { (q.request_id) } } }
                        td { (org_name(&names, &q.recipient_oin)) }
                        td { (categories_text(app, &q.categories)) br; small { (lang.t("dossier ", "case ")) (q.case_reference) } }
                        td { (state_text(lang, q.state))
                            @if let Some(t) = &q.answered_at { br; small { (when(lang, t.seconds)) } } }
                        td { (answer_cell(lang, r))
                            @if !q.answer_categories.is_empty() { small { (lang.t("Gegevens: ", "Data: ")) (categories_text(app, &q.answer_categories)) } } }
                    } } }
                },
                Err(p) => (p.render()),
            }
            @if !under_assessment {
                p.warn { (lang.t(
                    "De melding is nu niet in beoordeling (overgedragen of afgesloten): de hub weigert een nieuw verzoek. Leg eerst een fase in beoordeling vast (triage, onderzoek of monitoring).",
                    "The melding is not under assessment now (handed over or closed): the hub refuses a new request. First record a stage under assessment (triage, investigation or monitoring).",
                )) }
            }
            form method="post" action=(format!("{}/informatie", m.path())) {
                input type="hidden" name="csrf" value=(a.session.csrf);
                input type="hidden" name="request_id" value=(request_id);
                label for="iv-recipient" { (lang.t("Organisatie (sociale kaart)", "Organisation (sociale kaart)")) }
                select id="iv-recipient" name="recipient" required {
                    option value="" { (lang.t("— kies —", "— choose —")) }
                    @for o in &orgs {
                        option value=(o.oin) selected[o.oin == f.get("recipient")] {
                            (o.name) " — " (o.sector_name) " (" (o.region) ")"
                        }
                    }
                }
                (category_boxes(app, lang, lang.t("Waar vraagt u om", "What you ask for"), &askable, &f.all("category"), "iv-cat"))
                label for="iv-case" { (lang.t("Dossiernummer bij dit verzoek (het antwoord noemt het)", "Case reference for this request (the answer names it)")) }
                input id="iv-case" name="case_reference" value=(case) maxlength="64" required;
                fieldset.group {
                    legend { (lang.t("Is het gezin op de hoogte van de melding?", "Is the family aware of the melding?")) }
                    div.check {
                        input type="radio" id="iv-informed-ja" name="iv_informed" value="ja" checked[f.get("iv_informed") == "ja"];
                        label for="iv-informed-ja" { (lang.t("Ja", "Yes")) }
                    }
                    div.check {
                        input type="radio" id="iv-informed-nee" name="iv_informed" value="nee" checked[f.get("iv_informed") == "nee"];
                        label for="iv-informed-nee" { (lang.t("Nee", "No")) }
                    }
                    label for="iv-reason" { (lang.t("Zo nee, waarom niet", "If not, why not")) }
                    select id="iv-reason" name="iv_not_informed_reason" {
                        option value="" { (lang.t("— kies —", "— choose —")) }
                        @for r in signaalhub_policy::reasons::NOT_INFORMED {
                            option value=(r.code) selected[f.get("iv_not_informed_reason") == r.code] { (lang.t(r.nl, r.en)) }
                        }
                    }
                }
                label for="iv-question" { (lang.t("Uw vraag", "Your question")) }
                textarea id="iv-question" name="question" rows="4" maxlength=(information::TEXT_MAX) aria-describedby="iv-question-hint" { (f.raw("question")) }
                p.hint id="iv-question-hint" { (lang.t(
                    "Alleen de gevraagde organisatie kan de vraag lezen: de gateway versleutelt haar hier. Noem de melder niet.",
                    "Only the organisation asked can read the question: the gateway seals it here. Do not name the melder.",
                )) }
                (role_select_as(lang, &roles, f.get("role"), "iv-role"))
                div.actions { button.primary type="submit" { (lang.t("Informatie vragen", "Ask for information")) } }
            }
        }
    })
}

/// `POST /melding/.../informatie`.
pub(super) async fn ask(
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
    let d = RequestDraft {
        request_id: f.get("request_id").to_owned(),
        recipient: f.get("recipient").to_owned(),
        categories: f.all("category"),
        case_reference: f.get("case_reference").to_owned(),
        question: f.raw("question"),
        client_informed: f.get("iv_informed") == "ja",
        not_informed_reason: f.get("iv_not_informed_reason").to_owned(),
    };
    // Not chosen at all: ask that, not yet why not.
    let informed_chosen = matches!(f.get("iv_informed"), "ja" | "nee");
    let mut missing: Vec<String> = d
        .problems(&information::askable_categories(&app))
        .into_iter()
        .filter(|p| informed_chosen || *p != DraftProblem::NotInformedReason)
        .map(|p| match lang {
            Lang::Nl => p.describe(true).to_owned(),
            Lang::En => format!("{}: {}", p.field(false), p.describe(false)),
        })
        .collect();
    if !informed_chosen {
        missing.push(
            lang.t(
                "Gezin: geef aan of het gezin van de melding weet.",
                "Family: say whether the family knows of the melding.",
            )
            .to_owned(),
        );
    }
    if !missing.is_empty() {
        let title = lang.t(
            "Er is niets gevraagd; vul aan:",
            "Nothing was asked; please complete:",
        );
        return incomplete(&app, &a, &p, &f, title, missing).await;
    }
    let role = chosen_role(&vt_roles(&app, &a), f.get("role"));
    match information::request(&app, &a.session.professional, &m, &d, &role).await {
        Ok(_) => Redirect::to(&format!("{}#informatie", m.path())).into_response(),
        Err(e) => {
            let problem = Problem::from_client(lang, &e).render();
            show(&app, &a, &p, Some(problem), &f, StatusCode::OK).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Vragen van Veilig Thuis (the organisation asked).

fn title(lang: Lang) -> &'static str {
    lang.t("Vragen van Veilig Thuis", "Questions from Veilig Thuis")
}

/// The refusal for anyone without a role that answers Veilig Thuis (e.g. the FG).
fn not_answering(app: &App, a: &Authed) -> Option<Response> {
    let lang = a.lang();
    let why = lang.t(
        "Vragen van Veilig Thuis zijn voor professionals in een rol van het convenant die Veilig Thuis informatie mogen geven.",
        "Questions from Veilig Thuis are for professionals in a convenant role that may give Veilig Thuis information.",
    );
    refused_unless(
        app,
        a,
        information::may_answer(app, &a.session.professional),
        title(lang),
        why,
    )
}

fn not_found(app: &App, a: &Authed) -> Response {
    let lang = a.lang();
    problem_page(
        app,
        a,
        StatusCode::NOT_FOUND,
        title(lang),
        lang.t(
            "Dit verzoek is er niet, of is niet aan uw organisatie gericht.",
            "This request does not exist, or is not addressed to your organisation.",
        ),
    )
}

fn request_path(q: &pb::InformationRequest) -> String {
    format!(
        "/informatieverzoeken/{}/{}",
        q.veilig_thuis_oin, q.request_id
    )
}

/// `GET /informatieverzoeken`: the requests received, newest first (questions still sealed).
pub(super) async fn list(State(app): State<Arc<App>>, a: Authed) -> Response {
    if let Some(refused) = not_answering(&app, &a) {
        return refused;
    }
    let lang = a.lang();
    let received = information::received(&app, &a.session.professional).await;
    let names = names(&app, &a, Some(pb::Sector::VeiligThuis)).await;
    let body = html! {
        p { (lang.t(
            "Veilig Thuis vraagt u om informatie bij de beoordeling van een melding (Wmo 2015 art. 4.1.1). U mag antwoorden zonder toestemming van het gezin, ook met een beroepsgeheim (art. 5.2.6), of weigeren met een reden. Om welke melding het gaat en wie meldde, hoort u niet.",
            "Veilig Thuis asks you for information while assessing a melding (Wmo 2015 art. 4.1.1). You may answer without the family's consent, also under professional secrecy (art. 5.2.6), or decline with a reason. Which melding it concerns and who reported, you do not learn.",
        )) }
        @match &received {
            Ok(list) if list.is_empty() => p { (lang.t("Geen vragen van Veilig Thuis.", "No questions from Veilig Thuis.")) },
            Ok(list) => table {
                caption.visually-hidden { (lang.t("Ontvangen informatieverzoeken, nieuwste eerst", "Information requests received, newest first")) }
                thead { tr {
                    th scope="col" { (lang.t("Ontvangen", "Received")) }
                    th scope="col" { (lang.t("Van", "From")) }
                    th scope="col" { (lang.t("Gevraagd", "Asked for")) }
                    th scope="col" { (lang.t("Stand", "State")) }
                    th scope="col" { (lang.t("Vraag", "Question")) }
                } }
                tbody { @for q in list { tr {
                    td { (q.requested_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
                    td { (org_name(&names, &q.veilig_thuis_oin)) br; small { (lang.t("dossier ", "case ")) (q.case_reference) } }
                    td { (categories_text(&app, &q.categories)) }
                    td { (state_text(lang, q.state)) }
                    td { a href=(request_path(q)) {
                        @if q.state == pb::InformationRequestState::Open as i32 { (lang.t("Openen en beantwoorden", "Open and answer")) } @else { (lang.t("Openen", "Open")) }
                        span.visually-hidden { " " (q.request_id) }
                    } }
                } } }
            },
            Err(e) => (Problem::from_client(lang, e).render()),
        }
    };
    page(&app, &a, title(lang), body).into_response()
}

/// `GET /informatieverzoeken/{vt}/{id}`: one request, its question opened here.
pub(super) async fn view(
    State(app): State<Arc<App>>,
    a: Authed,
    Path((vt, id)): Path<(String, String)>,
) -> Response {
    render(
        &app,
        &a,
        &vt,
        &id,
        None,
        &FormData::default(),
        StatusCode::OK,
    )
    .await
}

async fn render(
    app: &App,
    a: &Authed,
    vt: &str,
    id: &str,
    notice: Option<Markup>,
    f: &FormData,
    status: StatusCode,
) -> Response {
    if let Some(refused) = not_answering(app, a) {
        return refused;
    }
    let lang = a.lang();
    if !actions::valid_received_key(vt, id) {
        return not_found(app, a);
    }
    let (q, question) = match information::open_received(app, &a.session.professional, vt, id).await
    {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(app, a),
        Err(ReadProblem::Audit(e)) => {
            tracing::warn!(error = %e, "information: audit log");
            return problem_page(
                app,
                a,
                StatusCode::SERVICE_UNAVAILABLE,
                title(lang),
                lang.t(
                    "Het auditlog kan nu niet worden geschreven; daarom is de vraag niet geopend.",
                    "The audit log cannot be written now, so the question was not opened.",
                ),
            );
        }
        Err(ReadProblem::Hub(e)) => {
            let body = Problem::from_client(lang, &e).render();
            return (status, page(app, a, title(lang), body)).into_response();
        }
    };
    let names = names(app, a, Some(pb::Sector::VeiligThuis)).await;
    let open = q.state == pb::InformationRequestState::Open as i32;
    let roles = information::answer_roles(app, &a.session.professional);
    let case = if f.get("case_reference").is_empty() {
        q.case_reference.clone()
    } else {
        f.get("case_reference").to_owned()
    };
    let ticked = f.all("category");
    let body = html! {
        @if let Some(n) = notice { (n) }
        p { a href="/informatieverzoeken" { (lang.t("← Alle vragen van Veilig Thuis", "← All questions from Veilig Thuis")) } }
        dl.meta {
            dt { (lang.t("Van", "From")) } dd { (org_name(&names, &q.veilig_thuis_oin)) }
            dt { (lang.t("Ontvangen", "Received")) } dd { (q.requested_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
            dt { (lang.t("Dossiernummer van Veilig Thuis", "Veilig Thuis's case reference")) } dd { (q.case_reference) }
            dt { (lang.t("Gevraagd", "Asked for")) } dd { (categories_text(app, &q.categories)) }
            dt { (lang.t("Stand", "State")) } dd { (state_text(lang, q.state))
                @if let Some(t) = &q.answered_at { ", " (when(lang, t.seconds)) } }
            @if q.state == pb::InformationRequestState::Declined as i32 {
                dt { (lang.t("Reden", "Reason")) } dd { (decline_text(lang, &q)) }
            }
            @if !q.answer_categories.is_empty() {
                dt { (lang.t("Ons antwoord bevatte", "Our answer carried")) } dd { (categories_text(app, &q.answer_categories)) }
            }
        }
        section aria-labelledby="vraag" {
            h2 id="vraag" { (lang.t("De vraag", "The question")) }
            @match &question {
                Some(Ok(text)) => {
                    p.verified { (lang.t("Handtekening van Veilig Thuis geverifieerd.", "Veilig Thuis's signature verified.")) }
                    blockquote { (text) }
                },
                Some(Err(_)) => p.problem { (lang.t("De vraag kon niet worden geopend (de handtekening of de koppeling klopt niet).", "The question could not be opened (its signature or binding is wrong).")) },
                None => p { (lang.t("Er is geen vraag bij dit verzoek.", "There is no question with this request.")) },
            }
        }
        @if open {
            section aria-labelledby="antwoord" {
                h2 id="antwoord" { (lang.t("Antwoorden", "Answer")) }
                form method="post" action=(request_path(&q)) {
                    input type="hidden" name="csrf" value=(a.session.csrf);
                    (category_boxes(app, lang, lang.t("Wat uw antwoord bevat (alleen waar Veilig Thuis om vroeg)", "What your answer carries (only what Veilig Thuis asked for)"), &q.categories, &ticked, "ans-cat"))
                    label for="ans-case" { (lang.t("Dossiernummer van Veilig Thuis (uit het verzoek)", "Veilig Thuis's case reference (from the request)")) }
                    input id="ans-case" name="case_reference" value=(case) maxlength="64" required;
                    label for="ans-text" { (lang.t("Uw antwoord", "Your answer")) }
                    textarea id="ans-text" name="answer" rows="5" maxlength=(information::TEXT_MAX) aria-describedby="ans-hint" { (f.raw("answer")) }
                    p.hint id="ans-hint" { (lang.t(
                        "Alleen Veilig Thuis kan het antwoord lezen: de gateway versleutelt het hier. Geef alleen wat nodig is voor de veiligheid; u antwoordt één keer.",
                        "Only Veilig Thuis can read the answer: the gateway seals it here. Give only what safety needs; you answer once.",
                    )) }
                    (role_select_as(lang, &roles, f.get("role"), "ans-role"))
                    div.actions { button.primary type="submit" name="action" value="answer" { (lang.t("Antwoord versturen", "Send the answer")) } }
                }
            }
            section aria-labelledby="weigeren" {
                h2 id="weigeren" { (lang.t("Weigeren", "Decline")) }
                form method="post" action=(request_path(&q)) {
                    input type="hidden" name="csrf" value=(a.session.csrf);
                    label for="decline_reason" { (lang.t("Reden", "Reason")) }
                    select id="decline_reason" name="decline_reason" required {
                        option value="" { (lang.t("— kies —", "— choose —")) }
                        @for (name, _, nl, en) in DECLINE_REASONS { option value=(name) selected[*name == f.get("decline_reason")] { (lang.t(nl, en)) } }
                    }
                    p.hint { (lang.t("Uw afweging hoort in uw eigen dossier; de hub bewaart alleen de reden uit deze lijst.", "Your weighing belongs in your own file; the hub keeps only the reason from this list.")) }
                    (role_select_as(lang, &roles, f.get("role"), "decline-role"))
                    div.actions { button type="submit" name="action" value="decline" { (lang.t("Verzoek weigeren", "Decline the request")) } }
                }
            }
        }
    };
    (status, page(app, a, title(lang), body)).into_response()
}

/// `POST /informatieverzoeken/{vt}/{id}`: `action` = `answer` or `decline`.
pub(super) async fn reply(
    State(app): State<Arc<App>>,
    a: Authed,
    Path((vt, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let lang = a.lang();
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    if let Some(refused) = not_answering(&app, &a) {
        return refused;
    }
    if !actions::valid_received_key(&vt, &id) {
        return not_found(&app, &a);
    }
    let r = match f.get("action") {
        "decline" => match information::decline_named(f.get("decline_reason")) {
            Some(reason) => Reply::Decline(reason),
            None => {
                let p = Problem::new(lang.t(
                    "Er is niets geweigerd: kies een reden uit de lijst.",
                    "Nothing was declined: choose a reason from the list.",
                ));
                let status = StatusCode::UNPROCESSABLE_ENTITY;
                return render(&app, &a, &vt, &id, Some(p.render()), &f, status).await;
            }
        },
        _ => Reply::Answer {
            text: f.raw("answer"),
            categories: f.all("category"),
            case_reference: f.get("case_reference").to_owned(),
        },
    };
    // The categories asked for are the request's: the hub checks them again.
    let asked: Vec<String> = match information::received(&app, &a.session.professional).await {
        Ok(list) => list
            .into_iter()
            .find(|q| q.veilig_thuis_oin == vt && q.request_id == id)
            .map(|q| q.categories)
            .unwrap_or_default(),
        Err(_) => f.all("category"),
    };
    let missing: Vec<String> = r
        .problems(&asked)
        .into_iter()
        .map(|p| match p {
            DraftProblem::Categories => lang
                .t(
                    "Gegevens: kies wat uw antwoord bevat, alleen waar Veilig Thuis om vroeg.",
                    "Data: choose what your answer carries, only what Veilig Thuis asked for.",
                )
                .to_owned(),
            DraftProblem::CaseReference => lang
                .t(
                    "Dossiernummer: het nummer van Veilig Thuis uit het verzoek (geen naam of BSN).",
                    "Case reference: Veilig Thuis's number from the request (no name or BSN).",
                )
                .to_owned(),
            p => match lang {
                Lang::Nl => p.describe(true).to_owned(),
                Lang::En => format!("{}: {}", p.field(true), p.describe(false)),
            },
        })
        .collect();
    if !missing.is_empty() {
        let p = Problem {
            title: lang
                .t(
                    "Er is niets verstuurd; vul aan:",
                    "Nothing was sent; please complete:",
                )
                .into(),
            items: missing,
        };
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return render(&app, &a, &vt, &id, Some(p.render()), &f, status).await;
    }
    let roles = information::answer_roles(&app, &a.session.professional);
    let role = chosen_role(&roles, f.get("role"));
    match information::reply(&app, &a.session.professional, &vt, &id, &r, &role).await {
        Ok(_) => Redirect::to(&format!("/informatieverzoeken/{vt}/{id}")).into_response(),
        Err(e) => {
            let p = Problem::from_client(lang, &e).render();
            render(&app, &a, &vt, &id, Some(p), &f, StatusCode::OK).await
        }
    }
}
