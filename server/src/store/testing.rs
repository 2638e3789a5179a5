//! Fresh, isolated databases for tests: a new SQLite file in a temporary directory, or a new
//! PostgreSQL database on the server named by `SIGNAALHUB_TEST_POSTGRES_URL`.
//!
//! Not for production use; public so that the workspace's end-to-end tests share it.
use super::{Store, StoreResult};
use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable naming the PostgreSQL server tests may create databases on.
pub const POSTGRES_URL_ENV: &str = "SIGNAALHUB_TEST_POSTGRES_URL";

/// A database made for one test; dropped (PostgreSQL) or deleted (SQLite) with it.
#[derive(Debug)]
pub struct TestDb {
    /// The store on it.
    pub store: Store,
    /// What a hub configuration would name as its database (file path or URL).
    pub database: String,
    _dir: Option<tempfile_dir::TempDir>,
    /// PostgreSQL: (server URL, database name) to drop when the test is done.
    pg_drop: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop the test's PostgreSQL database (terminating its connections) on a thread of its
        // own, since Drop cannot await and may run inside a runtime.
        if let Some((base, name)) = self.pg_drop.take() {
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(admin) = sqlx::PgPool::connect(&base).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&admin)
                                .await;
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

mod tempfile_dir {
    //! A minimal temporary directory (std only), removed on drop.
    use std::path::{Path, PathBuf};

    #[derive(Debug)]
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new(tag: &str) -> std::io::Result<TempDir> {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let p = std::env::temp_dir()
                .join(format!("signaalhub-{tag}-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&p)?;
            Ok(TempDir(p))
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Which backends the tests should run against: always SQLite; PostgreSQL when its URL is set.
/// Prints a clear line when PostgreSQL is skipped.
pub fn backends() -> Vec<&'static str> {
    if std::env::var(POSTGRES_URL_ENV).is_ok_and(|v| !v.is_empty()) {
        vec!["sqlite", "postgres"]
    } else {
        eprintln!(
            "NOTE: PostgreSQL tests skipped: set {POSTGRES_URL_ENV} (e.g. postgres://postgres@127.0.0.1:5432/test) to run them"
        );
        vec!["sqlite"]
    }
}

/// A fresh database of the given backend (`"sqlite"` or `"postgres"`).
pub async fn fresh(backend: &str) -> StoreResult<TestDb> {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    if backend == "postgres" {
        let base = std::env::var(POSTGRES_URL_ENV).map_err(|_| {
            super::StoreError::Setup(format!("set the environment variable {POSTGRES_URL_ENV}"))
        })?;
        let admin = sqlx::PgPool::connect(&base).await?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("sh_test_{}_{}_{}", std::process::id(), n, nanos);
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await?;
        admin.close().await;
        let url = replace_db_name(&base, &name);
        let store = Store::open_postgres(&url).await?;
        Ok(TestDb {
            store,
            database: url,
            _dir: None,
            pg_drop: Some((base, name)),
        })
    } else {
        let dir = tempfile_dir::TempDir::new(&format!("db{n}"))
            .map_err(|e| super::StoreError::Unavailable(sqlx::Error::Io(e)))?;
        let path = dir.path().join("signaalhub.sqlite");
        let store = Store::open_sqlite(&path).await?;
        Ok(TestDb {
            store,
            database: path.display().to_string(),
            _dir: Some(dir),
            pg_drop: None,
        })
    }
}

/// `postgres://u@h:p/db?x` with the database name replaced.
fn replace_db_name(url: &str, name: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let scheme_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match head[scheme_end..].find('/') {
        Some(i) => &head[..scheme_end + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn db_name_is_replaced() {
        assert_eq!(
            super::replace_db_name("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::replace_db_name("postgres://h/test?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
        assert_eq!(
            super::replace_db_name("postgres://h", "x"),
            "postgres://h/x"
        );
    }
}
