//! The disclosure log as the participants see it: listings, checkpoints, proofs and the subject
//! access report (AVG art. 15) with its letter. Who may read what is decided here, once
//! ([`require_fg`]); every read about a person is itself logged first (fail closed).
use super::Ctx;
use super::error::{FlowError, FlowResult};
use crate::auth::Caller;
use crate::ids::Bsn;
use crate::ledger::StoredEntry;
use crate::ledger::integrator::Ledger;
use crate::ledger::{EntryOutcome, Event};
use signaalhub_proto::checkpoint::SignedCheckpoint;
use signaalhub_proto::merkle;

/// The role of the privacy officer (functionaris gegevensbescherming) in tokens.
pub const FG_ROLE: &str = "fg";

/// Most entries in one page of a listing.
pub const MAX_PAGE: u32 = 1000;

/// The log is read by the privacy officer.
pub fn require_fg(c: &Caller) -> FlowResult<()> {
    if c.has_role(FG_ROLE) {
        Ok(())
    } else {
        Err(FlowError::Forbidden(format!(
            "the disclosure log is read by the privacy officer: your token needs the role {FG_ROLE:?}"
        )))
    }
}

/// What `ListDisclosures` lists.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every entry about a person (logged as a subject access).
    Subject(Bsn),
    /// The caller's own organisation's entries, after an index, a page at a time.
    OwnOrganization {
        /// Entries after this index (0: from the start).
        after: u64,
        /// At most this many (1 to [`MAX_PAGE`]).
        limit: u32,
    },
}

/// `ListDisclosures`.
pub async fn list(ctx: &Ctx, caller: &Caller, scope: Scope) -> FlowResult<Vec<StoredEntry>> {
    require_fg(caller)?;
    Ok(match scope {
        Scope::Subject(bsn) => {
            let s = ctx.pseudonymizer.subject(&bsn);
            let all = ctx.store.log_entries_for_subject(s.all()).await?;
            let e = ctx
                .entry(
                    caller,
                    FG_ROLE,
                    Event::SubjectAccessReport,
                    EntryOutcome::Recorded,
                )
                .subjects([s.as_str()])
                .reference("list_disclosures");
            ctx.store.append_log(std::slice::from_ref(&e)).await?;
            all
        }
        Scope::OwnOrganization { after, limit } => {
            ctx.store
                .log_entries_for_org(caller.oin().as_str(), (after > 0).then_some(after), limit)
                .await?
        }
    })
}

/// The newest signed checkpoint.
pub async fn checkpoint(ledger: &Ledger) -> FlowResult<SignedCheckpoint> {
    match ledger.latest().await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(FlowError::Unavailable(
            "no checkpoint yet: the log is empty or not yet integrated; retry shortly".into(),
        )),
        Err(e) => {
            tracing::error!(error = %e, "checkpoint unavailable");
            Err(FlowError::Unavailable(
                "the disclosure log cannot produce a verified checkpoint".into(),
            ))
        }
    }
}

fn proof_err(e: merkle::TileError) -> FlowError {
    FlowError::invalid("index", e.to_string())
}

/// The leaf hash of entry `index` and its inclusion proof in the tree of `size`.
pub async fn inclusion(
    ctx: &Ctx,
    index: u64,
    size: u64,
) -> FlowResult<(merkle::Hash, Vec<merkle::Hash>)> {
    let leaf_tile = merkle::TileId {
        level: 0,
        index: index >> 8,
    };
    let mut ids = merkle::tiles_for_inclusion_proof(index, size).map_err(proof_err)?;
    ids.push(leaf_tile);
    let tiles = ctx.store.read_tiles(&ids).await?;
    let proof = merkle::inclusion_proof(index, size, &tiles.0).map_err(proof_err)?;
    let leaf = tiles
        .0
        .get(leaf_tile)
        .and_then(|t| t.get((index & 255) as usize).copied())
        .ok_or_else(|| FlowError::Unavailable(format!("log entry {index} is not integrated")))?;
    Ok((leaf, proof))
}

/// `GetInclusionProof`: for an entry of a tree the newest checkpoint covers.
pub async fn inclusion_proof(
    ctx: &Ctx,
    index: u64,
    tree_size: u64,
) -> FlowResult<(merkle::Hash, Vec<merkle::Hash>)> {
    let integrated = ctx.store.log_integrated().await?;
    if tree_size == 0 || tree_size > integrated || index >= tree_size {
        return Err(FlowError::invalid(
            "tree_size",
            format!("index < tree_size <= {integrated} (the newest checkpoint)"),
        ));
    }
    inclusion(ctx, index, tree_size).await
}

/// `GetConsistencyProof`: that the tree of `new_size` extends the tree of `old_size`.
pub async fn consistency_proof(
    ctx: &Ctx,
    old_size: u64,
    new_size: u64,
) -> FlowResult<Vec<merkle::Hash>> {
    let integrated = ctx.store.log_integrated().await?;
    if old_size == 0 || old_size > new_size || new_size > integrated {
        return Err(FlowError::invalid(
            "new_size",
            format!("0 < old_size <= new_size <= {integrated} (the newest checkpoint)"),
        ));
    }
    let ids = merkle::tiles_for_consistency_proof(old_size, new_size).map_err(proof_err)?;
    let tiles = ctx.store.read_tiles(&ids).await?;
    merkle::consistency_proof(old_size, new_size, &tiles.0).map_err(proof_err)
}

/// A subject access report: every entry about the person with its inclusion proof in the tree
/// of `checkpoint`, and the letter for the family.
#[derive(Debug)]
pub struct AccessReport {
    /// The checkpoint the proofs refer to.
    pub checkpoint: SignedCheckpoint,
    /// The entries, oldest first, each with its inclusion proof.
    pub entries: Vec<(StoredEntry, Vec<merkle::Hash>)>,
    /// The letter (HTML, Dutch).
    pub letter: String,
}

/// `SubjectAccessReport`: the report itself is logged, then everything is integrated so that
/// every entry — including this one — is covered by the checkpoint the proofs refer to.
pub async fn access_report(
    ctx: &Ctx,
    ledger: &Ledger,
    caller: &Caller,
    subject: &Bsn,
) -> FlowResult<AccessReport> {
    require_fg(caller)?;
    let s = ctx.pseudonymizer.subject(subject);
    let e = ctx
        .entry(
            caller,
            FG_ROLE,
            Event::SubjectAccessReport,
            EntryOutcome::Recorded,
        )
        .subjects([s.as_str()]);
    ctx.store.append_log(std::slice::from_ref(&e)).await?;
    ledger.integrate_all().await.map_err(|err| {
        tracing::error!(error = %err, "integration for a subject access report failed");
        FlowError::Unavailable(
            "the disclosure log cannot be brought up to date; nothing was reported".into(),
        )
    })?;
    let signed = checkpoint(ledger).await?;
    let size = signed.checkpoint.tree_size;
    let stored = ctx.store.log_entries_for_subject(s.all()).await?;
    let mut entries = Vec::new();
    let mut parsed = Vec::new();
    for st in stored.into_iter().filter(|st| st.idx < size) {
        let (_, proof) = inclusion(ctx, st.idx, size).await?;
        if let Some(p) = &st.entry {
            parsed.push((p.clone(), st.idx));
        }
        entries.push((st, proof));
    }
    let letter = crate::domain::access_letter::letter(|oin| ctx.name_of(oin), &parsed, &signed);
    Ok(AccessReport {
        checkpoint: signed,
        entries,
        letter,
    })
}
