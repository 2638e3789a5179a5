//! The inbox fetcher: streams the organisation's inbox from the hub into the gateway's store,
//! still sealed. A professional opens an item in the console, and acknowledging it there is what
//! tells the sender it arrived.
//!
//! The stream starts after cursor 0 at every start of the gateway: the hub streams only what is
//! not acknowledged yet, and a second copy of an item is ignored by the store, so a hub that was
//! replaced (or a store that was restored) never hides a waiting signal behind a stale cursor.
use crate::app::App;
use crate::store::{Received, now_unix};
use prost::Message;
use std::sync::Arc;
use std::time::Duration;

/// How a stream ended.
enum Ended {
    /// The hub closed it as it does routinely (the token expired, the hub drains): reconnect at
    /// once with a fresh token.
    Routine,
    /// Anything else: reconnect after a growing pause.
    Failed(String),
}

/// Runs until the process ends; reconnects after a failure with a growing pause (1-30 s).
pub async fn run(app: Arc<App>) {
    let mut after = 0u64;
    let mut pause = Duration::from_secs(1);
    loop {
        match fetch(&app, &mut after).await {
            Ended::Routine => {
                pause = Duration::from_secs(1);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ended::Failed(e) => {
                tracing::warn!(error = %e, "inbox stream ended; reconnecting");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(30));
            }
        }
    }
}

fn ended(e: &signaalhub_client::ClientError) -> Ended {
    match e.code() {
        tonic::Code::Unauthenticated | tonic::Code::Unavailable
            if matches!(e, signaalhub_client::ClientError::Status(_)) =>
        {
            Ended::Routine
        }
        _ => Ended::Failed(e.to_string()),
    }
}

async fn fetch(app: &App, after: &mut u64) -> Ended {
    let mut hub = match app.hub_as_fetcher() {
        Ok(h) => h,
        Err(e) => return Ended::Failed(e.to_string()),
    };
    let mut stream = match hub.stream_inbox(*after).await {
        Ok(s) => s,
        Err(e) => return ended(&e),
    };
    loop {
        let item = match stream.message().await {
            Ok(Some(item)) => item,
            Ok(None) => return Ended::Routine,
            Err(s) => return ended(&signaalhub_client::ClientError::Status(s)),
        };
        let Some(env) = &item.envelope else {
            tracing::warn!(
                cursor = item.cursor,
                "inbox item without an envelope; skipped"
            );
            *after = item.cursor;
            continue;
        };
        let received = Received {
            sender_oin: item.sender_oin.clone(),
            signal_id: item.signal_id.clone(),
            cursor: i64::try_from(item.cursor).unwrap_or(i64::MAX),
            purpose: item.purpose.clone(),
            categories: item.categories.clone(),
            urgency: item.urgency,
            basis: item.basis.clone(),
            sent_at: item.sent_at.as_ref().map(|t| t.seconds),
            retain_until: item.retain_until.as_ref().map(|t| t.seconds),
            envelope: env.encode_to_vec(),
            received_at: now_unix(),
            acknowledged: None,
        };
        match app.store.put_received(&received).await {
            Ok(true) => tracing::info!(cursor = item.cursor, "inbox: a signal arrived"),
            Ok(false) => {}
            // Not kept: the cursor stays before it, so the next stream brings it again.
            Err(e) => return Ended::Failed(e.to_string()),
        }
        *after = item.cursor;
    }
}

/// Deletes what may no longer be kept, every hour.
pub async fn sweep(app: Arc<App>) {
    loop {
        match app.store.sweep(now_unix()).await {
            Ok((0, 0)) => {}
            Ok((r, s)) => tracing::info!(received = r, sent = s, "retention: deleted"),
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}
