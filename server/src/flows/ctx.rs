//! What every service needs: store, policy, pseudonymizer, directory and clock.
use super::error::{FlowError, FlowResult};
use crate::auth::Caller;
use crate::auth::directory::DirectoryCache;
use crate::domain::access::HubWideReaders;
use crate::ids::{Bsn, Pseudonymizer, Role, SubjectKey, SubjectPseudonym, stored_version};
use crate::ledger::{EntryActor, EntryOutcome, Event, PendingEntry};
use crate::store::Store;
use crate::store::group::SignalCommitter;
use signaalhub_policy::Policy;
use std::sync::Arc;

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
    /// Who may ask for hub-wide reports (`[access] hub_wide_readers`).
    pub hub_wide_readers: Arc<HubWideReaders>,
    /// "No" answers of `HasMaatregel` per organisation per day before its questions are refused
    /// (`[access] maatregel_no_answers_per_day`; 0: no limit).
    pub maatregel_no_answers_per_day: u32,
}

/// Now, unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A new id of kind `K` with its prefix, e.g. `c_fbq…`: 128 bits written in letters, so it holds
/// no digits (`ids::Id::generate`).
pub fn new_id<K: crate::ids::IdKind>() -> FlowResult<crate::ids::Id<K>> {
    crate::ids::Id::generate()
        .ok_or_else(|| FlowError::Unavailable("no randomness available".into()))
}

impl Ctx {
    /// Stored pseudonyms (any key versions) as every stored form the same persons can have that
    /// can be computed: each under its own and every later version. Older forms cannot be
    /// computed from a newer one; see [`Ctx::older_forms_needed`].
    pub fn lifted(&self, stored: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in stored {
            for p in self.pseudonymizer.lift(s).unwrap_or_default() {
                if !out.iter().any(|o| o == p.as_str()) {
                    out.push(p.as_str().to_owned());
                }
            }
        }
        out
    }

    /// The newest key version among `stored` when the store may still hold older versions (a
    /// re-key has not finished): a lookup by these stored pseudonyms must then also compare
    /// the older stored values it can reach, moved forward.
    pub fn older_forms_needed(&self, stored: &[String]) -> Option<u32> {
        let newest = stored.iter().filter_map(|s| stored_version(s)).max()?;
        (newest > 1 && self.pseudonymizer.older_may_remain(newest)).then_some(newest)
    }

    /// The `candidates` older than `version` that name one of the persons in `stored`.
    pub fn same_persons(
        &self,
        stored: &[String],
        candidates: Vec<String>,
        version: u32,
    ) -> Vec<String> {
        candidates
            .into_iter()
            .filter(|c| stored_version(c).is_some_and(|v| v < version))
            .filter(|c| stored.iter().any(|s| self.pseudonymizer.same_person(c, s)))
            .collect()
    }

    /// Whether `org` is involved at `now` with the person of a stored pseudonym (any version),
    /// also while a re-key runs and the involvement is still stored under an older version.
    pub async fn is_involved_stored(
        &self,
        org: &str,
        stored: &str,
        now: i64,
    ) -> Result<bool, crate::store::StoreError> {
        let Some(lifted) = self.pseudonymizer.lift(stored) else {
            return Ok(false);
        };
        if self.store.is_involved(org, &lifted, now).await? {
            return Ok(true);
        }
        // While a re-key runs, the involvement may still be stored under an older version, which
        // cannot be computed from this one: the older forms recorded when this record was
        // written (`remember_older_forms`) are found by index.
        let one = [stored.to_owned()];
        if let Some(v) = self.older_forms_needed(&one) {
            let older: Vec<SubjectPseudonym> = self
                .store
                .older_forms(stored)
                .await?
                .iter()
                .filter_map(|o| SubjectPseudonym::from_stored(o))
                .filter(|o| o.version() < v)
                .collect();
            return self.store.is_involved(org, &older, now).await;
        }
        Ok(false)
    }

    /// Records, while older key versions may remain in the store (a re-key runs), the older
    /// stored forms of `subjects` about to be written under the current version, so that
    /// [`Ctx::is_involved_stored`] finds an involvement not yet re-keyed by index.
    pub async fn remember_older_forms(
        &self,
        subjects: &[SubjectKey],
    ) -> Result<(), crate::store::StoreError> {
        let current = self.pseudonymizer.version();
        if current <= 1 || !self.pseudonymizer.older_may_remain(current) {
            return Ok(());
        }
        let pairs: Vec<(String, String, u32)> = subjects
            .iter()
            .flat_map(|k| {
                let older = k.all().split_last().map_or(&[][..], |(_, rest)| rest);
                older
                    .iter()
                    .map(move |o| (k.as_str().to_owned(), o.as_str().to_owned(), o.version()))
            })
            .collect();
        self.store.remember_older_forms(&pairs).await
    }

    /// The pseudonyms of validated BSNs (every key version each), in order.
    pub fn subject_keys(&self, bsns: &[Bsn]) -> Vec<SubjectKey> {
        bsns.iter().map(|b| self.pseudonymizer.subject(b)).collect()
    }

    /// Refuses a subject reference that was merged with the person's BSN (docs/FAMILY.md,
    /// "Subjects without a BSN"): what were recorded under it afterwards would not be found by
    /// the BSN. Every act that records something about a person asks here with its subjects
    /// (`keys` = [`Ctx::subject_keys`] of `bsns`); reading by the reference (the access report,
    /// lookups) stays possible. One index lookup per reference, nothing for a BSN.
    pub async fn refuse_merged_references(
        &self,
        bsns: &[Bsn],
        keys: &[SubjectKey],
    ) -> FlowResult<()> {
        for (b, k) in bsns.iter().zip(keys) {
            if !b.is_reference() {
                continue;
            }
            let forms: Vec<String> = k.all().iter().map(|p| p.as_str().to_owned()).collect();
            if let Some(r) = self.store.subject_reference(&forms).await?
                && r.merged_at.is_some()
            {
                return Err(FlowError::Precondition(
                    "subject: this reference was merged with the person's BSN; use the BSN".into(),
                ));
            }
        }
        Ok(())
    }

    /// A log entry for the caller reading personal data it received before (in its token's
    /// first role: a read names none).
    pub fn read_entry(&self, caller: &Caller, event: Event) -> PendingEntry {
        let role = caller.professional.roles.first().map(Role::as_str);
        self.entry(
            caller,
            role.unwrap_or_default(),
            event,
            EntryOutcome::Recorded,
        )
    }

    /// The role the caller acts in: `acting_role` if given (it must be one of the token's roles),
    /// else the token's only role.
    pub fn acting_role(&self, caller: &Caller, acting_role: Option<&Role>) -> FlowResult<Role> {
        let roles = &caller.professional.roles;
        if let Some(acting_role) = acting_role {
            if roles.contains(acting_role) {
                return Ok(acting_role.clone());
            }
            return Err(FlowError::Forbidden(format!(
                "acting_role {acting_role:?} is not one of your token's roles ({})",
                roles.join(", ")
            )));
        }
        match roles.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(FlowError::Forbidden(
                "your token carries no role; the convenant decides by role".into(),
            )),
            many => Err(FlowError::invalid(
                "acting_role",
                format!(
                    "your token has several roles ({}); name the one you act in",
                    many.join(", ")
                ),
            )),
        }
    }

    /// Requires that the caller's sector and role take part in the convenant.
    pub fn require_convenant_role(&self, caller: &Caller, role: &str) -> FlowResult<()> {
        let sector = caller.sector().as_str();
        match self.policy.roles_for_sector(sector) {
            None => Err(FlowError::Forbidden(format!(
                "sector {sector} does not take part in this region's convenant"
            ))),
            Some(roles) if roles.iter().any(|r| r == role) => Ok(()),
            Some(roles) => Err(FlowError::Forbidden(format!(
                "role {role:?} is not a role of sector {sector} in the convenant ({})",
                roles.join(", ")
            ))),
        }
    }

    /// The keyed pseudonym of a professional of `org` (for log leaves).
    pub fn professional_pseudonym(&self, org: &str, professional: &str) -> String {
        self.pseudonymizer
            .keyed("signaalhub/professional/v1", &[org, professional])
    }

    /// A log entry for an act by `caller` acting in `role`, now.
    pub fn entry(
        &self,
        caller: &Caller,
        role: &str,
        event: Event,
        outcome: EntryOutcome,
    ) -> PendingEntry {
        self.entry_for(
            caller.oin().as_str(),
            &caller.professional.id,
            role,
            event,
            outcome,
        )
    }

    /// A log entry for an act of the organisation `org` by its `professional` (e.g. the sender
    /// of a signal being delivered now), under the convenant in force now.
    pub fn entry_for(
        &self,
        org: &str,
        professional: &str,
        role: &str,
        event: Event,
        outcome: EntryOutcome,
    ) -> PendingEntry {
        let pseudonym = self.professional_pseudonym(org, professional);
        PendingEntry::new(
            EntryActor {
                oin: org,
                pseudonym: &pseudonym,
                professional,
                role,
            },
            event,
            outcome,
            now(),
            self.policy.version(),
        )
    }
}
