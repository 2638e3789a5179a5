//! `signaal maatregel register|end|ask|list`: the maatregel register.
use super::error::CliError;
use super::format::{ts, when};
use super::output::Out;
use serde_json::{Value, json};
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
    /// End a maatregel now; the organisations involved with the child are told (where the
    /// convenant allows), with who has the case next.
    End {
        /// The maatregel id (m_...).
        id: String,
        /// Who has the case next: an OIN or a sector name (e.g. wijkteam).
        #[arg(long)]
        next: Option<String>,
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
            Some(t) if m.next_oin.is_empty() => format!("  ENDED {}", when(Some(t))),
            Some(t) => format!(
                "  ENDED {}, the case is now with {}",
                when(Some(t)),
                m.next_oin
            ),
            None => String::new(),
        }
    );
}

fn maatregel_json(m: &pb::Maatregel) -> Value {
    json!({
        "maatregel_id": m.maatregel_id,
        "kind": kind_name(m.kind),
        "starts_at": ts(m.starts_at.as_ref()),
        "ends_at": ts(m.ends_at.as_ref()),
        "responsible_oin": m.responsible_oin,
        "contact_point": m.contact_point,
        "registered_by_oin": m.registered_by_oin,
        "registered_at": ts(m.registered_at.as_ref()),
        "ended_at": ts(m.ended_at.as_ref()),
        "next_oin": (!m.next_oin.is_empty()).then_some(&m.next_oin),
    })
}

fn show(m: &pb::Maatregel, out: Out) {
    if out.json {
        out.emit(&maatregel_json(m));
    } else {
        print(m);
    }
}

/// Runs a `signaal maatregel` command.
pub async fn run(hub: &mut HubClient, a: MaatregelArgs, out: Out) -> Result<(), CliError> {
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
            show(&m, out);
        }
        MaatregelCommand::End { id, next } => {
            let next = match next {
                Some(n) => super::disclosure::resolve_oin(hub, &n).await?,
                None => String::new(),
            };
            let r = hub.end_maatregel_handing_back(&id, &next).await?;
            let m = r
                .maatregel
                .ok_or_else(|| CliError::Failed("the hub sent no maatregel".into()))?;
            if out.human() {
                for p in &r.parties {
                    println!(
                        "  {} {}",
                        p.oin,
                        if p.told {
                            "told that it ended"
                        } else {
                            "not told (the convenant does not allow it)"
                        }
                    );
                }
            }
            show(&m, out);
        }
        MaatregelCommand::Ask { bsn } => {
            let r = hub.has_maatregel(&bsn).await?;
            if out.json {
                out.emit(&json!({
                    "exists": r.exists,
                    "kinds": r.kinds.iter().map(|k| kind_name(*k)).collect::<Vec<_>>(),
                    "contacts": r.contacts.iter().map(|c| json!({
                        "oin": c.oin,
                        "organization_name": c.organization_name,
                        "contact_point": c.contact_point,
                    })).collect::<Vec<_>>(),
                }));
            } else if r.exists {
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
            let list = hub.list_maatregelen(&bsn, all).await?;
            if out.human() {
                for m in &list {
                    print(m);
                }
            }
            out.emit(&json!({
                "maatregelen": list.iter().map(maatregel_json).collect::<Vec<_>>()
            }));
        }
    }
    Ok(())
}
