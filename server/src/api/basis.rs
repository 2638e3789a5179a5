//! Wire <-> policy conversions shared by every service that takes a basis or returns a decision.
use super::status::invalid;
use super::timestamp;
use crate::domain::consent::Facts;
use signaalhub_policy as policy;
use signaalhub_proto::pb;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Most gezag holders / givers / recipients / purposes / categories / ids in one request.
pub const MAX_LIST: usize = 16;

/// A reference to a person (gezag holder, consent giver): 1-32 of `a-z 0-9 _ -`. Never a name.
pub fn valid_person_ref(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Checks a list of convenant names with `known`, collecting violations under `field`.
pub fn check_names(
    field: &'static str,
    names: &[String],
    known: impl Fn(&str) -> bool,
    required: bool,
    bad: &mut Vec<(&'static str, String)>,
) {
    if required && names.is_empty() {
        bad.push((field, "at least one is required".into()));
    }
    if names.len() > MAX_LIST {
        bad.push((field, format!("at most {MAX_LIST}")));
        return;
    }
    for n in names {
        if !known(n) {
            bad.push((
                field,
                format!("{:?} is not declared in the convenant", truncate(n)),
            ));
        }
    }
}

/// Caps echoed input so an error never carries a large or hostile value back, and blanks any
/// BSN in it (a value that is a BSN, or a 9-digit elfproef-valid run): an id field a client
/// filled with a BSN must not come back in the error (found by the `rpc_validation` fuzz target).
pub fn truncate(s: &str) -> String {
    let capped: String = s.chars().take(64).collect();
    if capped.parse::<crate::ids::Bsn>().is_ok() {
        return "<BSN removed>".into();
    }
    let mut out = String::with_capacity(capped.len());
    let mut rest = capped.as_str();
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let len = run.find(|c: char| !c.is_ascii_digit()).unwrap_or(run.len());
        let digits = &run[..len];
        if len == 9 && digits.parse::<crate::ids::Bsn>().is_ok() {
            out.push_str("<BSN removed>");
        } else {
            out.push_str(digits);
        }
        rest = &run[len..];
    }
    out.push_str(rest);
    out
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
        bad.push((
            "subject.gezag_holders",
            "references such as \"ouder-1\" (1-32 of a-z, 0-9, _ and -), never names".into(),
        ));
    }
    Facts {
        age_years,
        age_band,
        gezag_holders: f.gezag_holders.clone(),
    }
}

/// Facts as the policy crate sees them.
pub fn facts_to_policy(f: &Facts) -> policy::SubjectFacts {
    let age = match (f.age_years, f.age_band.as_deref()) {
        (Some(y), _) => policy::Age::Years(y),
        (None, Some("under_12")) => policy::Age::Band(policy::AgeBand::Under12),
        (None, Some("12_to_15")) => policy::Age::Band(policy::AgeBand::From12To15),
        (None, Some("16_to_17")) => policy::Age::Band(policy::AgeBand::From16To17),
        (None, Some("adult")) => policy::Age::Band(policy::AgeBand::Adult),
        _ => policy::Age::Unknown,
    };
    policy::SubjectFacts {
        age,
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

fn short_text(
    field: &'static str,
    s: &str,
    bad: &mut Vec<(&'static str, String)>,
) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    if s.chars().count() > 500 || s.chars().any(char::is_control) {
        bad.push((field, "at most 500 printable characters".into()));
        return None;
    }
    Some(s.to_owned())
}

/// A legal basis from the wire.
pub fn legal_from_pb(
    l: &pb::LegalBasis,
    known: impl Fn(&str) -> bool,
    bad: &mut Vec<(&'static str, String)>,
) -> policy::LegalBasisRecord {
    if !known(&l.basis) {
        bad.push((
            "basis.legal.basis",
            format!(
                "{:?} is not a basis declared in the convenant",
                truncate(&l.basis)
            ),
        ));
    }
    let e = l.evidence.clone().unwrap_or_default();
    let mut steps = Vec::new();
    for s in &e.meldcode_steps_completed {
        if (1..=5).contains(s) {
            steps.push(*s as u8);
        } else {
            bad.push((
                "basis.legal.evidence.meldcode_steps_completed",
                "steps are 1 to 5".into(),
            ));
        }
    }
    let afwegingskader = match pb::Afwegingskader::try_from(e.afwegingskader) {
        Ok(pb::Afwegingskader::Unspecified) => None,
        Ok(pb::Afwegingskader::AcuteOnveiligheid) => {
            Some(policy::Afwegingskader::AcuteOnveiligheid)
        }
        Ok(pb::Afwegingskader::StructureleOnveiligheid) => {
            Some(policy::Afwegingskader::StructureleOnveiligheid)
        }
        Ok(pb::Afwegingskader::VermoedenZonderAcuteOfStructureleOnveiligheid) => {
            Some(policy::Afwegingskader::VermoedenZonderAcuteOfStructureleOnveiligheid)
        }
        Ok(pb::Afwegingskader::GeenVermoeden) => Some(policy::Afwegingskader::GeenVermoeden),
        Err(_) => {
            bad.push((
                "basis.legal.evidence.afwegingskader",
                "unknown value".into(),
            ));
            None
        }
    };
    let reason = short_text(
        "basis.legal.evidence.client_not_informed_reason",
        &e.client_not_informed_reason,
        bad,
    );
    let client_informed = match e.client_informed {
        Some(true) => Some(policy::ClientInformed::Yes),
        Some(false) => Some(policy::ClientInformed::No {
            reason: reason.unwrap_or_default(),
        }),
        None => None,
    };
    policy::LegalBasisRecord {
        basis: l.basis.clone(),
        evidence: policy::Evidence {
            meldcode_steps_completed: steps,
            afwegingskader,
            client_informed,
            registration_number: short_text(
                "basis.legal.evidence.registration_number",
                &e.registration_number,
                bad,
            ),
            case_reference: short_text(
                "basis.legal.evidence.case_reference",
                &e.case_reference,
                bad,
            ),
            payment_reminder_sent: e.payment_reminder_sent,
            maatregel_reference: short_text(
                "basis.legal.evidence.maatregel_reference",
                &e.maatregel_reference,
                bad,
            ),
            vital_interest_reason: short_text(
                "basis.legal.evidence.vital_interest_reason",
                &e.vital_interest_reason,
                bad,
            ),
            subject_unable_to_consent: e.subject_unable_to_consent,
        },
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

/// A denial as a status, its message starting with `context`: `PERMISSION_DENIED` (FAILED_PRECONDITION would suggest retrying as is),
/// with the reasons as google.rpc details — ErrorInfo (first code), PreconditionFailure (every
/// reason: type = code, subject = rule, description = English text) and a Dutch LocalizedMessage.
pub fn denied(context: &str, d: &policy::Decision) -> Status {
    let mut details = ErrorDetails::new();
    if let Some(first) = d.reasons.first() {
        details.set_error_info(
            first.code.as_str(),
            "signaalhub.nl",
            [("policy_version".to_string(), d.policy_version.to_string())],
        );
    }
    for r in &d.reasons {
        details.add_precondition_failure_violation(r.code.as_str(), r.rule.clone(), r.en.clone());
    }
    let nl = d
        .reasons
        .iter()
        .map(|r| r.nl.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    details.set_localized_message("nl-NL", nl);
    let en = d
        .reasons
        .iter()
        .map(|r| format!("{} ({})", r.en, r.code.as_str()))
        .collect::<Vec<_>>()
        .join("; ");
    Status::with_error_details(
        Code::PermissionDenied,
        format!("{context}: not allowed: {en}"),
        details,
    )
}

/// Returns the invalid-argument status when `bad` is non-empty.
pub fn reject(bad: Vec<(&'static str, String)>) -> Result<(), Status> {
    if bad.is_empty() {
        Ok(())
    } else {
        Err(invalid(&bad))
    }
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn truncate_removes_bsns_and_keeps_other_numbers() {
        assert_eq!(truncate("111222333"), "<BSN removed>");
        assert_eq!(truncate("case-111222333.v1"), "case-<BSN removed>.v1");
        // Not elfproef-valid, or not 9 digits: kept.
        assert_eq!(truncate("case-111222334"), "case-111222334");
        assert_eq!(truncate("00000009901000000000"), "00000009901000000000");
        assert_eq!(truncate(&"x".repeat(100)).len(), 64);
    }
}
