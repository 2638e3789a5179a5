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
