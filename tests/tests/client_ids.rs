//! Identifiers a client chooses may not hide a BSN: a run of 9 or more digits in a signal id is
//! refused at the edge with a field violation, before anything is stored or logged; and the ids
//! the hub makes itself hold no digits at all.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, violations};
use signaalhub_server::store::testing::backends;

const CHILD: &str = "111222333";
const DIGITS: &str = "123456789";

#[tokio::test]
async fn a_signal_id_with_nine_digits_in_a_row_is_refused_and_nothing_is_kept() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let basis = hub.both_parents_consent(CHILD).await;
        let mut school = hub.client("school").await;
        let log = hub.store.log_size().await.unwrap();
        let id = format!("sig-{DIGITS}");
        let req = hub
            .signal(
                "school",
                &["wijkteam"],
                &id,
                b"payload",
                "vroegtijdige_ondersteuning",
                &["zorgen_thuissituatie"],
                CHILD,
                basis.clone(),
            )
            .await;
        let e = school.send_signal(req).await.unwrap_err();
        assert!(!e.to_string().contains(DIGITS), "{e}");
        let v = violations(e);
        assert_eq!(
            v,
            vec![(
                "signal_id".to_string(),
                "must not contain 9 or more digits in a row (it could be a BSN)".to_string()
            )],
            "{b}"
        );
        assert_eq!(hub.store.log_size().await.unwrap(), log, "{b}: logged");
        let text = common::database_text(&hub).await;
        assert!(!text.contains(DIGITS), "{b}: the id reached the database");

        // Eight digits in a row are an ordinary id.
        let req = hub
            .signal(
                "school",
                &["wijkteam"],
                "sig-12345678",
                b"payload",
                "vroegtijdige_ondersteuning",
                &["zorgen_thuissituatie"],
                CHILD,
                basis,
            )
            .await;
        school.send_signal(req).await.unwrap();
        hub.stop().await;
    }
}

#[tokio::test]
async fn ids_the_hub_makes_hold_no_digits() {
    let hub = TestHub::start("sqlite").await;
    let basis = hub.both_parents_consent(CHILD).await;
    let ids: Vec<String> = basis.consent_ids.clone();
    assert!(!ids.is_empty());
    for id in ids {
        assert!(id.starts_with("c_"), "{id}");
        assert!(!id[2..].bytes().any(|b| b.is_ascii_digit()), "{id}");
    }
    hub.stop().await;
}
