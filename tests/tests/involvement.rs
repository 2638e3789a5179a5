//! The involvement register, matches (person and household), case coordination, the sealed
//! safety plan and the sociale kaart, through the running hub on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::involvement_flow::*;
use common::{TestHub, now};
use signaalhub_client::envelope::SenderKeys;
use signaalhub_client::involvement::{Agreement, SafetyPlan};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_server::ledger::{EntryOutcome, Event, LogEntry};
use signaalhub_server::store::testing::backends;
use std::time::Duration;
use tonic::Code;

const CHILD: &str = "123456782";
const SIBLING: &str = "345678904";
const PARENT: &str = "456789017";

async fn log(hub: &TestHub) -> Vec<LogEntry> {
    let n = hub.store.log_size().await.unwrap();
    hub.store
        .log_range(0, n)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, b)| LogEntry::from_bytes(&b).unwrap())
        .collect()
}

fn events(entries: &[LogEntry], event: Event) -> Vec<&LogEntry> {
    entries.iter().filter(|e| e.event == event).collect()
}

async fn next_note(
    s: &mut tonic::Streaming<pb::StreamNotificationsResponse>,
) -> pb::StreamNotificationsResponse {
    tokio::time::timeout(Duration::from_secs(10), s.message())
        .await
        .expect("a notification within 10 s")
        .unwrap()
        .expect("the stream stays open")
}

async fn no_note(s: &mut tonic::Streaming<pb::StreamNotificationsResponse>) {
    if let Ok(n) = tokio::time::timeout(Duration::from_millis(1500), s.message()).await {
        panic!("unexpected notification: {n:?}");
    }
}

/// wijkteam and GI matched about CHILD; returns the case id.
async fn matched_case(hub: &TestHub) -> String {
    let consent = case_consent(hub, "wijkteam", CHILD).await;
    register(hub, "wijkteam", CHILD, &[], Some(&consent)).await;
    let r = register(hub, "jeugdbescherming", CHILD, &[], Some(&consent)).await;
    r.case.expect("a case").case_id
}

#[tokio::test]
async fn two_organisations_match_and_both_are_told() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let consent = case_consent(&hub, "wijkteam", CHILD).await;
        let mut wijkteam = hub.client("wijkteam").await;
        let mut gi = hub.client("jeugdbescherming").await;
        let mut wn = wijkteam.stream_notifications(0).await.unwrap();
        let mut gn = gi.stream_notifications(0).await.unwrap();
        let first = register(&hub, "wijkteam", CHILD, &[], Some(&consent)).await;
        assert!(first.case.is_none(), "{b}: nobody else is involved yet");
        assert!(!first.already_registered);
        let second = register(&hub, "jeugdbescherming", CHILD, &[], Some(&consent)).await;
        let case = second.case.expect("the second registration forms a case");
        let mut parties: Vec<&str> = case
            .parties
            .iter()
            .map(|p| p.organization_oin.as_str())
            .collect();
        parties.sort();
        assert_eq!(
            parties,
            vec![
                hub.org("wijkteam").info.oin.as_str(),
                hub.org("jeugdbescherming").info.oin.as_str()
            ],
            "{b}"
        );
        assert!(case.coordinator.is_none());
        // Both are told, each about its own involvement.
        let n = next_note(&mut wn).await;
        assert_eq!(
            n.kind,
            pb::NotificationKind::InvolvementMatched as i32,
            "{b}"
        );
        assert_eq!(n.case_id, case.case_id);
        assert_eq!(
            n.involvement_id,
            first.involvement.as_ref().unwrap().involvement_id
        );
        assert!(
            n.summary_nl
                .contains(&hub.org("jeugdbescherming").info.name)
        );
        let n = next_note(&mut gn).await;
        assert_eq!(n.kind, pb::NotificationKind::InvolvementMatched as i32);
        assert_eq!(n.case_id, case.case_id);
        assert!(n.summary_nl.contains(&hub.org("wijkteam").info.name));
        // Registering again is idempotent and tells nobody anything new.
        let again = register(&hub, "wijkteam", CHILD, &[], Some(&consent)).await;
        assert!(again.already_registered);
        let id = first.involvement.unwrap().involvement_id;
        assert_eq!(again.involvement.unwrap().involvement_id, id);
        no_note(&mut wn).await;
        // Both registrations' entries name the involvement actually stored.
        let entries = log(&hub).await;
        let wijkteam_oin = hub.org("wijkteam").info.oin.clone();
        let registered: Vec<_> = events(&entries, Event::InvolvementRegistered)
            .into_iter()
            .filter(|e| e.actor_oin == wijkteam_oin)
            .collect();
        assert_eq!(registered.len(), 2, "{b}");
        for e in &registered {
            assert_eq!(e.reference.as_deref(), Some(id.as_str()), "{b}");
        }
        // Logged: one disclosure per party told, consent-based, about the child.
        let matched = events(&entries, Event::InvolvementMatched);
        assert_eq!(matched.len(), 2, "{b}");
        for e in &matched {
            assert_eq!(e.outcome, EntryOutcome::Disclosed);
            assert_eq!(e.purpose.as_deref(), Some("casusafstemming"));
            assert_eq!(e.basis, vec![format!("consent:{consent}")]);
            assert!(e.checks.consent && e.checks.relationship);
        }
        assert_eq!(events(&entries, Event::InvolvementRegistered).len(), 3);
        // The parties list is for the involved only.
        let listed = wijkteam.list_involved_parties(CHILD).await.unwrap();
        assert_eq!(listed.cases.len(), 1);
        assert_eq!(listed.own.len(), 1);
        let mut school = hub.client("school").await;
        let e = school.list_involved_parties(CHILD).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{b}: {e}");
        let e = school.get_case(&case.case_id).await.unwrap_err();
        assert_eq!(
            e.code(),
            Code::NotFound,
            "{b}: a case is not revealed to outsiders"
        );
        let entries = log(&hub).await;
        let listed = events(&entries, Event::InvolvedPartiesListed);
        assert!(listed.iter().any(
            |e| e.outcome == EntryOutcome::Denied && e.actor_oin == hub.org("school").info.oin
        ));
        assert!(
            listed.iter().any(|e| e.outcome == EntryOutcome::Disclosed
                && e.actor_oin == hub.org("wijkteam").info.oin)
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn without_a_basis_the_match_is_withheld_logged_and_formed_once_consent_is_given() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let consent = case_consent(&hub, "school", CHILD).await;
        let mut wijkteam = hub.client("wijkteam").await;
        let mut wn = wijkteam.stream_notifications(0).await.unwrap();
        // Its ground: the school's signal about the child reached it; its basis to share: none.
        common::involvement_flow::wijkteam_told_by_school(&hub, CHILD).await;
        let first = register(&hub, "wijkteam", CHILD, &[], None).await;
        let r = register(&hub, "school", CHILD, &[], Some(&consent)).await;
        assert!(
            r.case.is_none(),
            "{b}: the wijkteam has no basis to be told about"
        );
        no_note(&mut wn).await;
        let entries = log(&hub).await;
        let withheld = events(&entries, Event::InvolvementMatchWithheld);
        assert!(!withheld.is_empty(), "{b}");
        assert!(withheld.iter().all(|e| e.outcome == EntryOutcome::Withheld));
        assert!(
            withheld
                .iter()
                .any(|e| e.actor_oin == hub.org("wijkteam").info.oin
                    && e.recipient_oin.as_deref() == Some(hub.org("school").info.oin.as_str()))
        );
        assert!(events(&entries, Event::InvolvementMatched).is_empty());
        // With a basis the wijkteam registers again: now they match.
        let again = register(&hub, "wijkteam", CHILD, &[], Some(&consent)).await;
        assert!(again.already_registered);
        assert_eq!(
            again.involvement.as_ref().unwrap().involvement_id,
            first.involvement.unwrap().involvement_id
        );
        assert_eq!(again.case.expect("matched now").parties.len(), 2, "{b}");
        let n = next_note(&mut wn).await;
        assert_eq!(n.kind, pb::NotificationKind::InvolvementMatched as i32);
        hub.stop().await;
    }
}

#[tokio::test]
async fn members_of_one_household_match() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let c_child = case_consent(&hub, "wijkteam", CHILD).await;
        let c_sibling = case_consent(&hub, "jeugdbescherming", SIBLING).await;
        let mut gi = hub.client("jeugdbescherming").await;
        let mut gn = gi.stream_notifications(0).await.unwrap();
        // The wijkteam works with the child and names the household.
        let w = register(&hub, "wijkteam", CHILD, &[SIBLING, PARENT], Some(&c_child)).await;
        assert!(w.case.is_none());
        // The GI is involved with the sibling only: same household, so they match.
        let g = register(&hub, "jeugdbescherming", SIBLING, &[], Some(&c_sibling)).await;
        let case = g.case.expect("a household match forms a case");
        assert_eq!(case.parties.len(), 2, "{b}");
        let n = next_note(&mut gn).await;
        assert_eq!(
            n.kind,
            pb::NotificationKind::InvolvementMatched as i32,
            "{b}"
        );
        assert_eq!(n.case_id, case.case_id);
        // The log names both persons (as pseudonyms) and never a BSN.
        let entries = log(&hub).await;
        let matched = events(&entries, Event::InvolvementMatched);
        assert_eq!(matched.len(), 2);
        assert!(matched.iter().all(|e| e.subjects.len() == 2), "{b}");
        let registered = events(&entries, Event::InvolvementRegistered);
        assert_eq!(
            registered[0].subjects.len(),
            3,
            "subject and two household members"
        );
        // A third party involved with the parent joins the same case.
        let c_parent = {
            let mut vt = client(&hub, "veilig_thuis").await;
            vt.record_consent(pb::RecordConsentRequest {
                subject_bsn: PARENT.into(),
                subject: Some(pb::SubjectFacts {
                    age_years: Some(38),
                    ..Default::default()
                }),
                givers: vec![pb::ConsentGiver {
                    person: "vader".into(),
                    capacity: pb::GiverCapacity::Subject as i32,
                }],
                recipients: vec![
                    pb::ConsentRecipient {
                        recipient: Some(pb::consent_recipient::Recipient::Sector(
                            pb::Sector::Wijkteam as i32,
                        )),
                    },
                    pb::ConsentRecipient {
                        recipient: Some(pb::consent_recipient::Recipient::Sector(
                            pb::Sector::Jeugdbescherming as i32,
                        )),
                    },
                ],
                purposes: vec!["casusafstemming".into()],
                categories: vec!["betrokkenheid".into()],
                valid_until: Some(prost_types::Timestamp {
                    seconds: now() + 86400,
                    nanos: 0,
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .consent_id
        };
        let v = register(&hub, "veilig_thuis", PARENT, &[], Some(&c_parent)).await;
        let joined = v.case.expect("joins the household's case");
        assert_eq!(joined.case_id, case.case_id, "{b}");
        assert_eq!(joined.parties.len(), 3);
        hub.stop().await;
    }
}

#[tokio::test]
async fn coordinator_proposal_acceptance_decline_and_one_fixed_face() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let case_id = matched_case(&hub).await;
        let mut wijkteam = hub.client("wijkteam").await;
        let mut gi = hub.client("jeugdbescherming").await;
        let mut wn = wijkteam.stream_notifications(0).await.unwrap();
        let mut gn = gi.stream_notifications(0).await.unwrap();
        // Skip the match notifications.
        next_note(&mut wn).await;
        next_note(&mut gn).await;
        let gi_oin = hub.org("jeugdbescherming").info.oin.clone();
        let w_oin = hub.org("wijkteam").info.oin.clone();
        // An outsider cannot propose; a non-party cannot be proposed.
        let mut school = hub.client("school").await;
        let e = school
            .propose_coordinator(&case_id, &gi_oin)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{b}: {e}");
        let e = wijkteam
            .propose_coordinator(&case_id, &hub.org("school").info.oin)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition, "{b}: {e}");
        // The wijkteam proposes the GI; the GI declines; then the wijkteam proposes the GI
        // again and the GI accepts.
        let p = wijkteam
            .propose_coordinator(&case_id, &gi_oin)
            .await
            .unwrap();
        let proposal = p.proposal.unwrap();
        assert_eq!(proposal.state, pb::ProposalState::Open as i32);
        let n = next_note(&mut gn).await;
        assert_eq!(
            n.kind,
            pb::NotificationKind::CoordinatorProposed as i32,
            "{b}"
        );
        assert_eq!(n.proposal_id, proposal.proposal_id);
        // Only the proposed party answers.
        let e = wijkteam
            .respond_to_coordinator_proposal(&proposal.proposal_id, true)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{b}: {e}");
        let d = gi
            .respond_to_coordinator_proposal(&proposal.proposal_id, false)
            .await
            .unwrap();
        assert_eq!(
            d.proposal.unwrap().state,
            pb::ProposalState::Declined as i32
        );
        assert!(d.case.unwrap().coordinator.is_none());
        let n = next_note(&mut wn).await;
        assert_eq!(
            n.kind,
            pb::NotificationKind::CoordinatorDeclined as i32,
            "{b}"
        );
        let p2 = wijkteam
            .propose_coordinator(&case_id, &gi_oin)
            .await
            .unwrap()
            .proposal
            .unwrap();
        next_note(&mut gn).await;
        let a = gi
            .respond_to_coordinator_proposal(&p2.proposal_id, true)
            .await
            .unwrap();
        let k = a.case.unwrap().coordinator.expect("a coordinator");
        assert_eq!(k.oin, gi_oin, "{b}");
        assert_eq!(
            k.contact_professional,
            "contact jeugdbescherming, 026-0000000"
        );
        let n = next_note(&mut wn).await;
        assert_eq!(
            n.kind,
            pb::NotificationKind::CoordinatorAccepted as i32,
            "{b}"
        );
        assert!(n.summary_nl.contains("contact jeugdbescherming"));
        // Everyone sees the same one fixed face.
        let seen = wijkteam.get_case(&case_id).await.unwrap();
        assert_eq!(seen.coordinator.unwrap().oin, gi_oin);
        // Proposing itself needs the other party's acceptance too: no organisation makes
        // itself coordinator alone.
        let own = wijkteam
            .propose_coordinator(&case_id, &w_oin)
            .await
            .unwrap();
        let own_p = own.proposal.unwrap();
        assert_eq!(own_p.state, pb::ProposalState::Open as i32, "{b}");
        assert_eq!(own_p.awaiting_oins, vec![gi_oin.clone()]);
        assert_eq!(
            own.case.unwrap().coordinator.unwrap().oin,
            gi_oin,
            "{b}: unchanged until accepted"
        );
        let n = next_note(&mut gn).await;
        assert_eq!(n.kind, pb::NotificationKind::CoordinatorProposed as i32);
        assert!(n.summary_nl.contains("casusregie"), "{}", n.summary_nl);
        let a = gi
            .respond_to_coordinator_proposal(&own_p.proposal_id, true)
            .await
            .unwrap();
        assert_eq!(a.case.unwrap().coordinator.unwrap().oin, w_oin, "{b}");
        let n = next_note(&mut wn).await;
        assert_eq!(n.kind, pb::NotificationKind::CoordinatorAccepted as i32);
        // Every change is logged.
        let entries = log(&hub).await;
        assert_eq!(events(&entries, Event::CoordinatorProposed).len(), 6, "{b}");
        assert_eq!(events(&entries, Event::CoordinatorDeclined).len(), 2);
        assert_eq!(events(&entries, Event::CoordinatorAccepted).len(), 4);
        // Ending the coordinator's involvement clears the coordinator and tells the others.
        let mine = wijkteam.list_involved_parties(CHILD).await.unwrap().own;
        let ended = wijkteam
            .end_involvement(&mine[0].involvement_id)
            .await
            .unwrap();
        let keep = ended.retain_until.unwrap().seconds - ended.ended_at.unwrap().seconds;
        assert_eq!(keep, 365 * 86400, "{b}: casusafstemming retention P1Y");
        let n = next_note(&mut gn).await;
        assert_eq!(n.kind, pb::NotificationKind::InvolvementEnded as i32, "{b}");
        let case = gi.get_case(&case_id).await.unwrap();
        assert!(case.coordinator.is_none(), "{b}");
        assert_eq!(case.parties.len(), 1);
        let e = wijkteam
            .end_involvement(&mine[0].involvement_id)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition, "{b}: {e}");
        hub.stop().await;
    }
}

#[tokio::test]
async fn safety_plan_versions_confirmations_and_the_family_text() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let consent = case_consent(&hub, "wijkteam", CHILD).await;
        register(&hub, "wijkteam", CHILD, &[], Some(&consent)).await;
        let case_id = register(&hub, "jeugdbescherming", CHILD, &[], Some(&consent))
            .await
            .case
            .unwrap()
            .case_id;
        let w_oin = hub.org("wijkteam").info.oin.clone();
        let gi_oin = hub.org("jeugdbescherming").info.oin.clone();
        let mut wijkteam = hub.client("wijkteam").await;
        let mut gi = hub.client("jeugdbescherming").await;
        let mut gn = gi.stream_notifications(0).await.unwrap();
        next_note(&mut gn).await;
        let mut content = plan();
        content.agreements = vec![
            Agreement {
                id: "a1".into(),
                who: "De wijkcoach".into(),
                what: "komt elke week op huisbezoek".into(),
                by_when: Some("elke dinsdag".into()),
                party_oins: vec![w_oin.clone()],
                concerns_family: true,
            },
            Agreement {
                id: "a2".into(),
                who: "Vader".into(),
                what: "neemt een time-out bij ruzie".into(),
                by_when: None,
                party_oins: vec![],
                concerns_family: true,
            },
            Agreement {
                id: "a3".into(),
                who: "De jeugdbeschermer".into(),
                what: "belt moeder elke twee weken".into(),
                by_when: None,
                party_oins: vec![gi_oin.clone()],
                concerns_family: true,
            },
        ];
        let v1 = publish(
            &hub,
            &mut wijkteam,
            "wijkteam",
            &case_id,
            1,
            &content,
            &consent,
        )
        .await
        .unwrap();
        assert_eq!(v1.version, 1, "{b}");
        assert!(!v1.fully_confirmed);
        let n = next_note(&mut gn).await;
        assert_eq!(
            n.kind,
            pb::NotificationKind::SafetyPlanPublished as i32,
            "{b}"
        );
        assert_eq!(n.plan_version, 1);
        // The GI opens it: the content is exactly what the wijkteam sealed.
        let got = gi.get_safety_plan(&case_id, 0).await.unwrap();
        let env = got.envelope.clone().expect("sealed to the GI");
        let key = gi
            .signing_key(&env.sender_oin, &env.sender_signing_key_id)
            .await
            .unwrap();
        let opened = SafetyPlan::open(&env, &hub.secrets("jeugdbescherming"), &key).unwrap();
        assert_eq!(opened, content, "{b}");
        // Each party confirms what concerns it, and only that.
        let e = gi
            .confirm_safety_plan(&case_id, 1, vec!["a1".into()])
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{b}: {e}");
        let after_gi = gi.confirm_safety_plan(&case_id, 1, vec![]).await.unwrap();
        let a3 = after_gi
            .agreements
            .iter()
            .find(|a| a.agreement_id == "a3")
            .unwrap();
        assert_eq!(a3.confirmations[0].oin, gi_oin);
        assert!(!after_gi.fully_confirmed);
        let done = wijkteam
            .confirm_safety_plan(&case_id, 1, vec![])
            .await
            .unwrap();
        assert!(done.fully_confirmed, "{b}");
        // The family's text: plain Dutch, with who confirmed.
        let names = |o: &str| {
            if o == w_oin {
                "Wijkteam Arnhem-Oost".to_string()
            } else {
                "Jeugdbescherming Gelderland".to_string()
            }
        };
        let text = opened.render_for_family(&done, names);
        assert!(text.contains("1. De wijkcoach komt elke week op huisbezoek (elke dinsdag)."));
        assert!(text.contains("Bevestigd door: Jeugdbescherming Gelderland."));
        // A stale version is refused; the next one is accepted and becomes the latest.
        let stale = publish(
            &hub,
            &mut gi,
            "jeugdbescherming",
            &case_id,
            1,
            &content,
            &consent,
        )
        .await
        .unwrap_err();
        assert_eq!(stale.code(), Code::Aborted, "{b}: {stale}");
        content.agreements.truncate(2);
        let v2 = publish(
            &hub,
            &mut gi,
            "jeugdbescherming",
            &case_id,
            2,
            &content,
            &consent,
        )
        .await
        .unwrap();
        assert_eq!(v2.author_oin, gi_oin);
        assert_eq!(gi.get_safety_plan(&case_id, 0).await.unwrap().version, 2);
        assert_eq!(
            wijkteam
                .get_case(&case_id)
                .await
                .unwrap()
                .safety_plan_version,
            2
        );
        // Version 1 stays readable with its confirmations.
        assert!(
            wijkteam
                .get_safety_plan(&case_id, 1)
                .await
                .unwrap()
                .fully_confirmed
        );
        // Outsiders learn nothing.
        let mut school = hub.client("school").await;
        let e = school.get_safety_plan(&case_id, 0).await.unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{b}: {e}");
        // Need-to-know inside a party: the GI's privacy officer (role fg, no convenant role)
        // reads neither the case, nor the plan, nor the parties.
        let mut fg_claims = hub.claims("jeugdbescherming");
        fg_claims["roles"] = serde_json::json!(["fg"]);
        let mut gi_fg = hub
            .client_with_token(
                "jeugdbescherming",
                hub.token("jeugdbescherming", &fg_claims),
            )
            .await;
        let e = gi_fg.get_safety_plan(&case_id, 0).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{b}: {e}");
        let e = gi_fg.get_case(&case_id).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{b}: {e}");
        // Logged: one disclosure per party told, reads and confirmations.
        let entries = log(&hub).await;
        let published = events(&entries, Event::SafetyPlanPublished)
            .into_iter()
            .filter(|e| e.outcome == EntryOutcome::Disclosed)
            .count();
        assert_eq!(published, 2, "{b}: v1 to the GI, v2 to the wijkteam");
        assert!(!events(&entries, Event::SafetyPlanRead).is_empty());
        assert_eq!(
            events(&entries, Event::SafetyPlanConfirmed)
                .iter()
                .filter(|e| e.outcome == EntryOutcome::Recorded)
                .count(),
            2
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_plan_must_be_sealed_to_every_party_and_shared_on_a_basis() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let consent = case_consent(&hub, "wijkteam", CHILD).await;
        register(&hub, "wijkteam", CHILD, &[], Some(&consent)).await;
        let case_id = register(&hub, "jeugdbescherming", CHILD, &[], Some(&consent))
            .await
            .case
            .unwrap()
            .case_id;
        let mut wijkteam = hub.client("wijkteam").await;
        let mut content = plan();
        content.agreements = vec![Agreement {
            id: "a1".into(),
            who: "Moeder".into(),
            what: "belt bij zorgen de wijkcoach".into(),
            by_when: None,
            party_oins: vec![],
            concerns_family: true,
        }];
        // Sealed to the wijkteam only: refused, naming the missing party.
        let o = hub.org("wijkteam");
        let sender =
            SenderKeys::from_pkcs8_der(&o.info.oin, &o.info.signing_key_id, &o.signing_pkcs8)
                .unwrap();
        let keys = wijkteam
            .recipient_keys(std::slice::from_ref(&o.info.oin))
            .await
            .unwrap();
        let req = content
            .seal(
                &case_id,
                1,
                pb::Basis {
                    legal: None,
                    consent_ids: vec![consent.clone()],
                },
                &sender,
                &keys,
                now(),
            )
            .unwrap();
        let e = wijkteam.publish_safety_plan(req).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{b}: {e}");
        assert!(
            e.to_string()
                .contains(&hub.org("jeugdbescherming").info.oin)
        );
        // A consent that does not cover the plan's category: refused by the convenant, logged.
        let narrow = {
            let mut c = hub.client("wijkteam").await;
            c.record_consent(pb::RecordConsentRequest {
                subject_bsn: CHILD.into(),
                subject: Some(pb::SubjectFacts {
                    age_years: Some(9),
                    age_band: 0,
                    gezag_holders: vec!["ouder-1".into()],
                }),
                givers: vec![pb::ConsentGiver {
                    person: "ouder-1".into(),
                    capacity: pb::GiverCapacity::GezagHolder as i32,
                }],
                recipients: vec![pb::ConsentRecipient {
                    recipient: Some(pb::consent_recipient::Recipient::Sector(
                        pb::Sector::Jeugdbescherming as i32,
                    )),
                }],
                purposes: vec!["casusafstemming".into()],
                categories: vec!["betrokkenheid".into()],
                valid_until: Some(prost_types::Timestamp {
                    seconds: now() + 86400,
                    nanos: 0,
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .consent_id
        };
        let e = publish(
            &hub,
            &mut wijkteam,
            "wijkteam",
            &case_id,
            1,
            &content,
            &narrow,
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{b}: {e}");
        let entries = log(&hub).await;
        assert_eq!(events(&entries, Event::SafetyPlanDenied).len(), 1, "{b}");
        assert!(wijkteam.get_safety_plan(&case_id, 0).await.is_err());
        hub.stop().await;
    }
}

#[tokio::test]
async fn organisations_keep_their_own_entry_on_the_sociale_kaart() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut wijkcoach = hub.client("wijkteam").await;
        let request = pb::UpdateOwnProfileRequest {
            region: "Gelderland-Zuid".into(),
            expertise: vec![
                "Huiselijk geweld".into(),
                "veiligheidsplan".into(),
                "huiselijk geweld".into(),
            ],
            contact_point: "026-7654321".into(),
        };
        let e = wijkcoach
            .update_own_profile(request.clone())
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{b}: {e}");
        let mut claims = hub.claims("wijkteam");
        claims["roles"] = serde_json::json!(["profile_admin"]);
        let mut admin = hub
            .client_with_token("wijkteam", hub.token("wijkteam", &claims))
            .await;
        let o = admin.update_own_profile(request).await.unwrap();
        assert_eq!(o.region, "gelderland-zuid", "{b}");
        assert_eq!(o.expertise, vec!["huiselijk geweld", "veiligheidsplan"]);
        assert_eq!(o.contact_point, "026-7654321");
        // Professionals find who offers what where.
        let found = wijkcoach
            .list_organizations(pb::ListOrganizationsRequest {
                region: "gelderland-zuid".into(),
                expertise: "veiligheidsplan".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(found.organizations.len(), 1, "{b}");
        assert_eq!(found.organizations[0].oin, hub.org("wijkteam").info.oin);
        let by_text = wijkcoach
            .list_organizations(pb::ListOrganizationsRequest {
                query: "veiligheid".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(by_text.organizations.len(), 1);
        let bad = admin
            .update_own_profile(pb::UpdateOwnProfileRequest {
                region: String::new(),
                expertise: vec!["x".repeat(65)],
                contact_point: "a\nb".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(bad.code(), Code::InvalidArgument, "{b}: {bad}");
        for f in ["region", "expertise", "contact_point"] {
            assert!(bad.to_string().contains(f), "{b}: {bad}");
        }
        hub.stop().await;
    }
}

#[tokio::test]
async fn the_database_holds_no_bsn_and_no_plan_text() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let consent = case_consent(&hub, "wijkteam", CHILD).await;
        register(&hub, "wijkteam", CHILD, &[SIBLING, PARENT], Some(&consent)).await;
        let case_id = register(&hub, "jeugdbescherming", CHILD, &[], Some(&consent))
            .await
            .case
            .unwrap()
            .case_id;
        let mut gi = hub.client("jeugdbescherming").await;
        gi.register_maatregel(pb::RegisterMaatregelRequest {
            subject_bsn: CHILD.into(),
            kind: pb::MaatregelKind::Ots as i32,
            contact_point: "Team Arnhem".into(),
            ..Default::default()
        })
        .await
        .unwrap();
        let mut wijkteam = hub.client("wijkteam").await;
        assert!(wijkteam.has_maatregel(CHILD).await.unwrap().exists);
        let mut content = plan();
        content.agreements = vec![Agreement {
            id: "a1".into(),
            who: "Vader".into(),
            what: "neemt een time-out bij ruzie".into(),
            by_when: None,
            party_oins: vec![],
            concerns_family: true,
        }];
        publish(
            &hub,
            &mut wijkteam,
            "wijkteam",
            &case_id,
            1,
            &content,
            &consent,
        )
        .await
        .unwrap();
        let hay = match &hub.store {
            signaalhub_server::store::Store::Sqlite { .. } => {
                let path = hub.config.database_target();
                let mut bytes = std::fs::read(&path).unwrap();
                if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                    bytes.extend(wal);
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }
            signaalhub_server::store::Store::Postgres(p) => {
                let tables: Vec<String> = sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'")
                    .fetch_all(p)
                    .await
                    .unwrap();
                let mut all = String::new();
                for t in tables {
                    let rows: Vec<String> =
                        sqlx::query_scalar(&format!("SELECT t::text FROM {t} t"))
                            .fetch_all(p)
                            .await
                            .unwrap();
                    for r in rows {
                        all.push_str(&r);
                        for part in r.split("\\x") {
                            let hexpart: String =
                                part.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
                            if let Ok(bytes) = hex::decode(&hexpart[..hexpart.len() / 2 * 2]) {
                                all.push_str(&String::from_utf8_lossy(&bytes));
                            }
                        }
                    }
                }
                all
            }
        };
        assert!(
            hay.contains("involvement_registered"),
            "{b}: the scan sees the log"
        );
        assert!(hay.contains(&case_id), "{b}: the scan sees the register");
        for bsn in [CHILD, SIBLING, PARENT] {
            assert!(!hay.contains(bsn), "{b}: a BSN is stored in the clear");
        }
        assert!(!hay.contains("time-out"), "{b}: plan text is stored");
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_household_registration_merges_two_cases_into_the_oldest() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let c_child = case_consent(&hub, "wijkteam", CHILD).await;
        let c_sibling = case_consent(&hub, "school", SIBLING).await;
        register(&hub, "wijkteam", CHILD, &[], Some(&c_child)).await;
        let a = register(&hub, "jeugdbescherming", CHILD, &[], Some(&c_child))
            .await
            .case
            .unwrap();
        register(&hub, "school", SIBLING, &[], Some(&c_sibling)).await;
        let bcase = register(&hub, "jeugdbescherming", SIBLING, &[], Some(&c_sibling))
            .await
            .case
            .unwrap();
        assert_ne!(a.case_id, bcase.case_id, "{b}: two separate cases");
        // The wijkteam coordinates case A (the GI, its other party, accepts).
        let mut wijkteam = hub.client("wijkteam").await;
        let p = wijkteam
            .propose_coordinator(&a.case_id, &hub.org("wijkteam").info.oin)
            .await
            .unwrap()
            .proposal
            .unwrap();
        hub.client("jeugdbescherming")
            .await
            .respond_to_coordinator_proposal(&p.proposal_id, true)
            .await
            .unwrap();
        // Veilig Thuis works with the parent and names both children: one case.
        let c_parent = {
            let mut vt = client(&hub, "veilig_thuis").await;
            vt.record_consent(pb::RecordConsentRequest {
                subject_bsn: PARENT.into(),
                subject: Some(pb::SubjectFacts {
                    age_years: Some(38),
                    ..Default::default()
                }),
                givers: vec![pb::ConsentGiver {
                    person: "moeder".into(),
                    capacity: pb::GiverCapacity::Subject as i32,
                }],
                recipients: [
                    pb::Sector::Wijkteam,
                    pb::Sector::Jeugdbescherming,
                    pb::Sector::School,
                ]
                .iter()
                .map(|s| pb::ConsentRecipient {
                    recipient: Some(pb::consent_recipient::Recipient::Sector(*s as i32)),
                })
                .collect(),
                purposes: vec!["casusafstemming".into()],
                categories: vec!["betrokkenheid".into()],
                valid_until: Some(prost_types::Timestamp {
                    seconds: now() + 86400,
                    nanos: 0,
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .consent_id
        };
        let merged = register(
            &hub,
            "veilig_thuis",
            PARENT,
            &[CHILD, SIBLING],
            Some(&c_parent),
        )
        .await
        .case
        .expect("one case");
        assert_eq!(merged.case_id, a.case_id, "{b}: the oldest case survives");
        assert_eq!(merged.parties.len(), 5);
        assert_eq!(
            merged.coordinator.unwrap().oin,
            hub.org("wijkteam").info.oin,
            "{b}: the coordinator stays"
        );
        // The absorbed case's id leads to the surviving case.
        let mut school = hub.client("school").await;
        assert_eq!(
            school.get_case(&bcase.case_id).await.unwrap().case_id,
            a.case_id
        );
        // The school now learns of the wijkteam and Veilig Thuis (and of the GI's involvement with
        // the other child).
        let mut sn = school.stream_notifications(0).await.unwrap();
        let first = next_note(&mut sn).await;
        assert_eq!(
            first.case_id, bcase.case_id,
            "{b}: the first match, with the GI"
        );
        let second = next_note(&mut sn).await;
        assert_eq!(second.case_id, a.case_id);
        assert!(second.summary_nl.contains(&hub.org("wijkteam").info.name));
        assert!(
            second
                .summary_nl
                .contains(&hub.org("veilig_thuis").info.name)
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn organisations_registering_at_the_same_time_always_match() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        for bsn in [CHILD, SIBLING, PARENT] {
            let consent = case_consent(&hub, "wijkteam", bsn).await;
            let (w, g) = tokio::join!(
                register(&hub, "wijkteam", bsn, &[], Some(&consent)),
                register(&hub, "jeugdbescherming", bsn, &[], Some(&consent))
            );
            let case = w.case.or(g.case).expect("whichever came second matched");
            assert_eq!(case.parties.len(), 2, "{b}");
        }
        hub.stop().await;
    }
}

#[tokio::test]
async fn bad_registrations_are_refused_field_by_field_and_nothing_is_stored() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut wijkteam = hub.client("wijkteam").await;
        let e = wijkteam
            .register_involvement(pb::RegisterInvolvementRequest {
                subject_bsn: "123456789".into(),
                household_bsns: vec![CHILD.into(), CHILD.into()],
                contact_professional: "line\nbreak".into(),
                started_at: Some(prost_types::Timestamp {
                    seconds: now() + 86400,
                    nanos: 0,
                }),
                basis: Some(pb::Basis {
                    legal: None,
                    consent_ids: vec!["c_unknown".into()],
                }),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{b}: {e}");
        let text = e.to_string();
        for f in [
            "subject_bsn",
            "household_bsns",
            "contact_professional",
            "started_at",
            "basis.consent_ids",
        ] {
            assert!(text.contains(f), "{b}: no violation for {f}: {text}");
        }
        assert!(
            !text.contains("123456789") && !text.contains(CHILD),
            "{b}: BSN echoed"
        );
        let too_many: Vec<String> = (0..17).map(|_| SIBLING.to_string()).collect();
        let e = wijkteam
            .register_involvement(pb::RegisterInvolvementRequest {
                subject_bsn: CHILD.into(),
                household_bsns: too_many,
                contact_professional: "ok".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{b}: {e}");
        assert!(
            events(&log(&hub).await, Event::InvolvementRegistered).is_empty(),
            "{b}"
        );
        let e = wijkteam.list_involved_parties(CHILD).await.unwrap_err();
        assert_eq!(
            e.code(),
            Code::PermissionDenied,
            "{b}: nothing was registered"
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_safety_plans_review_moment_reaches_every_party_once() {
    use signaalhub_server::domain::involvement::NotificationKind;
    for b in backends() {
        let hub = TestHub::start_with(b, |d| d.to_owned(), "[reminders]\ninterval_ms = 0\n").await;
        let policy = signaalhub_server::load_policy(&hub.config).unwrap();
        let consent = case_consent(&hub, "wijkteam", CHILD).await;
        register(&hub, "wijkteam", CHILD, &[], Some(&consent)).await;
        let case_id = register(&hub, "jeugdbescherming", CHILD, &[], Some(&consent))
            .await
            .case
            .unwrap()
            .case_id;
        let mut wijkteam = hub.client("wijkteam").await;
        let t = now();
        // A review moment in the past is refused; nothing is published.
        let mut content = plan();
        content.agreements = vec![Agreement {
            id: "a1".into(),
            who: "De wijkcoach".into(),
            what: "komt elke week op huisbezoek".into(),
            by_when: None,
            party_oins: vec![hub.org("wijkteam").info.oin.clone()],
            concerns_family: true,
        }];
        let mut req = plan_request(
            &hub,
            &mut wijkteam,
            "wijkteam",
            &case_id,
            1,
            &content,
            &consent,
            t,
        )
        .await;
        req.review_at = Some(prost_types::Timestamp {
            seconds: t - 1,
            nanos: 0,
        });
        let e = wijkteam.publish_safety_plan(req.clone()).await.unwrap_err();
        assert_eq!(common::violations(e)[0].0, "review_at", "{b}");
        req.review_at = Some(prost_types::Timestamp {
            seconds: t + 6 * 7 * 86400,
            nanos: 0,
        });
        let v1 = wijkteam.publish_safety_plan(req).await.unwrap();
        assert_eq!(v1.review_at.map(|r| r.seconds), Some(t + 6 * 7 * 86400));

        let r = signaalhub_server::reminders::run(&hub.store, &policy, t + 6 * 7 * 86400 - 1, 10)
            .await
            .unwrap();
        assert_eq!(r.total(), 0);
        let r = signaalhub_server::reminders::run(&hub.store, &policy, t + 6 * 7 * 86400, 10)
            .await
            .unwrap();
        assert_eq!(r.plan_reviews, 1, "{b}");
        assert_eq!(
            signaalhub_server::reminders::run(&hub.store, &policy, t + 50 * 86400, 10)
                .await
                .unwrap()
                .total(),
            0,
            "told once"
        );
        // Both parties, the author too, hear it with the case and the version.
        for party in ["wijkteam", "jeugdbescherming"] {
            let told: Vec<_> = hub
                .store
                .notifications_after(&hub.org(party).info.oin, 0, 100)
                .await
                .unwrap()
                .into_iter()
                .filter(|n| n.kind == NotificationKind::SafetyPlanReviewDue)
                .collect();
            assert_eq!(told.len(), 1, "{b} {party}");
            assert_eq!(
                told[0].case_id.as_ref().map(|c| c.to_string()),
                Some(case_id.clone())
            );
            assert_eq!(told[0].plan_version, Some(1));
            assert!(told[0].summary_nl.contains("evaluatie"));
        }
        assert!(
            hub.store
                .notifications_after(&hub.org("school").info.oin, 0, 100)
                .await
                .unwrap()
                .is_empty(),
            "not a party"
        );
        let log = log(&hub).await;
        let due: Vec<&LogEntry> = log
            .iter()
            .filter(|e| e.event == Event::SafetyPlanReviewDue)
            .collect();
        assert_eq!(due.len(), 2);
        assert!(due.iter().all(|e| e.outcome == EntryOutcome::Recorded));
        hub.stop().await;
    }
}
