//! Domain types and rules, free of protobuf: the api layer converts at the edge.
pub mod access;
pub mod access_letter;
pub mod basis;
pub mod consent;
pub mod directory;
pub mod envelope;
pub mod involvement;
pub mod letter;
pub mod maatregel;
pub mod signal;
pub mod token_key;
pub mod zorgmelding;
