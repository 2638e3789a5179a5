//! *Terugkoppeling aan de melder*: on a melding's page, Veilig Thuis tells the melder what it
//! does (an outcome and, optionally, a note sealed here to the melder); on the status page of a
//! sent signal, the melder reads what Veilig Thuis told it, the note opened here. The hub
//! decides who may send and read (`SendFeedback`, `ListFeedback`); `crate::feedback` seals,
//! opens and writes the audit log.
use super::disclosure::role_select_as;
use super::i18n::{Lang, when};
use super::meldcode::informed_fieldset;
use super::problem::Problem;
use super::signal::FormData;
use super::triage::{chosen_role, incomplete, show, vt_post, vt_roles};
use super::{Authed, problem_page};
use crate::app::App;
use crate::feedback::{self, DraftProblem, FeedbackDraft, OUTCOMES, ReadFeedback};
use crate::handover::{Melding, ReadProblem};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use signaalhub_client::sealed;
use signaalhub_client::signaalhub_proto::pb;
use std::collections::HashMap;
use std::sync::Arc;

/// The outcome in the console's language.
fn outcome_text(lang: Lang, outcome: i32) -> String {
    crate::coded::words(OUTCOMES, outcome)
        .map_or_else(|| outcome.to_string(), |(nl, en)| lang.t(nl, en).into())
}

/// The feedback already sent about `m` and the form to send more, filled as `f` was posted (a
/// fresh feedback id when the form first opens, so a retry is the same feedback).
pub(super) async fn section(
    app: &App,
    a: &Authed,
    m: &Melding,
    f: &FormData,
    case: &str,
) -> Markup {
    let lang = a.lang();
    let sent = feedback::sent(app, &a.session.professional, m).await;
    let feedback_id = if f.get("feedback_id").is_empty() {
        sealed::new_signal_id()
            .map(|id| id.replacen("sig-", "fb-", 1))
            .unwrap_or_default()
    } else {
        f.get("feedback_id").to_owned()
    };
    let chosen = if f.get("outcome").is_empty() {
        "RECEIVED"
    } else {
        f.get("outcome")
    };
    let roles = vt_roles(app, a);
    html! {
        section aria-labelledby="terugkoppeling" {
            h2 id="terugkoppeling" { (lang.t("Terugkoppeling aan de melder", "Feedback to the melder")) }
            @match &sent {
                Ok(list) if list.is_empty() => p { (lang.t("Nog geen terugkoppeling verstuurd.", "No feedback sent yet.")) },
                Ok(list) => table {
                    thead { tr {
                        th scope="col" { (lang.t("Verstuurd", "Sent")) }
                        th scope="col" { (lang.t("Uitkomst", "Outcome")) }
                        th scope="col" { (lang.t("Bericht", "Note")) }
                    } }
                    tbody { @for fb in list { tr {
                        td { (fb.sent_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
                        td { (outcome_text(lang, fb.outcome)) }
                        td { @if fb.note.is_some() { (lang.t("ja (versleuteld voor de melder)", "yes (sealed to the melder)")) } @else { (lang.t("nee", "no")) } }
                    } } }
                },
                Err(e) => (Problem::from_client(lang, e).render()),
            }
            form method="post" action=(format!("{}/terugkoppeling", m.path())) {
                input type="hidden" name="csrf" value=(a.session.csrf);
                input type="hidden" name="feedback_id" value=(feedback_id);
                fieldset.group {
                    legend { (lang.t("Wat doet Veilig Thuis met de melding?", "What does Veilig Thuis do with the melding?")) }
                    @for (i, (name, _, nl, en)) in OUTCOMES.iter().enumerate() {
                        div.check {
                            input type="radio" id=(format!("fb-outcome{i}")) name="outcome" value=(name) checked[*name == chosen];
                            label for=(format!("fb-outcome{i}")) { (lang.t(nl, en)) }
                        }
                    }
                }
                label for="fb-case" { (lang.t("Dossiernummer bij deze terugkoppeling", "Case reference for this feedback")) }
                input id="fb-case" name="case_reference" value=(case) maxlength="64" required;
                (informed_fieldset(
                    lang,
                    lang.t("Weet het gezin van de melding?", "Does the family know of the melding?"),
                    f.get("informed"),
                    f.get("not_informed_reason"),
                    lang.t(
                        "Alleen een reden uit de lijst; de omstandigheden horen in het dossier van Veilig Thuis.",
                        "Only a reason from the list; the circumstances belong in Veilig Thuis's file.",
                    ),
                ))
                label for="fb-note" { (lang.t("Bericht aan de melder (niet verplicht)", "Note to the melder (optional)")) }
                textarea id="fb-note" name="note" rows="3" maxlength=(feedback::NOTE_MAX) aria-describedby="fb-note-hint" { (f.raw("note")) }
                p.hint id="fb-note-hint" { (lang.t("Alleen de melder kan het bericht lezen: de gateway versleutelt het hier voor de melder. Houd het kort; het dossier blijft bij Veilig Thuis.", "Only the melder can read the note: the gateway seals it here to the melder. Keep it short; the file stays with Veilig Thuis.")) }
                (role_select_as(lang, &roles, f.get("role"), "feedback-role"))
                div.actions { button.primary type="submit" { (lang.t("Terugkoppeling versturen", "Send the feedback")) } }
            }
        }
    }
}

/// `POST /melding/.../terugkoppeling`.
pub(super) async fn submit(
    State(app): State<Arc<App>>,
    a: Authed,
    Path(p): Path<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let (f, m) = match vt_post(&app, &a, &p, &body) {
        Ok(x) => x,
        Err(refused) => return *refused,
    };
    let lang = a.lang();
    let outcome = feedback::outcome_named(f.get("outcome"));
    let draft = FeedbackDraft {
        feedback_id: f.get("feedback_id").to_owned(),
        outcome: outcome.unwrap_or(pb::FeedbackOutcome::Unspecified),
        case_reference: f.get("case_reference").to_owned(),
        client_informed: f.get("informed") == "ja",
        not_informed_reason: f.get("not_informed_reason").to_owned(),
        note: f.raw("note"),
    };
    // Not chosen at all: ask that, not yet why not.
    let informed_chosen = matches!(f.get("informed"), "ja" | "nee");
    let mut missing: Vec<String> = draft
        .problems()
        .into_iter()
        .filter(|d| informed_chosen || *d != DraftProblem::NotInformedReason)
        .map(|d| match lang {
            Lang::Nl => d.describe(true).to_owned(),
            Lang::En => format!("{}: {}", d.field(), d.describe(false)),
        })
        .collect();
    if !informed_chosen {
        missing.push(
            lang.t(
                "Gezin: geef aan of het gezin van de melding weet.",
                "Family: say whether the family knows of the melding.",
            )
            .to_owned(),
        );
    }
    if outcome.is_none() {
        missing.insert(
            0,
            lang.t(
                "Uitkomst: kies wat Veilig Thuis met de melding doet.",
                "Outcome: choose what Veilig Thuis does with the melding.",
            )
            .to_owned(),
        );
    }
    if !missing.is_empty() {
        let title = lang.t(
            "De terugkoppeling is niet verstuurd; vul aan:",
            "The feedback was not sent; please complete:",
        );
        return incomplete(&app, &a, &p, &f, title, missing).await;
    }
    let role = chosen_role(&vt_roles(&app, &a), f.get("role"));
    match feedback::send(&app, &a.session.professional, &m, &draft, &role).await {
        Ok(_) => Redirect::to(&format!("{}#terugkoppeling", m.path())).into_response(),
        Err(e) => {
            let problem = Problem::from_client(lang, &e).render();
            show(&app, &a, &p, Some(problem), &f, StatusCode::OK).await
        }
    }
}

/// What Veilig Thuis told this organisation about its signal `signal_id`, oldest first; each note
/// opened here (written to the audit log first). Empty when there is none, or when the signal
/// was no melding.
pub(super) async fn for_melder(app: &App, a: &Authed, signal_id: &str) -> Result<Markup, Response> {
    let lang = a.lang();
    let own = format!("{}/{signal_id}", app.oin());
    let list = read_for_melder(app, a, &own, lang.t("Signaal", "Signal")).await?;
    let list = match list {
        Ok(l) => l,
        Err(problem) => return Ok(problem),
    };
    if list.is_empty() {
        return Ok(html! {});
    }
    Ok(html! {
        section aria-labelledby="terugkoppeling" {
            h2 id="terugkoppeling" { (lang.t("Terugkoppeling van Veilig Thuis", "Feedback from Veilig Thuis")) }
            (feedback_list(lang, &list))
        }
    })
}

/// The feedback about `melding` (the hub's client's form: `zm_…` or `<sender>/<id>`) as its
/// melder reads it, each note opened here after `feedback_opened` is written to the audit log.
/// `Err`: the page to answer instead (503: the audit log cannot be written, so nothing was
/// opened); `Ok(Err)`: the hub's refusal, to show on the page.
pub(super) async fn read_for_melder(
    app: &App,
    a: &Authed,
    melding: &str,
    title: &str,
) -> Result<Result<Vec<ReadFeedback>, Markup>, Response> {
    let lang = a.lang();
    match feedback::read(app, &a.session.professional, melding).await {
        Ok(l) => Ok(Ok(l)),
        Err(ReadProblem::Audit(_)) => Err(problem_page(
            app,
            a,
            StatusCode::SERVICE_UNAVAILABLE,
            title,
            lang.t(
                "Het auditlog kan nu niet worden geschreven; daarom is de terugkoppeling niet geopend.",
                "The audit log cannot be written now, so the feedback was not opened.",
            ),
        )),
        Err(ReadProblem::Hub(e)) => Ok(Err(Problem::from_client(lang, &e).render())),
    }
}

/// Feedback as the melder reads it, oldest first: the outcome in the hub's Dutch, when, and the
/// note opened here (or why it could not be).
pub(super) fn feedback_list(lang: Lang, list: &[ReadFeedback]) -> Markup {
    html! {
        ol.feedback {
            @for (fb, note) in list {
                li {
                    p {
                        strong { (fb.outcome_nl) }
                        @if lang == Lang::En { " (" (outcome_text(lang, fb.outcome)) ")" }
                        " — " (fb.sent_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default())
                    }
                    @match note {
                        Some(Ok(text)) => blockquote { (text) },
                        Some(Err(_)) => p.problem { (lang.t("Het bericht kon niet worden geopend (de handtekening of de koppeling klopt niet).", "The note could not be opened (its signature or binding is wrong).")) },
                        None => {},
                    }
                }
            }
        }
    }
}
