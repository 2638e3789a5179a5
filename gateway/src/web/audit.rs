//! *Auditlog*: the gateway's own audit log (NEN 7513: which professional opened, sent,
//! acknowledged, recalled, logged in or out, when) for the organisation's privacy officer. It is
//! the gateway's record, not the hub's, so the gateway itself decides who reads it: role `fg`
//! only. Newest first, a page at a time; looking is itself a line in the log. The log holds no BSN
//! and no payload, and a value that looks like it could hold a BSN is not shown anyway.
use super::Authed;
use super::i18n::{Lang, when};
use super::layout::page;
use super::problem::Problem;
use crate::app::App;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use signaalhub_client::sealed;
use std::sync::Arc;

/// Lines per page.
pub const PAGE: i64 = 50;

/// The page asked for: the lines before line `voor` (the newest when absent).
#[derive(Debug, serde::Deserialize)]
pub struct AuditQuery {
    voor: Option<i64>,
}

/// Whether the professional is the organisation's privacy officer.
pub(super) fn is_fg(a: &Authed) -> bool {
    a.session.professional.roles.iter().any(|r| r == "fg")
}

/// A logged value as shown: each `/`-separated part kept when it is an OIN or holds no run of 9
/// or more digits, else hidden (a BSN is never logged, and never shown if one were).
pub(crate) fn shown(value: &str) -> String {
    value
        .split('/')
        .map(|part| {
            if sealed::is_oin(part) || !sealed::has_digit_run(part) {
                part
            } else {
                "[…]"
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// What an action means, in the console's language (the stored name as written otherwise).
fn action_text(lang: Lang, action: &str) -> &str {
    let known: &[(&str, &str, &str)] = &[
        ("opened", "signaal geopend", "signal opened"),
        ("sent", "signaal verstuurd", "signal sent"),
        (
            "acknowledged",
            "ontvangst bevestigd",
            "receipt acknowledged",
        ),
        ("recalled", "signaal teruggeroepen", "signal recalled"),
        (
            "consent_recorded",
            "toestemming vastgelegd",
            "consent recorded",
        ),
        (
            "consent_withdrawn",
            "toestemming ingetrokken",
            "consent withdrawn",
        ),
        (
            "involvement_registered",
            "betrokkenheid vastgelegd",
            "involvement recorded",
        ),
        ("maatregel_asked", "maatregel gevraagd", "measure asked"),
        (
            "maatregel_registered",
            "maatregel geregistreerd",
            "measure registered",
        ),
        ("maatregel_ended", "maatregel beëindigd", "measure ended"),
        (
            "maatregelen_listed",
            "maatregelen van een kind bekeken",
            "a child's measures listed",
        ),
        (
            "involvement_confirmed",
            "contact van een organisatie bevestigd",
            "an organisation's contact confirmed",
        ),
        (
            "cases_listed",
            "zaken van een kind bekeken",
            "a child's cases listed",
        ),
        (
            "involvement_ended",
            "betrokkenheid beëindigd",
            "involvement ended",
        ),
        ("case_viewed", "zaak bekeken", "case viewed"),
        (
            "notifications_viewed",
            "berichten bekeken",
            "notifications viewed",
        ),
        (
            "coordinator_proposed",
            "casusregisseur voorgesteld",
            "coordinator proposed",
        ),
        (
            "coordinator_accepted",
            "voorstel casusregisseur aanvaard",
            "coordinator proposal accepted",
        ),
        (
            "coordinator_declined",
            "voorstel casusregisseur afgewezen",
            "coordinator proposal declined",
        ),
        (
            "plan_opened",
            "veiligheidsplan geopend",
            "safety plan opened",
        ),
        (
            "plan_published",
            "veiligheidsplan verstuurd",
            "safety plan published",
        ),
        (
            "plan_confirmed",
            "veiligheidsplan bevestigd",
            "safety plan confirmed",
        ),
        (
            "zorgmelding_opened",
            "zorgmelding geopend",
            "zorgmelding opened",
        ),
        ("triage_recorded", "triage vastgelegd", "triage recorded"),
        (
            "triage_decided",
            "triagebesluit vastgelegd",
            "triage decision recorded",
        ),
        (
            "family_declined",
            "gezin wil geen wijkteam vastgelegd",
            "family declined the wijkteam",
        ),
        ("handover_sent", "overdracht verstuurd", "handover sent"),
        (
            "handover_letter",
            "brief bij overdracht bekeken",
            "handover letter viewed",
        ),
        ("handover_opened", "overdracht geopend", "handover opened"),
        (
            "handover_answered",
            "overdracht beantwoord",
            "handover answered",
        ),
        (
            "question_opened",
            "vraag van het wijkteam geopend",
            "the wijkteam's question opened",
        ),
        (
            "feedback_sent",
            "terugkoppeling aan de melder verstuurd",
            "feedback sent to the melder",
        ),
        (
            "feedback_opened",
            "terugkoppeling van Veilig Thuis geopend",
            "feedback from Veilig Thuis opened",
        ),
        (
            "melding_stage_set",
            "fase van een melding vastgelegd",
            "a melding's stage recorded",
        ),
        (
            "information_requested",
            "informatie gevraagd (Veilig Thuis)",
            "information asked (Veilig Thuis)",
        ),
        (
            "information_answer_opened",
            "antwoord op een informatieverzoek geopend",
            "answer to an information request opened",
        ),
        (
            "information_question_opened",
            "vraag van Veilig Thuis geopend",
            "question from Veilig Thuis opened",
        ),
        (
            "information_answered",
            "vraag van Veilig Thuis beantwoord",
            "question from Veilig Thuis answered",
        ),
        (
            "information_declined",
            "vraag van Veilig Thuis geweigerd",
            "question from Veilig Thuis declined",
        ),
        ("access_report", "inzagerapport opgevraagd", "access report"),
        (
            "access_letter",
            "brief voor het gezin",
            "letter for the family",
        ),
        ("audit_viewed", "auditlog bekeken", "audit log viewed"),
        ("login:dev", "ingelogd (dev)", "logged in (dev)"),
        ("login:oidc", "ingelogd", "logged in"),
        ("logout", "uitgelogd", "logged out"),
    ];
    known
        .iter()
        .find(|(k, ..)| *k == action)
        .map_or(action, |(_, nl, en)| lang.t(nl, en))
}

fn table(lang: Lang, lines: &[crate::store::AuditEntry]) -> Markup {
    html! {
        table {
            thead { tr {
                th scope="col" { "#" }
                th scope="col" { (lang.t("Wanneer", "When")) }
                th scope="col" { (lang.t("Wie", "Who")) }
                th scope="col" { (lang.t("Wat", "What")) }
                th scope="col" { (lang.t("Waarop", "On what")) }
            } }
            tbody {
                @for e in lines {
                    tr {
                        td { (e.id) }
                        td { (when(lang, e.at)) }
                        td { (shown(&e.professional)) }
                        td { (action_text(lang, &e.action)) br; small { code { (e.action) } } }
                        td { code { (shown(&e.object)) } }
                    }
                }
            }
        }
    }
}

/// `GET /fg/auditlog[?voor=N]`.
pub async fn list(State(app): State<Arc<App>>, a: Authed, Query(q): Query<AuditQuery>) -> Response {
    let lang = a.lang();
    let title = lang.t("Auditlog van deze gateway", "This gateway's audit log");
    if !is_fg(&a) {
        return (
            StatusCode::FORBIDDEN,
            page(
                &app,
                &a,
                title,
                Problem::new(lang.t(
                    "Het auditlog is alleen voor de privacyfunctionaris (rol fg).",
                    "The audit log is for the privacy officer (role fg) only.",
                ))
                .render(),
            ),
        )
            .into_response();
    }
    // The look itself is logged first; if it cannot be, nothing is shown.
    let who = &a.session.professional.id;
    let lines = match app.store.audit(who, "audit_viewed", "-").await {
        Ok(()) => app.store.audit_page(q.voor, PAGE).await,
        Err(e) => Err(e),
    };
    let lines = match lines {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "audit log");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                page(
                    &app,
                    &a,
                    title,
                    Problem::new(lang.t(
                        "Het auditlog kan nu niet worden gelezen.",
                        "The audit log cannot be read now.",
                    ))
                    .render(),
                ),
            )
                .into_response();
        }
    };
    let older = (lines.len() as i64 == PAGE)
        .then(|| lines.last().map(|e| e.id))
        .flatten();
    let body = html! {
        p { (lang.t(
            "Wie in deze gateway wat deed en wanneer (NEN 7513): openen, versturen, bevestigen, terugroepen, inloggen. Zonder BSN en zonder inhoud. Het verstrekkingenlog van de hub staat op de FG-pagina.",
            "Who did what in this gateway and when (NEN 7513): opening, sending, acknowledging, recalling, logging in. Without BSNs and without content. The hub's disclosure log is on the DPO page.",
        )) }
        @if lines.is_empty() {
            p { (lang.t("Geen regels.", "No lines.")) }
        } @else {
            (table(lang, &lines))
        }
        nav.pager aria-label=(lang.t("Bladeren", "Pages")) {
            @if q.voor.is_some() {
                a href="/fg/auditlog" { (lang.t("Nieuwste", "Newest")) }
                " "
            }
            @if let Some(id) = older {
                a href=(format!("/fg/auditlog?voor={id}")) { (lang.t("Oudere regels", "Older lines")) }
            }
        }
    };
    page(&app, &a, title, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oins_are_shown_and_what_could_be_a_bsn_is_not() {
        assert_eq!(
            shown("00000009901000000000/sig-1a2b"),
            "00000009901000000000/sig-1a2b"
        );
        assert_eq!(shown("x/111222333"), "x/[…]");
        assert_eq!(shown("-"), "-");
    }
}
