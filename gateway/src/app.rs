//! The running gateway: its configuration, keys, store, sessions and connection to the hub.
use crate::config::{ConfigError, GatewayConfig, read_secret};
use crate::session::{Pending, Professional, Sessions};
use crate::store::Store;
use signaalhub_client::envelope::{RecipientSecrets, SenderKeys};
use signaalhub_client::sealed::SenderKeyCache;
use signaalhub_client::tokens::TokenIssuer;
use signaalhub_client::{ClientError, ConnectOptions, HubClient, TokenSource};
use signaalhub_policy::Convenant;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Configuration or a key file.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A key file's contents.
    #[error("{what}: {message}")]
    Key {
        /// Which key.
        what: &'static str,
        /// Why.
        message: String,
    },
    /// The convenant file.
    #[error("convenant {path}: {message}")]
    Convenant {
        /// The file.
        path: String,
        /// The first diagnostics.
        message: String,
    },
    /// The store.
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    /// The hub.
    #[error("cannot reach the hub at {endpoint}: {message}")]
    Hub {
        /// Where.
        endpoint: String,
        /// Why.
        message: String,
    },
    /// The identity provider.
    #[error("identity provider: {0}")]
    Oidc(String),
    /// The local API's token checking.
    #[error("{0}")]
    Api(String),
}

fn key_err(what: &'static str) -> impl Fn(String) -> StartError {
    move |message| StartError::Key { what, message }
}

/// Everything a request handler needs.
pub struct App {
    /// The configuration.
    pub config: GatewayConfig,
    /// The gateway's store.
    pub store: Store,
    /// Console sessions.
    pub sessions: Sessions,
    /// OpenID Connect logins in flight, by their `state`.
    pub pending_logins: Pending<crate::oidc::PendingLogin>,
    /// The organisation's identity provider, when configured.
    pub oidc: Option<crate::oidc::OidcLogin>,
    /// The local API's token checking, when `[api]` is configured.
    pub api: Option<crate::api::auth::ApiAuth>,
    /// The region's convenant (for the forms' choices only; the hub decides).
    pub convenant: Convenant,
    /// The organisation's signing keys.
    pub sender: SenderKeys,
    /// The organisation's decryption keys.
    pub secrets: RecipientSecrets,
    /// Senders' published signing keys, looked up once.
    pub sender_keys: Mutex<SenderKeyCache>,
    tokens: TokenIssuer,
    hub: HubClient,
    bound: std::sync::OnceLock<std::net::SocketAddr>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("oin", &self.config.organisation.oin)
            .field("listen", &self.config.listen)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Loads keys and convenant, opens the store and connects to the hub (retrying for up to
    /// `hub_wait` while the hub starts).
    pub async fn start(config: GatewayConfig, hub_wait: Duration) -> Result<Arc<App>, StartError> {
        let o = &config.organisation;
        let sender = SenderKeys::from_pem(
            &o.oin,
            &o.signing_key_id,
            &read_secret(&o.signing_key, "organisation.signing_key")?,
        )
        .map_err(|e| key_err("organisation.signing_key")(e.to_string()))?;
        let mut secrets = RecipientSecrets::new(&o.oin);
        for k in &o.encryption_keys {
            secrets
                .add_key_file_text(
                    &k.id,
                    &read_secret(&k.file, "organisation.encryption_keys")?,
                )
                .map_err(|e| key_err("organisation.encryption_keys")(e.to_string()))?;
        }
        let t = &config.tokens;
        let tokens = TokenIssuer::from_pem(
            &read_secret(&t.key, "tokens.key")?,
            &t.key_id,
            &t.issuer,
            &t.audience,
            &o.oin,
        )
        .map_err(|e| key_err("tokens.key")(e.to_string()))?;
        let text =
            std::fs::read_to_string(&config.convenant).map_err(|e| StartError::Convenant {
                path: config.convenant.display().to_string(),
                message: e.to_string(),
            })?;
        let convenant = signaalhub_policy::parse(&config.convenant.display().to_string(), &text)
            .map_err(|d| StartError::Convenant {
                path: config.convenant.display().to_string(),
                message: d.to_string(),
            })?;
        let store = Store::open(&config.store.path).await?;
        let hub = connect(&config, hub_wait).await?;
        let oidc = match &config.login.oidc {
            Some(c) => Some(
                crate::oidc::OidcLogin::discover(c, &config.public_url())
                    .await
                    .map_err(|e| StartError::Oidc(e.to_string()))?,
            ),
            None => None,
        };
        let api = crate::api::auth::ApiAuth::start(&config)
            .await
            .map_err(StartError::Api)?;
        let sessions = Sessions::new(
            Duration::from_secs(config.session.idle_minutes * 60),
            Duration::from_secs(config.session.max_hours * 3600),
        );
        Ok(Arc::new(App {
            config,
            store,
            sessions,
            pending_logins: Pending::default(),
            oidc,
            api,
            convenant,
            sender,
            secrets,
            sender_keys: Mutex::new(SenderKeyCache::default()),
            tokens,
            hub,
            bound: std::sync::OnceLock::new(),
        }))
    }

    /// The hub, called as `professional` (a token minted for this request, with all their roles).
    pub fn hub_as(&self, professional: &Professional) -> Result<HubClient, ClientError> {
        let token = self.tokens.mint(
            &professional.id,
            &professional.roles,
            self.config.tokens.lifetime_secs,
        )?;
        self.hub.with_token(&token)
    }

    /// The hub, called as the gateway's inbox fetcher.
    pub fn hub_as_fetcher(&self) -> Result<HubClient, ClientError> {
        let i = &self.config.inbox;
        let token =
            self.tokens
                .mint(&i.professional, &i.roles, self.config.tokens.lifetime_secs)?;
        self.hub.with_token(&token)
    }

    /// Records the address the console is bound to (a configured port 0 becomes the real one).
    pub fn set_bound(&self, addr: std::net::SocketAddr) {
        let _ = self.bound.set(addr);
    }

    /// The address browsers use, without a trailing slash: `public_url`, else `http(s)://` and
    /// the bound address.
    pub fn public_url(&self) -> String {
        match (&self.config.public_url, self.bound.get()) {
            (None, Some(addr)) => format!(
                "{}://{addr}",
                if self.config.tls.is_some() {
                    "https"
                } else {
                    "http"
                }
            ),
            _ => self.config.public_url(),
        }
    }

    /// The organisation's OIN.
    pub fn oin(&self) -> &str {
        &self.config.organisation.oin
    }
}

async fn connect(config: &GatewayConfig, wait: Duration) -> Result<HubClient, StartError> {
    let h = &config.hub;
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|e| ConfigError::Io {
            path: p.into(),
            source: e,
        })
    };
    let opts = ConnectOptions {
        endpoint: h.endpoint.clone(),
        ca_pem: read(&h.ca)?,
        identity: Some((read(&h.cert)?, read_secret(&h.key, "hub.key")?.into_bytes())),
        domain: h.domain.clone(),
        token: TokenSource::None,
        connect_timeout: Duration::from_secs(5),
    };
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match HubClient::connect(opts.clone()).await {
            Ok(c) => return Ok(c),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                let mut message = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    message.push_str(&format!(": {s}"));
                    source = s.source();
                }
                return Err(StartError::Hub {
                    endpoint: h.endpoint.clone(),
                    message,
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}
