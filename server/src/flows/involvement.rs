//! Involvement and case coordination: register and end an involvement (matching it with the
//! other involved organisations into a case), list the involved parties, read a case, propose
//! and answer a coordinator; and the rules the maatregel and safety plan flows share with them
//! (the case decision, the notification, telling every party, the retention of a notice).
use super::decision::Question;
use super::error::{FlowError, FlowResult, Violations, echo, reject};
use super::policy::MAX_LIST;
use super::{Ctx, new_id, now};
use crate::auth::Caller;
use crate::domain::basis::Basis;
use crate::domain::consent::{Consent, Facts};
use crate::domain::involvement::{
    CATEGORY_INVOLVEMENT, CaseView, Involvement, Notification, NotificationKind, PURPOSE, Proposal,
    ProposalState,
};
use crate::ids::Category;
use crate::ids::Role;
use crate::ids::{Bsn, CaseId, InvolvementId, Oin, SubjectKey};
use crate::ledger::{EntryOutcome, Event, PendingEntry};
use crate::store::StoreError;
use crate::store::involvement::MatchDecider;
pub use crate::store::involvement::Registered;
use signaalhub_policy as policy;
use std::borrow::Cow;
use std::sync::Arc;

/// Clock skew allowed on "not in the future" checks.
pub const SKEW_SECS: i64 = 300;

/// `from` + the convenant retention of `purpose` (fail closed to `from` if it has none).
pub fn retain_until(ctx: &Ctx, purpose: &str, from: i64) -> i64 {
    let secs = ctx.policy.retention_for(purpose).unwrap_or(0);
    from.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// A notification from `caller` to `recipient`, kept as long as the purpose allows.
pub fn notification(
    ctx: &Ctx,
    c: &Caller,
    recipient: &Oin,
    kind: NotificationKind,
    summary_nl: String,
) -> Notification {
    let at = now();
    Notification {
        recipient_oin: recipient.clone(),
        cursor: 0,
        kind,
        at,
        actor_oin: c.oin().clone(),
        actor_professional: c.professional.id.clone(),
        case_id: None,
        maatregel_id: None,
        involvement_id: None,
        proposal_id: None,
        plan_version: None,
        summary_nl,
        reference: None,
        retain_until: retain_until(ctx, &PURPOSE, at),
    }
}

/// The refusal code when an organisation has no ground for an involvement.
pub const NO_GROUND_CODE: &str = "NO_INVOLVEMENT_GROUND";

/// What a refusal for want of a ground says, in Dutch (the console shows it).
pub const NO_GROUND_NL: &str = "uw organisatie heeft geen contact met deze persoon dat de signaalhub kan nagaan: leg betrokkenheid vast nadat een signaal, zorgmelding of overdracht over de persoon aan uw organisatie is afgeleverd, met een geldige toestemming over de persoon die uw organisatie vastlegde of die haar noemt, voor een maatregel die uw organisatie registreerde of uitvoert, of nadat een organisatie die al bij de persoon betrokken is (of de gecertificeerde instelling) het contact van uw organisatie bevestigde";

/// What a refusal for want of a ground says.
pub const NO_GROUND: &str = "your organisation has no contact with this person that the hub can check: register involvement after a signal, zorgmelding or handover about the person was delivered to it, with a valid consent about the person that it recorded or that names it, for a maatregel it registered or is responsible for, or after an organisation already involved with the person (or the GI) confirmed your organisation's contact (ConfirmInvolvement)";

/// Whether the hub can check that `me` has contact with `subject`, so that it may register an
/// involvement (docs/ACCESS.md, "Involvement is earned"). The grounds, each read in turn until
/// one holds: a valid consent about the person on record that `me` recorded or that names it
/// (recipient or discloser); an active involvement of its own (a re-registration); a signal,
/// zorgmelding or handover about the person delivered to it (the log says so); a maatregel about
/// the person that it registered or is responsible for; a confirmation of its contact by an
/// organisation involved with the person or the GI ([`confirm`]), still valid.
pub async fn has_involvement_ground(
    ctx: &Ctx,
    me: &Oin,
    subject: &SubjectKey,
    t: i64,
) -> FlowResult<bool> {
    let names_me = |c: &Consent| {
        c.recorded_by_oin == *me
            || c.disclosers.contains(me)
            || c.recipients
                .iter()
                .any(|r| matches!(r, crate::domain::consent::ConsentTo::Oin(o) if *o == *me))
    };
    if ctx
        .store
        .list_consents(subject.all())
        .await?
        .iter()
        .any(|c| c.withdrawn_at.is_none() && c.valid_from <= t && t < c.valid_until && names_me(c))
    {
        return Ok(true);
    }
    if !ctx
        .store
        .active_involvements_of(me.as_str(), subject.all())
        .await?
        .is_empty()
    {
        return Ok(true);
    }
    if !super::policy::received_purposes(ctx, me, std::slice::from_ref(subject))
        .await?
        .is_empty()
    {
        return Ok(true);
    }
    if ctx
        .store
        .maatregelen_of(subject.all())
        .await?
        .iter()
        .any(|m| m.responsible_oin == *me || m.registered_by_oin == *me)
    {
        return Ok(true);
    }
    Ok(ctx
        .store
        .is_involvement_confirmed(me.as_str(), subject.all(), t)
        .await?)
}

/// How long a confirmation of another organisation's contact lets it register, in days.
pub const CONFIRMATION_DAYS: i64 = 30;

/// The refusal code when an organisation that is not involved tries to confirm another's contact.
pub const CONFIRMER_NOT_INVOLVED: &str = "CONFIRMER_NOT_INVOLVED";

/// `ConfirmInvolvement`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct ConfirmInvolvement {
    /// The person.
    pub subject: Bsn,
    /// The organisation whose contact is confirmed.
    pub org: Oin,
    /// The role acted in.
    pub acting_role: Option<Role>,
}

/// `ConfirmInvolvement`: an organisation with an active involvement with the person, or the
/// GI responsible for (or registering) an active maatregel about the person, confirms that
/// another active organisation has contact with the person. That organisation may register
/// its involvement on it for [`CONFIRMATION_DAYS`] days. Logged (`involvement_confirmed`, the
/// confirmed organisation as recipient); a refusal too. Returns until when it holds.
pub async fn confirm(ctx: &Ctx, caller: &Caller, cmd: ConfirmInvolvement) -> FlowResult<i64> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let me = caller.oin();
    if cmd.org == *me {
        return Err(FlowError::invalid(
            "org_oin",
            "your own organisation: register its involvement instead",
        ));
    }
    if !ctx.is_active_org(&cmd.org) {
        return Err(FlowError::invalid(
            "org_oin",
            "not an active organisation in the directory",
        ));
    }
    let subject = ctx.pseudonymizer.subject(&cmd.subject);
    ctx.refuse_merged_references(
        std::slice::from_ref(&cmd.subject),
        std::slice::from_ref(&subject),
    )
    .await?;
    let t = now();
    let involved = !ctx
        .store
        .active_involvements_of(me.as_str(), subject.all())
        .await?
        .is_empty()
        || ctx
            .store
            .maatregelen_of(subject.all())
            .await?
            .iter()
            .any(|m| m.is_active(t) && (m.responsible_oin == *me || m.registered_by_oin == *me));
    let e = ctx
        .entry(
            caller,
            &role,
            Event::InvolvementConfirmed,
            EntryOutcome::Recorded,
        )
        .subjects([subject.as_str()])
        .recipient(cmd.org.to_string())
        .about(&PURPOSE, [&CATEGORY_INVOLVEMENT]);
    if !involved {
        let mut e = e.reasons([CONFIRMER_NOT_INVOLVED]);
        e.entry.outcome = EntryOutcome::Denied;
        ctx.store.append_log(std::slice::from_ref(&e)).await?;
        let en = "only an organisation involved with this person (an active involvement of its own), or the youth protection organisation of an active maatregel about the person, confirms another organisation's contact";
        return Err(FlowError::Refused(Box::new(super::error::Refusal {
            code: CONFIRMER_NOT_INVOLVED,
            rule: "access:involvement-earned",
            nl: "alleen een organisatie die zelf bij deze persoon betrokken is (met een eigen lopende betrokkenheid), of de gecertificeerde instelling van een lopende maatregel over de persoon, bevestigt het contact van een andere organisatie".into(),
            en: en.into(),
            message: format!("{en} ({CONFIRMER_NOT_INVOLVED})"),
        })));
    }
    let mut e = e;
    e.entry.checks.relationship = true;
    let valid_until = t + CONFIRMATION_DAYS * 86_400;
    let id = crate::ids::random_id("cf_")
        .ok_or_else(|| FlowError::Unavailable("no randomness available".into()))?;
    ctx.store
        .confirm_involvement(
            &id,
            subject.current(),
            cmd.org.as_str(),
            me.as_str(),
            t,
            valid_until,
            &e,
        )
        .await?;
    Ok(valid_until)
}

/// Checks a basis (structure checked at the edge) for sharing about `subject`: a legal basis
/// the convenant declares, recorded consents about that subject. Returns the consents it names.
pub async fn checked_basis(
    ctx: &Ctx,
    b: &Basis,
    subject: Option<&SubjectKey>,
    required: bool,
    bad: &mut Violations,
) -> FlowResult<Vec<Consent>> {
    if let Some(name) = b.legal_name()
        && !ctx.policy.is_known_basis(name)
    {
        bad.push((
            "basis.legal.basis",
            format!("{:?} is not a basis declared in the convenant", echo(name)),
        ));
    }
    if b.consent_ids.len() > MAX_LIST {
        bad.push(("basis.consent_ids", format!("at most {MAX_LIST}")));
        return Ok(Vec::new());
    }
    if required && b.legal.is_none() && b.consent_ids.is_empty() {
        bad.push((
            "basis",
            "give a legal basis with its evidence, or the ids of recorded consents".into(),
        ));
    }
    let consents = if b.consent_ids.is_empty() {
        Vec::new()
    } else {
        ctx.store.get_consents(&b.consent_ids).await?
    };
    for id in &b.consent_ids {
        match consents.iter().find(|c| &c.id == id) {
            None => bad.push((
                "basis.consent_ids",
                format!("no consent {:?} is recorded", echo(id)),
            )),
            Some(c) if subject.is_some_and(|s| !s.matches(c.subject.as_str())) => bad.push((
                "basis.consent_ids",
                format!("consent {id} was given about another person than subject_bsn"),
            )),
            Some(_) => {}
        }
    }
    Ok(consents)
}

/// May `actor_oin` (acting as `role`) disclose `category` under purpose `casusafstemming` to
/// `recipient_oin`, on `basis` with `consents`, about a person with `facts`? The recipient is
/// involved by construction (it is a party).
#[allow(clippy::too_many_arguments)]
pub fn case_decision<'c>(
    ctx: &'c Ctx,
    actor_oin: &Oin,
    role: &Role,
    recipient_oin: &Oin,
    category: &Category,
    basis: &Basis,
    consents: &[Consent],
    facts: &Facts,
) -> policy::Decision<'c> {
    let named: Vec<&Consent> = basis
        .consent_ids
        .iter()
        .filter_map(|id| consents.iter().find(|c| &c.id == id))
        .collect();
    let categories = [category.clone()];
    ctx.decide(&Question {
        actor: ctx.party(actor_oin),
        role,
        recipient: ctx.party(recipient_oin),
        purpose: &PURPOSE,
        categories: &categories,
        facts,
        basis,
        consents: &named,
        recipient_involved: true,
        received_for: None,
        inform_exemption: None,
        now: now(),
    })
}

/// Entries (and notifications) telling every party organisation of the case but the caller:
/// `build(recipient's involvement)` gives each one's entry and notification. Always one entry for
/// the caller's own act first.
pub fn tell_parties(
    view: &CaseView,
    me: &str,
    own: PendingEntry,
    mut build: impl FnMut(&Involvement) -> (PendingEntry, Notification),
) -> Vec<(PendingEntry, Option<Notification>)> {
    let mut items = vec![(own, None)];
    let mut told: Vec<&str> = Vec::new();
    for i in &view.parties {
        if i.org_oin != me && !told.contains(&i.org_oin.as_str()) {
            told.push(&i.org_oin);
            let (e, n) = build(i);
            items.push((e, Some(n)));
        }
    }
    items
}

/// The denial the hub gives when the asker is not registered as involved (a hub rule on top of
/// any convenant).
pub fn not_involved(ctx: &Ctx) -> policy::Decision<'_> {
    policy::Decision {
        outcome: policy::Outcome::Deny,
        rules: Cow::Owned(vec![Arc::<str>::from("hub:involvement-register")]),
        obligations: Cow::Borrowed(&[]),
        retain_until: None,
        consents_relied_on: policy::ConsentSet::EMPTY,
        reasons: vec![policy::Reason {
            code: policy::ReasonCode::RecipientNotInvolved,
            rule: "hub:involvement-register".into(),
            nl: "uw organisatie is niet als betrokken bij deze persoon geregistreerd (registreer eerst uw betrokkenheid)".into(),
            en: "your organisation is not registered as involved with this person (register your involvement first)".into(),
        }],
        policy_version: Cow::Borrowed(ctx.policy.version()),
    }
}

/// Two subjects' stored pseudonyms, sorted, each once.
fn pair(a: &Involvement, b: &Involvement) -> Vec<String> {
    let mut subjects = vec![a.subject.as_str().to_owned(), b.subject.as_str().to_owned()];
    subjects.sort();
    subjects.dedup();
    subjects
}

/// Decides and records the matches of a registration inside its transaction.
struct Decider<'a> {
    ctx: &'a Ctx,
    caller: &'a Caller,
    role: &'a Role,
}

impl MatchDecider for Decider<'_> {
    fn decide(
        &self,
        from: &Involvement,
        consents: &[Consent],
        to: &Involvement,
    ) -> Result<(), Box<PendingEntry>> {
        let basis = &from.basis;
        let d = case_decision(
            self.ctx,
            &from.org_oin,
            &from.role,
            &to.org_oin,
            &CATEGORY_INVOLVEMENT,
            basis,
            consents,
            &from.facts,
        );
        if d.is_allowed() {
            return Ok(());
        }
        let e = self
            .ctx
            .entry_for(
                &from.org_oin,
                &from.registered_by,
                &from.role,
                Event::InvolvementMatchWithheld,
                EntryOutcome::Withheld,
            )
            .subjects(pair(from, to))
            .recipient(to.org_oin.clone())
            .about(&PURPOSE, [&CATEGORY_INVOLVEMENT])
            .basis_strings(basis.log_strings())
            .relationship()
            .decided(&d)
            .reference(from.id.clone());
        Err(Box::new(e))
    }

    fn matched(
        &self,
        to: &Involvement,
        new_parties: &[&Involvement],
        case_id: &CaseId,
    ) -> (PendingEntry, Notification) {
        let mut subjects: Vec<String> = std::iter::once(to)
            .chain(new_parties.iter().copied())
            .map(|i| i.subject.as_str().to_owned())
            .collect();
        subjects.sort();
        subjects.dedup();
        let mut basis: Vec<String> = Vec::new();
        let mut consent = false;
        for p in new_parties {
            consent |= !p.basis.consent_ids.is_empty();
            for s in p.basis.log_strings() {
                if !basis.contains(&s) {
                    basis.push(s);
                }
            }
        }
        let mut e = self
            .ctx
            .entry(
                self.caller,
                self.role,
                Event::InvolvementMatched,
                EntryOutcome::Disclosed,
            )
            .subjects(subjects)
            .recipient(to.org_oin.clone())
            .about(&PURPOSE, [&CATEGORY_INVOLVEMENT])
            .basis_strings(basis)
            .relationship()
            .reference(case_id.as_str());
        e.entry.checks.consent = consent;
        let mut names: Vec<String> = new_parties
            .iter()
            .map(|p| self.ctx.name_of(&p.org_oin))
            .collect();
        names.sort();
        names.dedup();
        let mut n = notification(
            self.ctx,
            self.caller,
            &to.org_oin,
            NotificationKind::InvolvementMatched,
            format!(
                "Ook betrokken bij deze persoon of dit huishouden: {}. Jullie delen nu casus {case_id}; spreek af wie de casusregie heeft.",
                names.join(", ")
            ),
        );
        n.case_id = Some(case_id.clone());
        n.involvement_id = Some(to.id.clone());
        (e, n)
    }
}

/// A store error of a case act: a state that no longer allows it is a failed precondition.
fn case_error(e: StoreError) -> FlowError {
    match e {
        StoreError::Conflict(c) => match FlowError::from(c) {
            // Merged while it was read: a state that no longer allows the act, here.
            FlowError::Aborted(m) => FlowError::Precondition(m),
            other => other,
        },
        other => other.into(),
    }
}

/// Loads a case the caller is an active party of; `NotFound` otherwise (a case's existence is
/// not revealed to others).
pub async fn party_case(ctx: &Ctx, c: &Caller, case_id: &str) -> FlowResult<CaseView> {
    let not_found = || {
        FlowError::NotFound(format!(
            "no case {:?} with your organisation as an active party",
            echo(case_id)
        ))
    };
    if case_id.is_empty() || case_id.len() > 64 {
        return Err(FlowError::invalid("case_id", "a case id such as k_3f9a…"));
    }
    let view = match ctx.store.case_view(case_id).await {
        Ok(v) => v,
        Err(StoreError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    if !view.has_party(c.oin().as_str()) {
        return Err(not_found());
    }
    Ok(view)
}

/// Logs a read of a case's parties by the caller.
async fn log_case_read(
    ctx: &Ctx,
    c: &Caller,
    role: &Role,
    views: &[CaseView],
    subject: Option<&SubjectKey>,
) -> FlowResult<()> {
    let mut subjects: Vec<String> = views.iter().flat_map(CaseView::subjects).collect();
    subjects.extend(subject.map(|s| s.as_str().to_owned()));
    subjects.sort();
    subjects.dedup();
    let reference = views
        .iter()
        .map(|v| v.case.id.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let e = ctx
        .entry(
            c,
            role,
            Event::InvolvedPartiesListed,
            EntryOutcome::Disclosed,
        )
        .subjects(subjects)
        .about(&PURPOSE, [&CATEGORY_INVOLVEMENT])
        .relationship()
        .reference(reference);
    ctx.store.append_log(std::slice::from_ref(&e)).await?;
    Ok(())
}

/// The entry of an act on a case (`category` of purpose `casusafstemming`), telling
/// `recipient` when given.
#[allow(clippy::too_many_arguments)]
pub fn case_entry(
    ctx: &Ctx,
    c: &Caller,
    role: &Role,
    view: &CaseView,
    category: &Category,
    event: Event,
    outcome: EntryOutcome,
    recipient: Option<&str>,
    reference: String,
) -> PendingEntry {
    let mut e = ctx
        .entry(c, role, event, outcome)
        .subjects(view.subjects())
        .about(&PURPOSE, [category])
        .relationship()
        .reference(reference);
    e.entry.recipient_oin = recipient.map(str::to_owned);
    e
}

/// `RegisterInvolvement`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct RegisterInvolvement {
    /// The person the organisation is involved with (`None`: invalid, said in `invalid`).
    pub subject: Option<Bsn>,
    /// The other members of the household (valid and distinct ones).
    pub household: Vec<Bsn>,
    /// How colleagues reach the professional (trimmed by the flow).
    pub contact_professional: String,
    /// When the involvement started (`None`: now).
    pub started_at: Option<i64>,
    /// Facts about the subject as stated.
    pub facts: Facts,
    /// The basis presented (may be empty).
    pub basis: Basis,
    /// The role acted in (empty: the token's only role).
    pub acting_role: Option<Role>,
    /// What the edge found wrong; said together with the flow's findings.
    pub invalid: Violations,
}

/// `RegisterInvolvement`: records the involvement and forms or joins a case with every other
/// involved organisation the convenant lets it be shown to (one transaction, `Decider`).
pub async fn register(
    ctx: &Ctx,
    caller: &Caller,
    cmd: RegisterInvolvement,
) -> FlowResult<Registered> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let mut bad = cmd.invalid;
    let t = now();
    let started_at = cmd.started_at.unwrap_or(t);
    if started_at > t + SKEW_SECS {
        bad.push(("started_at", "not in the future".into()));
    }
    let subject = cmd.subject.as_ref().map(|b| ctx.pseudonymizer.subject(b));
    let consents = checked_basis(ctx, &cmd.basis, subject.as_ref(), false, &mut bad).await?;
    reject(bad)?;
    let Some(subject) = subject else {
        return Err(FlowError::invalid("subject_bsn", "not a valid BSN"));
    };
    if let Some(b) = &cmd.subject {
        ctx.refuse_merged_references(std::slice::from_ref(b), std::slice::from_ref(&subject))
            .await?;
    }
    // Involvement is earned: without a ground the hub can check, nothing is registered and the
    // attempt is logged, so the organisation's FG sees it.
    if !has_involvement_ground(ctx, caller.oin(), &subject, t).await? {
        let e = ctx
            .entry(
                caller,
                &role,
                Event::InvolvementRefused,
                EntryOutcome::Denied,
            )
            .subjects([subject.as_str()])
            .about(&PURPOSE, [&CATEGORY_INVOLVEMENT]);
        ctx.store.append_log(std::slice::from_ref(&e)).await?;
        return Err(FlowError::Refused(Box::new(super::error::Refusal {
            code: NO_GROUND_CODE,
            rule: "access:involvement-earned",
            nl: NO_GROUND_NL.into(),
            en: NO_GROUND.into(),
            message: format!("{NO_GROUND} ({NO_GROUND_CODE})"),
        })));
    }
    let household: Vec<SubjectKey> = cmd
        .household
        .iter()
        .map(|b| ctx.pseudonymizer.subject(b))
        .collect();
    let persons: Vec<String> = std::iter::once(&subject)
        .chain(&household)
        .map(|s| s.as_str().to_owned())
        .collect();
    // Every person under every key version: matches find involvements stored under an older
    // version too.
    let persons_all: Vec<String> = std::iter::once(&subject)
        .chain(&household)
        .flat_map(|s| s.all().iter().map(|p| p.as_str().to_owned()))
        .collect();
    let facts = if cmd.facts.is_empty() {
        consents
            .first()
            .map(|k| k.facts.clone())
            .unwrap_or(cmd.facts)
    } else {
        cmd.facts
    };
    let new = Involvement {
        id: new_id::<crate::ids::Involvement>()?,
        subject: subject.current().clone(),
        org_oin: caller.oin().clone(),
        contact_professional: cmd.contact_professional.trim().to_owned(),
        role: role.clone(),
        registered_by: caller.professional.id.clone(),
        basis: cmd.basis,
        facts,
        started_at,
        registered_at: t,
        ended_at: None,
        retain_until: None,
        case_id: None,
    };
    let mut subjects = persons.clone();
    subjects.sort();
    let mut e = ctx
        .entry(
            caller,
            &role,
            Event::InvolvementRegistered,
            EntryOutcome::Recorded,
        )
        .subjects(subjects)
        .about(&PURPOSE, [&CATEGORY_INVOLVEMENT])
        .basis_strings(new.basis.log_strings())
        .reference(new.id.clone());
    e.entry.checks.consent = !new.basis.consent_ids.is_empty();
    let decider = Decider {
        ctx,
        caller,
        role: &role,
    };
    let case_id = new_id::<crate::ids::Case>()?;
    ctx.store
        .register_involvement(
            &new,
            subject.all(),
            &persons,
            &persons_all,
            &e,
            &case_id,
            &decider,
        )
        .await
        .map_err(case_error)
}

/// `EndInvolvement`: ends the caller's involvement and tells the other parties of its case.
pub async fn end(
    ctx: &Ctx,
    caller: &Caller,
    involvement_id: &str,
    acting_role: Option<&Role>,
) -> FlowResult<Involvement> {
    let role = ctx.acting_role(caller, acting_role)?;
    let me = caller.oin().to_string();
    let i = ctx
        .store
        .get_involvement(involvement_id)
        .await?
        .filter(|i| i.org_oin == me)
        .ok_or_else(|| {
            FlowError::NotFound(format!(
                "your organisation has no involvement {:?}",
                echo(involvement_id)
            ))
        })?;
    let t = now();
    let keep = retain_until(ctx, &PURPOSE, t);
    let e = ctx
        .entry(
            caller,
            &role,
            Event::InvolvementEnded,
            EntryOutcome::Recorded,
        )
        .subjects([i.subject.as_str()])
        .about(&PURPOSE, [&CATEGORY_INVOLVEMENT])
        .reference(i.id.clone());
    let told = |other: &Involvement| {
        let mut oe = ctx
            .entry(
                caller,
                &role,
                Event::InvolvementEnded,
                EntryOutcome::Disclosed,
            )
            .subjects(pair(&i, other))
            .recipient(other.org_oin.clone())
            .about(&PURPOSE, [&CATEGORY_INVOLVEMENT])
            .relationship();
        oe.entry.reference = i.case_id.as_ref().map(|x| x.to_string());
        let mut n = notification(
            ctx,
            caller,
            &other.org_oin,
            NotificationKind::InvolvementEnded,
            format!(
                "{} is niet meer betrokken (casus {}).",
                ctx.name_of(&me),
                i.case_id.as_deref().unwrap_or("")
            ),
        );
        n.case_id = i.case_id.clone();
        n.involvement_id = Some(other.id.clone());
        (oe, n)
    };
    ctx.store
        .end_involvement(&i.id, &me, t, keep, &e, told)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                FlowError::Precondition("this involvement was ended already".into())
            }
            other => other.into(),
        })
}

/// What `ListInvolvedParties` shows: the caller's own involvements with the person and the
/// cases they belong to.
#[derive(Debug)]
pub struct Parties {
    /// The caller's active involvements with the person.
    pub own: Vec<Involvement>,
    /// Their cases, each once.
    pub cases: Vec<CaseView>,
}

/// `ListInvolvedParties`: only an organisation involved with the person sees the cases; the
/// read is logged first, a refusal too.
pub async fn list_parties(
    ctx: &Ctx,
    caller: &Caller,
    subject: &Bsn,
    acting_role: Option<&Role>,
) -> FlowResult<Parties> {
    let role = ctx.acting_role(caller, acting_role)?;
    ctx.require_convenant_role(caller, &role)?;
    let subject = ctx.pseudonymizer.subject(subject);
    let me = caller.oin().to_string();
    let own = ctx.store.active_involvements_of(&me, subject.all()).await?;
    if own.is_empty() {
        let e = ctx
            .entry(
                caller,
                &role,
                Event::InvolvedPartiesListed,
                EntryOutcome::Denied,
            )
            .subjects([subject.as_str()])
            .about(&PURPOSE, [&CATEGORY_INVOLVEMENT])
            .reasons([policy::ReasonCode::RecipientNotInvolved.as_str()]);
        ctx.store.append_log(std::slice::from_ref(&e)).await?;
        return Err(FlowError::denied(
            "listing the involved parties refused",
            &not_involved(ctx),
        ));
    }
    let mut cases: Vec<CaseView> = Vec::new();
    for i in &own {
        if let Some(cid) = &i.case_id {
            let v = ctx.store.case_view(cid).await?;
            if !cases.iter().any(|x| x.case.id == v.case.id) {
                cases.push(v);
            }
        }
    }
    log_case_read(ctx, caller, &role, &cases, Some(&subject)).await?;
    Ok(Parties { own, cases })
}

/// `GetCase`: a party reads its case (logged).
pub async fn get_case(
    ctx: &Ctx,
    caller: &Caller,
    case_id: &str,
    acting_role: Option<&Role>,
) -> FlowResult<CaseView> {
    let role = ctx.acting_role(caller, acting_role)?;
    // Need-to-know: the case is for the party's professionals in a convenant role, not for every
    // professional of the organisation (its privacy officer, say).
    ctx.require_convenant_role(caller, &role)?;
    let view = party_case(ctx, caller, case_id).await?;
    log_case_read(ctx, caller, &role, std::slice::from_ref(&view), None).await?;
    Ok(view)
}

/// A coordinator act on a case, inside its transaction: its entries and notifications.
struct CoordinatorAct<'a> {
    ctx: &'a Ctx,
    caller: &'a Caller,
    role: &'a Role,
    view: &'a CaseView,
    proposal: &'a Proposal,
}

impl CoordinatorAct<'_> {
    /// The entry of the act, telling `recipient` when given.
    fn entry(&self, event: Event, outcome: EntryOutcome, recipient: Option<&str>) -> PendingEntry {
        case_entry(
            self.ctx,
            self.caller,
            self.role,
            self.view,
            &CATEGORY_INVOLVEMENT,
            event,
            outcome,
            recipient,
            self.proposal.id.to_string(),
        )
    }

    /// The notification of the act to `recipient` (with its involvement in the case, if any).
    fn notice(
        &self,
        recipient: &Oin,
        involvement_id: Option<InvolvementId>,
        kind: NotificationKind,
        summary_nl: String,
    ) -> Notification {
        let mut n = notification(self.ctx, self.caller, recipient, kind, summary_nl);
        n.case_id = Some(self.view.case.id.clone());
        n.proposal_id = Some(self.proposal.id.clone());
        n.involvement_id = involvement_id;
        n
    }

    /// The caller's name in the directory.
    fn by(&self) -> String {
        self.ctx.name_of(self.caller.oin().as_str())
    }

    /// Accepted (or self-proposed): every other party is told who coordinates now.
    fn accepted(&self) -> Record {
        let (view, p) = (self.view, self.proposal);
        let own = self.entry(Event::CoordinatorAccepted, EntryOutcome::Recorded, None);
        let contact = view
            .parties
            .iter()
            .find(|i| i.org_oin == p.proposed_oin)
            .map(|i| i.contact_professional.clone())
            .unwrap_or_default();
        tell_parties(view, self.caller.oin().as_str(), own, |other| {
            let e = self.entry(
                Event::CoordinatorAccepted,
                EntryOutcome::Disclosed,
                Some(&other.org_oin),
            );
            let n = self.notice(
                &other.org_oin,
                Some(other.id.clone()),
                NotificationKind::CoordinatorAccepted,
                format!(
                    "{} heeft nu de casusregie in casus {}: het vaste aanspreekpunt is {}.",
                    self.ctx.name_of(&p.proposed_oin),
                    view.case.id,
                    contact
                ),
            );
            (e, n)
        })
    }

    /// Proposed: every party whose acceptance it needs is told (the proposed organisation
    /// and every other party but the proposer).
    fn proposed(&self) -> Record {
        let (view, p) = (self.view, self.proposal);
        let own = self.entry(Event::CoordinatorProposed, EntryOutcome::Recorded, None);
        let mut items = vec![(own, None)];
        for oin in p.awaiting(view) {
            let told = self.entry(
                Event::CoordinatorProposed,
                EntryOutcome::Disclosed,
                Some(&oin),
            );
            let involvement = view
                .parties
                .iter()
                .find(|i| i.org_oin == oin)
                .map(|i| i.id.clone());
            let summary = if oin == p.proposed_oin {
                format!(
                    "{} stelt voor dat uw organisatie de casusregie krijgt in casus {}. Accepteer of wijs af (voorstel {}); de andere betrokkenen stemmen ook in.",
                    self.by(),
                    view.case.id,
                    p.id
                )
            } else {
                format!(
                    "{} stelt voor dat {} de casusregie krijgt in casus {}. Stem in of wijs af (voorstel {}): het voorstel gaat pas in als alle betrokkenen instemmen.",
                    self.by(),
                    self.ctx.name_of(&p.proposed_oin),
                    view.case.id,
                    p.id
                )
            };
            let n = self.notice(
                &oin,
                involvement,
                NotificationKind::CoordinatorProposed,
                summary,
            );
            items.push((told, Some(n)));
        }
        items
    }

    /// Endorsed: the caller accepted; the proposal waits for the other parties (only logged).
    fn endorsed(&self) -> Record {
        vec![(
            self.entry(Event::CoordinatorEndorsed, EntryOutcome::Recorded, None),
            None,
        )]
    }

    /// Declined: the proposer is told, while it is a party.
    fn declined(&self) -> Record {
        let (view, p) = (self.view, self.proposal);
        let own = self.entry(Event::CoordinatorDeclined, EntryOutcome::Recorded, None);
        let mut items = vec![(own, None)];
        if let Some(proposer) = view.parties.iter().find(|i| i.org_oin == p.proposed_by_oin) {
            let told = self.entry(
                Event::CoordinatorDeclined,
                EntryOutcome::Disclosed,
                Some(&p.proposed_by_oin),
            );
            let n = self.notice(
                &p.proposed_by_oin,
                Some(proposer.id.clone()),
                NotificationKind::CoordinatorDeclined,
                if self.caller.oin() == &p.proposed_oin {
                    format!(
                        "{} neemt de casusregie in casus {} niet op zich (voorstel {}).",
                        self.by(),
                        view.case.id,
                        p.id
                    )
                } else {
                    format!(
                        "{} stemt niet in met het voorstel dat {} de casusregie krijgt in casus {} (voorstel {}).",
                        self.by(),
                        self.ctx.name_of(&p.proposed_oin),
                        view.case.id,
                        p.id
                    )
                },
            );
            items.push((told, Some(n)));
        }
        items
    }
}

/// What a coordinator act records in its transaction.
type Record = Vec<(PendingEntry, Option<Notification>)>;

/// The record of a coordinator act on the case as it stands in the transaction: an accepted
/// proposal tells every party, any other state what `otherwise` says.
fn coordinator_record<'a>(
    ctx: &'a Ctx,
    caller: &'a Caller,
    role: &'a Role,
    otherwise: fn(&CoordinatorAct<'_>) -> Record,
) -> impl Fn(&CaseView, &Proposal) -> Record + 'a {
    move |view, proposal| {
        let act = CoordinatorAct {
            ctx,
            caller,
            role,
            view,
            proposal,
        };
        if proposal.state == ProposalState::Accepted {
            act.accepted()
        } else {
            otherwise(&act)
        }
    }
}

/// `ProposeCoordinator`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct ProposeCoordinator {
    /// The case.
    pub case_id: CaseId,
    /// The organisation proposed (the caller itself: takes effect at once).
    pub proposed: Oin,
    /// The role acted in.
    pub acting_role: Option<Role>,
}

/// `ProposeCoordinator`: a party proposes a party of the case (itself too) as its coordinator;
/// every other party is asked to accept (`RespondToCoordinatorProposal`). Only in a case without
/// other parties does it take effect at once.
pub async fn propose_coordinator(
    ctx: &Ctx,
    caller: &Caller,
    cmd: ProposeCoordinator,
) -> FlowResult<(Proposal, CaseView)> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    // Existence and membership are checked again inside the transaction.
    party_case(ctx, caller, &cmd.case_id).await?;
    let pid = new_id::<crate::ids::Proposal>()?;
    let record = coordinator_record(ctx, caller, &role, |act| act.proposed());
    ctx.store
        .propose_coordinator(
            &cmd.case_id,
            &pid,
            caller.oin(),
            &cmd.proposed,
            now(),
            record,
        )
        .await
        .map_err(case_error)
}

/// `RespondToCoordinatorProposal`: a party the proposal waits for (the proposed organisation
/// and every other party but the proposer) accepts or declines. When the last of them accepts,
/// the proposed organisation is coordinator and every party is told; one "no" declines it (the
/// proposer is told); an acceptance before the last is only logged.
pub async fn respond_to_proposal(
    ctx: &Ctx,
    caller: &Caller,
    proposal_id: &str,
    accept: bool,
    acting_role: Option<&Role>,
) -> FlowResult<(Proposal, CaseView)> {
    let role = ctx.acting_role(caller, acting_role)?;
    ctx.require_convenant_role(caller, &role)?;
    let me = caller.oin().as_str();
    let record = coordinator_record(ctx, caller, &role, |act| {
        if act.proposal.state == ProposalState::Declined {
            act.declined()
        } else {
            act.endorsed()
        }
    });
    ctx.store
        .respond_to_proposal(proposal_id, me, accept, now(), record)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => FlowError::NotFound(format!(
                "no open proposal {:?} waits for your organisation's answer",
                echo(proposal_id)
            )),
            other => case_error(other),
        })
}

/// The next page of `me`'s notifications after `after` (each was logged in its act's own
/// transaction).
pub async fn notifications_page(ctx: &Ctx, me: &str, after: u64) -> FlowResult<Vec<Notification>> {
    Ok(ctx.store.notifications_after(me, after, 64).await?)
}
