//! `signaal involvement ...`: the involvement register, cases and their coordinator, the safety
//! plan and the notification stream; `signaal profile`: the own entry on the sociale kaart.
use super::disclosure::facts;
use super::error::CliError;
use super::format::{ts, when};
use super::keys::{Identity, OpenerArgs, SignerArgs};
use super::output::{self, Out};
use serde_json::{Value, json};
use signaalhub_client::HubClient;
use signaalhub_client::involvement::SafetyPlan;
use signaalhub_proto::pb;
use std::path::PathBuf;
use std::time::Duration;

/// `signaal involvement`.
#[derive(clap::Args, Debug)]
pub struct InvolvementArgs {
    #[command(subcommand)]
    command: InvolvementCommand,
}

#[derive(clap::Subcommand, Debug)]
enum InvolvementCommand {
    /// Register that my organisation is involved with a person (no reason, no content).
    Register {
        /// The person's BSN.
        #[arg(long)]
        bsn: String,
        /// BSN of another member of the household; repeatable.
        #[arg(long = "household")]
        household: Vec<String>,
        /// How colleagues reach me, e.g. "J. de Vries, wijkcoach, 026-1234567".
        #[arg(long)]
        contact: String,
        /// A recorded consent (purpose casusafstemming, category betrokkenheid) that lets the hub
        /// tell other involved parties; repeatable. Without one, matches are withheld.
        #[arg(long = "consent")]
        consents: Vec<String>,
        /// The person's age in years, if the consent does not say it.
        #[arg(long)]
        age: Option<u32>,
        /// Reference of a holder of gezag; repeatable.
        #[arg(long = "gezag")]
        gezag_holders: Vec<String>,
    },
    /// End my organisation's involvement.
    End {
        /// The involvement id (i_...).
        id: String,
    },
    /// Confirm that another organisation has contact with a person, so it can register its
    /// involvement (for 30 days). Only when my organisation is involved with the person, or
    /// responsible for a maatregel about them.
    Confirm {
        /// The person's BSN.
        #[arg(long)]
        bsn: String,
        /// The other organisation's OIN.
        #[arg(long)]
        org: String,
    },
    /// The cases my organisation shares about a person: parties, coordinator, proposals.
    Parties {
        /// The person's BSN.
        #[arg(long)]
        bsn: String,
    },
    /// One case.
    Case {
        /// The case id (k_...).
        id: String,
    },
    /// Propose a case coordinator (casusregisseur): another party, or `--me`.
    Propose {
        /// The case id.
        #[arg(long)]
        case: String,
        /// The proposed organisation's OIN.
        #[arg(long, conflicts_with = "me", required_unless_present = "me")]
        org: Option<String>,
        /// Take up the coordination myself (the other parties accept).
        #[arg(long)]
        me: bool,
    },
    /// Accept a proposal that names my organisation.
    Accept {
        /// The proposal id (p_...).
        id: String,
    },
    /// Decline a proposal that names my organisation.
    Decline {
        /// The proposal id (p_...).
        id: String,
    },
    /// The safety plan (veiligheidsplan) of a case.
    Plan {
        #[command(subcommand)]
        command: PlanCommand,
    },
    /// My organisation's notifications (a GI told that a wijkteam asked, matches, coordinators,
    /// safety plans).
    Notifications {
        /// Resume after this cursor.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// Keep listening; otherwise stop when nothing arrives for 2 seconds.
        #[arg(long)]
        follow: bool,
    },
}

#[derive(clap::Subcommand, Debug)]
enum PlanCommand {
    /// Seal a plan (JSON, see docs/MAATREGEL.md) to every party and publish it as the next version.
    Publish {
        /// The case id.
        #[arg(long)]
        case: String,
        /// The plan as JSON.
        #[arg(long)]
        file: PathBuf,
        /// A recorded consent (purpose casusafstemming, category veiligheidsafspraken); repeatable.
        #[arg(long = "consent", required = true)]
        consents: Vec<String>,
        #[command(flatten)]
        signer: SignerArgs,
    },
    /// Show a version: who must confirm what, and the agreements when sealed to me.
    Show {
        /// The case id.
        #[arg(long)]
        case: String,
        /// The version (default: the latest).
        #[arg(long, default_value_t = 0)]
        version: u32,
        /// Write the plain Dutch text for the family to this file.
        #[arg(long)]
        family: Option<PathBuf>,
        #[command(flatten)]
        opener: OpenerArgs,
    },
    /// Confirm the agreements of a version that concern my organisation.
    Confirm {
        /// The case id.
        #[arg(long)]
        case: String,
        /// The version.
        #[arg(long)]
        version: u32,
        /// Only these agreements (default: all that concern me); repeatable.
        #[arg(long = "agreement")]
        agreements: Vec<String>,
    },
}

/// `signaal profile`: keep my organisation's entry on the sociale kaart current (role
/// `profile_admin` or `key_admin`: pass that token with --token-file).
#[derive(clap::Args, Debug)]
pub struct ProfileArgs {
    /// Region, e.g. gelderland-midden.
    #[arg(long)]
    region: String,
    /// An expertise tag; repeatable (replaces the current list).
    #[arg(long = "expertise")]
    expertise: Vec<String>,
    /// How professionals reach us.
    #[arg(long)]
    contact: String,
}

fn print_involvement(i: &pb::Involvement) {
    println!(
        "  {}  {} ({}, {})  contact {}  since {}{}{}",
        i.involvement_id,
        i.organization_name,
        i.organization_oin,
        i.sector_name,
        i.contact_professional,
        when(i.started_at.as_ref()),
        if i.case_id.is_empty() {
            String::new()
        } else {
            format!("  case {}", i.case_id)
        },
        match &i.ended_at {
            Some(t) => format!(
                "  ENDED {} (kept until {})",
                when(Some(t)),
                when(i.retain_until.as_ref())
            ),
            None => String::new(),
        }
    );
}

fn print_case(c: &pb::Case) {
    println!("case {} (since {})", c.case_id, when(c.created_at.as_ref()));
    match &c.coordinator {
        Some(k) => println!(
            "  coordinator (casusregisseur): {} ({}), contact {}, since {}",
            k.organization_name,
            k.oin,
            k.contact_professional,
            when(k.since.as_ref())
        ),
        None => println!("  coordinator (casusregisseur): none yet"),
    }
    println!("  parties:");
    for p in &c.parties {
        print_involvement(p);
    }
    for p in &c.proposals {
        println!(
            "  open proposal {}: {} proposed by {}",
            p.proposal_id, p.proposed_oin, p.proposed_by_oin
        );
    }
    if c.safety_plan_version > 0 {
        println!("  safety plan: version {}", c.safety_plan_version);
    }
}

fn kind_name(v: i32) -> String {
    pb::NotificationKind::try_from(v)
        .map(|k| {
            k.as_str_name()
                .trim_start_matches("NOTIFICATION_KIND_")
                .to_lowercase()
        })
        .unwrap_or_else(|_| format!("kind {v}"))
}

fn print_plan_meta(p: &pb::SafetyPlanVersion) {
    println!(
        "safety plan of case {} version {} by {} ({}){}",
        p.case_id,
        p.version,
        p.author_oin,
        when(p.published_at.as_ref()),
        if p.fully_confirmed {
            "  FULLY CONFIRMED (by every organisation an agreement concerns)"
        } else {
            ""
        }
    );
    for a in &p.agreements {
        // An agreement of the family alone has no organisation to confirm it: say so, rather than
        // "confirmed by []" next to FULLY CONFIRMED.
        if a.party_oins.is_empty() {
            println!(
                "  agreement {}: concerns the family only  (no organisation confirms it)",
                a.agreement_id
            );
            continue;
        }
        let confirmed: Vec<&str> = a.confirmations.iter().map(|c| c.oin.as_str()).collect();
        println!(
            "  agreement {}: concerns [{}]{}  confirmed by [{}]",
            a.agreement_id,
            a.party_oins.join(", "),
            if a.concerns_family { " + family" } else { "" },
            confirmed.join(", ")
        );
    }
}

fn plan_json(p: &pb::SafetyPlanVersion) -> Value {
    json!({
        "case_id": p.case_id,
        "version": p.version,
        "author_oin": p.author_oin,
        "published_at": ts(p.published_at.as_ref()),
        "fully_confirmed": p.fully_confirmed,
        "sealed_to_me": p.envelope.is_some(),
        "agreements": p.agreements.iter().map(|a| {
            let confirmed: Vec<&str> = a.confirmations.iter().map(|c| c.oin.as_str()).collect();
            json!({
                "agreement_id": a.agreement_id,
                "party_oins": a.party_oins,
                "concerns_family": a.concerns_family,
                "confirmations": a.confirmations.iter().map(|c| json!({
                    "oin": c.oin,
                    "confirmed_at": ts(c.confirmed_at.as_ref()),
                })).collect::<Vec<_>>(),
                "waiting_for": a.party_oins.iter().filter(|o| !confirmed.contains(&o.as_str())).collect::<Vec<_>>(),
            })
        }).collect::<Vec<_>>(),
    })
}

fn involvement_json(i: &pb::Involvement) -> Value {
    json!({
        "involvement_id": i.involvement_id,
        "organization_oin": i.organization_oin,
        "organization_name": i.organization_name,
        "sector": i.sector_name,
        "contact_professional": i.contact_professional,
        "started_at": ts(i.started_at.as_ref()),
        "ended_at": ts(i.ended_at.as_ref()),
        "retain_until": ts(i.retain_until.as_ref()),
        "case_id": i.case_id,
    })
}

fn proposal_state(state: i32) -> String {
    pb::ProposalState::try_from(state)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("PROPOSAL_STATE_")
                .to_lowercase()
        })
        .unwrap_or_default()
}

fn proposal_json(p: &pb::CoordinatorProposal) -> Value {
    json!({
        "proposal_id": p.proposal_id,
        "proposed_oin": p.proposed_oin,
        "proposed_by_oin": p.proposed_by_oin,
        "state": proposal_state(p.state),
        "created_at": ts(p.created_at.as_ref()),
        "decided_at": ts(p.decided_at.as_ref()),
        "accepted_by_oins": p.accepted_by_oins,
        "awaiting_oins": p.awaiting_oins,
    })
}

/// One line for a proposal: its state and, while open, whom it waits for.
fn print_proposal(p: &pb::CoordinatorProposal) {
    if p.awaiting_oins.is_empty() {
        println!("proposal {}: {}", p.proposal_id, proposal_state(p.state));
    } else {
        println!(
            "proposal {}: {} (waiting for {})",
            p.proposal_id,
            proposal_state(p.state),
            p.awaiting_oins.join(", ")
        );
    }
}

fn case_json(c: &pb::Case) -> Value {
    json!({
        "case_id": c.case_id,
        "created_at": ts(c.created_at.as_ref()),
        "coordinator": c.coordinator.as_ref().map(|k| json!({
            "oin": k.oin,
            "organization_name": k.organization_name,
            "contact_professional": k.contact_professional,
            "since": ts(k.since.as_ref()),
        })),
        "parties": c.parties.iter().map(involvement_json).collect::<Vec<_>>(),
        "proposals": c.proposals.iter().map(proposal_json).collect::<Vec<_>>(),
        "safety_plan_version": c.safety_plan_version,
    })
}

fn show_case(c: &pb::Case, out: Out) {
    if out.json {
        out.emit(&json!({ "case": case_json(c) }));
    } else {
        print_case(c);
    }
}

fn show_plan(p: &pb::SafetyPlanVersion, out: Out) {
    if out.json {
        out.emit(&plan_json(p));
    } else {
        print_plan_meta(p);
    }
}

/// Runs `signaal profile`.
pub async fn profile(hub: &mut HubClient, a: ProfileArgs, out: Out) -> Result<(), CliError> {
    let o = hub
        .update_own_profile(pb::UpdateOwnProfileRequest {
            region: a.region,
            expertise: a.expertise,
            contact_point: a.contact,
        })
        .await?;
    if out.json {
        out.emit(&output::organization(&o));
        return Ok(());
    }
    println!(
        "{}  {}  region {}  [{}]  {}",
        o.oin,
        o.name,
        o.region,
        o.expertise.join(", "),
        o.contact_point
    );
    Ok(())
}

/// Runs a `signaal involvement` command.
pub async fn run(
    hub: &mut HubClient,
    me: &Identity,
    a: InvolvementArgs,
    out: Out,
) -> Result<(), CliError> {
    match a.command {
        InvolvementCommand::Register {
            bsn,
            household,
            contact,
            consents,
            age,
            gezag_holders,
        } => {
            let r = hub
                .register_involvement(pb::RegisterInvolvementRequest {
                    subject_bsn: bsn,
                    household_bsns: household,
                    contact_professional: contact,
                    started_at: None,
                    basis: (!consents.is_empty()).then_some(pb::Basis {
                        legal: None,
                        consent_ids: consents,
                    }),
                    subject: (age.is_some() || !gezag_holders.is_empty())
                        .then(|| facts(age, &gezag_holders)),
                    acting_role: String::new(),
                })
                .await?;
            if out.json {
                out.emit(&json!({
                    "involvement": r.involvement.as_ref().map(involvement_json),
                    "already_registered": r.already_registered,
                    "case": r.case.as_ref().map(case_json),
                }));
                return Ok(());
            }
            if let Some(i) = &r.involvement {
                println!(
                    "involvement {}{}",
                    i.involvement_id,
                    if r.already_registered {
                        " (already registered; basis refreshed)"
                    } else {
                        ""
                    }
                );
            }
            match &r.case {
                Some(c) => print_case(c),
                None => println!("no other involved party known to you"),
            }
        }
        InvolvementCommand::Confirm { bsn, org } => {
            let until = hub.confirm_involvement(&bsn, &org).await?;
            if out.json {
                out.emit(
                    &json!({ "org_oin": org, "valid_until": crate::cli::format::rfc3339(until) }),
                );
            } else {
                println!(
                    "confirmed: {org} may register its involvement until {}",
                    crate::cli::format::utc(until)
                );
            }
        }
        InvolvementCommand::End { id } => {
            let i = hub.end_involvement(&id).await?;
            if out.json {
                out.emit(&json!({ "involvement": involvement_json(&i) }));
            } else {
                print_involvement(&i);
            }
        }
        InvolvementCommand::Parties { bsn } => {
            let r = hub.list_involved_parties(&bsn).await?;
            if out.json {
                out.emit(&json!({
                    "own": r.own.iter().map(involvement_json).collect::<Vec<_>>(),
                    "cases": r.cases.iter().map(case_json).collect::<Vec<_>>(),
                }));
                return Ok(());
            }
            println!("my involvements:");
            for i in &r.own {
                print_involvement(i);
            }
            for c in &r.cases {
                print_case(c);
            }
        }
        InvolvementCommand::Case { id } => show_case(&hub.get_case(&id).await?, out),
        InvolvementCommand::Propose { case, org, me: own } => {
            let oin = match (org, own) {
                (Some(o), _) => o,
                (None, _) => me.oin(hub).await?,
            };
            let r = hub.propose_coordinator(&case, &oin).await?;
            if out.json {
                out.emit(&json!({
                    "proposal": r.proposal.as_ref().map(proposal_json),
                    "case": r.case.as_ref().map(case_json),
                }));
                return Ok(());
            }
            if let Some(p) = &r.proposal {
                print_proposal(p);
            }
            if let Some(c) = &r.case {
                print_case(c);
            }
        }
        InvolvementCommand::Accept { id } => respond(hub, &id, true, out).await?,
        InvolvementCommand::Decline { id } => respond(hub, &id, false, out).await?,
        InvolvementCommand::Plan { command } => plan(hub, me, command, out).await?,
        InvolvementCommand::Notifications { after, follow } => {
            let mut s = hub.stream_notifications(after).await?;
            let mut all = Vec::new();
            loop {
                let next = if follow {
                    s.message().await?
                } else {
                    match tokio::time::timeout(Duration::from_secs(2), s.message()).await {
                        Ok(n) => n?,
                        Err(_) => break,
                    }
                };
                let Some(n) = next else { break };
                if out.json {
                    let doc = notification_json(&n);
                    // --follow: one document per line as they come.
                    if follow {
                        out.emit(&doc);
                    } else {
                        all.push(doc);
                    }
                    continue;
                }
                println!(
                    "{}  {}  {}  {} ({}{}): {}",
                    n.cursor,
                    when(n.at.as_ref()),
                    kind_name(n.kind),
                    n.actor_name,
                    n.actor_oin,
                    if n.actor_professional.is_empty() {
                        String::new()
                    } else {
                        format!(", {}", n.actor_professional)
                    },
                    n.summary_nl
                );
            }
            if !follow {
                out.emit(&json!({ "notifications": all }));
            }
        }
    }
    Ok(())
}

fn notification_json(n: &pb::StreamNotificationsResponse) -> Value {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    json!({
        "cursor": n.cursor,
        "kind": kind_name(n.kind),
        "at": ts(n.at.as_ref()),
        "actor_oin": n.actor_oin,
        "actor_name": n.actor_name,
        "actor_professional": n.actor_professional,
        "case_id": opt(&n.case_id),
        "maatregel_id": opt(&n.maatregel_id),
        "involvement_id": opt(&n.involvement_id),
        "proposal_id": opt(&n.proposal_id),
        "plan_version": (n.plan_version > 0).then_some(n.plan_version),
        "summary_nl": n.summary_nl,
    })
}

async fn respond(hub: &mut HubClient, id: &str, accept: bool, out: Out) -> Result<(), CliError> {
    let r = hub.respond_to_coordinator_proposal(id, accept).await?;
    if out.json {
        out.emit(&json!({
            "proposal": r.proposal.as_ref().map(proposal_json),
            "case": r.case.as_ref().map(case_json),
        }));
        return Ok(());
    }
    if let Some(p) = r.proposal.as_ref().filter(|p| !p.awaiting_oins.is_empty()) {
        print_proposal(p);
    }
    if let Some(c) = &r.case {
        print_case(c);
    }
    Ok(())
}

async fn plan(
    hub: &mut HubClient,
    me: &Identity,
    c: PlanCommand,
    out: Out,
) -> Result<(), CliError> {
    match c {
        PlanCommand::Publish {
            case,
            file,
            consents,
            signer,
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::config(format!("{}: {e}", file.display())))?;
            let plan: SafetyPlan = serde_json::from_str(&text).map_err(|e| {
                CliError::config(format!("{}: not a safety plan: {e}", file.display()))
            })?;
            let k = hub.get_case(&case).await?;
            let mut parties: Vec<String> = k
                .parties
                .iter()
                .map(|p| p.organization_oin.clone())
                .collect();
            parties.sort();
            parties.dedup();
            let oin = me.oin(hub).await?;
            let sender = me.sender_keys(&oin, &signer)?;
            let keys = hub.recipient_keys(&parties).await?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            let req = plan
                .seal(
                    &k.case_id,
                    k.safety_plan_version + 1,
                    pb::Basis {
                        legal: None,
                        consent_ids: consents,
                    },
                    &sender,
                    &keys,
                    now,
                )
                .map_err(|e| CliError::config(format!("sealing: {e}")))?;
            let p = hub.publish_safety_plan(req).await?;
            show_plan(&p, out);
        }
        PlanCommand::Show {
            case,
            version,
            family,
            opener,
        } => {
            let p = hub.get_safety_plan(&case, version).await?;
            let Some(env) = &p.envelope else {
                if out.json {
                    out.emit(&json!({ "plan": plan_json(&p), "content": null }));
                } else {
                    print_plan_meta(&p);
                    println!("(this version was not sealed to my organisation)");
                }
                return Ok(());
            };
            if out.human() {
                print_plan_meta(&p);
            }
            let oin = me.oin(hub).await?;
            let secrets = me.recipient_secrets(&oin, &opener)?;
            let key = hub
                .signing_key(&env.sender_oin, &env.sender_signing_key_id)
                .await?;
            let content = SafetyPlan::open(env, &secrets, &key)
                .map_err(|e| CliError::Failed(format!("the plan does not open: {e}")))?;
            let mut names = std::collections::HashMap::new();
            let k = hub.get_case(&case).await?;
            for party in &k.parties {
                names.insert(
                    party.organization_oin.clone(),
                    party.organization_name.clone(),
                );
            }
            let text = content
                .render_for_family(&p, |o| names.get(o).cloned().unwrap_or_else(|| o.into()));
            if let Some(path) = &family {
                super::files::write_private(path, text.as_bytes())?;
            }
            if out.json {
                out.emit(&json!({
                    "plan": plan_json(&p),
                    "content": serde_json::to_value(&content).unwrap_or(Value::Null),
                    "family_file": family.as_ref().map(|p| p.display().to_string()),
                    "family_text": if family.is_none() { Some(&text) } else { None },
                }));
                return Ok(());
            }
            match &family {
                Some(path) => println!("family text written to {}", path.display()),
                None => print!("\n{text}"),
            }
        }
        PlanCommand::Confirm {
            case,
            version,
            agreements,
        } => {
            let p = hub.confirm_safety_plan(&case, version, agreements).await?;
            show_plan(&p, out);
        }
    }
    Ok(())
}
