//! Every phrase of the family's letters, one table per language. A phrase is plain language
//! (B1: short sentences, common words, no codes); `{name}` marks a value filled in by
//! [`super::fill`] (an organisation's name, a date, a count). To add a language, copy a table,
//! translate every phrase and add the language to [`super::Language`].

/// The phrases of one language.
#[derive(Debug)]
pub struct Phrases {
    /// The months, January first.
    pub months: [&'static str; 12],
    /// Letterhead: who sends it.
    pub from_label: &'static str,
    /// Letterhead: when.
    pub date_label: &'static str,
    /// Before the sender's name at the end.
    pub closing: &'static str,

    /// Who to ask about privacy: `{org}`.
    pub fg_who: &'static str,
    /// What the privacy officer does: `{org}`.
    pub fg_duty: &'static str,
    /// How to reach the privacy officer: `{contact}`.
    pub fg_known: &'static str,
    /// When the hub has no contact for the privacy officer: `{org}`.
    pub fg_unknown: &'static str,
    /// How to reach the organisation itself: `{org}`, `{contact}`.
    pub org_contact: &'static str,
    /// Where to complain.
    pub complaint: &'static str,
    /// Said once when the convenant's descriptions are quoted in Dutch (empty in Dutch).
    pub labels_in_dutch: &'static str,

    /// A purpose the convenant does not describe.
    pub purpose_unknown: &'static str,
    /// A category the convenant does not describe.
    pub category_unknown: &'static str,
    /// Consent as a ground.
    pub basis_consent: &'static str,
    /// A ground the convenant does not know.
    pub basis_other: &'static str,
    /// The meldcode's meldrecht.
    pub basis_meldcode: &'static str,
    /// The police's zorgmelding (Wet politiegegevens).
    pub basis_police: &'static str,
    /// Veilig Thuis's statutory task.
    pub basis_vt_task: &'static str,
    /// Early signalling of payment arrears.
    pub basis_debt: &'static str,
    /// Youth protection's information.
    pub basis_youth_protection: &'static str,
    /// Vital interest.
    pub basis_vital: &'static str,
    /// Information to Veilig Thuis on its request.
    pub basis_vt_information: &'static str,

    /// The access letter's title.
    pub access_title: &'static str,
    /// Its salutation.
    pub access_salutation: &'static str,
    /// What was asked: `{org}`.
    pub access_asked: &'static str,
    /// That asking is a right.
    pub access_right: &'static str,
    /// What the letter covers (the organisation's own part): `{org}`.
    pub access_scope_own: &'static str,
    /// What the letter covers (every organisation's part).
    pub access_scope_all: &'static str,
    /// What the hub is.
    pub access_hub: &'static str,
    /// That the messages themselves are not in it.
    pub access_no_content: &'static str,
    /// Heading of the list.
    pub access_shared_heading: &'static str,
    /// Nothing was shared.
    pub access_none: &'static str,
    /// How often data was shared: `{n}` (more than once).
    pub access_count: &'static str,
    /// That data was shared once.
    pub access_count_once: &'static str,
    /// That each time follows.
    pub access_each: &'static str,
    /// A disclosure's heading: `{n}`, `{date}`.
    pub access_record_title: &'static str,
    /// Field: who gave the data.
    pub field_from: &'static str,
    /// Field: who received it.
    pub field_to: &'static str,
    /// Field: what for.
    pub field_why: &'static str,
    /// Field: on which ground.
    pub field_ground: &'static str,
    /// Field: which data.
    pub field_what: &'static str,
    /// A register of the hub as the giver (an answer from a register).
    pub hub_register: &'static str,
    /// In place of a shielded reporter.
    pub melder: &'static str,
    /// In place of an organisation of a shielded sector.
    pub shielded_org: &'static str,
    /// An organisation the directory no longer knows.
    pub unknown_org: &'static str,
    /// Why some givers are not named.
    pub shielded_note: &'static str,
    /// How many other lines the log holds: `{n}` (more than one).
    pub access_others: &'static str,
    /// That the log holds one other line.
    pub access_others_one: &'static str,
    /// What those are.
    pub access_others_examples: &'static str,
    /// Heading of the questions part.
    pub questions_heading: &'static str,
    /// Heading of the completeness part.
    pub proof_heading: &'static str,
    /// What the log is and what the annex is for.
    pub proof_body: &'static str,
    /// The annex's title.
    pub annex_title: &'static str,
    /// Who the annex is for.
    pub annex_intro: &'static str,
    /// Before the log numbers.
    pub annex_numbers: &'static str,
    /// One log number: `{n}`, `{date}`, `{index}`.
    pub annex_number: &'static str,
    /// Before the signed checkpoint: `{size}`.
    pub annex_checkpoint: &'static str,
    /// About the proof file.
    pub annex_files: &'static str,

    /// The handover letter's title: `{wijkteam}`.
    pub ho_title: &'static str,
    /// Its salutation.
    pub ho_salutation: &'static str,
    /// A named reporter: `{reporter}`, `{vt}`.
    pub ho_reported_by: &'static str,
    /// A reporter not named: `{vt}`.
    pub ho_reported: &'static str,
    /// What was handed over: `{date}`, `{vt}`, `{wijkteam}`.
    pub ho_shared: &'static str,
    /// The family consented.
    pub ho_consent: &'static str,
    /// Heading: which data.
    pub ho_what_heading: &'static str,
    /// Heading: why.
    pub ho_why_heading: &'static str,
    /// Why: `{vt}`, `{wijkteam}`.
    pub ho_why: &'static str,
    /// On which ground: `{vt}`, `{basis}`.
    pub ho_ground: &'static str,
    /// With consent too.
    pub ho_ground_consent: &'static str,
    /// How to object without consent: `{vt}`.
    pub ho_object: &'static str,
    /// Heading: what happens next.
    pub ho_next_heading: &'static str,
    /// A joint first visit: `{vt}`, `{wijkteam}`.
    pub ho_joint: &'static str,
    /// The wijkteam alone: `{wijkteam}`.
    pub ho_alone: &'static str,
    /// Heading: contacts.
    pub ho_contacts_heading: &'static str,
    /// A contact: `{org}`, `{contact}`.
    pub ho_contact_at: &'static str,
    /// A phone number: `{phone}`.
    pub ho_phone: &'static str,
    /// An e-mail address: `{email}`.
    pub ho_email: &'static str,
    /// No contact person given.
    pub ho_contact_unknown: &'static str,
    /// Heading: rights.
    pub ho_rights_heading: &'static str,
    /// The family's rights.
    pub ho_rights: &'static str,
    /// Heading: privacy questions.
    pub privacy_heading: &'static str,
}

/// Dutch (the default).
pub const NL: Phrases = Phrases {
    months: [
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
    ],
    from_label: "Van",
    date_label: "Datum",
    closing: "Met vriendelijke groet,",

    fg_who: "Neem dan contact op met de functionaris gegevensbescherming (FG) van {org}.",
    fg_duty: "De FG let erop dat {org} goed met uw gegevens omgaat.",
    fg_known: "Zo bereikt u de FG: {contact}.",
    fg_unknown: "{org} heeft ons niet laten weten hoe u de FG bereikt. Vraag daarom bij {org} naar de FG.",
    org_contact: "U bereikt {org} via {contact}.",
    complaint: "Bent u het daarna nog niet eens? Dan kunt u een klacht indienen bij de Autoriteit Persoonsgegevens.",
    labels_in_dutch: "",

    purpose_unknown: "een doel uit de afspraken in uw regio",
    category_unknown: "gegevens over u of uw kind",
    basis_consent: "toestemming",
    basis_other: "een regel uit de wet",
    basis_meldcode: "de meldcode: wie zich zorgen maakt over geweld in een gezin, mag dat melden bij Veilig Thuis",
    basis_police: "de Wet politiegegevens: de politie mag zorgen over een gezin doorgeven aan Veilig Thuis",
    basis_vt_task: "de wettelijke taak van Veilig Thuis",
    basis_debt: "de wet over schuldhulp: vroeg hulp bieden bij betalingsachterstanden",
    basis_youth_protection: "de Jeugdwet: informatie over een maatregel van kinderbescherming",
    basis_vital: "acuut gevaar: iemand moest snel beschermd worden",
    basis_vt_information: "de wet: Veilig Thuis mag informatie vragen als het een melding onderzoekt",

    access_title: "Welke gegevens over u zijn gedeeld?",
    access_salutation: "Beste meneer, mevrouw,",
    access_asked: "U vroeg {org} welke gegevens over u of uw kind zijn gedeeld.",
    access_right: "Dat mag u altijd vragen. Dat staat in de privacywet (AVG, artikel 15).",
    access_scope_own: "In deze brief staat wat {org} via de signaalhub heeft gedeeld of gekregen.",
    access_scope_all: "In deze brief staat wat alle organisaties via de signaalhub hebben gedeeld.",
    access_hub: "De signaalhub is een beveiligd systeem. Organisaties in uw regio delen daarmee zorgen over kinderen en gezinnen.",
    access_no_content: "De berichten zelf staan niet in deze brief. De signaalhub kan die berichten niet lezen.",
    access_shared_heading: "Wat is er gedeeld?",
    access_none: "Er zijn via de signaalhub geen gegevens over u of uw kind gedeeld.",
    access_count: "Gegevens over u of uw kind zijn {n} keer gedeeld.",
    access_count_once: "Gegevens over u of uw kind zijn 1 keer gedeeld.",
    access_each: "Hieronder staat elke keer apart.",
    access_record_title: "{n}. Op {date}",
    field_from: "Van",
    field_to: "Aan",
    field_why: "Waarvoor",
    field_ground: "Waarom dat mocht",
    field_what: "Welke gegevens",
    hub_register: "een register van de signaalhub",
    melder: "een melder (wie dat is, blijft geheim)",
    shielded_org: "een beschermde organisatie (de naam blijft geheim)",
    unknown_org: "een organisatie die niet meer in de signaalhub staat",
    shielded_note: "Soms staat er niet wie de gegevens gaf of kreeg. Dat is met opzet. Wie iets meldt bij Veilig Thuis, blijft geheim. Dat staat in de wet. Ook sommige organisaties noemen we niet, zoals de vrouwenopvang. Zo beschermen we mensen.",
    access_others: "Er staan ook {n} andere regels over u of uw kind in het logboek.",
    access_others_one: "Er staat ook 1 andere regel over u of uw kind in het logboek.",
    access_others_examples: "Bijvoorbeeld: iemand gaf toestemming of trok die weer in. Of een bericht werd tegengehouden.",
    questions_heading: "Klopt er iets niet? Of heeft u vragen?",
    proof_heading: "Is dit overzicht compleet?",
    proof_body: "Alles wat via de signaalhub gaat, komt in een logboek. Niemand kan dat logboek ongemerkt veranderen. In de bijlage staat het bewijs dat dit overzicht uit dat logboek komt. Dat bewijs is voor deskundigen. U hoeft er zelf niets mee te doen.",
    annex_title: "Bijlage: bewijs uit het logboek",
    annex_intro: "Deze bijlage is voor wie wil controleren of het overzicht klopt.",
    annex_numbers: "Elke keer uit de brief staat in het logboek van de signaalhub. Dit zijn de nummers in het logboek:",
    annex_number: "{n}. {date}: nummer {index}",
    annex_checkpoint: "Het overzicht hoort bij controlepunt {size} van het logboek. De signaalhub heeft dit controlepunt ondertekend:",
    annex_files: "Bij deze brief hoort een bestand met een bewijs voor elke regel. Vraag het aan de organisatie die u deze brief stuurde. Daarmee kan iedereen nagaan dat de regels echt in het logboek staan.",

    ho_title: "{wijkteam} gaat uw gezin helpen",
    ho_salutation: "Beste ouder of verzorger,",
    ho_reported_by: "{reporter} heeft bij {vt} een melding gedaan over uw gezin.",
    ho_reported: "Er is bij {vt} een melding gedaan over uw gezin.",
    ho_shared: "Op {date} heeft {vt} gegevens over uw gezin gegeven aan {wijkteam}.",
    ho_consent: "U heeft daar toestemming voor gegeven.",
    ho_what_heading: "Welke gegevens zijn gedeeld?",
    ho_why_heading: "Waarom?",
    ho_why: "{vt} wil dat u en uw kinderen veilig zijn. En dat u de hulp krijgt die u nodig heeft. {wijkteam} kan u die hulp dichtbij huis geven.",
    ho_ground: "{vt} mag deze gegevens delen. De reden daarvoor is {basis}.",
    ho_ground_consent: "U gaf er ook toestemming voor.",
    ho_object: "Wilt u dit niet? Zeg het dan tegen uw contactpersoon bij {vt}. U kunt ook bezwaar maken of een klacht indienen.",
    ho_next_heading: "Wat gebeurt er nu?",
    ho_joint: "Bij het eerste bezoek komen twee mensen samen bij u langs. De een werkt bij {vt}, de ander bij {wijkteam}.",
    ho_alone: "Een medewerker van {wijkteam} neemt contact met u op.",
    ho_contacts_heading: "Wie is uw contactpersoon?",
    ho_contact_at: "Bij {org}: {contact}",
    ho_phone: "telefoon {phone}",
    ho_email: "e-mail {email}",
    ho_contact_unknown: "dat hoort u nog",
    ho_rights_heading: "Wat mag u?",
    ho_rights: "U mag altijd vragen welke gegevens over u en uw kinderen zijn gedeeld. U mag ook vragen met wie en waarom. Gaf u toestemming? Dan mag u die altijd weer intrekken. Zeg dat tegen uw contactpersoon.",
    privacy_heading: "Vragen over uw privacy?",
};

/// English.
pub const EN: Phrases = Phrases {
    months: [
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
    ],
    from_label: "From",
    date_label: "Date",
    closing: "Kind regards,",

    fg_who: "Then please contact the data protection officer (in Dutch: FG) of {org}.",
    fg_duty: "The data protection officer checks that {org} handles your information well.",
    fg_known: "You can reach the data protection officer here: {contact}.",
    fg_unknown: "{org} has not told us how to reach its data protection officer. So please ask {org} for the data protection officer.",
    org_contact: "You can reach {org} at {contact}.",
    complaint: "Do you still disagree after that? Then you can complain to the Dutch Data Protection Authority (Autoriteit Persoonsgegevens).",
    labels_in_dutch: "Some descriptions come from the agreement between the organisations in your region. They are in Dutch.",

    purpose_unknown: "a purpose in the agreement of your region",
    category_unknown: "information about you or your child",
    basis_consent: "consent",
    basis_other: "a rule in the law",
    basis_meldcode: "the reporting code: anyone worried about violence in a family may report it to Veilig Thuis",
    basis_police: "the Police Data Act: the police may pass on worries about a family to Veilig Thuis",
    basis_vt_task: "the legal task of Veilig Thuis",
    basis_debt: "the law on debt help: offering help early when payments are behind",
    basis_youth_protection: "the Youth Act: information about a child protection measure",
    basis_vital: "acute danger: someone had to be protected quickly",
    basis_vt_information: "the law: Veilig Thuis may ask for information when it looks into a report",

    access_title: "What information about you was shared?",
    access_salutation: "Dear Sir or Madam,",
    access_asked: "You asked {org} which information about you or your child was shared.",
    access_right: "You may always ask this. It is your right under the privacy law (GDPR, article 15).",
    access_scope_own: "This letter shows what {org} shared or received through the signaalhub.",
    access_scope_all: "This letter shows what all organisations shared through the signaalhub.",
    access_hub: "The signaalhub is a secure system. Organisations in your region use it to share worries about children and families.",
    access_no_content: "The messages themselves are not in this letter. The signaalhub cannot read them.",
    access_shared_heading: "What was shared?",
    access_none: "No information about you or your child was shared through the signaalhub.",
    access_count: "Information about you or your child was shared {n} times.",
    access_count_once: "Information about you or your child was shared once.",
    access_each: "Each time is listed below.",
    access_record_title: "{n}. On {date}",
    field_from: "From",
    field_to: "To",
    field_why: "What for",
    field_ground: "Why this was allowed",
    field_what: "Which information",
    hub_register: "a register of the signaalhub",
    melder: "a reporter (who this is stays secret)",
    shielded_org: "a protected organisation (the name stays secret)",
    unknown_org: "an organisation that is no longer in the signaalhub",
    shielded_note: "Sometimes the letter does not say who gave or received the information. This is on purpose. Anyone who reports to Veilig Thuis stays secret. The law says so. We also do not name some organisations, such as women's shelters. This protects people.",
    access_others: "The log also has {n} other lines about you or your child.",
    access_others_one: "The log also has 1 other line about you or your child.",
    access_others_examples: "For example: someone gave consent or took it back. Or a message was stopped.",
    questions_heading: "Is something wrong? Or do you have questions?",
    proof_heading: "Is this list complete?",
    proof_body: "Everything that goes through the signaalhub is written in a log. Nobody can change that log without it being noticed. The annex holds the proof that this list comes from that log. The proof is for experts. You do not have to do anything with it.",
    annex_title: "Annex: proof from the log",
    annex_intro: "This annex is for anyone who wants to check that the list is right.",
    annex_numbers: "Each time in the letter is in the log of the signaalhub. These are the numbers in the log:",
    annex_number: "{n}. {date}: number {index}",
    annex_checkpoint: "The list belongs to checkpoint {size} of the log. The signaalhub signed this checkpoint:",
    annex_files: "This letter comes with a file that holds a proof for each line. Ask the organisation that sent you this letter for it. With it, anyone can check that the lines really are in the log.",

    ho_title: "{wijkteam} will help your family",
    ho_salutation: "Dear parent or carer,",
    ho_reported_by: "{reporter} made a report about your family to {vt}.",
    ho_reported: "Someone made a report about your family to {vt}.",
    ho_shared: "On {date}, {vt} gave information about your family to {wijkteam}.",
    ho_consent: "You gave your consent for this.",
    ho_what_heading: "Which information was shared?",
    ho_why_heading: "Why?",
    ho_why: "{vt} wants you and your children to be safe. And it wants you to get the help you need. {wijkteam} can give you that help close to home.",
    ho_ground: "{vt} may share this information. The reason is {basis}.",
    ho_ground_consent: "You also gave your consent.",
    ho_object: "Do you not want this? Then tell your contact person at {vt}. You can also object or make a complaint.",
    ho_next_heading: "What happens now?",
    ho_joint: "At the first visit, two people will come to see you together. One works for {vt}, the other for {wijkteam}.",
    ho_alone: "Someone from {wijkteam} will contact you.",
    ho_contacts_heading: "Who is your contact person?",
    ho_contact_at: "At {org}: {contact}",
    ho_phone: "phone {phone}",
    ho_email: "email {email}",
    ho_contact_unknown: "you will hear this soon",
    ho_rights_heading: "What are your rights?",
    ho_rights: "You may always ask which information about you and your children was shared. You may also ask with whom and why. Did you give consent? Then you may take it back at any time. Tell your contact person.",
    privacy_heading: "Questions about your privacy?",
};
