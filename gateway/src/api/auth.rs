//! Who is calling the local API: a system of the organisation with an access token (a JWT) from
//! the organisation's identity provider, obtained with the client-credentials grant.
//!
//! The token is checked against the provider's published signing keys (JWKS, found through the
//! discovery document of the issuer configured for the console login, or `api.issuer`), with an
//! asymmetric algorithm only; its issuer, audience (`api.audience`), expiry and not-before are
//! checked; the calling system's id comes from `api.client_claim` and its convenant roles from
//! `api.roles_claim` through `[api.roles]`, as the console maps a professional's roles.
//!
//! A dev kit has no identity provider: its gateways accept instead tokens signed with a key of
//! their own (`api.dev_key`, issuer [`DEV_API_ISSUER`]), minted by `signaal-gateway dev-token`.
//!
//! No error of this module carries the token or a claim's value.
use crate::config::{ApiSection, DEV_API_ISSUER, GatewayConfig};
use crate::session::Professional;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use openidconnect::core::CoreProviderMetadata;
use openidconnect::{IssuerUrl, reqwest};
use serde_json::{Map, Value};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The signature algorithms accepted: asymmetric only (a token can only have been signed with a
/// key the provider publishes, never with a shared secret).
const ALLOWED_ALGS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The provider's keys are fetched again for an unknown `kid` at most this often (key
/// rotation, without letting forged `kid`s make the gateway hammer the provider).
const JWKS_REFRESH: Duration = Duration::from_secs(30);

/// The key id of dev tokens.
pub const DEV_KEY_ID: &str = "dev-api-1";

/// Why a token was not accepted. Fixed texts: never the token or a claim's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error(
        "send an access token from the organisation's identity provider: Authorization: Bearer <token>"
    )]
    Missing,
    /// Not a JWT.
    #[error("the access token is not a signed JWT")]
    Malformed,
    /// A symmetric, unknown or unexpected algorithm.
    #[error("the access token's signature algorithm is not accepted (asymmetric algorithms only)")]
    Algorithm,
    /// Signed with a key the provider does not publish.
    #[error("the access token is signed with a key the identity provider does not publish")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the access token's signature does not verify")]
    Signature,
    /// Another issuer.
    #[error("the access token was issued by another issuer (iss)")]
    Issuer,
    /// Another audience.
    #[error("the access token is not meant for this API (aud)")]
    Audience,
    /// Expired.
    #[error("the access token has expired (exp)")]
    Expired,
    /// Not valid yet.
    #[error("the access token is not valid yet (nbf)")]
    NotYetValid,
    /// A required claim is missing.
    #[error("the access token has no `{0}` claim")]
    MissingClaim(String),
    /// The client id cannot be used as an actor id.
    #[error("the `{claim}` claim cannot be used as the calling system's id: {reason}")]
    ClientId {
        /// The configured `client_claim`.
        claim: String,
        /// Why (never the value).
        reason: &'static str,
    },
    /// None of the token's scopes or roles maps to a convenant role.
    #[error(
        "this system has no role in the convenant: none of its {0} values is mapped in [api.roles]"
    )]
    NoRole(String),
    /// The provider's keys could not be read.
    #[error("the identity provider's keys cannot be read now: {0}")]
    KeysUnavailable(String),
}

impl AuthError {
    /// 401 for a token that is missing or not accepted, 403 for an accepted system without a
    /// role, 503 when the keys cannot be read.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::NoRole(_) => 403,
            AuthError::KeysUnavailable(_) => 503,
            _ => 401,
        }
    }
}

/// An authenticated caller of the API: the system, acting with convenant roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The system's client id: the actor in the audit log and the `sub` of the hub tokens.
    pub client: String,
    /// Its convenant roles, sorted, without duplicates; never empty.
    pub roles: Vec<String>,
}

impl Caller {
    /// As the actor the shared actions and the hub token take.
    pub fn professional(&self) -> Professional {
        Professional {
            id: self.client.clone(),
            name: self.client.clone(),
            roles: self.roles.clone(),
        }
    }
}

enum Keys {
    /// The provider's JWKS, refreshed on an unknown `kid`.
    Provider {
        uri: url::Url,
        http: reqwest::Client,
        set: tokio::sync::RwLock<(JwkSet, Instant)>,
    },
    /// A dev kit's own key.
    Dev(DecodingKey),
}

/// Checks the API's access tokens.
pub struct ApiAuth {
    cfg: ApiSection,
    issuer: String,
    keys: Keys,
}

impl std::fmt::Debug for ApiAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiAuth")
            .field("issuer", &self.issuer)
            .field("audience", &self.cfg.audience)
            .finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl ApiAuth {
    /// For `[api]` of `config`: discovers the provider's keys (or loads the dev key, creating it
    /// on first use). `Ok(None)` when the API is not configured.
    pub async fn start(config: &GatewayConfig) -> Result<Option<ApiAuth>, String> {
        let Some(cfg) = &config.api else {
            return Ok(None);
        };
        if let Some(path) = &cfg.dev_key {
            let der = dev_key(path)?;
            let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                .map_err(|_| "api.dev_key: not an Ed25519 PKCS#8 key".to_owned())?;
            let public = ring::signature::KeyPair::public_key(&pair)
                .as_ref()
                .to_vec();
            return Ok(Some(ApiAuth {
                cfg: cfg.clone(),
                issuer: DEV_API_ISSUER.to_owned(),
                keys: Keys::Dev(DecodingKey::from_ed_der(&public)),
            }));
        }
        let issuer = cfg
            .issuer
            .clone()
            .or_else(|| config.login.oidc.as_ref().map(|o| o.issuer.clone()))
            .ok_or("api: configure [login.oidc] or api.issuer")?;
        let issuer = issuer.trim_end_matches('/').to_owned();
        let issuer_url =
            IssuerUrl::new(issuer.clone()).map_err(|e| format!("api: issuer is not a URL: {e}"))?;
        crate::oidc::require_secure("issuer", issuer_url.url()).map_err(|e| e.to_string())?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(crate::oidc::HTTP_TIMEOUT)
            .connect_timeout(crate::oidc::HTTP_TIMEOUT)
            .build()
            .map_err(|e| format!("api: HTTP client: {e}"))?;
        let meta = CoreProviderMetadata::discover_async(issuer_url, &http)
            .await
            .map_err(|e| {
                format!(
                    "api: the identity provider {issuer} could not be used: {}",
                    crate::oidc::shorten(&crate::oidc::error_chain(&e))
                )
            })?;
        let uri = meta.jwks_uri().url().clone();
        crate::oidc::require_secure("the provider's jwks_uri", &uri).map_err(|e| e.to_string())?;
        let set = fetch_jwks(&http, &uri)
            .await
            .map_err(|e| format!("api: {e}"))?;
        Ok(Some(ApiAuth {
            cfg: cfg.clone(),
            issuer,
            keys: Keys::Provider {
                uri,
                http,
                set: tokio::sync::RwLock::new((set, Instant::now())),
            },
        }))
    }

    /// The `[api]` section.
    pub fn config(&self) -> &ApiSection {
        &self.cfg
    }

    /// Checks an `Authorization` header's value now.
    pub async fn verify_header(&self, header: Option<&str>) -> Result<Caller, AuthError> {
        let token = header
            .and_then(|h| {
                let (scheme, rest) = h.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        self.verify_at(token, unix_now()).await
    }

    /// Checks `token` as at `now` (Unix seconds; a parameter so that expiry can be tested
    /// without waiting).
    pub async fn verify_at(&self, token: &str, now: u64) -> Result<Caller, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        if !ALLOWED_ALGS.contains(&header.alg) {
            return Err(AuthError::Algorithm);
        }
        let key = self.key_for(header.kid.as_deref(), header.alg).await?;
        let mut v = Validation::new(header.alg);
        v.algorithms = vec![header.alg];
        v.set_audience(&[&self.cfg.audience]);
        v.iss = None;
        v.validate_exp = false;
        v.validate_nbf = false;
        v.set_required_spec_claims(&["exp", "aud", "iss"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::InvalidAudience => AuthError::Audience,
                K::MissingRequiredClaim(c) => AuthError::MissingClaim(c.clone()),
                K::InvalidSignature => AuthError::Signature,
                K::InvalidAlgorithm | K::InvalidAlgorithmName => AuthError::Algorithm,
                K::InvalidEcdsaKey | K::InvalidRsaKey(_) | K::InvalidEddsaKey => {
                    AuthError::UnknownKey
                }
                _ => AuthError::Malformed,
            }
        })?;
        let claims = data.claims;
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        if iss.trim_end_matches('/') != self.issuer {
            return Err(AuthError::Issuer);
        }
        let leeway = self.cfg.leeway_secs;
        let exp = claims
            .get("exp")
            .and_then(Value::as_u64)
            .ok_or_else(|| AuthError::MissingClaim("exp".into()))?;
        if now > exp.saturating_add(leeway) {
            return Err(AuthError::Expired);
        }
        if let Some(nbf) = claims.get("nbf").and_then(Value::as_u64)
            && now.saturating_add(leeway) < nbf
        {
            return Err(AuthError::NotYetValid);
        }
        caller(&self.cfg, &claims)
    }

    async fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, AuthError> {
        match &self.keys {
            Keys::Dev(key) => {
                if alg != Algorithm::EdDSA || kid.is_some_and(|k| k != DEV_KEY_ID) {
                    return Err(AuthError::UnknownKey);
                }
                Ok(key.clone())
            }
            Keys::Provider { uri, http, set } => {
                {
                    let guard = set.read().await;
                    if let Some(k) = pick(&guard.0, kid, alg)? {
                        return Ok(k);
                    }
                    if guard.1.elapsed() < JWKS_REFRESH {
                        return Err(AuthError::UnknownKey);
                    }
                }
                // Claim the refresh (so concurrent requests do not fetch too), then fetch
                // without holding the lock: a slow provider must not stall every request.
                let due = {
                    let mut guard = set.write().await;
                    let due = guard.1.elapsed() >= JWKS_REFRESH;
                    if due {
                        guard.1 = Instant::now();
                    }
                    due
                };
                if due {
                    let fresh = fetch_jwks(http, uri)
                        .await
                        .map_err(AuthError::KeysUnavailable)?;
                    set.write().await.0 = fresh;
                }
                let guard = set.read().await;
                pick(&guard.0, kid, alg)?.ok_or(AuthError::UnknownKey)
            }
        }
    }
}

/// The signing key for `kid` (or the only key when the token names none), if its declared use
/// and algorithm allow `alg`.
fn pick(set: &JwkSet, kid: Option<&str>, alg: Algorithm) -> Result<Option<DecodingKey>, AuthError> {
    let usable =
        |k: &&Jwk| !matches!(k.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature);
    let found: Option<&Jwk> = match kid {
        Some(kid) => set
            .keys
            .iter()
            .filter(usable)
            .find(|k| k.common.key_id.as_deref() == Some(kid)),
        None => {
            let mut candidates = set.keys.iter().filter(usable);
            match (candidates.next(), candidates.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        }
    };
    let Some(jwk) = found else {
        return Ok(None);
    };
    // Both serialize as their JOSE names (`RS256`).
    if let Some(declared) = jwk.common.key_algorithm
        && serde_json::to_value(declared).ok() != serde_json::to_value(alg).ok()
    {
        return Err(AuthError::Algorithm);
    }
    // A symmetric key in a JWKS is never accepted.
    if matches!(
        jwk.algorithm,
        jsonwebtoken::jwk::AlgorithmParameters::OctetKey(_)
    ) {
        return Err(AuthError::Algorithm);
    }
    DecodingKey::from_jwk(jwk)
        .map(Some)
        .map_err(|_| AuthError::UnknownKey)
}

async fn fetch_jwks(http: &reqwest::Client, uri: &url::Url) -> Result<JwkSet, String> {
    let r = http
        .get(uri.as_str())
        .send()
        .await
        .map_err(|e| format!("the provider's JWKS: {}", crate::oidc::error_chain(&e)))?;
    if !r.status().is_success() {
        return Err(format!("the provider's JWKS answered {}", r.status()));
    }
    let bytes = r
        .bytes()
        .await
        .map_err(|e| format!("the provider's JWKS: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|_| "the provider's JWKS does not parse".into())
}

/// Maps verified claims to the calling system: its id from `client_claim` (the same rule as a
/// professional's id: no run of 9 or more digits), its roles from `roles_claim` through
/// `[api.roles]` (a space-separated string such as `scope` is split).
pub fn caller(cfg: &ApiSection, claims: &Map<String, Value>) -> Result<Caller, AuthError> {
    let client = match crate::oidc::claim(claims, &cfg.client_claim) {
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(AuthError::ClientId {
                claim: cfg.client_claim.clone(),
                reason: "it is not a string",
            });
        }
        None => return Err(AuthError::MissingClaim(cfg.client_claim.clone())),
    };
    crate::oidc::professional_id(&client).map_err(|reason| AuthError::ClientId {
        claim: cfg.client_claim.clone(),
        reason,
    })?;
    let values = match crate::oidc::claim(claims, &cfg.roles_claim) {
        Some(Value::String(s)) => Value::Array(
            s.split_whitespace()
                .map(|v| Value::String(v.to_owned()))
                .collect(),
        ),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    let roles = crate::oidc::map_role_values(&cfg.roles, Some(&values));
    if roles.is_empty() {
        return Err(AuthError::NoRole(cfg.roles_claim.clone()));
    }
    Ok(Caller { client, roles })
}

/// A dev kit organisation's API token key (PKCS#8 DER), created owner-only on first use. The
/// file holds the PKCS#8 bytes as hex. DEV MATERIAL.
pub fn dev_key(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if !path.exists() {
        let rng = ring::rand::SystemRandom::new();
        let doc = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| "api.dev_key: the random number generator failed".to_owned())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(mut f) => f
                .write_all(hex::encode(doc.as_ref()).as_bytes())
                .map_err(|e| format!("{}: {e}", path.display()))?,
            // Made by another gateway or `dev-token` at the same moment: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    let text = crate::config::read_secret(path, "api.dev_key").map_err(|e| e.to_string())?;
    hex::decode(text.trim()).map_err(|_| format!("api.dev_key: {} is not hex", path.display()))
}

/// Mints a dev kit API token (DEV MATERIAL): issuer [`DEV_API_ISSUER`], the organisation's dev
/// audience, `client_id` = `client`, `roles` = `roles`, valid `lifetime_secs`.
pub fn mint_dev_token(
    key_file: &Path,
    audience: &str,
    client: &str,
    roles: &[String],
    lifetime_secs: i64,
) -> Result<String, String> {
    crate::oidc::professional_id(client).map_err(|r| format!("--client: {r}"))?;
    let der = dev_key(key_file)?;
    let claims = serde_json::json!({
        "iss": DEV_API_ISSUER,
        "aud": audience,
        "sub": client,
        "client_id": client,
        "roles": roles,
    });
    signaalhub_client::tokens::mint_jwt(&der, DEV_KEY_ID, &claims, lifetime_secs)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn cfg() -> ApiSection {
        let mut roles = BTreeMap::new();
        roles.insert("signaal:ib".to_owned(), vec!["ib_er".to_owned()]);
        roles.insert("signaal:fg".to_owned(), vec!["fg".to_owned()]);
        ApiSection {
            audience: "https://gw.example/api".into(),
            issuer: None,
            client_claim: "client_id".into(),
            roles_claim: "scope".into(),
            roles,
            leeway_secs: 30,
            dev_key: None,
        }
    }

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn scope_is_split_and_mapped() {
        let c = caller(
            &cfg(),
            &claims(
                json!({"client_id": "leerlingadministratie", "scope": "openid signaal:ib other"}),
            ),
        );
        assert_eq!(
            c,
            Ok(Caller {
                client: "leerlingadministratie".into(),
                roles: vec!["ib_er".into()]
            })
        );
    }

    #[test]
    fn a_roles_list_works_too_and_no_role_is_403() {
        let mut c = cfg();
        c.roles_claim = "realm_access.roles".into();
        let ok = caller(
            &c,
            &claims(json!({"client_id": "x", "realm_access": {"roles": ["signaal:fg"]}})),
        );
        assert_eq!(ok.map(|c| c.roles), Ok(vec!["fg".to_owned()]));
        let e = caller(
            &cfg(),
            &claims(json!({"client_id": "x", "scope": "openid"})),
        );
        assert!(matches!(&e, Err(AuthError::NoRole(_))), "{e:?}");
        assert_eq!(e.err().map(|e| e.status()), Some(403));
    }

    #[test]
    fn a_bsn_like_client_id_is_refused_without_echoing_it() {
        let e = caller(
            &cfg(),
            &claims(json!({"client_id": "123456782", "scope": "signaal:ib"})),
        );
        let text = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.contains("BSN") && !text.contains("123456782"),
            "{text}"
        );
        let e = caller(&cfg(), &claims(json!({"scope": "signaal:ib"})));
        assert_eq!(e, Err(AuthError::MissingClaim("client_id".into())));
    }

    #[test]
    fn a_shared_secret_or_an_encryption_key_in_the_jwks_is_never_used() -> Result<(), String> {
        let set: JwkSet = serde_json::from_value(json!({"keys": [
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "enc", "use": "enc",
             "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "sig", "alg": "EdDSA",
             "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        ]}))
        .map_err(|e| e.to_string())?;
        assert!(matches!(
            pick(&set, Some("hmac"), Algorithm::RS256),
            Err(AuthError::Algorithm)
        ));
        assert!(matches!(
            pick(&set, Some("enc"), Algorithm::EdDSA),
            Ok(None)
        ));
        assert!(matches!(
            pick(&set, Some("sig"), Algorithm::EdDSA),
            Ok(Some(_))
        ));
        // A key declared for EdDSA is not used for RS256.
        assert!(matches!(
            pick(&set, Some("sig"), Algorithm::RS256),
            Err(AuthError::Algorithm)
        ));
        // Without a kid only a single signing key is a candidate.
        assert!(matches!(pick(&set, None, Algorithm::EdDSA), Ok(None)));
        Ok(())
    }

    #[tokio::test]
    async fn dev_tokens_verify_and_expire_by_the_injected_clock() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let key = dir.path().join("school-api-dev-key.hex");
        let mut c = cfg();
        c.roles_claim = "roles".into();
        c.roles.insert("ib_er".to_owned(), vec!["ib_er".to_owned()]);
        c.dev_key = Some(key.clone());
        let der = dev_key(&key)?;
        let pair =
            ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).map_err(|_| "key")?;
        let public = ring::signature::KeyPair::public_key(&pair)
            .as_ref()
            .to_vec();
        let auth = ApiAuth {
            cfg: c.clone(),
            issuer: DEV_API_ISSUER.into(),
            keys: Keys::Dev(DecodingKey::from_ed_der(&public)),
        };
        let token = mint_dev_token(&key, &c.audience, "sis", &["ib_er".into()], 60)?;
        let now = unix_now();
        let ok = auth.verify_at(&token, now).await;
        assert_eq!(ok.map(|c| c.client), Ok("sis".to_owned()));
        assert_eq!(
            auth.verify_at(&token, now + 60 + 31).await,
            Err(AuthError::Expired)
        );
        let other = mint_dev_token(&key, "urn:other", "sis", &["ib_er".into()], 60)?;
        assert_eq!(auth.verify_at(&other, now).await, Err(AuthError::Audience));
        assert_eq!(
            auth.verify_header(Some("Basic abc")).await,
            Err(AuthError::Missing)
        );
        assert_eq!(
            auth.verify_header(Some("Bearer not.a.jwt")).await,
            Err(AuthError::Malformed)
        );
        Ok(())
    }
}
