//! `signaalhub.v1.ZorgmeldingService`: police fragments assembled into one zorgmelding per
//! incident, streamed to Veilig Thuis as one item with its fragments in order and their
//! provenance, and the recidive (earlier reports about the same persons) beside it. The rules
//! live in `flows::zorgmelding`; this is the wire.
use super::basis::{bsns_from_pb, chosen_id, decision_to_pb, required_envelope_from_pb};
use super::{caller, timestamp};
use crate::domain::zorgmelding::{FragmentKind, ZorgmeldingRecord, valid_registration_number};
use crate::flows::zorgmelding::{
    self as flow, CompleteZorgmelding, MAX_FRAGMENT_SUBJECTS, MeldingRef, MeldingView, Recidive,
    SubmitFragment,
};
use crate::flows::{Ctx, FlowError};
use prost::Message;
use signaalhub_proto::pb;
use signaalhub_proto::pb::zorgmelding_service_server::ZorgmeldingService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The ZorgmeldingService.
#[derive(Debug, Clone)]
pub struct ZorgmeldingApi {
    ctx: Ctx,
    inbox: Arc<tokio::sync::Notify>,
    stop: tokio::sync::watch::Receiver<bool>,
}

impl ZorgmeldingApi {
    /// On shared state; `inbox` is the notifier the signal inbox uses too (woken after every
    /// commit, and on PostgreSQL by `pg_notify` from any instance); streams end with
    /// `UNAVAILABLE` when `stop` turns true.
    pub fn new(
        ctx: Ctx,
        inbox: Arc<tokio::sync::Notify>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        ZorgmeldingApi { ctx, inbox, stop }
    }
}

fn kind_from_pb(k: i32) -> Option<FragmentKind> {
    Some(match pb::FragmentKind::try_from(k).ok()? {
        pb::FragmentKind::Incident => FragmentKind::Incident,
        pb::FragmentKind::Persons => FragmentKind::Persons,
        pb::FragmentKind::ChildrenPresent => FragmentKind::ChildrenPresent,
        pb::FragmentKind::History => FragmentKind::History,
        pb::FragmentKind::Other => FragmentKind::Other,
        pb::FragmentKind::Unspecified => return None,
    })
}

fn kind_to_pb(k: FragmentKind) -> pb::FragmentKind {
    match k {
        FragmentKind::Incident => pb::FragmentKind::Incident,
        FragmentKind::Persons => pb::FragmentKind::Persons,
        FragmentKind::ChildrenPresent => pb::FragmentKind::ChildrenPresent,
        FragmentKind::History => pb::FragmentKind::History,
        FragmentKind::Other => pb::FragmentKind::Other,
    }
}

const REGISTRATION_NUMBER: &str = "the police registration number: 1-64 of A-Za-z0-9._-/";

impl TryFrom<pb::SubmitFragmentRequest> for SubmitFragment {
    type Error = FlowError;
    fn try_from(r: pb::SubmitFragmentRequest) -> Result<Self, FlowError> {
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        if !valid_registration_number(&r.registration_number) {
            bad.push(("registration_number", REGISTRATION_NUMBER.into()));
        }
        let fragment_id = chosen_id::<crate::ids::Fragment>(
            "fragment_id",
            &r.fragment_id,
            "1-64 of A-Za-z0-9._- chosen by the sender, unique per sender",
            &mut bad,
        );
        let kind = kind_from_pb(r.kind);
        if kind.is_none() {
            bad.push((
                "kind",
                "one of INCIDENT, PERSONS, CHILDREN_PRESENT, HISTORY, OTHER".into(),
            ));
        }
        let recipient_oin = super::basis::parsed_field("recipient_oin", &r.recipient_oin, &mut bad);
        let subjects = bsns_from_pb(
            "subject_bsns",
            &r.subject_bsns,
            MAX_FRAGMENT_SUBJECTS,
            "person",
            &mut bad,
        );
        let basis = r.basis.clone().unwrap_or_default();
        let evidence_number = basis
            .legal
            .as_ref()
            .and_then(|l| l.evidence.as_ref())
            .map(|e| e.registration_number.as_str())
            .unwrap_or_default();
        if evidence_number != r.registration_number {
            bad.push((
                "basis.legal.evidence.registration_number",
                "must equal registration_number (the police basis rests on it)".into(),
            ));
        }
        let basis = crate::wire::basis_from_pb(&basis, &mut bad);
        let envelope = required_envelope_from_pb("envelope", r.envelope.as_ref(), &mut bad);
        let categories = super::basis::name_list("categories", &r.categories, &mut bad);
        let acting_role = super::basis::optional_name("acting_role", &r.acting_role, &mut bad);
        let canonical = pb::SubmitFragmentRequest {
            envelope: None,
            subject_bsns: Vec::new(),
            acting_role: String::new(),
            ..r.clone()
        }
        .encode_to_vec();
        match (kind, envelope, fragment_id, recipient_oin) {
            (Some(kind), Some(envelope), Some(fragment_id), Some(recipient_oin))
                if bad.is_empty() =>
            {
                Ok(SubmitFragment {
                    fragment_id,
                    registration_number: r.registration_number,
                    kind,
                    recipient_oin,
                    subjects,
                    categories,
                    basis,
                    acting_role,
                    envelope,
                    canonical,
                })
            }
            _ => Err(FlowError::Invalid(bad)),
        }
    }
}

impl TryFrom<pb::CompleteZorgmeldingRequest> for CompleteZorgmelding {
    type Error = FlowError;
    fn try_from(r: pb::CompleteZorgmeldingRequest) -> Result<Self, FlowError> {
        if !valid_registration_number(&r.registration_number) {
            return Err(FlowError::invalid(
                "registration_number",
                REGISTRATION_NUMBER,
            ));
        }
        Ok(CompleteZorgmelding {
            registration_number: r.registration_number,
            acting_role: super::basis::acting_role(&r.acting_role)?,
        })
    }
}

impl TryFrom<pb::GetZorgmeldingRequest> for MeldingRef {
    type Error = FlowError;
    fn try_from(r: pb::GetZorgmeldingRequest) -> Result<Self, FlowError> {
        if !r.zorgmelding_id.is_empty() {
            let id = r.zorgmelding_id.parse().map_err(|_| {
                FlowError::invalid("zorgmelding_id", "a zorgmelding id such as zm_…")
            })?;
            Ok(MeldingRef::Id(id))
        } else if valid_registration_number(&r.registration_number) {
            Ok(MeldingRef::Registration(r.registration_number))
        } else {
            Err(FlowError::invalid(
                "zorgmelding_id",
                "give the zorgmelding id, or (police) your registration number",
            ))
        }
    }
}

/// The recidive on the wire.
pub(crate) fn recidive_to_pb(r: &Recidive) -> pb::Recidive {
    pb::Recidive {
        window_days: r.window_days,
        earlier_zorgmeldingen: r.earlier_zorgmeldingen,
        earlier_signals: r.earlier_signals,
        sectors: r.sectors.clone(),
        items: r
            .items
            .iter()
            .map(|i| pb::RecidiveItem {
                kind: i.kind.into(),
                sender_oin: i.sender_oin.to_string(),
                sender_sector: i.sender_sector.clone(),
                purpose: i.purpose.to_string(),
                at: Some(timestamp(i.at)),
                reference: i.reference.clone(),
            })
            .collect(),
    }
}

/// The wire melding. For its Veilig Thuis, fragments carry their envelopes and the recidive
/// and linked meldingen are filled in.
pub(crate) fn melding_to_pb(v: &MeldingView) -> pb::Zorgmelding {
    let m = &v.melding;
    let (recidive, linked) = match &v.recidive {
        Some((r, l)) => (Some(recidive_to_pb(r)), l.clone()),
        None => (None, Vec::new()),
    };
    pb::Zorgmelding {
        zorgmelding_id: m.zorgmelding_id.to_string(),
        police_oin: m.police_oin.to_string(),
        registration_number: m.registration_number.clone(),
        recipient_oin: m.recipient_oin.to_string(),
        purpose: m.purpose.to_string(),
        fragments: v
            .fragments
            .iter()
            .map(|f| pb::ZorgmeldingFragment {
                fragment_id: f.fragment_id.to_string(),
                sequence: f.sequence,
                kind: kind_to_pb(f.kind) as i32,
                categories: super::basis::names_to_pb(&f.categories),
                author_oin: f.police_oin.to_string(),
                author_professional: f.author_professional.clone(),
                author_role: f.author_role.to_string(),
                received_at: Some(timestamp(f.received_at)),
                envelope: if v.for_recipient {
                    f.envelope.as_deref().and_then(crate::wire::decode_envelope)
                } else {
                    None
                },
                subject_count: f.subjects.len() as u32,
            })
            .collect(),
        complete: m.completed_at.is_some(),
        completed_at: m.completed_at.map(timestamp),
        created_at: Some(timestamp(m.created_at)),
        updated_at: Some(timestamp(m.updated_at)),
        version: m.version,
        subject_count: m.subjects.len() as u32,
        recidive,
        linked_zorgmelding_ids: linked.iter().map(|z| z.to_string()).collect(),
        retain_until: Some(timestamp(m.retain_until)),
    }
}

type MeldingStream = super::stream::ItemStream<pb::StreamZorgmeldingenResponse>;

/// `StreamZorgmeldingen`: Veilig Thuis's meldingen after its cursor; a new version (a late
/// fragment) is logged as delivered before it is sent, and sent again as an update
/// (`flows::zorgmelding::deliver`).
struct Meldingen {
    ctx: Ctx,
    me: crate::ids::Oin,
}

impl super::stream::CursorSource for Meldingen {
    type Row = ZorgmeldingRecord;
    type Item = pb::StreamZorgmeldingenResponse;

    async fn page(&self, after: u64) -> Result<Vec<Self::Row>, Status> {
        Ok(flow::meldingen_page(&self.ctx, &self.me, after).await?)
    }

    async fn deliver(&self, m: Self::Row) -> Result<(u64, Option<Self::Item>), Status> {
        let cursor = m.cursor;
        let update = m.delivered_version > 0 && m.delivered_version < m.version;
        let v = flow::deliver(&self.ctx, m).await?;
        let item = pb::StreamZorgmeldingenResponse {
            cursor,
            zorgmelding: Some(melding_to_pb(&v)),
            update,
        };
        Ok((cursor, Some(item)))
    }
}

#[tonic::async_trait]
impl ZorgmeldingService for ZorgmeldingApi {
    async fn submit_fragment(
        &self,
        request: Request<pb::SubmitFragmentRequest>,
    ) -> Result<Response<pb::SubmitFragmentResponse>, Status> {
        let c = caller(&request)?;
        let cmd = SubmitFragment::try_from(request.into_inner())?;
        let done = flow::submit_fragment(&self.ctx, &c, cmd).await?;
        if !done.duplicate {
            self.inbox.notify_waiters();
        }
        Ok(Response::new(pb::SubmitFragmentResponse {
            zorgmelding_id: done.zorgmelding_id.to_string(),
            sequence: done.sequence,
            duplicate: done.duplicate,
            decisions: done.decisions.iter().map(decision_to_pb).collect(),
            fragment_count: done.fragment_count,
        }))
    }

    async fn complete_zorgmelding(
        &self,
        request: Request<pb::CompleteZorgmeldingRequest>,
    ) -> Result<Response<pb::CompleteZorgmeldingResponse>, Status> {
        let c = caller(&request)?;
        let cmd = CompleteZorgmelding::try_from(request.into_inner())?;
        let v = flow::complete(&self.ctx, &c, cmd).await?;
        self.inbox.notify_waiters();
        Ok(Response::new(pb::CompleteZorgmeldingResponse {
            zorgmelding: Some(melding_to_pb(&v)),
        }))
    }

    type StreamZorgmeldingenStream = MeldingStream;

    async fn stream_zorgmeldingen(
        &self,
        request: Request<pb::StreamZorgmeldingenRequest>,
    ) -> Result<Response<Self::StreamZorgmeldingenStream>, Status> {
        let after = request.get_ref().after_cursor;
        let shape = super::stream::Shape {
            resume: "from your last processed cursor",
            buffer: 8,
        };
        let stream = super::stream::open(
            &self.ctx,
            &request,
            after,
            &self.inbox,
            &self.stop,
            shape,
            |ctx, me| Meldingen { ctx, me },
        )?;
        Ok(Response::new(stream))
    }

    async fn get_zorgmelding(
        &self,
        request: Request<pb::GetZorgmeldingRequest>,
    ) -> Result<Response<pb::GetZorgmeldingResponse>, Status> {
        let c = caller(&request)?;
        let which = MeldingRef::try_from(request.into_inner())?;
        let v = flow::get(&self.ctx, &c, which).await?;
        Ok(Response::new(pb::GetZorgmeldingResponse {
            zorgmelding: Some(melding_to_pb(&v)),
        }))
    }
}
