//! `signaalhub-bench tokens`: bearer-token verification per algorithm (EdDSA, ES256, RS256), on a
//! cache miss (a fresh verifier each time: header, key lookup, signature, claims) and on a cache
//! hit (the per-request path), as ratios against one raw Ed25519 verification (ring) measured in
//! the same run. The RSA and P-256 keys are made by the `openssl` CLI at run time.
use crate::load::median;
use signaalhub_server::auth::directory::DirectoryCache;
use signaalhub_server::auth::token::TokenVerifier;
use signaalhub_server::domain::directory::{KeyUsage, OrgKey, OrgStatus, Organization};
use signaalhub_server::store::Store;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

/// Options of `signaalhub-bench tokens`.
#[derive(clap::Args, Debug)]
pub struct TokenArgs {
    /// Verifications per timed batch.
    #[arg(long, default_value_t = 200)]
    batch: usize,
    /// Timed rounds (medians are reported); one more is run first as warm-up.
    #[arg(long, default_value_t = 15)]
    rounds: usize,
}

fn openssl(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| anyhow::anyhow!("`openssl` (needed to make the RSA and EC keys): {e}"))?;
    anyhow::ensure!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// (private PKCS#8 PEM, public SPKI PEM file) of a fresh key.
fn keypair(
    dir: &Path,
    name: &str,
    genpkey: &[&str],
) -> anyhow::Result<(Vec<u8>, std::path::PathBuf)> {
    let private = format!("{name}.key.pem");
    let public = format!("{name}.pub.pem");
    let mut args = vec!["genpkey"];
    args.extend_from_slice(genpkey);
    args.extend_from_slice(&["-out", &private]);
    openssl(dir, &args)?;
    openssl(dir, &["pkey", "-in", &private, "-pubout", "-out", &public])?;
    Ok((std::fs::read(dir.join(&private))?, dir.join(public)))
}

/// Runs the measurement and prints one table.
pub async fn run(a: TokenArgs) -> anyhow::Result<()> {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("tokens.sqlite").display().to_string()).await?;
    let oin: signaalhub_server::ids::Oin = "00000001003214345000"
        .parse()
        .map_err(|_| anyhow::anyhow!("OIN"))?;
    store
        .add_organization(&Organization {
            oin: oin.clone(),
            name: "bench".into(),
            sector: "school".parse()?,
            region: "bench".into(),
            expertise: vec![],
            contact_point: String::new(),
            privacy_contact: String::new(),
            status: OrgStatus::Active,
            token_issuer: "https://idp.bench".into(),
        })
        .await?;
    let (ed_priv, ed_pub) = keypair(dir.path(), "ed", &["-algorithm", "ED25519"])?;
    let (es_priv, es_pub) = keypair(
        dir.path(),
        "es",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    )?;
    let (rs_priv, rs_pub) = keypair(
        dir.path(),
        "rs",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    )?;
    let encoding = |alg: Algorithm, pem: &[u8]| -> anyhow::Result<EncodingKey> {
        Ok(match alg {
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem)?,
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem)?,
            _ => EncodingKey::from_rsa_pem(pem)?,
        })
    };
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        + 3600;
    let claims = serde_json::json!({
        "sub": "bench", "iss": "https://idp.bench", "aud": "signaalhub", "exp": exp,
        "org": oin.as_str(), "roles": ["ib_er"],
    });
    let mut tokens = Vec::new();
    for (alg, kid, private, public) in [
        (Algorithm::EdDSA, "ed", &ed_priv, &ed_pub),
        (Algorithm::ES256, "es", &es_priv, &es_pub),
        (Algorithm::RS256, "rs", &rs_priv, &rs_pub),
    ] {
        store
            .add_key(&OrgKey {
                oin: oin.clone(),
                usage: KeyUsage::Token,
                key_id: kid.into(),
                public_key: signaalhub_server::admin::read_public_key(KeyUsage::Token, public)?,
                created_at: 0,
                retired_at: None,
            })
            .await?;
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        tokens.push((
            alg,
            jsonwebtoken::encode(&header, &claims, &encoding(alg, private)?)?,
        ));
    }
    let snap = DirectoryCache::load(store.clone()).await?.snapshot();

    // Baseline: one raw Ed25519 verification of the EdDSA token's signature (ring).
    let raw = {
        use base64::Engine;
        let ed_token = &tokens[0].1;
        let (input, sig) = ed_token
            .rsplit_once('.')
            .ok_or_else(|| anyhow::anyhow!("JWT"))?;
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig)?;
        let stored = signaalhub_server::admin::read_public_key(KeyUsage::Token, &ed_pub)?;
        (input.as_bytes().to_vec(), sig, stored)
    };
    let public = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &raw.2);
    anyhow::ensure!(
        public.verify(&raw.0, &raw.1).is_ok(),
        "raw Ed25519 baseline"
    );

    let cached: Vec<TokenVerifier> = tokens
        .iter()
        .map(|_| TokenVerifier::new("signaalhub", 30))
        .collect();
    for ((alg, t), v) in tokens.iter().zip(&cached) {
        anyhow::ensure!(
            v.verify(t, &oin, &snap).is_ok(),
            "{alg:?} token does not verify"
        );
    }
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..a.batch {
            f();
        }
        t.elapsed().as_nanos() as f64 / a.batch as f64
    };
    let mut base = Vec::new();
    let mut miss = vec![Vec::new(); tokens.len()];
    let mut hit = vec![Vec::new(); tokens.len()];
    // Interleaved rounds: baseline and every algorithm in each round.
    for round in 0..=a.rounds {
        let b = time(&mut || {
            let _ = black_box(public.verify(black_box(&raw.0), black_box(&raw.1)));
        });
        let mut m = Vec::new();
        let mut h = Vec::new();
        for ((_, t), v) in tokens.iter().zip(&cached) {
            m.push(time(&mut || {
                let fresh = TokenVerifier::new("signaalhub", 30);
                let _ = black_box(fresh.verify(black_box(t), &oin, &snap));
            }));
            h.push(time(&mut || {
                let _ = black_box(v.verify(black_box(t), &oin, &snap));
            }));
        }
        if round > 0 {
            base.push(b);
            for i in 0..tokens.len() {
                miss[i].push(m[i]);
                hit[i].push(h[i]);
            }
        }
    }
    store.close().await;
    let base = median(base);
    println!("## signaalhub-bench tokens\n");
    println!(
        "{} rounds x {} verifications, medians; baseline: one raw Ed25519 verify (ring) = {base:.0} ns.\n",
        a.rounds, a.batch
    );
    println!(
        "| algorithm | cache miss ns | miss / raw Ed25519 | cache hit ns | hit / raw Ed25519 |"
    );
    println!("|---|---|---|---|---|");
    for (i, (alg, _)) in tokens.iter().enumerate() {
        let (m, h) = (median(miss[i].clone()), median(hit[i].clone()));
        println!(
            "| {alg:?} | {m:.0} | {:.2} | {h:.0} | {:.3} |",
            m / base,
            h / base
        );
    }
    Ok(())
}
