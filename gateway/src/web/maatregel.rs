//! *Maatregel?*: the wijkcoach's minimal question — does a child protection measure run for this
//! child, and whom do I call — asked by an organisation that recorded its involvement with the
//! child. The hub answers only "yes, this kind, call them" or "no", and tells the GI when it is
//! yes; the console only asks and shows. From here the professional records the involvement (on
//! the consents on record, the basis for telling the other parties), confirms another
//! organisation's contact with the child, and opens the cases it shares about the child
//! (`super::zaak`). The family's consent for casusafstemming is recorded here too (the same
//! recording as *Nieuw signaal*'s, for the sectors of the parties instead of one recipient), and
//! ticked at once for the involvement; the case links carry it to the safety plan form.
use super::disclosure::{
    Outcome, category_checks, consent_checks, consent_problem, consent_terms, consents_of,
    directory_for_page, giver_checks, holders,
};
use super::i18n::{Lang, date};
use super::layout::page;
use super::problem::Problem;
use super::signal::FormData;
use super::{Authed, bsn_field, csrf_refused, problem_page};
use crate::actions::{self, ConsentDraft, FieldProblem, SignalDraft, Step};
use crate::app::App;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use signaalhub_client::involvement::{CASE_PURPOSE, SAFETY_PLAN_CATEGORY};
use signaalhub_client::sector_from_name;
use signaalhub_client::signaalhub_proto::pb;
use std::sync::Arc;

/// The categories of a consent for casusafstemming: the involvement, and the safety plan.
const CASE_CATEGORIES: [&str; 2] = ["betrokkenheid", SAFETY_PLAN_CATEGORY];

fn kind_text(lang: Lang, k: i32) -> &'static str {
    match pb::MaatregelKind::try_from(k).unwrap_or(pb::MaatregelKind::Unspecified) {
        pb::MaatregelKind::Ots => lang.t("ondertoezichtstelling (OTS)", "supervision order (OTS)"),
        pb::MaatregelKind::Voogdij => lang.t("voogdij", "guardianship"),
        pb::MaatregelKind::MachtigingUithuisplaatsing => {
            lang.t("machtiging uithuisplaatsing", "out-of-home placement order")
        }
        pb::MaatregelKind::Jeugdreclassering => lang.t("jeugdreclassering", "juvenile probation"),
        _ => lang.t("maatregel", "measure"),
    }
}

/// What the form shows again after a post.
#[derive(Debug, Default)]
struct Typed {
    bsn: String,
    contact: String,
    consents: Vec<String>,
    age: String,
    gezag: String,
    givers: Vec<String>,
    sectors: Vec<String>,
    categories: Vec<String>,
    months: String,
    evidence: String,
    explicit: bool,
}

impl Typed {
    fn from_data(f: &FormData) -> Typed {
        if f.get("consent_months").is_empty() && f.all("category").is_empty() {
            // A post from a form without the consent's fields: its defaults.
            return Typed {
                bsn: f.get("bsn").to_owned(),
                contact: f.get("contact").to_owned(),
                consents: f.all("consent"),
                ..Typed::fresh()
            };
        }
        Typed {
            bsn: f.get("bsn").to_owned(),
            contact: f.get("contact").to_owned(),
            consents: f.all("consent"),
            age: f.get("age").to_owned(),
            gezag: f.get("gezag").to_owned(),
            givers: f.all("giver"),
            sectors: f.all("sector"),
            categories: f.all("category"),
            months: f.get("consent_months").to_owned(),
            evidence: f.get("consent_evidence").to_owned(),
            explicit: f.get("consent_explicit") == "on",
        }
    }

    /// The empty form: a consent for both categories, for six months.
    fn fresh() -> Typed {
        Typed {
            categories: CASE_CATEGORIES.map(str::to_owned).to_vec(),
            months: "6".into(),
            ..Typed::default()
        }
    }

    /// The consent's child and terms as the shared recording takes them
    /// ([`actions::record_consent`]): purpose casusafstemming, for the sectors ticked.
    fn consent(&self) -> (SignalDraft, ConsentDraft) {
        let d = SignalDraft {
            bsn: self.bsn.clone(),
            age: self.age.clone(),
            gezag: holders(&self.gezag),
            purpose: CASE_PURPOSE.to_owned(),
            categories: self.categories.clone(),
            ..SignalDraft::default()
        };
        let c = ConsentDraft {
            givers: self.givers.clone(),
            whole_sector: false,
            months: self.months.parse().unwrap_or(0),
            evidence: self.evidence.clone(),
            explicit: self.explicit,
            sectors: self
                .sectors
                .iter()
                .filter_map(|s| sector_from_name(s))
                .collect(),
        };
        (d, c)
    }
}

/// What is missing for recording the consent, before the hub is asked (the givers and the
/// validity are checked by the shared recording).
fn consent_missing(lang: Lang, d: &SignalDraft, c: &ConsentDraft) -> Vec<String> {
    let mut out: Vec<String> = d
        .problems(Step::RecordConsent, "")
        .into_iter()
        .filter(|p| *p != FieldProblem::Recipient)
        .map(|p| p.describe(lang).to_owned())
        .collect();
    if c.sectors.is_empty() {
        out.push(
            lang.t(
                "Voor: vink aan voor welke organisaties de toestemming geldt.",
                "For: tick the organisations the consent is for.",
            )
            .to_owned(),
        );
    }
    if c.givers.is_empty() {
        out.push(
            lang.t(
                "Gegeven door: vink aan wie toestemming gaf.",
                "Given by: tick who gave consent.",
            )
            .to_owned(),
        );
    }
    out
}

/// Recording a consent is for professionals in a convenant role (not the FG).
fn not_a_case_worker(lang: Lang) -> &'static str {
    lang.t(
        "Toestemming voor casusafstemming vastleggen is voor professionals in een rol van het convenant.",
        "Recording a consent for casusafstemming is for professionals in a convenant role.",
    )
}

/// The consent ids ticked that are on record for the safety plan (category
/// veiligheidsafspraken): what the case links carry to the plan's form.
fn plan_consents(ticked: &[String], on_record: &[pb::Consent]) -> Vec<String> {
    ticked
        .iter()
        .filter(|id| {
            on_record.iter().any(|c| {
                &c.consent_id == *id
                    && c.purposes.iter().any(|p| p == CASE_PURPOSE)
                    && c.categories.iter().any(|k| k == SAFETY_PLAN_CATEGORY)
            })
        })
        .cloned()
        .collect()
}

/// The link to a case, with the consents for its safety plan filled in.
fn case_href(case_id: &str, plan: &[String]) -> String {
    if plan.is_empty() {
        format!("/zaak/{case_id}")
    } else {
        format!("/zaak/{case_id}?toestemming={}", plan.join(","))
    }
}

fn form(
    app: &App,
    a: &Authed,
    lang: Lang,
    t: &Typed,
    on_record: &[pb::Consent],
    orgs: &[pb::Organization],
) -> Markup {
    html! {
        form method="post" action="/maatregel" {
            input type="hidden" name="csrf" value=(a.session.csrf);
            (super::subject_field(lang, "m-bsn", &t.bsn))
            div.actions {
                button.primary type="submit" name="action" value="ask" { (lang.t("Loopt er een maatregel?", "Is there a measure?")) }
                button type="submit" name="action" value="cases" { (lang.t("Zaken van dit kind", "This child's cases")) }
            }
            fieldset {
                legend { (lang.t("Mijn betrokkenheid", "My involvement")) }
                p.hint { (lang.t(
                    "De vraag mag alleen wie betrokken is bij het kind. Leg uw betrokkenheid vast als dat nog niet is gebeurd; andere betrokkenen zien haar pas met een grondslag (toestemming voor casusafstemming, hieronder aan te vinken of vast te leggen).",
                    "Only an organisation involved with the child may ask. Record your involvement if you have not; other involved parties see it only with a basis (consent for casusafstemming, to tick or record below).",
                )) }
                label for="m-contact" { (lang.t("Hoe collega's u bereiken", "How colleagues reach you")) }
                input id="m-contact" name="contact" value=(t.contact) maxlength="200" placeholder="G. K., wijkcoach, 026-0000002";
                (consent_checks(lang, on_record, &t.consents))
                (consent_form(app, lang, t))
                div.actions { button type="submit" name="action" value="involvement" { (lang.t("Betrokkenheid vastleggen", "Record involvement")) } }
            }
            fieldset {
                legend { (lang.t("Contact van een andere organisatie bevestigen", "Confirm another organisation's contact")) }
                p.hint { (lang.t(
                    "U bent betrokken bij dit kind (of u voert de maatregel uit) en een andere organisatie heeft contact met het kind dat de hub niet kan zien, bijvoorbeeld een gezamenlijk huisbezoek. Uw bevestiging geldt 30 dagen; vertel de organisatie zelf dat u bevestigde.",
                    "You are involved with this child (or run its measure) and another organisation has contact with the child the hub cannot see, e.g. a joint home visit. Your confirmation is valid for 30 days; tell the organisation yourself that you confirmed.",
                )) }
                label for="m-org" { (lang.t("Organisatie", "Organisation")) }
                select id="m-org" name="org" {
                    option value="" { (lang.t("— kies —", "— choose —")) }
                    @for o in orgs {
                        option value=(o.oin) { (o.name) " — " (o.sector_name) }
                    }
                }
                div.actions { button type="submit" name="action" value="confirm" { (lang.t("Contact bevestigen", "Confirm contact")) } }
            }
        }
    }
}

/// Recording the family's consent for casusafstemming: who gave it, for which sectors, the
/// categories, how long, the evidence.
fn consent_form(app: &App, lang: Lang, t: &Typed) -> Markup {
    let names = CASE_CATEGORIES.map(str::to_owned);
    html! {
        details open[!t.givers.is_empty() || !t.gezag.is_empty()] {
            summary { (lang.t("Toestemming van het gezin vastleggen", "Record the family's consent")) }
            p.hint { (lang.t(
                "Voor casusafstemming: de betrokken organisaties mogen van elkaar weten en samen een veiligheidsplan maken. Na vastleggen is de toestemming hierboven aangevinkt.",
                "For casusafstemming: the organisations involved may know of each other and make a safety plan together. Once recorded, the consent is ticked above.",
            )) }
            label for="m-age" { (lang.t("Leeftijd (jaren)", "Age (years)")) }
            input id="m-age" name="age" value=(t.age) inputmode="numeric" maxlength="3";
            label for="m-gezag" { (lang.t("Gezaghebbenden (verwijzingen, gescheiden door komma's)", "Holders of gezag (references, comma-separated)")) }
            input id="m-gezag" name="gezag" value=(t.gezag) placeholder="ouder-1, ouder-2" aria-describedby="m-gezag-hint";
            p.hint id="m-gezag-hint" { (lang.t("Geen namen: een verwijzing naar uw eigen dossier, bijv. ouder-1.", "No names: a reference into your own file, e.g. ouder-1.")) }
            (giver_checks(lang, &holders(&t.gezag), &t.givers))
            fieldset.group {
                legend { (lang.t("Voor de organisaties van", "For the organisations of")) }
                @for (i, s) in app.convenant.sectors.iter().filter(|s| sector_from_name(&s.name).is_some()).enumerate() {
                    div.check {
                        input type="checkbox" id=(format!("sector{i}")) name="sector" value=(s.name) checked[t.sectors.contains(&s.name)];
                        label for=(format!("sector{i}")) { (s.description.as_deref().unwrap_or(&s.name)) }
                    }
                }
            }
            (category_checks(app, lang, &names, &t.categories))
            (consent_terms(lang, &t.months, &t.evidence, t.explicit))
            button type="submit" name="action" value="consent" { (lang.t("Toestemming vastleggen", "Record consent")) }
        }
    }
}

/// `GET /maatregel`.
pub async fn home(State(app): State<Arc<App>>, a: Authed) -> Response {
    let lang = a.lang();
    let mut outcome = Outcome::default();
    let orgs = directory_for_page(&app, &a, None, &mut outcome).await;
    let body = html! {
        @if let Some(p) = &outcome.problem { (p.render()) }
        (form(&app, &a, lang, &Typed::fresh(), &[], &orgs))
    };
    page(&app, &a, lang.t("Maatregel?", "Measure?"), body).into_response()
}

/// `POST /maatregel`: ask, list the cases, record the involvement, or confirm another's contact.
pub async fn submit(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let lang = a.lang();
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    let mut typed = Typed::from_data(&f);
    if f.get("action") == "consent" && !actions::works_on_cases(&app, &a.session.professional) {
        return problem_page(
            &app,
            &a,
            StatusCode::FORBIDDEN,
            lang.t("Maatregel?", "Measure?"),
            not_a_case_worker(lang),
        );
    }
    let title = lang.t("Maatregel?", "Measure?");
    let mut outcome = Outcome::default();
    let orgs = directory_for_page(&app, &a, None, &mut outcome).await;
    let bsn = match bsn_field(lang, f.get("bsn")) {
        Ok(b) => b,
        Err(p) => {
            let body =
                html! { (Problem::new(p).render()) (form(&app, &a, lang, &typed, &[], &orgs)) };
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&app, &a, title, body),
            )
                .into_response();
        }
    };
    typed.bsn = bsn.clone();
    let mut hub = match app.hub_as(&a.session.professional) {
        Ok(h) => h,
        Err(e) => {
            return page(&app, &a, title, Problem::from_client(lang, &e).render()).into_response();
        }
    };
    let who = &a.session.professional;
    if f.get("action") == "consent" {
        let (d, c) = typed.consent();
        let missing = consent_missing(lang, &d, &c);
        let (status, answer) = if !missing.is_empty() {
            let p = Problem {
                title: lang
                    .t(
                        "De toestemming is niet vastgelegd; vul aan:",
                        "The consent was not recorded; please complete:",
                    )
                    .into(),
                items: missing,
            };
            (StatusCode::UNPROCESSABLE_ENTITY, p.render())
        } else {
            match actions::record_consent(&app, who, &mut hub, &d, &c).await {
                Ok(k) => {
                    typed.consents.push(k.consent_id.clone());
                    typed.givers.clear();
                    typed.evidence.clear();
                    let notice = html! {
                        p.notice role="status" {
                            (lang.t("Toestemming vastgelegd (", "Consent recorded ("))
                            code { (k.consent_id) }
                            (lang.t(") en aangevinkt bij uw betrokkenheid hieronder.", ") and ticked for your involvement below."))
                        }
                    };
                    (StatusCode::OK, notice)
                }
                Err(p) => (StatusCode::OK, consent_problem(lang, p).render()),
            }
        };
        let on_record = consents_of(&mut hub, &bsn).await;
        let body = html! { (answer) (form(&app, &a, lang, &typed, &on_record, &orgs)) };
        return (status, page(&app, &a, title, body)).into_response();
    }
    let on_record = consents_of(&mut hub, &bsn).await;
    let plan = plan_consents(&typed.consents, &on_record);
    let answer: Markup = match f.get("action") {
        "involvement" if typed.contact.is_empty() => Problem::new(lang.t(
            "Vul in hoe collega's u bereiken.",
            "Fill in how colleagues reach you.",
        ))
        .render(),
        "involvement" => {
            match actions::register_involvement(
                &app,
                who,
                &mut hub,
                &bsn,
                &typed.contact,
                &typed.consents,
            )
            .await
            {
                Ok(r) => html! {
                    p.notice role="status" { (lang.t("Uw betrokkenheid is vastgelegd.", "Your involvement is recorded.")) }
                    @if let Some(k) = &r.case {
                        p { (lang.t("U deelt een zaak met andere betrokkenen: ", "You share a case with other involved parties: "))
                            a href=(case_href(&k.case_id, &plan)) { (lang.t("zaak ", "case ")) (k.case_id) } }
                    }
                },
                Err(e) => Problem::from_client(lang, &e).render(),
            }
        }
        "confirm" => {
            let org = f.get("org");
            if !signaalhub_client::sealed::is_oin(org) {
                Problem::new(lang.t(
                    "Organisatie: kies de organisatie waarvan u het contact bevestigt.",
                    "Organisation: choose the organisation whose contact you confirm.",
                ))
                .render()
            } else {
                match actions::confirm_involvement(&app, who, &mut hub, &bsn, org).await {
                    Ok(until) => html! {
                        p.notice role="status" {
                            (lang.t("Bevestigd. De organisatie kan haar betrokkenheid vastleggen tot ", "Confirmed. The organisation can record its involvement until "))
                            (date(lang, until)) "."
                        }
                    },
                    Err(e) => Problem::from_client(lang, &e).render(),
                }
            }
        }
        "cases" if !actions::works_on_cases(&app, who) => {
            Problem::new(super::zaak::not_a_case_worker(lang)).render()
        }
        "cases" => match actions::involved_parties(&app, who, &mut hub, &bsn).await {
            Ok(r) => cases(lang, &r, &plan),
            Err(e) => Problem::from_client(lang, &e).render(),
        },
        _ => match actions::ask_maatregel(&app, who, &mut hub, &bsn).await {
            Ok(r) if r.exists => html! {
                div.denied role="status" {
                    p { strong { (lang.t("Ja, er loopt een kinderbeschermingsmaatregel: ", "Yes, a child protection measure runs: ")) }
                        (r.kinds.iter().map(|k| kind_text(lang, *k)).collect::<Vec<_>>().join(", ")) "." }
                    p { (lang.t("Neem contact op met:", "Contact:")) }
                    ul { @for c in &r.contacts { li { (c.organization_name) " — " (c.contact_point) } } }
                    p.small { (lang.t("De gecertificeerde instelling is verteld dat u dit vroeg.", "The certified institution was told that you asked.")) }
                }
            },
            Ok(_) => {
                html! { div.allowed role="status" { p { strong { (lang.t("Nee, er loopt geen maatregel.", "No, no measure runs.")) } } } }
            }
            Err(e) => Problem::from_client(lang, &e).render(),
        },
    };
    page(
        &app,
        &a,
        title,
        html! { (answer) (form(&app, &a, lang, &typed, &on_record, &orgs)) },
    )
    .into_response()
}

/// The organisation's own involvements with the child and the cases they belong to.
fn cases(lang: Lang, r: &pb::ListInvolvedPartiesResponse, plan: &[String]) -> Markup {
    html! {
        section aria-labelledby="zaken" {
            h2 id="zaken" { (lang.t("Zaken van dit kind", "This child's cases")) }
            @if r.cases.is_empty() {
                p { (lang.t(
                    "Geen zaak: er is (nog) geen andere betrokkene die u mag kennen.",
                    "No case: there is no other involved party (yet) that you may know of.",
                )) }
            } @else {
                ul {
                    @for k in &r.cases {
                        li {
                            a href=(case_href(&k.case_id, plan)) { (lang.t("Zaak ", "Case ")) (k.case_id) }
                            " — " (k.parties.len()) (lang.t(" betrokkenen", " parties"))
                            @if let Some(c) = &k.coordinator { " — " (lang.t("casusregisseur: ", "coordinator: ")) (c.organization_name) }
                        }
                    }
                }
            }
        }
    }
}
