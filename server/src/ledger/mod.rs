//! The disclosure log (verstrekkingenlog): what an entry says, and its canonical bytes.
//!
//! An entry carries the meaning NEN 7513 asks for — event and action, time, actor (organisation,
//! professional pseudonym, role), subject pseudonyms, recipient, categories, purpose, basis, the
//! check flags, outcome and policy version — and no readable personal data: subjects and
//! professionals appear only as keyed pseudonyms. Its canonical bytes are the Merkle leaf
//! (RFC 9162: leaf hash = SHA-256(0x00 || bytes)).
//!
//! Entries are *sequenced* (given their index) in the same database transaction as the act they
//! record, so no act commits without its entry and no entry without its act. Integration into
//! tiles and signed checkpoints happens after commit, off the request path.
use serde::{Deserialize, Serialize};

pub mod integrator;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A consent was recorded.
    ConsentRecorded,
    /// A consent was withdrawn.
    ConsentWithdrawn,
    /// Consents about a subject were listed (a read of personal data).
    ConsentsListed,
    /// A signal was accepted for delivery.
    SignalSent,
    /// A signal was refused at submission.
    SignalDenied,
    /// A signal reached its recipient (disclosure).
    SignalDelivered,
    /// A signal was held back before delivery (consent withdrawn, policy changed).
    SignalWithheld,
    /// The sender recalled a signal before delivery.
    SignalWithdrawn,
    /// A recipient read a delivered signal's envelope again (GetSignal).
    SignalRead,
    /// A subject access report was produced.
    SubjectAccessReport,
    /// Data was erased at the end of its retention.
    Erased,
    /// The police submitted a fragment of a zorgmelding (accepted for delivery to Veilig Thuis).
    ZorgmeldingFragmentSent,
    /// A zorgmelding fragment was refused at submission.
    ZorgmeldingFragmentDenied,
    /// The police marked a zorgmelding complete.
    ZorgmeldingCompleted,
    /// A zorgmelding (a new version of it) reached Veilig Thuis (disclosure).
    ZorgmeldingDelivered,
    /// Veilig Thuis read a zorgmelding again (GetZorgmelding).
    ZorgmeldingRead,
    /// Veilig Thuis recorded a triage.
    TriageRecorded,
    /// The triagist decided on a triage (its entry's reasons hold `advice:<code>`,
    /// `decision:<code>` and, when given, `reason:<code>`).
    TriageDecided,
    /// Veilig Thuis recorded that the family declined the wijkteam.
    FamilyDeclinedRecorded,
    /// Veilig Thuis handed a case over to a wijkteam (accepted for delivery).
    HandoverSent,
    /// A handover was refused (family declined, no consent, acute, ...).
    HandoverDenied,
    /// A handover reached the wijkteam (disclosure).
    HandoverDelivered,
    /// A handover was held back before the wijkteam received it.
    HandoverWithheld,
    /// The wijkteam read a delivered handover again.
    HandoverRead,
    /// The wijkteam answered a handover (reasons `answer:<code>` and, for a return,
    /// `reason:<code>`; a question is a disclosure to Veilig Thuis).
    HandoverAnswered,
    /// Veilig Thuis told the melder what it does with the melding (a disclosure; reasons
    /// `outcome:<code>` and the decision's).
    FeedbackSent,
    /// Feedback to the melder was refused by the convenant.
    FeedbackDenied,
    /// The melder read feedback with a sealed note (ListFeedback).
    FeedbackRead,
    /// Veilig Thuis recorded the stage of a melding (and the review it plans).
    MeldingStageSet,
    /// The hub told Veilig Thuis that the review it planned for a melding is due.
    MeldingReviewDue,
    /// The hub told the parties of a case that the safety plan's review is due.
    SafetyPlanReviewDue,
    /// The hub told Veilig Thuis that a delivered handover is still unanswered.
    HandoverUnanswered,
    /// Veilig Thuis asked an organisation for information about a melding (disclosure of the
    /// sealed question).
    InformationRequested,
    /// Veilig Thuis's information request was refused by the convenant.
    InformationRequestDenied,
    /// The organisation asked read the sealed question (ListInformationRequests).
    InformationRequestRead,
    /// The organisation asked answered (disclosure of the sealed answer to Veilig Thuis).
    InformationAnswered,
    /// An answer to an information request was refused by the convenant.
    InformationAnswerDenied,
    /// The organisation asked declined, with a reason.
    InformationDeclined,
    /// Veilig Thuis read a sealed answer (ListInformationRequests).
    InformationAnswerRead,
    /// A maatregel was registered.
    MaatregelRegistered,
    /// A maatregel was ended.
    MaatregelEnded,
    /// Someone asked whether a maatregel exists (answered or refused).
    MaatregelQueried,
    /// A responsible organisation was told who asked about its maatregel.
    MaatregelQueryNotified,
    /// An organisation involved with the child was told that a maatregel ended (`disclosed`,
    /// with a notification) or was not, because the convenant does not let the GI tell it
    /// (`withheld`).
    MaatregelEndNotified,
    /// The maatregelen of a subject were listed by their organisation (a read).
    MaatregelenListed,
    /// An organisation reached its day's limit of "no" answers to the maatregel question; a
    /// youth protection organisation is told (one entry each, no subject).
    MaatregelQueriesLimited,
    /// An organisation registered its involvement with a person.
    InvolvementRegistered,
    /// An organisation tried to register involvement without a ground the hub can check
    /// (outcome `denied`; nothing was registered).
    InvolvementRefused,
    /// An organisation confirmed another's contact with a person (a ground for that one's
    /// involvement; `denied` when the confirming organisation is not involved itself).
    InvolvementConfirmed,
    /// An organisation ended its involvement (one entry, plus one per party told).
    InvolvementEnded,
    /// Involved parties learned of each other (one entry per party told).
    InvolvementMatched,
    /// A match was not disclosed: the convenant did not allow it.
    InvolvementMatchWithheld,
    /// The involved parties of a person or case were listed (a read).
    InvolvedPartiesListed,
    /// A case coordinator was proposed.
    CoordinatorProposed,
    /// A case coordinator took up the role (one entry per party told).
    CoordinatorAccepted,
    /// A party declined a proposed coordinator (the proposal ends).
    CoordinatorDeclined,
    /// A party accepted a proposed coordinator; the proposal waits for the other parties.
    CoordinatorEndorsed,
    /// A safety plan version was shared with a party (disclosure).
    SafetyPlanPublished,
    /// A safety plan version was refused.
    SafetyPlanDenied,
    /// A party read a safety plan version's envelope again.
    SafetyPlanRead,
    /// A party confirmed safety plan agreements (one entry per party told).
    SafetyPlanConfirmed,
    /// `CheckBasis` consulted the involvement register because its answer depended on whether
    /// the recipient is involved with the person (`checks.relationship`: it is).
    InvolvementChecked,
    /// A privacy officer listed the entries one professional of its organisation acted in (the
    /// per-user audit of NEN 7513); `reference` is the professional's keyed pseudonym.
    ProfessionalAudit,
    /// The disclosing organisation recorded how it informed the family of a disclosure
    /// (reasons `act:<code>`, `informed_on:<date>`; reference `inform:<log index>`).
    FamilyInformed,
    /// The disclosing organisation recorded why it does not inform the family of a disclosure
    /// (reasons `ground:<code>`; reference `inform:<log index>`).
    InformExempted,
    /// The hub told an organisation that informing the family of a disclosure is overdue
    /// (reference `inform:<log index>`).
    InformOverdue,
    /// An organisation recorded a request of the family about their data (objection,
    /// correction, restriction, erasure; reasons `kind:<code>`; reference the request id).
    FamilyRequestRecorded,
    /// The organisation decided on the family's request (reasons `kind:<code>`,
    /// `decision:<code>`, `reason:<code>`).
    FamilyRequestDecided,
    /// A granted request was told to an organisation that received the data (AVG art. 19; one
    /// entry per recipient, with the recipient).
    FamilyRequestNotified,
    /// A recipient confirmed that it acted on a granted request's notice.
    FamilyRequestAcknowledged,
    /// The hub issued a subject reference to an organisation for a person without a known BSN
    /// (subjects: the reference's pseudonym; the reference itself is never logged).
    SubjectReferenceIssued,
    /// The organisation that was issued a subject reference merged it with the person's BSN:
    /// every stored record under the reference now names the BSN's pseudonym (subjects: the
    /// reference's pseudonym, then the BSN's).
    SubjectMerged,
}

/// An event's name as it is written in an entry (`signal_delivered`).
pub fn event_name(e: Event) -> String {
    serde_json::to_value(e)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The event of a name written by [`event_name`].
pub fn event_from_name(s: &str) -> Option<Event> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

impl Event {
    /// Whether the entry records data accepted for a delivery that is decided and logged again
    /// when it happens (`signal_sent`, `handover_sent`): the disclosure itself is the later
    /// `*_delivered` entry. (A zorgmelding fragment is decided once, when the police submit it:
    /// its `zorgmelding_fragment_sent` entry is the decided disclosure.)
    pub fn awaits_delivery(self) -> bool {
        matches!(self, Event::SignalSent | Event::HandoverSent)
    }

    /// Whether the entry records data delivered to its recipient for its purpose
    /// (`signal_delivered`, `zorgmelding_delivered`, `handover_delivered`): what the recipient
    /// then holds, and may pass on only within the floor's purpose limitation. The store indexes
    /// these by person, recipient and purpose (`log_received_purposes`).
    pub fn is_delivery(self) -> bool {
        matches!(
            self,
            Event::SignalDelivered | Event::ZorgmeldingDelivered | Event::HandoverDelivered
        )
    }
}

/// The result the entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryOutcome {
    /// Data was disclosed (or will be, for a sent signal).
    Disclosed,
    /// Refused.
    Denied,
    /// Held back.
    Withheld,
    /// A record was made or changed (consent, withdrawal, erasure, read).
    Recorded,
}

/// The checks that were made (NEN 7513 "on what grounds").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checks {
    /// The actor was authenticated and authorised for the action.
    pub authorised: bool,
    /// A relationship with the subject was required and present (e.g. involvement).
    pub relationship: bool,
    /// A consent was relied on and valid.
    pub consent: bool,
    /// An emergency ground (vital interest) was used.
    pub emergency: bool,
}

/// One log entry. Field order is the canonical order (serde_json keeps declaration order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Format version (1).
    pub v: u8,
    /// Event.
    pub event: Event,
    /// Unix seconds.
    pub at: i64,
    /// Acting organisation's OIN.
    pub actor_oin: String,
    /// Keyed pseudonym of the professional (hex); the clear id is kept outside the leaf.
    pub actor_pro: String,
    /// Role the professional acted in.
    pub actor_role: String,
    /// Subject pseudonyms (hex).
    pub subjects: Vec<String>,
    /// Receiving organisation, if any.
    pub recipient_oin: Option<String>,
    /// Data categories.
    pub categories: Vec<String>,
    /// Purpose.
    pub purpose: Option<String>,
    /// Basis, e.g. `consent:<id>` or `legal:meldrecht`.
    pub basis: Vec<String>,
    /// Checks made.
    pub checks: Checks,
    /// Outcome.
    pub outcome: EntryOutcome,
    /// Reason codes (denials, withholdings).
    pub reasons: Vec<String>,
    /// Convenant version and hash.
    pub policy_version: Option<String>,
    /// The signal or consent id concerned.
    pub reference: Option<String>,
}

impl LogEntry {
    /// The canonical bytes (the Merkle leaf input).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain strings, numbers and enums cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses canonical bytes.
    pub fn from_bytes(b: &[u8]) -> Option<LogEntry> {
        serde_json::from_slice(b).ok()
    }

    /// Whether `b` parses as an entry — exactly when [`LogEntry::from_bytes`] would — without
    /// building one (no allocation): `log verify` checks millions of entries.
    pub fn is_valid_bytes(b: &[u8]) -> bool {
        serde_json::from_slice::<EntryShape>(b).is_ok()
    }
}

/// A string checked but not kept (a zero-sized stand-in for `String`).
struct Str;

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Str, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Str;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Str, E> {
                Ok(Str)
            }
        }
        d.deserialize_string(V)
    }
}

/// [`LogEntry`]'s fields, types and order with every string checked but not kept: what
/// [`LogEntry::is_valid_bytes`] parses. `same_fields` below stops compiling when a field is added
/// to [`LogEntry`] and not here.
#[derive(Deserialize)]
#[allow(dead_code)]
struct EntryShape {
    v: u8,
    event: Event,
    at: i64,
    actor_oin: Str,
    actor_pro: Str,
    actor_role: Str,
    subjects: Vec<Str>,
    recipient_oin: Option<Str>,
    categories: Vec<Str>,
    purpose: Option<Str>,
    basis: Vec<Str>,
    checks: Checks,
    outcome: EntryOutcome,
    reasons: Vec<Str>,
    policy_version: Option<Str>,
    reference: Option<Str>,
}

#[allow(dead_code)]
fn same_fields(e: LogEntry) -> EntryShape {
    let s = |_: String| Str;
    let LogEntry {
        v,
        event,
        at,
        actor_oin,
        actor_pro,
        actor_role,
        subjects,
        recipient_oin,
        categories,
        purpose,
        basis,
        checks,
        outcome,
        reasons,
        policy_version,
        reference,
    } = e;
    EntryShape {
        v,
        event,
        at,
        actor_oin: s(actor_oin),
        actor_pro: s(actor_pro),
        actor_role: s(actor_role),
        subjects: subjects.into_iter().map(s).collect(),
        recipient_oin: recipient_oin.map(s),
        categories: categories.into_iter().map(s).collect(),
        purpose: purpose.map(s),
        basis: basis.into_iter().map(s).collect(),
        checks,
        outcome,
        reasons: reasons.into_iter().map(s).collect(),
        policy_version: policy_version.map(s),
        reference: reference.map(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LogEntry {
        LogEntry {
            v: 1,
            event: Event::SignalSent,
            at: 1_764_000_000,
            actor_oin: "00000001234567890000".into(),
            actor_pro: "ab".repeat(32),
            actor_role: "leerkracht \"x\" \u{e9}".into(),
            subjects: vec!["cd".repeat(32), "ef".repeat(32)],
            recipient_oin: Some("00000001234567890001".into()),
            categories: vec!["zorgen_thuissituatie".into()],
            purpose: None,
            basis: vec!["consent:1".into()],
            checks: Checks {
                authorised: true,
                ..Checks::default()
            },
            outcome: EntryOutcome::Disclosed,
            reasons: vec![],
            policy_version: Some("p".into()),
            reference: None,
        }
    }

    #[test]
    fn the_documented_example_entry_hashes_to_its_leaf() {
        let doc = include_str!("../../../docs/LOG.md");
        let bytes = doc
            .lines()
            .find(|l| l.starts_with("{\"v\":1,\"event\":\"signal_delivered\""))
            .expect("docs/LOG.md shows the example entry");
        let leaf = doc
            .lines()
            .find_map(|l| l.strip_prefix("leaf: "))
            .expect("docs/LOG.md shows the example's leaf hash");
        let e = LogEntry {
            v: 1,
            event: Event::SignalDelivered,
            at: 1_764_000_000,
            actor_oin: "00000009901000000000".into(),
            actor_pro: "ab".repeat(32),
            actor_role: "ib_er".into(),
            subjects: vec!["cd".repeat(32)],
            recipient_oin: Some("00000009905000000000".into()),
            categories: vec!["zorgen_thuissituatie".into()],
            purpose: Some("vroegtijdige_ondersteuning".into()),
            basis: vec!["consent:c_0123456789abcdef0123456789abcdef".into()],
            checks: Checks {
                authorised: true,
                consent: true,
                ..Checks::default()
            },
            outcome: EntryOutcome::Disclosed,
            reasons: vec![],
            policy_version: Some("2026-1+sha256:0f1e".into()),
            reference: Some("sig-2026-0001".into()),
        };
        assert_eq!(String::from_utf8(e.to_bytes()).unwrap_or_default(), bytes);
        let mut input = vec![0u8];
        input.extend_from_slice(bytes.as_bytes());
        let hash = ring::digest::digest(&ring::digest::SHA256, &input);
        assert_eq!(hex::encode(hash.as_ref()), leaf);
        assert_eq!(
            hex::encode(signaalhub_proto::merkle::leaf_hash(&e.to_bytes())),
            leaf
        );
    }

    #[test]
    fn the_check_without_allocation_agrees_with_parsing() {
        let good = String::from_utf8(sample().to_bytes()).unwrap_or_default();
        let mut cases = vec![good.clone()];
        // Every way of cutting the entry short, and a set of changes each parser must judge.
        for i in 0..good.len() {
            if good.is_char_boundary(i) {
                cases.push(good[..i].to_string());
            }
        }
        for (from, to) in [
            ("\"v\":1", "\"v\":300"),
            ("\"v\":1", "\"v\":\"1\""),
            ("signal_sent", "signal_sen"),
            ("\"purpose\":null", "\"purpose\":3"),
            ("\"purpose\":null,", ""),
            ("\"reasons\":[]", "\"reasons\":[1]"),
            ("\"reasons\":[]", "\"reasons\":[\"a\\u00e9\"]"),
            ("\"reasons\":[]", "\"reasons\":null"),
            ("\"authorised\":true", "\"authorised\":1"),
            ("\"disclosed\"", "\"Disclosed\""),
            ("{\"v\":1,", "{\"v\":1,\"extra\":[1,{}],"),
            ("{\"v\":1,", "{\"v\":1,\"v\":1,"),
            ("\"at\":1764000000", "\"at\":1.5"),
            ("\"at\":1764000000", "\"at\":-1"),
            ("\"subjects\":[", "\"subjects\":[\"\\ud800\","),
        ] {
            assert!(good.contains(from), "{from}");
            cases.push(good.replacen(from, to, 1));
        }
        cases.push(format!("{good} "));
        cases.push(format!("{good}x"));
        for c in cases {
            assert_eq!(
                LogEntry::is_valid_bytes(c.as_bytes()),
                LogEntry::from_bytes(c.as_bytes()).is_some(),
                "{c}"
            );
        }
        assert!(LogEntry::is_valid_bytes(good.as_bytes()));
    }
}

/// A stored log entry with its index.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    /// Index in the log.
    pub idx: u64,
    /// The canonical bytes (leaf input).
    pub bytes: Vec<u8>,
    /// Parsed.
    pub entry: Option<LogEntry>,
    /// The acting professional's clear id, kept beside the leaf until erased (`None` for the
    /// hub's own acts and after retention).
    pub professional: Option<String>,
}

/// An entry ready to sequence, with what is indexed or kept beside it.
#[derive(Debug, Clone)]
pub struct PendingEntry {
    /// The entry.
    pub entry: LogEntry,
    /// The professional's clear id (outside the leaf; erasable).
    pub professional: String,
    /// The duty to inform the family that this disclosure creates (set by
    /// [`PendingEntry::decided`] from the decision's obligations); the store records it beside
    /// the entry, in the same transaction (`inform_obligations`).
    pub inform: Option<InformMark>,
}

/// What a disclosure's decision says about informing the family (AVG art. 13/14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InformMark {
    /// The family is to be informed: an open obligation of the disclosing organisation.
    Open,
    /// An exemption was recorded with the disclosure (its ground code): the obligation is
    /// closed at once, with that ground.
    Exempted(String),
}

/// Who an entry names as the actor: the organisation, the professional's keyed pseudonym (empty
/// for the hub's own acts) and the role acted in.
#[derive(Debug, Clone, Copy)]
pub struct EntryActor<'a> {
    /// The acting organisation's OIN.
    pub oin: &'a str,
    /// The professional's keyed pseudonym (never the clear id).
    pub pseudonym: &'a str,
    /// The professional's clear id, kept beside the leaf (erasable); empty for the hub.
    pub professional: &'a str,
    /// The role acted in.
    pub role: &'a str,
}

impl PendingEntry {
    /// The one constructor of a log entry: an act by `actor` at `at` under convenant
    /// `policy_version`, authorised, with nothing else said yet. The builder methods below add
    /// what the act concerns; every flow and job starts here.
    pub fn new(
        actor: EntryActor<'_>,
        event: Event,
        outcome: EntryOutcome,
        at: i64,
        policy_version: &str,
    ) -> Self {
        PendingEntry {
            entry: LogEntry {
                v: 1,
                event,
                at,
                actor_oin: actor.oin.to_owned(),
                actor_pro: actor.pseudonym.to_owned(),
                actor_role: actor.role.to_owned(),
                subjects: Vec::new(),
                recipient_oin: None,
                categories: Vec::new(),
                purpose: None,
                basis: Vec::new(),
                checks: Checks {
                    authorised: true,
                    ..Checks::default()
                },
                outcome,
                reasons: Vec::new(),
                policy_version: Some(policy_version.to_owned()),
                reference: None,
            },
            professional: actor.professional.to_owned(),
            inform: None,
        }
    }

    /// The subjects (stored pseudonyms) the act concerns.
    pub fn subjects(mut self, subjects: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.entry.subjects = subjects.into_iter().map(Into::into).collect();
        self
    }

    /// The organisation that received (or would have received) the data.
    pub fn recipient(mut self, oin: impl Into<String>) -> Self {
        self.entry.recipient_oin = Some(oin.into());
        self
    }

    /// The purpose and data categories.
    pub fn about(
        mut self,
        purpose: impl AsRef<str>,
        categories: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Self {
        self.entry.purpose = Some(purpose.as_ref().to_owned());
        self.entry.categories = categories
            .into_iter()
            .map(|c| c.as_ref().to_owned())
            .collect();
        self
    }

    /// The data categories, when the act has no single purpose.
    pub fn categories(mut self, categories: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.entry.categories = categories
            .into_iter()
            .map(|c| c.as_ref().to_owned())
            .collect();
        self
    }

    /// The basis relied on, with the consent and emergency check flags it implies.
    pub fn basis(mut self, basis: &crate::domain::basis::Basis) -> Self {
        self.entry.basis = basis.log_strings();
        self.entry.checks.consent = !basis.consent_ids.is_empty();
        self.entry.checks.emergency = basis.is_emergency();
        self
    }

    /// The basis as already-written strings (`legal:<name>`, `consent:<id>`, `retention:<p>`).
    pub fn basis_strings(mut self, basis: Vec<String>) -> Self {
        self.entry.basis = basis;
        self
    }

    /// A relationship with the subject (e.g. involvement) was required and present.
    pub fn relationship(mut self) -> Self {
        self.entry.checks.relationship = true;
        self
    }

    /// The decision's reason codes and convenant version, and the duty to inform the family its
    /// obligations carry ([`PendingEntry::informs`]).
    pub fn decided(mut self, d: &signaalhub_policy::Decision<'_>) -> Self {
        self.entry.reasons = d
            .reasons
            .iter()
            .map(|r| r.code.as_str().to_owned())
            .collect();
        self.entry.policy_version = Some(d.policy_version.to_string());
        self.informs(d)
    }

    /// For a disclosure itself (not data accepted for a later delivery that is decided again),
    /// the duty to inform the family that the decision's obligations carry: every flow that
    /// discloses under a decision calls this (through [`PendingEntry::decided`] or directly), so
    /// a convenant's `inform_subject` is tracked whatever the flow.
    pub fn informs(mut self, d: &signaalhub_policy::Decision<'_>) -> Self {
        use signaalhub_policy::Obligation;
        self.inform = if self.entry.outcome == EntryOutcome::Disclosed
            && !self.entry.event.awaits_delivery()
        {
            d.obligations.iter().find_map(|o| match o {
                Obligation::InformSubject => Some(InformMark::Open),
                Obligation::InformSubjectExempted { reason } => {
                    Some(InformMark::Exempted(reason.clone()))
                }
                _ => None,
            })
        } else {
            None
        };
        self
    }

    /// Reason codes written by the flow itself.
    pub fn reasons(mut self, reasons: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.entry.reasons = reasons.into_iter().map(Into::into).collect();
        self
    }

    /// The record the act concerns (`<signal id>`, `<kind>:<id>`, ...).
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.entry.reference = Some(reference.into());
        self
    }
}
