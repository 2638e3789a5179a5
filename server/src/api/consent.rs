//! `signaalhub.v1.ConsentService`: record, withdraw and list consents. Every change and every
//! listing is appended to the disclosure log in the same transaction.
use super::basis::{
    MAX_LIST, bsn_from_pb, facts_from_pb, facts_to_pb, name_list, names_to_pb, optional_name,
    reject, required_bsn, valid_person_ref,
};
use super::{caller, timestamp};
use crate::domain::consent::{Capacity, Consent, ConsentTo, Giver};
use crate::flows::consent::{self as flow, NamedRecipient, RecordConsent};
use crate::flows::{Ctx, Violations};
use signaalhub_proto::pb;
use signaalhub_proto::pb::consent_service_server::ConsentService;
use tonic::{Request, Response, Status};

pub use crate::flows::consent::MAX_VALIDITY_SECS;

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
        consent_id: c.id.to_string(),
        recorded_by_oin: c.recorded_by_oin.to_string(),
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
                    ConsentTo::Oin(o) => pb::consent_recipient::Recipient::Oin(o.to_string()),
                    ConsentTo::Sector(s) => match super::directory::sector_from_pb_name(s) {
                        Some(e) => pb::consent_recipient::Recipient::Sector(e as i32),
                        None => pb::consent_recipient::Recipient::SectorName(s.clone()),
                    },
                }),
            })
            .collect(),
        discloser_oins: c.disclosers.iter().map(|o| o.to_string()).collect(),
        purposes: names_to_pb(&c.purposes),
        categories: names_to_pb(&c.categories),
        valid_from: Some(timestamp(c.valid_from)),
        valid_until: Some(timestamp(c.valid_until)),
        explicit: c.explicit,
        evidence_reference: c.evidence_reference.clone().unwrap_or_default(),
        subject: Some(facts_to_pb(&c.facts)),
        recorded_at: Some(timestamp(c.recorded_at)),
        withdrawn_at: c.withdrawn_at.map(timestamp),
    }
}

impl From<pb::RecordConsentRequest> for RecordConsent {
    fn from(r: pb::RecordConsentRequest) -> Self {
        let mut bad = Vec::new();
        let subject = bsn_from_pb("subject_bsn", &r.subject_bsn, &mut bad);
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
                bad.push(("givers.person", super::basis::PERSON_REF_RULE.into()));
            }
            let capacity = match pb::GiverCapacity::try_from(g.capacity) {
                Ok(pb::GiverCapacity::Subject) => Capacity::Subject,
                Ok(pb::GiverCapacity::GezagHolder) => Capacity::GezagHolder,
                _ => {
                    bad.push((
                        "givers.capacity",
                        "GIVER_CAPACITY_SUBJECT or GIVER_CAPACITY_GEZAG_HOLDER".into(),
                    ));
                    continue;
                }
            };
            givers.push(Giver {
                person: g.person.clone(),
                capacity,
            });
        }
        if r.recipients.is_empty() || r.recipients.len() > MAX_LIST {
            bad.push((
                "recipients",
                format!("1 to {MAX_LIST} organisations or sectors"),
            ));
        }
        let recipients = named(&r.recipients, "recipients", &mut bad);
        if r.disclosers.len() > MAX_LIST {
            bad.push((
                "disclosers",
                format!("at most {MAX_LIST} organisations or sectors"),
            ));
        }
        let disclosers = named(&r.disclosers, "disclosers", &mut bad);
        if !r.evidence_reference.is_empty() && !valid_evidence_reference(&r.evidence_reference) {
            bad.push(("evidence_reference", EVIDENCE_REFERENCE_RULE.into()));
        }
        RecordConsent {
            subject,
            facts,
            givers,
            recipients,
            disclosers,
            purposes: name_list("purposes", &r.purposes, &mut bad),
            categories: name_list("categories", &r.categories, &mut bad),
            valid_from: r.valid_from.map(|x| x.seconds),
            valid_until: r.valid_until.map(|x| x.seconds),
            explicit: r.explicit,
            evidence_reference: (!r.evidence_reference.is_empty()).then_some(r.evidence_reference),
            acting_role: optional_name("acting_role", &r.acting_role, &mut bad),
            invalid: bad,
        }
    }
}

/// Organisations or sectors named in `field` (`recipients` or `disclosers`), each with the
/// request field it came from; what is malformed goes to `bad`.
fn named(
    list: &[pb::ConsentRecipient],
    field: &'static str,
    bad: &mut Violations,
) -> Vec<NamedRecipient> {
    let (oin, sector, sector_name) = match field {
        "disclosers" => (
            "disclosers.oin",
            "disclosers.sector",
            "disclosers.sector_name",
        ),
        _ => (
            "recipients.oin",
            "recipients.sector",
            "recipients.sector_name",
        ),
    };
    let mut out = Vec::new();
    for rc in list {
        use pb::consent_recipient::Recipient as R;
        match &rc.recipient {
            Some(R::Oin(o)) => match o.parse::<crate::ids::Oin>() {
                Ok(o) => out.push(NamedRecipient {
                    to: ConsentTo::Oin(o),
                    field: oin,
                }),
                Err(e) => bad.push((oin, e.to_string())),
            },
            Some(R::Sector(s)) => match pb::Sector::try_from(*s)
                .ok()
                .and_then(super::directory::sector_from_pb)
            {
                Some(s) => out.push(NamedRecipient {
                    to: ConsentTo::Sector(s.to_string()),
                    field: sector,
                }),
                None => bad.push((sector, "a sector that takes part in the convenant".into())),
            },
            Some(R::SectorName(s)) => out.push(NamedRecipient {
                to: ConsentTo::Sector(s.clone()),
                field: sector_name,
            }),
            None => bad.push((field, "each entry names an oin or a sector".into())),
        }
    }
    out
}

#[tonic::async_trait]
impl ConsentService for ConsentApi {
    async fn record_consent(
        &self,
        request: Request<pb::RecordConsentRequest>,
    ) -> Result<Response<pb::RecordConsentResponse>, Status> {
        let c = caller(&request)?;
        let cmd = RecordConsent::from(request.into_inner());
        let consent = flow::record(&self.ctx, &c, cmd).await?;
        Ok(Response::new(pb::RecordConsentResponse {
            consent: Some(consent_to_pb(&consent)),
        }))
    }

    async fn withdraw_consent(
        &self,
        request: Request<pb::WithdrawConsentRequest>,
    ) -> Result<Response<pb::WithdrawConsentResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        let consent_id = r.consent_id.parse::<crate::ids::ConsentId>().ok();
        if consent_id.is_none() {
            bad.push(("consent_id", "the id RecordConsent returned".into()));
        }
        if !valid_person_ref(&r.withdrawn_by) {
            bad.push(("withdrawn_by", super::basis::PERSON_REF_RULE.into()));
        }
        reject(bad)?;
        let consent_id = crate::flows::parsed(consent_id, "consent_id")?;
        let (consent, withheld) =
            flow::withdraw(&self.ctx, &c, &consent_id, &r.withdrawn_by).await?;
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
        let r = request.into_inner();
        let subject = required_bsn("subject_bsn", &r.subject_bsn)?;
        let role = super::basis::acting_role(&r.acting_role)?;
        let consents =
            flow::list(&self.ctx, &c, &subject, r.include_inactive, role.as_ref()).await?;
        Ok(Response::new(pb::ListConsentsResponse {
            consents: consents.iter().map(consent_to_pb).collect(),
        }))
    }
}

/// What a consent's evidence reference must look like (the violation's text).
pub const EVIDENCE_REFERENCE_RULE: &str = "the SHA-256 of the signed form (64 hexadecimal characters, optionally after \"sha256:\") or where it is filed (1-64 of A-Za-z0-9._-/:, without a run of 9 or more digits), never a name";

/// A consent's evidence reference: the hash of the signed form, or where the form is filed. The
/// hub stores it beside the consent, so it can hold no name (no spaces) and no BSN.
fn valid_evidence_reference(s: &str) -> bool {
    let hex = s.strip_prefix("sha256:").unwrap_or(s);
    let sha256 = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    let filed = (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/:".contains(&b))
        && !crate::ids::has_digit_run(s);
    sha256 || filed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::basis::valid_person_ref;

    #[test]
    fn references_hold_no_names() {
        for ok in ["ouder-1", "ouder-2", "moeder", "voogd-12", "jeugdige"] {
            assert!(valid_person_ref(ok), "{ok}");
        }
        for bad in [
            "piet-bakker",
            "vader Piet",
            "ouder-",
            "ouder-0",
            "ouder-100",
            "ouder-1-2",
            "",
            "Ouder-1",
        ] {
            assert!(!valid_person_ref(bad), "{bad}");
        }
        let hash = "3f1d".repeat(16);
        for ok in [
            hash.clone(),
            format!("sha256:{hash}"),
            "sha256:form".into(),
            "dossier-7".into(),
        ] {
            assert!(valid_evidence_reference(&ok), "{ok}");
        }
        for bad in [
            "handtekening Piet Bakker",
            "formulier-111222333",
            &"a".repeat(65),
        ] {
            assert!(!valid_evidence_reference(bad), "{bad}");
        }
    }
}
