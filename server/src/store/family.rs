//! The family's rights (issue 20): the duties to inform the family that disclosures leave
//! (written by `sequence_log` with the disclosure's entry, closed here), the family's requests
//! about their data, and the notices a granted request sends to the organisations that received
//! the data. Every act is sequenced into the disclosure log in its own transaction.
use super::involvement::log_and_notify;
use super::{Columns, Store, StoreError, StoreResult, json, parse};
use crate::domain::family::{
    FamilyRequest, InformAct, InformClose, InformObligation, InformState, RequestKind,
    RequestNotice, RequestState,
};
use crate::domain::involvement::Notification;
use crate::ledger::PendingEntry;

const OBLIGATION_COLUMNS: &str = "log_idx, org_oin, event, reference, recipient_oin, purpose, created_at, state, act, informed_on, ground, closed_role, closed_professional, closed_at, overdue_notified_at";
const REQUEST_COLUMNS: &str = "org_oin, request_id, kind, received_on, scope, recorded_idx, recorded_role, recorded_professional, recorded_at, state, decision_reason, decided_role, decided_professional, decided_at";
const NOTICE_COLUMNS: &str = "org_oin, request_id, recipient_oin, kind, refs, notified_at, acknowledged_at, acknowledged_role, acknowledged_professional";

/// Text that is empty when absent.
fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A text column that is empty when absent, parsed.
fn parsed_non_empty<T: std::str::FromStr>(
    r: &impl Columns,
    name: &'static str,
) -> StoreResult<Option<T>> {
    non_empty(r.col::<String>(name)?)
        .map(|s| s.parse().map_err(|_| StoreError::Corrupt(name)))
        .transpose()
}

fn index(v: i64, column: &'static str) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(column))
}

fn db_index(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn obligation_from_row(r: &impl Columns) -> StoreResult<InformObligation> {
    Ok(InformObligation {
        log_index: index(r.col("log_idx")?, "inform_obligations.log_idx")?,
        org_oin: r.parsed("org_oin")?,
        event: r.col("event")?,
        reference: non_empty(r.col("reference")?),
        recipient_oin: parsed_non_empty(r, "recipient_oin")?,
        purpose: parsed_non_empty(r, "purpose")?,
        created_at: r.col("created_at")?,
        state: InformState::from_code(&r.col::<String>("state")?)
            .ok_or(StoreError::Corrupt("inform_obligations.state"))?,
        act: non_empty(r.col("act")?)
            .map(|a| InformAct::from_code(&a).ok_or(StoreError::Corrupt("inform_obligations.act")))
            .transpose()?,
        informed_on: r.col("informed_on")?,
        ground: non_empty(r.col("ground")?),
        closed_role: parsed_non_empty(r, "closed_role")?,
        closed_professional: r.col("closed_professional")?,
        closed_at: r.col("closed_at")?,
        overdue_notified_at: r.col("overdue_notified_at")?,
    })
}

fn request_from_row(r: &impl Columns) -> StoreResult<FamilyRequest> {
    Ok(FamilyRequest {
        org_oin: r.parsed("org_oin")?,
        request_id: r.parsed("request_id")?,
        kind: RequestKind::from_code(&r.col::<String>("kind")?)
            .ok_or(StoreError::Corrupt("family_requests.kind"))?,
        received_on: r.col("received_on")?,
        scope: parse(&r.col::<String>("scope")?, "family_requests.scope")?,
        recorded_idx: index(r.col("recorded_idx")?, "family_requests.recorded_idx")?,
        recorded_role: r.parsed("recorded_role")?,
        recorded_professional: r.col("recorded_professional")?,
        recorded_at: r.col("recorded_at")?,
        state: RequestState::from_code(&r.col::<String>("state")?)
            .ok_or(StoreError::Corrupt("family_requests.state"))?,
        decision_reason: non_empty(r.col("decision_reason")?),
        decided_role: parsed_non_empty(r, "decided_role")?,
        decided_professional: r.col("decided_professional")?,
        decided_at: r.col("decided_at")?,
        notices: Vec::new(),
    })
}

fn notice_from_row(r: &impl Columns) -> StoreResult<RequestNotice> {
    Ok(RequestNotice {
        org_oin: r.parsed("org_oin")?,
        request_id: r.parsed("request_id")?,
        recipient_oin: r.parsed("recipient_oin")?,
        kind: RequestKind::from_code(&r.col::<String>("kind")?)
            .ok_or(StoreError::Corrupt("family_request_notices.kind"))?,
        references: parse(&r.col::<String>("refs")?, "family_request_notices.refs")?,
        notified_at: r.col("notified_at")?,
        acknowledged_at: r.col("acknowledged_at")?,
        acknowledged_role: parsed_non_empty(r, "acknowledged_role")?,
        acknowledged_professional: r.col("acknowledged_professional")?,
    })
}

/// Which obligations [`Store::inform_obligations`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ObligationFilter {
    /// Only those in this state.
    pub state: Option<InformState>,
    /// Only open ones of disclosures made at or before this moment (overdue ones).
    pub created_at_or_before: Option<i64>,
}

impl Store {
    /// An organisation's duties to inform the family, in log order after `after` (a log index),
    /// at most `limit`.
    pub async fn inform_obligations(
        &self,
        org: &str,
        filter: ObligationFilter,
        after: Option<u64>,
        limit: u32,
    ) -> StoreResult<Vec<InformObligation>> {
        let after = after.map_or(-1, db_index);
        let state = match (filter.created_at_or_before, filter.state) {
            (Some(_), _) => Some(InformState::Open),
            (None, s) => s,
        };
        let sql = format!(
            "SELECT {OBLIGATION_COLUMNS} FROM inform_obligations WHERE org_oin = $1 AND log_idx > $2{}{} ORDER BY log_idx LIMIT $3",
            if state.is_some() {
                " AND state = $4"
            } else {
                ""
            },
            match (filter.created_at_or_before, state.is_some()) {
                (Some(_), true) => " AND created_at <= $5",
                _ => "",
            },
        );
        let rows = on_pool!(self, p => {
            let mut q = sqlx::query(&sql).bind(org).bind(after).bind(i64::from(limit.max(1)));
            if let Some(s) = state {
                q = q.bind(s.code());
            }
            if let Some(t) = filter.created_at_or_before {
                q = q.bind(t);
            }
            q.fetch_all(p).await?.iter().map(obligation_from_row).collect::<StoreResult<Vec<_>>>()?
        });
        Ok(rows)
    }

    /// One of an organisation's duties to inform the family, by its disclosure's log index.
    pub async fn inform_obligation(
        &self,
        org: &str,
        log_index: u64,
    ) -> StoreResult<Option<InformObligation>> {
        let sql = format!(
            "SELECT {OBLIGATION_COLUMNS} FROM inform_obligations WHERE org_oin = $1 AND log_idx = $2"
        );
        let row = on_pool!(self, p => match sqlx::query(&sql).bind(org).bind(db_index(log_index)).fetch_optional(p).await? {
            Some(r) => Some(obligation_from_row(&r)?),
            None => None,
        });
        Ok(row)
    }

    /// Closes an open duty to inform the family with its log entry. `NotFound` when the
    /// organisation has no such obligation; `Conflict` when it was closed before.
    pub async fn close_inform_obligation(
        &self,
        org: &str,
        log_index: u64,
        close: &InformClose,
        entry: &PendingEntry,
    ) -> StoreResult<InformObligation> {
        let (state, act, on, ground) = match close {
            InformClose::Informed { act, on } => {
                (InformState::Informed, act.code(), Some(*on), String::new())
            }
            InformClose::Exempted { ground } => (InformState::Exempted, "", None, ground.clone()),
        };
        let e = &entry.entry;
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE inform_obligations SET state = $3, act = $4, informed_on = $5, ground = $6, closed_role = $7, closed_professional = $8, closed_at = $9 WHERE org_oin = $1 AND log_idx = $2 AND state = 'OPEN'")
                .bind(org).bind(db_index(log_index)).bind(state.code()).bind(act).bind(on).bind(&ground)
                .bind(&e.actor_role).bind(&entry.professional).bind(e.at)
                .execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                let found: Option<String> = sqlx::query_scalar("SELECT state FROM inform_obligations WHERE org_oin = $1 AND log_idx = $2")
                    .bind(org).bind(db_index(log_index)).fetch_optional(&mut *tx).await?;
                tx.rollback().await?;
                return Err(match found {
                    None => StoreError::missing("inform obligation", log_index),
                    Some(s) => StoreError::in_state("inform obligation", log_index, s),
                });
            }
            super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
            tx.commit().await?;
        });
        self.inform_obligation(org, log_index)
            .await?
            .ok_or_else(|| StoreError::missing("inform obligation", log_index))
    }

    /// Records a family's request with its log entry; the stored request carries the entry's
    /// log index (`recorded_idx`). `Conflict` when the id is taken.
    pub async fn insert_family_request(
        &self,
        r: &FamilyRequest,
        entry: &PendingEntry,
    ) -> StoreResult<FamilyRequest> {
        let idx = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let taken: Option<i64> = sqlx::query_scalar("SELECT recorded_idx FROM family_requests WHERE org_oin = $1 AND request_id = $2")
                .bind(&r.org_oin).bind(&r.request_id).fetch_optional(&mut *tx).await?;
            if taken.is_some() {
                tx.rollback().await?;
                return Err(StoreError::taken("family request", &r.request_id));
            }
            let idx = super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
            sqlx::query(&format!("INSERT INTO family_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '', '', '', NULL)"))
                .bind(&r.org_oin).bind(&r.request_id).bind(r.kind.code()).bind(r.received_on)
                .bind(json(&r.scope)).bind(idx).bind(&r.recorded_role).bind(&r.recorded_professional)
                .bind(r.recorded_at).bind(RequestState::Open.code())
                .execute(&mut *tx).await?;
            tx.commit().await?;
            idx
        });
        Ok(FamilyRequest {
            recorded_idx: index(idx, "family_requests.recorded_idx")?,
            state: RequestState::Open,
            notices: Vec::new(),
            ..r.clone()
        })
    }

    /// A family's request at an organisation, with the notices it sent.
    pub async fn get_family_request(
        &self,
        org: &str,
        request_id: &str,
    ) -> StoreResult<Option<FamilyRequest>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM family_requests WHERE org_oin = $1 AND request_id = $2"
        );
        let nsql = format!(
            "SELECT {NOTICE_COLUMNS} FROM family_request_notices WHERE org_oin = $1 AND request_id = $2 ORDER BY notified_at, recipient_oin"
        );
        let found = on_pool!(self, p => {
            match sqlx::query(&sql).bind(org).bind(request_id).fetch_optional(p).await? {
                None => None,
                Some(row) => {
                    let mut r = request_from_row(&row)?;
                    r.notices = sqlx::query(&nsql).bind(org).bind(request_id).fetch_all(p).await?
                        .iter().map(notice_from_row).collect::<StoreResult<Vec<_>>>()?;
                    Some(r)
                }
            }
        });
        Ok(found)
    }

    /// An organisation's family requests in the order recorded, after the one recorded at log
    /// index `after`, at most `limit`, each with its notices.
    pub async fn family_requests_of(
        &self,
        org: &str,
        after: Option<u64>,
        limit: u32,
    ) -> StoreResult<Vec<FamilyRequest>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM family_requests WHERE org_oin = $1 AND recorded_idx > $2 ORDER BY recorded_idx LIMIT $3"
        );
        let after = after.map_or(-1, db_index);
        let found = on_pool!(self, p => {
            let mut out: Vec<FamilyRequest> = sqlx::query(&sql).bind(org).bind(after).bind(i64::from(limit.max(1))).fetch_all(p).await?
                .iter().map(request_from_row).collect::<StoreResult<Vec<_>>>()?;
            // The page's notices in one read (not one per request).
            if !out.is_empty() {
                let nsql = format!(
                    "SELECT {NOTICE_COLUMNS} FROM family_request_notices WHERE org_oin = $1 AND request_id IN ({}) ORDER BY notified_at, recipient_oin",
                    super::placeholders(2, out.len())
                );
                let mut q = sqlx::query(&nsql).bind(org);
                for r in &out {
                    q = q.bind(r.request_id.as_str());
                }
                for row in q.fetch_all(p).await? {
                    let n = notice_from_row(&row)?;
                    if let Some(r) = out.iter_mut().find(|r| r.request_id == n.request_id) {
                        r.notices.push(n);
                    }
                }
            }
            out
        });
        Ok(found)
    }

    /// Decides an open request: its state and reason, the notices to the organisations that
    /// received the data (a granted request), and the entries and notifications, in one
    /// transaction. `NotFound` for no such request; `Conflict` when it was decided before.
    pub async fn decide_family_request(
        &self,
        decided: &FamilyRequest,
        items: &[(PendingEntry, Option<Notification>)],
    ) -> StoreResult<()> {
        let r = decided;
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE family_requests SET state = $3, decision_reason = $4, decided_role = $5, decided_professional = $6, decided_at = $7 WHERE org_oin = $1 AND request_id = $2 AND state = 'OPEN'")
                .bind(&r.org_oin).bind(&r.request_id).bind(r.state.code())
                .bind(r.decision_reason.clone().unwrap_or_default())
                .bind(r.decided_role.as_ref().map(|x| x.to_string()).unwrap_or_default())
                .bind(&r.decided_professional).bind(r.decided_at)
                .execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                let found: Option<String> = sqlx::query_scalar("SELECT state FROM family_requests WHERE org_oin = $1 AND request_id = $2")
                    .bind(&r.org_oin).bind(&r.request_id).fetch_optional(&mut *tx).await?;
                tx.rollback().await?;
                return Err(match found {
                    None => StoreError::missing("family request", &r.request_id),
                    Some(s) => StoreError::in_state("family request", &r.request_id, s),
                });
            }
            for n in &r.notices {
                sqlx::query(&format!("INSERT INTO family_request_notices ({NOTICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, NULL, '', '')"))
                    .bind(&n.org_oin).bind(&n.request_id).bind(&n.recipient_oin).bind(n.kind.code())
                    .bind(json(&n.references)).bind(n.notified_at)
                    .execute(&mut *tx).await?;
            }
            log_and_notify(&mut tx, items).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The notices of granted requests told to `recipient`, newest first, at most `limit`;
    /// with `open_only`, those it has not acknowledged.
    pub async fn family_request_notices_for(
        &self,
        recipient: &str,
        open_only: bool,
        limit: u32,
    ) -> StoreResult<Vec<RequestNotice>> {
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM family_request_notices WHERE recipient_oin = $1{} ORDER BY notified_at DESC, org_oin, request_id LIMIT $2",
            if open_only {
                " AND acknowledged_at IS NULL"
            } else {
                ""
            }
        );
        let rows = on_pool!(self, p => sqlx::query(&sql).bind(recipient).bind(i64::from(limit.max(1))).fetch_all(p).await?
            .iter().map(notice_from_row).collect::<StoreResult<Vec<_>>>()?);
        Ok(rows)
    }

    /// The notice of request `request_id` of `org` told to `recipient`, if it was told.
    pub async fn family_request_notice(
        &self,
        org: &str,
        request_id: &str,
        recipient: &str,
    ) -> StoreResult<Option<RequestNotice>> {
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM family_request_notices WHERE org_oin = $1 AND request_id = $2 AND recipient_oin = $3"
        );
        let n = on_pool!(self, p => match sqlx::query(&sql).bind(org).bind(request_id).bind(recipient).fetch_optional(p).await? {
            Some(r) => Some(notice_from_row(&r)?),
            None => None,
        });
        Ok(n)
    }

    /// The recipient confirms it acted on a notice, with its log entry. `NotFound` when it was
    /// not told of that request; `Conflict` when it confirmed before.
    pub async fn acknowledge_family_request_notice(
        &self,
        recipient: &str,
        org: &str,
        request_id: &str,
        entry: &PendingEntry,
    ) -> StoreResult<RequestNotice> {
        let e = &entry.entry;
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM family_request_notices WHERE org_oin = $1 AND request_id = $2 AND recipient_oin = $3"
        );
        let n = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE family_request_notices SET acknowledged_at = $4, acknowledged_role = $5, acknowledged_professional = $6 WHERE org_oin = $1 AND request_id = $2 AND recipient_oin = $3 AND acknowledged_at IS NULL")
                .bind(org).bind(request_id).bind(recipient).bind(e.at).bind(&e.actor_role).bind(&entry.professional)
                .execute(&mut *tx).await?;
            let row = sqlx::query(&sql).bind(org).bind(request_id).bind(recipient).fetch_optional(&mut *tx).await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(match row {
                    None => StoreError::missing("family request notice", request_id),
                    Some(_) => StoreError::in_state("family request notice", request_id, "acknowledged"),
                });
            }
            let n = match row {
                Some(r) => notice_from_row(&r)?,
                None => return Err(StoreError::missing("family request notice", request_id)),
            };
            super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
            tx.commit().await?;
            n
        });
        Ok(n)
    }
}
