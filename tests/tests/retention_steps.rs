//! Retention of the records of steps 4 and 5 — zorgmelding fragments, triages, meldingen,
//! handovers, maatregelen, ended involvements, safety plan versions and notifications: each
//! expires from the convenant's retention, is erased with one `erased` log entry, stays as a
//! tombstone the read paths handle, and the log still verifies — on every backend. Also: the
//! family's access letter counts every disclosure.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, now};
use signaalhub_client::envelope;
use signaalhub_client::envelope::SenderKeys;
use signaalhub_client::involvement::{Agreement, SafetyPlan};
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ClientError, HubClient};
use signaalhub_server::ledger::{EntryOutcome, Event, LogEntry};
use signaalhub_server::retention::SweepReport;
use signaalhub_server::store::testing::backends;
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::Code;

// ---------------------------------------------------------------- shared

async fn entries(hub: &TestHub) -> Vec<LogEntry> {
    let size = hub.store.log_size().await.unwrap();
    hub.store
        .log_range(0, size)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, b)| LogEntry::from_bytes(&b).unwrap())
        .collect()
}

async fn verify(hub: &TestHub) -> u64 {
    let ledger = signaalhub_server::load_ledger(&hub.config, hub.store.clone()).unwrap();
    ledger.integrate_all().await.unwrap();
    signaalhub_server::ledger::integrator::verify(&hub.store, &ledger.keys)
        .await
        .unwrap()
        .entries
}

async fn sweep(hub: &TestHub, at: i64, batch: u32) -> SweepReport {
    let policy = signaalhub_server::load_policy(&hub.config).unwrap();
    signaalhub_server::retention::sweep(&hub.store, policy.version(), at, batch)
        .await
        .unwrap()
}

/// The convenant's retention of `purpose`, in seconds.
fn keep(hub: &TestHub, purpose: &str) -> i64 {
    let policy = signaalhub_server::load_policy(&hub.config).unwrap();
    i64::try_from(policy.retention_for(purpose).unwrap()).unwrap()
}

/// The erasure entries whose reference starts with `<kind>:`.
fn erased<'a>(log: &'a [LogEntry], kind: &str) -> Vec<&'a LogEntry> {
    let prefix = format!("{kind}:");
    log.iter()
        .filter(|e| {
            e.event == Event::Erased
                && e.reference
                    .as_deref()
                    .is_some_and(|r| r.starts_with(&prefix))
        })
        .collect()
}

fn fg(hub: &TestHub, sector: &str) -> serde_json::Value {
    let mut claims = hub.claims(sector);
    claims["roles"] = serde_json::json!(["fg"]);
    claims
}

// ---------------------------------------------------------------- step 4 (as tests/zorgmelding.rs)

const CHILD: &str = "111222333";
const SIBLING: &str = "234567892";
const MOTHER: &str = "314159265";
const FATHER: &str = "271828183";
const REG: &str = "2026-OOST-000123";
const INCIDENT: &[u8] =
    b"Ruzie op straat tussen ex-partners bij overdracht van de kinderen; buren belden 112.";
const PERSONS: &[u8] = b"Betrokkenen: moeder (34), vader (36).";
const CHILDREN: &[u8] = b"Twee kinderen (4 en 6) waren aanwezig en zagen de ruzie.";

fn wpg(reg: &str) -> pb::Basis {
    pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: "wpg_zorgmelding".into(),
            evidence: Some(pb::Evidence {
                registration_number: reg.into(),
                ..Default::default()
            }),
        }),
        consent_ids: vec![],
    }
}

async fn recipient_key(hub: &TestHub, from: &str, to: &str) -> envelope::RecipientKey {
    let mut c = hub.client(from).await;
    let r = c.get_organization(&hub.org(to).info.oin).await.unwrap();
    let k = r
        .encryption_keys
        .iter()
        .find(|k| k.retired_at.is_none())
        .unwrap();
    envelope::RecipientKey::from_directory(hub.org(to).info.oin.clone(), k).unwrap()
}

fn sender(hub: &TestHub, from: &str) -> envelope::SenderKeys {
    let o = hub.org(from);
    envelope::SenderKeys::from_pkcs8_der(&o.info.oin, &o.info.signing_key_id, &o.signing_pkcs8)
        .unwrap()
}

#[allow(clippy::too_many_arguments)]
fn seal(
    hub: &TestHub,
    from: &str,
    to: &envelope::RecipientKey,
    id: &str,
    purpose: &str,
    categories: &[String],
    basis: &pb::Basis,
    payload: &[u8],
) -> pb::Envelope {
    let binding = pb::EnvelopeBinding {
        signal_id: id.into(),
        purpose: purpose.into(),
        categories: categories.to_vec(),
        basis_reference: signaalhub_client::signaalhub_proto::basis_reference(basis),
        created_at_unix: now(),
    };
    envelope::seal(
        payload,
        binding,
        &sender(hub, from),
        std::slice::from_ref(to),
    )
    .unwrap()
}

/// A police fragment sealed to Veilig Thuis.
#[allow(clippy::too_many_arguments)]
async fn fragment(
    hub: &TestHub,
    reg: &str,
    id: &str,
    kind: pb::FragmentKind,
    subjects: &[&str],
    categories: &[&str],
    payload: &[u8],
) -> pb::SubmitFragmentRequest {
    let to = recipient_key(hub, "politie", "veilig_thuis").await;
    let categories: Vec<String> = categories.iter().map(|s| s.to_string()).collect();
    let basis = wpg(reg);
    pb::SubmitFragmentRequest {
        registration_number: reg.into(),
        fragment_id: id.into(),
        kind: kind as i32,
        recipient_oin: hub.org("veilig_thuis").info.oin.clone(),
        subject_bsns: subjects.iter().map(|s| s.to_string()).collect(),
        categories: categories.clone(),
        envelope: Some(seal(
            hub,
            "politie",
            &to,
            id,
            "zorgmelding_politie",
            &categories,
            &basis,
            payload,
        )),
        basis: Some(basis),
        acting_role: String::new(),
    }
}

async fn incident(
    hub: &TestHub,
    reg: &str,
    id: &str,
    subjects: &[&str],
) -> pb::SubmitFragmentResponse {
    let req = fragment(
        hub,
        reg,
        id,
        pb::FragmentKind::Incident,
        subjects,
        &["incidentgegevens"],
        INCIDENT,
    )
    .await;
    hub.client("politie")
        .await
        .submit_fragment(req)
        .await
        .unwrap()
}

/// A Veilig Thuis client acting in one role (the dev token carries two).
async fn vt_as(hub: &TestHub, role: &str) -> HubClient {
    let mut claims = hub.claims("veilig_thuis");
    claims["roles"] = serde_json::json!([role]);
    hub.client_with_token("veilig_thuis", hub.token("veilig_thuis", &claims))
        .await
}

fn signing_key(m: &pb::GetOrganizationResponse, kid: &str) -> [u8; 32] {
    m.signing_keys
        .iter()
        .find(|k| k.key_id == kid)
        .unwrap()
        .public_key
        .as_slice()
        .try_into()
        .unwrap()
}

/// The scenario-1 incident: three fragments (incident, persons, children present) plus a
/// re-sealed retry of the incident report. Returns the melding id.
async fn quarrel_on_the_street(hub: &TestHub) -> String {
    let mut politie = hub.client("politie").await;
    let first = incident(hub, REG, "frag-incident", &[MOTHER, FATHER]).await;
    assert!(!first.duplicate);
    assert_eq!(first.sequence, 1);
    let persons = fragment(
        hub,
        REG,
        "frag-persons",
        pb::FragmentKind::Persons,
        &[MOTHER, FATHER],
        &["betrokken_personen"],
        PERSONS,
    )
    .await;
    let r = politie.submit_fragment(persons).await.unwrap();
    assert_eq!((r.sequence, r.fragment_count), (2, 2));
    let children = fragment(
        hub,
        REG,
        "frag-children",
        pb::FragmentKind::ChildrenPresent,
        &[CHILD, SIBLING],
        &["aanwezigheid_kinderen"],
        CHILDREN,
    )
    .await;
    let r = politie.submit_fragment(children).await.unwrap();
    assert_eq!(r.sequence, 3);
    // The network retries the incident report: re-sealed, same fragment id and metadata.
    let retry = incident(hub, REG, "frag-incident", &[MOTHER, FATHER]).await;
    assert!(retry.duplicate);
    assert_eq!(retry.sequence, 1);
    assert_eq!(retry.zorgmelding_id, first.zorgmelding_id);
    assert_eq!(retry.fragment_count, 3);
    first.zorgmelding_id
}

fn criteria(
    c1: pb::CriterionAnswer,
    c2: pb::CriterionAnswer,
    c3: pb::CriterionAnswer,
    c4: pb::SafetyConflictAnswer,
    c5: pb::OpenToHelpAnswer,
    c6: [pb::CriterionAnswer; 3],
) -> pb::ArnhemCriteria {
    pb::ArnhemCriteria {
        physical_abuse_or_severe_violence: c1 as i32,
        sexual_abuse: c2 as i32,
        violence_witnessed_by_children: c3 as i32,
        safety_conflict: c4 as i32,
        open_to_help: c5 as i32,
        stacked_reports: c6[0] as i32,
        mutual_accusations: c6[1] as i32,
        addiction: c6[2] as i32,
    }
}

async fn triage(
    vt: &mut HubClient,
    id: &str,
    c: pb::ArnhemCriteria,
    acute: bool,
) -> Result<pb::Triage, ClientError> {
    vt.record_triage(pb::RecordTriageRequest {
        zorgmelding_id: id.into(),
        criteria: Some(c),
        acute,
        case_reference: "VT-2026-0042".into(),
        acting_role: "triagist".into(),
    })
    .await
}

async fn family_consent(hub: &TestHub, categories: &[&str]) -> Vec<String> {
    let mut vt = vt_as(hub, "vt_medewerker").await;
    let c = vt
        .record_consent(pb::RecordConsentRequest {
            subject_bsn: CHILD.into(),
            subject: Some(pb::SubjectFacts {
                age_years: Some(6),
                age_band: 0,
                gezag_holders: vec!["ouder-1".into(), "ouder-2".into()],
            }),
            givers: ["ouder-1", "ouder-2"]
                .iter()
                .map(|p| pb::ConsentGiver {
                    person: p.to_string(),
                    capacity: pb::GiverCapacity::GezagHolder as i32,
                })
                .collect(),
            recipients: vec![pb::ConsentRecipient {
                recipient: Some(pb::consent_recipient::Recipient::Sector(
                    pb::Sector::Wijkteam as i32,
                )),
            }],
            purposes: vec!["overdracht_hulpverlening".into()],
            categories: categories.iter().map(|s| s.to_string()).collect(),
            valid_until: Some(prost_types::Timestamp {
                seconds: now() + 180 * 86400,
                nanos: 0,
            }),
            evidence_reference: "sha256:toestemmingsformulier".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    vec![c.consent_id]
}

const HANDOVER_CATEGORIES: [&str; 3] = [
    "incidentgegevens",
    "aanwezigheid_kinderen",
    "signalen_huiselijk_geweld",
];

/// Veilig Thuis opens the melding's fragments and re-seals them for the wijkteam.
async fn handover_request(
    hub: &TestHub,
    melding: &pb::Zorgmelding,
    handover_id: &str,
    consent_ids: Vec<String>,
) -> pb::HandOverRequest {
    let mut vt = hub.client("veilig_thuis").await;
    let dir = vt
        .get_organization(&hub.org("politie").info.oin)
        .await
        .unwrap();
    let to = recipient_key(hub, "veilig_thuis", "wijkteam").await;
    let categories: Vec<String> = HANDOVER_CATEGORIES.iter().map(|s| s.to_string()).collect();
    let basis = pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: "vt_wettelijke_taak".into(),
            evidence: Some(pb::Evidence {
                case_reference: "VT-2026-0042".into(),
                client_informed: Some(true),
                ..Default::default()
            }),
        }),
        consent_ids,
    };
    let mut envelopes = Vec::new();
    for f in &melding.fragments {
        let env = f.envelope.as_ref().unwrap();
        let payload = envelope::open(
            env,
            &hub.secrets("veilig_thuis"),
            &signing_key(&dir, &env.sender_signing_key_id),
        )
        .unwrap();
        envelopes.push(seal(
            hub,
            "veilig_thuis",
            &to,
            &format!("{handover_id}.{}", f.sequence),
            "overdracht_hulpverlening",
            &categories,
            &basis,
            &payload,
        ));
    }
    pb::HandOverRequest {
        handover_id: handover_id.into(),
        zorgmelding_id: melding.zorgmelding_id.clone(),
        recipient_oin: hub.org("wijkteam").info.oin.clone(),
        subject_bsns: vec![CHILD.into()],
        categories,
        basis: Some(basis),
        envelopes,
        veilig_thuis_contact: Some(pb::ContactPerson {
            name: "Rianne van Rooijen".into(),
            function: "medewerker Veilig Thuis".into(),
            phone: "0800-2000".into(),
            email: String::new(),
        }),
        wijkteam_contact: Some(pb::ContactPerson {
            name: "Els Bouwman".into(),
            function: "wijkcoach".into(),
            phone: "026-0000002".into(),
            email: "els@wijkteam.example".into(),
        }),
        acting_role: "vt_medewerker".into(),
    }
}

/// Scenario 1 up to a triage with criterion 3 (violence witnessed by the children).
async fn triaged(hub: &TestHub) -> pb::Zorgmelding {
    let id = quarrel_on_the_street(hub).await;
    let mut vt = hub.client("veilig_thuis").await;
    let melding = vt.get_zorgmelding(&id).await.unwrap();
    use pb::CriterionAnswer::No;
    let t = triage(
        &mut vt,
        &id,
        criteria(
            No,
            No,
            pb::CriterionAnswer::Yes,
            pb::SafetyConflictAnswer::No,
            pb::OpenToHelpAnswer::Open,
            [No, No, No],
        ),
        false,
    )
    .await
    .unwrap();
    assert_eq!(t.advice.unwrap().advice, pb::Advice::JointVisit as i32);
    melding
}

#[tokio::test]
async fn fragments_triages_meldingen_and_handovers_expire_and_stay_as_tombstones() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let melding = triaged(&hub).await;
        let id = melding.zorgmelding_id.clone();
        let consents = family_consent(&hub, &HANDOVER_CATEGORIES).await;
        let mut vt = hub.client("veilig_thuis").await;
        vt.hand_over(handover_request(&hub, &melding, "ho-1", consents.clone()).await)
            .await
            .unwrap();
        // A second handover the wijkteam never fetches.
        vt.hand_over(handover_request(&hub, &melding, "ho-2", consents).await)
            .await
            .unwrap();
        let vt_oin = hub.org("veilig_thuis").info.oin.clone();
        let mut wijkteam = hub.client("wijkteam").await;
        let got = wijkteam.get_handover(&vt_oin, "ho-1").await.unwrap();
        assert_eq!(got.envelopes.len(), 3, "{b}");

        // retain_until comes from the convenant: P1Y from receipt for every fragment, the
        // melding's latest fragment, P1Y from the handover.
        let fragments = hub.store.fragments_of(&id).await.unwrap();
        assert_eq!(fragments.len(), 3);
        let zm = keep(&hub, "zorgmelding_politie");
        for f in &fragments {
            assert!(
                (f.retain_until - f.received_at - zm).abs() <= 5,
                "{b}: fragment kept until {} (received {})",
                f.retain_until,
                f.received_at
            );
        }
        let m = hub.store.get_zorgmelding(&id).await.unwrap().unwrap();
        assert_eq!(
            m.retain_until,
            fragments.iter().map(|f| f.retain_until).max().unwrap()
        );
        let h = hub
            .store
            .get_handover(&vt_oin, "ho-1")
            .await
            .unwrap()
            .unwrap();
        assert!(
            (h.retain_until - h.created_at - keep(&hub, "overdracht_hulpverlening")).abs() <= 5
        );

        // Nothing has expired yet.
        let before = hub.store.log_size().await.unwrap();
        assert_eq!(sweep(&hub, now(), 10).await.total(), 0, "{b}");
        assert_eq!(hub.store.log_size().await.unwrap(), before);

        // Past every retain_until (batches of one: many transactions).
        let later = hub
            .store
            .get_handover(&vt_oin, "ho-2")
            .await
            .unwrap()
            .unwrap();
        let t = m.retain_until.max(h.retain_until).max(later.retain_until) + 1;
        // The dry run counts what a sweep then erases.
        let backlog = signaalhub_server::retention::backlog(&hub.store, t)
            .await
            .unwrap();
        let r = sweep(&hub, t, 1).await;
        for (kind, n) in &r.erased {
            assert_eq!(backlog[kind], *n, "{b}: backlog of {kind}");
        }
        assert_eq!(r.erased["zorgmelding_fragment"], 3, "{b}");
        assert_eq!(r.erased["triage"], 1, "{b}");
        assert_eq!(r.erased["zorgmelding"], 1, "{b}");
        assert_eq!(r.erased["handover"], 2, "{b}");

        // One erasure entry per record, with the pseudonyms of the original entries.
        let log = entries(&hub).await;
        let submitted: Vec<&LogEntry> = log
            .iter()
            .filter(|e| e.event == Event::ZorgmeldingFragmentSent)
            .collect();
        let frag_erased = erased(&log, "zorgmelding_fragment");
        assert_eq!(frag_erased.len(), 3, "{b}");
        for f in &fragments {
            let e = frag_erased
                .iter()
                .find(|e| {
                    e.reference.as_deref()
                        == Some(format!("zorgmelding_fragment:{}", f.fragment_id).as_str())
                })
                .expect("an entry per fragment");
            assert_eq!(e.subjects, f.subjects);
            assert_eq!(e.actor_oin, hub.org("politie").info.oin);
            assert_eq!(e.purpose.as_deref(), Some("zorgmelding_politie"));
            assert_eq!(e.basis, vec!["retention:zorgmelding_politie"]);
            assert_eq!(e.reasons, vec!["RETENTION_EXPIRED"]);
            assert_eq!(e.at, t);
            assert!(submitted.iter().any(|s| s.subjects == e.subjects));
        }
        let melding_erased = erased(&log, "zorgmelding");
        assert_eq!(melding_erased.len(), 1);
        assert_eq!(
            melding_erased[0].subjects.len(),
            4,
            "{b}: the whole household"
        );
        let triage_erased = erased(&log, "triage");
        assert_eq!(triage_erased.len(), 1);
        assert_eq!(triage_erased[0].actor_oin, vt_oin);
        assert_eq!(triage_erased[0].subjects, melding_erased[0].subjects);
        let ho = erased(&log, "handover");
        assert_eq!(ho.len(), 2);
        let ho: Vec<&&LogEntry> = ho
            .iter()
            .filter(|e| e.reference.as_deref() == Some("handover:ho-1"))
            .collect();
        assert_eq!(ho.len(), 1);
        assert_eq!(ho[0].categories, h.categories);
        assert_eq!(ho[0].subjects, h.subjects);

        // Tombstones: what the log and other rows refer to stays, the personal data goes.
        let fs = hub.store.fragments_of(&id).await.unwrap();
        assert_eq!(fs.len(), 3);
        for (f, was) in fs.iter().zip(&fragments) {
            assert!(f.envelope.is_none() && f.subjects.is_empty() && f.basis.is_empty());
            assert!(f.author_professional.is_empty());
            assert_eq!((f.sequence, f.kind), (was.sequence, was.kind));
            assert_eq!(f.request_hash, was.request_hash);
        }
        let m2 = hub.store.get_zorgmelding(&id).await.unwrap().unwrap();
        assert!(m2.subjects.is_empty());
        assert_eq!(m2.registration_number, REG);
        assert!(hub.store.latest_triage(&id).await.unwrap().is_none());
        let h2 = hub
            .store
            .get_handover(&vt_oin, "ho-1")
            .await
            .unwrap()
            .unwrap();
        assert!(h2.subjects.is_empty() && h2.facts.is_empty() && h2.basis.is_empty());
        assert!(h2.letter.is_empty() && h2.sender_professional.is_empty());
        assert!(h2.vt_contact.name.is_empty() && h2.wijkteam_contact.phone.is_empty());
        assert_eq!(h2.state, h.state, "{b}: delivered stays delivered");
        // What was never delivered never will be: held back, with the reason.
        let h3 = hub
            .store
            .get_handover(&vt_oin, "ho-2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(h3.state.as_str(), "withheld", "{b}");
        assert_eq!(h3.reasons[0].code, "RETENTION_EXPIRED");
        assert_eq!(
            (h2.advice.as_str(), h2.triage_id.as_str()),
            (h.advice.as_str(), h.triage_id.as_str())
        );
        for (sql, n) in [
            (
                "SELECT COUNT(*) FROM zorgmelding_fragments WHERE envelope IS NOT NULL OR erased_at IS NULL",
                0,
            ),
            ("SELECT COUNT(*) FROM zorgmelding_subjects", 0),
            (
                "SELECT COUNT(*) FROM zorgmeldingen WHERE erased_at IS NULL OR subjects <> '[]'",
                0,
            ),
            (
                "SELECT COUNT(*) FROM triages WHERE erased_at IS NULL OR case_reference <> '' OR professional <> '' OR answers LIKE '%yes%'",
                0,
            ),
            ("SELECT COUNT(*) FROM triages", 1),
            ("SELECT COUNT(*) FROM handover_envelopes", 0),
            (
                "SELECT COUNT(*) FROM handovers WHERE erased_at IS NULL OR letter LIKE '%Els Bouwman%' OR wijkteam_contact LIKE '%Els%' OR vt_contact LIKE '%Rianne%'",
                0,
            ),
        ] {
            assert_eq!(hub.sql_count(sql).await, n, "{b}: {sql}");
        }

        // Read paths: no envelope is served, nothing is delivered or read (so nothing logged),
        // lists and streams skip the erased, and the closed melding takes no new fragment.
        let size = hub.store.log_size().await.unwrap();
        let g = vt.get_zorgmelding(&id).await.unwrap();
        assert_eq!(g.fragments.len(), 3);
        assert!(g.fragments.iter().all(|f| f.envelope.is_none()), "{b}");
        let g = wijkteam.get_handover(&vt_oin, "ho-1").await.unwrap();
        assert!(g.envelopes.is_empty() && g.family_letter.is_empty(), "{b}");
        let g = wijkteam.get_handover(&vt_oin, "ho-2").await.unwrap();
        assert_eq!(g.state, pb::HandoverState::Withheld as i32, "{b}");
        assert!(g.envelopes.is_empty());
        assert_eq!(
            hub.store.log_size().await.unwrap(),
            size,
            "{b}: no read of nothing is logged"
        );
        assert!(wijkteam.list_handovers().await.unwrap().is_empty());
        assert!(vt.list_handovers().await.unwrap().is_empty());
        let mut s = vt.stream_zorgmeldingen(0).await.unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(700), s.next())
                .await
                .is_err(),
            "{b}: an erased melding is not streamed"
        );
        drop(s);
        let late = fragment(
            &hub,
            REG,
            "frag-late",
            pb::FragmentKind::Incident,
            &[MOTHER],
            &["incidentgegevens"],
            INCIDENT,
        )
        .await;
        let e = hub
            .client("politie")
            .await
            .submit_fragment(late)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ClientError::Status(s) if s.code() == Code::FailedPrecondition),
            "{b}: {e}"
        );
        assert_eq!(hub.store.fragments_of(&id).await.unwrap().len(), 3);

        // Nothing left to do; the log verifies; no BSN anywhere.
        assert_eq!(sweep(&hub, t, 10).await.total(), 0);
        let log = entries(&hub).await;
        assert_eq!(verify(&hub).await, log.len() as u64, "{b}");
        let hay = common::database_text(&hub).await;
        for bsn in [CHILD, SIBLING, MOTHER, FATHER] {
            assert!(!hay.contains(bsn), "{b}: a BSN is stored in the clear");
        }
        // Nor the erased letter and contacts: not in a live row, not in free space, not in the
        // write-ahead log.
        for gone in ["Rianne van Rooijen", "Els Bouwman", "VT-2026-0042"] {
            assert!(!hay.contains(gone), "{b}: erased {gone:?} is still on disk");
        }
        hub.stop().await;
    }
}

// ---------------------------------------------------------------- step 5 (as tests/involvement.rs)

const KID: &str = "123456782";
const BROTHER: &str = "345678904";

/// Both parents consent to the case parties learning of each other and sharing the safety plan.
async fn case_consent(hub: &TestHub, recorder: &str, bsn: &str) -> String {
    let mut c = hub.client(recorder).await;
    let sectors = [
        pb::Sector::Wijkteam,
        pb::Sector::Jeugdbescherming,
        pb::Sector::School,
        pb::Sector::VeiligThuis,
    ];
    c.record_consent(pb::RecordConsentRequest {
        subject_bsn: bsn.into(),
        subject: Some(pb::SubjectFacts {
            age_years: Some(9),
            age_band: 0,
            gezag_holders: vec!["ouder-1".into(), "ouder-2".into()],
        }),
        givers: ["ouder-1", "ouder-2"]
            .iter()
            .map(|p| pb::ConsentGiver {
                person: (*p).into(),
                capacity: pb::GiverCapacity::GezagHolder as i32,
            })
            .collect(),
        recipients: sectors
            .iter()
            .map(|s| pb::ConsentRecipient {
                recipient: Some(pb::consent_recipient::Recipient::Sector(*s as i32)),
            })
            .collect(),
        purposes: vec!["casusafstemming".into()],
        categories: vec!["betrokkenheid".into(), "veiligheidsafspraken".into()],
        valid_until: Some(prost_types::Timestamp {
            seconds: now() + 180 * 86400,
            nanos: 0,
        }),
        evidence_reference: "sha256:form".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .consent_id
}

/// A client of `sector`'s dev professional acting in one role (the Veilig Thuis dev token has two).
async fn client(hub: &TestHub, sector: &str) -> HubClient {
    let mut claims = hub.claims(sector);
    if let Some(first) = claims["roles"].as_array().and_then(|r| r.first()).cloned() {
        claims["roles"] = serde_json::json!([first]);
    }
    hub.client_with_token(sector, hub.token(sector, &claims))
        .await
}

async fn register(
    hub: &TestHub,
    sector: &str,
    bsn: &str,
    household: &[&str],
    consent: Option<&str>,
) -> pb::RegisterInvolvementResponse {
    let mut c = client(hub, sector).await;
    c.register_involvement(pb::RegisterInvolvementRequest {
        subject_bsn: bsn.into(),
        household_bsns: household.iter().map(|s| (*s).to_string()).collect(),
        contact_professional: format!("contact {sector}, 026-0000000"),
        basis: consent.map(|id| pb::Basis {
            legal: None,
            consent_ids: vec![id.into()],
        }),
        ..Default::default()
    })
    .await
    .unwrap()
}

fn plan() -> SafetyPlan {
    SafetyPlan {
        title: "Veiligheidsplan".into(),
        goal: "Iedereen is thuis veilig".into(),
        emergency_contact: "de wijkcoach, 026-0000002".into(),
        agreements: vec![],
    }
}

async fn publish(
    hub: &TestHub,
    c: &mut HubClient,
    author: &str,
    case_id: &str,
    version: u32,
    content: &SafetyPlan,
    consent: &str,
) -> Result<pb::SafetyPlanVersion, ClientError> {
    let o = hub.org(author);
    let sender =
        SenderKeys::from_pkcs8_der(&o.info.oin, &o.info.signing_key_id, &o.signing_pkcs8).unwrap();
    let case = c.get_case(case_id).await.unwrap();
    let mut parties: Vec<String> = case
        .parties
        .iter()
        .map(|p| p.organization_oin.clone())
        .collect();
    parties.sort();
    parties.dedup();
    let keys = c.recipient_keys(&parties).await.unwrap();
    let req = content
        .seal(
            case_id,
            version,
            pb::Basis {
                legal: None,
                consent_ids: vec![consent.into()],
            },
            &sender,
            &keys,
            now(),
        )
        .unwrap();
    c.publish_safety_plan(req).await
}

fn in_days(days: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: now() + days * 86400,
        nanos: 0,
    }
}

#[tokio::test]
async fn ended_involvements_maatregelen_safety_plans_and_notifications_expire() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let w_oin = hub.org("wijkteam").info.oin.clone();
        let gi_oin = hub.org("jeugdbescherming").info.oin.clone();
        let consent = case_consent(&hub, "wijkteam", KID).await;
        let w = register(&hub, "wijkteam", KID, &[BROTHER], Some(&consent))
            .await
            .involvement
            .unwrap()
            .involvement_id;
        let case_id = register(&hub, "jeugdbescherming", KID, &[], Some(&consent))
            .await
            .case
            .unwrap()
            .case_id;
        let mut wijkteam = hub.client("wijkteam").await;
        let mut gi = hub.client("jeugdbescherming").await;
        let mut content = plan();
        content.agreements = vec![Agreement {
            id: "a1".into(),
            who: "De jeugdbeschermer".into(),
            what: "belt moeder elke twee weken".into(),
            by_when: None,
            party_oins: vec![gi_oin.clone()],
            concerns_family: true,
        }];
        publish(
            &hub,
            &mut wijkteam,
            "wijkteam",
            &case_id,
            1,
            &content,
            &consent,
        )
        .await
        .unwrap();
        // An OTS with a planned end, and a machtiging the GI ends itself.
        let ots = gi
            .register_maatregel(pb::RegisterMaatregelRequest {
                subject_bsn: KID.into(),
                kind: pb::MaatregelKind::Ots as i32,
                ends_at: Some(in_days(30)),
                contact_point: "Team Arnhem, 026-1111111".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .maatregel_id;
        let muhp = gi
            .register_maatregel(pb::RegisterMaatregelRequest {
                subject_bsn: KID.into(),
                kind: pb::MaatregelKind::MachtigingUithuisplaatsing as i32,
                contact_point: "Team Arnhem, 026-1111111".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .maatregel_id;
        assert!(wijkteam.has_maatregel(KID).await.unwrap().exists, "{b}");

        // The family's access letter counts every disclosure: matches told, the maatregel
        // answer given and its organisation told, the plan shared, the parties listed.
        let log = entries(&hub).await;
        let kid = log
            .iter()
            .find(|e| e.event == Event::MaatregelRegistered)
            .unwrap()
            .subjects[0]
            .clone();
        let disclosed: Vec<&LogEntry> = log
            .iter()
            .filter(|e| e.outcome == EntryOutcome::Disclosed && e.subjects.contains(&kid))
            .collect();
        for ev in [
            Event::InvolvementMatched,
            Event::MaatregelQueried,
            Event::MaatregelQueryNotified,
            Event::SafetyPlanPublished,
        ] {
            assert!(
                disclosed.iter().any(|e| e.event == ev),
                "{b}: {ev:?} not disclosed"
            );
        }
        let mut fg = hub
            .client_with_token("wijkteam", hub.token("wijkteam", &fg(&hub, "wijkteam")))
            .await;
        let report = fg.subject_access_report(KID).await.unwrap();
        let letter = &report.html_letter;
        assert!(
            letter.contains(&format!(
                "Aantal verstrekkingen: <strong>{}</strong>",
                disclosed.len()
            )),
            "{b}: {} disclosures expected in\n{letter}",
            disclosed.len()
        );
        assert!(letter.contains(&hub.org("jeugdbescherming").info.name));
        assert!(
            letter.contains("register in de signaalhub"),
            "{b}: the answer came from the register"
        );
        assert!(!letter.contains(KID));

        // The wijkteam ends its involvement; the GI its machtiging. retain_until is set from the
        // convenant then; for the OTS already at registration, from its planned end.
        wijkteam.end_involvement(&w).await.unwrap();
        gi.end_maatregel(&muhp).await.unwrap();
        let casus = keep(&hub, "casusafstemming");
        let answer = keep(&hub, "maatregel_afstemming");
        let inv = hub.store.get_involvement(&w).await.unwrap().unwrap();
        assert_eq!(inv.retain_until, Some(inv.ended_at.unwrap() + casus), "{b}");
        let m_ots = hub.store.get_maatregel(&ots).await.unwrap().unwrap();
        assert_eq!(
            m_ots.retain_until,
            Some(m_ots.ends_at.unwrap() + answer),
            "{b}"
        );
        let m_muhp = hub.store.get_maatregel(&muhp).await.unwrap().unwrap();
        assert_eq!(m_muhp.retain_until, Some(m_muhp.ended_at.unwrap() + answer));
        let p1 = hub.store.get_plan(&case_id, 1).await.unwrap().unwrap();
        assert!(
            (p1.retain_until - p1.published_at - casus).abs() <= 5,
            "{b}"
        );
        let notes = hub.sql_count("SELECT COUNT(*) FROM notifications").await;
        assert!(notes >= 4, "{b}: {notes}");
        assert_eq!(
            hub.sql_count("SELECT COUNT(*) FROM notifications WHERE retain_until <= at")
                .await,
            0
        );

        // Nothing has expired yet.
        assert_eq!(sweep(&hub, now(), 10).await.total(), 0, "{b}");

        // Once the last of them expires, everything ended is erased; the GI's running
        // involvement and the parents' consent (kept longer) are not.
        let last_note = hub
            .sql_count("SELECT MAX(retain_until) FROM notifications")
            .await;
        let t = [
            inv.retain_until.unwrap(),
            m_ots.retain_until.unwrap(),
            m_muhp.retain_until.unwrap(),
            p1.retain_until,
            last_note,
        ]
        .into_iter()
        .max()
        .unwrap()
            + 1;
        let r = sweep(&hub, t, 2).await;
        assert_eq!(r.erased["consent"], 0, "{b}");
        assert_eq!(r.erased["involvement"], 1, "{b}");
        assert_eq!(r.erased["maatregel"], 2, "{b}");
        assert_eq!(r.erased["safety_plan"], 1, "{b}");
        assert_eq!(r.erased["notification"], notes as u64, "{b}");
        let log = entries(&hub).await;
        let e = erased(&log, "involvement");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].reference, Some(format!("involvement:{w}")));
        assert_eq!(
            (e[0].actor_oin.as_str(), e[0].subjects.clone()),
            (w_oin.as_str(), vec![kid.clone()])
        );
        assert_eq!(e[0].basis, vec!["retention:casusafstemming"]);
        let e = erased(&log, "maatregel");
        assert_eq!(e.len(), 2);
        assert!(
            e.iter()
                .all(|x| x.subjects == vec![kid.clone()] && x.actor_oin == gi_oin)
        );
        let e = erased(&log, "safety_plan");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].reference, Some(format!("safety_plan:{case_id}:1")));
        assert_eq!(e[0].actor_oin, w_oin);
        assert_eq!(erased(&log, "notification").len(), notes as usize);

        // Tombstones.
        let inv = hub.store.get_involvement(&w).await.unwrap().unwrap();
        assert_eq!(inv.subject.as_str(), "0".repeat(64), "{b}");
        assert!(inv.contact_professional.is_empty() && inv.registered_by.is_empty());
        assert!(inv.basis.is_empty() && inv.facts.gezag_holders.is_empty());
        assert_eq!(inv.case_id.as_deref(), Some(case_id.as_str()));
        assert!(inv.ended_at.is_some());
        let m = hub.store.get_maatregel(&ots).await.unwrap().unwrap();
        assert_eq!(m.subject.as_str(), "0".repeat(64));
        assert!(m.contact_point.is_empty() && m.registered_by.is_empty());
        assert_eq!(m.responsible_oin, gi_oin);
        let p = hub.store.get_plan(&case_id, 1).await.unwrap().unwrap();
        assert!(p.envelope.is_empty() && p.author_professional.is_empty());
        assert_eq!(p.agreements, p1.agreements);
        assert_eq!(p.sealed_to, p1.sealed_to);
        for (sql, n) in [
            (format!("SELECT COUNT(*) FROM involvement_persons WHERE involvement_id = '{w}'"), 0),
            ("SELECT COUNT(*) FROM involvements WHERE erased_at IS NULL".into(), 1),
            ("SELECT COUNT(*) FROM involvements WHERE erased_at IS NOT NULL AND (contact_professional <> '' OR subject_facts LIKE '%ouder%')".into(), 0),
            ("SELECT COUNT(*) FROM maatregelen WHERE erased_at IS NULL OR contact_point <> ''".into(), 0),
            ("SELECT COUNT(*) FROM notifications WHERE erased_at IS NULL OR summary_nl <> '' OR actor_professional <> ''".into(), 0),
            ("SELECT COUNT(*) FROM notifications".into(), notes),
        ] {
            assert_eq!(hub.sql_count(&sql).await, n, "{b}: {sql}");
        }

        // Read paths: no envelope and no read logged; no confirming an erased version; no
        // notification streamed; the maatregelen are gone from the subject's register.
        let size = hub.store.log_size().await.unwrap();
        let got = gi.get_safety_plan(&case_id, 1).await.unwrap();
        assert!(got.envelope.is_none(), "{b}");
        assert_eq!(
            hub.store.log_size().await.unwrap(),
            size,
            "{b}: no read of nothing is logged"
        );
        let e = gi
            .confirm_safety_plan(&case_id, 1, vec![])
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ClientError::Status(s) if s.code() == Code::FailedPrecondition),
            "{b}: {e}"
        );
        let mut s = gi.stream_notifications(0).await.unwrap();
        if let Ok(n) = tokio::time::timeout(Duration::from_millis(1500), s.message()).await {
            panic!("{b}: an erased notification was streamed: {n:?}");
        }
        drop(s);
        assert!(
            gi.list_maatregelen(KID, true).await.unwrap().is_empty(),
            "{b}"
        );
        let e = gi.end_maatregel(&ots).await.unwrap_err();
        assert!(
            matches!(&e, ClientError::Status(s) if s.code() == Code::NotFound),
            "{b}: {e}"
        );
        // The erased involvement never matches again: registering anew, the wijkteam meets only
        // the GI's running involvement.
        let again = register(&hub, "wijkteam", KID, &[BROTHER], Some(&consent)).await;
        assert!(!again.already_registered);
        let parties = again.case.unwrap().parties;
        assert_eq!(parties.len(), 2, "{b}: {parties:?}");
        assert!(parties.iter().all(|p| p.involvement_id != w), "{b}");

        // The log verifies; no BSN anywhere.
        let log = entries(&hub).await;
        assert_eq!(verify(&hub).await, log.len() as u64, "{b}");
        let hay = common::database_text(&hub).await;
        for bsn in [KID, BROTHER] {
            assert!(!hay.contains(bsn), "{b}: a BSN is stored in the clear");
        }
        hub.stop().await;
    }
}
