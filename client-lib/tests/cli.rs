//! The `signaal` CLI as a scripting tool, through the real binary against a hub served from a
//! fresh dev kit: inbox cursors that belong to one hub, `--json`, exit codes, dates, and the
//! owner-only files it writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Cli, SCHOOL, WIJKTEAM, id, is_rfc3339_utc, mode, quickstart, serve};
use serde_json::Value;

/// Both parents with gezag of the nine-year-old 111222333 consent to the school telling the
/// wijkteam (scenario 2 of the README).
const SCHOOL_CONSENT: &[&str] = &[
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
];

/// The school records both parents' consent and sends `n` signals to the wijkteam with ids
/// `<prefix>-1..n`.
async fn send_signals(k: &Cli, prefix: &str, n: usize) {
    let consent = k.ok("school", SCHOOL_CONSENT, &["active"]).await;
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

/// The flags of scenario 3's meldcode report (GP -> Veilig Thuis allowed, -> wijkteam denied).
const MELDRECHT: &[&str] = &[
    "--purpose",
    "melding_veilig_thuis",
    "--category",
    "gezondheid",
    "--bsn",
    "111222333",
    "--age",
    "4",
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
];

fn with(head: &[&'static str], tail: &[&'static str]) -> Vec<&'static str> {
    head.iter().chain(tail).copied().collect()
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("{v} is not a string"))
}

/// Issue 17 item 5: `--json` gives one document with the ids, the exit codes are the documented
/// ones (a DENIED check is 1), dates are dates, and what the CLI writes is the owner's only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_is_a_scripting_tool() {
    let tmp = tempfile::tempdir().unwrap();
    let (endpoint, stop) = quickstart(tmp.path(), None).await;
    let k = Cli {
        dir: tmp.path().to_owned(),
        endpoint,
    };

    // Dates: the token expiry is a date, not a unix number.
    let (code, me) = k.json("school", &["whoami"]).await;
    assert_eq!(code, 0);
    assert_eq!(me["organization"]["oin"], SCHOOL);
    assert!(
        is_rfc3339_utc(text(&me["token_expires_at"])),
        "{}",
        me["token_expires_at"]
    );
    let human = k
        .ok("school", &["whoami"], &["token expires: 20", " UTC (in "])
        .await;
    assert!(!human.contains("unix"), "{human}");

    // Exit codes: ALLOWED 0, DENIED 1 (with and without --json), a bad command line 64.
    let (code, allowed) = k
        .json(
            "huisarts",
            &with(&["check", "--to", "veilig_thuis"], MELDRECHT),
        )
        .await;
    assert_eq!(code, 0, "{allowed}");
    assert_eq!(allowed["allowed"], true);
    assert_eq!(allowed["decisions"][0]["outcome"], "ALLOWED");
    let (code, denied) = k
        .json("huisarts", &with(&["check", "--to", "wijkteam"], MELDRECHT))
        .await;
    assert_eq!(code, 1, "{denied}");
    assert_eq!(denied["allowed"], false);
    assert_eq!(denied["decisions"][0]["recipient_oin"], WIJKTEAM);
    assert_eq!(
        denied["decisions"][0]["reasons"][0]["code"],
        "MELDRECHT_ONLY_TO_VEILIG_THUIS"
    );
    k.step(
        1,
        "huisarts",
        &with(&["check", "--to", "wijkteam"], MELDRECHT),
        &["DENIED (policy", "signaal: DENIED for 1 of 1 recipient(s)"],
    )
    .await;
    let (code, usage) = k.run("school", &["check", "--to", "wijkteam"]).await;
    assert_eq!(code, 64, "{usage}");

    // Ids for scripts: the consent, the signal, and a refusal as an error document.
    let (code, consent) = k.json("school", SCHOOL_CONSENT).await;
    assert_eq!(code, 0);
    let c = text(&consent["consent_id"]).to_owned();
    assert!(
        c.starts_with("c_") && consent["status"] == "active",
        "{consent}"
    );
    assert!(is_rfc3339_utc(text(&consent["valid_until"])), "{consent}");
    let send = |consent: &str| -> Vec<String> {
        [
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
            "--text",
            "Leerling is al weken stil.",
            "--consent",
            consent,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let (code, refused) = k
        .json(
            "huisarts",
            &with(
                &["send", "--to", "wijkteam", "--text", "Letsel."],
                MELDRECHT,
            ),
        )
        .await;
    assert_eq!(code, 1, "{refused}");
    assert_eq!(refused["error"]["status"], "PERMISSION_DENIED");
    assert_eq!(refused["error"]["exit_code"], 1);
    assert!(
        refused["error"]["reasons"][0]
            .as_str()
            .is_some_and(|r| r.ends_with("(MELDRECHT_ONLY_TO_VEILIG_THUIS)")),
        "{refused}"
    );
    let args = send(&c);
    let (code, sent) = k
        .json(
            "school",
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(code, 0, "{sent}");
    let sid = text(&sent["signal_id"]).to_owned();
    assert!(sid.starts_with("sig-"), "{sent}");
    assert_eq!(sent["deliveries"][0]["state"], "PENDING");

    // The inbox: the item's file, owner-only, in an owner-only folder.
    let (code, inbox) = k.json("wijkteam", &["inbox", "--once"]).await;
    assert_eq!(code, 0, "{inbox}");
    assert_eq!(inbox["opened"], 1);
    let item = &inbox["items"][0];
    assert_eq!(item["signal_id"], sid.as_str());
    assert_eq!(item["sender_oin"], SCHOOL);
    let file = tmp.path().join(text(&item["file"]));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "Leerling is al weken stil."
    );
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&tmp.path().join("inbox")), 0o700);
    assert_eq!(mode(&tmp.path().join("inbox/.cursor")), 0o600);
    let (code, status) = k.json("school", &["signal", "status", &sid]).await;
    assert_eq!(code, 0);
    assert_eq!(status["deliveries"][0]["state"], "ACKNOWLEDGED");
    assert!(is_rfc3339_utc(text(&status["sent_at"])), "{status}");

    // The subject access report: its files are the owner's only, and re-verify offline.
    let (code, cp) = k.json("school", &["log", "checkpoint"]).await;
    assert_eq!(code, 0);
    let (kid, key) = (
        text(&cp["key_id"]).to_owned(),
        text(&cp["public_key"]).to_owned(),
    );
    let (code, report) = k
        .json(
            "school",
            &[
                "--fg",
                "log",
                "report",
                "--bsn",
                "111222333",
                "--out",
                "report",
            ],
        )
        .await;
    assert_eq!(code, 0, "{report}");
    assert!(report["entries_verified"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(mode(&tmp.path().join("report")), 0o700);
    for f in report["files"].as_array().unwrap() {
        assert_eq!(mode(&tmp.path().join(text(f))), 0o600, "{f}");
    }
    let verify = [
        "log",
        "verify-proof",
        "--report",
        "report/report.pb",
        "--key-id",
        &kid,
        "--public-key",
    ];
    let (code, ok) = k.json("school", &with_key(&verify, &key)).await;
    assert_eq!(code, 0, "{ok}");
    assert_eq!(ok["entries_verified"], report["entries_verified"]);
    let (code, bad) = k.json("school", &with_key(&verify, &"00".repeat(32))).await;
    assert_eq!(code, 1, "{bad}");
    assert_eq!(bad["error"]["kind"], "failed");

    // The per-user audit (NEN 7513): the school's own professional's acts, paged; the FG only.
    let acts = ["--fg", "log", "acts", "--professional", "dev-school"];
    let (code, all) = k.json("school", &acts).await;
    assert_eq!(code, 0, "{all}");
    let entries = all["entries"].as_array().unwrap();
    assert!(!entries.is_empty(), "{all}");
    let first = entries[0]["index"].as_u64().unwrap().to_string();
    let (code, rest) = k
        .json("school", &[&acts[..], &["--after", &first]].concat())
        .await;
    assert_eq!(code, 0, "{rest}");
    assert_eq!(
        rest["entries"].as_array().unwrap().len(),
        entries.len() - 1,
        "{rest}"
    );
    let (code, refused) = k
        .json("school", &["log", "acts", "--professional", "dev-school"])
        .await;
    assert_eq!(code, 1, "{refused}");
    assert_eq!(refused["error"]["status"], "PERMISSION_DENIED");
    let _ = stop.send(());
}

fn with_key<'a>(head: &[&'a str], key: &'a str) -> Vec<&'a str> {
    head.iter().copied().chain([key]).collect()
}
