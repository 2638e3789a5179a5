//! The page frame (header, navigation, language switch), the home page and the static files.
use super::Authed;
use super::i18n::Lang;
use crate::app::App;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use maud::{DOCTYPE, Markup, html};
use std::sync::Arc;

/// The `<head>`: title, stylesheet, and the one script on pages with forms that use it.
fn head(title: &str, script: bool) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " — signaalhub" }
            link rel="stylesheet" href="/static/console.css";
            @if script { script src="/static/console.js" defer {} }
        }
    }
}

/// A full page for a logged-in professional.
pub fn page(app: &App, a: &Authed, title: &str, body: Markup) -> Markup {
    let lang = a.lang();
    let p = &a.session.professional;
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(title, true))
            body {
                a.skip href="#inhoud" { (lang.t("Naar de inhoud", "Skip to content")) }
                header {
                    div.org {
                        strong { "signaalhub" }
                        " · " (app.config.organisation.name)
                    }
                    nav aria-label=(lang.t("Hoofdmenu", "Main menu")) {
                        ul {
                            li { a href="/signaal/nieuw" { (lang.t("Nieuw signaal", "New signal")) } }
                            li { a href="/meldcode" { "Meldcode" } }
                            li { a href="/postvak" { (lang.t("Postvak", "Inbox")) } }
                            li { a href="/signalen" { (lang.t("Verzonden", "Sent")) } }
                            li { a href="/maatregel" { (lang.t("Maatregel?", "Measure?")) } }
                            @if super::register::may_use(app, p) {
                                li { a href="/register" { (lang.t("Register", "Register")) } }
                            }
                            @if crate::actions::handles_zorgmeldingen(app, p) {
                                li { a href="/meldingen" { (lang.t("Meldingen", "Meldingen")) } }
                            }
                            @if crate::actions::works_on_cases(app, p) {
                                li { a href="/berichten" { (lang.t("Berichten", "Notifications")) } }
                            }
                            @if crate::information::may_answer(app, p) {
                                li { a href="/informatieverzoeken" { (lang.t("Vragen van Veilig Thuis", "Questions from Veilig Thuis")) } }
                            }
                            @if super::politie::is_police(app, a) {
                                li { a href="/zorgmeldingen" { (lang.t("Zorgmeldingen", "Zorgmeldingen")) } }
                            }
                            @if super::gezin::may_use(app, p) {
                                li { a href="/gezin" { (lang.t("Gezin", "Family")) } }
                            }
                            @if p.roles.iter().any(|r| r == "fg") {
                                li { a href="/fg" { (lang.t("Privacy (FG)", "Privacy (DPO)")) } }
                            }
                        }
                    }
                    div.who {
                        span { (p.name) " (" (p.roles.join(", ")) ")" }
                        form method="post" action="/taal" {
                            input type="hidden" name="csrf" value=(a.session.csrf);
                            input type="hidden" name="lang" value=(lang.other().code());
                            button type="submit" lang=(lang.other().code()) {
                                (lang.t("English", "Nederlands"))
                            }
                        }
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(a.session.csrf);
                            button type="submit" { (lang.t("Uitloggen", "Log out")) }
                        }
                    }
                }
                main id="inhoud" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page without navigation (login, errors before login).
pub fn bare(lang: Lang, title: &str, text: &str) -> Markup {
    bare_with(lang, title, html! { p { (text) } })
}

/// A page without navigation, with its own body.
pub fn bare_with(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(title, false))
            body {
                main id="inhoud" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The home page: what this professional can do here.
pub async fn home(State(app): State<Arc<App>>, a: Authed) -> Markup {
    let lang = a.lang();
    let waiting = match app.store.count_unacknowledged().await {
        Ok(n) => n.to_string(),
        Err(_) => "?".into(),
    };
    page(
        &app,
        &a,
        lang.t("Welkom", "Welcome"),
        html! {
            p {
                (lang.t(
                    "Via deze console deelt u signalen met de partners van het convenant. De inhoud wordt hier, bij uw eigen organisatie, versleuteld en geopend; de hub kan haar niet lezen.",
                    "This console shares signals with the convenant's partners. Content is sealed and opened here, at your own organisation; the hub cannot read it.",
                ))
            }
            ul.tiles {
                li { a href="/signaal/nieuw" { (lang.t("Nieuw signaal", "New signal")) }
                     p { (lang.t("Een zorg delen, met toestemming of een wettelijke grondslag.", "Share a concern, with consent or a legal basis.")) } }
                li { a href="/meldcode" { "Meldcode" }
                     p { (lang.t("Melden bij Veilig Thuis na de stappen van de meldcode.", "Report to Veilig Thuis after the steps of the meldcode.")) } }
                li { a href="/postvak" { (lang.t("Postvak", "Inbox")) }
                     p { (waiting) " " (lang.t("nog niet als ontvangen bevestigd", "not yet acknowledged")) } }
                li { a href="/signalen" { (lang.t("Verzonden signalen", "Sent signals")) }
                     p { (lang.t("Status per ontvanger; terugroepen zolang niet afgeleverd.", "Status per recipient; recall while undelivered.")) } }
                @if super::register::may_use(&app, &a.session.professional) {
                    li { a href="/register" { (lang.t("Maatregelregister", "Measure register")) }
                         p { (lang.t("De maatregelen van uw organisatie: registreren, opzoeken, beëindigen.", "Your organisation's measures: register, look up, end.")) } }
                }
            }
        },
    )
}

/// The stylesheet (no inline styles: the content security policy forbids them).
pub async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/console.css"),
    )
}

/// The one script: the convenant's answer refreshed while the form changes. Every page works
/// without it.
pub async fn js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/console.js"),
    )
}
