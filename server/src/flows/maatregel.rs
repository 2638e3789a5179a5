//! The maatregel register and its minimal query.
//!
//! The answer to `HasMaatregel` is a disclosure by the youth protection sector to the asker. It
//! is decided by the convenant as such (purpose `maatregel_afstemming`, category
//! `maatregel_bestaan`, basis `jeugdwet_informatie` with the maatregel as `maatregel_reference`
//! and the involvement register's answer as `recipient_involved`), once per active maatregel with
//! its responsible organisation as the discloser. Independently of the convenant, the hub answers
//! only an organisation with an active registered involvement with the child.
use super::decision::{Party, Question};
use super::error::{FlowError, FlowResult, Violations, echo, reject};
use super::involvement::{SKEW_SECS, not_involved, notification, retain_until};
use super::{Ctx, new_id, now};
use crate::auth::Caller;
use crate::domain::basis::Basis;
use crate::domain::consent::Facts;
use crate::domain::involvement::{CATEGORY_INVOLVEMENT, Notification, NotificationKind};
use crate::domain::maatregel::{
    ANSWER_BASIS, ANSWER_CATEGORY, ANSWER_PURPOSE, MAX_AHEAD_SECS, Maatregel, MaatregelKind,
    REGISTERING_SECTOR,
};
use crate::ids::Role;
use crate::ids::{Bsn, MaatregelId, Oin, SubjectPseudonym};
use crate::ledger::{EntryOutcome, Event, PendingEntry};
use crate::store::StoreError;
use signaalhub_policy as policy;

/// Only the youth protection sector registers, ends and lists maatregelen.
fn require_sector(c: &Caller, what: &str) -> FlowResult<()> {
    if c.sector().as_str() == REGISTERING_SECTOR {
        Ok(())
    } else {
        Err(FlowError::Forbidden(format!(
            "{what} is reserved for the {REGISTERING_SECTOR} sector (gecertificeerde instellingen and the Raad voor de Kinderbescherming); your organisation is in sector {}",
            c.sector()
        )))
    }
}

fn maatregel_entry(
    ctx: &Ctx,
    c: &Caller,
    role: &Role,
    event: Event,
    outcome: EntryOutcome,
    subject: &SubjectPseudonym,
) -> PendingEntry {
    ctx.entry(c, role, event, outcome)
        .subjects([subject.as_str()])
        .about(&ANSWER_PURPOSE, [&ANSWER_CATEGORY])
}

/// The active organisations of the registering sector that take part in the convenant, in OIN
/// order.
fn registering_organisations(ctx: &Ctx) -> Vec<Oin> {
    let dir = ctx.directory.snapshot();
    let mut gis: Vec<Oin> = dir
        .orgs
        .values()
        .filter(|e| {
            e.org.sector.as_str() == REGISTERING_SECTOR
                && e.org.status == crate::domain::directory::OrgStatus::Active
                && ctx.policy.is_party(REGISTERING_SECTOR, e.org.oin.as_str())
        })
        .map(|e| e.org.oin.clone())
        .collect();
    gis.sort();
    gis
}

/// The organisation and role that give the answer "none" when no maatregel is active: the
/// sector's first participating organisation in the directory, in its first convenant role.
fn answering_for_the_register(ctx: &Ctx) -> (Option<Oin>, Role) {
    let p = &ctx.policy;
    let gis = registering_organisations(ctx);
    let role = p
        .roles_for_sector(REGISTERING_SECTOR)
        .and_then(|r| r.first().and_then(|r| r.parse().ok()))
        // A convenant without roles for the registering sector denies whatever role is named.
        .unwrap_or(Role::known("jeugdbeschermer"));
    (gis.into_iter().next(), role)
}

/// The decision for disclosing the answer about `m` (or, when no maatregel is active, about the
/// register as such, with `fallback_reference`) to the caller.
fn answer_decision<'c>(
    ctx: &'c Ctx,
    c: &Caller,
    m: Option<&Maatregel>,
    fallback_reference: &str,
    involved: bool,
) -> policy::Decision<'c> {
    let (actor_oin, role, reference) = match m {
        Some(m) => (
            Some(m.responsible_oin.clone()),
            m.registered_role.clone(),
            m.id.to_string(),
        ),
        None => {
            let (oin, role) = answering_for_the_register(ctx);
            (oin, role, fallback_reference.to_owned())
        }
    };
    let basis = Basis {
        legal: Some(policy::LegalBasisRecord {
            basis: ANSWER_BASIS.into(),
            evidence: policy::Evidence {
                maatregel_reference: Some(reference),
                ..policy::Evidence::default()
            },
        }),
        consent_ids: Vec::new(),
    };
    let categories = [ANSWER_CATEGORY.to_owned()];
    ctx.decide(&Question {
        actor: match &actor_oin {
            Some(o) => Party::new(o, REGISTERING_SECTOR),
            None => Party::unheld(REGISTERING_SECTOR),
        },
        role: &role,
        recipient: Party::new(c.oin(), c.sector().as_str()),
        purpose: &ANSWER_PURPOSE,
        categories: &categories,
        facts: &Facts::default(),
        basis: &basis,
        consents: &[],
        recipient_involved: involved,
        received_for: None,
        inform_exemption: None,
        now: now(),
    })
}

/// `RegisterMaatregel`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct RegisterMaatregel {
    /// The child (`None`: invalid, said in `invalid`).
    pub subject: Option<Bsn>,
    /// The kind (`None`: unknown, said in `invalid`).
    pub kind: Option<MaatregelKind>,
    /// Start (`None`: now).
    pub starts_at: Option<i64>,
    /// Ordered end.
    pub ends_at: Option<i64>,
    /// The responsible organisation (`None`: the caller's own, or invalid as said in `invalid`).
    pub responsible: Option<Oin>,
    /// Whom to contact there (trimmed by the flow).
    pub contact_point: String,
    /// The role acted in.
    pub acting_role: Option<Role>,
    /// What the edge found wrong; said together with the flow's findings.
    pub invalid: Violations,
}

/// `RegisterMaatregel`: the youth protection sector records a maatregel (logged).
pub async fn register(ctx: &Ctx, caller: &Caller, cmd: RegisterMaatregel) -> FlowResult<Maatregel> {
    require_sector(caller, "registering a maatregel")?;
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let mut bad = cmd.invalid;
    let t = now();
    let starts_at = cmd.starts_at.unwrap_or(t);
    if starts_at < t - MAX_AHEAD_SECS || starts_at > t + MAX_AHEAD_SECS {
        bad.push(("starts_at", "within 21 years of now".into()));
    }
    if let Some(e) = cmd.ends_at
        && (e <= starts_at || e > t + MAX_AHEAD_SECS)
    {
        bad.push((
            "ends_at",
            "after starts_at and at most 21 years ahead".into(),
        ));
    }
    let responsible = match cmd.responsible {
        None => Some(caller.oin().clone()),
        Some(o) if ctx.is_active_org(&o) && ctx.sector_of(o.as_str()) == REGISTERING_SECTOR => {
            Some(o)
        }
        Some(o) => {
            bad.push((
                "responsible_oin",
                format!("{o} is not an active {REGISTERING_SECTOR} organisation in the directory"),
            ));
            None
        }
    };
    reject(bad)?;
    let (Some(subject), Some(kind), Some(responsible)) = (cmd.subject, cmd.kind, responsible)
    else {
        return Err(FlowError::invalid("subject_bsn", "not a valid BSN"));
    };
    let key = ctx.pseudonymizer.subject(&subject);
    ctx.refuse_merged_references(std::slice::from_ref(&subject), std::slice::from_ref(&key))
        .await?;
    let subject = key;
    let m = Maatregel {
        id: new_id::<crate::ids::Maatregel>()?,
        subject: subject.current().clone(),
        kind,
        starts_at,
        ends_at: cmd.ends_at,
        responsible_oin: responsible,
        contact_point: cmd.contact_point.trim().to_owned(),
        registered_by_oin: caller.oin().clone(),
        registered_by: caller.professional.id.clone(),
        registered_role: role.clone(),
        registered_at: t,
        ended_at: None,
        // Kept until the retention after its planned end; ending it earlier moves this.
        retain_until: cmd.ends_at.map(|e| retain_until(ctx, &ANSWER_PURPOSE, e)),
        next_oin: None,
    };
    let e = maatregel_entry(
        ctx,
        caller,
        &role,
        Event::MaatregelRegistered,
        EntryOutcome::Recorded,
        subject.current(),
    )
    .reference(m.id.clone());
    ctx.store.insert_maatregel(&m, &e).await?;
    Ok(m)
}

/// `EndMaatregel` as the request states it.
#[derive(Debug, Clone)]
pub struct EndMaatregel {
    /// The maatregel.
    pub maatregel_id: MaatregelId,
    /// When it ended (`None`: now).
    pub ended_at: Option<i64>,
    /// The role acted in.
    pub acting_role: Option<Role>,
    /// Who has the case next (recorded; named to the parties told).
    pub next_oin: Option<Oin>,
}

/// What `EndMaatregel` answers.
#[derive(Debug, Clone)]
pub struct Ended {
    /// The maatregel as ended.
    pub maatregel: Maatregel,
    /// Each other organisation involved with the child, and whether it was told.
    pub parties: Vec<(Oin, bool)>,
}

/// `EndMaatregel`: the registering or responsible organisation ends a maatregel and records who
/// has the case next; every other organisation involved with the child is told (minimal: that
/// it ended, from when, who the contact was, who has the case next) where the convenant lets the
/// GI tell it (the maatregel answer's flow: purpose `maatregel_afstemming`, basis
/// `jeugdwet_informatie`), else the withheld notice is logged. One transaction.
pub async fn end(ctx: &Ctx, caller: &Caller, cmd: EndMaatregel) -> FlowResult<Ended> {
    require_sector(caller, "ending a maatregel")?;
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    let t = now();
    let at = cmd.ended_at.unwrap_or(t);
    if at > t + SKEW_SECS {
        return Err(FlowError::invalid("ended_at", "not in the future"));
    }
    if let Some(next) = &cmd.next_oin
        && !ctx.is_active_org(next)
    {
        return Err(FlowError::invalid(
            "next_oin",
            "not an active organisation in the directory",
        ));
    }
    let me = caller.oin().to_string();
    let not_found = || {
        FlowError::NotFound(format!(
            "no maatregel {:?} registered by or entrusted to your organisation",
            echo(&cmd.maatregel_id)
        ))
    };
    let m = ctx
        .store
        .get_maatregel(&cmd.maatregel_id)
        .await?
        .filter(|m| m.registered_by_oin == me || m.responsible_oin == me)
        .ok_or_else(not_found)?;
    let e = maatregel_entry(
        ctx,
        caller,
        &role,
        Event::MaatregelEnded,
        EntryOutcome::Recorded,
        &m.subject,
    )
    .reasons(cmd.next_oin.iter().map(|o| format!("next:{o}")))
    .reference(m.id.clone());
    let (told, parties) = end_notices(ctx, caller, &role, &m, at, cmd.next_oin.as_ref()).await?;
    let maatregel = ctx
        .store
        .end_maatregel(
            &m.id,
            &me,
            at,
            retain_until(ctx, &ANSWER_PURPOSE, at),
            cmd.next_oin.as_ref(),
            &e,
            &told,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                FlowError::Precondition("this maatregel was ended already".into())
            }
            StoreError::NotFound(_) => not_found(),
            other => other.into(),
        })?;
    Ok(Ended { maatregel, parties })
}

/// The notices of a maatregel's end: one entry per other organisation involved with the child
/// (disclosed with a notification where the convenant allows, else withheld).
async fn end_notices(
    ctx: &Ctx,
    caller: &Caller,
    role: &Role,
    m: &Maatregel,
    at: i64,
    next: Option<&Oin>,
) -> FlowResult<(Vec<(PendingEntry, Option<Notification>)>, Vec<(Oin, bool)>)> {
    let keys = ctx.lifted(&[m.subject.as_str().to_owned()]);
    let mut orgs: Vec<Oin> = Vec::new();
    for i in ctx.store.active_involvements_about(&keys).await? {
        if i.org_oin != *caller.oin()
            && i.org_oin != m.responsible_oin
            && !orgs.contains(&i.org_oin)
        {
            orgs.push(i.org_oin);
        }
    }
    let basis = Basis {
        legal: Some(policy::LegalBasisRecord {
            basis: ANSWER_BASIS.into(),
            evidence: policy::Evidence {
                maatregel_reference: Some(m.id.to_string()),
                ..policy::Evidence::default()
            },
        }),
        consent_ids: Vec::new(),
    };
    let categories = [ANSWER_CATEGORY.to_owned()];
    let summary = format!(
        "De maatregel ({}) voor dit kind is beëindigd per {}. Contact bij {} was: {}.{}",
        m.kind.dutch(),
        crate::domain::zorgmelding::civil_date(at),
        ctx.name_of(m.responsible_oin.as_str()),
        m.contact_point,
        next.map(|n| format!(" De zaak ligt nu bij {}.", ctx.name_of(n.as_str())))
            .unwrap_or_default()
    );
    let mut items = Vec::new();
    let mut parties = Vec::new();
    for org in orgs {
        let d = ctx.decide(&Question {
            actor: Party::new(caller.oin(), caller.sector().as_str()),
            role,
            recipient: ctx.party(&org),
            purpose: &ANSWER_PURPOSE,
            categories: &categories,
            facts: &Facts::default(),
            basis: &basis,
            consents: &[],
            recipient_involved: true,
            received_for: None,
            inform_exemption: None,
            now: at,
        });
        let allowed = d.is_allowed();
        let e = maatregel_entry(
            ctx,
            caller,
            role,
            Event::MaatregelEndNotified,
            if allowed {
                EntryOutcome::Disclosed
            } else {
                EntryOutcome::Withheld
            },
            &m.subject,
        )
        .recipient(org.clone())
        .basis(&basis)
        .decided(&d)
        .relationship()
        .reference(m.id.clone());
        let note = allowed.then(|| {
            let mut n = notification(
                ctx,
                caller,
                &org,
                NotificationKind::MaatregelEnded,
                summary.clone(),
            );
            n.maatregel_id = Some(m.id.clone());
            n
        });
        items.push((e, note));
        parties.push((org, allowed));
    }
    Ok((items, parties))
}

/// Whom to contact about an active maatregel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The responsible organisation.
    pub oin: Oin,
    /// Its name in the directory.
    pub organization_name: String,
    /// Whom to contact there.
    pub contact_point: String,
}

/// The minimal answer to `HasMaatregel`.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Whether a maatregel is active.
    pub exists: bool,
    /// The kinds of the active ones, each once, in order.
    pub kinds: Vec<MaatregelKind>,
    /// Whom to contact, each once.
    pub contacts: Vec<Contact>,
}

/// The entry and notification telling the responsible organisation of `m` who asked.
fn query_notified(
    ctx: &Ctx,
    c: &Caller,
    role: &Role,
    subject: &str,
    m: &Maatregel,
) -> (PendingEntry, Option<Notification>) {
    let e = ctx
        .entry(
            c,
            role,
            Event::MaatregelQueryNotified,
            EntryOutcome::Disclosed,
        )
        .subjects([subject])
        .recipient(m.responsible_oin.clone())
        .about(&ANSWER_PURPOSE, [&CATEGORY_INVOLVEMENT])
        .relationship()
        .reference(m.id.clone());
    let mut n = notification(
        ctx,
        c,
        &m.responsible_oin,
        NotificationKind::MaatregelQueried,
        format!(
            "{} ({}) is betrokken bij het kind van uw {} {} en vroeg of er een maatregel is. Neem contact op om samen op te trekken.",
            ctx.name_of(c.oin().as_str()),
            c.professional.id,
            m.kind.dutch(),
            m.id
        ),
    );
    n.maatregel_id = Some(m.id.clone());
    n.retain_until = retain_until(ctx, &ANSWER_PURPOSE, n.at);
    (e, Some(n))
}

/// The answer about the active maatregelen `active`.
fn answer(ctx: &Ctx, active: &[Maatregel]) -> Answer {
    let mut kinds: Vec<MaatregelKind> = active.iter().map(|m| m.kind).collect();
    kinds.sort();
    kinds.dedup();
    let mut contacts: Vec<Contact> = Vec::new();
    for m in active {
        if !contacts
            .iter()
            .any(|k| k.oin == m.responsible_oin && k.contact_point == m.contact_point)
        {
            contacts.push(Contact {
                oin: m.responsible_oin.clone(),
                organization_name: ctx.name_of(&m.responsible_oin),
                contact_point: m.contact_point.clone(),
            });
        }
    }
    Answer {
        exists: !active.is_empty(),
        kinds,
        contacts,
    }
}

/// `HasMaatregel`: only an organisation involved with the child asks; the answer is decided per
/// active maatregel, logged, and each responsible organisation told who asked (one transaction).
pub async fn has_maatregel(
    ctx: &Ctx,
    caller: &Caller,
    subject: &Bsn,
    acting_role: Option<&Role>,
) -> FlowResult<Answer> {
    let role = ctx.acting_role(caller, acting_role)?;
    ctx.require_convenant_role(caller, &role)?;
    let subject = ctx.pseudonymizer.subject(subject);
    let t = now();
    let involved =
        super::policy::recipient_involved(ctx, caller.oin().as_str(), &subject, t).await?;
    let query_id = new_id::<crate::ids::Query>()?;
    let mut entry = maatregel_entry(
        ctx,
        caller,
        &role,
        Event::MaatregelQueried,
        EntryOutcome::Disclosed,
        subject.current(),
    )
    .basis_strings(vec![format!("legal:{ANSWER_BASIS}")])
    .reference(query_id.clone());
    entry.entry.checks.relationship = involved;
    // Fail closed on the hub's own rule before the register is even read.
    if !involved {
        let d = not_involved(ctx);
        entry.entry.outcome = EntryOutcome::Denied;
        let entry = entry.reasons([policy::ReasonCode::RecipientNotInvolved.as_str()]);
        ctx.store.append_log(std::slice::from_ref(&entry)).await?;
        return Err(FlowError::denied("the maatregel question is refused", &d));
    }
    // Probing: an organisation that got its day's "no" answers asks no more today.
    let limit = u64::from(ctx.maatregel_no_answers_per_day);
    let day = t.div_euclid(86_400);
    if limit > 0 && ctx.store.maatregel_no_answers(caller.oin(), day).await? >= limit {
        entry.entry.outcome = EntryOutcome::Denied;
        let entry = entry.reasons([QUERY_LIMIT_CODE]);
        ctx.store.append_log(std::slice::from_ref(&entry)).await?;
        return Err(query_limit_refusal(limit));
    }
    let active: Vec<Maatregel> = ctx
        .store
        .maatregelen_of(subject.all())
        .await?
        .into_iter()
        .filter(|m| m.is_active(t))
        .collect();
    let decisions: Vec<policy::Decision> = if active.is_empty() {
        vec![answer_decision(ctx, caller, None, &query_id, involved)]
    } else {
        active
            .iter()
            .map(|m| answer_decision(ctx, caller, Some(m), &query_id, involved))
            .collect()
    };
    if let Some(d) = decisions.iter().find(|d| !d.is_allowed()) {
        entry.entry.outcome = EntryOutcome::Denied;
        let entry = entry.decided(d);
        ctx.store.append_log(std::slice::from_ref(&entry)).await?;
        return Err(FlowError::denied("the maatregel question is refused", d));
    }
    if let Some(d) = decisions.first() {
        entry.entry.policy_version = Some(d.policy_version.to_string());
    }
    // The answer, and the notice to each responsible organisation, in one transaction.
    let mut items: Vec<(PendingEntry, Option<Notification>)> = vec![(entry, None)];
    let mut told: Vec<&str> = Vec::new();
    for m in &active {
        if !told.contains(&m.responsible_oin.as_str()) {
            told.push(&m.responsible_oin);
            items.push(query_notified(ctx, caller, &role, subject.as_str(), m));
        }
    }
    ctx.store.log_with_notifications(&items).await?;
    if active.is_empty() && limit > 0 {
        let n = ctx
            .store
            .count_maatregel_no_answer(caller.oin(), day)
            .await?;
        if n == limit {
            tell_the_register(ctx, caller, &role, limit).await?;
        }
    }
    Ok(answer(ctx, &active))
}

/// The refusal code when an organisation reached its day's "no" answers.
pub const QUERY_LIMIT_CODE: &str = "MAATREGEL_QUERY_LIMIT";

fn query_limit_refusal(limit: u64) -> FlowError {
    let en = format!(
        "your organisation already got {limit} answers \"no maatregel\" today; further maatregel questions are refused until tomorrow (UTC), and the youth protection organisations were told; contact them or your privacy officer if this is your normal work"
    );
    FlowError::Refused(Box::new(super::error::Refusal {
        code: QUERY_LIMIT_CODE,
        rule: "access:maatregel-probing",
        nl: format!(
            "uw organisatie kreeg vandaag al {limit} keer het antwoord \"geen maatregel\"; verdere vragen naar een maatregel worden tot morgen (UTC) geweigerd, en de gecertificeerde instellingen zijn ingelicht; neem contact met hen of met uw functionaris gegevensbescherming op als dit uw gewone werk is"
        ),
        message: format!("{en} ({QUERY_LIMIT_CODE})"),
        en,
    }))
}

/// Tells every active youth protection organisation in the directory, once, that the caller's
/// organisation reached its day's limit of "no" answers (one entry and notification each; no
/// subject: the limit is about the organisation's questions, not about a child).
async fn tell_the_register(ctx: &Ctx, caller: &Caller, role: &Role, limit: u64) -> FlowResult<()> {
    let items: Vec<(PendingEntry, Option<Notification>)> = registering_organisations(ctx)
        .iter()
        .map(|gi| {
            let e = ctx
                .entry(
                    caller,
                    role,
                    Event::MaatregelQueriesLimited,
                    EntryOutcome::Recorded,
                )
                .recipient(gi.clone())
                .about(&ANSWER_PURPOSE, [&ANSWER_CATEGORY])
                .reasons([QUERY_LIMIT_CODE]);
            let mut n = notification(
                ctx,
                caller,
                gi,
                NotificationKind::MaatregelQueriesLimited,
                format!(
                    "{} kreeg vandaag {limit} keer het antwoord \"geen maatregel\" op de vraag of er een maatregel is; verdere vragen van deze organisatie worden tot morgen geweigerd. Dit kan wijzen op het aftasten van het register.",
                    ctx.name_of(caller.oin().as_str()),
                ),
            );
            n.retain_until = retain_until(ctx, &ANSWER_PURPOSE, n.at);
            (e, Some(n))
        })
        .collect();
    if !items.is_empty() {
        ctx.store.log_with_notifications(&items).await?;
    }
    Ok(())
}

/// `ListMaatregelen`: the maatregelen of a child the caller's organisation registered or is
/// responsible for (logged).
pub async fn list(
    ctx: &Ctx,
    caller: &Caller,
    subject: &Bsn,
    include_ended: bool,
    acting_role: Option<&Role>,
) -> FlowResult<Vec<Maatregel>> {
    require_sector(caller, "listing maatregelen")?;
    let role = ctx.acting_role(caller, acting_role)?;
    let subject = ctx.pseudonymizer.subject(subject);
    let me = caller.oin().to_string();
    let t = now();
    let mine: Vec<Maatregel> = ctx
        .store
        .maatregelen_of(subject.all())
        .await?
        .into_iter()
        .filter(|m| m.registered_by_oin == me || m.responsible_oin == me)
        .filter(|m| include_ended || m.ended_at.is_none() && m.ends_at.is_none_or(|e| e > t))
        .collect();
    let reference = mine
        .iter()
        .map(|m| m.id.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let e = maatregel_entry(
        ctx,
        caller,
        &role,
        Event::MaatregelenListed,
        EntryOutcome::Recorded,
        subject.current(),
    )
    .reference(reference);
    ctx.store.append_log(std::slice::from_ref(&e)).await?;
    Ok(mine)
}
