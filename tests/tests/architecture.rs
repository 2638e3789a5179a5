//! Structural guarantees that are easy to lose in a refactor.
#![allow(clippy::unwrap_used)]

/// The hub must not be able to open an envelope: the server crate links neither the SDK (where
/// `envelope::open` lives) nor an HPKE implementation.
#[test]
fn the_server_links_no_envelope_opening_code() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../server/Cargo.toml"))
            .unwrap();
    let deps: toml::Table = toml::from_str(&manifest).unwrap();
    let names: Vec<&String> = ["dependencies", "build-dependencies"]
        .iter()
        .filter_map(|k| deps.get(*k).and_then(|v| v.as_table()))
        .flat_map(|t| t.keys())
        .collect();
    for forbidden in ["signaalhub-client", "hpke", "hpke-rs", "aes-gcm"] {
        assert!(
            !names.iter().any(|n| n.as_str() == forbidden),
            "server depends on {forbidden}"
        );
    }
    // And no source file of the server calls the SDK's opening function.
    let src = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../server/src"));
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                assert!(
                    !text.contains("envelope::open"),
                    "{} opens envelopes",
                    p.display()
                );
            }
        }
    }
}
