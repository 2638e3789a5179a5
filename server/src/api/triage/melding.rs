//! The wire of Veilig Thuis's follow-up of a melding: its stages and review moments
//! (`SetMeldingStage`, `GetMeldingStages`), its overview of them (`ListMeldingen`) and its
//! information requests (`RequestInformation`,
//! `ListInformationRequests`, `AnswerInformation`). The rules live in `flows::stage` and
//! `flows::information`; this is the wire.
use super::super::basis::{chosen_id, decision_to_pb, name_list, names_to_pb, parsed_field};
use super::super::{caller, timestamp};
use super::{melding_from_pb, melding_to_pb, optional_code, required_code, triage_decision_to_pb};
use crate::domain::zorgmelding::{
    DeclineReason, InformationRequest, InformationState, MeldingPageKey, MeldingStage, StageRecord,
};
use crate::flows::information::{self, AnswerInformation, RequestInformation};
use crate::flows::stage::{
    self, DEFAULT_MELDINGEN_PAGE, ListMeldingen, ListedMelding, MAX_MELDINGEN_PAGE, SetStage,
    Stages,
};
use crate::flows::{Ctx, FlowError, parsed};
use crate::ids::MeldingKind;
use signaalhub_proto::pb;
use tonic::{Request, Response, Status};

wire_codes! {
    MeldingStage => pb::MeldingStage, "MELDING_STAGE_", stage_to_pb, stage_from_pb;
    DeclineReason => pb::InformationDeclineReason, "INFORMATION_DECLINE_REASON_", decline_to_pb, decline_from_pb;
}

fn stage_record_to_pb(s: &StageRecord) -> pb::MeldingStageRecord {
    pb::MeldingStageRecord {
        seq: s.seq,
        stage: stage_to_pb(s.stage),
        stage_nl: s.stage.nl().into(),
        since: Some(timestamp(s.set_at)),
        review_at: s.review_at.map(timestamp),
        review_state: s
            .review_state
            .map(|r| r.as_str().to_uppercase())
            .unwrap_or_default(),
        role: s.role.to_string(),
    }
}

fn stages_to_pb(s: &Stages) -> pb::MeldingStages {
    let (zorgmelding_id, signal) = melding_to_pb(&s.melding);
    pb::MeldingStages {
        zorgmelding_id,
        signal,
        current: stage_to_pb(s.current()),
        current_nl: s.current().nl().into(),
        under_assessment: s.under_assessment(),
        history: s.history.iter().map(stage_record_to_pb).collect(),
    }
}

fn listed_to_pb(l: &ListedMelding, now: i64) -> pb::ListedMelding {
    let m = &l.listing;
    let (zorgmelding_id, signal) = melding_to_pb(&m.melding);
    let kind = match m.melding.kind() {
        MeldingKind::Zorgmelding(_) => pb::MeldingKind::Zorgmelding,
        MeldingKind::Signal(..) => pb::MeldingKind::Signal,
    };
    pb::ListedMelding {
        zorgmelding_id,
        signal,
        kind: kind as i32,
        received_at: Some(timestamp(m.received_at)),
        stage: stage_to_pb(m.stage),
        stage_nl: m.stage.nl().into(),
        under_assessment: m.stage.under_assessment(),
        stage_since: m.stage_since.map(timestamp),
        review_at: m.review_at.map(timestamp),
        review_state: m
            .review_state
            .map(|r| r.as_str().to_uppercase())
            .unwrap_or_default(),
        review_due: m.review_due(now),
        triaged: m.triage.is_some(),
        decision: l.decision.map_or(0, triage_decision_to_pb),
        decision_recorded: m.decision.is_some(),
    }
}

impl TryFrom<pb::ListMeldingenRequest> for ListMeldingen {
    type Error = FlowError;
    fn try_from(r: pb::ListMeldingenRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        let stage = optional_code("stage", r.stage, stage_from_pb, &mut bad);
        if r.page_size > MAX_MELDINGEN_PAGE {
            bad.push(("page_size", format!("at most {MAX_MELDINGEN_PAGE}")));
        }
        let after = if r.page_token.is_empty() {
            None
        } else {
            let key = MeldingPageKey::parse(&r.page_token);
            if key.is_none() {
                bad.push(("page_token", "not a page token this hub gave out".into()));
            }
            key
        };
        let acting_role =
            super::super::basis::optional_name("acting_role", &r.acting_role, &mut bad);
        crate::flows::reject(bad)?;
        Ok(ListMeldingen {
            stage,
            page_size: if r.page_size == 0 {
                DEFAULT_MELDINGEN_PAGE
            } else {
                r.page_size
            },
            after,
            acting_role,
        })
    }
}

fn state_to_pb(s: InformationState) -> pb::InformationRequestState {
    match s {
        InformationState::Open => pb::InformationRequestState::Open,
        InformationState::Answered => pb::InformationRequestState::Answered,
        InformationState::Declined => pb::InformationRequestState::Declined,
    }
}

/// A request as `viewer` may see it: Veilig Thuis the melding and the answer, the organisation
/// asked the question (never the melding, which would name the melder).
fn request_to_pb(q: &InformationRequest, viewer: &str) -> pb::InformationRequest {
    let asker = q.vt_oin == *viewer;
    let (zorgmelding_id, signal) = if asker {
        melding_to_pb(&q.melding)
    } else {
        (String::new(), None)
    };
    let a = q.answer.as_ref();
    pb::InformationRequest {
        veilig_thuis_oin: q.vt_oin.to_string(),
        request_id: q.request_id.to_string(),
        recipient_oin: q.recipient_oin.to_string(),
        zorgmelding_id,
        signal,
        categories: names_to_pb(&q.categories),
        case_reference: q.case_reference.clone(),
        question: if q.recipient_oin == *viewer {
            q.question.as_deref().and_then(crate::wire::decode_envelope)
        } else {
            None
        },
        requested_at: Some(timestamp(q.requested_at)),
        state: state_to_pb(q.state) as i32,
        answer: if asker {
            a.and_then(|a| a.answer.as_deref())
                .and_then(crate::wire::decode_envelope)
        } else {
            None
        },
        answer_categories: a.map(|a| names_to_pb(&a.categories)).unwrap_or_default(),
        decline_reason: a
            .and_then(|a| a.decline_reason)
            .map(decline_to_pb)
            .unwrap_or_default(),
        decline_reason_nl: a
            .and_then(|a| a.decline_reason)
            .map(|r| r.nl().to_owned())
            .unwrap_or_default(),
        answered_at: a.map(|a| timestamp(a.answered_at)),
    }
}

impl TryFrom<pb::SetMeldingStageRequest> for SetStage {
    type Error = FlowError;
    fn try_from(r: pb::SetMeldingStageRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        let melding = melding_from_pb(&r.zorgmelding_id, r.signal.as_ref(), &mut bad);
        let stage = required_code(
            "stage",
            r.stage,
            stage_from_pb,
            "TRIAGE, ONDERZOEK, OVERDRACHT, MONITORING or AFGESLOTEN",
            &mut bad,
        );
        let acting_role =
            super::super::basis::optional_name("acting_role", &r.acting_role, &mut bad);
        crate::flows::reject(bad)?;
        Ok(SetStage {
            melding: parsed(melding, "zorgmelding_id")?,
            stage: parsed(stage, "stage")?,
            review_at: r.review_at.map(|t| t.seconds),
            acting_role,
        })
    }
}

impl TryFrom<pb::RequestInformationRequest> for RequestInformation {
    type Error = FlowError;
    fn try_from(r: pb::RequestInformationRequest) -> Result<Self, FlowError> {
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        let request_id = chosen_id::<crate::ids::InformationRequest>(
            "request_id",
            &r.request_id,
            "1-64 of A-Za-z0-9._- chosen by Veilig Thuis, unique per Veilig Thuis",
            &mut bad,
        );
        let melding = melding_from_pb(&r.zorgmelding_id, r.signal.as_ref(), &mut bad);
        let recipient =
            parsed_field::<crate::ids::Oin>("recipient_oin", &r.recipient_oin, &mut bad);
        let categories = name_list("categories", &r.categories, &mut bad);
        let basis = crate::wire::basis_from_pb(&r.basis.clone().unwrap_or_default(), &mut bad);
        let question = match &r.question {
            Some(env) => crate::wire::envelope_from_pb("question", env, &mut bad),
            None => {
                bad.push((
                    "question",
                    "the question, sealed to the organisation you ask".into(),
                ));
                None
            }
        };
        let acting_role =
            super::super::basis::optional_name("acting_role", &r.acting_role, &mut bad);
        crate::flows::reject(bad)?;
        Ok(RequestInformation {
            request_id: parsed(request_id, "request_id")?,
            melding: parsed(melding, "zorgmelding_id")?,
            recipient: parsed(recipient, "recipient_oin")?,
            question: parsed(question, "question")?,
            categories,
            basis,
            acting_role,
        })
    }
}

impl TryFrom<pb::AnswerInformationRequest> for AnswerInformation {
    type Error = FlowError;
    fn try_from(r: pb::AnswerInformationRequest) -> Result<Self, FlowError> {
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        let vt = parsed_field::<crate::ids::Oin>("veilig_thuis_oin", &r.veilig_thuis_oin, &mut bad);
        let request_id =
            parsed_field::<crate::ids::InformationRequestId>("request_id", &r.request_id, &mut bad);
        let answer = match &r.answer {
            Some(env) => crate::wire::envelope_from_pb("answer", env, &mut bad),
            None => None,
        };
        let categories = name_list("categories", &r.categories, &mut bad);
        let basis = crate::wire::basis_from_pb(&r.basis.clone().unwrap_or_default(), &mut bad);
        let decline_reason = optional_code(
            "decline_reason",
            r.decline_reason,
            decline_from_pb,
            &mut bad,
        );
        let acting_role =
            super::super::basis::optional_name("acting_role", &r.acting_role, &mut bad);
        crate::flows::reject(bad)?;
        Ok(AnswerInformation {
            vt: parsed(vt, "veilig_thuis_oin")?,
            request_id: parsed(request_id, "request_id")?,
            answer,
            categories,
            basis,
            decline_reason,
            acting_role,
        })
    }
}

/// `SetMeldingStage`.
pub(super) async fn set_melding_stage(
    ctx: &Ctx,
    request: Request<pb::SetMeldingStageRequest>,
) -> Result<Response<pb::SetMeldingStageResponse>, Status> {
    let c = caller(&request)?;
    let cmd = SetStage::try_from(request.into_inner())?;
    let s = stage::set_stage(ctx, &c, cmd).await?;
    Ok(Response::new(pb::SetMeldingStageResponse {
        stages: Some(stages_to_pb(&s)),
    }))
}

/// `GetMeldingStages`.
pub(super) async fn get_melding_stages(
    ctx: &Ctx,
    request: Request<pb::GetMeldingStagesRequest>,
) -> Result<Response<pb::GetMeldingStagesResponse>, Status> {
    let c = caller(&request)?;
    let r = request.into_inner();
    let mut bad = Vec::new();
    let melding = melding_from_pb(&r.zorgmelding_id, r.signal.as_ref(), &mut bad);
    let acting_role = super::super::basis::optional_name("acting_role", &r.acting_role, &mut bad);
    crate::flows::reject(bad)?;
    let s = stage::stages(
        ctx,
        &c,
        &parsed(melding, "zorgmelding_id")?,
        acting_role.as_ref(),
    )
    .await?;
    Ok(Response::new(pb::GetMeldingStagesResponse {
        stages: Some(stages_to_pb(&s)),
    }))
}

/// `ListMeldingen`.
pub(super) async fn list_meldingen(
    ctx: &Ctx,
    request: Request<pb::ListMeldingenRequest>,
) -> Result<Response<pb::ListMeldingenResponse>, Status> {
    let c = caller(&request)?;
    let cmd = ListMeldingen::try_from(request.into_inner())?;
    let page = stage::list_meldingen(ctx, &c, cmd).await?;
    Ok(Response::new(pb::ListMeldingenResponse {
        meldingen: page
            .meldingen
            .iter()
            .map(|m| listed_to_pb(m, page.now))
            .collect(),
        next_page_token: page.next.map(|k| k.token()).unwrap_or_default(),
    }))
}

/// `RequestInformation`.
pub(super) async fn request_information(
    ctx: &Ctx,
    request: Request<pb::RequestInformationRequest>,
) -> Result<Response<pb::RequestInformationResponse>, Status> {
    let c = caller(&request)?;
    let cmd = RequestInformation::try_from(request.into_inner())?;
    let done = information::request_information(ctx, &c, cmd).await?;
    Ok(Response::new(pb::RequestInformationResponse {
        request: Some(request_to_pb(&done.request, c.oin().as_str())),
        decision: done.decision.as_ref().map(decision_to_pb),
        duplicate: done.duplicate,
    }))
}

/// `ListInformationRequests`.
pub(super) async fn list_information_requests(
    ctx: &Ctx,
    request: Request<pb::ListInformationRequestsRequest>,
) -> Result<Response<pb::ListInformationRequestsResponse>, Status> {
    let c = caller(&request)?;
    let r = request.into_inner();
    let acting_role = super::super::basis::acting_role(&r.acting_role)?;
    let all = information::list_information_requests(ctx, &c, r.sent, acting_role.as_ref()).await?;
    Ok(Response::new(pb::ListInformationRequestsResponse {
        requests: all
            .iter()
            .map(|q| request_to_pb(q, c.oin().as_str()))
            .collect(),
    }))
}

/// `AnswerInformation`.
pub(super) async fn answer_information(
    ctx: &Ctx,
    request: Request<pb::AnswerInformationRequest>,
) -> Result<Response<pb::AnswerInformationResponse>, Status> {
    let c = caller(&request)?;
    let cmd = AnswerInformation::try_from(request.into_inner())?;
    let done = information::answer_information(ctx, &c, cmd).await?;
    Ok(Response::new(pb::AnswerInformationResponse {
        request: Some(request_to_pb(&done.request, c.oin().as_str())),
        decision: done.decision.as_ref().map(decision_to_pb),
        duplicate: done.duplicate,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_and_decline_reason_has_its_wire_value_and_back() {
        for v in MeldingStage::ALL {
            assert_eq!(stage_from_pb(stage_to_pb(*v)), Some(*v));
        }
        for v in DeclineReason::ALL {
            assert_eq!(decline_from_pb(decline_to_pb(*v)), Some(*v));
        }
        assert_eq!(stage_from_pb(0), None);
        assert_eq!(decline_from_pb(99), None);
    }
}
