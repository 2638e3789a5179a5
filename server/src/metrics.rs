//! Observability: Prometheus metrics on their own port, and a request id on every call.
//!
//! [`ObserveLayer`] sits outermost in front of every service: it takes the caller's
//! `x-request-id` (when well-formed) or makes one, puts it in a tracing span around the call and
//! in the response metadata, and counts the call by RPC path and final gRPC status, with its
//! latency. Label values are only RPC paths the hub serves (others are `unknown`), status names,
//! policy outcomes and reason codes, limit and record kinds: never a BSN, pseudonym, token, OIN
//! or payload.
//!
//! The metrics live in one process-wide registry ([`global`]); [`serve`] answers
//! `GET /metrics` in the OpenMetrics text format on `metrics.listen`.
use crate::limits::RpcCatalog;
use crate::store::Store;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tonic::body::Body;
use tracing::Instrument;

/// The metadata key of the request id, in requests and responses.
pub const REQUEST_ID: &str = "x-request-id";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcCode {
    rpc: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Rpc {
    rpc: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Decision {
    outcome: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Limit {
    limit: String,
}

type HistogramFamily = Family<Rpc, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms .. ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The hub's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RpcCode, Counter>,
    latency: HistogramFamily,
    decisions: Family<Decision, Counter>,
    streams: Gauge,
    store_errors: Counter,
    limited: Family<Limit, Counter>,
    erased: Family<Kind, Counter>,
    log_entries: Gauge,
    log_integrated: Gauge,
    checkpoint_age: Gauge,
    full_verify_age: Gauge,
    pseudonym_version: Gauge,
    pseudonym_floor: Gauge,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("signaalhub");
        let requests = Family::<RpcCode, Counter>::default();
        registry.register(
            "grpc_requests",
            "Finished gRPC calls by RPC path and status code",
            requests.clone(),
        );
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "grpc_request_duration_seconds",
            "Time from request to final status of unary calls, by RPC path",
            latency.clone(),
        );
        let decisions = Family::<Decision, Counter>::default();
        registry.register(
            "policy_decisions",
            "Policy decisions by outcome and reason code (`none` for an allow)",
            decisions.clone(),
        );
        let streams = Gauge::default();
        registry.register(
            "open_streams",
            "Server streams (e.g. StreamInbox) open on this instance",
            streams.clone(),
        );
        let store_errors = Counter::default();
        registry.register(
            "store_errors",
            "Store failures answered with UNAVAILABLE",
            store_errors.clone(),
        );
        let limited = Family::<Limit, Counter>::default();
        for limit in ["rate", "streams", "connections"] {
            // Present at 0 from the start, so that rate() works from the first refusal.
            let _ = limited.get_or_create(&Limit {
                limit: limit.to_owned(),
            });
        }
        registry.register(
            "limited_requests",
            "Requests refused with RESOURCE_EXHAUSTED by limit (rate, streams), and connections closed over the per-organisation cap (connections)",
            limited.clone(),
        );
        let erased = Family::<Kind, Counter>::default();
        registry.register(
            "retention_erased",
            "Records erased at the end of their retention, by kind",
            erased.clone(),
        );
        let log_entries = Gauge::default();
        registry.register(
            "log_entries",
            "Entries sequenced in the disclosure log",
            log_entries.clone(),
        );
        let log_integrated = Gauge::default();
        registry.register(
            "log_integrated_entries",
            "Entries folded into tiles and covered by a checkpoint",
            log_integrated.clone(),
        );
        let checkpoint_age = Gauge::default();
        registry.register(
            "log_checkpoint_age_seconds",
            "Seconds since the newest signed checkpoint (-1 when there is none)",
            checkpoint_age.clone(),
        );
        let full_verify_age = Gauge::default();
        registry.register(
            "log_full_verify_age_seconds",
            "Seconds since the last `signaalhub log verify` that passed (-1 when none has); the start-up check does not re-read what it verified",
            full_verify_age.clone(),
        );
        let pseudonym_version = Gauge::default();
        registry.register(
            "pseudonym_key_version",
            "The pseudonym key version the store is written with (hub_meta.pseudonym_version)",
            pseudonym_version.clone(),
        );
        let pseudonym_floor = Gauge::default();
        registry.register(
            "pseudonym_floor_version",
            "The lowest pseudonym key version the store may still hold; below pseudonym_key_version while a re-key is due or running",
            pseudonym_floor.clone(),
        );
        Metrics {
            registry,
            pseudonym_version,
            pseudonym_floor,
            requests,
            latency,
            decisions,
            streams,
            store_errors,
            limited,
            erased,
            log_entries,
            log_integrated,
            checkpoint_age,
            full_verify_age,
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Refreshes the log gauges from `store` (at scrape time).
    pub async fn refresh_log(&self, store: &Store, now: i64) {
        let size = store.log_size().await;
        let integrated = store.log_integrated().await;
        let latest = store.latest_checkpoint().await;
        match (size, integrated, latest) {
            (Ok(s), Ok(i), Ok(latest)) => {
                self.log_entries.set(s as i64);
                self.log_integrated.set(i as i64);
                let at = latest.and_then(|note| note.lines().nth(3)?.parse::<i64>().ok());
                self.checkpoint_age
                    .set(at.map(|t| (now - t).max(0)).unwrap_or(-1));
            }
            _ => store_error(),
        }
        match store.log_verifications().await {
            Ok(v) => {
                let at = v
                    .iter()
                    .find(|v| v.kind == crate::store::log::CheckKind::Full)
                    .map(|v| v.verified_at);
                self.full_verify_age
                    .set(at.map(|t| (now - t).max(0)).unwrap_or(-1));
            }
            Err(_) => store_error(),
        }
        match store.pseudonym_state().await {
            Ok(s) => {
                self.pseudonym_version.set(i64::from(s.version));
                self.pseudonym_floor.set(i64::from(s.floor));
            }
            Err(_) => store_error(),
        }
    }
}

/// The process-wide metrics.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// Counts one policy decision.
pub fn decision(d: &signaalhub_policy::Decision) {
    let m = global();
    if d.is_allowed() {
        m.decisions
            .get_or_create(&Decision {
                outcome: "allow".into(),
                reason: "none".into(),
            })
            .inc();
    } else {
        for r in &d.reasons {
            m.decisions
                .get_or_create(&Decision {
                    outcome: "deny".into(),
                    reason: r.code.as_str().to_owned(),
                })
                .inc();
        }
    }
}

/// Counts a store failure.
pub fn store_error() {
    global().store_errors.inc();
}

/// Counts a refusal by limit.
pub fn limited(limit: &str) {
    global()
        .limited
        .get_or_create(&Limit {
            limit: limit.to_owned(),
        })
        .inc();
}

/// Counts erased records of a kind.
pub fn erased(kind: &str, n: u64) {
    global()
        .erased
        .get_or_create(&Kind {
            kind: kind.to_owned(),
        })
        .inc_by(n);
}

/// Adds `delta` to the open stream gauge.
pub fn streams_changed(delta: i64) {
    global().streams.inc_by(delta);
}

/// The id of one request (also in the response metadata `x-request-id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Whether a caller's request id may be used as is: 8 to 64 of `A-Za-z0-9._-`, and no run of
/// 9 or more digits (so that no BSN can travel into the hub's logs in it).
pub fn well_formed_request_id(id: &str) -> bool {
    if !(8..=64).contains(&id.len())
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return false;
    }
    let mut run = 0;
    for b in id.bytes() {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 9 {
            return false;
        }
    }
    true
}

fn new_request_id() -> String {
    let mut b = [0u8; 16];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).is_err() {
        // Without randomness the id still correlates within this process.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        return format!(
            "local-{}",
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
    }
    hex::encode(b)
}

/// The canonical name of a gRPC status code.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

fn status_of(headers: &http::HeaderMap) -> Option<tonic::Code> {
    headers
        .get("grpc-status")
        .map(|v| tonic::Code::from_bytes(v.as_bytes()))
}

/// Tower layer: request id, tracing span, request count, status and latency for every call.
#[derive(Debug, Clone)]
pub struct ObserveLayer {
    catalog: Arc<RpcCatalog>,
}

impl ObserveLayer {
    /// A layer labelling calls by the RPCs in `catalog`.
    pub fn new(catalog: Arc<RpcCatalog>) -> ObserveLayer {
        ObserveLayer { catalog }
    }
}

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = ObserveService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ObserveService {
            inner,
            catalog: Arc::clone(&self.catalog),
        }
    }
}

/// The service [`ObserveLayer`] makes.
#[derive(Debug, Clone)]
pub struct ObserveService<S> {
    inner: S,
    catalog: Arc<RpcCatalog>,
}

/// What is known about a call until its final status.
struct Call {
    rpc: String,
    /// The calling organisation's OIN from its certificate ("-" when it has none).
    org: String,
    streaming: bool,
    start: Instant,
    request_id: String,
}

impl Call {
    fn finish(&self, code: tonic::Code) {
        let m = global();
        m.requests
            .get_or_create(&RpcCode {
                rpc: self.rpc.clone(),
                code: code_name(code).to_owned(),
            })
            .inc();
        let elapsed = self.start.elapsed();
        if !self.streaming {
            m.latency
                .get_or_create(&Rpc {
                    rpc: self.rpc.clone(),
                })
                .observe(elapsed.as_secs_f64());
        }
        // One line per request for operators (target `signaalhub::request`, info level; silence
        // it with SIGNAALHUB_LOG="info,signaalhub::request=warn"). Only the method, the
        // organisation, the status, the latency and the request id: never a BSN, token or payload.
        tracing::info!(
            target: "signaalhub::request",
            rpc = %self.rpc,
            org = %self.org,
            code = %code_name(code),
            elapsed_ms = elapsed.as_millis() as u64,
            request_id = %self.request_id,
            "request"
        );
    }
}

impl<S> tower::Service<http::Request<Body>> for ObserveService<S>
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
        let path = req.uri().path();
        let rpc = self.catalog.label(path).to_owned();
        let streaming = self.catalog.is_streaming(path);
        let request_id = req
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| well_formed_request_id(v))
            .map(str::to_owned)
            .unwrap_or_else(new_request_id);
        let header = http::HeaderValue::from_str(&request_id).ok();
        if let Some(h) = &header {
            req.headers_mut().insert(REQUEST_ID, h.clone());
        }
        req.extensions_mut().insert(RequestId(request_id.clone()));
        let span = tracing::info_span!("rpc", rpc = %rpc, request_id = %request_id);
        let org = req
            .extensions()
            .get::<crate::auth::tls::ConnInfo>()
            .and_then(|c| c.identity.as_ref().as_ref().ok().map(|o| o.to_string()))
            .unwrap_or_else(|| "-".to_owned());
        let call = Call {
            rpc,
            org,
            streaming,
            start: Instant::now(),
            request_id,
        };
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let fut = inner.call(req).instrument(span);
        Box::pin(async move {
            let mut response = fut.await?;
            if let Some(h) = header {
                response.headers_mut().insert(REQUEST_ID, h);
            }
            if let Some(code) = status_of(response.headers()) {
                // Trailers-only: the call ended with its headers.
                call.finish(code);
                return Ok(response);
            }
            Ok(response.map(|b| {
                Body::new(Observed {
                    inner: b,
                    call: Some(call),
                })
            }))
        })
    }
}

/// A response body that records the call's final status from its trailers, or `CANCELLED`
/// when it is dropped before them (the client went away).
struct Observed {
    inner: Body,
    call: Option<Call>,
}

impl http_body::Body for Observed {
    type Data = <Body as http_body::Body>::Data;
    type Error = <Body as http_body::Body>::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref()
                    && let Some(call) = this.call.take()
                {
                    call.finish(status_of(trailers).unwrap_or(tonic::Code::Unknown));
                }
            }
            Poll::Ready(Some(Err(status))) => {
                if let Some(call) = this.call.take() {
                    call.finish(status.code());
                }
            }
            Poll::Ready(None) => {
                if let Some(call) = this.call.take() {
                    call.finish(tonic::Code::Unknown);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            call.finish(tonic::Code::Cancelled);
        }
    }
}

/// Serves `GET /metrics` on `listener` until `stop` turns true: plain HTTP/1.1, one request
/// per connection, refreshing the log gauges from `store` on each scrape.
pub fn serve(
    listener: tokio::net::TcpListener,
    store: Store,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let (conn, _) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "metrics: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = stop.changed() => return,
            };
            let store = store.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(10), answer(conn, &store)).await;
            });
        }
    })
}

async fn answer(mut conn: tokio::net::TcpStream, store: &Store) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 16 * 1024 {
            break;
        }
    }
    let line = buf.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, kind, body) = match (method, path) {
        ("GET", "/metrics") => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            let m = global();
            m.refresh_log(store, now).await;
            (
                "200 OK",
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                m.encode(),
            )
        }
        ("GET", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "only /metrics is served here\n".to_owned(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "GET /metrics\n".to_owned(),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await?;
    conn.write_all(body.as_bytes()).await?;
    conn.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_that_could_carry_a_bsn_are_replaced() {
        assert!(well_formed_request_id(
            "3f2a9c1e-7b44-4c1d-9e8f-0a1b2c3d4e5f"
        ));
        assert!(well_formed_request_id("req-12345678"));
        assert!(!well_formed_request_id("123456782"));
        assert!(!well_formed_request_id("req-123456782"));
        assert!(!well_formed_request_id("short"));
        assert!(!well_formed_request_id("has space in it"));
        assert!(!well_formed_request_id(&"a".repeat(65)));
        assert_eq!(new_request_id().len(), 32);
        assert_ne!(new_request_id(), new_request_id());
    }
}
