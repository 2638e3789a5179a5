//! `signaalhub.v1.TriageService`: Veilig Thuis records the triage of a zorgmelding (the Arnhem
//! criteria -> joint-visit advice, with the recidive), records a family's refusal, and hands the
//! case over to a wijkteam. The rules live in `flows::triage`; this is the wire.
use super::basis::{bsns_from_pb, chosen_id, decision_to_pb, parsed_field, valid_person_ref};
use super::zorgmelding::recidive_to_pb;
use super::{caller, timestamp};
use crate::domain::letter::Language;
use crate::domain::zorgmelding::{AnswerKind, HandoverAnswer, ReturnReason};
use crate::domain::zorgmelding::{
    ContactPerson, DecisionKind, DecisionReason, FamilyDeclined, HandoverRecord, HandoverState,
    TriageAnswersStored,
};
use crate::domain::zorgmelding::{Feedback, FeedbackOutcome};
use crate::flows::feedback::{self, SendFeedback};
use crate::flows::handover_answer::{self, AnswerHandover};
use crate::flows::triage::{
    self as flow, DecideTriage, HandOver, HandoverView, MAX_HANDOVER_ENVELOPES,
    MAX_HANDOVER_SUBJECTS, RecordFamilyDeclined, RecordTriage, TriageView,
};
use crate::flows::{Ctx, FlowError, parsed};
use crate::ids::{MeldingKind, MeldingRef};
use prost::Message;
use signaalhub_policy::triage::{AdviceKind, Criterion, TriageAdvice};
use signaalhub_proto::pb;
use signaalhub_proto::pb::triage_service_server::TriageService;
use tonic::{Request, Response, Status};

/// The TriageService.
#[derive(Debug, Clone)]
pub struct TriageApi {
    ctx: Ctx,
}

impl TriageApi {
    /// On shared state.
    pub fn new(ctx: Ctx) -> Self {
        TriageApi { ctx }
    }
}

fn answer(field: &'static str, v: i32, bad: &mut Vec<(&'static str, String)>) -> &'static str {
    match pb::CriterionAnswer::try_from(v) {
        Ok(pb::CriterionAnswer::Yes) => "yes",
        Ok(pb::CriterionAnswer::No) => "no",
        Ok(pb::CriterionAnswer::Unknown) => "unknown",
        _ => {
            bad.push((field, "answer YES, NO or UNKNOWN".into()));
            "unknown"
        }
    }
}

fn answers_from_pb(
    c: Option<&pb::ArnhemCriteria>,
    bad: &mut Vec<(&'static str, String)>,
) -> TriageAnswersStored {
    let c = c.cloned().unwrap_or_default();
    TriageAnswersStored {
        physical_abuse_or_severe_violence: answer(
            "criteria.physical_abuse_or_severe_violence",
            c.physical_abuse_or_severe_violence,
            bad,
        )
        .into(),
        sexual_abuse: answer("criteria.sexual_abuse", c.sexual_abuse, bad).into(),
        violence_witnessed_by_children: answer(
            "criteria.violence_witnessed_by_children",
            c.violence_witnessed_by_children,
            bad,
        )
        .into(),
        safety_conflict: match pb::SafetyConflictAnswer::try_from(c.safety_conflict) {
            Ok(pb::SafetyConflictAnswer::Yes) => "yes",
            Ok(pb::SafetyConflictAnswer::No) => "no",
            Ok(pb::SafetyConflictAnswer::DivorceOnly) => "divorce_only",
            Ok(pb::SafetyConflictAnswer::Unknown) => "unknown",
            _ => {
                bad.push((
                    "criteria.safety_conflict",
                    "answer YES, NO, DIVORCE_ONLY or UNKNOWN".into(),
                ));
                "unknown"
            }
        }
        .into(),
        open_to_help: match pb::OpenToHelpAnswer::try_from(c.open_to_help) {
            Ok(pb::OpenToHelpAnswer::Open) => "open",
            Ok(pb::OpenToHelpAnswer::ExpectedNotOpen) => "expected_not_open",
            Ok(pb::OpenToHelpAnswer::FoundNotOpen) => "found_not_open",
            Ok(pb::OpenToHelpAnswer::Unknown) => "unknown",
            _ => {
                bad.push((
                    "criteria.open_to_help",
                    "answer OPEN, EXPECTED_NOT_OPEN, FOUND_NOT_OPEN or UNKNOWN".into(),
                ));
                "unknown"
            }
        }
        .into(),
        stacked_reports: answer("criteria.stacked_reports", c.stacked_reports, bad).into(),
        mutual_accusations: answer("criteria.mutual_accusations", c.mutual_accusations, bad).into(),
        addiction: answer("criteria.addiction", c.addiction, bad).into(),
    }
}

fn answers_to_pb(a: &TriageAnswersStored) -> pb::ArnhemCriteria {
    let c = |s: &str| {
        match s {
            "yes" => pb::CriterionAnswer::Yes,
            "no" => pb::CriterionAnswer::No,
            _ => pb::CriterionAnswer::Unknown,
        }
        .into()
    };
    pb::ArnhemCriteria {
        physical_abuse_or_severe_violence: c(&a.physical_abuse_or_severe_violence),
        sexual_abuse: c(&a.sexual_abuse),
        violence_witnessed_by_children: c(&a.violence_witnessed_by_children),
        safety_conflict: match a.safety_conflict.as_str() {
            "yes" => pb::SafetyConflictAnswer::Yes,
            "no" => pb::SafetyConflictAnswer::No,
            "divorce_only" => pb::SafetyConflictAnswer::DivorceOnly,
            _ => pb::SafetyConflictAnswer::Unknown,
        } as i32,
        open_to_help: match a.open_to_help.as_str() {
            "open" => pb::OpenToHelpAnswer::Open,
            "expected_not_open" => pb::OpenToHelpAnswer::ExpectedNotOpen,
            "found_not_open" => pb::OpenToHelpAnswer::FoundNotOpen,
            _ => pb::OpenToHelpAnswer::Unknown,
        } as i32,
        stacked_reports: c(&a.stacked_reports),
        mutual_accusations: c(&a.mutual_accusations),
        addiction: c(&a.addiction),
    }
}

fn criterion_to_pb(c: &Criterion) -> pb::Criterion {
    pb::Criterion {
        number: u32::from(c.number()),
        code: c.code().into(),
        text_nl: c.nl().into(),
        text_en: c.en().into(),
    }
}

fn advice_to_pb(a: &TriageAdvice) -> pb::TriageAdvice {
    pb::TriageAdvice {
        advice: match a.kind {
            AdviceKind::StaysWithVeiligThuis => pb::Advice::StaysWithVeiligThuis,
            AdviceKind::JointVisit => pb::Advice::JointVisit,
            AdviceKind::WijkteamAlone => pb::Advice::WijkteamAlone,
        } as i32,
        criteria_met: a.criteria_met.iter().map(criterion_to_pb).collect(),
        open_questions: a.open_questions.iter().map(criterion_to_pb).collect(),
        divorce_only: a.divorce_only,
        explanation_nl: a.nl.clone(),
        explanation_en: a.en.clone(),
    }
}

/// The melding a request names: a `zorgmelding_id` or a `signal` (sender and id), exactly one.
pub(crate) fn melding_from_pb(
    zorgmelding_id: &str,
    signal: Option<&pb::SignalReference>,
    bad: &mut Vec<(&'static str, String)>,
) -> Option<MeldingRef> {
    match (zorgmelding_id.is_empty(), signal) {
        (false, None) => {
            parsed_field::<crate::ids::ZorgmeldingId>("zorgmelding_id", zorgmelding_id, bad)
                .map(|id| MeldingRef::zorgmelding(&id))
        }
        (true, Some(sig)) => {
            let sender = parsed_field::<crate::ids::Oin>("signal.sender_oin", &sig.sender_oin, bad);
            let id = parsed_field::<crate::ids::SignalId>("signal.signal_id", &sig.signal_id, bad);
            Some(MeldingRef::signal(&sender?, &id?))
        }
        _ => {
            bad.push((
                "zorgmelding_id",
                "name the melding: a zorgmelding_id, or a signal (sender_oin and signal_id), not both".into(),
            ));
            None
        }
    }
}

/// The wire's two fields for a melding.
fn melding_to_pb(m: &MeldingRef) -> (String, Option<pb::SignalReference>) {
    match m.kind() {
        MeldingKind::Zorgmelding(id) => (id.to_string(), None),
        MeldingKind::Signal(sender, id) => (
            String::new(),
            Some(pb::SignalReference {
                sender_oin: sender.to_string(),
                signal_id: id.to_string(),
            }),
        ),
    }
}

wire_codes! {
    DecisionKind => pb::TriageDecisionKind, "TRIAGE_DECISION_KIND_", triage_decision_to_pb, triage_decision_from_pb;
    DecisionReason => pb::DecisionReason, "DECISION_REASON_", reason_to_pb, reason_from_pb;
    AnswerKind => pb::HandoverAnswerKind, "HANDOVER_ANSWER_KIND_", answer_kind_to_pb, answer_kind_from_pb;
    ReturnReason => pb::ReturnReason, "RETURN_REASON_", return_reason_to_pb, return_reason_from_pb;
    FeedbackOutcome => pb::FeedbackOutcome, "FEEDBACK_OUTCOME_", outcome_to_pb, outcome_from_pb;
}

mod melding;

/// An optional coded field: unset is `None`; a number the wire does not know is a violation.
fn optional_code<T>(
    field: &'static str,
    v: i32,
    from: fn(i32) -> Option<T>,
    bad: &mut Vec<(&'static str, String)>,
) -> Option<T> {
    let found = from(v);
    if v != 0 && found.is_none() {
        bad.push((field, format!("{v} is not one of its values")));
    }
    found
}

/// A required coded field: a violation naming `values` when unset or unknown.
fn required_code<T>(
    field: &'static str,
    v: i32,
    from: fn(i32) -> Option<T>,
    values: &str,
    bad: &mut Vec<(&'static str, String)>,
) -> Option<T> {
    let found = from(v);
    if found.is_none() {
        bad.push((field, values.to_owned()));
    }
    found
}

/// The decision in force on a triage, for the wire.
fn decision_to_wire(v: &TriageView) -> pb::TriageDecision {
    let kind = v.decision_kind();
    let d = v.decision.as_ref();
    let reason = d.and_then(|d| d.reason);
    pb::TriageDecision {
        decision: triage_decision_to_pb(kind),
        reason: reason.map_or(0, reason_to_pb),
        follows_advice: kind == DecisionKind::following(v.advice.kind),
        recorded: d.is_some(),
        decided_by: d.map(|d| d.professional.clone()).unwrap_or_default(),
        decided_at: d.map(|d| timestamp(d.decided_at)),
        text_nl: kind.nl().into(),
        reason_nl: reason.map(|r| r.nl().into()).unwrap_or_default(),
    }
}

impl TryFrom<pb::DecideTriageRequest> for DecideTriage {
    type Error = FlowError;
    fn try_from(r: pb::DecideTriageRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        let triage_id = parsed_field("triage_id", &r.triage_id, &mut bad);
        let decision = required_code(
            "decision",
            r.decision,
            triage_decision_from_pb,
            "JOINT_VISIT, WIJKTEAM_ALONE, VEILIG_THUIS_ALONE or ADVICE_ONLY",
            &mut bad,
        );
        let reason = optional_code("reason", r.reason, reason_from_pb, &mut bad);
        let acting_role = super::basis::optional_name("acting_role", &r.acting_role, &mut bad);
        crate::flows::reject(bad)?;
        Ok(DecideTriage {
            triage_id: parsed(triage_id, "triage_id")?,
            decision: parsed(decision, "decision")?,
            reason,
            acting_role,
        })
    }
}

fn contact_from_pb(
    field: &'static str,
    c: Option<&pb::ContactPerson>,
    bad: &mut Vec<(&'static str, String)>,
) -> ContactPerson {
    let c = c.cloned().unwrap_or_default();
    let ok = |s: &str, min: usize| {
        (min..=100).contains(&s.chars().count()) && !s.chars().any(char::is_control)
    };
    if !ok(&c.name, 1) || !ok(&c.function, 0) || !ok(&c.phone, 0) || !ok(&c.email, 0) {
        bad.push((
            field,
            "a name (1-100 printable characters) and function, phone, e-mail of at most 100".into(),
        ));
    }
    if c.phone.is_empty() && c.email.is_empty() {
        bad.push((field, "give a phone number or an e-mail address".into()));
    }
    ContactPerson {
        name: c.name,
        function: c.function,
        phone: c.phone,
        email: c.email,
    }
}

fn contact_to_pb(c: &ContactPerson) -> pb::ContactPerson {
    pb::ContactPerson {
        name: c.name.clone(),
        function: c.function.clone(),
        phone: c.phone.clone(),
        email: c.email.clone(),
    }
}

fn handover_to_pb(h: &HandoverRecord, envelopes: Vec<pb::Envelope>) -> pb::Handover {
    let advice = AdviceKind::from_code(&h.advice);
    let (zorgmelding_id, signal) = melding_to_pb(&h.melding);
    pb::Handover {
        handover_id: h.handover_id.to_string(),
        zorgmelding_id,
        signal,
        decision: h
            .decision
            .or(advice.map(DecisionKind::following))
            .map_or(0, triage_decision_to_pb),
        sender_oin: h.sender_oin.to_string(),
        recipient_oin: h.recipient_oin.to_string(),
        purpose: h.purpose.to_string(),
        categories: super::basis::names_to_pb(&h.categories),
        basis: h.basis.log_strings(),
        advice: advice.map(|kind| pb::TriageAdvice {
            advice: match kind {
                AdviceKind::StaysWithVeiligThuis => pb::Advice::StaysWithVeiligThuis,
                AdviceKind::JointVisit => pb::Advice::JointVisit,
                AdviceKind::WijkteamAlone => pb::Advice::WijkteamAlone,
            } as i32,
            ..Default::default()
        }),
        veilig_thuis_contact: Some(contact_to_pb(&h.vt_contact)),
        wijkteam_contact: Some(contact_to_pb(&h.wijkteam_contact)),
        state: match h.state {
            HandoverState::Pending => pb::HandoverState::Pending,
            HandoverState::Delivered => pb::HandoverState::Delivered,
            HandoverState::Withheld => pb::HandoverState::Withheld,
        } as i32,
        reasons: h
            .reasons
            .iter()
            .map(|r| pb::Reason {
                code: r.code.clone(),
                rule: r.rule.clone(),
                text_nl: r.nl.clone(),
                text_en: r.en.clone(),
            })
            .collect(),
        created_at: Some(timestamp(h.created_at)),
        updated_at: Some(timestamp(h.updated_at)),
        retain_until: Some(timestamp(h.retain_until)),
        envelopes,
        family_letter: h.letter.clone(),
        subject_count: h.subjects.len() as u32,
        answers: Vec::new(),
        answer_due: None,
        answer_overdue: false,
    }
}

impl TryFrom<pb::RecordTriageRequest> for RecordTriage {
    type Error = FlowError;
    fn try_from(r: pb::RecordTriageRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        let answers = answers_from_pb(r.criteria.as_ref(), &mut bad);
        if r.criteria.is_none() {
            bad.push(("criteria", "answer the six Arnhem criteria".into()));
        }
        if !crate::wire::valid_case_reference(&r.case_reference) {
            bad.push((
                "case_reference",
                format!(
                    "Veilig Thuis's case reference: {}",
                    crate::wire::CASE_REFERENCE_RULE
                ),
            ));
        }
        let melding = melding_from_pb(&r.zorgmelding_id, r.signal.as_ref(), &mut bad);
        crate::flows::reject(bad)?;
        Ok(RecordTriage {
            melding: parsed(melding, "zorgmelding_id")?,
            answers,
            acute: r.acute,
            case_reference: r.case_reference,
            acting_role: super::basis::acting_role(&r.acting_role)?,
        })
    }
}

impl TryFrom<pb::RecordFamilyDeclinedRequest> for RecordFamilyDeclined {
    type Error = FlowError;
    fn try_from(r: pb::RecordFamilyDeclinedRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        if !valid_person_ref(&r.declined_by) {
            bad.push(("declined_by", super::basis::PERSON_REF_RULE.into()));
        }
        let melding = melding_from_pb(&r.zorgmelding_id, r.signal.as_ref(), &mut bad);
        crate::flows::reject(bad)?;
        Ok(RecordFamilyDeclined {
            melding: parsed(melding, "zorgmelding_id")?,
            declined_by: r.declined_by,
            acting_role: super::basis::acting_role(&r.acting_role)?,
        })
    }
}

impl TryFrom<pb::HandOverRequest> for HandOver {
    type Error = FlowError;
    fn try_from(r: pb::HandOverRequest) -> Result<Self, FlowError> {
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        let handover_id = chosen_id::<crate::ids::Handover>(
            "handover_id",
            &r.handover_id,
            "1-64 of A-Za-z0-9._- chosen by the sender, unique per sender",
            &mut bad,
        );
        // Parsed here, before anything is decided or logged: a refusal entry names the recipient.
        let recipient_oin = parsed_field("recipient_oin", &r.recipient_oin, &mut bad);
        let melding = melding_from_pb(&r.zorgmelding_id, r.signal.as_ref(), &mut bad);
        let subjects = bsns_from_pb(
            "subject_bsns",
            &r.subject_bsns,
            MAX_HANDOVER_SUBJECTS,
            "person",
            &mut bad,
        );
        let basis = crate::wire::basis_from_pb(&r.basis.clone().unwrap_or_default(), &mut bad);
        if r.envelopes.is_empty() || r.envelopes.len() > MAX_HANDOVER_ENVELOPES {
            bad.push((
                "envelopes",
                format!("1 to {MAX_HANDOVER_ENVELOPES} envelopes re-sealed for the wijkteam"),
            ));
        }
        let mut ids: Vec<&str> = Vec::new();
        let mut envelopes = Vec::new();
        for env in &r.envelopes {
            let id = env
                .binding
                .as_ref()
                .map(|b| b.signal_id.as_str())
                .unwrap_or_default();
            let form = "each envelope needs its own id (1-64 of A-Za-z0-9._-)";
            if ids.contains(&id) {
                bad.push(("envelopes.binding.signal_id", form.into()));
            } else {
                chosen_id::<crate::ids::Signal>("envelopes.binding.signal_id", id, form, &mut bad);
            }
            ids.push(id);
            envelopes.extend(crate::wire::envelope_from_pb("envelopes", env, &mut bad));
        }
        let vt_contact = contact_from_pb(
            "veilig_thuis_contact",
            r.veilig_thuis_contact.as_ref(),
            &mut bad,
        );
        let wijkteam_contact =
            contact_from_pb("wijkteam_contact", r.wijkteam_contact.as_ref(), &mut bad);
        let categories = super::basis::name_list("categories", &r.categories, &mut bad);
        let acting_role = super::basis::optional_name("acting_role", &r.acting_role, &mut bad);
        let letter_language =
            Language::from_request(&r.family_letter_language).unwrap_or_else(|m| {
                bad.push(("family_letter_language", m));
                Language::Nl
            });
        crate::flows::reject(bad)?;
        // The envelopes' content is compared by their content digests; their ids count here.
        let canonical = pb::HandOverRequest {
            envelopes: r
                .envelopes
                .iter()
                .map(|e| pb::Envelope {
                    binding: e.binding.as_ref().map(|b| pb::EnvelopeBinding {
                        signal_id: b.signal_id.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
            subject_bsns: Vec::new(),
            acting_role: String::new(),
            ..r.clone()
        }
        .encode_to_vec();
        Ok(HandOver {
            handover_id: parsed(handover_id, "handover_id")?,
            melding: parsed(melding, "zorgmelding_id")?,
            recipient_oin: parsed(recipient_oin, "recipient_oin")?,
            subjects,
            categories,
            basis,
            envelopes,
            vt_contact,
            wijkteam_contact,
            acting_role,
            letter_language,
            canonical,
        })
    }
}

fn triage_to_pb(v: &TriageView) -> pb::Triage {
    let t = &v.triage;
    let (zorgmelding_id, signal) = melding_to_pb(&t.melding);
    pb::Triage {
        triage_id: t.triage_id.to_string(),
        zorgmelding_id,
        signal,
        decision: Some(decision_to_wire(v)),
        criteria: Some(answers_to_pb(&t.answers)),
        acute: t.acute,
        case_reference: t.case_reference.clone(),
        advice: Some(advice_to_pb(&v.advice)),
        recidive: Some(recidive_to_pb(&v.recidive)),
        triagist: t.professional.clone(),
        role: t.role.to_string(),
        recorded_at: Some(timestamp(t.recorded_at)),
    }
}

fn declined_to_pb(d: FamilyDeclined) -> pb::FamilyDeclined {
    pb::FamilyDeclined {
        declined_by: d.declined_by,
        recorded_at: Some(timestamp(d.recorded_at)),
    }
}

/// The handover as its viewer may see it (`flows::triage` decided how much).
fn view_to_pb(v: &HandoverView) -> pb::Handover {
    let envelopes = v
        .envelopes
        .iter()
        .filter_map(|b| crate::wire::decode_envelope(b))
        .collect();
    let mut h = handover_to_pb(&v.handover, envelopes);
    if let Some(a) = &v.advice {
        h.advice = Some(advice_to_pb(a));
    }
    h.answers = v.answers.iter().map(answer_to_pb).collect();
    h.answer_due = v.answer_due.map(timestamp);
    h.answer_overdue = v.answer_overdue;
    h
}

fn answer_to_pb(a: &HandoverAnswer) -> pb::HandoverAnswer {
    pb::HandoverAnswer {
        answer: answer_kind_to_pb(a.answer),
        reason: a.reason.map_or(0, return_reason_to_pb),
        reason_nl: a.reason.map(|r| r.nl().to_owned()).unwrap_or_default(),
        answered_by: a.professional.clone(),
        role: a.role.to_string(),
        answered_at: Some(timestamp(a.answered_at)),
        question: a.question.as_deref().and_then(crate::wire::decode_envelope),
    }
}

fn feedback_to_pb(f: &Feedback) -> pb::Feedback {
    let (zorgmelding_id, signal) = melding_to_pb(&f.melding);
    pb::Feedback {
        feedback_id: f.feedback_id.to_string(),
        veilig_thuis_oin: f.vt_oin.to_string(),
        zorgmelding_id,
        signal,
        outcome: outcome_to_pb(f.outcome),
        outcome_nl: f.outcome.nl().into(),
        note: f.note.as_deref().and_then(crate::wire::decode_envelope),
        sent_at: Some(timestamp(f.sent_at)),
    }
}

impl TryFrom<pb::SendFeedbackRequest> for SendFeedback {
    type Error = FlowError;
    fn try_from(r: pb::SendFeedbackRequest) -> Result<Self, FlowError> {
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        let feedback_id = chosen_id::<crate::ids::Feedback>(
            "feedback_id",
            &r.feedback_id,
            "1-64 of A-Za-z0-9._- chosen by Veilig Thuis, unique per sender",
            &mut bad,
        );
        let melding = melding_from_pb(&r.zorgmelding_id, r.signal.as_ref(), &mut bad);
        let outcome = required_code(
            "outcome",
            r.outcome,
            outcome_from_pb,
            "RECEIVED, HANDED_OVER_TO_WIJKTEAM, VEILIG_THUIS_INVESTIGATES, ADVICE_GIVEN or NO_FURTHER_ACTION",
            &mut bad,
        );
        let basis = crate::wire::basis_from_pb(&r.basis.clone().unwrap_or_default(), &mut bad);
        let note = match &r.note {
            Some(env) => crate::wire::envelope_from_pb("note", env, &mut bad),
            None => None,
        };
        let acting_role = super::basis::optional_name("acting_role", &r.acting_role, &mut bad);
        crate::flows::reject(bad)?;
        Ok(SendFeedback {
            feedback_id: parsed(feedback_id, "feedback_id")?,
            melding: parsed(melding, "zorgmelding_id")?,
            outcome: parsed(outcome, "outcome")?,
            basis,
            note,
            acting_role,
        })
    }
}

impl TryFrom<pb::AnswerHandoverRequest> for AnswerHandover {
    type Error = FlowError;
    fn try_from(r: pb::AnswerHandoverRequest) -> Result<Self, FlowError> {
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        let sender = parsed_field("sender_oin", &r.sender_oin, &mut bad);
        let handover_id = parsed_field("handover_id", &r.handover_id, &mut bad);
        let answer = required_code(
            "answer",
            r.answer,
            answer_kind_from_pb,
            "ACCEPTED, QUESTION or RETURNED",
            &mut bad,
        );
        let reason = optional_code("reason", r.reason, return_reason_from_pb, &mut bad);
        if reason.is_some() && answer != Some(AnswerKind::Returned) {
            bad.push(("reason", "only a returned handover has a reason".into()));
        }
        let question = match &r.question {
            Some(env) => {
                chosen_id::<crate::ids::Signal>(
                    "question.binding.signal_id",
                    env.binding
                        .as_ref()
                        .map(|b| b.signal_id.as_str())
                        .unwrap_or_default(),
                    "the question's own id (1-64 of A-Za-z0-9._-)",
                    &mut bad,
                );
                crate::wire::envelope_from_pb("question", env, &mut bad)
            }
            None => None,
        };
        if question.is_some() && answer != Some(AnswerKind::Question) {
            bad.push(("question", "only a QUESTION carries a question".into()));
        }
        let subjects = if answer == Some(AnswerKind::Accepted) {
            bsns_from_pb(
                "subject_bsns",
                &r.subject_bsns,
                MAX_HANDOVER_SUBJECTS,
                "person",
                &mut bad,
            )
        } else {
            if !r.subject_bsns.is_empty() {
                bad.push(("subject_bsns", "only an acceptance names persons".into()));
            }
            Vec::new()
        };
        let acting_role = super::basis::optional_name("acting_role", &r.acting_role, &mut bad);
        crate::flows::reject(bad)?;
        Ok(AnswerHandover {
            sender: parsed(sender, "sender_oin")?,
            handover_id: parsed(handover_id, "handover_id")?,
            answer: parsed(answer, "answer")?,
            reason,
            question,
            subjects,
            contact_professional: r.contact_professional,
            acting_role,
        })
    }
}

#[tonic::async_trait]
impl TriageService for TriageApi {
    async fn record_triage(
        &self,
        request: Request<pb::RecordTriageRequest>,
    ) -> Result<Response<pb::RecordTriageResponse>, Status> {
        let c = caller(&request)?;
        let cmd = RecordTriage::try_from(request.into_inner())?;
        let v = flow::record_triage(&self.ctx, &c, cmd).await?;
        Ok(Response::new(pb::RecordTriageResponse {
            triage: Some(triage_to_pb(&v)),
        }))
    }

    async fn decide_triage(
        &self,
        request: Request<pb::DecideTriageRequest>,
    ) -> Result<Response<pb::DecideTriageResponse>, Status> {
        let c = caller(&request)?;
        let cmd = DecideTriage::try_from(request.into_inner())?;
        let v = flow::decide_triage(&self.ctx, &c, cmd).await?;
        Ok(Response::new(pb::DecideTriageResponse {
            triage: Some(triage_to_pb(&v)),
        }))
    }

    async fn get_triage(
        &self,
        request: Request<pb::GetTriageRequest>,
    ) -> Result<Response<pb::GetTriageResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let mut bad = Vec::new();
        let melding = melding_from_pb(&r.zorgmelding_id, r.signal.as_ref(), &mut bad);
        crate::flows::reject(bad)?;
        let s = flow::get_triage(&self.ctx, &c, &parsed(melding, "zorgmelding_id")?).await?;
        Ok(Response::new(pb::GetTriageResponse {
            triage: s.triage.as_ref().map(triage_to_pb),
            family_declined: s.declined.map(declined_to_pb),
        }))
    }

    async fn record_family_declined(
        &self,
        request: Request<pb::RecordFamilyDeclinedRequest>,
    ) -> Result<Response<pb::RecordFamilyDeclinedResponse>, Status> {
        let c = caller(&request)?;
        let cmd = RecordFamilyDeclined::try_from(request.into_inner())?;
        let d = flow::record_family_declined(&self.ctx, &c, cmd).await?;
        Ok(Response::new(pb::RecordFamilyDeclinedResponse {
            family_declined: Some(declined_to_pb(d)),
        }))
    }

    async fn hand_over(
        &self,
        request: Request<pb::HandOverRequest>,
    ) -> Result<Response<pb::HandOverResponse>, Status> {
        let c = caller(&request)?;
        let cmd = HandOver::try_from(request.into_inner())?;
        let done = flow::hand_over(&self.ctx, &c, cmd).await?;
        Ok(Response::new(pb::HandOverResponse {
            handover: Some(view_to_pb(&done.view)),
            decisions: done.decisions.iter().map(decision_to_pb).collect(),
            duplicate: done.duplicate,
        }))
    }

    async fn list_handovers(
        &self,
        request: Request<pb::ListHandoversRequest>,
    ) -> Result<Response<pb::ListHandoversResponse>, Status> {
        let c = caller(&request)?;
        let hs = flow::list_handovers(&self.ctx, &c).await?;
        Ok(Response::new(pb::ListHandoversResponse {
            handovers: hs.iter().map(view_to_pb).collect(),
        }))
    }

    async fn send_feedback(
        &self,
        request: Request<pb::SendFeedbackRequest>,
    ) -> Result<Response<pb::SendFeedbackResponse>, Status> {
        let c = caller(&request)?;
        let cmd = SendFeedback::try_from(request.into_inner())?;
        let done = feedback::send_feedback(&self.ctx, &c, cmd).await?;
        Ok(Response::new(pb::SendFeedbackResponse {
            feedback: Some(feedback_to_pb(&done.feedback)),
            decision: done.decision.as_ref().map(decision_to_pb),
            duplicate: done.duplicate,
        }))
    }

    async fn list_feedback(
        &self,
        request: Request<pb::ListFeedbackRequest>,
    ) -> Result<Response<pb::ListFeedbackResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let mut bad = Vec::new();
        let melding = melding_from_pb(&r.zorgmelding_id, r.signal.as_ref(), &mut bad);
        crate::flows::reject(bad)?;
        let all =
            feedback::list_feedback(&self.ctx, &c, &parsed(melding, "zorgmelding_id")?).await?;
        Ok(Response::new(pb::ListFeedbackResponse {
            feedback: all.iter().map(feedback_to_pb).collect(),
        }))
    }

    async fn answer_handover(
        &self,
        request: Request<pb::AnswerHandoverRequest>,
    ) -> Result<Response<pb::AnswerHandoverResponse>, Status> {
        let c = caller(&request)?;
        let cmd = AnswerHandover::try_from(request.into_inner())?;
        let done = handover_answer::answer_handover(&self.ctx, &c, cmd).await?;
        Ok(Response::new(pb::AnswerHandoverResponse {
            handover: Some(view_to_pb(&done.view)),
            involvement_ids: done.involvement_ids.iter().map(|i| i.to_string()).collect(),
            duplicate: done.duplicate,
        }))
    }

    async fn set_melding_stage(
        &self,
        request: Request<pb::SetMeldingStageRequest>,
    ) -> Result<Response<pb::SetMeldingStageResponse>, Status> {
        melding::set_melding_stage(&self.ctx, request).await
    }

    async fn get_melding_stages(
        &self,
        request: Request<pb::GetMeldingStagesRequest>,
    ) -> Result<Response<pb::GetMeldingStagesResponse>, Status> {
        melding::get_melding_stages(&self.ctx, request).await
    }

    async fn list_meldingen(
        &self,
        request: Request<pb::ListMeldingenRequest>,
    ) -> Result<Response<pb::ListMeldingenResponse>, Status> {
        melding::list_meldingen(&self.ctx, request).await
    }

    async fn request_information(
        &self,
        request: Request<pb::RequestInformationRequest>,
    ) -> Result<Response<pb::RequestInformationResponse>, Status> {
        melding::request_information(&self.ctx, request).await
    }

    async fn list_information_requests(
        &self,
        request: Request<pb::ListInformationRequestsRequest>,
    ) -> Result<Response<pb::ListInformationRequestsResponse>, Status> {
        melding::list_information_requests(&self.ctx, request).await
    }

    async fn answer_information(
        &self,
        request: Request<pb::AnswerInformationRequest>,
    ) -> Result<Response<pb::AnswerInformationResponse>, Status> {
        melding::answer_information(&self.ctx, request).await
    }

    async fn get_handover(
        &self,
        request: Request<pb::GetHandoverRequest>,
    ) -> Result<Response<pb::GetHandoverResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let v = flow::get_handover(&self.ctx, &c, &r.sender_oin, &r.handover_id).await?;
        Ok(Response::new(pb::GetHandoverResponse {
            handover: Some(view_to_pb(&v)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_coded_value_has_its_wire_value_and_back() {
        macro_rules! round_trip {
            ($($domain:ident, $to:ident, $from:ident;)*) => {$(
                for v in $domain::ALL {
                    let wire = $to(*v);
                    assert_ne!(wire, 0, "{} has no wire value", v.code());
                    assert_eq!($from(wire), Some(*v));
                }
                assert_eq!($from(0), None);
                assert_eq!($from(999), None);
            )*};
        }
        round_trip! {
            DecisionKind, triage_decision_to_pb, triage_decision_from_pb;
            DecisionReason, reason_to_pb, reason_from_pb;
            AnswerKind, answer_kind_to_pb, answer_kind_from_pb;
            ReturnReason, return_reason_to_pb, return_reason_from_pb;
            FeedbackOutcome, outcome_to_pb, outcome_from_pb;
        }
    }
}
