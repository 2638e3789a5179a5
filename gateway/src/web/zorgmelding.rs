//! Zorgmeldingen in the *Postvak* of a Veilig Thuis: the police's melding about one incident with
//! its fragments, stored still sealed by the zorgmelding fetcher (`crate::inbox`), opened here
//! when a professional in a Veilig Thuis role looks (written to the audit log first). Read only:
//! triage and the handover are on their own screens (`web::triage`, `web::overdragen`).
use super::Authed;
use super::i18n::{Lang, date, when};
use super::inbox::{Opening, open_failed, payload, unopened_text};
use super::layout::page;
use super::problem::Problem;
use crate::actions::{self, Unopened};
use crate::app::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use signaalhub_client::signaalhub_proto::pb;
use std::sync::Arc;

/// A fragment's kind in the console's language.
pub(super) fn kind_text(lang: Lang, k: i32) -> &'static str {
    match pb::FragmentKind::try_from(k).unwrap_or(pb::FragmentKind::Unspecified) {
        pb::FragmentKind::Incident => lang.t("het incident", "the incident"),
        pb::FragmentKind::Persons => lang.t("betrokken personen", "persons involved"),
        pb::FragmentKind::ChildrenPresent => lang.t("aanwezige kinderen", "children present"),
        pb::FragmentKind::History => lang.t("voorgeschiedenis", "history"),
        _ => lang.t("overig", "other"),
    }
}

/// The zorgmeldingen section of the Postvak (Veilig Thuis).
pub(super) fn melding_list(lang: Lang, meldingen: &[crate::store::StoredMelding]) -> Markup {
    html! {
        h2 { (lang.t("Zorgmeldingen van de politie", "Police zorgmeldingen")) }
        @if meldingen.is_empty() {
            p { (lang.t("Geen zorgmeldingen.", "No zorgmeldingen.")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (lang.t("Bijgewerkt", "Updated")) }
                    th scope="col" { (lang.t("Van", "From")) }
                    th scope="col" { (lang.t("Registratienummer", "Registration number")) }
                    th scope="col" { (lang.t("Fragmenten", "Fragments")) }
                    th scope="col" { (lang.t("Status", "Status")) }
                    th scope="col" { span.visually-hidden { (lang.t("Openen", "Open")) } }
                    th scope="col" { span.visually-hidden { (lang.t("Triage", "Triage")) } }
                } }
                tbody {
                    @for m in meldingen {
                        tr {
                            td { (when(lang, m.updated_at)) }
                            td { (m.police_oin) }
                            td { (m.registration_number) }
                            td { (m.fragment_count) }
                            td { @if m.complete { (lang.t("compleet", "complete")) } @else { strong { (lang.t("nog niet compleet", "not complete yet")) } } }
                            td { a href=(format!("/postvak/zorgmelding/{}", m.zorgmelding_id)) { (lang.t("Openen", "Open")) span.visually-hidden { " " (m.registration_number) } } }
                            td { a href=(format!("/melding/zm/{}", m.zorgmelding_id)) { (lang.t("Triage", "Triage")) span.visually-hidden { " " (m.registration_number) } } }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /postvak/zorgmelding/{id}`: a police zorgmelding with its fragments, opened here; only
/// for a professional in a Veilig Thuis role. Read only; it links to the melding's triage.
pub async fn melding(State(app): State<Arc<App>>, a: Authed, Path(id): Path<String>) -> Response {
    let lang = a.lang();
    let title = lang.t("Zorgmelding", "Zorgmelding");
    if !actions::handles_zorgmeldingen(&app, &a.session.professional) {
        return (
            StatusCode::FORBIDDEN,
            page(&app, &a, title, Problem::new(lang.t(
                "Zorgmeldingen zijn voor medewerkers van Veilig Thuis in een rol van het convenant.",
                "Zorgmeldingen are for Veilig Thuis staff in a convenant role.",
            )).render()),
        )
            .into_response();
    }
    let (stored, m, opened) = match actions::open_melding(&app, &a.session.professional, &id).await
    {
        Ok(x) => x,
        Err(e) => return open_failed(&app, &a, title, e, Opening::Zorgmelding),
    };
    let why = |u: &Unopened| unopened_text(lang, u);
    let body = html! {
        dl.meta {
            dt { (lang.t("Van", "From")) } dd { (stored.police_oin) }
            dt { (lang.t("Registratienummer", "Registration number")) } dd { (stored.registration_number) }
            dt { (lang.t("Status", "Status")) } dd { @if stored.complete { (lang.t("compleet", "complete")) } @else { (lang.t("nog niet compleet: er kunnen fragmenten volgen", "not complete yet: more fragments may follow")) } }
            dt { (lang.t("Personen", "Persons")) } dd { (m.subject_count) }
            dt { (lang.t("Versie", "Version")) } dd { (stored.version) }
            @if let Some(r) = &m.recidive {
                dt { (lang.t("Eerder", "Earlier")) }
                dd { (r.earlier_zorgmeldingen) (lang.t(" zorgmelding(en) en ", " zorgmelding(s) and ")) (r.earlier_signals)
                     (lang.t(" signaal/signalen in de afgelopen ", " signal(s) in the last ")) (r.window_days) (lang.t(" dagen", " days"))
                     @if !r.sectors.is_empty() { " (" (r.sectors.join(", ")) ")" } }
            }
            @if let Some(t) = stored.retain_until { dt { (lang.t("Bewaren tot", "Keep until")) } dd { (date(lang, t)) } }
        }
        @if m.fragments.is_empty() {
            @for o in &opened { @if let Err(u) = o { (Problem::new(why(u)).render()) } }
        }
        @for (f, o) in m.fragments.iter().zip(opened.iter()) {
            section aria-labelledby=(format!("frag{}", f.sequence)) {
                h2 id=(format!("frag{}", f.sequence)) { (lang.t("Fragment ", "Fragment ")) (f.sequence) ": " (kind_text(lang, f.kind)) }
                p.small { (f.categories.join(", "))
                    @if let Some(t) = &f.received_at { " — " (when(lang, t.seconds)) }
                    " — " (f.author_role) }
                @match o {
                    Ok(bytes) => {
                        p.verified { (lang.t("Handtekening van de politie gecontroleerd.", "The police's signature verified.")) }
                        (payload(lang, bytes))
                    }
                    Err(u) => {
                        (Problem { title: lang.t("Dit fragment kon niet worden geopend.", "This fragment could not be opened.").into(), items: vec![why(u)] }.render())
                    }
                }
            }
        }
        p { a href=(format!("/melding/zm/{}", stored.zorgmelding_id)) { (lang.t("Triage en overdracht", "Triage and handover")) } }
    };
    page(&app, &a, title, body).into_response()
}
