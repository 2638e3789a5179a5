//! A handover, seen from both ends.
//!
//! *Veilig Thuis* (the sender): its state, the triagist's decision, the contacts, the wijkteam's
//! answers — "niet beantwoord" when the answer is overdue — with each sealed question opened here
//! (audit-logged first), and the family letter on a printable page of its own (sandboxed).
//!
//! *The wijkteam* (the recipient): opening it delivers it at the hub (written to the audit log
//! first), its envelopes are opened here; the decision (joint visit or not), the contacts, and the
//! answer: *Overnemen* (persons + contact), *Vraag stellen* (sealed here to Veilig Thuis) or
//! *Teruggeven* (a reason from the fixed list).
use super::i18n::{Lang, date, when};
use super::inbox::payload;
use super::layout::page;
use super::overdragen::persons;
use super::problem::Problem;
use super::signal::FormData;
use super::triage::{
    advice_box, chosen_role, decision_text, not_veilig_thuis, sector_roles, vt_roles,
};
use super::{Authed, csrf_refused, refused_unless};
use crate::actions;
use crate::app::App;
use crate::handover::{self, Answer, Melding, ReadProblem};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use signaalhub_client::sealed;
use signaalhub_client::signaalhub_proto::pb;
use std::sync::Arc;

/// Why a wijkteam returns a handover: (form value, reason, Dutch, English).
const RETURN_REASONS: &[crate::coded::Coded<pb::ReturnReason>] = &[
    (
        "niet_ons_gebied",
        pb::ReturnReason::NotOurArea,
        "niet ons werkgebied",
        "not our area",
    ),
    (
        "al_in_zorg",
        pb::ReturnReason::AlreadyInCareElsewhere,
        "het gezin krijgt al hulp elders",
        "the family is already in care elsewhere",
    ),
    (
        "te_weinig_informatie",
        pb::ReturnReason::NotEnoughInformation,
        "te weinig informatie om het op te pakken",
        "not enough information to take it on",
    ),
    (
        "veiligheid",
        pb::ReturnReason::SafetyNeedsVeiligThuis,
        "de veiligheid vraagt Veilig Thuis zelf",
        "safety needs Veilig Thuis itself",
    ),
    (
        "dossier",
        pb::ReturnReason::OtherSeeFile,
        "andere reden, vastgelegd in ons dossier",
        "another reason, written down in our file",
    ),
];

fn state_text(lang: Lang, s: i32) -> &'static str {
    match pb::HandoverState::try_from(s).unwrap_or(pb::HandoverState::Unspecified) {
        pb::HandoverState::Pending => lang.t(
            "verstuurd, nog niet opgehaald door het wijkteam",
            "sent, not yet fetched by the wijkteam",
        ),
        pb::HandoverState::Delivered => {
            lang.t("ontvangen door het wijkteam", "received by the wijkteam")
        }
        pb::HandoverState::Withheld => lang.t(
            "tegengehouden (bijvoorbeeld: toestemming ingetrokken)",
            "withheld (e.g. consent withdrawn)",
        ),
        pb::HandoverState::Unspecified => lang.t("onbekend", "unknown"),
    }
}

/// An answer in the console's language.
pub(super) fn answer_text(lang: Lang, a: &pb::HandoverAnswer) -> String {
    match pb::HandoverAnswerKind::try_from(a.answer).unwrap_or(pb::HandoverAnswerKind::Unspecified)
    {
        pb::HandoverAnswerKind::Accepted => lang.t("overgenomen", "accepted").to_owned(),
        pb::HandoverAnswerKind::Question => lang.t("vraag gesteld", "asked a question").to_owned(),
        pb::HandoverAnswerKind::Returned => {
            let reason = crate::coded::words(RETURN_REASONS, a.reason)
                .map_or(a.reason_nl.as_str(), |(nl, en)| lang.t(nl, en));
            lang.s(
                format!("teruggegeven: {reason}"),
                format!("returned: {reason}"),
            )
        }
        pb::HandoverAnswerKind::Unspecified => lang.t("onbekend", "unknown").to_owned(),
    }
}

/// Whether the wijkteam's answers ended the conversation (accepted or returned).
fn ended(h: &pb::Handover) -> bool {
    h.answers.iter().any(|a| {
        a.answer == pb::HandoverAnswerKind::Accepted as i32
            || a.answer == pb::HandoverAnswerKind::Returned as i32
    })
}

/// Where the handover stands for Veilig Thuis: the last answer, "niet beantwoord" when overdue.
pub(super) fn answer_state(lang: Lang, h: &pb::Handover) -> Markup {
    html! {
        @if h.answer_overdue {
            strong { (lang.t("niet beantwoord", "not answered")) }
            @if let Some(t) = &h.answer_due { " (" (lang.t("uiterlijk ", "due ")) (date(lang, t.seconds)) ")" }
        } @else if let Some(a) = h.answers.last() {
            (answer_text(lang, a))
        } @else {
            (lang.t("nog geen antwoord", "no answer yet"))
        }
    }
}

fn contact_line(c: Option<&pb::ContactPerson>) -> String {
    c.map(|c| {
        [
            c.name.as_str(),
            c.function.as_str(),
            c.phone.as_str(),
            c.email.as_str(),
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
    })
    .unwrap_or_default()
}

fn joint(lang: Lang, h: &pb::Handover) -> &'static str {
    if h.decision == pb::TriageDecisionKind::JointVisit as i32 {
        lang.t(
            "Ja: Veilig Thuis komt mee op het eerste bezoek (samen optrekken).",
            "Yes: Veilig Thuis comes along on the first visit (acting jointly).",
        )
    } else {
        lang.t(
            "Nee: het wijkteam gaat alleen.",
            "No: the wijkteam goes alone.",
        )
    }
}

fn summary(lang: Lang, h: &pb::Handover) -> Markup {
    html! {
        dl.meta {
            dt { (lang.t("Overdracht", "Handover")) } dd { code { (h.handover_id) } }
            dt { (lang.t("Van", "From")) } dd { (h.sender_oin) }
            dt { (lang.t("Aan", "To")) } dd { (h.recipient_oin) }
            dt { (lang.t("Status", "State")) } dd { (state_text(lang, h.state)) }
            dt { (lang.t("Gezamenlijk eerste bezoek", "Joint first visit")) } dd { (joint(lang, h)) }
            dt { (lang.t("Besluit", "Decision")) } dd { (decision_text(lang, h.decision)) }
            dt { (lang.t("Gegevens", "Data")) } dd { (h.categories.join(", ")) }
            dt { (lang.t("Grondslag", "Basis")) } dd { (h.basis.join(", ")) }
            dt { (lang.t("Personen", "Persons")) } dd { (h.subject_count) }
            dt { (lang.t("Contact bij Veilig Thuis", "Contact at Veilig Thuis")) } dd { (contact_line(h.veilig_thuis_contact.as_ref())) }
            dt { (lang.t("Contact bij het wijkteam", "Contact at the wijkteam")) } dd { (contact_line(h.wijkteam_contact.as_ref())) }
            @if let Some(t) = &h.created_at { dt { (lang.t("Verstuurd", "Sent")) } dd { (when(lang, t.seconds)) } }
            @if let Some(t) = &h.answer_due { dt { (lang.t("Antwoord uiterlijk", "Answer due")) } dd { (date(lang, t.seconds)) } }
        }
        @if !h.reasons.is_empty() {
            (Problem { title: lang.t("Tegengehouden:", "Withheld:").into(), items: h.reasons.iter().map(|r| lang.s(r.text_nl.clone(), r.text_en.clone())).collect() }.render())
        }
    }
}

fn answers_table(lang: Lang, h: &pb::Handover, question_links: bool) -> Markup {
    html! {
        section aria-labelledby="antwoorden" {
            h2 id="antwoorden" { (lang.t("Antwoorden van het wijkteam", "The wijkteam's answers")) }
            p { (answer_state(lang, h)) }
            @if !h.answers.is_empty() {
                table {
                    thead { tr {
                        th scope="col" { (lang.t("Wanneer", "When")) }
                        th scope="col" { (lang.t("Antwoord", "Answer")) }
                        th scope="col" { (lang.t("Door", "By")) }
                        th scope="col" { span.visually-hidden { (lang.t("Vraag", "Question")) } }
                    } }
                    tbody {
                        @for (i, a) in h.answers.iter().enumerate() {
                            tr {
                                td { (a.answered_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
                                td { (answer_text(lang, a)) }
                                td { (a.answered_by) " (" (a.role) ")" }
                                td {
                                    @if a.question.is_some() && question_links {
                                        a href=(format!("/overdracht/{}/{}/vraag/{}", h.sender_oin, h.handover_id, i + 1)) { (lang.t("Vraag openen", "Open the question")) }
                                    } @else if a.question.is_some() {
                                        (lang.t("(versleuteld aan Veilig Thuis)", "(sealed to Veilig Thuis)"))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn handover_problem(app: &App, a: &Authed, e: ReadProblem) -> Response {
    let lang = a.lang();
    let title = lang.t("Overdracht", "Handover");
    let (status, p) = match e {
        ReadProblem::Hub(e) => {
            let status = match &e {
                signaalhub_client::ClientError::Status(s) if s.code() == tonic::Code::NotFound => {
                    StatusCode::NOT_FOUND
                }
                _ => StatusCode::OK,
            };
            (status, Problem::from_client(lang, &e))
        }
        ReadProblem::Audit(e) => {
            tracing::warn!(error = %e, "audit log");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Problem::new(lang.t(
                    "Het inzagelog kan nu niet worden bijgewerkt; daarom wordt de overdracht niet geopend.",
                    "The access log cannot be written now, so the handover is not opened.",
                )),
            )
        }
    };
    (status, page(app, a, title, p.render())).into_response()
}

/// The refusal for anyone who does not work for the wijkteam (e.g. its FG).
fn not_wijkteam(app: &App, a: &Authed) -> Option<Response> {
    let lang = a.lang();
    let why = lang.t(
        "Overdrachten van Veilig Thuis zijn voor medewerkers van het wijkteam in een rol van het convenant.",
        "Handovers from Veilig Thuis are for wijkteam staff in a convenant role.",
    );
    refused_unless(
        app,
        a,
        handover::works_for_wijkteam(app, &a.session.professional),
        lang.t("Overdracht", "Handover"),
        why,
    )
}

/// `GET /overdracht/{sender}/{id}`: Veilig Thuis sees a handover it sent; the wijkteam receives
/// one sent to it.
pub async fn view(
    State(app): State<Arc<App>>,
    a: Authed,
    Path((sender, id)): Path<(String, String)>,
) -> Response {
    show(&app, &a, &sender, &id, None).await
}

async fn show(app: &App, a: &Authed, sender: &str, id: &str, notice: Option<Markup>) -> Response {
    let lang = a.lang();
    let title = lang.t("Overdracht", "Handover");
    if sender == app.oin() {
        if let Some(refused) = not_veilig_thuis(app, a, title) {
            return refused;
        }
        if !sealed::valid_signal_id(id) {
            return StatusCode::NOT_FOUND.into_response();
        }
        return match handover::sent_handover(app, &a.session.professional, id).await {
            Ok(h) => page(app, a, title, sent_view(lang, &h, notice)).into_response(),
            Err(e) => handover_problem(app, a, ReadProblem::Hub(e)),
        };
    }
    if let Some(refused) = not_wijkteam(app, a) {
        return refused;
    }
    if !actions::valid_received_key(sender, id) || !sealed::valid_signal_id(id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match handover::receive(app, &a.session.professional, sender, id).await {
        Ok((h, opened)) => {
            page(app, a, title, received_view(a, app, &h, &opened, notice)).into_response()
        }
        Err(e) => handover_problem(app, a, e),
    }
}

fn sent_view(lang: Lang, h: &pb::Handover, notice: Option<Markup>) -> Markup {
    let melding = Melding::of(&h.zorgmelding_id, h.signal.as_ref());
    html! {
        @if let Some(n) = notice { (n) }
        @if let Some(m) = &melding { p { (lang.t("Melding: ", "Melding: ")) a href=(m.path()) { code { (m.reference()) } } } }
        (summary(lang, h))
        @if let Some(adv) = &h.advice { (advice_box(lang, adv)) }
        p { a href=(format!("/overdracht/{}/{}/brief", h.sender_oin, h.handover_id)) { (lang.t("Brief voor het gezin (afdrukken)", "Letter for the family (print)")) } }
        (answers_table(lang, h, true))
    }
}

fn received_view(
    a: &Authed,
    app: &App,
    h: &pb::Handover,
    opened: &[Result<Vec<u8>, String>],
    notice: Option<Markup>,
) -> Markup {
    let lang = a.lang();
    let roles = sector_roles(app, a, pb::Sector::Wijkteam);
    let action = format!("/overdracht/{}/{}/antwoord", h.sender_oin, h.handover_id);
    html! {
        @if let Some(n) = notice { (n) }
        (summary(lang, h))
        @if let Some(adv) = &h.advice { @if !adv.criteria_met.is_empty() { (advice_box(lang, adv)) } }
        @for (i, o) in opened.iter().enumerate() {
            section aria-labelledby=(format!("deel{}", i + 1)) {
                h2 id=(format!("deel{}", i + 1)) { (lang.t("Deel ", "Part ")) (i + 1) }
                @match o {
                    Ok(bytes) => {
                        p.verified { (lang.t("Handtekening van Veilig Thuis gecontroleerd.", "Veilig Thuis's signature verified.")) }
                        (payload(lang, bytes))
                    }
                    Err(why) => { (Problem { title: lang.t("Dit deel kon niet worden geopend.", "This part could not be opened.").into(), items: vec![why.clone()] }.render()) }
                }
            }
        }
        @if opened.is_empty() && h.state != pb::HandoverState::Delivered as i32 {
            (Problem::new(lang.t("Deze overdracht is niet aan u afgeleverd.", "This handover was not delivered to you.")).render())
        }
        (answers_table(lang, h, false))
        @if h.state == pb::HandoverState::Delivered as i32 && !ended(h) {
            section aria-labelledby="beantwoorden" {
                h2 id="beantwoorden" { (lang.t("Beantwoorden", "Answer")) }
                (answer_form(a, &action, "overnemen", lang.t("Overnemen", "Take it on"), &roles, html! {
                    label for="accept-bsn" { (lang.t("BSN's van wie u overneemt (gescheiden door komma's)", "BSNs of whom you take on (comma-separated)")) }
                    input id="accept-bsn" name="bsn" autocomplete="off" spellcheck="false" maxlength="200" aria-describedby="accept-bsn-hint" required;
                    (super::subjects_hint(lang, "accept-bsn-hint"))
                    label for="accept-contact" { (lang.t("Hoe collega's de wijkcoach bereiken", "How colleagues reach the wijkcoach")) }
                    input id="accept-contact" name="contact" maxlength="200" required;
                }))
                (answer_form(a, &action, "vraag", lang.t("Vraag stellen", "Ask a question"), &roles, html! {
                    label for="question" { (lang.t("Uw vraag aan Veilig Thuis (alleen Veilig Thuis kan hem lezen)", "Your question to Veilig Thuis (only Veilig Thuis can read it)")) }
                    textarea id="question" name="question" rows="4" maxlength="4000" required {}
                }))
                (answer_form(a, &action, "teruggeven", lang.t("Teruggeven", "Return"), &roles, html! {
                    label for="return-reason" { (lang.t("Reden", "Reason")) }
                    select id="return-reason" name="reason" required {
                        option value="" { (lang.t("— kies —", "— choose —")) }
                        @for (v, _, nl, en) in RETURN_REASONS { option value=(v) { (lang.t(nl, en)) } }
                    }
                }))
            }
        }
    }
}

/// One of the wijkteam's answers as a form of its own: `kind` posted as `answer`, its fields,
/// the role to act in and a button named like the legend.
fn answer_form(
    a: &Authed,
    action: &str,
    kind: &str,
    legend: &str,
    roles: &[String],
    fields: Markup,
) -> Markup {
    html! {
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(a.session.csrf);
            input type="hidden" name="answer" value=(kind);
            fieldset {
                legend { (legend) }
                (fields)
                (super::disclosure::role_select_as(a.lang(), roles, "", &format!("{kind}-role")))
                div.actions { button.primary[kind == "overnemen"] type="submit" { (legend) } }
            }
        }
    }
}

/// The longest question the console seals.
const MAX_QUESTION: usize = 4000;

/// `POST /overdracht/{sender}/{id}/antwoord`: the wijkteam's answer.
pub async fn answer(
    State(app): State<Arc<App>>,
    a: Authed,
    Path((sender, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let lang = a.lang();
    let f = FormData::parse(&body);
    if !a.csrf_ok(f.get("csrf")) {
        return csrf_refused(lang);
    }
    if let Some(refused) = not_wijkteam(&app, &a) {
        return refused;
    }
    if !actions::valid_received_key(&sender, &id) || !sealed::valid_signal_id(&id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let answer = match f.get("answer") {
        "overnemen" => match persons(lang, f.get("bsn")) {
            Err(items) => Err(items),
            Ok(_) if f.get("contact").is_empty() || f.get("contact").chars().count() > 200 => {
                Err(vec![
                    lang.t(
                        "Contact: hoe collega's de wijkcoach bereiken (hoogstens 200 tekens).",
                        "Contact: how colleagues reach the wijkcoach (at most 200 characters).",
                    )
                    .to_owned(),
                ])
            }
            Ok(bsns) => Ok(Answer::Accept {
                bsns,
                contact: f.get("contact").to_owned(),
            }),
        },
        "vraag" => {
            let q = f.raw("question");
            if q.trim().is_empty() || q.len() > MAX_QUESTION {
                Err(vec![
                    lang.t(
                        "Vraag: schrijf uw vraag (hoogstens 4000 tekens).",
                        "Question: write your question (at most 4000 characters).",
                    )
                    .to_owned(),
                ])
            } else {
                Ok(Answer::Question(q))
            }
        }
        "teruggeven" => RETURN_REASONS
            .iter()
            .find(|(v, ..)| *v == f.get("reason"))
            .map(|(_, r, ..)| Answer::Return(*r))
            .ok_or_else(|| {
                vec![
                    lang.t(
                        "Reden: kies een reden uit de lijst.",
                        "Reason: choose a reason from the list.",
                    )
                    .to_owned(),
                ]
            }),
        _ => Err(vec![
            lang.t("Kies een antwoord.", "Choose an answer.").to_owned(),
        ]),
    };
    let answer = match answer {
        Ok(x) => x,
        Err(items) => {
            let p = Problem {
                title: lang
                    .t(
                        "Niet beantwoord; vul aan:",
                        "Not answered; please complete:",
                    )
                    .into(),
                items,
            };
            let mut res = show(&app, &a, &sender, &id, Some(p.render())).await;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return res;
        }
    };
    let role = chosen_role(&sector_roles(&app, &a, pb::Sector::Wijkteam), f.get("role"));
    match handover::answer(&app, &a.session.professional, &sender, &id, answer, &role).await {
        Ok(_) => Redirect::to(&format!("/overdracht/{sender}/{id}")).into_response(),
        Err(e) => {
            let p = Problem::from_client(lang, &e).render();
            show(&app, &a, &sender, &id, Some(p)).await
        }
    }
}

/// `GET /overdracht/{sender}/{id}/vraag/{n}`: Veilig Thuis opens the wijkteam's question.
pub async fn question(
    State(app): State<Arc<App>>,
    a: Authed,
    Path((sender, id, n)): Path<(String, String, usize)>,
) -> Response {
    let lang = a.lang();
    let title = lang.t("Vraag van het wijkteam", "The wijkteam's question");
    if let Some(refused) = not_veilig_thuis(&app, &a, title) {
        return refused;
    }
    if sender != app.oin() || !sealed::valid_signal_id(&id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (h, opened) = match handover::open_question(&app, &a.session.professional, &id, n).await {
        Ok(x) => x,
        Err(e) => return handover_problem(&app, &a, e),
    };
    let body = html! {
        p { a href=(format!("/overdracht/{}/{}", h.sender_oin, h.handover_id)) { (lang.t("Terug naar de overdracht", "Back to the handover")) } }
        @match opened {
            None => { (Problem::new(lang.t("Bij dit antwoord hoort geen vraag.", "This answer holds no question.")).render()) }
            Some(Ok(text)) => {
                p.verified { (lang.t("Handtekening van het wijkteam gecontroleerd.", "The wijkteam's signature verified.")) }
                pre.message { (text) }
            }
            Some(Err(why)) => { (Problem { title: lang.t("De vraag kon niet worden geopend.", "The question could not be opened.").into(), items: vec![why] }.render()) }
        }
    };
    page(&app, &a, title, body).into_response()
}

/// `GET /overdracht/{sender}/{id}/brief`: the family letter (the hub's plain text) on a page of
/// its own, ready to print; sandboxed like the FG's letter: it can style itself but run nothing.
pub async fn letter(
    State(app): State<Arc<App>>,
    a: Authed,
    Path((sender, id)): Path<(String, String)>,
) -> Response {
    let lang = a.lang();
    if let Some(refused) = not_veilig_thuis(&app, &a, lang.t("Brief", "Letter")) {
        return refused;
    }
    if sender != app.oin() || !sealed::valid_signal_id(&id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let h = match handover::sent_handover(&app, &a.session.professional, &id).await {
        Ok(h) => h,
        Err(e) => return handover_problem(&app, &a, ReadProblem::Hub(e)),
    };
    let _ = app
        .store
        .audit(&a.session.professional.id, "handover_letter", &id)
        .await;
    let html = html! {
        (DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                title { "Brief aan het gezin" }
                style { "body{font-family:Georgia,serif;max-width:40rem;margin:2rem auto;line-height:1.5;color:#111}pre{white-space:pre-wrap;font:inherit}" }
            }
            body { main { pre { (h.family_letter) } } }
        }
    };
    let mut res = (StatusCode::OK, html).into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox allow-modals; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        ),
    );
    res
}

/// The handovers section of the Postvak: what Veilig Thuis sent (with the answers), or what the
/// wijkteam received; `None` for a professional who sees neither.
pub(super) async fn postvak_section(app: &App, a: &Authed) -> Option<Markup> {
    let lang = a.lang();
    let vt = !vt_roles(app, a).is_empty();
    let wt = handover::works_for_wijkteam(app, &a.session.professional);
    if !vt && !wt {
        return None;
    }
    let all = match handover::handovers(app, &a.session.professional).await {
        Ok(h) => h,
        Err(e) => return Some(Problem::from_client(lang, &e).render()),
    };
    let me = app.oin();
    let sent: Vec<&pb::Handover> = all.iter().filter(|h| vt && h.sender_oin == me).collect();
    let received: Vec<&pb::Handover> = all.iter().filter(|h| wt && h.recipient_oin == me).collect();
    Some(html! {
        @if vt {
            h2 { (lang.t("Overdrachten aan het wijkteam", "Handovers to the wijkteam")) }
            (handover_table(lang, &sent, true))
        }
        @if wt {
            h2 { (lang.t("Overdrachten van Veilig Thuis", "Handovers from Veilig Thuis")) }
            (handover_table(lang, &received, false))
        }
    })
}

fn handover_table(lang: Lang, list: &[&pb::Handover], sent: bool) -> Markup {
    html! {
        @if list.is_empty() {
            p { (lang.t("Geen overdrachten.", "No handovers.")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (lang.t("Verstuurd", "Sent")) }
                    th scope="col" { @if sent { (lang.t("Aan", "To")) } @else { (lang.t("Van", "From")) } }
                    th scope="col" { (lang.t("Status", "State")) }
                    th scope="col" { (lang.t("Antwoord", "Answer")) }
                    th scope="col" { span.visually-hidden { (lang.t("Openen", "Open")) } }
                } }
                tbody {
                    @for h in list {
                        tr {
                            td { (h.created_at.as_ref().map(|t| when(lang, t.seconds)).unwrap_or_default()) }
                            td { @if sent { (h.recipient_oin) } @else { (h.sender_oin) } }
                            td { (state_text(lang, h.state)) }
                            td { (answer_state(lang, h)) }
                            td { a href=(format!("/overdracht/{}/{}", h.sender_oin, h.handover_id)) { (lang.t("Openen", "Open")) span.visually-hidden { " " (h.handover_id) } } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overdue_handover_reads_not_answered_until_the_wijkteam_answers() {
        let mut h = pb::Handover {
            answer_due: Some(prost_types::Timestamp {
                seconds: 1_796_083_200,
                nanos: 0,
            }),
            ..Default::default()
        };
        assert_eq!(
            answer_state(Lang::Nl, &h).into_string(),
            "nog geen antwoord"
        );
        h.answer_overdue = true;
        let text = answer_state(Lang::Nl, &h).into_string();
        assert!(
            text.starts_with("<strong>niet beantwoord</strong>"),
            "{text}"
        );
        assert!(
            answer_state(Lang::En, &h)
                .into_string()
                .contains("not answered")
        );
        h.answer_overdue = false;
        h.answers.push(pb::HandoverAnswer {
            answer: pb::HandoverAnswerKind::Returned as i32,
            reason: pb::ReturnReason::NotOurArea as i32,
            ..Default::default()
        });
        assert_eq!(
            answer_state(Lang::Nl, &h).into_string(),
            "teruggegeven: niet ons werkgebied"
        );
        assert!(ended(&h));
    }
}
