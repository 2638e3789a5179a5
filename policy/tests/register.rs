//! The FG's register (art. 30 AVG) and DPIA fact sheet, derived from the convenant.
#![allow(clippy::unwrap_used)]

use signaalhub_policy::{SAMPLE_CONVENANT, parse, register};

fn sample() -> signaalhub_policy::Convenant {
    parse("sample.toml", SAMPLE_CONVENANT).unwrap()
}

/// The text of the Markdown section that starts with `heading` (up to the next heading of any
/// level).
fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let start = md
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in\n{md}"));
    let body = &md[start + heading.len()..];
    let end = body.find("\n#").unwrap_or(body.len());
    &body[..end]
}

#[test]
fn the_register_names_every_purpose_category_and_basis_of_the_sample() {
    let c = sample();
    let md = register::markdown(&c);
    let html = register::html(&c);
    assert!(md.starts_with("# Register van verwerkingsactiviteiten en DPIA-gegevens\n"));
    for p in &c.purposes {
        let activity = section(&md, &format!("### Verwerkingsactiviteit `{}`", p.name));
        if let Some(d) = &p.description {
            assert!(
                activity.contains(&format!("**Doel (lid 1 sub b)**: {d}")),
                "{activity}"
            );
        }
        assert!(
            activity.contains(&format!(
                "**Bewaartermijn (lid 1 sub f)**: {}",
                p.retention_text
            )),
            "{activity}"
        );
        // Every flow of the purpose is listed in its activity, with its categories and bases.
        for f in c.flows.iter().filter(|f| f.purpose == p.name) {
            assert!(
                activity.contains(&format!("`{}`:", f.id)),
                "{}: {activity}",
                f.id
            );
            for k in &f.categories {
                assert!(activity.contains(&format!("`{k}`: ")), "{k}: {activity}");
            }
            for b in &f.bases {
                let basis = c.bases.iter().find(|x| &x.name == b).unwrap();
                assert!(activity.contains(&format!("`{b}` (")), "{b}: {activity}");
                assert!(activity.contains(&basis.statute), "{b}: {activity}");
            }
            for to in &f.to {
                assert!(
                    section(activity, "**Ontvangers (lid 1 sub d)**").contains(&format!("`{to}`")),
                    "{to}: {activity}"
                );
            }
        }
        assert!(
            html.contains(&format!("<code>{}</code>", p.name)),
            "{}",
            p.name
        );
    }
    for k in &c.categories {
        assert!(md.contains(&format!("`{}`", k.name)), "{}", k.name);
    }
    for b in &c.bases {
        assert!(md.contains(&format!("`{}` (", b.name)), "{}", b.name);
        assert!(
            html.contains(&format!("<code>{}</code>", b.name)),
            "{}",
            b.name
        );
    }
    for f in &c.flows {
        assert!(md.contains(&format!("`{}`:", f.id)), "{}", f.id);
        assert!(
            html.contains(&format!("<code>{}</code>:", f.id)),
            "{}",
            f.id
        );
    }
}

#[test]
fn art9_and_art10_are_flagged_on_categories_and_bases() {
    let md = register::markdown(&sample());
    assert!(md.contains(
        "`gezondheid`: Gezondheidsgegevens, waaronder letsel — **bijzonder persoonsgegeven (art. 9 AVG)**"
    ));
    assert!(md.contains(
        "`incidentgegevens`: Incident: tijd, plaats, aard, registratienummer — **strafrechtelijk gegeven (art. 10 AVG)**"
    ));
    assert!(md.contains(
        "`betrokken_personen`: Betrokken personen bij een incident — **strafrechtelijk gegeven (art. 10 AVG)**"
    ));
    assert!(!md.contains(
        "`zorgen_thuissituatie`: Zorgen over de thuissituatie zoals de professional ze ziet —"
    ));
    let police = section(&md, "### Verwerkingsactiviteit `zorgmelding_politie`");
    assert!(police.contains("`wpg_zorgmelding` (verstrekking door de politie, Wet politiegegevens): Wet politiegegevens"), "{police}");
    assert!(police.contains("UAVG art. 33 lid 1 sub a"), "{police}");
    assert!(police.contains("— **art. 10-grond**"), "{police}");
    assert!(police.contains("Bij een incident betrokken personen, zoals verdachte, slachtoffer of getuige (afgeleid uit: `incidentgegevens`, `betrokken_personen`)"), "{police}");
    let handover = section(&md, "### Verwerkingsactiviteit `overdracht_hulpverlening`");
    assert!(
        handover.contains("— **art. 9-grond, art. 10-grond**"),
        "{handover}"
    );
    assert!(
        handover.contains("en daarnaast toestemming (`toestemming`)"),
        "the handover's extra consent is shown: {handover}"
    );
    // The overview marks the purposes.
    assert!(md.contains("| `zorgmelding_politie` | `veilig_thuis` | P1Y (365 dagen) | art. 10 |"));
    assert!(md.contains(
        "| `overdracht_hulpverlening` | `wijkteam` | P1Y (365 dagen) | art. 9, art. 10 |"
    ));
    assert!(md.contains("| `maatregel_afstemming` | `wijkteam` | 90 dagen | — |"));

    // The DPIA sheet lists the flows that carry them, with the ground.
    let art9 = section(&md, "### Bijzondere persoonsgegevens (AVG art. 9)");
    for f in [
        "huisarts-wijkteam-toestemming",
        "melding-veilig-thuis",
        "vt-overdracht-wijkteam",
        "informatieverzoek-antwoord",
        "acuut-gevaar",
    ] {
        assert!(art9.contains(&format!("`{f}`:")), "{f}: {art9}");
    }
    let art10 = section(&md, "### Strafrechtelijke gegevens (AVG art. 10)");
    assert!(art10.contains("| `incidentgegevens` | `politie-zorgmelding`: `politie` → `veilig_thuis` | `wpg_zorgmelding` |"), "{art10}");
    assert!(art10.contains("| `betrokken_personen` | `politie-zorgmelding`: `politie` → `veilig_thuis` | `wpg_zorgmelding` |"), "{art10}");
    assert!(art10.contains("| `incidentgegevens` | `vt-overdracht-wijkteam`: `veilig_thuis` → `wijkteam` | `vt_wettelijke_taak`; daarnaast toestemming"), "{art10}");
    assert_eq!(art10.matches("\n| `").count(), 3, "{art10}");
}

#[test]
fn the_dpia_sheet_lists_the_flows_without_consent() {
    let md = register::markdown(&sample());
    let without = section(&md, "### Stromen zonder toestemming (wettelijke grondslag)");
    for f in [
        "melding-veilig-thuis",
        "politie-zorgmelding",
        "vt-terugkoppeling-melder",
        "vt-informatieverzoek",
        "informatieverzoek-antwoord",
        "woningcorporatie-vroegsignalering",
        "maatregel-antwoord",
        "acuut-gevaar",
    ] {
        assert!(
            without.contains(&format!("| `{f}`:")),
            "{f} missing: {without}"
        );
    }
    for f in [
        "school-wijkteam-toestemming",
        "huisarts-wijkteam-toestemming",
        "woningcorporatie-wijkteam-toestemming",
        "betrokkenheid-casusregie",
    ] {
        assert!(
            !without.contains(&format!("`{f}`")),
            "{f} needs consent: {without}"
        );
    }
    // The handover has a statutory ground but the convenant demands consent as well.
    assert!(!without.contains("| `vt-overdracht-wijkteam`"), "{without}");
    assert!(
        without.contains("Met een wettelijke grondslag, maar het convenant vraagt ook toestemming: `vt-overdracht-wijkteam`:"),
        "{without}"
    );
    assert!(without.contains("| `politie-zorgmelding`: `politie` → `veilig_thuis` | `zorgmelding_politie` | `wpg_zorgmelding` (verstrekking door de politie, Wet politiegegevens): Wet politiegegevens"), "{without}");
    assert!(
        without.contains("ja: verplichting van de stroom"),
        "{without}"
    );

    // Minors: the convenant's gezag rule and each flow's consent role.
    let minors = section(&md, "### Minderjarigen");
    assert!(
        minors.contains("toestemming van alle ouders met gezag"),
        "{minors}"
    );
    assert!(
        minors.contains("| `politie-zorgmelding`: `politie` → `veilig_thuis` | niet nodig |"),
        "{minors}"
    );
    assert!(minors.contains("| `vt-overdracht-wijkteam`: `veilig_thuis` → `wijkteam` | voorwaarde naast de wettelijke grondslag |"), "{minors}");
    assert!(minors.contains("voor `gezondheid` uitdrukkelijke toestemming, van 12 tot en met 15 jaar ook van de jongere"), "{minors}");
    let one = SAMPLE_CONVENANT.replace(
        "consent_requires_all_gezag_holders = true",
        "consent_requires_all_gezag_holders = false",
    );
    let md_one = register::markdown(&parse("one.toml", &one).unwrap());
    assert!(md_one.contains("toestemming van één ouder met gezag"));

    // Shielded sectors, retention extremes, transfers.
    let shielded = section(&md, "### Afgeschermde sectoren");
    assert!(
        shielded.contains("- `vrouwenopvang`: Vrouwenopvang"),
        "{shielded}"
    );
    let retention = section(&md, "### Bewaartermijnen");
    assert!(
        retention.contains("- **Kortste**: 90 dagen: `maatregel_afstemming`"),
        "{retention}"
    );
    assert!(
        retention
            .contains("- **Langste**: 365 dagen: `melding_veilig_thuis`, `zorgmelding_politie`"),
        "{retention}"
    );
    assert!(md.contains("- **Doorgifte buiten de EU (lid 1 sub e)**: Geen."));
}

#[test]
fn controller_fg_and_security_measures_come_from_the_convenant_or_are_said_to_be_missing() {
    let md = register::markdown(&sample());
    assert!(md.contains(
        "verantwoordelijke (lid 1 sub a)**: Elke partij is zelfstandig verwerkingsverantwoordelijke"
    ));
    assert!(
        md.contains("- **Functionaris gegevensbescherming (lid 1 sub a)**: De FG van elke partij")
    );
    let measures = section(&md, "- **Beveiligingsmaatregelen (lid 1 sub g, art. 32)**");
    for m in [
        "PKIoverheid",
        "wederzijdse TLS",
        "HPKE",
        "Ed25519",
        "pseudoniem",
        "NEN 7513",
        "Merkle",
        "signaalhub log verify",
    ] {
        assert!(measures.contains(m), "{m}: {measures}");
    }
    assert!(measures.contains("Afgesproken in het convenant: Verwerkersovereenkomst met de beheerder van de hub (AVG art. 28)"), "{measures}");

    let start = SAMPLE_CONVENANT.find("controller = ").unwrap();
    let end = SAMPLE_CONVENANT.find("]\n\n# ------").unwrap() + 2;
    let bare = format!("{}{}", &SAMPLE_CONVENANT[..start], &SAMPLE_CONVENANT[end..]);
    let md = register::markdown(&parse("bare.toml", &bare).unwrap());
    assert!(md.contains("verantwoordelijke (lid 1 sub a)**: Niet vastgelegd in het convenant (veld controller in \\[convenant\\])."), "{md}");
    assert!(md.contains("Niet vastgelegd in het convenant (veld fg_contact in \\[convenant\\])."));
    assert!(md.contains("Afspraken tussen de partijen: niet vastgelegd in het convenant"));
}

#[test]
fn the_html_page_is_printable_dutch_and_escapes_the_file() {
    let text = SAMPLE_CONVENANT
        .replace(
            "region = \"Voorbeeld\"",
            "region = \"Voorbeeld\"\ndescription = \"<script>alert('x')</script> & *geen* opmaak\"",
        )
        .replace(
            "description = \"Vroegtijdig hulp bieden aan een gezin na een signaal\"",
            "description = \"<img src=x onerror=alert(1)> hulp\"",
        )
        .replace(
            "id = \"school-wijkteam-toestemming\"",
            "id = \"school-<b>wijkteam</b>\"",
        );
    let c = parse("x.toml", &text).unwrap();
    let html = register::html(&c);
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">")
    );
    assert!(html.contains("@page { size: A4;"), "print CSS");
    assert!(html.contains("<th scope=\"col\">Stroom</th>"));
    assert!(html.contains("<th scope=\"row\">Doel (lid 1 sub b)</th>"));
    assert!(
        html.contains("<h2 class=\"new-page\">Deel B — Feiten voor de DPIA (AVG art. 35)</h2>")
    );
    // Inert: no markup from the file survives.
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<b>wijkteam"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; *geen* opmaak"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; hulp"));
    assert!(html.contains("<code>school-&lt;b&gt;wijkteam&lt;/b&gt;</code>"));
    // Every element the page opens, it closes.
    for tag in [
        "table", "tr", "td", "th", "ul", "li", "p", "h2", "h3", "code", "strong",
    ] {
        let opened =
            html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count();
        let closed = html.matches(&format!("</{tag}>")).count();
        assert_eq!(opened, closed, "<{tag}>");
    }

    // The Markdown keeps the same text inert too.
    let md = register::markdown(&c);
    assert!(!md.contains("<script"), "{md}");
    assert!(
        md.contains("&lt;script&gt;alert('x')&lt;/script&gt; & \\*geen\\* opmaak"),
        "{md}"
    );
    assert!(
        md.contains("`school-<b>wijkteam</b>`:"),
        "an id stays literal in its code span"
    );
}

#[test]
fn markdown_and_html_say_the_same() {
    let c = sample();
    let md = register::markdown(&c);
    let html = register::html(&c);
    // Every heading of the Markdown is a heading of the page.
    for line in md.lines().filter(|l| l.starts_with('#')) {
        let level = line.chars().take_while(|&ch| ch == '#').count();
        let text = line[level..].trim().replace('`', "");
        let found = html.lines().any(|h| {
            h.starts_with(&format!("<h{level}"))
                && h.replace("<code>", "")
                    .replace("</code>", "")
                    .contains(&text)
        });
        assert!(found, "{line}");
    }
}
