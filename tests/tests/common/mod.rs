//! A real hub for end-to-end tests: its own CA, sample organisations, a fresh database of the
//! requested backend, listening on 127.0.0.1:0 with real mutual TLS.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod involvement_flow;
pub mod zorgmelding_flow;

use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ConnectOptions, HubClient, TokenSource};
use signaalhub_server::auth::directory::DirectoryCache;
use signaalhub_server::config::Config;
use signaalhub_server::devkit::{self, DevCa, DevOrg, Subject};
use signaalhub_server::domain::directory::{KeyUsage, OrgKey, OrgStatus, Organization};
use signaalhub_server::ids::Oin;
use signaalhub_server::store::Store;
use signaalhub_server::store::testing::{self, TestDb};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// One sample organisation with everything a client needs.
#[derive(Debug, Clone)]
pub struct TestOrg {
    pub info: DevOrg,
    pub cert_pem: String,
    pub key_pem: String,
    pub token_pkcs8: Vec<u8>,
    pub signing_pkcs8: Vec<u8>,
    pub enc_secret: [u8; 32],
}

pub struct TestHub {
    pub addr: SocketAddr,
    pub backend: &'static str,
    pub ca: DevCa,
    pub orgs: HashMap<String, TestOrg>,
    pub store: Store,
    pub directory: Arc<DirectoryCache>,
    pub audience: String,
    pub config: Config,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), signaalhub_server::StartError>>>,
    _db: TestDb,
    _dir: tempfile::TempDir,
}

/// Registers `info` in the directory of `store` (active, with its token, signing and encryption
/// keys) and issues its certificate from `ca`.
async fn register_org(store: &Store, ca: &DevCa, info: DevOrg) -> TestOrg {
    let (cert_pem, key_pem) = ca
        .issue(
            &Subject {
                common_name: info.name.clone(),
                serial_numbers: vec![info.oin.clone()],
            },
            &[],
        )
        .unwrap();
    let (token_pkcs8, token_pub) = devkit::ed25519_keypair().unwrap();
    let (signing_pkcs8, sig_pub) = devkit::ed25519_keypair().unwrap();
    let (enc_secret, enc_pub) = devkit::x25519_keypair().unwrap();
    store
        .add_organization(&Organization {
            oin: info.oin.parse().unwrap(),
            name: info.name.clone(),
            sector: info.sector.parse().unwrap(),
            region: info.region.clone(),
            expertise: info.expertise.clone(),
            contact_point: info.contact_point.clone(),
            privacy_contact: info.privacy_contact.clone(),
            status: OrgStatus::Active,
            token_issuer: info.token_issuer.clone(),
        })
        .await
        .unwrap();
    for (usage, kid, public_key) in [
        (KeyUsage::Token, &info.token_key_id, token_pub),
        (KeyUsage::Signing, &info.signing_key_id, sig_pub),
        (
            KeyUsage::Encryption,
            &info.encryption_key_id,
            enc_pub.to_vec(),
        ),
    ] {
        store
            .add_key(&OrgKey {
                oin: info.oin.parse().unwrap(),
                usage,
                key_id: kid.clone(),
                public_key,
                created_at: 0,
                retired_at: None,
            })
            .await
            .unwrap();
    }
    TestOrg {
        info,
        cert_pem,
        key_pem,
        token_pkcs8,
        signing_pkcs8,
        enc_secret,
    }
}

/// A consent of the parents with gezag `gezag` of the `age`-year-old `bsn`, given by `givers`,
/// to the sectors `to` for `purpose` and `categories`, valid 180 days.
pub fn consent_request(
    bsn: &str,
    age: u32,
    gezag: &[&str],
    givers: &[&str],
    to: &[pb::Sector],
    purpose: &str,
    categories: &[&str],
) -> pb::RecordConsentRequest {
    pb::RecordConsentRequest {
        subject_bsn: bsn.into(),
        subject: Some(pb::SubjectFacts {
            age_years: Some(age),
            age_band: 0,
            gezag_holders: gezag.iter().map(|p| (*p).into()).collect(),
        }),
        givers: givers
            .iter()
            .map(|p| pb::ConsentGiver {
                person: (*p).into(),
                capacity: pb::GiverCapacity::GezagHolder as i32,
            })
            .collect(),
        recipients: to
            .iter()
            .map(|s| pb::ConsentRecipient {
                recipient: Some(pb::consent_recipient::Recipient::Sector(*s as i32)),
            })
            .collect(),
        purposes: vec![purpose.into()],
        categories: categories.iter().map(|c| (*c).into()).collect(),
        valid_until: Some(prost_types::Timestamp {
            seconds: now() + 180 * 86400,
            nanos: 0,
        }),
        evidence_reference: "sha256:form".into(),
        ..Default::default()
    }
}

/// [`TestHub::both_parents_consent`] recorded through `client` (a school): one consent per
/// parent with gezag, the two ids as the basis.
pub async fn both_parents_consent_via(client: &mut HubClient, bsn: &str) -> pb::Basis {
    both_parents_consent_to(
        client,
        bsn,
        pb::Sector::Wijkteam,
        "vroegtijdige_ondersteuning",
        &["zorgen_thuissituatie"],
    )
    .await
}

/// The consent of both parents with gezag of the 9-year-old `bsn`, recorded through `client`,
/// to sector `to` for `purpose` and `categories`: one consent per parent, the ids as the basis.
pub async fn both_parents_consent_to(
    client: &mut HubClient,
    bsn: &str,
    to: pb::Sector,
    purpose: &str,
    categories: &[&str],
) -> pb::Basis {
    let mut ids = Vec::new();
    for parent in ["ouder-1", "ouder-2"] {
        let req = consent_request(
            bsn,
            9,
            &["ouder-1", "ouder-2"],
            &[parent],
            &[to],
            purpose,
            categories,
        );
        ids.push(client.record_consent(req).await.unwrap().consent_id);
    }
    pb::Basis {
        legal: None,
        consent_ids: ids,
    }
}

/// A meldrecht basis with meldcode steps 1-4 done and the afwegingskader's "structural
/// unsafety", plus `evidence` (whether the client was told, ...).
pub fn meldrecht(evidence: pb::Evidence) -> pb::Basis {
    pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: "meldrecht".into(),
            evidence: Some(pb::Evidence {
                meldcode_steps_completed: vec![1, 2, 3, 4],
                afwegingskader: pb::Afwegingskader::StructureleOnveiligheid as i32,
                ..evidence
            }),
        }),
        consent_ids: vec![],
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl TestHub {
    /// Starts a hub on a fresh database of `backend` with the seven sample organisations.
    pub async fn start(backend: &'static str) -> TestHub {
        TestHub::start_with(backend, |db| db.to_owned(), "").await
    }

    /// Like [`TestHub::start`], but the hub's configuration names `database(fresh database)` as
    /// its database (e.g. the URL of a proxy in front of it) and ends with `extra_toml` (more
    /// tables, e.g. `[limits]`). The test's own handles (`store` aside) still reach the fresh
    /// database directly: see [`TestHub::direct_store`].
    pub async fn start_with(
        backend: &'static str,
        database: impl FnOnce(&str) -> String,
        extra_toml: &str,
    ) -> TestHub {
        TestHub::start_full(backend, database, extra_toml, None).await
    }

    /// Like [`TestHub::start`], under the convenant `convenant` (TOML text) instead of the
    /// sample convenant.
    pub async fn start_with_convenant(backend: &'static str, convenant: &str) -> TestHub {
        TestHub::start_full(backend, |db| db.to_owned(), "", Some(convenant)).await
    }

    async fn start_full(
        backend: &'static str,
        database: impl FnOnce(&str) -> String,
        extra_toml: &str,
        convenant: Option<&str>,
    ) -> TestHub {
        let _ = signaalhub_server::auth::tls::crypto_provider();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("SIGNAALHUB_LOG")
                    .unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().unwrap();
        let ca = DevCa::generate("test CA").unwrap();
        std::fs::write(dir.path().join("ca.pem"), &ca.cert_pem).unwrap();
        let (hub_cert, hub_key) = ca
            .issue(
                &Subject {
                    common_name: "hub".into(),
                    serial_numbers: vec![],
                },
                &["localhost"],
            )
            .unwrap();
        std::fs::write(dir.path().join("hub.pem"), hub_cert).unwrap();
        std::fs::write(dir.path().join("hub.key"), hub_key).unwrap();
        std::fs::write(dir.path().join("pseudonym.key"), hex_secret()).unwrap();
        let (ckpt, _) = devkit::ed25519_keypair().unwrap();
        std::fs::write(
            dir.path().join("ckpt.pem"),
            devkit::pem("PRIVATE KEY", &ckpt),
        )
        .unwrap();
        let db = testing::fresh(backend).await.unwrap();
        let convenant = match convenant {
            Some(text) => {
                std::fs::write(dir.path().join("convenant.toml"), text).unwrap();
                "convenant = \"convenant.toml\"\n"
            }
            None => "",
        };
        let toml = format!(
            r#"listen = "127.0.0.1:0"
database = {db:?}
allow_dev_material = true
{convenant}[tls]
cert = "hub.pem"
key = "hub.key"
client_ca = ["ca.pem"]
[pseudonym]
key_file = "pseudonym.key"
[directory]
refresh_ms = 200
[log]
checkpoint_key_file = "ckpt.pem"
checkpoint_key_id = "test-hub-1"
integrate_ms = 100
{extra_toml}"#,
            db = database(&db.database)
        );
        std::fs::write(dir.path().join("hub.toml"), toml).unwrap();
        let config = Config::load(&dir.path().join("hub.toml"), |_| None).unwrap();
        let audience = config.auth.audience.clone();

        let mut orgs = HashMap::new();
        for info in devkit::sample_orgs() {
            let org = register_org(&db.store, &ca, info).await;
            orgs.insert(org.info.sector.clone(), org);
        }

        let hub = signaalhub_server::Hub::build(config.clone()).await.unwrap();
        let store = hub.store().clone();
        let directory = Arc::clone(hub.directory());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(hub.serve(listener, async move {
            let _ = stopped.await;
        }));
        TestHub {
            addr,
            backend,
            ca,
            orgs,
            store,
            directory,
            audience,
            config,
            stop: Some(stop),
            task: Some(task),
            _db: db,
            _dir: dir,
        }
    }

    /// Adds an organisation of `sector` as `key` (e.g. `wijkteam-utrecht`), like the sample one of
    /// that sector but with `oin`, `region` and its own keys and certificate, and waits until the
    /// hub's directory knows it. `client(key)` then acts as its professional.
    pub async fn add_org(&mut self, key: &str, sector: &str, oin: &str, region: &str) {
        let mut info = self.org(sector).info.clone();
        info.oin = oin.into();
        info.region = region.into();
        info.name = format!("{} ({region})", info.name);
        info.token_issuer = format!("https://idp.{key}.example");
        info.professional = format!("dev-{key}");
        let org = register_org(&self._db.store, &self.ca, info).await;
        self.orgs.insert(key.into(), org);
        let oin: Oin = oin.parse().unwrap();
        for _ in 0..100 {
            // Organisation and keys are separate writes: wait for both.
            if self
                .directory
                .snapshot()
                .orgs
                .get(&oin)
                .is_some_and(|e| e.envelope_keys.len() == 2 && !e.token_keys.is_empty())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the directory did not pick up {key}");
    }

    /// The fresh database itself, not through the hub's configured URL (which may be a proxy).
    pub fn direct_store(&self) -> &Store {
        &self._db.store
    }

    pub fn org(&self, sector: &str) -> &TestOrg {
        &self.orgs[sector]
    }

    /// The usual claims for `sector`'s dev professional, valid an hour.
    pub fn claims(&self, sector: &str) -> serde_json::Value {
        devkit::dev_claims(&self.org(sector).info, &self.audience, 3600)
    }

    /// A token signed with `sector`'s registered token key.
    pub fn token(&self, sector: &str, claims: &serde_json::Value) -> String {
        let o = self.org(sector);
        devkit::mint_token(&o.token_pkcs8, &o.info.token_key_id, claims).unwrap()
    }

    /// Connection options: `identity` as a (cert, key) pair, or none.
    pub fn options(
        &self,
        identity: Option<(String, String)>,
        token: Option<String>,
    ) -> ConnectOptions {
        ConnectOptions {
            endpoint: format!("https://{}", self.addr),
            ca_pem: self.ca.cert_pem.clone().into_bytes(),
            identity: identity.map(|(c, k)| (c.into_bytes(), k.into_bytes())),
            domain: Some("localhost".into()),
            token: token.map(TokenSource::Static).unwrap_or(TokenSource::None),
            connect_timeout: Duration::from_secs(5),
        }
    }

    /// A client acting as `sector`'s dev professional.
    pub async fn client(&self, sector: &str) -> HubClient {
        let o = self.org(sector);
        let token = self.token(sector, &self.claims(sector));
        HubClient::connect(self.options(Some((o.cert_pem.clone(), o.key_pem.clone())), Some(token)))
            .await
            .unwrap()
    }

    /// A client with `sector`'s certificate and the given token.
    pub async fn client_with_token(&self, sector: &str, token: String) -> HubClient {
        let o = self.org(sector);
        HubClient::connect(self.options(Some((o.cert_pem.clone(), o.key_pem.clone())), Some(token)))
            .await
            .unwrap()
    }

    /// Both holders of gezag (`ouder-1`, `ouder-2`) of the nine-year-old `bsn` consent to the
    /// school telling the wijkteam (`vroegtijdige_ondersteuning`, `zorgen_thuissituatie`, 180
    /// days), one consent per parent: the consent basis most signal tests send on.
    pub async fn both_parents_consent(
        &self,
        bsn: &str,
    ) -> signaalhub_client::signaalhub_proto::pb::Basis {
        both_parents_consent_via(&mut self.client("school").await, bsn).await
    }

    /// Seals `payload` from `from` to `to` (fetching `to`'s current key through the hub) and
    /// builds a SendSignalRequest.
    #[allow(clippy::too_many_arguments)]
    pub async fn signal(
        &self,
        from: &str,
        to: &[&str],
        signal_id: &str,
        payload: &[u8],
        purpose: &str,
        categories: &[&str],
        subject_bsn: &str,
        basis: signaalhub_client::signaalhub_proto::pb::Basis,
    ) -> signaalhub_client::signaalhub_proto::pb::SendSignalRequest {
        use signaalhub_client::envelope;
        use signaalhub_client::signaalhub_proto::pb;
        let o = self.org(from);
        let sender = envelope::SenderKeys::from_pkcs8_der(
            &o.info.oin,
            &o.info.signing_key_id,
            &o.signing_pkcs8,
        )
        .unwrap();
        let mut c = self.client(from).await;
        let mut recipients = Vec::new();
        for t in to {
            let r = c.get_organization(&self.org(t).info.oin).await.unwrap();
            let k = r
                .encryption_keys
                .iter()
                .find(|k| k.retired_at.is_none())
                .unwrap();
            recipients.push(
                envelope::RecipientKey::from_directory(self.org(t).info.oin.clone(), k).unwrap(),
            );
        }
        let categories: Vec<String> = categories.iter().map(|s| s.to_string()).collect();
        let binding = pb::EnvelopeBinding {
            signal_id: signal_id.into(),
            purpose: purpose.into(),
            categories: categories.clone(),
            basis_reference: signaalhub_client::signaalhub_proto::basis_reference(&basis),
            created_at_unix: now(),
            content_digest: Vec::new(), // seal sets it
        };
        let env = envelope::seal(payload, binding, &sender, &recipients).unwrap();
        pb::SendSignalRequest {
            signal_id: signal_id.into(),
            envelope: Some(env),
            recipient_oins: to.iter().map(|t| self.org(t).info.oin.clone()).collect(),
            subject_bsns: vec![subject_bsn.into()],
            purpose: purpose.into(),
            categories,
            urgency: pb::Urgency::Normal as i32,
            basis: Some(basis),
            ..Default::default()
        }
    }

    /// The GP's meldcode report about a 4-year-old `bsn` (one holder of gezag) to Veilig Thuis,
    /// signal `id`, on `basis`.
    pub async fn gp_report(
        &self,
        id: &str,
        bsn: &str,
        basis: signaalhub_client::signaalhub_proto::pb::Basis,
    ) -> signaalhub_client::signaalhub_proto::pb::SendSignalRequest {
        let mut req = self
            .signal(
                "huisarts",
                &["veilig_thuis"],
                id,
                b"letsel past niet bij verhaal",
                "melding_veilig_thuis",
                &["gezondheid"],
                bsn,
                basis,
            )
            .await;
        req.subject = Some(signaalhub_client::signaalhub_proto::pb::SubjectFacts {
            age_years: Some(4),
            age_band: 0,
            gezag_holders: vec!["ouder-1".into()],
        });
        req
    }

    /// The secrets `sector` opens envelopes with.
    pub fn secrets(&self, sector: &str) -> signaalhub_client::envelope::RecipientSecrets {
        let o = self.org(sector);
        let mut s = signaalhub_client::envelope::RecipientSecrets::new(o.info.oin.clone());
        s.add_key(o.info.encryption_key_id.clone(), o.enc_secret);
        s
    }

    /// Stops the hub, then starts it again on the same database and address... a new port.
    pub async fn restart(mut self) -> TestHub {
        self.halt().await;
        let hub = signaalhub_server::Hub::build(self.config.clone())
            .await
            .unwrap();
        self.store = hub.store().clone();
        self.directory = Arc::clone(hub.directory());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        self.task = Some(tokio::spawn(hub.serve(listener, async move {
            let _ = stopped.await;
        })));
        self.stop = Some(stop);
        self
    }

    /// Starts a second hub instance on the same database (as behind a load balancer); returns
    /// its address and a sender that stops it.
    pub async fn second_instance(&self) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let hub = signaalhub_server::Hub::build(self.config.clone())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(hub.serve(listener, async move {
            let _ = stopped.await;
        }));
        (addr, stop)
    }

    /// A client acting as `sector`'s dev professional, on the instance at `addr`.
    pub async fn client_at(&self, sector: &str, addr: SocketAddr) -> HubClient {
        let o = self.org(sector);
        let token = self.token(sector, &self.claims(sector));
        let mut opts = self.options(Some((o.cert_pem.clone(), o.key_pem.clone())), Some(token));
        opts.endpoint = format!("https://{addr}");
        HubClient::connect(opts).await.unwrap()
    }

    /// Runs raw SQL on the hub's database (tests that tamper with it).
    pub async fn sql(&self, sql: &str) -> u64 {
        match &self.store {
            Store::Sqlite { write, .. } => sqlx::query(sql)
                .execute(write)
                .await
                .unwrap()
                .rows_affected(),
            Store::Postgres(p) => sqlx::query(sql).execute(p).await.unwrap().rows_affected(),
        }
    }

    async fn halt(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }

    /// Stops the hub and waits for it to drain.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }
}

fn hex_secret() -> String {
    let mut s = String::new();
    for i in 0..32u8 {
        s.push_str(&format!("{:02x}", i.wrapping_mul(37).wrapping_add(11)));
    }
    s
}

/// A client certificate whose subject carries two serialNumber attributes: issued with the
/// second value under organizationIdentifier, rewritten to serialNumber, and re-signed by the CA
/// so that it still chains correctly.
pub fn cert_with_two_oins(ca: &DevCa, oin: &str) -> (String, String) {
    let (cert_pem, key_pem) = ca
        .issue(
            &Subject {
                common_name: "two".into(),
                serial_numbers: vec![oin.into(), oin.into()],
            },
            &[],
        )
        .unwrap();
    let der = rustls_pem_cert(&cert_pem);
    // Certificate ::= SEQUENCE { tbs, sigAlg, sig }.
    let (_, outer_body) = der_element(&der);
    let (tbs_len, _) = der_element(outer_body);
    let mut tbs = outer_body[..tbs_len].to_vec();
    let rest = &outer_body[tbs_len..];
    let (alg_len, _) = der_element(rest);
    let sig_alg = &rest[..alg_len];
    let from = [0x06, 0x03, 0x55, 0x04, 0x61];
    let to = [0x06, 0x03, 0x55, 0x04, 0x05];
    let pos = tbs
        .windows(5)
        .position(|w| w == from)
        .expect("organizationIdentifier in subject");
    tbs[pos..pos + 5].copy_from_slice(&to);
    let ca_key = rustls_pem_key(&ca.key_pem);
    let rng = ring::rand::SystemRandom::new();
    let kp = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &ca_key,
        &rng,
    )
    .unwrap();
    let sig = kp.sign(&rng, &tbs).unwrap();
    let mut bits = vec![0u8];
    bits.extend_from_slice(sig.as_ref());
    let mut body = tbs;
    body.extend_from_slice(sig_alg);
    body.extend(der_wrap(0x03, &bits));
    let cert = der_wrap(0x30, &body);
    (
        signaalhub_server::devkit::pem("CERTIFICATE", &cert),
        key_pem,
    )
}

fn rustls_pem_cert(pem: &str) -> Vec<u8> {
    signaalhub_server::auth::tls::parse_certs(pem.as_bytes(), "test").unwrap()[0].to_vec()
}

fn rustls_pem_key(pem: &str) -> Vec<u8> {
    match signaalhub_server::auth::tls::parse_key(pem.as_bytes(), "test").unwrap() {
        rustls::pki_types::PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
        _ => panic!("expected PKCS#8"),
    }
}

/// (total length of the first element, its content).
fn der_element(b: &[u8]) -> (usize, &[u8]) {
    let (len, hdr) = if b[1] < 0x80 {
        (b[1] as usize, 2)
    } else {
        let n = (b[1] & 0x7f) as usize;
        let mut l = 0usize;
        for i in 0..n {
            l = (l << 8) | b[2 + i] as usize;
        }
        (l, 2 + n)
    };
    (hdr + len, &b[hdr..hdr + len])
}

fn der_wrap(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// Another hub instance on the same database, with its configuration changed by `tweak`.
pub struct Instance {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), signaalhub_server::StartError>>>,
}

impl Instance {
    /// Stops the instance and waits for it to drain.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }
}

impl TestHub {
    /// Starts another instance on this hub's database with `tweak` applied to its configuration
    /// (limits, metrics, retention...).
    pub async fn instance_with(&self, tweak: impl FnOnce(&mut Config)) -> Instance {
        let mut config = self.config.clone();
        tweak(&mut config);
        let hub = signaalhub_server::Hub::build(config).await.unwrap();
        let metrics_addr = hub.metrics_addr();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(hub.serve(listener, async move {
            let _ = stopped.await;
        }));
        Instance {
            addr,
            metrics_addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Reads one number with SQL on the hub's database.
    pub async fn sql_count(&self, sql: &str) -> i64 {
        match &self.store {
            Store::Sqlite { write, .. } => sqlx::query_scalar(sql).fetch_one(write).await.unwrap(),
            Store::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        }
    }
}

/// Every byte the hub's database holds, as text: the SQLite file and its write-ahead log, or
/// every row of every PostgreSQL table (bytea decoded too). For "nothing in the clear" scans.
pub async fn database_text(hub: &TestHub) -> String {
    match &hub.store {
        Store::Sqlite { .. } => {
            let path = hub.config.database_target();
            let mut bytes = std::fs::read(&path).unwrap();
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                bytes.extend(wal);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Store::Postgres(p) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(p)
            .await
            .unwrap();
            let mut all = String::new();
            for t in tables {
                let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {t} t"))
                    .fetch_all(p)
                    .await
                    .unwrap();
                for r in rows {
                    all.push_str(&r);
                    for part in r.split("\\x") {
                        let hexpart: String =
                            part.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
                        if let Ok(bytes) = hex::decode(&hexpart[..hexpart.len() / 2 * 2]) {
                            all.push_str(&String::from_utf8_lossy(&bytes));
                        }
                    }
                }
            }
            all
        }
    }
}

/// Seals signals from one organisation to another without a round trip per signal: the
/// recipient's key is fetched once. For load in the fault and race suites.
pub struct Sealer {
    sender: signaalhub_client::envelope::SenderKeys,
    recipient: signaalhub_client::envelope::RecipientKey,
    recipient_oin: String,
    purpose: String,
    categories: Vec<String>,
}

impl TestHub {
    /// A [`Sealer`] from `from` to `to` for `purpose` and `categories`.
    pub async fn sealer(&self, from: &str, to: &str, purpose: &str, categories: &[&str]) -> Sealer {
        let o = self.org(from);
        let sender = signaalhub_client::envelope::SenderKeys::from_pkcs8_der(
            &o.info.oin,
            &o.info.signing_key_id,
            &o.signing_pkcs8,
        )
        .unwrap();
        let to_oin = self.org(to).info.oin.clone();
        let org = self
            .client(from)
            .await
            .get_organization(&to_oin)
            .await
            .unwrap();
        let key = org
            .encryption_keys
            .iter()
            .find(|k| k.retired_at.is_none())
            .unwrap();
        Sealer {
            sender,
            recipient: signaalhub_client::envelope::RecipientKey::from_directory(
                to_oin.clone(),
                key,
            )
            .unwrap(),
            recipient_oin: to_oin,
            purpose: purpose.into(),
            categories: categories.iter().map(|c| c.to_string()).collect(),
        }
    }
}

impl Sealer {
    /// A SendSignalRequest for `signal_id` about `subject_bsn` on `basis`, carrying `payload`.
    pub fn request(
        &self,
        signal_id: &str,
        subject_bsn: &str,
        basis: &signaalhub_client::signaalhub_proto::pb::Basis,
        payload: &[u8],
    ) -> signaalhub_client::signaalhub_proto::pb::SendSignalRequest {
        use signaalhub_client::signaalhub_proto::pb;
        let binding = pb::EnvelopeBinding {
            signal_id: signal_id.into(),
            purpose: self.purpose.clone(),
            categories: self.categories.clone(),
            basis_reference: signaalhub_client::signaalhub_proto::basis_reference(basis),
            created_at_unix: now(),
            content_digest: Vec::new(), // seal sets it
        };
        let env = signaalhub_client::envelope::seal(
            payload,
            binding,
            &self.sender,
            std::slice::from_ref(&self.recipient),
        )
        .unwrap();
        pb::SendSignalRequest {
            signal_id: signal_id.into(),
            envelope: Some(env),
            recipient_oins: vec![self.recipient_oin.clone()],
            subject_bsns: vec![subject_bsn.into()],
            purpose: self.purpose.clone(),
            categories: self.categories.clone(),
            urgency: pb::Urgency::Normal as i32,
            basis: Some(basis.clone()),
            ..Default::default()
        }
    }
}

/// Every log entry of the hub's database, parsed, with its index (in commit order).
pub async fn log_entries(store: &Store) -> Vec<(u64, signaalhub_server::ledger::LogEntry)> {
    let size = store.log_size().await.unwrap();
    store
        .log_range(0, size)
        .await
        .unwrap()
        .into_iter()
        .map(|(i, b)| {
            (
                i,
                signaalhub_server::ledger::LogEntry::from_bytes(&b).expect("every entry parses"),
            )
        })
        .collect()
}

/// Counts panics anywhere in this test process (hub tasks included): a panic inside a spawned
/// task does not fail the test by itself, so fault tests assert this stays 0.
pub fn panic_counter() -> &'static std::sync::atomic::AtomicUsize {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            previous(info);
        }));
    });
    &COUNT
}

/// The (field, description) pairs of an INVALID_ARGUMENT answer.
pub fn violations(e: signaalhub_client::ClientError) -> Vec<(String, String)> {
    let signaalhub_client::ClientError::Status(s) = e else {
        panic!("{e:?}")
    };
    assert_eq!(s.code(), tonic::Code::InvalidArgument, "{s:?}");
    use tonic_types::StatusExt;
    s.get_error_details()
        .bad_request()
        .expect("bad request details")
        .field_violations
        .iter()
        .map(|v| (v.field.clone(), v.description.clone()))
        .collect()
}
