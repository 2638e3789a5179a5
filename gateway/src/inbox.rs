//! The inbox fetcher: streams the organisation's inbox from the hub into the gateway's store,
//! still sealed. A professional opens an item in the console, and acknowledging it there is what
//! tells the sender it arrived.
//!
//! The stream starts after cursor 0 at every start of the gateway: the hub streams only what is
//! not acknowledged yet, and a second copy of an item is ignored by the store, so a hub that was
//! replaced (or a store that was restored) never hides a waiting signal behind a stale cursor.
use crate::app::App;
use crate::store::{Received, StoreError, StoredMelding, Swept, now_unix};
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
    reconnecting(&app, Stream::Inbox).await
}

/// The hub's streams the gateway keeps in its store.
#[derive(Debug, Clone, Copy)]
enum Stream {
    /// Signals (`StreamInbox`).
    Inbox,
    /// Zorgmeldingen (`StreamZorgmeldingen`).
    Zorgmeldingen,
}

/// Streams `which` from cursor 0 on, again and again: at once after a routine end, after a
/// growing pause (1-30 s) after a failure. Each pass moves the cursor past what it stored.
async fn reconnecting(app: &App, which: Stream) {
    let mut after = 0u64;
    let mut pause = Duration::from_secs(1);
    loop {
        let pass = match which {
            Stream::Inbox => fetch(app, &mut after).await,
            Stream::Zorgmeldingen => fetch_meldingen(app, &mut after).await,
        };
        match pass.err().unwrap_or(Ended::Routine) {
            Ended::Routine => {
                pause = Duration::from_secs(1);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ended::Failed(e) => {
                tracing::warn!(error = %e, stream = ?which, "stream ended; reconnecting");
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

/// The gateway's fetcher at the hub, or how the pass ended.
fn fetcher(app: &App) -> Result<signaalhub_client::HubClient, Ended> {
    app.hub_as_fetcher()
        .map_err(|e| Ended::Failed(e.to_string()))
}

/// A stream's failure as an end.
fn status_ended(s: tonic::Status) -> Ended {
    ended(&signaalhub_client::ClientError::Status(s))
}

/// A store failure as an end: the cursor stays before the item, so the next pass brings it again.
fn not_kept(e: crate::store::StoreError) -> Ended {
    Ended::Failed(e.to_string())
}

/// One pass of the inbox stream; `Ok` when the hub ended it.
async fn fetch(app: &App, after: &mut u64) -> Result<(), Ended> {
    let mut stream = fetcher(app)?
        .stream_inbox(*after)
        .await
        .map_err(|e| ended(&e))?;
    while let Some(item) = stream.message().await.map_err(status_ended)? {
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
        if app.store.put_received(&received).await.map_err(not_kept)? {
            tracing::info!(cursor = item.cursor, "inbox: a signal arrived");
        }
        *after = item.cursor;
    }
    Ok(())
}

/// The zorgmelding fetcher of a Veilig Thuis gateway: streams the zorgmeldingen the police
/// addressed to the organisation into the store, fragments still sealed; a newer version (a late
/// fragment) replaces the stored one. Like the inbox it starts after cursor 0 at every start (a
/// melding already stored is not stored again). Ends at once for an organisation that is not
/// Veilig Thuis: nothing is addressed to it.
pub async fn run_meldingen(app: Arc<App>) {
    let mut pause = Duration::from_secs(1);
    loop {
        match is_veilig_thuis(&app).await {
            Ok(true) => break,
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "zorgmeldingen: cannot ask the hub who we are yet");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(30));
            }
        }
    }
    reconnecting(&app, Stream::Zorgmeldingen).await
}

/// Whether this organisation is a Veilig Thuis, as the hub's directory says.
async fn is_veilig_thuis(app: &App) -> Result<bool, signaalhub_client::ClientError> {
    let org = app.hub_as_fetcher()?.get_organization(app.oin()).await?;
    Ok(org
        .organization
        .and_then(|o| signaalhub_client::sector_from_name(&o.sector_name))
        == Some(signaalhub_client::signaalhub_proto::pb::Sector::VeiligThuis))
}

/// One pass of the zorgmelding stream; `Ok` when the hub ended it.
async fn fetch_meldingen(app: &App, after: &mut u64) -> Result<(), Ended> {
    let mut stream = fetcher(app)?
        .stream_zorgmeldingen(*after)
        .await
        .map_err(|e| ended(&e))?;
    while let Some(item) = stream.message().await.map_err(status_ended)? {
        let Some(m) = &item.zorgmelding else {
            *after = item.cursor;
            continue;
        };
        let now = now_unix();
        let stored = StoredMelding {
            zorgmelding_id: m.zorgmelding_id.clone(),
            police_oin: m.police_oin.clone(),
            registration_number: m.registration_number.clone(),
            version: i64::from(m.version),
            fragment_count: m.fragments.len() as i64,
            complete: m.complete,
            cursor: i64::try_from(item.cursor).unwrap_or(i64::MAX),
            retain_until: m.retain_until.as_ref().map(|t| t.seconds),
            melding: m.encode_to_vec(),
            received_at: now,
            updated_at: now,
        };
        if app.store.put_melding(&stored).await.map_err(not_kept)? {
            tracing::info!(
                cursor = item.cursor,
                "zorgmeldingen: a melding (version) arrived"
            );
        }
        *after = item.cursor;
    }
    Ok(())
}

/// Deletes what may no longer be kept, at start and then every hour.
pub async fn sweep(app: Arc<App>) {
    loop {
        match retention_pass(&app, now_unix()).await {
            Ok(s) if s == Swept::default() => {}
            Ok(s) => tracing::info!(
                received = s.received,
                sent = s.sent,
                zorgmeldingen = s.zorgmeldingen,
                "retention: deleted"
            ),
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

/// One retention pass at `now`: every record whose `retain_until` (the hub's date, from the
/// convenant's retention for its purpose) passed; and a record the hub gave no date, once its
/// purpose's retention in the convenant has passed since it was received or sent.
pub async fn retention_pass(app: &App, now: i64) -> Result<Swept, StoreError> {
    let mut swept = app.store.sweep(now).await?;
    for p in &app.convenant.purposes {
        let retention = i64::try_from(p.retention_secs).unwrap_or(i64::MAX);
        swept += app
            .store
            .sweep_undated(&p.name, now.saturating_sub(retention))
            .await?;
    }
    Ok(swept)
}
