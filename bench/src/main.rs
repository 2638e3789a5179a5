//! `signaalhub-bench`: the hub's speed on this machine as ratios against baselines measured in the
//! same run — a bare tonic sink over the same mutual TLS, the hub with one transaction per request,
//! raw SQLite with the hub's pragmas, raw Ed25519 — with the disk's sync rate recorded, since
//! disks differ a hundredfold. Never used for assertions in tests.
//!
//! `cargo run --release -p signaalhub-bench` (see docs/BENCHMARKS.md for what each line means).
#![allow(clippy::print_stdout)]

mod baseline;
mod flood;
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
use setup::{Proc, Sealer, connect, consent_basis, free_port, spawn_self};
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
    /// Connections the in-flight requests share.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Open-loop rate, signals per second.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Open-loop measured seconds.
    #[arg(long, default_value_t = 20)]
    rate_secs: u64,
    /// Also run the hub on this PostgreSQL server (a fresh database is created and dropped).
    #[arg(long, env = "SIGNAALHUB_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
    /// Do not pin the client to core 0 and the servers to core 1.
    #[arg(long)]
    no_pin: bool,
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
                let _ = std::process::Command::new("taskset")
                    .args(["-a", "-p", "-c", "0", &std::process::id().to_string()])
                    .stdout(std::process::Stdio::null())
                    .status();
            }
            rt.block_on(flood::run(args))
        }
        Cmd::LogVerifyChild { kit, database } => rt.block_on(logverify::child(&kit, &database)),
        Cmd::StartupChild { kit, database } => {
            rt.block_on(logverify::startup_child(&kit, &database))
        }
        Cmd::Run(args) => {
            if !args.no_pin {
                // All of this process's threads, and those it starts later, on core 0.
                let _ = std::process::Command::new("taskset")
                    .args(["-a", "-p", "-c", "0", &std::process::id().to_string()])
                    .stdout(std::process::Stdio::null())
                    .status();
            }
            rt.block_on(run(args))
        }
    }
}

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
) -> anyhow::Result<HubUnderTest> {
    let addr = format!("127.0.0.1:{}", free_port()?);
    let args: Vec<String> = vec![
        "hub".into(),
        "--kit".into(),
        kit.display().to_string(),
        "--database".into(),
        database,
        "--listen".into(),
        addr.clone(),
    ]
    .into_iter()
    .chain(group.then(|| "--group-commit".to_string()))
    .collect();
    let proc = spawn_self(&args, (!a.no_pin).then_some(1), addr.clone())?;
    let clients = connect(kit, "school", &addr, a.connections).await?;
    let mut school = clients[0].clone();
    let basis = consent_basis(&mut school).await?;
    let sealer4 = Sealer::new(kit, &mut school, basis.clone(), 4096).await?;
    let sealer16 = Sealer::new(kit, &mut school, basis.clone(), 16 * 1024).await?;
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
    cpu_us_per_req: f64,
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
    let cpu0 = proc.cpu_secs();
    let s = closed_loop(
        clients,
        in_flight,
        Duration::from_secs(a.warmup_secs),
        Duration::from_secs(a.secs),
        op,
    )
    .await;
    let cpu = proc.cpu_secs() - cpu0;
    let total = (s.throughput() * (a.secs + a.warmup_secs) as f64).max(1.0);
    Phase {
        cpu_us_per_req: cpu * 1e6 / total,
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
    if !w.has_maatregel(setup::CHILD).await.is_ok_and(|r| r.exists) {
        // First round on this hub: the involvement and the maatregel (later rounds reuse them).
        w.register_involvement(pb::RegisterInvolvementRequest {
            subject_bsn: setup::CHILD.into(),
            contact_professional: "wijkcoach (bench), 026-0000000".into(),
            ..Default::default()
        })
        .await?;
        gi.register_maatregel(pb::RegisterMaatregelRequest {
            subject_bsn: setup::CHILD.into(),
            kind: pb::MaatregelKind::Ots as i32,
            contact_point: "GI (bench), 026-1111111".into(),
            ..Default::default()
        })
        .await?;
    }
    anyhow::ensure!(
        w.has_maatregel(setup::CHILD).await?.exists,
        "HasMaatregel must find the bench maatregel"
    );
    let op: Op = Arc::new(move |mut c: HubClient, _n: u64| {
        Box::pin(async move {
            if c.has_maatregel(setup::CHILD).await?.exists {
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

/// Open loop at `a.rate` on a fresh hub with the wijkteam streaming its inbox: sender latency
/// from the intended send time, and delivery latency to the recipient.
async fn phase_open(
    h: &HubUnderTest,
    kit: &Path,
    a: &RunArgs,
) -> anyhow::Result<(Samples, Vec<u64>, Vec<u64>, u64)> {
    let warm = Duration::from_secs(2);
    let window = Duration::from_secs(a.rate_secs);
    let n = ((warm + window).as_secs_f64() * a.rate).ceil() as usize + 10;
    let reqs = Arc::new(h.sealer4.requests("open", n)?);
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
    let samples = open_loop(&h.clients, a.rate, warm, window, op).await;
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
    Ok((samples, from_send, from_answer, missing))
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

    // Servers, each pinned to core 1; the client stays on core 0.
    let sink_addr = format!("127.0.0.1:{}", free_port()?);
    let sink = spawn_self(
        &[
            "sink".into(),
            "--kit".into(),
            kit.display().to_string(),
            "--listen".into(),
            sink_addr.clone(),
        ],
        (!a.no_pin).then_some(1),
        sink_addr.clone(),
    )?;
    let sink_clients = connect(&kit, "school", &sink_addr, a.connections).await?;
    let mut hubs = Vec::new();
    for (name, group) in [("group", true), ("single", false), ("open", true)] {
        let db = dir.join(format!("{name}.sqlite"));
        setup::copy_sqlite(&kit, &db)?;
        hubs.push(start_hub(&a, &kit, name, db.display().to_string(), group).await?);
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
        hubs.push(start_hub(&a, &kit, "pg", db_url, true).await?);
        pg_db = Some(name);
    }
    let sink_req = hubs[0].sealer4.requests("sink", 1)?.remove(0);

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
        s.group.push(g);
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
    }
    eprintln!("bench: open loop at {}/s for {} s", a.rate, a.rate_secs);
    let (open, from_send, from_answer, missing) = phase_open(&hubs[2], &kit, &a).await?;
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
    if let (Some(url), Some(name)) = (&a.postgres, &pg_db) {
        drop_pg_database(url, name).await;
    }

    report(
        &a,
        sync,
        &s,
        &open,
        &from_send,
        &from_answer,
        missing,
        &raw,
        tokens,
    );
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
fn first_error(v: &[Phase]) -> String {
    v.iter()
        .find_map(|p| p.samples.first_error.clone())
        .map(|e| format!(" (first: {e})"))
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn report(
    a: &RunArgs,
    sync: f64,
    s: &Series,
    open: &Samples,
    from_send: &[u64],
    from_answer: &[u64],
    missing: u64,
    raw: &[(usize, f64)],
    t: baseline::TokenFigures,
) {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!("## signaalhub-bench run\n");
    println!(
        "Rounds: {} interleaved, {} s measured after {} s warm-up per phase; {} in flight over {} connections; client pinned to core 0, servers to core 1{}. Disk: {:.0} fdatasync/s (4 KB). Cores seen by the client: {}.\n",
        a.rounds,
        a.secs,
        a.warmup_secs,
        a.in_flight,
        a.connections,
        if a.no_pin { " (pinning off)" } else { "" },
        sync,
        cores
    );
    println!("| scenario | throughput/s (median) | p50 ms | p99 ms | server CPU µs/req | errors |");
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, v: &[Phase]| {
        if v.is_empty() {
            return;
        }
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.0} | {}{} |",
            thr(v),
            p(v, 50.0),
            p(v, 99.0),
            cpu(v),
            errs(v),
            first_error(v)
        );
    };
    row("bare tonic sink, SendSignal 4 KB, mTLS", &s.sink);
    row("hub SendSignal 4 KB, SQLite FULL, group commit", &s.group);
    row(
        "hub SendSignal 4 KB, SQLite FULL, one transaction per request",
        &s.single,
    );
    row("hub SendSignal 4 KB, PostgreSQL, group commit", &s.pg);
    row("hub SendSignal 16 KB, SQLite FULL, group commit", &s.big);
    row("hub SendSignal 4 KB, 1 in flight", &s.one);
    row("hub CheckBasis", &s.check);
    row(
        "hub HasMaatregel (logged, GI notified), SQLite FULL",
        &s.maatregel,
    );
    println!();
    println!("| ratio (median of per-round ratios) | value | target |");
    println!("|---|---|---|");
    println!(
        "| hub (group commit) / sink throughput | {:.3} | >= 0.35 |",
        ratio(&s.group, &s.sink)
    );
    println!(
        "| group commit / one transaction per request | {:.2} | >= 3 |",
        ratio(&s.group, &s.single)
    );
    if !s.pg.is_empty() {
        println!(
            "| hub on PostgreSQL / sink throughput | {:.3} | |",
            ratio(&s.pg, &s.sink)
        );
    }
    println!(
        "| latency 1 in flight p50 / p99 | {:.2} / {:.2} ms | <= 1 / 3 ms |",
        p(&s.one, 50.0),
        p(&s.one, 99.0)
    );
    println!(
        "| latency {} in flight p50 / p99 | {:.2} / {:.2} ms | <= 5 / 10 ms |",
        a.in_flight,
        p(&s.group, 50.0),
        p(&s.group, 99.0)
    );
    println!();
    println!(
        "Open loop, {:.0} signals/s for {} s (after 2 s warm-up), latency from the intended send time: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, errors {}{} (target p99 <= 5 ms, no errors).",
        a.rate,
        a.rate_secs,
        open.pct_ms(50.0),
        open.pct_ms(99.0),
        open.pct_ms(100.0),
        open.errors,
        open.first_error
            .as_ref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    println!(
        "Delivery to the streaming recipient: from the sender's answer (commit + return trip) p50 {:.2} ms, p99 {:.2} ms; from the send p50 {:.2} ms, p99 {:.2} ms; {} of {} sent not delivered within 2 s after the run (target commit-to-recipient p99 <= 50 ms).",
        pct(from_answer, 50.0),
        pct(from_answer, 99.0),
        pct(from_send, 50.0),
        pct(from_send, 99.0),
        missing,
        from_send.len() as u64 + missing
    );
    println!();
    println!("Raw SQLite, same pragmas (WAL, synchronous=FULL), 4 KB rows + one log row each:");
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
