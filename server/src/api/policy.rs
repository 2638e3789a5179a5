//! `signaalhub.v1.PolicyService`: "may I send this?" and the request builder every disclosure
//! shares, so that the dry run and the real send decide identically.
use super::basis::{
    MAX_LIST, check_names, facts_from_pb, facts_to_policy, legal_from_pb, reject, truncate,
};
use super::caller;
use super::ctx::{Ctx, now};
use super::status::from_store;
use crate::auth::Caller;
use crate::domain::consent::Consent;
use crate::domain::directory::OrgStatus;
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
    /// The consents presented (same order as `request.basis.consents`).
    pub consents: Vec<Consent>,
    /// The role acted in.
    pub role: String,
}

/// Validates wire input into a policy question. Bad fields are `INVALID_ARGUMENT` with details.
pub async fn disclosure(
    ctx: &Ctx,
    c: &Caller,
    i: DisclosureInput<'_>,
) -> Result<Disclosure, Status> {
    let role = ctx.acting_role(c, i.acting_role)?;
    let mut bad: Vec<(&'static str, String)> = Vec::new();
    let p = &ctx.policy;
    let recipient = match i.recipient_oin.parse::<Oin>() {
        Ok(o) => Some(o),
        Err(e) => {
            bad.push(("recipient_oin", e.to_string()));
            None
        }
    };
    let dir = ctx.directory.snapshot();
    let recipient_sector = recipient.as_ref().and_then(|r| match dir.orgs.get(r) {
        Some(e) if e.org.status == OrgStatus::Active => Some(e.org.sector.to_string()),
        _ => {
            bad.push((
                "recipient_oin",
                format!("{r} is not an active organisation in the directory"),
            ));
            None
        }
    });
    if !p.is_known_purpose(i.purpose) {
        bad.push((
            "purpose",
            format!(
                "{:?} is not a purpose declared in the convenant",
                truncate(i.purpose)
            ),
        ));
    }
    check_names(
        "categories",
        i.categories,
        |n| p.is_known_category(n),
        true,
        &mut bad,
    );
    let subject = ctx.subject("subject_bsn", i.subject_bsn, &mut bad);
    let mut facts = facts_from_pb(i.subject, &mut bad);
    let basis = i.basis.cloned().unwrap_or_default();
    let legal = basis
        .legal
        .as_ref()
        .map(|l| legal_from_pb(l, |b| p.is_known_basis(b), &mut bad));
    if basis.consent_ids.len() > MAX_LIST {
        bad.push(("basis.consent_ids", format!("at most {MAX_LIST}")));
    }
    if legal.is_none() && basis.consent_ids.is_empty() {
        bad.push((
            "basis",
            "give a legal basis with its evidence, or the ids of recorded consents".into(),
        ));
    }
    let received_for = if i.received_for.is_empty() {
        None
    } else if p.is_known_purpose(i.received_for) {
        Some(i.received_for.to_owned())
    } else {
        bad.push((
            "received_for",
            "not a purpose declared in the convenant".into(),
        ));
        None
    };
    let inform_exemption = (!i.inform_exemption.is_empty()).then(|| truncate(i.inform_exemption));
    reject(std::mem::take(&mut bad))?;
    let (Some(subject), Some(recipient), Some(recipient_sector)) =
        (subject, recipient, recipient_sector)
    else {
        return Err(Status::internal("validation inconsistency"));
    };
    let consents = if basis.consent_ids.is_empty() {
        Vec::new()
    } else {
        ctx.store
            .get_consents(&basis.consent_ids)
            .await
            .map_err(from_store)?
    };
    for id in &basis.consent_ids {
        match consents.iter().find(|c| &c.id == id) {
            None => bad.push((
                "basis.consent_ids",
                format!("no consent {:?} is recorded", truncate(id)),
            )),
            Some(c) if !subject.matches(c.subject.as_str()) => bad.push((
                "basis.consent_ids",
                format!("consent {id} was given about another person than subject_bsn"),
            )),
            Some(_) => {}
        }
    }
    reject(bad)?;
    // Facts the sender leaves out are taken from the consent they present.
    let no_facts =
        facts.age_years.is_none() && facts.age_band.is_none() && facts.gezag_holders.is_empty();
    if no_facts && let Some(first) = consents.first() {
        facts = first.facts.clone();
    }
    let t = now();
    // Flows that require involvement (e.g. the maatregel answer) ask the involvement register.
    let recipient_involved = ctx
        .store
        .is_involved(recipient.as_str(), subject.all(), t)
        .await
        .map_err(from_store)?;
    let request = policy::DecisionRequest {
        actor: policy::Actor {
            oin: c.oin().to_string(),
            sector: c.sector().to_string(),
            role: role.clone(),
        },
        recipient: policy::Recipient {
            oin: recipient.to_string(),
            sector: recipient_sector,
        },
        purpose: i.purpose.to_owned(),
        categories: i.categories.to_vec(),
        subject: facts_to_policy(&facts),
        basis: policy::PresentedBasis {
            legal,
            consents: consents.iter().map(|c| c.to_policy(t)).collect(),
        },
        recipient_involved,
        received_for,
        inform_exemption,
        now: t,
    };
    Ok(Disclosure {
        request,
        subject,
        recipient,
        consents,
        role,
    })
}

#[tonic::async_trait]
impl PolicyService for PolicyApi {
    async fn check_basis(
        &self,
        request: Request<pb::CheckBasisRequest>,
    ) -> Result<Response<pb::CheckBasisResponse>, Status> {
        let c = caller(&request)?;
        let r = request.get_ref();
        let d = disclosure(
            &self.ctx,
            &c,
            DisclosureInput {
                recipient_oin: &r.recipient_oin,
                purpose: &r.purpose,
                categories: &r.categories,
                subject_bsn: &r.subject_bsn,
                subject: r.subject.as_ref(),
                basis: r.basis.as_ref(),
                acting_role: &r.acting_role,
                received_for: &r.received_for,
                inform_exemption: &r.inform_exemption,
            },
        )
        .await?;
        let decision = self.ctx.policy.decide(&d.request);
        crate::metrics::decision(&decision);
        Ok(Response::new(pb::CheckBasisResponse {
            decision: Some(super::basis::decision_to_pb(&decision)),
        }))
    }
}

/// Decides each request (one per subject of a disclosure) and counts it; the disclosure is
/// allowed only when every one is: the first denial, else the last decision. No request at all
/// is decided as an empty request, which denies (fail closed).
pub(crate) fn decide_each(
    ctx: &Ctx,
    requests: impl IntoIterator<Item = policy::DecisionRequest>,
) -> policy::Decision<'_> {
    let mut last = None;
    for req in requests {
        let d = ctx.policy.decide(&req);
        crate::metrics::decision(&d);
        if !d.is_allowed() {
            return d;
        }
        last = Some(d);
    }
    last.unwrap_or_else(|| ctx.policy.decide(&policy::DecisionRequest::default()))
}
