//! The letter for the family that answers a subject access request (AVG art. 15): every
//! disclosure in plain language — when, from whom, to whom, what for, why that was allowed and
//! which data, in the convenant's words — who sends it and how to reach its privacy officer;
//! the proof that the list is complete in an annex.
use crate::domain::access::Withheld;
use crate::domain::letter::{
    Block, Language, Letter, Sender, Vocabulary, fill, long_date, privacy_officer,
};
use crate::ledger::{EntryOutcome, LogEntry};
use signaalhub_proto::checkpoint::SignedCheckpoint;

/// Whether an entry put data about the family in an organisation's hands: every entry whose
/// outcome is `disclosed` (a signal, zorgmelding or handover delivered, a maatregel answer given
/// or its responsible organisation told, an involvement match told, the involved parties listed,
/// a safety plan shared or confirmed to the other parties, a coordinator proposal told, ...).
/// Entries that only record, refuse or hold back are not disclosures.
pub fn is_disclosure(e: &LogEntry) -> bool {
    e.outcome == EntryOutcome::Disclosed
}

/// One entry of the letter: as the family may see it (withheld fields blanked), with its index.
#[derive(Debug, Clone)]
pub struct LetterRow {
    /// The entry, withheld fields blanked.
    pub entry: LogEntry,
    /// Its index in the log.
    pub idx: u64,
    /// What is withheld.
    pub withheld: Vec<Withheld>,
}

/// What the letter is about and for whom.
#[derive(Debug, Clone)]
pub struct AccessLetter<'a> {
    /// The language it is written in.
    pub language: Language,
    /// When it is written (unix seconds).
    pub date: i64,
    /// The organisation whose privacy officer asked for the report.
    pub sender: Sender,
    /// Whether it covers every organisation's part (a hub-wide report), not only the sender's.
    pub hub_wide: bool,
    /// The entries about the person, oldest first.
    pub rows: &'a [LetterRow],
    /// The checkpoint every entry is proved against.
    pub checkpoint: &'a SignedCheckpoint,
}

/// The letter for the family: every disclosure in plain language, the sender and its privacy
/// officer, and the proof in an annex. `name` gives an organisation's name by OIN (`None`: not
/// in the directory); the convenant's words come from `words`. The melder and organisations of
/// a shielded sector are not named (their fields are withheld in `rows`).
pub fn letter(
    name: impl Fn(&str) -> Option<String>,
    words: &Vocabulary<'_>,
    a: &AccessLetter<'_>,
) -> Letter {
    let p = a.language.phrases();
    let sender = a.sender.named(p);
    let org = sender.name.as_str();
    let date = long_date(a.language, a.date);
    let named = |oin: &str| name(oin).unwrap_or_else(|| p.unknown_org.to_owned());
    let mut body = vec![
        Block::Paragraph(p.access_salutation.into()),
        Block::Paragraph(format!(
            "{} {}",
            fill(p.access_asked, &[("org", org)]),
            p.access_right
        )),
        Block::Paragraph(if a.hub_wide {
            p.access_scope_all.to_owned()
        } else {
            fill(p.access_scope_own, &[("org", org)])
        }),
        Block::Paragraph(format!("{} {}", p.access_hub, p.access_no_content)),
        Block::Heading(p.access_shared_heading.into()),
    ];
    let disclosed: Vec<&LetterRow> = a.rows.iter().filter(|r| is_disclosure(&r.entry)).collect();
    if disclosed.is_empty() {
        body.push(Block::Paragraph(p.access_none.into()));
    } else {
        let count = match disclosed.len() {
            1 => p.access_count_once.to_owned(),
            n => fill(p.access_count, &[("n", &n.to_string())]),
        };
        body.push(Block::Paragraph(format!("{count} {}", p.access_each)));
        if words.quotes_dutch() && !p.labels_in_dutch.is_empty() {
            body.push(Block::Paragraph(p.labels_in_dutch.into()));
        }
    }
    let mut numbers = Vec::with_capacity(disclosed.len());
    for (i, row) in disclosed.iter().enumerate() {
        let e = &row.entry;
        let n = (i + 1).to_string();
        let when = long_date(a.language, e.at);
        let actor = if row.withheld.contains(&Withheld::Melder) {
            p.melder.to_owned()
        } else if row.withheld.contains(&Withheld::ShieldedActor) {
            p.shielded_org.to_owned()
        } else {
            named(&e.actor_oin)
        };
        // Without a recipient the actor itself was told (an answer from a register of the hub).
        let (from, to) = if row.withheld.contains(&Withheld::ShieldedRecipient) {
            (actor, p.shielded_org.to_owned())
        } else {
            match e.recipient_oin.as_deref() {
                Some(r) => (actor, named(r)),
                None => (p.hub_register.to_owned(), actor),
            }
        };
        let mut fields = vec![
            (p.field_from.to_owned(), vec![from]),
            (p.field_to.to_owned(), vec![to]),
        ];
        if let Some(purpose) = e.purpose.as_deref() {
            fields.push((p.field_why.to_owned(), vec![words.purpose(purpose)]));
        }
        let grounds = words.grounds(&e.basis);
        if !grounds.is_empty() {
            fields.push((p.field_ground.to_owned(), grounds));
        }
        if !e.categories.is_empty() {
            let mut what: Vec<String> = Vec::new();
            for c in &e.categories {
                let w = words.category(c);
                if !what.contains(&w) {
                    what.push(w);
                }
            }
            fields.push((p.field_what.to_owned(), what));
        }
        body.push(Block::Record {
            title: fill(p.access_record_title, &[("n", &n), ("date", &when)]),
            fields,
        });
        numbers.push(fill(
            p.annex_number,
            &[("n", &n), ("date", &when), ("index", &row.idx.to_string())],
        ));
    }
    if a.rows.iter().any(|r| !r.withheld.is_empty()) {
        body.push(Block::Paragraph(p.shielded_note.into()));
    }
    let others = a.rows.len() - disclosed.len();
    if others > 0 {
        let count = match others {
            1 => p.access_others_one.to_owned(),
            n => fill(p.access_others, &[("n", &n.to_string())]),
        };
        body.push(Block::Paragraph(format!(
            "{count} {}",
            p.access_others_examples
        )));
    }
    body.push(Block::Heading(p.questions_heading.into()));
    body.extend(privacy_officer(p, &sender));
    body.push(Block::Heading(p.proof_heading.into()));
    body.push(Block::Paragraph(p.proof_body.into()));
    body.push(Block::Paragraph(p.closing.into()));
    body.push(Block::Paragraph(org.into()));
    let mut annex = vec![Block::Paragraph(p.annex_intro.into())];
    if !numbers.is_empty() {
        annex.push(Block::Paragraph(p.annex_numbers.into()));
        annex.push(Block::List(numbers));
    }
    annex.push(Block::Paragraph(fill(
        p.annex_checkpoint,
        &[("size", &a.checkpoint.checkpoint.tree_size.to_string())],
    )));
    annex.push(Block::Preformatted(a.checkpoint.to_note()));
    annex.push(Block::Paragraph(p.annex_files.into()));
    Letter {
        language: a.language,
        letterhead: vec![
            format!("{}: {org}", p.from_label),
            format!("{}: {date}", p.date_label),
        ],
        title: p.access_title.into(),
        body,
        annex: Some((p.annex_title.into(), annex)),
        sender: sender.name.clone(),
        privacy_contact: sender.privacy_contact.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::letter::{body_sentences, body_text, html};
    use crate::ledger::{Checks, Event};
    use signaalhub_policy::{Convenant, SAMPLE_CONVENANT, parse};
    use signaalhub_proto::checkpoint::Checkpoint;

    const GP: &str = "00000009903000000000";
    const SCHOOL: &str = "00000009901000000000";
    const VT: &str = "00000009906000000000";
    const WIJKTEAM: &str = "00000009905000000000";
    const SHELTER: &str = "00000009908000000000";
    const CONSENT: &str = "consent:c_8e3a0b1c2d";

    fn names(oin: &str) -> Option<String> {
        match oin {
            GP => Some("Huisartsenpraktijk Het Kompas".into()),
            SCHOOL => Some("OBS De Regenboog".into()),
            VT => Some("Veilig Thuis Gelderland-Midden".into()),
            WIJKTEAM => Some("Wijkteam Arnhem-Oost".into()),
            SHELTER => Some("Vrouwenopvang De Haven".into()),
            _ => None,
        }
    }

    fn entry(
        actor: &str,
        to: Option<&str>,
        purpose: &str,
        cats: &[String],
        basis: &[&str],
    ) -> LogEntry {
        LogEntry {
            v: 1,
            event: Event::SignalDelivered,
            at: 1_767_225_600,
            actor_oin: actor.into(),
            actor_pro: String::new(),
            actor_role: "ib_er".into(),
            subjects: vec!["ab".repeat(32)],
            recipient_oin: to.map(str::to_owned),
            categories: cats.to_vec(),
            purpose: Some(purpose.into()),
            basis: basis.iter().map(|b| (*b).to_owned()).collect(),
            checks: Checks::default(),
            outcome: EntryOutcome::Disclosed,
            reasons: vec!["CONSENT_VALID".into()],
            policy_version: Some("2025.1+fnv1a64:0123456789abcdef".into()),
            reference: Some("sig-1".into()),
        }
    }

    /// One disclosure per flow of the sample (each of its bases, and a consent), the GP's
    /// meldcode report (shielded), a shelter's signal (shielded), a register's answer and a
    /// recorded consent.
    fn rows(c: &Convenant) -> Vec<LetterRow> {
        let mut rows = Vec::new();
        let mut idx = 100;
        let mut push = |entry: LogEntry, withheld: Vec<Withheld>| {
            idx += 1;
            rows.push(LetterRow {
                entry,
                idx,
                withheld,
            });
        };
        for f in &c.flows {
            let mut basis: Vec<String> = f.bases.iter().map(|b| format!("legal:{b}")).collect();
            basis.push(CONSENT.into());
            let basis: Vec<&str> = basis.iter().map(String::as_str).collect();
            push(
                entry(SCHOOL, Some(WIJKTEAM), &f.purpose, &f.categories, &basis),
                Vec::new(),
            );
        }
        let gezondheid = vec!["gezondheid".to_string()];
        let mut melder = entry(
            "",
            Some(VT),
            "melding_veilig_thuis",
            &gezondheid,
            &["legal:meldrecht"],
        );
        melder.actor_role = String::new();
        melder.reference = None;
        push(melder, vec![Withheld::Melder]);
        let mut shelter = entry(
            "",
            Some(VT),
            "acuut_gevaar",
            &gezondheid,
            &["legal:vitaal_belang"],
        );
        shelter.actor_role = String::new();
        push(shelter, vec![Withheld::ShieldedActor]);
        push(
            entry(
                WIJKTEAM,
                None,
                "maatregel_afstemming",
                &["maatregel_bestaan".into()],
                &["legal:jeugdwet_informatie"],
            ),
            Vec::new(),
        );
        // Names a convenant does not know come out as generic words.
        push(
            entry(
                GP,
                Some("00000009999000000000"),
                "onbekend_doel",
                &["onbekende_categorie".into()],
                &["legal:onbekende_grond", "melder:may_be_named"],
            ),
            Vec::new(),
        );
        let mut recorded = entry(SCHOOL, None, "vroegtijdige_ondersteuning", &[], &[CONSENT]);
        recorded.outcome = EntryOutcome::Recorded;
        push(recorded, Vec::new());
        rows
    }

    fn checkpoint() -> SignedCheckpoint {
        SignedCheckpoint {
            checkpoint: Checkpoint {
                origin: "signaalhub.dev.example/verstrekkingenlog".into(),
                tree_size: 4242,
                root: [7; 32],
                timestamp_unix: 1_767_225_600,
            },
            key_id: "hub-checkpoint-1".into(),
            signature: [9; 64],
        }
    }

    fn write(c: &Convenant, language: Language, privacy_contact: &str) -> Letter {
        let rows = rows(c);
        let cp = checkpoint();
        letter(
            names,
            &Vocabulary::new(c, language),
            &AccessLetter {
                language,
                date: 1_772_496_000,
                sender: Sender {
                    name: "Veilig Thuis Gelderland-Midden".into(),
                    privacy_contact: privacy_contact.into(),
                    contact_point: "0800-2000".into(),
                },
                hub_wide: false,
                rows: &rows,
                checkpoint: &cp,
            },
        )
    }

    /// Every identifier of the sample convenant: sectors, roles, purposes, categories, bases,
    /// basis kinds and flows.
    fn identifiers(c: &Convenant) -> Vec<String> {
        let mut ids = Vec::new();
        for s in &c.sectors {
            ids.push(s.name.clone());
            ids.extend(s.roles.iter().cloned());
        }
        ids.extend(c.purposes.iter().map(|p| p.name.clone()));
        ids.extend(c.categories.iter().map(|k| k.name.clone()));
        for b in &c.bases {
            ids.push(b.name.clone());
            ids.push(b.kind.name().to_owned());
        }
        ids.extend(c.flows.iter().map(|f| f.id.clone()));
        ids.extend(["onbekend_doel", "onbekende_categorie", "onbekende_grond"].map(String::from));
        ids
    }

    /// The words of `text`: runs of letters, digits, `_` and `-`.
    fn words(text: &str) -> Vec<&str> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .filter(|w| !w.is_empty())
            .collect()
    }

    #[test]
    fn the_letter_holds_no_code_and_no_id_in_either_language() {
        let c = parse("sample.toml", SAMPLE_CONVENANT).expect("the sample is valid");
        // Identifiers that are also ordinary words (a basis named "toestemming" reads as the
        // Dutch word, the kind "consent" as the English one; an English letter quotes the
        // convenant's Dutch descriptions).
        let ordinary = [
            "toestemming",
            "gezondheid",
            "betrokkenheid",
            "wijkteam",
            "school",
            "huisarts",
            "politie",
            "vrouwenopvang",
            "meldcode",
            "consent",
        ];
        for language in [Language::Nl, Language::En] {
            let l = write(&c, language, "fg@vtgm.example");
            let body = body_text(&l);
            let whole = html(&l);
            let body_words = words(&body);
            for id in identifiers(&c) {
                if id.contains('_') {
                    assert!(
                        !body.to_lowercase().contains(&id.to_lowercase()),
                        "{language:?}: code {id:?} in the body:\n{body}"
                    );
                } else if !ordinary.contains(&id.as_str()) {
                    assert!(
                        !body_words.contains(&id.as_str()),
                        "{language:?}: code {id:?} in the body:\n{body}"
                    );
                }
            }
            for needle in [
                "consent:",
                "legal:",
                "may_be_named",
                "c_8e3a",
                "sig-1",
                "CONSENT_VALID",
                "fnv1a64",
                "ib_er",
            ] {
                assert!(
                    !body.contains(needle),
                    "{language:?}: {needle:?} in\n{body}"
                );
            }
            // No OIN, BSN or other run of digits; no hash.
            let digits = body
                .split(|c: char| !c.is_ascii_digit())
                .map(str::len)
                .max()
                .unwrap_or(0);
            assert!(
                digits < 9,
                "{language:?}: a run of {digits} digits in\n{body}"
            );
            assert!(
                !whole.contains(&"ab".repeat(32)),
                "no subject pseudonym anywhere"
            );
            for oin in [GP, SCHOOL, VT, WIJKTEAM, SHELTER, "00000009999000000000"] {
                assert!(
                    !whole.contains(oin),
                    "{language:?}: OIN {oin} in the letter"
                );
            }
            // The proof is in the annex, and only there.
            let (annex_title, annex) = l.annex.as_ref().expect("an annex");
            assert!(!body.contains("signaalhub.dev.example/verstrekkingenlog"));
            assert!(
                annex.iter().any(
                    |b| matches!(b, Block::Preformatted(n) if n.contains("verstrekkingenlog"))
                )
            );
            assert!(whole.contains(&format!("<h2 id=\"annex\">{annex_title}</h2>")));
            let annex_at = whole.find("<section class=\"annex\"").unwrap_or(0);
            assert!(annex_at > whole.find("</main>").unwrap_or(usize::MAX));
        }
    }

    #[test]
    fn the_reporter_and_a_shelter_stay_unnamed_in_both_languages() {
        let c = parse("sample.toml", SAMPLE_CONVENANT).expect("the sample is valid");
        for (language, melder, shielded, why) in [
            (
                Language::Nl,
                "een melder (wie dat is, blijft geheim)",
                "een beschermde organisatie",
                "Wie iets meldt bij Veilig Thuis, blijft geheim.",
            ),
            (
                Language::En,
                "a reporter (who this is stays secret)",
                "a protected organisation",
                "Anyone who reports to Veilig Thuis stays secret.",
            ),
        ] {
            let l = write(&c, language, "");
            let whole = html(&l);
            assert!(!whole.contains("Vrouwenopvang De Haven"), "{language:?}");
            let records: Vec<&Vec<(String, Vec<String>)>> = l
                .body
                .iter()
                .filter_map(|b| match b {
                    Block::Record { fields, .. } => Some(fields),
                    _ => None,
                })
                .collect();
            assert_eq!(
                records.len(),
                c.flows.len() + 4,
                "{language:?}: one record per disclosure"
            );
            let from = |i: usize| records[i][0].1[0].as_str();
            assert_eq!(from(c.flows.len()), melder);
            assert!(from(c.flows.len() + 1).starts_with(shielded));
            assert!(body_text(&l).contains(why));
            // The GP is named where it is not the reporter, and the unknown recipient in words.
            assert_eq!(from(c.flows.len() + 3), "Huisartsenpraktijk Het Kompas");
            assert_eq!(
                records[c.flows.len() + 3][1].1,
                vec![language.phrases().unknown_org]
            );
        }
    }

    #[test]
    fn the_letter_reads_in_short_sentences_with_sender_date_and_privacy_officer() {
        let c = parse("sample.toml", SAMPLE_CONVENANT).expect("the sample is valid");
        for language in [Language::Nl, Language::En] {
            let p = language.phrases();
            let l = write(&c, language, "fg@vtgm.example, 0800-2001");
            let sentences = body_sentences(&l);
            let lengths: Vec<usize> = sentences
                .iter()
                .map(|s| s.split_whitespace().count())
                .collect();
            let max = lengths.iter().copied().max().unwrap_or(0);
            let mean = lengths.iter().sum::<usize>() as f64 / lengths.len() as f64;
            assert!(
                max <= 20,
                "{language:?}: a sentence of {max} words in {sentences:#?}"
            );
            assert!(
                mean <= 12.0,
                "{language:?}: {mean:.1} words a sentence on average"
            );
            eprintln!(
                "{language:?}: {} sentences, longest {max} words, mean {mean:.1}",
                sentences.len()
            );
            let body = body_text(&l);
            assert_eq!(
                l.letterhead,
                vec![
                    format!("{}: Veilig Thuis Gelderland-Midden", p.from_label),
                    format!("{}: {}", p.date_label, long_date(language, 1_772_496_000)),
                ]
            );
            assert!(body.contains("fg@vtgm.example, 0800-2001"), "{body}");
            assert_eq!(l.privacy_contact, "fg@vtgm.example, 0800-2001");
            // The convenant's words for a purpose, a category and a basis (Dutch: the basis's
            // description; English: the words for its kind).
            assert!(body.contains("Vroegtijdig hulp bieden aan een gezin na een signaal"));
            assert!(body.contains("Zorgen over de thuissituatie zoals de professional ze ziet"));
            match language {
                Language::Nl => assert!(body.contains(
                    "de wettelijke taak van Veilig Thuis (Wet maatschappelijke ondersteuning 2015)"
                )),
                Language::En => {
                    assert!(body.contains("the legal task of Veilig Thuis"));
                    assert!(body.contains(p.labels_in_dutch));
                }
            }
            assert!(body.contains(p.purpose_unknown) && body.contains(p.category_unknown));
            assert!(body.contains(&fill(
                p.access_count,
                &[("n", &(c.flows.len() + 4).to_string())]
            )));
            assert!(body.contains(p.access_others_one));
        }
        // A sender the directory does not know is named in words, never by its OIN.
        let rows = rows(&c);
        let cp = checkpoint();
        let unknown = letter(
            names,
            &Vocabulary::new(&c, Language::Nl),
            &AccessLetter {
                language: Language::Nl,
                date: 0,
                sender: Sender::default(),
                hub_wide: true,
                rows: &rows,
                checkpoint: &cp,
            },
        );
        let body = body_text(&unknown);
        assert!(body.contains("Van: een organisatie die niet meer in de signaalhub staat"));
        assert!(body.contains(Language::Nl.phrases().access_scope_all));
        // Without a registered privacy officer the letter says so and whom to ask instead.
        let body = body_text(&write(&c, Language::Nl, ""));
        assert!(
            body.contains(
                "Veilig Thuis Gelderland-Midden heeft ons niet laten weten hoe u de FG bereikt."
            ),
            "{body}"
        );
        assert!(body.contains("U bereikt Veilig Thuis Gelderland-Midden via 0800-2000."));
    }
}
