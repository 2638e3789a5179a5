//! `signaal-gateway`: the organisation gateway's binary.
use clap::{Parser, Subcommand};
use signaalhub_gateway::app::App;
use signaalhub_gateway::config::GatewayConfig;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The organisation gateway: your organisation's keys, its connection to the hub, and the web
/// console for its professionals.
#[derive(Parser, Debug)]
#[command(name = "signaal-gateway", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the console for one organisation, configured by a file (docs/GATEWAY.md).
    Serve {
        /// The configuration file.
        #[arg(long, default_value = "gateway.toml", env = "SIGNAAL_GATEWAY_CONFIG")]
        config: PathBuf,
    },
    /// Serve consoles for a dev kit's sample organisations, one port each (DEV MATERIAL).
    Dev {
        /// The dev kit folder (`signaalhub quickstart` writes `./dev-kit`).
        #[arg(long, default_value = "dev-kit")]
        kit: PathBuf,
        /// Sample organisations by sector (school, wijkteam, ...); repeatable. Default: all seven.
        #[arg(long = "as")]
        sectors: Vec<String>,
        /// The hub.
        #[arg(long, default_value = "https://localhost:50051")]
        hub: String,
        /// The first organisation's port on 127.0.0.1; the next ones follow.
        #[arg(long, default_value_t = 8081)]
        port: u16,
    },
    /// Print an access token for a dev kit gateway's local API (DEV MATERIAL: a dev kit has no
    /// identity provider; a real gateway takes tokens from the organisation's own, docs/API.md).
    DevToken {
        /// The dev kit folder.
        #[arg(long, default_value = "dev-kit")]
        kit: PathBuf,
        /// The sample organisation whose gateway the token is for (school, wijkteam, ...).
        #[arg(long = "as")]
        sector: String,
        /// The calling system's client id (the actor in the audit log and the hub token).
        #[arg(long)]
        client: String,
        /// A convenant role of that organisation (repeatable); `fg` for the privacy officer's view.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 900)]
        lifetime: i64,
    },
}

/// The sample organisations of a dev kit, in the order `quickstart` prints them.
const KIT_SECTORS: [&str; 7] = [
    "school",
    "politie",
    "huisarts",
    "woningcorporatie",
    "wijkteam",
    "veilig_thuis",
    "jeugdbescherming",
];

async fn shutdown_signal() {
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
    let _ = ctrl_c.await;
}

async fn run_one(config: GatewayConfig, label: String) -> Result<(), String> {
    let app = App::start(config, Duration::from_secs(60))
        .await
        .map_err(|e| format!("{label}: {e}"))?;
    let (tx, rx) = tokio::sync::oneshot::channel::<SocketAddr>();
    let name = app.config.organisation.name.clone();
    let serving = tokio::spawn(signaalhub_gateway::serve(
        app.clone(),
        tx,
        shutdown_signal(),
    ));
    if rx.await.is_ok() {
        println!("console for {label} ({name}): {}", app.public_url());
    }
    serving
        .await
        .map_err(|e| format!("{label}: {e}"))?
        .map_err(|e| format!("{label}: {e}"))
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::DevToken {
            kit,
            sector,
            client,
            roles,
            lifetime,
        } => {
            if !(30..=3600).contains(&lifetime) {
                return Err("--lifetime: 30 to 3600 seconds".into());
            }
            let unused = SocketAddr::from(([127, 0, 0, 1], 0));
            let c = GatewayConfig::dev_kit(&kit, &sector, unused, "https://localhost:50051")
                .map_err(|e| format!("{sector}: {e}"))?;
            let api = c.api.ok_or("the dev kit's gateway has no [api]")?;
            let key = api
                .dev_key
                .ok_or("the dev kit's gateway has no api.dev_key")?;
            let token = signaalhub_gateway::api::auth::mint_dev_token(
                &key,
                &api.audience,
                &client,
                &roles,
                lifetime,
            )?;
            println!("{token}");
            Ok(())
        }
        Command::Serve { config } => {
            let c = GatewayConfig::load(&config, |k| std::env::var(k).ok())
                .map_err(|e| e.to_string())?;
            run_one(c, "organisation".into()).await
        }
        Command::Dev {
            kit,
            sectors,
            hub,
            port,
        } => {
            let sectors: Vec<String> = if sectors.is_empty() {
                KIT_SECTORS.iter().map(|s| (*s).to_owned()).collect()
            } else {
                sectors
            };
            let mut tasks = Vec::new();
            for (i, sector) in sectors.iter().enumerate() {
                let listen = SocketAddr::from(([127, 0, 0, 1], port + i as u16));
                let c = GatewayConfig::dev_kit(&kit, sector, listen, &hub)
                    .map_err(|e| format!("{sector}: {e}"))?;
                tasks.push(tokio::spawn(run_one(c, sector.clone())));
            }
            for t in tasks {
                t.await.map_err(|e| e.to_string())??;
            }
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SIGNAAL_GATEWAY_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("signaal-gateway: {e}");
            ExitCode::from(1)
        }
    }
}
