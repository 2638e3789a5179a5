//! A hub from a fresh dev kit (in-process, SQLite) with gateways for some of its sample
//! organisations, and a minimal browser: cookies by hand, no redirects followed.
#![allow(dead_code, clippy::unwrap_used)]

use signaalhub_client::signaalhub_proto::pb;
use signaalhub_gateway::app::App;
use signaalhub_gateway::config::GatewayConfig;
use signaalhub_server::config::Config;
use signaalhub_server::devkit;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A running gateway.
pub struct RunningConsole {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The gateway itself (its store, for assertions).
    pub app: Arc<App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    serving: Option<tokio::task::JoinHandle<Result<(), std::io::Error>>>,
    store: PathBuf,
}

impl RunningConsole {
    /// The gateway's SQLite files (main, WAL).
    pub fn store_files(&self) -> Vec<PathBuf> {
        let mut out = vec![self.store.clone()];
        for ext in ["-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{ext}", self.store.display()));
            if p.exists() {
                out.push(p);
            }
        }
        out
    }
}

/// A hub with gateways.
pub struct Kit {
    /// Holds the dev kit.
    pub dir: tempfile::TempDir,
    /// The gateways, in the order asked.
    pub consoles: Vec<RunningConsole>,
    /// `https://localhost:PORT`.
    pub hub_endpoint: String,
    hub_stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Kit {
    /// A sample organisation's OIN.
    pub fn oin(&self, sector: &str) -> String {
        let text = std::fs::read_to_string(
            self.dir
                .path()
                .join("dev-kit/orgs")
                .join(sector)
                .join("org.toml"),
        )
        .unwrap();
        let v: toml::Value = toml::from_str(&text).unwrap();
        v["oin"].as_str().unwrap().to_owned()
    }

    /// A client-lib connection as a sample organisation's dev professional (or, with
    /// `token_file` = `fg-token.jwt`, its FG), for what a test does outside the consoles.
    pub async fn sdk(&self, sector: &str) -> signaalhub_client::HubClient {
        let opts = signaalhub_client::ConnectOptions {
            endpoint: self.hub_endpoint.clone(),
            ..signaalhub_client::ConnectOptions::from_dev_kit(
                &self.dir.path().join("dev-kit"),
                sector,
            )
            .unwrap()
        };
        signaalhub_client::HubClient::connect(opts).await.unwrap()
    }

    /// A sample organisation's signing keys (to seal what it sends outside a console).
    pub fn sender_keys(&self, sector: &str) -> signaalhub_client::envelope::SenderKeys {
        let odir = self.dir.path().join("dev-kit/orgs").join(sector);
        let org: toml::Value =
            toml::from_str(&std::fs::read_to_string(odir.join("org.toml")).unwrap()).unwrap();
        signaalhub_client::envelope::SenderKeys::from_pem(
            self.oin(sector),
            org["signing_key_id"].as_str().unwrap(),
            &std::fs::read_to_string(odir.join("signing-key.pem")).unwrap(),
        )
        .unwrap()
    }

    /// Both parents' consent (ouder-1, ouder-2, of a child of 9) recorded by the wijkteam for 180
    /// days: to the organisations of `recipients` for purpose casusafstemming, presentable by
    /// those of `disclosers` (none: the wijkteam only). Returns its id.
    pub async fn parents_consent(
        &self,
        bsn: &str,
        recipients: &[pb::Sector],
        disclosers: &[pb::Sector],
        categories: &[&str],
    ) -> String {
        let parents = ["ouder-1".to_owned(), "ouder-2".to_owned()];
        let sectors = |list: &[pb::Sector]| {
            list.iter()
                .map(|s| pb::ConsentRecipient {
                    recipient: Some(pb::consent_recipient::Recipient::Sector(*s as i32)),
                })
                .collect()
        };
        self.sdk("wijkteam")
            .await
            .record_consent(pb::RecordConsentRequest {
                subject_bsn: bsn.into(),
                subject: Some(pb::SubjectFacts {
                    age_years: Some(9),
                    age_band: 0,
                    gezag_holders: parents.to_vec(),
                }),
                givers: parents
                    .iter()
                    .map(|p| pb::ConsentGiver {
                        person: p.clone(),
                        capacity: pb::GiverCapacity::GezagHolder as i32,
                    })
                    .collect(),
                recipients: sectors(recipients),
                disclosers: sectors(disclosers),
                purposes: vec!["casusafstemming".into()],
                categories: categories.iter().map(|c| (*c).to_owned()).collect(),
                valid_until: Some(prost_types::Timestamp {
                    seconds: signaalhub_gateway::store::now_unix() + 180 * 86400,
                    nanos: 0,
                }),
                evidence_reference: "sha256:form".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .consent_id
    }

    /// The police's system submits `fragments` (id, kind, category, text) of incident `reg` about
    /// `bsn` to the kit's Veilig Thuis, each sealed to it; returns the police's connection.
    pub async fn police_zorgmelding(
        &self,
        reg: &str,
        bsn: &str,
        fragments: &[(&str, pb::FragmentKind, &str, &str)],
    ) -> signaalhub_client::HubClient {
        let vt = self.oin("veilig_thuis");
        let mut politie = self.sdk("politie").await;
        let keys = signaalhub_client::sealed::current_encryption_keys(&mut politie, &vt)
            .await
            .unwrap();
        let sender = self.sender_keys("politie");
        let basis = pb::Basis {
            legal: Some(pb::LegalBasis {
                basis: "wpg_zorgmelding".into(),
                evidence: Some(pb::Evidence {
                    registration_number: reg.into(),
                    ..Default::default()
                }),
            }),
            consent_ids: vec![],
        };
        for (id, kind, category, text) in fragments {
            let categories = vec![(*category).to_owned()];
            let binding = pb::EnvelopeBinding {
                signal_id: (*id).into(),
                purpose: "zorgmelding_politie".into(),
                categories: categories.clone(),
                basis_reference: signaalhub_client::signaalhub_proto::basis_reference(&basis),
                created_at_unix: signaalhub_gateway::store::now_unix(),
                content_digest: Vec::new(),
            };
            let env = signaalhub_client::envelope::seal(text.as_bytes(), binding, &sender, &keys)
                .unwrap();
            politie
                .submit_fragment(pb::SubmitFragmentRequest {
                    registration_number: reg.into(),
                    fragment_id: (*id).into(),
                    kind: *kind as i32,
                    recipient_oin: vt.clone(),
                    subject_bsns: vec![bsn.into()],
                    categories,
                    basis: Some(basis.clone()),
                    envelope: Some(env),
                    acting_role: String::new(),
                })
                .await
                .unwrap();
        }
        politie
    }

    /// `sector` reports to Veilig Thuis under the meldcode (its own system, through the SDK), as
    /// signal `id` about `bsn`.
    pub async fn meldcode_signal(&self, sector: &str, id: &str, bsn: &str) {
        use signaalhub_client::sealed::{Outgoing, send_sealed};
        let mut sdk = self.sdk(sector).await;
        let out = Outgoing {
            signal_id: id.into(),
            recipient_oins: vec![self.oin("veilig_thuis")],
            subject_bsn: bsn.into(),
            subject: pb::SubjectFacts {
                age_years: Some(9),
                age_band: 0,
                gezag_holders: vec!["ouder-1".into()],
            },
            purpose: "melding_veilig_thuis".into(),
            categories: vec!["zorgen_thuissituatie".into()],
            urgency: pb::Urgency::Normal,
            basis: pb::Basis {
                legal: Some(pb::LegalBasis {
                    basis: "meldrecht".into(),
                    evidence: Some(pb::Evidence {
                        meldcode_steps_completed: vec![1, 2, 3, 4],
                        afwegingskader: pb::Afwegingskader::StructureleOnveiligheid as i32,
                        client_informed: Some(true),
                        ..Default::default()
                    }),
                }),
                consent_ids: vec![],
            },
            acting_role: String::new(),
        };
        send_sealed(
            &mut sdk,
            &self.sender_keys(sector),
            out,
            b"Jayden vertelt over ruzie thuis.",
        )
        .await
        .unwrap();
    }

    /// Serves one more gateway (configured by the test).
    pub async fn add_console(&mut self, app: Arc<App>) {
        let store = app.config.store.path.clone();
        self.consoles.push(serve_console(app, store).await);
    }

    /// Stops one gateway and waits until it has stopped (its inbox fetcher is aborted when
    /// serving ends); the hub keeps running.
    pub async fn stop_console(&mut self, i: usize) {
        if let Some(s) = self.consoles[i].stop.take() {
            let _ = s.send(());
        }
        if let Some(serving) = self.consoles[i].serving.take() {
            let _ = serving.await;
        }
    }

    /// Stops the gateways and the hub.
    pub async fn stop(mut self) {
        for c in &mut self.consoles {
            if let Some(s) = c.stop.take() {
                let _ = s.send(());
            }
        }
        if let Some(s) = self.hub_stop.take() {
            let _ = s.send(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Generates a dev kit, serves the hub on a free port, and a gateway per sector on free ports.
pub async fn start_kit(sectors: &[&str]) -> Kit {
    start_kit_with(sectors, |_, _| {}).await
}

/// As [`start_kit`], with each gateway's configuration changed by `configure(sector, config)`
/// before it starts.
pub async fn start_kit_with(sectors: &[&str], configure: impl Fn(&str, &mut GatewayConfig)) -> Kit {
    let dir = tempfile::tempdir().unwrap();
    let kit = dir.path().join("dev-kit");
    devkit::init(&kit, true).await.unwrap();
    let _ = signaalhub_server::auth::tls::crypto_provider();
    let config = Config::load(&kit.join("hub.toml"), |_| None).unwrap();
    let hub = signaalhub_server::Hub::build(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (hub_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(hub.serve(listener, async move {
        let _ = stopped.await;
    }));
    let endpoint = format!("https://localhost:{port}");
    let mut consoles = Vec::new();
    for sector in sectors {
        let listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let mut config = GatewayConfig::dev_kit(&kit, sector, listen, &endpoint).unwrap();
        configure(sector, &mut config);
        let store = config.store.path.clone();
        let app = App::start(config, Duration::from_secs(10)).await.unwrap();
        consoles.push(serve_console(app, store).await);
    }
    Kit {
        dir,
        consoles,
        hub_endpoint: endpoint,
        hub_stop: Some(hub_stop),
    }
}

async fn serve_console(app: Arc<App>, store: PathBuf) -> RunningConsole {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(signaalhub_gateway::serve(app.clone(), tx, async move {
        let _ = stopped.await;
    }));
    let addr = rx.await.unwrap();
    RunningConsole {
        base: format!("http://{addr}"),
        app,
        stop: Some(stop),
        serving: Some(serving),
        store,
    }
}

/// An HTTP client that follows no redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A response's body as text.
pub async fn body_of(r: reqwest::Response) -> String {
    r.text().await.unwrap()
}

/// The value of the first `<input name="NAME" value="...">` on a page.
pub fn field_value(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\"");
    page.split("<input")
        .find(|t| t.contains(&marker))
        .and_then(|t| t.split("value=\"").nth(1))
        .and_then(|t| t.split('"').next())
        .unwrap_or_else(|| panic!("no field {name} on the page"))
        .to_owned()
}

/// A logged-in browser of one console.
pub struct Console {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// `name=value` of the session cookie.
    pub cookie: String,
    /// The Set-Cookie attributes.
    pub cookie_attributes: String,
    http: reqwest::Client,
}

impl Console {
    /// Logs in as the kit's dev professional of that gateway.
    pub async fn login(c: &RunningConsole) -> Console {
        let user = c.app.config.login.dev_users[0].id.clone();
        Console::login_as(c, &user).await
    }

    /// Logs in as one of the gateway's dev users.
    pub async fn login_as(c: &RunningConsole, user: &str) -> Console {
        let http = client();
        let r = http
            .post(format!("{}/login/dev", c.base))
            .header("origin", &c.base)
            .form(&[("user", user)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "login");
        let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        let (cookie, attributes) = set.split_once(';').unwrap();
        Console {
            base: c.base.clone(),
            cookie: cookie.to_owned(),
            cookie_attributes: attributes.to_owned(),
            http,
        }
    }

    /// GET a page (200 expected).
    pub async fn get(&self, path: &str) -> String {
        let (status, body) = self.get_status(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// GET a page; the status and body.
    pub async fn get_status(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), body_of(r).await)
    }

    /// POST a form from the console's own page; the status and body.
    pub async fn post(&self, path: &str, form: &[(String, String)]) -> (u16, String) {
        let r = self.post_raw(path, form).await;
        (r.status().as_u16(), body_of(r).await)
    }

    /// POST a form; the raw response.
    pub async fn post_raw(&self, path: &str, form: &[(String, String)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("origin", &self.base)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// POST a form; the status and the Location header.
    pub async fn post_redirect(&self, path: &str, form: &[(String, String)]) -> (u16, String) {
        let r = self.post_raw(path, form).await;
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if status != 303 {
            panic!("POST {path}: {status}: {}", body_of(r).await);
        }
        (status, location)
    }

    /// GETs `path` until it contains `needle` (at most 20 s).
    pub async fn wait_for(&self, path: &str, needle: &str) -> String {
        for _ in 0..200 {
            let page = self.get(path).await;
            if page.contains(needle) {
                return page;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{path} never showed {needle}");
    }
}
pub mod provider;
