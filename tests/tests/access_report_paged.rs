//! Subject access reports and listings for a long history (issue 21 item 2): a subject with
//! 10,000 entries (100,000 in the ignored test) gets a complete report across pages whose proofs
//! all verify against the one checkpoint the first page pinned; no entry is lost or repeated at a
//! page boundary; `ListDisclosures` by subject pages too; the paging fields are validated.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, now, violations};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_server::ids::Bsn;
use signaalhub_server::ledger::{EntryActor, EntryOutcome, Event, PendingEntry};
use signaalhub_server::store::testing::backends;
use std::collections::HashMap;

const CHILD: &str = "111222333";

fn fg(hub: &TestHub) -> String {
    let mut c = hub.claims("school");
    c["roles"] = serde_json::json!(["fg"]);
    c["sub"] = "fg-school".into();
    hub.token("school", &c)
}

/// The child's pseudonyms under the hub's key ring.
fn child(hub: &TestHub) -> Vec<String> {
    let ring = signaalhub_server::load_pseudonym_ring(&hub.config).unwrap();
    let bsn: Bsn = CHILD.parse().unwrap();
    ring.subject(&bsn)
        .all()
        .iter()
        .map(|s| s.as_ref().to_owned())
        .collect()
}

/// `n` entries about the child, straight into the store in chunks, then integrated: the
/// school's signals to the wijkteam (every tenth disclosed, the others recorded).
async fn history(hub: &TestHub, n: u64) {
    let school = hub.org("school").info.oin.clone();
    let wijkteam = hub.org("wijkteam").info.oin.clone();
    // New entries name the current pseudonym (the ring's newest).
    let subject = vec![child(hub).pop().unwrap()];
    let at = now();
    let mut i = 0;
    while i < n {
        let to = n.min(i + 2000);
        let batch: Vec<PendingEntry> = (i..to)
            .map(|k| {
                let actor = EntryActor {
                    oin: &school,
                    pseudonym: "pro-pseudonym",
                    professional: "pro-1",
                    role: "leerkracht",
                };
                let outcome = if k % 10 == 0 {
                    EntryOutcome::Disclosed
                } else {
                    EntryOutcome::Recorded
                };
                PendingEntry::new(actor, Event::SignalSent, outcome, at, "test")
                    .subjects(subject.clone())
                    .recipient(wijkteam.clone())
                    .reference(format!("bulk-{k}"))
            })
            .collect();
        hub.store.append_log(&batch).await.unwrap();
        i = to;
    }
    let ledger = signaalhub_server::load_ledger(&hub.config, hub.store.clone()).unwrap();
    ledger.integrate_all().await.unwrap();
}

/// The indices the store holds about the child in the school's part, below `size`.
async fn expected(hub: &TestHub, size: u64) -> Vec<u64> {
    let school = hub.org("school").info.oin.clone();
    hub.store
        .log_entries_for_subject(&child(hub), Some(&school))
        .await
        .unwrap()
        .into_iter()
        .map(|st| st.idx)
        .filter(|i| *i < size)
        .collect()
}

fn indices(r: &pb::SubjectAccessReportResponse) -> Vec<u64> {
    r.entries
        .iter()
        .map(|e| e.entry.as_ref().unwrap().index)
        .collect()
}

fn trusted(r: &pb::SubjectAccessReportResponse) -> HashMap<String, [u8; 32]> {
    let cp = r.checkpoint.as_ref().unwrap();
    HashMap::from([(
        cp.key_id.clone(),
        cp.public_key.as_slice().try_into().unwrap(),
    )])
}

/// The whole report, assembled and verified against the one checkpoint; every entry about the
/// child below it exactly once, in order; the JSON and the letter over all of them.
async fn complete_report(hub: &TestHub, n: u64, page_size: u32) {
    let mut fg = hub.client_with_token("school", fg(hub)).await;
    let asked = std::time::Instant::now();
    let r = fg
        .access_report(pb::SubjectAccessReportRequest {
            subject_bsn: CHILD.into(),
            page_size,
            ..Default::default()
        })
        .await
        .unwrap();
    let answered = asked.elapsed();
    let size = r.checkpoint.as_ref().unwrap().tree_size;
    let got = indices(&r);
    assert!(got.len() as u64 > n, "{} of {n}", got.len());
    assert_eq!(got, expected(hub, size).await);
    let verifying = std::time::Instant::now();
    assert_eq!(
        signaalhub_client::verify_report(&r, &trusted(&r)).unwrap(),
        got.len()
    );
    // Figures only (no assertion on time): hub and transport, then the client's verification.
    eprintln!(
        "report of {} entries (pages of {page_size}): asked and assembled in {answered:?}, verified in {:?}",
        got.len(),
        verifying.elapsed()
    );
    assert!(r.next_after_index.is_none());
    let json: serde_json::Value = serde_json::from_str(&r.json).unwrap();
    assert_eq!(json["entries"].as_array().unwrap().len(), got.len());
    assert_eq!(json["entries"][0]["index"], got[0]);
    // The letter covers every page: each tenth bulk entry is a disclosure, the rest (and the
    // report's reads) other registrations.
    let disclosed = n.div_ceil(10);
    assert!(
        r.html_letter.contains(&format!(
            "Gegevens over u of uw kind zijn {disclosed} keer gedeeld."
        )),
        "{}",
        &r.html_letter[..4000.min(r.html_letter.len())]
    );
    assert!(r.html_letter.contains(&format!(
        "Er staan ook {} andere regels over u of uw kind in het logboek.",
        got.len() as u64 - disclosed
    )));
    // A changed entry somewhere in the report does not verify.
    let mut forged = r.clone();
    let last = forged.entries.len() - 1;
    let e = forged.entries[last].entry.as_mut().unwrap();
    e.entry.push(0);
    e.leaf_hash.clear();
    assert!(signaalhub_client::verify_report(&forged, &trusted(&r)).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_with_ten_thousand_entries_gets_a_complete_verified_report() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        history(&hub, 10_000).await;
        complete_report(&hub, 10_000, 0).await;
        // Another page size: the boundaries fall elsewhere, and nothing is lost or repeated.
        complete_report(&hub, 10_000, 997).await;

        // The FG's listing by subject pages as well, and the client fetches every page.
        let mut fg_client = hub.client_with_token("school", fg(&hub)).await;
        let listed = fg_client.list_disclosures_for_subject(CHILD).await.unwrap();
        let idx: Vec<u64> = listed.iter().map(|e| e.index).collect();
        assert!(idx.windows(2).all(|w| w[0] < w[1]), "in order, each once");
        assert!(idx.len() > 10_000);
        let size = hub.store.log_integrated().await.unwrap();
        let before: Vec<u64> = idx.iter().copied().filter(|i| *i < size).collect();
        assert_eq!(before, expected(&hub, size).await);
        // One page of the listing: at most page_size, after the index given.
        let page = fg_client
            .list_disclosures(pb::ListDisclosuresRequest {
                scope: Some(pb::list_disclosures_request::Scope::SubjectBsn(
                    CHILD.into(),
                )),
                after_index: Some(idx[4]),
                page_size: 3,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            page.iter().map(|e| e.index).collect::<Vec<_>>(),
            idx[5..8].to_vec()
        );
        hub.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_pages_prove_against_the_first_pages_checkpoint() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        history(&hub, 25).await;
        let mut fg = hub.client_with_token("school", fg(&hub)).await;
        let ask = |after_index: Option<u64>, tree_size: Option<u64>, page_size: u32| {
            pb::SubjectAccessReportRequest {
                subject_bsn: CHILD.into(),
                after_index,
                tree_size,
                page_size,
                ..Default::default()
            }
        };
        let first = fg.access_report_page(ask(None, None, 10)).await.unwrap();
        let cp = first.checkpoint.clone().unwrap();
        assert_eq!(first.entries.len(), 10);
        assert!(first.html_letter.is_empty(), "the letter comes last");
        let mut all = indices(&first);
        let mut after = first.next_after_index;
        assert_eq!(after, all.last().copied());
        let mut pages = 1;
        while let Some(a) = after {
            // Entries logged since (each page is a read) do not move the pinned checkpoint.
            let page = fg
                .access_report_page(ask(Some(a), Some(cp.tree_size), 10))
                .await
                .unwrap();
            assert_eq!(page.checkpoint.as_ref().unwrap().note, cp.note);
            all.extend(indices(&page));
            after = page.next_after_index;
            pages += 1;
            if after.is_none() {
                assert!(!page.html_letter.is_empty());
            } else {
                assert!(page.html_letter.is_empty());
            }
        }
        assert_eq!(
            pages, 3,
            "25 entries and the report's own: pages of 10, 10, 6"
        );
        assert_eq!(all, expected(&hub, cp.tree_size).await);
        // The one-call report is the same set, verified.
        let whole = fg.access_report(ask(None, None, 10)).await.unwrap();
        assert_eq!(
            signaalhub_client::verify_report(&whole, &trusted(&whole)).unwrap(),
            whole.entries.len()
        );
        assert!(indices(&whole).starts_with(&all));

        // The paging fields are checked.
        let field = |e| {
            violations(e)
                .into_iter()
                .map(|(f, _)| f)
                .collect::<Vec<_>>()
        };
        let e = fg
            .access_report_page(ask(None, None, 1001))
            .await
            .unwrap_err();
        assert_eq!(field(e), ["page_size"]);
        let e = fg
            .access_report_page(ask(Some(3), None, 0))
            .await
            .unwrap_err();
        assert_eq!(field(e), ["tree_size"]);
        let e = fg
            .access_report_page(ask(None, Some(0), 0))
            .await
            .unwrap_err();
        assert_eq!(field(e), ["tree_size"]);
        let e = fg
            .access_report_page(ask(None, Some(cp.tree_size + 1_000_000), 0))
            .await
            .unwrap_err();
        assert_eq!(field(e), ["tree_size"]);
        let e = fg
            .list_disclosures(pb::ListDisclosuresRequest {
                scope: Some(pb::list_disclosures_request::Scope::SubjectBsn(
                    CHILD.into(),
                )),
                page_size: 1001,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(field(e), ["page_size"]);
        hub.stop().await;
    }
}

/// 100,000 entries about one subject (slow in a debug build: run with `--ignored`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn a_subject_with_a_hundred_thousand_entries_gets_a_complete_verified_report() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        history(&hub, 100_000).await;
        complete_report(&hub, 100_000, 0).await;
        hub.stop().await;
    }
}
