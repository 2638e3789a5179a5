//! Consent-gated, end-to-end encrypted signals through the running hub, on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::TestHub;
use signaalhub_client::envelope;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ClientError, HubClient};
use signaalhub_server::store::testing::backends;
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::Code;

const CHILD: &str = "111222333";
const PAYLOAD: &[u8] =
    b"Leerling (9) is al weken stil en heeft blauwe plekken; ouders zijn ingelicht.";

async fn school_signal(hub: &TestHub, id: &str, basis: pb::Basis) -> pb::SendSignalRequest {
    hub.signal(
        "school",
        &["wijkteam"],
        id,
        PAYLOAD,
        "vroegtijdige_ondersteuning",
        &["zorgen_thuissituatie"],
        CHILD,
        basis,
    )
    .await
}

/// The school's signal as [`school_signal`] with another payload.
async fn school_signal_with(
    hub: &TestHub,
    id: &str,
    basis: pb::Basis,
    payload: &[u8],
) -> pb::SendSignalRequest {
    hub.signal(
        "school",
        &["wijkteam"],
        id,
        payload,
        "vroegtijdige_ondersteuning",
        &["zorgen_thuissituatie"],
        CHILD,
        basis,
    )
    .await
}

async fn next(stream: &mut tonic::Streaming<pb::StreamInboxResponse>) -> pb::StreamInboxResponse {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an inbox item within 10 s")
        .unwrap()
        .unwrap()
}

async fn sender_key(c: &mut HubClient, oin: &str, kid: &str) -> [u8; 32] {
    let o = c.get_organization(oin).await.unwrap();
    o.signing_keys
        .iter()
        .find(|k| k.key_id == kid)
        .unwrap()
        .public_key
        .as_slice()
        .try_into()
        .unwrap()
}

fn state(r: &pb::GetSignalResponse) -> i32 {
    r.deliveries[0].state
}

#[tokio::test]
async fn school_signal_reaches_the_wijkteam_live_and_opens_only_there() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let basis = hub.both_parents_consent(CHILD).await;
        let mut wijkteam = hub.client("wijkteam").await;
        let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
        let mut school = hub.client("school").await;
        let req = school_signal(&hub, "sig-1", basis).await;
        let sent = school.send_signal(req.clone()).await.unwrap();
        assert!(!sent.duplicate);
        assert_eq!(sent.deliveries[0].state, pb::DeliveryState::Pending as i32);

        let item = next(&mut inbox).await;
        assert_eq!(item.signal_id, "sig-1");
        assert_eq!(item.sender_oin, hub.org("school").info.oin);
        let env = item.envelope.unwrap();
        let key = sender_key(&mut wijkteam, &env.sender_oin, &env.sender_signing_key_id).await;
        assert_eq!(
            envelope::open(&env, &hub.secrets("wijkteam"), &key).unwrap(),
            PAYLOAD
        );
        // Nobody else can open it, not even with a valid key of their own.
        assert!(envelope::open(&env, &hub.secrets("politie"), &key).is_err());
        wijkteam
            .ack_signal(&item.sender_oin, &item.signal_id)
            .await
            .unwrap();
        let g = school.get_signal(&item.sender_oin, "sig-1").await.unwrap();
        assert_eq!(state(&g), pb::DeliveryState::Acknowledged as i32);
        assert!(
            g.envelope.is_none(),
            "the sender's view carries no envelope"
        );
        // The recipient may read it again; that read is logged.
        let before = hub.store.log_size().await.unwrap();
        let mine = wijkteam
            .get_signal(&item.sender_oin, "sig-1")
            .await
            .unwrap();
        assert!(mine.envelope.is_some());
        assert_eq!(hub.store.log_size().await.unwrap(), before + 1);

        // A retry is answered as the first time, and delivers nothing twice: the same bytes, or
        // the same content sealed again (the same content digest).
        let again = school.send_signal(req.clone()).await.unwrap();
        assert!(again.duplicate);
        let resealed = school_signal(&hub, "sig-1", req.basis.clone().unwrap()).await;
        assert_ne!(resealed.envelope, req.envelope);
        assert!(school.send_signal(resealed).await.unwrap().duplicate);
        // The same id with other content is refused.
        let other =
            school_signal_with(&hub, "sig-1", req.basis.clone().unwrap(), b"iets anders").await;
        assert_eq!(
            school.send_signal(other).await.unwrap_err().code(),
            Code::AlreadyExists
        );
        // Another organisation cannot read the signal.
        let mut politie = hub.client("politie").await;
        assert_eq!(
            politie
                .get_signal(&item.sender_oin, "sig-1")
                .await
                .unwrap_err()
                .code(),
            Code::NotFound
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn withdrawn_consent_holds_back_what_was_not_delivered() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let basis = hub.both_parents_consent(CHILD).await;
        let mut school = hub.client("school").await;
        school
            .send_signal(school_signal(&hub, "sig-w", basis.clone()).await)
            .await
            .unwrap();
        // Before the wijkteam connects, one parent withdraws.
        let w = school
            .withdraw_consent(&basis.consent_ids[1], "ouder-2")
            .await
            .unwrap();
        assert_eq!(w.signals_withheld, 1);
        let g = school
            .get_signal(&hub.org("school").info.oin, "sig-w")
            .await
            .unwrap();
        assert_eq!(state(&g), pb::DeliveryState::Withheld as i32);
        assert_eq!(g.deliveries[0].reasons[0].code, "CONSENT_WITHDRAWN");
        // The wijkteam's inbox stays empty; a new signal on the remaining consent is refused.
        let mut wijkteam = hub.client("wijkteam").await;
        let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(700), inbox.next())
                .await
                .is_err()
        );
        let e = school
            .send_signal(school_signal(&hub, "sig-w2", basis).await)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
        hub.stop().await;
    }
}

#[tokio::test]
async fn gp_meldcode_signal_goes_to_veilig_thuis_and_is_refused_towards_the_wijkteam() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let basis = pb::Basis {
            legal: Some(pb::LegalBasis {
                basis: "meldrecht".into(),
                evidence: Some(pb::Evidence {
                    meldcode_steps_completed: vec![1, 2, 3, 4],
                    afwegingskader: pb::Afwegingskader::StructureleOnveiligheid as i32,
                    client_informed: Some(false),
                    client_not_informed_reason: "veiligheid_kind".into(),
                    ..Default::default()
                }),
            }),
            consent_ids: vec![],
        };
        let mut gp = hub.client("huisarts").await;
        let req = hub.gp_report("melding-1", CHILD, basis.clone()).await;
        gp.send_signal(req).await.unwrap();
        let mut vt = hub.client("veilig_thuis").await;
        let mut inbox = vt.stream_inbox(0).await.unwrap();
        assert_eq!(next(&mut inbox).await.signal_id, "melding-1");
        let g = gp
            .get_signal(&hub.org("huisarts").info.oin, "melding-1")
            .await
            .unwrap();
        assert_eq!(
            state(&g),
            pb::DeliveryState::Delivered as i32,
            "{:?}",
            g.deliveries
        );

        let size_before = hub.store.log_size().await.unwrap();
        let mut req = hub
            .signal(
                "huisarts",
                &["wijkteam"],
                "melding-2",
                b"x",
                "melding_veilig_thuis",
                &["gezondheid"],
                CHILD,
                basis,
            )
            .await;
        req.subject = Some(pb::SubjectFacts {
            age_years: Some(4),
            age_band: 0,
            gezag_holders: vec!["ouder-1".into()],
        });
        let Err(ClientError::Status(s)) = gp.send_signal(req).await else {
            panic!("must be refused")
        };
        assert_eq!(s.code(), Code::PermissionDenied);
        assert!(
            s.message().contains("MELDRECHT_ONLY_TO_VEILIG_THUIS"),
            "{}",
            s.message()
        );
        // The refusal is logged.
        assert_eq!(hub.store.log_size().await.unwrap(), size_before + 1);
        hub.stop().await;
    }
}

#[tokio::test]
async fn rent_arrears_signal_without_consent_and_refused_with_health_data() {
    for b in backends() {
        let hub = TestHub::start(b).await;
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
        let adult = Some(pb::SubjectFacts {
            age_years: Some(34),
            age_band: 0,
            gezag_holders: vec![],
        });
        let mut corp = hub.client("woningcorporatie").await;
        let mut req = hub
            .signal(
                "woningcorporatie",
                &["wijkteam"],
                "huur-1",
                b"3 maanden achterstand",
                "vroegsignalering_schulden",
                &["betalingsachterstand"],
                "123456782",
                basis.clone(),
            )
            .await;
        req.subject = adult.clone();
        corp.send_signal(req).await.unwrap();
        let mut req = hub
            .signal(
                "woningcorporatie",
                &["wijkteam"],
                "huur-2",
                b"x",
                "vroegsignalering_schulden",
                &["betalingsachterstand", "gezondheid"],
                "123456782",
                basis,
            )
            .await;
        req.subject = adult;
        assert_eq!(
            corp.send_signal(req).await.unwrap_err().code(),
            Code::PermissionDenied
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn envelopes_that_do_not_match_the_request_are_refused() {
    let hub = TestHub::start("sqlite").await;
    let basis = hub.both_parents_consent(CHILD).await;
    let mut school = hub.client("school").await;
    let good = school_signal(&hub, "sig-e", basis.clone()).await;
    // Metadata changed after sealing: purpose in the request differs from the bound one.
    let mut r = good.clone();
    r.purpose = "melding_veilig_thuis".into();
    let e = school.send_signal(r).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    // A forged signature.
    let mut r = good.clone();
    r.envelope.as_mut().unwrap().signature[0] ^= 1;
    let Err(ClientError::Status(s)) = school.send_signal(r).await else {
        panic!()
    };
    assert!(s.message().contains("signature"), "{}", s.message());
    // Sealed to someone who is not a recipient.
    let mut r = good.clone();
    r.recipient_oins = vec![hub.org("veilig_thuis").info.oin.clone()];
    assert_eq!(
        school.send_signal(r).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    // Sealed two days ago, or in the future beyond clock skew, or at 0 (signed properly).
    for at in [common::now() - 2 * 86_400, common::now() + 3_600, 0] {
        let mut r = good.clone();
        let env = r.envelope.as_mut().unwrap();
        env.binding.as_mut().unwrap().created_at_unix = at;
        let key = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(
            &hub.org("school").signing_pkcs8,
        )
        .unwrap();
        env.signature = key
            .sign(&signaalhub_client::signaalhub_proto::envelope::signing_input(env))
            .as_ref()
            .to_vec();
        let Err(ClientError::Status(s)) = school.send_signal(r).await else {
            panic!("an envelope sealed at {at} was accepted")
        };
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(
            s.message().contains("envelope.binding.created_at_unix"),
            "{}",
            s.message()
        );
    }
    // No envelope at all.
    let mut r = good;
    r.envelope = None;
    assert_eq!(
        school.send_signal(r).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    hub.stop().await;
}

#[tokio::test]
async fn sender_withdraws_before_delivery() {
    let hub = TestHub::start("sqlite").await;
    let basis = hub.both_parents_consent(CHILD).await;
    let mut school = hub.client("school").await;
    school
        .send_signal(school_signal(&hub, "sig-r", basis).await)
        .await
        .unwrap();
    let mut wijkteam = hub.client("wijkteam").await;
    let school_oin = hub.org("school").info.oin.clone();
    // Before delivery the intended recipient learns nothing of it, not even that it exists...
    let e = wijkteam.get_signal(&school_oin, "sig-r").await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e}");
    let w = school.withdraw_signal("sig-r").await.unwrap();
    assert_eq!(w.deliveries[0].state, pb::DeliveryState::Withdrawn as i32);
    let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(700), inbox.next())
            .await
            .is_err()
    );
    // ...nor after it was withdrawn: a recipient sees only what was delivered to it.
    let e = wijkteam.get_signal(&school_oin, "sig-r").await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e}");
    hub.stop().await;
}

#[tokio::test]
async fn restart_mid_stream_loses_nothing_and_old_keys_still_open() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let basis = hub.both_parents_consent(CHILD).await;
        let mut school = hub.client("school").await;
        for i in 0..3 {
            school
                .send_signal(school_signal(&hub, &format!("sig-{i}"), basis.clone()).await)
                .await
                .unwrap();
        }
        let mut wijkteam = hub.client("wijkteam").await;
        let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
        let first = next(&mut inbox).await;
        wijkteam
            .ack_signal(&first.sender_oin, &first.signal_id)
            .await
            .unwrap();
        let second = next(&mut inbox).await; // received, not acknowledged
        drop(inbox);
        // The wijkteam rotates its encryption key; the hub restarts.
        let hub = hub.restart().await;
        let mut wijkteam = hub.client("wijkteam").await;
        let mut inbox = wijkteam.stream_inbox(first.cursor).await.unwrap();
        let again = next(&mut inbox).await;
        assert_eq!(
            again.signal_id, second.signal_id,
            "an unacknowledged item comes again"
        );
        let third = next(&mut inbox).await;
        assert_eq!(third.signal_id, "sig-2");
        let env = third.envelope.unwrap();
        let key = sender_key(&mut wijkteam, &env.sender_oin, &env.sender_signing_key_id).await;
        // Secrets holding the old key (and a new one) still open what was sealed to the old one.
        let mut secrets = hub.secrets("wijkteam");
        secrets.add_key("wijkteam-enc-2", [9u8; 32]);
        assert_eq!(envelope::open(&env, &secrets, &key).unwrap(), PAYLOAD);
        hub.stop().await;
    }
}

#[tokio::test]
async fn the_database_holds_no_bsn_and_no_plaintext() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let basis = hub.both_parents_consent(CHILD).await;
        let mut school = hub.client("school").await;
        school
            .send_signal(school_signal(&hub, "sig-db", basis).await)
            .await
            .unwrap();
        let mut wijkteam = hub.client("wijkteam").await;
        let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
        next(&mut inbox).await;
        drop(inbox);
        let hay = match &hub.store {
            // Every byte of the database file and its write-ahead log.
            signaalhub_server::store::Store::Sqlite { .. } => {
                let path = hub.config.database_target();
                let mut bytes = std::fs::read(&path).unwrap();
                if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                    bytes.extend(wal);
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }
            // Every row of every table, as text (bytea as hex and as escaped text).
            signaalhub_server::store::Store::Postgres(p) => {
                let tables: Vec<String> = sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'")
                    .fetch_all(p)
                    .await
                    .unwrap();
                assert!(tables.len() > 5);
                let mut all = String::new();
                for t in tables {
                    let rows: Vec<String> =
                        sqlx::query_scalar(&format!("SELECT t::text FROM {t} t"))
                            .fetch_all(p)
                            .await
                            .unwrap();
                    for r in rows {
                        all.push_str(&r);
                        // bytea columns print as hex: decode them too.
                        for part in r.split("\\x") {
                            let hexpart: String =
                                part.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
                            if let Ok(bytes) = hex::decode(&hexpart[..hexpart.len() / 2 * 2]) {
                                all.push_str(&String::from_utf8_lossy(&bytes));
                            }
                        }
                    }
                }
                all
            }
        };
        assert!(
            hay.contains("vroegtijdige_ondersteuning"),
            "the scan must see the stored metadata"
        );
        assert!(
            hay.contains("consent_recorded"),
            "the scan must see inside binary columns (log entries)"
        );
        assert!(!hay.contains(CHILD), "{b}: a BSN is stored in the clear");
        assert!(
            !hay.contains("blauwe plekken"),
            "{b}: payload plaintext is stored"
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn concurrent_withdrawal_and_delivery_never_disclose_after_the_withdrawal_commits() {
    use signaalhub_server::ledger::Event;
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut school = hub.client("school").await;
        let mut delivered = 0;
        let mut withheld = 0;
        for round in 0..8 {
            let basis = hub.both_parents_consent(CHILD).await;
            let id = format!("race-{round}");
            school
                .send_signal(school_signal(&hub, &id, basis.clone()).await)
                .await
                .unwrap();
            let mut wijkteam = hub.client("wijkteam").await;
            let mut parent = hub.client("school").await;
            let consent = basis.consent_ids[0].clone();
            // The recipient connects (delivery) while a parent withdraws, at the same moment.
            let (items, withdrawal) = tokio::join!(
                async {
                    let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
                    let mut got = Vec::new();
                    while let Ok(Some(Ok(item))) =
                        tokio::time::timeout(Duration::from_millis(400), inbox.next()).await
                    {
                        wijkteam
                            .ack_signal(&item.sender_oin, &item.signal_id)
                            .await
                            .unwrap();
                        got.push(item.signal_id);
                    }
                    got
                },
                parent.withdraw_consent(&consent, "ouder-1")
            );
            let withdrawal = withdrawal.unwrap();
            // Order in the log is commit order: a delivery entry, if any, precedes the withdrawal.
            let entries = hub
                .store
                .log_range(0, hub.store.log_size().await.unwrap())
                .await
                .unwrap();
            let parsed: Vec<(u64, signaalhub_server::ledger::LogEntry)> = entries
                .into_iter()
                .filter_map(|(i, b)| {
                    signaalhub_server::ledger::LogEntry::from_bytes(&b).map(|e| (i, e))
                })
                .collect();
            let at = |ev: Event, reference: &str| {
                parsed
                    .iter()
                    .find(|(_, e)| e.event == ev && e.reference.as_deref() == Some(reference))
                    .map(|(i, _)| *i)
            };
            let withdrawn_at = at(Event::ConsentWithdrawn, &consent).expect("withdrawal logged");
            match at(Event::SignalDelivered, &id) {
                Some(d) => {
                    assert!(
                        d < withdrawn_at,
                        "round {round}: delivered (log {d}) after the withdrawal committed (log {withdrawn_at})"
                    );
                    assert!(items.contains(&id));
                    assert_eq!(withdrawal.signals_withheld, 0);
                    delivered += 1;
                }
                None => {
                    assert!(
                        !items.contains(&id),
                        "round {round}: received without a delivery entry"
                    );
                    assert_eq!(withdrawal.signals_withheld, 1, "round {round}");
                    withheld += 1;
                }
            }
        }
        eprintln!("{b}: {delivered} delivered before the withdrawal, {withheld} held back");
        hub.stop().await;
    }
}

#[tokio::test]
async fn key_rotation_through_the_directory_keeps_old_signals_openable() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let basis = hub.both_parents_consent(CHILD).await;
        let mut school = hub.client("school").await;
        school
            .send_signal(school_signal(&hub, "before-rotation", basis.clone()).await)
            .await
            .unwrap();

        // Only a key administrator may publish keys.
        let mut plain = hub.client("wijkteam").await;
        assert_eq!(
            plain
                .publish_key(pb::KeyUsage::Encryption, "wijkteam-enc-2", [7u8; 32])
                .await
                .unwrap_err()
                .code(),
            Code::PermissionDenied
        );
        let mut claims = hub.claims("wijkteam");
        claims["roles"] = serde_json::json!(["key_admin"]);
        let mut admin = hub
            .client_with_token("wijkteam", hub.token("wijkteam", &claims))
            .await;
        let (new_secret, new_public) = signaalhub_server::devkit::x25519_keypair().unwrap();
        let keys = admin
            .publish_key(pb::KeyUsage::Encryption, "wijkteam-enc-2", new_public)
            .await
            .unwrap();
        let state: Vec<_> = keys
            .iter()
            .map(|k| (k.key_id.as_str(), k.retired_at.is_some()))
            .collect();
        assert!(
            state.contains(&("wijkteam-enc-2", false)) && state.contains(&("wijkteam-enc-1", true)),
            "{state:?}"
        );

        // A new signal is sealed to the new current key.
        let fresh = school_signal(&hub, "after-rotation", basis.clone()).await;
        assert_eq!(
            fresh.envelope.as_ref().unwrap().sealed_keys[0].key_id,
            "wijkteam-enc-2"
        );
        school.send_signal(fresh).await.unwrap();

        // The recipient holds both secrets: the old signal and the new one both open.
        let mut secrets = hub.secrets("wijkteam");
        secrets.add_key("wijkteam-enc-2", new_secret);
        let mut inbox = plain.stream_inbox(0).await.unwrap();
        for expected in ["before-rotation", "after-rotation"] {
            let item = next(&mut inbox).await;
            assert_eq!(item.signal_id, expected);
            let env = item.envelope.unwrap();
            let key = sender_key(&mut plain, &env.sender_oin, &env.sender_signing_key_id).await;
            assert_eq!(envelope::open(&env, &secrets, &key).unwrap(), PAYLOAD);
        }
        // Sealing to the retired key is refused by the hub.
        let mut old = school_signal(&hub, "old-key", basis).await;
        let o = hub.org("school");
        let sender = envelope::SenderKeys::from_pkcs8_der(
            &o.info.oin,
            &o.info.signing_key_id,
            &o.signing_pkcs8,
        )
        .unwrap();
        let mut retired = pb::PublicKey {
            key_id: "wijkteam-enc-1".into(),
            algorithm: "X25519".into(),
            ..Default::default()
        };
        retired.public_key = x25519_public(&hub.org("wijkteam").enc_secret).to_vec();
        let rk =
            envelope::RecipientKey::from_directory(hub.org("wijkteam").info.oin.clone(), &retired)
                .unwrap();
        old.envelope = Some(
            envelope::seal(
                PAYLOAD,
                old.envelope.unwrap().binding.unwrap(),
                &sender,
                &[rk],
            )
            .unwrap(),
        );
        let Err(ClientError::Status(s)) = school.send_signal(old).await else {
            panic!("stale key accepted")
        };
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(
            s.message().contains("current encryption key"),
            "{}",
            s.message()
        );
        hub.stop().await;
    }
}

fn x25519_public(secret: &[u8; 32]) -> [u8; 32] {
    let mut s = envelope::RecipientSecrets::new("x");
    s.add_key("k", *secret);
    s.public_key("k").unwrap()
}

#[tokio::test]
async fn two_instances_on_one_postgresql_share_inboxes_and_one_log() {
    if !backends().contains(&"postgres") {
        return;
    }
    let hub = TestHub::start("postgres").await;
    let (addr2, stop2) = hub.second_instance().await;
    let basis = hub.both_parents_consent(CHILD).await;
    // The wijkteam streams from instance 2; the school sends through instance 1.
    let mut wijkteam = hub.client_at("wijkteam", addr2).await;
    let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
    let mut school = hub.client("school").await;
    for i in 0..3 {
        school
            .send_signal(school_signal(&hub, &format!("multi-{i}"), basis.clone()).await)
            .await
            .unwrap();
    }
    for i in 0..3 {
        let item = next(&mut inbox).await;
        assert_eq!(item.signal_id, format!("multi-{i}"));
        wijkteam
            .ack_signal(&item.sender_oin, &item.signal_id)
            .await
            .unwrap();
    }
    // Both instances integrate the same log: one consistent, verifiable log.
    drop(inbox);
    let _ = stop2.send(());
    let ledger = signaalhub_server::load_ledger(&hub.config, hub.store.clone()).unwrap();
    ledger.integrate_all().await.unwrap();
    let report = signaalhub_server::ledger::integrator::verify(&hub.store, &ledger.keys)
        .await
        .unwrap();
    // 2 consents + 3 sent + 3 delivered.
    assert_eq!(report.entries, 8);
    hub.stop().await;
}

#[tokio::test]
async fn a_suspended_recipient_stops_receiving_on_an_open_stream() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let basis = hub.both_parents_consent(CHILD).await;
        let mut wijkteam = hub.client("wijkteam").await;
        let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
        let sealed = school_signal(&hub, "to-suspended", basis).await;
        let oin = hub.org("wijkteam").info.oin.parse().unwrap();
        hub.store
            .set_status(
                &oin,
                signaalhub_server::domain::directory::OrgStatus::Suspended,
            )
            .await
            .unwrap();
        hub.directory.reload().await.unwrap();
        let mut school = hub.client("school").await;
        // Sealed while the recipient was active; submitted after its suspension: refused.
        let e = school.send_signal(sealed).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        // And the open stream ends with PERMISSION_DENIED instead of waiting for more.
        let end = tokio::time::timeout(Duration::from_secs(10), inbox.next())
            .await
            .expect("the stream must end");
        match end {
            Some(Err(s)) => assert_eq!(s.code(), Code::PermissionDenied, "{s:?}"),
            other => panic!("expected PERMISSION_DENIED, got {other:?}"),
        }
        hub.stop().await;
    }
}
