//! Limits per organisation: a request rate with RESOURCE_EXHAUSTED and a retry hint that
//! recovers, a cap on open streams and one on connections — none touching another organisation.
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

/// Connects as `sector` to `addr` and asks who it is: `Ok` when served, `Err` when the
/// connection was refused or closed.
async fn served(hub: &TestHub, sector: &str, addr: std::net::SocketAddr) -> Result<(), String> {
    let o = hub.org(sector);
    let token = hub.token(sector, &hub.claims(sector));
    let mut opts = hub.options(Some((o.cert_pem.clone(), o.key_pem.clone())), Some(token));
    opts.endpoint = format!("https://{addr}");
    let mut c = signaalhub_client::HubClient::connect(opts)
        .await
        .map_err(|e| e.to_string())?;
    c.who_am_i().await.map(|_| ()).map_err(|e| e.to_string())
}

#[tokio::test]
async fn connections_are_capped_per_organisation_without_touching_others() {
    // The cap sits in the accept loop and is the same for both stores; one backend suffices.
    let hub = TestHub::start("sqlite").await;
    let inst = hub
        .instance_with(|c| c.limits.max_connections_per_org = 2)
        .await;
    // Two connections of the school are held open (each client is its own connection).
    let mut first = hub.client_at("school", inst.addr).await;
    let mut second = hub.client_at("school", inst.addr).await;
    first.who_am_i().await.unwrap();
    second.who_am_i().await.unwrap();
    // A third is closed right after the TLS handshake: nothing is served on it.
    let third = served(&hub, "school", inst.addr).await;
    assert!(third.is_err(), "a third school connection was served");
    // The held connections keep working, and another organisation is not affected.
    first.who_am_i().await.unwrap();
    let mut wijkteam = hub.client_at("wijkteam", inst.addr).await;
    wijkteam.who_am_i().await.unwrap();
    served(&hub, "wijkteam", inst.addr).await.unwrap();
    // Closing one frees its place.
    drop(second);
    let mut freed = false;
    for _ in 0..50 {
        if served(&hub, "school", inst.addr).await.is_ok() {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "a closed connection's place was not freed");
    inst.stop().await;
    hub.stop().await;
}
