//! The family's rights (issue 20, items 1 and 3): a disclosure the convenant says to tell the
//! family of is tracked until the organisation informs them or records why not, and reminded
//! once when overdue; a family's request is recorded, decided with a reason, and a granted one
//! reaches every organisation that received the data, which confirms it. Allowed and refused,
//! as the organisation, another organisation and a privacy officer would try it, on every
//! backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, meldrecht, violations};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ClientError, HubClient};
use signaalhub_server::domain::involvement::NotificationKind;
use signaalhub_server::ledger::Event;
use signaalhub_server::store::testing::backends;
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::Code;

const TENANT: &str = "123456782";
const CHILD: &str = "111222333";

fn code(r: Result<impl std::fmt::Debug, ClientError>) -> (Code, String) {
    match r {
        Err(ClientError::Status(s)) => (s.code(), s.message().to_owned()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn ts(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

/// A client of `sector` whose professional holds `roles`.
async fn client_as(hub: &TestHub, sector: &str, roles: &[&str]) -> HubClient {
    let mut c = hub.claims(sector);
    c["roles"] = serde_json::json!(roles);
    hub.client_with_token(sector, hub.token(sector, &c)).await
}

/// `who` looks at its inbox until signal `id` is there (the first look delivers it).
async fn deliver_to(hub: &TestHub, who: &str, id: &str) {
    let mut c = hub.client(who).await;
    let mut inbox = c.stream_inbox(0).await.unwrap();
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

/// The woningcorporatie's rent-arrears signal `id` about the tenant to the wijkteam (flow
/// woningcorporatie-vroegsignalering: `inform_subject`), delivered.
async fn rent_arrears(hub: &TestHub, id: &str, exemption: &str) {
    let basis = pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: "wgs_vroegsignalering".into(),
            evidence: Some(pb::Evidence {
                payment_reminder_sent: Some(true),
                ..Default::default()
            }),
        }),
        consent_ids: vec![],
    };
    let mut req = hub
        .signal(
            "woningcorporatie",
            &["wijkteam"],
            id,
            b"drie maanden huurachterstand",
            "vroegsignalering_schulden",
            &["betalingsachterstand"],
            TENANT,
            basis,
        )
        .await;
    req.subject = Some(pb::SubjectFacts {
        age_years: Some(34),
        age_band: 0,
        gezag_holders: vec![],
    });
    req.inform_exemption = exemption.into();
    hub.client("woningcorporatie")
        .await
        .send_signal(req)
        .await
        .unwrap();
    deliver_to(hub, "wijkteam", id).await;
}

fn all_states() -> pb::ListInformObligationsRequest {
    pb::ListInformObligationsRequest::default()
}

#[tokio::test]
async fn a_disclosure_the_family_must_hear_of_is_tracked_until_informed_or_exempted() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut corp = hub.client("woningcorporatie").await;
        let t0 = common::now();

        // Accepted for delivery is not yet a disclosure: nothing to tell the family.
        let basis_only = hub
            .signal(
                "woningcorporatie",
                &["wijkteam"],
                "huur-0",
                b"x",
                "vroegsignalering_schulden",
                &["betalingsachterstand"],
                TENANT,
                pb::Basis {
                    legal: Some(pb::LegalBasis {
                        basis: "wgs_vroegsignalering".into(),
                        evidence: Some(pb::Evidence {
                            payment_reminder_sent: Some(true),
                            ..Default::default()
                        }),
                    }),
                    consent_ids: vec![],
                },
            )
            .await;
        let mut pending = basis_only;
        pending.subject = Some(pb::SubjectFacts {
            age_years: Some(34),
            ..Default::default()
        });
        corp.send_signal(pending).await.unwrap();
        assert!(
            corp.all_inform_obligations(all_states())
                .await
                .unwrap()
                .is_empty(),
            "{b}: a signal not yet delivered leaves no duty"
        );

        // Delivered: an open duty of the woningcorporatie, due after the convenant's four weeks.
        deliver_to(&hub, "wijkteam", "huur-0").await;
        rent_arrears(&hub, "huur-1", "").await;
        let open = corp.all_inform_obligations(all_states()).await.unwrap();
        assert_eq!(open.len(), 2, "{b}: {open:?}");
        let o = open
            .iter()
            .find(|o| o.reference == "huur-1")
            .unwrap()
            .clone();
        assert_eq!(o.state, pb::InformState::Open as i32);
        assert_eq!(o.event, "signal_delivered");
        assert_eq!(o.recipient_oin, hub.org("wijkteam").info.oin);
        assert_eq!(o.purpose, "vroegsignalering_schulden");
        let disclosed = o.disclosed_at.unwrap().seconds;
        assert!(disclosed >= t0 - 1);
        assert_eq!(o.due_at.unwrap().seconds, disclosed + 28 * 86_400);
        assert!(!o.overdue);

        // The wijkteam received the data; the duty is not its own, and it cannot close it.
        let mut wijkteam = hub.client("wijkteam").await;
        assert!(
            wijkteam
                .all_inform_obligations(all_states())
                .await
                .unwrap()
                .is_empty()
        );
        let (c, _) = code(
            wijkteam
                .record_family_informed(pb::RecordFamilyInformedRequest {
                    log_index: o.log_index,
                    act: pb::InformAct::Letter as i32,
                    informed_on: ts(common::now()),
                    acting_role: String::new(),
                })
                .await,
        );
        assert_eq!(c, Code::NotFound, "{b}");

        // Bad input: no act, a day in the future, a day before the disclosure.
        let e = corp
            .record_family_informed(pb::RecordFamilyInformedRequest {
                log_index: o.log_index,
                act: 0,
                informed_on: None,
                acting_role: String::new(),
            })
            .await
            .unwrap_err();
        let v = violations(e);
        assert!(v.iter().any(|(f, _)| f == "act"), "{v:?}");
        assert!(v.iter().any(|(f, _)| f == "informed_on"), "{v:?}");
        for day in [common::now() + 2 * 86_400, disclosed - 3 * 86_400] {
            let v = violations(
                corp.record_family_informed(pb::RecordFamilyInformedRequest {
                    log_index: o.log_index,
                    act: pb::InformAct::Letter as i32,
                    informed_on: ts(day),
                    acting_role: String::new(),
                })
                .await
                .unwrap_err(),
            );
            assert_eq!(v[0].0, "informed_on", "{v:?}");
        }

        // Informed by letter today: closed, logged with the tenant as subject; once only.
        let done = corp
            .record_family_informed(pb::RecordFamilyInformedRequest {
                log_index: o.log_index,
                act: pb::InformAct::Letter as i32,
                informed_on: ts(common::now()),
                acting_role: String::new(),
            })
            .await
            .unwrap();
        assert_eq!(done.state, pb::InformState::Informed as i32);
        assert_eq!(done.act, pb::InformAct::Letter as i32);
        assert!(!done.closed_by.is_empty());
        let (c, _) = code(
            corp.record_inform_exemption(pb::RecordInformExemptionRequest {
                log_index: o.log_index,
                ground: "veiligheid_kind".into(),
                acting_role: String::new(),
            })
            .await,
        );
        assert_eq!(c, Code::FailedPrecondition, "{b}");

        // An exemption recorded with the signal closes the duty at once, with its ground.
        rent_arrears(&hub, "huur-2", "veiligheid_melder").await;
        // One recorded afterwards: only a ground of the fixed list.
        let huur0 = open.iter().find(|o| o.reference == "huur-0").unwrap();
        let v = violations(
            corp.record_inform_exemption(pb::RecordInformExemptionRequest {
                log_index: huur0.log_index,
                ground: "vader is agressief".into(),
                acting_role: String::new(),
            })
            .await
            .unwrap_err(),
        );
        assert_eq!(v[0].0, "ground");
        assert!(
            !v[0].1.contains("agressief"),
            "free text is not echoed: {v:?}"
        );
        corp.record_inform_exemption(pb::RecordInformExemptionRequest {
            log_index: huur0.log_index,
            ground: "al_geinformeerd".into(),
            acting_role: String::new(),
        })
        .await
        .unwrap();
        let all = corp.all_inform_obligations(all_states()).await.unwrap();
        let by_ref = |r: &str| all.iter().find(|o| o.reference == r).unwrap().clone();
        assert_eq!(by_ref("huur-0").ground, "al_geinformeerd");
        assert_eq!(by_ref("huur-2").state, pb::InformState::Exempted as i32);
        assert_eq!(by_ref("huur-2").ground, "veiligheid_melder");
        assert!(!by_ref("huur-2").ground_nl.is_empty());
        // Filters and pages.
        let open_only = corp
            .all_inform_obligations(pb::ListInformObligationsRequest {
                state: pb::InformState::Open as i32,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(open_only.is_empty(), "{open_only:?}");
        let first = corp
            .list_inform_obligations(pb::ListInformObligationsRequest {
                page_size: 1,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(first.obligations.len(), 1);
        assert_eq!(first.next_from_index, first.obligations[0].log_index + 1);
        assert_eq!(first.inform_within_seconds, 28 * 86_400);

        // The woningcorporatie's privacy officer sees the same; another organisation's none; a
        // role the convenant does not know, nothing at all.
        let mut fg = client_as(&hub, "woningcorporatie", &["fg"]).await;
        assert_eq!(
            fg.all_inform_obligations(all_states()).await.unwrap().len(),
            3
        );
        let mut school_fg = client_as(&hub, "school", &["fg"]).await;
        assert!(
            school_fg
                .all_inform_obligations(all_states())
                .await
                .unwrap()
                .is_empty()
        );
        let mut stranger = client_as(&hub, "woningcorporatie", &["receptie"]).await;
        let (c, _) = code(stranger.list_inform_obligations(all_states()).await);
        assert_eq!(c, Code::PermissionDenied, "{b}");

        // The log says who informed and who did not, about the tenant, and never the free text.
        let entries = common::log_entries(&hub.store).await;
        let informed: Vec<_> = entries
            .iter()
            .filter(|(_, e)| e.event == Event::FamilyInformed)
            .collect();
        assert_eq!(informed.len(), 1);
        let disclosure = &entries.iter().find(|(i, _)| *i == o.log_index).unwrap().1;
        assert_eq!(informed[0].1.subjects, disclosure.subjects);
        assert_eq!(
            informed[0].1.reference.as_deref(),
            Some(format!("inform:{}", o.log_index).as_str())
        );
        assert!(informed[0].1.reasons.iter().any(|r| r == "act:LETTER"));
        let exempted: Vec<_> = entries
            .iter()
            .filter(|(_, e)| e.event == Event::InformExempted)
            .collect();
        assert_eq!(
            exempted.len(),
            1,
            "the exemption with the signal is the delivery's own"
        );
        assert!(
            !common::database_text(&hub).await.contains("agressief"),
            "{b}: the refused text is nowhere at rest"
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn an_overdue_duty_is_told_to_the_organisation_once() {
    for b in backends() {
        let hub = TestHub::start_with(b, |d| d.to_owned(), "[reminders]\ninterval_ms = 0\n").await;
        let policy = signaalhub_server::load_policy(&hub.config).unwrap();
        rent_arrears(&hub, "huur-late", "").await;
        rent_arrears(&hub, "huur-told", "").await;
        let mut corp = hub.client("woningcorporatie").await;
        let all = corp.all_inform_obligations(all_states()).await.unwrap();
        let told = all.iter().find(|o| o.reference == "huur-told").unwrap();
        corp.record_family_informed(pb::RecordFamilyInformedRequest {
            log_index: told.log_index,
            act: pb::InformAct::Conversation as i32,
            informed_on: ts(common::now()),
            acting_role: String::new(),
        })
        .await
        .unwrap();
        let t = common::now();
        let r = signaalhub_server::reminders::run(&hub.store, &policy, t + 27 * 86_400, 10)
            .await
            .unwrap();
        assert_eq!(r.overdue_informs, 0, "{b}: within four weeks");
        let r = signaalhub_server::reminders::run(&hub.store, &policy, t + 29 * 86_400, 10)
            .await
            .unwrap();
        assert_eq!(r.overdue_informs, 1, "{b}: only the open one");
        let r = signaalhub_server::reminders::run(&hub.store, &policy, t + 30 * 86_400, 10)
            .await
            .unwrap();
        assert_eq!(r.overdue_informs, 0, "{b}: once");
        let notes: Vec<_> = hub
            .store
            .notifications_after(&hub.org("woningcorporatie").info.oin, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|n| n.kind == NotificationKind::InformOverdue)
            .collect();
        assert_eq!(notes.len(), 1);
        let late = all.iter().find(|o| o.reference == "huur-late").unwrap();
        assert_eq!(
            notes[0].reference.as_deref(),
            Some(format!("inform:{}", late.log_index).as_str())
        );
        assert!(
            notes[0].summary_nl.contains("huur-late"),
            "{}",
            notes[0].summary_nl
        );
        // The overdue filter lists it; the obligation says it was told.
        let overdue = corp
            .all_inform_obligations(pb::ListInformObligationsRequest {
                overdue_only: true,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            overdue.is_empty(),
            "{b}: not overdue by the hub's own clock yet"
        );
        let again = corp.all_inform_obligations(all_states()).await.unwrap();
        let late = again.iter().find(|o| o.reference == "huur-late").unwrap();
        assert!(late.overdue_notified_at.is_some());
        // The wijkteam, which received the data, is told nothing.
        assert!(
            !hub.store
                .notifications_after(&hub.org("wijkteam").info.oin, 0, 100)
                .await
                .unwrap()
                .iter()
                .any(|n| n.kind == NotificationKind::InformOverdue)
        );
        hub.stop().await;
    }
}

/// The school's two disclosures about CHILD: to the wijkteam on the parents' consent (`sig-w`)
/// and to Veilig Thuis under the meldcode (`sig-vt`), both delivered.
async fn school_disclosed(hub: &TestHub) {
    let basis = hub.both_parents_consent(CHILD).await;
    let req = hub
        .signal(
            "school",
            &["wijkteam"],
            "sig-w",
            b"zorgen over thuis",
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
            CHILD,
            basis,
        )
        .await;
    hub.client("school").await.send_signal(req).await.unwrap();
    deliver_to(hub, "wijkteam", "sig-w").await;
    let req = hub
        .signal(
            "school",
            &["veilig_thuis"],
            "sig-vt",
            b"blauwe plekken",
            "melding_veilig_thuis",
            &["zorgen_thuissituatie"],
            CHILD,
            meldrecht(pb::Evidence {
                client_informed: Some(true),
                ..Default::default()
            }),
        )
        .await;
    hub.client("school").await.send_signal(req).await.unwrap();
    deliver_to(hub, "veilig_thuis", "sig-vt").await;
}

fn record(kind: pb::FamilyRequestKind, references: &[&str]) -> pb::RecordFamilyRequestRequest {
    pb::RecordFamilyRequestRequest {
        subject_bsns: vec![CHILD.into()],
        kind: kind as i32,
        received_on: ts(common::now() - 86_400),
        references: references.iter().map(|r| r.to_string()).collect(),
        acting_role: String::new(),
    }
}

fn decide(id: &str, state: pb::FamilyRequestState, reason: &str) -> pb::DecideFamilyRequestRequest {
    pb::DecideFamilyRequestRequest {
        request_id: id.into(),
        decision: state as i32,
        reason: reason.into(),
        acting_role: String::new(),
    }
}

#[tokio::test]
async fn a_granted_correction_reaches_every_recipient_and_each_confirms_it() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        school_disclosed(&hub).await;
        let mut school = hub.client("school").await;
        let wijkteam_oin = hub.org("wijkteam").info.oin.clone();
        let vt_oin = hub.org("veilig_thuis").info.oin.clone();
        let school_oin = hub.org("school").info.oin.clone();

        // Bad input, each field named; nothing recorded.
        let v = violations(
            school
                .record_family_request(pb::RecordFamilyRequestRequest {
                    subject_bsns: vec!["123456789".into()],
                    kind: 0,
                    received_on: None,
                    references: vec!["met spatie".into()],
                    acting_role: String::new(),
                })
                .await
                .unwrap_err(),
        );
        for f in ["subject_bsns", "kind", "received_on", "references"] {
            assert!(v.iter().any(|(g, _)| g == f), "{f}: {v:?}");
        }
        let mut future = record(pb::FamilyRequestKind::Correction, &[]);
        future.received_on = ts(common::now() + 3 * 86_400);
        assert_eq!(
            violations(school.record_family_request(future).await.unwrap_err())[0].0,
            "received_on"
        );
        let v = violations(
            school
                .record_family_request(record(pb::FamilyRequestKind::Correction, &["sig-other"]))
                .await
                .unwrap_err(),
        );
        assert_eq!(v[0].0, "references", "{v:?}");

        // The parents ask the school to correct what it shared: it covers both disclosures.
        let r = school
            .record_family_request(record(pb::FamilyRequestKind::Correction, &[]))
            .await
            .unwrap();
        assert_eq!(r.state, pb::FamilyRequestState::Open as i32);
        assert_eq!(r.covers.len(), 2, "{b}: {r:?}");
        assert!(r.request_id.starts_with("fr_"));

        // Another organisation can neither see nor decide it.
        let mut wijkteam = hub.client("wijkteam").await;
        let (c, _) = code(wijkteam.get_family_request(&r.request_id, "").await);
        assert_eq!(c, Code::NotFound);
        let (c, _) = code(
            wijkteam
                .decide_family_request(decide(
                    &r.request_id,
                    pb::FamilyRequestState::Granted,
                    "gegevens_onjuist",
                ))
                .await,
        );
        assert_eq!(c, Code::NotFound);
        // A reason from the other list, or none, is refused.
        let v = violations(
            school
                .decide_family_request(decide(
                    &r.request_id,
                    pb::FamilyRequestState::Granted,
                    "gegevens_juist",
                ))
                .await
                .unwrap_err(),
        );
        assert_eq!(v[0].0, "reason");
        let v = violations(
            school
                .decide_family_request(decide(&r.request_id, pb::FamilyRequestState::Open, ""))
                .await
                .unwrap_err(),
        );
        assert!(v.iter().any(|(f, _)| f == "decision"), "{v:?}");

        // Granted: the wijkteam and Veilig Thuis are told, each of what it received.
        let granted = school
            .decide_family_request(decide(
                &r.request_id,
                pb::FamilyRequestState::Granted,
                "gegevens_onjuist",
            ))
            .await
            .unwrap();
        assert_eq!(granted.state, pb::FamilyRequestState::Granted as i32);
        let mut told: Vec<(String, Vec<String>)> = granted
            .notices
            .iter()
            .map(|n| (n.recipient_oin.clone(), n.references.clone()))
            .collect();
        told.sort();
        let mut expected = vec![
            (wijkteam_oin.clone(), vec!["sig-w".to_string()]),
            (vt_oin.clone(), vec!["sig-vt".to_string()]),
        ];
        expected.sort();
        assert_eq!(told, expected, "{b}");
        let (c, _) = code(
            school
                .decide_family_request(decide(
                    &r.request_id,
                    pb::FamilyRequestState::Refused,
                    "gegevens_juist",
                ))
                .await,
        );
        assert_eq!(c, Code::FailedPrecondition);

        // The wijkteam sees its notice (and a notification) and confirms it, once.
        let notices = wijkteam
            .list_family_request_notices(true, "")
            .await
            .unwrap();
        assert_eq!(notices.len(), 1, "{b}");
        assert_eq!(notices[0].kind, pb::FamilyRequestKind::Correction as i32);
        assert_eq!(notices[0].references, vec!["sig-w".to_string()]);
        assert_eq!(notices[0].org_oin, school_oin);
        let notified: Vec<_> = hub
            .store
            .notifications_after(&wijkteam_oin, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|n| n.kind == NotificationKind::FamilyRequestGranted)
            .collect();
        assert_eq!(notified.len(), 1);
        assert!(
            notified[0].summary_nl.contains("sig-w"),
            "{}",
            notified[0].summary_nl
        );
        assert!(!notified[0].summary_nl.contains(CHILD));
        let ack = wijkteam
            .acknowledge_family_request_notice(&school_oin, &r.request_id, "")
            .await
            .unwrap();
        assert!(ack.acknowledged_at.is_some());
        let (c, _) = code(
            wijkteam
                .acknowledge_family_request_notice(&school_oin, &r.request_id, "")
                .await,
        );
        assert_eq!(c, Code::FailedPrecondition);
        assert!(
            wijkteam
                .list_family_request_notices(true, "")
                .await
                .unwrap()
                .is_empty()
        );
        // An organisation that was not told cannot confirm (nor learn that the request exists).
        let mut gp = hub.client("huisarts").await;
        let (c, _) = code(
            gp.acknowledge_family_request_notice(&school_oin, &r.request_id, "")
                .await,
        );
        assert_eq!(c, Code::NotFound);

        // The school (and its privacy officer) sees who confirmed and who did not yet.
        let mut fg = client_as(&hub, "school", &["fg"]).await;
        let seen = fg.get_family_request(&r.request_id, "").await.unwrap();
        let confirmed: Vec<(String, bool)> = seen
            .notices
            .iter()
            .map(|n| (n.recipient_oin.clone(), n.acknowledged_at.is_some()))
            .collect();
        assert!(
            confirmed.contains(&(wijkteam_oin.clone(), true)),
            "{confirmed:?}"
        );
        assert!(
            confirmed.contains(&(vt_oin.clone(), false)),
            "{confirmed:?}"
        );

        // An objection refused with a reason tells nobody.
        let o = fg
            .record_family_request(record(pb::FamilyRequestKind::Objection, &["sig-vt"]))
            .await
            .unwrap();
        assert_eq!(o.covers.len(), 1);
        let refused = school
            .decide_family_request(decide(
                &o.request_id,
                pb::FamilyRequestState::Refused,
                "dwingende_gronden",
            ))
            .await
            .unwrap();
        assert!(refused.notices.is_empty());
        assert!(!refused.decision_reason_nl.is_empty());
        let listed = school.list_family_requests("").await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].request_id, r.request_id);

        // Every step is in the log, about the child.
        let entries = common::log_entries(&hub.store).await;
        let count = |ev: Event| entries.iter().filter(|(_, e)| e.event == ev).count();
        assert_eq!(count(Event::FamilyRequestRecorded), 2);
        assert_eq!(count(Event::FamilyRequestDecided), 2);
        assert_eq!(count(Event::FamilyRequestNotified), 2);
        assert_eq!(count(Event::FamilyRequestAcknowledged), 1);
        let recorded = entries
            .iter()
            .find(|(_, e)| e.event == Event::FamilyRequestRecorded)
            .unwrap();
        let decided = entries
            .iter()
            .find(|(_, e)| e.event == Event::FamilyRequestDecided)
            .unwrap();
        assert_eq!(recorded.1.subjects, decided.1.subjects);
        assert!(
            decided
                .1
                .reasons
                .iter()
                .any(|r| r == "reason:gegevens_onjuist")
        );
        hub.stop().await;
    }
}
