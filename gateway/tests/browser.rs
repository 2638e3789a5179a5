//! The console in a real Chromium (tests/browser/console_walk.py, Playwright): the IB'er logs in
//! through the school's OpenID Connect provider (the certified oidc-provider on Node), records
//! both parents' consent, sees the refusal while one is missing, sends; the wijkcoach opens and
//! acknowledges the signal in the wijkteam's console. Then the other screens: the IB'er reports to
//! Veilig Thuis under the meldcode; Veilig Thuis opens it and a police zorgmelding in its Postvak,
//! triages the zorgmelding, decides against the advice with a reason and hands it over on the
//! parents' consent (the family letter printed); the wijkcoach opens the handover and takes it on;
//! Veilig Thuis tells the school what it does with its report and the IB'er reads it on the
//! report's status page, and the police read its feedback on their zorgmelding;
//! the wijkcoach and the GI record their involvement, share a case, agree on a coordinator and a
//! safety plan, the GI looks at an earlier version, the wijkcoach ends the involvement and the GI
//! reads its Berichten; the school's FG reads the gateway's audit log.
//!
//! Needs Debian's `chromium`, Python's `playwright` package, `node` and `npm`. Without them the
//! test prints `browser: SKIPPED: <reason>` and passes, except under `CI=true` (`.ci/run`
//! installs them), where it fails. `SIGNAAL_UPDATE_SCREENSHOTS=1` writes the screenshots to
//! docs/console/ (docs/CONSOLE.md shows them); otherwise they go to a temporary folder.
#![allow(clippy::unwrap_used)]

mod common;

use common::provider::{CLIENT_ID, CLIENT_SECRET, Provider, ensure_provider_installed, in_ci, say};
use signaalhub_gateway::app::App;
use signaalhub_gateway::config::{GatewayConfig, OidcSection};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn chromium() -> Option<PathBuf> {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/bin/chromium")))
        .filter(|p| p.exists())
}

fn missing() -> Option<String> {
    if chromium().is_none() {
        return Some("chromium is not installed (apt-get install chromium)".into());
    }
    let py = Command::new("python3")
        .args(["-c", "import playwright.sync_api"])
        .output();
    if !py.is_ok_and(|o| o.status.success()) {
        return Some(
            "python3 with the playwright package is missing (pip install playwright)".into(),
        );
    }
    ensure_provider_installed().err()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_in_chromium_sends_and_opens_a_signal() {
    if let Some(why) = missing() {
        assert!(!in_ci(), "browser: {why}");
        say(&format!("browser: SKIPPED: {why}"));
        return;
    }
    // The school's console logs in through the provider; the wijkteam's with its dev login.
    let school_port = free_port();
    let school_url = format!("http://127.0.0.1:{school_port}");
    let provider = Provider::start(&format!(
        "{school_url}{}",
        signaalhub_gateway::oidc::CALLBACK_PATH
    ))
    .unwrap();
    let mut kit =
        common::start_kit(&["wijkteam", "veilig_thuis", "jeugdbescherming", "politie"]).await;
    // What other systems do meanwhile: the police report an incident to Veilig Thuis, and the
    // wijkcoach records both parents' consent for the parties of a case (a consent screen is
    // Nieuw signaal's, for signals).
    use signaalhub_client::signaalhub_proto::pb;
    kit.police_zorgmelding(
        "2026-OOST-000123",
        "123456782",
        &[
            (
                "frag-incident",
                pb::FragmentKind::Incident,
                "incidentgegevens",
                "Ruzie op straat tussen ex-partners bij de overdracht van de kinderen; buren belden 112.",
            ),
            (
                "frag-kinderen",
                pb::FragmentKind::ChildrenPresent,
                "aanwezigheid_kinderen",
                "Twee kinderen (4 en 6) waren aanwezig en zagen de ruzie.",
            ),
        ],
    )
    .await;
    let both = [pb::Sector::Wijkteam, pb::Sector::Jeugdbescherming];
    let consent = kit
        .parents_consent(
            "123456782",
            &both,
            &both,
            &["betrokkenheid", "veiligheidsafspraken"],
        )
        .await;
    let kit_dir = kit.dir.path().join("dev-kit");
    let mut school = GatewayConfig::dev_kit(
        &kit_dir,
        "school",
        SocketAddr::from(([127, 0, 0, 1], school_port)),
        &kit.hub_endpoint,
    )
    .unwrap();
    school.login.dev_users.clear();
    school.login.oidc = Some(OidcSection {
        issuer: provider.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        roles_claim: "roles".into(),
        professional_claim: "sub".into(),
        roles: BTreeMap::from([
            ("intern_begeleider".to_string(), vec!["ib_er".to_string()]),
            ("privacy_officer".to_string(), vec!["fg".to_string()]),
        ]),
        scopes: vec!["profile".into()],
    });
    let app = App::start(school, Duration::from_secs(10)).await.unwrap();
    kit.add_console(app).await;

    let shots = if std::env::var("SIGNAAL_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/console")
    } else {
        kit.dir.path().join("shots")
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/console_walk.py");
    let school_base = kit.consoles[4].base.clone();
    let wijkteam_base = kit.consoles[0].base.clone();
    let vt_base = kit.consoles[1].base.clone();
    let gi_base = kit.consoles[2].base.clone();
    let politie_base = kit.consoles[3].base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .arg(school_base)
            .arg(wijkteam_base)
            .arg(shots)
            .arg(vt_base)
            .arg(gi_base)
            .arg(consent)
            .arg(politie_base)
            .env("CHROMIUM", chromium().unwrap_or_default())
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser walk failed:\n{stdout}\n{stderr}\nprovider log:\n{}",
        provider.log()
    );
    assert!(stdout.contains("console_walk: ok"), "{stdout}");
    kit.stop().await;
}
