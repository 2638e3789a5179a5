//! The family's rights at the hub (issue 20): the duty to inform the family of a disclosure (AVG
//! art. 13/14) tracked until it is done or exempted, and the family's requests about their data
//! (objection, correction, restriction, erasure; art. 16-18, 21) with the notices a granted one
//! sends to every organisation that received the data (art. 19).
//!
//! Nothing here holds a subject or free text: an obligation points at the log entry of its
//! disclosure (whose subjects say whom it concerns), a request at the log entries it covers and
//! the entry that recorded it. What the family said, and how the data was corrected, stays with
//! the organisations.
use crate::ids::{FamilyRequestId, Oin, Purpose, Role};

coded! {
    /// Where a duty to inform the family stands.
    InformState {
        /// Nobody recorded yet that the family was informed, or why not.
        Open = "OPEN", "open";
        /// The organisation recorded how and when it informed the family.
        Informed = "INFORMED", "het gezin is geïnformeerd";
        /// The organisation recorded why the family is not informed (an exemption's ground).
        Exempted = "EXEMPTED", "niet geïnformeerd, met een wettelijke uitzondering";
    }
}

coded! {
    /// How the family was informed.
    InformAct {
        /// A letter (on paper or as a document).
        Letter = "LETTER", "per brief";
        /// A conversation (in person or by telephone).
        Conversation = "CONVERSATION", "in een gesprek";
        /// A secure digital message or the organisation's client portal.
        Digital = "DIGITAL", "via een beveiligd digitaal bericht";
    }
}

/// A disclosure's duty to inform the family, of the organisation that disclosed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InformObligation {
    /// The log index of the disclosure's entry (the obligation's identity).
    pub log_index: u64,
    /// The organisation that disclosed and must inform.
    pub org_oin: Oin,
    /// The disclosure's event, as written in the log (`signal_delivered`, ...).
    pub event: String,
    /// The record disclosed (a signal id, a handover id, ...), as the log entry names it.
    pub reference: Option<String>,
    /// Who received the data.
    pub recipient_oin: Option<Oin>,
    /// The disclosure's purpose.
    pub purpose: Option<Purpose>,
    /// When it was disclosed.
    pub created_at: i64,
    /// Where it stands.
    pub state: InformState,
    /// How the family was informed (state INFORMED).
    pub act: Option<InformAct>,
    /// The day the family was informed (state INFORMED; unix seconds).
    pub informed_on: Option<i64>,
    /// The exemption's ground code (state EXEMPTED; `policy::reasons::INFORM_EXEMPTION`).
    pub ground: Option<String>,
    /// The role it was closed in.
    pub closed_role: Option<Role>,
    /// The professional who closed it.
    pub closed_professional: String,
    /// When it was closed.
    pub closed_at: Option<i64>,
    /// When the hub told the organisation that it is overdue.
    pub overdue_notified_at: Option<i64>,
}

impl InformObligation {
    /// When it falls due, given the convenant's `inform_within`.
    pub fn due_at(&self, within_secs: u64) -> i64 {
        self.created_at
            .saturating_add(i64::try_from(within_secs).unwrap_or(i64::MAX))
    }

    /// Whether it is open past its due moment at `now`.
    pub fn overdue(&self, within_secs: u64, now: i64) -> bool {
        self.state == InformState::Open && self.due_at(within_secs) <= now
    }
}

/// How an open obligation is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InformClose {
    /// The family was informed, by `act`, on the day `on` (unix seconds).
    Informed {
        /// How.
        act: InformAct,
        /// The day.
        on: i64,
    },
    /// The family is not informed, on this ground (`policy::reasons::INFORM_EXEMPTION`).
    Exempted {
        /// The ground's code.
        ground: String,
    },
}

coded! {
    /// What the family asks of an organisation about their data.
    RequestKind {
        /// Objection to the processing (AVG art. 21).
        Objection = "OBJECTION", "bezwaar tegen het gebruik van de gegevens";
        /// Correction (rectification) of inaccurate or incomplete data (art. 16).
        Correction = "CORRECTION", "verbetering van de gegevens";
        /// Restriction of the processing (art. 18).
        Restriction = "RESTRICTION", "beperking van het gebruik van de gegevens";
        /// Erasure (art. 17).
        Erasure = "ERASURE", "verwijdering van de gegevens";
    }
}

coded! {
    /// Where a family's request stands.
    RequestState {
        /// Recorded, not yet decided.
        Open = "OPEN", "in behandeling";
        /// Granted: every organisation that received the data is told (art. 19).
        Granted = "GRANTED", "toegekend";
        /// Refused, with a reason.
        Refused = "REFUSED", "afgewezen";
    }
}

/// A granted request told to one organisation that received the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestNotice {
    /// The organisation that decided the request (and had disclosed the data).
    pub org_oin: Oin,
    /// The request.
    pub request_id: FamilyRequestId,
    /// The organisation told.
    pub recipient_oin: Oin,
    /// What the family had asked.
    pub kind: RequestKind,
    /// The records it received that the request concerns (as the log names them).
    pub references: Vec<String>,
    /// When it was told.
    pub notified_at: i64,
    /// When it confirmed that it acted on the notice.
    pub acknowledged_at: Option<i64>,
    /// The role it confirmed in.
    pub acknowledged_role: Option<Role>,
    /// The professional who confirmed.
    pub acknowledged_professional: String,
}

/// A request of the family about their data at one organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyRequest {
    /// The organisation the family asked (it records, decides and tells).
    pub org_oin: Oin,
    /// The hub's id of the request.
    pub request_id: FamilyRequestId,
    /// What is asked.
    pub kind: RequestKind,
    /// The day the organisation received it (unix seconds).
    pub received_on: i64,
    /// The log indices of the organisation's disclosures about the person that it covers.
    pub scope: Vec<u64>,
    /// The log index of the entry that recorded it.
    pub recorded_idx: u64,
    /// The role it was recorded in.
    pub recorded_role: Role,
    /// The professional who recorded it.
    pub recorded_professional: String,
    /// When it was recorded.
    pub recorded_at: i64,
    /// Where it stands.
    pub state: RequestState,
    /// The decision's reason code (`policy::reasons::FAMILY_REQUEST_GRANTED` / `_REFUSED`).
    pub decision_reason: Option<String>,
    /// The role it was decided in.
    pub decided_role: Option<Role>,
    /// The professional who decided.
    pub decided_professional: String,
    /// When it was decided.
    pub decided_at: Option<i64>,
    /// The organisations told of it (granted requests), in the order told.
    pub notices: Vec<RequestNotice>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_an_obligation_falls_due_after_the_period() {
        for k in RequestKind::ALL {
            assert_eq!(RequestKind::from_code(k.code()), Some(*k));
        }
        for s in InformState::ALL {
            assert_eq!(InformState::from_code(s.code()), Some(*s));
        }
        let o = InformObligation {
            log_index: 7,
            org_oin: "00000009901000000000".parse().expect("oin"),
            event: "signal_delivered".into(),
            reference: None,
            recipient_oin: None,
            purpose: None,
            created_at: 1_000,
            state: InformState::Open,
            act: None,
            informed_on: None,
            ground: None,
            closed_role: None,
            closed_professional: String::new(),
            closed_at: None,
            overdue_notified_at: None,
        };
        assert!(!o.overdue(100, 1_099));
        assert!(o.overdue(100, 1_100));
        let closed = InformObligation {
            state: InformState::Informed,
            ..o
        };
        assert!(!closed.overdue(100, 5_000));
    }
}
