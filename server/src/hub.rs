//! The hub as a whole: building it from a configuration (TLS, pseudonym key ring, store,
//! directory, convenant, ledger) and serving it (accept loop, auth layer, services, background
//! jobs, graceful drain).
use crate::auth::directory::DirectoryCache;
use crate::auth::layer::{AuthLayer, Authenticator};
use crate::auth::tls::HubConn;
use crate::auth::token::TokenVerifier;
use crate::config::{Config, ConfigError};
use crate::ids::Pseudonymizer;
use crate::jobs::spawn_periodic;
use crate::store::{Store, StoreError};
use crate::{api, auth, flows, ids, ledger, limits, metrics, retention, store};
use signaalhub_proto::pb::consent_service_server::ConsentServiceServer;
use signaalhub_proto::pb::directory_service_server::DirectoryServiceServer;
use signaalhub_proto::pb::disclosure_log_service_server::DisclosureLogServiceServer;
use signaalhub_proto::pb::family_service_server::FamilyServiceServer;
use signaalhub_proto::pb::involvement_service_server::InvolvementServiceServer;
use signaalhub_proto::pb::maatregel_service_server::MaatregelServiceServer;
use signaalhub_proto::pb::notification_service_server::NotificationServiceServer;
use signaalhub_proto::pb::policy_service_server::PolicyServiceServer;
use signaalhub_proto::pb::safety_plan_service_server::SafetyPlanServiceServer;
use signaalhub_proto::pb::signal_service_server::SignalServiceServer;
use signaalhub_proto::pb::triage_service_server::TriageServiceServer;
use signaalhub_proto::pb::zorgmelding_service_server::ZorgmeldingServiceServer;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Why the hub cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is wrong (exit code 64).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store cannot be opened or migrated.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Serving failed.
    #[error("serve: {0}")]
    Serve(String),
    /// The disclosure log does not verify: the hub refuses to serve.
    #[error("disclosure log: {0}")]
    Log(String),
}

impl StartError {
    /// The process exit code for this error (sysexits: 64 usage/config, 69 unavailable, 70 software).
    pub fn exit_code(&self) -> i32 {
        match self {
            StartError::Config(_) => 64,
            StartError::Store(_) => 69,
            StartError::Serve(_) => 70,
            StartError::Log(_) => 65,
        }
    }
}

/// A hub ready to serve: configuration checked, store open and migrated, directory loaded.
#[derive(Debug)]
pub struct Hub {
    config: Config,
    store: Store,
    directory: Arc<DirectoryCache>,
    tls: Arc<rustls::ServerConfig>,
    pseudonymizer: Pseudonymizer,
    policy: Arc<signaalhub_policy::Policy>,
    ledger: Arc<ledger::integrator::Ledger>,
    metrics_listener: Option<std::net::TcpListener>,
}

/// Builds the log keeper from the `[log]` settings.
pub fn load_ledger(
    config: &Config,
    store: Store,
) -> Result<ledger::integrator::Ledger, ConfigError> {
    let pem = read_file("log.checkpoint_key_file", &config.log.checkpoint_key_file)?;
    let der = rustls::pki_types::pem::PemObject::from_pem_slice(&pem)
        .map(|k: rustls::pki_types::PrivatePkcs8KeyDer<'static>| k.secret_pkcs8_der().to_vec())
        .map_err(|_| ConfigError {
            key: "log.checkpoint_key_file".into(),
            message: "expected an Ed25519 PKCS#8 PEM (`PRIVATE KEY`)".into(),
        })?;
    let signer = signaalhub_proto::checkpoint::CheckpointSigner::from_pkcs8(
        &config.log.checkpoint_key_id,
        &der,
    )
    .map_err(|e| ConfigError {
        key: "log.checkpoint_key_file".into(),
        message: e.to_string(),
    })?;
    let mut old = std::collections::HashMap::new();
    for k in &config.log.old_checkpoint_keys {
        if let Some((id, h)) = k.split_once('=')
            && let Ok(bytes) = hex::decode(h)
            && let Ok(arr) = <[u8; 32]>::try_from(bytes.as_slice())
        {
            old.insert(id.to_owned(), arr);
        }
    }
    Ok(ledger::integrator::Ledger::new(
        store,
        config.log.origin.clone(),
        signer,
        old,
    ))
}

/// Loads the pseudonym key ring: `pseudonym.key_file` (version 1), then `pseudonym.rekey_files`
/// (versions 2, 3, …). Every error names the key file at fault.
pub fn load_pseudonym_ring(config: &Config) -> Result<Pseudonymizer, ConfigError> {
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    let files = std::iter::once(("pseudonym.key_file", &config.pseudonym.key_file)).chain(
        config
            .pseudonym
            .rekey_files
            .iter()
            .map(|f| ("pseudonym.rekey_files", f)),
    );
    for (i, (key, path)) in files.enumerate() {
        let version = i + 1;
        let text = read_file(key, path)?;
        let secret =
            hex::decode(String::from_utf8_lossy(&text).trim()).map_err(|_| ConfigError {
                key: key.into(),
                message: format!(
                    "{} (pseudonym key version {version}) must hold the secret hex encoded",
                    path.display()
                ),
            })?;
        if secret.len() < ids::MIN_PSEUDONYM_KEY_LEN {
            return Err(ConfigError {
                key: key.into(),
                message: format!(
                    "{} (pseudonym key version {version}): the secret must be at least {} bytes",
                    path.display(),
                    ids::MIN_PSEUDONYM_KEY_LEN
                ),
            });
        }
        if secrets.contains(&secret) {
            return Err(ConfigError {
                key: key.into(),
                message: format!(
                    "{} (pseudonym key version {version}) repeats an earlier version's secret; a new version needs a new secret",
                    path.display()
                ),
            });
        }
        secrets.push(secret);
    }
    let refs: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
    Pseudonymizer::ring(&refs).ok_or_else(|| ConfigError {
        key: "pseudonym.rekey_files".into(),
        message: format!(
            "at most {} pseudonym key versions",
            ids::MAX_PSEUDONYM_VERSION
        ),
    })
}

/// Checks the key ring against the store (and records a newer ring's version as the store's write
/// version). A mismatch is a configuration error naming `pseudonym.rekey_files` or the key file.
pub async fn check_pseudonym_ring(
    store: &Store,
    ring: &Pseudonymizer,
) -> Result<store::rekey::PseudonymState, StartError> {
    use store::rekey::{RingError, RingMismatch};
    match store.open_pseudonym_ring(ring).await {
        Ok(s) => Ok(s),
        Err(RingError::Store(e)) => Err(StartError::Store(e)),
        Err(RingError::Mismatch(m)) => {
            let key = match &m {
                RingMismatch::WrongKey { version: 1 } => "pseudonym.key_file",
                _ => "pseudonym.rekey_files",
            };
            Err(ConfigError {
                key: key.into(),
                message: m.to_string(),
            }
            .into())
        }
    }
}

/// Loads and checks the convenant the configuration names (the sample only with
/// `allow_dev_material`). Every problem is reported, located, under the key `convenant`.
pub fn load_policy(config: &Config) -> Result<signaalhub_policy::Policy, ConfigError> {
    let (name, text) = if config.convenant.as_os_str().is_empty() {
        if !config.allow_dev_material {
            return Err(ConfigError {
                key: "convenant".into(),
                message:
                    "name the region's convenant file (the built-in sample is for development only)"
                        .into(),
            });
        }
        (
            "sample.toml".to_string(),
            signaalhub_policy::SAMPLE_CONVENANT.to_string(),
        )
    } else {
        let bytes = read_file("convenant", &config.convenant)?;
        let text = String::from_utf8(bytes).map_err(|_| ConfigError {
            key: "convenant".into(),
            message: format!("{} is not UTF-8 text", config.convenant.display()),
        })?;
        (config.convenant.display().to_string(), text)
    };
    signaalhub_policy::parse(&name, &text)
        .map(|c| c.compile())
        .map_err(|d| ConfigError {
            key: "convenant".into(),
            message: format!("the convenant is invalid:\n{d}"),
        })
}

fn read_file(key: &str, path: &std::path::Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError {
        key: key.into(),
        message: format!("cannot read {}: {e}", path.display()),
    })
}

/// Marker the dev kit puts in its CA's subject; such a CA is trusted only with
/// `allow_dev_material = true`.
pub const DEV_MARKER: &str = "signaalhub DEV KIT - not for production";

impl Hub {
    /// Loads TLS material and the pseudonym secret, opens the store and the directory.
    pub async fn build(config: Config) -> Result<Hub, StartError> {
        let cfg_err = |key: &str, message: String| ConfigError {
            key: key.into(),
            message,
        };
        let certs = auth::tls::parse_certs(&read_file("tls.cert", &config.tls.cert)?, "tls.cert")
            .map_err(|e| cfg_err("tls.cert", e.to_string()))?;
        let key = auth::tls::parse_key(&read_file("tls.key", &config.tls.key)?, "tls.key")
            .map_err(|e| cfg_err("tls.key", e.to_string()))?;
        let mut cas = Vec::new();
        for path in &config.tls.client_ca {
            let pem = read_file("tls.client_ca", path)?;
            for ca in auth::tls::parse_certs(&pem, "tls.client_ca")
                .map_err(|e| cfg_err("tls.client_ca", e.to_string()))?
            {
                if is_dev_certificate(ca.as_ref()) && !config.allow_dev_material {
                    return Err(cfg_err(
                        "tls.client_ca",
                        format!(
                            "{} is a dev-kit CA; set allow_dev_material = true to use dev material (never in production)",
                            path.display()
                        ),
                    )
                    .into());
                }
                cas.push(ca);
            }
        }
        let tls = auth::tls::server_config(certs, key, &cas)
            .map_err(|e| cfg_err("tls", e.to_string()))?;
        let pseudonymizer = load_pseudonym_ring(&config)?;
        let policy = Arc::new(load_policy(&config)?);
        let target = config.database_target();
        if !store::is_postgres_url(&target) {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                cfg_err(
                    "data_dir",
                    format!("cannot create {}: {e}", config.data_dir.display()),
                )
            })?;
        }
        // Bound here, so that a port in use is a configuration error before anything starts.
        let metrics_listener = if config.metrics.listen.is_empty() {
            None
        } else {
            let l = std::net::TcpListener::bind(&config.metrics.listen)
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .map_err(|e| {
                    cfg_err(
                        "metrics.listen",
                        format!("cannot listen on {}: {e}", config.metrics.listen),
                    )
                })?;
            Some(l)
        };
        let store = Store::open(&target).await?;
        // Fail closed: a key ring older than the store, or a changed key file, serves nothing.
        check_pseudonym_ring(&store, &pseudonymizer).await?;
        let directory = DirectoryCache::load(store.clone()).await?;
        let ledger = Arc::new(load_ledger(&config, store.clone())?);
        // Fail closed: a log that does not verify serves nothing.
        ledger
            .integrate_all()
            .await
            .map_err(|e| StartError::Log(e.to_string()))?;
        let checked = ledger
            .check_startup()
            .await
            .map_err(|e| StartError::Log(e.to_string()))?;
        log_startup_check(&checked);
        Ok(Hub {
            config,
            store,
            directory,
            tls,
            pseudonymizer,
            policy,
            ledger,
            metrics_listener,
        })
    }

    /// Where the metrics endpoint listens (`metrics.listen`), if it is on.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The hub's store (tests and administration use it directly).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The directory snapshot; call `reload` after changing the directory in-process.
    pub fn directory(&self) -> &Arc<DirectoryCache> {
        &self.directory
    }

    /// The pseudonymizer for BSNs.
    pub fn pseudonymizer(&self) -> &Pseudonymizer {
        &self.pseudonymizer
    }

    /// The log keeper.
    pub fn ledger(&self) -> &Arc<ledger::integrator::Ledger> {
        &self.ledger
    }

    /// The compiled convenant.
    pub fn policy(&self) -> &Arc<signaalhub_policy::Policy> {
        &self.policy
    }

    /// Serves on `listener` until `shutdown` completes, then drains: stops accepting, lets
    /// in-flight requests finish, and returns.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let integrator = self.ledger.spawn(
            Duration::from_millis(self.config.log.integrate_ms),
            stop_rx.clone(),
        );
        let poller = self.directory.spawn_poller(
            Duration::from_millis(self.config.directory.refresh_ms),
            stop_rx.clone(),
        );
        // Follows the store's pseudonym key versions: a newer write version than this ring makes
        // the instance refuse every call (auth layer); the floor tells lookups by stored
        // pseudonyms whether older versions may remain.
        let key_poller = {
            let store = self.store.clone();
            let ring = self.pseudonymizer.clone();
            spawn_periodic(
                Duration::from_millis(self.config.directory.refresh_ms),
                stop_rx.clone(),
                move || {
                    let store = store.clone();
                    let ring = ring.clone();
                    async move {
                        match store.pseudonym_state().await {
                            Ok(s) => {
                                ring.observe_store(s.version, s.floor);
                                if let Some(v) = ring.store_ahead() {
                                    tracing::error!(
                                        store_version = v,
                                        configured = ring.version(),
                                        "the store is now written with a newer pseudonym key version than this instance has; refusing calls until restarted with the new key"
                                    );
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "pseudonym key version check failed; keeping the last state")
                            }
                        }
                    }
                },
            )
        };
        let sweeper = (self.config.retention.sweep_interval_ms > 0).then(|| {
            retention::spawn(
                self.store.clone(),
                self.policy.version().to_owned(),
                Duration::from_millis(self.config.retention.sweep_interval_ms),
                self.config.retention.batch_size,
                self.config.retention.log_professional_days,
                stop_rx.clone(),
            )
        });
        let reminders = (self.config.reminders.interval_ms > 0).then(|| {
            crate::reminders::spawn(
                self.store.clone(),
                Arc::clone(&self.policy),
                Duration::from_millis(self.config.reminders.interval_ms),
                self.config.reminders.batch_size,
                stop_rx.clone(),
            )
        });
        let metrics_server = match self.metrics_listener {
            Some(l) => Some(metrics::serve(
                TcpListener::from_std(l).map_err(|e| StartError::Serve(e.to_string()))?,
                self.store.clone(),
                stop_rx.clone(),
            )),
            None => None,
        };
        let catalog = Arc::new(limits::RpcCatalog::hub());
        let auth = Arc::new(Authenticator {
            directory: Arc::clone(&self.directory),
            pseudonyms: Some(self.pseudonymizer.clone()),
            tokens: TokenVerifier::new(&self.config.auth.audience, self.config.auth.leeway_secs),
        });
        let limits = &self.config.limits;
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter
            .set_serving::<DirectoryServiceServer<api::directory::DirectoryApi>>()
            .await;
        health_reporter
            .set_serving::<PolicyServiceServer<api::policy::PolicyApi>>()
            .await;
        health_reporter
            .set_serving::<ConsentServiceServer<api::consent::ConsentApi>>()
            .await;
        health_reporter
            .set_serving::<SignalServiceServer<api::signals::SignalApi>>()
            .await;
        health_reporter
            .set_serving::<DisclosureLogServiceServer<api::log::LogApi>>()
            .await;
        health_reporter
            .set_serving::<ZorgmeldingServiceServer<api::zorgmelding::ZorgmeldingApi>>()
            .await;
        health_reporter
            .set_serving::<TriageServiceServer<api::triage::TriageApi>>()
            .await;
        health_reporter
            .set_serving::<MaatregelServiceServer<api::maatregel::MaatregelApi>>()
            .await;
        health_reporter
            .set_serving::<InvolvementServiceServer<api::involvement::InvolvementApi>>()
            .await;
        health_reporter
            .set_serving::<SafetyPlanServiceServer<api::safety_plan::SafetyPlanApi>>()
            .await;
        health_reporter
            .set_serving::<NotificationServiceServer<api::involvement::NotificationApi>>()
            .await;
        health_reporter
            .set_serving::<FamilyServiceServer<api::family::FamilyApi>>()
            .await;
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(signaalhub_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| StartError::Serve(e.to_string()))?;
        let reflection_alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(signaalhub_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .map_err(|e| StartError::Serve(e.to_string()))?;
        let ctx = flows::Ctx {
            store: self.store.clone(),
            signals: store::group::SignalCommitter::new(
                self.store.clone(),
                self.config.commit.group_commit,
                self.config.commit.max_batch,
            ),
            policy: Arc::clone(&self.policy),
            pseudonymizer: self.pseudonymizer.clone(),
            directory: Arc::clone(&self.directory),
            token_leeway_secs: self.config.auth.leeway_secs as i64,
            hub_wide_readers: Arc::new(
                crate::domain::access::HubWideReaders::parse(&self.config.access.hub_wide_readers)
                    .map_err(|e| StartError::Serve(format!("access.hub_wide_readers: {e}")))?,
            ),
            maatregel_no_answers_per_day: self.config.access.maatregel_no_answers_per_day,
        };
        let max = limits.max_message_bytes;
        let directory_api =
            DirectoryServiceServer::new(api::directory::DirectoryApi::new(ctx.clone()))
                .max_decoding_message_size(max);
        let policy_api = PolicyServiceServer::new(api::policy::PolicyApi::new(ctx.clone()))
            .max_decoding_message_size(max);
        let consent_api = ConsentServiceServer::new(api::consent::ConsentApi::new(ctx.clone()))
            .max_decoding_message_size(max);
        let inbox_wake = Arc::new(tokio::sync::Notify::new());
        let inbox_listener = self
            .store
            .spawn_inbox_listener(Arc::clone(&inbox_wake), stop_rx.clone());
        let zorgmelding_api = ZorgmeldingServiceServer::new(api::zorgmelding::ZorgmeldingApi::new(
            ctx.clone(),
            Arc::clone(&inbox_wake),
            stop_rx.clone(),
        ))
        .max_decoding_message_size(max);
        let triage_api = TriageServiceServer::new(api::triage::TriageApi::new(ctx.clone()))
            .max_decoding_message_size(max);
        let maatregel_api = MaatregelServiceServer::new(api::maatregel::MaatregelApi::new(
            ctx.clone(),
            Arc::clone(&inbox_wake),
        ))
        .max_decoding_message_size(max);
        let involvement_api = InvolvementServiceServer::new(api::involvement::InvolvementApi::new(
            ctx.clone(),
            Arc::clone(&inbox_wake),
        ))
        .max_decoding_message_size(max);
        let safety_plan_api = SafetyPlanServiceServer::new(api::safety_plan::SafetyPlanApi::new(
            ctx.clone(),
            Arc::clone(&inbox_wake),
        ))
        .max_decoding_message_size(max);
        let notification_api =
            NotificationServiceServer::new(api::involvement::NotificationApi::new(
                ctx.clone(),
                Arc::clone(&inbox_wake),
                stop_rx.clone(),
            ))
            .max_decoding_message_size(max);
        let signal_api = SignalServiceServer::new(api::signals::SignalApi::new(
            ctx.clone(),
            inbox_wake,
            stop_rx.clone(),
        ))
        .max_decoding_message_size(max);
        let family_api = FamilyServiceServer::new(api::family::FamilyApi::new(ctx.clone()))
            .max_decoding_message_size(max);
        let log_api = DisclosureLogServiceServer::new(api::log::LogApi::new(
            ctx.clone(),
            Arc::clone(&self.ledger),
        ))
        .max_decoding_message_size(max);

        let incoming = accept_loop(
            listener,
            Arc::clone(&self.tls),
            limits.max_connections,
            limits::OrgConnections::new(limits.max_connections_per_org),
            Duration::from_millis(limits.handshake_timeout_ms),
            stop_rx.clone(),
        );
        let router = tonic::transport::Server::builder()
            .timeout(Duration::from_millis(limits.request_timeout_ms))
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .http2_keepalive_timeout(Some(Duration::from_secs(10)))
            .max_concurrent_streams(Some(limits.max_concurrent_streams_per_connection))
            // Outermost first: request id + metrics see every call; the limits count every call of
            // an organisation (by its certificate) before its token is checked, so a flood of
            // refused tokens is held to the same rate as anything else it sends.
            .layer(metrics::ObserveLayer::new(Arc::clone(&catalog)))
            .layer(limits::LimitsLayer::new(Arc::new(limits::Limits::new(
                limits,
                Arc::clone(&catalog),
            ))))
            .layer(AuthLayer::new(auth))
            .add_service(health_service)
            .add_service(reflection)
            .add_service(reflection_alpha)
            .add_service(directory_api)
            .add_service(policy_api)
            .add_service(consent_api)
            .add_service(signal_api)
            .add_service(log_api)
            .add_service(zorgmelding_api)
            .add_service(triage_api)
            .add_service(maatregel_api)
            .add_service(involvement_api)
            .add_service(safety_plan_api)
            .add_service(notification_api)
            .add_service(family_api);
        let drain = async move {
            shutdown.await;
            tracing::info!("shutdown requested: draining");
            let _ = stop_tx.send(true);
        };
        let result = router.serve_with_incoming_shutdown(incoming, drain).await;
        poller.abort();
        key_poller.abort();
        if let Some(l) = inbox_listener {
            l.abort();
        }
        if let Some(s) = sweeper {
            let _ = s.await;
        }
        if let Some(r) = reminders {
            let _ = r.await;
        }
        if let Some(m) = metrics_server {
            m.abort();
        }
        let _ = integrator.await;
        if let Err(e) = self.ledger.integrate_all().await {
            tracing::error!(error = %e, "final log integration failed");
        }
        self.store.close().await;
        result.map_err(|e| StartError::Serve(e.to_string()))
    }
}

fn is_dev_certificate(der: &[u8]) -> bool {
    use x509_parser::prelude::{FromDer, X509Certificate};
    X509Certificate::from_der(der).is_ok_and(|(_, c)| {
        c.subject()
            .iter_organization()
            .any(|o| o.as_str().is_ok_and(|s| s == DEV_MARKER))
    })
}

/// Accepts TCP connections, performs TLS handshakes concurrently (each bounded by a timeout and
/// the connection limit) and yields ready connections. A connection whose certificate names an
/// organisation that already holds `per_org.max()` connections is closed after the handshake, so
/// that one organisation cannot take every place.
fn accept_loop(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    max_connections: usize,
    per_org: Arc<limits::OrgConnections>,
    handshake_timeout: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio_stream::wrappers::ReceiverStream<Result<HubConn, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let permits = Arc::new(tokio::sync::Semaphore::new(max_connections));
    tokio::spawn(async move {
        loop {
            let permit = tokio::select! {
                p = Arc::clone(&permits).acquire_owned() => match p { Ok(p) => p, Err(_) => break },
                _ = stop.changed() => break,
            };
            let (tcp, remote) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = stop.changed() => break,
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            let per_org = Arc::clone(&per_org);
            tokio::spawn(async move {
                match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let conn = HubConn::new(stream, Some(remote), Some(permit));
                        // Connections without an organisation are refused per request by the
                        // auth layer; those with one count against its cap.
                        let oin = conn
                            .info()
                            .identity
                            .as_ref()
                            .as_ref()
                            .ok()
                            .map(|o| o.to_string());
                        let conn = match oin {
                            Some(oin) => match per_org.acquire(&oin) {
                                Some(p) => conn.with_org_permit(p),
                                None => {
                                    metrics::limited("connections");
                                    tracing::info!(peer = %remote, org = %oin, max = per_org.max(), "connection closed: the organisation holds the most connections allowed on this instance");
                                    let mut conn = conn;
                                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut conn).await;
                                    return;
                                }
                            },
                            None => conn,
                        };
                        let _ = tx.send(Ok(conn)).await;
                    }
                    Ok(Err(e)) => {
                        tracing::info!(peer = %remote, error = %e, "TLS handshake refused")
                    }
                    Err(_) => tracing::info!(peer = %remote, "TLS handshake timed out"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// Builds and serves the hub in one call: `run(listener, config, shutdown)`.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    Hub::build(config).await?.serve(listener, shutdown).await
}

/// A full `log verify` older than this is called out at start (docs/OPERATIONS.md schedules one
/// a night).
const FULL_VERIFY_DUE_SECS: i64 = 8 * 24 * 3600;

/// What the start-up check verified, in the hub's log; a warning when `signaalhub log verify`
/// has not passed for more than a week (it is what finds changes below the last verified size).
fn log_startup_check(r: &crate::ledger::integrator::StartupReport) {
    tracing::info!(
        checkpoint = r.tree_size,
        verified_before = r.verified_from,
        rehashed = r.entries_checked(),
        "disclosure log checked at start: checkpoint signature, root from the tiles, entries since the last verification"
    );
    if r.tree_size == 0 {
        return;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    match &r.last_full {
        None => tracing::warn!(
            "`signaalhub log verify` has never passed on this log: schedule it (docs/OPERATIONS.md, \"The log's checks\")"
        ),
        Some(v) if now - v.verified_at > FULL_VERIFY_DUE_SECS => tracing::warn!(
            days = (now - v.verified_at) / 86_400,
            size = v.tree_size,
            "the last `signaalhub log verify` that passed is more than a week old: check its schedule (docs/OPERATIONS.md, \"The log's checks\")"
        ),
        Some(v) => tracing::info!(
            size = v.tree_size,
            at = v.verified_at,
            "last `signaalhub log verify` that passed"
        ),
    }
}
