//! Feedback to the melder (issue 19, item 3): Veilig Thuis tells the professional who reported a
//! melding what it does with it — received, handed over to the wijkteam, investigating, advice
//! given, no further action — minimal, on Veilig Thuis's statutory basis, with an optional note
//! sealed to the melder. Only ever to the melder of that melding (the hub takes the recipient
//! from the melding, never from the request); decided by the convenant and logged as a
//! disclosure. The melder reads it with [`list_feedback`].
use super::decision::Question;
use super::envelope::{self, Expected};
use super::error::{FlowError, FlowResult, echo, reject};
use super::idempotency::{self, Fingerprint};
use super::involvement::retain_until;
use super::triage::melding;
use super::{Ctx, now};
use crate::auth::Caller;
use crate::domain::basis::Basis;
use crate::domain::consent::Facts;
use crate::domain::envelope::SealedEnvelope;
use crate::domain::zorgmelding::{Feedback, FeedbackOutcome};
use crate::ids::{Category, FeedbackId, MeldingRef, Purpose, Role};
use crate::ledger::{EntryOutcome, Event};
use crate::store::StoreError;
use signaalhub_policy as policy;

/// The purpose of feedback to the melder (a purpose of the convenant).
pub static FEEDBACK_PURPOSE: Purpose = Purpose::known("terugkoppeling_melder");
/// The only category feedback carries: what Veilig Thuis does with the melding.
pub static FEEDBACK_CATEGORY: Category = Category::known("melding_vervolg");

/// `SendFeedback`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct SendFeedback {
    /// Chosen by Veilig Thuis, unique per Veilig Thuis.
    pub feedback_id: FeedbackId,
    /// The melding it is about.
    pub melding: MeldingRef,
    /// What Veilig Thuis tells.
    pub outcome: FeedbackOutcome,
    /// Veilig Thuis's basis (its statutory task, with its case reference).
    pub basis: Basis,
    /// A note sealed to the melder (optional).
    pub note: Option<SealedEnvelope>,
    /// The role the caller acts in.
    pub acting_role: Option<Role>,
}

/// What `SendFeedback` answers.
#[derive(Debug)]
pub struct FeedbackSent<'c> {
    /// The feedback as stored.
    pub feedback: Feedback,
    /// The convenant's decision (`None` for a retry).
    pub decision: Option<policy::Decision<'c>>,
    /// A retry of an accepted request.
    pub duplicate: bool,
}

/// `SendFeedback`: Veilig Thuis tells the melder of a melding addressed to it what it does with
/// it. "Handed over to the wijkteam" only once a handover of the melding exists. Refused (and
/// logged) when the convenant does not allow it.
pub async fn send_feedback<'c>(
    ctx: &'c Ctx,
    caller: &Caller,
    cmd: SendFeedback,
) -> FlowResult<FeedbackSent<'c>> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let m = melding(ctx, caller, &cmd.melding).await?;
    let me = caller.oin().as_str();
    let mut bad = Vec::new();
    let reference = cmd.basis.reference();
    let categories = std::slice::from_ref(&FEEDBACK_CATEGORY);
    if let Some(env) = &cmd.note {
        let mut found = Vec::new();
        envelope::check_binding(
            env,
            Expected {
                sender: me,
                binding_id: &cmd.feedback_id,
                purpose: &FEEDBACK_PURPOSE,
                categories,
                basis_reference: &reference,
                recipients: Some(&[&m.melder_oin]),
            },
            &mut found,
        );
        bad.extend(envelope::in_field(found, "note"));
    }
    reject(std::mem::take(&mut bad))?;
    let content_digest = cmd.note.as_ref().map(|e| e.binding.content_digest.clone());
    let request_hash = idempotency::request_hash([
        m.id.as_str().as_bytes(),
        cmd.outcome.code().as_bytes(),
        reference.as_bytes(),
        role.as_str().as_bytes(),
    ]);
    let what = format!("feedback id {:?}", echo(&cmd.feedback_id));
    if let Some(f) = ctx.store.get_feedback(me, &cmd.feedback_id).await? {
        idempotency::compare(
            Some(Fingerprint {
                request_hash: &f.request_hash,
                content_digest: Some(f.content_digest.as_deref().unwrap_or_default()),
            }),
            Fingerprint::new(&request_hash, content_digest.as_deref().unwrap_or_default()),
            &what,
        )?;
        return Ok(FeedbackSent {
            feedback: f,
            decision: None,
            duplicate: true,
        });
    }
    if cmd.outcome == FeedbackOutcome::HandedOverToWijkteam
        && !ctx.store.melding_handed_over(&m.id).await?
    {
        return Err(FlowError::Precondition(
            "the melding was not handed over: tell the melder what does happen (HandOver first)"
                .into(),
        ));
    }
    if let Some(env) = &cmd.note {
        envelope::check_current(ctx, env, &mut bad);
        bad = envelope::in_field(bad, "note");
    }
    reject(bad)?;
    let t = now();
    let d = ctx.decide(&Question {
        actor: ctx.party(caller.oin()),
        role: &role,
        recipient: ctx.party(&m.melder_oin),
        purpose: &FEEDBACK_PURPOSE,
        categories,
        facts: &Facts::default(),
        basis: &cmd.basis,
        consents: &[],
        recipient_involved: false,
        received_for: Some(&m.purpose),
        inform_exemption: None,
        now: t,
    });
    let mut e = ctx
        .entry(
            caller,
            &role,
            if d.is_allowed() {
                Event::FeedbackSent
            } else {
                Event::FeedbackDenied
            },
            if d.is_allowed() {
                EntryOutcome::Disclosed
            } else {
                EntryOutcome::Denied
            },
        )
        .subjects(m.subjects.iter().cloned())
        .recipient(m.melder_oin.clone())
        .about(&FEEDBACK_PURPOSE, categories.iter().cloned())
        .basis(&cmd.basis)
        .decided(&d)
        .reference(cmd.feedback_id.clone());
    e.entry
        .reasons
        .insert(0, format!("outcome:{}", cmd.outcome.code()));
    if !d.is_allowed() {
        ctx.store.append_log(std::slice::from_ref(&e)).await?;
        return Err(FlowError::denied(
            format!("feedback to the melder {} refused", m.melder_oin),
            &d,
        ));
    }
    let f = Feedback {
        vt_oin: caller.oin().clone(),
        feedback_id: cmd.feedback_id.clone(),
        request_hash,
        content_digest,
        melding: m.id.clone(),
        melder_oin: m.melder_oin.clone(),
        subjects: m.subjects.clone(),
        outcome: cmd.outcome,
        note: cmd.note.as_ref().map(|n| n.encoded.clone()),
        basis: cmd.basis.clone(),
        role,
        professional: caller.professional.id.clone(),
        sent_at: t,
        retain_until: d
            .retain_until
            .unwrap_or_else(|| retain_until(ctx, &FEEDBACK_PURPOSE, t)),
    };
    let new = ctx
        .store
        .insert_feedback(&f, &e)
        .await
        .map_err(|err| match err {
            StoreError::Conflict(_) => idempotency::conflict(&what),
            other => other.into(),
        })?;
    Ok(FeedbackSent {
        feedback: f,
        decision: new.then_some(d),
        duplicate: !new,
    })
}

/// `ListFeedback`: the feedback about a melding, for its melder (a zorgmelding it sent, or its
/// own signal) and its Veilig Thuis; anyone else sees nothing. A melder's read of a sealed note
/// is logged (`feedback_read`).
pub async fn list_feedback(
    ctx: &Ctx,
    caller: &Caller,
    melding: &MeldingRef,
) -> FlowResult<Vec<Feedback>> {
    let me = caller.oin().as_str();
    let found = ctx.store.feedback_about(melding, me).await?;
    let read: Vec<&Feedback> = found
        .iter()
        .filter(|f| f.melder_oin == *caller.oin() && f.note.is_some())
        .collect();
    if let Some(first) = read.first() {
        let e = ctx
            .read_entry(caller, Event::FeedbackRead)
            .subjects(first.subjects.iter().cloned())
            .recipient(me)
            .about(&FEEDBACK_PURPOSE, [&FEEDBACK_CATEGORY])
            .reference(melding.as_str());
        ctx.store.append_log(std::slice::from_ref(&e)).await?;
    }
    Ok(found)
}
