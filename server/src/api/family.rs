//! `signaalhub.v1.FamilyService`: the duty to inform the family, and the family's requests with
//! their notices to the organisations that received the data. The rules live in
//! `flows::family`; this is the wire.
use super::basis::{bsn_from_pb, bsns_from_pb, optional_name, parsed_field};
use super::{caller, timestamp};
use crate::domain::family::{
    FamilyRequest, InformAct, InformClose, InformObligation, InformState, RequestKind,
    RequestNotice, RequestState,
};
use crate::flows::family::{
    self as flow, CloseObligation, DecideRequest, ListObligations, MergeReference, RecordRequest,
};
use crate::flows::{Ctx, FlowError, parsed, reject};
use crate::ids::{Bsn, FamilyRequestId, Oin};
use signaalhub_policy::reasons;
use signaalhub_proto::pb;
use signaalhub_proto::pb::family_service_server::FamilyService;
use tonic::{Request, Response, Status};

wire_codes! {
    InformState => pb::InformState, "INFORM_STATE_", inform_state_to_pb, inform_state_from_pb;
    InformAct => pb::InformAct, "INFORM_ACT_", act_to_pb, act_from_pb;
    RequestKind => pb::FamilyRequestKind, "FAMILY_REQUEST_KIND_", kind_to_pb, kind_from_pb;
    RequestState => pb::FamilyRequestState, "FAMILY_REQUEST_STATE_", request_state_to_pb, request_state_from_pb;
}

/// Most persons one request names.
const MAX_SUBJECTS: usize = 16;
/// Most references one request names.
const MAX_REFERENCES: usize = 64;

/// The FamilyService.
#[derive(Debug, Clone)]
pub struct FamilyApi {
    ctx: Ctx,
}

impl FamilyApi {
    /// On shared state.
    pub fn new(ctx: Ctx) -> Self {
        FamilyApi { ctx }
    }
}

/// A reference the organisation's log entries name (a signal id, a handover id, `log:<n>`):
/// 1-128 of `A-Za-z0-9._:/-`.
fn valid_reference(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:/-".contains(&b))
}

fn reason_nl(list: &'static [reasons::Reason], code: &str) -> String {
    reasons::lookup(list, code)
        .map(|r| r.nl.to_owned())
        .unwrap_or_default()
}

fn obligation_to_pb(o: &InformObligation, within: u64, now: i64) -> pb::InformObligation {
    let ground = o.ground.clone().unwrap_or_default();
    pb::InformObligation {
        log_index: o.log_index,
        event: o.event.clone(),
        reference: o.reference.clone().unwrap_or_default(),
        recipient_oin: o
            .recipient_oin
            .as_ref()
            .map(|x| x.to_string())
            .unwrap_or_default(),
        purpose: o
            .purpose
            .as_ref()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        disclosed_at: Some(timestamp(o.created_at)),
        due_at: Some(timestamp(o.due_at(within))),
        overdue: o.overdue(within, now),
        state: inform_state_to_pb(o.state),
        state_nl: o.state.nl().into(),
        act: o.act.map_or(0, act_to_pb),
        informed_on: o.informed_on.map(timestamp),
        ground_nl: reason_nl(reasons::INFORM_EXEMPTION, &ground),
        ground,
        closed_by: o.closed_professional.clone(),
        closed_role: o
            .closed_role
            .as_ref()
            .map(|r| r.to_string())
            .unwrap_or_default(),
        closed_at: o.closed_at.map(timestamp),
        overdue_notified_at: o.overdue_notified_at.map(timestamp),
    }
}

fn notice_to_pb(n: &RequestNotice) -> pb::FamilyRequestNotice {
    pb::FamilyRequestNotice {
        org_oin: n.org_oin.to_string(),
        request_id: n.request_id.to_string(),
        recipient_oin: n.recipient_oin.to_string(),
        kind: kind_to_pb(n.kind),
        kind_nl: n.kind.nl().into(),
        references: n.references.clone(),
        notified_at: Some(timestamp(n.notified_at)),
        acknowledged_at: n.acknowledged_at.map(timestamp),
        acknowledged_by: n.acknowledged_professional.clone(),
    }
}

fn request_to_pb(r: &FamilyRequest) -> pb::FamilyRequest {
    let reason = r.decision_reason.clone().unwrap_or_default();
    let list = if r.state == RequestState::Granted {
        reasons::FAMILY_REQUEST_GRANTED
    } else {
        reasons::FAMILY_REQUEST_REFUSED
    };
    pb::FamilyRequest {
        request_id: r.request_id.to_string(),
        kind: kind_to_pb(r.kind),
        kind_nl: r.kind.nl().into(),
        received_on: Some(timestamp(r.received_on)),
        covers: r.scope.clone(),
        recorded_at: Some(timestamp(r.recorded_at)),
        recorded_by: r.recorded_professional.clone(),
        recorded_role: r.recorded_role.to_string(),
        state: request_state_to_pb(r.state),
        state_nl: r.state.nl().into(),
        decision_reason_nl: reason_nl(list, &reason),
        decision_reason: reason,
        decided_at: r.decided_at.map(timestamp),
        decided_by: r.decided_professional.clone(),
        notices: r.notices.iter().map(notice_to_pb).collect(),
        recorded_index: r.recorded_idx,
    }
}

impl TryFrom<pb::ListInformObligationsRequest> for ListObligations {
    type Error = FlowError;
    fn try_from(r: pb::ListInformObligationsRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        let state = inform_state_from_pb(r.state);
        if r.state != 0 && state.is_none() {
            bad.push(("state", format!("{} is not one of its values", r.state)));
        }
        let acting_role = optional_name("acting_role", &r.acting_role, &mut bad);
        reject(bad)?;
        Ok(ListObligations {
            state,
            overdue_only: r.overdue_only,
            from_index: r.from_index,
            page_size: r.page_size,
            acting_role,
        })
    }
}

impl TryFrom<pb::RecordFamilyInformedRequest> for CloseObligation {
    type Error = FlowError;
    fn try_from(r: pb::RecordFamilyInformedRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        let act = act_from_pb(r.act);
        if act.is_none() {
            bad.push(("act", "LETTER, CONVERSATION or DIGITAL".into()));
        }
        if r.informed_on.is_none() {
            bad.push(("informed_on", "the day the family was informed".into()));
        }
        let acting_role = optional_name("acting_role", &r.acting_role, &mut bad);
        reject(bad)?;
        Ok(CloseObligation {
            log_index: r.log_index,
            close: InformClose::Informed {
                act: parsed(act, "act")?,
                on: r.informed_on.map_or(0, |t| t.seconds),
            },
            acting_role,
        })
    }
}

impl TryFrom<pb::RecordInformExemptionRequest> for CloseObligation {
    type Error = FlowError;
    fn try_from(r: pb::RecordInformExemptionRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        let ground =
            crate::wire::reason_code("ground", reasons::INFORM_EXEMPTION, &r.ground, &mut bad);
        if r.ground.is_empty() {
            bad.push((
                "ground",
                format!(
                    "why the family is not informed: one of {}",
                    reasons::codes(reasons::INFORM_EXEMPTION)
                ),
            ));
        }
        let acting_role = optional_name("acting_role", &r.acting_role, &mut bad);
        reject(bad)?;
        Ok(CloseObligation {
            log_index: r.log_index,
            close: InformClose::Exempted {
                ground: parsed(ground, "ground")?,
            },
            acting_role,
        })
    }
}

impl TryFrom<pb::RecordFamilyRequestRequest> for RecordRequest {
    type Error = FlowError;
    fn try_from(r: pb::RecordFamilyRequestRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        let subjects = bsns_from_pb(
            "subject_bsns",
            &r.subject_bsns,
            MAX_SUBJECTS,
            "person",
            &mut bad,
        );
        let kind = kind_from_pb(r.kind);
        if kind.is_none() {
            bad.push((
                "kind",
                "OBJECTION, CORRECTION, RESTRICTION or ERASURE".into(),
            ));
        }
        if r.received_on.is_none() {
            bad.push((
                "received_on",
                "the day your organisation received the request".into(),
            ));
        }
        if r.references.len() > MAX_REFERENCES {
            bad.push(("references", format!("at most {MAX_REFERENCES}")));
        }
        if r.references.iter().any(|x| !valid_reference(x)) {
            bad.push((
                "references",
                "each a record your organisation disclosed as the log names it: 1-128 of A-Za-z0-9._:/-".into(),
            ));
        }
        let acting_role = optional_name("acting_role", &r.acting_role, &mut bad);
        reject(bad)?;
        let mut references: Vec<String> = Vec::new();
        for x in r.references {
            if !references.contains(&x) {
                references.push(x);
            }
        }
        Ok(RecordRequest {
            subjects,
            kind: parsed(kind, "kind")?,
            received_on: r.received_on.map_or(0, |t| t.seconds),
            references,
            acting_role,
        })
    }
}

impl TryFrom<pb::DecideFamilyRequestRequest> for DecideRequest {
    type Error = FlowError;
    fn try_from(r: pb::DecideFamilyRequestRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        let request_id = parsed_field::<FamilyRequestId>("request_id", &r.request_id, &mut bad);
        let grant = match request_state_from_pb(r.decision) {
            Some(RequestState::Granted) => Some(true),
            Some(RequestState::Refused) => Some(false),
            _ => {
                bad.push(("decision", "GRANTED or REFUSED".into()));
                None
            }
        };
        let list = if grant == Some(false) {
            reasons::FAMILY_REQUEST_REFUSED
        } else {
            reasons::FAMILY_REQUEST_GRANTED
        };
        let reason = crate::wire::reason_code("reason", list, &r.reason, &mut bad);
        if r.reason.is_empty() {
            bad.push((
                "reason",
                format!("the decision's reason: one of {}", reasons::codes(list)),
            ));
        }
        let acting_role = optional_name("acting_role", &r.acting_role, &mut bad);
        reject(bad)?;
        Ok(DecideRequest {
            request_id: parsed(request_id, "request_id")?,
            grant: parsed(grant, "decision")?,
            reason: parsed(reason, "reason")?,
            acting_role,
        })
    }
}

impl TryFrom<pb::MergeSubjectReferenceRequest> for MergeReference {
    type Error = FlowError;
    fn try_from(r: pb::MergeSubjectReferenceRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        let reference = bsn_from_pb("reference", &r.reference, &mut bad);
        if reference.as_ref().is_some_and(|b| !b.is_reference()) {
            bad.push((
                "reference",
                "the subject reference the hub issued (SH-…), not a BSN".into(),
            ));
        }
        let bsn = bsn_from_pb("subject_bsn", &r.subject_bsn, &mut bad);
        if bsn.as_ref().is_some_and(Bsn::is_reference) {
            bad.push((
                "subject_bsn",
                "the person's BSN (9 digits, elfproef), not a subject reference".into(),
            ));
        }
        let acting_role = optional_name("acting_role", &r.acting_role, &mut bad);
        reject(bad)?;
        Ok(MergeReference {
            reference: parsed(reference, "reference")?,
            bsn: parsed(bsn, "subject_bsn")?,
            acting_role,
        })
    }
}

#[tonic::async_trait]
impl FamilyService for FamilyApi {
    async fn issue_subject_reference(
        &self,
        request: Request<pb::IssueSubjectReferenceRequest>,
    ) -> Result<Response<pb::IssueSubjectReferenceResponse>, Status> {
        let caller = caller(&request)?;
        let role = super::basis::acting_role(&request.into_inner().acting_role)?;
        let issued = flow::issue_reference(&self.ctx, &caller, role.as_ref()).await?;
        Ok(Response::new(pb::IssueSubjectReferenceResponse {
            reference: issued.reference.reference_text().unwrap_or_default(),
            issued_at: Some(timestamp(issued.issued_at)),
        }))
    }

    async fn merge_subject_reference(
        &self,
        request: Request<pb::MergeSubjectReferenceRequest>,
    ) -> Result<Response<pb::MergeSubjectReferenceResponse>, Status> {
        let caller = caller(&request)?;
        let cmd = MergeReference::try_from(request.into_inner())?;
        let merged = flow::merge_reference(&self.ctx, &caller, cmd).await?;
        Ok(Response::new(pb::MergeSubjectReferenceResponse {
            records_moved: merged.moved,
            log_index: merged.log_index,
        }))
    }

    async fn list_inform_obligations(
        &self,
        request: Request<pb::ListInformObligationsRequest>,
    ) -> Result<Response<pb::ListInformObligationsResponse>, Status> {
        let caller = caller(&request)?;
        let cmd = ListObligations::try_from(request.into_inner())?;
        let page = flow::list_obligations(&self.ctx, &caller, cmd).await?;
        Ok(Response::new(pb::ListInformObligationsResponse {
            obligations: page
                .obligations
                .iter()
                .map(|o| obligation_to_pb(o, page.within_secs, page.now))
                .collect(),
            next_from_index: page.next_from.unwrap_or_default(),
            inform_within_seconds: page.within_secs,
        }))
    }

    async fn record_family_informed(
        &self,
        request: Request<pb::RecordFamilyInformedRequest>,
    ) -> Result<Response<pb::RecordFamilyInformedResponse>, Status> {
        let caller = caller(&request)?;
        let cmd = CloseObligation::try_from(request.into_inner())?;
        let o = flow::close_obligation(&self.ctx, &caller, cmd).await?;
        let within = self.ctx.policy.inform_within_secs();
        Ok(Response::new(pb::RecordFamilyInformedResponse {
            obligation: Some(obligation_to_pb(&o, within, crate::flows::now())),
        }))
    }

    async fn record_inform_exemption(
        &self,
        request: Request<pb::RecordInformExemptionRequest>,
    ) -> Result<Response<pb::RecordInformExemptionResponse>, Status> {
        let caller = caller(&request)?;
        let cmd = CloseObligation::try_from(request.into_inner())?;
        let o = flow::close_obligation(&self.ctx, &caller, cmd).await?;
        let within = self.ctx.policy.inform_within_secs();
        Ok(Response::new(pb::RecordInformExemptionResponse {
            obligation: Some(obligation_to_pb(&o, within, crate::flows::now())),
        }))
    }

    async fn record_family_request(
        &self,
        request: Request<pb::RecordFamilyRequestRequest>,
    ) -> Result<Response<pb::RecordFamilyRequestResponse>, Status> {
        let caller = caller(&request)?;
        let cmd = RecordRequest::try_from(request.into_inner())?;
        let r = flow::record_request(&self.ctx, &caller, cmd).await?;
        Ok(Response::new(pb::RecordFamilyRequestResponse {
            request: Some(request_to_pb(&r)),
        }))
    }

    async fn decide_family_request(
        &self,
        request: Request<pb::DecideFamilyRequestRequest>,
    ) -> Result<Response<pb::DecideFamilyRequestResponse>, Status> {
        let caller = caller(&request)?;
        let cmd = DecideRequest::try_from(request.into_inner())?;
        let r = flow::decide_request(&self.ctx, &caller, cmd).await?;
        Ok(Response::new(pb::DecideFamilyRequestResponse {
            request: Some(request_to_pb(&r)),
        }))
    }

    async fn get_family_request(
        &self,
        request: Request<pb::GetFamilyRequestRequest>,
    ) -> Result<Response<pb::GetFamilyRequestResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let mut bad = Vec::new();
        let id = parsed_field::<FamilyRequestId>("request_id", &r.request_id, &mut bad);
        let role = optional_name("acting_role", &r.acting_role, &mut bad);
        reject(bad)?;
        let id = parsed(id, "request_id")?;
        let found = flow::get_request(&self.ctx, &caller, &id, role.as_ref()).await?;
        Ok(Response::new(pb::GetFamilyRequestResponse {
            request: Some(request_to_pb(&found)),
        }))
    }

    async fn list_family_requests(
        &self,
        request: Request<pb::ListFamilyRequestsRequest>,
    ) -> Result<Response<pb::ListFamilyRequestsResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let role = super::basis::acting_role(&r.acting_role)?;
        let (v, next) =
            flow::list_requests(&self.ctx, &caller, r.from_index, r.page_size, role.as_ref())
                .await?;
        Ok(Response::new(pb::ListFamilyRequestsResponse {
            requests: v.iter().map(request_to_pb).collect(),
            next_from_index: next.unwrap_or_default(),
        }))
    }

    async fn list_family_request_notices(
        &self,
        request: Request<pb::ListFamilyRequestNoticesRequest>,
    ) -> Result<Response<pb::ListFamilyRequestNoticesResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let role = super::basis::acting_role(&r.acting_role)?;
        let v =
            flow::list_notices(&self.ctx, &caller, r.open_only, r.page_size, role.as_ref()).await?;
        Ok(Response::new(pb::ListFamilyRequestNoticesResponse {
            notices: v.iter().map(notice_to_pb).collect(),
        }))
    }

    async fn acknowledge_family_request_notice(
        &self,
        request: Request<pb::AcknowledgeFamilyRequestNoticeRequest>,
    ) -> Result<Response<pb::AcknowledgeFamilyRequestNoticeResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let mut bad = Vec::new();
        let org = parsed_field::<Oin>("org_oin", &r.org_oin, &mut bad);
        let id = parsed_field::<FamilyRequestId>("request_id", &r.request_id, &mut bad);
        let role = optional_name("acting_role", &r.acting_role, &mut bad);
        reject(bad)?;
        let (org, id) = (parsed(org, "org_oin")?, parsed(id, "request_id")?);
        let n = flow::acknowledge_notice(&self.ctx, &caller, &org, &id, role.as_ref()).await?;
        Ok(Response::new(pb::AcknowledgeFamilyRequestNoticeResponse {
            notice: Some(notice_to_pb(&n)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_plain_ids_and_every_code_maps_to_the_wire() {
        assert!(valid_reference("sig-2026-1"));
        assert!(valid_reference("log:12"));
        assert!(!valid_reference(""));
        assert!(!valid_reference("naam met spatie"));
        for k in RequestKind::ALL {
            assert_eq!(kind_from_pb(kind_to_pb(*k)), Some(*k));
        }
        for a in InformAct::ALL {
            assert_eq!(act_from_pb(act_to_pb(*a)), Some(*a));
        }
        for s in InformState::ALL {
            assert_eq!(inform_state_from_pb(inform_state_to_pb(*s)), Some(*s));
        }
        for s in RequestState::ALL {
            assert_eq!(request_state_from_pb(request_state_to_pb(*s)), Some(*s));
        }
    }
}
