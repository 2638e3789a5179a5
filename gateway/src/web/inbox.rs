//! *Postvak*: what arrived for this organisation, opened here (never at the hub), with every
//! opening written to the gateway's audit log; acknowledging tells the sender it arrived.
use super::i18n::{Lang, date, when};
use super::layout::page;
use super::problem::Problem;
use super::signal::FormData;
use super::{Authed, csrf_refused};
use crate::actions::{self, OpenError, Unopened};
use crate::app::App;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use signaalhub_client::signaalhub_proto::pb;
use std::sync::Arc;

fn urgency_text(lang: Lang, u: i32) -> &'static str {
    match pb::Urgency::try_from(u).unwrap_or(pb::Urgency::Unspecified) {
        pb::Urgency::High => lang.t("hoog", "high"),
        pb::Urgency::Acute => lang.t("ACUUT", "ACUTE"),
        _ => lang.t("normaal", "normal"),
    }
}

/// `GET /postvak`.
pub async fn list(State(app): State<Arc<App>>, a: Authed) -> Response {
    let lang = a.lang();
    let items = match app.store.list_received(500).await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "inbox list");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                page(
                    &app,
                    &a,
                    lang.t("Postvak", "Inbox"),
                    Problem::new(lang.t(
                        "Het postvak kan nu niet worden gelezen.",
                        "The inbox cannot be read now.",
                    ))
                    .render(),
                ),
            )
                .into_response();
        }
    };
    let vt = actions::handles_zorgmeldingen(&app, &a.session.professional);
    let meldingen = if vt {
        Some(app.store.list_meldingen(200).await.unwrap_or_default())
    } else {
        None
    };
    let handovers = super::overdracht::postvak_section(&app, &a).await;
    let handovers_shown = handovers.is_some();
    page(
        &app,
        &a,
        lang.t("Postvak", "Inbox"),
        html! {
            @if let Some(m) = &meldingen { (super::zorgmelding::melding_list(lang, m)) }
            @if let Some(h) = handovers { (h) }
            @if meldingen.is_some() || handovers_shown { h2 { (lang.t("Signalen", "Signals")) } }
            @if items.is_empty() {
                p { (lang.t("Er is niets binnengekomen.", "Nothing has arrived.")) }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { (lang.t("Binnengekomen", "Arrived")) }
                        th scope="col" { (lang.t("Van", "From")) }
                        th scope="col" { (lang.t("Doel", "Purpose")) }
                        th scope="col" { (lang.t("Urgentie", "Urgency")) }
                        th scope="col" { (lang.t("Status", "Status")) }
                        th scope="col" { span.visually-hidden { (lang.t("Openen", "Open")) } }
                        @if vt { th scope="col" { span.visually-hidden { (lang.t("Triage", "Triage")) } } }
                    } }
                    tbody {
                        @for r in &items {
                            tr {
                                td { (when(lang, r.received_at)) }
                                td { (r.sender_oin) }
                                td { (r.purpose) }
                                td { (urgency_text(lang, r.urgency)) }
                                td { @if r.acknowledged.is_some() { (lang.t("bevestigd", "acknowledged")) } @else { strong { (lang.t("nieuw", "new")) } } }
                                td { a href=(format!("/postvak/{}/{}", r.sender_oin, r.signal_id)) { (lang.t("Openen", "Open")) span.visually-hidden { " " (r.signal_id) } } }
                                @if vt {
                                    td { @if crate::handover::MELDING_PURPOSES.contains(&r.purpose.as_str()) {
                                        a href=(format!("/melding/signaal/{}/{}", r.sender_oin, r.signal_id)) { (lang.t("Triage", "Triage")) span.visually-hidden { " " (r.signal_id) } }
                                    } }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

/// What a page opens (for the texts when it cannot).
#[derive(Debug, Clone, Copy)]
pub(super) enum Opening {
    /// A received signal.
    Signal,
    /// A police zorgmelding.
    Zorgmelding,
}

/// The answer when a received item cannot be looked up: not here, the store, or the audit log
/// that must be written before anything is shown (NEN 7513; if it cannot be, nothing is shown).
pub(super) fn open_failed(
    app: &App,
    a: &Authed,
    title: &str,
    e: OpenError,
    what: Opening,
) -> Response {
    let lang = a.lang();
    let (status, text) = match (e, what) {
        (OpenError::NotFound, Opening::Signal) => (
            StatusCode::NOT_FOUND,
            lang.t(
                "Dit signaal is er niet (meer).",
                "This signal is not (or no longer) here.",
            ),
        ),
        (OpenError::NotFound, Opening::Zorgmelding) => (
            StatusCode::NOT_FOUND,
            lang.t(
                "Deze zorgmelding is er niet (meer).",
                "This zorgmelding is not (or no longer) here.",
            ),
        ),
        (OpenError::Store(e), _) => {
            tracing::warn!(error = %e, "received item read");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                lang.t(
                    "Het postvak kan nu niet worden gelezen.",
                    "The inbox cannot be read now.",
                ),
            )
        }
        (OpenError::Audit(e), what) => {
            tracing::warn!(error = %e, "audit log");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                match what {
                    Opening::Signal => lang.t(
                        "Het inzagelog kan nu niet worden bijgewerkt; daarom wordt het signaal niet getoond.",
                        "The access log cannot be written now, so the signal is not shown.",
                    ),
                    Opening::Zorgmelding => lang.t(
                        "Het inzagelog kan nu niet worden bijgewerkt; daarom wordt de zorgmelding niet getoond.",
                        "The access log cannot be written now, so the zorgmelding is not shown.",
                    ),
                },
            )
        }
    };
    (status, page(app, a, title, Problem::new(text).render())).into_response()
}

/// Why an envelope, found and logged, did not open: one sentence without payload bytes.
pub(super) fn unopened_text(lang: Lang, u: &Unopened) -> String {
    match u {
        Unopened::Damaged => lang
            .t("De envelop is beschadigd.", "The envelope is damaged.")
            .to_owned(),
        Unopened::Hub(e) => Problem::from_client(lang, e).title,
        Unopened::Refused(why) => why.clone(),
    }
}

/// An opened payload: its text, or its size when it is not text.
pub(super) fn payload(lang: Lang, bytes: &[u8]) -> Markup {
    html! {
        @match std::str::from_utf8(bytes) {
            Ok(text) => { pre.message { (text) } }
            Err(_) => { p { (bytes.len()) (lang.t(" bytes (geen tekst)", " bytes (not text)")) } }
        }
    }
}

/// `GET /postvak/{sender}/{id}`: opens the envelope here and shows it.
pub async fn open(
    State(app): State<Arc<App>>,
    a: Authed,
    Path((sender, id)): Path<(String, String)>,
) -> Response {
    let lang = a.lang();
    let title = lang.t("Signaal", "Signal");
    let (item, opened) =
        match actions::open_received(&app, &a.session.professional, &sender, &id).await {
            Ok(x) => x,
            Err(e) => return open_failed(&app, &a, title, e, Opening::Signal),
        };
    let opened = opened.map_err(|u| unopened_text(lang, &u));
    let body: Markup = html! {
        dl.meta {
            dt { (lang.t("Van", "From")) } dd { (item.sender_oin) }
            dt { (lang.t("Signaal", "Signal")) } dd { code { (item.signal_id) } }
            dt { (lang.t("Doel", "Purpose")) } dd { (item.purpose) }
            dt { (lang.t("Gegevens", "Data")) } dd { (item.categories.join(", ")) }
            dt { (lang.t("Grondslag", "Basis")) } dd { (item.basis.join(", ")) }
            dt { (lang.t("Urgentie", "Urgency")) } dd { (urgency_text(lang, item.urgency)) }
            @if let Some(t) = item.sent_at { dt { (lang.t("Verzonden", "Sent")) } dd { (when(lang, t)) } }
            @if let Some(t) = item.retain_until { dt { (lang.t("Bewaren tot", "Keep until")) } dd { (date(lang, t)) } }
        }
        @match &opened {
            Ok(bytes) => {
                section aria-labelledby="bericht" {
                    h2 id="bericht" { (lang.t("Bericht", "Message")) }
                    p.verified { (lang.t("Handtekening van de afzender gecontroleerd.", "Sender's signature verified.")) }
                    (payload(lang, bytes))
                }
            }
            Err(why) => {
                (Problem { title: lang.t("Dit signaal kon niet worden geopend; het is niet als ontvangen bevestigd.", "This signal could not be opened; it was not acknowledged.").into(), items: vec![why.clone()] }.render())
            }
        }
        @if opened.is_ok() {
            @match &item.acknowledged {
                Some((at, by)) => { p { (lang.t("Ontvangst bevestigd door ", "Acknowledged by ")) (by) ", " (when(lang, *at)) "." } }
                None => {
                    form method="post" action=(format!("/postvak/{}/{}/ontvangen", item.sender_oin, item.signal_id)) {
                        input type="hidden" name="csrf" value=(a.session.csrf);
                        button.primary type="submit" { (lang.t("Ontvangst bevestigen", "Acknowledge receipt")) }
                    }
                }
            }
        }
    };
    page(&app, &a, title, body).into_response()
}

/// `POST /postvak/{sender}/{id}/ontvangen`: acknowledges at the hub, then locally.
pub async fn acknowledge(
    State(app): State<Arc<App>>,
    a: Authed,
    Path((sender, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let lang = a.lang();
    if !a.csrf_ok(FormData::parse(&body).get("csrf")) {
        return csrf_refused(lang);
    }
    if !actions::valid_received_key(&sender, &id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Err(e) = actions::acknowledge(&app, &a.session.professional, &sender, &id).await {
        return page(
            &app,
            &a,
            lang.t("Ontvangst bevestigen", "Acknowledge"),
            Problem::from_client(lang, &e).render(),
        )
        .into_response();
    }
    Redirect::to(&format!("/postvak/{sender}/{id}")).into_response()
}
