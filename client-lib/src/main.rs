//! `signaal`: a small CLI on the signaalhub SDK for people and scripts.
use clap::{Parser, Subcommand};
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
    /// "May I send this?" — the hub's decision with its reasons, without sending anything.
    Check {
        #[command(flatten)]
        d: DisclosureArgs,
    },
    /// Record, withdraw or list consents.
    Consent {
        #[command(subcommand)]
        command: ConsentCommand,
    },
}

/// What a disclosure is about (shared by `check` and, later, `send`).
#[derive(clap::Args, Debug)]
struct DisclosureArgs {
    /// Recipient: an OIN, or a sector name (the first organisation of that sector is taken).
    #[arg(long)]
    to: String,
    /// Purpose (convenant name), e.g. vroegtijdige_ondersteuning.
    #[arg(long)]
    purpose: String,
    /// Data category (convenant name); repeatable.
    #[arg(long = "category", required = true)]
    categories: Vec<String>,
    /// The subject's BSN.
    #[arg(long)]
    bsn: String,
    /// The subject's age in years.
    #[arg(long)]
    age: Option<u32>,
    /// Reference of a holder of gezag (e.g. ouder-1); repeatable.
    #[arg(long = "gezag")]
    gezag_holders: Vec<String>,
    /// Id of a recorded consent; repeatable.
    #[arg(long = "consent")]
    consent_ids: Vec<String>,
    /// A legal basis by convenant name (e.g. meldrecht, wgs_vroegsignalering).
    #[arg(long)]
    basis: Option<String>,
    /// Meldcode steps completed, e.g. 1,2,3,4.
    #[arg(long, value_delimiter = ',')]
    meldcode_steps: Vec<u32>,
    /// Afwegingskader outcome: acuut, structureel, vermoeden or geen.
    #[arg(long)]
    afweging: Option<String>,
    /// Whether the client was told (yes/no).
    #[arg(long)]
    client_informed: Option<String>,
    /// Why the client was not told.
    #[arg(long, default_value = "")]
    not_informed_reason: String,
    /// A payment reminder was sent first (debt prevention).
    #[arg(long)]
    payment_reminder_sent: bool,
    /// Role to act in, if the token has several.
    #[arg(long, default_value = "")]
    role: String,
}

#[derive(Subcommand, Debug)]
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
        /// Validity in months from now.
        #[arg(long, default_value_t = 6)]
        months: u32,
        /// Explicit consent covering special categories (art. 9).
        #[arg(long)]
        explicit: bool,
        /// Evidence reference, e.g. the SHA-256 of the signed form.
        #[arg(long, default_value = "")]
        evidence: String,
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

async fn resolve_oin(hub: &mut HubClient, to: &str) -> Result<String, ClientError> {
    if to.len() == 20 && to.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(to.to_owned());
    }
    let sector = sector_from_name(to)
        .ok_or_else(|| ClientError::Config(format!("--to {to:?}: an OIN or a sector name")))?;
    let r = hub
        .list_organizations(pb::ListOrganizationsRequest {
            sector: sector as i32,
            ..Default::default()
        })
        .await?;
    r.organizations
        .first()
        .map(|o| o.oin.clone())
        .ok_or_else(|| {
            ClientError::Config(format!("no organisation of sector {to} in the directory"))
        })
}

fn facts(age: Option<u32>, gezag_holders: &[String]) -> pb::SubjectFacts {
    pb::SubjectFacts {
        age_years: age,
        age_band: 0,
        gezag_holders: gezag_holders.to_vec(),
    }
}

fn print_decision(d: &pb::Decision) {
    if d.outcome == pb::Outcome::Allow as i32 {
        println!("ALLOWED (policy {})", d.policy_version);
        for o in &d.obligations {
            println!("  obligation: {} {}", o.kind, o.detail);
        }
        if let Some(t) = &d.retain_until {
            println!("  keep until: {} (unix seconds)", t.seconds);
        }
    } else {
        println!("DENIED (policy {})", d.policy_version);
        for r in &d.reasons {
            println!("  {}: {}\n      {}", r.code, r.text_nl, r.text_en);
        }
    }
    println!("  rules: {}", d.rules.join(", "));
}

async fn check_request(
    hub: &mut HubClient,
    d: &DisclosureArgs,
) -> Result<pb::CheckBasisRequest, ClientError> {
    let afweging = match d.afweging.as_deref() {
        None => pb::Afwegingskader::Unspecified,
        Some("acuut") => pb::Afwegingskader::AcuteOnveiligheid,
        Some("structureel") => pb::Afwegingskader::StructureleOnveiligheid,
        Some("vermoeden") => pb::Afwegingskader::VermoedenZonderAcuteOfStructureleOnveiligheid,
        Some("geen") => pb::Afwegingskader::GeenVermoeden,
        Some(o) => {
            return Err(ClientError::Config(format!(
                "--afweging {o:?}: acuut, structureel, vermoeden or geen"
            )));
        }
    };
    let client_informed = match d.client_informed.as_deref() {
        None => None,
        Some("yes") => Some(true),
        Some("no") => Some(false),
        Some(o) => {
            return Err(ClientError::Config(format!(
                "--client-informed {o:?}: yes or no"
            )));
        }
    };
    Ok(pb::CheckBasisRequest {
        recipient_oin: resolve_oin(hub, &d.to).await?,
        purpose: d.purpose.clone(),
        categories: d.categories.clone(),
        subject_bsn: d.bsn.clone(),
        subject: Some(facts(d.age, &d.gezag_holders)),
        basis: Some(pb::Basis {
            legal: d.basis.as_ref().map(|b| pb::LegalBasis {
                basis: b.clone(),
                evidence: Some(pb::Evidence {
                    meldcode_steps_completed: d.meldcode_steps.clone(),
                    afwegingskader: afweging as i32,
                    client_informed,
                    client_not_informed_reason: d.not_informed_reason.clone(),
                    payment_reminder_sent: d.payment_reminder_sent.then_some(true),
                    ..Default::default()
                }),
            }),
            consent_ids: d.consent_ids.clone(),
        }),
        acting_role: d.role.clone(),
        received_for: String::new(),
        inform_exemption: String::new(),
    })
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
        c.valid_until.as_ref().map(|t| t.seconds).unwrap_or(0)
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
        ConnectOptions::from_dev_kit(kit, sector)?
    } else {
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

async fn run(cli: Cli) -> Result<(), ClientError> {
    let mut hub = HubClient::connect(options(&cli)?).await?;
    match cli.command {
        Command::Whoami => {
            let me = hub.who_am_i().await?;
            if let Some(o) = &me.organization {
                println!(
                    "organisation: {} ({}), sector {}, region {}",
                    o.name, o.oin, o.sector_name, o.region
                );
            }
            println!("professional: {}", me.professional);
            println!("roles:        {}", me.roles.join(", "));
            if let Some(t) = me.token_expires_at {
                println!("token expires: {} (unix seconds)", t.seconds);
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
                    .ok_or_else(|| ClientError::Config(format!("unknown sector {s:?}")))?,
            };
            let mut page_token = String::new();
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
                    println!("{}", org_line(o));
                }
                if r.next_page_token.is_empty() {
                    break;
                }
                page_token = r.next_page_token;
            }
        }
        Command::Org { oin } => {
            let r = hub.get_organization(&oin).await?;
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
            let req = check_request(&mut hub, &d).await?;
            let decision = hub.check_basis(req).await?;
            print_decision(&decision);
        }
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
                let mut recipients = Vec::new();
                for t in &to {
                    use pb::consent_recipient::Recipient as R;
                    recipients.push(pb::ConsentRecipient {
                        recipient: Some(match sector_from_name(t) {
                            Some(s) => R::Sector(s as i32),
                            None => R::Oin(t.clone()),
                        }),
                    });
                }
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0);
                let c = hub
                    .record_consent(pb::RecordConsentRequest {
                        subject_bsn: bsn,
                        subject: Some(facts(age, &gezag_holders)),
                        givers,
                        recipients,
                        purposes,
                        categories,
                        valid_from: None,
                        valid_until: Some(prost_types::Timestamp {
                            seconds: now + i64::from(months) * 30 * 24 * 3600,
                            nanos: 0,
                        }),
                        explicit,
                        evidence_reference: evidence,
                    })
                    .await?;
                print_consent(&c);
            }
            ConsentCommand::Withdraw { id, by } => {
                let r = hub.withdraw_consent(&id, &by).await?;
                if let Some(c) = &r.consent {
                    print_consent(c);
                }
                println!("signals held back: {}", r.signals_withheld);
            }
            ConsentCommand::List { bsn, all } => {
                for c in hub.list_consents(&bsn, all).await? {
                    print_consent(&c);
                }
            }
        },
        Command::Health => {
            let s = hub.health("").await?;
            println!("{}", if s == 1 { "SERVING" } else { "NOT_SERVING" });
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("signaal: {e}");
            ExitCode::from(match e {
                ClientError::Config(_) => 64,
                _ => 1,
            })
        }
    }
}
