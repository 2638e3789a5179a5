//! The local API end to end, as the organisation's own systems call it: a hub from a fresh dev
//! kit, the school's and the wijkteam's gateways with `[api]`, and a real OpenID Connect provider
//! (panva's `oidc-provider`, tests/oidc-provider/provider.mjs `--api`) issuing access tokens with
//! the client-credentials grant. The school's administration system sends a signal to the
//! wijkteam (refused while a parent's consent is missing, then allowed); the wijkteam's
//! registration system opens and acknowledges it. Then the attacks: no token, a tampered or
//! self-signed token, an expired one, one for another audience, a role that may not send, a BSN
//! in an id field, an oversized body. Then Veilig Thuis's chain, and the console's newer pages as
//! systems use them: a case and its safety plan's versions, the notifications, ending an
//! involvement, the zorgmeldingen, the wijkteam's question and the audit log.
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
    roles.insert("signaal:gi".to_owned(), vec!["jeugdbeschermer".to_owned()]);
    roles.insert(
        "signaal:vt".to_owned(),
        vec!["triagist".to_owned(), "vt_medewerker".to_owned()],
    );
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
    let mut kit = start_kit_with(
        &["school", "wijkteam", "veilig_thuis", "jeugdbescherming"],
        |sector, c| configure(&issuer, sector, c),
    )
    .await;
    let outcome = async {
        school_sends_and_wijkteam_opens(&kit, &issuer).await?;
        attacks(&kit, &issuer).await?;
        veilig_thuis_chain(&kit, &issuer).await?;
        meldcode_report(&kit, &issuer).await?;
        cases_and_notifications(&kit, &issuer).await?;
        coordinator_and_plan_steps(&kit, &issuer).await?;
        gi_register_steps(&kit, &issuer).await?;
        zorgmeldingen_and_the_audit_log(&kit, &issuer).await?;
        stages_and_information_requests(&kit, &issuer).await?;
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
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(
        a.json["involvement"]["involvement_id"].is_string(),
        "{}",
        a.text
    );
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
    // More consent ids than the hub takes: refused here, nothing asked.
    let many: Vec<String> = (0..17).map(|i| format!("c_{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let a = sis
        .post("/signals/check", &signal(&wijkteam_oin, &many, json!({})))
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert!(
        a.json["errors"]
            .as_array()
            .is_some_and(|es| es.iter().any(|e| e["field"] == "consents")),
        "{}",
        a.text
    );
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

/// The error answer names `field`.
fn names_field(a: &Answer, field: &str) -> bool {
    a.json["errors"]
        .as_array()
        .is_some_and(|e| e.iter().any(|e| e["field"] == field))
}

/// Veilig Thuis's registration system works a school's meldcode report through the chain —
/// triage, a decision against the advice, the handover (refused without the family's consent),
/// the wijkteam's registration receiving and accepting it, feedback to the school — and the
/// school's administration reads the feedback; each endpoint refused too.
async fn veilig_thuis_chain(kit: &Kit, issuer: &str) -> TestResult {
    const NOTE: &str = "Dank voor uw melding; het wijkteam neemt contact op.";
    let (school_oin, wijkteam_oin, vt_oin) = (
        kit.oin("school"),
        kit.oin("wijkteam"),
        kit.oin("veilig_thuis"),
    );
    let vt_base = &kit.consoles[2].base;
    let vt_audience = audience("veilig_thuis");
    let vt = Api::new(
        vt_base,
        Some(token(issuer, "vt-registratie", &vt_audience).await?),
    );
    let vt_fg = Api::new(
        vt_base,
        Some(token(issuer, "school-fg-rapportage", &vt_audience).await?),
    );
    let wt = Api::new(
        &kit.consoles[1].base,
        Some(token(issuer, "wijkteam-registratie", &audience("wijkteam")).await?),
    );
    let school = Api::new(
        &kit.consoles[0].base,
        Some(token(issuer, "leerlingadministratie", &audience("school")).await?),
    );
    kit.meldcode_signal("school", "meldcode-api", BSN).await;
    let mut arrived = false;
    for _ in 0..200 {
        if vt.get("/inbox").await.text.contains("meldcode-api") {
            arrived = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        arrived,
        "the meldcode signal never reached Veilig Thuis's gateway"
    );
    let signal = json!({"sender_oin": school_oin, "signal_id": "meldcode-api"});
    let criteria = json!({
        "physical_abuse_or_severe_violence": "NO", "sexual_abuse": "NO",
        "violence_witnessed_by_children": "YES", "safety_conflict": "NO",
        "open_to_help": "OPEN", "stacked_reports": "NO", "mutual_accusations": "NO",
        "addiction": "NO",
    });
    let triage = |criteria: &Value| json!({"signal": signal, "criteria": criteria, "case_reference": "VT-2026-0077"});

    // Triage: the FG's system is refused by the gateway; an unanswered criterion, a melding
    // named twice and one that is not here never reach the hub.
    assert_problem(
        &vt_fg.post("/triage", &triage(&criteria)).await,
        403,
        "denied",
    );
    let mut unanswered = criteria.clone();
    unanswered["addiction"] = json!("");
    let a = vt.post("/triage", &triage(&unanswered)).await;
    assert_problem(&a, 422, "invalid-request");
    assert!(names_field(&a, "criteria.addiction"), "{}", a.text);
    let mut twice = triage(&criteria);
    twice["zorgmelding_id"] = json!("zm_1");
    let a = vt.post("/triage", &twice).await;
    assert!(names_field(&a, "zorgmelding_id"), "{}", a.text);
    let mut elsewhere = triage(&criteria);
    elsewhere["signal"]["signal_id"] = json!("meldcode-onbekend");
    assert_problem(&vt.post("/triage", &elsewhere).await, 404, "not-found");
    let a = vt.post("/triage", &triage(&criteria)).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["advice"]["advice"], "JOINT_VISIT", "{}", a.text);
    assert_eq!(a.json["signal"]["signal_id"], "meldcode-api");
    let triage_id = a.json["triage_id"]
        .as_str()
        .ok_or("no triage id")?
        .to_owned();

    // The decision: against the advice without a reason the hub refuses (field `reason`).
    let decide = format!("/triage/{triage_id}/decide");
    let a = vt
        .post(&decide, &json!({"decision": "WIJKTEAM_ALONE"}))
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert!(names_field(&a, "reason"), "{}", a.text);
    assert_problem(
        &vt_fg
            .post(
                &decide,
                &json!({"decision": "WIJKTEAM_ALONE", "reason": "SINGLE_INCIDENT"}),
            )
            .await,
        403,
        "denied",
    );
    let a = vt
        .post(
            &decide,
            &json!({"decision": "WIJKTEAM_ALONE", "reason": "SINGLE_INCIDENT"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json["decision"]["decision"], "WIJKTEAM_ALONE",
        "{}",
        a.text
    );
    assert_eq!(a.json["decision"]["follows_advice"], false);

    // Feedback that names a handover before there is one: the hub says not now.
    let feedback = |outcome: &str, note: Option<&str>| {
        json!({"signal": signal, "outcome": outcome, "case_reference": "VT-2026-0077",
               "client_informed": true, "note": note, "feedback_id": format!("fb-api-{}", outcome.len())})
    };
    assert_problem(
        &vt.post(
            "/feedback",
            &feedback("HANDED_OVER_TO_WIJKTEAM", Some(NOTE)),
        )
        .await,
        409,
        "conflict",
    );

    // The handover: a BSN failing the elfproef never reaches the hub; without the family's
    // consent the hub refuses with its reasons; with both parents' consent it goes.
    let handover = |bsn: &str, consents: &[&str]| {
        json!({
            "handover_id": "ho-api-1", "signal": signal, "recipient_oin": wijkteam_oin,
            "subject_bsns": [bsn], "categories": ["zorgen_thuissituatie"],
            "case_reference": "VT-2026-0077", "client_informed": true, "consent_ids": consents,
            "veilig_thuis_contact": {"name": "Rianne van Rooijen", "phone": "0800-2000"},
            "wijkteam_contact": {"name": "Els Bouwman", "phone": "026-0000002"},
            "acting_role": "vt_medewerker",
        })
    };
    let a = vt.post("/handovers", &handover("111222334", &[])).await;
    assert_problem(&a, 422, "invalid-request");
    assert!(names_field(&a, "subject_bsns[0]"), "{}", a.text);
    assert!(!a.text.contains("111222334"), "no BSN echoed: {}", a.text);
    let a = vt.post("/handovers", &handover(BSN, &[])).await;
    assert_problem(&a, 403, "denied");
    assert!(
        a.json["reasons"].as_array().is_some_and(|r| !r.is_empty()),
        "{}",
        a.text
    );
    let consent = vt
        .post(
            "/consents",
            &json!({
                "bsn": BSN, "age": 6, "gezag": ["ouder-1", "ouder-2"], "recipient": wijkteam_oin,
                "purpose": "overdracht_hulpverlening", "categories": ["zorgen_thuissituatie"],
                "givers": ["ouder-1", "ouder-2"], "months": 6, "evidence": "VT-form-0042",
                "role": "vt_medewerker",
            }),
        )
        .await;
    assert_eq!(consent.status, 201, "{}", consent.text);
    let consent_id = consent.json["consent_id"].as_str().ok_or("no consent id")?;
    assert_problem(
        &vt_fg
            .post("/handovers", &handover(BSN, &[consent_id]))
            .await,
        403,
        "denied",
    );
    let a = vt.post("/handovers", &handover(BSN, &[consent_id])).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["handover_id"], "ho-api-1");
    assert!(
        a.json["family_letter"]
            .as_str()
            .is_some_and(|l| !l.is_empty()),
        "{}",
        a.text
    );

    // The wijkteam: not before it received the handover; Veilig Thuis cannot answer it; then it
    // receives it (the school's text opened in its gateway) and accepts, after a return without
    // a reason was refused.
    let path = format!("/handovers/{vt_oin}/ho-api-1");
    let accept = json!({"answer": "ACCEPTED", "subject_bsns": [BSN],
                        "contact_professional": "Els Bouwman, 026-0000002"});
    assert_problem(
        &wt.post(&format!("{path}/answer"), &accept).await,
        409,
        "conflict",
    );
    assert_problem(
        &vt.post(&format!("{path}/answer"), &accept).await,
        403,
        "denied",
    );
    assert_problem(&vt.get(&path).await, 403, "denied");
    let a = wt.get(&path).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["parts"][0]["verified"], true, "{}", a.text);
    assert_eq!(
        a.json["parts"][0]["text"],
        "Jayden vertelt over ruzie thuis."
    );
    let a = wt
        .post(&format!("{path}/answer"), &json!({"answer": "RETURNED"}))
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert!(names_field(&a, "reason"), "{}", a.text);
    // A question first, sealed in the wijkteam's gateway to Veilig Thuis; Veilig Thuis's system
    // opens it in its own gateway (written to its audit log first). Nobody else does.
    const QUESTION: &str = "Is vader al eerder in beeld geweest bij de politie?";
    let a = wt
        .post(
            &format!("{path}/answer"),
            &json!({"answer": "QUESTION", "question": QUESTION}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(!a.text.contains(QUESTION), "sealed: {}", a.text);
    let q = format!("{path}/questions/1");
    assert_problem(&vt_fg.get(&q).await, 403, "denied");
    assert_problem(&wt.get(&q).await, 403, "denied");
    assert_problem(
        &vt.get(&format!("/handovers/{wijkteam_oin}/ho-api-1/questions/1"))
            .await,
        404,
        "not-found",
    );
    for bad in ["0", "2", "een"] {
        assert_problem(
            &vt.get(&format!("{path}/questions/{bad}")).await,
            404,
            "not-found",
        );
    }
    let a = vt.get(&q).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["question"]["verified"], true, "{}", a.text);
    assert_eq!(a.json["question"]["text"], QUESTION, "{}", a.text);
    assert_eq!(a.json["wijkteam_oin"], wijkteam_oin.as_str(), "{}", a.text);
    let log = kit.consoles[2].app.store.audit_log(50).await?;
    assert!(
        log.iter().any(|e| e.action == "question_opened"
            && e.professional == "vt-registratie"
            && e.object.contains("ho-api-1.q1")),
        "{log:?}"
    );
    let a = wt.post(&format!("{path}/answer"), &accept).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(
        a.json["answers"]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x["answer"] == "ACCEPTED")),
        "{}",
        a.text
    );
    assert!(
        a.json["involvement_ids"]
            .as_array()
            .is_some_and(|i| !i.is_empty()),
        "{}",
        a.text
    );

    // Feedback to the school: the FG's system and an unknown outcome are refused; then sent,
    // with a note sealed to the school.
    assert_problem(
        &vt_fg.post("/feedback", &feedback("RECEIVED", None)).await,
        403,
        "denied",
    );
    let a = vt.post("/feedback", &feedback("GESLOTEN", None)).await;
    assert!(names_field(&a, "outcome"), "{}", a.text);
    let mut not_told = feedback("RECEIVED", None);
    not_told["client_informed"] = json!(false);
    let a = vt.post("/feedback", &not_told).await;
    assert_problem(&a, 422, "invalid-request");
    assert!(names_field(&a, "client_not_informed_reason"), "{}", a.text);
    let a = vt
        .post(
            "/feedback",
            &feedback("HANDED_OVER_TO_WIJKTEAM", Some(NOTE)),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["outcome"], "HANDED_OVER_TO_WIJKTEAM");
    assert_eq!(a.json["has_note"], true);

    // The school reads it on its own signal, the note opened in its gateway; the wijkteam
    // reads nothing; Veilig Thuis sees what it sent, the note still sealed.
    let list = json!({"signal": signal});
    let a = school.post("/feedback/list", &list).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json["feedback"][0]["outcome"], "HANDED_OVER_TO_WIJKTEAM",
        "{}",
        a.text
    );
    assert_eq!(a.json["feedback"][0]["note"], NOTE, "{}", a.text);
    let a = wt.post("/feedback/list", &list).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["feedback"], json!([]), "{}", a.text);
    let a = vt.post("/feedback/list", &list).await;
    assert_eq!(a.json["feedback"][0]["has_note"], true, "{}", a.text);
    assert_eq!(a.json["feedback"][0]["note"], Value::Null, "{}", a.text);
    let a = school.post("/feedback/list", &json!({})).await;
    assert!(names_field(&a, "zorgmelding_id"), "{}", a.text);
    Ok(())
}

/// The first `"prefix…"` link on a console page.
fn link_after(page: &str, prefix: &str) -> Result<String, String> {
    let marker = format!("\"{prefix}");
    let start = page
        .find(&marker)
        .ok_or_else(|| format!("no link {prefix} on the page: {page}"))?
        + 1;
    Ok(page[start..].split('"').next().unwrap_or("").to_owned())
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The wijkteam and the GI share a case (through their consoles: the parents' consent ticked),
/// the wijkcoach publishes two versions of the safety plan; the wijkteam's registration system
/// reads the case, both versions (opened here) and its notifications, and ends its involvement.
async fn cases_and_notifications(kit: &Kit, issuer: &str) -> TestResult {
    use common::{Console, field_value};
    use signaalhub_client::signaalhub_proto::pb;
    const CHILD: &str = "123456782";
    let both = [pb::Sector::Wijkteam, pb::Sector::Jeugdbescherming];
    let consent = kit
        .parents_consent(
            CHILD,
            &both,
            &both,
            &["betrokkenheid", "veiligheidsafspraken"],
        )
        .await;
    let w = Console::login(&kit.consoles[1]).await;
    let gi = Console::login(&kit.consoles[3]).await;
    for (c, contact) in [
        (&w, "G. K., wijkcoach"),
        (&gi, "Jeugdbeschermer, 026-1234567"),
    ] {
        let csrf = field_value(&c.get("/maatregel").await, "csrf");
        let (_, page) = c
            .post(
                "/maatregel",
                &form(&[
                    ("csrf", &csrf),
                    ("bsn", CHILD),
                    ("contact", contact),
                    ("consent", &consent),
                    ("action", "involvement"),
                ]),
            )
            .await;
        assert!(page.contains("Uw betrokkenheid is vastgelegd"), "{page}");
    }
    let csrf = field_value(&w.get("/maatregel").await, "csrf");
    let (_, page) = w
        .post(
            "/maatregel",
            &form(&[("csrf", &csrf), ("bsn", CHILD), ("action", "cases")]),
        )
        .await;
    let case_path = link_after(&page, "/zaak/")?;
    let case_id = case_path.trim_start_matches("/zaak/").to_owned();
    let gi_oin = kit.oin("jeugdbescherming");
    for (title, what) in [
        ("Plan van maart", "belt moeder elke twee weken"),
        ("Plan van april", "belt moeder elke week"),
    ] {
        w.post_redirect(
            &format!("{case_path}/plan"),
            &form(&[
                ("csrf", &csrf),
                ("title", title),
                ("who1", "De jeugdbeschermer"),
                ("what1", what),
                ("party1", &gi_oin),
                ("consents", &consent),
            ]),
        )
        .await;
    }

    let aud = audience("wijkteam");
    let wt = Api::new(
        &kit.consoles[1].base,
        Some(token(issuer, "wijkteam-registratie", &aud).await?),
    );
    let fg = Api::new(
        &kit.consoles[1].base,
        Some(token(issuer, "school-fg-rapportage", &aud).await?),
    );
    // The case: both parties, the plan's latest version; an FG system is refused by the
    // gateway, an id of no case is not found.
    let a = wt.get(&format!("/cases/{case_id}")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["safety_plan_version"], 2, "{}", a.text);
    let parties = a.json["parties"].as_array().ok_or("no parties")?;
    assert_eq!(parties.len(), 2, "{}", a.text);
    let own = |oin: &str| {
        parties
            .iter()
            .find(|p| p["organization_oin"] == oin)
            .and_then(|p| p["involvement_id"].as_str())
            .map(str::to_owned)
    };
    let ours = own(&kit.oin("wijkteam")).ok_or("no involvement of ours")?;
    let theirs = own(&gi_oin).ok_or("no involvement of the GI")?;
    assert_problem(&fg.get(&format!("/cases/{case_id}")).await, 403, "denied");
    assert!(
        !fg.get(&format!("/cases/{case_id}"))
            .await
            .text
            .contains("G. K.")
    );
    assert_problem(&wt.get("/cases/k_onbekend").await, 404, "not-found");
    // The plan: the latest and version 1, each opened here and logged first.
    let a = wt.get(&format!("/cases/{case_id}/plan")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["version"], 2, "{}", a.text);
    assert_eq!(a.json["plan"]["verified"], true, "{}", a.text);
    assert_eq!(
        a.json["plan"]["agreements"][0]["what"], "belt moeder elke week",
        "{}",
        a.text
    );
    let a = wt.get(&format!("/cases/{case_id}/plan/1")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["plan"]["title"], "Plan van maart", "{}", a.text);
    assert_eq!(
        a.json["plan"]["agreements"][0]["party_oins"][0],
        gi_oin.as_str(),
        "{}",
        a.text
    );
    for bad in ["0", "abc", "3"] {
        let a = wt.get(&format!("/cases/{case_id}/plan/{bad}")).await;
        assert_eq!(a.status, 404, "{bad}: {}", a.text);
        assert!(!a.text.contains("belt moeder"), "{}", a.text);
    }
    assert_problem(
        &fg.get(&format!("/cases/{case_id}/plan/1")).await,
        403,
        "denied",
    );
    let log = kit.consoles[1].app.store.audit_log(100).await?;
    for (action, object) in [
        ("case_viewed", case_id.clone()),
        ("plan_opened", format!("{case_id}.v1")),
        ("plan_opened", format!("{case_id}.v2")),
    ] {
        assert!(
            log.iter().any(|e| e.action == action
                && e.object == object
                && e.professional == "wijkteam-registratie"),
            "{action} {object}: {log:?}"
        );
    }
    // Notifications: the match, newest first, with the case; a bad cursor is refused.
    let a = wt.get("/notifications").await;
    assert_eq!(a.status, 200, "{}", a.text);
    let list = a.json["notifications"].as_array().ok_or("no list")?;
    assert!(
        list.iter()
            .any(|n| n["kind"] == "INVOLVEMENT_MATCHED" && n["case_id"] == case_id.as_str()),
        "{}",
        a.text
    );
    let cursors: Vec<u64> = list.iter().filter_map(|n| n["cursor"].as_u64()).collect();
    assert!(cursors.windows(2).all(|w| w[0] > w[1]), "{cursors:?}");
    assert!(list.iter().all(|n| n["summary_nl"].is_string()));
    let a = wt.get("/notifications?before=tien").await;
    assert_problem(&a, 422, "invalid-request");
    assert!(names_field(&a, "before"), "{}", a.text);
    assert_problem(&fg.get("/notifications").await, 403, "denied");
    // Ending: not the GI's involvement, then our own; the case is then not ours to read.
    let a = wt
        .post(&format!("/involvements/{theirs}/end"), &json!({}))
        .await;
    assert!(matches!(a.status, 403 | 404), "{}", a.text);
    assert_problem(
        &fg.post(&format!("/involvements/{ours}/end"), &json!({}))
            .await,
        403,
        "denied",
    );
    assert_eq!(wt.get(&format!("/cases/{case_id}")).await.status, 200);
    let a = wt
        .post(&format!("/involvements/{ours}/end"), &json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.json["involvement"]["ended_at"].is_string(), "{}", a.text);
    assert_problem(
        &wt.get(&format!("/cases/{case_id}")).await,
        404,
        "not-found",
    );
    let log = kit.consoles[1].app.store.audit_log(20).await?;
    assert!(
        log.iter()
            .any(|e| e.action == "involvement_ended" && e.object == ours),
        "{log:?}"
    );
    // The GI is told.
    let page = gi.get("/berichten").await;
    assert!(page.contains("Betrokkenheid beëindigd"), "{page}");
    Ok(())
}

/// The fields a 422 answer names.
fn fields_named(a: &Answer) -> Vec<String> {
    a.json["errors"]
        .as_array()
        .map(|es| {
            es.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The case steps through the API only: the wijkteam's and the GI's registration systems record
/// their involvement on the parents' consents (a case), the wijkteam proposes itself as
/// coordinator and the GI accepts, the wijkteam publishes a safety plan and each party confirms
/// its agreements; the plan then shows who confirmed what. Refused: an FG system, the school
/// (no party), a token of the other gateway, malformed bodies and ids, a plan without agreements
/// or consent or with too many agreements, confirming twice, an unknown version.
async fn coordinator_and_plan_steps(kit: &Kit, issuer: &str) -> TestResult {
    const CHILD: &str = "222444666";
    let wijkteam_oin = kit.oin("wijkteam");
    let gi_oin = kit.oin("jeugdbescherming");
    let (w_base, gi_base) = (&kit.consoles[1].base, &kit.consoles[3].base);
    let gi_token = token(issuer, "gi-registratie", &audience("jeugdbescherming")).await?;
    let wt = Api::new(
        w_base,
        Some(token(issuer, "wijkteam-registratie", &audience("wijkteam")).await?),
    );
    let gi = Api::new(gi_base, Some(gi_token.clone()));
    let gi_fg = Api::new(
        gi_base,
        Some(
            token(
                issuer,
                "school-fg-rapportage",
                &audience("jeugdbescherming"),
            )
            .await?,
        ),
    );
    let school = Api::new(
        &kit.consoles[0].base,
        Some(token(issuer, "leerlingadministratie", &audience("school")).await?),
    );

    // The parents' consent for casusafstemming, for both sectors (each may present it), recorded
    // through the API as the console's Maatregel? records it. A sector the convenant does not
    // know, or sectors beside a recipient: refused, nothing recorded.
    let case_consent = |sectors: Value, recipient: &str| {
        json!({
            "bsn": CHILD, "age": 9, "gezag": ["ouder-1", "ouder-2"], "givers": ["ouder-1", "ouder-2"],
            "sectors": sectors, "recipient": recipient, "purpose": "casusafstemming",
            "categories": ["betrokkenheid", "veiligheidsafspraken"], "months": 6,
            "evidence": "formulier-2026-204",
        })
    };
    let a = wt
        .post(
            "/consents",
            &case_consent(json!(["wijkteam", "buurtvereniging"]), ""),
        )
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert_eq!(fields_named(&a), ["sectors[1]"], "{}", a.text);
    let a = wt
        .post("/consents", &case_consent(json!(["wijkteam"]), &gi_oin))
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert_eq!(fields_named(&a), ["sectors"], "{}", a.text);
    let a = wt
        .post(
            "/consents",
            &case_consent(json!(["wijkteam", "jeugdbescherming"]), ""),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let consent = a.json["consent_id"].as_str().unwrap_or_default().to_owned();
    assert!(consent.starts_with("c_"), "{}", a.text);

    // Involvement on consents: refused with a BSN in an id, too many ids, or not a list.
    let involve = |contact: &str, consents: Value| json!({"bsn": CHILD, "contact": contact, "consents": consents});
    let a = wt
        .post(
            "/maatregel/involvement",
            &involve("G. K., wijkcoach", json!(["c_111222333"])),
        )
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert_eq!(fields_named(&a), ["consents[0]"], "{}", a.text);
    assert!(
        !a.text.contains("111222333") && !a.text.contains(CHILD),
        "{}",
        a.text
    );
    let many: Vec<String> = (0..17).map(|i| format!("c_{i}")).collect();
    let a = wt
        .post(
            "/maatregel/involvement",
            &involve("G. K., wijkcoach", json!(many)),
        )
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert!(
        fields_named(&a).contains(&"consents".to_owned()),
        "{}",
        a.text
    );
    let a = wt
        .post(
            "/maatregel/involvement",
            &involve("G. K., wijkcoach", json!(consent)),
        )
        .await;
    assert_problem(&a, 400, "bad-json");
    // On the consent: the wijkteam first, then the GI, whose answer names the case they share.
    let a = wt
        .post(
            "/maatregel/involvement",
            &involve("G. K., wijkcoach", json!([consent])),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json["involvement"]["organization_oin"],
        wijkteam_oin.as_str(),
        "{}",
        a.text
    );
    let a = gi
        .post(
            "/maatregel/involvement",
            &involve("Jeugdbeschermer, 026-1234567", json!([consent])),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let case_id = a.json["case"]["case_id"]
        .as_str()
        .ok_or_else(|| format!("no case: {}", a.text))?
        .to_owned();
    assert_eq!(
        a.json["case"]["parties"].as_array().map(Vec::len),
        Some(2),
        "{}",
        a.text
    );
    assert!(!a.text.contains(CHILD), "{}", a.text);
    let case = format!("/cases/{case_id}");

    // The child's cases, as *Zaken van dit kind*: the wijkteam's own involvement and the case;
    // an FG system is refused; the school, not involved, learns of no case.
    let a = wt.post("/maatregel/cases", &json!({"bsn": CHILD})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json["cases"][0]["case_id"],
        case_id.as_str(),
        "{}",
        a.text
    );
    assert_eq!(
        a.json["own"].as_array().map(Vec::len),
        Some(1),
        "{}",
        a.text
    );
    assert!(!a.text.contains(CHILD), "{}", a.text);
    let a = gi_fg.post("/maatregel/cases", &json!({"bsn": CHILD})).await;
    assert_problem(&a, 403, "denied");
    let a = school
        .post("/maatregel/cases", &json!({"bsn": CHILD}))
        .await;
    assert!(!a.text.contains(&case_id), "{}", a.text);
    let a = wt
        .post("/maatregel/cases", &json!({"bsn": "111222334"}))
        .await;
    assert_problem(&a, 422, "invalid-request");
    // Confirming the school's contact with the child: the wijkteam may (it is involved); a bad
    // OIN is named; the school, not involved, may not confirm the wijkteam's.
    let school_oin = kit.oin("school");
    let a = wt
        .post(
            "/maatregel/confirm",
            &json!({"bsn": CHILD, "organisation_oin": school_oin}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.json["valid_until"].is_string(), "{}", a.text);
    let a = wt
        .post(
            "/maatregel/confirm",
            &json!({"bsn": CHILD, "organisation_oin": "school"}),
        )
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert_eq!(fields_named(&a), ["organisation_oin"], "{}", a.text);
    let a = school
        .post(
            "/maatregel/confirm",
            &json!({"bsn": CHILD, "organisation_oin": wijkteam_oin}),
        )
        .await;
    assert_problem(&a, 403, "denied");

    // Proposing: refused for an FG system, the school (no party), a BSN-like or unknown case id,
    // a bad OIN, a body that is not this endpoint's JSON, and the GI's token at the wijkteam.
    let propose = format!("{case}/coordinator");
    assert_problem(&gi_fg.post(&propose, &json!({})).await, 403, "denied");
    assert_problem(&school.post(&propose, &json!({})).await, 404, "not-found");
    for bad in ["k_111222333", "k_onbekend", "..%2F..%2Fwhoami"] {
        let a = wt
            .post(&format!("/cases/{bad}/coordinator"), &json!({}))
            .await;
        assert_problem(&a, 404, "not-found");
        assert!(!a.text.contains("111222333"), "{}", a.text);
    }
    let a = wt.post(&propose, &json!({"proposed_oin": "123"})).await;
    assert_problem(&a, 422, "invalid-request");
    assert_eq!(fields_named(&a), ["proposed_oin"], "{}", a.text);
    for body in [
        json!({"proposed": gi_oin}),
        json!({"proposed_oin": 5}),
        json!("wijkteam"),
        // An array of the fields in order is no object (serde alone would take it).
        json!([]),
        json!([gi_oin]),
    ] {
        assert_problem(&wt.post(&propose, &body).await, 400, "bad-json");
    }
    let a = wt
        .send(
            wt.http
                .post(format!("{w_base}/api/v1{propose}"))
                .header("content-type", "application/json")
                .body("{\"proposed_oin\": "),
        )
        .await;
    assert_problem(&a, 400, "bad-json");
    assert_problem(
        &Api::new(w_base, Some(gi_token.clone()))
            .post(&propose, &json!({}))
            .await,
        401,
        "unauthenticated",
    );
    // The wijkteam proposes itself; the proposal waits for the GI.
    let a = wt.post(&propose, &json!({})).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["proposal"]["state"], "OPEN", "{}", a.text);
    assert_eq!(
        a.json["proposal"]["proposed_oin"],
        wijkteam_oin.as_str(),
        "{}",
        a.text
    );
    assert_eq!(
        a.json["proposal"]["awaiting_oins"],
        json!([gi_oin]),
        "{}",
        a.text
    );
    let proposal_id = a.json["proposal"]["proposal_id"]
        .as_str()
        .ok_or("no proposal id")?
        .to_owned();
    let answer = format!("/proposals/{proposal_id}/answer");
    // Answering: not the proposer (it is not asked), not an FG system, not with a string.
    assert_problem(
        &wt.post(&answer, &json!({"accept": true})).await,
        404,
        "not-found",
    );
    assert_problem(
        &gi_fg.post(&answer, &json!({"accept": true})).await,
        403,
        "denied",
    );
    assert_problem(
        &gi.post(&answer, &json!({"accept": "ja"})).await,
        400,
        "bad-json",
    );
    assert_problem(&gi.post(&answer, &json!({})).await, 400, "bad-json");
    assert_problem(
        &gi.post("/proposals/p_111222333/answer", &json!({"accept": true}))
            .await,
        404,
        "not-found",
    );
    let a = gi.post(&answer, &json!({"accept": true})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["proposal"]["state"], "ACCEPTED", "{}", a.text);
    assert_eq!(
        a.json["case"]["coordinator"]["organization_oin"],
        wijkteam_oin.as_str(),
        "{}",
        a.text
    );
    // Decided: a second answer finds no open proposal.
    let a = gi.post(&answer, &json!({"accept": false})).await;
    assert!(matches!(a.status, 404 | 409), "{}", a.text);

    // Publishing: the plan's rules before anything is sealed, field by field.
    let plan = json!({
        "title": "Veiligheidsplan gezin",
        "goal": "Iedereen is thuis veilig",
        "emergency_contact": "de wijkcoach, 026-0000002",
        "agreements": [
            {"who": "De jeugdbeschermer", "what": "belt moeder elke week", "party_oins": [gi_oin]},
            {"who": "De wijkcoach", "what": "komt elke week op huisbezoek",
             "by_when": "vrijdag", "party_oins": [wijkteam_oin], "concerns_family": true},
        ],
        "consents": [consent],
    });
    let with = |k: &str, v: Value| {
        let mut p = plan.clone();
        p[k] = v;
        p
    };
    let publish = format!("{case}/plan");
    let too_many: Vec<Value> = (0..65)
        .map(|_| json!({"who": "x", "what": "y", "concerns_family": true}))
        .collect();
    for (body, field) in [
        (with("agreements", json!([])), "agreements"),
        (with("agreements", json!(too_many)), "agreements"),
        (with("title", json!(" ")), "title"),
        (with("consents", json!([])), "consents"),
        (with("consents", json!(["c_111222333"])), "consents[0]"),
        (
            with(
                "agreements",
                json!([{"who": "x", "what": "", "party_oins": [gi_oin]}]),
            ),
            "agreements[0]",
        ),
        (
            with(
                "agreements",
                json!([{"who": "x", "what": "y".repeat(501), "party_oins": [gi_oin]}]),
            ),
            "agreements[0].what",
        ),
        (
            with(
                "agreements",
                json!([{"who": "x", "what": "y", "party_oins": ["abc"]}]),
            ),
            "agreements[0].party_oins",
        ),
        (with("goal", json!("z".repeat(501))), "goal"),
    ] {
        let a = wt.post(&publish, &body).await;
        assert_problem(&a, 422, "invalid-request");
        assert!(
            fields_named(&a).iter().any(|f| f == field),
            "{field}: {}",
            a.text
        );
        assert!(!a.text.contains("belt moeder"), "{}", a.text);
    }
    for body in [
        with(
            "agreements",
            json!([{"who": "x", "what": "y", "colour": "red"}]),
        ),
        with("agreements", json!("alles")),
        json!({"title": "zonder afspraken"}),
    ] {
        assert_problem(&wt.post(&publish, &body).await, 400, "bad-json");
    }
    assert_problem(&gi_fg.post(&publish, &plan).await, 403, "denied");
    assert_problem(&school.post(&publish, &plan).await, 404, "not-found");
    assert_eq!(
        wt.get(&case).await.json["safety_plan_version"],
        0,
        "nothing published by the refusals"
    );
    let a = wt.post(&publish, &plan).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["version"], 1, "{}", a.text);
    assert_eq!(
        a.headers.get("location").and_then(|v| v.to_str().ok()),
        Some(format!("/api/v1{case}/plan/1").as_str())
    );
    assert_eq!(a.json["agreements"][0]["agreement_id"], "a1", "{}", a.text);
    assert_eq!(a.json["agreements"][1]["party_oins"], json!([wijkteam_oin]));
    assert_eq!(a.json["fully_confirmed"], false, "{}", a.text);
    assert!(!a.text.contains("belt moeder"), "metadata only: {}", a.text);

    // Confirming: the GI its agreement, once; not a version that is none, not an FG system,
    // not the school.
    let confirm = format!("{case}/plan/1/confirm");
    assert_problem(&gi_fg.post(&confirm, &json!({})).await, 403, "denied");
    assert_problem(&school.post(&confirm, &json!({})).await, 404, "not-found");
    for bad in ["0", "2", "abc", "-1"] {
        let a = gi
            .post(&format!("{case}/plan/{bad}/confirm"), &json!({}))
            .await;
        assert_problem(&a, 404, "not-found");
    }
    let a = gi.post(&confirm, &json!({})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json["agreements"][0]["confirmed_by_oins"],
        json!([gi_oin]),
        "{}",
        a.text
    );
    assert_eq!(a.json["fully_confirmed"], false, "{}", a.text);
    let a = gi.post(&confirm, &json!({})).await;
    assert_problem(&a, 409, "conflict");
    let a = wt.post(&confirm, &json!({})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["fully_confirmed"], true, "{}", a.text);
    assert_problem(&wt.post(&confirm, &json!({})).await, 409, "conflict");

    // Each party reads the plan, opened at its own gateway, with who confirmed what.
    for (api, who) in [(&wt, "wijkteam"), (&gi, "gi")] {
        let a = api.get(&format!("{case}/plan")).await;
        assert_eq!(a.status, 200, "{who}: {}", a.text);
        assert_eq!(a.json["fully_confirmed"], true, "{}", a.text);
        assert_eq!(a.json["plan"]["verified"], true, "{}", a.text);
        let agreements = &a.json["plan"]["agreements"];
        assert_eq!(agreements[0]["what"], "belt moeder elke week", "{}", a.text);
        assert_eq!(
            agreements[0]["confirmed_by_oins"],
            json!([gi_oin]),
            "{}",
            a.text
        );
        assert_eq!(
            agreements[1]["confirmed_by_oins"],
            json!([wijkteam_oin]),
            "{}",
            a.text
        );
        assert_eq!(agreements[1]["by_when"], "vrijdag", "{}", a.text);
        assert_eq!(agreements[1]["concerns_family"], true, "{}", a.text);
    }
    let a = wt.get(&case).await;
    assert_eq!(
        a.json["coordinator"]["organization_oin"],
        wijkteam_oin.as_str(),
        "{}",
        a.text
    );

    // The audit lines, by the systems' client ids, and no BSN in either gateway's log.
    let version = format!("{case_id}.v1");
    for (i, client, lines) in [
        (
            1,
            "wijkteam-registratie",
            vec![
                ("involvement_registered", None),
                ("coordinator_proposed", Some(case_id.as_str())),
                ("plan_published", Some(version.as_str())),
                ("plan_confirmed", Some(version.as_str())),
            ],
        ),
        (
            3,
            "gi-registratie",
            vec![
                ("involvement_registered", None),
                ("coordinator_accepted", Some(proposal_id.as_str())),
                ("plan_confirmed", Some(version.as_str())),
            ],
        ),
    ] {
        let log = kit.consoles[i].app.store.audit_log(200).await?;
        for (action, object) in lines {
            assert!(
                log.iter().any(|e| e.action == action
                    && e.professional == client
                    && object.is_none_or(|o| e.object == o)),
                "{client} {action}: {log:?}"
            );
        }
        assert!(
            !log.iter().any(|e| e.object.contains(CHILD)),
            "a BSN in the audit log: {log:?}"
        );
        // One confirmation each: the refused second attempt wrote nothing.
        assert_eq!(
            log.iter()
                .filter(|e| e.action == "plan_confirmed" && e.object == version)
                .count(),
            1,
            "{log:?}"
        );
    }
    Ok(())
}

/// Veilig Thuis's registration system lists and opens a police zorgmelding and records that the
/// family does not want the wijkteam; the school's FG system reads its gateway's audit log a page
/// at a time; others are refused.
async fn zorgmeldingen_and_the_audit_log(kit: &Kit, issuer: &str) -> TestResult {
    use signaalhub_client::signaalhub_proto::pb;
    const REG: &str = "2026-OOST-000999";
    const INCIDENT: &str = "Ruzie op straat; de kinderen zagen het.";
    kit.police_zorgmelding(
        REG,
        "123456782",
        &[(
            "frag-api-incident",
            pb::FragmentKind::Incident,
            "incidentgegevens",
            INCIDENT,
        )],
    )
    .await;
    let aud = audience("veilig_thuis");
    let vt = Api::new(
        &kit.consoles[2].base,
        Some(token(issuer, "vt-registratie", &aud).await?),
    );
    let vt_fg = Api::new(
        &kit.consoles[2].base,
        Some(token(issuer, "school-fg-rapportage", &aud).await?),
    );
    let mut id = None;
    for _ in 0..200 {
        let a = vt.get("/zorgmeldingen").await;
        assert_eq!(a.status, 200, "{}", a.text);
        id = a.json["zorgmeldingen"]
            .as_array()
            .and_then(|l| l.iter().find(|m| m["registration_number"] == REG))
            .and_then(|m| m["zorgmelding_id"].as_str())
            .map(str::to_owned);
        if id.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = id.ok_or("the zorgmelding never reached Veilig Thuis's gateway")?;
    assert!(!vt.get("/zorgmeldingen").await.text.contains(INCIDENT));
    assert_problem(&vt_fg.get("/zorgmeldingen").await, 403, "denied");
    assert_problem(
        &vt_fg.get(&format!("/zorgmeldingen/{id}")).await,
        403,
        "denied",
    );
    assert_problem(
        &vt.get("/zorgmeldingen/zm_onbekend").await,
        404,
        "not-found",
    );
    let a = vt.get(&format!("/zorgmeldingen/{id}")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["registration_number"], REG);
    assert_eq!(a.json["fragments"][0]["kind"], "INCIDENT", "{}", a.text);
    assert_eq!(a.json["fragments"][0]["verified"], true, "{}", a.text);
    assert_eq!(a.json["fragments"][0]["text"], INCIDENT, "{}", a.text);
    assert!(!a.text.contains("123456782"), "no BSN: {}", a.text);
    let log = kit.consoles[2].app.store.audit_log(20).await?;
    assert!(
        log.iter().any(|e| e.action == "zorgmelding_opened"
            && e.object == id
            && e.professional == "vt-registratie"),
        "{log:?}"
    );

    // The family does not want the wijkteam: recorded by reference, never by name; an FG
    // system, a missing reference and a melding that is not here are refused first.
    let declined = |by: &str, zm: &str| json!({"zorgmelding_id": zm, "declined_by": by});
    assert_problem(
        &vt_fg
            .post("/triage/family-declined", &declined("ouder-1", &id))
            .await,
        403,
        "denied",
    );
    let a = vt.post("/triage/family-declined", &declined("", &id)).await;
    assert_problem(&a, 422, "invalid-request");
    assert!(names_field(&a, "declined_by"), "{}", a.text);
    assert_problem(
        &vt.post(
            "/triage/family-declined",
            &declined("ouder-1", "zm_onbekend"),
        )
        .await,
        404,
        "not-found",
    );
    let a = vt
        .post("/triage/family-declined", &declined("ouder-1", &id))
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["declined_by"], "ouder-1", "{}", a.text);
    assert_eq!(a.json["zorgmelding_id"], id.as_str(), "{}", a.text);
    let t = kit.sdk("veilig_thuis").await.get_triage(&id).await?;
    assert_eq!(
        t.family_declined.map(|d| d.declined_by).as_deref(),
        Some("ouder-1")
    );
    let log = kit.consoles[2].app.store.audit_log(20).await?;
    assert!(
        log.iter().any(|e| e.action == "family_declined"
            && e.object == id
            && e.professional == "vt-registratie"),
        "{log:?}"
    );

    // The audit log: the FG's system only, newest first, its own look the newest line.
    let aud = audience("school");
    let fg = Api::new(
        &kit.consoles[0].base,
        Some(token(issuer, "school-fg-rapportage", &aud).await?),
    );
    let ib = Api::new(
        &kit.consoles[0].base,
        Some(token(issuer, "leerlingadministratie", &aud).await?),
    );
    assert_problem(&ib.get("/audit").await, 403, "denied");
    let a = fg.get("/audit").await;
    assert_eq!(a.status, 200, "{}", a.text);
    let lines = a.json["lines"].as_array().ok_or("no lines")?;
    assert_eq!(lines[0]["action"], "audit_viewed", "{}", a.text);
    assert_eq!(lines[0]["actor"], "school-fg-rapportage", "{}", a.text);
    assert!(
        lines.iter().any(|l| l["action"] == "sent"),
        "the school's sending: {}",
        a.text
    );
    let ids: Vec<i64> = lines.iter().filter_map(|l| l["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    assert!(!a.text.contains(BSN), "no BSN: {}", a.text);
    // The next page starts below the first line of this one.
    let a = fg.get(&format!("/audit?before={}", ids[0])).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(
        a.json["lines"]
            .as_array()
            .is_some_and(|l| l.iter().all(|x| x["id"].as_i64() < Some(ids[0]))),
        "{}",
        a.text
    );
    let a = fg.get("/audit?before=-1").await;
    assert_problem(&a, 422, "invalid-request");
    assert!(names_field(&a, "before"), "{}", a.text);
    Ok(())
}

/// The school's administration reports to Veilig Thuis under the meldcode, with the evidence of
/// the `meldrecht` basis: refused by the convenant while step 4 is missing, then sent; the
/// evidence's fields are checked before the hub is asked.
async fn meldcode_report(kit: &Kit, issuer: &str) -> TestResult {
    let vt_oin = kit.oin("veilig_thuis");
    let school = Api::new(
        &kit.consoles[0].base,
        Some(token(issuer, "leerlingadministratie", &audience("school")).await?),
    );
    let vt = Api::new(
        &kit.consoles[2].base,
        Some(token(issuer, "vt-registratie", &audience("veilig_thuis")).await?),
    );
    let report = |evidence: Value, extra: Value| {
        let mut v = json!({
            "bsn": BSN, "age": 9, "gezag": ["ouder-1", "ouder-2"], "recipient": vt_oin,
            "purpose": "melding_veilig_thuis", "categories": ["zorgen_thuissituatie"],
            "basis": "meldrecht", "evidence": evidence,
        });
        if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
            m.extend(e);
        }
        v
    };
    let steps = |s: &[u32]| {
        json!({"meldcode_steps_completed": s, "afwegingskader": "STRUCTURELE_ONVEILIGHEID",
               "client_informed": false, "client_not_informed_reason": "veiligheid_kind"})
    };
    // Step 4 not taken: the convenant says no, with its reasons; then yes.
    let a = school
        .post("/signals/check", &report(steps(&[1, 2, 3]), json!({})))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["allowed"], false, "{}", a.text);
    assert!(
        a.json["reasons"].as_array().is_some_and(|r| !r.is_empty()),
        "{}",
        a.text
    );
    let a = school
        .post("/signals/check", &report(steps(&[1, 2, 3, 4]), json!({})))
        .await;
    assert_eq!(a.json["allowed"], true, "{}", a.text);
    // Fields the gateway refuses before asking: evidence without a basis, steps out of range or
    // twice, an unknown outcome, not told without a reason, a reason while told.
    let mut no_basis = report(steps(&[1, 2, 3, 4]), json!({}));
    no_basis["basis"] = Value::Null;
    no_basis["consents"] = json!(["c_form"]);
    let a = school.post("/signals/check", &no_basis).await;
    assert!(names_field(&a, "evidence"), "{}", a.text);
    let bad = [
        (
            json!({"meldcode_steps_completed": [1, 1, 6]}),
            "evidence.meldcode_steps_completed",
        ),
        (json!({"afwegingskader": "ERG"}), "evidence.afwegingskader"),
        (
            json!({"client_informed": false}),
            "evidence.client_not_informed_reason",
        ),
        (
            json!({"client_informed": true, "client_not_informed_reason": "veiligheid_kind"}),
            "evidence.client_not_informed_reason",
        ),
    ];
    for (evidence, field) in bad {
        let a = school
            .post("/signals/check", &report(evidence, json!({})))
            .await;
        assert_problem(&a, 422, "invalid-request");
        assert!(names_field(&a, field), "{field}: {}", a.text);
        assert!(!a.text.contains(BSN), "{}", a.text);
    }
    // Sent: Veilig Thuis's registration finds it in its inbox on the meldcode basis.
    let a = school
        .post(
            "/signals",
            &report(
                steps(&[1, 2, 3, 4]),
                json!({"signal_id": "meldcode-api-2", "text": "Leerling vertelt over ruzie thuis."}),
            ),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let mut basis = None;
    for _ in 0..200 {
        let a = vt.get("/inbox").await;
        basis = a.json["items"].as_array().and_then(|l| {
            l.iter()
                .find(|i| i["signal_id"] == "meldcode-api-2")
                .map(|i| i["basis"].to_string())
        });
        if basis.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let basis = basis.ok_or("the meldcode report never reached Veilig Thuis")?;
    assert!(basis.contains("meldrecht"), "{basis}");
    Ok(())
}

/// `days` from today as `review_date` takes it.
fn date_in(days: i64) -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Veilig Thuis's registration records the stages of a school's meldcode report and asks the
/// wijkteam's registration for information; the wijkteam reads the question (never the melding)
/// and answers, sealed to Veilig Thuis, which reads the answer. Refused: FG systems, a system of
/// the wrong sector, another organisation, categories not asked for, both an answer and a
/// decline, a melding no longer under assessment.
async fn stages_and_information_requests(kit: &Kit, issuer: &str) -> TestResult {
    const QUESTION: &str = "Is het gezin bij u bekend? Hoe gaat het thuis?";
    const ANSWER: &str =
        "Het gezin is sinds maart bij ons bekend; moeder vraagt hulp bij opvoeding.";
    kit.meldcode_signal("school", "api-follow-1", BSN).await;
    let school_oin = kit.oin("school");
    let vt_oin = kit.oin("veilig_thuis");
    let wijkteam_oin = kit.oin("wijkteam");
    let vt_aud = audience("veilig_thuis");
    let vt = Api::new(
        &kit.consoles[2].base,
        Some(token(issuer, "vt-registratie", &vt_aud).await?),
    );
    let vt_fg = Api::new(
        &kit.consoles[2].base,
        Some(token(issuer, "school-fg-rapportage", &vt_aud).await?),
    );
    let wijk = Api::new(
        &kit.consoles[1].base,
        Some(token(issuer, "wijkteam-registratie", &audience("wijkteam")).await?),
    );
    let wijk_fg = Api::new(
        &kit.consoles[1].base,
        Some(token(issuer, "school-fg-rapportage", &audience("wijkteam")).await?),
    );
    let school = Api::new(
        &kit.consoles[0].base,
        Some(token(issuer, "leerlingadministratie", &audience("school")).await?),
    );
    let melding = json!({"signal": {"sender_oin": school_oin, "signal_id": "api-follow-1"}});
    let with_melding = |extra: Value| {
        let mut v = melding.clone();
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    // The melding reaches Veilig Thuis's gateway; no stage yet: in triage.
    let mut a = vt.post("/stages/list", &melding).await;
    for _ in 0..200 {
        if a.status != 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        a = vt.post("/stages/list", &melding).await;
    }
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["current"], "TRIAGE", "{}", a.text);
    assert_eq!(a.json["under_assessment"], true);
    assert_eq!(a.json["history"], json!([]));
    assert_problem(&vt_fg.post("/stages/list", &melding).await, 403, "denied");

    // Stages: the gateway's and the hub's refusals, then onderzoek with a review.
    let a = vt
        .post("/stages", &with_melding(json!({"stage": "GESLOTEN"})))
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert!(names_field(&a, "stage"), "{}", a.text);
    let a = vt
        .post(
            "/stages",
            &with_melding(json!({"stage": "ONDERZOEK", "review_date": "31-12-2027"})),
        )
        .await;
    assert!(names_field(&a, "review_date"), "{}", a.text);
    let a = vt
        .post("/stages", &with_melding(json!({"stage": "MONITORING"})))
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert!(names_field(&a, "review_at"), "the hub's field: {}", a.text);
    assert_problem(
        &vt_fg
            .post("/stages", &with_melding(json!({"stage": "ONDERZOEK"})))
            .await,
        403,
        "denied",
    );
    let a = vt
        .post(
            "/stages",
            &with_melding(json!({"stage": "ONDERZOEK", "review_date": date_in(14)})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["current"], "ONDERZOEK");
    assert_eq!(
        a.json["history"][0]["review_state"], "PLANNED",
        "{}",
        a.text
    );
    // The overview of Veilig Thuis's meldingen: this one in onderzoek with its review planned;
    // the filter; a stage that does not exist or a stray parameter named; the FG and the school
    // refused by the gateway.
    {
        let a = vt.get("/meldingen?stage=onderzoek").await;
        assert_eq!(a.status, 200, "{}", a.text);
        let listed = a.json["meldingen"].as_array().cloned().unwrap_or_default();
        assert!(!listed.is_empty(), "{}", a.text);
        assert!(
            listed
                .iter()
                .all(|m| m["stage"] == "ONDERZOEK" && m["under_assessment"] == true),
            "{}",
            a.text
        );
        assert!(
            listed.iter().any(|m| m["review_at"].is_string()),
            "{}",
            a.text
        );
        let a = vt.get("/meldingen?stage=afgesloten").await;
        assert_eq!(a.json["meldingen"], json!([]), "{}", a.text);
        let a = vt.get("/meldingen?stage=gesloten&colour=red").await;
        assert_problem(&a, 422, "invalid-request");
        assert!(
            names_field(&a, "stage") && names_field(&a, "colour"),
            "{}",
            a.text
        );
        assert_problem(&vt_fg.get("/meldingen").await, 403, "denied");
        assert_problem(&school.get("/meldingen").await, 403, "denied");
    }
    assert_eq!(a.json["signal"]["signal_id"], "api-follow-1");

    // Ask the wijkteam.
    let ask = |cats: Value, extra: Value| {
        let mut v = with_melding(json!({
            "request_id": "iv-api-1",
            "recipient_oin": wijkteam_oin,
            "categories": cats,
            "case_reference": "VT-API-0001",
            "question": QUESTION,
            "client_informed": true,
        }));
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    let a = vt
        .post(
            "/information-requests",
            &ask(json!(["informatievraag"]), json!({})),
        )
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert!(names_field(&a, "categories"), "{}", a.text);
    let a = vt
        .post(
            "/information-requests",
            &ask(
                json!(["zorgen_thuissituatie"]),
                json!({"client_informed": false, "case_reference": "111222333"}),
            ),
        )
        .await;
    assert!(names_field(&a, "client_not_informed_reason"), "{}", a.text);
    assert!(names_field(&a, "case_reference"), "{}", a.text);
    assert!(!a.text.contains("111222333"), "no BSN echoed: {}", a.text);
    assert_problem(
        &vt_fg
            .post(
                "/information-requests",
                &ask(json!(["zorgen_thuissituatie"]), json!({})),
            )
            .await,
        403,
        "denied",
    );
    let a = vt
        .post(
            "/information-requests",
            &ask(json!(["zorgen_thuissituatie"]), json!({})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["state"], "OPEN", "{}", a.text);
    assert_eq!(a.json["duplicate"], false);
    assert!(!a.text.contains(QUESTION), "{}", a.text);

    // The wijkteam reads the question, opened here; never the melding.
    let a = wijk.get("/information-requests/received").await;
    assert_eq!(a.status, 200, "{}", a.text);
    let q = a.json["requests"]
        .as_array()
        .and_then(|l| l.iter().find(|q| q["request_id"] == "iv-api-1"))
        .ok_or(format!("no request: {}", a.text))?
        .clone();
    assert_eq!(q["question"]["verified"], true, "{q}");
    assert_eq!(q["question"]["text"], QUESTION, "{q}");
    assert_eq!(q["veilig_thuis_oin"], vt_oin.as_str());
    assert!(
        q.get("signal").is_none() && q.get("zorgmelding_id").is_none(),
        "{q}"
    );
    assert!(!a.text.contains("api-follow-1"), "{}", a.text);
    let log = kit.consoles[1].app.store.audit_log(20).await?;
    assert!(
        log.iter().any(|e| e.action == "information_question_opened"
            && e.object == "iv-api-1"
            && e.professional == "wijkteam-registratie"),
        "{log:?}"
    );
    assert_problem(
        &wijk_fg.get("/information-requests/received").await,
        403,
        "denied",
    );
    assert_problem(
        &vt.get("/information-requests/received").await,
        403,
        "denied",
    );
    assert_problem(&wijk.get("/information-requests/sent").await, 403, "denied");

    // The answer: refused first, then sealed to Veilig Thuis.
    let answer = format!("/information-requests/{vt_oin}/iv-api-1/answer");
    let a = wijk
        .post(
            &answer,
            &json!({"answer": ANSWER, "categories": ["zorgen_thuissituatie"], "decline_reason": "NOT_INVOLVED"}),
        )
        .await;
    assert!(names_field(&a, "decline_reason"), "{}", a.text);
    let a = wijk
        .post(
            &answer,
            &json!({"answer": ANSWER, "categories": ["gezondheid"]}),
        )
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert!(names_field(&a, "categories"), "{}", a.text);
    let a = wijk.post(&answer, &json!({"categories": []})).await;
    assert!(names_field(&a, "answer"), "{}", a.text);
    assert_problem(
        &school
            .post(
                &answer,
                &json!({"answer": ANSWER, "categories": ["zorgen_thuissituatie"]}),
            )
            .await,
        404,
        "not-found",
    );
    assert_problem(
        &wijk_fg
            .post(&answer, &json!({"decline_reason": "NOT_INVOLVED"}))
            .await,
        403,
        "denied",
    );
    let a = wijk
        .post(
            &answer,
            &json!({"answer": ANSWER, "categories": ["zorgen_thuissituatie"]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["state"], "ANSWERED", "{}", a.text);
    assert!(!a.text.contains(ANSWER), "{}", a.text);
    // Once per request.
    assert_problem(
        &wijk
            .post(&answer, &json!({"decline_reason": "NOT_INVOLVED"}))
            .await,
        409,
        "conflict",
    );

    // Veilig Thuis reads the answer, opened here after the audit log.
    let a = vt.get("/information-requests/sent").await;
    assert_eq!(a.status, 200, "{}", a.text);
    let q = a.json["requests"]
        .as_array()
        .and_then(|l| l.iter().find(|q| q["request_id"] == "iv-api-1"))
        .ok_or(format!("no request: {}", a.text))?
        .clone();
    assert_eq!(q["state"], "ANSWERED");
    assert_eq!(q["answer"]["verified"], true, "{q}");
    assert_eq!(q["answer"]["text"], ANSWER, "{q}");
    assert_eq!(q["answer_categories"], json!(["zorgen_thuissituatie"]));
    assert_eq!(q["signal"]["signal_id"], "api-follow-1", "{q}");
    let log = kit.consoles[2].app.store.audit_log(20).await?;
    assert!(
        log.iter().any(|e| e.action == "information_answer_opened"
            && e.object == "iv-api-1"
            && e.professional == "vt-registratie"),
        "{log:?}"
    );
    assert_problem(
        &vt_fg.get("/information-requests/sent").await,
        403,
        "denied",
    );

    // Handed over: no longer under assessment, so the hub refuses a new request.
    let a = vt
        .post("/stages", &with_melding(json!({"stage": "OVERDRACHT"})))
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["under_assessment"], false);
    assert_eq!(
        a.json["history"][0]["review_state"], "SUPERSEDED",
        "{}",
        a.text
    );
    let a = vt
        .post(
            "/information-requests",
            &ask(
                json!(["zorgen_thuissituatie"]),
                json!({"request_id": "iv-api-2"}),
            ),
        )
        .await;
    assert_problem(&a, 409, "conflict");
    assert!(
        a.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no melding under assessment")),
        "{}",
        a.text
    );
    Ok(())
}

/// The GI's maatregel register through the API (as the console's *Register*): its registration
/// system registers an OTS, lists it and ends it with the wijkteam as next. Refused: a wijkteam
/// system and the GI's FG system (403, nothing registered), fields a system got wrong (named,
/// nothing sent), an unknown id, ending twice.
async fn gi_register_steps(kit: &Kit, issuer: &str) -> TestResult {
    const CHILD: &str = "333555703";
    let wijkteam_oin = kit.oin("wijkteam");
    let gi_base = &kit.consoles[3].base;
    let gi = Api::new(
        gi_base,
        Some(token(issuer, "gi-registratie", &audience("jeugdbescherming")).await?),
    );
    let gi_fg = Api::new(
        gi_base,
        Some(
            token(
                issuer,
                "school-fg-rapportage",
                &audience("jeugdbescherming"),
            )
            .await?,
        ),
    );
    let wt = Api::new(
        &kit.consoles[1].base,
        Some(token(issuer, "wijkteam-registratie", &audience("wijkteam")).await?),
    );
    let ends_on = (time::OffsetDateTime::now_utc().date() + time::Duration::days(365)).to_string();
    let ots = json!({
        "bsn": CHILD, "kind": "ots", "ends_on": ends_on,
        "contact_point": "Team Jeugdbescherming Arnhem, 026-1234567",
    });
    // Fields a system got wrong are named; nothing reaches the hub.
    let a = gi
        .post(
            "/maatregelen",
            &json!({"bsn": "123456789", "kind": "ots2", "starts_on": "morgen", "contact_point": " "}),
        )
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert_eq!(
        fields_named(&a),
        ["bsn", "kind", "starts_on", "contact_point"],
        "{}",
        a.text
    );
    let a = gi
        .post(
            "/maatregelen",
            &json!({"bsn": CHILD, "kind": "ots", "contact_point": "bel 026123456789"}),
        )
        .await;
    assert_problem(&a, 422, "invalid-request");
    assert!(!a.text.contains("026123456789"), "{}", a.text);
    // Not a GI's system: refused by the gateway.
    assert_problem(&wt.post("/maatregelen", &ots).await, 403, "denied");
    assert_problem(&gi_fg.post("/maatregelen", &ots).await, 403, "denied");
    assert_problem(
        &gi_fg
            .post("/maatregelen/search", &json!({"bsn": CHILD}))
            .await,
        403,
        "denied",
    );
    // Registered, then listed.
    let a = gi.post("/maatregelen", &ots).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["kind"], "ots", "{}", a.text);
    assert!(!a.text.contains(CHILD), "{}", a.text);
    let id = a.json["maatregel_id"]
        .as_str()
        .ok_or_else(|| format!("no id: {}", a.text))?
        .to_owned();
    let a = gi.post("/maatregelen/search", &json!({"bsn": CHILD})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json["maatregelen"][0]["maatregel_id"],
        id.as_str(),
        "{}",
        a.text
    );
    assert_eq!(a.json["maatregelen"].as_array().map(Vec::len), Some(1));
    // Ending: refused for the FG system, a bad next OIN, an unknown id; then ended, once.
    let end = format!("/maatregelen/{id}/end");
    assert_problem(&gi_fg.post(&end, &json!({})).await, 403, "denied");
    let a = gi.post(&end, &json!({"next_oin": "wijkteam"})).await;
    assert_problem(&a, 422, "invalid-request");
    assert_eq!(fields_named(&a), ["next_oin"], "{}", a.text);
    let a = gi.post("/maatregelen/m_onbekend/end", &json!({})).await;
    assert_eq!(a.status, 404, "{}", a.text);
    let a = gi.post(&end, &json!({"next_oin": wijkteam_oin})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.json["maatregel"]["ended_at"].is_string(), "{}", a.text);
    assert_eq!(
        a.json["maatregel"]["next_oin"],
        wijkteam_oin.as_str(),
        "{}",
        a.text
    );
    assert!(a.json["parties"].is_array(), "{}", a.text);
    assert_problem(&gi.post(&end, &json!({})).await, 409, "conflict");
    let a = gi.post("/maatregelen/search", &json!({"bsn": CHILD})).await;
    assert_eq!(
        a.json["maatregelen"].as_array().map(Vec::len),
        Some(0),
        "{}",
        a.text
    );
    Ok(())
}
