//! Signals as the hub keeps them: an opaque envelope plus the metadata the policy decides on.
use crate::domain::basis::Basis;
use crate::domain::consent::Facts;
use crate::ids::{Category, Oin, Purpose, Role, SignalId};

/// How soon the recipient should look (the sender's word; it does not change the decision).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Urgency {
    /// Not said.
    #[default]
    Unspecified,
    /// Normal.
    Normal,
    /// High.
    High,
    /// Acute danger: the recipient should act at once.
    Acute,
}

impl Urgency {
    /// The stored number (the wire enum's value, kept for existing rows).
    pub fn as_stored(self) -> i64 {
        match self {
            Urgency::Unspecified => 0,
            Urgency::Normal => 1,
            Urgency::High => 2,
            Urgency::Acute => 3,
        }
    }

    /// From the stored number (`None` for a value the hub never writes).
    pub fn from_stored(n: i64) -> Option<Self> {
        Some(match n {
            0 => Urgency::Unspecified,
            1 => Urgency::Normal,
            2 => Urgency::High,
            3 => Urgency::Acute,
            _ => return None,
        })
    }
}

/// A stored signal.
#[derive(Debug, Clone)]
pub struct SignalRecord {
    /// Sender.
    pub sender_oin: Oin,
    /// Client-chosen id, unique per sender.
    pub signal_id: SignalId,
    /// SHA-256 of the canonical request without its envelope (idempotency: same id, same
    /// metadata).
    pub request_hash: Vec<u8>,
    /// The envelope's content digest (idempotency: same id, same content); `None` for a signal
    /// stored before the hub kept them.
    pub content_digest: Option<Vec<u8>>,
    /// The encoded envelope (opaque; `None` once erased at the end of retention).
    pub envelope: Option<Vec<u8>>,
    /// Purpose.
    pub purpose: Purpose,
    /// Categories.
    pub categories: Vec<Category>,
    /// Urgency.
    pub urgency: Urgency,
    /// The basis as presented.
    pub basis: Basis,
    /// Subject pseudonyms.
    pub subjects: Vec<String>,
    /// Subject facts as presented (or taken from the consent).
    pub facts: Facts,
    /// Role the sender acted in.
    pub sender_role: Role,
    /// The sending professional's id.
    pub sender_professional: String,
    /// The purposes the data was received for, when passed on (`flows::policy::onward_from`):
    /// each decision, at sending and at delivery, is judged against every one. Stored as one
    /// comma-separated text (convenant names hold no commas).
    pub received_for: Vec<Purpose>,
    /// Recorded exemption from informing the family.
    pub inform_exemption: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Erase the envelope after this (unix seconds).
    pub retain_until: i64,
}

/// Where a signal stands for one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Accepted, not delivered.
    Pending,
    /// Delivered (disclosed).
    Delivered,
    /// Delivered and acknowledged.
    Acknowledged,
    /// Held back before delivery.
    Withheld,
    /// Recalled by the sender.
    Withdrawn,
}

impl DeliveryState {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Acknowledged => "acknowledged",
            DeliveryState::Withheld => "withheld",
            DeliveryState::Withdrawn => "withdrawn",
        }
    }
    /// Parse the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => DeliveryState::Pending,
            "delivered" => DeliveryState::Delivered,
            "acknowledged" => DeliveryState::Acknowledged,
            "withheld" => DeliveryState::Withheld,
            "withdrawn" => DeliveryState::Withdrawn,
            _ => return None,
        })
    }
}

/// A reason stored with a withheld delivery.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredReason {
    /// Stable code.
    pub code: String,
    /// Rule.
    pub rule: String,
    /// Dutch.
    pub nl: String,
    /// English.
    pub en: String,
}

/// A signal's state for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Recipient.
    pub recipient_oin: Oin,
    /// Sender.
    pub sender_oin: Oin,
    /// Signal id.
    pub signal_id: SignalId,
    /// Inbox cursor (log index of the signal_sent entry).
    pub cursor: u64,
    /// State.
    pub state: DeliveryState,
    /// Why withheld.
    pub reasons: Vec<StoredReason>,
    /// Consents the delivery relies on.
    pub consent_ids: Vec<crate::ids::ConsentId>,
    /// Unix seconds.
    pub updated_at: i64,
}

/// What to insert for one recipient of a new signal.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// Recipient.
    pub recipient_oin: Oin,
    /// Consents relied on.
    pub consent_ids: Vec<crate::ids::ConsentId>,
}

/// One inbox item: the delivery and its signal.
#[derive(Debug, Clone)]
pub struct InboxRow {
    /// The delivery.
    pub delivery: Delivery,
    /// The signal.
    pub signal: SignalRecord,
}
