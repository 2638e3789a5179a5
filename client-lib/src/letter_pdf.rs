//! The family's letter as a PDF, rendered from the letter's structure (`pb::Letter`, the same
//! structure the hub renders its HTML from) — never by parsing HTML. A4 pages with 20 mm
//! margins, the PDF base-14 fonts Helvetica, Helvetica-Bold and Courier in WinAnsiEncoding (so
//! ë, é and the other letters of Dutch print without embedding a font), lines broken with the
//! fonts' own character widths, a record kept on one page, the annex on a page of its own, page
//! numbers, and the document's title and language set.
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use signaalhub_proto::pb;

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 56.7;
const BOTTOM: f32 = 62.0;
const WIDTH: f32 = PAGE_W - 2.0 * MARGIN;

/// The three fonts a letter uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
    Mono,
}

impl Font {
    fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
            Font::Mono => Name(b"F3"),
        }
    }

    /// Width of a WinAnsi byte in 1/1000 em.
    fn advance(self, b: u8) -> u16 {
        let i = usize::from(b.saturating_sub(32));
        match self {
            Font::Mono => 600,
            Font::Regular => HELVETICA.get(i).copied().unwrap_or(556),
            Font::Bold => HELVETICA_BOLD.get(i).copied().unwrap_or(556),
        }
    }

    /// Width of WinAnsi text at `size` points.
    fn width(self, text: &[u8], size: f32) -> f32 {
        text.iter()
            .map(|b| f32::from(self.advance(*b)))
            .sum::<f32>()
            * size
            / 1000.0
    }
}

/// Text as WinAnsiEncoding (PDF 32000-1 Annex D.2) bytes: ASCII and Latin-1 as themselves, the
/// typographic characters of 0x80-0x9F at their places; anything else becomes `?`.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| {
            let u = c as u32;
            match u {
                0x20..=0x7E | 0xA0..=0xFF => u as u8,
                _ => match c {
                    '€' => 0x80,
                    '‚' => 0x82,
                    'ƒ' => 0x83,
                    '„' => 0x84,
                    '…' => 0x85,
                    '†' => 0x86,
                    '‡' => 0x87,
                    'ˆ' => 0x88,
                    '‰' => 0x89,
                    'Š' => 0x8A,
                    '‹' => 0x8B,
                    'Œ' => 0x8C,
                    'Ž' => 0x8E,
                    '\u{2018}' => 0x91,
                    '\u{2019}' => 0x92,
                    '\u{201C}' => 0x93,
                    '\u{201D}' => 0x94,
                    '•' => 0x95,
                    '–' => 0x96,
                    '—' => 0x97,
                    '˜' => 0x98,
                    '™' => 0x99,
                    'š' => 0x9A,
                    '›' => 0x9B,
                    'œ' => 0x9C,
                    'ž' => 0x9E,
                    'Ÿ' => 0x9F,
                    '\t' => b' ',
                    _ => b'?',
                },
            }
        })
        .collect()
}

/// Words of `text` in lines no wider than `width` points (a longer word is cut).
fn wrap(text: &[u8], font: Font, size: f32, width: f32) -> Vec<Vec<u8>> {
    let space = font.width(b" ", size);
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut used = 0.0;
    for word in text.split(|b| *b == b' ').filter(|w| !w.is_empty()) {
        let mut word = word.to_vec();
        let mut w = font.width(&word, size);
        // A word wider than the line is cut where it fills a line.
        while w > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let mut cut = 0;
            let mut acc = 0.0;
            while cut < word.len() {
                let a = f32::from(font.advance(word[cut])) * size / 1000.0;
                if acc + a > width {
                    break;
                }
                acc += a;
                cut += 1;
            }
            let cut = cut.max(1);
            lines.push(word[..cut].to_vec());
            word = word[cut..].to_vec();
            w = font.width(&word, size);
            used = 0.0;
        }
        if !line.is_empty() && used + space + w > width {
            lines.push(std::mem::take(&mut line));
            used = 0.0;
        }
        if !line.is_empty() {
            line.push(b' ');
            used += space;
        }
        line.extend_from_slice(&word);
        used += w;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// One piece of text placed on a page.
#[derive(Debug, Clone)]
struct Placed {
    font: Font,
    size: f32,
    x: f32,
    y: f32,
    text: Vec<u8>,
}

/// One line of a chunk: its pieces (font, x offset from the margin, text) on one baseline.
#[derive(Debug, Clone)]
struct Row {
    size: f32,
    above: f32,
    pieces: Vec<(Font, f32, Vec<u8>)>,
}

/// A run of lines that belongs together (kept on one page when it fits on one).
#[derive(Debug, Default)]
struct Chunk {
    rows: Vec<Row>,
}

impl Chunk {
    fn row(&mut self, size: f32, above: f32, pieces: Vec<(Font, f32, Vec<u8>)>) {
        self.rows.push(Row {
            size,
            above,
            pieces,
        });
    }

    /// Wrapped text at `x`, the first line `above` below what came before.
    fn text(&mut self, font: Font, size: f32, x: f32, text: &str, above: f32) {
        for (i, line) in wrap(&win_ansi(text), font, size, WIDTH - x)
            .into_iter()
            .enumerate()
        {
            self.row(
                size,
                if i == 0 { above } else { 0.0 },
                vec![(font, x, line)],
            );
        }
    }

    fn height(&self) -> f32 {
        self.rows.iter().map(|r| r.above + r.size * 1.4).sum()
    }
}

/// Lays chunks out on pages, top to bottom.
#[derive(Debug, Default)]
struct Pages {
    pages: Vec<Vec<Placed>>,
    y: f32,
}

impl Pages {
    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = PAGE_H - MARGIN;
    }

    fn place(&mut self, chunk: Chunk) {
        if self.pages.is_empty() {
            self.new_page();
        }
        // A chunk that fits on a page is not split: it starts a new page when needed.
        let fits_a_page = chunk.height() <= PAGE_H - MARGIN - BOTTOM;
        if fits_a_page && self.y - chunk.height() < BOTTOM {
            self.new_page();
        }
        for row in chunk.rows {
            let leading = row.size * 1.4;
            if self.y - row.above - leading < BOTTOM {
                self.new_page();
            }
            // No space above the first line of a page.
            if self.pages.last().is_some_and(|p| !p.is_empty()) {
                self.y -= row.above;
            }
            self.y -= leading;
            let y = self.y + row.size * 0.3;
            if let Some(page) = self.pages.last_mut() {
                for (font, x, text) in row.pieces {
                    page.push(Placed {
                        font,
                        size: row.size,
                        x: MARGIN + x,
                        y,
                        text,
                    });
                }
            }
        }
    }
}

const BODY: f32 = 11.0;
const SMALL: f32 = 10.0;
/// The label column of a record.
const LABEL_W: f32 = 128.0;
/// Indent of a record's fields and of a list item's text.
const INDENT: f32 = 12.0;

fn blocks(pages: &mut Pages, blocks: &[pb::LetterBlock]) {
    use pb::letter_block::Block as B;
    let mut blocks = blocks.iter().filter_map(|b| b.block.as_ref()).peekable();
    while let Some(b) = blocks.next() {
        let mut chunk = Chunk::default();
        match b {
            B::Heading(t) => {
                chunk.text(Font::Bold, 13.0, 0.0, t, 12.0);
                // A heading stays with the first lines of the paragraph after it.
                if let Some(B::Paragraph(p)) = blocks.peek() {
                    let lines = wrap(&win_ansi(p), Font::Regular, BODY, WIDTH);
                    let mut rest = Chunk::default();
                    for (i, line) in lines.into_iter().enumerate() {
                        let target = if i < 3 { &mut chunk } else { &mut rest };
                        target.row(
                            BODY,
                            if i == 0 { 3.0 } else { 0.0 },
                            vec![(Font::Regular, 0.0, line)],
                        );
                    }
                    pages.place(chunk);
                    chunk = rest;
                    blocks.next();
                }
            }
            B::Paragraph(t) => chunk.text(Font::Regular, BODY, 0.0, t, 6.0),
            B::List(list) => {
                for (n, item) in list.items.iter().enumerate() {
                    let lines = wrap(&win_ansi(item), Font::Regular, BODY, WIDTH - INDENT);
                    for (i, line) in lines.into_iter().enumerate() {
                        let mut pieces = vec![(Font::Regular, INDENT, line)];
                        let mut above = 0.0;
                        if i == 0 {
                            pieces.push((Font::Regular, 2.0, vec![0x95]));
                            above = if n == 0 { 6.0 } else { 2.0 };
                        }
                        chunk.row(BODY, above, pieces);
                    }
                }
            }
            B::Record(r) => {
                chunk.text(Font::Bold, BODY, 0.0, &r.title, 10.0);
                for f in &r.fields {
                    let label = wrap(&win_ansi(&f.label), Font::Bold, SMALL, LABEL_W - 8.0);
                    let mut values = Vec::new();
                    for v in &f.values {
                        values.extend(wrap(
                            &win_ansi(v),
                            Font::Regular,
                            SMALL,
                            WIDTH - INDENT - LABEL_W,
                        ));
                    }
                    for i in 0..label.len().max(values.len()) {
                        let mut pieces = Vec::new();
                        if let Some(l) = label.get(i) {
                            pieces.push((Font::Bold, INDENT, l.clone()));
                        }
                        if let Some(v) = values.get(i) {
                            pieces.push((Font::Regular, INDENT + LABEL_W, v.clone()));
                        }
                        chunk.row(SMALL, if i == 0 { 2.0 } else { 0.0 }, pieces);
                    }
                }
            }
            B::Preformatted(t) => {
                // Courier: every character 0.6 em wide.
                let per_line = ((WIDTH / (0.6 * 8.0)) as usize).max(1);
                for (i, line) in t.lines().enumerate() {
                    let bytes = win_ansi(line);
                    for (j, part) in bytes.chunks(per_line).enumerate() {
                        let above = if i == 0 && j == 0 { 6.0 } else { 0.0 };
                        chunk.row(8.0, above, vec![(Font::Mono, 0.0, part.to_vec())]);
                    }
                }
            }
        }
        pages.place(chunk);
    }
}

/// The letter as a PDF document.
pub fn letter_pdf(letter: &pb::Letter) -> Vec<u8> {
    let mut pages = Pages::default();
    let mut head = Chunk::default();
    for line in &letter.letterhead {
        head.text(Font::Regular, SMALL, 0.0, line, 0.0);
    }
    head.text(Font::Bold, 18.0, 0.0, &letter.title, 18.0);
    pages.place(head);
    blocks(&mut pages, &letter.body);
    if !letter.annex_title.is_empty() {
        pages.new_page();
        let mut title = Chunk::default();
        title.text(Font::Bold, 15.0, 0.0, &letter.annex_title, 0.0);
        pages.place(title);
        blocks(&mut pages, &letter.annex);
    }
    render(letter, &pages.pages)
}

fn render(letter: &pb::Letter, pages: &[Vec<Placed>]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let fonts = [
        (Font::Regular, Ref::new(4), "Helvetica"),
        (Font::Bold, Ref::new(5), "Helvetica-Bold"),
        (Font::Mono, Ref::new(6), "Courier"),
    ];
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(7 + 2 * i as i32))
        .collect();
    let language = if letter.language.is_empty() {
        "nl"
    } else {
        letter.language.as_str()
    };
    pdf.catalog(catalog).pages(tree).lang(TextStr(language));
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    pdf.document_info(info)
        .title(TextStr(&letter.title))
        .author(TextStr(&letter.sender))
        .creator(TextStr("signaal (signaalhub)"));
    for (_, id, base) in fonts {
        pdf.type1_font(id)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    let total = pages.len();
    for (n, (placed, id)) in pages.iter().zip(&page_ids).enumerate() {
        let content_id = Ref::new(id.get() + 1);
        let mut page = pdf.page(*id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        {
            let mut res = page.resources();
            let mut f = res.fonts();
            for (font, fid, _) in fonts {
                f.pair(font.resource(), fid);
            }
        }
        page.finish();
        let mut c = Content::new();
        for p in placed {
            if p.text.is_empty() {
                continue;
            }
            c.begin_text();
            c.set_font(p.font.resource(), p.size);
            c.next_line(p.x, p.y);
            c.show(Str(&p.text));
            c.end_text();
        }
        let footer = win_ansi(&format!("{} / {}", n + 1, total));
        let w = Font::Regular.width(&footer, 9.0);
        c.set_fill_gray(0.35);
        c.begin_text();
        c.set_font(Font::Regular.resource(), 9.0);
        c.next_line((PAGE_W - w) / 2.0, BOTTOM / 2.0);
        c.show(Str(&footer));
        c.end_text();
        pdf.stream(content_id, &c.finish());
    }
    pdf.finish()
}

// Advance widths of WinAnsi codes 32..=255 in Helvetica and Helvetica-Bold (1/1000 em), from
// Adobe's Core 14 AFM files (Helvetica.afm, Helvetica-Bold.afm); the Euro sign, non-breaking
// space and soft hyphen filled in from the same fonts (556, 278, 333). Adobe's notice for those
// files: "This file and the 35 PostScript(R) AFM files it accompanies may be used, copied, and
// distributed for any purpose and without charge, with or without modification, provided that
// all copyright notices are retained; that the AFM files are not distributed without this file;
// that all modifications to this file or any of the AFM files are prominently noted in the
// modified file(s); and that this paragraph is not modified. Adobe Systems has no
// responsibility or obligation to support the use of the AFM files." Only the widths are
// used here, as numbers; the AFM files themselves are not distributed.
#[rustfmt::skip]
const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 350,
    556, 350, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350,
    350, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 350, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];

#[rustfmt::skip]
const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 350,
    556, 350, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350,
    350, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 350, 500, 667,
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn para(t: &str) -> pb::LetterBlock {
        pb::LetterBlock {
            block: Some(pb::letter_block::Block::Paragraph(t.into())),
        }
    }

    /// A letter long enough for three pages, with Dutch letters everywhere.
    fn sample() -> pb::Letter {
        use pb::letter_block::Block as B;
        let mut body = vec![
            para("Beste meneer, mevrouw,"),
            pb::LetterBlock {
                block: Some(B::Heading("Wat is er gedeeld? Één overzicht".into())),
            },
        ];
        for i in 1..=14 {
            body.push(pb::LetterBlock {
                block: Some(B::Record(pb::LetterRecord {
                    title: format!("{i}. Op 3 maart 2026"),
                    fields: vec![
                        pb::LetterField {
                            label: "Van".into(),
                            values: vec!["Basisschool De Regenboog in Zoë-Hof".into()],
                        },
                        pb::LetterField {
                            label: "Welke gegevens".into(),
                            values: vec![
                                "Zorgen over de thuissituatie zoals de professional ze ziet, \
                                 met een heel lange beschrijving die over meer regels loopt"
                                    .into(),
                                "Gezondheidsgegevens, waaronder letsel (café, reünie, naïef)"
                                    .into(),
                            ],
                        },
                    ],
                })),
            });
        }
        body.push(pb::LetterBlock {
            block: Some(B::List(pb::LetterList {
                items: vec!["Bij het wijkteam: Els, telefoon 026-1".into()],
            })),
        });
        pb::Letter {
            language: "nl".into(),
            letterhead: vec!["Van: Veilig Thuis".into(), "Datum: 3 maart 2026".into()],
            title: "Welke gegevens over u zijn gedeeld?".into(),
            body,
            annex_title: "Bijlage: bewijs uit het logboek".into(),
            annex: vec![pb::LetterBlock {
                block: Some(B::Preformatted(format!(
                    "signaalhub.dev.example/log\n4242\n{}\n",
                    "A".repeat(150)
                ))),
            }],
            sender: "Veilig Thuis".into(),
            privacy_contact: String::new(),
        }
    }

    #[test]
    fn win_ansi_keeps_dutch_letters_and_replaces_the_rest() {
        assert_eq!(
            win_ansi("Zoë één café"),
            b"Zo\xEB \xE9\xE9n caf\xE9".to_vec()
        );
        assert_eq!(
            win_ansi("€ – ‘x’"),
            vec![0x80, b' ', 0x96, b' ', 0x91, b'x', 0x92]
        );
        assert_eq!(win_ansi("漢"), b"?".to_vec());
    }

    #[test]
    fn lines_stay_within_the_page() {
        let text = win_ansi(&"woord ".repeat(200));
        let long = win_ansi(&"x".repeat(400));
        for line in wrap(&text, Font::Regular, 11.0, WIDTH).iter().chain(&wrap(
            &long,
            Font::Bold,
            11.0,
            WIDTH,
        )) {
            assert!(Font::Regular.width(line, 11.0) <= WIDTH + 0.01);
        }
    }

    #[test]
    fn the_pdf_parses_and_holds_the_text_with_its_dutch_letters() {
        let bytes = letter_pdf(&sample());
        if let Ok(path) = std::env::var("SIGNAALHUB_LETTER_PDF_OUT") {
            std::fs::write(path, &bytes).unwrap();
        }
        assert!(bytes.starts_with(b"%PDF-"));
        let doc = lopdf::Document::load_mem(&bytes).expect("a PDF lopdf reads");
        let pages = doc.get_pages();
        assert!(pages.len() >= 3, "{} pages", pages.len());
        let numbers: Vec<u32> = pages.keys().copied().collect();
        let text = doc.extract_text(&numbers).unwrap();
        for needle in [
            "Welke gegevens over u zijn gedeeld?",
            "Zoë-Hof",
            "Één overzicht",
            "café, reünie, naïef",
            "Bijlage: bewijs uit het logboek",
            "1 / ",
        ] {
            assert!(text.contains(needle), "{needle:?} not in\n{text}");
        }
        // The annex starts a page of its own: the last page holds it and nothing of the body.
        let last = doc.extract_text(&[*numbers.last().unwrap()]).unwrap();
        assert!(
            last.contains("Bijlage") && !last.contains("Op 3 maart 2026"),
            "{last}"
        );
        let lang = doc.catalog().unwrap().get(b"Lang").unwrap();
        assert_eq!(lang.as_str().unwrap(), b"nl");
        // Each page is A4 and no text starts left of the margin or runs past the right one.
        for id in pages.values() {
            let page = doc.get_dictionary(*id).unwrap();
            let mb = page.get(b"MediaBox").unwrap().as_array().unwrap();
            assert_eq!(mb[2].as_float().unwrap().round(), 595.0);
            assert_eq!(mb[3].as_float().unwrap().round(), 842.0);
        }
    }
}
