//! The server's shape, as rules a build can check (docs/ARCHITECTURE.md "Rules of dependency"):
//! read from the resolved dependency graph (`cargo metadata`) and from the sources.
//!
//! - the server links no code that can open an envelope (`hpke`) and not the client SDK; built
//!   without its `devkit` feature (production) it links neither `rcgen` nor `x25519-dalek`;
//! - `flows/`, `domain/`, `store/` and `ledger/` never name `tonic` or the generated `pb` types;
//! - exactly one place builds a `policy::DecisionRequest` (`flows/decision.rs`);
//! - `lib.rs` only declares modules and re-exports, and no module reaches an item through the
//!   crate root (only `crate::<module>::...`);
//! - `api/` holds no rules: it never touches the store, and no handler is longer than 60 lines;
//! - records in `domain/`, `flows/` and `store/` carry OINs as `ids::Oin`, record ids as
//!   `ids::Id<K>`, and the convenant's names as `ids::Purpose`, `ids::Category` and `ids::Role`,
//!   never `String`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn server_src() -> PathBuf {
    workspace().join("server/src")
}

/// Every `.rs` file below `dir`, with its path relative to `server/src`.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(server_src())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The code of a file without its comments (line comments and doc comments), so a rule about
/// names is not broken by a sentence that mentions them.
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            // Keep `//` inside a string literal such as "https://…".
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The packages the server crate links (normal dependencies, transitively; no dev or build
/// dependencies), from `cargo metadata`.
fn server_dependencies() -> BTreeSet<String> {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(workspace())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: HashMap<String, String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let nodes: HashMap<String, &serde_json::Value> = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap().to_owned(), n))
        .collect();
    let root = names
        .iter()
        .find(|(_, n)| *n == "signaalhub-server")
        .map(|(id, _)| id.clone())
        .unwrap();
    let mut seen = BTreeSet::new();
    let mut todo = vec![root];
    while let Some(id) = todo.pop() {
        let Some(node) = nodes.get(&id) else { continue };
        for dep in node["deps"].as_array().unwrap() {
            let normal = dep["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null());
            let pkg = dep["pkg"].as_str().unwrap().to_owned();
            if normal && seen.insert(names[&pkg].clone()) {
                todo.push(pkg);
            }
        }
    }
    seen
}

#[test]
fn the_server_links_no_opening_code_and_not_the_client() {
    let deps = server_dependencies();
    assert!(deps.contains("ring"), "the dependency walk found nothing");
    for banned in ["hpke", "signaalhub-client"] {
        assert!(
            !deps.contains(banned),
            "the server links {banned}; it must not be able to open an envelope"
        );
    }
}

/// The packages a production build of the server links (`--no-default-features`: no dev kit),
/// from `cargo tree`, which resolves features for that one package.
fn production_dependencies() -> BTreeSet<String> {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "signaalhub-server",
            "--no-default-features",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(workspace())
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn the_production_server_links_no_dev_kit() {
    let deps = production_dependencies();
    assert!(deps.contains("ring") && deps.contains("sqlx"), "{deps:?}");
    for banned in ["rcgen", "x25519-dalek", "hpke", "signaalhub-client"] {
        assert!(
            !deps.contains(banned),
            "a server built without the devkit feature links {banned}"
        );
    }
    // With the default features (the newcomer's build) the dev kit is there.
    assert!(server_dependencies().contains("rcgen"));
}

#[test]
fn flows_domain_store_and_ledger_never_name_the_wire() {
    let mut offences = Vec::new();
    for dir in ["flows", "domain", "store", "ledger"] {
        for (path, text) in sources(&server_src().join(dir)) {
            let c = code(&text);
            for name in ["tonic", "signaalhub_proto::pb", "pb::"] {
                if c.contains(name) {
                    offences.push(format!("{path} names {name}"));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
}

#[test]
fn exactly_one_place_builds_a_decision_request() {
    let builders: Vec<String> = sources(&server_src())
        .into_iter()
        .filter(|(_, text)| code(text).contains("DecisionRequest {"))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(builders, vec!["flows/decision.rs".to_owned()]);
}

#[test]
fn lib_rs_only_wires_and_no_module_reaches_into_the_crate_root() {
    let root = code(&std::fs::read_to_string(server_src().join("lib.rs")).unwrap());
    assert!(
        !root.contains("fn ") && !root.contains("struct ") && !root.contains("impl "),
        "lib.rs declares modules and re-exports; the hub itself lives in hub.rs"
    );
    // The modules the crate root declares: `crate::<module>::...` is the only way down.
    let modules: Vec<String> = root
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_owned())
        .collect();
    assert!(modules.contains(&"flows".to_owned()), "{modules:?}");
    let mut offences = Vec::new();
    for (path, text) in sources(&server_src()) {
        if path == "lib.rs" || path == "main.rs" {
            continue;
        }
        let c = code(&text);
        for (i, _) in c.match_indices("crate::") {
            let rest = &c[i + "crate::".len()..];
            let ident = |s: &str| -> String {
                s.trim_start()
                    .chars()
                    .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
                    .collect()
            };
            // `crate::{a, b::c}`: each head of the group.
            let names: Vec<String> = match rest.strip_prefix('{') {
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(ident)
                    .filter(|n| !n.is_empty())
                    .collect(),
                None => vec![ident(rest)],
            };
            for name in names {
                if !modules.contains(&name) {
                    offences.push(format!("{path}: crate::{name}"));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
}

/// The gRPC edge: every file in `api/` (services, conversions, statuses, the stream driver).
fn api_files() -> Vec<(String, String)> {
    sources(&server_src().join("api"))
}

#[test]
fn the_api_holds_no_rules_and_never_touches_the_store() {
    let files = api_files();
    assert!(files.len() >= 12, "{} api files", files.len());
    let mut offences = Vec::new();
    for (file, text) in &files {
        let c = code(text);
        if c.contains("crate::store") || c.contains(".store.") || c.contains(".store\n") {
            offences.push(format!("{file} touches the store"));
        }
        // Handlers: each `async fn` of a service trait impl, measured to its closing brace.
        let lines: Vec<&str> = c.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let l = lines[i];
            if l.starts_with("    async fn ") {
                let name = l.trim_start()["async fn ".len()..]
                    .split(['(', '<'])
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let start = i;
                while i < lines.len() && lines[i] != "    }" {
                    i += 1;
                }
                let len = i - start + 1;
                if len > 60 {
                    offences.push(format!("{file}: handler {name} is {len} lines"));
                }
            }
            i += 1;
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
}

/// The fields of every `struct` and `enum` body in `text` (code without comments): `(line
/// number, name, type)`. Brace depth decides what is inside a body, so a function's parameters
/// are never taken for fields.
fn fields(text: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        let opens_body = depth == 0
            && (t.contains("struct ") || t.contains("enum "))
            && t.ends_with('{')
            && !t.contains("fn ");
        if depth > 0 {
            let decl = t
                .strip_prefix("pub(crate) ")
                .or_else(|| t.strip_prefix("pub "))
                .unwrap_or(t);
            if let Some((name, ty)) = decl.split_once(':')
                && !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                out.push((
                    n + 1,
                    name.to_owned(),
                    ty.trim().trim_end_matches(',').to_owned(),
                ));
            }
        }
        if opens_body || depth > 0 {
            depth += t.matches('{').count() as i32 - t.matches('}').count() as i32;
        }
    }
    out
}

/// Names of fields that hold organisations (OINs) or the hub's record ids.
fn typed_field(name: &str) -> Option<&'static str> {
    const ID_FIELDS: [&str; 11] = [
        "signal_id",
        "consent_id",
        "case_id",
        "zorgmelding_id",
        "fragment_id",
        "handover_id",
        "involvement_id",
        "maatregel_id",
        "triage_id",
        "proposal_id",
        "query_id",
    ];
    if name == "oin"
        || name.ends_with("_oin")
        || name.ends_with("_oins")
        || name == "oins"
        || name == "disclosers"
    {
        return Some("ids::Oin");
    }
    if ID_FIELDS
        .iter()
        .any(|f| name == *f || name == format!("{f}s"))
    {
        return Some("ids::Id<K> (SignalId, ConsentId, ...)");
    }
    name_field(name)
}

/// Names of fields that hold convenant names, with the type each must be.
fn name_field(name: &str) -> Option<&'static str> {
    if name == "purpose"
        || name == "purposes"
        || name.ends_with("_purpose")
        || name == "received_for"
    {
        return Some("Purpose");
    }
    if name == "category" || name == "categories" {
        return Some("Category");
    }
    if name == "role" || name == "roles" || name.ends_with("_role") {
        return Some("Role");
    }
    None
}

#[test]
fn domain_flows_and_store_records_carry_typed_identifiers() {
    // What an envelope states (sender, recipients) is kept as written: flows::envelope checks it
    // against the caller and the directory and names the bad field.
    let as_written = ["domain/envelope.rs"];
    let mut offences = Vec::new();
    let mut seen = 0;
    for dir in ["domain", "flows", "store"] {
        for (path, text) in sources(&server_src().join(dir)) {
            if as_written.contains(&path.as_str()) {
                continue;
            }
            for (line, name, ty) in fields(&code(&text)) {
                let Some(want) = typed_field(&name) else {
                    continue;
                };
                seen += 1;
                let untyped = match name_field(&name) {
                    // A convenant name: its own type, wherever it sits in the field's type.
                    Some(want) => !ty.contains(want),
                    None => ty.contains("String") || ty.contains("str"),
                };
                if untyped {
                    offences.push(format!("{path}:{line}: `{name}: {ty}` should be {want}"));
                }
            }
        }
    }
    assert!(
        seen >= 30,
        "the field scan found only {seen} identifier fields"
    );
    assert!(
        offences.is_empty(),
        "identifiers or convenant names kept as text where a type belongs:\n{}",
        offences.join("\n")
    );
}
