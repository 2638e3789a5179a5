//! *Maatregel?*: the wijkcoach's minimal question — does a child protection measure run for this
//! child, and whom do I call — asked by an organisation that recorded its involvement with the
//! child. The hub answers only "yes, this kind, call them" or "no", and tells the GI when it is
//! yes; the console only asks and shows.
use super::i18n::Lang;
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

fn form(a: &Authed, lang: Lang, bsn: &str, contact: &str) -> Markup {
    html! {
        form method="post" action="/maatregel" {
            input type="hidden" name="csrf" value=(a.session.csrf);
            label for="m-bsn" { "BSN" }
            input id="m-bsn" name="bsn" value=(bsn) inputmode="numeric" autocomplete="off" maxlength="11" required;
            fieldset {
                legend { (lang.t("Mijn betrokkenheid", "My involvement")) }
                p.hint { (lang.t(
                    "De vraag mag alleen wie betrokken is bij het kind. Leg uw betrokkenheid vast als dat nog niet is gebeurd; andere betrokkenen zien haar pas met een grondslag (toestemming voor casusafstemming).",
                    "Only an organisation involved with the child may ask. Record your involvement if you have not; other involved parties see it only with a basis (consent for casusafstemming).",
                )) }
                label for="m-contact" { (lang.t("Hoe collega's u bereiken", "How colleagues reach you")) }
                input id="m-contact" name="contact" value=(contact) maxlength="200" placeholder="G. K., wijkcoach, 026-0000002";
                div.actions { button type="submit" name="action" value="involvement" { (lang.t("Betrokkenheid vastleggen", "Record involvement")) } }
            }
            div.actions { button.primary type="submit" name="action" value="ask" { (lang.t("Loopt er een maatregel?", "Is there a measure?")) } }
        }
    }
}

/// `GET /maatregel`.
pub async fn home(State(app): State<Arc<App>>, a: Authed) -> Response {
    let lang = a.lang();
    page(
        &app,
        &a,
        lang.t("Maatregel?", "Measure?"),
        form(&a, lang, "", ""),
    )
    .into_response()
}

/// `POST /maatregel`: record the involvement, or ask.
pub async fn submit(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let lang = a.lang();
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    let contact = f.get("contact").to_owned();
    let title = lang.t("Maatregel?", "Measure?");
    let bsn = match bsn_field(lang, f.get("bsn")) {
        Ok(b) => b,
        Err(p) => {
            let p = Problem::new(p);
            let typed = f.get("bsn");
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(
                    &app,
                    &a,
                    title,
                    html! { (p.render()) (form(&a, lang, typed, &contact)) },
                ),
            )
                .into_response();
        }
    };
    let mut hub = match app.hub_as(&a.session.professional) {
        Ok(h) => h,
        Err(e) => {
            return page(&app, &a, title, Problem::from_client(lang, &e).render()).into_response();
        }
    };
    let who = &a.session.professional;
    let answer: Markup = if f.get("action") == "involvement" {
        if contact.is_empty() {
            Problem::new(lang.t(
                "Vul in hoe collega's u bereiken.",
                "Fill in how colleagues reach you.",
            ))
            .render()
        } else {
            match actions::register_involvement(&app, who, &mut hub, &bsn, &contact).await {
                Ok(()) => {
                    html! { p.notice role="status" { (lang.t("Uw betrokkenheid is vastgelegd.", "Your involvement is recorded.")) } }
                }
                Err(e) => Problem::from_client(lang, &e).render(),
            }
        }
    } else {
        match actions::ask_maatregel(&app, who, &mut hub, &bsn).await {
            Ok(r) => {
                if r.exists {
                    html! {
                        div.denied role="status" {
                            p { strong { (lang.t("Ja, er loopt een kinderbeschermingsmaatregel: ", "Yes, a child protection measure runs: ")) }
                                (r.kinds.iter().map(|k| kind_text(lang, *k)).collect::<Vec<_>>().join(", ")) "." }
                            p { (lang.t("Neem contact op met:", "Contact:")) }
                            ul { @for c in &r.contacts { li { (c.organization_name) " — " (c.contact_point) } } }
                            p.small { (lang.t("De gecertificeerde instelling is verteld dat u dit vroeg.", "The certified institution was told that you asked.")) }
                        }
                    }
                } else {
                    html! { div.allowed role="status" { p { strong { (lang.t("Nee, er loopt geen maatregel.", "No, no measure runs.")) } } } }
                }
            }
            Err(e) => Problem::from_client(lang, &e).render(),
        }
    };
    page(
        &app,
        &a,
        title,
        html! { (answer) (form(&a, lang, &bsn, &contact)) },
    )
    .into_response()
}
