//! `log checkpoint|report|verify-proof`: the disclosure log and the subject access report.
use super::error::CliError;
use super::format::rfc3339;
use super::output::Out;
use prost::Message;
use serde_json::json;
use signaalhub_client::{HubClient, verify_report};
use signaalhub_proto::pb;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The newest signed checkpoint.
pub async fn checkpoint(hub: &mut HubClient, out: Out) -> Result<(), CliError> {
    let cp = hub.checkpoint().await?;
    if out.json {
        let parsed = signaalhub_proto::checkpoint::SignedCheckpoint::parse(cp.note.as_bytes()).ok();
        out.emit(&json!({
            "origin": parsed.as_ref().map(|p| p.checkpoint.origin.clone()),
            "tree_size": cp.tree_size,
            "root": hex::encode(&cp.root),
            "signed_at": parsed.as_ref().map(|p| rfc3339(p.checkpoint.timestamp_unix)),
            "key_id": cp.key_id,
            "public_key": hex::encode(&cp.public_key),
            "note": cp.note,
        }));
        return Ok(());
    }
    print!("{}", cp.note);
    if !cp.note.ends_with('\n') {
        println!();
    }
    println!("tree size {}", cp.tree_size);
    println!(
        "signed by hub key {} (Ed25519 {})",
        cp.key_id,
        hex::encode(&cp.public_key)
    );
    Ok(())
}

/// Writes a report file, the owner's only: the report is about a child.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, CliError> {
    let path = dir.join(name);
    super::files::write_private(&path, bytes)?;
    Ok(path)
}

/// Verifies every proof of the report against the checkpoint key; returns the number of
/// entries and the checkpoint's tree size.
fn verified(
    report: &pb::SubjectAccessReportResponse,
    kid: &str,
    key: [u8; 32],
) -> Result<(usize, u64), CliError> {
    let trusted = HashMap::from([(kid.to_owned(), key)]);
    let n = verify_report(report, &trusted)
        .map_err(|e| CliError::Failed(format!("the report does NOT verify: {e}")))?;
    let size = report.checkpoint.as_ref().map(|c| c.tree_size).unwrap_or(0);
    Ok((n, size))
}

fn verified_line((n, size): (usize, u64)) -> String {
    format!("{n} entries verified against checkpoint of size {size}")
}

/// Whose part of the log a report covers.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Every organisation's (a reader the hub's operator granted).
    pub hub_wide: bool,
    /// The request answered (with `hub_wide`).
    pub reference: String,
}

/// How the family's letter of a report is written.
#[derive(Debug, Clone, Default)]
pub struct LetterOut {
    /// Its language ("nl", "en"; the hub refuses others).
    pub language: String,
    /// Also as PDF, to this file.
    pub pdf: Option<PathBuf>,
}

/// The subject access report (FG): saves JSON, the family's letter (HTML, and PDF when asked)
/// and the encoded report, and verifies every proof against the hub's checkpoint key. Says on
/// stderr when the hub knows no contact for the organisation's privacy officer (the letter then
/// tells the family to ask the organisation).
pub async fn report(
    hub: &mut HubClient,
    bsn: &str,
    reach: Reach,
    letter: LetterOut,
    dir: &Path,
    out: Out,
) -> Result<(), CliError> {
    let report = hub
        .access_report(pb::SubjectAccessReportRequest {
            subject_bsn: bsn.into(),
            hub_wide: reach.hub_wide,
            request_reference: reach.reference,
            language: letter.language,
            ..Default::default()
        })
        .await?;
    let cp = hub.checkpoint().await?;
    let key: [u8; 32] = cp
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| CliError::Failed("the hub's checkpoint key is not 32 bytes".into()))?;
    super::files::create_private_dir(dir)
        .map_err(|e| CliError::config(format!("--out {}: {e}", dir.display())))?;
    let mut files = vec![
        write(dir, "report.json", report.json.as_bytes())?,
        write(dir, "letter.html", report.html_letter.as_bytes())?,
        write(dir, "report.pb", &report.encode_to_vec())?,
    ];
    let structured = report
        .letter
        .as_ref()
        .ok_or_else(|| CliError::Failed("the hub sent no letter with the report".into()))?;
    if let Some(path) = &letter.pdf {
        super::files::write_private(path, &signaalhub_client::letter_pdf::letter_pdf(structured))?;
        files.push(path.clone());
    }
    if structured.privacy_contact.is_empty() {
        eprintln!(
            "note: the hub has no contact for {}'s privacy officer (FG): the letter asks the family \
             to ask the organisation instead; the hub's operator registers it with \
             `signaalhub org set-privacy-contact`",
            structured.sender
        );
    }
    if out.human() {
        for path in &files {
            println!("wrote {}", path.display());
        }
    }
    let checked = verified(&report, &cp.key_id, key)?;
    if out.json {
        out.emit(&json!({
            "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "entries_verified": checked.0,
            "tree_size": checked.1,
            "key_id": cp.key_id,
            "public_key": hex::encode(key),
        }));
        return Ok(());
    }
    println!("{}", verified_line(checked));
    println!("checkpoint key {} {}", cp.key_id, hex::encode(key));
    println!(
        "re-check later, offline: signaal log verify-proof --report {} --key-id {} --public-key {}",
        dir.join("report.pb").display(),
        cp.key_id,
        hex::encode(key)
    );
    Ok(())
}

/// The entries one professional of the own organisation acted in (FG; NEN 7513).
pub async fn acts(
    hub: &mut HubClient,
    professional: &str,
    after: Option<u64>,
    limit: u32,
    out: Out,
) -> Result<(), CliError> {
    let entries = hub
        .list_professional_acts(professional, after, limit)
        .await?;
    if out.json {
        out.emit(&json!({
            "professional": professional,
            "entries": entries.iter().map(|e| json!({
                "index": e.index,
                "at": e.at.as_ref().map(|t| rfc3339(t.seconds)),
                "event": e.event,
                "role": e.actor_role,
                "recipient_oin": e.recipient_oin,
                "purpose": e.purpose,
                "basis": e.basis,
                "outcome": e.outcome,
                "reference": e.reference,
            })).collect::<Vec<_>>(),
            "next_after": entries.last().map(|e| e.index),
        }));
        return Ok(());
    }
    if entries.is_empty() {
        match after {
            Some(a) => println!("no entries of {professional} after index {a}"),
            None => println!("no entries of {professional}"),
        }
        return Ok(());
    }
    for e in &entries {
        println!(
            "{:>8}  {}  {:<28} {:<16} {}{}",
            e.index,
            e.at.as_ref()
                .map(|t| rfc3339(t.seconds))
                .unwrap_or_default(),
            e.event,
            e.actor_role,
            e.outcome,
            if e.recipient_oin.is_empty() {
                String::new()
            } else {
                format!(" -> {}", e.recipient_oin)
            }
        );
    }
    if entries.len() as u32 == limit
        && let Some(last) = entries.last()
    {
        println!("more may follow: --after {}", last.index);
    }
    Ok(())
}

/// Re-verifies a saved report offline with a trusted checkpoint key.
pub fn verify_proof(
    report: &Path,
    key_id: &str,
    public_key: &str,
    out: Out,
) -> Result<(), CliError> {
    let key: [u8; 32] = hex::decode(public_key.trim())
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| CliError::config("--public-key: 64 hex characters (Ed25519)"))?;
    let bytes = std::fs::read(report)
        .map_err(|e| CliError::config(format!("--report {}: {e}", report.display())))?;
    let decoded = pb::SubjectAccessReportResponse::decode(bytes.as_slice()).map_err(|e| {
        CliError::Failed(format!(
            "{}: not an encoded subject access report: {e}",
            report.display()
        ))
    })?;
    let checked = verified(&decoded, key_id, key)?;
    if out.human() {
        println!("{}", verified_line(checked));
    }
    out.emit(&json!({
        "entries_verified": checked.0,
        "tree_size": checked.1,
        "key_id": key_id,
    }));
    Ok(())
}
