//! Reminders: what was planned falls due, and the parties hear of it through their notification
//! stream (issue 19, items 5 and 7).
//!
//! - **A melding's review** (`SetMeldingStage.review_at`): Veilig Thuis is told
//!   (`MELDING_REVIEW_DUE`).
//! - **A safety plan's review** (`PublishSafetyPlan.review_at`, the latest version's): every
//!   party of the case is told (`SAFETY_PLAN_REVIEW_DUE`).
//! - **A handover left unanswered** past the convenant's `handover_answer_within`: the Veilig
//!   Thuis that handed over is told (`HANDOVER_UNANSWERED`).
//! - **A duty to inform the family left open** past the convenant's `inform_within`: the
//!   organisation that disclosed is told (`INFORM_OVERDUE`; issue 20).
//!
//! Each reminder is told once: it is claimed (planned -> reminded) in the same transaction as
//! its log entries and notifications, so hub instances sharing a store never tell it twice. The
//! entries are the hub's own acts for the organisation that planned (role [`ROLE`], no
//! professional), recorded, not disclosed: the parties learn nothing they were not told before.
//!
//! It runs inside every hub instance (`reminders.interval_ms`); `signaalhub reminders run` runs
//! one pass now.
use crate::domain::involvement::{Notification, NotificationKind};
use crate::ledger::{EntryActor, EntryOutcome, Event, PendingEntry};
use crate::store::melding::Due;
use crate::store::{Store, StoreResult};
use signaalhub_policy::Policy;
use std::sync::Arc;
use std::time::Duration;

/// The role the hub acts in when it reminds.
pub const ROLE: &str = "hub:reminder";

/// What one pass told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderReport {
    /// Melding reviews told to Veilig Thuis.
    pub melding_reviews: u64,
    /// Safety plan reviews told to the parties (one per plan version).
    pub plan_reviews: u64,
    /// Unanswered handovers told to Veilig Thuis.
    pub unanswered_handovers: u64,
    /// Overdue duties to inform the family told to the disclosing organisation.
    pub overdue_informs: u64,
}

impl ReminderReport {
    /// Reminders told in total.
    pub fn total(&self) -> u64 {
        self.melding_reviews + self.plan_reviews + self.unanswered_handovers + self.overdue_informs
    }
}

/// A date as a Dutch reader writes it (`5-12-2026`), in UTC.
fn date_nl(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{d}-{m}-{y}")
}

/// The hub's entry for a reminder, acting for `owner` (the recipient is added by the caller).
fn entry(
    policy: &Policy,
    owner: &str,
    event: Event,
    subjects: &[String],
    purpose: &str,
    reference: &str,
    now: i64,
) -> PendingEntry {
    let mut e = PendingEntry::new(
        EntryActor {
            oin: owner,
            pseudonym: "",
            professional: "",
            role: ROLE,
        },
        event,
        EntryOutcome::Recorded,
        now,
        policy.version(),
    )
    .subjects(subjects.iter().cloned())
    .reference(reference);
    e.entry.purpose = Some(purpose.to_owned());
    e
}

/// The notification of a reminder.
fn notification(
    policy: &Policy,
    recipient: &crate::ids::Oin,
    actor: &crate::ids::Oin,
    kind: NotificationKind,
    purpose: &str,
    summary_nl: String,
    now: i64,
) -> Notification {
    let keep = policy.retention_for(purpose).unwrap_or(0);
    Notification {
        recipient_oin: recipient.clone(),
        cursor: 0,
        kind,
        at: now,
        actor_oin: actor.clone(),
        actor_professional: String::new(),
        case_id: None,
        maatregel_id: None,
        involvement_id: None,
        proposal_id: None,
        plan_version: None,
        summary_nl,
        reference: None,
        retain_until: now.saturating_add(i64::try_from(keep).unwrap_or(i64::MAX)),
    }
}

/// Tells everything due at `now`, at most `batch` of each kind per round, until nothing due is
/// left. A store error stops the pass; what was told before it stays told.
pub async fn run(
    store: &Store,
    policy: &Policy,
    now: i64,
    batch: u32,
) -> StoreResult<ReminderReport> {
    let answer_within = i64::try_from(policy.handover_answer_secs()).unwrap_or(i64::MAX);
    let delivered_before = now.saturating_sub(answer_within);
    let inform_within = i64::try_from(policy.inform_within_secs()).unwrap_or(i64::MAX);
    let disclosed_before = now.saturating_sub(inform_within);
    let mut report = ReminderReport::default();
    loop {
        let due = store
            .due_reminders(now, delivered_before, disclosed_before, batch)
            .await?;
        if due.is_empty() {
            break;
        }
        let mut told = 0u64;
        for d in &due {
            let items = items(store, policy, d, now).await?;
            if store.record_reminder(d, &items, now).await? {
                told += 1;
                match d {
                    Due::MeldingReview { .. } => report.melding_reviews += 1,
                    Due::PlanReview { .. } => report.plan_reviews += 1,
                    Due::HandoverUnanswered { .. } => report.unanswered_handovers += 1,
                    Due::InformOverdue { .. } => report.overdue_informs += 1,
                }
            }
        }
        // Everything found was claimed by another instance meanwhile: it finishes the rest.
        if told == 0 {
            break;
        }
    }
    Ok(report)
}

/// The entries and notifications of one reminder.
async fn items(
    store: &Store,
    policy: &Policy,
    due: &Due,
    now: i64,
) -> StoreResult<Vec<(PendingEntry, Option<Notification>)>> {
    Ok(match due {
        Due::MeldingReview {
            vt_oin,
            melding,
            review_at,
            subjects,
            purpose,
            ..
        } => {
            let e = entry(
                policy,
                vt_oin.as_str(),
                Event::MeldingReviewDue,
                subjects,
                purpose.as_str(),
                melding.as_str(),
                now,
            )
            .recipient(vt_oin.as_str());
            let mut n = notification(
                policy,
                vt_oin,
                vt_oin,
                NotificationKind::MeldingReviewDue,
                purpose.as_str(),
                format!(
                    "De herbeoordeling van melding {melding} is aan de beurt (gepland op {}).",
                    date_nl(*review_at)
                ),
                now,
            );
            n.reference = Some(melding.to_string());
            vec![(e, Some(n))]
        }
        Due::PlanReview {
            case_id,
            version,
            author_oin,
            review_at,
        } => {
            // A case that no longer resolves has nobody to tell: the reminder is claimed and
            // nothing is told (it must not hold up every later pass).
            let view = match store.case_view(case_id.as_str()).await {
                Ok(v) => v,
                Err(crate::store::StoreError::NotFound(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let subjects = view.subjects();
            let purpose = crate::domain::involvement::PURPOSE.as_str();
            let mut told: Vec<&str> = Vec::new();
            let mut items = Vec::new();
            for party in &view.parties {
                if told.contains(&party.org_oin.as_str()) {
                    continue;
                }
                told.push(party.org_oin.as_str());
                let e = entry(
                    policy,
                    author_oin.as_str(),
                    Event::SafetyPlanReviewDue,
                    &subjects,
                    purpose,
                    &format!("{case_id}.v{version}"),
                    now,
                )
                .recipient(party.org_oin.as_str())
                .categories([&crate::domain::involvement::CATEGORY_SAFETY_PLAN]);
                let mut n = notification(
                    policy,
                    &party.org_oin,
                    author_oin,
                    NotificationKind::SafetyPlanReviewDue,
                    purpose,
                    format!(
                        "Het veiligheidsplan (versie {version}) is toe aan de afgesproken evaluatie van {}.",
                        date_nl(*review_at)
                    ),
                    now,
                );
                n.case_id = Some(case_id.clone());
                n.plan_version = Some(*version);
                n.involvement_id = Some(party.id.clone());
                items.push((e, Some(n)));
            }
            items
        }
        Due::HandoverUnanswered {
            sender_oin,
            handover_id,
            recipient_oin,
            delivered_at,
            subjects,
            purpose,
        } => {
            let e = entry(
                policy,
                sender_oin.as_str(),
                Event::HandoverUnanswered,
                subjects,
                purpose.as_str(),
                handover_id.as_str(),
                now,
            )
            .recipient(sender_oin.as_str());
            let mut n = notification(
                policy,
                sender_oin,
                sender_oin,
                NotificationKind::HandoverUnanswered,
                purpose.as_str(),
                format!(
                    "Het wijkteam ({recipient_oin}) heeft overdracht {handover_id} (afgeleverd op {}) nog niet beantwoord: neem contact op.",
                    date_nl(*delivered_at)
                ),
                now,
            );
            n.reference = Some(handover_id.to_string());
            vec![(e, Some(n))]
        }
        Due::InformOverdue {
            org_oin,
            log_index,
            reference,
            purpose,
            disclosed_at,
        } => {
            let about = if reference.is_empty() {
                String::new()
            } else {
                format!(" ({reference})")
            };
            let purpose = purpose.as_ref().map_or("", |p| p.as_str());
            let mut e = entry(
                policy,
                org_oin.as_str(),
                Event::InformOverdue,
                &[],
                purpose,
                &format!("inform:{log_index}"),
                now,
            )
            .recipient(org_oin.as_str());
            if purpose.is_empty() {
                e.entry.purpose = None;
            }
            let mut n = notification(
                policy,
                org_oin,
                org_oin,
                NotificationKind::InformOverdue,
                purpose,
                format!(
                    "Het gezin is nog niet geïnformeerd over de verstrekking van {}{about} (logindex {log_index}): informeer het gezin of leg vast waarom niet.",
                    date_nl(*disclosed_at)
                ),
                now,
            );
            n.reference = Some(format!("inform:{log_index}"));
            vec![(e, Some(n))]
        }
    })
}

/// Runs [`run`] every `every` with the system clock until `stop` turns true.
pub fn spawn(
    store: Store,
    policy: Arc<Policy>,
    every: Duration,
    batch: u32,
    stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    crate::jobs::spawn_periodic(every, stop, move || {
        let store = store.clone();
        let policy = Arc::clone(&policy);
        async move {
            match run(&store, &policy, crate::flows::now(), batch).await {
                Ok(r) if r.total() > 0 => tracing::info!(
                    melding_reviews = r.melding_reviews,
                    plan_reviews = r.plan_reviews,
                    unanswered_handovers = r.unanswered_handovers,
                    "reminders told"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reminders could not run; trying again"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::date_nl;

    #[test]
    fn dates_read_as_dutch_dates() {
        assert_eq!(date_nl(0), "1-1-1970");
        assert_eq!(date_nl(1_796_428_800), "5-12-2026");
        assert_eq!(date_nl(951_782_400), "29-2-2000");
    }
}
