//! The versioned safety plan (veiligheidsplan) of a case. The agreements' text is a sealed
//! envelope the hub cannot open; the hub keeps which agreement concerns which party, who
//! confirmed it, and decides each sharing by the convenant.
use super::envelope::{self, Expected};
use super::error::{FlowError, FlowResult, Violations, echo, reject};
use super::idempotency::{self, Fingerprint};
use super::involvement::{
    case_decision, case_entry, checked_basis, notification, party_case, retain_until, tell_parties,
};
use super::{Ctx, now};
use crate::auth::Caller;
use crate::domain::basis::Basis;
use crate::domain::consent::{Consent, Facts};
use crate::domain::envelope::SealedEnvelope;
use crate::domain::involvement::{
    AgreementMeta, CATEGORY_SAFETY_PLAN, CaseView, MAX_AGREEMENTS, Notification, NotificationKind,
    PURPOSE, PlanVersion,
};
use crate::ids::Category;
use crate::ids::Role;
use crate::ids::{AgreementId, CaseId, InvolvementId, Oin};
use crate::ledger::{EntryOutcome, Event, PendingEntry};
use crate::store::{Clash, StoreError};

/// The envelope binding's id of a plan version: `<case_id>.v<version>`.
pub fn plan_binding_id(case_id: &str, version: u32) -> String {
    format!("{case_id}.v{version}")
}

/// An agreement as the request states it (its id and party OINs checked for structure).
#[derive(Debug, Clone)]
pub struct Agreement {
    /// Agreement id, unique in the version.
    pub id: String,
    /// The organisations it concerns (valid OINs, as written).
    pub parties: Vec<String>,
    /// Whether it concerns the family.
    pub family: bool,
}

/// `PublishSafetyPlan`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct PublishPlan {
    /// The case.
    pub case_id: CaseId,
    /// The version: the latest + 1.
    pub version: u32,
    /// The agreements' metadata.
    pub agreements: Vec<Agreement>,
    /// Facts about the subject as stated.
    pub facts: Facts,
    /// The basis presented.
    pub basis: Basis,
    /// The plan sealed to every party (`None`: missing or malformed, said in `invalid`).
    pub envelope: Option<SealedEnvelope>,
    /// The role acted in.
    pub acting_role: Option<Role>,
    /// When the parties review the plan (unix seconds; after now, within two years).
    pub review_at: Option<i64>,
    /// What the edge found wrong; said together with the flow's findings.
    pub invalid: Violations,
    /// The request's own bytes without its envelope and role, for the idempotency hash.
    pub canonical: Vec<u8>,
}

/// What `PublishSafetyPlan` answers.
#[derive(Debug)]
pub struct Published {
    /// The version as stored.
    pub plan: PlanVersion,
    /// Whether this was a retry of a version the caller's organisation already published.
    pub duplicate: bool,
}

/// The binding a plan version's envelope must carry.
fn expected<'a>(
    caller: &'a Caller,
    binding_id: &'a str,
    reference: &'a str,
    categories: &'a [Category],
) -> Expected<'a> {
    Expected {
        sender: caller.oin().as_str(),
        binding_id,
        purpose: &PURPOSE,
        categories,
        basis_reference: reference,
        recipients: None,
    }
}

/// A version of the case this organisation already published, compared with a new publication
/// of it: `Ok(Some)` when it is a retry (the same metadata and content digest, however sealed),
/// `Err(ALREADY_EXISTS)` when it is other metadata or content, `Ok(None)` when the version is not
/// stored or is another party's (then the store answers the stale version).
async fn earlier_publication(
    ctx: &Ctx,
    caller: &Caller,
    (case_id, version): (&str, u32),
    request_hash: &[u8],
    content_digest: &[u8],
) -> FlowResult<Option<PlanVersion>> {
    let Some(plan) = ctx.store.get_plan(case_id, version).await? else {
        return Ok(None);
    };
    if plan.author_oin != caller.oin().as_str() {
        return Ok(None);
    }
    // A version published before the hub kept request hashes has no digest either: the
    // comparison then says a retry cannot be told from other content.
    let stored = Fingerprint {
        request_hash: plan.request_hash.as_deref().unwrap_or(request_hash),
        content_digest: plan.content_digest.as_deref(),
    };
    idempotency::compare(
        Some(stored),
        Fingerprint::new(request_hash, content_digest),
        &format!("safety plan version {version} of case {:?}", echo(case_id)),
    )?;
    Ok(Some(plan))
}

/// The entry of an act on a case's safety plan.
#[allow(clippy::too_many_arguments)]
fn plan_entry(
    ctx: &Ctx,
    c: &Caller,
    role: &Role,
    view: &CaseView,
    event: Event,
    outcome: EntryOutcome,
    recipient: Option<&str>,
    reference: String,
) -> PendingEntry {
    case_entry(
        ctx,
        c,
        role,
        view,
        &CATEGORY_SAFETY_PLAN,
        event,
        outcome,
        recipient,
        reference,
    )
}

/// The agreements with their parties, each an active party of the case.
fn agreements_of(
    view: &CaseView,
    given: Vec<Agreement>,
    bad: &mut Violations,
) -> Vec<AgreementMeta> {
    let parties = view.party_oins();
    given
        .into_iter()
        .map(|a| {
            let mut ps: Vec<String> = Vec::new();
            for o in a.parties {
                if !parties.iter().any(|p| *p == o) {
                    bad.push((
                        "agreements.party_oins",
                        format!("{o} is not an active party of the case"),
                    ));
                } else if !ps.contains(&o) {
                    ps.push(o);
                }
            }
            AgreementMeta {
                id: a.id,
                parties: ps,
                family: a.family,
            }
        })
        .collect()
}

/// Checks everything a publication says against the case, the convenant and the directory, and
/// returns the agreements and the consents presented.
async fn check_publication(
    ctx: &Ctx,
    caller: &Caller,
    view: &CaseView,
    cmd: &mut PublishPlan,
) -> FlowResult<(Vec<AgreementMeta>, Vec<Consent>)> {
    let mut bad = std::mem::take(&mut cmd.invalid);
    super::stage::check_review_at("review_at", cmd.review_at, now(), &mut bad);
    let agreements = agreements_of(view, std::mem::take(&mut cmd.agreements), &mut bad);
    let consents = checked_basis(ctx, &cmd.basis, None, true, &mut bad).await?;
    let subjects = view.subjects();
    if consents.iter().any(|k| {
        !subjects
            .iter()
            .any(|s| ctx.pseudonymizer.same_person(s, k.subject.as_str()))
    }) {
        bad.push((
            "basis.consent_ids",
            "every consent must be about a person of this case".into(),
        ));
    }
    if let Some(sealed) = &cmd.envelope {
        let binding_id = plan_binding_id(&cmd.case_id, cmd.version);
        let reference = cmd.basis.reference();
        let categories = [CATEGORY_SAFETY_PLAN.to_owned()];
        envelope::check(
            ctx,
            sealed,
            expected(caller, &binding_id, &reference, &categories),
            &mut bad,
        );
    }
    reject(bad)?;
    Ok((agreements, consents))
}

/// Sealed to exactly the parties as they stand (inside the publishing transaction).
fn sealed_to_the_parties(view: &CaseView, sealed: &[String]) -> FlowResult<()> {
    let parties = view.party_oins();
    let mut missing: Vec<&str> = parties
        .iter()
        .filter(|p| !sealed.iter().any(|s| **p == *s))
        .map(|p| p.as_str())
        .collect();
    missing.dedup();
    let extra: Vec<&String> = sealed
        .iter()
        .filter(|s| !parties.iter().any(|p| *p == **s))
        .collect();
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    Err(FlowError::invalid(
        "envelope.sealed_keys",
        format!(
            "seal the plan to exactly the active parties of the case ({}); missing [{}], not parties [{}]",
            parties
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            missing.join(", "),
            extra.iter().map(|s| echo(s)).collect::<Vec<_>>().join(", ")
        ),
    ))
}

/// `PublishSafetyPlan`: a party publishes the next version, sealed to exactly the parties; each
/// sharing with another party is decided (in the transaction, consents locked) and every party
/// told — or the publication is refused as a whole, logging each refusal. The author's retry of a
/// version it published (the same metadata and content digest) is answered as the first time,
/// other content under that version with `ALREADY_EXISTS`.
pub async fn publish(ctx: &Ctx, caller: &Caller, mut cmd: PublishPlan) -> FlowResult<Published> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    // Only a party learns whether the case exists.
    let view = party_case(ctx, caller, &cmd.case_id).await?;
    if view.case.id != cmd.case_id {
        return Err(FlowError::Precondition(format!(
            "case {} was merged into case {}: publish the plan there",
            echo(&cmd.case_id),
            view.case.id
        )));
    }
    let request_hash = idempotency::request_hash([cmd.canonical.as_slice(), role.as_bytes()]);
    let content_digest = cmd
        .envelope
        .as_ref()
        .map(|e| e.binding.content_digest.clone())
        .unwrap_or_default();
    // A retry is recognised once the request and its envelope's binding hold (so the digest is
    // there), before anything is decided again.
    if cmd.invalid.is_empty()
        && let Some(sealed) = &cmd.envelope
    {
        let binding_id = plan_binding_id(&cmd.case_id, cmd.version);
        let reference = cmd.basis.reference();
        let categories = [CATEGORY_SAFETY_PLAN.to_owned()];
        let mut bad = Vec::new();
        envelope::check_binding(
            sealed,
            expected(caller, &binding_id, &reference, &categories),
            &mut bad,
        );
        if bad.is_empty()
            && let Some(plan) = earlier_publication(
                ctx,
                caller,
                (&cmd.case_id, cmd.version),
                &request_hash,
                &content_digest,
            )
            .await?
        {
            return Ok(Published {
                plan,
                duplicate: true,
            });
        }
    }
    let (agreements, _) = check_publication(ctx, caller, &view, &mut cmd).await?;
    let Some(env) = cmd.envelope else {
        return Err(FlowError::invalid(
            "envelope",
            "the plan sealed to every party is required (seal it with client-lib)",
        ));
    };
    let t = now();
    let me = caller.oin().clone();
    let plan = PlanVersion {
        case_id: view.case.id.clone(),
        version: cmd.version,
        author_oin: me.clone(),
        author_professional: caller.professional.id.clone(),
        envelope: env.encoded,
        sealed_to: env.sealed_to.into_iter().map(|k| k.recipient_oin).collect(),
        agreements,
        published_at: t,
        retain_until: retain_until(ctx, &PURPOSE, t),
        request_hash: Some(request_hash.clone()),
        content_digest: Some(content_digest.clone()),
        confirmations: Vec::new(),
        review_at: cmd.review_at,
        review_state: cmd
            .review_at
            .map(|_| crate::domain::zorgmelding::ReviewState::Planned),
    };
    let reference = plan_binding_id(&plan.case_id, plan.version);
    let basis = &cmd.basis;
    let facts = &cmd.facts;
    let entry = |view: &CaseView, event, outcome, recipient: Option<&str>| {
        plan_entry(
            ctx,
            caller,
            &role,
            view,
            event,
            outcome,
            recipient,
            reference.clone(),
        )
        .basis_strings(basis.log_strings())
    };
    type Items = Vec<(PendingEntry, Option<Notification>)>;
    let decide =
        |view: &CaseView, consents: &[Consent]| -> Result<Items, (Vec<PendingEntry>, FlowError)> {
            sealed_to_the_parties(view, &plan.sealed_to).map_err(|e| (Vec::new(), e))?;
            let mut denials = Vec::new();
            let mut first_denial = None;
            for p in view.party_oins().iter().filter(|p| **p != me) {
                let d = case_decision(
                    ctx,
                    &me,
                    &role,
                    p,
                    &CATEGORY_SAFETY_PLAN,
                    basis,
                    consents,
                    facts,
                );
                if !d.is_allowed() {
                    let e = entry(view, Event::SafetyPlanDenied, EntryOutcome::Denied, Some(p))
                        .reasons(d.reasons.iter().map(|r| r.code.as_str()));
                    denials.push(e);
                    first_denial.get_or_insert_with(|| {
                        FlowError::denied(format!("sharing the safety plan with {p} refused"), &d)
                    });
                }
            }
            if let Some(e) = first_denial {
                return Err((denials, e));
            }
            let own = entry(
                view,
                Event::SafetyPlanPublished,
                EntryOutcome::Recorded,
                None,
            );
            Ok(tell_parties(view, &me, own, |other| {
                let mut e = entry(
                    view,
                    Event::SafetyPlanPublished,
                    EntryOutcome::Disclosed,
                    Some(&other.org_oin),
                );
                e.entry.checks.consent = !basis.consent_ids.is_empty();
                (
                    e,
                    told(ctx, caller, &plan, view, other.id.clone(), &other.org_oin),
                )
            }))
        };
    let stored = ctx
        .store
        .publish_plan(&plan, &basis.consent_ids, decide)
        .await;
    // The same publication racing itself: the one that lost is a retry of the one that won (or,
    // with other content, ALREADY_EXISTS).
    if matches!(stored, Err(StoreError::Conflict(Clash::Stale { .. })))
        && let Some(earlier) = earlier_publication(
            ctx,
            caller,
            (&plan.case_id, plan.version),
            &request_hash,
            &content_digest,
        )
        .await?
    {
        return Ok(Published {
            plan: earlier,
            duplicate: true,
        });
    }
    let plan = stored
        .map_err(|e| match e {
            StoreError::Conflict(Clash::Stale { version, latest, .. }) => FlowError::Aborted(format!(
                "version {version} is not the next one (the latest is {latest}): read the latest version with GetSafetyPlan and publish the next one"
            )),
            StoreError::Conflict(Clash::Merged { into, .. }) => FlowError::Aborted(format!(
                "the case was merged into case {:?}: read the latest version there with GetSafetyPlan and publish the next one",
                echo(&into)
            )),
            other => other.into(),
        })??;
    Ok(Published {
        plan,
        duplicate: false,
    })
}

/// The notification telling a party that a version was published.
fn told(
    ctx: &Ctx,
    caller: &Caller,
    plan: &PlanVersion,
    view: &CaseView,
    involvement_id: InvolvementId,
    recipient: &Oin,
) -> Notification {
    let mut n = notification(
        ctx,
        caller,
        recipient,
        NotificationKind::SafetyPlanPublished,
        format!(
            "{} legde versie {} van het veiligheidsplan van casus {} vast. Lees het en bevestig de afspraken die uw organisatie aangaan.",
            ctx.name_of(caller.oin().as_str()),
            plan.version,
            view.case.id
        ),
    );
    n.case_id = Some(view.case.id.clone());
    n.plan_version = Some(plan.version);
    n.involvement_id = Some(involvement_id);
    n
}

/// `GetSafetyPlan`: a party reads a version (0: the latest); reading the sealed plan is logged
/// first (fail closed); an erased version has nothing left to read.
pub async fn get(
    ctx: &Ctx,
    caller: &Caller,
    case_id: &str,
    version: u32,
    acting_role: Option<&Role>,
) -> FlowResult<PlanVersion> {
    let role = ctx.acting_role(caller, acting_role)?;
    // Need-to-know, as for the case itself: a convenant role of the party's sector.
    ctx.require_convenant_role(caller, &role)?;
    let view = party_case(ctx, caller, case_id).await?;
    let plan = ctx.store.get_plan(case_id, version).await?.ok_or_else(|| {
        FlowError::NotFound(if version == 0 {
            format!("case {} has no safety plan yet", echo(case_id))
        } else {
            format!(
                "case {} has no safety plan version {}",
                echo(case_id),
                version
            )
        })
    })?;
    if !plan.envelope.is_empty() {
        let e = plan_entry(
            ctx,
            caller,
            &role,
            &view,
            Event::SafetyPlanRead,
            EntryOutcome::Recorded,
            None,
            plan_binding_id(&plan.case_id, plan.version),
        );
        ctx.store.append_log(std::slice::from_ref(&e)).await?;
    }
    Ok(plan)
}

/// `ConfirmSafetyPlan` as the request states it.
#[derive(Debug, Clone)]
pub struct ConfirmPlan {
    /// The case.
    pub case_id: CaseId,
    /// The version whose agreements are confirmed.
    pub version: u32,
    /// The agreements (empty: every one that concerns the caller).
    pub agreement_ids: Vec<AgreementId>,
    /// The role acted in.
    pub acting_role: Option<Role>,
}

/// The agreements of `plan` the caller confirms: those named, each concerning it, or when none
/// are named every one that does.
fn agreements_to_confirm(
    plan: &PlanVersion,
    me: &str,
    named: Vec<AgreementId>,
) -> FlowResult<Vec<String>> {
    let concerns = |id: &str| {
        plan.agreements
            .iter()
            .any(|a| a.id == id && a.parties.iter().any(|p| p == me))
    };
    let ids: Vec<String> = if named.is_empty() {
        plan.agreements
            .iter()
            .filter(|a| a.parties.iter().any(|p| p == me))
            .map(|a| a.id.clone())
            .collect()
    } else {
        let mut bad = Vec::new();
        if named.len() > MAX_AGREEMENTS {
            bad.push(("agreement_ids", format!("at most {MAX_AGREEMENTS}")));
        }
        for id in &named {
            if !concerns(id) {
                bad.push((
                    "agreement_ids",
                    format!(
                        "agreement {:?} of version {} does not concern your organisation",
                        echo(id),
                        plan.version
                    ),
                ));
            }
        }
        reject(bad)?;
        named.into_iter().map(String::from).collect()
    };
    if ids.is_empty() {
        return Err(FlowError::Precondition(format!(
            "no agreement of safety plan version {} concerns your organisation",
            plan.version
        )));
    }
    Ok(ids)
}

/// `ConfirmSafetyPlan`: a party confirms the agreements of a version that concern it; every
/// other party is told.
pub async fn confirm(ctx: &Ctx, caller: &Caller, cmd: ConfirmPlan) -> FlowResult<PlanVersion> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    party_case(ctx, caller, &cmd.case_id).await?;
    if cmd.version == 0 {
        return Err(FlowError::invalid(
            "version",
            "the version whose agreements you confirm",
        ));
    }
    let plan = ctx
        .store
        .get_plan(&cmd.case_id, cmd.version)
        .await?
        .ok_or_else(|| {
            FlowError::NotFound(format!(
                "case {} has no safety plan version {}",
                echo(&cmd.case_id),
                cmd.version
            ))
        })?;
    if plan.envelope.is_empty() {
        return Err(FlowError::Precondition(format!(
            "safety plan version {} was erased at the end of its retention; confirm a later version",
            cmd.version
        )));
    }
    let me = caller.oin().to_string();
    let ids = agreements_to_confirm(&plan, &me, cmd.agreement_ids)?;
    let reference = plan_binding_id(&plan.case_id, plan.version);
    let entry = |view: &CaseView, outcome, recipient: Option<&str>| {
        plan_entry(
            ctx,
            caller,
            &role,
            view,
            Event::SafetyPlanConfirmed,
            outcome,
            recipient,
            reference.clone(),
        )
    };
    let record = |view: &CaseView| {
        let own = entry(view, EntryOutcome::Recorded, None);
        tell_parties(view, &me, own, |other| {
            let e = entry(view, EntryOutcome::Disclosed, Some(&other.org_oin));
            let mut n = notification(
                ctx,
                caller,
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
    };
    ctx.store
        .confirm_plan(
            &plan.case_id,
            plan.version,
            &me,
            &caller.professional.id,
            &ids,
            now(),
            record,
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => FlowError::NotFound(format!(
                "no case {:?} with your organisation as an active party",
                echo(&cmd.case_id)
            )),
            other => other.into(),
        })?;
    ctx.store
        .get_plan(&plan.case_id, plan.version)
        .await?
        .ok_or_else(|| FlowError::Unavailable("the plan disappeared; try again".into()))
}
