//! The store conformance suite's harness and fixtures, shared by `store_conformance*.rs`.
//!
//! [`conformance!`] turns each async test function into two tests, `<name>::sqlite` and
//! `<name>::postgres`, so every assertion runs unchanged against both backends and a failure
//! names the backend it happened on. Without `SIGNAALHUB_TEST_POSTGRES_URL` the PostgreSQL half
//! passes after saying clearly that it was skipped.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use signaalhub_policy::{Evidence, LegalBasisRecord};
use signaalhub_server::domain::basis::Basis;
use signaalhub_server::domain::consent::{Capacity, Consent, ConsentTo, Facts, Giver};
use signaalhub_server::domain::involvement::{Involvement, Notification, NotificationKind};
use signaalhub_server::domain::maatregel::{Maatregel, MaatregelKind};
use signaalhub_server::domain::signal::{NewDelivery, SignalRecord, Urgency};
use signaalhub_server::domain::zorgmelding::{
    ContactPerson, DecisionKind, Feedback, FeedbackOutcome, FragmentKind, FragmentRecord,
    HandoverRecord, HandoverState, InformationRequest, InformationState, MeldingKey, MeldingStage,
    StageRecord, TriageAnswersStored, TriageRecord,
};
use signaalhub_server::ids::{Category, Purpose, Role, SubjectPseudonym};
use signaalhub_server::ledger::{EntryActor, EntryOutcome, Event, PendingEntry};
use signaalhub_server::store::testing::{POSTGRES_URL_ENV, fresh};
use signaalhub_server::store::{Clash, Record, Store, StoreError, StoreResult};
use std::fmt::Debug;
use std::str::FromStr;

/// Runs `body` on a fresh store of `backend` (`"sqlite"` or `"postgres"`), with what a hub
/// configuration would name as its database. PostgreSQL is skipped, with a note, when its URL is
/// not set.
pub async fn on<F, Fut>(backend: &str, body: F)
where
    F: FnOnce(Store, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if backend == "postgres" && std::env::var(POSTGRES_URL_ENV).map_or(true, |v| v.is_empty()) {
        eprintln!(
            "NOTE: PostgreSQL conformance test SKIPPED: set {POSTGRES_URL_ENV} (e.g. postgres://postgres@127.0.0.1:5432/test) to run it"
        );
        return;
    }
    let db = fresh(backend).await.unwrap();
    eprintln!("conformance on {backend}");
    body(db.store.clone(), db.database.clone()).await;
    db.store.close().await;
}

/// `conformance!(a, b, ...)`: each `async fn a(s: Store)` of the file as the two tests
/// `a::sqlite` and `a::postgres`; `conformance!(database: c, ...)` the same for
/// `async fn c(s: Store, database: String)`. A test function left out of the list is dead code,
/// which the build refuses. (Each suite file declares `#[macro_use] mod conformance;`.)
macro_rules! conformance {
    (database: $($name:ident),+ $(,)?) => {
        $(conformance!(@both $name, |s, database| super::$name(s, database));)+
    };
    ($($name:ident),+ $(,)?) => {
        $(conformance!(@both $name, |s, _| super::$name(s));)+
    };
    (@both $name:ident, $run:expr) => {
        mod $name {
            use signaalhub_server::store::Store;

            #[tokio::test]
            async fn sqlite() {
                $crate::conformance::on("sqlite", |s: Store, database: String| ($run)(s, database)).await;
            }

            #[tokio::test]
            async fn postgres() {
                $crate::conformance::on("postgres", |s: Store, database: String| ($run)(s, database)).await;
            }
        }
    };
}

// ---- typed errors ---------------------------------------------------------------------------

/// The record of a `NotFound`, or a panic naming what came instead.
#[track_caller]
pub fn not_found<T: Debug>(r: StoreResult<T>) -> Record {
    match r {
        Err(StoreError::NotFound(rec)) => rec,
        other => panic!("expected StoreError::NotFound, got {other:?}"),
    }
}

/// The clash of a `Conflict`, or a panic naming what came instead.
#[track_caller]
pub fn conflict<T: Debug>(r: StoreResult<T>) -> Clash {
    match r {
        Err(StoreError::Conflict(c)) => c,
        other => panic!("expected StoreError::Conflict, got {other:?}"),
    }
}

/// `Record { kind, id }`.
pub fn rec(kind: &'static str, id: impl std::fmt::Display) -> Record {
    Record::new(kind, id)
}

/// `Clash::State` of `kind` `id` in `state`.
pub fn in_state(kind: &'static str, id: &str, state: &str) -> Clash {
    Clash::State {
        record: Record::new(kind, id),
        state: state.into(),
    }
}

/// `Clash::Taken` of `kind` `id`.
pub fn taken(kind: &'static str, id: &str) -> Clash {
    Clash::Taken(Record::new(kind, id))
}

/// Two values that do not implement `PartialEq` compared by their `Debug` form.
#[track_caller]
pub fn assert_same<A: Debug, B: Debug>(a: &A, b: &B) {
    assert_eq!(format!("{a:#?}"), format!("{b:#?}"));
}

// ---- values ---------------------------------------------------------------------------------

/// A day in seconds.
pub const DAY: i64 = 86_400;
/// The time every fixture starts from.
pub const T0: i64 = 1_760_000_000;

/// Sample organisations (20-digit OINs).
pub const SCHOOL: &str = "00000001000000000001";
pub const WIJKTEAM: &str = "00000001000000000002";
pub const VT: &str = "00000001000000000003";
pub const POLICE: &str = "00000001000000000004";
pub const GI: &str = "00000001000000000005";
pub const HUISARTS: &str = "00000001000000000006";

/// A value parsed from its text: lets one fixture fill a `String` field or a typed one.
pub fn v<T: FromStr>(s: &str) -> T
where
    T::Err: Debug,
{
    s.parse().unwrap()
}

/// A well-formed version-1 pseudonym, distinct per `n` (never the all-zero erased marker).
pub fn pseud(n: u32) -> SubjectPseudonym {
    SubjectPseudonym::from_stored(&format!("{:064x}", 0xabc0_0000_u64 + u64::from(n))).unwrap()
}

/// `pseud(n)` as the stored text.
pub fn ps(n: u32) -> String {
    pseud(n).as_str().to_owned()
}

/// A log entry by `actor` at `at`.
pub fn entry(actor: &str, event: Event, at: i64) -> PendingEntry {
    PendingEntry::new(
        EntryActor {
            oin: actor,
            pseudonym: &"ab".repeat(32),
            professional: "pro-1",
            role: "tester",
        },
        event,
        EntryOutcome::Recorded,
        at,
        "test-policy-1",
    )
}

/// A legal basis with evidence plus consents: every part must survive storage.
pub fn basis(consent_ids: &[&str]) -> Basis {
    Basis {
        legal: Some(LegalBasisRecord {
            basis: "meldcode".into(),
            evidence: Evidence {
                meldcode_steps_completed: vec![1, 2, 3, 4],
                case_reference: Some("vt-2026-7".into()),
                ..Evidence::default()
            },
        }),
        consent_ids: consent_ids.iter().map(|c| c.parse().unwrap()).collect(),
    }
}

pub fn facts() -> Facts {
    Facts {
        age_years: Some(9),
        age_band: None,
        gezag_holders: vec!["ouder-1".into(), "ouder-2".into()],
    }
}

/// A consent about `subject` recorded by the school at `at`, valid 180 days.
pub fn consent(id: &str, subject: &SubjectPseudonym, at: i64) -> Consent {
    Consent {
        id: id.parse().unwrap(),
        subject: subject.clone(),
        recorded_by_oin: v(SCHOOL),
        recorded_by: "pro-1".into(),
        givers: vec![Giver {
            person: "ouder-1".into(),
            capacity: Capacity::GezagHolder,
        }],
        recipients: vec![
            ConsentTo::Sector("wijkteam".into()),
            ConsentTo::Oin(v(WIJKTEAM)),
        ],
        purposes: vec![Purpose::known("vroegtijdige_ondersteuning")],
        categories: vec![Category::known("zorgen_thuissituatie")],
        valid_from: at,
        valid_until: at + 180 * DAY,
        explicit: true,
        evidence_reference: Some("dossier-7".into()),
        facts: facts(),
        recorded_at: at,
        withdrawn_at: None,
        withdrawn_by: None,
        retain_until: at + 365 * DAY,
        disclosers: vec![v(SCHOOL), v(WIJKTEAM)],
    }
}

/// A signal of the school about `subjects`; `hash` stands for its request hash.
pub fn signal(id: &str, hash: u8, subjects: &[String], at: i64) -> SignalRecord {
    SignalRecord {
        sender_oin: v(SCHOOL),
        signal_id: id.parse().unwrap(),
        request_hash: vec![hash; 32],
        envelope: Some(vec![7; 48]),
        purpose: Purpose::known("vroegtijdige_ondersteuning"),
        categories: vec![
            Category::known("zorgen_thuissituatie"),
            Category::known("schoolverzuim"),
        ],
        urgency: Urgency::High,
        basis: basis(&["c1"]),
        subjects: subjects.to_vec(),
        facts: facts(),
        sender_role: Role::known("ib_er"),
        sender_professional: "pro-9".into(),
        received_for: vec![],
        inform_exemption: Some("veiligheid_kind".into()),
        created_at: at,
        retain_until: at + 365 * DAY,
        content_digest: Some(vec![hash ^ 0x5a; 32]),
    }
}

pub fn to(recipient: &str, consents: &[&str]) -> NewDelivery {
    NewDelivery {
        recipient_oin: v(recipient),
        consent_ids: consents.iter().map(|c| c.parse().unwrap()).collect(),
    }
}

/// The `signal_sent` entries of a new signal, one per recipient.
pub fn sent_entries(s: &SignalRecord, deliveries: &[NewDelivery]) -> Vec<PendingEntry> {
    deliveries
        .iter()
        .map(|d| {
            entry(SCHOOL, Event::SignalSent, s.created_at)
                .subjects(s.subjects.clone())
                .recipient(d.recipient_oin.to_string())
                .reference(s.signal_id.clone())
        })
        .collect()
}

pub fn maatregel(id: &str, subject: &SubjectPseudonym, starts_at: i64) -> Maatregel {
    Maatregel {
        id: id.parse().unwrap(),
        subject: subject.clone(),
        kind: MaatregelKind::Ots,
        starts_at,
        ends_at: Some(starts_at + 365 * DAY),
        responsible_oin: v(GI),
        contact_point: "GI Utrecht, team Noord".into(),
        registered_by_oin: v(GI),
        registered_by: "pro-gi".into(),
        registered_role: Role::known("jeugdbeschermer"),
        registered_at: starts_at,
        ended_at: None,
        retain_until: None,
        next_oin: None,
    }
}

pub fn involvement(id: &str, subject: &SubjectPseudonym, org: &str, at: i64) -> Involvement {
    Involvement {
        id: id.parse().unwrap(),
        subject: subject.clone(),
        org_oin: v(org),
        contact_professional: format!("contact of {id}"),
        role: Role::known("hulpverlener"),
        registered_by: "pro-1".into(),
        basis: basis(&[]),
        facts: facts(),
        started_at: at,
        registered_at: at,
        ended_at: None,
        retain_until: None,
        case_id: None,
    }
}

pub fn notification(recipient: &str, kind: NotificationKind, at: i64) -> Notification {
    Notification {
        recipient_oin: v(recipient),
        cursor: 0,
        kind,
        at,
        actor_oin: v(SCHOOL),
        actor_professional: "pro-1".into(),
        case_id: None,
        maatregel_id: None,
        involvement_id: None,
        proposal_id: None,
        plan_version: None,
        summary_nl: format!("{} voor {recipient}", kind.as_str()),
        reference: None,
        retain_until: at + 30 * DAY,
    }
}

pub fn melding_key(registration_number: &str) -> MeldingKey {
    MeldingKey {
        police_oin: v(POLICE),
        registration_number: registration_number.into(),
        recipient_oin: v(VT),
        purpose: Purpose::known("zorgmelding"),
    }
}

pub fn fragment(id: &str, hash: u8, subjects: &[String], at: i64) -> FragmentRecord {
    FragmentRecord {
        police_oin: v(POLICE),
        fragment_id: id.parse().unwrap(),
        zorgmelding_id: "zm_unfiled".parse().unwrap(),
        sequence: 0,
        kind: FragmentKind::Incident,
        request_hash: vec![hash; 32],
        envelope: Some(vec![9; 40]),
        categories: vec![Category::known("huiselijk_geweld")],
        subjects: subjects.to_vec(),
        basis: basis(&[]),
        author_role: Role::known("agent"),
        author_professional: "pro-pol".into(),
        received_at: at,
        retain_until: at + 365 * DAY,
        content_digest: Some(vec![hash ^ 0x5a; 32]),
    }
}

pub fn triage(id: &str, melding: &str, at: i64) -> TriageRecord {
    TriageRecord {
        triage_id: id.parse().unwrap(),
        melding: melding.parse().unwrap(),
        vt_oin: v(VT),
        answers: TriageAnswersStored {
            physical_abuse_or_severe_violence: "no".into(),
            safety_conflict: "divorce_only".into(),
            open_to_help: "open".into(),
            ..TriageAnswersStored::default()
        },
        acute: false,
        case_reference: "vt-2026-7".into(),
        advice: "handover_wijkteam".into(),
        earlier_reports: 2,
        role: Role::known("triagist"),
        professional: "pro-vt".into(),
        recorded_at: at,
    }
}

pub fn handover(id: &str, hash: u8, melding: &str, subjects: &[String], at: i64) -> HandoverRecord {
    let contact = |name: &str| ContactPerson {
        name: name.into(),
        function: "consulent".into(),
        phone: "030-1234567".into(),
        email: format!("{name}@example.nl"),
    };
    HandoverRecord {
        sender_oin: v(VT),
        handover_id: id.parse().unwrap(),
        request_hash: vec![hash; 32],
        melding: melding.parse().unwrap(),
        recipient_oin: v(WIJKTEAM),
        subjects: subjects.to_vec(),
        facts: subjects.iter().map(|_| facts()).collect(),
        categories: vec![Category::known("huiselijk_geweld")],
        purpose: Purpose::known("ondersteuning"),
        basis: basis(&["c1"]),
        received_for: Purpose::known("zorgmelding"),
        advice: "handover_wijkteam".into(),
        decision: Some(DecisionKind::WijkteamAlone),
        triage_id: "t1".parse().unwrap(),
        vt_contact: contact("vt"),
        wijkteam_contact: contact("wt"),
        letter: "Beste ouders, ...".into(),
        state: HandoverState::Pending,
        reasons: Vec::new(),
        consent_ids: vec!["c1".parse().unwrap()],
        sender_role: Role::known("consulent"),
        sender_professional: "pro-vt".into(),
        created_at: at,
        updated_at: at,
        retain_until: at + 365 * DAY,
        content_digest: Some(vec![hash ^ 0x5a; 32]),
    }
}

/// Feedback by Veilig Thuis to `melder` about `melding`, sent at `at`.
pub fn feedback(id: &str, melding: &str, melder: &str, at: i64) -> Feedback {
    Feedback {
        vt_oin: v(VT),
        feedback_id: v(id),
        request_hash: vec![3; 32],
        content_digest: Some(vec![4; 32]),
        melding: v(melding),
        melder_oin: v(melder),
        subjects: vec![ps(1)],
        outcome: FeedbackOutcome::Received,
        note: Some(vec![9; 40]),
        basis: basis(&[]),
        role: Role::known("vt_medewerker"),
        professional: "pro-vt".into(),
        sent_at: at,
        retain_until: at + 365 * DAY,
    }
}

pub fn stage(melding: &str, stage: MeldingStage, review_at: Option<i64>, at: i64) -> StageRecord {
    StageRecord {
        vt_oin: v(VT),
        melding: v(melding),
        seq: 0,
        stage,
        review_at,
        review_state: None,
        subjects: vec![ps(1)],
        purpose: Purpose::known("melding_veilig_thuis"),
        role: Role::known("vt_medewerker"),
        professional: "pro-vt".into(),
        set_at: at,
    }
}

pub fn info_request(id: &str, melding: &str, recipient: &str, at: i64) -> InformationRequest {
    InformationRequest {
        vt_oin: v(VT),
        request_id: v(id),
        request_hash: vec![5; 32],
        content_digest: vec![6; 32],
        melding: v(melding),
        recipient_oin: v(recipient),
        subjects: vec![ps(1)],
        categories: vec![Category::known("zorgen_thuissituatie")],
        case_reference: "VT-2026-1".into(),
        question: Some(vec![7; 40]),
        basis: basis(&[]),
        role: Role::known("vt_medewerker"),
        professional: "pro-vt".into(),
        requested_at: at,
        state: InformationState::Open,
        answer: None,
        retain_until: at + 365 * DAY,
    }
}
