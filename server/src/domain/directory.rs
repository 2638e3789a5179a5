//! The directory: participating organisations, their status and published keys.
use crate::ids::Oin;
use std::fmt;
use std::str::FromStr;

/// The sectors every region knows. A convenant may add others (see [`Sector::Other`]).
pub const KNOWN_SECTORS: [&str; 7] = [
    "school",
    "politie",
    "huisarts",
    "woningcorporatie",
    "wijkteam",
    "veilig_thuis",
    "jeugdbescherming",
];

/// An organisation's sector, by its convenant name: lowercase letters, digits and `_`, 2-40 long.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sector(String);

/// Why a string is not a sector name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a sector name is 2-40 characters of a-z, 0-9 and '_' (known sectors: {})", KNOWN_SECTORS.join(", "))]
pub struct InvalidSector;

impl Sector {
    /// The sector's name as the convenant spells it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Whether this is one of the seven sectors every region knows.
    pub fn is_known(&self) -> bool {
        KNOWN_SECTORS.contains(&self.0.as_str())
    }
}

impl FromStr for Sector {
    type Err = InvalidSector;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (2..=40).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && s.as_bytes()[0].is_ascii_lowercase();
        if ok {
            Ok(Sector(s.to_owned()))
        } else {
            Err(InvalidSector)
        }
    }
}

impl fmt::Display for Sector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Sector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sector({})", self.0)
    }
}

/// Whether an organisation may take part right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgStatus {
    /// May connect and is listed.
    Active,
    /// Refused at once, even with a valid certificate.
    Suspended,
}

impl OrgStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgStatus::Active => "active",
            OrgStatus::Suspended => "suspended",
        }
    }
    /// Parse the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(OrgStatus::Active),
            "suspended" => Some(OrgStatus::Suspended),
            _ => None,
        }
    }
}

/// What a published key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyUsage {
    /// Verifies the organisation's professionals' bearer tokens: an Ed25519 key (raw 32 bytes), or
    /// an RSA or P-256 key (SPKI DER); each pinned to one JWT algorithm (see
    /// [`crate::domain::token_key`]).
    Token,
    /// X25519 public key that senders seal envelopes to (raw 32 bytes).
    Encryption,
    /// Ed25519 public key that verifies the organisation's envelope signatures (raw 32 bytes).
    Signing,
}

impl KeyUsage {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsage::Token => "token",
            KeyUsage::Encryption => "encryption",
            KeyUsage::Signing => "signing",
        }
    }
    /// Parse the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "token" => Some(KeyUsage::Token),
            "encryption" => Some(KeyUsage::Encryption),
            "signing" => Some(KeyUsage::Signing),
            _ => None,
        }
    }
    /// The only algorithm the hub accepts for this usage (one pinned family each). For token keys
    /// this is only the original family: a token key's algorithm depends on the key
    /// ([`crate::domain::token_key::token_key_material`]), which is what the store records.
    pub fn algorithm(self) -> &'static str {
        match self {
            KeyUsage::Token | KeyUsage::Signing => "Ed25519",
            KeyUsage::Encryption => "X25519",
        }
    }
}

/// An organisation as the directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// Its OIN.
    pub oin: Oin,
    /// Display name.
    pub name: String,
    /// Sector by convenant name.
    pub sector: Sector,
    /// Region, lowercase.
    pub region: String,
    /// Expertise tags (sociale kaart), lowercase, sorted.
    pub expertise: Vec<String>,
    /// How to reach it.
    pub contact_point: String,
    /// How a family reaches its privacy officer (functionaris gegevensbescherming, AVG art.
    /// 37(7)): e-mail, phone or address, as the hub's operator registered it; empty when not
    /// registered. The family's letters print it (or say plainly that it is not known).
    pub privacy_contact: String,
    /// Active or suspended.
    pub status: OrgStatus,
    /// The `iss` its professionals' tokens carry.
    pub token_issuer: String,
}

/// A public key an organisation published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgKey {
    /// Owner.
    pub oin: Oin,
    /// What it is for.
    pub usage: KeyUsage,
    /// Key id, unique per organisation and usage.
    pub key_id: String,
    /// The key bytes (see [`KeyUsage`] for the encoding).
    pub public_key: Vec<u8>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; set once a newer key replaced it.
    pub retired_at: Option<i64>,
}

/// Checks a key id: 1-64 characters of `A-Za-z0-9._-`.
pub fn valid_key_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Normalises a free-text tag (region, expertise): trimmed, lowercase; `None` when empty or
/// longer than 64 characters or containing control characters.
pub fn normalise_tag(s: &str) -> Option<String> {
    let t = s.trim().to_lowercase();
    (!t.is_empty() && t.chars().count() <= 64 && !t.chars().any(char::is_control)).then_some(t)
}

/// Longest privacy-officer contact.
pub const MAX_PRIVACY_CONTACT: usize = 200;

/// Checks how a family reaches an organisation's privacy officer: trimmed, at most
/// [`MAX_PRIVACY_CONTACT`] characters, no control characters (it is printed in letters). Empty
/// means "not registered".
pub fn privacy_contact(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.chars().count() > MAX_PRIVACY_CONTACT || t.chars().any(char::is_control) {
        return Err(format!(
            "at most {MAX_PRIVACY_CONTACT} characters on one line (e-mail, phone or address of the privacy officer)"
        ));
    }
    Ok(t.to_owned())
}

/// A filter on the sociale kaart.
#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    /// Only this sector.
    pub sector: Option<Sector>,
    /// Only this region (normalised).
    pub region: Option<String>,
    /// Only organisations with this expertise tag (normalised).
    pub expertise: Option<String>,
    /// Substring of name or an expertise tag (normalised).
    pub query: Option<String>,
    /// Include suspended organisations (administration only).
    pub include_suspended: bool,
    /// Only OINs greater than this (paging).
    pub after: Option<Oin>,
    /// At most this many.
    pub limit: u32,
}
