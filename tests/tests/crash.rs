//! Crash safety: the hub is killed with SIGKILL at random moments while signals stream in, and
//! restarted on the same SQLite file, several times. Afterwards every acknowledged signal is
//! present exactly once with its delivery, nothing is half-written (every stored signal has its
//! deliveries and its `signal_sent` log entries, and no entry lacks its signal), the hub starts
//! (its start-up log check passes), `log verify` recomputes every checkpoint's root, and neither
//! the BSN nor the payload text appears anywhere in the hub's files.
//!
//! The hub runs in a child process: this test binary started again with a filter that selects
//! `crash_child_hub`, which serves a hub only when `SIGNAALHUB_CRASH_CHILD` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use signaalhub_client::envelope::{self, RecipientKey, SenderKeys};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ConnectOptions, HubClient};
use signaalhub_server::config::Config;
use signaalhub_server::ledger::{Event, LogEntry};
use signaalhub_server::store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "SIGNAALHUB_CRASH_CHILD";
const CHILD_BSN: &str = "111222333";
const CYCLES: usize = 4;
const SENDERS: usize = 6;
const PAYLOAD: &[u8] = b"Zorgen over de thuissituatie van de leerling";

/// Not a test of its own: the hub process of `sigkill_under_load_loses_nothing_acknowledged`.
#[test]
fn crash_child_hub() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (kit, listen) = spec.split_once('|').expect("kit|listen");
    // If the test process dies without dropping its guard (SIGKILL, abort), this hub is
    // orphaned: it notices that its parent changed and exits.
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(200));
            if std::os::unix::process::parent_id() != parent {
                std::process::exit(0);
            }
        }
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut config = Config::load(&Path::new(kit).join("hub.toml"), |_| None).unwrap();
        config.listen = listen.to_owned();
        let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
        signaalhub_server::run(listener, config, std::future::pending())
            .await
            .unwrap();
    });
}

/// The hub child process. Dropping it kills the process (SIGKILL) and waits for it, so a test that
/// fails half-way leaves no hub behind.
struct ChildHub {
    child: Child,
    addr: String,
}

impl ChildHub {
    /// SIGKILL, and reap the process.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ChildHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_hub(kit: &Path) -> ChildHub {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_hub",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ENV, format!("{}|{addr}", kit.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    ChildHub { child, addr }
}

/// How long to wait before retrying a call the hub refused with `RESOURCE_EXHAUSTED`: the delay
/// its `RetryInfo` names, else 50 ms.
fn retry_delay(e: &signaalhub_client::ClientError) -> Option<Duration> {
    let signaalhub_client::ClientError::Status(s) = e else {
        return None;
    };
    if s.code() != tonic::Code::ResourceExhausted {
        return None;
    }
    let hinted = tonic_types::StatusExt::get_details_retry_info(s).and_then(|r| r.retry_delay);
    Some(
        hinted
            .unwrap_or(Duration::from_millis(50))
            .max(Duration::from_millis(5)),
    )
}

async fn client(kit: &Path, sector: &str, addr: &str) -> HubClient {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut o = ConnectOptions::from_dev_kit(kit, sector).unwrap();
        o.endpoint = format!("https://{addr}");
        let problem = match HubClient::connect(o).await {
            Ok(mut c) => match c.who_am_i().await {
                Ok(_) => return c,
                Err(e) => e.to_string(),
            },
            Err(e) => e.to_string(),
        };
        assert!(
            Instant::now() < deadline,
            "the hub at {addr} does not answer: {problem}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[derive(serde::Deserialize)]
struct KitOrg {
    oin: String,
    signing_key_id: String,
}

fn kit_org(kit: &Path, sector: &str) -> KitOrg {
    toml::from_str(
        &std::fs::read_to_string(kit.join("orgs").join(sector).join("org.toml")).unwrap(),
    )
    .unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Sealer {
    sender: SenderKeys,
    recipient: RecipientKey,
    recipient_oin: String,
    basis: pb::Basis,
}

impl Sealer {
    fn request(&self, id: &str) -> pb::SendSignalRequest {
        let categories = vec!["zorgen_thuissituatie".to_string()];
        let binding = pb::EnvelopeBinding {
            signal_id: id.into(),
            purpose: "vroegtijdige_ondersteuning".into(),
            categories: categories.clone(),
            basis_reference: signaalhub_client::signaalhub_proto::basis_reference(&self.basis),
            created_at_unix: now(),
            content_digest: Vec::new(), // seal sets it
        };
        let env = envelope::seal(
            PAYLOAD,
            binding,
            &self.sender,
            std::slice::from_ref(&self.recipient),
        )
        .unwrap();
        pb::SendSignalRequest {
            signal_id: id.into(),
            envelope: Some(env),
            recipient_oins: vec![self.recipient_oin.clone()],
            subject_bsns: vec![CHILD_BSN.into()],
            purpose: "vroegtijdige_ondersteuning".into(),
            categories,
            urgency: pb::Urgency::Normal as i32,
            basis: Some(self.basis.clone()),
            ..Default::default()
        }
    }
}

/// A pseudo-random kill delay between 150 and 900 ms.
fn kill_delay() -> Duration {
    let mut b = [0u8; 2];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).unwrap();
    Duration::from_millis(150 + u64::from(u16::from_le_bytes(b)) % 750)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let kit = tmp.path().join("kit");
    signaalhub_server::devkit::init(&kit, true).await.unwrap();
    let me = kit_org(&kit, "school");
    let wt = kit_org(&kit, "wijkteam");

    let acknowledged: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let send_retries = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut basis = None;
    let mut kills = 0;
    for cycle in 0..CYCLES {
        let mut hub = start_hub(&kit);
        let mut school = client(&kit, "school", &hub.addr).await;
        if basis.is_none() {
            basis = Some(common::both_parents_consent_via(&mut school, CHILD_BSN).await);
        }
        let org = school.get_organization(&wt.oin).await.unwrap();
        let key = org
            .encryption_keys
            .iter()
            .find(|k| k.retired_at.is_none())
            .unwrap();
        let sealer = Arc::new(Sealer {
            sender: SenderKeys::from_pem(
                &me.oin,
                &me.signing_key_id,
                &std::fs::read_to_string(kit.join("orgs/school/signing-key.pem")).unwrap(),
            )
            .unwrap(),
            recipient: RecipientKey::from_directory(wt.oin.clone(), key).unwrap(),
            recipient_oin: wt.oin.clone(),
            basis: basis.clone().unwrap(),
        });
        let mut tasks = Vec::new();
        for w in 0..SENDERS {
            let mut c = school.clone();
            let sealer = Arc::clone(&sealer);
            let acked = Arc::clone(&acknowledged);
            let retries = Arc::clone(&send_retries);
            tasks.push(tokio::spawn(async move {
                'sending: for i in 0.. {
                    let id = format!("c{cycle}-w{w}-{i}");
                    loop {
                        match c.send_signal(sealer.request(&id)).await {
                            Ok(r) => {
                                assert_eq!(r.deliveries.len(), 1);
                                acked.lock().unwrap().insert(id);
                                break;
                            }
                            // Over the organisation's rate: refused before anything was
                            // stored; the same id again after the hinted delay.
                            Err(e) if retry_delay(&e).is_some() => {
                                retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                tokio::time::sleep(retry_delay(&e).unwrap()).await;
                            }
                            // The hub died under us: this request may or may not have committed.
                            Err(_) => break 'sending,
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(kill_delay()).await;
        hub.kill(); // SIGKILL
        kills += 1;
        for t in tasks {
            t.await.unwrap();
        }
    }
    assert_eq!(kills, CYCLES);
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > CYCLES,
        "the load reached the hub ({} acknowledged)",
        acknowledged.len()
    );

    // The hub starts again (its start-up log check passes) and still has every acknowledged
    // signal, exactly once, with its delivery.
    // The reads keep within the organisation's request rate (200 a second by default, after a
    // burst of 400): paced at 150 a second, and a `RESOURCE_EXHAUSTED` is retried after the delay
    // the hub names. Only `NOT_FOUND` means the signal is missing; any other answer fails the
    // test as what it is.
    let mut hub = start_hub(&kit);
    let mut school = client(&kit, "school", &hub.addr).await;
    let mut pace = tokio::time::interval(Duration::from_micros(1_000_000 / 150));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut rate_limited = 0usize;
    for id in &acknowledged {
        let got = loop {
            pace.tick().await;
            match school.get_signal(&me.oin, id).await {
                Ok(got) => break got,
                Err(e) if e.code() == tonic::Code::NotFound => {
                    panic!("acknowledged signal {id} is missing: the hub answered NOT_FOUND: {e}")
                }
                Err(e) => match retry_delay(&e) {
                    Some(wait) => {
                        rate_limited += 1;
                        assert!(
                            rate_limited < 1000,
                            "reading back keeps being refused for the request rate: {e}"
                        );
                        tokio::time::sleep(wait).await;
                    }
                    None => panic!("reading back acknowledged signal {id} failed: {e}"),
                },
            }
        };
        assert_eq!(got.deliveries.len(), 1, "{id}");
    }
    hub.kill();

    // Nothing half-written: signals, deliveries and `signal_sent` entries match one to one.
    let config = Config::load(&kit.join("hub.toml"), |_| None).unwrap();
    let store = Store::open(&config.database_target()).await.unwrap();
    let Store::Sqlite { read, .. } = &store else {
        panic!("the dev kit runs on SQLite")
    };
    let signals: BTreeSet<String> = sqlx::query_scalar("SELECT signal_id FROM signals")
        .fetch_all(read)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let deliveries: Vec<String> = sqlx::query_scalar("SELECT signal_id FROM deliveries")
        .fetch_all(read)
        .await
        .unwrap();
    assert!(acknowledged.is_subset(&signals));
    assert_eq!(deliveries.len(), signals.len(), "one delivery per signal");
    assert_eq!(deliveries.into_iter().collect::<BTreeSet<_>>(), signals);
    let size = store.log_size().await.unwrap();
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for (_, bytes) in store.log_range(0, size).await.unwrap() {
        let e = LogEntry::from_bytes(&bytes).expect("every log entry parses");
        if e.event == Event::SignalSent {
            *sent.entry(e.reference.unwrap()).or_default() += 1;
        }
    }
    assert_eq!(
        sent.keys().cloned().collect::<BTreeSet<_>>(),
        signals,
        "a signal_sent entry for every stored signal and a signal for every entry"
    );
    assert!(sent.values().all(|&n| n == 1), "no entry written twice");
    eprintln!(
        "crash: {kills} SIGKILLs; {} acknowledged, {} stored (the rest were in flight), {size} log entries; \
         retried after RESOURCE_EXHAUSTED: {} sends, {rate_limited} read-backs",
        acknowledged.len(),
        signals.len(),
        send_retries.load(std::sync::atomic::Ordering::Relaxed)
    );

    // `log verify`: every tile and checkpoint recomputed from the entries.
    let ledger = signaalhub_server::load_ledger(&config, store.clone()).unwrap();
    ledger.integrate_all().await.unwrap();
    let report = signaalhub_server::ledger::integrator::verify(&store, &ledger.keys)
        .await
        .unwrap();
    assert_eq!(report.entries, size);
    assert!(report.checkpoints > 0);
    store.close().await;

    // Plaintext scan: neither the BSN nor the payload text is anywhere in the hub's files
    // (database, WAL, shared memory), after all those crashes.
    let mut scanned = 0;
    for entry in std::fs::read_dir(&config.data_dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        scanned += bytes.len();
        for needle in [CHILD_BSN.as_bytes(), PAYLOAD] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} contains {:?}",
                path.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    assert!(scanned > 0);
}
