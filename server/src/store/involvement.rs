//! The involvement register, cases, coordinator proposals, safety plan versions and
//! notifications. Every act is sequenced into the disclosure log in the same transaction as the
//! act, and every notification is written in that transaction too (its cursor is 1 + the log
//! index of the entry that records the act towards its recipient).
//!
//! Registrations, endings, coordinator changes and plan versions take the `involvement_lock` row
//! first, so on PostgreSQL two organisations registering at once are serialised and always see
//! each other; SQLite has a single writer anyway.
use super::{Clash, Columns, Record, Store, StoreError, StoreResult, json, parse};
use crate::domain::consent::Consent;
use crate::domain::involvement::{
    AgreementMeta, Case, CaseView, Confirmation, Involvement, Notification, NotificationKind,
    PlanVersion, Proposal, ProposalState,
};
use crate::ids::SubjectPseudonym;
use crate::ledger::PendingEntry;

const INVOLVEMENT_COLUMNS: &str = "involvement_id, subject, org_oin, contact_professional, role, registered_by, basis, subject_facts, started_at, registered_at, ended_at, retain_until, case_id";
const CASE_COLUMNS: &str = "case_id, created_at, coordinator_oin, coordinator_since, plan_version, merged_into, created_seq";
const PROPOSAL_COLUMNS: &str = "proposal_id, case_id, proposed_oin, proposed_by_oin, state, created_at, decided_at, accepted_by";
const PLAN_COLUMNS: &str = "case_id, version, author_oin, author_professional, envelope, sealed_to, agreements, published_at, retain_until, request_hash, content_digest, review_at, review_state";
const NOTIFICATION_COLUMNS: &str = "recipient_oin, cursor, kind, at, actor_oin, actor_professional, case_id, maatregel_id, involvement_id, proposal_id, plan_version, summary_nl, retain_until, reference";

/// Most hops followed from a merged case to the case that absorbed it.
const MAX_MERGE_HOPS: usize = 16;

/// Builds an involvement from a row with the columns of [`INVOLVEMENT_COLUMNS`].
fn involvement_from_row(r: &impl Columns) -> StoreResult<Involvement> {
    let subject: String = r.col("subject")?;
    Ok(Involvement {
        id: r.parsed("involvement_id")?,
        subject: SubjectPseudonym::from_stored(&subject)
            .ok_or(StoreError::Corrupt("involvements.subject"))?,
        org_oin: r.parsed("org_oin")?,
        contact_professional: r.col("contact_professional")?,
        role: r.parsed("role")?,
        registered_by: r.col("registered_by")?,
        basis: crate::wire::decode_basis(&r.col::<Vec<u8>>("basis")?),
        facts: parse(
            &r.col::<String>("subject_facts")?,
            "involvements.subject_facts",
        )?,
        started_at: r.col("started_at")?,
        registered_at: r.col("registered_at")?,
        ended_at: r.col("ended_at")?,
        retain_until: r.col("retain_until")?,
        case_id: r.parsed_opt("case_id")?,
    })
}

/// Builds a case from a row with the columns of [`CASE_COLUMNS`].
fn case_from_row(r: &impl Columns) -> StoreResult<Case> {
    Ok(Case {
        id: r.parsed("case_id")?,
        created_at: r.col("created_at")?,
        coordinator_oin: r.parsed_opt("coordinator_oin")?,
        coordinator_since: r.col("coordinator_since")?,
        plan_version: u32::try_from(r.col::<i64>("plan_version")?)
            .map_err(|_| StoreError::Corrupt("cases.plan_version"))?,
        merged_into: r.parsed_opt("merged_into")?,
        seq: r.col("created_seq")?,
    })
}

/// Builds a proposal from a row with the columns of [`PROPOSAL_COLUMNS`].
fn proposal_from_row(r: &impl Columns) -> StoreResult<Proposal> {
    Ok(Proposal {
        id: r.parsed("proposal_id")?,
        case_id: r.parsed("case_id")?,
        proposed_oin: r.parsed("proposed_oin")?,
        proposed_by_oin: r.parsed("proposed_by_oin")?,
        state: ProposalState::parse(&r.col::<String>("state")?)
            .ok_or(StoreError::Corrupt("coordinator_proposals.state"))?,
        created_at: r.col("created_at")?,
        decided_at: r.col("decided_at")?,
        accepted_by: parse(
            &r.col::<String>("accepted_by")?,
            "coordinator_proposals.accepted_by",
        )?,
    })
}

/// Builds a plan version, without its confirmations, from a row with the columns of
/// [`PLAN_COLUMNS`].
fn plan_from_row(r: &impl Columns) -> StoreResult<PlanVersion> {
    Ok(PlanVersion {
        case_id: r.parsed("case_id")?,
        version: u32::try_from(r.col::<i64>("version")?)
            .map_err(|_| StoreError::Corrupt("safety_plans.version"))?,
        author_oin: r.parsed("author_oin")?,
        author_professional: r.col("author_professional")?,
        envelope: r.col("envelope")?,
        sealed_to: parse(&r.col::<String>("sealed_to")?, "safety_plans.sealed_to")?,
        agreements: parse::<Vec<AgreementMeta>>(
            &r.col::<String>("agreements")?,
            "safety_plans.agreements",
        )?,
        published_at: r.col("published_at")?,
        retain_until: r.col("retain_until")?,
        request_hash: r.col("request_hash")?,
        content_digest: r.col("content_digest")?,
        confirmations: Vec::new(),
        review_at: r.col("review_at")?,
        review_state: r
            .col::<Option<String>>("review_state")?
            .map(|s| {
                crate::domain::zorgmelding::ReviewState::parse(&s)
                    .ok_or(StoreError::Corrupt("safety_plans.review_state"))
            })
            .transpose()?,
    })
}

/// Builds a notification from a row with the columns of [`NOTIFICATION_COLUMNS`].
fn notification_from_row(r: &impl Columns) -> StoreResult<Notification> {
    Ok(Notification {
        recipient_oin: r.parsed("recipient_oin")?,
        cursor: r.col::<i64>("cursor")? as u64,
        kind: NotificationKind::parse(&r.col::<String>("kind")?)
            .ok_or(StoreError::Corrupt("notifications.kind"))?,
        at: r.col("at")?,
        actor_oin: r.parsed("actor_oin")?,
        actor_professional: r.col("actor_professional")?,
        case_id: r.parsed_opt("case_id")?,
        maatregel_id: r.parsed_opt("maatregel_id")?,
        involvement_id: r.parsed_opt("involvement_id")?,
        proposal_id: r.parsed_opt("proposal_id")?,
        plan_version: r
            .col::<Option<i64>>("plan_version")?
            .map(|v| u32::try_from(v).unwrap_or(0)),
        summary_nl: r.col("summary_nl")?,
        reference: r.col("reference")?,
        retain_until: r.col("retain_until")?,
    })
}

// The steps the register's transactions share, written once over both backends (like
// `super::sequence_log` and `super::consent::lock_consents`).

/// Takes the register's lock row for the rest of the transaction; returns its new version
/// (grows with every locked transaction, in commit order).
async fn lock_register<DB>(tx: &mut sqlx::Transaction<'_, DB>) -> StoreResult<i64>
where
    DB: sqlx::Database,
    DB::Row: Columns,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let row = sqlx::query(
        "UPDATE involvement_lock SET version = version + 1 WHERE id = 1 RETURNING version",
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.col("version")?)
}

/// Follows `merged_into` from case `id` to the live case. `NotFound` if unknown.
async fn resolve_case<DB>(tx: &mut sqlx::Transaction<'_, DB>, id: &str) -> StoreResult<Case>
where
    DB: sqlx::Database,
    DB::Row: Columns,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE case_id = $1");
    let mut next = id.to_owned();
    for _ in 0..MAX_MERGE_HOPS {
        let Some(r) = sqlx::query(&sql)
            .bind(next.clone())
            .fetch_optional(&mut **tx)
            .await?
        else {
            break;
        };
        let c = case_from_row(&r)?;
        match c.merged_into.clone() {
            Some(into) => next = into.to_string(),
            None => return Ok(c),
        }
    }
    Err(StoreError::missing("case", id))
}

/// The view of a live case: its active parties and open proposals.
async fn case_view_in<DB>(tx: &mut sqlx::Transaction<'_, DB>, case: Case) -> StoreResult<CaseView>
where
    DB: sqlx::Database,
    DB::Row: Columns,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut parties = Vec::new();
    for r in sqlx::query(&format!("SELECT {INVOLVEMENT_COLUMNS} FROM involvements WHERE case_id = $1 AND ended_at IS NULL ORDER BY org_oin, started_at, involvement_id"))
        .bind(case.id.clone())
        .fetch_all(&mut **tx)
        .await?
    {
        parties.push(involvement_from_row(&r)?);
    }
    let mut proposals = Vec::new();
    for r in sqlx::query(&format!("SELECT {PROPOSAL_COLUMNS} FROM coordinator_proposals WHERE case_id = $1 AND state = 'open' ORDER BY created_at, proposal_id"))
        .bind(case.id.clone())
        .fetch_all(&mut **tx)
        .await?
    {
        proposals.push(proposal_from_row(&r)?);
    }
    Ok(CaseView {
        case,
        parties,
        proposals,
    })
}

/// Sequences `items` into the log and writes each notification with cursor = 1 + its entry's
/// index; on PostgreSQL wakes streams on every instance at commit.
pub(super) async fn log_and_notify<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    items: &[(PendingEntry, Option<Notification>)],
) -> StoreResult<()>
where
    DB: sqlx::Database,
    DB::Row: Columns,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if items.is_empty() {
        return Ok(());
    }
    let entries: Vec<&PendingEntry> = items.iter().map(|(e, _)| e).collect();
    let first = super::sequence_log(tx, &entries).await?;
    let sql = format!(
        "INSERT INTO notifications ({NOTIFICATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    let mut any = false;
    for (i, (_, n)) in items.iter().enumerate() {
        let Some(n) = n else { continue };
        any = true;
        sqlx::query(&sql)
            .bind(&n.recipient_oin)
            .bind(first + i as i64 + 1)
            .bind(n.kind.as_str().to_owned())
            .bind(n.at)
            .bind(&n.actor_oin)
            .bind(&n.actor_professional)
            .bind(n.case_id.as_ref().map(|x| x.to_string()))
            .bind(n.maatregel_id.as_ref().map(|x| x.to_string()))
            .bind(n.involvement_id.as_ref().map(|x| x.to_string()))
            .bind(n.proposal_id.as_ref().map(|x| x.to_string()))
            .bind(n.plan_version.map(i64::from))
            .bind(&n.summary_nl)
            .bind(n.retain_until)
            .bind(n.reference.clone())
            .execute(&mut **tx)
            .await?;
    }
    if any && super::is_postgres::<DB>() {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(super::signal::INBOX_CHANNEL.to_owned())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// What a registration did.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The involvement as stored now.
    pub involvement: Involvement,
    /// Whether an active involvement of this organisation with this person already existed.
    pub already: bool,
    /// The case it belongs to after the registration.
    pub case: Option<CaseView>,
}

/// The callbacks a registration decides and records matches with.
pub trait MatchDecider {
    /// May `from` be disclosed to `to`'s organisation, on `from`'s basis with these consents?
    /// `Err(entry)` records the withheld disclosure.
    fn decide(
        &self,
        from: &Involvement,
        consents: &[Consent],
        to: &Involvement,
    ) -> Result<(), Box<PendingEntry>>;
    /// The entry and notification telling `to` of the parties `new_parties` in case `case_id`.
    fn matched(
        &self,
        to: &Involvement,
        new_parties: &[&Involvement],
        case_id: &crate::ids::CaseId,
    ) -> (PendingEntry, Notification);
}

impl Store {
    /// Whether `org` has an active involvement at `now` with the person stored under any of
    /// `subject`'s pseudonyms.
    pub async fn is_involved(
        &self,
        org: &str,
        subject: &[SubjectPseudonym],
        now: i64,
    ) -> StoreResult<bool> {
        if subject.is_empty() {
            return Ok(false);
        }
        let sql = format!(
            "SELECT 1 FROM involvements WHERE org_oin = $1 AND ended_at IS NULL AND started_at <= $2 AND subject IN ({})",
            super::placeholders(3, subject.len())
        );
        let found = on_pool!(self, p => {
            let mut q = sqlx::query(&sql).bind(org).bind(now);
            for s in subject {
                q = q.bind(s.as_str());
            }
            q.fetch_optional(p).await?.is_some()
        });
        Ok(found)
    }

    /// Registers an involvement (or refreshes the active one of the same organisation and
    /// person), then looks for matches: active involvements of other organisations whose persons
    /// meet this one's, and every party of their cases. When `decider` allows every new
    /// visibility (each party towards each party it did not yet share a case with), they form
    /// one case (merging cases if needed) and each party is told; otherwise nothing is disclosed
    /// and the withheld disclosures are logged.
    ///
    /// `subject_all` is the subject's pseudonym under every key version and `persons_all` every
    /// person's, so that an involvement or a household member stored under an older key version
    /// (before or during a re-key) is still found; `persons` (current version) are stored.
    #[allow(clippy::too_many_arguments)]
    pub async fn register_involvement(
        &self,
        new: &Involvement,
        subject_all: &[SubjectPseudonym],
        persons: &[String],
        persons_all: &[String],
        entry: &PendingEntry,
        case_id_if_new: &crate::ids::CaseId,
        decider: &(dyn MatchDecider + Sync),
    ) -> StoreResult<Registered> {
        let existing_sql = format!(
            "SELECT involvement_id FROM involvements WHERE org_oin = $1 AND ended_at IS NULL AND subject IN ({}) ORDER BY registered_at, involvement_id",
            super::placeholders(2, subject_all.len().max(1))
        );
        let match_sql = format!(
            "SELECT {} FROM involvements i WHERE i.ended_at IS NULL AND i.org_oin <> $2 AND i.involvement_id IN (
                SELECT b.involvement_id FROM involvement_persons b WHERE b.person IN (
                    SELECT a.person FROM involvement_persons a WHERE a.involvement_id = $1)
                OR b.person IN ({})) ORDER BY i.involvement_id",
            INVOLVEMENT_COLUMNS.split(", ").map(|c| format!("i.{c}")).collect::<Vec<_>>().join(", "),
            super::placeholders(3, persons_all.len().max(1))
        );
        let (id, already) = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let seq = lock_register(&mut tx).await?;
            let mut q = sqlx::query_scalar(&existing_sql).bind(&new.org_oin);
            if subject_all.is_empty() {
                q = q.bind(new.subject.as_str());
            }
            for s in subject_all {
                q = q.bind(s.as_str());
            }
            let existing: Option<String> = q.fetch_optional(&mut *tx).await?;
            let already = existing.is_some();
            let id = match existing {
                Some(id) => {
                    sqlx::query("UPDATE involvements SET contact_professional = $2, role = $3, registered_by = $4, basis = $5, subject_facts = $6 WHERE involvement_id = $1")
                        .bind(&id).bind(&new.contact_professional).bind(&new.role).bind(&new.registered_by)
                        .bind(crate::wire::encode_basis(&new.basis)).bind(json(&new.facts)).execute(&mut *tx).await?;
                    id
                }
                None => {
                    sqlx::query(&format!("INSERT INTO involvements ({INVOLVEMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, NULL)"))
                        .bind(&new.id).bind(new.subject.as_str()).bind(&new.org_oin).bind(&new.contact_professional)
                        .bind(&new.role).bind(&new.registered_by).bind(crate::wire::encode_basis(&new.basis)).bind(json(&new.facts))
                        .bind(new.started_at).bind(new.registered_at)
                        .execute(&mut *tx).await?;
                    new.id.to_string()
                }
            };
            for person in persons {
                sqlx::query("INSERT INTO involvement_persons (involvement_id, person) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(&id).bind(person).execute(&mut *tx).await?;
            }
            let me = match sqlx::query(&format!("SELECT {INVOLVEMENT_COLUMNS} FROM involvements WHERE involvement_id = $1")).bind(&id).fetch_optional(&mut *tx).await? {
                Some(r) => involvement_from_row(&r)?,
                None => return Err(StoreError::missing("involvement", id)),
            };
            // Candidates: active involvements of other organisations whose persons meet mine.
            let mut group: Vec<Involvement> = Vec::new();
            let mut q = sqlx::query(&match_sql).bind(&id).bind(&me.org_oin);
            if persons_all.is_empty() {
                q = q.bind(new.subject.as_str());
            }
            for person in persons_all {
                q = q.bind(person);
            }
            for r in q.fetch_all(&mut *tx).await? {
                group.push(involvement_from_row(&r)?);
            }
            // Their cases and mine, with every active party of each.
            let mut cases: Vec<Case> = Vec::new();
            for cid in group.iter().chain(std::iter::once(&me)).filter_map(|i| i.case_id.clone()).collect::<Vec<_>>() {
                let c = resolve_case(&mut tx, &cid).await?;
                if !cases.iter().any(|k| k.id == c.id) {
                    cases.push(c);
                }
            }
            for c in &cases {
                let view = case_view_in(&mut tx, c.clone()).await?;
                for i in view.parties {
                    if i.id != me.id && !group.iter().any(|g| g.id == i.id) {
                        group.push(i);
                    }
                }
            }
            group.insert(0, me.clone());
            // The entry names the involvement actually stored: the existing one on a re-registration.
            let mut own = entry.clone();
            own.entry.reference = Some(id.clone());
            let mut items: Vec<(PendingEntry, Option<Notification>)> = vec![(own, None)];
            // New visibilities: ordered pairs of different organisations not yet in one case.
            let shared = |a: &Involvement, b: &Involvement| a.case_id.is_some() && a.case_id == b.case_id;
            let mut pairs: Vec<(usize, usize)> = Vec::new();
            for (ai, a) in group.iter().enumerate() {
                for (bi, b) in group.iter().enumerate() {
                    if a.org_oin != b.org_oin && !shared(a, b) {
                        pairs.push((ai, bi));
                    }
                }
            }
            if !pairs.is_empty() {
                let mut withheld: Vec<PendingEntry> = Vec::new();
                for &(ai, bi) in &pairs {
                    let ids = group[ai].basis.consent_ids.clone();
                    let consents = super::consent::lock_consents(&mut tx, &ids).await?;
                    if let Err(e) = decider.decide(&group[ai], &consents, &group[bi]) {
                        withheld.push(*e);
                    }
                }
                if withheld.is_empty() {
                    // One case: the oldest existing one, or a new one.
                    cases.sort_by_key(|c| c.seq);
                    let target = match cases.first() {
                        Some(c) => c.clone(),
                        None => {
                            sqlx::query(&format!("INSERT INTO cases ({CASE_COLUMNS}) VALUES ($1, $2, NULL, NULL, 0, NULL, $3)"))
                                .bind(case_id_if_new).bind(entry.entry.at).bind(seq).execute(&mut *tx).await?;
                            Case { id: case_id_if_new.clone(), created_at: entry.entry.at, coordinator_oin: None, coordinator_since: None, plan_version: 0, merged_into: None, seq }
                        }
                    };
                    let mut coordinator = target.coordinator_oin.clone().zip(target.coordinator_since);
                    for other in cases.iter().skip(1) {
                        sqlx::query("UPDATE cases SET merged_into = $2 WHERE case_id = $1").bind(&other.id).bind(&target.id).execute(&mut *tx).await?;
                        sqlx::query("UPDATE involvements SET case_id = $2 WHERE case_id = $1").bind(&other.id).bind(&target.id).execute(&mut *tx).await?;
                        sqlx::query("UPDATE coordinator_proposals SET state = 'superseded', decided_at = $2 WHERE case_id = $1 AND state = 'open'").bind(&other.id).bind(entry.entry.at).execute(&mut *tx).await?;
                        if coordinator.is_none() {
                            coordinator = other.coordinator_oin.clone().zip(other.coordinator_since);
                        }
                    }
                    if let Some((oin, since)) = &coordinator {
                        sqlx::query("UPDATE cases SET coordinator_oin = $2, coordinator_since = $3 WHERE case_id = $1").bind(&target.id).bind(oin).bind(since).execute(&mut *tx).await?;
                    }
                    for g in &group {
                        sqlx::query("UPDATE involvements SET case_id = $2 WHERE involvement_id = $1").bind(&g.id).bind(&target.id).execute(&mut *tx).await?;
                    }
                    // Each involvement learns of the parties it did not see before.
                    for (bi, b) in group.iter().enumerate() {
                        let new_parties: Vec<&Involvement> = pairs.iter().filter(|(_, x)| *x == bi).map(|(a, _)| &group[*a]).collect();
                        if !new_parties.is_empty() {
                            let (e, n) = decider.matched(b, &new_parties, &target.id);
                            items.push((e, Some(n)));
                        }
                    }
                } else {
                    items.extend(withheld.into_iter().map(|e| (e, None)));
                }
            }
            log_and_notify(&mut tx, &items).await?;
            tx.commit().await?;
            (id, already)
        });
        let involvement = self
            .get_involvement(&id)
            .await?
            .ok_or_else(|| StoreError::missing("involvement", id))?;
        let case = match &involvement.case_id {
            Some(c) => Some(self.case_view(c).await?),
            None => None,
        };
        Ok(Registered {
            involvement,
            already,
            case,
        })
    }

    /// Records that `by` confirms `org`'s contact with the person `subject` until `valid_until`
    /// (replacing an earlier confirmation of the same two organisations about the person), with
    /// its log entry, in one transaction; expired confirmations go in the same transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_involvement(
        &self,
        id: &str,
        subject: &SubjectPseudonym,
        org: &str,
        by: &str,
        at: i64,
        valid_until: i64,
        entry: &PendingEntry,
    ) -> StoreResult<()> {
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM involvement_confirmations WHERE valid_until <= $1 OR (subject = $2 AND org_oin = $3 AND confirmed_by_oin = $4)")
                .bind(at).bind(subject.as_str()).bind(org).bind(by).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO involvement_confirmations (confirmation_id, subject, org_oin, confirmed_by_oin, confirmed_at, valid_until) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id).bind(subject.as_str()).bind(org).bind(by).bind(at).bind(valid_until).execute(&mut *tx).await?;
            super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Deletes the confirmations of contact that expired at or before `now` (the retention
    /// sweeper); returns how many.
    pub async fn drop_expired_confirmations(&self, now: i64) -> StoreResult<u64> {
        let n = on_writer!(self, p => sqlx::query("DELETE FROM involvement_confirmations WHERE valid_until <= $1")
            .bind(now).execute(p).await?.rows_affected());
        Ok(n)
    }

    /// Whether some organisation confirmed `org`'s contact with the person stored under any of
    /// `subject`'s pseudonyms, valid at `t`.
    pub async fn is_involvement_confirmed(
        &self,
        org: &str,
        subject: &[SubjectPseudonym],
        t: i64,
    ) -> StoreResult<bool> {
        if subject.is_empty() {
            return Ok(false);
        }
        let sql = format!(
            "SELECT COUNT(*) FROM involvement_confirmations WHERE org_oin = $1 AND valid_until > $2 AND subject IN ({})",
            super::placeholders(3, subject.len())
        );
        let n: i64 = on_pool!(self, p => {
            let mut q = sqlx::query_scalar(&sql).bind(org).bind(t);
            for s in subject {
                q = q.bind(s.as_str());
            }
            q.fetch_one(p).await?
        });
        Ok(n > 0)
    }

    /// One involvement by id.
    pub async fn get_involvement(&self, id: &str) -> StoreResult<Option<Involvement>> {
        let v = on_pool!(self, p => {
            match sqlx::query(&format!("SELECT {INVOLVEMENT_COLUMNS} FROM involvements WHERE involvement_id = $1")).bind(id).fetch_optional(p).await? {
                Some(r) => Some(involvement_from_row(&r)?),
                None => None,
            }
        });
        Ok(v)
    }

    /// The active involvements of `org` with the person stored under any of `subject`'s
    /// pseudonyms.
    pub async fn active_involvements_of(
        &self,
        org: &str,
        subject: &[SubjectPseudonym],
    ) -> StoreResult<Vec<Involvement>> {
        if subject.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {INVOLVEMENT_COLUMNS} FROM involvements WHERE org_oin = $1 AND ended_at IS NULL AND subject IN ({}) ORDER BY involvement_id",
            super::placeholders(2, subject.len())
        );
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            let mut q = sqlx::query(&sql).bind(org);
            for s in subject {
                q = q.bind(s.as_str());
            }
            for r in q.fetch_all(p).await? {
                v.push(involvement_from_row(&r)?);
            }
            v
        });
        Ok(v)
    }

    /// Every active involvement with a person, under any of the stored forms `subject` of its
    /// pseudonym, whichever organisation holds it.
    pub async fn active_involvements_about(
        &self,
        subject: &[String],
    ) -> StoreResult<Vec<Involvement>> {
        if subject.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {INVOLVEMENT_COLUMNS} FROM involvements WHERE ended_at IS NULL AND subject IN ({}) ORDER BY involvement_id",
            super::placeholders(1, subject.len())
        );
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            let mut q = sqlx::query(&sql);
            for s in subject {
                q = q.bind(s.as_str());
            }
            for r in q.fetch_all(p).await? {
                v.push(involvement_from_row(&r)?);
            }
            v
        });
        Ok(v)
    }

    /// A live case (following merges) with its active parties and open proposals.
    pub async fn case_view(&self, case_id: &str) -> StoreResult<CaseView> {
        // Read through the writer on SQLite: a view right after a write must see it.
        let v = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let c = resolve_case(&mut tx, case_id).await?;
            let v = case_view_in(&mut tx, c).await?;
            tx.commit().await?;
            v
        });
        Ok(v)
    }

    /// Ends `org`'s involvement `id` at `at`, keeping it until `retain_until`. The other parties
    /// of its case are told (`told(recipient involvement)`); when the organisation has no other
    /// active involvement left in the case, it stops coordinating and its open proposals lapse.
    pub async fn end_involvement(
        &self,
        id: &str,
        org: &str,
        at: i64,
        retain_until: i64,
        entry: &PendingEntry,
        told: impl Fn(&Involvement) -> (PendingEntry, Notification),
    ) -> StoreResult<Involvement> {
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            lock_register(&mut tx).await?;
            let me = match sqlx::query(&format!("SELECT {INVOLVEMENT_COLUMNS} FROM involvements WHERE involvement_id = $1 AND org_oin = $2")).bind(id).bind(org).fetch_optional(&mut *tx).await? {
                Some(r) => involvement_from_row(&r)?,
                None => return Err(StoreError::missing("involvement", id)),
            };
            if me.ended_at.is_some() {
                return Err(StoreError::in_state("involvement", id, "ended"));
            }
            sqlx::query("UPDATE involvements SET ended_at = $2, retain_until = $3 WHERE involvement_id = $1")
                .bind(id).bind(at).bind(retain_until).execute(&mut *tx).await?;
            let mut items: Vec<(PendingEntry, Option<Notification>)> = vec![(entry.clone(), None)];
            if let Some(cid) = &me.case_id {
                let c = resolve_case(&mut tx, cid).await?;
                let view = case_view_in(&mut tx, c).await?;
                if !view.has_party(org) {
                    if view.case.coordinator_oin.as_deref() == Some(org) {
                        sqlx::query("UPDATE cases SET coordinator_oin = NULL, coordinator_since = NULL WHERE case_id = $1").bind(&view.case.id).execute(&mut *tx).await?;
                    }
                    sqlx::query("UPDATE coordinator_proposals SET state = 'superseded', decided_at = $3 WHERE case_id = $1 AND state = 'open' AND (proposed_oin = $2 OR proposed_by_oin = $2)")
                        .bind(&view.case.id).bind(org).bind(at).execute(&mut *tx).await?;
                }
                for other in view.parties.iter().filter(|i| i.org_oin != org) {
                    let (e, n) = told(other);
                    items.push((e, Some(n)));
                }
            }
            log_and_notify(&mut tx, &items).await?;
            tx.commit().await?;
        });
        self.get_involvement(id)
            .await?
            .ok_or_else(|| StoreError::missing("involvement", id))
    }

    /// Proposes `proposed` as coordinator of the case, by `by`. A self-proposal takes effect at
    /// once. `Conflict` when either is not an active party. `record(view, proposal)` gives the
    /// entries and notifications.
    #[allow(clippy::too_many_arguments)]
    pub async fn propose_coordinator(
        &self,
        case_id: &crate::ids::CaseId,
        proposal_id: &crate::ids::ProposalId,
        by: &crate::ids::Oin,
        proposed: &crate::ids::Oin,
        at: i64,
        record: impl Fn(&CaseView, &Proposal) -> Vec<(PendingEntry, Option<Notification>)>,
    ) -> StoreResult<(Proposal, CaseView)> {
        let live = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            lock_register(&mut tx).await?;
            let c = resolve_case(&mut tx, case_id).await?;
            let view = case_view_in(&mut tx, c).await?;
            if !view.has_party(by) {
                return Err(StoreError::missing("case", case_id));
            }
            if !view.has_party(proposed) {
                return Err(StoreError::Conflict(Clash::NotAParty { case_id: case_id.clone(), oin: proposed.clone() }));
            }
            let mut proposal = Proposal {
                id: proposal_id.clone(),
                case_id: view.case.id.clone(),
                proposed_oin: proposed.clone(),
                proposed_by_oin: by.clone(),
                state: ProposalState::Open,
                created_at: at,
                decided_at: None,
                accepted_by: Vec::new(),
            };
            // Effective at once only when no other party has to accept it.
            let own = proposal.awaiting(&view).is_empty();
            if own {
                proposal.state = ProposalState::Accepted;
                proposal.decided_at = Some(at);
            }
            sqlx::query(&format!("INSERT INTO coordinator_proposals ({PROPOSAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
                .bind(&proposal.id).bind(&proposal.case_id).bind(&proposal.proposed_oin).bind(&proposal.proposed_by_oin)
                .bind(proposal.state.as_str()).bind(at).bind(proposal.decided_at).bind(json(&proposal.accepted_by)).execute(&mut *tx).await?;
            if own {
                sqlx::query("UPDATE cases SET coordinator_oin = $2, coordinator_since = $3 WHERE case_id = $1").bind(&view.case.id).bind(proposed).bind(at).execute(&mut *tx).await?;
                sqlx::query("UPDATE coordinator_proposals SET state = 'superseded', decided_at = $2 WHERE case_id = $1 AND state = 'open'").bind(&view.case.id).bind(at).execute(&mut *tx).await?;
            }
            let items = record(&view, &proposal);
            log_and_notify(&mut tx, &items).await?;
            tx.commit().await?;
            (proposal, view.case.id)
        });
        let view = self.case_view(&live.1).await?;
        Ok((live.0, view))
    }

    /// One proposal.
    pub async fn get_proposal(&self, id: &str) -> StoreResult<Option<Proposal>> {
        let v = on_pool!(self, p => {
            match sqlx::query(&format!("SELECT {PROPOSAL_COLUMNS} FROM coordinator_proposals WHERE proposal_id = $1")).bind(id).fetch_optional(p).await? {
                Some(r) => Some(proposal_from_row(&r)?),
                None => None,
            }
        });
        Ok(v)
    }

    /// The proposed organisation `by` accepts or declines an open proposal. `NotFound` unless it
    /// is open and proposes `by`; `Conflict` when `by` is no longer an active party.
    pub async fn respond_to_proposal(
        &self,
        proposal_id: &str,
        by: &str,
        accept: bool,
        at: i64,
        record: impl Fn(&CaseView, &Proposal) -> Vec<(PendingEntry, Option<Notification>)>,
    ) -> StoreResult<(Proposal, CaseView)> {
        let case_id = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            lock_register(&mut tx).await?;
            let mut proposal = match sqlx::query(&format!("SELECT {PROPOSAL_COLUMNS} FROM coordinator_proposals WHERE proposal_id = $1 AND state = 'open'"))
                .bind(proposal_id).fetch_optional(&mut *tx).await? {
                Some(r) => proposal_from_row(&r)?,
                None => return Err(StoreError::missing("open proposal", proposal_id)),
            };
            let c = resolve_case(&mut tx, &proposal.case_id).await?;
            let view = case_view_in(&mut tx, c).await?;
            // Only the parties it waits for answer it; to anyone else it does not exist.
            if !proposal.awaiting(&view).iter().any(|o| o == by) {
                return Err(StoreError::missing("open proposal", proposal_id));
            }
            if accept {
                proposal.accepted_by.push(by.parse().map_err(|_| StoreError::Corrupt("proposal responder"))?);
                if proposal.awaiting(&view).is_empty() {
                    proposal.state = ProposalState::Accepted;
                    proposal.decided_at = Some(at);
                }
            } else {
                proposal.state = ProposalState::Declined;
                proposal.decided_at = Some(at);
            }
            sqlx::query("UPDATE coordinator_proposals SET state = $2, decided_at = $3, accepted_by = $4 WHERE proposal_id = $1")
                .bind(proposal_id).bind(proposal.state.as_str()).bind(proposal.decided_at).bind(json(&proposal.accepted_by)).execute(&mut *tx).await?;
            if proposal.state == ProposalState::Accepted {
                sqlx::query("UPDATE cases SET coordinator_oin = $2, coordinator_since = $3 WHERE case_id = $1").bind(&view.case.id).bind(&proposal.proposed_oin).bind(at).execute(&mut *tx).await?;
                sqlx::query("UPDATE coordinator_proposals SET state = 'superseded', decided_at = $2 WHERE case_id = $1 AND state = 'open'").bind(&view.case.id).bind(at).execute(&mut *tx).await?;
            }
            let items = record(&view, &proposal);
            log_and_notify(&mut tx, &items).await?;
            tx.commit().await?;
            (proposal, view.case.id)
        });
        let view = self.case_view(&case_id.1).await?;
        Ok((case_id.0, view))
    }

    /// Publishes safety plan version `plan.version` of the case (it must be the latest + 1, else
    /// `Conflict`). `decide(view, consents)` runs inside the transaction with the consents
    /// locked: `Ok(items)` publishes and records them; `Err((entries, e))` records the refusal and
    /// returns `Ok(Err(e))`.
    pub async fn publish_plan<E>(
        &self,
        plan: &PlanVersion,
        consent_ids: &[crate::ids::ConsentId],
        decide: impl FnOnce(
            &CaseView,
            &[Consent],
        )
            -> Result<Vec<(PendingEntry, Option<Notification>)>, (Vec<PendingEntry>, E)>,
    ) -> StoreResult<Result<PlanVersion, E>> {
        let refused = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            lock_register(&mut tx).await?;
            let c = resolve_case(&mut tx, &plan.case_id).await?;
            if c.id != plan.case_id {
                return Err(StoreError::Conflict(Clash::Merged { case_id: plan.case_id.clone(), into: c.id.clone() }));
            }
            if c.plan_version.checked_add(1) != Some(plan.version) {
                return Err(StoreError::Conflict(Clash::Stale { record: Record::new("safety plan of case", &plan.case_id), version: plan.version, latest: c.plan_version }));
            }
            let view = case_view_in(&mut tx, c).await?;
            let consents = super::consent::lock_consents(&mut tx, consent_ids).await?;
            match decide(&view, &consents) {
                Ok(items) => {
                    sqlx::query(&format!("INSERT INTO safety_plans ({PLAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"))
                        .bind(&plan.case_id).bind(i64::from(plan.version)).bind(&plan.author_oin).bind(&plan.author_professional)
                        .bind(&plan.envelope).bind(json(&plan.sealed_to)).bind(json(&plan.agreements)).bind(plan.published_at).bind(plan.retain_until)
                        .bind(&plan.request_hash).bind(&plan.content_digest)
                        .bind(plan.review_at).bind(plan.review_at.map(|_| "planned"))
                        .execute(&mut *tx).await?;
                    // A newer version replaces the review planned with an earlier one.
                    sqlx::query("UPDATE safety_plans SET review_state = 'superseded' WHERE case_id = $1 AND version < $2 AND review_state = 'planned'")
                        .bind(&plan.case_id).bind(i64::from(plan.version)).execute(&mut *tx).await?;
                    sqlx::query("UPDATE cases SET plan_version = $2 WHERE case_id = $1").bind(&plan.case_id).bind(i64::from(plan.version)).execute(&mut *tx).await?;
                    log_and_notify(&mut tx, &items).await?;
                    tx.commit().await?;
                    None
                }
                Err((entries, e)) => {
                    if !entries.is_empty() {
                        super::sequence_log(&mut tx, &entries).await?;
                    }
                    tx.commit().await?;
                    Some(e)
                }
            }
        });
        if let Some(e) = refused {
            return Ok(Err(e));
        }
        self.get_plan(&plan.case_id, plan.version)
            .await?
            .map(Ok)
            .ok_or_else(|| {
                StoreError::missing("safety plan", format!("{}.v{}", plan.case_id, plan.version))
            })
    }

    /// A safety plan version (0: the latest) with its confirmations.
    pub async fn get_plan(&self, case_id: &str, version: u32) -> StoreResult<Option<PlanVersion>> {
        let v = on_writer!(self, p => {
            let row = if version == 0 {
                sqlx::query(&format!("SELECT {PLAN_COLUMNS} FROM safety_plans WHERE case_id = $1 ORDER BY version DESC LIMIT 1")).bind(case_id).fetch_optional(p).await?
            } else {
                sqlx::query(&format!("SELECT {PLAN_COLUMNS} FROM safety_plans WHERE case_id = $1 AND version = $2")).bind(case_id).bind(i64::from(version)).fetch_optional(p).await?
            };
            match row {
                None => None,
                Some(r) => {
                    let mut plan = plan_from_row(&r)?;
                    let rows: Vec<(String, String, i64)> = sqlx::query_as("SELECT agreement_id, oin, confirmed_at FROM safety_plan_confirmations WHERE case_id = $1 AND version = $2 ORDER BY confirmed_at, agreement_id, oin")
                        .bind(case_id).bind(i64::from(plan.version)).fetch_all(p).await?;
                    plan.confirmations = rows.into_iter().map(|(agreement_id, oin, confirmed_at)| Ok(Confirmation {
                        agreement_id: agreement_id.parse().map_err(|_| StoreError::Corrupt("safety_plan_confirmations.agreement_id"))?,
                        oin: oin.parse().map_err(|_| StoreError::Corrupt("safety_plan_confirmations.oin"))?,
                        confirmed_at,
                    })).collect::<StoreResult<_>>()?;
                    Some(plan)
                }
            }
        });
        Ok(v)
    }

    /// Records `org`'s confirmation of `agreement_ids` of a plan version, with the entries and
    /// notifications `record(view)` gives, when `org` is still an active party of the case.
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_plan(
        &self,
        case_id: &str,
        version: u32,
        org: &str,
        professional: &str,
        agreement_ids: &[String],
        at: i64,
        record: impl Fn(&CaseView) -> Vec<(PendingEntry, Option<Notification>)>,
    ) -> StoreResult<()> {
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            lock_register(&mut tx).await?;
            let c = resolve_case(&mut tx, case_id).await?;
            let view = case_view_in(&mut tx, c).await?;
            if !view.has_party(org) {
                return Err(StoreError::missing("case", case_id));
            }
            for a in agreement_ids {
                sqlx::query("INSERT INTO safety_plan_confirmations (case_id, version, agreement_id, oin, professional, confirmed_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING")
                    .bind(case_id).bind(i64::from(version)).bind(a).bind(org).bind(professional).bind(at)
                    .execute(&mut *tx).await?;
            }
            let items = record(&view);
            log_and_notify(&mut tx, &items).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records entries with their notifications in one transaction (e.g. a maatregel query and
    /// the notice to each responsible organisation).
    pub async fn log_with_notifications(
        &self,
        items: &[(PendingEntry, Option<Notification>)],
    ) -> StoreResult<()> {
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            log_and_notify(&mut tx, items).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// `oin`'s notifications after `after`, in cursor order.
    pub async fn notifications_after(
        &self,
        oin: &str,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<Notification>> {
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            for r in sqlx::query(&format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE recipient_oin = $1 AND cursor > $2 AND erased_at IS NULL ORDER BY cursor LIMIT $3"))
                .bind(oin).bind(i64::try_from(after).unwrap_or(i64::MAX)).bind(i64::from(limit)).fetch_all(p).await? {
                v.push(notification_from_row(&r)?);
            }
            v
        });
        Ok(v)
    }
}
