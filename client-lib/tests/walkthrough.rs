//! The walk-throughs of docs/ZORGMELDING.md and docs/MAATREGEL.md, command by command with the
//! `signaal` binary, against a hub served from a freshly generated dev kit as `quickstart` does
//! it: on the kit's SQLite store, and on a fresh PostgreSQL database when
//! `SIGNAALHUB_TEST_POSTGRES_URL` is set (the kit's organisations registered there first, as
//! `SIGNAALHUB_DATABASE=postgres://... signaalhub quickstart` does). Each step checks what the
//! docs say the user sees.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Cli, GI, WIJKTEAM, id, mode, quickstart};
use signaalhub_server::store::testing;

async fn zorgmelding_walk_through(k: &Cli) {
    let reg = "2026-OOST-000123";
    let incident_text = "Ruzie op straat bij overdracht van de kinderen; buren belden 112.";
    let children_text = "Twee kinderen (4 en 6) zagen de ruzie.";
    let incident = [
        "zorgmelding",
        "fragment",
        "--registration",
        reg,
        "--kind",
        "incident",
        "--bsn",
        "314159265",
        "--bsn",
        "271828183",
        "--category",
        "incidentgegevens",
        "--text",
        incident_text,
    ];
    let first = k
        .ok(
            "politie",
            &incident,
            &["is #1 of zorgmelding zm_", "(1 fragment(s) so far)"],
        )
        .await;
    let zm = id(&first, "zm_");
    k.ok(
        "politie",
        &[
            "zorgmelding",
            "fragment",
            "--registration",
            reg,
            "--kind",
            "persons",
            "--bsn",
            "314159265",
            "--bsn",
            "271828183",
            "--category",
            "betrokken_personen",
            "--text",
            "Moeder (34), vader (36).",
        ],
        &["is #2 of zorgmelding", "(2 fragment(s) so far)"],
    )
    .await;
    k.ok(
        "politie",
        &[
            "zorgmelding",
            "fragment",
            "--registration",
            reg,
            "--kind",
            "children-present",
            "--bsn",
            "111222333",
            "--bsn",
            "234567892",
            "--category",
            "aanwezigheid_kinderen",
            "--text",
            children_text,
        ],
        &["is #3 of zorgmelding", "(3 fragment(s) so far)"],
    )
    .await;
    // A network retry of the incident report adds nothing.
    k.ok(
        "politie",
        &incident,
        &[
            &format!("is #1 of zorgmelding {zm} (3 fragment(s) so far)"),
            "a retry: nothing was added",
        ],
    )
    .await;
    // The same fragment id (registration + kind) with other text is not a retry: refused,
    // naming the id.
    let mut other = incident;
    other[incident.len() - 1] = "Vader sloeg moeder op straat; buren belden 112.";
    k.refused(
        "politie",
        &other,
        &["fragment id \"2026-OOST-000123-incident\" was used for other content"],
    )
    .await;
    k.ok(
        "politie",
        &["zorgmelding", "complete", "--registration", reg],
        &["COMPLETE"],
    )
    .await;

    // Veilig Thuis: one melding, three fragments in order with their provenance, opened.
    k.ok(
        "veilig_thuis",
        &["zorgmelding", "inbox", "--once"],
        &[
            &format!("zorgmelding {zm}  registration {reg}"),
            "3 fragment(s)  COMPLETE  4 person(s)",
            "#1 incident",
            "by dev-politie (wijkagent) of 00000009902000000000",
            "recidive (last 365 days): 0 earlier zorgmelding(en), 0 earlier signal(s)",
            "1 zorgmelding item(s), 0 with fragments that did not open",
        ],
    )
    .await;
    assert_eq!(
        k.read(&format!("zorgmeldingen/{zm}/1-incident.bin")),
        incident_text
    );

    // Triage: criterion 3, not acute -> joint visit.
    k.ok(
        "veilig_thuis",
        &[
            "triage",
            "record",
            &zm,
            "--role",
            "triagist",
            "--case",
            "VT-2026-0042",
            "--physical-abuse",
            "no",
            "--sexual-abuse",
            "no",
            "--witnessed-by-children",
            "yes",
            "--safety-conflict",
            "no",
            "--open-to-help",
            "open",
            "--stacked-reports",
            "no",
            "--mutual-accusations",
            "no",
            "--addiction",
            "no",
        ],
        &[
            "advice: JOINT_VISIT  (samen optrekken",
            "(C3_VIOLENCE_WITNESSED_BY_CHILDREN)",
            "toelichting:",
            "explanation:",
        ],
    )
    .await;

    // Both parents consent to the handover; the CLI re-seals fragments 1 and 3.
    let consent = k
        .ok(
            "veilig_thuis",
            &[
                "consent",
                "record",
                "--role",
                "vt_medewerker",
                "--bsn",
                "111222333",
                "--age",
                "6",
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
                "overdracht_hulpverlening",
                "--category",
                "incidentgegevens",
                "--category",
                "aanwezigheid_kinderen",
                "--months",
                "6",
            ],
            &["active"],
        )
        .await;
    let c = id(&consent, "c_");
    let handover = |id: &'static str, extra: &'static [&'static str]| {
        let mut a: Vec<String> = [
            "triage",
            "handover",
            &zm,
            "--role",
            "vt_medewerker",
            "--bsn",
            "111222333",
            "--category",
            "incidentgegevens",
            "--consent",
            &c,
            "--case",
            "VT-2026-0042",
            "--handover-id",
            id,
            "--vt-name",
            "Rianne van Rooijen",
            "--vt-phone",
            "0800-2000",
            "--wijkteam-name",
            "Els Bouwman",
            "--wijkteam-phone",
            "026-0000002",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let args = handover(
        "ho-1",
        &[
            "--category",
            "aanwezigheid_kinderen",
            "--fragment",
            "1",
            "--fragment",
            "3",
            "--letter",
            "brief.txt",
        ],
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    k.ok(
        "veilig_thuis",
        &args,
        &[
            &format!("handover ho-1 of {zm}  00000009906000000000 -> {WIJKTEAM}  PENDING"),
            "[incidentgegevens, aanwezigheid_kinderen]",
            "obligation: INFORM_SUBJECT",
            "letter for the family -> brief.txt",
        ],
    )
    .await;
    let letter = k.read("brief.txt");
    // The letter is plain text wrapped at 76 columns: compared word by word.
    let words = letter.split_whitespace().collect::<Vec<_>>().join(" ");
    for e in [
        "Politie Eenheid Oost-Nederland heeft bij Veilig Thuis Gelderland-Midden een melding gedaan over uw gezin.",
        "- Incident: tijd, plaats, aard, registratienummer",
        "- Of er kinderen aanwezig waren",
        "samen bij u langs",
        "Bij Wijkteam Arnhem-Oost: Els Bouwman (wijkcoach), telefoon 026-0000002",
        "Rianne van Rooijen",
        "Zo bereikt u de FG: fg@veilig-thuis.dev.example.",
    ] {
        assert!(words.contains(e), "letter lacks {e:?}:\n{letter}");
    }
    k.ok("wijkteam", &["triage", "handovers"], &["handover ho-1"])
        .await;
    k.ok(
        "wijkteam",
        &["triage", "receive", "ho-1"],
        &[
            "DELIVERED",
            "advice: JOINT_VISIT  (samen optrekken: Veilig Thuis en het wijkteam gaan samen op het eerste bezoek / a joint first visit by Veilig Thuis and the wijkteam)",
            "envelope 1 opened: 65 bytes -> overdrachten/ho-1/1.bin",
            "envelope 2 opened: 38 bytes -> overdrachten/ho-1/2.bin",
            "the family's letter -> overdrachten/ho-1/brief-aan-gezin.txt",
        ],
    )
    .await;
    assert_eq!(k.read("overdrachten/ho-1/1.bin"), incident_text);
    assert_eq!(k.read("overdrachten/ho-1/2.bin"), children_text);
    assert_eq!(k.read("overdrachten/ho-1/brief-aan-gezin.txt"), letter);
    // What the CLI wrote about the family is the owner's only.
    for f in [
        "brief.txt",
        "overdrachten/ho-1/1.bin",
        "overdrachten/ho-1/brief-aan-gezin.txt",
    ] {
        assert_eq!(mode(&k.dir.join(f)), 0o600, "{f}");
    }
    // Veilig Thuis's privacy officer answers the family's access request in English, with the
    // letter as PDF (docs/FAMILY.md "Letters").
    k.ok(
        "veilig_thuis",
        &[
            "--fg",
            "log",
            "report",
            "--bsn",
            "314159265",
            "--out",
            "inzage",
            "--language",
            "en",
            "--pdf",
            "inzage/letter.pdf",
        ],
        &[
            "wrote inzage/letter.html",
            "wrote inzage/letter.pdf",
            "entries verified",
        ],
    )
    .await;
    let html = k.read("inzage/letter.html");
    assert!(
        html.contains("<html lang=\"en\">")
            && html.contains("What information about you was shared?")
    );
    let pdf = std::fs::read(k.dir.join("inzage/letter.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(mode(&k.dir.join("inzage/letter.pdf")), 0o600);
    for d in ["overdrachten", "overdrachten/ho-1"] {
        assert_eq!(mode(&k.dir.join(d)), 0o700, "{d}");
    }
    assert_eq!(
        mode(&k.dir.join(format!("zorgmeldingen/{zm}/1-incident.bin"))),
        0o600
    );
    // For scripts: the advice travels with the handover.
    let (code, received) = k.json("wijkteam", &["triage", "receive", "ho-1"]).await;
    assert_eq!(code, 0, "{received}");
    assert_eq!(received["handover"]["advice"]["advice"], "JOINT_VISIT");
    assert_eq!(received["handover"]["advice"]["joint_visit"], true);
    assert_eq!(received["envelopes"][1]["file"], "overdrachten/ho-1/2.bin");

    // Veilig Thuis follows the melding: its stage with a review, and a question to the GP, who
    // answers it sealed to Veilig Thuis (docs/VEILIG_THUIS.md, sections 6-7).
    k.ok(
        "veilig_thuis",
        &[
            "triage",
            "stage",
            &zm,
            "onderzoek",
            "--review-in-days",
            "14",
            "--role",
            "vt_medewerker",
        ],
        &[
            "stage now: ONDERZOEK (Veilig Thuis doet onderzoek), under assessment",
            "PLANNED",
        ],
    )
    .await;
    k.ok(
        "veilig_thuis",
        &[
            "triage",
            "ask",
            &zm,
            "--to",
            "huisarts",
            "--categories",
            "gezondheid",
            "--case",
            "VT-2026-0001",
            "--client-informed",
            "yes",
            "--text",
            "Is Jayden bij u bekend?",
            "--request-id",
            "iv-1",
            "--role",
            "vt_medewerker",
        ],
        &["information request iv-1 to"],
    )
    .await;
    k.ok(
        "huisarts",
        &["triage", "requests"],
        &["iv-1", "OPEN", "question: Is Jayden bij u bekend?"],
    )
    .await;
    k.ok(
        "huisarts",
        &[
            "triage",
            "inform",
            "iv-1",
            "--categories",
            "gezondheid",
            "--case",
            "VT-2026-0001",
            "--text",
            "Ja, sinds 2024 in de praktijk.",
        ],
        &["information request iv-1: answered"],
    )
    .await;
    k.ok(
        "veilig_thuis",
        &["triage", "requests", "--sent", "--role", "vt_medewerker"],
        &["ANSWERED", "answer: Ja, sinds 2024 in de praktijk."],
    )
    .await;

    // Scenario 7: a family that does not want the wijkteam stays with Veilig Thuis.
    k.ok(
        "veilig_thuis",
        &[
            "triage",
            "decline",
            &zm,
            "--by",
            "ouder-1",
            "--role",
            "vt_medewerker",
        ],
        &["declined the wijkteam"],
    )
    .await;
    let args = handover("ho-2", &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    k.refused(
        "veilig_thuis",
        &args,
        &[
            "handover ho-2 NOT done: the hub refused it",
            "(FAMILY_DECLINED_WIJKTEAM); the case stays with Veilig Thuis",
        ],
    )
    .await;
}

async fn maatregel_walk_through(k: &Cli) {
    let child = "123456782";
    let sibling = "345678904";
    let contact = "Germaine K., wijkcoach, 026-0000002";

    // Flow 5: is there a maatregel?
    k.ok(
        "jeugdbescherming",
        &[
            "maatregel",
            "register",
            "--bsn",
            child,
            "--kind",
            "ots",
            "--months",
            "12",
            "--contact",
            "Team Jeugdbescherming Arnhem, 026-1234567",
        ],
        &[&format!(
            "responsible {GI}  contact Team Jeugdbescherming Arnhem"
        )],
    )
    .await;
    k.refused(
        "wijkteam",
        &[
            "maatregel",
            "register",
            "--bsn",
            child,
            "--kind",
            "ots",
            "--contact",
            "x",
        ],
        &["PERMISSION_DENIED: registering a maatregel is reserved for the jeugdbescherming sector"],
    )
    .await;
    k.refused(
        "wijkteam",
        &["maatregel", "ask", "--bsn", child],
        &[
            "the maatregel question is refused",
            "(RECIPIENT_NOT_INVOLVED)",
        ],
    )
    .await;
    // Involvement is earned: without a ground the hub can check, nothing is registered.
    k.refused(
        "wijkteam",
        &[
            "involvement",
            "register",
            "--bsn",
            child,
            "--contact",
            contact,
        ],
        &["PERMISSION_DENIED: your organisation has no contact with this person that the hub can check"],
    )
    .await;
    // The parents' consent, recorded by the wijkteam: its ground for the involvement.
    let consent = k
        .ok(
            "wijkteam",
            &[
                "consent",
                "record",
                "--bsn",
                child,
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
                "--to",
                "jeugdbescherming",
                "--to",
                "school",
                "--discloser",
                "wijkteam",
                "--discloser",
                "jeugdbescherming",
                "--discloser",
                "school",
                "--purpose",
                "casusafstemming",
                "--category",
                "betrokkenheid",
                "--category",
                "veiligheidsafspraken",
                "--months",
                "6",
            ],
            &["active  purposes [casusafstemming]"],
        )
        .await;
    let c = id(&consent, "c_");
    k.ok(
        "wijkteam",
        &[
            "involvement",
            "register",
            "--bsn",
            child,
            "--household",
            sibling,
            "--contact",
            contact,
            "--consent",
            &c,
        ],
        &["involvement i_", "no other involved party known to you"],
    )
    .await;
    k.ok(
        "wijkteam",
        &["maatregel", "ask", "--bsn", child],
        &[
            "yes: ots",
            &format!("contact Jeugdbescherming Gelderland ({GI}): Team Jeugdbescherming Arnhem, 026-1234567"),
        ],
    )
    .await;
    k.ok(
        "jeugdbescherming",
        &["involvement", "notifications"],
        &[
            &format!("maatregel_queried  Wijkteam Arnhem-Oost ({WIJKTEAM}, dev-wijkteam)"),
            "en vroeg of er een maatregel is",
        ],
    )
    .await;

    // Flow 6: who else is involved, and who coordinates.
    k.ok(
        "wijkteam",
        &[
            "involvement",
            "register",
            "--bsn",
            child,
            "--household",
            sibling,
            "--contact",
            contact,
            "--consent",
            &c,
        ],
        &["(already registered; basis refreshed)"],
    )
    .await;
    let matched = k
        .ok(
            "jeugdbescherming",
            &[
                "involvement",
                "register",
                "--bsn",
                child,
                "--contact",
                "Jeugdbeschermer, 026-1234567",
                "--consent",
                &c,
            ],
            &[
                "case k_",
                "coordinator (casusregisseur): none yet",
                &format!("Wijkteam Arnhem-Oost ({WIJKTEAM}, wijkteam)  contact {contact}"),
                &format!("Jeugdbescherming Gelderland ({GI}, jeugdbescherming)"),
            ],
        )
        .await;
    let case = id(&matched, "k_");
    k.ok(
        "wijkteam",
        &["involvement", "notifications"],
        &["involvement_matched", &case],
    )
    .await;
    let proposal = k
        .ok(
            "wijkteam",
            &["involvement", "propose", "--case", &case, "--org", GI],
            &["proposal p_", ": open (waiting for ", GI],
        )
        .await;
    let p = id(&proposal, "p_");
    let coordinator = format!(
        "coordinator (casusregisseur): Jeugdbescherming Gelderland ({GI}), contact Jeugdbeschermer, 026-1234567"
    );
    k.ok(
        "jeugdbescherming",
        &["involvement", "accept", &p],
        &[&coordinator],
    )
    .await;
    k.ok(
        "wijkteam",
        &["involvement", "parties", "--bsn", child],
        &[&coordinator],
    )
    .await;

    // The safety plan: sealed to every party, confirmed per agreement, read by the family.
    std::fs::write(
        k.dir.join("plan.json"),
        r#"{ "title": "Veiligheidsplan gezin (voorbeeld)",
  "goal": "Iedereen is thuis veilig",
  "emergency_contact": "de wijkcoach, 026-0000002",
  "agreements": [
    { "id": "a1", "who": "Vader", "what": "neemt een time-out bij ruzie en gaat naar zijn broer",
      "by_when": "vanaf vandaag", "concerns_family": true },
    { "id": "a2", "who": "De wijkcoach", "what": "komt elke week op huisbezoek",
      "by_when": "elke dinsdag", "party_oins": ["00000009905000000000"], "concerns_family": true },
    { "id": "a3", "who": "De jeugdbeschermer", "what": "belt moeder elke twee weken",
      "party_oins": ["00000009907000000000"] } ] }"#,
    )
    .unwrap();
    k.ok(
        "wijkteam",
        &[
            "involvement",
            "plan",
            "publish",
            "--case",
            &case,
            "--file",
            "plan.json",
            "--consent",
            &c,
        ],
        &[
            &format!("safety plan of case {case} version 1 by {WIJKTEAM}"),
            "agreement a1: concerns the family only  (no organisation confirms it)",
            &format!("agreement a2: concerns [{WIJKTEAM}] + family  confirmed by []"),
            &format!("agreement a3: concerns [{GI}]  confirmed by []"),
        ],
    )
    .await;
    let confirm = [
        "involvement",
        "plan",
        "confirm",
        "--case",
        &case,
        "--version",
        "1",
    ];
    let once = k
        .ok(
            "jeugdbescherming",
            &confirm,
            &[&format!(
                "agreement a3: concerns [{GI}]  confirmed by [{GI}]"
            )],
        )
        .await;
    assert!(!once.contains("FULLY CONFIRMED"), "{once}");
    k.ok("wijkteam", &confirm, &["FULLY CONFIRMED"]).await;
    k.ok(
        "wijkteam",
        &[
            "involvement",
            "plan",
            "show",
            "--case",
            &case,
            "--family",
            "plan-voor-gezin.txt",
        ],
        &["family text written to plan-voor-gezin.txt"],
    )
    .await;
    let family = k.read("plan-voor-gezin.txt");
    assert_eq!(mode(&k.dir.join("plan-voor-gezin.txt")), 0o600);
    let (code, plan) = k
        .json(
            "wijkteam",
            &["involvement", "plan", "show", "--case", &case],
        )
        .await;
    assert_eq!(code, 0, "{plan}");
    assert_eq!(plan["plan"]["fully_confirmed"], true);
    assert_eq!(
        plan["plan"]["agreements"][0]["party_oins"],
        serde_json::json!([])
    );
    assert_eq!(
        plan["plan"]["agreements"][2]["waiting_for"],
        serde_json::json!([])
    );
    assert_eq!(
        plan["content"]["title"],
        "Veiligheidsplan gezin (voorbeeld)"
    );
    for e in [
        "Vader neemt een time-out bij ruzie en gaat naar zijn broer (vanaf vandaag).",
        "Bevestigd door: Jeugdbescherming Gelderland.",
        "Bel de wijkcoach, 026-0000002",
    ] {
        assert!(family.contains(e), "family text lacks {e:?}:\n{family}");
    }

    // Flow 7: the sociale kaart, kept by the organisation's own administrator.
    let (code, out) = k
        .raw(
            [
                "--ca",
                "dev-kit/ca.pem",
                "--cert",
                "dev-kit/orgs/wijkteam/cert.pem",
                "--key",
                "dev-kit/orgs/wijkteam/key.pem",
                "--token-file",
                "dev-kit/orgs/wijkteam/admin-token.jwt",
                "profile",
                "--region",
                "gelderland-midden",
                "--expertise",
                "huiselijk geweld",
                "--expertise",
                "veiligheidsplan",
                "--expertise",
                "schuldhulp",
                "--contact",
                "026-0000002 (ma-vr 9-17)",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        )
        .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("[huiselijk geweld, schuldhulp, veiligheidsplan]"),
        "{out}"
    );
    for q in [
        &[
            "orgs",
            "--expertise",
            "veiligheidsplan",
            "--region",
            "gelderland-midden",
        ][..],
        &["orgs", "--query", "veiligheid"][..],
    ] {
        k.ok(
            "school",
            q,
            &[&format!("{WIJKTEAM}  wijkteam"), "026-0000002 (ma-vr 9-17)"],
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_walk_throughs_work_on_either_store() {
    for backend in testing::backends() {
        let tmp = tempfile::tempdir().unwrap();
        let pg = if backend == "postgres" {
            Some(testing::fresh(backend).await.unwrap())
        } else {
            None
        };
        let (endpoint, stop) =
            quickstart(tmp.path(), pg.as_ref().map(|db| db.database.as_str())).await;
        let k = Cli {
            dir: tmp.path().to_owned(),
            endpoint,
        };
        zorgmelding_walk_through(&k).await;
        maatregel_walk_through(&k).await;
        let _ = stop.send(());
    }
}
