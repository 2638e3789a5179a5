//! Plain input and output types of a decision. No protobuf: the server converts at its edge.
//!
//! Every action that moves data about a person — sending a signal, a Veilig Thuis handover,
//! answering "is there a maatregel?", telling another party of an involvement — is a *disclosure*
//! from an actor's organisation to a recipient organisation, and is decided by one call to
//! [`crate::Policy::decide`] with a [`DecisionRequest`].

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// The professional acting, through their organisation.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Actor {
    /// OIN of the organisation (20 digits), from the verified client certificate.
    pub oin: String,
    /// Sector of the organisation, from the hub's directory.
    pub sector: String,
    /// Role of the professional, from their token, e.g. `ib_er`.
    pub role: String,
}

/// The receiving organisation.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Recipient {
    /// OIN (20 digits).
    pub oin: String,
    /// Sector, from the hub's directory.
    pub sector: String,
}

/// Age bands the law distinguishes for consent (art. 5 UAVG, WGBO).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgeBand {
    /// 0–11: a parent with gezag consents.
    Under12,
    /// 12–15: a parent with gezag; for health data also the child.
    From12To15,
    /// 16–17: the young person consents.
    From16To17,
    /// 18 and older.
    Adult,
}

/// What the sender knows of the subject's age.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Age {
    /// Age in whole years.
    Years(u8),
    /// Only the band is known.
    Band(AgeBand),
    /// Not known: consent cannot be judged and is refused.
    #[default]
    Unknown,
}

impl Age {
    /// The band, if known.
    pub fn band(self) -> Option<AgeBand> {
        match self {
            Self::Years(y) if y < 12 => Some(AgeBand::Under12),
            Self::Years(y) if y < 16 => Some(AgeBand::From12To15),
            Self::Years(y) if y < 18 => Some(AgeBand::From16To17),
            Self::Years(_) => Some(AgeBand::Adult),
            Self::Band(b) => Some(b),
            Self::Unknown => None,
        }
    }
}

impl SubjectFacts {
    /// Whether the sender stated anything.
    pub fn is_stated(&self) -> bool {
        self.age != Age::Unknown || !self.gezag_holders.is_empty()
    }

    /// Whether `self` (stated at sending) contradicts `recorded` (with a consent): another age
    /// band, or another set of holders of gezag, where both say something.
    pub fn contradicts(&self, recorded: &SubjectFacts) -> bool {
        let band = matches!((self.age.band(), recorded.age.band()), (Some(a), Some(b)) if a != b);
        let holders = !self.gezag_holders.is_empty() && !recorded.gezag_holders.is_empty() && {
            let mut a: Vec<&String> = self.gezag_holders.iter().collect();
            let mut b: Vec<&String> = recorded.gezag_holders.iter().collect();
            a.sort();
            a.dedup();
            b.sort();
            b.dedup();
            a != b
        };
        band || holders
    }
}

/// Facts about the person the data is about.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SubjectFacts {
    /// Age or age band.
    pub age: Age,
    /// References (pseudonymous, e.g. `ouder-1`) of every person holding gezag over a minor, as
    /// recorded by the sender. Consent givers are matched against these references.
    pub gezag_holders: Vec<String>,
}

/// In which capacity a person gave consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GiverCapacity {
    /// The data subject (the young person from 12/16, or the adult).
    Subject,
    /// A parent or guardian with gezag.
    GezagHolder,
}

/// One person who gave a consent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentGiver {
    /// Reference of the person (for a gezag holder: one of [`SubjectFacts::gezag_holders`]).
    pub person: String,
    /// Capacity.
    pub capacity: GiverCapacity,
}

/// To whom a consent allows disclosure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsentRecipient {
    /// One organisation.
    Oin(String),
    /// Every organisation of a sector (e.g. "the wijkteam").
    Sector(String),
}

/// A recorded consent, with its scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRecord {
    /// Consent id (for logs and for holding back undelivered signals on withdrawal).
    pub id: String,
    /// Who gave it (several people may sign one record, e.g. both parents).
    pub givers: Vec<ConsentGiver>,
    /// Recipients covered.
    pub recipients: Vec<ConsentRecipient>,
    /// The facts about the subject recorded with the consent (age, holders of gezag): when
    /// present, these are what the floor judges the consent against, not the sender's statement
    /// at sending; a statement that contradicts them is refused (`FACTS_CONTRADICT_CONSENT`).
    pub facts: Option<SubjectFacts>,
    /// The organisations (OINs) that may disclose under it: by default the recording one. Empty
    /// only for consents recorded before disclosers were kept (any sender may present those).
    pub disclosers: Vec<String>,
    /// Purposes covered.
    pub purposes: Vec<String>,
    /// Categories covered.
    pub categories: Vec<String>,
    /// Valid from (unix seconds, inclusive).
    pub valid_from: i64,
    /// Valid until (unix seconds, exclusive).
    pub valid_until: i64,
    /// Withdrawn: from then on nothing flows under it.
    pub withdrawn: bool,
    /// Explicitly given for special-category data (art. 9(2)(a) AVG).
    pub explicit: bool,
}

/// The afwegingskader outcome (meldcode step 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Afwegingskader {
    /// Acute unsafety: report.
    AcuteOnveiligheid,
    /// Structural unsafety: report.
    StructureleOnveiligheid,
    /// A suspicion without acute or structural unsafety: help may suffice; reporting is still allowed.
    VermoedenZonderAcuteOfStructureleOnveiligheid,
    /// No suspicion after weighing: there is no ground to report.
    GeenVermoeden,
}

/// Whether the client was told, and if not why (meldcode step 3 and the letter to the family).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientInformed {
    /// The client was told.
    Yes,
    /// Not told, with the reason (e.g. it would endanger the child).
    No {
        /// The recorded reason; must not be empty.
        reason: String,
    },
}

/// Evidence backing a legal (non-consent) basis. Which items are needed depends on the basis kind
/// and the convenant (see `floor::BasisKind::floor_evidence`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Evidence {
    /// Meldcode steps completed (1..=5). Steps 1–4 are required before reporting.
    pub meldcode_steps_completed: Vec<u8>,
    /// Afwegingskader outcome.
    pub afwegingskader: Option<Afwegingskader>,
    /// Client informed or the reason why not.
    pub client_informed: Option<ClientInformed>,
    /// Police registration number of the incident.
    pub registration_number: Option<String>,
    /// Veilig Thuis case reference.
    pub case_reference: Option<String>,
    /// Debt prevention: a payment reminder was sent first.
    pub payment_reminder_sent: Option<bool>,
    /// Reference of the maatregel.
    pub maatregel_reference: Option<String>,
    /// Vital interest: what danger.
    pub vital_interest_reason: Option<String>,
    /// Vital interest: the subject cannot consent.
    pub subject_unable_to_consent: Option<bool>,
    /// A report to Veilig Thuis under the meldcode: the reporter agrees to be named to the
    /// family (otherwise the hub withholds the reporter from access reports and letters).
    pub reporter_may_be_named: Option<bool>,
}

/// A presented legal basis (anything but consent).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LegalBasisRecord {
    /// Name of a basis declared in the convenant, e.g. `meldrecht`.
    pub basis: String,
    /// Its evidence.
    pub evidence: Evidence,
}

/// What the sender presents as the basis for this disclosure.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PresentedBasis {
    /// A legal basis with evidence, if any.
    pub legal: Option<LegalBasisRecord>,
    /// Consent records, if any (e.g. one per parent).
    pub consents: Vec<ConsentRecord>,
}

/// One question: may this actor disclose these categories to this recipient for this purpose now?
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DecisionRequest {
    /// Who sends.
    pub actor: Actor,
    /// Who receives.
    pub recipient: Recipient,
    /// The purpose.
    pub purpose: String,
    /// The data categories (at least one).
    pub categories: Vec<String>,
    /// The subject.
    pub subject: SubjectFacts,
    /// The basis presented.
    pub basis: PresentedBasis,
    /// The recipient is registered as involved with the subject (the server's involvement register).
    pub recipient_involved: bool,
    /// When the data being passed on was itself received by the actor, the purpose it was
    /// received for (purpose limitation, art. 5(1)(b) AVG). `None` for the actor's own data.
    pub received_for: Option<String>,
    /// Recorded reason why the family is not informed (e.g. it would endanger the child).
    pub inform_exemption: Option<String>,
    /// Now, unix seconds (the policy has no clock).
    pub now: i64,
}

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The disclosure may happen (with the obligations).
    Allow,
    /// It may not.
    Deny,
}

/// Something the hub or sender must do when a disclosure is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Obligation {
    /// Inform the subject / family (e.g. the handover letter).
    InformSubject,
    /// The family need not be informed; the recorded reason.
    InformSubjectExempted {
        /// The recorded exemption.
        reason: String,
    },
    /// Tell the sending organisation (e.g. the GI that a wijkteam asked).
    NotifySender {
        /// OIN of the sender.
        oin: String,
    },
    /// Tell the parties of a sector.
    NotifySector {
        /// The sector.
        sector: String,
    },
    /// Confirm agreements in writing, visible to the family.
    ConfirmInWriting,
}

/// Stable machine codes for decision reasons. Their spelling (see [`ReasonCode::as_str`]) never
/// changes; clients may switch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ReasonCode {
    UnknownSector,
    UnknownPurpose,
    UnknownCategory,
    UnknownBasis,
    UnknownRole,
    NoCategories,
    BadOin,
    PartyNotInConvenant,
    NoFlow,
    PurposeNotAllowed,
    RoleNotAllowed,
    CategoryNotAllowed,
    BasisNotAllowedForFlow,
    NoBasis,
    MeldrechtOnlyToVeiligThuis,
    BasisWrongSender,
    BasisWrongRecipient,
    EvidenceMissing,
    MeldcodeStepsIncomplete,
    MeldcodeNoSuspicion,
    ClientInformedReasonMissing,
    Art9GroundMissing,
    /// Criminal-law data (art. 10 AVG) without a basis that is an art. 10 ground.
    Art10GroundMissing,
    RecipientNotInvolved,
    PurposeChangeNotAllowed,
    ConsentRequiredByFlow,
    ConsentMissing,
    ConsentWithdrawn,
    ConsentExpired,
    ConsentNotYetValid,
    ConsentWrongRecipient,
    /// The consent does not allow the sending organisation to disclose under it.
    ConsentNotForDiscloser,
    /// The facts stated at sending (age, holders of gezag) contradict those recorded with the
    /// consent.
    FactsContradictConsent,
    ConsentWrongPurpose,
    ConsentCategoryNotCovered,
    ConsentNotExplicit,
    ConsentMissingGezagHolder,
    ConsentMissingSubject,
    ConsentGiverNotEntitled,
    SubjectAgeUnknown,
    GezagHoldersUnknown,
}

impl ReasonCode {
    /// The stable spelling, e.g. `CONSENT_MISSING_GEZAG_HOLDER`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownSector => "UNKNOWN_SECTOR",
            Self::UnknownPurpose => "UNKNOWN_PURPOSE",
            Self::UnknownCategory => "UNKNOWN_CATEGORY",
            Self::UnknownBasis => "UNKNOWN_BASIS",
            Self::UnknownRole => "UNKNOWN_ROLE",
            Self::NoCategories => "NO_CATEGORIES",
            Self::BadOin => "BAD_OIN",
            Self::PartyNotInConvenant => "PARTY_NOT_IN_CONVENANT",
            Self::NoFlow => "NO_FLOW",
            Self::PurposeNotAllowed => "PURPOSE_NOT_ALLOWED",
            Self::RoleNotAllowed => "ROLE_NOT_ALLOWED",
            Self::CategoryNotAllowed => "CATEGORY_NOT_ALLOWED",
            Self::BasisNotAllowedForFlow => "BASIS_NOT_ALLOWED_FOR_FLOW",
            Self::NoBasis => "NO_BASIS",
            Self::MeldrechtOnlyToVeiligThuis => "MELDRECHT_ONLY_TO_VEILIG_THUIS",
            Self::BasisWrongSender => "BASIS_WRONG_SENDER",
            Self::BasisWrongRecipient => "BASIS_WRONG_RECIPIENT",
            Self::EvidenceMissing => "EVIDENCE_MISSING",
            Self::MeldcodeStepsIncomplete => "MELDCODE_STEPS_INCOMPLETE",
            Self::MeldcodeNoSuspicion => "MELDCODE_NO_SUSPICION",
            Self::ClientInformedReasonMissing => "CLIENT_INFORMED_REASON_MISSING",
            Self::Art9GroundMissing => "ART9_GROUND_MISSING",
            Self::Art10GroundMissing => "ART10_GROUND_MISSING",
            Self::RecipientNotInvolved => "RECIPIENT_NOT_INVOLVED",
            Self::PurposeChangeNotAllowed => "PURPOSE_CHANGE_NOT_ALLOWED",
            Self::ConsentRequiredByFlow => "CONSENT_REQUIRED_BY_FLOW",
            Self::ConsentMissing => "CONSENT_MISSING",
            Self::ConsentWithdrawn => "CONSENT_WITHDRAWN",
            Self::ConsentExpired => "CONSENT_EXPIRED",
            Self::ConsentNotYetValid => "CONSENT_NOT_YET_VALID",
            Self::ConsentWrongRecipient => "CONSENT_WRONG_RECIPIENT",
            Self::ConsentNotForDiscloser => "CONSENT_NOT_FOR_DISCLOSER",
            Self::FactsContradictConsent => "FACTS_CONTRADICT_CONSENT",
            Self::ConsentWrongPurpose => "CONSENT_WRONG_PURPOSE",
            Self::ConsentCategoryNotCovered => "CONSENT_CATEGORY_NOT_COVERED",
            Self::ConsentNotExplicit => "CONSENT_NOT_EXPLICIT",
            Self::ConsentMissingGezagHolder => "CONSENT_MISSING_GEZAG_HOLDER",
            Self::ConsentMissingSubject => "CONSENT_MISSING_SUBJECT",
            Self::ConsentGiverNotEntitled => "CONSENT_GIVER_NOT_ENTITLED",
            Self::SubjectAgeUnknown => "SUBJECT_AGE_UNKNOWN",
            Self::GezagHoldersUnknown => "GEZAG_HOLDERS_UNKNOWN",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a disclosure was denied, naming what is missing, in Dutch and English.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// Stable code.
    pub code: ReasonCode,
    /// The rule that decided, e.g. `floor:meldrecht` or `flow:school-wijkteam-toestemming`.
    pub rule: String,
    /// Dutch text for the professional.
    pub nl: String,
    /// English text.
    pub en: String,
}

/// The answer to a [`DecisionRequest`]. It borrows what it can from the [`crate::Policy`] that
/// decided (the rule lists and obligations of an allowed decision, the policy version), so an
/// allowed decision neither allocates nor touches a reference count; call [`Decision::into_owned`]
/// to keep one beyond the policy's borrow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision<'p> {
    /// Allow or deny.
    pub outcome: Outcome,
    /// The rules that decided: on allow the flow and basis (`flow:<id>`, `basis:<name>`, floor rules
    /// applied); on deny the rules behind the reasons.
    pub rules: Cow<'p, [Arc<str>]>,
    /// Obligations declared by the flow (only on allow).
    pub obligations: Cow<'p, [Obligation]>,
    /// The retention obligation: erase the payload at this time (unix seconds; `now` + the
    /// purpose's retention). `Some` exactly when allowed.
    pub retain_until: Option<i64>,
    /// Indices into `DecisionRequest::basis.consents` of the consents this disclosure relies on.
    /// The server re-decides before delivery and holds back what a withdrawal no longer allows.
    pub consents_relied_on: ConsentSet,
    /// Reasons (only on deny; never empty then).
    pub reasons: Vec<Reason>,
    /// Convenant version + content hash, to log with the disclosure.
    pub policy_version: Cow<'p, str>,
}

/// A set of indices into `DecisionRequest::basis.consents` (only the first 64 records count; more
/// can only deny). A bit set, so an allowed decision allocates nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ConsentSet(u64);

impl ConsentSet {
    /// The empty set.
    pub const EMPTY: ConsentSet = ConsentSet(0);

    /// From the bit set (bit `i` = consent record `i`).
    pub(crate) const fn from_bits(bits: u64) -> Self {
        ConsentSet(bits)
    }

    /// The set of these indices (indices of 64 and above are ignored).
    pub fn from_indices(indices: impl IntoIterator<Item = usize>) -> Self {
        ConsentSet(
            indices
                .into_iter()
                .filter(|&i| i < 64)
                .fold(0, |acc, i| acc | (1u64 << i)),
        )
    }

    /// True when no consent is relied on.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// How many consents are relied on.
    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether record `i` is relied on.
    pub fn contains(&self, i: usize) -> bool {
        i < 64 && self.0 & (1u64 << i) != 0
    }

    /// The indices, ascending.
    pub fn iter(&self) -> ConsentSetIter {
        ConsentSetIter(self.0)
    }
}

/// Iterator over a [`ConsentSet`]'s indices, ascending.
#[derive(Clone, Debug)]
pub struct ConsentSetIter(u64);

impl Iterator for ConsentSetIter {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(i)
    }
}

impl IntoIterator for &ConsentSet {
    type Item = usize;
    type IntoIter = ConsentSetIter;
    fn into_iter(self) -> ConsentSetIter {
        self.iter()
    }
}

impl Decision<'_> {
    /// The same decision, owning everything it holds (no borrow of the policy).
    pub fn into_owned(self) -> Decision<'static> {
        Decision {
            outcome: self.outcome,
            rules: Cow::Owned(self.rules.into_owned()),
            obligations: Cow::Owned(self.obligations.into_owned()),
            retain_until: self.retain_until,
            consents_relied_on: self.consents_relied_on,
            reasons: self.reasons,
            policy_version: Cow::Owned(self.policy_version.into_owned()),
        }
    }

    /// True when allowed.
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }

    /// Whether a reason with this code is present.
    pub fn has_reason(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }
}
