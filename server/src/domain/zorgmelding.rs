//! Police zorgmeldingen, Veilig Thuis triage and the handover to the wijkteam, as the hub keeps
//! them: opaque envelopes, pseudonyms and metadata. No protobuf; the api layer converts.
use crate::domain::consent::Facts;
use crate::domain::letter::{
    Block, Language, Letter, Phrases, Sender, civil, fill, long_date, privacy_officer,
};
use crate::domain::signal::StoredReason;
use crate::ids::{
    Category, ConsentId, FragmentId, HandoverId, MeldingRef, Oin, Purpose, Role, TriageId,
    ZorgmeldingId,
};
use serde::{Deserialize, Serialize};
use signaalhub_policy::triage::AdviceKind;

/// What a fragment holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentKind {
    /// The incident report.
    Incident,
    /// The persons involved.
    Persons,
    /// The children present.
    ChildrenPresent,
    /// Earlier incidents.
    History,
    /// Anything else.
    Other,
}

impl FragmentKind {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FragmentKind::Incident => "incident",
            FragmentKind::Persons => "persons",
            FragmentKind::ChildrenPresent => "children_present",
            FragmentKind::History => "history",
            FragmentKind::Other => "other",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "incident" => FragmentKind::Incident,
            "persons" => FragmentKind::Persons,
            "children_present" => FragmentKind::ChildrenPresent,
            "history" => FragmentKind::History,
            "other" => FragmentKind::Other,
            _ => return None,
        })
    }
}

/// A police registration number: 1-64 of `A-Za-z0-9._-/`.
pub fn valid_registration_number(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
}

/// The incident a fragment belongs to, as the first fragment creates it.
#[derive(Debug, Clone)]
pub struct MeldingKey {
    /// The police organisation.
    pub police_oin: Oin,
    /// Its registration number.
    pub registration_number: String,
    /// Veilig Thuis.
    pub recipient_oin: Oin,
    /// Purpose (`zorgmelding_politie`).
    pub purpose: Purpose,
}

/// One stored fragment.
#[derive(Debug, Clone)]
pub struct FragmentRecord {
    /// Sender (police) OIN.
    pub police_oin: Oin,
    /// Client-chosen id, unique per sender.
    pub fragment_id: FragmentId,
    /// The melding it belongs to (set by the store).
    pub zorgmelding_id: ZorgmeldingId,
    /// Position in the melding (set by the store).
    pub sequence: u32,
    /// Kind.
    pub kind: FragmentKind,
    /// SHA-256 over the request's metadata (idempotency).
    pub request_hash: Vec<u8>,
    /// The envelope's content digest (idempotency: same id, same content); `None` for a
    /// fragment stored before the hub kept them.
    pub content_digest: Option<Vec<u8>>,
    /// The encoded envelope (opaque).
    pub envelope: Option<Vec<u8>>,
    /// Categories.
    pub categories: Vec<Category>,
    /// Subject pseudonyms.
    pub subjects: Vec<String>,
    /// The basis presented.
    pub basis: crate::domain::basis::Basis,
    /// Role of the author.
    pub author_role: Role,
    /// The author's id at the police (token subject).
    pub author_professional: String,
    /// Unix seconds.
    pub received_at: i64,
    /// Erase after this.
    pub retain_until: i64,
}

/// One stored zorgmelding (an incident).
#[derive(Debug, Clone)]
pub struct ZorgmeldingRecord {
    /// `zm_…`.
    pub zorgmelding_id: ZorgmeldingId,
    /// Police OIN.
    pub police_oin: Oin,
    /// Registration number.
    pub registration_number: String,
    /// Veilig Thuis.
    pub recipient_oin: Oin,
    /// Purpose.
    pub purpose: Purpose,
    /// Every subject pseudonym of its fragments.
    pub subjects: Vec<String>,
    /// Grows with every fragment and the completion.
    pub version: u32,
    /// The version last streamed to Veilig Thuis (logged as a disclosure).
    pub delivered_version: u32,
    /// 1 + the log index of the latest entry that changed it.
    pub cursor: u64,
    /// The cursor of its first fragment (orders meldingen by when they began).
    pub created_cursor: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// When the police marked it complete.
    pub completed_at: Option<i64>,
    /// Erase after this.
    pub retain_until: i64,
}

/// What submitting a fragment did.
#[derive(Debug, Clone)]
pub enum FragmentOutcome {
    /// Stored as the `sequence`th fragment of the melding.
    New {
        /// The melding.
        melding: ZorgmeldingRecord,
        /// Position.
        sequence: u32,
    },
    /// A retry of an earlier fragment.
    Duplicate {
        /// The melding.
        melding: ZorgmeldingRecord,
        /// Its position.
        sequence: u32,
    },
}

/// Why the store refused a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FragmentRefusal {
    /// The fragment id was used with other metadata.
    IdReused,
    /// The incident's melding goes to another Veilig Thuis.
    OtherRecipient(String),
    /// The police marked the melding complete.
    Complete,
    /// The melding was erased at the end of its retention.
    Erased,
}

/// A recorded triage.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TriageRecord {
    /// `tr_…`.
    pub triage_id: TriageId,
    /// The melding.
    pub melding: MeldingRef,
    /// Veilig Thuis.
    pub vt_oin: Oin,
    /// Answers, as codes: see [`TriageAnswersStored`].
    pub answers: TriageAnswersStored,
    /// Acute.
    pub acute: bool,
    /// Veilig Thuis's case reference.
    pub case_reference: String,
    /// The advice code (`JOINT_VISIT`, ...).
    pub advice: String,
    /// Earlier reports the hub counted.
    pub earlier_reports: u32,
    /// Role.
    pub role: Role,
    /// Triagist (token subject).
    pub professional: String,
    /// Unix seconds.
    pub recorded_at: i64,
}

/// A melding Veilig Thuis triages, whichever way it came: a police zorgmelding or a signal sent
/// to it under the meldcode.
#[derive(Debug, Clone)]
pub struct Melding {
    /// Which melding.
    pub id: MeldingRef,
    /// Who reported it (the police, or the signal's sender).
    pub melder_oin: Oin,
    /// Veilig Thuis.
    pub recipient_oin: Oin,
    /// Its purpose (`zorgmelding_politie`, `melding_veilig_thuis`, ...).
    pub purpose: Purpose,
    /// Subject pseudonyms.
    pub subjects: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Orders meldingen by when they began: 1 + the log index of the zorgmelding's first
    /// fragment, or of the signal's `signal_sent` entry.
    pub created_cursor: u64,
    /// Whether the reporter agreed to be named to the family (a signal's
    /// `reporter_may_be_named`; the police always is).
    pub melder_may_be_named: bool,
}

impl From<&ZorgmeldingRecord> for Melding {
    fn from(m: &ZorgmeldingRecord) -> Self {
        Melding {
            id: MeldingRef::zorgmelding(&m.zorgmelding_id),
            melder_oin: m.police_oin.clone(),
            recipient_oin: m.recipient_oin.clone(),
            purpose: m.purpose.clone(),
            subjects: m.subjects.clone(),
            created_at: m.created_at,
            created_cursor: m.created_cursor,
            melder_may_be_named: true,
        }
    }
}

coded! {
    /// What the triagist decided (the advice is the algorithm's; the decision is the
    /// professional's).
    DecisionKind {
        /// Veilig Thuis and the wijkteam visit the family together ("samen optrekken").
        JointVisit = "JOINT_VISIT", "Veilig Thuis en het wijkteam gaan samen op huisbezoek";
        /// The wijkteam picks the case up alone.
        WijkteamAlone = "WIJKTEAM_ALONE", "het wijkteam pakt de zorg alleen op";
        /// Veilig Thuis keeps the case (investigation, or acute danger): no handover.
        VeiligThuisAlone = "VEILIG_THUIS_ALONE", "Veilig Thuis houdt de zaak zelf";
        /// Veilig Thuis gives advice only and closes: no handover.
        AdviceOnly = "ADVICE_ONLY", "Veilig Thuis geeft alleen advies";
    }
}

impl DecisionKind {
    /// The decision that follows an advice.
    pub fn following(advice: AdviceKind) -> Self {
        match advice {
            AdviceKind::StaysWithVeiligThuis => DecisionKind::VeiligThuisAlone,
            AdviceKind::JointVisit => DecisionKind::JointVisit,
            AdviceKind::WijkteamAlone => DecisionKind::WijkteamAlone,
        }
    }

    /// Whether the case goes to a wijkteam (a handover is possible).
    pub fn hands_over(self) -> bool {
        matches!(self, DecisionKind::JointVisit | DecisionKind::WijkteamAlone)
    }
}

coded! {
    /// Why a triagist decided other than the advice: a fixed list, so no free text about the
    /// family is kept at the hub (Veilig Thuis writes the full motivation in its own file, under
    /// the triage's case reference).
    DecisionReason {
        /// A single incident without a pattern ("dit kan een keer gebeuren").
        SingleIncident = "SINGLE_INCIDENT", "eenmalig incident, geen patroon";
        /// Suitable help is already involved with the family.
        HelpAlreadyInvolved = "HELP_ALREADY_INVOLVED", "er is al passende hulp betrokken";
        /// The family is open to help and works along.
        FamilyCooperates = "FAMILY_COOPERATES", "het gezin staat open voor hulp";
        /// The children's safety asks for Veilig Thuis itself.
        SafetyNeedsVeiligThuis = "SAFETY_NEEDS_VEILIG_THUIS", "de veiligheid vraagt Veilig Thuis zelf";
        /// Information that came in after the triage's answers.
        NewInformation = "NEW_INFORMATION", "nieuwe informatie na de triage";
        /// Another reason, written down in Veilig Thuis's own file.
        OtherSeeFile = "OTHER_SEE_FILE", "andere reden, vastgelegd in het dossier van Veilig Thuis";
    }
}

coded! {
    /// How the wijkteam answered a handover.
    AnswerKind {
        /// It takes the case on: its involvement with the persons is registered.
        Accepted = "ACCEPTED", "het wijkteam neemt de zaak over";
        /// It asks Veilig Thuis a question first (sealed to Veilig Thuis).
        Question = "QUESTION", "het wijkteam heeft een vraag";
        /// It gives the case back, with a reason.
        Returned = "RETURNED", "het wijkteam geeft de zaak terug";
    }
}

impl AnswerKind {
    /// Whether the answer ends the conversation about the handover.
    pub fn is_final(self) -> bool {
        matches!(self, AnswerKind::Accepted | AnswerKind::Returned)
    }
}

coded! {
    /// Why a wijkteam returns a handover (a fixed list, like [`DecisionReason`]).
    ReturnReason {
        /// The family lives outside the wijkteam's area.
        NotOurArea = "NOT_OUR_AREA", "het gezin woont buiten ons werkgebied";
        /// The family already gets care elsewhere.
        AlreadyInCareElsewhere = "ALREADY_IN_CARE_ELSEWHERE", "het gezin krijgt al hulp elders";
        /// The handover does not say enough to start.
        NotEnoughInformation = "NOT_ENOUGH_INFORMATION", "de overdracht bevat te weinig informatie";
        /// The children's safety asks for Veilig Thuis itself.
        SafetyNeedsVeiligThuis = "SAFETY_NEEDS_VEILIG_THUIS", "de veiligheid vraagt Veilig Thuis zelf";
        /// Another reason, written down in the wijkteam's own file.
        OtherSeeFile = "OTHER_SEE_FILE", "andere reden, vastgelegd in het dossier van het wijkteam";
    }
}

coded! {
    /// What Veilig Thuis tells the melder it does with the melding (the meldcode's
    /// terugkoppeling): minimal, no content about the family.
    FeedbackOutcome {
        /// Received; Veilig Thuis is assessing it.
        Received = "RECEIVED", "Veilig Thuis heeft de melding ontvangen en beoordeelt die";
        /// Handed over to the wijkteam.
        HandedOverToWijkteam = "HANDED_OVER_TO_WIJKTEAM", "Veilig Thuis heeft de zorg overgedragen aan het wijkteam";
        /// Veilig Thuis investigates itself.
        VeiligThuisInvestigates = "VEILIG_THUIS_INVESTIGATES", "Veilig Thuis doet zelf onderzoek";
        /// Advice given; Veilig Thuis closes.
        AdviceGiven = "ADVICE_GIVEN", "Veilig Thuis heeft advies gegeven en sluit de melding af";
        /// No further action by Veilig Thuis.
        NoFurtherAction = "NO_FURTHER_ACTION", "Veilig Thuis onderneemt geen verdere actie";
    }
}

coded! {
    /// Where a melding stands at Veilig Thuis: its own stages (issue 19, item 7).
    MeldingStage {
        /// Received; Veilig Thuis assesses the safety. A melding without a recorded stage is here.
        Triage = "TRIAGE", "in triage: Veilig Thuis beoordeelt de veiligheid";
        /// Veilig Thuis investigates itself.
        Onderzoek = "ONDERZOEK", "Veilig Thuis doet onderzoek";
        /// Handed over; Veilig Thuis follows the handover.
        Overdracht = "OVERDRACHT", "overgedragen; Veilig Thuis volgt de overdracht";
        /// Veilig Thuis follows whether the safety lasts.
        Monitoring = "MONITORING", "Veilig Thuis volgt of de veiligheid blijvend is (monitoring)";
        /// Closed: final.
        Afgesloten = "AFGESLOTEN", "afgesloten";
    }
}

impl MeldingStage {
    /// Whether Veilig Thuis is assessing the melding: it may ask professionals for information
    /// about it (and they may answer).
    pub fn under_assessment(self) -> bool {
        matches!(
            self,
            MeldingStage::Triage | MeldingStage::Onderzoek | MeldingStage::Monitoring
        )
    }
}

/// What became of a review planned with a stage or a safety plan version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    /// Planned, not yet due (or due and not yet told).
    Planned,
    /// It fell due and the parties were told.
    Reminded,
    /// A later stage or version replaced it before it fell due.
    Superseded,
    /// The record was erased at the end of its retention.
    Erased,
}

impl ReviewState {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Planned => "planned",
            ReviewState::Reminded => "reminded",
            ReviewState::Superseded => "superseded",
            ReviewState::Erased => "erased",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            ReviewState::Planned,
            ReviewState::Reminded,
            ReviewState::Superseded,
            ReviewState::Erased,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// One recorded stage of a melding (`seq` 1, 2, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRecord {
    /// Veilig Thuis.
    pub vt_oin: Oin,
    /// The melding.
    pub melding: MeldingRef,
    /// Position among the melding's stages.
    pub seq: u32,
    /// The stage.
    pub stage: MeldingStage,
    /// The review planned with it (unix seconds).
    pub review_at: Option<i64>,
    /// What became of that review (`None`: none planned).
    pub review_state: Option<ReviewState>,
    /// The melding's subject pseudonyms (for the log; emptied at the melding's erasure).
    pub subjects: Vec<String>,
    /// The melding's purpose.
    pub purpose: Purpose,
    /// Role.
    pub role: Role,
    /// The Veilig Thuis professional (emptied at the melding's erasure).
    pub professional: String,
    /// Unix seconds.
    pub set_at: i64,
}

/// The purposes under which a signal delivered to Veilig Thuis is a melding: the meldcode
/// (meldrecht or consent) and acute danger (docs/VEILIG_THUIS.md, section 1).
pub const MELDING_SIGNAL_PURPOSES: [&str; 2] = ["melding_veilig_thuis", "acuut_gevaar"];

/// One melding in Veilig Thuis's overview (`ListMeldingen`): where it stands, no persons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeldingListing {
    /// The melding.
    pub melding: MeldingRef,
    /// When the hub received it (the signal sent, the zorgmelding's first fragment), unix seconds.
    pub received_at: i64,
    /// The stage now (TRIAGE when none was recorded).
    pub stage: MeldingStage,
    /// When that stage was recorded (`None`: no stage recorded).
    pub stage_since: Option<i64>,
    /// The review planned with the stage now, if one is still to come or was told.
    pub review_at: Option<i64>,
    /// That review's state (planned or reminded).
    pub review_state: Option<ReviewState>,
    /// The latest triage that is not erased, if any.
    pub triage: Option<TriageRecord>,
    /// The triagist's recorded decision on it (`None`: it follows its advice).
    pub decision: Option<DecisionKind>,
    /// Where the list stands after this melding (for the next page).
    pub key: MeldingPageKey,
}

impl MeldingListing {
    /// Whether the planned review is due at `now` (its moment has passed).
    pub fn review_due(&self, now: i64) -> bool {
        self.review_at.is_some_and(|at| at <= now)
    }
}

/// A position in Veilig Thuis's overview: the sort key of a melding (its planned review, or
/// none; newest first; the melding's reference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeldingPageKey {
    /// The planned review moment, [`i64::MAX`] when none.
    pub review_key: i64,
    /// Minus the moment it arrived (newest first).
    pub arrival_key: i64,
    /// The melding.
    pub melding: MeldingRef,
}

impl MeldingPageKey {
    /// The sort key without a planned review.
    pub const NO_REVIEW: i64 = i64::MAX;

    /// The page token form: `<review>:<arrival>:<melding>` (a melding reference has no `:`).
    pub fn token(&self) -> String {
        format!(
            "{}:{}:{}",
            self.review_key,
            self.arrival_key,
            self.melding.as_str()
        )
    }

    /// Parses [`Self::token`].
    pub fn parse(token: &str) -> Option<Self> {
        let mut parts = token.splitn(3, ':');
        Some(MeldingPageKey {
            review_key: parts.next()?.parse().ok()?,
            arrival_key: parts.next()?.parse().ok()?,
            melding: parts.next()?.parse().ok()?,
        })
    }
}

coded! {
    /// Why an organisation declines Veilig Thuis's information request (a fixed list: no free
    /// text about the family at the hub).
    DeclineReason {
        /// It has no information about the persons asked about.
        NoInformation = "NO_INFORMATION", "wij hebben geen informatie over deze personen";
        /// The duty of confidentiality weighs heavier here.
        ProfessionalSecrecy = "PROFESSIONAL_SECRECY", "het beroepsgeheim weegt hier zwaarder";
        /// Not (or no longer) involved with the family.
        NotInvolved = "NOT_INVOLVED", "wij zijn niet (meer) betrokken bij het gezin";
        /// Another reason, in the organisation's own file.
        OtherSeeFile = "OTHER_SEE_FILE", "andere reden, vastgelegd in ons eigen dossier";
    }
}

/// Where an information request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InformationState {
    /// Not yet answered.
    Open,
    /// Answered (sealed to Veilig Thuis).
    Answered,
    /// Declined with a reason.
    Declined,
}

impl InformationState {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            InformationState::Open => "open",
            InformationState::Answered => "answered",
            InformationState::Declined => "declined",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            InformationState::Open,
            InformationState::Answered,
            InformationState::Declined,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// The answer to an information request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InformationAnswer {
    /// The encoded envelope sealed to Veilig Thuis (`None` for a decline, or once erased).
    pub answer: Option<Vec<u8>>,
    /// Its content digest (a retry with the same answer is the same answer).
    pub answer_digest: Option<Vec<u8>>,
    /// The categories it carries.
    pub categories: Vec<Category>,
    /// The answering organisation's basis.
    pub basis: Option<crate::domain::basis::Basis>,
    /// Why it was declined.
    pub decline_reason: Option<DeclineReason>,
    /// Role.
    pub role: Role,
    /// The answering professional.
    pub professional: String,
    /// Unix seconds.
    pub answered_at: i64,
}

/// Veilig Thuis's request for information about a melding it assesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InformationRequest {
    /// Veilig Thuis.
    pub vt_oin: Oin,
    /// Chosen by Veilig Thuis.
    pub request_id: crate::ids::InformationRequestId,
    /// SHA-256 of the request's metadata (idempotency).
    pub request_hash: Vec<u8>,
    /// The question's content digest (idempotency).
    pub content_digest: Vec<u8>,
    /// The melding (never shown to the organisation asked).
    pub melding: MeldingRef,
    /// The organisation asked.
    pub recipient_oin: Oin,
    /// The melding's subject pseudonyms.
    pub subjects: Vec<String>,
    /// What Veilig Thuis asks for; the answer may carry only these.
    pub categories: Vec<Category>,
    /// Veilig Thuis's case reference (the answer's basis names it).
    pub case_reference: String,
    /// The question sealed to the organisation asked (`None` once erased).
    pub question: Option<Vec<u8>>,
    /// Veilig Thuis's basis.
    pub basis: crate::domain::basis::Basis,
    /// Role.
    pub role: Role,
    /// The Veilig Thuis professional.
    pub professional: String,
    /// Unix seconds.
    pub requested_at: i64,
    /// Where it stands.
    pub state: InformationState,
    /// The answer or decline, once given.
    pub answer: Option<InformationAnswer>,
    /// Erase the question and answer after this.
    pub retain_until: i64,
}

/// Feedback from Veilig Thuis to the melder of a melding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    /// Veilig Thuis.
    pub vt_oin: Oin,
    /// Chosen by Veilig Thuis, unique per Veilig Thuis.
    pub feedback_id: crate::ids::FeedbackId,
    /// SHA-256 of the request's metadata (idempotency).
    pub request_hash: Vec<u8>,
    /// The note's content digest, if a note was sent (idempotency).
    pub content_digest: Option<Vec<u8>>,
    /// The melding.
    pub melding: MeldingRef,
    /// Who reported it: the only recipient.
    pub melder_oin: Oin,
    /// The melding's subject pseudonyms (for the log and retention).
    pub subjects: Vec<String>,
    /// What Veilig Thuis tells.
    pub outcome: FeedbackOutcome,
    /// A note sealed to the melder (`None`: none sent, or erased).
    pub note: Option<Vec<u8>>,
    /// The basis presented (Veilig Thuis's statutory task).
    pub basis: crate::domain::basis::Basis,
    /// Role.
    pub role: Role,
    /// The Veilig Thuis professional.
    pub professional: String,
    /// Unix seconds.
    pub sent_at: i64,
    /// Erase the note after this.
    pub retain_until: i64,
}

/// One answer of the wijkteam to a handover, in order (`seq` 1, 2, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverAnswer {
    /// Position among the handover's answers.
    pub seq: u32,
    /// The answer.
    pub answer: AnswerKind,
    /// Why it was returned.
    pub reason: Option<ReturnReason>,
    /// A question's envelope id (`binding.signal_id`; a retry with the same id is the same
    /// question).
    pub question_id: Option<String>,
    /// A question's encoded envelope, sealed to Veilig Thuis (`None` once erased).
    pub question: Option<Vec<u8>>,
    /// The role the wijkcoach answered in.
    pub role: Role,
    /// The wijkcoach (token subject).
    pub professional: String,
    /// Unix seconds.
    pub answered_at: i64,
}

/// The triagist's recorded decision on a triage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriageDecision {
    /// The triage decided on.
    pub triage_id: TriageId,
    /// Its melding.
    pub melding: MeldingRef,
    /// Veilig Thuis.
    pub vt_oin: Oin,
    /// The decision.
    pub decision: DecisionKind,
    /// Why, when it differs from the advice.
    pub reason: Option<DecisionReason>,
    /// Role.
    pub role: Role,
    /// Triagist (token subject).
    pub professional: String,
    /// Unix seconds.
    pub decided_at: i64,
}

/// The answers as stored (plain codes, so the table can be read without this code).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TriageAnswersStored {
    /// `yes` | `no` | `unknown`.
    pub physical_abuse_or_severe_violence: String,
    /// Idem.
    pub sexual_abuse: String,
    /// Idem.
    pub violence_witnessed_by_children: String,
    /// `yes` | `no` | `divorce_only` | `unknown`.
    pub safety_conflict: String,
    /// `open` | `expected_not_open` | `found_not_open` | `unknown`.
    pub open_to_help: String,
    /// `yes` | `no` | `unknown`.
    pub stacked_reports: String,
    /// Idem.
    pub mutual_accusations: String,
    /// Idem.
    pub addiction: String,
}

impl TriageAnswersStored {
    /// The policy crate's answers.
    pub fn to_policy(
        &self,
        earlier_reports: u32,
        acute: bool,
    ) -> signaalhub_policy::triage::TriageAnswers {
        use signaalhub_policy::triage::{Answer, OpenToHelp, SafetyConflict, TriageAnswers};
        let a = |s: &str| match s {
            "yes" => Answer::Yes,
            "no" => Answer::No,
            _ => Answer::Unknown,
        };
        TriageAnswers {
            physical_abuse_or_severe_violence: a(&self.physical_abuse_or_severe_violence),
            sexual_abuse: a(&self.sexual_abuse),
            violence_witnessed_by_children: a(&self.violence_witnessed_by_children),
            safety_conflict: match self.safety_conflict.as_str() {
                "yes" => SafetyConflict::Yes,
                "no" => SafetyConflict::No,
                "divorce_only" => SafetyConflict::DivorceOnly,
                _ => SafetyConflict::Unknown,
            },
            open_to_help: match self.open_to_help.as_str() {
                "open" => OpenToHelp::Open,
                "expected_not_open" => OpenToHelp::ExpectedNotOpen,
                "found_not_open" => OpenToHelp::FoundNotOpen,
                _ => OpenToHelp::Unknown,
            },
            stacked_reports: a(&self.stacked_reports),
            mutual_accusations: a(&self.mutual_accusations),
            addiction: a(&self.addiction),
            earlier_reports_in_window: earlier_reports,
            acute,
        }
    }
}

/// The family declined the wijkteam.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyDeclined {
    /// The melding.
    pub melding: MeldingRef,
    /// Reference of who said so.
    pub declined_by: String,
    /// Veilig Thuis.
    pub recorded_by_oin: Oin,
    /// Unix seconds.
    pub recorded_at: i64,
}

/// A professional the family can contact.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContactPerson {
    /// Name.
    pub name: String,
    /// Function.
    pub function: String,
    /// Phone.
    pub phone: String,
    /// E-mail.
    pub email: String,
}

/// Where a handover stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoverState {
    /// Not yet fetched by the wijkteam.
    Pending,
    /// Received by the wijkteam.
    Delivered,
    /// Held back.
    Withheld,
}

impl HandoverState {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            HandoverState::Pending => "pending",
            HandoverState::Delivered => "delivered",
            HandoverState::Withheld => "withheld",
        }
    }
    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => HandoverState::Pending,
            "delivered" => HandoverState::Delivered,
            "withheld" => HandoverState::Withheld,
            _ => return None,
        })
    }
}

/// A stored handover.
#[derive(Debug, Clone)]
pub struct HandoverRecord {
    /// Veilig Thuis.
    pub sender_oin: Oin,
    /// Client-chosen id.
    pub handover_id: HandoverId,
    /// SHA-256 of the canonical request (without the envelopes' bytes; with their ids).
    pub request_hash: Vec<u8>,
    /// The envelopes' content digests in order, concatenated (idempotency: same id, same
    /// content); `None` for a handover stored before the hub kept them.
    pub content_digest: Option<Vec<u8>>,
    /// The melding.
    pub melding: MeldingRef,
    /// The wijkteam.
    pub recipient_oin: Oin,
    /// Subject pseudonyms handed over.
    pub subjects: Vec<String>,
    /// Facts per subject (same order), from the consents presented.
    pub facts: Vec<Facts>,
    /// Categories.
    pub categories: Vec<Category>,
    /// Purpose.
    pub purpose: Purpose,
    /// The basis presented.
    pub basis: crate::domain::basis::Basis,
    /// The purpose the data was received for (the melding's).
    pub received_for: Purpose,
    /// Advice code of the triage it rests on.
    pub advice: String,
    /// The triagist's decision it follows (`None` for a handover made before decisions were
    /// recorded: it followed the advice).
    pub decision: Option<DecisionKind>,
    /// The triage it rests on.
    pub triage_id: TriageId,
    /// Veilig Thuis contact.
    pub vt_contact: ContactPerson,
    /// Wijkteam contact.
    pub wijkteam_contact: ContactPerson,
    /// The family letter as generated at the handover.
    pub letter: String,
    /// State.
    pub state: HandoverState,
    /// Why withheld.
    pub reasons: Vec<StoredReason>,
    /// Consent ids the handover relies on.
    pub consent_ids: Vec<ConsentId>,
    /// Role of the sender.
    pub sender_role: Role,
    /// The sending professional.
    pub sender_professional: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Erase after this.
    pub retain_until: i64,
}

/// Everything the family letter says, as structured fields (no names of family members, no
/// content, no codes: the categories and the basis come in the convenant's words).
#[derive(Debug, Clone)]
pub struct LetterInput {
    /// The language it is written in.
    pub language: Language,
    /// Date of the handover (unix seconds).
    pub date: i64,
    /// Name of the organisation that reported, when it may be named (the police, or a reporter
    /// that agreed); empty otherwise.
    pub reporter_name: String,
    /// Veilig Thuis, who sends the letter, and how to reach its privacy officer.
    pub vt: Sender,
    /// The wijkteam's name.
    pub wijkteam_name: String,
    /// What was shared, each category in the convenant's words.
    pub shared: Vec<String>,
    /// Veilig Thuis's legal ground, in the convenant's words.
    pub ground: String,
    /// Whether Veilig Thuis comes along on the first visit.
    pub joint_visit: bool,
    /// Whether the handover relies on the family's consent (the sample convenant requires it; a
    /// region may hand over on the statutory task alone).
    pub with_consent: bool,
    /// Veilig Thuis contact.
    pub vt_contact: ContactPerson,
    /// Wijkteam contact.
    pub wijkteam_contact: ContactPerson,
}

fn contact_line(p: &Phrases, c: &ContactPerson) -> String {
    let mut parts = Vec::new();
    match (c.name.is_empty(), c.function.is_empty()) {
        (false, false) => parts.push(format!("{} ({})", c.name, c.function)),
        (false, true) => parts.push(c.name.clone()),
        (true, false) => parts.push(c.function.clone()),
        (true, true) => {}
    }
    if !c.phone.is_empty() {
        parts.push(fill(p.ho_phone, &[("phone", &c.phone)]));
    }
    if !c.email.is_empty() {
        parts.push(fill(p.ho_email, &[("email", &c.email)]));
    }
    if parts.is_empty() {
        return p.ho_contact_unknown.to_owned();
    }
    parts.join(", ")
}

/// Day-month-year of unix seconds (proleptic Gregorian, UTC).
pub fn civil_date(t: i64) -> String {
    let (y, m, d) = civil(t);
    format!("{d:02}-{m:02}-{y}")
}

/// The letter for the family about a handover, in plain language: who reported (only when the
/// reporter may be named), what was shared with whom and why, what happens next, who the
/// contacts are, the family's rights and how to reach Veilig Thuis's privacy officer.
pub fn family_letter(i: &LetterInput) -> Letter {
    let p = i.language.phrases();
    let sender = i.vt.named(p);
    let vt = sender.name.as_str();
    let wt = i.wijkteam_name.as_str();
    let date = long_date(i.language, i.date);
    let mut opening = if i.reporter_name.is_empty() {
        fill(p.ho_reported, &[("vt", vt)])
    } else {
        fill(
            p.ho_reported_by,
            &[("reporter", &i.reporter_name), ("vt", vt)],
        )
    };
    opening.push(' ');
    opening.push_str(&fill(
        p.ho_shared,
        &[("date", &date), ("vt", vt), ("wijkteam", wt)],
    ));
    if i.with_consent {
        opening.push(' ');
        opening.push_str(p.ho_consent);
    }
    let mut body = vec![
        Block::Paragraph(p.ho_salutation.into()),
        Block::Paragraph(opening),
        Block::Heading(p.ho_what_heading.into()),
    ];
    if i.language != Language::Nl && !p.labels_in_dutch.is_empty() {
        body.push(Block::Paragraph(p.labels_in_dutch.into()));
    }
    body.push(Block::List(i.shared.clone()));
    body.push(Block::Heading(p.ho_why_heading.into()));
    body.push(Block::Paragraph(fill(
        p.ho_why,
        &[("vt", vt), ("wijkteam", wt)],
    )));
    let mut ground = fill(p.ho_ground, &[("vt", vt), ("basis", &i.ground)]);
    if i.with_consent {
        ground.push(' ');
        ground.push_str(p.ho_ground_consent);
    }
    body.push(Block::Paragraph(ground));
    if !i.with_consent {
        body.push(Block::Paragraph(fill(p.ho_object, &[("vt", vt)])));
    }
    body.push(Block::Heading(p.ho_next_heading.into()));
    body.push(Block::Paragraph(if i.joint_visit {
        fill(p.ho_joint, &[("vt", vt), ("wijkteam", wt)])
    } else {
        fill(p.ho_alone, &[("wijkteam", wt)])
    }));
    body.push(Block::Heading(p.ho_contacts_heading.into()));
    body.push(Block::List(vec![
        fill(
            p.ho_contact_at,
            &[
                ("org", wt),
                ("contact", &contact_line(p, &i.wijkteam_contact)),
            ],
        ),
        fill(
            p.ho_contact_at,
            &[("org", vt), ("contact", &contact_line(p, &i.vt_contact))],
        ),
    ]));
    body.push(Block::Heading(p.ho_rights_heading.into()));
    body.push(Block::Paragraph(p.ho_rights.into()));
    body.push(Block::Heading(p.privacy_heading.into()));
    body.extend(privacy_officer(p, &sender));
    body.push(Block::Paragraph(p.closing.into()));
    body.push(Block::Paragraph(vt.into()));
    Letter {
        language: i.language,
        letterhead: vec![
            format!("{}: {vt}", p.from_label),
            format!("{}: {date}", p.date_label),
        ],
        title: fill(p.ho_title, &[("wijkteam", wt)]),
        body,
        annex: None,
        sender: vt.to_owned(),
        privacy_contact: sender.privacy_contact.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::letter::{body_sentences, body_text, text};

    fn contact(n: &str, f: &str, p: &str) -> ContactPerson {
        ContactPerson {
            name: n.into(),
            function: f.into(),
            phone: p.into(),
            email: String::new(),
        }
    }

    fn input(language: Language, with_consent: bool) -> LetterInput {
        LetterInput {
            language,
            date: 1_767_225_600, // 1 January 2026
            reporter_name: "Politie Oost".into(),
            vt: Sender {
                name: "Veilig Thuis GM".into(),
                privacy_contact: "fg@vtgm.example".into(),
                contact_point: String::new(),
            },
            wijkteam_name: "Wijkteam Oost".into(),
            shared: vec!["Of er kinderen aanwezig waren".into()],
            ground: "de wettelijke taak van Veilig Thuis".into(),
            joint_visit: true,
            with_consent,
            vt_contact: contact("Rianne", "medewerker Veilig Thuis", "0800-2000"),
            wijkteam_contact: contact("Els", "wijkcoach", "026-1"),
        }
    }

    #[test]
    fn the_letter_says_what_with_whom_why_and_who() {
        let letter = family_letter(&input(Language::Nl, true));
        let t = text(&letter);
        assert!(
            t.starts_with("Van: Veilig Thuis GM\nDatum: 1 januari 2026"),
            "{t}"
        );
        assert!(t.lines().all(|line| line.chars().count() <= 76), "{t}");
        let l = body_text(&letter);
        for needle in [
            "Politie Oost heeft bij Veilig Thuis GM een melding gedaan",
            "U heeft daar toestemming voor gegeven.",
            "Op 1 januari 2026 heeft Veilig Thuis GM gegevens over uw gezin gegeven aan",
            "Of er kinderen aanwezig waren",
            "wettelijke taak van Veilig Thuis",
            "samen bij u langs",
            "Bij Wijkteam Oost: Els (wijkcoach), telefoon 026-1",
            "Bij Veilig Thuis GM: Rianne",
            "Zo bereikt u de FG: fg@vtgm.example.",
        ] {
            assert!(l.contains(needle), "missing {needle:?} in\n{l}");
        }
        let sentences = body_sentences(&letter);
        let longest = sentences
            .iter()
            .map(|s| s.split_whitespace().count())
            .max()
            .unwrap_or(0);
        assert!(longest <= 20, "{longest} words in {sentences:#?}");
    }

    #[test]
    fn without_consent_the_letter_does_not_claim_it_and_says_how_to_object() {
        let mut i = input(Language::Nl, false);
        i.reporter_name = String::new();
        i.joint_visit = false;
        i.vt.privacy_contact = String::new();
        i.vt.contact_point = "0800-2000".into();
        i.vt_contact = ContactPerson::default();
        let l = body_text(&family_letter(&i));
        assert!(!l.contains("toestemming voor gegeven"), "{l}");
        assert!(!l.contains("U gaf er ook toestemming voor"), "{l}");
        assert!(l.contains("bezwaar"), "{l}");
        assert!(
            l.contains("Er is bij Veilig Thuis GM een melding gedaan over uw gezin."),
            "{l}"
        );
        assert!(
            l.contains("Een medewerker van Wijkteam Oost neemt contact met u op."),
            "{l}"
        );
        assert!(l.contains("Bij Veilig Thuis GM: dat hoort u nog"), "{l}");
        // Without a registered privacy officer the letter says so, and whom to ask.
        assert!(
            l.contains("Veilig Thuis GM heeft ons niet laten weten hoe u de FG bereikt")
                && l.contains("U bereikt Veilig Thuis GM via 0800-2000."),
            "{l}"
        );
    }

    #[test]
    fn the_letter_in_english() {
        let l = body_text(&family_letter(&input(Language::En, true)));
        for needle in [
            "From: Veilig Thuis GM",
            "Date: 1 January 2026",
            "Wijkteam Oost will help your family",
            "Politie Oost made a report about your family to Veilig Thuis GM.",
            "You gave your consent for this.",
            "two people will come to see you together",
            "At Wijkteam Oost: Els (wijkcoach), phone 026-1",
            "You can reach the data protection officer here: fg@vtgm.example.",
            "They are in Dutch.",
        ] {
            assert!(l.contains(needle), "missing {needle:?} in\n{l}");
        }
        assert!(!l.contains("Beste") && !l.contains("toestemming"), "{l}");
    }
}
