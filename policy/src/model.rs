//! The convenant as parsed and validated: plain data an FG could read back.
//!
//! These types are produced only by [`crate::parse`], which guarantees that every name a flow
//! references is declared and that nothing in it goes below the statutory floor.

use crate::floor::{BasisKind, EvidenceItem};

/// A validated regional convenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Convenant {
    /// File name the caller passed (for messages only).
    pub file_name: String,
    /// Human name, e.g. "Convenant Veilig Thuis Gelderland-Midden".
    pub name: String,
    /// Declared version string, e.g. "2025.1".
    pub version: String,
    /// Region, free text.
    pub region: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Who is controller (verwerkingsverantwoordelijke) for the processing under this convenant,
    /// free text for the FG's register (art. 30 lid 1 sub a AVG).
    pub controller: Option<String>,
    /// How to reach the FG(s), free text for the register.
    pub fg_contact: Option<String>,
    /// Organisational security measures the parties agreed on, for the register (art. 30 lid 1
    /// sub g AVG), next to the hub's own technical measures.
    pub security_measures: Vec<String>,
    /// FNV-1a 64 hash of the exact file text, so two files with the same declared version but
    /// different content never share a policy version in the disclosure log.
    pub content_hash: u64,
    /// Window within which reports count as recidive (stacked reports), in seconds. Default 12 months.
    pub recidive_window_secs: u64,
    /// How long a wijkteam has to answer a delivered handover (accept, ask, return) before
    /// Veilig Thuis sees it flagged, in seconds. Default one week.
    pub handover_answer_secs: u64,
    /// How long a disclosing organisation has to inform the family of a disclosure the convenant
    /// says to inform them of (`inform_subject`) before the obligation shows as overdue, in
    /// seconds. Default one month (AVG art. 14(3)(a): at the latest within one month).
    pub inform_within_secs: u64,
    /// Whether consent for a child under 16 needs every holder of gezag (true) or one (false).
    pub consent_requires_all_gezag_holders: bool,
    /// Sectors taking part, in file order.
    pub sectors: Vec<Sector>,
    /// Named parties (organisations), optionally pinned by OIN.
    pub parties: Vec<Party>,
    /// Purposes with their retention.
    pub purposes: Vec<Purpose>,
    /// Data categories.
    pub categories: Vec<Category>,
    /// Named legal bases.
    pub bases: Vec<Basis>,
    /// Allowed flows, in file order.
    pub flows: Vec<Flow>,
}

/// A sector taking part in the convenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sector {
    /// Identifier, e.g. `wijkteam`.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// True for a sector beyond the seven built-in ones (declared with `extra = true`).
    pub extra: bool,
    /// Whether the involvement of this sector's organisations is shielded from the family's view
    /// (`shielded = true`, e.g. vrouwenopvang): reports and letters name such an organisation only
    /// to itself.
    pub shielded: bool,
    /// Role names professionals of this sector can have, e.g. `ib_er`.
    pub roles: Vec<String>,
}

/// An organisation that signed the convenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    /// Name, free text.
    pub name: String,
    /// Its sector.
    pub sector: String,
    /// Its OIN (20 digits), if pinned. When any party of a sector has an OIN, only the listed OINs
    /// of that sector take part ("closed sector").
    pub oin: Option<String>,
}

/// A purpose (doel) with its retention period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purpose {
    /// Identifier, e.g. `vroegtijdige_ondersteuning`.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Retention as written, e.g. `P6M` or `180` (days).
    pub retention_text: String,
    /// Retention in seconds (Y = 365 days, M = Y/12, W = 7 days, D = 1 day).
    pub retention_secs: u64,
}

/// A data category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    /// Identifier, e.g. `zorgen_thuissituatie`.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Special category under art. 9 AVG (e.g. health).
    pub art9: bool,
    /// Criminal-law data under art. 10 AVG ("persoonsgegevens van strafrechtelijke aard", e.g.
    /// police incident data): only flows whose every basis is an art. 10 ground may carry it.
    pub art10: bool,
}

/// A named legal basis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Basis {
    /// Identifier, e.g. `meldrecht`.
    pub name: String,
    /// Its kind; decides what the floor demands.
    pub kind: BasisKind,
    /// Statute reference, text the FG checks.
    pub statute: String,
    /// Free text.
    pub description: Option<String>,
    /// The convenant claims this basis is an art. 9 ground. Only allowed for kinds that can be.
    pub art9: bool,
    /// The convenant claims this basis is an art. 10 ground (criminal-law data). Only allowed for
    /// kinds that can be ([`BasisKind::may_cover_art10`]).
    pub art10: bool,
    /// Evidence required (the convenant's list united with the floor's minimum).
    pub evidence: Vec<EvidenceItem>,
}

/// An obligation attached to a flow.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ObligationSpec {
    /// Inform the data subject / family, unless an exemption is recorded (`inform_subject`).
    InformSubject,
    /// Tell the sending party that its data was asked/delivered (`notify_sender`).
    NotifySender,
    /// Tell the parties of a sector (`notify:<sector>`).
    NotifySector(String),
    /// Confirm agreements in writing, visible to the family (`confirm_in_writing`).
    ConfirmInWriting,
}

impl ObligationSpec {
    /// The spelling in the convenant file.
    pub fn spelling(&self) -> String {
        match self {
            Self::InformSubject => "inform_subject".to_string(),
            Self::NotifySender => "notify_sender".to_string(),
            Self::NotifySector(s) => format!("notify:{s}"),
            Self::ConfirmInWriting => "confirm_in_writing".to_string(),
        }
    }
}

/// An allowed flow: who may send what to whom, why, on which bases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Identifier (the `id` key, or `flows[i]`); used as rule id in decisions.
    pub id: String,
    /// Free text.
    pub description: Option<String>,
    /// Sending sectors.
    pub from: Vec<String>,
    /// Roles of the sender allowed to use this flow; empty means every role of the sending sector.
    pub from_roles: Vec<String>,
    /// Receiving sectors.
    pub to: Vec<String>,
    /// The one purpose.
    pub purpose: String,
    /// Categories that may be sent.
    pub categories: Vec<String>,
    /// Bases any one of which makes the flow lawful.
    pub bases: Vec<String>,
    /// Obligations on an allowed disclosure.
    pub obligations: Vec<ObligationSpec>,
    /// Even with a statutory basis, a valid consent is also required (regional choice, e.g. the
    /// Veilig Thuis handover per seed 003).
    pub also_requires_consent: bool,
    /// The recipient must be registered as involved with the subject.
    pub requires_involvement: bool,
    /// Purposes under which the sender may have received the data and still pass it on here
    /// (compatible further processing, art. 6(4) AVG). Data received for another purpose is refused.
    pub onward_from: Vec<String>,
    /// 1-based line of the `[[flows]]` header.
    pub line: usize,
}

impl Convenant {
    /// `version+fnv1a64hex`, the string to put in every disclosure log entry.
    pub fn policy_version(&self) -> String {
        format!("{}+fnv1a64:{:016x}", self.version, self.content_hash)
    }
}

/// FNV-1a 64-bit. Not cryptographic: it only tells two convenant texts apart in logs.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
