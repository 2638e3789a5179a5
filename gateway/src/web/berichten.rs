//! *Berichten*: the organisation's notifications from the hub (`StreamNotifications`, read by
//! `crate::notifications`) — a wijkteam asked about the GI's maatregel, another party is involved
//! with a child, a coordinator, a safety plan, an involvement ended — newest first, a page at a
//! time by cursor, each with its kind in plain Dutch, the hub's Dutch sentence, when, who acted
//! and the case it concerns. For the professionals who work on cases (as *Zaak*; not the FG).
//! Looking is written to the audit log (`notifications_viewed`) first: the notifications name who
//! acted where.
use super::i18n::{Lang, when};
use super::layout::page;
use super::problem::Problem;
use super::{Authed, problem_page};
use crate::actions;
use crate::app::App;
use crate::notifications::{self, Notification};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use std::collections::HashMap;
use std::sync::Arc;

/// Notifications per page.
pub const PAGE: usize = 25;

fn title(lang: Lang) -> &'static str {
    lang.t("Berichten", "Notifications")
}

fn table(lang: Lang, list: &[&Notification]) -> Markup {
    html! {
        table {
            thead { tr {
                th scope="col" { (lang.t("Wanneer", "When")) }
                th scope="col" { (lang.t("Soort", "Kind")) }
                th scope="col" { (lang.t("Bericht", "Message")) }
                th scope="col" { (lang.t("Door", "By")) }
                th scope="col" { (lang.t("Betreft", "Concerns")) }
            } }
            tbody {
                @for n in list {
                    @let (nl, en) = notifications::kind_text(n.kind);
                    tr {
                        td { (n.at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
                        td { (lang.t(nl, en)) }
                        td lang="nl" { (n.summary_nl) }
                        td {
                            (n.actor_name)
                            @if !n.actor_professional.is_empty() { br; small { (n.actor_professional) } }
                        }
                        td {
                            @if actions::valid_record_id(&n.case_id) {
                                a href=(format!("/zaak/{}", n.case_id)) {
                                    (lang.t("Zaak", "Case")) span.visually-hidden { " " (n.case_id) }
                                }
                                @if n.plan_version > 0 {
                                    br; small { (lang.t("veiligheidsplan versie ", "safety plan version ")) (n.plan_version) }
                                }
                            } @else if !n.maatregel_id.is_empty() {
                                (lang.t("Maatregel ", "Maatregel ")) code { (n.maatregel_id) }
                            } @else if let Some(href) = melding_href(&n.reference) {
                                a href=(href) {
                                    (lang.t("Melding", "Melding")) span.visually-hidden { " " (n.reference) }
                                }
                            } @else if !n.reference.is_empty() {
                                (lang.t("Overdracht ", "Handover ")) code { (n.reference) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The console's page of a melding a reminder names (`zm_…` or `signal/<OIN>/<id>`), if it is
/// one (a handover reminder names the handover id instead).
fn melding_href(reference: &str) -> Option<String> {
    if let Some(rest) = reference.strip_prefix("signal/") {
        let (sender, id) = rest.split_once('/')?;
        let oin = sender.len() == 20 && sender.bytes().all(|b| b.is_ascii_digit());
        return (oin && actions::valid_record_id(id))
            .then(|| format!("/melding/signaal/{sender}/{id}"));
    }
    (reference.starts_with("zm_") && actions::valid_record_id(reference))
        .then(|| format!("/melding/zm/{reference}"))
}

/// `GET /berichten[?voor=CURSOR]`.
pub async fn list(
    State(app): State<Arc<App>>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = a.lang();
    if !actions::works_on_cases(&app, &a.session.professional) {
        return problem_page(
            &app,
            &a,
            StatusCode::FORBIDDEN,
            title(lang),
            lang.t(
                "Berichten over zaken zijn voor professionals in een rol van het convenant.",
                "Notifications about cases are for professionals in a convenant role.",
            ),
        );
    }
    let before = match q.get("voor").map(|v| v.parse::<u64>()) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => {
            return problem_page(
                &app,
                &a,
                StatusCode::BAD_REQUEST,
                title(lang),
                lang.t(
                    "Deze pagina bestaat niet: 'voor' moet een volgnummer zijn.",
                    "This page does not exist: 'voor' must be a sequence number.",
                ),
            );
        }
    };
    let who = &a.session.professional;
    if let Err(e) = app
        .store
        .audit(
            &who.id,
            "notifications_viewed",
            &before.map_or("-".into(), |c| c.to_string()),
        )
        .await
    {
        tracing::warn!(error = %e, "audit log");
        return problem_page(
            &app,
            &a,
            StatusCode::SERVICE_UNAVAILABLE,
            title(lang),
            lang.t(
                "Het auditlog kan nu niet worden geschreven; daarom worden de berichten niet getoond.",
                "The audit log cannot be written now, so the notifications are not shown.",
            ),
        );
    }
    let all = match notifications::read_all(&app, who).await {
        Ok(all) => all,
        Err(e) => {
            return page(
                &app,
                &a,
                title(lang),
                Problem::from_client(lang, &e).render(),
            )
            .into_response();
        }
    };
    let (shown, older) = notifications::page(&all, before, PAGE);
    let body = html! {
        p { (lang.t(
            "Wat andere organisaties deden dat uw organisatie aangaat: een nieuwe betrokkene, een casusregisseur, een veiligheidsplan, een vraag naar een maatregel. Nieuwste eerst.",
            "What other organisations did that concerns yours: another party involved, a coordinator, a safety plan, a question about a maatregel. Newest first.",
        )) }
        @if shown.is_empty() {
            p { (lang.t("Geen berichten.", "No notifications.")) }
        } @else {
            (table(lang, &shown))
        }
        nav.pager aria-label=(lang.t("Bladeren", "Pages")) {
            @if before.is_some() {
                a href="/berichten" { (lang.t("Nieuwste", "Newest")) }
                " "
            }
            @if let Some(c) = older {
                a href=(format!("/berichten?voor={c}")) { (lang.t("Oudere berichten", "Older notifications")) }
            }
        }
    };
    page(&app, &a, title(lang), body).into_response()
}

#[cfg(test)]
mod tests {
    use super::melding_href;

    #[test]
    fn a_reminder_links_its_melding_and_nothing_else() {
        assert_eq!(
            melding_href("signal/00000009901000000000/meldcode-1").as_deref(),
            Some("/melding/signaal/00000009901000000000/meldcode-1")
        );
        assert_eq!(
            melding_href("zm_abc").as_deref(),
            Some("/melding/zm/zm_abc")
        );
        for not in [
            "ho-1",
            "",
            "signal/123/x",
            "signal/00000009901000000000/../x",
            "zm_<b>",
        ] {
            assert_eq!(melding_href(not), None, "{not}");
        }
    }
}
