//! Limits per organisation: a request rate with RESOURCE_EXHAUSTED and a retry hint that
//! recovers, and a cap on open streams — neither touching another organisation.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::TestHub;
use signaalhub_client::ClientError;
use signaalhub_server::store::testing::backends;
use std::time::Duration;
use tonic::Code;
use tonic_types::StatusExt;

fn exhausted(e: ClientError) -> tonic::Status {
    match e {
        ClientError::Status(s) if s.code() == Code::ResourceExhausted => s,
        other => panic!("expected RESOURCE_EXHAUSTED, got {other}"),
    }
}

#[tokio::test]
async fn the_request_rate_limit_triggers_with_a_retry_hint_and_recovers() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let inst = hub
            .instance_with(|c| {
                c.limits.requests_per_second_per_org = 2;
                c.limits.burst_per_org = 3;
            })
            .await;
        let mut school = hub.client_at("school", inst.addr).await;
        for _ in 0..3 {
            school.who_am_i().await.unwrap();
        }
        let status = exhausted(school.who_am_i().await.unwrap_err());
        let school_oin = hub.org("school").info.oin.clone();
        assert!(
            status.message().contains(&school_oin),
            "{}",
            status.message()
        );
        let retry = status
            .get_details_retry_info()
            .and_then(|r| r.retry_delay)
            .expect("google.rpc.RetryInfo with a delay");
        assert!(
            retry > Duration::ZERO && retry <= Duration::from_millis(500),
            "{retry:?}"
        );
        let quota = status.get_details_quota_failure().expect("QuotaFailure");
        assert_eq!(
            quota.violations[0].subject,
            format!("organisation:{school_oin}")
        );

        // Another organisation on the same instance is not affected.
        let mut wijkteam = hub.client_at("wijkteam", inst.addr).await;
        for _ in 0..3 {
            wijkteam.who_am_i().await.unwrap();
        }
        // Nor is the same organisation on another instance (limits are per instance).
        hub.client("school").await.who_am_i().await.unwrap();
        // Health checks of load balancers are never rate limited.
        assert_eq!(school.health("").await.unwrap(), 1);

        // After the hinted delay the organisation is served again.
        tokio::time::sleep(retry + Duration::from_millis(20)).await;
        school.who_am_i().await.unwrap();
        inst.stop().await;
        hub.stop().await;
    }
}

#[tokio::test]
async fn open_streams_are_capped_per_organisation_and_freed_when_closed() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let inst = hub
            .instance_with(|c| c.limits.max_streams_per_org = 2)
            .await;
        let mut wijkteam = hub.client_at("wijkteam", inst.addr).await;
        let first = wijkteam.stream_inbox(0).await.unwrap();
        let second = wijkteam.stream_inbox(0).await.unwrap();
        let status = exhausted(wijkteam.stream_inbox(0).await.unwrap_err());
        assert!(
            status.message().contains("2 open streams"),
            "{}",
            status.message()
        );
        assert!(status.get_details_retry_info().is_some());
        // Unary calls of the same organisation still pass.
        wijkteam.who_am_i().await.unwrap();
        // Another organisation has its own streams.
        let mut politie = hub.client_at("politie", inst.addr).await;
        let _p = politie.stream_inbox(0).await.unwrap();

        // Closing one stream frees its place.
        drop(first);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let third = loop {
            match wijkteam.stream_inbox(0).await {
                Ok(s) => break s,
                Err(e) => {
                    exhausted(e);
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "a closed stream's place was not freed within 5 s"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        drop((second, third));
        inst.stop().await;
        hub.stop().await;
    }
}
