//! `signaalhub.v1.ConsentService`: record, withdraw and list consents. Every change and every
//! listing is appended to the disclosure log in the same transaction.
use super::basis::{
    MAX_LIST, check_names, facts_from_pb, facts_to_pb, reject, truncate, valid_person_ref,
};
use super::status::from_store;
use super::{caller, timestamp};
use crate::auth::Caller;
use crate::domain::consent::{Capacity, Consent, ConsentTo, Giver};
use crate::flows::{Ctx, now, random_id};
use crate::ledger::{EntryOutcome, Event};
use crate::store::StoreError;
use signaalhub_proto::pb;
use signaalhub_proto::pb::consent_service_server::ConsentService;
use tonic::{Request, Response, Status};

/// Longest consent validity: five years.
pub const MAX_VALIDITY_SECS: i64 = 5 * 365 * 24 * 3600;

/// The ConsentService.
#[derive(Debug, Clone)]
pub struct ConsentApi {
    ctx: Ctx,
}

impl ConsentApi {
    /// On shared state.
    pub fn new(ctx: Ctx) -> Self {
        ConsentApi { ctx }
    }
}

/// The wire form of a consent.
pub fn consent_to_pb(c: &Consent) -> pb::Consent {
    pb::Consent {
        consent_id: c.id.clone(),
        recorded_by_oin: c.recorded_by_oin.clone(),
        recorded_by: c.recorded_by.clone(),
        givers: c
            .givers
            .iter()
            .map(|g| pb::ConsentGiver {
                person: g.person.clone(),
                capacity: match g.capacity {
                    Capacity::Subject => pb::GiverCapacity::Subject,
                    Capacity::GezagHolder => pb::GiverCapacity::GezagHolder,
                } as i32,
            })
            .collect(),
        recipients: c
            .recipients
            .iter()
            .map(|r| pb::ConsentRecipient {
                recipient: Some(match r {
                    ConsentTo::Oin(o) => pb::consent_recipient::Recipient::Oin(o.clone()),
                    ConsentTo::Sector(s) => match super::directory::sector_from_pb_name(s) {
                        Some(e) => pb::consent_recipient::Recipient::Sector(e as i32),
                        None => pb::consent_recipient::Recipient::SectorName(s.clone()),
                    },
                }),
            })
            .collect(),
        purposes: c.purposes.clone(),
        categories: c.categories.clone(),
        valid_from: Some(timestamp(c.valid_from)),
        valid_until: Some(timestamp(c.valid_until)),
        explicit: c.explicit,
        evidence_reference: c.evidence_reference.clone().unwrap_or_default(),
        subject: Some(facts_to_pb(&c.facts)),
        recorded_at: Some(timestamp(c.recorded_at)),
        withdrawn_at: c.withdrawn_at.map(timestamp),
    }
}

/// Whether `caller`'s organisation recorded the consent or is one of its recipients.
fn concerns(c: &Consent, caller: &Caller) -> bool {
    c.recorded_by_oin == caller.oin().as_str()
        || c.recipients.iter().any(|r| match r {
            ConsentTo::Oin(o) => o == caller.oin().as_str(),
            ConsentTo::Sector(s) => s == caller.sector().as_str(),
        })
}

#[tonic::async_trait]
impl ConsentService for ConsentApi {
    async fn record_consent(
        &self,
        request: Request<pb::RecordConsentRequest>,
    ) -> Result<Response<pb::RecordConsentResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, &request.get_ref().acting_role)?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        let p = &self.ctx.policy;
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        let subject = self.ctx.subject("subject_bsn", &r.subject_bsn, &mut bad);
        let facts = facts_from_pb(r.subject.as_ref(), &mut bad);
        if r.givers.is_empty() || r.givers.len() > MAX_LIST {
            bad.push((
                "givers",
                format!("1 to {MAX_LIST} people who gave the consent"),
            ));
        }
        let mut givers = Vec::new();
        for g in &r.givers {
            if !valid_person_ref(&g.person) {
                bad.push((
                    "givers.person",
                    "a reference such as \"ouder-1\" (1-32 of a-z, 0-9, _ and -), never a name"
                        .into(),
                ));
            }
            match pb::GiverCapacity::try_from(g.capacity) {
                Ok(pb::GiverCapacity::Subject) => givers.push(Giver {
                    person: g.person.clone(),
                    capacity: Capacity::Subject,
                }),
                Ok(pb::GiverCapacity::GezagHolder) => givers.push(Giver {
                    person: g.person.clone(),
                    capacity: Capacity::GezagHolder,
                }),
                _ => bad.push((
                    "givers.capacity",
                    "GIVER_CAPACITY_SUBJECT or GIVER_CAPACITY_GEZAG_HOLDER".into(),
                )),
            }
        }
        if r.recipients.is_empty() || r.recipients.len() > MAX_LIST {
            bad.push((
                "recipients",
                format!("1 to {MAX_LIST} organisations or sectors"),
            ));
        }
        let mut recipients = Vec::new();
        for rc in &r.recipients {
            use pb::consent_recipient::Recipient as R;
            match &rc.recipient {
                Some(R::Oin(o)) => match o.parse::<crate::ids::Oin>() {
                    Ok(o) => recipients.push(ConsentTo::Oin(o.to_string())),
                    Err(e) => bad.push(("recipients.oin", e.to_string())),
                },
                Some(R::Sector(s)) => match pb::Sector::try_from(*s)
                    .ok()
                    .and_then(super::directory::sector_from_pb)
                {
                    Some(s) if p.is_known_sector(s.as_str()) => {
                        recipients.push(ConsentTo::Sector(s.to_string()))
                    }
                    _ => bad.push((
                        "recipients.sector",
                        "a sector that takes part in the convenant".into(),
                    )),
                },
                Some(R::SectorName(s)) if p.is_known_sector(s) => {
                    recipients.push(ConsentTo::Sector(s.clone()))
                }
                Some(R::SectorName(s)) => bad.push((
                    "recipients.sector_name",
                    format!("{:?} is not a sector of the convenant", truncate(s)),
                )),
                None => bad.push((
                    "recipients",
                    "each recipient names an oin or a sector".into(),
                )),
            }
        }
        check_names(
            "purposes",
            &r.purposes,
            |n| p.is_known_purpose(n),
            true,
            &mut bad,
        );
        check_names(
            "categories",
            &r.categories,
            |n| p.is_known_category(n),
            true,
            &mut bad,
        );
        let t = now();
        let valid_from = r.valid_from.map(|x| x.seconds).unwrap_or(t);
        let valid_until = match r.valid_until {
            None => {
                bad.push((
                    "valid_until",
                    "a consent is given for a period: set its end".into(),
                ));
                0
            }
            Some(u) if u.seconds <= valid_from => {
                bad.push(("valid_until", "must be after valid_from".into()));
                0
            }
            Some(u) if u.seconds - valid_from > MAX_VALIDITY_SECS => {
                bad.push(("valid_until", "at most five years after valid_from".into()));
                0
            }
            Some(u) => u.seconds,
        };
        if r.evidence_reference.len() > 128 || r.evidence_reference.chars().any(char::is_control) {
            bad.push((
                "evidence_reference",
                "at most 128 printable characters, e.g. the SHA-256 of the signed form".into(),
            ));
        }
        reject(bad)?;
        let Some(subject) = subject else {
            return Err(Status::internal("validation inconsistency"));
        };
        // Keep the record as long as anything disclosed under it may be kept.
        let longest = r
            .purposes
            .iter()
            .filter_map(|pu| p.retention_for(pu))
            .max()
            .unwrap_or(0) as i64;
        let consent = Consent {
            id: random_id("c_")?,
            subject: subject.current().clone(),
            recorded_by_oin: c.oin().to_string(),
            recorded_by: c.professional.id.clone(),
            givers,
            recipients,
            purposes: r.purposes.clone(),
            categories: r.categories.clone(),
            valid_from,
            valid_until,
            explicit: r.explicit,
            evidence_reference: (!r.evidence_reference.is_empty())
                .then(|| r.evidence_reference.clone()),
            facts,
            recorded_at: t,
            withdrawn_at: None,
            withdrawn_by: None,
            retain_until: valid_until + longest,
        };
        let mut e = self
            .ctx
            .entry(&c, &role, Event::ConsentRecorded, EntryOutcome::Recorded);
        e.entry.subjects = vec![subject.as_str().to_owned()];
        e.entry.categories = consent.categories.clone();
        e.entry.purpose = consent.purposes.first().cloned();
        e.entry.basis = consent
            .purposes
            .iter()
            .map(|p| format!("purpose:{p}"))
            .collect();
        e.entry.reference = Some(consent.id.clone());
        e.entry.checks.consent = true;
        self.ctx
            .store
            .insert_consent(&consent, &e)
            .await
            .map_err(from_store)?;
        Ok(Response::new(pb::RecordConsentResponse {
            consent: Some(consent_to_pb(&consent)),
        }))
    }

    async fn withdraw_consent(
        &self,
        request: Request<pb::WithdrawConsentRequest>,
    ) -> Result<Response<pb::WithdrawConsentResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, "")?;
        let r = request.into_inner();
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        if r.consent_id.is_empty() || r.consent_id.len() > 64 {
            bad.push(("consent_id", "the id RecordConsent returned".into()));
        }
        if !valid_person_ref(&r.withdrawn_by) {
            bad.push((
                "withdrawn_by",
                "who asked for it, as a reference such as \"ouder-2\"".into(),
            ));
        }
        reject(bad)?;
        let existing = self
            .ctx
            .store
            .get_consents(std::slice::from_ref(&r.consent_id))
            .await
            .map_err(from_store)?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Status::not_found(format!("no consent {:?}", truncate(&r.consent_id)))
            })?;
        if !concerns(&existing, &c) {
            return Err(Status::permission_denied(
                "only the organisation that recorded a consent, or one it names as recipient, can register its withdrawal",
            ));
        }
        let mut e = self
            .ctx
            .entry(&c, &role, Event::ConsentWithdrawn, EntryOutcome::Recorded);
        e.entry.subjects = vec![existing.subject.as_str().to_owned()];
        e.entry.categories = existing.categories.clone();
        e.entry.reference = Some(existing.id.clone());
        let (consent, withheld) = self
            .ctx
            .store
            .withdraw_consent(
                &r.consent_id,
                &r.withdrawn_by,
                e.entry.at,
                &e,
                |recipient, _sender, signal_id| {
                    let mut w =
                        self.ctx
                            .entry(&c, &role, Event::SignalWithheld, EntryOutcome::Withheld);
                    w.entry.subjects = vec![existing.subject.as_str().to_owned()];
                    w.entry.recipient_oin = Some(recipient.to_owned());
                    w.entry.categories = existing.categories.clone();
                    w.entry.basis = vec![format!("consent:{}", existing.id)];
                    w.entry.reasons = vec!["CONSENT_WITHDRAWN".into()];
                    w.entry.reference = Some(signal_id.to_owned());
                    w
                },
            )
            .await
            .map_err(|err| match err {
                StoreError::Conflict(_) => {
                    Status::failed_precondition("this consent was already withdrawn")
                }
                other => from_store(other),
            })?;
        Ok(Response::new(pb::WithdrawConsentResponse {
            consent: Some(consent_to_pb(&consent)),
            signals_withheld: withheld,
        }))
    }

    async fn list_consents(
        &self,
        request: Request<pb::ListConsentsRequest>,
    ) -> Result<Response<pb::ListConsentsResponse>, Status> {
        let c = caller(&request)?;
        let role = self.ctx.acting_role(&c, "")?;
        self.ctx.require_convenant_role(&c, &role)?;
        let r = request.into_inner();
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        let subject = self.ctx.subject("subject_bsn", &r.subject_bsn, &mut bad);
        reject(bad)?;
        let Some(subject) = subject else {
            return Err(Status::internal("validation inconsistency"));
        };
        let t = now();
        let consents: Vec<Consent> = self
            .ctx
            .store
            .list_consents(subject.all())
            .await
            .map_err(from_store)?
            .into_iter()
            .filter(|k| concerns(k, &c))
            .filter(|k| r.include_inactive || (k.withdrawn_at.is_none() && k.valid_until > t))
            .collect();
        // Listing consents is a read of personal data: logged.
        let mut e = self
            .ctx
            .entry(&c, &role, Event::ConsentsListed, EntryOutcome::Recorded);
        e.entry.subjects = vec![subject.as_str().to_owned()];
        self.ctx
            .store
            .append_log(std::slice::from_ref(&e))
            .await
            .map_err(from_store)?;
        Ok(Response::new(pb::ListConsentsResponse {
            consents: consents.iter().map(consent_to_pb).collect(),
        }))
    }
}
