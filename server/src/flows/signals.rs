//! Signals: send a sealed signal on a recorded basis, deliver it (deciding again), acknowledge,
//! read again, withdraw.
use super::decision::{Party, Question};
use super::envelope::{self, Expected};
use super::error::{FlowError, FlowResult, echo, reject};
use super::idempotency::{self, Fingerprint, Seen};
use super::policy::{
    Ask, active_recipient, check_names, consents_about, presented_consents, received_for,
};
use super::{Ctx, now};
use crate::auth::Caller;
use crate::domain::consent::Consent;
use crate::domain::envelope::SealedEnvelope;
use crate::domain::signal::{
    Delivery, DeliveryState, InboxRow, NewDelivery, SignalRecord, StoredReason, Urgency,
};
use crate::ids::Bsn;
use crate::ids::{Oin, Purpose, SignalId};
use crate::ledger::{EntryOutcome, Event, PendingEntry};
use crate::store::signal::{DeliveryVerdict, Submitted};
use crate::store::{Clash, StoreError};
use signaalhub_policy as policy;

/// Most recipients of one signal.
pub const MAX_RECIPIENTS: usize = 8;
/// Most subjects of one signal.
pub const MAX_SUBJECTS: usize = 8;

/// `SendSignal`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct SendSignal {
    /// Sender-chosen id, unique per sender.
    pub signal_id: SignalId,
    /// The recipients as written (1 to [`MAX_RECIPIENTS`], each once).
    pub recipients: Vec<Oin>,
    /// The subjects (1 to [`MAX_SUBJECTS`], each once).
    pub subjects: Vec<Bsn>,
    /// Urgency.
    pub urgency: Urgency,
    /// Purpose, categories, facts, basis, role, onward purpose, exemption.
    pub ask: Ask,
    /// The sealed payload.
    pub envelope: SealedEnvelope,
    /// The request's own bytes without its envelope, BSNs and role, for the idempotency hash.
    pub canonical: Vec<u8>,
}

/// What `SendSignal` answers.
#[derive(Debug)]
pub struct Sent<'c> {
    /// The signal id.
    pub signal_id: SignalId,
    /// One per recipient, as stored.
    pub deliveries: Vec<Delivery>,
    /// One per recipient and subject (empty for a retry).
    pub decisions: Vec<policy::Decision<'c>>,
    /// Whether this was a retry of an accepted request.
    pub duplicate: bool,
}

fn reason_to_stored(r: &policy::Reason) -> StoredReason {
    StoredReason {
        code: r.code.as_str().into(),
        rule: r.rule.clone(),
        nl: r.nl.clone(),
        en: r.en.clone(),
    }
}

/// The question for disclosing stored signal `s` to `recipient` about a subject whose consents
/// are `consents`, with one of the purposes the data was received for.
fn question<'a>(
    ctx: &Ctx,
    s: &'a SignalRecord,
    recipient: Party,
    consents: &'a [&'a Consent],
    involved: bool,
    received_for: Option<&'a Purpose>,
    t: i64,
) -> Question<'a> {
    Question {
        actor: ctx.party(&s.sender_oin),
        role: &s.sender_role,
        recipient,
        purpose: &s.purpose,
        categories: &s.categories,
        facts: &s.facts,
        basis: &s.basis,
        consents,
        recipient_involved: involved,
        received_for,
        inform_exemption: s.inform_exemption.as_deref(),
        now: t,
    }
}

/// The log entry of an act on signal `s` towards `recipient`, on the sender's behalf.
fn signal_entry(
    ctx: &Ctx,
    s: &SignalRecord,
    recipient: &str,
    event: Event,
    outcome: EntryOutcome,
    d: &policy::Decision,
) -> PendingEntry {
    ctx.entry_for(
        &s.sender_oin,
        &s.sender_professional,
        &s.sender_role,
        event,
        outcome,
    )
    .subjects(s.subjects.iter().cloned())
    .recipient(recipient)
    .about(s.purpose.clone(), s.categories.iter().cloned())
    .basis(&s.basis)
    .decided(d)
    .reference(s.signal_id.clone())
}

fn id_conflict(signal_id: &str) -> FlowError {
    idempotency::conflict(&format!("signal id {:?}", echo(signal_id)))
}

/// `SendSignal`: decides once per recipient and subject and stores the signal with one pending
/// delivery and one `signal_sent` entry per recipient — or refuses it as a whole, logging every
/// refusal.
pub async fn send<'c>(ctx: &'c Ctx, caller: &Caller, cmd: SendSignal) -> FlowResult<Sent<'c>> {
    let role = ctx.acting_role(caller, cmd.ask.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let purpose = cmd.ask.purpose()?;
    let me = caller.oin().as_str();
    let subjects = ctx.subject_keys(&cmd.subjects);
    ctx.refuse_merged_references(&cmd.subjects, &subjects)
        .await?;
    let reference = cmd.ask.basis.reference();
    let recipients: Vec<&str> = cmd.recipients.iter().map(Oin::as_str).collect();
    let expected = Expected {
        sender: me,
        binding_id: &cmd.signal_id,
        purpose,
        categories: &cmd.ask.categories,
        basis_reference: &reference,
        recipients: Some(&recipients),
    };
    let mut bad = Vec::new();
    envelope::check_binding(&cmd.envelope, expected, &mut bad);
    reject(std::mem::take(&mut bad))?;
    // A retry of an accepted request (the same metadata and content digest, however sealed)
    // answers as the first time did, without deciding again.
    let request_hash = idempotency::subjects_request_hash(&cmd.canonical, &subjects, &role);
    let existing = ctx.store.get_signal(me, &cmd.signal_id).await?;
    let stored = existing.as_ref().map(|s| Fingerprint {
        request_hash: &s.request_hash,
        content_digest: s.content_digest.as_deref(),
    });
    if idempotency::compare(
        stored,
        Fingerprint::new(&request_hash, &cmd.envelope.binding.content_digest),
        &format!("signal id {:?}", echo(&cmd.signal_id)),
    )? == Seen::Retry
    {
        let deliveries = ctx.store.deliveries_of(me, &cmd.signal_id).await?;
        return Ok(Sent {
            signal_id: cmd.signal_id,
            deliveries,
            decisions: Vec::new(),
            duplicate: true,
        });
    }
    envelope::check_current(ctx, &cmd.envelope, &mut bad);
    reject(std::mem::take(&mut bad))?;
    let parties: Vec<Option<Party>> = cmd
        .recipients
        .iter()
        .map(|r| active_recipient(ctx, "recipient_oins", r, &mut bad))
        .collect();
    check_names(ctx, &cmd.ask, &mut bad);
    reject(std::mem::take(&mut bad))?;
    let consents = presented_consents(ctx, &cmd.ask.basis, &subjects, &mut bad).await?;
    reject(bad)?;
    let t = now();
    let by_subject: Vec<Vec<&Consent>> = subjects
        .iter()
        .map(|s| consents_about(&cmd.ask.basis, &consents, s))
        .collect();
    let actor = Party::new(caller.oin(), caller.sector().as_str());
    // What the subjects' data was received for, from the hub's records (`onward_from`); the
    // signal keeps it, so delivery is judged against the same purposes.
    let received = super::policy::onward_from(ctx, caller.oin(), &cmd.ask, &subjects).await?;
    let mut decisions: Vec<(String, policy::Decision<'c>)> = Vec::new();
    let mut new_deliveries = Vec::new();
    for (oin, recipient) in cmd.recipients.iter().zip(parties) {
        let Some(recipient) = recipient else { continue };
        let mut relied: Vec<crate::ids::ConsentId> = Vec::new();
        for (subject, mine) in subjects.iter().zip(&by_subject) {
            let involved =
                super::policy::recipient_involved(ctx, recipient.oin_str(), subject, t).await?;
            let d = ctx.decide_each(received_for(&received).map(|received_for| Question {
                actor: actor.clone(),
                role: &role,
                recipient: recipient.clone(),
                purpose,
                categories: &cmd.ask.categories,
                facts: &cmd.ask.facts,
                basis: &cmd.ask.basis,
                consents: mine,
                recipient_involved: involved,
                received_for,
                inform_exemption: cmd.ask.inform_exemption.as_deref(),
                now: t,
            }));
            for i in &d.consents_relied_on {
                if let Some(k) = mine.get(i)
                    && !relied.contains(&k.id)
                {
                    relied.push(k.id.clone());
                }
            }
            decisions.push((recipient.oin_str().to_owned(), d));
        }
        new_deliveries.push(NewDelivery {
            recipient_oin: oin.clone(),
            consent_ids: relied,
        });
    }
    // What the sender stated (the policy judges each subject's consents by the facts recorded
    // with them, and the redelivery decides the same way).
    let facts = cmd.ask.facts.clone();
    let record = SignalRecord {
        sender_oin: caller.oin().clone(),
        signal_id: cmd.signal_id.clone(),
        request_hash,
        content_digest: Some(cmd.envelope.binding.content_digest.clone()),
        envelope: Some(cmd.envelope.encoded),
        purpose: purpose.clone(),
        categories: cmd.ask.categories.clone(),
        urgency: cmd.urgency,
        basis: cmd.ask.basis.clone(),
        subjects: subjects.iter().map(|s| s.as_str().to_owned()).collect(),
        facts,
        sender_role: role.clone(),
        sender_professional: caller.professional.id.clone(),
        received_for: received,
        inform_exemption: cmd.ask.inform_exemption.clone(),
        created_at: t,
        retain_until: decisions
            .iter()
            .filter_map(|(_, d)| d.retain_until)
            .max()
            .unwrap_or(t),
    };
    if let Some((rc, d)) = decisions.iter().find(|(_, d)| !d.is_allowed()) {
        // Refused as a whole; every refusal is logged.
        let entries: Vec<PendingEntry> = decisions
            .iter()
            .filter(|(_, d)| !d.is_allowed())
            .map(|(rc, d)| {
                signal_entry(
                    ctx,
                    &record,
                    rc,
                    Event::SignalDenied,
                    EntryOutcome::Denied,
                    d,
                )
            })
            .collect();
        ctx.store.append_log(&entries).await?;
        return Err(FlowError::denied(format!("signal to {rc} refused"), d));
    }
    // `decisions` holds, per recipient in order, one decision per subject: one log entry (and
    // so one inbox cursor) per recipient.
    let entries: Vec<PendingEntry> = decisions
        .chunks(subjects.len().max(1))
        .map(|chunk| {
            let (rc, d) = &chunk[0];
            signal_entry(
                ctx,
                &record,
                rc,
                Event::SignalSent,
                EntryOutcome::Recorded,
                d,
            )
        })
        .collect();
    // While a re-key runs, the recipients' involvements may still name these persons under an
    // older key version: record those forms, so delivery finds them by index.
    ctx.remember_older_forms(&subjects).await?;
    let submitted = ctx
        .signals
        .insert_signal(record, new_deliveries, entries)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => id_conflict(&cmd.signal_id),
            other => other.into(),
        })?;
    let (deliveries, duplicate) = match submitted {
        Submitted::New(d) => (d, false),
        Submitted::Duplicate(d) => (d, true),
    };
    Ok(Sent {
        signal_id: cmd.signal_id,
        deliveries,
        decisions: decisions.into_iter().map(|(_, d)| d).collect(),
        duplicate,
    })
}

/// The next page of `me`'s inbox after `after` (pending and delivered rows, oldest first).
pub async fn inbox_page(ctx: &Ctx, me: &str, after: u64) -> FlowResult<Vec<InboxRow>> {
    Ok(ctx.store.inbox(me, after, 64).await?)
}

/// Delivers one inbox row to `me`: a pending delivery is decided again with the consents as they
/// stand (locked against a concurrent withdrawal) and involvement asked again, then delivered
/// and logged, or withheld and logged. Returns whether the row is to be sent.
pub async fn deliver(ctx: &Ctx, me: &Oin, row: &InboxRow) -> FlowResult<bool> {
    let state = if row.delivery.state == DeliveryState::Pending {
        let t = now();
        let mut involved = Vec::with_capacity(row.signal.subjects.len());
        for subject in &row.signal.subjects {
            involved.push(ctx.is_involved_stored(me, subject, t).await?);
        }
        let s = &row.signal;
        let recipient = ctx.party(me);
        // Fail closed: nothing is sent when the log cannot be written.
        ctx.store
            .deliver(
                me,
                &s.sender_oin,
                &s.signal_id,
                &row.delivery.consent_ids,
                |consents| {
                    let by_subject: Vec<Vec<&Consent>> = s
                        .subjects
                        .iter()
                        .map(|subject| {
                            consents
                                .iter()
                                .filter(|c| {
                                    ctx.pseudonymizer.same_person(c.subject.as_str(), subject)
                                })
                                .collect()
                        })
                        .collect();
                    let d = ctx.decide_each(by_subject.iter().zip(&involved).flat_map(
                        |(mine, inv)| {
                            received_for(&s.received_for)
                                .map(|rf| question(ctx, s, recipient.clone(), mine, *inv, rf, t))
                        },
                    ));
                    if d.is_allowed() {
                        DeliveryVerdict::Deliver(signal_entry(
                            ctx,
                            s,
                            me,
                            Event::SignalDelivered,
                            EntryOutcome::Disclosed,
                            &d,
                        ))
                    } else {
                        DeliveryVerdict::Withhold(
                            d.reasons.iter().map(reason_to_stored).collect(),
                            signal_entry(
                                ctx,
                                s,
                                me,
                                Event::SignalWithheld,
                                EntryOutcome::Withheld,
                                &d,
                            ),
                        )
                    }
                },
            )
            .await?
    } else {
        row.delivery.state
    };
    Ok(state == DeliveryState::Delivered)
}

/// `AckSignal`: the recipient confirms it has the signal.
pub async fn acknowledge(
    ctx: &Ctx,
    caller: &Caller,
    sender: &str,
    signal_id: &str,
) -> FlowResult<()> {
    ctx.store
        .acknowledge(caller.oin().as_str(), sender, signal_id, now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(Clash::State { state, .. }) => FlowError::Precondition(format!(
                "the signal is {state}: only delivered signals can be acknowledged"
            )),
            other => other.into(),
        })
}

/// What `GetSignal` shows the caller.
#[derive(Debug)]
pub struct SignalView {
    /// The signal.
    pub signal: SignalRecord,
    /// The sender sees every delivery; a recipient its own.
    pub deliveries: Vec<Delivery>,
    /// The envelope, for a recipient to whom it was delivered (and not yet erased).
    pub envelope: Option<Vec<u8>>,
}

/// `GetSignal`: the sender sees its signal's deliveries; a recipient, once the signal was
/// delivered to it, its own delivery and the envelope again (a read of personal data: logged
/// first, fail closed). Anyone else, and an intended recipient before delivery: `NOT_FOUND`.
pub async fn get(
    ctx: &Ctx,
    caller: &Caller,
    sender: &str,
    signal_id: &str,
) -> FlowResult<SignalView> {
    let not_found = || {
        FlowError::NotFound(format!(
            "no signal {:?} from {:?} concerns you",
            echo(signal_id),
            echo(sender)
        ))
    };
    let s = ctx
        .store
        .get_signal(sender, signal_id)
        .await?
        .ok_or_else(not_found)?;
    let ds = ctx.store.deliveries_of(sender, signal_id).await?;
    let me = caller.oin().as_str();
    if s.sender_oin == me {
        return Ok(SignalView {
            signal: s,
            deliveries: ds,
            envelope: None,
        });
    }
    // A recipient learns of a signal only once it was delivered to it: not while the delivery
    // waits for its re-decision, nor when it was withheld or withdrawn before (docs/ACCESS.md).
    let mine: Vec<Delivery> = ds
        .into_iter()
        .filter(|d| {
            d.recipient_oin == me
                && matches!(
                    d.state,
                    DeliveryState::Delivered | DeliveryState::Acknowledged
                )
        })
        .collect();
    if mine.is_empty() {
        return Err(not_found());
    }
    let delivered = s.envelope.is_some();
    if delivered {
        let e = ctx
            .read_entry(caller, Event::SignalRead)
            .subjects(s.subjects.iter().cloned())
            .recipient(me)
            .about(s.purpose.clone(), s.categories.iter().cloned())
            .reference(s.signal_id.clone());
        ctx.store.append_log(std::slice::from_ref(&e)).await?;
    }
    let envelope = if delivered { s.envelope.clone() } else { None };
    Ok(SignalView {
        signal: s,
        deliveries: mine,
        envelope,
    })
}

/// `WithdrawSignal`: the sender recalls its signal from every recipient that has not received
/// it yet (one entry each).
pub async fn withdraw(ctx: &Ctx, caller: &Caller, signal_id: &str) -> FlowResult<Vec<Delivery>> {
    let role = ctx.acting_role(caller, None)?;
    let me = caller.oin().as_str();
    let s =
        ctx.store.get_signal(me, signal_id).await?.ok_or_else(|| {
            FlowError::NotFound(format!("you sent no signal {:?}", echo(signal_id)))
        })?;
    Ok(ctx
        .store
        .withdraw_signal(me, signal_id, |recipient| {
            ctx.entry(
                caller,
                &role,
                Event::SignalWithdrawn,
                EntryOutcome::Withheld,
            )
            .subjects(s.subjects.iter().cloned())
            .recipient(recipient)
            .about(s.purpose.clone(), s.categories.iter().cloned())
            .reference(s.signal_id.clone())
        })
        .await?)
}
