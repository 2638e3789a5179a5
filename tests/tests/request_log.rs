//! The hub's log for operators: one line per request (method, organisation, status, latency,
//! request id), plain text when the log is not a terminal, and never a BSN, token or payload.
//! Its own test binary: the log subscriber is installed once for the whole process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestHub;
use signaalhub_client::signaalhub_proto::pb;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn every_request_is_one_plain_line_without_personal_data() {
    let capture = Capture::default();
    let sink = capture.clone();
    // As the binary does when stderr is a file or a journal (not a terminal).
    signaalhub_server::admin::init_logging(false, false, move || sink.clone());
    let hub = TestHub::start("sqlite").await;
    let school_oin = hub.org("school").info.oin.to_string();
    let school = hub.client("school").await;
    let token = hub.token("school", &hub.claims("school"));
    let mut raw = pb::directory_service_client::DirectoryServiceClient::new(school.channel());
    let mut r = tonic::Request::new(pb::WhoAmIRequest::default());
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r.metadata_mut()
        .insert("x-request-id", "trace-log-0001".parse().unwrap());
    raw.who_am_i(r).await.unwrap();
    // A refused request that carries a BSN.
    let mut policy = pb::policy_service_client::PolicyServiceClient::new(school.channel());
    let mut r = tonic::Request::new(pb::CheckBasisRequest {
        subject_bsn: "111222333".into(),
        ..Default::default()
    });
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r.metadata_mut()
        .insert("x-request-id", "trace-log-0002".parse().unwrap());
    let e = policy.check_basis(r).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    // A refused signal whose id hides a BSN-like run of digits.
    let mut signals = pb::signal_service_client::SignalServiceClient::new(school.channel());
    let mut r = tonic::Request::new(pb::SendSignalRequest {
        signal_id: "sig-123456789".into(),
        ..Default::default()
    });
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let e = signals.send_signal(r).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(!e.message().contains("123456789"), "{}", e.message());
    hub.stop().await;

    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let line = |id: &str| {
        text.lines()
            .find(|l| l.contains("signaalhub::request") && l.contains(id))
            .unwrap_or_else(|| panic!("no request line for {id} in:\n{text}"))
            .to_owned()
    };
    let ok = line("trace-log-0001");
    assert!(ok.contains("WhoAmI"), "{ok}");
    assert!(ok.contains(&format!("org={school_oin}")), "{ok}");
    assert!(ok.contains("code=OK") && ok.contains("elapsed_ms="), "{ok}");
    let refused = line("trace-log-0002");
    assert!(
        refused.contains("CheckBasis") && refused.contains("code=INVALID_ARGUMENT"),
        "{refused}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a non-terminal log:\n{text}"
    );
    assert!(!text.contains("111222333"), "a BSN in the log:\n{text}");
    assert!(
        !text.contains("123456789"),
        "an id with a BSN-like run in the log:\n{text}"
    );
    assert!(!text.contains(&token), "a token in the log");
}
