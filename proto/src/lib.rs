//! The signaalhub wire contract, package `signaalhub.v1`, compiled without a system `protoc`.
//!
//! Generated types live in [`pb`]; both the server and client-lib convert them to their own
//! domain types at their edges.
#![forbid(unsafe_code)]

/// Generated protobuf and gRPC types for `signaalhub.v1`.
#[allow(
    missing_docs,
    missing_debug_implementations,
    clippy::all,
    clippy::pedantic
)]
pub mod pb {
    tonic::include_proto!("signaalhub.v1");
}

pub mod checkpoint;
pub mod envelope;
pub mod keyfile;
pub mod merkle;

/// The encoded `FileDescriptorSet` of the whole contract, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/signaalhub_descriptor.bin"));

/// Longest accepted OIN: exactly 20 ASCII digits.
pub const OIN_LEN: usize = 20;

/// The canonical basis reference an envelope's AAD binds (`EnvelopeBinding.basis_reference`):
/// `legal:<basis>` and/or `consent:<id>,<id>…` (joined by `;`, consents in the order given). The
/// hub refuses a signal whose envelope binds another basis than the request presents.
pub fn basis_reference(basis: &pb::Basis) -> String {
    let mut parts = Vec::new();
    if let Some(l) = &basis.legal {
        parts.push(format!("legal:{}", l.basis));
    }
    if !basis.consent_ids.is_empty() {
        parts.push(format!("consent:{}", basis.consent_ids.join(",")));
    }
    parts.join(";")
}
