//! The directory: who am I, the sociale kaart (organisations by sector, region and expertise),
//! published keys, and an organisation's own profile and keys.
use super::Ctx;
use super::error::{FlowError, FlowResult};
use crate::auth::Caller;
use crate::domain::directory::{KeyUsage, OrgFilter, OrgKey, OrgStatus, Organization};
use crate::ids::Oin;

/// The role that may publish an organisation's envelope keys.
pub const KEY_ADMIN_ROLE: &str = "key_admin";
/// Roles that may keep their organisation's own entry on the sociale kaart current.
pub const PROFILE_ROLES: [&str; 2] = ["profile_admin", KEY_ADMIN_ROLE];

/// `ListOrganizations`: a page of active organisations matching `filter` (its `limit` is the
/// page size), and the token of the next page (empty at the end).
pub async fn list(ctx: &Ctx, filter: OrgFilter) -> FlowResult<(Vec<Organization>, String)> {
    let limit = filter.limit as usize;
    let mut orgs = ctx
        .store
        .list_organizations(&OrgFilter {
            include_suspended: false,
            limit: filter.limit + 1,
            ..filter
        })
        .await?;
    let next = if orgs.len() > limit {
        orgs.truncate(limit);
        orgs.last().map(|o| o.oin.to_string()).unwrap_or_default()
    } else {
        String::new()
    };
    Ok((orgs, next))
}

/// `GetOrganization`: an active organisation and its published keys.
pub async fn get(ctx: &Ctx, oin: &Oin) -> FlowResult<(Organization, Vec<OrgKey>)> {
    let org = ctx
        .store
        .get_organization(oin)
        .await?
        .filter(|o| o.status == OrgStatus::Active)
        .ok_or_else(|| {
            FlowError::NotFound(format!("no active organisation {oin} in the directory"))
        })?;
    let keys = ctx.store.list_keys(Some(oin)).await?;
    Ok((org, keys))
}

/// Whether the caller may keep its organisation's sociale-kaart entry current.
pub fn may_update_profile(c: &Caller) -> FlowResult<()> {
    if PROFILE_ROLES.iter().any(|r| c.has_role(r)) {
        Ok(())
    } else {
        Err(FlowError::Forbidden(format!(
            "updating your organisation's entry on the sociale kaart needs the role {:?} or {:?}",
            PROFILE_ROLES[0], PROFILE_ROLES[1]
        )))
    }
}

/// An organisation's own entry on the sociale kaart.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Region (normalised tag).
    pub region: String,
    /// Expertise tags (normalised, sorted, each once).
    pub expertise: Vec<String>,
    /// How professionals reach the organisation.
    pub contact_point: String,
}

/// `UpdateOwnProfile`.
pub async fn update_profile(ctx: &Ctx, c: &Caller, p: Profile) -> FlowResult<Organization> {
    may_update_profile(c)?;
    ctx.store
        .update_profile(c.oin(), &p.region, &p.expertise, &p.contact_point)
        .await?;
    tracing::info!(oin = %c.oin(), "sociale kaart profile updated");
    // Other instances see it within directory.refresh_ms; this one at once.
    ctx.directory.reload().await?;
    ctx.store
        .get_organization(c.oin())
        .await?
        .ok_or_else(|| FlowError::NotFound(format!("organisation {} not found", c.oin())))
}

/// Whether the caller may publish its organisation's keys.
pub fn may_publish_keys(c: &Caller) -> FlowResult<()> {
    if c.has_role(KEY_ADMIN_ROLE) {
        Ok(())
    } else {
        Err(FlowError::Forbidden(format!(
            "publishing keys needs the role {KEY_ADMIN_ROLE:?}: a new key decides who can open what is sent to your organisation"
        )))
    }
}

/// A key to publish.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Encryption or signing.
    pub usage: KeyUsage,
    /// Its id.
    pub key_id: String,
    /// The raw 32-byte public key.
    pub public_key: Vec<u8>,
}

/// `PublishKey`: adds the key; returns the organisation's keys of that usage.
pub async fn publish_key(ctx: &Ctx, c: &Caller, k: NewKey) -> FlowResult<Vec<OrgKey>> {
    may_publish_keys(c)?;
    ctx.store
        .add_key(&OrgKey {
            oin: c.oin().clone(),
            usage: k.usage,
            key_id: k.key_id.clone(),
            public_key: k.public_key,
            created_at: 0,
            retired_at: None,
        })
        .await?;
    tracing::info!(oin = %c.oin(), usage = k.usage.as_str(), key_id = %k.key_id, "key published");
    // Other instances see it within directory.refresh_ms; this one at once.
    ctx.directory.reload().await?;
    Ok(ctx
        .store
        .list_keys(Some(c.oin()))
        .await?
        .into_iter()
        .filter(|key| key.usage == k.usage)
        .collect())
}
