//! What every service needs: store, policy, pseudonymizer, directory and clock.
use crate::auth::Caller;
use crate::auth::directory::DirectoryCache;
use crate::ids::{Bsn, Pseudonymizer, SubjectPseudonym};
use crate::ledger::{Checks, EntryOutcome, Event, LogEntry, PendingEntry};
use crate::store::Store;
use crate::store::group::SignalCommitter;
use signaalhub_policy::Policy;
use std::sync::Arc;
use tonic::Status;

/// Shared state of the services.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The store.
    pub store: Store,
    /// Stores signal submissions, with group commit (`[commit]`).
    pub signals: SignalCommitter,
    /// The compiled convenant.
    pub policy: Arc<Policy>,
    /// BSN -> pseudonym.
    pub pseudonymizer: Pseudonymizer,
    /// Directory snapshot.
    pub directory: Arc<DirectoryCache>,
    /// Clock skew allowed on token expiry (`auth.leeway_secs`), for long-lived streams.
    pub token_leeway_secs: i64,
}

/// Now, unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A random id with a prefix, e.g. `c_3f9a…` (128 bits).
pub fn random_id(prefix: &str) -> Result<String, Status> {
    let mut b = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map_err(|_| Status::unavailable("no randomness available"))?;
    Ok(format!("{prefix}{}", hex::encode(b)))
}

impl Ctx {
    /// Validates a BSN and returns its pseudonym; the BSN itself goes no further.
    pub fn subject(
        &self,
        field: &'static str,
        bsn: &str,
        bad: &mut Vec<(&'static str, String)>,
    ) -> Option<SubjectPseudonym> {
        match bsn.parse::<Bsn>() {
            Ok(b) => Some(self.pseudonymizer.pseudonym(&b)),
            Err(e) => {
                bad.push((field, e.to_string()));
                None
            }
        }
    }

    /// The role the caller acts in: `acting_role` if given (it must be one of the token's roles),
    /// else the token's only role.
    pub fn acting_role(&self, caller: &Caller, acting_role: &str) -> Result<String, Status> {
        let roles = &caller.professional.roles;
        if !acting_role.is_empty() {
            if roles.iter().any(|r| r == acting_role) {
                return Ok(acting_role.to_owned());
            }
            return Err(Status::permission_denied(format!(
                "acting_role {:?} is not one of your token's roles ({})",
                super::basis::truncate(acting_role),
                roles.join(", ")
            )));
        }
        match roles.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Status::permission_denied(
                "your token carries no role; the convenant decides by role",
            )),
            many => Err(super::status::invalid(&[(
                "acting_role",
                format!(
                    "your token has several roles ({}); name the one you act in",
                    many.join(", ")
                ),
            )])),
        }
    }

    /// Requires that the caller's sector and role take part in the convenant.
    pub fn require_convenant_role(&self, caller: &Caller, role: &str) -> Result<(), Status> {
        let sector = caller.sector().as_str();
        match self.policy.roles_for_sector(sector) {
            None => Err(Status::permission_denied(format!(
                "sector {sector} does not take part in this region's convenant"
            ))),
            Some(roles) if roles.iter().any(|r| r == role) => Ok(()),
            Some(roles) => Err(Status::permission_denied(format!(
                "role {role:?} is not a role of sector {sector} in the convenant ({})",
                roles.join(", ")
            ))),
        }
    }

    /// The keyed pseudonym of a professional (for log leaves).
    pub fn professional_pseudonym(&self, caller: &Caller) -> String {
        self.pseudonymizer.keyed(
            "signaalhub/professional/v1",
            &[caller.oin().as_str(), &caller.professional.id],
        )
    }

    /// A log entry skeleton for an act by `caller`.
    pub fn entry(
        &self,
        caller: &Caller,
        role: &str,
        event: Event,
        outcome: EntryOutcome,
    ) -> PendingEntry {
        PendingEntry {
            entry: LogEntry {
                v: 1,
                event,
                at: now(),
                actor_oin: caller.oin().to_string(),
                actor_pro: self.professional_pseudonym(caller),
                actor_role: role.to_owned(),
                subjects: Vec::new(),
                recipient_oin: None,
                categories: Vec::new(),
                purpose: None,
                basis: Vec::new(),
                checks: Checks {
                    authorised: true,
                    ..Checks::default()
                },
                outcome,
                reasons: Vec::new(),
                policy_version: Some(self.policy.version().to_owned()),
                reference: None,
            },
            professional: caller.professional.id.clone(),
        }
    }
}
