//! The dev kit's private key files are PKCS#8 v1 (`PRIVATE KEY`) that common tools load:
//! `openssl pkey` and Python's `cryptography` read every one and derive the same public key as
//! hub and SDK (each is skipped, saying so, where it is not installed). And a kit written before
//! (Ed25519 keys as *ring*'s PKCS#8 v2, the X25519 secret as `encryption-key.hex`) still works
//! end to end: tokens, sending, the hub's checkpoint key and opening.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Cli;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use signaalhub_client::envelope::RecipientSecrets;
use signaalhub_client::signaalhub_proto::keyfile;
use signaalhub_server::devkit;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a private key file of the kit holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Ed25519: token, signing and checkpoint keys.
    Ed25519,
    /// X25519: the organisation's envelope secret.
    X25519,
    /// EC P-256: TLS keys of the CA, the hub and the organisations; public key in `cert`.
    Tls,
}

struct KeyFile {
    path: PathBuf,
    kind: Kind,
    /// The raw public key (Ed25519, X25519) as hub and SDK derive it; for TLS keys the
    /// certificate file whose public key it is.
    public: Vec<u8>,
    cert: Option<PathBuf>,
}

fn der_of(path: &Path) -> Vec<u8> {
    use rustls::pki_types::PrivatePkcs8KeyDer;
    use rustls::pki_types::pem::PemObject;
    PrivatePkcs8KeyDer::from_pem_file(path)
        .unwrap_or_else(|e| panic!("{}: not a PKCS#8 PEM: {e:?}", path.display()))
        .secret_pkcs8_der()
        .to_vec()
}

/// The `version` INTEGER of a PKCS#8 document (0 = v1, RFC 5208; 1 = v2, RFC 5958).
fn pkcs8_version(der: &[u8]) -> u8 {
    assert_eq!(der[0], 0x30, "a SEQUENCE");
    let header = match der[1] {
        0..=0x7f => 2,
        0x81 => 3,
        0x82 => 4,
        l => panic!("length form {l:#x}"),
    };
    assert_eq!(
        &der[header..header + 2],
        &[0x02, 0x01],
        "an INTEGER of one byte"
    );
    der[header + 2]
}

/// Every private key file of the kit in `kit`, with what it should hold.
fn key_files(kit: &Path) -> Vec<KeyFile> {
    let mut files = Vec::new();
    let ed = |path: PathBuf| {
        let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der_of(&path)).unwrap();
        KeyFile {
            public: kp.public_key().as_ref().to_vec(),
            path,
            kind: Kind::Ed25519,
            cert: None,
        }
    };
    let tls = |path: PathBuf, cert: PathBuf| KeyFile {
        path,
        kind: Kind::Tls,
        public: Vec::new(),
        cert: Some(cert),
    };
    files.push(tls(kit.join("ca.key.pem"), kit.join("ca.pem")));
    files.push(tls(kit.join("hub/key.pem"), kit.join("hub/cert.pem")));
    files.push(ed(kit.join("hub/checkpoint-key.pem")));
    for org in devkit::sample_orgs() {
        let odir = kit.join("orgs").join(&org.sector);
        files.push(tls(odir.join("key.pem"), odir.join("cert.pem")));
        files.push(ed(odir.join("token-key.pem")));
        files.push(ed(odir.join("signing-key.pem")));
        let enc = odir.join("encryption-key.pem");
        let pem = std::fs::read_to_string(&enc).unwrap();
        let secrets = RecipientSecrets::from_pem(&org.oin, &org.encryption_key_id, &pem).unwrap();
        files.push(KeyFile {
            public: secrets.public_key(&org.encryption_key_id).unwrap().to_vec(),
            path: enc,
            kind: Kind::X25519,
            cert: None,
        });
    }
    files
}

/// Every file under `dir` that holds private key material in any form.
fn files_with_secrets(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_with_secrets(&path, out);
        } else if std::fs::read_to_string(&path).is_ok_and(|t| t.contains("PRIVATE KEY-----"))
            || path.extension().is_some_and(|e| e == "hex")
        {
            out.push(path);
        }
    }
}

fn tool_present(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_private_key_of_the_kit_is_pkcs8_v1_and_common_tools_load_it() {
    let dir = tempfile::tempdir().unwrap();
    let kit = dir.path().join("dev-kit");
    devkit::init(&kit, true).await.unwrap();
    let files = key_files(&kit);
    assert_eq!(files.len(), 3 + 4 * devkit::sample_orgs().len());

    // Nothing else in the kit holds a private key, and no key is in another form.
    let mut found = Vec::new();
    files_with_secrets(&kit, &mut found);
    found.sort();
    let mut listed: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    listed.sort();
    assert_eq!(found, listed, "private key files of the kit");

    for f in &files {
        let text = std::fs::read_to_string(&f.path).unwrap();
        assert!(
            // The PEM label, spelt in two parts so this file holds no key marker itself.
            text.starts_with(concat!("-----BEGIN PRIVATE", " KEY-----\n")),
            "{}: a PKCS#8 `PRIVATE KEY` PEM block",
            f.path.display()
        );
        assert_eq!(
            pkcs8_version(&der_of(&f.path)),
            0,
            "{}: PKCS#8 v1 (version 0)",
            f.path.display()
        );
    }
    for f in files.iter().filter(|f| f.kind != Kind::Tls) {
        let der = der_of(&f.path);
        assert_eq!(
            der.len(),
            48,
            "{}: RFC 8410 PrivateKeyInfo",
            f.path.display()
        );
    }

    // OpenSSL: `openssl pkey` loads each file, and derives the public key hub and SDK derive (for
    // TLS keys: the one in the certificate).
    if tool_present("openssl", &["version"]) {
        let version = String::from_utf8_lossy(&run("openssl", &["version"])).into_owned();
        for f in &files {
            let p = f.path.to_str().unwrap();
            run("openssl", &["pkey", "-in", p, "-noout"]);
            let text =
                String::from_utf8_lossy(&run("openssl", &["pkey", "-in", p, "-text", "-noout"]))
                    .into_owned();
            let spki = run("openssl", &["pkey", "-in", p, "-pubout", "-outform", "DER"]);
            match f.kind {
                Kind::Ed25519 | Kind::X25519 => {
                    let want = if f.kind == Kind::Ed25519 {
                        "ED25519 Private-Key"
                    } else {
                        "X25519 Private-Key"
                    };
                    assert!(text.contains(want), "{p}: openssl says {text}");
                    assert_eq!(spki.len(), 44, "{p}: RFC 8410 SubjectPublicKeyInfo");
                    assert_eq!(&spki[12..], &f.public[..], "{p}: openssl's public key");
                }
                Kind::Tls => {
                    let cert = f.cert.as_ref().unwrap().to_str().unwrap();
                    let from_cert = run("openssl", &["x509", "-in", cert, "-pubkey", "-noout"]);
                    let from_key = run("openssl", &["pkey", "-in", p, "-pubout"]);
                    assert_eq!(from_key, from_cert, "{p}: the public key of {cert}");
                }
            }
        }
        println!(
            "openssl ({}): all {} private key files load",
            version.trim(),
            files.len()
        );
    } else {
        println!(
            "skipped: `openssl` is not installed; the kit's key files were not loaded with `openssl pkey`"
        );
    }

    // Python `cryptography`: load_pem_private_key reads each file; the public keys match.
    let python = "python3";
    if tool_present(python, &["-c", "import cryptography"]) {
        const SCRIPT: &str = r#"
import sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
for path, cert in zip(sys.argv[1::2], sys.argv[2::2]):
    key = s.load_pem_private_key(open(path, "rb").read(), password=None)
    pub = key.public_key()
    if isinstance(key, ed25519.Ed25519PrivateKey):
        kind = "Ed25519"
    elif isinstance(key, x25519.X25519PrivateKey):
        kind = "X25519"
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        kind = "EC-" + key.curve.name
    else:
        kind = type(key).__name__
    if cert != "-":
        c = x509.load_pem_x509_certificate(open(cert, "rb").read()).public_key()
        form = (s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)
        ok = pub.public_bytes(*form) == c.public_bytes(*form)
        print(path, kind, "cert-match" if ok else "CERT-MISMATCH")
    else:
        print(path, kind, pub.public_bytes(s.Encoding.Raw, s.PublicFormat.Raw).hex())
"#;
        let mut args = vec!["-c".to_string(), SCRIPT.to_string()];
        for f in &files {
            args.push(f.path.to_str().unwrap().to_string());
            args.push(
                f.cert
                    .as_ref()
                    .map_or("-".into(), |c| c.to_str().unwrap().to_string()),
            );
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = String::from_utf8(run(python, &args)).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), files.len(), "{out}");
        for (f, line) in files.iter().zip(lines) {
            let p = f.path.to_str().unwrap();
            let want = match f.kind {
                Kind::Ed25519 => format!("{p} Ed25519 {}", hex::encode(&f.public)),
                Kind::X25519 => format!("{p} X25519 {}", hex::encode(&f.public)),
                Kind::Tls => format!("{p} EC-secp256r1 cert-match"),
            };
            assert_eq!(line, want);
        }
        println!(
            "python3 cryptography: all {} private key files load",
            files.len()
        );
    } else {
        println!(
            "skipped: python3 with `cryptography` is not importable; the kit's key files were not loaded with load_pem_private_key"
        );
    }
}

/// *ring*'s PKCS#8 v2 document for `seed`, byte for byte as `Ed25519KeyPair::generate_pkcs8`
/// writes it (RFC 5958 with the public key under `[1]`): what dev kits wrote before.
fn ring_v2(seed: &[u8; 32]) -> Vec<u8> {
    let kp = Ed25519KeyPair::from_seed_unchecked(seed).unwrap();
    let mut der = hex::decode("3051020101300506032b657004220420").unwrap();
    der.extend_from_slice(seed);
    der.extend_from_slice(&[0x81, 0x21, 0x00]);
    der.extend_from_slice(kp.public_key().as_ref());
    // ring's strict parser takes only version 2 documents: this is one.
    Ed25519KeyPair::from_pkcs8(&der).unwrap();
    der
}

fn seed_of(pkcs8: &[u8]) -> [u8; 32] {
    keyfile::secret_from_pkcs8(keyfile::Curve::Ed25519, pkcs8).unwrap()
}

/// Rewrites an Ed25519 key file of the kit as *ring*'s v2, the same key.
fn to_v2(path: &Path) {
    let seed = seed_of(&der_of(path));
    std::fs::write(path, devkit::pem("PRIVATE KEY", &ring_v2(&seed))).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kit_with_the_older_key_files_still_works() {
    let real = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    assert_eq!(ring_v2(&seed_of(real.as_ref())), real.as_ref());
    let dir = tempfile::tempdir().unwrap();
    let kit = dir.path().join("dev-kit");
    devkit::init(&kit, true).await.unwrap();
    // As kits wrote them before: Ed25519 keys as ring's v2, the X25519 secret as hex. The
    // organisations are registered afresh from these files (a new SQLite store).
    std::fs::remove_dir_all(kit.join("data")).unwrap();
    to_v2(&kit.join("hub/checkpoint-key.pem"));
    for org in devkit::sample_orgs() {
        let odir = kit.join("orgs").join(&org.sector);
        to_v2(&odir.join("token-key.pem"));
        to_v2(&odir.join("signing-key.pem"));
        let der = der_of(&odir.join("encryption-key.pem"));
        assert_eq!(
            &der[..16],
            &hex::decode("302e020100300506032b656e04220420").unwrap()[..]
        );
        std::fs::write(odir.join("encryption-key.hex"), hex::encode(&der[16..])).unwrap();
        std::fs::remove_file(odir.join("encryption-key.pem")).unwrap();
    }
    assert_eq!(
        pkcs8_version(&der_of(&kit.join("orgs/huisarts/signing-key.pem"))),
        1
    );
    // quickstart re-mints the tokens from the token keys at every start.
    devkit::refresh_tokens(&kit, "signaalhub").unwrap();

    let (endpoint, _stop) = common::serve(&kit, None).await;
    let k = Cli {
        dir: dir.path().into(),
        endpoint,
    };
    k.ok("huisarts", &["whoami"], &["00000009903000000000"])
        .await;
    // README scenario 3: signed with the v2 signing key, verified by the hub against the key it
    // registered from that file, opened with the hex secret.
    k.ok(
        "huisarts",
        &[
            "send",
            "--to",
            "veilig_thuis",
            "--purpose",
            "melding_veilig_thuis",
            "--category",
            "gezondheid",
            "--bsn",
            "111222333",
            "--age",
            "4",
            "--gezag",
            "ouder-1",
            "--basis",
            "meldrecht",
            "--meldcode-steps",
            "1,2,3,4",
            "--afweging",
            "structureel",
            "--client-informed",
            "no",
            "--not-informed-reason",
            "veiligheid_kind",
            "--id",
            "melding-old-kit",
            "--text",
            "Letsel past niet bij het verhaal.",
        ],
        &["melding-old-kit"],
    )
    .await;
    let out = k
        .ok(
            "veilig_thuis",
            &["inbox", "--once"],
            &["melding-old-kit", "1 opened and acknowledged, 0 not opened"],
        )
        .await;
    let file = out
        .split_whitespace()
        .find(|w| w.starts_with("inbox/"))
        .unwrap_or_else(|| panic!("no payload file in:\n{out}"));
    assert_eq!(k.read(file), "Letsel past niet bij het verhaal.");
}
