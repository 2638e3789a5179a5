//! The organisation gateway: each organisation runs one inside its own network. It holds the
//! organisation's certificate and its signing, decryption and token keys, talks to the hub over
//! mutual TLS, and serves its own professionals a web console in Dutch (English as a switch),
//! and the organisation's own systems a local API (`/api/v1/`, [`api`]).
//!
//! The hub never decrypts: a signal is sealed here before it leaves, and opened here when a
//! professional or a system looks at it. Every decision is the hub's (`CheckBasis`,
//! `SendSignal`); the console and the API only show it, through the same functions
//! ([`actions`]). See docs/GATEWAY.md, docs/CONSOLE.md and docs/API.md.
#![forbid(unsafe_code)]

pub mod actions;
pub mod api;
pub mod app;
pub mod coded;
pub mod config;
pub mod feedback;
pub mod handover;
pub mod inbox;
pub mod information;
pub mod notifications;
pub mod oidc;
pub mod session;
pub mod store;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Serves the console and the local API on the configured address until `shutdown` completes;
/// starts the inbox fetcher, the zorgmelding fetcher (Veilig Thuis only) and the retention
/// sweeper beside it. Returns the bound address
/// through `bound`.
pub async fn serve(
    app: Arc<app::App>,
    bound: tokio::sync::oneshot::Sender<SocketAddr>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), std::io::Error> {
    let listener = tokio::net::TcpListener::bind(app.config.listen).await?;
    let addr = listener.local_addr()?;
    app.set_bound(addr);
    let _ = bound.send(addr);
    let fetcher = tokio::spawn(inbox::run(app.clone()));
    let meldingen = tokio::spawn(inbox::run_meldingen(app.clone()));
    let sweeper = tokio::spawn(inbox::sweep(app.clone()));
    let router = web::router(app.clone());
    let result = match &app.config.tls {
        None => {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(files) => {
            let acceptor = tls_acceptor(files)?;
            axum::serve(
                TlsListener {
                    tcp: listener,
                    acceptor,
                },
                router,
            )
            .with_graceful_shutdown(shutdown)
            .await
        }
    };
    fetcher.abort();
    meldingen.abort();
    sweeper.abort();
    result
}

fn tls_acceptor(files: &config::TlsFiles) -> Result<tokio_rustls::TlsAcceptor, std::io::Error> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, e: String| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{what}: {e}"))
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| bad("tls.cert", e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("tls.cert", e.to_string()))?;
    let key_text =
        config::read_secret(&files.key, "tls.key").map_err(|e| bad("tls.key", e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(key_text.as_bytes())
        .map_err(|e| bad("tls.key", e.to_string()))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
    .map_err(|e| bad("tls", e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| bad("tls", e.to_string()))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}

/// A TCP listener that completes a TLS handshake (at most 10 s) before handing the stream on.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.tcp.accept().await {
                Ok(x) => x,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match tokio::time::timeout(Duration::from_secs(10), self.acceptor.accept(stream)).await
            {
                Ok(Ok(tls)) => return (tls, addr),
                _ => continue,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
