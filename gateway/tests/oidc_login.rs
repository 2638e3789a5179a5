//! Logs in against a real OpenID Connect provider: panva's `oidc-provider` (OpenID Certified)
//! on Node, started from `tests/oidc-provider/provider.mjs`, driven the way a browser would be
//! (authorize -> login form -> consent -> redirect back with `code` and `state`), then
//! [`OidcLogin::finish`] exchanges the code and verifies the ID token.
//!
//! Needs `node` (18+) and `npm`; the first run installs the pinned provider with `npm ci` into
//! `tests/oidc-provider/node_modules`. Without them the test prints `oidc_login: SKIPPED: ..`
//! and passes — except when `CI=true`, where it fails instead.
mod common;

use common::provider::{CLIENT_ID, CLIENT_SECRET, Provider, ensure_provider_installed, in_ci, say};
use openidconnect::reqwest;
use signaalhub_gateway::config::OidcSection;
use signaalhub_gateway::oidc::{OidcError, OidcLogin, PendingLogin, Professional};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Nothing listens there: the browser is not sent to the gateway, the test reads the redirect.
const PUBLIC_URL: &str = "http://127.0.0.1:9/";

/// What a browser does between the authorize URL and the redirect back to the gateway: follows
/// the provider's redirects, fills in its login form (`login` = account id) and confirms its
/// consent page. Returns the `code` and `state` from the redirect to `redirect_uri` (not
/// followed), or the `error` the provider sent there.
async fn browse(
    authorize_url: &str,
    account: &str,
    redirect_uri: &str,
) -> Result<(String, String), String> {
    // A fresh browser per login: no provider session carries over between accounts.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let mut url = reqwest::Url::parse(authorize_url).map_err(|e| e.to_string())?;
    let mut form: Option<Vec<(&str, String)>> = None;
    let mut trail = Vec::new();
    for _ in 0..16 {
        trail.push(format!(
            "{} {}",
            if form.is_some() { "POST" } else { "GET" },
            url.path()
        ));
        let request = match form.take() {
            Some(fields) => browser.post(url.clone()).form(&fields),
            None => browser.get(url.clone()),
        };
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| format!("{status} without a Location after {trail:?}"))?;
            url = url.join(location).map_err(|e| e.to_string())?;
            if url.as_str().starts_with(redirect_uri) {
                let q: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
                if let Some(e) = q.get("error") {
                    return Err(format!("the provider redirected back with error={e}"));
                }
                return match (q.get("code"), q.get("state")) {
                    (Some(c), Some(s)) => Ok((c.clone(), s.clone())),
                    _ => Err(format!("no code/state in the redirect back: {q:?}")),
                };
            }
            continue;
        }
        let html = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status} after {trail:?}: {}", first(&html, 400)));
        }
        let action = attribute(&html, "<form", "action")
            .ok_or_else(|| format!("no form after {trail:?}: {}", first(&html, 400)))?;
        let prompt = html
            .split("name=\"prompt\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_default();
        form = Some(match prompt {
            "login" => vec![
                ("prompt", "login".to_owned()),
                ("login", account.to_owned()),
                ("password", "any password".to_owned()),
            ],
            "consent" => vec![("prompt", "consent".to_owned())],
            other => return Err(format!("unexpected prompt {other:?} after {trail:?}")),
        });
        url = url
            .join(&action.replace("&amp;", "&"))
            .map_err(|e| e.to_string())?;
    }
    Err(format!("no redirect back after {trail:?}"))
}

/// The value of `attr` in the first `tag` of `html`.
fn attribute(html: &str, tag: &str, attr: &str) -> Option<String> {
    let start = html.find(tag)?;
    let rest = &html[start..];
    let rest = &rest[..rest.find('>')?];
    let v = rest.split(&format!("{attr}=\"")).nth(1)?;
    Some(v.split('"').next()?.to_owned())
}

fn first(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn config(issuer: &str) -> OidcSection {
    let mut roles = BTreeMap::new();
    roles.insert(
        "intern_begeleider".to_owned(),
        vec!["ib_er".to_owned(), "zorgcoordinator".to_owned()],
    );
    roles.insert("mentor".to_owned(), vec!["leerkracht".to_owned()]);
    OidcSection {
        issuer: issuer.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: Some(CLIENT_SECRET.to_owned()),
        roles_claim: "roles".to_owned(),
        professional_claim: "sub".to_owned(),
        roles,
        scopes: vec!["profile".to_owned()],
    }
}

/// One login as `account` up to the redirect back.
async fn start_login(
    login: &OidcLogin,
    account: &str,
) -> Result<(PendingLogin, String, String), String> {
    let (url, pending) = login.begin();
    let (code, state) = browse(&url, account, login.redirect_uri()).await?;
    Ok((pending, code, state))
}

/// No error message may carry a secret of the exchange.
fn assert_clean(e: &OidcError, secrets: &[&str]) {
    let text = format!("{e} {e:?}");
    for s in secrets {
        assert!(!text.contains(s), "the error shows a secret: {text}");
    }
}

#[tokio::test]
async fn oidc_login() -> TestResult {
    if let Err(reason) = ensure_provider_installed() {
        if in_ci() {
            return Err(format!("oidc_login: cannot run in CI (CI=true): {reason}").into());
        }
        say(&format!("oidc_login: SKIPPED: {reason}"));
        return Ok(());
    }
    let started = Instant::now();
    let redirect_uri = format!("{}/login/oidc/callback", PUBLIC_URL.trim_end_matches('/'));
    let provider = Provider::start(&redirect_uri)?;
    let outcome = scenarios(&provider.issuer).await;
    if let Err(e) = &outcome {
        say(&format!(
            "oidc_login: FAILED: {e}\nthe provider's stderr:\n{}",
            provider.log()
        ));
    }
    drop(provider);
    say(&format!(
        "oidc_login: the flows took {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    outcome
}

async fn scenarios(issuer: &str) -> TestResult {
    let login = OidcLogin::discover(&config(issuer), PUBLIC_URL).await?;
    assert_eq!(
        login.redirect_uri(),
        "http://127.0.0.1:9/login/oidc/callback"
    );

    // The authorize URL asks for a code with PKCE (S256), a state and a nonce.
    let (url, pending) = login.begin();
    let q: BTreeMap<String, String> = reqwest::Url::parse(&url)?
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(q.get("response_type").map(String::as_str), Some("code"));
    assert_eq!(
        q.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    assert_eq!(q.get("state").map(String::as_str), Some(pending.state()));
    assert!(
        q.contains_key("nonce") && q.contains_key("code_challenge"),
        "{q:?}"
    );
    assert!(
        q.get("scope")
            .is_some_and(|s| s.contains("openid") && s.contains("profile"))
    );
    let debug = format!("{pending:?}");
    assert!(debug.contains("[redacted]"), "{debug}");

    // 1. The intern begeleider logs in; her provider role maps to two convenant roles.
    let (pending, code, state) = start_login(&login, "ib-jansen").await?;
    let replay = pending.clone();
    let p = login.finish(pending, &code, &state).await?;
    assert_eq!(
        p,
        Professional {
            id: "ib-jansen".into(),
            name: "Ingrid Jansen".into(),
            roles: vec!["ib_er".into(), "zorgcoordinator".into()],
        }
    );

    // 2. The same code a second time is refused by the provider.
    let e = login.finish(replay, &code, &state).await;
    match &e {
        Err(e @ OidcError::Refused(m)) => {
            assert!(m.contains("invalid_grant"), "{m}");
            assert_clean(e, &[&code, CLIENT_SECRET]);
        }
        other => return Err(format!("a replayed code was not refused: {other:?}").into()),
    }

    // 3. A wrong state is refused before the code is used; the right one still works after.
    let (pending, code, state) = start_login(&login, "ib-jansen").await?;
    let e = login.finish(pending.clone(), &code, "not-the-state").await;
    assert!(matches!(e, Err(OidcError::StateMismatch)), "{e:?}");
    assert!(login.finish(pending, &code, &state).await.is_ok());

    // 4. A code bound to another login's PKCE challenge is refused (PKCE is enforced).
    let (_, code, _) = start_login(&login, "ib-jansen").await?;
    let (_, other) = login.begin();
    let other_state = other.state().to_owned();
    let e = login.finish(other, &code, &other_state).await;
    match &e {
        Err(e @ OidcError::Refused(_)) => assert_clean(e, &[&code, CLIENT_SECRET]),
        other => return Err(format!("a code without its verifier was accepted: {other:?}").into()),
    }

    // 5. A provider role given as one string; the name from preferred_username.
    let (pending, code, state) = start_login(&login, "mentor-bakker").await?;
    let p = login.finish(pending, &code, &state).await?;
    assert_eq!(
        (p.name.as_str(), p.roles.as_slice()),
        ("mbakker", &["leerkracht".to_owned()][..])
    );

    // 6. An account none of whose roles is mapped cannot log in.
    let (pending, code, state) = start_login(&login, "conciërge-piet").await?;
    let e = login.finish(pending, &code, &state).await;
    assert!(matches!(e, Err(OidcError::NoRole)), "{e:?}");

    // 7. A subject that could be a BSN is refused, without echoing it.
    let (pending, code, state) = start_login(&login, "123456782").await?;
    let e = login.finish(pending, &code, &state).await;
    match &e {
        Err(e @ OidcError::ProfessionalId { .. }) => assert_clean(e, &["123456782", &code]),
        other => return Err(format!("a BSN-like id was accepted: {other:?}").into()),
    }
    Ok(())
}
