//! Veilig Thuis's whole chain (issue 19): a school's meldcode report is a melding Veilig Thuis
//! triages like a police zorgmelding (recidive over both), the triagist decides — against the
//! advice, with a reason — and the handover and the family letter follow the decision. Every
//! rule allowed and refused, on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::zorgmelding_flow::*;
use common::{TestHub, both_parents_consent_to, meldrecht, violations};
use signaalhub_client::envelope;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ClientError, HubClient};
use signaalhub_server::ledger::Event;
use signaalhub_server::store::testing::backends;
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::Code;

const SCHOOL_TEXT: &[u8] = b"Jayden (6) vertelt over ruzie thuis en heeft blauwe plekken.";

/// The school's meldcode report about CHILD to Veilig Thuis (meldrecht, steps 1-4), delivered:
/// Veilig Thuis's inbox has it. Returns the reference Veilig Thuis triages it by.
async fn school_report(hub: &TestHub, id: &str, may_be_named: bool) -> pb::SignalReference {
    let basis = meldrecht(pb::Evidence {
        client_informed: Some(true),
        reporter_may_be_named: Some(may_be_named),
        ..Default::default()
    });
    let req = hub
        .signal(
            "school",
            &["veilig_thuis"],
            id,
            SCHOOL_TEXT,
            "melding_veilig_thuis",
            &["zorgen_thuissituatie"],
            CHILD,
            basis,
        )
        .await;
    hub.client("school").await.send_signal(req).await.unwrap();
    deliver_to_vt(hub, id).await;
    signal_ref(hub, id)
}

/// Veilig Thuis looks at its inbox until signal `id` is there (the first look delivers).
async fn deliver_to_vt(hub: &TestHub, id: &str) {
    let mut vt = hub.client("veilig_thuis").await;
    let mut inbox = vt.stream_inbox(0).await.unwrap();
    loop {
        let item = tokio::time::timeout(Duration::from_secs(10), inbox.next())
            .await
            .expect("an inbox item within 10 s")
            .unwrap()
            .unwrap();
        if item.signal_id == id {
            return;
        }
    }
}

fn signal_ref(hub: &TestHub, id: &str) -> pb::SignalReference {
    pb::SignalReference {
        sender_oin: hub.org("school").info.oin.clone(),
        signal_id: id.into(),
    }
}

/// Criterion 3 (violence witnessed by the children): the advice is a joint visit.
fn witnessed() -> pb::ArnhemCriteria {
    use pb::CriterionAnswer::{No, Yes};
    criteria(
        No,
        No,
        Yes,
        pb::SafetyConflictAnswer::No,
        pb::OpenToHelpAnswer::Open,
        [No, No, No],
    )
}

async fn triage_signal(
    vt: &mut HubClient,
    s: &pb::SignalReference,
) -> Result<pb::Triage, ClientError> {
    vt.record_triage(pb::RecordTriageRequest {
        signal: Some(s.clone()),
        criteria: Some(witnessed()),
        case_reference: "VT-2026-0077".into(),
        acting_role: "triagist".into(),
        ..Default::default()
    })
    .await
}

async fn decide(
    vt: &mut HubClient,
    triage_id: &str,
    d: pb::TriageDecisionKind,
    reason: pb::DecisionReason,
) -> Result<pb::Triage, ClientError> {
    vt.decide_triage(pb::DecideTriageRequest {
        triage_id: triage_id.into(),
        decision: d as i32,
        reason: reason as i32,
        acting_role: "triagist".into(),
    })
    .await
}

fn code(r: Result<impl std::fmt::Debug, ClientError>) -> (Code, String) {
    match r {
        Err(ClientError::Status(s)) => (s.code(), s.message().to_owned()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Veilig Thuis opens the school's signal and re-seals it for the wijkteam.
async fn handover_of_signal(
    hub: &TestHub,
    s: &pb::SignalReference,
    handover_id: &str,
    consent_ids: Vec<String>,
) -> pb::HandOverRequest {
    let mut vt = hub.client("veilig_thuis").await;
    let got = vt.get_signal(&s.sender_oin, &s.signal_id).await.unwrap();
    let env = got.envelope.unwrap();
    let dir = vt.get_organization(&s.sender_oin).await.unwrap();
    let payload = envelope::open(
        &env,
        &hub.secrets("veilig_thuis"),
        &signing_key(&dir, &env.sender_signing_key_id),
    )
    .unwrap();
    let to = recipient_key(hub, "veilig_thuis", "wijkteam").await;
    let categories = vec!["zorgen_thuissituatie".to_owned()];
    let basis = vt_basis("VT-2026-0077", consent_ids);
    let sealed = seal(
        hub,
        "veilig_thuis",
        &to,
        &format!("{handover_id}.1"),
        "overdracht_hulpverlening",
        &categories,
        &basis,
        &payload,
    );
    pb::HandOverRequest {
        handover_id: handover_id.into(),
        signal: Some(s.clone()),
        recipient_oin: to.oin.clone(),
        subject_bsns: vec![CHILD.into()],
        categories,
        basis: Some(basis),
        envelopes: vec![sealed],
        veilig_thuis_contact: Some(vt_contact()),
        wijkteam_contact: Some(wijkteam_contact()),
        acting_role: "vt_medewerker".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_schools_meldcode_report_is_triaged_decided_against_the_advice_and_handed_over() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        // The police reported the household before (stacked reports count over both kinds).
        quarrel_on_the_street(&hub).await;
        let s = school_report(&hub, "sig-meldcode-1", false).await;
        let mut vt = hub.client("veilig_thuis").await;

        let t = triage_signal(&mut vt, &s).await.unwrap();
        assert_eq!(t.signal.as_ref(), Some(&s));
        assert!(t.zorgmelding_id.is_empty());
        assert_eq!(
            t.advice.as_ref().unwrap().advice,
            pb::Advice::JointVisit as i32
        );
        let rec = t.recidive.as_ref().unwrap();
        assert_eq!(rec.earlier_zorgmeldingen, 1, "{rec:?}");
        assert_eq!(
            rec.earlier_signals, 0,
            "the melding itself is not an earlier report"
        );
        // Until the triagist decides, the advice is the decision.
        let d = t.decision.as_ref().unwrap();
        assert_eq!(d.decision, pb::TriageDecisionKind::JointVisit as i32);
        assert!(d.follows_advice && !d.recorded);

        // Against the advice only with a reason.
        let e = decide(
            &mut vt,
            &t.triage_id,
            pb::TriageDecisionKind::WijkteamAlone,
            pb::DecisionReason::Unspecified,
        )
        .await
        .unwrap_err();
        let v = violations(e);
        assert_eq!(v[0].0, "reason", "{v:?}");
        assert!(
            v[0].1.contains("differs from the advice JOINT_VISIT"),
            "{v:?}"
        );
        let t2 = decide(
            &mut vt,
            &t.triage_id,
            pb::TriageDecisionKind::WijkteamAlone,
            pb::DecisionReason::SingleIncident,
        )
        .await
        .unwrap();
        let d = t2.decision.as_ref().unwrap();
        assert_eq!(d.decision, pb::TriageDecisionKind::WijkteamAlone as i32);
        assert_eq!(d.reason, pb::DecisionReason::SingleIncident as i32);
        assert!(d.recorded && !d.follows_advice);
        assert_eq!(d.reason_nl, "eenmalig incident, geen patroon");
        // Shown again with the triage; decided once.
        let shown = vt
            .get_triage(&format!("{}/{}", s.sender_oin, s.signal_id))
            .await;
        let shown = shown.unwrap().triage.unwrap();
        assert_eq!(shown.decision, t2.decision);
        let (c, m) = code(
            decide(
                &mut vt,
                &t.triage_id,
                pb::TriageDecisionKind::JointVisit,
                pb::DecisionReason::Unspecified,
            )
            .await,
        );
        assert_eq!(c, Code::FailedPrecondition, "{m}");
        assert!(m.contains("decided already"), "{m}");
        // Both advice and decision are in the log.
        let log = events(&hub).await;
        let recorded = log
            .iter()
            .find(|e| e.event == Event::TriageRecorded)
            .unwrap();
        assert_eq!(recorded.reasons, vec!["advice:JOINT_VISIT"]);
        let decided: Vec<_> = log
            .iter()
            .filter(|e| e.event == Event::TriageDecided)
            .collect();
        assert_eq!(decided.len(), 1);
        assert_eq!(
            decided[0].reasons,
            vec![
                "advice:JOINT_VISIT",
                "decision:WIJKTEAM_ALONE",
                "reason:SINGLE_INCIDENT"
            ]
        );
        assert_eq!(decided[0].reference.as_deref(), Some(t.triage_id.as_str()));

        // The handover follows the decision: the wijkteam alone, and the letter says so; the
        // school, shielded by default, is not named to the family.
        let consents = family_consent(&hub, &["zorgen_thuissituatie"]).await;
        let req = handover_of_signal(&hub, &s, "ho-school-1", consents).await;
        let r = vt.hand_over(req).await.unwrap();
        let h = r.handover.unwrap();
        assert_eq!(h.signal.as_ref(), Some(&s));
        assert_eq!(h.decision, pb::TriageDecisionKind::WijkteamAlone as i32);
        let letter = h
            .family_letter
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            letter.contains(
                "Er is bij Veilig Thuis Gelderland-Midden een melding gedaan over uw gezin."
            ),
            "{}",
            h.family_letter
        );
        assert!(
            !letter.contains(&hub.org("school").info.name),
            "{}",
            h.family_letter
        );
        assert!(letter.contains("neemt contact met u op"));
        assert!(!letter.contains("samen bij u langs"));
        // The wijkteam receives it and opens the school's words.
        let mut wijkteam = hub.client("wijkteam").await;
        let got = wijkteam
            .get_handover(&hub.org("veilig_thuis").info.oin, "ho-school-1")
            .await
            .unwrap();
        assert_eq!(got.state, pb::HandoverState::Delivered as i32);
        assert_eq!(got.decision, pb::TriageDecisionKind::WijkteamAlone as i32);
        let env = &got.envelopes[0];
        let dir = wijkteam
            .get_organization(&hub.org("veilig_thuis").info.oin)
            .await
            .unwrap();
        let opened = envelope::open(
            env,
            &hub.secrets("wijkteam"),
            &signing_key(&dir, &env.sender_signing_key_id),
        )
        .unwrap();
        assert_eq!(opened, SCHOOL_TEXT);
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_reporter_who_agreed_is_named_in_the_letter_and_a_joint_visit_is_announced() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let s = school_report(&hub, "sig-meldcode-2", true).await;
        let mut vt = hub.client("veilig_thuis").await;
        triage_signal(&mut vt, &s).await.unwrap();
        let consents = family_consent(&hub, &["zorgen_thuissituatie"]).await;
        let req = handover_of_signal(&hub, &s, "ho-school-2", consents).await;
        let h = vt.hand_over(req).await.unwrap().handover.unwrap();
        assert_eq!(h.decision, pb::TriageDecisionKind::JointVisit as i32);
        let school = &hub.org("school").info.name;
        let letter = h
            .family_letter
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            letter.contains(&format!(
                "{school} heeft bij Veilig Thuis Gelderland-Midden een melding gedaan"
            )),
            "{}",
            h.family_letter
        );
        assert!(letter.contains("samen bij u langs"));
        hub.stop().await;
    }
}

#[tokio::test]
async fn only_veilig_thuis_triages_only_its_meldingen_and_a_decision_to_keep_the_case_holds() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let s = school_report(&hub, "sig-meldcode-3", false).await;
        // Another organisation, or the school itself, cannot triage it: not found.
        for sector in ["wijkteam", "school"] {
            let mut other = hub.client(sector).await;
            let attempt = other
                .record_triage(pb::RecordTriageRequest {
                    signal: Some(s.clone()),
                    criteria: Some(witnessed()),
                    case_reference: "X-1".into(),
                    ..Default::default()
                })
                .await;
            let (c, m) = code(attempt);
            assert_eq!(c, Code::NotFound, "{sector}: {m}");
        }
        // A signal that is not a melding (case coordination) is not triaged.
        let basis = both_parents_consent_to(
            &mut hub.client("school").await,
            CHILD,
            pb::Sector::VeiligThuis,
            "casusafstemming",
            &["betrokkenheid"],
        )
        .await;
        let req = hub
            .signal(
                "school",
                &["veilig_thuis"],
                "sig-casus",
                b"wie is betrokken",
                "casusafstemming",
                &["betrokkenheid"],
                CHILD,
                basis,
            )
            .await;
        hub.client("school").await.send_signal(req).await.unwrap();
        deliver_to_vt(&hub, "sig-casus").await;
        let mut vt = hub.client("veilig_thuis").await;
        let (c, m) = code(triage_signal(&mut vt, &signal_ref(&hub, "sig-casus")).await);
        assert_eq!(c, Code::FailedPrecondition, "{m}");
        assert!(m.contains("not a melding"), "{m}");
        // The melding is named once: neither or both is a field violation.
        for (zm, sig) in [(String::new(), None), ("zm_x".to_owned(), Some(s.clone()))] {
            let e = vt
                .record_triage(pb::RecordTriageRequest {
                    zorgmelding_id: zm,
                    signal: sig,
                    criteria: Some(witnessed()),
                    case_reference: "VT-1".into(),
                    acting_role: "triagist".into(),
                    ..Default::default()
                })
                .await
                .unwrap_err();
            assert_eq!(violations(e)[0].0, "zorgmelding_id");
        }

        // Only the latest triage is decided, and only by its Veilig Thuis.
        let old = triage_signal(&mut vt, &s).await.unwrap();
        let new = triage_signal(&mut vt, &s).await.unwrap();
        let (c, m) = code(
            decide(
                &mut vt,
                &old.triage_id,
                pb::TriageDecisionKind::JointVisit,
                pb::DecisionReason::Unspecified,
            )
            .await,
        );
        assert_eq!(c, Code::FailedPrecondition, "{m}");
        assert!(m.contains(&new.triage_id), "{m}");
        let mut wijkteam = hub.client("wijkteam").await;
        let e = wijkteam
            .decide_triage(pb::DecideTriageRequest {
                triage_id: new.triage_id.clone(),
                decision: pb::TriageDecisionKind::WijkteamAlone as i32,
                reason: pb::DecisionReason::SingleIncident as i32,
                acting_role: String::new(),
            })
            .await;
        assert_eq!(code(e).0, Code::NotFound);

        // Veilig Thuis keeps the case: no handover goes out, and the refusal is logged.
        decide(
            &mut vt,
            &new.triage_id,
            pb::TriageDecisionKind::VeiligThuisAlone,
            pb::DecisionReason::SafetyNeedsVeiligThuis,
        )
        .await
        .unwrap();
        let consents = family_consent(&hub, &["zorgen_thuissituatie"]).await;
        let req = handover_of_signal(&hub, &s, "ho-kept", consents).await;
        let (c, m) = code(vt.hand_over(req).await);
        assert_eq!(c, Code::PermissionDenied, "{m}");
        assert!(m.contains("DECISION_KEEPS_CASE"), "{m}");
        let last = events(&hub).await.pop().unwrap();
        assert_eq!(last.event, Event::HandoverDenied);
        assert_eq!(last.reasons, vec!["DECISION_KEEPS_CASE"]);
        hub.stop().await;
    }
}

/// The school's report triaged (joint visit), handed over as `handover_id` with the family's
/// consent; delivered to the wijkteam when `deliver`.
async fn handed_over(
    hub: &TestHub,
    s: &pb::SignalReference,
    handover_id: &str,
    deliver: bool,
) -> pb::Handover {
    let mut vt = hub.client("veilig_thuis").await;
    if vt
        .get_triage(&format!("{}/{}", s.sender_oin, s.signal_id))
        .await
        .unwrap()
        .triage
        .is_none()
    {
        triage_signal(&mut vt, s).await.unwrap();
    }
    let consents = family_consent(hub, &["zorgen_thuissituatie"]).await;
    let req = handover_of_signal(hub, s, handover_id, consents).await;
    let h = vt.hand_over(req).await.unwrap().handover.unwrap();
    if !deliver {
        return h;
    }
    hub.client("wijkteam")
        .await
        .get_handover(&h.sender_oin, handover_id)
        .await
        .unwrap()
}

fn answer(h: &pb::Handover, kind: pb::HandoverAnswerKind) -> pb::AnswerHandoverRequest {
    pb::AnswerHandoverRequest {
        sender_oin: h.sender_oin.clone(),
        handover_id: h.handover_id.clone(),
        answer: kind as i32,
        ..Default::default()
    }
}

/// The wijkteam's question about handover `h`, sealed to `to` (Veilig Thuis, unless a test
/// tries otherwise).
async fn question(hub: &TestHub, h: &pb::Handover, id: &str, to: &str) -> pb::Envelope {
    let key = recipient_key(hub, "wijkteam", to).await;
    let consent_ids: Vec<String> = h
        .basis
        .iter()
        .filter_map(|b| b.strip_prefix("consent:").map(str::to_owned))
        .collect();
    let basis = vt_basis("VT-2026-0077", consent_ids);
    seal(
        hub,
        "wijkteam",
        &key,
        id,
        &h.purpose,
        &h.categories,
        &basis,
        b"Weet de moeder dat de school heeft gemeld?",
    )
}

#[tokio::test]
async fn the_wijkteam_asks_then_accepts_a_handover_and_becomes_involved() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let s = school_report(&hub, "sig-answer-1", false).await;
        let mut wijkteam = hub.client("wijkteam").await;
        let mut vt = hub.client("veilig_thuis").await;

        // Not yet received: nothing to answer.
        let pending = handed_over(&hub, &s, "ho-a-1", false).await;
        let (c, m) = code(
            wijkteam
                .answer_handover(answer(&pending, pb::HandoverAnswerKind::Returned))
                .await,
        );
        // The state is checked before the answer's own fields.
        assert_eq!(c, Code::FailedPrecondition, "{m}");
        assert!(m.contains("receive the handover first"), "{m}");
        let mut accept = answer(&pending, pb::HandoverAnswerKind::Accepted);
        accept.subject_bsns = vec![CHILD.into()];
        accept.contact_professional = "Els Bouwman, 026-0000002".into();
        let (c, m) = code(wijkteam.answer_handover(accept.clone()).await);
        assert_eq!(c, Code::FailedPrecondition, "{m}");
        assert!(m.contains("receive the handover first"), "{m}");

        let h = wijkteam
            .get_handover(&pending.sender_oin, "ho-a-1")
            .await
            .unwrap();
        assert_eq!(h.state, pb::HandoverState::Delivered as i32);
        // Answer within the convenant's week; not overdue yet.
        let due = h.answer_due.as_ref().unwrap().seconds;
        let delivered = h.updated_at.as_ref().unwrap().seconds;
        assert_eq!(due - delivered, 7 * 86_400);
        assert!(!h.answer_overdue);

        // Only the wijkteam it was handed to answers: others do not learn it exists.
        for (sector, role) in [("school", ""), ("veilig_thuis", "vt_medewerker")] {
            let mut other = hub.client(sector).await;
            for reason in [pb::ReturnReason::Unspecified, pb::ReturnReason::NotOurArea] {
                let mut r = answer(&h, pb::HandoverAnswerKind::Returned);
                r.reason = reason as i32;
                r.acting_role = role.into();
                let (c, m) = code(other.answer_handover(r).await);
                assert_eq!(c, Code::NotFound, "{sector}: {m}");
            }
        }

        // Malformed answers, each named by its field.
        let e = wijkteam
            .answer_handover(answer(&h, pb::HandoverAnswerKind::Question))
            .await
            .unwrap_err();
        assert_eq!(violations(e)[0].0, "question");
        let mut wrong_recipient = answer(&h, pb::HandoverAnswerKind::Question);
        wrong_recipient.question = Some(question(&hub, &h, "ho-a-1.q1", "school").await);
        let v = violations(wijkteam.answer_handover(wrong_recipient).await.unwrap_err());
        assert!(v.iter().all(|(f, _)| f.starts_with("question")), "{v:?}");
        let mut stranger = accept.clone();
        stranger.subject_bsns = vec![OTHER.into()];
        let v = violations(wijkteam.answer_handover(stranger).await.unwrap_err());
        assert_eq!(v[0].0, "subject_bsns", "{v:?}");

        // A question, sealed to Veilig Thuis: Veilig Thuis reads it with the handover.
        let mut ask = answer(&h, pb::HandoverAnswerKind::Question);
        ask.question = Some(question(&hub, &h, "ho-a-1.q1", "veilig_thuis").await);
        let r = wijkteam.answer_handover(ask.clone()).await.unwrap();
        assert!(!r.duplicate);
        let retry = wijkteam.answer_handover(ask).await.unwrap();
        assert!(retry.duplicate, "the same question id is the same question");
        let seen = vt
            .list_handovers()
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.handover_id == "ho-a-1")
            .unwrap();
        assert_eq!(seen.answers.len(), 1);
        let q = &seen.answers[0];
        assert_eq!(q.answer, pb::HandoverAnswerKind::Question as i32);
        let env = q.question.as_ref().unwrap();
        let dir = vt
            .get_organization(&hub.org("wijkteam").info.oin)
            .await
            .unwrap();
        let text = envelope::open(
            env,
            &hub.secrets("veilig_thuis"),
            &signing_key(&dir, &env.sender_signing_key_id),
        )
        .unwrap();
        assert_eq!(text, b"Weet de moeder dat de school heeft gemeld?");

        // Then it accepts: it is registered as involved with the child.
        let r = wijkteam.answer_handover(accept.clone()).await.unwrap();
        assert_eq!(r.involvement_ids.len(), 1);
        let h2 = r.handover.unwrap();
        let kinds: Vec<i32> = h2.answers.iter().map(|a| a.answer).collect();
        assert_eq!(
            kinds,
            vec![
                pb::HandoverAnswerKind::Question as i32,
                pb::HandoverAnswerKind::Accepted as i32
            ]
        );
        let log = events(&hub).await;
        let answered: Vec<_> = log
            .iter()
            .filter(|e| e.event == Event::HandoverAnswered)
            .collect();
        assert_eq!(answered.len(), 2, "a retried question is logged once");
        assert_eq!(answered[0].reasons, vec!["answer:QUESTION"]);
        assert_eq!(
            answered[0].outcome,
            signaalhub_server::ledger::EntryOutcome::Disclosed
        );
        assert_eq!(
            answered[0].recipient_oin.as_deref(),
            Some(hub.org("veilig_thuis").info.oin.as_str())
        );
        assert_eq!(answered[1].reasons, vec!["answer:ACCEPTED"]);
        assert!(
            log.iter().any(|e| e.event == Event::InvolvementRegistered
                && e.actor_oin == hub.org("wijkteam").info.oin),
            "the acceptance registers the wijkteam's involvement"
        );
        // Accepted is final.
        let mut back = answer(&h, pb::HandoverAnswerKind::Returned);
        back.reason = pb::ReturnReason::NotOurArea as i32;
        let (c, m) = code(wijkteam.answer_handover(back).await);
        assert_eq!(c, Code::FailedPrecondition, "{m}");
        assert!(m.contains("accepted already"), "{m}");
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_returned_handover_shows_its_reason_and_an_unanswered_one_is_flagged() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let s = school_report(&hub, "sig-answer-2", false).await;
        let returned = handed_over(&hub, &s, "ho-r-1", true).await;
        let quiet = handed_over(&hub, &s, "ho-r-2", true).await;
        let mut wijkteam = hub.client("wijkteam").await;
        let e = wijkteam
            .answer_handover(answer(&returned, pb::HandoverAnswerKind::Returned))
            .await
            .unwrap_err();
        assert_eq!(violations(e)[0].0, "reason");
        let mut back = answer(&returned, pb::HandoverAnswerKind::Returned);
        back.reason = pb::ReturnReason::AlreadyInCareElsewhere as i32;
        let r = wijkteam.answer_handover(back).await.unwrap();
        assert!(r.involvement_ids.is_empty());
        // Eight days later (the delivery moved back in the store): past the convenant's week.
        hub.sql(
            "UPDATE handovers SET updated_at = updated_at - 8 * 86400 WHERE handover_id IN ('ho-r-1', 'ho-r-2')",
        )
        .await;
        let mut vt = hub.client("veilig_thuis").await;
        let all = vt.list_handovers().await.unwrap();
        let r1 = all.iter().find(|h| h.handover_id == "ho-r-1").unwrap();
        assert_eq!(r1.answers[0].reason_nl, "het gezin krijgt al hulp elders");
        assert!(!r1.answer_overdue, "answered");
        let r2 = all
            .iter()
            .find(|h| h.handover_id == quiet.handover_id)
            .unwrap();
        assert!(r2.answers.is_empty());
        assert!(r2.answer_overdue, "unanswered past its due time");
        hub.stop().await;
    }
}

/// Veilig Thuis's feedback request about the school's signal, with an optional note sealed to
/// `note_to`.
async fn feedback(
    hub: &TestHub,
    s: &pb::SignalReference,
    id: &str,
    outcome: pb::FeedbackOutcome,
    note_to: Option<&str>,
) -> pb::SendFeedbackRequest {
    let basis = vt_basis("VT-2026-0077", Vec::new());
    let note = match note_to {
        Some(to) => {
            let key = recipient_key(hub, "veilig_thuis", to).await;
            Some(seal(
                hub,
                "veilig_thuis",
                &key,
                id,
                "terugkoppeling_melder",
                &["melding_vervolg".to_owned()],
                &basis,
                b"Dank voor uw melding; het wijkteam neemt contact op met het gezin.",
            ))
        }
        None => None,
    };
    pb::SendFeedbackRequest {
        feedback_id: id.into(),
        signal: Some(s.clone()),
        outcome: outcome as i32,
        basis: Some(basis),
        note,
        acting_role: "vt_medewerker".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_melder_hears_what_veilig_thuis_does_and_nobody_else_does() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let s = school_report(&hub, "sig-feedback-1", false).await;
        let melding = format!("{}/{}", s.sender_oin, s.signal_id);
        let mut vt = hub.client("veilig_thuis").await;
        let mut school = hub.client("school").await;
        let mut wijkteam = hub.client("wijkteam").await;

        // Received: with a note sealed to the school.
        let req = feedback(
            &hub,
            &s,
            "fb-1",
            pb::FeedbackOutcome::Received,
            Some("school"),
        )
        .await;
        let r = vt.send_feedback(req.clone()).await.unwrap();
        assert!(!r.duplicate);
        assert_eq!(r.decision.unwrap().outcome, pb::Outcome::Allow as i32);
        assert!(vt.send_feedback(req.clone()).await.unwrap().duplicate);
        let mut other = req.clone();
        other.outcome = pb::FeedbackOutcome::NoFurtherAction as i32;
        let (c, m) = code(vt.send_feedback(other).await);
        assert_eq!(c, Code::AlreadyExists, "{m}");

        // Only what is true, only to the melder.
        let (c, m) = code(
            vt.send_feedback(
                feedback(
                    &hub,
                    &s,
                    "fb-2",
                    pb::FeedbackOutcome::HandedOverToWijkteam,
                    None,
                )
                .await,
            )
            .await,
        );
        assert_eq!(c, Code::FailedPrecondition, "{m}");
        assert!(m.contains("not handed over"), "{m}");
        let to_wijkteam = feedback(
            &hub,
            &s,
            "fb-3",
            pb::FeedbackOutcome::Received,
            Some("wijkteam"),
        )
        .await;
        let v = violations(vt.send_feedback(to_wijkteam).await.unwrap_err());
        assert!(v.iter().all(|(f, _)| f.starts_with("note")), "{v:?}");
        let mut no_basis = feedback(&hub, &s, "fb-4", pb::FeedbackOutcome::Received, None).await;
        no_basis.basis = None;
        let (c, m) = code(vt.send_feedback(no_basis).await);
        assert_eq!(c, Code::PermissionDenied, "{m}");
        assert_eq!(
            events(&hub).await.pop().unwrap().event,
            Event::FeedbackDenied
        );
        // Not Veilig Thuis's melding: not found.
        let mut by_wijkteam = feedback(&hub, &s, "fb-5", pb::FeedbackOutcome::Received, None).await;
        by_wijkteam.acting_role = String::new();
        assert_eq!(
            code(wijkteam.send_feedback(by_wijkteam).await).0,
            Code::NotFound
        );

        // The school reads it with its signal; the note opens only for the school.
        let got = school.list_feedback(&melding).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].outcome, pb::FeedbackOutcome::Received as i32);
        assert_eq!(
            got[0].outcome_nl,
            "Veilig Thuis heeft de melding ontvangen en beoordeelt die"
        );
        let env = got[0].note.as_ref().unwrap();
        let dir = school
            .get_organization(&hub.org("veilig_thuis").info.oin)
            .await
            .unwrap();
        let text = envelope::open(
            env,
            &hub.secrets("school"),
            &signing_key(&dir, &env.sender_signing_key_id),
        )
        .unwrap();
        assert!(text.starts_with(b"Dank voor uw melding"));
        assert!(wijkteam.list_feedback(&melding).await.unwrap().is_empty());
        let log = events(&hub).await;
        let sent = log.iter().find(|e| e.event == Event::FeedbackSent).unwrap();
        assert_eq!(sent.reasons[0], "outcome:RECEIVED");
        assert_eq!(
            sent.recipient_oin.as_deref(),
            Some(hub.org("school").info.oin.as_str())
        );
        assert_eq!(sent.purpose.as_deref(), Some("terugkoppeling_melder"));
        assert!(
            log.iter().any(
                |e| e.event == Event::FeedbackRead && e.actor_oin == hub.org("school").info.oin
            )
        );

        // After the handover the school hears that the wijkteam has it.
        handed_over(&hub, &s, "ho-fb-1", true).await;
        vt.send_feedback(
            feedback(
                &hub,
                &s,
                "fb-6",
                pb::FeedbackOutcome::HandedOverToWijkteam,
                None,
            )
            .await,
        )
        .await
        .unwrap();
        let got = school.list_feedback(&melding).await.unwrap();
        let outcomes: Vec<i32> = got.iter().map(|f| f.outcome).collect();
        assert_eq!(
            outcomes,
            vec![
                pb::FeedbackOutcome::Received as i32,
                pb::FeedbackOutcome::HandedOverToWijkteam as i32
            ]
        );
        hub.stop().await;
    }
}

/// A hub whose reminders run only when the test runs them (at a moment it chooses).
async fn hub_without_reminder_job(b: &'static str) -> TestHub {
    TestHub::start_with(b, |d| d.to_owned(), "[reminders]\ninterval_ms = 0\n").await
}

fn stage_request(
    s: &pb::SignalReference,
    stage: pb::MeldingStage,
    review_at: Option<i64>,
) -> pb::SetMeldingStageRequest {
    pb::SetMeldingStageRequest {
        signal: Some(s.clone()),
        stage: stage as i32,
        review_at: review_at.map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
        acting_role: "vt_medewerker".into(),
        ..Default::default()
    }
}

/// The notifications `who` has, as the store keeps them.
async fn notifications_of(
    hub: &TestHub,
    who: &str,
) -> Vec<signaalhub_server::domain::involvement::Notification> {
    hub.store
        .notifications_after(&hub.org(who).info.oin, 0, 100)
        .await
        .unwrap()
}

#[tokio::test]
async fn veilig_thuis_records_stages_and_a_due_review_reaches_it_once() {
    use signaalhub_server::domain::involvement::NotificationKind;
    for b in backends() {
        let hub = hub_without_reminder_job(b).await;
        let policy = signaalhub_server::load_policy(&hub.config).unwrap();
        let s = school_report(&hub, "sig-stage-1", false).await;
        let melding = format!("{}/{}", s.sender_oin, s.signal_id);
        let mut vt = hub.client("veilig_thuis").await;

        // A melding without a recorded stage is in triage, under assessment.
        let st = vt
            .get_melding_stages_as(&melding, "vt_medewerker")
            .await
            .unwrap();
        assert_eq!(st.current, pb::MeldingStage::Triage as i32);
        assert!(st.under_assessment && st.history.is_empty());

        // Refused, nothing recorded: monitoring without a review, a closed melding with one,
        // a review in the past or years ahead.
        let t = common::now();
        for (stage, review, field) in [
            (pb::MeldingStage::Monitoring, None, "review_at"),
            (pb::MeldingStage::Afgesloten, Some(t + 3600), "review_at"),
            (pb::MeldingStage::Onderzoek, Some(t - 60), "review_at"),
            (
                pb::MeldingStage::Onderzoek,
                Some(t + 3 * 366 * 86400),
                "review_at",
            ),
            (pb::MeldingStage::Unspecified, None, "stage"),
        ] {
            let e = vt
                .set_melding_stage(stage_request(&s, stage, review))
                .await
                .unwrap_err();
            assert_eq!(violations(e)[0].0, field, "{b} {stage:?}");
        }
        // Only the Veilig Thuis the melding was delivered to.
        for other in ["school", "wijkteam"] {
            let mut c = hub.client(other).await;
            let mut req = stage_request(&s, pb::MeldingStage::Onderzoek, None);
            req.acting_role = String::new();
            assert_eq!(
                code(c.set_melding_stage(req).await).0,
                Code::NotFound,
                "{other}"
            );
            assert_eq!(
                code(c.get_melding_stages(&melding).await).0,
                Code::NotFound,
                "{other}"
            );
        }

        // Investigation with a review; then monitoring replaces that review with its own.
        let st = vt
            .set_melding_stage(stage_request(
                &s,
                pb::MeldingStage::Onderzoek,
                Some(t + 600),
            ))
            .await
            .unwrap();
        assert_eq!(st.history.len(), 1);
        assert_eq!(st.history[0].review_state, "PLANNED");
        let st = vt
            .set_melding_stage(stage_request(
                &s,
                pb::MeldingStage::Monitoring,
                Some(t + 3600),
            ))
            .await
            .unwrap();
        assert_eq!(st.current, pb::MeldingStage::Monitoring as i32);
        assert!(st.under_assessment);
        let states: Vec<&str> = st.history.iter().map(|h| h.review_state.as_str()).collect();
        assert_eq!(states, vec!["SUPERSEDED", "PLANNED"]);

        // Not due yet: nothing told. Due: Veilig Thuis is told once, with the melding.
        let none = signaalhub_server::reminders::run(&hub.store, &policy, t + 3599, 10)
            .await
            .unwrap();
        assert_eq!(none.total(), 0);
        let r = signaalhub_server::reminders::run(&hub.store, &policy, t + 3601, 10)
            .await
            .unwrap();
        assert_eq!(r.melding_reviews, 1, "{b}");
        let again = signaalhub_server::reminders::run(&hub.store, &policy, t + 7200, 10)
            .await
            .unwrap();
        assert_eq!(again.total(), 0, "told once");
        let told: Vec<_> = notifications_of(&hub, "veilig_thuis")
            .await
            .into_iter()
            .filter(|n| n.kind == NotificationKind::MeldingReviewDue)
            .collect();
        assert_eq!(told.len(), 1);
        assert_eq!(
            told[0].reference.as_deref(),
            Some(format!("signal/{melding}").as_str())
        );
        assert!(
            told[0].summary_nl.contains("herbeoordeling"),
            "{}",
            told[0].summary_nl
        );
        assert!(
            notifications_of(&hub, "school").await.is_empty(),
            "the melder hears nothing of Veilig Thuis's own planning"
        );
        let mut notes = vt.stream_notifications(0).await.unwrap();
        let n = tokio::time::timeout(Duration::from_secs(10), notes.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(n.kind, pb::NotificationKind::MeldingReviewDue as i32);
        assert_eq!(n.reference, format!("signal/{melding}"));
        let st = vt
            .get_melding_stages_as(&melding, "vt_medewerker")
            .await
            .unwrap();
        assert_eq!(st.history[1].review_state, "REMINDED");

        // Logged: each stage, and the reminder as the hub's own act for Veilig Thuis.
        let log = events(&hub).await;
        let set: Vec<_> = log
            .iter()
            .filter(|e| e.event == Event::MeldingStageSet)
            .collect();
        assert_eq!(set.len(), 2);
        assert_eq!(set[1].reasons, vec!["stage:MONITORING", "review_planned"]);
        let due = log
            .iter()
            .find(|e| e.event == Event::MeldingReviewDue)
            .unwrap();
        assert_eq!(due.actor_oin, hub.org("veilig_thuis").info.oin);
        assert_eq!(due.actor_role, signaalhub_server::reminders::ROLE);

        // Closed is final.
        vt.set_melding_stage(stage_request(&s, pb::MeldingStage::Afgesloten, None))
            .await
            .unwrap();
        let (c, m) = code(
            vt.set_melding_stage(stage_request(&s, pb::MeldingStage::Onderzoek, None))
                .await,
        );
        assert_eq!(c, Code::FailedPrecondition, "{m}");
        assert!(m.contains("closed"), "{m}");
        hub.stop().await;
    }
}

const QUESTION: &[u8] =
    b"Is Jayden (6) bij u bekend, en zag u letsel of zorgen over de thuissituatie?";
const ANSWER: &[u8] = b"Jayden was in oktober op het spreekuur met een blauwe plek op de arm.";

/// Veilig Thuis's information request `id` about the school's melding to `to`, the question
/// sealed to `to`.
async fn info_request(
    hub: &TestHub,
    s: &pb::SignalReference,
    id: &str,
    to: &str,
    categories: &[&str],
) -> pb::RequestInformationRequest {
    let basis = vt_basis("VT-2026-0077", Vec::new());
    let key = recipient_key(hub, "veilig_thuis", to).await;
    pb::RequestInformationRequest {
        request_id: id.into(),
        signal: Some(s.clone()),
        recipient_oin: hub.org(to).info.oin.clone(),
        question: Some(seal(
            hub,
            "veilig_thuis",
            &key,
            id,
            "informatieverzoek_veilig_thuis",
            &["informatievraag".to_owned()],
            &basis,
            QUESTION,
        )),
        categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        basis: Some(basis),
        acting_role: "vt_medewerker".into(),
        ..Default::default()
    }
}

/// The answering organisation's basis: Wmo 2015 art. 5.2.6, naming Veilig Thuis's case.
fn answer_basis(case_reference: &str) -> pb::Basis {
    pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: "informatie_aan_veilig_thuis".into(),
            evidence: Some(pb::Evidence {
                case_reference: case_reference.into(),
                ..Default::default()
            }),
        }),
        consent_ids: Vec::new(),
    }
}

/// `from`'s answer to request `id`, sealed to Veilig Thuis.
async fn info_answer(
    hub: &TestHub,
    from: &str,
    id: &str,
    categories: &[&str],
    case_reference: &str,
) -> pb::AnswerInformationRequest {
    let basis = answer_basis(case_reference);
    let categories: Vec<String> = categories.iter().map(|c| (*c).to_owned()).collect();
    let key = recipient_key(hub, from, "veilig_thuis").await;
    pb::AnswerInformationRequest {
        veilig_thuis_oin: hub.org("veilig_thuis").info.oin.clone(),
        request_id: id.into(),
        answer: Some(seal(
            hub,
            from,
            &key,
            id,
            "informatieverzoek_veilig_thuis",
            &categories,
            &basis,
            ANSWER,
        )),
        categories,
        basis: Some(basis),
        ..Default::default()
    }
}

/// Opens `env` with `who`'s key, checking the sender's signature against the directory.
async fn open_as(hub: &TestHub, who: &str, env: &pb::Envelope) -> Vec<u8> {
    let mut c = hub.client(who).await;
    let dir = c.get_organization(&env.sender_oin).await.unwrap();
    envelope::open(
        env,
        &hub.secrets(who),
        &signing_key(&dir, &env.sender_signing_key_id),
    )
    .unwrap()
}

#[tokio::test]
async fn veilig_thuis_asks_the_gp_and_the_answer_comes_back_sealed_and_bound() {
    for b in backends() {
        let hub = hub_without_reminder_job(b).await;
        let s = school_report(&hub, "sig-info-1", false).await;
        let mut vt = hub.client("veilig_thuis").await;
        let mut gp = hub.client("huisarts").await;
        let asked = ["gezondheid", "zorgen_thuissituatie"];

        // Refused at once, nothing recorded: the question sealed to someone else, its own
        // OIN, an unknown category, no case reference.
        let mut wrong = info_request(&hub, &s, "q-1", "huisarts", &asked).await;
        wrong.question = info_request(&hub, &s, "q-1", "school", &asked)
            .await
            .question;
        assert!(
            violations(vt.request_information(wrong).await.unwrap_err())
                .iter()
                .any(|(f, _)| f == "question")
        );
        let mut own = info_request(&hub, &s, "q-1", "huisarts", &asked).await;
        own.recipient_oin = hub.org("veilig_thuis").info.oin.clone();
        assert!(
            violations(vt.request_information(own).await.unwrap_err())
                .iter()
                .any(|(f, _)| f == "recipient_oin")
        );
        let unknown = info_request(&hub, &s, "q-1", "huisarts", &["dossier_compleet"]).await;
        assert_eq!(
            violations(vt.request_information(unknown).await.unwrap_err())[0].0,
            "categories"
        );
        let mut no_case = info_request(&hub, &s, "q-1", "huisarts", &asked).await;
        no_case.basis = Some(vt_basis("", Vec::new()));
        assert!(
            violations(vt.request_information(no_case).await.unwrap_err())
                .iter()
                .any(|(f, _)| f == "basis.legal.evidence.case_reference")
        );
        // No melding named: refused on the field.
        let mut no_melding = info_request(&hub, &s, "q-1", "huisarts", &asked).await;
        no_melding.signal = None;
        assert_eq!(
            violations(vt.request_information(no_melding).await.unwrap_err())[0].0,
            "zorgmelding_id"
        );
        // Not Veilig Thuis's melding: not found.
        let mut by_wijkteam = info_request(&hub, &s, "q-1", "huisarts", &asked).await;
        by_wijkteam.acting_role = String::new();
        let mut wijkteam = hub.client("wijkteam").await;
        assert_eq!(
            code(wijkteam.request_information(by_wijkteam).await).0,
            Code::NotFound
        );
        assert!(
            !events(&hub)
                .await
                .iter()
                .any(|e| e.event == Event::InformationRequested)
        );

        // Asked: a disclosure of the sealed question to the GP; a retry is the same request.
        let req = info_request(&hub, &s, "q-1", "huisarts", &asked).await;
        let r = vt.request_information(req.clone()).await.unwrap();
        assert_eq!(r.decision.unwrap().outcome, pb::Outcome::Allow as i32);
        let q = r.request.unwrap();
        assert_eq!(q.state, pb::InformationRequestState::Open as i32);
        assert_eq!(q.signal.as_ref(), Some(&s), "Veilig Thuis sees its melding");
        assert!(vt.request_information(req).await.unwrap().duplicate);

        // The GP reads the question, never which melding (nor so who reported); nobody else
        // was asked.
        let got = gp.list_information_requests(false).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].signal.as_ref(), got[0].zorgmelding_id.as_str()),
            (None, "")
        );
        assert_eq!(got[0].case_reference, "VT-2026-0077");
        assert_eq!(
            open_as(&hub, "huisarts", got[0].question.as_ref().unwrap()).await,
            QUESTION
        );
        let mut school = hub.client("school").await;
        assert!(
            school
                .list_information_requests(false)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(gp.list_information_requests(true).await.unwrap().is_empty());

        // Answers refused: by an organisation not asked, carrying a category not asked for,
        // naming another case, neither answer nor decline.
        let mut not_asked =
            info_answer(&hub, "school", "q-1", &["gezondheid"], "VT-2026-0077").await;
        not_asked.acting_role = String::new();
        assert_eq!(
            code(school.answer_information(not_asked).await).0,
            Code::NotFound
        );
        let more = info_answer(
            &hub,
            "huisarts",
            "q-1",
            &["betalingsachterstand"],
            "VT-2026-0077",
        )
        .await;
        assert!(
            violations(gp.answer_information(more).await.unwrap_err())
                .iter()
                .any(|(f, m)| f == "categories" && m.contains("asked for"))
        );
        let other_case =
            info_answer(&hub, "huisarts", "q-1", &["gezondheid"], "VT-2025-0001").await;
        assert!(
            violations(gp.answer_information(other_case).await.unwrap_err())
                .iter()
                .any(|(f, _)| f == "basis.legal.evidence.case_reference")
        );
        let mut empty = info_answer(&hub, "huisarts", "q-1", &["gezondheid"], "VT-2026-0077").await;
        empty.answer = None;
        assert_eq!(
            violations(gp.answer_information(empty).await.unwrap_err())[0].0,
            "answer"
        );

        // Answered: sealed to Veilig Thuis, bound to the request; once.
        let ans = info_answer(&hub, "huisarts", "q-1", &["gezondheid"], "VT-2026-0077").await;
        let r = gp.answer_information(ans.clone()).await.unwrap();
        assert_eq!(r.decision.unwrap().outcome, pb::Outcome::Allow as i32);
        let q = r.request.unwrap();
        assert_eq!(q.state, pb::InformationRequestState::Answered as i32);
        assert!(
            q.answer.is_none(),
            "the GP does not get Veilig Thuis's sealed copy back"
        );
        assert!(gp.answer_information(ans).await.unwrap().duplicate);
        let again = info_answer(
            &hub,
            "huisarts",
            "q-1",
            &["zorgen_thuissituatie"],
            "VT-2026-0077",
        )
        .await;
        let (c, m) = code(gp.answer_information(again).await);
        assert_eq!(c, Code::FailedPrecondition, "{m}");

        // Need-to-know: the privacy officers read the log, not the sealed questions and answers
        // nor Veilig Thuis's follow-up.
        for (sector, sent) in [("huisarts", false), ("veilig_thuis", true)] {
            let mut c = hub.claims(sector);
            c["roles"] = serde_json::json!(["fg"]);
            c["sub"] = "fg-1".into();
            let mut fg = hub.client_with_token(sector, hub.token(sector, &c)).await;
            let (code_, m) = code(fg.list_information_requests(sent).await);
            assert_eq!(code_, Code::PermissionDenied, "{sector}: {m}");
            if sector == "veilig_thuis" {
                let melding = format!("{}/{}", s.sender_oin, s.signal_id);
                assert_eq!(
                    code(fg.get_melding_stages(&melding).await).0,
                    Code::PermissionDenied
                );
            }
        }

        // Veilig Thuis reads the answer with the request.
        let sent = vt
            .list_information_requests_as(true, "vt_medewerker")
            .await
            .unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].answer_categories, vec!["gezondheid"]);
        assert!(sent[0].question.is_none(), "sealed to the GP only");
        assert_eq!(
            open_as(&hub, "veilig_thuis", sent[0].answer.as_ref().unwrap()).await,
            ANSWER
        );

        // Both sides logged.
        let log = events(&hub).await;
        let gp_oin = hub.org("huisarts").info.oin.clone();
        let vt_oin = hub.org("veilig_thuis").info.oin.clone();
        let requested = log
            .iter()
            .find(|e| e.event == Event::InformationRequested)
            .unwrap();
        assert_eq!(requested.recipient_oin.as_deref(), Some(gp_oin.as_str()));
        assert_eq!(
            requested.purpose.as_deref(),
            Some("informatieverzoek_veilig_thuis")
        );
        let answered = log
            .iter()
            .find(|e| e.event == Event::InformationAnswered)
            .unwrap();
        assert_eq!(
            (
                answered.actor_oin.as_str(),
                answered.recipient_oin.as_deref()
            ),
            (gp_oin.as_str(), Some(vt_oin.as_str()))
        );
        assert_eq!(answered.categories, vec!["gezondheid"]);
        assert!(
            answered
                .basis
                .contains(&"legal:informatie_aan_veilig_thuis".to_owned())
        );
        assert!(
            log.iter()
                .any(|e| e.event == Event::InformationRequestRead && e.actor_oin == gp_oin)
        );
        assert!(
            log.iter()
                .any(|e| e.event == Event::InformationAnswerRead && e.actor_oin == vt_oin)
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn no_information_is_asked_or_given_about_a_melding_not_under_assessment() {
    for b in backends() {
        let hub = hub_without_reminder_job(b).await;
        let s = school_report(&hub, "sig-info-2", false).await;
        let mut vt = hub.client("veilig_thuis").await;
        let mut gp = hub.client("huisarts").await;
        let asked = ["gezondheid"];
        vt.request_information(info_request(&hub, &s, "q-a", "huisarts", &asked).await)
            .await
            .unwrap();
        // Handed over: Veilig Thuis no longer assesses it. New requests are refused, and the
        // open one lapsed: no answer, no decline.
        vt.set_melding_stage(stage_request(&s, pb::MeldingStage::Overdracht, None))
            .await
            .unwrap();
        let (c, m) = code(
            vt.request_information(info_request(&hub, &s, "q-b", "huisarts", &asked).await)
                .await,
        );
        assert_eq!(c, Code::FailedPrecondition, "{m}");
        assert!(m.contains("no melding under assessment"), "{m}");
        let (c, m) = code(
            gp.answer_information(
                info_answer(&hub, "huisarts", "q-a", &asked, "VT-2026-0077").await,
            )
            .await,
        );
        assert_eq!(c, Code::FailedPrecondition, "{m}");
        assert!(m.contains("lapsed"), "{m}");
        assert!(
            !events(&hub)
                .await
                .iter()
                .any(|e| e.event == Event::InformationAnswered)
        );
        // Monitoring: Veilig Thuis assesses again; the GP declines, with its reason.
        vt.set_melding_stage(stage_request(
            &s,
            pb::MeldingStage::Monitoring,
            Some(common::now() + 86400),
        ))
        .await
        .unwrap();
        let decline = pb::AnswerInformationRequest {
            veilig_thuis_oin: hub.org("veilig_thuis").info.oin.clone(),
            request_id: "q-a".into(),
            decline_reason: pb::InformationDeclineReason::ProfessionalSecrecy as i32,
            ..Default::default()
        };
        let r = gp.answer_information(decline).await.unwrap();
        let q = r.request.unwrap();
        assert!(r.decision.is_none());
        assert_eq!(q.state, pb::InformationRequestState::Declined as i32);
        assert_eq!(q.decline_reason_nl, "het beroepsgeheim weegt hier zwaarder");
        let log = events(&hub).await;
        let declined = log
            .iter()
            .find(|e| e.event == Event::InformationDeclined)
            .unwrap();
        assert_eq!(declined.reasons, vec!["decline:PROFESSIONAL_SECRECY"]);
        assert_eq!(
            declined.outcome,
            signaalhub_server::ledger::EntryOutcome::Recorded
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn an_unanswered_handover_reaches_veilig_thuis_once_through_its_notifications() {
    use signaalhub_server::domain::involvement::NotificationKind;
    for b in backends() {
        let hub = hub_without_reminder_job(b).await;
        let policy = signaalhub_server::load_policy(&hub.config).unwrap();
        let s = school_report(&hub, "sig-quiet-1", false).await;
        let quiet = handed_over(&hub, &s, "ho-q-1", true).await;
        let answered = handed_over(&hub, &s, "ho-q-2", true).await;
        // The handover's flow says the family is told (`inform_subject`): each delivered
        // handover leaves Veilig Thuis an open duty (issue 20), the wijkteam none.
        let duties = hub
            .client("veilig_thuis")
            .await
            .all_inform_obligations(pb::ListInformObligationsRequest {
                acting_role: "vt_medewerker".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut refs: Vec<(&str, &str)> = duties
            .iter()
            .map(|o| (o.event.as_str(), o.reference.as_str()))
            .collect();
        refs.sort();
        assert_eq!(
            refs,
            [
                ("handover_delivered", "ho-q-1"),
                ("handover_delivered", "ho-q-2")
            ],
            "{b}"
        );
        let mut wijkteam = hub.client("wijkteam").await;
        let mut back = answer(&answered, pb::HandoverAnswerKind::Returned);
        back.reason = pb::ReturnReason::NotOurArea as i32;
        wijkteam.answer_handover(back).await.unwrap();
        let t = common::now();
        // Within the convenant's week: nothing.
        let r = signaalhub_server::reminders::run(&hub.store, &policy, t + 6 * 86400, 10)
            .await
            .unwrap();
        assert_eq!(r.total(), 0);
        // Past it: Veilig Thuis hears of the quiet one, once; the answered one is not named.
        let r = signaalhub_server::reminders::run(&hub.store, &policy, t + 8 * 86400, 10)
            .await
            .unwrap();
        assert_eq!(r.unanswered_handovers, 1, "{b}");
        let r = signaalhub_server::reminders::run(&hub.store, &policy, t + 9 * 86400, 10)
            .await
            .unwrap();
        assert_eq!(r.total(), 0);
        let told: Vec<_> = notifications_of(&hub, "veilig_thuis")
            .await
            .into_iter()
            .filter(|n| n.kind == NotificationKind::HandoverUnanswered)
            .collect();
        assert_eq!(told.len(), 1);
        assert_eq!(
            told[0].reference.as_deref(),
            Some(quiet.handover_id.as_str())
        );
        assert!(told[0].summary_nl.contains("nog niet beantwoord"));
        assert!(
            !notifications_of(&hub, "wijkteam")
                .await
                .iter()
                .any(|n| n.kind == NotificationKind::HandoverUnanswered)
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn the_family_letter_comes_in_english_when_asked_and_an_unknown_language_is_refused() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let s = school_report(&hub, "sig-meldcode-en", false).await;
        let mut vt = hub.client("veilig_thuis").await;
        triage_signal(&mut vt, &s).await.unwrap();
        let consents = family_consent(&hub, &["zorgen_thuissituatie"]).await;
        let mut req = handover_of_signal(&hub, &s, "ho-school-en", consents).await;
        req.family_letter_language = "de".into();
        let v = common::violations(vt.hand_over(req.clone()).await.unwrap_err());
        assert!(
            v.iter()
                .any(|(f, d)| f == "family_letter_language" && d.contains("nl, en")),
            "{v:?}"
        );
        req.family_letter_language = "en".into();
        let h = vt.hand_over(req).await.unwrap().handover.unwrap();
        let letter = h
            .family_letter
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for needle in [
            "From: Veilig Thuis Gelderland-Midden Date:",
            "Wijkteam Arnhem-Oost will help your family",
            "Someone made a report about your family to Veilig Thuis Gelderland-Midden.",
            "You gave your consent for this.",
            "the legal task of Veilig Thuis",
            "You can reach the data protection officer here: fg@veilig-thuis.dev.example.",
        ] {
            assert!(
                letter.contains(needle),
                "missing {needle:?} in\n{}",
                h.family_letter
            );
        }
        assert!(
            !letter.contains(&hub.org("school").info.name),
            "{}",
            h.family_letter
        );
        assert!(!letter.contains("zorgen_thuissituatie") && !letter.contains("ho-school-en"));
        hub.stop().await;
    }
}

/// One page of Veilig Thuis's overview, acting as `vt_medewerker`.
async fn meldingen_page(
    c: &mut HubClient,
    stage: pb::MeldingStage,
    page_size: u32,
    page_token: &str,
) -> Result<pb::ListMeldingenResponse, ClientError> {
    c.list_meldingen(pb::ListMeldingenRequest {
        stage: stage as i32,
        page_size,
        page_token: page_token.into(),
        acting_role: "vt_medewerker".into(),
    })
    .await
}

/// The meldingen of a page as `zm_…` or `<sender OIN>/<signal id>`.
fn listed(r: &pb::ListMeldingenResponse) -> Vec<String> {
    r.meldingen
        .iter()
        .map(|m| match &m.signal {
            Some(s) => format!("{}/{}", s.sender_oin, s.signal_id),
            None => m.zorgmelding_id.clone(),
        })
        .collect()
}

const OTHER_VEILIG_THUIS: &str = "00000009916000000000";

#[tokio::test]
async fn veilig_thuis_lists_its_meldingen_by_stage_and_review_due_first_and_nobody_else_does() {
    for b in backends() {
        let mut hub = hub_without_reminder_job(b).await;
        let policy = signaalhub_server::load_policy(&hub.config).unwrap();
        // A police zorgmelding and three meldcode signals of the school, all delivered.
        let zm = incident(&hub, REG, "frag-list-1", &[MOTHER, FATHER])
            .await
            .zorgmelding_id;
        let s1 = school_report(&hub, "sig-list-1", false).await;
        let s2 = school_report(&hub, "sig-list-2", false).await;
        let s3 = school_report(&hub, "sig-list-3", false).await;
        let name = |s: &pb::SignalReference| format!("{}/{}", s.sender_oin, s.signal_id);
        let mut vt = hub.client("veilig_thuis").await;
        let log_before = events(&hub).await.len();

        // All four, in triage (none recorded), under assessment, no review, not triaged.
        let all = meldingen_page(&mut vt, pb::MeldingStage::Unspecified, 0, "")
            .await
            .unwrap();
        assert_eq!(all.meldingen.len(), 4, "{b}");
        assert!(all.next_page_token.is_empty());
        let mut names = listed(&all);
        names.sort();
        let mut expected = vec![zm.clone(), name(&s1), name(&s2), name(&s3)];
        expected.sort();
        assert_eq!(names, expected);
        for m in &all.meldingen {
            assert_eq!(m.stage, pb::MeldingStage::Triage as i32);
            assert!(m.under_assessment && !m.triaged && !m.review_due);
            assert!(m.review_at.is_none() && m.stage_since.is_none());
            assert!(m.received_at.is_some());
            let kind = if m.signal.is_some() {
                pb::MeldingKind::Signal
            } else {
                pb::MeldingKind::Zorgmelding
            };
            assert_eq!(m.kind, kind as i32);
        }

        // Stages with reviews: s2 in investigation (review in two hours), s3 in monitoring
        // (review in two seconds); s1 triaged and decided against the advice.
        let t = common::now();
        vt.set_melding_stage(stage_request(
            &s2,
            pb::MeldingStage::Onderzoek,
            Some(t + 7200),
        ))
        .await
        .unwrap();
        vt.set_melding_stage(stage_request(
            &s3,
            pb::MeldingStage::Monitoring,
            Some(t + 2),
        ))
        .await
        .unwrap();
        let tr = triage_signal(&mut vt, &s1).await.unwrap();
        let first = meldingen_page(&mut vt, pb::MeldingStage::Unspecified, 0, "")
            .await
            .unwrap();
        let m1 = first
            .meldingen
            .iter()
            .find(|m| m.signal.as_ref() == Some(&s1))
            .unwrap();
        assert!(m1.triaged && !m1.decision_recorded);
        assert_eq!(m1.decision, pb::TriageDecisionKind::JointVisit as i32);
        decide(
            &mut vt,
            &tr.triage_id,
            pb::TriageDecisionKind::WijkteamAlone,
            pb::DecisionReason::SingleIncident,
        )
        .await
        .unwrap();

        // Once s3's review has passed it is due and comes first, then s2's, then the others.
        tokio::time::sleep(Duration::from_millis(
            u64::try_from((t + 3 - common::now()).max(0)).unwrap() * 1000 + 100,
        ))
        .await;
        let all = meldingen_page(&mut vt, pb::MeldingStage::Unspecified, 0, "")
            .await
            .unwrap();
        let order = listed(&all);
        assert_eq!(order[..2], [name(&s3), name(&s2)], "{b}");
        let (due, later) = (&all.meldingen[0], &all.meldingen[1]);
        assert_eq!(due.stage, pb::MeldingStage::Monitoring as i32);
        assert_eq!(due.review_at.as_ref().unwrap().seconds, t + 2);
        assert_eq!(due.review_state, "PLANNED");
        assert!(due.review_due && due.under_assessment && due.stage_since.is_some());
        assert_eq!(later.stage, pb::MeldingStage::Onderzoek as i32);
        assert!(!later.review_due);
        let m1 = all
            .meldingen
            .iter()
            .find(|m| m.signal.as_ref() == Some(&s1))
            .unwrap();
        assert!(m1.decision_recorded);
        assert_eq!(m1.decision, pb::TriageDecisionKind::WijkteamAlone as i32);
        // The hub's reminder tells it; it stays first, due, REMINDED.
        let r = signaalhub_server::reminders::run(&hub.store, &policy, common::now(), 10)
            .await
            .unwrap();
        assert_eq!(r.melding_reviews, 1);
        let again = meldingen_page(&mut vt, pb::MeldingStage::Unspecified, 0, "")
            .await
            .unwrap();
        assert_eq!(listed(&again), order);
        assert_eq!(again.meldingen[0].review_state, "REMINDED");
        assert!(again.meldingen[0].review_due);

        // Paging, one at a time: the same list, in the same order.
        let mut paged = Vec::new();
        let mut token = String::new();
        loop {
            let p = meldingen_page(&mut vt, pb::MeldingStage::Unspecified, 1, &token)
                .await
                .unwrap();
            assert!(p.meldingen.len() <= 1);
            paged.extend(listed(&p));
            if p.next_page_token.is_empty() {
                break;
            }
            token = p.next_page_token;
        }
        assert_eq!(paged, order, "{b}");
        let p = meldingen_page(&mut vt, pb::MeldingStage::Unspecified, 3, "")
            .await
            .unwrap();
        assert_eq!(listed(&p), order[..3]);
        let rest = meldingen_page(
            &mut vt,
            pb::MeldingStage::Unspecified,
            3,
            &p.next_page_token,
        )
        .await
        .unwrap();
        assert_eq!(listed(&rest), order[3..]);
        assert!(rest.next_page_token.is_empty());

        // The filter: one stage; TRIAGE includes the meldingen without a recorded stage.
        let onderzoek = meldingen_page(&mut vt, pb::MeldingStage::Onderzoek, 0, "")
            .await
            .unwrap();
        assert_eq!(listed(&onderzoek), vec![name(&s2)]);
        let mut triage = listed(
            &meldingen_page(&mut vt, pb::MeldingStage::Triage, 0, "")
                .await
                .unwrap(),
        );
        triage.sort();
        let mut expected = vec![zm.clone(), name(&s1)];
        expected.sort();
        assert_eq!(triage, expected);
        assert!(
            meldingen_page(&mut vt, pb::MeldingStage::Afgesloten, 0, "")
                .await
                .unwrap()
                .meldingen
                .is_empty()
        );

        // Bad input: INVALID_ARGUMENT on the field.
        for (req, field) in [
            (
                pb::ListMeldingenRequest {
                    stage: 99,
                    acting_role: "vt_medewerker".into(),
                    ..Default::default()
                },
                "stage",
            ),
            (
                pb::ListMeldingenRequest {
                    page_size: 201,
                    acting_role: "vt_medewerker".into(),
                    ..Default::default()
                },
                "page_size",
            ),
            (
                pb::ListMeldingenRequest {
                    page_token: "not-a-token".into(),
                    acting_role: "vt_medewerker".into(),
                    ..Default::default()
                },
                "page_token",
            ),
        ] {
            let e = vt.list_meldingen(req).await.unwrap_err();
            assert_eq!(violations(e)[0].0, field, "{b}");
        }

        // Reading the overview is not logged (no persons; Veilig Thuis's own records).
        // Since the first read: two stages, a triage, its decision and the reminder.
        assert_eq!(events(&hub).await.len(), log_before + 5, "{b}");

        // Nobody else sees them: the melder, the police, the wijkteam and another Veilig
        // Thuis get an empty list of their own; Veilig Thuis's privacy officer is refused.
        let region = hub.org("veilig_thuis").info.region.clone();
        hub.add_org("vt-andere", "veilig_thuis", OTHER_VEILIG_THUIS, &region)
            .await;
        for (other, role) in [
            ("school", ""),
            ("politie", ""),
            ("wijkteam", ""),
            ("vt-andere", "vt_medewerker"),
        ] {
            let mut c = hub.client(other).await;
            let r = c
                .list_meldingen(pb::ListMeldingenRequest {
                    acting_role: role.into(),
                    ..Default::default()
                })
                .await
                .unwrap();
            assert!(r.meldingen.is_empty(), "{b} {other}");
        }
        let mut claims = hub.claims("veilig_thuis");
        claims["roles"] = serde_json::json!(["fg"]);
        claims["sub"] = "fg-1".into();
        let mut fg = hub
            .client_with_token("veilig_thuis", hub.token("veilig_thuis", &claims))
            .await;
        assert_eq!(
            code(fg.list_meldingen(pb::ListMeldingenRequest::default()).await).0,
            Code::PermissionDenied
        );
        hub.stop().await;
    }
}
