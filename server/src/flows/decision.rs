//! The one builder of a disclosure decision. Every flow that discloses — a signal at submission
//! and again at delivery, a zorgmelding fragment, a handover, a maatregel answer, a match between
//! involved parties, a safety plan — describes the disclosure as a [`Question`] and asks
//! [`Ctx::decide`]; nothing else constructs a `policy::DecisionRequest`, so "sending and
//! delivering decide identically" is a structure, not a convention.
use super::Ctx;
use crate::domain::basis::Basis;
use crate::domain::consent::{Consent, Facts};
use crate::ids::{Category, Oin, Purpose, Role};
use signaalhub_policy as policy;

/// A party to a disclosure: its organisation and the convenant sector it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// OIN; `None` when no organisation in the directory holds the part (a maatregel answer
    /// about the register as such, when the directory lists no registering organisation).
    pub oin: Option<Oin>,
    /// Sector as the directory lists it (empty when the organisation is unknown, which the
    /// convenant never allows).
    pub sector: String,
}

impl Party {
    /// A party with a sector the flow states.
    pub fn new(oin: &Oin, sector: impl Into<String>) -> Self {
        Party {
            oin: Some(oin.clone()),
            sector: sector.into(),
        }
    }

    /// A part no organisation holds, in the sector the flow states (e.g. "the registering
    /// sector" for a maatregel answer when the directory lists none).
    pub fn unheld(sector: impl Into<String>) -> Self {
        Party {
            oin: None,
            sector: sector.into(),
        }
    }

    /// The OIN as the policy and the log write it ("" when unheld).
    pub fn oin_str(&self) -> &str {
        self.oin.as_deref().unwrap_or_default()
    }
}

/// One disclosure question about one subject.
#[derive(Debug, Clone)]
pub struct Question<'a> {
    /// Who discloses.
    pub actor: Party,
    /// The role the discloser acts in.
    pub role: &'a Role,
    /// Who receives.
    pub recipient: Party,
    /// Purpose.
    pub purpose: &'a Purpose,
    /// Categories.
    pub categories: &'a [Category],
    /// Facts about the subject as presented; facts left out are taken from the first consent
    /// presented.
    pub facts: &'a Facts,
    /// The basis presented.
    pub basis: &'a Basis,
    /// The recorded consents among `basis.consent_ids` that concern this subject, in the order
    /// presented.
    pub consents: &'a [&'a Consent],
    /// Whether the recipient is registered as involved with the subject now.
    pub recipient_involved: bool,
    /// The purpose the data was received for, when passed on.
    pub received_for: Option<&'a Purpose>,
    /// Recorded exemption from informing the family.
    pub inform_exemption: Option<&'a str>,
    /// Now (unix seconds).
    pub now: i64,
}

impl Ctx {
    /// A party as the directory knows it now.
    pub fn party(&self, oin: &Oin) -> Party {
        Party::new(oin, self.sector_of(oin))
    }

    /// Whether `oin` is an active organisation in the directory.
    pub fn is_active_org(&self, oin: &Oin) -> bool {
        self.directory
            .snapshot()
            .orgs
            .get(oin)
            .is_some_and(|e| e.org.status == crate::domain::directory::OrgStatus::Active)
    }

    /// The sector of an organisation in the directory snapshot ("" when unknown).
    pub fn sector_of(&self, oin: &str) -> String {
        let dir = self.directory.snapshot();
        oin.parse::<Oin>()
            .ok()
            .and_then(|o| dir.orgs.get(&o).map(|e| e.org.sector.to_string()))
            .unwrap_or_default()
    }

    /// The name of an organisation in the directory snapshot (its OIN when unknown).
    pub fn name_of(&self, oin: &str) -> String {
        let dir = self.directory.snapshot();
        oin.parse::<Oin>()
            .ok()
            .and_then(|o| dir.orgs.get(&o).map(|e| e.org.name.clone()))
            .unwrap_or_else(|| oin.to_owned())
    }

    /// The policy question for `q`: the one place a `DecisionRequest` is built.
    pub fn request(&self, q: &Question<'_>) -> policy::DecisionRequest {
        policy::DecisionRequest {
            actor: policy::Actor {
                oin: q.actor.oin_str().to_owned(),
                sector: q.actor.sector.clone(),
                role: q.role.to_string(),
            },
            recipient: policy::Recipient {
                oin: q.recipient.oin_str().to_owned(),
                sector: q.recipient.sector.clone(),
            },
            purpose: q.purpose.to_string(),
            categories: q.categories.iter().map(|c| c.to_string()).collect(),
            subject: q.facts.to_policy(),
            basis: policy::PresentedBasis {
                legal: q.basis.legal.clone(),
                consents: q.consents.iter().map(|c| c.to_policy(q.now)).collect(),
            },
            recipient_involved: q.recipient_involved,
            received_for: q.received_for.map(|p| p.to_string()),
            inform_exemption: q.inform_exemption.map(str::to_owned),
            now: q.now,
        }
    }

    /// Decides `q` and counts the decision.
    pub fn decide(&self, q: &Question<'_>) -> policy::Decision<'_> {
        let d = self.policy.decide(&self.request(q));
        crate::metrics::decision(&d);
        d
    }

    /// Decides each question (one per subject of a disclosure): the disclosure is allowed only
    /// when every one is. The first denial, else the last decision; no question at all denies
    /// (fail closed).
    pub fn decide_each<'q>(
        &self,
        questions: impl IntoIterator<Item = Question<'q>>,
    ) -> policy::Decision<'_> {
        let mut last = None;
        for q in questions {
            let d = self.decide(&q);
            if !d.is_allowed() {
                return d;
            }
            last = Some(d);
        }
        last.unwrap_or_else(|| self.policy.decide(&policy::DecisionRequest::default()))
    }
}
