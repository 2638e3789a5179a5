//! `signaalhub.v1.DirectoryService`: who am I, the sociale kaart, published keys.
use super::{caller, timestamp};
use crate::domain::directory::{
    KeyUsage, OrgFilter, OrgKey, OrgStatus, Organization, Sector, normalise_tag,
};
use crate::flows::directory::{self as flow, NewKey, Profile};
use crate::flows::{Ctx, FlowError};
use crate::ids::Oin;
use signaalhub_proto::pb;
use signaalhub_proto::pb::directory_service_server::DirectoryService;
use tonic::{Request, Response, Status};

pub use crate::flows::directory::{KEY_ADMIN_ROLE, PROFILE_ROLES};
/// Most expertise tags an organisation lists.
pub const MAX_EXPERTISE: usize = 32;

/// Default and largest page of `ListOrganizations`.
pub const DEFAULT_PAGE: u32 = 100;
/// Largest page of `ListOrganizations`.
pub const MAX_PAGE: u32 = 500;

/// The directory service.
#[derive(Debug, Clone)]
pub struct DirectoryApi {
    ctx: Ctx,
}

impl DirectoryApi {
    /// A directory service on shared state (its directory snapshot is reloaded at once after
    /// this instance changes an entry).
    pub fn new(ctx: Ctx) -> Self {
        DirectoryApi { ctx }
    }
}

/// The wire enum of a sector.
pub fn sector_to_pb(s: &Sector) -> pb::Sector {
    match s.as_str() {
        "school" => pb::Sector::School,
        "politie" => pb::Sector::Politie,
        "huisarts" => pb::Sector::Huisarts,
        "woningcorporatie" => pb::Sector::Woningcorporatie,
        "wijkteam" => pb::Sector::Wijkteam,
        "veilig_thuis" => pb::Sector::VeiligThuis,
        "jeugdbescherming" => pb::Sector::Jeugdbescherming,
        _ => pb::Sector::Other,
    }
}

/// The wire enum of a sector name, if it is one of the known sectors.
pub fn sector_from_pb_name(name: &str) -> Option<pb::Sector> {
    let s: Sector = name.parse().ok()?;
    s.is_known().then(|| sector_to_pb(&s))
}

/// The sector a wire enum names, if it names one of the known sectors.
pub fn sector_from_pb(s: pb::Sector) -> Option<Sector> {
    let name = match s {
        pb::Sector::School => "school",
        pb::Sector::Politie => "politie",
        pb::Sector::Huisarts => "huisarts",
        pb::Sector::Woningcorporatie => "woningcorporatie",
        pb::Sector::Wijkteam => "wijkteam",
        pb::Sector::VeiligThuis => "veilig_thuis",
        pb::Sector::Jeugdbescherming => "jeugdbescherming",
        pb::Sector::Unspecified | pb::Sector::Other => return None,
    };
    name.parse().ok()
}

impl From<&Organization> for pb::Organization {
    fn from(o: &Organization) -> Self {
        pb::Organization {
            oin: o.oin.to_string(),
            name: o.name.clone(),
            sector: sector_to_pb(&o.sector) as i32,
            sector_name: o.sector.to_string(),
            region: o.region.clone(),
            expertise: o.expertise.clone(),
            contact_point: o.contact_point.clone(),
            status: match o.status {
                OrgStatus::Active => pb::OrganizationStatus::Active,
                OrgStatus::Suspended => pb::OrganizationStatus::Suspended,
            } as i32,
        }
    }
}

impl From<&OrgKey> for pb::PublicKey {
    fn from(k: &OrgKey) -> Self {
        pb::PublicKey {
            key_id: k.key_id.clone(),
            algorithm: k.usage.algorithm().into(),
            public_key: k.public_key.clone(),
            created_at: Some(timestamp(k.created_at)),
            retired_at: k.retired_at.map(timestamp),
        }
    }
}

impl TryFrom<pb::ListOrganizationsRequest> for OrgFilter {
    type Error = FlowError;
    fn try_from(r: pb::ListOrganizationsRequest) -> Result<Self, FlowError> {
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        let sector = match pb::Sector::try_from(r.sector) {
            Ok(pb::Sector::Unspecified) => None,
            Ok(pb::Sector::Other) => {
                bad.push((
                    "sector",
                    "SECTOR_OTHER cannot be filtered on; use query".into(),
                ));
                None
            }
            Ok(s) => sector_from_pb(s),
            Err(_) => {
                bad.push(("sector", format!("unknown sector value {}", r.sector)));
                None
            }
        };
        let tag = |field: &'static str, v: &str, bad: &mut Vec<(&'static str, String)>| {
            if v.is_empty() {
                return None;
            }
            let t = normalise_tag(v);
            if t.is_none() {
                bad.push((field, "at most 64 printable characters".into()));
            }
            t
        };
        let region = tag("region", &r.region, &mut bad);
        let expertise = tag("expertise", &r.expertise, &mut bad);
        let query = tag("query", &r.query, &mut bad);
        if r.page_size > MAX_PAGE {
            bad.push(("page_size", format!("at most {MAX_PAGE}")));
        }
        let after = if r.page_token.is_empty() {
            None
        } else {
            match r.page_token.parse::<Oin>() {
                Ok(o) => Some(o),
                Err(_) => {
                    bad.push(("page_token", "not a page token this hub gave out".into()));
                    None
                }
            }
        };
        if !bad.is_empty() {
            return Err(FlowError::Invalid(bad));
        }
        Ok(OrgFilter {
            sector,
            region,
            expertise,
            query,
            include_suspended: false,
            after,
            limit: if r.page_size == 0 {
                DEFAULT_PAGE
            } else {
                r.page_size
            },
        })
    }
}

impl TryFrom<pb::UpdateOwnProfileRequest> for Profile {
    type Error = FlowError;
    fn try_from(r: pb::UpdateOwnProfileRequest) -> Result<Self, FlowError> {
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        let region = normalise_tag(&r.region);
        if region.is_none() {
            bad.push(("region", "1-64 printable characters".into()));
        }
        if r.expertise.len() > MAX_EXPERTISE {
            bad.push(("expertise", format!("at most {MAX_EXPERTISE} tags")));
        }
        let mut expertise: Vec<String> = Vec::new();
        for t in r.expertise.iter().take(MAX_EXPERTISE) {
            match normalise_tag(t) {
                Some(t) if !expertise.contains(&t) => expertise.push(t),
                Some(_) => {}
                None => bad.push(("expertise", "each tag 1-64 printable characters".into())),
            }
        }
        let contact = r.contact_point.trim();
        if contact.is_empty()
            || contact.chars().count() > 200
            || contact.chars().any(char::is_control)
        {
            bad.push(("contact_point", "1-200 characters, one line".into()));
        }
        let Some(region) = region.filter(|_| bad.is_empty()) else {
            return Err(FlowError::Invalid(bad));
        };
        expertise.sort();
        Ok(Profile {
            region,
            expertise,
            contact_point: contact.to_owned(),
        })
    }
}

impl TryFrom<pb::PublishKeyRequest> for NewKey {
    type Error = FlowError;
    fn try_from(r: pb::PublishKeyRequest) -> Result<Self, FlowError> {
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        let usage = match pb::KeyUsage::try_from(r.usage) {
            Ok(pb::KeyUsage::Encryption) => Some(KeyUsage::Encryption),
            Ok(pb::KeyUsage::Signing) => Some(KeyUsage::Signing),
            _ => {
                bad.push(("usage", "KEY_USAGE_ENCRYPTION or KEY_USAGE_SIGNING".into()));
                None
            }
        };
        if !crate::domain::directory::valid_key_id(&r.key_id) {
            bad.push(("key_id", "1-64 of A-Za-z0-9._-".into()));
        }
        if r.public_key.len() != 32 || r.public_key.iter().all(|b| *b == 0) {
            bad.push(("public_key", "a raw 32-byte public key".into()));
        }
        match usage.filter(|_| bad.is_empty()) {
            Some(usage) => Ok(NewKey {
                usage,
                key_id: r.key_id,
                public_key: r.public_key,
            }),
            None => Err(FlowError::Invalid(bad)),
        }
    }
}

#[tonic::async_trait]
impl DirectoryService for DirectoryApi {
    async fn who_am_i(
        &self,
        request: Request<pb::WhoAmIRequest>,
    ) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let c = caller(&request)?;
        Ok(Response::new(pb::WhoAmIResponse {
            organization: Some(pb::Organization::from(c.org.as_ref())),
            professional: c.professional.id.clone(),
            roles: super::basis::names_to_pb(&c.professional.roles),
            token_expires_at: Some(timestamp(c.professional.expires_at)),
        }))
    }

    async fn list_organizations(
        &self,
        request: Request<pb::ListOrganizationsRequest>,
    ) -> Result<Response<pb::ListOrganizationsResponse>, Status> {
        caller(&request)?;
        let filter = OrgFilter::try_from(request.into_inner())?;
        let (orgs, next_page_token) = flow::list(&self.ctx, filter).await?;
        Ok(Response::new(pb::ListOrganizationsResponse {
            organizations: orgs.iter().map(pb::Organization::from).collect(),
            next_page_token,
        }))
    }

    async fn get_organization(
        &self,
        request: Request<pb::GetOrganizationRequest>,
    ) -> Result<Response<pb::GetOrganizationResponse>, Status> {
        caller(&request)?;
        let oin = request
            .get_ref()
            .oin
            .parse::<Oin>()
            .map_err(|e| FlowError::invalid("oin", e.to_string()))?;
        let (org, keys) = flow::get(&self.ctx, &oin).await?;
        let pick = |u: KeyUsage| {
            keys.iter()
                .filter(|k| k.usage == u)
                .map(pb::PublicKey::from)
                .collect::<Vec<_>>()
        };
        Ok(Response::new(pb::GetOrganizationResponse {
            organization: Some(pb::Organization::from(&org)),
            encryption_keys: pick(KeyUsage::Encryption),
            signing_keys: pick(KeyUsage::Signing),
        }))
    }

    async fn update_own_profile(
        &self,
        request: Request<pb::UpdateOwnProfileRequest>,
    ) -> Result<Response<pb::UpdateOwnProfileResponse>, Status> {
        let c = caller(&request)?;
        // A caller without the role learns that first, whatever else the request says.
        flow::may_update_profile(&c)?;
        let profile = Profile::try_from(request.into_inner())?;
        let org = flow::update_profile(&self.ctx, &c, profile).await?;
        Ok(Response::new(pb::UpdateOwnProfileResponse {
            organization: Some(pb::Organization::from(&org)),
        }))
    }

    async fn publish_key(
        &self,
        request: Request<pb::PublishKeyRequest>,
    ) -> Result<Response<pb::PublishKeyResponse>, Status> {
        let c = caller(&request)?;
        flow::may_publish_keys(&c)?;
        let key = NewKey::try_from(request.into_inner())?;
        let keys = flow::publish_key(&self.ctx, &c, key).await?;
        Ok(Response::new(pb::PublishKeyResponse {
            keys: keys.iter().map(pb::PublicKey::from).collect(),
        }))
    }
}
