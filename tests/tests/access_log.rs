//! Who may read the disclosure log (docs/ACCESS.md), tried as another organisation's privacy
//! officer, a hub-wide reader without the operator's grant, and a family reading its letter:
//! an FG sees its own organisation's part, the melder of a meldcode report is shielded, a
//! hub-wide report needs the operator's grant and a request reference, and an FG can audit one
//! of its own professionals (NEN 7513).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::TestHub;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_server::devkit;
use signaalhub_server::ledger::Event;
use signaalhub_server::store::testing::backends;
use std::collections::HashMap;
use tonic::Code;

const CHILD: &str = "111222333";

fn fg(hub: &TestHub, sector: &str, sub: &str) -> String {
    let mut c = hub.claims(sector);
    c["roles"] = serde_json::json!(["fg"]);
    c["sub"] = sub.into();
    hub.token(sector, &c)
}

/// The school records a consent about the child; the GP reports the child to Veilig Thuis under
/// the meldcode (meldrecht), and Veilig Thuis receives it.
async fn school_consent_and_gp_melding(hub: &TestHub) {
    let consent = common::consent_request(
        CHILD,
        9,
        &["ouder-1"],
        &["ouder-1"],
        &[pb::Sector::Wijkteam],
        "vroegtijdige_ondersteuning",
        &["zorgen_thuissituatie"],
    );
    hub.client("school")
        .await
        .record_consent(consent)
        .await
        .unwrap();
    let basis = pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: "meldrecht".into(),
            evidence: Some(pb::Evidence {
                meldcode_steps_completed: vec![1, 2, 3, 4],
                afwegingskader: pb::Afwegingskader::StructureleOnveiligheid as i32,
                client_informed: Some(true),
                ..Default::default()
            }),
        }),
        consent_ids: vec![],
    };
    let req = hub.gp_report("melding-1", CHILD, basis).await;
    hub.client("huisarts").await.send_signal(req).await.unwrap();
    let mut vt = hub.client("veilig_thuis").await;
    let mut inbox = vt.stream_inbox(0).await.unwrap();
    let got = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got.signal_id, "melding-1");
    vt.ack_signal(&got.sender_oin, "melding-1").await.unwrap();
}

fn trusted(cp: &pb::GetCheckpointResponse) -> HashMap<String, [u8; 32]> {
    HashMap::from([(
        cp.key_id.clone(),
        <[u8; 32]>::try_from(cp.public_key.as_slice()).unwrap(),
    )])
}

fn views(r: &pb::SubjectAccessReportResponse) -> Vec<&pb::LogEntryView> {
    r.entries
        .iter()
        .map(|e| e.entry.as_ref().unwrap())
        .collect()
}

#[tokio::test]
async fn an_fg_reads_its_own_organisations_part_and_the_family_never_learns_the_melder() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        school_consent_and_gp_melding(&hub).await;
        let school = hub.org("school").info.clone();
        let gp = hub.org("huisarts").info.clone();
        let vt = hub.org("veilig_thuis").info.clone();

        // The school's FG, asked about the child, sees the school's part only: not the GP's
        // report to Veilig Thuis.
        let mut school_fg = hub
            .client_with_token("school", fg(&hub, "school", "fg-school"))
            .await;
        let listed = school_fg.list_disclosures_for_subject(CHILD).await.unwrap();
        assert!(!listed.is_empty());
        for e in &listed {
            assert!(
                e.actor_oin == school.oin || e.recipient_oin == school.oin,
                "{e:?}"
            );
        }
        let r = school_fg.subject_access_report(CHILD).await.unwrap();
        for e in views(&r) {
            assert!(e.actor_oin == school.oin || e.recipient_oin == school.oin);
            assert_ne!(e.reference, "melding-1");
        }
        assert!(!r.html_letter.contains(&gp.name) && !r.json.contains(&gp.oin));

        // Veilig Thuis's FG answers the family: the report names Veilig Thuis as recipient, but
        // not who reported; the withheld entry still verifies through its leaf hash.
        let mut vt_fg = hub
            .client_with_token("veilig_thuis", fg(&hub, "veilig_thuis", "fg-vt"))
            .await;
        let r = vt_fg.subject_access_report(CHILD).await.unwrap();
        let melding: Vec<_> = views(&r)
            .into_iter()
            .filter(|e| e.withheld.iter().any(|w| w == "melder"))
            .collect();
        assert!(melding.len() >= 2, "sent and delivered: {:?}", views(&r));
        for e in &melding {
            assert!(e.actor_oin.is_empty() && e.reference.is_empty() && e.entry.is_empty());
            assert_eq!(e.recipient_oin, vt.oin);
            assert_eq!(e.leaf_hash.len(), 32);
        }
        assert!(!r.json.contains(&gp.oin) && !r.json.contains("melding-1"));
        assert!(!r.html_letter.contains(&gp.name) && !r.html_letter.contains(&gp.oin));
        assert!(r.html_letter.contains("een melder"), "{}", r.html_letter);
        let cp = vt_fg.checkpoint().await.unwrap();
        assert_eq!(
            signaalhub_client::verify_report(&r, &trusted(&cp)).unwrap(),
            r.entries.len()
        );
        // A forged leaf hash in place of a withheld entry does not verify.
        let mut forged = r.clone();
        let i = forged
            .entries
            .iter()
            .position(|e| !e.entry.as_ref().unwrap().withheld.is_empty())
            .unwrap();
        forged.entries[i].entry.as_mut().unwrap().leaf_hash[0] ^= 1;
        assert!(signaalhub_client::verify_report(&forged, &trusted(&cp)).is_err());

        // Veilig Thuis's own working view (not a report for the family) shows what it received.
        let own = vt_fg.list_disclosures_for_subject(CHILD).await.unwrap();
        assert!(
            own.iter()
                .any(|e| e.actor_oin == gp.oin && e.withheld.is_empty())
        );
        // The GP's FG answering for the GP: its own report is not hidden from itself.
        let mut gp_fg = hub
            .client_with_token("huisarts", fg(&hub, "huisarts", "fg-gp"))
            .await;
        let r = gp_fg.subject_access_report(CHILD).await.unwrap();
        assert!(
            views(&r)
                .iter()
                .any(|e| e.actor_oin == gp.oin && e.reference == "melding-1")
        );
        assert!(views(&r).iter().all(|e| e.withheld.is_empty()));
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_reporter_that_agreed_to_be_named_is_named_to_the_family() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let gp = hub.org("huisarts").info.clone();
        // The GP discussed the report with the parents and agrees that they may learn it was
        // the GP (the meldcode's openness): the report says so in its evidence.
        let basis = common::meldrecht(pb::Evidence {
            client_informed: Some(true),
            reporter_may_be_named: Some(true),
            ..Default::default()
        });
        let req = hub.gp_report("melding-open", CHILD, basis).await;
        hub.client("huisarts").await.send_signal(req).await.unwrap();
        // And another report about the same child, without that agreement.
        let basis = common::meldrecht(pb::Evidence {
            client_informed: Some(true),
            ..Default::default()
        });
        let req = hub.gp_report("melding-stil", CHILD, basis).await;
        hub.client("huisarts").await.send_signal(req).await.unwrap();
        // Veilig Thuis receives both (the delivery is the disclosure).
        let mut vt = hub.client("veilig_thuis").await;
        let mut inbox = vt.stream_inbox(0).await.unwrap();
        for _ in 0..2 {
            tokio::time::timeout(std::time::Duration::from_secs(10), inbox.message())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
        }

        let mut vt_fg = hub
            .client_with_token("veilig_thuis", fg(&hub, "veilig_thuis", "fg-vt"))
            .await;
        let r = vt_fg.subject_access_report(CHILD).await.unwrap();
        let entries = views(&r);
        let open: Vec<_> = entries
            .iter()
            .filter(|e| e.reference == "melding-open")
            .collect();
        assert!(!open.is_empty(), "{entries:?}");
        for e in &open {
            assert!(e.withheld.is_empty(), "{e:?}");
            assert_eq!(e.actor_oin, gp.oin);
        }
        // The other report still shields its reporter: the agreement is per report.
        assert!(entries.iter().any(|e| e.withheld == ["melder"]));
        assert!(!r.json.contains("melding-stil"));
        assert!(r.html_letter.contains(&gp.name), "{}", r.html_letter);
        let cp = vt_fg.checkpoint().await.unwrap();
        assert_eq!(
            signaalhub_client::verify_report(&r, &trusted(&cp)).unwrap(),
            r.entries.len()
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_hub_wide_report_needs_the_operators_grant_and_a_request_reference() {
    let school_oin = devkit::sample_orgs()
        .into_iter()
        .find(|o| o.sector == "school")
        .unwrap()
        .oin;
    let grant = format!("[access]\nhub_wide_readers = [\"{school_oin}/fg-hub\"]\n");
    for b in backends() {
        let hub = TestHub::start_with(b, |db| db.to_owned(), &grant).await;
        school_consent_and_gp_melding(&hub).await;
        let gp = hub.org("huisarts").info.clone();
        let hub_wide = |reference: &str| pb::SubjectAccessReportRequest {
            subject_bsn: CHILD.into(),
            hub_wide: true,
            request_reference: reference.into(),
            ..Default::default()
        };
        // An FG whose own identity provider says "fg" is not a hub-wide reader.
        let mut other = hub
            .client_with_token("veilig_thuis", fg(&hub, "veilig_thuis", "fg-hub"))
            .await;
        let e = other.access_report(hub_wide("AVG-7")).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e}");
        let mut same_org = hub
            .client_with_token("school", fg(&hub, "school", "fg-school"))
            .await;
        let e = same_org.access_report(hub_wide("AVG-7")).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e}");
        // The granted reader needs a reference that carries no BSN.
        let mut reader = hub
            .client_with_token("school", fg(&hub, "school", "fg-hub"))
            .await;
        for bad in ["", "AVG 7", "avg-111222333"] {
            let e = reader.access_report(hub_wide(bad)).await.unwrap_err();
            assert_eq!(e.code(), Code::InvalidArgument, "{bad:?}: {e}");
        }
        let e = reader
            .list_disclosures(pb::ListDisclosuresRequest {
                scope: Some(pb::list_disclosures_request::Scope::OwnOrganization(true)),
                hub_wide: true,
                request_reference: "AVG-7".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e}");

        // Granted: every organisation's entries, the melder still withheld from the report...
        let r = reader.access_report(hub_wide("AVG-7")).await.unwrap();
        assert!(views(&r).iter().any(|e| e.withheld == ["melder"]));
        assert!(!r.json.contains(&gp.oin) && !r.html_letter.contains(&gp.name));
        // ...and the working list shows it all.
        let all = reader
            .list_disclosures(pb::ListDisclosuresRequest {
                scope: Some(pb::list_disclosures_request::Scope::SubjectBsn(
                    CHILD.into(),
                )),
                hub_wide: true,
                request_reference: "AVG-7".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(all.iter().any(|e| e.actor_oin == gp.oin));
        // Both reads are logged with the grant and the request reference.
        let reads: Vec<_> = common::log_entries(&hub.store)
            .await
            .into_iter()
            .filter(|(_, e)| e.event == Event::SubjectAccessReport && !e.basis.is_empty())
            .collect();
        assert_eq!(reads.len(), 2, "{reads:?}");
        for (_, e) in &reads {
            assert_eq!(e.basis, ["grant:hub_wide"]);
            assert_eq!(e.reference.as_deref(), Some("request:AVG-7"));
        }
        hub.stop().await;
    }
}

#[tokio::test]
async fn an_fg_audits_its_own_professionals_and_no_one_elses() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        school_consent_and_gp_melding(&hub).await;
        let school = hub.org("school").info.clone();
        let gp = hub.org("huisarts").info.clone();
        let mut school_fg = hub
            .client_with_token("school", fg(&hub, "school", "fg-school"))
            .await;
        let acts = school_fg
            .list_professional_acts(&school.professional, None, 100)
            .await
            .unwrap();
        assert!(!acts.is_empty());
        for e in &acts {
            assert_eq!(e.actor_oin, school.oin);
            assert_eq!(e.actor_professional, school.professional);
        }
        // Its own organisation's list names the professional too, but never another
        // organisation's.
        let own = school_fg
            .list_disclosures(pb::ListDisclosuresRequest {
                scope: Some(pb::list_disclosures_request::Scope::OwnOrganization(true)),
                ..Default::default()
            })
            .await
            .unwrap();
        for e in &own {
            if e.actor_oin == school.oin && e.event != "professional_audit" {
                assert_eq!(e.actor_professional, school.professional, "{e:?}");
            } else if e.actor_oin != school.oin {
                assert!(e.actor_professional.is_empty(), "{e:?}");
            }
        }
        // The GP's professional is not the school's to audit, even with the same id.
        let theirs = school_fg
            .list_professional_acts(&gp.professional, None, 100)
            .await
            .unwrap();
        assert!(
            theirs.iter().all(|e| e.actor_oin == school.oin),
            "{theirs:?}"
        );
        // Paging: one at a time reaches the same entries.
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = school_fg
                .list_professional_acts(&school.professional, after, 1)
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.index);
            paged.extend(page.into_iter().map(|e| e.index));
        }
        assert_eq!(paged, acts.iter().map(|e| e.index).collect::<Vec<_>>());
        // Each audit is logged, naming the professional by pseudonym only.
        let audits: Vec<_> = common::log_entries(&hub.store)
            .await
            .into_iter()
            .filter(|(_, e)| e.event == Event::ProfessionalAudit)
            .collect();
        assert!(audits.len() >= 3);
        for (_, e) in &audits {
            assert_eq!(e.actor_oin, school.oin);
            assert!(
                !e.reference
                    .as_deref()
                    .unwrap_or("")
                    .contains(&school.professional)
            );
        }
        // A professional without the FG role cannot audit.
        let e = hub
            .client("school")
            .await
            .list_professional_acts(&school.professional, None, 10)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
        hub.stop().await;
    }
}

/// Every OIN of the hub's sample organisations.
fn oins(hub: &TestHub) -> Vec<String> {
    hub.orgs.values().map(|o| o.info.oin.clone()).collect()
}

#[tokio::test]
async fn the_familys_letter_names_no_code_or_id_and_comes_in_dutch_or_english() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        school_consent_and_gp_melding(&hub).await;
        let gp = hub.org("huisarts").info.clone();
        let vt = hub.org("veilig_thuis").info.clone();
        let mut vt_fg = hub
            .client_with_token("veilig_thuis", fg(&hub, "veilig_thuis", "fg-vt"))
            .await;
        let ask = |language: &str| pb::SubjectAccessReportRequest {
            subject_bsn: CHILD.into(),
            language: language.into(),
            ..Default::default()
        };
        for (language, melder, fg_line) in [
            (
                "",
                "een melder (wie dat is, blijft geheim)",
                "Zo bereikt u de FG: fg@veilig-thuis.dev.example.",
            ),
            (
                "en",
                "a reporter (who this is stays secret)",
                "You can reach the data protection officer here: fg@veilig-thuis.dev.example.",
            ),
        ] {
            let r = vt_fg.access_report(ask(language)).await.unwrap();
            let letter = r.letter.clone().expect("the structured letter");
            let html = &r.html_letter;
            let lang = if language.is_empty() { "nl" } else { language };
            assert_eq!(letter.language, lang);
            assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{html}");
            // Sender, date and the privacy officer from the directory.
            assert_eq!(letter.sender, vt.name);
            assert_eq!(letter.privacy_contact, "fg@veilig-thuis.dev.example");
            assert!(letter.letterhead[0].ends_with(&vt.name) && letter.letterhead.len() == 2);
            assert!(html.contains(fg_line), "{html}");
            // The melder is shielded in either language.
            assert!(html.contains(melder), "{html}");
            assert!(!html.contains(&gp.name), "{html}");
            // No code, consent id, OIN or reference anywhere in the letter.
            let consent_ids: Vec<String> = r
                .entries
                .iter()
                .filter_map(|e| e.entry.as_ref())
                .flat_map(|e| e.basis.iter())
                .filter_map(|b| b.strip_prefix("consent:").map(str::to_owned))
                .collect();
            for needle in consent_ids
                .iter()
                .map(String::as_str)
                .chain(oins(&hub).iter().map(String::as_str))
                .chain([
                    "melding_veilig_thuis",
                    "zorgen_thuissituatie",
                    "legal:",
                    "consent:",
                    "meldrecht",
                    "melding-1",
                    "huisarts",
                ])
            {
                assert!(!html.contains(needle), "{lang}: {needle:?} in\n{html}");
            }
            // The proof sits in the annex, after the body, and the body says what it is for.
            let annex = html.find("<section class=\"annex\"").expect("an annex");
            assert!(html[annex..].contains("<pre>") && !html[..annex].contains("<pre>"));
            assert!(!letter.annex.is_empty() && !letter.annex_title.is_empty());
        }
        // Without a registered privacy officer the letter says so; with an unknown language the
        // hub refuses on the field.
        hub.store
            .set_privacy_contact(&vt.oin.parse().unwrap(), "")
            .await
            .unwrap();
        hub.directory.reload().await.unwrap();
        let r = vt_fg.access_report(ask("nl")).await.unwrap();
        assert!(r.letter.unwrap().privacy_contact.is_empty());
        assert!(
            r.html_letter.contains(&format!(
                "{} heeft ons niet laten weten hoe u de FG bereikt.",
                vt.name
            )),
            "{}",
            r.html_letter
        );
        let e = vt_fg.access_report(ask("fr")).await.unwrap_err();
        let v = common::violations(e);
        assert!(
            v.iter()
                .any(|(f, d)| f == "language" && d.contains("nl, en")),
            "{v:?}"
        );
        hub.stop().await;
    }
}
