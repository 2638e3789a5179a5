//! Onward purpose from the hub's own records (issue 16 item 6). What an organisation received
//! about a child, and for which purpose, is in the disclosure log; the floor's purpose
//! limitation is judged against that, not against a `received_for` field the client may leave
//! out. And a sender's own legal basis (meldrecht with its evidence) counts whatever it received
//! before, so stating `received_for` cannot turn a lawful report into a refusal.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, both_parents_consent_to, meldrecht};
use signaalhub_proto::pb;
use signaalhub_server::store::testing::backends;
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::Code;

const CHILD: &str = "111222333";
/// A child the wijkteam never received anything about.
const OTHER_CHILD: &str = "123456782";

/// Both parents' consent, recorded by the wijkteam, to tell Veilig Thuis.
async fn consent_to_veilig_thuis(hub: &TestHub, bsn: &str) -> pb::Basis {
    both_parents_consent_to(
        &mut hub.client("wijkteam").await,
        bsn,
        pb::Sector::VeiligThuis,
        "melding_veilig_thuis",
        &["zorgen_thuissituatie"],
    )
    .await
}

async fn to_veilig_thuis(
    hub: &TestHub,
    id: &str,
    bsn: &str,
    basis: pb::Basis,
) -> pb::SendSignalRequest {
    hub.signal(
        "wijkteam",
        &["veilig_thuis"],
        id,
        b"zorgen over de thuissituatie",
        "melding_veilig_thuis",
        &["zorgen_thuissituatie"],
        bsn,
        basis,
    )
    .await
}

async fn check(hub: &TestHub, req: &pb::SendSignalRequest) -> pb::Decision {
    hub.client("wijkteam")
        .await
        .check_basis(pb::CheckBasisRequest {
            recipient_oin: req.recipient_oins[0].clone(),
            subject_bsn: req.subject_bsns[0].clone(),
            purpose: req.purpose.clone(),
            categories: req.categories.clone(),
            basis: req.basis.clone(),
            received_for: req.received_for.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
}

async fn next(stream: &mut tonic::Streaming<pb::StreamInboxResponse>) -> pb::StreamInboxResponse {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an inbox item within 10 s")
        .unwrap()
        .unwrap()
}

fn codes(d: &pb::Decision) -> Vec<String> {
    d.reasons.iter().map(|r| r.code.clone()).collect()
}

#[tokio::test]
async fn a_purpose_change_is_judged_from_what_was_delivered_not_from_a_client_field() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        // The school tells the wijkteam, with the parents' consent, for early support.
        let basis = hub.both_parents_consent(CHILD).await;
        let req = hub
            .signal(
                "school",
                &["wijkteam"],
                "sig-school",
                b"zorgen",
                "vroegtijdige_ondersteuning",
                &["zorgen_thuissituatie"],
                CHILD,
                basis,
            )
            .await;
        hub.client("school").await.send_signal(req).await.unwrap();
        let mut wijkteam = hub.client("wijkteam").await;
        let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
        assert_eq!(next(&mut inbox).await.signal_id, "sig-school");
        drop(inbox);

        // On the parents' consent alone, the wijkteam may not pass what it received for early
        // support on to Veilig Thuis — whether or not it states `received_for`.
        let consent = consent_to_veilig_thuis(&hub, CHILD).await;
        let req = to_veilig_thuis(&hub, "door-zonder-veld", CHILD, consent.clone()).await;
        assert!(req.received_for.is_empty());
        let d = check(&hub, &req).await;
        assert_eq!(d.outcome, pb::Outcome::Deny as i32, "{d:?}");
        assert!(
            codes(&d).contains(&"PURPOSE_CHANGE_NOT_ALLOWED".to_owned()),
            "{:?}",
            codes(&d)
        );
        let e = wijkteam.send_signal(req).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e}");

        // The same consent-based report about a child it received nothing about is no purpose
        // change, and goes through: the refusal above comes from what was delivered.
        let consent_other = consent_to_veilig_thuis(&hub, OTHER_CHILD).await;
        let req = to_veilig_thuis(&hub, "ander-kind", OTHER_CHILD, consent_other).await;
        assert_eq!(check(&hub, &req).await.outcome, pb::Outcome::Allow as i32);
        wijkteam.send_signal(req).await.unwrap();

        // Its own meldrecht report (complete evidence) is lawful whatever it received before,
        // even when it says what it received the data for.
        let mut req = to_veilig_thuis(
            &hub,
            "eigen-melding",
            CHILD,
            meldrecht(pb::Evidence {
                client_informed: Some(true),
                ..Default::default()
            }),
        )
        .await;
        req.received_for = "vroegtijdige_ondersteuning".into();
        let d = check(&hub, &req).await;
        assert_eq!(d.outcome, pb::Outcome::Allow as i32, "{:?}", codes(&d));
        wijkteam.send_signal(req).await.unwrap();
        let mut vt = hub.client("veilig_thuis").await;
        let mut inbox = vt.stream_inbox(0).await.unwrap();
        let mut got = vec![
            next(&mut inbox).await.signal_id,
            next(&mut inbox).await.signal_id,
        ];
        got.sort();
        assert_eq!(got, ["ander-kind", "eigen-melding"]);
        hub.stop().await;
    }
}
