//! The disclosure log end to end: checkpoints and proofs through the hub, subject access reports,
//! and tampering detected by `log verify` and by the hub at start-up.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, now};
use signaalhub_client::signaalhub_proto::{merkle, pb};
use signaalhub_server::ledger::integrator::{verify, verify_and_record};
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
        assert!(
            r.html_letter
                .contains("Welke gegevens over u zijn gedeeld?")
                && r.html_letter.contains("AVG, artikel 15")
        );
        assert!(!r.html_letter.contains(CHILD) && !r.json.contains(CHILD));
        hub.stop().await;
    }
}

/// `UPDATE` that changes the event of log entry `idx` (its bytes still parse).
fn change_entry(backend: &str, idx: u64) -> String {
    if backend == "postgres" {
        format!(
            "UPDATE log_entries SET entry = convert_to(replace(convert_from(entry, 'UTF8'), 'consent_recorded', 'consent_withdrawn'), 'UTF8') WHERE idx = {idx}"
        )
    } else {
        format!(
            "UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'consent_recorded', 'consent_withdrawn') AS BLOB) WHERE idx = {idx}"
        )
    }
}

/// Whether the hub starts on its database as it is now (the start-up check passes).
async fn starts(hub: &TestHub) -> Result<(), signaalhub_server::StartError> {
    let built = signaalhub_server::Hub::build(hub.config.clone()).await?;
    built.store().close().await;
    Ok(())
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

        // Change one entry: named. (`verify` alone records nothing: the entries were never
        // verified as far as the start-up check knows.)
        assert_eq!(hub.sql(&change_entry(b, 2)).await, 1);
        let e = verify(&hub.store, &ledger.keys)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("log entry 2 was changed"), "{e}");
        // And the hub refuses to start on it.
        let err = starts(&hub).await.unwrap_err();
        assert!(
            matches!(err, signaalhub_server::StartError::Log(_)),
            "{err}"
        );
        assert!(err.to_string().contains("log entry 2 was changed"), "{err}");
        assert_eq!(err.exit_code(), 65);
        hub.stop().await;
    }
}

/// Which check finds a change (docs/SECURITY.md, "Tampering").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// The start-up check: the hub refuses to start (exit 65); `log verify` names it too.
    AtStartUp,
    /// Below the last verified size, so not read at start: only `log verify` names it.
    ByLogVerify,
}

#[tokio::test]
async fn deleting_entries_or_changing_tiles_or_checkpoints_is_detected() {
    for b in backends() {
        for (attack, found) in [
            ("change_verified_entry", Found::ByLogVerify),
            ("delete_entry", Found::ByLogVerify),
            ("older_checkpoint", Found::ByLogVerify),
            ("change_entry_since", Found::AtStartUp),
            ("delete_checkpointed_tail", Found::AtStartUp),
            ("tile", Found::AtStartUp),
            ("delete_tile", Found::AtStartUp),
            ("checkpoint", Found::AtStartUp),
            ("newest_checkpoint", Found::AtStartUp),
            ("delete_newest_checkpoint", Found::AtStartUp),
        ] {
            let hub = TestHub::start(b).await;
            // Two checkpoints, then a scheduled `log verify` (recorded), then one entry more.
            some_activity(&hub, 2).await;
            hub_integrate(&hub).await;
            some_activity(&hub, 2).await;
            hub_integrate(&hub).await;
            let ledger = signaalhub_server::load_ledger(&hub.config, hub.store.clone()).unwrap();
            let verified = verify_and_record(&hub.store, &ledger.keys).await.unwrap();
            assert_eq!(verified.integrated, 4);
            some_activity(&hub, 1).await;
            hub_integrate(&hub).await;
            let sql = match attack {
                "change_verified_entry" => change_entry(b, 2),
                "change_entry_since" => change_entry(b, 4),
                "delete_entry" => "DELETE FROM log_entries WHERE idx = 1".into(),
                "delete_checkpointed_tail" => "DELETE FROM log_entries WHERE idx = 4".into(),
                "tile" => "UPDATE log_tiles SET hashes = (SELECT entry FROM log_entries WHERE idx = 0) WHERE level = 0 AND idx = 0".into(),
                "delete_tile" => "DELETE FROM log_tiles WHERE level = 0 AND idx = 0".into(),
                "older_checkpoint" => "UPDATE log_checkpoints SET note = replace(note, 'verstrekkingenlog', 'verstrekkingenLOG') WHERE tree_size = (SELECT MIN(tree_size) FROM log_checkpoints)".into(),
                "newest_checkpoint" => "UPDATE log_checkpoints SET note = replace(note, 'verstrekkingenlog', 'verstrekkingenLOG') WHERE tree_size = (SELECT MAX(tree_size) FROM log_checkpoints)".into(),
                "delete_newest_checkpoint" => "DELETE FROM log_checkpoints WHERE tree_size = (SELECT MAX(tree_size) FROM log_checkpoints)".into(),
                _ => "UPDATE log_checkpoints SET note = replace(note, 'verstrekkingenlog', 'verstrekkingenLOG')".into(),
            };
            assert!(hub.sql(&sql).await >= 1, "{attack}");
            // `log verify` finds every one, and records nothing.
            let e = verify_and_record(&hub.store, &ledger.keys).await;
            assert!(e.is_err(), "{b}/{attack} went unnoticed by log verify");
            // The start-up check finds those after the verified size and under the newest root.
            match (found, starts(&hub).await) {
                (Found::AtStartUp, Err(err)) => {
                    assert_eq!(err.exit_code(), 65, "{b}/{attack}: {err}")
                }
                (Found::ByLogVerify, Ok(())) => {}
                (f, r) => panic!("{b}/{attack}: expected {f:?}, start-up gave {r:?}"),
            }
            hub.stop().await;
        }
    }
}

#[tokio::test]
async fn an_entry_changed_after_it_was_verified_is_never_reported() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        some_activity(&hub, 3).await;
        hub_integrate(&hub).await;
        let ledger = signaalhub_server::load_ledger(&hub.config, hub.store.clone()).unwrap();
        verify_and_record(&hub.store, &ledger.keys).await.unwrap();
        // The start-up check no longer reads entry 1: the hub starts on it...
        assert_eq!(hub.sql(&change_entry(b, 1)).await, 1);
        let hub = hub.restart().await;
        // ...but the family's report that would show it is refused, whole.
        let mut fg = hub
            .client_with_token("school", fg_token(&hub, "school"))
            .await;
        let e = fg.subject_access_report(CHILD).await.unwrap_err();
        assert_eq!(e.code(), Code::Unavailable, "{e}");
        assert!(e.to_string().contains("log verify"), "{e}");
        // And the scheduled `log verify` names it.
        let e = verify_and_record(&hub.store, &ledger.keys)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("log entry 1 was changed"), "{e}");
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_tile_changed_while_the_hub_runs_is_never_signed_or_reported() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        some_activity(&hub, 3).await;
        hub_integrate(&hub).await;
        // The right-edge leaf tile, with the hub running: integration will not sign over it,
        // so the report (which integrates its own entry first) is refused.
        let sql = if b == "postgres" {
            "UPDATE log_tiles SET hashes = overlay(hashes placing decode(repeat('00', 32), 'hex') from 33 for 32) WHERE level = 0 AND idx = 0"
        } else {
            "UPDATE log_tiles SET hashes = substr(hashes, 1, 32) || zeroblob(32) || substr(hashes, 65) WHERE level = 0 AND idx = 0"
        };
        assert_eq!(hub.sql(sql).await, 1);
        let mut fg = hub
            .client_with_token("school", fg_token(&hub, "school"))
            .await;
        let e = fg.subject_access_report(CHILD).await.unwrap_err();
        assert_eq!(e.code(), Code::Unavailable, "{e}");
        let ledger = signaalhub_server::load_ledger(&hub.config, hub.store.clone()).unwrap();
        let e = ledger.integrate_all().await.unwrap_err().to_string();
        assert!(e.contains("not signing a new checkpoint"), "{e}");
        assert!(starts(&hub).await.is_err());
        hub.stop().await;
    }
}
