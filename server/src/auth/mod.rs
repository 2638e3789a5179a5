//! Who is calling: the organisation from the verified client certificate (mutual TLS), the
//! professional from the bearer token (JWT) their organisation's identity provider signed.
//!
//! [`layer::AuthLayer`] runs in front of every service, so a service cannot forget to check:
//! a request reaches a handler only with a [`Caller`] in its extensions.
pub mod directory;
pub mod layer;
pub mod tls;
pub mod token;

use crate::domain::directory::{Organization, Sector};
use crate::ids::Oin;
use std::sync::Arc;

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The calling organisation, active in the directory.
    pub org: Arc<Organization>,
    /// The professional, from the token.
    pub professional: Professional,
}

impl Caller {
    /// The caller's OIN.
    pub fn oin(&self) -> &Oin {
        &self.org.oin
    }
    /// The caller's sector.
    pub fn sector(&self) -> &Sector {
        &self.org.sector
    }
    /// Whether the professional holds this role.
    pub fn has_role(&self, role: &str) -> bool {
        self.professional.roles.iter().any(|r| r == role)
    }
}

/// A professional as their verified token describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Professional {
    /// The token's `sub`.
    pub id: String,
    /// The token's `roles` claim.
    pub roles: Vec<crate::ids::Role>,
    /// The token's `exp` (unix seconds).
    pub expires_at: i64,
}

/// Why a caller is refused. Every message says what to fix and holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Missing or invalid credentials: `UNAUTHENTICATED`.
    #[error("{0}")]
    Unauthenticated(String),
    /// A valid identity without the right: `PERMISSION_DENIED`.
    #[error("{0}")]
    PermissionDenied(String),
    /// The directory cannot answer: `UNAVAILABLE` (fail closed).
    #[error("{0}")]
    Unavailable(String),
}

impl From<AuthError> for tonic::Status {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthenticated(m) => tonic::Status::unauthenticated(m),
            AuthError::PermissionDenied(m) => tonic::Status::permission_denied(m),
            AuthError::Unavailable(m) => tonic::Status::unavailable(m),
        }
    }
}
