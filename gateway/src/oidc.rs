//! Logging professionals in with OpenID Connect: the authorization code flow with PKCE against
//! the organisation's own identity provider (`[login.oidc]`).
//!
//! The flow, as the console drives it:
//!
//! 1. [`OidcLogin::discover`] once at start: reads the provider's
//!    `/.well-known/openid-configuration` and its signing keys (JWKS).
//! 2. [`OidcLogin::begin`] per login: the URL to send the browser to, and a [`PendingLogin`]
//!    (state, nonce, PKCE verifier) the gateway keeps **server-side** (keyed by
//!    [`PendingLogin::state`]) until the browser comes back.
//! 3. [`OidcLogin::finish`] at `<public_url>/login/oidc/callback?code=..&state=..`: checks the
//!    state, exchanges the code with the PKCE verifier, verifies the ID token (signature against
//!    the provider's JWKS with an asymmetric algorithm only, issuer, audience, nonce, expiry,
//!    `at_hash`) and maps its claims to a [`Professional`] with convenant roles.
//!
//! Nothing this module returns or logs carries a token, an authorization code, the PKCE
//! verifier or the client secret.
use crate::config::OidcSection;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, ClaimsVerificationError, Client,
    ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IdToken, IdTokenClaims, IdTokenFields, IdTokenVerifier, IssuerUrl, JsonWebKeySet,
    JsonWebKeySetUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, StandardErrorResponse,
    StandardTokenResponse, TokenResponse, reqwest,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::sync::RwLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The path of the redirect URI under the gateway's public URL.
pub const CALLBACK_PATH: &str = "/login/oidc/callback";

/// Every HTTP call to the provider (discovery, JWKS, token) gives up after this long.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a started login may take before the browser comes back.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(10 * 60);

/// The ID token's signature algorithms accepted: asymmetric only, so that an ID token can only
/// have been signed with a key in the provider's JWKS (never with the shared client secret).
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// Why a login could not start or finish. The messages are fit for the login page and the log:
/// they never contain a token, an authorization code, the PKCE verifier or the client secret.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// `[login.oidc]` or the public URL is not usable.
    #[error("login.oidc: {0}")]
    Config(String),
    /// The provider's metadata or signing keys could not be read.
    #[error("the identity provider {issuer} could not be used: {reason}")]
    Discovery {
        /// The configured issuer.
        issuer: String,
        /// Why.
        reason: String,
    },
    /// The `state` that came back is not the one this login started with.
    #[error("this login was not started here (state mismatch); start again")]
    StateMismatch,
    /// The browser came back after [`LOGIN_WINDOW`].
    #[error("the login took too long; start again")]
    Expired,
    /// The provider could not be reached or answered with something unusable.
    #[error("the identity provider could not be reached: {0}")]
    Unreachable(String),
    /// The provider refused to exchange the code (e.g. `invalid_grant`: used twice, expired, or
    /// the PKCE verifier does not match).
    #[error("the identity provider refused the login: {0}")]
    Refused(String),
    /// The ID token is missing or does not verify.
    #[error("the identity provider's ID token was not accepted: {0}")]
    IdToken(String),
    /// A claim the configuration names is not in the ID token.
    #[error("the identity provider did not send the `{0}` claim")]
    MissingClaim(String),
    /// The claim that names the professional holds something the hub cannot use as an id.
    #[error("the `{claim}` claim cannot be used as the professional id: {reason}")]
    ProfessionalId {
        /// The configured `professional_claim`.
        claim: String,
        /// Why (never the value itself).
        reason: &'static str,
    },
    /// None of the professional's provider roles maps to a convenant role.
    #[error("your account has no role in this convenant; ask your administrator")]
    NoRole,
}

/// A logged-in professional, as the console's session holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Professional {
    /// The professional id the hub sees (from `professional_claim`).
    pub id: String,
    /// Display name (`name`, else `preferred_username`, else the id).
    pub name: String,
    /// Convenant roles, sorted, without duplicates; never empty.
    pub roles: Vec<String>,
}

/// What the gateway keeps server-side between [`OidcLogin::begin`] and [`OidcLogin::finish`]
/// (keyed by [`PendingLogin::state`]). Serializable so it can live in the gateway's store; its
/// `Debug` does not show the PKCE verifier or the nonce.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    state: String,
    nonce: String,
    pkce_verifier: String,
    /// Unix seconds when the login started.
    started: u64,
}

impl PendingLogin {
    /// The CSRF `state` sent to the provider (also in the authorize URL, so not a secret): the
    /// key under which to keep this pending login.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// When the login started (Unix seconds).
    pub fn started(&self) -> u64 {
        self.started
    }
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("state", &self.state)
            .field("nonce", &"[redacted]")
            .field("pkce_verifier", &"[redacted]")
            .field("started", &self.started)
            .finish()
    }
}

/// Every claim of the ID token beyond the standard ones, so that `roles_claim` and
/// `professional_claim` can name any claim.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl AdditionalClaims for ExtraClaims {}

type Claims = IdTokenClaims<ExtraClaims, CoreGenderClaim>;
type Token = IdToken<
    ExtraClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenResp = StandardTokenResponse<TokenFields, CoreTokenType>;
/// The client, by whether its token endpoint is known (discovery: maybe; after: set).
type OidcClientWith<HasTokenUrl> = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResp,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
    EndpointMaybeSet,
>;
type OidcClient = OidcClientWith<EndpointSet>;
type Jwks = JsonWebKeySet<CoreJsonWebKey>;

/// The organisation's provider, discovered, and this gateway as its client.
pub struct OidcLogin {
    cfg: OidcSection,
    client: OidcClient,
    issuer: IssuerUrl,
    jwks_uri: JsonWebKeySetUrl,
    /// The provider's signing keys; fetched again once when an ID token names a key not in it
    /// (key rotation).
    jwks: RwLock<Jwks>,
    http: reqwest::Client,
}

impl std::fmt::Debug for OidcLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcLogin")
            .field("issuer", &self.cfg.issuer)
            .field("client_id", &self.cfg.client_id)
            .field(
                "redirect_uri",
                &self.client.redirect_uri().map(|u| u.as_str()),
            )
            .finish_non_exhaustive()
    }
}

impl OidcLogin {
    /// Reads the provider's metadata and signing keys. `public_url` is the gateway's address as
    /// browsers use it; the redirect URI is `<public_url>/login/oidc/callback` and must be
    /// registered with the provider for `client_id`.
    pub async fn discover(cfg: &OidcSection, public_url: &str) -> Result<OidcLogin, OidcError> {
        let issuer = IssuerUrl::new(cfg.issuer.trim_end_matches('/').to_owned())
            .map_err(|e| OidcError::Config(format!("issuer is not a URL: {e}")))?;
        require_secure("issuer", issuer.url())?;
        if cfg.client_id.is_empty() {
            return Err(OidcError::Config("client_id is empty".into()));
        }
        let redirect = RedirectUrl::new(format!(
            "{}{CALLBACK_PATH}",
            public_url.trim_end_matches('/')
        ))
        .map_err(|e| OidcError::Config(format!("public_url is not a URL: {e}")))?;

        let http = reqwest::Client::builder()
            // Following redirects would open the gateway to SSRF (openidconnect's advice).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .connect_timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| OidcError::Config(format!("HTTP client: {e}")))?;
        let discovery = |reason: String| OidcError::Discovery {
            issuer: cfg.issuer.clone(),
            reason,
        };
        let meta = CoreProviderMetadata::discover_async(issuer.clone(), &http)
            .await
            .map_err(|e| discovery(shorten(&error_chain(&e))))?;
        require_secure(
            "the provider's authorization_endpoint",
            meta.authorization_endpoint().url(),
        )?;
        let token_url = meta
            .token_endpoint()
            .cloned()
            .ok_or_else(|| discovery("its metadata names no token_endpoint".into()))?;
        require_secure("the provider's token_endpoint", token_url.url())?;
        let jwks_uri = meta.jwks_uri().clone();
        require_secure("the provider's jwks_uri", jwks_uri.url())?;
        let jwks = meta.jwks().clone();

        let client = OidcClientWith::<EndpointMaybeSet>::from_provider_metadata(
            meta,
            ClientId::new(cfg.client_id.clone()),
            cfg.client_secret.clone().map(ClientSecret::new),
        )
        .set_token_uri(token_url)
        .set_redirect_uri(redirect);
        Ok(OidcLogin {
            cfg: cfg.clone(),
            client,
            issuer,
            jwks_uri,
            jwks: RwLock::new(jwks),
            http,
        })
    }

    /// The redirect URI this gateway sends (`<public_url>/login/oidc/callback`).
    pub fn redirect_uri(&self) -> &str {
        self.client
            .redirect_uri()
            .map(|u| u.as_str())
            .unwrap_or_default()
    }

    /// Starts a login: the provider's authorize URL to send the browser to, and what to keep
    /// server-side until it comes back.
    pub fn begin(&self) -> (String, PendingLogin) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for s in &self.cfg.scopes {
            if s != "openid" {
                request = request.add_scope(Scope::new(s.clone()));
            }
        }
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            started: unix_now(),
        };
        (url.into(), pending)
    }

    /// Finishes a login when the browser comes back with `code` and `state`: checks the state
    /// (constant time) and the login window, exchanges the code with the PKCE verifier, verifies
    /// the ID token and maps its claims to a professional.
    pub async fn finish(
        &self,
        pending: PendingLogin,
        code: &str,
        state: &str,
    ) -> Result<Professional, OidcError> {
        if !crate::session::same_token(&pending.state, state) {
            return Err(OidcError::StateMismatch);
        }
        let now = unix_now();
        if now.saturating_sub(pending.started) > LOGIN_WINDOW.as_secs()
            || pending.started > now + 60
        {
            return Err(OidcError::Expired);
        }
        let secrets = [
            code,
            pending.pkce_verifier.as_str(),
            self.cfg.client_secret.as_deref().unwrap_or(""),
        ];
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| token_error(&e, &secrets))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::IdToken("the token response has no ID token".into()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = self.verify(id_token, &nonce).await?;
        if let Some(expected) = claims.access_token_hash() {
            let verifier = self.verifier();
            let alg = id_token
                .signing_alg()
                .map_err(|_| OidcError::IdToken("unsupported signature algorithm".into()))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|_| OidcError::IdToken("no signing key for at_hash".into()))?;
            let actual = AccessTokenHash::from_token(response.access_token(), alg, key)
                .map_err(|_| OidcError::IdToken("cannot compute at_hash".into()))?;
            if actual != *expected {
                return Err(OidcError::IdToken(
                    "at_hash does not match the access token".into(),
                ));
            }
        }
        professional(&self.cfg, &all_claims(&claims))
    }

    fn verifier(&self) -> IdTokenVerifier<'static, CoreJsonWebKey> {
        let jwks = match self.jwks.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        // A public-client verifier: the client secret is never accepted as an HMAC key.
        IdTokenVerifier::new_public_client(
            ClientId::new(self.cfg.client_id.clone()),
            self.issuer.clone(),
            jwks,
        )
        .set_allowed_algs(ALLOWED_ALGS)
    }

    /// Verifies the ID token; when it names a key the cached JWKS lacks, fetches the JWKS once
    /// more (the provider rotated its keys) and tries again.
    async fn verify(&self, token: &Token, nonce: &Nonce) -> Result<Claims, OidcError> {
        match token.claims(&self.verifier(), nonce) {
            Ok(c) => return Ok(c.clone()),
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {}
            Err(e) => return Err(claims_error(&e)),
        }
        let fresh = JsonWebKeySet::fetch_async(&self.jwks_uri, &self.http)
            .await
            .map_err(|e| OidcError::Unreachable(format!("JWKS: {}", shorten(&error_chain(&e)))))?;
        match self.jwks.write() {
            Ok(mut k) => *k = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        token
            .claims(&self.verifier(), nonce)
            .cloned()
            .map_err(|e| claims_error(&e))
    }
}

/// `https`, or `http` to a loopback host (tests, a provider on the same machine in dev).
pub(crate) fn require_secure(what: &str, url: &url::Url) -> Result<(), OidcError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(OidcError::Config(format!(
            "{what} must use https (http only for a loopback address)"
        ))),
        other => Err(OidcError::Config(format!(
            "{what} has scheme {other:?}; it must use https"
        ))),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An error and its sources, one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

/// At most 300 characters (a provider's error page can be long).
pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 300;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Replaces every non-empty secret in `text` (a provider may echo what it was sent).
fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut t = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        t = t.replace(s, "[redacted]");
    }
    t
}

fn token_error<RE: std::error::Error + 'static>(
    e: &RequestTokenError<RE, StandardErrorResponse<CoreErrorResponseType>>,
    secrets: &[&str],
) -> OidcError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let mut m = r.error().as_ref().to_owned();
            if let Some(d) = r.error_description() {
                m.push_str(" (");
                m.push_str(&shorten(d));
                m.push(')');
            }
            OidcError::Refused(scrub(&m, secrets))
        }
        RequestTokenError::Request(inner) => {
            OidcError::Unreachable(scrub(&shorten(&error_chain(inner)), secrets))
        }
        // The body is not shown: it may hold tokens.
        RequestTokenError::Parse(_, _) => {
            OidcError::Unreachable("the token endpoint's answer does not parse".into())
        }
        RequestTokenError::Other(m) => OidcError::Unreachable(scrub(&shorten(m), secrets)),
    }
}

/// Fixed texts only: the library's own messages can quote claim values.
fn claims_error(e: &ClaimsVerificationError) -> OidcError {
    let m = match e {
        ClaimsVerificationError::Expired(_) => "it has expired",
        ClaimsVerificationError::InvalidAudience(_) => "it was issued to another client (aud)",
        ClaimsVerificationError::InvalidIssuer(_) => "it was issued by another issuer (iss)",
        ClaimsVerificationError::InvalidNonce(_) => "its nonce is not this login's",
        ClaimsVerificationError::InvalidSubject(_) => "its subject is invalid",
        ClaimsVerificationError::InvalidAuthTime(_) => "its auth_time is invalid",
        ClaimsVerificationError::InvalidAuthContext(_) => "its acr is invalid",
        ClaimsVerificationError::SignatureVerification(s) => match s {
            SignatureVerificationError::NoMatchingKey => {
                "it is signed with a key the provider does not publish"
            }
            SignatureVerificationError::DisallowedAlg(_)
            | SignatureVerificationError::UnsupportedAlg(_) => {
                "its signature algorithm is not accepted (asymmetric algorithms only)"
            }
            _ => "its signature does not verify",
        },
        ClaimsVerificationError::Unsupported(_) => "it uses an unsupported feature",
        _ => "it does not verify",
    };
    OidcError::IdToken(m.into())
}

/// The verified ID token's claims as one JSON object: every additional claim, plus the standard
/// ones `professional_claim` may name (`sub`, `name`, `preferred_username`, `email`).
fn all_claims(c: &Claims) -> Map<String, Value> {
    let mut m = c.additional_claims().claims.clone();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            m.entry(k.to_owned()).or_insert(Value::String(v));
        }
    };
    put("sub", Some(c.subject().as_str().to_owned()));
    put(
        "name",
        c.name().and_then(|n| n.get(None)).map(|n| n.to_string()),
    );
    put(
        "preferred_username",
        c.preferred_username().map(|n| n.as_str().to_owned()),
    );
    put("email", c.email().map(|e| e.as_str().to_owned()));
    m
}

/// A claim by name; a dotted name (`realm_access.roles`) walks nested objects when no claim
/// has that exact name.
pub(crate) fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let mut v = claims.get(parts.next()?)?;
    for p in parts {
        v = v.as_object()?.get(p)?;
    }
    Some(v)
}

/// Maps verified claims to a professional: the id from `professional_claim`, the convenant
/// roles through `roles`, the display name from `name` / `preferred_username`.
pub fn professional(
    cfg: &OidcSection,
    claims: &Map<String, Value>,
) -> Result<Professional, OidcError> {
    let id = match claim(claims, &cfg.professional_claim) {
        Some(Value::String(s)) => s.clone(),
        // A numeric id would be a personal number more often than not; refuse it as such.
        Some(Value::Number(_)) => {
            return Err(OidcError::ProfessionalId {
                claim: cfg.professional_claim.clone(),
                reason: "it is a number, not a string",
            });
        }
        _ => return Err(OidcError::MissingClaim(cfg.professional_claim.clone())),
    };
    professional_id(&id).map_err(|reason| OidcError::ProfessionalId {
        claim: cfg.professional_claim.clone(),
        reason,
    })?;
    let roles = map_roles(cfg, claim(claims, &cfg.roles_claim));
    if roles.is_empty() {
        return Err(OidcError::NoRole);
    }
    let name = ["name", "preferred_username"]
        .iter()
        .filter_map(|k| claims.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .find(|s| !s.is_empty() && s.len() <= 200)
        .unwrap_or(&id)
        .to_owned();
    Ok(Professional { id, name, roles })
}

/// The convenant roles the provider roles in `value` (a string or a list of strings) map to,
/// sorted and without duplicates.
pub fn map_roles(cfg: &OidcSection, value: Option<&Value>) -> Vec<String> {
    map_role_values(&cfg.roles, value)
}

/// The convenant roles that the values in `value` (a string or a list of strings) map to through
/// `map`, sorted and without duplicates: the console's login and the local API map alike.
pub fn map_role_values(
    map: &std::collections::BTreeMap<String, Vec<String>>,
    value: Option<&Value>,
) -> Vec<String> {
    let provider: Vec<&str> = match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let set: BTreeSet<&String> = provider
        .into_iter()
        .filter_map(|r| map.get(r))
        .flatten()
        .collect();
    set.into_iter().cloned().collect()
}

/// The rule for a professional id from the provider: 1 to 128 bytes, no whitespace or control
/// characters (the hub's own rule), and no run of 9 or more digits — that could be a BSN, which
/// the gateway and the hub must never store or log as an id.
pub fn professional_id(s: &str) -> Result<(), &'static str> {
    if s.is_empty() || s.len() > 128 {
        return Err("it must be 1 to 128 characters");
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("it contains spaces or control characters");
    }
    if signaalhub_client::sealed::has_digit_run(s) {
        return Err(
            "it contains a run of 9 or more digits, which could be a BSN; \
             configure login.oidc.professional_claim to name another claim",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn cfg() -> OidcSection {
        let mut roles = BTreeMap::new();
        roles.insert(
            "intern_begeleider".to_owned(),
            vec!["ib_er".to_owned(), "zorgcoordinator".to_owned()],
        );
        roles.insert("mentor".to_owned(), vec!["ib_er".to_owned()]);
        roles.insert(
            "smw".to_owned(),
            vec!["schoolmaatschappelijk_werk".to_owned()],
        );
        OidcSection {
            issuer: "https://idp.school.example".into(),
            client_id: "gateway".into(),
            client_secret: None,
            roles_claim: "roles".into(),
            professional_claim: "sub".into(),
            roles,
            scopes: vec!["profile".into()],
        }
    }

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn roles_map_from_a_list_or_a_string_sorted_without_duplicates() {
        let c = cfg();
        let v = json!(["mentor", "intern_begeleider", "kantine", 7]);
        assert_eq!(map_roles(&c, Some(&v)), ["ib_er", "zorgcoordinator"]);
        assert_eq!(
            map_roles(&c, Some(&json!("smw"))),
            ["schoolmaatschappelijk_werk"]
        );
        assert!(map_roles(&c, Some(&json!(["kantine"]))).is_empty());
        assert!(map_roles(&c, Some(&json!({"smw": true}))).is_empty());
        assert!(map_roles(&c, None).is_empty());
    }

    #[test]
    fn a_professional_without_a_mapped_role_cannot_log_in() {
        let c = cfg();
        let e = professional(&c, &claims(json!({"sub": "piet", "roles": ["kantine"]})));
        assert!(matches!(e, Err(OidcError::NoRole)), "{e:?}");
        let e = professional(&c, &claims(json!({"sub": "piet"})));
        let text = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("no role in this convenant"), "{text}");
    }

    #[test]
    fn name_falls_back_to_preferred_username_then_the_id() -> Result<(), OidcError> {
        let c = cfg();
        let p = professional(
            &c,
            &claims(json!({"sub": "ib-1", "name": "I. Jansen", "roles": "mentor"})),
        )?;
        assert_eq!(
            p,
            Professional {
                id: "ib-1".into(),
                name: "I. Jansen".into(),
                roles: vec!["ib_er".into()]
            }
        );
        let p = professional(
            &c,
            &claims(json!({"sub": "ib-1", "preferred_username": "ijansen", "roles": "mentor"})),
        )?;
        assert_eq!(p.name, "ijansen");
        let p = professional(
            &c,
            &claims(json!({"sub": "ib-1", "name": " ", "roles": "mentor"})),
        )?;
        assert_eq!(p.name, "ib-1");
        Ok(())
    }

    #[test]
    fn the_claims_can_be_named_and_nested() -> Result<(), OidcError> {
        let mut c = cfg();
        c.professional_claim = "employee_id".into();
        c.roles_claim = "realm_access.roles".into();
        let p = professional(
            &c,
            &claims(json!({
                "sub": "f3a1", "employee_id": "ib-7",
                "realm_access": {"roles": ["smw"]}
            })),
        )?;
        assert_eq!(
            (p.id.as_str(), p.roles.as_slice()),
            ("ib-7", &["schoolmaatschappelijk_werk".to_owned()][..])
        );
        let e = professional(&c, &claims(json!({"sub": "f3a1", "roles": ["smw"]})));
        assert!(
            matches!(&e, Err(OidcError::MissingClaim(n)) if n == "employee_id"),
            "{e:?}"
        );
        Ok(())
    }

    #[test]
    fn the_id_rule() {
        assert!(professional_id("ib-jansen").is_ok());
        assert!(professional_id("j.jansen@school.example").is_ok());
        assert!(professional_id("12345678").is_ok(), "8 digits is not a BSN");
        assert!(professional_id("medewerker-12345678-x").is_ok());
        assert!(professional_id(&"a".repeat(128)).is_ok());
        assert!(professional_id("").is_err());
        assert!(professional_id(&"a".repeat(129)).is_err());
        assert!(professional_id("i jansen").is_err());
        assert!(professional_id("ib\u{0}").is_err());
        let e = professional_id("123456782").err().unwrap_or_default();
        assert!(e.contains("BSN"), "{e}");
        assert!(professional_id("emp-123456782").is_err());
    }

    #[test]
    fn a_bsn_like_id_is_refused_without_echoing_it() {
        let c = cfg();
        let e = professional(
            &c,
            &claims(json!({"sub": "123456782", "roles": ["mentor"]})),
        );
        let text = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("BSN") && text.contains("`sub`"), "{text}");
        assert!(!text.contains("123456782"), "{text}");
        let e = professional(&c, &claims(json!({"sub": 123456782, "roles": ["mentor"]})));
        assert!(matches!(e, Err(OidcError::ProfessionalId { .. })), "{e:?}");
    }

    #[test]
    fn pending_login_debug_hides_the_verifier() {
        let p = PendingLogin {
            state: "st4te".into(),
            nonce: "n0nce-secret".into(),
            pkce_verifier: "v3rifier-secret".into(),
            started: 1,
        };
        let d = format!("{p:?}");
        assert!(d.contains("st4te"), "{d}");
        assert!(!d.contains("v3rifier") && !d.contains("n0nce"), "{d}");
    }

    #[test]
    fn http_only_for_loopback() -> Result<(), url::ParseError> {
        for ok in [
            "https://idp.example",
            "http://127.0.0.1:8080",
            "http://[::1]:1",
            "http://localhost:9",
        ] {
            assert!(
                require_secure("issuer", &url::Url::parse(ok)?).is_ok(),
                "{ok}"
            );
        }
        for bad in ["http://idp.example", "http://10.0.0.1", "ftp://idp.example"] {
            let e = require_secure("issuer", &url::Url::parse(bad)?);
            assert!(matches!(e, Err(OidcError::Config(_))), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn provider_errors_are_scrubbed() {
        let t = scrub(
            "invalid_grant (code abcdef123 was used)",
            &["abcdef123", ""],
        );
        assert_eq!(t, "invalid_grant (code [redacted] was used)");
    }

    #[tokio::test]
    async fn a_plain_http_issuer_is_refused_before_any_request() {
        let mut c = cfg();
        c.issuer = "http://idp.school.example".into();
        let e = OidcLogin::discover(&c, "https://gw.example").await;
        assert!(matches!(e, Err(OidcError::Config(_))), "{e:?}");
    }
}
