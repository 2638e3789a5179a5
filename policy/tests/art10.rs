//! Criminal-law data (art. 10 AVG): marked in the convenant, checked by the statutory floor when a
//! convenant loads and again on every decision.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use signaalhub_policy::*;

fn errors(text: &str) -> Vec<Diagnostic> {
    match parse("t.toml", text) {
        Ok(_) => panic!("expected errors"),
        Err(d) => d.0,
    }
}

/// Line (1-based) of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).unwrap();
    text[..at].matches('\n').count() + 1
}

#[test]
fn the_sample_marks_police_incident_data_and_its_police_flows_load() {
    let c = parse("sample.toml", SAMPLE_CONVENANT).unwrap();
    assert_eq!(c.flows.len(), 13);
    let art10: Vec<&str> = c
        .categories
        .iter()
        .filter(|k| k.art10)
        .map(|k| k.name.as_str())
        .collect();
    assert_eq!(art10, ["incidentgegevens", "betrokken_personen"]);
    let grounds: Vec<&str> = c
        .bases
        .iter()
        .filter(|b| b.art10)
        .map(|b| b.name.as_str())
        .collect();
    assert_eq!(grounds, ["wpg_zorgmelding", "vt_wettelijke_taak"]);
    for b in c.bases.iter().filter(|b| b.art10) {
        assert!(
            b.statute.contains("AVG art. 10"),
            "{}: {}",
            b.name,
            b.statute
        );
    }
    // The flows that carry them, each basis an art. 10 ground.
    let carrying: Vec<&str> = c
        .flows
        .iter()
        .filter(|f| f.categories.iter().any(|k| art10.contains(&k.as_str())))
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(carrying, ["politie-zorgmelding", "vt-overdracht-wijkteam"]);
    for f in c.flows.iter().filter(|f| carrying.contains(&f.id.as_str())) {
        for b in &f.bases {
            assert!(grounds.contains(&b.as_str()), "{}: {b}", f.id);
        }
    }
    let p = c.compile();
    assert_eq!(p.is_art10_category("incidentgegevens"), Some(true));
    assert_eq!(p.is_art10_category("zorgen_thuissituatie"), Some(false));
    assert_eq!(p.is_art10_category("nope"), None);
}

fn police_zorgmelding() -> DecisionRequest {
    let mut r = req(
        "politie",
        "wijkagent",
        "veilig_thuis",
        "zorgmelding_politie",
        &["incidentgegevens", "betrokken_personen"],
    );
    r.basis.legal = legal(
        "wpg_zorgmelding",
        Evidence {
            registration_number: Some("PL0900-2025123456".into()),
            ..Evidence::default()
        },
    );
    r
}

#[test]
fn the_police_zorgmelding_is_allowed_under_the_wpg_and_names_the_art10_floor() {
    let d = sample().decide(&police_zorgmelding());
    assert!(d.is_allowed(), "{:?}", d.reasons);
    let rules: Vec<String> = d.rules.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        rules,
        [
            "flow:politie-zorgmelding",
            "basis:wpg_zorgmelding",
            "floor:art10"
        ]
    );
    // Without criminal-law data the art. 10 rule is not named.
    let mut r = police_zorgmelding();
    r.categories = vec!["aanwezigheid_kinderen".into()];
    let d = sample().decide(&r);
    assert!(d.is_allowed(), "{:?}", d.reasons);
    assert!(
        !d.rules.iter().any(|r| &**r == "floor:art10"),
        "{:?}",
        d.rules
    );
}

#[test]
fn the_veilig_thuis_handover_carries_incident_data_on_its_task_with_consent_as_well() {
    let cats = ["melding_samenvatting", "incidentgegevens"];
    let mut r = req(
        "veilig_thuis",
        "vt_medewerker",
        "wijkteam",
        "overdracht_hulpverlening",
        &cats,
    );
    r.basis.legal = legal(
        "vt_wettelijke_taak",
        Evidence {
            case_reference: Some("VT-2025-0042".into()),
            client_informed: Some(ClientInformed::Yes),
            ..Evidence::default()
        },
    );
    // The flow demands consent on top of the task; consent is not the art. 10 ground.
    let d = sample().decide(&r);
    assert!(!d.is_allowed());
    assert!(
        d.has_reason(ReasonCode::ConsentRequiredByFlow),
        "{:?}",
        codes(&d)
    );
    r.basis.consents = vec![both_parents("overdracht_hulpverlening", "wijkteam", &cats)];
    let d = sample().decide(&r);
    assert!(d.is_allowed(), "{:?}", d.reasons);
    assert!(
        d.rules.iter().any(|r| &**r == "floor:art10"),
        "{:?}",
        d.rules
    );
    assert!(d.rules.iter().any(|r| &**r == "basis:vt_wettelijke_taak"));
}

#[test]
fn an_art10_category_on_a_consent_flow_is_refused_naming_flow_category_and_basis() {
    let school = "categories = [\"zorgen_thuissituatie\", \"signalen_huiselijk_geweld\"]\nbases = [\"toestemming\"]";
    let text = SAMPLE_CONVENANT.replacen(
        school,
        "categories = [\"zorgen_thuissituatie\", \"incidentgegevens\"]\nbases = [\"toestemming\"]",
        1,
    );
    assert_ne!(text, SAMPLE_CONVENANT);
    let ds = errors(&text);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    let d = &ds[0];
    assert_eq!(d.code, "FLOOR_ART10_GROUND_MISSING");
    assert_eq!(d.key_path, "flows[0].bases");
    let bases_line = line_of(
        &text,
        "categories = [\"zorgen_thuissituatie\", \"incidentgegevens\"]",
    ) + 1;
    assert_eq!((d.line, d.column), (bases_line, 10));
    assert_eq!(
        d.message,
        "flow `school-wijkteam-toestemming` carries criminal-law data (art. 10 AVG: `incidentgegevens`), \
         but basis `toestemming` (consent) is not an art. 10 ground (statutory floor)"
    );
    let help = d.help.as_deref().unwrap();
    assert!(
        help.starts_with("consent is not a ground for criminal-law data"),
        "{help}"
    );
    assert!(help.contains("also_requires_consent"), "{help}");
    let shown = d.to_string();
    assert!(
        shown.starts_with(&format!(
            "t.toml:{bases_line}:10: flows[0].bases: flow `school-wijkteam-toestemming`"
        )),
        "{shown}"
    );
    assert!(shown.ends_with("[FLOOR_ART10_GROUND_MISSING]"), "{shown}");
}

#[test]
fn every_basis_of_a_flow_with_art10_data_must_be_an_art10_ground() {
    // The meldcode flow has two bases: the meldrecht (a kind that can be an art. 10 ground, not
    // marked) and consent (never). Each is named in its own error.
    let melding = "categories = [\"zorgen_thuissituatie\", \"signalen_huiselijk_geweld\", \"gezondheid\", \"vermoeden_verwaarlozing_kinderen\", \"betalingsachterstand\"]\nbases = [\"meldrecht\", \"toestemming\"]";
    let text = SAMPLE_CONVENANT.replacen(
        melding,
        "categories = [\"zorgen_thuissituatie\", \"betrokken_personen\"]\nbases = [\"meldrecht\", \"toestemming\"]",
        1,
    );
    assert_ne!(text, SAMPLE_CONVENANT);
    let ds = errors(&text);
    let found: Vec<(&str, &str)> = ds.iter().map(|d| (d.code, d.key_path.as_str())).collect();
    assert_eq!(
        found,
        [
            ("FLOOR_ART10_GROUND_MISSING", "flows[3].bases"),
            ("FLOOR_ART10_GROUND_MISSING", "flows[3].bases")
        ]
    );
    assert!(
        ds[0].message.contains("basis `meldrecht` (meldcode)"),
        "{}",
        ds[0]
    );
    assert!(
        ds[0]
            .help
            .as_deref()
            .unwrap()
            .contains("mark basis `meldrecht` with `art10 = true`"),
        "{}",
        ds[0]
    );
    assert!(
        ds[1].message.contains("basis `toestemming` (consent)"),
        "{}",
        ds[1]
    );
    assert!(
        ds[0].column < ds[1].column,
        "each error points at its basis"
    );

    // Marking the meldrecht leaves only consent.
    let marked = text.replacen(
        "evidence = [\"meldcode_steps\", \"afwegingskader\", \"client_informed\"]",
        "evidence = [\"meldcode_steps\", \"afwegingskader\", \"client_informed\"]\nart10 = true",
        1,
    );
    let ds = errors(&marked);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert!(ds[0].message.contains("`toestemming`"), "{}", ds[0]);
}

#[test]
fn only_some_kinds_can_be_an_art10_ground() {
    let text = SAMPLE_CONVENANT
        .replacen(
            "kind = \"consent\"\n",
            "kind = \"consent\"\nart10 = true\n",
            1,
        )
        .replacen(
            "kind = \"wgs_vroegsignalering\"\n",
            "kind = \"wgs_vroegsignalering\"\nart10 = true\n",
            1,
        );
    let ds = errors(&text);
    let found: Vec<(&str, &str)> = ds.iter().map(|d| (d.code, d.key_path.as_str())).collect();
    assert_eq!(
        found,
        [
            ("FLOOR_ART10_NOT_POSSIBLE", "bases.toestemming.art10"),
            (
                "FLOOR_ART10_NOT_POSSIBLE",
                "bases.wgs_vroegsignalering.art10"
            )
        ]
    );
    assert_eq!(
        ds[0].message,
        "a `consent` basis cannot be an art. 10 AVG ground for criminal-law data (statutory floor)"
    );
    assert!(
        ds[0].help.as_deref().unwrap().contains(
            "meldcode, wpg_zorgmelding, veilig_thuis_taak, vitaal_belang, informatie_aan_veilig_thuis"
        ),
        "{}",
        ds[0]
    );
    // A kind that can be one loads when marked.
    let vital = SAMPLE_CONVENANT.replacen(
        "kind = \"vitaal_belang\"\n",
        "kind = \"vitaal_belang\"\nart10 = true\n",
        1,
    );
    assert_ne!(vital, SAMPLE_CONVENANT);
    parse("v.toml", &vital).unwrap();
}

#[test]
fn decisions_check_art10_again_when_a_convenant_was_not_parsed() {
    // A `Convenant` built or changed in code skips the parser's floor; decide still refuses.
    let mut c = parse("sample.toml", SAMPLE_CONVENANT).unwrap();
    for k in &mut c.categories {
        if k.name == "zorgen_thuissituatie" || k.name == "betalingsachterstand" {
            k.art10 = true;
        }
    }
    let p = c.compile();

    // Consent alone.
    let mut r = req(
        "school",
        "ib_er",
        "wijkteam",
        "vroegtijdige_ondersteuning",
        &["zorgen_thuissituatie"],
    );
    r.basis.consents = vec![both_parents(
        "vroegtijdige_ondersteuning",
        "wijkteam",
        &["zorgen_thuissituatie"],
    )];
    let d = p.decide(&r);
    assert!(!d.is_allowed());
    assert_eq!(codes(&d), ["ART10_GROUND_MISSING"]);
    assert_eq!(d.reasons[0].rule, "floor:art10");
    assert!(
        d.reasons[0]
            .nl
            .contains("strafrechtelijke gegevens (zorgen_thuissituatie)")
            && d.reasons[0].nl.contains("is toestemming geen grondslag"),
        "{}",
        d.reasons[0].nl
    );

    // A statutory basis that is no art. 10 ground.
    let mut r = req(
        "woningcorporatie",
        "wijkconsulent",
        "wijkteam",
        "vroegsignalering_schulden",
        &["betalingsachterstand"],
    );
    r.subject.age = Age::Years(34);
    r.basis.legal = legal(
        "wgs_vroegsignalering",
        Evidence {
            payment_reminder_sent: Some(true),
            ..Evidence::default()
        },
    );
    let d = p.decide(&r);
    assert!(!d.is_allowed());
    assert!(
        d.has_reason(ReasonCode::Art10GroundMissing),
        "{:?}",
        codes(&d)
    );
    // The same request against the sample is allowed.
    assert!(sample().decide(&r).is_allowed());
}

#[test]
fn explanations_show_the_art10_marking() {
    let c = parse("sample.toml", SAMPLE_CONVENANT).unwrap();
    let md = explain::markdown(&c);
    assert!(
        md.contains("| category | art. 9 | art. 10 | description |"),
        "{md}"
    );
    assert!(md.contains("| incidentgegevens | no | yes | "), "{md}");
    assert!(md.contains("| gezondheid | yes | no | "), "{md}");
    assert!(
        md.contains("| wpg_zorgmelding | wpg_zorgmelding | no | yes | "),
        "{md}"
    );
    assert!(md.contains("| toestemming | consent | yes | no | "), "{md}");
    assert!(md.contains("Criminal-law data (art. 10 AVG)"), "{md}");
    let q = explain::question(
        &c.compile(),
        "politie",
        "veilig_thuis",
        "zorgmelding_politie",
        "betrokken_personen",
    );
    assert!(q.contains("basis `wpg_zorgmelding`"), "{q}");
    assert!(q.contains("criminal-law data (art. 10 AVG)"), "{q}");
}
