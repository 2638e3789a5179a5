//! Explanations for people: the convenant as a readable document (Markdown, HTML) and answers to
//! one question ("may a school tell the wijkteam about X for Y, and on which basis?").

use std::fmt::Write as _;

use crate::floor::{BasisKind, VEILIG_THUIS};
use crate::model::Convenant;
use crate::policy::Policy;

/// The convenant as Markdown, for review by the FG and for the project's docs.
pub fn markdown(c: &Convenant) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", c.name);
    let _ = writeln!(s, "- version: `{}`", c.policy_version());
    if let Some(r) = &c.region {
        let _ = writeln!(s, "- region: {r}");
    }
    let _ = writeln!(
        s,
        "- recidive window: {} days",
        c.recidive_window_secs / 86_400
    );
    let _ = writeln!(
        s,
        "- consent for a child under 16 needs {} holder(s) of gezag\n",
        if c.consent_requires_all_gezag_holders {
            "all"
        } else {
            "one"
        }
    );
    let _ = writeln!(s, "## Sectors and roles\n");
    for sec in &c.sectors {
        let _ = writeln!(
            s,
            "- **{}**{}: {}",
            sec.name,
            sector_marks(sec),
            sec.roles.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "\n## Purposes\n\n| purpose | retention | description |\n|---|---|---|"
    );
    for p in &c.purposes {
        let _ = writeln!(
            s,
            "| {} | {} ({} days) | {} |",
            p.name,
            p.retention_text,
            p.retention_secs / 86_400,
            md_cell(p.description.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(
        s,
        "\n## Data categories\n\n| category | art. 9 | art. 10 | description |\n|---|---|---|---|"
    );
    for cat in &c.categories {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            cat.name,
            if cat.art9 { "yes" } else { "no" },
            if cat.art10 { "yes" } else { "no" },
            md_cell(cat.description.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(
        s,
        "\n## Legal bases\n\n| basis | kind | art. 9 ground | art. 10 ground | evidence | statute | description |\n|---|---|---|---|---|---|---|"
    );
    for b in &c.bases {
        let ev: Vec<&str> = b.evidence.iter().map(|e| e.name()).collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            b.name,
            b.kind,
            if b.art9 { "yes" } else { "no" },
            if b.art10 { "yes" } else { "no" },
            ev.join(", "),
            md_cell(&b.statute),
            md_cell(b.description.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(s, "\n## Flows\n");
    for f in &c.flows {
        let _ = writeln!(s, "### {} (line {})\n", f.id, f.line);
        if let Some(d) = &f.description {
            let _ = writeln!(s, "{d}\n");
        }
        let roles = if f.from_roles.is_empty() {
            "any role".to_string()
        } else {
            f.from_roles.join(", ")
        };
        let _ = writeln!(s, "- from: {} ({roles})", f.from.join(", "));
        let _ = writeln!(s, "- to: {}", f.to.join(", "));
        let _ = writeln!(s, "- purpose: {}", f.purpose);
        let _ = writeln!(s, "- categories: {}", f.categories.join(", "));
        let _ = writeln!(s, "- bases (any one): {}", f.bases.join(", "));
        for condition in flow_conditions(f) {
            let _ = writeln!(s, "- {condition}");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## Statutory floor (always applies)\n");
    for rule in floor_rules() {
        let _ = writeln!(s, "- {rule}");
    }
    s
}

/// The rules of the statutory floor that apply whatever the convenant says (Markdown: the
/// backticks mark a sector name).
fn floor_rules() -> [String; 5] {
    [
        format!(
            "The meldrecht (meldcode) allows reporting only to `{VEILIG_THUIS}`, with meldcode steps 1–4, the afwegingskader outcome and whether (or why not) the client was told."
        ),
        "Special-category data (art. 9 AVG) only with explicit consent or a basis that is an art. 9 ground.".into(),
        "Criminal-law data (art. 10 AVG) only in flows whose every basis is an art. 10 ground; consent is never that ground.".into(),
        "Consent must cover the recipient, purpose and category, be valid now and not withdrawn. From 16 the young person consents; under 16 a parent with gezag; health data at 12–15 needs parent and child.".into(),
        "No disclosure without a basis; data received for one purpose is passed on for another only where a flow allows it.".into(),
    ]
}

/// What a sector's name is followed by: extra (not one of the seven every region knows) and
/// shielded (never named to the family).
fn sector_marks(sec: &crate::model::Sector) -> String {
    let mut marks = Vec::new();
    if sec.extra {
        marks.push("extra");
    }
    if sec.shielded {
        marks.push("shielded: never named to the family");
    }
    if marks.is_empty() {
        String::new()
    } else {
        format!(" ({})", marks.join("; "))
    }
}

/// A flow's conditions beyond its bases, one sentence each, the same in Markdown and HTML.
fn flow_conditions(f: &crate::model::Flow) -> Vec<String> {
    let mut out = Vec::new();
    if f.also_requires_consent {
        out.push("also requires consent".to_owned());
    }
    if f.requires_involvement {
        out.push("recipient must be registered as involved".to_owned());
    }
    if !f.onward_from.is_empty() {
        out.push(format!(
            "may pass on data received for: {}",
            f.onward_from.join(", ")
        ));
    }
    if !f.obligations.is_empty() {
        let o: Vec<String> = f.obligations.iter().map(|o| o.spelling()).collect();
        out.push(format!("obligations: {}", o.join(", ")));
    }
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Escape text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The convenant as an HTML fragment: everything [`markdown`] shows (sectors and roles,
/// purposes, categories, bases, every flow with its roles, bases and conditions — "also
/// requires consent", involvement, onward purposes, obligations — and the statutory floor), in
/// tables with header cells. Every text from the file is escaped: a convenant is user-written
/// input and must not be able to inject markup into an admin page.
pub fn html(c: &Convenant) -> String {
    let e = escape_html;
    let mut s = String::new();
    let _ = writeln!(s, "<article class=\"convenant\">\n<h1>{}</h1>", e(&c.name));
    let _ = writeln!(s, "<ul class=\"facts\">");
    let _ = writeln!(
        s,
        "<li>version <code>{}</code></li>",
        e(&c.policy_version())
    );
    if let Some(r) = &c.region {
        let _ = writeln!(s, "<li>region: {}</li>", e(r));
    }
    let _ = writeln!(
        s,
        "<li>recidive window: {} days</li>\n<li>consent for a child under 16 needs {} holder(s) of gezag</li>\n</ul>",
        c.recidive_window_secs / 86_400,
        if c.consent_requires_all_gezag_holders {
            "all"
        } else {
            "one"
        }
    );
    let _ = writeln!(
        s,
        "<h2>Sectors and roles</h2>\n<table>\n<thead><tr><th scope=\"col\">sector</th><th scope=\"col\">roles</th></tr></thead>\n<tbody>"
    );
    for sec in &c.sectors {
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}{}</th><td>{}</td></tr>",
            e(&sec.name),
            e(&sector_marks(sec)),
            e(&sec.roles.join(", "))
        );
    }
    let _ = writeln!(
        s,
        "</tbody>\n</table>\n<h2>Purposes</h2>\n<table>\n<thead><tr><th scope=\"col\">purpose</th><th scope=\"col\">retention</th><th scope=\"col\">description</th></tr></thead>\n<tbody>"
    );
    for p in &c.purposes {
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{} ({} days)</td><td>{}</td></tr>",
            e(&p.name),
            e(&p.retention_text),
            p.retention_secs / 86_400,
            e(p.description.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(
        s,
        "</tbody>\n</table>\n<h2>Data categories</h2>\n<table>\n<thead><tr><th scope=\"col\">category</th><th scope=\"col\">art. 9</th><th scope=\"col\">art. 10</th><th scope=\"col\">description</th></tr></thead>\n<tbody>"
    );
    for cat in &c.categories {
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&cat.name),
            if cat.art9 { "yes" } else { "no" },
            if cat.art10 { "yes" } else { "no" },
            e(cat.description.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(
        s,
        "</tbody>\n</table>\n<h2>Legal bases</h2>\n<table>\n<thead><tr><th scope=\"col\">basis</th><th scope=\"col\">kind</th><th scope=\"col\">art. 9 ground</th><th scope=\"col\">art. 10 ground</th><th scope=\"col\">evidence</th><th scope=\"col\">statute</th><th scope=\"col\">description</th></tr></thead>\n<tbody>"
    );
    for b in &c.bases {
        let ev: Vec<&str> = b.evidence.iter().map(|e| e.name()).collect();
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&b.name),
            e(b.kind.name()),
            if b.art9 { "yes" } else { "no" },
            if b.art10 { "yes" } else { "no" },
            e(&ev.join(", ")),
            e(&b.statute),
            e(b.description.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(
        s,
        "</tbody>\n</table>\n<h2>Flows</h2>\n<table class=\"flows\">\n<thead><tr><th scope=\"col\">flow</th><th scope=\"col\">from (roles)</th><th scope=\"col\">to</th><th scope=\"col\">purpose</th><th scope=\"col\">categories</th><th scope=\"col\">bases (any one)</th><th scope=\"col\">conditions</th></tr></thead>\n<tbody>"
    );
    for f in &c.flows {
        let roles = if f.from_roles.is_empty() {
            "any role".to_string()
        } else {
            f.from_roles.join(", ")
        };
        let description = f
            .description
            .as_deref()
            .map(|d| format!("<br><span class=\"note\">{}</span>", e(d)))
            .unwrap_or_default();
        let conditions = flow_conditions(f);
        let conditions = if conditions.is_empty() {
            "—".to_owned()
        } else {
            let items: Vec<String> = conditions
                .iter()
                .map(|c| format!("<li>{}</li>", e(c)))
                .collect();
            format!("<ul>{}</ul>", items.join(""))
        };
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{} <span class=\"note\">(line {})</span>{description}</th><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{conditions}</td></tr>",
            e(&f.id),
            f.line,
            e(&f.from.join(", ")),
            e(&roles),
            e(&f.to.join(", ")),
            e(&f.purpose),
            e(&f.categories.join(", ")),
            e(&f.bases.join(", "))
        );
    }
    let _ = writeln!(
        s,
        "</tbody>\n</table>\n<h2>Statutory floor (always applies)</h2>\n<ul>"
    );
    for rule in floor_rules() {
        let _ = writeln!(s, "<li>{}</li>", e(&rule.replace('`', "")));
    }
    let _ = writeln!(s, "</ul>\n</article>");
    s
}

/// The style of the printed convenant: A4 landscape for the wide flows table, every table
/// within the page (cells wrap, long names break), header rows repeated on each page.
const PRINT_STYLE: &str = "@page{size:A4 landscape;margin:15mm}\
body{font-family:Helvetica,Arial,sans-serif;font-size:10pt;line-height:1.35;margin:1em auto;max-width:80em;overflow-wrap:break-word}\
table{border-collapse:collapse;width:100%;table-layout:auto;margin:0 0 1.2em}\
th,td{border:1px solid #999;padding:.25em .4em;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
thead th{background:#eee}thead{display:table-header-group}tr{break-inside:avoid}\
td ul{margin:0;padding-left:1.1em}.note{font-weight:normal;color:#444;font-size:.9em}\
h2{break-after:avoid;margin-top:1.4em}\
@media print{body{max-width:none;margin:0}}";

/// The convenant as a printable HTML document ([`html`] with a print style and `lang`), as
/// `signaalhub convenant explain --html` writes it.
pub fn html_document(c: &Convenant) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{PRINT_STYLE}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
        escape_html(&c.name),
        html(c)
    )
}

/// Answer one question: may `from` share `category` with `to` for `purpose`, and on which bases?
/// Lists the deciding rules (flows with their line numbers and bases) and the floor rules that
/// apply, or says plainly that nothing allows it.
pub fn question(p: &Policy, from: &str, to: &str, purpose: &str, category: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "May {from} share `{category}` with {to} for `{purpose}`?"
    );
    let mut unknown = Vec::new();
    if !p.is_known_sector(from) {
        unknown.push(format!("sector `{from}`"));
    }
    if !p.is_known_sector(to) {
        unknown.push(format!("sector `{to}`"));
    }
    if !p.is_known_purpose(purpose) {
        unknown.push(format!("purpose `{purpose}`"));
    }
    if !p.is_known_category(category) {
        unknown.push(format!("category `{category}`"));
    }
    if !unknown.is_empty() {
        let _ = writeln!(s, "No: the convenant does not know {}.", unknown.join(", "));
        return s;
    }
    let c = p.convenant();
    let flows: Vec<_> = c
        .flows
        .iter()
        .filter(|f| {
            f.from.iter().any(|x| x == from)
                && f.to.iter().any(|x| x == to)
                && f.purpose == purpose
                && f.categories.iter().any(|x| x == category)
        })
        .collect();
    if flows.is_empty() {
        let _ = writeln!(
            s,
            "No: no flow of the convenant allows it (rule NO_FLOW; deny by default)."
        );
        return s;
    }
    let art9 = p.is_art9_category(category).unwrap_or(true);
    let _ = writeln!(s, "Yes, when one of these holds:");
    for f in flows {
        let roles = if f.from_roles.is_empty() {
            String::new()
        } else {
            format!(" (roles: {})", f.from_roles.join(", "))
        };
        let _ = writeln!(s, "- flow `{}` (line {}){roles}:", f.id, f.line);
        for bname in &f.bases {
            let Some(b) = c.bases.iter().find(|b| &b.name == bname) else {
                continue;
            };
            let usable = !art9 || b.art9;
            let ev: Vec<&str> = b.evidence.iter().map(|e| e.name()).collect();
            let note = if usable {
                ""
            } else {
                " — not for this category: it is not an art. 9 ground"
            };
            let _ = writeln!(
                s,
                "  - basis `{}` ({}; {}), evidence: {}{note}",
                b.name,
                b.kind,
                b.statute,
                ev.join(", ")
            );
            if b.kind == BasisKind::Consent && art9 {
                let _ = writeln!(s, "    consent must be explicit (art. 9(2)(a) AVG)");
            }
        }
        if f.also_requires_consent {
            let _ = writeln!(s, "  - and consent of the person(s) concerned");
        }
        if f.requires_involvement {
            let _ = writeln!(s, "  - and the recipient is registered as involved");
        }
    }
    if let Some(secs) = p.retention_for(purpose) {
        let _ = writeln!(s, "Retention: {} days.", secs / 86_400);
    }
    if art9 {
        let _ = writeln!(s, "`{category}` is a special category (art. 9 AVG).");
    }
    if p.is_art10_category(category) == Some(true) {
        let _ = writeln!(
            s,
            "`{category}` is criminal-law data (art. 10 AVG): only under a basis that is an art. 10 ground."
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SAMPLE_CONVENANT, parse};

    #[test]
    fn the_html_shows_everything_the_markdown_shows() {
        let c = parse("sample.toml", SAMPLE_CONVENANT).expect("the sample is valid");
        let md = markdown(&c);
        let html = html_document(&c);
        // The Veilig Thuis -> wijkteam handover: its consent, onward purposes and obligation.
        let row = html
            .lines()
            .find(|l| l.contains(">vt-overdracht-wijkteam "))
            .expect("the handover flow has a row");
        for needle in [
            "also requires consent",
            "may pass on data received for: melding_veilig_thuis, zorgmelding_politie",
            "obligations: inform_subject",
            "veilig_thuis (any role)",
        ] {
            assert!(row.contains(needle), "{needle:?} missing in {row}");
        }
        assert!(md.contains("- also requires consent"));
        // Every condition, role list, basis and description the Markdown has is in the HTML.
        for f in &c.flows {
            for condition in flow_conditions(f) {
                assert!(html.contains(&escape_html(&condition)), "{condition}");
            }
            if !f.from_roles.is_empty() {
                assert!(html.contains(&escape_html(&f.from_roles.join(", "))));
            }
        }
        for b in &c.bases {
            let d = b
                .description
                .as_deref()
                .expect("every sample basis is described");
            assert!(md.contains(d) && html.contains(&escape_html(d)), "{d}");
            assert!(html.contains(&escape_html(&b.statute)));
        }
        for sec in &c.sectors {
            assert!(html.contains(&escape_html(&sec.roles.join(", "))));
        }
        assert!(html.contains("shielded: never named to the family"));
        assert!(
            html.contains("recidive window: 365 days") && md.contains("recidive window: 365 days")
        );
        assert!(html.contains("Statutory floor"));
        // Printable: A4, header cells, header rows repeated, no fixed widths.
        for needle in [
            "@page{size:A4",
            "<th scope=\"col\">",
            "<th scope=\"row\">",
            "display:table-header-group",
            "<html lang=\"en\">",
        ] {
            assert!(html.contains(needle), "{needle}");
        }
    }
}
