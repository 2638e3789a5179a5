//! Who the output is for: people (lines of text), or scripts (`--json`: one JSON document on
//! stdout per command; commands that keep listening print one document per line per item).
//! The JSON shapes of the wire types every command shares are here.
use super::format::{state_name, ts};
use serde_json::{Value, json};
use signaalhub_proto::pb;

/// The output mode of one run.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// `--json`.
    pub json: bool,
}

impl Out {
    /// Text for people.
    pub fn human(self) -> bool {
        !self.json
    }

    /// Prints `doc` as one line of JSON, with `--json` (nothing otherwise).
    pub fn emit(self, doc: &Value) {
        if self.json {
            println!("{doc}");
        }
    }
}

/// A refusal's or withholding's reason.
pub fn reason(r: &pb::Reason) -> Value {
    json!({
        "code": r.code,
        "rule": r.rule,
        "text_nl": r.text_nl,
        "text_en": r.text_en,
    })
}

/// A policy decision: `outcome` is `ALLOWED` or `DENIED`.
pub fn decision(d: &pb::Decision) -> Value {
    let allowed = d.outcome == pb::Outcome::Allow as i32;
    json!({
        "outcome": if allowed { "ALLOWED" } else { "DENIED" },
        "allowed": allowed,
        "policy_version": d.policy_version,
        "rules": d.rules,
        "obligations": d.obligations.iter().map(|o| json!({"kind": o.kind, "detail": o.detail})).collect::<Vec<_>>(),
        "retain_until": ts(d.retain_until.as_ref()),
        "reasons": d.reasons.iter().map(reason).collect::<Vec<_>>(),
    })
}

/// A signal's delivery to one recipient.
pub fn delivery(d: &pb::Delivery) -> Value {
    json!({
        "recipient_oin": d.recipient_oin,
        "state": state_name(d.state),
        "updated_at": ts(d.updated_at.as_ref()),
        "reasons": d.reasons.iter().map(reason).collect::<Vec<_>>(),
    })
}

/// An organisation on the sociale kaart.
pub fn organization(o: &pb::Organization) -> Value {
    json!({
        "oin": o.oin,
        "name": o.name,
        "sector": o.sector_name,
        "region": o.region,
        "expertise": o.expertise,
        "contact_point": o.contact_point,
    })
}

/// A published key.
pub fn public_key(k: &pb::PublicKey) -> Value {
    json!({
        "key_id": k.key_id,
        "algorithm": k.algorithm,
        "public_key": hex::encode(&k.public_key),
        "created_at": ts(k.created_at.as_ref()),
        "retired_at": ts(k.retired_at.as_ref()),
    })
}

/// A consent: `status` is `active` or `withdrawn` (an expired one: `valid_until` has passed).
pub fn consent(c: &pb::Consent) -> Value {
    use pb::consent_recipient::Recipient as R;
    json!({
        "consent_id": c.consent_id,
        "status": if c.withdrawn_at.is_some() { "withdrawn" } else { "active" },
        "recorded_by_oin": c.recorded_by_oin,
        "recorded_by": c.recorded_by,
        "givers": c.givers.iter().map(|g| json!({
            "person": g.person,
            "capacity": pb::GiverCapacity::try_from(g.capacity)
                .map(|x| x.as_str_name().trim_start_matches("GIVER_CAPACITY_").to_lowercase())
                .unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "recipients": c.recipients.iter().filter_map(|r| r.recipient.as_ref()).map(|r| match r {
            R::Oin(o) => json!({"oin": o}),
            R::Sector(s) => json!({"sector": pb::Sector::try_from(*s)
                .map(|x| x.as_str_name().trim_start_matches("SECTOR_").to_lowercase())
                .unwrap_or_default()}),
            R::SectorName(s) => json!({"sector": s}),
        }).collect::<Vec<_>>(),
        "purposes": c.purposes,
        "categories": c.categories,
        "valid_from": ts(c.valid_from.as_ref()),
        "valid_until": ts(c.valid_until.as_ref()),
        "explicit": c.explicit,
        "evidence_reference": c.evidence_reference,
        "recorded_at": ts(c.recorded_at.as_ref()),
        "withdrawn_at": ts(c.withdrawn_at.as_ref()),
    })
}
