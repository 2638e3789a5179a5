//! The family's rights (issue 20, items 1 and 3).
//!
//! **Informing the family** (AVG art. 13/14): a disclosure of a flow with `inform_subject` leaves
//! an obligation of the organisation that disclosed, written with the disclosure's own log entry
//! (`ledger::PendingEntry::decided`, `store::sequence_log`). The organisation closes it by
//! recording how and when it informed the family, or why it does not (a fixed ground,
//! `policy::reasons::INFORM_EXEMPTION`); open ones past the convenant's `inform_within` reach it
//! through its notification stream (`crate::reminders`). The organisation and its privacy
//! officer list them.
//!
//! **The family's requests** (art. 16-18, 21): an organisation (a professional, or its privacy
//! officer on the family's behalf) records an objection, correction, restriction or erasure
//! request about the person, covering its own disclosures about them; it decides with a fixed
//! reason; a granted request is told to every organisation that received the data (art. 19),
//! which confirms that it acted on it. The content of the request and of the correction stays
//! with the organisations: the hub holds codes, dates and log indices.
//!
//! **Subjects without a BSN** (item 4): the hub issues an organisation a subject reference
//! (`ids::Bsn`'s second form, `SH-` + 13 letters) for a person whose BSN it does not know; it is
//! accepted wherever a BSN is and made into a pseudonym the same way. Once the BSN is known, the
//! organisation merges it: every stored record under the reference moves to the BSN's pseudonym
//! (`Store::merge_subject_forms`, over the re-key's list of tables), once.
//!
//! Who may: a professional of the organisation in a convenant role of its sector, or its privacy
//! officer (`fg`). Every act is logged; lists are the organisation's own records (docs/ACCESS.md).
use super::error::{FlowError, FlowResult};
use super::log::FG_ROLE;
use super::{Ctx, new_id, now};
use crate::auth::Caller;
use crate::domain::family::{
    FamilyRequest, InformClose, InformObligation, RequestKind, RequestNotice, RequestState,
};
use crate::domain::involvement::{Notification, NotificationKind};
use crate::ids::{Bsn, FamilyRequestId, Oin, Role};
use crate::ledger::{EntryOutcome, Event, LogEntry, PendingEntry};
use crate::store::StoreError;
use crate::store::family::ObligationFilter;

/// The most a list answers at once.
pub const MAX_PAGE: u32 = 1000;
/// A page when the request names none.
pub const DEFAULT_PAGE: u32 = 100;

/// The role a family act is done in: the privacy officer's (`fg`), or a convenant role of the
/// caller's sector.
fn family_role(ctx: &Ctx, caller: &Caller, acting_role: Option<&Role>) -> FlowResult<Role> {
    let role = ctx.acting_role(caller, acting_role)?;
    if role.as_str() != FG_ROLE {
        ctx.require_convenant_role(caller, &role)?;
    }
    Ok(role)
}

/// A page size within bounds (0: the default).
fn page(size: u32) -> u32 {
    match size {
        0 => DEFAULT_PAGE,
        n => n.min(MAX_PAGE),
    }
}

/// The subjects of stored entries, each under the current key version (an entry keeps the
/// version it was written under; a new entry about the same person is written under the newest).
fn current_subjects(ctx: &Ctx, entries: &[LogEntry]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in entries.iter().flat_map(|e| e.subjects.iter()) {
        let current = ctx
            .pseudonymizer
            .lift(s)
            .and_then(|forms| forms.last().map(|p| p.as_str().to_owned()))
            .unwrap_or_else(|| s.clone());
        if !out.contains(&current) {
            out.push(current);
        }
    }
    out
}

/// The entries at `indices`, parsed (an entry that does not parse is a corrupt store).
async fn entries_at(ctx: &Ctx, indices: &[u64]) -> FlowResult<Vec<(u64, LogEntry)>> {
    ctx.store
        .log_entries_at(indices)
        .await?
        .into_iter()
        .map(|s| {
            s.entry
                .map(|e| (s.idx, e))
                .ok_or(FlowError::Store(StoreError::Corrupt("log_entries.entry")))
        })
        .collect()
}

/// The subjects (current key version) of the log entry at `idx`: whom a duty or a request
/// concerns.
async fn subjects_at(ctx: &Ctx, idx: u64) -> FlowResult<Vec<String>> {
    let entries: Vec<LogEntry> = entries_at(ctx, &[idx])
        .await?
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    Ok(current_subjects(ctx, &entries))
}

/// `ListInformObligations`, checked at the edge.
#[derive(Debug, Clone, Default)]
pub struct ListObligations {
    /// Only those in this state (`None`: every state).
    pub state: Option<crate::domain::family::InformState>,
    /// Only open ones past the convenant's `inform_within`.
    pub overdue_only: bool,
    /// Start at this log index (the previous page's `next_from`).
    pub from_index: u64,
    /// At most this many (0: [`DEFAULT_PAGE`]; at most [`MAX_PAGE`]).
    pub page_size: u32,
    /// The role acted in.
    pub acting_role: Option<Role>,
}

/// A page of an organisation's duties to inform the family.
#[derive(Debug, Clone)]
pub struct ObligationsPage {
    /// The obligations, in log order.
    pub obligations: Vec<InformObligation>,
    /// The log index to continue from, when the page was full.
    pub next_from: Option<u64>,
    /// The convenant's `inform_within`, in seconds (an obligation is due that long after).
    pub within_secs: u64,
    /// The moment the page was read (overdue is judged at it).
    pub now: i64,
}

/// `ListInformObligations`: the caller's organisation's duties to inform the family.
pub async fn list_obligations(
    ctx: &Ctx,
    caller: &Caller,
    cmd: ListObligations,
) -> FlowResult<ObligationsPage> {
    family_role(ctx, caller, cmd.acting_role.as_ref())?;
    let t = now();
    let within = ctx.policy.inform_within_secs();
    let filter = ObligationFilter {
        state: cmd.state,
        created_at_or_before: cmd
            .overdue_only
            .then(|| t.saturating_sub(i64::try_from(within).unwrap_or(i64::MAX))),
    };
    let size = page(cmd.page_size);
    let obligations = ctx
        .store
        .inform_obligations(
            caller.oin().as_str(),
            filter,
            cmd.from_index.checked_sub(1),
            size,
        )
        .await?;
    let next_from = (obligations.len() == size as usize)
        .then(|| obligations.last().map(|o| o.log_index + 1))
        .flatten();
    Ok(ObligationsPage {
        obligations,
        next_from,
        within_secs: within,
        now: t,
    })
}

/// `RecordFamilyInformed` / `RecordInformExemption`, checked at the edge.
#[derive(Debug, Clone)]
pub struct CloseObligation {
    /// The disclosure's log index.
    pub log_index: u64,
    /// How it is closed.
    pub close: InformClose,
    /// The role acted in.
    pub acting_role: Option<Role>,
}

/// Closes one of the caller's organisation's open duties to inform the family: the family was
/// informed (how, on which day: not before the day of the disclosure, not after today), or is
/// not, on a ground. Logged (`family_informed` / `inform_exempted`) with the disclosure's
/// subjects, so the family's own access report shows it.
pub async fn close_obligation(
    ctx: &Ctx,
    caller: &Caller,
    cmd: CloseObligation,
) -> FlowResult<InformObligation> {
    let role = family_role(ctx, caller, cmd.acting_role.as_ref())?;
    let me = caller.oin().as_str();
    let missing = || {
        FlowError::NotFound(format!(
            "your organisation has no duty to inform the family at log index {}",
            cmd.log_index
        ))
    };
    let o = ctx
        .store
        .inform_obligation(me, cmd.log_index)
        .await?
        .ok_or_else(missing)?;
    let t = now();
    let (event, reasons) = match &cmd.close {
        InformClose::Informed { act, on } => {
            // Days in UTC: a day the family was told, not a moment (a form sends a date).
            let day = |x: i64| x.div_euclid(86_400);
            if day(*on) < day(o.created_at) || day(*on) > day(t) {
                return Err(FlowError::invalid(
                    "informed_on",
                    "the day the family was informed: not before the day of the disclosure, not in the future",
                ));
            }
            (
                Event::FamilyInformed,
                vec![
                    format!("act:{}", act.code()),
                    format!(
                        "informed_on:{}",
                        crate::domain::zorgmelding::civil_date(*on)
                    ),
                ],
            )
        }
        InformClose::Exempted { ground } => {
            (Event::InformExempted, vec![format!("ground:{ground}")])
        }
    };
    let mut e = ctx
        .entry(caller, &role, event, EntryOutcome::Recorded)
        .subjects(subjects_at(ctx, o.log_index).await?)
        .reasons(reasons)
        .reference(format!("inform:{}", o.log_index));
    e.entry.purpose = o.purpose.as_ref().map(|p| p.to_string());
    ctx.store
        .close_inform_obligation(me, o.log_index, &cmd.close, &e)
        .await
        .map_err(|err| match err {
            StoreError::NotFound(_) => missing(),
            StoreError::Conflict(_) => FlowError::Precondition(format!(
                "the duty to inform at log index {} was closed before",
                o.log_index
            )),
            other => other.into(),
        })
}

/// `RecordFamilyRequest`, checked at the edge.
#[derive(Debug, Clone)]
pub struct RecordRequest {
    /// The persons it concerns (validated BSNs).
    pub subjects: Vec<Bsn>,
    /// What the family asks.
    pub kind: RequestKind,
    /// The day the organisation received it (unix seconds).
    pub received_on: i64,
    /// The records (as the log names them: signal ids, handover ids, ...) it covers; empty:
    /// every disclosure of the organisation about the persons.
    pub references: Vec<String>,
    /// The role acted in.
    pub acting_role: Option<Role>,
}

/// Whether an entry is one of `org`'s disclosures to another organisation (the data reached
/// it: a delivery, an answer, a plan shared; not data accepted for a later delivery).
fn is_disclosure_by(e: &LogEntry, org: &str) -> bool {
    e.actor_oin == org
        && e.outcome == EntryOutcome::Disclosed
        && !e.event.awaits_delivery()
        && e.recipient_oin.as_deref().is_some_and(|r| r != org)
}

/// `RecordFamilyRequest`: records a request of the family at the caller's organisation, with
/// the organisation's disclosures about the persons that it covers (those named, or all).
/// Logged (`family_request_recorded`).
pub async fn record_request(
    ctx: &Ctx,
    caller: &Caller,
    cmd: RecordRequest,
) -> FlowResult<FamilyRequest> {
    let role = family_role(ctx, caller, cmd.acting_role.as_ref())?;
    let me = caller.oin().as_str();
    let t = now();
    let day = |x: i64| x.div_euclid(86_400);
    if day(cmd.received_on) > day(t) || cmd.received_on < t.saturating_sub(366 * 86_400) {
        return Err(FlowError::invalid(
            "received_on",
            "the day your organisation received the request: not in the future, within the last year",
        ));
    }
    let keys = ctx.subject_keys(&cmd.subjects);
    ctx.refuse_merged_references(&cmd.subjects, &keys).await?;
    let forms: Vec<String> = keys
        .iter()
        .flat_map(|k| k.all().iter().map(|p| p.as_str().to_owned()))
        .collect();
    let mine: Vec<(u64, LogEntry)> = ctx
        .store
        .log_entries_for_subject(&forms, Some(me))
        .await?
        .into_iter()
        .filter_map(|s| s.entry.map(|e| (s.idx, e)))
        .filter(|(_, e)| is_disclosure_by(e, me))
        .collect();
    let unknown: Vec<&String> = cmd
        .references
        .iter()
        .filter(|r| !mine.iter().any(|(_, e)| e.reference.as_ref() == Some(*r)))
        .collect();
    if !unknown.is_empty() {
        return Err(FlowError::invalid(
            "references",
            format!(
                "{} is not a disclosure of your organisation about this person; leave references empty to cover every one",
                unknown
                    .iter()
                    .map(|r| format!("{:?}", super::echo(r)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let scope: Vec<u64> = mine
        .iter()
        .filter(|(_, e)| {
            cmd.references.is_empty()
                || e.reference
                    .as_ref()
                    .is_some_and(|r| cmd.references.contains(r))
        })
        .map(|(i, _)| *i)
        .collect();
    let request_id: FamilyRequestId = new_id()?;
    let e = ctx
        .entry(
            caller,
            &role,
            Event::FamilyRequestRecorded,
            EntryOutcome::Recorded,
        )
        .subjects(keys.iter().map(|k| k.as_str().to_owned()))
        .reasons([format!("kind:{}", cmd.kind.code())])
        .reference(request_id.as_str());
    let r = FamilyRequest {
        org_oin: caller.oin().clone(),
        request_id,
        kind: cmd.kind,
        received_on: cmd.received_on,
        scope,
        recorded_idx: 0,
        recorded_role: role,
        recorded_professional: caller.professional.id.clone(),
        recorded_at: e.entry.at,
        state: RequestState::Open,
        decision_reason: None,
        decided_role: None,
        decided_professional: String::new(),
        decided_at: None,
        notices: Vec::new(),
    };
    Ok(ctx.store.insert_family_request(&r, &e).await?)
}

/// `DecideFamilyRequest`, checked at the edge (the reason is a code of the list that belongs
/// to the decision).
#[derive(Debug, Clone)]
pub struct DecideRequest {
    /// The request.
    pub request_id: FamilyRequestId,
    /// Granted (true) or refused.
    pub grant: bool,
    /// The reason's code.
    pub reason: String,
    /// The role acted in.
    pub acting_role: Option<Role>,
}

/// The request at the caller's organisation (`NOT_FOUND` for another's).
async fn own_request(ctx: &Ctx, caller: &Caller, id: &str) -> FlowResult<FamilyRequest> {
    ctx.store
        .get_family_request(caller.oin().as_str(), id)
        .await?
        .ok_or_else(|| {
            FlowError::NotFound(format!(
                "your organisation has no family request {:?}",
                super::echo(id)
            ))
        })
}

/// `DecideFamilyRequest`: the organisation decides an open request with a reason. A granted
/// one is told to every organisation that received the data it covers (one notice each, with
/// the records it received; a notification `FAMILY_REQUEST_GRANTED`), in the same transaction
/// as the decision. Logged (`family_request_decided`, and `family_request_notified` per
/// recipient).
pub async fn decide_request(
    ctx: &Ctx,
    caller: &Caller,
    cmd: DecideRequest,
) -> FlowResult<FamilyRequest> {
    let role = family_role(ctx, caller, cmd.acting_role.as_ref())?;
    let r = own_request(ctx, caller, cmd.request_id.as_str()).await?;
    if r.state != RequestState::Open {
        return Err(FlowError::Precondition(format!(
            "family request {} was decided before ({})",
            r.request_id,
            r.state.code()
        )));
    }
    let subjects = subjects_at(ctx, r.recorded_idx).await?;
    let t = now();
    let state = if cmd.grant {
        RequestState::Granted
    } else {
        RequestState::Refused
    };
    let decision = ctx
        .entry(
            caller,
            &role,
            Event::FamilyRequestDecided,
            EntryOutcome::Recorded,
        )
        .subjects(subjects.iter().cloned())
        .reasons([
            format!("kind:{}", r.kind.code()),
            format!("decision:{}", state.code()),
            format!("reason:{}", cmd.reason),
        ])
        .reference(r.request_id.as_str());
    let mut items: Vec<(PendingEntry, Option<Notification>)> = vec![(decision, None)];
    let mut notices = Vec::new();
    if cmd.grant {
        let covered = entries_at(ctx, &r.scope).await?;
        let mut by_recipient: Vec<(Oin, Vec<String>, u64)> = Vec::new();
        for (idx, e) in &covered {
            let Some(to) = e
                .recipient_oin
                .as_deref()
                .and_then(|o| o.parse::<Oin>().ok())
            else {
                continue;
            };
            let reference = e.reference.clone().unwrap_or_else(|| format!("log:{idx}"));
            let keep = e
                .purpose
                .as_deref()
                .and_then(|p| ctx.policy.retention_for(p))
                .unwrap_or(0);
            match by_recipient.iter_mut().find(|(o, _, _)| *o == to) {
                Some((_, refs, k)) => {
                    if !refs.contains(&reference) {
                        refs.push(reference);
                    }
                    *k = (*k).max(keep);
                }
                None => by_recipient.push((to, vec![reference], keep)),
            }
        }
        let name = ctx.name_of(caller.oin().as_str());
        for (to, refs, keep) in by_recipient {
            let entry = ctx
                .entry(
                    caller,
                    &role,
                    Event::FamilyRequestNotified,
                    EntryOutcome::Recorded,
                )
                .subjects(subjects.iter().cloned())
                .recipient(to.as_str())
                .reasons([format!("kind:{}", r.kind.code())])
                .reference(r.request_id.as_str());
            let n = Notification {
                recipient_oin: to.clone(),
                cursor: 0,
                kind: NotificationKind::FamilyRequestGranted,
                at: t,
                actor_oin: caller.oin().clone(),
                actor_professional: caller.professional.id.clone(),
                case_id: None,
                maatregel_id: None,
                involvement_id: None,
                proposal_id: None,
                plan_version: None,
                summary_nl: format!(
                    "{name} heeft het verzoek van een gezin om {} toegewezen. Het gaat om gegevens die u van {name} ontving ({}). Pas uw gegevens daarop aan en bevestig dat (AVG art. 19).",
                    r.kind.nl(),
                    refs.join(", ")
                ),
                reference: Some(format!("{}/{}", caller.oin(), r.request_id)),
                retain_until: t.saturating_add(i64::try_from(keep).unwrap_or(i64::MAX)),
            };
            notices.push(RequestNotice {
                org_oin: caller.oin().clone(),
                request_id: r.request_id.clone(),
                recipient_oin: to,
                kind: r.kind,
                references: refs,
                notified_at: t,
                acknowledged_at: None,
                acknowledged_role: None,
                acknowledged_professional: String::new(),
            });
            items.push((entry, Some(n)));
        }
    }
    let decided = FamilyRequest {
        state,
        decision_reason: Some(cmd.reason.clone()),
        decided_role: Some(role),
        decided_professional: caller.professional.id.clone(),
        decided_at: Some(t),
        notices,
        ..r
    };
    ctx.store
        .decide_family_request(&decided, &items)
        .await
        .map_err(|err| match err {
            StoreError::Conflict(_) => FlowError::Precondition(format!(
                "family request {} was decided meanwhile",
                decided.request_id
            )),
            other => other.into(),
        })?;
    Ok(decided)
}

/// `GetFamilyRequest`: one of the caller's organisation's requests, with its notices and their
/// acknowledgements.
pub async fn get_request(
    ctx: &Ctx,
    caller: &Caller,
    id: &FamilyRequestId,
    acting_role: Option<&Role>,
) -> FlowResult<FamilyRequest> {
    family_role(ctx, caller, acting_role)?;
    own_request(ctx, caller, id.as_str()).await
}

/// `ListFamilyRequests`: the caller's organisation's requests in the order recorded, a page
/// from the one recorded at log index `from_index`; the next page's `from_index` when the page
/// is full.
pub async fn list_requests(
    ctx: &Ctx,
    caller: &Caller,
    from_index: u64,
    page_size: u32,
    acting_role: Option<&Role>,
) -> FlowResult<(Vec<FamilyRequest>, Option<u64>)> {
    family_role(ctx, caller, acting_role)?;
    let size = page(page_size);
    let v = ctx
        .store
        .family_requests_of(caller.oin().as_str(), from_index.checked_sub(1), size)
        .await?;
    let next = (v.len() == size as usize)
        .then(|| v.last().map(|r| r.recorded_idx + 1))
        .flatten();
    Ok((v, next))
}

/// `ListFamilyRequestNotices`: the notices of granted requests told to the caller's
/// organisation, newest first (with `open_only`, those it has not confirmed).
pub async fn list_notices(
    ctx: &Ctx,
    caller: &Caller,
    open_only: bool,
    page_size: u32,
    acting_role: Option<&Role>,
) -> FlowResult<Vec<RequestNotice>> {
    family_role(ctx, caller, acting_role)?;
    Ok(ctx
        .store
        .family_request_notices_for(caller.oin().as_str(), open_only, page(page_size))
        .await?)
}

/// `AcknowledgeFamilyRequestNotice`: the caller's organisation confirms that it acted on a
/// granted request it was told of. Logged (`family_request_acknowledged`, with the deciding
/// organisation as recipient). `NOT_FOUND` when it was not told of that request.
pub async fn acknowledge_notice(
    ctx: &Ctx,
    caller: &Caller,
    org: &Oin,
    id: &FamilyRequestId,
    acting_role: Option<&Role>,
) -> FlowResult<RequestNotice> {
    let role = family_role(ctx, caller, acting_role)?;
    let me = caller.oin().as_str();
    let missing = || {
        FlowError::NotFound(format!(
            "your organisation was not told of family request {:?} of {org}",
            super::echo(id.as_str())
        ))
    };
    // The subjects, from the entry that recorded the request (read only when this
    // organisation was told of it).
    if ctx
        .store
        .family_request_notice(org.as_str(), id.as_str(), me)
        .await?
        .is_none()
    {
        return Err(missing());
    }
    let request = ctx
        .store
        .get_family_request(org.as_str(), id.as_str())
        .await?
        .ok_or_else(missing)?;
    let subjects = subjects_at(ctx, request.recorded_idx).await?;
    let e = ctx
        .entry(
            caller,
            &role,
            Event::FamilyRequestAcknowledged,
            EntryOutcome::Recorded,
        )
        .subjects(subjects)
        .recipient(org.as_str())
        .reasons([format!("kind:{}", request.kind.code())])
        .reference(id.as_str());
    ctx.store
        .acknowledge_family_request_notice(me, org.as_str(), id.as_str(), &e)
        .await
        .map_err(|err| match err {
            StoreError::NotFound(_) => missing(),
            StoreError::Conflict(_) => FlowError::Precondition(format!(
                "your organisation confirmed family request {id} before"
            )),
            other => other.into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_bounded_and_defaults() {
        use crate::ledger::event_name;
        assert_eq!(page(0), DEFAULT_PAGE);
        assert_eq!(page(5), 5);
        assert_eq!(page(u32::MAX), MAX_PAGE);
        assert_eq!(event_name(Event::FamilyInformed), "family_informed");
    }
}

/// A subject reference the hub issued, as the flow answers it.
#[derive(Debug, Clone)]
pub struct IssuedReference {
    /// The reference (`SH-` + 13 letters): handed to the organisation, never stored or logged.
    pub reference: Bsn,
    /// When it was issued.
    pub issued_at: i64,
}

/// `IssueSubjectReference`: a fresh reference for a person whose BSN is not known, registered
/// to the caller's organisation (only its pseudonym is kept). Logged
/// (`subject_reference_issued`, subjects: the reference's pseudonym).
pub async fn issue_reference(
    ctx: &Ctx,
    caller: &Caller,
    acting_role: Option<&Role>,
) -> FlowResult<IssuedReference> {
    let role = family_role(ctx, caller, acting_role)?;
    // A clash of two fresh 12-letter references is practically impossible; try again once.
    for _ in 0..2 {
        let reference = Bsn::new_reference().ok_or_else(|| {
            FlowError::Unavailable("the hub's random source failed; try again".into())
        })?;
        let key = ctx.pseudonymizer.subject(&reference);
        let e = ctx
            .entry(
                caller,
                &role,
                Event::SubjectReferenceIssued,
                EntryOutcome::Recorded,
            )
            .subjects([key.as_str().to_owned()]);
        match ctx
            .store
            .insert_subject_reference(key.as_str(), caller.oin().as_str(), &e)
            .await
        {
            Ok(r) => {
                return Ok(IssuedReference {
                    reference,
                    issued_at: r.issued_at,
                });
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(FlowError::Unavailable(
        "the hub could not issue a fresh reference; try again".into(),
    ))
}

/// `MergeSubjectReference`, checked at the edge.
#[derive(Debug, Clone)]
pub struct MergeReference {
    /// The reference (a validated subject reference).
    pub reference: Bsn,
    /// The person's BSN (a validated BSN, not a reference).
    pub bsn: Bsn,
    /// The role acted in.
    pub acting_role: Option<Role>,
}

/// What a merge did.
#[derive(Debug, Clone)]
pub struct Merged {
    /// Stored rows that named the reference and now name the BSN.
    pub moved: u64,
    /// The log index of the `subject_merged` entry.
    pub log_index: u64,
}

/// `MergeSubjectReference`: the organisation that was issued a reference merges it with the
/// person's BSN, once. Every stored record under the reference (consents, signals,
/// involvements, maatregelen, meldingen, the subject index of the log) is moved to the BSN's
/// pseudonym of the same key version, in one transaction with the log entry
/// (`subject_merged`, subjects: the reference's pseudonym, then the BSN's). Log leaves are never
/// rewritten: the BSN's access report finds the earlier entries through the moved index.
pub async fn merge_reference(
    ctx: &Ctx,
    caller: &Caller,
    cmd: MergeReference,
) -> FlowResult<Merged> {
    let role = family_role(ctx, caller, cmd.acting_role.as_ref())?;
    let missing =
        || FlowError::NotFound("your organisation was issued no such subject reference".into());
    let from = ctx.pseudonymizer.subject(&cmd.reference);
    let to = ctx.pseudonymizer.subject(&cmd.bsn);
    let forms: Vec<String> = from.all().iter().map(|p| p.as_str().to_owned()).collect();
    let reg = ctx
        .store
        .subject_reference(&forms)
        .await?
        .filter(|r| r.org_oin == *caller.oin())
        .ok_or_else(missing)?;
    if reg.merged_at.is_some() {
        return Err(FlowError::Precondition(
            "this subject reference was merged with a BSN before; use the BSN".into(),
        ));
    }
    let pairs: Vec<(String, String)> = from
        .all()
        .iter()
        .zip(to.all())
        .map(|(a, b)| (a.as_str().to_owned(), b.as_str().to_owned()))
        .collect();
    let e = ctx
        .entry(caller, &role, Event::SubjectMerged, EntryOutcome::Recorded)
        .subjects([from.as_str().to_owned(), to.as_str().to_owned()]);
    let (moved, log_index) = ctx
        .store
        .merge_subject_forms(&pairs, &forms, caller.oin().as_str(), &e)
        .await
        .map_err(|err| match err {
            StoreError::NotFound(_) => missing(),
            StoreError::Conflict(_) => FlowError::Precondition(
                "this subject reference was merged with a BSN before; use the BSN".into(),
            ),
            other => other.into(),
        })?;
    Ok(Merged { moved, log_index })
}
