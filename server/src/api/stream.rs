//! One driver for the hub's long-lived cursor streams (`StreamInbox`, `StreamZorgmeldingen`,
//! `StreamNotifications`): read a page after the caller's cursor, deliver each row, wait for a
//! wake-up (same instance), a poll tick (other instances) or the hub's shutdown, and stop as soon
//! as the caller is suspended, its token expires, the client goes away or the store cannot
//! answer (fail closed: nothing is sent that was not decided and logged).
use crate::auth::Caller;
use crate::flows::{Ctx, now};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tonic::Status;
use tracing::Instrument;

/// How often an idle stream looks at the store even without a wake-up: rows written by another
/// hub instance wake only that instance (or arrive through `pg_notify` a little later).
pub const POLL: Duration = Duration::from_millis(1000);

/// A stream of items for the caller.
pub(crate) type ItemStream<T> =
    Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

/// What one kind of stream reads and how it delivers a row.
pub(crate) trait CursorSource: Send + Sync + 'static {
    /// A stored row, as the page query returns it.
    type Row: Send;
    /// What the caller receives for it.
    type Item: Send + 'static;
    /// The next rows after `after`, oldest first (at most a page).
    fn page(&self, after: u64) -> impl Future<Output = Result<Vec<Self::Row>, Status>> + Send;
    /// Delivers one row: decides again and logs where the kind needs it. Returns the row's
    /// cursor and the item to send, or `None` when the row is consumed without being sent (a
    /// signal withheld at delivery).
    fn deliver(
        &self,
        row: Self::Row,
    ) -> impl Future<Output = Result<(u64, Option<Self::Item>), Status>> + Send;
}

/// The stream's surroundings.
pub(crate) struct Drive {
    /// The hub.
    pub ctx: Ctx,
    /// Who is listening.
    pub caller: Caller,
    /// Woken when a new row for someone was written on this instance.
    pub wake: Arc<Notify>,
    /// Turns `true` when the hub drains.
    pub stop: watch::Receiver<bool>,
    /// How the client resumes, for the messages that end the stream ("from your last
    /// acknowledged cursor").
    pub resume: &'static str,
    /// Items buffered towards a slow client.
    pub buffer: usize,
}

/// How a kind of stream resumes and how much it buffers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// How the client resumes, for the messages that end the stream.
    pub resume: &'static str,
    /// Items buffered towards a slow client.
    pub buffer: usize,
}

/// Opens a cursor stream for the caller of `request` after cursor `after`: `source` makes the
/// row source for the caller's organisation (its OIN).
pub(crate) fn open<S: CursorSource, R>(
    ctx: &Ctx,
    request: &tonic::Request<R>,
    after: u64,
    wake: &Arc<Notify>,
    stop: &watch::Receiver<bool>,
    shape: Shape,
    source: impl FnOnce(Ctx, crate::ids::Oin) -> S,
) -> Result<ItemStream<S::Item>, Status> {
    let caller = super::caller(request)?;
    let source = source(ctx.clone(), caller.oin().clone());
    let drive = Drive {
        ctx: ctx.clone(),
        caller,
        wake: Arc::clone(wake),
        stop: stop.clone(),
        resume: shape.resume,
        buffer: shape.buffer,
    };
    Ok(spawn(
        drive,
        source,
        after,
        super::status::request_id(request),
    ))
}

/// Whether the caller of a long-lived stream may still receive: organisation active in the
/// directory (suspension takes effect at once) and token not expired.
pub(crate) fn still_authorised(ctx: &Ctx, c: &Caller, resume: &str) -> Result<(), Status> {
    if !ctx.is_active_org(c.oin()) {
        return Err(Status::permission_denied(format!(
            "organisation {} is suspended in this hub's directory; contact the hub operator",
            c.oin()
        )));
    }
    if c.professional.expires_at + ctx.token_leeway_secs < now() {
        return Err(Status::unauthenticated(format!(
            "the bearer token has expired: reconnect with a fresh one and resume {resume}"
        )));
    }
    Ok(())
}

/// Spawns the stream's task and returns the stream the caller reads, starting after `after`.
pub(crate) fn spawn<S: CursorSource>(
    d: Drive,
    source: S,
    mut after: u64,
    request_id: Option<crate::metrics::RequestId>,
) -> ItemStream<S::Item> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<S::Item, Status>>(d.buffer);
    let Drive {
        ctx,
        caller,
        wake,
        mut stop,
        resume,
        ..
    } = d;
    tokio::spawn(
        async move {
            loop {
                if *stop.borrow() {
                    let _ = tx
                        .send(Err(Status::unavailable(format!(
                            "the hub is shutting down; reconnect and resume {resume}"
                        ))))
                        .await;
                    return;
                }
                // A long-lived stream stays subject to the caller's identity: a suspension or
                // an expired token ends it before anything more is delivered.
                if let Err(status) = still_authorised(&ctx, &caller, resume) {
                    let _ = tx.send(Err(status)).await;
                    return;
                }
                // Armed before the page is read, so a row written meanwhile still wakes us.
                let notified = wake.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let rows = match source.page(after).await {
                    Ok(r) => r,
                    Err(status) => {
                        let _ = tx.send(Err(status)).await;
                        return;
                    }
                };
                let idle = rows.is_empty();
                for row in rows {
                    if let Err(status) = still_authorised(&ctx, &caller, resume) {
                        let _ = tx.send(Err(status)).await;
                        return;
                    }
                    match source.deliver(row).await {
                        Ok((cursor, item)) => {
                            after = cursor;
                            if let Some(item) = item
                                && tx.send(Ok(item)).await.is_err()
                            {
                                return;
                            }
                        }
                        Err(status) => {
                            let _ = tx.send(Err(status)).await;
                            return;
                        }
                    }
                }
                if idle {
                    tokio::select! {
                        _ = &mut notified => {}
                        _ = tokio::time::sleep(POLL) => {}
                        _ = tx.closed() => return,
                        _ = stop.changed() => {}
                    }
                }
            }
        }
        .instrument(tracing::Span::current()),
    );
    Box::pin(super::status::stream_with_request_id(rx, request_id))
}
