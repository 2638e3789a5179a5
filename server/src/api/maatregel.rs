//! `signaalhub.v1.MaatregelService`: the maatregel register and its minimal query.
//!
//! The answer to `HasMaatregel` is a disclosure by the youth protection sector to the asker. It
//! is decided by the convenant as such (purpose `maatregel_afstemming`, category
//! `maatregel_bestaan`, basis `jeugdwet_informatie` with the maatregel as `maatregel_reference`
//! and the involvement register's answer as `recipient_involved`), once per active maatregel with
//! its responsible organisation as the discloser. Independently of the convenant, the hub answers
//! only an organisation with an active registered involvement with the child.
use super::basis::{denied, reject, truncate};
use super::status::{from_store, invalid};
use super::{caller, timestamp};
use crate::auth::Caller;
use crate::domain::basis::Basis;
use crate::domain::consent::Facts;
use crate::domain::involvement::{CATEGORY_INVOLVEMENT, Notification, NotificationKind};
use crate::domain::maatregel::{
    ANSWER_BASIS, ANSWER_CATEGORY, ANSWER_PURPOSE, MAX_AHEAD_SECS, Maatregel, MaatregelKind,
    REGISTERING_SECTOR, valid_contact,
};
use crate::flows::decision::{Party, Question};
use crate::flows::involvement::{SKEW_SECS, not_involved, notification, retain_until};
use crate::flows::{Ctx, now, random_id};
use crate::ids::{Oin, SubjectPseudonym};
use crate::ledger::{EntryOutcome, Event, PendingEntry};
use crate::store::StoreError;
use signaalhub_policy as policy;
use signaalhub_proto::pb;
use signaalhub_proto::pb::maatregel_service_server::MaatregelService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The MaatregelService.
#[derive(Debug, Clone)]
pub struct MaatregelApi {
    ctx: Ctx,
    wake: Arc<tokio::sync::Notify>,
}

impl MaatregelApi {
    /// On shared state; `wake` is notified after a responsible organisation was told.
    pub fn new(ctx: Ctx, wake: Arc<tokio::sync::Notify>) -> Self {
        MaatregelApi { ctx, wake }
    }
}

fn kind_to_pb(k: MaatregelKind) -> pb::MaatregelKind {
    match k {
        MaatregelKind::Ots => pb::MaatregelKind::Ots,
        MaatregelKind::Voogdij => pb::MaatregelKind::Voogdij,
        MaatregelKind::MachtigingUithuisplaatsing => pb::MaatregelKind::MachtigingUithuisplaatsing,
        MaatregelKind::Jeugdreclassering => pb::MaatregelKind::Jeugdreclassering,
    }
}

fn kind_from_pb(v: i32) -> Option<MaatregelKind> {
    match pb::MaatregelKind::try_from(v).ok()? {
        pb::MaatregelKind::Ots => Some(MaatregelKind::Ots),
        pb::MaatregelKind::Voogdij => Some(MaatregelKind::Voogdij),
        pb::MaatregelKind::MachtigingUithuisplaatsing => {
            Some(MaatregelKind::MachtigingUithuisplaatsing)
        }
        pb::MaatregelKind::Jeugdreclassering => Some(MaatregelKind::Jeugdreclassering),
        pb::MaatregelKind::Unspecified => None,
    }
}

fn maatregel_to_pb(m: &Maatregel) -> pb::Maatregel {
    pb::Maatregel {
        maatregel_id: m.id.clone(),
        kind: kind_to_pb(m.kind) as i32,
        starts_at: Some(timestamp(m.starts_at)),
        ends_at: m.ends_at.map(timestamp),
        responsible_oin: m.responsible_oin.clone(),
        contact_point: m.contact_point.clone(),
        registered_by_oin: m.registered_by_oin.clone(),
        registered_at: Some(timestamp(m.registered_at)),
        ended_at: m.ended_at.map(timestamp),
    }
}

/// Only the youth protection sector registers, ends and lists maatregelen.
fn require_sector(c: &Caller, what: &str) -> Result<(), Status> {
    if c.sector().as_str() == REGISTERING_SECTOR {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "{what} is reserved for the {REGISTERING_SECTOR} sector (gecertificeerde instellingen and the Raad voor de Kinderbescherming); your organisation is in sector {}",
            c.sector()
        )))
    }
}

fn maatregel_entry(
    ctx: &Ctx,
    c: &Caller,
    role: &str,
    event: Event,
    outcome: EntryOutcome,
    subject: &SubjectPseudonym,
) -> PendingEntry {
    let mut e = ctx.entry(c, role, event, outcome);
    e.entry.subjects = vec![subject.as_str().to_owned()];
    e.entry.categories = vec![ANSWER_CATEGORY.into()];
    e.entry.purpose = Some(ANSWER_PURPOSE.into());
    e
}

impl MaatregelApi {
    /// The decision for disclosing the answer about `m` (or, when no maatregel is active, about
    /// the register as such, with `fallback_reference`) to the caller.
    fn decide(
        &self,
        c: &Caller,
        m: Option<&Maatregel>,
        fallback_reference: &str,
        involved: bool,
    ) -> policy::Decision<'_> {
        let p = &self.ctx.policy;
        let (actor_oin, role, reference) = match m {
            Some(m) => (
                m.responsible_oin.clone(),
                m.registered_role.clone(),
                m.id.clone(),
            ),
            None => {
                // No maatregel: the answer "none" is decided as if the sector's first
                // participating organisation in the directory gave it.
                let dir = self.ctx.directory.snapshot();
                let mut gis: Vec<String> = dir
                    .orgs
                    .values()
                    .filter(|e| {
                        e.org.sector.as_str() == REGISTERING_SECTOR
                            && e.org.status == crate::domain::directory::OrgStatus::Active
                            && p.is_party(REGISTERING_SECTOR, e.org.oin.as_str())
                    })
                    .map(|e| e.org.oin.to_string())
                    .collect();
                gis.sort();
                let role = p
                    .roles_for_sector(REGISTERING_SECTOR)
                    .and_then(|r| r.first().cloned())
                    .unwrap_or_default();
                (
                    gis.into_iter().next().unwrap_or_default(),
                    role,
                    fallback_reference.to_owned(),
                )
            }
        };
        let basis = Basis {
            legal: Some(policy::LegalBasisRecord {
                basis: ANSWER_BASIS.into(),
                evidence: policy::Evidence {
                    maatregel_reference: Some(reference),
                    ..policy::Evidence::default()
                },
            }),
            consent_ids: Vec::new(),
        };
        let categories = [ANSWER_CATEGORY.to_owned()];
        self.ctx.decide(&Question {
            actor: Party::new(actor_oin, REGISTERING_SECTOR),
            role: &role,
            recipient: Party::new(c.oin().as_str(), c.sector().as_str()),
            purpose: ANSWER_PURPOSE,
            categories: &categories,
            facts: &Facts::default(),
            basis: &basis,
            consents: &[],
            recipient_involved: involved,
            received_for: None,
            inform_exemption: None,
            now: now(),
        })
    }
}

#[tonic::async_trait]
impl MaatregelService for MaatregelApi {
    async fn register_maatregel(
        &self,
        request: Request<pb::RegisterMaatregelRequest>,
    ) -> Result<Response<pb::RegisterMaatregelResponse>, Status> {
        let c = caller(&request)?;
        require_sector(&c, "registering a maatregel")?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        let subject = self.ctx.subject("subject_bsn", &r.subject_bsn, &mut bad);
        let kind = kind_from_pb(r.kind);
        if kind.is_none() {
            bad.push((
                "kind",
                "MAATREGEL_KIND_OTS, _VOOGDIJ, _MACHTIGING_UITHUISPLAATSING or _JEUGDRECLASSERING"
                    .into(),
            ));
        }
        let t = now();
        let starts_at = r.starts_at.map(|s| s.seconds).unwrap_or(t);
        if starts_at < t - MAX_AHEAD_SECS || starts_at > t + MAX_AHEAD_SECS {
            bad.push(("starts_at", "within 21 years of now".into()));
        }
        let ends_at = r.ends_at.map(|s| s.seconds);
        if let Some(e) = ends_at
            && (e <= starts_at || e > t + MAX_AHEAD_SECS)
        {
            bad.push((
                "ends_at",
                "after starts_at and at most 21 years ahead".into(),
            ));
        }
        let responsible = if r.responsible_oin.is_empty() {
            Some(c.oin().clone())
        } else {
            match r.responsible_oin.parse::<Oin>() {
                Ok(o)
                    if self.ctx.is_active_org(&o)
                        && self.ctx.sector_of(o.as_str()) == REGISTERING_SECTOR =>
                {
                    Some(o)
                }
                Ok(o) => {
                    bad.push((
                        "responsible_oin",
                        format!("{o} is not an active {REGISTERING_SECTOR} organisation in the directory"),
                    ));
                    None
                }
                Err(e) => {
                    bad.push(("responsible_oin", e.to_string()));
                    None
                }
            }
        };
        if !valid_contact(&r.contact_point) {
            bad.push((
                "contact_point",
                "whom to contact at the responsible organisation: 1-200 characters, one line"
                    .into(),
            ));
        }
        reject(bad)?;
        let (Some(subject), Some(kind), Some(responsible)) = (subject, kind, responsible) else {
            return Err(Status::internal("validation inconsistency"));
        };
        let m = Maatregel {
            id: random_id("m_")?,
            subject: subject.current().clone(),
            kind,
            starts_at,
            ends_at,
            responsible_oin: responsible.to_string(),
            contact_point: r.contact_point.trim().to_owned(),
            registered_by_oin: c.oin().to_string(),
            registered_by: c.professional.id.clone(),
            registered_role: role.clone(),
            registered_at: t,
            ended_at: None,
            // Kept until the retention after its planned end; ending it earlier moves this.
            retain_until: ends_at.map(|e| retain_until(&self.ctx, ANSWER_PURPOSE, e)),
        };
        let mut e = maatregel_entry(
            &self.ctx,
            &c,
            &role,
            Event::MaatregelRegistered,
            EntryOutcome::Recorded,
            subject.current(),
        );
        e.entry.reference = Some(m.id.clone());
        self.ctx
            .store
            .insert_maatregel(&m, &e)
            .await
            .map_err(from_store)?;
        Ok(Response::new(pb::RegisterMaatregelResponse {
            maatregel: Some(maatregel_to_pb(&m)),
        }))
    }

    async fn end_maatregel(
        &self,
        request: Request<pb::EndMaatregelRequest>,
    ) -> Result<Response<pb::EndMaatregelResponse>, Status> {
        let c = caller(&request)?;
        require_sector(&c, "ending a maatregel")?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        let r = request.into_inner();
        let t = now();
        let at = r.ended_at.map(|s| s.seconds).unwrap_or(t);
        if at > t + SKEW_SECS {
            return Err(invalid(&[("ended_at", "not in the future".into())]));
        }
        let me = c.oin().to_string();
        let not_found = || {
            Status::not_found(format!(
                "no maatregel {:?} registered by or entrusted to your organisation",
                truncate(&r.maatregel_id)
            ))
        };
        let m = self
            .ctx
            .store
            .get_maatregel(&r.maatregel_id)
            .await
            .map_err(from_store)?
            .filter(|m| m.registered_by_oin == me || m.responsible_oin == me)
            .ok_or_else(not_found)?;
        let mut e = maatregel_entry(
            &self.ctx,
            &c,
            &role,
            Event::MaatregelEnded,
            EntryOutcome::Recorded,
            &m.subject,
        );
        e.entry.reference = Some(m.id.clone());
        let ended = self
            .ctx
            .store
            .end_maatregel(
                &m.id,
                &me,
                at,
                retain_until(&self.ctx, ANSWER_PURPOSE, at),
                &e,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(m) => {
                    Status::failed_precondition(format!("{m}: it was ended already"))
                }
                StoreError::NotFound(_) => not_found(),
                other => from_store(other),
            })?;
        Ok(Response::new(pb::EndMaatregelResponse {
            maatregel: Some(maatregel_to_pb(&ended)),
        }))
    }

    async fn has_maatregel(
        &self,
        request: Request<pb::HasMaatregelRequest>,
    ) -> Result<Response<pb::HasMaatregelResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        let mut bad = Vec::new();
        let subject = self.ctx.subject("subject_bsn", &r.subject_bsn, &mut bad);
        reject(bad)?;
        let Some(subject) = subject else {
            return Err(Status::internal("validation inconsistency"));
        };
        let t = now();
        let involved = self
            .ctx
            .store
            .is_involved(c.oin().as_str(), subject.all(), t)
            .await
            .map_err(from_store)?;
        let query_id = random_id("q_")?;
        let mut entry = maatregel_entry(
            &self.ctx,
            &c,
            &role,
            Event::MaatregelQueried,
            EntryOutcome::Disclosed,
            subject.current(),
        );
        entry.entry.basis = vec![format!("legal:{ANSWER_BASIS}")];
        entry.entry.checks.relationship = involved;
        entry.entry.reference = Some(query_id.clone());
        // Fail closed on the hub's own rule before the register is even read.
        if !involved {
            let d = not_involved(&self.ctx);
            entry.entry.outcome = EntryOutcome::Denied;
            entry.entry.reasons = vec![policy::ReasonCode::RecipientNotInvolved.as_str().into()];
            self.ctx
                .store
                .append_log(std::slice::from_ref(&entry))
                .await
                .map_err(from_store)?;
            return Err(denied("the maatregel question is refused", &d));
        }
        let active: Vec<Maatregel> = self
            .ctx
            .store
            .maatregelen_of(subject.all())
            .await
            .map_err(from_store)?
            .into_iter()
            .filter(|m| m.is_active(t))
            .collect();
        let decisions: Vec<policy::Decision> = if active.is_empty() {
            vec![self.decide(&c, None, &query_id, involved)]
        } else {
            active
                .iter()
                .map(|m| self.decide(&c, Some(m), &query_id, involved))
                .collect()
        };
        if let Some(d) = decisions.iter().find(|d| !d.is_allowed()) {
            entry.entry.outcome = EntryOutcome::Denied;
            entry.entry.reasons = d.reasons.iter().map(|r| r.code.as_str().into()).collect();
            entry.entry.policy_version = Some(d.policy_version.to_string());
            self.ctx
                .store
                .append_log(std::slice::from_ref(&entry))
                .await
                .map_err(from_store)?;
            return Err(denied("the maatregel question is refused", d));
        }
        if let Some(d) = decisions.first() {
            entry.entry.policy_version = Some(d.policy_version.to_string());
        }
        // The answer, and the notice to each responsible organisation, in one transaction.
        let mut items: Vec<(PendingEntry, Option<Notification>)> = vec![(entry, None)];
        let mut told: Vec<&str> = Vec::new();
        for m in &active {
            if told.contains(&m.responsible_oin.as_str()) {
                continue;
            }
            told.push(&m.responsible_oin);
            let mut e = self.ctx.entry(
                &c,
                &role,
                Event::MaatregelQueryNotified,
                EntryOutcome::Disclosed,
            );
            e.entry.subjects = vec![subject.as_str().to_owned()];
            e.entry.recipient_oin = Some(m.responsible_oin.clone());
            e.entry.categories = vec![CATEGORY_INVOLVEMENT.into()];
            e.entry.purpose = Some(ANSWER_PURPOSE.into());
            e.entry.checks.relationship = true;
            e.entry.reference = Some(m.id.clone());
            let mut n = notification(
                &self.ctx,
                &c,
                &m.responsible_oin,
                NotificationKind::MaatregelQueried,
                format!(
                    "{} ({}) is betrokken bij het kind van uw {} {} en vroeg of er een maatregel is. Neem contact op om samen op te trekken.",
                    self.ctx.name_of(c.oin().as_str()),
                    c.professional.id,
                    m.kind.dutch(),
                    m.id
                ),
            );
            n.maatregel_id = Some(m.id.clone());
            n.retain_until = retain_until(&self.ctx, ANSWER_PURPOSE, n.at);
            items.push((e, Some(n)));
        }
        self.ctx
            .store
            .log_with_notifications(&items)
            .await
            .map_err(from_store)?;
        self.wake.notify_waiters();
        let mut kinds: Vec<MaatregelKind> = active.iter().map(|m| m.kind).collect();
        kinds.sort();
        kinds.dedup();
        let mut contacts: Vec<pb::MaatregelContact> = Vec::new();
        for m in &active {
            if !contacts
                .iter()
                .any(|k| k.oin == m.responsible_oin && k.contact_point == m.contact_point)
            {
                contacts.push(pb::MaatregelContact {
                    oin: m.responsible_oin.clone(),
                    organization_name: self.ctx.name_of(&m.responsible_oin),
                    contact_point: m.contact_point.clone(),
                });
            }
        }
        Ok(Response::new(pb::HasMaatregelResponse {
            exists: !active.is_empty(),
            kinds: kinds.into_iter().map(|k| kind_to_pb(k) as i32).collect(),
            contacts,
        }))
    }

    async fn list_maatregelen(
        &self,
        request: Request<pb::ListMaatregelenRequest>,
    ) -> Result<Response<pb::ListMaatregelenResponse>, Status> {
        let c = caller(&request)?;
        require_sector(&c, "listing maatregelen")?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        let r = request.into_inner();
        let mut bad = Vec::new();
        let subject = self.ctx.subject("subject_bsn", &r.subject_bsn, &mut bad);
        reject(bad)?;
        let Some(subject) = subject else {
            return Err(Status::internal("validation inconsistency"));
        };
        let me = c.oin().to_string();
        let t = now();
        let mine: Vec<Maatregel> = self
            .ctx
            .store
            .maatregelen_of(subject.all())
            .await
            .map_err(from_store)?
            .into_iter()
            .filter(|m| m.registered_by_oin == me || m.responsible_oin == me)
            .filter(|m| r.include_ended || m.ended_at.is_none() && m.ends_at.is_none_or(|e| e > t))
            .collect();
        let mut e = maatregel_entry(
            &self.ctx,
            &c,
            &role,
            Event::MaatregelenListed,
            EntryOutcome::Recorded,
            subject.current(),
        );
        e.entry.reference = Some(
            mine.iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>()
                .join(","),
        );
        self.ctx
            .store
            .append_log(std::slice::from_ref(&e))
            .await
            .map_err(from_store)?;
        Ok(Response::new(pb::ListMaatregelenResponse {
            maatregelen: mine.iter().map(maatregel_to_pb).collect(),
        }))
    }
}
