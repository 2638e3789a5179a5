//! The disclosure log end to end: checkpoints and proofs through the hub, subject access reports,
//! and tampering detected by `log verify` and by the hub at start-up.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, now};
use signaalhub_client::signaalhub_proto::{merkle, pb};
use signaalhub_server::ledger::integrator::verify;
use signaalhub_server::store::testing::backends;
use tonic::Code;

const CHILD: &str = "111222333";

async fn some_activity(hub: &TestHub, n: usize) -> Vec<String> {
    let mut school = hub.client("school").await;
    let mut ids = Vec::new();
    for _ in 0..n {
        let c = school
            .record_consent(pb::RecordConsentRequest {
                subject_bsn: CHILD.into(),
                subject: Some(pb::SubjectFacts {
                    age_years: Some(9),
                    age_band: 0,
                    gezag_holders: vec!["ouder-1".into()],
                }),
                givers: vec![pb::ConsentGiver {
                    person: "ouder-1".into(),
                    capacity: pb::GiverCapacity::GezagHolder as i32,
                }],
                recipients: vec![pb::ConsentRecipient {
                    recipient: Some(pb::consent_recipient::Recipient::Sector(
                        pb::Sector::Wijkteam as i32,
                    )),
                }],
                purposes: vec!["vroegtijdige_ondersteuning".into()],
                categories: vec!["zorgen_thuissituatie".into()],
                valid_until: Some(prost_types::Timestamp {
                    seconds: now() + 86400,
                    nanos: 0,
                }),
                ..Default::default()
            })
            .await
            .unwrap();
        ids.push(c.consent_id);
    }
    ids
}

fn fg_token(hub: &TestHub, sector: &str) -> String {
    let mut c = hub.claims(sector);
    c["roles"] = serde_json::json!(["fg"]);
    c["sub"] = "fg-1".into();
    hub.token(sector, &c)
}

fn hashes(v: &[Vec<u8>]) -> Vec<merkle::Hash> {
    v.iter()
        .map(|h| <[u8; 32]>::try_from(h.as_slice()).unwrap())
        .collect()
}

#[tokio::test]
async fn checkpoints_and_proofs_verify_for_anyone() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        some_activity(&hub, 3).await;
        hub_integrate(&hub).await;
        let mut c = hub.client("wijkteam").await;
        let cp1 = c.checkpoint().await.unwrap();
        let signed = signaalhub_client::signaalhub_proto::checkpoint::SignedCheckpoint::parse(
            cp1.note.as_bytes(),
        )
        .unwrap();
        let key: [u8; 32] = cp1.public_key.as_slice().try_into().unwrap();
        let keys = std::collections::HashMap::from([(cp1.key_id.clone(), key)]);
        let checked =
            signaalhub_client::signaalhub_proto::checkpoint::verify(&signed, &keys).unwrap();
        assert_eq!(checked.tree_size, cp1.tree_size);
        assert!(cp1.tree_size >= 3);
        let root1: merkle::Hash = cp1.root.as_slice().try_into().unwrap();
        for i in 0..cp1.tree_size {
            let p = c.inclusion_proof(i, cp1.tree_size).await.unwrap();
            let leaf: merkle::Hash = p.leaf_hash.as_slice().try_into().unwrap();
            merkle::verify_inclusion(&leaf, i, cp1.tree_size, &hashes(&p.proof), &root1).unwrap();
            assert!(
                merkle::verify_inclusion(
                    &leaf,
                    (i + 1) % cp1.tree_size,
                    cp1.tree_size,
                    &hashes(&p.proof),
                    &root1
                )
                .is_err()
                    || cp1.tree_size == 1
            );
        }
        // More activity, a newer checkpoint, consistent with the older one.
        some_activity(&hub, 2).await;
        hub_integrate(&hub).await;
        let cp2 = c.checkpoint().await.unwrap();
        assert!(cp2.tree_size > cp1.tree_size);
        let p = c
            .consistency_proof(cp1.tree_size, cp2.tree_size)
            .await
            .unwrap();
        let root2: merkle::Hash = cp2.root.as_slice().try_into().unwrap();
        merkle::verify_consistency(
            cp1.tree_size,
            cp2.tree_size,
            &root1,
            &root2,
            &hashes(&p.proof),
        )
        .unwrap();
        // Proofs beyond the newest checkpoint are refused with the field named.
        let e = c.inclusion_proof(0, cp2.tree_size + 100).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        hub.stop().await;
    }
}

async fn hub_integrate(hub: &TestHub) {
    let ledger = signaalhub_server::load_ledger(&hub.config, hub.store.clone()).unwrap();
    ledger.integrate_all().await.unwrap();
}

#[tokio::test]
async fn subject_access_report_for_the_fg_with_proofs_and_a_dutch_letter() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        some_activity(&hub, 2).await;
        // A professional who is not the FG is refused.
        let mut plain = hub.client("school").await;
        let e = plain.subject_access_report(CHILD).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
        let mut fg = hub
            .client_with_token("school", fg_token(&hub, "school"))
            .await;
        let r = fg.subject_access_report(CHILD).await.unwrap();
        let cpk = fg.checkpoint().await.unwrap();
        let trusted = std::collections::HashMap::from([(
            cpk.key_id.clone(),
            <[u8; 32]>::try_from(cpk.public_key.as_slice()).unwrap(),
        )]);
        assert_eq!(signaalhub_client::verify_report(&r, &trusted).unwrap(), 3);
        // A report whose entry was altered after the fact does not verify.
        let mut forged = r.clone();
        forged.entries[0].entry.as_mut().unwrap().entry[5] ^= 1;
        assert!(signaalhub_client::verify_report(&forged, &trusted).is_err());
        // Two consent records and the report itself.
        assert_eq!(
            r.entries.len(),
            3,
            "{:?}",
            r.entries
                .iter()
                .map(|e| e.entry.as_ref().unwrap().event.clone())
                .collect::<Vec<_>>()
        );
        let cp = r.checkpoint.unwrap();
        let root: merkle::Hash = cp.root.as_slice().try_into().unwrap();
        for pe in &r.entries {
            let e = pe.entry.as_ref().unwrap();
            let leaf = merkle::leaf_hash(&e.entry);
            merkle::verify_inclusion(
                &leaf,
                e.index,
                cp.tree_size,
                &hashes(&pe.inclusion_proof),
                &root,
            )
            .unwrap();
            // The entry holds no BSN.
            assert!(!String::from_utf8_lossy(&e.entry).contains(CHILD));
        }
        assert!(r.html_letter.contains("Overzicht") && r.html_letter.contains("inzageverzoek"));
        assert!(!r.html_letter.contains(CHILD) && !r.json.contains(CHILD));
        hub.stop().await;
    }
}

#[tokio::test]
async fn tampering_is_detected_by_log_verify_and_at_start_up() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        some_activity(&hub, 5).await;
        hub_integrate(&hub).await;
        let ledger = signaalhub_server::load_ledger(&hub.config, hub.store.clone()).unwrap();
        let ok = verify(&hub.store, &ledger.keys).await.unwrap();
        assert_eq!(ok.entries, 5);
        assert_eq!(ok.integrated, 5);

        // Change one entry: named.
        let change = if b == "postgres" {
            "UPDATE log_entries SET entry = convert_to(replace(convert_from(entry, 'UTF8'), 'consent_recorded', 'consent_withdrawn'), 'UTF8') WHERE idx = 2"
        } else {
            "UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'consent_recorded', 'consent_withdrawn') AS BLOB) WHERE idx = 2"
        };
        assert_eq!(hub.sql(change).await, 1);
        let e = verify(&hub.store, &ledger.keys)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("log entry 2 was changed"), "{e}");
        // And the hub refuses to start on it.
        let err = signaalhub_server::Hub::build(hub.config.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(err, signaalhub_server::StartError::Log(_)),
            "{err}"
        );
        assert_eq!(err.exit_code(), 65);
        hub.stop().await;
    }
}

#[tokio::test]
async fn deleting_entries_or_changing_tiles_or_checkpoints_is_detected() {
    for b in backends() {
        for attack in [
            "delete_entry",
            "tile",
            "checkpoint",
            "delete_checkpointed_tail",
        ] {
            let hub = TestHub::start(b).await;
            some_activity(&hub, 4).await;
            hub_integrate(&hub).await;
            let ledger = signaalhub_server::load_ledger(&hub.config, hub.store.clone()).unwrap();
            verify(&hub.store, &ledger.keys).await.unwrap();
            let sql = match attack {
                "delete_entry" => "DELETE FROM log_entries WHERE idx = 1",
                "delete_checkpointed_tail" => "DELETE FROM log_entries WHERE idx = 3",
                "tile" => {
                    "UPDATE log_tiles SET hashes = (SELECT entry FROM log_entries WHERE idx = 0) WHERE level = 0 AND idx = 0"
                }
                _ => {
                    "UPDATE log_checkpoints SET note = replace(note, 'verstrekkingenlog', 'verstrekkingenLOG')"
                }
            };
            assert!(hub.sql(sql).await >= 1, "{attack}");
            let e = verify(&hub.store, &ledger.keys).await;
            assert!(e.is_err(), "{attack} went unnoticed");
            hub.stop().await;
        }
    }
}
