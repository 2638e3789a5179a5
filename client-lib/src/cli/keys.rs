//! Who "I" am and which keys I seal and open with: from the dev kit (`--kit/--as`), or from
//! explicit flags for a real deployment.
use super::error::CliError;
use signaalhub_client::HubClient;
use signaalhub_client::envelope::{RecipientSecrets, SenderKeys};
use std::path::{Path, PathBuf};

/// The part of a dev kit's `orgs/<sector>/org.toml` the CLI uses.
#[derive(Debug, serde::Deserialize)]
struct KitOrg {
    oin: String,
    signing_key_id: String,
    encryption_key_id: String,
}

/// The signing key to seal with, when not taken from the dev kit.
#[derive(clap::Args, Debug)]
pub struct SignerArgs {
    /// Ed25519 signing key (PKCS#8 PEM), without --kit.
    #[arg(long)]
    signing_key: Option<PathBuf>,
    /// Key id under which the directory publishes that signing key, without --kit.
    #[arg(long)]
    signing_key_id: Option<String>,
}

/// The X25519 secret to open envelopes with, when not taken from the dev kit.
#[derive(clap::Args, Debug)]
pub struct OpenerArgs {
    /// File with the X25519 secret: a PKCS#8 PEM (`openssl genpkey -algorithm x25519`) or 64 hex
    /// characters, without --kit.
    #[arg(long)]
    encryption_key: Option<PathBuf>,
    /// Key id under which the directory publishes its public key, without --kit.
    #[arg(long)]
    encryption_key_id: Option<String>,
}

/// The acting organisation as far as the CLI knows it locally.
#[derive(Debug)]
pub struct Identity {
    /// `DIR/orgs/<sector>` and its `org.toml`, with --kit.
    kit: Option<(PathBuf, KitOrg)>,
    /// `--oin`.
    oin: Option<String>,
}

fn read_text(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::config(format!("{}: {e}", path.display())))
}

impl Identity {
    /// Reads `org.toml` when a kit is given.
    pub fn new(
        kit: Option<&Path>,
        sector: Option<&str>,
        oin: Option<String>,
    ) -> Result<Identity, CliError> {
        let kit = match (kit, sector) {
            (Some(dir), Some(sector)) => {
                let odir = dir.join("orgs").join(sector);
                let file = odir.join("org.toml");
                let org: KitOrg = toml::from_str(&read_text(&file)?)
                    .map_err(|e| CliError::config(format!("{}: {e}", file.display())))?;
                Some((odir, org))
            }
            _ => None,
        };
        Ok(Identity { kit, oin })
    }

    /// My OIN: `--oin`, else the kit's, else as the hub sees my certificate.
    pub async fn oin(&self, hub: &mut HubClient) -> Result<String, CliError> {
        if let Some(o) = &self.oin {
            return Ok(o.clone());
        }
        if let Some((_, org)) = &self.kit {
            return Ok(org.oin.clone());
        }
        hub.who_am_i()
            .await?
            .organization
            .map(|o| o.oin)
            .ok_or_else(|| CliError::config("the hub did not say which organisation I am"))
    }

    /// The key I sign envelopes with: the flags, else the kit's `signing-key.pem`.
    pub fn sender_keys(&self, oin: &str, a: &SignerArgs) -> Result<SenderKeys, CliError> {
        let (file, kid) = match (&a.signing_key, &a.signing_key_id, &self.kit) {
            (Some(f), Some(k), _) => (f.clone(), k.clone()),
            (None, None, Some((odir, org))) => {
                (odir.join("signing-key.pem"), org.signing_key_id.clone())
            }
            (None, None, None) => {
                return Err(CliError::config(
                    "sending needs a signing key: --kit/--as, or --signing-key PEM --signing-key-id KID",
                ));
            }
            _ => {
                return Err(CliError::config(
                    "--signing-key and --signing-key-id go together",
                ));
            }
        };
        SenderKeys::from_pem(oin, kid, &read_text(&file)?)
            .map_err(|e| CliError::config(format!("{}: {e}", file.display())))
    }

    /// The secret I open envelopes with: the flags, else the kit's `encryption-key.pem` (or the
    /// `encryption-key.hex` of a kit made before the kit wrote PKCS#8).
    pub fn recipient_secrets(
        &self,
        oin: &str,
        a: &OpenerArgs,
    ) -> Result<RecipientSecrets, CliError> {
        let (file, kid) = match (&a.encryption_key, &a.encryption_key_id, &self.kit) {
            (Some(f), Some(k), _) => (f.clone(), k.clone()),
            (None, None, Some((odir, org))) => {
                let pem = odir.join("encryption-key.pem");
                let file = if pem.exists() {
                    pem
                } else {
                    odir.join("encryption-key.hex")
                };
                (file, org.encryption_key_id.clone())
            }
            (None, None, None) => {
                return Err(CliError::config(
                    "opening needs the encryption key: --kit/--as, or --encryption-key FILE --encryption-key-id KID",
                ));
            }
            _ => {
                return Err(CliError::config(
                    "--encryption-key and --encryption-key-id go together",
                ));
            }
        };
        RecipientSecrets::from_key_file_text(oin, kid, &read_text(&file)?)
            .map_err(|e| CliError::config(format!("{}: {e}", file.display())))
    }
}
