//! `signaalhub.v1.SignalService`: send sealed signals on a recorded basis, stream the inbox,
//! acknowledge, inspect and recall. The rules live in `flows::signals`; this is the wire.
use super::basis::{
    ask_from_pb, bsns_from_pb, chosen_id, decision_to_pb, required_envelope_from_pb,
};
use super::{caller, timestamp};
use crate::domain::signal::InboxRow;
use crate::domain::signal::{Delivery, DeliveryState, SignalRecord, Urgency};
use crate::flows::signals::{self as flow, MAX_RECIPIENTS, MAX_SUBJECTS, SendSignal};
use crate::flows::{Ctx, FlowError};
use crate::ids::{self, Oin};
use prost::Message;
use signaalhub_proto::pb;
use signaalhub_proto::pb::signal_service_server::SignalService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The SignalService.
#[derive(Debug, Clone)]
pub struct SignalApi {
    ctx: Ctx,
    inbox: Arc<tokio::sync::Notify>,
    stop: tokio::sync::watch::Receiver<bool>,
}

impl SignalApi {
    /// On shared state; `inbox` is notified after every new signal commits; inbox streams end
    /// with `UNAVAILABLE` when `stop` turns true (the hub drains; clients reconnect elsewhere).
    pub fn new(
        ctx: Ctx,
        inbox: Arc<tokio::sync::Notify>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        SignalApi { ctx, inbox, stop }
    }
}

impl TryFrom<pb::SendSignalRequest> for SendSignal {
    type Error = FlowError;
    fn try_from(r: pb::SendSignalRequest) -> Result<Self, FlowError> {
        let mut bad = Vec::new();
        let signal_id = chosen_id::<ids::Signal>(
            "signal_id",
            &r.signal_id,
            "1-64 of A-Za-z0-9._- chosen by the sender, unique per sender",
            &mut bad,
        );
        if r.recipient_oins.is_empty() || r.recipient_oins.len() > MAX_RECIPIENTS {
            bad.push((
                "recipient_oins",
                format!("1 to {MAX_RECIPIENTS} recipients"),
            ));
        }
        let mut recipients: Vec<Oin> = Vec::new();
        for o in &r.recipient_oins {
            match o.parse::<Oin>() {
                Ok(o) if !recipients.contains(&o) => recipients.push(o),
                Ok(_) => bad.push(("recipient_oins", "each recipient once".into())),
                Err(e) => bad.push(("recipient_oins", e.to_string())),
            }
        }
        let subjects = bsns_from_pb(
            "subject_bsns",
            &r.subject_bsns,
            MAX_SUBJECTS,
            "subject",
            &mut bad,
        );
        let urgency = match pb::Urgency::try_from(r.urgency) {
            Ok(pb::Urgency::Unspecified) => Urgency::Unspecified,
            Ok(pb::Urgency::Normal) => Urgency::Normal,
            Ok(pb::Urgency::High) => Urgency::High,
            Ok(pb::Urgency::Acute) => Urgency::Acute,
            Err(_) => {
                bad.push(("urgency", "unknown value".into()));
                Urgency::Unspecified
            }
        };
        let ask = ask_from_pb(
            &r.purpose,
            &r.categories,
            r.subject.as_ref(),
            r.basis.as_ref(),
            &r.acting_role,
            &r.received_for,
            &r.inform_exemption,
            &mut bad,
        );
        let envelope = required_envelope_from_pb("envelope", r.envelope.as_ref(), &mut bad);
        let canonical = pb::SendSignalRequest {
            envelope: None,
            subject_bsns: Vec::new(),
            acting_role: String::new(),
            ..r.clone()
        }
        .encode_to_vec();
        match (envelope, signal_id) {
            (Some(envelope), Some(signal_id)) if bad.is_empty() => Ok(SendSignal {
                signal_id,
                recipients,
                subjects,
                urgency,
                ask,
                envelope,
                canonical,
            }),
            _ => Err(FlowError::Invalid(bad)),
        }
    }
}

fn delivery_to_pb(d: &Delivery) -> pb::Delivery {
    pb::Delivery {
        recipient_oin: d.recipient_oin.to_string(),
        state: match d.state {
            DeliveryState::Pending => pb::DeliveryState::Pending,
            DeliveryState::Delivered => pb::DeliveryState::Delivered,
            DeliveryState::Acknowledged => pb::DeliveryState::Acknowledged,
            DeliveryState::Withheld => pb::DeliveryState::Withheld,
            DeliveryState::Withdrawn => pb::DeliveryState::Withdrawn,
        } as i32,
        reasons: d
            .reasons
            .iter()
            .map(|r| pb::Reason {
                code: r.code.clone(),
                rule: r.rule.clone(),
                text_nl: r.nl.clone(),
                text_en: r.en.clone(),
            })
            .collect(),
        updated_at: Some(timestamp(d.updated_at)),
    }
}

fn urgency_to_pb(u: Urgency) -> pb::Urgency {
    match u {
        Urgency::Unspecified => pb::Urgency::Unspecified,
        Urgency::Normal => pb::Urgency::Normal,
        Urgency::High => pb::Urgency::High,
        Urgency::Acute => pb::Urgency::Acute,
    }
}

fn item(s: &SignalRecord, cursor: u64) -> pb::StreamInboxResponse {
    pb::StreamInboxResponse {
        cursor,
        sender_oin: s.sender_oin.to_string(),
        signal_id: s.signal_id.to_string(),
        purpose: s.purpose.to_string(),
        categories: super::basis::names_to_pb(&s.categories),
        urgency: urgency_to_pb(s.urgency) as i32,
        envelope: s.envelope.as_deref().and_then(crate::wire::decode_envelope),
        sent_at: Some(timestamp(s.created_at)),
        retain_until: Some(timestamp(s.retain_until)),
        basis: s.basis.log_strings(),
    }
}

type InboxStream = super::stream::ItemStream<pb::StreamInboxResponse>;

/// `StreamInbox`: the recipient's pending and delivered signals after its cursor; a pending one
/// is decided again and logged before it is sent, or withheld and skipped (`flows::signals`).
struct Inbox {
    ctx: Ctx,
    me: crate::ids::Oin,
}

impl super::stream::CursorSource for Inbox {
    type Row = InboxRow;
    type Item = pb::StreamInboxResponse;

    async fn page(&self, after: u64) -> Result<Vec<Self::Row>, Status> {
        Ok(flow::inbox_page(&self.ctx, &self.me, after).await?)
    }

    async fn deliver(&self, row: Self::Row) -> Result<(u64, Option<Self::Item>), Status> {
        let send = flow::deliver(&self.ctx, &self.me, &row).await?;
        let cursor = row.delivery.cursor;
        Ok((cursor, send.then(|| item(&row.signal, cursor))))
    }
}

#[tonic::async_trait]
impl SignalService for SignalApi {
    async fn send_signal(
        &self,
        request: Request<pb::SendSignalRequest>,
    ) -> Result<Response<pb::SendSignalResponse>, Status> {
        let c = caller(&request)?;
        let cmd = SendSignal::try_from(request.into_inner())?;
        let sent = flow::send(&self.ctx, &c, cmd).await?;
        if !sent.duplicate {
            self.inbox.notify_waiters();
        }
        Ok(Response::new(pb::SendSignalResponse {
            signal_id: sent.signal_id.into(),
            deliveries: sent.deliveries.iter().map(delivery_to_pb).collect(),
            decisions: sent.decisions.iter().map(decision_to_pb).collect(),
            duplicate: sent.duplicate,
        }))
    }

    type StreamInboxStream = InboxStream;

    async fn stream_inbox(
        &self,
        request: Request<pb::StreamInboxRequest>,
    ) -> Result<Response<Self::StreamInboxStream>, Status> {
        let after = request.get_ref().after_cursor;
        let shape = super::stream::Shape {
            resume: "from your last acknowledged cursor",
            buffer: 16,
        };
        let stream = super::stream::open(
            &self.ctx,
            &request,
            after,
            &self.inbox,
            &self.stop,
            shape,
            |ctx, me| Inbox { ctx, me },
        )?;
        Ok(Response::new(stream))
    }

    async fn ack_signal(
        &self,
        request: Request<pb::AckSignalRequest>,
    ) -> Result<Response<pb::AckSignalResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        flow::acknowledge(&self.ctx, &c, &r.sender_oin, &r.signal_id).await?;
        Ok(Response::new(pb::AckSignalResponse {}))
    }

    async fn get_signal(
        &self,
        request: Request<pb::GetSignalRequest>,
    ) -> Result<Response<pb::GetSignalResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let v = flow::get(&self.ctx, &c, &r.sender_oin, &r.signal_id).await?;
        Ok(Response::new(pb::GetSignalResponse {
            sender_oin: v.signal.sender_oin.to_string(),
            signal_id: v.signal.signal_id.to_string(),
            purpose: v.signal.purpose.to_string(),
            categories: super::basis::names_to_pb(&v.signal.categories),
            deliveries: v.deliveries.iter().map(delivery_to_pb).collect(),
            envelope: v.envelope.as_deref().and_then(crate::wire::decode_envelope),
            sent_at: Some(timestamp(v.signal.created_at)),
        }))
    }

    async fn withdraw_signal(
        &self,
        request: Request<pb::WithdrawSignalRequest>,
    ) -> Result<Response<pb::WithdrawSignalResponse>, Status> {
        let c = caller(&request)?;
        let r = request.into_inner();
        let ds = flow::withdraw(&self.ctx, &c, &r.signal_id).await?;
        Ok(Response::new(pb::WithdrawSignalResponse {
            deliveries: ds.iter().map(delivery_to_pb).collect(),
        }))
    }
}
