//! `log-verify`: `signaalhub log verify` over a disclosure log of millions of entries, end to end.
//!
//! The database is built the way the hub builds it — entries sequenced through the store's own
//! [`Store::append_log`] (log row, subject and organisation index rows), then folded into tiles and
//! signed checkpoints by the hub's own integrator ([`Ledger::integrate_all`]) — in large
//! transactions, so building is bulk but every byte is in the hub's formats. Building is not
//! timed. What is timed is a child process doing exactly what `signaalhub log verify` does (load
//! the configuration, open the store, load the ledger's keys, [`verify`]): its wall time, CPU time
//! and peak resident memory (`VmHWM`, read by the child itself just before it exits).
//!
//!
//! Then the hub's start-up on the same database: a child process doing what `signaalhub serve`
//! does before it listens ([`Hub::build`]: configuration, TLS, pseudonym ring, store, directory,
//! convenant, log integration and the start-up check of the log), timed in three states: no
//! verification recorded (the first start after the upgrade that added the record: every entry
//! re-hashed, the work every start did before), right after that start (nothing new), and after
//! `--since` more entries were sequenced and integrated.
//!
//! Last, a subject access report: `--report-entries` of the log's entries are about one child
//! (a real BSN's pseudonym under the kit's key), and the school's privacy officer asks the report
//! of that child from a hub process pinned to core 1, page by page as client-lib assembles it;
//! timed are the whole report (wall), the hub process's CPU time over it, and the client's
//! verification of every proof against the checkpoint.
//!
//! [`Ledger::integrate_all`]: signaalhub_server::ledger::integrator::Ledger::integrate_all
//! [`verify`]: signaalhub_server::ledger::integrator::verify
//! [`Hub::build`]: signaalhub_server::Hub::build
use anyhow::{Context, bail};
use clap::Args;
use signaalhub_server::ledger::{Checks, EntryOutcome, Event, LogEntry, PendingEntry};
use signaalhub_server::store::Store;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of `log-verify`.
#[derive(Args, Debug, Clone)]
pub struct LogVerifyArgs {
    /// Working folder (dev kit and database; ~12 GB for 10 million entries).
    #[arg(long, default_value = "target/bench-log-verify")]
    pub dir: PathBuf,
    /// Entries in the log.
    #[arg(long, default_value_t = 10_000_000)]
    pub entries: u64,
    /// Entries sequenced per transaction while building.
    #[arg(long, default_value_t = 20_000)]
    pub batch: usize,
    /// Timed `verify` runs over the same database.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Timed start-up runs per state (0: no start-up figures).
    #[arg(long, default_value_t = 2)]
    pub startup_runs: usize,
    /// Entries sequenced and integrated before the last start-up state (a day of a national
    /// volume is about 40 000).
    #[arg(long, default_value_t = 40_000)]
    pub since: u64,
    /// Reuse a database of the right size left by an earlier `--keep` run instead of building.
    #[arg(long)]
    pub reuse: bool,
    /// Keep the database afterwards (it is deleted by default).
    #[arg(long)]
    pub keep: bool,
    /// Entries about one child (the school's signals to the wijkteam, spread evenly through the
    /// log) whose subject access report is then asked from a hub process and timed (0: none).
    #[arg(long, default_value_t = 10_000)]
    pub report_entries: u64,
    /// Entries per page of that report.
    #[arg(long, default_value_t = 1000)]
    pub report_page: u32,
}

fn db_path(dir: &Path) -> PathBuf {
    dir.join("log.sqlite")
}

fn remove_db(dir: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db_path(dir).display()));
    }
}

/// A hex pseudonym-shaped string (64 hex digits, as the hub's keyed pseudonyms are).
fn pseudonym(label: &str, i: u64) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, format!("{label}/{i}").as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Deterministic entries shaped like the hub's: a mix of sent and delivered signals (the bulk of
/// a real log), consents, reads, refusals and maatregel queries, with keyed-pseudonym subjects and
/// professionals, consent bases and the convenant version.
struct Generator {
    subjects: Vec<String>,
    pros: Vec<String>,
    orgs: Vec<String>,
    policy_version: String,
    start: i64,
    child: Option<ChildHistory>,
}

/// One child's entries among the others: every `stride`-th entry (at offset `stride / 2`) is the
/// school's signal to the wijkteam about the child, every tenth of them disclosed.
struct ChildHistory {
    subject: String,
    school: String,
    wijkteam: String,
    stride: u64,
}

impl ChildHistory {
    /// The history of [`crate::setup::CHILD`] in a log of `entries`, `about` of them about the
    /// child (`None` when `about` is 0).
    fn new(
        kit: &Path,
        db: &Path,
        entries: u64,
        about: u64,
    ) -> anyhow::Result<Option<ChildHistory>> {
        if about == 0 {
            return Ok(None);
        }
        if about > entries {
            bail!("--report-entries {about} is more than --entries {entries}");
        }
        let ring = signaalhub_server::load_pseudonym_ring(&config_for(kit, db)?)?;
        let bsn: signaalhub_server::ids::Bsn = crate::setup::CHILD.parse()?;
        Ok(Some(ChildHistory {
            subject: ring.subject(&bsn).as_str().to_owned(),
            school: crate::setup::kit_org(kit, "school")?.oin,
            wijkteam: crate::setup::kit_org(kit, "wijkteam")?.oin,
            stride: entries / about,
        }))
    }

    fn entry(&self, i: u64, at: i64) -> Option<PendingEntry> {
        let k = i.checked_sub(self.stride / 2)?;
        if !k.is_multiple_of(self.stride) {
            return None;
        }
        let actor = signaalhub_server::ledger::EntryActor {
            oin: &self.school,
            pseudonym: "pro-pseudonym",
            professional: "pro-1",
            role: "leerkracht",
        };
        let outcome = if (k / self.stride).is_multiple_of(10) {
            EntryOutcome::Disclosed
        } else {
            EntryOutcome::Recorded
        };
        Some(
            PendingEntry::new(actor, Event::SignalSent, outcome, at, "bench")
                .subjects([self.subject.clone()])
                .recipient(self.wijkteam.clone())
                .reference(format!("child-{i}")),
        )
    }
}

impl Generator {
    fn new(child: Option<ChildHistory>) -> Generator {
        Generator {
            child,
            subjects: (0..65_536).map(|i| pseudonym("subject", i)).collect(),
            pros: (0..1_024).map(|i| pseudonym("professional", i)).collect(),
            orgs: (0..64)
                .map(|i| format!("000000012345{:08}", 10_000 + i))
                .collect(),
            policy_version: format!(
                "convenant-vroegsignalering/2026.1 sha256:{}",
                pseudonym("convenant", 1)
            ),
            start: 1_764_000_000,
        }
    }

    fn entry(&self, i: u64) -> PendingEntry {
        let at = self.start + (i / 50) as i64;
        if let Some(e) = self.child.as_ref().and_then(|c| c.entry(i, at)) {
            return e;
        }
        let pick = |v: &Vec<String>, k: u64| v[(k % v.len() as u64) as usize].clone();
        // A signal's entries come in pairs (sent, then delivered); other acts are interleaved.
        let signal = i / 2;
        let kind = i % 20;
        let actor = pick(&self.orgs, signal.wrapping_mul(7));
        let recipient = pick(&self.orgs, signal.wrapping_mul(13) + 1);
        let subject = pick(&self.subjects, signal.wrapping_mul(2_654_435_761));
        let consent = |n: u64| format!("consent:{:032x}", signal.wrapping_mul(31) + n);
        let (event, outcome, basis, reasons, checks_consent) = match kind {
            0..=11 if kind.is_multiple_of(2) => (
                Event::SignalSent,
                EntryOutcome::Disclosed,
                vec![consent(0), consent(1)],
                vec![],
                true,
            ),
            0..=11 => (
                Event::SignalDelivered,
                EntryOutcome::Disclosed,
                vec![consent(0), consent(1)],
                vec![],
                true,
            ),
            12 | 13 => (
                Event::ConsentRecorded,
                EntryOutcome::Recorded,
                vec![],
                vec![],
                false,
            ),
            14 => (
                Event::SignalDenied,
                EntryOutcome::Denied,
                vec![consent(0)],
                vec!["consent_not_covering_purpose".to_string()],
                false,
            ),
            15 | 16 => (
                Event::MaatregelQueried,
                EntryOutcome::Disclosed,
                vec!["legal:jeugdwet_7_4_0".to_string()],
                vec![],
                false,
            ),
            17 => (
                Event::SignalRead,
                EntryOutcome::Recorded,
                vec![],
                vec![],
                false,
            ),
            _ => (
                Event::ConsentsListed,
                EntryOutcome::Recorded,
                vec![],
                vec![],
                false,
            ),
        };
        let with_recipient = !matches!(
            event,
            Event::ConsentRecorded | Event::ConsentsListed | Event::SignalRead
        );
        PendingEntry {
            entry: LogEntry {
                v: 1,
                event,
                at,
                actor_oin: actor,
                actor_pro: pick(&self.pros, i.wrapping_mul(40_503)),
                actor_role: "intern_begeleider".into(),
                subjects: vec![subject],
                recipient_oin: with_recipient.then_some(recipient),
                categories: vec!["zorgen_thuissituatie".into()],
                purpose: Some("vroegtijdige_ondersteuning".into()),
                basis,
                checks: Checks {
                    authorised: true,
                    relationship: false,
                    consent: checks_consent,
                    emergency: false,
                },
                outcome,
                reasons,
                policy_version: Some(self.policy_version.clone()),
                reference: Some(format!("sig-{signal:012}")),
            },
            professional: format!("medewerker-{}", i % 1_024),
            inform: None,
        }
    }
}

/// Builds (or reuses) the database, then times the verify runs and prints the report.
pub async fn run(a: LogVerifyArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&a.dir)?;
    let dir = std::fs::canonicalize(&a.dir)?;
    let kit = dir.join("kit");
    let db = db_path(&dir);
    let built = if a.reuse && db.exists() && kit.join("hub.toml").exists() {
        eprintln!("bench: reusing {}", db.display());
        None
    } else {
        remove_db(&dir);
        signaalhub_server::devkit::init(&kit, true).await?;
        crate::setup::copy_sqlite(&kit, &db)?;
        Some(build(&kit, &db, &a).await?)
    };
    let db_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);

    let mut runs = Vec::new();
    for run in 0..a.runs {
        eprintln!("bench: verify run {} of {}", run + 1, a.runs);
        runs.push(verify_child(&kit, &db)?);
    }
    let startups = startup_runs(&kit, &db, &a).await?;
    let report = if a.report_entries > 0 {
        Some(report_run(&kit, &db, &a).await?)
    } else {
        None
    };
    if !a.keep {
        remove_db(&dir);
    }
    let Some(first) = runs.first() else {
        bail!("--runs must be at least 1");
    };
    // A kept database grows by `--since` in every run with start-up figures.
    if first.entries < a.entries || first.integrated != first.entries {
        bail!(
            "the database holds {} entries ({} integrated), not the {} asked for (drop --reuse)",
            first.entries,
            first.integrated,
            a.entries
        );
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!("## signaalhub-bench log-verify\n");
    println!(
        "{} entries, {} checkpoints; database {:.2} GB; cores seen: {cores}; load average before the runs: {}.",
        first.entries,
        first.checkpoints,
        db_bytes as f64 / 1e9,
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    if let Some(b) = built {
        println!(
            "Build (not the measured figure): sequencing {:.0} s ({:.0} entries/s), integration into tiles and checkpoints {:.0} s.",
            b.sequence_secs,
            a.entries as f64 / b.sequence_secs,
            b.integrate_secs
        );
    }
    println!();
    println!(
        "| run | wall s (process) | verify s | entries/s | CPU s (user+sys) | peak RSS MiB | target |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (i, r) in runs.iter().enumerate() {
        println!(
            "| {} | {:.2} | {:.2} | {:.0} | {:.2} | {:.0} | < 30 s |",
            i + 1,
            r.wall_secs,
            r.verify_secs,
            r.entries as f64 / r.verify_secs,
            r.cpu_secs,
            r.peak_kib as f64 / 1024.0
        );
    }
    if !startups.is_empty() {
        println!();
        println!(
            "Start-up (`Hub::build`, everything `signaalhub serve` does before it listens), in a child process:"
        );
        println!();
        println!(
            "| state | log size | entries re-hashed | wall s (process) | Hub::build s | CPU s | peak RSS MiB | target |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        for (state, r) in &startups {
            println!(
                "| {state} | {} | {} | {:.2} | {:.3} | {:.2} | {:.0} | < 2 s |",
                r.tree_size,
                r.rehashed,
                r.wall_secs,
                r.build_secs,
                r.cpu_secs,
                r.peak_kib as f64 / 1024.0
            );
        }
    }
    if let Some(r) = report {
        println!();
        println!(
            "Subject access report of one child (hub pinned to core 1; the client assembles every page and verifies every proof):"
        );
        println!();
        println!(
            "| log size | entries about the child | pages of {} | asked and assembled s | hub CPU s | hub CPU ms per entry | client verify s | target |",
            a.report_page
        );
        println!("|---|---|---|---|---|---|---|---|");
        println!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.3} | {:.2} | <= 0.05 ms |",
            r.tree_size,
            r.entries,
            r.pages,
            r.wall_secs,
            r.hub_cpu_secs,
            r.hub_cpu_secs * 1e3 / r.entries as f64,
            r.verify_secs
        );
    }
    Ok(())
}

/// What the report phase measured.
#[derive(Debug)]
struct ReportRun {
    tree_size: u64,
    entries: usize,
    pages: u64,
    wall_secs: f64,
    hub_cpu_secs: f64,
    verify_secs: f64,
}

/// Serves the database from a hub process pinned to core 1 and asks the child's report as the
/// school's privacy officer (see the module's documentation).
async fn report_run(kit: &Path, db: &Path, a: &LogVerifyArgs) -> anyhow::Result<ReportRun> {
    use signaalhub_client::signaalhub_proto::pb;
    let addr = format!("127.0.0.1:{}", crate::setup::free_port()?);
    let args = crate::setup::hub_args(kit, &db.display().to_string(), &addr, true);
    eprintln!("bench: serving the log for the report");
    let hub = crate::setup::spawn_self(&args, Some(1), addr.clone())?;
    let opts = crate::setup::options_with_token(kit, "school", &addr, "fg-token.jwt")?;
    // The hub checks the log before it listens.
    let deadline = Instant::now() + std::time::Duration::from_secs(300);
    let mut fg = loop {
        match signaalhub_client::HubClient::connect(opts.clone()).await {
            Ok(c) => break c,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Err(e) => bail!("the hub did not come up: {e}"),
        }
    };
    eprintln!("bench: asking the report");
    let cpu0 = hub.cpu_secs();
    let t0 = Instant::now();
    let r = fg
        .access_report(pb::SubjectAccessReportRequest {
            subject_bsn: crate::setup::CHILD.into(),
            page_size: a.report_page,
            ..Default::default()
        })
        .await?;
    let wall_secs = t0.elapsed().as_secs_f64();
    let hub_cpu_secs = hub.cpu_secs() - cpu0;
    drop(hub);
    let cp = r
        .checkpoint
        .as_ref()
        .context("the report has no checkpoint")?;
    let trusted = std::collections::HashMap::from([(
        cp.key_id.clone(),
        <[u8; 32]>::try_from(cp.public_key.as_slice()).context("checkpoint key")?,
    )]);
    let t1 = Instant::now();
    let entries = signaalhub_client::verify_report(&r, &trusted)
        .map_err(|e| anyhow::anyhow!("the report does not verify: {e:?}"))?;
    let verify_secs = t1.elapsed().as_secs_f64();
    // The child's entries, and the report's own first read (later pages' reads come after the
    // checkpoint the report proves against).
    if (entries as u64) < a.report_entries {
        bail!(
            "the report holds {entries} entries, fewer than the {} about the child",
            a.report_entries
        );
    }
    Ok(ReportRun {
        tree_size: cp.tree_size,
        entries,
        pages: (entries as u64).div_ceil(u64::from(a.report_page.max(1))),
        wall_secs,
        hub_cpu_secs,
        verify_secs,
    })
}

/// What one start-up child reported.
#[derive(Debug)]
struct StartupRun {
    tree_size: u64,
    rehashed: u64,
    build_secs: f64,
    cpu_secs: f64,
    peak_kib: u64,
    wall_secs: f64,
}

/// The start-up runs in their three states (see the module's documentation).
async fn startup_runs(
    kit: &Path,
    db: &Path,
    a: &LogVerifyArgs,
) -> anyhow::Result<Vec<(&'static str, StartupRun)>> {
    let mut out = Vec::new();
    if a.startup_runs == 0 {
        return Ok(out);
    }
    let config = config_for(kit, db)?;
    for run in 0..a.startup_runs {
        // Forget every recorded verification: the start re-hashes the whole log.
        let store = Store::open(&config.database_target()).await?;
        if let Store::Sqlite { write, .. } = &store {
            sqlx::query("DELETE FROM log_verifications")
                .execute(write)
                .await?;
        }
        store.close().await;
        eprintln!(
            "bench: start-up without a recorded verification, run {}",
            run + 1
        );
        out.push(("no verification recorded", run_startup_child(kit, db)?));
        eprintln!("bench: start-up right after, run {}", run + 1);
        out.push(("right after a start", run_startup_child(kit, db)?));
    }
    eprintln!("bench: sequencing and integrating {} entries more", a.since);
    let store = Store::open(&config.database_target()).await?;
    // The record the first start after the new entries begins from; put back before each run.
    let before = store
        .log_verifications()
        .await?
        .into_iter()
        .find(|v| v.kind == signaalhub_server::store::log::CheckKind::Startup)
        .context("the start-up runs recorded nothing")?;
    let generator = Generator::new(None);
    let from = store.log_size().await?;
    let mut next = from;
    while next < from + a.since {
        let to = (from + a.since).min(next + a.batch as u64);
        let batch: Vec<PendingEntry> = (next..to).map(|i| generator.entry(i)).collect();
        store.append_log(&batch).await?;
        next = to;
    }
    let ledger = signaalhub_server::load_ledger(&config, store.clone())?;
    ledger.integrate_all().await?;
    store.close().await;
    for run in 0..a.startup_runs {
        if run > 0 {
            let store = Store::open(&config.database_target()).await?;
            store.record_log_verification(&before).await?;
            store.close().await;
        }
        eprintln!(
            "bench: start-up after {} new entries, run {}",
            a.since,
            run + 1
        );
        out.push((
            "entries integrated since the last start",
            run_startup_child(kit, db)?,
        ));
    }
    Ok(out)
}

fn run_startup_child(kit: &Path, db: &Path) -> anyhow::Result<StartupRun> {
    let exe = std::env::current_exe()?;
    let t0 = Instant::now();
    let out = std::process::Command::new(exe)
        .args(["startup-child", "--kit"])
        .arg(kit)
        .arg("--database")
        .arg(db)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("start the start-up child")?;
    let wall_secs = t0.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("the start-up failed ({}): {text}", out.status);
    }
    let f: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("startup-child "))
        .context("the start-up child printed no result")?
        .split_whitespace()
        .collect();
    let num = |i: usize| -> anyhow::Result<f64> {
        f.get(i)
            .and_then(|x| x.parse::<f64>().ok())
            .with_context(|| format!("field {i} of the start-up child's result"))
    };
    Ok(StartupRun {
        tree_size: num(0)? as u64,
        rehashed: num(1)? as u64,
        build_secs: num(2)?,
        cpu_secs: num(3)?,
        peak_kib: num(4)? as u64,
        wall_secs,
    })
}

/// The start-up child: [`signaalhub_server::Hub::build`] as `signaalhub serve` runs it, then its
/// own figures on one line.
pub async fn startup_child(kit: &Path, database: &Path) -> anyhow::Result<()> {
    let _ = signaalhub_server::auth::tls::crypto_provider();
    let config = config_for(kit, database)?;
    let t0 = Instant::now();
    let hub = signaalhub_server::Hub::build(config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let secs = t0.elapsed().as_secs_f64();
    let checked = hub
        .store()
        .log_verifications()
        .await?
        .into_iter()
        .find(|v| v.kind == signaalhub_server::store::log::CheckKind::Startup)
        .context("the start-up check recorded nothing")?;
    hub.store().close().await;
    let cpu = crate::setup::cpu_secs(std::process::id());
    println!(
        "startup-child {} {} {secs:.4} {cpu:.3} {}",
        checked.tree_size,
        checked.entries_checked,
        peak_kib()
    );
    Ok(())
}

/// This process's peak resident memory (`VmHWM`), KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0)
}

struct Built {
    sequence_secs: f64,
    integrate_secs: f64,
}

async fn build(kit: &Path, db: &Path, a: &LogVerifyArgs) -> anyhow::Result<Built> {
    let config = config_for(kit, db)?;
    let store = Store::open(&config.database_target()).await?;
    let generator = Generator::new(ChildHistory::new(kit, db, a.entries, a.report_entries)?);
    let t0 = Instant::now();
    let mut next = 0u64;
    let mut report = 1_000_000u64;
    while next < a.entries {
        let to = a.entries.min(next + a.batch as u64);
        let batch: Vec<PendingEntry> = (next..to).map(|i| generator.entry(i)).collect();
        let first = store.append_log(&batch).await?;
        if first != next {
            bail!("the log was not empty: the first entry went to index {first}");
        }
        next = to;
        if next >= report {
            eprintln!(
                "bench: sequenced {next} entries ({:.0}/s)",
                next as f64 / t0.elapsed().as_secs_f64()
            );
            report += 1_000_000;
        }
    }
    let sequence_secs = t0.elapsed().as_secs_f64();
    eprintln!("bench: integrating into tiles and checkpoints");
    let t1 = Instant::now();
    let ledger = signaalhub_server::load_ledger(&config, store.clone())?;
    let n = ledger.integrate_all().await?;
    if n != a.entries {
        bail!("integrated {n} entries, expected {}", a.entries);
    }
    let integrate_secs = t1.elapsed().as_secs_f64();
    store.close().await;
    Ok(Built {
        sequence_secs,
        integrate_secs,
    })
}

/// The kit's hub configuration with `database` pointing at `db` (as `SIGNAALHUB_DATABASE` does).
fn config_for(kit: &Path, db: &Path) -> anyhow::Result<signaalhub_server::config::Config> {
    let db = db.display().to_string();
    Ok(signaalhub_server::config::Config::load(
        &kit.join("hub.toml"),
        |var| (var == "SIGNAALHUB_DATABASE").then(|| db.clone()),
    )?)
}

/// What one verify child reported.
#[derive(Debug)]
struct VerifyRun {
    entries: u64,
    integrated: u64,
    checkpoints: u64,
    verify_secs: f64,
    cpu_secs: f64,
    peak_kib: u64,
    wall_secs: f64,
}

fn verify_child(kit: &Path, db: &Path) -> anyhow::Result<VerifyRun> {
    let exe = std::env::current_exe()?;
    let t0 = Instant::now();
    let out = std::process::Command::new(exe)
        .args(["log-verify-child", "--kit"])
        .arg(kit)
        .arg("--database")
        .arg(db)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("start the verify child")?;
    let wall_secs = t0.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("log verify failed ({}): {text}", out.status);
    }
    let f: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("verify-child "))
        .context("the verify child printed no result")?
        .split_whitespace()
        .collect();
    let num = |i: usize| -> anyhow::Result<f64> {
        f.get(i)
            .and_then(|x| x.parse::<f64>().ok())
            .with_context(|| format!("field {i} of the verify child's result"))
    };
    Ok(VerifyRun {
        entries: num(0)? as u64,
        integrated: num(1)? as u64,
        checkpoints: num(2)? as u64,
        verify_secs: num(3)?,
        cpu_secs: num(4)?,
        peak_kib: num(5)? as u64,
        wall_secs,
    })
}

/// The child: what `signaalhub log verify` does, then its own figures on one line.
pub async fn child(kit: &Path, database: &Path) -> anyhow::Result<()> {
    let config = config_for(kit, database)?;
    let store = Store::open(&config.database_target()).await?;
    let ledger = signaalhub_server::load_ledger(&config, store.clone())?;
    let t0 = Instant::now();
    let r = signaalhub_server::ledger::integrator::verify(&store, &ledger.keys).await?;
    let secs = t0.elapsed().as_secs_f64();
    store.close().await;
    let cpu = crate::setup::cpu_secs(std::process::id());
    let peak = peak_kib();
    println!(
        "verify-child {} {} {} {secs:.3} {cpu:.3} {peak}",
        r.entries, r.integrated, r.checkpoints
    );
    Ok(())
}
