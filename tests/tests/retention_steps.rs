//! Retention of the records of steps 4 and 5 — zorgmelding fragments, triages, meldingen,
//! handovers, maatregelen, ended involvements, safety plan versions and notifications: each
//! expires from the convenant's retention, is erased with one `erased` log entry, stays as a
//! tombstone the read paths handle, and the log still verifies — on every backend. Also: the
//! family's access letter counts every disclosure.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::involvement_flow::*;
use common::zorgmelding_flow::*;
use common::{TestHub, now};
use signaalhub_client::ClientError;
use signaalhub_client::involvement::Agreement;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_server::ledger::{EntryOutcome, Event, LogEntry};
use signaalhub_server::retention::SweepReport;
use signaalhub_server::store::testing::backends;
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::Code;

// ---------------------------------------------------------------- shared

async fn entries(hub: &TestHub) -> Vec<LogEntry> {
    let size = hub.store.log_size().await.unwrap();
    hub.store
        .log_range(0, size)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, b)| LogEntry::from_bytes(&b).unwrap())
        .collect()
}

async fn verify(hub: &TestHub) -> u64 {
    let ledger = signaalhub_server::load_ledger(&hub.config, hub.store.clone()).unwrap();
    ledger.integrate_all().await.unwrap();
    signaalhub_server::ledger::integrator::verify(&hub.store, &ledger.keys)
        .await
        .unwrap()
        .entries
}

async fn sweep(hub: &TestHub, at: i64, batch: u32) -> SweepReport {
    let policy = signaalhub_server::load_policy(&hub.config).unwrap();
    signaalhub_server::retention::sweep(&hub.store, policy.version(), at, batch)
        .await
        .unwrap()
}

/// The convenant's retention of `purpose`, in seconds.
fn keep(hub: &TestHub, purpose: &str) -> i64 {
    let policy = signaalhub_server::load_policy(&hub.config).unwrap();
    i64::try_from(policy.retention_for(purpose).unwrap()).unwrap()
}

/// The erasure entries whose reference starts with `<kind>:`.
fn erased<'a>(log: &'a [LogEntry], kind: &str) -> Vec<&'a LogEntry> {
    let prefix = format!("{kind}:");
    log.iter()
        .filter(|e| {
            e.event == Event::Erased
                && e.reference
                    .as_deref()
                    .is_some_and(|r| r.starts_with(&prefix))
        })
        .collect()
}

fn fg(hub: &TestHub, sector: &str) -> serde_json::Value {
    let mut claims = hub.claims(sector);
    claims["roles"] = serde_json::json!(["fg"]);
    claims
}

// ---------------------------------------------------------------- step 4 (as tests/zorgmelding.rs)

#[tokio::test]
async fn fragments_triages_meldingen_and_handovers_expire_and_stay_as_tombstones() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let melding = triaged(&hub).await;
        let id = melding.zorgmelding_id.clone();
        let consents = family_consent(&hub, &HANDOVER_CATEGORIES).await;
        let mut vt = hub.client("veilig_thuis").await;
        vt.hand_over(handover_request(&hub, &melding, "ho-1", consents.clone()).await)
            .await
            .unwrap();
        // A second handover the wijkteam never fetches.
        vt.hand_over(handover_request(&hub, &melding, "ho-2", consents).await)
            .await
            .unwrap();
        let vt_oin = hub.org("veilig_thuis").info.oin.clone();
        let mut wijkteam = hub.client("wijkteam").await;
        let got = wijkteam.get_handover(&vt_oin, "ho-1").await.unwrap();
        assert_eq!(got.envelopes.len(), 3, "{b}");

        // retain_until comes from the convenant: P1Y from receipt for every fragment, the
        // melding's latest fragment, P1Y from the handover.
        let fragments = hub.store.fragments_of(&id).await.unwrap();
        assert_eq!(fragments.len(), 3);
        let zm = keep(&hub, "zorgmelding_politie");
        for f in &fragments {
            assert!(
                (f.retain_until - f.received_at - zm).abs() <= 5,
                "{b}: fragment kept until {} (received {})",
                f.retain_until,
                f.received_at
            );
        }
        let m = hub.store.get_zorgmelding(&id).await.unwrap().unwrap();
        assert_eq!(
            m.retain_until,
            fragments.iter().map(|f| f.retain_until).max().unwrap()
        );
        let h = hub
            .store
            .get_handover(&vt_oin, "ho-1")
            .await
            .unwrap()
            .unwrap();
        assert!(
            (h.retain_until - h.created_at - keep(&hub, "overdracht_hulpverlening")).abs() <= 5
        );

        // Nothing has expired yet.
        let before = hub.store.log_size().await.unwrap();
        assert_eq!(sweep(&hub, now(), 10).await.total(), 0, "{b}");
        assert_eq!(hub.store.log_size().await.unwrap(), before);

        // Past every retain_until (batches of one: many transactions).
        let later = hub
            .store
            .get_handover(&vt_oin, "ho-2")
            .await
            .unwrap()
            .unwrap();
        let t = m.retain_until.max(h.retain_until).max(later.retain_until) + 1;
        // The dry run counts what a sweep then erases.
        let backlog = signaalhub_server::retention::backlog(&hub.store, t)
            .await
            .unwrap();
        let r = sweep(&hub, t, 1).await;
        for (kind, n) in &r.erased {
            assert_eq!(backlog[kind], *n, "{b}: backlog of {kind}");
        }
        assert_eq!(r.erased["zorgmelding_fragment"], 3, "{b}");
        assert_eq!(r.erased["triage"], 1, "{b}");
        assert_eq!(r.erased["zorgmelding"], 1, "{b}");
        assert_eq!(r.erased["handover"], 2, "{b}");

        // One erasure entry per record, with the pseudonyms of the original entries.
        let log = entries(&hub).await;
        let submitted: Vec<&LogEntry> = log
            .iter()
            .filter(|e| e.event == Event::ZorgmeldingFragmentSent)
            .collect();
        let frag_erased = erased(&log, "zorgmelding_fragment");
        assert_eq!(frag_erased.len(), 3, "{b}");
        for f in &fragments {
            let e = frag_erased
                .iter()
                .find(|e| {
                    e.reference.as_deref()
                        == Some(format!("zorgmelding_fragment:{}", f.fragment_id).as_str())
                })
                .expect("an entry per fragment");
            assert_eq!(e.subjects, f.subjects);
            assert_eq!(e.actor_oin, hub.org("politie").info.oin);
            assert_eq!(e.purpose.as_deref(), Some("zorgmelding_politie"));
            assert_eq!(e.basis, vec!["retention:zorgmelding_politie"]);
            assert_eq!(e.reasons, vec!["RETENTION_EXPIRED"]);
            assert_eq!(e.at, t);
            assert!(submitted.iter().any(|s| s.subjects == e.subjects));
        }
        let melding_erased = erased(&log, "zorgmelding");
        assert_eq!(melding_erased.len(), 1);
        assert_eq!(
            melding_erased[0].subjects.len(),
            4,
            "{b}: the whole household"
        );
        let triage_erased = erased(&log, "triage");
        assert_eq!(triage_erased.len(), 1);
        assert_eq!(triage_erased[0].actor_oin, vt_oin);
        assert_eq!(triage_erased[0].subjects, melding_erased[0].subjects);
        let ho = erased(&log, "handover");
        assert_eq!(ho.len(), 2);
        let ho: Vec<&&LogEntry> = ho
            .iter()
            .filter(|e| e.reference.as_deref() == Some("handover:ho-1"))
            .collect();
        assert_eq!(ho.len(), 1);
        assert_eq!(ho[0].categories, h.categories);
        assert_eq!(ho[0].subjects, h.subjects);

        // Tombstones: what the log and other rows refer to stays, the personal data goes.
        let fs = hub.store.fragments_of(&id).await.unwrap();
        assert_eq!(fs.len(), 3);
        for (f, was) in fs.iter().zip(&fragments) {
            assert!(f.envelope.is_none() && f.subjects.is_empty() && f.basis.is_empty());
            assert!(f.author_professional.is_empty());
            assert_eq!((f.sequence, f.kind), (was.sequence, was.kind));
            assert_eq!(f.request_hash, was.request_hash);
        }
        let m2 = hub.store.get_zorgmelding(&id).await.unwrap().unwrap();
        assert!(m2.subjects.is_empty());
        assert_eq!(m2.registration_number, REG);
        assert!(
            hub.store
                .latest_triage(&id.parse().unwrap())
                .await
                .unwrap()
                .is_none()
        );
        let h2 = hub
            .store
            .get_handover(&vt_oin, "ho-1")
            .await
            .unwrap()
            .unwrap();
        assert!(h2.subjects.is_empty() && h2.facts.is_empty() && h2.basis.is_empty());
        assert!(h2.letter.is_empty() && h2.sender_professional.is_empty());
        assert!(h2.vt_contact.name.is_empty() && h2.wijkteam_contact.phone.is_empty());
        assert_eq!(h2.state, h.state, "{b}: delivered stays delivered");
        // What was never delivered never will be: held back, with the reason.
        let h3 = hub
            .store
            .get_handover(&vt_oin, "ho-2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(h3.state.as_str(), "withheld", "{b}");
        assert_eq!(h3.reasons[0].code, "RETENTION_EXPIRED");
        assert_eq!(
            (h2.advice.as_str(), h2.triage_id.as_str()),
            (h.advice.as_str(), h.triage_id.as_str())
        );
        for (sql, n) in [
            (
                "SELECT COUNT(*) FROM zorgmelding_fragments WHERE envelope IS NOT NULL OR erased_at IS NULL",
                0,
            ),
            ("SELECT COUNT(*) FROM zorgmelding_subjects", 0),
            (
                "SELECT COUNT(*) FROM zorgmeldingen WHERE erased_at IS NULL OR subjects <> '[]'",
                0,
            ),
            (
                "SELECT COUNT(*) FROM triages WHERE erased_at IS NULL OR case_reference <> '' OR professional <> '' OR answers LIKE '%yes%'",
                0,
            ),
            ("SELECT COUNT(*) FROM triages", 1),
            ("SELECT COUNT(*) FROM handover_envelopes", 0),
            (
                "SELECT COUNT(*) FROM handovers WHERE erased_at IS NULL OR letter LIKE '%Els Bouwman%' OR wijkteam_contact LIKE '%Els%' OR vt_contact LIKE '%Rianne%'",
                0,
            ),
        ] {
            assert_eq!(hub.sql_count(sql).await, n, "{b}: {sql}");
        }

        // Read paths: no envelope is served, nothing is delivered or read (so nothing logged),
        // lists and streams skip the erased, and the closed melding takes no new fragment.
        let size = hub.store.log_size().await.unwrap();
        let g = vt.get_zorgmelding(&id).await.unwrap();
        assert_eq!(g.fragments.len(), 3);
        assert!(g.fragments.iter().all(|f| f.envelope.is_none()), "{b}");
        let g = wijkteam.get_handover(&vt_oin, "ho-1").await.unwrap();
        assert!(g.envelopes.is_empty() && g.family_letter.is_empty(), "{b}");
        let g = wijkteam.get_handover(&vt_oin, "ho-2").await.unwrap();
        assert_eq!(g.state, pb::HandoverState::Withheld as i32, "{b}");
        assert!(g.envelopes.is_empty());
        assert_eq!(
            hub.store.log_size().await.unwrap(),
            size,
            "{b}: no read of nothing is logged"
        );
        assert!(wijkteam.list_handovers().await.unwrap().is_empty());
        assert!(vt.list_handovers().await.unwrap().is_empty());
        let mut s = vt.stream_zorgmeldingen(0).await.unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(700), s.next())
                .await
                .is_err(),
            "{b}: an erased melding is not streamed"
        );
        drop(s);
        let late = fragment(
            &hub,
            REG,
            "frag-late",
            pb::FragmentKind::Incident,
            &[MOTHER],
            &["incidentgegevens"],
            INCIDENT,
        )
        .await;
        let e = hub
            .client("politie")
            .await
            .submit_fragment(late)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ClientError::Status(s) if s.code() == Code::FailedPrecondition),
            "{b}: {e}"
        );
        assert_eq!(hub.store.fragments_of(&id).await.unwrap().len(), 3);

        // Nothing left to do; the log verifies; no BSN anywhere.
        assert_eq!(sweep(&hub, t, 10).await.total(), 0);
        let log = entries(&hub).await;
        assert_eq!(verify(&hub).await, log.len() as u64, "{b}");
        let hay = common::database_text(&hub).await;
        for bsn in [CHILD, SIBLING, MOTHER, FATHER] {
            assert!(!hay.contains(bsn), "{b}: a BSN is stored in the clear");
        }
        // Nor the erased letter and contacts: not in a live row, not in free space, not in the
        // write-ahead log.
        for gone in ["Rianne van Rooijen", "Els Bouwman", "VT-2026-0042"] {
            assert!(!hay.contains(gone), "{b}: erased {gone:?} is still on disk");
        }
        hub.stop().await;
    }
}

// ---------------------------------------------------------------- step 5 (as tests/involvement.rs)

const KID: &str = "123456782";
const BROTHER: &str = "345678904";

fn in_days(days: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: now() + days * 86400,
        nanos: 0,
    }
}

#[tokio::test]
async fn ended_involvements_maatregelen_safety_plans_and_notifications_expire() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let w_oin = hub.org("wijkteam").info.oin.clone();
        let gi_oin = hub.org("jeugdbescherming").info.oin.clone();
        let consent = case_consent(&hub, "wijkteam", KID).await;
        let w = register(&hub, "wijkteam", KID, &[BROTHER], Some(&consent))
            .await
            .involvement
            .unwrap()
            .involvement_id;
        let case_id = register(&hub, "jeugdbescherming", KID, &[], Some(&consent))
            .await
            .case
            .unwrap()
            .case_id;
        let mut wijkteam = hub.client("wijkteam").await;
        let mut gi = hub.client("jeugdbescherming").await;
        let mut content = plan();
        content.agreements = vec![Agreement {
            id: "a1".into(),
            who: "De jeugdbeschermer".into(),
            what: "belt moeder elke twee weken".into(),
            by_when: None,
            party_oins: vec![gi_oin.clone()],
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
        // An OTS with a planned end, and a machtiging the GI ends itself.
        let ots = gi
            .register_maatregel(pb::RegisterMaatregelRequest {
                subject_bsn: KID.into(),
                kind: pb::MaatregelKind::Ots as i32,
                ends_at: Some(in_days(30)),
                contact_point: "Team Arnhem, 026-1111111".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .maatregel_id;
        let muhp = gi
            .register_maatregel(pb::RegisterMaatregelRequest {
                subject_bsn: KID.into(),
                kind: pb::MaatregelKind::MachtigingUithuisplaatsing as i32,
                contact_point: "Team Arnhem, 026-1111111".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .maatregel_id;
        assert!(wijkteam.has_maatregel(KID).await.unwrap().exists, "{b}");

        // The family's access letter counts every disclosure: matches told, the maatregel
        // answer given and its organisation told, the plan shared, the parties listed.
        let log = entries(&hub).await;
        let kid = log
            .iter()
            .find(|e| e.event == Event::MaatregelRegistered)
            .unwrap()
            .subjects[0]
            .clone();
        let disclosed: Vec<&LogEntry> = log
            .iter()
            .filter(|e| e.outcome == EntryOutcome::Disclosed && e.subjects.contains(&kid))
            .collect();
        for ev in [
            Event::InvolvementMatched,
            Event::MaatregelQueried,
            Event::MaatregelQueryNotified,
            Event::SafetyPlanPublished,
        ] {
            assert!(
                disclosed.iter().any(|e| e.event == ev),
                "{b}: {ev:?} not disclosed"
            );
        }
        let mut fg = hub
            .client_with_token("wijkteam", hub.token("wijkteam", &fg(&hub, "wijkteam")))
            .await;
        let report = fg.subject_access_report(KID).await.unwrap();
        let letter = &report.html_letter;
        // The wijkteam's FG answers for the wijkteam's part (docs/ACCESS.md).
        let wijkteam_oin = hub.org("wijkteam").info.oin.clone();
        let own = disclosed
            .iter()
            .filter(|e| {
                e.actor_oin == wijkteam_oin
                    || e.recipient_oin.as_deref() == Some(wijkteam_oin.as_str())
            })
            .count();
        assert!(own > 0 && own <= disclosed.len());
        assert!(
            letter.contains(&format!(
                "Gegevens over u of uw kind zijn {own} keer gedeeld."
            )),
            "{b}: {own} disclosures expected in\n{letter}"
        );
        assert!(letter.contains(&hub.org("jeugdbescherming").info.name));
        assert!(
            letter.contains("een register van de signaalhub"),
            "{b}: the answer came from the register"
        );
        assert!(!letter.contains(KID));

        // The wijkteam ends its involvement; the GI its machtiging. retain_until is set from the
        // convenant then; for the OTS already at registration, from its planned end.
        wijkteam.end_involvement(&w).await.unwrap();
        gi.end_maatregel(&muhp).await.unwrap();
        let casus = keep(&hub, "casusafstemming");
        let answer = keep(&hub, "maatregel_afstemming");
        let inv = hub.store.get_involvement(&w).await.unwrap().unwrap();
        assert_eq!(inv.retain_until, Some(inv.ended_at.unwrap() + casus), "{b}");
        let m_ots = hub.store.get_maatregel(&ots).await.unwrap().unwrap();
        assert_eq!(
            m_ots.retain_until,
            Some(m_ots.ends_at.unwrap() + answer),
            "{b}"
        );
        let m_muhp = hub.store.get_maatregel(&muhp).await.unwrap().unwrap();
        assert_eq!(m_muhp.retain_until, Some(m_muhp.ended_at.unwrap() + answer));
        let p1 = hub.store.get_plan(&case_id, 1).await.unwrap().unwrap();
        assert!(
            (p1.retain_until - p1.published_at - casus).abs() <= 5,
            "{b}"
        );
        let notes = hub.sql_count("SELECT COUNT(*) FROM notifications").await;
        assert!(notes >= 4, "{b}: {notes}");
        assert_eq!(
            hub.sql_count("SELECT COUNT(*) FROM notifications WHERE retain_until <= at")
                .await,
            0
        );

        // Nothing has expired yet.
        assert_eq!(sweep(&hub, now(), 10).await.total(), 0, "{b}");

        // Once the last of them expires, everything ended is erased; the GI's running
        // involvement and the parents' consent (kept longer) are not.
        let last_note = hub
            .sql_count("SELECT MAX(retain_until) FROM notifications")
            .await;
        let t = [
            inv.retain_until.unwrap(),
            m_ots.retain_until.unwrap(),
            m_muhp.retain_until.unwrap(),
            p1.retain_until,
            last_note,
        ]
        .into_iter()
        .max()
        .unwrap()
            + 1;
        let r = sweep(&hub, t, 2).await;
        assert_eq!(r.erased["consent"], 0, "{b}");
        assert_eq!(r.erased["involvement"], 1, "{b}");
        assert_eq!(r.erased["maatregel"], 2, "{b}");
        assert_eq!(r.erased["safety_plan"], 1, "{b}");
        assert_eq!(r.erased["notification"], notes as u64, "{b}");
        let log = entries(&hub).await;
        let e = erased(&log, "involvement");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].reference, Some(format!("involvement:{w}")));
        assert_eq!(
            (e[0].actor_oin.as_str(), e[0].subjects.clone()),
            (w_oin.as_str(), vec![kid.clone()])
        );
        assert_eq!(e[0].basis, vec!["retention:casusafstemming"]);
        let e = erased(&log, "maatregel");
        assert_eq!(e.len(), 2);
        assert!(
            e.iter()
                .all(|x| x.subjects == vec![kid.clone()] && x.actor_oin == gi_oin)
        );
        let e = erased(&log, "safety_plan");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].reference, Some(format!("safety_plan:{case_id}:1")));
        assert_eq!(e[0].actor_oin, w_oin);
        assert_eq!(erased(&log, "notification").len(), notes as usize);

        // Tombstones.
        let inv = hub.store.get_involvement(&w).await.unwrap().unwrap();
        assert_eq!(inv.subject.as_str(), "0".repeat(64), "{b}");
        assert!(inv.contact_professional.is_empty() && inv.registered_by.is_empty());
        assert!(inv.basis.is_empty() && inv.facts.gezag_holders.is_empty());
        assert_eq!(inv.case_id.as_deref(), Some(case_id.as_str()));
        assert!(inv.ended_at.is_some());
        let m = hub.store.get_maatregel(&ots).await.unwrap().unwrap();
        assert_eq!(m.subject.as_str(), "0".repeat(64));
        assert!(m.contact_point.is_empty() && m.registered_by.is_empty());
        assert_eq!(m.responsible_oin, gi_oin);
        let p = hub.store.get_plan(&case_id, 1).await.unwrap().unwrap();
        assert!(p.envelope.is_empty() && p.author_professional.is_empty());
        assert_eq!(p.agreements, p1.agreements);
        assert_eq!(p.sealed_to, p1.sealed_to);
        for (sql, n) in [
            (format!("SELECT COUNT(*) FROM involvement_persons WHERE involvement_id = '{w}'"), 0),
            ("SELECT COUNT(*) FROM involvements WHERE erased_at IS NULL".into(), 1),
            ("SELECT COUNT(*) FROM involvements WHERE erased_at IS NOT NULL AND (contact_professional <> '' OR subject_facts LIKE '%ouder%')".into(), 0),
            ("SELECT COUNT(*) FROM maatregelen WHERE erased_at IS NULL OR contact_point <> ''".into(), 0),
            ("SELECT COUNT(*) FROM notifications WHERE erased_at IS NULL OR summary_nl <> '' OR actor_professional <> ''".into(), 0),
            ("SELECT COUNT(*) FROM notifications".into(), notes),
        ] {
            assert_eq!(hub.sql_count(&sql).await, n, "{b}: {sql}");
        }

        // Read paths: no envelope and no read logged; no confirming an erased version; no
        // notification streamed; the maatregelen are gone from the subject's register.
        let size = hub.store.log_size().await.unwrap();
        let got = gi.get_safety_plan(&case_id, 1).await.unwrap();
        assert!(got.envelope.is_none(), "{b}");
        assert_eq!(
            hub.store.log_size().await.unwrap(),
            size,
            "{b}: no read of nothing is logged"
        );
        let e = gi
            .confirm_safety_plan(&case_id, 1, vec![])
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ClientError::Status(s) if s.code() == Code::FailedPrecondition),
            "{b}: {e}"
        );
        let mut s = gi.stream_notifications(0).await.unwrap();
        if let Ok(n) = tokio::time::timeout(Duration::from_millis(1500), s.message()).await {
            panic!("{b}: an erased notification was streamed: {n:?}");
        }
        drop(s);
        assert!(
            gi.list_maatregelen(KID, true).await.unwrap().is_empty(),
            "{b}"
        );
        let e = gi.end_maatregel(&ots).await.unwrap_err();
        assert!(
            matches!(&e, ClientError::Status(s) if s.code() == Code::NotFound),
            "{b}: {e}"
        );
        // The erased involvement never matches again: registering anew, the wijkteam meets only
        // the GI's running involvement.
        let again = register(&hub, "wijkteam", KID, &[BROTHER], Some(&consent)).await;
        assert!(!again.already_registered);
        let parties = again.case.unwrap().parties;
        assert_eq!(parties.len(), 2, "{b}: {parties:?}");
        assert!(parties.iter().all(|p| p.involvement_id != w), "{b}");

        // The log verifies; no BSN anywhere.
        let log = entries(&hub).await;
        assert_eq!(verify(&hub).await, log.len() as u64, "{b}");
        let hay = common::database_text(&hub).await;
        for bsn in [KID, BROTHER] {
            assert!(!hay.contains(bsn), "{b}: a BSN is stored in the clear");
        }
        hub.stop().await;
    }
}
