//! The gateway's configuration: a TOML file (`signaal-gateway serve --config gateway.toml`) with
//! environment overrides, or derived from a dev kit's sample organisation
//! (`signaal-gateway dev --kit dev-kit --as school`).
//!
//! Every key is documented in docs/GATEWAY.md.
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// What went wrong reading the configuration. Names the key or file, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML does not parse or a key has the wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A key's value is not allowed.
    #[error("{key}: {message}")]
    Invalid {
        /// The key, e.g. `listen`.
        key: String,
        /// Why.
        message: String,
    },
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// Where the console and the local API listen. Default `127.0.0.1:8080`; never all
    /// interfaces unless written here.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The address professionals' browsers use, e.g. `https://signaal.school.example` (the OIDC
    /// redirect and the CSRF origin check are derived from it). Default `http://<listen>`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Serve HTTPS with this certificate and key (PEM); session cookies are then `Secure`.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
    /// The hub.
    pub hub: HubSection,
    /// The organisation this gateway acts for, and its keys.
    pub organisation: OrgSection,
    /// How the gateway mints hub tokens for its professionals.
    pub tokens: TokenSection,
    /// The gateway's own store.
    #[serde(default)]
    pub store: StoreSection,
    /// The region's convenant (TOML), for the choices on the forms; the hub decides.
    pub convenant: PathBuf,
    /// How professionals log in.
    #[serde(default)]
    pub login: LoginSection,
    /// Sessions.
    #[serde(default)]
    pub session: SessionSection,
    /// The inbox fetcher.
    #[serde(default)]
    pub inbox: InboxSection,
    /// The local API for the organisation's own systems (`/api/v1/`); off when absent.
    #[serde(default)]
    pub api: Option<ApiSection>,
}

/// The local API: JSON over HTTP for the organisation's own systems, authenticated with access
/// tokens (JWTs) its identity provider issues with the client-credentials grant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    /// The `aud` an access token must carry (the resource/API identifier registered at the
    /// identity provider for this gateway), e.g. `https://signaal.school.example/api`.
    pub audience: String,
    /// The `iss` an access token must carry and whose discovery document names the signing keys
    /// (JWKS). Default: `login.oidc.issuer`.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The claim that names the calling system. Default `client_id` (RFC 9068); `azp` or `sub`
    /// for providers that put it there.
    #[serde(default = "default_client_claim")]
    pub client_claim: String,
    /// The claim whose values map to convenant roles: `scope` (default; space-separated) or a
    /// roles claim (a list; dotted paths walk nested objects).
    #[serde(default = "default_api_roles_claim")]
    pub roles_claim: String,
    /// Value of `roles_claim` -> convenant roles. A token none of whose values is mapped is
    /// refused (403).
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<String>>,
    /// Seconds of clock skew allowed on `exp` and `nbf`. Default 30; at most 300.
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
    /// DEV KITS ONLY: an Ed25519 key (PKCS#8 as hex, created on first use) whose tokens, with issuer
    /// [`DEV_API_ISSUER`], the API accepts instead of an identity provider's
    /// (`signaal-gateway dev-token` mints them). Never set in production.
    #[serde(default)]
    pub dev_key: Option<PathBuf>,
}

/// The issuer of the dev kit's API tokens (`signaal-gateway dev-token`).
pub const DEV_API_ISSUER: &str = "urn:signaalhub:dev-kit:gateway-api";

/// The audience of the dev kit's API tokens.
pub const DEV_API_AUDIENCE: &str = "urn:signaalhub:dev-kit:gateway-api";

/// A certificate and its key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM), owner-only.
    pub key: PathBuf,
}

/// The hub and the organisation's mTLS identity towards it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSection {
    /// `https://host:port`.
    pub endpoint: String,
    /// The CA that signed the hub's certificate (PEM).
    pub ca: PathBuf,
    /// The name in the hub's certificate (default: the endpoint's host).
    #[serde(default)]
    pub domain: Option<String>,
    /// The organisation's client certificate (PKIoverheid; PEM).
    pub cert: PathBuf,
    /// Its private key (PEM), owner-only.
    pub key: PathBuf,
}

/// The organisation and its envelope keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSection {
    /// OIN (20 digits).
    pub oin: String,
    /// Display name on the console.
    #[serde(default)]
    pub name: String,
    /// Ed25519 signing key (PKCS#8 PEM), owner-only.
    pub signing_key: PathBuf,
    /// The key id under which the directory publishes it.
    pub signing_key_id: String,
    /// X25519 decryption keys (PKCS#8 PEM or 64 hex), owner-only. Keep a retired key here
    /// until nothing sealed to it is waiting.
    pub encryption_keys: Vec<KeyFile>,
}

/// A key file and its published key id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    /// Key id in the directory.
    pub id: String,
    /// The file.
    pub file: PathBuf,
}

/// Hub tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSection {
    /// Ed25519 token key (PKCS#8 PEM) registered at the hub with `--usage token`, owner-only.
    pub key: PathBuf,
    /// Its key id at the hub.
    pub key_id: String,
    /// `iss`: the issuer registered for the organisation.
    pub issuer: String,
    /// `aud`: the hub's audience. Default `signaalhub`.
    #[serde(default = "default_audience")]
    pub audience: String,
    /// Lifetime of a minted token in seconds (one per request). Default 120.
    #[serde(default = "default_token_lifetime")]
    pub lifetime_secs: i64,
}

/// The gateway's store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// SQLite file. Default `gateway.db`.
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection {
            path: default_store_path(),
        }
    }
}

/// A professional who may log in without an identity provider (dev kits and tests only).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevUser {
    /// The professional's id (`sub` of the hub token).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Convenant roles.
    pub roles: Vec<String>,
}

/// Login.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginSection {
    /// Named professionals who log in with one click: for dev kits only; the login page marks
    /// them as such. Empty in production.
    #[serde(default)]
    pub dev_users: Vec<DevUser>,
    /// The organisation's OpenID Connect provider.
    #[serde(default)]
    pub oidc: Option<OidcSection>,
}

/// OpenID Connect (authorization code + PKCE).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSection {
    /// The issuer URL (its `/.well-known/openid-configuration` is read at start).
    pub issuer: String,
    /// The client id registered for this gateway.
    pub client_id: String,
    /// The client secret (or set `SIGNAAL_GATEWAY_OIDC_CLIENT_SECRET`).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The claim that carries the provider's roles or groups. Default `roles`.
    #[serde(default = "default_roles_claim")]
    pub roles_claim: String,
    /// The claim that names the professional. Default `sub`.
    #[serde(default = "default_professional_claim")]
    pub professional_claim: String,
    /// Provider role or group -> convenant roles. A professional none of whose provider roles is
    /// mapped cannot log in.
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<String>>,
    /// Scopes to ask beyond `openid`. Default `profile`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

/// Sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSection {
    /// A session ends after this many idle minutes. Default 30.
    #[serde(default = "default_idle")]
    pub idle_minutes: u64,
    /// And at the latest after this many hours. Default 10.
    #[serde(default = "default_max_hours")]
    pub max_hours: u64,
}

impl Default for SessionSection {
    fn default() -> Self {
        SessionSection {
            idle_minutes: default_idle(),
            max_hours: default_max_hours(),
        }
    }
}

/// The inbox fetcher, which streams the organisation's inbox into the gateway's store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxSection {
    /// The `sub` of the fetcher's hub tokens. Default `signaal-gateway`.
    #[serde(default = "default_inbox_professional")]
    pub professional: String,
    /// Its roles. Default none.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl Default for InboxSection {
    fn default() -> Self {
        InboxSection {
            professional: default_inbox_professional(),
            roles: Vec::new(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_audience() -> String {
    "signaalhub".into()
}
fn default_token_lifetime() -> i64 {
    120
}
fn default_store_path() -> PathBuf {
    "gateway.db".into()
}
fn default_roles_claim() -> String {
    "roles".into()
}
fn default_professional_claim() -> String {
    "sub".into()
}
fn default_scopes() -> Vec<String> {
    vec!["profile".into()]
}
fn default_client_claim() -> String {
    "client_id".into()
}
fn default_api_roles_claim() -> String {
    "scope".into()
}
fn default_leeway() -> u64 {
    30
}
fn default_idle() -> u64 {
    30
}
fn default_max_hours() -> u64 {
    10
}
fn default_inbox_professional() -> String {
    "signaal-gateway".into()
}

/// Environment overrides: variable, what it sets.
pub const ENV_OVERRIDES: &[(&str, &str)] = &[
    ("SIGNAAL_GATEWAY_LISTEN", "listen"),
    ("SIGNAAL_GATEWAY_PUBLIC_URL", "public_url"),
    ("SIGNAAL_GATEWAY_HUB", "hub.endpoint"),
    ("SIGNAAL_GATEWAY_STORE", "store.path"),
    (
        "SIGNAAL_GATEWAY_OIDC_CLIENT_SECRET",
        "login.oidc.client_secret",
    ),
];

fn read_text(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.into(),
        source,
    })
}

impl GatewayConfig {
    /// Reads `path`; relative file names in it are relative to its folder. `env` gives the
    /// environment (a function, so tests need not touch the process's).
    pub fn load(
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<GatewayConfig, ConfigError> {
        let text = read_text(path)?;
        let mut c: GatewayConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.into(),
            message: e.message().to_owned(),
        })?;
        c.apply_env(env)?;
        let base = path.parent().unwrap_or(Path::new("."));
        c.resolve(base);
        c.validate()?;
        Ok(c)
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = env("SIGNAAL_GATEWAY_LISTEN") {
            self.listen = v.parse().map_err(|_| {
                invalid(
                    "SIGNAAL_GATEWAY_LISTEN",
                    "an address and port, e.g. 127.0.0.1:8080",
                )
            })?;
        }
        if let Some(v) = env("SIGNAAL_GATEWAY_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = env("SIGNAAL_GATEWAY_HUB") {
            self.hub.endpoint = v;
        }
        if let Some(v) = env("SIGNAAL_GATEWAY_STORE") {
            self.store.path = v.into();
        }
        if let (Some(v), Some(o)) = (
            env("SIGNAAL_GATEWAY_OIDC_CLIENT_SECRET"),
            &mut self.login.oidc,
        ) {
            o.client_secret = Some(v);
        }
        Ok(())
    }

    /// Makes relative file names relative to `base`.
    fn resolve(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.hub.ca);
        fix(&mut self.hub.cert);
        fix(&mut self.hub.key);
        fix(&mut self.organisation.signing_key);
        for k in &mut self.organisation.encryption_keys {
            fix(&mut k.file);
        }
        fix(&mut self.tokens.key);
        fix(&mut self.store.path);
        fix(&mut self.convenant);
        if let Some(t) = &mut self.tls {
            fix(&mut t.cert);
            fix(&mut t.key);
        }
        if let Some(k) = self.api.as_mut().and_then(|a| a.dev_key.as_mut()) {
            fix(k);
        }
    }

    /// Checks what the types cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let o = &self.organisation.oin;
        if o.len() != 20 || !o.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("organisation.oin", "exactly 20 digits"));
        }
        if self.organisation.encryption_keys.is_empty() {
            return Err(invalid(
                "organisation.encryption_keys",
                "at least one X25519 key to open received signals with",
            ));
        }
        if !(30..=900).contains(&self.tokens.lifetime_secs) {
            return Err(invalid(
                "tokens.lifetime_secs",
                "between 30 and 900 seconds",
            ));
        }
        if self.session.idle_minutes == 0 || self.session.max_hours == 0 {
            return Err(invalid(
                "session",
                "idle_minutes and max_hours must be at least 1",
            ));
        }
        if self.login.dev_users.is_empty() && self.login.oidc.is_none() {
            return Err(invalid(
                "login",
                "nobody can log in: configure [login.oidc] (or dev_users for a dev kit)",
            ));
        }
        for u in &self.login.dev_users {
            if u.id.is_empty() || u.id.len() > 128 || u.roles.is_empty() {
                return Err(invalid(
                    "login.dev_users",
                    "each needs an id (1-128 characters) and at least one role",
                ));
            }
        }
        if let Some(oidc) = &self.login.oidc {
            if oidc.roles.is_empty() {
                return Err(invalid(
                    "login.oidc.roles",
                    "map at least one provider role to convenant roles",
                ));
            }
            url::Url::parse(&oidc.issuer)
                .map_err(|e| invalid("login.oidc.issuer", format!("not a URL: {e}")))?;
        }
        if let Some(api) = &self.api {
            if api.audience.trim().is_empty() {
                return Err(invalid("api.audience", "name the API's audience (aud)"));
            }
            if api.roles.is_empty() {
                return Err(invalid(
                    "api.roles",
                    "map at least one scope or role to convenant roles",
                ));
            }
            if api.leeway_secs > 300 {
                return Err(invalid("api.leeway_secs", "at most 300 seconds"));
            }
            match (&api.dev_key, &api.issuer, &self.login.oidc) {
                (Some(_), _, _) => {}
                (None, Some(i), _) => {
                    url::Url::parse(i)
                        .map_err(|e| invalid("api.issuer", format!("not a URL: {e}")))?;
                }
                (None, None, Some(_)) => {}
                (None, None, None) => {
                    return Err(invalid(
                        "api",
                        "no identity provider to check tokens with: configure [login.oidc] or api.issuer",
                    ));
                }
            }
        }
        url::Url::parse(&self.public_url())
            .map_err(|e| invalid("public_url", format!("not a URL: {e}")))?;
        Ok(())
    }

    /// The address browsers use, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!(
                "{}://{}",
                if self.tls.is_some() { "https" } else { "http" },
                self.listen
            ),
        }
    }

    /// The configuration for a dev kit's sample organisation `sector` (folder `kit/orgs/<sector>`),
    /// with its dev professional as the one dev user, the hub on `hub_endpoint`, listening on
    /// `listen` and storing in `kit/gateways/<sector>.db`.
    pub fn dev_kit(
        kit: &Path,
        sector: &str,
        listen: SocketAddr,
        hub_endpoint: &str,
    ) -> Result<GatewayConfig, ConfigError> {
        #[derive(Deserialize)]
        struct KitOrg {
            oin: String,
            name: String,
            token_issuer: String,
            token_key_id: String,
            encryption_key_id: String,
            signing_key_id: String,
            professional: String,
            roles: Vec<String>,
        }
        #[derive(Deserialize, Default)]
        struct HubToml {
            #[serde(default)]
            auth: HubAuth,
        }
        #[derive(Deserialize)]
        struct HubAuth {
            #[serde(default = "default_audience")]
            audience: String,
        }
        impl Default for HubAuth {
            fn default() -> Self {
                HubAuth {
                    audience: default_audience(),
                }
            }
        }
        let odir = kit.join("orgs").join(sector);
        let org_file = odir.join("org.toml");
        let org: KitOrg =
            toml::from_str(&read_text(&org_file)?).map_err(|e| ConfigError::Parse {
                path: org_file.clone(),
                message: e.message().to_owned(),
            })?;
        let hub_file = kit.join("hub.toml");
        let hub: HubToml = match read_text(&hub_file) {
            Ok(t) => toml::from_str(&t).unwrap_or_default(),
            Err(_) => HubToml::default(),
        };
        let enc_pem = odir.join("encryption-key.pem");
        let enc = if enc_pem.exists() {
            enc_pem
        } else {
            odir.join("encryption-key.hex")
        };
        // The dev kit's local API: tokens minted by `signaal-gateway dev-token` with a key of this
        // organisation's own, each convenant role of the kit's professional (and `fg`) by name.
        let mut api_roles: BTreeMap<String, Vec<String>> = org
            .roles
            .iter()
            .map(|r| (r.clone(), vec![r.clone()]))
            .collect();
        api_roles.insert("fg".into(), vec!["fg".into()]);
        let api = ApiSection {
            audience: dev_api_audience(sector),
            issuer: None,
            client_claim: default_client_claim(),
            roles_claim: "roles".into(),
            roles: api_roles,
            leeway_secs: default_leeway(),
            dev_key: Some(dev_api_key_path(kit, sector)),
        };
        let c = GatewayConfig {
            api: Some(api),
            listen,
            public_url: None,
            tls: None,
            hub: HubSection {
                endpoint: hub_endpoint.to_owned(),
                ca: kit.join("ca.pem"),
                domain: Some("localhost".into()),
                cert: odir.join("cert.pem"),
                key: odir.join("key.pem"),
            },
            organisation: OrgSection {
                oin: org.oin,
                name: org.name.clone(),
                signing_key: odir.join("signing-key.pem"),
                signing_key_id: org.signing_key_id,
                encryption_keys: vec![KeyFile {
                    id: org.encryption_key_id,
                    file: enc,
                }],
            },
            tokens: TokenSection {
                key: odir.join("token-key.pem"),
                key_id: org.token_key_id,
                issuer: org.token_issuer,
                audience: hub.auth.audience,
                lifetime_secs: default_token_lifetime(),
            },
            store: StoreSection {
                path: kit.join("gateways").join(format!("{sector}.db")),
            },
            convenant: kit.join("convenant.toml"),
            login: LoginSection {
                dev_users: vec![
                    DevUser {
                        name: org.professional.clone(),
                        id: org.professional,
                        roles: org.roles,
                    },
                    // The organisation's privacy officer, as the kit's fg-token.jwt.
                    DevUser {
                        id: format!("dev-fg-{}", sector.replace('_', "-")),
                        name: format!("dev-fg-{} (FG)", sector.replace('_', "-")),
                        roles: vec!["fg".into()],
                    },
                ],
                oidc: None,
            },
            session: SessionSection::default(),
            inbox: InboxSection::default(),
        };
        c.validate()?;
        Ok(c)
    }
}

/// The audience of a dev kit organisation's API tokens (`signaal-gateway dev-token --as <sector>`).
pub fn dev_api_audience(sector: &str) -> String {
    format!("{DEV_API_AUDIENCE}:{sector}")
}

/// Where a dev kit keeps a sample organisation's API token key (created on first use).
pub fn dev_api_key_path(kit: &Path, sector: &str) -> PathBuf {
    kit.join("gateways")
        .join(format!("{sector}-api-dev-key.hex"))
}

/// Reads a secret file after checking that only its owner can read it.
pub fn read_secret(path: &Path, what: &str) -> Result<String, ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| ConfigError::Io {
        path: path.into(),
        source,
    })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(invalid(
            what,
            format!(
                "{} can be read by others than its owner; run `chmod 600 {}`",
                path.display(),
                path.display()
            ),
        ));
    }
    read_text(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
convenant = "convenant.toml"
[hub]
endpoint = "https://hub.example:50051"
ca = "ca.pem"
cert = "cert.pem"
key = "key.pem"
[organisation]
oin = "00000009901000000000"
signing_key = "signing-key.pem"
signing_key_id = "sig-1"
encryption_keys = [{ id = "enc-1", file = "encryption-key.pem" }]
[tokens]
key = "token-key.pem"
key_id = "token-1"
issuer = "https://idp.school.example"
[[login.dev_users]]
id = "ib-1"
name = "IB'er"
roles = ["ib_er"]
"#;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<GatewayConfig, ConfigError> {
        let dir = tempfile::tempdir().map_err(|source| ConfigError::Io {
            path: "tmp".into(),
            source,
        })?;
        let file = dir.path().join("gateway.toml");
        std::fs::write(&file, text).map_err(|source| ConfigError::Io {
            path: file.clone(),
            source,
        })?;
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        GatewayConfig::load(&file, |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_listen_on_loopback_only() -> Result<(), ConfigError> {
        let c = load(MINIMAL, &[])?;
        assert!(c.listen.ip().is_loopback(), "{}", c.listen);
        assert_eq!(c.public_url(), "http://127.0.0.1:8080");
        assert_eq!(c.tokens.lifetime_secs, 120);
        assert!(c.hub.ca.is_absolute());
        Ok(())
    }

    #[test]
    fn env_overrides_and_bad_values_name_the_key() -> Result<(), ConfigError> {
        let c = load(MINIMAL, &[("SIGNAAL_GATEWAY_LISTEN", "127.0.0.1:9999")])?;
        assert_eq!(c.listen.port(), 9999);
        let e = load(MINIMAL, &[("SIGNAAL_GATEWAY_LISTEN", "everywhere")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("SIGNAAL_GATEWAY_LISTEN"), "{e}");
        let e = load(&MINIMAL.replace("00000009901000000000", "123"), &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("organisation.oin"), "{e}");
        let e = load(
            &MINIMAL.replace("convenant =", "colour = \"red\"\nconvenant ="),
            &[],
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("colour"), "{e}");
        Ok(())
    }

    #[test]
    fn nobody_can_log_in_is_refused() {
        let text = MINIMAL.split("[[login.dev_users]]").next().unwrap_or("");
        let e = load(text, &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("login"), "{e}");
    }

    #[test]
    fn the_api_needs_an_audience_a_role_and_an_issuer() -> Result<(), ConfigError> {
        let api = "\n[api]\naudience = \"https://gw.example/api\"\n[api.roles]\n\"signaal:ib\" = [\"ib_er\"]\n";
        let e = load(&format!("{MINIMAL}{api}"), &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("api") && e.contains("api.issuer"), "{e}");
        let with_issuer = api.replace(
            "[api.roles]",
            "issuer = \"https://idp.school.example\"\n[api.roles]",
        );
        let c = load(&format!("{MINIMAL}{with_issuer}"), &[])?;
        let a = c.api.as_ref().map(|a| {
            (
                a.roles_claim.as_str(),
                a.client_claim.as_str(),
                a.leeway_secs,
            )
        });
        assert_eq!(a, Some(("scope", "client_id", 30)));
        let no_roles = with_issuer.replace("\"signaal:ib\" = [\"ib_er\"]", "");
        let e = load(&format!("{MINIMAL}{no_roles}"), &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("api.roles"), "{e}");
        Ok(())
    }

    #[test]
    fn a_key_others_can_read_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let f = dir.path().join("k.pem");
        std::fs::write(&f, "secret")?;
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644))?;
        let e = read_secret(&f, "organisation.signing_key")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("chmod 600"), "{e}");
        assert!(!e.contains("secret"), "{e}");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600))?;
        assert_eq!(read_secret(&f, "x")?, "secret");
        Ok(())
    }
}
