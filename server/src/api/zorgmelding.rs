//! `signaalhub.v1.ZorgmeldingService`: police fragments assembled into one zorgmelding per
//! incident, streamed to Veilig Thuis as one item with its fragments in order and their
//! provenance, and the recidive (earlier reports about the same persons) beside it.
use super::basis::{decision_to_pb, denied, reject, truncate};
use super::policy::{DisclosureInput, disclosure};
use super::status::{from_store, invalid};
use super::{caller, timestamp};
use crate::auth::Caller;
use crate::domain::directory::valid_key_id;
use crate::domain::zorgmelding::{
    FragmentKind, FragmentOutcome, FragmentRecord, FragmentRefusal, MeldingKey, ZorgmeldingRecord,
    valid_registration_number,
};
use crate::flows::envelope::{self, Expected};
use crate::flows::idempotency;
use crate::flows::{Ctx, now, random_id};
use crate::ids::Oin;
use crate::ledger::{EntryOutcome, Event, PendingEntry};
use prost::Message;
use signaalhub_policy as policy;
use signaalhub_proto::pb;
use signaalhub_proto::pb::zorgmelding_service_server::ZorgmeldingService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The purpose every zorgmelding fragment is shared for (a purpose of the convenant).
pub const ZORGMELDING_PURPOSE: &str = "zorgmelding_politie";
/// Most persons one fragment is about.
pub const MAX_FRAGMENT_SUBJECTS: usize = 8;

/// The ZorgmeldingService.
#[derive(Debug, Clone)]
pub struct ZorgmeldingApi {
    ctx: Ctx,
    inbox: Arc<tokio::sync::Notify>,
    stop: tokio::sync::watch::Receiver<bool>,
}

impl ZorgmeldingApi {
    /// On shared state; `inbox` is the notifier the signal inbox uses too (woken after every
    /// commit, and on PostgreSQL by `pg_notify` from any instance); streams end with
    /// `UNAVAILABLE` when `stop` turns true.
    pub fn new(
        ctx: Ctx,
        inbox: Arc<tokio::sync::Notify>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        ZorgmeldingApi { ctx, inbox, stop }
    }
}

fn kind_from_pb(k: i32) -> Option<FragmentKind> {
    Some(match pb::FragmentKind::try_from(k).ok()? {
        pb::FragmentKind::Incident => FragmentKind::Incident,
        pb::FragmentKind::Persons => FragmentKind::Persons,
        pb::FragmentKind::ChildrenPresent => FragmentKind::ChildrenPresent,
        pb::FragmentKind::History => FragmentKind::History,
        pb::FragmentKind::Other => FragmentKind::Other,
        pb::FragmentKind::Unspecified => return None,
    })
}

fn kind_to_pb(k: FragmentKind) -> pb::FragmentKind {
    match k {
        FragmentKind::Incident => pb::FragmentKind::Incident,
        FragmentKind::Persons => pb::FragmentKind::Persons,
        FragmentKind::ChildrenPresent => pb::FragmentKind::ChildrenPresent,
        FragmentKind::History => pb::FragmentKind::History,
        FragmentKind::Other => pb::FragmentKind::Other,
    }
}

/// Stacked reports: what the Veilig Thuis organisation `me` itself received about the melding's
/// persons within the convenant's window before the melding — other zorgmeldingen to it, and
/// signals delivered to it — plus every other melding to it about the same persons (household).
/// Never tells Veilig Thuis of a report it was not itself sent.
pub(crate) async fn recidive(
    ctx: &Ctx,
    me: &str,
    m: &ZorgmeldingRecord,
) -> Result<(pb::Recidive, Vec<String>), Status> {
    let window = ctx.policy.recidive_window_secs() as i64;
    let since = m.created_at.saturating_sub(window);
    // Keyed by log position (commit order), so "oldest first" holds within one second too.
    let mut items: Vec<(u64, pb::RecidiveItem)> = Vec::new();
    let mut linked = Vec::new();
    let mut earlier_meldingen = 0u32;
    // The melding's persons under every stored form (a re-key may be under way).
    let mut keys = ctx.lifted(&m.subjects);
    let older = ctx.older_forms_needed(&m.subjects);
    if let Some(v) = older {
        let found = ctx
            .store
            .melding_subjects_for_recipient(me)
            .await
            .map_err(from_store)?;
        keys.extend(ctx.same_persons(&m.subjects, found, v));
    }
    for other in ctx
        .store
        .zorgmeldingen_about(me, &keys)
        .await
        .map_err(from_store)?
    {
        if other.zorgmelding_id == m.zorgmelding_id {
            continue;
        }
        linked.push(other.zorgmelding_id.clone());
        if other.created_at >= since && other.created_cursor < m.created_cursor {
            earlier_meldingen += 1;
            items.push((
                other.created_cursor,
                pb::RecidiveItem {
                    kind: "zorgmelding".into(),
                    sender_oin: other.police_oin.clone(),
                    sender_sector: ctx.sector_of(&other.police_oin),
                    purpose: other.purpose.clone(),
                    at: Some(timestamp(other.created_at)),
                    reference: other.zorgmelding_id.clone(),
                },
            ));
        }
    }
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut earlier_signals = 0u32;
    if let Some(v) = older {
        let found = ctx
            .store
            .log_subjects_for_org(me)
            .await
            .map_err(from_store)?;
        for k in ctx.same_persons(&m.subjects, found, v) {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    {
        for stored in ctx
            .store
            .log_entries_for_subject(&keys)
            .await
            .map_err(from_store)?
        {
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
                pb::RecidiveItem {
                    kind: "signal".into(),
                    sender_oin: e.actor_oin.clone(),
                    sender_sector: ctx.sector_of(&e.actor_oin),
                    purpose: e.purpose.clone().unwrap_or_default(),
                    at: Some(timestamp(e.at)),
                    reference: e.reference.clone().unwrap_or_default(),
                },
            ));
        }
    }
    items.sort_by_key(|(position, _)| *position);
    let mut sectors: Vec<String> = items.iter().map(|(_, i)| i.sender_sector.clone()).collect();
    sectors.sort();
    sectors.dedup();
    Ok((
        pb::Recidive {
            window_days: (window / 86_400) as u32,
            earlier_zorgmeldingen: earlier_meldingen,
            earlier_signals,
            sectors,
            items: items.into_iter().map(|(_, i)| i).collect(),
        },
        linked,
    ))
}

/// The wire melding. With `for_recipient`, fragments carry their envelopes and the recidive
/// and linked meldingen are filled in.
pub(crate) async fn melding_to_pb(
    ctx: &Ctx,
    m: &ZorgmeldingRecord,
    for_recipient: bool,
) -> Result<pb::Zorgmelding, Status> {
    let fragments = ctx
        .store
        .fragments_of(&m.zorgmelding_id)
        .await
        .map_err(from_store)?;
    let (recidive, linked) = if for_recipient {
        let (r, l) = recidive(ctx, &m.recipient_oin, m).await?;
        (Some(r), l)
    } else {
        (None, Vec::new())
    };
    Ok(pb::Zorgmelding {
        zorgmelding_id: m.zorgmelding_id.clone(),
        police_oin: m.police_oin.clone(),
        registration_number: m.registration_number.clone(),
        recipient_oin: m.recipient_oin.clone(),
        purpose: m.purpose.clone(),
        fragments: fragments
            .iter()
            .map(|f| pb::ZorgmeldingFragment {
                fragment_id: f.fragment_id.clone(),
                sequence: f.sequence,
                kind: kind_to_pb(f.kind) as i32,
                categories: f.categories.clone(),
                author_oin: f.police_oin.clone(),
                author_professional: f.author_professional.clone(),
                author_role: f.author_role.clone(),
                received_at: Some(timestamp(f.received_at)),
                envelope: if for_recipient {
                    f.envelope
                        .as_deref()
                        .and_then(|b| pb::Envelope::decode(b).ok())
                } else {
                    None
                },
                subject_count: f.subjects.len() as u32,
            })
            .collect(),
        complete: m.completed_at.is_some(),
        completed_at: m.completed_at.map(timestamp),
        created_at: Some(timestamp(m.created_at)),
        updated_at: Some(timestamp(m.updated_at)),
        version: m.version,
        subject_count: m.subjects.len() as u32,
        recidive,
        linked_zorgmelding_ids: linked,
        retain_until: Some(timestamp(m.retain_until)),
    })
}

/// The log entry for a melding reaching (or being read by) Veilig Thuis: a disclosure by the
/// police organisation, attributed to the author of the latest fragment.
fn melding_entry(
    ctx: &Ctx,
    m: &ZorgmeldingRecord,
    fragments: &[FragmentRecord],
    event: Event,
    outcome: EntryOutcome,
) -> PendingEntry {
    let last = fragments.last();
    let mut categories: Vec<String> = Vec::new();
    for f in fragments {
        for c in &f.categories {
            if !categories.contains(c) {
                categories.push(c.clone());
            }
        }
    }
    let author = last
        .map(|f| f.author_professional.clone())
        .unwrap_or_default();
    let e = ctx
        .entry_for(
            &m.police_oin,
            &author,
            &last.map(|f| f.author_role.clone()).unwrap_or_default(),
            event,
            outcome,
        )
        .subjects(m.subjects.iter().cloned())
        .recipient(m.recipient_oin.clone())
        .about(m.purpose.clone(), categories)
        .reference(m.zorgmelding_id.clone());
    match last {
        // The basis strings only: a melding entry never claims the consent or emergency checks.
        Some(f) => e.basis_strings(f.basis.log_strings()),
        None => e,
    }
}

/// Requires that the caller is the melding's Veilig Thuis.
pub(crate) async fn melding_for_recipient(
    ctx: &Ctx,
    c: &Caller,
    id: &str,
) -> Result<ZorgmeldingRecord, Status> {
    let not_found = || {
        Status::not_found(format!(
            "no zorgmelding {:?} is addressed to you",
            truncate(id)
        ))
    };
    let m = ctx
        .store
        .get_zorgmelding(id)
        .await
        .map_err(from_store)?
        .ok_or_else(not_found)?;
    if m.recipient_oin != c.oin().as_str() {
        return Err(not_found());
    }
    Ok(m)
}

type MeldingStream = super::stream::ItemStream<pb::StreamZorgmeldingenResponse>;

/// `StreamZorgmeldingen`: Veilig Thuis's meldingen after its cursor; a new version (a late
/// fragment) is logged as delivered before it is sent, and sent again as an update.
struct Meldingen {
    ctx: Ctx,
    me: String,
}

impl super::stream::CursorSource for Meldingen {
    type Row = crate::domain::zorgmelding::ZorgmeldingRecord;
    type Item = pb::StreamZorgmeldingenResponse;

    async fn page(&self, after: u64) -> Result<Vec<Self::Row>, Status> {
        self.ctx
            .store
            .zorgmeldingen_after(&self.me, after, 32)
            .await
            .map_err(from_store)
    }

    async fn deliver(&self, m: Self::Row) -> Result<(u64, Option<Self::Item>), Status> {
        let ctx = &self.ctx;
        if m.delivered_version < m.version {
            let fragments = ctx
                .store
                .fragments_of(&m.zorgmelding_id)
                .await
                .map_err(from_store)?;
            let e = melding_entry(
                ctx,
                &m,
                &fragments,
                Event::ZorgmeldingDelivered,
                EntryOutcome::Disclosed,
            );
            // Fail closed: nothing is sent unless its delivery is logged.
            ctx.store
                .mark_zorgmelding_delivered(&m.zorgmelding_id, m.version, &e)
                .await
                .map_err(from_store)?;
        }
        let item = pb::StreamZorgmeldingenResponse {
            cursor: m.cursor,
            zorgmelding: Some(melding_to_pb(ctx, &m, true).await?),
            update: m.delivered_version > 0 && m.delivered_version < m.version,
        };
        Ok((m.cursor, Some(item)))
    }
}

#[tonic::async_trait]
impl ZorgmeldingService for ZorgmeldingApi {
    async fn submit_fragment(
        &self,
        request: Request<pb::SubmitFragmentRequest>,
    ) -> Result<Response<pb::SubmitFragmentResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        if !valid_registration_number(&r.registration_number) {
            bad.push((
                "registration_number",
                "the police registration number: 1-64 of A-Za-z0-9._-/".into(),
            ));
        }
        if !valid_key_id(&r.fragment_id) {
            bad.push((
                "fragment_id",
                "1-64 of A-Za-z0-9._- chosen by the sender, unique per sender".into(),
            ));
        }
        let kind = kind_from_pb(r.kind);
        if kind.is_none() {
            bad.push((
                "kind",
                "one of INCIDENT, PERSONS, CHILDREN_PRESENT, HISTORY, OTHER".into(),
            ));
        }
        if let Err(e) = r.recipient_oin.parse::<Oin>() {
            bad.push(("recipient_oin", e.to_string()));
        }
        if r.subject_bsns.is_empty() || r.subject_bsns.len() > MAX_FRAGMENT_SUBJECTS {
            bad.push((
                "subject_bsns",
                format!("1 to {MAX_FRAGMENT_SUBJECTS} persons"),
            ));
        }
        let mut subjects = Vec::new();
        for b in &r.subject_bsns {
            if let Some(p) = self.ctx.subject("subject_bsns", b, &mut bad) {
                if subjects.contains(&p) {
                    bad.push(("subject_bsns", "each person once".into()));
                } else {
                    subjects.push(p);
                }
            }
        }
        let basis = r.basis.clone().unwrap_or_default();
        let evidence_number = basis
            .legal
            .as_ref()
            .and_then(|l| l.evidence.as_ref())
            .map(|e| e.registration_number.as_str())
            .unwrap_or_default();
        if evidence_number != r.registration_number {
            bad.push((
                "basis.legal.evidence.registration_number",
                "must equal registration_number (the police basis rests on it)".into(),
            ));
        }
        let domain_basis = crate::wire::basis_from_pb(&basis, &mut bad);
        let basis_reference = domain_basis.reference();
        let sealed = match r.envelope.as_ref() {
            None => {
                bad.push((
                    "envelope",
                    "a sealed envelope is required (seal it with client-lib)".into(),
                ));
                None
            }
            Some(env) => crate::wire::envelope_from_pb("envelope", env, &mut bad),
        };
        if let Some(env) = &sealed {
            envelope::check_binding(
                env,
                Expected {
                    sender: c.oin().as_str(),
                    signal_id: &r.fragment_id,
                    purpose: ZORGMELDING_PURPOSE,
                    categories: &r.categories,
                    basis_reference: &basis_reference,
                    recipients: Some(&[&r.recipient_oin]),
                },
                &mut bad,
            );
        }
        reject(bad)?;
        let Some(kind) = kind else {
            return Err(Status::internal("validation inconsistency"));
        };
        // Idempotency on the metadata: a retry that re-sealed the same fragment is still a retry.
        let canonical = pb::SubmitFragmentRequest {
            envelope: None,
            subject_bsns: Vec::new(),
            acting_role: String::new(),
            ..r.clone()
        }
        .encode_to_vec();
        let request_hash = idempotency::request_hash(
            std::iter::once(canonical.as_slice())
                .chain(subjects.iter().map(|s| s.root().as_str().as_bytes()))
                .chain(std::iter::once(role.as_bytes())),
        );
        let me = c.oin().to_string();
        if let Some(existing) = self
            .ctx
            .store
            .get_fragment(&me, &r.fragment_id)
            .await
            .map_err(from_store)?
        {
            idempotency::compare(
                Some(&existing.request_hash),
                &request_hash,
                &format!("fragment id {:?}", truncate(&r.fragment_id)),
            )?;
            let m = self
                .ctx
                .store
                .get_zorgmelding(&existing.zorgmelding_id)
                .await
                .map_err(from_store)?
                .ok_or_else(|| Status::not_found("the fragment's zorgmelding is gone"))?;
            let count = self
                .ctx
                .store
                .fragments_of(&m.zorgmelding_id)
                .await
                .map_err(from_store)?
                .len();
            return Ok(Response::new(pb::SubmitFragmentResponse {
                zorgmelding_id: m.zorgmelding_id,
                sequence: existing.sequence,
                duplicate: true,
                decisions: vec![],
                fragment_count: count as u32,
            }));
        }
        if let Some(env) = &sealed {
            let mut bad = Vec::new();
            envelope::check_keys(&self.ctx, env, &mut bad);
            reject(bad)?;
        }
        let mut decisions: Vec<policy::Decision> = Vec::new();
        for bsn in &r.subject_bsns {
            let d = disclosure(
                &self.ctx,
                &c,
                DisclosureInput {
                    recipient_oin: &r.recipient_oin,
                    purpose: ZORGMELDING_PURPOSE,
                    categories: &r.categories,
                    subject_bsn: bsn,
                    subject: None,
                    basis: Some(&basis),
                    acting_role: &role,
                    received_for: "",
                    inform_exemption: "",
                },
            )
            .await?;
            let decision = self.ctx.policy.decide(&d.request);
            crate::metrics::decision(&decision);
            decisions.push(decision);
        }
        let t = now();
        let basis_list = domain_basis.log_strings();
        let entry =
            |event: Event, outcome: EntryOutcome, reference: String, d: &policy::Decision| {
                let mut e = self.ctx.entry(&c, &role, event, outcome);
                e.entry.subjects = subjects.iter().map(|s| s.as_str().to_owned()).collect();
                e.entry.recipient_oin = Some(r.recipient_oin.clone());
                e.entry.categories = r.categories.clone();
                e.entry.purpose = Some(ZORGMELDING_PURPOSE.into());
                e.entry.basis = basis_list.clone();
                e.entry.reasons = d
                    .reasons
                    .iter()
                    .map(|x| x.code.as_str().to_owned())
                    .collect();
                e.entry.policy_version = Some(d.policy_version.to_string());
                e.entry.reference = Some(reference);
                e
            };
        if let Some(d) = decisions.iter().find(|d| !d.is_allowed()) {
            self.ctx
                .store
                .append_log(&[entry(
                    Event::ZorgmeldingFragmentDenied,
                    EntryOutcome::Denied,
                    r.fragment_id.clone(),
                    d,
                )])
                .await
                .map_err(from_store)?;
            return Err(denied(
                &format!("zorgmelding fragment {} refused", truncate(&r.fragment_id)),
                d,
            ));
        }
        let Some(allowed) = decisions.first() else {
            return Err(Status::internal("validation inconsistency"));
        };
        let retain_until = decisions
            .iter()
            .filter_map(|d| d.retain_until)
            .max()
            .unwrap_or(t);
        let key = MeldingKey {
            police_oin: me.clone(),
            registration_number: r.registration_number.clone(),
            recipient_oin: r.recipient_oin.clone(),
            purpose: ZORGMELDING_PURPOSE.into(),
        };
        let record = FragmentRecord {
            police_oin: me.clone(),
            fragment_id: r.fragment_id.clone(),
            zorgmelding_id: String::new(),
            sequence: 0,
            kind,
            request_hash,
            envelope: r.envelope.as_ref().map(|e| e.encode_to_vec()),
            categories: r.categories.clone(),
            subjects: subjects.iter().map(|s| s.as_str().to_owned()).collect(),
            basis: domain_basis.clone(),
            author_role: role.clone(),
            author_professional: c.professional.id.clone(),
            received_at: t,
            retain_until,
        };
        let new_id = random_id("zm_")?;
        let outcome = self
            .ctx
            .store
            .submit_fragment(&key, &new_id, &record, |melding_id| {
                entry(
                    Event::ZorgmeldingFragmentSent,
                    EntryOutcome::Recorded,
                    format!("{melding_id}/{}", r.fragment_id),
                    allowed,
                )
            })
            .await
            .map_err(from_store)?;
        let (melding, sequence, duplicate) = match outcome {
            Ok(FragmentOutcome::New { melding, sequence }) => (melding, sequence, false),
            Ok(FragmentOutcome::Duplicate { melding, sequence }) => (melding, sequence, true),
            Err(FragmentRefusal::IdReused) => {
                return Err(idempotency::conflict(&format!(
                    "fragment id {:?}",
                    truncate(&r.fragment_id)
                ))
                .into());
            }
            Err(FragmentRefusal::OtherRecipient(o)) => {
                return Err(Status::failed_precondition(format!(
                    "the zorgmelding of registration number {} goes to {o}; send every fragment of an incident to the same Veilig Thuis",
                    r.registration_number
                )));
            }
            Err(FragmentRefusal::Complete) => {
                return Err(Status::failed_precondition(format!(
                    "the zorgmelding of registration number {} was marked complete; it takes no more fragments",
                    r.registration_number
                )));
            }
            Err(FragmentRefusal::Erased) => {
                return Err(Status::failed_precondition(format!(
                    "the zorgmelding of registration number {} was erased at the end of its retention; it takes no more fragments (report a new incident under a new registration number)",
                    r.registration_number
                )));
            }
        };
        self.inbox.notify_waiters();
        Ok(Response::new(pb::SubmitFragmentResponse {
            zorgmelding_id: melding.zorgmelding_id,
            sequence,
            duplicate,
            decisions: if duplicate {
                vec![]
            } else {
                decisions.iter().map(decision_to_pb).collect()
            },
            fragment_count: melding.version - u32::from(melding.completed_at.is_some()),
        }))
    }

    async fn complete_zorgmelding(
        &self,
        request: Request<pb::CompleteZorgmeldingRequest>,
    ) -> Result<Response<pb::CompleteZorgmeldingResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        if !valid_registration_number(&r.registration_number) {
            return Err(invalid(&[(
                "registration_number",
                "the police registration number: 1-64 of A-Za-z0-9._-/".into(),
            )]));
        }
        let m = self
            .ctx
            .store
            .complete_zorgmelding(c.oin().as_str(), &r.registration_number, now(), |m| {
                let mut e = self.ctx.entry(
                    &c,
                    &role,
                    Event::ZorgmeldingCompleted,
                    EntryOutcome::Recorded,
                );
                e.entry.subjects = m.subjects.clone();
                e.entry.recipient_oin = Some(m.recipient_oin.clone());
                e.entry.purpose = Some(m.purpose.clone());
                e.entry.reference = Some(m.zorgmelding_id.clone());
                e
            })
            .await
            .map_err(|e| match e {
                crate::store::StoreError::NotFound(_) => Status::not_found(format!(
                    "you sent no zorgmelding with registration number {}",
                    r.registration_number
                )),
                crate::store::StoreError::Conflict(_) => {
                    Status::failed_precondition("the zorgmelding is already marked complete")
                }
                other => from_store(other),
            })?;
        self.inbox.notify_waiters();
        Ok(Response::new(pb::CompleteZorgmeldingResponse {
            zorgmelding: Some(melding_to_pb(&self.ctx, &m, false).await?),
        }))
    }

    type StreamZorgmeldingenStream = MeldingStream;

    async fn stream_zorgmeldingen(
        &self,
        request: Request<pb::StreamZorgmeldingenRequest>,
    ) -> Result<Response<Self::StreamZorgmeldingenStream>, Status> {
        let c = caller(&request)?;
        let source = Meldingen {
            ctx: self.ctx.clone(),
            me: c.oin().to_string(),
        };
        let drive = super::stream::Drive {
            ctx: self.ctx.clone(),
            caller: c,
            wake: Arc::clone(&self.inbox),
            stop: self.stop.clone(),
            resume: "from your last processed cursor",
            buffer: 8,
        };
        let after = request.get_ref().after_cursor;
        let request_id = super::status::request_id(&request);
        Ok(Response::new(super::stream::spawn(
            drive, source, after, request_id,
        )))
    }

    async fn get_zorgmelding(
        &self,
        request: Request<pb::GetZorgmeldingRequest>,
    ) -> Result<Response<pb::GetZorgmeldingResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let me = c.oin().as_str();
        let not_found = || Status::not_found("no such zorgmelding concerns you");
        let m = if !r.zorgmelding_id.is_empty() {
            self.ctx
                .store
                .get_zorgmelding(&r.zorgmelding_id)
                .await
                .map_err(from_store)?
        } else if valid_registration_number(&r.registration_number) {
            self.ctx
                .store
                .get_zorgmelding_by_registration(me, &r.registration_number)
                .await
                .map_err(from_store)?
        } else {
            return Err(invalid(&[(
                "zorgmelding_id",
                "give the zorgmelding id, or (police) your registration number".into(),
            )]));
        }
        .ok_or_else(not_found)?;
        if m.police_oin == me {
            return Ok(Response::new(pb::GetZorgmeldingResponse {
                zorgmelding: Some(melding_to_pb(&self.ctx, &m, false).await?),
            }));
        }
        if m.recipient_oin != me {
            return Err(not_found());
        }
        // Logged first (fail closed): the first time a version reaches Veilig Thuis this way it
        // is its delivery (a disclosure); after that, a read of personal data.
        let fragments = self
            .ctx
            .store
            .fragments_of(&m.zorgmelding_id)
            .await
            .map_err(from_store)?;
        // Erased at the end of retention, no fragment has an envelope left: nothing is delivered
        // or read then, so nothing is logged.
        let nothing_left = fragments.iter().all(|f| f.envelope.is_none());
        let delivered = !nothing_left
            && m.delivered_version < m.version
            && self
                .ctx
                .store
                .mark_zorgmelding_delivered(
                    &m.zorgmelding_id,
                    m.version,
                    &melding_entry(
                        &self.ctx,
                        &m,
                        &fragments,
                        Event::ZorgmeldingDelivered,
                        EntryOutcome::Disclosed,
                    ),
                )
                .await
                .map_err(from_store)?;
        if !delivered && !nothing_left {
            let role = c.professional.roles.first().cloned().unwrap_or_default();
            let mut e = melding_entry(
                &self.ctx,
                &m,
                &fragments,
                Event::ZorgmeldingRead,
                EntryOutcome::Recorded,
            );
            e.entry.actor_oin = me.to_owned();
            e.entry.actor_pro = self.ctx.professional_pseudonym(me, &c.professional.id);
            e.entry.actor_role = role;
            e.professional = c.professional.id.clone();
            self.ctx
                .store
                .append_log(std::slice::from_ref(&e))
                .await
                .map_err(from_store)?;
        }
        Ok(Response::new(pb::GetZorgmeldingResponse {
            zorgmelding: Some(melding_to_pb(&self.ctx, &m, true).await?),
        }))
    }
}
