//! `signaalhub.v1.MaatregelService`: the maatregel register and its minimal query. The rules
//! (who registers, who may ask, the answer's decision and its notice) live in
//! `flows::maatregel`; this is the wire.
use super::basis::{bsn_from_pb, required_bsn};
use super::{caller, timestamp};
use crate::domain::maatregel::{Maatregel, MaatregelKind, valid_contact};
use crate::flows::maatregel::{self as flow, EndMaatregel, RegisterMaatregel};
use crate::flows::{Ctx, FlowError};
use crate::ids::Oin;
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
        maatregel_id: m.id.to_string(),
        kind: kind_to_pb(m.kind) as i32,
        starts_at: Some(timestamp(m.starts_at)),
        ends_at: m.ends_at.map(timestamp),
        responsible_oin: m.responsible_oin.to_string(),
        contact_point: m.contact_point.clone(),
        registered_by_oin: m.registered_by_oin.to_string(),
        registered_at: Some(timestamp(m.registered_at)),
        ended_at: m.ended_at.map(timestamp),
        next_oin: m
            .next_oin
            .as_ref()
            .map(|o| o.to_string())
            .unwrap_or_default(),
    }
}

impl From<pb::RegisterMaatregelRequest> for RegisterMaatregel {
    /// Structure only; what the edge finds wrong is said together with the flow's findings
    /// (dates, the responsible organisation in the directory).
    fn from(r: pb::RegisterMaatregelRequest) -> Self {
        let mut bad = Vec::new();
        let subject = bsn_from_pb("subject_bsn", &r.subject_bsn, &mut bad);
        let kind = kind_from_pb(r.kind);
        if kind.is_none() {
            bad.push((
                "kind",
                "MAATREGEL_KIND_OTS, _VOOGDIJ, _MACHTIGING_UITHUISPLAATSING or _JEUGDRECLASSERING"
                    .into(),
            ));
        }
        let responsible = if r.responsible_oin.is_empty() {
            None
        } else {
            match r.responsible_oin.parse::<Oin>() {
                Ok(o) => Some(o),
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
        RegisterMaatregel {
            subject,
            kind,
            starts_at: r.starts_at.map(|s| s.seconds),
            ends_at: r.ends_at.map(|s| s.seconds),
            responsible,
            contact_point: r.contact_point,
            acting_role: super::basis::optional_name("acting_role", &r.acting_role, &mut bad),
            invalid: bad,
        }
    }
}

impl TryFrom<pb::EndMaatregelRequest> for EndMaatregel {
    type Error = FlowError;
    fn try_from(r: pb::EndMaatregelRequest) -> Result<Self, FlowError> {
        let maatregel_id = r.maatregel_id.parse().map_err(|_| {
            FlowError::invalid("maatregel_id", "the id RegisterMaatregel returned (m_…)")
        })?;
        let next_oin = if r.next_oin.is_empty() {
            None
        } else {
            Some(r.next_oin.parse().map_err(|e: crate::ids::InvalidOin| {
                FlowError::invalid("next_oin", e.to_string())
            })?)
        };
        Ok(EndMaatregel {
            maatregel_id,
            ended_at: r.ended_at.map(|s| s.seconds),
            acting_role: super::basis::acting_role(&r.acting_role)?,
            next_oin,
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
        let cmd = RegisterMaatregel::from(request.into_inner());
        let m = flow::register(&self.ctx, &c, cmd).await?;
        Ok(Response::new(pb::RegisterMaatregelResponse {
            maatregel: Some(maatregel_to_pb(&m)),
        }))
    }

    async fn end_maatregel(
        &self,
        request: Request<pb::EndMaatregelRequest>,
    ) -> Result<Response<pb::EndMaatregelResponse>, Status> {
        let c = caller(&request)?;
        let cmd = EndMaatregel::try_from(request.into_inner())?;
        let ended = flow::end(&self.ctx, &c, cmd).await?;
        Ok(Response::new(pb::EndMaatregelResponse {
            maatregel: Some(maatregel_to_pb(&ended.maatregel)),
            parties: ended
                .parties
                .iter()
                .map(|(oin, told)| pb::EndMaatregelResponseParty {
                    oin: oin.to_string(),
                    told: *told,
                })
                .collect(),
        }))
    }

    async fn has_maatregel(
        &self,
        request: Request<pb::HasMaatregelRequest>,
    ) -> Result<Response<pb::HasMaatregelResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let subject = required_bsn("subject_bsn", &r.subject_bsn)?;
        let answer = flow::has_maatregel(
            &self.ctx,
            &c,
            &subject,
            super::basis::acting_role(&r.acting_role)?.as_ref(),
        )
        .await?;
        self.wake.notify_waiters();
        Ok(Response::new(pb::HasMaatregelResponse {
            exists: answer.exists,
            kinds: answer
                .kinds
                .into_iter()
                .map(|k| kind_to_pb(k) as i32)
                .collect(),
            contacts: answer
                .contacts
                .into_iter()
                .map(|k| pb::MaatregelContact {
                    oin: k.oin.to_string(),
                    organization_name: k.organization_name,
                    contact_point: k.contact_point,
                })
                .collect(),
        }))
    }

    async fn list_maatregelen(
        &self,
        request: Request<pb::ListMaatregelenRequest>,
    ) -> Result<Response<pb::ListMaatregelenResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let subject = required_bsn("subject_bsn", &r.subject_bsn)?;
        let mine = flow::list(
            &self.ctx,
            &c,
            &subject,
            r.include_ended,
            super::basis::acting_role(&r.acting_role)?.as_ref(),
        )
        .await?;
        Ok(Response::new(pb::ListMaatregelenResponse {
            maatregelen: mine.iter().map(maatregel_to_pb).collect(),
        }))
    }
}
