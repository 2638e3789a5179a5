//! The dev kit: a local CA, one sample organisation per sector with certificate, token key,
//! dev token and envelope keys, a hub configuration and an initialised database, so that a
//! newcomer can run and call the hub in a minute.
//!
//! Everything it makes is marked as dev material: the CA's organisation is [`DEV_MARKER`], and
//! the hub refuses such a CA unless `allow_dev_material = true`. Nothing here is for production.
use crate::domain::directory::{KeyUsage, OrgKey, OrgStatus, Organization};
use crate::hub::DEV_MARKER;
use crate::store::Store;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use ring::signature::KeyPair as _;
use signaalhub_proto::keyfile::{self, Curve};
use std::path::{Path, PathBuf};

/// Object identifier of the X.520 serialNumber attribute that carries the OIN.
pub const OID_SERIAL_NUMBER: [u64; 4] = [2, 5, 4, 5];
/// Object identifier of organizationIdentifier (used by tests to make a second serialNumber).
pub const OID_ORGANIZATION_IDENTIFIER: [u64; 4] = [2, 5, 4, 97];

/// What can go wrong making dev material.
#[derive(Debug, thiserror::Error)]
pub enum DevKitError {
    /// Certificate generation failed.
    #[error("certificate generation: {0}")]
    Cert(#[from] rcgen::Error),
    /// Key generation failed.
    #[error("key generation failed")]
    Key,
    /// Token signing failed.
    #[error("token: {0}")]
    Token(#[from] jsonwebtoken::errors::Error),
    /// File system.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A dev kit file does not hold what it should.
    #[error("{path}: {what}")]
    BadFile {
        /// Which file.
        path: PathBuf,
        /// What it should hold.
        what: &'static str,
    },
    /// The target directory is in use.
    #[error("{0} already holds a dev kit; pass --force to replace it")]
    Exists(PathBuf),
    /// The store refused.
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The generated configuration did not load.
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
}

fn write(path: &Path, data: impl AsRef<[u8]>) -> Result<(), DevKitError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| DevKitError::Io {
            path: parent.into(),
            source,
        })?;
    }
    std::fs::write(path, data).map_err(|source| DevKitError::Io {
        path: path.into(),
        source,
    })?;
    // Keys and tokens are readable by their owner only (the gateway refuses a key file others
    // can read).
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.contains("key") || name.ends_with(".jwt") {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| DevKitError::Io {
                path: path.into(),
                source,
            },
        )?;
    }
    Ok(())
}

/// A local certificate authority.
#[derive(Debug)]
pub struct DevCa {
    /// The CA certificate, PEM.
    pub cert_pem: String,
    /// The CA key, PEM (PKCS#8).
    pub key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// The subject of a certificate the dev CA issues.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// CN.
    pub common_name: String,
    /// serialNumber values (OINs). Normally exactly one; tests use none or two.
    pub serial_numbers: Vec<String>,
}

impl DevCa {
    /// A new CA named `name`, marked as dev material.
    pub fn generate(name: &str) -> Result<DevCa, DevKitError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        dn.push(DnType::OrganizationName, DEV_MARKER);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = rcgen::date_time_ymd(2025, 1, 1);
        params.not_after = rcgen::date_time_ymd(2035, 1, 1);
        let cert = params.self_signed(&key)?;
        let key_pem = key.serialize_pem();
        Ok(DevCa {
            cert_pem: cert.pem(),
            key_pem,
            issuer: Issuer::new(params, key),
        })
    }

    /// Issues a certificate: a client certificate for an organisation (`server_names` empty), or
    /// a server certificate for those DNS names / IP addresses. Returns (cert PEM, key PEM).
    pub fn issue(
        &self,
        subject: &Subject,
        server_names: &[&str],
    ) -> Result<(String, String), DevKitError> {
        self.issue_with_validity(
            subject,
            server_names,
            rcgen::date_time_ymd(2025, 1, 1),
            rcgen::date_time_ymd(2034, 1, 1),
        )
    }

    /// [`DevCa::issue`] with explicit validity (tests use expired certificates).
    pub fn issue_with_validity(
        &self,
        subject: &Subject,
        server_names: &[&str],
        not_before: time::OffsetDateTime,
        not_after: time::OffsetDateTime,
    ) -> Result<(String, String), DevKitError> {
        let key = KeyPair::generate()?;
        let names: Vec<String> = server_names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(names)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, subject.common_name.as_str());
        // rcgen keeps one value per attribute type: a second value goes under
        // organizationIdentifier (2.5.4.97), which tests rewrite into a second serialNumber.
        let oids: [&[u64]; 2] = [&OID_SERIAL_NUMBER, &OID_ORGANIZATION_IDENTIFIER];
        for (value, oid) in subject.serial_numbers.iter().zip(oids) {
            dn.push(
                DnType::CustomDnType(oid.to_vec()),
                DnValue::PrintableString(value.as_str().try_into().map_err(|_| DevKitError::Key)?),
            );
        }
        params.distinguished_name = dn;
        params.is_ca = IsCa::NoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = if server_names.is_empty() {
            vec![ExtendedKeyUsagePurpose::ClientAuth]
        } else {
            vec![ExtendedKeyUsagePurpose::ServerAuth]
        };
        params.not_before = not_before;
        params.not_after = not_after;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

/// A calendar date at midnight UTC (for certificate validity).
pub fn time_ymd(year: i32, month: u8, day: u8) -> time::OffsetDateTime {
    rcgen::date_time_ymd(year, month, day)
}

/// A fresh Ed25519 key pair: (PKCS#8 v1 DER, raw 32-byte public key). Version 1 (RFC 8410's
/// `PrivateKeyInfo`, not *ring*'s version 2 from `generate_pkcs8`) so that `openssl pkey` and
/// Python's `cryptography` load the files the kit writes (`signaalhub_proto::keyfile`).
pub fn ed25519_keypair() -> Result<(Vec<u8>, Vec<u8>), DevKitError> {
    let mut seed = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed)
        .map_err(|_| DevKitError::Key)?;
    let kp = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed)
        .map_err(|_| DevKitError::Key)?;
    Ok((
        keyfile::pkcs8_v1(Curve::Ed25519, &seed),
        kp.public_key().as_ref().to_vec(),
    ))
}

/// The PEM text (`PRIVATE KEY`, PKCS#8 v1) of an X25519 secret, as the kit's
/// `encryption-key.pem` holds it.
pub fn x25519_pem(secret: &[u8; 32]) -> String {
    pem("PRIVATE KEY", &keyfile::pkcs8_v1(Curve::X25519, secret))
}

/// A fresh X25519 key pair for HPKE: (secret 32 bytes, public 32 bytes).
pub fn x25519_keypair() -> Result<([u8; 32], [u8; 32]), DevKitError> {
    let mut secret = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
        .map_err(|_| DevKitError::Key)?;
    let s = x25519_dalek::StaticSecret::from(secret);
    let p = x25519_dalek::PublicKey::from(&s);
    Ok((s.to_bytes(), p.to_bytes()))
}

/// PEM-wraps DER bytes.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Signs a JWT with an Ed25519 PKCS#8 key.
pub fn mint_token(
    pkcs8_der: &[u8],
    kid: &str,
    claims: &serde_json::Value,
) -> Result<String, DevKitError> {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    Ok(jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_ed_der(pkcs8_der),
    )?)
}

/// The usual claims of a dev token.
pub fn dev_claims(org: &DevOrg, audience: &str, lifetime_secs: i64) -> serde_json::Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    serde_json::json!({
        "iss": org.token_issuer,
        "sub": org.professional,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime_secs,
        "org": org.oin,
        "roles": org.roles,
    })
}

/// One sample organisation of the dev kit.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DevOrg {
    /// Sector (also the folder name under `orgs/`).
    pub sector: String,
    /// OIN.
    pub oin: String,
    /// Display name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Expertise tags.
    pub expertise: Vec<String>,
    /// Contact point.
    pub contact_point: String,
    /// How a family reaches the privacy officer (FG), printed in the family's letters (absent
    /// in a kit written before it existed: then not registered).
    #[serde(default)]
    pub privacy_contact: String,
    /// Token issuer.
    pub token_issuer: String,
    /// Token key id.
    pub token_key_id: String,
    /// Encryption key id.
    pub encryption_key_id: String,
    /// Signing key id.
    pub signing_key_id: String,
    /// The dev professional's id (`sub`).
    pub professional: String,
    /// The dev professional's roles.
    pub roles: Vec<String>,
}

/// sector, name, expertise, roles, contact point.
type OrgSpec<'a> = (&'a str, &'a str, &'a [&'a str], &'a [&'a str], &'a str);

/// The sample organisations: one per sector.
pub fn sample_orgs() -> Vec<DevOrg> {
    let spec: [OrgSpec<'_>; 7] = [
        (
            "school",
            "OBS De Regenboog",
            &["onderwijs", "zorgstructuur"],
            &["ib_er"],
            "ib@regenboog.dev.example",
        ),
        (
            "politie",
            "Politie Eenheid Oost-Nederland",
            &["zorgmelding"],
            &["wijkagent"],
            "0900-8844",
        ),
        (
            "huisarts",
            "Huisartsenpraktijk Het Kompas",
            &["huisartsenzorg", "poh-ggz"],
            &["huisarts"],
            "026-0000001",
        ),
        (
            "woningcorporatie",
            "Woonstichting Vallei",
            &["vroegsignalering", "huurachterstand"],
            &["wijkconsulent"],
            "wijkconsulent@vallei.dev.example",
        ),
        (
            "wijkteam",
            "Wijkteam Arnhem-Oost",
            &["opvoedondersteuning", "schuldhulp", "huiselijk geweld"],
            &["wijkcoach"],
            "026-0000002",
        ),
        (
            "veilig_thuis",
            "Veilig Thuis Gelderland-Midden",
            &["advies", "melding", "triage"],
            &["vt_medewerker", "triagist"],
            "0800-2000",
        ),
        (
            "jeugdbescherming",
            "Jeugdbescherming Gelderland",
            &["ots", "voogdij"],
            &["jeugdbeschermer"],
            "026-0000003",
        ),
    ];
    spec.iter()
        .enumerate()
        .map(|(i, (sector, name, expertise, roles, contact))| DevOrg {
            sector: (*sector).into(),
            oin: format!("000000099{:02}000000000", i + 1),
            name: (*name).into(),
            region: "gelderland-midden".into(),
            expertise: expertise.iter().map(|s| (*s).to_string()).collect(),
            contact_point: (*contact).into(),
            privacy_contact: format!("fg@{}.dev.example", sector.replace('_', "-")),
            token_issuer: format!("https://idp.{}.dev.example", sector.replace('_', "-")),
            token_key_id: format!("{sector}-token-1"),
            encryption_key_id: format!("{sector}-enc-1"),
            signing_key_id: format!("{sector}-sig-1"),
            professional: format!("dev-{}", sector.replace('_', "-")),
            roles: roles.iter().map(|s| (*s).to_string()).collect(),
        })
        .collect()
}

/// Token lifetime of dev tokens: 30 days (`quickstart` re-mints them at every start).
pub const DEV_TOKEN_LIFETIME_SECS: i64 = 30 * 24 * 3600;

/// Generates a dev kit into `dir`. With `force`, an existing dev kit there is replaced.
pub async fn init(dir: &Path, force: bool) -> Result<(), DevKitError> {
    if dir.join("hub.toml").exists() {
        if !force {
            return Err(DevKitError::Exists(dir.into()));
        }
        std::fs::remove_dir_all(dir).map_err(|source| DevKitError::Io {
            path: dir.into(),
            source,
        })?;
    }
    let ca = DevCa::generate("signaalhub dev CA")?;
    write(&dir.join("ca.pem"), &ca.cert_pem)?;
    write(&dir.join("ca.key.pem"), &ca.key_pem)?;
    let (hub_cert, hub_key) = ca.issue(
        &Subject {
            common_name: "signaalhub dev hub".into(),
            serial_numbers: vec![],
        },
        &["localhost", "127.0.0.1"],
    )?;
    write(&dir.join("hub/cert.pem"), hub_cert)?;
    write(&dir.join("hub/key.pem"), hub_key)?;
    let mut secret = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
        .map_err(|_| DevKitError::Key)?;
    write(&dir.join("hub/pseudonym.key"), hex::encode(secret))?;
    let (ckpt, _) = ed25519_keypair()?;
    write(
        &dir.join("hub/checkpoint-key.pem"),
        pem("PRIVATE KEY", &ckpt),
    )?;
    write(&dir.join("hub.toml"), HUB_TOML)?;
    write(
        &dir.join("convenant.toml"),
        signaalhub_policy::SAMPLE_CONVENANT,
    )?;
    write(&dir.join("DEV-KIT-README.txt"), README)?;

    let config = crate::config::Config::load(&dir.join("hub.toml"), |_| None)?;
    for org in sample_orgs() {
        let odir = dir.join("orgs").join(&org.sector);
        let (cert, key) = ca.issue(
            &Subject {
                common_name: org.name.clone(),
                serial_numbers: vec![org.oin.clone()],
            },
            &[],
        )?;
        write(&odir.join("cert.pem"), cert)?;
        write(&odir.join("key.pem"), key)?;
        let (token_pk8, _) = ed25519_keypair()?;
        write(&odir.join("token-key.pem"), pem("PRIVATE KEY", &token_pk8))?;
        let (sig_pk8, _) = ed25519_keypair()?;
        write(&odir.join("signing-key.pem"), pem("PRIVATE KEY", &sig_pk8))?;
        let (x_secret, _) = x25519_keypair()?;
        write(&odir.join("encryption-key.pem"), x25519_pem(&x_secret))?;
        write_tokens(&odir, &org, &token_pk8, &config.auth.audience)?;
        let org_toml = toml::to_string_pretty(&org).map_err(|_| DevKitError::Key)?;
        write(&odir.join("org.toml"), org_toml)?;
    }
    register(dir, &config).await.map(|_| ())
}

/// Registers the kit in `dir` in the store `config` names (the caller applies
/// `SIGNAALHUB_DATABASE` and the other overrides): opens it, creating the SQLite data directory
/// if needed, runs [`seed_directory`] and closes it. Returns how many organisations were added.
pub async fn register(dir: &Path, config: &crate::config::Config) -> Result<usize, DevKitError> {
    let target = config.database_target();
    if !crate::store::is_postgres_url(&target) {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| DevKitError::Io {
            path: config.data_dir.clone(),
            source,
        })?;
    }
    if crate::store::is_postgres_url(&target)
        && Store::create_postgres_database_if_missing(&target).await?
    {
        tracing::info!("created the PostgreSQL database the dev kit's configuration names");
    }
    let store = Store::open(&target).await?;
    let seeded = seed_directory(dir, &store).await;
    store.close().await;
    seeded
}

/// Registers the dev kit's sample organisations and their public keys (derived from the kit's
/// private key files) in `store`, skipping every organisation the store already knows, so that
/// one dev kit can be served on a fresh database of either backend (`quickstart` calls this on
/// every start). Returns how many organisations were added.
pub async fn seed_directory(dir: &Path, store: &Store) -> Result<usize, DevKitError> {
    // Read and check every file first, so that a damaged kit adds nothing.
    let mut todo = Vec::new();
    for sample in sample_orgs() {
        let odir = dir.join("orgs").join(&sample.sector);
        let org_file = odir.join("org.toml");
        let bad = |path: &Path, what| DevKitError::BadFile {
            path: path.into(),
            what,
        };
        let org: DevOrg = toml::from_str(&read_text(&org_file)?)
            .map_err(|_| bad(&org_file, "not a dev kit organisation (org.toml)"))?;
        let oin: crate::ids::Oin = org
            .oin
            .parse()
            .map_err(|_| bad(&org_file, "`oin` is not a 20-digit OIN"))?;
        let sector = org
            .sector
            .parse()
            .map_err(|_| bad(&org_file, "`sector` is not a known sector"))?;
        if store.get_organization(&oin).await?.is_some() {
            continue;
        }
        let token_pub = ed25519_public(&odir.join("token-key.pem"))?;
        let sig_pub = ed25519_public(&odir.join("signing-key.pem"))?;
        let x_secret = x25519_secret(&odir)?;
        let x_pub = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(x_secret));
        let organization = Organization {
            oin: oin.clone(),
            name: org.name.clone(),
            sector,
            region: org.region.clone(),
            expertise: org.expertise.clone(),
            contact_point: org.contact_point.clone(),
            privacy_contact: org.privacy_contact.clone(),
            status: OrgStatus::Active,
            token_issuer: org.token_issuer.clone(),
        };
        let keys = [
            (KeyUsage::Token, org.token_key_id.clone(), token_pub),
            (KeyUsage::Signing, org.signing_key_id.clone(), sig_pub),
            (
                KeyUsage::Encryption,
                org.encryption_key_id.clone(),
                x_pub.to_bytes().to_vec(),
            ),
        ]
        .map(|(usage, key_id, public_key)| OrgKey {
            oin: oin.clone(),
            usage,
            key_id,
            public_key,
            created_at: 0,
            retired_at: None,
        });
        todo.push((organization, keys));
    }
    let added = todo.len();
    for (organization, keys) in todo {
        store.add_organization(&organization).await?;
        for key in &keys {
            store.add_key(key).await?;
        }
    }
    Ok(added)
}

fn read_text(path: &Path) -> Result<String, DevKitError> {
    std::fs::read_to_string(path).map_err(|source| DevKitError::Io {
        path: path.into(),
        source,
    })
}

/// The PKCS#8 DER of a PEM private key file.
fn read_pkcs8(path: &Path) -> Result<Vec<u8>, DevKitError> {
    rustls::pki_types::pem::PemObject::from_pem_slice(read_text(path)?.as_bytes())
        .map(|k: rustls::pki_types::PrivatePkcs8KeyDer<'static>| k.secret_pkcs8_der().to_vec())
        .map_err(|_| DevKitError::BadFile {
            path: path.into(),
            what: "not a PEM PKCS#8 private key",
        })
}

/// The X25519 secret of an organisation folder: `encryption-key.pem` (PKCS#8, as kits write it
/// now), else `encryption-key.hex` (64 hex characters, as kits made before wrote it).
fn x25519_secret(odir: &Path) -> Result<[u8; 32], DevKitError> {
    let pem_file = odir.join("encryption-key.pem");
    if pem_file.exists() {
        return keyfile::secret_from_pkcs8(Curve::X25519, &read_pkcs8(&pem_file)?).map_err(|_| {
            DevKitError::BadFile {
                path: pem_file,
                what: "not an X25519 private key",
            }
        });
    }
    let hex_file = odir.join("encryption-key.hex");
    hex::decode(read_text(&hex_file)?.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(DevKitError::BadFile {
            path: hex_file,
            what: "not a hex X25519 secret key of 32 bytes",
        })
}

/// The raw public key of a PEM Ed25519 private key file.
fn ed25519_public(path: &Path) -> Result<Vec<u8>, DevKitError> {
    let kp = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&read_pkcs8(path)?)
        .map_err(|_| DevKitError::BadFile {
            path: path.into(),
            what: "not an Ed25519 private key",
        })?;
    Ok(ring::signature::KeyPair::public_key(&kp).as_ref().to_vec())
}

/// Writes a sample organisation's dev tokens: `token.jwt` for its professional and
/// `fg-token.jwt` for its privacy officer (role `fg`) and `admin-token.jwt` for its key
/// administrator (role `key_admin`), valid 30 days.
fn write_tokens(
    odir: &Path,
    org: &DevOrg,
    pkcs8: &[u8],
    audience: &str,
) -> Result<(), DevKitError> {
    let token = mint_token(
        pkcs8,
        &org.token_key_id,
        &dev_claims(org, audience, DEV_TOKEN_LIFETIME_SECS),
    )?;
    write(&odir.join("token.jwt"), token)?;
    let mut fg = dev_claims(org, audience, DEV_TOKEN_LIFETIME_SECS);
    fg["sub"] = format!("dev-fg-{}", org.sector.replace('_', "-")).into();
    fg["roles"] = serde_json::json!(["fg"]);
    write(
        &odir.join("fg-token.jwt"),
        mint_token(pkcs8, &org.token_key_id, &fg)?,
    )?;
    let mut admin = dev_claims(org, audience, DEV_TOKEN_LIFETIME_SECS);
    admin["sub"] = format!("dev-admin-{}", org.sector.replace('_', "-")).into();
    admin["roles"] = serde_json::json!(["key_admin"]);
    write(
        &odir.join("admin-token.jwt"),
        mint_token(pkcs8, &org.token_key_id, &admin)?,
    )
}

/// Re-mints every sample organisation's `token.jwt` (valid 30 days) from its token key.
pub fn refresh_tokens(dir: &Path, audience: &str) -> Result<(), DevKitError> {
    for org in sample_orgs() {
        let odir = dir.join("orgs").join(&org.sector);
        let org: DevOrg =
            toml::from_str(&read_text(&odir.join("org.toml"))?).map_err(|_| DevKitError::Key)?;
        write_tokens(
            &odir,
            &org,
            &read_pkcs8(&odir.join("token-key.pem"))?,
            audience,
        )?;
    }
    Ok(())
}

const HUB_TOML: &str = r#"# signaalhub configuration generated by `signaalhub dev init`.
# DEV MATERIAL: the CA and keys next to this file are for trying the hub out, never for production.
listen = "127.0.0.1:50051"
data_dir = "data"
# database = "postgres://postgres@127.0.0.1:5432/signaalhub"   # default: SQLite under data_dir
# (or SIGNAALHUB_DATABASE=postgres://... signaalhub quickstart: the kit's organisations are
# registered in that database on its first start)
log_format = "text"
allow_dev_material = true
# The regional convenant (here: the sample shipped with signaalhub). Check it with
# `signaalhub convenant check convenant.toml`.
convenant = "convenant.toml"

[tls]
cert = "hub/cert.pem"
key = "hub/key.pem"
client_ca = ["ca.pem"]

[auth]
audience = "signaalhub"
leeway_secs = 30

[pseudonym]
key_file = "hub/pseudonym.key"

[directory]
refresh_ms = 1000

[log]
origin = "signaalhub.dev/verstrekkingenlog"
checkpoint_key_file = "hub/checkpoint-key.pem"
checkpoint_key_id = "dev-hub-1"
integrate_ms = 500
"#;

const README: &str = "signaalhub DEV KIT - NOT FOR PRODUCTION\n\n\
This folder was generated by `signaalhub dev init`. It holds a local CA (ca.pem, ca.key.pem),\n\
the hub's certificate and pseudonym secret (hub/), a hub configuration (hub.toml), the sample\n\
convenant (convenant.toml) and one sample\n\
organisation per sector (orgs/<sector>/: cert.pem + key.pem for mutual TLS, token-key.pem and\n\
token.jwt for the professional's bearer token, signing-key.pem and encryption-key.pem for\n\
envelopes). Every private key is a PKCS#8 v1 PEM (`PRIVATE KEY`): `openssl pkey -in FILE` and\n\
Python's cryptography.hazmat.primitives.serialization.load_pem_private_key read it.\n\
Never use any of it outside a development machine.\n";
