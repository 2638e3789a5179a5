//! The fixed reason codes a professional chooses where the law asks for a reason: why the client
//! was not told of a report, why a vital interest is at stake, why the family is not informed of a
//! disclosure. The hub stores and logs only these codes, never free text: a reason typed by hand
//! ("vader Piet Bakker (Dorpsstraat 3) dreigt...") would put identifying data at rest in a hub
//! that promises to hold none. The circumstances themselves belong in the sealed payload, which
//! only the recipient can open.
//!
//! ```
//! use signaalhub_policy::reasons::{self, NOT_INFORMED};
//! assert!(reasons::lookup(NOT_INFORMED, "veiligheid_kind").is_some());
//! assert!(reasons::lookup(NOT_INFORMED, "vader dreigt").is_none());
//! ```

/// One reason a professional can state, with its plain description in Dutch and English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason {
    /// The code on the wire, in the store and in the log.
    pub code: &'static str,
    /// What it means, in Dutch (the console shows this).
    pub nl: &'static str,
    /// What it means, in English.
    pub en: &'static str,
}

/// Why the client (the parents, the child) was not told of a meldcode report beforehand
/// (`Evidence.client_not_informed_reason`). The meldcode allows skipping the conversation only
/// when it would endanger someone or make the client break off contact (the meldcode's
/// conversation with the client).
pub const NOT_INFORMED: &[Reason] = &[
    Reason {
        code: "veiligheid_kind",
        nl: "Het gesprek brengt de veiligheid van het kind in gevaar",
        en: "Telling them would endanger the child",
    },
    Reason {
        code: "veiligheid_client",
        nl: "Het gesprek brengt de veiligheid van de cliënt in gevaar",
        en: "Telling them would endanger the client",
    },
    Reason {
        code: "veiligheid_melder",
        nl: "Het gesprek brengt de veiligheid van de melder of een ander in gevaar",
        en: "Telling them would endanger the reporter or someone else",
    },
    Reason {
        code: "contact_verbreken",
        nl: "Goede redenen om aan te nemen dat de cliënt dan het contact verbreekt",
        en: "Good reason to expect the client would break off contact",
    },
];

/// Why a vital interest (AVG art. 6(1)(d)) is at stake (`Evidence.vital_interest_reason`).
pub const VITAL_INTEREST: &[Reason] = &[
    Reason {
        code: "acuut_levensgevaar",
        nl: "Acuut gevaar voor het leven van betrokkene",
        en: "Acute danger to the subject's life",
    },
    Reason {
        code: "acuut_ernstig_letsel",
        nl: "Acuut gevaar voor ernstig lichamelijk of geestelijk letsel",
        en: "Acute danger of serious physical or mental harm",
    },
    Reason {
        code: "medische_noodsituatie",
        nl: "Medische noodsituatie waarin betrokkene geen toestemming kan geven",
        en: "Medical emergency in which the subject cannot consent",
    },
    Reason {
        code: "vermissing",
        nl: "Betrokkene is vermist en in gevaar",
        en: "The subject is missing and in danger",
    },
];

/// Why the family is not informed of a disclosure the convenant says to inform them of
/// (`inform_exemption`; AVG art. 14(5) and 23, UAVG art. 41).
pub const INFORM_EXEMPTION: &[Reason] = &[
    Reason {
        code: "veiligheid_kind",
        nl: "Informeren brengt de veiligheid van het kind in gevaar",
        en: "Informing them would endanger the child",
    },
    Reason {
        code: "veiligheid_melder",
        nl: "Informeren brengt de melder of een ander in gevaar (bescherming van de rechten van anderen)",
        en: "Informing them would endanger the reporter or someone else (rights of others)",
    },
    Reason {
        code: "strafrechtelijk_onderzoek",
        nl: "Informeren schaadt een lopend strafrechtelijk onderzoek",
        en: "Informing them would harm a criminal investigation",
    },
    Reason {
        code: "onderzoek_veilig_thuis",
        nl: "Informeren schaadt het onderzoek van Veilig Thuis (uitgesteld informeren)",
        en: "Informing them now would harm Veilig Thuis's investigation (deferred)",
    },
];

/// The reason with `code` in `list`, if it is one.
pub fn lookup(list: &'static [Reason], code: &str) -> Option<&'static Reason> {
    list.iter().find(|r| r.code == code)
}

/// The codes of `list`, comma-separated, for an error message.
pub fn codes(list: &[Reason]) -> String {
    list.iter().map(|r| r.code).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_lowercase_words_with_both_languages() {
        for list in [NOT_INFORMED, VITAL_INTEREST, INFORM_EXEMPTION] {
            for (i, r) in list.iter().enumerate() {
                assert!(
                    r.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "{}",
                    r.code
                );
                assert!(!r.nl.is_empty() && !r.en.is_empty());
                assert!(list[..i].iter().all(|o| o.code != r.code), "{}", r.code);
            }
        }
        assert_eq!(
            lookup(VITAL_INTEREST, "vermissing").map(|r| r.code),
            Some("vermissing")
        );
        assert!(codes(NOT_INFORMED).starts_with("veiligheid_kind, "));
    }
}
