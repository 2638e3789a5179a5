//! Letters for the family as structured text: what the hub writes (the access report's letter,
//! the handover letter) is built once as a [`Letter`] — blocks in reading order, every phrase
//! taken from one table per [`Language`] — and rendered from that structure to accessible,
//! printable HTML ([`html`]) or to plain text ([`text`]); a client renders the same structure
//! (its wire form) to PDF. No renderer parses another's output.
//!
//! The words come from [`phrases`] (one table per language) and, for purposes, categories and
//! bases, from the convenant ([`Vocabulary`]): a reader never sees a code or an id.
use signaalhub_policy::Convenant;
use signaalhub_policy::floor::BasisKind;

pub mod phrases;

pub use phrases::Phrases;

/// A language a letter can be written in. Adding one: a variant here, its code in
/// [`Language::code`] and [`std::str::FromStr`], and its table in [`phrases`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// Dutch, the default.
    #[default]
    Nl,
    /// English.
    En,
}

/// Every language, in the order they are offered.
pub const LANGUAGES: [Language; 2] = [Language::Nl, Language::En];

impl Language {
    /// The BCP 47 tag (the HTML `lang` attribute and the wire value).
    pub fn code(self) -> &'static str {
        match self {
            Language::Nl => "nl",
            Language::En => "en",
        }
    }

    /// Its table of phrases.
    pub fn phrases(self) -> &'static Phrases {
        match self {
            Language::Nl => &phrases::NL,
            Language::En => &phrases::EN,
        }
    }

    /// The language of a request field: empty is Dutch; anything else must be a known code.
    pub fn from_request(s: &str) -> Result<Language, String> {
        if s.is_empty() {
            return Ok(Language::Nl);
        }
        s.parse()
    }
}

impl std::str::FromStr for Language {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        LANGUAGES
            .into_iter()
            .find(|l| l.code() == s)
            .ok_or_else(|| {
                // The value itself is not echoed: it is free input of any length.
                let known: Vec<&str> = LANGUAGES.iter().map(|l| l.code()).collect();
                format!(
                    "one of {} (empty: nl): the languages a letter is written in",
                    known.join(", ")
                )
            })
    }
}

/// One piece of a letter, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A section heading.
    Heading(String),
    /// A paragraph.
    Paragraph(String),
    /// A bulleted list.
    List(Vec<String>),
    /// One item described by labelled fields (e.g. one disclosure: when, from whom, to whom).
    Record {
        /// Its heading.
        title: String,
        /// Label and its values (one or more, each on its own line), in order.
        fields: Vec<(String, Vec<String>)>,
    },
    /// Text kept line for line (a signed checkpoint), set in a fixed-width font.
    Preformatted(String),
}

/// A letter: the lines above the title (sender, date), the title, the body and an annex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// The language it is written in.
    pub language: Language,
    /// Lines above the title: who sends it and when.
    pub letterhead: Vec<String>,
    /// The title (the subject of the letter).
    pub title: String,
    /// The body, in reading order.
    pub body: Vec<Block>,
    /// An annex after the body (e.g. the proof): its title and blocks.
    pub annex: Option<(String, Vec<Block>)>,
    /// The organisation that sends it.
    pub sender: String,
    /// How the family reaches the sender's privacy officer (FG); empty when the hub's directory
    /// has none (the letter then says so).
    pub privacy_contact: String,
}

/// Who sends a letter, as the hub's directory knows the organisation (an empty name: one the
/// directory does not know, named in words by the letter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sender {
    /// Its name.
    pub name: String,
    /// How the family reaches its privacy officer (FG); empty when not registered.
    pub privacy_contact: String,
    /// How it is reached in general; empty when not registered.
    pub contact_point: String,
}

impl Sender {
    /// The sender with a name a reader can read: an organisation the directory does not know is
    /// named in words, never by an id.
    pub fn named(&self, p: &Phrases) -> Sender {
        let mut s = self.clone();
        if s.name.trim().is_empty() {
            s.name = p.unknown_org.to_owned();
        }
        s
    }
}

/// Fills a phrase: each `{name}` is replaced by its value. A phrase is a sentence of the table;
/// the values are names, dates and counts.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The day of unix seconds as a person writes it: "3 maart 2026", "3 March 2026" (UTC).
pub fn long_date(language: Language, t: i64) -> String {
    let (y, m, d) = civil(t);
    let month = language.phrases().months[(m - 1) as usize];
    format!("{d} {month} {y}")
}

/// Year, month (1-12) and day of unix seconds (proleptic Gregorian, UTC).
pub fn civil(t: i64) -> (i64, i64, i64) {
    let days = t.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The closing part every letter has: how to reach the sender's privacy officer (or a plain
/// sentence that the hub does not know how, and whom to ask), and where to complain.
pub fn privacy_officer(p: &Phrases, sender: &Sender) -> Vec<Block> {
    let org = sender.name.as_str();
    let mut out = vec![
        Block::Paragraph(format!(
            "{} {}",
            fill(p.fg_who, &[("org", org)]),
            fill(p.fg_duty, &[("org", org)])
        )),
        Block::Paragraph(if sender.privacy_contact.is_empty() {
            let mut s = fill(p.fg_unknown, &[("org", org)]);
            if !sender.contact_point.is_empty() {
                s.push(' ');
                s.push_str(&fill(
                    p.org_contact,
                    &[("org", org), ("contact", &sender.contact_point)],
                ));
            }
            s
        } else {
            fill(p.fg_known, &[("contact", &sender.privacy_contact)])
        }),
    ];
    out.push(Block::Paragraph(p.complaint.into()));
    out
}

/// The convenant's words for its names, in a letter's language: the description of each
/// purpose, category and basis, or a plain generic phrase when it has none — never the name.
#[derive(Debug, Clone, Copy)]
pub struct Vocabulary<'a> {
    convenant: &'a Convenant,
    language: Language,
}

impl<'a> Vocabulary<'a> {
    /// The words of `convenant` for a letter in `language`.
    pub fn new(convenant: &'a Convenant, language: Language) -> Self {
        Vocabulary {
            convenant,
            language,
        }
    }

    /// Whether the convenant's descriptions are in another language than the letter (they are
    /// written in Dutch): the letter then says so once.
    pub fn quotes_dutch(&self) -> bool {
        self.language != Language::Nl
    }

    /// What a purpose is for.
    pub fn purpose(&self, name: &str) -> String {
        self.convenant
            .purposes
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| nonempty(p.description.as_deref()))
            .unwrap_or_else(|| self.language.phrases().purpose_unknown.to_owned())
    }

    /// What a category holds.
    pub fn category(&self, name: &str) -> String {
        self.convenant
            .categories
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| nonempty(c.description.as_deref()))
            .unwrap_or_else(|| self.language.phrases().category_unknown.to_owned())
    }

    /// What a legal basis of the convenant is, by its name: in Dutch its description, else (and
    /// in another language always) the plain words for its kind.
    pub fn legal_basis(&self, name: &str) -> String {
        let p = self.language.phrases();
        let Some(b) = self.convenant.bases.iter().find(|b| b.name == name) else {
            return p.basis_other.to_owned();
        };
        if self.language == Language::Nl
            && let Some(d) = nonempty(b.description.as_deref())
        {
            return d;
        }
        p.basis_kind(b.kind).to_owned()
    }

    /// The grounds a log entry records (`legal:<basis>`, `consent:<id>`, ...), in words, each
    /// once: a consent id becomes "consent", a legal basis its words; what is no ground for
    /// the family to read (the reporter's agreement to be named, a grant) is left out.
    pub fn grounds(&self, log_strings: &[String]) -> Vec<String> {
        let p = self.language.phrases();
        let mut out: Vec<String> = Vec::new();
        for s in log_strings {
            let words = if let Some(name) = s.strip_prefix("legal:") {
                Some(self.legal_basis(name))
            } else if s.starts_with("consent:") {
                Some(p.basis_consent.to_owned())
            } else if s.starts_with("melder:") || s.starts_with("grant:") {
                None
            } else {
                Some(p.basis_other.to_owned())
            };
            if let Some(w) = words
                && !out.contains(&w)
            {
                out.push(w);
            }
        }
        out
    }
}

fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Phrases {
    /// The plain words for a kind of legal basis.
    pub fn basis_kind(&self, kind: BasisKind) -> &'static str {
        match kind {
            BasisKind::Consent => self.basis_consent,
            BasisKind::Meldcode => self.basis_meldcode,
            BasisKind::WpgZorgmelding => self.basis_police,
            BasisKind::VeiligThuisTask => self.basis_vt_task,
            BasisKind::WgsVroegsignalering => self.basis_debt,
            BasisKind::JeugdwetInformatie => self.basis_youth_protection,
            BasisKind::VitalInterest => self.basis_vital,
            BasisKind::VeiligThuisInformation => self.basis_vt_information,
        }
    }
}

fn esc(s: &str) -> String {
    signaalhub_policy::explain::escape_html(s)
}

/// The style of a printed letter: A4 with margins, nothing wider than the page (long words and
/// the checkpoint wrap), a record never split over two pages, the annex on a page of its own.
const STYLE: &str = "@page{size:A4;margin:20mm 20mm 22mm}\
html{font-family:Helvetica,Arial,sans-serif;font-size:12pt;line-height:1.45;color:#111;background:#fff}\
body{max-width:42em;margin:0 auto;padding:1.5em;overflow-wrap:break-word}\
h1{font-size:1.6em;line-height:1.2;margin:.6em 0 .8em}\
h2{font-size:1.25em;margin:1.4em 0 .4em;break-after:avoid}\
h3{font-size:1.05em;margin:0 0 .3em;break-after:avoid}\
p{margin:0 0 .7em}ul{margin:0 0 .8em;padding-left:1.4em}\
.letterhead p{margin:0}\
.record{border-left:3px solid #777;padding:.3em 0 .3em .8em;margin:.8em 0;break-inside:avoid}\
.record dl{margin:0}.record dl div{display:flex;flex-wrap:wrap;gap:0 .6em}\
.record dt{font-weight:bold;flex:0 0 10em}.record dd{margin:0;flex:1 1 18em;min-width:0}\
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:9pt;background:#f4f4f4;padding:.5em}\
.annex{break-before:page;margin-top:2em;border-top:1px solid #999}\
@media print{body{max-width:none;padding:0}.annex{border-top:none;margin-top:0}}";

fn html_blocks(s: &mut String, blocks: &[Block]) {
    for b in blocks {
        match b {
            Block::Heading(t) => s.push_str(&format!("<h2>{}</h2>\n", esc(t))),
            Block::Paragraph(t) => s.push_str(&format!("<p>{}</p>\n", esc(t))),
            Block::List(items) => {
                s.push_str("<ul>\n");
                for i in items {
                    s.push_str(&format!("<li>{}</li>\n", esc(i)));
                }
                s.push_str("</ul>\n");
            }
            Block::Record { title, fields } => {
                s.push_str(&format!(
                    "<section class=\"record\">\n<h3>{}</h3>\n<dl>\n",
                    esc(title)
                ));
                for (label, values) in fields {
                    s.push_str(&format!("<div><dt>{}</dt>", esc(label)));
                    for v in values {
                        s.push_str(&format!("<dd>{}</dd>", esc(v)));
                    }
                    s.push_str("</div>\n");
                }
                s.push_str("</dl>\n</section>\n");
            }
            Block::Preformatted(t) => s.push_str(&format!("<pre>{}</pre>\n", esc(t))),
        }
    }
}

/// The letter as an HTML document that prints on A4: the `lang` attribute, one `h1`, sections
/// under `h2`, each record a `section` with its `h3` and a description list, the annex last on
/// a page of its own. Every text is escaped.
pub fn html(l: &Letter) -> String {
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        lang = l.language.code(),
        title = esc(&l.title),
    );
    if !l.letterhead.is_empty() {
        s.push_str("<header class=\"letterhead\">\n");
        for line in &l.letterhead {
            s.push_str(&format!("<p>{}</p>\n", esc(line)));
        }
        s.push_str("</header>\n");
    }
    s.push_str(&format!("<h1>{}</h1>\n", esc(&l.title)));
    html_blocks(&mut s, &l.body);
    s.push_str("</main>\n");
    if let Some((title, blocks)) = &l.annex {
        s.push_str(&format!(
            "<section class=\"annex\" aria-labelledby=\"annex\">\n<h2 id=\"annex\">{}</h2>\n",
            esc(title)
        ));
        html_blocks(&mut s, blocks);
        s.push_str("</section>\n");
    }
    s.push_str("</body>\n</html>\n");
    s
}

/// Plain text wrapped at [`TEXT_WIDTH`] columns.
pub const TEXT_WIDTH: usize = 76;

/// Words of `text` in lines of at most `width` characters (a longer word on a line of its own),
/// each line after the first indented by `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    // Whether the current line holds a word yet.
    let mut started = false;
    for word in text.split_whitespace() {
        if started && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
            line.push_str(indent);
            started = false;
        }
        if started {
            line.push(' ');
        }
        line.push_str(word);
        started = true;
    }
    if started {
        lines.push(line);
    }
    lines
}

fn text_blocks(s: &mut String, blocks: &[Block]) {
    for b in blocks {
        match b {
            Block::Heading(t) => {
                s.push_str(&format!("{t}\n{}\n", "-".repeat(t.chars().count())));
            }
            Block::Paragraph(t) => {
                for line in wrap(t, TEXT_WIDTH, "") {
                    s.push_str(&line);
                    s.push('\n');
                }
                s.push('\n');
            }
            Block::List(items) => {
                for i in items {
                    for (n, line) in wrap(i, TEXT_WIDTH - 2, "").iter().enumerate() {
                        s.push_str(if n == 0 { "- " } else { "  " });
                        s.push_str(line);
                        s.push('\n');
                    }
                }
                s.push('\n');
            }
            Block::Record { title, fields } => {
                s.push_str(title);
                s.push('\n');
                for (label, values) in fields {
                    for line in wrap(
                        &format!("{label}: {}", values.join("; ")),
                        TEXT_WIDTH - 2,
                        "  ",
                    ) {
                        s.push_str("  ");
                        s.push_str(&line);
                        s.push('\n');
                    }
                }
                s.push('\n');
            }
            Block::Preformatted(t) => {
                s.push_str(t);
                if !t.ends_with('\n') {
                    s.push('\n');
                }
                s.push('\n');
            }
        }
    }
}

/// The letter as plain text (wrapped, headings underlined): what a handover stores and a
/// gateway shows.
pub fn text(l: &Letter) -> String {
    let mut s = String::new();
    for line in &l.letterhead {
        s.push_str(line);
        s.push('\n');
    }
    if !l.letterhead.is_empty() {
        s.push('\n');
    }
    s.push_str(&format!(
        "{}\n{}\n\n",
        l.title,
        "=".repeat(l.title.chars().count())
    ));
    text_blocks(&mut s, &l.body);
    if let Some((title, blocks)) = &l.annex {
        s.push_str(&format!(
            "\n{title}\n{}\n\n",
            "=".repeat(title.chars().count())
        ));
        text_blocks(&mut s, blocks);
    }
    while s.ends_with("\n\n") {
        s.pop();
    }
    s
}

/// Every sentence a reader reads in the body (paragraphs, list items and record values), for
/// checking that the letter stays plain: split at `.`, `?` and `!`.
pub fn body_sentences(l: &Letter) -> Vec<String> {
    let mut texts: Vec<&str> = Vec::new();
    for b in &l.body {
        match b {
            Block::Paragraph(t) => texts.push(t),
            Block::List(items) => texts.extend(items.iter().map(String::as_str)),
            Block::Record { fields, .. } => texts.extend(
                fields
                    .iter()
                    .flat_map(|(_, v)| v.iter().map(String::as_str)),
            ),
            Block::Heading(_) | Block::Preformatted(_) => {}
        }
    }
    let mut out = Vec::new();
    for t in texts {
        let mut cur = String::new();
        let chars: Vec<char> = t.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            cur.push(*c);
            let end =
                matches!(c, '.' | '?' | '!') && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
            if end {
                if !cur.trim().is_empty() {
                    out.push(cur.trim().to_owned());
                }
                cur.clear();
            }
        }
        if !cur.trim().is_empty() {
            out.push(cur.trim().to_owned());
        }
    }
    out
}

/// Every text of the body (title, letterhead, headings, paragraphs, lists, records) joined by
/// newlines: what a reader of the body sees, without the annex.
pub fn body_text(l: &Letter) -> String {
    let mut parts: Vec<&str> = vec![l.title.as_str()];
    parts.extend(l.letterhead.iter().map(String::as_str));
    for b in &l.body {
        match b {
            Block::Heading(t) | Block::Paragraph(t) | Block::Preformatted(t) => parts.push(t),
            Block::List(items) => parts.extend(items.iter().map(String::as_str)),
            Block::Record { title, fields } => {
                parts.push(title);
                for (k, v) in fields {
                    parts.push(k);
                    parts.extend(v.iter().map(String::as_str));
                }
            }
        }
    }
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_a_person_writes_them() {
        assert_eq!(long_date(Language::Nl, 1_767_225_600), "1 januari 2026");
        assert_eq!(long_date(Language::En, 1_772_496_000), "3 March 2026");
        assert_eq!(civil(0), (1970, 1, 1));
    }

    #[test]
    fn languages_parse_and_unknown_ones_are_refused_by_name() {
        assert_eq!(Language::from_request(""), Ok(Language::Nl));
        assert_eq!(Language::from_request("en"), Ok(Language::En));
        let e = Language::from_request("de").expect_err("de is no letter language");
        assert!(e.contains("nl, en") && !e.contains("de"), "{e}");
    }

    #[test]
    fn wrapping_keeps_words_whole_and_lines_short() {
        let t = "een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien";
        let lines = wrap(t, 20, "  ");
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        assert_eq!(
            lines
                .join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            t
        );
        assert!(lines[1].starts_with("  ") && !lines[1].starts_with("   "));
    }

    #[test]
    fn html_is_escaped_accessible_and_printable() {
        let l = Letter {
            language: Language::En,
            letterhead: vec!["From: <b>".into()],
            title: "T & T".into(),
            body: vec![
                Block::Heading("H".into()),
                Block::Record {
                    title: "1.".into(),
                    fields: vec![("From".into(), vec!["A \"school\"".into(), "B".into()])],
                },
            ],
            annex: Some(("Annex".into(), vec![Block::Preformatted("x".into())])),
            sender: String::new(),
            privacy_contact: String::new(),
        };
        let h = html(&l);
        for needle in [
            "<html lang=\"en\">",
            "@page{size:A4",
            "<h1>T &amp; T</h1>",
            "From: &lt;b&gt;",
            "<dt>From</dt><dd>A &quot;school&quot;</dd><dd>B</dd>",
            "<section class=\"annex\"",
        ] {
            assert!(h.contains(needle), "{needle:?} in {h}");
        }
        assert!(!h.contains("<b>"));
    }
}
