//! Shared by the CLI tests: a hub served from a freshly generated dev kit as `quickstart` does
//! it, and the `signaal` binary run as a user runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use signaalhub_server::config::Config;
use signaalhub_server::devkit;
use std::path::{Path, PathBuf};

pub const SCHOOL: &str = "00000009901000000000";
pub const WIJKTEAM: &str = "00000009905000000000";
pub const GI: &str = "00000009907000000000";

/// The longest one `signaal` command may run in a test.
pub const RUN_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// A child process killed (and reaped) when dropped.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What one `signaal` run gave.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The `signaal` CLI as a user in `dir` runs it against the hub at `endpoint`.
pub struct Cli {
    pub dir: PathBuf,
    pub endpoint: String,
}

impl Cli {
    /// Runs `signaal ARGS` (without `--kit`). A run that takes longer than [`RUN_LIMIT`] is
    /// killed and fails the test; the child is killed on drop, so a failing test leaves no
    /// `signaal` process behind.
    pub async fn exec(&self, args: Vec<String>) -> Run {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_signaal"));
        cmd.args(&args)
            .current_dir(&self.dir)
            .env("SIGNAAL_ENDPOINT", &self.endpoint)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        tokio::task::spawn_blocking(move || {
            let mut child = KillOnDrop(cmd.spawn().unwrap());
            let read = |mut pipe: Box<dyn std::io::Read + Send>| {
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let _ = pipe.read_to_end(&mut buf);
                    String::from_utf8_lossy(&buf).into_owned()
                })
            };
            let stdout = read(Box::new(child.0.stdout.take().unwrap()));
            let stderr = read(Box::new(child.0.stderr.take().unwrap()));
            let deadline = std::time::Instant::now() + RUN_LIMIT;
            let status = loop {
                if let Some(status) = child.0.try_wait().unwrap() {
                    break status;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "signaal {args:?} still runs after {RUN_LIMIT:?}: killed"
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            };
            Run {
                code: status.code().unwrap_or(-1),
                stdout: stdout.join().unwrap(),
                stderr: stderr.join().unwrap(),
            }
        })
        .await
        .unwrap()
    }

    /// Runs `signaal ARGS` (without `--kit`); returns the exit code and stdout + stderr.
    pub async fn raw(&self, args: Vec<String>) -> (i32, String) {
        let r = self.exec(args).await;
        (r.code, format!("{}{}", r.stdout, r.stderr))
    }

    /// `signaal --kit dev-kit --as SECTOR ARGS`.
    pub async fn run(&self, sector: &str, args: &[&str]) -> (i32, String) {
        self.raw(kit_args(sector, args)).await
    }

    /// `signaal --json --kit dev-kit --as SECTOR ARGS`: the exit code and the one JSON document
    /// on stdout (stderr is shown when stdout is not one JSON document).
    pub async fn json(&self, sector: &str, args: &[&str]) -> (i32, serde_json::Value) {
        let mut all = vec!["--json".to_string()];
        all.extend(kit_args(sector, args));
        let r = self.exec(all).await;
        let doc = serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "{sector} {args:?}: stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                r.stdout, r.stderr
            )
        });
        (r.code, doc)
    }

    /// A step that exits with `code` and prints every one of `expect`.
    pub async fn step(&self, code: i32, sector: &str, args: &[&str], expect: &[&str]) -> String {
        let (got, out) = self.run(sector, args).await;
        assert_eq!(got, code, "{sector} {args:?}: exit code:\n{out}");
        for e in expect {
            assert!(
                out.contains(e),
                "{sector} {args:?}: expected {e:?} in:\n{out}"
            );
        }
        out
    }

    /// A step that succeeds.
    pub async fn ok(&self, sector: &str, args: &[&str], expect: &[&str]) -> String {
        self.step(0, sector, args, expect).await
    }

    /// A step the hub refuses (exit 1).
    pub async fn refused(&self, sector: &str, args: &[&str], expect: &[&str]) -> String {
        self.step(1, sector, args, expect).await
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}

fn kit_args(sector: &str, args: &[&str]) -> Vec<String> {
    ["--kit", "dev-kit", "--as", sector]
        .iter()
        .chain(args)
        .map(|s| s.to_string())
        .collect()
}

/// The first id with `prefix` (`zm_`, `c_`, ...) in a command's output.
pub fn id(out: &str, prefix: &str) -> String {
    let at = out
        .match_indices(prefix)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || !out.as_bytes()[i - 1].is_ascii_alphanumeric())
        .unwrap_or_else(|| panic!("no {prefix} id in:\n{out}"));
    out[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Generates a dev kit in `dir/dev-kit` and serves it (on PostgreSQL when `database` is set,
/// with the kit's organisations registered there as `quickstart` does). Returns the endpoint
/// and the stop switch.
pub async fn quickstart(
    dir: &Path,
    database: Option<&str>,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let kit = dir.join("dev-kit");
    devkit::init(&kit, true).await.unwrap();
    serve(&kit, database).await
}

/// Serves the dev kit in `kit` on its own store, or on `database` (a PostgreSQL URL or another
/// SQLite file: another hub with the same kit) with the kit's organisations registered there.
pub async fn serve(
    kit: &Path,
    database: Option<&str>,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let _ = signaalhub_server::auth::tls::crypto_provider();
    let config = Config::load(&kit.join("hub.toml"), |k| {
        (k == "SIGNAALHUB_DATABASE")
            .then(|| database.map(str::to_owned))
            .flatten()
    })
    .unwrap();
    devkit::register(kit, &config).await.unwrap();
    let hub = signaalhub_server::Hub::build(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(hub.serve(listener, async move {
        let _ = stopped.await;
    }));
    (format!("https://localhost:{port}"), stop)
}

/// The permission bits of `path` (0o600, 0o700, ...).
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Whether `s` is an RFC 3339 date in UTC as the CLI prints them (`2026-12-05T06:28:23Z`).
pub fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}
