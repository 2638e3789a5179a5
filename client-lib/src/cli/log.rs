//! `log checkpoint|report|verify-proof`: the disclosure log and the subject access report.
use super::error::CliError;
use prost::Message;
use signaalhub_client::{HubClient, verify_report};
use signaalhub_proto::pb;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The newest signed checkpoint.
pub async fn checkpoint(hub: &mut HubClient) -> Result<(), CliError> {
    let cp = hub.checkpoint().await?;
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

fn verified(
    report: &pb::SubjectAccessReportResponse,
    kid: &str,
    key: [u8; 32],
) -> Result<String, CliError> {
    let trusted = HashMap::from([(kid.to_owned(), key)]);
    let n = verify_report(report, &trusted)
        .map_err(|e| CliError::Failed(format!("the report does NOT verify: {e}")))?;
    let size = report.checkpoint.as_ref().map(|c| c.tree_size).unwrap_or(0);
    Ok(format!(
        "{n} entries verified against checkpoint of size {size}"
    ))
}

/// The subject access report (FG): saves JSON, the Dutch letter and the encoded report, and
/// verifies every proof against the hub's checkpoint key.
pub async fn report(hub: &mut HubClient, bsn: &str, out: &Path) -> Result<(), CliError> {
    let report = hub.subject_access_report(bsn).await?;
    let cp = hub.checkpoint().await?;
    let key: [u8; 32] = cp
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| CliError::Failed("the hub's checkpoint key is not 32 bytes".into()))?;
    super::files::create_private_dir(out)
        .map_err(|e| CliError::config(format!("--out {}: {e}", out.display())))?;
    for path in [
        write(out, "report.json", report.json.as_bytes())?,
        write(out, "letter.html", report.html_letter.as_bytes())?,
        write(out, "report.pb", &report.encode_to_vec())?,
    ] {
        println!("wrote {}", path.display());
    }
    println!("{}", verified(&report, &cp.key_id, key)?);
    println!("checkpoint key {} {}", cp.key_id, hex::encode(key));
    println!(
        "re-check later, offline: signaal log verify-proof --report {} --key-id {} --public-key {}",
        out.join("report.pb").display(),
        cp.key_id,
        hex::encode(key)
    );
    Ok(())
}

/// Re-verifies a saved report offline with a trusted checkpoint key.
pub fn verify_proof(report: &Path, key_id: &str, public_key: &str) -> Result<(), CliError> {
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
    println!("{}", verified(&decoded, key_id, key)?);
    Ok(())
}
