//! Police zorgmeldingen, Veilig Thuis triage and the handover to the wijkteam, through the
//! running hub, on every backend (seeds 000, 002, 003; SCENARIOS.md 1 and 7).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::TestHub;
use common::zorgmelding_flow::*;
use signaalhub_client::ClientError;
use signaalhub_client::envelope;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_server::ledger::Event;
use signaalhub_server::store::testing::backends;
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;

#[tokio::test]
async fn fragments_of_one_incident_reach_veilig_thuis_as_one_melding_in_order_with_provenance() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let id = quarrel_on_the_street(&hub).await;
        let mut vt = hub.client("veilig_thuis").await;
        for service in [
            "signaalhub.v1.ZorgmeldingService",
            "signaalhub.v1.TriageService",
        ] {
            assert_eq!(vt.health(service).await.unwrap(), 1, "{service} SERVING");
        }
        let mut stream = vt.stream_zorgmeldingen(0).await.unwrap();
        let item = next(&mut stream).await;
        quiet(&mut stream).await; // one melding, not four forms
        assert!(!item.update);
        let m = item.zorgmelding.unwrap();
        assert_eq!(m.zorgmelding_id, id);
        assert_eq!(m.registration_number, REG);
        assert_eq!(m.police_oin, hub.org("politie").info.oin);
        assert_eq!(m.subject_count, 4);
        let kinds: Vec<i32> = m.fragments.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            vec![
                pb::FragmentKind::Incident as i32,
                pb::FragmentKind::Persons as i32,
                pb::FragmentKind::ChildrenPresent as i32
            ]
        );
        let dir = vt
            .get_organization(&hub.org("politie").info.oin)
            .await
            .unwrap();
        for (i, (f, payload)) in m
            .fragments
            .iter()
            .zip([INCIDENT, PERSONS, CHILDREN])
            .enumerate()
        {
            assert_eq!(f.sequence, i as u32 + 1);
            assert_eq!(f.author_oin, hub.org("politie").info.oin);
            assert_eq!(f.author_professional, "dev-politie");
            assert_eq!(f.author_role, "wijkagent");
            assert!(f.received_at.is_some());
            let env = f.envelope.as_ref().unwrap();
            let key = signing_key(&dir, &env.sender_signing_key_id);
            assert_eq!(
                envelope::open(env, &hub.secrets("veilig_thuis"), &key).unwrap(),
                payload
            );
            // Sealed to Veilig Thuis only.
            assert!(envelope::open(env, &hub.secrets("wijkteam"), &key).is_err());
        }
        // The same fragment id with other metadata is refused.
        let other = fragment(
            &hub,
            REG,
            "frag-incident",
            pb::FragmentKind::History,
            &[MOTHER],
            &["incidentgegevens"],
            INCIDENT,
        )
        .await;
        let mut politie = hub.client("politie").await;
        assert_eq!(
            politie.submit_fragment(other).await.unwrap_err().code(),
            Code::AlreadyExists
        );
        // The police see their own melding, without envelopes; nobody else sees it.
        let own = politie.get_zorgmelding_by_registration(REG).await.unwrap();
        assert_eq!(own.fragments.len(), 3);
        assert!(own.fragments.iter().all(|f| f.envelope.is_none()));
        assert!(own.recidive.is_none());
        let mut wijkteam = hub.client("wijkteam").await;
        assert_eq!(
            wijkteam.get_zorgmelding(&id).await.unwrap_err().code(),
            Code::NotFound
        );
        // Veilig Thuis reads it again: envelopes, and the read is logged.
        let before = hub.store.log_size().await.unwrap();
        let again = vt.get_zorgmelding(&id).await.unwrap();
        assert!(again.fragments.iter().all(|f| f.envelope.is_some()));
        assert_eq!(hub.store.log_size().await.unwrap(), before + 1);
        // Logged: three fragments, one delivery (a disclosure to Veilig Thuis), one read.
        let ev = events(&hub).await;
        let count = |e: Event| ev.iter().filter(|x| x.event == e).count();
        assert_eq!(count(Event::ZorgmeldingFragmentSent), 3);
        assert_eq!(count(Event::ZorgmeldingDelivered), 1);
        assert_eq!(count(Event::ZorgmeldingRead), 1);
        let delivered = ev
            .iter()
            .find(|x| x.event == Event::ZorgmeldingDelivered)
            .unwrap();
        assert_eq!(delivered.subjects.len(), 4);
        assert_eq!(
            delivered.recipient_oin.as_deref(),
            Some(hub.org("veilig_thuis").info.oin.as_str())
        );
        assert_eq!(delivered.basis, vec!["legal:wpg_zorgmelding".to_string()]);
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_late_fragment_attaches_to_the_melding_and_notifies_veilig_thuis() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut vt = hub.client("veilig_thuis").await;
        let mut stream = vt.stream_zorgmeldingen(0).await.unwrap();
        let first = incident(&hub, REG, "late-1", &[MOTHER]).await;
        let item = next(&mut stream).await;
        assert!(!item.update);
        assert_eq!(item.zorgmelding.as_ref().unwrap().fragments.len(), 1);
        // The children-present fragment arrives the next morning.
        let late = fragment(
            &hub,
            REG,
            "late-2",
            pb::FragmentKind::ChildrenPresent,
            &[CHILD],
            &["aanwezigheid_kinderen"],
            CHILDREN,
        )
        .await;
        let mut politie = hub.client("politie").await;
        politie.submit_fragment(late).await.unwrap();
        let update = next(&mut stream).await;
        assert!(update.update, "the late fragment is an update");
        assert!(update.cursor > item.cursor);
        let m = update.zorgmelding.unwrap();
        assert_eq!(m.zorgmelding_id, first.zorgmelding_id);
        assert_eq!(m.fragments.len(), 2);
        assert_eq!(m.fragments[1].fragment_id, "late-2");
        assert_eq!(m.subject_count, 2);
        // The police mark it complete; Veilig Thuis sees that too; nothing attaches after.
        let done = politie.complete_zorgmelding(REG).await.unwrap();
        assert!(done.complete);
        let completed = next(&mut stream).await;
        assert!(completed.update && completed.zorgmelding.unwrap().complete);
        let after = fragment(
            &hub,
            REG,
            "late-3",
            pb::FragmentKind::Other,
            &[MOTHER],
            &["incidentgegevens"],
            b"x",
        )
        .await;
        assert_eq!(
            politie.submit_fragment(after).await.unwrap_err().code(),
            Code::FailedPrecondition
        );
        assert_eq!(
            politie.complete_zorgmelding(REG).await.unwrap_err().code(),
            Code::FailedPrecondition
        );
        // Resuming after the last cursor gives nothing again.
        drop(stream);
        let mut resumed = vt.stream_zorgmeldingen(completed.cursor).await.unwrap();
        quiet(&mut resumed).await;
        // Each version reached Veilig Thuis once, logged each time.
        let ev = events(&hub).await;
        assert_eq!(
            ev.iter()
                .filter(|e| e.event == Event::ZorgmeldingDelivered)
                .count(),
            3
        );
        assert_eq!(
            ev.iter()
                .filter(|e| e.event == Event::ZorgmeldingCompleted)
                .count(),
            1
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn only_the_police_submit_fragments_and_bad_input_is_refused_with_field_details() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        // A school cannot use the police basis: refused by the statutory floor, and logged.
        let to = recipient_key(&hub, "school", "veilig_thuis").await;
        let categories = vec!["incidentgegevens".to_string()];
        let basis = wpg(REG);
        let req = pb::SubmitFragmentRequest {
            registration_number: REG.into(),
            fragment_id: "school-1".into(),
            kind: pb::FragmentKind::Incident as i32,
            recipient_oin: hub.org("veilig_thuis").info.oin.clone(),
            subject_bsns: vec![CHILD.into()],
            categories: categories.clone(),
            envelope: Some(seal(
                &hub,
                "school",
                &to,
                "school-1",
                "zorgmelding_politie",
                &categories,
                &basis,
                b"x",
            )),
            basis: Some(basis),
            acting_role: String::new(),
        };
        let before = hub.store.log_size().await.unwrap();
        let mut school = hub.client("school").await;
        let Err(ClientError::Status(s)) = school.submit_fragment(req).await else {
            panic!("a school fragment must be refused")
        };
        assert_eq!(s.code(), Code::PermissionDenied);
        assert!(
            s.message().contains("BASIS_WRONG_SENDER") || s.message().contains("NO_FLOW"),
            "{}",
            s.message()
        );
        assert_eq!(hub.store.log_size().await.unwrap(), before + 1);
        let ev = events(&hub).await;
        assert_eq!(ev.last().unwrap().event, Event::ZorgmeldingFragmentDenied);
        // Nothing reached Veilig Thuis.
        let mut vt = hub.client("veilig_thuis").await;
        let mut stream = vt.stream_zorgmeldingen(0).await.unwrap();
        quiet(&mut stream).await;

        // The police to the wijkteam: no such flow.
        let mut politie = hub.client("politie").await;
        let wk = recipient_key(&hub, "politie", "wijkteam").await;
        let mut req = fragment(
            &hub,
            REG,
            "p-1",
            pb::FragmentKind::Incident,
            &[CHILD],
            &["incidentgegevens"],
            b"x",
        )
        .await;
        req.recipient_oin = hub.org("wijkteam").info.oin.clone();
        req.envelope = Some(seal(
            &hub,
            "politie",
            &wk,
            "p-1",
            "zorgmelding_politie",
            &req.categories,
            req.basis.as_ref().unwrap(),
            b"x",
        ));
        assert_eq!(
            politie.submit_fragment(req).await.unwrap_err().code(),
            Code::PermissionDenied
        );
        // Evidence that names another registration number; a bad BSN; no kind.
        let mut req = fragment(
            &hub,
            REG,
            "p-2",
            pb::FragmentKind::Incident,
            &[CHILD],
            &["incidentgegevens"],
            b"x",
        )
        .await;
        req.basis = Some(wpg("OTHER-1"));
        req.subject_bsns = vec!["123456789".into()];
        req.kind = 0;
        let Err(ClientError::Status(s)) = politie.submit_fragment(req).await else {
            panic!("must be refused")
        };
        assert_eq!(s.code(), Code::InvalidArgument);
        for field in [
            "basis.legal.evidence.registration_number",
            "subject_bsns",
            "kind",
        ] {
            assert!(s.message().contains(field), "{field}: {}", s.message());
        }
        assert!(!s.message().contains("123456789"), "the BSN is echoed");
        hub.stop().await;
    }
}

/// The GP reports CHILD to Veilig Thuis under the meldcode, and Veilig Thuis receives it.
async fn gp_melding(hub: &TestHub, id: &str) {
    let basis = pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: "meldrecht".into(),
            evidence: Some(pb::Evidence {
                meldcode_steps_completed: vec![1, 2, 3, 4],
                afwegingskader: pb::Afwegingskader::StructureleOnveiligheid as i32,
                client_informed: Some(true),
                ..Default::default()
            }),
        }),
        consent_ids: vec![],
    };
    let mut req = hub
        .signal(
            "huisarts",
            &["veilig_thuis"],
            id,
            b"letsel past niet bij het verhaal",
            "melding_veilig_thuis",
            &["zorgen_thuissituatie"],
            CHILD,
            basis,
        )
        .await;
    req.subject = Some(pb::SubjectFacts {
        age_years: Some(6),
        age_band: 0,
        gezag_holders: vec!["ouder-1".into()],
    });
    hub.client("huisarts").await.send_signal(req).await.unwrap();
    let mut vt = hub.client("veilig_thuis").await;
    let mut inbox = vt.stream_inbox(0).await.unwrap();
    let item = tokio::time::timeout(Duration::from_secs(10), inbox.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    vt.ack_signal(&item.sender_oin, &item.signal_id)
        .await
        .unwrap();
}

#[tokio::test]
async fn recidive_counts_earlier_signals_and_meldingen_about_the_same_persons() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        // Earlier: a GP melding about the child (delivered to Veilig Thuis), a police melding
        // about the child, a school signal to the wijkteam (not Veilig Thuis's), and a police
        // melding about someone else.
        gp_melding(&hub, "gp-1").await;
        let earlier = incident(&hub, "2026-OOST-000001", "old-1", &[CHILD]).await;
        incident(&hub, "2026-OOST-000002", "unrelated-1", &[OTHER]).await;
        // Now: the new incident about the child and the mother.
        let new = incident(&hub, REG, "new-1", &[CHILD, MOTHER]).await;
        let mut vt = hub.client("veilig_thuis").await;
        let m = vt.get_zorgmelding(&new.zorgmelding_id).await.unwrap();
        let r = m.recidive.unwrap();
        assert_eq!(r.window_days, 365, "sample convenant: P12M = a year");
        assert_eq!(r.earlier_zorgmeldingen, 1);
        assert_eq!(r.earlier_signals, 1);
        assert_eq!(
            r.sectors,
            vec!["huisarts".to_string(), "politie".to_string()]
        );
        let kinds: Vec<&str> = r.items.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(kinds, vec!["signal", "zorgmelding"], "oldest first");
        assert_eq!(r.items[0].reference, "gp-1");
        assert_eq!(r.items[1].reference, earlier.zorgmelding_id);
        assert_eq!(
            m.linked_zorgmelding_ids,
            vec![earlier.zorgmelding_id.clone()]
        );
        // The earlier melding does not count the later one as earlier, but is linked to it.
        let old = vt.get_zorgmelding(&earlier.zorgmelding_id).await.unwrap();
        let r = old.recidive.unwrap();
        assert_eq!((r.earlier_zorgmeldingen, r.earlier_signals), (0, 1));
        assert_eq!(old.linked_zorgmelding_ids, vec![new.zorgmelding_id.clone()]);
        // Nothing stacked for the unrelated person.
        let unrelated = incident(&hub, "2026-OOST-000003", "unrelated-2", &[FATHER]).await;
        let u = vt.get_zorgmelding(&unrelated.zorgmelding_id).await.unwrap();
        let r = u.recidive.unwrap();
        assert_eq!((r.earlier_zorgmeldingen, r.earlier_signals), (0, 0));
        assert!(u.linked_zorgmelding_ids.is_empty());
        // The window: with the new melding 400 days later, both earlier reports fall outside the
        // 365 days before it (still linked: the household is the same at any time)...
        const DAY: i64 = 86_400;
        let moved = hub
            .sql(&format!(
                "UPDATE zorgmeldingen SET created_at = created_at + {} WHERE zorgmelding_id = '{}'",
                400 * DAY,
                new.zorgmelding_id
            ))
            .await;
        assert_eq!(moved, 1);
        let m = vt.get_zorgmelding(&new.zorgmelding_id).await.unwrap();
        let r = m.recidive.unwrap();
        assert_eq!((r.earlier_zorgmeldingen, r.earlier_signals), (0, 0));
        assert!(r.sectors.is_empty() && r.items.is_empty(), "{r:?}");
        assert_eq!(
            m.linked_zorgmelding_ids,
            vec![earlier.zorgmelding_id.clone()]
        );
        // ...and an earlier melding 100 days after the GP's signal is inside it again, the
        // signal (400 days before) is not.
        hub.sql(&format!(
            "UPDATE zorgmeldingen SET created_at = created_at + {} WHERE zorgmelding_id = '{}'",
            100 * DAY,
            earlier.zorgmelding_id
        ))
        .await;
        let r = vt
            .get_zorgmelding(&new.zorgmelding_id)
            .await
            .unwrap()
            .recidive
            .unwrap();
        assert_eq!((r.earlier_zorgmeldingen, r.earlier_signals), (1, 0));
        assert_eq!(r.sectors, vec!["politie".to_string()]);
        assert_eq!(r.items[0].reference, earlier.zorgmelding_id);
        hub.stop().await;
    }
}

#[tokio::test]
async fn triage_turns_the_arnhem_criteria_into_the_joint_visit_advice() {
    use pb::CriterionAnswer::{No, Yes};
    use pb::OpenToHelpAnswer as O;
    use pb::SafetyConflictAnswer as S;
    for b in backends() {
        let hub = TestHub::start(b).await;
        let id = incident(&hub, REG, "t-1", &[CHILD]).await.zorgmelding_id;
        let mut vt = hub.client("veilig_thuis").await;
        let none = [No, No, No];
        // (answers, acute, advice, criteria met, divorce only)
        let table: Vec<(pb::ArnhemCriteria, bool, pb::Advice, Vec<&str>, bool)> = vec![
            (
                criteria(No, No, No, S::No, O::Open, none),
                false,
                pb::Advice::WijkteamAlone,
                vec![],
                false,
            ),
            (
                criteria(Yes, No, No, S::No, O::Open, none),
                false,
                pb::Advice::JointVisit,
                vec!["C1_PHYSICAL_ABUSE_OR_SEVERE_VIOLENCE"],
                false,
            ),
            (
                criteria(No, Yes, No, S::No, O::Open, none),
                false,
                pb::Advice::JointVisit,
                vec!["C2_SEXUAL_ABUSE"],
                false,
            ),
            (
                criteria(No, No, Yes, S::No, O::Open, none),
                false,
                pb::Advice::JointVisit,
                vec!["C3_VIOLENCE_WITNESSED_BY_CHILDREN"],
                false,
            ),
            (
                criteria(No, No, No, S::Yes, O::Open, none),
                false,
                pb::Advice::JointVisit,
                vec!["C4_CONFLICT_ABOUT_CHILDRENS_SAFETY"],
                false,
            ),
            (
                criteria(No, No, No, S::No, O::ExpectedNotOpen, none),
                false,
                pb::Advice::JointVisit,
                vec!["C5_PARENTS_NOT_OPEN_TO_HELP"],
                false,
            ),
            (
                criteria(No, No, No, S::No, O::FoundNotOpen, none),
                false,
                pb::Advice::JointVisit,
                vec!["C5_PARENTS_NOT_OPEN_TO_HELP"],
                false,
            ),
            (
                criteria(No, No, No, S::No, O::Open, [Yes, No, Yes]),
                false,
                pb::Advice::JointVisit,
                vec!["C6_STACKED_REPORTS"],
                false,
            ),
            (
                criteria(No, No, No, S::No, O::Open, [Yes, No, No]),
                false,
                pb::Advice::WijkteamAlone,
                vec![],
                false,
            ),
            (
                criteria(No, No, No, S::DivorceOnly, O::Open, none),
                false,
                pb::Advice::WijkteamAlone,
                vec![],
                true,
            ),
            (
                criteria(Yes, No, No, S::No, O::Open, none),
                true,
                pb::Advice::StaysWithVeiligThuis,
                vec!["C1_PHYSICAL_ABUSE_OR_SEVERE_VIOLENCE"],
                false,
            ),
        ];
        for (i, (c, acute, advice, met, divorce)) in table.into_iter().enumerate() {
            let t = triage(&mut vt, &id, c, acute).await.unwrap();
            let a = t.advice.unwrap();
            assert_eq!(a.advice, advice as i32, "row {i}: {:?}", a.explanation_en);
            let codes: Vec<&str> = a.criteria_met.iter().map(|c| c.code.as_str()).collect();
            assert_eq!(codes, met, "row {i}");
            assert_eq!(a.divorce_only, divorce, "row {i}");
            assert!(!a.explanation_nl.is_empty());
            assert!(t.recidive.is_some());
        }
        // The latest triage is what GetTriage shows.
        let latest = vt.get_triage(&id).await.unwrap();
        assert!(latest.triage.unwrap().acute);
        // Every criterion must be answered (UNKNOWN is an answer; unspecified is not).
        let Err(ClientError::Status(s)) = triage(
            &mut vt,
            &id,
            pb::ArnhemCriteria {
                sexual_abuse: Yes as i32,
                ..Default::default()
            },
            false,
        )
        .await
        else {
            panic!("must be refused")
        };
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(
            s.message()
                .contains("criteria.physical_abuse_or_severe_violence")
        );
        // A stacked-reports answer of NO is overruled by the hub's count.
        let mut unknown = criteria(No, No, No, S::No, O::Open, [No, Yes, No]);
        gp_melding(&hub, "gp-stack").await;
        let id2 = incident(&hub, "2026-OOST-000777", "t-2", &[CHILD])
            .await
            .zorgmelding_id;
        let t = triage(&mut vt, &id2, unknown, false).await.unwrap();
        let a = t.advice.unwrap();
        assert_eq!(
            a.advice,
            pb::Advice::JointVisit as i32,
            "{:?}",
            a.explanation_en
        );
        assert_eq!(a.criteria_met[0].code, "C6_STACKED_REPORTS");
        // An unknown answer is listed as an open question.
        unknown.sexual_abuse = pb::CriterionAnswer::Unknown as i32;
        let t = triage(&mut vt, &id2, unknown, false).await.unwrap();
        assert_eq!(t.advice.unwrap().open_questions[0].number, 2);
        // The triage is logged; only Veilig Thuis of the melding can triage it.
        let ev = events(&hub).await;
        assert_eq!(
            ev.iter()
                .filter(|e| e.event == Event::TriageRecorded)
                .count(),
            13
        );
        let mut wijkteam = hub.client("wijkteam").await;
        let e = wijkteam
            .record_triage(pb::RecordTriageRequest {
                zorgmelding_id: id.clone(),
                criteria: Some(criteria(No, No, No, S::No, O::Open, none)),
                acute: false,
                case_reference: "x".into(),
                acting_role: String::new(),
                signal: None,
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::NotFound);
        hub.stop().await;
    }
}

#[tokio::test]
async fn handover_with_the_familys_consent_reaches_the_wijkteam_with_a_letter() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let melding = triaged(&hub).await;
        let mut vt = hub.client("veilig_thuis").await;
        // Without the family's consent: refused, named, logged; the case stays.
        let req = handover_request(&hub, &melding, "ho-0", vec![]).await;
        let Err(ClientError::Status(s)) = vt.hand_over(req).await else {
            panic!("a handover without consent must be refused")
        };
        assert_eq!(s.code(), Code::PermissionDenied);
        assert!(
            s.message().contains("CONSENT_REQUIRED_BY_FLOW"),
            "{}",
            s.message()
        );
        assert!(
            s.message().contains("stays with Veilig Thuis"),
            "{}",
            s.message()
        );
        assert_eq!(
            events(&hub).await.last().unwrap().event,
            Event::HandoverDenied
        );

        let consents = family_consent(&hub, &HANDOVER_CATEGORIES).await;
        let req = handover_request(&hub, &melding, "ho-1", consents).await;
        let r = vt.hand_over(req.clone()).await.unwrap();
        assert!(!r.duplicate);
        assert_eq!(r.decisions.len(), 1);
        assert!(
            r.decisions[0]
                .obligations
                .iter()
                .any(|o| o.kind == "INFORM_SUBJECT")
        );
        let h = r.handover.unwrap();
        assert_eq!(h.state, pb::HandoverState::Pending as i32);
        // Veilig Thuis sees the advice with the criterion behind it.
        let advice = h.advice.unwrap();
        assert_eq!(advice.advice, pb::Advice::JointVisit as i32);
        assert_eq!(
            advice.criteria_met[0].code,
            "C3_VIOLENCE_WITNESSED_BY_CHILDREN"
        );
        // The letter is wrapped plain text: compared with its words joined by single spaces.
        let letter = h
            .family_letter
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for needle in [
            "Van: Veilig Thuis Gelderland-Midden Datum:",
            "Politie Eenheid Oost-Nederland heeft bij Veilig Thuis Gelderland-Midden een melding gedaan",
            "gegevens over uw gezin gegeven aan Wijkteam Arnhem-Oost",
            "- Incident: tijd, plaats, aard, registratienummer",
            "- Of er kinderen aanwezig waren",
            "wettelijke taak van Veilig Thuis",
            "U heeft daar toestemming voor gegeven.",
            "samen bij u langs",
            "Bij Wijkteam Arnhem-Oost: Els Bouwman (wijkcoach), telefoon 026-0000002",
            "Bij Veilig Thuis Gelderland-Midden: Rianne van Rooijen",
            "Zo bereikt u de FG: fg@veilig-thuis.dev.example.",
        ] {
            assert!(
                letter.contains(needle),
                "missing {needle:?} in\n{}",
                h.family_letter
            );
        }
        // No BSN, no handover id, no code, no OIN; lines fit a printed page.
        assert!(!letter.contains(CHILD) && !letter.contains("ho-1"));
        for code in [
            "vt_wettelijke_taak",
            "overdracht_hulpverlening",
            "incidentgegevens",
            "consent:",
        ] {
            assert!(!letter.contains(code), "{code} in\n{}", h.family_letter);
        }
        assert!(!letter.contains(&hub.org("veilig_thuis").info.oin));
        assert!(h.family_letter.lines().all(|l| l.chars().count() <= 76));
        // A retry is answered as the first time.
        let again = vt.hand_over(req).await.unwrap();
        assert!(again.duplicate);

        // The wijkteam finds it, receives the re-sealed envelopes and opens them.
        let mut wijkteam = hub.client("wijkteam").await;
        let list = wijkteam.list_handovers().await.unwrap();
        assert_eq!(list.len(), 1);
        assert!(list[0].envelopes.is_empty());
        let got = wijkteam
            .get_handover(&hub.org("veilig_thuis").info.oin, "ho-1")
            .await
            .unwrap();
        assert_eq!(got.state, pb::HandoverState::Delivered as i32);
        assert_eq!(got.envelopes.len(), 3);
        // The wijkteam learns to visit jointly; the criteria (the triage outcome) only when the
        // category melding_samenvatting is handed over, which it is not here.
        let advice = got.advice.unwrap();
        assert_eq!(advice.advice, pb::Advice::JointVisit as i32);
        assert!(advice.criteria_met.is_empty());
        assert_eq!(
            got.wijkteam_contact.unwrap().name,
            "Els Bouwman",
            "the named contact at both ends"
        );
        assert_eq!(got.veilig_thuis_contact.unwrap().name, "Rianne van Rooijen");
        let dir = wijkteam
            .get_organization(&hub.org("veilig_thuis").info.oin)
            .await
            .unwrap();
        let opened: Vec<Vec<u8>> = got
            .envelopes
            .iter()
            .map(|e| {
                envelope::open(
                    e,
                    &hub.secrets("wijkteam"),
                    &signing_key(&dir, &e.sender_signing_key_id),
                )
                .unwrap()
            })
            .collect();
        assert_eq!(
            opened,
            vec![INCIDENT.to_vec(), PERSONS.to_vec(), CHILDREN.to_vec()]
        );
        // Veilig Thuis sees it delivered; others see nothing.
        let mine = vt
            .get_handover(&hub.org("veilig_thuis").info.oin, "ho-1")
            .await
            .unwrap();
        assert_eq!(mine.state, pb::HandoverState::Delivered as i32);
        assert!(mine.envelopes.is_empty());
        let mut school = hub.client("school").await;
        assert_eq!(
            school
                .get_handover(&hub.org("veilig_thuis").info.oin, "ho-1")
                .await
                .unwrap_err()
                .code(),
            Code::NotFound
        );
        // Logged: the handover, its delivery and the wijkteam's second read.
        wijkteam
            .get_handover(&hub.org("veilig_thuis").info.oin, "ho-1")
            .await
            .unwrap();
        let ev = events(&hub).await;
        for e in [
            Event::HandoverSent,
            Event::HandoverDelivered,
            Event::HandoverRead,
            Event::ConsentRecorded,
            Event::TriageRecorded,
        ] {
            assert!(ev.iter().any(|x| x.event == e), "{e:?} not logged");
        }
        let delivered = ev
            .iter()
            .find(|x| x.event == Event::HandoverDelivered)
            .unwrap();
        assert_eq!(
            delivered.purpose.as_deref(),
            Some("overdracht_hulpverlening")
        );
        assert!(
            delivered
                .basis
                .contains(&"legal:vt_wettelijke_taak".to_string())
        );
        assert!(delivered.checks.consent);
        // The family's access report lists the police melding and the handover as disclosures.
        let mut fg = {
            let mut claims = hub.claims("veilig_thuis");
            claims["roles"] = serde_json::json!(["fg"]);
            hub.client_with_token("veilig_thuis", hub.token("veilig_thuis", &claims))
                .await
        };
        let report = fg.subject_access_report(CHILD).await.unwrap();
        assert!(
            report
                .html_letter
                .contains("Gegevens over u of uw kind zijn 2 keer gedeeld."),
            "{}",
            report.html_letter
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_family_that_declines_the_wijkteam_stays_with_veilig_thuis() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let melding = triaged(&hub).await;
        let consents = family_consent(&hub, &HANDOVER_CATEGORIES).await;
        let mut vt = hub.client("veilig_thuis").await;
        let d = vt
            .record_family_declined(&melding.zorgmelding_id, "ouder-1", "vt_medewerker")
            .await
            .unwrap();
        assert_eq!(d.declined_by, "ouder-1");
        let state = vt.get_triage(&melding.zorgmelding_id).await.unwrap();
        assert_eq!(state.family_declined.unwrap().declined_by, "ouder-1");
        let req = handover_request(&hub, &melding, "ho-declined", consents).await;
        let Err(ClientError::Status(s)) = vt.hand_over(req).await else {
            panic!("must be refused")
        };
        assert_eq!(s.code(), Code::PermissionDenied);
        assert!(
            s.message().contains("FAMILY_DECLINED_WIJKTEAM"),
            "{}",
            s.message()
        );
        assert!(
            s.message().contains("the family declined the wijkteam"),
            "{}",
            s.message()
        );
        let ev = events(&hub).await;
        let last = ev.last().unwrap();
        assert_eq!(last.event, Event::HandoverDenied);
        assert_eq!(last.reasons, vec!["FAMILY_DECLINED_WIJKTEAM".to_string()]);
        assert!(ev.iter().any(|e| e.event == Event::FamilyDeclinedRecorded));
        // Nothing reached the wijkteam.
        let mut wijkteam = hub.client("wijkteam").await;
        assert!(wijkteam.list_handovers().await.unwrap().is_empty());
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_handover_to_a_malformed_oin_is_refused_at_the_edge_and_never_logged() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let melding = triaged(&hub).await;
        let consents = family_consent(&hub, &HANDOVER_CATEGORIES).await;
        let mut vt = hub.client("veilig_thuis").await;
        // A refusal the hub logs before it decides (the family declined) must not carry it.
        vt.record_family_declined(&melding.zorgmelding_id, "ouder-1", "vt_medewerker")
            .await
            .unwrap();
        // Sealed to the same text, so the envelopes' binding agrees with the request.
        let mut to = recipient_key(&hub, "veilig_thuis", "wijkteam").await;
        to.oin = "wijkteam-arnhem".into();
        let req = handover_request_to(&hub, &melding, "ho-bad-oin", consents, &to).await;
        let before = events(&hub).await.len();
        let Err(ClientError::Status(s)) = vt.hand_over(req).await else {
            panic!("{b}: must be refused")
        };
        assert_eq!(s.code(), Code::InvalidArgument, "{b}: {}", s.message());
        let fields: Vec<String> = s
            .get_error_details()
            .bad_request()
            .unwrap()
            .field_violations
            .iter()
            .map(|v| v.field.clone())
            .collect();
        assert_eq!(fields, vec!["recipient_oin".to_string()], "{b}");
        assert_eq!(events(&hub).await.len(), before, "{b}: nothing is logged");
        hub.stop().await;
    }
}

#[tokio::test]
async fn acute_cases_and_untriaged_meldingen_are_not_handed_over_and_withdrawn_consent_holds_back()
{
    for b in backends() {
        let hub = TestHub::start(b).await;
        let id = quarrel_on_the_street(&hub).await;
        let mut vt = hub.client("veilig_thuis").await;
        let melding = vt.get_zorgmelding(&id).await.unwrap();
        let consents = family_consent(&hub, &HANDOVER_CATEGORIES).await;
        // Not triaged yet.
        let req = handover_request(&hub, &melding, "ho-a", consents.clone()).await;
        assert_eq!(
            vt.hand_over(req.clone()).await.unwrap_err().code(),
            Code::FailedPrecondition
        );
        // Acute: stays with Veilig Thuis.
        use pb::CriterionAnswer::No;
        let open = criteria(
            pb::CriterionAnswer::Yes,
            No,
            No,
            pb::SafetyConflictAnswer::No,
            pb::OpenToHelpAnswer::Open,
            [No, No, No],
        );
        triage(&mut vt, &id, open, true).await.unwrap();
        let Err(ClientError::Status(s)) = vt.hand_over(req.clone()).await else {
            panic!("acute must stay")
        };
        assert_eq!(s.code(), Code::PermissionDenied);
        assert!(s.message().contains("ACUTE_STAYS_WITH_VEILIG_THUIS"));
        // Re-triaged as not acute: handed over; the family withdraws before the wijkteam
        // fetches it: held back, logged.
        triage(&mut vt, &id, open, false).await.unwrap();
        vt.hand_over(req).await.unwrap();
        let mut parent = vt_as(&hub, "vt_medewerker").await;
        parent
            .withdraw_consent(&consents[0], "ouder-2")
            .await
            .unwrap();
        let mut wijkteam = hub.client("wijkteam").await;
        let got = wijkteam
            .get_handover(&hub.org("veilig_thuis").info.oin, "ho-a")
            .await
            .unwrap();
        assert_eq!(got.state, pb::HandoverState::Withheld as i32);
        assert!(got.envelopes.is_empty());
        assert_eq!(got.reasons[0].code, "CONSENT_WITHDRAWN");
        assert_eq!(
            events(&hub).await.last().unwrap().event,
            Event::HandoverWithheld
        );
        // A person who is not in the melding cannot be handed over.
        let mut req = handover_request(&hub, &melding, "ho-b", vec![]).await;
        req.subject_bsns = vec![OTHER.into()];
        assert_eq!(
            vt.hand_over(req).await.unwrap_err().code(),
            Code::InvalidArgument
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn the_database_holds_no_bsn_and_no_payload_after_the_whole_flow() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let melding = triaged(&hub).await;
        let consents = family_consent(&hub, &HANDOVER_CATEGORIES).await;
        let mut vt = hub.client("veilig_thuis").await;
        vt.hand_over(handover_request(&hub, &melding, "ho-db", consents).await)
            .await
            .unwrap();
        hub.client("wijkteam")
            .await
            .get_handover(&hub.org("veilig_thuis").info.oin, "ho-db")
            .await
            .unwrap();
        let hay = common::database_text(&hub).await;
        assert!(hay.contains("zorgmelding_politie") && hay.contains("handover_delivered"));
        for bsn in [CHILD, SIBLING, MOTHER, FATHER] {
            assert!(!hay.contains(bsn), "{b}: a BSN is stored in the clear");
        }
        for plain in ["Ruzie op straat", "Twee kinderen", "Betrokkenen"] {
            assert!(
                !hay.contains(plain),
                "{b}: payload plaintext {plain:?} is stored"
            );
        }
        hub.stop().await;
    }
}

#[tokio::test]
async fn concurrent_fragments_and_retries_of_one_new_incident_make_one_melding() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut reqs = Vec::new();
        for i in 0..6 {
            reqs.push(
                fragment(
                    &hub,
                    REG,
                    &format!("race-{}", i % 3),
                    pb::FragmentKind::Other,
                    &[CHILD],
                    &["incidentgegevens"],
                    b"x",
                )
                .await,
            );
        }
        // Six submissions at once for a registration number the hub has not seen: three
        // fragments, each sent twice (a retry racing its original).
        let mut tasks = Vec::new();
        for req in reqs {
            let mut c = hub.client("politie").await;
            tasks.push(tokio::spawn(async move { c.submit_fragment(req).await }));
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap().unwrap());
        }
        let ids: std::collections::BTreeSet<&str> =
            answers.iter().map(|a| a.zorgmelding_id.as_str()).collect();
        assert_eq!(ids.len(), 1, "one melding for the incident");
        assert_eq!(answers.iter().filter(|a| a.duplicate).count(), 3);
        let mut vt = hub.client("veilig_thuis").await;
        let m = vt
            .get_zorgmelding(answers[0].zorgmelding_id.as_str())
            .await
            .unwrap();
        let seqs: Vec<u32> = m.fragments.iter().map(|f| f.sequence).collect();
        assert_eq!(seqs, vec![1, 2, 3]);
        let mut frag_ids: Vec<&str> = m.fragments.iter().map(|f| f.fragment_id.as_str()).collect();
        frag_ids.sort();
        assert_eq!(frag_ids, vec!["race-0", "race-1", "race-2"]);
        hub.stop().await;
    }
}

#[tokio::test]
async fn every_arrival_order_with_retries_makes_one_melding_with_each_fragment_once() {
    use pb::FragmentKind as K;
    let parts: [(K, &str, &[&str], &[u8]); 4] = [
        (K::Incident, "incidentgegevens", &[MOTHER, FATHER], INCIDENT),
        (K::Persons, "betrokken_personen", &[MOTHER, FATHER], PERSONS),
        (
            K::ChildrenPresent,
            "aanwezigheid_kinderen",
            &[CHILD],
            CHILDREN,
        ),
        (
            K::History,
            "signalen_huiselijk_geweld",
            &[MOTHER],
            b"eerder: 2025",
        ),
    ];
    // All 24 orders of the four pieces of an incident.
    let mut orders = vec![vec![0usize, 1, 2, 3]];
    while let Some(last) = orders.last() {
        let mut p = last.clone();
        let Some(i) = (0..3).rev().find(|&i| p[i] < p[i + 1]) else {
            break;
        };
        let j = (i + 1..4).rev().find(|&j| p[j] > p[i]).unwrap();
        p.swap(i, j);
        p[i + 1..].reverse();
        orders.push(p);
    }
    assert_eq!(orders.len(), 24);
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut politie = hub.client("politie").await;
        let mut vt = hub.client("veilig_thuis").await;
        for (n, order) in orders.iter().enumerate() {
            let reg = format!("2026-OOST-{:06}", 500 + n);
            let request = |k: usize| {
                let (kind, category, subjects, payload) = parts[k];
                let id = format!("{reg}-{k}");
                let hub = &hub;
                let reg = reg.clone();
                async move { fragment(hub, &reg, &id, kind, subjects, &[category], payload).await }
            };
            let mut melding: Option<String> = None;
            for (pos, &k) in order.iter().enumerate() {
                let r = politie.submit_fragment(request(k).await).await.unwrap();
                assert!(!r.duplicate, "order {order:?}: first arrival of {k}");
                assert_eq!(r.sequence as usize, pos + 1, "order {order:?}");
                let id = melding.get_or_insert_with(|| r.zorgmelding_id.clone());
                assert_eq!(&r.zorgmelding_id, id, "order {order:?}: one melding");
                // A network retry (re-sealed) of one of the pieces sent so far.
                let again = order[(n + pos) % (pos + 1)];
                let r = politie.submit_fragment(request(again).await).await.unwrap();
                assert!(r.duplicate, "order {order:?}: retry of {again}");
                assert_eq!(r.fragment_count as usize, pos + 1);
            }
            // Every piece retried once more at the end, in reverse.
            for &k in order.iter().rev() {
                let r = politie.submit_fragment(request(k).await).await.unwrap();
                assert!(r.duplicate);
                assert_eq!(r.fragment_count, 4);
            }
            let m = vt
                .get_zorgmelding(melding.as_deref().unwrap())
                .await
                .unwrap();
            let got: Vec<(u32, String)> = m
                .fragments
                .iter()
                .map(|f| (f.sequence, f.fragment_id.clone()))
                .collect();
            let want: Vec<(u32, String)> = order
                .iter()
                .enumerate()
                .map(|(pos, k)| (pos as u32 + 1, format!("{reg}-{k}")))
                .collect();
            assert_eq!(
                got, want,
                "{b}: order {order:?}: each fragment once, in arrival order"
            );
            for f in &m.fragments {
                let k: usize = f.fragment_id.rsplit('-').next().unwrap().parse().unwrap();
                assert_eq!(f.kind, parts[k].0 as i32);
                assert_eq!(f.categories, vec![parts[k].1.to_string()]);
            }
        }
        hub.stop().await;
    }
}

/// Under a convenant whose handover flow requires the wijkteam to be involved with the child, a
/// handover to an involved wijkteam is allowed when sent and delivered when fetched: delivery
/// asks the involvement register again, as sending did (it used to decide as if not involved,
/// and withheld every such handover).
#[tokio::test]
async fn a_handover_that_requires_involvement_is_delivered_to_an_involved_wijkteam() {
    let sample = include_str!("../../policy/convenants/sample.toml");
    let onward = "onward_from = [\"melding_veilig_thuis\", \"zorgmelding_politie\"]\n";
    let convenant = sample.replacen(onward, &format!("{onward}requires_involvement = true\n"), 1);
    assert_ne!(
        convenant, sample,
        "the handover flow is in the sample convenant"
    );
    for b in backends() {
        let hub = TestHub::start_with_convenant(b, &convenant).await;
        let melding = triaged(&hub).await;
        let mut vt = hub.client("veilig_thuis").await;
        let consents = family_consent(&hub, &HANDOVER_CATEGORIES).await;
        // Not involved: refused when sent.
        let req = handover_request(&hub, &melding, "ho-1", consents.clone()).await;
        let Err(ClientError::Status(s)) = vt.hand_over(req).await else {
            panic!("a handover to an uninvolved wijkteam must be refused")
        };
        assert_eq!(s.code(), Code::PermissionDenied, "{}", s.message());
        // Involved: allowed when sent, and delivered when fetched.
        let case = common::involvement_flow::case_consent(&hub, "wijkteam", CHILD).await;
        common::involvement_flow::register(&hub, "wijkteam", CHILD, &[], Some(&case)).await;
        let req = handover_request(&hub, &melding, "ho-2", consents).await;
        let r = vt.hand_over(req).await.unwrap();
        assert_eq!(r.handover.unwrap().state, pb::HandoverState::Pending as i32);
        let mut wijkteam = hub.client("wijkteam").await;
        let got = wijkteam
            .get_handover(&hub.org("veilig_thuis").info.oin, "ho-2")
            .await
            .unwrap();
        assert_eq!(
            got.state,
            pb::HandoverState::Delivered as i32,
            "{:?}",
            got.reasons
        );
        assert_eq!(got.envelopes.len(), 3);
        assert_eq!(
            events(&hub).await.last().unwrap().event,
            Event::HandoverDelivered
        );
        hub.stop().await;
    }
}
