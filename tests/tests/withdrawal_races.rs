//! Many races of "a parent withdraws consent" against "the hub sends and delivers a signal that
//! relies on it", end to end through the RPCs, on every backend.
//!
//! Each race has its own consent and its own signal about one child whose only gezag holder gives
//! that consent. The recipient streams its inbox the whole time (one live stream, acknowledging
//! what it gets) while workers run races in parallel, alternating two shapes:
//!
//! - *deliver vs withdraw*: SendSignal returns, and the withdrawal is sent at once — racing the
//!   live stream, which was woken by the signal's commit and is delivering it;
//! - *send vs withdraw*: SendSignal and WithdrawConsent are sent at the same moment — racing the
//!   decision at submission, the insert, and the delivery.
//!
//! Afterwards the disclosure log (whose order is commit order) must show, for every race, that no
//! `signal_delivered` entry — the only disclosure of a signal — comes after its consent's
//! `consent_withdrawn` entry; the stream received nothing without such an entry; no signal was
//! read (`signal_read`); and nothing is left pending.
//!
//! `SIGNAALHUB_RACES` sets the number of races per backend (default 500; the full run of the
//! adversarial suite is 10 000: `SIGNAALHUB_RACES=10000`, see docs/SECURITY.md for its figures).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, log_entries, panic_counter};
use signaalhub_client::ClientError;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_server::ledger::Event;
use signaalhub_server::store::Store;
use signaalhub_server::store::testing::backends;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_stream::StreamExt;
use tonic::Code;

const CHILD: &str = "111222333";
const PAYLOAD: &[u8] = b"Leerling (9) vertelt dat er thuis veel ruzie is; ouder wil hulp.";
const WORKERS: usize = 4;
const DEFAULT_RACES: usize = 500;

fn races() -> usize {
    std::env::var("SIGNAALHUB_RACES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_RACES)
}

fn consent_request() -> pb::RecordConsentRequest {
    common::consent_request(
        CHILD,
        9,
        &["ouder-1"],
        &["ouder-1"],
        &[pb::Sector::Wijkteam],
        "vroegtijdige_ondersteuning",
        &["zorgen_thuissituatie"],
    )
}

/// One race as the clients saw it.
#[derive(Debug)]
struct Race {
    signal_id: String,
    consent_id: String,
    /// Whether SendSignal and WithdrawConsent were sent at the same moment.
    simultaneous: bool,
    /// SendSignal's answer: accepted, or the refusal's code.
    sent: Result<(), Code>,
    /// How many pending deliveries the withdrawal held back.
    withheld_by_withdrawal: u32,
}

async fn run_races(hub: &TestHub, n: usize) {
    let panics = panic_counter().load(Ordering::SeqCst);
    let started = Instant::now();
    let sealer = Arc::new(
        hub.sealer(
            "school",
            "wijkteam",
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
        )
        .await,
    );

    // The recipient's live stream, for the whole run.
    let received: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let recipient = {
        let mut wijkteam = hub.client("wijkteam").await;
        let (received, stop) = (Arc::clone(&received), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
            while !stop.load(Ordering::SeqCst) {
                match tokio::time::timeout(Duration::from_millis(200), inbox.next()).await {
                    Err(_) => continue,
                    Ok(Some(Ok(item))) => {
                        received.lock().unwrap().insert(item.signal_id.clone());
                        wijkteam
                            .ack_signal(&item.sender_oin, &item.signal_id)
                            .await
                            .unwrap();
                    }
                    Ok(other) => panic!("the inbox stream ended: {other:?}"),
                }
            }
        })
    };

    let next = Arc::new(AtomicUsize::new(0));
    let school = hub.client("school").await;
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let (next, sealer) = (Arc::clone(&next), Arc::clone(&sealer));
        let (mut sender, mut parent) = (school.clone(), school.clone());
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    return mine;
                }
                let consent_id = sender
                    .record_consent(consent_request())
                    .await
                    .unwrap()
                    .consent_id;
                let basis = pb::Basis {
                    legal: None,
                    consent_ids: vec![consent_id.clone()],
                };
                let signal_id = format!("race-{i}");
                let request = sealer.request(&signal_id, CHILD, &basis, PAYLOAD);
                let simultaneous = i % 2 == 1;
                // The withdrawal leaves 0 to a few ms later, spread over the races, so that both
                // sides win some (unspread, the withdrawal nearly always arrives first).
                let lag =
                    Duration::from_millis((i as u64 * 7919) % if simultaneous { 8 } else { 40 });
                let (sent, withdrawal) = if simultaneous {
                    tokio::join!(sender.send_signal(request), async {
                        tokio::time::sleep(lag).await;
                        parent.withdraw_consent(&consent_id, "ouder-1").await
                    })
                } else {
                    let sent = sender.send_signal(request).await;
                    tokio::time::sleep(lag).await;
                    (sent, parent.withdraw_consent(&consent_id, "ouder-1").await)
                };
                let sent = match sent {
                    Ok(r) => {
                        assert_eq!(r.deliveries.len(), 1);
                        Ok(())
                    }
                    // Decided after the withdrawal: refused at submission.
                    Err(ClientError::Status(s)) if simultaneous => Err(s.code()),
                    Err(e) => panic!("race {i}: SendSignal failed: {e}"),
                };
                let withdrawal =
                    withdrawal.unwrap_or_else(|e| panic!("race {i}: withdrawal failed: {e}"));
                mine.push(Race {
                    signal_id,
                    consent_id,
                    simultaneous,
                    sent,
                    withheld_by_withdrawal: withdrawal.signals_withheld,
                });
            }
        }));
    }
    let mut races = Vec::with_capacity(n);
    for w in workers {
        races.extend(w.await.unwrap());
    }
    assert_eq!(races.len(), n);

    // Everything settles: no delivery is left pending, and the stream has caught up.
    let direct = hub.direct_store();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let pending: i64 = match direct {
            Store::Sqlite { read, .. } => sqlx::query_scalar(
                "SELECT count(*) FROM deliveries WHERE state IN ('pending', 'delivered')",
            )
            .fetch_one(read)
            .await
            .unwrap(),
            Store::Postgres(p) => sqlx::query_scalar(
                "SELECT count(*) FROM deliveries WHERE state IN ('pending', 'delivered')",
            )
            .fetch_one(p)
            .await
            .unwrap(),
        };
        if pending == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} deliveries still pending or unacknowledged"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::SeqCst);
    recipient.await.unwrap();
    let elapsed = started.elapsed();

    // The log, in commit order.
    let entries = log_entries(direct).await;
    let mut withdrawn_at: BTreeMap<&str, u64> = BTreeMap::new();
    let mut delivered_at: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut reads = 0;
    for (i, e) in &entries {
        let reference = e.reference.as_deref().unwrap_or("");
        match e.event {
            Event::ConsentWithdrawn => {
                assert!(
                    withdrawn_at.insert(reference, *i).is_none(),
                    "withdrawn twice"
                );
            }
            Event::SignalDelivered => delivered_at.entry(reference).or_default().push(*i),
            Event::SignalRead => reads += 1,
            _ => {}
        }
    }
    assert_eq!(reads, 0, "no signal was read");
    let received = received.lock().unwrap().clone();
    let (mut before, mut held_back, mut withheld_at_delivery, mut refused) = (0, 0, 0, 0);
    for r in &races {
        let w = *withdrawn_at
            .get(r.consent_id.as_str())
            .unwrap_or_else(|| panic!("{}: withdrawal not logged", r.signal_id));
        match delivered_at.get(r.signal_id.as_str()).map(Vec::as_slice) {
            Some([d]) => {
                assert!(
                    *d < w,
                    "{}: delivered (log {d}) after the withdrawal committed (log {w})",
                    r.signal_id
                );
                assert_eq!(r.withheld_by_withdrawal, 0, "{}", r.signal_id);
                assert!(
                    received.contains(&r.signal_id),
                    "{}: delivered, not received",
                    r.signal_id
                );
                before += 1;
            }
            Some(more) => panic!("{}: delivered {} times", r.signal_id, more.len()),
            None => {
                assert!(
                    !received.contains(&r.signal_id),
                    "{}: received without a signal_delivered entry",
                    r.signal_id
                );
                match r.sent {
                    Err(_) => refused += 1,
                    Ok(()) if r.withheld_by_withdrawal == 1 => held_back += 1,
                    Ok(()) => {
                        // Only when the send's insert committed after the withdrawal: the
                        // delivery's own decision held it back.
                        assert!(
                            r.simultaneous,
                            "{}: neither delivered nor held back",
                            r.signal_id
                        );
                        withheld_at_delivery += 1;
                    }
                }
            }
        }
    }
    assert_eq!(
        panic_counter().load(Ordering::SeqCst),
        panics,
        "nothing panicked"
    );
    // Both sides of the race were reached (otherwise this would not be a race).
    assert!(before > 0, "no race was won by the delivery");
    assert!(
        held_back + withheld_at_delivery + refused > 0,
        "no race was won by the withdrawal"
    );
    eprintln!(
        "{}: {n} races in {:.1} s ({WORKERS} workers): {before} delivered before the withdrawal, \
         {held_back} held back by the withdrawal, {withheld_at_delivery} withheld at delivery, \
         {refused} refused at submission; 0 disclosures after a withdrawal",
        hub.backend,
        elapsed.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawal_never_loses_a_race_to_a_disclosure() {
    panic_counter();
    let n = races();
    for b in backends() {
        // One organisation drives the whole run: its request rate is not what is tested here.
        let hub = TestHub::start_with(
            b,
            |db| db.to_owned(),
            "[limits]\nrequests_per_second_per_org = 0\n",
        )
        .await;
        run_races(&hub, n).await;
        hub.stop().await;
    }
}
