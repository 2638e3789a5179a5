//! Veilig Thuis triage: the six Arnhem criteria for acting jointly with the wijkteam ("samen
//! optrekken", seed 002) turned into an advice with the criteria that led to it. Pure: answers
//! in, advice out; no IO, no clock, no protobuf.
//!
//! The criteria (Arnhem, 2016):
//! 1. physical abuse or severe violence;
//! 2. sexual abuse;
//! 3. domestic violence (of serious severity) witnessed by children;
//! 4. a conflict in the family about the children's safety — a care report that is *only* about
//!    a divorce is picked up by the wijkteam alone;
//! 5. the parents are expected, or found, not to be open to help;
//! 6. stacked reports (recidive) together with mutual accusations and/or addiction.
//!
//! The advice: acute danger stays with Veilig Thuis (Samen Verder, seed 003, takes every melding
//! except acute ones); any criterion met means a joint visit; otherwise the wijkteam alone.
//! Criteria answered "unknown" are listed as open questions: the advice is then provisional.

/// A yes/no answer that may not be known yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Answer {
    /// Not (yet) known.
    #[default]
    Unknown,
    /// Yes.
    Yes,
    /// No.
    No,
}

/// Criterion 4: is there a conflict in the family about the children's safety?
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SafetyConflict {
    /// Not (yet) known.
    #[default]
    Unknown,
    /// Yes: a conflict about the children's safety.
    Yes,
    /// Only divorce problems: the wijkteam picks this up alone (criterion not met).
    DivorceOnly,
    /// No.
    No,
}

/// Criterion 5: are the parents open to help?
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OpenToHelp {
    /// Not (yet) known.
    #[default]
    Unknown,
    /// The parents are open to help.
    Open,
    /// Expected not to be open to help.
    ExpectedNotOpen,
    /// Found not to be open to help.
    FoundNotOpen,
}

/// The triagist's structured answers, plus what the hub knows of earlier reports.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TriageAnswers {
    /// Criterion 1.
    pub physical_abuse_or_severe_violence: Answer,
    /// Criterion 2.
    pub sexual_abuse: Answer,
    /// Criterion 3.
    pub violence_witnessed_by_children: Answer,
    /// Criterion 4.
    pub safety_conflict: SafetyConflict,
    /// Criterion 5.
    pub open_to_help: OpenToHelp,
    /// Criterion 6, first half: stacked reports as Veilig Thuis knows them (also outside the hub).
    pub stacked_reports: Answer,
    /// Criterion 6: mutual accusations.
    pub mutual_accusations: Answer,
    /// Criterion 6: addiction.
    pub addiction: Answer,
    /// Earlier reports about the same persons that the hub counted within the convenant's
    /// recidive window; more than zero counts as stacked reports whatever `stacked_reports` says.
    pub earlier_reports_in_window: u32,
    /// Acute danger.
    pub acute: bool,
}

/// One of the six criteria.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Criterion {
    /// 1. Physical abuse or severe violence.
    PhysicalAbuseOrSevereViolence,
    /// 2. Sexual abuse.
    SexualAbuse,
    /// 3. Domestic violence witnessed by children.
    ViolenceWitnessedByChildren,
    /// 4. Conflict about the children's safety.
    SafetyConflict,
    /// 5. Parents not open to help.
    NotOpenToHelp,
    /// 6. Stacked reports with mutual accusations and/or addiction.
    StackedReports,
}

impl Criterion {
    /// All six, in the Arnhem order.
    pub const ALL: [Criterion; 6] = [
        Criterion::PhysicalAbuseOrSevereViolence,
        Criterion::SexualAbuse,
        Criterion::ViolenceWitnessedByChildren,
        Criterion::SafetyConflict,
        Criterion::NotOpenToHelp,
        Criterion::StackedReports,
    ];

    /// Its number (1-6).
    pub fn number(self) -> u8 {
        match self {
            Criterion::PhysicalAbuseOrSevereViolence => 1,
            Criterion::SexualAbuse => 2,
            Criterion::ViolenceWitnessedByChildren => 3,
            Criterion::SafetyConflict => 4,
            Criterion::NotOpenToHelp => 5,
            Criterion::StackedReports => 6,
        }
    }

    /// Stable code, e.g. `C3_VIOLENCE_WITNESSED_BY_CHILDREN`.
    pub fn code(self) -> &'static str {
        match self {
            Criterion::PhysicalAbuseOrSevereViolence => "C1_PHYSICAL_ABUSE_OR_SEVERE_VIOLENCE",
            Criterion::SexualAbuse => "C2_SEXUAL_ABUSE",
            Criterion::ViolenceWitnessedByChildren => "C3_VIOLENCE_WITNESSED_BY_CHILDREN",
            Criterion::SafetyConflict => "C4_CONFLICT_ABOUT_CHILDRENS_SAFETY",
            Criterion::NotOpenToHelp => "C5_PARENTS_NOT_OPEN_TO_HELP",
            Criterion::StackedReports => "C6_STACKED_REPORTS",
        }
    }

    /// The criterion in Dutch, as the Arnhem note words it.
    pub fn nl(self) -> &'static str {
        match self {
            Criterion::PhysicalAbuseOrSevereViolence => {
                "er is sprake van fysieke mishandeling of ernstig heftig geweld"
            }
            Criterion::SexualAbuse => "er is sprake van seksueel misbruik",
            Criterion::ViolenceWitnessedByChildren => {
                "er is sprake van huiselijk geweld waar kinderen getuige van zijn"
            }
            Criterion::SafetyConflict => {
                "er is in het gezin een conflict over de veiligheid van de kinderen"
            }
            Criterion::NotOpenToHelp => {
                "de verwachting is of is vastgesteld dat de ouders niet openstaan voor hulp"
            }
            Criterion::StackedReports => {
                "er is sprake van een stapeling van meldingen (recidive) met beschuldigingen over en weer en/of verslavingsproblematiek"
            }
        }
    }

    /// The criterion in English.
    pub fn en(self) -> &'static str {
        match self {
            Criterion::PhysicalAbuseOrSevereViolence => "physical abuse or severe violence",
            Criterion::SexualAbuse => "sexual abuse",
            Criterion::ViolenceWitnessedByChildren => "domestic violence witnessed by children",
            Criterion::SafetyConflict => "a conflict in the family about the children's safety",
            Criterion::NotOpenToHelp => "the parents are expected or found not to be open to help",
            Criterion::StackedReports => {
                "stacked reports (recidive) with mutual accusations and/or addiction"
            }
        }
    }
}

/// What the advice says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdviceKind {
    /// Acute danger: Veilig Thuis keeps the case; no handover.
    StaysWithVeiligThuis,
    /// Veilig Thuis and the wijkteam visit the family together.
    JointVisit,
    /// The wijkteam picks the case up alone.
    WijkteamAlone,
}

impl AdviceKind {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            AdviceKind::StaysWithVeiligThuis => "STAYS_WITH_VEILIG_THUIS",
            AdviceKind::JointVisit => "JOINT_VISIT",
            AdviceKind::WijkteamAlone => "WIJKTEAM_ALONE",
        }
    }

    /// Parses [`AdviceKind::code`].
    pub fn from_code(s: &str) -> Option<AdviceKind> {
        Some(match s {
            "STAYS_WITH_VEILIG_THUIS" => AdviceKind::StaysWithVeiligThuis,
            "JOINT_VISIT" => AdviceKind::JointVisit,
            "WIJKTEAM_ALONE" => AdviceKind::WijkteamAlone,
            _ => return None,
        })
    }
}

/// The advice with everything that led to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriageAdvice {
    /// The advice.
    pub kind: AdviceKind,
    /// The criteria that are met (Arnhem order).
    pub criteria_met: Vec<Criterion>,
    /// The criteria answered "unknown": the advice is provisional until they are answered.
    pub open_questions: Vec<Criterion>,
    /// The criterion 4 answer was "divorce only" (a care report that goes to the wijkteam alone).
    pub divorce_only: bool,
    /// The advice explained in Dutch, one sentence per line.
    pub nl: Vec<String>,
    /// The same in English.
    pub en: Vec<String>,
}

fn is_yes(a: Answer) -> bool {
    a == Answer::Yes
}

/// Turns the answers into the advice.
pub fn advise(a: &TriageAnswers) -> TriageAdvice {
    let stacked = a.earlier_reports_in_window > 0 || is_yes(a.stacked_reports);
    let aggravating = is_yes(a.mutual_accusations) || is_yes(a.addiction);
    let met = |c: Criterion| -> Option<bool> {
        match c {
            Criterion::PhysicalAbuseOrSevereViolence => known(a.physical_abuse_or_severe_violence),
            Criterion::SexualAbuse => known(a.sexual_abuse),
            Criterion::ViolenceWitnessedByChildren => known(a.violence_witnessed_by_children),
            Criterion::SafetyConflict => match a.safety_conflict {
                SafetyConflict::Unknown => None,
                SafetyConflict::Yes => Some(true),
                SafetyConflict::DivorceOnly | SafetyConflict::No => Some(false),
            },
            Criterion::NotOpenToHelp => match a.open_to_help {
                OpenToHelp::Unknown => None,
                OpenToHelp::ExpectedNotOpen | OpenToHelp::FoundNotOpen => Some(true),
                OpenToHelp::Open => Some(false),
            },
            Criterion::StackedReports => {
                if stacked && aggravating {
                    Some(true)
                } else if (!stacked && a.stacked_reports == Answer::No)
                    || (a.mutual_accusations == Answer::No && a.addiction == Answer::No)
                {
                    Some(false)
                } else {
                    None
                }
            }
        }
    };
    let mut criteria_met = Vec::new();
    let mut open_questions = Vec::new();
    for c in Criterion::ALL {
        match met(c) {
            Some(true) => criteria_met.push(c),
            Some(false) => {}
            None => open_questions.push(c),
        }
    }
    let divorce_only = a.safety_conflict == SafetyConflict::DivorceOnly;
    let kind = if a.acute {
        AdviceKind::StaysWithVeiligThuis
    } else if criteria_met.is_empty() {
        AdviceKind::WijkteamAlone
    } else {
        AdviceKind::JointVisit
    };
    let mut nl = Vec::new();
    let mut en = Vec::new();
    match kind {
        AdviceKind::StaysWithVeiligThuis => {
            nl.push(
                "Acuut gevaar: Veilig Thuis houdt de zaak zelf; niet overdragen aan het wijkteam."
                    .into(),
            );
            en.push(
                "Acute danger: Veilig Thuis keeps the case; do not hand it over to the wijkteam."
                    .into(),
            );
        }
        AdviceKind::JointVisit => {
            nl.push(
                "Advies: samen optrekken — Veilig Thuis en het wijkteam gaan samen naar het gezin."
                    .into(),
            );
            en.push(
                "Advice: act jointly — Veilig Thuis and the wijkteam visit the family together."
                    .into(),
            );
        }
        AdviceKind::WijkteamAlone => {
            nl.push("Advies: het wijkteam pakt de zaak alleen op; geen van de zes criteria voor samen optrekken is vervuld.".into());
            en.push("Advice: the wijkteam picks the case up alone; none of the six criteria for a joint visit is met.".into());
        }
    }
    for c in &criteria_met {
        nl.push(format!("Criterium {}: {}.", c.number(), c.nl()));
        en.push(format!("Criterion {}: {}.", c.number(), c.en()));
    }
    if divorce_only {
        nl.push("Criterium 4 niet vervuld: een zorgmelding met alleen scheidingsproblematiek wordt door het wijkteam opgepakt.".into());
        en.push("Criterion 4 not met: a care report about divorce problems only is picked up by the wijkteam alone.".into());
    }
    if a.earlier_reports_in_window > 0 {
        nl.push(format!(
            "De hub telt {} eerdere melding(en) of signaal/signalen over dezelfde personen binnen de recidivetermijn.",
            a.earlier_reports_in_window
        ));
        en.push(format!(
            "The hub counts {} earlier report(s) or signal(s) about the same persons within the recidive window.",
            a.earlier_reports_in_window
        ));
    }
    if !open_questions.is_empty() {
        let list = open_questions
            .iter()
            .map(|c| c.number().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        nl.push(format!(
            "Voorlopig advies: criterium {list} is nog onbekend; beantwoord het en triageer opnieuw."
        ));
        en.push(format!(
            "Provisional advice: criterion {list} is still unknown; answer it and triage again."
        ));
    }
    TriageAdvice {
        kind,
        criteria_met,
        open_questions,
        divorce_only,
        nl,
        en,
    }
}

fn known(a: Answer) -> Option<bool> {
    match a {
        Answer::Unknown => None,
        Answer::Yes => Some(true),
        Answer::No => Some(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_no() -> TriageAnswers {
        TriageAnswers {
            physical_abuse_or_severe_violence: Answer::No,
            sexual_abuse: Answer::No,
            violence_witnessed_by_children: Answer::No,
            safety_conflict: SafetyConflict::No,
            open_to_help: OpenToHelp::Open,
            stacked_reports: Answer::No,
            mutual_accusations: Answer::No,
            addiction: Answer::No,
            earlier_reports_in_window: 0,
            acute: false,
        }
    }

    #[test]
    fn nothing_met_goes_to_the_wijkteam_alone() {
        let a = advise(&all_no());
        assert_eq!(a.kind, AdviceKind::WijkteamAlone);
        assert!(a.criteria_met.is_empty() && a.open_questions.is_empty());
    }

    #[test]
    fn each_criterion_alone_means_a_joint_visit_naming_it() {
        type Set = fn(&mut TriageAnswers);
        let cases: [(Criterion, Set); 7] = [
            (Criterion::PhysicalAbuseOrSevereViolence, |a| {
                a.physical_abuse_or_severe_violence = Answer::Yes
            }),
            (Criterion::SexualAbuse, |a| a.sexual_abuse = Answer::Yes),
            (Criterion::ViolenceWitnessedByChildren, |a| {
                a.violence_witnessed_by_children = Answer::Yes
            }),
            (Criterion::SafetyConflict, |a| {
                a.safety_conflict = SafetyConflict::Yes
            }),
            (Criterion::NotOpenToHelp, |a| {
                a.open_to_help = OpenToHelp::ExpectedNotOpen
            }),
            (Criterion::NotOpenToHelp, |a| {
                a.open_to_help = OpenToHelp::FoundNotOpen
            }),
            (Criterion::StackedReports, |a| {
                a.stacked_reports = Answer::Yes;
                a.addiction = Answer::Yes;
            }),
        ];
        for (c, set) in cases {
            let mut a = all_no();
            set(&mut a);
            let adv = advise(&a);
            assert_eq!(adv.kind, AdviceKind::JointVisit, "{c:?}");
            assert_eq!(adv.criteria_met, vec![c]);
            assert!(adv.nl.iter().any(|l| l.contains(c.nl())), "{:?}", adv.nl);
        }
    }

    #[test]
    fn divorce_only_goes_to_the_wijkteam_alone() {
        let mut a = all_no();
        a.safety_conflict = SafetyConflict::DivorceOnly;
        let adv = advise(&a);
        assert_eq!(adv.kind, AdviceKind::WijkteamAlone);
        assert!(adv.divorce_only);
        assert!(adv.nl.iter().any(|l| l.contains("scheidingsproblematiek")));
        // With another criterion, the joint visit stands on that one.
        a.violence_witnessed_by_children = Answer::Yes;
        let adv = advise(&a);
        assert_eq!(adv.kind, AdviceKind::JointVisit);
        assert_eq!(
            adv.criteria_met,
            vec![Criterion::ViolenceWitnessedByChildren]
        );
    }

    #[test]
    fn acute_stays_with_veilig_thuis_whatever_else() {
        let mut a = all_no();
        a.acute = true;
        assert_eq!(advise(&a).kind, AdviceKind::StaysWithVeiligThuis);
        a.sexual_abuse = Answer::Yes;
        let adv = advise(&a);
        assert_eq!(adv.kind, AdviceKind::StaysWithVeiligThuis);
        assert_eq!(adv.criteria_met, vec![Criterion::SexualAbuse]);
    }

    #[test]
    fn stacked_reports_need_accusations_or_addiction_and_the_hubs_count_counts() {
        let mut a = all_no();
        a.earlier_reports_in_window = 2;
        assert_eq!(advise(&a).kind, AdviceKind::WijkteamAlone);
        a.mutual_accusations = Answer::Yes;
        let adv = advise(&a);
        assert_eq!(adv.criteria_met, vec![Criterion::StackedReports]);
        assert!(adv.nl.iter().any(|l| l.contains("2 eerdere")));
        // Accusations without any stacking do not meet criterion 6.
        let mut b = all_no();
        b.mutual_accusations = Answer::Yes;
        assert!(advise(&b).criteria_met.is_empty());
    }

    #[test]
    fn unknown_answers_are_open_questions() {
        let a = TriageAnswers::default();
        let adv = advise(&a);
        assert_eq!(adv.kind, AdviceKind::WijkteamAlone);
        assert_eq!(adv.open_questions.len(), 6);
        assert!(adv.nl.iter().any(|l| l.starts_with("Voorlopig advies")));
        for k in [
            AdviceKind::JointVisit,
            AdviceKind::WijkteamAlone,
            AdviceKind::StaysWithVeiligThuis,
        ] {
            assert_eq!(AdviceKind::from_code(k.code()), Some(k));
        }
    }
}
