//! One conformance suite for every store backend: the same calls must give the same answers on
//! SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use signaalhub_server::domain::directory::{KeyUsage, OrgFilter, OrgKey, OrgStatus, Organization};
use signaalhub_server::ids::Oin;
use signaalhub_server::store::testing::{backends, fresh};
use signaalhub_server::store::{Store, StoreError};

fn org(n: u32, sector: &str, region: &str, expertise: &[&str]) -> Organization {
    Organization {
        oin: format!("{:020}", 1_000 + n).parse().unwrap(),
        name: format!("Org {n} {sector}"),
        sector: sector.parse().unwrap(),
        region: region.into(),
        expertise: expertise.iter().map(|s| (*s).to_string()).collect(),
        contact_point: format!("contact {n}"),
        status: OrgStatus::Active,
        token_issuer: format!("https://idp{n}.example"),
    }
}

fn key(oin: &Oin, usage: KeyUsage, id: &str, b: u8) -> OrgKey {
    OrgKey {
        oin: oin.clone(),
        usage,
        key_id: id.into(),
        public_key: vec![b; 32],
        created_at: 0,
        retired_at: None,
    }
}

async fn each_backend<F, Fut>(f: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for b in backends() {
        let db = fresh(b).await.unwrap();
        eprintln!("conformance on {b}");
        f(db.store.clone()).await;
    }
}

#[tokio::test]
async fn organisations_round_trip_and_conflict() {
    each_backend(|s| async move {
        let o = org(1, "school", "utrecht", &["onderwijs", "zorg"]);
        let g0 = s.directory_generation().await.unwrap();
        s.add_organization(&o).await.unwrap();
        assert!(s.directory_generation().await.unwrap() > g0);
        assert_eq!(s.get_organization(&o.oin).await.unwrap(), Some(o.clone()));
        assert!(matches!(
            s.add_organization(&o).await,
            Err(StoreError::Conflict(_))
        ));
        let unknown: Oin = "00000000000000009999".parse().unwrap();
        assert_eq!(s.get_organization(&unknown).await.unwrap(), None);
        assert!(matches!(
            s.set_status(&unknown, OrgStatus::Suspended).await,
            Err(StoreError::NotFound(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn filters_status_and_paging_agree() {
    each_backend(|s| async move {
        s.add_organization(&org(1, "school", "utrecht", &["onderwijs"]))
            .await
            .unwrap();
        s.add_organization(&org(2, "wijkteam", "utrecht", &["schuldhulp", "opvoeding"]))
            .await
            .unwrap();
        s.add_organization(&org(3, "wijkteam", "arnhem", &["schuldhulp"]))
            .await
            .unwrap();
        s.add_organization(&org(4, "veilig_thuis", "arnhem", &[]))
            .await
            .unwrap();
        let all = |f: OrgFilter| {
            let s = s.clone();
            async move {
                s.list_organizations(&OrgFilter { limit: 100, ..f })
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|o| o.name)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(all(OrgFilter::default()).await.len(), 4);
        assert_eq!(
            all(OrgFilter {
                sector: Some("wijkteam".parse().unwrap()),
                ..Default::default()
            })
            .await,
            vec!["Org 2 wijkteam", "Org 3 wijkteam"]
        );
        assert_eq!(
            all(OrgFilter {
                region: Some("arnhem".into()),
                ..Default::default()
            })
            .await,
            vec!["Org 3 wijkteam", "Org 4 veilig_thuis"]
        );
        assert_eq!(
            all(OrgFilter {
                expertise: Some("schuldhulp".into()),
                region: Some("utrecht".into()),
                ..Default::default()
            })
            .await,
            vec!["Org 2 wijkteam"]
        );
        assert_eq!(
            all(OrgFilter {
                query: Some("opvoe".into()),
                ..Default::default()
            })
            .await,
            vec!["Org 2 wijkteam"]
        );
        // LIKE wildcards in the query are taken literally (dropped), not as patterns.
        assert_eq!(
            all(OrgFilter {
                query: Some("%".into()),
                ..Default::default()
            })
            .await
            .len(),
            4
        );
        // Expertise comes back sorted and complete.
        let o2 = s
            .get_organization(&org(2, "wijkteam", "", &[]).oin)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(o2.expertise, vec!["opvoeding", "schuldhulp"]);
        // Suspended ones are hidden unless asked for.
        s.set_status(&org(4, "veilig_thuis", "", &[]).oin, OrgStatus::Suspended)
            .await
            .unwrap();
        assert_eq!(all(OrgFilter::default()).await.len(), 3);
        assert_eq!(
            all(OrgFilter {
                include_suspended: true,
                ..Default::default()
            })
            .await
            .len(),
            4
        );
        // Paging by OIN.
        let p1 = s
            .list_organizations(&OrgFilter {
                limit: 2,
                ..Default::default()
            })
            .await
            .unwrap();
        let p2 = s
            .list_organizations(&OrgFilter {
                limit: 2,
                after: Some(p1[1].oin.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(p1.len() + p2.len(), 3);
        assert!(p2[0].oin > p1[1].oin);
        // Profile update replaces expertise.
        let oin = org(1, "school", "", &[]).oin;
        s.update_profile(&oin, "amersfoort", &["nieuw".to_string()], "balie")
            .await
            .unwrap();
        let o1 = s.get_organization(&oin).await.unwrap().unwrap();
        assert_eq!(
            (
                o1.region.as_str(),
                o1.expertise.clone(),
                o1.contact_point.as_str()
            ),
            ("amersfoort", vec!["nieuw".to_string()], "balie")
        );
    })
    .await;
}

#[tokio::test]
async fn keys_rotate_and_retire() {
    each_backend(|s| async move {
        let o = org(7, "wijkteam", "utrecht", &[]);
        s.add_organization(&o).await.unwrap();
        s.add_key(&key(&o.oin, KeyUsage::Encryption, "enc-1", 1))
            .await
            .unwrap();
        s.add_key(&key(&o.oin, KeyUsage::Encryption, "enc-2", 2))
            .await
            .unwrap();
        s.add_key(&key(&o.oin, KeyUsage::Token, "tok-1", 3))
            .await
            .unwrap();
        s.add_key(&key(&o.oin, KeyUsage::Token, "tok-2", 4))
            .await
            .unwrap();
        assert!(matches!(
            s.add_key(&key(&o.oin, KeyUsage::Token, "tok-2", 4)).await,
            Err(StoreError::Conflict(_))
        ));
        let keys = s.list_keys(Some(&o.oin)).await.unwrap();
        let state = |id: &str| {
            keys.iter()
                .find(|k| k.key_id == id)
                .map(|k| k.retired_at.is_some())
                .unwrap()
        };
        // A new encryption key retires the old one; token keys overlap during rotation.
        assert!(state("enc-1"));
        assert!(!state("enc-2"));
        assert!(!state("tok-1") && !state("tok-2"));
        assert_eq!(
            keys.iter()
                .find(|k| k.key_id == "enc-2")
                .unwrap()
                .public_key,
            vec![2u8; 32]
        );
        s.retire_key(&o.oin, KeyUsage::Token, "tok-1")
            .await
            .unwrap();
        assert!(matches!(
            s.retire_key(&o.oin, KeyUsage::Token, "tok-1").await,
            Err(StoreError::NotFound(_))
        ));
        let keys = s.list_keys(None).await.unwrap();
        assert!(
            keys.iter()
                .find(|k| k.key_id == "tok-1")
                .unwrap()
                .retired_at
                .is_some()
        );
    })
    .await;
}

/// The two backends' migrations are written separately (their SQL differs); they must still
/// make the same tables, the same columns and the same named indexes.
#[tokio::test]
async fn sqlite_and_postgresql_schemas_stay_in_step() {
    let backends = backends();
    if backends.len() < 2 {
        eprintln!(
            "NOTE: schema comparison skipped: set SIGNAALHUB_TEST_POSTGRES_URL to compare SQLite with PostgreSQL"
        );
    }
    let mut schemas = Vec::new();
    for b in backends {
        let db = fresh(b).await.unwrap();
        let schema = db.store.schema().await.unwrap();
        assert!(
            schema.tables.contains_key("log_entries") && schema.tables.contains_key("signals"),
            "{b}: {schema:?}"
        );
        assert!(!schema.indexes.is_empty(), "{b}: no indexes read");
        schemas.push((b, schema));
    }
    if let [(a, sa), (b, sb)] = schemas.as_slice() {
        let only = |x: &signaalhub_server::store::Schema, y: &signaalhub_server::store::Schema| {
            x.tables
                .keys()
                .filter(|t| !y.tables.contains_key(*t))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(only(sa, sb), Vec::<String>::new(), "tables only in {a}");
        assert_eq!(only(sb, sa), Vec::<String>::new(), "tables only in {b}");
        for (t, cols) in &sa.tables {
            assert_eq!(Some(cols), sb.tables.get(t), "columns of {t}: {a} vs {b}");
        }
        assert_eq!(sa.indexes, sb.indexes, "named indexes: {a} vs {b}");
    }
}

/// `quickstart` on a PostgreSQL URL whose database does not exist yet creates it (once).
#[tokio::test]
async fn a_missing_postgresql_database_is_created_once() {
    let Ok(base) = std::env::var(signaalhub_server::store::testing::POSTGRES_URL_ENV) else {
        eprintln!("NOTE: PostgreSQL test skipped: SIGNAALHUB_TEST_POSTGRES_URL is not set");
        return;
    };
    let mut b = [0u8; 6];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).unwrap();
    let name = format!("sh_test_create_{}", hex::encode(b));
    let url = match base.rfind('/') {
        Some(i) => format!("{}/{name}", &base[..i]),
        None => panic!("{base} has no database part"),
    };
    assert!(
        Store::create_postgres_database_if_missing(&url)
            .await
            .unwrap()
    );
    assert!(
        !Store::create_postgres_database_if_missing(&url)
            .await
            .unwrap()
    );
    let store = Store::open(&url).await.unwrap();
    assert!(store.schema().await.unwrap().tables.contains_key("signals"));
    store.close().await;
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
}
