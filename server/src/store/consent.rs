//! Consent records.
use super::{Columns, Store, StoreError, StoreResult, json, parse};
use crate::domain::consent::Consent;
use crate::ids::SubjectPseudonym;
use crate::ledger::PendingEntry;

pub(super) const COLUMNS: &str = "consent_id, subject, recorded_by_oin, recorded_by, givers, recipients, purposes, categories, valid_from, valid_until, explicit_consent, evidence_reference, subject_facts, recorded_at, withdrawn_at, withdrawn_by, retain_until, disclosers";

/// Builds a consent from a row selected with [`COLUMNS`].
pub(super) fn consent_from_row(r: &impl Columns) -> StoreResult<Consent> {
    let subject: String = r.col("subject")?;
    Ok(Consent {
        id: r.parsed("consent_id")?,
        subject: SubjectPseudonym::from_stored(&subject)
            .ok_or(StoreError::Corrupt("consents.subject"))?,
        recorded_by_oin: r.parsed("recorded_by_oin")?,
        recorded_by: r.col("recorded_by")?,
        givers: parse(&r.col::<String>("givers")?, "consents.givers")?,
        recipients: parse(&r.col::<String>("recipients")?, "consents.recipients")?,
        purposes: parse(&r.col::<String>("purposes")?, "consents.purposes")?,
        categories: parse(&r.col::<String>("categories")?, "consents.categories")?,
        valid_from: r.col("valid_from")?,
        valid_until: r.col("valid_until")?,
        explicit: r.col("explicit_consent")?,
        evidence_reference: r.col("evidence_reference")?,
        facts: parse(&r.col::<String>("subject_facts")?, "consents.subject_facts")?,
        recorded_at: r.col("recorded_at")?,
        withdrawn_at: r.col("withdrawn_at")?,
        withdrawn_by: r.col("withdrawn_by")?,
        retain_until: r.col("retain_until")?,
        disclosers: parse(&r.col::<String>("disclosers")?, "consents.disclosers")?,
    })
}

impl Store {
    /// Records a consent and its log entry in one transaction.
    pub async fn insert_consent(&self, c: &Consent, entry: &PendingEntry) -> StoreResult<()> {
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(&format!("INSERT INTO consents ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"))
                .bind(&c.id)
                .bind(c.subject.as_str())
                .bind(&c.recorded_by_oin)
                .bind(&c.recorded_by)
                .bind(json(&c.givers))
                .bind(json(&c.recipients))
                .bind(json(&c.purposes))
                .bind(json(&c.categories))
                .bind(c.valid_from)
                .bind(c.valid_until)
                .bind(c.explicit)
                .bind(&c.evidence_reference)
                .bind(json(&c.facts))
                .bind(c.recorded_at)
                .bind(c.withdrawn_at)
                .bind(&c.withdrawn_by)
                .bind(c.retain_until)
                .bind(json(&c.disclosers))
                .execute(&mut *tx)
                .await?;
            super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Consents by id (unknown ids are simply absent).
    pub async fn get_consents(&self, ids: &[crate::ids::ConsentId]) -> StoreResult<Vec<Consent>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row = on_pool!(self, p => {
                match sqlx::query(&format!("SELECT {COLUMNS} FROM consents WHERE consent_id = $1")).bind(id).fetch_optional(p).await? {
                    Some(r) => Some(consent_from_row(&r)?),
                    None => None,
                }
            });
            out.extend(row);
        }
        Ok(out)
    }

    /// Every consent about a subject (stored under any of `subject`'s pseudonyms), newest first.
    pub async fn list_consents(&self, subject: &[SubjectPseudonym]) -> StoreResult<Vec<Consent>> {
        if subject.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM consents WHERE subject IN ({}) ORDER BY recorded_at DESC, consent_id",
            super::placeholders(1, subject.len())
        );
        let rows = on_pool!(self, p => {
            let mut v = Vec::new();
            let mut q = sqlx::query(&sql);
            for s in subject {
                q = q.bind(s.as_str());
            }
            for r in q.fetch_all(p).await? {
                v.push(consent_from_row(&r)?);
            }
            v
        });
        Ok(rows)
    }

    /// Logs a read of personal data (e.g. a listing) on its own.
    pub async fn append_log(&self, entries: &[PendingEntry]) -> StoreResult<u64> {
        let first = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let first = super::sequence_log(&mut tx, entries).await?;
            tx.commit().await?;
            first
        });
        Ok(first as u64)
    }

    /// Withdraws a consent, effective at `at`, with its log entry, in one transaction — and in the
    /// same transaction holds back every pending delivery that relies on it, logging each with
    /// `withheld_entry(recipient, sender, signal_id)`. Returns the updated consent and how many
    /// deliveries were held back. [`StoreError::Conflict`] when it was already withdrawn.
    pub async fn withdraw_consent(
        &self,
        id: &crate::ids::ConsentId,
        by: &str,
        at: i64,
        entry: &PendingEntry,
        withheld_entry: impl Fn(&str, &str, &str) -> PendingEntry,
    ) -> StoreResult<(Consent, u32)> {
        let reason = crate::domain::signal::StoredReason {
            code: "CONSENT_WITHDRAWN".into(),
            rule: "floor:consent".into(),
            nl: format!("toestemming {id} is ingetrokken voordat het signaal werd afgeleverd"),
            en: format!("consent {id} was withdrawn before the signal was delivered"),
        };
        let reasons = serde_json::to_string(&[reason]).unwrap_or_default();
        let held = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("UPDATE consents SET withdrawn_at = $2, withdrawn_by = $3 WHERE consent_id = $1 AND withdrawn_at IS NULL")
                .bind(id).bind(at).bind(by)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                let exists = sqlx::query("SELECT 1 FROM consents WHERE consent_id = $1").bind(id).fetch_optional(&mut *tx).await?.is_some();
                return Err(if exists { StoreError::in_state("consent", id, "withdrawn") } else { StoreError::missing("consent", id) });
            }
            let pending: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT d.recipient_oin, d.sender_oin, d.signal_id FROM delivery_consents c JOIN deliveries d
                   ON d.recipient_oin = c.recipient_oin AND d.sender_oin = c.sender_oin AND d.signal_id = c.signal_id
                 WHERE c.consent_id = $1 AND d.state = 'pending' ORDER BY d.cursor")
                .bind(id).fetch_all(&mut *tx).await?;
            let mut entries = vec![entry.clone()];
            for (r, snd, sig) in &pending {
                sqlx::query("UPDATE deliveries SET state = 'withheld', reasons = $4, updated_at = $5 WHERE recipient_oin = $1 AND sender_oin = $2 AND signal_id = $3 AND state = 'pending'")
                    .bind(r).bind(snd).bind(sig).bind(&reasons).bind(at).execute(&mut *tx).await?;
                entries.push(withheld_entry(r, snd, sig));
            }
            super::sequence_log(&mut tx, &entries).await?;
            tx.commit().await?;
            pending.len() as u32
        });
        let c = self
            .get_consents(std::slice::from_ref(id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::missing("consent", id))?;
        Ok((c, held))
    }
}

/// The one way a disclosure's transaction reads the consents it relies on: by id in sorted order,
/// each row locked FOR SHARE on PostgreSQL (SQLite has one writer at a time). A withdrawal locks
/// the consent first and then its pending deliveries, so taking consents before the thing to
/// disclose means a withdrawal either commits first and is seen here, or waits for this
/// transaction — never a disclosure after a withdrawal. Missing ids are left out.
pub(super) async fn lock_consents<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    ids: &[crate::ids::ConsentId],
) -> StoreResult<Vec<Consent>>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DB::Row: Columns,
{
    let share = if super::is_postgres::<DB>() {
        " FOR SHARE"
    } else {
        ""
    };
    let mut sorted: Vec<&crate::ids::ConsentId> = ids.iter().collect();
    sorted.sort();
    sorted.dedup();
    let sql = format!("SELECT {COLUMNS} FROM consents WHERE consent_id = $1{share}");
    let mut out = Vec::new();
    for id in sorted {
        if let Some(r) = sqlx::query(&sql)
            .bind(id.clone())
            .fetch_optional(&mut **tx)
            .await?
        {
            out.push(consent_from_row(&r)?);
        }
    }
    Ok(out)
}
