//! Saved stream cursors (`inbox/.cursor`, `zorgmeldingen/.zorgmelding-cursor`) and the hub they
//! belong to.
//!
//! A cursor is a position in one hub's disclosure log, meaningless on another hub: a cursor saved
//! against hub A can skip signals that hub B has below it. So the file names the hub's log as it
//! was seen at a signed checkpoint — origin, size, root, signing key — and every run checks that
//! the hub it talks to carries that same log, grown (an RFC 9162 consistency proof from the saved
//! size to the hub's current checkpoint). The origin and key alone would not do: two hubs set up
//! from one dev kit or one configuration share both.
//!
//! Cursors from another hub, or from a file without the hub's identity (written by an older
//! `signaal`), are dropped with a notice and the stream starts from the beginning. That is safe:
//! a hub streams only what was not acknowledged yet, so nothing comes twice that was processed,
//! and nothing is hidden.
use super::error::CliError;
use signaalhub_client::{ClientError, HubClient};
use signaalhub_proto::{checkpoint, merkle};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

/// The hub's disclosure log as seen at one signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubLog {
    /// The log's origin line (`log.origin` in the hub's configuration).
    pub origin: String,
    /// Entries covered by the checkpoint.
    pub tree_size: u64,
    /// The tree's root at that size.
    pub root: [u8; 32],
    /// The checkpoint key's id.
    pub key_id: String,
    /// The checkpoint key (Ed25519).
    pub public_key: [u8; 32],
}

/// What `hub.checkpoint()` answers while the log has no checkpoint yet.
const NO_CHECKPOINT_YET: &str = "no checkpoint yet";

impl HubLog {
    /// `<size> <root hex> <key id> <public key hex> <origin>` (the origin last: it may hold
    /// spaces; a key id holds none).
    fn encode(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.tree_size,
            hex::encode(self.root),
            self.key_id,
            hex::encode(self.public_key),
            self.origin
        )
    }

    fn decode(text: &str) -> Option<HubLog> {
        let mut parts = text.splitn(5, ' ');
        let tree_size = parts.next()?.parse().ok()?;
        let root = hex::decode(parts.next()?).ok()?.try_into().ok()?;
        let key_id = parts.next()?.to_owned();
        let public_key = hex::decode(parts.next()?).ok()?.try_into().ok()?;
        let origin = parts.next()?.to_owned();
        (!key_id.is_empty() && !origin.is_empty()).then_some(HubLog {
            origin,
            tree_size,
            root,
            key_id,
            public_key,
        })
    }

    /// The hub's newest checkpoint, its signature checked with the key the hub names (this
    /// identifies the log; it is not a reason to trust the hub). `None` while the hub has no
    /// checkpoint yet (an empty log).
    pub async fn current(hub: &mut HubClient) -> Result<Option<HubLog>, CliError> {
        let cp = match hub.checkpoint().await {
            Ok(cp) => cp,
            Err(ClientError::Status(s))
                if s.code() == tonic::Code::Unavailable
                    && s.message().starts_with(NO_CHECKPOINT_YET) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let bad = |why: String| CliError::Failed(format!("the hub's checkpoint: {why}"));
        let public_key: [u8; 32] = cp
            .public_key
            .as_slice()
            .try_into()
            .map_err(|_| bad("its public key is not 32 bytes".into()))?;
        let keys = HashMap::from([(cp.key_id.clone(), public_key)]);
        let c =
            checkpoint::verify_note(cp.note.as_bytes(), &keys).map_err(|e| bad(e.to_string()))?;
        Ok(Some(HubLog {
            origin: c.origin,
            tree_size: c.tree_size,
            root: c.root,
            key_id: cp.key_id,
            public_key,
        }))
    }

    /// `Ok(())` when `now` is this log, grown; otherwise why not.
    async fn continued_by(
        &self,
        hub: &mut HubClient,
        now: &HubLog,
    ) -> Result<Result<(), String>, CliError> {
        if now.origin != self.origin {
            return Ok(Err(format!(
                "it was saved against the log {:?}, this hub's log is {:?}",
                self.origin, now.origin
            )));
        }
        if now.tree_size < self.tree_size {
            return Ok(Err(format!(
                "this hub's log has {} entries, fewer than the {} it had when the cursors were saved",
                now.tree_size, self.tree_size
            )));
        }
        let proof: Vec<merkle::Hash> = if now.tree_size == self.tree_size {
            Vec::new()
        } else {
            hub.consistency_proof(self.tree_size, now.tree_size)
                .await?
                .proof
                .iter()
                .map(|h| <[u8; 32]>::try_from(h.as_slice()))
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    CliError::Failed("the hub sent a malformed consistency proof".into())
                })?
        };
        Ok(
            merkle::verify_consistency(
                self.tree_size,
                now.tree_size,
                &self.root,
                &now.root,
                &proof,
            )
            .map_err(|e| {
                format!(
                    "this hub's log does not continue the log of {} entries the cursors were saved with ({e})",
                    self.tree_size
                )
            }),
        )
    }
}

/// Saved cursors, one per organisation (`<oin> <cursor>` lines), with the hub they belong to
/// (`hub <size> <root> <key id> <key> <origin>`).
#[derive(Debug)]
pub struct CursorFile {
    path: PathBuf,
    /// The hub the cursors belong to, once known.
    hub: Option<HubLog>,
    cursors: BTreeMap<String, u64>,
    /// A cursor written before cursors were kept per organisation (a bare number).
    legacy: Option<u64>,
}

impl CursorFile {
    /// Reads `path` (missing: no cursors).
    pub fn load(path: PathBuf) -> Result<CursorFile, CliError> {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(CliError::config(format!("{}: {e}", path.display()))),
        };
        let mut file = CursorFile {
            path,
            hub: None,
            cursors: BTreeMap::new(),
            legacy: None,
        };
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || {
                CliError::config(format!(
                    "{}: {line:?} is not `hub <log>`, `<oin> <cursor>` or a cursor; fix or remove the file (the stream then starts from the beginning), or pass --after",
                    file.path.display()
                ))
            };
            if let Some(rest) = line.strip_prefix("hub ") {
                file.hub = Some(HubLog::decode(rest).ok_or_else(bad)?);
            } else if let Some((key, cursor)) = line.split_once(' ') {
                let cursor = cursor.trim().parse().map_err(|_| bad())?;
                file.cursors.insert(key.to_owned(), cursor);
            } else {
                file.legacy = Some(line.parse().map_err(|_| bad())?);
            }
        }
        Ok(file)
    }

    fn has_cursors(&self) -> bool {
        !self.cursors.is_empty() || self.legacy.is_some()
    }

    /// Checks the saved cursors against the hub whose log is now `now`. Cursors of another hub,
    /// or of an unknown one, are dropped: the returned notice says why and that the stream
    /// starts from the beginning.
    pub async fn bind(
        &mut self,
        hub: &mut HubClient,
        now: Option<HubLog>,
    ) -> Result<Option<String>, CliError> {
        let why = if !self.has_cursors() {
            None
        } else {
            match (&self.hub, &now) {
                (None, _) => Some(
                    "has no hub identity (written by an older signaal), so its cursors may belong to another hub"
                        .to_owned(),
                ),
                (Some(saved), None) => Some(format!(
                    "belongs to another hub: it was saved against a log of {} entries, and this hub has no checkpoint yet",
                    saved.tree_size
                )),
                (Some(saved), Some(now)) => saved
                    .continued_by(hub, now)
                    .await?
                    .err()
                    .map(|e| format!("belongs to another hub: {e}")),
            }
        };
        self.hub = now;
        let Some(why) = why else { return Ok(None) };
        self.cursors.clear();
        self.legacy = None;
        self.write()?;
        Ok(Some(format!(
            "{} {why}: starting from the beginning (signals already acknowledged are not streamed again); the file now names this hub",
            self.path.display()
        )))
    }

    /// The saved cursor of `key` (an organisation's OIN).
    pub fn get(&self, key: &str) -> Option<u64> {
        self.cursors.get(key).copied()
    }

    /// Saves `cursor` for `key`, with the hub's identity (asked for again while the hub had no
    /// checkpoint yet).
    pub async fn save(
        &mut self,
        hub: &mut HubClient,
        key: &str,
        cursor: u64,
    ) -> Result<(), CliError> {
        if self.hub.is_none() {
            self.hub = HubLog::current(hub).await.ok().flatten();
        }
        self.cursors.insert(key.to_owned(), cursor);
        self.write()
    }

    /// At the end of a run that saved cursors while the hub had no checkpoint yet: waits up to 3 s
    /// for the hub's first checkpoint and records it, so the next run knows the hub.
    pub async fn finish(&mut self, hub: &mut HubClient) -> Result<(), CliError> {
        if self.hub.is_some() || self.cursors.is_empty() {
            return Ok(());
        }
        for _ in 0..12 {
            if let Ok(Some(now)) = HubLog::current(hub).await {
                self.hub = Some(now);
                return self.write();
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(())
    }

    fn encode(&self) -> String {
        let mut text = String::from(
            "# signaal: the last processed cursor per organisation, for the hub whose disclosure log is\n\
             # named on the `hub` line (size, root, checkpoint key id and key, origin). Remove this file\n\
             # to start from the beginning: what was acknowledged is not streamed again.\n",
        );
        if let Some(h) = &self.hub {
            text.push_str(&format!("hub {}\n", h.encode()));
        }
        for (k, c) in &self.cursors {
            text.push_str(&format!("{k} {c}\n"));
        }
        text
    }

    fn write(&self) -> Result<(), CliError> {
        super::files::write_private(&self.path, self.encode().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(size: u64) -> HubLog {
        HubLog {
            origin: "signaalhub/verstrekkingenlog test".into(),
            tree_size: size,
            root: [7; 32],
            key_id: "dev-hub-1".into(),
            public_key: [9; 32],
        }
    }

    #[test]
    fn hub_lines_round_trip() {
        let l = log(42);
        assert_eq!(HubLog::decode(&l.encode()), Some(l));
        assert_eq!(HubLog::decode("42 zz dev-hub-1 00 origin"), None);
        assert_eq!(HubLog::decode("42"), None);
    }

    #[test]
    fn files_round_trip_and_old_files_have_no_hub() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { return };
        let path = dir.path().join(".cursor");
        let mut f = CursorFile {
            path: path.clone(),
            hub: Some(log(5)),
            cursors: BTreeMap::from([
                ("00000009905000000000".to_owned(), 12),
                ("00000009906000000000".to_owned(), 4),
            ]),
            legacy: None,
        };
        assert!(f.write().is_ok());
        let back = CursorFile::load(path.clone()).ok();
        assert_eq!(back.as_ref().and_then(|b| b.hub.clone()), Some(log(5)));
        // One cursor per organisation, so several can share a folder.
        assert_eq!(
            back.as_ref().and_then(|b| b.get("00000009905000000000")),
            Some(12)
        );
        assert_eq!(
            back.as_ref().and_then(|b| b.get("00000009906000000000")),
            Some(4)
        );
        // A file of an older signaal: cursors, no hub line.
        assert!(std::fs::write(&path, "00000009905000000000 7\n").is_ok());
        let old = CursorFile::load(path.clone()).ok();
        assert!(
            old.as_ref()
                .is_some_and(|o| o.hub.is_none() && o.has_cursors())
        );
        // The zorgmelding inbox's old file: a bare number.
        assert!(std::fs::write(&path, "31\n").is_ok());
        let old = CursorFile::load(path.clone()).ok();
        assert!(old.as_ref().is_some_and(|o| o.legacy == Some(31)));
        assert!(std::fs::write(&path, "garbage here\n").is_ok());
        assert!(CursorFile::load(path.clone()).is_err());
        f.cursors.clear();
        f.hub = None;
        f.path = dir.path().join("missing");
        assert!(CursorFile::load(f.path.clone()).is_ok_and(|m| !m.has_cursors()));
    }
}
