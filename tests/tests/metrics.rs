//! Observability: Prometheus metrics on their own port with the expected families and no
//! personal data or secrets; a request id accepted or made, and returned to the caller.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::TestHub;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_server::store::testing::backends;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHILD: &str = "111222333";

async fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: hub\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

fn request_id_of<T>(r: &tonic::Response<T>) -> String {
    r.metadata()
        .get("x-request-id")
        .expect("x-request-id in the response")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn metrics_serve_the_expected_families_without_personal_data() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let inst = hub
            .instance_with(|c| c.metrics.listen = "127.0.0.1:0".into())
            .await;
        let metrics = inst.metrics_addr.expect("metrics endpoint on");
        let token = hub.token("school", &hub.claims("school"));
        let mut school = hub.client_at("school", inst.addr).await;
        school.who_am_i().await.unwrap();
        // A refused basis: a decision with a reason code.
        let d = school
            .check_basis(pb::CheckBasisRequest {
                recipient_oin: hub.org("wijkteam").info.oin.clone(),
                purpose: "vroegtijdige_ondersteuning".into(),
                categories: vec!["zorgen_thuissituatie".into()],
                subject_bsn: CHILD.into(),
                subject: Some(pb::SubjectFacts {
                    age_years: Some(9),
                    age_band: 0,
                    gezag_holders: vec!["ouder-1".into()],
                }),
                basis: Some(pb::Basis {
                    legal: Some(pb::LegalBasis {
                        basis: "meldrecht".into(),
                        evidence: None,
                    }),
                    consent_ids: vec![],
                }),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(d.outcome, pb::Outcome::Deny as i32);
        let reason = d.reasons[0].code.clone();
        // A refused call (no token).
        let mut raw = pb::directory_service_client::DirectoryServiceClient::new(school.channel());
        assert_eq!(
            raw.who_am_i(pb::WhoAmIRequest::default())
                .await
                .unwrap_err()
                .code(),
            tonic::Code::Unauthenticated
        );

        let (head, body) = get(metrics, "/metrics").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        for family in [
            "# TYPE signaalhub_grpc_requests counter",
            "# TYPE signaalhub_grpc_request_duration_seconds histogram",
            "# TYPE signaalhub_policy_decisions counter",
            "# TYPE signaalhub_open_streams gauge",
            "# TYPE signaalhub_store_errors counter",
            "# TYPE signaalhub_limited_requests counter",
            "# TYPE signaalhub_retention_erased counter",
            "# TYPE signaalhub_log_entries gauge",
            "# TYPE signaalhub_log_integrated_entries gauge",
            "# TYPE signaalhub_log_checkpoint_age_seconds gauge",
            "# TYPE signaalhub_log_full_verify_age_seconds gauge",
        ] {
            assert!(body.contains(family), "{b}: missing {family:?} in\n{body}");
        }
        assert!(body.contains(
            r#"signaalhub_grpc_requests_total{rpc="/signaalhub.v1.DirectoryService/WhoAmI",code="OK"}"#
        ));
        assert!(body.contains(
            r#"signaalhub_grpc_requests_total{rpc="/signaalhub.v1.DirectoryService/WhoAmI",code="UNAUTHENTICATED"}"#
        ));
        assert!(body.contains(&format!(
            r#"signaalhub_policy_decisions_total{{outcome="deny",reason="{reason}"}}"#
        )));
        assert!(body.contains(
            r#"signaalhub_grpc_request_duration_seconds_count{rpc="/signaalhub.v1.PolicyService/CheckBasis"} "#
        ), "{body}");
        let size = hub.store.log_size().await.unwrap();
        assert!(
            body.contains(&format!("signaalhub_log_entries {size}")),
            "{body}"
        );
        // No `log verify` has passed on this fresh hub.
        assert!(
            body.contains("signaalhub_log_full_verify_age_seconds -1"),
            "{body}"
        );
        // No BSN, no token, no gezag holder, no OIN in any label or value.
        assert!(!body.contains(CHILD));
        assert!(!body.contains(&token));
        assert!(!body.contains(&token[..20]));
        assert!(!body.contains("ouder-1"));
        for o in hub.orgs.values() {
            assert!(!body.contains(&o.info.oin), "an OIN in the metrics");
        }
        let (head, _) = get(metrics, "/other").await;
        assert!(head.starts_with("HTTP/1.1 404"), "{head}");
        inst.stop().await;
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_request_id_is_taken_when_well_formed_made_otherwise_and_returned() {
    let hub = TestHub::start("sqlite").await;
    let school = hub.client("school").await;
    let token = hub.token("school", &hub.claims("school"));
    let mut raw = pb::directory_service_client::DirectoryServiceClient::new(school.channel());
    let call = |id: Option<&str>| {
        let mut r = tonic::Request::new(pb::WhoAmIRequest::default());
        r.metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        if let Some(id) = id {
            r.metadata_mut().insert("x-request-id", id.parse().unwrap());
        }
        r
    };
    let r = raw.who_am_i(call(Some("trace-4f1c2a-0001"))).await.unwrap();
    assert_eq!(request_id_of(&r), "trace-4f1c2a-0001");
    // None given: one is made.
    let r = raw.who_am_i(call(None)).await.unwrap();
    let made = request_id_of(&r);
    assert_eq!(made.len(), 32);
    // One that could carry a BSN is replaced.
    let r = raw.who_am_i(call(Some("bsn-111222333"))).await.unwrap();
    let replaced = request_id_of(&r);
    assert!(!replaced.contains("111222333"));
    assert_ne!(replaced, made);
    // Refusals carry it too, so an operator can find them.
    let mut bare = tonic::Request::new(pb::WhoAmIRequest::default());
    bare.metadata_mut()
        .insert("x-request-id", "trace-refused-0002".parse().unwrap());
    let e = raw.who_am_i(bare).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unauthenticated);
    assert_eq!(
        e.metadata().get("x-request-id").unwrap().to_str().unwrap(),
        "trace-refused-0002"
    );
    hub.stop().await;
}
