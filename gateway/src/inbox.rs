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

/// Runs until the process ends; reconnects after a failure with a growing pause (1-30 s).
pub async fn run(app: Arc<App>) {
    let mut after = 0u64;
    let mut pause = Duration::from_secs(1);
    loop {
        match fetch(&app, &mut after).await {
            Ok(()) => pause = Duration::from_secs(1),
            Err(e) => {
                tracing::warn!(error = %e, "inbox stream ended; reconnecting");
                pause = (pause * 2).min(Duration::from_secs(30));
            }
        }
        tokio::time::sleep(pause).await;
    }
}

async fn fetch(app: &App, after: &mut u64) -> Result<(), String> {
    let mut hub = app.hub_as_fetcher().map_err(|e| e.to_string())?;
    let mut stream = hub.stream_inbox(*after).await.map_err(|e| e.to_string())?;
    while let Some(item) = stream.message().await.map_err(|e| e.to_string())? {
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
        let new = app
            .store
            .put_received(&received)
            .await
            .map_err(|e| e.to_string())?;
        if new {
            tracing::info!(cursor = item.cursor, "inbox: a signal arrived");
        }
        *after = item.cursor;
    }
    Ok(())
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
