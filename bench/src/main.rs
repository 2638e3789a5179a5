//! `signaalhub-bench`: the hub's speed on this machine as ratios against baselines measured in the
//! same run — a bare tonic sink over the same mutual TLS, the hub with one transaction per request,
//! raw SQLite with the hub's pragmas, raw Ed25519 — with the disk's sync rate recorded, since
//! disks differ a hundredfold. Never used for assertions in tests.
//!
//! `cargo run --release -p signaalhub-bench` (see docs/BENCHMARKS.md for what each line means).
#![allow(clippy::print_stdout)]

mod baseline;
mod flood;
mod floor;
mod load;
mod logverify;
mod setup;
mod sink;
mod storage;
mod tokens;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

/// The same allocator as the `signaalhub` binary, so the hub child processes measure what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use load::{Op, Samples, closed_loop, median, open_loop};
use setup::{Proc, Sealer, connect, free_port, spawn_self};
use signaalhub_client::HubClient;
use signaalhub_client::signaalhub_proto::pb;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    name = "signaalhub-bench",
    version,
    about = "Benchmarks the hub against baselines measured in the same run"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run every scenario (the default).
    Run(RunArgs),
    /// `signaalhub log verify` over a log of millions of entries: builds the database through the
    /// hub's store and integrator (not timed), then times verify runs in a child process.
    LogVerify(logverify::LogVerifyArgs),
    /// (internal) What `signaalhub log verify` does, with its own figures on one line.
    #[command(hide = true)]
    LogVerifyChild {
        #[arg(long)]
        kit: PathBuf,
        #[arg(long)]
        database: PathBuf,
    },
    /// (internal) What `signaalhub serve` does before it listens (`Hub::build`), timed.
    #[command(hide = true)]
    StartupChild {
        #[arg(long)]
        kit: PathBuf,
        #[arg(long)]
        database: PathBuf,
    },
    /// Bytes on disk per signal beyond its envelope and per log entry, per table, after filling
    /// a fresh SQLite (and PostgreSQL) database through the hub's real code paths.
    Storage(storage::StorageArgs),
    /// One organisation floods the hub (connections, streams, HTTP/2 rapid reset, oversized
    /// messages, random `kid`s) while another sends signals open loop: its latency with and
    /// without the attack, the hub's memory and CPU, the attacker's outcomes.
    Flood(flood::FloodArgs),
    /// Bearer-token verification per algorithm (EdDSA, ES256, RS256), cache miss and hit, against
    /// one raw Ed25519 verification (needs the `openssl` CLI for the keys).
    Tokens(tokens::TokenArgs),
    /// (internal) The flood scenario's attacker, driven through standard input.
    #[command(hide = true)]
    FloodAttacker(flood::AttackArgs),
    /// (internal) Serve a hub with the default limits for the flood scenario.
    #[command(hide = true)]
    FloodHub {
        #[arg(long)]
        kit: PathBuf,
        #[arg(long)]
        database: String,
        #[arg(long)]
        listen: String,
        #[arg(long)]
        max_connections: usize,
        #[arg(long)]
        connections_per_org: u32,
    },
    /// (internal) Serve a hub on the kit's configuration.
    #[command(hide = true)]
    Hub {
        #[arg(long)]
        kit: PathBuf,
        #[arg(long)]
        database: String,
        #[arg(long)]
        listen: String,
        #[arg(long)]
        group_commit: bool,
    },
    /// (internal) The floor's parts on one core: Ed25519 verification of an envelope, a SQLite
    /// group insert of the rows the hub wrote for one signal, its log entry's JSON and hash.
    #[command(hide = true)]
    FloorChild(floor::FloorArgs),
    /// (internal) Serve the bare sink.
    #[command(hide = true)]
    Sink {
        #[arg(long)]
        kit: PathBuf,
        #[arg(long)]
        listen: String,
    },
}

#[derive(Args, Debug, Clone)]
struct RunArgs {
    /// Working folder (dev kit, databases); wiped first.
    #[arg(long, default_value = "target/bench")]
    dir: PathBuf,
    /// Measured seconds per closed-loop phase.
    #[arg(long, default_value_t = 5)]
    secs: u64,
    /// Warm-up seconds before each phase.
    #[arg(long, default_value_t = 1)]
    warmup_secs: u64,
    /// Interleaved rounds (medians are reported).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Requests in flight in the loaded closed-loop phases.
    #[arg(long, default_value_t = 50)]
    in_flight: usize,
    /// Children the signals are about in turn (each with its parents' consent, recorded at
    /// start). The hub reads a subject's log history for every signal about it, so one subject
    /// for everything measures a child with a history of every signal in the run.
    #[arg(long, default_value_t = 500)]
    subjects: usize,
    /// Connections the in-flight requests share.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Fixed offered loads for the latency phases (open loop), signals per second.
    #[arg(long, value_delimiter = ',', default_values_t = [100.0, 500.0, 1000.0])]
    rates: Vec<f64>,
    /// Measured seconds per fixed load (after 2 s warm-up at the same rate).
    #[arg(long, default_value_t = 10)]
    rate_secs: u64,
    /// Also run the hub on this PostgreSQL server (a fresh database is created and dropped).
    #[arg(long, env = "SIGNAALHUB_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
    /// Pinned: client on core 0, servers and the floor on core 1. Unpinned: nothing pinned, in
    /// every phase. Both: each round runs the pinned phases, then a sink and a group-commit hub
    /// of their own started without pinning, with the client free on every core.
    #[arg(long, value_enum, default_value_t = Pinning::Both)]
    pinning: Pinning,
    /// Signals per transaction for the floor's SQLite insert (default: the group size the hub
    /// reached in the same round, counted with `perf`; 10 where `perf` is missing).
    #[arg(long)]
    floor_group: Option<usize>,
    /// Seconds per part of the floor.
    #[arg(long, default_value_t = 1.0)]
    floor_secs: f64,
    /// A short run: one round of 2 s phases, 3 s per fixed load, 0.5 s per floor part.
    #[arg(long)]
    quick: bool,
    /// Also measure `HasMaatregel` on a hub whose store already holds this many active
    /// involvements of other organisations with other persons (0: not measured), beside the
    /// group hub's in every round.
    #[arg(long, default_value_t = 0)]
    involvements: u64,
}

/// Where the harness's processes run.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Pinning {
    /// Pinned, then unpinned, each round.
    Both,
    /// Client on core 0, servers on core 1.
    Pinned,
    /// Nothing pinned.
    Unpinned,
}

impl RunArgs {
    /// Whether the pinned phases run (servers on core 1, client on core 0).
    fn pinned(&self) -> bool {
        self.pinning != Pinning::Unpinned
    }

    /// Whether the unpinned sink and hub run.
    fn unpinned(&self) -> bool {
        self.pinning != Pinning::Pinned
    }

    /// The core of the servers and the floor (`None`: not pinned).
    fn server_core(&self) -> Option<usize> {
        self.pinned().then_some(1)
    }

    /// `--quick` applied.
    fn effective(self) -> RunArgs {
        if !self.quick {
            return self;
        }
        RunArgs {
            rounds: 1,
            secs: 2,
            warmup_secs: 1,
            rate_secs: 3,
            floor_secs: 0.5,
            ..self
        }
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let cmd = match cli.cmd {
        Some(c) => c,
        None => Cli::parse_from(["signaalhub-bench", "run"])
            .cmd
            .context("no command")?,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cmd {
        Cmd::Hub {
            kit,
            database,
            listen,
            group_commit,
        } => rt.block_on(serve_hub(&kit, database, &listen, group_commit)),
        Cmd::Sink { kit, listen } => rt.block_on(sink::serve(&kit, &listen)),
        Cmd::FloorChild(args) => floor::child(&args),
        Cmd::LogVerify(args) => rt.block_on(logverify::run(args)),
        Cmd::FloodHub {
            kit,
            database,
            listen,
            max_connections,
            connections_per_org,
        } => rt.block_on(flood::serve_hub(
            &kit,
            database,
            &listen,
            max_connections,
            connections_per_org,
        )),
        Cmd::FloodAttacker(args) => rt.block_on(flood::attacker_process(args)),
        Cmd::Tokens(args) => rt.block_on(tokens::run(args)),
        Cmd::Storage(args) => rt.block_on(storage::run(args)),
        Cmd::Flood(args) => {
            if !args.no_pin {
                setup::pin(std::process::id(), CLIENT_CORE);
            }
            rt.block_on(flood::run(args))
        }
        Cmd::LogVerifyChild { kit, database } => rt.block_on(logverify::child(&kit, &database)),
        Cmd::StartupChild { kit, database } => {
            rt.block_on(logverify::startup_child(&kit, &database))
        }
        Cmd::Run(args) => {
            let args = args.effective();
            if args.pinned() {
                // All of this process's threads, and those it starts later, on core 0.
                setup::pin(std::process::id(), CLIENT_CORE);
            }
            rt.block_on(run(args))
        }
    }
}

/// The client's core in the pinned phases.
const CLIENT_CORE: &str = "0";

async fn serve_hub(kit: &Path, database: String, listen: &str, group: bool) -> anyhow::Result<()> {
    let mut config = signaalhub_server::config::Config::load(&kit.join("hub.toml"), |_| None)?;
    config.database = database;
    config.listen = listen.to_owned();
    config.commit.group_commit = group;
    // One organisation drives the hub far above any real one: its rate limit is set out of reach,
    // but left on so that the limiter's own cost is measured.
    config.limits.requests_per_second_per_org = 1_000_000;
    config.limits.burst_per_org = 1_000_000;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    signaalhub_server::run(listener, config, std::future::pending())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// One hub under test.
struct HubUnderTest {
    name: &'static str,
    proc: Proc,
    clients: Vec<HubClient>,
    sealer4: Sealer,
    sealer16: Sealer,
    basis: pb::Basis,
}

async fn start_hub(
    a: &RunArgs,
    kit: &Path,
    name: &'static str,
    database: String,
    group: bool,
    core: Option<usize>,
) -> anyhow::Result<HubUnderTest> {
    let addr = format!("127.0.0.1:{}", free_port()?);
    let args = setup::hub_args(kit, &database, &addr, group);
    let proc = spawn_self(&args, core, addr.clone())?;
    let clients = connect(kit, "school", &addr, a.connections).await?;
    let mut school = clients[0].clone();
    let bases = setup::consent_bases(&school, a.subjects).await?;
    let basis = bases
        .first()
        .map(|(_, b)| b.clone())
        .context("no subject")?;
    let sealer4 = Sealer::new(kit, &mut school, basis.clone(), 4096)
        .await?
        .with_subjects(bases.clone());
    let sealer16 = Sealer::new(kit, &mut school, basis.clone(), 16 * 1024)
        .await?
        .with_subjects(bases);
    Ok(HubUnderTest {
        name,
        proc,
        clients,
        sealer4,
        sealer16,
        basis,
    })
}

/// A closed-loop phase's figures.
#[derive(Debug, Clone)]
struct Phase {
    samples: Samples,
    /// Server CPU per request (warm-up included on both sides of the division).
    cpu_us_per_req: f64,
    /// Server CPU seconds per wall second: 1.0 is one core busy throughout.
    server_cores: f64,
    /// The client's (this process's) CPU seconds per wall second.
    client_cores: f64,
    /// Requests per `fsync`/`fdatasync` of the server (the group commit's mean group size, a
    /// little under it: the hub's own checkpoints sync too); `None` without `perf` or syncs.
    per_sync: Option<f64>,
}

fn send_op(pool: Arc<Vec<pb::SendSignalRequest>>) -> Op {
    Arc::new(move |mut c: HubClient, n: u64| {
        let req = pool.get(n as usize).cloned();
        Box::pin(async move {
            match req {
                Some(r) => c.send_signal(r).await.map(|_| ()),
                None => Err(signaalhub_client::ClientError::Config(
                    "the pool of sealed requests ran out; raise --secs estimates".into(),
                )),
            }
        })
    })
}

/// Seals enough requests for a phase expected to run at `expect` per second.
fn pool(
    sealer: &Sealer,
    prefix: &str,
    expect: f64,
    a: &RunArgs,
) -> anyhow::Result<Arc<Vec<pb::SendSignalRequest>>> {
    let secs = (a.secs + a.warmup_secs) as f64;
    let n = ((expect * secs * 3.0) as usize).clamp(5_000, 300_000);
    Ok(Arc::new(sealer.requests(prefix, n)?))
}

async fn phase_send(
    h: &HubUnderTest,
    a: &RunArgs,
    tag: &str,
    in_flight: usize,
    big: bool,
    expect: f64,
) -> anyhow::Result<Phase> {
    let sealer = if big { &h.sealer16 } else { &h.sealer4 };
    let reqs = pool(sealer, &format!("{}-{tag}", h.name), expect, a)?;
    let clients = if in_flight == 1 {
        &h.clients[..1]
    } else {
        &h.clients[..]
    };
    Ok(measured(&h.proc, clients, in_flight, a, send_op(reqs)).await)
}

/// A closed-loop phase against `proc`, with its server CPU per request.
async fn measured(
    proc: &Proc,
    clients: &[HubClient],
    in_flight: usize,
    a: &RunArgs,
    op: Op,
) -> Phase {
    let me = std::process::id();
    let probe = setup::SyncProbe::start(
        proc.pid(),
        (a.secs + a.warmup_secs) as f64,
        a.dir.join("perf-syncs.csv"),
    );
    let (cpu0, client0, t0) = (proc.cpu_secs(), setup::cpu_secs(me), Instant::now());
    let s = closed_loop(
        clients,
        in_flight,
        Duration::from_secs(a.warmup_secs),
        Duration::from_secs(a.secs),
        op,
    )
    .await;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = proc.cpu_secs() - cpu0;
    let client = setup::cpu_secs(me) - client0;
    let total = (s.throughput() * (a.secs + a.warmup_secs) as f64).max(1.0);
    let syncs = probe.finish().filter(|n| *n > 0);
    Phase {
        cpu_us_per_req: cpu * 1e6 / total,
        server_cores: cpu / wall,
        client_cores: client / wall,
        per_sync: syncs.map(|n| total / n as f64),
        samples: s,
    }
}

async fn phase_sink(
    clients: &[HubClient],
    sink: &Proc,
    req: pb::SendSignalRequest,
    a: &RunArgs,
) -> Phase {
    let req = Arc::new(req);
    let op: Op = Arc::new(move |mut c: HubClient, _n: u64| {
        let r = (*req).clone();
        Box::pin(async move { c.send_signal(r).await.map(|_| ()) })
    });
    measured(sink, clients, a.in_flight, a, op).await
}

/// The child of the `HasMaatregel` phase: not one the signals are about, so that the phase's log
/// entries (one per query) do not lengthen their history.
const MAATREGEL_CHILD: &str = "123456782";

/// `HasMaatregel` from the wijkteam, which registered its involvement with the child, about a
/// child under supervision (OTS) registered by the jeugdbescherming: the minimal answer, one log
/// entry and one notification to the GI per query.
async fn phase_has_maatregel(h: &HubUnderTest, a: &RunArgs) -> anyhow::Result<Phase> {
    let kit = h_kit(a);
    let mut gi = setup::connect(&kit, "jeugdbescherming", &h.proc.addr, 1)
        .await?
        .remove(0);
    let wijkteam = setup::connect(&kit, "wijkteam", &h.proc.addr, a.connections).await?;
    let mut w = wijkteam[0].clone();
    if !w
        .has_maatregel(MAATREGEL_CHILD)
        .await
        .is_ok_and(|r| r.exists)
    {
        // First round on this hub: the consent that gives the wijkteam its ground, the
        // involvement and the maatregel (later rounds reuse them).
        setup::consent_basis_for(&mut h.clients[0].clone(), MAATREGEL_CHILD).await?;
        w.register_involvement(pb::RegisterInvolvementRequest {
            subject_bsn: MAATREGEL_CHILD.into(),
            contact_professional: "wijkcoach (bench), 026-0000000".into(),
            ..Default::default()
        })
        .await?;
        gi.register_maatregel(pb::RegisterMaatregelRequest {
            subject_bsn: MAATREGEL_CHILD.into(),
            kind: pb::MaatregelKind::Ots as i32,
            contact_point: "GI (bench), 026-1111111".into(),
            ..Default::default()
        })
        .await?;
    }
    anyhow::ensure!(
        w.has_maatregel(MAATREGEL_CHILD).await?.exists,
        "HasMaatregel must find the bench maatregel"
    );
    let op: Op = Arc::new(move |mut c: HubClient, _n: u64| {
        Box::pin(async move {
            if c.has_maatregel(MAATREGEL_CHILD).await?.exists {
                Ok(())
            } else {
                Err(signaalhub_client::ClientError::Config(
                    "HasMaatregel found none".into(),
                ))
            }
        })
    });
    Ok(measured(&h.proc, &wijkteam, a.in_flight, a, op).await)
}

async fn phase_check_basis(h: &HubUnderTest, a: &RunArgs) -> anyhow::Result<Phase> {
    let wt = setup::kit_org(&h_kit(a), "wijkteam")?;
    let req = Arc::new(pb::CheckBasisRequest {
        recipient_oin: wt.oin,
        purpose: "vroegtijdige_ondersteuning".into(),
        categories: vec!["zorgen_thuissituatie".into()],
        subject_bsn: setup::CHILD.into(),
        basis: Some(h.basis.clone()),
        ..Default::default()
    });
    let op: Op = Arc::new(move |mut c: HubClient, _n: u64| {
        let r = (*req).clone();
        Box::pin(async move {
            let d = c.check_basis(r).await?;
            if d.outcome == pb::Outcome::Allow as i32 {
                Ok(())
            } else {
                Err(signaalhub_client::ClientError::Config(
                    "CheckBasis denied".into(),
                ))
            }
        })
    });
    Ok(measured(&h.proc, &h.clients, a.in_flight, a, op).await)
}

fn h_kit(a: &RunArgs) -> PathBuf {
    a.dir.join("kit")
}

/// One fixed offered load's figures.
struct Offered {
    rate: f64,
    /// Sender latency from the intended send time.
    samples: Samples,
    /// Delivery to the streaming recipient, from the send and from the sender's answer, µs.
    from_send: Vec<u64>,
    from_answer: Vec<u64>,
    /// Sent but not delivered within 2 s after the phase.
    missing: u64,
}

/// Open loop at `rate` on the hub `h` with the wijkteam streaming its inbox: sender latency
/// from the intended send time, and delivery latency to the recipient.
async fn phase_open(
    h: &HubUnderTest,
    kit: &Path,
    a: &RunArgs,
    rate: f64,
) -> anyhow::Result<Offered> {
    let warm = Duration::from_secs(2);
    let window = Duration::from_secs(a.rate_secs);
    let n = ((warm + window).as_secs_f64() * rate).ceil() as usize + 10;
    let reqs = Arc::new(h.sealer4.requests(&format!("open{rate}"), n)?);
    type Times = Arc<Mutex<HashMap<String, (Instant, Option<Instant>)>>>;
    let sent: Times = Arc::new(Mutex::new(HashMap::new()));
    let delivered: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));

    let mut wt = connect(kit, "wijkteam", &h.proc.addr, 1).await?.remove(0);
    let mut inbox = wt.stream_inbox(0).await?;
    let dl = Arc::clone(&delivered);
    let reader = tokio::spawn(async move {
        use tokio_stream::StreamExt;
        while let Some(Ok(item)) = inbox.next().await {
            if let Ok(mut m) = dl.lock() {
                m.entry(item.signal_id).or_insert_with(Instant::now);
            }
        }
    });
    let s2 = Arc::clone(&sent);
    let op: Op = Arc::new(move |mut c: HubClient, i: u64| {
        let req = reqs.get(i as usize).cloned();
        let sent = Arc::clone(&s2);
        Box::pin(async move {
            let Some(r) = req else {
                return Err(signaalhub_client::ClientError::Config(
                    "pool ran out".into(),
                ));
            };
            let id = r.signal_id.clone();
            let t0 = Instant::now();
            if let Ok(mut m) = sent.lock() {
                m.insert(id.clone(), (t0, None));
            }
            c.send_signal(r).await?;
            if let Ok(mut m) = sent.lock()
                && let Some(e) = m.get_mut(&id)
            {
                e.1 = Some(Instant::now());
            }
            Ok(())
        })
    });
    let samples = open_loop(&h.clients, rate, warm, window, op).await;
    // Let the last deliveries arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    reader.abort();
    let sent = sent.lock().map(|m| m.clone()).unwrap_or_default();
    let delivered = delivered.lock().map(|m| m.clone()).unwrap_or_default();
    let (mut from_send, mut from_answer, mut missing) = (Vec::new(), Vec::new(), 0u64);
    for (id, (t0, answered)) in &sent {
        match delivered.get(id) {
            Some(d) => {
                from_send.push(d.saturating_duration_since(*t0).as_micros() as u64);
                if let Some(t1) = answered {
                    from_answer.push(d.saturating_duration_since(*t1).as_micros() as u64);
                }
            }
            None => missing += 1,
        }
    }
    Ok(Offered {
        rate,
        samples,
        from_send,
        from_answer,
        missing,
    })
}

fn pct(v: &[u64], p: f64) -> f64 {
    Samples {
        latencies_us: v.to_vec(),
        ..Samples::default()
    }
    .pct_ms(p)
}

async fn create_pg_database(url: &str) -> anyhow::Result<(String, String)> {
    use sqlx::Connection;
    let name = format!("sh_bench_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(url);
    Ok((format!("{base}/{name}"), name))
}

async fn drop_pg_database(url: &str, name: &str) {
    use sqlx::Connection;
    if let Ok(mut admin) = sqlx::PgConnection::connect(url).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
        let _ = admin.close().await;
    }
}

/// Every round's figures per scenario (index: round).
#[derive(Default)]
struct Series {
    sink: Vec<Phase>,
    group: Vec<Phase>,
    single: Vec<Phase>,
    pg: Vec<Phase>,
    one: Vec<Phase>,
    big: Vec<Phase>,
    check: Vec<Phase>,
    maatregel: Vec<Phase>,
    /// `HasMaatregel` on the hub with `--involvements` others.
    maatregel_many: Vec<Phase>,
    /// The sink and the group-commit hub started unpinned, the client free.
    sink_free: Vec<Phase>,
    group_free: Vec<Phase>,
    /// The floor child's parts.
    floor: Vec<floor::Floor>,
}

impl Series {
    /// Each round's floor, µs per signal: the sink's CPU per request (pinned, or as the main
    /// phases ran) + the floor child's parts.
    fn floor_us(&self) -> Vec<f64> {
        self.sink
            .iter()
            .zip(&self.floor)
            .map(|(s, f)| s.cpu_us_per_req + f.own_us())
            .collect()
    }

    /// Each round's sink CPU per request, µs.
    fn sink_us(v: &[Phase]) -> Vec<f64> {
        v.iter().map(|p| p.cpu_us_per_req).collect()
    }
}

/// A bare sink as a child process on `core`, and `a.connections` connections to it.
async fn start_sink(
    a: &RunArgs,
    kit: &Path,
    core: Option<usize>,
) -> anyhow::Result<(Proc, Vec<HubClient>)> {
    let addr = format!("127.0.0.1:{}", free_port()?);
    let sink = spawn_self(
        &[
            "sink".into(),
            "--kit".into(),
            kit.display().to_string(),
            "--listen".into(),
            addr.clone(),
        ],
        core,
        addr.clone(),
    )?;
    let clients = connect(kit, "school", &addr, a.connections).await?;
    Ok((sink, clients))
}

/// The floor child on the servers' core, its SQLite part in groups of `group` (or
/// `--floor-group`) with the rows the group-commit hub stored for `signal_id`.
async fn phase_floor(
    a: &RunArgs,
    request: &Path,
    signal_id: String,
    group: Option<f64>,
) -> anyhow::Result<floor::Floor> {
    let group = a
        .floor_group
        .or(group.map(|g| g.round().max(1.0) as usize))
        .unwrap_or(10);
    let args = floor::FloorArgs {
        kit: h_kit(a),
        request: request.to_path_buf(),
        hub_database: a.dir.join("group.sqlite"),
        signal_id,
        database: a.dir.join("floor.sqlite"),
        group,
        secs: a.floor_secs,
    };
    let core = a.server_core();
    tokio::task::spawn_blocking(move || floor::measure(&args, core)).await?
}

async fn run(a: RunArgs) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(&a.dir);
    std::fs::create_dir_all(&a.dir)?;
    let dir = std::fs::canonicalize(&a.dir)?;
    let a = RunArgs {
        dir: dir.clone(),
        ..a
    };
    let kit = dir.join("kit");
    eprintln!("bench: dev kit in {}", kit.display());
    signaalhub_server::devkit::init(&kit, true).await?;
    let sync = baseline::sync_rate(&dir, Duration::from_secs(2))?;
    eprintln!("bench: disk sync rate {sync:.0}/s");

    // Servers, each pinned to core 1 (unless unpinned); the client stays on core 0.
    let core = a.server_core();
    let (sink, sink_clients) = start_sink(&a, &kit, core).await?;
    let mut hubs = Vec::new();
    for (name, group) in [("group", true), ("single", false), ("open", true)] {
        let db = dir.join(format!("{name}.sqlite"));
        setup::copy_sqlite(&kit, &db)?;
        hubs.push(start_hub(&a, &kit, name, db.display().to_string(), group, core).await?);
    }
    // A hub whose store already holds `--involvements` others.
    let mut many = None;
    if a.involvements > 0 {
        let db = dir.join("many.sqlite");
        setup::copy_sqlite(&kit, &db)?;
        eprintln!(
            "bench: {} involvements into {}",
            a.involvements,
            db.display()
        );
        setup::fill_involvements(&db, a.involvements).await?;
        many = Some(start_hub(&a, &kit, "many", db.display().to_string(), true, core).await?);
    }
    // The unpinned pair, when the pinned phases run too.
    let mut free = None;
    if a.pinned() && a.unpinned() {
        let db = dir.join("free.sqlite");
        setup::copy_sqlite(&kit, &db)?;
        let hub = start_hub(&a, &kit, "free", db.display().to_string(), true, None).await?;
        free = Some((start_sink(&a, &kit, None).await?, hub));
    }
    let mut pg_db = None;
    if let Some(url) = &a.postgres {
        let (db_url, name) = create_pg_database(url)
            .await
            .context("create the PostgreSQL bench database")?;
        // The hub migrates the database at start; the directory is copied in afterwards.
        let probe = signaalhub_server::store::Store::open(&db_url).await?;
        probe.close().await;
        setup::copy_directory_to_postgres(&kit, &db_url).await?;
        hubs.push(start_hub(&a, &kit, "pg", db_url, true, core).await?);
        pg_db = Some(name);
    }
    let sink_req = hubs[0].sealer4.requests("sink", 1)?.remove(0);
    // The request whose envelope the floor verifies: sealed as every hub request is.
    let request_file = dir.join("floor-request.bin");
    std::fs::write(&request_file, prost::Message::encode_to_vec(&sink_req))?;

    let mut s = Series::default();
    let mut expect_group = 3_000.0;
    let mut expect_single = 1_000.0;
    let mut expect_pg = 2_000.0;
    for round in 0..a.rounds {
        eprintln!("bench: round {} of {}", round + 1, a.rounds);
        s.sink
            .push(phase_sink(&sink_clients, &sink, sink_req.clone(), &a).await);
        let g = phase_send(
            &hubs[0],
            &a,
            &format!("r{round}"),
            a.in_flight,
            false,
            expect_group,
        )
        .await?;
        expect_group = g.samples.throughput().max(500.0);
        let group_size = g.per_sync;
        s.group.push(g);
        s.floor.push(
            phase_floor(
                &a,
                &request_file,
                format!("{}-r{round}-0", hubs[0].name),
                group_size,
            )
            .await?,
        );
        let one = phase_send(&hubs[0], &a, &format!("one{round}"), 1, false, 1_000.0).await?;
        s.one.push(one);
        let si = phase_send(
            &hubs[1],
            &a,
            &format!("r{round}"),
            a.in_flight,
            false,
            expect_single,
        )
        .await?;
        expect_single = si.samples.throughput().max(200.0);
        s.single.push(si);
        if let Some(pg) = hubs.get(3) {
            let p = phase_send(pg, &a, &format!("r{round}"), a.in_flight, false, expect_pg).await?;
            expect_pg = p.samples.throughput().max(200.0);
            s.pg.push(p);
        }
        s.big.push(
            phase_send(
                &hubs[0],
                &a,
                &format!("big{round}"),
                a.in_flight,
                true,
                expect_group,
            )
            .await?,
        );
        s.check.push(phase_check_basis(&hubs[0], &a).await?);
        s.maatregel.push(phase_has_maatregel(&hubs[0], &a).await?);
        if let Some(m) = &many {
            s.maatregel_many.push(phase_has_maatregel(m, &a).await?);
        }
        if let Some(((free_sink, free_clients), free_hub)) = &free {
            // The client on every core for these two phases, then back on its own.
            setup::pin(std::process::id(), &setup::all_cores());
            s.sink_free
                .push(phase_sink(free_clients, free_sink, sink_req.clone(), &a).await);
            let g = phase_send(
                free_hub,
                &a,
                &format!("r{round}"),
                a.in_flight,
                false,
                expect_group,
            )
            .await;
            setup::pin(std::process::id(), CLIENT_CORE);
            s.group_free.push(g?);
        }
    }
    let mut offered = Vec::new();
    for rate in &a.rates {
        eprintln!("bench: open loop at {rate}/s for {} s", a.rate_secs);
        offered.push(phase_open(&hubs[2], &kit, &a, *rate).await?);
    }
    eprintln!("bench: raw SQLite and token micro-benchmarks");
    let mut raw = Vec::new();
    for batch in [1usize, 10, 50] {
        raw.push((
            batch,
            baseline::raw_sqlite(&dir, batch, 4096, Duration::from_secs(a.secs)).await?,
        ));
    }
    let tokens = baseline::token_figures(&kit).await?;
    drop(hubs);
    drop(sink);
    drop(free);
    if let (Some(url), Some(name)) = (&a.postgres, &pg_db) {
        drop_pg_database(url, name).await;
    }

    report(&a, sync, &s, &offered, &raw, tokens);
    Ok(())
}

fn thr(v: &[Phase]) -> f64 {
    median(v.iter().map(|p| p.samples.throughput()).collect())
}
fn p(v: &[Phase], q: f64) -> f64 {
    median(v.iter().map(|p| p.samples.pct_ms(q)).collect())
}
fn cpu(v: &[Phase]) -> f64 {
    median(v.iter().map(|p| p.cpu_us_per_req).collect())
}
fn errs(v: &[Phase]) -> u64 {
    v.iter().map(|p| p.samples.errors).sum()
}
fn ratio(a: &[Phase], b: &[Phase]) -> f64 {
    median(
        a.iter()
            .zip(b)
            .map(|(x, y)| x.samples.throughput() / y.samples.throughput())
            .collect(),
    )
}
/// The median of the per-round ratios of `a`'s CPU per request to `base` (µs).
fn cpu_ratio(a: &[Phase], base: &[f64]) -> f64 {
    median(
        a.iter()
            .zip(base)
            .map(|(x, b)| x.cpu_us_per_req / b)
            .collect(),
    )
}
/// The median over rounds of `f` of each phase.
fn med(v: &[Phase], f: impl Fn(&Phase) -> Option<f64>) -> f64 {
    median(v.iter().filter_map(f).collect())
}
fn first_error(v: &[Phase]) -> String {
    v.iter()
        .find_map(|p| p.samples.first_error.clone())
        .map(|e| format!(" (first: {e})"))
        .unwrap_or_default()
}
/// `x` to `digits` decimals, or a dash when it is not a number.
fn num(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "—".into()
    }
}

fn report(
    a: &RunArgs,
    sync: f64,
    s: &Series,
    offered: &[Offered],
    raw: &[(usize, f64)],
    t: baseline::TokenFigures,
) {
    let pinning = if a.pinned() { "pinned" } else { "unpinned" };
    println!("## signaalhub-bench run\n");
    println!(
        "Rounds: {} interleaved, {} s measured after {} s warm-up per closed-loop phase; {} in flight over {} connections; pinning: {:?} (pinned: client on core 0, servers and the floor on core 1). Disk: {:.0} fdatasync/s (4 KB). Cores online: {}.\n",
        a.rounds,
        a.secs,
        a.warmup_secs,
        a.in_flight,
        a.connections,
        a.pinning,
        sync,
        setup::all_cores()
    );

    let floor_us = s.floor_us();
    let f = |g: fn(&floor::Floor) -> f64| median(s.floor.iter().map(g).collect());
    println!(
        "### The floor: one 4 KB signal's least CPU on one core (medians of {} rounds)\n",
        s.floor.len()
    );
    println!("| part | µs per signal |");
    println!("|---|---|");
    println!(
        "| bare tonic sink: gRPC + mTLS, SendSignal 4 KB ({pinning}) | {:.1} |",
        cpu(&s.sink)
    );
    println!(
        "| Ed25519 verification of the envelope's signing input (ring) | {:.1} |",
        f(|x| x.verify_us)
    );
    println!(
        "| SQLite insert of the signal's rows (rusqlite, prepared, WAL + synchronous=FULL), {} per transaction | {:.1} |",
        num(f(|x| x.group as f64), 0),
        f(|x| x.insert_us)
    );
    println!(
        "| log entry JSON + Merkle leaf SHA-256 | {:.1} |",
        f(|x| x.entry_us)
    );
    println!("| **floor** | **{:.1}** |", median(floor_us.clone()));
    println!();

    println!(
        "### Closed-loop phases: throughput and CPU per request (medians of per-round figures and ratios)\n"
    );
    println!(
        "| scenario | pinning | throughput/s | server CPU µs/req | per round | hub / sink CPU | hub / floor CPU | server cores busy | client cores busy | requests per sync | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let row = |name: &str, pin: &str, v: &[Phase], sink: &[Phase], floor: Option<&[f64]>| {
        if v.is_empty() {
            return;
        }
        println!(
            "| {name} | {pin} | {:.0} | {:.0} | {} | {} | {} | {:.2} | {:.2} | {} | {}{} |",
            thr(v),
            cpu(v),
            v.iter()
                .map(|p| format!("{:.0}", p.cpu_us_per_req))
                .collect::<Vec<_>>()
                .join(" / "),
            num(cpu_ratio(v, &Series::sink_us(sink)), 2),
            num(floor.map_or(f64::NAN, |fl| cpu_ratio(v, fl)), 2),
            med(v, |p| Some(p.server_cores)),
            med(v, |p| Some(p.client_cores)),
            num(med(v, |p| p.per_sync), 1),
            errs(v),
            first_error(v)
        );
    };
    let fl = Some(floor_us.as_slice());
    row(
        "bare tonic sink, SendSignal 4 KB, mTLS",
        pinning,
        &s.sink,
        &s.sink,
        fl,
    );
    row(
        "hub SendSignal 4 KB, SQLite FULL, group commit",
        pinning,
        &s.group,
        &s.sink,
        fl,
    );
    row(
        "bare tonic sink, SendSignal 4 KB, mTLS",
        "unpinned",
        &s.sink_free,
        &s.sink_free,
        fl,
    );
    row(
        "hub SendSignal 4 KB, SQLite FULL, group commit",
        "unpinned",
        &s.group_free,
        &s.sink_free,
        fl,
    );
    row(
        "hub SendSignal 4 KB, SQLite FULL, one transaction per request",
        pinning,
        &s.single,
        &s.sink,
        fl,
    );
    row(
        "hub SendSignal 4 KB, PostgreSQL, group commit",
        pinning,
        &s.pg,
        &s.sink,
        fl,
    );
    row(
        "hub SendSignal 4 KB, 1 in flight",
        pinning,
        &s.one,
        &s.sink,
        fl,
    );
    row(
        "hub SendSignal 16 KB, SQLite FULL, group commit",
        pinning,
        &s.big,
        &s.sink,
        None,
    );
    row("hub CheckBasis", pinning, &s.check, &s.sink, None);
    row(
        "hub HasMaatregel (logged, GI notified), SQLite FULL",
        pinning,
        &s.maatregel,
        &s.sink,
        None,
    );
    if !s.maatregel_many.is_empty() {
        row(
            &format!(
                "hub HasMaatregel, {} other involvements in the store",
                a.involvements
            ),
            pinning,
            &s.maatregel_many,
            &s.sink,
            None,
        );
    }
    println!();
    println!(
        "Group commit / one transaction per request, throughput: {:.2} (target >= 3). One in flight, latency p50 / p99: {:.2} / {:.2} ms (target <= 1 / 3 ms).",
        ratio(&s.group, &s.single),
        p(&s.one, 50.0),
        p(&s.one, 99.0)
    );
    println!();

    println!(
        "### Fixed offered loads (open loop, {pinning}; latency from the intended send time; {} s each after 2 s warm-up)\n",
        a.rate_secs
    );
    println!(
        "| offered/s | answered/s | p50 ms | p99 ms | max ms | errors | delivery p50 / p99 ms from the answer | not delivered |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for o in offered {
        println!(
            "| {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {}{} | {:.2} / {:.2} | {} of {} |",
            o.rate,
            o.samples.throughput(),
            o.samples.pct_ms(50.0),
            o.samples.pct_ms(99.0),
            o.samples.pct_ms(100.0),
            o.samples.errors,
            o.samples
                .first_error
                .as_ref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default(),
            pct(&o.from_answer, 50.0),
            pct(&o.from_answer, 99.0),
            o.missing,
            o.from_send.len() as u64 + o.missing
        );
    }
    println!();
    println!(
        "Raw SQLite (sqlx), same pragmas (WAL, synchronous=FULL), 4 KB rows + one log row each:"
    );
    for (batch, rate) in raw {
        println!("- {batch} per transaction: {rate:.0} rows/s");
    }
    println!();
    println!(
        "Bearer token (EdDSA JWT): uncached validation {:.0} ns = {:.2} x raw Ed25519 verify ({:.0} ns); cached (the per-request path) {:.0} ns = {:.3} x (target <= 1.2 x).",
        t.uncached_ns,
        t.uncached_ns / t.raw_ns,
        t.raw_ns,
        t.cached_ns,
        t.cached_ns / t.raw_ns
    );
}
