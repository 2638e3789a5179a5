//! `signaalhub.v1.PolicyService`: "may I send this?", decided exactly as the real disclosure
//! (`flows::policy::check_basis`), plus the disclosure request builder the services not yet
//! moved onto the flows layer share.
use super::basis::{ask_from_pb, bsn_from_pb, decision_to_pb, reject};
use super::caller;
use crate::auth::Caller;
use crate::domain::consent::Consent;
use crate::flows::decision::{Party, Question};
use crate::flows::policy::{
    CheckBasis, active_recipient, check_names, consents_about, presented_consents,
};
use crate::flows::{Ctx, now};
use crate::ids::{Oin, SubjectKey};
use signaalhub_policy as policy;
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
            recipient_oin: r.recipient_oin,
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

/// What a disclosure request says, as the wire gives it.
#[derive(Debug, Clone, Copy)]
pub struct DisclosureInput<'a> {
    /// Recipient OIN.
    pub recipient_oin: &'a str,
    /// Purpose.
    pub purpose: &'a str,
    /// Categories.
    pub categories: &'a [String],
    /// BSN of the subject.
    pub subject_bsn: &'a str,
    /// Facts.
    pub subject: Option<&'a pb::SubjectFacts>,
    /// Basis.
    pub basis: Option<&'a pb::Basis>,
    /// Acting role.
    pub acting_role: &'a str,
    /// Purpose the data was received for.
    pub received_for: &'a str,
    /// Recorded exemption from informing the family.
    pub inform_exemption: &'a str,
}

/// A validated disclosure request: what the policy decides on, plus what the caller needs after.
#[derive(Debug, Clone)]
pub struct Disclosure {
    /// The policy question.
    pub request: policy::DecisionRequest,
    /// The subject (its pseudonym under every key version; `current()` is stored).
    pub subject: SubjectKey,
    /// The recipient.
    pub recipient: Oin,
    /// The consents presented that concern the subject (the order of `request.basis.consents`).
    pub consents: Vec<Consent>,
    /// The role acted in.
    pub role: String,
}

/// Validates wire input into a policy question (through the flows layer's checks and its one
/// request builder). Bad fields are `INVALID_ARGUMENT` with details.
pub async fn disclosure(
    ctx: &Ctx,
    c: &Caller,
    i: DisclosureInput<'_>,
) -> Result<Disclosure, Status> {
    let role = ctx.acting_role(c, i.acting_role)?;
    let mut bad: Vec<(&'static str, String)> = Vec::new();
    let recipient = active_recipient(ctx, "recipient_oin", i.recipient_oin, &mut bad);
    let subject =
        bsn_from_pb("subject_bsn", i.subject_bsn, &mut bad).map(|b| ctx.pseudonymizer.subject(&b));
    let ask = ask_from_pb(
        i.purpose,
        i.categories,
        i.subject,
        i.basis,
        &role,
        i.received_for,
        i.inform_exemption,
        &mut bad,
    );
    check_names(ctx, &ask, &mut bad);
    reject(std::mem::take(&mut bad))?;
    let (Some(subject), Some(recipient)) = (subject, recipient) else {
        return Err(Status::internal("validation inconsistency"));
    };
    let consents =
        presented_consents(ctx, &ask.basis, std::slice::from_ref(&subject), &mut bad).await?;
    reject(bad)?;
    let t = now();
    let recipient_involved =
        crate::flows::policy::recipient_involved(ctx, &recipient.oin, &subject, t).await?;
    let mine = consents_about(&ask.basis, &consents, &subject);
    let request = ctx.request(&Question {
        actor: Party::new(c.oin().as_str(), c.sector().as_str()),
        role: &role,
        recipient: recipient.clone(),
        purpose: &ask.purpose,
        categories: &ask.categories,
        facts: &ask.facts,
        basis: &ask.basis,
        consents: &mine,
        recipient_involved,
        received_for: ask.received_for.as_deref(),
        inform_exemption: ask.inform_exemption.as_deref(),
        now: t,
    });
    let consents = mine.into_iter().cloned().collect();
    let recipient = recipient
        .oin
        .parse::<Oin>()
        .map_err(|_| Status::internal("validation inconsistency"))?;
    Ok(Disclosure {
        request,
        subject,
        recipient,
        consents,
        role,
    })
}
