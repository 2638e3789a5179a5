//! Pseudonym key versioning and the online re-key, on every backend: records written under key
//! version 1 stay reachable when version 2 is added, the re-key moves every stored pseudonym to
//! version 2 without losing anything (also while signals flow), the log still verifies, and a
//! key ring that does not fit the store stops the hub from starting.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, now};
use futures::StreamExt;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_server::ids::Pseudonymizer;
use signaalhub_server::ledger::LogEntry;
use signaalhub_server::rekey::RekeyOptions;
use signaalhub_server::store::testing::backends;
use std::collections::BTreeSet;
use std::time::Duration;

const CHILD: &str = "111222333";

/// Every column holding subject pseudonyms outside the log leaves: (table, column).
const COLUMNS: &[(&str, &str)] = &[
    ("consents", "subject"),
    ("maatregelen", "subject"),
    ("involvements", "subject"),
    ("involvement_persons", "person"),
    ("zorgmelding_subjects", "subject"),
    ("log_subject_index", "subject"),
    ("signals", "subjects"),
    ("zorgmelding_fragments", "subjects"),
    ("zorgmeldingen", "subjects"),
    ("handovers", "subjects"),
];

/// Adds key version `version` (a fresh 32-byte secret made of `byte`) to the hub's configuration.
fn add_key(hub: &mut TestHub, version: u32, byte: u8) {
    let dir = hub.config.pseudonym.key_file.parent().unwrap().to_owned();
    let path = dir.join(format!("pseudonym-{version}.key"));
    std::fs::write(&path, hex::encode([byte; 32])).unwrap();
    hub.config.pseudonym.rekey_files.push(path);
}

fn ring(hub: &TestHub) -> Pseudonymizer {
    signaalhub_server::load_pseudonym_ring(&hub.config).unwrap()
}

fn fg_token(hub: &TestHub) -> String {
    let mut c = hub.claims("school");
    c["roles"] = serde_json::json!(["fg"]);
    c["sub"] = "fg-1".into();
    hub.token("school", &c)
}

/// Both parents consent to the case parties learning of each other (recorded by the wijkteam;
/// both parties disclose under it).
async fn case_consent(hub: &TestHub) -> String {
    let parents = ["ouder-1", "ouder-2"];
    let mut req = common::consent_request(
        CHILD,
        9,
        &parents,
        &parents,
        &[pb::Sector::Wijkteam, pb::Sector::Jeugdbescherming],
        "casusafstemming",
        &["betrokkenheid"],
    );
    req.disclosers = req.recipients.clone();
    let mut c = hub.client("wijkteam").await;
    c.record_consent(req).await.unwrap().consent_id
}

async fn register(hub: &TestHub, sector: &str, consent: &str) -> pb::RegisterInvolvementResponse {
    let mut c = hub.client(sector).await;
    c.register_involvement(pb::RegisterInvolvementRequest {
        subject_bsn: CHILD.into(),
        contact_professional: format!("contact {sector}, 026-0000000"),
        basis: Some(pb::Basis {
            legal: None,
            consent_ids: vec![consent.into()],
        }),
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn send(hub: &TestHub, id: &str, basis: &pb::Basis) {
    let req = hub
        .signal(
            "school",
            &["wijkteam"],
            id,
            b"zorgen",
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
            CHILD,
            basis.clone(),
        )
        .await;
    let mut school = hub.client("school").await;
    let r = school.send_signal(req).await.unwrap();
    assert_eq!(
        r.deliveries[0].state,
        pb::DeliveryState::Pending as i32,
        "{id}: {:?}",
        r.deliveries
    );
}

/// The GI tells the wijkteam that a maatregel exists (flow `maatregel-antwoord`: only to an
/// involved recipient, decided again at delivery).
async fn gi_answer(hub: &TestHub, id: &str) {
    let basis = pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: "jeugdwet_informatie".into(),
            evidence: Some(pb::Evidence {
                maatregel_reference: "OTS-2026-0001".into(),
                ..Default::default()
            }),
        }),
        consent_ids: Vec::new(),
    };
    let req = hub
        .signal(
            "jeugdbescherming",
            &["wijkteam"],
            id,
            b"er loopt een OTS",
            "maatregel_afstemming",
            &["maatregel_bestaan"],
            CHILD,
            basis,
        )
        .await;
    let mut gi = hub.client("jeugdbescherming").await;
    let r = gi.send_signal(req).await.unwrap();
    assert_eq!(
        r.deliveries[0].state,
        pb::DeliveryState::Pending as i32,
        "{id}: {:?}",
        r.deliveries
    );
}

/// Reads the wijkteam's inbox until every id in `want` came (delivered: the policy allowed it
/// again at delivery); panics after 20 s without progress.
async fn receive_all(hub: &TestHub, want: &BTreeSet<String>) {
    let mut wijkteam = hub.client("wijkteam").await;
    let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
    let mut got = BTreeSet::new();
    while !want.is_subset(&got) {
        let item = tokio::time::timeout(Duration::from_secs(20), inbox.next())
            .await
            .expect("the inbox delivers within 20 s")
            .expect("the stream stays open")
            .unwrap();
        got.insert(item.signal_id);
    }
}

/// How many rows of `table` name the pseudonym `p` in `column`.
async fn rows_with(hub: &TestHub, table: &str, column: &str, p: &str) -> i64 {
    hub.sql_count(&format!(
        "SELECT COUNT(*) FROM {table} WHERE {column} LIKE '%{p}%'"
    ))
    .await
}

/// The log entries (by index) naming any of `pseudonyms` among their subjects.
async fn entries_about(hub: &TestHub, pseudonyms: &[String]) -> BTreeSet<u64> {
    let n = hub.store.log_size().await.unwrap();
    hub.store
        .log_range(0, n)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, b)| {
            LogEntry::from_bytes(b)
                .unwrap()
                .subjects
                .iter()
                .any(|s| pseudonyms.contains(s))
        })
        .map(|(i, _)| i)
        .collect()
}

/// The school FG's subject access report lists every entry about CHILD in which the school acted
/// or received (its own part, docs/ACCESS.md), under any key version, and verifies.
async fn report_is_complete(hub: &TestHub, pseudonyms: &[String], what: &str) {
    let mut fg = hub.client_with_token("school", fg_token(hub)).await;
    let r = fg.subject_access_report(CHILD).await.unwrap();
    let listed: BTreeSet<u64> = r
        .entries
        .iter()
        .map(|e| e.entry.as_ref().unwrap().index)
        .collect();
    let school = hub.org("school").info.oin.clone();
    let n = hub.store.log_size().await.unwrap();
    let own: BTreeSet<u64> = hub
        .store
        .log_range(0, n)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, b)| {
            let e = LogEntry::from_bytes(b).unwrap();
            e.actor_oin == school || e.recipient_oin.as_deref() == Some(school.as_str())
        })
        .map(|(i, _)| i)
        .collect();
    let expected: BTreeSet<u64> = entries_about(hub, pseudonyms)
        .await
        .intersection(&own)
        .copied()
        .collect();
    assert!(!expected.is_empty(), "{what}");
    assert_eq!(listed, expected, "{what}: the report lists every entry");
    let cpk = fg.checkpoint().await.unwrap();
    let trusted = std::collections::HashMap::from([(
        cpk.key_id.clone(),
        <[u8; 32]>::try_from(cpk.public_key.as_slice()).unwrap(),
    )]);
    assert_eq!(
        signaalhub_client::verify_report(&r, &trusted).unwrap(),
        expected.len(),
        "{what}"
    );
}

/// Everything written about CHILD is still found: the consented check, the consents, the
/// maatregel answer, a match with a new party.
async fn still_found(hub: &TestHub, basis: &pb::Basis, what: &str) {
    let mut school = hub.client("school").await;
    let d = school
        .check_basis(pb::CheckBasisRequest {
            recipient_oin: hub.org("wijkteam").info.oin.clone(),
            purpose: "vroegtijdige_ondersteuning".into(),
            categories: vec!["zorgen_thuissituatie".into()],
            subject_bsn: CHILD.into(),
            basis: Some(basis.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        d.outcome,
        pb::Outcome::Allow as i32,
        "{what}: {:?}",
        d.reasons
    );
    let listed = school.list_consents(CHILD, false).await.unwrap();
    assert_eq!(listed.len(), 2, "{what}: both consents listed");
    let mut wijkteam = hub.client("wijkteam").await;
    let answer = wijkteam.has_maatregel(CHILD).await.unwrap();
    assert!(answer.exists, "{what}: the maatregel is found");
}

fn state_sql(key: &str) -> String {
    format!("SELECT value FROM hub_meta WHERE key = '{key}'")
}

#[tokio::test]
async fn a_new_key_version_finds_everything_and_the_rekey_moves_it_all() {
    for b in backends() {
        let mut hub = TestHub::start(b).await;
        let v1 = ring(&hub);
        let child = v1.subject(&CHILD.parse().unwrap());
        let p1 = child.current().as_str().to_owned();
        assert_eq!(p1.len(), 64, "version 1 stays bare hex");

        // Written under version 1: consents, a delivered and a pending signal, an involvement,
        // a maatregel.
        let basis = hub.both_parents_consent(CHILD).await;
        let case = case_consent(&hub).await;
        register(&hub, "wijkteam", &case).await;
        let mut gi = hub.client("jeugdbescherming").await;
        gi.register_maatregel(pb::RegisterMaatregelRequest {
            subject_bsn: CHILD.into(),
            kind: pb::MaatregelKind::Ots as i32,
            ends_at: Some(prost_types::Timestamp {
                seconds: now() + 365 * 86400,
                nanos: 0,
            }),
            contact_point: "GI Arnhem, 026-1234567".into(),
            ..Default::default()
        })
        .await
        .unwrap();
        send(&hub, "before-1", &basis).await;
        receive_all(&hub, &BTreeSet::from(["before-1".to_string()])).await;
        send(&hub, "before-2", &basis).await;
        for (t, c) in [
            ("consents", "subject"),
            ("maatregelen", "subject"),
            ("involvements", "subject"),
            ("involvement_persons", "person"),
            ("log_subject_index", "subject"),
            ("signals", "subjects"),
        ] {
            assert!(rows_with(&hub, t, c, &p1).await > 0, "{b}: {t} holds v1");
        }

        // Version 2 added: the hub writes under it and finds everything written under 1.
        add_key(&mut hub, 2, 0x5a);
        let hub = hub.restart().await;
        assert_eq!(
            hub.sql_count(&state_sql("pseudonym_version")).await,
            2,
            "{b}"
        );
        assert_eq!(hub.sql_count(&state_sql("pseudonym_floor")).await, 1, "{b}");
        let v2 = ring(&hub);
        let both = v2.subject(&CHILD.parse().unwrap());
        let all: Vec<String> = both.all().iter().map(|p| p.as_str().to_owned()).collect();
        assert_eq!(all[0], p1, "{b}: version 1 unchanged by the new key");
        let p2 = all[1].clone();
        assert!(p2.starts_with("v2:"), "{b}");
        still_found(&hub, &basis, &format!("{b} mixed")).await;
        // A new party matches the involvement stored under version 1 (and its consent).
        let r = register(&hub, "jeugdbescherming", &case).await;
        let parties = r.case.expect("matched into a case").parties;
        assert!(
            parties
                .iter()
                .any(|p| p.organization_oin == hub.org("wijkteam").info.oin),
            "{b}: {parties:?}"
        );
        // The pending v1 signal is delivered, and so is a new one written under v2.
        send(&hub, "after-1", &basis).await;
        receive_all(
            &hub,
            &BTreeSet::from(["before-2".to_string(), "after-1".to_string()]),
        )
        .await;
        assert!(rows_with(&hub, "signals", "subjects", &p2).await > 0, "{b}");
        // A signal only an involved recipient may receive (the GI's maatregel answer), written
        // under v2 while the wijkteam's involvement is still stored under v1: delivery finds
        // the involvement through the older form recorded with the signal, by index.
        gi_answer(&hub, "gi-1").await;
        assert!(
            rows_with(&hub, "subject_forms", "form", &p2).await > 0,
            "{b}: the older form is recorded"
        );
        receive_all(&hub, &BTreeSet::from(["gi-1".to_string()])).await;
        report_is_complete(&hub, &all, &format!("{b} mixed")).await;

        // The re-key: nothing of version 1 is left outside the log leaves.
        let opts = RekeyOptions {
            batch_size: 2,
            settle: Duration::from_millis(10),
            max_passes: 3,
        };
        let mut batches = 0u32;
        let report = signaalhub_server::rekey::run(&hub.store, &v2, &opts, &mut |_, _| {
            batches += 1;
        })
        .await
        .unwrap();
        assert!(report.complete, "{b}: {report:?}");
        assert!(
            batches > COLUMNS.len() as u32,
            "{b}: several batches per table"
        );
        let moved: u64 = report.passes[0].iter().map(|t| t.moved).sum();
        assert!(moved >= 10, "{b}: {report:?}");
        for (t, c) in COLUMNS {
            assert_eq!(
                rows_with(&hub, t, c, &p1).await,
                0,
                "{b}: {t} still holds v1"
            );
            // No bare (version-1) value of anyone is left either.
            let bare = hub
                .sql_count(&format!(
                    "SELECT COUNT(*) FROM {t} WHERE {c} <> '[]' AND {c} NOT LIKE '%v2:%'"
                ))
                .await;
            assert_eq!(bare, 0, "{b}: {t}");
        }
        // The two school consents and the case consent.
        assert_eq!(rows_with(&hub, "consents", "subject", &p2).await, 3, "{b}");
        assert_eq!(hub.sql_count(&state_sql("pseudonym_floor")).await, 2, "{b}");
        // Running it again is a no-op.
        let again = signaalhub_server::rekey::run(&hub.store, &v2, &opts, &mut |_, _| {})
            .await
            .unwrap();
        assert!(again.complete);
        assert_eq!(again.passes.len(), 1);
        assert!(again.passes[0].iter().all(|t| t.moved == 0 && t.left == 0));

        // Everything is still found, the report still lists the old leaves (which keep v1).
        still_found(&hub, &basis, &format!("{b} re-keyed")).await;
        send(&hub, "after-2", &basis).await;
        receive_all(&hub, &BTreeSet::from(["after-2".to_string()])).await;
        report_is_complete(&hub, &all, &format!("{b} re-keyed")).await;
        let ledger = signaalhub_server::load_ledger(&hub.config, hub.store.clone()).unwrap();
        ledger.integrate_all().await.unwrap();
        signaalhub_server::ledger::integrator::verify(&hub.store, &ledger.keys)
            .await
            .unwrap();
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_key_ring_that_does_not_fit_the_store_stops_the_hub() {
    for b in backends() {
        let mut hub = TestHub::start(b).await;
        let original = hub.config.clone();
        // A second version with the same secret as the first is refused outright.
        let mut same = original.clone();
        same.pseudonym.rekey_files = vec![same.pseudonym.key_file.clone()];
        let e = signaalhub_server::load_pseudonym_ring(&same).unwrap_err();
        assert_eq!(e.key, "pseudonym.rekey_files", "{b}");
        // A missing key file names its key.
        let mut missing = original.clone();
        missing.pseudonym.rekey_files = vec!["/nonexistent/pseudonym-2.key".into()];
        let e = signaalhub_server::Hub::build(missing).await.unwrap_err();
        assert!(e.to_string().contains("pseudonym.rekey_files"), "{b}: {e}");
        assert_eq!(e.exit_code(), 64);

        add_key(&mut hub, 2, 0x11);
        let hub = hub.restart().await;
        let with_two = hub.config.clone();
        // Without version 2 the store is ahead of the ring: refused, naming the key.
        let e = signaalhub_server::Hub::build(original.clone())
            .await
            .unwrap_err();
        assert_eq!(e.exit_code(), 64, "{b}: {e}");
        let msg = e.to_string();
        assert!(
            msg.contains("pseudonym.rekey_files") && msg.contains("version 2"),
            "{b}: {msg}"
        );
        // A different secret for version 2 (or 1) than the store was written with: refused.
        let dir = original.pseudonym.key_file.parent().unwrap().to_owned();
        let other = dir.join("other.key");
        std::fs::write(&other, hex::encode([0x22u8; 32])).unwrap();
        let mut changed = with_two.clone();
        changed.pseudonym.rekey_files = vec![other.clone()];
        let e = signaalhub_server::Hub::build(changed).await.unwrap_err();
        assert!(
            e.to_string().contains("version 2 is not the key"),
            "{b}: {e}"
        );
        let mut changed_root = with_two.clone();
        changed_root.pseudonym.key_file = other;
        let e = signaalhub_server::Hub::build(changed_root)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("pseudonym.key_file"), "{b}: {e}");
        // A running instance whose ring the store outgrows (another instance starts with key
        // version 3) refuses every call from then on instead of answering from part of the data.
        let mut old = hub.client("school").await;
        let school_oin = hub.org("school").info.oin.clone();
        assert!(old.get_organization(&school_oin).await.is_ok(), "{b}");
        let three = dir.join("pseudonym-3.key");
        std::fs::write(&three, hex::encode([0x33u8; 32])).unwrap();
        let mut with_three = with_two.clone();
        with_three.pseudonym.rekey_files.push(three);
        let newer = hub.instance_with(|c| *c = with_three).await;
        let refused = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match old.get_organization(&school_oin).await {
                    Err(e) if e.code() == tonic::Code::Unavailable => break e,
                    _ => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        })
        .await
        .expect("the outgrown instance refuses within 10 s");
        assert!(refused.to_string().contains("version 3"), "{b}: {refused}");
        let mut fresh = hub.client_at("school", newer.addr).await;
        assert!(fresh.get_organization(&school_oin).await.is_ok(), "{b}");
        newer.stop().await;
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_rekey_while_signals_flow_loses_none() {
    for b in backends() {
        let mut hub = TestHub::start(b).await;
        let basis = hub.both_parents_consent(CHILD).await;
        // Written under version 1 and not yet delivered.
        let mut want = BTreeSet::new();
        for i in 0..12 {
            let id = format!("old-{i}");
            send(&hub, &id, &basis).await;
            want.insert(id);
        }
        add_key(&mut hub, 2, 0x77);
        let hub = std::sync::Arc::new(hub.restart().await);
        let v2 = ring(&hub);
        // Signals sent and delivered while the re-key runs in batches of 2.
        let sender = {
            let hub = std::sync::Arc::clone(&hub);
            let basis = basis.clone();
            tokio::spawn(async move {
                let mut ids = BTreeSet::new();
                for i in 0..12 {
                    let id = format!("new-{i}");
                    send(&hub, &id, &basis).await;
                    ids.insert(id);
                }
                ids
            })
        };
        let receiver = {
            let hub = std::sync::Arc::clone(&hub);
            let want = want.clone();
            tokio::spawn(async move { receive_all(&hub, &want).await })
        };
        let opts = RekeyOptions {
            batch_size: 2,
            settle: Duration::from_millis(50),
            max_passes: 10,
        };
        let report = signaalhub_server::rekey::run(&hub.store, &v2, &opts, &mut |_, _| {})
            .await
            .unwrap();
        let new_ids = sender.await.unwrap();
        receiver.await.unwrap();
        assert!(report.complete, "{b}: {report:?}");
        // Every signal, old and new, is delivered (none withheld), and found again by id.
        want.extend(new_ids);
        receive_all(&hub, &want).await;
        let mut school = hub.client("school").await;
        for id in &want {
            let g = school
                .get_signal(&hub.org("school").info.oin, id)
                .await
                .unwrap();
            assert_ne!(
                g.deliveries[0].state,
                pb::DeliveryState::Withheld as i32,
                "{b}: {id}"
            );
        }
        assert_eq!(
            hub.store.pseudonyms_behind(2).await.unwrap().total(),
            0,
            "{b}"
        );
        let ledger = signaalhub_server::load_ledger(&hub.config, hub.store.clone()).unwrap();
        ledger.integrate_all().await.unwrap();
        signaalhub_server::ledger::integrator::verify(&hub.store, &ledger.keys)
            .await
            .unwrap();
        match std::sync::Arc::try_unwrap(hub) {
            Ok(h) => h.stop().await,
            Err(_) => panic!("the hub is still shared"),
        }
    }
}
