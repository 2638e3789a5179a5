//! CheckBasis and ConsentService through the running hub, for the DOMAIN.md flows, allowed and
//! denied, on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, now};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ClientError, HubClient};
use signaalhub_server::store::testing::backends;
use tonic::Code;
use tonic_types::StatusExt;

const CHILD: &str = "111222333";
const OTHER_CHILD: &str = "123456782";

fn facts(age: u32, gezag: &[&str]) -> Option<pb::SubjectFacts> {
    Some(pb::SubjectFacts {
        age_years: Some(age),
        age_band: 0,
        gezag_holders: gezag.iter().map(|s| s.to_string()).collect(),
    })
}

async fn record(
    c: &mut HubClient,
    bsn: &str,
    parents: &[&str],
    to_sector: pb::Sector,
    purpose: &str,
    categories: &[&str],
    explicit: bool,
) -> pb::Consent {
    c.record_consent(pb::RecordConsentRequest {
        subject_bsn: bsn.into(),
        subject: facts(9, &["ouder-1", "ouder-2"]),
        givers: parents
            .iter()
            .map(|p| pb::ConsentGiver {
                person: p.to_string(),
                capacity: pb::GiverCapacity::GezagHolder as i32,
            })
            .collect(),
        recipients: vec![pb::ConsentRecipient {
            recipient: Some(pb::consent_recipient::Recipient::Sector(to_sector as i32)),
        }],
        purposes: vec![purpose.into()],
        categories: categories.iter().map(|s| s.to_string()).collect(),
        valid_from: None,
        valid_until: Some(prost_types::Timestamp {
            seconds: now() + 180 * 86400,
            nanos: 0,
        }),
        explicit,
        evidence_reference: "sha256:3f1d".into(),
        acting_role: String::new(),
        disclosers: vec![],
    })
    .await
    .unwrap()
}

fn check(
    hub: &TestHub,
    to: &str,
    purpose: &str,
    categories: &[&str],
    basis: pb::Basis,
    subject: Option<pb::SubjectFacts>,
) -> pb::CheckBasisRequest {
    pb::CheckBasisRequest {
        recipient_oin: hub.org(to).info.oin.clone(),
        purpose: purpose.into(),
        categories: categories.iter().map(|s| s.to_string()).collect(),
        subject_bsn: CHILD.into(),
        subject,
        basis: Some(basis),
        ..Default::default()
    }
}

fn consents(ids: &[&pb::Consent]) -> pb::Basis {
    pb::Basis {
        legal: None,
        consent_ids: ids.iter().map(|c| c.consent_id.clone()).collect(),
    }
}

fn meldcode(basis: &str) -> pb::Basis {
    pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: basis.into(),
            evidence: Some(pb::Evidence {
                meldcode_steps_completed: vec![1, 2, 3, 4],
                afwegingskader: pb::Afwegingskader::StructureleOnveiligheid as i32,
                client_informed: Some(false),
                client_not_informed_reason: "veiligheid_kind".into(),
                ..Default::default()
            }),
        }),
        consent_ids: vec![],
    }
}

fn codes(d: &pb::Decision) -> Vec<String> {
    d.reasons.iter().map(|r| r.code.clone()).collect()
}

#[tokio::test]
async fn school_to_wijkteam_needs_both_parents_consent_and_stops_at_withdrawal() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut school = hub.client("school").await;
        let one = record(
            &mut school,
            CHILD,
            &["ouder-1"],
            pb::Sector::Wijkteam,
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
            false,
        )
        .await;
        let req = |basis| {
            check(
                &hub,
                "wijkteam",
                "vroegtijdige_ondersteuning",
                &["zorgen_thuissituatie"],
                basis,
                None,
            )
        };

        // Only one of the two holders of gezag: refused, naming the missing parent.
        let d = school.check_basis(req(consents(&[&one]))).await.unwrap();
        assert_eq!(d.outcome, pb::Outcome::Deny as i32);
        assert!(
            codes(&d).contains(&"CONSENT_MISSING_GEZAG_HOLDER".to_string()),
            "{:?}",
            codes(&d)
        );
        assert!(
            d.reasons.iter().any(|r| r.text_nl.contains("ouder-2")),
            "{:?}",
            d.reasons
        );

        // Both: allowed, with retention.
        let two = record(
            &mut school,
            CHILD,
            &["ouder-2"],
            pb::Sector::Wijkteam,
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
            false,
        )
        .await;
        let d = school
            .check_basis(req(consents(&[&one, &two])))
            .await
            .unwrap();
        assert_eq!(d.outcome, pb::Outcome::Allow as i32, "{:?}", d.reasons);
        assert!(d.retain_until.unwrap().seconds > now());
        assert!(d.rules.iter().any(|r| r.starts_with("flow:")));

        // Wrong purpose: refused.
        let mut wrong = req(consents(&[&one, &two]));
        wrong.purpose = "melding_veilig_thuis".into();
        let d = school.check_basis(wrong).await.unwrap();
        assert_eq!(d.outcome, pb::Outcome::Deny as i32);

        // One parent withdraws: refused from that moment.
        let w = school
            .withdraw_consent(&two.consent_id, "ouder-2")
            .await
            .unwrap();
        assert!(w.consent.unwrap().withdrawn_at.is_some());
        let d = school
            .check_basis(req(consents(&[&one, &two])))
            .await
            .unwrap();
        assert_eq!(d.outcome, pb::Outcome::Deny as i32);
        assert!(
            codes(&d).iter().any(|c| c.starts_with("CONSENT_")),
            "{:?}",
            codes(&d)
        );

        // Withdrawing twice is a clear precondition failure.
        let e = school
            .withdraw_consent(&two.consent_id, "ouder-2")
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition);
        hub.stop().await;
    }
}

#[tokio::test]
async fn gp_meldcode_to_veilig_thuis_allowed_but_not_to_wijkteam() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut gp = hub.client("huisarts").await;
        let subject = facts(4, &["ouder-1", "ouder-2"]);
        let d = gp
            .check_basis(check(
                &hub,
                "veilig_thuis",
                "melding_veilig_thuis",
                &["gezondheid", "signalen_huiselijk_geweld"],
                meldcode("meldrecht"),
                subject.clone(),
            ))
            .await
            .unwrap();
        assert_eq!(d.outcome, pb::Outcome::Allow as i32, "{:?}", d.reasons);
        let d = gp
            .check_basis(check(
                &hub,
                "wijkteam",
                "melding_veilig_thuis",
                &["gezondheid"],
                meldcode("meldrecht"),
                subject.clone(),
            ))
            .await
            .unwrap();
        assert_eq!(d.outcome, pb::Outcome::Deny as i32);
        assert!(
            codes(&d).contains(&"MELDRECHT_ONLY_TO_VEILIG_THUIS".to_string()),
            "{:?}",
            codes(&d)
        );
        // Meldcode without steps 1-4 done: refused.
        let mut incomplete = meldcode("meldrecht");
        incomplete
            .legal
            .as_mut()
            .unwrap()
            .evidence
            .as_mut()
            .unwrap()
            .meldcode_steps_completed = vec![1, 2];
        let d = gp
            .check_basis(check(
                &hub,
                "veilig_thuis",
                "melding_veilig_thuis",
                &["gezondheid"],
                incomplete,
                subject,
            ))
            .await
            .unwrap();
        assert_eq!(d.outcome, pb::Outcome::Deny as i32);
        assert!(
            codes(&d).contains(&"MELDCODE_STEPS_INCOMPLETE".to_string()),
            "{:?}",
            codes(&d)
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn rent_arrears_early_signal_allowed_without_consent_but_not_with_health_data() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut corp = hub.client("woningcorporatie").await;
        let basis = pb::Basis {
            legal: Some(pb::LegalBasis {
                basis: "wgs_vroegsignalering".into(),
                evidence: Some(pb::Evidence {
                    payment_reminder_sent: Some(true),
                    ..Default::default()
                }),
            }),
            consent_ids: vec![],
        };
        let adult = facts(34, &[]);
        let d = corp
            .check_basis(check(
                &hub,
                "wijkteam",
                "vroegsignalering_schulden",
                &["betalingsachterstand"],
                basis.clone(),
                adult.clone(),
            ))
            .await
            .unwrap();
        assert_eq!(d.outcome, pb::Outcome::Allow as i32, "{:?}", d.reasons);
        let d = corp
            .check_basis(check(
                &hub,
                "wijkteam",
                "vroegsignalering_schulden",
                &["betalingsachterstand", "gezondheid"],
                basis.clone(),
                adult.clone(),
            ))
            .await
            .unwrap();
        assert_eq!(d.outcome, pb::Outcome::Deny as i32);
        let d = corp
            .check_basis(check(
                &hub,
                "wijkteam",
                "vroegsignalering_schulden",
                &["betalingsachterstand", "vermoeden_verwaarlozing_kinderen"],
                basis,
                adult,
            ))
            .await
            .unwrap();
        assert_eq!(d.outcome, pb::Outcome::Deny as i32);
        hub.stop().await;
    }
}

#[tokio::test]
async fn bad_requests_name_their_fields_and_consents_bind_to_their_subject() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut school = hub.client("school").await;
        let r = school
            .check_basis(pb::CheckBasisRequest {
                recipient_oin: "123".into(),
                purpose: "gossip".into(),
                categories: vec![],
                subject_bsn: "111222334".into(),
                ..Default::default()
            })
            .await;
        let Err(ClientError::Status(s)) = r else {
            panic!("{r:?}")
        };
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(
            !s.message().contains("111222334"),
            "a BSN must never be echoed: {}",
            s.message()
        );
        let fields: Vec<_> = s
            .get_error_details()
            .bad_request()
            .unwrap()
            .field_violations
            .iter()
            .map(|v| v.field.clone())
            .collect();
        for f in [
            "recipient_oin",
            "purpose",
            "categories",
            "subject_bsn",
            "basis",
        ] {
            assert!(
                fields.contains(&f.to_string()),
                "{f} missing from {fields:?}"
            );
        }
        // A consent about one child does not cover another.
        let c = record(
            &mut school,
            OTHER_CHILD,
            &["ouder-1", "ouder-2"],
            pb::Sector::Wijkteam,
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
            false,
        )
        .await;
        let r = school
            .check_basis(check(
                &hub,
                "wijkteam",
                "vroegtijdige_ondersteuning",
                &["zorgen_thuissituatie"],
                consents(&[&c]),
                None,
            ))
            .await;
        let Err(ClientError::Status(s)) = r else {
            panic!("{r:?}")
        };
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(s.message().contains("another person"), "{}", s.message());
        hub.stop().await;
    }
}

#[tokio::test]
async fn consents_are_listed_only_to_organisations_they_concern_and_every_change_is_logged() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut school = hub.client("school").await;
        let before = hub.store.log_size().await.unwrap();
        let c = record(
            &mut school,
            CHILD,
            &["ouder-1", "ouder-2"],
            pb::Sector::Wijkteam,
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
            false,
        )
        .await;
        assert!(c.consent_id.starts_with("c_"));
        assert_eq!(hub.store.log_size().await.unwrap(), before + 1);

        let mut wijkteam = hub.client("wijkteam").await;
        assert_eq!(wijkteam.list_consents(CHILD, false).await.unwrap().len(), 1);
        let mut politie = hub.client("politie").await;
        assert!(
            politie
                .list_consents(CHILD, false)
                .await
                .unwrap()
                .is_empty()
        );
        // The police cannot withdraw what does not concern them.
        assert_eq!(
            politie
                .withdraw_consent(&c.consent_id, "ouder-1")
                .await
                .unwrap_err()
                .code(),
            Code::PermissionDenied
        );
        // The recipient can register the withdrawal the family tells them about.
        wijkteam
            .withdraw_consent(&c.consent_id, "ouder-1")
            .await
            .unwrap();
        assert!(school.list_consents(CHILD, false).await.unwrap().is_empty());
        assert_eq!(school.list_consents(CHILD, true).await.unwrap().len(), 1);
        // record + 2 listings + withdrawal + 2 listings
        assert_eq!(hub.store.log_size().await.unwrap(), before + 6);
        hub.stop().await;
    }
}

#[tokio::test]
async fn consent_input_is_validated() {
    let hub = TestHub::start("sqlite").await;
    let mut school = hub.client("school").await;
    let r = school
        .record_consent(pb::RecordConsentRequest {
            subject_bsn: CHILD.into(),
            givers: vec![pb::ConsentGiver {
                person: "Jan Jansen".into(),
                capacity: 0,
            }],
            recipients: vec![],
            purposes: vec!["x".into()],
            categories: vec![],
            valid_until: None,
            ..Default::default()
        })
        .await;
    let Err(ClientError::Status(s)) = r else {
        panic!("{r:?}")
    };
    assert_eq!(s.code(), Code::InvalidArgument);
    let fields: Vec<_> = s
        .get_error_details()
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    for f in [
        "givers.person",
        "givers.capacity",
        "recipients",
        "purposes",
        "categories",
        "valid_until",
    ] {
        assert!(
            fields.contains(&f.to_string()),
            "{f} missing from {fields:?}"
        );
    }
    hub.stop().await;
}

#[tokio::test]
async fn an_invalid_convenant_stops_the_hub_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let bad = signaalhub_policy_sample().replace("to = \"wijkteam\"", "to = \"wijkteem\"");
    std::fs::write(dir.path().join("convenant.toml"), bad).unwrap();
    let cfg = signaalhub_server::config::Config::load(
        &{
            let p = dir.path().join("hub.toml");
            std::fs::write(&p, "convenant = \"convenant.toml\"\nallow_dev_material = true\n[tls]\ncert = \"x\"\nkey = \"y\"\nclient_ca = [\"z\"]\n[pseudonym]\nkey_file = \"k\"\n[log]\ncheckpoint_key_file = \"c\"\ncheckpoint_key_id = \"h\"\n").unwrap();
            p
        },
        |_| None,
    )
    .unwrap();
    let e = signaalhub_server::load_policy(&cfg).unwrap_err();
    assert_eq!(e.key, "convenant");
    assert!(
        e.message.contains("wijkteem") && e.message.contains("did you mean"),
        "{}",
        e.message
    );
    let start = signaalhub_server::StartError::Config(e);
    assert_eq!(start.exit_code(), 64);
}

fn signaalhub_policy_sample() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policy/convenants/sample.toml"
    ))
    .unwrap()
}
