//! The server's shape, as rules a build can check (docs/ARCHITECTURE.md "Rules of dependency"):
//! read from the resolved dependency graph (`cargo metadata`) and from the sources.
//!
//! - the server links no code that can open an envelope (`hpke`) and not the client SDK;
//! - `flows/`, `domain/`, `store/` and `ledger/` never name `tonic` or the generated `pb` types;
//! - exactly one place builds a `policy::DecisionRequest` (`flows/decision.rs`);
//! - no module below the crate root calls up into it (`crate::spawn_periodic` and the like);
//! - the services already on the flows layer hold no rules: they never touch the store, and no
//!   handler is longer than 60 lines.
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
fn no_module_calls_up_into_the_crate_root() {
    let root = std::fs::read_to_string(server_src().join("lib.rs")).unwrap();
    // The functions the crate root defines itself.
    let own: Vec<String> = code(&root)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l
                .strip_prefix("pub fn ")
                .or_else(|| l.strip_prefix("pub async fn "))
                .or_else(|| l.strip_prefix("fn "))?;
            Some(rest.split(['(', '<']).next()?.to_owned())
        })
        .collect();
    assert!(!own.is_empty());
    let mut offences = Vec::new();
    for (path, text) in sources(&server_src()) {
        if path == "lib.rs" || path == "main.rs" {
            continue;
        }
        let c = code(&text);
        for f in &own {
            if c.contains(&format!("crate::{f}(")) || c.contains(&format!("crate::{f};")) {
                offences.push(format!("{path} calls crate::{f}"));
            }
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
}

/// The gRPC services whose rules live in `flows/` (the list grows as services move).
const ON_THE_FLOWS_LAYER: &[&str] = &[
    "api/signals.rs",
    "api/policy.rs",
    "api/consent.rs",
    "api/log.rs",
    "api/directory.rs",
];

#[test]
fn services_on_the_flows_layer_hold_no_rules() {
    let mut offences = Vec::new();
    for file in ON_THE_FLOWS_LAYER {
        let text = std::fs::read_to_string(server_src().join(file)).unwrap();
        let c = code(&text);
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
