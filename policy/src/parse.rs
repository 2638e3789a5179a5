//! From TOML text to a validated [`Convenant`], collecting every diagnostic.
//!
//! We walk toml's spanned document tree (`toml::de::DeTable`) by hand instead of deriving serde
//! structs: serde stops at the first error and loses positions, while an FG needs all problems at
//! once, each with its line, key path and a suggestion.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostics, Sink, known_list, suggest};
use crate::floor::{
    ALL_KINDS, BUILTIN_SECTORS, BasisKind, EvidenceItem, VEILIG_THUIS, is_valid_ident, is_valid_oin,
};
use crate::model::{
    Basis, Category, Convenant, Flow, ObligationSpec, Party, Purpose, Sector, fnv1a64,
};

/// Default recidive window: 12 months.
pub const DEFAULT_RECIDIVE_WINDOW: &str = "P12M";
/// How long a wijkteam has to answer a delivered handover before Veilig Thuis sees it flagged,
/// when the convenant does not say (`handover_answer_within`).
pub const DEFAULT_HANDOVER_ANSWER_WITHIN: &str = "P1W";
/// How long an organisation has to inform the family of a disclosure before the obligation is
/// overdue, when the convenant does not say (`inform_within`; AVG art. 14(3)(a)).
pub const DEFAULT_INFORM_WITHIN: &str = "P1M";
/// Most categories a convenant may declare (they are compiled into a 128-bit set).
pub const MAX_CATEGORIES: usize = 128;
/// Largest convenant text accepted; a real one is a few kilobytes.
pub const MAX_SOURCE_BYTES: usize = 1 << 20;

const SECONDS_PER_DAY: u64 = 86_400;
const SECONDS_PER_YEAR: u64 = 365 * SECONDS_PER_DAY;

/// Parse and validate a convenant. `file_name` is only used in diagnostics: this crate does no IO.
///
/// Returns every problem found (syntax, unknown names with suggestions, missing retention, flows
/// without a basis, evidence that cannot be given, flows below the statutory floor), sorted by
/// position. Never panics, whatever the input.
pub fn parse(file_name: &str, source: &str) -> Result<Convenant, Diagnostics> {
    let mut sink = Sink::new(file_name, source);
    if source.len() > MAX_SOURCE_BYTES {
        sink.error(
            0..0,
            "",
            "FILE_TOO_LARGE",
            format!(
                "the file is {} bytes; a convenant may be at most {MAX_SOURCE_BYTES} bytes",
                source.len()
            ),
            Some("split explanations into a separate document".to_string()),
        );
        return Err(sink.finish());
    }
    let (doc, errors) = DeTable::parse_recoverable(source);
    if !errors.is_empty() {
        for e in errors {
            let span = e.span().unwrap_or(0..0);
            sink.error(
                span,
                "",
                "TOML_SYNTAX",
                format!("TOML syntax error: {}", e.message().trim()),
                Some("fix the TOML syntax; see docs/CONVENANT.md for the schema".to_string()),
            );
        }
        return Err(sink.finish());
    }
    let mut w = Walker { sink };
    let convenant = w.convenant(file_name, source, doc.get_ref());
    match convenant {
        Some(c) if !w.sink.has_errors() => Ok(c),
        _ => {
            if !w.sink.has_errors() {
                // Defensive: a `None` always comes with a diagnostic, but never return Ok on None.
                w.sink
                    .error(0..0, "", "INVALID", "the convenant is invalid", None);
            }
            Err(w.sink.finish())
        }
    }
}

/// Parse a period: ISO-8601-like `P1Y6M`, `P6M`, `P2W`, `P30D`, or a whole number of days.
/// Y = 365 days, M = a twelfth of that (30 days 10 hours, so `P12M` = `P1Y`), W = 7 days.
/// Returns seconds; zero is refused.
pub fn parse_period(text: &str) -> Result<u64, String> {
    let rest = text
        .strip_prefix('P')
        .ok_or_else(|| format!("`{text}` is not a period; write e.g. `P6M`, `P1Y`, `P30D`"))?;
    if rest.is_empty() {
        return Err(format!("`{text}` has no amount; write e.g. `P6M`"));
    }
    let mut secs: u64 = 0;
    let mut num = String::new();
    let mut last_unit = 0u8;
    for c in rest.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let (rank, factor) = match c {
            'Y' => (1, SECONDS_PER_YEAR),
            'M' => (2, SECONDS_PER_YEAR / 12),
            'W' => (3, 7 * SECONDS_PER_DAY),
            'D' => (4, SECONDS_PER_DAY),
            _ => {
                return Err(format!(
                    "`{text}`: unit `{c}` is not one of Y, M, W, D (time units are not allowed)"
                ));
            }
        };
        if rank <= last_unit || num.is_empty() {
            return Err(format!(
                "`{text}` is malformed; write units once each, in the order Y, M, W, D, each after a number"
            ));
        }
        last_unit = rank;
        let n: u64 = num
            .parse()
            .map_err(|_| format!("`{text}`: the number is too large"))?;
        num.clear();
        secs = n
            .checked_mul(factor)
            .and_then(|d| secs.checked_add(d))
            .ok_or_else(|| format!("`{text}` is too long"))?;
    }
    if !num.is_empty() {
        return Err(format!(
            "`{text}` ends with a number without a unit; add Y, M, W or D"
        ));
    }
    checked_period(secs).map_err(|e| format!("`{text}` {e}"))
}

fn days_to_secs(days: u64) -> Result<u64, String> {
    checked_period(days.saturating_mul(SECONDS_PER_DAY))
}

fn checked_period(secs: u64) -> Result<u64, String> {
    if secs == 0 {
        return Err("is zero; a period must be at least one day".to_string());
    }
    // 1000 years is an absurd but harmless upper bound that keeps all arithmetic in range.
    if secs > 1000 * SECONDS_PER_YEAR {
        return Err("is longer than 1000 years".to_string());
    }
    Ok(secs)
}

type Entry<'a, 'i> = (&'a str, Range<usize>, &'a Spanned<DeValue<'i>>);

struct Walker<'s> {
    sink: Sink<'s>,
}

fn entries<'a, 'i>(t: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut v: Vec<Entry<'a, 'i>> = t
        .iter()
        .map(|(k, v)| (k.get_ref().as_ref(), k.span(), v))
        .collect();
    v.sort_by_key(|(_, span, _)| span.start);
    v
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The `[convenant]` table, validated.
struct Header {
    name: String,
    version: String,
    region: Option<String>,
    description: Option<String>,
    controller: Option<String>,
    fg_contact: Option<String>,
    security_measures: Vec<String>,
    recidive_window_secs: u64,
    handover_answer_secs: u64,
    inform_within_secs: u64,
    all_gezag: bool,
}

/// Names declared in the convenant, for reference checks.
#[derive(Default)]
struct Names {
    sectors: HashMap<String, Vec<String>>,
    sector_order: Vec<String>,
    purposes: Vec<String>,
    /// Category name -> (art. 9, art. 10).
    categories: HashMap<String, (bool, bool)>,
    category_order: Vec<String>,
    /// Basis name -> (kind, art. 9 ground, art. 10 ground).
    bases: HashMap<String, (BasisKind, bool, bool)>,
    basis_order: Vec<String>,
}

impl<'s> Walker<'s> {
    fn err(
        &mut self,
        span: Range<usize>,
        path: &str,
        code: &'static str,
        msg: impl Into<String>,
        help: Option<String>,
    ) {
        self.sink.error(span, path, code, msg, help);
    }

    fn check_keys(&mut self, t: &DeTable<'_>, allowed: &[&str], path: &str) {
        for (k, span, _) in entries(t) {
            if !allowed.contains(&k) {
                let help = suggest(k, allowed.iter().copied());
                self.err(
                    span,
                    &join(path, k),
                    "UNKNOWN_KEY",
                    format!("unknown key `{k}`"),
                    help,
                );
            }
        }
    }

    fn table<'a, 'i>(
        &mut self,
        v: &'a Spanned<DeValue<'i>>,
        path: &str,
    ) -> Option<&'a DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                self.err(
                    v.span(),
                    path,
                    "WRONG_TYPE",
                    format!("expected a table, found {}", other.type_str()),
                    Some(format!("write `[{path}]` with keys below it")),
                );
                None
            }
        }
    }

    fn string(&mut self, v: &Spanned<DeValue<'_>>, path: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                self.err(
                    v.span(),
                    path,
                    "WRONG_TYPE",
                    format!("expected a string, found {}", other.type_str()),
                    Some("put the value in double quotes".to_string()),
                );
                None
            }
        }
    }

    fn opt_string(&mut self, t: &DeTable<'_>, key: &str, path: &str) -> Option<String> {
        let v = t.get(key)?;
        self.string(v, &join(path, key))
    }

    fn req_string(
        &mut self,
        t: &DeTable<'_>,
        key: &str,
        path: &str,
        at: Range<usize>,
        help: &str,
    ) -> Option<(String, Range<usize>)> {
        match t.get(key) {
            Some(v) => {
                let s = self.string(v, &join(path, key))?;
                if s.trim().is_empty() {
                    self.err(
                        v.span(),
                        &join(path, key),
                        "EMPTY_VALUE",
                        format!("`{key}` is empty"),
                        Some(help.to_string()),
                    );
                    return None;
                }
                Some((s, v.span()))
            }
            None => {
                self.err(
                    at,
                    &join(path, key),
                    "MISSING_KEY",
                    format!("missing `{key}`"),
                    Some(help.to_string()),
                );
                None
            }
        }
    }

    fn opt_bool(&mut self, t: &DeTable<'_>, key: &str, path: &str, default: bool) -> bool {
        match t.get(key) {
            None => default,
            Some(v) => match v.get_ref() {
                DeValue::Boolean(b) => *b,
                other => {
                    self.err(
                        v.span(),
                        &join(path, key),
                        "WRONG_TYPE",
                        format!("expected true or false, found {}", other.type_str()),
                        Some(format!("write `{key} = true` or `{key} = false`")),
                    );
                    default
                }
            },
        }
    }

    /// A string or an array of strings, each with its span.
    fn str_list(&mut self, v: &Spanned<DeValue<'_>>, path: &str) -> Vec<(String, Range<usize>)> {
        match v.get_ref() {
            DeValue::String(s) => vec![(s.to_string(), v.span())],
            DeValue::Array(a) => {
                let mut out = Vec::new();
                for item in a.iter() {
                    if let Some(s) = self.string(item, path) {
                        out.push((s, item.span()));
                    }
                }
                out
            }
            other => {
                self.err(
                    v.span(),
                    path,
                    "WRONG_TYPE",
                    format!("expected a list of strings, found {}", other.type_str()),
                    Some("write e.g. `[\"a\", \"b\"]`".to_string()),
                );
                Vec::new()
            }
        }
    }

    fn ident(&mut self, name: &str, span: Range<usize>, path: &str, what: &str) -> bool {
        if is_valid_ident(name) {
            return true;
        }
        self.err(
            span,
            path,
            "BAD_IDENTIFIER",
            format!("`{name}` is not a valid {what} name"),
            Some("use lowercase letters, digits and `_`, starting with a letter (max 64)".into()),
        );
        false
    }

    fn period(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        path: &str,
        code: &'static str,
    ) -> Option<(String, u64)> {
        let result = match v.get_ref() {
            DeValue::String(s) => parse_period(s).map(|secs| (s.to_string(), secs)),
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(days) if days > 0 => u64::try_from(days)
                    .map_err(|_| "is not a positive number of days".to_string())
                    .and_then(days_to_secs)
                    .map(|secs| (format!("{days}"), secs))
                    .map_err(|e| format!("{days} days {e}")),
                _ => Err(format!("`{}` is not a positive number of days", i.as_str())),
            },
            other => Err(format!(
                "expected a period like \"P6M\" or a number of days, found {}",
                other.type_str()
            )),
        };
        match result {
            Ok(r) => Some(r),
            Err(msg) => {
                self.err(
                    v.span(),
                    path,
                    code,
                    msg,
                    Some("write e.g. `\"P6M\"` (6 months), `\"P1Y\"` or `180` (days)".into()),
                );
                None
            }
        }
    }

    fn convenant(
        &mut self,
        file_name: &str,
        source: &str,
        root: &DeTable<'_>,
    ) -> Option<Convenant> {
        self.check_keys(
            root,
            &[
                "convenant",
                "sectors",
                "parties",
                "purposes",
                "categories",
                "bases",
                "flows",
            ],
            "",
        );
        let mut names = Names::default();

        // [convenant]
        let mut header = None;
        match root.get("convenant") {
            None => self.err(
                0..0,
                "convenant",
                "MISSING_KEY",
                "missing the [convenant] table",
                Some("start the file with `[convenant]` and `name`, `version`".into()),
            ),
            Some(v) => {
                if let Some(t) = self.table(v, "convenant") {
                    header = self.header(t, v.span());
                }
            }
        }

        let sectors = self.sectors(root, &mut names);
        let purposes = self.purposes(root, &mut names);
        let categories = self.categories(root, &mut names);
        let bases = self.bases(root, &mut names);
        let parties = self.parties(root, &names);
        let flows = self.flows(root, &names);

        let Header {
            name,
            version,
            region,
            description,
            controller,
            fg_contact,
            security_measures,
            recidive_window_secs,
            handover_answer_secs,
            inform_within_secs,
            all_gezag,
        } = header?;
        Some(Convenant {
            file_name: file_name.to_string(),
            name,
            version,
            region,
            description,
            controller,
            fg_contact,
            security_measures,
            content_hash: fnv1a64(source.as_bytes()),
            recidive_window_secs,
            handover_answer_secs,
            inform_within_secs,
            consent_requires_all_gezag_holders: all_gezag,
            sectors,
            parties,
            purposes,
            categories,
            bases,
            flows,
        })
    }

    fn header(&mut self, t: &DeTable<'_>, at: Range<usize>) -> Option<Header> {
        let path = "convenant";
        self.check_keys(
            t,
            &[
                "name",
                "version",
                "region",
                "description",
                "controller",
                "fg_contact",
                "security_measures",
                "recidive_window",
                "handover_answer_within",
                "inform_within",
                "consent_requires_all_gezag_holders",
            ],
            path,
        );
        let name = self.req_string(t, "name", path, at.clone(), "add `name = \"...\"`");
        let version = self.req_string(
            t,
            "version",
            path,
            at,
            "add `version = \"2025.1\"`; it goes into every disclosure log entry",
        );
        let region = self.opt_string(t, "region", path);
        let description = self.opt_string(t, "description", path);
        let controller = self.opt_string(t, "controller", path);
        let fg_contact = self.opt_string(t, "fg_contact", path);
        let security_measures = match t.get("security_measures") {
            Some(v) => self
                .str_list(v, &join(path, "security_measures"))
                .into_iter()
                .map(|(m, _)| m)
                .filter(|m| !m.trim().is_empty())
                .collect(),
            None => Vec::new(),
        };
        let recidive = match t.get("recidive_window") {
            Some(v) => self
                .period(v, "convenant.recidive_window", "BAD_PERIOD")
                .map(|(_, s)| s),
            None => parse_period(DEFAULT_RECIDIVE_WINDOW).ok(),
        };
        let answer_within = match t.get("handover_answer_within") {
            Some(v) => self
                .period(v, "convenant.handover_answer_within", "BAD_PERIOD")
                .map(|(_, s)| s),
            None => parse_period(DEFAULT_HANDOVER_ANSWER_WITHIN).ok(),
        };
        let inform_within = match t.get("inform_within") {
            Some(v) => self
                .period(v, "convenant.inform_within", "BAD_PERIOD")
                .map(|(_, s)| s),
            None => parse_period(DEFAULT_INFORM_WITHIN).ok(),
        };
        // Default true: when in doubt, ask every holder of gezag (deny by default).
        let all_gezag = self.opt_bool(t, "consent_requires_all_gezag_holders", path, true);
        Some(Header {
            name: name?.0,
            version: version?.0,
            region,
            description,
            controller,
            fg_contact,
            security_measures,
            recidive_window_secs: recidive?,
            handover_answer_secs: answer_within?,
            inform_within_secs: inform_within?,
            all_gezag,
        })
    }

    fn sectors(&mut self, root: &DeTable<'_>, names: &mut Names) -> Vec<Sector> {
        let mut out = Vec::new();
        let Some(v) = root.get("sectors") else {
            self.err(
                0..0,
                "sectors",
                "MISSING_KEY",
                "no sectors are declared",
                Some(
                    "add `[sectors.school]` with `roles = [...]` for every sector taking part"
                        .into(),
                ),
            );
            return out;
        };
        let Some(t) = self.table(v, "sectors") else {
            return out;
        };
        for (name, span, v) in entries(t) {
            let path = format!("sectors.{name}");
            let Some(st) = self.table(v, &path) else {
                continue;
            };
            self.check_keys(st, &["description", "extra", "roles", "shielded"], &path);
            let extra = self.opt_bool(st, "extra", &path, false);
            let shielded = self.opt_bool(st, "shielded", &path, false);
            let builtin = BUILTIN_SECTORS.contains(&name);
            if !self.ident(name, span.clone(), &path, "sector") {
                continue;
            }
            if !builtin && !extra {
                let help = crate::diag::did_you_mean(name, BUILTIN_SECTORS)
                    .map(|d| format!("{d} If `{name}` is a new sector, add `extra = true`"))
                    .or_else(|| {
                        Some(format!(
                            "add `extra = true` to declare a sector beyond the built-in ones ({})",
                            known_list(BUILTIN_SECTORS)
                        ))
                    });
                self.err(
                    span,
                    &path,
                    "UNKNOWN_SECTOR",
                    format!("unknown sector `{name}`"),
                    help,
                );
                continue;
            }
            if builtin && extra {
                self.err(
                    span.clone(),
                    &join(&path, "extra"),
                    "BUILTIN_SECTOR_MARKED_EXTRA",
                    format!("`{name}` is a built-in sector"),
                    Some("remove `extra = true`".into()),
                );
            }
            let description = self.opt_string(st, "description", &path);
            let mut roles = Vec::new();
            match st.get("roles") {
                None => self.err(
                    v.span(),
                    &join(&path, "roles"),
                    "MISSING_KEY",
                    format!("sector `{name}` has no roles"),
                    Some(
                        "add `roles = [\"...\"]`: without roles nobody in the sector can act"
                            .into(),
                    ),
                ),
                Some(rv) => {
                    let mut seen = HashSet::new();
                    for (r, rspan) in self.str_list(rv, &join(&path, "roles")) {
                        if !self.ident(&r, rspan.clone(), &join(&path, "roles"), "role") {
                            continue;
                        }
                        if !seen.insert(r.clone()) {
                            self.err(
                                rspan,
                                &join(&path, "roles"),
                                "DUPLICATE",
                                format!("role `{r}` is listed twice"),
                                Some("remove the duplicate".into()),
                            );
                            continue;
                        }
                        roles.push(r);
                    }
                }
            }
            names.sectors.insert(name.to_string(), roles.clone());
            names.sector_order.push(name.to_string());
            out.push(Sector {
                name: name.to_string(),
                description,
                extra,
                shielded,
                roles,
            });
        }
        out
    }

    fn purposes(&mut self, root: &DeTable<'_>, names: &mut Names) -> Vec<Purpose> {
        let mut out = Vec::new();
        let Some(v) = root.get("purposes") else {
            self.err(
                0..0,
                "purposes",
                "MISSING_KEY",
                "no purposes are declared",
                Some("add `[purposes.name]` with `retention = \"P6M\"`".into()),
            );
            return out;
        };
        let Some(t) = self.table(v, "purposes") else {
            return out;
        };
        for (name, span, v) in entries(t) {
            let path = format!("purposes.{name}");
            let Some(pt) = self.table(v, &path) else {
                continue;
            };
            self.check_keys(pt, &["description", "retention"], &path);
            if !self.ident(name, span, &path, "purpose") {
                continue;
            }
            let description = self.opt_string(pt, "description", &path);
            let retention = match pt.get("retention") {
                None => {
                    self.err(
                        v.span(),
                        &join(&path, "retention"),
                        "MISSING_RETENTION",
                        format!("purpose `{name}` has no retention period"),
                        Some(
                            "add e.g. `retention = \"P6M\"` (storage limitation, art. 5(1)(e) AVG)"
                                .into(),
                        ),
                    );
                    None
                }
                Some(rv) => self.period(rv, &join(&path, "retention"), "BAD_RETENTION"),
            };
            names.purposes.push(name.to_string());
            if let Some((retention_text, retention_secs)) = retention {
                out.push(Purpose {
                    name: name.to_string(),
                    description,
                    retention_text,
                    retention_secs,
                });
            }
        }
        out
    }

    fn categories(&mut self, root: &DeTable<'_>, names: &mut Names) -> Vec<Category> {
        let mut out = Vec::new();
        let Some(v) = root.get("categories") else {
            self.err(
                0..0,
                "categories",
                "MISSING_KEY",
                "no data categories are declared",
                Some("add `[categories.name]` (with `art9 = true` for special categories)".into()),
            );
            return out;
        };
        let Some(t) = self.table(v, "categories") else {
            return out;
        };
        let all = entries(t);
        if all.len() > MAX_CATEGORIES {
            self.err(
                v.span(),
                "categories",
                "TOO_MANY_CATEGORIES",
                format!(
                    "{} categories are declared; at most {MAX_CATEGORIES}",
                    all.len()
                ),
                Some("merge categories".into()),
            );
            return out;
        }
        for (name, span, v) in all {
            let path = format!("categories.{name}");
            let Some(ct) = self.table(v, &path) else {
                continue;
            };
            self.check_keys(ct, &["description", "art9", "art10"], &path);
            if !self.ident(name, span, &path, "category") {
                continue;
            }
            let description = self.opt_string(ct, "description", &path);
            let art9 = self.opt_bool(ct, "art9", &path, false);
            let art10 = self.opt_bool(ct, "art10", &path, false);
            names.categories.insert(name.to_string(), (art9, art10));
            names.category_order.push(name.to_string());
            out.push(Category {
                name: name.to_string(),
                description,
                art9,
                art10,
            });
        }
        out
    }

    fn bases(&mut self, root: &DeTable<'_>, names: &mut Names) -> Vec<Basis> {
        let mut out = Vec::new();
        let Some(v) = root.get("bases") else {
            self.err(
                0..0,
                "bases",
                "MISSING_KEY",
                "no legal bases are declared",
                Some("add `[bases.name]` with `kind` and `statute`".into()),
            );
            return out;
        };
        let Some(t) = self.table(v, "bases") else {
            return out;
        };
        let kind_names: Vec<&str> = ALL_KINDS.iter().map(|k| k.name()).collect();
        for (name, span, v) in entries(t) {
            let path = format!("bases.{name}");
            let Some(bt) = self.table(v, &path) else {
                continue;
            };
            self.check_keys(
                bt,
                &[
                    "kind",
                    "statute",
                    "description",
                    "art9",
                    "art10",
                    "evidence",
                ],
                &path,
            );
            if !self.ident(name, span, &path, "basis") {
                continue;
            }
            let kind = match self.req_string(
                bt,
                "kind",
                &path,
                v.span(),
                &format!(
                    "add `kind = ...`; {}",
                    known_list(kind_names.iter().copied())
                ),
            ) {
                Some((k, kspan)) => match BasisKind::from_name(&k) {
                    Some(kind) => Some(kind),
                    None => {
                        self.err(
                            kspan,
                            &join(&path, "kind"),
                            "UNKNOWN_BASIS_KIND",
                            format!("unknown basis kind `{k}`"),
                            suggest(&k, kind_names.iter().copied()),
                        );
                        None
                    }
                },
                None => None,
            };
            let statute = self.req_string(
                bt,
                "statute",
                &path,
                v.span(),
                "add `statute = \"...\"` naming the law and article, so the FG can check it",
            );
            let description = self.opt_string(bt, "description", &path);
            let art9 = self.opt_bool(bt, "art9", &path, false);
            let art10 = self.opt_bool(bt, "art10", &path, false);
            let Some(kind) = kind else { continue };
            if art9 && !kind.may_cover_art9() {
                let at = bt.get("art9").map(|a| a.span()).unwrap_or(v.span());
                self.err(
                    at,
                    &join(&path, "art9"),
                    "FLOOR_ART9_NOT_POSSIBLE",
                    format!("a `{kind}` basis cannot be an art. 9 AVG ground (statutory floor)"),
                    Some("remove `art9 = true`; share special categories under explicit consent or the meldcode instead".into()),
                );
            }
            if art10 && !kind.may_cover_art10() {
                let at = bt.get("art10").map(|a| a.span()).unwrap_or(v.span());
                let can: Vec<&str> = ALL_KINDS
                    .iter()
                    .filter(|k| k.may_cover_art10())
                    .map(|k| k.name())
                    .collect();
                self.err(
                    at,
                    &join(&path, "art10"),
                    "FLOOR_ART10_NOT_POSSIBLE",
                    format!("a `{kind}` basis cannot be an art. 10 AVG ground for criminal-law data (statutory floor)"),
                    Some(format!("remove `art10 = true`; kinds that can be: {}", can.join(", "))),
                );
            }
            // Evidence: the floor minimum plus what the convenant adds.
            let mut evidence: Vec<EvidenceItem> = kind.floor_evidence().to_vec();
            if let Some(ev) = bt.get("evidence") {
                let epath = join(&path, "evidence");
                for (e, espan) in self.str_list(ev, &epath) {
                    match kind.evidence_by_name(&e) {
                        Some(item) => {
                            if !evidence.contains(&item) {
                                evidence.push(item);
                            }
                        }
                        None => {
                            let vocab: Vec<&str> = kind
                                .evidence_vocabulary()
                                .iter()
                                .map(|i| i.name())
                                .collect();
                            let help = crate::diag::did_you_mean(&e, vocab.iter().copied())
                                .or_else(|| {
                                    Some(format!(
                                        "a `{kind}` basis can give {}",
                                        known_list(vocab.iter().copied())
                                    ))
                                });
                            self.err(
                                espan,
                                &epath,
                                "EVIDENCE_CANNOT_BE_GIVEN",
                                format!("evidence `{e}` cannot be given for a `{kind}` basis"),
                                help,
                            );
                        }
                    }
                }
            }
            names.bases.insert(
                name.to_string(),
                (
                    kind,
                    art9 && kind.may_cover_art9(),
                    art10 && kind.may_cover_art10(),
                ),
            );
            names.basis_order.push(name.to_string());
            if let Some((statute, _)) = statute {
                out.push(Basis {
                    name: name.to_string(),
                    kind,
                    statute,
                    description,
                    art9: art9 && kind.may_cover_art9(),
                    art10: art10 && kind.may_cover_art10(),
                    evidence,
                });
            }
        }
        out
    }

    fn parties(&mut self, root: &DeTable<'_>, names: &Names) -> Vec<Party> {
        let mut out = Vec::new();
        let Some(v) = root.get("parties") else {
            return out;
        };
        let DeValue::Array(arr) = v.get_ref() else {
            self.err(
                v.span(),
                "parties",
                "WRONG_TYPE",
                "expected `[[parties]]` entries",
                Some("write each party as a `[[parties]]` table".into()),
            );
            return out;
        };
        let mut seen_oins = HashSet::new();
        for (i, item) in arr.iter().enumerate() {
            let path = format!("parties[{i}]");
            let Some(pt) = self.table(item, &path) else {
                continue;
            };
            self.check_keys(pt, &["name", "sector", "oin"], &path);
            let name = self.req_string(pt, "name", &path, item.span(), "add `name = \"...\"`");
            let sector =
                self.req_string(pt, "sector", &path, item.span(), "add `sector = \"...\"`");
            let sector = sector.and_then(|(s, sspan)| {
                self.sector_ref(&s, sspan, &join(&path, "sector"), names)
                    .then_some(s)
            });
            let oin = match pt.get("oin") {
                None => None,
                Some(ov) => match self.string(ov, &join(&path, "oin")) {
                    Some(o) if is_valid_oin(&o) => {
                        if !seen_oins.insert(o.clone()) {
                            self.err(
                                ov.span(),
                                &join(&path, "oin"),
                                "DUPLICATE",
                                format!("OIN `{o}` is listed for two parties"),
                                Some("each organisation is one party".into()),
                            );
                        }
                        Some(o)
                    }
                    Some(o) => {
                        self.err(
                            ov.span(),
                            &join(&path, "oin"),
                            "BAD_OIN",
                            format!("`{o}` is not an OIN ({} characters)", o.chars().count()),
                            Some("an OIN has exactly 20 digits, as in the PKIoverheid certificate's serialNumber".into()),
                        );
                        None
                    }
                    None => None,
                },
            };
            if let (Some((name, _)), Some(sector)) = (name, sector) {
                out.push(Party { name, sector, oin });
            }
        }
        out
    }

    fn sector_ref(&mut self, s: &str, span: Range<usize>, path: &str, names: &Names) -> bool {
        if names.sectors.contains_key(s) {
            return true;
        }
        if BUILTIN_SECTORS.contains(&s) {
            self.err(
                span,
                path,
                "UNDECLARED_SECTOR",
                format!("sector `{s}` is not declared in this convenant"),
                Some(format!("add `[sectors.{s}]` with its `roles`")),
            );
        } else {
            let mut candidates: Vec<&str> = names.sector_order.iter().map(String::as_str).collect();
            for b in BUILTIN_SECTORS {
                if !candidates.contains(&b) {
                    candidates.push(b);
                }
            }
            self.err(
                span,
                path,
                "UNKNOWN_SECTOR",
                format!("unknown sector `{s}`"),
                suggest(s, candidates.iter().copied()),
            );
        }
        false
    }

    fn flows(&mut self, root: &DeTable<'_>, names: &Names) -> Vec<Flow> {
        let mut out = Vec::new();
        let Some(v) = root.get("flows") else {
            self.err(
                0..0,
                "flows",
                "MISSING_KEY",
                "no flows are declared; nothing could ever be shared",
                Some("add `[[flows]]` entries".into()),
            );
            return out;
        };
        let DeValue::Array(arr) = v.get_ref() else {
            self.err(
                v.span(),
                "flows",
                "WRONG_TYPE",
                "expected `[[flows]]` entries",
                Some("write each flow as a `[[flows]]` table".into()),
            );
            return out;
        };
        let mut ids = HashSet::new();
        for (i, item) in arr.iter().enumerate() {
            let path = format!("flows[{i}]");
            let Some(ft) = self.table(item, &path) else {
                continue;
            };
            if let Some(flow) = self.flow(ft, item.span(), &path, names) {
                if !ids.insert(flow.id.clone()) {
                    let at = ft.get("id").map(|x| x.span()).unwrap_or(item.span());
                    self.err(
                        at,
                        &join(&path, "id"),
                        "DUPLICATE",
                        format!("flow id `{}` is used twice", flow.id),
                        Some("give each flow its own id; it is the rule id in decisions".into()),
                    );
                }
                out.push(flow);
            }
        }
        out
    }

    fn flow(
        &mut self,
        ft: &DeTable<'_>,
        at: Range<usize>,
        path: &str,
        names: &Names,
    ) -> Option<Flow> {
        self.check_keys(
            ft,
            &[
                "id",
                "description",
                "from",
                "from_roles",
                "to",
                "purpose",
                "categories",
                "bases",
                "obligations",
                "also_requires_consent",
                "requires_involvement",
                "onward_from",
            ],
            path,
        );
        let mut ok = true;
        let id = match ft.get("id") {
            Some(iv) => {
                let s = self.string(iv, &join(path, "id"));
                match s {
                    Some(s) if !s.trim().is_empty() && s.len() <= 128 => s,
                    Some(_) => {
                        self.err(
                            iv.span(),
                            &join(path, "id"),
                            "EMPTY_VALUE",
                            "flow id is empty or too long",
                            Some("use a short id like `school-wijkteam-toestemming`".into()),
                        );
                        ok = false;
                        path.to_string()
                    }
                    None => {
                        ok = false;
                        path.to_string()
                    }
                }
            }
            None => path.to_string(),
        };
        let description = self.opt_string(ft, "description", path);

        // from / to
        let mut sector_list = |w: &mut Self, key: &str| -> Vec<(String, Range<usize>)> {
            let kpath = join(path, key);
            match ft.get(key) {
                None => {
                    w.err(
                        at.clone(),
                        &kpath,
                        "MISSING_KEY",
                        format!("flow has no `{key}`"),
                        Some(format!("add `{key} = \"<sector>\"`")),
                    );
                    ok = false;
                    Vec::new()
                }
                Some(v) => {
                    let list = w.str_list(v, &kpath);
                    if list.is_empty() {
                        w.err(
                            v.span(),
                            &kpath,
                            "EMPTY_VALUE",
                            format!("`{key}` names no sector"),
                            Some("name at least one sector".into()),
                        );
                        ok = false;
                    }
                    let mut good = Vec::new();
                    for (s, span) in list {
                        if w.sector_ref(&s, span.clone(), &kpath, names) {
                            good.push((s, span));
                        } else {
                            ok = false;
                        }
                    }
                    good
                }
            }
        };
        let from = sector_list(self, "from");
        let to = sector_list(self, "to");

        // from_roles: each must be a role of some sending sector.
        let mut from_roles = Vec::new();
        if let Some(rv) = ft.get("from_roles") {
            let rpath = join(path, "from_roles");
            let known: Vec<&str> = from
                .iter()
                .filter_map(|(s, _)| names.sectors.get(s))
                .flatten()
                .map(String::as_str)
                .collect();
            for (r, rspan) in self.str_list(rv, &rpath) {
                if known.contains(&r.as_str()) {
                    from_roles.push(r);
                } else {
                    let help = suggest(&r, known.iter().copied());
                    self.err(
                        rspan,
                        &rpath,
                        "UNKNOWN_ROLE",
                        format!("role `{r}` is not a role of the sending sector(s)"),
                        help,
                    );
                    ok = false;
                }
            }
        }

        // purpose
        let purpose = match self.req_string(
            ft,
            "purpose",
            path,
            at.clone(),
            "add `purpose = \"...\"`: every flow has exactly one purpose",
        ) {
            Some((p, pspan)) => {
                if names.purposes.contains(&p) {
                    Some(p)
                } else {
                    let help = suggest(&p, names.purposes.iter().map(String::as_str));
                    self.err(
                        pspan,
                        &join(path, "purpose"),
                        "UNKNOWN_PURPOSE",
                        format!("unknown purpose `{p}`"),
                        help,
                    );
                    None
                }
            }
            None => None,
        };

        // categories
        let mut categories = Vec::new();
        let mut art9_cats = Vec::new();
        let mut art10_cats: Vec<String> = Vec::new();
        let cpath = join(path, "categories");
        match ft.get("categories") {
            None => {
                self.err(at.clone(), &cpath, "MISSING_KEY", "flow names no data categories", Some("add `categories = [\"...\"]` (data minimisation: list only what is needed)".into()));
                ok = false;
            }
            Some(cv) => {
                let list = self.str_list(cv, &cpath);
                if list.is_empty() {
                    self.err(
                        cv.span(),
                        &cpath,
                        "EMPTY_VALUE",
                        "flow names no data categories",
                        Some("list at least one category".into()),
                    );
                    ok = false;
                }
                for (c, cspan) in list {
                    match names.categories.get(&c) {
                        Some(&(art9, art10)) => {
                            if art9 {
                                art9_cats.push((c.clone(), cspan));
                            }
                            if art10 {
                                art10_cats.push(c.clone());
                            }
                            categories.push(c);
                        }
                        None => {
                            let help = suggest(&c, names.category_order.iter().map(String::as_str));
                            self.err(
                                cspan,
                                &cpath,
                                "UNKNOWN_CATEGORY",
                                format!("unknown category `{c}`"),
                                help,
                            );
                            ok = false;
                        }
                    }
                }
            }
        }

        // bases + floor
        let mut bases = Vec::new();
        let bpath = join(path, "bases");
        let mut any_art9_basis = false;
        let mut flow_has_consent = false;
        // Bases that cannot carry criminal-law data, with their spans (checked below).
        let mut not_art10: Vec<(String, BasisKind, Range<usize>)> = Vec::new();
        match ft.get("bases") {
            None => {
                self.err(
                    at.clone(),
                    &bpath,
                    "FLOW_WITHOUT_BASIS",
                    "flow has no legal basis",
                    Some(format!(
                        "add `bases = [\"...\"]`; {}",
                        known_list(names.basis_order.iter().map(String::as_str))
                    )),
                );
                ok = false;
            }
            Some(bv) => {
                let list = self.str_list(bv, &bpath);
                if list.is_empty() {
                    self.err(
                        bv.span(),
                        &bpath,
                        "FLOW_WITHOUT_BASIS",
                        "flow has no legal basis",
                        Some(format!(
                            "name at least one; {}",
                            known_list(names.basis_order.iter().map(String::as_str))
                        )),
                    );
                    ok = false;
                }
                for (b, bspan) in list {
                    let Some((kind, art9, art10)) = names.bases.get(&b).copied() else {
                        let help = suggest(&b, names.basis_order.iter().map(String::as_str));
                        self.err(
                            bspan,
                            &bpath,
                            "UNKNOWN_BASIS",
                            format!("unknown basis `{b}`"),
                            help,
                        );
                        ok = false;
                        continue;
                    };
                    any_art9_basis |= art9;
                    flow_has_consent |= kind == BasisKind::Consent;
                    if !art10 {
                        not_art10.push((b.clone(), kind, bspan.clone()));
                    }
                    ok &= self.floor_check_basis(&b, kind, bspan, &bpath, &from, &to);
                    bases.push(b);
                }
            }
        }
        for (c, cspan) in &art9_cats {
            if !any_art9_basis && !bases.is_empty() {
                self.err(
                    cspan.clone(),
                    &cpath,
                    "FLOOR_ART9_GROUND_MISSING",
                    format!("category `{c}` is a special category (art. 9 AVG) but none of this flow's bases ({}) is an art. 9 ground", bases.join(", ")),
                    Some("add a basis with `art9 = true` (e.g. explicit consent) or remove the category".into()),
                );
                ok = false;
            }
        }
        // Art. 10: every basis of a flow that carries criminal-law data must be an art. 10 ground,
        // because any one basis makes the flow lawful.
        if !art10_cats.is_empty() {
            let cats = art10_cats
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ");
            for (b, kind, bspan) in &not_art10 {
                let help = if *kind == BasisKind::Consent {
                    "consent is not a ground for criminal-law data (docs/CONVENANT.md, section \"Art. 10\"): remove the category from this flow, or share it in a flow under a statutory basis marked `art10 = true` (e.g. `wpg_zorgmelding`, `veilig_thuis_taak`), with `also_requires_consent = true` if the region wants consent as well".to_string()
                } else if kind.may_cover_art10() {
                    format!(
                        "if its statute is an art. 10 ground, mark basis `{b}` with `art10 = true` and name that ground in `statute`; otherwise remove `{b}` or the category"
                    )
                } else {
                    format!(
                        "a `{kind}` basis cannot be an art. 10 ground: remove `{b}` from this flow or the category"
                    )
                };
                self.err(
                    bspan.clone(),
                    &bpath,
                    "FLOOR_ART10_GROUND_MISSING",
                    format!(
                        "flow `{id}` carries criminal-law data (art. 10 AVG: {cats}), but basis `{b}` ({kind}) is not an art. 10 ground (statutory floor)"
                    ),
                    Some(help),
                );
                ok = false;
            }
        }

        // obligations
        let mut obligations = Vec::new();
        if let Some(ov) = ft.get("obligations") {
            let opath = join(path, "obligations");
            for (o, ospan) in self.str_list(ov, &opath) {
                let spec = match o.as_str() {
                    "inform_subject" => Some(ObligationSpec::InformSubject),
                    "notify_sender" => Some(ObligationSpec::NotifySender),
                    "confirm_in_writing" => Some(ObligationSpec::ConfirmInWriting),
                    other => match other.strip_prefix("notify:") {
                        Some(s) => {
                            if self.sector_ref(s, ospan.clone(), &opath, names) {
                                Some(ObligationSpec::NotifySector(s.to_string()))
                            } else {
                                None
                            }
                        }
                        None => {
                            self.err(
                                ospan,
                                &opath,
                                "UNKNOWN_OBLIGATION",
                                format!("unknown obligation `{o}`"),
                                suggest(
                                    &o,
                                    [
                                        "inform_subject",
                                        "notify_sender",
                                        "confirm_in_writing",
                                        "notify:<sector>",
                                    ],
                                ),
                            );
                            None
                        }
                    },
                };
                match spec {
                    Some(s) => obligations.push(s),
                    None => ok = false,
                }
            }
        }

        let also_requires_consent = self.opt_bool(ft, "also_requires_consent", path, false);
        if also_requires_consent
            && !names
                .bases
                .values()
                .any(|(k, _, _)| *k == BasisKind::Consent)
        {
            let at2 = ft
                .get("also_requires_consent")
                .map(|x| x.span())
                .unwrap_or(at.clone());
            self.err(
                at2,
                &join(path, "also_requires_consent"),
                "NO_CONSENT_BASIS",
                "the flow requires consent but the convenant declares no basis of kind `consent`",
                Some("declare e.g. `[bases.toestemming]` with `kind = \"consent\"`".into()),
            );
            ok = false;
        }
        let _ = flow_has_consent;
        let requires_involvement = self.opt_bool(ft, "requires_involvement", path, false);
        let mut onward_from = Vec::new();
        if let Some(ov) = ft.get("onward_from") {
            let opath = join(path, "onward_from");
            for (p, pspan) in self.str_list(ov, &opath) {
                if names.purposes.contains(&p) {
                    onward_from.push(p);
                } else {
                    let help = suggest(&p, names.purposes.iter().map(String::as_str));
                    self.err(
                        pspan,
                        &opath,
                        "UNKNOWN_PURPOSE",
                        format!("unknown purpose `{p}`"),
                        help,
                    );
                    ok = false;
                }
            }
        }
        let line = self.sink.line_col(at.start).0;
        if !ok {
            return None;
        }
        Some(Flow {
            id,
            description,
            from: from.into_iter().map(|(s, _)| s).collect(),
            from_roles,
            to: to.into_iter().map(|(s, _)| s).collect(),
            purpose: purpose?,
            categories,
            bases,
            obligations,
            also_requires_consent,
            requires_involvement,
            onward_from,
            line,
        })
    }

    /// The statutory floor applied to one basis of one flow.
    fn floor_check_basis(
        &mut self,
        basis: &str,
        kind: BasisKind,
        span: Range<usize>,
        path: &str,
        from: &[(String, Range<usize>)],
        to: &[(String, Range<usize>)],
    ) -> bool {
        let mut ok = true;
        if let Some(required) = kind.required_to_sector() {
            for (t, _) in to.iter().filter(|(t, _)| t != required) {
                let (code, msg) = if kind == BasisKind::Meldcode {
                    (
                        "FLOOR_MELDRECHT_ONLY_TO_VEILIG_THUIS",
                        format!(
                            "basis `{basis}` is the meldrecht, which allows reporting only to `{VEILIG_THUIS}`, not to `{t}` (statutory floor)"
                        ),
                    )
                } else {
                    (
                        "FLOOR_BASIS_WRONG_RECIPIENT",
                        format!(
                            "basis `{basis}` ({kind}) only allows disclosure to `{required}`, not to `{t}`"
                        ),
                    )
                };
                self.err(
                    span.clone(),
                    path,
                    code,
                    msg,
                    Some(format!(
                        "towards `{t}` use another basis, e.g. explicit consent"
                    )),
                );
                ok = false;
            }
        }
        if let Some(forbidden) = kind.forbidden_from_sector()
            && from.iter().any(|(f, _)| f == forbidden)
        {
            self.err(
                span.clone(),
                path,
                "FLOOR_BASIS_WRONG_SENDER",
                format!("basis `{basis}` ({kind}) cannot be used by `{forbidden}`"),
                Some(format!("remove `{forbidden}` from `from`")),
            );
            ok = false;
        }
        if let Some(required) = kind.required_from_sector() {
            for (f, _) in from.iter().filter(|(f, _)| f != required) {
                self.err(span.clone(), path, "FLOOR_BASIS_WRONG_SENDER", format!("basis `{basis}` ({kind}) can only be used by `{required}`, not by `{f}` (statutory floor)"), Some(format!("give `{f}` its own flow with a basis it can use, e.g. consent")));
                ok = false;
            }
        }
        ok
    }
}
