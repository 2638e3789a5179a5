//! The statutory floor: rules that follow from the law itself and that no convenant can lower.
//!
//! A regional convenant may only *narrow* what the law allows. These rules are therefore code, not
//! data: the parser rejects a convenant that tries to go below them (so the FG sees the mistake at
//! once) and [`crate::Policy::decide`] checks them again on every decision (defence in depth, so a
//! validation bug cannot turn into an unlawful disclosure).
//!
//! What the floor knows:
//! * **meldrecht / meldcode** (Wet verplichte meldcode; art. 5.2.6 Wmo 2015): only towards
//!   `veilig_thuis`, never from Veilig Thuis itself, and only with the meldcode evidence (steps 1–4
//!   done, an afwegingskader outcome that is a suspicion, client informed or the reason why not);
//! * **art. 9 AVG**: special-category data only under explicit consent or a basis whose kind can be
//!   an art. 9 ground (see [`BasisKind::may_cover_art9`]);
//! * **art. 10 AVG**: criminal-law data (`art10 = true` categories, e.g. police incident data) only
//!   in flows whose every basis is marked `art10 = true` and is of a kind that can be an art. 10
//!   ground (see [`BasisKind::may_cover_art10`]); consent is never that ground here;
//! * **who may use a statutory basis**: police data under the Wet politiegegevens only from `politie`,
//!   the Veilig Thuis task only from `veilig_thuis`, debt-prevention signalling only from a
//!   `woningcorporatie`, Jeugdwet information only from `jeugdbescherming`;
//! * **consent** (art. 7 AVG, art. 5 UAVG): see [`crate::Policy::decide`]: it must cover recipient,
//!   purpose and category, be valid now and not withdrawn; from 16 the young person consents, under
//!   16 a parent with gezag, and for health data at 12–15 both parent and child.

use std::fmt;

/// The seven sectors every convenant knows. A convenant may add others with `extra = true`.
pub const BUILTIN_SECTORS: [&str; 7] = [
    "school",
    "politie",
    "huisarts",
    "woningcorporatie",
    "wijkteam",
    "veilig_thuis",
    "jeugdbescherming",
];

/// The sector that alone may receive under the meldrecht.
pub const VEILIG_THUIS: &str = "veilig_thuis";

/// The kinds of legal basis the hub understands. A convenant declares named bases of these kinds
/// (with statute text for the FG); the kind decides what the floor demands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BasisKind {
    /// Consent of the data subject or of the parent(s) with gezag (art. 6(1)(a), 7, 9(2)(a) AVG).
    Consent,
    /// Meldrecht under the meldcode: report to Veilig Thuis without consent.
    Meldcode,
    /// Police sharing for care purposes under the Wet politiegegevens (zorgmelding).
    WpgZorgmelding,
    /// Veilig Thuis' statutory task (Wmo 2015), e.g. the handover to the wijkteam.
    VeiligThuisTask,
    /// Early signalling of payment arrears for debt prevention (Wet gemeentelijke schuldhulpverlening).
    WgsVroegsignalering,
    /// Information from the youth-protection chain under the Jeugdwet.
    JeugdwetInformatie,
    /// Vital interest of the subject or another person (art. 6(1)(d), 9(2)(c) AVG).
    VitalInterest,
    /// A professional's information to Veilig Thuis on its request about a melding it assesses
    /// (Wmo 2015 art. 5.2.6: without consent, also past a duty of confidentiality).
    VeiligThuisInformation,
}

/// Every kind, in a fixed order.
pub const ALL_KINDS: [BasisKind; 8] = [
    BasisKind::Consent,
    BasisKind::Meldcode,
    BasisKind::WpgZorgmelding,
    BasisKind::VeiligThuisTask,
    BasisKind::WgsVroegsignalering,
    BasisKind::JeugdwetInformatie,
    BasisKind::VitalInterest,
    BasisKind::VeiligThuisInformation,
];

/// Evidence items a decision request can carry. A convenant names the evidence each basis requires;
/// naming an item the kind cannot produce is a validation error ("evidence cannot be given").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EvidenceItem {
    /// Consent: who gave it.
    Giver,
    /// Consent: for which recipients (OIN or sector).
    Recipients,
    /// Consent: for which purposes.
    Purposes,
    /// Consent: for which data categories.
    Categories,
    /// Consent: valid from / until.
    Period,
    /// Consent: explicitly given (needed for art. 9 data).
    Explicit,
    /// Meldcode: steps completed.
    MeldcodeSteps,
    /// Meldcode: the afwegingskader outcome.
    Afwegingskader,
    /// Meldcode (and others): client informed, or the reason why not.
    ClientInformed,
    /// Police: the registration number of the incident.
    RegistrationNumber,
    /// Veilig Thuis: the case reference.
    CaseReference,
    /// Debt prevention: a payment reminder was sent to the tenant first.
    PaymentReminderSent,
    /// Jeugdwet: reference of the maatregel.
    MaatregelReference,
    /// Jeugdwet: the recipient is actually involved with the child.
    RecipientInvolved,
    /// Vital interest: the reason (what danger).
    VitalInterestReason,
    /// Vital interest: the subject cannot give consent.
    SubjectUnableToConsent,
}

impl EvidenceItem {
    /// The name used in the convenant file.
    pub fn name(self) -> &'static str {
        match self {
            Self::Giver => "giver",
            Self::Recipients => "recipients",
            Self::Purposes => "purposes",
            Self::Categories => "categories",
            Self::Period => "period",
            Self::Explicit => "explicit",
            Self::MeldcodeSteps => "meldcode_steps",
            Self::Afwegingskader => "afwegingskader",
            Self::ClientInformed => "client_informed",
            Self::RegistrationNumber => "registration_number",
            Self::CaseReference => "case_reference",
            Self::PaymentReminderSent => "payment_reminder_sent",
            Self::MaatregelReference => "maatregel_reference",
            Self::RecipientInvolved => "recipient_involved",
            Self::VitalInterestReason => "vital_interest_reason",
            Self::SubjectUnableToConsent => "subject_unable_to_consent",
        }
    }
}

impl BasisKind {
    /// The name used in the convenant file (`kind = "..."`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Consent => "consent",
            Self::Meldcode => "meldcode",
            Self::WpgZorgmelding => "wpg_zorgmelding",
            Self::VeiligThuisTask => "veilig_thuis_taak",
            Self::WgsVroegsignalering => "wgs_vroegsignalering",
            Self::JeugdwetInformatie => "jeugdwet_informatie",
            Self::VitalInterest => "vitaal_belang",
            Self::VeiligThuisInformation => "informatie_aan_veilig_thuis",
        }
    }

    /// Parse a kind name.
    pub fn from_name(s: &str) -> Option<Self> {
        ALL_KINDS.into_iter().find(|k| k.name() == s)
    }

    /// Can a basis of this kind be the art. 9 ground for special-category data?
    /// Consent only when explicit (checked per record). The Wpg, debt-prevention and Jeugdwet bases
    /// are not art. 9 grounds here: data of those flows must not include special categories.
    pub fn may_cover_art9(self) -> bool {
        matches!(
            self,
            Self::Consent
                | Self::Meldcode
                | Self::VeiligThuisTask
                | Self::VitalInterest
                | Self::VeiligThuisInformation
        )
    }

    /// Can a basis of this kind be the ground for criminal-law data (art. 10 AVG: "persoonsgegevens
    /// van strafrechtelijke aard", UAVG art. 1 and 31-33), e.g. police incident data?
    ///
    /// Art. 10 AVG allows such data only under official authority or where Union or member-state
    /// law authorises it with safeguards; in the Netherlands UAVG art. 31-33 and sectoral laws do.
    /// The kinds that can:
    /// * `wpg_zorgmelding`: the police provide it under the Wet politiegegevens (art. 18-19 Wpg
    ///   jo. Besluit politiegegevens), and a recipient that obtained it under the Wpg may process
    ///   it (UAVG art. 33 lid 1 sub a);
    /// * `veilig_thuis_taak`: Veilig Thuis processes what it obtained under the Wpg (same ground)
    ///   and what professionals told it (Wmo 2015 art. 5.2.6) for its statutory tasks (art. 4.1.1
    ///   lid 2), and passes it on within those tasks;
    /// * `meldcode` and `informatie_aan_veilig_thuis`: a professional's report or answer to Veilig
    ///   Thuis, without consent and past a duty of confidentiality (Wmo 2015 art. 5.2.6); the floor
    ///   already limits both to the recipient `veilig_thuis`;
    /// * `vitaal_belang`: to protect someone's vital interests when the person cannot consent
    ///   (UAVG art. 32, the exception that mirrors art. 9 lid 2 sub c AVG).
    ///
    /// Not: `consent` — UAVG art. 32 does know the explicit consent of the data subject, but the
    /// criminal-law data in a zorgmelding is mostly about *other* people than the subject whose
    /// gezag holders consented (a suspect, a partner, a witness: `betrokken_personen`), which a
    /// consent record cannot show, and a family facing Veilig Thuis or the police can hardly
    /// refuse freely (art. 4 sub 11 and 7 lid 4 AVG, recital 43); a flow may still demand consent
    /// *as well* (`also_requires_consent`). Not `wgs_vroegsignalering` (the Wgs lets the
    /// woningcorporatie share payment arrears, nothing else) and not `jeugdwet_informatie` (the
    /// maatregel answer is about civil child-protection measures — OTS, voogdij, machtiging
    /// uithuisplaatsing — which are not art. 10 data; jeugdreclassering is not in that answer).
    pub fn may_cover_art10(self) -> bool {
        matches!(
            self,
            Self::WpgZorgmelding
                | Self::VeiligThuisTask
                | Self::Meldcode
                | Self::VeiligThuisInformation
                | Self::VitalInterest
        )
    }

    /// Evidence a request can give for this kind.
    pub fn evidence_vocabulary(self) -> &'static [EvidenceItem] {
        use EvidenceItem as E;
        match self {
            Self::Consent => &[
                E::Giver,
                E::Recipients,
                E::Purposes,
                E::Categories,
                E::Period,
                E::Explicit,
            ],
            Self::Meldcode => &[E::MeldcodeSteps, E::Afwegingskader, E::ClientInformed],
            Self::WpgZorgmelding => &[E::RegistrationNumber, E::ClientInformed],
            Self::VeiligThuisTask => &[E::CaseReference, E::ClientInformed],
            Self::WgsVroegsignalering => &[E::PaymentReminderSent, E::ClientInformed],
            Self::JeugdwetInformatie => &[E::MaatregelReference, E::RecipientInvolved],
            Self::VitalInterest => &[
                E::VitalInterestReason,
                E::SubjectUnableToConsent,
                E::ClientInformed,
            ],
            Self::VeiligThuisInformation => &[E::CaseReference, E::ClientInformed],
        }
    }

    /// Evidence the floor always demands, whatever the convenant lists.
    pub fn floor_evidence(self) -> &'static [EvidenceItem] {
        use EvidenceItem as E;
        match self {
            Self::Consent => &[
                E::Giver,
                E::Recipients,
                E::Purposes,
                E::Categories,
                E::Period,
            ],
            Self::Meldcode => &[E::MeldcodeSteps, E::Afwegingskader, E::ClientInformed],
            Self::WpgZorgmelding => &[E::RegistrationNumber],
            Self::VeiligThuisTask => &[E::CaseReference],
            Self::WgsVroegsignalering => &[],
            Self::JeugdwetInformatie => &[E::RecipientInvolved],
            Self::VitalInterest => &[E::VitalInterestReason, E::SubjectUnableToConsent],
            Self::VeiligThuisInformation => &[E::CaseReference],
        }
    }

    /// The only sector that may disclose under this kind, if the law restricts it.
    pub fn required_from_sector(self) -> Option<&'static str> {
        match self {
            Self::WpgZorgmelding => Some("politie"),
            Self::VeiligThuisTask => Some(VEILIG_THUIS),
            Self::WgsVroegsignalering => Some("woningcorporatie"),
            Self::JeugdwetInformatie => Some("jeugdbescherming"),
            Self::Consent | Self::Meldcode | Self::VitalInterest | Self::VeiligThuisInformation => {
                None
            }
        }
    }

    /// The only sector that may receive under this kind, if the law restricts it.
    pub fn required_to_sector(self) -> Option<&'static str> {
        match self {
            Self::Meldcode | Self::VeiligThuisInformation => Some(VEILIG_THUIS),
            _ => None,
        }
    }

    /// A sector that may never disclose under this kind.
    pub fn forbidden_from_sector(self) -> Option<&'static str> {
        match self {
            // Veilig Thuis receives meldingen; it cannot report to itself under the meldrecht.
            // Nor does it inform itself on its own request.
            Self::Meldcode | Self::VeiligThuisInformation => Some(VEILIG_THUIS),
            _ => None,
        }
    }

    /// Which evidence item a name refers to, if this kind can give it.
    pub fn evidence_by_name(self, name: &str) -> Option<EvidenceItem> {
        self.evidence_vocabulary()
            .iter()
            .copied()
            .find(|e| e.name() == name)
    }
}

impl fmt::Display for BasisKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Is this a well-formed OIN (20 decimal digits)?
#[inline]
pub fn is_valid_oin(s: &str) -> bool {
    // Three overlapping 8-byte words cover the 20 bytes; each is checked for digits at once.
    let b = s.as_bytes();
    let word = |at: usize| {
        let mut w = [0u8; 8];
        match b.get(at..at + 8) {
            Some(src) => {
                w.copy_from_slice(src);
                u64::from_le_bytes(w)
            }
            None => 0,
        }
    };
    b.len() == 20 && all_digits(word(0)) && all_digits(word(8)) && all_digits(word(12))
}

/// Are all eight bytes of `x` ASCII digits? Per byte, without carries between bytes: ASCII (high
/// bit clear), at least `0` (`(b | 0x80) - 0x30` keeps the high bit) and at most `9`
/// (`b + 0x46` stays below 0x80).
#[inline(always)]
fn all_digits(x: u64) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    x & HIGH == 0 && ((x | HIGH) - ONES * 0x30) & HIGH == HIGH && (x + ONES * 0x46) & HIGH == 0
}

/// Is this a well-formed identifier for sectors, roles, purposes, categories and bases?
/// Lowercase ASCII letters, digits and `_`, starting with a letter, at most 64 characters: they end
/// up in logs, URLs and letters, so we keep them boring.
/// A `const fn`, so the hub's own names (`Purpose::known("zorgmelding")`) are checked when it
/// is compiled.
pub const fn is_valid_ident(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 64 || !b[0].is_ascii_lowercase() {
        return false;
    }
    let mut i = 1;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_') {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oin_check_matches_the_byte_rule() {
        let naive = |s: &str| s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit());
        let base = "00000001111111110001";
        assert!(is_valid_oin(base));
        for i in 0..20 {
            for b in 0u8..=255 {
                let mut v = base.as_bytes().to_vec();
                v[i] = b;
                if let Ok(s) = String::from_utf8(v) {
                    assert_eq!(is_valid_oin(&s), naive(&s), "{s:?}");
                }
            }
        }
        for s in [
            "",
            "0",
            "0000000111111111000",
            "000000011111111100011",
            "0000000111111111000é",
        ] {
            assert_eq!(is_valid_oin(s), naive(s), "{s:?}");
        }
    }
}
