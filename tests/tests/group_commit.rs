//! Group commit: several submissions in one transaction keep each its own outcome, the log stays
//! gapless with every delivery's cursor at its own entry, and a failed group falls back to storing
//! each member alone. Runs on every store backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use signaalhub_server::domain::consent::Facts;
use signaalhub_server::domain::signal::{DeliveryState, NewDelivery, SignalRecord};
use signaalhub_server::ids::{Category, Purpose, Role};
use signaalhub_server::ledger::{Checks, EntryOutcome, Event, LogEntry, PendingEntry};
use signaalhub_server::store::group::SignalCommitter;
use signaalhub_server::store::signal::Submitted;
use signaalhub_server::store::testing::{backends, fresh};
use signaalhub_server::store::{Store, StoreError};

const SENDER: &str = "00000009901000000000";
const RECIPIENTS: [&str; 2] = ["00000009905000000000", "00000009906000000000"];

fn signal(id: &str, content: u8) -> SignalRecord {
    SignalRecord {
        sender_oin: SENDER.parse().unwrap(),
        signal_id: id.parse().unwrap(),
        request_hash: vec![content; 32],
        content_digest: Some(vec![content; 32]),
        envelope: Some(vec![content; 64]),
        purpose: Purpose::known("vroegtijdige_ondersteuning"),
        categories: vec![Category::known("zorgen_thuissituatie")],
        urgency: signaalhub_server::domain::signal::Urgency::Normal,
        basis: signaalhub_server::domain::basis::Basis {
            legal: None,
            consent_ids: vec!["c_a".parse().unwrap()],
        },
        subjects: vec!["ab".repeat(32)],
        facts: Facts::default(),
        sender_role: Role::known("ib_er"),
        sender_professional: "pro-1".into(),
        received_for: vec![],
        inform_exemption: None,
        created_at: 1_760_000_000,
        retain_until: 1_770_000_000,
    }
}

fn entry(id: &str, recipient: &str) -> PendingEntry {
    PendingEntry {
        entry: LogEntry {
            v: 1,
            event: Event::SignalSent,
            at: 1_760_000_000,
            actor_oin: SENDER.into(),
            actor_pro: "cd".repeat(32),
            actor_role: "ib_er".into(),
            subjects: vec!["ab".repeat(32)],
            recipient_oin: Some(recipient.into()),
            categories: vec!["zorgen_thuissituatie".into()],
            purpose: Some("vroegtijdige_ondersteuning".into()),
            basis: vec!["consent:c-1".into()],
            checks: Checks {
                authorised: true,
                consent: true,
                ..Checks::default()
            },
            outcome: EntryOutcome::Disclosed,
            reasons: Vec::new(),
            policy_version: Some("test".into()),
            reference: Some(id.into()),
        },
        professional: "pro-1".into(),
        inform: None,
    }
}

/// A submission of signal `id` to `n` recipients.
fn submission(
    id: &str,
    content: u8,
    n: usize,
) -> (SignalRecord, Vec<NewDelivery>, Vec<PendingEntry>) {
    let to = &RECIPIENTS[..n];
    (
        signal(id, content),
        to.iter()
            .map(|r| NewDelivery {
                recipient_oin: r.parse().unwrap(),
                consent_ids: vec!["c-a".parse().unwrap()],
            })
            .collect(),
        to.iter().map(|r| entry(id, r)).collect(),
    )
}

async fn each_backend<F, Fut>(f: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for b in backends() {
        let db = fresh(b).await.unwrap();
        eprintln!("group commit on {b}");
        f(db.store.clone()).await;
    }
}

/// Every delivery's cursor is its own `signal_sent` entry's index + 1, and that entry names the
/// signal and the recipient.
async fn assert_cursors_point_at_their_entries(s: &Store, ids: &[&str]) {
    let size = s.log_size().await.unwrap();
    let entries = s.log_range(0, size).await.unwrap();
    assert_eq!(entries.len() as u64, size, "the log has no gaps");
    for id in ids {
        for d in s.deliveries_of(SENDER, id).await.unwrap() {
            let (idx, bytes) = &entries[(d.cursor - 1) as usize];
            assert_eq!(*idx, d.cursor - 1);
            let e = LogEntry::from_bytes(bytes).unwrap();
            assert_eq!(e.reference.as_deref(), Some(*id));
            assert_eq!(e.recipient_oin.as_deref(), Some(d.recipient_oin.as_str()));
        }
    }
}

#[tokio::test]
async fn a_group_keeps_each_submissions_own_outcome() {
    each_backend(|s| async move {
        // An earlier signal, stored alone.
        let (a, ad, ae) = submission("sig-a", 1, 1);
        assert!(matches!(
            s.insert_signal(&a, &ad, &ae).await.unwrap(),
            Submitted::New(_)
        ));
        let before = s.log_size().await.unwrap();

        let subs = [
            submission("sig-b", 2, 2), // new, two recipients
            submission("sig-a", 1, 1), // retry of the earlier one
            submission("sig-a", 9, 1), // the earlier id with other content
            submission("sig-c", 3, 1), // new
            submission("sig-c", 3, 1), // retry within the same group
        ];
        let batch: Vec<_> = subs
            .iter()
            .map(|(r, d, e)| (r, d.as_slice(), e.as_slice()))
            .collect();
        let out = s.insert_signals(&batch).await.unwrap();
        assert_eq!(out.len(), 5);
        match &out[0] {
            Ok(Submitted::New(d)) => {
                assert_eq!(d.len(), 2);
                assert!(d.iter().all(|d| d.state == DeliveryState::Pending));
            }
            other => panic!("sig-b: {other:?}"),
        }
        assert!(matches!(&out[1], Ok(Submitted::Duplicate(d)) if d.len() == 1));
        assert!(matches!(&out[2], Err(StoreError::Conflict(_))));
        assert!(matches!(&out[3], Ok(Submitted::New(d)) if d.len() == 1));
        assert!(matches!(&out[4], Ok(Submitted::Duplicate(d)) if d.len() == 1));
        // Only the new submissions were logged: 2 + 1 entries.
        assert_eq!(s.log_size().await.unwrap(), before + 3);
        // What a New answer says equals what the store reads back.
        if let Ok(Submitted::New(d)) = &out[0] {
            assert_eq!(d, &s.deliveries_of(SENDER, "sig-b").await.unwrap());
        }
        assert_cursors_point_at_their_entries(&s, &["sig-a", "sig-b", "sig-c"]).await;
    })
    .await;
}

#[tokio::test]
async fn the_committer_groups_waiting_submissions_and_answers_each() {
    each_backend(|s| async move {
        let committer = SignalCommitter::new(s.clone(), true, 64);
        // On this single-threaded test runtime every submission is queued before the committer
        // task runs, so they form one group.
        let ids: Vec<String> = (0..20).map(|i| format!("sig-{i}")).collect();
        let futures = ids.iter().enumerate().map(|(i, id)| {
            let (r, d, e) = submission(id, i as u8, 1 + i % 2);
            committer.insert_signal(r, d, e)
        });
        let results = futures::future::join_all(futures).await;
        for (i, r) in results.iter().enumerate() {
            match r {
                Ok(Submitted::New(d)) => assert_eq!(d.len(), 1 + i % 2),
                other => panic!("submission {i}: {other:?}"),
            }
        }
        assert_eq!(s.log_size().await.unwrap(), 30);
        let (groups, submissions) = committer.stats();
        assert_eq!(submissions, 20);
        assert!(
            groups < 20,
            "waiting submissions were grouped ({groups} groups)"
        );
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_cursors_point_at_their_entries(&s, &refs).await;

        // A retry through the committer is a duplicate; a reused id a conflict.
        let (r, d, e) = submission("sig-3", 3, 2);
        assert!(matches!(
            committer.insert_signal(r, d, e).await,
            Ok(Submitted::Duplicate(_))
        ));
        let (r, d, e) = submission("sig-3", 77, 2);
        assert!(matches!(
            committer.insert_signal(r, d, e).await,
            Err(StoreError::Conflict(_))
        ));
        // The same metadata with another content digest is a reused id too, and so is a request
        // without one (never sent by the flows: they refuse a missing digest first).
        let before = s.log_size().await.unwrap();
        for digest in [Some(vec![77; 32]), None] {
            let (mut r, d, e) = submission("sig-3", 3, 2);
            r.content_digest = digest;
            assert!(matches!(
                committer.insert_signal(r, d, e).await,
                Err(StoreError::Conflict(_))
            ));
        }
        assert_eq!(s.log_size().await.unwrap(), before);
    })
    .await;
}

#[tokio::test]
async fn without_group_commit_each_submission_is_its_own_transaction() {
    each_backend(|s| async move {
        let committer = SignalCommitter::new(s.clone(), false, 64);
        let futures = (0..5).map(|i| {
            let (r, d, e) = submission(&format!("solo-{i}"), i, 1);
            committer.insert_signal(r, d, e)
        });
        for r in futures::future::join_all(futures).await {
            assert!(matches!(r, Ok(Submitted::New(_))));
        }
        assert_eq!(committer.stats(), (5, 5));
        assert_eq!(s.log_size().await.unwrap(), 5);
    })
    .await;
}

#[tokio::test]
async fn a_failing_member_does_not_fail_its_group() {
    each_backend(|s| async move {
        let committer = SignalCommitter::new(s.clone(), true, 64);
        // Two deliveries to the same recipient violate the deliveries' primary key: the group's
        // transaction fails, and the committer stores the members one by one.
        let (bad, mut bd, mut be) = submission("bad", 1, 1);
        bd.push(bd[0].clone());
        be.push(be[0].clone());
        let (good1, g1d, g1e) = submission("good-1", 2, 2);
        let (good2, g2d, g2e) = submission("good-2", 3, 1);
        let results = futures::future::join_all([
            committer.insert_signal(good1, g1d, g1e),
            committer.insert_signal(bad, bd, be),
            committer.insert_signal(good2, g2d, g2e),
        ])
        .await;
        assert!(matches!(&results[0], Ok(Submitted::New(d)) if d.len() == 2));
        assert!(matches!(&results[1], Err(StoreError::Unavailable(_))));
        assert!(matches!(&results[2], Ok(Submitted::New(d)) if d.len() == 1));
        // Nothing of the failed member was stored: no signal, no deliveries, no log entries.
        assert!(s.get_signal(SENDER, "bad").await.unwrap().is_none());
        assert!(s.deliveries_of(SENDER, "bad").await.unwrap().is_empty());
        assert_eq!(s.log_size().await.unwrap(), 3);
        assert_cursors_point_at_their_entries(&s, &["good-1", "good-2"]).await;
    })
    .await;
}

#[tokio::test]
async fn a_large_group_spans_several_multi_row_statements() {
    each_backend(|s| async move {
        // 300 submissions to two recipients: 600 entries and deliveries, more than one statement's
        // worth of rows each.
        let subs: Vec<_> = (0..300)
            .map(|i| submission(&format!("big-{i}"), (i % 250) as u8, 2))
            .collect();
        let batch: Vec<_> = subs
            .iter()
            .map(|(r, d, e)| (r, d.as_slice(), e.as_slice()))
            .collect();
        let out = s.insert_signals(&batch).await.unwrap();
        assert!(
            out.iter()
                .all(|o| matches!(o, Ok(Submitted::New(d)) if d.len() == 2))
        );
        assert_eq!(s.log_size().await.unwrap(), 600);
        let ids: Vec<String> = (0..300).map(|i| format!("big-{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_cursors_point_at_their_entries(&s, &refs).await;
    })
    .await;
}
