//! `storage`: bytes on disk per signal and per log entry, per table.
//!
//! A fresh database is filled through the hub's real code paths — a hub served in this process,
//! school -> wijkteam signals sealed and sent over mutual TLS with `SendSignal`, each with its
//! deliveries, consent links and log entries — and the log is then integrated into tiles and
//! signed checkpoints by the hub's own integrator. What it reports, per table (its indexes
//! included): rows, bytes, and bytes per signal (signal tables) or per log entry (log tables).
//! On SQLite the bytes are the pages each table and index occupies (`dbstat`, after the write-ahead
//! log is checkpointed into the file); on PostgreSQL `pg_total_relation_size` (heap, TOAST and
//! indexes) after `VACUUM FULL ANALYZE` (live rows only: the dead versions the fill's updates
//! leave behind vary with autovacuum's timing). "Beyond the envelope" subtracts the stored envelope bytes
//! (`length(envelope)` summed) from the signal tables.
use crate::setup::{self, Sealer, connect, consent_basis, free_port};
use anyhow::Context;
use clap::Args;
use signaalhub_server::store::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Options of `storage`.
#[derive(Args, Debug, Clone)]
pub struct StorageArgs {
    /// Working folder (dev kit and database); wiped first.
    #[arg(long, default_value = "target/bench-storage")]
    pub dir: PathBuf,
    /// Signals sent. Every signal is about the same child, and a send under consent reads the
    /// sender's earlier log entries about the child (`onward_from` in `flows/policy.rs`), so a
    /// fill slows down as it grows: 2 000 take seconds, 20 000 about an hour. Sizes per row
    /// do not depend on it.
    #[arg(long, default_value_t = 2_000)]
    pub signals: usize,
    /// Payload bytes sealed in each envelope.
    #[arg(long, default_value_t = 4096)]
    pub payload: usize,
    /// Requests in flight while filling.
    #[arg(long, default_value_t = 32)]
    pub in_flight: usize,
    /// Also fill a fresh database on this PostgreSQL server (created and dropped).
    #[arg(long, env = "SIGNAALHUB_BENCH_POSTGRES_URL")]
    pub postgres: Option<String>,
}

/// Which unit a table's bytes are divided by.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Unit {
    Signal,
    Entry,
    Other,
}

fn unit_of(table: &str) -> Unit {
    match table {
        "signals" | "deliveries" | "delivery_consents" => Unit::Signal,
        t if t.starts_with("log_") => Unit::Entry,
        _ => Unit::Other,
    }
}

/// One table's figures.
#[derive(Debug)]
struct TableSize {
    table: String,
    rows: i64,
    /// The table itself (on SQLite: its b-tree; on PostgreSQL: heap and TOAST).
    data: i64,
    /// Its indexes (SQLite's automatic primary-key index included).
    index: i64,
}

/// What one database held after the fill.
#[derive(Debug)]
struct Measured {
    backend: &'static str,
    signals: i64,
    entries: i64,
    envelope_bytes: i64,
    /// The whole database (SQLite: the file; PostgreSQL: the database).
    total: i64,
    tables: Vec<TableSize>,
}

/// Runs the scenario.
pub async fn run(a: StorageArgs) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(&a.dir);
    std::fs::create_dir_all(&a.dir)?;
    let dir = std::fs::canonicalize(&a.dir)?;
    let kit = dir.join("kit");
    eprintln!("bench: dev kit in {}", kit.display());
    signaalhub_server::devkit::init(&kit, true).await?;

    // The kit's database may still hold the directory in its write-ahead log: fold it in first.
    {
        use sqlx::Connection;
        let kit_db = kit.join("data").join("signaalhub.sqlite");
        let mut c =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}", kit_db.display())).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut c)
            .await?;
        c.close().await?;
    }
    let db = dir.join("storage.sqlite");
    setup::copy_sqlite(&kit, &db)?;
    let target = db.display().to_string();
    fill(&kit, &target, &a).await?;
    let mut out = vec![measure_sqlite(&db).await?];

    if let Some(url) = &a.postgres {
        let (db_url, name) = crate::create_pg_database(url)
            .await
            .context("create the PostgreSQL bench database")?;
        let result = async {
            let probe = Store::open(&db_url).await?;
            probe.close().await;
            setup::copy_directory_to_postgres(&kit, &db_url).await?;
            fill(&kit, &db_url, &a).await?;
            measure_postgres(&db_url).await
        }
        .await;
        crate::drop_pg_database(url, &name).await;
        out.push(result?);
    }
    for m in &out {
        report(m, &a);
    }
    Ok(())
}

/// Serves a hub on `database` in this process, sends `a.signals` signals through it, stops it and
/// integrates the log.
async fn fill(kit: &Path, database: &str, a: &StorageArgs) -> anyhow::Result<()> {
    let mut config = signaalhub_server::config::Config::load(&kit.join("hub.toml"), |_| None)?;
    config.database = database.to_owned();
    config.limits.requests_per_second_per_org = 1_000_000;
    config.limits.burst_per_org = 1_000_000;
    let addr = format!("127.0.0.1:{}", free_port()?);
    config.listen = addr.clone();
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let hub = tokio::spawn(signaalhub_server::run(listener, config.clone(), async {
        let _ = stopped.await;
    }));

    let clients = connect(kit, "school", &addr, 2).await?;
    let mut school = clients[0].clone();
    let basis = consent_basis(&mut school).await?;
    let sealer = Sealer::new(kit, &mut school, basis, a.payload).await?;
    eprintln!(
        "bench: sealing {} signals of {} bytes",
        a.signals, a.payload
    );
    let reqs = Arc::new(sealer.requests("storage", a.signals)?);
    eprintln!("bench: sending them ({})", database_kind(database));
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..a.in_flight.max(1) {
        let mut c = clients[i % clients.len()].clone();
        let (reqs, next) = (reqs.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(r) = reqs.get(n) else {
                    return Ok::<(), anyhow::Error>(());
                };
                c.send_signal(r.clone())
                    .await
                    .with_context(|| format!("signal {n}"))?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    drop(clients);
    let _ = stop.send(());
    hub.await?.map_err(|e| anyhow::anyhow!("{e}"))?;

    let store = Store::open(database).await?;
    let ledger = signaalhub_server::load_ledger(&config, store.clone())?;
    ledger.integrate_all().await?;
    store.close().await;
    Ok(())
}

fn database_kind(database: &str) -> &'static str {
    if database.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

async fn measure_sqlite(path: &Path) -> anyhow::Result<Measured> {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut c)
        .await?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT m.tbl_name, m.type, SUM(d.pgsize) FROM dbstat d JOIN sqlite_master m ON m.name = d.name \
         GROUP BY m.tbl_name, m.type ORDER BY m.tbl_name",
    )
    .fetch_all(&mut c)
    .await?;
    let mut tables: Vec<TableSize> = Vec::new();
    for (table, kind, bytes) in rows {
        if table.starts_with("_sqlx") {
            continue;
        }
        let i = match tables.iter().position(|t| t.table == table) {
            Some(i) => i,
            None => {
                let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\""))
                    .fetch_one(&mut c)
                    .await?;
                tables.push(TableSize {
                    table: table.clone(),
                    rows: n,
                    data: 0,
                    index: 0,
                });
                tables.len() - 1
            }
        };
        if kind == "index" {
            tables[i].index += bytes;
        } else {
            tables[i].data += bytes;
        }
    }
    let (signals, entries, envelope_bytes): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM signals), (SELECT COUNT(*) FROM log_entries), \
         (SELECT COALESCE(SUM(length(envelope)), 0) FROM signals)",
    )
    .fetch_one(&mut c)
    .await?;
    let page_count: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut c)
        .await?;
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut c)
        .await?;
    c.close().await?;
    Ok(Measured {
        backend: "SQLite",
        signals,
        entries,
        envelope_bytes,
        total: page_count * page_size,
        tables,
    })
}

async fn measure_postgres(url: &str) -> anyhow::Result<Measured> {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(url).await?;
    // Without the row versions the fill's updates left behind (checkpoints, tiles, the log's
    // state): what the live rows take, comparable from run to run.
    sqlx::query("VACUUM FULL ANALYZE").execute(&mut c).await?;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname NOT LIKE '\\_sqlx%' ORDER BY 1",
    )
    .fetch_all(&mut c)
    .await?;
    let mut tables = Vec::new();
    for table in names {
        let (rows, data, index): (i64, i64, i64) = sqlx::query_as(&format!(
            "SELECT (SELECT COUNT(*) FROM \"{table}\"), pg_table_size('\"{table}\"'), pg_indexes_size('\"{table}\"')"
        ))
        .fetch_one(&mut c)
        .await?;
        tables.push(TableSize {
            table,
            rows,
            data,
            index,
        });
    }
    let (signals, entries, envelope_bytes): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM signals), (SELECT COUNT(*) FROM log_entries), \
         (SELECT COALESCE(SUM(octet_length(envelope)), 0)::BIGINT FROM signals)",
    )
    .fetch_one(&mut c)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&mut c)
        .await?;
    c.close().await?;
    Ok(Measured {
        backend: "PostgreSQL",
        signals,
        entries,
        envelope_bytes,
        total,
        tables,
    })
}

fn report(m: &Measured, a: &StorageArgs) {
    let per = |bytes: i64, n: i64| bytes as f64 / n.max(1) as f64;
    println!();
    println!(
        "{}: {} signals of {} payload bytes ({:.0} envelope bytes each on average), {} log entries",
        m.backend,
        m.signals,
        a.payload,
        per(m.envelope_bytes, m.signals),
        m.entries
    );
    println!("| table | rows | table bytes | index bytes | per signal | per log entry |");
    println!("|---|---|---|---|---|---|");
    let (mut sig, mut log, mut other) = (0i64, 0i64, 0i64);
    for t in &m.tables {
        let bytes = t.data + t.index;
        let unit = unit_of(&t.table);
        match unit {
            Unit::Signal => sig += bytes,
            Unit::Entry => log += bytes,
            Unit::Other => other += bytes,
        }
        if unit == Unit::Other && bytes < 64 * 1024 {
            continue;
        }
        let (ps, pe) = match unit {
            Unit::Signal => (format!("{:.0}", per(bytes, m.signals)), String::new()),
            Unit::Entry => (String::new(), format!("{:.0}", per(bytes, m.entries))),
            Unit::Other => (String::new(), String::new()),
        };
        println!(
            "| {} | {} | {} | {} | {ps} | {pe} |",
            t.table, t.rows, t.data, t.index
        );
    }
    println!(
        "signal tables beyond the envelope: {:.0} bytes per signal (target <= 512)",
        per(sig - m.envelope_bytes, m.signals)
    );
    println!(
        "log tables: {:.0} bytes per entry (target <= 400 on SQLite); {:.2} entries per signal",
        per(log, m.entries),
        per(m.entries, m.signals)
    );
    println!(
        "everything beyond the envelopes (log included, other tables {} bytes): {:.0} bytes per signal; database {} bytes",
        other,
        per(m.total - m.envelope_bytes, m.signals),
        m.total
    );
}
