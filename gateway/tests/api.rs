//! The local API end to end, as the organisation's own systems call it: a hub from a fresh dev
//! kit, the school's and the wijkteam's gateways with `[api]`, and a real OpenID Connect provider
//! (panva's `oidc-provider`, tests/oidc-provider/provider.mjs `--api`) issuing access tokens with
//! the client-credentials grant. The school's administration system sends a signal to the
//! wijkteam (refused while a parent's consent is missing, then allowed); the wijkteam's
//! registration system opens and acknowledges it. Then the attacks: no token, a tampered or
//! self-signed token, an expired one, one for another audience, a role that may not send, a BSN
//! in an id field, an oversized body.
//!
//! Needs `node` (18+) and `npm` like tests/oidc_login.rs: without them it prints
//! `api: SKIPPED: ..` and passes, except under `CI=true`, where it fails.
#![allow(clippy::unwrap_used)]

mod common;

use common::provider::{
    API_CLIENTS, CLIENT_ID, CLIENT_SECRET, Provider, api_client_secret, ensure_provider_installed,
    in_ci, say,
};
use common::{Kit, start_kit_with};
use serde_json::{Value, json};
use signaalhub_gateway::api::auth::AuthError;
use signaalhub_gateway::config::{ApiSection, OidcSection};
use std::collections::BTreeMap;
use std::time::Duration;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const BSN: &str = "111222333";
const TEXT: &str = "Leerling komt al weken zonder ontbijt en met blauwe plekken op school.";

fn audience(sector: &str) -> String {
    format!("https://{sector}.gateway.test/api")
}

/// The gateway's configuration: the console's login at the provider, and the API checking the
/// provider's access tokens (issuer taken from the login), scopes mapped to convenant roles.
fn configure(issuer: &str, sector: &str, c: &mut signaalhub_gateway::config::GatewayConfig) {
    let mut login_roles = BTreeMap::new();
    login_roles.insert("intern_begeleider".to_owned(), vec!["ib_er".to_owned()]);
    c.login.oidc = Some(OidcSection {
        issuer: issuer.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: Some(CLIENT_SECRET.to_owned()),
        roles_claim: "roles".to_owned(),
        professional_claim: "sub".to_owned(),
        roles: login_roles,
        scopes: vec!["profile".to_owned()],
    });
    let mut roles = BTreeMap::new();
    roles.insert("signaal:ib".to_owned(), vec!["ib_er".to_owned()]);
    roles.insert("signaal:fg".to_owned(), vec!["fg".to_owned()]);
    roles.insert("signaal:wijkcoach".to_owned(), vec!["wijkcoach".to_owned()]);
    c.api = Some(ApiSection {
        audience: audience(sector),
        issuer: None,
        client_claim: "client_id".to_owned(),
        roles_claim: "scope".to_owned(),
        roles,
        leeway_secs: 30,
        dev_key: None,
    });
}

/// A system's access token from the provider (client credentials), for `resource`.
async fn token(issuer: &str, client: &str, resource: &str) -> Result<String, String> {
    let scope = API_CLIENTS
        .iter()
        .find(|(c, _)| *c == client)
        .map(|(_, s)| *s)
        .ok_or("unknown client")?;
    let r = common::client()
        .post(format!("{issuer}/token"))
        .basic_auth(client, Some(api_client_secret(client)))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            ("resource", resource),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let body: Value = serde_json::from_str(&r.text().await.map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no access token: {body}"))
}

/// An API caller of one gateway.
struct Api {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

/// An answer: status, content type, body as JSON (Null when not JSON) and as text.
struct Answer {
    status: u16,
    content_type: String,
    json: Value,
    text: String,
    headers: reqwest::header::HeaderMap,
}

impl Api {
    fn new(base: &str, token: Option<String>) -> Api {
        Api {
            base: base.to_owned(),
            token,
            http: common::client(),
        }
    }

    async fn send(&self, r: reqwest::RequestBuilder) -> Answer {
        let r = match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        };
        let res = r.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = res.text().await.unwrap();
        Answer {
            status,
            content_type,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
            headers,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(format!("{}/api/v1{path}", self.base)))
            .await
    }

    async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(
            self.http
                .post(format!("{}/api/v1{path}", self.base))
                .header("content-type", "application/json")
                .body(serde_json::to_vec(body).unwrap()),
        )
        .await
    }
}

fn signal(wijkteam: &str, consents: &[&str], extra: Value) -> Value {
    let mut v = json!({
        "bsn": BSN,
        "age": 9,
        "gezag": ["ouder-1", "ouder-2"],
        "recipient": wijkteam,
        "purpose": "vroegtijdige_ondersteuning",
        "categories": ["zorgen_thuissituatie"],
        "consents": consents,
    });
    if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
        m.extend(e);
    }
    v
}

fn consent(wijkteam: &str, giver: &str) -> Value {
    json!({
        "bsn": BSN,
        "age": 9,
        "gezag": ["ouder-1", "ouder-2"],
        "recipient": wijkteam,
        "purpose": "vroegtijdige_ondersteuning",
        "categories": ["zorgen_thuissituatie"],
        "givers": [giver],
        "months": 6,
        "evidence": "formulier-2026-118",
    })
}

/// A problem answer: the status, `application/problem+json`, and the RFC 9457 members.
fn assert_problem(a: &Answer, status: u16, kind: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert!(
        a.content_type.starts_with("application/problem+json"),
        "{}: {}",
        a.content_type,
        a.text
    );
    assert_eq!(
        a.json["type"],
        format!("urn:signaalhub:problem:{kind}"),
        "{}",
        a.text
    );
    assert_eq!(a.json["status"], status);
    assert!(a.json["title"].is_string() && a.json["detail"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api() -> TestResult {
    if let Err(reason) = ensure_provider_installed() {
        if in_ci() {
            return Err(format!("api: cannot run in CI (CI=true): {reason}").into());
        }
        say(&format!("api: SKIPPED: {reason}"));
        return Ok(());
    }
    let provider = Provider::start_with("http://127.0.0.1:9/login/oidc/callback", true)?;
    let issuer = provider.issuer.clone();
    let mut kit = start_kit_with(&["school", "wijkteam"], |sector, c| {
        configure(&issuer, sector, c)
    })
    .await;
    let outcome = async {
        school_sends_and_wijkteam_opens(&kit, &issuer).await?;
        attacks(&kit, &issuer).await?;
        recall_while_undelivered(&mut kit, &issuer).await
    }
    .await;
    if let Err(e) = &outcome {
        say(&format!(
            "api: FAILED: {e}\nthe provider's stderr:\n{}",
            provider.log()
        ));
    }
    kit.stop().await;
    outcome
}

async fn school_sends_and_wijkteam_opens(kit: &Kit, issuer: &str) -> TestResult {
    let wijkteam_oin = kit.oin("wijkteam");
    let school_oin = kit.oin("school");
    let school_base = &kit.consoles[0].base;
    let wijkteam_base = &kit.consoles[1].base;
    let sis = Api::new(
        school_base,
        Some(token(issuer, "leerlingadministratie", &audience("school")).await?),
    );

    // The document is served without a token.
    let doc = Api::new(school_base, None).get("/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.json["openapi"], "3.1.0");

    // Who the gateway takes the system for.
    let me = sis.get("/whoami").await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json["client"], "leerlingadministratie");
    assert_eq!(me.json["roles"], json!(["ib_er"]));

    // No basis at all: the gateway says what is missing before asking the hub.
    let a = sis
        .post("/signals/check", &signal(&wijkteam_oin, &[], json!({})))
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert_eq!(a.json["errors"][0]["field"], "basis", "{}", a.text);

    // One parent's consent: recorded, and the convenant still says no, naming the other parent.
    let first = sis
        .post("/consents", &consent(&wijkteam_oin, "ouder-1"))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let first_id = first.json["consent_id"].as_str().unwrap().to_owned();
    let listed = sis.post("/consents/search", &json!({"bsn": BSN})).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert!(listed.text.contains(&first_id), "{}", listed.text);
    let d = sis
        .post(
            "/signals/check",
            &signal(&wijkteam_oin, &[&first_id], json!({})),
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.json["allowed"], false, "{}", d.text);
    assert!(
        d.text.contains("ouder-2"),
        "the reasons name the missing parent: {}",
        d.text
    );

    // Sending now is refused by the hub, with the convenant's reasons; nothing is sent.
    let refused = sis
        .post(
            "/signals",
            &signal(&wijkteam_oin, &[&first_id], json!({"text": TEXT})),
        )
        .await;
    assert_problem(&refused, 403, "denied");
    assert_eq!(
        refused.json["reasons"][0]["code"], "CONSENT_MISSING_GEZAG_HOLDER",
        "{}",
        refused.text
    );
    assert!(
        refused.json["reasons"][0]["text_nl"]
            .as_str()
            .is_some_and(|t| t.contains("ouder-2")),
        "{}",
        refused.text
    );
    assert!(!refused.text.contains(BSN) && !refused.text.contains("blauwe plekken"));

    // The second parent's consent: allowed, with how long the wijkteam may keep it.
    let second = sis
        .post("/consents", &consent(&wijkteam_oin, "ouder-2"))
        .await;
    assert_eq!(second.status, 201, "{}", second.text);
    let second_id = second.json["consent_id"].as_str().unwrap().to_owned();
    let both = [first_id.as_str(), second_id.as_str()];
    let d = sis
        .post("/signals/check", &signal(&wijkteam_oin, &both, json!({})))
        .await;
    assert_eq!(d.json["allowed"], true, "{}", d.text);
    assert!(d.json["retain_until"].is_string(), "{}", d.text);

    // Send: the gateway seals the text. A retry with the same id is the same signal.
    let body = signal(
        &wijkteam_oin,
        &both,
        json!({"text": TEXT, "signal_id": "sig-api-0001", "urgency": "high"}),
    );
    let sent = sis.post("/signals", &body).await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    assert_eq!(sent.json["signal_id"], "sig-api-0001");
    assert_eq!(
        sent.headers.get("location").and_then(|v| v.to_str().ok()),
        Some("/api/v1/signals/sig-api-0001")
    );
    let again = sis.post("/signals", &body).await;
    assert_eq!(again.status, 201, "{}", again.text);
    let status = sis.get("/signals/sig-api-0001").await;
    assert_eq!(status.status, 200, "{}", status.text);
    assert_eq!(status.json["deliveries"][0]["recipient_oin"], wijkteam_oin);
    let list = sis.get("/signals").await;
    assert!(list.text.contains("sig-api-0001") && list.text.contains("leerlingadministratie"));

    // The wijkteam's registration system: the inbox fetcher brings it in, sealed.
    let reg = Api::new(
        wijkteam_base,
        Some(token(issuer, "wijkteam-registratie", &audience("wijkteam")).await?),
    );
    let mut inbox = Value::Null;
    for _ in 0..200 {
        let a = reg.get("/inbox").await;
        assert_eq!(a.status, 200, "{}", a.text);
        if a.text.contains("sig-api-0001") {
            inbox = a.json;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let item = &inbox["items"][0];
    assert_eq!(item["signal_id"], "sig-api-0001", "{inbox}");
    assert_eq!(item["urgency"], "high");
    assert!(item.get("text").is_none(), "the list is metadata only");
    // Opening it: verified and opened here, the opening in the audit log under the system's id.
    let opened = reg.get(&format!("/inbox/{school_oin}/sig-api-0001")).await;
    assert_eq!(opened.status, 200, "{}", opened.text);
    assert_eq!(opened.json["text"], TEXT);
    assert_eq!(opened.json["verified"], true);
    let audit = kit.consoles[1].app.store.audit_log(50).await?;
    assert!(
        audit
            .iter()
            .any(|e| e.action == "opened" && e.professional == "wijkteam-registratie"),
        "{audit:?}"
    );
    let ack = reg
        .post(
            &format!("/inbox/{school_oin}/sig-api-0001/acknowledge"),
            &json!({}),
        )
        .await;
    assert_eq!(ack.status, 204, "{}", ack.text);
    let status = sis.get("/signals/sig-api-0001").await;
    assert_eq!(
        status.json["deliveries"][0]["state"], "acknowledged",
        "{}",
        status.text
    );
    assert_eq!(status.json["recallable"], false);

    // The maatregel question: refused until the wijkteam records its involvement.
    let a = reg.post("/maatregel/query", &json!({"bsn": BSN})).await;
    assert_problem(&a, 403, "denied");
    let a = reg
        .post(
            "/maatregel/involvement",
            &json!({"bsn": BSN, "contact": "G. K., wijkcoach, 026-0000002"}),
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.text);
    let a = reg.post("/maatregel/query", &json!({"bsn": BSN})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["exists"], false, "{}", a.text);
    let a = reg
        .post(
            "/maatregel/involvement",
            &json!({"bsn": BSN, "contact": "bel 111222333"}),
        )
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert_eq!(a.json["errors"][0]["field"], "contact");
    let audit = kit.consoles[1].app.store.audit_log(50).await?;
    for action in ["involvement_registered", "maatregel_asked", "acknowledged"] {
        assert!(
            audit
                .iter()
                .any(|e| e.action == action && e.professional == "wijkteam-registratie"),
            "{action}: {audit:?}"
        );
    }

    // The school's audit log names the system; the hub's log names it as the professional who
    // acted (the hub token's `sub`), as the school's FG system reads it.
    let audit = kit.consoles[0].app.store.audit_log(50).await?;
    assert!(
        audit
            .iter()
            .any(|e| e.action == "sent" && e.professional == "leerlingadministratie"),
        "{audit:?}"
    );
    let fg = Api::new(
        school_base,
        Some(token(issuer, "school-fg-rapportage", &audience("school")).await?),
    );
    let log = fg.get("/fg/disclosures").await;
    assert_eq!(log.status, 200, "{}", log.text);
    assert!(
        log.json["entries"]
            .as_array()
            .is_some_and(|es| es.iter().any(|e| e["event"] == "signal_sent"
                && e["actor_professional"] == "leerlingadministratie")),
        "{}",
        log.text
    );
    // The IB system is not the FG: the hub refuses.
    assert_problem(&sis.get("/fg/disclosures").await, 403, "denied");

    // Withdrawing a consent, on behalf of the parent.
    let w = sis
        .post(
            &format!("/consents/{first_id}/withdraw"),
            &json!({"withdrawn_by": "ouder-1"}),
        )
        .await;
    assert_eq!(w.status, 200, "{}", w.text);
    assert!(w.json["consent"]["withdrawn_at"].is_string(), "{}", w.text);

    // Nothing identifying at rest in either gateway.
    for c in &kit.consoles {
        for file in c.store_files() {
            let bytes = std::fs::read(&file).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(BSN), "BSN in {}", file.display());
            assert!(
                !text.contains("blauwe plekken"),
                "plaintext in {}",
                file.display()
            );
        }
    }
    Ok(())
}

async fn attacks(kit: &Kit, issuer: &str) -> TestResult {
    let wijkteam_oin = kit.oin("wijkteam");
    let school = &kit.consoles[0];
    let valid = token(issuer, "leerlingadministratie", &audience("school")).await?;
    let check = signal(&wijkteam_oin, &["c_x"], json!({}));

    // No token: 401 with a problem body and a Bearer challenge, on every route but the document.
    let anonymous = Api::new(&school.base, None);
    for (method, path) in signaalhub_gateway::api::route_table() {
        if path == "/openapi.json" {
            continue;
        }
        let concrete = path
            .replace("{signal_id}", "sig-1")
            .replace("{consent_id}", "c_1")
            .replace("{sender_oin}", &wijkteam_oin);
        let a = if method == axum::http::Method::GET {
            anonymous.get(&concrete).await
        } else {
            anonymous.post(&concrete, &json!({})).await
        };
        assert_problem(&a, 401, "unauthenticated");
        assert!(
            a.headers
                .get("www-authenticate")
                .is_some_and(|v| v.to_str().unwrap_or("").starts_with("Bearer")),
            "{method} {path}"
        );
    }
    assert_problem(&anonymous.get("/no-such-endpoint").await, 404, "not-found");
    let a = anonymous
        .send(
            anonymous
                .http
                .delete(format!("{}/api/v1/signals", school.base)),
        )
        .await;
    assert_problem(&a, 405, "method-not-allowed");
    // A console session is no API credential.
    let console = common::Console::login(school).await;
    let a = anonymous
        .send(
            anonymous
                .http
                .get(format!("{}/api/v1/whoami", school.base))
                .header("cookie", &console.cookie),
        )
        .await;
    assert_problem(&a, 401, "unauthenticated");

    // A tampered token (another client and scope in the payload, the signature kept).
    let parts: Vec<&str> = valid.split('.').collect();
    let payload = String::from_utf8(b64url_decode(parts[1]))?
        .replace("leerlingadministratie", "school-fg-rapportage")
        .replace("signaal:ib", "signaal:fg");
    let tampered = format!("{}.{}.{}", parts[0], b64url(payload.as_bytes()), parts[2]);
    let a = Api::new(&school.base, Some(tampered)).get("/whoami").await;
    assert_problem(&a, 401, "unauthenticated");
    assert!(a.text.contains("signature"), "{}", a.text);

    // A token signed with a key of the attacker's own, naming the provider's key id, and one
    // with a shared-secret algorithm, and one without a signature.
    let header: Value = serde_json::from_slice(&b64url_decode(parts[0]))?;
    let claims: Value = serde_json::from_slice(&b64url_decode(parts[1]))?;
    let rng = ring::rand::SystemRandom::new();
    let own = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| "rng")?;
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    h.kid = header["kid"].as_str().map(str::to_owned);
    let forged = jsonwebtoken::encode(
        &h,
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(own.as_ref()),
    )?;
    assert_problem(
        &Api::new(&school.base, Some(forged)).get("/whoami").await,
        401,
        "unauthenticated",
    );
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = header["kid"].as_str().map(str::to_owned);
    let hmac = jsonwebtoken::encode(
        &h,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"guessed"),
    )?;
    let a = Api::new(&school.base, Some(hmac)).get("/whoami").await;
    assert_problem(&a, 401, "unauthenticated");
    assert!(a.text.contains("algorithm"), "{}", a.text);
    let none = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"at+jwt"}"#),
        parts[1]
    );
    assert_problem(
        &Api::new(&school.base, Some(none)).get("/whoami").await,
        401,
        "unauthenticated",
    );
    // No error echoes the token.
    assert!(!a.text.contains(parts[2]));

    // Expired: the real token as it will be after its lifetime and the leeway (the gateway's
    // check takes the time as a parameter, so nothing waits).
    let exp = claims["exp"].as_u64().ok_or("exp")?;
    let api = school.app.api.as_ref().ok_or("no api")?;
    assert!(api.verify_at(&valid, exp).await.is_ok());
    assert_eq!(
        api.verify_at(&valid, exp + 31).await,
        Err(AuthError::Expired)
    );

    // A token for another audience: another API, and the wijkteam's gateway.
    let a = Api::new(
        &school.base,
        Some(token(issuer, "leerlingadministratie", "https://elders.test/api").await?),
    )
    .get("/whoami")
    .await;
    assert_problem(&a, 401, "unauthenticated");
    assert!(a.text.contains("aud"), "{}", a.text);
    let a = Api::new(&kit.consoles[1].base, Some(valid.clone()))
        .get("/inbox")
        .await;
    assert_problem(&a, 401, "unauthenticated");

    // A system whose scope maps to no convenant role, and one whose role may not send.
    let kantine = Api::new(
        &school.base,
        Some(token(issuer, "kantinesysteem", &audience("school")).await?),
    );
    let a = kantine.post("/signals/check", &check).await;
    assert_problem(&a, 403, "no-role");
    let fg = Api::new(
        &school.base,
        Some(token(issuer, "school-fg-rapportage", &audience("school")).await?),
    );
    let a = fg
        .post(
            "/signals",
            &signal(&wijkteam_oin, &["c_x"], json!({"text": TEXT})),
        )
        .await;
    assert_problem(&a, 403, "denied");
    assert!(!a.text.contains("blauwe plekken"), "{}", a.text);

    let sis = Api::new(&school.base, Some(valid.clone()));
    // The console's Origin check does not stand in an API caller's way (bearer only).
    let a = sis
        .send(
            sis.http
                .post(format!("{}/api/v1/signals/check", school.base))
                .header("origin", "https://elders.example")
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&check)?),
        )
        .await;
    assert_ne!(a.status, 403, "{}", a.text);
    assert_ne!(a.status, 401, "{}", a.text);

    // A BSN in id fields: refused field by field, never echoed.
    let a = sis
        .post(
            "/signals",
            &signal(
                &wijkteam_oin,
                &["c_111222333"],
                json!({"text": TEXT, "signal_id": "sig-111222333", "gezag": ["123456782"]}),
            ),
        )
        .await;
    assert_problem(&a, 422, "invalid-request");
    let fields: Vec<&str> = a.json["errors"]
        .as_array()
        .map(|es| es.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    for f in ["signal_id", "consents[0]", "gezag[0]"] {
        assert!(fields.contains(&f), "{f} not refused: {}", a.text);
    }
    for secret in ["111222333", "123456782", "blauwe plekken"] {
        assert!(!a.text.contains(secret), "{secret} echoed: {}", a.text);
    }
    let a = sis.get("/signals/sig-123456782").await;
    assert_problem(&a, 422, "invalid-request");
    assert!(!a.text.contains("123456782"), "{}", a.text);
    // A BSN that fails the elfproef, and one of the wrong type: no echo either.
    let a = sis
        .post("/consents/search", &json!({"bsn": "111222334"}))
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert_eq!(a.json["errors"][0]["field"], "bsn");
    assert!(
        a.text.contains("elfproef") && !a.text.contains("111222334"),
        "{}",
        a.text
    );
    let a = sis
        .post("/consents/search", &json!({"bsn": 111222334u64}))
        .await;
    assert_problem(&a, 400, "bad-json");
    assert!(!a.text.contains("111222334"), "{}", a.text);
    let a = sis
        .post("/consents/search", &json!({"bsn": BSN, "colour": "red"}))
        .await;
    assert_problem(&a, 400, "bad-json");

    // An oversized body, and a body that is not JSON.
    let big = signal(
        &wijkteam_oin,
        &["c_x"],
        json!({"text": "x".repeat(200 * 1024)}),
    );
    assert_problem(&sis.post("/signals", &big).await, 413, "payload-too-large");
    let a = sis
        .send(
            sis.http
                .post(format!("{}/api/v1/signals/check", school.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("bsn=111222333"),
        )
        .await;
    assert_problem(&a, 415, "unsupported-media-type");
    Ok(())
}

/// With the wijkteam's gateway stopped, a new signal stays undelivered: the school's system
/// recalls it, and the hub withdraws it.
async fn recall_while_undelivered(kit: &mut Kit, issuer: &str) -> TestResult {
    let wijkteam_oin = kit.oin("wijkteam");
    kit.stop_console(1).await;
    let sis = Api::new(
        &kit.consoles[0].base,
        Some(token(issuer, "leerlingadministratie", &audience("school")).await?),
    );
    let mut consents = Vec::new();
    for giver in ["ouder-1", "ouder-2"] {
        let c = sis.post("/consents", &consent(&wijkteam_oin, giver)).await;
        assert_eq!(c.status, 201, "{}", c.text);
        consents.push(c.json["consent_id"].as_str().unwrap_or_default().to_owned());
    }
    let ids: Vec<&str> = consents.iter().map(String::as_str).collect();
    let sent = sis
        .post(
            "/signals",
            &signal(
                &wijkteam_oin,
                &ids,
                json!({"text": TEXT, "signal_id": "sig-api-0002"}),
            ),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    let status = sis.get("/signals/sig-api-0002").await;
    assert_eq!(
        status.json["deliveries"][0]["state"], "pending",
        "{}",
        status.text
    );
    assert_eq!(status.json["recallable"], true);
    let r = sis.post("/signals/sig-api-0002/recall", &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let status = sis.get("/signals/sig-api-0002").await;
    assert_eq!(
        status.json["deliveries"][0]["state"], "withdrawn",
        "{}",
        status.text
    );
    assert_eq!(status.json["recallable"], false);
    let audit = kit.consoles[0].app.store.audit_log(50).await?;
    assert!(
        audit
            .iter()
            .any(|e| e.action == "recalled" && e.professional == "leerlingadministratie"),
        "{audit:?}"
    );
    Ok(())
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn b64url_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'-' => 62,
            _ => 63,
        }
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c) << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}
