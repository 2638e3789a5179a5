//! What ends a command early, how it is shown, and the exit code it gets.
use signaalhub_client::ClientError;
use signaalhub_client::envelope::EnvelopeError;

/// Exit code for a bad command line or local configuration (`EX_USAGE`).
pub const EXIT_CONFIG: u8 = 64;
/// Exit code for a hub error or a failed check.
pub const EXIT_FAILED: u8 = 1;

/// Why a command stopped.
#[derive(Debug)]
pub enum CliError {
    /// A hub call, the connection, or local configuration.
    Client(ClientError),
    /// A check that did not pass (a proof, a received file).
    Failed(String),
    /// The command printed its answer, and the answer is negative: a `check` that came back
    /// DENIED, items that did not open, a hub that is not serving. Exit 1 with this message on
    /// stderr; with `--json` the answer already was the JSON document.
    Answered(String),
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        CliError::Client(e)
    }
}

impl From<tonic::Status> for CliError {
    fn from(s: tonic::Status) -> Self {
        CliError::Client(ClientError::Status(s))
    }
}

impl CliError {
    /// A configuration problem (exit 64).
    pub fn config(msg: impl Into<String>) -> CliError {
        CliError::Client(ClientError::Config(msg.into()))
    }

    /// Sealing failed: a key or the payload is the caller's to fix (64); anything else is 1.
    pub fn sealing(e: EnvelopeError) -> CliError {
        match e {
            EnvelopeError::BadKey(_)
            | EnvelopeError::BadStructure(_)
            | EnvelopeError::PayloadTooLarge(_)
            | EnvelopeError::BadRecipientCount(_) => CliError::config(format!("sealing: {e}")),
            other => CliError::Failed(format!("sealing: {other}")),
        }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Client(ClientError::Config(_)) => EXIT_CONFIG,
            _ => EXIT_FAILED,
        }
    }

    /// The text shown on stderr: for a hub answer the status code and message; a refusal lists
    /// its reasons one per line.
    pub fn describe(&self) -> String {
        match self {
            CliError::Client(ClientError::Status(s)) => describe_status(s),
            CliError::Client(ClientError::Transport(e)) => {
                let mut text = format!("cannot reach the hub: {e}");
                let mut source = std::error::Error::source(e);
                while let Some(s) = source {
                    text.push_str(&format!(": {s}"));
                    source = s.source();
                }
                text
            }
            CliError::Client(e) => e.to_string(),
            CliError::Failed(m) | CliError::Answered(m) => m.clone(),
        }
    }

    /// The JSON document printed on stdout with `--json` when a command stops early (`None` when
    /// the command printed its answer already).
    pub fn json(&self) -> Option<serde_json::Value> {
        let (kind, status, reasons) = match self {
            CliError::Answered(_) => return None,
            CliError::Client(ClientError::Status(s)) => (
                "hub",
                Some(code_name(s.code())),
                refusal(s).map(|(_, r)| r).unwrap_or_default(),
            ),
            CliError::Client(ClientError::Transport(_)) => ("transport", None, Vec::new()),
            CliError::Client(ClientError::Config(_)) => ("config", None, Vec::new()),
            CliError::Failed(_) => ("failed", None, Vec::new()),
        };
        let message = match self {
            CliError::Client(ClientError::Status(s)) => s.message().to_owned(),
            other => other.describe(),
        };
        Some(serde_json::json!({
            "error": {
                "kind": kind,
                "status": status,
                "message": message,
                "reasons": reasons,
                "exit_code": self.exit_code(),
            }
        }))
    }
}

/// `PermissionDenied` -> `PERMISSION_DENIED`, as gRPC documents the codes.
pub fn code_name(code: tonic::Code) -> String {
    let mut out = String::new();
    for (i, ch) in format!("{code:?}").chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_uppercase());
    }
    out
}

/// A convenant refusal split into its headline and its reasons. The hub's message is
/// `[signal to <OIN> refused: ]not allowed: <en> (<CODE>); <en> (<CODE>)...`.
pub fn refusal(s: &tonic::Status) -> Option<(String, Vec<String>)> {
    if s.code() != tonic::Code::PermissionDenied {
        return None;
    }
    let (head, rest) = s.message().split_once("not allowed: ")?;
    let head = head.trim_end_matches([' ', ':']);
    let head = if head.is_empty() {
        "not allowed".to_owned()
    } else {
        format!("{head}, not allowed")
    };
    Some((head, split_reasons(rest)))
}

/// Splits `<en> (<CODE>); <en> (<CODE>)` after each `(<CODE>)`, so a `; ` inside a text stays.
fn split_reasons(text: &str) -> Vec<String> {
    let mut reasons = Vec::new();
    let mut start = 0;
    for (i, _) in text.match_indices("); ") {
        let segment = &text[start..i];
        let is_code = segment.rfind('(').is_some_and(|open| {
            let code = &segment[open + 1..];
            !code.is_empty()
                && code
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        });
        if is_code {
            reasons.push(format!("{segment})"));
            start = i + 3;
        }
    }
    reasons.push(text[start..].to_owned());
    reasons
}

fn describe_status(s: &tonic::Status) -> String {
    match refusal(s) {
        Some((head, reasons)) => {
            let mut text = format!("hub answered {}: {head}:", code_name(s.code()));
            for r in reasons {
                text.push_str(&format!("\n  - {r}"));
            }
            text
        }
        None => format!("hub answered {}: {}", code_name(s.code()), s.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_are_grpc_style() {
        assert_eq!(
            code_name(tonic::Code::PermissionDenied),
            "PERMISSION_DENIED"
        );
        assert_eq!(code_name(tonic::Code::Ok), "OK");
        assert_eq!(code_name(tonic::Code::NotFound), "NOT_FOUND");
    }

    #[test]
    fn refusal_reasons_are_split_per_reason() {
        let s = tonic::Status::permission_denied(
            "not allowed: meldrecht only to VT (MELDRECHT_ONLY_TO_VEILIG_THUIS); no art. 9 ground (ART9_GROUND_MISSING)",
        );
        let reasons = vec![
            "meldrecht only to VT (MELDRECHT_ONLY_TO_VEILIG_THUIS)".to_string(),
            "no art. 9 ground (ART9_GROUND_MISSING)".to_string(),
        ];
        assert_eq!(refusal(&s), Some(("not allowed".into(), reasons.clone())));
        let s = tonic::Status::permission_denied(format!(
            "signal to 00000009905000000000 refused: {}",
            s.message()
        ));
        assert_eq!(
            refusal(&s),
            Some((
                "signal to 00000009905000000000 refused, not allowed".into(),
                reasons
            ))
        );
        assert_eq!(
            refusal(&tonic::Status::permission_denied("suspended")),
            None
        );
        assert_eq!(
            split_reasons("a; b (x); c (ONE); d (TWO)"),
            vec!["a; b (x); c (ONE)".to_string(), "d (TWO)".to_string()]
        );
    }
}
