//! The console's two languages. Dutch is the default; every text is written at its call site in
//! both languages (`lang.t("Postvak", "Inbox")`), so no key can be missing in one of them.

/// A console language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Nederlands.
    #[default]
    Nl,
    /// English.
    En,
}

impl Lang {
    /// The text in this language.
    pub fn t(self, nl: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Nl => nl,
            Lang::En => en,
        }
    }

    /// Owned variant of [`Lang::t`] for formatted texts.
    pub fn s(self, nl: String, en: String) -> String {
        match self {
            Lang::Nl => nl,
            Lang::En => en,
        }
    }

    /// `nl` or `en` (the `lang` attribute and the switch).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// From `nl`/`en`.
    pub fn from_code(s: &str) -> Option<Lang> {
        match s {
            "nl" => Some(Lang::Nl),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language.
    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }
}

/// A unix time as `5 december 2026 14:03` (UTC; Dutch month names in Dutch).
pub fn when(lang: Lang, unix: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix) else {
        return "-".into();
    };
    const NL: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let m = usize::from(u8::from(t.month())) - 1;
    let month = match lang {
        Lang::Nl => NL[m],
        Lang::En => EN[m],
    };
    format!(
        "{} {} {} {:02}:{:02} UTC",
        t.day(),
        month,
        t.year(),
        t.hour(),
        t.minute()
    )
}

/// A date as `5 december 2026`.
pub fn date(lang: Lang, unix: i64) -> String {
    let full = when(lang, unix);
    full.rsplitn(3, ' ').nth(2).unwrap_or(&full).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_languages() {
        assert_eq!(when(Lang::Nl, 1_796_479_380), "5 december 2026 14:03 UTC");
        assert_eq!(when(Lang::En, 1_796_479_380), "5 December 2026 14:03 UTC");
        assert_eq!(date(Lang::Nl, 1_796_479_380), "5 december 2026");
    }
}
