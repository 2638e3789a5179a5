//! The maatregel register. Registration and ending are logged in the same transaction.
use super::{Columns, Store, StoreError, StoreResult};
use crate::domain::involvement::Notification;
use crate::domain::maatregel::{Maatregel, MaatregelKind};
use crate::ids::{Oin, SubjectPseudonym};
use crate::ledger::PendingEntry;

const COLUMNS: &str = "maatregel_id, subject, kind, starts_at, ends_at, responsible_oin, contact_point, registered_by_oin, registered_by, registered_role, registered_at, ended_at, retain_until, next_oin";

/// Builds a maatregel from a row with the columns of [`COLUMNS`].
fn maatregel_from_row(r: &impl Columns) -> StoreResult<Maatregel> {
    let subject: String = r.col("subject")?;
    Ok(Maatregel {
        id: r.parsed("maatregel_id")?,
        subject: SubjectPseudonym::from_stored(&subject)
            .ok_or(StoreError::Corrupt("maatregelen.subject"))?,
        kind: MaatregelKind::parse(&r.col::<String>("kind")?)
            .ok_or(StoreError::Corrupt("maatregelen.kind"))?,
        starts_at: r.col("starts_at")?,
        ends_at: r.col("ends_at")?,
        responsible_oin: r.parsed("responsible_oin")?,
        contact_point: r.col("contact_point")?,
        registered_by_oin: r.parsed("registered_by_oin")?,
        registered_by: r.col("registered_by")?,
        registered_role: r.parsed("registered_role")?,
        registered_at: r.col("registered_at")?,
        ended_at: r.col("ended_at")?,
        retain_until: r.col("retain_until")?,
        next_oin: r.parsed_opt("next_oin")?,
    })
}

impl Store {
    /// How many "no" answers to `HasMaatregel` organisation `oin` got on UTC day `day` (unix
    /// seconds / 86400).
    pub async fn maatregel_no_answers(&self, oin: &str, day: i64) -> StoreResult<u64> {
        let n: Option<i64> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT answers FROM maatregel_no_answers WHERE oin = $1 AND day = $2")
            .bind(oin).bind(day).fetch_optional(p).await?);
        Ok(n.unwrap_or(0).max(0) as u64)
    }

    /// Counts one more "no" answer for `oin` on `day` and returns the day's count; rows of days
    /// before yesterday go in the same transaction.
    pub async fn count_maatregel_no_answer(&self, oin: &str, day: i64) -> StoreResult<u64> {
        let n: i64 = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM maatregel_no_answers WHERE day < $1")
                .bind(day - 1).execute(&mut *tx).await?;
            let n: i64 = sqlx::query_scalar(
                "INSERT INTO maatregel_no_answers (oin, day, answers) VALUES ($1, $2, 1)
                 ON CONFLICT (oin, day) DO UPDATE SET answers = maatregel_no_answers.answers + 1
                 RETURNING answers")
                .bind(oin).bind(day).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            n
        });
        Ok(n.max(0) as u64)
    }

    /// Registers a maatregel with its log entry, in one transaction.
    pub async fn insert_maatregel(&self, m: &Maatregel, entry: &PendingEntry) -> StoreResult<()> {
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(&format!("INSERT INTO maatregelen ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"))
                .bind(&m.id).bind(m.subject.as_str()).bind(m.kind.as_str()).bind(m.starts_at).bind(m.ends_at)
                .bind(&m.responsible_oin).bind(&m.contact_point).bind(&m.registered_by_oin).bind(&m.registered_by)
                .bind(&m.registered_role).bind(m.registered_at).bind(m.ended_at).bind(m.retain_until)
                .bind(m.next_oin.as_ref().map(|o| o.to_string()))
                .execute(&mut *tx).await?;
            super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// One maatregel.
    pub async fn get_maatregel(&self, id: &str) -> StoreResult<Option<Maatregel>> {
        let m = on_pool!(self, p => {
            match sqlx::query(&format!("SELECT {COLUMNS} FROM maatregelen WHERE maatregel_id = $1")).bind(id).fetch_optional(p).await? {
                Some(r) => Some(maatregel_from_row(&r)?),
                None => None,
            }
        });
        Ok(m)
    }

    /// Every maatregel about a subject (stored under any of `subject`'s pseudonyms), oldest first.
    pub async fn maatregelen_of(
        &self,
        subject: &[SubjectPseudonym],
    ) -> StoreResult<Vec<Maatregel>> {
        if subject.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM maatregelen WHERE subject IN ({}) ORDER BY starts_at, maatregel_id",
            super::placeholders(1, subject.len())
        );
        let v = on_pool!(self, p => {
            let mut v = Vec::new();
            let mut q = sqlx::query(&sql);
            for s in subject {
                q = q.bind(s.as_str());
            }
            for r in q.fetch_all(p).await? {
                v.push(maatregel_from_row(&r)?);
            }
            v
        });
        Ok(v)
    }

    /// Ends a maatregel at `at` (kept until `retain_until`), by its registering or responsible
    /// organisation `org`, with its log entry. `NotFound` for anyone else (and once erased at the
    /// end of its retention); `Conflict` when it was ended already.
    #[allow(clippy::too_many_arguments)]
    pub async fn end_maatregel(
        &self,
        id: &str,
        org: &str,
        at: i64,
        retain_until: i64,
        next: Option<&Oin>,
        entry: &PendingEntry,
        told: &[(PendingEntry, Option<Notification>)],
    ) -> StoreResult<Maatregel> {
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("UPDATE maatregelen SET ended_at = $3, retain_until = $4, next_oin = $5 WHERE maatregel_id = $1 AND (registered_by_oin = $2 OR responsible_oin = $2) AND ended_at IS NULL AND erased_at IS NULL")
                .bind(id).bind(org).bind(at).bind(retain_until).bind(next.map(|o| o.to_string()))
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                let ended: Option<Option<i64>> = sqlx::query_scalar("SELECT ended_at FROM maatregelen WHERE maatregel_id = $1 AND (registered_by_oin = $2 OR responsible_oin = $2)")
                    .bind(id).bind(org).fetch_optional(&mut *tx).await?;
                return Err(match ended {
                    Some(Some(_)) => StoreError::in_state("maatregel", id, "ended"),
                    _ => StoreError::missing("maatregel", id),
                });
            }
            super::sequence_log(&mut tx, std::slice::from_ref(entry)).await?;
            super::involvement::log_and_notify(&mut tx, told).await?;
            tx.commit().await?;
        });
        self.get_maatregel(id)
            .await?
            .ok_or_else(|| StoreError::missing("maatregel", id))
    }
}
