//! Involvement, case and safety-plan test helpers (seeds 001, 003, 004).
use super::{TestHub, consent_request, now};
use signaalhub_client::envelope::SenderKeys;
use signaalhub_client::involvement::SafetyPlan;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::{ClientError, HubClient};

/// Both parents consent to the case parties (by sector) learning of each other and sharing the
/// safety plan, about `bsn` (9 years old): the parties are its recipients and its disclosers.
pub async fn case_consent(hub: &TestHub, recorder: &str, bsn: &str) -> String {
    let sectors = [
        pb::Sector::Wijkteam,
        pb::Sector::Jeugdbescherming,
        pb::Sector::School,
        pb::Sector::VeiligThuis,
    ];
    let parents = ["ouder-1", "ouder-2"];
    let mut req = consent_request(
        bsn,
        9,
        &parents,
        &parents,
        &sectors,
        "casusafstemming",
        &["betrokkenheid", "veiligheidsafspraken"],
    );
    req.disclosers = req.recipients.clone();
    let mut c = hub.client(recorder).await;
    c.record_consent(req).await.unwrap().consent_id
}

/// The school tells the wijkteam about `bsn` with both parents' consent, and the wijkteam
/// receives it: a ground the hub can check for the wijkteam's involvement without a basis.
pub async fn wijkteam_told_by_school(hub: &TestHub, bsn: &str) {
    use tokio_stream::StreamExt;
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let id = format!(
        "grond-{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let basis = hub.both_parents_consent(bsn).await;
    let req = hub
        .signal(
            "school",
            &["wijkteam"],
            &id,
            b"zorgen over de thuissituatie",
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
            bsn,
            basis,
        )
        .await;
    hub.client("school").await.send_signal(req).await.unwrap();
    let mut inbox = hub.client("wijkteam").await.stream_inbox(0).await.unwrap();
    loop {
        let item = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.next())
            .await
            .expect("the signal within 10 s")
            .unwrap()
            .unwrap();
        if item.signal_id == id {
            break;
        }
    }
}

/// A client of `sector`'s dev professional acting in one role (the Veilig Thuis dev token has two).
pub async fn client(hub: &TestHub, sector: &str) -> HubClient {
    let mut claims = hub.claims(sector);
    if let Some(first) = claims["roles"].as_array().and_then(|r| r.first()).cloned() {
        claims["roles"] = serde_json::json!([first]);
    }
    hub.client_with_token(sector, hub.token(sector, &claims))
        .await
}

pub async fn register(
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

pub fn plan() -> SafetyPlan {
    SafetyPlan {
        title: "Veiligheidsplan".into(),
        goal: "Iedereen is thuis veilig".into(),
        emergency_contact: "de wijkcoach, 026-0000002".into(),
        agreements: vec![],
    }
}

pub async fn publish(
    hub: &TestHub,
    c: &mut HubClient,
    author: &str,
    case_id: &str,
    version: u32,
    content: &SafetyPlan,
    consent: &str,
) -> Result<pb::SafetyPlanVersion, ClientError> {
    let req = plan_request(hub, c, author, case_id, version, content, consent, now()).await;
    c.publish_safety_plan(req).await
}

/// `content` sealed by `author` to the case's parties as version `version`, sealed at
/// `created_at` (unix seconds).
#[allow(clippy::too_many_arguments)]
pub async fn plan_request(
    hub: &TestHub,
    c: &mut HubClient,
    author: &str,
    case_id: &str,
    version: u32,
    content: &SafetyPlan,
    consent: &str,
    created_at: i64,
) -> pb::PublishSafetyPlanRequest {
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
    content
        .seal(
            case_id,
            version,
            pb::Basis {
                legal: None,
                consent_ids: vec![consent.into()],
            },
            &sender,
            &keys,
            created_at,
        )
        .unwrap()
}
