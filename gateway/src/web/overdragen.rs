//! *Overdragen* (Veilig Thuis): hand a triaged melding over to a wijkteam. The form: the
//! wijkteam from the sociale kaart, the persons, the categories the convenant's handover flow
//! allows, the zorgmelding's fragments to pass on, the family's consents on record (or record
//! one), whether the family was told, and the contact persons at both ends. On *Overdragen* the
//! gateway opens the melding with the organisation's key and re-seals it for the wijkteam; the
//! hub decides, and a refusal is shown in Dutch. The handover id is chosen when the form first
//! opens, so a retry is the same handover.
use super::disclosure::{
    category_checks, consent_checks_or, holders, recipient_select, role_select,
};
use super::layout::page;
use super::problem::Problem;
use super::signal::FormData;
use super::triage::{
    chosen_role, is_here, melding_not_found, melding_of, not_veilig_thuis, vt_roles,
};
use super::{Authed, bsn_field, csrf_refused};
use crate::actions::{self, ConsentDraft, SignalDraft};
use crate::app::App;
use crate::handover::{self, HandoverDraft, HandoverProblem, Melding};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use signaalhub_client::sealed;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::zorgmelding::HANDOVER_PURPOSE;
use std::collections::HashMap;
use std::sync::Arc;

/// At most this many persons per handover (the hub's limit).
const MAX_PERSONS: usize = 8;

/// The convenant's handover flow: its categories and its legal basis.
fn flow(app: &App) -> (Vec<String>, String) {
    handover::handover_flow(app)
}

/// A contact person from the form's fields `<prefix>_name`, `_function`, `_phone`, `_email`.
fn contact(f: &FormData, prefix: &str) -> pb::ContactPerson {
    pb::ContactPerson {
        name: f.get(&format!("{prefix}_name")).to_owned(),
        function: f.get(&format!("{prefix}_function")).to_owned(),
        phone: f.get(&format!("{prefix}_phone")).to_owned(),
        email: f.get(&format!("{prefix}_email")).to_owned(),
    }
}

/// The persons as typed (comma-separated BSNs), each checked; the problems in `lang`.
pub(super) fn persons(lang: super::i18n::Lang, typed: &str) -> Result<Vec<String>, Vec<String>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for one in typed
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match bsn_field(lang, one) {
            Ok(b) if !out.contains(&b) => out.push(b),
            Ok(_) => {}
            Err(p) => problems.push(p),
        }
    }
    if out.is_empty() && problems.is_empty() {
        problems.push(actions::BsnIssue::Empty.describe(lang).to_owned());
    }
    if out.len() > MAX_PERSONS {
        problems.push(
            lang.t(
                "BSN: hoogstens 8 personen per overdracht.",
                "BSN: at most 8 persons per handover.",
            )
            .to_owned(),
        );
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The form as posted (or its defaults).
fn draft_of(app: &App, a: &Authed, f: &FormData, bsns: Vec<String>) -> HandoverDraft {
    let (_, basis) = flow(app);
    HandoverDraft {
        handover_id: f.get("handover_id").to_owned(),
        recipient: f.get("recipient").to_owned(),
        bsns,
        categories: f.all("category"),
        fragments: f
            .all("fragment")
            .iter()
            .filter_map(|n| n.parse().ok())
            .collect(),
        basis,
        case_reference: f.get("case_reference").to_owned(),
        client_informed: f.get("informed") == "ja",
        consents: f.all("consent"),
        vt_contact: contact(f, "vt"),
        wijkteam_contact: contact(f, "wt"),
        role: chosen_role(&vt_roles(app, a), f.get("role")),
    }
}

/// `GET /melding/.../overdragen`.
pub async fn form(
    State(app): State<Arc<App>>,
    a: Authed,
    Path(p): Path<HashMap<String, String>>,
) -> Response {
    let lang = a.lang();
    let title = lang.t("Overdragen", "Hand over");
    if let Some(refused) = not_veilig_thuis(&app, &a, title) {
        return refused;
    }
    let Some(m) = melding_of(&p) else {
        return melding_not_found(&app, &a, title);
    };
    if !is_here(&app, &m).await {
        return melding_not_found(&app, &a, title);
    }
    let Ok(id) = sealed::new_signal_id() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let case = handover::triage_of(&app, &a.session.professional, &m)
        .await
        .ok()
        .and_then(|r| r.triage)
        .map(|t| t.case_reference)
        .unwrap_or_default();
    let (categories, _) = flow(&app);
    let mut f = vec![
        ("handover_id".to_owned(), id.replacen("sig-", "ho-", 1)),
        ("case_reference".to_owned(), case),
        ("informed".to_owned(), "ja".to_owned()),
        ("consent_months".to_owned(), "6".to_owned()),
    ];
    // A signal melding's categories, as the melder sent them, are a sensible start.
    if let Melding::Signal { sender, id } = &m
        && let Ok(Some(r)) = app.store.get_received(sender, id).await
    {
        f.extend(
            r.categories
                .into_iter()
                .filter(|c| categories.contains(c))
                .map(|c| ("category".to_owned(), c)),
        );
    }
    render(
        &app,
        &a,
        &m,
        &FormData::from_pairs(f),
        None,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /melding/.../overdragen`: `action` = `consents` (look the family's consents up),
/// `consent` (record one) or `send`.
pub async fn submit(
    State(app): State<Arc<App>>,
    a: Authed,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let lang = a.lang();
    let title = lang.t("Overdragen", "Hand over");
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    if let Some(refused) = not_veilig_thuis(&app, &a, title) {
        return refused;
    }
    let Some(m) = melding_of(&p) else {
        return melding_not_found(&app, &a, title);
    };
    let bsns = match persons(lang, f.get("bsn")) {
        Ok(b) => b,
        Err(items) => {
            let p = Problem {
                title: lang.t("Vul aan:", "Please complete:").into(),
                items,
            };
            return render(
                &app,
                &a,
                &m,
                &f,
                Some(p.render()),
                Vec::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let d = draft_of(&app, &a, &f, bsns);
    let (consents, listed) = consents_for(&app, &a, &d).await;
    match f.get("action") {
        "send" => {}
        "consent" => {
            // Recorded: ticked at once, so the next step is Overdragen.
            let (f, notice) = match record_consent(&app, &a, &f, &d).await {
                Ok(c) => {
                    let notice = html! { p.notice role="status" { (lang.t("Toestemming vastgelegd: ", "Consent recorded: ")) code { (c.consent_id) } } };
                    (f.with("consent", &c.consent_id), notice)
                }
                Err(p) => (f, p.render()),
            };
            let (consents, listed) = consents_for(&app, &a, &d).await;
            let notice = html! { (notice) @if let Some(p) = listed { (p.render()) } };
            return render(&app, &a, &m, &f, Some(notice), consents, StatusCode::OK).await;
        }
        _ => {
            let notice = listed.map(|p| p.render());
            return render(&app, &a, &m, &f, notice, consents, StatusCode::OK).await;
        }
    }
    let mut missing = Vec::new();
    let mut need = |nl: &'static str, en: &'static str| missing.push(lang.t(nl, en).to_owned());
    if !sealed::is_oin(&d.recipient) {
        need(
            "Wijkteam: kies het wijkteam.",
            "Wijkteam: choose the wijkteam.",
        );
    }
    if d.categories.is_empty() {
        need(
            "Gegevens: kies minstens één categorie.",
            "Data: choose at least one category.",
        );
    }
    if d.case_reference.is_empty() {
        need(
            "Dossiernummer: vul het nummer in uw eigen dossier in.",
            "Case reference: enter the number in your own file.",
        );
    }
    if d.vt_contact.name.is_empty() || d.wijkteam_contact.name.is_empty() {
        need(
            "Contactpersonen: vul bij Veilig Thuis en bij het wijkteam een naam in, met telefoon of e-mail.",
            "Contact persons: enter a name at Veilig Thuis and at the wijkteam, with a phone or e-mail.",
        );
    }
    if !sealed::valid_signal_id(&d.handover_id) {
        need(
            "Het formulier is beschadigd; open het opnieuw.",
            "The form is damaged; open it again.",
        );
    }
    if !missing.is_empty() {
        let p = Problem {
            title: lang
                .t(
                    "Er is niets overgedragen; vul aan:",
                    "Nothing was handed over; please complete:",
                )
                .into(),
            items: missing,
        };
        return render(
            &app,
            &a,
            &m,
            &f,
            Some(p.render()),
            consents,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match handover::hand_over(&app, &a.session.professional, &m, &d).await {
        Ok(r) => {
            let id = r
                .handover
                .map(|h| h.handover_id)
                .unwrap_or(d.handover_id.clone());
            Redirect::to(&format!("/overdracht/{}/{id}", app.oin())).into_response()
        }
        Err(e) => {
            let p = handover_problem(lang, e);
            render(&app, &a, &m, &f, Some(p.render()), consents, StatusCode::OK).await
        }
    }
}

fn handover_problem(lang: super::i18n::Lang, e: HandoverProblem) -> Problem {
    match e {
        HandoverProblem::Hub(e) => Problem::from_client(lang, &e),
        HandoverProblem::NotFound => Problem::new(lang.t(
            "Deze melding is er niet (meer).",
            "This melding is not (or no longer) here.",
        )),
        HandoverProblem::Store(e) => {
            tracing::warn!(error = %e, "handover: store or audit log");
            Problem::new(lang.t(
                "Het inzagelog kan nu niet worden bijgewerkt; daarom is de melding niet geopend en niets overgedragen.",
                "The access log cannot be written now, so the melding was not opened and nothing was handed over.",
            ))
        }
        HandoverProblem::Unopened(why) => Problem {
            title: lang
                .t(
                    "De melding kon hier niet worden geopend; er is niets overgedragen.",
                    "The melding could not be opened here; nothing was handed over.",
                )
                .into(),
            items: vec![why],
        },
        HandoverProblem::NoSuchFragment(n) => Problem::new(lang.s(
            format!("Fragment {n} hoort niet bij deze zorgmelding."),
            format!("Fragment {n} is not part of this zorgmelding."),
        )),
    }
}

/// The family's consents on record for a handover, for each person (the hub logs the look-up);
/// when the hub cannot answer, why.
async fn consents_for(
    app: &App,
    a: &Authed,
    d: &HandoverDraft,
) -> (Vec<pb::Consent>, Option<Problem>) {
    let lang = a.lang();
    let mut hub = match app.hub_as(&handover::acting_in(&a.session.professional, &d.role)) {
        Ok(h) => h,
        Err(e) => return (Vec::new(), Some(Problem::from_client(lang, &e))),
    };
    let mut out: Vec<pb::Consent> = Vec::new();
    for b in &d.bsns {
        match actions::list_consents(&mut hub, b, false).await {
            Ok(list) => {
                for c in list {
                    if c.purposes.iter().any(|p| p == HANDOVER_PURPOSE)
                        && !out.iter().any(|o| o.consent_id == c.consent_id)
                    {
                        out.push(c);
                    }
                }
            }
            Err(e) => return (out, Some(Problem::from_client(lang, &e))),
        }
    }
    (out, None)
}

/// Records the family's consent to the handover, for the first person, the chosen wijkteam and
/// categories.
async fn record_consent(
    app: &App,
    a: &Authed,
    f: &FormData,
    d: &HandoverDraft,
) -> Result<pb::Consent, Problem> {
    let lang = a.lang();
    let draft = SignalDraft {
        bsn: d.bsns.first().cloned().unwrap_or_default(),
        age: f.get("age").to_owned(),
        gezag: holders(f.get("gezag")),
        recipient: d.recipient.clone(),
        purpose: HANDOVER_PURPOSE.to_owned(),
        categories: d.categories.clone(),
        role: d.role.clone(),
        ..Default::default()
    };
    let missing: Vec<String> = draft
        .problems(actions::Step::RecordConsent, "")
        .into_iter()
        .map(|p| p.describe(lang).to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(Problem {
            title: lang
                .t(
                    "De toestemming is niet vastgelegd; vul aan:",
                    "The consent was not recorded; please complete:",
                )
                .into(),
            items: missing,
        });
    }
    let c = ConsentDraft {
        givers: f.all("giver"),
        whole_sector: false,
        months: f.get("consent_months").parse().unwrap_or(0),
        evidence: f.get("consent_evidence").to_owned(),
        explicit: f.get("consent_explicit") == "on",
        sectors: Vec::new(),
    };
    let mut hub = app
        .hub_as(&a.session.professional)
        .map_err(|e| Problem::from_client(lang, &e))?;
    actions::record_consent(app, &a.session.professional, &mut hub, &draft, &c)
        .await
        .map_err(|e| super::disclosure::consent_problem(lang, e))
}

fn contact_fields(lang: super::i18n::Lang, f: &FormData, prefix: &str, legend: &str) -> Markup {
    let field = |name: &str| format!("{prefix}_{name}");
    html! {
        fieldset {
            legend { (legend) }
            label for=(field("name")) { (lang.t("Naam (zoals het gezin hem of haar aanspreekt)", "Name (as the family addresses them)")) }
            input id=(field("name")) name=(field("name")) value=(f.get(&field("name"))) maxlength="100" autocomplete="off";
            label for=(field("function")) { (lang.t("Functie", "Function")) }
            input id=(field("function")) name=(field("function")) value=(f.get(&field("function"))) maxlength="100";
            label for=(field("phone")) { (lang.t("Telefoon", "Phone")) }
            input id=(field("phone")) name=(field("phone")) value=(f.get(&field("phone"))) maxlength="40" inputmode="tel";
            label for=(field("email")) { (lang.t("E-mail", "E-mail")) }
            input id=(field("email")) name=(field("email")) value=(f.get(&field("email"))) maxlength="200" inputmode="email";
        }
    }
}

async fn render(
    app: &App,
    a: &Authed,
    m: &Melding,
    f: &FormData,
    notice: Option<Markup>,
    consents: Vec<pb::Consent>,
    status: StatusCode,
) -> Response {
    let lang = a.lang();
    let (categories, _) = flow(app);
    let mut outcome = super::disclosure::Outcome::default();
    let orgs =
        super::disclosure::directory_for_page(app, a, Some(pb::Sector::Wijkteam), &mut outcome)
            .await;
    let fragments = match m {
        Melding::Zorgmelding(z) => handover::fragment_list(app, z).await,
        Melding::Signal { .. } => Vec::new(),
    };
    let ticked_fragments = f.all("fragment");
    let gezag = holders(f.get("gezag"));
    let roles = vt_roles(app, a);
    let body = html! {
        @if let Some(n) = notice { (n) }
        @if let Some(p) = &outcome.problem { (p.render()) }
        p { (lang.t("Melding: ", "Melding: ")) a href=(m.path()) { code { (m.reference()) } } }
        form method="post" action=(format!("{}/overdragen", m.path())) novalidate {
            input type="hidden" name="csrf" value=(a.session.csrf);
            input type="hidden" name="handover_id" value=(f.get("handover_id"));
            fieldset {
                legend { (lang.t("Aan welk wijkteam", "To which wijkteam")) }
                (recipient_select(lang, &orgs, f.get("recipient")))
                (role_select(lang, &roles, f.get("role")))
            }
            fieldset {
                legend { (lang.t("Wie wordt overgedragen", "Who is handed over")) }
                label for="bsn" { (lang.t("BSN's (gescheiden door komma's, hoogstens 8)", "BSNs (comma-separated, at most 8)")) }
                input id="bsn" name="bsn" value=(f.get("bsn")) autocomplete="off" spellcheck="false" maxlength="200" aria-describedby="bsn-hint" required;
                (super::subjects_hint(lang, "bsn-hint"))
                label for="age" { (lang.t("Leeftijd van het kind (jaren, voor de toestemming)", "The child's age (years, for the consent)")) }
                input id="age" name="age" value=(f.get("age")) inputmode="numeric" maxlength="3";
                label for="gezag" { (lang.t("Gezaghebbenden (verwijzingen, gescheiden door komma's)", "Holders of gezag (references, comma-separated)")) }
                input id="gezag" name="gezag" value=(f.get("gezag")) placeholder="ouder-1, ouder-2";
            }
            (category_checks(app, lang, &categories, &f.all("category")))
            @if !fragments.is_empty() {
                fieldset.group {
                    legend { (lang.t("Welke fragmenten (niets aangevinkt: alle)", "Which fragments (none ticked: all)")) }
                    @for (seq, kind, cats) in &fragments {
                        div.check {
                            input type="checkbox" id=(format!("frag{seq}")) name="fragment" value=(seq) checked[ticked_fragments.contains(&seq.to_string())];
                            label for=(format!("frag{seq}")) { (seq) ". " (super::zorgmelding::kind_text(lang, *kind)) " (" (cats.join(", ")) ")" }
                        }
                    }
                }
            }
            fieldset {
                legend { (lang.t("Grondslag", "Basis")) }
                label for="case_reference" { (lang.t("Dossiernummer van Veilig Thuis", "Veilig Thuis's case reference")) }
                input id="case_reference" name="case_reference" value=(f.get("case_reference")) maxlength="64" required;
                fieldset.group {
                    legend { (lang.t("Is het gezin ingelicht?", "Was the family told?")) }
                    div.check {
                        input type="radio" id="informed-ja" name="informed" value="ja" checked[f.get("informed") != "nee"];
                        label for="informed-ja" { (lang.t("ja", "yes")) }
                    }
                    div.check {
                        input type="radio" id="informed-nee" name="informed" value="nee" checked[f.get("informed") == "nee"];
                        label for="informed-nee" { (lang.t("nee", "no")) }
                    }
                }
                (consent_checks_or(lang, &consents, &f.all("consent"), lang.t(
                    "Nog geen: vul de BSN's in en kies Toestemmingen ophalen, of leg er hieronder een vast.",
                    "None yet: enter the BSNs and choose Look up consents, or record one below.",
                )))
                div.actions { button type="submit" name="action" value="consents" { (lang.t("Toestemmingen ophalen", "Look up consents")) } }
                details open[consents.is_empty()] {
                    summary { (lang.t("Toestemming van het gezin vastleggen", "Record the family's consent")) }
                    p.hint { (lang.t("Voor de overdracht aan het gekozen wijkteam, de gekozen gegevens en het eerste BSN.", "For the handover to the chosen wijkteam, the chosen data and the first BSN.")) }
                    fieldset.group {
                        legend { (lang.t("Gegeven door", "Given by")) }
                        @for (i, h) in gezag.iter().enumerate() {
                            div.check {
                                input type="checkbox" id=(format!("giver{i}")) name="giver" value=(h) checked[f.all("giver").contains(h)];
                                label for=(format!("giver{i}")) { (h) " " (lang.t("(gezaghebbende)", "(holder of gezag)")) }
                            }
                        }
                        div.check {
                            input type="checkbox" id="giver-kind" name="giver" value="kind" checked[f.all("giver").iter().any(|g| g == "kind")];
                            label for="giver-kind" { (lang.t("het kind zelf", "the child itself")) }
                        }
                    }
                    label for="consent_months" { (lang.t("Geldig (maanden)", "Valid (months)")) }
                    input id="consent_months" name="consent_months" value=(f.get("consent_months")) inputmode="numeric" maxlength="2";
                    label for="consent_evidence" { (lang.t("Bewijs (kenmerk van het getekende formulier)", "Evidence (reference of the signed form)")) }
                    input id="consent_evidence" name="consent_evidence" value=(f.get("consent_evidence")) maxlength="128";
                    div.check {
                        input type="checkbox" id="consent_explicit" name="consent_explicit" checked[f.get("consent_explicit") == "on"];
                        label for="consent_explicit" { (lang.t("uitdrukkelijke toestemming, ook voor bijzondere persoonsgegevens", "explicit consent, also for special categories")) }
                    }
                    button type="submit" name="action" value="consent" { (lang.t("Toestemming vastleggen", "Record consent")) }
                }
            }
            (contact_fields(lang, f, "vt", lang.t("Contactpersoon bij Veilig Thuis", "Contact person at Veilig Thuis")))
            (contact_fields(lang, f, "wt", lang.t("Contactpersoon bij het wijkteam", "Contact person at the wijkteam")))
            p.hint { (lang.t("De melding wordt hier geopend met de sleutel van Veilig Thuis en opnieuw versleuteld voor het wijkteam; de hub ziet de inhoud niet.", "The melding is opened here with Veilig Thuis's key and sealed again for the wijkteam; the hub does not see the content.")) }
            div.actions { button.primary type="submit" name="action" value="send" { (lang.t("Overdragen", "Hand over")) } }
        }
    };
    (
        status,
        page(
            app,
            a,
            lang.t("Overdragen aan het wijkteam", "Hand over to the wijkteam"),
            body,
        ),
    )
        .into_response()
}
