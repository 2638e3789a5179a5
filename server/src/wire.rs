//! The wire forms the hub keeps at rest for compatibility: a presented basis is stored as the
//! encoded `signaalhub.v1.Basis`, an envelope as the encoded `signaalhub.v1.Envelope`. This
//! module is the one place outside `api/` that names the generated types: the api edge converts
//! requests with it, and the store decodes its rows with it, once, into domain types.
use crate::domain::basis::Basis;
use crate::domain::envelope::{Binding, SealedEnvelope, SealedTo};
use crate::flows::error::Violations;
use prost::Message;
use signaalhub_policy as policy;
use signaalhub_proto::pb;

/// A basis from the wire, checked for structure (steps 1-5, known enum values, short texts);
/// whether its names are in the convenant is the flow's question.
pub fn basis_from_pb(b: &pb::Basis, bad: &mut Violations) -> Basis {
    Basis {
        legal: b.legal.as_ref().map(|l| legal_from_pb(l, bad)),
        consent_ids: b
            .consent_ids
            .iter()
            .filter_map(|c| match c.parse() {
                Ok(id) => Some(id),
                Err(_) => {
                    bad.push((
                        "basis.consent_ids",
                        "consent ids as the hub gave them (c_ and letters)".to_owned(),
                    ));
                    None
                }
            })
            .collect(),
    }
}

/// A stored basis (written by [`encode_basis`] or, before, as received); an undecodable value
/// reads as no basis, which decides as a denial (fail closed).
pub fn decode_basis(bytes: &[u8]) -> Basis {
    let b = pb::Basis::decode(bytes).unwrap_or_default();
    basis_from_pb(&b, &mut Vec::new())
}

/// The stored form of a basis.
pub fn encode_basis(b: &Basis) -> Vec<u8> {
    basis_to_pb(b).encode_to_vec()
}

/// The wire form of a basis.
pub fn basis_to_pb(b: &Basis) -> pb::Basis {
    pb::Basis {
        legal: b.legal.as_ref().map(legal_to_pb),
        consent_ids: b.consent_ids.iter().map(|c| c.to_string()).collect(),
    }
}

fn short_text(field: &'static str, s: &str, bad: &mut Violations) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    if s.chars().count() > 500 || s.chars().any(char::is_control) {
        bad.push((field, "at most 500 printable characters".into()));
        return None;
    }
    Some(s.to_owned())
}

/// A reason the law asks for, as one of its fixed codes ([`policy::reasons`]): the hub keeps no
/// free text, which could name or describe a person. Empty is `None`.
pub fn reason_code(
    field: &'static str,
    list: &'static [policy::reasons::Reason],
    s: &str,
    bad: &mut Violations,
) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    match policy::reasons::lookup(list, s) {
        Some(r) => Some(r.code.to_owned()),
        None => {
            bad.push((
                field,
                format!(
                    "one of the reason codes {} (no free text: describe the circumstances in the sealed payload)",
                    policy::reasons::codes(list)
                ),
            ));
            None
        }
    }
}

/// What a case reference (Veilig Thuis's dossier number) must look like.
pub const CASE_REFERENCE_RULE: &str = "a dossier number: 1-64 of A-Za-z0-9._-/, without a run of 9 or more digits (never a name or a BSN)";

/// Whether `s` is a case reference: a reference in another system, not a place for a name or a
/// BSN, which the hub would then store and log.
pub fn valid_case_reference(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
        && !crate::ids::has_digit_run(s)
}

fn case_reference(field: &'static str, s: &str, bad: &mut Violations) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    if valid_case_reference(s) {
        Some(s.to_owned())
    } else {
        bad.push((field, CASE_REFERENCE_RULE.into()));
        None
    }
}

fn legal_from_pb(l: &pb::LegalBasis, bad: &mut Violations) -> policy::LegalBasisRecord {
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
    let reason = reason_code(
        "basis.legal.evidence.client_not_informed_reason",
        policy::reasons::NOT_INFORMED,
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
            case_reference: case_reference(
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
            vital_interest_reason: reason_code(
                "basis.legal.evidence.vital_interest_reason",
                policy::reasons::VITAL_INTEREST,
                &e.vital_interest_reason,
                bad,
            ),
            subject_unable_to_consent: e.subject_unable_to_consent,
            reporter_may_be_named: e.reporter_may_be_named,
        },
    }
}

fn legal_to_pb(l: &policy::LegalBasisRecord) -> pb::LegalBasis {
    let e = &l.evidence;
    let (client_informed, client_not_informed_reason) = match &e.client_informed {
        Some(policy::ClientInformed::Yes) => (Some(true), String::new()),
        Some(policy::ClientInformed::No { reason }) => (Some(false), reason.clone()),
        None => (None, String::new()),
    };
    pb::LegalBasis {
        basis: l.basis.clone(),
        evidence: Some(pb::Evidence {
            meldcode_steps_completed: e
                .meldcode_steps_completed
                .iter()
                .map(|s| u32::from(*s))
                .collect(),
            afwegingskader: match e.afwegingskader {
                None => pb::Afwegingskader::Unspecified,
                Some(policy::Afwegingskader::AcuteOnveiligheid) => {
                    pb::Afwegingskader::AcuteOnveiligheid
                }
                Some(policy::Afwegingskader::StructureleOnveiligheid) => {
                    pb::Afwegingskader::StructureleOnveiligheid
                }
                Some(policy::Afwegingskader::VermoedenZonderAcuteOfStructureleOnveiligheid) => {
                    pb::Afwegingskader::VermoedenZonderAcuteOfStructureleOnveiligheid
                }
                Some(policy::Afwegingskader::GeenVermoeden) => pb::Afwegingskader::GeenVermoeden,
            } as i32,
            client_informed,
            client_not_informed_reason,
            registration_number: e.registration_number.clone().unwrap_or_default(),
            case_reference: e.case_reference.clone().unwrap_or_default(),
            payment_reminder_sent: e.payment_reminder_sent,
            maatregel_reference: e.maatregel_reference.clone().unwrap_or_default(),
            vital_interest_reason: e.vital_interest_reason.clone().unwrap_or_default(),
            subject_unable_to_consent: e.subject_unable_to_consent,
            reporter_may_be_named: e.reporter_may_be_named,
        }),
    }
}

/// What the hub can see of an envelope from the wire: its structure is checked here (version,
/// lengths, sizes); what it must be bound to and sealed to is the flow's check
/// ([`crate::flows::envelope`]).
pub fn envelope_from_pb(
    field: &'static str,
    env: &pb::Envelope,
    bad: &mut Violations,
) -> Option<SealedEnvelope> {
    if let Err(e) = signaalhub_proto::envelope::check_structure(env) {
        bad.push((field, e.to_string()));
        return None;
    }
    let binding = env.binding.clone().unwrap_or_default();
    Some(SealedEnvelope {
        sender_oin: env.sender_oin.clone(),
        signing_key_id: env.sender_signing_key_id.clone(),
        binding: Binding {
            signal_id: binding.signal_id,
            purpose: binding.purpose,
            categories: binding.categories,
            basis_reference: binding.basis_reference,
            created_at: binding.created_at_unix,
            content_digest: binding.content_digest,
        },
        sealed_to: env
            .sealed_keys
            .iter()
            .map(|k| SealedTo {
                recipient_oin: k.recipient_oin.clone(),
                key_id: k.key_id.clone(),
            })
            .collect(),
        signature: env.signature.clone(),
        signing_input: signaalhub_proto::envelope::signing_input(env),
        encoded: env.encode_to_vec(),
    })
}

/// A stored envelope back on the wire (`None` when it does not decode: never served half).
pub fn decode_envelope(bytes: &[u8]) -> Option<pb::Envelope> {
    pb::Envelope::decode(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_basis_survives_the_store_and_keeps_its_reference() {
        let wire = pb::Basis {
            legal: Some(pb::LegalBasis {
                basis: "meldcode".into(),
                evidence: Some(pb::Evidence {
                    meldcode_steps_completed: vec![1, 2, 3, 4, 5],
                    afwegingskader: pb::Afwegingskader::StructureleOnveiligheid as i32,
                    client_informed: Some(false),
                    client_not_informed_reason: "veiligheid_kind".into(),
                    ..pb::Evidence::default()
                }),
            }),
            consent_ids: vec!["c_1".into(), "c_2".into()],
        };
        let mut bad = Vec::new();
        let domain = basis_from_pb(&wire, &mut bad);
        assert!(bad.is_empty());
        assert_eq!(domain.reference(), signaalhub_proto::basis_reference(&wire));
        assert_eq!(decode_basis(&encode_basis(&domain)), domain);
        assert_eq!(basis_to_pb(&domain).legal, wire.legal);
    }

    #[test]
    fn an_undecodable_stored_basis_is_no_basis() {
        assert_eq!(decode_basis(&[0xff, 0xff, 0xff]), Basis::default());
    }
}
