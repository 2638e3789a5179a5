//! Child protection measures (maatregelen) as the register keeps them: a pseudonymised subject,
//! the kind, the period and whom to contact. No court documents, no reasons.
use crate::ids::{Category, MaatregelId, Oin, Purpose, Role, SubjectPseudonym};

/// The kinds of maatregel the register knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MaatregelKind {
    /// Ondertoezichtstelling (supervision order).
    Ots,
    /// Voogdij (guardianship).
    Voogdij,
    /// Machtiging uithuisplaatsing (out-of-home placement).
    MachtigingUithuisplaatsing,
    /// Jeugdreclassering (juvenile probation).
    Jeugdreclassering,
}

impl MaatregelKind {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MaatregelKind::Ots => "ots",
            MaatregelKind::Voogdij => "voogdij",
            MaatregelKind::MachtigingUithuisplaatsing => "machtiging_uithuisplaatsing",
            MaatregelKind::Jeugdreclassering => "jeugdreclassering",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<MaatregelKind> {
        Some(match s {
            "ots" => MaatregelKind::Ots,
            "voogdij" => MaatregelKind::Voogdij,
            "machtiging_uithuisplaatsing" => MaatregelKind::MachtigingUithuisplaatsing,
            "jeugdreclassering" => MaatregelKind::Jeugdreclassering,
            _ => return None,
        })
    }

    /// Plain Dutch name, for notifications.
    pub fn dutch(self) -> &'static str {
        match self {
            MaatregelKind::Ots => "ondertoezichtstelling (OTS)",
            MaatregelKind::Voogdij => "voogdij",
            MaatregelKind::MachtigingUithuisplaatsing => "machtiging uithuisplaatsing",
            MaatregelKind::Jeugdreclassering => "jeugdreclassering",
        }
    }
}

/// The sector that may register maatregelen (statutory: the Jeugdwet gives this task to the
/// gecertificeerde instellingen and the Raad voor de Kinderbescherming).
pub const REGISTERING_SECTOR: &str = "jeugdbescherming";

/// The convenant purpose under which the minimal answer is given.
pub static ANSWER_PURPOSE: Purpose = Purpose::known("maatregel_afstemming");
/// The convenant category of the minimal answer.
pub static ANSWER_CATEGORY: Category = Category::known("maatregel_bestaan");
/// The convenant basis (kind `jeugdwet_informatie`) the answer rests on.
pub const ANSWER_BASIS: &str = "jeugdwet_informatie";

/// A registered maatregel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maatregel {
    /// Id, `m_<hex>`.
    pub id: MaatregelId,
    /// The child.
    pub subject: SubjectPseudonym,
    /// Kind.
    pub kind: MaatregelKind,
    /// Start (unix seconds).
    pub starts_at: i64,
    /// Ordered end, if any.
    pub ends_at: Option<i64>,
    /// Responsible organisation.
    pub responsible_oin: Oin,
    /// Whom to contact there.
    pub contact_point: String,
    /// Registering organisation.
    pub registered_by_oin: Oin,
    /// Registering professional (their id at their organisation).
    pub registered_by: String,
    /// Role they acted in.
    pub registered_role: Role,
    /// When registered.
    pub registered_at: i64,
    /// When ended with EndMaatregel.
    pub ended_at: Option<i64>,
    /// Erase after this: set at registration from the planned end, and when ended.
    pub retain_until: Option<i64>,
    /// Who has the case after it ended (recorded with EndMaatregel).
    pub next_oin: Option<Oin>,
}

impl Maatregel {
    /// In force at `now`: started, not ended, not past its ordered end.
    pub fn is_active(&self, now: i64) -> bool {
        self.ended_at.is_none() && self.starts_at <= now && self.ends_at.is_none_or(|e| e > now)
    }
}

/// Longest period ahead a maatregel's dates may lie (21 years: until the child is an adult).
pub const MAX_AHEAD_SECS: i64 = 21 * 365 * 24 * 3600;

/// A contact point or a professional's contact: 1-200 characters, no control characters.
pub fn valid_contact(s: &str) -> bool {
    let n = s.trim().chars().count();
    (1..=200).contains(&n) && !s.chars().any(char::is_control)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in [
            MaatregelKind::Ots,
            MaatregelKind::Voogdij,
            MaatregelKind::MachtigingUithuisplaatsing,
            MaatregelKind::Jeugdreclassering,
        ] {
            assert_eq!(MaatregelKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(MaatregelKind::parse("OTS"), None);
    }

    #[test]
    fn activity_follows_the_period_and_the_ending() {
        let m = Maatregel {
            id: "m_a".parse().expect("well-formed"),
            subject: SubjectPseudonym::from_stored(&"a".repeat(64)).unwrap(),
            kind: MaatregelKind::Ots,
            starts_at: 100,
            ends_at: Some(200),
            responsible_oin: "0".repeat(20).parse().expect("well-formed"),
            contact_point: String::new(),
            registered_by_oin: "0".repeat(20).parse().expect("well-formed"),
            registered_by: String::new(),
            registered_role: Role::known("jeugdbeschermer"),
            registered_at: 0,
            ended_at: None,
            retain_until: None,
            next_oin: None,
        };
        assert!(!m.is_active(99));
        assert!(m.is_active(100));
        assert!(!m.is_active(200));
        let ended = Maatregel {
            ended_at: Some(150),
            ..m.clone()
        };
        assert!(!ended.is_active(120));
    }

    #[test]
    fn contacts() {
        assert!(valid_contact("Team Arnhem, 026-1234567"));
        assert!(!valid_contact("  "));
        assert!(!valid_contact("a\nb"));
        assert!(!valid_contact(&"x".repeat(201)));
    }
}
