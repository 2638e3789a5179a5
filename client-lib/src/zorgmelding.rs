//! Typed calls for police zorgmeldingen, Veilig Thuis triage and the handover to the wijkteam
//! (`ZorgmeldingService`, `TriageService`). See docs/ZORGMELDING.md.
use crate::{ClientError, HubClient, Svc};
use signaalhub_proto::pb;
use signaalhub_proto::pb::triage_service_client::TriageServiceClient;
use signaalhub_proto::pb::zorgmelding_service_client::ZorgmeldingServiceClient;

impl HubClient {
    fn zorgmeldingen(&self) -> ZorgmeldingServiceClient<Svc> {
        ZorgmeldingServiceClient::with_interceptor(self.channel.clone(), self.interceptor.clone())
    }

    fn triages(&self) -> TriageServiceClient<Svc> {
        TriageServiceClient::with_interceptor(self.channel.clone(), self.interceptor.clone())
    }

    /// Police: submits one fragment of an incident's zorgmelding (its envelope sealed with
    /// [`crate::envelope::seal`] to Veilig Thuis). Idempotent on `fragment_id`.
    pub async fn submit_fragment(
        &mut self,
        request: pb::SubmitFragmentRequest,
    ) -> Result<pb::SubmitFragmentResponse, ClientError> {
        Ok(self
            .zorgmeldingen()
            .submit_fragment(request)
            .await?
            .into_inner())
    }

    /// Police: marks the zorgmelding of `registration_number` complete.
    pub async fn complete_zorgmelding(
        &mut self,
        registration_number: &str,
    ) -> Result<pb::Zorgmelding, ClientError> {
        self.zorgmeldingen()
            .complete_zorgmelding(pb::CompleteZorgmeldingRequest {
                registration_number: registration_number.into(),
                acting_role: String::new(),
            })
            .await?
            .into_inner()
            .zorgmelding
            .ok_or_else(|| ClientError::Config("the hub sent no zorgmelding".into()))
    }

    /// Veilig Thuis: the live stream of its zorgmeldingen, resuming after `after_cursor`.
    pub async fn stream_zorgmeldingen(
        &mut self,
        after_cursor: u64,
    ) -> Result<tonic::Streaming<pb::StreamZorgmeldingenResponse>, ClientError> {
        Ok(self
            .zorgmeldingen()
            .stream_zorgmeldingen(pb::StreamZorgmeldingenRequest { after_cursor })
            .await?
            .into_inner())
    }

    /// One zorgmelding by the hub's id (Veilig Thuis or the police).
    pub async fn get_zorgmelding(
        &mut self,
        zorgmelding_id: &str,
    ) -> Result<pb::Zorgmelding, ClientError> {
        self.get_zorgmelding_request(pb::GetZorgmeldingRequest {
            zorgmelding_id: zorgmelding_id.into(),
            registration_number: String::new(),
        })
        .await
    }

    /// Police: one's own zorgmelding by registration number (without envelopes).
    pub async fn get_zorgmelding_by_registration(
        &mut self,
        registration_number: &str,
    ) -> Result<pb::Zorgmelding, ClientError> {
        self.get_zorgmelding_request(pb::GetZorgmeldingRequest {
            zorgmelding_id: String::new(),
            registration_number: registration_number.into(),
        })
        .await
    }

    async fn get_zorgmelding_request(
        &mut self,
        request: pb::GetZorgmeldingRequest,
    ) -> Result<pb::Zorgmelding, ClientError> {
        self.zorgmeldingen()
            .get_zorgmelding(request)
            .await?
            .into_inner()
            .zorgmelding
            .ok_or_else(|| ClientError::Config("the hub sent no zorgmelding".into()))
    }

    /// Veilig Thuis: records a triage; returns it with the advice and the recidive.
    pub async fn record_triage(
        &mut self,
        request: pb::RecordTriageRequest,
    ) -> Result<pb::Triage, ClientError> {
        self.triages()
            .record_triage(request)
            .await?
            .into_inner()
            .triage
            .ok_or_else(|| ClientError::Config("the hub sent no triage".into()))
    }

    /// Veilig Thuis: the triagist's decision on a triage (a reason is needed when it differs
    /// from the advice).
    pub async fn decide_triage(
        &mut self,
        request: pb::DecideTriageRequest,
    ) -> Result<pb::Triage, ClientError> {
        self.triages()
            .decide_triage(request)
            .await?
            .into_inner()
            .triage
            .ok_or_else(|| ClientError::Config("the hub sent no triage".into()))
    }

    /// Veilig Thuis: the latest triage of a melding (see [`melding_reference`]) and the
    /// family's refusal, if any.
    pub async fn get_triage(
        &mut self,
        melding: &str,
    ) -> Result<pb::GetTriageResponse, ClientError> {
        let (zorgmelding_id, signal) = melding_reference(melding);
        Ok(self
            .triages()
            .get_triage(pb::GetTriageRequest {
                zorgmelding_id,
                signal,
            })
            .await?
            .into_inner())
    }

    /// Veilig Thuis: records that the family declined the wijkteam (`declined_by` is a reference
    /// such as `ouder-1`).
    pub async fn record_family_declined(
        &mut self,
        melding: &str,
        declined_by: &str,
        acting_role: &str,
    ) -> Result<pb::FamilyDeclined, ClientError> {
        let (zorgmelding_id, signal) = melding_reference(melding);
        self.triages()
            .record_family_declined(pb::RecordFamilyDeclinedRequest {
                zorgmelding_id,
                signal,
                declined_by: declined_by.into(),
                acting_role: acting_role.into(),
            })
            .await?
            .into_inner()
            .family_declined
            .ok_or_else(|| ClientError::Config("the hub sent no answer".into()))
    }

    /// Veilig Thuis: hands a case over to a wijkteam. Idempotent on `handover_id`.
    pub async fn hand_over(
        &mut self,
        request: pb::HandOverRequest,
    ) -> Result<pb::HandOverResponse, ClientError> {
        Ok(self.triages().hand_over(request).await?.into_inner())
    }

    /// The wijkteam: accepts a delivered handover, asks Veilig Thuis a question, or returns it.
    pub async fn answer_handover(
        &mut self,
        request: pb::AnswerHandoverRequest,
    ) -> Result<pb::AnswerHandoverResponse, ClientError> {
        Ok(self.triages().answer_handover(request).await?.into_inner())
    }

    /// Veilig Thuis: feedback to the melder of a melding.
    pub async fn send_feedback(
        &mut self,
        request: pb::SendFeedbackRequest,
    ) -> Result<pb::SendFeedbackResponse, ClientError> {
        Ok(self.triages().send_feedback(request).await?.into_inner())
    }

    /// The feedback about a melding (see [`melding_reference`]), for its melder and its Veilig
    /// Thuis.
    pub async fn list_feedback(&mut self, melding: &str) -> Result<Vec<pb::Feedback>, ClientError> {
        let (zorgmelding_id, signal) = melding_reference(melding);
        Ok(self
            .triages()
            .list_feedback(pb::ListFeedbackRequest {
                zorgmelding_id,
                signal,
            })
            .await?
            .into_inner()
            .feedback)
    }

    /// Veilig Thuis: records the stage of a melding (and the review it plans).
    pub async fn set_melding_stage(
        &mut self,
        request: pb::SetMeldingStageRequest,
    ) -> Result<pb::MeldingStages, ClientError> {
        self.triages()
            .set_melding_stage(request)
            .await?
            .into_inner()
            .stages
            .ok_or_else(|| ClientError::Config("the hub sent no stages".into()))
    }

    /// Veilig Thuis: the stages of a melding (see [`melding_reference`]).
    pub async fn get_melding_stages(
        &mut self,
        melding: &str,
    ) -> Result<pb::MeldingStages, ClientError> {
        self.get_melding_stages_as(melding, "").await
    }

    /// Like [`HubClient::get_melding_stages`], acting in `acting_role` (for a token with several
    /// roles; empty: the token's only role).
    pub async fn get_melding_stages_as(
        &mut self,
        melding: &str,
        acting_role: &str,
    ) -> Result<pb::MeldingStages, ClientError> {
        let (zorgmelding_id, signal) = melding_reference(melding);
        self.triages()
            .get_melding_stages(pb::GetMeldingStagesRequest {
                zorgmelding_id,
                signal,
                acting_role: acting_role.into(),
            })
            .await?
            .into_inner()
            .stages
            .ok_or_else(|| ClientError::Config("the hub sent no stages".into()))
    }

    /// Veilig Thuis: one page of its overview of the meldingen delivered to it (zorgmeldingen
    /// and meldcode signals) with their stage and review moment, due reviews first; optionally
    /// of one stage (`request.stage`). Give `next_page_token` back as `page_token` for the next
    /// page. Another organisation gets an empty list; a privacy officer `PERMISSION_DENIED`.
    pub async fn list_meldingen(
        &mut self,
        request: pb::ListMeldingenRequest,
    ) -> Result<pb::ListMeldingenResponse, ClientError> {
        Ok(self.triages().list_meldingen(request).await?.into_inner())
    }

    /// Veilig Thuis: asks an organisation for information about a melding under assessment.
    pub async fn request_information(
        &mut self,
        request: pb::RequestInformationRequest,
    ) -> Result<pb::RequestInformationResponse, ClientError> {
        Ok(self
            .triages()
            .request_information(request)
            .await?
            .into_inner())
    }

    /// The information requests this organisation sent (`sent`, Veilig Thuis) or received,
    /// newest first.
    pub async fn list_information_requests(
        &mut self,
        sent: bool,
    ) -> Result<Vec<pb::InformationRequest>, ClientError> {
        self.list_information_requests_as(sent, "").await
    }

    /// Like [`HubClient::list_information_requests`], acting in `acting_role` (for a token with
    /// several roles; empty: the token's only role).
    pub async fn list_information_requests_as(
        &mut self,
        sent: bool,
        acting_role: &str,
    ) -> Result<Vec<pb::InformationRequest>, ClientError> {
        Ok(self
            .triages()
            .list_information_requests(pb::ListInformationRequestsRequest {
                sent,
                acting_role: acting_role.into(),
            })
            .await?
            .into_inner()
            .requests)
    }

    /// The organisation asked: answers an information request (sealed to Veilig Thuis) or
    /// declines it with a reason.
    pub async fn answer_information(
        &mut self,
        request: pb::AnswerInformationRequest,
    ) -> Result<pb::AnswerInformationResponse, ClientError> {
        Ok(self
            .triages()
            .answer_information(request)
            .await?
            .into_inner())
    }

    /// Handovers this organisation sent or received, newest first.
    pub async fn list_handovers(&mut self) -> Result<Vec<pb::Handover>, ClientError> {
        Ok(self
            .triages()
            .list_handovers(pb::ListHandoversRequest {})
            .await?
            .into_inner()
            .handovers)
    }

    /// One handover: the wijkteam receives its envelopes; Veilig Thuis sees its state.
    pub async fn get_handover(
        &mut self,
        sender_oin: &str,
        handover_id: &str,
    ) -> Result<pb::Handover, ClientError> {
        self.triages()
            .get_handover(pb::GetHandoverRequest {
                sender_oin: sender_oin.into(),
                handover_id: handover_id.into(),
            })
            .await?
            .into_inner()
            .handover
            .ok_or_else(|| ClientError::Config("the hub sent no handover".into()))
    }
}

/// A melding as a person writes it: a zorgmelding id (`zm_…`), or a signal sent to Veilig Thuis
/// as `<sender OIN>/<signal id>` — as the wire's two fields (`zorgmelding_id`, `signal`). The hub
/// checks the form.
pub fn melding_reference(melding: &str) -> (String, Option<pb::SignalReference>) {
    match melding.split_once('/') {
        Some((sender, id)) => (
            String::new(),
            Some(pb::SignalReference {
                sender_oin: sender.into(),
                signal_id: id.into(),
            }),
        ),
        None => (melding.into(), None),
    }
}

/// The text [`melding_reference`] reads, for a melding on the wire.
pub fn melding_text(zorgmelding_id: &str, signal: Option<&pb::SignalReference>) -> String {
    match signal {
        Some(s) => format!("{}/{}", s.sender_oin, s.signal_id),
        None => zorgmelding_id.into(),
    }
}

/// The purpose every envelope of a handover carries, and the wijkteam's questions with it.
pub const HANDOVER_PURPOSE: &str = "overdracht_hulpverlening";

/// The basis reference a handover's envelopes carry, from the basis strings the hub shows
/// (`legal:<name>`, `consent:<id>`): what a wijkteam's question must be bound to.
pub fn handover_basis_reference(h: &pb::Handover) -> String {
    let mut legal = None;
    let mut consents = Vec::new();
    for b in &h.basis {
        if let Some(name) = b.strip_prefix("legal:") {
            legal = Some(name.to_owned());
        } else if let Some(id) = b.strip_prefix("consent:") {
            consents.push(id.to_owned());
        }
    }
    signaalhub_proto::basis_reference(&pb::Basis {
        legal: legal.map(|basis| pb::LegalBasis {
            basis,
            evidence: None,
        }),
        consent_ids: consents,
    })
}

/// The binding of the wijkteam's next question on a handover: its own id
/// `<handover_id>.q<n>` (n = the answers so far + 1), and the handover's purpose, categories and
/// basis reference, as the hub requires. `envelope::seal` sets the content digest.
pub fn question_binding(h: &pb::Handover, created_at_unix: i64) -> pb::EnvelopeBinding {
    pb::EnvelopeBinding {
        signal_id: format!("{}.q{}", h.handover_id, h.answers.len() + 1),
        purpose: h.purpose.clone(),
        categories: h.categories.clone(),
        basis_reference: handover_basis_reference(h),
        created_at_unix,
        content_digest: Vec::new(),
    }
}

/// The binding of a melding's part re-sealed for the wijkteam: id `<handover_id>.<part>`,
/// [`HANDOVER_PURPOSE`], the categories handed over and the handover's basis.
pub fn handover_binding(
    handover_id: &str,
    part: u32,
    categories: &[String],
    basis: &pb::Basis,
    created_at_unix: i64,
) -> pb::EnvelopeBinding {
    pb::EnvelopeBinding {
        signal_id: format!("{handover_id}.{part}"),
        purpose: HANDOVER_PURPOSE.into(),
        categories: categories.to_vec(),
        basis_reference: signaalhub_proto::basis_reference(basis),
        created_at_unix,
        content_digest: Vec::new(),
    }
}
