//! *Meldcode*: a report to Veilig Thuis by any professional, after the meldcode's five steps. The
//! form records which steps were completed, the afwegingskader's outcome, whether the family was
//! told (or the reason code why not) and whether the reporter may be named to the family; that is
//! the evidence of the convenant's meldcode basis (`meldrecht`), or the report rests on consents
//! on record. The convenant's answer (`CheckBasis`) is shown before sending, as on *Nieuw
//! signaal*, whose parts this screen shares (`super::disclosure`); sending is the same
//! [`crate::actions::send`]. Which purpose, basis and recipients a meldcode report has is read
//! from the convenant (the flow whose bases include the meldcode basis), not written here.
use super::Authed;
use super::disclosure::{
    Acted, Outcome, Post, answer_and_buttons, category_checks, check_or_send, consent_checks,
    consents_of, decision_box, directory_for_page, form_head, holders, message_fieldset,
    recipient_select, role_select,
};
use super::i18n::Lang;
use super::layout::page;
use super::problem::Problem;
use super::signal::FormData;
use crate::actions::SignalDraft;
use crate::app::App;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{sealed, sector_from_name};
use signaalhub_policy::{BasisKind, Convenant, reasons};
use std::sync::Arc;

/// The meldcode's five steps (Besluit verplichte meldcode), in both languages.
const STEPS: [(&str, &str); 5] = [
    ("Signalen in kaart brengen", "Map the signs"),
    (
        "Collegiale consultatie en zo nodig Veilig Thuis raadplegen",
        "Consult a colleague and, if needed, Veilig Thuis",
    ),
    (
        "Gesprek met de cliënt (de ouders, het kind)",
        "Talk with the client (the parents, the child)",
    ),
    (
        "Wegen van het geweld of de kindermishandeling met het afwegingskader",
        "Weigh the violence or child abuse with the afwegingskader",
    ),
    (
        "Beslissen: hulp organiseren of melden",
        "Decide: organise help or report",
    ),
];

/// The afwegingskader's outcomes: the form's value, the wire value, Dutch, English.
const AFWEGING: [(&str, pb::Afwegingskader, &str, &str); 4] = [
    (
        "acuut",
        pb::Afwegingskader::AcuteOnveiligheid,
        "Acute onveiligheid",
        "Acute danger",
    ),
    (
        "structureel",
        pb::Afwegingskader::StructureleOnveiligheid,
        "Structurele onveiligheid",
        "Structural danger",
    ),
    (
        "vermoeden",
        pb::Afwegingskader::VermoedenZonderAcuteOfStructureleOnveiligheid,
        "Vermoeden, zonder acute of structurele onveiligheid",
        "A suspicion, without acute or structural danger",
    ),
    (
        "geen",
        pb::Afwegingskader::GeenVermoeden,
        "Geen vermoeden (meer)",
        "No (longer a) suspicion",
    ),
];

/// What the convenant says a meldcode report is: its basis, purpose, categories and the sector
/// it goes to.
#[derive(Debug, Clone)]
struct Meldcode {
    basis: String,
    purpose: String,
    categories: Vec<String>,
    to: Option<pb::Sector>,
}

impl Meldcode {
    /// From the convenant: the first basis of the meldcode kind, and the flows that accept it.
    fn of(c: &Convenant) -> Option<Meldcode> {
        let basis = c.bases.iter().find(|b| b.kind == BasisKind::Meldcode)?;
        let flows: Vec<_> = c
            .flows
            .iter()
            .filter(|f| f.bases.contains(&basis.name))
            .collect();
        let first = flows.first()?;
        let mut categories: Vec<String> = Vec::new();
        for f in flows.iter().filter(|f| f.purpose == first.purpose) {
            for cat in &f.categories {
                if !categories.contains(cat) {
                    categories.push(cat.clone());
                }
            }
        }
        Some(Meldcode {
            basis: basis.name.clone(),
            purpose: first.purpose.clone(),
            categories,
            to: first.to.first().and_then(|s| sector_from_name(s)),
        })
    }
}

/// The form's fields, as typed.
#[derive(Debug, Clone, Default)]
struct MeldcodeForm {
    signal_id: String,
    bsn: String,
    age: String,
    gezag: String,
    recipient: String,
    categories: Vec<String>,
    /// `meldcode` or `toestemming`.
    basis: String,
    consents: Vec<String>,
    steps: Vec<u32>,
    afweging: String,
    /// `ja`, `nee` or "".
    informed: String,
    not_informed_reason: String,
    reporter_may_be_named: bool,
    urgency: String,
    role: String,
    text: String,
}

impl MeldcodeForm {
    fn from_data(f: &FormData) -> MeldcodeForm {
        let mut steps: Vec<u32> = f
            .all("step")
            .iter()
            .filter_map(|s| s.parse().ok())
            .filter(|n| (1..=5).contains(n))
            .collect();
        steps.sort_unstable();
        steps.dedup();
        MeldcodeForm {
            signal_id: f.get("signal_id").to_owned(),
            bsn: f.get("bsn").replace([' ', '.'], ""),
            age: f.get("age").to_owned(),
            gezag: f.get("gezag").to_owned(),
            recipient: f.get("recipient").to_owned(),
            categories: f.all("category"),
            basis: f.get("basis").to_owned(),
            consents: f.all("consent"),
            steps,
            afweging: f.get("afweging").to_owned(),
            informed: f.get("informed").to_owned(),
            not_informed_reason: f.get("not_informed_reason").to_owned(),
            reporter_may_be_named: f.get("reporter_may_be_named") == "on",
            urgency: f.get("urgency").to_owned(),
            role: f.get("role").to_owned(),
            text: f.raw("text"),
        }
    }

    fn on_meldcode(&self) -> bool {
        self.basis != "toestemming"
    }

    /// The evidence of the meldcode basis, as the form states it.
    fn evidence(&self) -> pb::Evidence {
        let afweging = AFWEGING
            .iter()
            .find(|(v, ..)| *v == self.afweging)
            .map_or(pb::Afwegingskader::Unspecified, |(_, w, ..)| *w);
        let informed = match self.informed.as_str() {
            "ja" => Some(true),
            "nee" => Some(false),
            _ => None,
        };
        pb::Evidence {
            meldcode_steps_completed: self.steps.clone(),
            afwegingskader: afweging as i32,
            client_informed: informed,
            client_not_informed_reason: if informed == Some(false) {
                self.not_informed_reason.clone()
            } else {
                String::new()
            },
            reporter_may_be_named: self.reporter_may_be_named.then_some(true),
            ..Default::default()
        }
    }

    /// The draft the shared actions take: the convenant's meldcode purpose, and its basis with
    /// this evidence (or the consents ticked).
    fn draft(&self, m: &Meldcode) -> SignalDraft {
        let (basis, evidence) = if self.on_meldcode() {
            (m.basis.clone(), Some(self.evidence()))
        } else {
            ("toestemming".to_owned(), None)
        };
        SignalDraft {
            signal_id: self.signal_id.clone(),
            bsn: self.bsn.clone(),
            age: self.age.clone(),
            gezag: holders(&self.gezag),
            recipient: self.recipient.clone(),
            purpose: m.purpose.clone(),
            categories: self.categories.clone(),
            basis,
            consents: self.consents.clone(),
            urgency: self.urgency.clone(),
            role: self.role.clone(),
            evidence,
        }
    }
}

fn no_meldcode(app: &App, a: &Authed) -> Response {
    let lang = a.lang();
    (
        StatusCode::NOT_FOUND,
        page(
            app,
            a,
            "Meldcode",
            Problem::new(lang.t(
                "Het convenant van deze regio kent geen melding op grond van de meldcode.",
                "This region's convenant has no report under the meldcode.",
            ))
            .render(),
        ),
    )
        .into_response()
}

/// `GET /meldcode`.
pub async fn form(State(app): State<Arc<App>>, a: Authed) -> Response {
    let Some(m) = Meldcode::of(&app.convenant) else {
        return no_meldcode(&app, &a);
    };
    let f = MeldcodeForm {
        signal_id: sealed::new_signal_id().unwrap_or_default(),
        basis: "meldcode".into(),
        urgency: "normal".into(),
        ..MeldcodeForm::default()
    };
    render(&app, &a, &m, &f, Outcome::default(), Vec::new()).await
}

/// `POST /meldcode`: check or send. With `X-Partial: decision` (the console's script) only the
/// convenant's answer is returned.
pub async fn submit(State(app): State<Arc<App>>, a: Authed, post: Post) -> Response {
    let lang = a.lang();
    let Some(m) = Meldcode::of(&app.convenant) else {
        return no_meldcode(&app, &a);
    };
    let f = MeldcodeForm::from_data(&post.data);
    let mut hub = match app.hub_as(&a.session.professional) {
        Ok(h) => h,
        Err(e) => {
            return render(
                &app,
                &a,
                &m,
                &f,
                Outcome::problem_only(lang, &e),
                Vec::new(),
            )
            .await;
        }
    };
    let outcome = if f.informed == "nee"
        && !f.not_informed_reason.is_empty()
        && reasons::lookup(reasons::NOT_INFORMED, &f.not_informed_reason).is_none()
    {
        // Not one of the select's codes: a damaged or forged form; the hub would refuse it too.
        Outcome {
            problem: Some(Problem::new(lang.t(
                "Kies een reden uit de lijst waarom het gezin niet is ingelicht.",
                "Choose a reason from the list why the family was not told.",
            ))),
            ..Outcome::default()
        }
    } else {
        match check_or_send(&app, &a, &mut hub, &f.draft(&m), &f.text, post.sends()).await {
            Acted::Sent(id) => return Redirect::to(&format!("/signalen/{id}")).into_response(),
            Acted::Shown(o) => o,
        }
    };
    if post.partial {
        return decision_box(lang, &outcome).into_response();
    }
    let consents = consents_of(&mut hub, &f.bsn).await;
    render(&app, &a, &m, &f, outcome, consents).await
}

/// Whether the family was told (`informed`: `ja` or `nee`) and, if not, why: a reason from the
/// convenant's fixed list (`Evidence.client_not_informed_reason`); `hint` says where the
/// circumstances belong instead.
pub(super) fn informed_fieldset(
    lang: Lang,
    legend: &str,
    informed: &str,
    reason: &str,
    hint: &str,
) -> Markup {
    html! {
        fieldset.group {
            legend { (legend) }
            div.check {
                input type="radio" id="informed-ja" name="informed" value="ja" checked[informed == "ja"];
                label for="informed-ja" { (lang.t("Ja", "Yes")) }
            }
            div.check {
                input type="radio" id="informed-nee" name="informed" value="nee" checked[informed == "nee"];
                label for="informed-nee" { (lang.t("Nee", "No")) }
            }
            label for="not_informed_reason" { (lang.t("Zo nee, waarom niet", "If not, why not")) }
            select id="not_informed_reason" name="not_informed_reason" aria-describedby="reason-hint" {
                option value="" { (lang.t("— kies —", "— choose —")) }
                @for r in reasons::NOT_INFORMED {
                    option value=(r.code) selected[reason == r.code] { (lang.t(r.nl, r.en)) }
                }
            }
            p.hint id="reason-hint" { (hint) }
        }
    }
}

fn steps_fieldset(lang: Lang, f: &MeldcodeForm) -> Markup {
    html! {
        fieldset.group {
            legend { (lang.t("Welke stappen van de meldcode heeft u gezet?", "Which steps of the meldcode did you take?")) }
            @for (i, (nl, en)) in STEPS.iter().enumerate() {
                @let n = i as u32 + 1;
                div.check {
                    input type="checkbox" id=(format!("step{n}")) name="step" value=(n) checked[f.steps.contains(&n)];
                    label for=(format!("step{n}")) { (lang.t("Stap ", "Step ")) (n) ": " (lang.t(nl, en)) }
                }
            }
        }
        fieldset.group {
            legend { (lang.t("Uitkomst van het afwegingskader (stap 4)", "Outcome of the afwegingskader (step 4)")) }
            @for (value, _, nl, en) in &AFWEGING {
                div.check {
                    input type="radio" id=(format!("afw-{value}")) name="afweging" value=(value) checked[f.afweging == *value];
                    label for=(format!("afw-{value}")) { (lang.t(nl, en)) }
                }
            }
        }
        (informed_fieldset(
            lang,
            lang.t("Is het gezin ingelicht over de melding?", "Was the family told of the report?"),
            &f.informed,
            &f.not_informed_reason,
            lang.t(
                "Alleen een reden uit de lijst: de omstandigheden zelf horen in het bericht, dat alleen Veilig Thuis kan lezen.",
                "Only a reason from the list: the circumstances belong in the message, which only Veilig Thuis can read.",
            ),
        ))
        div.check {
            input type="checkbox" id="reporter_may_be_named" name="reporter_may_be_named" checked[f.reporter_may_be_named];
            label for="reporter_may_be_named" { (lang.t(
                "Het gezin mag horen dat onze organisatie de melding deed (zonder dit vinkje blijft de melder afgeschermd in het inzagerapport en de brief aan het gezin)",
                "The family may learn that our organisation reported (without this tick the reporter stays shielded in the access report and the family's letter)",
            )) }
        }
    }
}

async fn render(
    app: &App,
    a: &Authed,
    m: &Meldcode,
    f: &MeldcodeForm,
    mut outcome: Outcome,
    consents: Vec<pb::Consent>,
) -> Response {
    let lang = a.lang();
    let orgs = directory_for_page(app, a, m.to, &mut outcome).await;
    let basis_text = app
        .convenant
        .bases
        .iter()
        .find(|b| b.name == m.basis)
        .map(|b| {
            format!(
                "{} ({})",
                b.description.as_deref().unwrap_or(&b.name),
                b.statute
            )
        })
        .unwrap_or_else(|| m.basis.clone());
    let body = html! {
        p { (lang.t(
            "Een melding aan Veilig Thuis na de stappen van de meldcode. Het convenant zegt vóór het versturen of de melding zo mag; het bericht wordt hier versleuteld.",
            "A report to Veilig Thuis after the steps of the meldcode. The convenant says before sending whether the report may go like this; the message is sealed here.",
        )) }
        form id="signaal" method="post" action="/meldcode" novalidate {
            (form_head(a, &f.signal_id, &f.bsn, &f.age, &f.gezag))
            fieldset {
                legend { (lang.t("Aan welk Veilig Thuis", "To which Veilig Thuis")) }
                (recipient_select(lang, &orgs, &f.recipient))
                (category_checks(app, lang, &m.categories, &f.categories))
                (role_select(lang, &a.session.professional.roles, &f.role))
            }
            fieldset {
                legend { (lang.t("De meldcode", "The meldcode")) }
                (steps_fieldset(lang, f))
            }
            fieldset {
                legend { (lang.t("Grondslag", "Basis")) }
                div.check {
                    input type="radio" id="basis-meldcode" name="basis" value="meldcode" checked[f.on_meldcode()];
                    label for="basis-meldcode" { (basis_text) }
                }
                div.check {
                    input type="radio" id="basis-toestemming" name="basis" value="toestemming" checked[!f.on_meldcode()];
                    label for="basis-toestemming" { (lang.t("toestemming (hieronder aanvinken)", "consent (tick below)")) }
                }
                (consent_checks(lang, &consents, &f.consents))
            }
            (message_fieldset(lang, &f.urgency, &f.text))
            (answer_and_buttons(lang, &outcome))
        }
    };
    (outcome.status(), page(app, a, "Meldcode", body)).into_response()
}
