//! *Meldingen* (Veilig Thuis): every melding delivered to this Veilig Thuis — police
//! zorgmeldingen and meldcode signals — with its stage now, whether it is under assessment, the
//! next review and whether that is due, the triage and when it arrived (`ListMeldingen`). Due
//! reviews first, then by review date, then the others newest first; a stage filter (a GET
//! form) and pages. Each row links to the melding's own page (`/melding/...`). Only for a
//! professional in a Veilig Thuis role of the convenant (the FG and other sectors: 403); the hub
//! lists only this organisation's meldingen.
use super::i18n::{Lang, when};
use super::informatie::stage_text;
use super::layout::page;
use super::problem::Problem;
use super::triage::{DECISIONS, not_veilig_thuis};
use super::{Authed, problem_page};
use crate::app::App;
use crate::handover::Melding;
use crate::information::{self, STAGES};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use signaalhub_client::signaalhub_proto::pb;
use std::collections::HashMap;
use std::sync::Arc;

fn title(lang: Lang) -> &'static str {
    lang.t("Meldingen", "Meldingen")
}

/// The console's page of a listed melding, when its ids are well-formed.
fn melding_of(m: &pb::ListedMelding) -> Option<Melding> {
    match &m.signal {
        Some(s) => Melding::parse(None, Some((&s.sender_oin, &s.signal_id))),
        None => Melding::parse(Some(&m.zorgmelding_id), None),
    }
}

/// The review column: the date, its state in words, and *aan de beurt* when the date passed.
fn review(lang: Lang, m: &pb::ListedMelding) -> Markup {
    html! {
        @if let Some(at) = &m.review_at {
            (when(lang, at.seconds))
            @if m.review_due {
                br; strong.due { (lang.t("aan de beurt: de datum is verstreken", "due: the date has passed")) }
                @if m.review_state == "REMINDED" {
                    br; small { (lang.t("Veilig Thuis is herinnerd (Berichten)", "Veilig Thuis was reminded (Notifications)")) }
                }
            } @else {
                br; small { (lang.t("gepland", "planned")) }
            }
        } @else {
            (lang.t("geen gepland", "none planned"))
        }
    }
}

fn triage_text(lang: Lang, m: &pb::ListedMelding) -> String {
    if !m.triaged {
        return lang.t("nog niet getrieerd", "not triaged yet").into();
    }
    let words = crate::coded::words(DECISIONS, m.decision)
        .map_or(lang.t("onbekend", "unknown"), |(nl, en)| lang.t(nl, en));
    if m.decision_recorded {
        format!("{}: {words}", lang.t("besluit", "decision"))
    } else {
        format!(
            "{}: {words}",
            lang.t("advies (nog geen besluit)", "advice (no decision yet)")
        )
    }
}

fn table(lang: Lang, list: &[pb::ListedMelding]) -> Markup {
    html! {
        table {
            thead { tr {
                th scope="col" { (lang.t("Melding", "Melding")) }
                th scope="col" { (lang.t("Ontvangen", "Received")) }
                th scope="col" { (lang.t("Fase", "Stage")) }
                th scope="col" { (lang.t("Herbeoordeling", "Review")) }
                th scope="col" { (lang.t("Triage", "Triage")) }
            } }
            tbody {
                @for m in list {
                    tr {
                        td {
                            @let kind = if m.signal.is_some() {
                                lang.t("Meldcode-signaal", "Meldcode signal")
                            } else {
                                lang.t("Zorgmelding politie", "Police zorgmelding")
                            };
                            @match melding_of(m) {
                                Some(ml) => { a href=(ml.path()) { (kind) } br; small { code { (ml.reference()) } } }
                                None => { (kind) }
                            }
                        }
                        td { (m.received_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
                        td {
                            (stage_text(lang, m.stage))
                            br; small { @if m.under_assessment {
                                (lang.t("in beoordeling", "under assessment"))
                            } @else {
                                (lang.t("niet in beoordeling", "not under assessment"))
                            } }
                        }
                        td { (review(lang, m)) }
                        td { (triage_text(lang, m)) }
                    }
                }
            }
        }
    }
}

/// The stage filter: a GET form (no CSRF token: it changes nothing).
fn filter(lang: Lang, chosen: &str) -> Markup {
    html! {
        form method="get" action="/meldingen" {
            label for="fase" { (lang.t("Fase", "Stage")) }
            select id="fase" name="fase" {
                option value="" selected[chosen.is_empty()] { (lang.t("Alle fasen", "Every stage")) }
                @for (code, _, nl, en) in STAGES {
                    option value=(code) selected[*code == chosen] { (lang.t(nl, en)) }
                }
            }
            button type="submit" { (lang.t("Tonen", "Show")) }
        }
    }
}

/// `GET /meldingen[?fase=STAGE][&pagina=TOKEN]`.
pub async fn list(
    State(app): State<Arc<App>>,
    a: Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = a.lang();
    if let Some(refused) = not_veilig_thuis(&app, &a, title(lang)) {
        return refused;
    }
    let fase = q.get("fase").map(String::as_str).unwrap_or_default();
    let stage = if fase.is_empty() {
        Some(0)
    } else {
        STAGES
            .iter()
            .find(|(code, ..)| *code == fase)
            .map(|(_, s, ..)| *s as i32)
    };
    let Some(stage) = stage else {
        return problem_page(
            &app,
            &a,
            StatusCode::BAD_REQUEST,
            title(lang),
            lang.t(
                "Deze fase bestaat niet: kies er een uit de lijst.",
                "This stage does not exist: choose one from the list.",
            ),
        );
    };
    let token = q.get("pagina").map(String::as_str).unwrap_or_default();
    let r = match information::meldingen(&app, &a.session.professional, stage, token).await {
        Ok(r) => r,
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
    let with_fase = |extra: &str| {
        let mut query: Vec<String> = Vec::new();
        if !fase.is_empty() {
            query.push(format!("fase={fase}"));
        }
        if !extra.is_empty() {
            query.push(format!("pagina={}", encode(extra)));
        }
        if query.is_empty() {
            "/meldingen".to_owned()
        } else {
            format!("/meldingen?{}", query.join("&"))
        }
    };
    let body = html! {
        p { (lang.t(
            "Alle meldingen aan Veilig Thuis — zorgmeldingen van de politie en signalen onder de meldcode — met hun fase en de volgende herbeoordeling. Eerst de herbeoordelingen die aan de beurt zijn, dan op datum van herbeoordeling, dan de overige meldingen, nieuwste eerst.",
            "Every melding to Veilig Thuis — police zorgmeldingen and meldcode signals — with its stage and next review. Reviews that are due first, then by review date, then the other meldingen, newest first.",
        )) }
        (filter(lang, fase))
        @if r.meldingen.is_empty() {
            p { (lang.t("Geen meldingen.", "No meldingen.")) }
        } @else {
            (table(lang, &r.meldingen))
        }
        nav.pager aria-label=(lang.t("Bladeren", "Pages")) {
            @if !token.is_empty() {
                a href=(with_fase("")) { (lang.t("Eerste pagina", "First page")) }
                " "
            }
            @if !r.next_page_token.is_empty() {
                a href=(with_fase(&r.next_page_token)) { (lang.t("Volgende pagina", "Next page")) }
            }
        }
    };
    page(&app, &a, title(lang), body).into_response()
}

/// A page token in a query string: everything but unreserved characters percent-encoded.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Lang, encode, pb, review};

    #[test]
    fn a_due_review_says_so_in_words() {
        let m = |due: bool, state: &str| pb::ListedMelding {
            review_at: Some(prost_types::Timestamp {
                seconds: 1_800_000_000,
                nanos: 0,
            }),
            review_due: due,
            review_state: state.into(),
            ..Default::default()
        };
        let due = review(Lang::Nl, &m(true, "PLANNED")).into_string();
        assert!(
            due.contains("aan de beurt: de datum is verstreken"),
            "{due}"
        );
        let told = review(Lang::En, &m(true, "REMINDED")).into_string();
        assert!(told.contains("due: the date has passed"), "{told}");
        assert!(told.contains("was reminded"), "{told}");
        let later = review(Lang::Nl, &m(false, "PLANNED")).into_string();
        assert!(
            later.contains("gepland") && !later.contains("aan de beurt"),
            "{later}"
        );
        let none = review(Lang::Nl, &pb::ListedMelding::default()).into_string();
        assert!(none.contains("geen gepland"), "{none}");
    }

    #[test]
    fn a_page_token_travels_percent_encoded() {
        assert_eq!(
            encode("9223372036854775807:-1700000000:signal/00000009901000000000/m-1"),
            "9223372036854775807%3A-1700000000%3Asignal%2F00000009901000000000%2Fm-1"
        );
    }
}
