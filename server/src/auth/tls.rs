//! Mutual TLS with rustls: the server configuration, and the organisation identity (OIN) read
//! once per connection from the verified client certificate.
use crate::ids::Oin;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The one crypto provider of the whole process (ring). Installing it as the process default
/// is idempotent, so libraries and the binary may both call this.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    // Err means one is installed already, which is fine as long as it is ring (it is: nothing in
    // this workspace enables aws-lc-rs).
    let _ = rustls::crypto::ring::default_provider().install_default();
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A problem with TLS material named in the configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A PEM file holds no certificate or does not parse.
    #[error("{what}: no PEM certificate could be read")]
    NoCertificate {
        /// Which setting.
        what: String,
    },
    /// A PEM file holds no private key.
    #[error("{what}: no PEM private key could be read")]
    NoKey {
        /// Which setting.
        what: String,
    },
    /// rustls refused the material.
    #[error("{what}: {source}")]
    Rustls {
        /// Which setting.
        what: String,
        /// Why.
        source: rustls::Error,
    },
    /// The client CA list is unusable.
    #[error("tls.client_ca: {0}")]
    Verifier(String),
}

/// Parses all certificates in a PEM text.
pub fn parse_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|_| TlsSetupError::NoCertificate { what: what.into() })?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificate { what: what.into() });
    }
    Ok(certs)
}

/// Parses the first private key in a PEM text.
pub fn parse_key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|_| TlsSetupError::NoKey { what: what.into() })
}

/// The hub's TLS configuration: its own certificate, and client certificates required to chain
/// to one of `client_cas`. A connection without a client certificate completes the handshake
/// so that each request can be refused with a clear `UNAUTHENTICATED` message; a certificate
/// that does not verify fails the handshake.
pub fn server_config(
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_cas: &[CertificateDer<'static>],
) -> Result<Arc<ServerConfig>, TlsSetupError> {
    let provider = crypto_provider();
    let mut roots = RootCertStore::empty();
    for ca in client_cas {
        roots
            .add(ca.clone())
            .map_err(|e| TlsSetupError::Verifier(e.to_string()))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| TlsSetupError::Verifier(e.to_string()))?;
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsSetupError::Rustls {
            what: "tls".into(),
            source: e,
        })?
        .with_client_cert_verifier(verifier)
        .with_single_cert(cert_chain, key)
        .map_err(|e| TlsSetupError::Rustls {
            what: "tls.cert/tls.key".into(),
            source: e,
        })?;
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(cfg))
}

/// Why a connection's certificate does not name an organisation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerProblem {
    /// No client certificate was presented.
    #[error(
        "no client certificate presented: connect with your organisation's PKIoverheid (or dev kit) certificate"
    )]
    NoCertificate,
    /// The certificate does not parse.
    #[error("the client certificate could not be parsed")]
    Unparseable,
    /// No serialNumber (OID 2.5.4.5) in the subject.
    #[error(
        "the client certificate's subject has no serialNumber (OID 2.5.4.5) carrying the organisation's OIN"
    )]
    NoOin,
    /// More than one serialNumber.
    #[error(
        "the client certificate's subject has {0} serialNumber (OID 2.5.4.5) attributes; exactly one OIN is required"
    )]
    ManyOins(usize),
    /// The serialNumber is not 20 digits.
    #[error("the client certificate's subject serialNumber is not an OIN: {0}")]
    BadOin(String),
}

/// Reads the OIN from a verified end-entity certificate: the subject's serialNumber, exactly one,
/// exactly 20 digits.
pub fn oin_from_certificate(der: &[u8]) -> Result<Oin, PeerProblem> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| PeerProblem::Unparseable)?;
    let values: Vec<_> = cert
        .subject()
        .iter_attributes()
        .filter(|a| a.attr_type() == &x509_parser::oid_registry::OID_X509_SERIALNUMBER)
        .collect();
    match values.as_slice() {
        [] => Err(PeerProblem::NoOin),
        [one] => {
            let s = one
                .as_str()
                .map_err(|_| PeerProblem::BadOin("not a string".into()))?;
            s.parse::<Oin>()
                .map_err(|e| PeerProblem::BadOin(e.to_string()))
        }
        many => Err(PeerProblem::ManyOins(many.len())),
    }
}

/// What the hub knows of a connection, fixed at the handshake.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// The peer's address.
    pub remote: Option<SocketAddr>,
    /// The organisation its certificate names, or why it names none.
    pub identity: Arc<Result<Oin, PeerProblem>>,
}

/// A TLS connection accepted by the hub, carrying its [`ConnInfo`] into every request's
/// extensions (tonic's `Connected`). Holds a connection-limit permit for its lifetime.
#[derive(Debug)]
pub struct HubConn {
    inner: tokio_rustls::server::TlsStream<TcpStream>,
    info: ConnInfo,
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
    _org_permit: Option<crate::limits::OrgConnectionPermit>,
}

impl HubConn {
    /// Wraps an accepted TLS stream, reading the OIN from its verified client certificate.
    pub fn new(
        inner: tokio_rustls::server::TlsStream<TcpStream>,
        remote: Option<SocketAddr>,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> HubConn {
        let identity = match inner.get_ref().1.peer_certificates() {
            Some([leaf, ..]) => oin_from_certificate(leaf.as_ref()),
            _ => Err(PeerProblem::NoCertificate),
        };
        HubConn {
            inner,
            info: ConnInfo {
                remote,
                identity: Arc::new(identity),
            },
            _permit: permit,
            _org_permit: None,
        }
    }

    /// What the hub knows of the connection.
    pub fn info(&self) -> &ConnInfo {
        &self.info
    }

    /// Holds `permit` (a place among its organisation's connections) for the connection's life.
    pub fn with_org_permit(mut self, permit: crate::limits::OrgConnectionPermit) -> HubConn {
        self._org_permit = Some(permit);
        self
    }
}

impl tonic::transport::server::Connected for HubConn {
    type ConnectInfo = ConnInfo;
    fn connect_info(&self) -> ConnInfo {
        self.info.clone()
    }
}

impl AsyncRead for HubConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for HubConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
