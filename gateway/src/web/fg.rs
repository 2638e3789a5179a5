//! *FG*: the privacy officer's screen. The subject access report for a family (this
//! organisation's part, as the hub scopes it), every entry's inclusion proof verified here against
//! the hub's signed checkpoint, the Dutch letter to print, and this organisation's disclosures.
//! The hub decides who may read (role `fg`); the console only asks.
use super::i18n::{Lang, when};
use super::layout::page;
use super::problem::Problem;
use super::signal::FormData;
use super::{Authed, bsn_field, csrf_refused};
use crate::app::App;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ClientError, HubClient, verify_report};
use std::collections::HashMap;
use std::sync::Arc;

fn entries_table(lang: Lang, entries: &[pb::LogEntryView]) -> Markup {
    html! {
        table {
            thead { tr {
                th scope="col" { "#" }
                th scope="col" { (lang.t("Wanneer", "When")) }
                th scope="col" { (lang.t("Wat", "What")) }
                th scope="col" { (lang.t("Door", "By")) }
                th scope="col" { (lang.t("Aan", "To")) }
                th scope="col" { (lang.t("Doel", "Purpose")) }
                th scope="col" { (lang.t("Grondslag", "Basis")) }
            } }
            tbody {
                @for e in entries {
                    tr {
                        td { (e.index) }
                        td { (e.at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
                        td {
                            (e.event)
                            @if !e.withheld.is_empty() {
                                br; small { (lang.t("afgeschermd: ", "shielded: ")) (e.withheld.join(", ")) }
                            }
                        }
                        td.long { (e.actor_oin) @if !e.actor_professional.is_empty() { br; small { (e.actor_professional) } } }
                        td.long { (e.recipient_oin) }
                        td.long { (e.purpose) }
                        td.long { (e.basis.join(", ")) }
                    }
                }
            }
        }
    }
}

/// The convenant's flows as a table an FG can read back: who may send what to whom, why, on
/// which bases, and what comes with it (including "also requires consent").
fn convenant_table(app: &App, lang: Lang) -> Markup {
    let c = &app.convenant;
    html! {
        p { (c.name) " — " (lang.t("versie ", "version ")) (c.version) }
        table {
            thead { tr {
                th scope="col" { (lang.t("Van", "From")) }
                th scope="col" { (lang.t("Aan", "To")) }
                th scope="col" { (lang.t("Doel", "Purpose")) }
                th scope="col" { (lang.t("Gegevens", "Data")) }
                th scope="col" { (lang.t("Grondslagen", "Bases")) }
                th scope="col" { (lang.t("Voorwaarden en plichten", "Conditions and obligations")) }
            } }
            tbody {
                @for f in &c.flows {
                    tr {
                        td { (f.from.join(", ")) @if !f.from_roles.is_empty() { br; small { "(" (f.from_roles.join(", ")) ")" } } }
                        td { (f.to.join(", ")) }
                        td { (f.purpose) }
                        td { (f.categories.join(", ")) }
                        td { (f.bases.join(lang.t(" of ", " or "))) }
                        td {
                            ul {
                                @if f.also_requires_consent { li { (lang.t("ook toestemming nodig", "also requires consent")) } }
                                @if f.requires_involvement { li { (lang.t("ontvanger moet betrokken zijn", "recipient must be involved")) } }
                                @if !f.onward_from.is_empty() { li { (lang.t("doorgeven alleen van: ", "passing on only from: ")) (f.onward_from.join(", ")) } }
                                @for o in &f.obligations { li { (o.spelling()) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /fg`: the request form, this organisation's latest disclosures and the convenant.
pub async fn home(State(app): State<Arc<App>>, a: Authed) -> Response {
    let lang = a.lang();
    let own = crate::actions::own_disclosures(&app, &a.session.professional).await;
    let body = html! {
        p { a href="/fg/auditlog" { (lang.t("Auditlog van deze gateway (wie opende wat, wanneer)", "This gateway's audit log (who opened what, when)")) } }
        (report_form(&a, lang))
        section aria-labelledby="eigen" {
            h2 id="eigen" { (lang.t("Verstrekkingen van deze organisatie", "This organisation's disclosures")) }
            @match &own {
                Ok(entries) if entries.is_empty() => { p { (lang.t("Nog geen.", "None yet.")) } }
                Ok(entries) => {
                    p.small { (entries.len()) (lang.t(" regels, de nieuwste onderaan.", " entries, newest last.")) }
                    (entries_table(lang, entries))
                }
                Err(e) => { (Problem::from_client(lang, e).render()) }
            }
        }
        section aria-labelledby="convenant" {
            h2 id="convenant" { (lang.t("Het convenant", "The convenant")) }
            (convenant_table(&app, lang))
        }
    };
    page(&app, &a, lang.t("Privacy (FG)", "Privacy (DPO)"), body).into_response()
}

fn report_form(a: &Authed, lang: Lang) -> Markup {
    html! {
        section aria-labelledby="inzage" {
            h2 id="inzage" { (lang.t("Inzageverzoek van een gezin", "A family's access request")) }
            p.hint { (lang.t(
                "Wat deze organisatie over dit kind heeft verstrekt of ontvangen, met bewijs uit het verstrekkingenlog. Het opvragen wordt zelf ook gelogd.",
                "What this organisation disclosed or received about this child, with proof from the disclosure log. Asking is logged too.",
            )) }
            form method="post" action="/fg/inzage" {
                input type="hidden" name="csrf" value=(a.session.csrf);
                (super::subject_field(lang, "fg-bsn", ""))
                div.actions { button.primary type="submit" { (lang.t("Rapport opvragen", "Get the report")) } }
            }
        }
    }
}

/// The report, its proofs verified against the hub's checkpoint key.
async fn report(
    hub: &mut HubClient,
    bsn: &str,
) -> Result<
    (
        pb::SubjectAccessReportResponse,
        Result<usize, String>,
        String,
    ),
    ClientError,
> {
    let r = hub.subject_access_report(bsn).await?;
    let cp = hub.checkpoint().await?;
    let verified = match <[u8; 32]>::try_from(cp.public_key.as_slice()) {
        Ok(key) => {
            verify_report(&r, &HashMap::from([(cp.key_id.clone(), key)])).map_err(|e| e.to_string())
        }
        Err(_) => Err("the hub's checkpoint key is not 32 bytes".into()),
    };
    Ok((r, verified, cp.key_id))
}

/// `POST /fg/inzage`.
pub async fn access(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let lang = a.lang();
    let form = FormData::parse(&body);
    if !a.csrf_ok(form.get("csrf")) {
        return csrf_refused(lang);
    }
    let title = lang.t("Inzageverzoek", "Access request");
    let bsn = match bsn_field(lang, form.get("bsn")) {
        Ok(b) => b,
        Err(p) => {
            let body = html! { (Problem::new(p).render()) (report_form(&a, lang)) };
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&app, &a, title, body),
            )
                .into_response();
        }
    };
    let answer = match app.hub_as(&a.session.professional) {
        Ok(mut hub) => report(&mut hub, &bsn).await,
        Err(e) => Err(e),
    };
    let body = match answer {
        Err(e) => html! { (Problem::from_client(lang, &e).render()) (report_form(&a, lang)) },
        Ok((r, verified, key_id)) => {
            let _ = app
                .store
                .audit(&a.session.professional.id, "access_report", "-")
                .await;
            let entries: Vec<pb::LogEntryView> =
                r.entries.iter().filter_map(|p| p.entry.clone()).collect();
            html! {
                @match &verified {
                    Ok(n) => { p.verified { (n) (lang.t(" regels; elk bewijs klopt met het ondertekende checkpoint van de hub (sleutel ", " entries; every proof matches the hub's signed checkpoint (key ")) (key_id) ")." } }
                    Err(why) => { (Problem { title: lang.t("Het bewijs klopt NIET; vertrouw dit rapport niet.", "The proof does NOT verify; do not trust this report.").into(), items: vec![why.clone()] }.render()) }
                }
                @if entries.is_empty() {
                    p { (lang.t("Deze organisatie heeft niets over dit kind verstrekt of ontvangen.", "This organisation disclosed or received nothing about this child.")) }
                } @else {
                    (entries_table(lang, &entries))
                }
                form method="post" action="/fg/brief" target="_blank" {
                    input type="hidden" name="csrf" value=(a.session.csrf);
                    input type="hidden" name="bsn" value=(bsn);
                    fieldset {
                        legend { (lang.t("Brief voor het gezin", "Letter for the family")) }
                        label for="letter-language" { (lang.t("Taal van de brief", "Language of the letter")) }
                        select id="letter-language" name="language" {
                            option value="nl" selected[lang == Lang::Nl] { "Nederlands" }
                            option value="en" selected[lang == Lang::En] { "English" }
                        }
                        div.actions {
                            button.primary type="submit" name="format" value="html" { (lang.t("Brief openen (afdrukken)", "Open the letter (print)")) }
                            button type="submit" name="format" value="pdf" { (lang.t("Brief als PDF", "Letter as PDF")) }
                        }
                    }
                }
            }
        }
    };
    page(&app, &a, title, body).into_response()
}

/// `POST /fg/brief`: the hub's Dutch letter for the family, on a page of its own that may style
/// itself but can run nothing (CSP sandbox).
pub async fn letter(State(app): State<Arc<App>>, a: Authed, body: Bytes) -> Response {
    let lang = a.lang();
    let form = FormData::parse(&body);
    if !a.csrf_ok(form.get("csrf")) {
        return csrf_refused(lang);
    }
    let bsn = match bsn_field(lang, form.get("bsn")) {
        Ok(b) => b,
        Err(p) => {
            return (StatusCode::UNPROCESSABLE_ENTITY, Problem::new(p).render()).into_response();
        }
    };
    // The family's language, not the console's: Dutch unless English is chosen.
    let language = match form.get("language") {
        "" | "nl" => "nl",
        "en" => "en",
        _ => {
            let p = lang.t(
                "Taal: kies Nederlands of English.",
                "Language: choose Nederlands or English.",
            );
            return (StatusCode::UNPROCESSABLE_ENTITY, Problem::new(p).render()).into_response();
        }
    };
    let pdf = form.get("format") == "pdf";
    let answer = match app.hub_as(&a.session.professional) {
        Ok(mut hub) => {
            hub.access_report(pb::SubjectAccessReportRequest {
                subject_bsn: bsn,
                language: language.into(),
                ..Default::default()
            })
            .await
        }
        Err(e) => Err(e),
    };
    match answer {
        Err(e) => page(
            &app,
            &a,
            lang.t("Brief", "Letter"),
            Problem::from_client(lang, &e).render(),
        )
        .into_response(),
        Ok(r) => {
            let _ = app
                .store
                .audit(&a.session.professional.id, "access_letter", language)
                .await;
            if pdf {
                let Some(letter) = r.letter.as_ref() else {
                    let p = lang.t(
                        "De hub stuurde de brief zonder opbouw; open hem als pagina en druk hem af.",
                        "The hub sent the letter without its structure; open it as a page and print it.",
                    );
                    return page(
                        &app,
                        &a,
                        lang.t("Brief", "Letter"),
                        Problem::new(p).render(),
                    )
                    .into_response();
                };
                let bytes = signaalhub_client::letter_pdf::letter_pdf(letter);
                let mut res = (StatusCode::OK, bytes).into_response();
                let h = res.headers_mut();
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/pdf"),
                );
                h.insert(
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=\"brief-inzage.pdf\""),
                );
                return res;
            }
            let mut res = (StatusCode::OK, PreEscaped(r.html_letter)).into_response();
            res.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox allow-modals; default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
            );
            res
        }
    }
}
