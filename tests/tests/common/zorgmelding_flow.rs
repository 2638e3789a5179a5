//! The police -> Veilig Thuis -> wijkteam flow's test helpers: the scenario-1 household, sealed
//! fragments, triage criteria and the handover request (seeds 000, 002, 003).
use super::{TestHub, consent_request, now};
use signaalhub_client::envelope;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ClientError, HubClient};
use signaalhub_server::ledger::LogEntry;
use std::time::Duration;
use tokio_stream::StreamExt;

pub const CHILD: &str = "111222333";

pub const SIBLING: &str = "234567892";

pub const MOTHER: &str = "314159265";

pub const FATHER: &str = "271828183";

pub const OTHER: &str = "161803398";

pub const REG: &str = "2026-OOST-000123";

pub const INCIDENT: &[u8] =
    b"Ruzie op straat tussen ex-partners bij overdracht van de kinderen; buren belden 112.";

pub const PERSONS: &[u8] = b"Betrokkenen: moeder (34), vader (36).";

pub const CHILDREN: &[u8] = b"Twee kinderen (4 en 6) waren aanwezig en zagen de ruzie.";

pub fn wpg(reg: &str) -> pb::Basis {
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

pub async fn recipient_key(hub: &TestHub, from: &str, to: &str) -> envelope::RecipientKey {
    let mut c = hub.client(from).await;
    let r = c.get_organization(&hub.org(to).info.oin).await.unwrap();
    let k = r
        .encryption_keys
        .iter()
        .find(|k| k.retired_at.is_none())
        .unwrap();
    envelope::RecipientKey::from_directory(hub.org(to).info.oin.clone(), k).unwrap()
}

pub fn sender(hub: &TestHub, from: &str) -> envelope::SenderKeys {
    let o = hub.org(from);
    envelope::SenderKeys::from_pkcs8_der(&o.info.oin, &o.info.signing_key_id, &o.signing_pkcs8)
        .unwrap()
}

#[allow(clippy::too_many_arguments)]
pub fn seal(
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
        content_digest: Vec::new(), // seal sets it
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
pub async fn fragment(
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

pub async fn incident(
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

pub async fn next(
    s: &mut tonic::Streaming<pb::StreamZorgmeldingenResponse>,
) -> pb::StreamZorgmeldingenResponse {
    tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .expect("a zorgmelding within 10 s")
        .unwrap()
        .unwrap()
}

pub async fn quiet(s: &mut tonic::Streaming<pb::StreamZorgmeldingenResponse>) {
    assert!(
        tokio::time::timeout(Duration::from_millis(700), s.next())
            .await
            .is_err(),
        "no further item expected"
    );
}

/// A Veilig Thuis client acting in one role (the dev token carries two).
pub async fn vt_as(hub: &TestHub, role: &str) -> HubClient {
    let mut claims = hub.claims("veilig_thuis");
    claims["roles"] = serde_json::json!([role]);
    hub.client_with_token("veilig_thuis", hub.token("veilig_thuis", &claims))
        .await
}

pub async fn events(hub: &TestHub) -> Vec<LogEntry> {
    hub.store
        .log_range(0, hub.store.log_size().await.unwrap())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(_, b)| LogEntry::from_bytes(&b))
        .collect()
}

pub fn signing_key(m: &pb::GetOrganizationResponse, kid: &str) -> [u8; 32] {
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
pub async fn quarrel_on_the_street(hub: &TestHub) -> String {
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

pub fn criteria(
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

pub async fn triage(
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
        signal: None,
    })
    .await
}

/// Both parents consent (recorded by Veilig Thuis) to handing the child's case to the wijkteam.
pub async fn family_consent(hub: &TestHub, categories: &[&str]) -> Vec<String> {
    let parents = ["ouder-1", "ouder-2"];
    let req = consent_request(
        CHILD,
        6,
        &parents,
        &parents,
        &[pb::Sector::Wijkteam],
        "overdracht_hulpverlening",
        categories,
    );
    let mut vt = vt_as(hub, "vt_medewerker").await;
    vec![vt.record_consent(req).await.unwrap().consent_id]
}

pub const HANDOVER_CATEGORIES: [&str; 3] = [
    "incidentgegevens",
    "aanwezigheid_kinderen",
    "signalen_huiselijk_geweld",
];

/// Veilig Thuis opens the melding's fragments and re-seals them for the wijkteam.
pub async fn handover_request(
    hub: &TestHub,
    melding: &pb::Zorgmelding,
    handover_id: &str,
    consent_ids: Vec<String>,
) -> pb::HandOverRequest {
    let to = recipient_key(hub, "veilig_thuis", "wijkteam").await;
    handover_request_to(hub, melding, handover_id, consent_ids, &to).await
}

/// [`handover_request`] to `to` (its OIN as the request's recipient, the envelopes sealed to it).
pub async fn handover_request_to(
    hub: &TestHub,
    melding: &pb::Zorgmelding,
    handover_id: &str,
    consent_ids: Vec<String>,
    to: &envelope::RecipientKey,
) -> pb::HandOverRequest {
    let mut vt = hub.client("veilig_thuis").await;
    let dir = vt
        .get_organization(&hub.org("politie").info.oin)
        .await
        .unwrap();
    let categories: Vec<String> = HANDOVER_CATEGORIES.iter().map(|s| s.to_string()).collect();
    let basis = vt_basis("VT-2026-0042", consent_ids);
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
            to,
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
        recipient_oin: to.oin.clone(),
        subject_bsns: vec![CHILD.into()],
        categories,
        basis: Some(basis),
        envelopes,
        veilig_thuis_contact: Some(vt_contact()),
        wijkteam_contact: Some(wijkteam_contact()),
        acting_role: "vt_medewerker".into(),
        signal: None,
        family_letter_language: String::new(),
    }
}

/// Veilig Thuis's basis for a handover: its statutory task with its dossier number, and the
/// family's consents.
pub fn vt_basis(case_reference: &str, consent_ids: Vec<String>) -> pb::Basis {
    pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: "vt_wettelijke_taak".into(),
            evidence: Some(pb::Evidence {
                case_reference: case_reference.into(),
                client_informed: Some(true),
                ..Default::default()
            }),
        }),
        consent_ids,
    }
}

/// Veilig Thuis's contact for the family.
pub fn vt_contact() -> pb::ContactPerson {
    pb::ContactPerson {
        name: "Rianne van Rooijen".into(),
        function: "medewerker Veilig Thuis".into(),
        phone: "0800-2000".into(),
        email: String::new(),
    }
}

/// The wijkteam's contact for the family.
pub fn wijkteam_contact() -> pb::ContactPerson {
    pb::ContactPerson {
        name: "Els Bouwman".into(),
        function: "wijkcoach".into(),
        phone: "026-0000002".into(),
        email: "els@wijkteam.example".into(),
    }
}

/// Scenario 1 up to a triage with criterion 3 (violence witnessed by the children).
pub async fn triaged(hub: &TestHub) -> pb::Zorgmelding {
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
