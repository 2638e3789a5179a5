//! DirectoryService, health and reflection through the running hub, against every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::TestHub;
use signaalhub_client::ClientError;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_server::store::testing::backends;
use tonic::Code;
use tonic_types::StatusExt;

#[tokio::test]
async fn list_organizations_filters_and_pages() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut c = hub.client("wijkteam").await;
        let all = c.list_organizations(Default::default()).await.unwrap();
        assert_eq!(all.organizations.len(), 7);
        assert!(all.next_page_token.is_empty());
        let sectors: Vec<_> = all
            .organizations
            .iter()
            .map(|o| o.sector_name.as_str())
            .collect();
        for s in [
            "school",
            "politie",
            "huisarts",
            "woningcorporatie",
            "wijkteam",
            "veilig_thuis",
            "jeugdbescherming",
        ] {
            assert!(sectors.contains(&s), "{s} missing from {sectors:?}");
        }

        let vt = c
            .list_organizations(pb::ListOrganizationsRequest {
                sector: pb::Sector::VeiligThuis as i32,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(vt.organizations.len(), 1);
        assert_eq!(vt.organizations[0].sector, pb::Sector::VeiligThuis as i32);

        let debt = c
            .list_organizations(pb::ListOrganizationsRequest {
                expertise: "Schuldhulp".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(debt.organizations.len(), 1);
        assert_eq!(debt.organizations[0].sector_name, "wijkteam");

        let region = c
            .list_organizations(pb::ListOrganizationsRequest {
                region: "elders".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(region.organizations.is_empty());

        let q = c
            .list_organizations(pb::ListOrganizationsRequest {
                query: "regenboog".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(q.organizations.len(), 1);
        assert_eq!(q.organizations[0].sector_name, "school");

        // Paging: three pages of 3, 3, 1, same set as a single listing.
        let mut seen = Vec::new();
        let mut token = String::new();
        let mut pages = 0;
        loop {
            let p = c
                .list_organizations(pb::ListOrganizationsRequest {
                    page_size: 3,
                    page_token: token.clone(),
                    ..Default::default()
                })
                .await
                .unwrap();
            pages += 1;
            seen.extend(p.organizations.into_iter().map(|o| o.oin));
            if p.next_page_token.is_empty() {
                break;
            }
            token = p.next_page_token;
        }
        assert_eq!(pages, 3);
        let expected: Vec<_> = all.organizations.iter().map(|o| o.oin.clone()).collect();
        assert_eq!(seen, expected);
        hub.stop().await;
    }
}

#[tokio::test]
async fn bad_list_arguments_get_field_details() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut c = hub.client("wijkteam").await;
        let r = c
            .list_organizations(pb::ListOrganizationsRequest {
                sector: 99,
                page_size: 100_000,
                page_token: "garbage".into(),
                ..Default::default()
            })
            .await;
        let Err(ClientError::Status(s)) = r else {
            panic!("{r:?}")
        };
        assert_eq!(s.code(), Code::InvalidArgument);
        let details = s.get_error_details();
        let fields: Vec<_> = details
            .bad_request()
            .expect("bad request details")
            .field_violations
            .iter()
            .map(|v| v.field.clone())
            .collect();
        assert_eq!(fields, vec!["sector", "page_size", "page_token"]);
        hub.stop().await;
    }
}

#[tokio::test]
async fn get_organization_returns_published_keys() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut c = hub.client("school").await;
        let oin = hub.org("wijkteam").info.oin.clone();
        let r = c.get_organization(&oin).await.unwrap();
        assert_eq!(r.organization.unwrap().oin, oin);
        assert_eq!(r.encryption_keys.len(), 1);
        assert_eq!(r.encryption_keys[0].algorithm, "X25519");
        assert_eq!(r.encryption_keys[0].public_key.len(), 32);
        assert_eq!(r.encryption_keys[0].key_id, "wijkteam-enc-1");
        assert_eq!(r.signing_keys.len(), 1);
        assert_eq!(r.signing_keys[0].algorithm, "Ed25519");

        // Unknown and malformed OINs.
        let e = c
            .get_organization("00000001999999999999")
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::NotFound);
        let Err(ClientError::Status(s)) = c.get_organization("12x").await else {
            panic!()
        };
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(
            s.get_error_details()
                .bad_request()
                .unwrap()
                .field_violations[0]
                .field,
            "oin"
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn encryption_key_rotation_keeps_old_key_listed() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let o = hub.org("wijkteam");
        let (_, new_pub) = signaalhub_server::devkit::x25519_keypair().unwrap();
        hub.store
            .add_key(&signaalhub_server::domain::directory::OrgKey {
                oin: o.info.oin.parse().unwrap(),
                usage: signaalhub_server::domain::directory::KeyUsage::Encryption,
                key_id: "wijkteam-enc-2".into(),
                public_key: new_pub.to_vec(),
                created_at: 0,
                retired_at: None,
            })
            .await
            .unwrap();
        let mut c = hub.client("school").await;
        let r = c.get_organization(&o.info.oin).await.unwrap();
        let ids: Vec<_> = r
            .encryption_keys
            .iter()
            .map(|k| (k.key_id.as_str(), k.retired_at.is_some()))
            .collect();
        assert!(ids.contains(&("wijkteam-enc-2", false)), "{ids:?}");
        assert!(ids.contains(&("wijkteam-enc-1", true)), "{ids:?}");
        hub.stop().await;
    }
}

#[tokio::test]
async fn health_check_through_standard_protocol() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let o = hub.org("veilig_thuis");
        // Health needs the organisation certificate but no professional token.
        let mut c = signaalhub_client::HubClient::connect(
            hub.options(Some((o.cert_pem.clone(), o.key_pem.clone())), None),
        )
        .await
        .unwrap();
        assert_eq!(
            c.health("").await.unwrap(),
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
        assert_eq!(
            c.health("signaalhub.v1.DirectoryService").await.unwrap(),
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
        // Without a token, the hub's own services are refused.
        let e = c.who_am_i().await.unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated);
        hub.stop().await;
    }
}

#[tokio::test]
async fn reflection_lists_the_services() {
    use tokio_stream::StreamExt;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let hub = TestHub::start("sqlite").await;
    let c = hub.client("school").await;
    let mut r = ServerReflectionClient::new(c.channel());
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = r
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = first.message_response else {
        panic!("{first:?}")
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&"signaalhub.v1.DirectoryService"),
        "{names:?}"
    );
    assert!(names.contains(&"grpc.health.v1.Health"), "{names:?}");
    hub.stop().await;
}

#[tokio::test]
async fn graceful_stop_drains() {
    let hub = TestHub::start("sqlite").await;
    let mut c = hub.client("school").await;
    c.who_am_i().await.unwrap();
    // stop() waits for serve() to return Ok after the drain.
    hub.stop().await;
}

/// `quickstart` on a fresh database of either backend: the dev kit's organisations and the
/// public halves of the kit's own keys are registered once; a second start adds nothing and
/// keeps what the organisations changed there.
#[tokio::test]
async fn the_dev_kit_is_registered_once_in_a_fresh_store_of_either_backend() {
    use signaalhub_server::devkit;
    use signaalhub_server::domain::directory::OrgFilter;
    let tmp = tempfile::tempdir().unwrap();
    let kit = tmp.path().join("kit");
    devkit::init(&kit, true).await.unwrap();
    let config = signaalhub_server::config::Config::load(&kit.join("hub.toml"), |_| None).unwrap();
    let kit_store = signaalhub_server::store::Store::open(&config.database_target())
        .await
        .unwrap();
    let keys = |k: Vec<signaalhub_server::domain::directory::OrgKey>| {
        let mut v: Vec<_> = k
            .into_iter()
            .map(|k| {
                (
                    k.oin.to_string(),
                    format!("{:?}", k.usage),
                    k.key_id,
                    k.public_key,
                )
            })
            .collect();
        v.sort();
        v
    };
    let kit_keys = keys(kit_store.list_keys(None).await.unwrap());
    assert_eq!(kit_keys.len(), 3 * devkit::sample_orgs().len());
    for b in backends() {
        let db = signaalhub_server::store::testing::fresh(b).await.unwrap();
        let added = devkit::seed_directory(&kit, &db.store).await.unwrap();
        assert_eq!(added, devkit::sample_orgs().len(), "{b}");
        assert_eq!(
            keys(db.store.list_keys(None).await.unwrap()),
            kit_keys,
            "{b}"
        );
        let orgs = db
            .store
            .list_organizations(&OrgFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(orgs.len(), devkit::sample_orgs().len(), "{b}");
        // A second start adds nothing (and does not overwrite: the organisations own their
        // entries once registered).
        assert_eq!(
            devkit::seed_directory(&kit, &db.store).await.unwrap(),
            0,
            "{b}"
        );
        assert_eq!(
            keys(db.store.list_keys(None).await.unwrap()),
            kit_keys,
            "{b}"
        );
        // A kit with a damaged file is refused with the file named, and nothing is added.
        let fresh = signaalhub_server::store::testing::fresh(b).await.unwrap();
        let bad = tmp.path().join(format!("bad-{b}"));
        devkit::init(&bad, true).await.unwrap();
        let last = devkit::sample_orgs().pop().unwrap().sector;
        let damaged = bad.join("orgs").join(&last).join("signing-key.pem");
        std::fs::write(&damaged, "not a key").unwrap();
        let err = devkit::seed_directory(&bad, &fresh.store)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("signing-key.pem"), "{b}: {err}");
        let none = fresh
            .store
            .list_organizations(&OrgFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(none.is_empty(), "{b}: {none:?}");
    }
    kit_store.close().await;
}
