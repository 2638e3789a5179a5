//! `send`, `inbox` and `signal status|withdraw`: sealed signals end to end.
use super::cursor::{CursorFile, HubLog};
use super::disclosure::{DisclosureArgs, print_obligations};
use super::error::{CliError, refusal};
use super::files::{create_private_dir, write_private};
use super::format::{state_name, ts, urgency_name, when};
use super::keys::{Identity, OpenerArgs, SignerArgs};
use super::output::{self, Out};
use serde_json::json;
use signaalhub_client::envelope;
use signaalhub_client::sealed;
use signaalhub_client::{ClientError, HubClient};
use signaalhub_proto::pb;
use std::path::PathBuf;
use std::time::Duration;

/// How long `inbox --once` waits for the next item before it stops.
const ONCE_IDLE: Duration = Duration::from_secs(2);

/// How fast the recipient should look at it.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum UrgencyArg {
    /// Normal.
    Normal,
    /// High.
    High,
    /// Acute danger: act at once.
    Acute,
}

impl From<UrgencyArg> for pb::Urgency {
    fn from(u: UrgencyArg) -> pb::Urgency {
        match u {
            UrgencyArg::Normal => pb::Urgency::Normal,
            UrgencyArg::High => pb::Urgency::High,
            UrgencyArg::Acute => pb::Urgency::Acute,
        }
    }
}

/// `signaal send`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("payload").required(true).args(["file", "text"])))]
pub struct SendArgs {
    #[command(flatten)]
    d: DisclosureArgs,
    /// How fast the recipient should look at it.
    #[arg(long, value_enum, default_value = "normal")]
    urgency: UrgencyArg,
    /// The signal id (1-64 of A-Za-z0-9._-); default `sig-` and 16 random hex characters.
    #[arg(long)]
    id: Option<String>,
    /// File with the payload (`-`: standard input).
    #[arg(long)]
    file: Option<PathBuf>,
    /// The payload as text.
    #[arg(long)]
    text: Option<String>,
    #[command(flatten)]
    signer: SignerArgs,
}

/// `signaal inbox`.
#[derive(clap::Args, Debug)]
pub struct InboxArgs {
    /// Resume after this cursor (default: the one saved in DIR/.cursor, else from the start).
    #[arg(long)]
    after: Option<u64>,
    /// Folder for the payloads (`<sender_oin>-<signal_id>.bin`) and the saved cursor.
    #[arg(long, default_value = "inbox")]
    out: PathBuf,
    /// Stop when nothing arrives for 2 seconds (scripts, tests).
    #[arg(long)]
    once: bool,
    /// Do not acknowledge (the items come again next time).
    #[arg(long)]
    no_ack: bool,
    #[command(flatten)]
    opener: OpenerArgs,
}

fn read_payload(a: &SendArgs) -> Result<Vec<u8>, CliError> {
    match (&a.file, &a.text) {
        (Some(p), _) if p.as_os_str() == "-" => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                .map_err(|e| CliError::config(format!("standard input: {e}")))?;
            Ok(buf)
        }
        (Some(p), _) => {
            std::fs::read(p).map_err(|e| CliError::config(format!("--file {}: {e}", p.display())))
        }
        (None, Some(t)) => Ok(t.as_bytes().to_vec()),
        (None, None) => Err(CliError::config("--file or --text is required")),
    }
}

/// The current (not retired) X25519 keys an organisation publishes.
pub(crate) async fn current_encryption_keys(
    hub: &mut HubClient,
    oin: &str,
) -> Result<Vec<envelope::RecipientKey>, CliError> {
    sealed::current_encryption_keys(hub, oin)
        .await
        .map_err(|e| match e {
            ClientError::Config(m) => CliError::Failed(m),
            e => e.into(),
        })
}

/// Seals the payload to every recipient and sends the signal.
pub async fn send(
    hub: &mut HubClient,
    me: &Identity,
    a: SendArgs,
    out: Out,
) -> Result<(), CliError> {
    let signal_id = match a.id.clone() {
        Some(id) if sealed::valid_signal_id(&id) => id,
        Some(id) => {
            return Err(CliError::config(format!(
                "--id {id:?}: 1-64 of A-Za-z0-9._-, without 9 or more digits in a row"
            )));
        }
        None => sealed::new_signal_id()?,
    };
    let payload = read_payload(&a)?;
    let basis = a.d.basis()?;
    let my_oin = me.oin(hub).await?;
    let sender = me.sender_keys(&my_oin, &a.signer)?;
    let recipients = a.d.recipients(hub).await?;
    // Fail on a recipient without keys before anything is sent (as a sentence, not a status).
    for oin in &recipients {
        current_encryption_keys(hub, oin).await?;
    }
    let outgoing = sealed::Outgoing {
        signal_id: signal_id.clone(),
        recipient_oins: recipients.clone(),
        subject_bsn: a.d.bsn.clone(),
        subject: a.d.subject(),
        purpose: a.d.purpose.clone(),
        categories: a.d.categories.clone(),
        urgency: pb::Urgency::from(a.urgency),
        basis,
        acting_role: a.d.role.clone(),
    };
    let sent = match sealed::send_sealed(hub, &sender, outgoing, &payload).await {
        Ok(r) => r,
        Err(ClientError::Status(s)) => {
            // The reasons follow on stderr (see `CliError::describe`).
            if refusal(&s).is_some() && out.human() {
                println!("signal {signal_id} NOT sent: the hub refused it");
            }
            return Err(ClientError::Status(s).into());
        }
        Err(e) => return Err(e.into()),
    };
    if out.json {
        out.emit(&json!({
            "signal_id": sent.signal_id,
            "duplicate": sent.duplicate,
            "bytes": payload.len(),
            "deliveries": sent.deliveries.iter().map(output::delivery).collect::<Vec<_>>(),
            "decisions": sent.decisions.iter().map(output::decision).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    println!(
        "signal {} sent ({} bytes sealed){}",
        sent.signal_id,
        payload.len(),
        if sent.duplicate {
            " — a retry: the hub answered as the first time"
        } else {
            ""
        }
    );
    for (i, d) in sent.deliveries.iter().enumerate() {
        print_delivery(d);
        // One decision per recipient (one subject per `send`), in the order of the recipients.
        if let Some(decision) = sent.decisions.get(i) {
            print_obligations(decision, "      ");
        }
    }
    Ok(())
}

fn print_delivery(d: &pb::Delivery) {
    println!(
        "  -> {}  {}  (since {})",
        d.recipient_oin,
        state_name(d.state),
        when(d.updated_at.as_ref())
    );
    for r in &d.reasons {
        println!("       {}: {}\n         {}", r.code, r.text_nl, r.text_en);
    }
}

/// Streams the inbox, opening, saving and acknowledging each item.
pub async fn inbox(
    hub: &mut HubClient,
    me: &Identity,
    a: InboxArgs,
    out: Out,
) -> Result<(), CliError> {
    let my_oin = me.oin(hub).await?;
    let secrets = me.recipient_secrets(&my_oin, &a.opener)?;
    create_private_dir(&a.out)
        .map_err(|e| CliError::config(format!("--out {}: {e}", a.out.display())))?;
    let mut cursors = CursorFile::load(a.out.join(".cursor"))?;
    let now = HubLog::current(hub).await?;
    let reset = cursors.bind(hub, now).await?;
    if let Some(notice) = &reset {
        eprintln!("signaal: {notice}");
    }
    let after = a.after.unwrap_or_else(|| cursors.get(&my_oin).unwrap_or(0));
    let mut stream = hub.stream_inbox(after).await?;
    let mut keys = sealed::SenderKeyCache::default();
    let (mut opened, mut failed) = (0usize, 0usize);
    let mut items = Vec::new();
    // With --json and without --once, one document per item as it comes.
    let lines = out.json && !a.once;
    // After an item that did not open, the saved cursor stays before it, so the next run
    // streams it again (acknowledged items are not streamed twice).
    let mut hold_cursor = false;
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
        let urgency = urgency_name(item.urgency);
        let line = format!(
            "cursor {}  from {}  {}  {}  [{}]  {}",
            item.cursor,
            item.sender_oin,
            item.signal_id,
            item.purpose,
            item.categories.join(", "),
            urgency
        );
        let mut j = json!({
            "cursor": item.cursor,
            "sender_oin": item.sender_oin,
            "signal_id": item.signal_id,
            "purpose": item.purpose,
            "categories": item.categories,
            "urgency": urgency,
            "sent_at": ts(item.sent_at.as_ref()),
            "basis": item.basis,
            "retain_until": ts(item.retain_until.as_ref()),
        });
        match sealed::open_item(hub, &mut keys, &secrets, &item).await {
            Ok(payload) => {
                let file = a
                    .out
                    .join(format!("{}-{}.bin", item.sender_oin, item.signal_id));
                write_private(&file, &payload)?;
                if out.human() {
                    println!("{line}  {} bytes -> {}", payload.len(), file.display());
                    if !item.basis.is_empty() {
                        println!(
                            "    basis {}  keep until {}",
                            item.basis.join(" "),
                            when(item.retain_until.as_ref())
                        );
                    }
                }
                opened += 1;
                if !a.no_ack {
                    hub.ack_signal(&item.sender_oin, &item.signal_id).await?;
                    if !hold_cursor {
                        cursors.save(hub, &my_oin, item.cursor).await?;
                        saved = Some(item.cursor);
                    }
                }
                j["opened"] = json!(true);
                j["acknowledged"] = json!(!a.no_ack);
                j["bytes"] = json!(payload.len());
                j["file"] = json!(file.display().to_string());
            }
            Err(why) => {
                if out.human() {
                    println!("{line}  NOT OPENED (not acknowledged): {why}");
                }
                failed += 1;
                hold_cursor = true;
                j["opened"] = json!(false);
                j["acknowledged"] = json!(false);
                j["error"] = json!(why);
            }
        }
        if lines {
            out.emit(&j);
        } else {
            items.push(j);
        }
    }
    cursors.finish(hub).await?;
    if out.human() {
        println!(
            "{opened} opened{}, {failed} not opened",
            if a.no_ack { "" } else { " and acknowledged" }
        );
    }
    let mut summary = json!({
        "opened": opened,
        "not_opened": failed,
        "acknowledged": !a.no_ack,
        "after": after,
        "saved_cursor": saved,
        "cursor_reset": reset,
    });
    if !lines {
        summary["items"] = json!(items);
    }
    out.emit(&summary);
    if failed > 0 {
        return Err(CliError::Answered(format!(
            "{failed} signal(s) did not open; they were not acknowledged and come again next time"
        )));
    }
    Ok(())
}

/// A signal's state per recipient (the sender sees every recipient; a recipient its own).
pub async fn status(
    hub: &mut HubClient,
    me: &Identity,
    id: &str,
    sender: Option<String>,
    out: Out,
) -> Result<(), CliError> {
    let sender = match sender {
        Some(s) => s,
        None => me.oin(hub).await?,
    };
    let r = hub.get_signal(&sender, id).await?;
    if out.json {
        out.emit(&json!({
            "signal_id": r.signal_id,
            "sender_oin": r.sender_oin,
            "purpose": r.purpose,
            "categories": r.categories,
            "sent_at": ts(r.sent_at.as_ref()),
            "deliveries": r.deliveries.iter().map(output::delivery).collect::<Vec<_>>(),
            "envelope_bytes": r.envelope.as_ref().map(|e| e.ciphertext.len()),
        }));
        return Ok(());
    }
    println!(
        "signal {} from {}  purpose {}  [{}]  sent {}",
        r.signal_id,
        r.sender_oin,
        r.purpose,
        r.categories.join(", "),
        when(r.sent_at.as_ref())
    );
    for d in &r.deliveries {
        print_delivery(d);
    }
    if let Some(env) = &r.envelope {
        println!(
            "  envelope: {} bytes sealed (open it with `signaal inbox`)",
            env.ciphertext.len()
        );
    }
    Ok(())
}

/// Recalls a signal from every recipient it did not reach yet.
pub async fn withdraw(hub: &mut HubClient, id: &str, out: Out) -> Result<(), CliError> {
    let r = hub.withdraw_signal(id).await?;
    if out.json {
        out.emit(&json!({
            "signal_id": id,
            "deliveries": r.deliveries.iter().map(output::delivery).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    println!("signal {id} withdrawn where not yet delivered:");
    for d in &r.deliveries {
        print_delivery(d);
    }
    Ok(())
}
