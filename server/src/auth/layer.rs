//! The tower layer in front of every gRPC service: organisation from the connection, status from
//! the directory snapshot, professional from the bearer token. Handlers find a [`Caller`] in the
//! request extensions; a request that fails never reaches them.
use super::directory::DirectoryCache;
use super::tls::ConnInfo;
use super::token::TokenVerifier;
use super::{AuthError, Caller};
use crate::domain::directory::OrgStatus;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::body::Body;

/// Paths that need an organisation certificate but no professional token: the standard health
/// and reflection protocols, which tools and load balancers call without a user.
const TOKENLESS_PREFIXES: [&str; 3] = [
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

/// Authenticates callers.
#[derive(Debug)]
pub struct Authenticator {
    /// The directory snapshot.
    pub directory: Arc<DirectoryCache>,
    /// The pseudonym key ring: when the store is written with a newer version than it has, every
    /// call is refused (`UNAVAILABLE`) rather than answered from part of the records.
    pub pseudonyms: Option<crate::ids::Pseudonymizer>,
    /// The token verifier.
    pub tokens: TokenVerifier,
}

impl Authenticator {
    /// Who is calling, or why they are refused.
    pub fn authenticate(
        &self,
        path: &str,
        headers: &http::HeaderMap,
        conn: Option<&ConnInfo>,
    ) -> Result<Option<Caller>, AuthError> {
        let conn = conn
            .ok_or_else(|| AuthError::Unauthenticated("connection has no TLS identity".into()))?;
        let oin = match conn.identity.as_ref() {
            Ok(oin) => oin,
            Err(p) => return Err(AuthError::Unauthenticated(p.to_string())),
        };
        if let Some(v) = self.pseudonyms.as_ref().and_then(|r| r.store_ahead()) {
            return Err(AuthError::Unavailable(format!(
                "this hub instance lacks pseudonym key version {v}, which the store is now written with; retry (another instance) shortly"
            )));
        }
        let dir = self.directory.snapshot();
        let entry = dir.orgs.get(oin).ok_or_else(|| {
            AuthError::PermissionDenied(format!(
                "organisation {oin} is not registered in this hub's directory; ask the hub operator to add it"
            ))
        })?;
        if entry.org.status == OrgStatus::Suspended {
            return Err(AuthError::PermissionDenied(format!(
                "organisation {oin} is suspended in this hub's directory; contact the hub operator"
            )));
        }
        if TOKENLESS_PREFIXES.iter().any(|p| path.starts_with(p)) {
            return Ok(None);
        }
        let value = headers.get(http::header::AUTHORIZATION).ok_or_else(|| {
            AuthError::Unauthenticated(
                "no bearer token: send metadata `authorization: Bearer <JWT>` from your organisation's identity provider".into(),
            )
        })?;
        let value = value.to_str().map_err(|_| {
            AuthError::Unauthenticated("the authorization metadata is not ASCII".into())
        })?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| {
                AuthError::Unauthenticated(
                    "the authorization metadata must be `Bearer <JWT>`".into(),
                )
            })?
            .trim();
        let professional = self.tokens.verify(token, oin, &dir)?;
        Ok(Some(Caller {
            org: Arc::clone(&entry.org),
            professional,
        }))
    }
}

/// Tower layer applying [`Authenticator`] to every request.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    auth: Arc<Authenticator>,
}

impl AuthLayer {
    /// A layer using `auth`.
    pub fn new(auth: Arc<Authenticator>) -> AuthLayer {
        AuthLayer { auth }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            auth: Arc::clone(&self.auth),
        }
    }
}

/// The service [`AuthLayer`] makes.
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    auth: Arc<Authenticator>,
}

impl<S> tower::Service<http::Request<Body>> for AuthService<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<Body>) -> Self::Future {
        let result = self.auth.authenticate(
            req.uri().path(),
            req.headers(),
            req.extensions().get::<ConnInfo>(),
        );
        match result {
            Ok(caller) => {
                if let Some(c) = caller {
                    req.extensions_mut().insert(c);
                }
                // The clone took `poll_ready` from self; swap so the ready one is called.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(inner.call(req))
            }
            Err(e) => {
                let status = tonic::Status::from(e);
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
    }
}
