//! What a disclosure is about — recipients, purpose, categories, subject and basis — shared by
//! `check` (ask the policy) and `send` (send a signal).
use super::error::CliError;
use signaalhub_client::{ClientError, HubClient, sector_from_name};
use signaalhub_proto::pb;

/// The flags that describe a disclosure.
#[derive(clap::Args, Debug)]
pub struct DisclosureArgs {
    /// Recipient: an OIN, or a sector name (the first organisation of that sector is taken);
    /// repeatable.
    #[arg(long = "to", required = true)]
    pub to: Vec<String>,
    /// Purpose (convenant name), e.g. vroegtijdige_ondersteuning.
    #[arg(long)]
    pub purpose: String,
    /// Data category (convenant name); repeatable.
    #[arg(long = "category", required = true)]
    pub categories: Vec<String>,
    /// The subject's BSN.
    #[arg(long)]
    pub bsn: String,
    /// The subject's age in years.
    #[arg(long)]
    age: Option<u32>,
    /// Reference of a holder of gezag (e.g. ouder-1); repeatable.
    #[arg(long = "gezag")]
    gezag_holders: Vec<String>,
    /// Id of a recorded consent; repeatable.
    #[arg(long = "consent")]
    consent_ids: Vec<String>,
    /// A legal basis by convenant name (e.g. meldrecht, wgs_vroegsignalering).
    #[arg(long)]
    basis: Option<String>,
    /// Meldcode steps completed, e.g. 1,2,3,4.
    #[arg(long, value_delimiter = ',')]
    meldcode_steps: Vec<u32>,
    /// Afwegingskader outcome: acuut, structureel, vermoeden or geen.
    #[arg(long)]
    afweging: Option<String>,
    /// Whether the client was told (yes/no).
    #[arg(long)]
    client_informed: Option<String>,
    /// Why the client was not told, as a reason code: veiligheid_kind, veiligheid_client,
    /// veiligheid_melder or contact_verbreken (never free text: the hub stores what it is given;
    /// describe the circumstances in the sealed message).
    #[arg(long, default_value = "")]
    not_informed_reason: String,
    /// A payment reminder was sent first (debt prevention).
    #[arg(long)]
    payment_reminder_sent: bool,
    /// A report to Veilig Thuis: you agree that the family may be told that your organisation
    /// reported (without it the hub withholds you from the family's access report and letter).
    #[arg(long)]
    reporter_may_be_named: bool,
    /// Role to act in, if the token has several.
    #[arg(long, default_value = "")]
    pub role: String,
}

/// An OIN as given, or the first organisation of a sector in the directory.
pub async fn resolve_oin(hub: &mut HubClient, to: &str) -> Result<String, ClientError> {
    if to.len() == 20 && to.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(to.to_owned());
    }
    let sector = sector_from_name(to)
        .ok_or_else(|| ClientError::Config(format!("--to {to:?}: an OIN or a sector name")))?;
    let r = hub
        .list_organizations(pb::ListOrganizationsRequest {
            sector: sector as i32,
            ..Default::default()
        })
        .await?;
    r.organizations
        .first()
        .map(|o| o.oin.clone())
        .ok_or_else(|| {
            ClientError::Config(format!("no organisation of sector {to} in the directory"))
        })
}

/// The subject's facts as the wire carries them.
pub fn facts(age: Option<u32>, gezag_holders: &[String]) -> pb::SubjectFacts {
    pb::SubjectFacts {
        age_years: age,
        age_band: 0,
        gezag_holders: gezag_holders.to_vec(),
    }
}

impl DisclosureArgs {
    /// Every `--to`, as OINs, in the order given.
    pub async fn recipients(&self, hub: &mut HubClient) -> Result<Vec<String>, ClientError> {
        let mut oins = Vec::with_capacity(self.to.len());
        for t in &self.to {
            oins.push(resolve_oin(hub, t).await?);
        }
        Ok(oins)
    }

    /// The subject's facts.
    pub fn subject(&self) -> pb::SubjectFacts {
        facts(self.age, &self.gezag_holders)
    }

    /// The basis: the legal ground with its evidence and/or the consent ids.
    pub fn basis(&self) -> Result<pb::Basis, CliError> {
        let afweging = match self.afweging.as_deref() {
            None => pb::Afwegingskader::Unspecified,
            Some("acuut") => pb::Afwegingskader::AcuteOnveiligheid,
            Some("structureel") => pb::Afwegingskader::StructureleOnveiligheid,
            Some("vermoeden") => pb::Afwegingskader::VermoedenZonderAcuteOfStructureleOnveiligheid,
            Some("geen") => pb::Afwegingskader::GeenVermoeden,
            Some(o) => {
                return Err(CliError::config(format!(
                    "--afweging {o:?}: acuut, structureel, vermoeden or geen"
                )));
            }
        };
        let client_informed = match self.client_informed.as_deref() {
            None => None,
            Some("yes") => Some(true),
            Some("no") => Some(false),
            Some(o) => {
                return Err(CliError::config(format!(
                    "--client-informed {o:?}: yes or no"
                )));
            }
        };
        Ok(pb::Basis {
            legal: self.basis.as_ref().map(|b| pb::LegalBasis {
                basis: b.clone(),
                evidence: Some(pb::Evidence {
                    meldcode_steps_completed: self.meldcode_steps.clone(),
                    afwegingskader: afweging as i32,
                    client_informed,
                    client_not_informed_reason: self.not_informed_reason.clone(),
                    payment_reminder_sent: self.payment_reminder_sent.then_some(true),
                    reporter_may_be_named: self.reporter_may_be_named.then_some(true),
                    ..Default::default()
                }),
            }),
            consent_ids: self.consent_ids.clone(),
        })
    }

    /// One "may I send this?" question per recipient.
    pub async fn check_requests(
        &self,
        hub: &mut HubClient,
    ) -> Result<Vec<pb::CheckBasisRequest>, CliError> {
        let basis = self.basis()?;
        Ok(self
            .recipients(hub)
            .await?
            .into_iter()
            .map(|recipient_oin| pb::CheckBasisRequest {
                recipient_oin,
                purpose: self.purpose.clone(),
                categories: self.categories.clone(),
                subject_bsn: self.bsn.clone(),
                subject: Some(self.subject()),
                basis: Some(basis.clone()),
                acting_role: self.role.clone(),
                received_for: String::new(),
                inform_exemption: String::new(),
            })
            .collect())
    }
}

/// A policy decision, with its obligations or reasons.
pub fn print_decision(d: &pb::Decision) {
    if d.outcome == pb::Outcome::Allow as i32 {
        println!("ALLOWED (policy {})", d.policy_version);
        print_obligations(d, "  ");
    } else {
        println!("DENIED (policy {})", d.policy_version);
        for r in &d.reasons {
            println!("  {}: {}\n      {}", r.code, r.text_nl, r.text_en);
        }
    }
    println!("  rules: {}", d.rules.join(", "));
}

/// An allowed decision's obligations and retention.
pub fn print_obligations(d: &pb::Decision, indent: &str) {
    for o in &d.obligations {
        println!("{indent}obligation: {} {}", o.kind, o.detail);
    }
    if let Some(t) = &d.retain_until {
        println!("{indent}keep until: {}", super::format::utc(t.seconds));
    }
}
