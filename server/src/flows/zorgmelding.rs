//! Zorgmeldingen: police fragments assembled into one zorgmelding per incident, delivered to
//! Veilig Thuis (logged as a disclosure by the police, version by version) with the recidive
//! beside it: the earlier reports about the same persons that Veilig Thuis itself received.
use super::decision::{Party, Question};
use super::envelope::{self, Expected};
use super::error::{FlowError, FlowResult, echo, reject};
use super::idempotency::{self, Fingerprint};
use super::policy::{Ask, active_recipient, check_names, consents_about, presented_consents};
use super::{Ctx, new_id, now};
use crate::auth::Caller;
use crate::domain::basis::Basis;
use crate::domain::consent::Facts;
use crate::domain::envelope::SealedEnvelope;
use crate::domain::zorgmelding::{
    FragmentKind, FragmentOutcome, FragmentRecord, FragmentRefusal, Melding, MeldingKey,
    ZorgmeldingRecord,
};
use crate::ids::Category;
use crate::ids::{Bsn, FragmentId, MeldingKind, Oin, SubjectKey, ZorgmeldingId};
use crate::ids::{Purpose, Role};
use crate::ledger::{EntryOutcome, Event, PendingEntry};
use crate::store::StoreError;
use signaalhub_policy as policy;

/// The purpose every zorgmelding fragment is shared for (a purpose of the convenant).
pub static ZORGMELDING_PURPOSE: Purpose = Purpose::known("zorgmelding_politie");
/// Most persons one fragment is about.
pub const MAX_FRAGMENT_SUBJECTS: usize = 8;

/// `SubmitFragment`, checked for structure at the edge.
#[derive(Debug, Clone)]
pub struct SubmitFragment {
    /// Sender-chosen id, unique per police organisation.
    pub fragment_id: FragmentId,
    /// The police registration number of the incident (one melding per number).
    pub registration_number: String,
    /// What the fragment holds.
    pub kind: FragmentKind,
    /// The Veilig Thuis organisation.
    pub recipient_oin: Oin,
    /// The persons (1 to [`MAX_FRAGMENT_SUBJECTS`], each once).
    pub subjects: Vec<Bsn>,
    /// Categories (a malformed one is left out by the edge, which said so).
    pub categories: Vec<Category>,
    /// The police basis (its evidence names the registration number).
    pub basis: Basis,
    /// The role the caller acts in (empty: the token's only role).
    pub acting_role: Option<Role>,
    /// The sealed fragment.
    pub envelope: SealedEnvelope,
    /// The request's own bytes without envelope, BSNs and role, for the idempotency hash (a
    /// retry that re-sealed the same fragment is still a retry).
    pub canonical: Vec<u8>,
}

/// What `SubmitFragment` answers.
#[derive(Debug)]
pub struct FragmentSubmitted<'c> {
    /// The melding the fragment belongs to.
    pub zorgmelding_id: ZorgmeldingId,
    /// The fragment's position in it.
    pub sequence: u32,
    /// Whether this was a retry of an accepted fragment.
    pub duplicate: bool,
    /// One per person (empty for a retry).
    pub decisions: Vec<policy::Decision<'c>>,
    /// Fragments in the melding now.
    pub fragment_count: u32,
}

/// `CompleteZorgmelding`: the police say the incident's melding has all its fragments.
#[derive(Debug, Clone)]
pub struct CompleteZorgmelding {
    /// The registration number (well-formed).
    pub registration_number: String,
    /// The role the caller acts in.
    pub acting_role: Option<Role>,
}

/// How `GetZorgmelding` names the melding.
#[derive(Debug, Clone)]
pub enum MeldingRef {
    /// By id (Veilig Thuis or the police).
    Id(ZorgmeldingId),
    /// By the police's own registration number (well-formed).
    Registration(String),
}

/// Earlier reports about a melding's persons that its Veilig Thuis itself received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recidive {
    /// The convenant's window, in days.
    pub window_days: u32,
    /// Earlier meldingen to this Veilig Thuis within the window.
    pub earlier_zorgmeldingen: u32,
    /// Signals delivered to it within the window.
    pub earlier_signals: u32,
    /// The sectors the earlier reports came from, sorted, each once.
    pub sectors: Vec<String>,
    /// The earlier reports, oldest first.
    pub items: Vec<RecidiveItem>,
}

/// One earlier report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecidiveItem {
    /// `zorgmelding` or `signal`.
    pub kind: &'static str,
    /// Who sent it.
    pub sender_oin: Oin,
    /// Its sector.
    pub sender_sector: String,
    /// For what purpose.
    pub purpose: Purpose,
    /// When (unix seconds).
    pub at: i64,
    /// The melding id or signal id.
    pub reference: String,
}

/// A melding as its viewer may see it.
#[derive(Debug, Clone)]
pub struct MeldingView {
    /// The melding.
    pub melding: ZorgmeldingRecord,
    /// Its fragments, in order.
    pub fragments: Vec<FragmentRecord>,
    /// Whether the viewer is its Veilig Thuis: fragments then carry their envelopes.
    pub for_recipient: bool,
    /// For Veilig Thuis: the recidive and the other meldingen about the same persons.
    pub recidive: Option<(Recidive, Vec<ZorgmeldingId>)>,
}

/// Stacked reports: what the Veilig Thuis organisation `me` itself received about the melding's
/// persons within the convenant's window before the melding — other zorgmeldingen to it, and
/// signals delivered to it — plus every other melding to it about the same persons (household).
/// Never tells Veilig Thuis of a report it was not itself sent.
pub async fn recidive(
    ctx: &Ctx,
    me: &str,
    m: &Melding,
) -> FlowResult<(Recidive, Vec<ZorgmeldingId>)> {
    let window = ctx.policy.recidive_window_secs() as i64;
    let since = m.created_at.saturating_sub(window);
    // Keyed by log position (commit order), so "oldest first" holds within one second too.
    let mut items: Vec<(u64, RecidiveItem)> = Vec::new();
    let mut linked = Vec::new();
    let mut earlier_meldingen = 0u32;
    // The melding's persons under every stored form (a re-key may be under way).
    let mut keys = ctx.lifted(&m.subjects);
    let older = ctx.older_forms_needed(&m.subjects);
    if let Some(v) = older {
        let found = ctx.store.melding_subjects_for_recipient(me).await?;
        keys.extend(ctx.same_persons(&m.subjects, found, v));
    }
    for other in ctx.store.zorgmeldingen_about(me, &keys).await? {
        if m.id.zorgmelding_id() == Some(&other.zorgmelding_id) {
            continue;
        }
        linked.push(other.zorgmelding_id.clone());
        if other.created_at >= since && other.created_cursor < m.created_cursor {
            earlier_meldingen += 1;
            items.push((
                other.created_cursor,
                RecidiveItem {
                    kind: "zorgmelding",
                    sender_oin: other.police_oin.clone(),
                    sender_sector: ctx.sector_of(&other.police_oin),
                    purpose: other.purpose.clone(),
                    at: other.created_at,
                    reference: other.zorgmelding_id.to_string(),
                },
            ));
        }
    }
    // A signal that is itself the melding is not an earlier report.
    let mut seen: Vec<(String, String)> = match m.id.kind() {
        MeldingKind::Signal(sender, id) => vec![(sender.to_string(), id.to_string())],
        MeldingKind::Zorgmelding(_) => Vec::new(),
    };
    let mut earlier_signals = 0u32;
    if let Some(v) = older {
        let found = ctx.store.log_subjects_for_org(me).await?;
        for k in ctx.same_persons(&m.subjects, found, v) {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    for stored in ctx.store.log_entries_for_subject(&keys, None).await? {
        let Some(e) = stored.entry else { continue };
        if e.event != Event::SignalDelivered
            || e.recipient_oin.as_deref() != Some(me)
            || e.at < since
            || stored.idx + 1 >= m.created_cursor
        {
            continue;
        }
        let key = (e.actor_oin.clone(), e.reference.clone().unwrap_or_default());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        earlier_signals += 1;
        items.push((
            stored.idx + 1,
            RecidiveItem {
                kind: "signal",
                sender_oin: e
                    .actor_oin
                    .parse()
                    .map_err(|_| FlowError::Store(StoreError::Corrupt("log.actor_oin")))?,
                sender_sector: ctx.sector_of(&e.actor_oin),
                purpose: e
                    .purpose
                    .as_deref()
                    .unwrap_or_default()
                    .parse()
                    .map_err(|_| FlowError::Store(StoreError::Corrupt("log.purpose")))?,
                at: e.at,
                reference: e.reference.clone().unwrap_or_default(),
            },
        ));
    }
    items.sort_by_key(|(position, _)| *position);
    let mut sectors: Vec<String> = items.iter().map(|(_, i)| i.sender_sector.clone()).collect();
    sectors.sort();
    sectors.dedup();
    Ok((
        Recidive {
            window_days: (window / 86_400) as u32,
            earlier_zorgmeldingen: earlier_meldingen,
            earlier_signals,
            sectors,
            items: items.into_iter().map(|(_, i)| i).collect(),
        },
        linked,
    ))
}

/// The melding with its fragments; with `for_recipient`, the recidive and linked meldingen too.
pub async fn view(ctx: &Ctx, m: ZorgmeldingRecord, for_recipient: bool) -> FlowResult<MeldingView> {
    let fragments = ctx.store.fragments_of(&m.zorgmelding_id).await?;
    let recidive = if for_recipient {
        Some(recidive(ctx, &m.recipient_oin, &Melding::from(&m)).await?)
    } else {
        None
    };
    Ok(MeldingView {
        melding: m,
        fragments,
        for_recipient,
        recidive,
    })
}

/// The log entry for a melding reaching (or being read by) Veilig Thuis, on `base` (the actor):
/// subjects, recipient, purpose, the categories of every fragment and the basis strings of the
/// latest (only the strings: a melding entry never claims the consent or emergency checks).
fn melding_entry(
    m: &ZorgmeldingRecord,
    fragments: &[FragmentRecord],
    base: PendingEntry,
) -> PendingEntry {
    let mut categories: Vec<&Category> = Vec::new();
    for f in fragments {
        for c in &f.categories {
            if !categories.contains(&c) {
                categories.push(c);
            }
        }
    }
    let e = base
        .subjects(m.subjects.iter().cloned())
        .recipient(m.recipient_oin.clone())
        .about(&m.purpose, categories)
        .reference(m.zorgmelding_id.clone());
    match fragments.last() {
        Some(f) => e.basis_strings(f.basis.log_strings()),
        None => e,
    }
}

/// The delivery of a melding: a disclosure by the police organisation, attributed to the author
/// of the latest fragment.
fn delivery_entry(ctx: &Ctx, m: &ZorgmeldingRecord, fragments: &[FragmentRecord]) -> PendingEntry {
    let last = fragments.last();
    let base = ctx.entry_for(
        &m.police_oin,
        &last
            .map(|f| f.author_professional.clone())
            .unwrap_or_default(),
        last.map(|f| f.author_role.as_str()).unwrap_or_default(),
        Event::ZorgmeldingDelivered,
        EntryOutcome::Disclosed,
    );
    melding_entry(m, fragments, base)
}

/// The melding `id` when the caller is its Veilig Thuis (else not found).
pub async fn melding_for_recipient(
    ctx: &Ctx,
    c: &Caller,
    id: &str,
) -> FlowResult<ZorgmeldingRecord> {
    let not_found =
        || FlowError::NotFound(format!("no zorgmelding {:?} is addressed to you", echo(id)));
    let m = ctx.store.get_zorgmelding(id).await?.ok_or_else(not_found)?;
    if m.recipient_oin != c.oin().as_str() {
        return Err(not_found());
    }
    Ok(m)
}

/// The log entry of a fragment act by the police caller.
struct FragmentEntry<'a> {
    ctx: &'a Ctx,
    caller: &'a Caller,
    role: &'a Role,
    cmd: &'a SubmitFragment,
    subjects: &'a [SubjectKey],
}

impl FragmentEntry<'_> {
    fn entry(
        &self,
        event: Event,
        outcome: EntryOutcome,
        reference: String,
        d: &policy::Decision,
    ) -> PendingEntry {
        self.ctx
            .entry(self.caller, self.role, event, outcome)
            .subjects(self.subjects.iter().map(|s| s.as_str().to_owned()))
            .recipient(self.cmd.recipient_oin.clone())
            .about(&ZORGMELDING_PURPOSE, self.cmd.categories.iter().cloned())
            .basis_strings(self.cmd.basis.log_strings())
            .decided(d)
            .reference(reference)
    }
}

fn fragment_conflict(fragment_id: &str) -> FlowError {
    idempotency::conflict(&format!("fragment id {:?}", echo(fragment_id)))
}

/// A retry of an accepted fragment, answered as the first time.
async fn fragment_retry<'c>(
    ctx: &Ctx,
    existing: &FragmentRecord,
) -> FlowResult<FragmentSubmitted<'c>> {
    let m = ctx
        .store
        .get_zorgmelding(&existing.zorgmelding_id)
        .await?
        .ok_or_else(|| FlowError::NotFound("the fragment's zorgmelding is gone".into()))?;
    let count = ctx.store.fragments_of(&m.zorgmelding_id).await?.len();
    Ok(FragmentSubmitted {
        zorgmelding_id: m.zorgmelding_id,
        sequence: existing.sequence,
        duplicate: true,
        decisions: Vec::new(),
        fragment_count: count as u32,
    })
}

/// Decides the fragment for each person on the police basis (the names against the convenant,
/// the recipient against the directory, the presented consents per person).
async fn decide_fragment<'c>(
    ctx: &'c Ctx,
    caller: &Caller,
    role: &Role,
    cmd: &SubmitFragment,
    subjects: &[SubjectKey],
) -> FlowResult<Vec<policy::Decision<'c>>> {
    let ask = Ask {
        purpose: Some(ZORGMELDING_PURPOSE.clone()),
        categories: cmd.categories.clone(),
        facts: Facts::default(),
        basis: cmd.basis.clone(),
        acting_role: Some(role.clone()),
        received_for: None,
        inform_exemption: None,
    };
    let mut decisions = Vec::with_capacity(subjects.len());
    for subject in subjects {
        let mut bad = Vec::new();
        let recipient = active_recipient(ctx, "recipient_oin", &cmd.recipient_oin, &mut bad);
        check_names(ctx, &ask, &mut bad);
        reject(std::mem::take(&mut bad))?;
        let Some(recipient) = recipient else {
            return Err(FlowError::invalid(
                "recipient_oin",
                "not an active organisation in the directory",
            ));
        };
        let one = std::slice::from_ref(subject);
        let consents = presented_consents(ctx, &ask.basis, one, &mut bad).await?;
        reject(bad)?;
        let t = now();
        let involved =
            super::policy::recipient_involved(ctx, recipient.oin_str(), subject, t).await?;
        let mine = consents_about(&ask.basis, &consents, subject);
        decisions.push(ctx.decide(&Question {
            actor: Party::new(caller.oin(), caller.sector().as_str()),
            role,
            recipient,
            purpose: &ZORGMELDING_PURPOSE,
            categories: &ask.categories,
            facts: &ask.facts,
            basis: &ask.basis,
            consents: &mine,
            recipient_involved: involved,
            received_for: None,
            inform_exemption: None,
            now: t,
        }));
    }
    Ok(decisions)
}

/// `SubmitFragment`: checks the envelope, answers a retry as the first time, decides once per
/// person and adds the fragment to its incident's melding with a `zorgmelding_fragment_sent`
/// entry — or refuses it, logging the refusal.
pub async fn submit_fragment<'c>(
    ctx: &'c Ctx,
    caller: &Caller,
    cmd: SubmitFragment,
) -> FlowResult<FragmentSubmitted<'c>> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let me = caller.oin().as_str();
    let subjects = ctx.subject_keys(&cmd.subjects);
    ctx.refuse_merged_references(&cmd.subjects, &subjects)
        .await?;
    let reference = cmd.basis.reference();
    let mut bad = Vec::new();
    envelope::check_binding(
        &cmd.envelope,
        Expected {
            sender: me,
            binding_id: &cmd.fragment_id,
            purpose: &ZORGMELDING_PURPOSE,
            categories: &cmd.categories,
            basis_reference: &reference,
            recipients: Some(&[&cmd.recipient_oin]),
        },
        &mut bad,
    );
    reject(std::mem::take(&mut bad))?;
    let request_hash = idempotency::subjects_request_hash(&cmd.canonical, &subjects, &role);
    let content_digest = &cmd.envelope.binding.content_digest;
    if let Some(existing) = ctx.store.get_fragment(me, &cmd.fragment_id).await? {
        // The same metadata and content digest, however sealed: a retry; else a conflict.
        idempotency::compare(
            Some(Fingerprint {
                request_hash: &existing.request_hash,
                content_digest: existing.content_digest.as_deref(),
            }),
            Fingerprint::new(&request_hash, content_digest),
            &format!("fragment id {:?}", echo(&cmd.fragment_id)),
        )?;
        return fragment_retry(ctx, &existing).await;
    }
    envelope::check_current(ctx, &cmd.envelope, &mut bad);
    reject(bad)?;
    let decisions = decide_fragment(ctx, caller, &role, &cmd, &subjects).await?;
    let t = now();
    let entries = FragmentEntry {
        ctx,
        caller,
        role: &role,
        cmd: &cmd,
        subjects: &subjects,
    };
    if let Some(d) = decisions.iter().find(|d| !d.is_allowed()) {
        let e = entries.entry(
            Event::ZorgmeldingFragmentDenied,
            EntryOutcome::Denied,
            cmd.fragment_id.to_string(),
            d,
        );
        ctx.store.append_log(&[e]).await?;
        return Err(FlowError::denied(
            format!("zorgmelding fragment {} refused", echo(&cmd.fragment_id)),
            d,
        ));
    }
    let Some(allowed) = decisions.first() else {
        return Err(FlowError::invalid(
            "subject_bsns",
            format!("1 to {MAX_FRAGMENT_SUBJECTS} persons"),
        ));
    };
    let key = MeldingKey {
        police_oin: caller.oin().clone(),
        registration_number: cmd.registration_number.clone(),
        recipient_oin: cmd.recipient_oin.clone(),
        purpose: ZORGMELDING_PURPOSE.clone(),
    };
    // The id of the melding this fragment opens if it is the first of its incident; the store
    // files it under the existing melding otherwise.
    let new_id = new_id::<crate::ids::Zorgmelding>()?;
    let record = FragmentRecord {
        police_oin: caller.oin().clone(),
        fragment_id: cmd.fragment_id.clone(),
        zorgmelding_id: new_id.clone(),
        sequence: 0,
        kind: cmd.kind,
        request_hash,
        content_digest: Some(content_digest.clone()),
        envelope: Some(cmd.envelope.encoded.clone()),
        categories: cmd.categories.clone(),
        subjects: subjects.iter().map(|s| s.as_str().to_owned()).collect(),
        basis: cmd.basis.clone(),
        author_role: role.clone(),
        author_professional: caller.professional.id.clone(),
        received_at: t,
        retain_until: decisions
            .iter()
            .filter_map(|d| d.retain_until)
            .max()
            .unwrap_or(t),
    };
    let outcome = ctx
        .store
        .submit_fragment(&key, &new_id, &record, |melding_id| {
            entries.entry(
                Event::ZorgmeldingFragmentSent,
                EntryOutcome::Recorded,
                format!("{melding_id}/{}", cmd.fragment_id),
                allowed,
            )
        })
        .await?;
    let (melding, sequence, duplicate) = match outcome {
        Ok(FragmentOutcome::New { melding, sequence }) => (melding, sequence, false),
        Ok(FragmentOutcome::Duplicate { melding, sequence }) => (melding, sequence, true),
        Err(refusal) => return Err(fragment_refused(&cmd, refusal)),
    };
    Ok(FragmentSubmitted {
        zorgmelding_id: melding.zorgmelding_id,
        sequence,
        duplicate,
        decisions: if duplicate { Vec::new() } else { decisions },
        fragment_count: melding.version - u32::from(melding.completed_at.is_some()),
    })
}

/// Why the store would not add the fragment, said to the police.
fn fragment_refused(cmd: &SubmitFragment, refusal: FragmentRefusal) -> FlowError {
    let rn = &cmd.registration_number;
    match refusal {
        FragmentRefusal::IdReused => fragment_conflict(&cmd.fragment_id),
        FragmentRefusal::OtherRecipient(o) => FlowError::Precondition(format!(
            "the zorgmelding of registration number {rn} goes to {o}; send every fragment of an incident to the same Veilig Thuis"
        )),
        FragmentRefusal::Complete => FlowError::Precondition(format!(
            "the zorgmelding of registration number {rn} was marked complete; it takes no more fragments"
        )),
        FragmentRefusal::Erased => FlowError::Precondition(format!(
            "the zorgmelding of registration number {rn} was erased at the end of its retention; it takes no more fragments (report a new incident under a new registration number)"
        )),
    }
}

/// `CompleteZorgmelding`: marks the caller's melding of a registration number complete, logged.
pub async fn complete(
    ctx: &Ctx,
    caller: &Caller,
    cmd: CompleteZorgmelding,
) -> FlowResult<MeldingView> {
    let role = ctx.acting_role(caller, cmd.acting_role.as_ref())?;
    ctx.require_convenant_role(caller, &role)?;
    let m = ctx
        .store
        .complete_zorgmelding(
            caller.oin().as_str(),
            &cmd.registration_number,
            now(),
            |m| {
                ctx.entry(
                    caller,
                    &role,
                    Event::ZorgmeldingCompleted,
                    EntryOutcome::Recorded,
                )
                .subjects(m.subjects.iter().cloned())
                .recipient(m.recipient_oin.clone())
                .about(m.purpose.clone(), Vec::<String>::new())
                .reference(m.zorgmelding_id.clone())
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => FlowError::NotFound(format!(
                "you sent no zorgmelding with registration number {}",
                cmd.registration_number
            )),
            StoreError::Conflict(_) => {
                FlowError::Precondition("the zorgmelding is already marked complete".into())
            }
            other => other.into(),
        })?;
    view(ctx, m, false).await
}

/// The next page of Veilig Thuis `me`'s meldingen after `after`.
pub async fn meldingen_page(ctx: &Ctx, me: &str, after: u64) -> FlowResult<Vec<ZorgmeldingRecord>> {
    Ok(ctx.store.zorgmeldingen_after(me, after, 32).await?)
}

/// Delivers one stream row to its Veilig Thuis: a version not delivered before is logged as
/// delivered first (fail closed: nothing is sent unless its delivery is logged).
pub async fn deliver(ctx: &Ctx, m: ZorgmeldingRecord) -> FlowResult<MeldingView> {
    if m.delivered_version < m.version {
        let fragments = ctx.store.fragments_of(&m.zorgmelding_id).await?;
        let e = delivery_entry(ctx, &m, &fragments);
        ctx.store
            .mark_zorgmelding_delivered(&m.zorgmelding_id, m.version, &e)
            .await?;
    }
    view(ctx, m, true).await
}

/// `GetZorgmelding`: the police see their melding; its Veilig Thuis sees it with envelopes and
/// recidive — the first time a version reaches it this way is its delivery (a disclosure by the
/// police), after that a read of personal data; both logged first (fail closed).
pub async fn get(ctx: &Ctx, caller: &Caller, which: MeldingRef) -> FlowResult<MeldingView> {
    let me = caller.oin().as_str();
    let not_found = || FlowError::NotFound("no such zorgmelding concerns you".into());
    let m = match &which {
        MeldingRef::Id(id) => ctx.store.get_zorgmelding(id).await?,
        MeldingRef::Registration(rn) => ctx.store.get_zorgmelding_by_registration(me, rn).await?,
    }
    .ok_or_else(not_found)?;
    if m.police_oin == me {
        return view(ctx, m, false).await;
    }
    if m.recipient_oin != me {
        return Err(not_found());
    }
    let fragments = ctx.store.fragments_of(&m.zorgmelding_id).await?;
    // Erased at the end of retention, no fragment has an envelope left: nothing is delivered
    // or read then, so nothing is logged.
    let nothing_left = fragments.iter().all(|f| f.envelope.is_none());
    let delivered = !nothing_left
        && m.delivered_version < m.version
        && ctx
            .store
            .mark_zorgmelding_delivered(
                &m.zorgmelding_id,
                m.version,
                &delivery_entry(ctx, &m, &fragments),
            )
            .await?;
    if !delivered && !nothing_left {
        let e = melding_entry(
            &m,
            &fragments,
            ctx.read_entry(caller, Event::ZorgmeldingRead),
        );
        ctx.store.append_log(std::slice::from_ref(&e)).await?;
    }
    view(ctx, m, true).await
}
