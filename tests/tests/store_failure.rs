//! The store fails mid-load, and comes back.
//!
//! While senders keep submitting signals and the recipient streams its inbox, the hub's database
//! stops taking writes (SQLite) or disappears (PostgreSQL). Every request that meets the failure
//! is answered `UNAVAILABLE` with a correlation id and the request id; nothing panics; nothing is
//! disclosed without its log entry (every stream receipt and every delivered row has its
//! `signal_delivered` entry, every stored signal its `signal_sent` entry, exactly once); and when
//! the store is back the same hub — not restarted — takes new signals, delivers what was
//! pending, integrates its log, and `log verify` recomputes every checkpoint.
//!
//! How the store is made to fail:
//! - SQLite: `chattr +i` on the database file and its write-ahead log. Writes through the hub's
//!   already-open file descriptors then fail with `EPERM` — for root too, which `chmod` would not
//!   stop. Needs `chattr` and a file system with the immutable flag (ext4, xfs, btrfs); the test
//!   says so and skips the SQLite run where the flag is unavailable.
//! - PostgreSQL (the real server is never stopped): the hub's database URL points at a TCP proxy
//!   in this test, in front of the server; the proxy drops every connection and closes its
//!   listening socket (new connections are refused), then listens again on the same port.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, log_entries, panic_counter};
use signaalhub_client::{ClientError, HubClient};
use signaalhub_server::ledger::Event;
use signaalhub_server::store::Store;
use signaalhub_server::store::testing::{POSTGRES_URL_ENV, backends};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_stream::StreamExt;
use tonic::Code;

const CHILD: &str = "111222333";
const PAYLOAD: &[u8] = b"Leerling (9) komt vaak zonder ontbijt en met blauwe plekken op school.";
const SENDERS: usize = 4;

// ---- the faults --------------------------------------------------------------------------------

/// `chattr +i` / `-i` on `paths`; whether it succeeded.
fn chattr(flag: &str, paths: &[String]) -> bool {
    std::process::Command::new("chattr")
        .arg(flag)
        .args(paths)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The SQLite database file and its WAL, made immutable while this lives (and made writable
/// again when it is dropped, also when the test fails: an immutable file cannot be deleted).
struct Immutable {
    paths: Vec<String>,
    on: AtomicBool,
}

impl Immutable {
    fn cut(&self) {
        assert!(chattr("+i", &self.paths), "chattr +i worked a moment ago");
        self.on.store(true, Ordering::SeqCst);
    }
    fn restore(&self) {
        assert!(chattr("-i", &self.paths));
        self.on.store(false, Ordering::SeqCst);
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        if self.on.load(Ordering::SeqCst) {
            chattr("-i", &self.paths);
        }
    }
}

/// Whether `chattr +i` really stops writes to a file in `dir` on this machine: root with
/// CAP_LINUX_IMMUTABLE on a file system that has the flag.
fn immutable_flag_works(dir: &std::path::Path) -> bool {
    let probe = dir.join("chattr-probe");
    std::fs::write(&probe, b"x").unwrap();
    let paths = vec![probe.display().to_string()];
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&probe)
        .unwrap();
    let works = chattr("+i", &paths) && {
        use std::io::Write;
        // A descriptor opened before the flag was set can no longer write: what the hub meets.
        let refused = file.write_all(b"y").and_then(|_| file.sync_all()).is_err();
        chattr("-i", &paths);
        refused
    };
    drop(file);
    let _ = std::fs::remove_file(&probe);
    works
}

/// A TCP proxy between the hub and PostgreSQL that can be cut (every connection dropped, new
/// ones refused) and restored, without touching the server itself.
struct PgProxy {
    addr: SocketAddr,
    upstream: String,
    generation: tokio::sync::watch::Sender<u64>,
    accept: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl PgProxy {
    async fn start(upstream: String) -> Arc<PgProxy> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let proxy = Arc::new(PgProxy {
            addr: listener.local_addr().unwrap(),
            upstream,
            generation,
            accept: Mutex::new(None),
        });
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let upstream = self.upstream.clone();
        let generation = self.generation.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let mut cut = generation.subscribe();
                cut.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                    // Both sockets close here.
                });
            }
        });
        *self.accept.lock().unwrap() = Some(task);
    }

    /// Closes the listening socket (new connections are refused) and drops every connection.
    async fn cut(&self) {
        let task = self.accept.lock().unwrap().take();
        if let Some(t) = task {
            t.abort();
            let _ = t.await;
        }
        self.generation.send_modify(|g| *g += 1);
    }

    /// Listens again on the same port.
    async fn restore(&self) {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.addr).unwrap();
        self.serve(socket.listen(128).unwrap());
    }

    /// `url` with its host and port replaced by the proxy's.
    fn rewrite(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (auth, rest) = match rest.split_once('@') {
            Some((a, r)) => (format!("{a}@"), r),
            None => (String::new(), rest),
        };
        let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
        format!("{scheme}://{auth}{}{path}", self.addr)
    }
}

/// host:port of a PostgreSQL URL (default port 5432).
fn pg_host_port(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let rest = rest.split_once('@').map(|(_, r)| r).unwrap_or(rest);
    let host = rest.split(['/', '?']).next().unwrap();
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

enum Fault {
    Sqlite(Immutable),
    Postgres(Arc<PgProxy>),
}

impl Fault {
    async fn cut(&self) {
        match self {
            Fault::Sqlite(f) => f.cut(),
            Fault::Postgres(p) => p.cut().await,
        }
    }
    async fn restore(&self) {
        match self {
            Fault::Sqlite(f) => f.restore(),
            Fault::Postgres(p) => p.restore().await,
        }
    }
}

// ---- the load ----------------------------------------------------------------------------------

#[derive(Default)]
struct Seen {
    /// Signals whose SendSignal was answered OK.
    acked: BTreeSet<String>,
    /// Signals whose SendSignal was answered UNAVAILABLE.
    failed: BTreeSet<String>,
    /// OK answers to sends that started after the store came back.
    acked_after_restore: usize,
    /// Inbox items the recipient received (signal ids).
    received: BTreeSet<String>,
    /// Errors the recipient's stream (or its acknowledgements) met.
    stream_errors: usize,
    /// Anything that is not the expected UNAVAILABLE answer.
    problems: Vec<String>,
}

const BEFORE: u8 = 0;
const DOWN: u8 = 1;
const RESTORED: u8 = 2;

/// Checks that a failure is the documented one: UNAVAILABLE, with a correlation id in the
/// message and the request id in the metadata.
fn expect_unavailable(what: &str, e: &ClientError, seen: &Mutex<Seen>) {
    let problem = match e {
        ClientError::Status(s) if s.code() == Code::Unavailable => {
            let request_id = s
                .metadata()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !s.message().contains("correlation id") {
                Some(format!(
                    "{what}: UNAVAILABLE without a correlation id: {}",
                    s.message()
                ))
            } else if request_id.len() < 8 {
                Some(format!("{what}: UNAVAILABLE without a request id"))
            } else {
                None
            }
        }
        other => Some(format!("{what}: {other}")),
    };
    if let Some(p) = problem {
        seen.lock().unwrap().problems.push(p);
    }
}

async fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn strings(store: &Store, sql: &str) -> Vec<String> {
    match store {
        Store::Sqlite { read, .. } => sqlx::query_scalar(sql).fetch_all(read).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    }
}

/// Runs the load, cuts the store, restores it and checks everything the module promises.
async fn fail_mid_load(hub: &TestHub, fault: &Fault) {
    let panics = panic_counter().load(Ordering::SeqCst);
    let basis = hub.both_parents_consent(CHILD).await;
    let sealer = Arc::new(
        hub.sealer(
            "school",
            "wijkteam",
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
        )
        .await,
    );
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let phase = Arc::new(AtomicU8::new(BEFORE));
    let stop = Arc::new(AtomicBool::new(false));
    let stop_recipient = Arc::new(AtomicBool::new(false));
    let connected = Arc::new(AtomicBool::new(true));

    // The recipient: streams its inbox while `connected`, acknowledging what it gets, and
    // reconnects after errors from the cursor of the last item it received.
    let recipient = {
        let mut wijkteam = hub.client("wijkteam").await;
        let (seen, stop, connected) = (
            Arc::clone(&seen),
            Arc::clone(&stop_recipient),
            Arc::clone(&connected),
        );
        tokio::spawn(async move {
            let mut after = 0u64;
            while !stop.load(Ordering::SeqCst) {
                if !connected.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                let mut inbox = match wijkteam.stream_inbox(after).await {
                    Ok(s) => s,
                    Err(e) => {
                        seen.lock().unwrap().stream_errors += 1;
                        expect_unavailable("StreamInbox", &e, &seen);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                };
                while !stop.load(Ordering::SeqCst) && connected.load(Ordering::SeqCst) {
                    match tokio::time::timeout(Duration::from_millis(200), inbox.next()).await {
                        Err(_) => continue,
                        Ok(None) => break,
                        Ok(Some(Ok(item))) => {
                            after = item.cursor;
                            seen.lock().unwrap().received.insert(item.signal_id.clone());
                            if let Err(e) =
                                wijkteam.ack_signal(&item.sender_oin, &item.signal_id).await
                            {
                                expect_unavailable("AckSignal", &e, &seen);
                            }
                        }
                        Ok(Some(Err(status))) => {
                            seen.lock().unwrap().stream_errors += 1;
                            expect_unavailable("StreamInbox", &ClientError::Status(status), &seen);
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            break;
                        }
                    }
                }
            }
        })
    };

    let school = hub.client("school").await;
    let mut senders = Vec::new();
    for w in 0..SENDERS {
        let (seen, stop, phase, sealer, basis) = (
            Arc::clone(&seen),
            Arc::clone(&stop),
            Arc::clone(&phase),
            Arc::clone(&sealer),
            basis.clone(),
        );
        let mut c: HubClient = school.clone();
        senders.push(tokio::spawn(async move {
            for i in 0.. {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let id = format!("w{w}-{i}");
                let started = phase.load(Ordering::SeqCst);
                match c
                    .send_signal(sealer.request(&id, CHILD, &basis, PAYLOAD))
                    .await
                {
                    Ok(r) => {
                        let mut s = seen.lock().unwrap();
                        if r.deliveries.len() != 1 {
                            s.problems
                                .push(format!("{id}: {} deliveries", r.deliveries.len()));
                        }
                        s.acked.insert(id);
                        if started == RESTORED {
                            s.acked_after_restore += 1;
                        }
                    }
                    Err(e) => {
                        expect_unavailable("SendSignal", &e, &seen);
                        seen.lock().unwrap().failed.insert(id);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }));
    }

    // Load flows; then the recipient goes away so that deliveries are pending at the cut.
    wait_until("30 signals acknowledged before the fault", 120, || {
        seen.lock().unwrap().acked.len() >= 30
    })
    .await;
    connected.store(false, Ordering::SeqCst);
    let n = seen.lock().unwrap().acked.len();
    wait_until("10 more signals acknowledged", 120, || {
        seen.lock().unwrap().acked.len() >= n + 10
    })
    .await;

    fault.cut().await;
    phase.store(DOWN, Ordering::SeqCst);
    let failed_before = seen.lock().unwrap().failed.len();
    // The recipient comes back during the outage: delivering a pending signal needs the store.
    connected.store(true, Ordering::SeqCst);
    wait_until(
        "5 sends and 1 stream refused while the store is down",
        120,
        || {
            let s = seen.lock().unwrap();
            s.failed.len() >= failed_before + 5 && s.stream_errors >= 1
        },
    )
    .await;

    // What was acknowledged is stored, now: readable through another connection while the
    // store is still down (an acknowledgement from a transaction that never committed would not
    // be).
    let acked = seen.lock().unwrap().acked.clone();
    let visible: BTreeSet<String> = strings(hub.direct_store(), "SELECT signal_id FROM signals")
        .await
        .into_iter()
        .collect();
    assert!(
        acked.is_subset(&visible),
        "acknowledged during the outage but not stored: {:?}",
        acked.difference(&visible).take(5).collect::<Vec<_>>()
    );

    fault.restore().await;
    phase.store(RESTORED, Ordering::SeqCst);
    // The same hub, not restarted, takes new signals again.
    wait_until(
        "20 sends acknowledged after the store came back",
        120,
        || seen.lock().unwrap().acked_after_restore >= 20,
    )
    .await;
    stop.store(true, Ordering::SeqCst);
    for s in senders {
        s.await.unwrap();
    }
    // ... and delivers everything that was pending.
    let direct = hub.direct_store();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pending = strings(
            direct,
            "SELECT signal_id FROM deliveries WHERE state = 'pending'",
        )
        .await;
        let missing = {
            let s = seen.lock().unwrap();
            s.acked.difference(&s.received).count()
        };
        if pending.is_empty() && missing == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after the store came back: {} deliveries still pending, {missing} acknowledged signals not received",
            pending.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop_recipient.store(true, Ordering::SeqCst);
    recipient.await.unwrap();

    // The hub's own integrator catches up (no restart), and `log verify` passes.
    let deadline = Instant::now() + Duration::from_secs(60);
    while direct.log_integrated().await.unwrap() < direct.log_size().await.unwrap() {
        assert!(
            Instant::now() < deadline,
            "the hub's integrator did not catch up after the store came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ledger = signaalhub_server::load_ledger(&hub.config, direct.clone()).unwrap();
    let report = signaalhub_server::ledger::integrator::verify(direct, &ledger.keys)
        .await
        .unwrap_or_else(|e| panic!("log verify after the outage: {e}"));
    assert_eq!(report.entries, direct.log_size().await.unwrap());

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(
        panic_counter().load(Ordering::SeqCst),
        panics,
        "nothing panicked"
    );
    assert!(
        seen.problems.is_empty(),
        "every failure is UNAVAILABLE with a correlation id and a request id: {:#?}",
        &seen.problems[..seen.problems.len().min(10)]
    );

    // Nothing half-written: signals, their deliveries and their `signal_sent` entries match one
    // to one; every acknowledged signal is stored.
    let signals: BTreeSet<String> = strings(direct, "SELECT signal_id FROM signals")
        .await
        .into_iter()
        .collect();
    let deliveries = strings(direct, "SELECT signal_id FROM deliveries").await;
    assert_eq!(deliveries.len(), signals.len());
    assert_eq!(deliveries.iter().cloned().collect::<BTreeSet<_>>(), signals);
    assert!(
        seen.acked.is_subset(&signals),
        "every acknowledged signal is stored"
    );
    let entries = log_entries(direct).await;
    let count = |event: Event| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for (_, e) in &entries {
            if e.event == event {
                *m.entry(e.reference.clone().unwrap()).or_default() += 1;
            }
        }
        m
    };
    let sent = count(Event::SignalSent);
    assert_eq!(sent.keys().cloned().collect::<BTreeSet<_>>(), signals);
    assert!(sent.values().all(|&n| n == 1), "no signal_sent twice");

    // No disclosure without its log entry: delivered rows and stream receipts both within the
    // `signal_delivered` entries, each logged once.
    let delivered_entries = count(Event::SignalDelivered);
    assert!(
        delivered_entries.values().all(|&n| n == 1),
        "no delivery logged twice"
    );
    let logged: BTreeSet<String> = delivered_entries.into_keys().collect();
    let delivered_rows: BTreeSet<String> = strings(
        direct,
        "SELECT signal_id FROM deliveries WHERE state IN ('delivered', 'acknowledged')",
    )
    .await
    .into_iter()
    .collect();
    assert_eq!(
        delivered_rows, logged,
        "delivered rows = signal_delivered entries"
    );
    assert!(
        seen.received.is_subset(&logged),
        "received without a signal_delivered entry: {:?}",
        seen.received
            .difference(&logged)
            .take(5)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        logged, signals,
        "everything stored was delivered in the end"
    );

    let failed_but_stored = seen.failed.intersection(&signals).count();
    if matches!(fault, Fault::Sqlite(_)) {
        // SQLite: an answer of UNAVAILABLE means the transaction rolled back.
        assert_eq!(
            failed_but_stored, 0,
            "a send answered UNAVAILABLE was stored"
        );
    }
    eprintln!(
        "{}: {} acknowledged ({} after the store came back), {} answered UNAVAILABLE ({} of them committed \
         before the connection dropped), {} stream errors, {} received, {} log entries verified",
        hub.backend,
        seen.acked.len(),
        seen.acked_after_restore,
        seen.failed.len(),
        failed_but_stored,
        seen.stream_errors,
        seen.received.len(),
        report.entries
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_made_unwritable_mid_load_fails_closed_and_recovers_without_restart() {
    panic_counter();
    let probe_dir = tempfile::tempdir().unwrap();
    if !immutable_flag_works(probe_dir.path()) {
        eprintln!(
            "NOTE: SQLite store-failure test skipped: `chattr +i` does not stop writes here (needs root \
             with CAP_LINUX_IMMUTABLE and a file system with the immutable flag, e.g. ext4)"
        );
        return;
    }
    let hub = TestHub::start("sqlite").await;
    let db = hub.config.database_target();
    // The WAL exists from the first write on (the hub wrote its directory already).
    assert!(std::path::Path::new(&format!("{db}-wal")).exists());
    let fault = Fault::Sqlite(Immutable {
        paths: vec![db.clone(), format!("{db}-wal")],
        on: AtomicBool::new(false),
    });
    fail_mid_load(&hub, &fault).await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connection_cut_mid_load_fails_closed_and_recovers_without_restart() {
    panic_counter();
    if !backends().contains(&"postgres") {
        return;
    }
    let base = std::env::var(POSTGRES_URL_ENV).unwrap();
    let proxy = PgProxy::start(pg_host_port(&base)).await;
    let p = Arc::clone(&proxy);
    let hub = TestHub::start_with("postgres", move |url| p.rewrite(url), "").await;
    assert!(
        hub.config.database.contains(&proxy.addr.to_string()),
        "the hub talks to the proxy"
    );
    let fault = Fault::Postgres(proxy);
    fail_mid_load(&hub, &fault).await;
    hub.stop().await;
}
