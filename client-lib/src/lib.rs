//! The signaalhub SDK: connect to a hub over mutual TLS with a bearer token, and make typed calls.
//!
//! ```no_run
//! # async fn demo() -> Result<(), signaalhub_client::ClientError> {
//! use signaalhub_client::{ConnectOptions, HubClient};
//! let opts = ConnectOptions::from_dev_kit("dev-kit".as_ref(), "school")?;
//! let mut hub = HubClient::connect(opts).await?;
//! let me = hub.who_am_i().await?;
//! println!("{} as {:?}", me.professional, me.roles);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

use signaalhub_proto::pb;
use signaalhub_proto::pb::directory_service_client::DirectoryServiceClient;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

pub use signaalhub_proto;
pub mod envelope;
pub mod family;
pub mod involvement;
pub mod letter_pdf;
pub mod sealed;
pub mod tokens;
pub mod zorgmelding;

/// What went wrong talking to the hub.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Local configuration: a file, a key, an endpoint.
    #[error("configuration: {0}")]
    Config(String),
    /// The connection could not be made (TLS handshake refused, hub down, ...).
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The hub answered with an error status.
    #[error("{}: {}", .0.code(), .0.message())]
    Status(#[from] tonic::Status),
}

impl ClientError {
    /// The gRPC code, when the hub answered; `Unavailable` for transport errors.
    pub fn code(&self) -> tonic::Code {
        match self {
            ClientError::Status(s) => s.code(),
            ClientError::Transport(_) => tonic::Code::Unavailable,
            ClientError::Config(_) => tonic::Code::InvalidArgument,
        }
    }
}

/// Where bearer tokens come from.
#[derive(Clone)]
pub enum TokenSource {
    /// No token (health and reflection only).
    None,
    /// A token obtained elsewhere (the organisation's identity provider).
    Static(String),
    /// Mint a fresh short-lived token per connection from an Ed25519 key (dev kit, tests).
    Minted {
        /// PKCS#8 DER of the Ed25519 signing key.
        pkcs8_der: Vec<u8>,
        /// Key id registered at the hub.
        kid: String,
        /// Claims; `iat` and `exp` are set at minting.
        claims: serde_json::Value,
        /// Lifetime in seconds.
        lifetime_secs: i64,
    },
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenSource::None => "TokenSource::None",
            TokenSource::Static(_) => "TokenSource::Static(<token>)",
            TokenSource::Minted { .. } => "TokenSource::Minted(<key>)",
        })
    }
}

impl TokenSource {
    fn token(&self) -> Result<Option<String>, ClientError> {
        match self {
            TokenSource::None => Ok(None),
            TokenSource::Static(t) => Ok(Some(t.clone())),
            TokenSource::Minted {
                pkcs8_der,
                kid,
                claims,
                lifetime_secs,
            } => tokens::mint_jwt(pkcs8_der, kid, claims, *lifetime_secs).map(Some),
        }
    }
}

/// How to reach and authenticate to a hub.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `https://host:port`.
    pub endpoint: String,
    /// The CA that signed the hub's certificate (PEM).
    pub ca_pem: Vec<u8>,
    /// The organisation's client certificate and key (PEM); `None` connects without one.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
    /// The name in the hub's certificate (default: the endpoint's host).
    pub domain: Option<String>,
    /// Bearer tokens.
    pub token: TokenSource,
    /// Connect timeout.
    pub connect_timeout: Duration,
}

fn read(path: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|e| ClientError::Config(format!("{}: {e}", path.display())))
}

impl ConnectOptions {
    /// Options for a dev kit's sample organisation of `sector`, on `https://localhost:50051`
    /// (override `endpoint` for another address). Uses the kit's `token.jwt`.
    pub fn from_dev_kit(dir: &Path, sector: &str) -> Result<ConnectOptions, ClientError> {
        Self::from_dev_kit_token(dir, sector, "token.jwt")
    }

    /// Like [`ConnectOptions::from_dev_kit`] with another token file of the sample organisation,
    /// e.g. `fg-token.jwt` (its privacy officer, role `fg`).
    pub fn from_dev_kit_token(
        dir: &Path,
        sector: &str,
        token_file: &str,
    ) -> Result<ConnectOptions, ClientError> {
        let odir = dir.join("orgs").join(sector);
        if !odir.is_dir() {
            return Err(ClientError::Config(format!(
                "{} has no sample organisation {sector:?} (run `signaalhub dev init`)",
                dir.display()
            )));
        }
        let token = String::from_utf8(read(&odir.join(token_file))?)
            .map_err(|_| ClientError::Config(format!("{token_file} is not text")))?;
        Ok(ConnectOptions {
            endpoint: "https://localhost:50051".into(),
            ca_pem: read(&dir.join("ca.pem"))?,
            identity: Some((read(&odir.join("cert.pem"))?, read(&odir.join("key.pem"))?)),
            domain: Some("localhost".into()),
            token: TokenSource::Static(token.trim().to_owned()),
            connect_timeout: Duration::from_secs(10),
        })
    }
}

#[derive(Clone)]
struct BearerInterceptor {
    header: Option<Arc<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>>,
}

impl tonic::service::Interceptor for BearerInterceptor {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(h) = &self.header {
            req.metadata_mut()
                .insert("authorization", h.as_ref().clone());
        }
        Ok(req)
    }
}

pub(crate) type Svc = InterceptedService<Channel, BearerInterceptor>;

/// A connection to a hub, with typed calls.
#[derive(Clone)]
pub struct HubClient {
    channel: Channel,
    interceptor: BearerInterceptor,
}

impl std::fmt::Debug for HubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HubClient")
    }
}

impl HubClient {
    /// Connects (TLS handshake included) and prepares the bearer token.
    pub async fn connect(opts: ConnectOptions) -> Result<HubClient, ClientError> {
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&opts.ca_pem));
        if let Some((cert, key)) = &opts.identity {
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        if let Some(d) = &opts.domain {
            tls = tls.domain_name(d.clone());
        }
        let channel = Endpoint::from_shared(opts.endpoint.clone())
            .map_err(|e| ClientError::Config(format!("endpoint {:?}: {e}", opts.endpoint)))?
            .tls_config(tls)?
            .connect_timeout(opts.connect_timeout)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .connect()
            .await?;
        let header = match opts.token.token()? {
            Some(t) => {
                Some(Arc::new(format!("Bearer {t}").parse().map_err(|_| {
                    ClientError::Config("token is not ASCII".into())
                })?))
            }
            None => None,
        };
        Ok(HubClient {
            channel,
            interceptor: BearerInterceptor { header },
        })
    }

    /// The same connection calling with another bearer token (e.g. a short-lived token a gateway
    /// minted for one professional and one request). The channel and its TLS session are shared.
    pub fn with_token(&self, token: &str) -> Result<HubClient, ClientError> {
        let header = format!("Bearer {token}")
            .parse()
            .map_err(|_| ClientError::Config("token is not ASCII".into()))?;
        Ok(HubClient {
            channel: self.channel.clone(),
            interceptor: BearerInterceptor {
                header: Some(Arc::new(header)),
            },
        })
    }

    fn directory(&self) -> DirectoryServiceClient<Svc> {
        DirectoryServiceClient::with_interceptor(self.channel.clone(), self.interceptor.clone())
    }

    /// The raw channel (for other gRPC clients such as health).
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// Who the hub sees.
    pub async fn who_am_i(&mut self) -> Result<pb::WhoAmIResponse, ClientError> {
        Ok(self
            .directory()
            .who_am_i(pb::WhoAmIRequest {})
            .await?
            .into_inner())
    }

    /// The sociale kaart.
    pub async fn list_organizations(
        &mut self,
        request: pb::ListOrganizationsRequest,
    ) -> Result<pb::ListOrganizationsResponse, ClientError> {
        Ok(self
            .directory()
            .list_organizations(request)
            .await?
            .into_inner())
    }

    /// One organisation with its published keys.
    pub async fn get_organization(
        &mut self,
        oin: &str,
    ) -> Result<pb::GetOrganizationResponse, ClientError> {
        Ok(self
            .directory()
            .get_organization(pb::GetOrganizationRequest { oin: oin.into() })
            .await?
            .into_inner())
    }

    fn policy(&self) -> signaalhub_proto::pb::policy_service_client::PolicyServiceClient<Svc> {
        signaalhub_proto::pb::policy_service_client::PolicyServiceClient::with_interceptor(
            self.channel.clone(),
            self.interceptor.clone(),
        )
    }

    fn consent(&self) -> signaalhub_proto::pb::consent_service_client::ConsentServiceClient<Svc> {
        signaalhub_proto::pb::consent_service_client::ConsentServiceClient::with_interceptor(
            self.channel.clone(),
            self.interceptor.clone(),
        )
    }

    /// "May I send this?": the decision with its rules, obligations and reasons.
    pub async fn check_basis(
        &mut self,
        request: pb::CheckBasisRequest,
    ) -> Result<pb::Decision, ClientError> {
        self.policy()
            .check_basis(request)
            .await?
            .into_inner()
            .decision
            .ok_or_else(|| ClientError::Config("the hub sent no decision".into()))
    }

    /// Records a consent; returns it with its id.
    pub async fn record_consent(
        &mut self,
        request: pb::RecordConsentRequest,
    ) -> Result<pb::Consent, ClientError> {
        self.consent()
            .record_consent(request)
            .await?
            .into_inner()
            .consent
            .ok_or_else(|| ClientError::Config("the hub sent no consent".into()))
    }

    /// Withdraws a consent at once.
    pub async fn withdraw_consent(
        &mut self,
        consent_id: &str,
        withdrawn_by: &str,
    ) -> Result<pb::WithdrawConsentResponse, ClientError> {
        Ok(self
            .consent()
            .withdraw_consent(pb::WithdrawConsentRequest {
                consent_id: consent_id.into(),
                withdrawn_by: withdrawn_by.into(),
            })
            .await?
            .into_inner())
    }

    /// The consents about a subject that concern this organisation.
    pub async fn list_consents(
        &mut self,
        subject_bsn: &str,
        include_inactive: bool,
    ) -> Result<Vec<pb::Consent>, ClientError> {
        self.list_consents_as(subject_bsn, include_inactive, "")
            .await
    }

    /// [`HubClient::list_consents`] acting in `acting_role` (for a token with several roles).
    pub async fn list_consents_as(
        &mut self,
        subject_bsn: &str,
        include_inactive: bool,
        acting_role: &str,
    ) -> Result<Vec<pb::Consent>, ClientError> {
        Ok(self
            .consent()
            .list_consents(pb::ListConsentsRequest {
                subject_bsn: subject_bsn.into(),
                include_inactive,
                acting_role: acting_role.into(),
            })
            .await?
            .into_inner()
            .consents)
    }

    fn signals(&self) -> signaalhub_proto::pb::signal_service_client::SignalServiceClient<Svc> {
        signaalhub_proto::pb::signal_service_client::SignalServiceClient::with_interceptor(
            self.channel.clone(),
            self.interceptor.clone(),
        )
    }

    /// Sends a signal (its envelope sealed with [`envelope::seal`]). Idempotent on `signal_id`.
    pub async fn send_signal(
        &mut self,
        request: pb::SendSignalRequest,
    ) -> Result<pb::SendSignalResponse, ClientError> {
        Ok(self.signals().send_signal(request).await?.into_inner())
    }

    /// The live inbox stream, resuming after `after_cursor` (the last acknowledged item's cursor).
    pub async fn stream_inbox(
        &mut self,
        after_cursor: u64,
    ) -> Result<tonic::Streaming<pb::StreamInboxResponse>, ClientError> {
        Ok(self
            .signals()
            .stream_inbox(pb::StreamInboxRequest { after_cursor })
            .await?
            .into_inner())
    }

    /// Acknowledges a received signal.
    pub async fn ack_signal(
        &mut self,
        sender_oin: &str,
        signal_id: &str,
    ) -> Result<(), ClientError> {
        self.signals()
            .ack_signal(pb::AckSignalRequest {
                sender_oin: sender_oin.into(),
                signal_id: signal_id.into(),
            })
            .await?;
        Ok(())
    }

    /// A signal's state (sender: every recipient; recipient: its own, with the envelope once
    /// delivered).
    pub async fn get_signal(
        &mut self,
        sender_oin: &str,
        signal_id: &str,
    ) -> Result<pb::GetSignalResponse, ClientError> {
        Ok(self
            .signals()
            .get_signal(pb::GetSignalRequest {
                sender_oin: sender_oin.into(),
                signal_id: signal_id.into(),
            })
            .await?
            .into_inner())
    }

    /// Recalls a signal from every recipient it did not reach yet.
    pub async fn withdraw_signal(
        &mut self,
        signal_id: &str,
    ) -> Result<pb::WithdrawSignalResponse, ClientError> {
        Ok(self
            .signals()
            .withdraw_signal(pb::WithdrawSignalRequest {
                signal_id: signal_id.into(),
            })
            .await?
            .into_inner())
    }

    fn log(
        &self,
    ) -> signaalhub_proto::pb::disclosure_log_service_client::DisclosureLogServiceClient<Svc> {
        signaalhub_proto::pb::disclosure_log_service_client::DisclosureLogServiceClient::with_interceptor(
            self.channel.clone(),
            self.interceptor.clone(),
        )
        .max_decoding_message_size(MAX_LOG_REPLY)
    }

    /// The newest signed checkpoint of the disclosure log.
    pub async fn checkpoint(&mut self) -> Result<pb::GetCheckpointResponse, ClientError> {
        Ok(self
            .log()
            .get_checkpoint(pb::GetCheckpointRequest {})
            .await?
            .into_inner())
    }

    /// Inclusion proof of entry `index` in the tree of `tree_size` entries.
    pub async fn inclusion_proof(
        &mut self,
        index: u64,
        tree_size: u64,
    ) -> Result<pb::GetInclusionProofResponse, ClientError> {
        Ok(self
            .log()
            .get_inclusion_proof(pb::GetInclusionProofRequest { index, tree_size })
            .await?
            .into_inner())
    }

    /// Consistency proof between two tree sizes.
    pub async fn consistency_proof(
        &mut self,
        old_size: u64,
        new_size: u64,
    ) -> Result<pb::GetConsistencyProofResponse, ClientError> {
        Ok(self
            .log()
            .get_consistency_proof(pb::GetConsistencyProofRequest { old_size, new_size })
            .await?
            .into_inner())
    }

    /// The disclosure log entries about a subject in which the own organisation acted or
    /// received (FG role): every page (each page is logged at the hub as a read).
    pub async fn list_disclosures_for_subject(
        &mut self,
        subject_bsn: &str,
    ) -> Result<Vec<pb::LogEntryView>, ClientError> {
        self.list_all_disclosures(pb::ListDisclosuresRequest {
            scope: Some(pb::list_disclosures_request::Scope::SubjectBsn(
                subject_bsn.into(),
            )),
            ..Default::default()
        })
        .await
    }

    /// `ListDisclosures` for every page of the scope asked: from `after_index` on, a page of
    /// `page_size` (0: the largest, [`MAX_PAGE`]) at a time until a page is short.
    pub async fn list_all_disclosures(
        &mut self,
        mut request: pb::ListDisclosuresRequest,
    ) -> Result<Vec<pb::LogEntryView>, ClientError> {
        if request.page_size == 0 {
            request.page_size = MAX_PAGE;
        }
        let mut all = Vec::new();
        loop {
            let page = self.list_disclosures(request.clone()).await?;
            let full = page.len() >= request.page_size as usize;
            let Some(last) = page.last().map(|e| e.index) else {
                return Ok(all);
            };
            if request.after_index.is_some_and(|a| last <= a) {
                return Err(tonic::Status::data_loss(
                    "the hub's listing did not advance past the previous page",
                )
                .into());
            }
            all.extend(page);
            if !full {
                return Ok(all);
            }
            request.after_index = Some(last);
        }
    }

    /// `ListDisclosures` as asked (FG role): any scope, hub-wide with a request reference, or
    /// paged.
    pub async fn list_disclosures(
        &mut self,
        request: pb::ListDisclosuresRequest,
    ) -> Result<Vec<pb::LogEntryView>, ClientError> {
        Ok(self
            .log()
            .list_disclosures(request)
            .await?
            .into_inner()
            .entries)
    }

    /// The entries one professional of the own organisation acted in (FG role; NEN 7513), a
    /// page of at most `page_size` after `after_index` (the last index of the previous page;
    /// `None`: from the start).
    pub async fn list_professional_acts(
        &mut self,
        professional: &str,
        after_index: Option<u64>,
        page_size: u32,
    ) -> Result<Vec<pb::LogEntryView>, ClientError> {
        self.list_disclosures(pb::ListDisclosuresRequest {
            scope: Some(pb::list_disclosures_request::Scope::Professional(
                professional.into(),
            )),
            after_index,
            page_size,
            ..Default::default()
        })
        .await
    }

    /// The subject access report (FG role) of the own organisation's part: entries with
    /// proofs, JSON and the Dutch letter.
    pub async fn subject_access_report(
        &mut self,
        subject_bsn: &str,
    ) -> Result<pb::SubjectAccessReportResponse, ClientError> {
        self.access_report(pb::SubjectAccessReportRequest {
            subject_bsn: subject_bsn.into(),
            ..Default::default()
        })
        .await
    }

    /// `SubjectAccessReport` as asked (e.g. hub-wide with a request reference), every page
    /// assembled into one report: the entries of all pages in log order, the checkpoint every
    /// page proves against (the first page's; a page with another one is refused), the pages'
    /// JSON joined and the last page's letter. Verify it with [`verify_report`]. The request's
    /// `page_size` is kept (0: the hub's largest page); `after_index` and `tree_size` are set
    /// here.
    pub async fn access_report(
        &mut self,
        mut request: pb::SubjectAccessReportRequest,
    ) -> Result<pb::SubjectAccessReportResponse, ClientError> {
        request.after_index = None;
        request.tree_size = None;
        let mut report = self.access_report_page(request.clone()).await?;
        let note = report
            .checkpoint
            .as_ref()
            .map(|c| c.note.clone())
            .ok_or_else(|| tonic::Status::data_loss("the report's first page has no checkpoint"))?;
        request.tree_size = report.checkpoint.as_ref().map(|c| c.tree_size);
        let mut json = vec![std::mem::take(&mut report.json)];
        while let Some(after) = report.next_after_index.take() {
            if request.after_index.is_some_and(|a| after <= a) {
                return Err(tonic::Status::data_loss(
                    "the hub's report did not advance past the previous page",
                )
                .into());
            }
            request.after_index = Some(after);
            let page = self.access_report_page(request.clone()).await?;
            if page.checkpoint.as_ref().map(|c| c.note.as_str()) != Some(note.as_str()) {
                return Err(tonic::Status::data_loss(
                    "a page of the report proves against another checkpoint than the first",
                )
                .into());
            }
            report.entries.extend(page.entries);
            json.push(page.json);
            report.html_letter = page.html_letter;
            report.letter = page.letter;
            report.next_after_index = page.next_after_index;
        }
        report.json = joined_json(&note, &json)?;
        Ok(report)
    }

    /// One page of `SubjectAccessReport`, as asked.
    pub async fn access_report_page(
        &mut self,
        request: pb::SubjectAccessReportRequest,
    ) -> Result<pb::SubjectAccessReportResponse, ClientError> {
        Ok(self
            .log()
            .subject_access_report(request)
            .await?
            .into_inner())
    }

    /// Publishes a new encryption or signing key of the own organisation (role `key_admin`).
    pub async fn publish_key(
        &mut self,
        usage: pb::KeyUsage,
        key_id: &str,
        public_key: [u8; 32],
    ) -> Result<Vec<pb::PublicKey>, ClientError> {
        Ok(self
            .directory()
            .publish_key(pb::PublishKeyRequest {
                usage: usage as i32,
                key_id: key_id.into(),
                public_key: public_key.to_vec(),
            })
            .await?
            .into_inner()
            .keys)
    }

    /// The standard gRPC health check (`""` for the whole hub, or a service name).
    pub async fn health(&mut self, service: &str) -> Result<i32, ClientError> {
        let mut c = tonic_health::pb::health_client::HealthClient::new(self.channel.clone());
        Ok(c.check(tonic_health::pb::HealthCheckRequest {
            service: service.into(),
        })
        .await?
        .into_inner()
        .status)
    }
}

/// Most entries the hub returns in one page of a listing or report.
pub const MAX_PAGE: u32 = 1000;

/// The largest reply the client accepts from the log service: a report's last page carries the
/// letter over every entry.
const MAX_LOG_REPLY: usize = 256 << 20;

/// One report JSON from the pages' JSON: the checkpoint note and every page's entries in order.
fn joined_json(note: &str, pages: &[String]) -> Result<String, ClientError> {
    if pages.len() == 1 {
        return Ok(pages.concat());
    }
    let mut entries = Vec::new();
    for page in pages {
        let mut v: serde_json::Value = serde_json::from_str(page)
            .map_err(|_| tonic::Status::data_loss("a page of the report has malformed JSON"))?;
        if let Some(serde_json::Value::Array(e)) = v.get_mut("entries").map(serde_json::Value::take)
        {
            entries.extend(e);
        }
    }
    let v = serde_json::json!({ "checkpoint": note, "entries": entries });
    serde_json::to_string_pretty(&v)
        .map_err(|_| tonic::Status::internal("the report's JSON could not be written").into())
}

/// Why a report or proof does not verify.
#[derive(Debug, thiserror::Error)]
pub enum ProofFailure {
    /// The checkpoint's signature or format.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// An entry's inclusion proof.
    #[error("entry {index}: {why}")]
    Entry {
        /// Log index.
        index: u64,
        /// Why.
        why: String,
    },
}

/// Verifies a subject access report: the checkpoint is signed by a key in `trusted` (key id ->
/// Ed25519 public key; pass the hub's published checkpoint keys), and every entry's exact bytes
/// are included in that checkpoint's tree. Returns the number of verified entries.
pub fn verify_report(
    report: &pb::SubjectAccessReportResponse,
    trusted: &std::collections::HashMap<String, [u8; 32]>,
) -> Result<usize, ProofFailure> {
    use signaalhub_proto::{checkpoint, merkle};
    let cp = report
        .checkpoint
        .as_ref()
        .ok_or_else(|| ProofFailure::Checkpoint("missing".into()))?;
    let signed = checkpoint::SignedCheckpoint::parse(cp.note.as_bytes())
        .map_err(|e| ProofFailure::Checkpoint(e.to_string()))?;
    let c = checkpoint::verify(&signed, trusted)
        .map_err(|e| ProofFailure::Checkpoint(e.to_string()))?;
    for pe in &report.entries {
        let e = pe
            .entry
            .as_ref()
            .ok_or_else(|| ProofFailure::Checkpoint("entry missing".into()))?;
        let proof: Vec<merkle::Hash> = pe
            .inclusion_proof
            .iter()
            .map(|h| <[u8; 32]>::try_from(h.as_slice()))
            .collect::<Result<_, _>>()
            .map_err(|_| ProofFailure::Entry {
                index: e.index,
                why: "malformed proof".into(),
            })?;
        // An entry whose fields are withheld from this reader (the melder, a shielded
        // organisation) comes without its bytes: its leaf hash stands in. Otherwise the bytes
        // are what is proven, and a leaf hash sent beside them must match.
        let leaf = if e.withheld.is_empty() {
            let leaf = merkle::leaf_hash(&e.entry);
            if !e.leaf_hash.is_empty() && e.leaf_hash != leaf {
                return Err(ProofFailure::Entry {
                    index: e.index,
                    why: "the leaf hash does not match the entry".into(),
                });
            }
            leaf
        } else {
            <[u8; 32]>::try_from(e.leaf_hash.as_slice()).map_err(|_| ProofFailure::Entry {
                index: e.index,
                why: "a withheld entry without a 32-byte leaf hash".into(),
            })?
        };
        merkle::verify_inclusion(&leaf, e.index, c.tree_size, &proof, &c.root).map_err(|why| {
            ProofFailure::Entry {
                index: e.index,
                why: why.to_string(),
            }
        })?;
    }
    Ok(report.entries.len())
}

/// A sector name as the wire enum (for filters).
pub fn sector_from_name(name: &str) -> Option<pb::Sector> {
    Some(match name {
        "school" => pb::Sector::School,
        "politie" => pb::Sector::Politie,
        "huisarts" => pb::Sector::Huisarts,
        "woningcorporatie" => pb::Sector::Woningcorporatie,
        "wijkteam" => pb::Sector::Wijkteam,
        "veilig_thuis" => pb::Sector::VeiligThuis,
        "jeugdbescherming" => pb::Sector::Jeugdbescherming,
        _ => return None,
    })
}
