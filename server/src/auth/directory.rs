//! An in-memory snapshot of the directory, so that authenticating a request needs no database
//! round trip. Every directory write bumps a generation counter in the store; each instance polls
//! that one row and reloads when it changed, and the instance that made a change reloads at once.
use crate::domain::directory::{KeyUsage, OrgFilter, Organization};
use crate::domain::token_key::{TokenAlgorithm, token_key_material};
use crate::ids::Oin;
use crate::store::{Store, StoreResult};
use arc_swap::ArcSwap;
use jsonwebtoken::DecodingKey;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A token verification key ready for use, with the one algorithm it is pinned to.
#[derive(Clone)]
pub struct TokenKey {
    /// The only algorithm this key verifies; a token whose header names another is refused.
    pub algorithm: TokenAlgorithm,
    /// The key.
    pub key: DecodingKey,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// One organisation with its token verification keys ready for use.
#[derive(Clone)]
pub struct OrgEntry {
    /// The organisation.
    pub org: Arc<Organization>,
    /// Current (not retired) token keys by key id.
    pub token_keys: HashMap<String, TokenKey>,
    /// Current (not retired) envelope keys by (usage, key id): raw 32-byte public keys. Lets the
    /// signal path check envelopes without a database round trip.
    pub envelope_keys: HashMap<(KeyUsage, String), Vec<u8>>,
}

impl fmt::Debug for OrgEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrgEntry")
            .field("org", &self.org.oin)
            .field("token_key_ids", &self.token_keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The whole directory at one generation.
#[derive(Debug, Default)]
pub struct DirectorySnapshot {
    /// The store's directory generation this snapshot reflects.
    pub generation: i64,
    /// Every organisation, suspended ones included.
    pub orgs: HashMap<Oin, OrgEntry>,
}

/// The shared, atomically replaced snapshot plus the store it comes from.
#[derive(Debug)]
pub struct DirectoryCache {
    store: Store,
    current: ArcSwap<DirectorySnapshot>,
}

impl DirectoryCache {
    /// Loads the directory from the store.
    pub async fn load(store: Store) -> StoreResult<Arc<DirectoryCache>> {
        let snap = Self::read(&store).await?;
        Ok(Arc::new(DirectoryCache {
            store,
            current: ArcSwap::from_pointee(snap),
        }))
    }

    async fn read(store: &Store) -> StoreResult<DirectorySnapshot> {
        let generation = store.directory_generation().await?;
        let mut orgs = HashMap::new();
        let mut after = None;
        loop {
            let page = store
                .list_organizations(&OrgFilter {
                    include_suspended: true,
                    after: after.clone(),
                    limit: 1000,
                    ..OrgFilter::default()
                })
                .await?;
            let done = page.len() < 1000;
            after = page.last().map(|o| o.oin.clone());
            for org in page {
                orgs.insert(
                    org.oin.clone(),
                    OrgEntry {
                        org: Arc::new(org),
                        token_keys: HashMap::new(),
                        envelope_keys: HashMap::new(),
                    },
                );
            }
            if done {
                break;
            }
        }
        for key in store.list_keys(None).await? {
            if key.retired_at.is_some() {
                continue;
            }
            if key.usage != KeyUsage::Token {
                if let Some(entry) = orgs.get_mut(&key.oin) {
                    entry
                        .envelope_keys
                        .insert((key.usage, key.key_id.clone()), key.public_key.clone());
                }
                continue;
            }
            // Keys are checked on registration; check the stored form again and skip a row that
            // fails, so a corrupted row can never reach the verifier. The algorithm comes from
            // the key bytes (domain::token_key), never from a token.
            let material = match token_key_material(&key.public_key) {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(oin = %key.oin, key_id = %key.key_id, error = %e, "stored token key skipped");
                    continue;
                }
            };
            let decoding = match material.algorithm {
                TokenAlgorithm::EdDSA => DecodingKey::from_ed_der(&material.key),
                TokenAlgorithm::RS256 => DecodingKey::from_rsa_der(&material.key),
                TokenAlgorithm::ES256 => DecodingKey::from_ec_der(&material.key),
            };
            if let Some(entry) = orgs.get_mut(&key.oin) {
                entry.token_keys.insert(
                    key.key_id.clone(),
                    TokenKey {
                        algorithm: material.algorithm,
                        key: decoding,
                    },
                );
            }
        }
        Ok(DirectorySnapshot { generation, orgs })
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<DirectorySnapshot> {
        self.current.load_full()
    }

    /// Reloads now (after a change this instance made).
    pub async fn reload(&self) -> StoreResult<()> {
        let snap = Self::read(&self.store).await?;
        self.current.store(Arc::new(snap));
        Ok(())
    }

    /// Reloads if the store's generation moved on.
    pub async fn refresh_if_changed(&self) -> StoreResult<bool> {
        let g = self.store.directory_generation().await?;
        if g != self.current.load().generation {
            self.reload().await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Polls the store every `every` until `shutdown` fires.
    pub fn spawn_poller(
        self: &Arc<Self>,
        every: Duration,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        crate::jobs::spawn_periodic(every, shutdown, move || {
            let me = Arc::clone(&me);
            async move {
                if let Err(e) = me.refresh_if_changed().await {
                    tracing::warn!(error = %e, "directory refresh failed; keeping the last snapshot");
                }
            }
        })
    }
}
