//! Subjects without a BSN (issue 20, item 4): an organisation asks the hub for a subject
//! reference for a person whose BSN it does not know, uses it wherever a BSN is asked for —
//! consent, signal, the family's access report — and merges it with the BSN once that is known;
//! the BSN's report then shows the history recorded under the reference. On every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, violations};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ClientError, HubClient};
use signaalhub_server::store::testing::backends;
use std::collections::HashMap;
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::Code;

const CHILD: &str = "111222333";

fn code(r: Result<impl std::fmt::Debug, ClientError>) -> (Code, String) {
    match r {
        Err(ClientError::Status(s)) => (s.code(), s.message().to_owned()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A client of `sector`'s privacy officer.
async fn fg(hub: &TestHub, sector: &str) -> HubClient {
    let mut c = hub.claims(sector);
    c["roles"] = serde_json::json!(["fg"]);
    c["sub"] = format!("fg-{sector}").into();
    hub.client_with_token(sector, hub.token(sector, &c)).await
}

fn trusted(cp: &pb::GetCheckpointResponse) -> HashMap<String, [u8; 32]> {
    HashMap::from([(
        cp.key_id.clone(),
        <[u8; 32]>::try_from(cp.public_key.as_slice()).unwrap(),
    )])
}

fn events(r: &pb::SubjectAccessReportResponse) -> Vec<String> {
    r.entries
        .iter()
        .map(|e| e.entry.as_ref().unwrap().event.clone())
        .collect()
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
            c.ack_signal(&item.sender_oin, &item.signal_id)
                .await
                .unwrap();
            return;
        }
    }
}

#[tokio::test]
async fn a_subject_without_a_bsn_goes_through_consent_signal_and_access_report_and_merges_later() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut school = hub.client("school").await;

        // The school asks for a reference: SH- and 13 letters, no digit.
        let issued = school.issue_subject_reference("").await.unwrap();
        let r = issued.reference.clone();
        assert!(r.starts_with("SH-") && r.len() == 16, "{b}: {r}");
        assert!(!r.bytes().any(|c| c.is_ascii_digit()));
        assert!(issued.issued_at.is_some());
        let other = school.issue_subject_reference("").await.unwrap().reference;
        assert_ne!(other, r, "{b}: every reference is fresh");

        // Consent of both parents, then a signal about the child, delivered: by the reference,
        // in any case.
        let basis = hub.both_parents_consent(&r.to_lowercase()).await;
        let req = hub
            .signal(
                "school",
                &["wijkteam"],
                "sig-ref",
                b"zorgen over de thuissituatie",
                "vroegtijdige_ondersteuning",
                &["zorgen_thuissituatie"],
                &r,
                basis.clone(),
            )
            .await;
        school.send_signal(req).await.unwrap();
        deliver_to(&hub, "wijkteam", "sig-ref").await;
        assert_eq!(school.list_consents(&r, false).await.unwrap().len(), 2);

        // The school's privacy officer answers the family's access request by the reference,
        // and the report verifies.
        let mut school_fg = fg(&hub, "school").await;
        let report = school_fg.subject_access_report(&r).await.unwrap();
        let ev = events(&report);
        for want in [
            "subject_reference_issued",
            "consent_recorded",
            "signal_sent",
            "signal_delivered",
        ] {
            assert!(ev.iter().any(|e| e == want), "{b}: {want} in {ev:?}");
        }
        let cp = school_fg.checkpoint().await.unwrap();
        assert_eq!(
            signaalhub_client::verify_report(&report, &trusted(&cp)).unwrap(),
            report.entries.len()
        );
        let before = report.entries.len();

        // A malformed reference or a wrong check letter: INVALID_ARGUMENT, never echoed.
        let mut typo = r.clone().into_bytes();
        typo[5] = if typo[5] == b'A' { b'B' } else { b'A' };
        let typo = String::from_utf8(typo).unwrap();
        for bad in [typo.as_str(), "SH-ABCDEFGHJKMN1", "SH-KORT"] {
            let e = school.list_consents(bad, false).await.unwrap_err();
            let v = violations(e);
            assert_eq!(v[0].0, "subject_bsn", "{b}: {v:?}");
            assert!(v[0].1.contains("SH-") && v[0].1.contains("BSN"), "{v:?}");
            assert!(!v[0].1.contains(&bad[3..]), "{b}: echoed {v:?}");
        }
        let (c, m) = code(school.merge_subject_reference(&typo, CHILD, "").await);
        assert_eq!(c, Code::InvalidArgument, "{b}: {m}");
        assert!(!m.contains(&typo[3..]));
        // A BSN as the reference, a reference as the BSN.
        let (c, _) = code(school.merge_subject_reference(CHILD, CHILD, "").await);
        assert_eq!(c, Code::InvalidArgument);
        let (c, m) = code(school.merge_subject_reference(&r, &other, "").await);
        assert_eq!(c, Code::InvalidArgument, "{b}: {m}");
        assert!(!m.contains(&other[3..]));

        // Another organisation cannot merge it (nor learn that it exists).
        let (c, _) = code(
            hub.client("wijkteam")
                .await
                .merge_subject_reference(&r, CHILD, "")
                .await,
        );
        assert_eq!(c, Code::NotFound, "{b}");

        // The issuer merges it with the BSN once it is known.
        let merged = school.merge_subject_reference(&r, CHILD, "").await.unwrap();
        assert!(merged.records_moved >= 6, "{b}: {merged:?}");
        assert!(merged.log_index > 0);
        let (c, m) = code(school.merge_subject_reference(&r, CHILD, "").await);
        assert_eq!(c, Code::FailedPrecondition, "{b}: {m}");

        // Merged, the reference is refused for anything recorded about the person (it would not
        // be found by the BSN): a signal, a consent, a maatregel; the log does not grow, the
        // reference is not echoed. The BSN works.
        let size = hub.store.log_size().await.unwrap();
        let req = hub
            .signal(
                "school",
                &["wijkteam"],
                "sig-ref-after",
                b"opnieuw zorgen",
                "vroegtijdige_ondersteuning",
                &["zorgen_thuissituatie"],
                &r,
                basis.clone(),
            )
            .await;
        let (c, m) = code(school.send_signal(req).await);
        assert_eq!(c, Code::FailedPrecondition, "{b}: {m}");
        assert!(m.contains("merged") && !m.contains(&r[3..]), "{b}: {m}");
        let (c, m) = code(
            hub.client("jeugdbescherming")
                .await
                .register_maatregel(pb::RegisterMaatregelRequest {
                    subject_bsn: r.to_lowercase(),
                    kind: pb::MaatregelKind::Ots as i32,
                    contact_point: "Team Jeugdbescherming, 026-1234567".into(),
                    ..Default::default()
                })
                .await,
        );
        assert_eq!(c, Code::FailedPrecondition, "{b}: {m}");
        assert_eq!(hub.store.log_size().await.unwrap(), size, "{b}");
        // The other, unmerged reference still works.
        school.list_consents(&other, false).await.unwrap();

        // By the BSN: the consents recorded under the reference, and the report lists the
        // earlier entries and the merge.
        let consents = school.list_consents(CHILD, false).await.unwrap();
        assert_eq!(consents.len(), 2, "{b}");
        for id in &basis.consent_ids {
            assert!(consents.iter().any(|c| &c.consent_id == id));
        }
        assert!(school.list_consents(&r, false).await.unwrap().is_empty());
        let by_bsn = school_fg.subject_access_report(CHILD).await.unwrap();
        let ev = events(&by_bsn);
        for want in [
            "subject_reference_issued",
            "consent_recorded",
            "signal_delivered",
            "subject_merged",
        ] {
            assert!(ev.iter().any(|e| e == want), "{b}: {want} in {ev:?}");
        }
        assert!(by_bsn.entries.len() > before);
        let cp = school_fg.checkpoint().await.unwrap();
        assert_eq!(
            signaalhub_client::verify_report(&by_bsn, &trusted(&cp)).unwrap(),
            by_bsn.entries.len()
        );
        // By the reference: nothing of before the merge, only that it was merged (and the
        // lookups by the reference since).
        let by_ref = school_fg.subject_access_report(&r).await.unwrap();
        let ev = events(&by_ref);
        for gone in [
            "subject_reference_issued",
            "consent_recorded",
            "signal_sent",
            "signal_delivered",
        ] {
            assert!(!ev.iter().any(|e| e == gone), "{b}: {gone} in {ev:?}");
        }
        assert!(ev.iter().any(|e| e == "subject_merged"), "{b}: {ev:?}");

        // The reference is nowhere in the database in the clear (only its pseudonym).
        let text = common::database_text(&hub).await;
        for s in [&r, &other] {
            assert!(!text.contains(&s[3..]), "{b}: {s} stored in the clear");
        }
        hub.stop().await;
    }
}

#[tokio::test]
async fn only_a_convenant_role_or_the_fg_asks_for_a_reference() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut fg_school = fg(&hub, "school").await;
        let r = fg_school.issue_subject_reference("").await.unwrap();
        assert!(r.reference.starts_with("SH-"));
        let mut c = hub.claims("school");
        c["roles"] = serde_json::json!(["receptie"]);
        let mut other = hub
            .client_with_token("school", hub.token("school", &c))
            .await;
        let (code, _) = code(other.issue_subject_reference("").await);
        assert_eq!(code, Code::PermissionDenied, "{b}");
        hub.stop().await;
    }
}
