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
    Reason {
        code: "al_geinformeerd",
        nl: "Het gezin beschikt al over deze informatie (AVG art. 14 lid 5 sub a)",
        en: "The family already has this information (GDPR art. 14(5)(a))",
    },
    Reason {
        code: "wettelijke_geheimhouding",
        nl: "Een wettelijke geheimhoudingsplicht staat informeren in de weg (AVG art. 14 lid 5 sub d)",
        en: "A statutory duty of confidentiality prevents informing them (GDPR art. 14(5)(d))",
    },
];

/// Why an organisation grants a family's request about their data (objection, correction,
/// restriction, erasure; AVG art. 16-18 and 21).
pub const FAMILY_REQUEST_GRANTED: &[Reason] = &[
    Reason {
        code: "gegevens_onjuist",
        nl: "De gegevens zijn onjuist of onvolledig (AVG art. 16)",
        en: "The data is inaccurate or incomplete (GDPR art. 16)",
    },
    Reason {
        code: "juistheid_betwist",
        nl: "De juistheid is betwist; de verwerking is beperkt zolang dat wordt nagegaan (AVG art. 18 lid 1 sub a)",
        en: "The accuracy is contested; processing is restricted while it is checked (GDPR art. 18(1)(a))",
    },
    Reason {
        code: "niet_meer_nodig",
        nl: "De gegevens zijn niet meer nodig voor het doel (AVG art. 17 lid 1 sub a)",
        en: "The data is no longer needed for its purpose (GDPR art. 17(1)(a))",
    },
    Reason {
        code: "toestemming_ingetrokken",
        nl: "De toestemming is ingetrokken en er is geen andere grondslag (AVG art. 17 lid 1 sub b)",
        en: "Consent was withdrawn and there is no other ground (GDPR art. 17(1)(b))",
    },
    Reason {
        code: "bezwaar_gegrond",
        nl: "Het bezwaar weegt zwaarder dan het belang van de verwerking (AVG art. 21 lid 1)",
        en: "The objection outweighs the interest in the processing (GDPR art. 21(1))",
    },
    Reason {
        code: "onrechtmatig",
        nl: "De gegevens zijn onrechtmatig verwerkt (AVG art. 17 lid 1 sub d)",
        en: "The data was processed unlawfully (GDPR art. 17(1)(d))",
    },
];

/// Why an organisation refuses a family's request about their data.
pub const FAMILY_REQUEST_REFUSED: &[Reason] = &[
    Reason {
        code: "gegevens_juist",
        nl: "De gegevens zijn juist en volledig (AVG art. 16)",
        en: "The data is accurate and complete (GDPR art. 16)",
    },
    Reason {
        code: "dwingende_gronden",
        nl: "Dwingende gerechtvaardigde gronden wegen zwaarder, zoals de veiligheid van het kind (AVG art. 21 lid 1)",
        en: "Compelling legitimate grounds override it, such as the child's safety (GDPR art. 21(1))",
    },
    Reason {
        code: "wettelijke_taak",
        nl: "Bewaren is nodig voor een wettelijke plicht of taak (AVG art. 17 lid 3 sub b)",
        en: "Keeping it is needed for a legal obligation or statutory task (GDPR art. 17(3)(b))",
    },
    Reason {
        code: "bescherming_kind",
        nl: "Inwilligen schaadt de bescherming van het kind of de rechten van anderen (UAVG art. 41)",
        en: "Granting it would harm the child's protection or the rights of others (UAVG art. 41)",
    },
    Reason {
        code: "kennelijk_ongegrond",
        nl: "Het verzoek is kennelijk ongegrond of buitensporig (AVG art. 12 lid 5)",
        en: "The request is manifestly unfounded or excessive (GDPR art. 12(5))",
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
        for list in [
            NOT_INFORMED,
            VITAL_INTEREST,
            INFORM_EXEMPTION,
            FAMILY_REQUEST_GRANTED,
            FAMILY_REQUEST_REFUSED,
        ] {
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
