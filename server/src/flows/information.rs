//! Veilig Thuis's information requests (issue 19, item 4): while it assesses a melding, Veilig
//! Thuis asks a named professional organisation for information — the question sealed to that
//! organisation, on its statutory task — and the organisation answers, sealed to Veilig Thuis and
//! bound to the request, on its own basis (Wmo 2015 art. 5.2.6: `informatie_aan_veilig_thuis`,
//! naming Veilig Thuis's case reference), or declines with a reason. Both sides are decided by
//! the convenant and logged. Refused when the melding is not under assessment (stage TRIAGE,
//! ONDERZOEK or MONITORING, [`super::stage`]); the organisation asked never learns which melding
//! it is, nor who reported.
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
use crate::domain::zorgmelding::{
    DeclineReason, InformationAnswer, InformationRequest, InformationState, MeldingStage,
};
use crate::ids::{Category, InformationRequestId, MeldingRef, Oin, Purpose, Role};
use crate::ledger::{EntryOutcome, Event, PendingEntry};
use crate::store::StoreError;
use signaalhub_policy as policy;

/// The purpose of an information request and its answer (a purpose of the convenant).
pub static INFORMATION_PURPOSE: Purpose = Purpose::known("informatieverzoek_veilig_thuis");
/// The only category the question carries.
pub static QUESTION_CATEGORY: Category = Category::known("informatievraag");
/// Most categories a request may ask for.
pub const MAX_ASKED: usize = 8;
/// Most requests one list returns.
pub const MAX_LISTED: u32 = 200;

/// `RequestInformation`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct RequestInformation {
    /// Chosen by Veilig Thuis.
    pub request_id: InformationRequestId,
    /// The melding under assessment.
    pub melding: MeldingRef,
    /// The organisation asked.
    pub recipient: Oin,
    /// The question sealed to it.
    pub question: SealedEnvelope,
    /// What Veilig Thuis asks for.
    pub categories: Vec<Category>,
    /// Veilig Thuis's basis (its statutory task, with its case reference).
    pub basis: Basis,
    /// The role the caller acts in.
    pub acting_role: Option<Role>,
}

/// `AnswerInformation`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct AnswerInformation {
    /// Veilig Thuis, which asked.
    pub vt: Oin,
    /// Its request.
    pub request_id: InformationRequestId,
    /// The answer sealed to Veilig Thuis (or `None` with a decline reason).
    pub answer: Option<SealedEnvelope>,
    /// What the answer carries.
    pub categories: Vec<Category>,
    /// The answering organisation's basis.
    pub basis: Basis,
    /// Declines instead of answering.
    pub decline_reason: Option<DeclineReason>,
    /// The role the caller acts in.
    pub acting_role: Option<Role>,
}

/// What `RequestInformation` and `AnswerInformation` answer.
#[derive(Debug)]
pub struct Done<'c> {
    /// The request as stored now.
    pub request: InformationRequest,
    /// The convenant's decision (`None` for a decline or a retry).
    pub decision: Option<policy::Decision<'c>>,
    /// A retry: nothing new was stored or logged.
    pub duplicate: bool,
}

/// The refusal when the melding is not under assessment.
fn not_under_assessment(stage: MeldingStage) -> FlowError {
    FlowError::Precondition(format!(
        "no melding under assessment: this melding is {} ({}); information may be asked and given only while Veilig Thuis assesses it (TRIAGE, ONDERZOEK or MONITORING)",
        stage.code(),
        stage.nl()
    ))
}

/// `RequestInformation`: the Veilig Thuis a melding was delivered to asks a named organisation
/// for information about it while it is under assessment. Decided by the convenant (logged either
/// way); idempotent on (Veilig Thuis, request id).
pub async fn request_information<'c>(
    ctx: &'c Ctx,
    caller: &Caller,
    cmd: RequestInformation,
) -> FlowResult<Done<'c>> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let m = melding(ctx, caller, &cmd.melding).await?;
    let me = caller.oin().as_str();
    let reference = cmd.basis.reference();
    let mut bad = Vec::new();
    if cmd.recipient == *caller.oin() {
        bad.push(("recipient_oin", "another organisation than your own".into()));
    } else if !ctx.is_active_org(&cmd.recipient) {
        bad.push((
            "recipient_oin",
            "an active organisation in the hub's directory".into(),
        ));
    }
    if cmd.categories.is_empty() || cmd.categories.len() > MAX_ASKED {
        bad.push((
            "categories",
            format!("1 to {MAX_ASKED} categories of the convenant that you ask for"),
        ));
    }
    for c in &cmd.categories {
        if !ctx.policy.is_known_category(c.as_str()) {
            bad.push((
                "categories",
                format!("{:?} is not a category of the convenant", echo(c.as_str())),
            ));
        }
    }
    let case_reference = cmd
        .basis
        .legal
        .as_ref()
        .and_then(|l| l.evidence.case_reference.clone())
        .unwrap_or_default();
    if case_reference.trim().is_empty() {
        bad.push((
            "basis.legal.evidence.case_reference",
            "your case reference: the answer's basis names it".into(),
        ));
    }
    let question_categories = std::slice::from_ref(&QUESTION_CATEGORY);
    let mut found = Vec::new();
    envelope::check_binding(
        &cmd.question,
        Expected {
            sender: me,
            binding_id: &cmd.request_id,
            purpose: &INFORMATION_PURPOSE,
            categories: question_categories,
            basis_reference: &reference,
            recipients: Some(&[&cmd.recipient]),
        },
        &mut found,
    );
    bad.extend(envelope::in_field(found, "question"));
    reject(std::mem::take(&mut bad))?;
    let categories: Vec<&str> = cmd.categories.iter().map(Category::as_str).collect();
    let request_hash = idempotency::request_hash([
        m.id.as_str().as_bytes(),
        cmd.recipient.as_str().as_bytes(),
        categories.join(",").as_bytes(),
        reference.as_bytes(),
        case_reference.as_bytes(),
        role.as_str().as_bytes(),
    ]);
    let content_digest = cmd.question.binding.content_digest.clone();
    let what = format!("information request id {:?}", echo(&cmd.request_id));
    if let Some(q) = ctx
        .store
        .get_information_request(me, &cmd.request_id)
        .await?
    {
        idempotency::compare(
            Some(Fingerprint {
                request_hash: &q.request_hash,
                content_digest: Some(&q.content_digest),
            }),
            Fingerprint::new(&request_hash, &content_digest),
            &what,
        )?;
        return Ok(Done {
            request: q,
            decision: None,
            duplicate: true,
        });
    }
    let stage = super::stage::current_stage(ctx, me, &m.id).await?;
    if !stage.under_assessment() {
        return Err(not_under_assessment(stage));
    }
    envelope::check_current(ctx, &cmd.question, &mut bad);
    reject(envelope::in_field(bad, "question"))?;
    let t = now();
    let d = ctx.decide(&Question {
        actor: ctx.party(caller.oin()),
        role: &role,
        recipient: ctx.party(&cmd.recipient),
        purpose: &INFORMATION_PURPOSE,
        categories: question_categories,
        facts: &Facts::default(),
        basis: &cmd.basis,
        consents: &[],
        recipient_involved: false,
        received_for: Some(&m.purpose),
        inform_exemption: None,
        now: t,
    });
    let allowed = d.is_allowed();
    let e = ctx
        .entry(
            caller,
            &role,
            if allowed {
                Event::InformationRequested
            } else {
                Event::InformationRequestDenied
            },
            if allowed {
                EntryOutcome::Disclosed
            } else {
                EntryOutcome::Denied
            },
        )
        .subjects(m.subjects.iter().cloned())
        .recipient(cmd.recipient.clone())
        .about(&INFORMATION_PURPOSE, question_categories.iter())
        .basis(&cmd.basis)
        .decided(&d)
        .reference(cmd.request_id.clone());
    if !allowed {
        ctx.store.append_log(std::slice::from_ref(&e)).await?;
        return Err(FlowError::denied(
            format!("the information request to {} refused", cmd.recipient),
            &d,
        ));
    }
    let q = InformationRequest {
        vt_oin: caller.oin().clone(),
        request_id: cmd.request_id.clone(),
        request_hash,
        content_digest,
        melding: m.id.clone(),
        recipient_oin: cmd.recipient.clone(),
        subjects: m.subjects.clone(),
        categories: cmd.categories.clone(),
        case_reference,
        question: Some(cmd.question.encoded.clone()),
        basis: cmd.basis.clone(),
        role,
        professional: caller.professional.id.clone(),
        requested_at: t,
        state: InformationState::Open,
        answer: None,
        retain_until: d
            .retain_until
            .unwrap_or_else(|| retain_until(ctx, &INFORMATION_PURPOSE, t)),
    };
    let new = ctx
        .store
        .insert_information_request(&q, &e)
        .await
        .map_err(|err| match err {
            StoreError::Conflict(_) => idempotency::conflict(&what),
            other => other.into(),
        })?;
    Ok(Done {
        request: q,
        decision: new.then_some(d),
        duplicate: !new,
    })
}

/// `AnswerInformation`: the organisation asked answers (sealed to Veilig Thuis, only categories
/// asked for, on `informatie_aan_veilig_thuis` naming the request's case reference) or declines
/// with a reason. Once per request; refused while the melding is not under assessment. Logged:
/// `information_answered` (disclosed) / `information_answer_denied` / `information_declined`.
pub async fn answer_information<'c>(
    ctx: &'c Ctx,
    caller: &Caller,
    cmd: AnswerInformation,
) -> FlowResult<Done<'c>> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let me = caller.oin();
    let q = ctx
        .store
        .get_information_request(cmd.vt.as_str(), &cmd.request_id)
        .await?
        .filter(|q| &q.recipient_oin == me)
        .ok_or_else(|| {
            FlowError::NotFound(format!(
                "no information request {:?} from {} was sent to you",
                echo(&cmd.request_id),
                cmd.vt
            ))
        })?;
    // A retry of the same answer is answered as the first time.
    if let (Some(given), Some(env)) = (&q.answer, &cmd.answer)
        && given.answer_digest.as_deref() == Some(env.binding.content_digest.as_slice())
        && given.categories == cmd.categories
        && given.basis.as_ref() == Some(&cmd.basis)
    {
        return Ok(Done {
            request: q,
            decision: None,
            duplicate: true,
        });
    }
    if let (Some(given), Some(reason)) = (&q.answer, cmd.decline_reason)
        && given.decline_reason == Some(reason)
    {
        return Ok(Done {
            request: q,
            decision: None,
            duplicate: true,
        });
    }
    if q.state != InformationState::Open {
        return Err(FlowError::Precondition(format!(
            "information request {} was {} already",
            q.request_id,
            q.state.as_str()
        )));
    }
    let mut bad = Vec::new();
    let reference = cmd.basis.reference();
    match (&cmd.answer, cmd.decline_reason) {
        (Some(_), Some(_)) => bad.push((
            "decline_reason",
            "either an answer or a decline reason, not both".into(),
        )),
        (None, None) => bad.push((
            "answer",
            "the answer sealed to Veilig Thuis, or a decline_reason".into(),
        )),
        (Some(env), None) => {
            if cmd.categories.is_empty() || cmd.categories.len() > MAX_ASKED {
                bad.push((
                    "categories",
                    format!("1 to {MAX_ASKED} categories the answer carries"),
                ));
            }
            if cmd.categories.iter().any(|c| !q.categories.contains(c)) {
                bad.push((
                    "categories",
                    "only categories Veilig Thuis asked for".into(),
                ));
            }
            let case_reference = cmd
                .basis
                .legal
                .as_ref()
                .and_then(|l| l.evidence.case_reference.as_deref());
            if case_reference != Some(q.case_reference.as_str()) {
                bad.push((
                    "basis.legal.evidence.case_reference",
                    "Veilig Thuis's case reference as the request names it".into(),
                ));
            }
            let mut found = Vec::new();
            envelope::check_binding(
                env,
                Expected {
                    sender: me.as_str(),
                    binding_id: &q.request_id,
                    purpose: &INFORMATION_PURPOSE,
                    categories: &cmd.categories,
                    basis_reference: &reference,
                    recipients: Some(&[&q.vt_oin]),
                },
                &mut found,
            );
            if found.is_empty() {
                envelope::check_current(ctx, env, &mut found);
            }
            bad.extend(envelope::in_field(found, "answer"));
        }
        (None, Some(_)) => {}
    }
    reject(bad)?;
    let stage = super::stage::current_stage(ctx, q.vt_oin.as_str(), &q.melding).await?;
    if !stage.under_assessment() {
        return Err(FlowError::Precondition(
            "Veilig Thuis no longer assesses the melding this request is about: the request lapsed"
                .into(),
        ));
    }
    let t = now();
    let entry = |event, outcome| -> PendingEntry {
        ctx.entry(caller, &role, event, outcome)
            .subjects(q.subjects.iter().cloned())
            .recipient(q.vt_oin.clone())
            .reference(q.request_id.clone())
    };
    let mut a = InformationAnswer {
        answer: None,
        answer_digest: None,
        categories: Vec::new(),
        basis: None,
        decline_reason: cmd.decline_reason,
        role: role.clone(),
        professional: caller.professional.id.clone(),
        answered_at: t,
    };
    let (e, decision) = if let Some(reason) = cmd.decline_reason {
        (
            entry(Event::InformationDeclined, EntryOutcome::Recorded)
                .about(&INFORMATION_PURPOSE, std::iter::empty::<&str>())
                .reasons([format!("decline:{}", reason.code())]),
            None,
        )
    } else {
        let Some(env) = cmd.answer else {
            return Err(FlowError::invalid(
                "answer",
                "the answer sealed to Veilig Thuis, or a decline_reason",
            ));
        };
        {
            let d = ctx.decide(&Question {
                actor: ctx.party(me),
                role: &role,
                recipient: ctx.party(&q.vt_oin),
                purpose: &INFORMATION_PURPOSE,
                categories: &cmd.categories,
                facts: &Facts::default(),
                basis: &cmd.basis,
                consents: &[],
                recipient_involved: false,
                received_for: None,
                inform_exemption: None,
                now: t,
            });
            if !d.is_allowed() {
                let e = entry(Event::InformationAnswerDenied, EntryOutcome::Denied)
                    .about(&INFORMATION_PURPOSE, cmd.categories.iter())
                    .basis(&cmd.basis)
                    .decided(&d);
                ctx.store.append_log(std::slice::from_ref(&e)).await?;
                return Err(FlowError::denied(
                    format!("the answer to Veilig Thuis {} refused", q.vt_oin),
                    &d,
                ));
            }
            a.answer_digest = Some(env.binding.content_digest.clone());
            a.answer = Some(env.encoded);
            a.categories = cmd.categories.clone();
            a.basis = Some(cmd.basis.clone());
            (
                entry(Event::InformationAnswered, EntryOutcome::Disclosed)
                    .about(&INFORMATION_PURPOSE, cmd.categories.iter())
                    .basis(&cmd.basis)
                    .decided(&d),
                Some(d),
            )
        }
    };
    ctx.store
        .answer_information_request(q.vt_oin.as_str(), &q.request_id, &a, &[e])
        .await
        .map_err(|err| match err {
            StoreError::Conflict(_) => FlowError::Precondition(format!(
                "information request {} was answered meanwhile",
                q.request_id
            )),
            other => other.into(),
        })?;
    let request = ctx
        .store
        .get_information_request(q.vt_oin.as_str(), &q.request_id)
        .await?
        .ok_or_else(|| FlowError::NotFound(format!("information request {}", q.request_id)))?;
    Ok(Done {
        request,
        decision,
        duplicate: false,
    })
}

/// `ListInformationRequests`: the requests the caller's organisation sent (`sent`: Veilig Thuis,
/// with the answers sealed to it) or received (with the questions sealed to it, never the
/// melding), newest first, for a professional in a role of the convenant. Handing out a sealed question or answer is logged per request
/// (`information_request_read`, `information_answer_read`).
pub async fn list_information_requests(
    ctx: &Ctx,
    caller: &Caller,
    sent: bool,
    acting_role: Option<&Role>,
) -> FlowResult<Vec<InformationRequest>> {
    // Need-to-know: the sealed questions and answers are for the professionals who work on them,
    // not for every professional of the organisation (its privacy officer reads the log).
    let role = ctx.acting_role(caller, acting_role)?;
    ctx.require_convenant_role(caller, &role)?;
    let me = caller.oin().as_str();
    let found = ctx
        .store
        .information_requests_of(me, sent, MAX_LISTED)
        .await?;
    let reads: Vec<PendingEntry> = found
        .iter()
        .filter(|q| {
            if sent {
                q.answer.as_ref().is_some_and(|a| a.answer.is_some())
            } else {
                q.question.is_some()
            }
        })
        .map(|q| {
            let (event, categories) = if sent {
                (
                    Event::InformationAnswerRead,
                    q.answer
                        .as_ref()
                        .map(|a| a.categories.clone())
                        .unwrap_or_default(),
                )
            } else {
                (
                    Event::InformationRequestRead,
                    vec![QUESTION_CATEGORY.clone()],
                )
            };
            ctx.read_entry(caller, event)
                .subjects(q.subjects.iter().cloned())
                .recipient(me)
                .about(&INFORMATION_PURPOSE, categories.iter())
                .reference(q.request_id.clone())
        })
        .collect();
    if !reads.is_empty() {
        ctx.store.append_log(&reads).await?;
    }
    Ok(found)
}
