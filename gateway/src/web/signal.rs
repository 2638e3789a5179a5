//! *Nieuw signaal*: the child, the holders of gezag, the consents on record (or recording one),
//! the recipient from the sociale kaart, purpose and categories from the convenant, the text; the
//! convenant's answer (the hub's `CheckBasis`) shown as the form changes; send; then the status
//! per recipient, with recall while undelivered.
//!
//! One form with three buttons (`check`, `consent`, `send`), so nothing typed is lost between
//! steps and every step works without JavaScript. The signal id is chosen when the form is first
//! shown and kept in it, so sending twice (a double click, a retry after a timeout) is one signal.
use super::disclosure::{
    Acted, Outcome, Post, answer_and_buttons, category_checks, check_or_send, consent_checks,
    consent_problem, consent_terms, consents_of, decision_box, directory_for_page, form_head,
    giver_checks, holders, message_fieldset, recipient_select, role_select,
};
use super::i18n::{Lang, when};
use super::layout::page;
use super::problem::Problem;
use super::{Authed, csrf_refused};
use crate::actions::{self, ConsentDraft, SignalDraft, Step};
use crate::app::App;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use signaalhub_client::HubClient;
use signaalhub_client::sealed;
use signaalhub_client::signaalhub_proto::pb;
use std::sync::Arc;

/// A posted form as (name, value) pairs, repeated names kept (checkbox groups).
#[derive(Debug, Default)]
pub struct FormData(Vec<(String, String)>);

impl FormData {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> FormData {
        FormData(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A form from pairs (a form's defaults).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> FormData {
        FormData(pairs)
    }

    /// This form with one more value of `name` (a consent just recorded, ticked).
    pub fn with(mut self, name: &str, value: &str) -> FormData {
        self.0.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The first value of `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// The first value of `name` as sent, untrimmed ("" when absent): a message's text.
    pub fn raw(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Every non-empty value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }
}

/// The form's fields, as typed.
#[derive(Debug, Clone, Default)]
struct SignalForm {
    signal_id: String,
    bsn: String,
    age: String,
    gezag: String,
    recipient: String,
    purpose: String,
    categories: Vec<String>,
    basis: String,
    consents: Vec<String>,
    urgency: String,
    role: String,
    text: String,
    givers: Vec<String>,
    consent_scope: String,
    consent_months: String,
    consent_evidence: String,
    consent_explicit: bool,
}

impl SignalForm {
    fn from_data(f: &FormData) -> SignalForm {
        SignalForm {
            signal_id: f.get("signal_id").to_owned(),
            bsn: f.get("bsn").replace([' ', '.'], ""), // checked by bsn_field
            age: f.get("age").to_owned(),
            gezag: f.get("gezag").to_owned(),
            recipient: f.get("recipient").to_owned(),
            purpose: f.get("purpose").to_owned(),
            categories: f.all("category"),
            basis: f.get("basis").to_owned(),
            consents: f.all("consent"),
            urgency: f.get("urgency").to_owned(),
            role: f.get("role").to_owned(),
            text: f.raw("text"),
            givers: f.all("giver"),
            consent_scope: f.get("consent_scope").to_owned(),
            consent_months: f.get("consent_months").to_owned(),
            consent_evidence: f.get("consent_evidence").to_owned(),
            consent_explicit: f.get("consent_explicit") == "on",
        }
    }

    /// The draft the shared actions take (`crate::actions`).
    fn draft(&self) -> SignalDraft {
        SignalDraft {
            signal_id: self.signal_id.clone(),
            bsn: self.bsn.clone(),
            age: self.age.clone(),
            gezag: holders(&self.gezag),
            recipient: self.recipient.clone(),
            purpose: self.purpose.clone(),
            categories: self.categories.clone(),
            basis: self.basis.clone(),
            consents: self.consents.clone(),
            urgency: self.urgency.clone(),
            role: self.role.clone(),
            evidence: None,
        }
    }

    /// Field problems the console can see without asking the hub, in the console's language,
    /// for what the professional is about to do.
    fn local_problems(&self, lang: Lang, step: Step) -> Vec<String> {
        self.draft()
            .problems(step, &self.text)
            .into_iter()
            .map(|p| p.describe(lang).to_owned())
            .collect()
    }

    fn consent_draft(&self) -> ConsentDraft {
        ConsentDraft {
            givers: self.givers.clone(),
            whole_sector: self.consent_scope == "sector",
            months: self.consent_months.parse().unwrap_or(0),
            evidence: self.consent_evidence.clone(),
            explicit: self.consent_explicit,
            sectors: Vec::new(),
        }
    }
}

/// `GET /signaal/nieuw`.
pub async fn form(State(app): State<Arc<App>>, a: Authed) -> Response {
    let f = SignalForm {
        signal_id: sealed::new_signal_id().unwrap_or_default(),
        urgency: "normal".into(),
        consent_months: "6".into(),
        consent_scope: "org".into(),
        basis: "toestemming".into(),
        ..SignalForm::default()
    };
    render(&app, &a, &f, Outcome::default(), Vec::new()).await
}

/// `POST /signaal/nieuw`: check, record a consent, or send. With `X-Partial: decision` (the
/// console's script) only the convenant's answer is returned.
pub async fn submit(State(app): State<Arc<App>>, a: Authed, post: Post) -> Response {
    let lang = a.lang();
    let mut f = SignalForm::from_data(&post.data);
    let mut hub = match app.hub_as(&a.session.professional) {
        Ok(h) => h,
        Err(e) => {
            return render(&app, &a, &f, Outcome::problem_only(lang, &e), Vec::new()).await;
        }
    };
    let outcome = match post.data.get("action") {
        "consent" => {
            let mut outcome = Outcome::default();
            let problems = f.local_problems(lang, Step::RecordConsent);
            if !problems.is_empty() {
                outcome.problem = Some(Problem {
                    title: lang.t("Vul eerst aan:", "Please complete first:").into(),
                    items: problems,
                });
            } else {
                match record_consent(&app, &a, &mut hub, &f, lang).await {
                    Ok(c) => {
                        outcome.notice = Some(lang.s(
                            format!(
                                "Toestemming vastgelegd ({}) en aangevinkt hieronder.",
                                c.consent_id
                            ),
                            format!("Consent recorded ({}) and ticked below.", c.consent_id),
                        ));
                        f.consents.push(c.consent_id);
                        f.givers.clear();
                        f.consent_evidence.clear();
                        outcome.decision = actions::check(&mut hub, &f.draft()).await.ok();
                    }
                    Err(p) => outcome.problem = Some(p),
                }
            }
            outcome
        }
        _ => match check_or_send(&app, &a, &mut hub, &f.draft(), &f.text, post.sends()).await {
            Acted::Sent(id) => return Redirect::to(&format!("/signalen/{id}")).into_response(),
            Acted::Shown(outcome) => outcome,
        },
    };
    if post.partial {
        return decision_box(lang, &outcome).into_response();
    }
    let consents = consents_of(&mut hub, &f.bsn).await;
    render(&app, &a, &f, outcome, consents).await
}

async fn record_consent(
    app: &App,
    a: &Authed,
    hub: &mut HubClient,
    f: &SignalForm,
    lang: Lang,
) -> Result<pb::Consent, Problem> {
    let professional = &a.session.professional;
    actions::record_consent(app, professional, hub, &f.draft(), &f.consent_draft())
        .await
        .map_err(|p| consent_problem(lang, p))
}

async fn render(
    app: &App,
    a: &Authed,
    f: &SignalForm,
    mut outcome: Outcome,
    consents: Vec<pb::Consent>,
) -> Response {
    let lang = a.lang();
    let orgs = directory_for_page(app, a, None, &mut outcome).await;
    let c = &app.convenant;
    let roles = &a.session.professional.roles;
    let holders = holders(&f.gezag);
    let allowed = outcome.allowed();
    let body = html! {
        form id="signaal" method="post" action="/signaal/nieuw" novalidate {
            (form_head(a, &f.signal_id, &f.bsn, &f.age, &f.gezag))
            fieldset {
                legend { (lang.t("Aan wie en waarvoor", "To whom and why")) }
                (recipient_select(lang, &orgs, &f.recipient))
                label for="purpose" { (lang.t("Doel", "Purpose")) }
                select id="purpose" name="purpose" required {
                    option value="" { (lang.t("— kies —", "— choose —")) }
                    @for p in &c.purposes {
                        option value=(p.name) selected[p.name == f.purpose] {
                            (p.description.as_deref().unwrap_or(&p.name))
                        }
                    }
                }
                (category_checks(app, lang, &[], &f.categories))
                (role_select(lang, roles, &f.role))
            }
            fieldset {
                legend { (lang.t("Grondslag", "Basis")) }
                label for="basis" { (lang.t("Op grond van", "On the basis of")) }
                select id="basis" name="basis" {
                    option value="toestemming" selected[f.basis == "toestemming" || f.basis.is_empty()] {
                        (lang.t("toestemming (hieronder)", "consent (below)"))
                    }
                    @for b in c.bases.iter().filter(|b| b.kind != signaalhub_policy::BasisKind::Consent) {
                        option value=(b.name) selected[b.name == f.basis] {
                            (b.description.as_deref().unwrap_or(&b.name)) " (" (b.statute) ")"
                        }
                    }
                }
                (consent_checks(lang, &consents, &f.consents))
                details open[!allowed] {
                    summary { (lang.t("Toestemming vastleggen", "Record a consent")) }
                    p.hint { (lang.t("Voor het gekozen doel, de gekozen gegevens en de gekozen ontvanger.", "For the chosen purpose, data and recipient.")) }
                    (giver_checks(lang, &holders, &f.givers))
                    fieldset.group {
                        legend { (lang.t("Voor", "For")) }
                        div.check {
                            input type="radio" id="scope-org" name="consent_scope" value="org" checked[f.consent_scope != "sector"];
                            label for="scope-org" { (lang.t("alleen de gekozen ontvanger", "the chosen recipient only")) }
                        }
                        div.check {
                            input type="radio" id="scope-sector" name="consent_scope" value="sector" checked[f.consent_scope == "sector"];
                            label for="scope-sector" { (lang.t("elke organisatie van die sector in de regio", "every organisation of that sector in the region")) }
                        }
                    }
                    (consent_terms(lang, &f.consent_months, &f.consent_evidence, f.consent_explicit))
                    button type="submit" name="action" value="consent" { (lang.t("Toestemming vastleggen", "Record consent")) }
                }
            }
            (message_fieldset(lang, &f.urgency, &f.text))
            (answer_and_buttons(lang, &outcome))
        }
    };
    (
        outcome.status(),
        page(app, a, lang.t("Nieuw signaal", "New signal"), body),
    )
        .into_response()
}

fn state_text(lang: Lang, state: i32) -> &'static str {
    match pb::DeliveryState::try_from(state).unwrap_or(pb::DeliveryState::Unspecified) {
        pb::DeliveryState::Pending => lang.t("wacht op aflevering", "awaiting delivery"),
        pb::DeliveryState::Delivered => lang.t("afgeleverd", "delivered"),
        pb::DeliveryState::Acknowledged => lang.t("ontvangst bevestigd", "acknowledged"),
        pb::DeliveryState::Withheld => lang.t("tegengehouden", "withheld"),
        pb::DeliveryState::Withdrawn => lang.t("teruggeroepen", "recalled"),
        _ => lang.t("onbekend", "unknown"),
    }
}

/// `GET /signalen`: what this organisation sent through the gateway.
pub async fn sent_list(State(app): State<Arc<App>>, a: Authed) -> Markup {
    let lang = a.lang();
    let sent = app.store.list_sent(200).await.unwrap_or_default();
    page(
        &app,
        &a,
        lang.t("Verzonden signalen", "Sent signals"),
        html! {
            @if sent.is_empty() {
                p { (lang.t("Nog niets verzonden.", "Nothing sent yet.")) }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { (lang.t("Verzonden", "Sent")) }
                        th scope="col" { (lang.t("Doel", "Purpose")) }
                        th scope="col" { (lang.t("Door", "By")) }
                        th scope="col" { (lang.t("Signaal", "Signal")) }
                    } }
                    tbody {
                        @for s in &sent {
                            tr {
                                td { (when(lang, s.sent_at)) }
                                td { (s.purpose) }
                                td { (s.sent_by) }
                                td { a href=(format!("/signalen/{}", s.signal_id)) { (s.signal_id) } }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// `GET /signalen/{id}`: the status per recipient, from the hub.
pub async fn status(State(app): State<Arc<App>>, a: Authed, Path(id): Path<String>) -> Response {
    let lang = a.lang();
    if !sealed::valid_signal_id(&id) {
        return (
            StatusCode::NOT_FOUND,
            page(&app, &a, lang.t("Niet gevonden", "Not found"), html! {}),
        )
            .into_response();
    }
    let answer = actions::status(&app, &a.session.professional, &id).await;
    let title = lang.t("Signaal", "Signal");
    let feedback = if answer.is_ok() {
        match super::terugkoppeling::for_melder(&app, &a, &id).await {
            Ok(m) => m,
            Err(refused) => return refused,
        }
    } else {
        html! {}
    };
    let body = match answer {
        Err(e) => Problem::from_client(lang, &e).render(),
        Ok(r) => {
            let recallable = r
                .deliveries
                .iter()
                .any(|d| d.state == pb::DeliveryState::Pending as i32);
            html! {
                p { (lang.t("Signaal ", "Signal ")) code { (r.signal_id) } " — " (r.purpose) " — "
                    (r.sent_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
                table {
                    thead { tr {
                        th scope="col" { (lang.t("Ontvanger", "Recipient")) }
                        th scope="col" { (lang.t("Status", "Status")) }
                        th scope="col" { (lang.t("Sinds", "Since")) }
                    } }
                    tbody {
                        @for d in &r.deliveries {
                            tr {
                                td { (d.recipient_oin) }
                                td {
                                    (state_text(lang, d.state))
                                    @for reason in &d.reasons {
                                        br; small { (match lang { Lang::Nl => &reason.text_nl, Lang::En => &reason.text_en }) }
                                    }
                                }
                                td { (d.updated_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
                            }
                        }
                    }
                }
                @if recallable {
                    form method="post" action=(format!("/signalen/{}/terugroepen", r.signal_id)) {
                        input type="hidden" name="csrf" value=(a.session.csrf);
                        button type="submit" { (lang.t("Terugroepen (waar nog niet afgeleverd)", "Recall (where not yet delivered)")) }
                    }
                }
                (feedback)
            }
        }
    };
    page(&app, &a, title, body).into_response()
}

/// `POST /signalen/{id}/terugroepen`.
pub async fn withdraw(
    State(app): State<Arc<App>>,
    a: Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let lang = a.lang();
    if !a.csrf_ok(FormData::parse(&body).get("csrf")) {
        return csrf_refused(lang);
    }
    if !sealed::valid_signal_id(&id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match actions::recall(&app, &a.session.professional, &id).await {
        Ok(_) => Redirect::to(&format!("/signalen/{id}")).into_response(),
        Err(e) => page(
            &app,
            &a,
            lang.t("Terugroepen", "Recall"),
            Problem::from_client(lang, &e).render(),
        )
        .into_response(),
    }
}
