//! Veilig Thuis's follow-up of a melding (docs/VEILIG_THUIS.md, sections 6 and 7), as the
//! console and the local API do it: the melding's stages with their review moments
//! (`SetMeldingStage`, `GetMeldingStages`), and information requests — Veilig Thuis asks a
//! named organisation, the question sealed here to that organisation only; the organisation asked
//! opens the question here and answers (sealed here to Veilig Thuis only) or declines with a
//! reason. The hub decides who may do what; the gateway seals, opens and writes its audit log
//! (who opened which question or answer, **before** it is opened).
use crate::actions;
use crate::app::App;
use crate::coded::{self, Coded};
use crate::handover::{Melding, ReadProblem, Sealed, audit_then_open};
use crate::session::Professional;
use crate::store::now_unix;
use signaalhub_client::ClientError;
use signaalhub_client::envelope;
use signaalhub_client::sealed;
use signaalhub_client::signaalhub_proto::{self, pb};

/// The purpose of a request and its answer.
pub const PURPOSE: &str = "informatieverzoek_veilig_thuis";
/// The one category of a question.
pub const QUESTION_CATEGORY: &str = "informatievraag";
/// Veilig Thuis's basis for asking (its statutory task), with its case reference.
pub const ASK_BASIS: &str = "vt_wettelijke_taak";
/// The answering organisation's basis (Wmo 2015 art. 5.2.6), naming the request's case reference.
pub const ANSWER_BASIS: &str = "informatie_aan_veilig_thuis";
/// The longest question or answer, in characters.
pub const TEXT_MAX: usize = 4000;
/// At most this many categories asked for (the hub's limit).
pub const MAX_CATEGORIES: usize = 8;

/// The stages: the hub's name (the API's), the enum, Dutch and English (the console's).
pub const STAGES: &[Coded<pb::MeldingStage>] = &[
    (
        "TRIAGE",
        pb::MeldingStage::Triage,
        "In triage: Veilig Thuis beoordeelt de veiligheid",
        "In triage: Veilig Thuis assesses the safety",
    ),
    (
        "ONDERZOEK",
        pb::MeldingStage::Onderzoek,
        "Onderzoek door Veilig Thuis zelf",
        "Investigation: Veilig Thuis investigates itself",
    ),
    (
        "OVERDRACHT",
        pb::MeldingStage::Overdracht,
        "Overgedragen: Veilig Thuis volgt de overdracht",
        "Handed over: Veilig Thuis follows the handover",
    ),
    (
        "MONITORING",
        pb::MeldingStage::Monitoring,
        "Monitoring: Veilig Thuis volgt of de veiligheid blijvend is",
        "Monitoring: Veilig Thuis follows whether safety lasts",
    ),
    (
        "AFGESLOTEN",
        pb::MeldingStage::Afgesloten,
        "Afgesloten (definitief: een nieuwe melding begint opnieuw)",
        "Closed (final: a new melding starts again)",
    ),
];

/// Why an organisation declines: the hub's name, the enum, Dutch and English.
pub const DECLINE_REASONS: &[Coded<pb::InformationDeclineReason>] = &[
    (
        "NO_INFORMATION",
        pb::InformationDeclineReason::NoInformation,
        "wij hebben geen informatie over deze personen",
        "we have no information about these persons",
    ),
    (
        "PROFESSIONAL_SECRECY",
        pb::InformationDeclineReason::ProfessionalSecrecy,
        "het beroepsgeheim weegt hier zwaarder",
        "professional secrecy weighs heavier here",
    ),
    (
        "NOT_INVOLVED",
        pb::InformationDeclineReason::NotInvolved,
        "wij zijn niet (meer) betrokken bij het gezin",
        "we are not (or no longer) involved with the family",
    ),
    (
        "OTHER_SEE_FILE",
        pb::InformationDeclineReason::OtherSeeFile,
        "andere reden, vastgelegd in ons dossier",
        "another reason, written down in our file",
    ),
];

/// The states of a request: the hub's name, the enum, Dutch and English.
pub const STATES: &[Coded<pb::InformationRequestState>] = &[
    (
        "OPEN",
        pb::InformationRequestState::Open,
        "open: nog niet beantwoord",
        "open: not answered yet",
    ),
    (
        "ANSWERED",
        pb::InformationRequestState::Answered,
        "beantwoord",
        "answered",
    ),
    (
        "DECLINED",
        pb::InformationRequestState::Declined,
        "geweigerd",
        "declined",
    ),
];

/// The stage the hub names `name` (`ONDERZOEK`, ...).
pub fn stage_named(name: &str) -> Option<pb::MeldingStage> {
    coded::by_name(STAGES, name)
}

/// The hub's name of a stage; the number when unknown.
pub fn stage_name(stage: i32) -> String {
    coded::name(STAGES, stage)
}

/// The decline reason the hub names `name` (`NO_INFORMATION`, ...).
pub fn decline_named(name: &str) -> Option<pb::InformationDeclineReason> {
    coded::by_name(DECLINE_REASONS, name)
}

/// The hub's name of a decline reason; none for UNSPECIFIED.
pub fn decline_name(reason: i32) -> Option<&'static str> {
    coded::row(DECLINE_REASONS, reason).map(|(n, ..)| *n)
}

/// The hub's name of a request's state.
pub fn state_name(state: i32) -> String {
    coded::name(STATES, state)
}

fn flow_of(app: &App, to_veilig_thuis: bool) -> Option<&signaalhub_policy::Flow> {
    app.convenant.flows.iter().find(|f| {
        f.purpose == PURPOSE && f.to.iter().any(|s| s == "veilig_thuis") == to_veilig_thuis
    })
}

/// The categories Veilig Thuis may ask for: those the convenant's answer flow lets an
/// organisation give Veilig Thuis (`informatieverzoek-antwoord` in the sample).
pub fn askable_categories(app: &App) -> Vec<String> {
    flow_of(app, true)
        .map(|f| f.categories.clone())
        .unwrap_or_default()
}

/// The sectors Veilig Thuis may ask (the convenant's request flow's recipients).
pub fn askable_sectors(app: &App) -> Vec<String> {
    flow_of(app, false)
        .map(|f| f.to.clone())
        .unwrap_or_default()
}

/// Whether `p` may answer Veilig Thuis's requests here: a role the convenant gives a sector of
/// the answer flow (a school's IB'er, a GP, a wijkcoach, ...), not e.g. the FG.
pub fn may_answer(app: &App, p: &Professional) -> bool {
    !answer_roles(app, p).is_empty()
}

/// The roles of `p` in a sector that answers Veilig Thuis (to act in), in `p`'s order.
pub fn answer_roles(app: &App, p: &Professional) -> Vec<String> {
    let sectors = flow_of(app, true)
        .map(|f| f.from.clone())
        .unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for s in sectors {
        if let Some(sector) = signaalhub_client::sector_from_name(&s) {
            for r in actions::roles_of(app, p, sector) {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
    }
    out
}

/// A review moment as typed in a date input (`2027-03-01`): 09:00 UTC that day, as unix seconds.
pub fn review_date(typed: &str) -> Option<i64> {
    let mut parts = typed.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let date = time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
    Some(date.with_hms(9, 0, 0).ok()?.assume_utc().unix_timestamp())
}

/// The stages of a melding here (`GetMeldingStages`).
pub async fn stages(
    app: &App,
    actor: &Professional,
    m: &Melding,
) -> Result<pb::MeldingStages, ClientError> {
    app.hub_as(actor)?
        .get_melding_stages_as(&m.reference(), &vt_role(app, actor))
        .await
}

/// One page of Veilig Thuis's overview of its meldingen (`ListMeldingen`), optionally of one
/// stage (0: every stage): due reviews first, then by review date, then the others newest first.
pub async fn meldingen(
    app: &App,
    actor: &Professional,
    stage: i32,
    page_token: &str,
) -> Result<pb::ListMeldingenResponse, ClientError> {
    app.hub_as(actor)?
        .list_meldingen(pb::ListMeldingenRequest {
            stage,
            page_size: MELDINGEN_PAGE,
            page_token: page_token.into(),
            acting_role: vt_role(app, actor),
        })
        .await
}

/// Meldingen per page of the console's overview.
pub const MELDINGEN_PAGE: u32 = 25;

/// The role a Veilig Thuis professional reads its follow-up in (the hub asks for one the
/// convenant gives Veilig Thuis; its FG holds none).
fn vt_role(app: &App, actor: &Professional) -> String {
    actions::roles_of(app, actor, pb::Sector::VeiligThuis)
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// The role an asked organisation's professional reads the requests in.
fn answer_role(app: &App, actor: &Professional) -> String {
    answer_roles(app, actor)
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// Records the next stage of a melding and the review it plans (`SetMeldingStage`);
/// `melding_stage_set` in the audit log.
pub async fn set_stage(
    app: &App,
    actor: &Professional,
    m: &Melding,
    stage: pb::MeldingStage,
    review_at: Option<i64>,
    role: &str,
) -> Result<pb::MeldingStages, ClientError> {
    let (zorgmelding_id, signal) =
        signaalhub_client::zorgmelding::melding_reference(&m.reference());
    let s = app
        .hub_as(actor)?
        .set_melding_stage(pb::SetMeldingStageRequest {
            zorgmelding_id,
            signal,
            stage: stage as i32,
            review_at: review_at.map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
            acting_role: role.into(),
        })
        .await?;
    let _ = app
        .store
        .audit(&actor.id, "melding_stage_set", &m.reference())
        .await;
    Ok(s)
}

/// A request as a form or a system states it.
#[derive(Debug, Clone, Default)]
pub struct RequestDraft {
    /// Chosen when the form first opened (or by the system), so a retry is the same request.
    pub request_id: String,
    /// The organisation asked.
    pub recipient: String,
    /// What Veilig Thuis asks for.
    pub categories: Vec<String>,
    /// Veilig Thuis's case reference (the answer's basis names it).
    pub case_reference: String,
    /// The question, sealed here to the organisation asked.
    pub question: String,
    /// Whether the family knows of the melding (the basis's evidence).
    pub client_informed: bool,
    /// If not, why not: a code of the convenant's fixed list (`veiligheid_kind`, ...).
    pub not_informed_reason: String,
}

/// A field of a request or an answer to fix before the hub is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftProblem {
    /// Not an id (1-64 of A-Za-z0-9._-, no 9-digit run).
    RequestId,
    /// Not an OIN.
    Recipient,
    /// None, too many, or one the convenant's answer flow does not carry.
    Categories,
    /// Missing or not a dossier number.
    CaseReference,
    /// No text.
    TextEmpty,
    /// Longer than [`TEXT_MAX`].
    TextTooLong,
    /// The family was not told, and no reason from the list says why.
    NotInformedReason,
}

impl DraftProblem {
    /// The hub's field name.
    pub fn field(self, answer: bool) -> &'static str {
        match self {
            DraftProblem::RequestId => "request_id",
            DraftProblem::Recipient => "recipient_oin",
            DraftProblem::Categories => "categories",
            DraftProblem::CaseReference => "case_reference",
            DraftProblem::NotInformedReason => "client_not_informed_reason",
            DraftProblem::TextEmpty | DraftProblem::TextTooLong if answer => "answer",
            DraftProblem::TextEmpty | DraftProblem::TextTooLong => "question",
        }
    }

    /// What to fix, in English (the API) or Dutch (the console).
    pub fn describe(self, dutch: bool) -> &'static str {
        match (self, dutch) {
            (DraftProblem::RequestId, false) => {
                "not an id: 1-64 of A-Z a-z 0-9 . _ - without a run of 9 or more digits"
            }
            (DraftProblem::RequestId, true) => "Het formulier is beschadigd; open het opnieuw.",
            (DraftProblem::Recipient, false) => "the OIN of the organisation asked (20 digits)",
            (DraftProblem::Recipient, true) => "Organisatie: kies wie u het vraagt.",
            (DraftProblem::Categories, false) => {
                "1 to 8 categories of the convenant's answer flow to Veilig Thuis"
            }
            (DraftProblem::Categories, true) => {
                "Gegevens: kies 1 tot 8 soorten gegevens waar u om vraagt."
            }
            (DraftProblem::CaseReference, false) => {
                "required: the case reference in Veilig Thuis's own file (1-64 characters, no name or BSN)"
            }
            (DraftProblem::CaseReference, true) => {
                "Dossiernummer: vul het nummer in het dossier van Veilig Thuis in (geen naam of BSN)."
            }
            (DraftProblem::TextEmpty, false) => "the text must not be empty",
            (DraftProblem::TextEmpty, true) => "Tekst: vul de vraag of het antwoord in.",
            (DraftProblem::TextTooLong, false) => "at most 4000 characters",
            (DraftProblem::TextTooLong, true) => "Tekst: hoogstens 4000 tekens.",
            (DraftProblem::NotInformedReason, false) => {
                "the family was not told: give the reason, a code of the convenant's list (veiligheid_kind, ...)"
            }
            (DraftProblem::NotInformedReason, true) => {
                "Het gezin weet niet van de melding: kies waarom niet uit de lijst."
            }
        }
    }
}

fn text_problems(text: &str, bad: &mut Vec<DraftProblem>) {
    if text.trim().is_empty() {
        bad.push(DraftProblem::TextEmpty);
    } else if text.chars().count() > TEXT_MAX {
        bad.push(DraftProblem::TextTooLong);
    }
}

fn case_problem(case: &str) -> bool {
    let c = case.trim();
    c.is_empty() || c.len() > 64 || sealed::has_digit_run(c) || c.chars().any(char::is_control)
}

impl RequestDraft {
    /// What to fix before the hub is asked (the hub checks again); `allowed` are the categories
    /// the form offers.
    pub fn problems(&self, allowed: &[String]) -> Vec<DraftProblem> {
        let mut bad = Vec::new();
        if !sealed::valid_signal_id(&self.request_id) {
            bad.push(DraftProblem::RequestId);
        }
        if !sealed::is_oin(&self.recipient) {
            bad.push(DraftProblem::Recipient);
        }
        if self.categories.is_empty()
            || self.categories.len() > MAX_CATEGORIES
            || self.categories.iter().any(|c| !allowed.contains(c))
        {
            bad.push(DraftProblem::Categories);
        }
        if case_problem(&self.case_reference) {
            bad.push(DraftProblem::CaseReference);
        }
        text_problems(&self.question, &mut bad);
        if !self.client_informed
            && signaalhub_policy::reasons::lookup(
                signaalhub_policy::reasons::NOT_INFORMED,
                &self.not_informed_reason,
            )
            .is_none()
        {
            bad.push(DraftProblem::NotInformedReason);
        }
        bad
    }

    /// Veilig Thuis's basis: its statutory task, with the case reference and whether the family
    /// knows of the melding.
    fn basis(&self) -> pb::Basis {
        let mut b = basis(ASK_BASIS, &self.case_reference);
        if let Some(e) = b.legal.as_mut().and_then(|l| l.evidence.as_mut()) {
            e.client_informed = Some(self.client_informed);
            if !self.client_informed {
                e.client_not_informed_reason = self.not_informed_reason.clone();
            }
        }
        b
    }
}

fn basis(kind: &str, case_reference: &str) -> pb::Basis {
    pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: kind.into(),
            evidence: Some(pb::Evidence {
                case_reference: case_reference.trim().into(),
                ..Default::default()
            }),
        }),
        consent_ids: Vec::new(),
    }
}

/// Seals `text` here to `to`'s published keys, bound to `id` under the requests' purpose, with
/// `categories` and `basis`, signed with the organisation's key.
async fn seal_to(
    app: &App,
    hub: &mut signaalhub_client::HubClient,
    to: &str,
    id: &str,
    categories: Vec<String>,
    basis: &pb::Basis,
    text: &str,
) -> Result<pb::Envelope, ClientError> {
    let keys = sealed::current_encryption_keys(hub, to).await?;
    let binding = pb::EnvelopeBinding {
        signal_id: id.into(),
        purpose: PURPOSE.into(),
        categories,
        basis_reference: signaalhub_proto::basis_reference(basis),
        created_at_unix: now_unix(),
        content_digest: Vec::new(), // seal sets it
    };
    envelope::seal(text.trim().as_bytes(), binding, &app.sender, &keys)
        .map_err(|e| ClientError::Config(format!("sealing: {e}")))
}

/// Veilig Thuis asks (`RequestInformation`): the question sealed here to the organisation asked
/// only (category `informatievraag`, bound to the request id), on its statutory task with its
/// case reference. `information_requested` in the audit log.
pub async fn request(
    app: &App,
    actor: &Professional,
    m: &Melding,
    d: &RequestDraft,
    role: &str,
) -> Result<pb::RequestInformationResponse, ClientError> {
    let mut hub = app.hub_as(actor)?;
    let basis = d.basis();
    let question = seal_to(
        app,
        &mut hub,
        &d.recipient,
        &d.request_id,
        vec![QUESTION_CATEGORY.into()],
        &basis,
        &d.question,
    )
    .await?;
    let (zorgmelding_id, signal) =
        signaalhub_client::zorgmelding::melding_reference(&m.reference());
    let r = hub
        .request_information(pb::RequestInformationRequest {
            request_id: d.request_id.clone(),
            zorgmelding_id,
            signal,
            recipient_oin: d.recipient.clone(),
            question: Some(question),
            categories: d.categories.clone(),
            basis: Some(basis),
            acting_role: role.into(),
        })
        .await?;
    let _ = app
        .store
        .audit(&actor.id, "information_requested", &d.request_id)
        .await;
    Ok(r)
}

/// A request with its sealed text opened here (none when there is nothing to open), or why not.
pub type ReadRequest = (pb::InformationRequest, Option<Result<String, String>>);

/// Whether request `q` is about melding `m`.
fn about(q: &pb::InformationRequest, m: &Melding) -> bool {
    Melding::of(&q.zorgmelding_id, q.signal.as_ref()).as_ref() == Some(m)
}

/// The requests Veilig Thuis sent (about `m` only, when given), newest first, each answer
/// opened here: `information_answer_opened` written to the audit log **first** — nothing is
/// opened if that fails — then the envelope checked against the request (its id, purpose and
/// the answer's categories) and the answering organisation's signature against the directory.
pub async fn sent(
    app: &App,
    actor: &Professional,
    m: Option<&Melding>,
) -> Result<Vec<ReadRequest>, ReadProblem> {
    let mut hub = app.hub_as(actor).map_err(ReadProblem::Hub)?;
    let all = hub
        .list_information_requests_as(true, &vt_role(app, actor))
        .await
        .map_err(ReadProblem::Hub)?;
    let mut out = Vec::new();
    for q in all {
        if m.is_some_and(|m| !about(&q, m)) {
            continue;
        }
        let Some(env) = q.answer.clone() else {
            out.push((q, None));
            continue;
        };
        let answer = Sealed {
            sender: &q.recipient_oin,
            id: &q.request_id,
            purpose: PURPOSE,
            categories: &q.answer_categories,
            envelope: &env,
        };
        let opened =
            audit_then_open(app, &mut hub, actor, "information_answer_opened", answer).await?;
        out.push((q, Some(opened)));
    }
    Ok(out)
}

/// The requests this organisation received, newest first, the questions still sealed (the hub
/// never names the melding).
pub async fn received(
    app: &App,
    actor: &Professional,
) -> Result<Vec<pb::InformationRequest>, ClientError> {
    app.hub_as(actor)?
        .list_information_requests_as(false, &answer_role(app, actor))
        .await
}

/// The requests this organisation received (only Veilig Thuis `vt`'s `request_id` when
/// `one` names it), newest first, each question opened here: `information_question_opened`
/// written to the audit log **first** — nothing is opened if that fails — then the envelope
/// checked against the request (id, purpose, category `informatievraag`) and Veilig Thuis's
/// signature against the directory.
pub async fn received_opened(
    app: &App,
    actor: &Professional,
    one: Option<(&str, &str)>,
) -> Result<Vec<ReadRequest>, ReadProblem> {
    let mut hub = app.hub_as(actor).map_err(ReadProblem::Hub)?;
    let all = hub
        .list_information_requests_as(false, &answer_role(app, actor))
        .await
        .map_err(ReadProblem::Hub)?;
    let mut out = Vec::new();
    for q in all {
        if one.is_some_and(|(vt, id)| q.veilig_thuis_oin != vt || q.request_id != id) {
            continue;
        }
        let Some(env) = q.question.clone() else {
            out.push((q, None));
            continue;
        };
        let question = Sealed {
            sender: &q.veilig_thuis_oin,
            id: &q.request_id,
            purpose: PURPOSE,
            categories: &[QUESTION_CATEGORY.to_owned()],
            envelope: &env,
        };
        let opened = audit_then_open(
            app,
            &mut hub,
            actor,
            "information_question_opened",
            question,
        )
        .await?;
        out.push((q, Some(opened)));
    }
    Ok(out)
}

/// One received request (Veilig Thuis `vt`, `request_id`) with its question opened here, as
/// [`received_opened`]. `Ok(None)`: no such request for this organisation.
pub async fn open_received(
    app: &App,
    actor: &Professional,
    vt: &str,
    request_id: &str,
) -> Result<Option<ReadRequest>, ReadProblem> {
    Ok(received_opened(app, actor, Some((vt, request_id)))
        .await?
        .into_iter()
        .next())
}

/// The organisation's reply to a request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An answer, sealed here to Veilig Thuis, carrying these categories (each one asked for),
    /// on the request's case reference.
    Answer {
        /// The text.
        text: String,
        /// What it carries.
        categories: Vec<String>,
        /// Veilig Thuis's case reference as the request names it.
        case_reference: String,
    },
    /// Declined, with a reason from the fixed list.
    Decline(pb::InformationDeclineReason),
}

impl Reply {
    /// What to fix in an answer before the hub is asked; `asked` are the request's categories.
    pub fn problems(&self, asked: &[String]) -> Vec<DraftProblem> {
        let mut bad = Vec::new();
        if let Reply::Answer {
            text,
            categories,
            case_reference,
        } = self
        {
            if categories.is_empty()
                || categories.len() > MAX_CATEGORIES
                || categories.iter().any(|c| !asked.contains(c))
            {
                bad.push(DraftProblem::Categories);
            }
            if case_problem(case_reference) {
                bad.push(DraftProblem::CaseReference);
            }
            text_problems(text, &mut bad);
        }
        bad
    }
}

/// The organisation asked answers (`AnswerInformation`): the answer sealed here to Veilig Thuis
/// only (bound to the request id, with the answer's categories), on `informatie_aan_veilig_thuis`
/// with the request's case reference — or declines. `information_answered` or
/// `information_declined` in the audit log.
pub async fn reply(
    app: &App,
    actor: &Professional,
    vt: &str,
    request_id: &str,
    r: &Reply,
    role: &str,
) -> Result<pb::AnswerInformationResponse, ClientError> {
    let mut hub = app.hub_as(actor)?;
    let mut request = pb::AnswerInformationRequest {
        veilig_thuis_oin: vt.into(),
        request_id: request_id.into(),
        acting_role: role.into(),
        ..Default::default()
    };
    let event = match r {
        Reply::Answer {
            text,
            categories,
            case_reference,
        } => {
            let basis = basis(ANSWER_BASIS, case_reference);
            let env = seal_to(
                app,
                &mut hub,
                vt,
                request_id,
                categories.clone(),
                &basis,
                text,
            )
            .await?;
            request.answer = Some(env);
            request.categories = categories.clone();
            request.basis = Some(basis);
            "information_answered"
        }
        Reply::Decline(reason) => {
            request.decline_reason = *reason as i32;
            "information_declined"
        }
    };
    let done = hub.answer_information(request).await?;
    let _ = app
        .store
        .audit(&actor.id, event, &format!("{vt}/{request_id}"))
        .await;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_date_is_nine_in_the_morning_utc_and_bad_dates_are_none() {
        assert_eq!(review_date("2027-03-01"), Some(1_803_891_600));
        assert_eq!(review_date(" 2027-03-01 "), Some(1_803_891_600));
        assert_eq!(review_date("2027-02-30"), None);
        assert_eq!(review_date("01-03-2027"), None);
        assert_eq!(review_date(""), None);
    }

    #[test]
    fn names_round_trip() {
        for (n, s, ..) in STAGES {
            assert_eq!(stage_named(n), Some(*s));
            assert_eq!(stage_name(*s as i32), *n);
        }
        for (n, r, ..) in DECLINE_REASONS {
            assert_eq!(decline_named(n), Some(*r));
            assert_eq!(decline_name(*r as i32), Some(*n));
        }
        assert_eq!(stage_named("GESLOTEN"), None);
        assert_eq!(decline_name(0), None);
    }

    #[test]
    fn an_answer_carries_only_what_was_asked() {
        let d = RequestDraft {
            request_id: "iv-1".into(),
            recipient: "00000009903000000000".into(),
            categories: vec!["gezondheid".into()],
            case_reference: "VT-1".into(),
            question: "Is Jayden bekend?".into(),
            client_informed: false,
            not_informed_reason: "Piet".into(),
        };
        assert_eq!(
            d.problems(&d.categories),
            vec![DraftProblem::NotInformedReason]
        );
        let asked = vec!["gezondheid".to_owned()];
        let r = Reply::Answer {
            text: "x".into(),
            categories: vec!["betalingsachterstand".into()],
            case_reference: "VT-1".into(),
        };
        assert_eq!(r.problems(&asked), vec![DraftProblem::Categories]);
        let r = Reply::Answer {
            text: " ".into(),
            categories: vec!["gezondheid".into()],
            case_reference: "111222333".into(),
        };
        assert_eq!(
            r.problems(&asked),
            vec![DraftProblem::CaseReference, DraftProblem::TextEmpty]
        );
        assert!(
            Reply::Decline(pb::InformationDeclineReason::NotInvolved)
                .problems(&asked)
                .is_empty()
        );
    }
}
