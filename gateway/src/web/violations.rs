//! The hub's field violations in the console's language. The hub writes them in English for
//! integrators (`google.rpc.BadRequest`); a professional reads the field as the form labels it
//! and, for the rules one meets in the forms, the rule in Dutch. A violation this table does not
//! know is shown as the hub wrote it, so nothing is ever hidden.
use super::i18n::Lang;

/// How the forms label the hub's fields (Dutch, English).
const FIELDS: &[(&str, &str, &str)] = &[
    ("subject_bsn", "BSN", "BSN"),
    ("subject_bsns", "BSN", "BSN"),
    (
        "subject.gezag_holders",
        "gezaghebbenden",
        "holders of gezag",
    ),
    ("subject.age_years", "leeftijd", "age"),
    ("givers.person", "wie toestemming gaf", "who consented"),
    ("givers", "wie toestemming gaf", "who consented"),
    (
        "evidence_reference",
        "kenmerk van het getekende formulier",
        "reference of the signed form",
    ),
    ("purpose", "doel", "purpose"),
    ("purposes", "doel", "purpose"),
    ("categories", "soort gegevens", "kind of data"),
    ("recipient_oin", "ontvanger", "recipient"),
    ("recipient_oins", "ontvanger", "recipient"),
    ("recipients", "ontvanger", "recipient"),
    ("valid_until", "geldig tot", "valid until"),
    ("basis", "grondslag", "basis"),
    ("basis.consent_ids", "toestemmingen", "consents"),
    ("acting_role", "rol", "role"),
    ("signal_id", "kenmerk", "reference"),
    (
        "basis.legal.evidence.client_not_informed_reason",
        "reden dat de ouders niet zijn ingelicht",
        "why the parents were not told",
    ),
    (
        "basis.legal.evidence.case_reference",
        "dossiernummer",
        "case reference",
    ),
    ("case_reference", "dossiernummer", "case reference"),
    ("reason", "reden", "reason"),
    ("declined_by", "wie het zei", "who said so"),
    (
        "veilig_thuis_contact",
        "contactpersoon bij Veilig Thuis",
        "contact person at Veilig Thuis",
    ),
    (
        "wijkteam_contact",
        "contactpersoon bij het wijkteam",
        "contact person at the wijkteam",
    ),
    (
        "contact_professional",
        "contact van de wijkcoach",
        "the wijkcoach's contact",
    ),
    (
        "feedback_id",
        "kenmerk van de terugkoppeling",
        "feedback reference",
    ),
    ("outcome", "uitkomst", "outcome"),
    ("note", "bericht aan de melder", "note to the melder"),
    ("review_at", "herbeoordeling", "review"),
    ("stage", "fase", "stage"),
    ("question", "vraag", "question"),
    ("answer", "antwoord", "answer"),
    ("decline_reason", "reden van weigering", "reason to decline"),
    ("request_id", "kenmerk van het verzoek", "request reference"),
    ("kind", "soort", "kind"),
    ("starts_at", "ingangsdatum", "start date"),
    ("ends_at", "einddatum", "end date"),
    ("contact_point", "contactpunt", "contact point"),
    ("responsible_oin", "uitgevoerd door", "run by"),
    ("maatregel_id", "maatregel", "measure"),
    (
        "next_oin",
        "wie de zaak hierna heeft",
        "who has the case next",
    ),
    ("ended_at", "datum van beëindigen", "end date"),
    (
        "inform_exemption",
        "reden om het gezin niet te informeren",
        "why the family is not informed",
    ),
];

/// The rules a professional meets in the forms, as the hub writes them, with their Dutch.
pub const RULES: &[(&str, &str)] = &[
    (
        "this BSN fails the elfproef (check for a typing error)",
        "dit BSN klopt niet (elfproef): controleer het op een typefout",
    ),
    (
        "a BSN has 9 digits (8 with the leading zero dropped)",
        "een BSN heeft 9 cijfers (8 als de voorloopnul is weggelaten)",
    ),
    (
        "a BSN consists of digits 0-9 only",
        "een BSN bestaat alleen uit cijfers",
    ),
    // The hub's subject fields take a BSN or a subject reference it issued (SH-…).
    (
        "a BSN (9 digits, elfproef) or a subject reference from the hub (SH-…): this BSN fails the elfproef (check for a typing error)",
        "een BSN (9 cijfers, elfproef) of een persoonsreferentie van de hub (SH-…): dit BSN klopt niet (elfproef), controleer het op een typefout",
    ),
    (
        "a BSN (9 digits, elfproef) or a subject reference from the hub (SH-…): a BSN has 9 digits (8 with the leading zero dropped)",
        "een BSN (9 cijfers, elfproef) of een persoonsreferentie van de hub (SH-…): een BSN heeft 9 cijfers (8 als de voorloopnul is weggelaten)",
    ),
    (
        "a BSN (9 digits, elfproef) or a subject reference from the hub (SH-…): a BSN consists of digits 0-9 only",
        "een BSN (9 cijfers, elfproef) of een persoonsreferentie van de hub (SH-…): een BSN bestaat alleen uit cijfers",
    ),
    (
        "a BSN (9 digits, elfproef) or a subject reference from the hub (SH-…): a reference is SH- and 13 letters, without I, L, O or U",
        "een BSN (9 cijfers, elfproef) of een persoonsreferentie van de hub (SH-…): een referentie is SH- en 13 letters, zonder I, L, O of U",
    ),
    (
        "a BSN (9 digits, elfproef) or a subject reference from the hub (SH-…): this reference's check letter does not match (check for a typing error)",
        "een BSN (9 cijfers, elfproef) of een persoonsreferentie van de hub (SH-…): de controleletter van deze referentie klopt niet, controleer haar op een typefout",
    ),
    (
        "must not contain 9 or more digits in a row (it could be a BSN)",
        "mag geen 9 of meer cijfers achter elkaar bevatten (dat kan een BSN zijn)",
    ),
    (
        "a reference, never a name: one of ouder, vader, moeder, stiefouder, pleegouder, grootouder, voogd, verzorger, gezaghebbende, jeugdige, kind, betrokkene, client, partner, optionally numbered -1 to -99 (ouder-1, ouder-2)",
        "een verwijzing, nooit een naam: ouder, vader, moeder, stiefouder, pleegouder, grootouder, voogd, verzorger, gezaghebbende, jeugdige, kind, betrokkene, client of partner, eventueel genummerd -1 tot -99 (ouder-1, ouder-2)",
    ),
    (
        "the SHA-256 of the signed form (64 hexadecimal characters, optionally after \"sha256:\") or where it is filed (1-64 of A-Za-z0-9._-/:, without a run of 9 or more digits), never a name",
        "de SHA-256 van het getekende formulier, of waar het is opgeborgen (1-64 tekens A-Z, a-z, 0-9 en ._-/:, zonder 9 cijfers achter elkaar), nooit een naam",
    ),
    (
        "a name of at most 64 characters: lowercase letters a-z, digits and _, starting with a letter",
        "een naam uit het convenant: kleine letters a-z, cijfers en _, beginnend met een letter, hoogstens 64 tekens",
    ),
    (
        "a dossier number: 1-64 of A-Za-z0-9._-/, without a run of 9 or more digits (never a name or a BSN)",
        "een dossiernummer: 1-64 tekens A-Z, a-z, 0-9 en ._-/, zonder 9 cijfers achter elkaar (nooit een naam of BSN)",
    ),
    (
        "a consent is given for a period: set its end",
        "toestemming geldt voor een periode: vul de einddatum in",
    ),
    ("must be after valid_from", "moet na de begindatum liggen"),
    (
        "at most five years after valid_from",
        "hoogstens vijf jaar na de begindatum",
    ),
    ("at least one is required", "vul er minstens een in"),
    (
        "required: a purpose declared in the convenant",
        "verplicht: een doel uit het convenant",
    ),
    (
        "monitoring needs its next review moment",
        "monitoring vraagt om de datum van de volgende herbeoordeling",
    ),
    (
        "a closed melding has no review moment",
        "een afgesloten melding krijgt geen herbeoordeling: laat de datum leeg",
    ),
    (
        "a moment after now and within two years (a review already past cannot be planned)",
        "een datum na vandaag en binnen twee jaar (een herbeoordeling in het verleden kan niet)",
    ),
    (
        "only categories Veilig Thuis asked for",
        "alleen gegevens waar Veilig Thuis om vroeg",
    ),
    (
        "Veilig Thuis's case reference as the request names it",
        "het dossiernummer van Veilig Thuis zoals het verzoek het noemt",
    ),
    (
        "your case reference: the answer's basis names it",
        "uw dossiernummer: het antwoord noemt het",
    ),
    (
        "another organisation than your own",
        "een andere organisatie dan uw eigen",
    ),
    (
        "an active organisation in the hub's directory",
        "een actieve organisatie uit de sociale kaart",
    ),
    ("within 21 years of now", "binnen 21 jaar van vandaag"),
    (
        "after starts_at and at most 21 years ahead",
        "na de ingangsdatum en hoogstens 21 jaar vooruit",
    ),
    (
        "whom to contact at the responsible organisation: 1-200 characters, one line",
        "wie men bij de uitvoerende organisatie bereikt: 1-200 tekens, één regel",
    ),
    (
        "not an active organisation in the directory",
        "geen actieve organisatie uit de sociale kaart",
    ),
    (
        "give a legal basis with its evidence, or the ids of recorded consents",
        "geef een wettelijke grondslag met onderbouwing, of vastgelegde toestemmingen",
    ),
];

/// The hub's refusals that are a whole message rather than a field (`FAILED_PRECONDITION`), with
/// their Dutch: shown as the hub wrote them when this table does not know them.
pub const MESSAGES: &[(&str, &str)] = &[
    (
        "the melding was not handed over: tell the melder what does happen (HandOver first)",
        "de melding is niet overgedragen: vertel de melder wat er wel gebeurt (eerst overdragen)",
    ),
    (
        "this maatregel was ended already",
        "deze maatregel is al beëindigd",
    ),
    (
        "Veilig Thuis no longer assesses the melding this request is about: the request lapsed",
        "Veilig Thuis beoordeelt de melding waar dit verzoek over gaat niet meer: het verzoek is vervallen (antwoorden kan weer als Veilig Thuis haar opnieuw beoordeelt)",
    ),
    (
        "subject: this reference was merged with the person's BSN; use the BSN",
        "deze referentie is gekoppeld aan het BSN van deze persoon: gebruik voortaan het BSN",
    ),
];

/// The hub's whole refusals whose text names the values concerned, as the hub begins and ends
/// them, with their Dutch.
pub const MESSAGE_PATTERNS: &[(&str, &str, &str)] = &[
    (
        "no melding under assessment: ",
        "(TRIAGE, ONDERZOEK or MONITORING)",
        "de melding is niet in beoordeling (overgedragen of afgesloten): informatie vragen en geven kan alleen zolang Veilig Thuis haar beoordeelt (triage, onderzoek of monitoring)",
    ),
    (
        "information request ",
        " already",
        "dit verzoek is al beantwoord of geweigerd (één keer per verzoek)",
    ),
    (
        "information request ",
        " was answered meanwhile",
        "dit verzoek is intussen beantwoord",
    ),
    (
        "no maatregel ",
        " registered by or entrusted to your organisation",
        "geen maatregel die uw organisatie registreerde of uitvoert",
    ),
    (
        "melding ",
        " is closed (AFGESLOTEN): a new melding starts again",
        "de melding is afgesloten; dat is definitief (een nieuwe melding begint opnieuw)",
    ),
];

/// A whole refusal of the hub in `lang`, where known.
pub fn message(lang: Lang, hub: &str) -> String {
    match lang {
        Lang::Nl => MESSAGES
            .iter()
            .find(|(en, _)| *en == hub)
            .map(|(_, nl)| *nl)
            .or_else(|| {
                MESSAGE_PATTERNS
                    .iter()
                    .find(|(start, end, _)| hub.starts_with(start) && hub.ends_with(end))
                    .map(|(.., nl)| *nl)
            })
            .unwrap_or(hub)
            .to_owned(),
        Lang::En => hub.to_owned(),
    }
}

/// Rules whose text names the values concerned, as the hub begins and ends them, with their
/// Dutch (the console test meets each against the hub itself).
pub const PATTERNS: &[(&str, &str, &str)] = &[(
    "the decision ",
    ": give the reason",
    "het besluit wijkt af van het advies: kies een reden uit de lijst",
)];

/// One field violation as a line for the professional: `field: rule`, in `lang` where known.
pub fn line(lang: Lang, field: &str, description: &str) -> String {
    let label = FIELDS
        .iter()
        .find(|(f, _, _)| *f == field)
        .map(|(_, nl, en)| lang.t(nl, en))
        .unwrap_or(field);
    let rule = match lang {
        Lang::Nl => RULES
            .iter()
            .find(|(en, _)| *en == description)
            .map(|(_, nl)| *nl)
            .or_else(|| {
                PATTERNS
                    .iter()
                    .find(|(start, end, _)| {
                        description.starts_with(start) && description.ends_with(end)
                    })
                    .map(|(.., nl)| *nl)
            })
            .unwrap_or(description),
        Lang::En => description,
    };
    format!("{label}: {rule}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn known_fields_and_rules_are_dutch_and_unknown_ones_stay_as_written() {
        assert_eq!(
            line(
                Lang::Nl,
                "subject_bsn",
                "this BSN fails the elfproef (check for a typing error)"
            ),
            "BSN: dit BSN klopt niet (elfproef): controleer het op een typefout"
        );
        assert_eq!(
            line(
                Lang::En,
                "subject_bsn",
                "this BSN fails the elfproef (check for a typing error)"
            ),
            "BSN: this BSN fails the elfproef (check for a typing error)"
        );
        assert_eq!(
            line(
                Lang::Nl,
                "reason",
                "the decision WIJKTEAM_ALONE differs from the advice JOINT_VISIT: give the reason"
            ),
            "reden: het besluit wijkt af van het advies: kies een reden uit de lijst"
        );
        assert_eq!(
            line(Lang::Nl, "some.new_field", "a new rule"),
            "some.new_field: a new rule"
        );
    }

    #[test]
    fn known_messages_are_dutch_and_unknown_ones_stay_as_written() {
        let hub = MESSAGES[0].0;
        assert!(message(Lang::Nl, hub).starts_with("de melding is niet overgedragen"));
        assert_eq!(message(Lang::En, hub), hub);
        assert_eq!(message(Lang::Nl, "something new"), "something new");
        let hub = "no melding under assessment: this melding is OVERDRACHT (overgedragen); information may be asked and given only while Veilig Thuis assesses it (TRIAGE, ONDERZOEK or MONITORING)";
        assert!(message(Lang::Nl, hub).starts_with("de melding is niet in beoordeling"));
        assert_eq!(message(Lang::En, hub), hub);
        assert!(
            message(
                Lang::Nl,
                "melding zm_1 is closed (AFGESLOTEN): a new melding starts again"
            )
            .starts_with("de melding is afgesloten")
        );
    }

    /// The table's English is the hub's own text, word for word: a rule the hub rewords would
    /// otherwise silently fall back to English.
    #[test]
    fn the_rules_are_the_hubs_own_words() {
        use signaalhub_server::ids::{Bsn, Category, DIGIT_RUN, InvalidName};
        let hub: Vec<String> = vec![
            "1".parse::<Bsn>().unwrap_err().to_string(),
            "12345678a".parse::<Bsn>().unwrap_err().to_string(),
            "123456789".parse::<Bsn>().unwrap_err().to_string(),
            "SH-1".parse::<Bsn>().unwrap_err().to_string(),
            "SH-AAAAAAAAAAAAB".parse::<Bsn>().unwrap_err().to_string(),
            DIGIT_RUN.into(),
            signaalhub_server::api::basis::PERSON_REF_RULE.into(),
            signaalhub_server::api::consent::EVIDENCE_REFERENCE_RULE.into(),
            InvalidName.to_string(),
            signaalhub_server::wire::CASE_REFERENCE_RULE.into(),
        ];
        assert!("Piet".parse::<Category>().is_err());
        for h in &hub {
            assert!(
                RULES.iter().any(|(en, _)| en == h),
                "no Dutch for the hub's {h:?}"
            );
        }
    }
}
