//! *Maatregel?*: the wijkcoach's minimal question — does a child protection measure run for this
//! child, and whom do I call — asked by an organisation that recorded its involvement with the
//! child. The hub answers only "yes, this kind, call them" or "no", and tells the GI when it is
//! yes; the console only asks and shows. From here the professional records the involvement (on
//! the consents on record, the basis for telling the other parties), confirms another
//! organisation's contact with the child, and opens the cases it shares about the child
//! (`super::zaak`).
use super::disclosure::{Outcome, consent_checks, consents_of, directory_for_page};
use super::i18n::{Lang, date};
use super::layout::page;
use super::problem::Problem;
use super::signal::FormData;
use super::{Authed, bsn_field, csrf_refused};
use crate::actions;
use crate::app::App;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use signaalhub_client::signaalhub_proto::pb;
use std::sync::Arc;

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
}

fn form(
    a: &Authed,
    lang: Lang,
    t: &Typed,
    on_record: &[pb::Consent],
    orgs: &[pb::Organization],
) -> Markup {
    html! {
        form method="post" action="/maatregel" {
            input type="hidden" name="csrf" value=(a.session.csrf);
            label for="m-bsn" { "BSN" }
            input id="m-bsn" name="bsn" value=(t.bsn) inputmode="numeric" autocomplete="off" maxlength="11" required;
            div.actions {
                button.primary type="submit" name="action" value="ask" { (lang.t("Loopt er een maatregel?", "Is there a measure?")) }
                button type="submit" name="action" value="cases" { (lang.t("Zaken van dit kind", "This child's cases")) }
            }
            fieldset {
                legend { (lang.t("Mijn betrokkenheid", "My involvement")) }
                p.hint { (lang.t(
                    "De vraag mag alleen wie betrokken is bij het kind. Leg uw betrokkenheid vast als dat nog niet is gebeurd; andere betrokkenen zien haar pas met een grondslag (toestemming voor casusafstemming, hieronder aan te vinken).",
                    "Only an organisation involved with the child may ask. Record your involvement if you have not; other involved parties see it only with a basis (consent for casusafstemming, to tick below).",
                )) }
                label for="m-contact" { (lang.t("Hoe collega's u bereiken", "How colleagues reach you")) }
                input id="m-contact" name="contact" value=(t.contact) maxlength="200" placeholder="G. K., wijkcoach, 026-0000002";
                (consent_checks(lang, on_record, &t.consents))
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

/// `GET /maatregel`.
pub async fn home(State(app): State<Arc<App>>, a: Authed) -> Response {
    let lang = a.lang();
    let mut outcome = Outcome::default();
    let orgs = directory_for_page(&app, &a, None, &mut outcome).await;
    let body = html! {
        @if let Some(p) = &outcome.problem { (p.render()) }
        (form(&a, lang, &Typed::default(), &[], &orgs))
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
    let mut typed = Typed {
        bsn: f.get("bsn").to_owned(),
        contact: f.get("contact").to_owned(),
        consents: f.all("consent"),
    };
    let title = lang.t("Maatregel?", "Measure?");
    let mut outcome = Outcome::default();
    let orgs = directory_for_page(&app, &a, None, &mut outcome).await;
    let bsn = match bsn_field(lang, f.get("bsn")) {
        Ok(b) => b,
        Err(p) => {
            let body = html! { (Problem::new(p).render()) (form(&a, lang, &typed, &[], &orgs)) };
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
                            a href=(format!("/zaak/{}", k.case_id)) { (lang.t("zaak ", "case ")) (k.case_id) } }
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
            Ok(r) => cases(lang, &r),
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
    let on_record = consents_of(&mut hub, &bsn).await;
    page(
        &app,
        &a,
        title,
        html! { (answer) (form(&a, lang, &typed, &on_record, &orgs)) },
    )
    .into_response()
}

/// The organisation's own involvements with the child and the cases they belong to.
fn cases(lang: Lang, r: &pb::ListInvolvedPartiesResponse) -> Markup {
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
                            a href=(format!("/zaak/{}", k.case_id)) { (lang.t("Zaak ", "Case ")) (k.case_id) }
                            " — " (k.parties.len()) (lang.t(" betrokkenen", " parties"))
                            @if let Some(c) = &k.coordinator { " — " (lang.t("casusregisseur: ", "coordinator: ")) (c.organization_name) }
                        }
                    }
                }
            }
        }
    }
}
