//! Zorgmeldingen (fragments assembled per incident), triages, family refusals and handovers.
//! Every act is sequenced into the disclosure log in its own transaction.
use super::signal::INBOX_CHANNEL;
use super::{Columns, Store, StoreError, StoreResult, json, parse};
use crate::domain::consent::Consent;
use crate::domain::signal::StoredReason;
use crate::domain::zorgmelding::{
    AnswerKind, DecisionKind, DecisionReason, FamilyDeclined, Feedback, FeedbackOutcome,
    FragmentKind, FragmentOutcome, FragmentRecord, FragmentRefusal, HandoverAnswer, HandoverRecord,
    HandoverState, MeldingKey, ReturnReason, TriageDecision, TriageRecord, ZorgmeldingRecord,
};
use crate::ids::MeldingRef;
use crate::ledger::PendingEntry;

const MELDING_COLUMNS: &str = "zorgmelding_id, police_oin, registration_number, recipient_oin, purpose, subjects, version, delivered_version, cursor, created_cursor, created_at, updated_at, completed_at, retain_until";
const FRAGMENT_COLUMNS: &str = "police_oin, fragment_id, zorgmelding_id, sequence, kind, request_hash, envelope, categories, subjects, basis, author_role, author_professional, received_at, retain_until, content_digest";
const TRIAGE_COLUMNS: &str = "triage_id, melding_id, vt_oin, answers, acute, case_reference, advice, earlier_reports, role, professional, recorded_at";
const HANDOVER_COLUMNS: &str = "sender_oin, handover_id, request_hash, melding_id, recipient_oin, subjects, subject_facts, categories, purpose, basis, received_for, advice, triage_id, vt_contact, wijkteam_contact, letter, state, reasons, consent_ids, sender_role, sender_professional, created_at, updated_at, retain_until, content_digest, decision";

/// Builds a melding from a row with the columns of [`MELDING_COLUMNS`].
fn melding_from_row(r: &impl Columns) -> StoreResult<ZorgmeldingRecord> {
    Ok(ZorgmeldingRecord {
        zorgmelding_id: r.parsed("zorgmelding_id")?,
        police_oin: r.parsed("police_oin")?,
        registration_number: r.col("registration_number")?,
        recipient_oin: r.parsed("recipient_oin")?,
        purpose: r.parsed("purpose")?,
        subjects: parse(&r.col::<String>("subjects")?, "zorgmeldingen.subjects")?,
        version: r.col::<i64>("version")? as u32,
        delivered_version: r.col::<i64>("delivered_version")? as u32,
        cursor: r.col::<i64>("cursor")? as u64,
        created_cursor: r.col::<i64>("created_cursor")? as u64,
        created_at: r.col("created_at")?,
        updated_at: r.col("updated_at")?,
        completed_at: r.col("completed_at")?,
        retain_until: r.col("retain_until")?,
    })
}

/// Builds a fragment from a row with the columns of [`FRAGMENT_COLUMNS`].
fn fragment_from_row(r: &impl Columns) -> StoreResult<FragmentRecord> {
    Ok(FragmentRecord {
        police_oin: r.parsed("police_oin")?,
        fragment_id: r.parsed("fragment_id")?,
        zorgmelding_id: r.parsed("zorgmelding_id")?,
        sequence: r.col::<i64>("sequence")? as u32,
        kind: FragmentKind::parse(&r.col::<String>("kind")?)
            .ok_or(StoreError::Corrupt("zorgmelding_fragments.kind"))?,
        request_hash: r.col("request_hash")?,
        envelope: r.col("envelope")?,
        categories: parse(
            &r.col::<String>("categories")?,
            "zorgmelding_fragments.categories",
        )?,
        subjects: parse(
            &r.col::<String>("subjects")?,
            "zorgmelding_fragments.subjects",
        )?,
        basis: crate::wire::decode_basis(&r.col::<Vec<u8>>("basis")?),
        author_role: r.parsed("author_role")?,
        author_professional: r.col("author_professional")?,
        received_at: r.col("received_at")?,
        retain_until: r.col("retain_until")?,
        content_digest: r.col("content_digest")?,
    })
}

/// Builds a triage from a row with the columns of [`TRIAGE_COLUMNS`].
fn triage_from_row(r: &impl Columns) -> StoreResult<TriageRecord> {
    Ok(TriageRecord {
        triage_id: r.parsed("triage_id")?,
        melding: r.parsed("melding_id")?,
        vt_oin: r.parsed("vt_oin")?,
        answers: parse(&r.col::<String>("answers")?, "triages.answers")?,
        acute: r.col("acute")?,
        case_reference: r.col("case_reference")?,
        advice: r.col("advice")?,
        earlier_reports: r.col::<i64>("earlier_reports")? as u32,
        role: r.parsed("role")?,
        professional: r.col("professional")?,
        recorded_at: r.col("recorded_at")?,
    })
}

/// Builds a decision from a `triage_decisions` row.
fn decision_from_row(r: &impl Columns) -> StoreResult<TriageDecision> {
    let reason: String = r.col("reason")?;
    Ok(TriageDecision {
        triage_id: r.parsed("triage_id")?,
        melding: r.parsed("melding_id")?,
        vt_oin: r.parsed("vt_oin")?,
        decision: DecisionKind::from_code(&r.col::<String>("decision")?)
            .ok_or(StoreError::Corrupt("triage_decisions.decision"))?,
        reason: if reason.is_empty() {
            None
        } else {
            Some(
                DecisionReason::from_code(&reason)
                    .ok_or(StoreError::Corrupt("triage_decisions.reason"))?,
            )
        },
        role: r.parsed("role")?,
        professional: r.col("professional")?,
        decided_at: r.col("decided_at")?,
    })
}

/// Builds a handover from a row with the columns of [`HANDOVER_COLUMNS`].
fn handover_from_row(r: &impl Columns) -> StoreResult<HandoverRecord> {
    Ok(HandoverRecord {
        sender_oin: r.parsed("sender_oin")?,
        handover_id: r.parsed("handover_id")?,
        request_hash: r.col("request_hash")?,
        melding: r.parsed("melding_id")?,
        recipient_oin: r.parsed("recipient_oin")?,
        subjects: parse(&r.col::<String>("subjects")?, "handovers.subjects")?,
        facts: parse(
            &r.col::<String>("subject_facts")?,
            "handovers.subject_facts",
        )?,
        categories: parse(&r.col::<String>("categories")?, "handovers.categories")?,
        purpose: r.parsed("purpose")?,
        basis: crate::wire::decode_basis(&r.col::<Vec<u8>>("basis")?),
        received_for: r.parsed("received_for")?,
        advice: r.col("advice")?,
        triage_id: r.parsed("triage_id")?,
        vt_contact: parse(&r.col::<String>("vt_contact")?, "handovers.vt_contact")?,
        wijkteam_contact: parse(
            &r.col::<String>("wijkteam_contact")?,
            "handovers.wijkteam_contact",
        )?,
        letter: r.col("letter")?,
        state: HandoverState::parse(&r.col::<String>("state")?)
            .ok_or(StoreError::Corrupt("handovers.state"))?,
        reasons: parse(&r.col::<String>("reasons")?, "handovers.reasons")?,
        consent_ids: parse(&r.col::<String>("consent_ids")?, "handovers.consent_ids")?,
        sender_role: r.parsed("sender_role")?,
        sender_professional: r.col("sender_professional")?,
        created_at: r.col("created_at")?,
        updated_at: r.col("updated_at")?,
        retain_until: r.col("retain_until")?,
        content_digest: r.col("content_digest")?,
        decision: DecisionKind::from_code(&r.col::<String>("decision")?),
    })
}

/// Builds an answer from a `handover_answers` row.
fn answer_from_row(r: &impl Columns) -> StoreResult<HandoverAnswer> {
    let reason: String = r.col("reason")?;
    Ok(HandoverAnswer {
        seq: r.col::<i64>("seq")? as u32,
        answer: AnswerKind::from_code(&r.col::<String>("answer")?)
            .ok_or(StoreError::Corrupt("handover_answers.answer"))?,
        reason: if reason.is_empty() {
            None
        } else {
            Some(
                ReturnReason::from_code(&reason)
                    .ok_or(StoreError::Corrupt("handover_answers.reason"))?,
            )
        },
        question_id: r.col("question_id")?,
        question: r.col("question")?,
        role: r.parsed("role")?,
        professional: r.col("professional")?,
        answered_at: r.col("answered_at")?,
    })
}

const FEEDBACK_COLUMNS: &str = "vt_oin, feedback_id, request_hash, content_digest, melding_id, melder_oin, subjects, outcome, note, basis, role, professional, sent_at, retain_until";

/// Builds feedback from a row with the columns of [`FEEDBACK_COLUMNS`].
fn feedback_from_row(r: &impl Columns) -> StoreResult<Feedback> {
    Ok(Feedback {
        vt_oin: r.parsed("vt_oin")?,
        feedback_id: r.parsed("feedback_id")?,
        request_hash: r.col("request_hash")?,
        content_digest: r.col("content_digest")?,
        melding: r.parsed("melding_id")?,
        melder_oin: r.parsed("melder_oin")?,
        subjects: parse(&r.col::<String>("subjects")?, "melding_feedback.subjects")?,
        outcome: FeedbackOutcome::from_code(&r.col::<String>("outcome")?)
            .ok_or(StoreError::Corrupt("melding_feedback.outcome"))?,
        note: r.col("note")?,
        basis: crate::wire::decode_basis(&r.col::<Vec<u8>>("basis")?),
        role: r.parsed("role")?,
        professional: r.col("professional")?,
        sent_at: r.col("sent_at")?,
        retain_until: r.col("retain_until")?,
    })
}

/// What a handover delivery decided.
#[derive(Debug, Clone)]
pub enum HandoverVerdict {
    /// Deliver, logging this entry.
    Deliver(PendingEntry),
    /// Hold back with these reasons, logging this entry.
    Withhold(Vec<StoredReason>, PendingEntry),
}

impl Store {
    /// Adds a fragment to its incident's zorgmelding (creating the melding, with id `new_id`,
    /// for the first fragment), in one transaction with its log entry (`entry_for(melding_id)`).
    /// The melding's version grows and its cursor moves to the entry, so Veilig Thuis's stream
    /// shows it (again). A fragment id seen before with the same `request_hash` and
    /// `content_digest` is a retry:
    /// nothing changes. `Ok(Err(_))` names why the fragment cannot be added.
    pub async fn submit_fragment(
        &self,
        key: &MeldingKey,
        new_id: &str,
        f: &FragmentRecord,
        entry_for: impl Fn(&str) -> PendingEntry,
    ) -> StoreResult<Result<FragmentOutcome, FragmentRefusal>> {
        let is_pg = matches!(self, Store::Postgres(_));
        let lock = if is_pg { " FOR UPDATE" } else { "" };
        let t = f.received_at;
        let result = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(&format!("INSERT INTO zorgmeldingen ({MELDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, '[]', 0, 0, 0, 0, $6, $6, NULL, $7) ON CONFLICT (police_oin, registration_number) DO NOTHING"))
                .bind(new_id).bind(&key.police_oin).bind(&key.registration_number).bind(&key.recipient_oin)
                .bind(&key.purpose).bind(t).bind(f.retain_until)
                .execute(&mut *tx).await?;
            // A zorgmelding is a melding of its Veilig Thuis from its first fragment: it enters
            // Veilig Thuis's overview (ListMeldingen) in triage (rolled back with the fragment).
            sqlx::query(&format!("INSERT INTO vt_meldingen ({}) SELECT recipient_oin, zorgmelding_id, 'zorgmelding', created_at, -created_at, 'TRIAGE', $3
                    FROM zorgmeldingen WHERE police_oin = $1 AND registration_number = $2 ON CONFLICT DO NOTHING", super::melding::OVERVIEW_COLUMNS))
                .bind(&key.police_oin).bind(&key.registration_number).bind(crate::domain::zorgmelding::MeldingPageKey::NO_REVIEW)
                .execute(&mut *tx).await?;
            let row = sqlx::query(&format!("SELECT {MELDING_COLUMNS} FROM zorgmeldingen WHERE police_oin = $1 AND registration_number = $2{lock}"))
                .bind(&key.police_oin).bind(&key.registration_number).fetch_one(&mut *tx).await?;
            let m = melding_from_row(&row)?;
            // (request hash, content digest, melding, sequence) of an earlier fragment with this id.
            type Earlier = (Vec<u8>, Option<Vec<u8>>, String, i64);
            let existing: Option<Earlier> = sqlx::query_as("SELECT request_hash, content_digest, zorgmelding_id, sequence FROM zorgmelding_fragments WHERE police_oin = $1 AND fragment_id = $2")
                .bind(&f.police_oin).bind(&f.fragment_id).fetch_optional(&mut *tx).await?;
            if let Some((hash, digest, mid, seq)) = existing {
                tx.rollback().await?;
                if hash != f.request_hash || digest.is_none() || digest != f.content_digest || mid != m.zorgmelding_id {
                    Err(FragmentRefusal::IdReused)
                } else {
                    Ok((m, seq as u32, false))
                }
            } else if m.recipient_oin != key.recipient_oin {
                tx.rollback().await?;
                Err(FragmentRefusal::OtherRecipient(m.recipient_oin.to_string()))
            } else if sqlx::query_scalar::<_, Option<i64>>("SELECT erased_at FROM zorgmeldingen WHERE zorgmelding_id = $1")
                .bind(&m.zorgmelding_id).fetch_one(&mut *tx).await?.is_some()
            {
                // A melding erased at the end of its retention is closed for good.
                tx.rollback().await?;
                Err(FragmentRefusal::Erased)
            } else if m.completed_at.is_some() {
                tx.rollback().await?;
                Err(FragmentRefusal::Complete)
            } else {
                let seq: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM zorgmelding_fragments WHERE zorgmelding_id = $1")
                    .bind(&m.zorgmelding_id).fetch_one(&mut *tx).await?;
                let seq = seq + 1;
                let entry = entry_for(&m.zorgmelding_id);
                let first = super::sequence_log(&mut tx, std::slice::from_ref(&entry)).await?;
                sqlx::query(&format!("INSERT INTO zorgmelding_fragments ({FRAGMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"))
                    .bind(&f.police_oin).bind(&f.fragment_id).bind(&m.zorgmelding_id).bind(seq)
                    .bind(f.kind.as_str()).bind(&f.request_hash).bind(&f.envelope).bind(json(&f.categories))
                    .bind(json(&f.subjects)).bind(crate::wire::encode_basis(&f.basis)).bind(&f.author_role).bind(&f.author_professional)
                    .bind(f.received_at).bind(f.retain_until).bind(&f.content_digest)
                    .execute(&mut *tx).await?;
                let mut subjects = m.subjects.clone();
                for s in &f.subjects {
                    if !subjects.contains(s) {
                        subjects.push(s.clone());
                    }
                    sqlx::query("INSERT INTO zorgmelding_subjects (subject, zorgmelding_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(s).bind(&m.zorgmelding_id).execute(&mut *tx).await?;
                }
                sqlx::query("UPDATE zorgmeldingen SET subjects = $2, version = version + 1, cursor = $3, created_cursor = CASE WHEN created_cursor = 0 THEN $3 ELSE created_cursor END, updated_at = $4, retain_until = CASE WHEN retain_until > $5 THEN retain_until ELSE $5 END WHERE zorgmelding_id = $1")
                    .bind(&m.zorgmelding_id).bind(json(&subjects)).bind(first + 1).bind(t).bind(f.retain_until)
                    .execute(&mut *tx).await?;
                if is_pg {
                    sqlx::query("SELECT pg_notify($1, '')").bind(INBOX_CHANNEL).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok((m, seq as u32, true))
            }
        });
        Ok(match result {
            Err(refusal) => Err(refusal),
            Ok((m, sequence, new)) => {
                let melding = self
                    .get_zorgmelding(&m.zorgmelding_id)
                    .await?
                    .ok_or_else(|| StoreError::missing("zorgmelding", &m.zorgmelding_id))?;
                Ok(if new {
                    FragmentOutcome::New { melding, sequence }
                } else {
                    FragmentOutcome::Duplicate { melding, sequence }
                })
            }
        })
    }

    /// Marks an incident's melding complete, with its log entry; the cursor moves so Veilig
    /// Thuis sees the change. `NotFound` without such a melding; `Conflict` when already complete.
    pub async fn complete_zorgmelding(
        &self,
        police_oin: &str,
        registration_number: &str,
        at: i64,
        entry_for: impl Fn(&ZorgmeldingRecord) -> PendingEntry,
    ) -> StoreResult<ZorgmeldingRecord> {
        let is_pg = matches!(self, Store::Postgres(_));
        let lock = if is_pg { " FOR UPDATE" } else { "" };
        let id = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let row = sqlx::query(&format!("SELECT {MELDING_COLUMNS} FROM zorgmeldingen WHERE police_oin = $1 AND registration_number = $2{lock}"))
                .bind(police_oin).bind(registration_number).fetch_optional(&mut *tx).await?;
            let Some(row) = row else {
                return Err(StoreError::missing("zorgmelding with registration number", registration_number));
            };
            let m = melding_from_row(&row)?;
            if m.completed_at.is_some() {
                return Err(StoreError::in_state("zorgmelding", &m.zorgmelding_id, "complete"));
            }
            let entry = entry_for(&m);
            let first = super::sequence_log(&mut tx, std::slice::from_ref(&entry)).await?;
            sqlx::query("UPDATE zorgmeldingen SET completed_at = $2, version = version + 1, cursor = $3, updated_at = $2 WHERE zorgmelding_id = $1")
                .bind(&m.zorgmelding_id).bind(at).bind(first + 1).execute(&mut *tx).await?;
            if is_pg {
                sqlx::query("SELECT pg_notify($1, '')").bind(INBOX_CHANNEL).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            m.zorgmelding_id
        });
        self.get_zorgmelding(&id)
            .await?
            .ok_or_else(|| StoreError::missing("zorgmelding", id))
    }

    /// A melding by the hub's id.
    pub async fn get_zorgmelding(&self, id: &str) -> StoreResult<Option<ZorgmeldingRecord>> {
        let m = on_pool!(self, p => {
            match sqlx::query(&format!("SELECT {MELDING_COLUMNS} FROM zorgmeldingen WHERE zorgmelding_id = $1"))
                .bind(id).fetch_optional(p).await? {
                Some(r) => Some(melding_from_row(&r)?),
                None => None,
            }
        });
        Ok(m)
    }

    /// A melding by the police organisation and registration number.
    pub async fn get_zorgmelding_by_registration(
        &self,
        police_oin: &str,
        registration_number: &str,
    ) -> StoreResult<Option<ZorgmeldingRecord>> {
        let m = on_pool!(self, p => {
            match sqlx::query(&format!("SELECT {MELDING_COLUMNS} FROM zorgmeldingen WHERE police_oin = $1 AND registration_number = $2"))
                .bind(police_oin).bind(registration_number).fetch_optional(p).await? {
                Some(r) => Some(melding_from_row(&r)?),
                None => None,
            }
        });
        Ok(m)
    }

    /// A fragment by sender and id.
    pub async fn get_fragment(
        &self,
        police_oin: &str,
        fragment_id: &str,
    ) -> StoreResult<Option<FragmentRecord>> {
        let f = on_pool!(self, p => {
            match sqlx::query(&format!("SELECT {FRAGMENT_COLUMNS} FROM zorgmelding_fragments WHERE police_oin = $1 AND fragment_id = $2"))
                .bind(police_oin).bind(fragment_id).fetch_optional(p).await? {
                Some(r) => Some(fragment_from_row(&r)?),
                None => None,
            }
        });
        Ok(f)
    }

    /// The fragments of a melding, in order.
    pub async fn fragments_of(&self, zorgmelding_id: &str) -> StoreResult<Vec<FragmentRecord>> {
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            for r in sqlx::query(&format!("SELECT {FRAGMENT_COLUMNS} FROM zorgmelding_fragments WHERE zorgmelding_id = $1 ORDER BY sequence"))
                .bind(zorgmelding_id).fetch_all(p).await? {
                v.push(fragment_from_row(&r)?);
            }
            v
        });
        Ok(v)
    }

    /// The meldingen addressed to `recipient` whose cursor is after `after`, in cursor order;
    /// never a melding erased at the end of its retention.
    pub async fn zorgmeldingen_after(
        &self,
        recipient: &str,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<ZorgmeldingRecord>> {
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            for r in sqlx::query(&format!("SELECT {MELDING_COLUMNS} FROM zorgmeldingen WHERE recipient_oin = $1 AND cursor > $2 AND erased_at IS NULL ORDER BY cursor LIMIT $3"))
                .bind(recipient).bind(i64::try_from(after).unwrap_or(i64::MAX)).bind(i64::from(limit)).fetch_all(p).await? {
                v.push(melding_from_row(&r)?);
            }
            v
        });
        Ok(v)
    }

    /// Records that `version` of a melding reached Veilig Thuis: logs `entry` unless that
    /// version was logged before. Returns whether it logged.
    pub async fn mark_zorgmelding_delivered(
        &self,
        zorgmelding_id: &str,
        version: u32,
        entry: &PendingEntry,
    ) -> StoreResult<bool> {
        let logged = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("UPDATE zorgmeldingen SET delivered_version = $2 WHERE zorgmelding_id = $1 AND delivered_version < $2")
                .bind(zorgmelding_id).bind(i64::from(version)).execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
                tx.commit().await?;
                true
            } else {
                tx.rollback().await?;
                false
            }
        });
        Ok(logged)
    }

    /// The meldingen to `recipient` about any of `subjects` (the same household), oldest first;
    /// erased meldingen no longer count.
    pub async fn zorgmeldingen_about(
        &self,
        recipient: &str,
        subjects: &[String],
    ) -> StoreResult<Vec<ZorgmeldingRecord>> {
        let mut out: Vec<ZorgmeldingRecord> = Vec::new();
        for s in subjects {
            let rows = on_pool!(self, p => {
                let mut v = Vec::new();
                let cols: String = MELDING_COLUMNS.split(", ").map(|c| format!("z.{c}")).collect::<Vec<_>>().join(", ");
                for r in sqlx::query(&format!("SELECT {cols} FROM zorgmelding_subjects s JOIN zorgmeldingen z ON z.zorgmelding_id = s.zorgmelding_id WHERE s.subject = $1 AND z.recipient_oin = $2 AND z.erased_at IS NULL"))
                    .bind(s).bind(recipient).fetch_all(p).await? {
                    v.push(melding_from_row(&r)?);
                }
                v
            });
            for m in rows {
                if !out.iter().any(|o| o.zorgmelding_id == m.zorgmelding_id) {
                    out.push(m);
                }
            }
        }
        out.sort_by(|a, b| {
            (a.created_at, &a.zorgmelding_id).cmp(&(b.created_at, &b.zorgmelding_id))
        });
        Ok(out)
    }

    /// Stores a triage with its log entry.
    pub async fn insert_triage(&self, t: &TriageRecord, entry: &PendingEntry) -> StoreResult<()> {
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let idx = super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
            sqlx::query(&format!("INSERT INTO triages ({TRIAGE_COLUMNS}, log_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"))
                .bind(&t.triage_id).bind(&t.melding).bind(&t.vt_oin).bind(json(&t.answers)).bind(t.acute)
                .bind(&t.case_reference).bind(&t.advice).bind(i64::from(t.earlier_reports)).bind(&t.role)
                .bind(&t.professional).bind(t.recorded_at).bind(idx)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The latest triage of a melding that is not erased.
    pub async fn latest_triage(&self, melding: &MeldingRef) -> StoreResult<Option<TriageRecord>> {
        let t = on_pool!(self, p => {
            match sqlx::query(&format!("SELECT {TRIAGE_COLUMNS} FROM triages WHERE melding_id = $1 AND erased_at IS NULL ORDER BY log_index DESC LIMIT 1"))
                .bind(melding).fetch_optional(p).await? {
                Some(r) => Some(triage_from_row(&r)?),
                None => None,
            }
        });
        Ok(t)
    }

    /// The latest triage (not erased) Veilig Thuis `vt` recorded of each of `meldingen`, with the
    /// triagist's decision on it if recorded: one query (index `triages_melding`).
    pub async fn latest_triages_of(
        &self,
        vt: &str,
        meldingen: &[&str],
    ) -> StoreResult<std::collections::HashMap<String, (TriageRecord, Option<DecisionKind>)>> {
        let mut out = std::collections::HashMap::new();
        if meldingen.is_empty() {
            return Ok(out);
        }
        let cols = TRIAGE_COLUMNS
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols}, COALESCE(d.decision, '') AS decided FROM triages t LEFT JOIN triage_decisions d ON d.triage_id = t.triage_id
             WHERE t.vt_oin = $1 AND t.melding_id IN ({}) AND t.erased_at IS NULL ORDER BY t.log_index",
            super::placeholders(2, meldingen.len())
        );
        on_pool!(self, p => {
            let mut q = sqlx::query(&sql).bind(vt);
            for m in meldingen {
                q = q.bind(*m);
            }
            // Oldest first: the latest of each melding is the one that stays.
            for r in q.fetch_all(p).await? {
                let t = triage_from_row(&r)?;
                let decided: String = r.col("decided")?;
                let decision = if decided.is_empty() {
                    None
                } else {
                    Some(DecisionKind::from_code(&decided).ok_or(StoreError::Corrupt("triage_decisions.decision"))?)
                };
                out.insert(t.melding.as_str().to_owned(), (t, decision));
            }
        });
        Ok(out)
    }

    /// A triage by id.
    pub async fn get_triage(&self, triage_id: &str) -> StoreResult<Option<TriageRecord>> {
        let t = on_pool!(self, p => {
            match sqlx::query(&format!("SELECT {TRIAGE_COLUMNS} FROM triages WHERE triage_id = $1"))
                .bind(triage_id).fetch_optional(p).await? {
                Some(r) => Some(triage_from_row(&r)?),
                None => None,
            }
        });
        Ok(t)
    }

    /// Stores the triagist's decision on a triage with its log entry. `Conflict` when the triage
    /// was decided before (one decision per triage; a new triage is decided anew).
    pub async fn insert_triage_decision(
        &self,
        d: &TriageDecision,
        entry: &PendingEntry,
    ) -> StoreResult<()> {
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("INSERT INTO triage_decisions (triage_id, melding_id, vt_oin, decision, reason, role, professional, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING")
                .bind(&d.triage_id).bind(&d.melding).bind(&d.vt_oin).bind(d.decision.code())
                .bind(d.reason.map(|r| r.code()).unwrap_or_default()).bind(&d.role)
                .bind(&d.professional).bind(d.decided_at)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::in_state("triage", &d.triage_id, "decided already"));
            }
            super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The triagist's decision on a triage, if recorded.
    pub async fn triage_decision(&self, triage_id: &str) -> StoreResult<Option<TriageDecision>> {
        let d = on_pool!(self, p => {
            match sqlx::query("SELECT triage_id, melding_id, vt_oin, decision, reason, role, professional, decided_at FROM triage_decisions WHERE triage_id = $1")
                .bind(triage_id).fetch_optional(p).await? {
                Some(r) => Some(decision_from_row(&r)?),
                None => None,
            }
        });
        Ok(d)
    }

    /// Records that the family declined the wijkteam, with its log entry. `Conflict` when it was
    /// recorded before.
    pub async fn record_family_declined(
        &self,
        d: &FamilyDeclined,
        entry: &PendingEntry,
    ) -> StoreResult<()> {
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("INSERT INTO family_declines (melding_id, declined_by, recorded_by_oin, recorded_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(&d.melding).bind(&d.declined_by).bind(&d.recorded_by_oin).bind(d.recorded_at)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::in_state("melding", &d.melding, "declined by the family already"));
            }
            super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Whether the family declined the wijkteam for a melding.
    pub async fn family_declined(
        &self,
        melding: &MeldingRef,
    ) -> StoreResult<Option<FamilyDeclined>> {
        let r: Option<(String, String, i64)> = on_pool!(self, p => {
            sqlx::query_as("SELECT declined_by, recorded_by_oin, recorded_at FROM family_declines WHERE melding_id = $1")
                .bind(melding).fetch_optional(p).await?
        });
        r.map(|(declined_by, recorded_by_oin, recorded_at)| {
            Ok(FamilyDeclined {
                melding: melding.clone(),
                declined_by,
                recorded_by_oin: recorded_by_oin
                    .parse()
                    .map_err(|_| StoreError::Corrupt("family_declines.recorded_by_oin"))?,
                recorded_at,
            })
        })
        .transpose()
    }

    /// Stores a handover with its envelopes and its log entries in one transaction. A second
    /// request with the same id, hash and content digests is a retry (`Ok(false)`); other
    /// metadata or content is `Conflict`.
    /// The family's refusal is checked again inside the transaction (`Ok(None)` when it was
    /// recorded meanwhile): nothing is stored then.
    pub async fn insert_handover(
        &self,
        h: &HandoverRecord,
        envelopes: &[Vec<u8>],
        entries: &[PendingEntry],
    ) -> StoreResult<Option<bool>> {
        let r = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let existing: Option<(Vec<u8>, Option<Vec<u8>>)> = sqlx::query_as("SELECT request_hash, content_digest FROM handovers WHERE sender_oin = $1 AND handover_id = $2")
                .bind(&h.sender_oin).bind(&h.handover_id).fetch_optional(&mut *tx).await?;
            if let Some((hash, digest)) = existing {
                tx.rollback().await?;
                if hash != h.request_hash || digest.is_none() || digest != h.content_digest {
                    return Err(StoreError::taken("handover", &h.handover_id));
                }
                Some(false)
            } else if sqlx::query("SELECT 1 FROM family_declines WHERE melding_id = $1").bind(&h.melding).fetch_optional(&mut *tx).await?.is_some() {
                tx.rollback().await?;
                None
            } else {
                sqlx::query(&format!("INSERT INTO handovers ({HANDOVER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)"))
                    .bind(&h.sender_oin).bind(&h.handover_id).bind(&h.request_hash).bind(&h.melding)
                    .bind(&h.recipient_oin).bind(json(&h.subjects)).bind(json(&h.facts)).bind(json(&h.categories))
                    .bind(&h.purpose).bind(crate::wire::encode_basis(&h.basis)).bind(&h.received_for).bind(&h.advice).bind(&h.triage_id)
                    .bind(json(&h.vt_contact)).bind(json(&h.wijkteam_contact)).bind(&h.letter)
                    .bind(h.state.as_str()).bind(json(&h.reasons)).bind(json(&h.consent_ids))
                    .bind(&h.sender_role).bind(&h.sender_professional).bind(h.created_at).bind(h.updated_at).bind(h.retain_until)
                    .bind(&h.content_digest).bind(h.decision.map(|d| d.code()).unwrap_or_default())
                    .execute(&mut *tx).await?;
                for (i, e) in envelopes.iter().enumerate() {
                    sqlx::query("INSERT INTO handover_envelopes (sender_oin, handover_id, position, envelope) VALUES ($1, $2, $3, $4)")
                        .bind(&h.sender_oin).bind(&h.handover_id).bind(i as i64).bind(e)
                        .execute(&mut *tx).await?;
                }
                super::sequence_log(&mut tx, entries).await?;
                tx.commit().await?;
                Some(true)
            }
        });
        Ok(r)
    }

    /// A handover by sender and id.
    pub async fn get_handover(
        &self,
        sender: &str,
        handover_id: &str,
    ) -> StoreResult<Option<HandoverRecord>> {
        let h = on_pool!(self, p => {
            match sqlx::query(&format!("SELECT {HANDOVER_COLUMNS} FROM handovers WHERE sender_oin = $1 AND handover_id = $2"))
                .bind(sender).bind(handover_id).fetch_optional(p).await? {
                Some(r) => Some(handover_from_row(&r)?),
                None => None,
            }
        });
        Ok(h)
    }

    /// The encoded envelopes of a handover, in order.
    pub async fn handover_envelopes(
        &self,
        sender: &str,
        handover_id: &str,
    ) -> StoreResult<Vec<Vec<u8>>> {
        let v: Vec<Vec<u8>> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT envelope FROM handover_envelopes WHERE sender_oin = $1 AND handover_id = $2 ORDER BY position")
                .bind(sender).bind(handover_id).fetch_all(p).await?
        });
        Ok(v)
    }

    /// Handovers `oin` sent or received, newest first (at most `limit`); not the erased ones.
    pub async fn list_handovers(&self, oin: &str, limit: u32) -> StoreResult<Vec<HandoverRecord>> {
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            for r in sqlx::query(&format!("SELECT {HANDOVER_COLUMNS} FROM handovers WHERE (sender_oin = $1 OR recipient_oin = $1) AND erased_at IS NULL ORDER BY created_at DESC, handover_id DESC LIMIT $2"))
                .bind(oin).bind(i64::from(limit)).fetch_all(p).await? {
                v.push(handover_from_row(&r)?);
            }
            v
        });
        Ok(v)
    }

    /// The answers to every handover `oin` sent or received that is not erased, oldest first,
    /// keyed by (sender, handover id): one query for a whole list of handovers.
    pub async fn handover_answers_of(
        &self,
        oin: &str,
    ) -> StoreResult<std::collections::HashMap<(String, String), Vec<HandoverAnswer>>> {
        let rows = on_pool!(self, p => {
            let mut v = Vec::new();
            for r in sqlx::query("SELECT a.sender_oin, a.handover_id, a.seq, a.answer, a.reason, a.question_id, a.question, a.role, a.professional, a.answered_at
                    FROM handover_answers a JOIN handovers h ON h.sender_oin = a.sender_oin AND h.handover_id = a.handover_id
                    WHERE (h.sender_oin = $1 OR h.recipient_oin = $1) AND h.erased_at IS NULL ORDER BY a.sender_oin, a.handover_id, a.seq")
                .bind(oin).fetch_all(p).await? {
                let key: (String, String) = (r.col("sender_oin")?, r.col("handover_id")?);
                v.push((key, answer_from_row(&r)?));
            }
            v
        });
        let mut out: std::collections::HashMap<(String, String), Vec<HandoverAnswer>> =
            std::collections::HashMap::new();
        for (k, a) in rows {
            out.entry(k).or_default().push(a);
        }
        Ok(out)
    }

    /// The triages with these ids (those that exist), in one query.
    pub async fn get_triages(
        &self,
        ids: &[crate::ids::TriageId],
    ) -> StoreResult<Vec<TriageRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {TRIAGE_COLUMNS} FROM triages WHERE triage_id IN ({})",
            super::placeholders(1, ids.len())
        );
        let v = on_pool!(self, p => {
            let mut q = sqlx::query(&sql);
            for id in ids {
                q = q.bind(id.as_str());
            }
            let mut v = Vec::new();
            for r in q.fetch_all(p).await? {
                v.push(triage_from_row(&r)?);
            }
            v
        });
        Ok(v)
    }

    /// Records the wijkteam's answer to a handover with its log entry; `a.seq` is set here (one
    /// more than the last). A question whose `question_id` was recorded before is a retry:
    /// `Ok(None)`, nothing new. `Conflict` when the last answer ended the conversation (accepted
    /// or returned). PostgreSQL: the handover row is locked first, so two answers at once take
    /// their turns.
    pub async fn insert_handover_answer(
        &self,
        sender: &str,
        handover_id: &str,
        a: &HandoverAnswer,
        entry: &PendingEntry,
    ) -> StoreResult<Option<u32>> {
        let is_pg = matches!(self, Store::Postgres(_));
        let lock = if is_pg { " FOR UPDATE" } else { "" };
        let r = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let found: Option<String> = sqlx::query_scalar(&format!("SELECT state FROM handovers WHERE sender_oin = $1 AND handover_id = $2{lock}"))
                .bind(sender).bind(handover_id).fetch_optional(&mut *tx).await?;
            if found.is_none() {
                return Err(StoreError::missing("handover", handover_id));
            }
            let last: Option<(i64, String)> = sqlx::query_as("SELECT seq, answer FROM handover_answers WHERE sender_oin = $1 AND handover_id = $2 ORDER BY seq DESC LIMIT 1")
                .bind(sender).bind(handover_id).fetch_optional(&mut *tx).await?;
            let retry = match &a.question_id {
                Some(q) => sqlx::query("SELECT 1 FROM handover_answers WHERE sender_oin = $1 AND handover_id = $2 AND question_id = $3")
                    .bind(sender).bind(handover_id).bind(q).fetch_optional(&mut *tx).await?.is_some(),
                None => false,
            };
            if retry {
                tx.rollback().await?;
                None
            } else {
                if let Some((_, answer)) = &last
                    && AnswerKind::from_code(answer).is_none_or(AnswerKind::is_final)
                {
                    return Err(StoreError::in_state("handover", handover_id, format!("answered {} already", answer.to_lowercase())));
                }
                let seq = last.map_or(1, |(n, _)| n + 1);
                sqlx::query("INSERT INTO handover_answers (sender_oin, handover_id, seq, answer, reason, question_id, question, role, professional, answered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(sender).bind(handover_id).bind(seq).bind(a.answer.code())
                    .bind(a.reason.map(|r| r.code()).unwrap_or_default()).bind(&a.question_id).bind(&a.question)
                    .bind(&a.role).bind(&a.professional).bind(a.answered_at)
                    .execute(&mut *tx).await?;
                super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
                tx.commit().await?;
                Some(seq as u32)
            }
        });
        Ok(r)
    }

    /// The wijkteam's answers to a handover, oldest first.
    pub async fn handover_answers(
        &self,
        sender: &str,
        handover_id: &str,
    ) -> StoreResult<Vec<HandoverAnswer>> {
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            for r in sqlx::query("SELECT seq, answer, reason, question_id, question, role, professional, answered_at FROM handover_answers WHERE sender_oin = $1 AND handover_id = $2 ORDER BY seq")
                .bind(sender).bind(handover_id).fetch_all(p).await? {
                v.push(answer_from_row(&r)?);
            }
            v
        });
        Ok(v)
    }

    /// Stores feedback to a melder with its log entry. The same id with the same request hash and
    /// content digest is a retry (`Ok(false)`, nothing logged); with others, `Conflict`.
    pub async fn insert_feedback(&self, f: &Feedback, entry: &PendingEntry) -> StoreResult<bool> {
        let new = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let existing: Option<(Vec<u8>, Option<Vec<u8>>)> = sqlx::query_as("SELECT request_hash, content_digest FROM melding_feedback WHERE vt_oin = $1 AND feedback_id = $2")
                .bind(&f.vt_oin).bind(&f.feedback_id).fetch_optional(&mut *tx).await?;
            if let Some((hash, digest)) = existing {
                tx.rollback().await?;
                if hash != f.request_hash || digest != f.content_digest {
                    return Err(StoreError::taken("feedback", &f.feedback_id));
                }
                false
            } else {
                let idx = super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
                sqlx::query(&format!("INSERT INTO melding_feedback ({FEEDBACK_COLUMNS}, log_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"))
                    .bind(&f.vt_oin).bind(&f.feedback_id).bind(&f.request_hash).bind(&f.content_digest)
                    .bind(&f.melding).bind(&f.melder_oin).bind(json(&f.subjects)).bind(f.outcome.code())
                    .bind(&f.note).bind(crate::wire::encode_basis(&f.basis)).bind(&f.role).bind(&f.professional)
                    .bind(f.sent_at).bind(f.retain_until).bind(idx)
                    .execute(&mut *tx).await?;
                tx.commit().await?;
                true
            }
        });
        Ok(new)
    }

    /// Feedback by Veilig Thuis `vt` with id `feedback_id`.
    pub async fn get_feedback(&self, vt: &str, feedback_id: &str) -> StoreResult<Option<Feedback>> {
        let f = on_pool!(self, p => {
            match sqlx::query(&format!("SELECT {FEEDBACK_COLUMNS} FROM melding_feedback WHERE vt_oin = $1 AND feedback_id = $2"))
                .bind(vt).bind(feedback_id).fetch_optional(p).await? {
                Some(r) => Some(feedback_from_row(&r)?),
                None => None,
            }
        });
        Ok(f)
    }

    /// The feedback about a melding that `oin` sent or received (as its Veilig Thuis or its
    /// melder), oldest first.
    pub async fn feedback_about(
        &self,
        melding: &MeldingRef,
        oin: &str,
    ) -> StoreResult<Vec<Feedback>> {
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            for r in sqlx::query(&format!("SELECT {FEEDBACK_COLUMNS} FROM melding_feedback WHERE melding_id = $1 AND (melder_oin = $2 OR vt_oin = $2) ORDER BY sent_at, COALESCE(log_index, 0), feedback_id"))
                .bind(melding).bind(oin).fetch_all(p).await? {
                v.push(feedback_from_row(&r)?);
            }
            v
        });
        Ok(v)
    }

    /// Whether Veilig Thuis handed the melding over (any handover, whatever its state).
    pub async fn melding_handed_over(&self, melding: &MeldingRef) -> StoreResult<bool> {
        let found = on_pool!(self, p => {
            sqlx::query("SELECT 1 FROM handovers WHERE melding_id = $1 LIMIT 1")
                .bind(melding).fetch_optional(p).await?.is_some()
        });
        Ok(found)
    }

    /// Delivers a pending handover to its recipient, deciding again with the consents as they
    /// stand inside the transaction (PostgreSQL: consent rows locked FOR SHARE, then the
    /// handover FOR UPDATE — the order a withdrawal uses). Returns the state after.
    pub async fn deliver_handover(
        &self,
        sender: &str,
        handover_id: &str,
        consent_ids: &[crate::ids::ConsentId],
        decide: impl FnOnce(&[Consent]) -> HandoverVerdict,
    ) -> StoreResult<HandoverState> {
        let is_pg = matches!(self, Store::Postgres(_));
        let lock = if is_pg { " FOR UPDATE" } else { "" };
        let state = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let consents = super::consent::lock_consents(&mut tx, consent_ids).await?;
            let current: Option<String> = sqlx::query_scalar(&format!("SELECT state FROM handovers WHERE sender_oin = $1 AND handover_id = $2{lock}"))
                .bind(sender).bind(handover_id).fetch_optional(&mut *tx).await?;
            let current = current.and_then(|s| HandoverState::parse(&s)).ok_or_else(|| StoreError::missing("handover", handover_id))?;
            if current != HandoverState::Pending {
                tx.rollback().await?;
                current
            } else {
                let (state, reasons, entry) = match decide(&consents) {
                    HandoverVerdict::Deliver(e) => (HandoverState::Delivered, Vec::new(), e),
                    HandoverVerdict::Withhold(r, e) => (HandoverState::Withheld, r, e),
                };
                sqlx::query("UPDATE handovers SET state = $3, reasons = $4, updated_at = $5 WHERE sender_oin = $1 AND handover_id = $2")
                    .bind(sender).bind(handover_id).bind(state.as_str()).bind(json(&reasons)).bind(entry.entry.at)
                    .execute(&mut *tx).await?;
                super::sequence_log(&mut tx, std::slice::from_ref(&entry)).await?;
                tx.commit().await?;
                state
            }
        });
        Ok(state)
    }
}
