//! Store conformance, part 4: the involvement register, cases and their merges, coordinator
//! proposals, safety plan versions, notifications and the maatregel register. Every test runs
//! on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod conformance;

use conformance::*;
use signaalhub_server::domain::consent::Consent;
use signaalhub_server::domain::involvement::{
    AgreementMeta, CaseView, Involvement, Notification, NotificationKind, PlanVersion, Proposal,
    ProposalState,
};
use signaalhub_server::domain::zorgmelding::ReviewState;
use signaalhub_server::ids::{CaseId, Oin, SubjectPseudonym};
use signaalhub_server::ledger::{Event, PendingEntry};
use signaalhub_server::store::involvement::{MatchDecider, Registered};
use signaalhub_server::store::melding::Due;
use signaalhub_server::store::{Clash, Record, Store};
use std::sync::Mutex;

conformance!(
    registrations_match_into_one_case,
    a_match_the_convenant_refuses_discloses_nothing,
    cases_merge_into_the_oldest_and_keep_their_coordinator,
    coordinators_are_proposed_and_answered,
    a_coordinator_needs_every_other_partys_acceptance,
    confirmations_of_contact_hold_until_they_expire,
    ending_an_involvement_tells_the_others_and_ends_its_roles,
    plan_versions_follow_each_other,
    a_plan_review_falls_due_once_and_a_newer_version_replaces_it,
    notifications_page_by_cursor,
    maatregelen_are_registered_listed_and_ended,
);

/// Allows every match (or none), and remembers the consents each decision saw.
struct Decider {
    allow: bool,
    seen: Mutex<Vec<(String, String, Vec<String>)>>,
}

impl Decider {
    fn allow() -> Decider {
        Decider {
            allow: true,
            seen: Mutex::new(Vec::new()),
        }
    }
    fn deny() -> Decider {
        Decider {
            allow: false,
            ..Decider::allow()
        }
    }
}

impl MatchDecider for Decider {
    fn decide(
        &self,
        from: &Involvement,
        consents: &[Consent],
        to: &Involvement,
    ) -> Result<(), Box<PendingEntry>> {
        self.seen.lock().unwrap().push((
            from.id.to_string(),
            to.id.to_string(),
            consents.iter().map(|c| c.id.to_string()).collect(),
        ));
        if self.allow {
            Ok(())
        } else {
            Err(Box::new(
                entry(
                    &from.org_oin,
                    Event::InvolvementMatchWithheld,
                    from.registered_at,
                )
                .recipient(to.org_oin.to_string()),
            ))
        }
    }

    fn matched(
        &self,
        to: &Involvement,
        new_parties: &[&Involvement],
        case_id: &CaseId,
    ) -> (PendingEntry, Notification) {
        let mut n = notification(&to.org_oin, NotificationKind::InvolvementMatched, T0);
        n.case_id = Some(case_id.clone());
        n.involvement_id = Some(to.id.clone());
        n.summary_nl = new_parties
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>()
            .join(",");
        (
            entry(&to.org_oin, Event::InvolvementMatched, T0).recipient(to.org_oin.to_string()),
            n,
        )
    }
}

/// Registers `org`'s involvement `id` with `subject` and the household `others`.
async fn register(
    s: &Store,
    id: &str,
    org: &str,
    subject: &SubjectPseudonym,
    others: &[&SubjectPseudonym],
    decider: &Decider,
) -> Registered {
    let new = involvement(id, subject, org, T0);
    let persons: Vec<String> = std::iter::once(subject)
        .chain(others.iter().copied())
        .map(|p| p.as_str().to_owned())
        .collect();
    s.register_involvement(
        &new,
        std::slice::from_ref(subject),
        &persons,
        &persons,
        &entry(org, Event::InvolvementRegistered, T0).reference(id),
        &v(&format!("k-{id}")),
        decider,
    )
    .await
    .unwrap()
}

fn parties(v: &CaseView) -> Vec<(String, String)> {
    v.parties
        .iter()
        .map(|i| (i.org_oin.to_string(), i.id.to_string()))
        .collect()
}

fn p(org: &str, id: &str) -> (String, String) {
    (org.to_owned(), id.to_owned())
}

/// What a notification says, without its times.
fn said(n: &Notification) -> (String, u64, NotificationKind, Option<String>, String) {
    (
        n.recipient_oin.to_string(),
        n.cursor,
        n.kind,
        n.case_id.as_ref().map(|c| c.to_string()),
        n.summary_nl.clone(),
    )
}

async fn registrations_match_into_one_case(s: Store) {
    let (a, b) = (pseud(1), pseud(2));
    let allow = Decider::allow();
    let r1 = register(&s, "i1", SCHOOL, &a, &[], &allow).await;
    assert!(!r1.already && r1.case.is_none() && r1.involvement.case_id.is_none());
    assert_eq!(r1.involvement, involvement("i1", &a, SCHOOL, T0));
    assert_eq!(s.log_size().await.unwrap(), 1);
    // The wijkteam's involvement with the child and a parent meets the school's.
    let r2 = register(&s, "i2", WIJKTEAM, &a, &[&b], &allow).await;
    assert!(!r2.already);
    let case = r2.case.clone().expect("a case");
    assert_eq!(case.case.id, "k-i2");
    assert_eq!(r2.involvement.case_id.as_deref(), Some("k-i2"));
    assert_eq!(parties(&case), vec![p(SCHOOL, "i1"), p(WIJKTEAM, "i2")]);
    assert_eq!(
        (
            case.case.coordinator_oin.clone(),
            case.case.plan_version,
            case.case.merged_into.clone()
        ),
        (None, 0, None)
    );
    assert!(case.proposals.is_empty());
    // Each side decided and was told of the other, in the registration's transaction.
    let mut seen = allow.seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("i1".to_owned(), "i2".to_owned(), vec![]),
            ("i2".to_owned(), "i1".to_owned(), vec![])
        ]
    );
    assert_eq!(s.log_size().await.unwrap(), 4);
    let told = |oin: &'static str| {
        let s = s.clone();
        async move {
            s.notifications_after(oin, 0, 10)
                .await
                .unwrap()
                .iter()
                .map(said)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        told(WIJKTEAM).await,
        vec![(
            WIJKTEAM.into(),
            3,
            NotificationKind::InvolvementMatched,
            Some("k-i2".into()),
            "i1".into()
        )]
    );
    assert_eq!(
        told(SCHOOL).await,
        vec![(
            SCHOOL.into(),
            4,
            NotificationKind::InvolvementMatched,
            Some("k-i2".into()),
            "i2".into()
        )]
    );
    // Registering again refreshes the same involvement: nothing new to disclose.
    let mut again = involvement("i2-again", &a, WIJKTEAM, T0 + 5);
    again.contact_professional = "nieuw contact".into();
    let r3 = s
        .register_involvement(
            &again,
            std::slice::from_ref(&a),
            &[a.as_str().to_owned()],
            &[a.as_str().to_owned()],
            &entry(WIJKTEAM, Event::InvolvementRegistered, T0 + 5),
            &v("k-unused"),
            &allow,
        )
        .await
        .unwrap();
    assert!(r3.already);
    assert_eq!(r3.involvement.id, "i2");
    assert_eq!(r3.involvement.contact_professional, "nieuw contact");
    assert_eq!(r3.involvement.started_at, T0);
    assert_eq!(parties(r3.case.as_ref().unwrap()), parties(&case));
    assert_eq!(s.log_size().await.unwrap(), 5);
    assert_eq!(told(WIJKTEAM).await.len(), 1);
    // Reads.
    assert_eq!(
        s.get_involvement("i2").await.unwrap(),
        Some(r3.involvement.clone())
    );
    assert_eq!(s.get_involvement("nope").await.unwrap(), None);
    assert_eq!(
        s.active_involvements_of(WIJKTEAM, &[pseud(9), a.clone()])
            .await
            .unwrap(),
        vec![r3.involvement.clone()]
    );
    assert_eq!(
        s.active_involvements_of(WIJKTEAM, std::slice::from_ref(&b))
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        s.active_involvements_of(WIJKTEAM, &[]).await.unwrap(),
        vec![]
    );
    // Every organisation's active involvements with the person (a maatregel's end tells them).
    let about = s
        .active_involvements_about(&[pseud(9).as_str().to_owned(), a.as_str().to_owned()])
        .await
        .unwrap();
    let mut orgs: Vec<String> = about.iter().map(|i| i.org_oin.to_string()).collect();
    orgs.sort();
    let mut expected = vec![SCHOOL.to_owned(), WIJKTEAM.to_owned()];
    expected.sort();
    assert_eq!(orgs, expected);
    assert!(s.active_involvements_about(&[]).await.unwrap().is_empty());
    assert!(
        s.active_involvements_about(&[pseud(9).as_str().to_owned()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.is_involved(SCHOOL, &[pseud(9), a.clone()], T0)
            .await
            .unwrap()
    );
    assert!(
        !s.is_involved(SCHOOL, std::slice::from_ref(&a), T0 - 1)
            .await
            .unwrap()
    );
    assert!(
        !s.is_involved(VT, std::slice::from_ref(&a), T0)
            .await
            .unwrap()
    );
    assert!(!s.is_involved(SCHOOL, &[], T0).await.unwrap());
    assert_eq!(parties(&s.case_view("k-i2").await.unwrap()), parties(&case));
    assert_eq!(not_found(s.case_view("nope").await), rec("case", "nope"));
}

async fn a_match_the_convenant_refuses_discloses_nothing(s: Store) {
    let (a, b) = (pseud(1), pseud(2));
    let allow = Decider::allow();
    register(&s, "i1", SCHOOL, &a, &[], &allow).await;
    register(&s, "i2", WIJKTEAM, &a, &[&b], &allow).await;
    // Consents the new party relies on are read (locked) for each of its decisions.
    for c in [consent("c2", &b, T0), consent("c1", &b, T0)] {
        s.insert_consent(&c, &entry(SCHOOL, Event::ConsentRecorded, T0))
            .await
            .unwrap();
    }
    let size = s.log_size().await.unwrap();
    let deny = Decider::deny();
    let mut vt = involvement("i3", &b, VT, T0);
    vt.basis = basis(&["c2", "nope", "c1"]);
    let r = s
        .register_involvement(
            &vt,
            std::slice::from_ref(&b),
            &[b.as_str().to_owned()],
            &[b.as_str().to_owned()],
            &entry(VT, Event::InvolvementRegistered, T0),
            &v("k-i3"),
            &deny,
        )
        .await
        .unwrap();
    assert!(r.case.is_none() && r.involvement.case_id.is_none());
    let mut seen = deny.seen.lock().unwrap().clone();
    seen.sort();
    let c12 = vec!["c1".to_owned(), "c2".to_owned()];
    assert_eq!(
        seen,
        vec![
            ("i1".to_owned(), "i3".to_owned(), vec![]),
            ("i2".to_owned(), "i3".to_owned(), vec![]),
            ("i3".to_owned(), "i1".to_owned(), c12.clone()),
            ("i3".to_owned(), "i2".to_owned(), c12),
        ]
    );
    // The registration and the four withheld disclosures, no notification.
    assert_eq!(s.log_size().await.unwrap(), size + 5);
    assert!(s.notifications_after(VT, 0, 10).await.unwrap().is_empty());
    assert_eq!(s.notifications_after(SCHOOL, 0, 10).await.unwrap().len(), 1);
    assert_eq!(
        parties(&s.case_view("k-i2").await.unwrap()),
        vec![p(SCHOOL, "i1"), p(WIJKTEAM, "i2")]
    );
}

async fn cases_merge_into_the_oldest_and_keep_their_coordinator(s: Store) {
    let (a, c) = (pseud(1), pseud(3));
    let allow = Decider::allow();
    register(&s, "i1", SCHOOL, &a, &[], &allow).await;
    register(&s, "i2", WIJKTEAM, &a, &[], &allow).await;
    register(&s, "i3", VT, &c, &[], &allow).await;
    register(&s, "i4", HUISARTS, &c, &[], &allow).await;
    let none = |_: &CaseView, _: &Proposal| Vec::<(PendingEntry, Option<Notification>)>::new();
    // The younger case has a coordinator and an open proposal.
    s.propose_coordinator(&v("k-i4"), &v("p-self"), &v(VT), &v(VT), T0, none)
        .await
        .unwrap();
    s.respond_to_proposal("p-self", HUISARTS, true, T0 + 1, none)
        .await
        .unwrap();
    s.propose_coordinator(&v("k-i4"), &v("p-open"), &v(VT), &v(HUISARTS), T0 + 2, none)
        .await
        .unwrap();
    // GI's involvement with the child and its household member meets both cases.
    let r = register(&s, "i5", GI, &a, &[&c], &allow).await;
    let case = r.case.expect("one case");
    assert_eq!(case.case.id, "k-i2");
    assert_eq!(
        parties(&case),
        vec![
            p(SCHOOL, "i1"),
            p(WIJKTEAM, "i2"),
            p(VT, "i3"),
            p(GI, "i5"),
            p(HUISARTS, "i4")
        ]
    );
    assert_eq!(case.case.coordinator_oin.as_deref(), Some(VT));
    assert_eq!(case.case.coordinator_since, Some(T0 + 1));
    assert!(case.proposals.is_empty());
    assert_eq!(
        s.get_proposal("p-open").await.unwrap().unwrap().state,
        ProposalState::Superseded
    );
    // The merged case leads to the one it lives on in.
    let via = s.case_view("k-i4").await.unwrap();
    assert_eq!(via.case.id, "k-i2");
    assert_eq!(parties(&via), parties(&case));
    for id in ["i3", "i4"] {
        assert_eq!(
            s.get_involvement(id)
                .await
                .unwrap()
                .unwrap()
                .case_id
                .as_deref(),
            Some("k-i2")
        );
    }
    // Everyone learns of exactly the parties they did not see before.
    let last = |oin: &'static str| {
        let s = s.clone();
        async move {
            s.notifications_after(oin, 0, 10)
                .await
                .unwrap()
                .pop()
                .unwrap()
                .summary_nl
        }
    };
    assert_eq!(last(GI).await, "i1,i2,i3,i4");
    assert_eq!(last(SCHOOL).await, "i5,i3,i4");
    assert_eq!(last(VT).await, "i5,i1,i2");
    // A plan for the merged case is refused with where it lives on.
    let plan = plan_version("k-i4", 1, VT);
    assert_eq!(
        conflict(
            s.publish_plan(&plan, &[], |_, _| Ok::<_, (Vec<PendingEntry>, ())>(vec![]))
                .await
        ),
        Clash::Merged {
            case_id: v("k-i4"),
            into: v("k-i2")
        }
    );
}

fn plan_version(case_id: &str, version: u32, author: &str) -> PlanVersion {
    PlanVersion {
        case_id: v(case_id),
        version,
        author_oin: v(author),
        author_professional: "pro-1".into(),
        envelope: vec![version as u8; 40],
        sealed_to: vec![SCHOOL.into(), WIJKTEAM.into()],
        agreements: vec![
            AgreementMeta {
                id: "a1".into(),
                parties: vec![SCHOOL.into(), WIJKTEAM.into()],
                family: true,
            },
            AgreementMeta {
                id: "a2".into(),
                parties: vec![],
                family: false,
            },
        ],
        published_at: T0 + i64::from(version),
        retain_until: T0 + 365 * DAY,
        request_hash: Some(vec![version as u8; 32]),
        content_digest: Some(vec![version as u8 ^ 0x5a; 32]),
        confirmations: vec![],
        review_at: None,
        review_state: None,
    }
}

/// A case `k-i2` of the school (i1) and the wijkteam (i2) about one child.
async fn case_of_two(s: &Store) {
    let a = pseud(1);
    let allow = Decider::allow();
    register(s, "i1", SCHOOL, &a, &[], &allow).await;
    register(s, "i2", WIJKTEAM, &a, &[], &allow).await;
}

fn told_of(
    kind: NotificationKind,
    to: &[Oin],
    at: i64,
) -> Vec<(PendingEntry, Option<Notification>)> {
    to.iter()
        .map(|o| {
            (
                entry(SCHOOL, Event::CoordinatorProposed, at).recipient(o.to_string()),
                Some(notification(o, kind, at)),
            )
        })
        .collect()
}

async fn coordinators_are_proposed_and_answered(s: Store) {
    case_of_two(&s).await;
    let record = |v: &CaseView, _: &Proposal| {
        told_of(NotificationKind::CoordinatorProposed, &v.party_oins(), T0)
    };
    // Only parties propose and are proposed.
    assert_eq!(
        not_found(
            s.propose_coordinator(&v("k-i2"), &v("p0"), &v(VT), &v(SCHOOL), T0, record)
                .await
        ),
        rec("case", "k-i2")
    );
    assert_eq!(
        conflict(
            s.propose_coordinator(&v("k-i2"), &v("p0"), &v(SCHOOL), &v(VT), T0, record)
                .await
        ),
        Clash::NotAParty {
            case_id: v("k-i2"),
            oin: v(VT)
        }
    );
    assert_eq!(
        not_found(
            s.propose_coordinator(&v("nope"), &v("p0"), &v(SCHOOL), &v(SCHOOL), T0, record)
                .await
        ),
        rec("case", "nope")
    );
    let size = s.log_size().await.unwrap();
    let (p1, view) = s
        .propose_coordinator(
            &v("k-i2"),
            &v("p1"),
            &v(SCHOOL),
            &v(WIJKTEAM),
            T0 + 1,
            record,
        )
        .await
        .unwrap();
    assert_eq!(
        p1,
        Proposal {
            id: v("p1"),
            case_id: v("k-i2"),
            proposed_oin: v(WIJKTEAM),
            proposed_by_oin: v(SCHOOL),
            state: ProposalState::Open,
            created_at: T0 + 1,
            decided_at: None,
            accepted_by: vec![],
        }
    );
    assert_eq!(view.proposals, vec![p1.clone()]);
    assert_eq!(s.get_proposal("p1").await.unwrap(), Some(p1.clone()));
    assert_eq!(s.get_proposal("nope").await.unwrap(), None);
    assert_eq!(s.log_size().await.unwrap(), size + 2);
    let (p2, _) = s
        .propose_coordinator(
            &v("k-i2"),
            &v("p2"),
            &v(WIJKTEAM),
            &v(SCHOOL),
            T0 + 2,
            record,
        )
        .await
        .unwrap();
    // Only a party the proposal waits for answers (not its proposer), and only an open one.
    let answer = |v: &CaseView, _: &Proposal| {
        told_of(
            NotificationKind::CoordinatorAccepted,
            &v.party_oins(),
            T0 + 3,
        )
    };
    assert_eq!(
        not_found(
            s.respond_to_proposal("p1", SCHOOL, true, T0 + 3, answer)
                .await
        ),
        rec("open proposal", "p1")
    );
    let (accepted, view) = s
        .respond_to_proposal("p1", WIJKTEAM, true, T0 + 3, answer)
        .await
        .unwrap();
    assert_eq!(
        (accepted.state, accepted.decided_at),
        (ProposalState::Accepted, Some(T0 + 3))
    );
    assert_eq!(
        (
            view.case.coordinator_oin.as_deref(),
            view.case.coordinator_since
        ),
        (Some(WIJKTEAM), Some(T0 + 3))
    );
    // Accepting one supersedes every other open proposal of the case.
    assert!(view.proposals.is_empty());
    assert_eq!(
        s.get_proposal(&p2.id).await.unwrap().unwrap().state,
        ProposalState::Superseded
    );
    assert_eq!(
        not_found(
            s.respond_to_proposal("p1", WIJKTEAM, true, T0 + 4, answer)
                .await
        ),
        rec("open proposal", "p1")
    );
    // A declined proposal changes no coordinator; a self-proposal takes effect at once.
    s.propose_coordinator(
        &v("k-i2"),
        &v("p3"),
        &v(WIJKTEAM),
        &v(SCHOOL),
        T0 + 5,
        record,
    )
    .await
    .unwrap();
    let (declined, view) = s
        .respond_to_proposal("p3", SCHOOL, false, T0 + 6, answer)
        .await
        .unwrap();
    assert_eq!(declined.state, ProposalState::Declined);
    assert_eq!(view.case.coordinator_oin.as_deref(), Some(WIJKTEAM));
    s.propose_coordinator(
        &v("k-i2"),
        &v("p4"),
        &v(WIJKTEAM),
        &v(SCHOOL),
        T0 + 7,
        record,
    )
    .await
    .unwrap();
    // Proposing yourself needs the others' acceptance too.
    let (own, view) = s
        .propose_coordinator(&v("k-i2"), &v("p5"), &v(SCHOOL), &v(SCHOOL), T0 + 8, record)
        .await
        .unwrap();
    assert_eq!(own.state, ProposalState::Open);
    assert_eq!(own.awaiting(&view), vec![v::<Oin>(WIJKTEAM)]);
    assert_eq!(view.case.coordinator_oin.as_deref(), Some(WIJKTEAM));
    let (own, view) = s
        .respond_to_proposal("p5", WIJKTEAM, true, T0 + 8, answer)
        .await
        .unwrap();
    assert_eq!(
        (own.state, own.decided_at, own.accepted_by.clone()),
        (
            ProposalState::Accepted,
            Some(T0 + 8),
            vec![v::<Oin>(WIJKTEAM)]
        )
    );
    assert_eq!(view.case.coordinator_oin.as_deref(), Some(SCHOOL));
    assert_eq!(
        s.get_proposal("p4").await.unwrap().unwrap().state,
        ProposalState::Superseded
    );
    // Notifications are written with their entries, cursor = 1 + the entry's index.
    let n = s.notifications_after(WIJKTEAM, 0, 100).await.unwrap();
    let e = s.log_entries_for_org(WIJKTEAM, None, 100).await.unwrap();
    for x in &n {
        assert!(e.iter().any(|e| e.idx + 1 == x.cursor), "{x:?}");
    }
    // The same proposal id twice is refused by the database.
    assert!(
        s.propose_coordinator(&v("k-i2"), &v("p5"), &v(SCHOOL), &v(SCHOOL), T0 + 9, record)
            .await
            .is_err()
    );
}

async fn confirmations_of_contact_hold_until_they_expire(s: Store) {
    let (a, b) = (pseud(1), pseud(2));
    let e = entry(WIJKTEAM, Event::InvolvementConfirmed, T0);
    assert!(
        !s.is_involvement_confirmed(HUISARTS, std::slice::from_ref(&a), T0)
            .await
            .unwrap()
    );
    let size = s.log_size().await.unwrap();
    s.confirm_involvement("cf-1", &a, HUISARTS, WIJKTEAM, T0, T0 + DAY, &e)
        .await
        .unwrap();
    assert_eq!(
        s.log_size().await.unwrap(),
        size + 1,
        "logged in the same transaction"
    );
    assert!(
        s.is_involvement_confirmed(HUISARTS, std::slice::from_ref(&a), T0)
            .await
            .unwrap()
    );
    // Another person, another organisation, or after it expired: no.
    assert!(
        !s.is_involvement_confirmed(HUISARTS, std::slice::from_ref(&b), T0)
            .await
            .unwrap()
    );
    assert!(
        !s.is_involvement_confirmed(SCHOOL, std::slice::from_ref(&a), T0)
            .await
            .unwrap()
    );
    assert!(
        !s.is_involvement_confirmed(HUISARTS, std::slice::from_ref(&a), T0 + DAY)
            .await
            .unwrap()
    );
    assert!(!s.is_involvement_confirmed(HUISARTS, &[], T0).await.unwrap());
    // Under any of the person's pseudonyms.
    assert!(
        s.is_involvement_confirmed(HUISARTS, &[b.clone(), a.clone()], T0)
            .await
            .unwrap()
    );
    // Confirming again renews it (one row per confirming organisation); a later confirmation
    // removes the expired ones.
    s.confirm_involvement("cf-2", &a, HUISARTS, WIJKTEAM, T0 + 1, T0 + 3 * DAY, &e)
        .await
        .unwrap();
    assert!(
        s.is_involvement_confirmed(HUISARTS, std::slice::from_ref(&a), T0 + 2 * DAY)
            .await
            .unwrap()
    );
    s.confirm_involvement("cf-3", &b, SCHOOL, GI, T0 + 4 * DAY, T0 + 5 * DAY, &e)
        .await
        .unwrap();
    assert!(
        !s.is_involvement_confirmed(HUISARTS, std::slice::from_ref(&a), T0 + 2 * DAY)
            .await
            .unwrap()
    );
    assert!(
        s.is_involvement_confirmed(SCHOOL, std::slice::from_ref(&b), T0 + 4 * DAY)
            .await
            .unwrap()
    );
    // The sweeper drops what expired.
    assert_eq!(s.drop_expired_confirmations(T0 + 4 * DAY).await.unwrap(), 0);
    assert_eq!(s.drop_expired_confirmations(T0 + 5 * DAY).await.unwrap(), 1);
    assert!(
        !s.is_involvement_confirmed(SCHOOL, &[b], T0 + 4 * DAY)
            .await
            .unwrap()
    );
}

async fn a_coordinator_needs_every_other_partys_acceptance(s: Store) {
    case_of_two(&s).await;
    register(&s, "i3", VT, &pseud(1), &[], &Decider::allow()).await;
    let none = |_: &CaseView, _: &Proposal| Vec::<(PendingEntry, Option<Notification>)>::new();
    // The wijkteam proposes itself: the school and Veilig Thuis must both accept.
    let (p, view) = s
        .propose_coordinator(&v("k-i2"), &v("p1"), &v(WIJKTEAM), &v(WIJKTEAM), T0, none)
        .await
        .unwrap();
    assert_eq!(p.awaiting(&view), vec![v::<Oin>(SCHOOL), v(VT)]);
    // Its proposer cannot answer it; one acceptance is not enough.
    assert_eq!(
        not_found(
            s.respond_to_proposal("p1", WIJKTEAM, true, T0 + 1, none)
                .await
        ),
        rec("open proposal", "p1")
    );
    let (p, view) = s
        .respond_to_proposal("p1", SCHOOL, true, T0 + 1, none)
        .await
        .unwrap();
    assert_eq!(
        (p.state, p.accepted_by.clone(), p.awaiting(&view)),
        (
            ProposalState::Open,
            vec![v::<Oin>(SCHOOL)],
            vec![v::<Oin>(VT)]
        )
    );
    assert_eq!(view.case.coordinator_oin, None);
    assert_eq!(
        s.get_proposal("p1").await.unwrap().unwrap().accepted_by,
        vec![v::<Oin>(SCHOOL)]
    );
    // Answering twice: the school is no longer awaited.
    assert_eq!(
        not_found(
            s.respond_to_proposal("p1", SCHOOL, true, T0 + 2, none)
                .await
        ),
        rec("open proposal", "p1")
    );
    // One "no" declines it.
    let (p, view) = s
        .respond_to_proposal("p1", VT, false, T0 + 2, none)
        .await
        .unwrap();
    assert_eq!(p.state, ProposalState::Declined);
    assert_eq!(view.case.coordinator_oin, None);
    // Proposed again, accepted by both: the wijkteam coordinates.
    s.propose_coordinator(
        &v("k-i2"),
        &v("p2"),
        &v(WIJKTEAM),
        &v(WIJKTEAM),
        T0 + 3,
        none,
    )
    .await
    .unwrap();
    s.respond_to_proposal("p2", VT, true, T0 + 4, none)
        .await
        .unwrap();
    let (p, view) = s
        .respond_to_proposal("p2", SCHOOL, true, T0 + 5, none)
        .await
        .unwrap();
    assert_eq!(
        (p.state, p.decided_at),
        (ProposalState::Accepted, Some(T0 + 5))
    );
    assert_eq!(
        (
            view.case.coordinator_oin.as_deref(),
            view.case.coordinator_since
        ),
        (Some(WIJKTEAM), Some(T0 + 5))
    );
}

async fn ending_an_involvement_tells_the_others_and_ends_its_roles(s: Store) {
    case_of_two(&s).await;
    let none = |_: &CaseView, _: &Proposal| Vec::<(PendingEntry, Option<Notification>)>::new();
    s.propose_coordinator(&v("k-i2"), &v("p1"), &v(SCHOOL), &v(SCHOOL), T0, none)
        .await
        .unwrap();
    s.respond_to_proposal("p1", WIJKTEAM, true, T0 + 1, none)
        .await
        .unwrap();
    s.propose_coordinator(&v("k-i2"), &v("p2"), &v(SCHOOL), &v(WIJKTEAM), T0 + 2, none)
        .await
        .unwrap();
    let told = |i: &Involvement| {
        let mut n = notification(&i.org_oin, NotificationKind::InvolvementEnded, T0 + 10);
        n.involvement_id = Some(i.id.clone());
        (
            entry(SCHOOL, Event::InvolvementEnded, T0 + 10).recipient(i.org_oin.to_string()),
            n,
        )
    };
    let e = entry(SCHOOL, Event::InvolvementEnded, T0 + 10);
    assert_eq!(
        not_found(
            s.end_involvement("i1", WIJKTEAM, T0 + 10, T0 + 99, &e, told)
                .await
        ),
        rec("involvement", "i1")
    );
    let size = s.log_size().await.unwrap();
    let ended = s
        .end_involvement("i1", SCHOOL, T0 + 10, T0 + 99, &e, told)
        .await
        .unwrap();
    assert_eq!(
        (ended.ended_at, ended.retain_until),
        (Some(T0 + 10), Some(T0 + 99))
    );
    assert_eq!(ended.case_id.as_deref(), Some("k-i2"));
    assert_eq!(s.log_size().await.unwrap(), size + 2);
    let n = s.notifications_after(WIJKTEAM, 0, 10).await.unwrap();
    assert_eq!(
        (
            n.last().unwrap().kind,
            n.last().unwrap().involvement_id.as_deref()
        ),
        (NotificationKind::InvolvementEnded, Some("i2"))
    );
    // The school coordinated and proposed: both end with its last involvement in the case.
    let view = s.case_view("k-i2").await.unwrap();
    assert_eq!(parties(&view), vec![p(WIJKTEAM, "i2")]);
    assert_eq!(
        (view.case.coordinator_oin, view.case.coordinator_since),
        (None, None)
    );
    assert_eq!(
        s.get_proposal("p2").await.unwrap().unwrap().state,
        ProposalState::Superseded
    );
    assert!(!s.is_involved(SCHOOL, &[pseud(1)], T0 + 11).await.unwrap());
    assert_eq!(
        conflict(
            s.end_involvement("i1", SCHOOL, T0 + 11, T0 + 99, &e, told)
                .await
        ),
        in_state("involvement", "i1", "ended")
    );
    // An involvement outside any case ends without telling anyone.
    register(&s, "i9", VT, &pseud(7), &[], &Decider::allow()).await;
    let size = s.log_size().await.unwrap();
    s.end_involvement("i9", VT, T0 + 12, T0 + 99, &e, |_| panic!("no one to tell"))
        .await
        .unwrap();
    assert_eq!(s.log_size().await.unwrap(), size + 1);
}

async fn plan_versions_follow_each_other(s: Store) {
    case_of_two(&s).await;
    let c = consent("c1", &pseud(1), T0);
    s.insert_consent(&c, &entry(SCHOOL, Event::ConsentRecorded, T0))
        .await
        .unwrap();
    let publish = |plan: PlanVersion, ok: bool| {
        let s = s.clone();
        async move {
            let mut saw: Option<(Vec<String>, Vec<String>)> = None;
            let r = s
                .publish_plan(&plan, &[v("c1"), v("zz")], |view, consents| {
                    saw = Some((
                        view.party_oins().iter().map(|o| o.to_string()).collect(),
                        consents.iter().map(|c| c.id.to_string()).collect(),
                    ));
                    if ok {
                        Ok(told_of(
                            NotificationKind::SafetyPlanPublished,
                            &view.party_oins(),
                            plan.published_at,
                        ))
                    } else {
                        Err((
                            vec![entry(
                                &plan.author_oin,
                                Event::SafetyPlanDenied,
                                plan.published_at,
                            )],
                            "refused",
                        ))
                    }
                })
                .await;
            (r, saw)
        }
    };
    assert_eq!(s.get_plan("k-i2", 0).await.unwrap(), None);
    let size = s.log_size().await.unwrap();
    let (r, saw) = publish(plan_version("k-i2", 1, SCHOOL), true).await;
    assert_eq!(r.unwrap().unwrap(), plan_version("k-i2", 1, SCHOOL));
    assert_eq!(
        saw,
        Some((
            vec![SCHOOL.to_owned(), WIJKTEAM.to_owned()],
            vec!["c1".to_owned()]
        ))
    );
    assert_eq!(s.log_size().await.unwrap(), size + 2);
    assert_eq!(
        s.notifications_after(WIJKTEAM, 0, 10)
            .await
            .unwrap()
            .last()
            .unwrap()
            .kind,
        NotificationKind::SafetyPlanPublished
    );
    assert_eq!(s.case_view("k-i2").await.unwrap().case.plan_version, 1);
    // The same version again, or one ahead, is stale.
    for version in [1, 3] {
        let (r, saw) = publish(plan_version("k-i2", version, SCHOOL), true).await;
        assert_eq!(
            conflict(r),
            Clash::Stale {
                record: Record::new("safety plan of case", "k-i2"),
                version,
                latest: 1
            }
        );
        assert!(saw.is_none());
    }
    assert_eq!(
        not_found(publish(plan_version("nope", 1, SCHOOL), true).await.0),
        rec("case", "nope")
    );
    // A refusal logs its entries and stores nothing.
    let size = s.log_size().await.unwrap();
    let (r, _) = publish(plan_version("k-i2", 2, SCHOOL), false).await;
    assert_eq!(r.unwrap(), Err("refused"));
    assert_eq!(s.log_size().await.unwrap(), size + 1);
    assert_eq!(s.get_plan("k-i2", 2).await.unwrap(), None);
    let (r, _) = publish(plan_version("k-i2", 2, WIJKTEAM), true).await;
    assert_eq!(r.unwrap().unwrap().version, 2);
    // 0 is the latest; each version stays readable.
    assert_eq!(
        s.get_plan("k-i2", 0).await.unwrap().unwrap().author_oin,
        WIJKTEAM
    );
    assert_eq!(
        s.get_plan("k-i2", 1).await.unwrap().unwrap().author_oin,
        SCHOOL
    );
    assert_eq!(s.get_plan("k-i2", 7).await.unwrap(), None);
    // Confirmations: by parties only, each once, read back in order.
    let record = |v: &CaseView| {
        told_of(
            NotificationKind::SafetyPlanConfirmed,
            &v.party_oins(),
            T0 + 20,
        )
    };
    assert_eq!(
        not_found(
            s.confirm_plan("k-i2", 2, VT, "pro", &["a1".into()], T0 + 20, record)
                .await
        ),
        rec("case", "k-i2")
    );
    s.confirm_plan(
        "k-i2",
        2,
        WIJKTEAM,
        "pro-w",
        &["a1".into()],
        T0 + 21,
        record,
    )
    .await
    .unwrap();
    s.confirm_plan(
        "k-i2",
        2,
        SCHOOL,
        "pro-s",
        &["a1".into(), "a2".into()],
        T0 + 20,
        record,
    )
    .await
    .unwrap();
    // A retry keeps the first confirmation.
    s.confirm_plan(
        "k-i2",
        2,
        WIJKTEAM,
        "pro-w",
        &["a1".into()],
        T0 + 29,
        record,
    )
    .await
    .unwrap();
    let plan = s.get_plan("k-i2", 2).await.unwrap().unwrap();
    assert!(plan.fully_confirmed());
    assert_eq!(
        plan.confirmations
            .iter()
            .map(|c| (c.agreement_id.as_str(), c.oin.to_string(), c.confirmed_at))
            .collect::<Vec<_>>(),
        vec![
            ("a1", SCHOOL.to_owned(), T0 + 20),
            ("a2", SCHOOL.to_owned(), T0 + 20),
            ("a1", WIJKTEAM.to_owned(), T0 + 21)
        ]
    );
    assert!(
        s.get_plan("k-i2", 1)
            .await
            .unwrap()
            .unwrap()
            .confirmations
            .is_empty()
    );
}

async fn notifications_page_by_cursor(s: Store) {
    let e = |n: i64| entry(SCHOOL, Event::MaatregelQueried, T0 + n);
    let n = |to: &str, k: NotificationKind, at: i64| {
        let mut n = notification(to, k, T0 + at);
        n.maatregel_id = Some(v("m1"));
        n.plan_version = Some(3);
        n.proposal_id = Some(v("p1"));
        n
    };
    let size = s.log_size().await.unwrap();
    s.log_with_notifications(&[
        (e(0), None),
        (e(1), Some(n(GI, NotificationKind::MaatregelQueried, 1))),
        (
            e(2),
            Some(n(WIJKTEAM, NotificationKind::MaatregelQueried, 2)),
        ),
    ])
    .await
    .unwrap();
    s.log_with_notifications(&[]).await.unwrap();
    s.log_with_notifications(&[(e(3), Some(n(GI, NotificationKind::CoordinatorDeclined, 3)))])
        .await
        .unwrap();
    assert_eq!(s.log_size().await.unwrap(), size + 4);
    let all = s.notifications_after(GI, 0, 10).await.unwrap();
    let mut first = n(GI, NotificationKind::MaatregelQueried, 1);
    first.cursor = size + 2;
    let mut second = n(GI, NotificationKind::CoordinatorDeclined, 3);
    second.cursor = size + 4;
    assert_eq!(all, vec![first.clone(), second.clone()]);
    assert_eq!(
        s.notifications_after(GI, 0, 1).await.unwrap(),
        vec![first.clone()]
    );
    assert_eq!(
        s.notifications_after(GI, first.cursor, 1).await.unwrap(),
        vec![second.clone()]
    );
    assert_eq!(
        s.notifications_after(GI, second.cursor, 10).await.unwrap(),
        vec![]
    );
    assert_eq!(
        s.notifications_after(GI, u64::MAX, 10).await.unwrap(),
        vec![]
    );
    assert_eq!(
        s.notifications_after(WIJKTEAM, 0, 10).await.unwrap()[0].cursor,
        size + 3
    );
    assert_eq!(s.notifications_after(VT, 0, 10).await.unwrap(), vec![]);
}

// ---- maatregelen ------------------------------------------------------------------------

async fn maatregelen_are_registered_listed_and_ended(s: Store) {
    let (a, a2) = (pseud(1), pseud(2));
    let m1 = maatregel("m1", &a, T0 + 10);
    let mut m2 = maatregel("m2", &a2, T0);
    m2.ends_at = None;
    m2.responsible_oin = v(WIJKTEAM);
    m2.kind = signaalhub_server::domain::maatregel::MaatregelKind::Voogdij;
    let m0 = maatregel("m0", &a, T0 + 10);
    let e = |id: &str| entry(GI, Event::MaatregelRegistered, T0).reference(id);
    for m in [&m1, &m2, &m0] {
        s.insert_maatregel(m, &e(&m.id)).await.unwrap();
    }
    assert_eq!(s.log_size().await.unwrap(), 3);
    assert_eq!(s.get_maatregel("m2").await.unwrap(), Some(m2.clone()));
    assert_eq!(s.get_maatregel("nope").await.unwrap(), None);
    // Oldest first, then by id, under any of the pseudonyms given.
    assert_eq!(
        s.maatregelen_of(&[a.clone(), a2.clone()]).await.unwrap(),
        vec![m2.clone(), m0.clone(), m1.clone()]
    );
    assert_eq!(s.maatregelen_of(&[pseud(9)]).await.unwrap(), vec![]);
    assert_eq!(s.maatregelen_of(&[]).await.unwrap(), vec![]);
    // Ended by the registering or the responsible organisation; nobody else sees it.
    let end = entry(WIJKTEAM, Event::MaatregelEnded, T0 + 50);
    assert_eq!(
        not_found(
            s.end_maatregel("m2", SCHOOL, T0 + 50, T0 + 99, None, &end, &[])
                .await
        ),
        rec("maatregel", "m2")
    );
    let ended = s
        .end_maatregel("m2", WIJKTEAM, T0 + 50, T0 + 99, None, &end, &[])
        .await
        .unwrap();
    assert_eq!(
        (ended.ended_at, ended.retain_until),
        (Some(T0 + 50), Some(T0 + 99))
    );
    assert_eq!(
        conflict(
            s.end_maatregel("m2", GI, T0 + 51, T0 + 99, None, &end, &[])
                .await
        ),
        in_state("maatregel", "m2", "ended")
    );
    assert_eq!(
        not_found(
            s.end_maatregel("nope", GI, T0 + 51, T0 + 99, None, &end, &[])
                .await
        ),
        rec("maatregel", "nope")
    );
    s.end_maatregel("m1", GI, T0 + 52, T0 + 99, None, &end, &[])
        .await
        .unwrap();
    assert_eq!(s.log_size().await.unwrap(), 5);
    // The same id twice is refused by the database, its entry not logged.
    assert!(s.insert_maatregel(&m1, &e("m1")).await.is_err());
    assert_eq!(s.log_size().await.unwrap(), 5);
}

async fn a_plan_review_falls_due_once_and_a_newer_version_replaces_it(s: Store) {
    case_of_two(&s).await;
    let publish = |version: u32, review_at: Option<i64>| {
        let s = s.clone();
        async move {
            let plan = PlanVersion {
                review_at,
                review_state: review_at.map(|_| ReviewState::Planned),
                ..plan_version("k-i2", version, SCHOOL)
            };
            s.publish_plan(&plan, &[], |_, _| Ok::<_, (Vec<PendingEntry>, ())>(vec![]))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let v1 = publish(1, Some(T0 + 50)).await;
    assert_eq!(v1.review_state, Some(ReviewState::Planned));
    assert!(
        s.due_reminders(T0 + 49, T0 - 1, T0 - 1, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let plan_due = |version| Due::PlanReview {
        case_id: v("k-i2"),
        version,
        author_oin: v(SCHOOL),
        review_at: T0 + 50,
    };
    assert_eq!(
        s.due_reminders(T0 + 50, T0 - 1, T0 - 1, 10).await.unwrap(),
        vec![plan_due(1)]
    );
    // A newer version replaces the review planned with the earlier one.
    publish(2, Some(T0 + 50)).await;
    assert_eq!(
        s.get_plan("k-i2", 1).await.unwrap().unwrap().review_state,
        Some(ReviewState::Superseded)
    );
    assert!(!s.record_reminder(&plan_due(1), &[], T0 + 50).await.unwrap());
    assert_eq!(
        s.due_reminders(T0 + 50, T0 - 1, T0 - 1, 10).await.unwrap(),
        vec![plan_due(2)]
    );
    let items = [(
        entry(SCHOOL, Event::SafetyPlanReviewDue, T0 + 50).recipient(WIJKTEAM),
        Some(notification(
            WIJKTEAM,
            NotificationKind::SafetyPlanReviewDue,
            T0 + 50,
        )),
    )];
    assert!(
        s.record_reminder(&plan_due(2), &items, T0 + 50)
            .await
            .unwrap()
    );
    assert!(
        !s.record_reminder(&plan_due(2), &items, T0 + 50)
            .await
            .unwrap()
    );
    assert!(
        s.due_reminders(T0 + 99, T0 - 1, T0 - 1, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.get_plan("k-i2", 2).await.unwrap().unwrap().review_state,
        Some(ReviewState::Reminded)
    );
}
