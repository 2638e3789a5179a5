//! signaalhub: the hub that lets schools, police, GPs, housing corporations, wijkteams, Veilig
//! Thuis and youth protection share signals about unsafe homes only on a recorded basis, with
//! payloads it cannot read and a log that proves what was shared.
//!
//! The library runs the hub ([`Hub::build`] then [`Hub::serve`], or [`run`]); the `signaalhub`
//! binary only parses flags and wires. Tests start the same hub on `127.0.0.1:0`.
#![forbid(unsafe_code)]

pub mod admin;
pub mod api;
pub mod auth;
pub mod config;
#[cfg(feature = "devkit")]
pub mod devkit;
pub mod domain;
pub mod flows;
pub mod hub;
pub mod ids;
pub mod jobs;
pub mod ledger;
pub mod limits;
pub mod metrics;
pub mod rekey;
pub mod reminders;
pub mod retention;
pub mod store;
pub mod wire;

pub use hub::{
    DEV_MARKER, Hub, StartError, check_pseudonym_ring, load_ledger, load_policy,
    load_pseudonym_ring, run,
};
pub use jobs::spawn_periodic;
