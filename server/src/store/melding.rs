//! Veilig Thuis's follow-up of a melding: the stages it records (with the review it plans), its
//! information requests with their answers, and the reminders the hub gives when a review falls
//! due or a handover stays unanswered. Every act is sequenced into the disclosure log in its own
//! transaction; a reminder is claimed (planned -> reminded) in the transaction that logs it, so
//! instances sharing a store tell it once.
use super::involvement::log_and_notify;
use super::{Columns, Store, StoreError, StoreResult, json, parse};
use crate::domain::involvement::Notification;
use crate::domain::zorgmelding::{
    DeclineReason, InformationAnswer, InformationRequest, InformationState, MeldingListing,
    MeldingPageKey, MeldingStage, ReviewState, StageRecord,
};
use crate::ids::{CaseId, HandoverId, InformationRequestId, MeldingRef, Oin, Purpose};
use crate::ledger::PendingEntry;

const STAGE_COLUMNS: &str = "vt_oin, melding_id, seq, stage, review_at, review_state, subjects, purpose, role, professional, set_at";
/// The columns of Veilig Thuis's overview of its meldingen (`vt_meldingen`), in insert order.
pub(super) const OVERVIEW_COLUMNS: &str =
    "vt_oin, melding_id, kind, received_at, arrival_key, stage, review_key";
const REQUEST_COLUMNS: &str = "vt_oin, request_id, request_hash, content_digest, melding_id, recipient_oin, subjects, categories, case_reference, question, basis, role, professional, requested_at, state, answer, answer_digest, answer_categories, answer_basis, decline_reason, answered_role, answered_professional, answered_at, retain_until";

/// Builds a stage from a row with the columns of [`STAGE_COLUMNS`].
fn stage_from_row(r: &impl Columns) -> StoreResult<StageRecord> {
    Ok(StageRecord {
        vt_oin: r.parsed("vt_oin")?,
        melding: r.parsed("melding_id")?,
        seq: u32::try_from(r.col::<i64>("seq")?)
            .map_err(|_| StoreError::Corrupt("melding_stages.seq"))?,
        stage: MeldingStage::from_code(&r.col::<String>("stage")?)
            .ok_or(StoreError::Corrupt("melding_stages.stage"))?,
        review_at: r.col("review_at")?,
        review_state: review_state(r.col("review_state")?, "melding_stages.review_state")?,
        subjects: parse(&r.col::<String>("subjects")?, "melding_stages.subjects")?,
        purpose: r.parsed("purpose")?,
        role: r.parsed("role")?,
        professional: r.col("professional")?,
        set_at: r.col("set_at")?,
    })
}

/// A stored review state (`None`: no review planned).
fn review_state(s: Option<String>, column: &'static str) -> StoreResult<Option<ReviewState>> {
    s.map(|s| ReviewState::parse(&s).ok_or(StoreError::Corrupt(column)))
        .transpose()
}

/// Builds an information request from a row with the columns of [`REQUEST_COLUMNS`].
fn request_from_row(r: &impl Columns) -> StoreResult<InformationRequest> {
    let state = InformationState::parse(&r.col::<String>("state")?)
        .ok_or(StoreError::Corrupt("information_requests.state"))?;
    let answer = match r.col::<Option<i64>>("answered_at")? {
        None => None,
        Some(answered_at) => {
            let reason: String = r.col("decline_reason")?;
            Some(InformationAnswer {
                answer: r.col("answer")?,
                answer_digest: r.col("answer_digest")?,
                categories: parse(
                    &r.col::<String>("answer_categories")?,
                    "information_requests.answer_categories",
                )?,
                basis: r
                    .col::<Option<Vec<u8>>>("answer_basis")?
                    .map(|b| crate::wire::decode_basis(&b)),
                decline_reason: if reason.is_empty() {
                    None
                } else {
                    Some(
                        DeclineReason::from_code(&reason)
                            .ok_or(StoreError::Corrupt("information_requests.decline_reason"))?,
                    )
                },
                role: r.parsed("answered_role")?,
                professional: r.col("answered_professional")?,
                answered_at,
            })
        }
    };
    Ok(InformationRequest {
        vt_oin: r.parsed("vt_oin")?,
        request_id: r.parsed("request_id")?,
        request_hash: r.col("request_hash")?,
        content_digest: r.col("content_digest")?,
        melding: r.parsed("melding_id")?,
        recipient_oin: r.parsed("recipient_oin")?,
        subjects: parse(
            &r.col::<String>("subjects")?,
            "information_requests.subjects",
        )?,
        categories: parse(
            &r.col::<String>("categories")?,
            "information_requests.categories",
        )?,
        case_reference: r.col("case_reference")?,
        question: r.col("question")?,
        basis: crate::wire::decode_basis(&r.col::<Vec<u8>>("basis")?),
        role: r.parsed("role")?,
        professional: r.col("professional")?,
        requested_at: r.col("requested_at")?,
        state,
        answer,
        retain_until: r.col("retain_until")?,
    })
}

/// Something the hub reminds a party of, found due by [`Store::due_reminders`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// The review Veilig Thuis planned with a melding's stage.
    MeldingReview {
        /// Veilig Thuis.
        vt_oin: Oin,
        /// The melding.
        melding: MeldingRef,
        /// The stage the review was planned with.
        seq: u32,
        /// When it fell due.
        review_at: i64,
        /// The melding's subject pseudonyms.
        subjects: Vec<String>,
        /// The melding's purpose.
        purpose: Purpose,
    },
    /// The review planned with a safety plan version.
    PlanReview {
        /// The case.
        case_id: CaseId,
        /// The version.
        version: u32,
        /// Its author.
        author_oin: Oin,
        /// When it fell due.
        review_at: i64,
    },
    /// A delivered handover that nobody answered.
    HandoverUnanswered {
        /// Veilig Thuis, which handed over.
        sender_oin: Oin,
        /// The handover.
        handover_id: HandoverId,
        /// The wijkteam it was delivered to.
        recipient_oin: Oin,
        /// When it was delivered.
        delivered_at: i64,
        /// The handover's subject pseudonyms.
        subjects: Vec<String>,
        /// Its purpose.
        purpose: Purpose,
    },
    /// A duty to inform the family that is still open past the convenant's `inform_within`.
    InformOverdue {
        /// The organisation that disclosed.
        org_oin: Oin,
        /// The disclosure's log index.
        log_index: u64,
        /// The record disclosed, as the log names it.
        reference: String,
        /// The disclosure's purpose, if it had one.
        purpose: Option<Purpose>,
        /// When it was disclosed.
        disclosed_at: i64,
    },
}

impl Store {
    /// Records a stage of a melding with its log entry: the next `seq`, the review planned
    /// before it superseded. Refused (`Conflict`) once the melding is closed. Returns the stage
    /// as stored.
    pub async fn insert_melding_stage(
        &self,
        s: &StageRecord,
        entry: &PendingEntry,
    ) -> StoreResult<StageRecord> {
        let stored = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let last: Option<(i64, String)> = sqlx::query_as("SELECT seq, stage FROM melding_stages WHERE vt_oin = $1 AND melding_id = $2 ORDER BY seq DESC LIMIT 1")
                .bind(&s.vt_oin).bind(&s.melding).fetch_optional(&mut *tx).await?;
            if let Some((_, stage)) = &last
                && stage == MeldingStage::Afgesloten.code()
            {
                tx.rollback().await?;
                return Err(StoreError::in_state("melding", &s.melding, "closed"));
            }
            let seq = last.map_or(1, |(n, _)| n + 1);
            sqlx::query("UPDATE melding_stages SET review_state = 'superseded' WHERE vt_oin = $1 AND melding_id = $2 AND review_state = 'planned'")
                .bind(&s.vt_oin).bind(&s.melding).execute(&mut *tx).await?;
            sqlx::query(&format!("INSERT INTO melding_stages ({STAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
                .bind(&s.vt_oin).bind(&s.melding).bind(seq).bind(s.stage.code())
                .bind(s.review_at).bind(s.review_at.map(|_| ReviewState::Planned.as_str()))
                .bind(json(&s.subjects)).bind(&s.purpose).bind(&s.role).bind(&s.professional).bind(s.set_at)
                .execute(&mut *tx).await?;
            // The overview follows the stage now and the review planned with it.
            sqlx::query("UPDATE vt_meldingen SET stage = $3, review_key = $4 WHERE vt_oin = $1 AND melding_id = $2")
                .bind(&s.vt_oin).bind(&s.melding).bind(s.stage.code())
                .bind(s.review_at.unwrap_or(MeldingPageKey::NO_REVIEW))
                .execute(&mut *tx).await?;
            super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
            tx.commit().await?;
            seq
        });
        Ok(StageRecord {
            seq: u32::try_from(stored).map_err(|_| StoreError::Corrupt("melding_stages.seq"))?,
            review_state: s.review_at.map(|_| ReviewState::Planned),
            ..s.clone()
        })
    }

    /// The stages Veilig Thuis `vt` recorded for a melding, oldest first.
    pub async fn melding_stages(
        &self,
        vt: &str,
        melding: &MeldingRef,
    ) -> StoreResult<Vec<StageRecord>> {
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            for r in sqlx::query(&format!("SELECT {STAGE_COLUMNS} FROM melding_stages WHERE vt_oin = $1 AND melding_id = $2 ORDER BY seq"))
                .bind(vt).bind(melding).fetch_all(p).await? {
                v.push(stage_from_row(&r)?);
            }
            v
        });
        Ok(v)
    }

    /// One page of Veilig Thuis `vt`'s overview of its meldingen (`ListMeldingen`), optionally
    /// of one stage: the meldingen with a planned review first, earliest review first, then the
    /// others newest first; after `after`, at most `limit`. Three index lookups per page,
    /// whatever the number of meldingen: the page (`vt_meldingen_order` or
    /// `vt_meldingen_stage`), then the stages of its meldingen and their latest triages.
    pub async fn meldingen_of(
        &self,
        vt: &str,
        stage: Option<MeldingStage>,
        after: Option<&MeldingPageKey>,
        limit: u32,
    ) -> StoreResult<Vec<MeldingListing>> {
        let mut sql = "SELECT melding_id, received_at, stage, review_key, arrival_key FROM vt_meldingen WHERE vt_oin = $1".to_owned();
        let mut n = 1;
        if stage.is_some() {
            n += 1;
            sql.push_str(&format!(" AND stage = ${n}"));
        }
        if after.is_some() {
            sql.push_str(&format!(
                " AND (review_key, arrival_key, melding_id) > (${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3
            ));
            n += 3;
        }
        sql.push_str(&format!(
            " ORDER BY review_key, arrival_key, melding_id LIMIT ${}",
            n + 1
        ));
        type Row = (String, i64, String, i64, i64);
        let rows: Vec<Row> = on_pool!(self, p => {
            let mut q = sqlx::query_as::<_, Row>(&sql).bind(vt);
            if let Some(s) = stage {
                q = q.bind(s.code());
            }
            if let Some(a) = after {
                q = q.bind(a.review_key).bind(a.arrival_key).bind(a.melding.as_str());
            }
            q.bind(i64::from(limit)).fetch_all(p).await?
        });
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        let in_list = super::placeholders(2, ids.len());
        // Every stage of these meldingen (a handful each); the latest counts.
        let stages_sql = format!(
            "SELECT melding_id, seq, review_at, review_state, set_at FROM melding_stages WHERE vt_oin = $1 AND melding_id IN ({in_list})"
        );
        type StageRow = (String, i64, Option<i64>, Option<String>, i64);
        let stages: Vec<StageRow> = on_pool!(self, p => {
            let mut q = sqlx::query_as::<_, StageRow>(&stages_sql).bind(vt);
            for id in &ids {
                q = q.bind(*id);
            }
            q.fetch_all(p).await?
        });
        let mut triages = self.latest_triages_of(vt, &ids).await?;
        let mut latest: std::collections::HashMap<&str, &StageRow> =
            std::collections::HashMap::new();
        for s in &stages {
            let e = latest.entry(s.0.as_str()).or_insert(s);
            if s.1 > e.1 {
                *e = s;
            }
        }
        let mut out = Vec::with_capacity(rows.len());
        for (id, received_at, stage, review_key, arrival_key) in &rows {
            let melding: crate::ids::MeldingRef = id
                .parse()
                .map_err(|_| StoreError::Corrupt("vt_meldingen.melding_id"))?;
            let current = latest.get(id.as_str());
            let (triage, decision) = triages
                .remove(id.as_str())
                .map_or((None, None), |(t, d)| (Some(t), d));
            let review_state = review_state(
                current.and_then(|s| s.3.clone()),
                "melding_stages.review_state",
            )?
            .filter(|r| matches!(r, ReviewState::Planned | ReviewState::Reminded));
            out.push(MeldingListing {
                stage: MeldingStage::from_code(stage)
                    .ok_or(StoreError::Corrupt("vt_meldingen.stage"))?,
                stage_since: current.map(|s| s.4),
                review_at: review_state.and(current.and_then(|s| s.2)),
                review_state,
                triage,
                decision,
                received_at: *received_at,
                key: MeldingPageKey {
                    review_key: *review_key,
                    arrival_key: *arrival_key,
                    melding: melding.clone(),
                },
                melding,
            });
        }
        Ok(out)
    }

    /// Stores an information request with its log entry. The same id with the same request hash
    /// and content digest is a retry (`Ok(false)`, nothing logged); with others, `Conflict`.
    pub async fn insert_information_request(
        &self,
        q: &InformationRequest,
        entry: &PendingEntry,
    ) -> StoreResult<bool> {
        let new = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let existing: Option<(Vec<u8>, Vec<u8>)> = sqlx::query_as("SELECT request_hash, content_digest FROM information_requests WHERE vt_oin = $1 AND request_id = $2")
                .bind(&q.vt_oin).bind(&q.request_id).fetch_optional(&mut *tx).await?;
            if let Some((hash, digest)) = existing {
                tx.rollback().await?;
                if hash != q.request_hash || digest != q.content_digest {
                    return Err(StoreError::taken("information request", &q.request_id));
                }
                false
            } else {
                let idx = super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
                sqlx::query("INSERT INTO information_requests (vt_oin, request_id, request_hash, content_digest, melding_id, recipient_oin, subjects, categories, case_reference, question, basis, role, professional, requested_at, state, retain_until, log_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)")
                    .bind(&q.vt_oin).bind(&q.request_id).bind(&q.request_hash).bind(&q.content_digest)
                    .bind(&q.melding).bind(&q.recipient_oin).bind(json(&q.subjects)).bind(json(&q.categories))
                    .bind(&q.case_reference).bind(&q.question).bind(crate::wire::encode_basis(&q.basis))
                    .bind(&q.role).bind(&q.professional).bind(q.requested_at)
                    .bind(InformationState::Open.as_str()).bind(q.retain_until).bind(idx)
                    .execute(&mut *tx).await?;
                tx.commit().await?;
                true
            }
        });
        Ok(new)
    }

    /// Veilig Thuis `vt`'s information request `request_id`.
    pub async fn get_information_request(
        &self,
        vt: &str,
        request_id: &str,
    ) -> StoreResult<Option<InformationRequest>> {
        let q = on_pool!(self, p => {
            match sqlx::query(&format!("SELECT {REQUEST_COLUMNS} FROM information_requests WHERE vt_oin = $1 AND request_id = $2"))
                .bind(vt).bind(request_id).fetch_optional(p).await? {
                Some(r) => Some(request_from_row(&r)?),
                None => None,
            }
        });
        Ok(q)
    }

    /// The information requests `oin` sent (`sent`) or received, newest first, at most `limit`.
    pub async fn information_requests_of(
        &self,
        oin: &str,
        sent: bool,
        limit: u32,
    ) -> StoreResult<Vec<InformationRequest>> {
        let column = if sent { "vt_oin" } else { "recipient_oin" };
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            for r in sqlx::query(&format!("SELECT {REQUEST_COLUMNS} FROM information_requests WHERE {column} = $1 ORDER BY requested_at DESC, COALESCE(log_index, 0) DESC, request_id DESC LIMIT $2"))
                .bind(oin).bind(i64::from(limit)).fetch_all(p).await? {
                v.push(request_from_row(&r)?);
            }
            v
        });
        Ok(v)
    }

    /// Records the answer (or decline) to an open information request with its log entries.
    /// `Conflict` when it was answered or declined meanwhile.
    pub async fn answer_information_request(
        &self,
        vt: &str,
        request_id: &InformationRequestId,
        a: &InformationAnswer,
        entries: &[PendingEntry],
    ) -> StoreResult<()> {
        let state = if a.decline_reason.is_some() {
            InformationState::Declined
        } else {
            InformationState::Answered
        };
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE information_requests SET state = $3, answer = $4, answer_digest = $5, answer_categories = $6, answer_basis = $7, decline_reason = $8, answered_role = $9, answered_professional = $10, answered_at = $11 WHERE vt_oin = $1 AND request_id = $2 AND state = 'open'")
                .bind(vt).bind(request_id).bind(state.as_str()).bind(&a.answer).bind(&a.answer_digest)
                .bind(json(&a.categories)).bind(a.basis.as_ref().map(crate::wire::encode_basis))
                .bind(a.decline_reason.map(|r| r.code()).unwrap_or_default())
                .bind(&a.role).bind(&a.professional).bind(a.answered_at)
                .execute(&mut *tx).await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(StoreError::in_state("information request", request_id, "answered already"));
            }
            super::sequence_log(&mut tx, entries).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Reminders due at `now`, at most `limit` of each kind: reviews planned with a melding's
    /// stage or a safety plan version, handovers delivered at or before `delivered_before`
    /// that nobody answered, and duties to inform the family of disclosures made at or before
    /// `disclosed_before` that are still open. Each is still to be claimed with [`Store::record_reminder`].
    pub async fn due_reminders(
        &self,
        now: i64,
        delivered_before: i64,
        disclosed_before: i64,
        limit: u32,
    ) -> StoreResult<Vec<Due>> {
        let limit = i64::from(limit.max(1));
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            for r in sqlx::query(&format!("SELECT {STAGE_COLUMNS} FROM melding_stages WHERE review_state = 'planned' AND review_at <= $1 ORDER BY review_at LIMIT $2"))
                .bind(now).bind(limit).fetch_all(p).await? {
                let s = stage_from_row(&r)?;
                v.push(Due::MeldingReview {
                    vt_oin: s.vt_oin,
                    melding: s.melding,
                    seq: s.seq,
                    review_at: s.review_at.unwrap_or(now),
                    subjects: s.subjects,
                    purpose: s.purpose,
                });
            }
            let plans: Vec<(String, i64, String, i64)> = sqlx::query_as("SELECT case_id, version, author_oin, review_at FROM safety_plans WHERE review_state = 'planned' AND review_at <= $1 AND erased_at IS NULL ORDER BY review_at LIMIT $2")
                .bind(now).bind(limit).fetch_all(p).await?;
            for (case_id, version, author, review_at) in plans {
                v.push(Due::PlanReview {
                    case_id: case_id.parse().map_err(|_| StoreError::Corrupt("safety_plans.case_id"))?,
                    version: u32::try_from(version).map_err(|_| StoreError::Corrupt("safety_plans.version"))?,
                    author_oin: author.parse().map_err(|_| StoreError::Corrupt("safety_plans.author_oin"))?,
                    review_at,
                });
            }
            let handovers: Vec<(String, String, String, i64, String, String)> = sqlx::query_as("SELECT h.sender_oin, h.handover_id, h.recipient_oin, h.updated_at, h.subjects, h.purpose FROM handovers h
                    WHERE h.state = 'delivered' AND h.unanswered_notified_at IS NULL AND h.updated_at <= $1 AND h.erased_at IS NULL
                    AND NOT EXISTS (SELECT 1 FROM handover_answers a WHERE a.sender_oin = h.sender_oin AND a.handover_id = h.handover_id)
                    ORDER BY h.updated_at LIMIT $2")
                .bind(delivered_before).bind(limit).fetch_all(p).await?;
            for (sender, id, recipient, delivered_at, subjects, purpose) in handovers {
                v.push(Due::HandoverUnanswered {
                    sender_oin: sender.parse().map_err(|_| StoreError::Corrupt("handovers.sender_oin"))?,
                    handover_id: id.parse().map_err(|_| StoreError::Corrupt("handovers.handover_id"))?,
                    recipient_oin: recipient.parse().map_err(|_| StoreError::Corrupt("handovers.recipient_oin"))?,
                    delivered_at,
                    subjects: parse(&subjects, "handovers.subjects")?,
                    purpose: purpose.parse().map_err(|_| StoreError::Corrupt("handovers.purpose"))?,
                });
            }
            let overdue: Vec<(i64, String, String, String, i64)> = sqlx::query_as("SELECT log_idx, org_oin, reference, purpose, created_at FROM inform_obligations
                    WHERE state = 'OPEN' AND overdue_notified_at IS NULL AND created_at <= $1 ORDER BY created_at LIMIT $2")
                .bind(disclosed_before).bind(limit).fetch_all(p).await?;
            for (idx, org, reference, purpose, created_at) in overdue {
                v.push(Due::InformOverdue {
                    org_oin: org.parse().map_err(|_| StoreError::Corrupt("inform_obligations.org_oin"))?,
                    log_index: u64::try_from(idx).map_err(|_| StoreError::Corrupt("inform_obligations.log_idx"))?,
                    reference,
                    purpose: if purpose.is_empty() {
                        None
                    } else {
                        Some(purpose.parse().map_err(|_| StoreError::Corrupt("inform_obligations.purpose"))?)
                    },
                    disclosed_at: created_at,
                });
            }
            v
        });
        Ok(v)
    }

    /// Claims a due reminder and records its entries and notifications in one transaction.
    /// `Ok(false)` when it was claimed before (another instance, or a newer stage or version
    /// replaced it): nothing is recorded.
    pub async fn record_reminder(
        &self,
        due: &Due,
        items: &[(PendingEntry, Option<Notification>)],
        now: i64,
    ) -> StoreResult<bool> {
        let claimed = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let done = match due {
                Due::MeldingReview { vt_oin, melding, seq, .. } => sqlx::query("UPDATE melding_stages SET review_state = 'reminded' WHERE vt_oin = $1 AND melding_id = $2 AND seq = $3 AND review_state = 'planned'")
                    .bind(vt_oin).bind(melding).bind(i64::from(*seq)).execute(&mut *tx).await?,
                Due::PlanReview { case_id, version, .. } => sqlx::query("UPDATE safety_plans SET review_state = 'reminded' WHERE case_id = $1 AND version = $2 AND review_state = 'planned'")
                    .bind(case_id).bind(i64::from(*version)).execute(&mut *tx).await?,
                Due::HandoverUnanswered { sender_oin, handover_id, .. } => sqlx::query("UPDATE handovers SET unanswered_notified_at = $3 WHERE sender_oin = $1 AND handover_id = $2 AND unanswered_notified_at IS NULL")
                    .bind(sender_oin).bind(handover_id).bind(now).execute(&mut *tx).await?,
                Due::InformOverdue { org_oin, log_index, .. } => sqlx::query("UPDATE inform_obligations SET overdue_notified_at = $3 WHERE org_oin = $1 AND log_idx = $2 AND state = 'OPEN' AND overdue_notified_at IS NULL")
                    .bind(org_oin).bind(i64::try_from(*log_index).unwrap_or(i64::MAX)).bind(now).execute(&mut *tx).await?,
            };
            if done.rows_affected() == 1 {
                log_and_notify(&mut tx, items).await?;
                tx.commit().await?;
                true
            } else {
                tx.rollback().await?;
                false
            }
        });
        Ok(claimed)
    }
}
