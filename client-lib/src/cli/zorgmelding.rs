//! `signaal zorgmelding ...` (police fragments, Veilig Thuis's melding inbox) and
//! `signaal triage ...` (triage, family refusal, handover to the wijkteam, receiving it).
//! See docs/ZORGMELDING.md for the walk-through.
use super::cursor::{CursorFile, HubLog};
use super::disclosure::{print_obligations, resolve_oin};
use super::error::{CliError, refusal};
use super::files::{create_private_dir, write_private};
use super::format::{now_unix, ts, when};
use super::keys::{Identity, OpenerArgs, SignerArgs};
use super::output::{self, Out};
use super::signals::current_encryption_keys;
use serde_json::{Value, json};
use signaalhub_client::envelope::{self, RecipientSecrets};
use signaalhub_client::zorgmelding::{melding_reference, melding_text};
use signaalhub_client::{ClientError, HubClient};
use signaalhub_proto::pb;
use std::path::PathBuf;
use std::time::Duration;

mod follow_up;

/// How long `--once` waits for the next item before it stops.
const ONCE_IDLE: Duration = Duration::from_secs(2);

/// `signaal zorgmelding`.
#[derive(clap::Subcommand, Debug)]
pub enum ZorgmeldingCommand {
    /// Police: seal one fragment of an incident to Veilig Thuis and submit it.
    Fragment(Box<FragmentArgs>),
    /// Police: mark the incident's zorgmelding complete.
    Complete {
        /// The police registration number.
        #[arg(long)]
        registration: String,
    },
    /// Veilig Thuis: stream the zorgmeldingen, open every fragment and save it.
    Inbox(InboxArgs),
    /// One zorgmelding: by id (Veilig Thuis, police) or --registration (police).
    Show {
        /// The zorgmelding id (`zm_…`).
        id: Option<String>,
        /// The police registration number (police only).
        #[arg(long)]
        registration: Option<String>,
    },
}

/// What a fragment holds.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum KindArg {
    /// The incident report.
    Incident,
    /// The persons involved.
    Persons,
    /// The children present.
    ChildrenPresent,
    /// Earlier incidents.
    History,
    /// Anything else.
    Other,
}

impl From<KindArg> for pb::FragmentKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Incident => pb::FragmentKind::Incident,
            KindArg::Persons => pb::FragmentKind::Persons,
            KindArg::ChildrenPresent => pb::FragmentKind::ChildrenPresent,
            KindArg::History => pb::FragmentKind::History,
            KindArg::Other => pb::FragmentKind::Other,
        }
    }
}

/// `signaal zorgmelding fragment`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("payload").required(true).args(["file", "text"])))]
pub struct FragmentArgs {
    /// The police registration number of the incident.
    #[arg(long)]
    registration: String,
    /// The fragment id (1-64 of A-Za-z0-9._-); default `<registration>-<kind>` made safe.
    #[arg(long)]
    id: Option<String>,
    /// What the fragment holds.
    #[arg(long, value_enum)]
    kind: KindArg,
    /// Veilig Thuis: an OIN or `veilig_thuis`.
    #[arg(long, default_value = "veilig_thuis")]
    to: String,
    /// BSN of a person the fragment is about; repeatable.
    #[arg(long = "bsn", required = true)]
    bsns: Vec<String>,
    /// Data category; repeatable (e.g. incidentgegevens, betrokken_personen, aanwezigheid_kinderen).
    #[arg(long = "category", required = true)]
    categories: Vec<String>,
    /// The police basis in the convenant.
    #[arg(long, default_value = "wpg_zorgmelding")]
    basis: String,
    /// File with the payload.
    #[arg(long)]
    file: Option<PathBuf>,
    /// The payload as text.
    #[arg(long)]
    text: Option<String>,
    /// Role to act in, if the token has several.
    #[arg(long, default_value = "")]
    role: String,
    #[command(flatten)]
    signer: SignerArgs,
}

/// `signaal zorgmelding inbox`.
#[derive(clap::Args, Debug)]
pub struct InboxArgs {
    /// Resume after this cursor (default: the one saved in DIR/.zorgmelding-cursor).
    #[arg(long)]
    after: Option<u64>,
    /// Folder for the fragments (`<zorgmelding_id>/<sequence>-<kind>.bin`) and the cursor.
    #[arg(long, default_value = "zorgmeldingen")]
    out: PathBuf,
    /// Stop when nothing arrives for 2 seconds.
    #[arg(long)]
    once: bool,
    #[command(flatten)]
    opener: OpenerArgs,
}

/// `signaal triage`.
#[derive(clap::Subcommand, Debug)]
pub enum TriageCommand {
    /// Veilig Thuis: record the triage (the six Arnhem criteria) and see the advice.
    Record(Box<RecordArgs>),
    /// Veilig Thuis: the latest triage, the decision in force and whether the family declined.
    Show {
        /// The melding: a zorgmelding id (zm_…) or a signal sent to Veilig Thuis as
        /// <sender OIN>/<signal id>.
        id: String,
    },
    /// Veilig Thuis: the triagist's decision on a triage (may differ from the advice, with a
    /// reason); the handover and the family letter follow it.
    Decide {
        /// The triage id (tr_…), the latest of its melding.
        triage_id: String,
        /// The decision.
        #[arg(long, value_enum)]
        decision: DecisionArg,
        /// Why, when the decision differs from the advice.
        #[arg(long, value_enum)]
        reason: Option<ReasonArg>,
        /// Role to act in, if the token has several.
        #[arg(long, default_value = "")]
        role: String,
    },
    /// Veilig Thuis: record that the family does not want the wijkteam.
    Decline {
        /// The melding: a zorgmelding id (zm_…) or a signal sent to Veilig Thuis as
        /// <sender OIN>/<signal id>.
        id: String,
        /// Who said so: a reference such as ouder-1.
        #[arg(long)]
        by: String,
        /// Role to act in, if the token has several.
        #[arg(long, default_value = "")]
        role: String,
    },
    /// Veilig Thuis: re-seal the melding's fragments for the wijkteam and hand the case over.
    Handover(Box<HandoverArgs>),
    /// Handovers sent or received, with the wijkteam's answers (Veilig Thuis: questions opened
    /// here).
    Handovers {
        #[command(flatten)]
        opener: OpenerArgs,
    },
    /// Wijkteam: receive a handover, open and save its envelopes, print the letter.
    Receive(ReceiveArgs),
    /// Wijkteam: answer a received handover — accept it (you are then registered as involved
    /// with the persons), ask Veilig Thuis a question, or return it with a reason.
    Answer(Box<AnswerArgs>),
    /// Veilig Thuis: tell the melder what happens with the melding (optionally with a note
    /// sealed to the melder).
    Feedback(Box<FeedbackArgs>),
    /// The melder (or Veilig Thuis): the feedback about a melding; a note is opened here.
    Feedbacks {
        /// The melding: a zorgmelding id (zm_…) or a signal as <sender OIN>/<signal id> (a
        /// school reads the feedback on its own signal as <its OIN>/<signal id>).
        id: String,
        #[command(flatten)]
        opener: OpenerArgs,
    },
    /// Veilig Thuis: record the stage of a melding (triage, onderzoek, overdracht, monitoring,
    /// afgesloten) and when you review it next; a due review comes as a notification.
    Stage(Box<follow_up::StageArgs>),
    /// Veilig Thuis: the stages of a melding.
    Stages {
        /// The melding: a zorgmelding id (zm_…) or a signal as <sender OIN>/<signal id>.
        id: String,
        /// Role to act in, if the token has several.
        #[arg(long, default_value = "")]
        role: String,
    },
    /// Veilig Thuis: every melding delivered to you with its stage now and its next review, due
    /// reviews first (then by review date, then the others newest first); one page.
    Meldingen(follow_up::MeldingenArgs),
    /// Veilig Thuis: ask an organisation for information about a melding under assessment (the
    /// question sealed here to it).
    Ask(Box<follow_up::AskArgs>),
    /// Information requests received (questions opened here) or, with --sent, sent by Veilig
    /// Thuis (answers opened here).
    Requests {
        /// The requests your organisation sent (Veilig Thuis).
        #[arg(long)]
        sent: bool,
        /// Role to act in, if the token has several.
        #[arg(long, default_value = "")]
        role: String,
        #[command(flatten)]
        opener: OpenerArgs,
    },
    /// The organisation asked: answer Veilig Thuis's information request (sealed here to Veilig
    /// Thuis) or decline it with a reason.
    Inform(Box<follow_up::InformArgs>),
}

/// An answer to a yes/no criterion.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum YesNo {
    /// Yes.
    Yes,
    /// No.
    No,
    /// Not known yet.
    Unknown,
}

impl From<YesNo> for pb::CriterionAnswer {
    fn from(a: YesNo) -> Self {
        match a {
            YesNo::Yes => pb::CriterionAnswer::Yes,
            YesNo::No => pb::CriterionAnswer::No,
            YesNo::Unknown => pb::CriterionAnswer::Unknown,
        }
    }
}

/// The triagist's decision.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum DecisionArg {
    /// Veilig Thuis and the wijkteam visit together.
    JointVisit,
    /// The wijkteam alone.
    WijkteamAlone,
    /// Veilig Thuis keeps the case.
    VeiligThuisAlone,
    /// Advice only.
    AdviceOnly,
}

/// Why a decision differs from the advice.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ReasonArg {
    /// A single incident without a pattern.
    SingleIncident,
    /// Suitable help is already involved.
    HelpAlreadyInvolved,
    /// The family is open to help.
    FamilyCooperates,
    /// The children's safety asks for Veilig Thuis itself.
    SafetyNeedsVeiligThuis,
    /// Information that came in after the triage.
    NewInformation,
    /// Another reason, in Veilig Thuis's own file.
    OtherSeeFile,
}

/// Criterion 4.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ConflictArg {
    /// A conflict about the children's safety.
    Yes,
    /// No.
    No,
    /// Only divorce problems.
    DivorceOnly,
    /// Not known yet.
    Unknown,
}

/// Criterion 5.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum OpenArg {
    /// Open to help.
    Open,
    /// Expected not to be open to help.
    ExpectedNotOpen,
    /// Found not to be open to help.
    FoundNotOpen,
    /// Not known yet.
    Unknown,
}

/// `signaal triage record`.
#[derive(clap::Args, Debug)]
pub struct RecordArgs {
    /// The melding: a zorgmelding id (zm_…) or a signal sent to Veilig Thuis as
    /// <sender OIN>/<signal id>.
    id: String,
    /// 1. Physical abuse or severe violence.
    #[arg(long, value_enum)]
    physical_abuse: YesNo,
    /// 2. Sexual abuse.
    #[arg(long, value_enum)]
    sexual_abuse: YesNo,
    /// 3. Domestic violence witnessed by children.
    #[arg(long, value_enum)]
    witnessed_by_children: YesNo,
    /// 4. Conflict about the children's safety.
    #[arg(long, value_enum)]
    safety_conflict: ConflictArg,
    /// 5. Are the parents open to help?
    #[arg(long, value_enum)]
    open_to_help: OpenArg,
    /// 6. Stacked reports (also those the hub does not know of).
    #[arg(long, value_enum)]
    stacked_reports: YesNo,
    /// 6. Mutual accusations.
    #[arg(long, value_enum)]
    mutual_accusations: YesNo,
    /// 6. Addiction.
    #[arg(long, value_enum)]
    addiction: YesNo,
    /// Acute danger.
    #[arg(long)]
    acute: bool,
    /// Veilig Thuis's case reference.
    #[arg(long = "case")]
    case_reference: String,
    /// Role to act in, if the token has several (e.g. triagist).
    #[arg(long, default_value = "")]
    role: String,
}

/// `signaal triage handover`.
#[derive(clap::Args, Debug)]
pub struct HandoverArgs {
    /// The melding: a zorgmelding id (zm_…) or a signal sent to Veilig Thuis as
    /// <sender OIN>/<signal id>.
    id: String,
    /// The wijkteam: an OIN or `wijkteam`.
    #[arg(long, default_value = "wijkteam")]
    to: String,
    /// BSN of a person handed over (one the melding is about); repeatable.
    #[arg(long = "bsn", required = true)]
    bsns: Vec<String>,
    /// Category handed over; repeatable.
    #[arg(long = "category", required = true)]
    categories: Vec<String>,
    /// Sequence number of a fragment to hand over; repeatable (default: every fragment). Hand
    /// over only what the categories cover (data minimisation).
    #[arg(long = "fragment")]
    fragments: Vec<u32>,
    /// Id of the family's recorded consent; repeatable.
    #[arg(long = "consent")]
    consent_ids: Vec<String>,
    /// Veilig Thuis's basis in the convenant.
    #[arg(long, default_value = "vt_wettelijke_taak")]
    basis: String,
    /// Veilig Thuis's case reference (evidence of the basis).
    #[arg(long = "case")]
    case_reference: String,
    /// Whether the family was told (yes/no).
    #[arg(long, default_value = "yes")]
    client_informed: String,
    /// The handover id; default `ho-` and 16 random hex characters.
    #[arg(long = "handover-id")]
    handover_id: Option<String>,
    /// Veilig Thuis contact: name.
    #[arg(long)]
    vt_name: String,
    /// Veilig Thuis contact: function.
    #[arg(long, default_value = "medewerker Veilig Thuis")]
    vt_function: String,
    /// Veilig Thuis contact: phone.
    #[arg(long, default_value = "")]
    vt_phone: String,
    /// Veilig Thuis contact: e-mail.
    #[arg(long, default_value = "")]
    vt_email: String,
    /// Wijkteam contact: name.
    #[arg(long)]
    wijkteam_name: String,
    /// Wijkteam contact: function.
    #[arg(long, default_value = "wijkcoach")]
    wijkteam_function: String,
    /// Wijkteam contact: phone.
    #[arg(long, default_value = "")]
    wijkteam_phone: String,
    /// Wijkteam contact: e-mail.
    #[arg(long, default_value = "")]
    wijkteam_email: String,
    /// Write the family letter to this file (default: print it).
    #[arg(long)]
    letter: Option<PathBuf>,
    /// The language of the family letter: nl (default) or en.
    #[arg(long, default_value = "nl")]
    letter_language: String,
    /// Role to act in, if the token has several (e.g. vt_medewerker).
    #[arg(long, default_value = "")]
    role: String,
    #[command(flatten)]
    signer: SignerArgs,
    #[command(flatten)]
    opener: OpenerArgs,
}

/// How the wijkteam answers.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum AnswerArg {
    /// Take the case on.
    Accept,
    /// Ask Veilig Thuis a question first (--text).
    Question,
    /// Give the case back (--reason).
    Return,
}

/// Why a handover is returned.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ReturnArg {
    /// The family lives outside our area.
    NotOurArea,
    /// The family already gets care elsewhere.
    AlreadyInCareElsewhere,
    /// Not enough information to start.
    NotEnoughInformation,
    /// The safety asks for Veilig Thuis itself.
    SafetyNeedsVeiligThuis,
    /// Another reason, in your own file.
    OtherSeeFile,
}

/// `signaal triage answer`.
#[derive(clap::Args, Debug)]
pub struct AnswerArgs {
    /// The handover id.
    id: String,
    /// Accept, question or return.
    #[arg(long, value_enum)]
    answer: AnswerArg,
    /// The sender's OIN (Veilig Thuis): an OIN or `veilig_thuis`.
    #[arg(long, default_value = "veilig_thuis")]
    from: String,
    /// Accept: BSN of a person you take on (one handed over); repeatable.
    #[arg(long = "bsn")]
    bsns: Vec<String>,
    /// Accept: how colleagues reach you.
    #[arg(long, default_value = "")]
    contact: String,
    /// Return: why.
    #[arg(long, value_enum)]
    reason: Option<ReturnArg>,
    /// Question: the question (sealed here to Veilig Thuis).
    #[arg(long)]
    text: Option<String>,
    /// Role to act in, if the token has several.
    #[arg(long, default_value = "")]
    role: String,
    #[command(flatten)]
    signer: SignerArgs,
}

/// What Veilig Thuis tells the melder.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum OutcomeArg {
    /// Received; being assessed.
    Received,
    /// Handed over to the wijkteam.
    HandedOver,
    /// Veilig Thuis investigates.
    Investigates,
    /// Advice given; closed.
    Advice,
    /// No further action.
    NoFurtherAction,
}

/// `signaal triage feedback`.
#[derive(clap::Args, Debug)]
pub struct FeedbackArgs {
    /// The melding: a zorgmelding id (zm_…) or a signal as <sender OIN>/<signal id>.
    id: String,
    /// What Veilig Thuis tells.
    #[arg(long, value_enum)]
    outcome: OutcomeArg,
    /// Veilig Thuis's case reference (evidence of its statutory task).
    #[arg(long = "case")]
    case_reference: String,
    #[command(flatten)]
    informed: InformedArgs,
    /// A note for the melder, sealed here to the melder.
    #[arg(long)]
    text: Option<String>,
    /// The feedback id; default `fb-` and 16 random hex characters.
    #[arg(long = "feedback-id")]
    feedback_id: Option<String>,
    /// Role to act in, if the token has several.
    #[arg(long, default_value = "")]
    role: String,
    #[command(flatten)]
    signer: SignerArgs,
}

/// `signaal triage receive`.
#[derive(clap::Args, Debug)]
pub struct ReceiveArgs {
    /// The handover id.
    id: String,
    /// The sender's OIN (Veilig Thuis): an OIN or `veilig_thuis`.
    #[arg(long, default_value = "veilig_thuis")]
    from: String,
    /// Folder for the opened envelopes (`<handover_id>/<n>.bin`) and the letter.
    #[arg(long, default_value = "overdrachten")]
    out: PathBuf,
    #[command(flatten)]
    opener: OpenerArgs,
}

fn random_hex() -> Result<String, CliError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CliError::Failed("the random number generator failed".into()))?;
    Ok(hex::encode(bytes))
}

fn safe_id(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect()
}

fn kind_name(k: i32) -> String {
    pb::FragmentKind::try_from(k)
        .map(|k| {
            k.as_str_name()
                .trim_start_matches("FRAGMENT_KIND_")
                .to_lowercase()
        })
        .unwrap_or_else(|_| format!("kind {k}"))
}

/// Reports a refusal's headline on stdout (the reasons follow on stderr; with --json the error
/// document carries them).
fn refused<T>(what: &str, e: ClientError, out: Out) -> Result<T, CliError> {
    if let ClientError::Status(s) = &e
        && (refusal(s).is_some() || s.code() == tonic::Code::PermissionDenied)
        && out.human()
    {
        println!("{what} NOT done: the hub refused it");
    }
    Err(e.into())
}

/// Verifies a fragment's or handover envelope's sender signature against the directory and
/// opens it.
async fn open(
    hub: &mut HubClient,
    me: &RecipientSecrets,
    env: &pb::Envelope,
) -> Result<Vec<u8>, String> {
    let org = hub
        .get_organization(&env.sender_oin)
        .await
        .map_err(|e| format!("looking up the sender's signing key: {e}"))?;
    let key: [u8; 32] = org
        .signing_keys
        .iter()
        .find(|k| k.key_id == env.sender_signing_key_id)
        .ok_or("the sender publishes no such signing key")?
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| "the sender's signing key is not 32 bytes")?;
    envelope::open(env, me, &key).map_err(|e| e.to_string())
}

fn print_melding(m: &pb::Zorgmelding) {
    println!(
        "zorgmelding {}  registration {}  from {}  to {}  {} fragment(s){}  {} person(s)",
        m.zorgmelding_id,
        m.registration_number,
        m.police_oin,
        m.recipient_oin,
        m.fragments.len(),
        if m.complete { "  COMPLETE" } else { "" },
        m.subject_count
    );
    for f in &m.fragments {
        println!(
            "  #{} {:<16} {}  by {} ({}) of {} at {}  [{}]",
            f.sequence,
            kind_name(f.kind),
            f.fragment_id,
            f.author_professional,
            f.author_role,
            f.author_oin,
            when(f.received_at.as_ref()),
            f.categories.join(", ")
        );
    }
    if let Some(r) = &m.recidive {
        println!(
            "  recidive (last {} days): {} earlier zorgmelding(en), {} earlier signal(s){}",
            r.window_days,
            r.earlier_zorgmeldingen,
            r.earlier_signals,
            if r.sectors.is_empty() {
                String::new()
            } else {
                format!(" from {}", r.sectors.join(", "))
            }
        );
        for i in &r.items {
            println!(
                "    {} {} from {} ({}) at {}",
                i.kind,
                i.reference,
                i.sender_oin,
                i.sender_sector,
                when(i.at.as_ref())
            );
        }
    }
    if !m.linked_zorgmelding_ids.is_empty() {
        println!("  same household: {}", m.linked_zorgmelding_ids.join(", "));
    }
}

fn recidive_json(r: &pb::Recidive) -> Value {
    json!({
        "window_days": r.window_days,
        "earlier_zorgmeldingen": r.earlier_zorgmeldingen,
        "earlier_signals": r.earlier_signals,
        "sectors": r.sectors,
        "items": r.items.iter().map(|i| json!({
            "kind": i.kind,
            "reference": i.reference,
            "sender_oin": i.sender_oin,
            "sender_sector": i.sender_sector,
            "purpose": i.purpose,
            "at": ts(i.at.as_ref()),
        })).collect::<Vec<_>>(),
    })
}

fn melding_json(m: &pb::Zorgmelding) -> Value {
    json!({
        "zorgmelding_id": m.zorgmelding_id,
        "registration_number": m.registration_number,
        "police_oin": m.police_oin,
        "recipient_oin": m.recipient_oin,
        "purpose": m.purpose,
        "complete": m.complete,
        "completed_at": ts(m.completed_at.as_ref()),
        "created_at": ts(m.created_at.as_ref()),
        "updated_at": ts(m.updated_at.as_ref()),
        "version": m.version,
        "subject_count": m.subject_count,
        "fragments": m.fragments.iter().map(|f| json!({
            "sequence": f.sequence,
            "fragment_id": f.fragment_id,
            "kind": kind_name(f.kind),
            "categories": f.categories,
            "author_oin": f.author_oin,
            "author_professional": f.author_professional,
            "author_role": f.author_role,
            "received_at": ts(f.received_at.as_ref()),
            "subject_count": f.subject_count,
        })).collect::<Vec<_>>(),
        "recidive": m.recidive.as_ref().map(recidive_json),
        "linked_zorgmelding_ids": m.linked_zorgmelding_ids,
        "retain_until": ts(m.retain_until.as_ref()),
    })
}

/// A melding: text for people, or its JSON document.
fn show_melding(m: &pb::Zorgmelding, out: Out) {
    if out.json {
        out.emit(&melding_json(m));
    } else {
        print_melding(m);
    }
}

/// Runs `signaal zorgmelding ...`.
pub async fn zorgmelding(
    hub: &mut HubClient,
    me: &Identity,
    cmd: ZorgmeldingCommand,
    out: Out,
) -> Result<(), CliError> {
    match cmd {
        ZorgmeldingCommand::Fragment(a) => fragment(hub, me, *a, out).await,
        ZorgmeldingCommand::Complete { registration } => {
            let m = match hub.complete_zorgmelding(&registration).await {
                Ok(m) => m,
                Err(e) => return refused("completion", e, out),
            };
            show_melding(&m, out);
            Ok(())
        }
        ZorgmeldingCommand::Inbox(a) => inbox(hub, me, a, out).await,
        ZorgmeldingCommand::Show { id, registration } => {
            let m = match (id, registration) {
                (Some(id), _) => hub.get_zorgmelding(&id).await?,
                (None, Some(r)) => hub.get_zorgmelding_by_registration(&r).await?,
                (None, None) => {
                    return Err(CliError::config(
                        "give the zorgmelding id or --registration",
                    ));
                }
            };
            show_melding(&m, out);
            Ok(())
        }
    }
}

async fn fragment(
    hub: &mut HubClient,
    me: &Identity,
    a: FragmentArgs,
    out: Out,
) -> Result<(), CliError> {
    let payload = match (&a.file, &a.text) {
        (Some(p), _) => std::fs::read(p)
            .map_err(|e| CliError::config(format!("--file {}: {e}", p.display())))?,
        (None, Some(t)) => t.as_bytes().to_vec(),
        (None, None) => return Err(CliError::config("--file or --text is required")),
    };
    let kind = pb::FragmentKind::from(a.kind);
    let id = a.id.clone().unwrap_or_else(|| {
        safe_id(&format!(
            "{}-{}",
            a.registration,
            kind_name(kind as i32).replace('_', "-")
        ))
    });
    let my_oin = me.oin(hub).await?;
    let sender = me.sender_keys(&my_oin, &a.signer)?;
    let to = resolve_oin(hub, &a.to).await?;
    let keys = current_encryption_keys(hub, &to).await?;
    let basis = pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: a.basis.clone(),
            evidence: Some(pb::Evidence {
                registration_number: a.registration.clone(),
                ..Default::default()
            }),
        }),
        consent_ids: vec![],
    };
    let binding = pb::EnvelopeBinding {
        signal_id: id.clone(),
        purpose: "zorgmelding_politie".into(),
        categories: a.categories.clone(),
        basis_reference: signaalhub_proto::basis_reference(&basis),
        created_at_unix: now_unix(),
        content_digest: Vec::new(), // seal sets it
    };
    let env = envelope::seal(&payload, binding, &sender, &keys).map_err(CliError::sealing)?;
    let r = hub
        .submit_fragment(pb::SubmitFragmentRequest {
            registration_number: a.registration.clone(),
            fragment_id: id.clone(),
            kind: kind as i32,
            recipient_oin: to,
            subject_bsns: a.bsns.clone(),
            categories: a.categories.clone(),
            basis: Some(basis),
            envelope: Some(env),
            acting_role: a.role.clone(),
        })
        .await;
    let r = match r {
        Ok(r) => r,
        Err(e) => return refused(&format!("fragment {id}"), e, out),
    };
    if out.json {
        out.emit(&json!({
            "fragment_id": id,
            "zorgmelding_id": r.zorgmelding_id,
            "sequence": r.sequence,
            "fragment_count": r.fragment_count,
            "duplicate": r.duplicate,
            "decisions": r.decisions.iter().map(output::decision).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    println!(
        "fragment {id} is #{} of zorgmelding {} ({} fragment(s) so far){}",
        r.sequence,
        r.zorgmelding_id,
        r.fragment_count,
        if r.duplicate {
            " — a retry: nothing was added"
        } else {
            ""
        }
    );
    Ok(())
}

async fn inbox(hub: &mut HubClient, me: &Identity, a: InboxArgs, out: Out) -> Result<(), CliError> {
    let my_oin = me.oin(hub).await?;
    let secrets = me.recipient_secrets(&my_oin, &a.opener)?;
    create_private_dir(&a.out)
        .map_err(|e| CliError::config(format!("--out {}: {e}", a.out.display())))?;
    let mut cursors = CursorFile::load(a.out.join(".zorgmelding-cursor"))?;
    let now = HubLog::current(hub).await?;
    let reset = cursors.bind(hub, now).await?;
    if let Some(notice) = &reset {
        eprintln!("signaal: {notice}");
    }
    let after = a.after.unwrap_or_else(|| cursors.get(&my_oin).unwrap_or(0));
    let mut stream = hub.stream_zorgmeldingen(after).await?;
    let (mut items, mut failed) = (0usize, 0usize);
    let lines = out.json && !a.once;
    let mut docs = Vec::new();
    let mut saved = None;
    loop {
        let next = if a.once {
            match tokio::time::timeout(ONCE_IDLE, stream.message()).await {
                Ok(n) => n,
                Err(_) => break,
            }
        } else {
            stream.message().await
        };
        let Some(item) = next? else { break };
        let Some(m) = item.zorgmelding else { continue };
        if out.human() {
            if item.update {
                println!("UPDATE (cursor {}):", item.cursor);
            } else {
                println!("cursor {}:", item.cursor);
            }
            print_melding(&m);
        }
        let dir = a.out.join(safe_id(&m.zorgmelding_id));
        create_private_dir(&dir)
            .map_err(|e| CliError::config(format!("{}: {e}", dir.display())))?;
        let mut ok = true;
        let mut opened = Vec::new();
        for f in &m.fragments {
            let Some(env) = &f.envelope else { continue };
            match open(hub, &secrets, env).await {
                Ok(p) => {
                    let file = dir.join(format!("{}-{}.bin", f.sequence, kind_name(f.kind)));
                    write_private(&file, &p)?;
                    if out.human() {
                        println!(
                            "    #{} opened: {} bytes -> {}",
                            f.sequence,
                            p.len(),
                            file.display()
                        );
                    }
                    opened.push(json!({
                        "sequence": f.sequence, "opened": true, "bytes": p.len(),
                        "file": file.display().to_string(),
                    }));
                }
                Err(why) => {
                    if out.human() {
                        println!("    #{} NOT OPENED: {why}", f.sequence);
                    }
                    opened.push(json!({"sequence": f.sequence, "opened": false, "error": why}));
                    ok = false;
                }
            }
        }
        items += 1;
        if !ok {
            failed += 1;
        }
        // After a melding that did not open, the saved cursor stays before it, so the next run
        // streams it again.
        if failed == 0 {
            cursors.save(hub, &my_oin, item.cursor).await?;
            saved = Some(item.cursor);
        }
        let doc = json!({
            "cursor": item.cursor,
            "update": item.update,
            "zorgmelding": melding_json(&m),
            "fragments_opened": opened,
        });
        if lines {
            out.emit(&doc);
        } else {
            docs.push(doc);
        }
    }
    cursors.finish(hub).await?;
    if out.human() {
        println!("{items} zorgmelding item(s), {failed} with fragments that did not open");
    }
    let mut summary = json!({
        "items_count": items,
        "not_opened": failed,
        "after": after,
        "saved_cursor": saved,
        "cursor_reset": reset,
    });
    if !lines {
        summary["items"] = json!(docs);
    }
    out.emit(&summary);
    if failed > 0 {
        return Err(CliError::Answered(format!(
            "{failed} zorgmelding(en) had fragments that did not open; the cursor was not moved past them"
        )));
    }
    Ok(())
}

fn criterion_line(c: &pb::Criterion) -> String {
    format!("{}. {} ({})", c.number, c.text_nl, c.code)
}

fn advice_name(a: i32) -> String {
    pb::Advice::try_from(a)
        .map(|x| x.as_str_name().trim_start_matches("ADVICE_").to_owned())
        .unwrap_or_else(|_| format!("advice {a}"))
}

/// What the advice means for the first visit, in Dutch and English.
fn advice_meaning(a: i32) -> &'static str {
    match pb::Advice::try_from(a) {
        Ok(pb::Advice::JointVisit) => {
            "samen optrekken: Veilig Thuis en het wijkteam gaan samen op het eerste bezoek / a joint first visit by Veilig Thuis and the wijkteam"
        }
        Ok(pb::Advice::WijkteamAlone) => "het wijkteam gaat alleen / the wijkteam visits alone",
        Ok(pb::Advice::StaysWithVeiligThuis) => "blijft bij Veilig Thuis / stays with Veilig Thuis",
        _ => "",
    }
}

/// The advice with its criteria and explanation, in Dutch and in English (indented by `indent`).
fn print_advice(a: &pb::TriageAdvice, indent: &str) {
    println!(
        "{indent}advice: {}  ({})",
        advice_name(a.advice),
        advice_meaning(a.advice)
    );
    let pad = " ".repeat(indent.len() + 2);
    for c in &a.criteria_met {
        println!("{pad}criterion {}", criterion_line(c));
        println!("{pad}          {}", c.text_en);
    }
    for c in &a.open_questions {
        println!("{pad}still unknown: {}", criterion_line(c));
        println!("{pad}               {}", c.text_en);
    }
    if !a.explanation_nl.is_empty() {
        println!("{indent}toelichting:");
        for l in &a.explanation_nl {
            println!("{pad}{l}");
        }
    }
    if !a.explanation_en.is_empty() {
        println!("{indent}explanation:");
        for l in &a.explanation_en {
            println!("{pad}{l}");
        }
    }
}

fn criterion_json(c: &pb::Criterion) -> Value {
    json!({"number": c.number, "code": c.code, "text_nl": c.text_nl, "text_en": c.text_en})
}

fn advice_json(a: &pb::TriageAdvice) -> Value {
    json!({
        "advice": advice_name(a.advice),
        "joint_visit": a.advice == pb::Advice::JointVisit as i32,
        "criteria_met": a.criteria_met.iter().map(criterion_json).collect::<Vec<_>>(),
        "open_questions": a.open_questions.iter().map(criterion_json).collect::<Vec<_>>(),
        "divorce_only": a.divorce_only,
        "explanation_nl": a.explanation_nl,
        "explanation_en": a.explanation_en,
    })
}

fn print_triage(t: &pb::Triage) {
    println!(
        "triage {} of {} by {} ({}) at {}{}",
        t.triage_id,
        melding_text(&t.zorgmelding_id, t.signal.as_ref()),
        t.triagist,
        t.role,
        when(t.recorded_at.as_ref()),
        if t.acute { "  ACUTE" } else { "" }
    );
    if let Some(a) = &t.advice {
        print_advice(a, "  ");
    }
    if let Some(r) = &t.recidive {
        println!(
            "  recidive (last {} days): {} earlier zorgmelding(en), {} earlier signal(s)",
            r.window_days, r.earlier_zorgmeldingen, r.earlier_signals
        );
    }
    if let Some(d) = &t.decision {
        println!(
            "  decision: {}{}{}",
            decision_name(d.decision),
            match (d.recorded, d.follows_advice) {
                (false, _) => " (follows the advice; nobody decided otherwise)".to_owned(),
                (true, true) => format!(" (decided by {}, as advised)", d.decided_by),
                (true, false) => format!(" (decided by {}, against the advice)", d.decided_by),
            },
            if d.reason_nl.is_empty() {
                String::new()
            } else {
                format!("; reason: {}", d.reason_nl)
            }
        );
    }
}

fn decision_name(d: i32) -> String {
    short_name(
        d,
        pb::TriageDecisionKind::as_str_name,
        "TRIAGE_DECISION_KIND_",
    )
}

/// A wire enum value by its name without the enum's prefix (`JOINT_VISIT`), or the number when
/// this client does not know it.
fn short_name<E: TryFrom<i32>>(v: i32, name: fn(&E) -> &'static str, prefix: &str) -> String {
    E::try_from(v)
        .map(|k| name(&k).trim_start_matches(prefix).to_owned())
        .unwrap_or_else(|_| v.to_string())
}

fn triage_json(t: &pb::Triage) -> Value {
    json!({
        "triage_id": t.triage_id,
        "melding": melding_text(&t.zorgmelding_id, t.signal.as_ref()),
        "zorgmelding_id": t.zorgmelding_id,
        "decision": t.decision.as_ref().map(|d| json!({
            "decision": decision_name(d.decision),
            "reason": (d.reason != 0).then(|| short_name(d.reason, pb::DecisionReason::as_str_name, "DECISION_REASON_")),
            "follows_advice": d.follows_advice,
            "recorded": d.recorded,
            "decided_by": d.decided_by,
            "decided_at": ts(d.decided_at.as_ref()),
        })),
        "triagist": t.triagist,
        "role": t.role,
        "recorded_at": ts(t.recorded_at.as_ref()),
        "acute": t.acute,
        "case_reference": t.case_reference,
        "advice": t.advice.as_ref().map(advice_json),
        "recidive": t.recidive.as_ref().map(recidive_json),
    })
}

fn handover_state(h: &pb::Handover) -> String {
    pb::HandoverState::try_from(h.state)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("HANDOVER_STATE_")
                .to_owned()
        })
        .unwrap_or_default()
}

fn print_handover(h: &pb::Handover) {
    println!(
        "handover {} of {}  {} -> {}  {}  [{}]  basis {}  at {}",
        h.handover_id,
        melding_text(&h.zorgmelding_id, h.signal.as_ref()),
        h.sender_oin,
        h.recipient_oin,
        handover_state(h),
        h.categories.join(", "),
        h.basis.join(" "),
        when(h.created_at.as_ref())
    );
    for r in &h.reasons {
        println!("    {}: {}\n      {}", r.code, r.text_nl, r.text_en);
    }
    if let Some(a) = &h.advice {
        print_advice(a, "  ");
    }
    if h.decision != 0 {
        println!(
            "  decision: {} (the first visit {})",
            decision_name(h.decision),
            if h.decision == pb::TriageDecisionKind::JointVisit as i32 {
                "is joint: Veilig Thuis comes along"
            } else {
                "is the wijkteam's alone"
            }
        );
    }
    for a in &h.answers {
        println!(
            "  answer: {} by {} at {}{}{}",
            answer_name(a.answer),
            a.answered_by,
            when(a.answered_at.as_ref()),
            if a.reason_nl.is_empty() {
                String::new()
            } else {
                format!(" ({})", a.reason_nl)
            },
            if a.question.is_some() {
                " [a sealed question]"
            } else {
                ""
            }
        );
    }
    if h.answer_overdue {
        println!(
            "  NOT ANSWERED: the wijkteam should have answered by {}",
            when(h.answer_due.as_ref())
        );
    }
}

fn answer_name(a: i32) -> String {
    short_name(
        a,
        pb::HandoverAnswerKind::as_str_name,
        "HANDOVER_ANSWER_KIND_",
    )
}

fn contact_json(c: &pb::ContactPerson) -> Value {
    json!({"name": c.name, "function": c.function, "phone": c.phone, "email": c.email})
}

fn handover_json(h: &pb::Handover) -> Value {
    json!({
        "handover_id": h.handover_id,
        "zorgmelding_id": h.zorgmelding_id,
        "sender_oin": h.sender_oin,
        "recipient_oin": h.recipient_oin,
        "state": handover_state(h),
        "purpose": h.purpose,
        "categories": h.categories,
        "basis": h.basis,
        "advice": h.advice.as_ref().map(advice_json),
        "veilig_thuis_contact": h.veilig_thuis_contact.as_ref().map(contact_json),
        "wijkteam_contact": h.wijkteam_contact.as_ref().map(contact_json),
        "reasons": h.reasons.iter().map(output::reason).collect::<Vec<_>>(),
        "created_at": ts(h.created_at.as_ref()),
        "updated_at": ts(h.updated_at.as_ref()),
        "retain_until": ts(h.retain_until.as_ref()),
        "subject_count": h.subject_count,
        "envelopes": h.envelopes.len(),
        "melding": melding_text(&h.zorgmelding_id, h.signal.as_ref()),
        "decision": decision_name(h.decision),
        "answers": h.answers.iter().map(|a| json!({
            "answer": answer_name(a.answer),
            "reason": a.reason_nl,
            "answered_by": a.answered_by,
            "answered_at": ts(a.answered_at.as_ref()),
            "question": a.question.is_some(),
        })).collect::<Vec<_>>(),
        "answer_due": ts(h.answer_due.as_ref()),
        "answer_overdue": h.answer_overdue,
    })
}

/// Runs `signaal triage ...`.
pub async fn triage(
    hub: &mut HubClient,
    me: &Identity,
    cmd: TriageCommand,
    out: Out,
) -> Result<(), CliError> {
    match cmd {
        TriageCommand::Record(a) => {
            let a = *a;
            let (zorgmelding_id, signal) = melding_reference(&a.id);
            let t = hub
                .record_triage(pb::RecordTriageRequest {
                    zorgmelding_id,
                    signal,
                    criteria: Some(pb::ArnhemCriteria {
                        physical_abuse_or_severe_violence: pb::CriterionAnswer::from(
                            a.physical_abuse,
                        ) as i32,
                        sexual_abuse: pb::CriterionAnswer::from(a.sexual_abuse) as i32,
                        violence_witnessed_by_children: pb::CriterionAnswer::from(
                            a.witnessed_by_children,
                        ) as i32,
                        safety_conflict: match a.safety_conflict {
                            ConflictArg::Yes => pb::SafetyConflictAnswer::Yes,
                            ConflictArg::No => pb::SafetyConflictAnswer::No,
                            ConflictArg::DivorceOnly => pb::SafetyConflictAnswer::DivorceOnly,
                            ConflictArg::Unknown => pb::SafetyConflictAnswer::Unknown,
                        } as i32,
                        open_to_help: match a.open_to_help {
                            OpenArg::Open => pb::OpenToHelpAnswer::Open,
                            OpenArg::ExpectedNotOpen => pb::OpenToHelpAnswer::ExpectedNotOpen,
                            OpenArg::FoundNotOpen => pb::OpenToHelpAnswer::FoundNotOpen,
                            OpenArg::Unknown => pb::OpenToHelpAnswer::Unknown,
                        } as i32,
                        stacked_reports: pb::CriterionAnswer::from(a.stacked_reports) as i32,
                        mutual_accusations: pb::CriterionAnswer::from(a.mutual_accusations) as i32,
                        addiction: pb::CriterionAnswer::from(a.addiction) as i32,
                    }),
                    acute: a.acute,
                    case_reference: a.case_reference,
                    acting_role: a.role,
                })
                .await?;
            if out.json {
                out.emit(&triage_json(&t));
            } else {
                print_triage(&t);
            }
        }
        TriageCommand::Show { id } => {
            let r = hub.get_triage(&id).await?;
            if out.json {
                out.emit(&json!({
                    "zorgmelding_id": id,
                    "triage": r.triage.as_ref().map(triage_json),
                    "family_declined": r.family_declined.as_ref().map(|d| json!({
                        "declined_by": d.declined_by,
                        "recorded_at": ts(d.recorded_at.as_ref()),
                    })),
                }));
                return Ok(());
            }
            match &r.triage {
                Some(t) => print_triage(t),
                None => println!("no triage recorded for {id}"),
            }
            if let Some(d) = &r.family_declined {
                println!(
                    "  the family declined the wijkteam ({} at {}): the case stays with Veilig Thuis",
                    d.declined_by,
                    when(d.recorded_at.as_ref())
                );
            }
        }
        TriageCommand::Decide {
            triage_id,
            decision,
            reason,
            role,
        } => {
            let t = hub
                .decide_triage(pb::DecideTriageRequest {
                    triage_id,
                    decision: match decision {
                        DecisionArg::JointVisit => pb::TriageDecisionKind::JointVisit,
                        DecisionArg::WijkteamAlone => pb::TriageDecisionKind::WijkteamAlone,
                        DecisionArg::VeiligThuisAlone => pb::TriageDecisionKind::VeiligThuisAlone,
                        DecisionArg::AdviceOnly => pb::TriageDecisionKind::AdviceOnly,
                    } as i32,
                    reason: reason.map_or(0, |r| {
                        (match r {
                            ReasonArg::SingleIncident => pb::DecisionReason::SingleIncident,
                            ReasonArg::HelpAlreadyInvolved => {
                                pb::DecisionReason::HelpAlreadyInvolved
                            }
                            ReasonArg::FamilyCooperates => pb::DecisionReason::FamilyCooperates,
                            ReasonArg::SafetyNeedsVeiligThuis => {
                                pb::DecisionReason::SafetyNeedsVeiligThuis
                            }
                            ReasonArg::NewInformation => pb::DecisionReason::NewInformation,
                            ReasonArg::OtherSeeFile => pb::DecisionReason::OtherSeeFile,
                        }) as i32
                    }),
                    acting_role: role,
                })
                .await?;
            if out.json {
                out.emit(&triage_json(&t));
            } else {
                print_triage(&t);
            }
        }
        TriageCommand::Decline { id, by, role } => {
            let d = hub.record_family_declined(&id, &by, &role).await?;
            if out.json {
                out.emit(&json!({
                    "zorgmelding_id": id,
                    "declined_by": d.declined_by,
                    "recorded_at": ts(d.recorded_at.as_ref()),
                }));
                return Ok(());
            }
            println!(
                "recorded: the family ({}) declined the wijkteam at {}; handovers of {id} are refused",
                d.declined_by,
                when(d.recorded_at.as_ref())
            );
        }
        TriageCommand::Handover(a) => handover(hub, me, *a, out).await?,
        TriageCommand::Handovers { opener } => {
            let all = hub.list_handovers().await?;
            let my_oin = me.oin(hub).await?;
            let mut questions = Vec::new();
            for h in &all {
                if out.human() {
                    print_handover(h);
                }
                // Questions are sealed to Veilig Thuis: only the sender of the handover opens them.
                if h.sender_oin != my_oin {
                    continue;
                }
                let secrets = me.recipient_secrets(&my_oin, &opener)?;
                for env in h.answers.iter().filter_map(|a| a.question.as_ref()) {
                    let text = open(hub, &secrets, env)
                        .await
                        .map(|p| String::from_utf8_lossy(&p).into_owned());
                    if out.human() {
                        match &text {
                            Ok(t) => println!("    question: {t}"),
                            Err(why) => println!("    (a question does not open: {why})"),
                        }
                    }
                    questions.push(json!({
                        "handover_id": h.handover_id,
                        "question": text.ok(),
                    }));
                }
            }
            out.emit(&json!({
                "handovers": all.iter().map(handover_json).collect::<Vec<_>>(),
                "questions": questions,
            }));
        }
        TriageCommand::Receive(a) => receive(hub, me, a, out).await?,
        TriageCommand::Answer(a) => answer(hub, me, *a, out).await?,
        TriageCommand::Feedback(a) => send_feedback(hub, me, *a, out).await?,
        TriageCommand::Stage(a) => follow_up::stage(hub, *a, out).await?,
        TriageCommand::Stages { id, role } => follow_up::stages(hub, &id, &role, out).await?,
        TriageCommand::Meldingen(a) => follow_up::meldingen(hub, a, out).await?,
        TriageCommand::Ask(a) => follow_up::ask(hub, me, *a, out).await?,
        TriageCommand::Requests { sent, role, opener } => {
            follow_up::requests(hub, me, sent, &role, opener, out).await?
        }
        TriageCommand::Inform(a) => follow_up::inform(hub, me, *a, out).await?,
        TriageCommand::Feedbacks { id, opener } => {
            let all = hub.list_feedback(&id).await?;
            let my_oin = me.oin(hub).await?;
            let secrets = me.recipient_secrets(&my_oin, &opener)?;
            let mut items = Vec::new();
            for f in &all {
                let note = match &f.note {
                    Some(env) if env.sender_oin != my_oin => Some(
                        open(hub, &secrets, env)
                            .await
                            .map(|p| String::from_utf8_lossy(&p).into_owned()),
                    ),
                    _ => None,
                };
                if out.human() {
                    println!(
                        "{}  {}  {} ({})",
                        when(f.sent_at.as_ref()),
                        f.feedback_id,
                        f.outcome_nl,
                        feedback_outcome_name(f.outcome)
                    );
                    match &note {
                        Some(Ok(text)) => println!("    {text}"),
                        Some(Err(why)) => println!("    (the note does not open: {why})"),
                        None => {}
                    }
                }
                items.push(json!({
                    "feedback_id": f.feedback_id,
                    "veilig_thuis_oin": f.veilig_thuis_oin,
                    "outcome": feedback_outcome_name(f.outcome),
                    "outcome_nl": f.outcome_nl,
                    "sent_at": ts(f.sent_at.as_ref()),
                    "note": note.and_then(Result::ok),
                }));
            }
            if out.human() && all.is_empty() {
                println!("no feedback about {id}");
            }
            out.emit(&json!({ "melding": id, "feedback": items }));
        }
    }
    Ok(())
}

async fn handover(
    hub: &mut HubClient,
    me: &Identity,
    a: HandoverArgs,
    out: Out,
) -> Result<(), CliError> {
    let my_oin = me.oin(hub).await?;
    let sender = me.sender_keys(&my_oin, &a.signer)?;
    let secrets = me.recipient_secrets(&my_oin, &a.opener)?;
    let to = resolve_oin(hub, &a.to).await?;
    let keys = current_encryption_keys(hub, &to).await?;
    let client_informed = match a.client_informed.as_str() {
        "yes" => true,
        "no" => false,
        o => {
            return Err(CliError::config(format!(
                "--client-informed {o:?}: yes or no"
            )));
        }
    };
    let handover_id = match a.handover_id.clone() {
        Some(id) => id,
        None => format!("ho-{}", random_hex()?),
    };
    let basis = pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: a.basis.clone(),
            evidence: Some(pb::Evidence {
                case_reference: a.case_reference.clone(),
                client_informed: Some(client_informed),
                ..Default::default()
            }),
        }),
        consent_ids: a.consent_ids.clone(),
    };
    let (zorgmelding_id, signal) = melding_reference(&a.id);
    // Open the melding here (the hub cannot) and re-seal it for the wijkteam.
    let envelopes = match &signal {
        Some(s) => {
            let got = hub.get_signal(&s.sender_oin, &s.signal_id).await?;
            let env = got
                .envelope
                .as_ref()
                .ok_or_else(|| CliError::Failed("the signal came without its envelope".into()))?;
            let payload = open(hub, &secrets, env)
                .await
                .map_err(|why| CliError::Failed(format!("signal {}: {why}", a.id)))?;
            let binding = signaalhub_client::zorgmelding::handover_binding(
                &handover_id,
                1,
                &a.categories,
                &basis,
                now_unix(),
            );
            vec![envelope::seal(&payload, binding, &sender, &keys).map_err(CliError::sealing)?]
        }
        None => reseal_fragments(hub, &a, &handover_id, &basis, &secrets, &sender, &keys).await?,
    };
    let contact = |name: &str, function: &str, phone: &str, email: &str| pb::ContactPerson {
        name: name.into(),
        function: function.into(),
        phone: phone.into(),
        email: email.into(),
    };
    let r = hub
        .hand_over(pb::HandOverRequest {
            handover_id: handover_id.clone(),
            zorgmelding_id,
            signal,
            recipient_oin: to,
            subject_bsns: a.bsns.clone(),
            categories: a.categories.clone(),
            basis: Some(basis),
            envelopes,
            veilig_thuis_contact: Some(contact(
                &a.vt_name,
                &a.vt_function,
                &a.vt_phone,
                &a.vt_email,
            )),
            wijkteam_contact: Some(contact(
                &a.wijkteam_name,
                &a.wijkteam_function,
                &a.wijkteam_phone,
                &a.wijkteam_email,
            )),
            acting_role: a.role.clone(),
            family_letter_language: a.letter_language.clone(),
        })
        .await;
    let r = match r {
        Ok(r) => r,
        Err(e) => return refused(&format!("handover {handover_id}"), e, out),
    };
    let h = r
        .handover
        .ok_or_else(|| CliError::Failed("the hub sent no handover".into()))?;
    if out.json {
        if let Some(p) = &a.letter {
            write_private(p, h.family_letter.as_bytes())?;
        }
        out.emit(&json!({
            "handover": handover_json(&h),
            "duplicate": r.duplicate,
            "decisions": r.decisions.iter().map(output::decision).collect::<Vec<_>>(),
            "letter_file": a.letter.as_ref().map(|p| p.display().to_string()),
            "family_letter": if a.letter.is_none() { Some(&h.family_letter) } else { None },
        }));
        return Ok(());
    }
    print_handover(&h);
    if r.duplicate {
        println!("  a retry: the hub answered as the first time");
    }
    for d in &r.decisions {
        print_obligations(d, "  ");
    }
    match &a.letter {
        Some(p) => {
            write_private(p, h.family_letter.as_bytes())?;
            println!("  letter for the family -> {}", p.display());
        }
        None => println!("\n{}", h.family_letter),
    }
    Ok(())
}

async fn receive(
    hub: &mut HubClient,
    me: &Identity,
    a: ReceiveArgs,
    out: Out,
) -> Result<(), CliError> {
    let my_oin = me.oin(hub).await?;
    let secrets = me.recipient_secrets(&my_oin, &a.opener)?;
    let from = resolve_oin(hub, &a.from).await?;
    let h = hub.get_handover(&from, &a.id).await?;
    if out.human() {
        print_handover(&h);
    }
    if h.envelopes.is_empty() {
        out.emit(&json!({ "handover": handover_json(&h), "envelopes": [], "letter_file": null }));
        return Err(CliError::Answered(format!(
            "handover {} was not delivered to you ({})",
            a.id,
            handover_state(&h)
        )));
    }
    let dir = a.out.join(safe_id(&h.handover_id));
    create_private_dir(&dir).map_err(|e| CliError::config(format!("{}: {e}", dir.display())))?;
    let mut failed = 0;
    let mut envelopes = Vec::new();
    for (i, env) in h.envelopes.iter().enumerate() {
        match open(hub, &secrets, env).await {
            Ok(p) => {
                let file = dir.join(format!("{}.bin", i + 1));
                write_private(&file, &p)?;
                if out.human() {
                    println!(
                        "  envelope {} opened: {} bytes -> {}",
                        i + 1,
                        p.len(),
                        file.display()
                    );
                }
                envelopes.push(json!({
                    "number": i + 1, "opened": true, "bytes": p.len(),
                    "file": file.display().to_string(),
                }));
            }
            Err(why) => {
                if out.human() {
                    println!("  envelope {} NOT OPENED: {why}", i + 1);
                }
                envelopes.push(json!({"number": i + 1, "opened": false, "error": why}));
                failed += 1;
            }
        }
    }
    let letter = dir.join("brief-aan-gezin.txt");
    write_private(&letter, h.family_letter.as_bytes())?;
    if out.human() {
        if let Some(c) = &h.veilig_thuis_contact {
            println!(
                "  contact at Veilig Thuis: {} ({}) {} {}",
                c.name, c.function, c.phone, c.email
            );
        }
        println!("  the family's letter -> {}", letter.display());
    }
    out.emit(&json!({
        "handover": handover_json(&h),
        "envelopes": envelopes,
        "letter_file": letter.display().to_string(),
    }));
    if failed > 0 {
        return Err(CliError::Answered(format!(
            "{failed} envelope(s) did not open"
        )));
    }
    Ok(())
}

/// `signaal triage answer`: the wijkteam's answer to a received handover; a question is sealed
/// here to Veilig Thuis under the handover's purpose, categories and basis.
async fn answer(
    hub: &mut HubClient,
    me: &Identity,
    a: AnswerArgs,
    out: Out,
) -> Result<(), CliError> {
    let from = resolve_oin(hub, &a.from).await?;
    let question = match (a.answer, &a.text) {
        (AnswerArg::Question, Some(text)) => {
            let h = hub.get_handover(&from, &a.id).await?;
            let my_oin = me.oin(hub).await?;
            let sender = me.sender_keys(&my_oin, &a.signer)?;
            let keys = current_encryption_keys(hub, &from).await?;
            let binding = signaalhub_client::zorgmelding::question_binding(&h, now_unix());
            Some(
                envelope::seal(text.as_bytes(), binding, &sender, &keys)
                    .map_err(CliError::sealing)?,
            )
        }
        (AnswerArg::Question, None) => {
            return Err(CliError::config("--answer question needs --text"));
        }
        (_, Some(_)) => return Err(CliError::config("--text goes with --answer question")),
        (_, None) => None,
    };
    let r = hub
        .answer_handover(pb::AnswerHandoverRequest {
            sender_oin: from,
            handover_id: a.id.clone(),
            answer: match a.answer {
                AnswerArg::Accept => pb::HandoverAnswerKind::Accepted,
                AnswerArg::Question => pb::HandoverAnswerKind::Question,
                AnswerArg::Return => pb::HandoverAnswerKind::Returned,
            } as i32,
            reason: a.reason.map_or(0, |r| {
                (match r {
                    ReturnArg::NotOurArea => pb::ReturnReason::NotOurArea,
                    ReturnArg::AlreadyInCareElsewhere => pb::ReturnReason::AlreadyInCareElsewhere,
                    ReturnArg::NotEnoughInformation => pb::ReturnReason::NotEnoughInformation,
                    ReturnArg::SafetyNeedsVeiligThuis => pb::ReturnReason::SafetyNeedsVeiligThuis,
                    ReturnArg::OtherSeeFile => pb::ReturnReason::OtherSeeFile,
                }) as i32
            }),
            question,
            subject_bsns: a.bsns.clone(),
            contact_professional: a.contact.clone(),
            acting_role: a.role.clone(),
        })
        .await?;
    let h = r
        .handover
        .ok_or_else(|| CliError::Failed("the hub sent no handover".into()))?;
    if out.json {
        out.emit(&json!({
            "handover": handover_json(&h),
            "involvement_ids": r.involvement_ids,
            "duplicate": r.duplicate,
        }));
        return Ok(());
    }
    print_handover(&h);
    for id in &r.involvement_ids {
        println!("  you are registered as involved: {id}");
    }
    Ok(())
}

/// Whether the family knows (evidence of Veilig Thuis's statutory task): said, never assumed.
#[derive(clap::Args, Debug, Clone)]
pub struct InformedArgs {
    /// Whether the family was told of the melding (yes/no).
    #[arg(long = "client-informed", value_parser = ["yes", "no"])]
    client_informed: String,
    /// When not told: why not, a reason of the convenant's list (e.g. veiligheid_kind).
    #[arg(long = "not-informed-reason", default_value = "")]
    not_informed_reason: String,
}

/// Veilig Thuis's statutory task with its case reference and whether the family knows.
fn vt_task_basis(case_reference: &str, informed: &InformedArgs) -> pb::Basis {
    pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: "vt_wettelijke_taak".into(),
            evidence: Some(pb::Evidence {
                case_reference: case_reference.into(),
                client_informed: Some(informed.client_informed == "yes"),
                client_not_informed_reason: informed.not_informed_reason.clone(),
                ..Default::default()
            }),
        }),
        consent_ids: Vec::new(),
    }
}

/// What an envelope sealed here to one organisation is bound to.
struct Sealing<'a> {
    /// The recipient's OIN.
    to: &'a str,
    /// `binding.signal_id`.
    id: &'a str,
    purpose: &'a str,
    categories: Vec<String>,
    basis: &'a pb::Basis,
}

/// `text` sealed here by this organisation to `s.to`'s current keys, bound as `s` says.
async fn seal_for(
    hub: &mut HubClient,
    me: &Identity,
    signer: &SignerArgs,
    s: Sealing<'_>,
    text: &str,
) -> Result<pb::Envelope, CliError> {
    let my_oin = me.oin(hub).await?;
    let sender = me.sender_keys(&my_oin, signer)?;
    let keys = current_encryption_keys(hub, s.to).await?;
    let binding = pb::EnvelopeBinding {
        signal_id: s.id.into(),
        purpose: s.purpose.into(),
        categories: s.categories,
        basis_reference: signaalhub_proto::basis_reference(s.basis),
        created_at_unix: now_unix(),
        content_digest: Vec::new(), // seal sets it
    };
    envelope::seal(text.as_bytes(), binding, &sender, &keys).map_err(CliError::sealing)
}

fn feedback_outcome_name(o: i32) -> String {
    short_name(o, pb::FeedbackOutcome::as_str_name, "FEEDBACK_OUTCOME_")
}

/// `signaal triage feedback`: Veilig Thuis tells the melder; a note is sealed here to the melder
/// (the signal's sender, or the police that sent the zorgmelding).
async fn send_feedback(
    hub: &mut HubClient,
    me: &Identity,
    a: FeedbackArgs,
    out: Out,
) -> Result<(), CliError> {
    let (zorgmelding_id, signal) = melding_reference(&a.id);
    let feedback_id = match a.feedback_id.clone() {
        Some(id) => id,
        None => format!("fb-{}", random_hex()?),
    };
    let basis = vt_task_basis(&a.case_reference, &a.informed);
    let note = match &a.text {
        Some(text) => {
            let melder = match &signal {
                Some(s) => s.sender_oin.clone(),
                None => hub.get_zorgmelding(&zorgmelding_id).await?.police_oin,
            };
            let to = Sealing {
                to: &melder,
                id: &feedback_id,
                purpose: "terugkoppeling_melder",
                categories: vec!["melding_vervolg".into()],
                basis: &basis,
            };
            Some(seal_for(hub, me, &a.signer, to, text).await?)
        }
        None => None,
    };
    let r = hub
        .send_feedback(pb::SendFeedbackRequest {
            feedback_id: feedback_id.clone(),
            zorgmelding_id,
            signal,
            outcome: match a.outcome {
                OutcomeArg::Received => pb::FeedbackOutcome::Received,
                OutcomeArg::HandedOver => pb::FeedbackOutcome::HandedOverToWijkteam,
                OutcomeArg::Investigates => pb::FeedbackOutcome::VeiligThuisInvestigates,
                OutcomeArg::Advice => pb::FeedbackOutcome::AdviceGiven,
                OutcomeArg::NoFurtherAction => pb::FeedbackOutcome::NoFurtherAction,
            } as i32,
            basis: Some(basis),
            note,
            acting_role: a.role.clone(),
        })
        .await;
    let r = match r {
        Ok(r) => r,
        Err(e) => return refused(&format!("feedback {feedback_id}"), e, out),
    };
    let f = r
        .feedback
        .ok_or_else(|| CliError::Failed("the hub sent no feedback".into()))?;
    if out.json {
        out.emit(&json!({
            "feedback_id": f.feedback_id,
            "outcome": feedback_outcome_name(f.outcome),
            "duplicate": r.duplicate,
            "decision": r.decision.as_ref().map(output::decision),
        }));
        return Ok(());
    }
    println!(
        "feedback {} to the melder: {}{}",
        f.feedback_id,
        f.outcome_nl,
        if r.duplicate { " (a retry)" } else { "" }
    );
    Ok(())
}

/// Opens every fragment of the zorgmelding `a.id` (or those `--fragment` names) here — the hub
/// cannot — and re-seals each for the wijkteam.
async fn reseal_fragments(
    hub: &mut HubClient,
    a: &HandoverArgs,
    handover_id: &str,
    basis: &pb::Basis,
    secrets: &RecipientSecrets,
    sender: &envelope::SenderKeys,
    keys: &[envelope::RecipientKey],
) -> Result<Vec<pb::Envelope>, CliError> {
    let melding = hub.get_zorgmelding(&a.id).await?;
    if let Some(n) = a
        .fragments
        .iter()
        .find(|n| !melding.fragments.iter().any(|f| f.sequence == **n))
    {
        return Err(CliError::config(format!(
            "--fragment {n}: the zorgmelding has fragments 1 to {}",
            melding.fragments.len()
        )));
    }
    let mut envelopes = Vec::new();
    for f in melding
        .fragments
        .iter()
        .filter(|f| a.fragments.is_empty() || a.fragments.contains(&f.sequence))
    {
        let env = f.envelope.as_ref().ok_or_else(|| {
            CliError::Failed(format!(
                "fragment #{} came without its envelope",
                f.sequence
            ))
        })?;
        let payload = open(hub, secrets, env)
            .await
            .map_err(|why| CliError::Failed(format!("fragment #{}: {why}", f.sequence)))?;
        let binding = signaalhub_client::zorgmelding::handover_binding(
            handover_id,
            f.sequence,
            &a.categories,
            basis,
            now_unix(),
        );
        envelopes.push(envelope::seal(&payload, binding, sender, keys).map_err(CliError::sealing)?);
    }
    Ok(envelopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_what_the_hub_accepts() {
        let id = safe_id("2026/OOST 000123-incident");
        assert_eq!(id, "2026-OOST-000123-incident");
        assert!(safe_id(&"x".repeat(100)).len() == 64);
        assert_eq!(
            kind_name(pb::FragmentKind::ChildrenPresent as i32),
            "children_present"
        );
        assert_eq!(kind_name(99), "kind 99");
        let h = random_hex().unwrap_or_default();
        assert_eq!(h.len(), 16);
    }
}
