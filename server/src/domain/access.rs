//! Who may learn what from the disclosure log: the hub-wide readers the operator grants, and the
//! shielding of melders and protected organisations in what the family is shown.
//!
//! The rules are documented in docs/ACCESS.md; the flows in `flows::log` apply them.
use crate::domain::basis::REPORTER_MAY_BE_NAMED;
use crate::ids::Oin;
use crate::ledger::LogEntry;
use std::fmt;

/// The sector of Veilig Thuis, whose melders are shielded.
pub const VEILIG_THUIS: &str = "veilig_thuis";

/// The bases under which a report to Veilig Thuis shields its reporter (the meldcode's
/// meldrecht, Wmo 2015 art. 4.1.8 / UAVG art. 41).
pub const MELDER_BASES: [&str; 1] = ["legal:meldrecht"];

/// A professional the hub's operator allows to ask for a hub-wide report about one person
/// (`[access] hub_wide_readers` in the hub's configuration). An organisation's own identity
/// provider cannot mint this: the grant names the organisation (from its certificate) and the
/// professional (from its token) together, in the operator's configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct HubWideReader {
    /// The organisation.
    pub oin: Oin,
    /// The professional's id at that organisation (the token's `sub`).
    pub professional: String,
}

impl fmt::Debug for HubWideReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.oin, self.professional)
    }
}

impl std::str::FromStr for HubWideReader {
    type Err = String;
    /// `"<OIN>/<professional>"`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (oin, professional) = s
            .split_once('/')
            .ok_or_else(|| "write each reader as \"<OIN>/<professional id>\"".to_string())?;
        let oin: Oin = oin.parse().map_err(|e| format!("{e}"))?;
        Ok(HubWideReader {
            oin,
            professional: professional_id(professional)?.to_owned(),
        })
    }
}

/// The hub-wide readers, as configured.
#[derive(Debug, Clone, Default)]
pub struct HubWideReaders(Vec<HubWideReader>);

impl HubWideReaders {
    /// Parses the configured list; the error names the position of the first bad one.
    pub fn parse(list: &[String]) -> Result<Self, String> {
        list.iter()
            .enumerate()
            .map(|(i, s)| s.parse().map_err(|e| format!("entry {}: {e}", i + 1)))
            .collect::<Result<Vec<_>, _>>()
            .map(HubWideReaders)
    }

    /// Whether this professional of this organisation is granted hub-wide reports.
    pub fn allows(&self, oin: &Oin, professional: &str) -> bool {
        self.0
            .iter()
            .any(|r| &r.oin == oin && r.professional == professional)
    }

    /// How many are granted.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is granted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Checks a professional's id at an organisation (a token's `sub`), as named in a grant or an
/// audit request: 1 to 128 characters without spaces or control characters.
pub fn professional_id(s: &str) -> Result<&str, String> {
    if s.is_empty() || s.len() > 128 || s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(
            "the professional id is 1 to 128 characters without spaces or control characters"
                .into(),
        );
    }
    Ok(s)
}

/// Longest request reference.
pub const MAX_REFERENCE: usize = 64;

/// Checks the reference of a request a hub-wide reader answers: 1 to [`MAX_REFERENCE`] of
/// `A-Z a-z 0-9 . _ : / -`, and no run of 9 or more digits (it is logged, and must not carry a
/// BSN).
pub fn request_reference(s: &str) -> Result<&str, String> {
    if s.is_empty() {
        return Err("a hub-wide report names the request it answers".into());
    }
    if s.len() > MAX_REFERENCE
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:/".contains(&b))
    {
        return Err(format!("1 to {MAX_REFERENCE} of A-Z a-z 0-9 . _ : / -"));
    }
    if crate::ids::has_digit_run(s) {
        return Err(
            "no run of 9 or more digits: a reference is logged and must not carry a BSN".into(),
        );
    }
    Ok(s)
}

/// What a report shows in place of a withheld field (entry fields by their LOG.md names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withheld {
    /// The reporter of a meldcode report to Veilig Thuis.
    Melder,
    /// An organisation of a shielded sector that acted.
    ShieldedActor,
    /// An organisation of a shielded sector that received.
    ShieldedRecipient,
}

impl Withheld {
    /// The entry fields this withholds.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Withheld::Melder | Withheld::ShieldedActor => {
                &["actor_oin", "actor_pro", "actor_role", "reference"]
            }
            Withheld::ShieldedRecipient => &["recipient_oin", "reference"],
        }
    }

    /// Its code in a report (`withheld` of a `LogEntryView`, the report's JSON).
    pub fn code(self) -> &'static str {
        match self {
            Withheld::Melder => "melder",
            Withheld::ShieldedActor => "shielded_actor",
            Withheld::ShieldedRecipient => "shielded_recipient",
        }
    }
}

/// What of `e` is withheld from a family's report made by `viewer` (the organisation whose
/// privacy officer makes it; `None` for a hub-wide report). `sector_of` gives an organisation's
/// sector, `shielded` whether a sector is shielded.
///
/// - The reporter of a report to Veilig Thuis under the meldcode (Wmo 2015 art. 4.1.8, UAVG art.
///   41) is withheld, unless the report is the reporter's own or the reporter agreed to be named
///   (the entry's basis holds [`REPORTER_MAY_BE_NAMED`]).
/// - An organisation of a shielded sector (e.g. vrouwenopvang) that acted or received is
///   withheld, unless the report is that organisation's own.
pub fn withheld_from_family(
    e: &LogEntry,
    viewer: Option<&str>,
    sector_of: impl Fn(&str) -> String,
    shielded: impl Fn(&str) -> bool,
) -> Vec<Withheld> {
    let own = |oin: &str| viewer == Some(oin);
    let mut out = Vec::new();
    let recipient_sector = e.recipient_oin.as_deref().map(&sector_of);
    let melding = recipient_sector.as_deref() == Some(VEILIG_THUIS)
        && e.basis.iter().any(|b| MELDER_BASES.contains(&b.as_str()))
        && !e.basis.iter().any(|b| b == REPORTER_MAY_BE_NAMED);
    if !own(&e.actor_oin) {
        if melding {
            out.push(Withheld::Melder);
        } else if shielded(&sector_of(&e.actor_oin)) {
            out.push(Withheld::ShieldedActor);
        }
    }
    if let (Some(r), Some(s)) = (e.recipient_oin.as_deref(), recipient_sector.as_deref())
        && !own(r)
        && shielded(s)
    {
        out.push(Withheld::ShieldedRecipient);
    }
    out
}

/// `e` with the fields of `withheld` blanked.
pub fn redact(e: &LogEntry, withheld: &[Withheld]) -> LogEntry {
    let mut e = e.clone();
    for w in withheld {
        match w {
            Withheld::Melder | Withheld::ShieldedActor => {
                e.actor_oin.clear();
                e.actor_pro.clear();
                e.actor_role.clear();
                e.reference = None;
            }
            Withheld::ShieldedRecipient => {
                e.recipient_oin = None;
                e.reference = None;
            }
        }
    }
    e
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ledger::{Checks, EntryOutcome, Event};

    const SCHOOL: &str = "00000009901000000000";
    const VT: &str = "00000009905000000000";
    const OPVANG: &str = "00000009909000000000";
    const WIJK: &str = "00000009906000000000";

    fn sector(oin: &str) -> String {
        match oin {
            SCHOOL => "school",
            VT => "veilig_thuis",
            OPVANG => "vrouwenopvang",
            WIJK => "wijkteam",
            _ => "",
        }
        .into()
    }

    fn shielded(s: &str) -> bool {
        s == "vrouwenopvang"
    }

    fn entry(actor: &str, recipient: &str, basis: &str) -> LogEntry {
        LogEntry {
            v: 1,
            event: Event::SignalSent,
            at: 0,
            actor_oin: actor.into(),
            actor_pro: "ab".into(),
            actor_role: "ib_er".into(),
            subjects: vec!["s".into()],
            recipient_oin: Some(recipient.into()),
            categories: vec![],
            purpose: None,
            basis: vec![basis.into()],
            checks: Checks::default(),
            outcome: EntryOutcome::Disclosed,
            reasons: vec![],
            policy_version: None,
            reference: Some("sig-1".into()),
        }
    }

    #[test]
    fn a_meldrecht_report_to_veilig_thuis_hides_its_reporter_except_from_itself() {
        let e = entry(SCHOOL, VT, "legal:meldrecht");
        for viewer in [Some(VT), None, Some(WIJK)] {
            let w = withheld_from_family(&e, viewer, sector, shielded);
            assert_eq!(w, vec![Withheld::Melder], "viewer {viewer:?}");
            let r = redact(&e, &w);
            assert!(r.actor_oin.is_empty() && r.actor_pro.is_empty() && r.reference.is_none());
            assert_eq!(r.recipient_oin.as_deref(), Some(VT));
        }
        assert!(withheld_from_family(&e, Some(SCHOOL), sector, shielded).is_empty());
        // Under consent the family agreed to the report: nothing is withheld.
        let c = entry(SCHOOL, VT, "consent:c_1");
        assert!(withheld_from_family(&c, Some(VT), sector, shielded).is_empty());
        // The reporter agreed to be named.
        let mut named = entry(SCHOOL, VT, "legal:meldrecht");
        named.basis.push(REPORTER_MAY_BE_NAMED.into());
        for viewer in [Some(VT), None, Some(WIJK)] {
            assert!(withheld_from_family(&named, viewer, sector, shielded).is_empty());
        }
    }

    #[test]
    fn a_shielded_organisation_is_named_only_to_itself() {
        let sent = entry(OPVANG, WIJK, "consent:c_1");
        assert_eq!(
            withheld_from_family(&sent, Some(WIJK), sector, shielded),
            vec![Withheld::ShieldedActor]
        );
        assert!(withheld_from_family(&sent, Some(OPVANG), sector, shielded).is_empty());
        let received = entry(WIJK, OPVANG, "consent:c_1");
        let w = withheld_from_family(&received, None, sector, shielded);
        assert_eq!(w, vec![Withheld::ShieldedRecipient]);
        assert_eq!(redact(&received, &w).recipient_oin, None);
        assert_eq!(redact(&received, &w).actor_oin, WIJK);
    }

    #[test]
    fn request_references_carry_no_bsn() {
        assert!(request_reference("AVG-2026/0142").is_ok());
        assert!(request_reference("").is_err());
        assert!(request_reference("verzoek 1").is_err());
        assert!(request_reference("avg-111222333").is_err());
        assert!(request_reference(&"a".repeat(65)).is_err());
    }

    #[test]
    fn hub_wide_readers_parse_and_match_organisation_and_professional_together() {
        let r = HubWideReaders::parse(&[format!("{SCHOOL}/fg.jansen")]).unwrap();
        assert!(r.allows(&SCHOOL.parse().unwrap(), "fg.jansen"));
        assert!(!r.allows(&VT.parse().unwrap(), "fg.jansen"));
        assert!(!r.allows(&SCHOOL.parse().unwrap(), "fg.pietersen"));
        for bad in [
            "fg.jansen",
            "123/fg",
            &format!("{SCHOOL}/"),
            &format!("{SCHOOL}/a b"),
        ] {
            assert!(HubWideReaders::parse(&[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
