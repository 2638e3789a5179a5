//! `signaalhub.v1.SafetyPlanService`: the versioned safety plan (veiligheidsplan) of a case. The
//! agreements' text is a sealed envelope the hub cannot open; the hub keeps which agreement
//! concerns which party, who confirmed it, and decides each sharing by the convenant.
use super::basis::{MAX_LIST, denied, facts_from_pb, reject, truncate};
use super::status::{from_store, invalid};
use super::{caller, timestamp};
use crate::auth::Caller;
use crate::domain::directory::valid_key_id;
use crate::domain::involvement::{
    AgreementMeta, CATEGORY_SAFETY_PLAN, CaseView, MAX_AGREEMENTS, NotificationKind, PURPOSE,
    PlanVersion,
};
use crate::flows::envelope::{self, Expected};
use crate::flows::involvement::{
    case_decision, checked_basis, notification, party_case, retain_until, tell_parties,
};
use crate::flows::{Ctx, now};
use crate::ids::Oin;
use crate::ledger::{EntryOutcome, Event, PendingEntry};
use crate::store::StoreError;
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

/// The envelope binding's id of a plan version: `<case_id>.v<version>`.
pub fn plan_binding_id(case_id: &str, version: u32) -> String {
    format!("{case_id}.v{version}")
}

fn plan_to_pb(p: &PlanVersion, me: &str) -> pb::SafetyPlanVersion {
    pb::SafetyPlanVersion {
        case_id: p.case_id.clone(),
        version: p.version,
        author_oin: p.author_oin.clone(),
        published_at: Some(timestamp(p.published_at)),
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
                        oin: c.oin.clone(),
                        confirmed_at: Some(timestamp(c.confirmed_at)),
                    })
                    .collect(),
            })
            .collect(),
        // A version erased at the end of its retention has no envelope left.
        envelope: if !p.envelope.is_empty() && p.sealed_to.iter().any(|o| o == me) {
            pb::Envelope::decode(p.envelope.as_slice()).ok()
        } else {
            None
        },
        fully_confirmed: p.fully_confirmed(),
    }
}

#[allow(clippy::too_many_arguments)]
fn plan_entry(
    ctx: &Ctx,
    c: &Caller,
    role: &str,
    view: &CaseView,
    event: Event,
    outcome: EntryOutcome,
    recipient: Option<&str>,
    reference: String,
) -> PendingEntry {
    let mut e = ctx.entry(c, role, event, outcome);
    e.entry.subjects = view.subjects();
    e.entry.recipient_oin = recipient.map(str::to_owned);
    e.entry.categories = vec![CATEGORY_SAFETY_PLAN.into()];
    e.entry.purpose = Some(PURPOSE.into());
    e.entry.checks.relationship = true;
    e.entry.reference = Some(reference);
    e
}

#[tonic::async_trait]
impl SafetyPlanService for SafetyPlanApi {
    async fn publish_safety_plan(
        &self,
        request: Request<pb::PublishSafetyPlanRequest>,
    ) -> Result<Response<pb::PublishSafetyPlanResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        // Only a party learns whether the case exists.
        let view = party_case(&self.ctx, &c, &r.case_id).await?;
        if view.case.id != r.case_id {
            return Err(Status::failed_precondition(format!(
                "case {} was merged into case {}: publish the plan there",
                truncate(&r.case_id),
                view.case.id
            )));
        }
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        if r.version == 0 {
            bad.push((
                "version",
                "1 for the first version, else the latest + 1".into(),
            ));
        }
        if r.agreements.is_empty() || r.agreements.len() > MAX_AGREEMENTS {
            bad.push(("agreements", format!("1 to {MAX_AGREEMENTS} agreements")));
        }
        let parties = view.party_oins();
        let mut agreements: Vec<AgreementMeta> = Vec::new();
        for a in r.agreements.iter().take(MAX_AGREEMENTS) {
            if !valid_key_id(&a.agreement_id) {
                bad.push(("agreements.agreement_id", "1-64 of A-Za-z0-9._-".into()));
            } else if agreements.iter().any(|x| x.id == a.agreement_id) {
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
            let mut ps: Vec<String> = Vec::new();
            for o in &a.party_oins {
                match o.parse::<Oin>() {
                    Ok(o) if parties.iter().any(|p| p == o.as_str()) => {
                        if !ps.iter().any(|p| p == o.as_str()) {
                            ps.push(o.to_string());
                        }
                    }
                    Ok(o) => bad.push((
                        "agreements.party_oins",
                        format!("{o} is not an active party of the case"),
                    )),
                    Err(e) => bad.push(("agreements.party_oins", e.to_string())),
                }
            }
            agreements.push(AgreementMeta {
                id: a.agreement_id.clone(),
                parties: ps,
                family: a.concerns_family,
            });
        }
        let facts = facts_from_pb(r.subject.as_ref(), &mut bad);
        let basis = crate::wire::basis_from_pb(&r.basis.clone().unwrap_or_default(), &mut bad);
        let consents = checked_basis(&self.ctx, &basis, None, true, &mut bad).await?;
        let subjects = view.subjects();
        if consents.iter().any(|k| {
            !subjects
                .iter()
                .any(|s| self.ctx.pseudonymizer.same_person(s, k.subject.as_str()))
        }) {
            bad.push((
                "basis.consent_ids",
                "every consent must be about a person of this case".into(),
            ));
        }
        match r.envelope.as_ref() {
            None => bad.push((
                "envelope",
                "the plan sealed to every party is required (seal it with client-lib)".into(),
            )),
            Some(env) => {
                if let Some(sealed) = crate::wire::envelope_from_pb("envelope", env, &mut bad) {
                    let binding_id = plan_binding_id(&r.case_id, r.version);
                    envelope::check(
                        &self.ctx,
                        &sealed,
                        Expected {
                            sender: c.oin().as_str(),
                            signal_id: &binding_id,
                            purpose: PURPOSE,
                            categories: &[CATEGORY_SAFETY_PLAN.to_owned()],
                            basis_reference: &basis.reference(),
                            recipients: None,
                        },
                        &mut bad,
                    );
                }
            }
        }
        reject(bad)?;
        let env = r.envelope.clone().unwrap_or_default();
        let t = now();
        let me = c.oin().to_string();
        let plan = PlanVersion {
            case_id: view.case.id.clone(),
            version: r.version,
            author_oin: me.clone(),
            author_professional: c.professional.id.clone(),
            envelope: env.encode_to_vec(),
            sealed_to: env
                .sealed_keys
                .iter()
                .map(|k| k.recipient_oin.clone())
                .collect(),
            agreements,
            published_at: t,
            retain_until: retain_until(&self.ctx, PURPOSE, t),
            confirmations: Vec::new(),
        };
        let reference = format!("{}.v{}", plan.case_id, plan.version);
        let ctx = &self.ctx;
        let sealed = plan.sealed_to.clone();
        let result = ctx
            .store
            .publish_plan(&plan, &basis.consent_ids, |view, consents| {
                let parties = view.party_oins();
                // Sealed to exactly the parties as they stand inside the transaction.
                let mut missing: Vec<&String> =
                    parties.iter().filter(|p| !sealed.contains(p)).collect();
                missing.dedup();
                let extra: Vec<&String> = sealed.iter().filter(|s| !parties.contains(s)).collect();
                if !missing.is_empty() || !extra.is_empty() {
                    return Err((
                        Vec::new(),
                        invalid(&[(
                            "envelope.sealed_keys",
                            format!(
                                "seal the plan to exactly the active parties of the case ({}); missing [{}], not parties [{}]",
                                parties.join(", "),
                                missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                                extra.iter().map(|s| truncate(s)).collect::<Vec<_>>().join(", ")
                            ),
                        )]),
                    ));
                }
                let mut denials = Vec::new();
                let mut first_denial = None;
                for p in parties.iter().filter(|p| **p != me) {
                    let d = case_decision(ctx, &me, &role, p, CATEGORY_SAFETY_PLAN, &basis, consents, &facts);
                    if !d.is_allowed() {
                        let mut e = plan_entry(ctx, &c, &role, view, Event::SafetyPlanDenied, EntryOutcome::Denied, Some(p), reference.clone());
                        e.entry.basis = basis.log_strings();
                        e.entry.reasons = d.reasons.iter().map(|r| r.code.as_str().to_owned()).collect();
                        denials.push(e);
                        if first_denial.is_none() {
                            first_denial = Some(denied(&format!("sharing the safety plan with {p} refused"), &d));
                        }
                    }
                }
                if let Some(status) = first_denial {
                    return Err((denials, status));
                }
                let mut own = plan_entry(ctx, &c, &role, view, Event::SafetyPlanPublished, EntryOutcome::Recorded, None, reference.clone());
                own.entry.basis = basis.log_strings();
                Ok(tell_parties(view, &me, own, |other| {
                    let mut e = plan_entry(ctx, &c, &role, view, Event::SafetyPlanPublished, EntryOutcome::Disclosed, Some(&other.org_oin), reference.clone());
                    e.entry.basis = basis.log_strings();
                    e.entry.checks.consent = !basis.consent_ids.is_empty();
                    let mut n = notification(
                        ctx,
                        &c,
                        &other.org_oin,
                        NotificationKind::SafetyPlanPublished,
                        format!(
                            "{} legde versie {} van het veiligheidsplan van casus {} vast. Lees het en bevestig de afspraken die uw organisatie aangaan.",
                            ctx.name_of(&me),
                            plan.version,
                            view.case.id
                        ),
                    );
                    n.case_id = Some(view.case.id.clone());
                    n.plan_version = Some(plan.version);
                    n.involvement_id = Some(other.id.clone());
                    (e, n)
                }))
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(m) => Status::aborted(format!(
                    "{m}: read the latest version with GetSafetyPlan and publish the next one"
                )),
                other => from_store(other),
            })?;
        let stored = result?;
        self.wake.notify_waiters();
        Ok(Response::new(pb::PublishSafetyPlanResponse {
            plan: Some(plan_to_pb(&stored, &me)),
        }))
    }

    async fn get_safety_plan(
        &self,
        request: Request<pb::GetSafetyPlanRequest>,
    ) -> Result<Response<pb::GetSafetyPlanResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        let r = request.into_inner();
        let view = party_case(&self.ctx, &c, &r.case_id).await?;
        let plan = self
            .ctx
            .store
            .get_plan(&r.case_id, r.version)
            .await
            .map_err(from_store)?
            .ok_or_else(|| {
                Status::not_found(if r.version == 0 {
                    format!("case {} has no safety plan yet", truncate(&r.case_id))
                } else {
                    format!(
                        "case {} has no safety plan version {}",
                        truncate(&r.case_id),
                        r.version
                    )
                })
            })?;
        // Reading the sealed plan is logged first (fail closed); an erased version has nothing
        // left to read.
        if !plan.envelope.is_empty() {
            let e = plan_entry(
                &self.ctx,
                &c,
                &role,
                &view,
                Event::SafetyPlanRead,
                EntryOutcome::Recorded,
                None,
                format!("{}.v{}", plan.case_id, plan.version),
            );
            self.ctx
                .store
                .append_log(std::slice::from_ref(&e))
                .await
                .map_err(from_store)?;
        }
        Ok(Response::new(pb::GetSafetyPlanResponse {
            plan: Some(plan_to_pb(&plan, c.oin().as_str())),
        }))
    }

    async fn confirm_safety_plan(
        &self,
        request: Request<pb::ConfirmSafetyPlanRequest>,
    ) -> Result<Response<pb::ConfirmSafetyPlanResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        party_case(&self.ctx, &c, &r.case_id).await?;
        if r.version == 0 {
            return Err(invalid(&[(
                "version",
                "the version whose agreements you confirm".into(),
            )]));
        }
        let plan = self
            .ctx
            .store
            .get_plan(&r.case_id, r.version)
            .await
            .map_err(from_store)?
            .ok_or_else(|| {
                Status::not_found(format!(
                    "case {} has no safety plan version {}",
                    truncate(&r.case_id),
                    r.version
                ))
            })?;
        if plan.envelope.is_empty() {
            return Err(Status::failed_precondition(format!(
                "safety plan version {} was erased at the end of its retention; confirm a later version",
                r.version
            )));
        }
        let me = c.oin().to_string();
        let concerns = |id: &str| {
            plan.agreements
                .iter()
                .any(|a| a.id == id && a.parties.contains(&me))
        };
        let ids: Vec<String> = if r.agreement_ids.is_empty() {
            plan.agreements
                .iter()
                .filter(|a| a.parties.contains(&me))
                .map(|a| a.id.clone())
                .collect()
        } else {
            let mut bad = Vec::new();
            if r.agreement_ids.len() > MAX_AGREEMENTS {
                bad.push(("agreement_ids", format!("at most {MAX_AGREEMENTS}")));
            }
            for id in &r.agreement_ids {
                if !concerns(id) {
                    bad.push((
                        "agreement_ids",
                        format!(
                            "agreement {:?} of version {} does not concern your organisation",
                            truncate(id),
                            r.version
                        ),
                    ));
                }
            }
            reject(bad)?;
            r.agreement_ids.clone()
        };
        if ids.is_empty() {
            return Err(Status::failed_precondition(format!(
                "no agreement of safety plan version {} concerns your organisation",
                r.version
            )));
        }
        let reference = format!("{}.v{}", plan.case_id, plan.version);
        let ctx = &self.ctx;
        ctx.store
            .confirm_plan(
                &plan.case_id,
                plan.version,
                &me,
                &c.professional.id,
                &ids,
                now(),
                |view| {
                    let own = plan_entry(ctx, &c, &role, view, Event::SafetyPlanConfirmed, EntryOutcome::Recorded, None, reference.clone());
                    tell_parties(view, &me, own, |other| {
                        let e = plan_entry(ctx, &c, &role, view, Event::SafetyPlanConfirmed, EntryOutcome::Disclosed, Some(&other.org_oin), reference.clone());
                        let mut n = notification(
                            ctx,
                            &c,
                            &other.org_oin,
                            NotificationKind::SafetyPlanConfirmed,
                            format!(
                                "{} bevestigde afspraken {} van versie {} van het veiligheidsplan (casus {}).",
                                ctx.name_of(&me),
                                ids.join(", "),
                                plan.version,
                                view.case.id
                            ),
                        );
                        n.case_id = Some(view.case.id.clone());
                        n.plan_version = Some(plan.version);
                        n.involvement_id = Some(other.id.clone());
                        (e, n)
                    })
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => Status::not_found(format!(
                    "no case {:?} with your organisation as an active party",
                    truncate(&r.case_id)
                )),
                other => from_store(other),
            })?;
        self.wake.notify_waiters();
        let plan = ctx
            .store
            .get_plan(&plan.case_id, plan.version)
            .await
            .map_err(from_store)?
            .ok_or_else(|| Status::unavailable("the plan disappeared; try again"))?;
        Ok(Response::new(pb::ConfirmSafetyPlanResponse {
            plan: Some(plan_to_pb(&plan, &me)),
        }))
    }
}
