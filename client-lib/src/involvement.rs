//! Maatregel register, involvement register, case coordination, the safety plan and the
//! notification stream: typed calls, plus the safety plan's content (sealed like a signal) and
//! its plain-language Dutch rendering for the family.
use crate::envelope::{self, EnvelopeError, RecipientKey, RecipientSecrets, SenderKeys};
use crate::{ClientError, HubClient, Svc};
use signaalhub_proto::pb;
use signaalhub_proto::pb::involvement_service_client::InvolvementServiceClient;
use signaalhub_proto::pb::maatregel_service_client::MaatregelServiceClient;
use signaalhub_proto::pb::notification_service_client::NotificationServiceClient;
use signaalhub_proto::pb::safety_plan_service_client::SafetyPlanServiceClient;

/// The convenant purpose of involvement, case coordination and the safety plan.
pub const CASE_PURPOSE: &str = "casusafstemming";
/// The convenant category of the safety plan's content.
pub const SAFETY_PLAN_CATEGORY: &str = "veiligheidsafspraken";

/// One agreement of a safety plan: who does what by when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Agreement {
    /// Id within the version (1-64 of A-Za-z0-9._-).
    pub id: String,
    /// Who, in words the family understands ("moeder", "de wijkcoach van Wijkteam Arnhem-Oost").
    pub who: String,
    /// What.
    pub what: String,
    /// By when, in words ("elke vrijdag", "voor 1 maart"), if any.
    #[serde(default)]
    pub by_when: Option<String>,
    /// The organisations it concerns (they confirm it), by OIN.
    #[serde(default)]
    pub party_oins: Vec<String>,
    /// Whether it concerns the family.
    #[serde(default)]
    pub concerns_family: bool,
}

/// The content of a safety plan version (the sealed payload; the hub never sees it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SafetyPlan {
    /// A title, e.g. "Veiligheidsplan gezin De Vries".
    pub title: String,
    /// What the plan is for, in plain words.
    #[serde(default)]
    pub goal: String,
    /// Whom the family can call when it goes wrong.
    #[serde(default)]
    pub emergency_contact: String,
    /// The agreements.
    pub agreements: Vec<Agreement>,
}

/// Why a safety plan cannot be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The envelope.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The payload is not a safety plan.
    #[error("the payload is not a safety plan: {0}")]
    Payload(String),
}

impl SafetyPlan {
    /// Seals this plan as version `version` of `case_id` to `recipients` (every party of the
    /// case, including the author) and builds the request, with the hub-visible metadata of each
    /// agreement taken from the plan.
    pub fn seal(
        &self,
        case_id: &str,
        version: u32,
        basis: pb::Basis,
        sender: &SenderKeys,
        recipients: &[RecipientKey],
        created_at_unix: i64,
    ) -> Result<pb::PublishSafetyPlanRequest, PlanError> {
        let payload = serde_json::to_vec(self).map_err(|e| PlanError::Payload(e.to_string()))?;
        let binding = pb::EnvelopeBinding {
            signal_id: format!("{case_id}.v{version}"),
            purpose: CASE_PURPOSE.into(),
            categories: vec![SAFETY_PLAN_CATEGORY.into()],
            basis_reference: signaalhub_proto::basis_reference(&basis),
            created_at_unix,
            content_digest: Vec::new(), // seal sets it
        };
        let env = envelope::seal(&payload, binding, sender, recipients)?;
        Ok(pb::PublishSafetyPlanRequest {
            case_id: case_id.into(),
            version,
            envelope: Some(env),
            agreements: self
                .agreements
                .iter()
                .map(|a| pb::AgreementMeta {
                    agreement_id: a.id.clone(),
                    party_oins: a.party_oins.clone(),
                    concerns_family: a.concerns_family,
                    confirmations: Vec::new(),
                })
                .collect(),
            basis: Some(basis),
            subject: None,
            acting_role: String::new(),
            // The review moment is the author's to set on the request (`review_at`).
            review_at: None,
        })
    }

    /// Opens a version's envelope (checked against the sender's published signing key).
    pub fn open(
        env: &pb::Envelope,
        me: &RecipientSecrets,
        sender_verifying_key: &[u8; 32],
    ) -> Result<SafetyPlan, PlanError> {
        let bytes = envelope::open(env, me, sender_verifying_key)?;
        serde_json::from_slice(&bytes).map_err(|e| PlanError::Payload(e.to_string()))
    }

    /// The plan in plain Dutch for the family, with who confirmed what (`meta` from
    /// GetSafetyPlan; `name` maps an OIN to the organisation's name).
    pub fn render_for_family(
        &self,
        meta: &pb::SafetyPlanVersion,
        name: impl Fn(&str) -> String,
    ) -> String {
        let mut out = String::new();
        out.push_str(&format!("{}\n", self.title));
        out.push_str(&format!(
            "Versie {} van het veiligheidsplan\n\n",
            meta.version
        ));
        if !self.goal.is_empty() {
            out.push_str(&format!("Waar dit plan voor is: {}\n\n", self.goal));
        }
        out.push_str("Dit hebben we met elkaar afgesproken:\n\n");
        for (i, a) in self.agreements.iter().enumerate() {
            out.push_str(&format!("{}. {} {}", i + 1, a.who, a.what));
            match &a.by_when {
                Some(w) if !w.is_empty() => out.push_str(&format!(" ({w}).\n")),
                _ => out.push_str(".\n"),
            }
            let m = meta.agreements.iter().find(|m| m.agreement_id == a.id);
            let confirmed: Vec<String> = m
                .map(|m| m.confirmations.iter().map(|c| name(&c.oin)).collect())
                .unwrap_or_default();
            let waiting: Vec<String> = a
                .party_oins
                .iter()
                .filter(|o| !m.is_some_and(|m| m.confirmations.iter().any(|c| &c.oin == *o)))
                .map(|o| name(o))
                .collect();
            if !confirmed.is_empty() {
                out.push_str(&format!("   Bevestigd door: {}.\n", confirmed.join(", ")));
            }
            if !waiting.is_empty() {
                out.push_str(&format!(
                    "   Nog niet bevestigd door: {}.\n",
                    waiting.join(", ")
                ));
            }
        }
        if !self.emergency_contact.is_empty() {
            out.push_str(&format!(
                "\nGaat het mis of voelt u zich niet veilig? Bel {}. Bij direct gevaar: bel 112.\n",
                self.emergency_contact
            ));
        } else {
            out.push_str("\nBij direct gevaar: bel 112.\n");
        }
        out.push_str(
            "\nDe organisaties die bij u betrokken zijn, hebben deze afspraken samen vastgelegd. \
             U mag altijd vragen welke gegevens over u zijn gedeeld.\n",
        );
        out
    }
}

impl HubClient {
    fn maatregel(&self) -> MaatregelServiceClient<Svc> {
        MaatregelServiceClient::with_interceptor(self.channel.clone(), self.interceptor.clone())
    }

    fn involvement(&self) -> InvolvementServiceClient<Svc> {
        InvolvementServiceClient::with_interceptor(self.channel.clone(), self.interceptor.clone())
    }

    fn safety_plan(&self) -> SafetyPlanServiceClient<Svc> {
        SafetyPlanServiceClient::with_interceptor(self.channel.clone(), self.interceptor.clone())
    }

    fn notifications(&self) -> NotificationServiceClient<Svc> {
        NotificationServiceClient::with_interceptor(self.channel.clone(), self.interceptor.clone())
    }

    /// Registers a maatregel (sector jeugdbescherming).
    pub async fn register_maatregel(
        &mut self,
        request: pb::RegisterMaatregelRequest,
    ) -> Result<pb::Maatregel, ClientError> {
        self.maatregel()
            .register_maatregel(request)
            .await?
            .into_inner()
            .maatregel
            .ok_or_else(|| ClientError::Config("the hub sent no maatregel".into()))
    }

    /// Ends a maatregel now.
    pub async fn end_maatregel(
        &mut self,
        maatregel_id: &str,
    ) -> Result<pb::Maatregel, ClientError> {
        self.maatregel()
            .end_maatregel(pb::EndMaatregelRequest {
                maatregel_id: maatregel_id.into(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .maatregel
            .ok_or_else(|| ClientError::Config("the hub sent no maatregel".into()))
    }

    /// Ends a maatregel now and records who has the case next (`next_oin`, may be empty); the
    /// answer says which involved organisations were told.
    pub async fn end_maatregel_handing_back(
        &mut self,
        maatregel_id: &str,
        next_oin: &str,
    ) -> Result<pb::EndMaatregelResponse, ClientError> {
        self.end_maatregel_as(maatregel_id, next_oin, "").await
    }

    /// [`Self::end_maatregel_handing_back`], acting in `acting_role` (empty: the token's only
    /// role).
    pub async fn end_maatregel_as(
        &mut self,
        maatregel_id: &str,
        next_oin: &str,
        acting_role: &str,
    ) -> Result<pb::EndMaatregelResponse, ClientError> {
        Ok(self
            .maatregel()
            .end_maatregel(pb::EndMaatregelRequest {
                maatregel_id: maatregel_id.into(),
                next_oin: next_oin.into(),
                acting_role: acting_role.into(),
                ..Default::default()
            })
            .await?
            .into_inner())
    }

    /// Is there an active maatregel for this child? (Only for an involved organisation.)
    pub async fn has_maatregel(
        &mut self,
        subject_bsn: &str,
    ) -> Result<pb::HasMaatregelResponse, ClientError> {
        Ok(self
            .maatregel()
            .has_maatregel(pb::HasMaatregelRequest {
                subject_bsn: subject_bsn.into(),
                acting_role: String::new(),
            })
            .await?
            .into_inner())
    }

    /// The maatregelen of a child that my organisation registered or is responsible for.
    pub async fn list_maatregelen(
        &mut self,
        subject_bsn: &str,
        include_ended: bool,
    ) -> Result<Vec<pb::Maatregel>, ClientError> {
        self.list_maatregelen_as(subject_bsn, include_ended, "")
            .await
    }

    /// [`Self::list_maatregelen`], acting in `acting_role` (empty: the token's only role).
    pub async fn list_maatregelen_as(
        &mut self,
        subject_bsn: &str,
        include_ended: bool,
        acting_role: &str,
    ) -> Result<Vec<pb::Maatregel>, ClientError> {
        Ok(self
            .maatregel()
            .list_maatregelen(pb::ListMaatregelenRequest {
                subject_bsn: subject_bsn.into(),
                include_ended,
                acting_role: acting_role.into(),
            })
            .await?
            .into_inner()
            .maatregelen)
    }

    /// Registers my organisation's involvement with a person.
    pub async fn register_involvement(
        &mut self,
        request: pb::RegisterInvolvementRequest,
    ) -> Result<pb::RegisterInvolvementResponse, ClientError> {
        Ok(self
            .involvement()
            .register_involvement(request)
            .await?
            .into_inner())
    }

    /// Ends my organisation's involvement.
    pub async fn end_involvement(
        &mut self,
        involvement_id: &str,
    ) -> Result<pb::Involvement, ClientError> {
        self.involvement()
            .end_involvement(pb::EndInvolvementRequest {
                involvement_id: involvement_id.into(),
                acting_role: String::new(),
            })
            .await?
            .into_inner()
            .involvement
            .ok_or_else(|| ClientError::Config("the hub sent no involvement".into()))
    }

    /// The cases my organisation shares about a person.
    pub async fn list_involved_parties(
        &mut self,
        subject_bsn: &str,
    ) -> Result<pb::ListInvolvedPartiesResponse, ClientError> {
        Ok(self
            .involvement()
            .list_involved_parties(pb::ListInvolvedPartiesRequest {
                subject_bsn: subject_bsn.into(),
                acting_role: String::new(),
            })
            .await?
            .into_inner())
    }

    /// One case I am a party of.
    pub async fn get_case(&mut self, case_id: &str) -> Result<pb::Case, ClientError> {
        self.involvement()
            .get_case(pb::GetCaseRequest {
                case_id: case_id.into(),
                acting_role: String::new(),
            })
            .await?
            .into_inner()
            .case
            .ok_or_else(|| ClientError::Config("the hub sent no case".into()))
    }

    /// Proposes a coordinator (my own OIN to take it up myself).
    pub async fn propose_coordinator(
        &mut self,
        case_id: &str,
        proposed_oin: &str,
    ) -> Result<pb::ProposeCoordinatorResponse, ClientError> {
        Ok(self
            .involvement()
            .propose_coordinator(pb::ProposeCoordinatorRequest {
                case_id: case_id.into(),
                proposed_oin: proposed_oin.into(),
                acting_role: String::new(),
            })
            .await?
            .into_inner())
    }

    /// Confirms that organisation `org_oin` has contact with the person `subject_bsn` (my
    /// organisation is involved with the person, or responsible for a maatregel about them), so
    /// that it may register its involvement; returns until when (unix seconds).
    pub async fn confirm_involvement(
        &mut self,
        subject_bsn: &str,
        org_oin: &str,
    ) -> Result<i64, ClientError> {
        Ok(self
            .involvement()
            .confirm_involvement(pb::ConfirmInvolvementRequest {
                subject_bsn: subject_bsn.into(),
                org_oin: org_oin.into(),
                acting_role: String::new(),
            })
            .await?
            .into_inner()
            .valid_until
            .map(|t| t.seconds)
            .unwrap_or_default())
    }

    /// Accepts or declines a proposal my organisation's answer is awaited for.
    pub async fn respond_to_coordinator_proposal(
        &mut self,
        proposal_id: &str,
        accept: bool,
    ) -> Result<pb::RespondToCoordinatorProposalResponse, ClientError> {
        Ok(self
            .involvement()
            .respond_to_coordinator_proposal(pb::RespondToCoordinatorProposalRequest {
                proposal_id: proposal_id.into(),
                accept,
                acting_role: String::new(),
            })
            .await?
            .into_inner())
    }

    /// Publishes a sealed safety plan version (see [`SafetyPlan::seal`]).
    pub async fn publish_safety_plan(
        &mut self,
        request: pb::PublishSafetyPlanRequest,
    ) -> Result<pb::SafetyPlanVersion, ClientError> {
        self.publish_safety_plan_response(request)
            .await?
            .plan
            .ok_or_else(|| ClientError::Config("the hub sent no plan".into()))
    }

    /// Publishes a sealed safety plan version and returns the whole answer, with `duplicate`:
    /// whether the hub took it for a retry of a version this organisation already published with
    /// the same metadata and content digest.
    pub async fn publish_safety_plan_response(
        &mut self,
        request: pb::PublishSafetyPlanRequest,
    ) -> Result<pb::PublishSafetyPlanResponse, ClientError> {
        Ok(self
            .safety_plan()
            .publish_safety_plan(request)
            .await?
            .into_inner())
    }

    /// A safety plan version (0: the latest).
    pub async fn get_safety_plan(
        &mut self,
        case_id: &str,
        version: u32,
    ) -> Result<pb::SafetyPlanVersion, ClientError> {
        self.safety_plan()
            .get_safety_plan(pb::GetSafetyPlanRequest {
                case_id: case_id.into(),
                version,
                acting_role: String::new(),
            })
            .await?
            .into_inner()
            .plan
            .ok_or_else(|| ClientError::Config("the hub sent no plan".into()))
    }

    /// Confirms agreements of a version (empty: all that concern my organisation).
    pub async fn confirm_safety_plan(
        &mut self,
        case_id: &str,
        version: u32,
        agreement_ids: Vec<String>,
    ) -> Result<pb::SafetyPlanVersion, ClientError> {
        self.safety_plan()
            .confirm_safety_plan(pb::ConfirmSafetyPlanRequest {
                case_id: case_id.into(),
                version,
                agreement_ids,
                acting_role: String::new(),
            })
            .await?
            .into_inner()
            .plan
            .ok_or_else(|| ClientError::Config("the hub sent no plan".into()))
    }

    /// My organisation's notifications after `after_cursor`, then live.
    pub async fn stream_notifications(
        &mut self,
        after_cursor: u64,
    ) -> Result<tonic::Streaming<pb::StreamNotificationsResponse>, ClientError> {
        Ok(self
            .notifications()
            .stream_notifications(pb::StreamNotificationsRequest { after_cursor })
            .await?
            .into_inner())
    }

    /// Updates my organisation's own entry on the sociale kaart (role `profile_admin` or
    /// `key_admin`).
    pub async fn update_own_profile(
        &mut self,
        request: pb::UpdateOwnProfileRequest,
    ) -> Result<pb::Organization, ClientError> {
        self.directory()
            .update_own_profile(request)
            .await?
            .into_inner()
            .organization
            .ok_or_else(|| ClientError::Config("the hub sent no organisation".into()))
    }

    /// The current encryption keys of `oins`, fetched from the directory, to seal to.
    pub async fn recipient_keys(
        &mut self,
        oins: &[String],
    ) -> Result<Vec<RecipientKey>, ClientError> {
        let mut out = Vec::new();
        for oin in oins {
            let o = self.get_organization(oin).await?;
            let k = o
                .encryption_keys
                .iter()
                .find(|k| k.retired_at.is_none())
                .ok_or_else(|| {
                    ClientError::Config(format!("{oin} publishes no current encryption key"))
                })?;
            out.push(
                RecipientKey::from_directory(oin.clone(), k)
                    .map_err(|e| ClientError::Config(format!("{oin}: {e}")))?,
            );
        }
        Ok(out)
    }

    /// The published signing key `kid` of `oin` (to check an envelope's sender).
    pub async fn signing_key(&mut self, oin: &str, kid: &str) -> Result<[u8; 32], ClientError> {
        let o = self.get_organization(oin).await?;
        o.signing_keys
            .iter()
            .find(|k| k.key_id == kid)
            .and_then(|k| <[u8; 32]>::try_from(k.public_key.as_slice()).ok())
            .ok_or_else(|| ClientError::Config(format!("{oin} publishes no signing key {kid}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> SafetyPlan {
        SafetyPlan {
            title: "Veiligheidsplan gezin Jansen".into(),
            goal: "Dat iedereen thuis veilig is".into(),
            emergency_contact: "de wijkcoach, 026-0000002".into(),
            agreements: vec![
                Agreement {
                    id: "a1".into(),
                    who: "Vader".into(),
                    what: "neemt een time-out bij ruzie en gaat dan naar zijn broer".into(),
                    by_when: Some("vanaf vandaag".into()),
                    party_oins: vec![],
                    concerns_family: true,
                },
                Agreement {
                    id: "a2".into(),
                    who: "De wijkcoach".into(),
                    what: "komt elke week op huisbezoek".into(),
                    by_when: None,
                    party_oins: vec!["00000009905000000000".into()],
                    concerns_family: true,
                },
            ],
        }
    }

    #[test]
    fn family_text_is_plain_dutch_with_confirmations() {
        let meta = pb::SafetyPlanVersion {
            version: 2,
            agreements: vec![pb::AgreementMeta {
                agreement_id: "a2".into(),
                party_oins: vec!["00000009905000000000".into()],
                concerns_family: true,
                confirmations: vec![],
            }],
            ..Default::default()
        };
        let text = plan().render_for_family(&meta, |_| "Wijkteam Arnhem-Oost".into());
        assert!(text.contains("Versie 2 van het veiligheidsplan"));
        assert!(text.contains(
            "1. Vader neemt een time-out bij ruzie en gaat dan naar zijn broer (vanaf vandaag)."
        ));
        assert!(text.contains("2. De wijkcoach komt elke week op huisbezoek."));
        assert!(text.contains("Nog niet bevestigd door: Wijkteam Arnhem-Oost."));
        assert!(text.contains("Bel de wijkcoach, 026-0000002"));
    }

    #[test]
    fn payload_round_trips() {
        let p = plan();
        let bytes = serde_json::to_vec(&p).unwrap_or_default();
        let back: SafetyPlan = serde_json::from_slice(&bytes).unwrap_or_else(|_| plan());
        assert_eq!(back, p);
        assert!(!bytes.is_empty());
    }
}
