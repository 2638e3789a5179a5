//! `signaalhub.v1.TriageService`: Veilig Thuis records the triage of a zorgmelding (the Arnhem
//! criteria -> joint-visit advice, with the recidive), records a family's refusal, and hands the
//! case over to a wijkteam — re-sealed by Veilig Thuis, decided by the convenant (statutory task
//! and the family's consent), with a letter for the family. Every act is logged.
use super::basis::{decision_to_pb, denied, reject, truncate, valid_person_ref};
use super::policy::{DisclosureInput, disclosure};
use super::status::{from_store, invalid};
use super::zorgmelding::recidive_to_pb;
use super::{caller, timestamp};
use crate::domain::consent::{Consent, Facts};
use crate::domain::directory::valid_key_id;
use crate::domain::signal::StoredReason;
use crate::domain::zorgmelding::{
    ContactPerson, FamilyDeclined, HandoverRecord, HandoverState, LetterInput, TriageAnswersStored,
    TriageRecord, ZorgmeldingRecord, family_letter,
};
use crate::flows::decision::Question;
use crate::flows::envelope::{self, Expected};
use crate::flows::idempotency;
use crate::flows::zorgmelding::{melding_for_recipient, recidive};
use crate::flows::{Ctx, now, random_id};
use crate::ledger::{EntryOutcome, Event, PendingEntry};
use crate::store::StoreError;
use crate::store::zorgmelding::HandoverVerdict;
use prost::Message;
use signaalhub_policy as policy;
use signaalhub_policy::triage::{AdviceKind, Criterion, TriageAdvice, advise};
use signaalhub_proto::pb;
use signaalhub_proto::pb::triage_service_server::TriageService;
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The purpose of a handover to the wijkteam (a purpose of the convenant).
pub const HANDOVER_PURPOSE: &str = "overdracht_hulpverlening";
/// Most envelopes in one handover.
pub const MAX_HANDOVER_ENVELOPES: usize = 16;
/// Most persons in one handover.
pub const MAX_HANDOVER_SUBJECTS: usize = 8;
/// Refusal code: the family declined the wijkteam.
pub const FAMILY_DECLINED: &str = "FAMILY_DECLINED_WIJKTEAM";
/// Refusal code: the triage found acute danger.
pub const ACUTE: &str = "ACUTE_STAYS_WITH_VEILIG_THUIS";

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

fn advice_of(t: &TriageRecord) -> TriageAdvice {
    advise(&t.answers.to_policy(t.earlier_reports, t.acute))
}

async fn triage_to_pb(
    ctx: &Ctx,
    t: &TriageRecord,
    m: &ZorgmeldingRecord,
) -> Result<pb::Triage, Status> {
    let (r, _) = recidive(ctx, &m.recipient_oin, m).await?;
    Ok(pb::Triage {
        triage_id: t.triage_id.clone(),
        zorgmelding_id: t.zorgmelding_id.clone(),
        criteria: Some(answers_to_pb(&t.answers)),
        acute: t.acute,
        case_reference: t.case_reference.clone(),
        advice: Some(advice_to_pb(&advice_of(t))),
        recidive: Some(recidive_to_pb(&r)),
        triagist: t.professional.clone(),
        role: t.role.clone(),
        recorded_at: Some(timestamp(t.recorded_at)),
    })
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

/// A case reference: 1-64 printable characters, and not a BSN (the hub keeps none).
fn valid_case_reference(s: &str) -> bool {
    (1..=64).contains(&s.chars().count())
        && !s.chars().any(char::is_control)
        && s.parse::<crate::ids::Bsn>().is_err()
}

/// The category under which the triage outcome itself is handed over (sample convenant:
/// "Samenvatting van de melding en de triage-uitkomst van Veilig Thuis").
pub const SUMMARY_CATEGORY: &str = "melding_samenvatting";

/// The handover as `viewer` may see it: Veilig Thuis sees the full advice of the triage it rests
/// on; the wijkteam sees whether to visit jointly, and the criteria behind it only when the
/// triage outcome was handed over (category [`SUMMARY_CATEGORY`]).
async fn handover_view(
    ctx: &Ctx,
    h: &HandoverRecord,
    viewer: &str,
    envelopes: Vec<pb::Envelope>,
) -> Result<pb::Handover, Status> {
    let mut v = handover_to_pb(h, envelopes);
    let full = viewer == h.sender_oin || h.categories.iter().any(|c| c == SUMMARY_CATEGORY);
    if full
        && let Some(t) = ctx
            .store
            .get_triage(&h.triage_id)
            .await
            .map_err(from_store)?
    {
        v.advice = Some(advice_to_pb(&advice_of(&t)));
    }
    Ok(v)
}

fn handover_to_pb(h: &HandoverRecord, envelopes: Vec<pb::Envelope>) -> pb::Handover {
    let advice = AdviceKind::from_code(&h.advice);
    pb::Handover {
        handover_id: h.handover_id.clone(),
        zorgmelding_id: h.zorgmelding_id.clone(),
        sender_oin: h.sender_oin.clone(),
        recipient_oin: h.recipient_oin.clone(),
        purpose: h.purpose.clone(),
        categories: h.categories.clone(),
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
    }
}

/// A refusal the convenant does not decide (the family declined, acute danger): PERMISSION_DENIED
/// with an ErrorInfo code and the Dutch text as LocalizedMessage.
fn refusal(code: &str, nl: &str, en: &str) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(code, "signaalhub.nl", []);
    details.add_precondition_failure_violation(code, "handover", en);
    details.set_localized_message("nl-NL", nl);
    Status::with_error_details(
        Code::PermissionDenied,
        format!("handover refused: {en} ({code}); the case stays with Veilig Thuis"),
        details,
    )
}

/// Decides a handover again at delivery, per person, with the consents as they stand.
fn redecide<'c>(ctx: &'c Ctx, h: &HandoverRecord, consents: &[Consent]) -> policy::Decision<'c> {
    let t = now();
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
        recipient_involved: false,
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

#[tonic::async_trait]
impl TriageService for TriageApi {
    async fn record_triage(
        &self,
        request: Request<pb::RecordTriageRequest>,
    ) -> Result<Response<pb::RecordTriageResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        let mut bad = Vec::new();
        let answers = answers_from_pb(r.criteria.as_ref(), &mut bad);
        if r.criteria.is_none() {
            bad.push(("criteria", "answer the six Arnhem criteria".into()));
        }
        if !valid_case_reference(&r.case_reference) {
            bad.push((
                "case_reference",
                "Veilig Thuis's case reference: 1-64 printable characters, not a BSN".into(),
            ));
        }
        reject(bad)?;
        let m = melding_for_recipient(&self.ctx, &c, &r.zorgmelding_id).await?;
        let (rec, _) = recidive(&self.ctx, c.oin().as_str(), &m).await?;
        let earlier = rec.earlier_zorgmeldingen + rec.earlier_signals;
        let t = TriageRecord {
            triage_id: random_id("tr_")?,
            zorgmelding_id: m.zorgmelding_id.clone(),
            vt_oin: c.oin().to_string(),
            answers,
            acute: r.acute,
            case_reference: r.case_reference.clone(),
            advice: String::new(),
            earlier_reports: earlier,
            role: role.clone(),
            professional: c.professional.id.clone(),
            recorded_at: now(),
        };
        let advice = advice_of(&t);
        let t = TriageRecord {
            advice: advice.kind.code().into(),
            ..t
        };
        let mut e = self
            .ctx
            .entry(&c, &role, Event::TriageRecorded, EntryOutcome::Recorded);
        e.entry.subjects = m.subjects.clone();
        e.entry.purpose = Some(m.purpose.clone());
        e.entry.reference = Some(t.triage_id.clone());
        self.ctx
            .store
            .insert_triage(&t, &e)
            .await
            .map_err(from_store)?;
        Ok(Response::new(pb::RecordTriageResponse {
            triage: Some(pb::Triage {
                recidive: Some(recidive_to_pb(&rec)),
                ..triage_to_pb(&self.ctx, &t, &m).await?
            }),
        }))
    }

    async fn get_triage(
        &self,
        request: Request<pb::GetTriageRequest>,
    ) -> Result<Response<pb::GetTriageResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let m = melding_for_recipient(&self.ctx, &c, &r.zorgmelding_id).await?;
        let triage = match self
            .ctx
            .store
            .latest_triage(&m.zorgmelding_id)
            .await
            .map_err(from_store)?
        {
            Some(t) => Some(triage_to_pb(&self.ctx, &t, &m).await?),
            None => None,
        };
        let declined = self
            .ctx
            .store
            .family_declined(&m.zorgmelding_id)
            .await
            .map_err(from_store)?;
        Ok(Response::new(pb::GetTriageResponse {
            triage,
            family_declined: declined.map(|d| pb::FamilyDeclined {
                declined_by: d.declined_by,
                recorded_at: Some(timestamp(d.recorded_at)),
            }),
        }))
    }

    async fn record_family_declined(
        &self,
        request: Request<pb::RecordFamilyDeclinedRequest>,
    ) -> Result<Response<pb::RecordFamilyDeclinedResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        if !valid_person_ref(&r.declined_by) {
            return Err(invalid(&[(
                "declined_by",
                "a reference such as \"ouder-1\" (1-32 of a-z, 0-9, _ and -), never a name".into(),
            )]));
        }
        let m = melding_for_recipient(&self.ctx, &c, &r.zorgmelding_id).await?;
        let d = FamilyDeclined {
            zorgmelding_id: m.zorgmelding_id.clone(),
            declined_by: r.declined_by.clone(),
            recorded_by_oin: c.oin().to_string(),
            recorded_at: now(),
        };
        let mut e = self.ctx.entry(
            &c,
            &role,
            Event::FamilyDeclinedRecorded,
            EntryOutcome::Recorded,
        );
        e.entry.subjects = m.subjects.clone();
        e.entry.purpose = Some(HANDOVER_PURPOSE.into());
        e.entry.reference = Some(m.zorgmelding_id.clone());
        self.ctx
            .store
            .record_family_declined(&d, &e)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => Status::failed_precondition(
                    "the family's refusal is already recorded for this zorgmelding",
                ),
                other => from_store(other),
            })?;
        Ok(Response::new(pb::RecordFamilyDeclinedResponse {
            family_declined: Some(pb::FamilyDeclined {
                declined_by: d.declined_by,
                recorded_at: Some(timestamp(d.recorded_at)),
            }),
        }))
    }

    async fn hand_over(
        &self,
        request: Request<pb::HandOverRequest>,
    ) -> Result<Response<pb::HandOverResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        let me = c.oin().to_string();
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        if !valid_key_id(&r.handover_id) {
            bad.push((
                "handover_id",
                "1-64 of A-Za-z0-9._- chosen by the sender, unique per sender".into(),
            ));
        }
        if r.subject_bsns.is_empty() || r.subject_bsns.len() > MAX_HANDOVER_SUBJECTS {
            bad.push((
                "subject_bsns",
                format!("1 to {MAX_HANDOVER_SUBJECTS} persons"),
            ));
        }
        let mut subjects = Vec::new();
        for b in &r.subject_bsns {
            if let Some(p) = self.ctx.subject("subject_bsns", b, &mut bad) {
                if subjects.contains(&p) {
                    bad.push(("subject_bsns", "each person once".into()));
                } else {
                    subjects.push(p);
                }
            }
        }
        let basis = r.basis.clone().unwrap_or_default();
        let domain_basis = crate::wire::basis_from_pb(&basis, &mut bad);
        let basis_reference = domain_basis.reference();
        let mut sealed = Vec::new();
        if r.envelopes.is_empty() || r.envelopes.len() > MAX_HANDOVER_ENVELOPES {
            bad.push((
                "envelopes",
                format!("1 to {MAX_HANDOVER_ENVELOPES} envelopes re-sealed for the wijkteam"),
            ));
        }
        let mut ids: Vec<&str> = Vec::new();
        for env in &r.envelopes {
            let id = env
                .binding
                .as_ref()
                .map(|b| b.signal_id.as_str())
                .unwrap_or_default();
            if !valid_key_id(id) || ids.contains(&id) {
                bad.push((
                    "envelopes.binding.signal_id",
                    "each envelope needs its own id (1-64 of A-Za-z0-9._-)".into(),
                ));
            }
            ids.push(id);
            if let Some(env) = crate::wire::envelope_from_pb("envelopes", env, &mut bad) {
                envelope::check_binding(
                    &env,
                    Expected {
                        sender: &me,
                        signal_id: id,
                        purpose: HANDOVER_PURPOSE,
                        categories: &r.categories,
                        basis_reference: &basis_reference,
                        recipients: Some(&[&r.recipient_oin]),
                    },
                    &mut bad,
                );
                sealed.push(env);
            }
        }
        let vt_contact = contact_from_pb(
            "veilig_thuis_contact",
            r.veilig_thuis_contact.as_ref(),
            &mut bad,
        );
        let wijkteam_contact =
            contact_from_pb("wijkteam_contact", r.wijkteam_contact.as_ref(), &mut bad);
        reject(std::mem::take(&mut bad))?;
        let m = melding_for_recipient(&self.ctx, &c, &r.zorgmelding_id).await?;
        for s in &subjects {
            if !m.subjects.iter().any(|x| s.matches(x)) {
                bad.push((
                    "subject_bsns",
                    "each person must be one the zorgmelding is about".into(),
                ));
            }
        }
        reject(std::mem::take(&mut bad))?;
        let canonical = pb::HandOverRequest {
            envelopes: Vec::new(),
            subject_bsns: Vec::new(),
            acting_role: String::new(),
            ..r.clone()
        }
        .encode_to_vec();
        let request_hash = idempotency::request_hash(
            std::iter::once(canonical.as_slice())
                .chain(subjects.iter().map(|s| s.root().as_str().as_bytes()))
                .chain(std::iter::once(role.as_bytes())),
        );
        if let Some(h) = self
            .ctx
            .store
            .get_handover(&me, &r.handover_id)
            .await
            .map_err(from_store)?
        {
            idempotency::compare(
                Some(&h.request_hash),
                &request_hash,
                &format!("handover id {:?}", truncate(&r.handover_id)),
            )?;
            return Ok(Response::new(pb::HandOverResponse {
                handover: Some(handover_view(&self.ctx, &h, &me, Vec::new()).await?),
                decisions: vec![],
                duplicate: true,
            }));
        }
        let subject_strings: Vec<String> = subjects.iter().map(|s| s.as_str().to_owned()).collect();
        // A refusal the convenant does not decide is logged like a policy denial.
        let log_refusal = |code: &str| {
            let mut e = self
                .ctx
                .entry(&c, &role, Event::HandoverDenied, EntryOutcome::Denied);
            e.entry.subjects = subject_strings.clone();
            e.entry.recipient_oin = Some(r.recipient_oin.clone());
            e.entry.categories = r.categories.clone();
            e.entry.purpose = Some(HANDOVER_PURPOSE.into());
            e.entry.basis = domain_basis.log_strings();
            e.entry.reasons = vec![code.to_owned()];
            e.entry.reference = Some(r.handover_id.clone());
            e
        };
        let declined_status = |d: &FamilyDeclined| {
            refusal(
                FAMILY_DECLINED,
                &format!(
                    "het gezin wil geen hulp van het wijkteam ({} op {}); de zaak blijft bij Veilig Thuis",
                    d.declined_by,
                    crate::domain::zorgmelding::civil_date(d.recorded_at)
                ),
                &format!(
                    "the family declined the wijkteam ({} on {})",
                    d.declined_by,
                    crate::domain::zorgmelding::civil_date(d.recorded_at)
                ),
            )
        };
        if let Some(d) = self
            .ctx
            .store
            .family_declined(&m.zorgmelding_id)
            .await
            .map_err(from_store)?
        {
            self.ctx
                .store
                .append_log(&[log_refusal(FAMILY_DECLINED)])
                .await
                .map_err(from_store)?;
            return Err(declined_status(&d));
        }
        let triage = self
            .ctx
            .store
            .latest_triage(&m.zorgmelding_id)
            .await
            .map_err(from_store)?
            .ok_or_else(|| {
                Status::failed_precondition(
                    "record the triage of this zorgmelding first (RecordTriage): the handover carries its advice",
                )
            })?;
        let advice = advice_of(&triage);
        if advice.kind == AdviceKind::StaysWithVeiligThuis {
            self.ctx
                .store
                .append_log(&[log_refusal(ACUTE)])
                .await
                .map_err(from_store)?;
            return Err(refusal(
                ACUTE,
                "de triage stelt acuut gevaar vast: de zaak blijft bij Veilig Thuis",
                "the triage found acute danger",
            ));
        }
        for env in &sealed {
            envelope::check_keys(&self.ctx, env, &mut bad);
        }
        reject(std::mem::take(&mut bad))?;
        // Consents by person: each person is decided on their own consents.
        let all_consents = if basis.consent_ids.is_empty() {
            Vec::new()
        } else {
            self.ctx
                .store
                .get_consents(&basis.consent_ids)
                .await
                .map_err(from_store)?
        };
        for id in &basis.consent_ids {
            match all_consents.iter().find(|k| &k.id == id) {
                None => bad.push((
                    "basis.consent_ids",
                    format!("no consent {:?} is recorded", truncate(id)),
                )),
                Some(k) if !subjects.iter().any(|s| s.matches(k.subject.as_str())) => bad.push((
                    "basis.consent_ids",
                    format!("consent {id} is about none of the persons handed over"),
                )),
                Some(_) => {}
            }
        }
        reject(bad)?;
        let mut decisions: Vec<policy::Decision> = Vec::new();
        let mut facts: Vec<Facts> = Vec::new();
        let mut relied: Vec<String> = Vec::new();
        for (bsn, subject) in r.subject_bsns.iter().zip(subjects.iter()) {
            let mut b = basis.clone();
            b.consent_ids = all_consents
                .iter()
                .filter(|k| subject.matches(k.subject.as_str()))
                .map(|k| k.id.clone())
                .collect();
            let d = disclosure(
                &self.ctx,
                &c,
                DisclosureInput {
                    recipient_oin: &r.recipient_oin,
                    purpose: HANDOVER_PURPOSE,
                    categories: &r.categories,
                    subject_bsn: bsn,
                    subject: None,
                    basis: Some(&b),
                    acting_role: &role,
                    received_for: &m.purpose,
                    inform_exemption: "",
                },
            )
            .await?;
            let decision = self.ctx.policy.decide(&d.request);
            crate::metrics::decision(&decision);
            for i in &decision.consents_relied_on {
                if let Some(k) = d.consents.get(i)
                    && !relied.contains(&k.id)
                {
                    relied.push(k.id.clone());
                }
            }
            facts.push(
                d.consents
                    .first()
                    .map(|k| k.facts.clone())
                    .unwrap_or_default(),
            );
            decisions.push(decision);
        }
        if let Some(d) = decisions.iter().find(|d| !d.is_allowed()) {
            let mut e = log_refusal("");
            e.entry.reasons = d
                .reasons
                .iter()
                .map(|x| x.code.as_str().to_owned())
                .collect();
            e.entry.policy_version = Some(d.policy_version.to_string());
            self.ctx.store.append_log(&[e]).await.map_err(from_store)?;
            return Err(denied(
                &format!(
                    "handover to {} refused; the case stays with Veilig Thuis",
                    truncate(&r.recipient_oin)
                ),
                d,
            ));
        }
        let t = now();
        let descriptions = &self.ctx.policy.convenant().categories;
        let letter = family_letter(&LetterInput {
            date: t,
            reporter_name: self.ctx.name_of(&m.police_oin),
            vt_name: self.ctx.name_of(&me),
            wijkteam_name: self.ctx.name_of(&r.recipient_oin),
            categories: r
                .categories
                .iter()
                .map(|n| {
                    let d = descriptions
                        .iter()
                        .find(|k| &k.name == n)
                        .and_then(|k| k.description.clone())
                        .unwrap_or_default();
                    (n.clone(), d)
                })
                .collect(),
            joint_visit: advice.kind == AdviceKind::JointVisit,
            with_consent: !relied.is_empty(),
            vt_contact: vt_contact.clone(),
            wijkteam_contact: wijkteam_contact.clone(),
            handover_id: r.handover_id.clone(),
        });
        let record = HandoverRecord {
            sender_oin: me.clone(),
            handover_id: r.handover_id.clone(),
            request_hash,
            zorgmelding_id: m.zorgmelding_id.clone(),
            recipient_oin: r.recipient_oin.clone(),
            subjects: subject_strings.clone(),
            facts,
            categories: r.categories.clone(),
            purpose: HANDOVER_PURPOSE.into(),
            basis: domain_basis.clone(),
            received_for: m.purpose.clone(),
            advice: advice.kind.code().into(),
            triage_id: triage.triage_id.clone(),
            vt_contact,
            wijkteam_contact,
            letter,
            state: HandoverState::Pending,
            reasons: Vec::new(),
            consent_ids: relied,
            sender_role: role.clone(),
            sender_professional: c.professional.id.clone(),
            created_at: t,
            updated_at: t,
            retain_until: decisions
                .iter()
                .filter_map(|d| d.retain_until)
                .max()
                .unwrap_or(t),
        };
        let entry = handover_entry(
            &self.ctx,
            &record,
            Event::HandoverSent,
            EntryOutcome::Recorded,
            Vec::new(),
        );
        let envelopes: Vec<Vec<u8>> = r.envelopes.iter().map(|e| e.encode_to_vec()).collect();
        let stored = self
            .ctx
            .store
            .insert_handover(&record, &envelopes, std::slice::from_ref(&entry))
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => Status::from(idempotency::conflict(&format!(
                    "handover id {:?}",
                    truncate(&r.handover_id)
                ))),
                other => from_store(other),
            })?;
        let duplicate = match stored {
            Some(new) => !new,
            None => {
                // The family declined while this request was being decided.
                self.ctx
                    .store
                    .append_log(&[log_refusal(FAMILY_DECLINED)])
                    .await
                    .map_err(from_store)?;
                let d = self
                    .ctx
                    .store
                    .family_declined(&m.zorgmelding_id)
                    .await
                    .map_err(from_store)?
                    .ok_or_else(|| Status::aborted("the family's refusal changed; try again"))?;
                return Err(declined_status(&d));
            }
        };
        let h = self
            .ctx
            .store
            .get_handover(&me, &r.handover_id)
            .await
            .map_err(from_store)?
            .ok_or_else(|| Status::not_found("the handover is gone"))?;
        Ok(Response::new(pb::HandOverResponse {
            handover: Some(handover_view(&self.ctx, &h, &me, Vec::new()).await?),
            decisions: if duplicate {
                vec![]
            } else {
                decisions.iter().map(decision_to_pb).collect()
            },
            duplicate,
        }))
    }

    async fn list_handovers(
        &self,
        request: Request<pb::ListHandoversRequest>,
    ) -> Result<Response<pb::ListHandoversResponse>, Status> {
        let c = caller(&request)?;
        let hs = self
            .ctx
            .store
            .list_handovers(c.oin().as_str(), 100)
            .await
            .map_err(from_store)?;
        Ok(Response::new(pb::ListHandoversResponse {
            handovers: {
                let mut v = Vec::with_capacity(hs.len());
                for h in &hs {
                    v.push(handover_view(&self.ctx, h, c.oin().as_str(), Vec::new()).await?);
                }
                v
            },
        }))
    }

    async fn get_handover(
        &self,
        request: Request<pb::GetHandoverRequest>,
    ) -> Result<Response<pb::GetHandoverResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let me = c.oin().as_str();
        let not_found = || {
            Status::not_found(format!(
                "no handover {:?} from {:?} concerns you",
                truncate(&r.handover_id),
                truncate(&r.sender_oin)
            ))
        };
        let h = self
            .ctx
            .store
            .get_handover(&r.sender_oin, &r.handover_id)
            .await
            .map_err(from_store)?
            .ok_or_else(not_found)?;
        if h.sender_oin == me {
            return Ok(Response::new(pb::GetHandoverResponse {
                handover: Some(handover_view(&self.ctx, &h, me, Vec::new()).await?),
            }));
        }
        if h.recipient_oin != me {
            return Err(not_found());
        }
        let was = h.state;
        let state = if was == HandoverState::Pending {
            let ctx = self.ctx.clone();
            let rec = h.clone();
            self.ctx
                .store
                .deliver_handover(
                    &h.sender_oin,
                    &h.handover_id,
                    &h.consent_ids,
                    move |consents| {
                        let d = redecide(&ctx, &rec, consents);
                        let codes = d
                            .reasons
                            .iter()
                            .map(|x| x.code.as_str().to_owned())
                            .collect();
                        if d.is_allowed() {
                            HandoverVerdict::Deliver(handover_entry(
                                &ctx,
                                &rec,
                                Event::HandoverDelivered,
                                EntryOutcome::Disclosed,
                                codes,
                            ))
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
                                    &ctx,
                                    &rec,
                                    Event::HandoverWithheld,
                                    EntryOutcome::Withheld,
                                    codes,
                                ),
                            )
                        }
                    },
                )
                .await
                .map_err(from_store)?
        } else {
            was
        };
        // Erased at the end of its retention, a handover has no envelopes left to read.
        let erased = was == HandoverState::Delivered
            && self
                .ctx
                .store
                .handover_envelopes(&h.sender_oin, &h.handover_id)
                .await
                .map_err(from_store)?
                .is_empty();
        if was == HandoverState::Delivered && !erased {
            // Reading the envelopes again is a read of personal data: logged first.
            let mut e = self.ctx.entry(
                &c,
                &c.professional.roles.first().cloned().unwrap_or_default(),
                Event::HandoverRead,
                EntryOutcome::Recorded,
            );
            e.entry.subjects = h.subjects.clone();
            e.entry.recipient_oin = Some(me.to_owned());
            e.entry.categories = h.categories.clone();
            e.entry.purpose = Some(h.purpose.clone());
            e.entry.reference = Some(h.handover_id.clone());
            self.ctx
                .store
                .append_log(std::slice::from_ref(&e))
                .await
                .map_err(from_store)?;
        }
        let h = self
            .ctx
            .store
            .get_handover(&r.sender_oin, &r.handover_id)
            .await
            .map_err(from_store)?
            .ok_or_else(not_found)?;
        let envelopes = if state == HandoverState::Delivered {
            self.ctx
                .store
                .handover_envelopes(&h.sender_oin, &h.handover_id)
                .await
                .map_err(from_store)?
                .iter()
                .filter_map(|b| pb::Envelope::decode(b.as_slice()).ok())
                .collect()
        } else {
            Vec::new()
        };
        Ok(Response::new(pb::GetHandoverResponse {
            handover: Some(handover_view(&self.ctx, &h, me, envelopes).await?),
        }))
    }
}
