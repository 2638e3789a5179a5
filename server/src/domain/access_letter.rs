//! The letter for the family that answers a subject access request (AVG art. 15): every
//! disclosure in plain Dutch, and how to check that the list is complete.
use crate::domain::access::Withheld;
use crate::domain::zorgmelding::civil_date;
use crate::ledger::{EntryOutcome, LogEntry};
use signaalhub_proto::checkpoint::SignedCheckpoint;

fn esc(s: &str) -> String {
    signaalhub_policy::explain::escape_html(s)
}

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

/// What the letter says in place of a withheld organisation.
pub const MELDER_NL: &str =
    "een melder (de naam van wie meldde wordt niet gegeven: die is beschermd door de wet)";
/// What the letter says in place of an organisation of a shielded sector.
pub const SHIELDED_NL: &str = "een organisatie (afgeschermd ter bescherming)";

/// The letter for the family: every disclosure in plain Dutch, and how to check completeness.
pub fn letter(
    name: impl Fn(&str) -> String,
    entries: &[LetterRow],
    checkpoint: &SignedCheckpoint,
) -> String {
    let basis_nl = |b: &str| -> String {
        if let Some(id) = b.strip_prefix("consent:") {
            format!("toestemming ({id})")
        } else if let Some(l) = b.strip_prefix("legal:") {
            match l {
                "meldrecht" => "meldcode / meldrecht (Wet verplichte meldcode)".into(),
                "wpg_zorgmelding" => "zorgmelding politie (Wet politiegegevens)".into(),
                "vt_wettelijke_taak" => "wettelijke taak Veilig Thuis (Wmo 2015)".into(),
                "wgs_vroegsignalering" => {
                    "vroegsignalering schulden (Wet gemeentelijke schuldhulpverlening)".into()
                }
                "jeugdwet_informatie" => "informatie jeugdbescherming (Jeugdwet)".into(),
                "vitaal_belang" => "vitaal belang (acuut gevaar)".into(),
                other => other.into(),
            }
        } else {
            b.into()
        }
    };
    let mut rows = String::new();
    let mut n = 0;
    for LetterRow {
        entry: e,
        idx,
        withheld,
    } in entries
    {
        if !is_disclosure(e) {
            continue;
        }
        n += 1;
        let actor = if withheld.contains(&Withheld::Melder) {
            MELDER_NL.to_owned()
        } else if withheld.contains(&Withheld::ShieldedActor) {
            SHIELDED_NL.to_owned()
        } else {
            name(&e.actor_oin)
        };
        // Without a recipient the actor itself was told (an answer from a register of the hub).
        let (from, to) = if withheld.contains(&Withheld::ShieldedRecipient) {
            (actor, SHIELDED_NL.to_owned())
        } else {
            match e.recipient_oin.as_deref() {
                Some(r) => (actor, name(r)),
                None => ("register in de signaalhub".to_owned(), actor),
            }
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&civil_date(e.at)),
            esc(&from),
            esc(&to),
            esc(e.purpose.as_deref().unwrap_or("")),
            esc(&e.basis.iter().map(|b| basis_nl(b)).collect::<Vec<_>>().join(", ")),
            esc(&e.categories.join(", ")),
            idx
        ));
    }
    let others = entries.iter().filter(|r| !is_disclosure(&r.entry)).count();
    let shielded_note = if entries.iter().any(|r| !r.withheld.is_empty()) {
        "<p>Bij sommige regels staat niet wie het was. De naam van wie een melding deed bij Veilig Thuis \
         geven we niet: de wet beschermt melders (Wet verplichte meldcode, Wmo 2015). Ook sommige \
         hulporganisaties, zoals de vrouwenopvang, noemen we niet, om mensen te beschermen. De regel \
         zelf staat wel in het logboek.</p>"
    } else {
        ""
    };
    let body = if n == 0 {
        "<p>Er zijn geen gegevens over u of uw kind verstrekt via de signaalhub.</p>".to_string()
    } else {
        format!(
            "<table><thead><tr><th>Datum</th><th>Van</th><th>Aan</th><th>Doel</th><th>Grondslag</th><th>Soort gegevens</th><th>Nr. in logboek</th></tr></thead><tbody>\n{rows}</tbody></table>"
        )
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Overzicht van verstrekkingen</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #999;padding:.3em;text-align:left;vertical-align:top}}</style></head>
<body>
<h1>Overzicht: welke gegevens zijn gedeeld?</h1>
<p>U vroeg welke gegevens over u of uw kind zijn gedeeld via de signaalhub (inzageverzoek, artikel 15 AVG).
Hieronder staat elke keer dat gegevens aan een organisatie zijn gegeven: wanneer, door wie, aan wie, waarvoor
(het doel), op welke grond, en welke soort gegevens. De inhoud van de berichten zelf staat hier niet in:
die kan de signaalhub niet lezen.</p>
<p>Aantal verstrekkingen: <strong>{n}</strong>.</p>
{body}
{shielded_note}
<p>Daarnaast staan er {others} andere registraties in het logboek over u of uw kind (bijvoorbeeld het vastleggen
of intrekken van toestemming, of een bericht dat is tegengehouden).</p>
<h2>Is dit overzicht compleet?</h2>
<p>Elke regel staat in een beveiligd logboek dat niet ongemerkt kan worden veranderd. Het overzicht hoort bij
controlepunt <code>{size}</code> van het logboek, ondertekend door de signaalhub. Bij dit overzicht hoort een
bestand (JSON) met een bewijs per regel; iedereen kan daarmee nagaan dat de regels echt in het logboek staan.</p>
<pre>{note}</pre>
<p>Heeft u vragen, of klopt er iets niet? Neem contact op met de functionaris gegevensbescherming van de
organisatie die u dit overzicht gaf.</p>
</body></html>
"#,
        size = checkpoint.checkpoint.tree_size,
        note = esc(&checkpoint.to_note()),
    )
}
