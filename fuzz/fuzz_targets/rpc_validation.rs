//! Field validation of every unary RPC, through the real tonic handlers, in process.
//!
//! Once per process: a dev kit in a fresh temporary folder (SQLite store, sample convenant, the
//! seven sample organisations), the hub built from it with `Hub::build`, the services built as
//! `Hub::serve` builds them, and a few valid calls that leave state (consents, a signal, a
//! zorgmelding, a maatregel) for later inputs to refer to. The valid requests are written into
//! the corpus folder given on the command line as `seed-<rpc>` files, so nothing binary is
//! committed.
//!
//! Per input: byte 0 picks the RPC, byte 1 the caller (sample organisation × {its own roles,
//! `fg`, `key_admin`}), the rest is decoded as that RPC's request (undecodable: skipped). The
//! handler runs with the caller in the request extensions, as the auth layer puts it there.
//! Invariants (a violation panics, which libFuzzer reports):
//! - no panic in the handler;
//! - an error is a well-formed status: not OK / UNKNOWN / INTERNAL (INTERNAL is what a handler
//!   answers on a validation inconsistency), a non-empty message, decodable details;
//! - INVALID_ARGUMENT carries google.rpc.BadRequest with at least one field violation, each
//!   naming a field and saying why; no other code carries field violations;
//! - neither the message, nor the details, nor the metadata of an error holds a BSN of the input
//!   (a 9-digit elfproef-valid number anywhere in the input, or a valid value of a BSN field),
//!   nor any 12 bytes (raw or hex) of an envelope's ciphertext, sealed keys, nonce or signature;
//! - a successful response holds no valid value of the request's BSN fields.
#![no_main]
use libfuzzer_sys::fuzz_target;
use prost::Message;
use signaalhub_client::envelope::{RecipientKey, RecipientSecrets, SenderKeys, seal};
use signaalhub_proto::pb;
use signaalhub_server::api;
use signaalhub_server::auth::{Caller, Professional};
use signaalhub_server::ids::{Bsn, Oin};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

use pb::consent_service_server::ConsentService;
use pb::directory_service_server::DirectoryService;
use pb::disclosure_log_service_server::DisclosureLogService;
use pb::involvement_service_server::InvolvementService;
use pb::maatregel_service_server::MaatregelService;
use pb::policy_service_server::PolicyService;
use pb::safety_plan_service_server::SafetyPlanService;
use pb::signal_service_server::SignalService;
use pb::triage_service_server::TriageService;
use pb::zorgmelding_service_server::ZorgmeldingService;

/// The unary RPCs, in the order byte 0 picks them (streams are left out: they never end).
const RPCS: [&str; 40] = [
    "SendSignal",
    "AckSignal",
    "GetSignal",
    "WithdrawSignal",
    "CheckBasis",
    "RecordConsent",
    "WithdrawConsent",
    "ListConsents",
    "WhoAmI",
    "ListOrganizations",
    "GetOrganization",
    "PublishKey",
    "UpdateOwnProfile",
    "SubmitFragment",
    "CompleteZorgmelding",
    "GetZorgmelding",
    "RecordTriage",
    "GetTriage",
    "RecordFamilyDeclined",
    "HandOver",
    "ListHandovers",
    "GetHandover",
    "RegisterMaatregel",
    "EndMaatregel",
    "HasMaatregel",
    "ListMaatregelen",
    "RegisterInvolvement",
    "EndInvolvement",
    "ListInvolvedParties",
    "GetCase",
    "ProposeCoordinator",
    "RespondToCoordinatorProposal",
    "PublishSafetyPlan",
    "GetSafetyPlan",
    "ConfirmSafetyPlan",
    "ListDisclosures",
    "GetCheckpoint",
    "GetInclusionProof",
    "GetConsistencyProof",
    "SubjectAccessReport",
];

/// What of a request must never come back in an error: its BSN fields and envelope contents.
trait Sensitive {
    fn bsns(&self) -> Vec<&str> {
        Vec::new()
    }
    fn envelopes(&self) -> Vec<&pb::Envelope> {
        Vec::new()
    }
}

macro_rules! not_sensitive {
    ($($t:ty),+ $(,)?) => { $(impl Sensitive for $t {})+ };
}
not_sensitive!(
    pb::AckSignalRequest,
    pb::GetSignalRequest,
    pb::WithdrawSignalRequest,
    pb::WithdrawConsentRequest,
    pb::WhoAmIRequest,
    pb::ListOrganizationsRequest,
    pb::GetOrganizationRequest,
    pb::PublishKeyRequest,
    pb::UpdateOwnProfileRequest,
    pb::CompleteZorgmeldingRequest,
    pb::GetZorgmeldingRequest,
    pb::RecordTriageRequest,
    pb::GetTriageRequest,
    pb::RecordFamilyDeclinedRequest,
    pb::ListHandoversRequest,
    pb::GetHandoverRequest,
    pb::EndMaatregelRequest,
    pb::EndInvolvementRequest,
    pb::GetCaseRequest,
    pb::ProposeCoordinatorRequest,
    pb::RespondToCoordinatorProposalRequest,
    pb::GetSafetyPlanRequest,
    pb::ConfirmSafetyPlanRequest,
    pb::GetCheckpointRequest,
    pb::GetInclusionProofRequest,
    pb::GetConsistencyProofRequest,
);

macro_rules! one_bsn {
    ($($t:ty),+ $(,)?) => { $(impl Sensitive for $t {
        fn bsns(&self) -> Vec<&str> { vec![self.subject_bsn.as_str()] }
    })+ };
}
one_bsn!(
    pb::CheckBasisRequest,
    pb::RecordConsentRequest,
    pb::ListConsentsRequest,
    pb::RegisterMaatregelRequest,
    pb::HasMaatregelRequest,
    pb::ListMaatregelenRequest,
    pb::ListInvolvedPartiesRequest,
    pb::SubjectAccessReportRequest,
);

impl Sensitive for pb::SendSignalRequest {
    fn bsns(&self) -> Vec<&str> {
        self.subject_bsns.iter().map(String::as_str).collect()
    }
    fn envelopes(&self) -> Vec<&pb::Envelope> {
        self.envelope.iter().collect()
    }
}
impl Sensitive for pb::SubmitFragmentRequest {
    fn bsns(&self) -> Vec<&str> {
        self.subject_bsns.iter().map(String::as_str).collect()
    }
    fn envelopes(&self) -> Vec<&pb::Envelope> {
        self.envelope.iter().collect()
    }
}
impl Sensitive for pb::HandOverRequest {
    fn bsns(&self) -> Vec<&str> {
        self.subject_bsns.iter().map(String::as_str).collect()
    }
    fn envelopes(&self) -> Vec<&pb::Envelope> {
        self.envelopes.iter().collect()
    }
}
impl Sensitive for pb::RegisterInvolvementRequest {
    fn bsns(&self) -> Vec<&str> {
        std::iter::once(self.subject_bsn.as_str())
            .chain(self.household_bsns.iter().map(String::as_str))
            .collect()
    }
}
impl Sensitive for pb::PublishSafetyPlanRequest {
    fn envelopes(&self) -> Vec<&pb::Envelope> {
        self.envelope.iter().collect()
    }
}
impl Sensitive for pb::ListDisclosuresRequest {
    fn bsns(&self) -> Vec<&str> {
        match &self.scope {
            Some(pb::list_disclosures_request::Scope::SubjectBsn(b)) => vec![b.as_str()],
            _ => Vec::new(),
        }
    }
}

/// The services, built as `Hub::serve` builds them.
struct Apis {
    signals: api::signals::SignalApi,
    policy: api::policy::PolicyApi,
    consent: api::consent::ConsentApi,
    directory: api::directory::DirectoryApi,
    zorgmelding: api::zorgmelding::ZorgmeldingApi,
    triage: api::triage::TriageApi,
    maatregel: api::maatregel::MaatregelApi,
    involvement: api::involvement::InvolvementApi,
    safety_plan: api::safety_plan::SafetyPlanApi,
    log: api::log::LogApi,
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    apis: Apis,
    /// Sample organisation × {own roles, fg, key_admin}.
    callers: Vec<Caller>,
}

/// The outcome of one call: the error, or the encoded response.
type Outcome = Result<Vec<u8>, Status>;

/// The checked facts of one decoded request.
struct Probe {
    bsn_fields: Vec<String>,
    payloads: Vec<Vec<u8>>,
}

fn probe<T: Sensitive>(r: &T) -> Probe {
    let mut payloads = Vec::new();
    for e in r.envelopes() {
        payloads.push(e.ciphertext.clone());
        payloads.push(e.nonce.clone());
        payloads.push(e.signature.clone());
        for k in &e.sealed_keys {
            payloads.push(k.enc.clone());
            payloads.push(k.sealed_data_key.clone());
        }
    }
    Probe {
        bsn_fields: r.bsns().into_iter().map(str::to_owned).collect(),
        payloads,
    }
}

macro_rules! dispatch {
    ($fx:expr, $rpc:expr, $caller:expr, $body:expr, $( $i:literal => $api:ident . $m:ident ( $t:ty ) ),+ $(,)?) => {
        match $rpc {
            $( $i => {
                let Ok(msg) = <$t>::decode($body) else { return None };
                let p = probe(&msg);
                let mut req = Request::new(msg);
                req.extensions_mut().insert($caller);
                let out = $fx.apis.$api.$m(req).await.map(|r| r.into_inner().encode_to_vec());
                Some((p, out))
            } )+
            _ => None,
        }
    };
}

async fn call(fx: &Fixture, rpc: usize, caller: Caller, body: &[u8]) -> Option<(Probe, Outcome)> {
    dispatch!(fx, rpc, caller, body,
        0 => signals.send_signal(pb::SendSignalRequest),
        1 => signals.ack_signal(pb::AckSignalRequest),
        2 => signals.get_signal(pb::GetSignalRequest),
        3 => signals.withdraw_signal(pb::WithdrawSignalRequest),
        4 => policy.check_basis(pb::CheckBasisRequest),
        5 => consent.record_consent(pb::RecordConsentRequest),
        6 => consent.withdraw_consent(pb::WithdrawConsentRequest),
        7 => consent.list_consents(pb::ListConsentsRequest),
        8 => directory.who_am_i(pb::WhoAmIRequest),
        9 => directory.list_organizations(pb::ListOrganizationsRequest),
        10 => directory.get_organization(pb::GetOrganizationRequest),
        11 => directory.publish_key(pb::PublishKeyRequest),
        12 => directory.update_own_profile(pb::UpdateOwnProfileRequest),
        13 => zorgmelding.submit_fragment(pb::SubmitFragmentRequest),
        14 => zorgmelding.complete_zorgmelding(pb::CompleteZorgmeldingRequest),
        15 => zorgmelding.get_zorgmelding(pb::GetZorgmeldingRequest),
        16 => triage.record_triage(pb::RecordTriageRequest),
        17 => triage.get_triage(pb::GetTriageRequest),
        18 => triage.record_family_declined(pb::RecordFamilyDeclinedRequest),
        19 => triage.hand_over(pb::HandOverRequest),
        20 => triage.list_handovers(pb::ListHandoversRequest),
        21 => triage.get_handover(pb::GetHandoverRequest),
        22 => maatregel.register_maatregel(pb::RegisterMaatregelRequest),
        23 => maatregel.end_maatregel(pb::EndMaatregelRequest),
        24 => maatregel.has_maatregel(pb::HasMaatregelRequest),
        25 => maatregel.list_maatregelen(pb::ListMaatregelenRequest),
        26 => involvement.register_involvement(pb::RegisterInvolvementRequest),
        27 => involvement.end_involvement(pb::EndInvolvementRequest),
        28 => involvement.list_involved_parties(pb::ListInvolvedPartiesRequest),
        29 => involvement.get_case(pb::GetCaseRequest),
        30 => involvement.propose_coordinator(pb::ProposeCoordinatorRequest),
        31 => involvement.respond_to_coordinator_proposal(pb::RespondToCoordinatorProposalRequest),
        32 => safety_plan.publish_safety_plan(pb::PublishSafetyPlanRequest),
        33 => safety_plan.get_safety_plan(pb::GetSafetyPlanRequest),
        34 => safety_plan.confirm_safety_plan(pb::ConfirmSafetyPlanRequest),
        35 => log.list_disclosures(pb::ListDisclosuresRequest),
        36 => log.get_checkpoint(pb::GetCheckpointRequest),
        37 => log.get_inclusion_proof(pb::GetInclusionProofRequest),
        38 => log.get_consistency_proof(pb::GetConsistencyProofRequest),
        39 => log.subject_access_report(pb::SubjectAccessReportRequest),
    )
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let dir = std::env::temp_dir().join(format!("signaalhub-fuzz-rpc-{}", std::process::id()));
        let (apis, callers) = rt.block_on(build(&dir));
        let fx = Fixture { rt, apis, callers };
        let seeds = fx.rt.block_on(seed(&fx, &dir));
        if let Some(corpus) = corpus_dir() {
            for (name, bytes) in seeds {
                // Best effort: a read-only corpus still fuzzes, only without fresh seeds.
                let _ = std::fs::write(corpus.join(format!("seed-{name}")), bytes);
            }
        }
        fx
    })
}

/// The first corpus folder on the command line (cargo fuzz passes `corpus/<target>`).
fn corpus_dir() -> Option<PathBuf> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .find(|p| p.is_dir())
}

async fn build(dir: &std::path::Path) -> (Apis, Vec<Caller>) {
    use signaalhub_server::{Hub, config::Config, devkit, store::group::SignalCommitter};
    devkit::init(dir, true).await.expect("dev kit");
    let config = Config::load(&dir.join("hub.toml"), |_| None).expect("dev kit configuration");
    let hub = Hub::build(config.clone())
        .await
        .expect("hub from the dev kit");
    let ctx = signaalhub_server::flows::Ctx {
        store: hub.store().clone(),
        signals: SignalCommitter::new(
            hub.store().clone(),
            config.commit.group_commit,
            config.commit.max_batch,
        ),
        policy: Arc::clone(hub.policy()),
        pseudonymizer: hub.pseudonymizer().clone(),
        directory: Arc::clone(hub.directory()),
        token_leeway_secs: config.auth.leeway_secs as i64,
    };
    // Never stopped: the process ends when libFuzzer does.
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    std::mem::forget(stop_tx);
    // The log keeper integrates pending entries while inputs run, so the log RPCs see a growing
    // tree (the task runs whenever a later input blocks on the runtime).
    let _ = hub.ledger().spawn(
        std::time::Duration::from_millis(config.log.integrate_ms),
        stop.clone(),
    );
    let wake = Arc::new(tokio::sync::Notify::new());
    let apis = Apis {
        signals: api::signals::SignalApi::new(ctx.clone(), Arc::clone(&wake), stop.clone()),
        policy: api::policy::PolicyApi::new(ctx.clone()),
        consent: api::consent::ConsentApi::new(ctx.clone()),
        directory: api::directory::DirectoryApi::new(ctx.clone()),
        zorgmelding: api::zorgmelding::ZorgmeldingApi::new(ctx.clone(), Arc::clone(&wake), stop),
        triage: api::triage::TriageApi::new(ctx.clone()),
        maatregel: api::maatregel::MaatregelApi::new(ctx.clone(), Arc::clone(&wake)),
        involvement: api::involvement::InvolvementApi::new(ctx.clone(), Arc::clone(&wake)),
        safety_plan: api::safety_plan::SafetyPlanApi::new(ctx.clone(), Arc::clone(&wake)),
        log: api::log::LogApi::new(ctx, Arc::clone(hub.ledger())),
    };
    let snapshot = hub.directory().snapshot();
    let expires_at = api::ctx::now() + 365 * 86400;
    let mut callers = Vec::new();
    for org in devkit::sample_orgs() {
        let oin: Oin = org.oin.parse().expect("sample OIN");
        let entry = snapshot
            .orgs
            .get(&oin)
            .expect("sample organisation in the directory");
        let dashed = org.sector.replace('_', "-");
        for (id, roles) in [
            (org.professional.clone(), org.roles.clone()),
            (format!("dev-fg-{dashed}"), vec!["fg".to_owned()]),
            (format!("dev-admin-{dashed}"), vec!["key_admin".to_owned()]),
        ] {
            callers.push(Caller {
                org: Arc::clone(&entry.org),
                professional: Professional {
                    id,
                    roles,
                    expires_at,
                },
            });
        }
    }
    (apis, callers)
}

const CHILD: &str = "111222333";
const PARENT: &str = "123456782";

fn caller_index(sector: &str, variant: usize) -> u8 {
    let i = signaalhub_server::devkit::sample_orgs()
        .iter()
        .position(|o| o.sector == sector)
        .expect("sample sector");
    (i * 3 + variant) as u8
}

fn oin(sector: &str) -> String {
    signaalhub_server::devkit::sample_orgs()
        .into_iter()
        .find(|o| o.sector == sector)
        .map(|o| o.oin)
        .expect("sample sector")
}

fn ts(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

/// An envelope from `from` to `to`, sealed with the kit's keys as client-lib seals it.
fn sealed(
    dir: &std::path::Path,
    from: &str,
    to: &str,
    binding: pb::EnvelopeBinding,
) -> Option<pb::Envelope> {
    let orgs = signaalhub_server::devkit::sample_orgs();
    let f = orgs.iter().find(|o| o.sector == from)?;
    let t = orgs.iter().find(|o| o.sector == to)?;
    let pem = std::fs::read_to_string(dir.join("orgs").join(from).join("signing-key.pem")).ok()?;
    let sender = SenderKeys::from_pem(&f.oin, &f.signing_key_id, &pem).ok()?;
    let pem = std::fs::read_to_string(dir.join("orgs").join(to).join("encryption-key.pem")).ok()?;
    let secrets = RecipientSecrets::from_pem(&t.oin, &t.encryption_key_id, &pem).ok()?;
    let recipient = RecipientKey {
        oin: t.oin.clone(),
        key_id: t.encryption_key_id.clone(),
        public_key: secrets.public_key(&t.encryption_key_id)?,
    };
    seal(
        b"zorgen over de thuissituatie (fuzz seed)",
        binding,
        &sender,
        &[recipient],
    )
    .ok()
}

/// Runs valid requests (so that later inputs find consents, a signal, a zorgmelding, a maatregel
/// and a case) and returns them as seed inputs.
async fn seed(fx: &Fixture, dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    let mut run = async |rpc: usize, caller: u8, body: Vec<u8>| -> Option<Vec<u8>> {
        let mut input = vec![rpc as u8, caller];
        input.extend_from_slice(&body);
        seeds.push((format!("{:02}-{}-{}", rpc, RPCS[rpc], seeds.len()), input));
        let c = fx
            .callers
            .get(usize::from(caller) % fx.callers.len())?
            .clone();
        call(fx, rpc, c, &body).await.and_then(|(_, out)| out.ok())
    };
    let now = api::ctx::now();
    let school = caller_index("school", 0);
    let wijkteam = caller_index("wijkteam", 0);
    let politie = caller_index("politie", 0);
    let vt = caller_index("veilig_thuis", 0);
    let jb = caller_index("jeugdbescherming", 0);
    let facts = Some(pb::SubjectFacts {
        age_years: Some(9),
        age_band: 0,
        gezag_holders: vec!["ouder-1".into(), "ouder-2".into()],
    });
    let consent = |purpose: &str, category: &str, sector: pb::Sector, parent: &str| {
        pb::RecordConsentRequest {
            subject_bsn: CHILD.into(),
            subject: facts.clone(),
            givers: vec![pb::ConsentGiver {
                person: parent.into(),
                capacity: pb::GiverCapacity::GezagHolder as i32,
            }],
            recipients: vec![pb::ConsentRecipient {
                recipient: Some(pb::consent_recipient::Recipient::Sector(sector as i32)),
            }],
            purposes: vec![purpose.into()],
            categories: vec![category.into()],
            valid_until: ts(now + 180 * 86400),
            evidence_reference: "sha256:3f1d".into(),
            ..Default::default()
        }
    };
    let mut consent_ids = Vec::new();
    for parent in ["ouder-1", "ouder-2"] {
        let req = consent(
            "vroegtijdige_ondersteuning",
            "zorgen_thuissituatie",
            pb::Sector::Wijkteam,
            parent,
        );
        if let Some(r) = run(5, school, req.encode_to_vec()).await
            && let Ok(r) = pb::RecordConsentResponse::decode(r.as_slice())
            && let Some(c) = r.consent
        {
            consent_ids.push(c.consent_id);
        }
    }
    let basis = pb::Basis {
        legal: None,
        consent_ids: consent_ids.clone(),
    };
    let binding = pb::EnvelopeBinding {
        signal_id: "signaal-1".into(),
        purpose: "vroegtijdige_ondersteuning".into(),
        categories: vec!["zorgen_thuissituatie".into()],
        basis_reference: signaalhub_proto::basis_reference(&basis),
        created_at_unix: now,
        content_digest: Vec::new(), // seal sets it
    };
    let send = pb::SendSignalRequest {
        signal_id: "signaal-1".into(),
        envelope: sealed(dir, "school", "wijkteam", binding),
        recipient_oins: vec![oin("wijkteam")],
        subject_bsns: vec![CHILD.into()],
        purpose: "vroegtijdige_ondersteuning".into(),
        categories: vec!["zorgen_thuissituatie".into()],
        urgency: pb::Urgency::Normal as i32,
        basis: Some(basis.clone()),
        subject: facts.clone(),
        ..Default::default()
    };
    run(0, school, send.encode_to_vec()).await;
    let check = pb::CheckBasisRequest {
        recipient_oin: oin("wijkteam"),
        purpose: "vroegtijdige_ondersteuning".into(),
        categories: vec!["zorgen_thuissituatie".into()],
        subject_bsn: CHILD.into(),
        subject: facts.clone(),
        basis: Some(basis.clone()),
        ..Default::default()
    };
    run(4, school, check.encode_to_vec()).await;
    let get = pb::GetSignalRequest {
        sender_oin: oin("school"),
        signal_id: "signaal-1".into(),
    };
    run(2, wijkteam, get.encode_to_vec()).await;
    run(2, school, get.encode_to_vec()).await;
    run(
        1,
        wijkteam,
        pb::AckSignalRequest {
            sender_oin: oin("school"),
            signal_id: "signaal-1".into(),
        }
        .encode_to_vec(),
    )
    .await;
    run(
        7,
        school,
        pb::ListConsentsRequest {
            subject_bsn: CHILD.into(),
            include_inactive: true,
        }
        .encode_to_vec(),
    )
    .await;

    // Police zorgmelding to Veilig Thuis, triage, handover.
    let zm_basis = pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: "wpg_zorgmelding".into(),
            evidence: Some(pb::Evidence {
                registration_number: "PL0600-2026123456".into(),
                ..Default::default()
            }),
        }),
        consent_ids: vec![],
    };
    let zm_binding = pb::EnvelopeBinding {
        signal_id: "fragment-1".into(),
        purpose: "zorgmelding_politie".into(),
        categories: vec!["incidentgegevens".into()],
        basis_reference: signaalhub_proto::basis_reference(&zm_basis),
        created_at_unix: now,
        content_digest: Vec::new(), // seal sets it
    };
    let fragment = pb::SubmitFragmentRequest {
        registration_number: "PL0600-2026123456".into(),
        fragment_id: "fragment-1".into(),
        kind: pb::FragmentKind::Incident as i32,
        recipient_oin: oin("veilig_thuis"),
        subject_bsns: vec![CHILD.into(), PARENT.into()],
        categories: vec!["incidentgegevens".into()],
        basis: Some(zm_basis),
        envelope: sealed(dir, "politie", "veilig_thuis", zm_binding),
        acting_role: String::new(),
    };
    run(13, politie, fragment.encode_to_vec()).await;
    let mut zorgmelding_id = String::new();
    if let Some(r) = run(
        14,
        politie,
        pb::CompleteZorgmeldingRequest {
            registration_number: "PL0600-2026123456".into(),
            acting_role: String::new(),
        }
        .encode_to_vec(),
    )
    .await
        && let Ok(r) = pb::CompleteZorgmeldingResponse::decode(r.as_slice())
        && let Some(z) = r.zorgmelding
    {
        zorgmelding_id = z.zorgmelding_id;
    }
    run(
        15,
        vt,
        pb::GetZorgmeldingRequest {
            zorgmelding_id: zorgmelding_id.clone(),
            registration_number: String::new(),
        }
        .encode_to_vec(),
    )
    .await;
    let triage = pb::RecordTriageRequest {
        zorgmelding_id: zorgmelding_id.clone(),
        criteria: Some(pb::ArnhemCriteria {
            physical_abuse_or_severe_violence: pb::CriterionAnswer::No as i32,
            sexual_abuse: pb::CriterionAnswer::No as i32,
            violence_witnessed_by_children: pb::CriterionAnswer::Yes as i32,
            safety_conflict: pb::SafetyConflictAnswer::No as i32,
            open_to_help: pb::OpenToHelpAnswer::Open as i32,
            stacked_reports: pb::CriterionAnswer::No as i32,
            mutual_accusations: pb::CriterionAnswer::No as i32,
            addiction: pb::CriterionAnswer::Unknown as i32,
        }),
        acute: false,
        case_reference: "VT-2026-0042".into(),
        acting_role: "triagist".into(),
    };
    run(16, vt, triage.encode_to_vec()).await;
    run(
        17,
        vt,
        pb::GetTriageRequest {
            zorgmelding_id: zorgmelding_id.clone(),
        }
        .encode_to_vec(),
    )
    .await;
    let ho_basis = pb::Basis {
        legal: Some(pb::LegalBasis {
            basis: "vt_wettelijke_taak".into(),
            evidence: Some(pb::Evidence {
                case_reference: "VT-2026-0042".into(),
                client_informed: Some(true),
                ..Default::default()
            }),
        }),
        consent_ids: vec![],
    };
    let handover = pb::HandOverRequest {
        handover_id: "overdracht-1".into(),
        zorgmelding_id: zorgmelding_id.clone(),
        recipient_oin: oin("wijkteam"),
        subject_bsns: vec![CHILD.into()],
        categories: vec!["melding_samenvatting".into()],
        basis: Some(ho_basis),
        envelopes: vec![],
        veilig_thuis_contact: Some(pb::ContactPerson {
            name: "J. de Vries".into(),
            function: "triagist".into(),
            phone: "0800-2000".into(),
            email: String::new(),
        }),
        wijkteam_contact: None,
        acting_role: "vt_medewerker".into(),
    };
    run(19, vt, handover.encode_to_vec()).await;
    run(20, wijkteam, pb::ListHandoversRequest {}.encode_to_vec()).await;
    run(
        21,
        wijkteam,
        pb::GetHandoverRequest {
            sender_oin: oin("veilig_thuis"),
            handover_id: "overdracht-1".into(),
        }
        .encode_to_vec(),
    )
    .await;
    run(
        18,
        vt,
        pb::RecordFamilyDeclinedRequest {
            zorgmelding_id: zorgmelding_id.clone(),
            declined_by: "ouder-1".into(),
            acting_role: "vt_medewerker".into(),
        }
        .encode_to_vec(),
    )
    .await;

    // Maatregel and involvement.
    let maatregel = pb::RegisterMaatregelRequest {
        subject_bsn: CHILD.into(),
        kind: pb::MaatregelKind::Ots as i32,
        starts_at: ts(now - 86400),
        ends_at: ts(now + 365 * 86400),
        responsible_oin: oin("jeugdbescherming"),
        contact_point: "026-0000003".into(),
        acting_role: String::new(),
    };
    let mut maatregel_id = String::new();
    if let Some(r) = run(22, jb, maatregel.encode_to_vec()).await
        && let Ok(r) = pb::RegisterMaatregelResponse::decode(r.as_slice())
        && let Some(m) = r.maatregel
    {
        maatregel_id = m.maatregel_id;
    }
    let inv_consents: Vec<String> = {
        let mut ids = Vec::new();
        for parent in ["ouder-1", "ouder-2"] {
            let req = consent(
                "casusafstemming",
                "betrokkenheid",
                pb::Sector::Jeugdbescherming,
                parent,
            );
            if let Some(r) = run(5, wijkteam, req.encode_to_vec()).await
                && let Ok(r) = pb::RecordConsentResponse::decode(r.as_slice())
                && let Some(c) = r.consent
            {
                ids.push(c.consent_id);
            }
        }
        ids
    };
    let register = pb::RegisterInvolvementRequest {
        subject_bsn: CHILD.into(),
        household_bsns: vec![PARENT.into()],
        contact_professional: "wijkcoach Oost".into(),
        started_at: ts(now - 3600),
        basis: Some(pb::Basis {
            legal: None,
            consent_ids: inv_consents,
        }),
        subject: facts.clone(),
        acting_role: String::new(),
    };
    let mut involvement_id = String::new();
    let mut case_id = String::new();
    if let Some(r) = run(26, wijkteam, register.encode_to_vec()).await
        && let Ok(r) = pb::RegisterInvolvementResponse::decode(r.as_slice())
        && let Some(i) = r.involvement
    {
        involvement_id = i.involvement_id;
        case_id = i.case_id;
    }
    run(
        24,
        wijkteam,
        pb::HasMaatregelRequest {
            subject_bsn: CHILD.into(),
            acting_role: String::new(),
        }
        .encode_to_vec(),
    )
    .await;
    run(
        25,
        jb,
        pb::ListMaatregelenRequest {
            subject_bsn: CHILD.into(),
            include_ended: true,
            acting_role: String::new(),
        }
        .encode_to_vec(),
    )
    .await;
    run(
        28,
        wijkteam,
        pb::ListInvolvedPartiesRequest {
            subject_bsn: CHILD.into(),
            acting_role: String::new(),
        }
        .encode_to_vec(),
    )
    .await;
    run(
        29,
        wijkteam,
        pb::GetCaseRequest {
            case_id: case_id.clone(),
            acting_role: String::new(),
        }
        .encode_to_vec(),
    )
    .await;
    run(
        30,
        wijkteam,
        pb::ProposeCoordinatorRequest {
            case_id: case_id.clone(),
            proposed_oin: oin("wijkteam"),
            acting_role: String::new(),
        }
        .encode_to_vec(),
    )
    .await;
    run(
        31,
        wijkteam,
        pb::RespondToCoordinatorProposalRequest {
            proposal_id: "p_00".into(),
            accept: true,
            acting_role: String::new(),
        }
        .encode_to_vec(),
    )
    .await;
    let plan = pb::PublishSafetyPlanRequest {
        case_id: case_id.clone(),
        version: 1,
        envelope: sealed(
            dir,
            "wijkteam",
            "jeugdbescherming",
            pb::EnvelopeBinding {
                signal_id: format!("{case_id}.v1"),
                purpose: "casusafstemming".into(),
                categories: vec!["veiligheidsafspraken".into()],
                basis_reference: signaalhub_proto::basis_reference(&pb::Basis::default()),
                created_at_unix: now,
                content_digest: Vec::new(), // seal sets it
            },
        ),
        agreements: vec![pb::AgreementMeta {
            agreement_id: "a1".into(),
            party_oins: vec![oin("wijkteam")],
            concerns_family: true,
            confirmations: vec![],
        }],
        basis: Some(pb::Basis::default()),
        subject: facts.clone(),
        acting_role: String::new(),
    };
    run(32, wijkteam, plan.encode_to_vec()).await;
    run(
        33,
        wijkteam,
        pb::GetSafetyPlanRequest {
            case_id: case_id.clone(),
            version: 1,
            acting_role: String::new(),
        }
        .encode_to_vec(),
    )
    .await;
    run(
        34,
        wijkteam,
        pb::ConfirmSafetyPlanRequest {
            case_id: case_id.clone(),
            version: 1,
            agreement_ids: vec!["a1".into()],
            acting_role: String::new(),
        }
        .encode_to_vec(),
    )
    .await;
    run(
        27,
        wijkteam,
        pb::EndInvolvementRequest {
            involvement_id,
            acting_role: String::new(),
        }
        .encode_to_vec(),
    )
    .await;
    run(
        23,
        jb,
        pb::EndMaatregelRequest {
            maatregel_id,
            ended_at: ts(now),
            acting_role: String::new(),
        }
        .encode_to_vec(),
    )
    .await;

    // Directory.
    run(8, school, pb::WhoAmIRequest {}.encode_to_vec()).await;
    run(
        9,
        school,
        pb::ListOrganizationsRequest {
            sector: pb::Sector::Wijkteam as i32,
            region: "gelderland-midden".into(),
            page_size: 10,
            ..Default::default()
        }
        .encode_to_vec(),
    )
    .await;
    run(
        10,
        school,
        pb::GetOrganizationRequest {
            oin: oin("wijkteam"),
        }
        .encode_to_vec(),
    )
    .await;
    run(
        12,
        school,
        pb::UpdateOwnProfileRequest {
            region: "gelderland-midden".into(),
            expertise: vec!["onderwijs".into()],
            contact_point: "ib@regenboog.dev.example".into(),
        }
        .encode_to_vec(),
    )
    .await;
    run(
        11,
        caller_index("school", 2),
        pb::PublishKeyRequest {
            usage: pb::KeyUsage::Signing as i32,
            key_id: "school-sig-2".into(),
            public_key: vec![7u8; 32],
        }
        .encode_to_vec(),
    )
    .await;

    // The disclosure log (as the privacy officer, fg).
    let fg = caller_index("school", 1);
    run(
        35,
        fg,
        pb::ListDisclosuresRequest {
            scope: Some(pb::list_disclosures_request::Scope::OwnOrganization(true)),
            after_index: 0,
            page_size: 10,
        }
        .encode_to_vec(),
    )
    .await;
    run(
        35,
        fg,
        pb::ListDisclosuresRequest {
            scope: Some(pb::list_disclosures_request::Scope::SubjectBsn(
                CHILD.into(),
            )),
            after_index: 0,
            page_size: 10,
        }
        .encode_to_vec(),
    )
    .await;
    run(36, school, pb::GetCheckpointRequest {}.encode_to_vec()).await;
    run(
        37,
        school,
        pb::GetInclusionProofRequest {
            index: 0,
            tree_size: 1,
        }
        .encode_to_vec(),
    )
    .await;
    run(
        38,
        school,
        pb::GetConsistencyProofRequest {
            old_size: 1,
            new_size: 2,
        }
        .encode_to_vec(),
    )
    .await;
    run(
        39,
        fg,
        pb::SubjectAccessReportRequest {
            subject_bsn: CHILD.into(),
            ..Default::default()
        }
        .encode_to_vec(),
    )
    .await;
    // Withdrawals last, so the state above stays for the fuzzer.
    run(
        3,
        school,
        pb::WithdrawSignalRequest {
            signal_id: "signaal-1".into(),
        }
        .encode_to_vec(),
    )
    .await;
    if let Some(id) = consent_ids.first() {
        run(
            6,
            school,
            pb::WithdrawConsentRequest {
                consent_id: id.clone(),
                withdrawn_by: "ouder-1".into(),
            }
            .encode_to_vec(),
        )
        .await;
    }
    seeds
}

/// Maximal runs of ASCII digits in `bytes`.
fn digit_runs(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|b| !b.is_ascii_digit())
        .filter(|r| !r.is_empty())
}

/// The BSNs an input holds: every 9-digit elfproef-valid run anywhere in it, and every valid
/// value of a BSN field.
fn input_bsns(data: &[u8], p: &Probe) -> HashSet<Vec<u8>> {
    let mut out: HashSet<Vec<u8>> = digit_runs(data)
        .filter(|r| r.len() == 9)
        .filter(|r| std::str::from_utf8(r).is_ok_and(|s| s.parse::<Bsn>().is_ok()))
        .map(<[u8]>::to_vec)
        .collect();
    out.extend(
        p.bsn_fields
            .iter()
            .filter(|b| b.parse::<Bsn>().is_ok())
            .map(|b| b.as_bytes().to_vec()),
    );
    out
}

fn leaks_bsn(text: &[u8], bsns: &HashSet<Vec<u8>>) -> Option<String> {
    digit_runs(text)
        .find(|r| bsns.contains(*r))
        .map(|r| String::from_utf8_lossy(r).into_owned())
}

const WINDOW: usize = 12;

/// Whether `text` holds 12 consecutive bytes of a payload, raw or hex encoded. Only windows
/// with a byte outside printable ASCII count: libFuzzer copies text between fields, so printable
/// envelope bytes may equal text the status rightly echoes (an OIN, a basis reference);
/// ciphertext, keys and signatures are binary.
fn leaks_payload(text: &[u8], payloads: &[Vec<u8>]) -> bool {
    if payloads.iter().all(|p| p.len() < WINDOW) {
        return false;
    }
    let raw: HashSet<&[u8]> = text.windows(WINDOW).collect();
    let lower = text.to_ascii_lowercase();
    let hexed: HashSet<&[u8]> = lower.windows(2 * WINDOW).collect();
    payloads.iter().filter(|p| p.len() >= WINDOW).any(|p| {
        let hexp = hex::encode(p);
        p.windows(WINDOW).enumerate().any(|(i, w)| {
            !w.iter().all(|b| (b' '..=b'~').contains(b))
                && (raw.contains(w)
                    || hexp
                        .as_bytes()
                        .get(2 * i..2 * (i + WINDOW))
                        .is_some_and(|h| hexed.contains(h)))
        })
    })
}

fn check(rpc: &str, data: &[u8], p: &Probe, out: &Outcome) {
    let bsns = input_bsns(data, p);
    let status = match out {
        Ok(response) => {
            let fields: HashSet<Vec<u8>> = p
                .bsn_fields
                .iter()
                .filter(|b| b.parse::<Bsn>().is_ok())
                .map(|b| b.as_bytes().to_vec())
                .collect();
            if let Some(b) = leaks_bsn(response, &fields) {
                panic!("{rpc}: the response holds the request's BSN {b}");
            }
            return;
        }
        Err(s) => s,
    };
    let code = status.code();
    assert!(
        !matches!(code, Code::Ok | Code::Unknown | Code::Internal),
        "{rpc}: error status {code:?}: {}",
        status.message()
    );
    assert!(
        !status.message().is_empty(),
        "{rpc}: {code:?} without a message"
    );
    let details = status
        .check_error_details()
        .unwrap_or_else(|e| panic!("{rpc}: undecodable status details: {e}"));
    let violations = details
        .bad_request()
        .map(|b| b.field_violations.clone())
        .unwrap_or_default();
    if code == Code::InvalidArgument {
        assert!(
            !violations.is_empty(),
            "{rpc}: INVALID_ARGUMENT without field violations: {}",
            status.message()
        );
    } else {
        assert!(
            violations.is_empty(),
            "{rpc}: {code:?} with field violations: {}",
            status.message()
        );
    }
    for v in &violations {
        assert!(
            !v.field.is_empty() && !v.description.is_empty(),
            "{rpc}: a field violation without field or description: {v:?}"
        );
    }
    let mut texts: Vec<Vec<u8>> = vec![
        status.message().as_bytes().to_vec(),
        status.details().to_vec(),
    ];
    for v in &violations {
        texts.push(v.field.as_bytes().to_vec());
        texts.push(v.description.as_bytes().to_vec());
    }
    for kv in status.metadata().iter() {
        if let tonic::metadata::KeyAndValueRef::Ascii(_, v) = kv {
            texts.push(v.as_encoded_bytes().to_vec());
        }
    }
    for t in &texts {
        if let Some(b) = leaks_bsn(t, &bsns) {
            panic!(
                "{rpc}: {code:?} status echoes the input's BSN {b}: {}",
                status.message()
            );
        }
        assert!(
            !leaks_payload(t, &p.payloads),
            "{rpc}: {code:?} status echoes envelope bytes: {}",
            status.message()
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let [pick, who, body @ ..] = data else {
        return;
    };
    let fx = fixture();
    let rpc = usize::from(*pick) % RPCS.len();
    let Some(caller) = fx
        .callers
        .get(usize::from(*who) % fx.callers.len())
        .cloned()
    else {
        return;
    };
    if let Some((p, out)) = fx.rt.block_on(call(fx, rpc, caller, body)) {
        check(RPCS[rpc], data, &p, &out);
    }
});
