//! Minting hub tokens as an organisation's token issuer: the organisation gateway mints one
//! short-lived token per professional and request, signed with the Ed25519 key the organisation
//! registered at the hub (`org add-key --usage token`).
use crate::ClientError;

/// Seconds since the Unix epoch.
fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Signs `claims` (with `iat` and `exp` set from `lifetime_secs`) as an EdDSA JWT.
pub fn mint_jwt(
    pkcs8_der: &[u8],
    kid: &str,
    claims: &serde_json::Value,
    lifetime_secs: i64,
) -> Result<String, ClientError> {
    let now = now_unix();
    let mut c = claims.clone();
    if let Some(m) = c.as_object_mut() {
        m.insert("iat".into(), now.into());
        m.insert("exp".into(), (now + lifetime_secs).into());
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        &c,
        &jsonwebtoken::EncodingKey::from_ed_der(pkcs8_der),
    )
    .map_err(|e| ClientError::Config(format!("minting a token: {e}")))
}

/// An organisation's token issuer towards the hub.
#[derive(Clone)]
pub struct TokenIssuer {
    pkcs8_der: Vec<u8>,
    /// The key id registered at the hub.
    pub key_id: String,
    /// `iss`: the issuer the hub has registered for the organisation.
    pub issuer: String,
    /// `aud`: the hub's audience.
    pub audience: String,
    /// `org`: the organisation's OIN.
    pub oin: String,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("key_id", &self.key_id)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("oin", &self.oin)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// From the PEM text of the Ed25519 token key (PKCS#8).
    pub fn from_pem(
        pem: &str,
        key_id: impl Into<String>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        oin: impl Into<String>,
    ) -> Result<TokenIssuer, ClientError> {
        let der = crate::envelope::pem_private_key(pem)
            .map_err(|e| ClientError::Config(format!("token key: {e}")))?;
        // Fails now, not at the first request, when the key is not Ed25519.
        ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map_err(|_| ClientError::Config("token key: not an Ed25519 PKCS#8 key".into()))?;
        Ok(TokenIssuer {
            pkcs8_der: der.to_vec(),
            key_id: key_id.into(),
            issuer: issuer.into(),
            audience: audience.into(),
            oin: oin.into(),
        })
    }

    /// A token for `professional` acting with `roles`, valid `lifetime_secs`.
    pub fn mint(
        &self,
        professional: &str,
        roles: &[String],
        lifetime_secs: i64,
    ) -> Result<String, ClientError> {
        let claims = serde_json::json!({
            "iss": self.issuer,
            "sub": professional,
            "aud": self.audience,
            "org": self.oin,
            "roles": roles,
        });
        mint_jwt(&self.pkcs8_der, &self.key_id, &claims, lifetime_secs)
    }
}
