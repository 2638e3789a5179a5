//! The floor: what one signal must cost on the hub's core at the least, measured in the same run
//! in a child process pinned where the hub is — one Ed25519 verification of the very envelope the
//! hub verifies (its signing input, with *ring*, as `flows::envelope::check_keys` does), the rows
//! the hub wrote for one signal inserted again into SQLite with the hub's pragmas (rusqlite,
//! prepared statements, groups of the size the hub's group commit reached), and the log entry's
//! JSON and leaf hash. The sink's CPU per request (the gRPC + mTLS part) is measured by the parent
//! and added there.
use crate::setup::{self, cpu_secs};
use anyhow::Context;
use prost::Message;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OpenFlags, params_from_iter};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The floor child's arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct FloorArgs {
    /// The dev kit (the school's signing key).
    #[arg(long)]
    pub kit: PathBuf,
    /// An encoded `SendSignalRequest` as the hub received it.
    #[arg(long)]
    pub request: PathBuf,
    /// The hub's SQLite database (read only: the rows it wrote for `signal_id`).
    #[arg(long)]
    pub hub_database: PathBuf,
    /// A signal the hub stored from a request like `request`.
    #[arg(long)]
    pub signal_id: String,
    /// Where to create the floor's own database.
    #[arg(long)]
    pub database: PathBuf,
    /// Signals per transaction.
    #[arg(long)]
    pub group: usize,
    /// Seconds per part.
    #[arg(long)]
    pub secs: f64,
}

/// The floor's parts, CPU microseconds per signal.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Floor {
    /// Signals per transaction in the SQLite part.
    pub group: usize,
    /// One Ed25519 verification of the envelope.
    pub verify_us: f64,
    /// The signal's rows inserted (its share of the group's transaction and commit).
    pub insert_us: f64,
    /// The log entry serialised to JSON and its Merkle leaf hash.
    pub entry_us: f64,
}

impl Floor {
    /// Verification + insert + entry (without the sink, which the parent adds).
    pub fn own_us(&self) -> f64 {
        self.verify_us + self.insert_us + self.entry_us
    }
}

const PREFIX: &str = "floor-child";

/// Runs the floor child pinned to `core` and returns its figures.
pub fn measure(args: &FloorArgs, core: Option<usize>) -> anyhow::Result<Floor> {
    let line = setup::child_line(
        &[
            "floor-child".into(),
            "--kit".into(),
            args.kit.display().to_string(),
            "--request".into(),
            args.request.display().to_string(),
            "--hub-database".into(),
            args.hub_database.display().to_string(),
            "--signal-id".into(),
            args.signal_id.clone(),
            "--database".into(),
            args.database.display().to_string(),
            "--group".into(),
            args.group.to_string(),
            "--secs".into(),
            args.secs.to_string(),
        ],
        core,
        PREFIX,
    )?;
    serde_json::from_str(&line).context("the floor child's figures")
}

/// The child: measures each part and prints the figures on one line.
pub fn child(a: &FloorArgs) -> anyhow::Result<()> {
    let request = signaalhub_proto::pb::SendSignalRequest::decode(
        std::fs::read(&a.request)
            .context("read the request")?
            .as_slice(),
    )?;
    let template = Template::read(&a.hub_database, &a.signal_id)?;
    let floor = Floor {
        group: a.group.max(1),
        verify_us: verify_us(&a.kit, &request, a.secs)?,
        insert_us: insert_us(&template, &a.kit, &a.database, a.group.max(1), a.secs)?,
        entry_us: entry_us(&template, a.secs)?,
    };
    println!("{PREFIX} {}", serde_json::to_string(&floor)?);
    Ok(())
}

/// Calls `op` for at least `secs` seconds of wall time; CPU microseconds of this process per
/// call.
fn cpu_us_per_call(secs: f64, mut op: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    // Warm caches and lazily built state first.
    for _ in 0..10 {
        op()?;
    }
    let me = std::process::id();
    let cpu0 = cpu_secs(me);
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        op()?;
        calls += 1;
    }
    Ok((cpu_secs(me) - cpu0) * 1e6 / calls.max(1) as f64)
}

/// One Ed25519 verification of the request's envelope signature over its signing input, as the
/// hub makes it.
fn verify_us(
    kit: &Path,
    request: &signaalhub_proto::pb::SendSignalRequest,
    secs: f64,
) -> anyhow::Result<f64> {
    let env = request
        .envelope
        .as_ref()
        .context("the request has no envelope")?;
    let input = signaalhub_proto::envelope::signing_input(env);
    let school = setup::kit_org(kit, "school")?;
    let pem = std::fs::read_to_string(kit.join("orgs/school/signing-key.pem"))?;
    let sender = signaalhub_client::envelope::SenderKeys::from_pem(
        &school.oin,
        &school.signing_key_id,
        &pem,
    )?;
    let key = sender.public_key().to_vec();
    let verify = || {
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &key)
            .verify(black_box(&input), black_box(&env.signature))
            .map_err(|_| anyhow::anyhow!("the envelope signature does not verify"))
    };
    verify()?;
    cpu_us_per_call(secs, verify)
}

/// The log entry of the template signal serialised as the hub stores it, and its Merkle leaf
/// hash as the integrator computes it.
fn entry_us(t: &Template, secs: f64) -> anyhow::Result<f64> {
    let entry = signaalhub_server::ledger::LogEntry::from_bytes(&t.entry_bytes()?)
        .context("the hub's log entry does not parse")?;
    cpu_us_per_call(secs, || {
        let bytes = black_box(&entry).to_bytes();
        black_box(signaalhub_proto::merkle::leaf_hash(&bytes));
        Ok(())
    })
}

/// Inserts the template's rows `group` signals per transaction into a fresh copy of the kit's
/// database opened with the hub's pragmas, with cached prepared statements; CPU per signal.
fn insert_us(t: &Template, kit: &Path, db: &Path, group: usize, secs: f64) -> anyhow::Result<f64> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    setup::copy_sqlite(kit, db)?;
    let mut conn = Connection::open(db)?;
    // The pragmas of `Store::open_sqlite`.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    let mut copy = 0u64;
    let per_group = cpu_us_per_call(secs, || {
        t.insert_group(&mut conn, group, &mut copy)?;
        Ok(())
    })?;
    drop(conn);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    Ok(per_group / group as f64)
}

/// The tables the hub writes for one new signal, and which key selects its rows.
const TABLES: [(&str, Key); 7] = [
    ("signals", Key::Signal),
    ("deliveries", Key::Signal),
    ("delivery_consents", Key::Signal),
    ("log_entries", Key::Log("idx")),
    ("log_subject_index", Key::Log("idx")),
    ("log_org_index", Key::Log("idx")),
    ("inform_obligations", Key::Log("log_idx")),
];

#[derive(Debug, Clone, Copy)]
enum Key {
    /// `sender_oin` and `signal_id`.
    Signal,
    /// The named log index column.
    Log(&'static str),
}

/// One table's rows of one signal.
#[derive(Debug)]
struct Rows {
    table: &'static str,
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
    /// `INSERT INTO <table> (<columns>) VALUES (?1, ...)`.
    insert: String,
}

/// The rows the hub wrote for one signal (`UPDATE log_state` aside, which is made per group).
#[derive(Debug)]
struct Template {
    tables: Vec<Rows>,
    /// The signal's log indexes, in order.
    log_idxs: Vec<i64>,
}

impl Template {
    /// Reads signal `id`'s rows from the hub's database (read only; the hub may run).
    fn read(hub_db: &Path, id: &str) -> anyhow::Result<Template> {
        let conn = Connection::open_with_flags(hub_db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let (sender, signal): (String, String) = conn
            .query_row(
                "SELECT sender_oin, signal_id FROM signals WHERE signal_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .with_context(|| format!("the hub has not stored signal {id}"))?;
        let mut stmt = conn.prepare(
            "SELECT cursor - 1 FROM deliveries WHERE sender_oin = ?1 AND signal_id = ?2 ORDER BY cursor",
        )?;
        let log_idxs = stmt
            .query_map([&sender, &signal], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut tables = Vec::new();
        for (table, key) in TABLES {
            let mut out = Rows {
                table,
                columns: Vec::new(),
                rows: Vec::new(),
                insert: String::new(),
            };
            let keys: Vec<Vec<Value>> = match key {
                Key::Signal => vec![vec![sender.clone().into(), signal.clone().into()]],
                Key::Log(_) => log_idxs.iter().map(|i| vec![Value::Integer(*i)]).collect(),
            };
            let sql = match key {
                Key::Signal => {
                    format!("SELECT * FROM {table} WHERE sender_oin = ?1 AND signal_id = ?2")
                }
                Key::Log(col) => format!("SELECT * FROM {table} WHERE {col} = ?1"),
            };
            let mut stmt = conn.prepare(&sql)?;
            out.columns = stmt.column_names().iter().map(|c| c.to_string()).collect();
            let n = out.columns.len();
            out.insert = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                out.columns.join(", "),
                (1..=n)
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for k in keys {
                let rows = stmt.query_map(params_from_iter(k.iter()), |r| {
                    (0..n)
                        .map(|i| r.get::<_, Value>(i))
                        .collect::<rusqlite::Result<Vec<Value>>>()
                })?;
                for row in rows {
                    out.rows.push(row?);
                }
            }
            tables.push(out);
        }
        Ok(Template { tables, log_idxs })
    }

    /// The first log entry's stored bytes.
    fn entry_bytes(&self) -> anyhow::Result<Vec<u8>> {
        let t = self
            .tables
            .iter()
            .find(|t| t.table == "log_entries")
            .context("no log_entries rows")?;
        let i = t
            .columns
            .iter()
            .position(|c| c == "entry")
            .context("log_entries has no entry column")?;
        match t.rows.first().and_then(|r| r.get(i)) {
            Some(Value::Blob(b)) => Ok(b.clone()),
            Some(Value::Text(s)) => Ok(s.clone().into_bytes()),
            _ => anyhow::bail!("the hub's log entry is not stored as bytes"),
        }
    }

    /// One transaction of `group` copies of the signal: the log's next indexes taken from
    /// `log_state` as the hub takes them, then every row, with fresh signal ids and indexes.
    fn insert_group(
        &self,
        conn: &mut Connection,
        group: usize,
        copy: &mut u64,
    ) -> anyhow::Result<()> {
        let tx = conn.transaction()?;
        let entries = (group * self.log_idxs.len()) as i64;
        let end: i64 = tx
            .prepare_cached("UPDATE log_state SET size = size + ?1 WHERE id = 1 RETURNING size")?
            .query_row([entries], |r| r.get(0))?;
        let first = end - entries;
        for m in 0..group {
            *copy += 1;
            let base = first + (m * self.log_idxs.len()) as i64;
            for t in &self.tables {
                let mut stmt = tx.prepare_cached(&t.insert)?;
                for row in &t.rows {
                    let values = t
                        .columns
                        .iter()
                        .zip(row)
                        .map(|(c, v)| self.fresh(c, v, base, *copy));
                    stmt.execute(params_from_iter(values))?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Column `c`'s value `v` for copy `copy` whose log indexes start at `base`: signal ids and
    /// log indexes (and a delivery's cursor, its index + 1) made fresh, the rest as stored.
    fn fresh<'v>(&self, c: &str, v: &'v Value, base: i64, copy: u64) -> ToSqlOutput<'v> {
        let idx = |old: &i64| {
            self.log_idxs
                .iter()
                .position(|i| i == old)
                .map_or(base, |k| base + k as i64)
        };
        match (c, v) {
            ("signal_id", Value::Text(id)) => {
                ToSqlOutput::Owned(Value::Text(format!("{id}~{copy}")))
            }
            ("idx" | "log_idx", Value::Integer(old)) => {
                ToSqlOutput::Owned(Value::Integer(idx(old)))
            }
            ("cursor", Value::Integer(old)) => {
                ToSqlOutput::Owned(Value::Integer(idx(&(old - 1)) + 1))
            }
            _ => ToSqlOutput::Borrowed(ValueRef::from(v)),
        }
    }
}
