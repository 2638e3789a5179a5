//! `signaalhub.v1.PolicyService`: "may I send this?", decided exactly as the real disclosure
//! (`flows::policy::check_basis`).
use super::basis::{ask_from_pb, bsn_from_pb, decision_to_pb};
use super::caller;
use crate::flows::Ctx;
use crate::flows::policy::CheckBasis;
use signaalhub_proto::pb;
use signaalhub_proto::pb::policy_service_server::PolicyService;
use tonic::{Request, Response, Status};

/// The PolicyService.
#[derive(Debug, Clone)]
pub struct PolicyApi {
    ctx: Ctx,
}

impl PolicyApi {
    /// On shared state.
    pub fn new(ctx: Ctx) -> Self {
        PolicyApi { ctx }
    }
}

impl From<pb::CheckBasisRequest> for CheckBasis {
    fn from(r: pb::CheckBasisRequest) -> Self {
        let mut bad = Vec::new();
        let recipient_oin = super::basis::parsed_field("recipient_oin", &r.recipient_oin, &mut bad);
        let subject = bsn_from_pb("subject_bsn", &r.subject_bsn, &mut bad);
        let ask = ask_from_pb(
            &r.purpose,
            &r.categories,
            r.subject.as_ref(),
            r.basis.as_ref(),
            &r.acting_role,
            &r.received_for,
            &r.inform_exemption,
            &mut bad,
        );
        CheckBasis {
            recipient_oin,
            subject,
            ask,
            invalid: bad,
        }
    }
}

#[tonic::async_trait]
impl PolicyService for PolicyApi {
    async fn check_basis(
        &self,
        request: Request<pb::CheckBasisRequest>,
    ) -> Result<Response<pb::CheckBasisResponse>, Status> {
        let c = caller(&request)?;
        let cmd = CheckBasis::from(request.into_inner());
        let decision = crate::flows::policy::check_basis(&self.ctx, &c, cmd).await?;
        Ok(Response::new(pb::CheckBasisResponse {
            decision: Some(decision_to_pb(&decision)),
        }))
    }
}
