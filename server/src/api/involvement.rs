//! `signaalhub.v1.InvolvementService` (register, end, match, case coordination) and
//! `signaalhub.v1.NotificationService` (each organisation's notification stream). The rules live
//! in `flows::involvement`; this is the wire.
use super::basis::{bsn_from_pb, facts_from_pb, required_bsn};
use super::{caller, timestamp};
use crate::domain::involvement::{
    CaseView, Involvement, MAX_HOUSEHOLD, Notification, Proposal, ProposalState,
};
use crate::domain::maatregel::valid_contact;
use crate::flows::involvement::{
    self as flow, ConfirmInvolvement, ProposeCoordinator, RegisterInvolvement,
};
use crate::flows::{Ctx, FlowError};
use signaalhub_proto::pb;
use signaalhub_proto::pb::involvement_service_server::InvolvementService;
use signaalhub_proto::pb::notification_service_server::NotificationService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

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

impl From<pb::RegisterInvolvementRequest> for RegisterInvolvement {
    /// Structure only; what the edge finds wrong is said together with the flow's findings
    /// (the basis against the convenant and the recorded consents).
    fn from(r: pb::RegisterInvolvementRequest) -> Self {
        let mut bad = Vec::new();
        let subject = bsn_from_pb("subject_bsn", &r.subject_bsn, &mut bad);
        if r.household_bsns.len() > MAX_HOUSEHOLD {
            bad.push((
                "household_bsns",
                format!("at most {MAX_HOUSEHOLD} other household members"),
            ));
        }
        let mut household = Vec::new();
        for b in r.household_bsns.iter().take(MAX_HOUSEHOLD) {
            if let Some(p) = bsn_from_pb("household_bsns", b, &mut bad) {
                if subject.as_ref() == Some(&p) || household.contains(&p) {
                    bad.push((
                        "household_bsns",
                        "each person once, and not the subject itself".into(),
                    ));
                } else {
                    household.push(p);
                }
            }
        }
        if !valid_contact(&r.contact_professional) {
            bad.push((
                "contact_professional",
                "how colleagues reach you: 1-200 characters, one line".into(),
            ));
        }
        let facts = facts_from_pb(r.subject.as_ref(), &mut bad);
        let basis = crate::wire::basis_from_pb(&r.basis.unwrap_or_default(), &mut bad);
        RegisterInvolvement {
            subject,
            household,
            contact_professional: r.contact_professional,
            started_at: r.started_at.map(|s| s.seconds),
            facts,
            basis,
            acting_role: super::basis::optional_name("acting_role", &r.acting_role, &mut bad),
            invalid: bad,
        }
    }
}

impl TryFrom<pb::ConfirmInvolvementRequest> for ConfirmInvolvement {
    type Error = FlowError;
    fn try_from(r: pb::ConfirmInvolvementRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        let subject = bsn_from_pb("subject_bsn", &r.subject_bsn, &mut bad);
        let org = super::basis::parsed_field("org_oin", &r.org_oin, &mut bad);
        let acting_role = super::basis::optional_name("acting_role", &r.acting_role, &mut bad);
        crate::flows::reject(bad)?;
        Ok(ConfirmInvolvement {
            subject: crate::flows::parsed(subject, "subject_bsn")?,
            org: crate::flows::parsed(org, "org_oin")?,
            acting_role,
        })
    }
}

impl TryFrom<pb::ProposeCoordinatorRequest> for ProposeCoordinator {
    type Error = FlowError;
    fn try_from(r: pb::ProposeCoordinatorRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        let case_id = super::basis::parsed_field("case_id", &r.case_id, &mut bad);
        let proposed = super::basis::parsed_field("proposed_oin", &r.proposed_oin, &mut bad);
        crate::flows::reject(bad)?;
        Ok(ProposeCoordinator {
            case_id: crate::flows::parsed(case_id, "case_id")?,
            proposed: crate::flows::parsed(proposed, "proposed_oin")?,
            acting_role: super::basis::acting_role(&r.acting_role)?,
        })
    }
}

/// The wire form of an involvement; `retain_until` only for the caller's own.
fn involvement_to_pb(ctx: &Ctx, i: &Involvement, me: &str) -> pb::Involvement {
    pb::Involvement {
        involvement_id: i.id.to_string(),
        organization_oin: i.org_oin.to_string(),
        organization_name: ctx.name_of(&i.org_oin),
        sector_name: ctx.sector_of(&i.org_oin),
        contact_professional: i.contact_professional.clone(),
        started_at: Some(timestamp(i.started_at)),
        ended_at: i.ended_at.map(timestamp),
        case_id: i
            .case_id
            .as_ref()
            .map(|x| x.to_string())
            .unwrap_or_default(),
        retain_until: if i.org_oin == me {
            i.retain_until.map(timestamp)
        } else {
            None
        },
    }
}

fn proposal_to_pb(p: &Proposal, v: &CaseView) -> pb::CoordinatorProposal {
    let awaiting = if p.state == ProposalState::Open {
        p.awaiting(v)
    } else {
        Vec::new()
    };
    pb::CoordinatorProposal {
        accepted_by_oins: p.accepted_by.iter().map(|o| o.to_string()).collect(),
        awaiting_oins: awaiting.iter().map(|o| o.to_string()).collect(),
        proposal_id: p.id.to_string(),
        proposed_oin: p.proposed_oin.to_string(),
        proposed_by_oin: p.proposed_by_oin.to_string(),
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
fn case_to_pb(ctx: &Ctx, v: &CaseView, me: &str) -> pb::Case {
    let coordinator = v.case.coordinator_oin.as_ref().map(|oin| pb::Coordinator {
        oin: oin.to_string(),
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
        case_id: v.case.id.to_string(),
        parties: v
            .parties
            .iter()
            .map(|i| involvement_to_pb(ctx, i, me))
            .collect(),
        coordinator,
        proposals: v.proposals.iter().map(|p| proposal_to_pb(p, v)).collect(),
        safety_plan_version: v.case.plan_version,
        created_at: Some(timestamp(v.case.created_at)),
    }
}

type NotificationStream = super::stream::ItemStream<pb::StreamNotificationsResponse>;

/// `StreamNotifications`: the organisation's notification rows after its cursor, as written
/// (each was logged in the act's own transaction).
struct Notifications {
    ctx: Ctx,
    me: crate::ids::Oin,
}

impl super::stream::CursorSource for Notifications {
    type Row = Notification;
    type Item = pb::StreamNotificationsResponse;

    async fn page(&self, after: u64) -> Result<Vec<Self::Row>, Status> {
        Ok(flow::notifications_page(&self.ctx, &self.me, after).await?)
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
            K::MaatregelQueriesLimited => pb::NotificationKind::MaatregelQueriesLimited,
            K::MaatregelEnded => pb::NotificationKind::MaatregelEnded,
            K::MeldingReviewDue => pb::NotificationKind::MeldingReviewDue,
            K::SafetyPlanReviewDue => pb::NotificationKind::SafetyPlanReviewDue,
            K::HandoverUnanswered => pb::NotificationKind::HandoverUnanswered,
            K::InformOverdue => pb::NotificationKind::InformOverdue,
            K::FamilyRequestGranted => pb::NotificationKind::FamilyRequestGranted,
        } as i32,
        at: Some(timestamp(n.at)),
        actor_oin: n.actor_oin.to_string(),
        actor_name: ctx.name_of(&n.actor_oin),
        actor_professional: n.actor_professional.clone(),
        case_id: n
            .case_id
            .as_ref()
            .map(|x| x.to_string())
            .unwrap_or_default(),
        maatregel_id: n
            .maatregel_id
            .as_ref()
            .map(|x| x.to_string())
            .unwrap_or_default(),
        involvement_id: n
            .involvement_id
            .as_ref()
            .map(|x| x.to_string())
            .unwrap_or_default(),
        proposal_id: n
            .proposal_id
            .as_ref()
            .map(|x| x.to_string())
            .unwrap_or_default(),
        plan_version: n.plan_version.unwrap_or(0),
        summary_nl: n.summary_nl.clone(),
        reference: n.reference.clone().unwrap_or_default(),
    }
}

#[tonic::async_trait]
impl NotificationService for NotificationApi {
    type StreamNotificationsStream = NotificationStream;

    async fn stream_notifications(
        &self,
        request: Request<pb::StreamNotificationsRequest>,
    ) -> Result<Response<Self::StreamNotificationsStream>, Status> {
        let after = request.get_ref().after_cursor;
        let shape = super::stream::Shape {
            resume: "after your last cursor",
            buffer: 16,
        };
        let stream = super::stream::open(
            &self.ctx,
            &request,
            after,
            &self.wake,
            &self.stop,
            shape,
            |ctx, me| Notifications { ctx, me },
        )?;
        Ok(Response::new(stream))
    }
}

#[tonic::async_trait]
impl InvolvementService for InvolvementApi {
    async fn register_involvement(
        &self,
        request: Request<pb::RegisterInvolvementRequest>,
    ) -> Result<Response<pb::RegisterInvolvementResponse>, Status> {
        let c = caller(&request)?;
        let cmd = RegisterInvolvement::from(request.into_inner());
        let reg = flow::register(&self.ctx, &c, cmd).await?;
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
        let r = request.into_inner();
        let ended = flow::end(
            &self.ctx,
            &c,
            &r.involvement_id,
            super::basis::acting_role(&r.acting_role)?.as_ref(),
        )
        .await?;
        self.wake.notify_waiters();
        Ok(Response::new(pb::EndInvolvementResponse {
            involvement: Some(involvement_to_pb(&self.ctx, &ended, c.oin().as_str())),
        }))
    }

    async fn list_involved_parties(
        &self,
        request: Request<pb::ListInvolvedPartiesRequest>,
    ) -> Result<Response<pb::ListInvolvedPartiesResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let subject = required_bsn("subject_bsn", &r.subject_bsn)?;
        let parties = flow::list_parties(
            &self.ctx,
            &c,
            &subject,
            super::basis::acting_role(&r.acting_role)?.as_ref(),
        )
        .await?;
        let me = c.oin().as_str();
        Ok(Response::new(pb::ListInvolvedPartiesResponse {
            own: parties
                .own
                .iter()
                .map(|i| involvement_to_pb(&self.ctx, i, me))
                .collect(),
            cases: parties
                .cases
                .iter()
                .map(|v| case_to_pb(&self.ctx, v, me))
                .collect(),
        }))
    }

    async fn get_case(
        &self,
        request: Request<pb::GetCaseRequest>,
    ) -> Result<Response<pb::GetCaseResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let view = flow::get_case(
            &self.ctx,
            &c,
            &r.case_id,
            super::basis::acting_role(&r.acting_role)?.as_ref(),
        )
        .await?;
        Ok(Response::new(pb::GetCaseResponse {
            case: Some(case_to_pb(&self.ctx, &view, c.oin().as_str())),
        }))
    }

    async fn propose_coordinator(
        &self,
        request: Request<pb::ProposeCoordinatorRequest>,
    ) -> Result<Response<pb::ProposeCoordinatorResponse>, Status> {
        let c = caller(&request)?;
        let cmd = ProposeCoordinator::try_from(request.into_inner())?;
        let (proposal, view) = flow::propose_coordinator(&self.ctx, &c, cmd).await?;
        self.wake.notify_waiters();
        Ok(Response::new(pb::ProposeCoordinatorResponse {
            proposal: Some(proposal_to_pb(&proposal, &view)),
            case: Some(case_to_pb(&self.ctx, &view, c.oin().as_str())),
        }))
    }

    async fn confirm_involvement(
        &self,
        request: Request<pb::ConfirmInvolvementRequest>,
    ) -> Result<Response<pb::ConfirmInvolvementResponse>, Status> {
        let c = caller(&request)?;
        let cmd = ConfirmInvolvement::try_from(request.into_inner())?;
        let valid_until = flow::confirm(&self.ctx, &c, cmd).await?;
        Ok(Response::new(pb::ConfirmInvolvementResponse {
            valid_until: Some(timestamp(valid_until)),
        }))
    }

    async fn respond_to_coordinator_proposal(
        &self,
        request: Request<pb::RespondToCoordinatorProposalRequest>,
    ) -> Result<Response<pb::RespondToCoordinatorProposalResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let (proposal, view) = flow::respond_to_proposal(
            &self.ctx,
            &c,
            &r.proposal_id,
            r.accept,
            super::basis::acting_role(&r.acting_role)?.as_ref(),
        )
        .await?;
        self.wake.notify_waiters();
        Ok(Response::new(pb::RespondToCoordinatorProposalResponse {
            proposal: Some(proposal_to_pb(&proposal, &view)),
            case: Some(case_to_pb(&self.ctx, &view, c.oin().as_str())),
        }))
    }
}
