//! `signaal`: a small CLI on the signaalhub SDK for people and scripts.
mod cli {
    pub mod cursor;
    pub mod disclosure;
    pub mod error;
    pub mod family;
    pub mod files;
    pub mod format;
    pub mod involvement;
    pub mod keys;
    pub mod log;
    pub mod maatregel;
    pub mod output;
    pub mod signals;
    pub mod zorgmelding;
}

use clap::{Parser, Subcommand};
use cli::disclosure::{DisclosureArgs, facts, print_decision};
use cli::error::{CliError, EXIT_CONFIG};
use cli::keys::Identity;
use cli::output::Out;
use serde_json::json;
use signaalhub_client::{ClientError, ConnectOptions, HubClient, TokenSource, sector_from_name};
use signaalhub_proto::pb;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "signaal",
    version,
    about = "Call a signaalhub as an organisation"
)]
struct Cli {
    /// Dev kit folder (with --as): takes CA, certificate, key and token from it.
    #[arg(long, global = true)]
    kit: Option<PathBuf>,
    /// The dev kit's sample organisation to act as (school, politie, huisarts, woningcorporatie,
    /// wijkteam, veilig_thuis, jeugdbescherming).
    #[arg(long = "as", global = true)]
    as_sector: Option<String>,
    /// With --kit/--as: act as the organisation's privacy officer (FG), with `fg-token.jwt`.
    #[arg(long, global = true)]
    fg: bool,
    /// My organisation's OIN, without --kit (default: as the hub sees my certificate).
    #[arg(long, global = true)]
    oin: Option<String>,
    /// Hub endpoint.
    #[arg(
        long,
        global = true,
        env = "SIGNAAL_ENDPOINT",
        default_value = "https://localhost:50051"
    )]
    endpoint: String,
    /// CA certificate of the hub (PEM), without --kit.
    #[arg(long, global = true, env = "SIGNAAL_CA")]
    ca: Option<PathBuf>,
    /// Client certificate (PEM), without --kit.
    #[arg(long, global = true, env = "SIGNAAL_CERT")]
    cert: Option<PathBuf>,
    /// Client key (PEM), without --kit.
    #[arg(long, global = true, env = "SIGNAAL_KEY")]
    key: Option<PathBuf>,
    /// File with the bearer token, without --kit.
    #[arg(long, global = true, env = "SIGNAAL_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// The name in the hub's certificate, if not the endpoint's host.
    #[arg(long, global = true)]
    domain: Option<String>,
    /// Print one JSON document on stdout instead of text (commands that keep listening: one
    /// document per line per item). Dates are RFC 3339 in UTC. On failure the document is
    /// `{"error": {...}}`; the exit code is the same as without --json.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show who the hub sees: organisation, professional, roles.
    Whoami,
    /// List participating organisations (the sociale kaart).
    Orgs {
        /// Sector filter.
        #[arg(long)]
        sector: Option<String>,
        /// Region filter.
        #[arg(long)]
        region: Option<String>,
        /// Expertise filter.
        #[arg(long)]
        expertise: Option<String>,
        /// Free text.
        #[arg(long)]
        query: Option<String>,
    },
    /// Show one organisation with its published keys.
    Org {
        /// OIN.
        oin: String,
    },
    /// Ask the standard health service.
    Health,
    /// "May I send this?" — the hub's decision with its reasons, without sending anything
    /// (one decision per --to).
    Check {
        #[command(flatten)]
        d: DisclosureArgs,
    },
    /// Seal a payload to the recipients and send it as a signal.
    Send(Box<cli::signals::SendArgs>),
    /// Receive: stream the inbox, open, save and acknowledge each signal.
    Inbox(cli::signals::InboxArgs),
    /// A sent or received signal: its state, or recall it.
    Signal {
        #[command(subcommand)]
        command: SignalCommand,
    },
    /// The disclosure log: checkpoint, subject access report, offline proof check.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Record, withdraw or list consents.
    Consent {
        #[command(subcommand)]
        command: ConsentCommand,
    },
    /// Police zorgmeldingen: submit fragments, complete; Veilig Thuis: inbox, show.
    Zorgmelding {
        #[command(subcommand)]
        command: cli::zorgmelding::ZorgmeldingCommand,
    },
    /// Veilig Thuis triage and the handover to the wijkteam; the wijkteam receives it.
    Triage {
        #[command(subcommand)]
        command: cli::zorgmelding::TriageCommand,
    },
    /// The maatregel register: register, end, ask "is there a maatregel?", list.
    Maatregel(cli::maatregel::MaatregelArgs),
    /// Involvement, cases and their coordinator, the safety plan, notifications.
    Involvement(cli::involvement::InvolvementArgs),
    /// Update my organisation's own entry on the sociale kaart.
    Profile(cli::involvement::ProfileArgs),
    /// The family's rights: duties to inform the family, the family's requests and their notices.
    Family(cli::family::FamilyArgs),
}

#[derive(Subcommand, Debug)]
enum SignalCommand {
    /// A signal's state per recipient.
    Status {
        /// The signal id.
        id: String,
        /// The sender's OIN (default: my organisation).
        #[arg(long)]
        sender: Option<String>,
    },
    /// Recall a signal I sent from every recipient it did not reach yet.
    Withdraw {
        /// The signal id.
        id: String,
    },
}

#[derive(Subcommand, Debug)]
enum LogCommand {
    /// The newest signed checkpoint of the disclosure log.
    Checkpoint,
    /// The subject access report (AVG art. 15; needs --fg): report.json, letter.html (the
    /// letter for the family) and report.pb, every proof verified; --pdf writes the letter as
    /// PDF too.
    Report {
        /// The subject's BSN.
        #[arg(long)]
        bsn: String,
        /// Folder to write the report to.
        #[arg(long, default_value = "report")]
        out: PathBuf,
        /// The language of the family's letter: nl (default) or en.
        #[arg(long, default_value = "nl")]
        language: String,
        /// Also write the family's letter as a PDF (A4) to this file.
        #[arg(long)]
        pdf: Option<PathBuf>,
        /// Every organisation's entries, not only your own organisation's (only for a reader
        /// the hub's operator granted); needs --reference.
        #[arg(long, requires = "reference")]
        hub_wide: bool,
        /// With --hub-wide: the reference of the request you answer (logged).
        #[arg(long)]
        reference: Option<String>,
    },
    /// The entries one professional of your organisation acted in (NEN 7513 per-user audit).
    Acts {
        /// The professional's id at your organisation (the token's `sub`).
        #[arg(long)]
        professional: String,
        /// Only entries after this index (the last index of the previous page).
        #[arg(long)]
        after: Option<u64>,
        /// At most this many (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Re-verify a saved report.pb offline against a trusted checkpoint key.
    VerifyProof {
        /// The saved report (report.pb).
        #[arg(long)]
        report: PathBuf,
        /// Key id of the trusted checkpoint key.
        #[arg(long)]
        key_id: String,
        /// The trusted Ed25519 checkpoint public key, 64 hex characters.
        #[arg(long)]
        public_key: String,
    },
}

#[derive(Subcommand, Debug)]
// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
enum ConsentCommand {
    /// Record a consent.
    Record {
        /// The subject's BSN.
        #[arg(long)]
        bsn: String,
        /// The subject's age in years.
        #[arg(long)]
        age: Option<u32>,
        /// Reference of a holder of gezag; repeatable.
        #[arg(long = "gezag")]
        gezag_holders: Vec<String>,
        /// Reference of a parent with gezag who consented; repeatable.
        #[arg(long = "parent")]
        parents: Vec<String>,
        /// Reference of the subject, when the subject consented.
        #[arg(long)]
        subject_giver: Option<String>,
        /// Recipient: an OIN or a sector name; repeatable.
        #[arg(long = "to", required = true)]
        to: Vec<String>,
        /// Purpose; repeatable.
        #[arg(long = "purpose", required = true)]
        purposes: Vec<String>,
        /// Category; repeatable.
        #[arg(long = "category", required = true)]
        categories: Vec<String>,
        /// Validity in months from now (a month is a twelfth of 365 days, as in the convenant).
        #[arg(long, default_value_t = 6)]
        months: u32,
        /// Explicit consent covering special categories (art. 9).
        #[arg(long)]
        explicit: bool,
        /// Evidence reference, e.g. the SHA-256 of the signed form.
        #[arg(long, default_value = "")]
        evidence: String,
        /// The role I act in, when my token carries several (e.g. vt_medewerker).
        #[arg(long, default_value = "")]
        role: String,
        /// An organisation (OIN) or sector that may disclose under this consent, e.g. the other
        /// parties of a case; repeatable. Default: my organisation only.
        #[arg(long = "discloser")]
        disclosers: Vec<String>,
    },
    /// Withdraw a consent at once.
    Withdraw {
        /// The consent id.
        id: String,
        /// Who asked (reference, e.g. ouder-2).
        #[arg(long)]
        by: String,
    },
    /// List the consents about a subject.
    List {
        /// The subject's BSN.
        #[arg(long)]
        bsn: String,
        /// Include withdrawn and expired ones.
        #[arg(long)]
        all: bool,
    },
}

fn print_consent(c: &pb::Consent) {
    let status = if c.withdrawn_at.is_some() {
        "WITHDRAWN"
    } else {
        "active"
    };
    println!(
        "{}  {}  purposes [{}]  categories [{}]  givers [{}]  until {}",
        c.consent_id,
        status,
        c.purposes.join(", "),
        c.categories.join(", "),
        c.givers
            .iter()
            .map(|g| g.person.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        cli::format::when(c.valid_until.as_ref())
    );
}

fn options(cli: &Cli) -> Result<ConnectOptions, ClientError> {
    let read = |p: &PathBuf| {
        std::fs::read(p).map_err(|e| ClientError::Config(format!("{}: {e}", p.display())))
    };
    let mut opts = if let Some(kit) = &cli.kit {
        let sector = cli.as_sector.as_deref().ok_or_else(|| {
            ClientError::Config("--kit needs --as SECTOR (e.g. --as school)".into())
        })?;
        let token = if cli.fg { "fg-token.jwt" } else { "token.jwt" };
        ConnectOptions::from_dev_kit_token(kit, sector, token)?
    } else {
        if cli.fg {
            return Err(ClientError::Config(
                "--fg works with --kit/--as; otherwise pass the FG's --token-file".into(),
            ));
        }
        let ca = cli
            .ca
            .as_ref()
            .ok_or_else(|| ClientError::Config("--ca (or --kit) is required".into()))?;
        let identity = match (&cli.cert, &cli.key) {
            (Some(c), Some(k)) => Some((read(c)?, read(k)?)),
            (None, None) => None,
            _ => return Err(ClientError::Config("--cert and --key go together".into())),
        };
        let token = match &cli.token_file {
            Some(p) => TokenSource::Static(
                String::from_utf8(read(p)?)
                    .map_err(|_| ClientError::Config("token file is not text".into()))?
                    .trim()
                    .to_owned(),
            ),
            None => TokenSource::None,
        };
        ConnectOptions {
            endpoint: cli.endpoint.clone(),
            ca_pem: read(ca)?,
            identity,
            domain: None,
            token,
            connect_timeout: Duration::from_secs(10),
        }
    };
    opts.endpoint = cli.endpoint.clone();
    if cli.domain.is_some() {
        opts.domain = cli.domain.clone();
    }
    Ok(opts)
}

fn org_line(o: &pb::Organization) -> String {
    format!(
        "{}  {:<17} {:<20} {}  [{}]  {}",
        o.oin,
        o.sector_name,
        o.region,
        o.name,
        o.expertise.join(", "),
        o.contact_point
    )
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let out = Out { json: cli.json };
    // Offline: needs no hub, and must not trust one.
    if let Command::Log {
        command:
            LogCommand::VerifyProof {
                report,
                key_id,
                public_key,
            },
    } = &cli.command
    {
        return cli::log::verify_proof(report, key_id, public_key, out);
    }
    let me = Identity::new(
        cli.kit.as_deref(),
        cli.as_sector.as_deref(),
        cli.oin.clone(),
    )?;
    let mut hub = HubClient::connect(options(&cli)?).await?;
    match cli.command {
        Command::Whoami => {
            let me = hub.who_am_i().await?;
            if out.json {
                out.emit(&json!({
                    "organization": me.organization.as_ref().map(cli::output::organization),
                    "professional": me.professional,
                    "roles": me.roles,
                    "token_expires_at": cli::format::ts(me.token_expires_at.as_ref()),
                }));
                return Ok(());
            }
            if let Some(o) = &me.organization {
                println!(
                    "organisation: {} ({}), sector {}, region {}",
                    o.name, o.oin, o.sector_name, o.region
                );
            }
            println!("professional: {}", me.professional);
            println!("roles:        {}", me.roles.join(", "));
            if let Some(t) = me.token_expires_at {
                println!(
                    "token expires: {} ({})",
                    cli::format::utc(t.seconds),
                    cli::format::relative(t.seconds)
                );
            }
        }
        Command::Orgs {
            sector,
            region,
            expertise,
            query,
        } => {
            let sector = match sector.as_deref() {
                None => pb::Sector::Unspecified,
                Some(s) => sector_from_name(s)
                    .ok_or_else(|| CliError::config(format!("unknown sector {s:?}")))?,
            };
            let mut page_token = String::new();
            let mut all = Vec::new();
            loop {
                let r = hub
                    .list_organizations(pb::ListOrganizationsRequest {
                        sector: sector as i32,
                        region: region.clone().unwrap_or_default(),
                        expertise: expertise.clone().unwrap_or_default(),
                        query: query.clone().unwrap_or_default(),
                        page_size: 0,
                        page_token: page_token.clone(),
                    })
                    .await?;
                for o in &r.organizations {
                    if out.human() {
                        println!("{}", org_line(o));
                    }
                    all.push(cli::output::organization(o));
                }
                if r.next_page_token.is_empty() {
                    break;
                }
                page_token = r.next_page_token;
            }
            out.emit(&json!({ "organizations": all }));
        }
        Command::Org { oin } => {
            let r = hub.get_organization(&oin).await?;
            if out.json {
                out.emit(&json!({
                    "organization": r.organization.as_ref().map(cli::output::organization),
                    "encryption_keys": r.encryption_keys.iter().map(cli::output::public_key).collect::<Vec<_>>(),
                    "signing_keys": r.signing_keys.iter().map(cli::output::public_key).collect::<Vec<_>>(),
                }));
                return Ok(());
            }
            if let Some(o) = &r.organization {
                println!("{}", org_line(o));
            }
            for (what, keys) in [
                ("encryption", &r.encryption_keys),
                ("signing", &r.signing_keys),
            ] {
                for k in keys {
                    println!(
                        "  {what} key {} {} {}{}",
                        k.key_id,
                        k.algorithm,
                        hex::encode(&k.public_key),
                        if k.retired_at.is_some() {
                            " (retired)"
                        } else {
                            ""
                        }
                    );
                }
            }
        }
        Command::Check { d } => {
            let requests = d.check_requests(&mut hub).await?;
            let several = requests.len() > 1;
            let (mut decisions, mut denied) = (Vec::new(), 0usize);
            let total = requests.len();
            for req in requests {
                let recipient = req.recipient_oin.clone();
                if several && out.human() {
                    println!("to {recipient}:");
                }
                let decision = hub.check_basis(req).await?;
                if decision.outcome != pb::Outcome::Allow as i32 {
                    denied += 1;
                }
                if out.human() {
                    print_decision(&decision);
                }
                let mut j = cli::output::decision(&decision);
                j["recipient_oin"] = json!(recipient);
                decisions.push(j);
            }
            out.emit(&json!({ "allowed": denied == 0, "decisions": decisions }));
            if denied > 0 {
                return Err(CliError::Answered(format!(
                    "DENIED for {denied} of {total} recipient(s): the convenant does not allow this disclosure"
                )));
            }
        }
        Command::Send(a) => cli::signals::send(&mut hub, &me, *a, out).await?,
        Command::Inbox(a) => cli::signals::inbox(&mut hub, &me, a, out).await?,
        Command::Signal { command } => match command {
            SignalCommand::Status { id, sender } => {
                cli::signals::status(&mut hub, &me, &id, sender, out).await?
            }
            SignalCommand::Withdraw { id } => cli::signals::withdraw(&mut hub, &id, out).await?,
        },
        Command::Log { command } => match command {
            LogCommand::Checkpoint => cli::log::checkpoint(&mut hub, out).await?,
            LogCommand::Report {
                bsn,
                out: dir,
                language,
                pdf,
                hub_wide,
                reference,
            } => {
                let scope = cli::log::Reach {
                    hub_wide,
                    reference: reference.unwrap_or_default(),
                };
                let letter = cli::log::LetterOut { language, pdf };
                cli::log::report(&mut hub, &bsn, scope, letter, &dir, out).await?
            }
            LogCommand::Acts {
                professional,
                after,
                limit,
            } => cli::log::acts(&mut hub, &professional, after, limit, out).await?,
            LogCommand::VerifyProof { .. } => {}
        },
        Command::Consent { command } => match command {
            ConsentCommand::Record {
                bsn,
                age,
                gezag_holders,
                parents,
                subject_giver,
                to,
                purposes,
                categories,
                months,
                explicit,
                evidence,
                role,
                disclosers,
            } => {
                let mut givers: Vec<pb::ConsentGiver> = parents
                    .iter()
                    .map(|p| pb::ConsentGiver {
                        person: p.clone(),
                        capacity: pb::GiverCapacity::GezagHolder as i32,
                    })
                    .collect();
                if let Some(s) = subject_giver {
                    givers.push(pb::ConsentGiver {
                        person: s,
                        capacity: pb::GiverCapacity::Subject as i32,
                    });
                }
                let named = |list: &[String]| -> Vec<pb::ConsentRecipient> {
                    use pb::consent_recipient::Recipient as R;
                    list.iter()
                        .map(|t| pb::ConsentRecipient {
                            recipient: Some(match sector_from_name(t) {
                                Some(s) => R::Sector(s as i32),
                                None => R::Oin(t.clone()),
                            }),
                        })
                        .collect()
                };
                let c = hub
                    .record_consent(pb::RecordConsentRequest {
                        subject_bsn: bsn,
                        subject: Some(facts(age, &gezag_holders)),
                        givers,
                        recipients: named(&to),
                        purposes,
                        categories,
                        valid_from: None,
                        valid_until: Some(prost_types::Timestamp {
                            seconds: cli::format::months_from_now(months),
                            nanos: 0,
                        }),
                        explicit,
                        evidence_reference: evidence,
                        acting_role: role,
                        disclosers: named(&disclosers),
                    })
                    .await?;
                if out.human() {
                    print_consent(&c);
                }
                out.emit(&cli::output::consent(&c));
            }
            ConsentCommand::Withdraw { id, by } => {
                let r = hub.withdraw_consent(&id, &by).await?;
                if out.json {
                    out.emit(&json!({
                        "consent": r.consent.as_ref().map(cli::output::consent),
                        "signals_withheld": r.signals_withheld,
                    }));
                    return Ok(());
                }
                if let Some(c) = &r.consent {
                    print_consent(c);
                }
                println!("signals held back: {}", r.signals_withheld);
            }
            ConsentCommand::List { bsn, all } => {
                let consents = hub.list_consents(&bsn, all).await?;
                if out.human() {
                    for c in &consents {
                        print_consent(c);
                    }
                }
                out.emit(&json!({
                    "consents": consents.iter().map(cli::output::consent).collect::<Vec<_>>()
                }));
            }
        },
        Command::Zorgmelding { command } => {
            cli::zorgmelding::zorgmelding(&mut hub, &me, command, out).await?
        }
        Command::Triage { command } => {
            cli::zorgmelding::triage(&mut hub, &me, command, out).await?
        }
        Command::Maatregel(a) => cli::maatregel::run(&mut hub, a, out).await?,
        Command::Involvement(a) => cli::involvement::run(&mut hub, &me, a, out).await?,
        Command::Profile(a) => cli::involvement::profile(&mut hub, a, out).await?,
        Command::Family(a) => cli::family::run(&mut hub, a, out).await?,
        Command::Health => {
            let s = hub.health("").await?;
            let serving =
                s == tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
            let name = tonic_health::pb::health_check_response::ServingStatus::try_from(s)
                .map(|x| x.as_str_name().to_owned())
                .unwrap_or_else(|_| format!("status {s}"));
            if out.human() {
                println!("{name}");
            }
            out.emit(&json!({ "status": name, "serving": serving }));
            if !serving {
                return Err(CliError::Answered(format!("the hub is {name}")));
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are not errors; a bad command line is a usage error (64).
            return if e.use_stderr() {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let json = cli.json;
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("signaal: {}", e.describe());
            if json && let Some(doc) = e.json() {
                println!("{doc}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
