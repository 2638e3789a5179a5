//! Consents bound to who discloses under them (docs/ACCESS.md, "Consents"), tried as an attacker
//! would: a GP presenting the school's consent, a wijkteam in another region reading, withdrawing
//! or riding on a consent meant for the school's own region, an unrelated wijkteam joining a case
//! with that case's consent.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::involvement_flow::case_consent;
use common::{TestHub, consent_request};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_server::ledger::{EntryOutcome, Event};
use signaalhub_server::store::testing::backends;
use tonic::Code;

const CHILD: &str = "111222333";
const OTHER_WIJKTEAM: &str = "00000009915000000000";

fn facts() -> Option<pb::SubjectFacts> {
    Some(pb::SubjectFacts {
        age_years: Some(9),
        age_band: 0,
        gezag_holders: vec!["ouder-1".into(), "ouder-2".into()],
    })
}

/// The school's consent (both parents) to tell "the wijkteam".
async fn school_consent(hub: &TestHub) -> pb::Consent {
    let req = consent_request(
        CHILD,
        9,
        &["ouder-1", "ouder-2"],
        &["ouder-1", "ouder-2"],
        &[pb::Sector::Wijkteam],
        "vroegtijdige_ondersteuning",
        &["zorgen_thuissituatie"],
    );
    hub.client("school")
        .await
        .record_consent(req)
        .await
        .unwrap()
}

fn reasons(s: &tonic::Status) -> String {
    s.message().to_owned()
}

/// `from`'s signal `id` to `to` about the child under `basis`, with the child's facts.
async fn signal(
    hub: &TestHub,
    from: &str,
    to: &str,
    id: &str,
    basis: &pb::Basis,
) -> pb::SendSignalRequest {
    let mut req = hub
        .signal(
            from,
            &[to],
            id,
            b"zorgen",
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
            CHILD,
            basis.clone(),
        )
        .await;
    req.subject = facts();
    req
}

#[tokio::test]
async fn a_consent_is_presented_only_by_those_it_names_and_reaches_only_its_own_region() {
    for b in backends() {
        let mut hub = TestHub::start(b).await;
        hub.add_org("wijkteam-utrecht", "wijkteam", OTHER_WIJKTEAM, "utrecht")
            .await;
        let consent = school_consent(&hub).await;
        let wijkteam = hub.org("wijkteam").info.oin.clone();
        let school = hub.org("school").info.oin.clone();
        // "The wijkteam" is the school's region's wijkteam, stored by OIN; the school discloses.
        assert_eq!(
            consent.recipients,
            vec![pb::ConsentRecipient {
                recipient: Some(pb::consent_recipient::Recipient::Oin(wijkteam.clone())),
            }]
        );
        assert_eq!(consent.discloser_oins, vec![school.clone()]);
        let basis = pb::Basis {
            legal: None,
            consent_ids: vec![consent.consent_id.clone()],
        };

        // The school sends under it: allowed.
        let req = signal(&hub, "school", "wijkteam", "sig-ok", &basis).await;
        hub.client("school").await.send_signal(req).await.unwrap();

        // The GP, having learned the id, presents it: refused, and the refusal is logged.
        let req = signal(&hub, "huisarts", "wijkteam", "sig-gp", &basis).await;
        let e = hub
            .client("huisarts")
            .await
            .send_signal(req)
            .await
            .unwrap_err();
        let signaalhub_client::ClientError::Status(s) = e else {
            panic!("a refusal")
        };
        assert_eq!(s.code(), Code::PermissionDenied);
        assert!(reasons(&s).contains("CONSENT_NOT_FOR_DISCLOSER"), "{s:?}");
        let log = common::log_entries(&hub.store).await;
        assert!(log.iter().any(|(_, e)| e.event == Event::SignalDenied
            && e.actor_oin == hub.org("huisarts").info.oin
            && e.reasons.iter().any(|r| r == "CONSENT_NOT_FOR_DISCLOSER")));

        // The school cannot reach the wijkteam of another region with it.
        let req = signal(&hub, "school", "wijkteam-utrecht", "sig-utrecht", &basis).await;
        let e = hub
            .client("school")
            .await
            .send_signal(req)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e}");

        // The other region's wijkteam neither lists nor withdraws it.
        let mut utrecht = hub.client("wijkteam-utrecht").await;
        let listed = utrecht.list_consents(CHILD, true).await.unwrap();
        assert!(listed.is_empty(), "{listed:?}");
        let e = utrecht
            .withdraw_consent(&consent.consent_id, "ouder-1")
            .await
            .unwrap_err();
        assert!(
            matches!(e.code(), Code::PermissionDenied | Code::NotFound),
            "{e}"
        );
        // The region's own wijkteam, a recipient, lists it.
        let listed = hub
            .client("wijkteam")
            .await
            .list_consents(CHILD, true)
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        hub.stop().await;
    }
}

#[tokio::test]
async fn recording_names_real_organisations_or_says_what_is_wrong() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut school = hub.client("school").await;
        // A sector without an organisation in the school's region.
        let mut req = consent_request(
            CHILD,
            9,
            &["ouder-1"],
            &["ouder-1"],
            &[pb::Sector::Wijkteam],
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
        );
        req.disclosers = vec![pb::ConsentRecipient {
            recipient: Some(pb::consent_recipient::Recipient::Oin(
                "00000009999000000000".into(),
            )),
        }];
        let e = school.record_consent(req.clone()).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.to_string().contains("disclosers.oin"), "{e}");
        // A discloser of a sector resolves like a recipient.
        req.disclosers = vec![pb::ConsentRecipient {
            recipient: Some(pb::consent_recipient::Recipient::Sector(
                pb::Sector::Huisarts as i32,
            )),
        }];
        let c = school.record_consent(req).await.unwrap();
        assert_eq!(c.discloser_oins, vec![hub.org("huisarts").info.oin.clone()]);
        // Nothing half-recorded by the refusal.
        let listed = school.list_consents(CHILD, true).await.unwrap();
        assert_eq!(listed.len(), 1);
        hub.stop().await;
    }
}

#[tokio::test]
async fn an_unrelated_wijkteam_cannot_join_a_case_with_that_cases_consent() {
    for b in backends() {
        let mut hub = TestHub::start(b).await;
        hub.add_org("wijkteam-utrecht", "wijkteam", OTHER_WIJKTEAM, "utrecht")
            .await;
        let consent = case_consent(&hub, "wijkteam", CHILD).await;
        let register = |contact: &str| pb::RegisterInvolvementRequest {
            subject_bsn: CHILD.into(),
            contact_professional: contact.into(),
            basis: Some(pb::Basis {
                legal: None,
                consent_ids: vec![consent.clone()],
            }),
            ..Default::default()
        };
        // The case's own wijkteam and the school match under the consent...
        let mut own = common::involvement_flow::client(&hub, "wijkteam").await;
        own.register_involvement(register("wijkcoach, 026-0000002"))
            .await
            .unwrap();
        let r = common::involvement_flow::client(&hub, "school")
            .await
            .register_involvement(register("IB'er, 026-0000001"))
            .await
            .unwrap();
        let case = r.case.expect("a case");
        // ...the other region's wijkteam, presenting the same consent id, is refused: the
        // consent does not name it and nothing was ever delivered to it about the child, so it
        // has no ground for an involvement (and learns of nobody).
        let e = hub
            .client("wijkteam-utrecht")
            .await
            .register_involvement(register("wijkcoach Utrecht"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e}");
        let e = hub
            .client("wijkteam-utrecht")
            .await
            .get_case(&case.case_id)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::NotFound);
        // Its attempt is on record, refused; nothing was disclosed to it.
        let log = common::log_entries(&hub.store).await;
        assert!(!log.iter().any(|(_, e)| e.actor_oin == OTHER_WIJKTEAM
            && e.outcome == EntryOutcome::Disclosed
            && e.event == Event::InvolvementMatched));
        assert!(log.iter().any(|(_, e)| e.actor_oin == OTHER_WIJKTEAM
            && e.outcome == EntryOutcome::Denied
            && e.event == Event::InvolvementRefused));
        hub.stop().await;
    }
}
