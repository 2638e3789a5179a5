//! Store conformance, part 5: what the hub does to its own data — retention (erasing what
//! expired, with one entry each) and the pseudonym re-key (key versions, the start-up ring check,
//! moving every stored pseudonym forward). Every test runs on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod conformance;

use conformance::*;
use signaalhub_server::domain::consent::Facts;
use signaalhub_server::domain::involvement::{Involvement, NotificationKind, PlanVersion};
use signaalhub_server::domain::signal::{DeliveryState, SignalRecord};
use signaalhub_server::domain::zorgmelding::{
    FamilyDeclined, FragmentOutcome, FragmentRefusal, HandoverState, MeldingStage, ReviewState,
};
use signaalhub_server::ids::{Bsn, CaseId, Pseudonymizer, SubjectPseudonym};
use signaalhub_server::ledger::{Event, PendingEntry};
use signaalhub_server::store::involvement::MatchDecider;
use signaalhub_server::store::rekey::{PseudonymState, RingError, RingMismatch, TableProgress};
use signaalhub_server::store::retention::{Expired, RetentionTarget, TARGETS};
use signaalhub_server::store::signal::{DeliveryVerdict, Submitted};
use signaalhub_server::store::{Store, StoreError};

conformance!(
    retention_erases_what_expired_and_logs_each,
    log_professionals_are_erased_in_log_order_from_where_the_last_pass_stopped,
    maatregel_no_answers_are_counted_per_organisation_and_day,
    the_rekey_moves_every_pseudonym_forward,
    a_subject_reference_is_registered_and_merged_into_a_bsn_once,
);

/// Decides every match allowed and tells nobody anything special.
struct Allow;

impl MatchDecider for Allow {
    fn decide(
        &self,
        _: &Involvement,
        _: &[signaalhub_server::domain::consent::Consent],
        _: &Involvement,
    ) -> Result<(), Box<PendingEntry>> {
        Ok(())
    }
    fn matched(
        &self,
        to: &Involvement,
        _: &[&Involvement],
        case_id: &CaseId,
    ) -> (
        PendingEntry,
        signaalhub_server::domain::involvement::Notification,
    ) {
        let mut n = notification(&to.org_oin, NotificationKind::InvolvementMatched, T0);
        n.case_id = Some(case_id.clone());
        (entry(&to.org_oin, Event::InvolvementMatched, T0), n)
    }
}

async fn register(s: &Store, id: &str, org: &str, subject: &SubjectPseudonym) {
    let p = vec![subject.as_str().to_owned()];
    s.register_involvement(
        &involvement(id, subject, org, T0),
        std::slice::from_ref(subject),
        &p,
        &p,
        &entry(org, Event::InvolvementRegistered, T0),
        &v(&format!("k-{id}")),
        &Allow,
    )
    .await
    .unwrap();
}

fn target(kind: &str) -> &'static RetentionTarget {
    TARGETS.iter().find(|t| t.kind == kind).unwrap()
}

fn erased_entry(x: &Expired) -> PendingEntry {
    entry(&x.owner, Event::Erased, T0 + 20)
        .subjects(x.subjects.clone())
        .reference(format!("{}:{}", x.kind, x.id))
}

/// One record of every kind that expires, expired at `NOW` (retained until `OLD`), and one that
/// is not (retained until `LATER`).
const OLD: i64 = T0 + 10;
const NOW: i64 = T0 + 20;
const LATER: i64 = T0 + 1_000;

fn sig(id: &str, retain_until: i64) -> SignalRecord {
    let mut s = signal(id, 1, &[ps(1)], T0);
    s.retain_until = retain_until;
    s
}

async fn world(s: &Store) {
    // Signals: one expired with a pending and a delivered delivery, two kept.
    for (id, until) in [("s-old", OLD), ("s-older", OLD - 5), ("s-new", LATER)] {
        let sg = sig(id, until);
        let ds = vec![to(WIJKTEAM, &["c-old"]), to(VT, &[])];
        assert!(matches!(
            s.insert_signal(&sg, &ds, &sent_entries(&sg, &ds))
                .await
                .unwrap(),
            Submitted::New(_)
        ));
    }
    s.deliver(VT, SCHOOL, "s-old", &[], |_| {
        DeliveryVerdict::Deliver(entry(VT, Event::SignalDelivered, T0 + 1))
    })
    .await
    .unwrap();
    // Triages of the signals as meldingen to Veilig Thuis: kept as long as the signal.
    for id in ["s-old", "s-new"] {
        s.insert_triage(
            &triage(&format!("t-{id}"), &format!("signal/{SCHOOL}/{id}"), T0),
            &entry(VT, Event::TriageRecorded, T0),
        )
        .await
        .unwrap();
    }
    // Feedback to the school about its signals.
    for (id, until) in [("fb-old", OLD), ("fb-new", LATER)] {
        let mut f = feedback(id, &format!("signal/{SCHOOL}/s-old"), SCHOOL, T0);
        f.retain_until = until;
        assert!(
            s.insert_feedback(&f, &entry(VT, Event::FeedbackSent, T0))
                .await
                .unwrap()
        );
    }
    // Consents.
    for (id, until) in [("c-old", OLD), ("c-new", LATER)] {
        let mut c = consent(id, &pseud(1), T0);
        c.retain_until = until;
        s.insert_consent(&c, &entry(SCHOOL, Event::ConsentRecorded, T0))
            .await
            .unwrap();
    }
    // Zorgmeldingen, their fragments, a triage, the family's refusal, handovers.
    for (reg, until) in [("reg-old", OLD), ("reg-new", LATER)] {
        let mut f = fragment(&format!("f-{reg}"), 1, &[ps(2)], T0);
        f.retain_until = until;
        let out = s
            .submit_fragment(&melding_key(reg), &format!("z-{reg}"), &f, |m| {
                entry(POLICE, Event::ZorgmeldingFragmentSent, T0).reference(m)
            })
            .await
            .unwrap();
        assert!(matches!(out, Ok(FragmentOutcome::New { .. })));
        s.insert_triage(
            &triage(&format!("t-{reg}"), &format!("z-{reg}"), T0),
            &entry(VT, Event::TriageRecorded, T0),
        )
        .await
        .unwrap();
        let mut h = handover(&format!("h-{reg}"), 1, &format!("z-{reg}"), &[ps(2)], T0);
        h.retain_until = until;
        s.insert_handover(&h, &[vec![1; 10]], &[entry(VT, Event::HandoverSent, T0)])
            .await
            .unwrap();
    }
    s.record_family_declined(
        &FamilyDeclined {
            melding: v("z-reg-old"),
            declined_by: "ouder-1".into(),
            recorded_by_oin: v(VT),
            recorded_at: T0,
        },
        &entry(VT, Event::FamilyDeclinedRecorded, T0),
    )
    .await
    .unwrap();
    // A stage of the old zorgmelding with a review planned; information requests about it.
    s.insert_melding_stage(
        &stage("z-reg-old", MeldingStage::Monitoring, Some(LATER), T0),
        &entry(VT, Event::MeldingStageSet, T0),
    )
    .await
    .unwrap();
    for (id, until) in [("q-old", OLD), ("q-new", LATER)] {
        let mut q = info_request(id, "z-reg-new", SCHOOL, T0);
        q.retain_until = until;
        assert!(
            s.insert_information_request(&q, &entry(VT, Event::InformationRequested, T0))
                .await
                .unwrap()
        );
    }
    // Maatregelen.
    for (id, until) in [("m-old", OLD), ("m-new", LATER)] {
        let mut m = maatregel(id, &pseud(3), T0);
        m.retain_until = Some(until);
        s.insert_maatregel(&m, &entry(GI, Event::MaatregelRegistered, T0))
            .await
            .unwrap();
    }
    // Involvements: only an ended one expires. A case with two plan versions.
    register(s, "i-old", HUISARTS, &pseud(4)).await;
    s.end_involvement(
        "i-old",
        HUISARTS,
        T0 + 1,
        OLD,
        &entry(HUISARTS, Event::InvolvementEnded, T0 + 1),
        |_| panic!("no case"),
    )
    .await
    .unwrap();
    register(s, "i-live", HUISARTS, &pseud(5)).await;
    register(s, "i-a", SCHOOL, &pseud(6)).await;
    register(s, "i-b", WIJKTEAM, &pseud(6)).await;
    for (version, until) in [(1, OLD), (2, LATER)] {
        let plan = PlanVersion {
            case_id: v("k-i-b"),
            version,
            author_oin: v(SCHOOL),
            author_professional: "pro-1".into(),
            envelope: vec![1; 20],
            sealed_to: vec![WIJKTEAM.into()],
            agreements: vec![],
            published_at: T0,
            retain_until: until,
            request_hash: Some(vec![version as u8; 32]),
            content_digest: Some(vec![7; 32]),
            confirmations: vec![],
            review_at: None,
            review_state: None,
        };
        s.publish_plan(&plan, &[], |_, _| Ok::<_, (Vec<PendingEntry>, ())>(vec![]))
            .await
            .unwrap()
            .unwrap();
    }
    s.confirm_plan(
        "k-i-b",
        1,
        WIJKTEAM,
        "pro-w",
        &["a1".into()],
        T0,
        |_| vec![],
    )
    .await
    .unwrap();
    // Notifications.
    for until in [OLD, LATER] {
        let mut n = notification(GI, NotificationKind::MaatregelQueried, T0);
        n.retain_until = until;
        n.maatregel_id = Some(v("m-new"));
        s.log_with_notifications(&[(entry(SCHOOL, Event::MaatregelQueried, T0), Some(n))])
            .await
            .unwrap();
    }
}

/// Erases everything of `kind` expired at `NOW`, `batch` at a time; returns (owner, id) per
/// batch, checking each erased record's entry was logged.
async fn erase(s: &Store, kind: &str, batch: u32) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    loop {
        let size = s.log_size().await.unwrap();
        let done = s
            .erase_expired(target(kind), NOW, batch, erased_entry)
            .await
            .unwrap();
        assert!(done.iter().all(|x| x.kind == target(kind).kind));
        assert_eq!(s.log_size().await.unwrap(), size + done.len() as u64);
        let n = done.len();
        out.push(done.into_iter().map(|x| (x.owner, x.id)).collect());
        if n < batch as usize {
            return out;
        }
    }
}

fn ids(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(o, i)| ((*o).to_owned(), (*i).to_owned()))
        .collect()
}

async fn log_professionals_are_erased_in_log_order_from_where_the_last_pass_stopped(s: Store) {
    let at = |t: i64| entry(SCHOOL, Event::SignalSent, T0 + t);
    s.append_log(&[at(100), at(200), at(300)]).await.unwrap();
    let listed = |s: &Store| {
        let s = s.clone();
        async move {
            s.log_entries_for_professional(SCHOOL, "pro-1", None, 10)
                .await
                .unwrap()
                .iter()
                .map(|e| e.idx)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(&s).await, vec![0, 1, 2]);
    // Nothing made before the first entry: nothing passed.
    assert_eq!(s.erase_log_professionals(T0 + 50, 10).await.unwrap(), 0);
    // Entries before T0+250, one per pass: two passes of one, then none.
    assert_eq!(s.erase_log_professionals(T0 + 250, 1).await.unwrap(), 1);
    assert_eq!(listed(&s).await, vec![1, 2]);
    assert_eq!(s.erase_log_professionals(T0 + 250, 1).await.unwrap(), 1);
    assert_eq!(s.erase_log_professionals(T0 + 250, 1).await.unwrap(), 0);
    assert_eq!(listed(&s).await, vec![2]);
    let stored = s.log_range(0, 3).await.unwrap();
    assert_eq!(stored.len(), 3, "the entries themselves stay");
    // The rest, then nothing more; a new entry keeps its id until its own time.
    assert_eq!(s.erase_log_professionals(T0 + 1000, 10).await.unwrap(), 1);
    assert!(listed(&s).await.is_empty());
    s.append_log(&[at(2000)]).await.unwrap();
    assert_eq!(s.erase_log_professionals(T0 + 1000, 10).await.unwrap(), 0);
    assert_eq!(listed(&s).await, vec![3]);
}

async fn maatregel_no_answers_are_counted_per_organisation_and_day(s: Store) {
    let day = T0 / DAY;
    assert_eq!(s.maatregel_no_answers(WIJKTEAM, day).await.unwrap(), 0);
    assert_eq!(s.count_maatregel_no_answer(WIJKTEAM, day).await.unwrap(), 1);
    assert_eq!(s.count_maatregel_no_answer(WIJKTEAM, day).await.unwrap(), 2);
    assert_eq!(s.count_maatregel_no_answer(SCHOOL, day).await.unwrap(), 1);
    assert_eq!(s.maatregel_no_answers(WIJKTEAM, day).await.unwrap(), 2);
    // The next day counts from 1; yesterday's row stays, older ones go.
    assert_eq!(
        s.count_maatregel_no_answer(WIJKTEAM, day + 1)
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.maatregel_no_answers(WIJKTEAM, day).await.unwrap(), 2);
    assert_eq!(
        s.count_maatregel_no_answer(WIJKTEAM, day + 2)
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.maatregel_no_answers(WIJKTEAM, day).await.unwrap(), 0);
    assert_eq!(s.maatregel_no_answers(SCHOOL, day).await.unwrap(), 0);
    assert_eq!(s.maatregel_no_answers(WIJKTEAM, day + 1).await.unwrap(), 1);
}

async fn retention_erases_what_expired_and_logs_each(s: Store) {
    world(&s).await;
    let counts: Vec<(&str, u64)> = {
        let mut v = Vec::new();
        for t in TARGETS {
            v.push((t.kind, s.expired_count(t, NOW).await.unwrap()));
        }
        v
    };
    assert_eq!(
        counts,
        vec![
            ("signal_triage", 1),
            ("signal", 2),
            ("consent", 1),
            ("zorgmelding_fragment", 1),
            ("triage", 1),
            ("zorgmelding", 1),
            ("information_request", 1),
            ("handover", 1),
            ("feedback", 1),
            ("maatregel", 1),
            ("involvement", 1),
            ("safety_plan", 1),
            ("notification", 1),
        ]
    );
    // A signal's triage goes before the signal (its entry names the signal's subjects).
    assert_eq!(
        erase(&s, "signal_triage", 10).await,
        vec![ids(&[(VT, "t-s-old")])]
    );
    // Oldest first, one batch at a time; a short batch means done.
    assert_eq!(
        erase(&s, "signal", 1).await,
        vec![
            ids(&[(SCHOOL, "s-older")]),
            ids(&[(SCHOOL, "s-old")]),
            vec![]
        ]
    );
    let one = |owner: &str, id: &str| vec![ids(&[(owner, id)])];
    assert_eq!(erase(&s, "consent", 10).await, one(SCHOOL, "c-old"));
    assert_eq!(
        erase(&s, "zorgmelding_fragment", 10).await,
        one(POLICE, "f-reg-old")
    );
    assert_eq!(erase(&s, "triage", 10).await, one(VT, "t-reg-old"));
    assert_eq!(erase(&s, "zorgmelding", 10).await, one(POLICE, "z-reg-old"));
    // The melding's stages lose their subjects and professional; the planned review is never told.
    let st = s.melding_stages(VT, &v("z-reg-old")).await.unwrap();
    assert_eq!(
        (
            st[0].subjects.len(),
            st[0].professional.as_str(),
            st[0].review_state
        ),
        (0, "", Some(ReviewState::Erased))
    );
    // It leaves Veilig Thuis's overview of its meldingen; the newer one stays.
    let overview: Vec<String> = s
        .meldingen_of(VT, None, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.melding.as_str().to_owned())
        .collect();
    assert!(
        !overview.iter().any(|m| m == "z-reg-old") && overview.iter().any(|m| m == "z-reg-new"),
        "{overview:?}"
    );
    assert_eq!(erase(&s, "information_request", 10).await, one(VT, "q-old"));
    let q = s
        .get_information_request(VT, "q-old")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (q.question, q.subjects.len(), q.case_reference.as_str()),
        (None, 0, "")
    );
    assert!(
        s.get_information_request(VT, "q-new")
            .await
            .unwrap()
            .unwrap()
            .question
            .is_some()
    );
    assert_eq!(erase(&s, "handover", 10).await, one(VT, "h-reg-old"));
    assert_eq!(erase(&s, "feedback", 10).await, one(VT, "fb-old"));
    let f = s.get_feedback(VT, "fb-old").await.unwrap().unwrap();
    assert_eq!((f.note, f.subjects.len()), (None, 0));
    assert!(
        s.get_feedback(VT, "fb-new")
            .await
            .unwrap()
            .unwrap()
            .note
            .is_some()
    );
    assert_eq!(erase(&s, "maatregel", 10).await, one(GI, "m-old"));
    assert_eq!(erase(&s, "involvement", 10).await, one(HUISARTS, "i-old"));
    assert_eq!(erase(&s, "safety_plan", 10).await, one(SCHOOL, "k-i-b:1"));
    let cursor = s.notifications_after(GI, 0, 10).await.unwrap()[0].cursor;
    assert_eq!(
        erase(&s, "notification", 10).await,
        one(GI, &cursor.to_string())
    );
    for t in TARGETS {
        assert_eq!(s.expired_count(t, NOW).await.unwrap(), 0, "{}", t.kind);
        assert!(
            s.erase_expired(t, NOW, 10, |_| panic!("nothing left"))
                .await
                .unwrap()
                .is_empty()
        );
    }
    s.purge_erased().await.unwrap();

    // What stays of each, and what no longer shows.
    let sg = s.get_signal(SCHOOL, "s-old").await.unwrap().unwrap();
    assert_eq!(
        (
            sg.envelope,
            sg.subjects,
            sg.facts,
            sg.basis,
            sg.sender_professional,
            sg.inform_exemption
        ),
        (
            None,
            vec![],
            Facts::default(),
            Default::default(),
            String::new(),
            None
        )
    );
    assert_eq!(sg.request_hash, vec![1; 32]);
    let d = s.deliveries_of(SCHOOL, "s-old").await.unwrap();
    assert_eq!(
        d.iter()
            .map(|d| (d.state, d.updated_at))
            .collect::<Vec<_>>(),
        vec![
            (DeliveryState::Withheld, NOW),
            (DeliveryState::Delivered, T0 + 1)
        ]
    );
    assert_eq!(d[0].reasons[0].code, "RETENTION_EXPIRED");
    let inbox = |oin: &'static str| {
        let s = s.clone();
        async move {
            s.inbox(oin, 0, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.signal.signal_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(inbox(VT).await, vec!["s-new"]);
    assert_eq!(inbox(WIJKTEAM).await, vec!["s-new"]);
    // A retry of an erased signal is still recognised by its request hash.
    let again = sig("s-old", OLD);
    let ds = vec![to(WIJKTEAM, &[])];
    assert!(matches!(
        s.insert_signal(&again, &ds, &sent_entries(&again, &ds))
            .await
            .unwrap(),
        Submitted::Duplicate(_)
    ));

    let c = s.get_consents(&[v("c-old")]).await.unwrap().pop().unwrap();
    assert_eq!(
        (
            c.givers,
            c.evidence_reference,
            c.facts,
            c.recorded_by,
            c.subject
        ),
        (vec![], None, Facts::default(), String::new(), pseud(1))
    );

    let f = s.get_fragment(POLICE, "f-reg-old").await.unwrap().unwrap();
    assert_eq!(
        (f.envelope, f.subjects, f.basis, f.author_professional),
        (None, vec![], Default::default(), String::new())
    );
    assert_eq!(s.latest_triage(&v("z-reg-old")).await.unwrap(), None);
    let t = s.get_triage("t-reg-old").await.unwrap().unwrap();
    assert_eq!(
        (t.answers, t.case_reference, t.professional),
        (Default::default(), String::new(), String::new())
    );
    assert_eq!(
        s.latest_triage(&v("z-reg-new"))
            .await
            .unwrap()
            .unwrap()
            .triage_id,
        "t-reg-new"
    );
    let m = s.get_zorgmelding("z-reg-old").await.unwrap().unwrap();
    assert!(m.subjects.is_empty());
    assert_eq!(
        s.zorgmeldingen_after(VT, 0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.zorgmelding_id)
            .collect::<Vec<_>>(),
        vec!["z-reg-new"]
    );
    assert_eq!(s.zorgmeldingen_about(VT, &[ps(2)]).await.unwrap().len(), 1);
    assert_eq!(
        s.melding_subjects_for_recipient(VT).await.unwrap(),
        vec![ps(2)]
    );
    assert_eq!(
        s.family_declined(&v("z-reg-old"))
            .await
            .unwrap()
            .unwrap()
            .declined_by,
        ""
    );
    let late = fragment("f-late", 1, &[ps(2)], NOW);
    assert_eq!(
        s.submit_fragment(&melding_key("reg-old"), "z-x", &late, |m| {
            entry(POLICE, Event::ZorgmeldingFragmentSent, NOW).reference(m)
        })
        .await
        .unwrap()
        .unwrap_err(),
        FragmentRefusal::Erased
    );

    let h = s.get_handover(VT, "h-reg-old").await.unwrap().unwrap();
    assert_eq!(
        (h.subjects, h.letter, h.state, h.sender_professional),
        (
            vec![],
            String::new(),
            HandoverState::Withheld,
            String::new()
        )
    );
    assert!(
        s.handover_envelopes(VT, "h-reg-old")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.list_handovers(VT, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.handover_id)
            .collect::<Vec<_>>(),
        vec!["h-reg-new"]
    );

    let zero = SubjectPseudonym::from_stored(&"0".repeat(64)).unwrap();
    let m = s.get_maatregel("m-old").await.unwrap().unwrap();
    assert_eq!(
        (m.subject, m.contact_point, m.registered_by),
        (zero.clone(), String::new(), String::new())
    );
    assert_eq!(
        s.maatregelen_of(&[pseud(3)])
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        vec!["m-new"]
    );
    assert_eq!(
        not_found(
            s.end_maatregel(
                "m-old",
                GI,
                NOW,
                LATER,
                None,
                &entry(GI, Event::MaatregelEnded, NOW),
                &[],
            )
            .await
        ),
        rec("maatregel", "m-old")
    );

    let i = s.get_involvement("i-old").await.unwrap().unwrap();
    assert_eq!(
        (i.subject, i.contact_professional, i.basis, i.facts),
        (zero, String::new(), Default::default(), Facts::default())
    );
    assert!(
        s.get_involvement("i-live")
            .await
            .unwrap()
            .unwrap()
            .ended_at
            .is_none()
    );

    let p1 = s.get_plan("k-i-b", 1).await.unwrap().unwrap();
    assert_eq!(
        (p1.envelope, p1.author_professional),
        (vec![], String::new())
    );
    assert_eq!(p1.confirmations.len(), 1);
    assert_eq!(
        s.get_plan("k-i-b", 2).await.unwrap().unwrap().envelope,
        vec![1; 20]
    );

    let left = s.notifications_after(GI, 0, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].cursor > cursor);
}

// ---- pseudonym key versions ------------------------------------------------------------

async fn the_rekey_moves_every_pseudonym_forward(s: Store) {
    let (k1, k2, k3) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    let one = Pseudonymizer::new(&k1).unwrap();
    let two = Pseudonymizer::ring(&[&k1, &k2]).unwrap();
    let wrong = Pseudonymizer::ring(&[&k1, &k3]).unwrap();
    let bsn: Bsn = "111222333".parse().unwrap();
    assert_eq!(
        s.pseudonym_state().await.unwrap(),
        PseudonymState {
            version: 1,
            floor: 1
        }
    );
    assert_eq!(
        s.open_pseudonym_ring(&one).await.unwrap(),
        PseudonymState {
            version: 1,
            floor: 1
        }
    );
    // Again: the same ring fits.
    s.open_pseudonym_ring(&one).await.unwrap();
    let old = one.pseudonym(&bsn);
    let all = two.subject(&bsn);
    let new = all.current().clone();
    assert_ne!(old, new);
    assert_eq!(all.all()[0], old);

    // Everything that holds a subject pseudonym, stored under version 1.
    let oldstr = old.as_str().to_owned();
    s.insert_consent(
        &consent("c1", &old, T0),
        &entry(SCHOOL, Event::ConsentRecorded, T0).subjects([oldstr.clone()]),
    )
    .await
    .unwrap();
    s.insert_maatregel(
        &maatregel("m1", &old, T0),
        &entry(GI, Event::MaatregelRegistered, T0).subjects([oldstr.clone()]),
    )
    .await
    .unwrap();
    register(&s, "i1", SCHOOL, &old).await;
    s.confirm_involvement(
        "cf-1",
        &old,
        HUISARTS,
        SCHOOL,
        T0,
        T0 + DAY,
        &entry(SCHOOL, Event::InvolvementConfirmed, T0),
    )
    .await
    .unwrap();
    let sg = signal("s1", 1, std::slice::from_ref(&oldstr), T0);
    s.insert_signal(
        &sg,
        &[],
        &[entry(SCHOOL, Event::SignalSent, T0).subjects([oldstr.clone()])],
    )
    .await
    .unwrap();
    s.submit_fragment(
        &melding_key("reg-1"),
        "z1",
        &fragment("f1", 1, std::slice::from_ref(&oldstr), T0),
        |m| entry(POLICE, Event::ZorgmeldingFragmentSent, T0).reference(m),
    )
    .await
    .unwrap()
    .unwrap();
    s.insert_handover(
        &handover("h1", 1, "z1", std::slice::from_ref(&oldstr), T0),
        &[],
        &[],
    )
    .await
    .unwrap();
    // A delivery: what the wijkteam received about the person, and for which purpose.
    s.append_log(&[entry(SCHOOL, Event::SignalDelivered, T0)
        .subjects([oldstr.clone()])
        .recipient(WIJKTEAM)
        .about("passende_hulp", ["school"])])
        .await
        .unwrap();
    // A record written under version 2 while version 1 remains names its person's older form
    // too (kept once), found by index until the floor is raised.
    let newstr = new.as_str().to_owned();
    let pair = (newstr.clone(), oldstr.clone(), 1);
    s.remember_older_forms(&[pair.clone(), pair]).await.unwrap();
    s.remember_older_forms(&[]).await.unwrap();
    assert_eq!(s.older_forms(&newstr).await.unwrap(), vec![oldstr.clone()]);
    assert!(s.older_forms(&oldstr).await.unwrap().is_empty());
    assert_eq!(
        s.melding_subjects_for_recipient(VT).await.unwrap(),
        vec![oldstr.clone()]
    );
    assert_eq!(
        s.log_subjects_for_org(SCHOOL).await.unwrap(),
        vec![oldstr.clone()]
    );
    assert_eq!(
        s.log_subjects_for_org(HUISARTS).await.unwrap(),
        Vec::<String>::new()
    );

    // A subject reference's registration (its pseudonym) is a subject pseudonym too.
    let reference = Bsn::new_reference().unwrap();
    let ref_old = one.pseudonym(&reference);
    s.insert_subject_reference(
        ref_old.as_str(),
        GI,
        &entry(GI, Event::SubjectReferenceIssued, T0).subjects([ref_old.as_str().to_owned()]),
    )
    .await
    .unwrap();

    // A newer ring becomes the write version; a wrong key or an older ring is refused.
    assert_eq!(
        s.open_pseudonym_ring(&two).await.unwrap(),
        PseudonymState {
            version: 2,
            floor: 1
        }
    );
    assert!(matches!(
        s.open_pseudonym_ring(&wrong).await,
        Err(RingError::Mismatch(RingMismatch::WrongKey { version: 2 }))
    ));
    assert!(matches!(
        s.open_pseudonym_ring(&one).await,
        Err(RingError::Mismatch(RingMismatch::StoreAhead {
            store: 2,
            configured: 1
        }))
    ));
    assert_eq!(
        s.pseudonym_state().await.unwrap(),
        PseudonymState {
            version: 2,
            floor: 1
        }
    );

    let behind = s.pseudonyms_behind(2).await.unwrap();
    let per: Vec<(&str, u64)> = behind.tables.clone();
    assert_eq!(
        per,
        vec![
            ("consents", 1),
            ("maatregelen", 1),
            ("involvements", 1),
            ("involvement_confirmations", 1),
            ("involvement_persons", 1),
            ("zorgmelding_subjects", 1),
            ("log_subject_index", 5),
            ("log_received_purposes", 1),
            ("signals", 1),
            ("zorgmelding_fragments", 1),
            ("zorgmeldingen", 1),
            ("handovers", 1),
            ("melding_feedback", 0),
            ("melding_stages", 0),
            ("information_requests", 0),
            ("subject_references", 1),
        ]
    );
    assert_eq!(behind.total(), 17);
    // Nothing is behind version 1 while everything is stored under it.
    assert_eq!(s.pseudonyms_behind(1).await.unwrap().total(), 0);

    // One pass, two rows per transaction, reporting after every batch.
    let mut reports: Vec<TableProgress> = Vec::new();
    let done = s
        .rekey_pass(&two, 2, &mut |p: &TableProgress| reports.push(p.clone()))
        .await
        .unwrap();
    assert_eq!(
        done.iter()
            .map(|p| (p.table, p.moved, p.left))
            .collect::<Vec<_>>(),
        per.iter().map(|(t, n)| (*t, *n, 0)).collect::<Vec<_>>()
    );
    // log_subject_index: 5 rows in batches of 2 -> two full batches and a last one.
    assert_eq!(
        reports
            .iter()
            .filter(|p| p.table == "log_subject_index")
            .count(),
        3
    );
    assert_eq!(s.pseudonyms_behind(2).await.unwrap().total(), 0);
    assert_eq!(s.pseudonyms_behind(1).await.unwrap().tables, per);
    // Found by the new pseudonym now.
    assert_eq!(
        s.list_consents(std::slice::from_ref(&new))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.list_consents(std::slice::from_ref(&old))
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        s.maatregelen_of(std::slice::from_ref(&new))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.is_involvement_confirmed(HUISARTS, std::slice::from_ref(&new), T0)
            .await
            .unwrap()
    );
    assert!(
        s.is_involved(SCHOOL, std::slice::from_ref(&new), T0)
            .await
            .unwrap()
    );
    assert_eq!(
        s.log_entries_for_subject(std::slice::from_ref(&new), None)
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        s.received_purposes(std::slice::from_ref(&new), WIJKTEAM)
            .await
            .unwrap(),
        vec!["passende_hulp".to_owned()]
    );
    assert!(
        s.received_purposes(std::slice::from_ref(&old), WIJKTEAM)
            .await
            .unwrap()
            .is_empty()
    );
    let ref_new = two.pseudonym(&reference);
    assert_eq!(
        s.subject_reference(&[ref_new.as_str().to_owned()])
            .await
            .unwrap()
            .unwrap()
            .pseudonym,
        ref_new.as_str()
    );
    assert!(
        s.subject_reference(&[ref_old.as_str().to_owned()])
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.get_signal(SCHOOL, "s1").await.unwrap().unwrap().subjects,
        vec![new.as_str().to_owned()]
    );
    assert_eq!(
        s.melding_subjects_for_recipient(VT).await.unwrap(),
        vec![new.as_str().to_owned()]
    );
    assert_eq!(
        s.log_subjects_for_org(SCHOOL).await.unwrap(),
        vec![new.as_str().to_owned()]
    );
    // A second pass finds nothing; then the floor is raised, once.
    let again = s
        .rekey_pass(&two, 2, &mut |_: &TableProgress| {})
        .await
        .unwrap();
    assert!(again.iter().all(|p| p.moved == 0 && p.left == 0));
    assert!(!s.raise_pseudonym_floor(3).await.unwrap());
    assert_eq!(
        s.older_forms(new.as_str()).await.unwrap().len(),
        1,
        "kept while the floor is not raised"
    );
    assert!(s.raise_pseudonym_floor(2).await.unwrap());
    assert!(!s.raise_pseudonym_floor(2).await.unwrap());
    assert!(
        s.older_forms(new.as_str()).await.unwrap().is_empty(),
        "older forms go with the floor"
    );
    assert_eq!(
        s.pseudonym_state().await.unwrap(),
        PseudonymState {
            version: 2,
            floor: 2
        }
    );
}

// ---- subjects without a BSN ------------------------------------------------------------

async fn a_subject_reference_is_registered_and_merged_into_a_bsn_once(s: Store) {
    let ring = Pseudonymizer::ring(&[&[1u8; 32], &[2u8; 32]]).unwrap();
    s.open_pseudonym_ring(&ring).await.unwrap();
    let bsn: Bsn = "111222333".parse().unwrap();
    let reference = Bsn::new_reference().unwrap();
    let (rk, bk) = (ring.subject(&reference), ring.subject(&bsn));
    let forms = |k: &signaalhub_server::ids::SubjectKey| -> Vec<String> {
        k.all().iter().map(|p| p.as_str().to_owned()).collect()
    };
    let issued = s
        .insert_subject_reference(
            rk.as_str(),
            SCHOOL,
            &entry(SCHOOL, Event::SubjectReferenceIssued, T0).subjects([rk.as_str().to_owned()]),
        )
        .await
        .unwrap();
    assert_eq!(issued.org_oin, SCHOOL);
    assert_eq!((issued.issued_at, issued.merged_at), (T0, None));
    // Registered once.
    assert!(matches!(
        s.insert_subject_reference(
            rk.as_str(),
            SCHOOL,
            &entry(SCHOOL, Event::SubjectReferenceIssued, T0)
        )
        .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.subject_reference(&forms(&rk)).await.unwrap(),
        Some(issued)
    );
    assert_eq!(s.subject_reference(&forms(&bk)).await.unwrap(), None);

    // Records under the reference: a consent under the current version, a signal under an
    // older one (a partly re-keyed store), an involvement; and one already under the BSN.
    let cur = rk.as_str().to_owned();
    s.insert_consent(
        &consent("c-ref", rk.current(), T0),
        &entry(SCHOOL, Event::ConsentRecorded, T0).subjects([cur.clone()]),
    )
    .await
    .unwrap();
    let v1 = rk.all()[0].as_str().to_owned();
    s.insert_signal(
        &signal("s-ref", 1, &[v1.clone(), "ab".repeat(32)], T0),
        &[],
        &[entry(SCHOOL, Event::SignalSent, T0).subjects([v1.clone()])],
    )
    .await
    .unwrap();
    register(&s, "i-ref", SCHOOL, rk.current()).await;
    s.append_log(&[entry(SCHOOL, Event::SignalDelivered, T0)
        .subjects([cur.clone()])
        .recipient(WIJKTEAM)
        .about("passende_hulp", ["school"])])
        .await
        .unwrap();
    s.insert_consent(
        &consent("c-bsn", bk.current(), T0),
        &entry(SCHOOL, Event::ConsentRecorded, T0).subjects([bk.as_str().to_owned()]),
    )
    .await
    .unwrap();

    let pairs: Vec<(String, String)> = forms(&rk).into_iter().zip(forms(&bk)).collect();
    let merged = |org: &'static str| {
        entry(org, Event::SubjectMerged, T0 + 1)
            .subjects([rk.as_str().to_owned(), bk.as_str().to_owned()])
    };
    // Only the organisation it was issued to.
    assert!(matches!(
        s.merge_subject_forms(&pairs, &forms(&rk), HUISARTS, &merged(HUISARTS))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(s.list_consents(bk.all()).await.unwrap().len(), 1);
    let (moved, idx) = s
        .merge_subject_forms(&pairs, &forms(&rk), SCHOOL, &merged(SCHOOL))
        .await
        .unwrap();
    // consent, involvement, involvement person, signal, and the three index rows.
    assert!(moved >= 7, "{moved}");
    assert!(idx > 0);
    let reg = s.subject_reference(&forms(&rk)).await.unwrap().unwrap();
    assert_eq!(reg.merged_at, Some(T0 + 1));
    assert_eq!(
        reg.pseudonym,
        rk.as_str(),
        "the registration stays the reference's"
    );
    // Once.
    assert!(matches!(
        s.merge_subject_forms(&pairs, &forms(&rk), SCHOOL, &merged(SCHOOL))
            .await,
        Err(StoreError::Conflict(_))
    ));

    // Everything is the BSN's now, each in its own key version.
    let consents = s.list_consents(bk.all()).await.unwrap();
    assert_eq!(consents.len(), 2);
    assert!(s.list_consents(rk.all()).await.unwrap().is_empty());
    assert_eq!(
        s.get_signal(SCHOOL, "s-ref")
            .await
            .unwrap()
            .unwrap()
            .subjects,
        vec![bk.all()[0].as_str().to_owned(), "ab".repeat(32)]
    );
    assert!(s.is_involved(SCHOOL, bk.all(), T0).await.unwrap());
    assert!(!s.is_involved(SCHOOL, rk.all(), T0).await.unwrap());
    assert_eq!(
        s.received_purposes(bk.all(), WIJKTEAM).await.unwrap(),
        vec!["passende_hulp".to_owned()]
    );
    assert!(
        s.received_purposes(rk.all(), WIJKTEAM)
            .await
            .unwrap()
            .is_empty()
    );
    let events = |v: Vec<signaalhub_server::ledger::StoredEntry>| -> Vec<Event> {
        v.into_iter().map(|e| e.entry.unwrap().event).collect()
    };
    let by_bsn = events(s.log_entries_for_subject(bk.all(), None).await.unwrap());
    for ev in [
        Event::SubjectReferenceIssued,
        Event::ConsentRecorded,
        Event::SignalSent,
        Event::SubjectMerged,
    ] {
        assert!(by_bsn.contains(&ev), "{ev:?} in {by_bsn:?}");
    }
    // The reference's own report shows only that it was merged.
    assert_eq!(
        events(s.log_entries_for_subject(rk.all(), None).await.unwrap()),
        vec![Event::SubjectMerged]
    );
}
