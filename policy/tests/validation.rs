//! Broken convenants: every diagnostic names the exact line, key path and a fix.
#![allow(clippy::unwrap_used)]

use signaalhub_policy::{Diagnostic, SAMPLE_CONVENANT, parse, parse_period};

/// A small valid convenant; line numbers below refer to it.
const BASE: &str = r#"[convenant]
name = "Test"
version = "1"

[sectors.school]
roles = ["ib_er"]

[sectors.wijkteam]
roles = ["wijkcoach"]

[sectors.veilig_thuis]
roles = ["vt_medewerker"]

[purposes.steun]
retention = "P6M"

[categories.zorgen]

[categories.gezondheid]
art9 = true

[bases.toestemming]
kind = "consent"
statute = "AVG art. 6(1)(a)"
art9 = true

[bases.meldrecht]
kind = "meldcode"
statute = "Wmo 2015 art. 5.2.6"
art9 = true

[[flows]]
id = "school-wijkteam"
from = "school"
to = "wijkteam"
purpose = "steun"
categories = ["zorgen"]
bases = ["toestemming"]
"#;

fn errors(text: &str) -> Vec<Diagnostic> {
    match parse("t.toml", text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(d) => d.0,
    }
}

fn find<'a>(ds: &'a [Diagnostic], code: &str) -> &'a Diagnostic {
    ds.iter()
        .find(|d| d.code == code)
        .unwrap_or_else(|| panic!("no {code} in {ds:#?}"))
}

#[test]
fn base_and_sample_are_valid() {
    parse("base.toml", BASE).unwrap();
    let c = parse("sample.toml", SAMPLE_CONVENANT).unwrap();
    assert_eq!(c.flows.len(), 13);
}

#[test]
fn toml_syntax_error_is_located() {
    let text = BASE.replace("[sectors.wijkteam]", "[sectors.wijkteam");
    let ds = errors(&text);
    let d = find(&ds, "TOML_SYNTAX");
    assert_eq!((d.file.as_str(), d.line), ("t.toml", 8));
    assert!(d.to_string().starts_with("t.toml:8:"), "{d}");
}

#[test]
fn unknown_sector_suggests_the_right_one() {
    let text = BASE.replace("to = \"wijkteam\"", "to = \"wijkteem\"");
    let ds = errors(&text);
    let d = find(&ds, "UNKNOWN_SECTOR");
    assert_eq!((d.line, d.column), (35, 6));
    assert_eq!(d.key_path, "flows[0].to");
    assert_eq!(d.help.as_deref(), Some("did you mean `wijkteam`?"));
    assert_eq!(
        d.to_string(),
        "t.toml:35:6: flows[0].to: unknown sector `wijkteem`; did you mean `wijkteam`? [UNKNOWN_SECTOR]"
    );
}

#[test]
fn extra_sectors_need_extra_true() {
    let text = BASE.replace("[sectors.veilig_thuis]", "[sectors.ggd]");
    let ds = errors(&text);
    let d = find(&ds, "UNKNOWN_SECTOR");
    assert_eq!((d.line, d.key_path.as_str()), (11, "sectors.ggd"));
    assert!(d.help.as_deref().unwrap().contains("extra = true"));
    let ok = BASE.replace("[sectors.veilig_thuis]", "[sectors.ggd]\nextra = true");
    parse("t.toml", &ok).unwrap();
}

#[test]
fn unknown_purpose_category_basis_role_key() {
    let text = BASE
        .replace("purpose = \"steun\"", "purpose = \"stuen\"")
        .replace(
            "categories = [\"zorgen\"]",
            "categories = [\"zorgen\", \"zorg\"]",
        )
        .replace(
            "bases = [\"toestemming\"]",
            "bases = [\"toestemmign\"]\nfrom_roles = [\"ib\"]\nretention = \"P1M\"",
        );
    let ds = errors(&text);
    let p = find(&ds, "UNKNOWN_PURPOSE");
    assert_eq!((p.line, p.key_path.as_str()), (36, "flows[0].purpose"));
    assert_eq!(p.help.as_deref(), Some("did you mean `steun`?"));
    let c = find(&ds, "UNKNOWN_CATEGORY");
    assert_eq!(
        (c.line, c.column, c.key_path.as_str()),
        (37, 25, "flows[0].categories")
    );
    let b = find(&ds, "UNKNOWN_BASIS");
    assert_eq!((b.line, b.key_path.as_str()), (38, "flows[0].bases"));
    assert_eq!(b.help.as_deref(), Some("did you mean `toestemming`?"));
    let r = find(&ds, "UNKNOWN_ROLE");
    assert_eq!((r.line, r.key_path.as_str()), (39, "flows[0].from_roles"));
    assert_eq!(r.help.as_deref(), Some("did you mean `ib_er`?"));
    let k = find(&ds, "UNKNOWN_KEY");
    assert_eq!((k.line, k.key_path.as_str()), (40, "flows[0].retention"));
    // All of them at once, in file order.
    let lines: Vec<usize> = ds.iter().map(|d| d.line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    assert!(ds.len() >= 5);
}

#[test]
fn flow_without_basis() {
    let text = BASE.replace("bases = [\"toestemming\"]\n", "");
    let ds = errors(&text);
    let d = find(&ds, "FLOW_WITHOUT_BASIS");
    assert_eq!((d.line, d.key_path.as_str()), (32, "flows[0].bases"));
    let text = BASE.replace("bases = [\"toestemming\"]", "bases = []");
    let d = errors(&text);
    assert_eq!(find(&d, "FLOW_WITHOUT_BASIS").line, 38);
}

#[test]
fn evidence_that_cannot_be_given() {
    let text = BASE.replace(
        "statute = \"Wmo 2015 art. 5.2.6\"",
        "statute = \"Wmo 2015 art. 5.2.6\"\nevidence = [\"meldcode_steps\", \"giver\"]",
    );
    let ds = errors(&text);
    let d = find(&ds, "EVIDENCE_CANNOT_BE_GIVEN");
    assert_eq!(
        (d.line, d.column, d.key_path.as_str()),
        (30, 31, "bases.meldrecht.evidence")
    );
    assert!(d.help.as_deref().unwrap().contains("`afwegingskader`"));
}

#[test]
fn missing_and_bad_retention() {
    let text = BASE.replace("retention = \"P6M\"\n", "");
    let d = errors(&text);
    let d = find(&d, "MISSING_RETENTION");
    assert_eq!(
        (d.line, d.key_path.as_str()),
        (14, "purposes.steun.retention")
    );
    let text = BASE.replace("retention = \"P6M\"", "retention = \"6 maanden\"");
    let d = errors(&text);
    assert_eq!(find(&d, "BAD_RETENTION").line, 15);
    let text = BASE.replace("retention = \"P6M\"", "retention = 0");
    assert_eq!(find(&errors(&text), "BAD_RETENTION").line, 15);
    for ok in ["\"P1Y6M\"", "\"P2W\"", "\"P30D\"", "30"] {
        parse("t.toml", &BASE.replace("\"P6M\"", ok)).unwrap();
    }
}

#[test]
fn months_are_twelfths_of_a_year() {
    let day = 86_400;
    assert_eq!(parse_period("P12M"), parse_period("P1Y"));
    assert_eq!(parse_period("P1Y"), Ok(365 * day));
    assert_eq!(parse_period("P6M"), Ok(365 * day / 2));
    assert_eq!(parse_period("P1Y6M"), Ok(365 * day * 3 / 2));
    assert_eq!(parse_period("P2W3D"), Ok(17 * day));
    assert_eq!(parse_period("P1000Y"), Ok(365_000 * day));
    assert!(parse_period("P1000Y1D").unwrap_err().contains("1000 years"));
    assert!(parse_period("P0M").unwrap_err().contains("zero"));
    assert!(parse_period("P99999999999999999999Y").is_err());
}

#[test]
fn floor_meldrecht_only_to_veilig_thuis() {
    let text = BASE.replace(
        "bases = [\"toestemming\"]",
        "bases = [\"toestemming\", \"meldrecht\"]",
    );
    let ds = errors(&text);
    let d = find(&ds, "FLOOR_MELDRECHT_ONLY_TO_VEILIG_THUIS");
    assert_eq!(
        (d.line, d.column, d.key_path.as_str()),
        (38, 25, "flows[0].bases")
    );
    let ok = text.replace("to = \"wijkteam\"", "to = \"veilig_thuis\"");
    parse("t.toml", &ok).unwrap();
}

#[test]
fn floor_art9_needs_an_art9_basis() {
    let text = BASE
        .replace(
            "categories = [\"zorgen\"]",
            "categories = [\"zorgen\", \"gezondheid\"]",
        )
        .replace(
            "statute = \"AVG art. 6(1)(a)\"\nart9 = true",
            "statute = \"AVG art. 6(1)(a)\"",
        );
    let ds = errors(&text);
    let d = find(&ds, "FLOOR_ART9_GROUND_MISSING");
    assert_eq!((d.line, d.key_path.as_str()), (36, "flows[0].categories"));
}

#[test]
fn floor_art9_claim_on_wrong_kind_and_wrong_sender() {
    let text = BASE.to_string()
        + "\n[bases.wgs]\nkind = \"wgs_vroegsignalering\"\nstatute = \"Wgs\"\nart9 = true\n\n[[flows]]\nfrom = \"school\"\nto = \"wijkteam\"\npurpose = \"steun\"\ncategories = [\"zorgen\"]\nbases = [\"wgs\"]\n";
    let ds = errors(&text);
    let d = find(&ds, "FLOOR_ART9_NOT_POSSIBLE");
    assert_eq!((d.line, d.key_path.as_str()), (43, "bases.wgs.art9"));
    let d = find(&ds, "FLOOR_BASIS_WRONG_SENDER");
    assert_eq!((d.line, d.key_path.as_str()), (50, "flows[1].bases"));
}

#[test]
fn unknown_basis_kind_and_bad_oin_and_missing_header() {
    let text = BASE.replace("kind = \"meldcode\"", "kind = \"meldcod\"")
        + "\n[[parties]]\nname = \"VT\"\nsector = \"veilig_thuis\"\noin = \"1234\"\n";
    let ds = errors(&text);
    let d = find(&ds, "UNKNOWN_BASIS_KIND");
    assert_eq!(
        (d.line, d.help.as_deref()),
        (28, Some("did you mean `meldcode`?"))
    );
    let d = find(&ds, "BAD_OIN");
    assert_eq!((d.line, d.key_path.as_str()), (43, "parties[0].oin"));
    let text = BASE.replace("version = \"1\"\n", "");
    let d = errors(&text);
    let d = find(&d, "MISSING_KEY");
    assert_eq!((d.line, d.key_path.as_str()), (1, "convenant.version"));
}

#[test]
fn wrong_types_are_reported_not_panicked() {
    let text = BASE.replace("roles = [\"ib_er\"]", "roles = 3").replace(
        "art9 = true\n\n[bases.toestemming]",
        "art9 = \"ja\"\n\n[bases.toestemming]",
    );
    let ds = errors(&text);
    assert!(
        ds.iter()
            .any(|d| d.code == "WRONG_TYPE" && d.key_path == "sectors.school.roles")
    );
    assert!(
        ds.iter()
            .any(|d| d.code == "WRONG_TYPE" && d.key_path == "categories.gezondheid.art9")
    );
}

#[test]
fn diagnostics_display_lists_all() {
    let text = BASE
        .replace("purpose = \"steun\"", "purpose = \"x\"")
        .replace("to = \"wijkteam\"", "to = \"y\"");
    let err = parse("t.toml", &text).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("t.toml:35:6: flows[0].to: unknown sector `y`"),
        "{shown}"
    );
    assert!(
        shown.contains("t.toml:36:11: flows[0].purpose: unknown purpose `x`"),
        "{shown}"
    );
    assert!(shown.ends_with("2 error(s)"), "{shown}");
}
