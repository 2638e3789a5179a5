//! Load generators: closed loop (N requests in flight over M connections, every latency kept)
//! and open loop (a fixed rate, each latency timed from its *intended* send time, so a slow
//! server cannot hide its tail by slowing the generator down).
use futures::future::BoxFuture;
use signaalhub_client::{ClientError, HubClient};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One operation against a connection; `u64` is a unique sequence number.
pub type Op =
    Arc<dyn Fn(HubClient, u64) -> BoxFuture<'static, Result<(), ClientError>> + Send + Sync>;

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// Latencies of successful requests in the measurement window, microseconds.
    pub latencies_us: Vec<u64>,
    /// Failed requests in the measurement window.
    pub errors: u64,
    /// The first error seen, if any.
    pub first_error: Option<String>,
    /// Length of the measurement window.
    pub window: Duration,
}

impl Samples {
    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        self.latencies_us.len() as f64 / self.window.as_secs_f64().max(1e-9)
    }

    /// The `p`-th percentile latency in milliseconds (`p` in 0..=100).
    pub fn pct_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let mut v = self.latencies_us.clone();
        v.sort_unstable();
        let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
        v[i.min(v.len() - 1)] as f64 / 1000.0
    }
}

/// Closed loop: `in_flight` workers spread over `clients`, each sending its next request as soon
/// as the previous one answers; `warmup` first, then `window` measured.
pub async fn closed_loop(
    clients: &[HubClient],
    in_flight: usize,
    warmup: Duration,
    window: Duration,
    op: Op,
) -> Samples {
    let seq = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + window;
    let mut tasks = Vec::with_capacity(in_flight);
    for w in 0..in_flight {
        let client = clients[w % clients.len()].clone();
        let op = Arc::clone(&op);
        let seq = Arc::clone(&seq);
        tasks.push(tokio::spawn(async move {
            let mut s = Samples::default();
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let n = seq.fetch_add(1, Ordering::Relaxed);
                let r = op(client.clone(), n).await;
                let t1 = Instant::now();
                if t0 < measure_from || t1 > end {
                    continue;
                }
                match r {
                    Ok(()) => s.latencies_us.push((t1 - t0).as_micros() as u64),
                    Err(e) => {
                        s.errors += 1;
                        s.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            s
        }));
    }
    let mut all = Samples {
        window,
        ..Samples::default()
    };
    for t in tasks {
        if let Ok(s) = t.await {
            all.latencies_us.extend(s.latencies_us);
            all.errors += s.errors;
            if all.first_error.is_none() {
                all.first_error = s.first_error;
            }
        }
    }
    all
}

/// Open loop: `rate` requests per second for `window` (after `warmup` at the same rate), request
/// `i` intended at `start + i / rate`; its latency counts from that intended time.
pub async fn open_loop(
    clients: &[HubClient],
    rate: f64,
    warmup: Duration,
    window: Duration,
    op: Op,
) -> Samples {
    let start = tokio::time::Instant::now();
    let total = ((warmup + window).as_secs_f64() * rate).round() as u64;
    let first_measured = (warmup.as_secs_f64() * rate).round() as u64;
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let intended = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(intended).await;
        let client = clients[i as usize % clients.len()].clone();
        let op = Arc::clone(&op);
        tasks.push(tokio::spawn(async move {
            let r = op(client, i).await;
            (i, r, tokio::time::Instant::now() - intended)
        }));
    }
    let mut s = Samples {
        window,
        ..Samples::default()
    };
    for t in tasks {
        if let Ok((i, r, lat)) = t.await {
            if i < first_measured {
                continue;
            }
            match r {
                Ok(()) => s.latencies_us.push(lat.as_micros() as u64),
                Err(e) => {
                    s.errors += 1;
                    s.first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }
    s
}

/// The median of `v` (NaN when empty).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
