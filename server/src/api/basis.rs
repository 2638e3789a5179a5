//! Wire <-> policy conversions shared by every service that takes a basis or returns a decision.
use super::status::invalid;
use super::timestamp;
use crate::domain::consent::Facts;
use crate::flows::FlowError;
use crate::ids::{InvalidName, Role};
use signaalhub_policy as policy;
use signaalhub_proto::pb;
use tonic::Status;

pub use crate::flows::policy::MAX_LIST;

/// The words a reference to a person starts with: who the person is to the child, never who
/// the person is.
pub const PERSON_WORDS: [&str; 14] = [
    "ouder",
    "vader",
    "moeder",
    "stiefouder",
    "pleegouder",
    "grootouder",
    "voogd",
    "verzorger",
    "gezaghebbende",
    "jeugdige",
    "kind",
    "betrokkene",
    "client",
    "partner",
];

/// What a reference to a person must look like (the violation's text).
pub const PERSON_REF_RULE: &str = "a reference, never a name: one of ouder, vader, moeder, stiefouder, pleegouder, grootouder, voogd, verzorger, gezaghebbende, jeugdige, kind, betrokkene, client, partner, optionally numbered -1 to -99 (ouder-1, ouder-2)";

/// A reference to a person (a holder of gezag, who gave or withdrew a consent, who declined a
/// handover): a word of [`PERSON_WORDS`], optionally with `-1` to `-99`. The hub stores and
/// logs these, so they can hold no name: the recorder's own file links `ouder-1` to a person.
pub fn valid_person_ref(s: &str) -> bool {
    let (word, number) = match s.split_once('-') {
        Some((w, n)) => (w, Some(n)),
        None => (s, None),
    };
    PERSON_WORDS.contains(&word)
        && number.is_none_or(|n| {
            (1..=2).contains(&n.len())
                && !n.starts_with('0')
                && n.bytes().all(|b| b.is_ascii_digit())
        })
}

pub use crate::flows::echo as truncate;

/// A new id the client chooses for a record of kind `K` (`ids::valid_client_id`): `form` says
/// under `field` what a well-formed one looks like; a run of 9 or more digits is refused with
/// `ids::DIGIT_RUN`. Neither message echoes the id.
pub fn chosen_id<K: crate::ids::IdKind>(
    field: &'static str,
    s: &str,
    form: &str,
    bad: &mut Vec<(&'static str, String)>,
) -> Option<crate::ids::Id<K>> {
    match crate::ids::Id::<K>::chosen(s) {
        Ok(id) => Some(id),
        Err(crate::ids::InvalidId::Form) => {
            bad.push((field, form.to_owned()));
            None
        }
        Err(e @ crate::ids::InvalidId::DigitRun) => {
            bad.push((field, e.to_string()));
            None
        }
    }
}

/// A typed value from a request field: an OIN, or a reference to an existing record (its form
/// only: whether it exists is the flow's question). A malformed one is a field violation under
/// `field`, in the words of its parse error, which never echo the value.
pub fn parsed_field<T: std::str::FromStr>(
    field: &'static str,
    s: &str,
    bad: &mut Vec<(&'static str, String)>,
) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    match s.parse() {
        Ok(v) => Some(v),
        Err(e) => {
            bad.push((field, e.to_string()));
            None
        }
    }
}

/// A convenant name a request may leave empty (the role to act in, the purpose data was received
/// for): empty is `None`; a malformed one (free text, a name, a BSN) is a violation under `field`
/// that never echoes it. Whether the convenant declares it is the flow's question.
pub fn optional_name<T: std::str::FromStr<Err = InvalidName>>(
    field: &'static str,
    s: &str,
    bad: &mut Vec<(&'static str, String)>,
) -> Option<T> {
    if s.is_empty() {
        return None;
    }
    parsed_field(field, s, bad)
}

/// A convenant name a request must give (a purpose): empty or malformed is a violation.
pub fn required_name<T: std::str::FromStr<Err = InvalidName>>(
    field: &'static str,
    s: &str,
    bad: &mut Vec<(&'static str, String)>,
) -> Option<T> {
    if s.is_empty() {
        bad.push((field, "required: a name the convenant declares".into()));
        return None;
    }
    parsed_field(field, s, bad)
}

/// A list of convenant names (purposes, categories): at most [`MAX_LIST`]; each malformed one
/// is a violation under `field` and left out.
pub fn name_list<T: std::str::FromStr<Err = InvalidName>>(
    field: &'static str,
    names: &[String],
    bad: &mut Vec<(&'static str, String)>,
) -> Vec<T> {
    if names.len() > MAX_LIST {
        bad.push((field, format!("at most {MAX_LIST}")));
        return Vec::new();
    }
    names
        .iter()
        .filter_map(|n| parsed_field(field, n, bad))
        .collect()
}

/// Convenant names as the wire writes them.
pub fn names_to_pb<T: AsRef<str>>(names: &[T]) -> Vec<String> {
    names.iter().map(|n| n.as_ref().to_owned()).collect()
}

/// The role a request names to act in (`None`: the token's only role), for a request with no
/// other field to report alongside: a malformed one is the error.
pub fn acting_role(s: &str) -> Result<Option<Role>, FlowError> {
    let mut bad = Vec::new();
    let role = optional_name("acting_role", s, &mut bad);
    crate::flows::reject(bad)?;
    Ok(role)
}

/// Subject facts from the wire, validated.
pub fn facts_from_pb(f: Option<&pb::SubjectFacts>, bad: &mut Vec<(&'static str, String)>) -> Facts {
    let Some(f) = f else {
        return Facts::default();
    };
    let age_years = match f.age_years {
        Some(a) if a > 130 => {
            bad.push(("subject.age_years", "at most 130".into()));
            None
        }
        Some(a) => Some(a as u8),
        None => None,
    };
    let age_band = match pb::AgeBand::try_from(f.age_band) {
        Ok(pb::AgeBand::Unspecified) => None,
        Ok(pb::AgeBand::Under12) => Some("under_12".to_string()),
        Ok(pb::AgeBand::AgeBand12To15) => Some("12_to_15".to_string()),
        Ok(pb::AgeBand::AgeBand16To17) => Some("16_to_17".to_string()),
        Ok(pb::AgeBand::Adult) => Some("adult".to_string()),
        Err(_) => {
            bad.push(("subject.age_band", "unknown age band".into()));
            None
        }
    };
    if f.gezag_holders.len() > MAX_LIST {
        bad.push(("subject.gezag_holders", format!("at most {MAX_LIST}")));
    }
    if f.gezag_holders.iter().any(|g| !valid_person_ref(g)) {
        bad.push(("subject.gezag_holders", PERSON_REF_RULE.into()));
    }
    Facts {
        age_years,
        age_band,
        gezag_holders: f.gezag_holders.clone(),
    }
}

/// The wire facts back.
pub fn facts_to_pb(f: &Facts) -> pb::SubjectFacts {
    pb::SubjectFacts {
        age_years: f.age_years.map(u32::from),
        age_band: match f.age_band.as_deref() {
            Some("under_12") => pb::AgeBand::Under12,
            Some("12_to_15") => pb::AgeBand::AgeBand12To15,
            Some("16_to_17") => pb::AgeBand::AgeBand16To17,
            Some("adult") => pb::AgeBand::Adult,
            _ => pb::AgeBand::Unspecified,
        } as i32,
        gezag_holders: f.gezag_holders.clone(),
    }
}

/// A subject from the wire: a BSN (elfproef checked) or a hub-issued subject reference (check
/// letter checked); never echoed.
pub fn bsn_from_pb(
    field: &'static str,
    s: &str,
    bad: &mut Vec<(&'static str, String)>,
) -> Option<crate::ids::Bsn> {
    match s.parse::<crate::ids::Bsn>() {
        Ok(b) => Some(b),
        Err(e) => {
            bad.push((field, e.to_string()));
            None
        }
    }
}

/// The one BSN a request is about, or `INVALID_ARGUMENT` naming `field`.
pub fn required_bsn(field: &'static str, s: &str) -> Result<crate::ids::Bsn, FlowError> {
    let mut bad = Vec::new();
    bsn_from_pb(field, s, &mut bad).ok_or(FlowError::Invalid(bad))
}

/// The persons a request is about: 1 to `max` valid BSNs, each once (`noun` names them in the
/// violations: "1 to 8 persons", "each person once").
pub fn bsns_from_pb(
    field: &'static str,
    list: &[String],
    max: usize,
    noun: &str,
    bad: &mut Vec<(&'static str, String)>,
) -> Vec<crate::ids::Bsn> {
    if list.is_empty() || list.len() > max {
        bad.push((field, format!("1 to {max} {noun}s")));
    }
    let mut out = Vec::new();
    for b in list {
        if let Some(bsn) = bsn_from_pb(field, b, bad) {
            if out.contains(&bsn) {
                bad.push((field, format!("each {noun} once")));
            } else {
                out.push(bsn);
            }
        }
    }
    out
}

/// The request's sealed envelope, which it must carry.
pub fn required_envelope_from_pb(
    field: &'static str,
    env: Option<&pb::Envelope>,
    bad: &mut Vec<(&'static str, String)>,
) -> Option<crate::domain::envelope::SealedEnvelope> {
    match env {
        None => {
            bad.push((
                field,
                "a sealed envelope is required (seal it with client-lib)".into(),
            ));
            None
        }
        Some(env) => crate::wire::envelope_from_pb(field, env, bad),
    }
}

/// What a disclosure request says besides recipient and subject, from its wire fields.
#[allow(clippy::too_many_arguments)]
pub fn ask_from_pb(
    purpose: &str,
    categories: &[String],
    subject: Option<&pb::SubjectFacts>,
    basis: Option<&pb::Basis>,
    acting_role: &str,
    received_for: &str,
    inform_exemption: &str,
    bad: &mut Vec<(&'static str, String)>,
) -> crate::flows::policy::Ask {
    crate::flows::policy::Ask {
        purpose: required_name("purpose", purpose, bad),
        categories: name_list("categories", categories, bad),
        facts: facts_from_pb(subject, bad),
        basis: crate::wire::basis_from_pb(&basis.cloned().unwrap_or_default(), bad),
        acting_role: optional_name("acting_role", acting_role, bad),
        received_for: optional_name("received_for", received_for, bad),
        inform_exemption: crate::wire::reason_code(
            "inform_exemption",
            signaalhub_policy::reasons::INFORM_EXEMPTION,
            inform_exemption,
            bad,
        ),
    }
}

/// The decision on the wire.
pub fn decision_to_pb(d: &policy::Decision) -> pb::Decision {
    pb::Decision {
        outcome: if d.is_allowed() {
            pb::Outcome::Allow
        } else {
            pb::Outcome::Deny
        } as i32,
        rules: d.rules.iter().map(|r| r.to_string()).collect(),
        obligations: d.obligations.iter().map(obligation_to_pb).collect(),
        reasons: d.reasons.iter().map(reason_to_pb).collect(),
        retain_until: d.retain_until.map(timestamp),
        policy_version: d.policy_version.to_string(),
    }
}

fn obligation_to_pb(o: &policy::Obligation) -> pb::Obligation {
    let (kind, detail) = match o {
        policy::Obligation::InformSubject => ("INFORM_SUBJECT", String::new()),
        policy::Obligation::InformSubjectExempted { reason } => {
            ("INFORM_SUBJECT_EXEMPTED", reason.clone())
        }
        policy::Obligation::NotifySender { oin } => ("NOTIFY_SENDER", oin.clone()),
        policy::Obligation::NotifySector { sector } => ("NOTIFY_SECTOR", sector.clone()),
        policy::Obligation::ConfirmInWriting => ("CONFIRM_IN_WRITING", String::new()),
    };
    pb::Obligation {
        kind: kind.into(),
        detail,
    }
}

fn reason_to_pb(r: &policy::Reason) -> pb::Reason {
    pb::Reason {
        code: r.code.as_str().into(),
        rule: r.rule.clone(),
        text_nl: r.nl.clone(),
        text_en: r.en.clone(),
    }
}

/// Returns the invalid-argument status when `bad` is non-empty.
pub fn reject(bad: Vec<(&'static str, String)>) -> Result<(), Status> {
    if bad.is_empty() {
        Ok(())
    } else {
        Err(invalid(&bad))
    }
}
