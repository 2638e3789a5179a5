//! The wijkteam's answer to a handover (issue 19, item 5): it accepts — and so becomes involved
//! with the persons handed over, an involvement it earned by the delivery — asks Veilig Thuis a
//! question (sealed to Veilig Thuis, about what was handed over), or returns the handover with a
//! reason. Veilig Thuis sees the answers with the handover; one left unanswered past the
//! convenant's `handover_answer_within` is flagged to it ([`super::triage::HandoverView`]).
use super::envelope::{self, Expected};
use super::error::{FlowError, FlowResult, echo, reject};
use super::involvement::{self, RegisterInvolvement};
use super::triage::{HandoverView, MAX_HANDOVER_SUBJECTS, view};
use super::{Ctx, now};
use crate::auth::Caller;
use crate::domain::basis::Basis;
use crate::domain::consent::Facts;
use crate::domain::envelope::SealedEnvelope;
use crate::domain::zorgmelding::{AnswerKind, HandoverAnswer, HandoverState, ReturnReason};
use crate::ids::{Bsn, HandoverId, InvolvementId, Oin, Role};
use crate::ledger::{EntryOutcome, Event};
use crate::store::StoreError;

/// Longest `contact_professional` of an acceptance (how colleagues reach the wijkcoach).
pub const MAX_CONTACT: usize = 200;

/// `AnswerHandover`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct AnswerHandover {
    /// Veilig Thuis, which handed over.
    pub sender: Oin,
    /// Its handover id.
    pub handover_id: HandoverId,
    /// The answer.
    pub answer: AnswerKind,
    /// Why it is returned (required for [`AnswerKind::Returned`]).
    pub reason: Option<ReturnReason>,
    /// The question, sealed to Veilig Thuis (required for [`AnswerKind::Question`]).
    pub question: Option<SealedEnvelope>,
    /// The persons the wijkteam takes on (for [`AnswerKind::Accepted`]: 1 to
    /// [`MAX_HANDOVER_SUBJECTS`], each a person handed over).
    pub subjects: Vec<Bsn>,
    /// How colleagues reach the wijkcoach (for [`AnswerKind::Accepted`]).
    pub contact_professional: String,
    /// The role the caller acts in.
    pub acting_role: Option<Role>,
}

/// What `AnswerHandover` answers.
#[derive(Debug)]
pub struct Answered {
    /// The handover with its answers.
    pub view: HandoverView,
    /// For an acceptance: the wijkteam's involvement with each person taken on.
    pub involvement_ids: Vec<InvolvementId>,
    /// A question sent before with the same envelope id: nothing new was recorded.
    pub duplicate: bool,
}

/// `AnswerHandover`: the receiving wijkteam answers a delivered handover. Refused (nothing
/// recorded) when the handover is not delivered or already accepted or returned, a return has no
/// reason, a question is not sealed to Veilig Thuis under the handover's terms, or an acceptance
/// names a person who was not handed over. Logged (`handover_answered`).
pub async fn answer_handover(
    ctx: &Ctx,
    caller: &Caller,
    cmd: AnswerHandover,
) -> FlowResult<Answered> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let me = caller.oin();
    let not_found = || {
        FlowError::NotFound(format!(
            "no handover {:?} from {} was sent to you",
            echo(&cmd.handover_id),
            cmd.sender
        ))
    };
    let h = ctx
        .store
        .get_handover(cmd.sender.as_str(), &cmd.handover_id)
        .await?
        .filter(|h| &h.recipient_oin == me)
        .ok_or_else(not_found)?;
    match h.state {
        HandoverState::Delivered => {}
        HandoverState::Pending => {
            return Err(FlowError::Precondition(
                "receive the handover first (GetHandover): only a delivered handover is answered"
                    .into(),
            ));
        }
        HandoverState::Withheld => {
            return Err(FlowError::Precondition(
                "the handover was withheld before it reached you: there is nothing to answer"
                    .into(),
            ));
        }
    }
    let answers = ctx
        .store
        .handover_answers(&h.sender_oin, &h.handover_id)
        .await?;
    let already = |a: &HandoverAnswer| {
        FlowError::Precondition(format!(
            "handover {} was {} already; a new question or return goes through Veilig Thuis",
            h.handover_id,
            a.answer.code().to_lowercase()
        ))
    };
    let mut bad = Vec::new();
    let subjects = ctx.subject_keys(&cmd.subjects);
    ctx.refuse_merged_references(&cmd.subjects, &subjects)
        .await?;
    match cmd.answer {
        AnswerKind::Returned if cmd.reason.is_none() => {
            bad.push(("reason", "a returned handover needs its reason".into()));
        }
        AnswerKind::Question => match &cmd.question {
            None => bad.push((
                "question",
                "the question, sealed to Veilig Thuis (purpose, categories and basis of the handover)"
                    .into(),
            )),
            Some(env) => {
                let mut found = Vec::new();
                let reference = h.basis.reference();
                envelope::check_binding(
                    env,
                    Expected {
                        sender: me.as_str(),
                        binding_id: &env.binding.signal_id,
                        purpose: &h.purpose,
                        categories: &h.categories,
                        basis_reference: &reference,
                        recipients: Some(&[&h.sender_oin]),
                    },
                    &mut found,
                );
                envelope::check_current(ctx, env, &mut found);
                bad.extend(envelope::in_field(found, "question"));
            }
        },
        AnswerKind::Accepted => {
            if subjects.is_empty() || subjects.len() > MAX_HANDOVER_SUBJECTS {
                bad.push((
                    "subject_bsns",
                    format!(
                        "the persons you take on: 1 to {MAX_HANDOVER_SUBJECTS}, each one handed over"
                    ),
                ));
            }
            if subjects
                .iter()
                .any(|s| !h.subjects.iter().any(|x| s.matches(x)))
            {
                bad.push((
                    "subject_bsns",
                    "each person must be one the handover is about".into(),
                ));
            }
            let contact = cmd.contact_professional.trim();
            if contact.is_empty()
                || contact.chars().count() > MAX_CONTACT
                || contact.chars().any(char::is_control)
            {
                bad.push((
                    "contact_professional",
                    format!("how colleagues reach you: 1-{MAX_CONTACT} printable characters"),
                ));
            }
        }
        AnswerKind::Returned => {}
    }
    reject(bad)?;
    let question_id = cmd.question.as_ref().map(|e| e.binding.signal_id.clone());
    let retry = question_id.is_some()
        && answers
            .iter()
            .any(|a| a.question_id.as_deref() == question_id.as_deref());
    if !retry && let Some(last) = answers.last().filter(|a| a.answer.is_final()) {
        return Err(already(last));
    }
    // An acceptance makes the wijkteam involved with each person taken on: the delivered
    // handover is its ground. A retry finds the involvements registered already.
    let mut involvement_ids = Vec::new();
    if cmd.answer == AnswerKind::Accepted {
        for bsn in &cmd.subjects {
            let r = involvement::register(
                ctx,
                caller,
                RegisterInvolvement {
                    subject: Some(bsn.clone()),
                    household: Vec::new(),
                    contact_professional: cmd.contact_professional.clone(),
                    started_at: None,
                    facts: Facts::default(),
                    basis: Basis::default(),
                    acting_role: Some(role.clone()),
                    invalid: Vec::new(),
                },
            )
            .await?;
            involvement_ids.push(r.involvement.id);
        }
    }
    let a = HandoverAnswer {
        seq: 0,
        answer: cmd.answer,
        reason: cmd.reason,
        question_id,
        question: cmd.question.as_ref().map(|e| e.encoded.clone()),
        role: role.clone(),
        professional: caller.professional.id.clone(),
        answered_at: now(),
    };
    // A question discloses (sealed) to Veilig Thuis; the other answers record a state.
    let outcome = if a.answer == AnswerKind::Question {
        EntryOutcome::Disclosed
    } else {
        EntryOutcome::Recorded
    };
    let reasons = [
        Some(format!("answer:{}", a.answer.code())),
        a.reason.map(|r| format!("reason:{}", r.code())),
    ];
    let e = ctx
        .entry(caller, &role, Event::HandoverAnswered, outcome)
        .subjects(h.subjects.iter().cloned())
        .recipient(h.sender_oin.clone())
        .about(h.purpose.clone(), h.categories.iter().cloned())
        .reasons(reasons.into_iter().flatten())
        .reference(h.handover_id.clone());
    let stored = ctx
        .store
        .insert_handover_answer(&h.sender_oin, &h.handover_id, &a, &e)
        .await
        .map_err(|err| match err {
            StoreError::Conflict(_) => FlowError::Precondition(format!(
                "handover {} was accepted or returned meanwhile",
                h.handover_id
            )),
            other => other.into(),
        })?;
    let h = ctx
        .store
        .get_handover(h.sender_oin.as_str(), &h.handover_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Answered {
        view: view(ctx, h, me.as_str(), Vec::new()).await?,
        involvement_ids,
        duplicate: stored.is_none(),
    })
}
