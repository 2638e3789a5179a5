//! Terugkoppeling: Veilig Thuis tells the melder what it does with a melding (`SendFeedback`),
//! with an optional note sealed here to the melder only; the melder reads the feedback on its own
//! signal (`ListFeedback`) and opens the note here, after writing who opened it to the audit log.
//! The hub decides who may send and read; the gateway seals, opens and logs.
use crate::app::App;
use crate::handover::{Melding, ReadProblem, Sealed, audit_then_open};
use crate::session::Professional;
use crate::store::now_unix;
use signaalhub_client::ClientError;
use signaalhub_client::envelope;
use signaalhub_client::sealed;
use signaalhub_client::signaalhub_proto::{self, pb};

/// The purpose and category of a note, as the convenant's feedback flow names them.
pub const NOTE_PURPOSE: &str = "terugkoppeling_melder";
/// See [`NOTE_PURPOSE`].
pub const NOTE_CATEGORY: &str = "melding_vervolg";
/// The basis of every feedback: Veilig Thuis's statutory task.
pub const BASIS: &str = "vt_wettelijke_taak";
/// The longest note, in characters.
pub const NOTE_MAX: usize = 2000;

/// The outcomes: the hub's name (the API's), the enum, Dutch and English (the console's).
pub const OUTCOMES: &[crate::coded::Coded<pb::FeedbackOutcome>] = &[
    (
        "RECEIVED",
        pb::FeedbackOutcome::Received,
        "Ontvangen: Veilig Thuis beoordeelt de melding",
        "Received: Veilig Thuis is assessing the melding",
    ),
    (
        "HANDED_OVER_TO_WIJKTEAM",
        pb::FeedbackOutcome::HandedOverToWijkteam,
        "Overgedragen aan het wijkteam",
        "Handed over to the wijkteam",
    ),
    (
        "VEILIG_THUIS_INVESTIGATES",
        pb::FeedbackOutcome::VeiligThuisInvestigates,
        "Veilig Thuis doet zelf onderzoek",
        "Veilig Thuis investigates",
    ),
    (
        "ADVICE_GIVEN",
        pb::FeedbackOutcome::AdviceGiven,
        "Advies gegeven; Veilig Thuis sluit de melding af",
        "Advice given; Veilig Thuis closes the melding",
    ),
    (
        "NO_FURTHER_ACTION",
        pb::FeedbackOutcome::NoFurtherAction,
        "Geen verdere actie",
        "No further action",
    ),
];

/// The outcome the hub names `name` (`RECEIVED`, ...).
pub fn outcome_named(name: &str) -> Option<pb::FeedbackOutcome> {
    crate::coded::by_name(OUTCOMES, name)
}

/// The hub's name of an outcome (`RECEIVED`, ...); the number when unknown.
pub fn outcome_name(outcome: i32) -> String {
    crate::coded::name(OUTCOMES, outcome)
}

/// A feedback as a form or a system states it.
#[derive(Debug, Clone)]
pub struct FeedbackDraft {
    /// Chosen when the form first opened (or by the system), so a retry is the same feedback.
    pub feedback_id: String,
    /// What Veilig Thuis does.
    pub outcome: pb::FeedbackOutcome,
    /// Veilig Thuis's own case reference (the basis's evidence).
    pub case_reference: String,
    /// Whether the family knows of the melding (the basis's evidence).
    pub client_informed: bool,
    /// If not, why not: a code of the convenant's fixed list (`veiligheid_kind`, ...).
    pub not_informed_reason: String,
    /// The note for the melder, sealed here; none when empty.
    pub note: String,
}

/// A field of a draft to fix before the hub is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftProblem {
    /// Not an id (1-64 of A-Za-z0-9._-, no 9-digit run).
    FeedbackId,
    /// Missing or not a dossier number.
    CaseReference,
    /// Longer than [`NOTE_MAX`].
    NoteTooLong,
    /// The family was not told, and no reason from the list says why.
    NotInformedReason,
}

impl DraftProblem {
    /// The hub's field name.
    pub fn field(self) -> &'static str {
        match self {
            DraftProblem::FeedbackId => "feedback_id",
            DraftProblem::CaseReference => "case_reference",
            DraftProblem::NoteTooLong => "note",
            DraftProblem::NotInformedReason => "client_not_informed_reason",
        }
    }

    /// What to fix, in English (the API) or Dutch (the console).
    pub fn describe(self, dutch: bool) -> &'static str {
        match (self, dutch) {
            (DraftProblem::FeedbackId, false) => {
                "not an id: 1-64 of A-Z a-z 0-9 . _ - without a run of 9 or more digits"
            }
            (DraftProblem::FeedbackId, true) => {
                "kenmerk: 1-64 tekens A-Z, a-z, 0-9 en ._- zonder 9 cijfers achter elkaar"
            }
            (DraftProblem::CaseReference, false) => {
                "required: the case reference in Veilig Thuis's own file (no name or BSN)"
            }
            (DraftProblem::CaseReference, true) => {
                "Dossiernummer: vul het nummer in uw eigen dossier in (geen naam of BSN)."
            }
            (DraftProblem::NoteTooLong, false) => "at most 2000 characters",
            (DraftProblem::NoteTooLong, true) => "Bericht: hoogstens 2000 tekens.",
            (DraftProblem::NotInformedReason, false) => {
                "the family was not told: give the reason, a code of the convenant's list (veiligheid_kind, ...)"
            }
            (DraftProblem::NotInformedReason, true) => {
                "Het gezin weet niet van de melding: kies waarom niet uit de lijst."
            }
        }
    }
}

impl FeedbackDraft {
    /// What to fix before the hub is asked (the hub checks again).
    pub fn problems(&self) -> Vec<DraftProblem> {
        let mut bad = Vec::new();
        if !sealed::valid_signal_id(&self.feedback_id) {
            bad.push(DraftProblem::FeedbackId);
        }
        if self.case_reference.trim().is_empty() || !(1..=64).contains(&self.case_reference.len()) {
            bad.push(DraftProblem::CaseReference);
        }
        if self.note.chars().count() > NOTE_MAX {
            bad.push(DraftProblem::NoteTooLong);
        }
        if !self.client_informed
            && signaalhub_policy::reasons::lookup(
                signaalhub_policy::reasons::NOT_INFORMED,
                &self.not_informed_reason,
            )
            .is_none()
        {
            bad.push(DraftProblem::NotInformedReason);
        }
        bad
    }

    fn basis(&self) -> pb::Basis {
        pb::Basis {
            legal: Some(pb::LegalBasis {
                basis: BASIS.into(),
                evidence: Some(pb::Evidence {
                    case_reference: self.case_reference.trim().into(),
                    client_informed: Some(self.client_informed),
                    client_not_informed_reason: if self.client_informed {
                        String::new()
                    } else {
                        self.not_informed_reason.clone()
                    },
                    ..Default::default()
                }),
            }),
            consent_ids: Vec::new(),
        }
    }
}

/// The melder of a melding here: the signal's sender, or the police of a stored zorgmelding.
async fn melder_of(app: &App, m: &Melding) -> Result<String, ClientError> {
    match m {
        Melding::Signal { sender, .. } => Ok(sender.clone()),
        Melding::Zorgmelding(z) => match app.store.get_melding(z).await {
            Ok(Some(stored)) => Ok(stored.police_oin),
            _ => Err(ClientError::Config(format!(
                "the zorgmelding {z} is not in this gateway's store"
            ))),
        },
    }
}

/// Veilig Thuis sends feedback to the melder (`SendFeedback`); a note is sealed here to the
/// melder's published keys under the feedback flow's purpose and category, bound to the
/// feedback id, and signed with the organisation's key. `feedback_sent` in the audit log.
pub async fn send(
    app: &App,
    actor: &Professional,
    m: &Melding,
    d: &FeedbackDraft,
    role: &str,
) -> Result<pb::SendFeedbackResponse, ClientError> {
    let mut hub = app.hub_as(actor)?;
    let basis = d.basis();
    let note = if d.note.trim().is_empty() {
        None
    } else {
        let melder = melder_of(app, m).await?;
        let keys = sealed::current_encryption_keys(&mut hub, &melder).await?;
        let binding = pb::EnvelopeBinding {
            signal_id: d.feedback_id.clone(),
            purpose: NOTE_PURPOSE.into(),
            categories: vec![NOTE_CATEGORY.into()],
            basis_reference: signaalhub_proto::basis_reference(&basis),
            created_at_unix: now_unix(),
            content_digest: Vec::new(), // seal sets it
        };
        Some(
            envelope::seal(d.note.trim().as_bytes(), binding, &app.sender, &keys)
                .map_err(|e| ClientError::Config(format!("sealing: {e}")))?,
        )
    };
    let (zorgmelding_id, signal) =
        signaalhub_client::zorgmelding::melding_reference(&m.reference());
    let r = hub
        .send_feedback(pb::SendFeedbackRequest {
            feedback_id: d.feedback_id.clone(),
            zorgmelding_id,
            signal,
            outcome: d.outcome as i32,
            basis: Some(basis),
            note,
            acting_role: role.into(),
        })
        .await?;
    let _ = app
        .store
        .audit(&actor.id, "feedback_sent", &d.feedback_id)
        .await;
    Ok(r)
}

/// The feedback Veilig Thuis sent about a melding here, oldest first (notes stay sealed: they
/// are the melder's).
pub async fn sent(
    app: &App,
    actor: &Professional,
    m: &Melding,
) -> Result<Vec<pb::Feedback>, ClientError> {
    app.hub_as(actor)?.list_feedback(&m.reference()).await
}

/// One feedback as the melder reads it: the note opened here, or why not (none without a note).
pub type ReadFeedback = (pb::Feedback, Option<Result<String, String>>);

/// The feedback about a melding (`ListFeedback`, `melding` as the hub's client names it: `zm_…`
/// or `<sender OIN>/<signal id>`), oldest first: the melder reads what Veilig Thuis told it (a
/// school names its own signal), Veilig Thuis what it sent, anyone else nothing. Each note sealed
/// to this organisation is written to the audit log (`feedback_opened`) **before** it is opened
/// — nothing is opened if that fails — then checked against the feedback (its id, purpose and
/// category) and Veilig Thuis's signature against the directory, and opened with the
/// organisation's key. A note this organisation sent stays sealed (it is the melder's).
pub async fn read(
    app: &App,
    actor: &Professional,
    melding: &str,
) -> Result<Vec<ReadFeedback>, ReadProblem> {
    let mut hub = app.hub_as(actor).map_err(ReadProblem::Hub)?;
    let all = hub.list_feedback(melding).await.map_err(ReadProblem::Hub)?;
    let mut out = Vec::with_capacity(all.len());
    for f in all {
        let Some(env) = f.note.clone().filter(|n| n.sender_oin != app.oin()) else {
            out.push((f, None));
            continue;
        };
        let note = Sealed {
            sender: &f.veilig_thuis_oin,
            id: &f.feedback_id,
            purpose: NOTE_PURPOSE,
            categories: &[NOTE_CATEGORY.to_owned()],
            envelope: &env,
        };
        let opened = audit_then_open(app, &mut hub, actor, "feedback_opened", note).await?;
        out.push((f, Some(opened)));
    }
    Ok(out)
}
