//! Retention: erasing records whose retention period has passed, with one `erased` log entry per
//! record in the same transaction.
//!
//! What can expire is a table-driven list, [`TARGETS`]: each [`RetentionTarget`] names, in SQL
//! that both dialects accept, how to find expired records and how to erase one. A new kind of
//! record is one more entry: a table with `retain_until BIGINT` and `erased_at BIGINT` columns,
//! a `candidates` query and its `erase` statements. docs/OPERATIONS.md lists, per kind, what is
//! erased and what stays as a tombstone.
use super::{Store, StoreError, StoreResult};
use crate::ids::{Category, Purpose};
use crate::ledger::PendingEntry;

/// One kind of record that expires.
#[derive(Debug, Clone, Copy)]
pub struct RetentionTarget {
    /// The kind's name: in the log entry's `reference` (`<kind>:<id>`), metrics and reports.
    pub kind: &'static str,
    /// Selects expired, not yet erased records, oldest first: `$1` = now (unix seconds), `$2` =
    /// the batch size. Columns, all TEXT: the owning organisation's OIN, the record's id (unique
    /// with the owner), and JSON arrays of its subject pseudonyms, purposes and categories.
    /// PostgreSQL appends `FOR UPDATE SKIP LOCKED`, so instances sweeping at once share the work.
    pub candidates: &'static str,
    /// Statements that erase one record, run in order with `$1` = owner, `$2` = id, `$3` = now
    /// (each statement must use all three: PostgreSQL refuses unused parameters). The first must set `erased_at = $3` guarded by `erased_at IS NULL`: when it changes no
    /// row, another sweeper erased the record first and nothing is logged for it.
    pub erase: &'static [&'static str],
}

/// Facts as stored once erased (no age, no references of the holders of gezag). A macro, not a
/// `const`, because `concat!` (which builds the `TARGETS` statements at compile time) takes
/// literals only.
macro_rules! no_facts {
    () => {
        r#"'{"age_years":null,"age_band":null,"gezag_holders":[]}'"#
    };
}

/// The subject of an erased involvement or maatregel: 64 zeros, a well-formed pseudonym that no
/// BSN has (an HMAC output of all zeros), so no lookup by subject ever finds the tombstone again.
/// A macro for `concat!`, like [`no_facts!`].
macro_rules! erased_subject {
    () => {
        "'0000000000000000000000000000000000000000000000000000000000000000'"
    };
}

/// How a triage is erased, whichever melding it is kept with: the answers, the case reference
/// and the professionals (of the triage and of its decision) go; id, melding, acute, advice,
/// decision and reason, the count of earlier reports and times stay.
const TRIAGE_ERASE: &[&str] = &[
    r#"UPDATE triages SET answers = '{"physical_abuse_or_severe_violence":"","sexual_abuse":"","violence_witnessed_by_children":"","safety_conflict":"","open_to_help":"","stacked_reports":"","mutual_accusations":"","addiction":""}',
         case_reference = '', professional = '', erased_at = $3
         WHERE vt_oin = $1 AND triage_id = $2 AND erased_at IS NULL"#,
    "UPDATE triage_decisions SET professional = '' WHERE triage_id = $2
         AND EXISTS (SELECT 1 FROM triages WHERE vt_oin = $1 AND triage_id = $2 AND erased_at = $3)",
];

/// Every kind of record that expires. Order matters where one record's erasure entry names
/// another's subjects: a triage goes before the melding it is kept with.
pub const TARGETS: &[RetentionTarget] = &[
    // Before `signal`: a triage of a signal sent to Veilig Thuis is kept as long as the signal.
    RetentionTarget {
        kind: "signal_triage",
        candidates: "SELECT t.vt_oin, t.triage_id, s.subjects, '[\"' || s.purpose || '\"]', '[]'
            FROM triages t JOIN signals s ON t.melding_id = 'signal/' || s.sender_oin || '/' || s.signal_id
            WHERE t.erased_at IS NULL AND t.melding_id LIKE 'signal/%' AND s.retain_until <= $1
            ORDER BY s.retain_until, t.vt_oin, t.triage_id LIMIT $2",
        erase: TRIAGE_ERASE,
    },
    RetentionTarget {
        kind: "signal",
        candidates: "SELECT sender_oin, signal_id, subjects, '[\"' || purpose || '\"]', categories
            FROM signals WHERE erased_at IS NULL AND retain_until <= $1 ORDER BY retain_until, sender_oin, signal_id LIMIT $2",
        erase: &[
            // The envelope, the subjects, the facts, the basis with its evidence, the sending
            // professional and any exemption text go; sender, id, purpose, categories, times
            // and the request hash and content digest (idempotency) stay as a tombstone.
            concat!(
                "UPDATE signals SET envelope = NULL, subjects = '[]', subject_facts = ",
                no_facts!(),
                ", basis = substr(basis, 1, 0), sender_professional = '', inform_exemption = NULL, erased_at = $3
                 WHERE sender_oin = $1 AND signal_id = $2 AND erased_at IS NULL"
            ),
            // What was never delivered never will be: held back, with the reason.
            r#"UPDATE deliveries SET state = 'withheld', updated_at = $3, reasons = '[{"code":"RETENTION_EXPIRED","rule":"retention","nl":"de bewaartermijn van het signaal is verstreken voordat het werd afgeleverd","en":"the signal''s retention period ended before it was delivered"}]'
                 WHERE sender_oin = $1 AND signal_id = $2 AND state = 'pending'"#,
            "DELETE FROM delivery_consents WHERE sender_oin = $1 AND signal_id = $2
                 AND EXISTS (SELECT 1 FROM signals WHERE sender_oin = $1 AND signal_id = $2 AND erased_at = $3)",
            // A signal that was a melding to Veilig Thuis: who in the family declined goes.
            "UPDATE family_declines SET declined_by = '' WHERE melding_id = 'signal/' || $1 || '/' || $2
                 AND EXISTS (SELECT 1 FROM signals WHERE sender_oin = $1 AND signal_id = $2 AND erased_at = $3)",
            // Its stages at Veilig Thuis: the subjects and the professional go, a review not yet
            // told is never told; stage, times and role stay.
            "UPDATE melding_stages SET subjects = '[]', professional = '',
                 review_state = CASE WHEN review_state = 'planned' THEN 'erased' ELSE review_state END
                 WHERE melding_id = 'signal/' || $1 || '/' || $2
                 AND EXISTS (SELECT 1 FROM signals WHERE sender_oin = $1 AND signal_id = $2 AND erased_at = $3)",
            // It leaves Veilig Thuis's overview of its meldingen (ListMeldingen).
            "DELETE FROM vt_meldingen WHERE melding_id = 'signal/' || $1 || '/' || $2
                 AND EXISTS (SELECT 1 FROM signals WHERE sender_oin = $1 AND signal_id = $2 AND erased_at = $3)",
        ],
    },
    RetentionTarget {
        kind: "consent",
        candidates: "SELECT recorded_by_oin, consent_id, '[\"' || subject || '\"]', purposes, categories
            FROM consents WHERE erased_at IS NULL AND retain_until <= $1 ORDER BY retain_until, consent_id LIMIT $2",
        erase: &[
            // The givers, the evidence reference, the facts and who recorded or withdrew it go;
            // id, subject pseudonym, purposes, categories, validity and withdrawal time stay.
            concat!(
                "UPDATE consents SET givers = '[]', evidence_reference = NULL, subject_facts = ",
                no_facts!(),
                ", recorded_by = '', withdrawn_by = NULL, erased_at = $3
                 WHERE recorded_by_oin = $1 AND consent_id = $2 AND erased_at IS NULL"
            ),
            "DELETE FROM delivery_consents WHERE consent_id = $2
                 AND EXISTS (SELECT 1 FROM consents WHERE recorded_by_oin = $1 AND consent_id = $2 AND erased_at = $3)",
        ],
    },
    RetentionTarget {
        kind: "zorgmelding_fragment",
        candidates: "SELECT f.police_oin, f.fragment_id, f.subjects, '[\"' || z.purpose || '\"]', f.categories
            FROM zorgmelding_fragments f JOIN zorgmeldingen z ON z.zorgmelding_id = f.zorgmelding_id
            WHERE f.erased_at IS NULL AND f.retain_until <= $1 ORDER BY f.retain_until, f.police_oin, f.fragment_id LIMIT $2",
        erase: &[
            // The envelope, the subjects, the basis and the author go; police, id, melding,
            // sequence, kind, categories, times, the request hash and content digest (idempotency)
            // stay.
            "UPDATE zorgmelding_fragments SET envelope = NULL, subjects = '[]', basis = substr(basis, 1, 0),
                 author_professional = '', erased_at = $3
                 WHERE police_oin = $1 AND fragment_id = $2 AND erased_at IS NULL",
        ],
    },
    // Before `zorgmelding`: a triage's entry names the melding's subjects.
    RetentionTarget {
        kind: "triage",
        candidates: "SELECT t.vt_oin, t.triage_id, z.subjects, '[\"' || z.purpose || '\"]', '[]'
            FROM triages t JOIN zorgmeldingen z ON z.zorgmelding_id = t.melding_id
            WHERE t.erased_at IS NULL AND z.retain_until <= $1 ORDER BY z.retain_until, t.vt_oin, t.triage_id LIMIT $2",
        erase: TRIAGE_ERASE,
    },
    RetentionTarget {
        kind: "zorgmelding",
        candidates: "SELECT police_oin, zorgmelding_id, subjects, '[\"' || purpose || '\"]', '[]'
            FROM zorgmeldingen WHERE erased_at IS NULL AND retain_until <= $1 ORDER BY retain_until, police_oin, zorgmelding_id LIMIT $2",
        erase: &[
            // Its retain_until is its latest fragment's. The subjects and their index (recidive,
            // households) go, and who in the family declined; the melding's ids, registration
            // number, recipient, purpose, versions and times stay.
            "UPDATE zorgmeldingen SET subjects = '[]', erased_at = $3
                 WHERE police_oin = $1 AND zorgmelding_id = $2 AND erased_at IS NULL",
            "DELETE FROM zorgmelding_subjects WHERE zorgmelding_id = $2
                 AND EXISTS (SELECT 1 FROM zorgmeldingen WHERE police_oin = $1 AND zorgmelding_id = $2 AND erased_at = $3)",
            "UPDATE family_declines SET declined_by = '' WHERE melding_id = $2
                 AND EXISTS (SELECT 1 FROM zorgmeldingen WHERE police_oin = $1 AND zorgmelding_id = $2 AND erased_at = $3)",
            // Its stages at Veilig Thuis, as for a signal.
            "UPDATE melding_stages SET subjects = '[]', professional = '',
                 review_state = CASE WHEN review_state = 'planned' THEN 'erased' ELSE review_state END
                 WHERE melding_id = $2
                 AND EXISTS (SELECT 1 FROM zorgmeldingen WHERE police_oin = $1 AND zorgmelding_id = $2 AND erased_at = $3)",
            // It leaves Veilig Thuis's overview of its meldingen (ListMeldingen).
            "DELETE FROM vt_meldingen WHERE melding_id = $2
                 AND EXISTS (SELECT 1 FROM zorgmeldingen WHERE police_oin = $1 AND zorgmelding_id = $2 AND erased_at = $3)",
        ],
    },
    RetentionTarget {
        kind: "information_request",
        candidates: "SELECT vt_oin, request_id, subjects, '[\"informatieverzoek_veilig_thuis\"]', categories
            FROM information_requests WHERE erased_at IS NULL AND retain_until <= $1 ORDER BY retain_until, vt_oin, request_id LIMIT $2",
        erase: &[
            // The sealed question and answer, the subjects, both bases, the case reference and
            // both professionals go; ids, melding, organisation asked, categories, state, the
            // decline reason, roles, times, the request hash and the content digests stay.
            "UPDATE information_requests SET question = NULL, answer = NULL, subjects = '[]',
                 basis = substr(basis, 1, 0), answer_basis = NULL, case_reference = '',
                 professional = '', answered_professional = '', erased_at = $3
                 WHERE vt_oin = $1 AND request_id = $2 AND erased_at IS NULL",
        ],
    },
    RetentionTarget {
        kind: "handover",
        candidates: "SELECT sender_oin, handover_id, subjects, '[\"' || purpose || '\"]', categories
            FROM handovers WHERE erased_at IS NULL AND retain_until <= $1 ORDER BY retain_until, sender_oin, handover_id LIMIT $2",
        erase: &[
            // The subjects and facts, the basis, both contacts, the family's letter and the
            // sender go, and every re-sealed envelope; ids, melding, recipient, purpose,
            // categories, advice, triage, state, consent ids, times, the request hash and the
            // content digests stay.
            r#"UPDATE handovers SET subjects = '[]', subject_facts = '[]', basis = substr(basis, 1, 0),
                 vt_contact = '{"name":"","function":"","phone":"","email":""}',
                 wijkteam_contact = '{"name":"","function":"","phone":"","email":""}',
                 letter = '', sender_professional = '', erased_at = $3
                 WHERE sender_oin = $1 AND handover_id = $2 AND erased_at IS NULL"#,
            r#"UPDATE handovers SET state = 'withheld', updated_at = $3, reasons = '[{"code":"RETENTION_EXPIRED","rule":"retention","nl":"de bewaartermijn van de overdracht is verstreken voordat die werd afgeleverd","en":"the handover''s retention period ended before it was delivered"}]'
                 WHERE sender_oin = $1 AND handover_id = $2 AND state = 'pending'"#,
            "DELETE FROM handover_envelopes WHERE sender_oin = $1 AND handover_id = $2
                 AND EXISTS (SELECT 1 FROM handovers WHERE sender_oin = $1 AND handover_id = $2 AND erased_at = $3)",
            // The wijkteam's questions (sealed) and who answered go; the answers and reasons stay.
            "UPDATE handover_answers SET question = NULL, professional = '' WHERE sender_oin = $1 AND handover_id = $2
                 AND EXISTS (SELECT 1 FROM handovers WHERE sender_oin = $1 AND handover_id = $2 AND erased_at = $3)",
        ],
    },
    RetentionTarget {
        kind: "feedback",
        candidates: "SELECT vt_oin, feedback_id, subjects, '[\"terugkoppeling_melder\"]', '[\"melding_vervolg\"]'
            FROM melding_feedback WHERE erased_at IS NULL AND retain_until <= $1 ORDER BY retain_until, vt_oin, feedback_id LIMIT $2",
        erase: &[
            // The sealed note, the subjects, the basis and the professional go; ids, melding,
            // melder, outcome, times and the request hash (idempotency) stay.
            "UPDATE melding_feedback SET note = NULL, subjects = '[]', basis = substr(basis, 1, 0), professional = '', erased_at = $3
                 WHERE vt_oin = $1 AND feedback_id = $2 AND erased_at IS NULL",
        ],
    },
    RetentionTarget {
        kind: "maatregel",
        candidates: "SELECT registered_by_oin, maatregel_id, '[\"' || subject || '\"]', '[\"maatregel_afstemming\"]', '[\"maatregel_bestaan\"]'
            FROM maatregelen WHERE erased_at IS NULL AND retain_until IS NOT NULL AND retain_until <= $1 ORDER BY retain_until, maatregel_id LIMIT $2",
        erase: &[
            // Set when it ends (or at registration from its planned end). The subject link, the
            // contact point and the registering professional go; id, kind, dates, responsible
            // and registering organisations stay.
            concat!(
                "UPDATE maatregelen SET subject = ",
                erased_subject!(),
                ", contact_point = '', registered_by = '', erased_at = $3
                 WHERE registered_by_oin = $1 AND maatregel_id = $2 AND erased_at IS NULL"
            ),
        ],
    },
    RetentionTarget {
        kind: "involvement",
        candidates: "SELECT org_oin, involvement_id, '[\"' || subject || '\"]', '[\"casusafstemming\"]', '[\"betrokkenheid\"]'
            FROM involvements WHERE erased_at IS NULL AND ended_at IS NOT NULL AND retain_until IS NOT NULL AND retain_until <= $1
            ORDER BY retain_until, involvement_id LIMIT $2",
        erase: &[
            // Only ended involvements expire. The subject link and the persons it covered (so it
            // can never match again), the contact, the registering professional, the basis and
            // the facts go; id, organisation, role, dates and case stay.
            concat!(
                "UPDATE involvements SET subject = ",
                erased_subject!(),
                ", contact_professional = '', registered_by = '', basis = substr(basis, 1, 0), subject_facts = ",
                no_facts!(),
                ", erased_at = $3 WHERE org_oin = $1 AND involvement_id = $2 AND erased_at IS NULL AND ended_at IS NOT NULL"
            ),
            "DELETE FROM involvement_persons WHERE involvement_id = $2
                 AND EXISTS (SELECT 1 FROM involvements WHERE org_oin = $1 AND involvement_id = $2 AND erased_at = $3)",
        ],
    },
    RetentionTarget {
        kind: "safety_plan",
        candidates: "SELECT author_oin, case_id || ':' || CAST(version AS TEXT), '[]', '[\"casusafstemming\"]', '[\"veiligheidsafspraken\"]'
            FROM safety_plans WHERE erased_at IS NULL AND retain_until <= $1 ORDER BY retain_until, case_id, version LIMIT $2",
        erase: &[
            // The id is `<case_id>:<version>`. The sealed envelope and the author and confirming
            // professionals go; case, version, author organisation, to whom it was sealed, which
            // agreement concerns which organisation, confirmations by organisation and times stay.
            "UPDATE safety_plans SET envelope = substr(envelope, 1, 0), author_professional = '', erased_at = $3
                 WHERE author_oin = $1 AND case_id || ':' || CAST(version AS TEXT) = $2 AND erased_at IS NULL",
            "UPDATE safety_plan_confirmations SET professional = ''
                 WHERE case_id || ':' || CAST(version AS TEXT) = $2 AND EXISTS (SELECT 1 FROM safety_plans p
                 WHERE p.author_oin = $1 AND p.case_id || ':' || CAST(p.version AS TEXT) = $2 AND p.erased_at = $3)",
        ],
    },
    RetentionTarget {
        kind: "notification",
        candidates: "SELECT recipient_oin, CAST(cursor AS TEXT), '[]',
                CASE WHEN maatregel_id IS NOT NULL THEN '[\"maatregel_afstemming\"]'
                     WHEN kind = 'handover_unanswered' THEN '[\"overdracht_hulpverlening\"]'
                     WHEN kind = 'inform_overdue' OR kind = 'family_request_granted' THEN '[]'
                     WHEN kind = 'melding_review_due' AND reference LIKE 'signal/%' THEN '[\"melding_veilig_thuis\"]'
                     WHEN kind = 'melding_review_due' THEN '[\"zorgmelding_politie\"]'
                     ELSE '[\"casusafstemming\"]' END, '[]'
            FROM notifications WHERE erased_at IS NULL AND retain_until <= $1 ORDER BY retain_until, recipient_oin, cursor LIMIT $2",
        erase: &[
            // The id is the recipient's cursor. The sentence and the acting professional go;
            // recipient, cursor, kind, time, acting organisation and the ids it refers to stay.
            "UPDATE notifications SET summary_nl = '', actor_professional = '', erased_at = $3
                 WHERE recipient_oin = $1 AND CAST(cursor AS TEXT) = $2 AND erased_at IS NULL",
        ],
    },
];

/// An expired record about to be erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    /// [`RetentionTarget::kind`].
    pub kind: &'static str,
    /// The owning organisation.
    pub owner: String,
    /// The record's id.
    pub id: String,
    /// Subject pseudonyms.
    pub subjects: Vec<String>,
    /// Purposes whose retention ended.
    pub purposes: Vec<Purpose>,
    /// Data categories.
    pub categories: Vec<Category>,
}

fn list<T: serde::de::DeserializeOwned>(s: &str, what: &'static str) -> StoreResult<Vec<T>> {
    serde_json::from_str(s).map_err(|_| StoreError::Corrupt(what))
}

impl Store {
    /// Erases up to `batch` expired records of `target` (retain_until <= `now`) in one
    /// transaction, sequencing `entry_for(record)` for each erased one in the same transaction.
    /// Returns what was erased; fewer than `batch` means nothing more has expired.
    pub async fn erase_expired(
        &self,
        target: &RetentionTarget,
        now: i64,
        batch: u32,
        entry_for: impl Fn(&Expired) -> PendingEntry,
    ) -> StoreResult<Vec<Expired>> {
        let lock = match self {
            Store::Sqlite { .. } => "",
            Store::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!("{}{lock}", target.candidates);
        let erased = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(&sql)
                .bind(now)
                .bind(i64::from(batch))
                .fetch_all(&mut *tx)
                .await?;
            let mut erased = Vec::with_capacity(rows.len());
            let mut entries = Vec::with_capacity(rows.len());
            for (owner, id, subjects, purposes, categories) in rows {
                let item = Expired {
                    kind: target.kind,
                    subjects: list(&subjects, "retention candidate subjects")?,
                    purposes: list(&purposes, "retention candidate purposes")?,
                    categories: list(&categories, "retention candidate categories")?,
                    owner,
                    id,
                };
                let mut first = true;
                let mut mine = true;
                for stmt in target.erase {
                    let n = sqlx::query(stmt)
                        .bind(&item.owner)
                        .bind(&item.id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if first && n == 0 {
                        mine = false;
                        break;
                    }
                    first = false;
                }
                if mine {
                    entries.push(entry_for(&item));
                    erased.push(item);
                }
            }
            if entries.is_empty() {
                tx.rollback().await?;
            } else {
                super::sequence_log(&mut tx, &entries).await?;
                tx.commit().await?;
            }
            erased
        });
        Ok(erased)
    }

    /// After erasing: on SQLite, moves every change from the write-ahead log into the database
    /// file (where `secure_delete` zeroed the old content) and truncates the log file, so no old
    /// page image with erased data stays on disk. Waits up to the busy timeout for readers.
    /// Nothing to do on PostgreSQL (see docs/OPERATIONS.md §6).
    pub async fn purge_erased(&self) -> StoreResult<()> {
        if let Store::Sqlite { write, .. } = self {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(write)
                .await?;
        }
        Ok(())
    }

    /// Erases the professional's clear id beside the log entries made before `before` (the
    /// leaf keeps only the keyed pseudonym, so the log still verifies), from where the last call
    /// stopped (`hub_meta.log_professional_erased_below`) over at most `batch` entries, in one
    /// transaction. Returns how many entries it passed: fewer than `batch` means it reached
    /// `before` (or the end of the log). Entries are taken in log order and it stops at the
    /// first entry made at or after `before`, so the work per call does not grow with the log.
    pub async fn erase_log_professionals(&self, before: i64, batch: u32) -> StoreResult<u64> {
        let passed = on_writer!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO hub_meta (key, value) VALUES ('log_professional_erased_below', 0) ON CONFLICT (key) DO NOTHING")
                .execute(&mut *tx).await?;
            // Serialises instances: the row stays locked until the commit.
            let from: i64 = sqlx::query_scalar("UPDATE hub_meta SET value = value WHERE key = 'log_professional_erased_below' RETURNING value")
                .fetch_one(&mut *tx).await?;
            let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT idx, created_at FROM log_entries WHERE idx >= $1 ORDER BY idx LIMIT $2")
                .bind(from).bind(i64::from(batch)).fetch_all(&mut *tx).await?;
            let old = rows.iter().take_while(|(_, at)| *at < before).count();
            if let Some((last, _)) = old.checked_sub(1).and_then(|i| rows.get(i)) {
                sqlx::query("UPDATE log_entries SET professional = NULL WHERE idx >= $1 AND idx <= $2 AND professional IS NOT NULL")
                    .bind(from).bind(*last).execute(&mut *tx).await?;
                sqlx::query("UPDATE hub_meta SET value = $1 WHERE key = 'log_professional_erased_below'")
                    .bind(*last + 1).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            old as u64
        });
        Ok(passed)
    }

    /// How many records of `target` are expired and not yet erased at `now`.
    pub async fn expired_count(&self, target: &RetentionTarget, now: i64) -> StoreResult<u64> {
        let sql = format!("SELECT COUNT(*) FROM ({}) AS expired", target.candidates);
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(&sql).bind(now).bind(i64::MAX).fetch_one(p).await?);
        Ok(n as u64)
    }
}
