//! The disclosure log as the participants see it: listings, checkpoints, proofs and the subject
//! access report (AVG art. 15) with its letter. Who may read what is decided here, once
//! ([`require_fg`]); every read about a person is itself logged first (fail closed).
use super::Ctx;
use super::error::{FlowError, FlowResult};
use crate::auth::Caller;
use crate::domain::access::{Withheld, redact, withheld_from_family};
use crate::domain::access_letter::{AccessLetter, LetterRow};
use crate::domain::letter::{Language, Letter, Sender, Vocabulary};
use crate::ids::{Bsn, Oin};
use crate::ledger::integrator::Ledger;
use crate::ledger::{EntryOutcome, Event};
use crate::ledger::{LogEntry, StoredEntry};
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

/// Which part of the log a privacy officer reads about a person.
#[derive(Debug, Clone)]
pub enum Reach {
    /// The entries in which the reader's own organisation acted or received: what it answers for
    /// under AVG art. 15.
    Own,
    /// Every organisation's entries: only for a reader the hub's operator granted
    /// (`[access] hub_wide_readers`), answering the request named here.
    HubWide {
        /// The reference of the request being answered (validated by
        /// [`crate::domain::access::request_reference`]).
        reference: String,
    },
}

/// What `ListDisclosures` lists.
#[derive(Debug, Clone)]
pub enum Scope {
    /// The entries about a person within `reach`, a page at a time (each page logged as a
    /// subject access).
    Subject {
        /// The person.
        bsn: Bsn,
        /// Whose part.
        reach: Reach,
        /// Entries after this index (`None`: from the start).
        after: Option<u64>,
        /// At most this many (1 to [`MAX_PAGE`]).
        limit: u32,
    },
    /// The caller's own organisation's entries, after an index, a page at a time.
    OwnOrganization {
        /// Entries after this index (`None`: from the start).
        after: Option<u64>,
        /// At most this many (1 to [`MAX_PAGE`]).
        limit: u32,
    },
    /// The entries one professional of the caller's organisation acted in (NEN 7513), a page at
    /// a time (logged as a professional audit).
    Professional {
        /// The professional's id at the organisation.
        id: String,
        /// Entries after this index (`None`: from the start).
        after: Option<u64>,
        /// At most this many (1 to [`MAX_PAGE`]).
        limit: u32,
    },
}

/// An entry as one reader is shown it.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The stored entry (its bytes are not to be shown when `withheld` is not empty).
    pub stored: StoredEntry,
    /// The entry with the withheld fields blanked (`None` if it does not parse).
    pub entry: Option<LogEntry>,
    /// What is withheld from this reader, and why.
    pub withheld: Vec<Withheld>,
    /// The acting professional's clear id, shown to the acting organisation's own FG.
    pub professional: Option<String>,
}

impl Shown {
    /// As the reader's own organisation's log view: nothing withheld; the professional named when
    /// the reader's organisation acted.
    fn to_own(stored: StoredEntry, reader: &str) -> Shown {
        let professional = stored
            .entry
            .as_ref()
            .filter(|e| e.actor_oin == reader)
            .and(stored.professional.clone());
        Shown {
            entry: stored.entry.clone(),
            stored,
            withheld: Vec::new(),
            professional,
        }
    }
}

/// The organisation whose part `reach` covers (`None`: hub-wide), checking the operator's grant
/// and the request reference.
fn reach_of<'a>(ctx: &Ctx, caller: &'a Caller, reach: &Reach) -> FlowResult<Option<&'a str>> {
    match reach {
        Reach::Own => Ok(Some(caller.oin().as_str())),
        Reach::HubWide { .. } => {
            if ctx
                .hub_wide_readers
                .allows(caller.oin(), &caller.professional.id)
            {
                Ok(None)
            } else {
                Err(FlowError::Forbidden(
                    "a hub-wide report is answered only to a reader the hub's operator granted \
                     ([access] hub_wide_readers); without hub_wide you see your own \
                     organisation's part"
                        .into(),
                ))
            }
        }
    }
}

/// The log entry recording a read about a person (fail closed: appended before anything is read).
async fn log_subject_read(
    ctx: &Ctx,
    caller: &Caller,
    subject: &str,
    reach: &Reach,
    what: Option<&str>,
) -> FlowResult<()> {
    let mut e = ctx
        .entry(
            caller,
            FG_ROLE,
            Event::SubjectAccessReport,
            EntryOutcome::Recorded,
        )
        .subjects([subject]);
    e = match reach {
        Reach::Own => match what {
            Some(w) => e.reference(w),
            None => e,
        },
        Reach::HubWide { reference } => e
            .basis_strings(vec![HUB_WIDE_BASIS.into()])
            .reference(format!("request:{reference}")),
    };
    ctx.store.append_log(std::slice::from_ref(&e)).await?;
    Ok(())
}

/// The basis a hub-wide read names in its log entry.
pub const HUB_WIDE_BASIS: &str = "grant:hub_wide";

/// `ListDisclosures`: the privacy officer's own view (nothing withheld; its own professionals
/// named).
pub async fn list(ctx: &Ctx, caller: &Caller, scope: Scope) -> FlowResult<Vec<Shown>> {
    require_fg(caller)?;
    let me = caller.oin().as_str();
    let stored = match scope {
        Scope::Subject {
            bsn,
            reach,
            after,
            limit,
        } => {
            let org = reach_of(ctx, caller, &reach)?;
            let s = ctx.pseudonymizer.subject(&bsn);
            log_subject_read(ctx, caller, s.as_str(), &reach, Some("list_disclosures")).await?;
            ctx.store
                .log_entries_for_subject_page(s.all(), org, after, u64::MAX, limit)
                .await?
        }
        Scope::OwnOrganization { after, limit } => {
            ctx.store.log_entries_for_org(me, after, limit).await?
        }
        Scope::Professional { id, after, limit } => {
            let pseudonym = ctx.professional_pseudonym(me, &id);
            let e = ctx
                .entry(
                    caller,
                    FG_ROLE,
                    Event::ProfessionalAudit,
                    EntryOutcome::Recorded,
                )
                .reference(pseudonym);
            ctx.store.append_log(std::slice::from_ref(&e)).await?;
            ctx.store
                .log_entries_for_professional(me, &id, after, limit)
                .await?
        }
    };
    Ok(stored.into_iter().map(|st| Shown::to_own(st, me)).collect())
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
    let mut ids = merkle::tiles_for_inclusion_proof(index, size).map_err(proof_err)?;
    ids.push(leaf_tile(index));
    let tiles = ctx.store.read_tiles(&ids).await?.0;
    let proof = merkle::inclusion_proof(index, size, &tiles).map_err(proof_err)?;
    Ok((leaf_in(&tiles, index)?, proof))
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

/// Fail closed on a changed log: an entry goes into a report only when its stored bytes are the
/// leaf the tiles hold and that leaf proves against the signed root. The start-up check does not
/// re-read entries verified before (docs/SECURITY.md), so an entry changed in the store since
/// is caught here, before the family is shown it: a withheld entry's fields come from the
/// stored bytes but reach the family only as its leaf hash, which must be the signed one.
fn proves(
    st: &StoredEntry,
    tile_leaf: &merkle::Hash,
    proof: &[merkle::Hash],
    signed: &SignedCheckpoint,
) -> FlowResult<()> {
    let cp = &signed.checkpoint;
    let leaf = merkle::leaf_hash(&st.bytes);
    if leaf == *tile_leaf
        && merkle::verify_inclusion(&leaf, st.idx, cp.tree_size, proof, &cp.root).is_ok()
    {
        return Ok(());
    }
    tracing::error!(
        index = st.idx,
        tree_size = cp.tree_size,
        "a log entry does not prove against the signed checkpoint: report refused; run `signaalhub log verify`"
    );
    Err(FlowError::Unavailable(
        "the disclosure log does not verify: nothing was reported; the hub's operator must run \
         `signaalhub log verify`"
            .into(),
    ))
}

/// An organisation's name in the directory, `None` when the directory does not know it (a
/// letter then says so in words: it never prints an OIN).
pub fn known_name(ctx: &Ctx, oin: &str) -> Option<String> {
    let dir = ctx.directory.snapshot();
    let oin = oin.parse::<Oin>().ok()?;
    dir.orgs.get(&oin).map(|e| e.org.name.clone())
}

/// An organisation as the sender of a family letter: its name, how to reach its privacy
/// officer and its contact point, from the directory (`signaalhub org set-privacy-contact`).
pub fn letter_sender(ctx: &Ctx, oin: &Oin) -> Sender {
    let dir = ctx.directory.snapshot();
    match dir.orgs.get(oin) {
        Some(e) => Sender {
            name: e.org.name.clone(),
            privacy_contact: e.org.privacy_contact.clone(),
            contact_point: e.org.contact_point.clone(),
        },
        // Not in the directory (it never is for an authenticated caller): no OIN in a letter.
        None => Sender::default(),
    }
}

/// Which page of a subject access report is asked.
#[derive(Debug, Clone, Copy)]
pub struct ReportPage {
    /// Entries after this index (`None`: from the start).
    pub after: Option<u64>,
    /// At most this many (1 to [`MAX_PAGE`]).
    pub limit: u32,
    /// The tree size of the checkpoint the first page pinned (`None`: this is the first page:
    /// integrate and pin the newest checkpoint).
    pub tree_size: Option<u64>,
    /// The language of the letter (on the last page).
    pub language: Language,
}

/// A page of a subject access report: the entries about the person within the reach, each with
/// its inclusion proof in the tree of `checkpoint`; on the last page the letter for the family.
#[derive(Debug)]
pub struct AccessReport {
    /// The checkpoint the proofs refer to (every page of one report: the same).
    pub checkpoint: SignedCheckpoint,
    /// The entries as the family is shown them, oldest first, each with its inclusion proof.
    pub entries: Vec<(Shown, Vec<merkle::Hash>)>,
    /// The letter for the family over every entry of the report (all pages), in the language
    /// asked: on the last page only.
    pub letter: Option<Letter>,
    /// The index to ask the next page after (`None`: this was the last page).
    pub next_after: Option<u64>,
}

/// The signed checkpoint of exactly `size` that an earlier page of a report pinned.
async fn pinned(ctx: &Ctx, ledger: &Ledger, size: u64) -> FlowResult<SignedCheckpoint> {
    let integrated = ctx.store.log_integrated().await?;
    let note = if size > 0 && size <= integrated {
        ctx.store.checkpoint_at(size).await?
    } else {
        None
    };
    let Some(note) = note else {
        return Err(FlowError::invalid(
            "tree_size",
            "the tree size of a checkpoint the hub signed: the first page's checkpoint.tree_size",
        ));
    };
    let signed = SignedCheckpoint::parse(note.as_bytes())
        .ok()
        .filter(|s| signaalhub_proto::checkpoint::verify(s, &ledger.keys).is_ok());
    signed.ok_or_else(|| {
        tracing::error!(tree_size = size, "a stored checkpoint does not verify");
        FlowError::Unavailable("the disclosure log cannot produce a verified checkpoint".into())
    })
}

/// An entry as the family is shown it: what it may not learn (the melder, a shielded
/// organisation) withheld, and those fields blanked.
fn for_family(ctx: &Ctx, org: Option<&str>, st: StoredEntry) -> Shown {
    let (entry, withheld) = match &st.entry {
        Some(e) => {
            let w = withheld_from_family(
                e,
                org,
                |oin| ctx.sector_of(oin),
                |sector| ctx.policy.is_shielded_sector(sector),
            );
            (Some(redact(e, &w)), w)
        }
        None => (None, Vec::new()),
    };
    Shown {
        stored: st,
        entry,
        withheld,
        professional: None,
    }
}

/// The tile holding entry `index`'s leaf.
fn leaf_tile(index: u64) -> merkle::TileId {
    merkle::TileId {
        level: 0,
        index: index >> 8,
    }
}

/// The leaf of entry `index` in tiles read before.
fn leaf_in(tiles: &merkle::MemoryTiles, index: u64) -> FlowResult<merkle::Hash> {
    use merkle::TileReader;
    tiles
        .read_tile(leaf_tile(index))
        .ok()
        .flatten()
        .and_then(|t| t.get((index & 255) as usize).copied())
        .ok_or_else(|| FlowError::Unavailable(format!("log entry {index} is not integrated")))
}

/// `SubjectAccessReport`, a page at a time. The first page logs the report, then integrates
/// everything so that every entry — including this one — is covered by the checkpoint it pins;
/// every later page proves against that same checkpoint (its `tree_size`), and is logged too
/// (every read about a person is). A page reads each tile it needs once. What the family may
/// not learn (the melder, a shielded organisation) is withheld from entries and letter alike;
/// the leaf hash keeps a withheld entry checkable. The letter covers every entry below the
/// checkpoint and comes with the last page.
pub async fn access_report(
    ctx: &Ctx,
    ledger: &Ledger,
    caller: &Caller,
    subject: &Bsn,
    reach: Reach,
    page: ReportPage,
) -> FlowResult<AccessReport> {
    require_fg(caller)?;
    let org = reach_of(ctx, caller, &reach)?;
    let s = ctx.pseudonymizer.subject(subject);
    let later = page.tree_size.is_some();
    log_subject_read(
        ctx,
        caller,
        s.as_str(),
        &reach,
        later.then_some("report_page"),
    )
    .await?;
    let signed = match page.tree_size {
        Some(size) => pinned(ctx, ledger, size).await?,
        None => {
            ledger.integrate_all().await.map_err(|err| {
                tracing::error!(error = %err, "integration for a subject access report failed");
                FlowError::Unavailable(
                    "the disclosure log cannot be brought up to date; nothing was reported".into(),
                )
            })?;
            checkpoint(ledger).await?
        }
    };
    let size = signed.checkpoint.tree_size;
    let limit = page.limit.clamp(1, MAX_PAGE);
    let mut stored = ctx
        .store
        .log_entries_for_subject_page(s.all(), org, page.after, size, limit + 1)
        .await?;
    let more = stored.len() > limit as usize;
    stored.truncate(limit as usize);
    // Every tile the page's proofs need, each read once, and the proofs worked out together:
    // entries of one report share most of their paths, and each shared node is hashed once.
    let indices: Vec<u64> = stored.iter().map(|st| st.idx).collect();
    let unprovable = |err: merkle::TileError| {
        tracing::error!(error = %err, "a subject access report page cannot be proved");
        FlowError::Unavailable(
            "the disclosure log cannot prove this page against its checkpoint; nothing was reported"
                .into(),
        )
    };
    let mut ids = merkle::tiles_for_inclusion_proofs(&indices, size).map_err(unprovable)?;
    ids.extend(indices.iter().map(|&i| leaf_tile(i)));
    ids.sort();
    ids.dedup();
    let tiles = ctx.store.read_tiles(&ids).await?.0;
    let proofs = merkle::inclusion_proofs(&indices, size, &tiles).map_err(unprovable)?;
    let mut entries = Vec::with_capacity(stored.len());
    for (st, proof) in stored.into_iter().zip(proofs) {
        let leaf = leaf_in(&tiles, st.idx)?;
        proves(&st, &leaf, &proof, &signed)?;
        entries.push((for_family(ctx, org, st), proof));
    }
    let next_after = if more {
        entries.last().map(|(shown, _)| shown.stored.idx)
    } else {
        None
    };
    let letter = if more {
        None
    } else {
        let rows = if page.after.is_none() {
            // The whole report is this page.
            entries
                .iter()
                .filter_map(|(shown, _)| letter_row(shown))
                .collect::<Vec<_>>()
        } else {
            whole_letter_rows(ctx, s.all(), org, &signed).await?
        };
        Some(access_letter(
            ctx,
            caller,
            &reach,
            page.language,
            &rows,
            &signed,
        ))
    };
    Ok(AccessReport {
        checkpoint: signed,
        entries,
        letter,
        next_after,
    })
}

fn letter_row(shown: &Shown) -> Option<LetterRow> {
    shown.entry.as_ref().map(|e| LetterRow {
        entry: e.clone(),
        idx: shown.stored.idx,
        withheld: shown.withheld.clone(),
    })
}

/// The family's letter over `rows`, sent by the caller's organisation, in `language`, in the
/// convenant's words.
fn access_letter(
    ctx: &Ctx,
    caller: &Caller,
    reach: &Reach,
    language: Language,
    rows: &[LetterRow],
    signed: &SignedCheckpoint,
) -> Letter {
    let words = Vocabulary::new(ctx.policy.convenant(), language);
    crate::domain::access_letter::letter(
        |oin| known_name(ctx, oin),
        &words,
        &AccessLetter {
            language,
            date: super::now(),
            sender: letter_sender(ctx, caller.oin()),
            hub_wide: matches!(reach, Reach::HubWide { .. }),
            rows,
            checkpoint: signed,
        },
    )
}

/// The letter's rows over every entry of a paged report (below the checkpoint). Each entry's
/// stored bytes must still be the leaf its tile holds (the pages proved those tiles against the
/// signed root), so that the letter tells nothing a page did not prove; the leaf tiles are read
/// once.
async fn whole_letter_rows<S: AsRef<str>>(
    ctx: &Ctx,
    subject: &[S],
    org: Option<&str>,
    signed: &SignedCheckpoint,
) -> FlowResult<Vec<LetterRow>> {
    let size = signed.checkpoint.tree_size;
    let stored: Vec<StoredEntry> = ctx
        .store
        .log_entries_for_subject(subject, org)
        .await?
        .into_iter()
        .filter(|st| st.idx < size)
        .collect();
    let ids: Vec<merkle::TileId> = stored
        .iter()
        .map(|st| leaf_tile(st.idx))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let tiles = ctx.store.read_tiles(&ids).await?.0;
    let mut rows = Vec::with_capacity(stored.len());
    for st in stored {
        if merkle::leaf_hash(&st.bytes) != leaf_in(&tiles, st.idx)? {
            tracing::error!(
                index = st.idx,
                "a log entry is not the leaf its tile holds: report refused; run `signaalhub log verify`"
            );
            return Err(FlowError::Unavailable(
                "the disclosure log does not verify: nothing was reported; the hub's operator \
                 must run `signaalhub log verify`"
                    .into(),
            ));
        }
        rows.extend(letter_row(&for_family(ctx, org, st)));
    }
    Ok(rows)
}
