//! Group commit of signal submissions.
//!
//! One committer task per hub instance takes every submission that is waiting, stores them in one
//! transaction ([`Store::insert_signals`]) and answers each. While a transaction commits (the
//! `fsync` dominates), new submissions queue up and form the next group, so under load many
//! requests share one commit and one log-sequence update, and a lone request waits for nothing
//! but its own commit. Each submission is still all-or-nothing: when a group's transaction fails
//! as a whole, its members are stored one by one so that one bad member cannot fail the others —
//! unless the store itself is out ([`StoreError::is_outage`]): then every member is answered with
//! that failure at once.
use super::signal::Submitted;
use super::{Store, StoreError, StoreResult};
use crate::domain::signal::{NewDelivery, SignalRecord};
use crate::ledger::PendingEntry;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{mpsc, oneshot};

struct Job {
    signal: SignalRecord,
    deliveries: Vec<NewDelivery>,
    entries: Vec<PendingEntry>,
    reply: oneshot::Sender<StoreResult<Submitted>>,
}

/// Stores signal submissions, grouped into shared transactions when enabled.
#[derive(Debug, Clone)]
pub struct SignalCommitter {
    store: Store,
    queue: Option<mpsc::Sender<Job>>,
    stats: Arc<Stats>,
}

/// Transactions committed and submissions stored through them.
#[derive(Debug, Default)]
struct Stats {
    transactions: AtomicU64,
    submissions: AtomicU64,
}

impl Stats {
    fn count(&self, transactions: u64, submissions: u64) {
        self.transactions.fetch_add(transactions, Ordering::Relaxed);
        self.submissions.fetch_add(submissions, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("signal_id", &self.signal.signal_id)
            .finish_non_exhaustive()
    }
}

impl SignalCommitter {
    /// A committer on `store`. With `group` it spawns the committer task (on the current tokio
    /// runtime), taking up to `max_batch` submissions per transaction; without, each submission is
    /// its own transaction.
    pub fn new(store: Store, group: bool, max_batch: usize) -> SignalCommitter {
        let stats = Arc::new(Stats::default());
        if !group {
            return SignalCommitter {
                store,
                queue: None,
                stats,
            };
        }
        let max_batch = max_batch.max(1);
        // The queue's bound is back-pressure: a full queue makes submitters wait, not grow memory.
        let (tx, rx) = mpsc::channel::<Job>(max_batch * 4);
        tokio::spawn(run(store.clone(), rx, max_batch, Arc::clone(&stats)));
        SignalCommitter {
            store,
            queue: Some(tx),
            stats,
        }
    }

    /// `(transactions, submissions)` so far: their ratio is the mean group size.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.stats.transactions.load(Ordering::Relaxed),
            self.stats.submissions.load(Ordering::Relaxed),
        )
    }

    /// Stores a new signal (see [`Store::insert_signal`]), in a group with others when enabled.
    pub async fn insert_signal(
        &self,
        signal: SignalRecord,
        deliveries: Vec<NewDelivery>,
        entries: Vec<PendingEntry>,
    ) -> StoreResult<Submitted> {
        let Some(queue) = &self.queue else {
            self.stats.count(1, 1);
            return self
                .store
                .insert_signal(&signal, &deliveries, &entries)
                .await;
        };
        let (reply, answer) = oneshot::channel();
        let job = Job {
            signal,
            deliveries,
            entries,
            reply,
        };
        if queue.send(job).await.is_err() {
            return Err(StoreError::Unavailable(sqlx::Error::PoolClosed));
        }
        // The committer answers every job it takes; a dropped answer means it stopped.
        answer
            .await
            .unwrap_or(Err(StoreError::Unavailable(sqlx::Error::PoolClosed)))
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>, max_batch: usize, stats: Arc<Stats>) {
    let mut group: Vec<Job> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.recv().await {
        group.push(first);
        while group.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit(&store, &mut group, &stats).await;
    }
}

async fn commit(store: &Store, group: &mut Vec<Job>, stats: &Stats) {
    if group.len() > 1 {
        let batch: Vec<(&SignalRecord, &[NewDelivery], &[PendingEntry])> = group
            .iter()
            .map(|j| (&j.signal, j.deliveries.as_slice(), j.entries.as_slice()))
            .collect();
        match store.insert_signals(&batch).await {
            Ok(results) => {
                stats.count(1, group.len() as u64);
                for (job, result) in group.drain(..).zip(results) {
                    let _ = job.reply.send(result);
                }
                return;
            }
            Err(e) if e.is_outage() => {
                // The store cannot write at all: storing the members one by one would only make
                // each wait for the same failure in turn (past the request timeout).
                tracing::warn!(error = %e, size = group.len(), "group commit failed: the store is unavailable");
                stats.count(1, group.len() as u64);
                let text = format!("group commit: {e}");
                for job in group.drain(..) {
                    let _ = job.reply.send(Err(StoreError::outage(text.clone())));
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, size = group.len(), "group commit failed; storing its members one by one");
            }
        }
    }
    for job in group.drain(..) {
        stats.count(1, 1);
        let result = store
            .insert_signal(&job.signal, &job.deliveries, &job.entries)
            .await;
        let _ = job.reply.send(result);
    }
}
