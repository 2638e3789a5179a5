//! The involvement register, cases (casusregie), safety plan metadata and notifications, as the
//! hub keeps them: pseudonyms, organisations and references; never a BSN, never content.
use crate::domain::consent::Facts;
use crate::ids::{
    AgreementId, CaseId, Category, InvolvementId, MaatregelId, Oin, ProposalId, Purpose, Role,
    SubjectPseudonym,
};
use serde::{Deserialize, Serialize};

/// The convenant purpose of involvement, case coordination and the safety plan.
pub static PURPOSE: Purpose = Purpose::known("casusafstemming");
/// The category disclosed when parties learn of each other.
pub static CATEGORY_INVOLVEMENT: Category = Category::known("betrokkenheid");
/// The category of the (sealed) safety plan.
pub static CATEGORY_SAFETY_PLAN: Category = Category::known("veiligheidsafspraken");
/// Most household members one registration may name besides the subject.
pub const MAX_HOUSEHOLD: usize = 16;
/// Most agreements in one safety plan version.
pub const MAX_AGREEMENTS: usize = 64;

/// One organisation's involvement with a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Involvement {
    /// Id, `i_<hex>`.
    pub id: InvolvementId,
    /// The person.
    pub subject: SubjectPseudonym,
    /// The involved organisation.
    pub org_oin: Oin,
    /// How colleagues reach the involved professional.
    pub contact_professional: String,
    /// Role the registering professional acted in.
    pub role: Role,
    /// The registering professional's id.
    pub registered_by: String,
    /// The basis presented, for telling other parties.
    pub basis: crate::domain::basis::Basis,
    /// Facts about the subject as presented.
    pub facts: Facts,
    /// Since when.
    pub started_at: i64,
    /// When registered.
    pub registered_at: i64,
    /// When ended.
    pub ended_at: Option<i64>,
    /// Erase after this (set when ended).
    pub retain_until: Option<i64>,
    /// The case it belongs to.
    pub case_id: Option<CaseId>,
}

/// The state of a coordinator proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalState {
    /// Waiting for the proposed party.
    Open,
    /// Accepted: the proposed party coordinates.
    Accepted,
    /// Declined by the proposed party.
    Declined,
    /// Overtaken by another acceptance or an ended involvement.
    Superseded,
}

impl ProposalState {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalState::Open => "open",
            ProposalState::Accepted => "accepted",
            ProposalState::Declined => "declined",
            ProposalState::Superseded => "superseded",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<ProposalState> {
        Some(match s {
            "open" => ProposalState::Open,
            "accepted" => ProposalState::Accepted,
            "declined" => ProposalState::Declined,
            "superseded" => ProposalState::Superseded,
            _ => return None,
        })
    }
}

/// A proposal of a case coordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// Id, `p_<hex>`.
    pub id: ProposalId,
    /// The case.
    pub case_id: CaseId,
    /// Proposed organisation.
    pub proposed_oin: Oin,
    /// Proposing organisation.
    pub proposed_by_oin: Oin,
    /// State.
    pub state: ProposalState,
    /// When proposed.
    pub created_at: i64,
    /// When accepted, declined or superseded.
    pub decided_at: Option<i64>,
    /// The parties that accepted so far (the proposer's own agreement is implied).
    pub accepted_by: Vec<Oin>,
}

impl Proposal {
    /// The active parties of `view` whose acceptance the proposal still waits for: every party
    /// but the proposer that has not accepted yet. Empty: it takes effect.
    pub fn awaiting(&self, view: &CaseView) -> Vec<Oin> {
        view.party_oins()
            .into_iter()
            .filter(|o| *o != self.proposed_by_oin && !self.accepted_by.contains(o))
            .collect()
    }
}

/// A case: its coordinator and plan counter; parties are the involvements pointing to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Id, `k_<hex>`.
    pub id: CaseId,
    /// When formed.
    pub created_at: i64,
    /// The coordinating organisation, if any.
    pub coordinator_oin: Option<Oin>,
    /// Since when it coordinates.
    pub coordinator_since: Option<i64>,
    /// Latest safety plan version (0: none).
    pub plan_version: u32,
    /// The case that absorbed this one.
    pub merged_into: Option<CaseId>,
    /// Formation order (the register lock's version when it was formed).
    pub seq: i64,
}

/// A case with everything a party sees.
#[derive(Debug, Clone)]
pub struct CaseView {
    /// The case.
    pub case: Case,
    /// Its active involvements.
    pub parties: Vec<Involvement>,
    /// Its open proposals.
    pub proposals: Vec<Proposal>,
}

impl CaseView {
    /// Whether `oin` has an active involvement in the case.
    pub fn has_party(&self, oin: &str) -> bool {
        self.parties.iter().any(|i| i.org_oin == oin)
    }

    /// The distinct organisations of the case, in OIN order.
    pub fn party_oins(&self) -> Vec<Oin> {
        let mut v: Vec<Oin> = self.parties.iter().map(|i| i.org_oin.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The distinct persons of the case's involvements (pseudonyms, sorted).
    pub fn subjects(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .parties
            .iter()
            .map(|i| i.subject.as_str().to_owned())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// What the hub knows of one safety plan agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementMeta {
    /// Id within the version.
    pub id: String,
    /// Organisations it concerns.
    pub parties: Vec<String>,
    /// Whether it concerns the family.
    pub family: bool,
}

/// A confirmation of an agreement by an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// Agreement id.
    pub agreement_id: AgreementId,
    /// Confirming organisation.
    pub oin: Oin,
    /// When.
    pub confirmed_at: i64,
}

/// One safety plan version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanVersion {
    /// The case.
    pub case_id: CaseId,
    /// Version, from 1.
    pub version: u32,
    /// Author organisation.
    pub author_oin: Oin,
    /// Author professional.
    pub author_professional: String,
    /// Encoded envelope (opaque).
    pub envelope: Vec<u8>,
    /// Organisations it was sealed to.
    pub sealed_to: Vec<String>,
    /// Agreements.
    pub agreements: Vec<AgreementMeta>,
    /// When published.
    pub published_at: i64,
    /// Erase after this.
    pub retain_until: i64,
    /// SHA-256 of the publishing request without its envelope (idempotency: the author's retry
    /// of the same version with the same metadata); `None` for a version published before the
    /// hub kept it.
    pub request_hash: Option<Vec<u8>>,
    /// The envelope's content digest (idempotency: same version, same content); `None` likewise.
    pub content_digest: Option<Vec<u8>>,
    /// Confirmations so far.
    pub confirmations: Vec<Confirmation>,
    /// The review planned with this version (unix seconds).
    pub review_at: Option<i64>,
    /// What became of that review (`None`: none planned).
    pub review_state: Option<crate::domain::zorgmelding::ReviewState>,
}

impl PlanVersion {
    /// Whether every agreement is confirmed by every organisation it concerns.
    pub fn fully_confirmed(&self) -> bool {
        self.agreements.iter().all(|a| {
            a.parties.iter().all(|p| {
                self.confirmations
                    .iter()
                    .any(|c| c.agreement_id == a.id && c.oin == *p)
            })
        })
    }
}

/// What a notification reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    /// Someone asked about the recipient's maatregel.
    MaatregelQueried,
    /// A match: parties learn of each other.
    InvolvementMatched,
    /// A party ended its involvement.
    InvolvementEnded,
    /// The recipient was proposed as coordinator.
    CoordinatorProposed,
    /// A coordinator accepted.
    CoordinatorAccepted,
    /// A proposal was declined.
    CoordinatorDeclined,
    /// A safety plan version was published.
    SafetyPlanPublished,
    /// Agreements were confirmed.
    SafetyPlanConfirmed,
    /// An organisation reached its day's limit of "no" answers to the maatregel question
    /// (sent to the youth protection organisations: a sign of probing).
    MaatregelQueriesLimited,
    /// A maatregel about the child ended (to the organisations involved with the child).
    MaatregelEnded,
    /// To Veilig Thuis: the review it planned for a melding is due.
    MeldingReviewDue,
    /// To every party of the case: the review of the latest safety plan version is due.
    SafetyPlanReviewDue,
    /// To Veilig Thuis: a delivered handover is still unanswered past the convenant's period.
    HandoverUnanswered,
    /// To a disclosing organisation: informing the family of a disclosure is overdue.
    InformOverdue,
    /// To an organisation that received data: the family's request about it was granted by the
    /// organisation that disclosed it (AVG art. 19).
    FamilyRequestGranted,
}

impl NotificationKind {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::MaatregelQueried => "maatregel_queried",
            NotificationKind::InvolvementMatched => "involvement_matched",
            NotificationKind::InvolvementEnded => "involvement_ended",
            NotificationKind::CoordinatorProposed => "coordinator_proposed",
            NotificationKind::CoordinatorAccepted => "coordinator_accepted",
            NotificationKind::CoordinatorDeclined => "coordinator_declined",
            NotificationKind::SafetyPlanPublished => "safety_plan_published",
            NotificationKind::SafetyPlanConfirmed => "safety_plan_confirmed",
            NotificationKind::MaatregelQueriesLimited => "maatregel_queries_limited",
            NotificationKind::MaatregelEnded => "maatregel_ended",
            NotificationKind::MeldingReviewDue => "melding_review_due",
            NotificationKind::SafetyPlanReviewDue => "safety_plan_review_due",
            NotificationKind::HandoverUnanswered => "handover_unanswered",
            NotificationKind::InformOverdue => "inform_overdue",
            NotificationKind::FamilyRequestGranted => "family_request_granted",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<NotificationKind> {
        Some(match s {
            "maatregel_queried" => NotificationKind::MaatregelQueried,
            "involvement_matched" => NotificationKind::InvolvementMatched,
            "involvement_ended" => NotificationKind::InvolvementEnded,
            "coordinator_proposed" => NotificationKind::CoordinatorProposed,
            "coordinator_accepted" => NotificationKind::CoordinatorAccepted,
            "coordinator_declined" => NotificationKind::CoordinatorDeclined,
            "safety_plan_published" => NotificationKind::SafetyPlanPublished,
            "safety_plan_confirmed" => NotificationKind::SafetyPlanConfirmed,
            "maatregel_queries_limited" => NotificationKind::MaatregelQueriesLimited,
            "maatregel_ended" => NotificationKind::MaatregelEnded,
            "melding_review_due" => NotificationKind::MeldingReviewDue,
            "safety_plan_review_due" => NotificationKind::SafetyPlanReviewDue,
            "handover_unanswered" => NotificationKind::HandoverUnanswered,
            "inform_overdue" => NotificationKind::InformOverdue,
            "family_request_granted" => NotificationKind::FamilyRequestGranted,
            _ => return None,
        })
    }
}

/// A notification to one organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Recipient organisation.
    pub recipient_oin: Oin,
    /// Cursor (filled in by the store: 1 + the log index of its entry).
    pub cursor: u64,
    /// Kind.
    pub kind: NotificationKind,
    /// When.
    pub at: i64,
    /// The organisation that acted.
    pub actor_oin: Oin,
    /// The professional who acted.
    pub actor_professional: String,
    /// Case concerned.
    pub case_id: Option<CaseId>,
    /// Maatregel concerned (the recipient's own).
    pub maatregel_id: Option<MaatregelId>,
    /// The recipient's own involvement concerned.
    pub involvement_id: Option<InvolvementId>,
    /// Proposal concerned.
    pub proposal_id: Option<ProposalId>,
    /// Plan version concerned.
    pub plan_version: Option<u32>,
    /// One plain Dutch sentence.
    pub summary_nl: String,
    /// What a reminder concerns: a melding or a handover id.
    pub reference: Option<String>,
    /// Erase after this.
    pub retain_until: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for s in [
            ProposalState::Open,
            ProposalState::Accepted,
            ProposalState::Declined,
            ProposalState::Superseded,
        ] {
            assert_eq!(ProposalState::parse(s.as_str()), Some(s));
        }
        for k in [
            NotificationKind::MaatregelQueried,
            NotificationKind::InvolvementMatched,
            NotificationKind::InvolvementEnded,
            NotificationKind::CoordinatorProposed,
            NotificationKind::CoordinatorAccepted,
            NotificationKind::CoordinatorDeclined,
            NotificationKind::SafetyPlanPublished,
            NotificationKind::SafetyPlanConfirmed,
        ] {
            assert_eq!(NotificationKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn full_confirmation_needs_every_concerned_party() {
        let a: Oin = "00000001000000000001".parse().expect("well-formed");
        let b: Oin = "00000001000000000002".parse().expect("well-formed");
        let mut p = PlanVersion {
            case_id: "k_a".parse().expect("well-formed"),
            version: 1,
            author_oin: a.clone(),
            author_professional: "x".into(),
            envelope: vec![],
            sealed_to: vec![],
            request_hash: None,
            content_digest: None,
            review_at: None,
            review_state: None,
            agreements: vec![
                AgreementMeta {
                    id: "1".into(),
                    parties: vec![a.to_string(), b.to_string()],
                    family: true,
                },
                AgreementMeta {
                    id: "2".into(),
                    parties: vec![],
                    family: true,
                },
            ],
            published_at: 0,
            retain_until: 0,
            confirmations: vec![Confirmation {
                agreement_id: "1".parse().expect("well-formed"),
                oin: a.clone(),
                confirmed_at: 1,
            }],
        };
        assert!(!p.fully_confirmed());
        p.confirmations.push(Confirmation {
            agreement_id: "1".parse().expect("well-formed"),
            oin: b.clone(),
            confirmed_at: 2,
        });
        assert!(p.fully_confirmed());
    }
}
