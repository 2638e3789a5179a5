//! Limits that keep one organisation from starving the others: a request rate per organisation
//! (token bucket) and a cap on the server streams one organisation holds open, both per hub
//! instance, applied by one tower layer to every service (before the token is checked). A refusal is `RESOURCE_EXHAUSTED`
//! with google.rpc.RetryInfo (when to try again) and google.rpc.QuotaFailure (which limit).
//!
//! Connections per organisation are counted when a connection's TLS handshake has named its
//! organisation ([`OrgConnections`], used by the accept loop). Message size, the connection
//! count, handshake and request timeouts and HTTP/2 streams per connection are set on the server
//! itself (`Hub::serve`); see the `[limits]` configuration.
use crate::auth::tls::ConnInfo;
use crate::config::LimitsConfig;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tonic::body::Body;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Paths exempt from the request rate: load balancers' health checks.
const RATE_EXEMPT_PREFIX: &str = "/grpc.health.v1.Health/";

/// Every RPC the hub serves, from the compiled protocol descriptors, so that layers can treat
/// all services alike: which paths exist (metrics label unknown paths `unknown`, keeping label
/// sets bounded) and which are server- or client-streaming (the stream cap applies to those).
#[derive(Debug, Clone, Default)]
pub struct RpcCatalog {
    known: HashSet<String>,
    streaming: HashSet<String>,
}

impl RpcCatalog {
    /// The catalog of the given encoded `FileDescriptorSet`s. Sets that do not decode add
    /// nothing.
    pub fn from_descriptor_sets(sets: &[&[u8]]) -> RpcCatalog {
        use prost::Message;
        let mut c = RpcCatalog::default();
        for bytes in sets {
            let Ok(set) = prost_types::FileDescriptorSet::decode(*bytes) else {
                continue;
            };
            for file in &set.file {
                let package = file.package();
                for service in &file.service {
                    for method in &service.method {
                        let path = if package.is_empty() {
                            format!("/{}/{}", service.name(), method.name())
                        } else {
                            format!("/{package}.{}/{}", service.name(), method.name())
                        };
                        if method.server_streaming() || method.client_streaming() {
                            c.streaming.insert(path.clone());
                        }
                        c.known.insert(path);
                    }
                }
            }
        }
        c
    }

    /// The hub's own services, health and reflection.
    pub fn hub() -> RpcCatalog {
        let mut c = RpcCatalog::from_descriptor_sets(&[
            signaalhub_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ]);
        for v in ["v1", "v1alpha"] {
            let p = format!("/grpc.reflection.{v}.ServerReflection/ServerReflectionInfo");
            c.streaming.insert(p.clone());
            c.known.insert(p);
        }
        c
    }

    /// `path` if the hub serves it, else `"unknown"`.
    pub fn label<'a>(&self, path: &'a str) -> &'a str {
        if self.known.contains(path) {
            path
        } else {
            "unknown"
        }
    }

    /// Whether `path` is a streaming RPC.
    pub fn is_streaming(&self, path: &str) -> bool {
        self.streaming.contains(path)
    }

    /// Every known path.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.known.iter().map(String::as_str)
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A token bucket per key: `rate` tokens a second, at most `burst` saved up.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// A limiter; `rate` 0 lets everything through.
    pub fn new(rate: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            rate: f64::from(rate),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key` at `now`, or says how long until one is there.
    pub fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - b.tokens) / self.rate;
            Err(Duration::from_secs_f64(wait.max(0.001)))
        }
    }

    /// [`RateLimiter::check_at`] now.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }
}

/// Open streams per key, at most `max` each.
#[derive(Debug)]
pub struct StreamCounter {
    max: u32,
    open: Mutex<HashMap<String, u32>>,
}

/// One open stream; dropping it (when the response body ends or is dropped) frees the slot.
#[derive(Debug)]
pub struct StreamPermit {
    counter: Arc<StreamCounter>,
    key: String,
}

impl StreamCounter {
    /// A counter allowing `max` open streams per key.
    pub fn new(max: u32) -> Arc<StreamCounter> {
        Arc::new(StreamCounter {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A permit for one more stream of `key`, or `None` at the cap.
    pub fn acquire(self: &Arc<Self>, key: &str) -> Option<StreamPermit> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(key.to_owned()).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        crate::metrics::streams_changed(1);
        Some(StreamPermit {
            counter: Arc::clone(self),
            key: key.to_owned(),
        })
    }

    /// Streams `key` holds open now.
    pub fn open(&self, key: &str) -> u32 {
        let open = self.counter_lock();
        open.get(key).copied().unwrap_or(0)
    }

    fn counter_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.counter.counter_lock();
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
        crate::metrics::streams_changed(-1);
    }
}

/// Open connections per organisation, at most `max` each.
#[derive(Debug)]
pub struct OrgConnections {
    max: u32,
    open: Mutex<HashMap<String, u32>>,
}

/// One open connection of an organisation; dropping it (when the connection closes) frees the
/// place.
#[derive(Debug)]
pub struct OrgConnectionPermit {
    counter: Arc<OrgConnections>,
    key: String,
}

impl OrgConnections {
    /// A counter allowing `max` open connections per organisation.
    pub fn new(max: u32) -> Arc<OrgConnections> {
        Arc::new(OrgConnections {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// The most connections one organisation may hold.
    pub fn max(&self) -> u32 {
        self.max
    }

    /// A permit for one more connection of `oin`, or `None` at the cap.
    pub fn acquire(self: &Arc<Self>, oin: &str) -> Option<OrgConnectionPermit> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(oin.to_owned()).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(OrgConnectionPermit {
            counter: Arc::clone(self),
            key: oin.to_owned(),
        })
    }

    /// Connections `oin` holds open now.
    pub fn open(&self, oin: &str) -> u32 {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(oin).copied().unwrap_or(0)
    }
}

impl Drop for OrgConnectionPermit {
    fn drop(&mut self) {
        let mut open = self.counter.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// `RESOURCE_EXHAUSTED` with when to retry and which quota.
pub fn exhausted(message: String, retry_after: Duration, subject: &str) -> Status {
    let mut details = ErrorDetails::with_retry_info(Some(retry_after));
    details.add_quota_failure_violation(subject, message.clone());
    Status::with_error_details(Code::ResourceExhausted, message, details)
}

/// The limits every request passes, shared by all connections of one hub instance.
#[derive(Debug)]
pub struct Limits {
    catalog: Arc<RpcCatalog>,
    rate: RateLimiter,
    rate_per_second: u32,
    streams: Arc<StreamCounter>,
}

impl Limits {
    /// Limits from the `[limits]` settings.
    pub fn new(config: &LimitsConfig, catalog: Arc<RpcCatalog>) -> Limits {
        Limits {
            catalog,
            rate: RateLimiter::new(config.requests_per_second_per_org, config.burst_per_org),
            rate_per_second: config.requests_per_second_per_org,
            streams: StreamCounter::new(config.max_streams_per_org),
        }
    }

    /// Admits a request of organisation `oin` to `path`: `Ok(Some(permit))` for a stream,
    /// `Ok(None)` for a unary call, or the refusal.
    pub fn admit(&self, oin: &str, path: &str) -> Result<Option<StreamPermit>, Status> {
        if !path.starts_with(RATE_EXEMPT_PREFIX)
            && let Err(wait) = self.rate.check(oin)
        {
            crate::metrics::limited("rate");
            return Err(exhausted(
                format!(
                    "organisation {oin} makes more than {} requests per second on this hub instance; retry after {} ms",
                    self.rate_per_second,
                    wait.as_millis().max(1)
                ),
                wait,
                &format!("organisation:{oin}"),
            ));
        }
        if self.catalog.is_streaming(path) {
            return match self.streams.acquire(oin) {
                Some(p) => Ok(Some(p)),
                None => {
                    crate::metrics::limited("streams");
                    Err(exhausted(
                        format!(
                            "organisation {oin} already holds {} open streams on this hub instance; close one (or reuse one stream) and retry",
                            self.streams.max
                        ),
                        Duration::from_secs(1),
                        &format!("organisation:{oin}"),
                    ))
                }
            };
        }
        Ok(None)
    }

    /// Streams `oin` holds open on this instance.
    pub fn open_streams(&self, oin: &str) -> u32 {
        self.streams.open(oin)
    }
}

/// Tower layer applying [`Limits`]. It runs before the token is checked, keyed by the
/// organisation the connection's verified certificate names, so requests the auth layer then
/// refuses (bad or forged tokens, random key ids) count against the same rate; connections
/// without an organisation pass through to be refused by the auth layer.
#[derive(Debug, Clone)]
pub struct LimitsLayer {
    limits: Arc<Limits>,
}

impl LimitsLayer {
    /// A layer enforcing `limits`.
    pub fn new(limits: Arc<Limits>) -> LimitsLayer {
        LimitsLayer { limits }
    }
}

impl<S> tower::Layer<S> for LimitsLayer {
    type Service = LimitsService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        LimitsService {
            inner,
            limits: Arc::clone(&self.limits),
        }
    }
}

/// The service [`LimitsLayer`] makes.
#[derive(Debug, Clone)]
pub struct LimitsService<S> {
    inner: S,
    limits: Arc<Limits>,
}

impl<S> tower::Service<http::Request<Body>> for LimitsService<S>
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

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let oin = req
            .extensions()
            .get::<ConnInfo>()
            .and_then(|c| c.identity.as_ref().as_ref().ok())
            .map(|o| o.to_string());
        let admitted = match &oin {
            Some(oin) => self.limits.admit(oin, req.uri().path()),
            // No organisation: the auth layer behind this one refuses the request.
            None => Ok(None),
        };
        match admitted {
            Ok(permit) => {
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(async move {
                    let response = inner.call(req).await?;
                    Ok(match permit {
                        Some(p) => response.map(|b| {
                            Body::new(Held {
                                inner: b,
                                _permit: p,
                            })
                        }),
                        None => response,
                    })
                })
            }
            Err(status) => Box::pin(async move { Ok(status.into_http()) }),
        }
    }
}

/// A response body that holds a stream permit until it ends or is dropped.
struct Held {
    inner: Body,
    _permit: StreamPermit,
}

impl http_body::Body for Held {
    type Data = <Body as http_body::Body>::Data;
    type Error = <Body as http_body::Body>::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_refills_at_the_rate() {
        let l = RateLimiter::new(10, 3);
        let t = Instant::now();
        for _ in 0..3 {
            l.check_at("a", t).unwrap();
        }
        let wait = l.check_at("a", t).unwrap_err();
        assert!(wait > Duration::from_millis(90) && wait <= Duration::from_millis(100));
        // Another key has its own bucket.
        l.check_at("b", t).unwrap();
        // After 100 ms one token is back, not more.
        let t2 = t + Duration::from_millis(100);
        l.check_at("a", t2).unwrap();
        assert!(l.check_at("a", t2).is_err());
        // Never more than the burst saved up.
        let t3 = t2 + Duration::from_secs(60);
        for _ in 0..3 {
            l.check_at("a", t3).unwrap();
        }
        assert!(l.check_at("a", t3).is_err());
    }

    #[test]
    fn rate_zero_is_unlimited() {
        let l = RateLimiter::new(0, 1);
        let t = Instant::now();
        for _ in 0..1000 {
            l.check_at("a", t).unwrap();
        }
    }

    #[test]
    fn stream_permits_are_returned_on_drop() {
        let c = StreamCounter::new(2);
        let a = c.acquire("x").unwrap();
        let _b = c.acquire("x").unwrap();
        assert!(c.acquire("x").is_none());
        assert!(c.acquire("y").is_some());
        drop(a);
        assert_eq!(c.open("x"), 1);
        assert!(c.acquire("x").is_some());
    }

    #[test]
    fn connection_permits_are_counted_per_organisation_and_returned_on_drop() {
        let c = OrgConnections::new(2);
        let a = c.acquire("x").unwrap();
        let _b = c.acquire("x").unwrap();
        assert!(c.acquire("x").is_none());
        assert!(c.acquire("y").is_some());
        drop(a);
        assert_eq!(c.open("x"), 1);
        assert!(c.acquire("x").is_some());
    }

    #[test]
    fn catalog_knows_every_hub_rpc_and_which_stream() {
        let c = RpcCatalog::hub();
        assert!(c.is_streaming("/signaalhub.v1.SignalService/StreamInbox"));
        assert!(!c.is_streaming("/signaalhub.v1.SignalService/SendSignal"));
        assert!(c.is_streaming("/grpc.health.v1.Health/Watch"));
        assert_eq!(
            c.label("/signaalhub.v1.SignalService/SendSignal"),
            "/signaalhub.v1.SignalService/SendSignal"
        );
        assert_eq!(c.label("/x.Y/Z"), "unknown");
    }
}
