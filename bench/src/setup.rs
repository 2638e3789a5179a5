//! The stage: a dev kit, hub and sink processes pinned to their own core, connections, consents
//! and sealed requests prepared before any clock starts.
use anyhow::{Context, bail};
use signaalhub_client::envelope::{self, RecipientKey, SenderKeys};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ConnectOptions, HubClient};
use signaalhub_server::domain::directory::OrgFilter;
use signaalhub_server::store::Store;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The subject of every benchmark signal (a valid test BSN).
pub const CHILD: &str = "111222333";

/// The part of a kit's `orgs/<sector>/org.toml` the bench uses.
#[derive(Debug, serde::Deserialize)]
pub struct KitOrg {
    /// OIN.
    pub oin: String,
    /// Signing key id.
    pub signing_key_id: String,
}

/// Reads `orgs/<sector>/org.toml`.
pub fn kit_org(kit: &Path, sector: &str) -> anyhow::Result<KitOrg> {
    let file = kit.join("orgs").join(sector).join("org.toml");
    Ok(toml::from_str(
        &std::fs::read_to_string(&file).with_context(|| file.display().to_string())?,
    )?)
}

/// A child process (hub or sink) that is killed when dropped.
#[derive(Debug)]
pub struct Proc {
    child: Child,
    /// Its address.
    pub addr: String,
}

impl Proc {
    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User + system CPU time so far, seconds (from /proc; 0 where unavailable).
    pub fn cpu_secs(&self) -> f64 {
        cpu_secs(self.child.id())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds (utime + stime) of process `pid`.
pub fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / clk_tck()
}

fn clk_tck() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0)
}

/// A free local port.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// This binary as a command, run through `taskset -c <core>` when `core` is given.
fn self_command(core: Option<usize>) -> anyhow::Result<Command> {
    let exe = std::env::current_exe()?;
    Ok(match core {
        Some(c) => {
            let mut cmd = Command::new("taskset");
            cmd.arg("-c").arg(c.to_string()).arg(&exe);
            cmd
        }
        None => Command::new(&exe),
    })
}

/// Starts `signaalhub-bench <args>` as a child, pinned to `core` with `taskset` when given.
pub fn spawn_self(args: &[String], core: Option<usize>, addr: String) -> anyhow::Result<Proc> {
    let child = self_command(core)?
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("start a child process")?;
    Ok(Proc { child, addr })
}

/// Pins every thread of process `pid` to `cores` (a `taskset` list such as `0` or `0,1`); best
/// effort, as the harness runs where `taskset` may be missing.
pub fn pin(pid: u32, cores: &str) {
    let _ = Command::new("taskset")
        .args(["-a", "-p", "-c", cores, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The machine's online cores as a `taskset` list (`0-1` where it cannot be read).
pub fn all_cores() -> String {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "0-1".into())
}

/// Runs `signaalhub-bench <args>` to its end (pinned to `core` when given) and returns the rest of
/// the first line of its standard output that starts with `prefix` and a space.
pub fn child_line(args: &[String], core: Option<usize>, prefix: &str) -> anyhow::Result<String> {
    let out = self_command(core)?
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("start the {prefix}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("the {prefix} failed ({}): {text}", out.status);
    }
    let tag = format!("{prefix} ");
    text.lines()
        .find_map(|l| l.strip_prefix(tag.as_str()))
        .map(str::to_owned)
        .with_context(|| format!("the {prefix} printed no result"))
}

/// Counts the `fsync` and `fdatasync` calls of one process while a phase runs, with `perf stat`
/// on the syscall tracepoints (no ptrace, so the process is not slowed). `None` where `perf` or
/// its tracepoints are not available.
#[derive(Debug)]
pub struct SyncProbe {
    child: Option<Child>,
    out: std::path::PathBuf,
}

impl SyncProbe {
    /// Starts counting the syscalls of `pid` for `secs` seconds, writing to `out`.
    pub fn start(pid: u32, secs: f64, out: std::path::PathBuf) -> SyncProbe {
        let _ = std::fs::remove_file(&out);
        let child = Command::new("perf")
            .args([
                "stat",
                "-x,",
                "-e",
                "syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync",
                "-p",
                &pid.to_string(),
                "-o",
            ])
            .arg(&out)
            .args(["--", "sleep", &format!("{secs:.3}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        SyncProbe { child, out }
    }

    /// Waits for the count to end and returns the number of sync calls seen.
    pub fn finish(mut self) -> Option<u64> {
        let status = self.child.take()?.wait().ok()?;
        if !status.success() {
            return None;
        }
        let text = std::fs::read_to_string(&self.out).ok()?;
        // CSV lines: count,unit,event,...; "<not supported>" or "<not counted>" when absent.
        let counts: Vec<u64> = text
            .lines()
            .filter(|l| l.contains("syscalls:sys_enter_"))
            .map(|l| {
                l.split(',')
                    .next()
                    .and_then(|c| c.trim().parse::<u64>().ok())
            })
            .collect::<Option<Vec<u64>>>()?;
        (!counts.is_empty()).then(|| counts.iter().sum())
    }
}

impl Drop for SyncProbe {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Connection options for `sector` of `kit` at `addr`.
pub fn options(kit: &Path, sector: &str, addr: &str) -> anyhow::Result<ConnectOptions> {
    options_with_token(kit, sector, addr, "token.jwt")
}

/// Connection options for `sector` of `kit` at `addr` with another of its token files (e.g.
/// `fg-token.jwt`, its privacy officer).
pub fn options_with_token(
    kit: &Path,
    sector: &str,
    addr: &str,
    token_file: &str,
) -> anyhow::Result<ConnectOptions> {
    let mut o = ConnectOptions::from_dev_kit_token(kit, sector, token_file)?;
    o.endpoint = format!("https://{addr}");
    o.domain = Some("localhost".into());
    Ok(o)
}

/// The arguments of the `hub` child serving `database` of `kit` at `addr`.
pub fn hub_args(kit: &Path, database: &str, addr: &str, group_commit: bool) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "hub".into(),
        "--kit".into(),
        kit.display().to_string(),
        "--database".into(),
        database.to_owned(),
        "--listen".into(),
        addr.to_owned(),
    ];
    if group_commit {
        args.push("--group-commit".into());
    }
    args
}

/// `m` connections as `sector`, waiting up to 30 s for the server to answer.
pub async fn connect(
    kit: &Path,
    sector: &str,
    addr: &str,
    m: usize,
) -> anyhow::Result<Vec<HubClient>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut out = Vec::with_capacity(m);
    while out.len() < m {
        match HubClient::connect(options(kit, sector, addr)?).await {
            Ok(c) => out.push(c),
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => bail!("cannot connect to {addr}: {e}"),
        }
    }
    Ok(out)
}

/// Copies the kit's initialised SQLite database (organisations and keys) to `to`.
pub fn copy_sqlite(kit: &Path, to: &Path) -> anyhow::Result<()> {
    let from = kit.join("data").join("signaalhub.sqlite");
    std::fs::copy(&from, to).with_context(|| format!("copy {}", from.display()))?;
    Ok(())
}

/// Copies the kit's directory (organisations and keys) into the PostgreSQL database at `url`.
pub async fn copy_directory_to_postgres(kit: &Path, url: &str) -> anyhow::Result<()> {
    let from = Store::open(
        &kit.join("data")
            .join("signaalhub.sqlite")
            .display()
            .to_string(),
    )
    .await?;
    let to = Store::open(url).await?;
    let filter = OrgFilter {
        include_suspended: true,
        limit: 10_000,
        ..OrgFilter::default()
    };
    for org in from.list_organizations(&filter).await? {
        to.add_organization(&org).await?;
    }
    for key in from.list_keys(None).await? {
        to.add_key(&key).await?;
    }
    from.close().await;
    to.close().await;
    Ok(())
}

/// Records the two parents' consent for school -> wijkteam about [`CHILD`] and returns the basis
/// citing both.
pub async fn consent_basis(school: &mut HubClient) -> anyhow::Result<pb::Basis> {
    consent_basis_for(school, CHILD).await
}

/// `n` subjects ([`CHILD`] first, then valid BSNs of its own), each with its parents' consent
/// recorded as [`consent_basis`] records it (32 at a time), and the basis citing it, in order.
pub async fn consent_bases(
    school: &HubClient,
    n: usize,
) -> anyhow::Result<Vec<(String, pb::Basis)>> {
    use futures::StreamExt;
    let subjects = std::iter::once(CHILD.to_string())
        .chain((10_000_000u32..).filter_map(bsn).filter(|b| b != CHILD))
        .take(n.max(1));
    futures::stream::iter(subjects)
        .map(|subject| {
            let mut school = school.clone();
            async move {
                let basis = consent_basis_for(&mut school, &subject).await?;
                Ok((subject, basis))
            }
        })
        .buffered(32)
        .collect::<Vec<anyhow::Result<(String, pb::Basis)>>>()
        .await
        .into_iter()
        .collect()
}

/// The BSN whose first eight digits are `prefix` (eight digits), when the elfproef lets one end
/// it.
fn bsn(prefix: u32) -> Option<String> {
    let digits = format!("{prefix:08}");
    let sum: u32 = digits
        .bytes()
        .zip((2..=9).rev())
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let last = sum % 11;
    // The hub refuses a weighted sum of 0 too.
    (last < 10 && sum > last).then(|| format!("{digits}{last}"))
}

/// Records the two parents' consent for school -> wijkteam about `subject` and returns the basis
/// citing both.
pub async fn consent_basis_for(school: &mut HubClient, subject: &str) -> anyhow::Result<pb::Basis> {
    let mut ids = Vec::new();
    for parent in ["ouder-1", "ouder-2"] {
        let c = school
            .record_consent(pb::RecordConsentRequest {
                subject_bsn: subject.into(),
                subject: Some(pb::SubjectFacts {
                    age_years: Some(9),
                    age_band: 0,
                    gezag_holders: vec!["ouder-1".into(), "ouder-2".into()],
                }),
                givers: vec![pb::ConsentGiver {
                    person: parent.into(),
                    capacity: pb::GiverCapacity::GezagHolder as i32,
                }],
                recipients: vec![pb::ConsentRecipient {
                    recipient: Some(pb::consent_recipient::Recipient::Sector(
                        pb::Sector::Wijkteam as i32,
                    )),
                }],
                purposes: vec!["vroegtijdige_ondersteuning".into()],
                categories: vec!["zorgen_thuissituatie".into()],
                valid_until: Some(prost_types::Timestamp {
                    seconds: now() + 180 * 86_400,
                    nanos: 0,
                }),
                evidence_reference: "sha256:bench-form".into(),
                ..Default::default()
            })
            .await?;
        ids.push(c.consent_id);
    }
    Ok(pb::Basis {
        legal: None,
        consent_ids: ids,
    })
}

/// Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Seals school -> wijkteam signals, as a real sender does, before the clock starts.
#[derive(Debug)]
pub struct Sealer {
    sender: SenderKeys,
    recipient: RecipientKey,
    recipient_oin: String,
    /// The subjects the requests are about in turn, each with the basis citing its consents.
    subjects: Vec<(String, pb::Basis)>,
    payload: Vec<u8>,
}

impl Sealer {
    /// A sealer for `payload_bytes` of payload citing `basis`.
    pub async fn new(
        kit: &Path,
        school: &mut HubClient,
        basis: pb::Basis,
        payload_bytes: usize,
    ) -> anyhow::Result<Sealer> {
        let me = kit_org(kit, "school")?;
        let wt = kit_org(kit, "wijkteam")?;
        let pem = std::fs::read_to_string(kit.join("orgs/school/signing-key.pem"))?;
        let sender = SenderKeys::from_pem(&me.oin, &me.signing_key_id, &pem)?;
        let org = school.get_organization(&wt.oin).await?;
        let key = org
            .encryption_keys
            .iter()
            .find(|k| k.retired_at.is_none())
            .context("the wijkteam has no current encryption key")?;
        let recipient = RecipientKey::from_directory(wt.oin.clone(), key)?;
        // Payload bytes that do not compress (a sealed payload never does).
        let mut payload = vec![0u8; payload_bytes];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut payload)
            .map_err(|_| anyhow::anyhow!("no randomness"))?;
        Ok(Sealer {
            sender,
            recipient,
            recipient_oin: wt.oin,
            subjects: vec![(CHILD.into(), basis)],
            payload,
        })
    }

    /// The requests about `subjects` in turn instead (each with its own basis); unchanged when
    /// empty.
    pub fn with_subjects(mut self, subjects: Vec<(String, pb::Basis)>) -> Sealer {
        if !subjects.is_empty() {
            self.subjects = subjects;
        }
        self
    }

    /// `n` requests with ids `<prefix>-<i>`.
    pub fn requests(&self, prefix: &str, n: usize) -> anyhow::Result<Vec<pb::SendSignalRequest>> {
        let created = now();
        (0..n)
            .map(|i| {
                let (subject, basis) = &self.subjects[i % self.subjects.len()];
                let id = format!("{prefix}-{i}");
                let categories = vec!["zorgen_thuissituatie".to_string()];
                let binding = pb::EnvelopeBinding {
                    signal_id: id.clone(),
                    purpose: "vroegtijdige_ondersteuning".into(),
                    categories: categories.clone(),
                    basis_reference: signaalhub_client::signaalhub_proto::basis_reference(basis),
                    created_at_unix: created,
                    content_digest: Vec::new(), // seal sets it
                };
                let env = envelope::seal(
                    &self.payload,
                    binding,
                    &self.sender,
                    std::slice::from_ref(&self.recipient),
                )?;
                Ok(pb::SendSignalRequest {
                    signal_id: id,
                    envelope: Some(env),
                    recipient_oins: vec![self.recipient_oin.clone()],
                    subject_bsns: vec![subject.clone()],
                    purpose: "vroegtijdige_ondersteuning".into(),
                    categories,
                    urgency: pb::Urgency::Normal as i32,
                    basis: Some(basis.clone()),
                    ..Default::default()
                })
            })
            .collect()
    }
}

/// Fills the SQLite database at `db` with `n` active involvements of 64 other organisations with
/// `n` other persons (pseudonym-shaped), each with its person row, in one transaction: the store
/// a `HasMaatregel` at national scale looks its involvement up in (the hub's own rows, written
/// directly: registering a million through the API would take the run's whole budget).
pub async fn fill_involvements(db: &Path, n: u64) -> anyhow::Result<()> {
    let store = Store::open(&db.display().to_string()).await?;
    let Store::Sqlite { write, .. } = &store else {
        bail!("fill_involvements needs a SQLite store");
    };
    let mut tx = write.begin().await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1)
         INSERT INTO involvements (involvement_id, subject, org_oin, contact_professional, role, registered_by, basis, subject_facts, started_at, registered_at)
         SELECT printf('bench-inv-%d', i), printf('%064x', i * 2654435761), printf('000000012345%08d', 20000 + i % 64),
                'wijkcoach, 026-0000000', 'wijkcoach', 'bench', x'', '{}', 1764000000, 1764000000
         FROM n",
    )
    .bind(i64::try_from(n)?)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO involvement_persons (involvement_id, person)
         SELECT involvement_id, subject FROM involvements WHERE involvement_id LIKE 'bench-inv-%'",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    store.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_subjects_are_valid_and_distinct_bsns() {
        let all: Vec<String> = (10_000_000u32..10_000_200).filter_map(bsn).collect();
        assert!(all.len() > 150, "most prefixes have a check digit");
        for b in &all {
            assert!(
                signaalhub_proto::bsn_digits(b).is_ok(),
                "{b} fails the elfproef"
            );
        }
        let mut unique = all.clone();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
        assert!(signaalhub_proto::bsn_digits(CHILD).is_ok());
    }
}
