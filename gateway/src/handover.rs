//! Veilig Thuis's chain, as a professional does it through the console: triage a melding (a
//! police zorgmelding or a meldcode signal delivered to this Veilig Thuis), the triagist's
//! decision, the family's refusal, the handover to a wijkteam — the melding opened here with the
//! organisation's key and re-sealed for the wijkteam — and, on the wijkteam's side, receiving the
//! handover and answering it. Every decision is the hub's (`TriageService`); the gateway seals,
//! opens and writes its audit log (who opened which handover or question, before it is opened).
use crate::actions::{self, OpenError, Unopened};
use crate::app::App;
use crate::session::Professional;
use crate::store::{StoreError, now_unix};
use prost::Message;
use signaalhub_client::ClientError;
use signaalhub_client::envelope;
use signaalhub_client::sealed;
use signaalhub_client::signaalhub_proto::pb;
use signaalhub_client::zorgmelding::{handover_binding, melding_text, question_binding};

/// The purposes under which a signal to Veilig Thuis is a melding it triages.
pub const MELDING_PURPOSES: &[&str] = &["melding_veilig_thuis", "acuut_gevaar"];

/// A melding at this Veilig Thuis: a police zorgmelding, or a signal delivered to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Melding {
    /// A zorgmelding by the hub's id (`zm_…`).
    Zorgmelding(String),
    /// A signal by its sender and id.
    Signal {
        /// The sender's OIN.
        sender: String,
        /// The signal id.
        id: String,
    },
}

impl Melding {
    /// A melding named in a URL, when the ids have an id's form.
    pub fn parse(zorgmelding: Option<&str>, signal: Option<(&str, &str)>) -> Option<Melding> {
        match (zorgmelding, signal) {
            (Some(z), None) if sealed::valid_signal_id(z) => Some(Melding::Zorgmelding(z.into())),
            (None, Some((s, i))) if actions::valid_received_key(s, i) => Some(Melding::Signal {
                sender: s.into(),
                id: i.into(),
            }),
            _ => None,
        }
    }

    /// As the hub's client reads it (`zm_…` or `<sender>/<id>`).
    pub fn reference(&self) -> String {
        match self {
            Melding::Zorgmelding(z) => z.clone(),
            Melding::Signal { sender, id } => format!("{sender}/{id}"),
        }
    }

    /// Where its pages are in the console.
    pub fn path(&self) -> String {
        match self {
            Melding::Zorgmelding(z) => format!("/melding/zm/{z}"),
            Melding::Signal { sender, id } => format!("/melding/signaal/{sender}/{id}"),
        }
    }

    /// The melding itself, read only (the Postvak's page).
    pub fn source_path(&self) -> String {
        match self {
            Melding::Zorgmelding(z) => format!("/postvak/zorgmelding/{z}"),
            Melding::Signal { sender, id } => format!("/postvak/{sender}/{id}"),
        }
    }

    /// The two fields of a request that name it.
    fn wire(&self) -> (String, Option<pb::SignalReference>) {
        signaalhub_client::zorgmelding::melding_reference(&self.reference())
    }

    /// The melding a triage or handover names.
    pub fn of(zorgmelding_id: &str, signal: Option<&pb::SignalReference>) -> Option<Melding> {
        let text = melding_text(zorgmelding_id, signal);
        match text.split_once('/') {
            Some((s, i)) => Melding::parse(None, Some((s, i))),
            None => Melding::parse(Some(&text), None),
        }
    }
}

/// The convenant's handover flow: its categories and its (first) legal basis.
pub fn handover_flow(app: &App) -> (Vec<String>, String) {
    let f = app
        .convenant
        .flows
        .iter()
        .find(|f| f.purpose == signaalhub_client::zorgmelding::HANDOVER_PURPOSE);
    (
        f.map(|f| f.categories.clone()).unwrap_or_default(),
        f.and_then(|f| f.bases.first().cloned()).unwrap_or_default(),
    )
}

/// Whether `p` works for this organisation's wijkteam: a role the convenant gives the wijkteam
/// sector (a case worker), not e.g. its FG.
pub fn works_for_wijkteam(app: &App, p: &Professional) -> bool {
    actions::holds_role_of(app, p, Some(pb::Sector::Wijkteam))
}

/// `p` acting in `role` only, for a call that names no role (`ListConsents`): the hub refuses a
/// token with several roles there. A role `p` does not hold leaves `p` as is.
pub fn acting_in(p: &Professional, role: &str) -> Professional {
    let mut one = p.clone();
    if p.roles.iter().any(|r| r == role) {
        one.roles = vec![role.to_owned()];
    }
    one
}

/// The latest triage of a melding and the family's refusal (`GetTriage`).
pub async fn triage_of(
    app: &App,
    actor: &Professional,
    m: &Melding,
) -> Result<pb::GetTriageResponse, ClientError> {
    app.hub_as(actor)?.get_triage(&m.reference()).await
}

/// Records a triage (`RecordTriage`): the hub answers with the advice and the recidive.
pub async fn record_triage(
    app: &App,
    actor: &Professional,
    m: &Melding,
    criteria: pb::ArnhemCriteria,
    acute: bool,
    case_reference: &str,
    role: &str,
) -> Result<pb::Triage, ClientError> {
    let (zorgmelding_id, signal) = m.wire();
    let t = app
        .hub_as(actor)?
        .record_triage(pb::RecordTriageRequest {
            zorgmelding_id,
            signal,
            criteria: Some(criteria),
            acute,
            case_reference: case_reference.into(),
            acting_role: role.into(),
        })
        .await?;
    let _ = app
        .store
        .audit(&actor.id, "triage_recorded", &t.triage_id)
        .await;
    Ok(t)
}

/// The triagist's decision on a triage (`DecideTriage`).
pub async fn decide(
    app: &App,
    actor: &Professional,
    triage_id: &str,
    decision: pb::TriageDecisionKind,
    reason: pb::DecisionReason,
    role: &str,
) -> Result<pb::Triage, ClientError> {
    let t = app
        .hub_as(actor)?
        .decide_triage(pb::DecideTriageRequest {
            triage_id: triage_id.into(),
            decision: decision as i32,
            reason: reason as i32,
            acting_role: role.into(),
        })
        .await?;
    let _ = app
        .store
        .audit(&actor.id, "triage_decided", triage_id)
        .await;
    Ok(t)
}

/// Records that the family declined the wijkteam (`RecordFamilyDeclined`).
pub async fn decline(
    app: &App,
    actor: &Professional,
    m: &Melding,
    declined_by: &str,
    role: &str,
) -> Result<pb::FamilyDeclined, ClientError> {
    let d = app
        .hub_as(actor)?
        .record_family_declined(&m.reference(), declined_by, role)
        .await?;
    let _ = app
        .store
        .audit(&actor.id, "family_declined", &m.reference())
        .await;
    Ok(d)
}

/// A handover as the form states it.
#[derive(Debug, Clone, Default)]
pub struct HandoverDraft {
    /// Chosen when the form first opened, so a retry is the same handover.
    pub handover_id: String,
    /// The wijkteam.
    pub recipient: String,
    /// The persons handed over (checked BSNs).
    pub bsns: Vec<String>,
    /// The categories handed over.
    pub categories: Vec<String>,
    /// The zorgmelding's fragments to hand over (none: all); a signal has one part.
    pub fragments: Vec<u32>,
    /// The legal basis (the convenant's Veilig Thuis basis).
    pub basis: String,
    /// Veilig Thuis's case reference.
    pub case_reference: String,
    /// Whether the family was told.
    pub client_informed: bool,
    /// The family's consents.
    pub consents: Vec<String>,
    /// The contact at Veilig Thuis.
    pub vt_contact: pb::ContactPerson,
    /// The contact at the wijkteam.
    pub wijkteam_contact: pb::ContactPerson,
    /// The convenant role acted in.
    pub role: String,
}

impl HandoverDraft {
    /// The basis: the legal one with its evidence, and the family's consents.
    pub fn basis(&self) -> pb::Basis {
        pb::Basis {
            legal: Some(pb::LegalBasis {
                basis: self.basis.clone(),
                evidence: Some(pb::Evidence {
                    case_reference: self.case_reference.clone(),
                    client_informed: Some(self.client_informed),
                    ..Default::default()
                }),
            }),
            consent_ids: self.consents.clone(),
        }
    }
}

/// Why a handover was not made.
#[derive(Debug)]
pub enum HandoverProblem {
    /// The melding is not here (never, or no longer).
    NotFound,
    /// The audit log or the store cannot be used, so nothing is opened.
    Store(StoreError),
    /// A part of the melding did not open here (which, and why; never payload bytes).
    Unopened(String),
    /// A fragment the form names is not one of the melding's.
    NoSuchFragment(u32),
    /// The hub refused or could not be reached.
    Hub(ClientError),
}

impl From<ClientError> for HandoverProblem {
    fn from(e: ClientError) -> Self {
        HandoverProblem::Hub(e)
    }
}

impl From<OpenError> for HandoverProblem {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::NotFound => HandoverProblem::NotFound,
            OpenError::Store(e) | OpenError::Audit(e) => HandoverProblem::Store(e),
        }
    }
}

fn unopened(what: String, u: Unopened) -> HandoverProblem {
    let why = match u {
        Unopened::Damaged => "the stored envelope is damaged".to_owned(),
        Unopened::Hub(e) => return HandoverProblem::Hub(e),
        Unopened::Refused(why) => why,
    };
    HandoverProblem::Unopened(format!("{what}: {why}"))
}

/// The melding's parts as they can be handed over: opened here (each opening in the audit log,
/// as when a professional reads it) and numbered as the wijkteam will see them.
async fn opened_parts(
    app: &App,
    actor: &Professional,
    m: &Melding,
    fragments: &[u32],
) -> Result<Vec<(u32, Vec<u8>)>, HandoverProblem> {
    match m {
        Melding::Signal { sender, id } => {
            let (_, opened) = actions::open_received(app, actor, sender, id).await?;
            let bytes = opened.map_err(|u| unopened(format!("signal {id}"), u))?;
            Ok(vec![(1, bytes)])
        }
        Melding::Zorgmelding(z) => {
            let (_, melding, opened) = actions::open_melding(app, actor, z).await?;
            if let Some(n) = fragments
                .iter()
                .find(|n| !melding.fragments.iter().any(|f| f.sequence == **n))
            {
                return Err(HandoverProblem::NoSuchFragment(*n));
            }
            let mut parts = Vec::new();
            for (f, o) in melding.fragments.iter().zip(opened) {
                if fragments.is_empty() || fragments.contains(&f.sequence) {
                    let bytes = o.map_err(|u| unopened(format!("fragment #{}", f.sequence), u))?;
                    parts.push((f.sequence, bytes));
                }
            }
            if parts.is_empty() {
                return Err(HandoverProblem::Unopened(
                    "the zorgmelding has no fragment to hand over".into(),
                ));
            }
            Ok(parts)
        }
    }
}

/// Hands the melding over to the wijkteam (`HandOver`): its parts opened here with the
/// organisation's key and re-sealed to the wijkteam's published keys, signed by this
/// organisation. Answers with the handover (state and the family letter) and the decisions.
pub async fn hand_over(
    app: &App,
    actor: &Professional,
    m: &Melding,
    d: &HandoverDraft,
) -> Result<pb::HandOverResponse, HandoverProblem> {
    let mut hub = app.hub_as(actor)?;
    let keys = sealed::current_encryption_keys(&mut hub, &d.recipient).await?;
    let parts = opened_parts(app, actor, m, &d.fragments).await?;
    let basis = d.basis();
    let now = now_unix();
    let mut envelopes = Vec::with_capacity(parts.len());
    for (n, payload) in parts {
        let binding = handover_binding(&d.handover_id, n, &d.categories, &basis, now);
        let env = envelope::seal(&payload, binding, &app.sender, &keys)
            .map_err(|e| ClientError::Config(format!("sealing: {e}")))?;
        envelopes.push(env);
    }
    let (zorgmelding_id, signal) = m.wire();
    let r = hub
        .hand_over(pb::HandOverRequest {
            handover_id: d.handover_id.clone(),
            zorgmelding_id,
            signal,
            recipient_oin: d.recipient.clone(),
            subject_bsns: d.bsns.clone(),
            categories: d.categories.clone(),
            basis: Some(basis),
            envelopes,
            veilig_thuis_contact: Some(d.vt_contact.clone()),
            wijkteam_contact: Some(d.wijkteam_contact.clone()),
            acting_role: d.role.clone(),
            // The family letter in Dutch (the hub's default).
            family_letter_language: String::new(),
        })
        .await?;
    let _ = app
        .store
        .audit(&actor.id, "handover_sent", &d.handover_id)
        .await;
    Ok(r)
}

/// The handovers this organisation sent or received, newest first (`ListHandovers`).
pub async fn handovers(app: &App, actor: &Professional) -> Result<Vec<pb::Handover>, ClientError> {
    app.hub_as(actor)?.list_handovers().await
}

/// Why a handover or a question could not be shown.
#[derive(Debug)]
pub enum ReadProblem {
    /// The hub refused or could not be reached (not found: not ours).
    Hub(ClientError),
    /// The audit log cannot be written, so nothing is opened.
    Audit(StoreError),
}

/// A received handover, delivered and opened: the handover and each envelope opened (or why not).
pub type ReceivedHandover = (pb::Handover, Vec<Result<Vec<u8>, String>>);

/// The wijkteam receives a handover: who opens it is written to the audit log **first** (the
/// first read delivers it at the hub, a disclosure), then `GetHandover`, then each envelope is
/// checked against the handover, the sender's signature verified and opened here.
pub async fn receive(
    app: &App,
    actor: &Professional,
    sender: &str,
    handover_id: &str,
) -> Result<ReceivedHandover, ReadProblem> {
    app.store
        .audit(
            &actor.id,
            "handover_opened",
            &format!("{sender}/{handover_id}"),
        )
        .await
        .map_err(ReadProblem::Audit)?;
    let mut hub = app.hub_as(actor).map_err(ReadProblem::Hub)?;
    let h = hub
        .get_handover(sender, handover_id)
        .await
        .map_err(ReadProblem::Hub)?;
    let mut keys = app.sender_keys.lock().await;
    let prefix = format!("{handover_id}.");
    let mut opened = Vec::with_capacity(h.envelopes.len());
    for env in &h.envelopes {
        let id = env
            .binding
            .as_ref()
            .map(|b| b.signal_id.clone())
            .unwrap_or_default();
        let one = if id.starts_with(&prefix) {
            sealed::open_received(
                &mut hub,
                &mut keys,
                &app.secrets,
                &h.sender_oin,
                &id,
                &h.purpose,
                &h.categories,
                env,
            )
            .await
        } else {
            Err("the envelope is not bound to this handover".to_owned())
        };
        opened.push(one);
    }
    Ok((h, opened))
}

/// Veilig Thuis looks at a handover it sent (`GetHandover`: the state and the answers).
pub async fn sent_handover(
    app: &App,
    actor: &Professional,
    handover_id: &str,
) -> Result<pb::Handover, ClientError> {
    app.hub_as(actor)?
        .get_handover(app.oin(), handover_id)
        .await
}

/// Veilig Thuis opens the wijkteam's `n`-th answer's sealed question (1-based): written to the
/// audit log first, then checked against the handover (`<handover_id>.q<n>`, its purpose and
/// categories) and the wijkteam's signature, and opened here.
pub async fn open_question(
    app: &App,
    actor: &Professional,
    handover_id: &str,
    n: usize,
) -> Result<(pb::Handover, Option<Result<String, String>>), ReadProblem> {
    let mut hub = app.hub_as(actor).map_err(ReadProblem::Hub)?;
    let h = hub
        .get_handover(app.oin(), handover_id)
        .await
        .map_err(ReadProblem::Hub)?;
    let Some(env) = n
        .checked_sub(1)
        .and_then(|i| h.answers.get(i))
        .and_then(|a| a.question.clone())
    else {
        return Ok((h, None));
    };
    let question = Sealed {
        sender: &h.recipient_oin,
        id: &format!("{handover_id}.q{n}"),
        purpose: &h.purpose,
        categories: &h.categories,
        envelope: &env,
    };
    let opened = audit_then_open(app, &mut hub, actor, "question_opened", question).await?;
    Ok((h, Some(opened)))
}

/// A sealed text addressed to this organisation: who sealed it, the id it is bound to, and the
/// purpose and categories it must carry.
#[derive(Debug)]
pub struct Sealed<'a> {
    /// The sender's OIN (its signature is checked against the directory).
    pub sender: &'a str,
    /// The id the envelope is bound to (also the audit log's object).
    pub id: &'a str,
    /// The purpose it must be bound to.
    pub purpose: &'a str,
    /// The categories it must be bound to.
    pub categories: &'a [String],
    /// The envelope.
    pub envelope: &'a pb::Envelope,
}

/// Writes `event` by `actor` about `s.id` to the audit log **first** — nothing is opened if that
/// fails — then checks the envelope against `s` and its sender's signature, and opens it here as
/// text (or says why not).
pub async fn audit_then_open(
    app: &App,
    hub: &mut signaalhub_client::HubClient,
    actor: &Professional,
    event: &str,
    s: Sealed<'_>,
) -> Result<Result<String, String>, ReadProblem> {
    app.store
        .audit(&actor.id, event, s.id)
        .await
        .map_err(ReadProblem::Audit)?;
    let mut keys = app.sender_keys.lock().await;
    let opened = sealed::open_received(
        hub,
        &mut keys,
        &app.secrets,
        s.sender,
        s.id,
        s.purpose,
        s.categories,
        s.envelope,
    )
    .await
    .map(|b| String::from_utf8_lossy(&b).into_owned());
    drop(keys);
    Ok(opened)
}

/// The wijkteam's answer as the form states it.
#[derive(Debug, Clone)]
pub enum Answer {
    /// It takes the case on: the persons (checked BSNs) and how colleagues reach the wijkcoach.
    Accept {
        /// BSNs.
        bsns: Vec<String>,
        /// Contact, 1-200 characters.
        contact: String,
    },
    /// A question to Veilig Thuis, sealed here.
    Question(String),
    /// It gives the case back.
    Return(pb::ReturnReason),
}

/// The wijkteam answers a handover (`AnswerHandover`); a question is sealed here to Veilig
/// Thuis's published keys under the handover's purpose, categories and basis, with its own id
/// `<handover_id>.q<n>`.
pub async fn answer(
    app: &App,
    actor: &Professional,
    sender: &str,
    handover_id: &str,
    a: Answer,
    role: &str,
) -> Result<pb::AnswerHandoverResponse, ClientError> {
    let mut hub = app.hub_as(actor)?;
    let mut request = pb::AnswerHandoverRequest {
        sender_oin: sender.into(),
        handover_id: handover_id.into(),
        acting_role: role.into(),
        ..Default::default()
    };
    match a {
        Answer::Accept { bsns, contact } => {
            request.answer = pb::HandoverAnswerKind::Accepted as i32;
            request.subject_bsns = bsns;
            request.contact_professional = contact;
        }
        Answer::Question(text) => {
            let h = hub.get_handover(sender, handover_id).await?;
            let keys = sealed::current_encryption_keys(&mut hub, sender).await?;
            let binding = question_binding(&h, now_unix());
            let env = envelope::seal(text.as_bytes(), binding, &app.sender, &keys)
                .map_err(|e| ClientError::Config(format!("sealing: {e}")))?;
            request.answer = pb::HandoverAnswerKind::Question as i32;
            request.question = Some(env);
        }
        Answer::Return(reason) => {
            request.answer = pb::HandoverAnswerKind::Returned as i32;
            request.reason = reason as i32;
        }
    }
    let r = hub.answer_handover(request).await?;
    let _ = app
        .store
        .audit(
            &actor.id,
            "handover_answered",
            &format!("{sender}/{handover_id}"),
        )
        .await;
    Ok(r)
}

/// The fragments of a stored zorgmelding as (sequence, kind, categories), without opening any.
pub async fn fragment_list(app: &App, zorgmelding_id: &str) -> Vec<(u32, i32, Vec<String>)> {
    match app.store.get_melding(zorgmelding_id).await {
        Ok(Some(m)) => pb::Zorgmelding::decode(m.melding.as_slice())
            .map(|z| {
                z.fragments
                    .iter()
                    .map(|f| (f.sequence, f.kind, f.categories.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
