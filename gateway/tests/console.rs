//! The console end to end over HTTP, as a browser talks to it: a hub from a fresh dev kit, the
//! school's and the wijkteam's gateways, the IB'er recording both parents' consent (refused while
//! one is missing), sending, and the wijkcoach opening and acknowledging the signal. Plus the
//! edge's security: no session, a foreign origin, a wrong CSRF token, the headers, and nothing
//! identifying in the gateways' stores. (tests/browser/ does the same in a real Chromium.)
#![allow(clippy::unwrap_used)]

mod common;

use common::{Console, body_of, field_value, start_kit};

const BSN: &str = "111222333";
const TEXT: &str = "Leerling komt al weken zonder ontbijt en met blauwe plekken op school.";

fn signal_form(
    csrf: &str,
    signal_id: &str,
    wijkteam: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = [
        ("csrf", csrf),
        ("signal_id", signal_id),
        ("bsn", BSN),
        ("age", "9"),
        ("gezag", "ouder-1, ouder-2"),
        ("recipient", wijkteam),
        ("purpose", "vroegtijdige_ondersteuning"),
        ("category", "zorgen_thuissituatie"),
        ("basis", "toestemming"),
        ("urgency", "normal"),
        ("text", TEXT),
        ("consent_scope", "org"),
        ("consent_months", "6"),
        ("consent_evidence", "formulier-2026-118"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    f.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    f
}

/// The ids of the consents ticked on the page.
fn ticked_consents(page: &str) -> Vec<String> {
    page.split("<input")
        .filter(|t| t.contains("name=\"consent\"") && t.contains("checked"))
        .filter_map(|t| t.split("value=\"").nth(1))
        .filter_map(|t| t.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ib_er_sends_with_both_parents_consent_and_the_wijkcoach_opens_it() {
    let kit = start_kit(&["school", "wijkteam"]).await;
    let school = Console::login(&kit.consoles[0]).await;
    let wijkteam = Console::login(&kit.consoles[1]).await;
    let wijkteam_oin = kit.oin("wijkteam");

    // The form, with the sociale kaart and the convenant's choices.
    let page = school.get("/signaal/nieuw").await;
    assert!(page.contains("Wijkteam Arnhem-Oost"), "{page}");
    assert!(page.contains("vroegtijdige_ondersteuning"));
    let csrf = field_value(&page, "csrf");
    let signal_id = field_value(&page, "signal_id");
    assert!(signal_id.starts_with("sig-"), "{signal_id}");

    // Without consent the console says what is missing, in Dutch, before asking the hub.
    let (status, page) = school
        .post(
            "/signaal/nieuw",
            &signal_form(&csrf, &signal_id, &wijkteam_oin, &[("action", "check")]),
        )
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("vink een vastgelegde toestemming aan"),
        "{page}"
    );

    // One parent's consent: recorded, ticked, and still refused, naming the other parent.
    let (_, page) = school
        .post(
            "/signaal/nieuw",
            &signal_form(
                &csrf,
                &signal_id,
                &wijkteam_oin,
                &[("action", "consent"), ("giver", "ouder-1")],
            ),
        )
        .await;
    assert!(page.contains("Toestemming vastgelegd"), "{page}");
    let first = ticked_consents(&page);
    assert_eq!(first.len(), 1, "{page}");
    assert!(page.contains("Niet toegestaan"), "{page}");
    assert!(
        page.contains("ouder-2"),
        "the refusal names the missing parent: {page}"
    );

    // Sending now is refused by the hub, and nothing is sent.
    let mut with_first = signal_form(&csrf, &signal_id, &wijkteam_oin, &[("action", "send")]);
    with_first.push(("consent".into(), first[0].clone()));
    let (status, page) = school.post("/signaal/nieuw", &with_first).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Het convenant staat dit niet toe"), "{page}");

    // The second parent's consent: allowed.
    let mut second = signal_form(
        &csrf,
        &signal_id,
        &wijkteam_oin,
        &[("action", "consent"), ("giver", "ouder-2")],
    );
    second.push(("consent".into(), first[0].clone()));
    let (_, page) = school.post("/signaal/nieuw", &second).await;
    let both = ticked_consents(&page);
    assert_eq!(both.len(), 2, "{page}");
    assert!(page.contains("Toegestaan door het convenant"), "{page}");

    // Send: to the status page.
    let mut send = signal_form(&csrf, &signal_id, &wijkteam_oin, &[("action", "send")]);
    send.extend(both.iter().map(|c| ("consent".to_owned(), c.clone())));
    let (status, location) = school.post_redirect("/signaal/nieuw", &send).await;
    assert_eq!(status, 303);
    assert_eq!(location, format!("/signalen/{signal_id}"));
    // A second click on "Versturen" is the same signal (the hub answers as the first time).
    let (status, _) = school.post_redirect("/signaal/nieuw", &send).await;
    assert_eq!(status, 303);
    let page = school.get(&location).await;
    assert!(page.contains(&wijkteam_oin), "{page}");
    assert_eq!(school.get("/signalen").await.matches(&signal_id).count(), 2);

    // The wijkcoach: the inbox fetcher brings it in, sealed; opening shows the text.
    let inbox = wijkteam.wait_for("/postvak", &signal_id).await;
    assert!(inbox.contains("nieuw"), "{inbox}");
    let school_oin = kit.oin("school");
    let item = format!("/postvak/{school_oin}/{signal_id}");
    let page = wijkteam.get(&item).await;
    assert!(page.contains(TEXT), "{page}");
    assert!(
        page.contains("Handtekening van de afzender gecontroleerd"),
        "{page}"
    );
    let csrf_w = field_value(&page, "csrf");
    let (status, _) = wijkteam
        .post_redirect(&format!("{item}/ontvangen"), &[("csrf".into(), csrf_w)])
        .await;
    assert_eq!(status, 303);
    assert!(
        wijkteam
            .get(&item)
            .await
            .contains("Ontvangst bevestigd door dev-wijkteam")
    );

    // The IB'er sees the receipt.
    let page = school.get(&location).await;
    assert!(page.contains("ontvangst bevestigd"), "{page}");

    // The wijkteam gateway's audit log says who opened it.
    let audit = kit.consoles[1]
        .app
        .store
        .audit_log(50)
        .await
        .unwrap_or_default();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "opened" && e.professional == "dev-wijkteam")
    );

    // The school's FG answers the family's access request: the school's part, proofs verified,
    // the letter on a sandboxed page. The IB'er (no role fg) is refused by the hub.
    let fg = Console::login_as(&kit.consoles[0], "dev-fg-school").await;
    let page = fg.get("/fg").await;
    assert!(
        page.contains("Verstrekkingen van deze organisatie"),
        "{page}"
    );
    assert!(page.contains("signal_sent"), "{page}");
    // The convenant as a table, its conditions spelled out (the VT handover also needs consent).
    assert!(page.contains("Het convenant"), "{page}");
    assert!(page.contains("ook toestemming nodig"), "{page}");
    let csrf_fg = field_value(&page, "csrf");
    let ask = [
        ("csrf".to_owned(), csrf_fg.clone()),
        ("bsn".to_owned(), BSN.to_owned()),
    ];
    let (status, page) = fg.post("/fg/inzage", &ask).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("klopt met het ondertekende checkpoint"),
        "{page}"
    );
    assert!(page.contains(&wijkteam_oin), "{page}");
    let letter = fg.post_raw("/fg/brief", &ask).await;
    assert_eq!(letter.status(), 200);
    let csp = letter.headers()["content-security-policy"]
        .to_str()
        .unwrap_or("")
        .to_owned();
    assert!(csp.starts_with("sandbox"), "{csp}");
    let text = body_of(letter).await;
    assert!(
        text.contains("<html") || text.contains("<!DOCTYPE"),
        "{text}"
    );
    assert!(!text.contains(BSN), "the letter does not print the BSN");
    assert!(
        text.contains("Wat is er gedeeld?"),
        "Dutch by default: {text}"
    );
    // In English, chosen for the family; and as a PDF to print or send.
    let with = |extra: &[(&str, &str)]| {
        let mut f = ask.to_vec();
        f.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        f
    };
    let text = body_of(fg.post_raw("/fg/brief", &with(&[("language", "en")])).await).await;
    assert!(text.contains("What was shared?"), "{text}");
    let pdf = fg
        .post_raw("/fg/brief", &with(&[("language", "en"), ("format", "pdf")]))
        .await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(
        pdf.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    assert!(!String::from_utf8_lossy(&bytes).contains(BSN));
    let bad = fg.post_raw("/fg/brief", &with(&[("language", "fr")])).await;
    assert_eq!(bad.status(), 422);
    let ib_ask = [
        (
            "csrf".to_owned(),
            field_value(&school.get("/").await, "csrf"),
        ),
        ("bsn".to_owned(), BSN.to_owned()),
    ];
    let (_, page) = school.post("/fg/inzage", &ib_ask).await;
    assert!(
        page.contains("class=\"problem\""),
        "the hub refuses a report to a non-FG: {page}"
    );
    assert!(
        !page.contains("klopt met het ondertekende checkpoint"),
        "{page}"
    );

    // Nothing identifying at rest in either gateway: no BSN, no plaintext.
    for c in &kit.consoles {
        for file in c.store_files() {
            let bytes = std::fs::read(&file).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(BSN), "BSN in {}", file.display());
            assert!(
                !text.contains("blauwe plekken"),
                "plaintext in {}",
                file.display()
            );
        }
    }

    // Retention: nothing is due yet. Once the convenant's retention for the purpose has passed
    // (the hub's retain_until, a year here), both gateways delete their records of the signal.
    use signaalhub_gateway::inbox::retention_pass;
    use signaalhub_gateway::store::{Swept, now_unix};
    for c in &kit.consoles {
        assert_eq!(
            retention_pass(&c.app, now_unix()).await.unwrap(),
            Swept::default()
        );
    }
    let later = now_unix() + 3 * 365 * 86400;
    let swept = retention_pass(&kit.consoles[1].app, later).await.unwrap();
    assert_eq!(swept.received, 1, "{swept:?}");
    assert!(!wijkteam.get("/postvak").await.contains(&signal_id));
    let swept = retention_pass(&kit.consoles[0].app, later).await.unwrap();
    assert_eq!(swept.sent, 1, "{swept:?}");
    assert!(!school.get("/signalen").await.contains(&signal_id));
    kit.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_refuses_what_a_browser_of_another_site_or_nobody_would_send() {
    let kit = start_kit(&["school"]).await;
    let c = &kit.consoles[0];
    let http = common::client();

    // No session: to the login page.
    let r = http
        .get(format!("{}/postvak", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    // The headers.
    let r = http.get(format!("{}/login", c.base)).send().await.unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap_or("")
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let page = body_of(r).await;
    assert!(page.contains("lang=\"nl\""), "{page}");

    // A login posted from another site.
    let r = http
        .post(format!("{}/login/dev", c.base))
        .header("origin", "https://evil.example")
        .form(&[("user", "dev-school")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // An unknown dev user.
    let r = http
        .post(format!("{}/login/dev", c.base))
        .header("origin", &c.base)
        .form(&[("user", "someone-else")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let school = Console::login(c).await;
    // The cookie is HttpOnly and SameSite=Strict.
    assert!(
        school.cookie_attributes.contains("HttpOnly"),
        "{}",
        school.cookie_attributes
    );
    assert!(school.cookie_attributes.contains("SameSite=Strict"));
    // A form with another session's (or no) CSRF token.
    let (status, page) = school
        .post(
            "/signaal/nieuw",
            &[
                ("csrf".into(), "0".repeat(64)),
                ("action".into(), "check".into()),
            ],
        )
        .await;
    assert_eq!(status, 403, "{page}");
    // A bad BSN is explained without asking the hub.
    let page = school.get("/signaal/nieuw").await;
    let csrf = field_value(&page, "csrf");
    let (status, page) = school
        .post(
            "/signaal/nieuw",
            &[
                ("csrf".into(), csrf.clone()),
                ("action".into(), "check".into()),
                ("bsn".into(), "111222334".into()),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("elfproef"), "{page}");
    // English on request.
    let (status, _) = school
        .post_redirect(
            "/taal",
            &[("csrf".into(), csrf.clone()), ("lang".into(), "en".into())],
        )
        .await;
    assert_eq!(status, 303);
    assert!(school.get("/").await.contains("New signal"));
    // Logout ends the session at once.
    let (status, _) = school
        .post_redirect("/logout", &[("csrf".into(), csrf)])
        .await;
    assert_eq!(status, 303);
    let r = http
        .get(format!("{}/postvak", c.base))
        .header("cookie", &school.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    kit.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wijkcoach_asks_whether_a_maatregel_runs_once_involved() {
    let kit = start_kit(&["wijkteam"]).await;
    // The GI registers an OTS (through the SDK here; its Register screen is tested below).
    let mut gi = kit.sdk("jeugdbescherming").await;
    use signaalhub_client::signaalhub_proto::pb;
    gi.register_maatregel(pb::RegisterMaatregelRequest {
        subject_bsn: BSN.into(),
        kind: pb::MaatregelKind::Ots as i32,
        contact_point: "Team Jeugdbescherming Arnhem, 026-1234567".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let w = Console::login(&kit.consoles[0]).await;
    let page = w.get("/maatregel").await;
    let csrf = field_value(&page, "csrf");
    let form = |action: &str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("bsn".to_owned(), BSN.to_owned()),
            (
                "contact".to_owned(),
                "G. K., wijkcoach, 026-0000002".to_owned(),
            ),
            ("action".to_owned(), action.to_owned()),
        ]
    };
    // Not involved yet: the hub refuses, and the console says so.
    let (_, page) = w.post("/maatregel", &form("ask")).await;
    assert!(page.contains("class=\"problem\""), "{page}");
    assert!(!page.contains("Team Jeugdbescherming Arnhem"), "{page}");
    // Declaring involvement without any contact the hub can check is refused, in Dutch.
    let (_, page) = w.post("/maatregel", &form("involvement")).await;
    assert!(page.contains("class=\"problem\""), "{page}");
    assert!(
        page.contains("geen contact met deze persoon dat de signaalhub kan nagaan"),
        "{page}"
    );
    // The wijkcoach met the parents: their consent, recorded by the wijkteam, is the ground the
    // hub checks before it registers an involvement (it is earned, not declared).
    kit.parents_consent(
        BSN,
        &[pb::Sector::Jeugdbescherming],
        &[],
        &["betrokkenheid"],
    )
    .await;

    // Involved: the minimal answer with whom to call.
    let (_, page) = w.post("/maatregel", &form("involvement")).await;
    assert!(page.contains("Uw betrokkenheid is vastgelegd"), "{page}");
    let (_, page) = w.post("/maatregel", &form("ask")).await;
    assert!(page.contains("ondertoezichtstelling (OTS)"), "{page}");
    assert!(
        page.contains("Team Jeugdbescherming Arnhem, 026-1234567"),
        "{page}"
    );
    kit.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wijkcoach_records_the_familys_consent_on_maatregel_and_involves_on_it() {
    let kit = start_kit(&["wijkteam", "jeugdbescherming"]).await;
    let w = Console::login(&kit.consoles[0]).await;
    let gi = Console::login(&kit.consoles[1]).await;
    let page = w.get("/maatregel").await;
    assert!(
        page.contains("Toestemming van het gezin vastleggen"),
        "{page}"
    );
    let csrf = field_value(&page, "csrf");
    let consent_form = |csrf: &str, givers: &[&str]| {
        let mut f = form_of(&[
            ("csrf", csrf),
            ("bsn", BSN),
            ("age", "9"),
            ("gezag", "ouder-1, ouder-2"),
            ("sector", "wijkteam"),
            ("sector", "jeugdbescherming"),
            ("category", "betrokkenheid"),
            ("category", "veiligheidsafspraken"),
            ("consent_months", "6"),
            ("consent_evidence", "sha256:form"),
            ("action", "consent"),
        ]);
        f.extend(givers.iter().map(|g| ("giver".to_owned(), (*g).to_owned())));
        f
    };
    let k = &kit;
    let at_hub = || async move {
        k.sdk("wijkteam")
            .await
            .list_consents(BSN, true)
            .await
            .unwrap()
    };

    // Nobody ticked as giver: a Dutch error, and nothing reaches the hub.
    let (status, page) = w.post("/maatregel", &consent_form(&csrf, &[])).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("De toestemming is niet vastgelegd"), "{page}");
    assert!(
        page.contains("Gegeven door: vink aan wie toestemming gaf."),
        "{page}"
    );
    assert!(at_hub().await.is_empty());
    // The FG records no consent for casusafstemming: the gateway refuses before the hub.
    let fg = Console::login_as(&kit.consoles[0], "dev-fg-wijkteam").await;
    let csrf_fg = field_value(&fg.get("/maatregel").await, "csrf");
    let (status, page) = fg
        .post(
            "/maatregel",
            &consent_form(&csrf_fg, &["ouder-1", "ouder-2"]),
        )
        .await;
    assert_eq!(status, 403, "{page}");
    assert!(
        page.contains("professionals in een rol van het convenant"),
        "{page}"
    );
    assert!(at_hub().await.is_empty());
    let audit = kit.consoles[0].app.store.audit_log(100).await.unwrap();
    assert!(
        !audit.iter().any(|e| e.action == "consent_recorded"),
        "{audit:?}"
    );

    // Both parents consent: recorded, and ticked for the involvement at once.
    let (status, page) = w
        .post("/maatregel", &consent_form(&csrf, &["ouder-1", "ouder-2"]))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Toestemming vastgelegd ("), "{page}");
    let consent = page
        .split("Toestemming vastgelegd (<code>")
        .nth(1)
        .and_then(|t| t.split("</code>").next())
        .unwrap()
        .to_owned();
    assert!(
        page.contains(&format!("value=\"{consent}\" checked")),
        "{page}"
    );
    let recorded = at_hub().await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].consent_id, consent);
    assert_eq!(recorded[0].purposes, vec!["casusafstemming".to_owned()]);
    assert_eq!(recorded[0].givers.len(), 2);
    assert!(
        recorded[0]
            .categories
            .contains(&"veiligheidsafspraken".to_owned())
    );
    let audit = kit.consoles[0].app.store.audit_log(100).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "consent_recorded"),
        "{audit:?}"
    );

    // The involvement on it (the ticked box is what the browser sends back).
    let involve = |csrf: &str, contact: &str| {
        form_of(&[
            ("csrf", csrf),
            ("bsn", BSN),
            ("contact", contact),
            ("consent", &consent),
            ("action", "involvement"),
        ])
    };
    let (_, page) = w
        .post("/maatregel", &involve(&csrf, "G. K., wijkcoach"))
        .await;
    assert!(page.contains("Uw betrokkenheid is vastgelegd"), "{page}");
    // The GI presents the same consent (its sector is named): they share a case, and the case
    // link carries the consent to the safety plan form.
    let csrf_gi = field_value(&gi.get("/maatregel").await, "csrf");
    let (_, page) = gi
        .post(
            "/maatregel",
            &involve(&csrf_gi, "Jeugdbeschermer, 026-1234567"),
        )
        .await;
    assert!(page.contains("U deelt een zaak"), "{page}");
    let case = link_after(&page, "/zaak/");
    assert!(case.ends_with(&format!("?toestemming={consent}")), "{case}");
    let page = gi.get(&case).await;
    let filled = field_value(&page, "consents");
    assert_eq!(filled, consent, "{page}");
    // The plan goes out on the consent as filled in, and the wijkteam reads it.
    let case = case.split('?').next().unwrap().to_owned();
    publish_plan(
        &gi,
        &case,
        &filled,
        &kit.oin("jeugdbescherming"),
        "Veiligheidsplan gezin",
        "Belt elke week met moeder",
    )
    .await;
    let page = w.get(&case).await;
    assert!(page.contains("Belt elke week met moeder"), "{page}");
    kit.stop().await;
}

/// The value of the first `href="PREFIX..."` on a page, up to the closing quote.
fn link_after(page: &str, prefix: &str) -> String {
    let marker = format!("\"{prefix}");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no link {prefix} on the page: {page}"))
        + 1;
    page[start..].split('"').next().unwrap().to_owned()
}

fn form_of(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gp_reports_to_veilig_thuis_after_the_meldcode_steps() {
    let kit = start_kit(&["huisarts", "veilig_thuis"]).await;
    let gp = Console::login(&kit.consoles[0]).await;
    let vt = Console::login(&kit.consoles[1]).await;
    let vt_oin = kit.oin("veilig_thuis");
    const MELDING: &str = "Letsel past niet bij het verhaal van de ouders.";

    // The form: the five steps, the afwegingskader, informed or why not, only Veilig Thuis as
    // recipient and the convenant's categories of a meldcode report.
    let page = gp.get("/meldcode").await;
    assert!(page.contains("Stap 5: Beslissen"), "{page}");
    assert!(page.contains("Structurele onveiligheid"), "{page}");
    assert!(page.contains("veiligheid_kind"), "{page}");
    assert!(page.contains(&vt_oin), "{page}");
    assert!(
        !page.contains(&kit.oin("huisarts")),
        "not to itself: {page}"
    );
    assert!(page.contains("Gezondheidsgegevens"), "{page}");
    let csrf = field_value(&page, "csrf");
    let signal_id = field_value(&page, "signal_id");
    let melding = |steps: &[&str], action: &str| {
        let mut f = form_of(&[
            ("csrf", &csrf),
            ("signal_id", &signal_id),
            ("bsn", BSN),
            ("age", "4"),
            ("gezag", "ouder-1"),
            ("recipient", &vt_oin),
            ("category", "gezondheid"),
            ("basis", "meldcode"),
            ("afweging", "structureel"),
            ("informed", "nee"),
            ("not_informed_reason", "veiligheid_kind"),
            ("urgency", "high"),
            ("text", MELDING),
            ("action", action),
        ]);
        f.extend(steps.iter().map(|s| ("step".to_owned(), (*s).to_owned())));
        f
    };

    // Steps 3 and 4 not taken: the convenant says no, in Dutch, and nothing is sent.
    let (status, page) = gp.post("/meldcode", &melding(&["1", "2"], "send")).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Niet toegestaan door het convenant"),
        "{page}"
    );
    assert!(page.contains("Het convenant staat dit niet toe"), "{page}");
    // Steps 1-4: allowed, before sending.
    let (status, page) = gp
        .post("/meldcode", &melding(&["1", "2", "3", "4"], "check"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Toegestaan door het convenant"), "{page}");
    // A reason that is not one of the codes never reaches the hub.
    let mut forged = melding(&["1", "2", "3", "4"], "check");
    forged.retain(|(k, _)| k != "not_informed_reason");
    forged.push(("not_informed_reason".into(), "vader dreigt".into()));
    let (status, page) = gp.post("/meldcode", &forged).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Kies een reden uit de lijst"), "{page}");
    // Sent, to the status page; Veilig Thuis opens it in its Postvak.
    let (_, location) = gp
        .post_redirect("/meldcode", &melding(&["1", "2", "3", "4"], "send"))
        .await;
    assert_eq!(location, format!("/signalen/{signal_id}"));
    vt.wait_for("/postvak", &signal_id).await;
    let page = vt
        .get(&format!("/postvak/{}/{signal_id}", kit.oin("huisarts")))
        .await;
    assert!(page.contains(MELDING), "{page}");
    assert!(page.contains("melding_veilig_thuis"), "{page}");

    // In English on request.
    gp.post_redirect("/taal", &form_of(&[("csrf", &csrf), ("lang", "en")]))
        .await;
    let page = gp.get("/meldcode").await;
    assert!(
        page.contains("Step 5: Decide: organise help or report"),
        "{page}"
    );
    assert!(
        page.contains("Telling them would endanger the child"),
        "{page}"
    );

    // The GP practice's privacy officer has no convenant role to report in: the hub refuses.
    let fg = Console::login_as(&kit.consoles[0], "dev-fg-huisarts").await;
    let page = fg.get("/meldcode").await;
    let csrf_fg = field_value(&page, "csrf");
    let mut f = melding(&["1", "2", "3", "4"], "send");
    f[0].1 = csrf_fg;
    f[1].1 = "melding-fg-1".into();
    let (status, page) = fg.post("/meldcode", &f).await;
    assert_ne!(status, 303, "{page}");
    assert!(page.contains("class=\"problem\""), "{page}");
    assert!(!page.contains("Toegestaan door het convenant"), "{page}");
    kit.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_parties_of_a_case_agree_on_a_coordinator_and_a_safety_plan() {
    let kit = start_kit(&["wijkteam", "jeugdbescherming", "school"]).await;
    let w = Console::login(&kit.consoles[0]).await;
    let gi = Console::login(&kit.consoles[1]).await;
    let school = Console::login(&kit.consoles[2]).await;
    let (wijkteam_oin, gi_oin) = (kit.oin("wijkteam"), kit.oin("jeugdbescherming"));

    // The parents consent to the wijkteam and the GI learning of each other and sharing a plan
    // (recorded through the SDK: the consent screen is Nieuw signaal's).
    use signaalhub_client::signaalhub_proto::pb;
    let both = [pb::Sector::Wijkteam, pb::Sector::Jeugdbescherming];
    let consent = kit
        .parents_consent(
            BSN,
            &both,
            &both,
            &["betrokkenheid", "veiligheidsafspraken"],
        )
        .await;
    let involve = |csrf: String, contact: &str| {
        form_of(&[
            ("csrf", &csrf),
            ("bsn", BSN),
            ("contact", contact),
            ("consent", &consent),
            ("action", "involvement"),
        ])
    };

    // Both record their involvement on the consent (ticked on the form): they share a case.
    let csrf_w = field_value(&w.get("/maatregel").await, "csrf");
    let (_, page) = w
        .post("/maatregel", &involve(csrf_w.clone(), "G. K., wijkcoach"))
        .await;
    assert!(page.contains("Uw betrokkenheid is vastgelegd"), "{page}");
    let csrf_gi = field_value(&gi.get("/maatregel").await, "csrf");
    let (_, page) = gi
        .post(
            "/maatregel",
            &involve(csrf_gi.clone(), "Jeugdbeschermer, 026-1234567"),
        )
        .await;
    assert!(page.contains("U deelt een zaak"), "{page}");
    // The link carries the consent to the safety plan form; the case itself is the path.
    let link = link_after(&page, "/zaak/");
    assert!(link.ends_with(&format!("?toestemming={consent}")), "{link}");
    let case = link.split('?').next().unwrap().to_owned();
    // The wijkcoach finds it under Zaken van dit kind.
    let (_, page) = w
        .post(
            "/maatregel",
            &form_of(&[("csrf", &csrf_w), ("bsn", BSN), ("action", "cases")]),
        )
        .await;
    assert!(page.contains(&case), "{page}");

    // The case: both parties, nobody coordinates yet.
    let page = w.get(&case).await;
    assert!(page.contains("Wijkteam Arnhem-Oost"), "{page}");
    assert!(page.contains("Jeugdbescherming Gelderland"), "{page}");
    assert!(page.contains("Nog niemand heeft de regie"), "{page}");
    // An organisation that is not a party does not see it.
    let (status, page) = school.get_status(&case).await;
    assert_eq!(status, 404, "{page}");
    assert!(!page.contains("Jeugdbescherming Gelderland"), "{page}");
    // The GI opened the case without the consent carried: it looks the family's consent up by
    // the child on the plan form, and the form is filled in with it.
    let page = gi.get(&case).await;
    assert!(
        page.contains("Toestemming van het gezin opzoeken"),
        "{page}"
    );
    let (_, page) = gi
        .post(
            &format!("{case}/toestemmingen"),
            &form_of(&[("csrf", &csrf_gi), ("bsn", BSN)]),
        )
        .await;
    assert!(page.contains("Ingevuld in het plan"), "{page}");
    assert!(
        page.contains(&format!("name=\"consents\" value=\"{consent}\"")),
        "{page}"
    );
    // A child without such a consent: said, nothing filled in; a bad BSN: said.
    let (_, page) = gi
        .post(
            &format!("{case}/toestemmingen"),
            &form_of(&[("csrf", &csrf_gi), ("bsn", "123456782")]),
        )
        .await;
    assert!(page.contains("geen toestemming van het gezin"), "{page}");
    let (_, page) = gi
        .post(
            &format!("{case}/toestemmingen"),
            &form_of(&[("csrf", &csrf_gi), ("bsn", "123456789")]),
        )
        .await;
    assert!(page.contains("elfproef"), "{page}");
    // Not a party: the school cannot use the case's form.
    let csrf_s = field_value(&school.get("/").await, "csrf");
    let (status, _) = school
        .post(
            &format!("{case}/toestemmingen"),
            &form_of(&[("csrf", &csrf_s), ("bsn", BSN)]),
        )
        .await;
    assert_ne!(status, 200);

    // The wijkteam proposes the GI; the proposal waits for the GI, which accepts.
    let (_, _) = w
        .post_redirect(
            &format!("{case}/regisseur"),
            &form_of(&[("csrf", &csrf_w), ("proposed", &gi_oin)]),
        )
        .await;
    let page = w.get(&case).await;
    assert!(
        page.contains("Wacht nog op: Jeugdbescherming Gelderland"),
        "{page}"
    );
    assert!(
        !page.contains("Aanvaarden"),
        "the proposer does not answer: {page}"
    );
    let page = gi.get(&case).await;
    let answer = link_after(&page, &format!("{case}/voorstel/"));
    gi.post_redirect(&answer, &form_of(&[("csrf", &csrf_gi), ("answer", "ja")]))
        .await;
    let page = w.get(&case).await;
    assert!(
        page.contains("Casusregisseur: </strong>Jeugdbescherming Gelderland"),
        "{page}"
    );

    // The wijkteam writes the safety plan: sealed here to both parties.
    let plan = form_of(&[
        ("csrf", &csrf_w),
        ("title", "Veiligheidsplan gezin"),
        ("goal", "Iedereen is thuis veilig"),
        ("emergency", "de wijkcoach, 026-0000002"),
        ("who1", "De jeugdbeschermer"),
        ("what1", "belt moeder elke twee weken"),
        ("party1", &gi_oin),
        ("who2", "De wijkcoach"),
        ("what2", "komt elke week op huisbezoek"),
        ("party2", &wijkteam_oin),
        ("family2", "on"),
        ("consents", &consent),
    ]);
    // Without a consent it is not sent, and the form says why.
    let mut no_consent = plan.clone();
    no_consent.retain(|(k, _)| k != "consents");
    let (_, page) = w.post(&format!("{case}/plan"), &no_consent).await;
    assert!(
        page.contains("noem de toestemming voor casusafstemming"),
        "{page}"
    );
    assert!(page.contains("Er is nog geen veiligheidsplan"), "{page}");
    // A field longer than the form allows is refused here (the hub cannot see the sealed plan).
    let mut long = plan.clone();
    long.push(("what3".into(), "x".repeat(501)));
    long.push(("who3".into(), "Moeder".into()));
    let (_, page) = w.post(&format!("{case}/plan"), &long).await;
    assert!(page.contains("Te lang"), "{page}");
    assert!(page.contains("Er is nog geen veiligheidsplan"), "{page}");
    w.post_redirect(&format!("{case}/plan"), &plan).await;
    let page = gi.get(&case).await;
    assert!(
        page.contains("Handtekening van de opsteller gecontroleerd"),
        "{page}"
    );
    assert!(page.contains("belt moeder elke twee weken"), "{page}");
    assert!(page.contains("nog niet door iedereen bevestigd"), "{page}");
    // Each party confirms what concerns it.
    let mut confirmed = String::new();
    for (c, csrf) in [(&gi, &csrf_gi), (&w, &csrf_w)] {
        let page = c.get(&case).await;
        confirmed = link_after(&page, &format!("{case}/plan/1/"));
        c.post_redirect(&confirmed, &form_of(&[("csrf", csrf)]))
            .await;
    }
    // Once: a second click says so, and the parties are not told again.
    let (_, page) = w.post(&confirmed, &form_of(&[("csrf", &csrf_w)])).await;
    assert!(page.contains("al bevestigd"), "{page}");
    let page = w.get(&case).await;
    assert!(page.contains("door iedereen bevestigd"), "{page}");
    assert!(!page.contains("nog niet door iedereen bevestigd"), "{page}");
    // Opening the plan is in the gateway's audit log.
    let audit = kit.consoles[1].app.store.audit_log(100).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "plan_opened"), "{audit:?}");
    let gi_fg = Console::login_as(&kit.consoles[1], "dev-fg-jeugdbescherming").await;
    // The GI's privacy officer works on no cases: the gateway does not show it one (the hub
    // would: it answers every professional of a party).
    let (status, page) = gi_fg.get_status(&case).await;
    assert_eq!(status, 403, "{page}");
    assert!(!page.contains("G. K., wijkcoach"), "{page}");
    let (status, _) = gi_fg
        .post(
            &format!("{case}/regisseur"),
            &form_of(&[("csrf", &field_value(&page, "csrf")), ("proposed", &gi_oin)]),
        )
        .await;
    assert_eq!(status, 403);
    let (_, page) = gi_fg
        .post(
            "/maatregel",
            &form_of(&[
                ("csrf", &field_value(&page, "csrf")),
                ("bsn", BSN),
                ("action", "cases"),
            ]),
        )
        .await;
    assert!(page.contains("Zaken zijn voor professionals"), "{page}");
    assert!(!page.contains(&case), "{page}");
    let page = gi_fg.get("/fg/auditlog").await;
    assert!(page.contains("veiligheidsplan geopend"), "{page}");
    assert!(page.contains("voorstel casusregisseur aanvaard"), "{page}");

    // The school has contact the hub cannot see: refused until the GI confirms it.
    let csrf_s = field_value(&school.get("/maatregel").await, "csrf");
    let school_involves = form_of(&[
        ("csrf", &csrf_s),
        ("bsn", BSN),
        ("contact", "IB'er, 026-0000001"),
        ("action", "involvement"),
    ]);
    let (_, page) = school.post("/maatregel", &school_involves).await;
    assert!(page.contains("class=\"problem\""), "{page}");
    let (_, page) = gi
        .post(
            "/maatregel",
            &form_of(&[
                ("csrf", &csrf_gi),
                ("bsn", BSN),
                ("org", &kit.oin("school")),
                ("action", "confirm"),
            ]),
        )
        .await;
    assert!(page.contains("Bevestigd."), "{page}");
    let (_, page) = school.post("/maatregel", &school_involves).await;
    assert!(page.contains("Uw betrokkenheid is vastgelegd"), "{page}");
    // The school, not involved in the case's consent, still cannot propose itself there.
    let (status, page) = school
        .post(
            &format!("{case}/regisseur"),
            &form_of(&[("csrf", &csrf_s), ("proposed", &kit.oin("school"))]),
        )
        .await;
    assert_eq!(status, 404, "{page}");
    kit.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_fg_reads_the_gateways_audit_log_a_page_at_a_time() {
    let kit = start_kit(&["school"]).await;
    let store = &kit.consoles[0].app.store;
    store
        .audit("ib-early", "opened", "x/111222333")
        .await
        .unwrap();
    for i in 0..60 {
        store
            .audit("dev-school", "sent", &format!("sig-{i:02}"))
            .await
            .unwrap();
    }
    // The IB'er: refused by the gateway.
    let ib = Console::login(&kit.consoles[0]).await;
    let (status, page) = ib.get_status("/fg/auditlog").await;
    assert_eq!(status, 403, "{page}");
    assert!(!page.contains("sig-59"), "{page}");
    assert!(!ib.get("/").await.contains("/fg/auditlog"));
    // The FG: newest first, 50 a page, then the older ones.
    let fg = Console::login_as(&kit.consoles[0], "dev-fg-school").await;
    assert!(fg.get("/fg").await.contains("/fg/auditlog"));
    let page = fg.get("/fg/auditlog").await;
    assert!(page.contains("auditlog bekeken"), "{page}");
    // Three lines came after the 60 (two logins and this look), so the page ends at sig-13.
    let (newest, oldest_shown) = (page.find("sig-59").unwrap(), page.find("sig-13").unwrap());
    assert!(newest < oldest_shown, "newest first");
    assert!(!page.contains("sig-12"), "50 lines a page: {page}");
    let older = link_after(&page, "/fg/auditlog?voor=");
    let page = fg.get(&older.replace("&amp;", "&")).await;
    assert!(page.contains("sig-12") && page.contains("sig-00"), "{page}");
    assert!(!page.contains("sig-59"), "{page}");
    // What could be a BSN is never shown, even if a line held one.
    assert!(page.contains("ib-early"), "{page}");
    assert!(!page.contains("111222333"), "{page}");
    // In English on request.
    let csrf = field_value(&page, "csrf");
    fg.post_redirect("/taal", &form_of(&[("csrf", &csrf), ("lang", "en")]))
        .await;
    assert!(fg.get("/fg/auditlog").await.contains("Older lines"));
    kit.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn veilig_thuis_opens_a_police_zorgmelding_with_its_fragments() {
    use signaalhub_client::signaalhub_proto::pb;
    const REG: &str = "2026-OOST-000123";
    const INCIDENT: &str = "Ruzie op straat tussen ex-partners; buren belden 112.";
    const CHILDREN: &str = "Twee kinderen (4 en 6) waren aanwezig.";
    let kit = start_kit(&["veilig_thuis"]).await;

    // The police submit two fragments of one incident (the police's own system, through the SDK).
    let mut politie = kit
        .police_zorgmelding(
            REG,
            BSN,
            &[
                (
                    "frag-incident",
                    pb::FragmentKind::Incident,
                    "incidentgegevens",
                    INCIDENT,
                ),
                (
                    "frag-kinderen",
                    pb::FragmentKind::ChildrenPresent,
                    "aanwezigheid_kinderen",
                    CHILDREN,
                ),
            ],
        )
        .await;

    // The Veilig Thuis employee finds it in the Postvak and opens it: both fragments, the police's
    // signature checked, written to the audit log.
    let vt = Console::login(&kit.consoles[0]).await;
    let page = vt.wait_for("/postvak", REG).await;
    assert!(page.contains("Zorgmeldingen van de politie"), "{page}");
    let melding = link_after(&page, "/postvak/zorgmelding/");
    // The second fragment may come as a second version of the melding.
    let page = vt.wait_for(&melding, CHILDREN).await;
    assert!(page.contains(INCIDENT), "{page}");
    assert!(page.contains(CHILDREN), "{page}");
    assert!(
        page.contains("Handtekening van de politie gecontroleerd"),
        "{page}"
    );
    assert!(page.contains("nog niet compleet"), "{page}");
    let audit = kit.consoles[0].app.store.audit_log(20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "zorgmelding_opened" && e.professional == "dev-veilig-thuis"),
        "{audit:?}"
    );
    // The police complete it: the newer version replaces the stored one.
    politie.complete_zorgmelding(REG).await.unwrap();
    for _ in 0..200 {
        if !vt.get(&melding).await.contains("nog niet compleet") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!vt.get(&melding).await.contains("nog niet compleet"));

    // Veilig Thuis's privacy officer has no Veilig Thuis role: no zorgmeldingen.
    let fg = Console::login_as(&kit.consoles[0], "dev-fg-veilig-thuis").await;
    assert!(!fg.get("/postvak").await.contains(REG));
    let (status, page) = fg.get_status(&melding).await;
    assert_eq!(status, 403, "{page}");
    assert!(!page.contains(INCIDENT), "{page}");
    // Fragments stay sealed at rest; no BSN either.
    for file in kit.consoles[0].store_files() {
        let bytes = std::fs::read(&file).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(BSN), "BSN in {}", file.display());
        assert!(
            !text.contains("buren belden"),
            "plaintext in {}",
            file.display()
        );
    }
    // The melding is deleted once its retention (the hub's retain_until) has passed.
    let later = signaalhub_gateway::store::now_unix() + 3 * 365 * 86400;
    let swept = signaalhub_gateway::inbox::retention_pass(&kit.consoles[0].app, later)
        .await
        .unwrap();
    assert_eq!(swept.zorgmeldingen, 1, "{swept:?}");
    assert!(!vt.get("/postvak").await.contains(REG));
    kit.stop().await;
}

/// The answers of a triage form: criterion 3 met (children witnessed it), the rest not.
fn triage_answers(csrf: &str, leave_out: Option<&str>) -> Vec<(String, String)> {
    let mut f = form_of(&[
        ("csrf", csrf),
        ("physical_abuse", "nee"),
        ("sexual_abuse", "nee"),
        ("witnessed", "ja"),
        ("safety_conflict", "nee"),
        ("open_to_help", "open"),
        ("stacked_reports", "nee"),
        ("mutual_accusations", "nee"),
        ("addiction", "nee"),
        ("case_reference", "VT-2026-0042"),
        ("role", "triagist"),
    ]);
    f.retain(|(k, _)| Some(k.as_str()) != leave_out);
    f
}

/// The handover form as a Veilig Thuis employee fills it in (`extra` adds consents, givers, ...).
fn handover_form(
    page: &str,
    wijkteam: &str,
    action: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut f = form_of(&[
        ("csrf", &field_value(page, "csrf")),
        ("handover_id", &field_value(page, "handover_id")),
        ("recipient", wijkteam),
        ("role", "vt_medewerker"),
        ("bsn", BSN),
        ("age", "6"),
        ("gezag", "ouder-1, ouder-2"),
        ("category", "incidentgegevens"),
        ("category", "aanwezigheid_kinderen"),
        ("case_reference", "VT-2026-0042"),
        ("informed", "ja"),
        ("vt_name", "Rianne van Rooijen"),
        ("vt_function", "medewerker Veilig Thuis"),
        ("vt_phone", "0800-2000"),
        ("wt_name", "Els Bouwman"),
        ("wt_function", "wijkcoach"),
        ("wt_phone", "026-0000002"),
        ("action", action),
    ]);
    f.extend(form_of(extra));
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn veilig_thuis_triages_decides_and_hands_over_and_the_wijkteam_accepts() {
    use signaalhub_client::signaalhub_proto::pb;
    const REG: &str = "2026-OOST-000777";
    const INCIDENT: &str = "Ruzie op straat; de kinderen zagen het.";
    const CHILDREN: &str = "Twee kinderen (4 en 6) waren aanwezig.";
    const QUESTION: &str = "Weet de moeder van de melding?";
    let kit = start_kit(&["veilig_thuis", "wijkteam"]).await;
    let (vt_oin, wijkteam_oin) = (kit.oin("veilig_thuis"), kit.oin("wijkteam"));
    kit.police_zorgmelding(
        REG,
        BSN,
        &[
            (
                "frag-777-incident",
                pb::FragmentKind::Incident,
                "incidentgegevens",
                INCIDENT,
            ),
            (
                "frag-777-kinderen",
                pb::FragmentKind::ChildrenPresent,
                "aanwezigheid_kinderen",
                CHILDREN,
            ),
        ],
    )
    .await;
    let vt = Console::login(&kit.consoles[0]).await;
    let w = Console::login(&kit.consoles[1]).await;

    // From the Postvak to the melding's triage page: the six criteria, labelled in Dutch.
    vt.wait_for("/postvak", REG).await;
    let page = vt.wait_for("/postvak", "/melding/zm/").await;
    let melding = link_after(&page, "/melding/zm/");
    vt.wait_for(
        &format!(
            "/postvak/zorgmelding/{}",
            melding.trim_start_matches("/melding/zm/")
        ),
        CHILDREN,
    )
    .await;
    let page = vt.get(&melding).await;
    assert!(
        page.contains("Huiselijk geweld waar kinderen getuige van zijn"),
        "{page}"
    );
    assert!(page.contains("Nog geen triage vastgelegd"), "{page}");
    let csrf = field_value(&page, "csrf");

    // A criterion left unanswered never reaches the hub.
    let (status, page) = vt
        .post(
            &format!("{melding}/triage"),
            &triage_answers(&csrf, Some("addiction")),
        )
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("beantwoord elk criterium"), "{page}");
    // Recorded: the advice with its criterion, in Dutch.
    vt.post_redirect(&format!("{melding}/triage"), &triage_answers(&csrf, None))
        .await;
    let page = vt.get(&melding).await;
    assert!(page.contains("Advies: samen optrekken"), "{page}");
    assert!(
        page.contains("3. er is sprake van huiselijk geweld"),
        "{page}"
    );
    assert!(
        page.contains("volgt het advies (nog geen besluit vastgelegd)"),
        "{page}"
    );
    assert!(page.contains("0 eerdere zorgmelding(en)"), "{page}");
    let triage_id = field_value(&page, "triage_id");
    // In English on request.
    vt.post_redirect("/taal", &form_of(&[("csrf", &csrf), ("lang", "en")]))
        .await;
    let english = vt.get(&melding).await;
    assert!(english.contains("Advice: act jointly"), "{english}");
    assert!(
        english.contains("1. Physical abuse or severe violence"),
        "{english}"
    );
    vt.post_redirect("/taal", &form_of(&[("csrf", &csrf), ("lang", "nl")]))
        .await;

    // Deciding against the advice without a reason: the hub refuses, naming the field in Dutch.
    let decide = |decision: &str, reason: &str| {
        form_of(&[
            ("csrf", &csrf),
            ("triage_id", &triage_id),
            ("decision", decision),
            ("reason", reason),
            ("role", "triagist"),
        ])
    };
    let (status, page) = vt
        .post(&format!("{melding}/besluit"), &decide("wijkteam", ""))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("class=\"problem\""), "{page}");
    assert!(
        page.contains("reden: het besluit wijkt af van het advies: kies een reden uit de lijst"),
        "{page}"
    );
    // With a reason from the list: recorded, against the advice.
    vt.post_redirect(
        &format!("{melding}/besluit"),
        &decide("wijkteam", "eenmalig"),
    )
    .await;
    let page = vt.get(&melding).await;
    assert!(
        page.contains("Besluit: </strong>Het wijkteam pakt het alleen op"),
        "{page}"
    );
    assert!(page.contains("afwijkend van het advies"), "{page}");
    assert!(page.contains("eenmalig incident, geen patroon"), "{page}");
    assert!(!page.contains("Besluit vastleggen"), "decided once: {page}");

    // The handover form: only wijkteams from the sociale kaart, the flow's categories, the
    // zorgmelding's fragments.
    let form_path = format!("{melding}/overdragen");
    let page = vt.get(&form_path).await;
    assert!(page.contains(&wijkteam_oin), "{page}");
    assert!(!page.contains(&kit.oin("school")), "{page}");
    assert!(page.contains("aanwezige kinderen"), "{page}");
    assert!(
        page.contains("VT-2026-0042"),
        "case reference from the triage: {page}"
    );
    // Without the family's consent the hub says no, in Dutch; nothing is handed over.
    let (status, refused) = vt
        .post(
            &form_path,
            &handover_form(&page, &wijkteam_oin, "send", &[]),
        )
        .await;
    assert_eq!(status, 200, "{refused}");
    assert!(
        refused.contains("Het convenant staat dit niet toe"),
        "{refused}"
    );
    assert!(
        refused.contains("ook toestemming van de betrokkene"),
        "{refused}"
    );
    // A BSN that fails the elfproef is refused before the hub is asked.
    let mut bad = handover_form(&page, &wijkteam_oin, "send", &[]);
    bad.retain(|(k, _)| k != "bsn");
    bad.push(("bsn".into(), "111222334".into()));
    let (status, body) = vt.post(&form_path, &bad).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("elfproef"), "{body}");
    // Both parents' consent recorded on the form, then ticked.
    let (status, with_consent) = vt
        .post(
            &form_path,
            &handover_form(
                &page,
                &wijkteam_oin,
                "consent",
                &[
                    ("giver", "ouder-1"),
                    ("giver", "ouder-2"),
                    ("consent_months", "6"),
                    ("consent_evidence", "VT-form-0042"),
                ],
            ),
        )
        .await;
    assert_eq!(status, 200, "{with_consent}");
    assert!(
        !with_consent.contains("class=\"problem\""),
        "{with_consent}"
    );
    let at = with_consent
        .find("Toestemmingen voor dit kind")
        .unwrap_or(0);
    eprintln!(
        "DEBUG {}",
        &with_consent[at..(at + 900).min(with_consent.len())]
    );
    let consent = field_value(&with_consent, "consent");
    assert!(consent.starts_with("c_"), "{consent}");
    // Recorded, said so, and ticked at once.
    assert!(
        with_consent.contains(&format!("Toestemming vastgelegd: <code>{consent}</code>")),
        "{with_consent}"
    );
    assert!(
        with_consent.contains(&format!("value=\"{consent}\" checked")),
        "{with_consent}"
    );
    let (_, location) = vt
        .post_redirect(
            &form_path,
            &handover_form(
                &page,
                &wijkteam_oin,
                "send",
                &[("consent", &consent), ("fragment", "1"), ("fragment", "2")],
            ),
        )
        .await;
    assert!(
        location.starts_with(&format!("/overdracht/{vt_oin}/ho-")),
        "{location}"
    );
    let sent = vt.get(&location).await;
    assert!(
        sent.contains("nog niet opgehaald door het wijkteam"),
        "{sent}"
    );
    assert!(sent.contains("Nee: het wijkteam gaat alleen."), "{sent}");
    assert!(sent.contains("nog geen antwoord"), "{sent}");
    // The family letter: printable, sandboxed, following the decision (the wijkteam will call).
    let r = reqwest::Client::new()
        .get(format!("{}{location}/brief", vt.base))
        .header("cookie", &vt.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("sandbox"), "{csp}");
    let letter = r.text().await.unwrap();
    assert!(letter.contains("Els Bouwman"), "{letter}");
    assert!(!letter.contains(BSN), "{letter}");

    // The wijkteam finds it in its Postvak and opens it: delivered, the parts opened here.
    let handover_path = location.clone();
    let page = w
        .wait_for("/postvak", "Overdrachten van Veilig Thuis")
        .await;
    assert!(page.contains(&handover_path), "{page}");
    let page = w.get(&handover_path).await;
    assert!(page.contains(INCIDENT), "{page}");
    assert!(page.contains(CHILDREN), "{page}");
    assert!(
        page.contains("Handtekening van Veilig Thuis gecontroleerd"),
        "{page}"
    );
    assert!(page.contains("Nee: het wijkteam gaat alleen."), "{page}");
    assert!(page.contains("Rianne van Rooijen"), "{page}");
    let audit = kit.consoles[1].app.store.audit_log(20).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "handover_opened"),
        "{audit:?}"
    );
    let wcsrf = field_value(&page, "csrf");
    let answer = |pairs: &[(&str, &str)]| {
        let mut f = form_of(&[("csrf", &wcsrf)]);
        f.extend(form_of(pairs));
        f
    };
    let answer_path = format!("{handover_path}/antwoord");
    // A return without a reason never reaches the hub.
    let (status, body) = w
        .post(
            &answer_path,
            &answer(&[("answer", "teruggeven"), ("reason", "")]),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("kies een reden uit de lijst"), "{body}");
    // A question, sealed here to Veilig Thuis; Veilig Thuis opens it there.
    w.post_redirect(
        &answer_path,
        &answer(&[("answer", "vraag"), ("question", QUESTION)]),
    )
    .await;
    let sent = vt.get(&handover_path).await;
    assert!(sent.contains("vraag gesteld"), "{sent}");
    let q = vt.get(&format!("{handover_path}/vraag/1")).await;
    assert!(q.contains(QUESTION), "{q}");
    assert!(
        q.contains("Handtekening van het wijkteam gecontroleerd"),
        "{q}"
    );
    let audit = kit.consoles[0].app.store.audit_log(20).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "question_opened"),
        "{audit:?}"
    );
    // The wijkteam takes it on.
    w.post_redirect(
        &answer_path,
        &answer(&[
            ("answer", "overnemen"),
            ("bsn", BSN),
            ("contact", "Els Bouwman, 026-0000002"),
        ]),
    )
    .await;
    let page = w.get(&handover_path).await;
    assert!(page.contains("overgenomen"), "{page}");
    assert!(
        !page.contains("Beantwoorden"),
        "the conversation ended: {page}"
    );
    let list = vt.get("/postvak").await;
    assert!(list.contains("Overdrachten aan het wijkteam"), "{list}");
    assert!(list.contains("overgenomen"), "{list}");

    // The family declines the wijkteam: a new handover of the melding is refused.
    vt.post_redirect(
        &format!("{melding}/gezin-weigert"),
        &form_of(&[
            ("csrf", &csrf),
            ("declined_by", "ouder-1"),
            ("role", "vt_medewerker"),
        ]),
    )
    .await;
    let page = vt.get(&melding).await;
    assert!(
        page.contains("Het gezin wil geen wijkteam (ouder-1"),
        "{page}"
    );
    let page = vt.get(&form_path).await;
    let (_, refused) = vt
        .post(
            &form_path,
            &handover_form(&page, &wijkteam_oin, "send", &[("consent", &consent)]),
        )
        .await;
    assert!(
        refused.contains("het gezin wil geen hulp van het wijkteam (ouder-1"),
        "{refused}"
    );
    assert!(!refused.contains("Brief voor het gezin"), "{refused}");

    // Who may not: Veilig Thuis's FG sees no triage, handover or letter; the wijkteam's FG no
    // handover; a wijkcoach no triage; Veilig Thuis does not answer its own handover.
    let fg = Console::login_as(&kit.consoles[0], "dev-fg-veilig-thuis").await;
    for path in [
        melding.clone(),
        form_path.clone(),
        handover_path.clone(),
        format!("{handover_path}/brief"),
        format!("{handover_path}/vraag/1"),
    ] {
        let (status, body) = fg.get_status(&path).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(
            !body.contains(INCIDENT) && !body.contains(QUESTION),
            "{body}"
        );
    }
    assert!(!fg.get("/postvak").await.contains("Overdrachten"));
    // The FG reads the chain in the gateway's audit log, in Dutch, without a BSN.
    let log = fg.get("/fg/auditlog").await;
    for line in [
        "triagebesluit vastgelegd",
        "overdracht verstuurd",
        "vraag van het wijkteam geopend",
    ] {
        assert!(log.contains(line), "{line}: {log}");
    }
    assert!(!log.contains(BSN), "{log}");
    let wfg = Console::login_as(&kit.consoles[1], "dev-fg-wijkteam").await;
    let (status, body) = wfg.get_status(&handover_path).await;
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains(INCIDENT), "{body}");
    let (status, _) = w.get_status(&melding).await;
    assert_eq!(status, 403);
    let (status, _) = vt
        .post(
            &answer_path,
            &answer(&[("answer", "teruggeven"), ("reason", "dossier")]),
        )
        .await;
    assert_eq!(status, 403);
    // A form with another session's token is refused.
    let (status, _) = vt
        .post(&format!("{melding}/triage"), &triage_answers(&wcsrf, None))
        .await;
    assert_eq!(status, 403);
    // No BSN and no plaintext in either gateway's store.
    for c in &kit.consoles {
        for file in c.store_files() {
            let text =
                String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).into_owned();
            assert!(!text.contains(BSN), "BSN in {}", file.display());
            assert!(
                !text.contains("de kinderen zagen het"),
                "plaintext in {}",
                file.display()
            );
            assert!(!text.contains(QUESTION), "plaintext in {}", file.display());
        }
    }
    kit.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schools_meldcode_signal_is_a_melding_veilig_thuis_triages() {
    let kit = start_kit(&["veilig_thuis"]).await;
    let school_oin = kit.oin("school");
    // The school reports under the meldcode (its own system, through the SDK).
    kit.meldcode_signal("school", "meldcode-1", BSN).await;

    // In the Postvak the signal carries a Triage link; the triage page names the melding.
    let vt = Console::login(&kit.consoles[0]).await;
    let triage = format!("/melding/signaal/{school_oin}/meldcode-1");
    let page = vt.wait_for("/postvak", &triage).await;
    assert!(page.contains("Overdrachten aan het wijkteam"), "{page}");
    let page = vt.get(&triage).await;
    assert!(page.contains(&format!("{school_oin}/meldcode-1")), "{page}");
    let csrf = field_value(&page, "csrf");
    // Nothing met: the wijkteam alone.
    let mut f = triage_answers(&csrf, None);
    for (k, v) in f.iter_mut() {
        if k == "witnessed" {
            *v = "nee".into();
        }
    }
    vt.post_redirect(&format!("{triage}/triage"), &f).await;
    let page = vt.get(&triage).await;
    assert!(page.contains("Advies: het wijkteam alleen"), "{page}");
    // The handover form starts from the melder's categories; a signal has no fragments.
    let page = vt.get(&format!("{triage}/overdragen")).await;
    assert!(
        page.contains("name=\"category\" value=\"zorgen_thuissituatie\" checked"),
        "{page}"
    );
    assert!(!page.contains("name=\"fragment\""), "{page}");
    // A signal that is not here is no melding.
    let (status, _) = vt
        .get_status(&format!("/melding/signaal/{school_oin}/meldcode-2"))
        .await;
    assert_eq!(status, 404);
    let (status, _) = vt.get_status("/melding/zm/zm_onbekend").await;
    assert_eq!(status, 404);
    kit.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn veilig_thuis_tells_the_school_what_it_does_and_only_the_school_reads_it() {
    let kit = start_kit(&["veilig_thuis", "school", "huisarts"]).await;
    let school_oin = kit.oin("school");
    const NOTE: &str = "Dank voor uw melding; wij nemen contact op met het gezin.";
    // The school and the GP each report under the meldcode, with the same signal id.
    kit.meldcode_signal("school", "meldcode-1", BSN).await;
    kit.meldcode_signal("huisarts", "meldcode-1", BSN).await;
    let vt = Console::login(&kit.consoles[0]).await;
    let melding = format!("/melding/signaal/{school_oin}/meldcode-1");
    vt.wait_for("/postvak", &melding).await;
    let page = vt.get(&melding).await;
    assert!(page.contains("Terugkoppeling aan de melder"), "{page}");
    assert!(
        page.contains("Nog geen terugkoppeling verstuurd."),
        "{page}"
    );
    let csrf = field_value(&page, "csrf");
    let feedback_id = field_value(&page, "feedback_id");
    assert!(feedback_id.starts_with("fb-"), "{feedback_id}");
    let form = |outcome: &str, case: &str, note: &str, id: &str| {
        form_of(&[
            ("csrf", &csrf),
            ("feedback_id", id),
            ("outcome", outcome),
            ("case_reference", case),
            ("informed", "ja"),
            ("note", note),
        ])
    };
    let path = format!("{melding}/terugkoppeling");

    // Refused by the gateway: no case reference, an unknown outcome; the note is kept.
    let (status, page) = vt
        .post(&path, &form("RECEIVED", "", NOTE, &feedback_id))
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Dossiernummer: vul het nummer"), "{page}");
    assert!(page.contains(NOTE), "the form keeps the note: {page}");
    let (status, page) = vt
        .post(&path, &form("GESLOTEN", "VT-2026-0077", "", &feedback_id))
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Uitkomst: kies"), "{page}");
    // Refused by the hub, in Dutch: there is no handover of this melding yet.
    let (status, page) = vt
        .post(
            &path,
            &form("HANDED_OVER_TO_WIJKTEAM", "VT-2026-0077", "", &feedback_id),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("de melding is niet overgedragen"),
        "the hub's refusal in Dutch: {page}"
    );
    assert!(
        page.contains("Nog geen terugkoppeling verstuurd."),
        "{page}"
    );

    // Received, with a note sealed here to the school; then no further action, without a note.
    // (The hub orders feedback sent within one second by id, so the ids here follow the order.)
    vt.post_redirect(
        &path,
        &form("RECEIVED", "VT-2026-0077", NOTE, "fb-1-ontvangen"),
    )
    .await;
    let page = vt.get(&melding).await;
    assert!(
        page.contains("Ontvangen: Veilig Thuis beoordeelt de melding"),
        "{page}"
    );
    assert!(page.contains("ja (versleuteld voor de melder)"), "{page}");
    assert!(
        !page.contains(NOTE),
        "Veilig Thuis cannot read the note back: {page}"
    );
    assert_ne!(
        field_value(&page, "feedback_id"),
        feedback_id,
        "a fresh id for the next feedback"
    );
    // A retry of the same feedback is the same feedback.
    vt.post_redirect(
        &path,
        &form("RECEIVED", "VT-2026-0077", NOTE, "fb-1-ontvangen"),
    )
    .await;
    let page = vt.get(&melding).await;
    assert_eq!(
        page.matches("Ontvangen: Veilig Thuis beoordeelt de melding")
            .count(),
        2,
        "the form's option and one row: {page}"
    );
    vt.post_redirect(
        &path,
        &form("NO_FURTHER_ACTION", "VT-2026-0077", "", "fb-2-gesloten"),
    )
    .await;
    assert!(vt.get(&melding).await.contains("Geen verdere actie"));
    // The family not told: only with a reason from the convenant's list.
    let mut not_told = form("ADVICE_GIVEN", "VT-2026-0077", "", "fb-3-advies");
    not_told.retain(|(k, _)| k != "informed");
    let (status, page) = vt.post(&path, &not_told).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Gezin: geef aan of het gezin"), "{page}");
    not_told.push(("informed".into(), "nee".into()));
    let (status, page) = vt.post(&path, &not_told).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("kies waarom niet uit de lijst"), "{page}");
    not_told.push(("not_informed_reason".into(), "veiligheid_kind".into()));
    vt.post_redirect(&path, &not_told).await;
    // In English on request.
    vt.post_redirect("/taal", &form_of(&[("csrf", &csrf), ("lang", "en")]))
        .await;
    let page = vt.get(&melding).await;
    assert!(page.contains("Feedback to the melder"), "{page}");
    assert!(
        page.contains("Advice given; Veilig Thuis closes the melding"),
        "{page}"
    );

    // Veilig Thuis's FG may not send feedback or see the form.
    let fg = Console::login_as(&kit.consoles[0], "dev-fg-veilig-thuis").await;
    let (status, page) = fg.get_status(&melding).await;
    assert_eq!(status, 403, "{page}");
    let fg_csrf = field_value(&fg.get("/").await, "csrf");
    let mut f = form("ADVICE_GIVEN", "VT-2026-0077", "", "fb-fg-1");
    f[0].1 = fg_csrf;
    let (status, page) = fg.post(&path, &f).await;
    assert_eq!(status, 403, "{page}");

    // The school reads both on its signal's status page, oldest first, the note opened here.
    let school = Console::login(&kit.consoles[1]).await;
    // While the school's audit log cannot be written, no note is opened.
    use sqlx::ConnectOptions;
    let mut db = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&kit.consoles[1].store_files()[0])
        .connect()
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER audit_down BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'down'); END",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let (status, page) = school.get_status("/signalen/meldcode-1").await;
    assert_eq!(status, 503, "{page}");
    assert!(!page.contains(NOTE), "{page}");
    sqlx::query("DROP TRIGGER audit_down")
        .execute(&mut db)
        .await
        .unwrap();
    let page = school.get("/signalen/meldcode-1").await;
    assert!(page.contains("Terugkoppeling van Veilig Thuis"), "{page}");
    let received = page
        .find("Veilig Thuis heeft de melding ontvangen en beoordeelt die")
        .unwrap_or_else(|| panic!("{page}"));
    let closed = page
        .find("Veilig Thuis onderneemt geen verdere actie")
        .unwrap_or_else(|| panic!("{page}"));
    assert!(received < closed, "newest last");
    assert!(page.contains("Veilig Thuis heeft advies gegeven"), "{page}");
    assert!(page.contains(NOTE), "{page}");
    // Its opening is in the school's audit log.
    let school_fg = Console::login_as(&kit.consoles[1], "dev-fg-school").await;
    let log = school_fg.get("/fg/auditlog").await;
    assert!(
        log.contains("terugkoppeling van Veilig Thuis geopend"),
        "{log}"
    );
    assert!(log.contains("fb-1-ontvangen"), "{log}");

    // The GP's own meldcode-1 had no feedback: its page shows none, and not the school's note.
    let gp = Console::login(&kit.consoles[2]).await;
    let page = gp.get("/signalen/meldcode-1").await;
    assert!(!page.contains("Terugkoppeling van Veilig Thuis"), "{page}");
    assert!(!page.contains(NOTE), "{page}");
    kit.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_police_read_veilig_thuis_feedback_on_their_zorgmelding() {
    use signaalhub_client::signaalhub_proto::pb;
    const REG: &str = "2026-OOST-000555";
    const NOTE: &str = "Wij zijn met het gezin in gesprek; dank voor de snelle melding.";
    let kit = start_kit(&["veilig_thuis", "politie"]).await;
    kit.police_zorgmelding(
        REG,
        BSN,
        &[(
            "frag-incident",
            pb::FragmentKind::Incident,
            "incidentgegevens",
            "Ruzie thuis; de kinderen sliepen boven.",
        )],
    )
    .await;

    // Veilig Thuis tells the police it received the melding, with a note sealed to the police.
    let vt = Console::login(&kit.consoles[0]).await;
    let page = vt.wait_for("/postvak", REG).await;
    let melding = link_after(&page, "/melding/zm/");
    let zm = melding.trim_start_matches("/melding/zm/").to_owned();
    let page = vt.get(&melding).await;
    let csrf = field_value(&page, "csrf");
    vt.post_redirect(
        &format!("{melding}/terugkoppeling"),
        &form_of(&[
            ("csrf", &csrf),
            ("feedback_id", "fb-politie-1"),
            ("outcome", "RECEIVED"),
            ("case_reference", "VT-2026-0101"),
            ("informed", "ja"),
            ("note", NOTE),
        ]),
    )
    .await;
    // Veilig Thuis's employee has no police role: no such screen for them.
    let (status, page) = vt.get_status("/zorgmeldingen").await;
    assert_eq!(status, 403, "{page}");
    assert!(!page.contains("name=\"registratienummer\""), "{page}");
    let (status, page) = vt.get_status(&format!("/zorgmeldingen/{zm}")).await;
    assert_eq!(status, 403, "{page}");

    // The wijkagent finds it under Zorgmeldingen by the registration number.
    let police = Console::login(&kit.consoles[1]).await;
    let home = police.get("/").await;
    assert!(home.contains("href=\"/zorgmeldingen\""), "{home}");
    let page = police.get("/zorgmeldingen").await;
    assert!(page.contains("Terugkoppeling op zorgmeldingen"), "{page}");
    let csrf = field_value(&page, "csrf");
    let lookup = |reg: &str| form_of(&[("csrf", &csrf), ("registratienummer", reg)]);
    // Not a registration number, or none of ours: said in Dutch, nothing else shown.
    let (status, page) = police
        .post("/zorgmeldingen", &lookup("2026 OOST <b>"))
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("Registratienummer: 1 tot 64 tekens"),
        "{page}"
    );
    let (status, page) = police
        .post("/zorgmeldingen", &lookup("2026-OOST-999999"))
        .await;
    assert_eq!(status, 404, "{page}");
    assert!(
        page.contains("geen zorgmelding met dit registratienummer"),
        "{page}"
    );
    // A wrong CSRF token is refused.
    let (status, _) = police
        .post(
            "/zorgmeldingen",
            &form_of(&[("csrf", "nope"), ("registratienummer", REG)]),
        )
        .await;
    assert_eq!(status, 403);
    let (_, location) = police.post_redirect("/zorgmeldingen", &lookup(REG)).await;
    assert_eq!(location, format!("/zorgmeldingen/{zm}"));

    // While the police's audit log cannot be written, the note is not opened.
    use sqlx::ConnectOptions;
    let mut db = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&kit.consoles[1].store_files()[0])
        .connect()
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER audit_down BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'down'); END",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let (status, page) = police.get_status(&location).await;
    assert_eq!(status, 503, "{page}");
    assert!(!page.contains(NOTE), "{page}");
    sqlx::query("DROP TRIGGER audit_down")
        .execute(&mut db)
        .await
        .unwrap();

    let page = police.get(&location).await;
    assert!(page.contains(REG), "{page}");
    assert!(page.contains("Veilig Thuis Gelderland-Midden"), "{page}");
    assert!(page.contains("Terugkoppeling van Veilig Thuis"), "{page}");
    assert!(
        page.contains("Veilig Thuis heeft de melding ontvangen en beoordeelt die"),
        "{page}"
    );
    assert!(page.contains(NOTE), "the note opened here: {page}");
    let audit = kit.consoles[1].app.store.audit_log(20).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "feedback_opened"
            && e.professional == "dev-politie"
            && e.object.contains("fb-politie-1")),
        "{audit:?}"
    );
    // An id that is not a zorgmelding of ours: not found, nothing of the other.
    let (status, page) = police.get_status("/zorgmeldingen/zm_onbekend").await;
    assert_eq!(status, 404, "{page}");
    let (status, _) = police.get_status("/zorgmeldingen/..%2Fpostvak").await;
    assert_eq!(status, 404);

    // The police's FG has no police role: refused, the note not shown.
    let fg = Console::login_as(&kit.consoles[1], "dev-fg-politie").await;
    assert!(!fg.get("/").await.contains("href=\"/zorgmeldingen\""));
    let (status, page) = fg.get_status(&location).await;
    assert_eq!(status, 403, "{page}");
    assert!(!page.contains(NOTE), "{page}");
    kit.stop().await;
}

/// The wijkteam and the GI share a case (both parents' consent, both involved): returns the
/// consoles' sessions, the consent's id and the case's path.
async fn shared_case(kit: &common::Kit) -> (Console, Console, String, String) {
    use signaalhub_client::signaalhub_proto::pb;
    let w = Console::login(&kit.consoles[0]).await;
    let gi = Console::login(&kit.consoles[1]).await;
    let both = [pb::Sector::Wijkteam, pb::Sector::Jeugdbescherming];
    let consent = kit
        .parents_consent(
            BSN,
            &both,
            &both,
            &["betrokkenheid", "veiligheidsafspraken"],
        )
        .await;
    let involve = |csrf: String, contact: &str| {
        form_of(&[
            ("csrf", &csrf),
            ("bsn", BSN),
            ("contact", contact),
            ("consent", &consent),
            ("action", "involvement"),
        ])
    };
    let csrf_w = field_value(&w.get("/maatregel").await, "csrf");
    w.post("/maatregel", &involve(csrf_w, "G. K., wijkcoach"))
        .await;
    let csrf_gi = field_value(&gi.get("/maatregel").await, "csrf");
    let (_, page) = gi
        .post(
            "/maatregel",
            &involve(csrf_gi, "Jeugdbeschermer, 026-1234567"),
        )
        .await;
    assert!(page.contains("U deelt een zaak"), "{page}");
    let case = link_after(&page, "/zaak/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    (w, gi, consent, case)
}

/// The wijkteam publishes a version of the case's safety plan (one agreement, for the GI).
async fn publish_plan(
    w: &Console,
    case: &str,
    consent: &str,
    gi_oin: &str,
    title: &str,
    what: &str,
) {
    let csrf = field_value(&w.get(case).await, "csrf");
    w.post_redirect(
        &format!("{case}/plan"),
        &form_of(&[
            ("csrf", &csrf),
            ("title", title),
            ("who1", "De jeugdbeschermer"),
            ("what1", what),
            ("party1", gi_oin),
            ("consents", consent),
        ]),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gi_reads_its_notifications_newest_first() {
    let kit = start_kit(&["wijkteam", "jeugdbescherming"]).await;
    let (w, gi, consent, case) = shared_case(&kit).await;
    let gi_oin = kit.oin("jeugdbescherming");
    let plan = |title, what| publish_plan(&w, &case, &consent, &gi_oin, title, what);
    plan("Plan van maart", "belt moeder elke twee weken").await;
    plan("Plan van april", "belt moeder elke week").await;

    // Berichten: the GI's notifications, newest first, in Dutch, linked to the case.
    let page = gi.get("/").await;
    assert!(page.contains("href=\"/berichten\""), "{page}");
    let page = gi.get("/berichten").await;
    assert!(
        page.contains("Nieuwe versie van het veiligheidsplan"),
        "{page}"
    );
    assert!(page.contains("Nieuwe betrokkene bij een kind"), "{page}");
    assert!(page.contains(&format!("href=\"{case}\"")), "{page}");
    let v2 = page
        .find("veiligheidsplan versie 2")
        .unwrap_or_else(|| panic!("{page}"));
    let v1 = page
        .find("veiligheidsplan versie 1")
        .unwrap_or_else(|| panic!("{page}"));
    assert!(v2 < v1, "newest first");
    assert!(page.contains("Wijkteam Arnhem-Oost"), "who acted: {page}");
    // The wijkteam's own plans are no news to it: its page has the match, not the plans.
    let page = w.get("/berichten").await;
    assert!(page.contains("Nieuwe betrokkene bij een kind"), "{page}");
    assert!(
        !page.contains("Nieuwe versie van het veiligheidsplan"),
        "{page}"
    );
    // Paging by cursor: nothing before the first; a bad cursor said in Dutch.
    let page = gi.get("/berichten?voor=1").await;
    assert!(page.contains("Geen berichten."), "{page}");
    let (status, page) = gi.get_status("/berichten?voor=tien").await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("moet een volgnummer zijn"), "{page}");
    let audit = kit.consoles[1].app.store.audit_log(50).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "notifications_viewed" && e.professional == "dev-jeugdbescherming"),
        "{audit:?}"
    );
    // In English on request (the hub's sentence stays Dutch).
    let csrf = field_value(&gi.get("/berichten").await, "csrf");
    gi.post_redirect("/taal", &form_of(&[("csrf", &csrf), ("lang", "en")]))
        .await;
    let page = gi.get("/berichten").await;
    assert!(page.contains("New version of the safety plan"), "{page}");
    // The GI's privacy officer works on no cases: no notifications, no link to them.
    let gi_fg = Console::login_as(&kit.consoles[1], "dev-fg-jeugdbescherming").await;
    let (status, page) = gi_fg.get_status("/berichten").await;
    assert_eq!(status, 403, "{page}");
    assert!(!page.contains("Wijkteam Arnhem-Oost"), "{page}");
    assert!(!gi_fg.get("/").await.contains("href=\"/berichten\""));
    // While the audit log cannot be written, nothing is shown.
    use sqlx::ConnectOptions;
    let mut db = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&kit.consoles[1].store_files()[0])
        .connect()
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER audit_down BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'down'); END",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let (status, page) = gi.get_status("/berichten").await;
    assert_eq!(status, 503, "{page}");
    assert!(!page.contains("Wijkteam Arnhem-Oost"), "{page}");
    kit.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earlier_plan_versions_and_ending_an_involvement() {
    let kit = start_kit(&["wijkteam", "jeugdbescherming"]).await;
    let (w, gi, consent, case) = shared_case(&kit).await;
    let gi_oin = kit.oin("jeugdbescherming");
    let csrf_w = field_value(&w.get(&case).await, "csrf");
    let csrf_gi = field_value(&gi.get(&case).await, "csrf");
    let plan = |title, what| publish_plan(&w, &case, &consent, &gi_oin, title, what);
    // Two versions of the safety plan.
    plan("Plan van maart", "belt moeder elke twee weken").await;
    assert!(!w.get(&case).await.contains("Eerdere versies"));
    plan("Plan van april", "belt moeder elke week").await;

    // The GI sees the latest, and version 1 behind a link, opened here and logged.
    let page = gi.get(&case).await;
    assert!(page.contains("belt moeder elke week"), "{page}");
    assert!(!page.contains("Plan van maart"), "{page}");
    assert!(page.contains("Eerdere versies"), "{page}");
    let v1 = link_after(&page, &format!("{case}/plan/1\""));
    assert_eq!(v1, format!("{case}/plan/1"));
    let page = gi.get(&v1).await;
    assert!(page.contains("Plan van maart"), "{page}");
    assert!(page.contains("belt moeder elke twee weken"), "{page}");
    assert!(page.contains("Dit is een eerdere versie"), "{page}");
    assert!(
        page.contains("Handtekening van de opsteller gecontroleerd"),
        "{page}"
    );
    assert!(
        !page.contains("Onze afspraken bevestigen"),
        "read only: {page}"
    );
    let audit = kit.consoles[1].app.store.audit_log(50).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "plan_opened" && e.object.ends_with(".v1")),
        "{audit:?}"
    );
    // A version that does not exist, or is no number: not found, in Dutch.
    for bad in ["3", "0", "abc", "99999999999"] {
        let (status, page) = gi.get_status(&format!("{case}/plan/{bad}")).await;
        assert_eq!(status, 404, "{bad}: {page}");
        assert!(!page.contains("belt moeder"), "{page}");
    }
    // The GI's privacy officer works on no cases: no earlier versions either.
    let gi_fg = Console::login_as(&kit.consoles[1], "dev-fg-jeugdbescherming").await;
    let (status, page) = gi_fg.get_status(&v1).await;
    assert_eq!(status, 403, "{page}");
    assert!(!page.contains("Plan van maart"), "{page}");

    // Ending an involvement: only one's own. The GI cannot end the wijkteam's.
    let page = w.get(&case).await;
    assert!(page.contains("Onze betrokkenheid beëindigen"), "{page}");
    let end = link_after(&page, &format!("{case}/betrokkenheid/"));
    assert!(end.ends_with("/beeindigen"), "{end}");
    let (status, page) = gi.post(&end, &form_of(&[("csrf", &csrf_gi)])).await;
    assert_ne!(status, 200, "{page}");
    assert!(!page.contains("Betrokkenheid beëindigd"), "{page}");
    assert!(gi.get(&case).await.contains("G. K., wijkcoach"));
    // A wrong CSRF token, or the FG, ends nothing.
    let (status, _) = w.post(&end, &form_of(&[("csrf", "nope")])).await;
    assert_eq!(status, 403);
    let w_fg = Console::login_as(&kit.consoles[0], "dev-fg-wijkteam").await;
    let fg_csrf = field_value(&w_fg.get("/").await, "csrf");
    let (status, _) = w_fg.post(&end, &form_of(&[("csrf", &fg_csrf)])).await;
    assert_eq!(status, 403);
    assert!(gi.get(&case).await.contains("G. K., wijkcoach"));
    // The wijkteam ends its own: the case is no longer its to see; the GI is told.
    let (status, page) = w.post(&end, &form_of(&[("csrf", &csrf_w)])).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Betrokkenheid beëindigd"), "{page}");
    assert!(page.contains("niet meer betrokken bij dit kind"), "{page}");
    let (status, _) = w.get_status(&case).await;
    assert_eq!(status, 404);
    let page = gi.get(&case).await;
    assert!(!page.contains("G. K., wijkcoach"), "{page}");
    let page = gi.get("/berichten").await;
    assert!(page.contains("Betrokkenheid beëindigd"), "{page}");
    let audit = kit.consoles[0].app.store.audit_log(50).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "involvement_ended" && e.professional == "dev-wijkteam"),
        "{audit:?}"
    );
    kit.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn veilig_thuis_lists_its_meldingen_by_stage_and_the_school_has_no_such_list() {
    use signaalhub_client::signaalhub_proto::pb;
    const REG: &str = "2026-OOST-000777";
    let kit = start_kit(&["veilig_thuis", "school"]).await;
    let school_oin = kit.oin("school");
    kit.police_zorgmelding(
        REG,
        BSN,
        &[(
            "frag-incident",
            pb::FragmentKind::Incident,
            "incidentgegevens",
            "Ruzie op straat; kinderen aanwezig.",
        )],
    )
    .await;
    kit.meldcode_signal("school", "meldcode-7", BSN).await;
    let vt = Console::login(&kit.consoles[0]).await;
    let melding = format!("/melding/signaal/{school_oin}/meldcode-7");
    // The school's signal reaches Veilig Thuis through the gateway's inbox; then both are listed.
    vt.wait_for("/postvak", &melding).await;
    let page = vt.get("/meldingen").await;
    assert!(page.contains("href=\"/meldingen\""), "in the menu: {page}");
    assert!(page.contains(&format!("href=\"{melding}\"")), "{page}");
    assert!(page.contains("href=\"/melding/zm/zm_"), "{page}");
    assert!(page.contains("Zorgmelding politie"), "{page}");
    assert!(page.contains("Meldcode-signaal"), "{page}");
    assert_eq!(
        page.matches("In triage: Veilig Thuis beoordeelt de veiligheid")
            .count(),
        1 + 2,
        "the filter's option and both meldingen: {page}"
    );
    assert!(page.contains("nog niet getrieerd"), "{page}");
    assert!(page.contains("geen gepland"), "{page}");

    // A stage with a review date on the melding's page: the list shows both, the melding first.
    let csrf = field_value(&vt.get(&melding).await, "csrf");
    let review = date_in(14);
    vt.post_redirect(
        &format!("{melding}/fase"),
        &form_of(&[
            ("csrf", &csrf),
            ("stage", "ONDERZOEK"),
            ("review_date", &review),
        ]),
    )
    .await;
    let page = vt.get("/meldingen").await;
    let first_row = page.split("<tbody>").nth(1).unwrap();
    let first_row = first_row.split("</tr>").next().unwrap();
    assert!(first_row.contains(&melding), "the review first: {page}");
    assert!(
        first_row.contains("Onderzoek door Veilig Thuis zelf"),
        "{page}"
    );
    assert!(first_row.contains("gepland"), "{page}");
    let at = signaalhub_gateway::information::review_date(&review).unwrap();
    assert!(
        first_row.contains(&signaalhub_gateway::web::i18n::when(
            signaalhub_gateway::web::i18n::Lang::Nl,
            at
        )),
        "the review date {review}: {first_row}"
    );
    // The filter: one stage at a time.
    let page = vt.get("/meldingen?fase=ONDERZOEK").await;
    assert!(page.contains(&melding), "{page}");
    assert!(!page.contains("/melding/zm/"), "{page}");
    let page = vt.get("/meldingen?fase=TRIAGE").await;
    assert!(!page.contains(&format!("href=\"{melding}\"")), "{page}");
    assert!(page.contains("/melding/zm/"), "{page}");
    let (status, page) = vt.get_status("/meldingen?fase=GEEN").await;
    assert_eq!(status, 400, "{page}");
    // A page token the hub never gave: its refusal, nothing listed.
    let (status, page) = vt.get_status("/meldingen?pagina=xyz").await;
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains(&melding), "{page}");

    // The school has no such list: no menu item, the address refused; so is Veilig Thuis's FG.
    let school = Console::login(&kit.consoles[1]).await;
    let home = school.get("/").await;
    assert!(!home.contains("href=\"/meldingen\""), "{home}");
    let (status, page) = school.get_status("/meldingen").await;
    assert_eq!(status, 403, "{page}");
    let fg = Console::login_as(&kit.consoles[0], "dev-fg-veilig-thuis").await;
    let (status, page) = fg.get_status("/meldingen").await;
    assert_eq!(status, 403, "{page}");
    kit.stop().await;
}

/// `days` from today as a date input sends it (`2027-03-01`).
fn date_in(days: i64) -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn veilig_thuis_follows_a_melding_asks_the_gp_and_the_school_declines() {
    const QUESTION: &str = "Is Jayden (9) bij u bekend? Zag u letsel?";
    const ANSWER: &str = "Jayden was in oktober op het spreekuur met een blauwe plek op de arm.";
    let kit = start_kit(&["veilig_thuis", "huisarts", "school"]).await;
    let (vt_oin, gp_oin, school_oin) = (
        kit.oin("veilig_thuis"),
        kit.oin("huisarts"),
        kit.oin("school"),
    );
    kit.meldcode_signal("school", "meldcode-1", BSN).await;
    let vt = Console::login(&kit.consoles[0]).await;
    let melding = format!("/melding/signaal/{school_oin}/meldcode-1");
    vt.wait_for("/postvak", &melding).await;
    let page = vt.get(&melding).await;
    assert!(
        page.contains("In triage: Veilig Thuis beoordeelt de veiligheid"),
        "{page}"
    );
    assert!(page.contains("Nog geen fase vastgelegd"), "{page}");
    assert!(page.contains("Nog geen informatie gevraagd"), "{page}");
    // The organisations Veilig Thuis may ask, from the sociale kaart: the GP and the school.
    assert!(page.contains(&format!("value=\"{gp_oin}\"")), "{page}");
    assert!(page.contains(&format!("value=\"{school_oin}\"")), "{page}");
    assert!(
        !page.contains(&format!("<option value=\"{vt_oin}\"")),
        "{page}"
    );
    // The categories of the convenant's answer flow, not the question's own.
    assert!(page.contains("value=\"gezondheid\""), "{page}");
    assert!(!page.contains("value=\"informatievraag\""), "{page}");
    let csrf = field_value(&page, "csrf");
    let fase = format!("{melding}/fase");
    let stage = |stage: &str, date: &str| {
        form_of(&[("csrf", &csrf), ("stage", stage), ("review_date", date)])
    };

    // Refused by the gateway: no stage, a date that is no date.
    let (status, page) = vt.post(&fase, &stage("", "")).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Fase: kies de volgende fase."), "{page}");
    let (status, page) = vt.post(&fase, &stage("ONDERZOEK", "31-12-2027")).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Herbeoordeling: een datum"), "{page}");
    // Refused by the hub, in Dutch: monitoring without its review, a review in the past.
    let (status, page) = vt.post(&fase, &stage("MONITORING", "")).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(
            "herbeoordeling: monitoring vraagt om de datum van de volgende herbeoordeling"
        ),
        "{page}"
    );
    let (_, page) = vt.post(&fase, &stage("ONDERZOEK", &date_in(-3))).await;
    assert!(
        page.contains("een datum na vandaag en binnen twee jaar"),
        "{page}"
    );
    assert!(
        page.contains("Nog geen fase vastgelegd"),
        "nothing recorded: {page}"
    );
    // Onderzoek with a review in two weeks, then monitoring: the first review is superseded.
    vt.post_redirect(&fase, &stage("ONDERZOEK", &date_in(14)))
        .await;
    let page = vt.get(&melding).await;
    assert!(
        page.contains("Nu: Onderzoek door Veilig Thuis zelf"),
        "{page}"
    );
    assert!(page.contains(">gepland<"), "{page}");
    assert!(
        page.contains("in beoordeling: Veilig Thuis kan informatie vragen"),
        "{page}"
    );

    // Ask the GP; the gateway refuses what the hub would not take.
    let request_id = field_value(&page, "request_id");
    assert!(request_id.starts_with("iv-"), "{request_id}");
    let informatie = format!("{melding}/informatie");
    let ask = |to: &str, cats: &[&str], case: &str, question: &str, id: &str| {
        let mut f = form_of(&[
            ("csrf", &csrf),
            ("request_id", id),
            ("recipient", to),
            ("case_reference", case),
            ("question", question),
            ("iv_informed", "ja"),
        ]);
        for c in cats {
            f.push(("category".into(), (*c).into()));
        }
        f
    };
    let (status, page) = vt
        .post(
            &informatie,
            &ask(&gp_oin, &[], "VT-2026-0077", QUESTION, &request_id),
        )
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Gegevens: kies 1 tot 8"), "{page}");
    assert!(
        page.contains(QUESTION),
        "the form keeps the question: {page}"
    );
    let (status, page) = vt
        .post(
            &informatie,
            &ask(&gp_oin, &["informatievraag"], "111222333", "", &request_id),
        )
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Dossiernummer: vul het nummer"), "{page}");
    assert!(page.contains("Tekst: vul de vraag"), "{page}");
    vt.post_redirect(
        &informatie,
        &ask(
            &gp_oin,
            &["gezondheid", "zorgen_thuissituatie"],
            "VT-2026-0077",
            QUESTION,
            &request_id,
        ),
    )
    .await;
    // A retry is the same request; the school is asked too.
    vt.post_redirect(
        &informatie,
        &ask(
            &gp_oin,
            &["gezondheid", "zorgen_thuissituatie"],
            "VT-2026-0077",
            QUESTION,
            &request_id,
        ),
    )
    .await;
    vt.post_redirect(
        &informatie,
        &ask(
            &school_oin,
            &["zorgen_thuissituatie"],
            "VT-2026-0077",
            "Hoe gaat het op school?",
            "iv-school-1",
        ),
    )
    .await;
    let page = vt.get(&melding).await;
    assert!(page.contains("Huisartsenpraktijk Het Kompas"), "{page}");
    assert_eq!(
        page.matches("open: nog niet beantwoord").count(),
        2,
        "two requests, the retry not again: {page}"
    );

    // The GP: the menu, the list (no melding, no question), the request opened here.
    let gp = Console::login(&kit.consoles[1]).await;
    let list = gp.get("/informatieverzoeken").await;
    assert!(
        list.contains("href=\"/informatieverzoeken\""),
        "the menu: {list}"
    );
    assert!(list.contains("Veilig Thuis Gelderland-Midden"), "{list}");
    assert!(list.contains("VT-2026-0077"), "{list}");
    assert!(!list.contains(QUESTION), "still sealed in the list: {list}");
    assert!(
        !list.contains(&school_oin) && !list.contains("meldcode-1"),
        "never the melding: {list}"
    );
    let request = format!("/informatieverzoeken/{vt_oin}/{request_id}");
    let page = gp.get(&request).await;
    assert!(page.contains(QUESTION), "{page}");
    assert!(
        page.contains("Handtekening van Veilig Thuis geverifieerd"),
        "{page}"
    );
    assert!(!page.contains("meldcode-1"), "{page}");
    // Only what Veilig Thuis asked for is offered; the case reference comes from the request.
    assert!(page.contains("value=\"gezondheid\""), "{page}");
    assert!(!page.contains("value=\"betalingsachterstand\""), "{page}");
    assert_eq!(field_value(&page, "case_reference"), "VT-2026-0077");
    let gp_csrf = field_value(&page, "csrf");
    let answer = |cats: &[&str], text: &str| {
        let mut f = form_of(&[
            ("csrf", &gp_csrf),
            ("action", "answer"),
            ("case_reference", "VT-2026-0077"),
            ("answer", text),
        ]);
        for c in cats {
            f.push(("category".into(), (*c).into()));
        }
        f
    };
    let (status, page) = gp
        .post(&request, &answer(&["betalingsachterstand"], ANSWER))
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("alleen waar Veilig Thuis om vroeg"), "{page}");
    assert!(page.contains(ANSWER), "the form keeps the answer: {page}");
    let (status, page) = gp
        .post(
            &request,
            &form_of(&[("csrf", &gp_csrf), ("action", "decline")]),
        )
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("kies een reden uit de lijst"), "{page}");
    gp.post_redirect(&request, &answer(&["gezondheid"], ANSWER))
        .await;
    let page = gp.get(&request).await;
    assert!(page.contains("beantwoord"), "{page}");
    assert!(
        !page.contains("Antwoord versturen"),
        "answered once: {page}"
    );
    // Another organisation, the GP's FG, Veilig Thuis itself: not theirs.
    let school = Console::login(&kit.consoles[2]).await;
    let (status, page) = school.get_status(&request).await;
    assert_eq!(status, 404, "{page}");
    let gp_fg = Console::login_as(&kit.consoles[1], "dev-fg-huisarts").await;
    let (status, page) = gp_fg.get_status("/informatieverzoeken").await;
    assert_eq!(status, 403, "{page}");
    assert!(
        !gp_fg
            .get("/")
            .await
            .contains("href=\"/informatieverzoeken\"")
    );
    let (status, _) = gp_fg.get_status(&request).await;
    assert_eq!(status, 403);
    let fg_csrf = field_value(&gp_fg.get("/").await, "csrf");
    let mut f = answer(&["gezondheid"], "x");
    f[0].1 = fg_csrf;
    let (status, _) = gp_fg.post(&request, &f).await;
    assert_eq!(status, 403);
    let (status, _) = vt.get_status("/informatieverzoeken").await;
    assert_eq!(status, 403, "Veilig Thuis answers no information requests");
    // The GP's FG sees the opening in the audit log.
    let log = gp_fg.get("/fg/auditlog").await;
    assert!(log.contains("vraag van Veilig Thuis geopend"), "{log}");
    assert!(log.contains("vraag van Veilig Thuis beantwoord"), "{log}");
    assert!(!log.contains(ANSWER) && !log.contains(QUESTION), "{log}");

    // The school declines on professional grounds... after Veilig Thuis handed the melding over,
    // the request has lapsed: the hub refuses, in Dutch.
    let school_request = format!("/informatieverzoeken/{vt_oin}/iv-school-1");
    let page = school.get(&school_request).await;
    assert!(page.contains("Hoe gaat het op school?"), "{page}");
    let school_csrf = field_value(&page, "csrf");
    let decline = form_of(&[
        ("csrf", &school_csrf),
        ("action", "decline"),
        ("decline_reason", "PROFESSIONAL_SECRECY"),
    ]);
    vt.post_redirect(&fase, &stage("OVERDRACHT", "")).await;
    let (status, page) = school.post(&school_request, &decline).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("het verzoek is vervallen"),
        "the hub's refusal in Dutch: {page}"
    );
    // Veilig Thuis cannot ask while it is handed over; monitoring again, the school declines.
    let page = vt.get(&melding).await;
    assert!(
        page.contains("niet in beoordeling: Veilig Thuis kan nu geen informatie vragen"),
        "{page}"
    );
    assert!(
        page.contains("vervallen: een latere fase verving haar"),
        "{page}"
    );
    let (status, page) = vt
        .post(
            &informatie,
            &ask(
                &gp_oin,
                &["gezondheid"],
                "VT-2026-0077",
                "Nog iets?",
                "iv-te-laat",
            ),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("de melding is niet in beoordeling (overgedragen of afgesloten)"),
        "the hub's refusal in Dutch: {page}"
    );
    vt.post_redirect(&fase, &stage("MONITORING", &date_in(90)))
        .await;
    school.post_redirect(&school_request, &decline).await;

    // Veilig Thuis reads the GP's answer here, and the school's reason.
    let page = vt.get(&melding).await;
    assert!(page.contains(ANSWER), "{page}");
    assert!(
        page.contains("het beroepsgeheim weegt hier zwaarder"),
        "{page}"
    );
    assert!(page.contains("Monitoring: Veilig Thuis volgt"), "{page}");
    let vt_fg = Console::login_as(&kit.consoles[0], "dev-fg-veilig-thuis").await;
    let log = vt_fg.get("/fg/auditlog").await;
    assert!(
        log.contains("antwoord op een informatieverzoek geopend"),
        "{log}"
    );
    assert!(log.contains("fase van een melding vastgelegd"), "{log}");
    let (status, _) = vt_fg.get_status(&melding).await;
    assert_eq!(status, 403);
    let fg_csrf = field_value(&vt_fg.get("/").await, "csrf");
    let (status, _) = vt_fg
        .post(
            &fase,
            &form_of(&[("csrf", &fg_csrf), ("stage", "AFGESLOTEN")]),
        )
        .await;
    assert_eq!(status, 403);
    // While Veilig Thuis's audit log cannot be written, no answer is opened.
    use sqlx::ConnectOptions;
    let mut db = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&kit.consoles[0].store_files()[0])
        .connect()
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER audit_down BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'down'); END",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let (status, page) = vt.get_status(&melding).await;
    assert_eq!(status, 503, "{page}");
    assert!(!page.contains(ANSWER), "{page}");
    sqlx::query("DROP TRIGGER audit_down")
        .execute(&mut db)
        .await
        .unwrap();

    // Closing: never with a review; then final.
    let (_, page) = vt.post(&fase, &stage("AFGESLOTEN", &date_in(30))).await;
    assert!(
        page.contains("een afgesloten melding krijgt geen herbeoordeling"),
        "{page}"
    );
    vt.post_redirect(&fase, &stage("AFGESLOTEN", "")).await;
    let page = vt.get(&melding).await;
    assert!(
        page.contains("De melding is afgesloten; dat is definitief."),
        "{page}"
    );
    assert!(!page.contains("Fase vastleggen"), "{page}");
    let (_, page) = vt.post(&fase, &stage("ONDERZOEK", "")).await;
    assert!(
        page.contains("de melding is afgesloten; dat is definitief"),
        "{page}"
    );
    kit.stop().await;
}

/// The woningcorporatie's rent-arrears signal about a tenant to the wijkteam (a flow whose
/// disclosure the family must hear of), sent through the SDK.
async fn rent_arrears(kit: &common::Kit, id: &str) {
    use signaalhub_client::sealed::{Outgoing, send_sealed};
    use signaalhub_client::signaalhub_proto::pb;
    let mut sdk = kit.sdk("woningcorporatie").await;
    let out = Outgoing {
        signal_id: id.into(),
        recipient_oins: vec![kit.oin("wijkteam")],
        subject_bsn: "123456782".into(),
        subject: pb::SubjectFacts {
            age_years: Some(34),
            age_band: 0,
            gezag_holders: vec![],
        },
        purpose: "vroegsignalering_schulden".into(),
        categories: vec!["betalingsachterstand".into()],
        urgency: pb::Urgency::Normal,
        basis: pb::Basis {
            legal: Some(pb::LegalBasis {
                basis: "wgs_vroegsignalering".into(),
                evidence: Some(pb::Evidence {
                    payment_reminder_sent: Some(true),
                    ..Default::default()
                }),
            }),
            consent_ids: vec![],
        },
        acting_role: String::new(),
    };
    send_sealed(
        &mut sdk,
        &kit.sender_keys("woningcorporatie"),
        out,
        b"drie maanden huurachterstand",
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_family_is_informed_and_a_granted_correction_is_confirmed_on_the_console() {
    let kit = start_kit(&["woningcorporatie", "wijkteam"]).await;
    let corp = Console::login(&kit.consoles[0]).await;
    let wijkteam = Console::login(&kit.consoles[1]).await;
    assert!(corp.get("/").await.contains("href=\"/gezin\""));
    rent_arrears(&kit, "huur-1").await;
    // The wijkteam's gateway fetches its inbox: the disclosure happens, the duty appears.
    let page = corp.wait_for("/gezin", "Open, uiterlijk").await;
    assert!(page.contains("huur-1"), "{page}");
    assert!(
        page.contains("Wijkteam Arnhem-Oost"),
        "the recipient by name: {page}"
    );
    let csrf = field_value(&page, "csrf");
    let idx = field_value(&page, "log_index");
    // A form without a date is said in Dutch; nothing is recorded.
    let (status, page) = corp
        .post(
            "/gezin/geinformeerd",
            &form_of(&[
                ("csrf", &csrf),
                ("log_index", &idx),
                ("act", "letter"),
                ("day", ""),
            ]),
        )
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("een datum als"), "{page}");
    assert!(page.contains("Open, uiterlijk"), "{page}");
    // Without the CSRF token: refused.
    let (status, _) = corp
        .post(
            "/gezin/geinformeerd",
            &form_of(&[("log_index", &idx), ("act", "letter"), ("day", &date_in(0))]),
        )
        .await;
    assert_eq!(status, 403);
    // Informed by letter today.
    corp.post_redirect(
        "/gezin/geinformeerd",
        &form_of(&[
            ("csrf", &csrf),
            ("log_index", &idx),
            ("act", "letter"),
            ("day", &date_in(0)),
        ]),
    )
    .await;
    let page = corp.get("/gezin").await;
    assert!(page.contains("Geïnformeerd per brief"), "{page}");
    // Again: the hub says it was closed before, in the page.
    let (_, page) = corp
        .post(
            "/gezin/uitzondering",
            &form_of(&[
                ("csrf", &csrf),
                ("log_index", &idx),
                ("ground", "veiligheid_kind"),
            ]),
        )
        .await;
    assert!(page.contains("closed before"), "{page}");

    // The tenant asks for a correction; granted; the wijkteam is told and confirms.
    corp.post_redirect(
        "/gezin/verzoek",
        &form_of(&[
            ("csrf", &csrf),
            ("bsn", "123456782"),
            ("kind", "correction"),
            ("day", &date_in(0)),
        ]),
    )
    .await;
    let page = corp.get("/gezin").await;
    let id = field_value(&page, "request_id");
    assert!(id.starts_with("fr_"), "{page}");
    corp.post_redirect(
        "/gezin/besluit",
        &form_of(&[
            ("csrf", &csrf),
            ("request_id", &id),
            ("reason", "grant:gegevens_onjuist"),
        ]),
    )
    .await;
    let page = corp.get("/gezin").await;
    assert!(page.contains("toegekend"), "{page}");
    assert!(page.contains("nog niet bevestigd"), "{page}");
    let page = wijkteam.get("/gezin").await;
    assert!(page.contains("verbetering van de gegevens"), "{page}");
    assert!(page.contains("huur-1"), "{page}");
    let wcsrf = field_value(&page, "csrf");
    wijkteam
        .post_redirect(
            "/gezin/bevestigen",
            &form_of(&[
                ("csrf", &wcsrf),
                ("org", &kit.oin("woningcorporatie")),
                ("request_id", &id),
            ]),
        )
        .await;
    assert!(wijkteam.get("/gezin").await.contains("bevestigd"));
    let page = corp.get("/gezin").await;
    assert!(!page.contains("nog niet bevestigd"), "{page}");
    kit.stop().await;
}

/// The reference a page shows once, after *Referentie aanvragen*.
fn issued_reference(page: &str) -> String {
    let start = page
        .find("id=\"issued-reference\">")
        .unwrap_or_else(|| panic!("no reference shown: {page}"))
        + "id=\"issued-reference\">".len();
    page[start..start + 16].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_without_a_bsn_gets_a_reference_every_form_takes_and_is_merged_later() {
    use signaalhub_client::signaalhub_proto::pb;
    let kit = start_kit(&["wijkteam", "school"]).await;
    let w = Console::login(&kit.consoles[0]).await;
    let school = Console::login(&kit.consoles[1]).await;
    let page = w.get("/gezin").await;
    assert!(page.contains("Iemand zonder BSN"), "{page}");
    let csrf = field_value(&page, "csrf");
    let (status, page) = w
        .post("/gezin/referentie", &form_of(&[("csrf", &csrf)]))
        .await;
    assert_eq!(status, 200);
    let reference = issued_reference(&page);
    assert!(reference.starts_with("SH-"), "{reference}");
    // Shown once: the screen does not show it again.
    assert!(!w.get("/gezin").await.contains(&reference));

    // The GI's OTS and the parents' consent, both under the reference.
    kit.sdk("jeugdbescherming")
        .await
        .register_maatregel(pb::RegisterMaatregelRequest {
            subject_bsn: reference.clone(),
            kind: pb::MaatregelKind::Ots as i32,
            contact_point: "Team Jeugdbescherming Arnhem, 026-1234567".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    kit.parents_consent(
        &reference,
        &[pb::Sector::Jeugdbescherming],
        &[],
        &["betrokkenheid"],
    )
    .await;
    // The wijkcoach types it as people do: lower case, with a space.
    let typed = format!(
        "{} {}",
        reference[..8].to_lowercase(),
        reference[8..].to_lowercase()
    );
    let page = w.get("/maatregel").await;
    let csrf_m = field_value(&page, "csrf");
    let ask = |subject: &str, action: &str| {
        vec![
            ("csrf".to_owned(), csrf_m.clone()),
            ("bsn".to_owned(), subject.to_owned()),
            (
                "contact".to_owned(),
                "G. K., wijkcoach, 026-0000002".to_owned(),
            ),
            ("action".to_owned(), action.to_owned()),
        ]
    };
    let (_, page) = w.post("/maatregel", &ask(&typed, "involvement")).await;
    assert!(page.contains("Uw betrokkenheid is vastgelegd"), "{page}");
    let (_, page) = w.post("/maatregel", &ask(&typed, "ask")).await;
    assert!(page.contains("ondertoezichtstelling (OTS)"), "{page}");
    // A typing error (two neighbours swapped) is caught by the check letter before the hub is
    // asked, and the typed value is not echoed in the problem.
    let mut swapped: Vec<char> = reference.chars().collect();
    // Two different neighbours (a random reference may repeat a letter).
    let at = (3..15)
        .find(|i| swapped[*i] != swapped[i + 1])
        .expect("13 letters are not all the same");
    swapped.swap(at, at + 1);
    let swapped: String = swapped.into_iter().collect();
    assert_ne!(swapped, reference);
    let (_, page) = w.post("/maatregel", &ask(&swapped, "ask")).await;
    assert!(page.contains("de controleletter klopt niet"), "{page}");
    assert!(!page.contains("ondertoezichtstelling (OTS)"), "{page}");
    // The field says what it takes.
    assert!(page.contains("BSN (of referentie)"), "{page}");

    // Another organisation cannot merge it, nor learn that it exists.
    let page = school.get("/gezin").await;
    let csrf_s = field_value(&page, "csrf");
    let (_, page) = school
        .post(
            "/gezin/koppelen",
            &form_of(&[("csrf", &csrf_s), ("reference", &reference), ("bsn", BSN)]),
        )
        .await;
    assert!(page.contains("class=\"problem\""), "{page}");
    assert!(!page.contains("Gekoppeld"), "{page}");
    // A reference where the BSN goes: said in Dutch.
    let (_, page) = w
        .post(
            "/gezin/koppelen",
            &form_of(&[
                ("csrf", &csrf),
                ("reference", &reference),
                ("bsn", &reference),
            ]),
        )
        .await;
    assert!(page.contains("alleen aan een BSN"), "{page}");
    // Merged: the involvement and the measure now stand under the BSN.
    let (_, page) = w
        .post(
            "/gezin/koppelen",
            &form_of(&[("csrf", &csrf), ("reference", &typed), ("bsn", BSN)]),
        )
        .await;
    assert!(page.contains("Gekoppeld"), "{page}");
    let (_, page) = w.post("/maatregel", &ask(BSN, "ask")).await;
    assert!(page.contains("ondertoezichtstelling (OTS)"), "{page}");
    // The merged reference is refused for what is recorded from now on, said in Dutch.
    let (_, page) = w.post("/maatregel", &ask(&typed, "involvement")).await;
    assert!(page.contains("gebruik voortaan het BSN"), "{page}");
    // Once only.
    let (_, page) = w
        .post(
            "/gezin/koppelen",
            &form_of(&[("csrf", &csrf), ("reference", &reference), ("bsn", BSN)]),
        )
        .await;
    assert!(page.contains("class=\"problem\""), "{page}");
    kit.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gi_registers_lists_and_ends_a_maatregel_in_its_register() {
    use signaalhub_client::signaalhub_proto::pb;
    let kit = start_kit(&["wijkteam", "jeugdbescherming"]).await;
    let w = Console::login(&kit.consoles[0]).await;
    let gi = Console::login(&kit.consoles[1]).await;
    let wijkteam_oin = kit.oin("wijkteam");
    const CONTACT: &str = "Team Jeugdbescherming Arnhem, 026-1234567";
    let k = &kit;
    let at_hub = || async move {
        k.sdk("jeugdbescherming")
            .await
            .list_maatregelen(BSN, true)
            .await
            .unwrap()
    };

    // The register is in the GI's menu and on its home page; not in the wijkteam's.
    let home = gi.get("/").await;
    assert_eq!(home.matches("href=\"/register\"").count(), 2, "{home}");
    assert!(!w.get("/").await.contains("href=\"/register\""));
    let page = gi.get("/register").await;
    assert!(
        page.contains("<legend>Maatregel registreren</legend>"),
        "{page}"
    );
    assert!(page.contains("Machtiging uithuisplaatsing"), "{page}");
    assert!(page.contains("label for=\"n-contact\""), "{page}");
    let csrf = field_value(&page, "csrf");
    let register = |csrf: &str, bsn: &str, starts: &str, ends: &str| {
        form_of(&[
            ("csrf", csrf),
            ("action", "register"),
            ("bsn", bsn),
            ("kind", "ots"),
            ("starts", starts),
            ("ends", ends),
            ("contact", CONTACT),
        ])
    };
    let ends = date_in(365);

    // A BSN that fails the elfproef: said in Dutch, nothing reaches the hub.
    let (status, page) = gi
        .post("/register", &register(&csrf, "123456789", "", &ends))
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("De maatregel is niet geregistreerd"),
        "{page}"
    );
    assert!(page.contains("voldoet niet aan de elfproef"), "{page}");
    // No kind, no contact point: both named before the hub is asked.
    let (status, page) = gi
        .post(
            "/register",
            &form_of(&[("csrf", &csrf), ("action", "register"), ("bsn", BSN)]),
        )
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Soort maatregel: kies OTS"), "{page}");
    assert!(page.contains("Contactpunt: vul in"), "{page}");
    // Without the CSRF token (or with another session's): refused, nothing registered.
    let mut no_csrf = register(&csrf, BSN, "", &ends);
    no_csrf.retain(|(k, _)| k != "csrf");
    let (status, _) = gi.post("/register", &no_csrf).await;
    assert_eq!(status, 403);
    let (status, _) = gi
        .post("/register", &register("forged", BSN, "", &ends))
        .await;
    assert_eq!(status, 403);
    // An end before the start: the hub's refusal, in Dutch under the field's name.
    let (status, page) = gi
        .post(
            "/register",
            &register(&csrf, BSN, &date_in(30), &date_in(10)),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("einddatum: na de ingangsdatum en hoogstens 21 jaar vooruit"),
        "{page}"
    );
    assert!(at_hub().await.is_empty());

    // Registered: the notice, and the child's maatregelen as the hub lists them.
    let (status, page) = gi.post("/register", &register(&csrf, BSN, "", &ends)).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Geregistreerd: Ondertoezichtstelling (OTS)"),
        "{page}"
    );
    let id = page
        .split("Geregistreerd: Ondertoezichtstelling (OTS) (<code>")
        .nth(1)
        .and_then(|t| t.split("</code>").next())
        .unwrap()
        .to_owned();
    assert!(id.starts_with("m_"), "{id}");
    assert!(
        page.contains("<th scope=\"col\">Contactpunt</th>"),
        "{page}"
    );
    assert!(page.contains(CONTACT), "{page}");
    assert!(page.contains("Loopt"), "{page}");
    let listed = at_hub().await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].maatregel_id, id);
    assert_eq!(listed[0].kind, pb::MaatregelKind::Ots as i32);
    assert!(listed[0].ends_at.is_some());
    // Looked up again later: the same list.
    let (status, page) = gi
        .post(
            "/register",
            &form_of(&[("csrf", &csrf), ("action", "list"), ("bsn", BSN)]),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&id), "{page}");
    assert!(page.contains("Beëindigen…"), "{page}");

    // The wijkteam has no register: its console refuses, and nothing is registered.
    let w_csrf = field_value(&w.get("/maatregel").await, "csrf");
    let (status, _) = w.get_status("/register").await;
    assert_eq!(status, 403);
    let (status, page) = w
        .post("/register", &register(&w_csrf, BSN, "", &ends))
        .await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("gecertificeerde instelling"), "{page}");
    let (status, _) = w
        .post(
            "/register/beeindigen",
            &form_of(&[
                ("csrf", &w_csrf),
                ("maatregel_id", &id),
                ("bsn", BSN),
                ("confirm", "ja"),
            ]),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(at_hub().await.len(), 1);
    // Neither has the GI's privacy officer (no jeugdbescherming role).
    let gi_fg = Console::login_as(&kit.consoles[1], "dev-fg-jeugdbescherming").await;
    let (status, _) = gi_fg.get_status("/register").await;
    assert_eq!(status, 403);
    assert!(!gi_fg.get("/").await.contains("href=\"/register\""));

    // The wijkcoach, involved on the parents' consent, asks on Maatregel? and hears of the OTS.
    kit.parents_consent(
        BSN,
        &[pb::Sector::Jeugdbescherming],
        &[],
        &["betrokkenheid"],
    )
    .await;
    let ask = |action: &str| {
        form_of(&[
            ("csrf", &w_csrf),
            ("bsn", BSN),
            ("contact", "G. K., wijkcoach, 026-0000002"),
            ("action", action),
        ])
    };
    let (_, page) = w.post("/maatregel", &ask("involvement")).await;
    assert!(page.contains("Uw betrokkenheid is vastgelegd"), "{page}");
    let (_, page) = w.post("/maatregel", &ask("ask")).await;
    assert!(page.contains("ondertoezichtstelling (OTS)"), "{page}");
    assert!(page.contains(CONTACT), "{page}");

    // Ending: first the confirmation, which ends nothing yet.
    let end = |extra: &[(&str, &str)]| {
        let mut f = form_of(&[("csrf", &csrf), ("maatregel_id", &id), ("bsn", BSN)]);
        f.extend(form_of(extra));
        f
    };
    let (status, page) = gi.post("/register/beeindigen", &end(&[])).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Ja, beëindigen"), "{page}");
    assert!(page.contains("Ondertoezichtstelling (OTS)"), "{page}");
    assert!(page.contains("label for=\"e-next\""), "{page}");
    assert!(page.contains(&wijkteam_oin), "{page}");
    assert!(at_hub().await[0].ended_at.is_none());
    // Confirmed, the case back with the wijkteam: how many involved organisations were told.
    let (status, page) = gi
        .post(
            "/register/beeindigen",
            &end(&[("confirm", "ja"), ("next", &wijkteam_oin)]),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("De maatregel is beëindigd"), "{page}");
    assert!(
        page.contains("1 van de 1 betrokken organisaties zijn verteld"),
        "{page}"
    );
    assert!(
        page.contains("De zaak ligt nu bij Wijkteam Arnhem-Oost"),
        "{page}"
    );
    assert!(page.contains("Beëindigd"), "{page}");
    let listed = at_hub().await;
    assert!(listed[0].ended_at.is_some(), "{listed:?}");
    assert_eq!(listed[0].next_oin, wijkteam_oin);
    // Ending it again: the hub's refusal, in Dutch.
    let (_, page) = gi
        .post("/register/beeindigen", &end(&[("confirm", "ja")]))
        .await;
    assert!(page.contains("deze maatregel is al beëindigd"), "{page}");
    // The GI's audit log names the maatregel, never the child.
    let audit = kit.consoles[1].app.store.audit_log(100).await.unwrap();
    for action in [
        "maatregel_registered",
        "maatregel_ended",
        "maatregelen_listed",
    ] {
        assert!(
            audit.iter().any(|e| e.action == action),
            "{action}: {audit:?}"
        );
    }
    assert!(
        audit
            .iter()
            .any(|e| e.action == "maatregel_registered" && e.object == id),
        "{audit:?}"
    );
    assert!(!format!("{audit:?}").contains(BSN), "{audit:?}");

    // The wijkteam reads it on Berichten, and its question now has the answer no.
    let page = w.wait_for("/berichten", "Maatregel beëindigd").await;
    assert!(
        page.contains("De zaak ligt nu bij Wijkteam Arnhem-Oost"),
        "{page}"
    );
    assert!(page.contains(&id), "{page}");
    let (_, page) = w.post("/maatregel", &ask("ask")).await;
    assert!(page.contains("Nee, er loopt geen maatregel."), "{page}");

    // In English on request.
    gi.post_redirect("/taal", &form_of(&[("csrf", &csrf), ("lang", "en")]))
        .await;
    let page = gi.get("/register").await;
    assert!(page.contains("Register a measure"), "{page}");
    kit.stop().await;
}
