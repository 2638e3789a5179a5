//! Nothing identifying at rest (issue 16 item 7): where the law asks a professional for a reason
//! (why the parents were not told, why a vital interest is at stake, why the family is not
//! informed) the hub takes one of the fixed reason codes of `signaalhub_policy::reasons`, never
//! free text; a case reference is a dossier number, never a name or a BSN. Tried as a careless
//! or hostile sender would: a name and an address typed into every such field is refused with a
//! field violation that does not echo it, and after a meldcode report, a refused one, a police
//! zorgmelding and its triage, the whole database holds neither the name nor the BSN. The
//! convenant's names (purpose, categories, onward purpose, role) are names too: free text in one
//! is refused at the edge; so are a name as a consent's giver, holder of gezag or evidence
//! reference (people are `ouder-1`, evidence is a hash or a file number).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::zorgmelding_flow::{FATHER, MOTHER, SIBLING, criteria, triaged};
use common::{TestHub, consent_request, meldrecht, violations};
use signaalhub_proto::pb;
use signaalhub_server::store::testing::backends;

const CHILD: &str = "111222333";
const NAME: &str = "vader Piet Bakker (Dorpsstraat 3)";

/// Free text typed into one field of a request.
type TypedIn = fn(&mut pb::SendSignalRequest);

/// The one violation of a refused request, checked not to echo what was typed.
fn the_violation(e: signaalhub_client::ClientError, field: &str) -> String {
    let v = violations(e);
    let found: Vec<_> = v.iter().filter(|(f, _)| f == field).collect();
    assert_eq!(found.len(), 1, "expected a violation on {field}: {v:?}");
    let why = found[0].1.clone();
    assert!(
        !why.contains("Piet") && !why.contains("Dorpsstraat"),
        "{why}"
    );
    why
}

#[tokio::test]
async fn free_text_reasons_and_names_as_references_are_refused_and_never_stored() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut gp = hub.client("huisarts").await;
        let log = hub.store.log_size().await.unwrap();

        // Why the parents were not told: a code, not a story about the father.
        let req = hub
            .gp_report(
                "melding-naam",
                CHILD,
                meldrecht(pb::Evidence {
                    client_informed: Some(false),
                    client_not_informed_reason: NAME.into(),
                    ..Default::default()
                }),
            )
            .await;
        let why = the_violation(
            gp.send_signal(req).await.unwrap_err(),
            "basis.legal.evidence.client_not_informed_reason",
        );
        assert!(
            why.contains("veiligheid_kind"),
            "the codes are named: {why}"
        );

        // The Veilig Thuis case reference is a dossier number: no spaces, no BSN inside.
        for reference in [NAME.to_owned(), format!("VT-{CHILD}")] {
            let req = hub
                .gp_report(
                    "melding-ref",
                    CHILD,
                    meldrecht(pb::Evidence {
                        client_informed: Some(true),
                        case_reference: reference,
                        ..Default::default()
                    }),
                )
                .await;
            the_violation(
                gp.send_signal(req).await.unwrap_err(),
                "basis.legal.evidence.case_reference",
            );
        }

        // A vital interest: a code.
        let mut req = hub
            .gp_report("melding-vitaal", CHILD, pb::Basis::default())
            .await;
        req.basis = Some(pb::Basis {
            legal: Some(pb::LegalBasis {
                basis: "vitaal_belang".into(),
                evidence: Some(pb::Evidence {
                    vital_interest_reason: NAME.into(),
                    subject_unable_to_consent: Some(true),
                    ..Default::default()
                }),
            }),
            consent_ids: vec![],
        });
        the_violation(
            gp.send_signal(req).await.unwrap_err(),
            "basis.legal.evidence.vital_interest_reason",
        );

        // Not informing the family: a code, at sending and in the dry run alike.
        let mut req = hub
            .gp_report(
                "melding-uitzondering",
                CHILD,
                meldrecht(pb::Evidence {
                    client_informed: Some(true),
                    ..Default::default()
                }),
            )
            .await;
        req.inform_exemption = NAME.into();
        the_violation(gp.send_signal(req).await.unwrap_err(), "inform_exemption");
        let e = gp
            .check_basis(pb::CheckBasisRequest {
                recipient_oin: hub.org("veilig_thuis").info.oin.clone(),
                subject_bsn: CHILD.into(),
                purpose: "melding_veilig_thuis".into(),
                categories: vec!["gezondheid".into()],
                basis: Some(meldrecht(pb::Evidence {
                    client_informed: Some(true),
                    ..Default::default()
                })),
                inform_exemption: NAME.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        the_violation(e, "inform_exemption");

        // The convenant's names are names: free text as a purpose, a category, the purpose the
        // data was received for or the role acted in is refused as such, at sending and in the
        // dry run alike, before the convenant is asked.
        let cases: [(&str, TypedIn); 4] = [
            ("purpose", |r| r.purpose = NAME.into()),
            ("categories", |r| r.categories.push(NAME.into())),
            ("received_for", |r| r.received_for = NAME.into()),
            ("acting_role", |r| r.acting_role = NAME.into()),
        ];
        for (field, typed_in) in cases {
            let mut req = hub
                .gp_report(
                    "melding-namen",
                    CHILD,
                    meldrecht(pb::Evidence {
                        client_informed: Some(true),
                        ..Default::default()
                    }),
                )
                .await;
            typed_in(&mut req);
            let why = the_violation(gp.send_signal(req).await.unwrap_err(), field);
            assert!(why.contains("lowercase letters a-z"), "{field}: {why}");
        }
        let e = gp
            .check_basis(pb::CheckBasisRequest {
                recipient_oin: hub.org("veilig_thuis").info.oin.clone(),
                subject_bsn: CHILD.into(),
                purpose: NAME.into(),
                categories: vec![NAME.into()],
                basis: Some(meldrecht(pb::Evidence {
                    client_informed: Some(true),
                    ..Default::default()
                })),
                ..Default::default()
            })
            .await
            .unwrap_err();
        let v = violations(e);
        for field in ["purpose", "categories"] {
            assert!(v.iter().any(|(f, _)| f == field), "{field}: {v:?}");
        }
        assert!(
            v.iter().all(|(_, why)| !why.contains("Piet")),
            "never echoed: {v:?}"
        );
        // A consent names people only by what they are to the child (ouder-1), and its evidence
        // by a hash or a file number: a name in a giver, a holder of gezag or the evidence
        // reference is refused on that field.
        let mut req = consent_request(
            CHILD,
            9,
            &["ouder-1", "piet-bakker"],
            &["piet-bakker"],
            &[pb::Sector::Wijkteam],
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
        );
        req.evidence_reference = "handtekening Piet Bakker".into();
        let v = violations(gp.record_consent(req).await.unwrap_err());
        for field in [
            "givers.person",
            "subject.gezag_holders",
            "evidence_reference",
        ] {
            assert!(v.iter().any(|(f, _)| f == field), "{field}: {v:?}");
        }
        assert!(
            v.iter()
                .all(|(_, why)| !why.contains("Piet") && !why.contains("piet")),
            "never echoed: {v:?}"
        );
        assert_eq!(
            hub.store.log_size().await.unwrap(),
            log,
            "a refused request leaves no trace"
        );

        // The same report with codes goes through.
        let req = hub
            .gp_report(
                "melding-code",
                CHILD,
                meldrecht(pb::Evidence {
                    client_informed: Some(false),
                    client_not_informed_reason: "veiligheid_kind".into(),
                    ..Default::default()
                }),
            )
            .await;
        gp.send_signal(req).await.unwrap();

        // Veilig Thuis's triage takes a dossier number too.
        let melding = triaged(&hub).await;
        let mut vt = hub.client("veilig_thuis").await;
        use pb::CriterionAnswer::No;
        let e = vt
            .record_triage(pb::RecordTriageRequest {
                zorgmelding_id: melding.zorgmelding_id.clone(),
                criteria: Some(criteria(
                    No,
                    No,
                    No,
                    pb::SafetyConflictAnswer::No,
                    pb::OpenToHelpAnswer::Open,
                    [No, No, No],
                )),
                acute: false,
                case_reference: NAME.into(),
                acting_role: "triagist".into(),
                signal: None,
            })
            .await
            .unwrap_err();
        the_violation(e, "case_reference");

        let hay = common::database_text(&hub).await;
        assert!(
            hay.contains("veiligheid_kind") && hay.contains("VT-2026-0042"),
            "{b}: the scan must see the stored evidence"
        );
        for needle in [
            "Piet",
            "Bakker",
            "Dorpsstraat",
            CHILD,
            SIBLING,
            MOTHER,
            FATHER,
        ] {
            assert!(!hay.contains(needle), "{b}: {needle:?} is stored");
        }
        hub.stop().await;
    }
}
