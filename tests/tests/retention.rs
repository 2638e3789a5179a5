//! Retention: expired envelopes and consent records are erased, each erasure is in the log, and
//! the log still verifies — on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, now};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_server::ledger::{Event, LogEntry};
use signaalhub_server::store::testing::backends;
use std::time::Duration;
use tokio_stream::StreamExt;

const CHILD: &str = "111222333";
const PAYLOAD: &[u8] = b"Leerling (9) komt al dagen zonder eten naar school.";

/// Both parents with gezag consent, one consent each, valid 30 days.
async fn both_parents(hub: &TestHub) -> pb::Basis {
    let mut school = hub.client("school").await;
    let mut ids = Vec::new();
    for parent in ["ouder-1", "ouder-2"] {
        let mut req = common::consent_request(
            CHILD,
            9,
            &["ouder-1", "ouder-2"],
            &[parent],
            &[pb::Sector::Wijkteam],
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
        );
        req.valid_until = Some(prost_types::Timestamp {
            seconds: now() + 30 * 86400,
            nanos: 0,
        });
        ids.push(school.record_consent(req).await.unwrap().consent_id);
    }
    pb::Basis {
        legal: None,
        consent_ids: ids,
    }
}

async fn send(hub: &TestHub, id: &str, basis: pb::Basis) {
    let req = hub
        .signal(
            "school",
            &["wijkteam"],
            id,
            PAYLOAD,
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
            CHILD,
            basis,
        )
        .await;
    hub.client("school").await.send_signal(req).await.unwrap();
}

async fn entries(hub: &TestHub) -> Vec<LogEntry> {
    let size = hub.store.log_size().await.unwrap();
    hub.store
        .log_range(0, size)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, b)| LogEntry::from_bytes(&b).unwrap())
        .collect()
}

async fn verify(hub: &TestHub) -> u64 {
    let ledger = signaalhub_server::load_ledger(&hub.config, hub.store.clone()).unwrap();
    ledger.integrate_all().await.unwrap();
    signaalhub_server::ledger::integrator::verify(&hub.store, &ledger.keys)
        .await
        .unwrap()
        .entries
}

#[tokio::test]
async fn expired_envelopes_and_consents_are_erased_logged_and_the_log_still_verifies() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let policy = signaalhub_server::load_policy(&hub.config).unwrap();
        let basis = both_parents(&hub).await;
        // sig-a is delivered and acknowledged; sig-b is never fetched.
        send(&hub, "sig-a", basis.clone()).await;
        let mut wijkteam = hub.client("wijkteam").await;
        {
            let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
            let item = tokio::time::timeout(Duration::from_secs(10), inbox.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            assert_eq!(item.signal_id, "sig-a");
            wijkteam
                .ack_signal(&item.sender_oin, "sig-a")
                .await
                .unwrap();
        }
        send(&hub, "sig-b", basis.clone()).await;
        let school_oin = hub.org("school").info.oin.clone();
        let signal = hub
            .store
            .get_signal(&school_oin, "sig-a")
            .await
            .unwrap()
            .unwrap();
        let consent = hub
            .store
            .get_consents(&[basis.consent_ids[0].parse().unwrap()])
            .await
            .unwrap()
            .remove(0);
        // Retention from the convenant: P6M for this purpose, counted from sending for the
        // signal and from the end of validity for the consent.
        assert!(signal.retain_until >= signal.created_at + 180 * 86400);
        assert!(consent.retain_until >= consent.valid_until + 180 * 86400);
        assert!(consent.retain_until > signal.retain_until);

        // Before anything expires a sweep erases nothing and logs nothing.
        let before = hub.store.log_size().await.unwrap();
        let r = signaalhub_server::retention::sweep(&hub.store, policy.version(), now(), 10)
            .await
            .unwrap();
        assert_eq!(r.total(), 0);
        assert_eq!(hub.store.log_size().await.unwrap(), before);

        // At the signals' retain_until both envelopes go (batch of 1: several transactions).
        let t1 = signal.retain_until + 1;
        let r = signaalhub_server::retention::sweep(&hub.store, policy.version(), t1, 1)
            .await
            .unwrap();
        assert_eq!(r.erased["signal"], 2, "{b}");
        assert_eq!(r.erased["consent"], 0, "{b}");
        let a = hub
            .store
            .get_signal(&school_oin, "sig-a")
            .await
            .unwrap()
            .unwrap();
        assert!(a.envelope.is_none());
        assert!(a.subjects.is_empty());
        assert!(a.facts.gezag_holders.is_empty() && a.facts.age_years.is_none());
        assert!(a.basis.is_empty() && a.sender_professional.is_empty());
        assert_eq!(a.purpose, "vroegtijdige_ondersteuning");
        // What was never delivered is held back with the reason; what was delivered stays so.
        let db = hub.store.deliveries_of(&school_oin, "sig-b").await.unwrap();
        assert_eq!(db[0].state.as_str(), "withheld");
        assert_eq!(db[0].reasons[0].code, "RETENTION_EXPIRED");
        let da = hub.store.deliveries_of(&school_oin, "sig-a").await.unwrap();
        assert_eq!(da[0].state.as_str(), "acknowledged");

        let log = entries(&hub).await;
        let erased: Vec<&LogEntry> = log.iter().filter(|e| e.event == Event::Erased).collect();
        assert_eq!(erased.len(), 2);
        let refs: Vec<&str> = erased
            .iter()
            .map(|e| e.reference.as_deref().unwrap())
            .collect();
        assert!(refs.contains(&"signal:sig-a") && refs.contains(&"signal:sig-b"));
        for e in &erased {
            assert_eq!(e.actor_oin, school_oin);
            assert_eq!(e.subjects.len(), 1, "the subject can find the erasure");
            assert_eq!(e.basis, vec!["retention:vroegtijdige_ondersteuning"]);
            assert_eq!(e.reasons, vec!["RETENTION_EXPIRED"]);
            assert_eq!(e.at, t1);
        }
        // The subject's pseudonym in the erasure entry is the one of the original entries.
        let sent = log.iter().find(|e| e.event == Event::SignalSent).unwrap();
        assert_eq!(erased[0].subjects, sent.subjects);

        // A second sweep at the same time has nothing left to do.
        let r = signaalhub_server::retention::sweep(&hub.store, policy.version(), t1, 10)
            .await
            .unwrap();
        assert_eq!(r.total(), 0);

        // The recipient reading it again gets no envelope, and no read is logged.
        let size = hub.store.log_size().await.unwrap();
        let g = wijkteam.get_signal(&school_oin, "sig-a").await.unwrap();
        assert!(g.envelope.is_none());
        assert_eq!(hub.store.log_size().await.unwrap(), size);
        // Nor does an inbox stream from the start offer it.
        let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(700), inbox.next())
                .await
                .is_err(),
            "an erased signal is not in the inbox"
        );
        drop(inbox);

        // At the consents' retain_until their evidence and givers go.
        let t2 = consent.retain_until + 1;
        let r = signaalhub_server::retention::sweep(&hub.store, policy.version(), t2, 10)
            .await
            .unwrap();
        assert_eq!(r.erased["consent"], 2);
        let c = hub
            .store
            .get_consents(&[basis.consent_ids[0].parse().unwrap()])
            .await
            .unwrap()
            .remove(0);
        assert!(c.evidence_reference.is_none());
        assert!(c.givers.is_empty());
        assert!(c.recorded_by.is_empty());
        assert!(c.facts.gezag_holders.is_empty());
        assert_eq!(c.purposes, vec!["vroegtijdige_ondersteuning"]);
        let log = entries(&hub).await;
        let consent_erasures = log
            .iter()
            .filter(|e| {
                e.event == Event::Erased
                    && e.reference
                        .as_deref()
                        .is_some_and(|r| r.starts_with("consent:c_"))
            })
            .count();
        assert_eq!(consent_erasures, 2);

        // No readable trace of the givers or the evidence is left outside the log.
        assert_eq!(
            hub.sql_count(
                "SELECT COUNT(*) FROM consents WHERE givers LIKE '%ouder-%' OR subject_facts LIKE '%ouder-%' OR evidence_reference IS NOT NULL"
            )
            .await,
            0
        );
        assert_eq!(
            hub.sql_count(
                "SELECT COUNT(*) FROM signals WHERE subject_facts LIKE '%ouder-%' OR envelope IS NOT NULL OR erased_at IS NULL"
            )
            .await,
            0
        );
        assert_eq!(
            hub.sql_count("SELECT COUNT(*) FROM delivery_consents")
                .await,
            0
        );
        // The log is one consistent, verifiable log with the erasures in it.
        assert_eq!(verify(&hub).await, log.len() as u64);
        hub.stop().await;
    }
}

#[tokio::test]
async fn the_professionals_id_beside_old_log_entries_is_erased_and_the_log_still_verifies() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let basis = both_parents(&hub).await;
        send(&hub, "sig-a", basis.clone()).await;
        let school = hub.org("school").info.clone();
        let professional = hub.claims("school")["sub"].as_str().unwrap().to_owned();
        let mine = |hub: &TestHub| {
            let (oin, pro) = (school.oin.clone(), professional.clone());
            let store = hub.store.clone();
            async move {
                store
                    .log_entries_for_professional(&oin, &pro, None, 100)
                    .await
                    .unwrap()
                    .len()
            }
        };
        let acts = mine(&hub).await;
        assert!(acts >= 3, "two consents and a signal: {acts}");
        let size = hub.store.log_size().await.unwrap();
        let sweep = |at: i64, days: u32| {
            signaalhub_server::retention::sweep_log_professionals(&hub.store, at, days, 2)
        };

        // Kept for `log_professional_days`; 0 keeps it for as long as the log.
        assert_eq!(sweep(now(), 1).await.unwrap(), 0);
        assert_eq!(sweep(now() + 10 * 86_400, 0).await.unwrap(), 0);
        assert_eq!(mine(&hub).await, acts);

        // Two days later (batches of 2: several transactions) every id so far is gone: the FG's
        // per-professional audit no longer finds these entries, and no column holds the id.
        let later = now() + 2 * 86_400;
        assert_eq!(sweep(later, 1).await.unwrap(), size);
        assert_eq!(mine(&hub).await, 0);
        assert_eq!(
            hub.sql_count("SELECT COUNT(*) FROM log_entries WHERE professional IS NOT NULL")
                .await,
            0
        );
        // The next sweep starts where this one stopped: nothing left to pass.
        assert_eq!(sweep(later, 1).await.unwrap(), 0);

        // What happens now keeps its id until its own time comes.
        send(&hub, "sig-b", basis).await;
        assert!(mine(&hub).await >= 1);
        assert_eq!(sweep(now(), 1).await.unwrap(), 0);
        assert!(mine(&hub).await >= 1);

        // The entries are untouched: the log verifies as one.
        assert_eq!(verify(&hub).await, hub.store.log_size().await.unwrap());
        hub.stop().await;
    }
}

#[tokio::test]
async fn the_running_hub_sweeps_by_itself() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let basis = both_parents(&hub).await;
        send(&hub, "sig-old", basis).await;
        let school_oin = hub.org("school").info.oin.clone();
        // As if it was sent long ago: its retention has passed.
        hub.sql("UPDATE signals SET retain_until = 1000 WHERE signal_id = 'sig-old'")
            .await;
        let sweeping = hub
            .instance_with(|c| c.retention.sweep_interval_ms = 100)
            .await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let s = hub
                .store
                .get_signal(&school_oin, "sig-old")
                .await
                .unwrap()
                .unwrap();
            if s.envelope.is_none() {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the sweeper erased nothing within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = entries(&hub).await;
        let erased: Vec<&LogEntry> = log.iter().filter(|e| e.event == Event::Erased).collect();
        assert_eq!(erased.len(), 1, "{b}: exactly one erasure entry");
        assert_eq!(erased[0].reference.as_deref(), Some("signal:sig-old"));
        // Consents are still within their retention.
        assert_eq!(
            hub.sql_count("SELECT COUNT(*) FROM consents WHERE erased_at IS NULL")
                .await,
            2
        );
        sweeping.stop().await;
        assert_eq!(verify(&hub).await, log.len() as u64);
        hub.stop().await;
    }
}
