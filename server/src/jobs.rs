//! The hub's background jobs share one periodic runner: directory polling
//! (`auth::directory`), log integration (`ledger::integrator`) and the retention sweeper
//! (`retention`); the pseudonym re-key (`rekey`) runs its passes on its own schedule.
use std::future::Future;
use std::time::Duration;

/// Runs `task` every `every` (missed ticks are delayed, not bunched) until `shutdown` turns true.
/// Used for the hub's background work: directory polling and log integration.
pub fn spawn_periodic<F, Fut>(
    every: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut task: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => task().await,
                _ = shutdown.changed() => break,
            }
        }
    })
}
