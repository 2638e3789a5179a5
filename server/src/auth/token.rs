//! Professional identity: a JWT signed by the organisation's own identity provider (RS256, ES256
//! or EdDSA), verified with the key the organisation registered for the token's `kid`.
//!
//! The algorithm is pinned per registered key (domain::token_key): the token header only names
//! the key; its `alg` must equal the key's own algorithm or the token is refused, and verification
//! always runs the key's algorithm. `none`, every `HS*` and every other algorithm are refused
//! before any key is looked at, so no public key can be used as an HMAC secret.
//!
//! Verified tokens are cached by their SHA-256 so the signature is checked once per token, not
//! once per request. A cache hit still requires the same organisation (from the certificate),
//! the same directory generation (so a retired key or a suspension invalidates it) and an
//! unexpired token.
use super::directory::DirectorySnapshot;
use super::{AuthError, Professional};
use crate::domain::token_key::TokenAlgorithm;
use crate::ids::Oin;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use std::collections::HashMap;
use std::sync::Mutex;

/// Longest accepted bearer token, in bytes.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Most roles a token may carry.
pub const MAX_ROLES: usize = 32;

#[derive(Debug, serde::Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    org: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

/// The two header fields the hub reads, parsed here rather than by the JWT library so that an
/// algorithm it does not know (`none`, ...) is reported as what it is.
#[derive(Debug, serde::Deserialize)]
struct RawHeader {
    alg: Option<String>,
    kid: Option<String>,
}

fn raw_header(token: &str) -> Option<RawHeader> {
    let mut parts = token.split('.');
    let (header, _, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

fn jwt_algorithm(a: TokenAlgorithm) -> Algorithm {
    match a {
        TokenAlgorithm::EdDSA => Algorithm::EdDSA,
        TokenAlgorithm::RS256 => Algorithm::RS256,
        TokenAlgorithm::ES256 => Algorithm::ES256,
    }
}

#[derive(Debug, Clone)]
struct Cached {
    oin: Oin,
    generation: i64,
    professional: Professional,
}

/// Verifies bearer tokens for one hub audience.
#[derive(Debug)]
pub struct TokenVerifier {
    audience: String,
    leeway_secs: u64,
    cache: Mutex<HashMap<[u8; 32], Cached>>,
    cache_capacity: usize,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl TokenVerifier {
    /// A verifier for tokens whose `aud` names `audience`.
    pub fn new(audience: &str, leeway_secs: u64) -> TokenVerifier {
        TokenVerifier {
            audience: audience.to_owned(),
            leeway_secs,
            cache: Mutex::new(HashMap::new()),
            cache_capacity: 50_000,
        }
    }

    /// The audience tokens must carry.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Verifies `token` as a professional of organisation `oin` (from the certificate).
    pub fn verify(
        &self,
        token: &str,
        oin: &Oin,
        dir: &DirectorySnapshot,
    ) -> Result<Professional, AuthError> {
        let unauth = |m: String| AuthError::Unauthenticated(m);
        if token.len() > MAX_TOKEN_LEN {
            return Err(unauth(format!(
                "bearer token longer than {MAX_TOKEN_LEN} bytes"
            )));
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(digest.as_ref());
        let t = now();
        if let Ok(cache) = self.cache.lock()
            && let Some(c) = cache.get(&key)
            && &c.oin == oin
            && c.generation == dir.generation
            && c.professional.expires_at + self.leeway_secs as i64 > t
        {
            return Ok(c.professional.clone());
        }
        let professional = self.verify_uncached(token, oin, dir)?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= self.cache_capacity {
                cache
                    .retain(|_, c| c.professional.expires_at > t && c.generation == dir.generation);
                if cache.len() >= self.cache_capacity {
                    cache.clear();
                }
            }
            cache.insert(
                key,
                Cached {
                    oin: oin.clone(),
                    generation: dir.generation,
                    professional: professional.clone(),
                },
            );
        }
        Ok(professional)
    }

    fn verify_uncached(
        &self,
        token: &str,
        oin: &Oin,
        dir: &DirectorySnapshot,
    ) -> Result<Professional, AuthError> {
        let unauth = |m: String| AuthError::Unauthenticated(m);
        let header = raw_header(token)
            .ok_or_else(|| unauth("the bearer token is not a well-formed JWT".into()))?;
        let alg = header
            .alg
            .ok_or_else(|| unauth("the token header has no `alg`".into()))?;
        // `none`, every HS* and anything else is refused before a key is looked at.
        let alg = TokenAlgorithm::parse(&alg).ok_or_else(|| {
            let shown: String = alg.chars().take(16).collect();
            unauth(format!(
                "token algorithm {shown:?} is not accepted: tokens are signed with {}, the algorithm of the registered key",
                TokenAlgorithm::ACCEPTED
            ))
        })?;
        let kid = header.kid.ok_or_else(|| {
            unauth("the token header has no `kid`: name the key that signed it".into())
        })?;
        let entry = dir
            .orgs
            .get(oin)
            .ok_or_else(|| unauth(format!("organisation {oin} is not in the hub's directory")))?;
        let key = entry.token_keys.get(&kid).ok_or_else(|| {
            unauth(format!(
                "no current token key with id {kid:?} is registered for organisation {oin}; register it with `signaalhub org add-key`"
            ))
        })?;
        // The key's algorithm is pinned at registration; the header must agree with it and
        // never chooses it. The message does not say which algorithm the key has.
        if alg != key.algorithm {
            return Err(unauth(format!(
                "the token's algorithm {alg} is not the algorithm registered for key {kid:?} of organisation {oin}: each key verifies tokens of its own algorithm only"
            )));
        }
        let key_alg = jwt_algorithm(key.algorithm);
        let key = &key.key;
        let mut v = Validation::new(key_alg);
        v.set_audience(&[&self.audience]);
        v.set_issuer(&[&entry.org.token_issuer]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = self.leeway_secs;
        v.validate_exp = true;
        v.validate_nbf = true;
        let data = jsonwebtoken::decode::<Claims>(token, key, &v).map_err(|e| {
            unauth(match e.kind() {
                ErrorKind::ExpiredSignature => "the bearer token has expired: get a fresh one".into(),
                ErrorKind::ImmatureSignature => "the bearer token is not valid yet (nbf)".into(),
                ErrorKind::InvalidAudience => format!(
                    "the bearer token is for another audience: `aud` must be {:?}",
                    self.audience
                ),
                ErrorKind::InvalidIssuer => format!(
                    "the token issuer does not match the issuer registered for organisation {oin} ({:?})",
                    entry.org.token_issuer
                ),
                ErrorKind::MissingRequiredClaim(c) => {
                    format!("the bearer token lacks the required claim `{c}`")
                }
                ErrorKind::InvalidSignature => format!(
                    "the token signature does not verify with key {kid:?} of organisation {oin}"
                ),
                ErrorKind::Json(_) => {
                    "the token claims do not parse: `sub` (string), `exp` (number), `roles` (list of strings) expected".into()
                }
                _ => "the bearer token is invalid".into(),
            })
        })?;
        let c = data.claims;
        match c.org.as_deref() {
            None => {
                return Err(unauth(
                    "the bearer token lacks the `org` claim (the OIN of the professional's organisation)".into(),
                ));
            }
            Some(org) if org != oin.as_str() => {
                return Err(unauth(format!(
                    "the token is for organisation {org}, but the client certificate is of organisation {oin}"
                )));
            }
            Some(_) => {}
        }
        if c.sub.is_empty() || c.sub.len() > 256 {
            return Err(unauth("the token's `sub` must be 1-256 characters".into()));
        }
        let roles = match crate::ids::parse_names(&c.roles) {
            Ok(roles) if roles.len() <= MAX_ROLES => roles,
            _ => {
                return Err(unauth(format!(
                    "the token's `roles` must be at most {MAX_ROLES} role names of the convenant: \
                     1-64 lowercase letters a-z, digits and _, starting with a letter"
                )));
            }
        };
        Ok(Professional {
            id: c.sub,
            roles,
            expires_at: c.exp,
        })
    }
}
