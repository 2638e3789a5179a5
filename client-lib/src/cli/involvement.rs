//! `signaal involvement ...`: the involvement register, cases and their coordinator, the safety
//! plan and the notification stream; `signaal profile`: the own entry on the sociale kaart.
use super::disclosure::facts;
use super::error::CliError;
use super::format::when;
use super::keys::{Identity, OpenerArgs, SignerArgs};
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
        /// Take up the coordination myself (effective at once).
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
            "  FULLY CONFIRMED"
        } else {
            ""
        }
    );
    for a in &p.agreements {
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

/// Runs `signaal profile`.
pub async fn profile(hub: &mut HubClient, a: ProfileArgs) -> Result<(), CliError> {
    let o = hub
        .update_own_profile(pb::UpdateOwnProfileRequest {
            region: a.region,
            expertise: a.expertise,
            contact_point: a.contact,
        })
        .await?;
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
pub async fn run(hub: &mut HubClient, me: &Identity, a: InvolvementArgs) -> Result<(), CliError> {
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
        InvolvementCommand::End { id } => {
            let i = hub.end_involvement(&id).await?;
            print_involvement(&i);
        }
        InvolvementCommand::Parties { bsn } => {
            let r = hub.list_involved_parties(&bsn).await?;
            println!("my involvements:");
            for i in &r.own {
                print_involvement(i);
            }
            for c in &r.cases {
                print_case(c);
            }
        }
        InvolvementCommand::Case { id } => print_case(&hub.get_case(&id).await?),
        InvolvementCommand::Propose { case, org, me: own } => {
            let oin = match (org, own) {
                (Some(o), _) => o,
                (None, _) => me.oin(hub).await?,
            };
            let r = hub.propose_coordinator(&case, &oin).await?;
            if let Some(p) = &r.proposal {
                println!(
                    "proposal {}: {}",
                    p.proposal_id,
                    pb::ProposalState::try_from(p.state)
                        .map(|s| s
                            .as_str_name()
                            .trim_start_matches("PROPOSAL_STATE_")
                            .to_lowercase())
                        .unwrap_or_default()
                );
            }
            if let Some(c) = &r.case {
                print_case(c);
            }
        }
        InvolvementCommand::Accept { id } => respond(hub, &id, true).await?,
        InvolvementCommand::Decline { id } => respond(hub, &id, false).await?,
        InvolvementCommand::Plan { command } => plan(hub, me, command).await?,
        InvolvementCommand::Notifications { after, follow } => {
            let mut s = hub.stream_notifications(after).await?;
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
        }
    }
    Ok(())
}

async fn respond(hub: &mut HubClient, id: &str, accept: bool) -> Result<(), CliError> {
    let r = hub.respond_to_coordinator_proposal(id, accept).await?;
    if let Some(c) = &r.case {
        print_case(c);
    }
    Ok(())
}

async fn plan(hub: &mut HubClient, me: &Identity, c: PlanCommand) -> Result<(), CliError> {
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
            print_plan_meta(&p);
        }
        PlanCommand::Show {
            case,
            version,
            family,
            opener,
        } => {
            let p = hub.get_safety_plan(&case, version).await?;
            print_plan_meta(&p);
            let Some(env) = &p.envelope else {
                println!("(this version was not sealed to my organisation)");
                return Ok(());
            };
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
            match family {
                Some(path) => {
                    super::files::write_private(&path, text.as_bytes())?;
                    println!("family text written to {}", path.display());
                }
                None => print!("\n{text}"),
            }
        }
        PlanCommand::Confirm {
            case,
            version,
            agreements,
        } => {
            let p = hub.confirm_safety_plan(&case, version, agreements).await?;
            print_plan_meta(&p);
        }
    }
    Ok(())
}
