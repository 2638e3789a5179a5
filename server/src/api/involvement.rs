//! `signaalhub.v1.InvolvementService` (register, end, match, case coordination) and
//! `signaalhub.v1.NotificationService` (each organisation's notification stream), plus the
//! helpers the maatregel and safety plan services share with them.
use super::basis::{MAX_LIST, facts_from_pb, legal_from_pb, reject, truncate};
use super::status::{from_store, invalid};
use super::{caller, timestamp};
use crate::auth::Caller;
use crate::domain::basis::Basis;
use crate::domain::consent::{Consent, Facts};
use crate::domain::involvement::{
    CATEGORY_INVOLVEMENT, CaseView, Involvement, MAX_HOUSEHOLD, Notification, NotificationKind,
    PURPOSE, Proposal, ProposalState,
};
use crate::domain::maatregel::valid_contact;
use crate::flows::decision::Question;
use crate::flows::{Ctx, now, random_id};
use crate::ids::{Oin, SubjectKey};
use crate::ledger::{EntryOutcome, Event, PendingEntry};
use crate::store::StoreError;
use crate::store::involvement::MatchDecider;
use signaalhub_policy as policy;
use signaalhub_proto::pb;
use signaalhub_proto::pb::involvement_service_server::InvolvementService;
use signaalhub_proto::pb::notification_service_server::NotificationService;
use std::borrow::Cow;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Clock skew allowed on "not in the future" checks.
pub const SKEW_SECS: i64 = 300;

/// The InvolvementService.
#[derive(Debug, Clone)]
pub struct InvolvementApi {
    ctx: Ctx,
    wake: Arc<tokio::sync::Notify>,
}

impl InvolvementApi {
    /// On shared state; `wake` is notified after notifications commit (the hub's wake-up
    /// channel, also fed by PostgreSQL `pg_notify` from other instances).
    pub fn new(ctx: Ctx, wake: Arc<tokio::sync::Notify>) -> Self {
        InvolvementApi { ctx, wake }
    }
}

/// The NotificationService.
#[derive(Debug, Clone)]
pub struct NotificationApi {
    ctx: Ctx,
    wake: Arc<tokio::sync::Notify>,
    stop: tokio::sync::watch::Receiver<bool>,
}

impl NotificationApi {
    /// On shared state; streams end with `UNAVAILABLE` when `stop` turns true.
    pub fn new(
        ctx: Ctx,
        wake: Arc<tokio::sync::Notify>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        NotificationApi { ctx, wake, stop }
    }
}

/// `now` + the convenant retention of `purpose` (fail closed to `now` if it has none).
pub(crate) fn retain_until(ctx: &Ctx, purpose: &str, from: i64) -> i64 {
    let secs = ctx.policy.retention_for(purpose).unwrap_or(0);
    from.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// A notification from `caller` to `recipient`, kept as long as the purpose allows.
pub(crate) fn notification(
    ctx: &Ctx,
    c: &Caller,
    recipient: &str,
    kind: NotificationKind,
    summary_nl: String,
) -> Notification {
    let at = now();
    Notification {
        recipient_oin: recipient.to_owned(),
        cursor: 0,
        kind,
        at,
        actor_oin: c.oin().to_string(),
        actor_professional: c.professional.id.clone(),
        case_id: None,
        maatregel_id: None,
        involvement_id: None,
        proposal_id: None,
        plan_version: None,
        summary_nl,
        retain_until: retain_until(ctx, PURPOSE, at),
    }
}

/// Validates a wire basis for sharing about `subject`: known legal basis, recorded consents about
/// that subject. Returns the basis and the consents it names.
pub(crate) async fn checked_basis(
    ctx: &Ctx,
    basis: Option<&pb::Basis>,
    subject: Option<&SubjectKey>,
    required: bool,
    bad: &mut Vec<(&'static str, String)>,
) -> Result<(Basis, Vec<Consent>), Status> {
    let wire = basis.cloned().unwrap_or_default();
    if let Some(l) = &wire.legal {
        let _ = legal_from_pb(l, |n| ctx.policy.is_known_basis(n), bad);
    }
    let b = crate::wire::basis_from_pb(&wire, &mut Vec::new());
    if b.consent_ids.len() > MAX_LIST {
        bad.push(("basis.consent_ids", format!("at most {MAX_LIST}")));
        return Ok((b, Vec::new()));
    }
    if required && b.legal.is_none() && b.consent_ids.is_empty() {
        bad.push((
            "basis",
            "give a legal basis with its evidence, or the ids of recorded consents".into(),
        ));
    }
    let consents = if b.consent_ids.is_empty() {
        Vec::new()
    } else {
        ctx.store
            .get_consents(&b.consent_ids)
            .await
            .map_err(from_store)?
    };
    for id in &b.consent_ids {
        match consents.iter().find(|c| &c.id == id) {
            None => bad.push((
                "basis.consent_ids",
                format!("no consent {:?} is recorded", truncate(id)),
            )),
            Some(c) if subject.is_some_and(|s| !s.matches(c.subject.as_str())) => bad.push((
                "basis.consent_ids",
                format!("consent {id} was given about another person than subject_bsn"),
            )),
            Some(_) => {}
        }
    }
    Ok((b, consents))
}

/// A policy question: may `actor_oin` (acting as `role`) disclose `category` under purpose
/// `casusafstemming` to `recipient_oin`, on `basis` with `consents`, about a person with `facts`?
/// The recipient is involved by construction (it is a party).
#[allow(clippy::too_many_arguments)]
pub(crate) fn case_decision<'c>(
    ctx: &'c Ctx,
    actor_oin: &str,
    role: &str,
    recipient_oin: &str,
    category: &str,
    basis: &Basis,
    consents: &[Consent],
    facts: &Facts,
) -> policy::Decision<'c> {
    let named: Vec<&Consent> = basis
        .consent_ids
        .iter()
        .filter_map(|id| consents.iter().find(|c| &c.id == id))
        .collect();
    let categories = [category.to_owned()];
    ctx.decide(&Question {
        actor: ctx.party(actor_oin),
        role,
        recipient: ctx.party(recipient_oin),
        purpose: PURPOSE,
        categories: &categories,
        facts,
        basis,
        consents: &named,
        recipient_involved: true,
        received_for: None,
        inform_exemption: None,
        now: now(),
    })
}

/// The wire form of an involvement; `retain_until` only for the caller's own.
pub(crate) fn involvement_to_pb(ctx: &Ctx, i: &Involvement, me: &str) -> pb::Involvement {
    pb::Involvement {
        involvement_id: i.id.clone(),
        organization_oin: i.org_oin.clone(),
        organization_name: ctx.name_of(&i.org_oin),
        sector_name: ctx.sector_of(&i.org_oin),
        contact_professional: i.contact_professional.clone(),
        started_at: Some(timestamp(i.started_at)),
        ended_at: i.ended_at.map(timestamp),
        case_id: i.case_id.clone().unwrap_or_default(),
        retain_until: if i.org_oin == me {
            i.retain_until.map(timestamp)
        } else {
            None
        },
    }
}

fn proposal_to_pb(p: &Proposal) -> pb::CoordinatorProposal {
    pb::CoordinatorProposal {
        proposal_id: p.id.clone(),
        proposed_oin: p.proposed_oin.clone(),
        proposed_by_oin: p.proposed_by_oin.clone(),
        state: match p.state {
            ProposalState::Open => pb::ProposalState::Open,
            ProposalState::Accepted => pb::ProposalState::Accepted,
            ProposalState::Declined => pb::ProposalState::Declined,
            ProposalState::Superseded => pb::ProposalState::Superseded,
        } as i32,
        created_at: Some(timestamp(p.created_at)),
        decided_at: p.decided_at.map(timestamp),
    }
}

/// The wire form of a case as a party sees it.
pub(crate) fn case_to_pb(ctx: &Ctx, v: &CaseView, me: &str) -> pb::Case {
    let coordinator = v.case.coordinator_oin.as_ref().map(|oin| pb::Coordinator {
        oin: oin.clone(),
        organization_name: ctx.name_of(oin),
        contact_professional: v
            .parties
            .iter()
            .find(|i| &i.org_oin == oin)
            .map(|i| i.contact_professional.clone())
            .unwrap_or_default(),
        since: v.case.coordinator_since.map(timestamp),
    });
    pb::Case {
        case_id: v.case.id.clone(),
        parties: v
            .parties
            .iter()
            .map(|i| involvement_to_pb(ctx, i, me))
            .collect(),
        coordinator,
        proposals: v.proposals.iter().map(proposal_to_pb).collect(),
        safety_plan_version: v.case.plan_version,
        created_at: Some(timestamp(v.case.created_at)),
    }
}

/// Entries (and notifications) telling every party organisation of the case but the caller:
/// `build(recipient's involvement)` gives each one's entry and notification. Always one entry for
/// the caller's own act first.
pub(crate) fn tell_parties(
    view: &CaseView,
    me: &str,
    own: PendingEntry,
    mut build: impl FnMut(&Involvement) -> (PendingEntry, Notification),
) -> Vec<(PendingEntry, Option<Notification>)> {
    let mut items = vec![(own, None)];
    let mut told: Vec<&str> = Vec::new();
    for i in &view.parties {
        if i.org_oin != me && !told.contains(&i.org_oin.as_str()) {
            told.push(&i.org_oin);
            let (e, n) = build(i);
            items.push((e, Some(n)));
        }
    }
    items
}

struct Decider<'a> {
    ctx: &'a Ctx,
    caller: &'a Caller,
    role: &'a str,
}

impl MatchDecider for Decider<'_> {
    fn decide(
        &self,
        from: &Involvement,
        consents: &[Consent],
        to: &Involvement,
    ) -> Result<(), Box<PendingEntry>> {
        let basis = &from.basis;
        let d = case_decision(
            self.ctx,
            &from.org_oin,
            &from.role,
            &to.org_oin,
            CATEGORY_INVOLVEMENT,
            basis,
            consents,
            &from.facts,
        );
        if d.is_allowed() {
            return Ok(());
        }
        let mut e = self.ctx.entry_for(
            &from.org_oin,
            &from.registered_by,
            &from.role,
            Event::InvolvementMatchWithheld,
            EntryOutcome::Withheld,
        );
        let mut subjects = vec![
            from.subject.as_str().to_owned(),
            to.subject.as_str().to_owned(),
        ];
        subjects.sort();
        subjects.dedup();
        e.entry.subjects = subjects;
        e.entry.recipient_oin = Some(to.org_oin.clone());
        e.entry.categories = vec![CATEGORY_INVOLVEMENT.into()];
        e.entry.purpose = Some(PURPOSE.into());
        e.entry.basis = basis.log_strings();
        e.entry.checks.relationship = true;
        e.entry.reasons = d
            .reasons
            .iter()
            .map(|r| r.code.as_str().to_owned())
            .collect();
        e.entry.policy_version = Some(d.policy_version.to_string());
        e.entry.reference = Some(from.id.clone());
        Err(Box::new(e))
    }

    fn matched(
        &self,
        to: &Involvement,
        new_parties: &[&Involvement],
        case_id: &str,
    ) -> (PendingEntry, Notification) {
        let mut e = self.ctx.entry(
            self.caller,
            self.role,
            Event::InvolvementMatched,
            EntryOutcome::Disclosed,
        );
        let mut subjects: Vec<String> = std::iter::once(to)
            .chain(new_parties.iter().copied())
            .map(|i| i.subject.as_str().to_owned())
            .collect();
        subjects.sort();
        subjects.dedup();
        let mut basis: Vec<String> = Vec::new();
        let mut consent = false;
        for p in new_parties {
            consent |= !p.basis.consent_ids.is_empty();
            for s in p.basis.log_strings() {
                if !basis.contains(&s) {
                    basis.push(s);
                }
            }
        }
        e.entry.subjects = subjects;
        e.entry.recipient_oin = Some(to.org_oin.clone());
        e.entry.categories = vec![CATEGORY_INVOLVEMENT.into()];
        e.entry.purpose = Some(PURPOSE.into());
        e.entry.basis = basis;
        e.entry.checks.relationship = true;
        e.entry.checks.consent = consent;
        e.entry.reference = Some(case_id.to_owned());
        let mut names: Vec<String> = new_parties
            .iter()
            .map(|p| self.ctx.name_of(&p.org_oin))
            .collect();
        names.sort();
        names.dedup();
        let mut n = notification(
            self.ctx,
            self.caller,
            &to.org_oin,
            NotificationKind::InvolvementMatched,
            format!(
                "Ook betrokken bij deze persoon of dit huishouden: {}. Jullie delen nu casus {case_id}; spreek af wie de casusregie heeft.",
                names.join(", ")
            ),
        );
        n.case_id = Some(case_id.to_owned());
        n.involvement_id = Some(to.id.clone());
        (e, n)
    }
}

fn store_status(e: StoreError) -> Status {
    match e {
        StoreError::Conflict(m) => Status::failed_precondition(m),
        other => from_store(other),
    }
}

/// Loads a case the caller is an active party of; `NOT_FOUND` otherwise (a case's existence is
/// not revealed to others).
pub(crate) async fn party_case(ctx: &Ctx, c: &Caller, case_id: &str) -> Result<CaseView, Status> {
    let not_found = || {
        Status::not_found(format!(
            "no case {:?} with your organisation as an active party",
            truncate(case_id)
        ))
    };
    if case_id.is_empty() || case_id.len() > 64 {
        return Err(invalid(&[("case_id", "a case id such as k_3f9a…".into())]));
    }
    let view = match ctx.store.case_view(case_id).await {
        Ok(v) => v,
        Err(StoreError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(from_store(e)),
    };
    if !view.has_party(c.oin().as_str()) {
        return Err(not_found());
    }
    Ok(view)
}

/// Logs a read of a case's parties by the caller.
async fn log_case_read(
    ctx: &Ctx,
    c: &Caller,
    role: &str,
    views: &[CaseView],
    subject: Option<&SubjectKey>,
) -> Result<(), Status> {
    let mut e = ctx.entry(
        c,
        role,
        Event::InvolvedPartiesListed,
        EntryOutcome::Disclosed,
    );
    let mut subjects: Vec<String> = views.iter().flat_map(CaseView::subjects).collect();
    subjects.extend(subject.map(|s| s.as_str().to_owned()));
    subjects.sort();
    subjects.dedup();
    e.entry.subjects = subjects;
    e.entry.categories = vec![CATEGORY_INVOLVEMENT.into()];
    e.entry.purpose = Some(PURPOSE.into());
    e.entry.checks.relationship = true;
    e.entry.reference = Some(
        views
            .iter()
            .map(|v| v.case.id.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    ctx.store
        .append_log(std::slice::from_ref(&e))
        .await
        .map_err(from_store)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn case_entry(
    ctx: &Ctx,
    c: &Caller,
    role: &str,
    view: &CaseView,
    event: Event,
    outcome: EntryOutcome,
    recipient: Option<&str>,
    reference: &str,
) -> PendingEntry {
    let mut e = ctx.entry(c, role, event, outcome);
    e.entry.subjects = view.subjects();
    e.entry.recipient_oin = recipient.map(str::to_owned);
    e.entry.categories = vec![CATEGORY_INVOLVEMENT.into()];
    e.entry.purpose = Some(PURPOSE.into());
    e.entry.checks.relationship = true;
    e.entry.reference = Some(reference.to_owned());
    e
}

type NotificationStream = super::stream::ItemStream<pb::StreamNotificationsResponse>;

/// `StreamNotifications`: the organisation's notification rows after its cursor, as written
/// (each was logged in the act's own transaction).
struct Notifications {
    ctx: Ctx,
    me: String,
}

impl super::stream::CursorSource for Notifications {
    type Row = Notification;
    type Item = pb::StreamNotificationsResponse;

    async fn page(&self, after: u64) -> Result<Vec<Self::Row>, Status> {
        self.ctx
            .store
            .notifications_after(&self.me, after, 64)
            .await
            .map_err(from_store)
    }

    async fn deliver(&self, n: Self::Row) -> Result<(u64, Option<Self::Item>), Status> {
        Ok((n.cursor, Some(notification_to_pb(&self.ctx, &n))))
    }
}

fn notification_to_pb(ctx: &Ctx, n: &Notification) -> pb::StreamNotificationsResponse {
    use crate::domain::involvement::NotificationKind as K;
    pb::StreamNotificationsResponse {
        cursor: n.cursor,
        kind: match n.kind {
            K::MaatregelQueried => pb::NotificationKind::MaatregelQueried,
            K::InvolvementMatched => pb::NotificationKind::InvolvementMatched,
            K::InvolvementEnded => pb::NotificationKind::InvolvementEnded,
            K::CoordinatorProposed => pb::NotificationKind::CoordinatorProposed,
            K::CoordinatorAccepted => pb::NotificationKind::CoordinatorAccepted,
            K::CoordinatorDeclined => pb::NotificationKind::CoordinatorDeclined,
            K::SafetyPlanPublished => pb::NotificationKind::SafetyPlanPublished,
            K::SafetyPlanConfirmed => pb::NotificationKind::SafetyPlanConfirmed,
        } as i32,
        at: Some(timestamp(n.at)),
        actor_oin: n.actor_oin.clone(),
        actor_name: ctx.name_of(&n.actor_oin),
        actor_professional: n.actor_professional.clone(),
        case_id: n.case_id.clone().unwrap_or_default(),
        maatregel_id: n.maatregel_id.clone().unwrap_or_default(),
        involvement_id: n.involvement_id.clone().unwrap_or_default(),
        proposal_id: n.proposal_id.clone().unwrap_or_default(),
        plan_version: n.plan_version.unwrap_or(0),
        summary_nl: n.summary_nl.clone(),
    }
}

#[tonic::async_trait]
impl NotificationService for NotificationApi {
    type StreamNotificationsStream = NotificationStream;

    async fn stream_notifications(
        &self,
        request: Request<pb::StreamNotificationsRequest>,
    ) -> Result<Response<Self::StreamNotificationsStream>, Status> {
        let c = caller(&request)?;
        let source = Notifications {
            ctx: self.ctx.clone(),
            me: c.oin().to_string(),
        };
        let drive = super::stream::Drive {
            ctx: self.ctx.clone(),
            caller: c,
            wake: Arc::clone(&self.wake),
            stop: self.stop.clone(),
            resume: "after your last cursor",
            buffer: 16,
        };
        let after = request.get_ref().after_cursor;
        let request_id = super::status::request_id(&request);
        Ok(Response::new(super::stream::spawn(
            drive, source, after, request_id,
        )))
    }
}

#[tonic::async_trait]
impl InvolvementService for InvolvementApi {
    async fn register_involvement(
        &self,
        request: Request<pb::RegisterInvolvementRequest>,
    ) -> Result<Response<pb::RegisterInvolvementResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        let subject = self.ctx.subject("subject_bsn", &r.subject_bsn, &mut bad);
        if r.household_bsns.len() > MAX_HOUSEHOLD {
            bad.push((
                "household_bsns",
                format!("at most {MAX_HOUSEHOLD} other household members"),
            ));
        }
        let mut persons: Vec<String> = subject.iter().map(|s| s.as_str().to_owned()).collect();
        // Every person under every key version: matches find involvements stored under an
        // older version too.
        let mut persons_all: Vec<String> = subject
            .iter()
            .flat_map(|s| s.all().iter().map(|p| p.as_str().to_owned()))
            .collect();
        for b in r.household_bsns.iter().take(MAX_HOUSEHOLD) {
            if let Some(p) = self.ctx.subject("household_bsns", b, &mut bad) {
                if persons.iter().any(|x| x == p.as_str()) {
                    bad.push((
                        "household_bsns",
                        "each person once, and not the subject itself".into(),
                    ));
                } else {
                    persons.push(p.as_str().to_owned());
                    persons_all.extend(p.all().iter().map(|x| x.as_str().to_owned()));
                }
            }
        }
        if !valid_contact(&r.contact_professional) {
            bad.push((
                "contact_professional",
                "how colleagues reach you: 1-200 characters, one line".into(),
            ));
        }
        let t = now();
        let started_at = r.started_at.map(|s| s.seconds).unwrap_or(t);
        if started_at > t + SKEW_SECS {
            bad.push(("started_at", "not in the future".into()));
        }
        let facts = facts_from_pb(r.subject.as_ref(), &mut bad);
        let (basis, consents) = checked_basis(
            &self.ctx,
            r.basis.as_ref(),
            subject.as_ref(),
            false,
            &mut bad,
        )
        .await?;
        reject(bad)?;
        let Some(subject) = subject else {
            return Err(Status::internal("validation inconsistency"));
        };
        let facts = if facts.age_years.is_none()
            && facts.age_band.is_none()
            && facts.gezag_holders.is_empty()
        {
            consents.first().map(|k| k.facts.clone()).unwrap_or(facts)
        } else {
            facts
        };
        let new = Involvement {
            id: random_id("i_")?,
            subject: subject.current().clone(),
            org_oin: c.oin().to_string(),
            contact_professional: r.contact_professional.trim().to_owned(),
            role: role.clone(),
            registered_by: c.professional.id.clone(),
            basis: basis.clone(),
            facts,
            started_at,
            registered_at: t,
            ended_at: None,
            retain_until: None,
            case_id: None,
        };
        let mut e = self.ctx.entry(
            &c,
            &role,
            Event::InvolvementRegistered,
            EntryOutcome::Recorded,
        );
        let mut subjects = persons.clone();
        subjects.sort();
        e.entry.subjects = subjects;
        e.entry.categories = vec![CATEGORY_INVOLVEMENT.into()];
        e.entry.purpose = Some(PURPOSE.into());
        e.entry.basis = basis.log_strings();
        e.entry.checks.consent = !basis.consent_ids.is_empty();
        e.entry.reference = Some(new.id.clone());
        let decider = Decider {
            ctx: &self.ctx,
            caller: &c,
            role: &role,
        };
        let case_id = random_id("k_")?;
        let reg = self
            .ctx
            .store
            .register_involvement(
                &new,
                subject.all(),
                &persons,
                &persons_all,
                &e,
                &case_id,
                &decider,
            )
            .await
            .map_err(store_status)?;
        self.wake.notify_waiters();
        let me = c.oin().as_str();
        Ok(Response::new(pb::RegisterInvolvementResponse {
            involvement: Some(involvement_to_pb(&self.ctx, &reg.involvement, me)),
            already_registered: reg.already,
            case: reg.case.as_ref().map(|v| case_to_pb(&self.ctx, v, me)),
        }))
    }

    async fn end_involvement(
        &self,
        request: Request<pb::EndInvolvementRequest>,
    ) -> Result<Response<pb::EndInvolvementResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        let r = request.into_inner();
        let me = c.oin().to_string();
        let not_found = || {
            Status::not_found(format!(
                "your organisation has no involvement {:?}",
                truncate(&r.involvement_id)
            ))
        };
        let i = self
            .ctx
            .store
            .get_involvement(&r.involvement_id)
            .await
            .map_err(from_store)?
            .filter(|i| i.org_oin == me)
            .ok_or_else(not_found)?;
        let t = now();
        let keep = retain_until(&self.ctx, PURPOSE, t);
        let mut e = self
            .ctx
            .entry(&c, &role, Event::InvolvementEnded, EntryOutcome::Recorded);
        e.entry.subjects = vec![i.subject.as_str().to_owned()];
        e.entry.categories = vec![CATEGORY_INVOLVEMENT.into()];
        e.entry.purpose = Some(PURPOSE.into());
        e.entry.reference = Some(i.id.clone());
        let ctx = &self.ctx;
        let ended = ctx
            .store
            .end_involvement(&i.id, &me, t, keep, &e, |other| {
                let mut oe = ctx.entry(&c, &role, Event::InvolvementEnded, EntryOutcome::Disclosed);
                let mut subjects = vec![
                    i.subject.as_str().to_owned(),
                    other.subject.as_str().to_owned(),
                ];
                subjects.sort();
                subjects.dedup();
                oe.entry.subjects = subjects;
                oe.entry.recipient_oin = Some(other.org_oin.clone());
                oe.entry.categories = vec![CATEGORY_INVOLVEMENT.into()];
                oe.entry.purpose = Some(PURPOSE.into());
                oe.entry.checks.relationship = true;
                oe.entry.reference = i.case_id.clone();
                let mut n = notification(
                    ctx,
                    &c,
                    &other.org_oin,
                    NotificationKind::InvolvementEnded,
                    format!(
                        "{} is niet meer betrokken (casus {}).",
                        ctx.name_of(&me),
                        i.case_id.as_deref().unwrap_or("")
                    ),
                );
                n.case_id = i.case_id.clone();
                n.involvement_id = Some(other.id.clone());
                (oe, n)
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(m) => {
                    Status::failed_precondition(format!("{m}: it was ended already"))
                }
                other => from_store(other),
            })?;
        self.wake.notify_waiters();
        Ok(Response::new(pb::EndInvolvementResponse {
            involvement: Some(involvement_to_pb(&self.ctx, &ended, &me)),
        }))
    }

    async fn list_involved_parties(
        &self,
        request: Request<pb::ListInvolvedPartiesRequest>,
    ) -> Result<Response<pb::ListInvolvedPartiesResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        let r = request.into_inner();
        let mut bad = Vec::new();
        let subject = self.ctx.subject("subject_bsn", &r.subject_bsn, &mut bad);
        reject(bad)?;
        let Some(subject) = subject else {
            return Err(Status::internal("validation inconsistency"));
        };
        let me = c.oin().to_string();
        let own = self
            .ctx
            .store
            .active_involvements_of(&me, subject.all())
            .await
            .map_err(from_store)?;
        if own.is_empty() {
            let mut e = self.ctx.entry(
                &c,
                &role,
                Event::InvolvedPartiesListed,
                EntryOutcome::Denied,
            );
            e.entry.subjects = vec![subject.as_str().to_owned()];
            e.entry.categories = vec![CATEGORY_INVOLVEMENT.into()];
            e.entry.purpose = Some(PURPOSE.into());
            e.entry.reasons = vec![policy::ReasonCode::RecipientNotInvolved.as_str().into()];
            self.ctx
                .store
                .append_log(std::slice::from_ref(&e))
                .await
                .map_err(from_store)?;
            return Err(super::basis::denied(
                "listing the involved parties refused",
                &not_involved(&self.ctx),
            ));
        }
        let mut views: Vec<CaseView> = Vec::new();
        for i in &own {
            if let Some(cid) = &i.case_id {
                let v = self.ctx.store.case_view(cid).await.map_err(from_store)?;
                if !views.iter().any(|x| x.case.id == v.case.id) {
                    views.push(v);
                }
            }
        }
        log_case_read(&self.ctx, &c, &role, &views, Some(&subject)).await?;
        Ok(Response::new(pb::ListInvolvedPartiesResponse {
            own: own
                .iter()
                .map(|i| involvement_to_pb(&self.ctx, i, &me))
                .collect(),
            cases: views
                .iter()
                .map(|v| case_to_pb(&self.ctx, v, &me))
                .collect(),
        }))
    }

    async fn get_case(
        &self,
        request: Request<pb::GetCaseRequest>,
    ) -> Result<Response<pb::GetCaseResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        let view = party_case(&self.ctx, &c, &request.get_ref().case_id).await?;
        log_case_read(&self.ctx, &c, &role, std::slice::from_ref(&view), None).await?;
        Ok(Response::new(pb::GetCaseResponse {
            case: Some(case_to_pb(&self.ctx, &view, c.oin().as_str())),
        }))
    }

    async fn propose_coordinator(
        &self,
        request: Request<pb::ProposeCoordinatorRequest>,
    ) -> Result<Response<pb::ProposeCoordinatorResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        let proposed = r
            .proposed_oin
            .parse::<Oin>()
            .map_err(|e| invalid(&[("proposed_oin", e.to_string())]))?;
        // Existence and membership are checked again inside the transaction.
        party_case(&self.ctx, &c, &r.case_id).await?;
        let me = c.oin().to_string();
        let ctx = &self.ctx;
        let pid = random_id("p_")?;
        let (proposal, view) = ctx
            .store
            .propose_coordinator(&r.case_id, &pid, &me, proposed.as_str(), now(), |view, p| {
                if p.state == ProposalState::Accepted {
                    let own = case_entry(ctx, &c, &role, view, Event::CoordinatorAccepted, EntryOutcome::Recorded, None, &p.id);
                    tell_parties(view, &me, own, |other| coordinator_told(ctx, &c, &role, view, other, p))
                } else {
                    let own = case_entry(ctx, &c, &role, view, Event::CoordinatorProposed, EntryOutcome::Recorded, None, &p.id);
                    let told = case_entry(ctx, &c, &role, view, Event::CoordinatorProposed, EntryOutcome::Disclosed, Some(&p.proposed_oin), &p.id);
                    let mut n = notification(
                        ctx,
                        &c,
                        &p.proposed_oin,
                        NotificationKind::CoordinatorProposed,
                        format!(
                            "{} stelt voor dat uw organisatie de casusregie krijgt in casus {}. Accepteer of wijs af (voorstel {}).",
                            ctx.name_of(&me),
                            view.case.id,
                            p.id
                        ),
                    );
                    n.case_id = Some(view.case.id.clone());
                    n.proposal_id = Some(p.id.clone());
                    n.involvement_id = view
                        .parties
                        .iter()
                        .find(|i| i.org_oin == p.proposed_oin)
                        .map(|i| i.id.clone());
                    vec![(own, None), (told, Some(n))]
                }
            })
            .await
            .map_err(store_status)?;
        self.wake.notify_waiters();
        Ok(Response::new(pb::ProposeCoordinatorResponse {
            proposal: Some(proposal_to_pb(&proposal)),
            case: Some(case_to_pb(&self.ctx, &view, &me)),
        }))
    }

    async fn respond_to_coordinator_proposal(
        &self,
        request: Request<pb::RespondToCoordinatorProposalRequest>,
    ) -> Result<Response<pb::RespondToCoordinatorProposalResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        let me = c.oin().to_string();
        let ctx = &self.ctx;
        let (proposal, view) = ctx
            .store
            .respond_to_proposal(&r.proposal_id, &me, r.accept, now(), |view, p| {
                if p.state == ProposalState::Accepted {
                    let own = case_entry(
                        ctx,
                        &c,
                        &role,
                        view,
                        Event::CoordinatorAccepted,
                        EntryOutcome::Recorded,
                        None,
                        &p.id,
                    );
                    tell_parties(view, &me, own, |other| {
                        coordinator_told(ctx, &c, &role, view, other, p)
                    })
                } else {
                    let own = case_entry(
                        ctx,
                        &c,
                        &role,
                        view,
                        Event::CoordinatorDeclined,
                        EntryOutcome::Recorded,
                        None,
                        &p.id,
                    );
                    let mut items = vec![(own, None)];
                    if let Some(proposer) =
                        view.parties.iter().find(|i| i.org_oin == p.proposed_by_oin)
                    {
                        let told = case_entry(
                            ctx,
                            &c,
                            &role,
                            view,
                            Event::CoordinatorDeclined,
                            EntryOutcome::Disclosed,
                            Some(&p.proposed_by_oin),
                            &p.id,
                        );
                        let mut n = notification(
                            ctx,
                            &c,
                            &p.proposed_by_oin,
                            NotificationKind::CoordinatorDeclined,
                            format!(
                                "{} neemt de casusregie in casus {} niet op zich (voorstel {}).",
                                ctx.name_of(&me),
                                view.case.id,
                                p.id
                            ),
                        );
                        n.case_id = Some(view.case.id.clone());
                        n.proposal_id = Some(p.id.clone());
                        n.involvement_id = Some(proposer.id.clone());
                        items.push((told, Some(n)));
                    }
                    items
                }
            })
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => Status::not_found(format!(
                    "no open proposal {:?} names your organisation",
                    truncate(&r.proposal_id)
                )),
                other => store_status(other),
            })?;
        self.wake.notify_waiters();
        Ok(Response::new(pb::RespondToCoordinatorProposalResponse {
            proposal: Some(proposal_to_pb(&proposal)),
            case: Some(case_to_pb(&self.ctx, &view, &me)),
        }))
    }
}

/// The entry and notification telling `other` that the proposal's organisation coordinates.
fn coordinator_told(
    ctx: &Ctx,
    c: &Caller,
    role: &str,
    view: &CaseView,
    other: &Involvement,
    p: &Proposal,
) -> (PendingEntry, Notification) {
    let e = case_entry(
        ctx,
        c,
        role,
        view,
        Event::CoordinatorAccepted,
        EntryOutcome::Disclosed,
        Some(&other.org_oin),
        &p.id,
    );
    let contact = view
        .parties
        .iter()
        .find(|i| i.org_oin == p.proposed_oin)
        .map(|i| i.contact_professional.clone())
        .unwrap_or_default();
    let mut n = notification(
        ctx,
        c,
        &other.org_oin,
        NotificationKind::CoordinatorAccepted,
        format!(
            "{} heeft nu de casusregie in casus {}: het vaste aanspreekpunt is {}.",
            ctx.name_of(&p.proposed_oin),
            view.case.id,
            contact
        ),
    );
    n.case_id = Some(view.case.id.clone());
    n.proposal_id = Some(p.id.clone());
    n.involvement_id = Some(other.id.clone());
    (e, n)
}

/// The denial the hub gives when the asker is not registered as involved (a hub rule on top of
/// any convenant).
pub(crate) fn not_involved(ctx: &Ctx) -> policy::Decision<'_> {
    policy::Decision {
        outcome: policy::Outcome::Deny,
        rules: Cow::Owned(vec![Arc::<str>::from("hub:involvement-register")]),
        obligations: Cow::Borrowed(&[]),
        retain_until: None,
        consents_relied_on: policy::ConsentSet::EMPTY,
        reasons: vec![policy::Reason {
            code: policy::ReasonCode::RecipientNotInvolved,
            rule: "hub:involvement-register".into(),
            nl: "uw organisatie is niet als betrokken bij deze persoon geregistreerd (registreer eerst uw betrokkenheid)".into(),
            en: "your organisation is not registered as involved with this person (register your involvement first)".into(),
        }],
        policy_version: Cow::Borrowed(ctx.policy.version()),
    }
}
