//! The hub's configuration: a TOML file, then `SIGNAALHUB_*` environment overrides, then checks
//! that name the offending key. Parsing binds no port and opens no database.
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Environment variables that override file settings, with the key each one sets.
pub const ENV_OVERRIDES: [(&str, &str); 10] = [
    ("SIGNAALHUB_LISTEN", "listen"),
    ("SIGNAALHUB_DATABASE", "database"),
    ("SIGNAALHUB_DATA_DIR", "data_dir"),
    ("SIGNAALHUB_LOG_FORMAT", "log_format"),
    ("SIGNAALHUB_TLS_CERT", "tls.cert"),
    ("SIGNAALHUB_TLS_KEY", "tls.key"),
    ("SIGNAALHUB_AUTH_AUDIENCE", "auth.audience"),
    ("SIGNAALHUB_PSEUDONYM_KEY_FILE", "pseudonym.key_file"),
    ("SIGNAALHUB_PSEUDONYM_REKEY_FILES", "pseudonym.rekey_files"),
    ("SIGNAALHUB_METRICS_LISTEN", "metrics.listen"),
];

/// A configuration error: which key, and what is wrong. The binary exits with code 64.
#[derive(Debug, thiserror::Error)]
#[error("configuration error at `{key}`: {message}")]
pub struct ConfigError {
    /// The key (dotted path) or file at fault.
    pub key: String,
    /// What is wrong and what would be right.
    pub message: String,
}

fn err(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        message: message.into(),
    }
}

/// The whole configuration. Relative paths are relative to the configuration file's directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:50051`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Directory for the embedded database and other state.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `postgres://...` for PostgreSQL; empty for SQLite at `<data_dir>/signaalhub.sqlite`; or a
    /// SQLite file path.
    #[serde(default)]
    pub database: String,
    /// `text` (default) or `json`.
    #[serde(default = "default_log_format")]
    pub log_format: String,
    /// Accept dev-kit material (certificates marked as dev). Never in production.
    #[serde(default)]
    pub allow_dev_material: bool,
    /// TLS settings.
    pub tls: TlsConfig,
    /// Token settings.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Pseudonym secret.
    pub pseudonym: PseudonymConfig,
    /// Directory polling.
    #[serde(default)]
    pub directory: DirectoryConfig,
    /// Limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// The disclosure log.
    pub log: LogConfig,
    /// Group commit of submissions.
    #[serde(default)]
    pub commit: CommitConfig,
    /// The regional convenant file (policy). Empty: the sample convenant shipped with the hub,
    /// allowed only with `allow_dev_material`.
    #[serde(default)]
    pub convenant: PathBuf,
    /// The retention sweeper.
    #[serde(default)]
    pub retention: RetentionConfig,
    /// Reminders of due reviews and unanswered handovers.
    #[serde(default)]
    pub reminders: RemindersConfig,
    /// The Prometheus metrics endpoint.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Access the hub's operator grants.
    #[serde(default)]
    pub access: AccessConfig,
}

/// `[access]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// Professionals who may ask for a hub-wide report about one person (every organisation's
    /// entries, not only their own), as `"<OIN>/<professional id>"`. Empty by default: each
    /// privacy officer then answers for its own organisation's part only.
    #[serde(default)]
    pub hub_wide_readers: Vec<String>,
    /// How many "no" answers `HasMaatregel` gives one organisation per UTC day; after that its
    /// questions are refused until the next day and the youth protection organisations are
    /// told once (probing). 0: no limit. Default 100.
    #[serde(default = "default_maatregel_no_answers_per_day")]
    pub maatregel_no_answers_per_day: u32,
}

impl Default for AccessConfig {
    fn default() -> Self {
        AccessConfig {
            hub_wide_readers: Vec::new(),
            maatregel_no_answers_per_day: default_maatregel_no_answers_per_day(),
        }
    }
}

fn default_maatregel_no_answers_per_day() -> u32 {
    100
}

/// `[reminders]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemindersConfig {
    /// How often the hub looks for due reviews and unanswered handovers, milliseconds; 0 turns
    /// it off (then run `signaalhub reminders run` from a timer instead). Default 60000.
    #[serde(default = "default_reminder_interval_ms")]
    pub interval_ms: u64,
    /// Reminders of each kind per round (1 to 10000). Default 200.
    #[serde(default = "default_reminder_batch")]
    pub batch_size: u32,
}

impl Default for RemindersConfig {
    fn default() -> Self {
        RemindersConfig {
            interval_ms: default_reminder_interval_ms(),
            batch_size: default_reminder_batch(),
        }
    }
}

fn default_reminder_interval_ms() -> u64 {
    60_000
}

fn default_reminder_batch() -> u32 {
    200
}

/// `[retention]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// How often the sweeper erases expired records, milliseconds; 0 turns it off (then run
    /// `signaalhub retention sweep` from a timer instead).
    #[serde(default = "default_sweep_interval_ms")]
    pub sweep_interval_ms: u64,
    /// Records erased per transaction (1 to 10000).
    #[serde(default = "default_sweep_batch")]
    pub batch_size: u32,
    /// Days the professional's clear id is kept beside each log entry (the per-user audit of
    /// NEN 7513); after that only the leaf's keyed pseudonym names the professional. 0 keeps it
    /// for as long as the log. Default 1826 (five years).
    #[serde(default = "default_log_professional_days")]
    pub log_professional_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            sweep_interval_ms: default_sweep_interval_ms(),
            batch_size: default_sweep_batch(),
            log_professional_days: default_log_professional_days(),
        }
    }
}

fn default_log_professional_days() -> u32 {
    1826
}

fn default_sweep_interval_ms() -> u64 {
    60_000
}
fn default_sweep_batch() -> u32 {
    500
}

/// `[metrics]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of the plain-HTTP Prometheus endpoint (`GET /metrics`), e.g. `127.0.0.1:9464`.
    /// Empty (the default): no metrics endpoint. Keep it off the public network.
    #[serde(default)]
    pub listen: String,
}

/// `[tls]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The hub's certificate chain (PEM).
    pub cert: PathBuf,
    /// The hub's private key (PEM, PKCS#8).
    pub key: PathBuf,
    /// CA certificates client certificates must chain to (PEM files).
    pub client_ca: Vec<PathBuf>,
}

/// `[auth]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The `aud` every token must carry.
    #[serde(default = "default_audience")]
    pub audience: String,
    /// Clock skew allowed on `exp`/`nbf`, seconds (at most 300).
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            audience: default_audience(),
            leeway_secs: default_leeway(),
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// The log's identity in checkpoints, e.g. `signaalhub.regio.nl/verstrekkingenlog`.
    #[serde(default = "default_origin")]
    pub origin: String,
    /// The hub's Ed25519 checkpoint signing key (PKCS#8 PEM).
    pub checkpoint_key_file: PathBuf,
    /// Its key id (written in every checkpoint's signature line).
    pub checkpoint_key_id: String,
    /// Earlier checkpoint keys, as `"key_id=<64 hex digits of the Ed25519 public key>"`, so that
    /// checkpoints signed before a rotation stay verifiable.
    #[serde(default)]
    pub old_checkpoint_keys: Vec<String>,
    /// How often new entries are folded into tiles and a checkpoint is signed, milliseconds.
    #[serde(default = "default_integrate_ms")]
    pub integrate_ms: u64,
}

fn default_origin() -> String {
    "signaalhub/verstrekkingenlog".into()
}
fn default_integrate_ms() -> u64 {
    500
}

/// `[pseudonym]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PseudonymConfig {
    /// File with the hub's pseudonym secret: at least 32 bytes, hex encoded. Key version 1: the
    /// root of the chain, needed for as long as the hub runs.
    pub key_file: PathBuf,
    /// Files with the later pseudonym keys, oldest first: versions 2, 3, …; the last is the one new
    /// records are written with (`docs/OPERATIONS.md`, "Rotating the pseudonym key"). The
    /// environment override takes a comma-separated list.
    #[serde(default)]
    pub rekey_files: Vec<PathBuf>,
}

/// `[directory]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// How often to look for directory changes made elsewhere, milliseconds.
    #[serde(default = "default_refresh_ms")]
    pub refresh_ms: u64,
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        DirectoryConfig {
            refresh_ms: default_refresh_ms(),
        }
    }
}

/// `[limits]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest accepted request message, bytes.
    #[serde(default = "default_max_message")]
    pub max_message_bytes: usize,
    /// Most concurrent connections.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// TLS handshake timeout, milliseconds.
    #[serde(default = "default_handshake_ms")]
    pub handshake_timeout_ms: u64,
    /// Per-request timeout, milliseconds (streams excepted).
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Requests per second one organisation may make on one hub instance (a token bucket,
    /// refilled continuously); 0 turns rate limiting off.
    #[serde(default = "default_rate_per_org")]
    pub requests_per_second_per_org: u32,
    /// How many requests an organisation may make at once above its rate (the bucket's size).
    #[serde(default = "default_burst_per_org")]
    pub burst_per_org: u32,
    /// Open server streams (e.g. `StreamInbox`) one organisation may hold on one hub instance.
    #[serde(default = "default_streams_per_org")]
    pub max_streams_per_org: u32,
    /// Concurrent HTTP/2 streams (calls) on one connection.
    #[serde(default = "default_streams_per_connection")]
    pub max_concurrent_streams_per_connection: u32,
    /// Connections one organisation may hold open on one hub instance; one more is closed right
    /// after its TLS handshake, so one organisation cannot take every place of `max_connections`.
    #[serde(default = "default_connections_per_org")]
    pub max_connections_per_org: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_message_bytes: default_max_message(),
            max_connections: default_max_connections(),
            handshake_timeout_ms: default_handshake_ms(),
            request_timeout_ms: default_request_timeout_ms(),
            requests_per_second_per_org: default_rate_per_org(),
            burst_per_org: default_burst_per_org(),
            max_streams_per_org: default_streams_per_org(),
            max_concurrent_streams_per_connection: default_streams_per_connection(),
            max_connections_per_org: default_connections_per_org(),
        }
    }
}

/// `[commit]`: group commit. Submissions that arrive while a transaction commits are stored
/// together in the next one (one `fsync`, one log-sequence update), each still all-or-nothing for
/// its sender.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitConfig {
    /// Group submissions into shared transactions (default `true`). `false`: one transaction per
    /// request (the benchmark's baseline).
    #[serde(default = "default_true")]
    pub group_commit: bool,
    /// Most submissions in one transaction (default 128).
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
}

impl Default for CommitConfig {
    fn default() -> Self {
        CommitConfig {
            group_commit: true,
            max_batch: default_max_batch(),
        }
    }
}

fn default_true() -> bool {
    true
}
fn default_max_batch() -> usize {
    128
}

fn default_listen() -> String {
    "127.0.0.1:50051".into()
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_log_format() -> String {
    "text".into()
}
fn default_audience() -> String {
    "signaalhub".into()
}
fn default_leeway() -> u64 {
    30
}
fn default_refresh_ms() -> u64 {
    1000
}
fn default_max_message() -> usize {
    4 * 1024 * 1024
}
fn default_max_connections() -> usize {
    10_000
}
fn default_handshake_ms() -> u64 {
    10_000
}
fn default_request_timeout_ms() -> u64 {
    30_000
}
fn default_rate_per_org() -> u32 {
    200
}
fn default_burst_per_org() -> u32 {
    400
}
fn default_streams_per_org() -> u32 {
    32
}
fn default_streams_per_connection() -> u32 {
    256
}
fn default_connections_per_org() -> u32 {
    64
}

impl Config {
    /// Reads `path`, applies environment overrides from `env`, resolves relative paths against
    /// the file's directory and checks every value.
    pub fn load(path: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(&path.display().to_string(), format!("cannot read: {e}")))?;
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| err(&path.display().to_string(), e.to_string()))?;
        for (var, key) in ENV_OVERRIDES {
            if let Some(v) = env(var) {
                set_key(&mut table, key, v);
            }
        }
        let mut cfg: Config = table.try_into().map_err(|e: toml::de::Error| {
            err(&path.display().to_string(), e.message().to_owned())
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        cfg.resolve(base);
        cfg.check()?;
        Ok(cfg)
    }

    fn resolve(&mut self, base: &Path) {
        let abs = |p: &mut PathBuf| {
            if !p.as_os_str().is_empty() && p.is_relative() {
                *p = base.join(&*p);
            }
        };
        abs(&mut self.data_dir);
        abs(&mut self.tls.cert);
        abs(&mut self.tls.key);
        for ca in &mut self.tls.client_ca {
            abs(ca);
        }
        abs(&mut self.pseudonym.key_file);
        for f in &mut self.pseudonym.rekey_files {
            abs(f);
        }
        abs(&mut self.log.checkpoint_key_file);
        abs(&mut self.convenant);
        if !self.database.is_empty() && !crate::store::is_postgres_url(&self.database) {
            let mut p = PathBuf::from(&self.database);
            abs(&mut p);
            self.database = p.display().to_string();
        }
    }

    /// Checks values that parse but make no sense.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.listen.parse::<std::net::SocketAddr>().map_err(|_| {
            err(
                "listen",
                format!("{:?} is not an address like 127.0.0.1:50051", self.listen),
            )
        })?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(err("log_format", "must be \"text\" or \"json\""));
        }
        if self.tls.client_ca.is_empty() {
            return Err(err(
                "tls.client_ca",
                "name at least one CA certificate file",
            ));
        }
        if self.auth.audience.is_empty() {
            return Err(err("auth.audience", "must not be empty"));
        }
        if self.auth.leeway_secs > 300 {
            return Err(err("auth.leeway_secs", "at most 300 seconds"));
        }
        crate::domain::access::HubWideReaders::parse(&self.access.hub_wide_readers)
            .map_err(|e| err("access.hub_wide_readers", e))?;
        if self.log.integrate_ms == 0 {
            return Err(err("log.integrate_ms", "must be at least 1"));
        }
        if self.log.checkpoint_key_id.is_empty()
            || self.log.checkpoint_key_id.contains(char::is_whitespace)
        {
            return Err(err(
                "log.checkpoint_key_id",
                "a key id without spaces, e.g. \"hub-2026\"",
            ));
        }
        for k in &self.log.old_checkpoint_keys {
            let ok = k.split_once('=').is_some_and(|(id, hex)| {
                !id.is_empty() && hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
            });
            if !ok {
                return Err(err(
                    "log.old_checkpoint_keys",
                    "entries are \"key_id=<64 hex digits>\"",
                ));
            }
        }
        for (i, f) in self.pseudonym.rekey_files.iter().enumerate() {
            let earlier = std::iter::once(&self.pseudonym.key_file)
                .chain(self.pseudonym.rekey_files.iter().take(i));
            if f.as_os_str().is_empty() {
                return Err(err(
                    "pseudonym.rekey_files",
                    format!("entry {} (key version {}) is empty", i + 1, i + 2),
                ));
            }
            if earlier.into_iter().any(|e| e == f) {
                return Err(err(
                    "pseudonym.rekey_files",
                    format!(
                        "{} (key version {}) is listed twice; every version needs its own key file",
                        f.display(),
                        i + 2
                    ),
                ));
            }
        }
        if self.directory.refresh_ms == 0 {
            return Err(err("directory.refresh_ms", "must be at least 1"));
        }
        if self.limits.max_message_bytes < 1024 || self.limits.max_message_bytes > 64 * 1024 * 1024
        {
            return Err(err("limits.max_message_bytes", "between 1024 and 67108864"));
        }
        if self.commit.max_batch == 0 || self.commit.max_batch > 10_000 {
            return Err(err("commit.max_batch", "between 1 and 10000"));
        }
        if self.limits.max_connections == 0 {
            return Err(err("limits.max_connections", "must be at least 1"));
        }
        if self.limits.request_timeout_ms == 0 {
            return Err(err("limits.request_timeout_ms", "must be at least 1"));
        }
        if self.limits.handshake_timeout_ms == 0 {
            return Err(err("limits.handshake_timeout_ms", "must be at least 1"));
        }
        if self.limits.requests_per_second_per_org > 0 && self.limits.burst_per_org == 0 {
            return Err(err(
                "limits.burst_per_org",
                "must be at least 1 while limits.requests_per_second_per_org is set",
            ));
        }
        if self.limits.max_connections_per_org == 0 {
            return Err(err("limits.max_connections_per_org", "must be at least 1"));
        }
        if self.limits.max_streams_per_org == 0 {
            return Err(err("limits.max_streams_per_org", "must be at least 1"));
        }
        if self.limits.max_concurrent_streams_per_connection == 0 {
            return Err(err(
                "limits.max_concurrent_streams_per_connection",
                "must be at least 1",
            ));
        }
        if !(1..=10_000).contains(&self.reminders.batch_size) {
            return Err(err("reminders.batch_size", "between 1 and 10000"));
        }
        if !(1..=10_000).contains(&self.retention.batch_size) {
            return Err(err("retention.batch_size", "between 1 and 10000"));
        }
        if self.retention.log_professional_days > 36_500 {
            return Err(err(
                "retention.log_professional_days",
                "at most 36500 (100 years); 0 keeps the professional's id for as long as the log",
            ));
        }
        if !self.metrics.listen.is_empty() {
            let addr = self
                .metrics
                .listen
                .parse::<std::net::SocketAddr>()
                .map_err(|_| {
                    err(
                        "metrics.listen",
                        format!(
                            "{:?} is not an address like 127.0.0.1:9464 (empty turns metrics off)",
                            self.metrics.listen
                        ),
                    )
                })?;
            if addr.port() != 0 && self.listen == self.metrics.listen {
                return Err(err(
                    "metrics.listen",
                    "must differ from `listen`: metrics are served on their own port",
                ));
            }
        }
        Ok(())
    }

    /// The database to open: the `database` setting, or the SQLite file under `data_dir`.
    pub fn database_target(&self) -> String {
        if self.database.is_empty() {
            self.data_dir
                .join("signaalhub.sqlite")
                .display()
                .to_string()
        } else {
            self.database.clone()
        }
    }
}

fn set_key(table: &mut toml::Table, dotted: &str, value: String) {
    let mut parts: Vec<&str> = dotted.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut t = table;
    for p in parts {
        let entry = t
            .entry(p.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        t = next;
    }
    // List-valued keys take a comma-separated list from the environment.
    let v = if dotted == "pseudonym.rekey_files" {
        toml::Value::Array(
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        )
    } else {
        toml::Value::String(value)
    };
    t.insert(last.to_owned(), v);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("hub.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    const MINIMAL: &str = r#"
[tls]
cert = "hub.pem"
key = "hub.key"
client_ca = ["ca.pem"]
[pseudonym]
key_file = "pseudonym.key"
[log]
checkpoint_key_file = "ckpt.pem"
checkpoint_key_id = "hub-1"
"#;

    #[test]
    fn defaults_and_relative_paths() {
        let d = tempfile::tempdir().unwrap();
        let c = Config::load(&write(d.path(), MINIMAL), |_| None).unwrap();
        assert_eq!(c.listen, "127.0.0.1:50051");
        assert_eq!(c.tls.cert, d.path().join("hub.pem"));
        assert_eq!(
            c.database_target(),
            d.path()
                .join("data")
                .join("signaalhub.sqlite")
                .display()
                .to_string()
        );
    }

    #[test]
    fn env_overrides_file() {
        let d = tempfile::tempdir().unwrap();
        let c = Config::load(&write(d.path(), MINIMAL), |k| {
            (k == "SIGNAALHUB_LISTEN").then(|| "0.0.0.0:6000".to_string())
        })
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:6000");
    }

    #[test]
    fn rekey_files_from_file_and_environment() {
        let d = tempfile::tempdir().unwrap();
        let c = Config::load(&write(d.path(), MINIMAL), |_| None).unwrap();
        assert!(c.pseudonym.rekey_files.is_empty());
        let text = MINIMAL.replace(
            "key_file = \"pseudonym.key\"",
            "key_file = \"pseudonym.key\"\nrekey_files = [\"p2.key\"]",
        );
        let c = Config::load(&write(d.path(), &text), |_| None).unwrap();
        assert_eq!(c.pseudonym.rekey_files, vec![d.path().join("p2.key")]);
        let c = Config::load(&write(d.path(), MINIMAL), |k| {
            (k == "SIGNAALHUB_PSEUDONYM_REKEY_FILES").then(|| "p2.key, /abs/p3.key".to_string())
        })
        .unwrap();
        assert_eq!(
            c.pseudonym.rekey_files,
            vec![d.path().join("p2.key"), PathBuf::from("/abs/p3.key")]
        );
        let e = Config::load(&write(d.path(), MINIMAL), |k| {
            (k == "SIGNAALHUB_PSEUDONYM_REKEY_FILES").then(|| "pseudonym.key".to_string())
        })
        .unwrap_err();
        assert_eq!(e.key, "pseudonym.rekey_files");
        assert!(e.message.contains("version 2"), "{e}");
    }

    #[test]
    fn errors_name_the_key() {
        let d = tempfile::tempdir().unwrap();
        let e = Config::load(
            &write(d.path(), &format!("listen = \"nope\"\n{MINIMAL}")),
            |_| None,
        )
        .unwrap_err();
        assert_eq!(e.key, "listen");
        let e = Config::load(&write(d.path(), &format!("{MINIMAL}\nbogus = 1\n")), |_| {
            None
        })
        .unwrap_err();
        assert!(e.message.contains("bogus"), "{e}");
        let e = Config::load(&write(d.path(), "[tls]\ncert='a'\n"), |_| None).unwrap_err();
        assert!(e.to_string().contains("missing field"), "{e}");
    }
}
