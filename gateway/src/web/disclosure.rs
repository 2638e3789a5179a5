//! What the two sending screens (*Nieuw signaal*, *Meldcode*) share: the child's fields, the
//! consents on record, the convenant's answer, and checking or sending a draft through
//! [`crate::actions`]. Each screen only adds its own fields (a consent to record, the meldcode's
//! steps) and builds its [`SignalDraft`].
use super::i18n::{Lang, date};
use super::problem::Problem;
use super::signal::FormData;
use super::{Authed, csrf_refused};
use crate::actions::{self, ConsentProblem, SignalDraft, Step};
use crate::app::App;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ClientError, HubClient};
use std::sync::Arc;

/// What a sending page shows besides its form.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub decision: Option<pb::Decision>,
    pub problem: Option<Problem>,
    pub notice: Option<String>,
}

impl Outcome {
    /// Only a problem from a failed hub call.
    pub fn problem_only(lang: Lang, e: &ClientError) -> Outcome {
        Outcome {
            problem: Some(Problem::from_client(lang, e)),
            ..Outcome::default()
        }
    }

    /// The status of a page showing this: 422 when only a problem is shown (the form needs
    /// fixing before the convenant can answer), 200 otherwise (a "no" is an answer).
    pub fn status(&self) -> StatusCode {
        if self.problem.is_some() && self.decision.is_none() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        }
    }

    /// Whether the convenant's answer is yes.
    pub fn allowed(&self) -> bool {
        self.decision
            .as_ref()
            .is_some_and(|d| d.outcome == pb::Outcome::Allow as i32)
    }
}

/// A sending form as posted, its CSRF token checked.
pub(super) struct Post {
    /// The fields.
    pub data: FormData,
    /// Whether the console's script asks only for the convenant's answer (`X-Partial:
    /// decision`).
    pub partial: bool,
}

/// Reads a post of a logged-in professional; refused when its CSRF token is not the session's.
impl FromRequest<Arc<App>> for Post {
    type Rejection = Response;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let a = Authed::from_request_parts(&mut parts, app).await?;
        let partial = parts
            .headers
            .get("x-partial")
            .is_some_and(|v| v == "decision");
        let body = Bytes::from_request(Request::from_parts(parts, body), app)
            .await
            .map_err(IntoResponse::into_response)?;
        let data = FormData::parse(&body);
        if !a.csrf_ok(data.get("csrf")) {
            return Err(csrf_refused(a.lang()));
        }
        Ok(Post { data, partial })
    }
}

impl Post {
    /// The button pressed: `send` sends, anything else asks the convenant.
    pub fn sends(&self) -> bool {
        self.data.get("action") == "send"
    }
}

/// The result of [`check_or_send`].
#[derive(Debug)]
pub(super) enum Acted {
    /// Sent: the signal id (the page goes to its status).
    Sent(String),
    /// Not sent (or only checked): what to show.
    Shown(Outcome),
}

/// Asks the convenant about `draft`, or sends it with `text` when `send`: first the problems the
/// console can see without the hub, then the hub's answer. A refused send also shows the
/// convenant's reasons (a `CheckBasis` of the same draft).
pub(super) async fn check_or_send(
    app: &App,
    a: &Authed,
    hub: &mut HubClient,
    draft: &SignalDraft,
    text: &str,
    send: bool,
) -> Acted {
    let lang = a.lang();
    let step = if send { Step::Send } else { Step::Check };
    let problems: Vec<String> = draft
        .problems(step, text)
        .into_iter()
        .map(|p| p.describe(lang).to_owned())
        .collect();
    let mut outcome = Outcome::default();
    if !problems.is_empty() {
        let title = if send {
            lang.t(
                "Nog niet verstuurd; vul aan:",
                "Not sent yet; please complete:",
            )
        } else {
            lang.t(
                "Het convenant kan nog niet antwoorden; vul aan:",
                "The convenant cannot answer yet; please complete:",
            )
        };
        outcome.problem = Some(Problem {
            title: title.into(),
            items: problems,
        });
        return Acted::Shown(outcome);
    }
    if send {
        match actions::send(app, &a.session.professional, hub, draft, text).await {
            Ok(id) => return Acted::Sent(id),
            Err(e) => {
                outcome.problem = Some(Problem::from_client(lang, &e));
                if let ClientError::Status(s) = &e
                    && s.code() == tonic::Code::PermissionDenied
                {
                    outcome.decision = actions::check(hub, draft).await.ok();
                }
            }
        }
    } else {
        match actions::check(hub, draft).await {
            Ok(d) => outcome.decision = Some(d),
            Err(e) => outcome.problem = Some(Problem::from_client(lang, &e)),
        }
    }
    Acted::Shown(outcome)
}

/// The organisations a professional can choose from (the sociale kaart), without the own one;
/// only those of `sector` when given.
pub(super) async fn directory(
    hub: &mut HubClient,
    own: &str,
    sector: Option<pb::Sector>,
) -> Result<Vec<pb::Organization>, ClientError> {
    let r = hub
        .list_organizations(pb::ListOrganizationsRequest {
            sector: sector.map_or(0, |s| s as i32),
            ..Default::default()
        })
        .await?;
    let mut orgs: Vec<pb::Organization> = r
        .organizations
        .into_iter()
        .filter(|o| o.oin != own)
        .collect();
    orgs.sort_by(|a, b| a.sector_name.cmp(&b.sector_name).then(a.name.cmp(&b.name)));
    Ok(orgs)
}

/// [`directory`] for a page: an empty list and the problem in the outcome when the hub cannot
/// answer.
pub(super) async fn directory_for_page(
    app: &App,
    a: &Authed,
    sector: Option<pb::Sector>,
    outcome: &mut Outcome,
) -> Vec<pb::Organization> {
    let answer = match app.hub_as(&a.session.professional) {
        Ok(mut hub) => directory(&mut hub, app.oin(), sector).await,
        Err(e) => Err(e),
    };
    answer.unwrap_or_else(|e| {
        outcome
            .problem
            .get_or_insert(Problem::from_client(a.lang(), &e));
        Vec::new()
    })
}

/// The holders of gezag as typed (`ouder-1, ouder-2`), as references.
pub(super) fn holders(typed: &str) -> Vec<String> {
    typed
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What every sending form starts with: the session's CSRF token, the signal id chosen when the
/// form first opened (so a retry is the same signal), and the child.
pub(super) fn form_head(a: &Authed, signal_id: &str, bsn: &str, age: &str, gezag: &str) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(a.session.csrf);
        input type="hidden" name="signal_id" value=(signal_id);
        (child_fieldset(a.lang(), bsn, age, gezag))
    }
}

/// The child: BSN, age, holders of gezag (references, never names).
fn child_fieldset(lang: Lang, bsn: &str, age: &str, gezag: &str) -> Markup {
    html! {
        fieldset {
            legend { (lang.t("Het kind", "The child")) }
            (super::subject_field(lang, "bsn", bsn))
            label for="age" { (lang.t("Leeftijd (jaren)", "Age (years)")) }
            input id="age" name="age" value=(age) inputmode="numeric" maxlength="3";
            label for="gezag" { (lang.t("Gezaghebbenden (verwijzingen, gescheiden door komma's)", "Holders of gezag (references, comma-separated)")) }
            input id="gezag" name="gezag" value=(gezag) placeholder="ouder-1, ouder-2" aria-describedby="gezag-hint";
            p.hint id="gezag-hint" { (lang.t("Geen namen: een verwijzing naar uw eigen dossier, bijv. ouder-1.", "No names: a reference into your own file, e.g. ouder-1.")) }
        }
    }
}

/// The recipient, chosen from `orgs`.
pub(super) fn recipient_select(lang: Lang, orgs: &[pb::Organization], chosen: &str) -> Markup {
    html! {
        label for="recipient" { (lang.t("Ontvanger (sociale kaart)", "Recipient (sociale kaart)")) }
        select id="recipient" name="recipient" required {
            option value="" { (lang.t("— kies —", "— choose —")) }
            @for o in orgs {
                option value=(o.oin) selected[o.oin == chosen] {
                    (o.name) " — " (o.sector_name) " (" (o.region) ")"
                }
            }
        }
    }
}

/// The convenant's categories as checkboxes (`names`: only these, in the convenant's order;
/// empty: all).
pub(super) fn category_checks(
    app: &App,
    lang: Lang,
    names: &[String],
    ticked: &[String],
) -> Markup {
    let cats = app
        .convenant
        .categories
        .iter()
        .filter(|c| names.is_empty() || names.contains(&c.name));
    html! {
        fieldset.group {
            legend { (lang.t("Welke gegevens", "Which data")) }
            @for (i, cat) in cats.enumerate() {
                div.check {
                    input type="checkbox" id=(format!("cat{i}")) name="category" value=(cat.name) checked[ticked.contains(&cat.name)];
                    label for=(format!("cat{i}")) {
                        (cat.description.as_deref().unwrap_or(&cat.name))
                        @if cat.art9 { " " em { (lang.t("(bijzonder persoonsgegeven)", "(special category)")) } }
                    }
                }
            }
        }
    }
}

/// "I act as", when the professional has several roles.
pub(super) fn role_select(lang: Lang, roles: &[String], chosen: &str) -> Markup {
    role_select_as(lang, roles, chosen, "role")
}

/// [`role_select`] with its own element id, for a page with several forms.
pub(super) fn role_select_as(lang: Lang, roles: &[String], chosen: &str, id: &str) -> Markup {
    html! {
        @if roles.len() > 1 {
            label for=(id) { (lang.t("Ik handel als", "I act as")) }
            select id=(id) name="role" {
                @for r in roles { option value=(r) selected[*r == chosen] { (r) } }
            }
        }
    }
}

/// The consents on record for this child, ticked when used.
pub(super) fn consent_checks(lang: Lang, consents: &[pb::Consent], ticked: &[String]) -> Markup {
    consent_checks_or(
        lang,
        consents,
        ticked,
        lang.t(
            "Nog geen (of vul eerst het BSN in en kies Controleer).",
            "None yet (or enter the BSN first and choose Check).",
        ),
    )
}

/// [`consent_checks`] with its own words for "none yet" (what to do on that form).
pub(super) fn consent_checks_or(
    lang: Lang,
    consents: &[pb::Consent],
    ticked: &[String],
    none: &str,
) -> Markup {
    html! {
        h2 { (lang.t("Toestemmingen voor dit kind", "Consents for this child")) }
        @if consents.is_empty() {
            p { (none) }
        } @else {
            @for (i, k) in consents.iter().enumerate() {
                div.check {
                    input type="checkbox" id=(format!("con{i}")) name="consent" value=(k.consent_id) checked[ticked.contains(&k.consent_id)];
                    label for=(format!("con{i}")) {
                        (k.givers.iter().map(|g| g.person.as_str()).collect::<Vec<_>>().join(", "))
                        " — " (k.purposes.join(", ")) " — "
                        (lang.t("geldig tot ", "valid until ")) (k.valid_until.as_ref().map(|t| date(lang, t.seconds)).unwrap_or_default())
                        " (" (k.consent_id) ")"
                    }
                }
            }
        }
    }
}

/// The consents on record about the child, when the BSN is one (the hub logs the look-up).
pub(super) async fn consents_of(hub: &mut HubClient, bsn: &str) -> Vec<pb::Consent> {
    if actions::bsn_rule(bsn).is_err() {
        return Vec::new();
    }
    actions::list_consents(hub, bsn, false)
        .await
        .unwrap_or_default()
}

/// Urgency and the message, sealed here.
pub(super) fn message_fieldset(lang: Lang, urgency: &str, text: &str) -> Markup {
    html! {
        fieldset {
            legend { (lang.t("Het signaal", "The signal")) }
            label for="urgency" { (lang.t("Urgentie", "Urgency")) }
            select id="urgency" name="urgency" {
                option value="normal" selected[urgency != "high" && urgency != "acute"] { (lang.t("normaal", "normal")) }
                option value="high" selected[urgency == "high"] { (lang.t("hoog", "high")) }
                option value="acute" selected[urgency == "acute"] { (lang.t("acuut gevaar", "acute danger")) }
            }
            label for="text" { (lang.t("Bericht", "Message")) }
            textarea id="text" name="text" rows="8" maxlength="65536" aria-describedby="text-hint" { (text) }
            p.hint id="text-hint" { (lang.t("Wordt hier versleuteld; alleen de ontvanger kan het lezen.", "Sealed here; only the recipient can read it.")) }
        }
    }
}

/// *Wat zegt het convenant?* with the two buttons.
pub(super) fn answer_and_buttons(lang: Lang, o: &Outcome) -> Markup {
    html! {
        section aria-labelledby="antwoord" {
            h2 id="antwoord" { (lang.t("Wat zegt het convenant?", "What does the convenant say?")) }
            (decision_box(lang, o))
        }
        div.actions {
            button type="submit" name="action" value="check" { (lang.t("Controleer", "Check")) }
            button.primary type="submit" name="action" value="send" { (lang.t("Versturen", "Send")) }
        }
    }
}

/// The convenant's answer (or what is missing before it can answer).
pub(super) fn decision_box(lang: Lang, o: &Outcome) -> Markup {
    html! {
        div id="beslissing" aria-live="polite" {
            @if let Some(n) = &o.notice { p.notice role="status" { (n) } }
            @if let Some(p) = &o.problem { (p.render()) }
            @if let Some(d) = &o.decision {
                @if d.outcome == pb::Outcome::Allow as i32 {
                    div.allowed {
                        p { strong { (lang.t("Toegestaan door het convenant.", "Allowed by the convenant.")) } }
                        @if !d.obligations.is_empty() {
                            p { (lang.t("Daarbij hoort:", "This comes with:")) }
                            ul { @for ob in &d.obligations { li { (obligation(lang, ob)) } } }
                        }
                        @if let Some(t) = &d.retain_until {
                            p { (lang.t("De ontvanger mag dit bewaren tot ", "The recipient may keep this until ")) (date(lang, t.seconds)) "." }
                        }
                    }
                } @else {
                    div.denied {
                        p { strong { (lang.t("Niet toegestaan door het convenant:", "Not allowed by the convenant:")) } }
                        ul {
                            @for r in &d.reasons {
                                li { (match lang { Lang::Nl => &r.text_nl, Lang::En => &r.text_en }) }
                            }
                        }
                    }
                }
                p.small { (lang.t("Convenant ", "Convenant ")) (d.policy_version) }
            }
        }
    }
}

fn obligation(lang: Lang, o: &pb::Obligation) -> String {
    let text = match o.kind.as_str() {
        "INFORM_SUBJECT" => lang.t(
            "informeer de ouders/het kind over deze verstrekking",
            "inform the parents/the child of this disclosure",
        ),
        "INFORM_SUBJECT_EXEMPTED" => lang.t(
            "informeren van de ouders is uitgezonderd",
            "informing the parents is exempted",
        ),
        "NOTIFY_SENDER" => lang.t("de afzender wordt bericht", "the sender is notified"),
        "NOTIFY_SECTOR" => lang.t("de sector wordt bericht", "the sector is notified"),
        "CONFIRM_IN_WRITING" => lang.t(
            "bevestig de afspraken schriftelijk",
            "confirm the agreements in writing",
        ),
        _ => "",
    };
    match (text.is_empty(), o.detail.is_empty()) {
        (true, _) => format!("{} {}", o.kind, o.detail),
        (false, true) => text.to_owned(),
        (false, false) => format!("{text} ({})", o.detail),
    }
}

/// Why a consent was not recorded, in `lang` (*Nieuw signaal*, *Maatregel?*).
pub(super) fn consent_problem(lang: Lang, p: ConsentProblem) -> Problem {
    match p {
        ConsentProblem::NoGivers => Problem::new(lang.t(
            "Toestemming: vink aan wie toestemming gaf.",
            "Consent: tick who gave consent.",
        )),
        ConsentProblem::Months => Problem::new(lang.t(
            "Toestemming: geldigheid 1 tot 24 maanden.",
            "Consent: valid for 1 to 24 months.",
        )),
        ConsentProblem::Hub(e) => Problem::from_client(lang, &e),
    }
}

/// Who gave a consent: the holders of gezag typed on the form, and the child itself.
pub(super) fn giver_checks(lang: Lang, holders: &[String], givers: &[String]) -> Markup {
    html! {
        fieldset.group {
            legend { (lang.t("Gegeven door", "Given by")) }
            @for (i, h) in holders.iter().enumerate() {
                div.check {
                    input type="checkbox" id=(format!("giver{i}")) name="giver" value=(h) checked[givers.contains(h)];
                    label for=(format!("giver{i}")) { (h) " " (lang.t("(gezaghebbende)", "(holder of gezag)")) }
                }
            }
            div.check {
                input type="checkbox" id="giver-kind" name="giver" value="kind" checked[givers.iter().any(|g| g == "kind")];
                label for="giver-kind" { (lang.t("het kind zelf", "the child itself")) }
            }
            @if holders.is_empty() {
                p.hint { (lang.t("Vul hierboven de gezaghebbenden in om hen te kunnen aanvinken.", "Enter the holders of gezag above to tick them.")) }
            }
        }
    }
}

/// A consent's terms: how long, the evidence, whether it is explicit.
pub(super) fn consent_terms(lang: Lang, months: &str, evidence: &str, explicit: bool) -> Markup {
    html! {
        label for="consent_months" { (lang.t("Geldig (maanden)", "Valid (months)")) }
        input id="consent_months" name="consent_months" value=(months) inputmode="numeric" maxlength="2";
        label for="consent_evidence" { (lang.t("Bewijs (kenmerk van het getekende formulier)", "Evidence (reference of the signed form)")) }
        input id="consent_evidence" name="consent_evidence" value=(evidence) maxlength="128";
        div.check {
            input type="checkbox" id="consent_explicit" name="consent_explicit" checked[explicit];
            label for="consent_explicit" { (lang.t("uitdrukkelijke toestemming, ook voor bijzondere persoonsgegevens", "explicit consent, also for special categories")) }
        }
    }
}
