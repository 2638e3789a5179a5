//! The FG's register: the register of processing activities (art. 30 AVG) and the facts for a data
//! protection impact assessment (DPIA, art. 35 AVG), both derived from the convenant, in Dutch.
//!
//! The text is built once as a small document (headings, paragraphs, lists, tables) and written
//! as Markdown ([`markdown`]) or as a printable HTML page ([`html`]), so the two never say
//! different things. Every text that comes from the convenant file is escaped in the HTML (a
//! convenant is user-written input) and kept inert in the Markdown.
//!
//! What cannot be read from the convenant is said to be derived, and from what: the categories of
//! data subjects follow from the flows (every disclosure names one or more persons; consent brings
//! in the holders of gezag; criminal-law categories the persons involved in an incident; the log
//! the professionals). The security measures are the hub's own, as built, plus what the parties
//! agreed on in `[convenant] security_measures`.

use std::fmt::Write as _;

use crate::explain::escape_html;
use crate::floor::{BasisKind, EvidenceItem};
use crate::model::{Basis, Category, Convenant, Flow, ObligationSpec, Purpose};

/// The register and DPIA fact sheet as Markdown.
pub fn markdown(c: &Convenant) -> String {
    let doc = document(c);
    let mut s = String::new();
    for block in &doc {
        block.markdown(&mut s);
    }
    s
}

/// The register and DPIA fact sheet as a complete, printable HTML page (A4, `lang="nl"`).
pub fn html(c: &Convenant) -> String {
    let doc = document(c);
    let mut s = String::new();
    let _ = writeln!(s, "<!DOCTYPE html>\n<html lang=\"nl\">\n<head>");
    let _ = writeln!(s, "<meta charset=\"utf-8\">");
    let _ = writeln!(
        s,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    );
    let _ = writeln!(
        s,
        "<title>Register van verwerkingsactiviteiten — {}</title>",
        escape_html(&c.name)
    );
    let _ = writeln!(s, "<style>{CSS}</style>\n</head>\n<body>\n<main>");
    for block in &doc {
        block.html(&mut s);
    }
    let _ = writeln!(s, "</main>\n</body>\n</html>");
    s
}

const CSS: &str = r#"
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
html { font-family: "Noto Sans", "DejaVu Sans", "Liberation Sans", Arial, sans-serif;
  font-size: 10pt; line-height: 1.4; color: #111; background: #fff; }
body { margin: 0 auto; max-width: 180mm; padding: 8mm 4mm; }
h1 { font-size: 17pt; margin: 0 0 2pt; }
h2 { font-size: 13.5pt; margin: 16pt 0 6pt; padding-bottom: 2pt; border-bottom: 1.5pt solid #1a4f8b; color: #1a4f8b; }
h3 { font-size: 11.5pt; margin: 12pt 0 4pt; }
h2, h3 { break-after: avoid; page-break-after: avoid; }
p { margin: 3pt 0 6pt; }
.lead { color: #333; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; margin: 3pt 0 9pt; }
th, td { border: 0.75pt solid #9aa5b1; padding: 3pt 5pt; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; word-break: normal; hyphens: auto; }
thead th { background: #e8eef5; font-weight: 600; }
thead { display: table-header-group; }
table:not(.fields) tr { break-inside: avoid; page-break-inside: avoid; }
table.fields th { width: 28%; background: #f3f5f8; font-weight: 600; }
td ul, td ol { margin: 0; padding-left: 12pt; }
td li + li { margin-top: 2pt; }
ul { margin: 2pt 0 6pt; padding-left: 14pt; }
code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 8.5pt;
  background: #f1f3f5; padding: 0 1.5pt; border-radius: 1.5pt; }
.new-page { break-before: page; page-break-before: always; }
@media screen { .new-page { margin-top: 28pt; } }
@media print { body { max-width: none; padding: 0; } }
"#;

// ------------------------------------------------------------------ the document model

/// A piece of running text.
enum Inline {
    Text(String),
    /// An identifier from the file (purpose, category, basis, flow id).
    Code(String),
    Strong(String),
    /// A line break in HTML (a table cell reads better), a space in Markdown.
    Break,
}

/// One line of running text.
#[derive(Default)]
struct Line(Vec<Inline>);

impl Line {
    fn t(mut self, s: impl Into<String>) -> Self {
        self.0.push(Inline::Text(s.into()));
        self
    }
    fn c(mut self, s: impl Into<String>) -> Self {
        self.0.push(Inline::Code(s.into()));
        self
    }
    fn b(mut self, s: impl Into<String>) -> Self {
        self.0.push(Inline::Strong(s.into()));
        self
    }
    fn br(mut self) -> Self {
        self.0.push(Inline::Break);
        self
    }
    /// Identifiers separated by ", ".
    fn codes<'a>(mut self, items: impl IntoIterator<Item = &'a str>) -> Self {
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self = self.t(", ");
            }
            self = self.c(item);
        }
        self
    }
    fn md(&self, table_cell: bool) -> String {
        let mut s = String::new();
        for i in &self.0 {
            match i {
                Inline::Text(t) => s.push_str(&md_text(t)),
                Inline::Code(t) => s.push_str(&md_code(t)),
                Inline::Strong(t) => {
                    let _ = write!(s, "**{}**", md_text(t));
                }
                Inline::Break => s.push(' '),
            }
        }
        if table_cell {
            s = s.replace('|', "\\|");
        }
        s.replace(['\n', '\r'], " ")
    }
    fn html(&self) -> String {
        let mut s = String::new();
        for i in &self.0 {
            match i {
                Inline::Text(t) => s.push_str(&escape_html(t)),
                Inline::Code(t) => {
                    let _ = write!(s, "<code>{}</code>", escape_html(t));
                }
                Inline::Strong(t) => {
                    let _ = write!(s, "<strong>{}</strong>", escape_html(t));
                }
                Inline::Break => s.push_str("<br>"),
            }
        }
        s
    }
}

fn text(s: impl Into<String>) -> Line {
    Line::default().t(s)
}

enum Block {
    /// Level (1-3), text, starts a new printed page.
    Heading(u8, Line, bool),
    Para(Line),
    Bullets(Vec<Line>),
    /// Label and one value (a line) or several (a list).
    Fields(Vec<(&'static str, Vec<Line>)>),
    /// Column headers with their widths in percent, and rows.
    Table(Vec<(&'static str, u8)>, Vec<Vec<Line>>),
}

impl Block {
    fn markdown(&self, s: &mut String) {
        match self {
            Block::Heading(level, line, _) => {
                let _ = writeln!(
                    s,
                    "{} {}\n",
                    "#".repeat(usize::from(*level)),
                    line.md(false)
                );
            }
            Block::Para(line) => {
                let _ = writeln!(s, "{}\n", line.md(false));
            }
            Block::Bullets(lines) => {
                for l in lines {
                    let _ = writeln!(s, "- {}", l.md(false));
                }
                s.push('\n');
            }
            Block::Fields(fields) => {
                for (label, values) in fields {
                    match values.as_slice() {
                        [one] => {
                            let _ = writeln!(s, "- **{label}**: {}", one.md(false));
                        }
                        many => {
                            let _ = writeln!(s, "- **{label}**:");
                            for v in many {
                                let _ = writeln!(s, "  - {}", v.md(false));
                            }
                        }
                    }
                }
                s.push('\n');
            }
            Block::Table(head, rows) => {
                let names: Vec<&str> = head.iter().map(|(h, _)| *h).collect();
                let _ = writeln!(s, "| {} |", names.join(" | "));
                let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
                for row in rows {
                    let cells: Vec<String> = row.iter().map(|l| l.md(true)).collect();
                    let _ = writeln!(s, "| {} |", cells.join(" | "));
                }
                s.push('\n');
            }
        }
    }

    fn html(&self, s: &mut String) {
        match self {
            Block::Heading(level, line, new_page) => {
                let class = if *new_page { " class=\"new-page\"" } else { "" };
                let _ = writeln!(s, "<h{level}{class}>{}</h{level}>", line.html());
            }
            Block::Para(line) => {
                let _ = writeln!(s, "<p>{}</p>", line.html());
            }
            Block::Bullets(lines) => {
                s.push_str("<ul>\n");
                for l in lines {
                    let _ = writeln!(s, "<li>{}</li>", l.html());
                }
                s.push_str("</ul>\n");
            }
            Block::Fields(fields) => {
                s.push_str("<table class=\"fields\">\n<tbody>\n");
                for (label, values) in fields {
                    let value = match values.as_slice() {
                        [one] => one.html(),
                        many => {
                            let items: String = many
                                .iter()
                                .map(|v| format!("<li>{}</li>", v.html()))
                                .collect();
                            format!("<ul>{items}</ul>")
                        }
                    };
                    let _ = writeln!(
                        s,
                        "<tr><th scope=\"row\">{}</th><td>{value}</td></tr>",
                        escape_html(label)
                    );
                }
                s.push_str("</tbody>\n</table>\n");
            }
            Block::Table(head, rows) => {
                s.push_str("<table>\n<colgroup>");
                for (_, w) in head {
                    let _ = write!(s, "<col style=\"width: {w}%\">");
                }
                s.push_str("</colgroup>\n<thead><tr>");
                for (h, _) in head {
                    let _ = write!(s, "<th scope=\"col\">{}</th>", escape_html(h));
                }
                s.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    s.push_str("<tr>");
                    for cell in row {
                        let _ = write!(s, "<td>{}</td>", cell.html());
                    }
                    s.push_str("</tr>\n");
                }
                s.push_str("</tbody>\n</table>\n");
            }
        }
    }
}

/// Text in Markdown, kept inert: no markup from the file takes effect (HTML, emphasis, code).
fn md_text(t: &str) -> String {
    let mut s = String::with_capacity(t.len());
    for ch in t.chars() {
        match ch {
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '\\' | '*' | '`' | '[' | ']' => {
                s.push('\\');
                s.push(ch);
            }
            _ => s.push(ch),
        }
    }
    s
}

/// A code span whose fence is longer than any run of backticks inside it.
fn md_code(t: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for ch in t.chars() {
        if ch == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    if longest > 0 {
        format!("{fence} {t} {fence}")
    } else {
        format!("{fence}{t}{fence}")
    }
}

// ------------------------------------------------------------------ the content

/// The Dutch name of a kind of basis.
fn kind_nl(k: BasisKind) -> &'static str {
    match k {
        BasisKind::Consent => "toestemming",
        BasisKind::Meldcode => "meldrecht volgens de meldcode",
        BasisKind::WpgZorgmelding => "verstrekking door de politie, Wet politiegegevens",
        BasisKind::VeiligThuisTask => "wettelijke taak van Veilig Thuis",
        BasisKind::WgsVroegsignalering => "vroegsignalering van schulden, Wgs",
        BasisKind::JeugdwetInformatie => "informatie uit de jeugdbescherming, Jeugdwet",
        BasisKind::VitalInterest => "vitaal belang",
        BasisKind::VeiligThuisInformation => "inlichtingen aan Veilig Thuis op zijn verzoek",
    }
}

fn obligation_nl(o: &ObligationSpec) -> Line {
    match o {
        ObligationSpec::InformSubject => {
            text("betrokkene informeren (tenzij een uitzondering is vastgelegd)")
        }
        ObligationSpec::NotifySender => text("de verstrekker hoort dat er gevraagd is"),
        ObligationSpec::NotifySector(s) => text("sector ").c(s).t(" op de hoogte brengen"),
        ObligationSpec::ConfirmInWriting => text("afspraken schriftelijk bevestigen"),
    }
}

fn days(secs: u64) -> u64 {
    secs / 86_400
}

fn retention_line(p: &Purpose) -> Line {
    if p.retention_text.bytes().all(|b| b.is_ascii_digit()) {
        // Written as a number of days.
        text(format!("{} dagen", days(p.retention_secs)))
    } else {
        text(format!(
            "{} ({} dagen)",
            p.retention_text,
            days(p.retention_secs)
        ))
    }
}

struct View<'c> {
    c: &'c Convenant,
}

impl<'c> View<'c> {
    fn category(&self, name: &str) -> Option<&'c Category> {
        self.c.categories.iter().find(|k| k.name == name)
    }
    fn basis(&self, name: &str) -> Option<&'c Basis> {
        self.c.bases.iter().find(|b| b.name == name)
    }
    fn is_shielded(&self, sector: &str) -> bool {
        self.c
            .sectors
            .iter()
            .any(|s| s.name == sector && s.shielded)
    }
    fn flows_for(&self, purpose: &str) -> Vec<&'c Flow> {
        self.c
            .flows
            .iter()
            .filter(|f| f.purpose == purpose)
            .collect()
    }
    /// Does the flow carry an art. 9 / art. 10 category?
    fn flow_cats(&self, f: &Flow, art: fn(&Category) -> bool) -> Vec<&'c str> {
        f.categories
            .iter()
            .filter_map(|k| self.category(k))
            .filter(|k| art(k))
            .map(|k| k.name.as_str())
            .collect()
    }
    fn flow_has_consent(&self, f: &Flow) -> bool {
        f.bases
            .iter()
            .filter_map(|b| self.basis(b))
            .any(|b| b.kind == BasisKind::Consent)
    }
    /// The flow's bases that are not consent.
    fn statutory_bases(&self, f: &Flow) -> Vec<&'c Basis> {
        f.bases
            .iter()
            .filter_map(|b| self.basis(b))
            .filter(|b| b.kind != BasisKind::Consent)
            .collect()
    }
    /// `sector` with the names of its parties, and whether it is shielded.
    fn sector_line(&self, sector: &str) -> Line {
        let parties: Vec<&str> = self
            .c
            .parties
            .iter()
            .filter(|p| p.sector == sector)
            .map(|p| p.name.as_str())
            .collect();
        let mut l = Line::default().c(sector);
        if !parties.is_empty() {
            l = l.t(format!(": {}", parties.join("; ")));
        }
        if self.is_shielded(sector) {
            l = l.t(" (afgeschermd: het gezin ziet deze organisatie niet in zijn inzage)");
        }
        l
    }
    /// `from → to` of a flow.
    fn route(&self, f: &Flow) -> Line {
        Line::default()
            .c(&f.id)
            .t(":")
            .br()
            .codes(f.from.iter().map(String::as_str))
            .t(" → ")
            .codes(f.to.iter().map(String::as_str))
    }
    fn basis_line(&self, b: &Basis) -> Line {
        let mut l = Line::default()
            .c(&b.name)
            .t(format!(" ({}): {}", kind_nl(b.kind), b.statute));
        let flags: Vec<&str> = [(b.art9, "art. 9-grond"), (b.art10, "art. 10-grond")]
            .into_iter()
            .filter_map(|(on, f)| on.then_some(f))
            .collect();
        if !flags.is_empty() {
            l = l.t(" — ").b(flags.join(", "));
        }
        l
    }
    fn category_line(&self, k: &Category) -> Line {
        let mut l = Line::default().c(&k.name);
        if let Some(d) = &k.description {
            l = l.t(format!(": {d}"));
        }
        if k.art9 {
            l = l.t(" — ").b("bijzonder persoonsgegeven (art. 9 AVG)");
        }
        if k.art10 {
            l = l.t(" — ").b("strafrechtelijk gegeven (art. 10 AVG)");
        }
        l
    }
}

/// Keep the convenant's order and drop duplicates.
fn in_order<'a>(order: impl Iterator<Item = &'a str>, wanted: &[&str]) -> Vec<&'a str> {
    order.filter(|n| wanted.contains(n)).collect()
}

fn document(c: &Convenant) -> Vec<Block> {
    let v = View { c };
    let mut doc = Vec::new();
    doc.push(Block::Heading(
        1,
        text("Register van verwerkingsactiviteiten en DPIA-gegevens"),
        false,
    ));
    doc.push(Block::Para(
        Line::default()
            .b(&c.name)
            .t(format!(" — versie {}", c.policy_version())),
    ));
    doc.push(Block::Para(text(
        "Afgeleid uit het convenant door signaalhub (signaalhub convenant register). Deel A is het \
         register van verwerkingsactiviteiten (AVG art. 30 lid 1), deel B de feiten voor een \
         gegevensbeschermingseffectbeoordeling (DPIA, AVG art. 35). Dit is geen juridisch advies: \
         elke wetsverwijzing is tekst uit het convenant die de FG controleert.",
    )));
    let mut general: Vec<(&'static str, Vec<Line>)> = vec![("Convenant", vec![text(&c.name)])];
    if let Some(r) = &c.region {
        general.push(("Regio", vec![text(r)]));
    }
    if let Some(d) = &c.description {
        general.push(("Beschrijving", vec![text(d)]));
    }
    general.push((
        "Versie (in elke logregel)",
        vec![Line::default().c(c.policy_version())],
    ));
    doc.push(Block::Fields(general));

    part_a(&v, &mut doc);
    part_b(&v, &mut doc);
    doc
}

fn part_a(v: &View<'_>, doc: &mut Vec<Block>) {
    let c = v.c;
    doc.push(Block::Heading(
        2,
        text("Deel A — Register van verwerkingsactiviteiten (AVG art. 30)"),
        false,
    ));
    doc.push(Block::Heading(
        3,
        text("Voor alle verwerkingsactiviteiten"),
        false,
    ));
    let controller = match &c.controller {
        Some(t) => text(t),
        None => text(
            "Niet vastgelegd in het convenant (veld controller in [convenant]). Leg vast wie \
             verwerkingsverantwoordelijke is, per partij of gezamenlijk (AVG art. 26).",
        ),
    };
    let fg = match &c.fg_contact {
        Some(t) => text(t),
        None => text("Niet vastgelegd in het convenant (veld fg_contact in [convenant])."),
    };
    let parties: Vec<Line> = if c.parties.is_empty() {
        vec![text(
            "Geen partijen bij naam genoemd: elke organisatie van een deelnemende sector in de \
             adreslijst van de hub.",
        )]
    } else {
        c.parties
            .iter()
            .map(|p| {
                let mut l = text(&p.name).t(" (sector ").c(&p.sector);
                if let Some(oin) = &p.oin {
                    l = l.t(", OIN ").c(oin);
                }
                l.t(")")
            })
            .collect()
    };
    let mut measures = hub_measures();
    if c.security_measures.is_empty() {
        measures.push(text(
            "Afspraken tussen de partijen: niet vastgelegd in het convenant (veld \
             security_measures in [convenant]).",
        ));
    } else {
        for m in &c.security_measures {
            measures.push(text("Afgesproken in het convenant: ").t(m));
        }
    }
    doc.push(Block::Fields(vec![
        (
            "Verwerkings\u{ad}verantwoordelijke (lid 1 sub a)",
            vec![controller],
        ),
        ("Functionaris gegevensbescherming (lid 1 sub a)", vec![fg]),
        ("Partijen", parties),
        (
            "Doorgifte buiten de EU (lid 1 sub e)",
            vec![text(
                "Geen. Alle ontvangers zijn partijen in dit convenant; de hub geeft geen \
                 persoonsgegevens door aan derde landen of internationale organisaties.",
            )],
        ),
        ("Beveiligingsmaatregelen (lid 1 sub g, art. 32)", measures),
    ]));
    doc.push(Block::Para(text(
        "Het convenant noemt de categorieën van betrokkenen niet apart; het register leidt ze af \
         uit de stromen en zegt bij elke verwerkingsactiviteit waaruit. Elke verstrekking noemt \
         één of meer personen (een kind, een ouder, een huisgenoot) en de hub beslist per persoon; \
         hij bewaart alleen hun pseudoniem. Waar toestemming telt, geven ouders met gezag of de \
         jongere die (UAVG art. 5). Strafrechtelijke categorieën gaan ook over anderen die bij een \
         incident betrokken waren. Het verstrekkingenlog legt bij elke verstrekking vast welke \
         professional handelde, met rol en organisatie (NEN 7513).",
    )));
    doc.push(Block::Para(text(
        "Bewaartermijnen gelden per doel, vanaf de verstrekking. Na afloop wist de hub het \
         versleutelde bericht, de pseudoniemen en de grondslag; dat er iets verstrekt is, blijft \
         in het verstrekkingenlog staan.",
    )));

    // Overview.
    let rows: Vec<Vec<Line>> = c
        .purposes
        .iter()
        .map(|p| {
            let flows = v.flows_for(&p.name);
            let to: Vec<&str> = flows
                .iter()
                .flat_map(|f| f.to.iter().map(String::as_str))
                .collect();
            let cats: Vec<&str> = flows
                .iter()
                .flat_map(|f| f.categories.iter().map(String::as_str))
                .collect();
            let mut marks = Vec::new();
            if cats.iter().any(|k| v.category(k).is_some_and(|k| k.art9)) {
                marks.push("art. 9");
            }
            if cats.iter().any(|k| v.category(k).is_some_and(|k| k.art10)) {
                marks.push("art. 10");
            }
            vec![
                Line::default().c(&p.name),
                Line::default().codes(in_order(c.sectors.iter().map(|s| s.name.as_str()), &to)),
                retention_line(p),
                text(if marks.is_empty() {
                    "—".to_string()
                } else {
                    marks.join(", ")
                }),
            ]
        })
        .collect();
    doc.push(Block::Heading(3, text("Overzicht"), false));
    doc.push(Block::Table(
        vec![
            ("Verwerkingsactiviteit (doel)", 32),
            ("Ontvangers", 34),
            ("Bewaartermijn", 18),
            ("Bijzonder / strafrechtelijk", 16),
        ],
        rows,
    ));

    for p in &c.purposes {
        activity(v, p, doc);
    }
}

/// The hub's own technical measures, as built (docs/ARCHITECTURE.md, docs/SECURITY.md).
fn hub_measures() -> Vec<Line> {
    vec![
        text(
            "Organisaties maken zich bekend met een PKIoverheid-certificaat (wederzijdse TLS, het \
             OIN uit het certificaat); professionals met een ondertekend token van de identity \
             provider van hun eigen organisatie, met een vast algoritme per sleutel.",
        ),
        text(
            "De inhoud is end-to-end versleuteld (HPKE naar de sleutel van elke ontvanger) en \
             ondertekend door de afzender (Ed25519): de hub kan de inhoud niet lezen en bewaart \
             alleen versleutelde berichten.",
        ),
        text(
            "Geen BSN in opslag: betrokkenen staan er alleen als pseudoniem (HMAC-SHA256 met een \
             geheime, versioneerde sleutel van de hub).",
        ),
        text(
            "Elke verstrekking wordt vooraf getoetst aan dit convenant en de wettelijke ondergrens \
             (niets mag, tenzij een stroom het toestaat) en bij aflevering opnieuw; een \
             ingetrokken toestemming houdt tegen wat nog niet is afgeleverd.",
        ),
        text(
            "Verstrekkingenlog met de velden van NEN 7513 (wie, namens welke organisatie, over \
             wie, wat, wanneer, op welke grondslag), geschreven in dezelfde transactie als de \
             verstrekking; manipulatie is aantoonbaar (Merkle-boom volgens RFC 9162 met \
             ondertekende checkpoints, te controleren met signaalhub log verify).",
        ),
        text(
            "Bewaartermijn per doel: na afloop wist de hub de inhoud zelf en legt hij elke wissing \
             vast in het log.",
        ),
        text(
            "Inzage voor het gezin met afscherming van melders en afgeschermde sectoren; \
             foutmeldingen van de hub herhalen nooit een BSN.",
        ),
    ]
}

fn activity(v: &View<'_>, p: &Purpose, doc: &mut Vec<Block>) {
    let c = v.c;
    doc.push(Block::Heading(
        3,
        text("Verwerkingsactiviteit ").c(&p.name),
        false,
    ));
    let flows = v.flows_for(&p.name);
    let doel = match &p.description {
        Some(d) => text(d),
        None => text("(geen beschrijving in het convenant)"),
    };
    let mut fields: Vec<(&'static str, Vec<Line>)> = vec![("Doel (lid 1 sub b)", vec![doel])];
    if flows.is_empty() {
        fields.push((
            "Stromen",
            vec![text(
                "Geen: geen stroom van het convenant gebruikt dit doel, dus onder dit doel wordt \
                 niets verstrekt.",
            )],
        ));
        fields.push(("Bewaartermijn (lid 1 sub f)", vec![retention_line(p)]));
        doc.push(Block::Fields(fields));
        return;
    }
    let sector_order = || c.sectors.iter().map(|s| s.name.as_str());
    let from: Vec<&str> = flows
        .iter()
        .flat_map(|f| f.from.iter().map(String::as_str))
        .collect();
    let to: Vec<&str> = flows
        .iter()
        .flat_map(|f| f.to.iter().map(String::as_str))
        .collect();
    let cats: Vec<&str> = flows
        .iter()
        .flat_map(|f| f.categories.iter().map(String::as_str))
        .collect();
    let bases: Vec<&str> = flows
        .iter()
        .flat_map(|f| f.bases.iter().map(String::as_str))
        .collect();
    fields.push((
        "Verstrekkers",
        in_order(sector_order(), &from)
            .into_iter()
            .map(|s| v.sector_line(s))
            .collect(),
    ));
    fields.push((
        "Ontvangers (lid 1 sub d)",
        in_order(sector_order(), &to)
            .into_iter()
            .map(|s| v.sector_line(s))
            .collect(),
    ));
    fields.push((
        "Categorieën persoonsgegevens (lid 1 sub c)",
        in_order(c.categories.iter().map(|k| k.name.as_str()), &cats)
            .into_iter()
            .filter_map(|k| v.category(k))
            .map(|k| v.category_line(k))
            .collect(),
    ));
    fields.push(("Categorieën betrokkenen (lid 1 sub c)", subjects(v, &flows)));
    let mut grounds: Vec<Line> = in_order(c.bases.iter().map(|b| b.name.as_str()), &bases)
        .into_iter()
        .filter_map(|b| v.basis(b))
        .map(|b| v.basis_line(b))
        .collect();
    if flows.iter().any(|f| f.also_requires_consent)
        && !bases
            .iter()
            .any(|b| v.basis(b).is_some_and(|b| b.kind == BasisKind::Consent))
        && let Some(cb) = c.bases.iter().find(|b| b.kind == BasisKind::Consent)
    {
        grounds.push(text("en daarnaast toestemming (").c(&cb.name).t(format!(
            "): {}; een voorwaarde van het convenant, geen grondslag",
            cb.statute
        )));
    }
    fields.push(("Grondslagen", grounds));
    fields.push((
        "Bewaartermijn (lid 1 sub f)",
        vec![retention_line(p).t(" na de verstrekking")],
    ));
    fields.push(("Stromen", flows.iter().map(|f| flow_line(v, f)).collect()));
    doc.push(Block::Fields(fields));
}

/// One flow with what the convenant adds to it.
fn flow_line(v: &View<'_>, f: &Flow) -> Line {
    let mut l = v.route(f);
    let mut extra: Vec<Line> = Vec::new();
    if f.also_requires_consent {
        extra.push(text("ook toestemming vereist"));
    }
    if f.requires_involvement {
        extra.push(text("alleen aan een ontvanger die betrokken is"));
    }
    if !f.onward_from.is_empty() {
        extra.push(
            text("mag doorgeven wat ontvangen is voor ")
                .codes(f.onward_from.iter().map(String::as_str)),
        );
    }
    for o in &f.obligations {
        extra.push(obligation_nl(o));
    }
    if !extra.is_empty() {
        for (i, e) in extra.into_iter().enumerate() {
            l = l.t(if i == 0 { " (" } else { "; " });
            l.0.extend(e.0);
        }
        l = l.t(")");
    }
    l
}

/// The categories of data subjects, derived from the flows of one purpose.
fn subjects(v: &View<'_>, flows: &[&Flow]) -> Vec<Line> {
    let mut out = vec![text(
        "Kinderen en volwassenen over wie gedeeld wordt, en hun gezinsleden of huisgenoten \
         (afgeleid uit: elke verstrekking)",
    )];
    let consent: Vec<&str> = flows
        .iter()
        .filter(|f| f.also_requires_consent || v.flow_has_consent(f))
        .map(|f| f.id.as_str())
        .collect();
    if !consent.is_empty() {
        out.push(
            text(
                "Ouders met gezag en jongeren die toestemming geven (afgeleid uit: toestemming in ",
            )
            .codes(consent)
            .t(")"),
        );
    }
    let art10: Vec<&str> = flows
        .iter()
        .flat_map(|f| v.flow_cats(f, |k| k.art10))
        .collect();
    if !art10.is_empty() {
        let art10 = in_order(v.c.categories.iter().map(|k| k.name.as_str()), &art10);
        out.push(
            text(
                "Bij een incident betrokken personen, zoals verdachte, slachtoffer of getuige \
                 (afgeleid uit: ",
            )
            .codes(art10)
            .t(")"),
        );
    }
    out.push(text(
        "Professionals van verstrekker en ontvanger (afgeleid uit: het verstrekkingenlog)",
    ));
    out
}

fn part_b(v: &View<'_>, doc: &mut Vec<Block>) {
    let c = v.c;
    doc.push(Block::Heading(
        2,
        text("Deel B — Feiten voor de DPIA (AVG art. 35)"),
        true,
    ));
    doc.push(Block::Para(text(
        "De feiten uit het convenant die een DPIA nodig heeft. De afweging zelf (noodzaak, \
         proportionaliteit, risico's voor betrokkenen) maakt de verwerkingsverantwoordelijke met \
         de FG.",
    )));

    // Special categories and criminal-law data.
    for (is_art9, title, none) in [
        (
            true,
            "Bijzondere persoonsgegevens (AVG art. 9)",
            "Het convenant kent geen bijzondere persoonsgegevens.",
        ),
        (
            false,
            "Strafrechtelijke gegevens (AVG art. 10)",
            "Het convenant kent geen strafrechtelijke gegevens.",
        ),
    ] {
        let art = |k: &Category| if is_art9 { k.art9 } else { k.art10 };
        let mark_basis = |b: &Basis| if is_art9 { b.art9 } else { b.art10 };
        doc.push(Block::Heading(3, text(title), false));
        let mut rows = Vec::new();
        for k in c.categories.iter().filter(|k| art(k)) {
            for f in c.flows.iter().filter(|f| f.categories.contains(&k.name)) {
                let grounds: Vec<&str> = f
                    .bases
                    .iter()
                    .filter(|b| v.basis(b).is_some_and(&mark_basis))
                    .map(String::as_str)
                    .collect();
                let mut g = Line::default().codes(grounds);
                if is_art9 && v.flow_has_consent(f) {
                    g = g.t(" (toestemming alleen als die uitdrukkelijk is)");
                }
                if f.also_requires_consent {
                    g = g.t("; daarnaast toestemming (voorwaarde van het convenant)");
                }
                rows.push(vec![Line::default().c(&k.name), v.route(f), g]);
            }
            if !c.flows.iter().any(|f| f.categories.contains(&k.name)) {
                rows.push(vec![
                    Line::default().c(&k.name),
                    text("geen stroom"),
                    text("—"),
                ]);
            }
        }
        if rows.is_empty() {
            doc.push(Block::Para(text(none)));
        } else {
            doc.push(Block::Table(
                vec![
                    ("Categorie", 24),
                    ("Stroom", 46),
                    ("Grond in die stroom", 30),
                ],
                rows,
            ));
        }
    }
    doc.push(Block::Para(text(
        "Wettelijke ondergrens: strafrechtelijke gegevens alleen in een stroom waarvan elke \
         grondslag een art. 10-grond is; toestemming is daarvoor nooit de grond (de gegevens gaan \
         vaak over anderen dan wie toestemde, zoals een verdachte; zie docs/CONVENANT.md, Art. 10).",
    )));

    minors(v, doc);
    without_consent(v, doc);

    doc.push(Block::Heading(3, text("Afgeschermde sectoren"), false));
    let shielded: Vec<Line> = c
        .sectors
        .iter()
        .filter(|s| s.shielded)
        .map(|s| {
            let mut l = Line::default().c(&s.name);
            if let Some(d) = &s.description {
                l = l.t(format!(": {d}"));
            }
            l
        })
        .collect();
    if shielded.is_empty() {
        doc.push(Block::Para(text("Geen.")));
    } else {
        doc.push(Block::Bullets(shielded));
        doc.push(Block::Para(text(
            "In een inzageverzoek en de brief aan het gezin staat een verstrekking waarin zo'n \
             organisatie handelde of ontving zonder haar naam, behalve voor die organisatie zelf.",
        )));
    }

    retention_extremes(v, doc);

    let onward: Vec<Line> = c
        .flows
        .iter()
        .filter(|f| !f.onward_from.is_empty())
        .map(|f| {
            v.route(f)
                .t(" voor ")
                .c(&f.purpose)
                .t(" mag doorgeven wat ontvangen is voor ")
                .codes(f.onward_from.iter().map(String::as_str))
        })
        .collect();
    doc.push(Block::Heading(
        3,
        text("Verdere verwerking voor een ander doel (AVG art. 6 lid 4)"),
        false,
    ));
    if onward.is_empty() {
        doc.push(Block::Para(text(
            "Geen: gegevens die voor één doel zijn ontvangen, gaan nooit voor een ander doel door.",
        )));
    } else {
        doc.push(Block::Bullets(onward));
        doc.push(Block::Para(text(
            "Alle andere doorgifte voor een ander doel weigert de hub.",
        )));
    }

    doc.push(Block::Heading(
        3,
        text("Wettelijke ondergrens (geldt altijd, ook als het convenant iets anders zegt)"),
        false,
    ));
    doc.push(Block::Bullets(vec![
        text(
            "Meldrecht (meldcode) alleen naar Veilig Thuis, na stap 1 tot en met 4 van de \
             meldcode, met de uitkomst van het afwegingskader en of (of waarom niet) de cliënt is \
             ingelicht.",
        ),
        text(
            "Bijzondere persoonsgegevens (art. 9) alleen met uitdrukkelijke toestemming of een \
             grondslag die een art. 9-grond is.",
        ),
        text(
            "Strafrechtelijke gegevens (art. 10) alleen als elke grondslag van de stroom een art. \
             10-grond is; toestemming is nooit die grond.",
        ),
        text(
            "Toestemming geldt alleen voor de ontvanger, het doel en de categorieën waarvoor zij is \
             gegeven, binnen haar geldigheid en zolang zij niet is ingetrokken.",
        ),
        text(
            "Geen verstrekking zonder grondslag; wettelijke grondslagen alleen door de sector die de \
             wet noemt (Wpg: politie; taak Veilig Thuis: Veilig Thuis; Wgs: woningcorporatie; \
             Jeugdwet: jeugdbescherming).",
        ),
    ]));
}

fn minors(v: &View<'_>, doc: &mut Vec<Block>) {
    let c = v.c;
    doc.push(Block::Heading(3, text("Minderjarigen"), false));
    let holders = if c.consent_requires_all_gezag_holders {
        "alle ouders met gezag (UAVG art. 5; dit convenant vraagt alle gezaghebbenden: \
         consent_requires_all_gezag_holders = true)"
    } else {
        "één ouder met gezag (UAVG art. 5; dit convenant vraagt één gezaghebbende: \
         consent_requires_all_gezag_holders = false)"
    };
    doc.push(Block::Para(text(
        "Alle stromen kunnen over kinderen gaan: de hub is er voor de veiligheid van kinderen en \
         gezinnen. Bij elke verstrekking legt de verstrekker de leeftijd en de gezaghebbenden van \
         de betrokkene vast; waar toestemming telt, gelden deze regels:",
    )));
    doc.push(Block::Bullets(vec![
        text(format!("jonger dan 16 jaar: toestemming van {holders};")),
        text(
            "12 tot en met 15 jaar en bijzondere persoonsgegevens: ook de jongere zelf \
             (wettelijke ondergrens van de hub);",
        ),
        text(
            "vanaf 16 jaar: de jongere zelf; de toestemming van een ouder komt daar niet voor in \
             de plaats;",
        ),
        text("onbekende leeftijd of onbekende gezaghebbenden: geen geldige toestemming."),
    ]));
    let rows: Vec<Vec<Line>> = c
        .flows
        .iter()
        .map(|f| {
            let has = v.flow_has_consent(f);
            let (role, rule) = match (has, f.also_requires_consent) {
                (true, _) if v.statutory_bases(f).is_empty() => (
                    text("grondslag (de enige)"),
                    text("de leeftijdsregels hierboven"),
                ),
                (true, _) => (
                    text("een van de grondslagen"),
                    text("de leeftijdsregels hierboven als op toestemming wordt verstrekt; anders telt de leeftijd niet"),
                ),
                (false, true) => (
                    text("voorwaarde naast de wettelijke grondslag"),
                    text("de leeftijdsregels hierboven"),
                ),
                (false, false) => (
                    text("niet nodig"),
                    text("wettelijke grondslag; de leeftijd telt niet mee in de beslissing"),
                ),
            };
            let art9 = v.flow_cats(f, |k| k.art9);
            let rule = if (has || f.also_requires_consent) && !art9.is_empty() {
                let mut r = rule.t("; voor ").codes(art9);
                r = r.t(" uitdrukkelijke toestemming, van 12 tot en met 15 jaar ook van de jongere");
                r
            } else {
                rule
            };
            vec![v.route(f), role, rule]
        })
        .collect();
    doc.push(Block::Table(
        vec![
            ("Stroom", 38),
            ("Toestemming", 22),
            ("Regels voor minderjarigen", 40),
        ],
        rows,
    ));
}

fn without_consent(v: &View<'_>, doc: &mut Vec<Block>) {
    let c = v.c;
    doc.push(Block::Heading(
        3,
        text("Stromen zonder toestemming (wettelijke grondslag)"),
        false,
    ));
    doc.push(Block::Para(text(
        "Deze stromen mogen verstrekken zonder toestemming van het gezin, op de genoemde \
         grondslag (ook waar toestemming daarnaast een grondslag van de stroom is).",
    )));
    let mut rows = Vec::new();
    let mut also = Vec::new();
    for f in &c.flows {
        let statutory = v.statutory_bases(f);
        if statutory.is_empty() {
            continue;
        }
        if f.also_requires_consent {
            also.push(f);
            continue;
        }
        let grounds = statutory.iter().fold(Line::default(), |l, b| {
            let l = if l.0.is_empty() { l } else { l.t("; ") };
            l.c(&b.name)
                .t(format!(" ({}): {}", kind_nl(b.kind), b.statute))
        });
        let inform = if f.obligations.contains(&ObligationSpec::InformSubject) {
            text("ja: verplichting van de stroom, tenzij een uitzondering is vastgelegd")
        } else if statutory
            .iter()
            .any(|b| b.evidence.contains(&EvidenceItem::ClientInformed))
        {
            text("de verstrekker legt vast of de cliënt is ingelicht, of waarom niet")
        } else {
            text("geen verplichting in het convenant (AVG art. 13 en 14 gelden wel)")
        };
        rows.push(vec![
            v.route(f),
            Line::default().c(&f.purpose),
            grounds,
            inform,
        ]);
    }
    if rows.is_empty() {
        doc.push(Block::Para(text("Geen: elke stroom vraagt toestemming.")));
    } else {
        doc.push(Block::Table(
            vec![
                ("Stroom", 26),
                ("Doel", 16),
                ("Grondslag zonder toestemming", 38),
                ("Betrokkene informeren", 20),
            ],
            rows,
        ));
    }
    if !also.is_empty() {
        let mut l =
            text("Met een wettelijke grondslag, maar het convenant vraagt ook toestemming: ");
        for (i, f) in also.iter().enumerate() {
            if i > 0 {
                l = l.t("; ");
            }
            l.0.extend(v.route(f).0);
        }
        doc.push(Block::Para(l.t(".")));
    }
}

fn retention_extremes(v: &View<'_>, doc: &mut Vec<Block>) {
    let c = v.c;
    doc.push(Block::Heading(3, text("Bewaartermijnen"), false));
    let (Some(min), Some(max)) = (
        c.purposes.iter().map(|p| p.retention_secs).min(),
        c.purposes.iter().map(|p| p.retention_secs).max(),
    ) else {
        return;
    };
    let with = |secs: u64| {
        let names: Vec<&str> = c
            .purposes
            .iter()
            .filter(|p| p.retention_secs == secs)
            .map(|p| p.name.as_str())
            .collect();
        text(format!("{} dagen: ", days(secs))).codes(names)
    };
    doc.push(Block::Fields(vec![
        ("Kortste", vec![with(min)]),
        ("Langste", vec![with(max)]),
        (
            "Verstrekkingenlog",
            vec![text(
                "Het log zelf valt niet onder deze termijnen: een gewiste verstrekking blijft als \
                 logregel staan (met pseudoniemen, zonder inhoud). De leesbare id van de \
                 professional naast elke logregel wist de hub na retention.log_professional_days \
                 (standaard 1826 dagen, NEN 7513).",
            )],
        ),
    ]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_text_is_inert() {
        assert_eq!(
            md_text("<b>*x*</b> `y` [a](b)"),
            "&lt;b&gt;\\*x\\*&lt;/b&gt; \\`y\\` \\[a\\](b)"
        );
        assert_eq!(md_code("a`b"), "`` a`b ``");
        assert_eq!(md_code("ab"), "`ab`");
    }
}
