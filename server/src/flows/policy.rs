//! "May I?" — the checks every disclosure request shares (names against the convenant, the
//! recipient against the directory, the presented consents against the store), and the
//! `CheckBasis` dry run, which decides exactly as the real disclosure will.
use super::decision::{Party, Question};
use super::error::{FlowResult, Violations, echo, reject};
use super::{Ctx, now};
use crate::auth::Caller;
use crate::domain::basis::Basis;
use crate::domain::consent::{Consent, Facts};
use crate::domain::directory::OrgStatus;
use crate::ids::{Bsn, Category, Oin, Purpose, Role, SubjectKey};
use crate::ledger::{EntryOutcome, Event};
use signaalhub_policy as policy;

/// Most gezag holders / givers / recipients / purposes / categories / ids in one request.
pub const MAX_LIST: usize = 16;

/// What a disclosure request says besides who receives it and about whom.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    /// Purpose (`None` when the edge found it missing or malformed, and said so).
    pub purpose: Option<Purpose>,
    /// Categories (a malformed one is left out by the edge, which said so).
    pub categories: Vec<Category>,
    /// Facts about the subject as the sender states them.
    pub facts: Facts,
    /// The basis presented.
    pub basis: Basis,
    /// The role the caller acts in (`None`: the token's only role).
    pub acting_role: Option<Role>,
    /// The purpose the data was received for, when passed on.
    pub received_for: Option<Purpose>,
    /// Recorded exemption from informing the family.
    pub inform_exemption: Option<String>,
}

/// `CheckBasis`: may the caller disclose `ask` about `subject` to `recipient_oin`? The dry run
/// names every bad field at once, so the edge hands its own findings over (`invalid`) instead of
/// answering before the convenant's checks ran.
#[derive(Debug, Clone)]
pub struct CheckBasis {
    /// The recipient (`None` when the edge found the OIN malformed; said in `invalid`).
    pub recipient_oin: Option<Oin>,
    /// The subject (`None` when the edge found the BSN invalid; said in `invalid`).
    pub subject: Option<Bsn>,
    /// The rest.
    pub ask: Ask,
    /// What the edge found wrong with the request's structure.
    pub invalid: Violations,
}

impl Ask {
    /// The purpose, which the edge has checked is present (else a violation, as the edge said).
    pub fn purpose(&self) -> FlowResult<&Purpose> {
        self.purpose
            .as_ref()
            .ok_or_else(|| super::FlowError::invalid("purpose", PURPOSE_REQUIRED))
    }
}

const PURPOSE_REQUIRED: &str = "required: a purpose declared in the convenant";

/// Checks the names of `ask` against the convenant: purpose, categories, legal basis,
/// `received_for`, and that some basis is presented.
pub fn check_names(ctx: &Ctx, ask: &Ask, bad: &mut Violations) {
    let p = &ctx.policy;
    match &ask.purpose {
        Some(purpose) if !p.is_known_purpose(purpose) => bad.push((
            "purpose",
            format!("{purpose:?} is not a purpose declared in the convenant"),
        )),
        None if !bad.iter().any(|(f, _)| *f == "purpose") => {
            bad.push(("purpose", PURPOSE_REQUIRED.into()))
        }
        _ => {}
    }
    check_list(
        "categories",
        &ask.categories,
        |n| p.is_known_category(n),
        true,
        bad,
    );
    if let Some(name) = ask.basis.legal_name()
        && !p.is_known_basis(name)
    {
        bad.push((
            "basis.legal.basis",
            format!("{:?} is not a basis declared in the convenant", echo(name)),
        ));
    }
    if ask.basis.consent_ids.len() > MAX_LIST {
        bad.push(("basis.consent_ids", format!("at most {MAX_LIST}")));
    }
    if ask.basis.legal.is_none() && ask.basis.consent_ids.is_empty() {
        bad.push((
            "basis",
            "give a legal basis with its evidence, or the ids of recorded consents".into(),
        ));
    }
    if let Some(r) = &ask.received_for
        && !p.is_known_purpose(r)
    {
        bad.push((
            "received_for",
            "not a purpose declared in the convenant".into(),
        ));
    }
}

/// The purposes for which data about one of `subjects` was delivered to `me` (signals,
/// zorgmeldingen, handovers), as the disclosure log records them: one read of the store's index
/// of received purposes, which does not grow with the person's history.
pub async fn received_purposes(
    ctx: &Ctx,
    me: &Oin,
    subjects: &[SubjectKey],
) -> FlowResult<Vec<Purpose>> {
    let keys: Vec<&str> = subjects
        .iter()
        .flat_map(|s| s.all().iter().map(|p| p.as_str()))
        .collect();
    let mut out: Vec<Purpose> = ctx
        .store
        .received_purposes(&keys, me.as_str())
        .await?
        .iter()
        // A delivered entry's purpose passed the convenant, so it is always a name.
        .filter_map(|p| p.parse::<Purpose>().ok())
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// The purposes a disclosure by `me` about `subjects` passes data on from (the floor's purpose
/// limitation), from the hub's own records rather than a field the client may leave out. With
/// a legal basis of its own (meldrecht with its evidence, a statutory task) the sender discloses
/// on that ground whatever it received before: none. On consent alone: every purpose for which
/// data about one of the subjects was delivered to the sender's organisation, other than the
/// purpose of this disclosure, and the `received_for` the client stated (which can only add).
/// The decision is asked once per purpose ([`received_for`]); a signal keeps them, so its
/// delivery is judged against each again.
pub async fn onward_from(
    ctx: &Ctx,
    me: &Oin,
    ask: &Ask,
    subjects: &[SubjectKey],
) -> FlowResult<Vec<Purpose>> {
    if ask.basis.legal.is_some() {
        return Ok(Vec::new());
    }
    let mut r = received_purposes(ctx, me, subjects).await?;
    if let Some(s) = &ask.received_for
        && !r.contains(s)
    {
        r.push(s.clone());
    }
    r.retain(|p| Some(p) != ask.purpose.as_ref());
    r.sort();
    Ok(r)
}

/// The `received_for` a decision is asked with, once each (for `Ctx::decide_each`): every
/// purpose in `received` (see [`onward_from`]), or none when nothing was received.
pub fn received_for(received: &[Purpose]) -> impl Iterator<Item = Option<&Purpose>> {
    let none = received.is_empty().then_some(None);
    received.iter().map(Some).chain(none)
}

/// Checks a list of convenant names with `known`, collecting violations under `field`.
pub fn check_list<N: std::ops::Deref<Target = str> + std::fmt::Debug>(
    field: &'static str,
    names: &[N],
    known: impl Fn(&str) -> bool,
    required: bool,
    bad: &mut Violations,
) {
    if required && names.is_empty() {
        bad.push((field, "at least one is required".into()));
    }
    if names.len() > MAX_LIST {
        bad.push((field, format!("at most {MAX_LIST}")));
        return;
    }
    for n in names {
        if !known(n) {
            bad.push((field, format!("{n:?} is not declared in the convenant")));
        }
    }
}

/// The recipient as a party, when it is an active organisation in the directory.
pub fn active_recipient(
    ctx: &Ctx,
    field: &'static str,
    oin: &Oin,
    bad: &mut Violations,
) -> Option<Party> {
    let dir = ctx.directory.snapshot();
    match dir.orgs.get(oin) {
        Some(e) if e.org.status == OrgStatus::Active => {
            Some(Party::new(oin, e.org.sector.to_string()))
        }
        _ => {
            bad.push((
                field,
                format!("{oin} is not an active organisation in the directory"),
            ));
            None
        }
    }
}

/// The consents `basis` presents, each recorded and about one of `subjects`.
pub async fn presented_consents(
    ctx: &Ctx,
    basis: &Basis,
    subjects: &[SubjectKey],
    bad: &mut Violations,
) -> FlowResult<Vec<Consent>> {
    if basis.consent_ids.is_empty() {
        return Ok(Vec::new());
    }
    let consents = ctx.store.get_consents(&basis.consent_ids).await?;
    for id in &basis.consent_ids {
        match consents.iter().find(|c| &c.id == id) {
            None => bad.push((
                "basis.consent_ids",
                format!("no consent {:?} is recorded", echo(id)),
            )),
            Some(c) if !subjects.iter().any(|s| s.matches(c.subject.as_str())) => bad.push((
                "basis.consent_ids",
                format!(
                    "consent {} was given about another person than {}",
                    echo(id),
                    if subjects.len() == 1 {
                        "subject_bsn"
                    } else {
                        "any of subject_bsns"
                    }
                ),
            )),
            Some(_) => {}
        }
    }
    Ok(consents)
}

/// The presented consents that concern `subject`, in the order presented.
pub fn consents_about<'c>(
    basis: &Basis,
    consents: &'c [Consent],
    subject: &SubjectKey,
) -> Vec<&'c Consent> {
    basis
        .consent_ids
        .iter()
        .filter_map(|id| consents.iter().find(|c| &c.id == id))
        .filter(|c| subject.matches(c.subject.as_str()))
        .collect()
}

/// Whether `recipient` is registered as involved with `subject` at `t` (the involvement register;
/// flows that require involvement, like the maatregel answer, decide on it).
pub async fn recipient_involved(
    ctx: &Ctx,
    recipient: &str,
    subject: &SubjectKey,
    t: i64,
) -> FlowResult<bool> {
    Ok(ctx.store.is_involved(recipient, subject.all(), t).await?)
}

/// `CheckBasis`: the decision the real disclosure would get now.
pub async fn check_basis<'c>(
    ctx: &'c Ctx,
    caller: &Caller,
    cmd: CheckBasis,
) -> FlowResult<policy::Decision<'c>> {
    let role = ctx.acting_role(caller, cmd.ask.acting_role.as_ref())?;
    let mut bad = cmd.invalid;
    let recipient = cmd
        .recipient_oin
        .as_ref()
        .and_then(|o| active_recipient(ctx, "recipient_oin", o, &mut bad));
    check_names(ctx, &cmd.ask, &mut bad);
    reject(std::mem::take(&mut bad))?;
    let purpose = cmd.ask.purpose()?;
    let Some(subject) = cmd.subject.as_ref().map(|b| ctx.pseudonymizer.subject(b)) else {
        return Err(super::FlowError::invalid("subject_bsn", "not a valid BSN"));
    };
    let consents = presented_consents(
        ctx,
        &cmd.ask.basis,
        std::slice::from_ref(&subject),
        &mut bad,
    )
    .await?;
    reject(bad)?;
    let Some(recipient) = recipient else {
        return Err(super::FlowError::invalid(
            "recipient_oin",
            "not an active organisation in the directory",
        ));
    };
    let t = now();
    let mine = consents_about(&cmd.ask.basis, &consents, &subject);
    let received = onward_from(ctx, caller.oin(), &cmd.ask, std::slice::from_ref(&subject)).await?;
    // Judged as the real disclosure would be: against every purpose the caller received data
    // about the subject for (see `onward_from`).
    let decide = |recipient_involved: bool| {
        ctx.decide_each(received_for(&received).map(|received_for| Question {
            actor: Party::new(caller.oin(), caller.sector().as_str()),
            role: &role,
            recipient: recipient.clone(),
            purpose,
            categories: &cmd.ask.categories,
            facts: &cmd.ask.facts,
            basis: &cmd.ask.basis,
            consents: &mine,
            recipient_involved,
            received_for,
            inform_exemption: cmd.ask.inform_exemption.as_deref(),
            now: t,
        }))
    };
    // The involvement register is consulted only when the answer depends on it, and then the
    // consultation is logged: CheckBasis is no unlogged oracle for who is involved with whom.
    let without = decide(false);
    if without.is_allowed() {
        return Ok(without);
    }
    let with = decide(true);
    if !with.is_allowed() {
        return Ok(without);
    }
    let involved = recipient_involved(ctx, recipient.oin_str(), &subject, t).await?;
    let mut e = ctx
        .entry(
            caller,
            &role,
            Event::InvolvementChecked,
            EntryOutcome::Disclosed,
        )
        .subjects([subject.as_str()])
        .recipient(recipient.oin_str())
        .about(purpose.clone(), cmd.ask.categories.iter().cloned())
        .basis_strings(cmd.ask.basis.log_strings());
    e.entry.checks.relationship = involved;
    ctx.store.append_log(std::slice::from_ref(&e)).await?;
    Ok(if involved { with } else { without })
}
