//! Located, actionable diagnostics for a convenant file.
//!
//! An FG or a regional coordinator edits the convenant by hand. A diagnostic therefore always says
//! *where* (file, line, column, key path), *what* is wrong, and *what would be right*, in the style of
//! a compiler: `sample.toml:42:3: flows[3].bases: unknown basis `meldrech`; did you mean `meldrecht`?`.
//! All problems are collected so that one edit–check cycle shows everything.

use std::fmt;
use std::ops::Range;

/// One problem found in a convenant file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name the caller passed to [`crate::parse`] (the policy crate never opens files).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters (not bytes).
    pub column: usize,
    /// Dotted key path with 0-based array indices, e.g. `flows[3].bases`; empty for the document.
    pub key_path: String,
    /// Stable machine-readable code, e.g. `UNKNOWN_SECTOR`, `TOML_SYNTAX`, `FLOOR_MELDRECHT_ONLY_TO_VEILIG_THUIS`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// What would be right (a suggestion), when we can say.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.key_path.is_empty() {
            write!(f, "{}: ", self.key_path)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "; {help}")?;
        }
        write!(f, " [{}]", self.code)
    }
}

/// All diagnostics of one file, sorted by position. Never empty when returned as an error.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The diagnostics, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
    /// Number of diagnostics.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        write!(f, "{} error(s)", self.0.len())
    }
}

impl std::error::Error for Diagnostics {}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Collects diagnostics and turns byte offsets into line/column.
#[derive(Debug)]
pub(crate) struct Sink<'s> {
    file: &'s str,
    source: &'s str,
    /// Byte offset at which each line starts.
    line_starts: Vec<usize>,
    items: Vec<(usize, Diagnostic)>,
}

impl<'s> Sink<'s> {
    pub(crate) fn new(file: &'s str, source: &'s str) -> Self {
        let mut line_starts = vec![0];
        for (i, b) in source.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        Self {
            file,
            source,
            line_starts,
            items: Vec::new(),
        }
    }

    /// 1-based line and character column of a byte offset (clamped to the source).
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.source.len());
        let line_idx = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line_idx).copied().unwrap_or(0);
        // Count characters, not bytes; fall back gracefully if the offset is not on a boundary.
        let col = self
            .source
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line_idx + 1, col + 1)
    }

    pub(crate) fn error(
        &mut self,
        span: Range<usize>,
        key_path: &str,
        code: &'static str,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let (line, column) = self.line_col(span.start);
        self.items.push((
            span.start,
            Diagnostic {
                file: self.file.to_string(),
                line,
                column,
                key_path: key_path.to_string(),
                code,
                message: message.into(),
                help,
            },
        ));
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.items.is_empty()
    }

    pub(crate) fn finish(mut self) -> Diagnostics {
        self.items.sort_by_key(|(pos, _)| *pos);
        Diagnostics(self.items.into_iter().map(|(_, d)| d).collect())
    }
}

/// `did you mean `x`?` for the closest candidate within a small edit distance.
pub(crate) fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        // A prefix ("ib" for "ib_er") is as good a hint as a typo.
        let prefix = wrong.len() >= 2 && (c.starts_with(wrong) || wrong.starts_with(c));
        let d = if prefix { 1 } else { edit_distance(wrong, c) };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (wrong.chars().count().max(c.chars().count()) / 3).max(2);
    (d <= limit).then(|| format!("did you mean `{c}`?"))
}

/// A list of the known names, for help texts: "known: `a`, `b`, `c`".
pub(crate) fn known_list<'a>(candidates: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = candidates.into_iter().map(|c| format!("`{c}`")).collect();
    if names.is_empty() {
        "none are declared".to_string()
    } else {
        format!("known: {}", names.join(", "))
    }
}

/// Suggestion: "did you mean" when close, else the list of known names.
pub(crate) fn suggest<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<String> {
    did_you_mean(wrong, candidates.clone()).or_else(|| Some(known_list(candidates)))
}

/// Levenshtein distance over characters; inputs are short identifiers.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(256).collect();
    let b: Vec<char> = b.chars().take(256).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let s = Sink::new("f.toml", "ab\ncé x\n");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(3), (2, 1));
        // 'é' is two bytes: byte 6 is the space after it, the third character.
        assert_eq!(s.line_col(6), (2, 3));
        assert_eq!(s.line_col(1000), (3, 1));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("wijkteem", ["school", "wijkteam"]).as_deref(),
            Some("did you mean `wijkteam`?")
        );
        assert_eq!(did_you_mean("zzzzzzzz", ["school", "wijkteam"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
