//! Baselines measured beside the hub: the disk's sync rate, raw SQLite with the hub's pragmas and
//! batch sizes, and bearer-token validation against one raw Ed25519 verification.
use crate::load::median;
use base64::Engine;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// `fdatasync`s per second of a 4 KB write in `dir`, over `window`.
pub fn sync_rate(dir: &Path, window: Duration) -> anyhow::Result<f64> {
    let path = dir.join("sync-probe");
    let mut f = std::fs::File::create(&path)?;
    let block = [0x5au8; 4096];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < window {
        f.write_all(&block)?;
        f.sync_data()?;
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    drop(f);
    let _ = std::fs::remove_file(&path);
    Ok(rate)
}

/// Rows per second inserting `payload_bytes` rows (plus one log row each) into SQLite with the
/// hub's pragmas (WAL, synchronous=FULL), `batch` rows per transaction, over `window`.
pub async fn raw_sqlite(
    dir: &Path,
    batch: usize,
    payload_bytes: usize,
    window: Duration,
) -> anyhow::Result<f64> {
    let path = dir.join(format!("raw-{batch}.sqlite"));
    let _ = std::fs::remove_file(&path);
    let opts = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await?;
    sqlx::query("CREATE TABLE signals (sender TEXT NOT NULL, id TEXT NOT NULL, envelope BLOB, meta TEXT NOT NULL, PRIMARY KEY (sender, id))")
        .execute(&pool)
        .await?;
    sqlx::query("CREATE TABLE log (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL)")
        .execute(&pool)
        .await?;
    let payload = vec![0xa5u8; payload_bytes];
    let entry = vec![b'x'; 420];
    let start = Instant::now();
    let mut n: i64 = 0;
    while start.elapsed() < window {
        let mut tx = pool.begin().await?;
        for _ in 0..batch {
            sqlx::query("INSERT INTO signals (sender, id, envelope, meta) VALUES ($1, $2, $3, $4)")
                .bind("00000009901000000000")
                .bind(format!("raw-{n}"))
                .bind(&payload)
                .bind("{\"purpose\":\"vroegtijdige_ondersteuning\"}")
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO log (idx, entry) VALUES ($1, $2)")
                .bind(n)
                .bind(&entry)
                .execute(&mut *tx)
                .await?;
            n += 1;
        }
        tx.commit().await?;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    pool.close().await;
    Ok(rate)
}

/// Bearer-token validation as the hub does it — uncached (a fresh verifier every time) and cached
/// (the hub's per-request path once a token was seen) — against one raw Ed25519 verification of
/// the same token's signing input. Medians of interleaved rounds, nanoseconds.
#[derive(Debug, Clone, Copy)]
pub struct TokenFigures {
    /// Uncached validation.
    pub uncached_ns: f64,
    /// Cached validation.
    pub cached_ns: f64,
    /// Raw Ed25519 verification.
    pub raw_ns: f64,
}

/// Measures [`TokenFigures`] with the kit's school token against its own directory.
pub async fn token_figures(kit: &Path) -> anyhow::Result<TokenFigures> {
    use signaalhub_server::auth::directory::DirectoryCache;
    use signaalhub_server::auth::token::TokenVerifier;
    use signaalhub_server::store::Store;

    let store = Store::open(
        &kit.join("data")
            .join("signaalhub.sqlite")
            .display()
            .to_string(),
    )
    .await?;
    let dir = DirectoryCache::load(store.clone()).await?;
    let snap = dir.snapshot();
    let org = crate::setup::kit_org(kit, "school")?;
    let oin: signaalhub_server::ids::Oin = org
        .oin
        .parse()
        .map_err(|_| anyhow::anyhow!("bad OIN in the kit"))?;
    let token = std::fs::read_to_string(kit.join("orgs/school/token.jwt"))?
        .trim()
        .to_owned();
    let (input, sig) = token
        .rsplit_once('.')
        .ok_or_else(|| anyhow::anyhow!("token is not a JWT"))?;
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig)?;
    let pem = std::fs::read(kit.join("orgs/school/token-key.pem"))?;
    let pk8 = {
        use rustls::pki_types::PrivatePkcs8KeyDer;
        use rustls::pki_types::pem::PemObject;
        PrivatePkcs8KeyDer::from_pem_slice(&pem)
            .map_err(|_| anyhow::anyhow!("token-key.pem"))?
            .secret_pkcs8_der()
            .to_vec()
    };
    let kp = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pk8)
        .map_err(|_| anyhow::anyhow!("token key"))?;
    let public = ring::signature::UnparsedPublicKey::new(
        &ring::signature::ED25519,
        ring::signature::KeyPair::public_key(&kp).as_ref().to_vec(),
    );
    let cached = TokenVerifier::new("signaalhub", 30);
    anyhow::ensure!(
        cached.verify(&token, &oin, &snap).is_ok(),
        "the kit's token does not verify"
    );
    anyhow::ensure!(public.verify(input.as_bytes(), &sig).is_ok());

    const BATCH: usize = 400;
    let (mut u, mut c, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..21 {
        let t = Instant::now();
        for _ in 0..BATCH {
            let v = TokenVerifier::new("signaalhub", 30);
            let _ = black_box(v.verify(black_box(&token), &oin, &snap));
        }
        let un = t.elapsed().as_nanos() as f64 / BATCH as f64;
        let t = Instant::now();
        for _ in 0..BATCH {
            let _ = black_box(cached.verify(black_box(&token), &oin, &snap));
        }
        let ca = t.elapsed().as_nanos() as f64 / BATCH as f64;
        let t = Instant::now();
        for _ in 0..BATCH {
            let _ = black_box(public.verify(black_box(input.as_bytes()), black_box(&sig)));
        }
        let ra = t.elapsed().as_nanos() as f64 / BATCH as f64;
        if round > 0 {
            u.push(un);
            c.push(ca);
            r.push(ra);
        }
    }
    store.close().await;
    Ok(TokenFigures {
        uncached_ns: median(u),
        cached_ns: median(c),
        raw_ns: median(r),
    })
}
