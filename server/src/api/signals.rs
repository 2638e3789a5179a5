//! `signaalhub.v1.SignalService`: send sealed signals on a recorded basis, stream the inbox,
//! acknowledge, inspect and recall. The policy decides at submission and again at delivery.
use super::basis::{
    decision_to_pb, denied, facts_from_pb, facts_to_policy, legal_from_pb, reject, truncate,
};
use super::ctx::{Ctx, now};
use super::policy::{DisclosureInput, disclosure};
use super::status::{from_store, invalid};
use super::{caller, timestamp};
use crate::auth::Caller;
use crate::domain::consent::Consent;
use crate::domain::directory::{KeyUsage, valid_key_id};
use crate::domain::signal::{Delivery, DeliveryState, NewDelivery, SignalRecord, StoredReason};
use crate::ids::Oin;
use crate::ledger::{EntryOutcome, Event, PendingEntry};
use crate::store::StoreError;
use crate::store::signal::{DeliveryVerdict, Submitted};
use prost::Message;
use signaalhub_policy as policy;
use signaalhub_proto::pb;
use signaalhub_proto::pb::signal_service_server::SignalService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Most recipients of one signal.
pub const MAX_RECIPIENTS: usize = 8;
/// Most subjects of one signal.
pub const MAX_SUBJECTS: usize = 8;

/// The SignalService.
#[derive(Debug, Clone)]
pub struct SignalApi {
    ctx: Ctx,
    inbox: Arc<tokio::sync::Notify>,
    stop: tokio::sync::watch::Receiver<bool>,
}

impl SignalApi {
    /// On shared state; `inbox` is notified after every new signal commits; inbox streams end
    /// with `UNAVAILABLE` when `stop` turns true (the hub drains; clients reconnect elsewhere).
    pub fn new(
        ctx: Ctx,
        inbox: Arc<tokio::sync::Notify>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        SignalApi { ctx, inbox, stop }
    }
}

fn reason_to_stored(r: &policy::Reason) -> StoredReason {
    StoredReason {
        code: r.code.as_str().into(),
        rule: r.rule.clone(),
        nl: r.nl.clone(),
        en: r.en.clone(),
    }
}

fn delivery_to_pb(d: &Delivery) -> pb::Delivery {
    pb::Delivery {
        recipient_oin: d.recipient_oin.clone(),
        state: match d.state {
            DeliveryState::Pending => pb::DeliveryState::Pending,
            DeliveryState::Delivered => pb::DeliveryState::Delivered,
            DeliveryState::Acknowledged => pb::DeliveryState::Acknowledged,
            DeliveryState::Withheld => pb::DeliveryState::Withheld,
            DeliveryState::Withdrawn => pb::DeliveryState::Withdrawn,
        } as i32,
        reasons: d
            .reasons
            .iter()
            .map(|r| pb::Reason {
                code: r.code.clone(),
                rule: r.rule.clone(),
                text_nl: r.nl.clone(),
                text_en: r.en.clone(),
            })
            .collect(),
        updated_at: Some(timestamp(d.updated_at)),
    }
}

fn basis_strings(legal: Option<&pb::LegalBasis>, consent_ids: &[String]) -> Vec<String> {
    legal
        .map(|l| format!("legal:{}", l.basis))
        .into_iter()
        .chain(consent_ids.iter().map(|c| format!("consent:{c}")))
        .collect()
}

/// Checks the envelope against the request metadata and the directory: the hub cannot open it,
/// but it can refuse one whose binding, recipients or signature do not match.
fn check_envelope(
    c: &Caller,
    r: &pb::SendSignalRequest,
    recipients: &[Oin],
    bad: &mut Vec<(&'static str, String)>,
) {
    let Some(env) = r.envelope.as_ref() else {
        bad.push((
            "envelope",
            "a sealed envelope is required (seal it with client-lib)".into(),
        ));
        return;
    };
    if let Err(e) = signaalhub_proto::envelope::check_structure(env) {
        bad.push(("envelope", e.to_string()));
        return;
    }
    if env.sender_oin != c.oin().as_str() {
        bad.push(("envelope.sender_oin", "must be your own OIN".into()));
    }
    let binding = env.binding.clone().unwrap_or_default();
    if binding.signal_id != r.signal_id {
        bad.push(("envelope.binding.signal_id", "must equal signal_id".into()));
    }
    if binding.purpose != r.purpose {
        bad.push(("envelope.binding.purpose", "must equal purpose".into()));
    }
    if binding.categories != r.categories {
        bad.push((
            "envelope.binding.categories",
            "must equal categories (same order)".into(),
        ));
    }
    let expected = signaalhub_proto::basis_reference(&r.basis.clone().unwrap_or_default());
    if binding.basis_reference != expected {
        bad.push((
            "envelope.binding.basis_reference",
            format!(
                "must be {:?} for the basis this request presents",
                truncate(&expected)
            ),
        ));
    }
    for rc in recipients {
        if !env
            .sealed_keys
            .iter()
            .any(|k| k.recipient_oin == rc.as_str())
        {
            bad.push((
                "envelope.sealed_keys",
                format!("no data key is sealed to recipient {rc}"),
            ));
        }
    }
    for k in &env.sealed_keys {
        if !recipients.iter().any(|rc| rc.as_str() == k.recipient_oin) {
            bad.push((
                "envelope.sealed_keys",
                format!(
                    "a data key is sealed to {}, which is not a recipient",
                    truncate(&k.recipient_oin)
                ),
            ));
        }
    }
}

/// Verifies the envelope's sender signature and recipients' key ids against published keys.
pub(crate) fn check_envelope_keys(ctx: &Ctx, env: &pb::Envelope) -> Result<(), Status> {
    let dir = ctx.directory.snapshot();
    let current = |oin: &str, usage: KeyUsage, kid: &str| {
        oin.parse::<Oin>()
            .ok()
            .and_then(|o| dir.orgs.get(&o))
            .and_then(|e| e.envelope_keys.get(&(usage, kid.to_owned())).cloned())
    };
    let key = current(
        &env.sender_oin,
        KeyUsage::Signing,
        &env.sender_signing_key_id,
    )
    .ok_or_else(|| {
        invalid(&[(
            "envelope.sender_signing_key_id",
            "not the current signing key your organisation published".into(),
        )])
    })?;
    let msg = signaalhub_proto::envelope::signing_input(env);
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &key)
        .verify(&msg, &env.signature)
        .map_err(|_| {
            invalid(&[(
                "envelope.signature",
                "does not verify with the signing key it names".into(),
            )])
        })?;
    for sk in &env.sealed_keys {
        if current(&sk.recipient_oin, KeyUsage::Encryption, &sk.key_id).is_none() {
            return Err(invalid(&[(
                "envelope.sealed_keys.key_id",
                format!(
                    "{} is not the current encryption key of {}; fetch it with GetOrganization",
                    truncate(&sk.key_id),
                    truncate(&sk.recipient_oin)
                ),
            )]));
        }
    }
    Ok(())
}

/// Decides again at delivery, with the consents as they stand now; `involved[i]` says whether the
/// recipient is registered as involved with `s.subjects[i]` now.
fn redecide<'c>(
    ctx: &'c Ctx,
    s: &SignalRecord,
    recipient: &str,
    consents: &[Consent],
    involved: &[bool],
) -> policy::Decision<'c> {
    let dir = ctx.directory.snapshot();
    let sector = |oin: &str| {
        oin.parse::<Oin>()
            .ok()
            .and_then(|o| dir.orgs.get(&o).map(|e| e.org.sector.to_string()))
            .unwrap_or_default()
    };
    let basis = pb::Basis::decode(s.basis.as_slice()).unwrap_or_default();
    let mut ignored = Vec::new();
    let legal = basis
        .legal
        .as_ref()
        .map(|l| legal_from_pb(l, |_| true, &mut ignored));
    let t = now();
    super::policy::decide_each(
        ctx,
        s.subjects.iter().enumerate().map(|(i, subject)| {
            let mine: Vec<policy::ConsentRecord> = consents
                .iter()
                .filter(|c| ctx.pseudonymizer.same_person(c.subject.as_str(), subject))
                .map(|c| c.to_policy(t))
                .collect();
            policy::DecisionRequest {
                actor: policy::Actor {
                    oin: s.sender_oin.clone(),
                    sector: sector(&s.sender_oin),
                    role: s.sender_role.clone(),
                },
                recipient: policy::Recipient {
                    oin: recipient.to_owned(),
                    sector: sector(recipient),
                },
                purpose: s.purpose.clone(),
                categories: s.categories.clone(),
                subject: facts_to_policy(&s.facts),
                basis: policy::PresentedBasis {
                    legal: legal.clone(),
                    consents: mine,
                },
                recipient_involved: involved.get(i).copied().unwrap_or(false),
                received_for: s.received_for.clone(),
                inform_exemption: s.inform_exemption.clone(),
                now: t,
            }
        }),
    )
}

fn hub_entry(
    ctx: &Ctx,
    s: &SignalRecord,
    recipient: &str,
    event: Event,
    outcome: EntryOutcome,
    d: &policy::Decision,
) -> PendingEntry {
    let basis = pb::Basis::decode(s.basis.as_slice()).unwrap_or_default();
    PendingEntry {
        entry: crate::ledger::LogEntry {
            v: 1,
            event,
            at: now(),
            actor_oin: s.sender_oin.clone(),
            actor_pro: ctx.pseudonymizer.keyed(
                "signaalhub/professional/v1",
                &[&s.sender_oin, &s.sender_professional],
            ),
            actor_role: s.sender_role.clone(),
            subjects: s.subjects.clone(),
            recipient_oin: Some(recipient.to_owned()),
            categories: s.categories.clone(),
            purpose: Some(s.purpose.clone()),
            basis: basis_strings(basis.legal.as_ref(), &basis.consent_ids),
            checks: crate::ledger::Checks {
                authorised: true,
                relationship: false,
                consent: !basis.consent_ids.is_empty(),
                emergency: basis
                    .legal
                    .as_ref()
                    .is_some_and(|l| l.basis == "vitaal_belang"),
            },
            outcome,
            reasons: d
                .reasons
                .iter()
                .map(|r| r.code.as_str().to_owned())
                .collect(),
            policy_version: Some(d.policy_version.to_string()),
            reference: Some(s.signal_id.clone()),
        },
        professional: s.sender_professional.clone(),
    }
}

fn item(row: &crate::store::signal::InboxRow) -> pb::StreamInboxResponse {
    let basis = pb::Basis::decode(row.signal.basis.as_slice()).unwrap_or_default();
    pb::StreamInboxResponse {
        cursor: row.delivery.cursor,
        sender_oin: row.signal.sender_oin.clone(),
        signal_id: row.signal.signal_id.clone(),
        purpose: row.signal.purpose.clone(),
        categories: row.signal.categories.clone(),
        urgency: row.signal.urgency,
        envelope: row
            .signal
            .envelope
            .as_deref()
            .and_then(|b| pb::Envelope::decode(b).ok()),
        sent_at: Some(timestamp(row.signal.created_at)),
        retain_until: Some(timestamp(row.signal.retain_until)),
        basis: basis_strings(basis.legal.as_ref(), &basis.consent_ids),
    }
}

type InboxStream = super::stream::ItemStream<pb::StreamInboxResponse>;

/// `StreamInbox`: the recipient's pending and delivered signals after its cursor; a pending one
/// is decided again (consents locked, involvement asked again) and logged before it is sent, or
/// withheld and skipped.
struct Inbox {
    ctx: Ctx,
    me: String,
}

impl super::stream::CursorSource for Inbox {
    type Row = crate::store::signal::InboxRow;
    type Item = pb::StreamInboxResponse;

    async fn page(&self, after: u64) -> Result<Vec<Self::Row>, Status> {
        self.ctx
            .store
            .inbox(&self.me, after, 64)
            .await
            .map_err(from_store)
    }

    async fn deliver(&self, row: Self::Row) -> Result<(u64, Option<Self::Item>), Status> {
        let (ctx, me) = (&self.ctx, &self.me);
        let state = if row.delivery.state == DeliveryState::Pending {
            // Flows that require involvement ask the register again at delivery.
            let mut involved = Vec::with_capacity(row.signal.subjects.len());
            for subject in &row.signal.subjects {
                involved.push(
                    ctx.is_involved_stored(me, subject, now())
                        .await
                        .map_err(from_store)?,
                );
            }
            let s = row.signal.clone();
            let rc = me.clone();
            let ctx2 = ctx.clone();
            // Fail closed: nothing is sent when the log cannot be written.
            ctx.store
                .deliver(
                    me,
                    &row.signal.sender_oin,
                    &row.signal.signal_id,
                    &row.delivery.consent_ids,
                    move |consents| {
                        let d = redecide(&ctx2, &s, &rc, consents, &involved);
                        if d.is_allowed() {
                            DeliveryVerdict::Deliver(hub_entry(
                                &ctx2,
                                &s,
                                &rc,
                                Event::SignalDelivered,
                                EntryOutcome::Disclosed,
                                &d,
                            ))
                        } else {
                            DeliveryVerdict::Withhold(
                                d.reasons.iter().map(reason_to_stored).collect(),
                                hub_entry(
                                    &ctx2,
                                    &s,
                                    &rc,
                                    Event::SignalWithheld,
                                    EntryOutcome::Withheld,
                                    &d,
                                ),
                            )
                        }
                    },
                )
                .await
                .map_err(from_store)?
        } else {
            row.delivery.state
        };
        let sent = (state == DeliveryState::Delivered).then(|| item(&row));
        Ok((row.delivery.cursor, sent))
    }
}

#[tonic::async_trait]
impl SignalService for SignalApi {
    async fn send_signal(
        &self,
        request: Request<pb::SendSignalRequest>,
    ) -> Result<Response<pb::SendSignalResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        if !valid_key_id(&r.signal_id) {
            bad.push((
                "signal_id",
                "1-64 of A-Za-z0-9._- chosen by the sender, unique per sender".into(),
            ));
        }
        if r.recipient_oins.is_empty() || r.recipient_oins.len() > MAX_RECIPIENTS {
            bad.push((
                "recipient_oins",
                format!("1 to {MAX_RECIPIENTS} recipients"),
            ));
        }
        let mut recipients: Vec<Oin> = Vec::new();
        for o in &r.recipient_oins {
            match o.parse::<Oin>() {
                Ok(o) if !recipients.contains(&o) => recipients.push(o),
                Ok(_) => bad.push(("recipient_oins", "each recipient once".into())),
                Err(e) => bad.push(("recipient_oins", e.to_string())),
            }
        }
        if r.subject_bsns.is_empty() || r.subject_bsns.len() > MAX_SUBJECTS {
            bad.push(("subject_bsns", format!("1 to {MAX_SUBJECTS} subjects")));
        }
        let mut subjects = Vec::new();
        for b in &r.subject_bsns {
            if let Some(p) = self.ctx.subject("subject_bsns", b, &mut bad) {
                if subjects.contains(&p) {
                    bad.push(("subject_bsns", "each subject once".into()));
                } else {
                    subjects.push(p);
                }
            }
        }
        if pb::Urgency::try_from(r.urgency).is_err() {
            bad.push(("urgency", "unknown value".into()));
        }
        check_envelope(&c, &r, &recipients, &mut bad);
        reject(bad)?;
        // A retry of an accepted request answers as the first time did, without deciding again.
        let mut hashed = r.clone();
        // Version-1 pseudonyms: the hash of a retry stays the same across a key rotation.
        hashed.subject_bsns = subjects
            .iter()
            .map(|s| s.root().as_str().to_owned())
            .collect();
        hashed.acting_role = role.clone();
        let request_hash = ring::digest::digest(&ring::digest::SHA256, &hashed.encode_to_vec())
            .as_ref()
            .to_vec();
        if let Some(existing) = self
            .ctx
            .store
            .get_signal(c.oin().as_str(), &r.signal_id)
            .await
            .map_err(from_store)?
        {
            if existing.request_hash != request_hash {
                return Err(Status::already_exists(format!(
                    "signal id {} was used for a different signal; choose a new id",
                    truncate(&r.signal_id)
                )));
            }
            let ds = self
                .ctx
                .store
                .deliveries_of(c.oin().as_str(), &r.signal_id)
                .await
                .map_err(from_store)?;
            return Ok(Response::new(pb::SendSignalResponse {
                signal_id: r.signal_id,
                deliveries: ds.iter().map(delivery_to_pb).collect(),
                decisions: vec![],
                duplicate: true,
            }));
        }
        if let Some(env) = r.envelope.as_ref() {
            check_envelope_keys(&self.ctx, env)?;
        }
        // Consents by subject, so each subject is decided on its own consents.
        let basis = r.basis.clone().unwrap_or_default();
        let all_consents = if basis.consent_ids.is_empty() || subjects.len() < 2 {
            Vec::new()
        } else {
            self.ctx
                .store
                .get_consents(&basis.consent_ids)
                .await
                .map_err(from_store)?
        };
        let mut decisions = Vec::new();
        let mut new_deliveries = Vec::new();
        let mut facts = None;
        for rc in &recipients {
            let mut relied: Vec<String> = Vec::new();
            for (bsn, subject) in r.subject_bsns.iter().zip(subjects.iter()) {
                let mut b = basis.clone();
                if subjects.len() > 1 {
                    b.consent_ids = all_consents
                        .iter()
                        .filter(|k| subject.matches(k.subject.as_str()))
                        .map(|k| k.id.clone())
                        .collect();
                }
                let d = disclosure(
                    &self.ctx,
                    &c,
                    DisclosureInput {
                        recipient_oin: rc.as_str(),
                        purpose: &r.purpose,
                        categories: &r.categories,
                        subject_bsn: bsn,
                        subject: r.subject.as_ref(),
                        basis: Some(&b),
                        acting_role: &role,
                        received_for: &r.received_for,
                        inform_exemption: &r.inform_exemption,
                    },
                )
                .await?;
                let decision = self.ctx.policy.decide(&d.request);
                crate::metrics::decision(&decision);
                for i in &decision.consents_relied_on {
                    if let Some(k) = d.consents.get(i)
                        && !relied.contains(&k.id)
                    {
                        relied.push(k.id.clone());
                    }
                }
                if facts.is_none() {
                    let mut ignored = Vec::new();
                    let given = facts_from_pb(r.subject.as_ref(), &mut ignored);
                    facts = Some(
                        if given.age_years.is_none()
                            && given.age_band.is_none()
                            && given.gezag_holders.is_empty()
                        {
                            d.consents.first().map(|k| k.facts.clone()).unwrap_or(given)
                        } else {
                            given
                        },
                    );
                }
                decisions.push((rc.clone(), decision));
            }
            new_deliveries.push(NewDelivery {
                recipient_oin: rc.to_string(),
                consent_ids: relied,
            });
        }
        let t = now();
        let record = SignalRecord {
            sender_oin: c.oin().to_string(),
            signal_id: r.signal_id.clone(),
            request_hash,
            envelope: r.envelope.as_ref().map(|e| e.encode_to_vec()),
            purpose: r.purpose.clone(),
            categories: r.categories.clone(),
            urgency: r.urgency,
            basis: basis.encode_to_vec(),
            subjects: subjects.iter().map(|s| s.as_str().to_owned()).collect(),
            facts: facts.unwrap_or_default(),
            sender_role: role.clone(),
            sender_professional: c.professional.id.clone(),
            received_for: (!r.received_for.is_empty()).then(|| r.received_for.clone()),
            inform_exemption: (!r.inform_exemption.is_empty()).then(|| r.inform_exemption.clone()),
            created_at: t,
            retain_until: decisions
                .iter()
                .filter_map(|(_, d)| d.retain_until)
                .max()
                .unwrap_or(t),
        };
        if let Some((rc, d)) = decisions.iter().find(|(_, d)| !d.is_allowed()) {
            // Refused as a whole; every refusal is logged.
            let entries: Vec<PendingEntry> = decisions
                .iter()
                .filter(|(_, d)| !d.is_allowed())
                .map(|(rc, d)| {
                    hub_entry(
                        &self.ctx,
                        &record,
                        rc.as_str(),
                        Event::SignalDenied,
                        EntryOutcome::Denied,
                        d,
                    )
                })
                .collect();
            self.ctx
                .store
                .append_log(&entries)
                .await
                .map_err(from_store)?;
            return Err(denied(&format!("signal to {rc} refused"), d));
        }
        // `decisions` holds, per recipient in order, one decision per subject: one log entry (and
        // so one inbox cursor) per recipient.
        let entries: Vec<PendingEntry> = decisions
            .chunks(subjects.len())
            .map(|chunk| {
                let (rc, d) = &chunk[0];
                hub_entry(
                    &self.ctx,
                    &record,
                    rc.as_str(),
                    Event::SignalSent,
                    EntryOutcome::Recorded,
                    d,
                )
            })
            .collect();
        let submitted = self
            .ctx
            .signals
            .insert_signal(record, new_deliveries, entries)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => Status::already_exists(format!(
                    "signal id {} was used for a different signal; choose a new id",
                    truncate(&r.signal_id)
                )),
                other => from_store(other),
            })?;
        let (deliveries, duplicate) = match submitted {
            Submitted::New(d) => (d, false),
            Submitted::Duplicate(d) => (d, true),
        };
        self.inbox.notify_waiters();
        Ok(Response::new(pb::SendSignalResponse {
            signal_id: r.signal_id,
            deliveries: deliveries.iter().map(delivery_to_pb).collect(),
            decisions: decisions.iter().map(|(_, d)| decision_to_pb(d)).collect(),
            duplicate,
        }))
    }

    type StreamInboxStream = InboxStream;

    async fn stream_inbox(
        &self,
        request: Request<pb::StreamInboxRequest>,
    ) -> Result<Response<Self::StreamInboxStream>, Status> {
        let c = caller(&request)?;
        let inbox = Inbox {
            ctx: self.ctx.clone(),
            me: c.oin().to_string(),
        };
        let drive = super::stream::Drive {
            ctx: self.ctx.clone(),
            caller: c,
            wake: Arc::clone(&self.inbox),
            stop: self.stop.clone(),
            resume: "from your last acknowledged cursor",
            buffer: 16,
        };
        let after = request.get_ref().after_cursor;
        let request_id = super::status::request_id(&request);
        Ok(Response::new(super::stream::spawn(
            drive, inbox, after, request_id,
        )))
    }

    async fn ack_signal(
        &self,
        request: Request<pb::AckSignalRequest>,
    ) -> Result<Response<pb::AckSignalResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        self.ctx
            .store
            .acknowledge(c.oin().as_str(), &r.sender_oin, &r.signal_id, now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict(m) => Status::failed_precondition(format!(
                    "{m}: only delivered signals can be acknowledged"
                )),
                other => from_store(other),
            })?;
        Ok(Response::new(pb::AckSignalResponse {}))
    }

    async fn get_signal(
        &self,
        request: Request<pb::GetSignalRequest>,
    ) -> Result<Response<pb::GetSignalResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let not_found = || {
            Status::not_found(format!(
                "no signal {:?} from {:?} concerns you",
                truncate(&r.signal_id),
                truncate(&r.sender_oin)
            ))
        };
        let s = self
            .ctx
            .store
            .get_signal(&r.sender_oin, &r.signal_id)
            .await
            .map_err(from_store)?
            .ok_or_else(not_found)?;
        let ds = self
            .ctx
            .store
            .deliveries_of(&r.sender_oin, &r.signal_id)
            .await
            .map_err(from_store)?;
        let me = c.oin().as_str();
        let (deliveries, envelope) = if s.sender_oin == me {
            (ds, None)
        } else {
            let mine: Vec<Delivery> = ds.into_iter().filter(|d| d.recipient_oin == me).collect();
            let delivered = mine.iter().any(|d| {
                matches!(
                    d.state,
                    DeliveryState::Delivered | DeliveryState::Acknowledged
                )
            });
            if mine.is_empty() {
                return Err(not_found());
            }
            // Once erased at the end of retention there is no envelope left to read.
            let delivered = delivered && s.envelope.is_some();
            if delivered {
                // Reading the envelope again is a read of personal data: logged first (fail closed).
                let role = c.professional.roles.first().cloned().unwrap_or_default();
                let mut e = self
                    .ctx
                    .entry(&c, &role, Event::SignalRead, EntryOutcome::Recorded);
                e.entry.subjects = s.subjects.clone();
                e.entry.recipient_oin = Some(me.to_owned());
                e.entry.categories = s.categories.clone();
                e.entry.purpose = Some(s.purpose.clone());
                e.entry.reference = Some(s.signal_id.clone());
                self.ctx
                    .store
                    .append_log(std::slice::from_ref(&e))
                    .await
                    .map_err(from_store)?;
            }
            (
                mine,
                if delivered {
                    s.envelope
                        .as_deref()
                        .and_then(|b| pb::Envelope::decode(b).ok())
                } else {
                    None
                },
            )
        };
        Ok(Response::new(pb::GetSignalResponse {
            sender_oin: s.sender_oin.clone(),
            signal_id: s.signal_id.clone(),
            purpose: s.purpose.clone(),
            categories: s.categories.clone(),
            deliveries: deliveries.iter().map(delivery_to_pb).collect(),
            envelope,
            sent_at: Some(timestamp(s.created_at)),
        }))
    }

    async fn withdraw_signal(
        &self,
        request: Request<pb::WithdrawSignalRequest>,
    ) -> Result<Response<pb::WithdrawSignalResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, "")?;
        let r = request.into_inner();
        let s = self
            .ctx
            .store
            .get_signal(c.oin().as_str(), &r.signal_id)
            .await
            .map_err(from_store)?
            .ok_or_else(|| {
                Status::not_found(format!("you sent no signal {:?}", truncate(&r.signal_id)))
            })?;
        let ds = self
            .ctx
            .store
            .withdraw_signal(c.oin().as_str(), &r.signal_id, |recipient| {
                let mut e =
                    self.ctx
                        .entry(&c, &role, Event::SignalWithdrawn, EntryOutcome::Withheld);
                e.entry.subjects = s.subjects.clone();
                e.entry.recipient_oin = Some(recipient.to_owned());
                e.entry.categories = s.categories.clone();
                e.entry.purpose = Some(s.purpose.clone());
                e.entry.reference = Some(s.signal_id.clone());
                e
            })
            .await
            .map_err(from_store)?;
        Ok(Response::new(pb::WithdrawSignalResponse {
            deliveries: ds.iter().map(delivery_to_pb).collect(),
        }))
    }
}
