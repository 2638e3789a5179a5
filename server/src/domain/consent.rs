//! Consent records, as the hub keeps them (no BSN: the subject is a pseudonym).
use crate::ids::{Category, ConsentId, Oin, Purpose, SubjectPseudonym};
use serde::{Deserialize, Serialize};

/// In which capacity a person consented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capacity {
    /// The data subject.
    Subject,
    /// A parent with gezag.
    GezagHolder,
}

/// A person who consented, by reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Giver {
    /// Reference, e.g. `ouder-1`.
    pub person: String,
    /// Capacity.
    pub capacity: Capacity,
}

/// To whom a consent allows disclosure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentTo {
    /// One organisation.
    Oin(Oin),
    /// A whole sector.
    Sector(String),
}

/// Facts about the subject recorded with the consent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// Age in years.
    pub age_years: Option<u8>,
    /// Age band name (`under_12`, `12_to_15`, `16_to_17`, `adult`).
    pub age_band: Option<String>,
    /// References of the holders of gezag.
    pub gezag_holders: Vec<String>,
}

impl Facts {
    /// As the policy crate sees them.
    pub fn to_policy(&self) -> signaalhub_policy::SubjectFacts {
        use signaalhub_policy::{Age, AgeBand};
        let age = match (self.age_years, self.age_band.as_deref()) {
            (Some(y), _) => Age::Years(y),
            (None, Some("under_12")) => Age::Band(AgeBand::Under12),
            (None, Some("12_to_15")) => Age::Band(AgeBand::From12To15),
            (None, Some("16_to_17")) => Age::Band(AgeBand::From16To17),
            (None, Some("adult")) => Age::Band(AgeBand::Adult),
            _ => Age::Unknown,
        };
        signaalhub_policy::SubjectFacts {
            age,
            gezag_holders: self.gezag_holders.clone(),
        }
    }

    /// Whether nothing is stated.
    pub fn is_empty(&self) -> bool {
        self.age_years.is_none() && self.age_band.is_none() && self.gezag_holders.is_empty()
    }
}

/// A consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// Id (hub-assigned, random).
    pub id: ConsentId,
    /// Subject pseudonym.
    pub subject: SubjectPseudonym,
    /// Recording organisation.
    pub recorded_by_oin: Oin,
    /// Recording professional.
    pub recorded_by: String,
    /// Who consented.
    pub givers: Vec<Giver>,
    /// To whom.
    pub recipients: Vec<ConsentTo>,
    /// Purposes.
    pub purposes: Vec<Purpose>,
    /// Categories.
    pub categories: Vec<Category>,
    /// Unix seconds, inclusive.
    pub valid_from: i64,
    /// Unix seconds, exclusive.
    pub valid_until: i64,
    /// Explicit (art. 9).
    pub explicit: bool,
    /// Evidence reference (e.g. hash of the signed form).
    pub evidence_reference: Option<String>,
    /// Subject facts at recording.
    pub facts: Facts,
    /// Unix seconds.
    pub recorded_at: i64,
    /// Unix seconds, once withdrawn.
    pub withdrawn_at: Option<i64>,
    /// Who asked for the withdrawal (reference).
    pub withdrawn_by: Option<String>,
    /// When the consent record (and its evidence reference) is erased.
    pub retain_until: i64,
    /// The organisations (OINs) that may disclose under it; by default the recording one.
    /// Empty for consents recorded before disclosers were kept.
    pub disclosers: Vec<Oin>,
}

impl Consent {
    /// As the policy crate sees it at `now`.
    pub fn to_policy(&self, now: i64) -> signaalhub_policy::ConsentRecord {
        use signaalhub_policy::{ConsentGiver, ConsentRecipient, GiverCapacity};
        signaalhub_policy::ConsentRecord {
            id: self.id.to_string(),
            givers: self
                .givers
                .iter()
                .map(|g| ConsentGiver {
                    person: g.person.clone(),
                    capacity: match g.capacity {
                        Capacity::Subject => GiverCapacity::Subject,
                        Capacity::GezagHolder => GiverCapacity::GezagHolder,
                    },
                })
                .collect(),
            recipients: self
                .recipients
                .iter()
                .map(|r| match r {
                    ConsentTo::Oin(o) => ConsentRecipient::Oin(o.to_string()),
                    ConsentTo::Sector(s) => ConsentRecipient::Sector(s.clone()),
                })
                .collect(),
            disclosers: self.disclosers.iter().map(|o| o.to_string()).collect(),
            facts: (!self.facts.is_empty()).then(|| self.facts.to_policy()),
            purposes: self.purposes.iter().map(|p| p.to_string()).collect(),
            categories: self.categories.iter().map(|c| c.to_string()).collect(),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            withdrawn: self.withdrawn_at.is_some_and(|w| w <= now),
            explicit: self.explicit,
        }
    }
}
