//! Store conformance, part 2: consents, signals and their deliveries, and the disclosure log
//! (sequencing, reads, integration steps). Every test runs on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod conformance;

use conformance::*;
use signaalhub_proto::merkle::{self, MemoryTiles, TileId};
use signaalhub_server::domain::consent::Consent;
use signaalhub_server::domain::involvement::NotificationKind;
use signaalhub_server::domain::signal::{DeliveryState, StoredReason, Urgency};
use signaalhub_server::ids::Purpose;
use signaalhub_server::ledger::{Event, PendingEntry};
use signaalhub_server::store::signal::{DeliveryVerdict, Submitted};
use signaalhub_server::store::{Store, StoreError};
use std::sync::Arc;

conformance!(
    consents_round_trip_in_order,
    append_log_sequences_in_order,
    withdrawing_a_consent_holds_back_what_relies_on_it,
    a_signal_is_stored_once_and_a_retry_is_recognised,
    a_group_commit_keeps_each_members_outcome,
    the_inbox_pages_in_cursor_order,
    delivery_decides_once_on_the_consents_as_they_stand,
    acknowledging_needs_a_delivered_signal,
    withdrawing_a_signal_recalls_what_is_still_pending,
    the_inbox_listener_wakes_on_new_acts,
    log_reads_by_subject_and_by_organisation,
    received_purposes_are_indexed_by_person_and_recipient,
    integration_steps_are_compare_and_set,
    log_verifications_are_recorded_per_kind,
);
conformance!(database: an_older_log_gets_its_received_purposes_from_the_migration);

fn recorded(c: &Consent) -> PendingEntry {
    entry(SCHOOL, Event::ConsentRecorded, c.recorded_at)
        .subjects([c.subject.as_str()])
        .reference(c.id.clone())
}

fn withheld(recipient: &str, sender: &str, signal_id: &str) -> PendingEntry {
    entry(sender, Event::SignalWithheld, T0 + 100)
        .recipient(recipient)
        .reference(signal_id)
}

/// Stores signal `id` of the school to `recipients` (each relying on `consents`); returns its
/// deliveries.
async fn send(
    s: &Store,
    id: &str,
    at: i64,
    recipients: &[&str],
    consents: &[&str],
) -> Vec<signaalhub_server::domain::signal::Delivery> {
    let sig = signal(id, 1, &[ps(1)], at);
    let ds: Vec<_> = recipients.iter().map(|r| to(r, consents)).collect();
    match s
        .insert_signal(&sig, &ds, &sent_entries(&sig, &ds))
        .await
        .unwrap()
    {
        Submitted::New(d) => d,
        other => panic!("{id}: {other:?}"),
    }
}

fn delivered(recipient: &str, id: &str) -> PendingEntry {
    entry(recipient, Event::SignalDelivered, T0 + 50).reference(id)
}

fn states(
    deliveries: &[signaalhub_server::domain::signal::Delivery],
) -> Vec<(&str, DeliveryState)> {
    deliveries
        .iter()
        .map(|d| (d.recipient_oin.as_str(), d.state))
        .collect()
}

async fn consents_round_trip_in_order(s: Store) {
    let (a, a2) = (pseud(1), pseud(2));
    let c1 = consent("c1", &a, T0);
    let c2 = consent("c2", &a, T0 + 10);
    let mut c3 = consent("c3", &a2, T0 + 10);
    c3.evidence_reference = None;
    c3.withdrawn_at = Some(T0 + 20);
    c3.withdrawn_by = Some("ouder-2".into());
    let other = consent("c9", &pseud(9), T0 + 20);
    for c in [&c1, &c2, &c3, &other] {
        s.insert_consent(c, &recorded(c)).await.unwrap();
    }
    assert_eq!(s.log_size().await.unwrap(), 4);
    // By id, in the order asked; unknown ids are left out.
    assert_eq!(
        s.get_consents(&[cid("c2"), cid("nope"), cid("c1")])
            .await
            .unwrap(),
        vec![c2.clone(), c1.clone()]
    );
    assert_eq!(s.get_consents(&[]).await.unwrap(), vec![]);
    // Newest first, then by id, under any of the pseudonyms given.
    assert_eq!(
        s.list_consents(&[a.clone(), a2.clone()]).await.unwrap(),
        vec![c2.clone(), c3.clone(), c1.clone()]
    );
    assert_eq!(s.list_consents(&[a2]).await.unwrap(), vec![c3]);
    assert_eq!(s.list_consents(&[]).await.unwrap(), vec![]);
    // The same id again is refused by the database, and its entry is not logged.
    let again = s.insert_consent(&c1, &recorded(&c1)).await;
    match &again {
        Err(e @ StoreError::Unavailable(_)) => assert!(!e.is_outage(), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.log_size().await.unwrap(), 4);
}

async fn append_log_sequences_in_order(s: Store) {
    assert_eq!(s.log_size().await.unwrap(), 0);
    let e = |n: i64| entry(SCHOOL, Event::ConsentsListed, T0 + n);
    assert_eq!(s.append_log(&[e(1), e(2)]).await.unwrap(), 0);
    assert_eq!(s.append_log(&[e(3)]).await.unwrap(), 2);
    // Nothing to log: the next index, and nothing changes.
    assert_eq!(s.append_log(&[]).await.unwrap(), 3);
    assert_eq!(s.log_size().await.unwrap(), 3);
    let range = s.log_range(0, 10).await.unwrap();
    assert_eq!(
        range,
        (0..3u64)
            .map(|i| (i, e(i as i64 + 1).entry.to_bytes()))
            .collect::<Vec<_>>()
    );
    assert_eq!(s.log_range(1, 2).await.unwrap(), vec![range[1].clone()]);
    assert_eq!(s.log_range(5, 9).await.unwrap(), vec![]);
}

async fn withdrawing_a_consent_holds_back_what_relies_on_it(s: Store) {
    let a = pseud(1);
    for c in [consent("c1", &a, T0), consent("c2", &a, T0)] {
        s.insert_consent(&c, &recorded(&c)).await.unwrap();
    }
    send(&s, "s1", T0 + 1, &[WIJKTEAM, VT], &["c1"]).await;
    send(&s, "s2", T0 + 2, &[WIJKTEAM], &["c2"]).await;
    send(&s, "s3", T0 + 3, &[HUISARTS], &["c1"]).await;
    // Delivered already: stays delivered.
    assert_eq!(
        s.deliver(HUISARTS, SCHOOL, "s3", &[cid("c1")], |_| {
            DeliveryVerdict::Deliver(delivered(HUISARTS, "s3"))
        })
        .await
        .unwrap(),
        DeliveryState::Delivered
    );
    let size = s.log_size().await.unwrap();
    let told = std::cell::RefCell::new(Vec::new());
    let (c, held) = s
        .withdraw_consent(
            &cid("c1"),
            "ouder-1",
            T0 + 100,
            &entry(SCHOOL, Event::ConsentWithdrawn, T0 + 100).reference("c1"),
            |r, snd, sig| {
                told.borrow_mut()
                    .push((r.to_owned(), snd.to_owned(), sig.to_owned()));
                withheld(r, snd, sig)
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (c.withdrawn_at, c.withdrawn_by.as_deref()),
        (Some(T0 + 100), Some("ouder-1"))
    );
    assert_eq!(held, 2);
    assert_eq!(
        told.into_inner(),
        vec![
            (WIJKTEAM.to_owned(), SCHOOL.to_owned(), "s1".to_owned()),
            (VT.to_owned(), SCHOOL.to_owned(), "s1".to_owned()),
        ]
    );
    assert_eq!(s.log_size().await.unwrap(), size + 3);
    let d1 = s.deliveries_of(SCHOOL, "s1").await.unwrap();
    assert_eq!(
        states(&d1),
        vec![
            (WIJKTEAM, DeliveryState::Withheld),
            (VT, DeliveryState::Withheld)
        ]
    );
    assert_eq!(d1[0].reasons[0].code, "CONSENT_WITHDRAWN");
    assert_eq!(d1[0].updated_at, T0 + 100);
    assert_eq!(
        states(&s.deliveries_of(SCHOOL, "s2").await.unwrap()),
        vec![(WIJKTEAM, DeliveryState::Pending)]
    );
    assert_eq!(
        states(&s.deliveries_of(SCHOOL, "s3").await.unwrap()),
        vec![(HUISARTS, DeliveryState::Delivered)]
    );
    assert_eq!(s.get_consents(&[cid("c1")]).await.unwrap(), vec![c]);
    // Again: a conflict, nothing logged; an unknown consent: not found.
    let e = entry(SCHOOL, Event::ConsentWithdrawn, T0 + 200);
    assert_eq!(
        conflict(
            s.withdraw_consent(&cid("c1"), "x", T0 + 200, &e, withheld)
                .await
        ),
        in_state("consent", "c1", "withdrawn")
    );
    assert_eq!(
        not_found(
            s.withdraw_consent(&cid("nope"), "x", T0 + 200, &e, withheld)
                .await
        ),
        rec("consent", "nope")
    );
    assert_eq!(s.log_size().await.unwrap(), size + 3);
}

async fn a_signal_is_stored_once_and_a_retry_is_recognised(s: Store) {
    let sig = signal("s1", 1, &[ps(1), ps(2)], T0);
    // Given out of order: deliveries come back by recipient, each cursor one past its entry.
    let ds = vec![to(VT, &[]), to(WIJKTEAM, &["c1", "c2"])];
    let es = sent_entries(&sig, &ds);
    s.append_log(&[entry(SCHOOL, Event::ConsentsListed, T0)])
        .await
        .unwrap();
    let Submitted::New(d) = s.insert_signal(&sig, &ds, &es).await.unwrap() else {
        panic!("not new")
    };
    assert_eq!(
        d.iter()
            .map(|d| (
                d.recipient_oin.as_str(),
                d.cursor,
                d.state,
                d.consent_ids.len()
            ))
            .collect::<Vec<_>>(),
        vec![
            (WIJKTEAM, 3, DeliveryState::Pending, 2),
            (VT, 2, DeliveryState::Pending, 0)
        ]
    );
    assert!(
        d.iter()
            .all(|d| d.sender_oin == SCHOOL && d.signal_id == "s1" && d.updated_at == T0)
    );
    assert_eq!(s.deliveries_of(SCHOOL, "s1").await.unwrap(), d);
    let log = s.log_range(1, 3).await.unwrap();
    assert_eq!(log[0].1, es[0].entry.to_bytes());
    assert_eq!(log[1].1, es[1].entry.to_bytes());
    // The retry: the deliveries as they stand, nothing logged again.
    match s.insert_signal(&sig, &ds, &es).await.unwrap() {
        Submitted::Duplicate(again) => assert_eq!(again, d),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.log_size().await.unwrap(), 3);
    // The same id with other content.
    assert_eq!(
        conflict(
            s.insert_signal(&signal("s1", 2, &[ps(1)], T0), &ds, &es)
                .await
        ),
        taken("signal", "s1")
    );
    assert_eq!(s.log_size().await.unwrap(), 3);
    // Every field comes back as stored, including the empty and absent ones.
    assert_same(&s.get_signal(SCHOOL, "s1").await.unwrap().unwrap(), &sig);
    let mut bare = signal("s2", 3, &[], T0 + 1);
    bare.envelope = None;
    bare.urgency = Urgency::Unspecified;
    bare.basis = Default::default();
    bare.facts = Default::default();
    bare.categories = Vec::new();
    bare.received_for = vec![
        Purpose::known("vroegtijdige_ondersteuning"),
        Purpose::known("zorgmelding"),
    ];
    bare.inform_exemption = None;
    assert!(matches!(
        s.insert_signal(&bare, &[], &[]).await.unwrap(),
        Submitted::New(d) if d.is_empty()
    ));
    assert_same(&s.get_signal(SCHOOL, "s2").await.unwrap().unwrap(), &bare);
    assert!(s.get_signal(SCHOOL, "nope").await.unwrap().is_none());
    assert!(s.get_signal(WIJKTEAM, "s1").await.unwrap().is_none());
    assert_eq!(s.deliveries_of(SCHOOL, "nope").await.unwrap(), vec![]);
}

async fn a_group_commit_keeps_each_members_outcome(s: Store) {
    send(&s, "s1", T0, &[WIJKTEAM], &[]).await;
    let a = signal("a", 1, &[ps(1)], T0 + 1);
    let s1_again = signal("s1", 1, &[ps(1)], T0);
    let s1_other = signal("s1", 9, &[ps(1)], T0);
    let b = signal("b", 1, &[ps(2)], T0 + 2);
    let c = signal("c", 1, &[ps(3)], T0 + 3);
    let c_other = signal("c", 2, &[ps(3)], T0 + 3);
    let ds_w = vec![to(WIJKTEAM, &[])];
    let ds_wv = vec![to(WIJKTEAM, &[]), to(VT, &["c1"])];
    let members = [
        (&a, &ds_wv),
        (&s1_again, &ds_w),
        (&s1_other, &ds_w),
        (&b, &ds_w),
        (&b, &ds_w),
        (&c, &ds_w),
        (&c_other, &ds_w),
    ];
    let entries: Vec<Vec<PendingEntry>> = members.iter().map(|(s, d)| sent_entries(s, d)).collect();
    let batch: Vec<_> = members
        .iter()
        .zip(&entries)
        .map(|((s, d), e)| (*s, d.as_slice(), e.as_slice()))
        .collect();
    let size = s.log_size().await.unwrap();
    let out = s.insert_signals(&batch).await.unwrap();
    let shape: Vec<String> = out
        .iter()
        .map(|o| match o {
            Ok(Submitted::New(d)) => format!(
                "new {}",
                d.iter()
                    .map(|d| d.cursor.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Ok(Submitted::Duplicate(d)) => format!("duplicate {}", d.len()),
            Err(e) => format!("{e}"),
        })
        .collect();
    // New members' entries are sequenced in the group's order.
    let n = size;
    assert_eq!(
        shape,
        vec![
            format!("new {},{}", n + 1, n + 2),
            "duplicate 1".to_owned(),
            "signal s1 already exists".to_owned(),
            format!("new {}", n + 3),
            "duplicate 1".to_owned(),
            format!("new {}", n + 4),
            "signal c already exists".to_owned(),
        ]
    );
    assert!(matches!(&out[2], Err(StoreError::Conflict(c)) if *c == taken("signal", "s1")));
    assert_eq!(s.log_size().await.unwrap(), size + 4);
    assert_eq!(
        s.get_signal(SCHOOL, "c")
            .await
            .unwrap()
            .unwrap()
            .request_hash,
        vec![1; 32]
    );
    assert_eq!(s.insert_signals(&[]).await.unwrap().len(), 0);
}

async fn the_inbox_pages_in_cursor_order(s: Store) {
    send(&s, "s1", T0, &[WIJKTEAM, VT], &[]).await;
    send(&s, "s2", T0 + 1, &[WIJKTEAM], &[]).await;
    send(&s, "s3", T0 + 2, &[VT, WIJKTEAM], &[]).await;
    send(&s, "s4", T0 + 3, &[WIJKTEAM], &[]).await;
    let ids = |rows: &[signaalhub_server::store::signal::InboxRow]| {
        rows.iter()
            .map(|r| (r.signal.signal_id.to_string(), r.delivery.cursor))
            .collect::<Vec<_>>()
    };
    let all = s.inbox(WIJKTEAM, 0, 100).await.unwrap();
    assert_eq!(
        ids(&all),
        vec![
            ("s1".to_owned(), 1),
            ("s2".to_owned(), 3),
            ("s3".to_owned(), 5),
            ("s4".to_owned(), 6)
        ]
    );
    // Each row carries the whole signal and its delivery.
    assert_same(&all[0].signal, &signal("s1", 1, &[ps(1)], T0));
    assert_eq!(
        all[2].delivery,
        s.deliveries_of(SCHOOL, "s3").await.unwrap()[0]
    );
    let p1 = s.inbox(WIJKTEAM, 0, 2).await.unwrap();
    let p2 = s.inbox(WIJKTEAM, p1[1].delivery.cursor, 2).await.unwrap();
    let p3 = s.inbox(WIJKTEAM, p2[1].delivery.cursor, 2).await.unwrap();
    assert_eq!([ids(&p1), ids(&p2)].concat(), ids(&all));
    assert!(p3.is_empty());
    // A cursor beyond every index (even beyond i64) reads nothing, never from the start again.
    assert!(s.inbox(WIJKTEAM, 1 << 63, 100).await.unwrap().is_empty());
    assert!(s.inbox(WIJKTEAM, u64::MAX, 100).await.unwrap().is_empty());
    assert_eq!(ids(&s.inbox(VT, 0, 100).await.unwrap()).len(), 2);
    assert!(s.inbox(HUISARTS, 0, 100).await.unwrap().is_empty());
    // Delivered stays until acknowledged; withheld, acknowledged and withdrawn leave.
    let deliver = |id: &'static str, v: DeliveryVerdict| {
        let s = s.clone();
        async move { s.deliver(WIJKTEAM, SCHOOL, id, &[], |_| v).await.unwrap() }
    };
    assert_eq!(
        deliver("s1", DeliveryVerdict::Deliver(delivered(WIJKTEAM, "s1"))).await,
        DeliveryState::Delivered
    );
    assert_eq!(
        deliver(
            "s2",
            DeliveryVerdict::Withhold(Vec::new(), delivered(WIJKTEAM, "s2"))
        )
        .await,
        DeliveryState::Withheld
    );
    deliver("s3", DeliveryVerdict::Deliver(delivered(WIJKTEAM, "s3"))).await;
    s.acknowledge(WIJKTEAM, SCHOOL, "s3", T0 + 60)
        .await
        .unwrap();
    s.withdraw_signal(SCHOOL, "s4", |r| delivered(r, "s4"))
        .await
        .unwrap();
    assert_eq!(
        ids(&s.inbox(WIJKTEAM, 0, 100).await.unwrap()),
        vec![("s1".to_owned(), 1)]
    );
}

async fn delivery_decides_once_on_the_consents_as_they_stand(s: Store) {
    let a = pseud(1);
    for c in [consent("c1", &a, T0), consent("c2", &a, T0)] {
        s.insert_consent(&c, &recorded(&c)).await.unwrap();
    }
    send(&s, "s1", T0, &[WIJKTEAM, VT], &["c2", "c1"]).await;
    let size = s.log_size().await.unwrap();
    // The consents relied on, by id, each once, the unknown left out.
    let mut seen: Vec<String> = Vec::new();
    let state = s
        .deliver(
            WIJKTEAM,
            SCHOOL,
            "s1",
            &[cid("c2"), cid("c1"), cid("c2"), cid("zz")],
            |cs| {
                seen = cs.iter().map(|c| c.id.to_string()).collect();
                DeliveryVerdict::Deliver(delivered(WIJKTEAM, "s1"))
            },
        )
        .await
        .unwrap();
    assert_eq!(state, DeliveryState::Delivered);
    assert_eq!(seen, vec!["c1", "c2"]);
    assert_eq!(s.log_size().await.unwrap(), size + 1);
    // Not pending any more: answered as it is, without deciding or logging again.
    assert_eq!(
        s.deliver(WIJKTEAM, SCHOOL, "s1", &[], |_| panic!("decided twice"))
            .await
            .unwrap(),
        DeliveryState::Delivered
    );
    assert_eq!(s.log_size().await.unwrap(), size + 1);
    let reason = StoredReason {
        code: "NO_CONSENT".into(),
        rule: "floor:consent".into(),
        nl: "geen toestemming".into(),
        en: "no consent".into(),
    };
    let e = entry(VT, Event::SignalWithheld, T0 + 70);
    assert_eq!(
        s.deliver(VT, SCHOOL, "s1", &[], |_| {
            DeliveryVerdict::Withhold(vec![reason.clone()], e.clone())
        })
        .await
        .unwrap(),
        DeliveryState::Withheld
    );
    let d = s.deliveries_of(SCHOOL, "s1").await.unwrap();
    assert_eq!(
        states(&d),
        vec![
            (WIJKTEAM, DeliveryState::Delivered),
            (VT, DeliveryState::Withheld)
        ]
    );
    assert_eq!((d[0].reasons.clone(), d[0].updated_at), (vec![], T0 + 50));
    assert_eq!(
        (d[1].reasons.clone(), d[1].updated_at),
        (vec![reason], T0 + 70)
    );
    assert_eq!(
        not_found(
            s.deliver(HUISARTS, SCHOOL, "s1", &[], |_| panic!("no delivery"))
                .await
        ),
        rec("delivery of signal", "s1")
    );
    assert_eq!(s.log_size().await.unwrap(), size + 2);
}

async fn acknowledging_needs_a_delivered_signal(s: Store) {
    send(&s, "s1", T0, &[WIJKTEAM, VT], &[]).await;
    assert_eq!(
        conflict(s.acknowledge(WIJKTEAM, SCHOOL, "s1", T0 + 1).await),
        in_state("signal", "s1", "pending")
    );
    assert_eq!(
        not_found(s.acknowledge(HUISARTS, SCHOOL, "s1", T0 + 1).await),
        rec("signal", "s1")
    );
    assert_eq!(
        not_found(s.acknowledge(WIJKTEAM, SCHOOL, "nope", T0 + 1).await),
        rec("signal", "nope")
    );
    s.deliver(WIJKTEAM, SCHOOL, "s1", &[], |_| {
        DeliveryVerdict::Deliver(delivered(WIJKTEAM, "s1"))
    })
    .await
    .unwrap();
    s.deliver(VT, SCHOOL, "s1", &[], |_| {
        DeliveryVerdict::Withhold(Vec::new(), delivered(VT, "s1"))
    })
    .await
    .unwrap();
    s.acknowledge(WIJKTEAM, SCHOOL, "s1", T0 + 2).await.unwrap();
    // Acknowledging again is a retry, not an error.
    s.acknowledge(WIJKTEAM, SCHOOL, "s1", T0 + 3).await.unwrap();
    let d = s.deliveries_of(SCHOOL, "s1").await.unwrap();
    assert_eq!(
        (d[0].state, d[0].updated_at),
        (DeliveryState::Acknowledged, T0 + 3)
    );
    assert_eq!(
        conflict(s.acknowledge(VT, SCHOOL, "s1", T0 + 4).await),
        in_state("signal", "s1", "withheld")
    );
}

async fn withdrawing_a_signal_recalls_what_is_still_pending(s: Store) {
    send(&s, "s1", T0, &[WIJKTEAM, VT, HUISARTS], &[]).await;
    s.deliver(VT, SCHOOL, "s1", &[], |_| {
        DeliveryVerdict::Deliver(delivered(VT, "s1"))
    })
    .await
    .unwrap();
    let size = s.log_size().await.unwrap();
    let asked = std::cell::RefCell::new(Vec::new());
    let d = s
        .withdraw_signal(SCHOOL, "s1", |r| {
            asked.borrow_mut().push(r.to_owned());
            entry(SCHOOL, Event::SignalWithdrawn, T0 + 9).recipient(r)
        })
        .await
        .unwrap();
    assert_eq!(asked.into_inner(), vec![WIJKTEAM, HUISARTS]);
    assert_eq!(
        states(&d),
        vec![
            (WIJKTEAM, DeliveryState::Withdrawn),
            (VT, DeliveryState::Delivered),
            (HUISARTS, DeliveryState::Withdrawn)
        ]
    );
    assert_eq!(d[0].updated_at, T0 + 9);
    assert_eq!(s.log_size().await.unwrap(), size + 2);
    // Again, and for an unknown signal: nothing to recall, nothing logged.
    let again = s
        .withdraw_signal(SCHOOL, "s1", |_| panic!("nothing pending"))
        .await
        .unwrap();
    assert_eq!(again, d);
    assert_eq!(
        s.withdraw_signal(SCHOOL, "nope", |_| panic!("nothing pending"))
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(s.log_size().await.unwrap(), size + 2);
}

/// SQLite has one instance and no listener; on PostgreSQL every act that streams show
/// (signals, zorgmelding fragments, notifications) wakes the listeners of every instance.
async fn the_inbox_listener_wakes_on_new_acts(s: Store) {
    let wake = Arc::new(tokio::sync::Notify::new());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let listener = s.spawn_inbox_listener(Arc::clone(&wake), stopped);
    if s.backend() == "sqlite" {
        assert!(listener.is_none());
        return;
    }
    let listener = listener.expect("a listener on PostgreSQL");
    let mut n = 0;
    // The listener connects in the background: try until an act wakes it.
    let mut woken = |what: &'static str| {
        let s = s.clone();
        let wake = Arc::clone(&wake);
        n += 1;
        let n = n;
        async move {
            for i in 0..100 {
                let notified = wake.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                match what {
                    "signal" => {
                        send(&s, &format!("s{n}-{i}"), T0, &[WIJKTEAM], &[]).await;
                    }
                    "fragment" => {
                        s.submit_fragment(
                            &melding_key(&format!("reg-{n}-{i}")),
                            &format!("z{n}-{i}"),
                            &fragment(&format!("f{n}-{i}"), 1, &[ps(1)], T0),
                            |m| entry(POLICE, Event::ZorgmeldingFragmentSent, T0).reference(m),
                        )
                        .await
                        .unwrap()
                        .unwrap();
                    }
                    _ => {
                        s.log_with_notifications(&[(
                            entry(SCHOOL, Event::MaatregelQueried, T0),
                            Some(notification(GI, NotificationKind::MaatregelQueried, T0)),
                        )])
                        .await
                        .unwrap();
                    }
                }
                if tokio::time::timeout(std::time::Duration::from_millis(200), notified)
                    .await
                    .is_ok()
                {
                    return;
                }
            }
            panic!("{what}: the listener was never woken");
        }
    };
    woken("signal").await;
    woken("fragment").await;
    woken("notification").await;
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), listener)
        .await
        .expect("the listener stops when told")
        .unwrap();
}

// ---- the log ------------------------------------------------------------------------------

/// A log written before the received-purposes index (migration 0029) gets it from its entries
/// when the migration runs: the deliveries' persons (under the subject index's pseudonyms),
/// recipients and purposes, and nothing from other events.
async fn an_older_log_gets_its_received_purposes_from_the_migration(s: Store, database: String) {
    s.append_log(&[
        entry(SCHOOL, Event::SignalDelivered, T0)
            .subjects([ps(1), ps(2)])
            .recipient(WIJKTEAM)
            .about("a", ["school"]),
        entry(POLICE, Event::ZorgmeldingDelivered, T0)
            .subjects([ps(1)])
            .recipient(VT)
            .about("b", ["politie"]),
        entry(VT, Event::HandoverDelivered, T0)
            .subjects([ps(1)])
            .recipient(WIJKTEAM)
            .about("c", ["veilig_thuis"]),
        entry(SCHOOL, Event::SignalSent, T0)
            .subjects([ps(1)])
            .recipient(WIJKTEAM)
            .about("z", ["school"]),
    ])
    .await
    .unwrap();
    // As the store was before migration 0029.
    let undo = [
        "DROP TABLE log_received_purposes",
        "DELETE FROM _sqlx_migrations WHERE version = 29",
    ];
    for sql in undo {
        match &s {
            Store::Sqlite { write, .. } => {
                sqlx::query(sql).execute(write).await.unwrap();
            }
            Store::Postgres(pool) => {
                sqlx::query(sql).execute(pool).await.unwrap();
            }
        }
    }
    s.close().await;
    let s = Store::open(&database).await.unwrap();
    assert_eq!(
        s.received_purposes(&[ps(1)], WIJKTEAM).await.unwrap(),
        vec!["a", "c"]
    );
    assert_eq!(
        s.received_purposes(&[ps(2)], WIJKTEAM).await.unwrap(),
        vec!["a"]
    );
    assert_eq!(s.received_purposes(&[ps(1)], VT).await.unwrap(), vec!["b"]);
    assert!(
        s.received_purposes(&[ps(1)], SCHOOL)
            .await
            .unwrap()
            .is_empty()
    );
    s.close().await;
}

/// What an organisation received about a person, and for which purpose, is kept with the
/// delivery's entry: only `*_delivered` entries with a recipient and a purpose, each purpose once.
async fn received_purposes_are_indexed_by_person_and_recipient(s: Store) {
    let delivered = |event: Event, actor: &str, to: &str, subjects: &[String], purpose: &str| {
        entry(actor, event, T0)
            .subjects(subjects.to_vec())
            .recipient(to)
            .about(purpose, ["school"])
    };
    s.append_log(&[
        delivered(
            Event::SignalDelivered,
            SCHOOL,
            WIJKTEAM,
            &[ps(1), ps(2)],
            "a",
        ),
        // The same again, in one group: kept once.
        delivered(Event::SignalDelivered, SCHOOL, WIJKTEAM, &[ps(1)], "a"),
        delivered(Event::ZorgmeldingDelivered, POLICE, VT, &[ps(1)], "b"),
    ])
    .await
    .unwrap();
    s.append_log(&[
        delivered(Event::HandoverDelivered, VT, WIJKTEAM, &[ps(1)], "c"),
        // Not a delivery: data accepted, not yet received.
        delivered(Event::SignalSent, SCHOOL, WIJKTEAM, &[ps(1)], "z"),
        // A delivery named again later: still once.
        delivered(Event::SignalDelivered, HUISARTS, WIJKTEAM, &[ps(1)], "a"),
        // A delivery without a purpose names none.
        entry(SCHOOL, Event::SignalDelivered, T0)
            .subjects([ps(3)])
            .recipient(WIJKTEAM),
    ])
    .await
    .unwrap();
    let got = |subjects: Vec<String>, to: &'static str| {
        let s = s.clone();
        async move { s.received_purposes(&subjects, to).await.unwrap() }
    };
    assert_eq!(got(vec![ps(1)], WIJKTEAM).await, vec!["a", "c"]);
    assert_eq!(got(vec![ps(2)], WIJKTEAM).await, vec!["a"]);
    // Under any of a person's pseudonyms, each purpose once.
    assert_eq!(got(vec![ps(2), ps(1)], WIJKTEAM).await, vec!["a", "c"]);
    assert_eq!(got(vec![ps(1), ps(2)], VT).await, vec!["b"]);
    // The sender received nothing by sending.
    assert!(got(vec![ps(1)], SCHOOL).await.is_empty());
    assert!(got(vec![ps(3)], WIJKTEAM).await.is_empty());
    assert!(got(vec![], WIJKTEAM).await.is_empty());
}

async fn log_reads_by_subject_and_by_organisation(s: Store) {
    let e = |actor: &str, to: Option<&str>, subjects: &[String], n: i64| {
        let e = entry(actor, Event::SignalSent, T0 + n).subjects(subjects.to_vec());
        match to {
            Some(r) => e.recipient(r),
            None => e,
        }
    };
    let entries = vec![
        e(SCHOOL, Some(WIJKTEAM), &[ps(1), ps(2)], 0),
        e(VT, None, &[ps(2)], 1),
        e(WIJKTEAM, Some(SCHOOL), &[ps(3)], 2),
        e(SCHOOL, None, &[], 3),
        e(HUISARTS, Some(VT), &[ps(1)], 4),
    ];
    s.append_log(&entries).await.unwrap();
    let idx = |v: Vec<signaalhub_server::store::log::StoredEntry>| {
        for x in &v {
            assert_eq!(x.bytes, entries[x.idx as usize].entry.to_bytes());
            assert_eq!(x.entry.as_ref(), Some(&entries[x.idx as usize].entry));
        }
        v.iter().map(|x| x.idx).collect::<Vec<_>>()
    };
    // Each entry once, in log order, under any pseudonym given.
    assert_eq!(
        idx(s
            .log_entries_for_subject(&[ps(1), ps(2)], None)
            .await
            .unwrap()),
        vec![0, 1, 4]
    );
    assert_eq!(
        idx(s.log_entries_for_subject(&[pseud(3)], None).await.unwrap()),
        vec![2]
    );
    assert_eq!(
        idx(s.log_entries_for_subject(&[ps(7)], None).await.unwrap()),
        Vec::<u64>::new()
    );
    assert_eq!(
        idx(s
            .log_entries_for_subject::<String>(&[], None)
            .await
            .unwrap()),
        Vec::<u64>::new()
    );
    // An organisation's own part: the entries about the person it acted in or received.
    assert_eq!(
        idx(s
            .log_entries_for_subject(&[ps(1), ps(2)], Some(SCHOOL))
            .await
            .unwrap()),
        vec![0]
    );
    assert_eq!(
        idx(s
            .log_entries_for_subject(&[ps(1), ps(2)], Some(VT))
            .await
            .unwrap()),
        vec![1, 4]
    );
    assert_eq!(
        idx(s.log_entries_for_subject(&[ps(1)], Some(GI)).await.unwrap()),
        Vec::<u64>::new()
    );
    // A page of them: after an index, below a tree size, at most so many; own part too.
    let page = |after: Option<u64>, below: u64, limit: u32, org: Option<&'static str>| {
        let s = s.clone();
        async move {
            s.log_entries_for_subject_page(&[ps(1), ps(2)], org, after, below, limit)
                .await
                .unwrap()
        }
    };
    assert_eq!(idx(page(None, u64::MAX, 2, None).await), vec![0, 1]);
    assert_eq!(idx(page(Some(1), u64::MAX, 2, None).await), vec![4]);
    assert_eq!(idx(page(Some(0), 4, 10, None).await), vec![1]);
    assert_eq!(
        idx(page(Some(4), u64::MAX, 10, None).await),
        Vec::<u64>::new()
    );
    assert_eq!(
        idx(page(Some(u64::MAX), u64::MAX, 10, None).await),
        Vec::<u64>::new()
    );
    assert_eq!(idx(page(None, u64::MAX, 0, None).await), Vec::<u64>::new());
    assert_eq!(idx(page(None, u64::MAX, 1, Some(VT)).await), vec![1]);
    assert_eq!(idx(page(Some(1), u64::MAX, 1, Some(VT)).await), vec![4]);
    assert_eq!(
        idx(s
            .log_entries_for_subject_page::<String>(&[], None, None, u64::MAX, 10)
            .await
            .unwrap()),
        Vec::<u64>::new()
    );
    // The professional's clear id comes with every read, beside the leaf.
    for st in s.log_entries_for_org(SCHOOL, None, 10).await.unwrap() {
        assert_eq!(st.professional.as_deref(), Some("pro-1"));
    }
    // One professional's acts in one organisation (NEN 7513): its own acts only, paged.
    assert_eq!(
        idx(s
            .log_entries_for_professional(SCHOOL, "pro-1", None, 10)
            .await
            .unwrap()),
        vec![0, 3]
    );
    assert_eq!(
        idx(s
            .log_entries_for_professional(SCHOOL, "pro-1", Some(0), 1)
            .await
            .unwrap()),
        vec![3]
    );
    assert_eq!(
        idx(s
            .log_entries_for_professional(SCHOOL, "pro-1", None, 1)
            .await
            .unwrap()),
        vec![0]
    );
    assert_eq!(
        idx(s
            .log_entries_for_professional(SCHOOL, "pro-2", None, 10)
            .await
            .unwrap()),
        Vec::<u64>::new()
    );
    assert_eq!(
        idx(s
            .log_entries_for_professional(SCHOOL, "pro-1", Some(u64::MAX), 10)
            .await
            .unwrap()),
        Vec::<u64>::new()
    );
    // As actor or recipient; paged.
    assert_eq!(
        idx(s.log_entries_for_org(SCHOOL, None, 10).await.unwrap()),
        vec![0, 2, 3]
    );
    assert_eq!(
        idx(s.log_entries_for_org(VT, None, 10).await.unwrap()),
        vec![1, 4]
    );
    assert_eq!(
        idx(s.log_entries_for_org(SCHOOL, None, 2).await.unwrap()),
        vec![0, 2]
    );
    assert_eq!(
        idx(s.log_entries_for_org(SCHOOL, Some(2), 2).await.unwrap()),
        vec![3]
    );
    assert_eq!(
        idx(s.log_entries_for_org(SCHOOL, Some(0), 1).await.unwrap()),
        vec![2]
    );
    assert_eq!(
        idx(s
            .log_entries_for_org(SCHOOL, Some(u64::MAX), 10)
            .await
            .unwrap()),
        Vec::<u64>::new()
    );
    assert_eq!(
        idx(s.log_entries_for_org(GI, None, 10).await.unwrap()),
        Vec::<u64>::new()
    );
}

async fn integration_steps_are_compare_and_set(s: Store) {
    let entries: Vec<PendingEntry> = (0..3)
        .map(|n| entry(SCHOOL, Event::ConsentsListed, T0 + n))
        .collect();
    s.append_log(&entries).await.unwrap();
    assert_eq!(s.log_integrated().await.unwrap(), 0);
    assert_eq!(s.latest_checkpoint().await.unwrap(), None);
    assert_eq!(s.checkpoint_at(3).await.unwrap(), None);
    assert_eq!(s.checkpoints().await.unwrap(), vec![]);
    let leaves: Vec<_> = s
        .log_range(0, 3)
        .await
        .unwrap()
        .iter()
        .map(|(_, b)| merkle::leaf_hash(b))
        .collect();
    let mut tiles = MemoryTiles::new();
    tiles.append_leaves(&leaves).unwrap();
    let blobs: Vec<(TileId, Vec<u8>)> = tiles
        .iter()
        .map(|(id, h)| (id, merkle::encode_tile(h)))
        .collect();
    assert!(
        s.store_integration(0, 3, &blobs, "note 3", T0)
            .await
            .unwrap()
    );
    // Another instance that read the old size loses, and changes nothing.
    assert!(
        !s.store_integration(0, 3, &[], "note lost", T0)
            .await
            .unwrap()
    );
    assert!(
        !s.store_integration(2, 5, &[], "note lost", T0)
            .await
            .unwrap()
    );
    assert_eq!(s.log_integrated().await.unwrap(), 3);
    let ids: Vec<TileId> = blobs.iter().map(|(id, _)| *id).collect();
    let read = s
        .read_tiles(&[ids.clone(), vec![TileId { level: 3, index: 9 }]].concat())
        .await
        .unwrap();
    for (id, h) in tiles.iter() {
        assert_eq!(read.0.get(id), Some(h));
    }
    assert_eq!(read.0.len(), ids.len());
    // Later steps: tiles are replaced, checkpoints kept in order.
    let hash = |b: u8| vec![b; 32];
    let step2 = vec![
        (
            TileId { level: 0, index: 0 },
            [hash(1), hash(2), hash(3), hash(4)].concat(),
        ),
        (TileId { level: 0, index: 1 }, hash(5)),
        (TileId { level: 0, index: 2 }, hash(6)),
        (TileId { level: 1, index: 0 }, hash(7)),
    ];
    assert!(
        s.store_integration(3, 4, &step2, "note 4", T0 + 1)
            .await
            .unwrap()
    );
    assert_eq!(
        s.latest_checkpoint().await.unwrap().as_deref(),
        Some("note 4")
    );
    assert_eq!(
        s.checkpoints().await.unwrap(),
        vec![(3, "note 3".to_owned()), (4, "note 4".to_owned())]
    );
    assert_eq!(s.checkpoint_at(3).await.unwrap().as_deref(), Some("note 3"));
    assert_eq!(s.checkpoint_at(5).await.unwrap(), None);
    assert_eq!(s.checkpoint_at(u64::MAX).await.unwrap(), None);
    assert_eq!(
        s.tiles_in_range(0, 0, 2).await.unwrap(),
        vec![(0, step2[0].1.clone()), (1, hash(5))]
    );
    assert_eq!(s.tiles_in_range(0, 1, 1).await.unwrap(), vec![]);
    assert_eq!(
        s.tiles_after(0, 1).await.unwrap(),
        vec![
            (TileId { level: 0, index: 1 }, hash(5)),
            (TileId { level: 0, index: 2 }, hash(6)),
            (TileId { level: 1, index: 0 }, hash(7)),
        ]
    );
    assert_eq!(
        s.tiles_after(1, 0).await.unwrap(),
        vec![(TileId { level: 1, index: 0 }, hash(7))]
    );
    // A tile that does not decode is a corrupt store, on both.
    assert!(
        s.store_integration(
            4,
            5,
            &[(TileId { level: 2, index: 0 }, vec![1, 2, 3])],
            "note 5",
            T0 + 2
        )
        .await
        .unwrap()
    );
    assert!(matches!(
        s.read_tiles(&[TileId { level: 2, index: 0 }]).await,
        Err(StoreError::Corrupt("log_tiles.hashes"))
    ));
}

async fn log_verifications_are_recorded_per_kind(s: Store) {
    use signaalhub_server::store::log::{CheckKind, LogVerification};
    assert_eq!(s.log_verifications().await.unwrap(), vec![]);
    let full = LogVerification {
        kind: CheckKind::Full,
        tree_size: 4_096,
        root: [7; 32],
        entries_checked: 4_100,
        verified_at: T0,
    };
    s.record_log_verification(&full).await.unwrap();
    let startup = LogVerification {
        kind: CheckKind::Startup,
        tree_size: 5_000,
        root: [8; 32],
        entries_checked: 904,
        verified_at: T0 + 1,
    };
    s.record_log_verification(&startup).await.unwrap();
    // One record per kind, start-up first; a later check replaces its kind's record.
    assert_eq!(
        s.log_verifications().await.unwrap(),
        vec![startup.clone(), full.clone()]
    );
    let later = LogVerification {
        tree_size: 6_000,
        root: [9; 32],
        entries_checked: 1_000,
        verified_at: T0 + 2,
        ..startup
    };
    s.record_log_verification(&later).await.unwrap();
    assert_eq!(s.log_verifications().await.unwrap(), vec![later, full]);
    // A size no column holds is refused, not wrapped.
    let huge = LogVerification {
        tree_size: u64::MAX,
        ..LogVerification {
            kind: CheckKind::Full,
            tree_size: 0,
            root: [0; 32],
            entries_checked: 0,
            verified_at: T0,
        }
    };
    assert!(matches!(
        s.record_log_verification(&huge).await,
        Err(StoreError::Invalid(_))
    ));
}

/// A consent id as the store takes it.
fn cid(s: &str) -> signaalhub_server::ids::ConsentId {
    s.parse().expect("a well-formed consent id")
}
