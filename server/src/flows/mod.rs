//! The flows layer: one function per use case, between the gRPC edge (`api/`) and the store.
//!
//! A handler reads the caller, turns the request into a typed command (`TryFrom<pb::…>`), calls
//! one flow and turns its outcome into the reply. The flow holds the rules, and each rule exists
//! once, here: the disclosure decision ([`decision`]), the envelope's outside check
//! ([`envelope`]), the idempotency rule ([`idempotency`]) and the error type ([`error`]); the log
//! entry is built by `ledger::PendingEntry::new` through [`Ctx::entry`] / [`Ctx::entry_for`].
//! Flows never name `tonic` or the generated `pb` types.
pub mod consent;
pub mod ctx;
pub mod decision;
pub mod directory;
pub mod envelope;
pub mod error;
pub mod family;
pub mod feedback;
pub mod handover_answer;
pub mod idempotency;
pub mod information;
pub mod involvement;
pub mod log;
pub mod maatregel;
pub mod policy;
pub mod safety_plan;
pub mod signals;
pub mod stage;
pub mod triage;
pub mod zorgmelding;

pub use ctx::{Ctx, new_id, now};
pub use error::{FlowError, FlowResult, Violations, echo, parsed, reject};
