//! The store: one interface over SQLite (embedded default) and PostgreSQL (many instances).
//!
//! Every query is written once; [`on_pool!`] expands it for both drivers, so the two backends
//! cannot drift apart in behaviour. Placeholders are `$1, $2, ...`, which both drivers accept.
//! Rows are read by column name through [`Columns`]; the steps several transactions share are
//! ordinary functions generic over the backend's transaction. `tests/tests/store_conformance*.rs`
//! runs every public function here on both databases.
use crate::domain::directory::{KeyUsage, OrgFilter, OrgKey, OrgStatus, Organization, Sector};
use crate::ids::Oin;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Row};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Runs `$body` with `$pool` bound to the concrete pool of whichever backend `$store` uses.
///
/// A macro, not a function generic over the database: the body is written once and type-checked
/// against each driver's concrete types, where a generic function would have to list an
/// `Encode`/`Decode`/`Executor` bound for every type each query touches. What several
/// transactions share is an ordinary generic function instead ([`sequence_log`],
/// `consent::lock_consents`, the register's steps in `involvement`), and rows are read through
/// [`Columns`].
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite { read: $pool, .. } => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

/// Like [`on_pool!`], for statements that write: SQLite writes go through its single writer
/// connection (SQLite has one writer at a time; queueing in the pool avoids busy errors and
/// deferred-transaction upgrade failures), PostgreSQL writes through the shared pool.
macro_rules! on_writer {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite { write: $pool, .. } => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

/// A row of either database, read by column name: `let x = row.col("name")?` with the type
/// inferred from where it goes, so one row mapper serves both backends without a list of
/// per-type bounds. Implemented for the two drivers' rows.
pub(crate) trait Columns {
    /// The value of column `name`.
    fn col<T: Column>(&self, name: &str) -> Result<T, sqlx::Error>;

    /// The text of column `name` parsed into `T` (an `Oin`, an `Id<K>`, ...); a value that does
    /// not parse is [`StoreError::Corrupt`] naming the column, never a panic.
    fn parsed<T: std::str::FromStr>(&self, name: &'static str) -> StoreResult<T> {
        self.col::<String>(name)?
            .parse()
            .map_err(|_| StoreError::Corrupt(name))
    }

    /// Like [`Columns::parsed`] for a column that may be NULL.
    fn parsed_opt<T: std::str::FromStr>(&self, name: &'static str) -> StoreResult<Option<T>> {
        self.col::<Option<String>>(name)?
            .map(|s| s.parse().map_err(|_| StoreError::Corrupt(name)))
            .transpose()
    }
}

/// A Rust type both databases decode a column into (`String`, `i64`, `bool`, `Vec<u8>`, their
/// `Option`s, and newtypes derived `#[sqlx(transparent)]` over them).
pub(crate) trait Column:
    for<'r> sqlx::Decode<'r, sqlx::Sqlite>
    + sqlx::Type<sqlx::Sqlite>
    + for<'r> sqlx::Decode<'r, sqlx::Postgres>
    + sqlx::Type<sqlx::Postgres>
{
}

impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
{
}

impl Columns for sqlx::sqlite::SqliteRow {
    fn col<T: Column>(&self, name: &str) -> Result<T, sqlx::Error> {
        self.try_get(name)
    }
}

impl Columns for sqlx::postgres::PgRow {
    fn col<T: Column>(&self, name: &str) -> Result<T, sqlx::Error> {
        self.try_get(name)
    }
}

/// Whether a transaction generic over the backend runs on PostgreSQL (row locks, `pg_notify`).
pub(crate) fn is_postgres<DB: sqlx::Database>() -> bool {
    DB::NAME == "PostgreSQL"
}

/// Sequences log entries inside an open transaction: takes the next indexes from the `log_state`
/// row — an UPDATE, so PostgreSQL holds its row lock until commit and appends from many instances
/// serialise without forks or gaps — then inserts the entries, their subject and organisation
/// index rows and, for deliveries, what the recipient received about whom for which purpose
/// (`log_received_purposes`). Returns the first index. Every act that is logged calls this inside its own
/// transaction, so no act commits without its entry and no entry without its act.
pub(crate) async fn sequence_log<DB, E>(
    tx: &mut sqlx::Transaction<'_, DB>,
    entries: &[E],
) -> StoreResult<i64>
where
    DB: sqlx::Database,
    DB::Row: Columns,
    E: std::borrow::Borrow<crate::ledger::PendingEntry>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let n = entries.len() as i64;
    let end: i64 = sqlx::query("UPDATE log_state SET size = size + $1 WHERE id = 1 RETURNING size")
        .bind(n)
        .fetch_one(&mut **tx)
        .await?
        .col("size")?;
    let first = end - n;
    let rows: Vec<(i64, &crate::ledger::PendingEntry)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (first + i as i64, e.borrow()))
        .collect();
    // Multi-row statements (a group commit sequences many entries at once).
    for chunk in shaped(&rows) {
        let sql = format!(
            "INSERT INTO log_entries (idx, entry, professional, created_at) VALUES {}",
            placeholders_rows(chunk.len(), 4)
        );
        let mut q = sqlx::query(&sql);
        for (idx, p) in chunk {
            q = q
                .bind(*idx)
                .bind(p.entry.to_bytes())
                .bind(p.professional.clone())
                .bind(p.entry.at);
        }
        q.execute(&mut **tx).await?;
    }
    let subjects: Vec<(String, i64)> = rows
        .iter()
        .flat_map(|(idx, p)| p.entry.subjects.iter().map(move |s| (s.clone(), *idx)))
        .collect();
    let orgs: Vec<(String, i64)> = rows
        .iter()
        .flat_map(|(idx, p)| {
            std::iter::once(&p.entry.actor_oin)
                .chain(p.entry.recipient_oin.iter())
                .map(move |o| (o.clone(), *idx))
        })
        .collect();
    for (table, key, pairs) in [
        ("log_subject_index", "subject", subjects),
        ("log_org_index", "oin", orgs),
    ] {
        for chunk in shaped(&pairs) {
            let sql = format!(
                "INSERT INTO {table} ({key}, idx) VALUES {} ON CONFLICT DO NOTHING",
                placeholders_rows(chunk.len(), 2)
            );
            let mut q = sqlx::query(&sql);
            for (k, idx) in chunk {
                q = q.bind(k.clone()).bind(*idx);
            }
            q.execute(&mut **tx).await?;
        }
    }
    // What each recipient now holds about whom, and for which purpose (`received_purposes`).
    let mut received: Vec<(&String, &String, &String)> = rows
        .iter()
        .filter(|(_, p)| p.entry.event.is_delivery())
        .filter_map(|(_, p)| {
            Some((
                p,
                p.entry.recipient_oin.as_ref()?,
                p.entry.purpose.as_ref()?,
            ))
        })
        .flat_map(|(p, r, purpose)| p.entry.subjects.iter().map(move |s| (s, r, purpose)))
        .collect();
    received.sort();
    received.dedup();
    for chunk in shaped(&received) {
        let sql = format!(
            "INSERT INTO log_received_purposes (subject, recipient_oin, purpose) VALUES {} ON CONFLICT DO NOTHING",
            placeholders_rows(chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for (s, r, purpose) in chunk {
            q = q
                .bind((*s).clone())
                .bind((*r).clone())
                .bind((*purpose).clone());
        }
        q.execute(&mut **tx).await?;
    }
    record_inform_obligations(tx, &rows).await?;
    Ok(first)
}

/// The duties to inform the family that the disclosures among `rows` carry
/// ([`crate::ledger::PendingEntry::inform`]), one per entry, keyed by its log index: open, or
/// closed at once with the exemption recorded with the disclosure.
async fn record_inform_obligations<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    rows: &[(i64, &crate::ledger::PendingEntry)],
) -> StoreResult<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    use crate::ledger::InformMark;
    // Open obligations, then those closed at once by an exemption recorded with the disclosure
    // (they differ in which columns they fill).
    for exempted in [false, true] {
        let marked: Vec<(i64, &crate::ledger::PendingEntry, Option<&String>)> = rows
            .iter()
            .filter_map(|(idx, p)| match &p.inform {
                Some(InformMark::Open) if !exempted => Some((*idx, *p, None)),
                Some(InformMark::Exempted(g)) if exempted => Some((*idx, *p, Some(g))),
                _ => None,
            })
            .collect();
        let cols = if exempted { 12 } else { 8 };
        for chunk in shaped(&marked) {
            let sql = format!(
                "INSERT INTO inform_obligations (log_idx, org_oin, event, reference, recipient_oin, purpose, created_at, state{}) VALUES {}",
                if exempted {
                    ", ground, closed_role, closed_professional, closed_at"
                } else {
                    ""
                },
                placeholders_rows(chunk.len(), cols)
            );
            let mut q = sqlx::query(&sql);
            for (idx, p, ground) in chunk {
                let e = &p.entry;
                q = q
                    .bind(*idx)
                    .bind(e.actor_oin.clone())
                    .bind(crate::ledger::event_name(e.event))
                    .bind(e.reference.clone().unwrap_or_default())
                    .bind(e.recipient_oin.clone().unwrap_or_default())
                    .bind(e.purpose.clone().unwrap_or_default())
                    .bind(e.at);
                q = match ground {
                    None => q.bind("OPEN".to_owned()),
                    Some(g) => q
                        .bind("EXEMPTED".to_owned())
                        .bind((*g).clone())
                        .bind(e.actor_role.clone())
                        .bind(p.professional.clone())
                        .bind(e.at),
                };
            }
            q.execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// Rows per multi-row statement: well inside SQLite's and PostgreSQL's bound-parameter limits
/// (32 766 and 65 535) for the widest row (17 columns).
pub(crate) const ROWS_PER_STATEMENT: usize = 256;

/// `rows` in chunks for multi-row statements, each of a power-of-two size up to
/// [`ROWS_PER_STATEMENT`], largest first (37 rows: 32, 4, 1). A statement's text depends on its
/// row count, and every distinct text is prepared anew unless the driver's statement cache holds
/// it: with these sizes a table has at most nine shapes, so a group commit of any size reuses
/// prepared statements instead of preparing one per group size.
pub(crate) fn shaped<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = rest.len().min(ROWS_PER_STATEMENT);
        let size = 1usize << (usize::BITS - 1 - n.leading_zeros());
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        Some(chunk)
    })
}

/// `($1, ..., $cols), ($cols+1, ...), ...` for `rows` rows.
pub(crate) fn placeholders_rows(rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * cols + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

/// A value as the JSON text stored in a column (plain data; serialising it cannot fail).
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A JSON column read back; `what` names the column when it does not parse.
/// `$from, $from+1, …` for `n` bound values (an `IN (…)` list).
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse<T: serde::de::DeserializeOwned>(s: &str, what: &'static str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|_| StoreError::Corrupt(what))
}

pub mod consent;
pub mod family;
pub mod group;
pub mod involvement;
pub mod log;
pub mod maatregel;
pub mod melding;
pub mod rekey;
pub mod retention;
pub mod signal;
pub mod testing;
pub mod zorgmelding;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// What went wrong in the store. Never shown to a client as is: the api layer maps it to a
/// status without internals and logs the detail with a correlation id.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not answer (connection, I/O, constraint we did not expect).
    #[error("database unavailable: {0}")]
    Unavailable(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The record that should exist does not (or not for the caller).
    #[error("{} {} not found", .0.kind, .0.id)]
    NotFound(Record),
    /// The change conflicts with what is stored.
    #[error("{0}")]
    Conflict(Clash),
    /// The database cannot be set up as asked; the message says what to do.
    #[error("{0}")]
    Setup(String),
    /// A stored value does not parse: the database was changed outside the hub.
    #[error("corrupt stored value in {0}")]
    Corrupt(&'static str),
    /// A value the store refuses to write (a token key of no accepted type); the message says why.
    #[error("{0}")]
    Invalid(String),
}

/// A record the store was asked about: its kind and id, no prose (the flows word the answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What kind of record, e.g. `signal`, `consent`, `involvement`.
    pub kind: &'static str,
    /// Its id as the caller named it.
    pub id: String,
}

impl Record {
    /// A record of `kind` with `id`.
    pub fn new(kind: &'static str, id: impl std::fmt::Display) -> Self {
        Record {
            kind,
            id: id.to_string(),
        }
    }
}

/// How a change conflicts with what is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Clash {
    /// The id is taken (by other content).
    #[error("{} {} already exists", .0.kind, .0.id)]
    Taken(Record),
    /// The record is in a state that does not allow the change (e.g. already ended).
    #[error("{} {} is {state}", .record.kind, .record.id)]
    State {
        /// The record.
        record: Record,
        /// Its state, as stored (e.g. `ended`, `withdrawn`, `pending`).
        state: String,
    },
    /// An organisation named is not an active party of the case.
    #[error("{oin} is not an active party of case {case_id}")]
    NotAParty {
        /// The case.
        case_id: crate::ids::CaseId,
        /// The organisation.
        oin: crate::ids::Oin,
    },
    /// The case was merged into another one.
    #[error("case {case_id} was merged into case {into}")]
    Merged {
        /// The case named.
        case_id: crate::ids::CaseId,
        /// The case it lives on in.
        into: crate::ids::CaseId,
    },
    /// A version that is not the next one.
    #[error("version {version} of {} {} is not the next (the latest is {latest})", .record.kind, .record.id)]
    Stale {
        /// The record.
        record: Record,
        /// The version offered.
        version: u32,
        /// The latest stored.
        latest: u32,
    },
}

impl StoreError {
    /// `NotFound` for a record of `kind` with `id`.
    pub fn missing(kind: &'static str, id: impl std::fmt::Display) -> Self {
        StoreError::NotFound(Record::new(kind, id))
    }

    /// `Conflict(Taken)` for a record of `kind` with `id`.
    pub fn taken(kind: &'static str, id: impl std::fmt::Display) -> Self {
        StoreError::Conflict(Clash::Taken(Record::new(kind, id)))
    }

    /// `Conflict(State)`: the record of `kind` with `id` is `state`.
    pub fn in_state(
        kind: &'static str,
        id: impl std::fmt::Display,
        state: impl Into<String>,
    ) -> Self {
        StoreError::Conflict(Clash::State {
            record: Record::new(kind, id),
            state: state.into(),
        })
    }

    /// Whether the error says that the store as a whole cannot answer now — unreachable, out of
    /// connections, disk full, I/O error, read-only — rather than that one request is at fault:
    /// retrying the same work piece by piece cannot help then.
    pub fn is_outage(&self) -> bool {
        let StoreError::Unavailable(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Database(d) => {
                let code = d.code().unwrap_or_default();
                if d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some()
                {
                    // SQLSTATE classes: connection exception, insufficient resources (disk
                    // full), operator intervention (shutdown), system error (I/O).
                    ["08", "53", "57", "58"].iter().any(|c| code.starts_with(c))
                } else {
                    // SQLite (extended) result codes, primary part: BUSY, LOCKED, READONLY,
                    // IOERR, CORRUPT, FULL, CANTOPEN.
                    code.parse::<i32>()
                        .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 8 | 10 | 11 | 13 | 14))
                }
            }
            _ => true,
        }
    }

    /// An outage error carrying another error's text (for answering several requests that met
    /// the same failure).
    pub fn outage(text: String) -> StoreError {
        StoreError::Unavailable(sqlx::Error::Io(std::io::Error::other(text)))
    }
}

/// oin, name, sector, region, contact_point, status, token_issuer, expertise (newline-joined),
/// privacy_contact.
type OrgRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
);
/// oin, usage, key_id, public_key, created_at, retired_at.
type KeyRow = (String, String, String, Vec<u8>, i64, Option<i64>);

/// Result alias for the store.
pub type StoreResult<T> = Result<T, StoreError>;

/// The hub's database: SQLite (WAL, synchronous=FULL) or PostgreSQL.
#[derive(Clone, Debug)]
pub enum Store {
    /// Embedded, one instance: one writer connection, several readers (WAL).
    Sqlite {
        /// Readers.
        read: SqlitePool,
        /// The single writer.
        write: SqlitePool,
    },
    /// Shared by many hub instances.
    Postgres(PgPool),
}

/// A migrated schema (see [`Store::schema`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// Table name -> column names, sorted.
    pub tables: std::collections::BTreeMap<String, Vec<String>>,
    /// Index names created by name, sorted.
    pub indexes: Vec<String>,
}

/// Whether a database setting names PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Store {
    /// Opens (creating if needed) the SQLite file at `path`, in WAL mode with synchronous=FULL,
    /// and runs its migrations.
    pub async fn open_sqlite(path: &Path) -> StoreResult<Store> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Deleted and overwritten content is zeroed in the file, so what retention erases
            // does not linger in free space (see store::retention).
            .pragma("secure_delete", "on")
            // The SQLite driver hands rows from its own thread to the caller through a bounded
            // channel (50 by default); long reads (`log verify`, integration) then wake the
            // caller every few rows. 1 024 rows (a few hundred KB) keep both sides busy.
            .row_buffer_size(1024)
            // Prepared statements kept per connection (100 by default): the writer runs every
            // kind of write, each multi-row insert in up to nine shapes (`shaped`), and a
            // statement evicted is prepared again on its next use.
            .statement_cache_capacity(512)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            // As for PostgreSQL: a writer that cannot be had within 10 s is an outage, answered
            // UNAVAILABLE (before the request timeout cancels the call).
            .acquire_timeout(Duration::from_secs(10))
            // SQLite opens a file it may not write read-only, silently (e.g. while the disk
            // refuses writes); such a writer would refuse every write even after the disk is
            // back. A writer must be able to take the write lock, or it is not opened (the pool
            // tries again at the next request).
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
                    sqlx::query("ROLLBACK").execute(&mut *conn).await?;
                    Ok(())
                })
            })
            // A COMMIT that fails with an I/O error is rolled back by SQLite itself, but sqlx
            // still counts the transaction as open; reused, that connection would turn the next
            // BEGIN into a SAVEPOINT inside a transaction that never commits, so later writes
            // would be acknowledged without ever being stored. Such a connection is closed
            // instead of going back to the pool.
            .after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            .connect_with(opts.clone())
            .await?;
        SQLITE_MIGRATIONS.run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            // A local file's connection does not go stale as a network one does: no ping (a
            // round trip to the connection's worker thread) before every pooled query.
            .test_before_acquire(false)
            .connect_with(opts)
            .await?;
        Ok(Store::Sqlite { read, write })
    }

    /// Connects to PostgreSQL at `url` and runs its migrations.
    pub async fn open_postgres(url: &str) -> StoreResult<Store> {
        let opts = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        POSTGRES_MIGRATIONS.run(&pool).await?;
        Ok(Store::Postgres(pool))
    }

    /// Creates the database a PostgreSQL URL names when it does not exist yet (the dev kit's
    /// first start, `signaalhub quickstart`): connects to the server's `postgres` database with
    /// the same role and runs `CREATE DATABASE`. Returns whether it created one. When the role
    /// may not create databases, the error says what an administrator runs instead.
    pub async fn create_postgres_database_if_missing(url: &str) -> StoreResult<bool> {
        let opts = PgConnectOptions::from_str(url)?;
        let Some(name) = opts.get_database().map(str::to_owned) else {
            return Ok(false);
        };
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone().database("postgres"))
            .await?;
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                .bind(&name)
                .fetch_optional(&admin)
                .await?;
        let created = if exists.is_some() {
            false
        } else {
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            match sqlx::query(&format!("CREATE DATABASE {quoted}"))
                .execute(&admin)
                .await
            {
                Ok(_) => true,
                // Another instance created it in the meantime.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => false,
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") => {
                    admin.close().await;
                    return Err(StoreError::Setup(format!(
                        "database {name:?} does not exist and this role may not create it; an administrator runs: CREATE DATABASE {quoted} OWNER {};",
                        opts.get_username()
                    )));
                }
                Err(e) => {
                    admin.close().await;
                    return Err(e.into());
                }
            }
        };
        admin.close().await;
        Ok(created)
    }

    /// Opens the store a configuration names: a `postgres://` URL, or else a SQLite file path.
    pub async fn open(database: &str) -> StoreResult<Store> {
        if is_postgres_url(database) {
            Store::open_postgres(database).await
        } else {
            Store::open_sqlite(Path::new(database)).await
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite { .. } => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// The schema as migrated: every table (the migrator's own left out) with its column names,
    /// and the indexes created by name (not those that back a primary key or unique constraint,
    /// which the two databases name differently). The two backends' migrations are written
    /// separately; `tests/tests/store_conformance.rs` checks that they stay in step.
    pub async fn schema(&self) -> StoreResult<Schema> {
        let mut schema = Schema::default();
        match self {
            Store::Sqlite { read, .. } => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name",
                )
                .fetch_all(read)
                .await?;
                for t in tables {
                    let cols: Vec<String> =
                        sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY name")
                            .bind(&t)
                            .fetch_all(read)
                            .await?;
                    schema.tables.insert(t, cols);
                }
                schema.indexes = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
                )
                .fetch_all(read)
                .await?;
            }
            Store::Postgres(p) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_sqlx%' ORDER BY 1",
                )
                .fetch_all(p)
                .await?;
                for t in tables {
                    let cols: Vec<String> = sqlx::query_scalar(
                        "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY 1",
                    )
                    .bind(&t)
                    .fetch_all(p)
                    .await?;
                    schema.tables.insert(t, cols);
                }
                schema.indexes = sqlx::query_scalar(
                    "SELECT i.relname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = current_schema() AND t.relname NOT LIKE '\\_sqlx%' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1",
                )
                .fetch_all(p)
                .await?;
            }
        }
        Ok(schema)
    }

    /// Closes all connections.
    pub async fn close(&self) {
        on_writer!(self, p => p.close().await);
        on_pool!(self, p => p.close().await)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        on_pool!(self, p => { sqlx::query("SELECT 1").execute(p).await?; });
        Ok(())
    }

    // ---- directory -------------------------------------------------------------------------

    /// The directory's generation: changes with every directory write, so other instances can
    /// poll one row to learn they must reload.
    pub async fn directory_generation(&self) -> StoreResult<i64> {
        let v: i64 = on_pool!(self, p => {
            sqlx::query_scalar("SELECT value FROM hub_meta WHERE key = 'directory_generation'")
                .fetch_one(p)
                .await?
        });
        Ok(v)
    }

    /// Adds an organisation. Fails with [`StoreError::Conflict`] when its OIN is taken.
    pub async fn add_organization(&self, org: &Organization) -> StoreResult<()> {
        let t = now();
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO organizations (oin, name, sector, region, contact_point, status, token_issuer, created_at, updated_at, privacy_contact)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) ON CONFLICT (oin) DO NOTHING",
            )
            .bind(org.oin.as_str())
            .bind(&org.name)
            .bind(org.sector.as_str())
            .bind(&org.region)
            .bind(&org.contact_point)
            .bind(org.status.as_str())
            .bind(&org.token_issuer)
            .bind(t)
            .bind(&org.privacy_contact)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Err(StoreError::taken("organisation", &org.oin));
            }
            for tag in &org.expertise {
                sqlx::query("INSERT INTO organization_expertise (oin, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(org.oin.as_str())
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE hub_meta SET value = value + 1 WHERE key = 'directory_generation'")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Replaces an organisation's own profile fields (sociale kaart).
    pub async fn update_profile(
        &self,
        oin: &Oin,
        region: &str,
        expertise: &[String],
        contact_point: &str,
    ) -> StoreResult<()> {
        let t = now();
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("UPDATE organizations SET region = $2, contact_point = $3, updated_at = $4 WHERE oin = $1")
                .bind(oin.as_str()).bind(region).bind(contact_point).bind(t)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::missing("organisation", oin));
            }
            sqlx::query("DELETE FROM organization_expertise WHERE oin = $1").bind(oin.as_str()).execute(&mut *tx).await?;
            for tag in expertise {
                sqlx::query("INSERT INTO organization_expertise (oin, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(oin.as_str()).bind(tag).execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE hub_meta SET value = value + 1 WHERE key = 'directory_generation'")
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Sets how a family reaches an organisation's privacy officer (empty: not known), as the
    /// family's letters print it. Every instance sees it at its next directory poll.
    pub async fn set_privacy_contact(&self, oin: &Oin, contact: &str) -> StoreResult<()> {
        let t = now();
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("UPDATE organizations SET privacy_contact = $2, updated_at = $3 WHERE oin = $1")
                .bind(oin.as_str()).bind(contact).bind(t)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::missing("organisation", oin));
            }
            sqlx::query("UPDATE hub_meta SET value = value + 1 WHERE key = 'directory_generation'")
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Sets an organisation's status. Takes effect on every instance at its next directory poll,
    /// and at once on the instance that made the change.
    pub async fn set_status(&self, oin: &Oin, status: OrgStatus) -> StoreResult<()> {
        let t = now();
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("UPDATE organizations SET status = $2, updated_at = $3 WHERE oin = $1")
                .bind(oin.as_str()).bind(status.as_str()).bind(t)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::missing("organisation", oin));
            }
            sqlx::query("UPDATE hub_meta SET value = value + 1 WHERE key = 'directory_generation'")
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Publishes a key. A new key of the same usage retires the previous current one (it stays
    /// listed, with `retired_at`), except token keys, which stay current until retired explicitly
    /// so that tokens already issued keep working during a rotation.
    ///
    /// A token key must be in a stored form `domain::token_key` accepts (a raw Ed25519 key or an
    /// RSA / P-256 SubjectPublicKeyInfo); the `algorithm` column records the JWT algorithm it is
    /// pinned to (`EdDSA`, `RS256`, `ES256`), the other usages their key algorithm.
    pub async fn add_key(&self, key: &OrgKey) -> StoreResult<()> {
        let t = now();
        let algorithm = match key.usage {
            KeyUsage::Token => crate::domain::token_key::token_key_material(&key.public_key)
                .map_err(|e| StoreError::Invalid(format!("token key {}: {e}", key.key_id)))?
                .algorithm
                .as_str(),
            other => other.algorithm(),
        };
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            if key.usage != KeyUsage::Token {
                sqlx::query("UPDATE organization_keys SET retired_at = $3 WHERE oin = $1 AND usage = $2 AND retired_at IS NULL")
                    .bind(key.oin.as_str()).bind(key.usage.as_str()).bind(t)
                    .execute(&mut *tx).await?;
            }
            let n = sqlx::query(
                "INSERT INTO organization_keys (oin, usage, key_id, algorithm, public_key, created_at, retired_at)
                 VALUES ($1, $2, $3, $4, $5, $6, NULL) ON CONFLICT DO NOTHING",
            )
            .bind(key.oin.as_str()).bind(key.usage.as_str()).bind(&key.key_id)
            .bind(algorithm).bind(&key.public_key).bind(t)
            .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::taken("key", format!("{} {} of {}", key.usage.as_str(), key.key_id, key.oin)));
            }
            sqlx::query("UPDATE hub_meta SET value = value + 1 WHERE key = 'directory_generation'")
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Retires a key (a token key stops verifying tokens at once).
    pub async fn retire_key(&self, oin: &Oin, usage: KeyUsage, key_id: &str) -> StoreResult<()> {
        let t = now();
        on_writer!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("UPDATE organization_keys SET retired_at = $4 WHERE oin = $1 AND usage = $2 AND key_id = $3 AND retired_at IS NULL")
                .bind(oin.as_str()).bind(usage.as_str()).bind(key_id).bind(t)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::missing("current key", format!("{} {key_id} of {oin}", usage.as_str())));
            }
            sqlx::query("UPDATE hub_meta SET value = value + 1 WHERE key = 'directory_generation'")
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// One organisation, suspended or not.
    pub async fn get_organization(&self, oin: &Oin) -> StoreResult<Option<Organization>> {
        let filter = OrgFilter {
            include_suspended: true,
            limit: 1,
            ..OrgFilter::default()
        };
        let rows = self.list_organizations_where(Some(oin), &filter).await?;
        Ok(rows.into_iter().next())
    }

    /// The sociale kaart, ordered by OIN.
    ///
    /// `query` matches a substring of the name or of an expertise tag, ignoring case (Unicode
    /// lower case; `%` and `_` are dropped from it). It is matched here rather than in SQL, so
    /// that both databases answer alike: SQLite's `lower()` and `LIKE` fold ASCII letters only,
    /// and PostgreSQL's `LIKE` takes `\` as an escape.
    pub async fn list_organizations(&self, filter: &OrgFilter) -> StoreResult<Vec<Organization>> {
        self.list_organizations_where(None, filter).await
    }

    async fn list_organizations_where(
        &self,
        exact: Option<&Oin>,
        f: &OrgFilter,
    ) -> StoreResult<Vec<Organization>> {
        let limit = f.limit.max(1) as usize;
        let Some(query) = &f.query else {
            return self
                .organizations_page(exact, f, f.after.as_ref(), limit)
                .await;
        };
        let needle: String = query
            .chars()
            .filter(|c| *c != '%' && *c != '_')
            .collect::<String>()
            .to_lowercase();
        let matches = |o: &Organization| {
            o.name.to_lowercase().contains(&needle)
                || o.expertise
                    .iter()
                    .any(|t| t.to_lowercase().contains(&needle))
        };
        // Page through the organisations the other filters allow until `limit` match.
        const PAGE: usize = 256;
        let mut out = Vec::new();
        let mut after = f.after.clone();
        loop {
            let page = self
                .organizations_page(exact, f, after.as_ref(), PAGE)
                .await?;
            let more = page.len() == PAGE;
            after = page.last().map(|o| o.oin.clone());
            out.extend(page.into_iter().filter(|o| matches(o)));
            if out.len() >= limit || !more {
                out.truncate(limit);
                return Ok(out);
            }
        }
    }

    /// Up to `limit` organisations after `after` that every filter but `query` allows.
    async fn organizations_page(
        &self,
        exact: Option<&Oin>,
        f: &OrgFilter,
        after: Option<&Oin>,
        limit: usize,
    ) -> StoreResult<Vec<Organization>> {
        const SQL: &str = "SELECT o.oin, o.name, o.sector, o.region, o.contact_point, o.status, o.token_issuer,
                (SELECT string_agg_placeholder) AS expertise, o.privacy_contact
            FROM organizations o
            WHERE ($1 IS NULL OR o.oin = $1)
              AND ($2 IS NULL OR o.sector = $2)
              AND ($3 IS NULL OR o.region = $3)
              AND ($4 IS NULL OR EXISTS (SELECT 1 FROM organization_expertise e WHERE e.oin = o.oin AND e.tag = $4))
              AND ($5 OR o.status = 'active')
              AND ($6 IS NULL OR o.oin > $6)
            ORDER BY o.oin
            LIMIT $7";
        let agg_sqlite = "group_concat(tag, char(10)) FROM (SELECT tag FROM organization_expertise e WHERE e.oin = o.oin ORDER BY tag)";
        let agg_pg = "string_agg(tag, chr(10) ORDER BY tag) FROM organization_expertise e WHERE e.oin = o.oin";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<OrgRow> = on_pool!(self, p => {
            let agg = if matches!(self, Store::Sqlite { .. }) { agg_sqlite } else { agg_pg };
            let sql = SQL.replace("string_agg_placeholder", agg);
            sqlx::query(&sql)
                .bind(exact.map(Oin::as_str))
                .bind(f.sector.as_ref().map(Sector::as_str))
                .bind(f.region.as_deref())
                .bind(f.expertise.as_deref())
                .bind(f.include_suspended)
                .bind(after.map(Oin::as_str))
                .bind(limit)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(|r| -> Result<_, sqlx::Error> {
                    Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?, r.try_get(6)?, r.try_get(7)?, r.try_get(8)?))
                })
                .collect::<Result<Vec<_>, _>>()?
        });
        rows.into_iter()
            .map(
                |(
                    oin,
                    name,
                    sector,
                    region,
                    contact_point,
                    status,
                    token_issuer,
                    expertise,
                    privacy_contact,
                )| {
                    Ok(Organization {
                        oin: oin
                            .parse()
                            .map_err(|_| StoreError::Corrupt("organizations.oin"))?,
                        name,
                        sector: sector
                            .parse()
                            .map_err(|_| StoreError::Corrupt("organizations.sector"))?,
                        region,
                        expertise: expertise
                            .map(|e| e.split('\n').map(str::to_owned).collect())
                            .unwrap_or_default(),
                        contact_point,
                        privacy_contact,
                        status: OrgStatus::parse(&status)
                            .ok_or(StoreError::Corrupt("organizations.status"))?,
                        token_issuer,
                    })
                },
            )
            .collect()
    }

    /// All keys of an organisation (or of every organisation when `oin` is `None`), newest first.
    pub async fn list_keys(&self, oin: Option<&Oin>) -> StoreResult<Vec<OrgKey>> {
        let rows: Vec<KeyRow> = on_pool!(self, p => {
            sqlx::query_as("SELECT oin, usage, key_id, public_key, created_at, retired_at FROM organization_keys
                            WHERE ($1 IS NULL OR oin = $1) ORDER BY oin, usage, created_at DESC, key_id DESC").bind(oin.map(Oin::as_str)).fetch_all(p).await?
        });
        rows.into_iter()
            .map(|(oin, usage, key_id, public_key, created_at, retired_at)| {
                Ok(OrgKey {
                    oin: oin
                        .parse()
                        .map_err(|_| StoreError::Corrupt("organization_keys.oin"))?,
                    usage: KeyUsage::parse(&usage)
                        .ok_or(StoreError::Corrupt("organization_keys.usage"))?,
                    key_id,
                    public_key,
                    created_at,
                    retired_at,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{ROWS_PER_STATEMENT, shaped};

    /// Every row once, in order, in power-of-two chunks no larger than the limit, largest first.
    #[test]
    fn shaped_chunks_are_powers_of_two_in_order() {
        for n in [0usize, 1, 2, 3, 7, 37, 255, 256, 257, 1000] {
            let rows: Vec<usize> = (0..n).collect();
            let chunks: Vec<&[usize]> = shaped(&rows).collect();
            assert_eq!(chunks.concat(), rows, "{n}");
            for c in &chunks {
                assert!(c.len().is_power_of_two() && c.len() <= ROWS_PER_STATEMENT);
            }
            assert!(chunks.windows(2).all(|w| w[0].len() >= w[1].len()));
        }
        let sizes: Vec<usize> = shaped(&[0u8; 37]).map(<[u8]>::len).collect();
        assert_eq!(sizes, vec![32, 4, 1]);
    }
}
