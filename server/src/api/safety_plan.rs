//! `signaalhub.v1.SafetyPlanService`: the versioned safety plan (veiligheidsplan) of a case. The
//! rules live in `flows::safety_plan`; this is the wire.
use super::basis::{MAX_LIST, chosen_id, facts_from_pb};
use super::{caller, timestamp};
use crate::domain::involvement::{MAX_AGREEMENTS, PlanVersion};
use crate::flows::safety_plan::{self as flow, Agreement, ConfirmPlan, PublishPlan};
use crate::flows::{Ctx, FlowError};
use crate::ids::Oin;
use prost::Message;
use signaalhub_proto::pb;
use signaalhub_proto::pb::safety_plan_service_server::SafetyPlanService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The SafetyPlanService.
#[derive(Debug, Clone)]
pub struct SafetyPlanApi {
    ctx: Ctx,
    wake: Arc<tokio::sync::Notify>,
}

impl SafetyPlanApi {
    /// On shared state; `wake` is notified after parties were told.
    pub fn new(ctx: Ctx, wake: Arc<tokio::sync::Notify>) -> Self {
        SafetyPlanApi { ctx, wake }
    }
}

impl TryFrom<pb::PublishSafetyPlanRequest> for PublishPlan {
    type Error = FlowError;
    /// Structure only; what the edge finds wrong is said together with what the flow finds
    /// against the case, the convenant and the directory (a non-party learns nothing). A
    /// malformed case id is said at once, as the case lookup would.
    fn try_from(r: pb::PublishSafetyPlanRequest) -> Result<Self, FlowError> {
        let case_id = case_id_from_pb(&r.case_id)?;
        let mut bad = Vec::new();
        // The envelope's content is compared by its content digest; the role as resolved.
        let canonical = pb::PublishSafetyPlanRequest {
            envelope: None,
            acting_role: String::new(),
            ..r.clone()
        }
        .encode_to_vec();
        if r.version == 0 {
            bad.push((
                "version",
                "1 for the first version, else the latest + 1".into(),
            ));
        }
        if r.agreements.is_empty() || r.agreements.len() > MAX_AGREEMENTS {
            bad.push(("agreements", format!("1 to {MAX_AGREEMENTS} agreements")));
        }
        let mut agreements: Vec<Agreement> = Vec::new();
        for a in r.agreements.iter().take(MAX_AGREEMENTS) {
            let id = chosen_id::<crate::ids::Agreement>(
                "agreements.agreement_id",
                &a.agreement_id,
                "1-64 of A-Za-z0-9._-",
                &mut bad,
            );
            if id.is_some() && agreements.iter().any(|x| x.id == a.agreement_id) {
                bad.push(("agreements.agreement_id", "each agreement once".into()));
            }
            if a.party_oins.len() > MAX_LIST {
                bad.push(("agreements.party_oins", format!("at most {MAX_LIST}")));
            }
            if a.party_oins.is_empty() && !a.concerns_family {
                bad.push((
                    "agreements.party_oins",
                    "an agreement concerns at least one party or the family".into(),
                ));
            }
            let mut parties = Vec::new();
            for o in &a.party_oins {
                match o.parse::<Oin>() {
                    Ok(o) => parties.push(o.to_string()),
                    Err(e) => bad.push(("agreements.party_oins", e.to_string())),
                }
            }
            agreements.push(Agreement {
                id: a.agreement_id.clone(),
                parties,
                family: a.concerns_family,
            });
        }
        let facts = facts_from_pb(r.subject.as_ref(), &mut bad);
        let basis = crate::wire::basis_from_pb(&r.basis.unwrap_or_default(), &mut bad);
        let envelope = match r.envelope.as_ref() {
            None => {
                bad.push((
                    "envelope",
                    "the plan sealed to every party is required (seal it with client-lib)".into(),
                ));
                None
            }
            Some(env) => crate::wire::envelope_from_pb("envelope", env, &mut bad),
        };
        Ok(PublishPlan {
            case_id,
            version: r.version,
            agreements,
            facts,
            basis,
            envelope,
            acting_role: super::basis::acting_role(&r.acting_role)?,
            review_at: r.review_at.map(|t| t.seconds),
            invalid: bad,
            canonical,
        })
    }
}

/// A case id as the hub gave it; malformed is said under `case_id`.
fn case_id_from_pb(s: &str) -> Result<crate::ids::CaseId, FlowError> {
    s.parse()
        .map_err(|_| FlowError::invalid("case_id", "a case id such as k_3f9a…"))
}

impl TryFrom<pb::ConfirmSafetyPlanRequest> for ConfirmPlan {
    type Error = FlowError;
    fn try_from(r: pb::ConfirmSafetyPlanRequest) -> Result<Self, FlowError> {
        let case_id = case_id_from_pb(&r.case_id)?;
        let agreement_ids = r
            .agreement_ids
            .iter()
            .map(|a| a.parse())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                FlowError::invalid(
                    "agreement_ids",
                    "agreement ids as the plan names them (1-64 of A-Za-z0-9._-)",
                )
            })?;
        Ok(ConfirmPlan {
            case_id,
            version: r.version,
            agreement_ids,
            acting_role: super::basis::acting_role(&r.acting_role)?,
        })
    }
}

fn plan_to_pb(p: &PlanVersion, me: &str) -> pb::SafetyPlanVersion {
    pb::SafetyPlanVersion {
        case_id: p.case_id.to_string(),
        version: p.version,
        author_oin: p.author_oin.to_string(),
        published_at: Some(timestamp(p.published_at)),
        review_at: p.review_at.map(timestamp),
        agreements: p
            .agreements
            .iter()
            .map(|a| pb::AgreementMeta {
                agreement_id: a.id.clone(),
                party_oins: a.parties.clone(),
                concerns_family: a.family,
                confirmations: p
                    .confirmations
                    .iter()
                    .filter(|c| c.agreement_id == a.id)
                    .map(|c| pb::AgreementConfirmation {
                        oin: c.oin.to_string(),
                        confirmed_at: Some(timestamp(c.confirmed_at)),
                    })
                    .collect(),
            })
            .collect(),
        // A version erased at the end of its retention has no envelope left.
        envelope: if !p.envelope.is_empty() && p.sealed_to.iter().any(|o| o == me) {
            crate::wire::decode_envelope(&p.envelope)
        } else {
            None
        },
        fully_confirmed: p.fully_confirmed(),
    }
}

#[tonic::async_trait]
impl SafetyPlanService for SafetyPlanApi {
    async fn publish_safety_plan(
        &self,
        request: Request<pb::PublishSafetyPlanRequest>,
    ) -> Result<Response<pb::PublishSafetyPlanResponse>, Status> {
        let c = caller(&request)?;
        let cmd = PublishPlan::try_from(request.into_inner())?;
        let published = flow::publish(&self.ctx, &c, cmd).await?;
        if !published.duplicate {
            self.wake.notify_waiters();
        }
        Ok(Response::new(pb::PublishSafetyPlanResponse {
            plan: Some(plan_to_pb(&published.plan, c.oin().as_str())),
            duplicate: published.duplicate,
        }))
    }

    async fn get_safety_plan(
        &self,
        request: Request<pb::GetSafetyPlanRequest>,
    ) -> Result<Response<pb::GetSafetyPlanResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let plan = flow::get(
            &self.ctx,
            &c,
            &r.case_id,
            r.version,
            super::basis::acting_role(&r.acting_role)?.as_ref(),
        )
        .await?;
        Ok(Response::new(pb::GetSafetyPlanResponse {
            plan: Some(plan_to_pb(&plan, c.oin().as_str())),
        }))
    }

    async fn confirm_safety_plan(
        &self,
        request: Request<pb::ConfirmSafetyPlanRequest>,
    ) -> Result<Response<pb::ConfirmSafetyPlanResponse>, Status> {
        let c = caller(&request)?;
        let cmd = ConfirmPlan::try_from(request.into_inner())?;
        let plan = flow::confirm(&self.ctx, &c, cmd).await?;
        self.wake.notify_waiters();
        Ok(Response::new(pb::ConfirmSafetyPlanResponse {
            plan: Some(plan_to_pb(&plan, c.oin().as_str())),
        }))
    }
}
