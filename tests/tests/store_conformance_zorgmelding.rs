//! Store conformance, part 3: zorgmeldingen (fragments per incident), triage, the family's
//! refusal and handovers. Every test runs on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod conformance;

use conformance::*;
use signaalhub_server::domain::involvement::NotificationKind;
use signaalhub_server::domain::signal::StoredReason;
use signaalhub_server::domain::zorgmelding::{
    AnswerKind, DecisionKind, DecisionReason, FamilyDeclined, Feedback, FeedbackOutcome,
    FragmentOutcome, FragmentRecord, FragmentRefusal, HandoverAnswer, HandoverState, ReturnReason,
    TriageDecision, ZorgmeldingRecord,
};
use signaalhub_server::domain::zorgmelding::{
    InformationAnswer, InformationRequest, InformationState, MeldingStage, ReviewState,
};
use signaalhub_server::ids::{Category, MeldingRef, Purpose, Role};
use signaalhub_server::ledger::{Event, PendingEntry};
use signaalhub_server::store::melding::Due;
use signaalhub_server::store::zorgmelding::HandoverVerdict;
use signaalhub_server::store::{Store, StoreError};

conformance!(
    fragments_assemble_one_melding_per_incident,
    veilig_thuis_streams_meldingen_by_cursor,
    triages_are_kept_per_melding,
    a_triage_is_decided_once,
    the_familys_refusal_is_recorded_once,
    handovers_are_stored_once_listed_and_delivered_once,
    a_handover_is_answered_in_turn_until_accepted_or_returned,
    feedback_is_stored_once_and_read_by_melder_and_veilig_thuis,
    stages_follow_each_other_until_closed,
    an_information_request_is_stored_once_and_answered_once,
    a_due_reminder_is_told_once,
    a_disclosure_that_informs_leaves_a_duty_closed_once,
    a_family_request_is_decided_once_and_its_notices_confirmed_once,
);

fn sent(melding: &str) -> PendingEntry {
    entry(POLICE, Event::ZorgmeldingFragmentSent, T0).reference(melding)
}

/// Submits `f` for incident `reg` (a new melding gets id `z-<reg>`).
async fn submit(
    s: &Store,
    reg: &str,
    f: &FragmentRecord,
) -> Result<FragmentOutcome, FragmentRefusal> {
    s.submit_fragment(&melding_key(reg), &format!("z-{reg}"), f, sent)
        .await
        .unwrap()
}

fn new_melding(o: Result<FragmentOutcome, FragmentRefusal>) -> (ZorgmeldingRecord, u32) {
    match o {
        Ok(FragmentOutcome::New { melding, sequence }) => (melding, sequence),
        other => panic!("expected a new fragment, got {other:?}"),
    }
}

/// (id, version, cursor, created cursor, subjects, updated, completed)
fn shape(m: &ZorgmeldingRecord) -> (String, u32, u64, u64, Vec<String>, i64, Option<i64>) {
    (
        m.zorgmelding_id.to_string(),
        m.version,
        m.cursor,
        m.created_cursor,
        m.subjects.clone(),
        m.updated_at,
        m.completed_at,
    )
}

async fn fragments_assemble_one_melding_per_incident(s: Store) {
    let f1 = fragment("f1", 1, &[ps(1), ps(2)], T0);
    let (m, seq) = new_melding(submit(&s, "reg-1", &f1).await);
    assert_eq!(seq, 1);
    assert_eq!(
        shape(&m),
        ("z-reg-1".into(), 1, 1, 1, vec![ps(1), ps(2)], T0, None)
    );
    assert_eq!(
        (
            m.police_oin.as_str(),
            m.registration_number.as_str(),
            m.recipient_oin.as_str(),
            m.purpose.as_str(),
            m.delivered_version,
            m.created_at,
            m.retain_until
        ),
        (POLICE, "reg-1", VT, "zorgmelding", 0, T0, f1.retain_until)
    );
    // A later fragment joins the same melding (the new id offered is not used), moves its
    // cursor to its own entry and extends its retention and subjects.
    let mut f2 = fragment("f2", 2, &[ps(2), ps(3)], T0 + 10);
    f2.kind = signaalhub_server::domain::zorgmelding::FragmentKind::ChildrenPresent;
    f2.envelope = None;
    f2.retain_until = f1.retain_until + 100;
    let out = s
        .submit_fragment(&melding_key("reg-1"), "z-unused", &f2, sent)
        .await
        .unwrap();
    let (m2, seq2) = new_melding(out);
    assert_eq!(seq2, 2);
    assert_eq!(
        shape(&m2),
        (
            "z-reg-1".into(),
            2,
            2,
            1,
            vec![ps(1), ps(2), ps(3)],
            T0 + 10,
            None
        )
    );
    assert_eq!(m2.retain_until, f2.retain_until);
    assert_eq!(s.log_size().await.unwrap(), 2);
    // A retry is answered as the first time, without a new entry.
    match submit(&s, "reg-1", &f1).await {
        Ok(FragmentOutcome::Duplicate { melding, sequence }) => {
            assert_eq!((melding.zorgmelding_id.as_str(), sequence), ("z-reg-1", 1));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.log_size().await.unwrap(), 2);
    // The id with other content, or for another incident, is refused.
    assert_eq!(
        submit(&s, "reg-1", &fragment("f1", 9, &[ps(1)], T0))
            .await
            .unwrap_err(),
        FragmentRefusal::IdReused
    );
    assert_eq!(
        submit(&s, "reg-2", &f1).await.unwrap_err(),
        FragmentRefusal::IdReused
    );
    assert!(s.get_zorgmelding("z-reg-2").await.unwrap().is_none());
    // The incident belongs to one Veilig Thuis.
    let mut elsewhere = melding_key("reg-1");
    elsewhere.recipient_oin = v(HUISARTS);
    assert_eq!(
        s.submit_fragment(&elsewhere, "z-x", &fragment("f3", 3, &[], T0), sent)
            .await
            .unwrap()
            .unwrap_err(),
        FragmentRefusal::OtherRecipient(VT.into())
    );
    assert_eq!(s.log_size().await.unwrap(), 2);
    // Reads.
    let mut stored1 = f1.clone();
    stored1.zorgmelding_id = v("z-reg-1");
    stored1.sequence = 1;
    let mut stored2 = f2.clone();
    stored2.zorgmelding_id = v("z-reg-1");
    stored2.sequence = 2;
    assert_same(
        &s.get_fragment(POLICE, "f1").await.unwrap().unwrap(),
        &stored1,
    );
    assert!(s.get_fragment(VT, "f1").await.unwrap().is_none());
    assert_same(
        &s.fragments_of("z-reg-1").await.unwrap(),
        &vec![stored1, stored2],
    );
    assert!(s.fragments_of("nope").await.unwrap().is_empty());
    assert_same(&s.get_zorgmelding("z-reg-1").await.unwrap().unwrap(), &m2);
    assert_same(
        &s.get_zorgmelding_by_registration(POLICE, "reg-1")
            .await
            .unwrap()
            .unwrap(),
        &m2,
    );
    assert!(
        s.get_zorgmelding_by_registration(VT, "reg-1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.get_zorgmelding("nope").await.unwrap().is_none());
    // Completing moves the cursor once more; then the melding is closed.
    let asked = std::cell::Cell::new(None);
    let done = s
        .complete_zorgmelding(POLICE, "reg-1", T0 + 20, |m| {
            asked.set(Some(m.version));
            entry(POLICE, Event::ZorgmeldingCompleted, T0 + 20).reference(m.zorgmelding_id.clone())
        })
        .await
        .unwrap();
    assert_eq!(asked.get(), Some(2));
    assert_eq!(
        shape(&done),
        (
            "z-reg-1".into(),
            3,
            3,
            1,
            vec![ps(1), ps(2), ps(3)],
            T0 + 20,
            Some(T0 + 20)
        )
    );
    let e = |_: &ZorgmeldingRecord| entry(POLICE, Event::ZorgmeldingCompleted, T0 + 30);
    assert_eq!(
        conflict(s.complete_zorgmelding(POLICE, "reg-1", T0 + 30, e).await),
        in_state("zorgmelding", "z-reg-1", "complete")
    );
    assert_eq!(
        not_found(s.complete_zorgmelding(POLICE, "reg-9", T0 + 30, e).await),
        rec("zorgmelding with registration number", "reg-9")
    );
    assert_eq!(
        submit(&s, "reg-1", &fragment("f4", 4, &[], T0 + 40))
            .await
            .unwrap_err(),
        FragmentRefusal::Complete
    );
    assert_eq!(s.log_size().await.unwrap(), 3);
}

async fn veilig_thuis_streams_meldingen_by_cursor(s: Store) {
    new_melding(submit(&s, "reg-a", &fragment("fa", 1, &[ps(1)], T0)).await);
    new_melding(submit(&s, "reg-b", &fragment("fb", 1, &[ps(2)], T0 + 1)).await);
    let mut other = melding_key("reg-c");
    other.recipient_oin = v(HUISARTS);
    s.submit_fragment(
        &other,
        "z-reg-c",
        &fragment("fc", 1, &[ps(1)], T0 + 2),
        sent,
    )
    .await
    .unwrap()
    .unwrap();
    new_melding(submit(&s, "reg-d", &fragment("fd", 1, &[ps(1), ps(3)], T0 + 3)).await);
    // A late fragment moves its melding to the end of the stream.
    new_melding(submit(&s, "reg-a", &fragment("fa2", 1, &[ps(4)], T0 + 4)).await);
    let ids = |v: Vec<ZorgmeldingRecord>| {
        v.into_iter()
            .map(|m| (m.zorgmelding_id, m.cursor))
            .collect::<Vec<_>>()
    };
    let all = ids(s.zorgmeldingen_after(VT, 0, 10).await.unwrap());
    assert_eq!(
        all,
        vec![(v("z-reg-b"), 2), (v("z-reg-d"), 4), (v("z-reg-a"), 5)]
    );
    assert_eq!(
        ids(s.zorgmeldingen_after(VT, 0, 2).await.unwrap()),
        all[..2].to_vec()
    );
    assert_eq!(
        ids(s.zorgmeldingen_after(VT, 2, 1).await.unwrap()),
        all[1..2].to_vec()
    );
    assert_eq!(ids(s.zorgmeldingen_after(VT, 5, 10).await.unwrap()), vec![]);
    // A cursor beyond every index (even beyond i64) reads nothing, never from the start again.
    assert_eq!(
        ids(s.zorgmeldingen_after(VT, u64::MAX, 10).await.unwrap()),
        vec![]
    );
    assert_eq!(
        ids(s.zorgmeldingen_after(HUISARTS, 0, 10).await.unwrap()),
        vec![(v("z-reg-c"), 3)]
    );
    // Each version is logged as delivered once.
    let size = s.log_size().await.unwrap();
    let d = |v| entry(VT, Event::ZorgmeldingDelivered, T0 + 50 + v);
    assert!(
        s.mark_zorgmelding_delivered("z-reg-a", 2, &d(2))
            .await
            .unwrap()
    );
    assert!(
        !s.mark_zorgmelding_delivered("z-reg-a", 2, &d(2))
            .await
            .unwrap()
    );
    assert!(
        !s.mark_zorgmelding_delivered("z-reg-a", 1, &d(1))
            .await
            .unwrap()
    );
    assert!(
        !s.mark_zorgmelding_delivered("nope", 1, &d(1))
            .await
            .unwrap()
    );
    assert_eq!(s.log_size().await.unwrap(), size + 1);
    assert_eq!(
        s.get_zorgmelding("z-reg-a")
            .await
            .unwrap()
            .unwrap()
            .delivered_version,
        2
    );
    // Earlier meldingen about the household, each once, oldest first, this recipient only.
    let about = |subjects: Vec<String>| {
        let s = s.clone();
        async move {
            s.zorgmeldingen_about(VT, &subjects)
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.zorgmelding_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(about(vec![ps(3), ps(1)]).await, vec!["z-reg-a", "z-reg-d"]);
    assert_eq!(about(vec![ps(4), ps(2)]).await, vec!["z-reg-a", "z-reg-b"]);
    assert_eq!(about(vec![ps(9)]).await, Vec::<String>::new());
    assert_eq!(about(vec![]).await, Vec::<String>::new());
}

async fn triages_are_kept_per_melding(s: Store) {
    let (m, _) = new_melding(submit(&s, "reg-1", &fragment("f1", 1, &[ps(1)], T0)).await);
    let id = MeldingRef::zorgmelding(&m.zorgmelding_id);
    assert_eq!(s.latest_triage(&id).await.unwrap(), None);
    let t1 = triage("t1", id.as_str(), T0 + 1);
    let mut t2 = triage("t2", id.as_str(), T0 + 1);
    t2.acute = true;
    t2.earlier_reports = 0;
    let e = || entry(VT, Event::TriageRecorded, T0 + 1);
    s.insert_triage(&t1, &e()).await.unwrap();
    assert_eq!(s.latest_triage(&id).await.unwrap(), Some(t1.clone()));
    s.insert_triage(&t2, &e()).await.unwrap();
    // The latest is the one logged last, whatever its time.
    assert_eq!(s.latest_triage(&id).await.unwrap(), Some(t2.clone()));
    assert_eq!(s.get_triage("t1").await.unwrap(), Some(t1.clone()));
    assert_eq!(s.get_triage("nope").await.unwrap(), None);
    assert_eq!(s.latest_triage(&v("nope")).await.unwrap(), None);
    // Several at once: those that exist.
    let mut both = s.get_triages(&[v("t2"), v("nope"), v("t1")]).await.unwrap();
    both.sort_by(|a, b| a.triage_id.cmp(&b.triage_id));
    assert_eq!(both, vec![t1.clone(), t2.clone()]);
    assert!(s.get_triages(&[]).await.unwrap().is_empty());
    // The latest of each melding at once, of this Veilig Thuis only; none decided yet.
    let latest = s
        .latest_triages_of(VT, &[id.as_str(), "zm_nope"])
        .await
        .unwrap();
    assert_eq!(latest.len(), 1, "{latest:?}");
    assert_eq!(latest.get(id.as_str()), Some(&(t2.clone(), None)));
    assert!(s.latest_triages_of(VT, &[]).await.unwrap().is_empty());
    assert!(
        s.latest_triages_of("00000009999000000000", &[id.as_str()])
            .await
            .unwrap()
            .is_empty()
    );
    // The same id twice is refused by the database; its entry is not logged.
    let size = s.log_size().await.unwrap();
    match s.insert_triage(&t1, &e()).await {
        Err(err @ StoreError::Unavailable(_)) => assert!(!err.is_outage(), "{err}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.log_size().await.unwrap(), size);
}

async fn a_triage_is_decided_once(s: Store) {
    let melding: MeldingRef = v("signal/00000001234567890000/s-1");
    let t = triage("t1", melding.as_str(), T0);
    s.insert_triage(&t, &entry(VT, Event::TriageRecorded, T0))
        .await
        .unwrap();
    assert_eq!(s.triage_decision("t1").await.unwrap(), None);
    let d = TriageDecision {
        triage_id: v("t1"),
        melding: melding.clone(),
        vt_oin: v(VT),
        decision: DecisionKind::WijkteamAlone,
        reason: Some(DecisionReason::SingleIncident),
        role: Role::known("triagist"),
        professional: "pro-vt".into(),
        decided_at: T0 + 1,
    };
    let size = s.log_size().await.unwrap();
    s.insert_triage_decision(&d, &entry(VT, Event::TriageDecided, T0 + 1))
        .await
        .unwrap();
    assert_eq!(s.log_size().await.unwrap(), size + 1);
    assert_eq!(s.triage_decision("t1").await.unwrap(), Some(d.clone()));
    // A decision without a reason (it follows the advice) reads back as such.
    let follows = TriageDecision {
        triage_id: v("t2"),
        reason: None,
        decision: DecisionKind::JointVisit,
        ..d.clone()
    };
    s.insert_triage_decision(&follows, &entry(VT, Event::TriageDecided, T0 + 2))
        .await
        .unwrap();
    assert_eq!(s.triage_decision("t2").await.unwrap(), Some(follows));
    // The latest triages of a melding carry the decision on them.
    let latest = s.latest_triages_of(VT, &[melding.as_str()]).await.unwrap();
    assert_eq!(
        latest
            .get(melding.as_str())
            .map(|(t, d)| (t.triage_id.as_str(), *d)),
        Some(("t1", Some(DecisionKind::WijkteamAlone))),
        "{latest:?}"
    );
    // Decided once: the second is refused and not logged.
    let size = s.log_size().await.unwrap();
    let again = TriageDecision {
        decision: DecisionKind::AdviceOnly,
        ..d
    };
    assert_eq!(
        conflict(
            s.insert_triage_decision(&again, &entry(VT, Event::TriageDecided, T0 + 3))
                .await
        ),
        in_state("triage", "t1", "decided already")
    );
    assert_eq!(s.log_size().await.unwrap(), size);
    assert_eq!(s.triage_decision("nope").await.unwrap(), None);
}

async fn the_familys_refusal_is_recorded_once(s: Store) {
    let d = FamilyDeclined {
        melding: v("z1"),
        declined_by: "ouder-1".into(),
        recorded_by_oin: v(VT),
        recorded_at: T0,
    };
    assert_eq!(s.family_declined(&v("z1")).await.unwrap(), None);
    let e = entry(VT, Event::FamilyDeclinedRecorded, T0);
    s.record_family_declined(&d, &e).await.unwrap();
    assert_eq!(s.family_declined(&v("z1")).await.unwrap(), Some(d.clone()));
    assert_eq!(
        conflict(s.record_family_declined(&d, &e).await),
        in_state("melding", "z1", "declined by the family already")
    );
    assert_eq!(s.log_size().await.unwrap(), 1);
}

async fn handovers_are_stored_once_listed_and_delivered_once(s: Store) {
    let subjects = [ps(1), ps(2)];
    let h1 = handover("h1", 1, "z1", &subjects, T0);
    let envelopes = vec![vec![1u8; 30], vec![2u8; 31]];
    let es = vec![
        entry(VT, Event::HandoverSent, T0)
            .recipient(WIJKTEAM)
            .reference("h1"),
        entry(VT, Event::HandoverSent, T0)
            .recipient(WIJKTEAM)
            .reference("h1"),
    ];
    assert_eq!(
        s.insert_handover(&h1, &envelopes, &es).await.unwrap(),
        Some(true)
    );
    assert_eq!(s.log_size().await.unwrap(), 2);
    // The retry: nothing new; other content under the id: taken.
    assert_eq!(
        s.insert_handover(&h1, &envelopes, &es).await.unwrap(),
        Some(false)
    );
    assert_eq!(
        conflict(
            s.insert_handover(&handover("h1", 2, "z1", &subjects, T0), &[], &es)
                .await
        ),
        taken("handover", "h1")
    );
    assert_eq!(s.log_size().await.unwrap(), 2);
    assert_same(&s.get_handover(VT, "h1").await.unwrap().unwrap(), &h1);
    assert!(s.get_handover(WIJKTEAM, "h1").await.unwrap().is_none());
    assert_eq!(s.handover_envelopes(VT, "h1").await.unwrap(), envelopes);
    assert_eq!(
        s.handover_envelopes(VT, "nope").await.unwrap(),
        Vec::<Vec<u8>>::new()
    );
    // Once the family declined, nothing is stored for that melding.
    s.record_family_declined(
        &FamilyDeclined {
            melding: v("z2"),
            declined_by: "ouder-1".into(),
            recorded_by_oin: v(VT),
            recorded_at: T0,
        },
        &entry(VT, Event::FamilyDeclinedRecorded, T0),
    )
    .await
    .unwrap();
    let size = s.log_size().await.unwrap();
    assert_eq!(
        s.insert_handover(&handover("h2", 1, "z2", &subjects, T0 + 1), &envelopes, &es)
            .await
            .unwrap(),
        None
    );
    assert!(s.get_handover(VT, "h2").await.unwrap().is_none());
    assert_eq!(s.log_size().await.unwrap(), size);
    // Listed newest first, then by id descending, for sender and recipient, at most `limit`.
    for (id, at) in [("h3", T0 + 5), ("h4", T0 + 5), ("h5", T0 + 2)] {
        assert_eq!(
            s.insert_handover(&handover(id, 1, "z1", &subjects, at), &[], &[])
                .await
                .unwrap(),
            Some(true)
        );
    }
    let list = |oin: &'static str, limit: u32| {
        let s = s.clone();
        async move {
            s.list_handovers(oin, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|h| h.handover_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(VT, 10).await, vec!["h4", "h3", "h5", "h1"]);
    assert_eq!(list(WIJKTEAM, 10).await, vec!["h4", "h3", "h5", "h1"]);
    assert_eq!(list(VT, 2).await, vec!["h4", "h3"]);
    assert_eq!(list(SCHOOL, 10).await, Vec::<String>::new());
    // Delivery decides once, with the consents as they stand.
    let c1 = consent("c1", &pseud(1), T0);
    s.insert_consent(&c1, &entry(SCHOOL, Event::ConsentRecorded, T0))
        .await
        .unwrap();
    let size = s.log_size().await.unwrap();
    let mut seen = Vec::new();
    let state = s
        .deliver_handover(VT, "h1", &[v("zz"), v("c1")], |cs| {
            seen = cs.to_vec();
            HandoverVerdict::Deliver(entry(WIJKTEAM, Event::HandoverDelivered, T0 + 9))
        })
        .await
        .unwrap();
    assert_eq!((state, seen), (HandoverState::Delivered, vec![c1]));
    assert_eq!(
        s.deliver_handover(VT, "h1", &[], |_| panic!("decided twice"))
            .await
            .unwrap(),
        HandoverState::Delivered
    );
    let got = s.get_handover(VT, "h1").await.unwrap().unwrap();
    assert_eq!(
        (got.state, got.updated_at, got.reasons),
        (HandoverState::Delivered, T0 + 9, vec![])
    );
    let reason = StoredReason {
        code: "CONSENT_WITHDRAWN".into(),
        rule: "floor:consent".into(),
        nl: "ingetrokken".into(),
        en: "withdrawn".into(),
    };
    assert_eq!(
        s.deliver_handover(VT, "h3", &[], |_| {
            HandoverVerdict::Withhold(
                vec![reason.clone()],
                entry(WIJKTEAM, Event::HandoverWithheld, T0 + 10),
            )
        })
        .await
        .unwrap(),
        HandoverState::Withheld
    );
    assert_eq!(
        s.get_handover(VT, "h3").await.unwrap().unwrap().reasons,
        vec![reason]
    );
    assert_eq!(
        not_found(
            s.deliver_handover(VT, "nope", &[], |_| panic!("no handover"))
                .await
        ),
        rec("handover", "nope")
    );
    assert_eq!(s.log_size().await.unwrap(), size + 2);
}

async fn a_handover_is_answered_in_turn_until_accepted_or_returned(s: Store) {
    let h = handover("h1", 1, "z1", &[ps(1)], T0);
    s.insert_handover(&h, &[vec![1; 10]], &[entry(VT, Event::HandoverSent, T0)])
        .await
        .unwrap();
    assert!(s.handover_answers(VT, "h1").await.unwrap().is_empty());
    let e = || entry(WIJKTEAM, Event::HandoverAnswered, T0 + 1).reference("h1");
    let question = |id: &str| HandoverAnswer {
        seq: 0,
        answer: AnswerKind::Question,
        reason: None,
        question_id: Some(id.into()),
        question: Some(vec![7; 20]),
        role: Role::known("wijkcoach"),
        professional: "pro-wt".into(),
        answered_at: T0 + 1,
    };
    let size = s.log_size().await.unwrap();
    assert_eq!(
        s.insert_handover_answer(VT, "h1", &question("h1.q1"), &e())
            .await
            .unwrap(),
        Some(1)
    );
    // The same question again is a retry: nothing new, nothing logged.
    assert_eq!(
        s.insert_handover_answer(VT, "h1", &question("h1.q1"), &e())
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.log_size().await.unwrap(), size + 1);
    let returned = HandoverAnswer {
        answer: AnswerKind::Returned,
        reason: Some(ReturnReason::NotOurArea),
        question_id: None,
        question: None,
        ..question("")
    };
    assert_eq!(
        s.insert_handover_answer(VT, "h1", &returned, &e())
            .await
            .unwrap(),
        Some(2)
    );
    let all = s.handover_answers(VT, "h1").await.unwrap();
    // A whole list's answers at once, for either side of the handover; nobody else's.
    for who in [VT, WIJKTEAM] {
        let of = s.handover_answers_of(who).await.unwrap();
        assert_eq!(of.len(), 1, "{who}");
        assert_eq!(of[&(VT.to_owned(), "h1".to_owned())], all, "{who}");
    }
    assert!(s.handover_answers_of(SCHOOL).await.unwrap().is_empty());
    assert_eq!(
        all,
        vec![
            HandoverAnswer {
                seq: 1,
                ..question("h1.q1")
            },
            HandoverAnswer {
                seq: 2,
                ..returned.clone()
            }
        ]
    );
    // Returned ends it: a later answer is refused and not logged.
    let size = s.log_size().await.unwrap();
    assert_eq!(
        conflict(
            s.insert_handover_answer(VT, "h1", &question("h1.q2"), &e())
                .await
        ),
        in_state("handover", "h1", "answered returned already")
    );
    assert_eq!(s.log_size().await.unwrap(), size);
    // An unknown handover is missing.
    assert!(matches!(
        s.insert_handover_answer(VT, "nope", &returned, &e()).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(s.handover_answers(WIJKTEAM, "h1").await.unwrap().is_empty());
}

async fn feedback_is_stored_once_and_read_by_melder_and_veilig_thuis(s: Store) {
    let melding = format!("signal/{SCHOOL}/s-1");
    let f = feedback("fb-1", &melding, SCHOOL, T0);
    let e = || entry(VT, Event::FeedbackSent, T0).recipient(SCHOOL);
    assert!(s.insert_feedback(&f, &e()).await.unwrap());
    assert_eq!(s.log_size().await.unwrap(), 1);
    // A retry stores and logs nothing; other content under the id is taken.
    assert!(!s.insert_feedback(&f, &e()).await.unwrap());
    let other = Feedback {
        request_hash: vec![5; 32],
        ..f.clone()
    };
    assert_eq!(
        conflict(s.insert_feedback(&other, &e()).await),
        taken("feedback", "fb-1")
    );
    assert_eq!(s.log_size().await.unwrap(), 1);
    assert_eq!(s.get_feedback(VT, "fb-1").await.unwrap(), Some(f.clone()));
    assert_eq!(s.get_feedback(SCHOOL, "fb-1").await.unwrap(), None);
    let later = Feedback {
        feedback_id: v("fb-2"),
        outcome: FeedbackOutcome::HandedOverToWijkteam,
        note: None,
        content_digest: None,
        sent_at: T0 + 5,
        ..f.clone()
    };
    assert!(s.insert_feedback(&later, &e()).await.unwrap());
    let m: MeldingRef = v(&melding);
    // The melder and Veilig Thuis read it, oldest first; anyone else reads nothing.
    for who in [SCHOOL, VT] {
        assert_eq!(
            s.feedback_about(&m, who).await.unwrap(),
            vec![f.clone(), later.clone()],
            "{who}"
        );
    }
    assert!(s.feedback_about(&m, WIJKTEAM).await.unwrap().is_empty());
    // Two in the same second list in the order they were made, whatever their ids.
    let z = Feedback {
        feedback_id: v("fb-z"),
        sent_at: T0 + 7,
        ..later.clone()
    };
    let a = Feedback {
        feedback_id: v("fb-a"),
        ..z.clone()
    };
    assert!(s.insert_feedback(&z, &e()).await.unwrap());
    assert!(s.insert_feedback(&a, &e()).await.unwrap());
    let ids: Vec<String> = s
        .feedback_about(&m, SCHOOL)
        .await
        .unwrap()
        .iter()
        .map(|f| f.feedback_id.to_string())
        .collect();
    assert_eq!(ids, vec!["fb-1", "fb-2", "fb-z", "fb-a"]);
    assert!(
        s.feedback_about(&v("zm_other"), SCHOOL)
            .await
            .unwrap()
            .is_empty()
    );
    // Handed over: only once a handover of the melding exists.
    assert!(!s.melding_handed_over(&m).await.unwrap());
    s.insert_handover(
        &handover("h1", 1, &melding, &[ps(1)], T0),
        &[],
        &[entry(VT, Event::HandoverSent, T0)],
    )
    .await
    .unwrap();
    assert!(s.melding_handed_over(&m).await.unwrap());
}

async fn stages_follow_each_other_until_closed(s: Store) {
    let m = "zm_a";
    let set = |n: i64| entry(VT, Event::MeldingStageSet, T0 + n).reference(m);
    let first = s
        .insert_melding_stage(
            &stage(m, MeldingStage::Onderzoek, Some(T0 + 10), T0),
            &set(1),
        )
        .await
        .unwrap();
    assert_eq!(
        (first.seq, first.review_state),
        (1, Some(ReviewState::Planned))
    );
    let second = s
        .insert_melding_stage(
            &stage(m, MeldingStage::Monitoring, Some(T0 + 20), T0 + 1),
            &set(2),
        )
        .await
        .unwrap();
    assert_eq!(second.seq, 2);
    // A new stage replaces the review planned before it.
    let all = s.melding_stages(VT, &v(m)).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|x| (x.seq, x.stage, x.review_at, x.review_state))
            .collect::<Vec<_>>(),
        vec![
            (
                1,
                MeldingStage::Onderzoek,
                Some(T0 + 10),
                Some(ReviewState::Superseded)
            ),
            (
                2,
                MeldingStage::Monitoring,
                Some(T0 + 20),
                Some(ReviewState::Planned)
            ),
        ]
    );
    assert_eq!(all[1], second);
    // Another Veilig Thuis's stages are its own.
    assert!(s.melding_stages(WIJKTEAM, &v(m)).await.unwrap().is_empty());
    // Closed is final: nothing follows, nothing is logged.
    s.insert_melding_stage(&stage(m, MeldingStage::Afgesloten, None, T0 + 2), &set(3))
        .await
        .unwrap();
    let size = s.log_size().await.unwrap();
    assert_eq!(
        conflict(
            s.insert_melding_stage(&stage(m, MeldingStage::Onderzoek, None, T0 + 3), &set(4))
                .await
        ),
        in_state("melding", m, "closed")
    );
    assert_eq!(s.log_size().await.unwrap(), size);
    assert_eq!(s.melding_stages(VT, &v(m)).await.unwrap().len(), 3);
}

async fn an_information_request_is_stored_once_and_answered_once(s: Store) {
    let q = info_request("q1", "zm_a", SCHOOL, T0);
    let asked = || entry(VT, Event::InformationRequested, T0).recipient(SCHOOL);
    assert!(s.insert_information_request(&q, &asked()).await.unwrap());
    assert!(!s.insert_information_request(&q, &asked()).await.unwrap());
    let other = InformationRequest {
        content_digest: vec![1; 32],
        ..q.clone()
    };
    assert_eq!(
        conflict(s.insert_information_request(&other, &asked()).await),
        taken("information request", "q1")
    );
    assert_eq!(s.log_size().await.unwrap(), 1);
    assert_eq!(
        s.get_information_request(VT, "q1").await.unwrap(),
        Some(q.clone())
    );
    assert_eq!(s.get_information_request(SCHOOL, "q1").await.unwrap(), None);
    let later = InformationRequest {
        request_id: v("q2"),
        recipient_oin: v(HUISARTS),
        requested_at: T0 + 1,
        ..q.clone()
    };
    assert!(
        s.insert_information_request(&later, &asked())
            .await
            .unwrap()
    );
    // Sent: Veilig Thuis's, newest first; received: each organisation its own.
    assert_eq!(
        s.information_requests_of(VT, true, 10).await.unwrap(),
        vec![later.clone(), q.clone()]
    );
    assert_eq!(
        s.information_requests_of(VT, true, 1).await.unwrap(),
        vec![later.clone()]
    );
    assert_eq!(
        s.information_requests_of(SCHOOL, false, 10).await.unwrap(),
        vec![q.clone()]
    );
    assert!(
        s.information_requests_of(SCHOOL, true, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.information_requests_of(VT, false, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Two in the same second: newest first in the order they were made, whatever their ids.
    for id in ["q-z", "q-a"] {
        let same = InformationRequest {
            request_id: v(id),
            requested_at: T0 + 5,
            ..q.clone()
        };
        assert!(s.insert_information_request(&same, &asked()).await.unwrap());
    }
    let ids: Vec<String> = s
        .information_requests_of(VT, true, 2)
        .await
        .unwrap()
        .iter()
        .map(|q| q.request_id.to_string())
        .collect();
    assert_eq!(ids, vec!["q-a", "q-z"]);
    // Answered once; the second answer is refused and logs nothing.
    let a = InformationAnswer {
        answer: Some(vec![8; 40]),
        answer_digest: Some(vec![9; 32]),
        categories: vec![Category::known("zorgen_thuissituatie")],
        basis: Some(basis(&[])),
        decline_reason: None,
        role: Role::known("ib_er"),
        professional: "pro-s".into(),
        answered_at: T0 + 2,
    };
    let answered = || [entry(SCHOOL, Event::InformationAnswered, T0 + 2).recipient(VT)];
    s.answer_information_request(VT, &v("q1"), &a, &answered())
        .await
        .unwrap();
    let got = s.get_information_request(VT, "q1").await.unwrap().unwrap();
    assert_eq!(
        (got.state, got.answer),
        (InformationState::Answered, Some(a.clone()))
    );
    let size = s.log_size().await.unwrap();
    assert_eq!(
        conflict(
            s.answer_information_request(VT, &v("q1"), &a, &answered())
                .await
        ),
        in_state("information request", "q1", "answered already")
    );
    assert_eq!(s.log_size().await.unwrap(), size);
    // A decline keeps its reason and no answer.
    let declined = InformationAnswer {
        answer: None,
        answer_digest: None,
        categories: vec![],
        basis: None,
        decline_reason: Some(
            signaalhub_server::domain::zorgmelding::DeclineReason::ProfessionalSecrecy,
        ),
        ..a.clone()
    };
    s.answer_information_request(VT, &v("q2"), &declined, &answered())
        .await
        .unwrap();
    let got = s.get_information_request(VT, "q2").await.unwrap().unwrap();
    assert_eq!(
        (got.state, got.answer),
        (InformationState::Declined, Some(declined))
    );
}

async fn a_due_reminder_is_told_once(s: Store) {
    let m = "zm_a";
    s.insert_melding_stage(
        &stage(m, MeldingStage::Monitoring, Some(T0 + 20), T0),
        &entry(VT, Event::MeldingStageSet, T0),
    )
    .await
    .unwrap();
    // Not due before its moment.
    assert!(
        s.due_reminders(T0 + 19, T0 - 1, T0 - 1, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = s.due_reminders(T0 + 20, T0 - 1, T0 - 1, 10).await.unwrap();
    let review = Due::MeldingReview {
        vt_oin: v(VT),
        melding: v(m),
        seq: 1,
        review_at: T0 + 20,
        subjects: vec![ps(1)],
        purpose: Purpose::known("melding_veilig_thuis"),
    };
    assert_eq!(due, vec![review.clone()]);
    let items = || {
        vec![(
            entry(VT, Event::MeldingReviewDue, T0 + 20).recipient(VT),
            Some(notification(
                VT,
                NotificationKind::MeldingReviewDue,
                T0 + 20,
            )),
        )]
    };
    let size = s.log_size().await.unwrap();
    assert!(s.record_reminder(&review, &items(), T0 + 20).await.unwrap());
    // Told once: a second claim (another instance) records nothing.
    assert!(!s.record_reminder(&review, &items(), T0 + 20).await.unwrap());
    assert_eq!(s.log_size().await.unwrap(), size + 1);
    let told = s.notifications_after(VT, 0, 10).await.unwrap();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].kind, NotificationKind::MeldingReviewDue);
    assert!(
        s.due_reminders(T0 + 99, T0 - 1, T0 - 1, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.melding_stages(VT, &v(m)).await.unwrap()[0].review_state,
        Some(ReviewState::Reminded)
    );
    // A delivered handover nobody answered is due once delivered before the bound.
    s.insert_handover(
        &handover("h1", 1, m, &[ps(1)], T0),
        &[],
        &[entry(VT, Event::HandoverSent, T0)],
    )
    .await
    .unwrap();
    assert!(
        s.due_reminders(T0 + 99, T0 + 99, T0 - 1, 10)
            .await
            .unwrap()
            .is_empty(),
        "pending"
    );
    s.deliver_handover(VT, "h1", &[], |_| {
        HandoverVerdict::Deliver(entry(WIJKTEAM, Event::HandoverDelivered, T0 + 9))
    })
    .await
    .unwrap();
    assert!(
        s.due_reminders(T0 + 99, T0 + 8, T0 - 1, 10)
            .await
            .unwrap()
            .is_empty(),
        "not yet"
    );
    let due = s.due_reminders(T0 + 99, T0 + 9, T0 - 1, 10).await.unwrap();
    let unanswered = Due::HandoverUnanswered {
        sender_oin: v(VT),
        handover_id: v("h1"),
        recipient_oin: v(WIJKTEAM),
        delivered_at: T0 + 9,
        subjects: vec![ps(1)],
        purpose: handover("h1", 1, m, &[ps(1)], T0).purpose,
    };
    assert_eq!(due, vec![unanswered.clone()]);
    assert!(
        s.record_reminder(&unanswered, &items(), T0 + 99)
            .await
            .unwrap()
    );
    assert!(
        !s.record_reminder(&unanswered, &items(), T0 + 99)
            .await
            .unwrap()
    );
    assert!(
        s.due_reminders(T0 + 99, T0 + 99, T0 - 1, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A disclosure by `actor` to `recipient` about pseudonym 1, with reference `r`.
fn disclosure(actor: &str, recipient: &str, r: &str, at: i64) -> PendingEntry {
    let mut e = entry(actor, Event::SignalDelivered, at)
        .subjects([ps(1)])
        .recipient(recipient)
        .about("vroegsignalering_schulden", ["betalingsachterstand"])
        .reference(r);
    e.entry.outcome = signaalhub_server::ledger::EntryOutcome::Disclosed;
    e
}

async fn a_disclosure_that_informs_leaves_a_duty_closed_once(s: Store) {
    use signaalhub_server::domain::family::{InformAct, InformClose, InformState};
    use signaalhub_server::ledger::InformMark;
    use signaalhub_server::store::family::ObligationFilter;
    let mut open = disclosure(SCHOOL, WIJKTEAM, "sig-1", T0);
    open.inform = Some(InformMark::Open);
    let mut exempted = disclosure(SCHOOL, WIJKTEAM, "sig-2", T0 + 1);
    exempted.inform = Some(InformMark::Exempted("veiligheid_kind".into()));
    let plain = disclosure(SCHOOL, WIJKTEAM, "sig-3", T0 + 2);
    let first = s.append_log(&[open, exempted, plain]).await.unwrap();
    let all = s
        .inform_obligations(SCHOOL, ObligationFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0].log_index, first);
    assert_eq!(all[0].state, InformState::Open);
    assert_eq!(all[0].reference.as_deref(), Some("sig-1"));
    assert_eq!(all[0].recipient_oin, Some(v(WIJKTEAM)));
    assert_eq!(all[0].event, "signal_delivered");
    assert_eq!(all[0].closed_at, None);
    assert_eq!(all[1].state, InformState::Exempted);
    assert_eq!(all[1].ground.as_deref(), Some("veiligheid_kind"));
    assert_eq!(all[1].closed_at, Some(T0 + 1));
    // Filters: by state, overdue (open and disclosed at or before), a page after an index.
    let open_only = ObligationFilter {
        state: Some(InformState::Open),
        created_at_or_before: None,
    };
    assert_eq!(
        s.inform_obligations(SCHOOL, open_only, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let overdue = |t| ObligationFilter {
        state: None,
        created_at_or_before: Some(t),
    };
    assert!(
        s.inform_obligations(SCHOOL, overdue(T0 - 1), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.inform_obligations(SCHOOL, overdue(T0 + 9), None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.inform_obligations(SCHOOL, ObligationFilter::default(), Some(first), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.inform_obligations(WIJKTEAM, ObligationFilter::default(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Due as an overdue reminder only while open.
    let due = s.due_reminders(T0 + 99, T0 - 1, T0 + 5, 10).await.unwrap();
    assert!(
        matches!(&due[..], [Due::InformOverdue { log_index, .. }] if *log_index == first),
        "{due:?}"
    );
    // Closed once, with its entry; again: in state; another organisation's: not found.
    let size = s.log_size().await.unwrap();
    let close = InformClose::Informed {
        act: InformAct::Letter,
        on: T0 + 5,
    };
    let closed = s
        .close_inform_obligation(
            SCHOOL,
            first,
            &close,
            &entry(SCHOOL, Event::FamilyInformed, T0 + 6),
        )
        .await
        .unwrap();
    assert_eq!(closed.state, InformState::Informed);
    assert_eq!(closed.act, Some(InformAct::Letter));
    assert_eq!(closed.informed_on, Some(T0 + 5));
    assert_eq!(closed.closed_at, Some(T0 + 6));
    assert_eq!(closed.closed_professional, "pro-1");
    assert_eq!(s.log_size().await.unwrap(), size + 1);
    match s
        .close_inform_obligation(
            SCHOOL,
            first,
            &close,
            &entry(SCHOOL, Event::FamilyInformed, T0 + 7),
        )
        .await
    {
        Err(StoreError::Conflict(c)) => assert_eq!(
            c,
            in_state("inform obligation", &first.to_string(), "INFORMED")
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.close_inform_obligation(
            WIJKTEAM,
            first,
            &close,
            &entry(WIJKTEAM, Event::FamilyInformed, T0 + 7)
        )
        .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.log_size().await.unwrap(), size + 1);
    assert_eq!(
        s.inform_obligation(SCHOOL, first).await.unwrap(),
        Some(closed)
    );
    assert_eq!(s.inform_obligation(WIJKTEAM, first).await.unwrap(), None);
    assert!(
        s.due_reminders(T0 + 99, T0 - 1, T0 + 5, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The entries at given indices, each once, in log order.
    let at = s
        .log_entries_at(&[first + 2, first, first, 10_000])
        .await
        .unwrap();
    assert_eq!(
        at.iter().map(|e| e.idx).collect::<Vec<_>>(),
        vec![first, first + 2]
    );
}

async fn a_family_request_is_decided_once_and_its_notices_confirmed_once(s: Store) {
    use signaalhub_server::domain::family::{
        FamilyRequest, RequestKind, RequestNotice, RequestState,
    };
    let first = s
        .append_log(&[
            disclosure(SCHOOL, WIJKTEAM, "sig-1", T0),
            disclosure(SCHOOL, VT, "sig-2", T0),
        ])
        .await
        .unwrap();
    let r = FamilyRequest {
        org_oin: v(SCHOOL),
        request_id: v("fr_abc"),
        kind: RequestKind::Correction,
        received_on: T0,
        scope: vec![first, first + 1],
        recorded_idx: 0,
        recorded_role: Role::known("ib_er"),
        recorded_professional: "pro-1".into(),
        recorded_at: T0 + 1,
        state: RequestState::Open,
        decision_reason: None,
        decided_role: None,
        decided_professional: String::new(),
        decided_at: None,
        notices: vec![],
    };
    let stored = s
        .insert_family_request(&r, &entry(SCHOOL, Event::FamilyRequestRecorded, T0 + 1))
        .await
        .unwrap();
    assert_eq!(stored.recorded_idx, first + 2);
    match s
        .insert_family_request(&r, &entry(SCHOOL, Event::FamilyRequestRecorded, T0 + 1))
        .await
    {
        Err(StoreError::Conflict(c)) => assert_eq!(c, taken("family request", "fr_abc")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        s.get_family_request(SCHOOL, "fr_abc").await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(
        s.get_family_request(WIJKTEAM, "fr_abc").await.unwrap(),
        None
    );
    let notice = |to: &str| RequestNotice {
        org_oin: v(SCHOOL),
        request_id: v("fr_abc"),
        recipient_oin: v(to),
        kind: RequestKind::Correction,
        references: vec!["sig-1".into()],
        notified_at: T0 + 2,
        acknowledged_at: None,
        acknowledged_role: None,
        acknowledged_professional: String::new(),
    };
    let decided = FamilyRequest {
        state: RequestState::Granted,
        decision_reason: Some("gegevens_onjuist".into()),
        decided_role: Some(Role::known("ib_er")),
        decided_professional: "pro-2".into(),
        decided_at: Some(T0 + 2),
        notices: vec![notice(WIJKTEAM), notice(VT)],
        ..stored.clone()
    };
    let items = vec![
        (entry(SCHOOL, Event::FamilyRequestDecided, T0 + 2), None),
        (
            entry(SCHOOL, Event::FamilyRequestNotified, T0 + 2).recipient(WIJKTEAM),
            Some(notification(
                WIJKTEAM,
                NotificationKind::FamilyRequestGranted,
                T0 + 2,
            )),
        ),
    ];
    s.decide_family_request(&decided, &items).await.unwrap();
    assert!(matches!(
        s.decide_family_request(&decided, &items).await,
        Err(StoreError::Conflict(_))
    ));
    let mut other = decided.clone();
    other.request_id = v("fr_none");
    assert!(matches!(
        s.decide_family_request(&other, &items).await,
        Err(StoreError::NotFound(_))
    ));
    let got = s
        .get_family_request(SCHOOL, "fr_abc")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.state, RequestState::Granted);
    assert_eq!(got.decision_reason.as_deref(), Some("gegevens_onjuist"));
    assert_eq!(got.notices.len(), 2);
    assert_eq!(
        s.family_requests_of(SCHOOL, None, 10).await.unwrap(),
        vec![got.clone()]
    );
    assert!(
        s.family_requests_of(SCHOOL, Some(first + 2), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.notifications_after(WIJKTEAM, 0, 10).await.unwrap()[0].kind,
        NotificationKind::FamilyRequestGranted
    );
    // The recipient sees its notice and confirms it once; another cannot.
    assert_eq!(
        s.family_request_notices_for(WIJKTEAM, true, 10)
            .await
            .unwrap(),
        vec![notice(WIJKTEAM)]
    );
    assert_eq!(
        s.family_request_notice(SCHOOL, "fr_abc", WIJKTEAM)
            .await
            .unwrap(),
        Some(notice(WIJKTEAM))
    );
    assert_eq!(
        s.family_request_notice(SCHOOL, "fr_abc", HUISARTS)
            .await
            .unwrap(),
        None
    );
    let ack = s
        .acknowledge_family_request_notice(
            WIJKTEAM,
            SCHOOL,
            "fr_abc",
            &entry(WIJKTEAM, Event::FamilyRequestAcknowledged, T0 + 3),
        )
        .await
        .unwrap();
    assert_eq!(ack.acknowledged_at, Some(T0 + 3));
    assert_eq!(ack.acknowledged_professional, "pro-1");
    assert!(matches!(
        s.acknowledge_family_request_notice(
            WIJKTEAM,
            SCHOOL,
            "fr_abc",
            &entry(WIJKTEAM, Event::FamilyRequestAcknowledged, T0 + 4)
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.acknowledge_family_request_notice(
            HUISARTS,
            SCHOOL,
            "fr_abc",
            &entry(HUISARTS, Event::FamilyRequestAcknowledged, T0 + 4)
        )
        .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        s.family_request_notices_for(WIJKTEAM, true, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.family_request_notices_for(WIJKTEAM, false, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}
