//! The regional convenant as code. Pure: no IO, no async, no database, no protobuf types.
//!
//! A region's privacy convenant says which parties may share what with whom, for which purpose and
//! on which legal basis. This crate turns that document (TOML, schema in `docs/CONVENANT.md`) into
//! fast, explained decisions, on top of a **statutory floor** ([`floor`]) that no convenant can lower.
//!
//! ```
//! use signaalhub_policy::{parse, SAMPLE_CONVENANT};
//! let convenant = parse("sample.toml", SAMPLE_CONVENANT).expect("the sample is valid");
//! let policy = convenant.compile();
//! assert!(policy.is_known_purpose("vroegtijdige_ondersteuning"));
//! ```
//!
//! The server's calls:
//! * [`parse`]`(file_name, text) -> Result<Convenant, Diagnostics>` — the caller reads the file;
//!   each [`Diagnostic`] prints as `file:line:col: key.path: message; help [CODE]`;
//! * [`Convenant::compile`] `-> Policy`, then [`Policy::decide`]`(&DecisionRequest) -> Decision`
//!   (allow/deny, deciding rule ids, obligations, reasons with stable codes in Dutch and English);
//! * lookups to validate input: [`Policy::is_known_sector`], [`Policy::is_known_purpose`],
//!   [`Policy::is_known_category`], [`Policy::roles_for_sector`], [`Policy::retention_for`],
//!   [`Policy::recidive_window_secs`], [`Policy::version`];
//! * [`explain::markdown`], [`explain::html`], [`explain::question`] for the FG and professionals;
//! * [`register::markdown`], [`register::html`]: the FG's register of processing activities
//!   (art. 30 AVG) and DPIA fact sheet (art. 35 AVG), in Dutch.
//! * [`triage::advise`]: Veilig Thuis's answers to the six Arnhem criteria -> the joint-visit
//!   advice (samen optrekken) with the criteria that led to it.
//!
//! Deny by default: a decision is `Allow` only when a flow matches and one of its bases holds with
//! its evidence and every floor rule passes. Time is passed in (`now`, unix seconds): the crate has
//! no clock, which keeps decisions reproducible for audits and tests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod diag;
pub mod explain;
pub mod floor;
mod model;
mod names;
mod parse;
mod policy;
pub mod reasons;
pub mod register;
mod request;
pub mod triage;

pub use diag::{Diagnostic, Diagnostics};
pub use floor::{BasisKind, EvidenceItem};
pub use model::{
    Basis, Category, Convenant, Flow, ObligationSpec, Party, Purpose, Sector, fnv1a64,
};
pub use parse::{
    DEFAULT_HANDOVER_ANSWER_WITHIN, DEFAULT_RECIDIVE_WINDOW, MAX_CATEGORIES, MAX_SOURCE_BYTES,
    parse, parse_period,
};
pub use policy::Policy;
pub use request::{
    Actor, Afwegingskader, Age, AgeBand, ClientInformed, ConsentGiver, ConsentRecipient,
    ConsentRecord, ConsentSet, ConsentSetIter, Decision, DecisionRequest, Evidence, GiverCapacity,
    LegalBasisRecord, Obligation, Outcome, PresentedBasis, Reason, ReasonCode, Recipient,
    SubjectFacts,
};

/// The sample convenant shipped with the product (not legal advice; the region's FG checks it).
pub const SAMPLE_CONVENANT: &str = include_str!("../convenants/sample.toml");
