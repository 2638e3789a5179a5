//! `signaalhub`: the hub binary. Parses flags, sets up tracing and the crypto provider, loads the
//! configuration (exit 64 when it is wrong), then hands over to the library.

/// mimalloc instead of glibc's allocator: allocation and free were ~12 % of the hub's CPU per
/// signal under load (`perf`, docs/BENCHMARKS.md), with glibc's arena locks and consolidation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::{Parser, Subcommand};
#[cfg(feature = "devkit")]
use signaalhub_server::admin::DevCommand;
use signaalhub_server::admin::{
    self, ConvenantCommand, LogCommand, OrgCommand, PseudonymCommand, RemindersCommand,
    RetentionCommand, fail, load_config, with_config,
};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "signaalhub",
    version,
    about = "The signaalhub hub: serve, dev kit, directory administration"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the hub with a configuration file (env `SIGNAALHUB_*` overrides keys).
    Serve {
        /// Configuration file.
        #[arg(
            long,
            short,
            env = "SIGNAALHUB_CONFIG",
            default_value = "signaalhub.toml"
        )]
        config: PathBuf,
    },
    /// Dev kit: generate local CA, sample organisations, tokens, keys and a hub configuration.
    #[cfg(feature = "devkit")]
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
    /// Generate a dev kit in ./dev-kit if there is none, then serve it on 127.0.0.1:50051.
    #[cfg(feature = "devkit")]
    Quickstart {
        /// Where the dev kit lives.
        #[arg(long, default_value = "dev-kit")]
        dir: PathBuf,
    },
    /// The regional convenant: check it, explain it, or print the FG's register.
    Convenant {
        #[command(subcommand)]
        command: ConvenantCommand,
    },
    /// The disclosure log: verify it end to end.
    Log {
        /// Configuration file.
        #[arg(
            long,
            short,
            global = true,
            env = "SIGNAALHUB_CONFIG",
            default_value = "signaalhub.toml"
        )]
        config: PathBuf,
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Retention: erase what has passed its purpose's retention now (the hub also does this by
    /// itself every `retention.sweep_interval_ms`).
    Retention {
        /// Configuration file.
        #[arg(
            long,
            short,
            global = true,
            env = "SIGNAALHUB_CONFIG",
            default_value = "signaalhub.toml"
        )]
        config: PathBuf,
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Reminders: tell the parties now of reviews that fell due and handovers left unanswered
    /// (the hub also does this by itself every `reminders.interval_ms`).
    Reminders {
        /// Configuration file.
        #[arg(
            long,
            short,
            global = true,
            env = "SIGNAALHUB_CONFIG",
            default_value = "signaalhub.toml"
        )]
        config: PathBuf,
        #[command(subcommand)]
        command: RemindersCommand,
    },
    /// Pseudonym key versions: how far the store is, and the online re-key to the newest key of
    /// `pseudonym.rekey_files` (docs/OPERATIONS.md, "Rotating the pseudonym key").
    Pseudonym {
        /// Configuration file.
        #[arg(
            long,
            short,
            global = true,
            env = "SIGNAALHUB_CONFIG",
            default_value = "signaalhub.toml"
        )]
        config: PathBuf,
        #[command(subcommand)]
        command: PseudonymCommand,
    },
    /// Directory administration (works on the database the configuration names).
    Org {
        /// Configuration file.
        #[arg(
            long,
            short,
            global = true,
            env = "SIGNAALHUB_CONFIG",
            default_value = "signaalhub.toml"
        )]
        config: PathBuf,
        #[command(subcommand)]
        command: OrgCommand,
    },
}

fn init_tracing(json: bool) {
    // Colours only for a person at a terminal: a log file or journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    admin::init_logging(json, ansi, std::io::stderr);
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = signaalhub_server::auth::tls::crypto_provider();
    match cli.command {
        Command::Serve { config } => {
            let config = match load_config(&config) {
                Ok(c) => c,
                Err(e) => return fail(&e),
            };
            init_tracing(config.log_format == "json");
            match admin::serve(config).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        #[cfg(feature = "devkit")]
        Command::Quickstart { dir } => {
            init_tracing(false);
            admin::quickstart(dir).await
        }
        #[cfg(feature = "devkit")]
        Command::Dev { command } => admin::dev(command).await,
        Command::Convenant { command } => admin::convenant_command(command),
        Command::Log { config, command } => {
            with_config(&config, "log", async |c| {
                admin::log_command(c, command).await
            })
            .await
        }
        Command::Retention { config, command } => {
            with_config(&config, "retention", async |c| {
                admin::retention_command(c, command).await
            })
            .await
        }
        Command::Reminders { config, command } => {
            with_config(&config, "reminders", async |c| {
                admin::reminders_command(c, command).await
            })
            .await
        }
        Command::Org { config, command } => {
            with_config(&config, "org", async |c| {
                admin::org_command(c, command).await
            })
            .await
        }
        Command::Pseudonym { config, command } => {
            with_config(&config, "pseudonym", async |c| {
                admin::pseudonym_command(c, command).await
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README writes `--config` after the subcommand (`signaalhub org add --config ...`).
    #[test]
    fn config_is_accepted_after_admin_subcommands() {
        for args in [
            ["signaalhub", "org", "list", "--config", "x.toml"],
            ["signaalhub", "org", "--config", "x.toml", "list"],
            ["signaalhub", "log", "verify", "--config", "x.toml"],
            ["signaalhub", "retention", "sweep", "--config", "x.toml"],
            ["signaalhub", "reminders", "run", "--config", "x.toml"],
            ["signaalhub", "pseudonym", "rekey", "--config", "x.toml"],
        ] {
            let cli = Cli::try_parse_from(args).map_err(|e| e.to_string());
            let config = match cli {
                Ok(Cli {
                    command:
                        Command::Org { config, .. }
                        | Command::Log { config, .. }
                        | Command::Retention { config, .. }
                        | Command::Reminders { config, .. }
                        | Command::Pseudonym { config, .. },
                }) => config,
                other => panic!("{args:?}: {other:?}"),
            };
            assert_eq!(config, PathBuf::from("x.toml"));
        }
    }

    #[test]
    fn convenant_register_takes_a_file_and_html() {
        let cli = Cli::try_parse_from(["signaalhub", "convenant", "register", "c.toml", "--html"])
            .map_err(|e| e.to_string());
        match cli {
            Ok(Cli {
                command:
                    Command::Convenant {
                        command: ConvenantCommand::Register { file, html },
                    },
            }) => {
                assert_eq!(file, PathBuf::from("c.toml"));
                assert!(html);
            }
            other => panic!("{other:?}"),
        }
    }
}
