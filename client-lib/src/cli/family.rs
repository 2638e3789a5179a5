//! `signaal family ...`: the family's rights at the organisation — the duties to inform the
//! family of disclosures (list, record informed, record an exemption), and the family's requests
//! (record, decide, list, show) with the notices a granted one sends (list, confirm); subject
//! references for persons without a known BSN (issue, merge with the BSN).
use super::error::CliError;
use super::format::{now_unix, ts, when};
use super::output::Out;
use serde_json::{Value, json};
use signaalhub_client::HubClient;
use signaalhub_proto::pb;

/// `signaal family`.
#[derive(clap::Args, Debug)]
pub struct FamilyArgs {
    /// The role to act in when the token has several (e.g. fg).
    #[arg(long, global = true, default_value = "")]
    role: String,
    #[command(subcommand)]
    command: FamilyCommand,
}

#[derive(clap::Subcommand, Debug)]
enum FamilyCommand {
    /// My organisation's duties to inform the family of its disclosures.
    Obligations {
        /// Only open ones.
        #[arg(long)]
        open: bool,
        /// Only open ones past the convenant's inform_within.
        #[arg(long)]
        overdue: bool,
    },
    /// Record that the family was informed of the disclosure at a log index.
    Informed {
        /// The disclosure's log index (from `signaal family obligations`).
        log_index: u64,
        /// letter, conversation or digital.
        #[arg(long)]
        how: String,
        /// How many days ago (0: today).
        #[arg(long, default_value_t = 0)]
        days_ago: u32,
    },
    /// Record why the family is not informed of the disclosure at a log index.
    Exempt {
        /// The disclosure's log index.
        log_index: u64,
        /// veiligheid_kind, veiligheid_melder, strafrechtelijk_onderzoek,
        /// onderzoek_veilig_thuis, al_geinformeerd or wettelijke_geheimhouding.
        #[arg(long)]
        ground: String,
    },
    /// Record a request of the family (objection, correction, restriction, erasure).
    Request {
        /// The person it concerns (repeat for more).
        #[arg(long = "bsn", required = true)]
        bsns: Vec<String>,
        /// objection, correction, restriction or erasure.
        #[arg(long)]
        kind: String,
        /// A record my organisation disclosed that it covers (repeat; none: all about them).
        #[arg(long = "reference")]
        references: Vec<String>,
        /// How many days ago my organisation received it (0: today).
        #[arg(long, default_value_t = 0)]
        days_ago: u32,
    },
    /// Decide a request: granted ones are told to every organisation that received the data.
    Decide {
        /// The request id (fr_...).
        request_id: String,
        /// Grant it.
        #[arg(long, conflicts_with = "refuse")]
        grant: bool,
        /// Refuse it.
        #[arg(long)]
        refuse: bool,
        /// The reason's code (see docs/FAMILY.md).
        #[arg(long)]
        reason: String,
    },
    /// My organisation's requests.
    Requests,
    /// One request with the organisations told and whether they confirmed.
    Show {
        /// The request id (fr_...).
        request_id: String,
    },
    /// Granted requests other organisations told mine of.
    Notices {
        /// Only those not yet confirmed.
        #[arg(long)]
        open: bool,
    },
    /// A fresh subject reference (SH-...) for a person whose BSN is not known: use it with
    /// --bsn wherever a BSN is asked for.
    Reference,
    /// Merge a subject reference my organisation was issued with the person's BSN (once).
    Merge {
        /// The reference (SH-...).
        reference: String,
        /// The person's BSN.
        #[arg(long)]
        bsn: String,
    },
    /// Confirm that my organisation acted on a notice.
    Confirm {
        /// The OIN of the organisation that decided the request.
        org_oin: String,
        /// The request id (fr_...).
        request_id: String,
    },
}

fn code_name(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix).to_lowercase()
}

fn state_name(v: i32) -> String {
    pb::InformState::try_from(v)
        .map(|s| code_name(s.as_str_name(), "INFORM_STATE_"))
        .unwrap_or_default()
}

fn act_name(v: i32) -> String {
    pb::InformAct::try_from(v)
        .ok()
        .filter(|a| *a != pb::InformAct::Unspecified)
        .map(|a| code_name(a.as_str_name(), "INFORM_ACT_"))
        .unwrap_or_default()
}

fn kind_name(v: i32) -> String {
    pb::FamilyRequestKind::try_from(v)
        .map(|k| code_name(k.as_str_name(), "FAMILY_REQUEST_KIND_"))
        .unwrap_or_default()
}

fn request_state_name(v: i32) -> String {
    pb::FamilyRequestState::try_from(v)
        .map(|k| code_name(k.as_str_name(), "FAMILY_REQUEST_STATE_"))
        .unwrap_or_default()
}

fn days_ago(days: u32) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: now_unix() - i64::from(days) * 86_400,
        nanos: 0,
    })
}

fn obligation_json(o: &pb::InformObligation) -> Value {
    json!({
        "log_index": o.log_index,
        "event": o.event,
        "reference": o.reference,
        "recipient_oin": o.recipient_oin,
        "purpose": o.purpose,
        "disclosed_at": ts(o.disclosed_at.as_ref()),
        "due_at": ts(o.due_at.as_ref()),
        "overdue": o.overdue,
        "state": state_name(o.state),
        "act": act_name(o.act),
        "informed_on": ts(o.informed_on.as_ref()),
        "ground": o.ground,
        "closed_by": o.closed_by,
        "closed_at": ts(o.closed_at.as_ref()),
    })
}

fn print_obligation(o: &pb::InformObligation) {
    let how = match o.state {
        s if s == pb::InformState::Informed as i32 => {
            format!(
                "informed ({}, {})",
                act_name(o.act),
                when(o.informed_on.as_ref())
            )
        }
        s if s == pb::InformState::Exempted as i32 => format!("exempted: {}", o.ground_nl),
        _ if o.overdue => format!("OPEN, OVERDUE since {}", when(o.due_at.as_ref())),
        _ => format!("open, due {}", when(o.due_at.as_ref())),
    };
    println!(
        "{}  {}  {} to {}  ({}, {})  {how}",
        o.log_index,
        when(o.disclosed_at.as_ref()),
        if o.reference.is_empty() {
            "-"
        } else {
            &o.reference
        },
        o.recipient_oin,
        o.event,
        o.purpose
    );
}

fn notice_json(n: &pb::FamilyRequestNotice) -> Value {
    json!({
        "org_oin": n.org_oin,
        "request_id": n.request_id,
        "recipient_oin": n.recipient_oin,
        "kind": kind_name(n.kind),
        "references": n.references,
        "notified_at": ts(n.notified_at.as_ref()),
        "acknowledged_at": ts(n.acknowledged_at.as_ref()),
    })
}

fn print_notice(n: &pb::FamilyRequestNotice) {
    println!(
        "{}  {}/{}  {} about {}  to {}  {}",
        when(n.notified_at.as_ref()),
        n.org_oin,
        n.request_id,
        n.kind_nl,
        n.references.join(", "),
        n.recipient_oin,
        match &n.acknowledged_at {
            Some(t) => format!("confirmed {}", when(Some(t))),
            None => "NOT YET CONFIRMED".into(),
        }
    );
}

fn request_json(r: &pb::FamilyRequest) -> Value {
    json!({
        "request_id": r.request_id,
        "kind": kind_name(r.kind),
        "received_on": ts(r.received_on.as_ref()),
        "covers": r.covers,
        "state": request_state_name(r.state),
        "decision_reason": r.decision_reason,
        "decided_at": ts(r.decided_at.as_ref()),
        "notices": r.notices.iter().map(notice_json).collect::<Vec<_>>(),
    })
}

fn print_request(r: &pb::FamilyRequest) {
    println!(
        "{}  {}  received {}  covers {} disclosure(s)  {}{}",
        r.request_id,
        r.kind_nl,
        when(r.received_on.as_ref()),
        r.covers.len(),
        r.state_nl,
        if r.decision_reason_nl.is_empty() {
            String::new()
        } else {
            format!(": {}", r.decision_reason_nl)
        }
    );
    for n in &r.notices {
        print!("  ");
        print_notice(n);
    }
}

fn show_request(r: &pb::FamilyRequest, out: Out) {
    if out.json {
        out.emit(&request_json(r));
    } else {
        print_request(r);
    }
}

fn show_obligation(o: &pb::InformObligation, out: Out) {
    if out.json {
        out.emit(&obligation_json(o));
    } else {
        print_obligation(o);
    }
}

/// A code from its lowercase name, or a usage error naming the choices.
fn named<T>(flag: &str, name: &str, choices: &[(&str, T)]) -> Result<T, CliError>
where
    T: Copy,
{
    choices
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            CliError::config(format!(
                "{flag} {name:?}: one of {}",
                choices
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// Runs a `signaal family` command.
pub async fn run(hub: &mut HubClient, a: FamilyArgs, out: Out) -> Result<(), CliError> {
    let role = a.role;
    match a.command {
        FamilyCommand::Obligations { open, overdue } => {
            let list = hub
                .all_inform_obligations(pb::ListInformObligationsRequest {
                    state: if open {
                        pb::InformState::Open as i32
                    } else {
                        0
                    },
                    overdue_only: overdue,
                    acting_role: role,
                    ..Default::default()
                })
                .await?;
            if out.human() {
                if list.is_empty() {
                    println!("no duties to inform the family");
                }
                for o in &list {
                    print_obligation(o);
                }
            }
            out.emit(
                &json!({ "obligations": list.iter().map(obligation_json).collect::<Vec<_>>() }),
            );
        }
        FamilyCommand::Informed {
            log_index,
            how,
            days_ago: d,
        } => {
            let act = named(
                "--how",
                &how,
                &[
                    ("letter", pb::InformAct::Letter),
                    ("conversation", pb::InformAct::Conversation),
                    ("digital", pb::InformAct::Digital),
                ],
            )?;
            let o = hub
                .record_family_informed(pb::RecordFamilyInformedRequest {
                    log_index,
                    act: act as i32,
                    informed_on: days_ago(d),
                    acting_role: role,
                })
                .await?;
            show_obligation(&o, out);
        }
        FamilyCommand::Exempt { log_index, ground } => {
            let o = hub
                .record_inform_exemption(pb::RecordInformExemptionRequest {
                    log_index,
                    ground,
                    acting_role: role,
                })
                .await?;
            show_obligation(&o, out);
        }
        FamilyCommand::Request {
            bsns,
            kind,
            references,
            days_ago: d,
        } => {
            let k = named(
                "--kind",
                &kind,
                &[
                    ("objection", pb::FamilyRequestKind::Objection),
                    ("correction", pb::FamilyRequestKind::Correction),
                    ("restriction", pb::FamilyRequestKind::Restriction),
                    ("erasure", pb::FamilyRequestKind::Erasure),
                ],
            )?;
            let r = hub
                .record_family_request(pb::RecordFamilyRequestRequest {
                    subject_bsns: bsns,
                    kind: k as i32,
                    received_on: days_ago(d),
                    references,
                    acting_role: role,
                })
                .await?;
            show_request(&r, out);
        }
        FamilyCommand::Decide {
            request_id,
            grant,
            refuse,
            reason,
        } => {
            if grant == refuse {
                return Err(CliError::config("say --grant or --refuse"));
            }
            let r = hub
                .decide_family_request(pb::DecideFamilyRequestRequest {
                    request_id,
                    decision: if grant {
                        pb::FamilyRequestState::Granted as i32
                    } else {
                        pb::FamilyRequestState::Refused as i32
                    },
                    reason,
                    acting_role: role,
                })
                .await?;
            show_request(&r, out);
        }
        FamilyCommand::Requests => {
            let list = hub.list_family_requests(&role).await?;
            if out.human() {
                for r in &list {
                    print_request(r);
                }
            }
            out.emit(&json!({ "requests": list.iter().map(request_json).collect::<Vec<_>>() }));
        }
        FamilyCommand::Show { request_id } => {
            let r = hub.get_family_request(&request_id, &role).await?;
            show_request(&r, out);
        }
        FamilyCommand::Notices { open } => {
            let list = hub.list_family_request_notices(open, &role).await?;
            if out.human() {
                for n in &list {
                    print_notice(n);
                }
            }
            out.emit(&json!({ "notices": list.iter().map(notice_json).collect::<Vec<_>>() }));
        }
        FamilyCommand::Reference => {
            let r = hub.issue_subject_reference(&role).await?;
            if out.human() {
                println!("{}  issued {}", r.reference, when(r.issued_at.as_ref()));
            }
            out.emit(&json!({ "reference": r.reference, "issued_at": ts(r.issued_at.as_ref()) }));
        }
        FamilyCommand::Merge { reference, bsn } => {
            let m = hub.merge_subject_reference(&reference, &bsn, &role).await?;
            if out.human() {
                println!(
                    "merged: {} record(s) now name the BSN (log index {})",
                    m.records_moved, m.log_index
                );
            }
            out.emit(&json!({ "records_moved": m.records_moved, "log_index": m.log_index }));
        }
        FamilyCommand::Confirm {
            org_oin,
            request_id,
        } => {
            let n = hub
                .acknowledge_family_request_notice(&org_oin, &request_id, &role)
                .await?;
            if out.json {
                out.emit(&notice_json(&n));
            } else {
                print_notice(&n);
            }
        }
    }
    Ok(())
}
