//! Several hub instances on one database: concurrent appends through both are one verifiable
//! log, a stream on one receives what was sent through the other, and rotating the checkpoint
//! key on a new instance mid-traffic loses nothing and keeps every checkpoint verifiable.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::TestHub;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_server::store::testing::backends;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio_stream::StreamExt;

const CHILD: &str = "111222333";

async fn request(hub: &TestHub, id: &str, basis: pb::Basis) -> pb::SendSignalRequest {
    hub.signal(
        "school",
        &["wijkteam"],
        id,
        b"zorgen over de thuissituatie",
        "vroegtijdige_ondersteuning",
        &["zorgen_thuissituatie"],
        CHILD,
        basis,
    )
    .await
}

/// Receives (and acknowledges) until `want` distinct signal ids arrived.
async fn receive_all(
    client: &mut signaalhub_client::HubClient,
    inbox: &mut tonic::Streaming<pb::StreamInboxResponse>,
    want: usize,
) -> BTreeSet<String> {
    let mut got = BTreeSet::new();
    while got.len() < want {
        let item = tokio::time::timeout(Duration::from_secs(15), inbox.next())
            .await
            .expect("every signal within 15 s")
            .unwrap()
            .unwrap();
        client
            .ack_signal(&item.sender_oin, &item.signal_id)
            .await
            .unwrap();
        got.insert(item.signal_id);
    }
    got
}

async fn verify(
    hub: &TestHub,
    config: &signaalhub_server::config::Config,
) -> signaalhub_server::ledger::integrator::VerifyReport {
    let ledger = signaalhub_server::load_ledger(config, hub.store.clone()).unwrap();
    ledger.integrate_all().await.unwrap();
    signaalhub_server::ledger::integrator::verify(&hub.store, &ledger.keys)
        .await
        .unwrap()
}

#[tokio::test]
async fn concurrent_sends_through_two_instances_are_one_log_and_reach_one_stream() {
    if !backends().contains(&"postgres") {
        return;
    }
    let hub = TestHub::start("postgres").await;
    let other = hub.instance_with(|_| {}).await;
    let basis = hub.both_parents_consent(CHILD).await;
    // The wijkteam streams from the second instance only.
    let mut wijkteam = hub.client_at("wijkteam", other.addr).await;
    let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
    const EACH: usize = 8;
    let mut reqs = Vec::new();
    for i in 0..EACH {
        reqs.push((0, request(&hub, &format!("one-{i}"), basis.clone()).await));
        reqs.push((1, request(&hub, &format!("two-{i}"), basis.clone()).await));
    }
    let mut school = [
        hub.client("school").await,
        hub.client_at("school", other.addr).await,
    ];
    // Both instances append at the same time.
    let mut tasks = Vec::new();
    for (which, req) in reqs {
        let mut c = school[which].clone();
        tasks.push(tokio::spawn(async move { c.send_signal(req).await }));
    }
    for t in tasks {
        assert!(!t.await.unwrap().unwrap().duplicate);
    }
    let got = receive_all(&mut wijkteam, &mut inbox, 2 * EACH).await;
    assert_eq!(got.len(), 2 * EACH);
    assert!(got.iter().any(|s| s.starts_with("one-")) && got.iter().any(|s| s.starts_with("two-")));
    drop(inbox);
    // One log: 2 consents + per signal one sent and one delivered entry, no gap, no fork.
    let size = hub.store.log_size().await.unwrap();
    assert_eq!(size, 2 + 4 * EACH as u64);
    school[0].who_am_i().await.unwrap();
    other.stop().await;
    let report = verify(&hub, &hub.config).await;
    assert_eq!(report.entries, size);
    assert_eq!(report.integrated, size);
    hub.stop().await;
}

/// The newest checkpoint signed with `key_id`, waiting up to 10 s for one.
async fn checkpoint_by(
    client: &mut signaalhub_client::HubClient,
    key_id: &str,
) -> pb::GetCheckpointResponse {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(c) = client.checkpoint().await
            && c.key_id == key_id
            && c.tree_size > 0
        {
            return c;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no checkpoint signed by {key_id} within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn rotating_the_checkpoint_key_mid_traffic_loses_nothing_and_old_checkpoints_verify() {
    // A rolling restart needs two instances on one database: a PostgreSQL deployment. SQLite is
    // one embedded instance (two processes writing one file can refuse each other's deferred
    // transactions); there the rotation is a plain restart with the same settings.
    for b in backends().into_iter().filter(|b| *b == "postgres") {
        let hub = TestHub::start(b).await;
        // Two instances; the wijkteam streams from the second throughout.
        let second = hub.instance_with(|_| {}).await;
        let basis = hub.both_parents_consent(CHILD).await;
        let mut wijkteam = hub.client_at("wijkteam", second.addr).await;
        let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
        let mut school = hub.client("school").await;
        for i in 0..3 {
            school
                .send_signal(request(&hub, &format!("before-{i}"), basis.clone()).await)
                .await
                .unwrap();
        }
        let old = checkpoint_by(&mut school, "test-hub-1").await;

        // Rolling rotation: a new key, the old one kept as old; first instance one restarts.
        let dir = tempfile::tempdir().unwrap();
        let (pkcs8, _) = signaalhub_server::devkit::ed25519_keypair().unwrap();
        let key_file = dir.path().join("ckpt-2.pem");
        std::fs::write(
            &key_file,
            signaalhub_server::devkit::pem("PRIVATE KEY", &pkcs8),
        )
        .unwrap();
        let old_key = format!("test-hub-1={}", hex::encode(&old.public_key));
        let rotate = |c: &mut signaalhub_server::config::Config| {
            c.log.checkpoint_key_file = key_file.clone();
            c.log.checkpoint_key_id = "test-hub-2".into();
            c.log.old_checkpoint_keys = vec![old_key.clone()];
        };
        let mut hub = hub;
        rotate(&mut hub.config);
        let hub = hub.restart().await;
        let mut school = hub.client("school").await;
        for i in 0..3 {
            school
                .send_signal(request(&hub, &format!("during-{i}"), basis.clone()).await)
                .await
                .unwrap();
        }
        let mut got = receive_all(&mut wijkteam, &mut inbox, 6).await;
        // Then the second instance: its stream ends, the client reconnects to the new one.
        second.stop().await;
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(_)) = inbox.next().await {}
        })
        .await;
        assert!(ended.is_ok(), "the drained instance ended the stream");
        let second = hub.instance_with(rotate).await;
        let mut wijkteam = hub.client_at("wijkteam", second.addr).await;
        let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
        for i in 0..3 {
            school
                .send_signal(request(&hub, &format!("after-{i}"), basis.clone()).await)
                .await
                .unwrap();
        }
        got.extend(receive_all(&mut wijkteam, &mut inbox, 3).await);
        // Nothing sent before, during or after the rotation is lost.
        assert_eq!(got.len(), 9, "{got:?}");
        drop(inbox);

        // The checkpoint under the new key extends the one under the old key (consistency).
        let new = checkpoint_by(&mut school, "test-hub-2").await;
        assert!(new.tree_size > old.tree_size);
        // The reply publishes every checkpoint key, the retired one too, so the old checkpoint
        // verifies with nothing but what the hub publishes now.
        assert_eq!(
            new.keys.first().map(|k| (k.key_id.as_str(), k.current)),
            Some(("test-hub-2", true))
        );
        let published: std::collections::HashMap<String, [u8; 32]> = new
            .keys
            .iter()
            .map(|k| {
                (
                    k.key_id.clone(),
                    k.public_key.as_slice().try_into().unwrap(),
                )
            })
            .collect();
        assert!(
            new.keys
                .iter()
                .any(|k| k.key_id == "test-hub-1" && !k.current)
        );
        signaalhub_client::signaalhub_proto::checkpoint::verify_note(
            old.note.as_bytes(),
            &published,
        )
        .unwrap();
        let proof = school
            .consistency_proof(old.tree_size, new.tree_size)
            .await
            .unwrap();
        let hash = |b: &[u8]| -> [u8; 32] { b.try_into().unwrap() };
        let proof: Vec<[u8; 32]> = proof.proof.iter().map(|p| hash(p)).collect();
        signaalhub_client::signaalhub_proto::merkle::verify_consistency(
            old.tree_size,
            new.tree_size,
            &hash(&old.root),
            &hash(&new.root),
            &proof,
        )
        .unwrap();
        second.stop().await;
        // Every checkpoint, signed by either key, verifies with the rotated configuration...
        let report = verify(&hub, &hub.config).await;
        assert!(report.checkpoints >= 2);
        // ...and without the old key the early checkpoints do not: the setting matters.
        let mut forgetful = hub.config.clone();
        forgetful.log.old_checkpoint_keys.clear();
        let ledger = signaalhub_server::load_ledger(&forgetful, hub.store.clone()).unwrap();
        assert!(
            signaalhub_server::ledger::integrator::verify(&hub.store, &ledger.keys)
                .await
                .is_err()
        );
        hub.stop().await;
    }
}
