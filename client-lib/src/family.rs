//! Typed calls for the family's rights (`FamilyService`): the duty to inform the family of a
//! disclosure, and the family's objection, correction, restriction and erasure requests with
//! the notices a granted one sends. See docs/FAMILY.md.
use crate::{ClientError, HubClient, Svc};
use signaalhub_proto::pb;
use signaalhub_proto::pb::family_service_client::FamilyServiceClient;

impl HubClient {
    fn family(&self) -> FamilyServiceClient<Svc> {
        FamilyServiceClient::with_interceptor(self.channel.clone(), self.interceptor.clone())
    }

    /// One page of the organisation's duties to inform the family.
    pub async fn list_inform_obligations(
        &mut self,
        request: pb::ListInformObligationsRequest,
    ) -> Result<pb::ListInformObligationsResponse, ClientError> {
        Ok(self
            .family()
            .list_inform_obligations(request)
            .await?
            .into_inner())
    }

    /// Every duty to inform the family that `request` selects, page after page.
    pub async fn all_inform_obligations(
        &mut self,
        mut request: pb::ListInformObligationsRequest,
    ) -> Result<Vec<pb::InformObligation>, ClientError> {
        let mut out = Vec::new();
        loop {
            let page = self.list_inform_obligations(request.clone()).await?;
            out.extend(page.obligations);
            if page.next_from_index == 0 {
                return Ok(out);
            }
            request.from_index = page.next_from_index;
        }
    }

    /// Records how and when the family was informed of the disclosure at `log_index`.
    pub async fn record_family_informed(
        &mut self,
        request: pb::RecordFamilyInformedRequest,
    ) -> Result<pb::InformObligation, ClientError> {
        self.family()
            .record_family_informed(request)
            .await?
            .into_inner()
            .obligation
            .ok_or_else(|| ClientError::Config("the hub sent no obligation".into()))
    }

    /// Records why the family is not informed of the disclosure at `log_index`.
    pub async fn record_inform_exemption(
        &mut self,
        request: pb::RecordInformExemptionRequest,
    ) -> Result<pb::InformObligation, ClientError> {
        self.family()
            .record_inform_exemption(request)
            .await?
            .into_inner()
            .obligation
            .ok_or_else(|| ClientError::Config("the hub sent no obligation".into()))
    }

    /// Records a request of the family (objection, correction, restriction, erasure).
    pub async fn record_family_request(
        &mut self,
        request: pb::RecordFamilyRequestRequest,
    ) -> Result<pb::FamilyRequest, ClientError> {
        self.family()
            .record_family_request(request)
            .await?
            .into_inner()
            .request
            .ok_or_else(|| ClientError::Config("the hub sent no request".into()))
    }

    /// Decides an open request; a granted one is told to every organisation that received the
    /// data.
    pub async fn decide_family_request(
        &mut self,
        request: pb::DecideFamilyRequestRequest,
    ) -> Result<pb::FamilyRequest, ClientError> {
        self.family()
            .decide_family_request(request)
            .await?
            .into_inner()
            .request
            .ok_or_else(|| ClientError::Config("the hub sent no request".into()))
    }

    /// One of the organisation's requests, with its notices.
    pub async fn get_family_request(
        &mut self,
        request_id: &str,
        acting_role: &str,
    ) -> Result<pb::FamilyRequest, ClientError> {
        self.family()
            .get_family_request(pb::GetFamilyRequestRequest {
                request_id: request_id.into(),
                acting_role: acting_role.into(),
            })
            .await?
            .into_inner()
            .request
            .ok_or_else(|| ClientError::Config("the hub sent no request".into()))
    }

    /// Every request of the organisation, in the order recorded.
    pub async fn list_family_requests(
        &mut self,
        acting_role: &str,
    ) -> Result<Vec<pb::FamilyRequest>, ClientError> {
        let mut out = Vec::new();
        let mut from_index = 0;
        loop {
            let page = self
                .family()
                .list_family_requests(pb::ListFamilyRequestsRequest {
                    from_index,
                    page_size: 0,
                    acting_role: acting_role.into(),
                })
                .await?
                .into_inner();
            out.extend(page.requests);
            if page.next_from_index == 0 {
                return Ok(out);
            }
            from_index = page.next_from_index;
        }
    }

    /// The notices of granted requests told to the organisation (newest first).
    pub async fn list_family_request_notices(
        &mut self,
        open_only: bool,
        acting_role: &str,
    ) -> Result<Vec<pb::FamilyRequestNotice>, ClientError> {
        Ok(self
            .family()
            .list_family_request_notices(pb::ListFamilyRequestNoticesRequest {
                open_only,
                page_size: 0,
                acting_role: acting_role.into(),
            })
            .await?
            .into_inner()
            .notices)
    }

    /// Confirms that the organisation acted on a notice of `org_oin`'s request `request_id`.
    pub async fn acknowledge_family_request_notice(
        &mut self,
        org_oin: &str,
        request_id: &str,
        acting_role: &str,
    ) -> Result<pb::FamilyRequestNotice, ClientError> {
        self.family()
            .acknowledge_family_request_notice(pb::AcknowledgeFamilyRequestNoticeRequest {
                org_oin: org_oin.into(),
                request_id: request_id.into(),
                acting_role: acting_role.into(),
            })
            .await?
            .into_inner()
            .notice
            .ok_or_else(|| ClientError::Config("the hub sent no notice".into()))
    }

    /// A fresh subject reference (`SH-` + 13 letters) for a person whose BSN is not known, to use
    /// wherever a BSN is asked for.
    pub async fn issue_subject_reference(
        &mut self,
        acting_role: &str,
    ) -> Result<pb::IssueSubjectReferenceResponse, ClientError> {
        Ok(self
            .family()
            .issue_subject_reference(pb::IssueSubjectReferenceRequest {
                acting_role: acting_role.into(),
            })
            .await?
            .into_inner())
    }

    /// Merges the organisation's subject `reference` with the person's BSN, once.
    pub async fn merge_subject_reference(
        &mut self,
        reference: &str,
        subject_bsn: &str,
        acting_role: &str,
    ) -> Result<pb::MergeSubjectReferenceResponse, ClientError> {
        Ok(self
            .family()
            .merge_subject_reference(pb::MergeSubjectReferenceRequest {
                reference: reference.into(),
                subject_bsn: subject_bsn.into(),
                acting_role: acting_role.into(),
            })
            .await?
            .into_inner())
    }
}
