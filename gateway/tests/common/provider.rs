//! A real OpenID Connect provider for the tests: panva's `oidc-provider` (OpenID Certified) on
//! Node, installed from tests/oidc-provider/package-lock.json on first use.
#![allow(dead_code)]
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "signaal-gateway";
pub const CLIENT_SECRET: &str = "test-client-secret-0123456789abcdef";

/// The organisations' own systems registered in provider.mjs with `--api`, and their scopes.
pub const API_CLIENTS: [(&str, &str); 6] = [
    ("leerlingadministratie", "signaal:ib"),
    ("school-fg-rapportage", "signaal:fg"),
    ("wijkteam-registratie", "signaal:wijkcoach"),
    ("kantinesysteem", "signaal:kantine"),
    ("vt-registratie", "signaal:vt"),
    ("gi-registratie", "signaal:gi"),
];

/// An API client's secret in provider.mjs.
pub fn api_client_secret(client: &str) -> String {
    format!("{client}-test-secret-0123456789abcdef")
}

pub fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider")
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Written to the real stderr, past the test harness's capture, so a skip is always visible.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Runs a command; `Err` with its output when it cannot start or fails.
pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?} cannot start: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        let tail: String = String::from_utf8_lossy(&out.stderr)
            .lines()
            .rev()
            .take(8)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        Err(format!("{cmd:?} failed ({}):\n{tail}", out.status))
    }
}

/// Makes sure `node_modules` holds exactly what package-lock.json pins. Installs into a private
/// staging folder and renames it into place, so concurrent test runs never see a half-written
/// `node_modules` and never install into the same folder at once.
pub fn ensure_provider_installed() -> Result<(), String> {
    let version = run(Command::new("node").arg("--version"))
        .map_err(|e| format!("node is not available: {e}"))?;
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 18 {
        return Err(format!("node {version} is too old (18 or newer needed)"));
    }
    let dir = provider_dir();
    let lock = std::fs::read(dir.join("package-lock.json"))
        .map_err(|e| format!("tests/oidc-provider/package-lock.json: {e}"))?;
    let stamp = format!("{:x}", fnv1a(&lock));
    let stamp_file = |modules: &Path| modules.join(".signaalhub-lock-stamp");
    let modules = dir.join("node_modules");
    if std::fs::read_to_string(stamp_file(&modules)).is_ok_and(|s| s == stamp) {
        return Ok(());
    }
    run(Command::new("npm").arg("--version")).map_err(|e| format!("npm is not available: {e}"))?;
    let staging = dir.join(format!(".install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;
    for f in ["package.json", "package-lock.json"] {
        std::fs::copy(dir.join(f), staging.join(f)).map_err(|e| format!("{f}: {e}"))?;
    }
    let started = Instant::now();
    let installed = run(Command::new("npm")
        .args([
            "ci",
            "--prefer-offline",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
        ])
        .current_dir(&staging));
    if let Err(e) = installed {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(format!("npm ci failed (no network?): {e}"));
    }
    say(&format!(
        "oidc_login: npm ci took {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    let fresh = staging.join("node_modules");
    std::fs::write(stamp_file(&fresh), &stamp).map_err(|e| e.to_string())?;
    // Move a stale node_modules aside first; when another run got there first, keep theirs.
    if modules.exists() && !std::fs::read_to_string(stamp_file(&modules)).is_ok_and(|s| s == stamp)
    {
        let _ = std::fs::rename(&modules, staging.join("stale"));
    }
    let moved = std::fs::rename(&fresh, &modules);
    let _ = std::fs::remove_dir_all(&staging);
    match moved {
        Ok(()) => Ok(()),
        Err(_) if std::fs::read_to_string(stamp_file(&modules)).is_ok_and(|s| s == stamp) => Ok(()),
        Err(e) => Err(format!("cannot move node_modules into place: {e}")),
    }
}

pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The running provider; killed when dropped, also when the test fails.
pub struct Provider {
    child: Child,
    /// The issuer URL.
    pub issuer: String,
    stderr: Arc<Mutex<String>>,
}

impl Provider {
    pub fn start(redirect_uri: &str) -> Result<Provider, String> {
        Provider::start_with(redirect_uri, false)
    }

    /// With `api`, the provider also issues JWT access tokens to the organisations' own systems
    /// with the client-credentials grant ([`API_CLIENTS`]), for any `resource` as audience.
    pub fn start_with(redirect_uri: &str, api: bool) -> Result<Provider, String> {
        let mut args = vec![CLIENT_ID, CLIENT_SECRET, redirect_uri];
        if api {
            args.push("--api");
        }
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .args(args)
            .current_dir(provider_dir())
            // Kept open: the provider exits when it closes, i.e. when this process dies.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("node cannot start: {e}"))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(err) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if let Ok(mut s) = sink.lock() {
                        s.push_str(&line);
                        s.push('\n');
                    }
                }
            });
        }
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        let mut p = Provider {
            child,
            issuer: String::new(),
            stderr,
        };
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) if line.starts_with("READY ") => {
                p.issuer = line.trim_start_matches("READY ").trim().to_owned();
                Ok(p)
            }
            other => Err(format!(
                "the provider did not start ({other:?}); its stderr:\n{}",
                p.log()
            )),
        }
    }

    pub fn log(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
