//! The baseline: a bare tonic `SignalService` over the hub's own mutual TLS that answers every
//! `SendSignal` at once with a small reply — no token, policy, store or log. The hub's throughput
//! is reported as a ratio to this sink's.
use signaalhub_proto::pb;
use signaalhub_proto::pb::signal_service_server::{SignalService, SignalServiceServer};
use signaalhub_server::auth::tls::{HubConn, parse_certs, parse_key, server_config};
use std::path::Path;
use tonic::{Request, Response, Status};

/// The sink service.
#[derive(Debug, Default)]
pub struct Sink;

type Empty = std::pin::Pin<
    Box<dyn futures::Stream<Item = Result<pb::StreamInboxResponse, Status>> + Send + 'static>,
>;

#[tonic::async_trait]
impl SignalService for Sink {
    async fn send_signal(
        &self,
        request: Request<pb::SendSignalRequest>,
    ) -> Result<Response<pb::SendSignalResponse>, Status> {
        let r = request.into_inner();
        Ok(Response::new(pb::SendSignalResponse {
            signal_id: r.signal_id,
            ..Default::default()
        }))
    }

    type StreamInboxStream = Empty;

    async fn stream_inbox(
        &self,
        _: Request<pb::StreamInboxRequest>,
    ) -> Result<Response<Empty>, Status> {
        Err(Status::unimplemented("the sink only answers SendSignal"))
    }

    async fn ack_signal(
        &self,
        _: Request<pb::AckSignalRequest>,
    ) -> Result<Response<pb::AckSignalResponse>, Status> {
        Err(Status::unimplemented("the sink only answers SendSignal"))
    }

    async fn get_signal(
        &self,
        _: Request<pb::GetSignalRequest>,
    ) -> Result<Response<pb::GetSignalResponse>, Status> {
        Err(Status::unimplemented("the sink only answers SendSignal"))
    }

    async fn withdraw_signal(
        &self,
        _: Request<pb::WithdrawSignalRequest>,
    ) -> Result<Response<pb::WithdrawSignalResponse>, Status> {
        Err(Status::unimplemented("the sink only answers SendSignal"))
    }
}

/// Serves the sink on `listen` with the dev kit's hub certificate and client CA (the same TLS
/// configuration the hub builds).
pub async fn serve(kit: &Path, listen: &str) -> anyhow::Result<()> {
    let certs = parse_certs(&std::fs::read(kit.join("hub/cert.pem"))?, "hub cert")?;
    let key = parse_key(&std::fs::read(kit.join("hub/key.pem"))?, "hub key")?;
    let cas = parse_certs(&std::fs::read(kit.join("ca.pem"))?, "ca")?;
    let tls = server_config(certs, key, &cas)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<HubConn, std::io::Error>>(64);
    tokio::spawn(async move {
        while let Ok((tcp, remote)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                if let Ok(stream) = acceptor.accept(tcp).await {
                    let _ = tx.send(Ok(HubConn::new(stream, Some(remote), None))).await;
                }
            });
        }
    });
    tonic::transport::Server::builder()
        .add_service(SignalServiceServer::new(Sink).max_decoding_message_size(4 * 1024 * 1024))
        .serve_with_incoming(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await?;
    Ok(())
}
