//! `signaal maatregel register|end|ask|list`: the maatregel register.
use super::error::CliError;
use super::format::when;
use signaalhub_client::HubClient;
use signaalhub_proto::pb;

/// `signaal maatregel`.
#[derive(clap::Args, Debug)]
pub struct MaatregelArgs {
    #[command(subcommand)]
    command: MaatregelCommand,
}

#[derive(clap::Subcommand, Debug)]
enum MaatregelCommand {
    /// Register a maatregel (sector jeugdbescherming).
    Register {
        /// The child's BSN.
        #[arg(long)]
        bsn: String,
        /// ots, voogdij, machtiging_uithuisplaatsing or jeugdreclassering.
        #[arg(long)]
        kind: String,
        /// Whom to contact at the responsible organisation.
        #[arg(long)]
        contact: String,
        /// The responsible organisation's OIN (default: my own).
        #[arg(long)]
        responsible: Option<String>,
        /// Months until the ordered end (a twelfth of 365 days each; default: none recorded).
        #[arg(long)]
        months: Option<u32>,
    },
    /// End a maatregel now.
    End {
        /// The maatregel id (m_...).
        id: String,
    },
    /// Ask whether a child has an active maatregel (only when my organisation is involved).
    Ask {
        /// The child's BSN.
        #[arg(long)]
        bsn: String,
    },
    /// The maatregelen my organisation registered or is responsible for (sector jeugdbescherming).
    List {
        /// The child's BSN.
        #[arg(long)]
        bsn: String,
        /// Include ended ones.
        #[arg(long)]
        all: bool,
    },
}

fn kind_from_name(s: &str) -> Option<pb::MaatregelKind> {
    Some(match s {
        "ots" => pb::MaatregelKind::Ots,
        "voogdij" => pb::MaatregelKind::Voogdij,
        "machtiging_uithuisplaatsing" => pb::MaatregelKind::MachtigingUithuisplaatsing,
        "jeugdreclassering" => pb::MaatregelKind::Jeugdreclassering,
        _ => return None,
    })
}

fn kind_name(v: i32) -> String {
    pb::MaatregelKind::try_from(v)
        .map(|k| {
            k.as_str_name()
                .trim_start_matches("MAATREGEL_KIND_")
                .to_lowercase()
        })
        .unwrap_or_else(|_| format!("kind {v}"))
}

fn print(m: &pb::Maatregel) {
    println!(
        "{}  {}  from {}  until {}  responsible {}  contact {}{}",
        m.maatregel_id,
        kind_name(m.kind),
        when(m.starts_at.as_ref()),
        when(m.ends_at.as_ref()),
        m.responsible_oin,
        m.contact_point,
        match &m.ended_at {
            Some(t) => format!("  ENDED {}", when(Some(t))),
            None => String::new(),
        }
    );
}

/// Runs a `signaal maatregel` command.
pub async fn run(hub: &mut HubClient, a: MaatregelArgs) -> Result<(), CliError> {
    match a.command {
        MaatregelCommand::Register {
            bsn,
            kind,
            contact,
            responsible,
            months,
        } => {
            let k = kind_from_name(&kind).ok_or_else(|| {
                CliError::config(format!(
                    "--kind {kind:?}: ots, voogdij, machtiging_uithuisplaatsing or jeugdreclassering"
                ))
            })?;
            let m = hub
                .register_maatregel(pb::RegisterMaatregelRequest {
                    subject_bsn: bsn,
                    kind: k as i32,
                    starts_at: None,
                    ends_at: months.map(|m| prost_types::Timestamp {
                        seconds: super::format::months_from_now(m),
                        nanos: 0,
                    }),
                    responsible_oin: responsible.unwrap_or_default(),
                    contact_point: contact,
                    acting_role: String::new(),
                })
                .await?;
            print(&m);
        }
        MaatregelCommand::End { id } => print(&hub.end_maatregel(&id).await?),
        MaatregelCommand::Ask { bsn } => {
            let r = hub.has_maatregel(&bsn).await?;
            if r.exists {
                println!(
                    "yes: {}",
                    r.kinds
                        .iter()
                        .map(|k| kind_name(*k))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                for c in &r.contacts {
                    println!(
                        "  contact {} ({}): {}",
                        c.organization_name, c.oin, c.contact_point
                    );
                }
            } else {
                println!("no active maatregel");
            }
        }
        MaatregelCommand::List { bsn, all } => {
            for m in hub.list_maatregelen(&bsn, all).await? {
                print(&m);
            }
        }
    }
    Ok(())
}
