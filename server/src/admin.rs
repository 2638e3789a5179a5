//! The `signaalhub` binary's verbs as a library: serving from a configuration file, the dev kit
//! (`quickstart`, `dev init|tokens`, with the `devkit` feature), convenant checks and the FG's
//! register, log verification, retention, pseudonym re-keying and directory administration.
//! `main.rs` only parses the command line and calls these; tests call them directly.
use crate::config::Config;
#[cfg(feature = "devkit")]
use crate::devkit;
use crate::domain::directory::{
    KeyUsage, OrgFilter, OrgKey, OrgStatus, Organization, normalise_tag,
};
use crate::hub::{Hub, StartError};
use crate::store::Store;
use anyhow::Context;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum ConvenantCommand {
    /// Check a convenant file; every problem is printed as file:line:column: key: what is wrong.
    /// Exit code 0 when valid, 1 when not.
    Check {
        /// The convenant file (TOML).
        file: PathBuf,
    },
    /// Print the convenant as a table of who may share what with whom, why and on which basis;
    /// or, with --from/--to/--purpose/--category, answer that one question with its rules.
    Explain {
        /// The convenant file (TOML).
        file: PathBuf,
        /// HTML instead of Markdown.
        #[arg(long)]
        html: bool,
        /// Sending sector.
        #[arg(long, requires_all = ["to", "purpose", "category"])]
        from: Option<String>,
        /// Receiving sector.
        #[arg(long)]
        to: Option<String>,
        /// Purpose.
        #[arg(long)]
        purpose: Option<String>,
        /// Data category.
        #[arg(long)]
        category: Option<String>,
    },
    /// Print the FG's register of processing activities (art. 30 AVG) and the DPIA fact sheet
    /// (art. 35 AVG) derived from the convenant, in Dutch: Markdown, or with --html a printable
    /// HTML page (A4).
    Register {
        /// The convenant file (TOML).
        file: PathBuf,
        /// A printable HTML page instead of Markdown.
        #[arg(long)]
        html: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum LogCommand {
    /// Recompute every entry, tile and checkpoint; exit 0 when all agree, 1 naming the first
    /// entry, tile or checkpoint that does not.
    Verify,
    /// Fold every sequenced entry into the tiles and sign a checkpoint now.
    Integrate,
}

#[derive(Subcommand, Debug)]
pub enum RemindersCommand {
    /// Tell the parties now of every review that fell due (a melding's stage, a safety plan) and
    /// every handover left unanswered past the convenant's period, each once, through their
    /// notification streams; prints how many of each.
    Run,
}

/// `signaalhub reminders run`.
pub async fn reminders_command(config: &Config, command: RemindersCommand) -> anyhow::Result<()> {
    let RemindersCommand::Run = command;
    let policy = crate::hub::load_policy(config)?;
    let store = Store::open(&config.database_target()).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let result = crate::reminders::run(&store, &policy, now, config.reminders.batch_size).await;
    store.close().await;
    let r = result?;
    println!("melding reviews: {} told", r.melding_reviews);
    println!("safety plan reviews: {} told", r.plan_reviews);
    println!("unanswered handovers: {} told", r.unanswered_handovers);
    println!(
        "overdue duties to inform the family: {} told",
        r.overdue_informs
    );
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum RetentionCommand {
    /// Erase every expired record now (signals, consents, zorgmelding fragments, triages,
    /// meldingen, handovers, maatregelen, ended involvements, safety plan versions,
    /// notifications), each with an `erased` log entry; prints how many of each kind. With
    /// --dry-run, only counts what has expired.
    Sweep {
        /// Count, erase nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum PseudonymCommand {
    /// Print the store's write version and floor, and per table how many rows still hold an
    /// older version. Exit 0 when nothing is behind, 1 when a re-key is due.
    Status,
    /// Move every stored subject pseudonym to the newest configured key version, in small
    /// transactions next to live traffic; passes repeat until one finds nothing left, then the
    /// floor is raised. Idempotent: run again after an interruption. Exit 1 when rows were still
    /// changing after the last pass (run again).
    Rekey {
        /// Rows per transaction.
        #[arg(long, default_value_t = 500)]
        batch_size: usize,
        /// Pause between passes, milliseconds (default: 2 × directory.refresh_ms).
        #[arg(long)]
        settle_ms: Option<u64>,
        /// Most passes before giving up.
        #[arg(long, default_value_t = 5)]
        max_passes: u32,
    },
}

#[cfg(feature = "devkit")]
#[derive(Subcommand, Debug)]
pub enum DevCommand {
    /// Generate a dev kit.
    Init {
        /// Target folder.
        #[arg(long, default_value = "dev-kit")]
        dir: PathBuf,
        /// Replace an existing dev kit there.
        #[arg(long)]
        force: bool,
    },
    /// Re-mint the sample organisations' dev tokens (valid 30 days).
    Tokens {
        /// The dev kit folder.
        #[arg(long, default_value = "dev-kit")]
        dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Add an organisation to the directory.
    Add {
        /// OIN (20 digits).
        #[arg(long)]
        oin: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Sector (school, politie, huisarts, woningcorporatie, wijkteam, veilig_thuis, jeugdbescherming, or a convenant sector).
        #[arg(long)]
        sector: String,
        /// Region.
        #[arg(long)]
        region: String,
        /// Expertise tag (repeatable).
        #[arg(long)]
        expertise: Vec<String>,
        /// Contact point.
        #[arg(long, default_value = "")]
        contact: String,
        /// How a family reaches the organisation's privacy officer (FG): e-mail, phone or
        /// address, printed in the family's letters (docs/FAMILY.md). Without it the letters say
        /// that the hub does not know it.
        #[arg(long, default_value = "")]
        privacy_contact: String,
        /// The `iss` of the organisation's tokens.
        #[arg(long)]
        token_issuer: String,
        /// Token verification key: KID=FILE with a PEM `PUBLIC KEY` (SPKI): Ed25519 (tokens EdDSA), RSA >= 2048 bits (RS256) or EC P-256 (ES256); the key's algorithm is the only one it verifies (repeatable).
        #[arg(long)]
        token_key: Vec<String>,
    },
    /// Publish a key: token (PEM SPKI: Ed25519 -> EdDSA, RSA >= 2048 bits -> RS256, EC P-256 -> ES256), signing (Ed25519 SPKI PEM) or encryption (X25519, 64 hex digits).
    AddKey {
        /// OIN.
        #[arg(long)]
        oin: String,
        /// token, signing or encryption.
        #[arg(long)]
        usage: String,
        /// Key id.
        #[arg(long)]
        kid: String,
        /// File with the public key.
        #[arg(long)]
        file: PathBuf,
    },
    /// Retire a key (a token key stops verifying at once).
    RetireKey {
        /// OIN.
        #[arg(long)]
        oin: String,
        /// token, signing or encryption.
        #[arg(long)]
        usage: String,
        /// Key id.
        #[arg(long)]
        kid: String,
    },
    /// Suspend an organisation: refused at once by every hub instance (within directory.refresh_ms).
    Suspend {
        /// OIN.
        #[arg(long)]
        oin: String,
    },
    /// Reactivate a suspended organisation.
    Activate {
        /// OIN.
        #[arg(long)]
        oin: String,
    },
    /// Set (or, with "", clear) how a family reaches the organisation's privacy officer (FG),
    /// as the family's letters print it.
    SetPrivacyContact {
        /// OIN.
        #[arg(long)]
        oin: String,
        /// E-mail, phone or address of the privacy officer (one line).
        #[arg(long)]
        contact: String,
    },
    /// List the directory, suspended organisations included.
    List,
}

/// Installs the hub's log subscriber for the whole process: level and targets from
/// `SIGNAALHUB_LOG` (default `info`, PostgreSQL's migration notices at `warn`), text or JSON
/// (`log_format`), colours only when `ansi` (the binary passes whether stderr is a terminal).
/// Each finished request is one line at target `signaalhub::request`.
pub fn init_logging<W>(json: bool, ansi: bool, writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("SIGNAALHUB_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                // PostgreSQL's notices during migrations ("relation ... already exists, skipping")
                // are not news for an operator.
                "info,sqlx::postgres::notice=warn",
            )
        });
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    // A second call (a test that already installed one) keeps the first.
    let _ = if json {
        b.json().try_init()
    } else {
        b.try_init()
    };
}

/// Registers the dev kit's organisations in the store `config` names (SQLite by default, or
/// SIGNAALHUB_DATABASE=postgres://...), once: later starts keep what the organisations changed
/// there (profiles, keys). Exit code 70 when the kit or the store fails.
#[cfg(feature = "devkit")]
pub async fn register_dev_kit(dir: &Path, config: &Config) -> Result<(), ExitCode> {
    match devkit::register(dir, config).await {
        Ok(0) => Ok(()),
        Ok(n) => {
            // Only the backend: a PostgreSQL URL may carry a password.
            let target = config.database_target();
            let store = if crate::store::is_postgres_url(&target) {
                "PostgreSQL".to_string()
            } else {
                target
            };
            println!("registered the dev kit's {n} organisations in {store}");
            Ok(())
        }
        Err(e) => {
            eprintln!("signaalhub: registering the dev kit's organisations: {e}");
            Err(ExitCode::from(70))
        }
    }
}

pub fn load_config(path: &Path) -> Result<Config, StartError> {
    Ok(Config::load(path, |k| std::env::var(k).ok())?)
}

pub async fn serve(config: Config) -> Result<(), StartError> {
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| {
            StartError::Config(crate::config::ConfigError {
                key: "listen".into(),
                message: format!("cannot listen on {}: {e}", config.listen),
            })
        })?;
    let hub = Hub::build(config).await?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Serve(e.to_string()))?;
    tracing::info!(%addr, backend = hub.store().backend(), "signaalhub serving");
    let grace = std::time::Duration::from_secs(30);
    let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();
    let serve = hub.serve(listener, async move {
        shutdown_signal().await;
        let _ = drained_tx.send(());
    });
    tokio::pin!(serve);
    tokio::select! {
        r = &mut serve => return r,
        _ = drained_rx => {}
    }
    match tokio::time::timeout(grace, serve).await {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!("drain grace period of 30 s passed; exiting with requests in flight");
            Ok(())
        }
    }
}

pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

pub fn read_public_key(usage: KeyUsage, file: &Path) -> anyhow::Result<Vec<u8>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    match usage {
        KeyUsage::Encryption => {
            let raw = hex::decode(text.trim())
                .context("an X25519 public key file holds 64 hex digits")?;
            anyhow::ensure!(raw.len() == 32, "an X25519 public key is 32 bytes");
            Ok(raw)
        }
        KeyUsage::Token => {
            let der = read_spki_pem(&text, "an Ed25519, RSA (2048-4096 bits) or EC P-256")?;
            let (_alg, stored) = crate::domain::token_key::stored_token_key(&der)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            Ok(stored)
        }
        KeyUsage::Signing => {
            let der = read_spki_pem(&text, "an Ed25519")?;
            // Ed25519 SPKI: 12-byte prefix 302a300506032b6570032100 then the 32-byte key.
            const PREFIX: [u8; 12] = [
                0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
            ];
            anyhow::ensure!(
                der.len() == 44 && der[..12] == PREFIX,
                "not an Ed25519 public key"
            );
            Ok(der[12..].to_vec())
        }
    }
}

/// The DER of the PEM `PUBLIC KEY` (SubjectPublicKeyInfo) in `text`.
fn read_spki_pem(text: &str, what: &str) -> anyhow::Result<Vec<u8>> {
    if text.contains("-----BEGIN RSA PUBLIC KEY-----") {
        anyhow::bail!(
            "this is a PKCS#1 `RSA PUBLIC KEY`; give the SubjectPublicKeyInfo form (`BEGIN PUBLIC KEY`): \
             openssl rsa -RSAPublicKey_in -in key.pem -pubout -out key.spki.pem"
        );
    }
    if text.contains("PRIVATE KEY-----") {
        anyhow::bail!(
            "this file holds a private key; give only the public key: openssl pkey -in key.pem -pubout -out key.pub.pem"
        );
    }
    rustls::pki_types::pem::PemObject::from_pem_slice(text.as_bytes())
        .map(|k: rustls::pki_types::SubjectPublicKeyInfoDer<'static>| k.to_vec())
        .map_err(|_| anyhow::anyhow!("expected a PEM `PUBLIC KEY` ({what} SubjectPublicKeyInfo)"))
}

pub async fn org_command(config: &Config, command: OrgCommand) -> anyhow::Result<()> {
    let store = Store::open(&config.database_target()).await?;
    let usage_of = |u: &str| {
        KeyUsage::parse(u).ok_or_else(|| anyhow::anyhow!("--usage is token, signing or encryption"))
    };
    let oin_of = |o: &str| {
        o.parse::<crate::ids::Oin>()
            .map_err(|e| anyhow::anyhow!("--oin: {e}"))
    };
    match command {
        OrgCommand::Add {
            oin,
            name,
            sector,
            region,
            expertise,
            contact,
            privacy_contact,
            token_issuer,
            token_key,
        } => {
            let oin = oin_of(&oin)?;
            let privacy_contact = crate::domain::directory::privacy_contact(&privacy_contact)
                .map_err(|e| anyhow::anyhow!("--privacy-contact: {e}"))?;
            let mut tags: Vec<String> = expertise
                .iter()
                .map(|e| {
                    normalise_tag(e).ok_or_else(|| {
                        anyhow::anyhow!("--expertise {e:?}: 1-64 printable characters")
                    })
                })
                .collect::<Result<_, _>>()?;
            tags.sort();
            tags.dedup();
            anyhow::ensure!(!name.trim().is_empty(), "--name must not be empty");
            let mut keys = Vec::new();
            for spec in &token_key {
                let (kid, file) = spec
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("--token-key is KID=FILE"))?;
                anyhow::ensure!(
                    crate::domain::directory::valid_key_id(kid),
                    "--token-key: key id {kid:?} must be 1-64 of A-Za-z0-9._-"
                );
                keys.push((
                    kid.to_owned(),
                    read_public_key(KeyUsage::Token, Path::new(file))?,
                ));
            }
            store
                .add_organization(&Organization {
                    oin: oin.clone(),
                    name,
                    sector: sector
                        .parse()
                        .map_err(|e| anyhow::anyhow!("--sector: {e}"))?,
                    region: normalise_tag(&region)
                        .ok_or_else(|| anyhow::anyhow!("--region: 1-64 printable characters"))?,
                    expertise: tags,
                    contact_point: contact,
                    privacy_contact,
                    status: OrgStatus::Active,
                    token_issuer,
                })
                .await?;
            for (kid, public_key) in keys {
                store
                    .add_key(&OrgKey {
                        oin: oin.clone(),
                        usage: KeyUsage::Token,
                        key_id: kid,
                        public_key,
                        created_at: 0,
                        retired_at: None,
                    })
                    .await?;
            }
            println!("added {oin}");
        }
        OrgCommand::AddKey {
            oin,
            usage,
            kid,
            file,
        } => {
            let usage = usage_of(&usage)?;
            anyhow::ensure!(
                crate::domain::directory::valid_key_id(&kid),
                "--kid must be 1-64 of A-Za-z0-9._-"
            );
            let public_key = read_public_key(usage, &file)?;
            store
                .add_key(&OrgKey {
                    oin: oin_of(&oin)?,
                    usage,
                    key_id: kid,
                    public_key,
                    created_at: 0,
                    retired_at: None,
                })
                .await?;
            println!("published");
        }
        OrgCommand::RetireKey { oin, usage, kid } => {
            store
                .retire_key(&oin_of(&oin)?, usage_of(&usage)?, &kid)
                .await?;
            println!("retired");
        }
        OrgCommand::Suspend { oin } => {
            store
                .set_status(&oin_of(&oin)?, OrgStatus::Suspended)
                .await?;
            println!("suspended {oin}; running hubs refuse it within directory.refresh_ms");
        }
        OrgCommand::Activate { oin } => {
            store.set_status(&oin_of(&oin)?, OrgStatus::Active).await?;
            println!("activated {oin}");
        }
        OrgCommand::SetPrivacyContact { oin, contact } => {
            let oin = oin_of(&oin)?;
            let contact = crate::domain::directory::privacy_contact(&contact)
                .map_err(|e| anyhow::anyhow!("--contact: {e}"))?;
            store.set_privacy_contact(&oin, &contact).await?;
            if contact.is_empty() {
                println!("{oin}: privacy officer's contact cleared (letters say it is not known)");
            } else {
                println!("{oin}: privacy officer's contact set");
            }
        }
        OrgCommand::List => {
            let orgs = store
                .list_organizations(&OrgFilter {
                    include_suspended: true,
                    limit: 100_000,
                    ..OrgFilter::default()
                })
                .await?;
            // `fg`: whether the privacy officer's contact is registered (the letters need it).
            println!(
                "{:<20}  {:<9}  {:<17}  {:<20}  {:<3}  name",
                "oin", "status", "sector", "region", "fg"
            );
            for o in orgs {
                println!(
                    "{:<20}  {:<9}  {:<17}  {:<20}  {:<3}  {}",
                    o.oin,
                    o.status.as_str(),
                    o.sector,
                    o.region,
                    if o.privacy_contact.is_empty() {
                        "no"
                    } else {
                        "yes"
                    },
                    o.name
                );
            }
        }
    }
    store.close().await;
    Ok(())
}

pub fn read_convenant(file: &Path) -> Result<signaalhub_policy::Convenant, ExitCode> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("signaalhub: {}: {e}", file.display());
            return Err(ExitCode::from(66));
        }
    };
    signaalhub_policy::parse(&file.display().to_string(), &text).map_err(|d| {
        eprintln!("{d}");
        ExitCode::from(1)
    })
}

pub fn convenant_command(command: ConvenantCommand) -> ExitCode {
    match command {
        ConvenantCommand::Check { file } => match read_convenant(&file) {
            Ok(c) => {
                println!(
                    "{}: valid (policy version {})",
                    file.display(),
                    c.policy_version()
                );
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        ConvenantCommand::Explain {
            file,
            html,
            from,
            to,
            purpose,
            category,
        } => {
            let c = match read_convenant(&file) {
                Ok(c) => c,
                Err(code) => return code,
            };
            match (from, to, purpose, category) {
                (Some(f), Some(t), Some(p), Some(k)) => {
                    println!(
                        "{}",
                        signaalhub_policy::explain::question(&c.compile(), &f, &t, &p, &k)
                            .trim_end()
                    );
                }
                _ if html => print!("{}", signaalhub_policy::explain::html_document(&c)),
                _ => print!("{}", signaalhub_policy::explain::markdown(&c)),
            }
            ExitCode::SUCCESS
        }
        ConvenantCommand::Register { file, html } => match register_text(&file, html) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
    }
}

/// `convenant register`'s output for a file: the register as Markdown, or as an HTML page.
pub fn register_text(file: &Path, html: bool) -> Result<String, ExitCode> {
    let c = read_convenant(file)?;
    Ok(if html {
        signaalhub_policy::register::html(&c)
    } else {
        signaalhub_policy::register::markdown(&c)
    })
}

pub async fn log_command(config: &Config, command: LogCommand) -> anyhow::Result<()> {
    let store = Store::open(&config.database_target()).await?;
    let ledger = crate::hub::load_ledger(config, store.clone())?;
    match command {
        LogCommand::Verify => {
            let started = std::time::Instant::now();
            // Recorded when it passes: the next start-up check re-hashes only what came after.
            let r = crate::ledger::integrator::verify_and_record(&store, &ledger.keys).await?;
            println!(
                "log verified: {} entries ({} integrated), {} checkpoints, root {} at size {} ({:.1} s; recorded)",
                r.entries,
                r.integrated,
                r.checkpoints,
                hex::encode(r.root),
                r.integrated,
                started.elapsed().as_secs_f64()
            );
        }
        LogCommand::Integrate => {
            let n = ledger.integrate_all().await?;
            println!("integrated {n} entries");
        }
    }
    store.close().await;
    Ok(())
}

pub async fn pseudonym_command(config: &Config, command: PseudonymCommand) -> anyhow::Result<()> {
    let ring = crate::hub::load_pseudonym_ring(config)?;
    let store = Store::open(&config.database_target()).await?;
    let result = pseudonym_run(config, &store, &ring, command).await;
    store.close().await;
    result
}

pub async fn pseudonym_run(
    config: &Config,
    store: &Store,
    ring: &crate::ids::Pseudonymizer,
    command: PseudonymCommand,
) -> anyhow::Result<()> {
    match command {
        PseudonymCommand::Status => {
            let state = store.pseudonym_state().await?;
            println!(
                "configured key versions: 1..{}; store written with version {}, floor {}",
                ring.version(),
                state.version,
                state.floor
            );
            let behind = store.pseudonyms_behind(state.version).await?;
            for (table, n) in &behind.tables {
                println!("{table}: {n} rows behind version {}", state.version);
            }
            if state.version > ring.version() {
                anyhow::bail!(
                    "the store is written with key version {}, newer than this configuration",
                    state.version
                );
            }
            if behind.total() > 0 || state.floor < state.version {
                anyhow::bail!(
                    "{} rows behind; run `signaalhub pseudonym rekey`",
                    behind.total()
                );
            }
            Ok(())
        }
        PseudonymCommand::Rekey {
            batch_size,
            settle_ms,
            max_passes,
        } => {
            let opts = crate::rekey::RekeyOptions {
                batch_size,
                settle: std::time::Duration::from_millis(
                    settle_ms.unwrap_or(2 * config.directory.refresh_ms),
                ),
                max_passes,
            };
            let mut last = String::new();
            let mut progress = |pass: u32, p: &crate::store::rekey::TableProgress| {
                let line = format!(
                    "pass {pass}: {}: {} moved, {} left for the next pass",
                    p.table, p.moved, p.left
                );
                if line != last {
                    eprintln!("{line}");
                    last = line;
                }
            };
            let r = crate::rekey::run(store, ring, &opts, &mut progress).await?;
            for (i, pass) in r.passes.iter().enumerate() {
                let moved: u64 = pass.iter().map(|t| t.moved).sum();
                let left: u64 = pass.iter().map(|t| t.left).sum();
                println!(
                    "pass {}: {moved} rows moved to version {}, {left} left",
                    i + 1,
                    r.version
                );
            }
            if !r.complete {
                anyhow::bail!(
                    "{} rows still behind after {} passes (still being written under an older key?); run again",
                    r.behind.total(),
                    r.passes.len()
                );
            }
            println!(
                "complete: every stored pseudonym is at version {}",
                r.version
            );
            Ok(())
        }
    }
}

pub async fn retention_command(config: &Config, command: RetentionCommand) -> anyhow::Result<()> {
    let policy = crate::hub::load_policy(config)?;
    let store = Store::open(&config.database_target()).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let result = match command {
        RetentionCommand::Sweep { dry_run: true } => {
            crate::retention::backlog(&store, now).await.map(|b| {
                for (kind, n) in b {
                    println!("{kind}: {n} expired, not yet erased");
                }
            })
        }
        RetentionCommand::Sweep { dry_run: false } => {
            let batch = config.retention.batch_size;
            match crate::retention::sweep(&store, policy.version(), now, batch).await {
                Ok(r) => {
                    for (kind, n) in &r.erased {
                        println!("{kind}: {n} erased");
                    }
                    let days = config.retention.log_professional_days;
                    crate::retention::sweep_log_professionals(&store, now, days, batch)
                        .await
                        .map(|n| println!("{}: {n} erased", crate::retention::LOG_PROFESSIONAL))
                }
                Err(e) => Err(e),
            }
        }
    };
    store.close().await;
    Ok(result?)
}

/// Loads the configuration (exit 64 when it is wrong), runs an administration command on it, and
/// turns its outcome into an exit code (1 on failure).
pub async fn with_config(
    path: &Path,
    what: &str,
    run: impl AsyncFnOnce(&Config) -> anyhow::Result<()>,
) -> ExitCode {
    let config = match load_config(path) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    match run(&config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("signaalhub: {what}: {e:#}");
            ExitCode::from(1)
        }
    }
}

pub fn fail(e: &StartError) -> ExitCode {
    eprintln!("signaalhub: {e}");
    ExitCode::from(e.exit_code() as u8)
}

/// Generates a dev kit in `dir` (replacing one there only with `force`) and registers its
/// organisations in the store its configuration names (SQLite, or SIGNAALHUB_DATABASE).
#[cfg(feature = "devkit")]
async fn init_kit(dir: &Path, force: bool) -> Result<Config, ExitCode> {
    if let Err(e) = devkit::init(dir, force).await {
        eprintln!("signaalhub: dev init: {e}");
        return Err(ExitCode::from(70));
    }
    println!(
        "dev kit generated in {} (DEV MATERIAL, not for production)",
        dir.display()
    );
    let config = load_config(&dir.join("hub.toml")).map_err(|e| fail(&e))?;
    register_dev_kit(dir, &config).await?;
    Ok(config)
}

/// The consoles' process, stopped when the hub stops.
#[derive(Debug)]
struct ConsoleProcess(std::process::Child);

impl Drop for ConsoleProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// First port of the dev kit's consoles (school; the other sample organisations follow).
pub const DEV_CONSOLE_PORT: u16 = 8081;

/// Starts `signaal-gateway dev` for the kit in `dir` when that binary sits beside this one and
/// `SIGNAALHUB_CONSOLE` is not `off`; prints where the consoles are, or why there are none.
fn start_dev_consoles(dir: &std::path::Path, hub_port: u16) -> Option<ConsoleProcess> {
    if std::env::var("SIGNAALHUB_CONSOLE").is_ok_and(|v| v == "off") {
        return None;
    }
    let gateway = std::env::current_exe()
        .ok()?
        .with_file_name("signaal-gateway");
    if !gateway.exists() {
        println!(
            "no consoles: {} is not built (cargo build --release -p signaalhub-gateway)",
            gateway.display()
        );
        return None;
    }
    let child = std::process::Command::new(&gateway)
        .arg("dev")
        .arg("--kit")
        .arg(dir)
        .arg("--hub")
        .arg(format!("https://localhost:{hub_port}"))
        .arg("--port")
        .arg(DEV_CONSOLE_PORT.to_string())
        .spawn();
    match child {
        Ok(c) => {
            println!(
                "consoles (dev login, Dutch): http://127.0.0.1:{DEV_CONSOLE_PORT} school, :{} wijkteam, :{} veilig_thuis; the others from :{} (docs/CONSOLE.md)",
                DEV_CONSOLE_PORT + 4,
                DEV_CONSOLE_PORT + 5,
                DEV_CONSOLE_PORT + 1
            );
            Some(ConsoleProcess(c))
        }
        Err(e) => {
            println!("no consoles: starting {}: {e}", gateway.display());
            None
        }
    }
}

/// `signaalhub quickstart`: generates a dev kit in `dir` if there is none (else refreshes its
/// tokens and registers its organisations where missing), and serves it.
#[cfg(feature = "devkit")]
pub async fn quickstart(dir: PathBuf) -> ExitCode {
    let config = if dir.join("hub.toml").exists() {
        let config = match load_config(&dir.join("hub.toml")) {
            Ok(c) => c,
            Err(e) => return fail(&e),
        };
        if let Err(e) = devkit::refresh_tokens(&dir, &config.auth.audience) {
            eprintln!("signaalhub: refreshing dev tokens: {e}");
            return ExitCode::from(70);
        }
        if let Err(code) = register_dev_kit(&dir, &config).await {
            return code;
        }
        config
    } else {
        match init_kit(&dir, false).await {
            Ok(c) => c,
            Err(code) => return code,
        }
    };
    println!(
        "serving on {}; in a second terminal: export PATH=\"$PWD/target/release:$PATH\"; signaal --kit {} --as school whoami",
        config.listen,
        dir.display()
    );
    // The consoles: `signaal-gateway dev` beside this binary, one port per sample organisation.
    // It stops with the hub.
    let hub_port = config
        .listen
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(50051);
    let _consoles = start_dev_consoles(&dir, hub_port);
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// `signaalhub dev init|tokens`.
#[cfg(feature = "devkit")]
pub async fn dev(command: DevCommand) -> ExitCode {
    match command {
        DevCommand::Init { dir, force } => match init_kit(&dir, force).await {
            Ok(_) => ExitCode::SUCCESS,
            Err(code) => code,
        },
        DevCommand::Tokens { dir } => {
            let config = match load_config(&dir.join("hub.toml")) {
                Ok(c) => c,
                Err(e) => return fail(&e),
            };
            match devkit::refresh_tokens(&dir, &config.auth.audience) {
                Ok(()) => {
                    println!("tokens refreshed");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("signaalhub: {e}");
                    ExitCode::from(70)
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `signaalhub convenant register FILE [--html]` on the sample: the register as the FG reads it.
    #[test]
    fn convenant_register_reads_the_file_and_prints_markdown_or_html() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("convenant.toml");
        std::fs::write(&file, signaalhub_policy::SAMPLE_CONVENANT).unwrap();
        let md = register_text(&file, false).unwrap();
        assert!(md.starts_with("# Register van verwerkingsactiviteiten en DPIA-gegevens\n"));
        assert!(
            md.contains("### Verwerkingsactiviteit `zorgmelding_politie`"),
            "{md}"
        );
        let html = register_text(&file, true).unwrap();
        assert!(
            html.starts_with("<!DOCTYPE html>\n<html lang=\"nl\">"),
            "{html}"
        );
        assert!(html.contains("<th scope=\"col\">Verwerkingsactiviteit (doel)</th>"));

        // A file that does not load prints its diagnostics and gives no register.
        let bad = dir.path().join("bad.toml");
        std::fs::write(
            &bad,
            signaalhub_policy::SAMPLE_CONVENANT.replace("to = \"wijkteam\"", "to = \"wijkteem\""),
        )
        .unwrap();
        assert!(register_text(&bad, false).is_err());
        assert!(register_text(&dir.path().join("missing.toml"), false).is_err());
    }
}
