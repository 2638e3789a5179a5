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
        let extra = if sec.extra { " (extra)" } else { "" };
        let _ = writeln!(s, "- **{}**{extra}: {}", sec.name, sec.roles.join(", "));
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
        "\n## Legal bases\n\n| basis | kind | art. 9 ground | art. 10 ground | evidence | statute |\n|---|---|---|---|---|---|"
    );
    for b in &c.bases {
        let ev: Vec<&str> = b.evidence.iter().map(|e| e.name()).collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            b.name,
            b.kind,
            if b.art9 { "yes" } else { "no" },
            if b.art10 { "yes" } else { "no" },
            ev.join(", "),
            md_cell(&b.statute)
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
        if f.also_requires_consent {
            let _ = writeln!(s, "- also requires consent");
        }
        if f.requires_involvement {
            let _ = writeln!(s, "- recipient must be registered as involved");
        }
        if !f.onward_from.is_empty() {
            let _ = writeln!(
                s,
                "- may pass on data received for: {}",
                f.onward_from.join(", ")
            );
        }
        if !f.obligations.is_empty() {
            let o: Vec<String> = f.obligations.iter().map(|o| o.spelling()).collect();
            let _ = writeln!(s, "- obligations: {}", o.join(", "));
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## Statutory floor (always applies)\n");
    let _ = writeln!(
        s,
        "- The meldrecht (meldcode) allows reporting only to `{VEILIG_THUIS}`, with meldcode steps 1–4, the afwegingskader outcome and whether (or why not) the client was told."
    );
    let _ = writeln!(
        s,
        "- Special-category data (art. 9 AVG) only with explicit consent or a basis that is an art. 9 ground."
    );
    let _ = writeln!(
        s,
        "- Criminal-law data (art. 10 AVG) only in flows whose every basis is an art. 10 ground; consent is never that ground."
    );
    let _ = writeln!(
        s,
        "- Consent must cover the recipient, purpose and category, be valid now and not withdrawn. From 16 the young person consents; under 16 a parent with gezag; health data at 12–15 needs parent and child."
    );
    let _ = writeln!(
        s,
        "- No disclosure without a basis; data received for one purpose is passed on for another only where a flow allows it."
    );
    s
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

/// The convenant as an HTML fragment. Every text from the file is escaped: a convenant is
/// user-written input and must not be able to inject markup into an admin page.
pub fn html(c: &Convenant) -> String {
    let e = escape_html;
    let mut s = String::new();
    let _ = writeln!(s, "<article class=\"convenant\">\n<h1>{}</h1>", e(&c.name));
    let _ = writeln!(s, "<p>version <code>{}</code></p>", e(&c.policy_version()));
    let _ = writeln!(
        s,
        "<h2>Purposes</h2>\n<table><tr><th>purpose</th><th>retention</th><th>description</th></tr>"
    );
    for p in &c.purposes {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&p.name),
            e(&p.retention_text),
            e(p.description.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(s, "</table>\n<h2>Data categories</h2>\n<ul>");
    for cat in &c.categories {
        let art9 = if cat.art9 { " (art. 9)" } else { "" };
        let _ = writeln!(
            s,
            "<li>{}{art9}: {}</li>",
            e(&cat.name),
            e(cat.description.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(s, "</ul>\n<h2>Legal bases</h2>\n<ul>");
    for b in &c.bases {
        let _ = writeln!(
            s,
            "<li><b>{}</b> ({}): {}</li>",
            e(&b.name),
            e(b.kind.name()),
            e(&b.statute)
        );
    }
    let _ = writeln!(
        s,
        "</ul>\n<h2>Flows</h2>\n<table><tr><th>id</th><th>from</th><th>to</th><th>purpose</th><th>categories</th><th>bases</th></tr>"
    );
    for f in &c.flows {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&f.id),
            e(&f.from.join(", ")),
            e(&f.to.join(", ")),
            e(&f.purpose),
            e(&f.categories.join(", ")),
            e(&f.bases.join(", "))
        );
    }
    let _ = writeln!(s, "</table>\n</article>");
    s
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
