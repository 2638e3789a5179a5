//! One conformance suite for every store backend: the same calls must give the same answers on
//! SQLite and PostgreSQL. This file: opening and closing, the directory, the schema, and the
//! rule that every public store function is exercised by the suite
//! (`store_conformance_*.rs` hold the rest).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod conformance;

use conformance::*;
use signaalhub_server::domain::directory::{KeyUsage, OrgFilter, OrgKey, OrgStatus, Organization};
use signaalhub_server::ids::Oin;
use signaalhub_server::store::testing::{backends, fresh};
use signaalhub_server::store::{Store, StoreError};
use std::path::Path;

conformance!(
    organisations_round_trip_and_conflict,
    filters_status_and_paging_agree,
    a_directory_query_matches_alike,
    keys_rotate_and_retire,
);
conformance!(database: open_ping_and_close);

fn org(n: u32, sector: &str, region: &str, expertise: &[&str]) -> Organization {
    Organization {
        oin: format!("{:020}", 1_000 + n).parse().unwrap(),
        name: format!("Org {n} {sector}"),
        sector: sector.parse().unwrap(),
        region: region.into(),
        expertise: expertise.iter().map(|s| (*s).to_string()).collect(),
        contact_point: format!("contact {n}"),
        privacy_contact: format!("fg{n}@example.org, 030 123 45 67"),
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

/// Opening the database a configuration names (and each backend's own constructor) finds
/// what was stored; `backend`, `ping` and `close` behave alike.
async fn open_ping_and_close(s: Store, database: String) {
    let backend = s.backend();
    assert!(backend == "sqlite" || backend == "postgres");
    s.ping().await.unwrap();
    let o = org(1, "school", "utrecht", &[]);
    s.add_organization(&o).await.unwrap();
    for again in [
        Store::open(&database).await.unwrap(),
        if backend == "sqlite" {
            Store::open_sqlite(Path::new(&database)).await.unwrap()
        } else {
            Store::open_postgres(&database).await.unwrap()
        },
    ] {
        assert_eq!(again.backend(), backend);
        again.ping().await.unwrap();
        assert_eq!(
            again.get_organization(&o.oin).await.unwrap(),
            Some(o.clone())
        );
        again.close().await;
        // A closed store answers with an error, never a panic or a hang.
        assert!(matches!(
            again.ping().await,
            Err(StoreError::Unavailable(_))
        ));
    }
    s.ping().await.unwrap();
}

async fn organisations_round_trip_and_conflict(s: Store) {
    let o = org(1, "school", "utrecht", &["onderwijs", "zorg"]);
    let g0 = s.directory_generation().await.unwrap();
    s.add_organization(&o).await.unwrap();
    let g1 = s.directory_generation().await.unwrap();
    assert!(g1 > g0);
    assert_eq!(s.get_organization(&o.oin).await.unwrap(), Some(o.clone()));
    assert_eq!(
        conflict(s.add_organization(&o).await),
        taken("organisation", o.oin.as_str())
    );
    // A refused write does not move the generation.
    assert_eq!(s.directory_generation().await.unwrap(), g1);
    let unknown: Oin = "00000000000000009999".parse().unwrap();
    assert_eq!(s.get_organization(&unknown).await.unwrap(), None);
    assert_eq!(
        not_found(s.set_status(&unknown, OrgStatus::Suspended).await),
        rec("organisation", &unknown)
    );
    assert_eq!(
        not_found(s.update_profile(&unknown, "r", &[], "c").await),
        rec("organisation", &unknown)
    );
    assert_eq!(
        not_found(s.set_privacy_contact(&unknown, "fg@example.org").await),
        rec("organisation", &unknown)
    );
    assert_eq!(s.directory_generation().await.unwrap(), g1);
    // The privacy officer's contact is kept as written (also with ë and a long phone number),
    // replaced, and cleared; each write moves the generation.
    let contact = "Functionaris gegevensbescherming, Kerkstraat 1, Zoë-Hof; 0301234567";
    s.set_privacy_contact(&o.oin, contact).await.unwrap();
    let g2 = s.directory_generation().await.unwrap();
    assert!(g2 > g1);
    let stored = s.get_organization(&o.oin).await.unwrap().unwrap();
    assert_eq!(stored.privacy_contact, contact);
    assert_eq!(stored.contact_point, o.contact_point);
    s.set_privacy_contact(&o.oin, "").await.unwrap();
    assert!(s.directory_generation().await.unwrap() > g2);
    let g1 = s.directory_generation().await.unwrap();
    assert_eq!(
        s.get_organization(&o.oin)
            .await
            .unwrap()
            .unwrap()
            .privacy_contact,
        ""
    );
    s.set_status(&o.oin, OrgStatus::Suspended).await.unwrap();
    assert!(s.directory_generation().await.unwrap() > g1);
    assert_eq!(
        s.get_organization(&o.oin).await.unwrap().unwrap().status,
        OrgStatus::Suspended
    );
}

async fn filters_status_and_paging_agree(s: Store) {
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
    assert_eq!(
        all(OrgFilter::default()).await,
        vec![
            "Org 1 school",
            "Org 2 wijkteam",
            "Org 3 wijkteam",
            "Org 4 veilig_thuis"
        ]
    );
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
    assert_eq!(
        all(OrgFilter {
            query: Some("veilig".into()),
            ..Default::default()
        })
        .await,
        vec!["Org 4 veilig_thuis"]
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
    assert_eq!(
        all(OrgFilter {
            query: Some("org_1".into()),
            ..Default::default()
        })
        .await,
        Vec::<String>::new()
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
    // Paging by OIN; a limit of 0 still answers one.
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
    assert_eq!(
        p1.iter()
            .chain(&p2)
            .map(|o| o.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Org 1 school", "Org 2 wijkteam", "Org 3 wijkteam"]
    );
    assert_eq!(
        s.list_organizations(&OrgFilter {
            limit: 0,
            ..Default::default()
        })
        .await
        .unwrap()
        .len(),
        1
    );
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
}

/// A query matches names and tags ignoring case, for every letter, and takes every character
/// other than `%` and `_` literally — on both databases (SQLite's `lower()` folded ASCII only,
/// PostgreSQL's `LIKE` took `\` as an escape).
async fn a_directory_query_matches_alike(s: Store) {
    let mut a = org(1, "school", "utrecht", &[]);
    a.name = "Stichting Éénheid".into();
    let mut b = org(2, "school", "utrecht", &["ÖZ-team"]);
    b.name = "a\\b school".into();
    let mut c = org(3, "wijkteam", "utrecht", &["jeugd"]);
    c.name = "ab school".into();
    let mut d = org(4, "wijkteam", "utrecht", &[]);
    d.name = "Ab School Noord".into();
    for o in [&a, &b, &c, &d] {
        s.add_organization(o).await.unwrap();
    }
    let query = |q: &'static str, limit: u32, after: Option<Oin>| {
        let s = s.clone();
        async move {
            s.list_organizations(&OrgFilter {
                query: Some(q.into()),
                limit,
                after,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.name)
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(query("éénheid", 10, None).await, vec!["Stichting Éénheid"]);
    assert_eq!(query("ÉÉNHEID", 10, None).await, vec!["Stichting Éénheid"]);
    assert_eq!(query("a\\b", 10, None).await, vec!["a\\b school"]);
    assert_eq!(
        query("ab school", 10, None).await,
        vec!["ab school", "Ab School Noord"]
    );
    assert_eq!(query("öz", 10, None).await, vec!["a\\b school"]);
    assert_eq!(query("JEUGD", 10, None).await, vec!["ab school"]);
    assert_eq!(
        query("a_b", 10, None).await,
        vec!["ab school", "Ab School Noord"]
    );
    // Paged like any listing: at most `limit`, after the last OIN seen.
    assert_eq!(
        query("school", 2, None).await,
        vec!["a\\b school", "ab school"]
    );
    assert_eq!(
        query("school", 2, Some(c.oin.clone())).await,
        vec!["Ab School Noord"]
    );
    // Combined with the other filters.
    let wijkteam = s
        .list_organizations(&OrgFilter {
            query: Some("school".into()),
            sector: Some("wijkteam".parse().unwrap()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(wijkteam.len(), 2);
}

async fn keys_rotate_and_retire(s: Store) {
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
    assert_eq!(
        conflict(s.add_key(&key(&o.oin, KeyUsage::Token, "tok-2", 4)).await),
        taken("key", &format!("token tok-2 of {}", o.oin))
    );
    // A token key of no accepted form is refused before anything is written.
    let mut bad = key(&o.oin, KeyUsage::Token, "tok-bad", 5);
    bad.public_key = vec![5; 7];
    assert!(matches!(s.add_key(&bad).await, Err(StoreError::Invalid(_))));
    let keys = s.list_keys(Some(&o.oin)).await.unwrap();
    // Ordered by OIN, usage, newest first.
    let mut ids: Vec<&str> = keys.iter().map(|k| k.key_id.as_str()).collect();
    assert_eq!(ids.len(), 4);
    ids.sort_unstable();
    assert_eq!(ids, vec!["enc-1", "enc-2", "tok-1", "tok-2"]);
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
    assert_eq!(
        not_found(s.retire_key(&o.oin, KeyUsage::Token, "tok-1").await),
        rec("current key", format!("token tok-1 of {}", o.oin))
    );
    let other = org(8, "school", "utrecht", &[]);
    s.add_organization(&other).await.unwrap();
    s.add_key(&key(&other.oin, KeyUsage::Signing, "sig-1", 6))
        .await
        .unwrap();
    let keys = s.list_keys(None).await.unwrap();
    assert_eq!(keys.len(), 5);
    assert!(keys.windows(2).all(|w| w[0].oin <= w[1].oin));
    assert!(
        keys.iter()
            .find(|k| k.key_id == "tok-1")
            .unwrap()
            .retired_at
            .is_some()
    );
    assert_eq!(s.list_keys(Some(&other.oin)).await.unwrap().len(), 1);
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
/// PostgreSQL only: SQLite creates its file on open.
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

/// Columns that hold subject pseudonyms but are not moved by the re-key (nor by a merge), with
/// the reason. Every other column named like a subject must be a re-key target.
const NOT_REKEYED: &[(&str, &str)] = &[
    (
        "subject_forms.form",
        "the index of older forms while a re-key runs; dropped when the floor is raised",
    ),
    (
        "subject_forms.older",
        "the index of older forms while a re-key runs; dropped when the floor is raised",
    ),
];

/// Whether a column's name says it holds subject pseudonyms.
fn names_a_subject(column: &str) -> bool {
    matches!(column, "subject" | "subjects" | "person" | "persons")
        || column.ends_with("_subject")
        || column.ends_with("_subjects")
        || column.contains("pseudonym")
}

/// Every column of the migrated schema that holds subject pseudonyms is moved by the re-key and
/// by a merge of a subject reference (`store::rekey`'s one list), or is listed in `NOT_REKEYED`
/// with a reason: a new table with a `subjects` list cannot be forgotten again (issue 19's
/// melding_feedback, melding_stages and information_requests were).
#[tokio::test]
async fn every_column_holding_subject_pseudonyms_is_a_rekey_target() {
    let targets = signaalhub_server::store::rekey::rekey_columns();
    for b in backends() {
        let db = fresh(b).await.unwrap();
        let schema = db.store.schema().await.unwrap();
        let mut missing = Vec::new();
        for (table, columns) in &schema.tables {
            for c in columns.iter().filter(|c| names_a_subject(c)) {
                let name = format!("{table}.{c}");
                if !targets.contains(&name) && !NOT_REKEYED.iter().any(|(n, _)| *n == name) {
                    missing.push(name);
                }
            }
        }
        assert!(
            missing.is_empty(),
            "{b}: columns holding subject pseudonyms that the re-key does not move: {missing:?} (add them to TARGETS in server/src/store/rekey.rs)"
        );
        // And every target exists.
        for t in &targets {
            let (table, column) = t.split_once('.').unwrap();
            assert!(
                schema
                    .tables
                    .get(table)
                    .is_some_and(|c| c.iter().any(|x| x == column)),
                "{b}: re-key target {t} is not in the schema"
            );
        }
    }
}

// ---- every public store function is in the suite --------------------------------------------

/// Public functions of `Store` that the suite does not call, each with the reason. Keep this
/// short: a function belongs here only when running it on both databases says nothing (a pure
/// helper) or cannot be done from a test.
const EXEMPT: &[(&str, &str)] = &[
    // (none at present: even the constructors and the PostgreSQL-only database creation are
    // called above, and the listener is checked per backend in store_conformance_signals.rs)
];

/// `(file, name)` of every `pub fn` / `pub async fn` inside an `impl Store` block under
/// server/src/store (a plain text scan: such blocks start with `impl Store {` at the start of a
/// line and end at the first `}` there).
fn public_store_functions() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src/store");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut inside = false;
        for line in text.lines() {
            if line.starts_with("impl Store {") {
                inside = true;
                continue;
            }
            if inside && line.starts_with('}') {
                inside = false;
            }
            if !inside {
                continue;
            }
            let t = line.trim_start();
            let Some(rest) = t
                .strip_prefix("pub async fn ")
                .or_else(|| t.strip_prefix("pub fn "))
            else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.push((file.clone(), name));
        }
    }
    out
}

/// The suite's sources without comment lines.
fn suite_sources() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut text = String::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("store_conformance") && name.ends_with(".rs") {
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                if !line.trim_start().starts_with("//") {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    text
}

/// A store function without a conformance test fails here: add a `conformance!` test that calls
/// it (happy path, its typed errors, retries, order and paging), or — for a pure helper only —
/// an entry in `EXEMPT` with the reason.
#[test]
fn every_public_store_function_has_a_conformance_test() {
    let functions = public_store_functions();
    assert!(
        functions.len() > 60 && functions.iter().any(|(_, n)| n == "insert_signal"),
        "the scan of server/src/store found too little: {functions:?}"
    );
    let suite = suite_sources();
    let called = |n: &str| {
        [format!(".{n}("), format!("::{n}("), format!(".{n}::<")]
            .iter()
            .any(|p| suite.contains(p.as_str()))
    };
    let missing: Vec<String> = functions
        .iter()
        .filter(|(_, n)| !called(n) && !EXEMPT.iter().any(|(e, _)| e == n))
        .map(|(f, n)| format!("{f}: Store::{n}"))
        .collect();
    assert!(
        missing.is_empty(),
        "public store functions without a conformance test (tests/tests/store_conformance*.rs):\n  {}",
        missing.join("\n  ")
    );
    for (name, why) in EXEMPT {
        assert!(!why.trim().is_empty(), "exemption {name} gives no reason");
        assert!(
            functions.iter().any(|(_, n)| n == name),
            "exemption {name} names no public store function"
        );
        assert!(
            !called(name),
            "exemption {name} is called by the suite after all"
        );
    }
    eprintln!(
        "{} public store functions, all in the suite",
        functions.len()
    );
}
