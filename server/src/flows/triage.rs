//! Triage and handover: Veilig Thuis records the triage of a melding — a police zorgmelding or a
//! signal sent to it under the meldcode — (the Arnhem criteria -> joint-visit advice, with the
//! recidive), the triagist's decision (which may differ from the advice, with a reason), records
//! a family's refusal, and hands the case over to a wijkteam as decided — re-sealed by Veilig
//! Thuis, decided by the convenant per person (statutory task and the family's consent), with a
//! letter for the family, and decided again at delivery with the consents as they stand. Every
//! act is logged.
use super::decision::{Party, Question};
use super::envelope::{self, Expected};
use super::error::{FlowError, FlowResult, Refusal, echo, reject};
use super::idempotency::{self, Fingerprint};
use super::log::{known_name, letter_sender};
use super::policy::{Ask, active_recipient, check_names, consents_about};
use super::zorgmelding::{Recidive, melding_for_recipient, recidive};
use super::{Ctx, new_id, now};
use crate::auth::Caller;
use crate::domain::basis::Basis;
use crate::domain::consent::{Consent, Facts};
use crate::domain::envelope::SealedEnvelope;
use crate::domain::letter::{Language, Vocabulary};
use crate::domain::signal::DeliveryState;
use crate::domain::signal::StoredReason;
use crate::domain::zorgmelding::{
    ContactPerson, FamilyDeclined, HandoverRecord, HandoverState, LetterInput, TriageAnswersStored,
    TriageRecord, civil_date, family_letter,
};
use crate::domain::zorgmelding::{
    DecisionKind, DecisionReason, HandoverAnswer, Melding, TriageDecision,
};
use crate::ids::{Bsn, ConsentId, HandoverId, Oin, SubjectKey};
use crate::ids::{Category, Purpose, Role};
use crate::ids::{MeldingKind, MeldingRef, TriageId};
use crate::ledger::{EntryOutcome, Event, PendingEntry};
use crate::store::StoreError;
use crate::store::zorgmelding::HandoverVerdict;
use signaalhub_policy as policy;
use signaalhub_policy::triage::{TriageAdvice, advise};

/// The purpose of a handover to the wijkteam (a purpose of the convenant).
pub static HANDOVER_PURPOSE: Purpose = Purpose::known("overdracht_hulpverlening");
/// Most envelopes in one handover.
pub const MAX_HANDOVER_ENVELOPES: usize = 16;
/// Most persons in one handover.
pub const MAX_HANDOVER_SUBJECTS: usize = 8;
/// Refusal code: the family declined the wijkteam.
pub const FAMILY_DECLINED: &str = "FAMILY_DECLINED_WIJKTEAM";
/// Refusal code: the triage found acute danger.
pub const ACUTE: &str = "ACUTE_STAYS_WITH_VEILIG_THUIS";
/// Refusal code: the triagist decided that the case does not go to a wijkteam.
pub const DECISION_KEEPS_CASE: &str = "DECISION_KEEPS_CASE";
/// A signal under this purpose, delivered to Veilig Thuis, is a melding (meldcode, meldrecht).
pub static MELDCODE_PURPOSE: Purpose =
    Purpose::known(crate::domain::zorgmelding::MELDING_SIGNAL_PURPOSES[0]);
/// A signal of acute danger delivered to Veilig Thuis is a melding too.
pub static ACUTE_PURPOSE: Purpose =
    Purpose::known(crate::domain::zorgmelding::MELDING_SIGNAL_PURPOSES[1]);
/// The category under which the triage outcome itself is handed over (sample convenant:
/// "Samenvatting van de melding en de triage-uitkomst van Veilig Thuis").
pub static SUMMARY_CATEGORY: Category = Category::known("melding_samenvatting");

/// `RecordTriage`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct RecordTriage {
    /// The melding triaged.
    pub melding: MeldingRef,
    /// The answers to the Arnhem criteria.
    pub answers: TriageAnswersStored,
    /// Whether Veilig Thuis found acute danger.
    pub acute: bool,
    /// Veilig Thuis's own case reference (not a BSN).
    pub case_reference: String,
    /// The role the caller acts in.
    pub acting_role: Option<Role>,
}

/// A triage with what it rests on.
#[derive(Debug, Clone)]
pub struct TriageView {
    /// The triage as recorded.
    pub triage: TriageRecord,
    /// Its advice.
    pub advice: TriageAdvice,
    /// The recidive of its melding.
    pub recidive: Recidive,
    /// The triagist's recorded decision (`None`: the triage follows its advice).
    pub decision: Option<TriageDecision>,
}

impl TriageView {
    /// The decision in force: the triagist's, else the advice's.
    pub fn decision_kind(&self) -> DecisionKind {
        in_force(&self.advice, self.decision.as_ref())
    }
}

/// The decision in force on a triage with `advice`: the triagist's, else the advice's.
fn in_force(advice: &TriageAdvice, decided: Option<&TriageDecision>) -> DecisionKind {
    decided.map_or_else(|| DecisionKind::following(advice.kind), |d| d.decision)
}

/// `DecideTriage`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct DecideTriage {
    /// The triage decided on (the latest of its melding).
    pub triage_id: TriageId,
    /// The decision.
    pub decision: DecisionKind,
    /// Why (required when the decision differs from the advice).
    pub reason: Option<DecisionReason>,
    /// The role the caller acts in.
    pub acting_role: Option<Role>,
}

/// What `GetTriage` shows Veilig Thuis.
#[derive(Debug, Clone)]
pub struct TriageState {
    /// The latest triage, if any.
    pub triage: Option<TriageView>,
    /// The family's refusal, if recorded.
    pub declined: Option<FamilyDeclined>,
}

/// `RecordFamilyDeclined`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct RecordFamilyDeclined {
    /// The melding.
    pub melding: MeldingRef,
    /// A reference to who declined (`ouder-1`), never a name.
    pub declined_by: String,
    /// The role the caller acts in.
    pub acting_role: Option<Role>,
}

/// `HandOver`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct HandOver {
    /// Sender-chosen id, unique per sender.
    pub handover_id: HandoverId,
    /// The melding handed over.
    pub melding: MeldingRef,
    /// The wijkteam.
    pub recipient_oin: Oin,
    /// The persons handed over (1 to [`MAX_HANDOVER_SUBJECTS`], each once).
    pub subjects: Vec<Bsn>,
    /// Categories (a malformed one is left out by the edge, which said so).
    pub categories: Vec<Category>,
    /// The basis presented.
    pub basis: Basis,
    /// The envelopes re-sealed for the wijkteam (1 to [`MAX_HANDOVER_ENVELOPES`], each with its
    /// own id).
    pub envelopes: Vec<SealedEnvelope>,
    /// Veilig Thuis's contact for the family.
    pub vt_contact: ContactPerson,
    /// The wijkteam's contact for the family.
    pub wijkteam_contact: ContactPerson,
    /// The role the caller acts in.
    pub acting_role: Option<Role>,
    /// The language of the family letter.
    pub letter_language: Language,
    /// The request's own bytes without envelopes (only their ids), BSNs and role, for the
    /// idempotency hash.
    pub canonical: Vec<u8>,
}

/// A handover as its viewer may see it.
#[derive(Debug, Clone)]
pub struct HandoverView {
    /// The handover.
    pub handover: HandoverRecord,
    /// The full advice of the triage it rests on: for Veilig Thuis, and for the wijkteam only
    /// when the triage outcome was handed over (category [`SUMMARY_CATEGORY`]).
    pub advice: Option<TriageAdvice>,
    /// The encoded envelopes, for the wijkteam once delivered.
    pub envelopes: Vec<Vec<u8>>,
    /// The wijkteam's answers, oldest first (a question's envelope is sealed to Veilig Thuis).
    pub answers: Vec<HandoverAnswer>,
    /// When a delivered handover should be answered by (the convenant's
    /// `handover_answer_within` after delivery); `None` before delivery or once withheld.
    pub answer_due: Option<i64>,
    /// Delivered, unanswered and past [`HandoverView::answer_due`]: Veilig Thuis should ask.
    pub answer_overdue: bool,
}

/// What `HandOver` answers.
#[derive(Debug)]
pub struct HandedOver<'c> {
    /// The handover as the sender sees it.
    pub view: HandoverView,
    /// One per person (empty for a retry).
    pub decisions: Vec<policy::Decision<'c>>,
    /// Whether this was a retry of an accepted request.
    pub duplicate: bool,
}

/// The advice a triage's answers give.
pub fn advice_of(t: &TriageRecord) -> TriageAdvice {
    advise(&t.answers.to_policy(t.earlier_reports, t.acute))
}

/// The melding `id` when it was addressed to the caller: a zorgmelding to it, or a signal under
/// a melding purpose ([`MELDCODE_PURPOSE`], [`ACUTE_PURPOSE`]) delivered to it and not erased.
/// Anything else is not found, so nobody learns of a melding to another organisation.
pub async fn melding(ctx: &Ctx, caller: &Caller, id: &MeldingRef) -> FlowResult<Melding> {
    let (sender, signal_id) = match id.kind() {
        MeldingKind::Zorgmelding(zm) => {
            return Ok(Melding::from(
                &melding_for_recipient(ctx, caller, zm).await?,
            ));
        }
        MeldingKind::Signal(sender, signal_id) => (sender, signal_id),
    };
    let not_found = || {
        FlowError::NotFound(format!(
            "no signal {:?} from {sender} was delivered to you",
            echo(signal_id)
        ))
    };
    let delivery = ctx
        .store
        .deliveries_of(sender.as_str(), signal_id)
        .await?
        .into_iter()
        .find(|d| &d.recipient_oin == caller.oin())
        .ok_or_else(not_found)?;
    if !matches!(
        delivery.state,
        DeliveryState::Delivered | DeliveryState::Acknowledged
    ) {
        return Err(not_found());
    }
    let s = ctx
        .store
        .get_signal(sender.as_str(), signal_id)
        .await?
        .ok_or_else(not_found)?;
    if s.envelope.is_none() {
        return Err(FlowError::Precondition(format!(
            "signal {signal_id} was erased at the end of its retention"
        )));
    }
    if s.purpose != MELDCODE_PURPOSE && s.purpose != ACUTE_PURPOSE {
        return Err(FlowError::Precondition(format!(
            "signal {signal_id} is not a melding to Veilig Thuis: its purpose is {}, a melding's is {MELDCODE_PURPOSE} or {ACUTE_PURPOSE}",
            s.purpose
        )));
    }
    Ok(Melding {
        id: id.clone(),
        melder_may_be_named: s.basis.reporter_may_be_named(),
        melder_oin: s.sender_oin,
        recipient_oin: caller.oin().clone(),
        purpose: s.purpose,
        subjects: s.subjects,
        created_at: s.created_at,
        created_cursor: delivery.cursor + 1,
    })
}

/// `RecordTriage`: Veilig Thuis records its triage of a melding addressed to it; the hub counts
/// the earlier reports (recidive) itself. The entry's reasons hold the advice
/// (`advice:<code>`).
pub async fn record_triage(
    ctx: &Ctx,
    caller: &Caller,
    cmd: RecordTriage,
) -> FlowResult<TriageView> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let m = melding(ctx, caller, &cmd.melding).await?;
    let (rec, _) = recidive(ctx, caller.oin().as_str(), &m).await?;
    let t = TriageRecord {
        triage_id: new_id::<crate::ids::Triage>()?,
        melding: m.id.clone(),
        vt_oin: caller.oin().clone(),
        answers: cmd.answers,
        acute: cmd.acute,
        case_reference: cmd.case_reference,
        advice: String::new(),
        earlier_reports: rec.earlier_zorgmeldingen + rec.earlier_signals,
        role: role.clone(),
        professional: caller.professional.id.clone(),
        recorded_at: now(),
    };
    let advice = advice_of(&t);
    let t = TriageRecord {
        advice: advice.kind.code().into(),
        ..t
    };
    let e = ctx
        .entry(caller, &role, Event::TriageRecorded, EntryOutcome::Recorded)
        .subjects(m.subjects.iter().cloned())
        .about(m.purpose.clone(), Vec::<String>::new())
        .reasons([format!("advice:{}", advice.kind.code())])
        .reference(t.triage_id.clone());
    ctx.store.insert_triage(&t, &e).await?;
    Ok(TriageView {
        triage: t,
        advice,
        recidive: rec,
        decision: None,
    })
}

/// `DecideTriage`: the triagist decides on the latest triage of a melding addressed to the
/// caller. A decision other than the advice needs a reason; one decision per triage. Logged with
/// the advice, the decision and the reason.
pub async fn decide_triage(
    ctx: &Ctx,
    caller: &Caller,
    cmd: DecideTriage,
) -> FlowResult<TriageView> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let not_found = || {
        FlowError::NotFound(format!(
            "no triage {:?} of yours is recorded",
            echo(&cmd.triage_id)
        ))
    };
    let t = ctx
        .store
        .get_triage(&cmd.triage_id)
        .await?
        .filter(|t| &t.vt_oin == caller.oin())
        .ok_or_else(not_found)?;
    let m = melding(ctx, caller, &t.melding).await?;
    match ctx.store.latest_triage(&m.id).await? {
        Some(latest) if latest.triage_id == t.triage_id => {}
        Some(latest) => {
            return Err(FlowError::Precondition(format!(
                "a newer triage {} of this melding was recorded: decide on that one",
                latest.triage_id
            )));
        }
        None => return Err(not_found()),
    }
    let advice = advice_of(&t);
    let follows = cmd.decision == DecisionKind::following(advice.kind);
    if !follows && cmd.reason.is_none() {
        return Err(FlowError::invalid(
            "reason",
            format!(
                "the decision {} differs from the advice {}: give the reason",
                cmd.decision.code(),
                advice.kind.code()
            ),
        ));
    }
    let d = TriageDecision {
        triage_id: t.triage_id.clone(),
        melding: m.id.clone(),
        vt_oin: caller.oin().clone(),
        decision: cmd.decision,
        reason: cmd.reason,
        role: role.clone(),
        professional: caller.professional.id.clone(),
        decided_at: now(),
    };
    let reasons = [
        Some(format!("advice:{}", advice.kind.code())),
        Some(format!("decision:{}", d.decision.code())),
        d.reason.map(|r| format!("reason:{}", r.code())),
    ];
    let e = ctx
        .entry(caller, &role, Event::TriageDecided, EntryOutcome::Recorded)
        .subjects(m.subjects.iter().cloned())
        .about(m.purpose.clone(), Vec::<String>::new())
        .reasons(reasons.into_iter().flatten())
        .reference(t.triage_id.clone());
    ctx.store
        .insert_triage_decision(&d, &e)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => FlowError::Precondition(format!(
                "triage {} is decided already; record a new triage to decide again",
                t.triage_id
            )),
            other => other.into(),
        })?;
    let (recidive, _) = recidive(ctx, caller.oin().as_str(), &m).await?;
    Ok(TriageView {
        triage: t,
        advice,
        recidive,
        decision: Some(d),
    })
}

/// `GetTriage`: the latest triage of a melding addressed to the caller, and the family's refusal.
pub async fn get_triage(ctx: &Ctx, caller: &Caller, id: &MeldingRef) -> FlowResult<TriageState> {
    let m = melding(ctx, caller, id).await?;
    let triage = match ctx.store.latest_triage(&m.id).await? {
        Some(t) => {
            let (recidive, _) = recidive(ctx, &m.recipient_oin, &m).await?;
            Some(TriageView {
                advice: advice_of(&t),
                decision: ctx.store.triage_decision(&t.triage_id).await?,
                triage: t,
                recidive,
            })
        }
        None => None,
    };
    let declined = ctx.store.family_declined(&m.id).await?;
    Ok(TriageState { triage, declined })
}

/// `RecordFamilyDeclined`: the family does not want the wijkteam; no handover of the melding
/// goes out after this.
pub async fn record_family_declined(
    ctx: &Ctx,
    caller: &Caller,
    cmd: RecordFamilyDeclined,
) -> FlowResult<FamilyDeclined> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let m = melding(ctx, caller, &cmd.melding).await?;
    let d = FamilyDeclined {
        melding: m.id.clone(),
        declined_by: cmd.declined_by,
        recorded_by_oin: caller.oin().clone(),
        recorded_at: now(),
    };
    let e = ctx
        .entry(
            caller,
            &role,
            Event::FamilyDeclinedRecorded,
            EntryOutcome::Recorded,
        )
        .subjects(m.subjects.iter().cloned())
        .about(&HANDOVER_PURPOSE, Vec::<String>::new())
        .reference(m.id.clone());
    ctx.store
        .record_family_declined(&d, &e)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => FlowError::Precondition(
                "the family's refusal is already recorded for this melding".into(),
            ),
            other => other.into(),
        })?;
    Ok(d)
}

/// The handover as `viewer` may see it, with `envelopes`, its answers and whether an answer is
/// overdue.
pub(super) async fn view(
    ctx: &Ctx,
    h: HandoverRecord,
    viewer: &str,
    envelopes: Vec<Vec<u8>>,
) -> FlowResult<HandoverView> {
    let answers = ctx
        .store
        .handover_answers(&h.sender_oin, &h.handover_id)
        .await?;
    let triage = if sees_advice(&h, viewer) {
        ctx.store.get_triage(&h.triage_id).await?
    } else {
        None
    };
    Ok(view_of(ctx, h, viewer, envelopes, answers, triage.as_ref()))
}

/// Whether `viewer` sees the triage's advice with the handover: Veilig Thuis, or a wijkteam the
/// summary was handed over to.
fn sees_advice(h: &HandoverRecord, viewer: &str) -> bool {
    viewer == h.sender_oin || h.categories.contains(&SUMMARY_CATEGORY)
}

/// [`view`] from what was read already (its answers, and its triage where `viewer` sees it).
fn view_of(
    ctx: &Ctx,
    h: HandoverRecord,
    viewer: &str,
    envelopes: Vec<Vec<u8>>,
    answers: Vec<HandoverAnswer>,
    triage: Option<&TriageRecord>,
) -> HandoverView {
    // Delivery is the handover's last change of state: `updated_at` is when it was delivered.
    let answer_due = (h.state == HandoverState::Delivered).then(|| {
        h.updated_at
            .saturating_add(i64::try_from(ctx.policy.handover_answer_secs()).unwrap_or(i64::MAX))
    });
    let answer_overdue = answers.is_empty() && answer_due.is_some_and(|due| now() > due);
    let advice = triage.filter(|_| sees_advice(&h, viewer)).map(advice_of);
    HandoverView {
        handover: h,
        advice,
        envelopes,
        answers,
        answer_due,
        answer_overdue,
    }
}

/// A refusal the convenant does not decide: the case stays with Veilig Thuis.
fn refusal(code: &'static str, nl: &str, en: &str) -> FlowError {
    FlowError::Refused(Box::new(Refusal {
        code,
        rule: "handover",
        nl: nl.to_owned(),
        en: en.to_owned(),
        message: format!("handover refused: {en} ({code}); the case stays with Veilig Thuis"),
    }))
}

fn declined(d: &FamilyDeclined) -> FlowError {
    let date = civil_date(d.recorded_at);
    refusal(
        FAMILY_DECLINED,
        &format!(
            "het gezin wil geen hulp van het wijkteam ({} op {date}); de zaak blijft bij Veilig Thuis",
            d.declined_by
        ),
        &format!(
            "the family declined the wijkteam ({} on {date})",
            d.declined_by
        ),
    )
}

/// Decides a handover again at delivery, per person, with the consents as they stand and the
/// involvement register asked again (`involved`, per person, at `t`), as sending decided.
fn redecide<'c>(
    ctx: &'c Ctx,
    h: &HandoverRecord,
    consents: &[Consent],
    involved: &[bool],
    t: i64,
) -> policy::Decision<'c> {
    let mine: Vec<Vec<&Consent>> = h
        .subjects
        .iter()
        .map(|subject| {
            consents
                .iter()
                .filter(|c| ctx.pseudonymizer.same_person(c.subject.as_str(), subject))
                .collect()
        })
        .collect();
    let no_facts = Facts::default();
    ctx.decide_each(mine.iter().enumerate().map(|(i, consents)| Question {
        actor: ctx.party(&h.sender_oin),
        role: &h.sender_role,
        recipient: ctx.party(&h.recipient_oin),
        purpose: &h.purpose,
        categories: &h.categories,
        facts: h.facts.get(i).unwrap_or(&no_facts),
        basis: &h.basis,
        consents,
        recipient_involved: involved.get(i).copied().unwrap_or(false),
        received_for: Some(&h.received_for),
        inform_exemption: None,
        now: t,
    }))
}

/// The log entry of an act on a handover, attributed to the Veilig Thuis professional who sent it.
fn handover_entry(
    ctx: &Ctx,
    h: &HandoverRecord,
    event: Event,
    outcome: EntryOutcome,
    reasons: Vec<String>,
) -> PendingEntry {
    let mut e = ctx
        .entry_for(
            &h.sender_oin,
            &h.sender_professional,
            &h.sender_role,
            event,
            outcome,
        )
        .subjects(h.subjects.iter().cloned())
        .recipient(h.recipient_oin.clone())
        .about(h.purpose.clone(), h.categories.iter().cloned())
        .basis(&h.basis)
        .reasons(reasons)
        .reference(h.handover_id.clone());
    // A handover's consent flag is the consents it relies on, not those presented.
    e.entry.checks.consent = !h.consent_ids.is_empty();
    e.entry.checks.emergency = false;
    e
}

/// What one handover request is about, for its refusal entries.
struct Refusals<'a> {
    ctx: &'a Ctx,
    caller: &'a Caller,
    role: &'a Role,
    cmd: &'a HandOver,
    subjects: &'a [SubjectKey],
}

impl Refusals<'_> {
    /// A refusal is logged like a policy denial, with its code.
    fn entry(&self, code: &str) -> PendingEntry {
        self.ctx
            .entry(
                self.caller,
                self.role,
                Event::HandoverDenied,
                EntryOutcome::Denied,
            )
            .subjects(self.subjects.iter().map(|s| s.as_str().to_owned()))
            .recipient(self.cmd.recipient_oin.clone())
            .about(&HANDOVER_PURPOSE, self.cmd.categories.iter().cloned())
            .basis_strings(self.cmd.basis.log_strings())
            .reasons([code])
            .reference(self.cmd.handover_id.clone())
    }

    /// Logs the refusal `code` and returns `err`.
    async fn log(&self, code: &str, err: FlowError) -> FlowError {
        match self.ctx.store.append_log(&[self.entry(code)]).await {
            Ok(_) => err,
            Err(e) => e.into(),
        }
    }
}

/// What the decisions of a handover found, per person.
struct Decided<'c> {
    decisions: Vec<policy::Decision<'c>>,
    facts: Vec<Facts>,
    relied: Vec<ConsentId>,
}

/// Decides the handover for each person on their own consents (and the legal basis), after
/// checking the names against the convenant and the recipient against the directory.
async fn decide_handover<'c>(
    ctx: &'c Ctx,
    caller: &Caller,
    role: &Role,
    cmd: &HandOver,
    m: &Melding,
    subjects: &[SubjectKey],
) -> FlowResult<Decided<'c>> {
    let mut bad = Vec::new();
    let all_consents = if cmd.basis.consent_ids.is_empty() {
        Vec::new()
    } else {
        ctx.store.get_consents(&cmd.basis.consent_ids).await?
    };
    for id in &cmd.basis.consent_ids {
        match all_consents.iter().find(|k| &k.id == id) {
            None => bad.push((
                "basis.consent_ids",
                format!("no consent {:?} is recorded", echo(id)),
            )),
            Some(k) if !subjects.iter().any(|s| s.matches(k.subject.as_str())) => bad.push((
                "basis.consent_ids",
                format!("consent {id} is about none of the persons handed over"),
            )),
            Some(_) => {}
        }
    }
    reject(bad)?;
    let mut out = Decided {
        decisions: Vec::new(),
        facts: Vec::new(),
        relied: Vec::new(),
    };
    for subject in subjects {
        // Each person is decided on their own consents.
        let mut basis = cmd.basis.clone();
        basis.consent_ids = all_consents
            .iter()
            .filter(|k| subject.matches(k.subject.as_str()))
            .map(|k| k.id.clone())
            .collect();
        let ask = Ask {
            purpose: Some(HANDOVER_PURPOSE.clone()),
            categories: cmd.categories.clone(),
            facts: Facts::default(),
            basis,
            acting_role: Some(role.clone()),
            received_for: Some(m.purpose.clone()),
            inform_exemption: None,
        };
        let mut bad = Vec::new();
        let recipient = active_recipient(ctx, "recipient_oin", &cmd.recipient_oin, &mut bad);
        check_names(ctx, &ask, &mut bad);
        reject(bad)?;
        let Some(recipient) = recipient else {
            return Err(FlowError::invalid(
                "recipient_oin",
                "not an active organisation in the directory",
            ));
        };
        let t = now();
        let involved =
            super::policy::recipient_involved(ctx, recipient.oin_str(), subject, t).await?;
        let mine = consents_about(&ask.basis, &all_consents, subject);
        let d = ctx.decide(&Question {
            actor: Party::new(caller.oin(), caller.sector().as_str()),
            role,
            recipient,
            purpose: &HANDOVER_PURPOSE,
            categories: &ask.categories,
            facts: &ask.facts,
            basis: &ask.basis,
            consents: &mine,
            recipient_involved: involved,
            received_for: ask.received_for.as_ref(),
            inform_exemption: None,
            now: t,
        });
        for i in &d.consents_relied_on {
            if let Some(k) = mine.get(i)
                && !out.relied.contains(&k.id)
            {
                out.relied.push(k.id.clone());
            }
        }
        out.facts
            .push(mine.first().map(|k| k.facts.clone()).unwrap_or_default());
        out.decisions.push(d);
    }
    Ok(out)
}

/// The family letter's input: who reported, who hands over to whom, what and how, in the
/// language asked and the convenant's words; Veilig Thuis's privacy officer from the directory.
/// The reporter is named only when it is the police or agreed to be named (the melder is shielded
/// by default).
fn letter_input(
    ctx: &Ctx,
    cmd: &HandOver,
    m: &Melding,
    me: &Oin,
    joint_visit: bool,
    with_consent: bool,
    t: i64,
) -> LetterInput {
    let words = Vocabulary::new(ctx.policy.convenant(), cmd.letter_language);
    let p = cmd.letter_language.phrases();
    let name = |oin: &str| known_name(ctx, oin).unwrap_or_else(|| p.unknown_org.to_owned());
    LetterInput {
        language: cmd.letter_language,
        date: t,
        reporter_name: if m.melder_may_be_named {
            name(&m.melder_oin)
        } else {
            String::new()
        },
        vt: letter_sender(ctx, me),
        wijkteam_name: name(cmd.recipient_oin.as_str()),
        shared: cmd.categories.iter().map(|c| words.category(c)).collect(),
        ground: match cmd.basis.legal_name() {
            Some(b) => words.legal_basis(b),
            None => p.basis_consent.to_owned(),
        },
        joint_visit,
        with_consent,
        vt_contact: cmd.vt_contact.clone(),
        wijkteam_contact: cmd.wijkteam_contact.clone(),
    }
}

/// Checks the envelopes' outside against the request (each bound to its own id, sealed to the
/// wijkteam only); the keys are checked later, after a retry is answered.
fn check_bindings(cmd: &HandOver, me: &str) -> FlowResult<()> {
    let reference = cmd.basis.reference();
    let mut bad = Vec::new();
    for env in &cmd.envelopes {
        envelope::check_binding(
            env,
            Expected {
                sender: me,
                binding_id: &env.binding.signal_id,
                purpose: &HANDOVER_PURPOSE,
                categories: &cmd.categories,
                basis_reference: &reference,
                recipients: Some(&[&cmd.recipient_oin]),
            },
            &mut bad,
        );
    }
    reject(bad)
}

/// `HandOver`: Veilig Thuis hands a triaged melding over to a wijkteam. Refused (and logged)
/// when the family declined, the triage found acute danger or the convenant does not allow it
/// for some person; else stored pending, with the family letter, for delivery on request.
pub async fn hand_over<'c>(
    ctx: &'c Ctx,
    caller: &Caller,
    cmd: HandOver,
) -> FlowResult<HandedOver<'c>> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let me = caller.oin().as_str();
    let subjects = ctx.subject_keys(&cmd.subjects);
    ctx.refuse_merged_references(&cmd.subjects, &subjects)
        .await?;
    check_bindings(&cmd, me)?;
    let m = melding(ctx, caller, &cmd.melding).await?;
    let mut bad = Vec::new();
    for s in &subjects {
        if !m.subjects.iter().any(|x| s.matches(x)) {
            bad.push((
                "subject_bsns",
                "each person must be one the melding is about".to_owned(),
            ));
        }
    }
    reject(std::mem::take(&mut bad))?;
    let request_hash = idempotency::subjects_request_hash(&cmd.canonical, &subjects, &role);
    let content_digest = idempotency::content_digests(&cmd.envelopes);
    let id_what = format!("handover id {:?}", echo(&cmd.handover_id));
    if let Some(h) = ctx.store.get_handover(me, &cmd.handover_id).await? {
        // The same metadata and content digests, however sealed: a retry; else a conflict.
        idempotency::compare(
            Some(Fingerprint {
                request_hash: &h.request_hash,
                content_digest: h.content_digest.as_deref(),
            }),
            Fingerprint::new(&request_hash, &content_digest),
            &id_what,
        )?;
        return Ok(HandedOver {
            view: view(ctx, h, me, Vec::new()).await?,
            decisions: Vec::new(),
            duplicate: true,
        });
    }
    let refusals = Refusals {
        ctx,
        caller,
        role: &role,
        cmd: &cmd,
        subjects: &subjects,
    };
    if let Some(d) = ctx.store.family_declined(&m.id).await? {
        return Err(refusals.log(FAMILY_DECLINED, declined(&d)).await);
    }
    let triage = ctx
        .store
        .latest_triage(&m.id)
        .await?
        .ok_or_else(|| {
            FlowError::Precondition(
                "record the triage of this melding first (RecordTriage): the handover carries its advice".into(),
            )
        })?;
    let advice = advice_of(&triage);
    let recorded = ctx.store.triage_decision(&triage.triage_id).await?;
    let decision = in_force(&advice, recorded.as_ref());
    if !decision.hands_over() {
        let (code, err) = match &recorded {
            None => (
                ACUTE,
                refusal(
                    ACUTE,
                    "de triage stelt acuut gevaar vast: de zaak blijft bij Veilig Thuis",
                    "the triage found acute danger",
                ),
            ),
            Some(d) => (
                DECISION_KEEPS_CASE,
                refusal(
                    DECISION_KEEPS_CASE,
                    &format!("de triagist besloot: {}", d.decision.nl()),
                    &format!("the triagist decided {}: no handover", d.decision.code()),
                ),
            ),
        };
        return Err(refusals.log(code, err).await);
    }
    for env in &cmd.envelopes {
        envelope::check_current(ctx, env, &mut bad);
    }
    reject(bad)?;
    let decided = decide_handover(ctx, caller, &role, &cmd, &m, &subjects).await?;
    if let Some(d) = decided.decisions.iter().find(|d| !d.is_allowed()) {
        let e = refusals.entry("").decided(d);
        ctx.store.append_log(&[e]).await?;
        return Err(FlowError::denied(
            format!(
                "handover to {} refused; the case stays with Veilig Thuis",
                echo(&cmd.recipient_oin)
            ),
            d,
        ));
    }
    let t = now();
    let letter = crate::domain::letter::text(&family_letter(&letter_input(
        ctx,
        &cmd,
        &m,
        caller.oin(),
        decision == DecisionKind::JointVisit,
        !decided.relied.is_empty(),
        t,
    )));
    let record = HandoverRecord {
        sender_oin: caller.oin().clone(),
        handover_id: cmd.handover_id.clone(),
        request_hash,
        content_digest: Some(content_digest),
        melding: m.id.clone(),
        recipient_oin: cmd.recipient_oin.clone(),
        subjects: subjects.iter().map(|s| s.as_str().to_owned()).collect(),
        facts: decided.facts,
        categories: cmd.categories.clone(),
        purpose: HANDOVER_PURPOSE.clone(),
        basis: cmd.basis.clone(),
        received_for: m.purpose.clone(),
        advice: advice.kind.code().into(),
        decision: Some(decision),
        triage_id: triage.triage_id.clone(),
        vt_contact: cmd.vt_contact.clone(),
        wijkteam_contact: cmd.wijkteam_contact.clone(),
        letter,
        state: HandoverState::Pending,
        reasons: Vec::new(),
        consent_ids: decided.relied,
        sender_role: role.clone(),
        sender_professional: caller.professional.id.clone(),
        created_at: t,
        updated_at: t,
        retain_until: decided
            .decisions
            .iter()
            .filter_map(|d| d.retain_until)
            .max()
            .unwrap_or(t),
    };
    let entry = handover_entry(
        ctx,
        &record,
        Event::HandoverSent,
        EntryOutcome::Recorded,
        Vec::new(),
    );
    let envelopes: Vec<Vec<u8>> = cmd.envelopes.iter().map(|e| e.encoded.clone()).collect();
    // As for a signal: the wijkteam's involvement may still be stored under an older version.
    ctx.remember_older_forms(&subjects).await?;
    let stored = ctx
        .store
        .insert_handover(&record, &envelopes, std::slice::from_ref(&entry))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => idempotency::conflict(&id_what),
            other => other.into(),
        })?;
    let Some(new) = stored else {
        // The family declined while this request was being decided.
        ctx.store
            .append_log(&[refusals.entry(FAMILY_DECLINED)])
            .await?;
        let d =
            ctx.store.family_declined(&m.id).await?.ok_or_else(|| {
                FlowError::Aborted("the family's refusal changed; try again".into())
            })?;
        return Err(declined(&d));
    };
    let h = ctx
        .store
        .get_handover(me, &cmd.handover_id)
        .await?
        .ok_or_else(|| FlowError::NotFound("the handover is gone".into()))?;
    Ok(HandedOver {
        view: view(ctx, h, me, Vec::new()).await?,
        decisions: if new { decided.decisions } else { Vec::new() },
        duplicate: !new,
    })
}

/// `ListHandovers`: the handovers the caller sent or received, newest first.
pub async fn list_handovers(ctx: &Ctx, caller: &Caller) -> FlowResult<Vec<HandoverView>> {
    let me = caller.oin().as_str();
    // Three queries for the whole list: the handovers, their answers, the triages behind them.
    let handovers = ctx.store.list_handovers(me, 100).await?;
    let mut answers = ctx.store.handover_answers_of(me).await?;
    let mut ids: Vec<TriageId> = handovers
        .iter()
        .filter(|h| sees_advice(h, me))
        .map(|h| h.triage_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    let triages = ctx.store.get_triages(&ids).await?;
    Ok(handovers
        .into_iter()
        .map(|h| {
            let a = answers
                .remove(&(h.sender_oin.to_string(), h.handover_id.to_string()))
                .unwrap_or_default();
            let t = triages.iter().find(|t| t.triage_id == h.triage_id);
            view_of(ctx, h, me, Vec::new(), a, t)
        })
        .collect())
}

/// Delivers a pending handover to its wijkteam: decided again with the consents as they stand
/// (locked against a concurrent withdrawal), then delivered or withheld, and logged. Returns the
/// state after.
async fn deliver(ctx: &Ctx, h: &HandoverRecord) -> FlowResult<HandoverState> {
    let t = now();
    let mut involved = Vec::with_capacity(h.subjects.len());
    for subject in &h.subjects {
        involved.push(ctx.is_involved_stored(&h.recipient_oin, subject, t).await?);
    }
    let rec = h.clone();
    Ok(ctx
        .store
        .deliver_handover(
            &h.sender_oin,
            &h.handover_id,
            &h.consent_ids,
            move |consents| {
                let d = redecide(ctx, &rec, consents, &involved, t);
                let codes: Vec<String> = d
                    .reasons
                    .iter()
                    .map(|x| x.code.as_str().to_owned())
                    .collect();
                if d.is_allowed() {
                    HandoverVerdict::Deliver(
                        handover_entry(
                            ctx,
                            &rec,
                            Event::HandoverDelivered,
                            EntryOutcome::Disclosed,
                            codes,
                        )
                        .informs(&d),
                    )
                } else {
                    HandoverVerdict::Withhold(
                        d.reasons
                            .iter()
                            .map(|x| StoredReason {
                                code: x.code.as_str().into(),
                                rule: x.rule.clone(),
                                nl: x.nl.clone(),
                                en: x.en.clone(),
                            })
                            .collect(),
                        handover_entry(
                            ctx,
                            &rec,
                            Event::HandoverWithheld,
                            EntryOutcome::Withheld,
                            codes,
                        ),
                    )
                }
            },
        )
        .await?)
}

/// `GetHandover`: the sender sees its handover; the wijkteam's first look delivers it (decided
/// again), a later one reads its envelopes again (logged first: a read of personal data).
pub async fn get_handover(
    ctx: &Ctx,
    caller: &Caller,
    sender: &str,
    handover_id: &str,
) -> FlowResult<HandoverView> {
    let me = caller.oin().as_str();
    let not_found = || {
        FlowError::NotFound(format!(
            "no handover {:?} from {:?} concerns you",
            echo(handover_id),
            echo(sender)
        ))
    };
    let h = ctx
        .store
        .get_handover(sender, handover_id)
        .await?
        .ok_or_else(not_found)?;
    if h.sender_oin == me {
        return view(ctx, h, me, Vec::new()).await;
    }
    if h.recipient_oin != me {
        return Err(not_found());
    }
    let was = h.state;
    let state = if was == HandoverState::Pending {
        deliver(ctx, &h).await?
    } else {
        was
    };
    // Erased at the end of its retention, a handover has no envelopes left to read.
    let erased = was == HandoverState::Delivered
        && ctx
            .store
            .handover_envelopes(&h.sender_oin, &h.handover_id)
            .await?
            .is_empty();
    if was == HandoverState::Delivered && !erased {
        let e = ctx
            .read_entry(caller, Event::HandoverRead)
            .subjects(h.subjects.iter().cloned())
            .recipient(me)
            .about(h.purpose.clone(), h.categories.iter().cloned())
            .reference(h.handover_id.clone());
        ctx.store.append_log(std::slice::from_ref(&e)).await?;
    }
    let h = ctx
        .store
        .get_handover(sender, handover_id)
        .await?
        .ok_or_else(not_found)?;
    let envelopes = if state == HandoverState::Delivered {
        ctx.store
            .handover_envelopes(&h.sender_oin, &h.handover_id)
            .await?
    } else {
        Vec::new()
    };
    view(ctx, h, me, envelopes).await
}
