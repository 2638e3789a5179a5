//! Builders for decision requests against the sample convenant.
#![allow(dead_code, clippy::unwrap_used)]

use signaalhub_policy::*;

pub const NOW: i64 = 1_760_000_000;
pub const DAY: i64 = 86_400;

pub const SCHOOL: &str = "00000001111111110001";
pub const HUISARTS: &str = "00000001111111110002";
pub const WONING: &str = "00000001111111110003";
pub const WIJKTEAM: &str = "00000001111111110004";
pub const WIJKTEAM_OTHER: &str = "00000001111111110014";
pub const VT: &str = "00000001111111110005";
pub const POLITIE: &str = "00000001111111110006";
pub const GI: &str = "00000001111111110007";
pub const OPVANG: &str = "00000001111111110008";

/// The sample convenant, compiled once per test binary (decisions borrow from it).
pub fn sample() -> &'static Policy {
    static SAMPLE: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    SAMPLE.get_or_init(|| parse("sample.toml", SAMPLE_CONVENANT).unwrap().compile())
}

pub fn oin_of(sector: &str) -> &'static str {
    match sector {
        "school" => SCHOOL,
        "huisarts" => HUISARTS,
        "woningcorporatie" => WONING,
        "wijkteam" => WIJKTEAM,
        "veilig_thuis" => VT,
        "politie" => POLITIE,
        "jeugdbescherming" => GI,
        _ => OPVANG,
    }
}

pub fn req(from: &str, role: &str, to: &str, purpose: &str, cats: &[&str]) -> DecisionRequest {
    DecisionRequest {
        actor: Actor {
            oin: oin_of(from).into(),
            sector: from.into(),
            role: role.into(),
        },
        recipient: Recipient {
            oin: oin_of(to).into(),
            sector: to.into(),
        },
        purpose: purpose.into(),
        categories: cats.iter().map(|c| c.to_string()).collect(),
        subject: SubjectFacts {
            age: Age::Years(9),
            gezag_holders: vec!["ouder-1".into(), "ouder-2".into()],
        },
        basis: PresentedBasis::default(),
        recipient_involved: false,
        received_for: None,
        inform_exemption: None,
        now: NOW,
    }
}

pub fn consent(
    id: &str,
    givers: &[(&str, GiverCapacity)],
    to: ConsentRecipient,
    purpose: &str,
    cats: &[&str],
) -> ConsentRecord {
    ConsentRecord {
        id: id.into(),
        givers: givers
            .iter()
            .map(|(p, c)| ConsentGiver {
                person: p.to_string(),
                capacity: *c,
            })
            .collect(),
        recipients: vec![to],
        disclosers: vec![],
        facts: None,
        purposes: vec![purpose.into()],
        categories: cats.iter().map(|c| c.to_string()).collect(),
        valid_from: NOW - 30 * DAY,
        valid_until: NOW + 150 * DAY,
        withdrawn: false,
        explicit: false,
    }
}

pub fn both_parents(purpose: &str, to_sector: &str, cats: &[&str]) -> ConsentRecord {
    consent(
        "c-ouders",
        &[
            ("ouder-1", GiverCapacity::GezagHolder),
            ("ouder-2", GiverCapacity::GezagHolder),
        ],
        ConsentRecipient::Sector(to_sector.into()),
        purpose,
        cats,
    )
}

pub fn meldcode_evidence() -> Evidence {
    Evidence {
        meldcode_steps_completed: vec![1, 2, 3, 4],
        afwegingskader: Some(Afwegingskader::StructureleOnveiligheid),
        client_informed: Some(ClientInformed::No {
            reason: "informeren brengt het kind in gevaar".into(),
        }),
        ..Evidence::default()
    }
}

pub fn legal(basis: &str, evidence: Evidence) -> Option<LegalBasisRecord> {
    Some(LegalBasisRecord {
        basis: basis.into(),
        evidence,
    })
}

pub fn codes(d: &Decision) -> Vec<&'static str> {
    d.reasons.iter().map(|r| r.code.as_str()).collect()
}
