//! The `signaal` CLI as a scripting tool, through the real binary against a hub served from a
//! fresh dev kit: inbox cursors that belong to one hub, `--json`, exit codes, dates, and the
//! owner-only files it writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Cli, WIJKTEAM, id, quickstart, serve};

/// The school records both parents' consent and sends `n` signals to the wijkteam with ids
/// `<prefix>-1..n`.
async fn send_signals(k: &Cli, prefix: &str, n: usize) {
    let consent = k
        .ok(
            "school",
            &[
                "consent",
                "record",
                "--bsn",
                "111222333",
                "--age",
                "9",
                "--gezag",
                "ouder-1",
                "--gezag",
                "ouder-2",
                "--parent",
                "ouder-1",
                "--parent",
                "ouder-2",
                "--to",
                "wijkteam",
                "--purpose",
                "vroegtijdige_ondersteuning",
                "--category",
                "zorgen_thuissituatie",
            ],
            &["active"],
        )
        .await;
    let c = id(&consent, "c_");
    for i in 1..=n {
        let sid = format!("{prefix}-{i}");
        k.ok(
            "school",
            &[
                "send",
                "--to",
                "wijkteam",
                "--purpose",
                "vroegtijdige_ondersteuning",
                "--category",
                "zorgen_thuissituatie",
                "--bsn",
                "111222333",
                "--age",
                "9",
                "--gezag",
                "ouder-1",
                "--gezag",
                "ouder-2",
                "--consent",
                &c,
                "--id",
                &sid,
                "--text",
                "Leerling is al weken stil.",
            ],
            &[&format!("signal {sid} sent")],
        )
        .await;
    }
}

/// The saved cursor of the wijkteam in `inbox/.cursor`.
fn saved_cursor(k: &Cli) -> u64 {
    let text = k.read("inbox/.cursor");
    assert!(
        text.lines().any(|l| l.starts_with("hub ")),
        "the cursor file names its hub:\n{text}"
    );
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{WIJKTEAM} ")))
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or_else(|| panic!("no wijkteam cursor in:\n{text}"))
}

/// Issue 17 item 4: after switching the kit to a fresh hub, a cursor saved against the first hub
/// hid the new hub's signals (`0 opened`, exit 0). Now the cursor file names the hub's log, and a
/// cursor of another hub — or of an unknown one — is dropped with a notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbox_cursor_belongs_to_one_hub() {
    let tmp = tempfile::tempdir().unwrap();
    let (endpoint_a, stop_a) = quickstart(tmp.path(), None).await;
    let a = Cli {
        dir: tmp.path().to_owned(),
        endpoint: endpoint_a,
    };
    send_signals(&a, "a", 3).await;
    a.ok(
        "wijkteam",
        &["inbox", "--once"],
        &["3 opened and acknowledged"],
    )
    .await;
    let on_a = saved_cursor(&a);
    // The same hub again: the cursor is resumed, without a notice.
    let again = a
        .ok(
            "wijkteam",
            &["inbox", "--once"],
            &["0 opened and acknowledged"],
        )
        .await;
    assert!(!again.contains("starting from the beginning"), "{again}");
    assert_eq!(saved_cursor(&a), on_a);

    // A second hub from the same dev kit (same origin, same checkpoint key) on a fresh store.
    let (endpoint_b, stop_b) = serve(
        &tmp.path().join("dev-kit"),
        Some(tmp.path().join("hub-b.sqlite").to_str().unwrap()),
    )
    .await;
    let b = Cli {
        dir: tmp.path().to_owned(),
        endpoint: endpoint_b,
    };
    send_signals(&b, "b", 1).await;
    // What went wrong before: hub A's cursor hides hub B's signal.
    b.ok(
        "wijkteam",
        &[
            "inbox",
            "--once",
            "--no-ack",
            "--out",
            "elsewhere",
            "--after",
            &on_a.to_string(),
        ],
        &["0 opened, 0 not opened"],
    )
    .await;
    let out = b
        .ok(
            "wijkteam",
            &["inbox", "--once"],
            &[
                "inbox/.cursor belongs to another hub",
                "starting from the beginning",
                "1 opened and acknowledged",
            ],
        )
        .await;
    assert!(out.contains("b-1"), "{out}");
    let on_b = saved_cursor(&b);
    assert!(on_b < on_a, "hub B's cursor {on_b} is below hub A's {on_a}");

    // Back on hub A: the file belongs to B now; dropping it costs nothing (all acknowledged).
    a.ok(
        "wijkteam",
        &["inbox", "--once"],
        &["belongs to another hub", "0 opened and acknowledged"],
    )
    .await;

    // A file of an older signaal, without the hub's identity: unknown, so not trusted.
    std::fs::write(
        tmp.path().join("inbox/.cursor"),
        format!("{WIJKTEAM} 999\n"),
    )
    .unwrap();
    a.ok(
        "wijkteam",
        &["inbox", "--once"],
        &[
            "inbox/.cursor has no hub identity (written by an older signaal)",
            "starting from the beginning",
            "0 opened and acknowledged",
        ],
    )
    .await;
    let rewritten = a.read("inbox/.cursor");
    assert!(
        rewritten.contains("\nhub ") && !rewritten.contains(" 999"),
        "{rewritten}"
    );
    // The zorgmelding inbox's cursor works the same way (its old format: a bare number).
    std::fs::create_dir_all(tmp.path().join("zorgmeldingen")).unwrap();
    std::fs::write(
        tmp.path().join("zorgmeldingen/.zorgmelding-cursor"),
        "999\n",
    )
    .unwrap();
    a.ok(
        "veilig_thuis",
        &["zorgmelding", "inbox", "--once"],
        &["zorgmeldingen/.zorgmelding-cursor has no hub identity"],
    )
    .await;
    let _ = stop_a.send(());
    let _ = stop_b.send(());
}
