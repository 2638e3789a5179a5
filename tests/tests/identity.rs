//! Organisation identity by mutual TLS and professional identity by JWT, end to end, against
//! every configured store backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, now};
use signaalhub_client::{ClientError, HubClient};
use signaalhub_server::devkit::{self, DevCa, Subject};
use signaalhub_server::domain::directory::OrgStatus;
use signaalhub_server::store::testing::backends;
use tonic::Code;

fn expect_status(r: Result<impl std::fmt::Debug, ClientError>, code: Code, needle: &str) {
    match r {
        Err(ClientError::Status(s)) => {
            assert_eq!(s.code(), code, "message: {}", s.message());
            assert!(
                s.message().contains(needle),
                "message {:?} should contain {needle:?}",
                s.message()
            );
        }
        other => panic!("expected {code:?} containing {needle:?}, got {other:?}"),
    }
}

async fn who(
    hub: &TestHub,
    cert: (String, String),
    token: Option<String>,
) -> Result<signaalhub_client::signaalhub_proto::pb::WhoAmIResponse, ClientError> {
    let mut c = HubClient::connect(hub.options(Some(cert), token)).await?;
    c.who_am_i().await
}

#[tokio::test]
async fn happy_path_who_am_i() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut c = hub.client("school").await;
        let me = c.who_am_i().await.unwrap();
        let org = me.organization.unwrap();
        assert_eq!(org.oin, hub.org("school").info.oin);
        assert_eq!(org.sector_name, "school");
        assert_eq!(me.professional, "dev-school");
        assert_eq!(me.roles, vec!["ib_er".to_string()]);
        assert!(me.token_expires_at.unwrap().seconds > now());
        hub.stop().await;
    }
}

#[tokio::test]
async fn no_client_certificate_is_unauthenticated() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let token = hub.token("school", &hub.claims("school"));
        let mut c = HubClient::connect(hub.options(None, Some(token)))
            .await
            .unwrap();
        expect_status(
            c.who_am_i().await,
            Code::Unauthenticated,
            "no client certificate",
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn certificate_from_unknown_ca_is_refused() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let other = DevCa::generate("rogue CA").unwrap();
        let o = hub.org("school");
        let cert = other
            .issue(
                &Subject {
                    common_name: "x".into(),
                    serial_numbers: vec![o.info.oin.clone()],
                },
                &[],
            )
            .unwrap();
        let token = hub.token("school", &hub.claims("school"));
        // The handshake fails: either connecting or the first call reports it.
        let r = who(&hub, cert, Some(token)).await;
        let e = r.expect_err("a certificate from an unknown CA must be refused");
        assert!(
            matches!(e.code(), Code::Unavailable | Code::Unknown),
            "{e:?}"
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn expired_certificate_is_refused() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let o = hub.org("school");
        let cert = hub
            .ca
            .issue_with_validity(
                &Subject {
                    common_name: "x".into(),
                    serial_numbers: vec![o.info.oin.clone()],
                },
                &[],
                devkit::time_ymd(2020, 1, 1),
                devkit::time_ymd(2021, 1, 1),
            )
            .unwrap();
        let token = hub.token("school", &hub.claims("school"));
        let e = who(&hub, cert, Some(token))
            .await
            .expect_err("expired certificate must be refused");
        assert!(
            matches!(e.code(), Code::Unavailable | Code::Unknown),
            "{e:?}"
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn certificate_without_oin_or_with_two_is_unauthenticated() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let token = hub.token("school", &hub.claims("school"));
        let none = hub
            .ca
            .issue(
                &Subject {
                    common_name: "no oin".into(),
                    serial_numbers: vec![],
                },
                &[],
            )
            .unwrap();
        expect_status(
            who(&hub, none, Some(token.clone())).await,
            Code::Unauthenticated,
            "no serialNumber",
        );
        let oin = hub.org("school").info.oin.clone();
        let two = common::cert_with_two_oins(&hub.ca, &oin);
        expect_status(
            who(&hub, two, Some(token.clone())).await,
            Code::Unauthenticated,
            "2 serialNumber",
        );
        let short = hub
            .ca
            .issue(
                &Subject {
                    common_name: "short".into(),
                    serial_numbers: vec!["12345".into()],
                },
                &[],
            )
            .unwrap();
        expect_status(
            who(&hub, short, Some(token)).await,
            Code::Unauthenticated,
            "20 digits",
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn unknown_oin_is_permission_denied() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let cert = hub
            .ca
            .issue(
                &Subject {
                    common_name: "stranger".into(),
                    serial_numbers: vec!["00000001999999999999".into()],
                },
                &[],
            )
            .unwrap();
        let token = hub.token("school", &hub.claims("school"));
        expect_status(
            who(&hub, cert, Some(token)).await,
            Code::PermissionDenied,
            "not registered",
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn suspended_organisation_is_refused_at_once() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut c = hub.client("politie").await;
        c.who_am_i().await.unwrap();
        let oin = hub.org("politie").info.oin.parse().unwrap();
        hub.store
            .set_status(&oin, OrgStatus::Suspended)
            .await
            .unwrap();
        hub.directory.reload().await.unwrap();
        // Same connection, same valid token: refused now.
        expect_status(c.who_am_i().await, Code::PermissionDenied, "suspended");
        // And a new connection too.
        let mut c2 = hub.client("politie").await;
        expect_status(c2.who_am_i().await, Code::PermissionDenied, "suspended");
        // Other organisations are unaffected; the suspended one is no longer listed.
        let mut w = hub.client("wijkteam").await;
        let list = w.list_organizations(Default::default()).await.unwrap();
        assert!(
            list.organizations
                .iter()
                .all(|o| o.sector_name != "politie")
        );
        hub.store.set_status(&oin, OrgStatus::Active).await.unwrap();
        hub.directory.reload().await.unwrap();
        c.who_am_i().await.unwrap();
        hub.stop().await;
    }
}

#[tokio::test]
async fn suspension_by_another_process_is_seen_by_polling() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut c = hub.client("huisarts").await;
        c.who_am_i().await.unwrap();
        // Another process (the `org suspend` CLI, another instance) changes the store only.
        let oin = hub.org("huisarts").info.oin.parse().unwrap();
        hub.store
            .set_status(&oin, OrgStatus::Suspended)
            .await
            .unwrap();
        // The hub polls every 200 ms in tests; wait for the outcome, not for a fixed time.
        let mut refused = false;
        for _ in 0..100 {
            if let Err(e) = c.who_am_i().await {
                assert_eq!(e.code(), Code::PermissionDenied);
                refused = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            refused,
            "suspension was not picked up by the directory poller"
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn token_failures_are_unauthenticated_with_actionable_messages() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let school = hub.org("school").clone();
        let cert = (school.cert_pem.clone(), school.key_pem.clone());

        // Missing token.
        expect_status(
            who(&hub, cert.clone(), None).await,
            Code::Unauthenticated,
            "no bearer token",
        );

        // Expired.
        let mut c = hub.claims("school");
        c["exp"] = (now() - 3600).into();
        expect_status(
            who(&hub, cert.clone(), Some(hub.token("school", &c))).await,
            Code::Unauthenticated,
            "expired",
        );

        // Signed by another organisation's key, claiming this organisation's key id.
        let politie = hub.org("politie");
        let forged = devkit::mint_token(
            &politie.token_pkcs8,
            &school.info.token_key_id,
            &hub.claims("school"),
        )
        .unwrap();
        expect_status(
            who(&hub, cert.clone(), Some(forged)).await,
            Code::Unauthenticated,
            "does not verify",
        );

        // Another organisation's token (its key id is not registered for this organisation).
        let theirs = hub.token("politie", &hub.claims("politie"));
        expect_status(
            who(&hub, cert.clone(), Some(theirs)).await,
            Code::Unauthenticated,
            "no current token key",
        );

        // Another audience.
        let mut c = hub.claims("school");
        c["aud"] = "some-other-service".into();
        expect_status(
            who(&hub, cert.clone(), Some(hub.token("school", &c))).await,
            Code::Unauthenticated,
            "audience",
        );

        // Missing aud (an expected audience alone must not make it optional).
        let mut c = hub.claims("school");
        c.as_object_mut().unwrap().remove("aud");
        expect_status(
            who(&hub, cert.clone(), Some(hub.token("school", &c))).await,
            Code::Unauthenticated,
            "`aud`",
        );

        // Missing sub, iss, exp.
        for claim in ["sub", "iss", "exp"] {
            let mut c = hub.claims("school");
            c.as_object_mut().unwrap().remove(claim);
            expect_status(
                who(&hub, cert.clone(), Some(hub.token("school", &c))).await,
                Code::Unauthenticated,
                &format!("`{claim}`"),
            );
        }

        // Wrong issuer.
        let mut c = hub.claims("school");
        c["iss"] = "https://idp.elsewhere.example".into();
        expect_status(
            who(&hub, cert.clone(), Some(hub.token("school", &c))).await,
            Code::Unauthenticated,
            "issuer",
        );

        // Wrong algorithm: HS256 with the key id of a registered key.
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(school.info.token_key_id.clone());
        let hs = jsonwebtoken::encode(
            &header,
            &hub.claims("school"),
            &jsonwebtoken::EncodingKey::from_secret(b"guessable"),
        )
        .unwrap();
        expect_status(
            who(&hub, cert.clone(), Some(hs)).await,
            Code::Unauthenticated,
            "EdDSA",
        );

        // Token for another organisation than the certificate's, signed with this org's key.
        let mut c = hub.claims("school");
        c["org"] = politie.info.oin.clone().into();
        expect_status(
            who(&hub, cert.clone(), Some(hub.token("school", &c))).await,
            Code::Unauthenticated,
            "client certificate is of organisation",
        );

        // Garbage.
        expect_status(
            who(&hub, cert.clone(), Some("not-a-jwt".into())).await,
            Code::Unauthenticated,
            "well-formed",
        );

        // No secret in any message: the token itself is never echoed.
        let t = hub.token("school", &{
            let mut c = hub.claims("school");
            c["aud"] = "x".into();
            c
        });
        match who(&hub, cert.clone(), Some(t.clone())).await {
            Err(ClientError::Status(s)) => assert!(!s.message().contains(&t[..20])),
            other => panic!("{other:?}"),
        }
        hub.stop().await;
    }
}

#[tokio::test]
async fn retired_token_key_stops_verifying_at_once() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut c = hub.client("wijkteam").await;
        c.who_am_i().await.unwrap();
        let o = hub.org("wijkteam");
        hub.store
            .retire_key(
                &o.info.oin.parse().unwrap(),
                signaalhub_server::domain::directory::KeyUsage::Token,
                &o.info.token_key_id,
            )
            .await
            .unwrap();
        hub.directory.reload().await.unwrap();
        // The verified-token cache must not keep a retired key's token alive.
        expect_status(
            c.who_am_i().await,
            Code::Unauthenticated,
            "no current token key",
        );
        hub.stop().await;
    }
}
