//! The maatregel register through the running hub, on every backend: registration by the youth
//! protection sector only, the minimal answer only to an involved organisation, the GI told on its
//! notification stream, every query logged.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, now};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_server::ledger::{EntryOutcome, Event, LogEntry};
use signaalhub_server::store::testing::backends;
use std::time::Duration;
use tonic::Code;
use tonic_types::StatusExt;

const CHILD: &str = "123456782";
const OTHER_CHILD: &str = "234567892";
const GI_CONTACT: &str = "Team Jeugdbescherming Arnhem, 026-1234567";

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

async fn register_ots(hub: &TestHub, bsn: &str) -> pb::Maatregel {
    let mut gi = hub.client("jeugdbescherming").await;
    gi.register_maatregel(pb::RegisterMaatregelRequest {
        subject_bsn: bsn.into(),
        kind: pb::MaatregelKind::Ots as i32,
        ends_at: Some(prost_types::Timestamp {
            seconds: now() + 365 * 86400,
            nanos: 0,
        }),
        contact_point: GI_CONTACT.into(),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// `sector` registers its involvement with `bsn`, on the ground of a consent about the child it
/// recorded itself (involvement is earned: the hub checks a ground).
async fn involve(hub: &TestHub, sector: &str, bsn: &str) -> pb::RegisterInvolvementResponse {
    let consent = common::involvement_flow::case_consent(hub, sector, bsn).await;
    let mut c = hub.client(sector).await;
    c.register_involvement(pb::RegisterInvolvementRequest {
        subject_bsn: bsn.into(),
        contact_professional: format!("dev professional of {sector}, 026-0000000"),
        basis: Some(pb::Basis {
            legal: None,
            consent_ids: vec![consent],
        }),
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn next_notification(
    s: &mut tonic::Streaming<pb::StreamNotificationsResponse>,
) -> pb::StreamNotificationsResponse {
    tokio::time::timeout(Duration::from_secs(10), s.message())
        .await
        .expect("a notification within 10 s")
        .unwrap()
        .expect("the stream stays open")
}

/// A `PERMISSION_DENIED` refusal's ErrorInfo code and its message.
fn refusal(e: &signaalhub_client::ClientError) -> (String, String) {
    assert_eq!(e.code(), Code::PermissionDenied, "{e}");
    let signaalhub_client::ClientError::Status(s) = e else {
        panic!("{e}")
    };
    let code = s
        .get_error_details()
        .error_info()
        .map(|i| i.reason.clone())
        .unwrap_or_default();
    (code, s.message().to_owned())
}

fn reason_codes(s: &tonic::Status) -> Vec<String> {
    s.get_error_details()
        .precondition_failure()
        .map(|p| p.violations.iter().map(|v| v.r#type.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_answer_goes_only_to_an_involved_wijkteam_is_minimal_and_the_gi_is_told() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let m = register_ots(&hub, CHILD).await;
        assert!(m.maatregel_id.starts_with("m_"));
        let mut gi = hub.client("jeugdbescherming").await;
        let mut notes = gi.stream_notifications(0).await.unwrap();
        let mut wijkteam = hub.client("wijkteam").await;

        // Not involved: refused with the reason, and logged; the register is not even read.
        let e = wijkteam.has_maatregel(CHILD).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{b}: {e}");
        let signaalhub_client::ClientError::Status(s) = &e else {
            panic!("{e}")
        };
        assert_eq!(reason_codes(s), vec!["RECIPIENT_NOT_INVOLVED"], "{b}");
        let denied: Vec<LogEntry> = log(&hub)
            .await
            .into_iter()
            .filter(|e| e.event == Event::MaatregelQueried)
            .collect();
        assert_eq!(denied.len(), 1, "{b}");
        assert_eq!(denied[0].outcome, EntryOutcome::Denied);
        assert_eq!(denied[0].reasons, vec!["RECIPIENT_NOT_INVOLVED"]);
        assert_eq!(denied[0].actor_oin, hub.org("wijkteam").info.oin);
        assert!(!denied[0].checks.relationship);

        // Involved: the minimal answer, exactly, and nothing else.
        involve(&hub, "wijkteam", CHILD).await;
        let before = now();
        let answer = wijkteam.has_maatregel(CHILD).await.unwrap();
        let gi_org = &hub.org("jeugdbescherming").info;
        let expected = pb::HasMaatregelResponse {
            exists: true,
            kinds: vec![pb::MaatregelKind::Ots as i32],
            contacts: vec![pb::MaatregelContact {
                oin: gi_org.oin.clone(),
                organization_name: gi_org.name.clone(),
                contact_point: GI_CONTACT.into(),
            }],
        };
        // Every field compared: nothing beyond existence, kind and contact is set.
        assert_eq!(answer, expected, "{b}");
        let shown = format!("{answer:?}");
        assert!(
            !shown.contains(&m.maatregel_id),
            "{b}: the answer names the maatregel"
        );
        assert!(!shown.contains("dev-jeugdbescherming"));

        // The GI is told at once who asked, and about which of its maatregelen; the refused
        // attempt before was not passed on.
        let n = next_notification(&mut notes).await;
        assert_eq!(n.kind, pb::NotificationKind::MaatregelQueried as i32, "{b}");
        assert_eq!(n.actor_oin, hub.org("wijkteam").info.oin);
        assert_eq!(n.actor_name, hub.org("wijkteam").info.name);
        assert_eq!(n.actor_professional, "dev-wijkteam");
        assert_eq!(n.maatregel_id, m.maatregel_id);
        assert!(n.at.unwrap().seconds >= before - 1);
        assert!(n.summary_nl.contains("vroeg of er een maatregel is"));

        // Logged: the answer and the notice, with the relationship check.
        let entries = log(&hub).await;
        let answered: Vec<&LogEntry> = entries
            .iter()
            .filter(|e| e.event == Event::MaatregelQueried && e.outcome == EntryOutcome::Disclosed)
            .collect();
        assert_eq!(answered.len(), 1, "{b}");
        assert!(answered[0].checks.relationship);
        assert_eq!(answered[0].purpose.as_deref(), Some("maatregel_afstemming"));
        assert_eq!(answered[0].basis, vec!["legal:jeugdwet_informatie"]);
        let told: Vec<&LogEntry> = entries
            .iter()
            .filter(|e| e.event == Event::MaatregelQueryNotified)
            .collect();
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].recipient_oin.as_deref(), Some(gi_org.oin.as_str()));
        assert_eq!(told[0].reference.as_deref(), Some(m.maatregel_id.as_str()));
        hub.stop().await;
    }
}

#[tokio::test]
async fn no_maatregel_ended_maatregel_and_other_children() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let m = register_ots(&hub, CHILD).await;
        involve(&hub, "wijkteam", CHILD).await;
        involve(&hub, "wijkteam", OTHER_CHILD).await;
        let mut wijkteam = hub.client("wijkteam").await;
        // Another child: an honest "no", still only because the wijkteam is involved.
        let none = wijkteam.has_maatregel(OTHER_CHILD).await.unwrap();
        assert_eq!(none, pb::HasMaatregelResponse::default(), "{b}");
        // Only the registering or responsible organisation ends it.
        let e = wijkteam.end_maatregel(&m.maatregel_id).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{b}: {e}");
        let mut gi = hub.client("jeugdbescherming").await;
        let ended = gi.end_maatregel(&m.maatregel_id).await.unwrap();
        assert!(ended.ended_at.is_some());
        let again = gi.end_maatregel(&m.maatregel_id).await.unwrap_err();
        assert_eq!(again.code(), Code::FailedPrecondition, "{b}: {again}");
        assert!(!wijkteam.has_maatregel(CHILD).await.unwrap().exists, "{b}");
        // The GI still sees it in its own administration, with include_ended.
        assert!(gi.list_maatregelen(CHILD, false).await.unwrap().is_empty());
        let all = gi.list_maatregelen(CHILD, true).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].maatregel_id, m.maatregel_id);
        let entries = log(&hub).await;
        let ended_entry = entries
            .iter()
            .find(|e| e.event == Event::MaatregelEnded)
            .expect("the ending is logged");
        assert_eq!(
            ended_entry.reference.as_deref(),
            Some(m.maatregel_id.as_str())
        );
        assert!(entries.iter().any(|e| e.event == Event::MaatregelenListed));
        hub.stop().await;
    }
}

#[tokio::test]
async fn only_the_jeugdbescherming_sector_registers_and_bad_input_is_named() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        for sector in ["wijkteam", "veilig_thuis", "school"] {
            let mut c = hub.client(sector).await;
            let e = c
                .register_maatregel(pb::RegisterMaatregelRequest {
                    subject_bsn: CHILD.into(),
                    kind: pb::MaatregelKind::Ots as i32,
                    contact_point: GI_CONTACT.into(),
                    ..Default::default()
                })
                .await
                .unwrap_err();
            assert_eq!(e.code(), Code::PermissionDenied, "{b} {sector}: {e}");
            assert!(e.to_string().contains("jeugdbescherming"), "{e}");
        }
        let mut gi = hub.client("jeugdbescherming").await;
        let e = gi
            .register_maatregel(pb::RegisterMaatregelRequest {
                subject_bsn: "123456789".into(),
                kind: 0,
                contact_point: "\n".into(),
                responsible_oin: hub.org("wijkteam").info.oin.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{b}: {e}");
        let signaalhub_client::ClientError::Status(s) = &e else {
            panic!("{e}")
        };
        let fields: Vec<String> = s
            .get_error_details()
            .bad_request()
            .unwrap()
            .field_violations
            .iter()
            .map(|v| v.field.clone())
            .collect();
        for f in ["subject_bsn", "kind", "contact_point", "responsible_oin"] {
            assert!(
                fields.iter().any(|x| x == f),
                "{b}: no violation for {f}: {fields:?}"
            );
        }
        assert!(!e.to_string().contains("123456789"), "the BSN is echoed");
        // Nothing was registered or logged as registered.
        assert!(
            !log(&hub)
                .await
                .iter()
                .any(|e| e.event == Event::MaatregelRegistered),
            "{b}"
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn an_involved_school_gets_no_answer_under_the_sample_convenant() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        register_ots(&hub, CHILD).await;
        involve(&hub, "school", CHILD).await;
        let mut school = hub.client("school").await;
        let e = school.has_maatregel(CHILD).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{b}: {e}");
        let signaalhub_client::ClientError::Status(s) = &e else {
            panic!("{e}")
        };
        assert!(
            reason_codes(s).iter().any(|c| c == "PURPOSE_NOT_ALLOWED"),
            "{b}: {s:?}"
        );
        let denied = log(&hub)
            .await
            .into_iter()
            .filter(|e| e.event == Event::MaatregelQueried)
            .collect::<Vec<_>>();
        assert_eq!(denied.len(), 1);
        assert_eq!(denied[0].outcome, EntryOutcome::Denied);
        assert!(denied[0].checks.relationship, "the school is involved");
        hub.stop().await;
    }
}

#[tokio::test]
async fn check_basis_reads_recipient_involved_from_the_register() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut gi = hub.client("jeugdbescherming").await;
        let request = pb::CheckBasisRequest {
            recipient_oin: hub.org("wijkteam").info.oin.clone(),
            purpose: "maatregel_afstemming".into(),
            categories: vec!["maatregel_bestaan".into()],
            subject_bsn: CHILD.into(),
            basis: Some(pb::Basis {
                legal: Some(pb::LegalBasis {
                    basis: "jeugdwet_informatie".into(),
                    evidence: Some(pb::Evidence {
                        maatregel_reference: "m_ref".into(),
                        ..Default::default()
                    }),
                }),
                consent_ids: vec![],
            }),
            ..Default::default()
        };
        let d = gi.check_basis(request.clone()).await.unwrap();
        assert_eq!(d.outcome, pb::Outcome::Deny as i32, "{b}");
        assert!(d.reasons.iter().any(|r| r.code == "RECIPIENT_NOT_INVOLVED"));
        let reg = involve(&hub, "wijkteam", CHILD).await;
        let d = gi.check_basis(request.clone()).await.unwrap();
        assert_eq!(d.outcome, pb::Outcome::Allow as i32, "{b}: {d:?}");
        // Ended: not involved any more.
        let mut wijkteam = hub.client("wijkteam").await;
        wijkteam
            .end_involvement(&reg.involvement.unwrap().involvement_id)
            .await
            .unwrap();
        let d = gi.check_basis(request.clone()).await.unwrap();
        assert_eq!(d.outcome, pb::Outcome::Deny as i32, "{b}");
        // Each of these three answers depended on the register: each consultation is logged,
        // naming the GI, the wijkteam and whether it was involved (docs/ACCESS.md).
        let checked = |log: &[(u64, LogEntry)]| -> Vec<bool> {
            log.iter()
                .filter(|(_, e)| e.event == Event::InvolvementChecked)
                .map(|(_, e)| {
                    assert_eq!(e.actor_oin, hub.org("jeugdbescherming").info.oin);
                    assert_eq!(
                        e.recipient_oin.as_deref(),
                        Some(hub.org("wijkteam").info.oin.as_str())
                    );
                    e.checks.relationship
                })
                .collect()
        };
        let log = common::log_entries(&hub.store).await;
        assert_eq!(checked(&log), [false, true, false], "{b}");
        // An answer that does not depend on the register (the maatregel reference is missing)
        // consults it not, and logs nothing.
        let mut no_evidence = request;
        no_evidence.basis = Some(pb::Basis {
            legal: Some(pb::LegalBasis {
                basis: "jeugdwet_informatie".into(),
                evidence: Some(pb::Evidence::default()),
            }),
            consent_ids: vec![],
        });
        let d = gi.check_basis(no_evidence).await.unwrap();
        assert_eq!(d.outcome, pb::Outcome::Deny as i32, "{b}");
        let log = common::log_entries(&hub.store).await;
        assert_eq!(checked(&log).len(), 3, "{b}");
        hub.stop().await;
    }
}

#[tokio::test]
async fn the_gi_is_told_on_another_hub_instance_too() {
    for b in backends() {
        if b != "postgres" {
            // Several instances share one database only on PostgreSQL.
            continue;
        }
        let hub = TestHub::start(b).await;
        let (addr, stop) = hub.second_instance().await;
        let m = register_ots(&hub, CHILD).await;
        involve(&hub, "wijkteam", CHILD).await;
        let mut gi = hub.client_at("jeugdbescherming", addr).await;
        let mut notes = gi.stream_notifications(0).await.unwrap();
        // Idle on the second instance first, then the question arrives through the first.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut wijkteam = hub.client("wijkteam").await;
        assert!(wijkteam.has_maatregel(CHILD).await.unwrap().exists);
        let n = next_notification(&mut notes).await;
        assert_eq!(n.maatregel_id, m.maatregel_id);
        assert_eq!(n.actor_oin, hub.org("wijkteam").info.oin);
        let _ = stop.send(());
        hub.stop().await;
    }
}

/// Involvement is earned (access issue item 5): a wijkteam with no contact with a child cannot
/// declare itself involved to learn of its OTS. The attempt is refused, logged for its FG, and
/// `HasMaatregel` stays closed to it; the grounds the hub can check each open the way.
#[tokio::test]
async fn involvement_needs_a_ground_the_hub_can_check() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        register_ots(&hub, CHILD).await;
        let mut wijkteam = hub.client("wijkteam").await;
        let bare = |bsn: &str| pb::RegisterInvolvementRequest {
            subject_bsn: bsn.into(),
            contact_professional: "wijkcoach, 026-0000000".into(),
            ..Default::default()
        };
        // No contact at all: refused, with the grounds named, and nothing registered.
        let e = wijkteam
            .register_involvement(bare(CHILD))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{b}: {e}");
        assert!(e.to_string().contains("delivered"), "{b}: {e}");
        assert!(!e.to_string().contains(CHILD), "{b}: BSN echoed");
        let e = wijkteam.has_maatregel(CHILD).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{b}: {e}");
        let entries = log(&hub).await;
        let refused: Vec<&LogEntry> = entries
            .iter()
            .filter(|e| e.event == Event::InvolvementRefused)
            .collect();
        assert_eq!(refused.len(), 1, "{b}: the attempt is on record");
        assert_eq!(refused[0].outcome, EntryOutcome::Denied);
        assert_eq!(refused[0].actor_oin, hub.org("wijkteam").info.oin);
        assert!(
            !entries
                .iter()
                .any(|e| e.event == Event::InvolvementRegistered),
            "{b}"
        );
        // A consent recorded by another organisation that does not name the wijkteam is no
        // ground either (the school's consent for the GI and Veilig Thuis only).
        let req = common::consent_request(
            CHILD,
            9,
            &["ouder-1", "ouder-2"],
            &["ouder-1", "ouder-2"],
            &[pb::Sector::Jeugdbescherming],
            "casusafstemming",
            &["betrokkenheid"],
        );
        let other = hub
            .client("school")
            .await
            .record_consent(req)
            .await
            .unwrap()
            .consent_id;
        let mut with_other = bare(CHILD);
        with_other.basis = Some(pb::Basis {
            legal: None,
            consent_ids: vec![other],
        });
        let e = wijkteam.register_involvement(with_other).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{b}: {e}");

        // Grounds: a signal about the child delivered to it...
        common::involvement_flow::wijkteam_told_by_school(&hub, CHILD).await;
        wijkteam.register_involvement(bare(CHILD)).await.unwrap();
        assert!(wijkteam.has_maatregel(CHILD).await.unwrap().exists, "{b}");
        // ...and for the GI, the maatregel it registered.
        hub.client("jeugdbescherming")
            .await
            .register_involvement(bare(CHILD))
            .await
            .unwrap();
        hub.stop().await;
    }
}

/// Contact the hub cannot see (a phone call, a joint visit): an organisation already involved
/// with the child, or the GI of its maatregel, confirms another organisation's contact, which is
/// then a ground for that organisation's involvement (30 days, this child only). An organisation
/// that is not involved itself cannot confirm; every attempt is logged.
#[tokio::test]
async fn an_involved_party_or_the_gi_confirms_another_organisations_contact() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        register_ots(&hub, CHILD).await;
        involve(&hub, "wijkteam", CHILD).await;
        let gp_oin = hub.org("huisarts").info.oin.clone();
        let vt_oin = hub.org("veilig_thuis").info.oin.clone();
        let bare = |bsn: &str| pb::RegisterInvolvementRequest {
            subject_bsn: bsn.into(),
            contact_professional: "huisarts, 026-0000000".into(),
            ..Default::default()
        };
        let mut gp = hub.client("huisarts").await;
        let e = gp.register_involvement(bare(CHILD)).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{b}: {e}");
        assert!(e.to_string().contains("ConfirmInvolvement"), "{b}: {e}");

        // The school has no involvement with the child: it cannot vouch for anyone.
        let e = hub
            .client("school")
            .await
            .confirm_involvement(CHILD, &gp_oin)
            .await
            .unwrap_err();
        assert_eq!(refusal(&e).0, "CONFIRMER_NOT_INVOLVED", "{b}");
        // Bad input is a field violation.
        let mut wijkteam = hub.client("wijkteam").await;
        let e = wijkteam
            .confirm_involvement(CHILD, "123")
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{b}: {e}");
        let own = hub.org("wijkteam").info.oin.clone();
        let e = wijkteam.confirm_involvement(CHILD, &own).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{b}: {e}");

        // The wijkteam, involved, confirms the GP's contact: the GP registers on it.
        let until = wijkteam.confirm_involvement(CHILD, &gp_oin).await.unwrap();
        let days = (until - now()) / 86_400;
        assert!((29..=30).contains(&days), "{b}: {days} days");
        gp.register_involvement(bare(CHILD)).await.unwrap();
        // For this child only.
        let e = gp
            .register_involvement(bare(OTHER_CHILD))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{b}: {e}");
        // The GI of the child's OTS confirms too (Veilig Thuis's contact).
        hub.client("jeugdbescherming")
            .await
            .confirm_involvement(CHILD, &vt_oin)
            .await
            .unwrap();
        let mut vt = common::involvement_flow::client(&hub, "veilig_thuis").await;
        vt.register_involvement(bare(CHILD)).await.unwrap();

        // Every confirmation and the refusal are on record, with the confirmed organisation as
        // recipient and the child's pseudonym, never the BSN.
        let entries = log(&hub).await;
        let confirmed: Vec<&LogEntry> = entries
            .iter()
            .filter(|e| e.event == Event::InvolvementConfirmed)
            .collect();
        assert_eq!(confirmed.len(), 3, "{b}");
        assert_eq!(confirmed[0].outcome, EntryOutcome::Denied);
        assert_eq!(confirmed[0].reasons, vec!["CONFIRMER_NOT_INVOLVED"]);
        assert_eq!(confirmed[1].outcome, EntryOutcome::Recorded);
        assert_eq!(confirmed[1].recipient_oin.as_deref(), Some(gp_oin.as_str()));
        assert_eq!(confirmed[1].subjects.len(), 1);
        assert!(!format!("{confirmed:?}").contains(CHILD));
        hub.stop().await;
    }
}

/// Probing the register: a wijkteam asks about child after child and hears "no". After the
/// day's limit of "no" answers (`[access] maatregel_no_answers_per_day`) its questions are
/// refused until the next day, each refusal logged for its FG, and the GI is told once.
#[tokio::test]
async fn repeated_no_answers_are_limited_per_organisation_and_the_gi_is_told() {
    const CHILDREN: [&str; 3] = ["345678904", "356790010", "367901122"];
    for b in backends() {
        let hub = TestHub::start_with(
            b,
            |db| db.to_owned(),
            "[access]\nmaatregel_no_answers_per_day = 2\n",
        )
        .await;
        register_ots(&hub, CHILD).await;
        for c in CHILDREN.iter().chain([&CHILD]) {
            involve(&hub, "wijkteam", c).await;
        }
        let mut gi = hub.client("jeugdbescherming").await;
        let mut notes = gi.stream_notifications(0).await.unwrap();
        let mut wijkteam = hub.client("wijkteam").await;

        // A "yes" does not count; two "no" answers reach the limit...
        assert!(wijkteam.has_maatregel(CHILD).await.unwrap().exists);
        let n = next_notification(&mut notes).await;
        assert_eq!(n.kind, pb::NotificationKind::MaatregelQueried as i32, "{b}");
        for c in &CHILDREN[..2] {
            assert!(!wijkteam.has_maatregel(c).await.unwrap().exists, "{b}");
        }
        // ...and the GI hears of it once, with the asking organisation and no child.
        let n = next_notification(&mut notes).await;
        assert_eq!(
            n.kind,
            pb::NotificationKind::MaatregelQueriesLimited as i32,
            "{b}"
        );
        assert_eq!(n.actor_oin, hub.org("wijkteam").info.oin);
        assert!(n.summary_nl.contains("geen maatregel"), "{}", n.summary_nl);

        // Every further question is refused today, even about the child with the OTS.
        for c in [CHILDREN[2], CHILD] {
            let e = wijkteam.has_maatregel(c).await.unwrap_err();
            let (code, message) = refusal(&e);
            assert_eq!(code, "MAATREGEL_QUERY_LIMIT", "{b}");
            assert!(!message.contains(c));
        }
        // Each refusal is logged as the wijkteam's act (its FG sees them); the GI was told once.
        let entries = log(&hub).await;
        let refused = entries
            .iter()
            .filter(|e| {
                e.event == Event::MaatregelQueried
                    && e.outcome == EntryOutcome::Denied
                    && e.reasons == ["MAATREGEL_QUERY_LIMIT"]
            })
            .count();
        assert_eq!(refused, 2, "{b}");
        let limited: Vec<&LogEntry> = entries
            .iter()
            .filter(|e| e.event == Event::MaatregelQueriesLimited)
            .collect();
        assert_eq!(limited.len(), 1, "{b}");
        assert_eq!(
            limited[0].recipient_oin.as_deref(),
            Some(hub.org("jeugdbescherming").info.oin.as_str())
        );
        assert!(limited[0].subjects.is_empty());
        // The count is the organisation's per day: tomorrow (the stored day after) starts at 0.
        let wijkteam_oin = hub.org("wijkteam").info.oin.clone();
        let today = now().div_euclid(86_400);
        assert_eq!(
            hub.store
                .maatregel_no_answers(&wijkteam_oin, today)
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            hub.store
                .maatregel_no_answers(&wijkteam_oin, today + 1)
                .await
                .unwrap(),
            0
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn an_ended_maatregel_hands_back_to_the_involved_wijkteam() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let m = register_ots(&hub, CHILD).await;
        involve(&hub, "wijkteam", CHILD).await;
        involve(&hub, "school", CHILD).await;
        let mut wijkteam = hub.client("wijkteam").await;
        let mut notes = wijkteam.stream_notifications(0).await.unwrap();
        // The matches of the two involvements come first.
        let mut gi = hub.client("jeugdbescherming").await;
        let wijkteam_oin = hub.org("wijkteam").info.oin.clone();
        let school_oin = hub.org("school").info.oin.clone();
        // Who has the case next must be an organisation the hub knows.
        let e = gi
            .end_maatregel_handing_back(&m.maatregel_id, "00000009999999999999")
            .await
            .unwrap_err();
        assert_eq!(common::violations(e)[0].0, "next_oin", "{b}");
        let r = gi
            .end_maatregel_handing_back(&m.maatregel_id, &wijkteam_oin)
            .await
            .unwrap();
        let ended = r.maatregel.unwrap();
        assert!(ended.ended_at.is_some());
        assert_eq!(ended.next_oin, wijkteam_oin);
        // The wijkteam is told (the convenant's maatregel flow); the school is not.
        let mut parties: Vec<(String, bool)> =
            r.parties.iter().map(|p| (p.oin.clone(), p.told)).collect();
        parties.sort();
        let mut expected = vec![(wijkteam_oin.clone(), true), (school_oin.clone(), false)];
        expected.sort();
        assert_eq!(parties, expected, "{b}");
        let note = loop {
            let n = next_notification(&mut notes).await;
            if n.kind == pb::NotificationKind::MaatregelEnded as i32 {
                break n;
            }
        };
        assert_eq!(note.maatregel_id, m.maatregel_id);
        assert!(
            note.summary_nl.contains("is beëindigd per"),
            "{}",
            note.summary_nl
        );
        assert!(note.summary_nl.contains(GI_CONTACT), "{}", note.summary_nl);
        assert!(
            note.summary_nl.contains("De zaak ligt nu bij Wijkteam"),
            "{}",
            note.summary_nl
        );
        // The GI's administration records who has the case now.
        let all = gi.list_maatregelen(CHILD, true).await.unwrap();
        assert_eq!(all[0].next_oin, wijkteam_oin);
        // Logged: the end with who is next, one notice disclosed, one withheld.
        let entries = log(&hub).await;
        let end = entries
            .iter()
            .find(|e| e.event == Event::MaatregelEnded)
            .unwrap();
        assert_eq!(end.reasons, vec![format!("next:{wijkteam_oin}")]);
        let notices: Vec<(Option<String>, EntryOutcome)> = entries
            .iter()
            .filter(|e| e.event == Event::MaatregelEndNotified)
            .map(|e| (e.recipient_oin.clone(), e.outcome))
            .collect();
        assert_eq!(notices.len(), 2, "{b}");
        assert!(notices.contains(&(Some(wijkteam_oin.clone()), EntryOutcome::Disclosed)));
        assert!(notices.contains(&(Some(school_oin.clone()), EntryOutcome::Withheld)));
        hub.stop().await;
    }
}
