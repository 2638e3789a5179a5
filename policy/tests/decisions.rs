//! One table per DOMAIN.md flow, with allowed and denied variants, against the sample convenant.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use signaalhub_policy::*;

/// Run a table: (name, request, expected allow, expected reason code if denied).
fn run(table: Vec<(&str, DecisionRequest, Option<ReasonCode>)>) {
    let p = sample();
    for (name, r, expect) in table {
        let d = p.decide(&r);
        match expect {
            None => assert!(
                d.is_allowed(),
                "{name}: expected allow, got {:?}",
                d.reasons
            ),
            Some(code) => {
                assert!(!d.is_allowed(), "{name}: expected deny {code}, got allow");
                assert!(
                    d.has_reason(code),
                    "{name}: expected reason {code}, got {:?}",
                    codes(&d)
                );
                assert!(!d.rules.is_empty(), "{name}: a denial names its rule");
                for reason in &d.reasons {
                    assert!(!reason.nl.is_empty() && !reason.en.is_empty());
                }
            }
        }
    }
}

// ------------------------------------------------------------------ flow 1: school -> wijkteam

fn school_signal() -> DecisionRequest {
    let mut r = req(
        "school",
        "ib_er",
        "wijkteam",
        "vroegtijdige_ondersteuning",
        &["zorgen_thuissituatie"],
    );
    r.basis.consents = vec![both_parents(
        "vroegtijdige_ondersteuning",
        "wijkteam",
        &["zorgen_thuissituatie"],
    )];
    r
}

#[test]
fn flow1_school_to_wijkteam_with_consent() {
    let mut one_parent = school_signal();
    one_parent.basis.consents = vec![consent(
        "c1",
        &[("ouder-1", GiverCapacity::GezagHolder)],
        ConsentRecipient::Sector("wijkteam".into()),
        "vroegtijdige_ondersteuning",
        &["zorgen_thuissituatie"],
    )];
    let mut two_records = school_signal();
    two_records.basis.consents = vec![
        consent(
            "c1",
            &[("ouder-1", GiverCapacity::GezagHolder)],
            ConsentRecipient::Sector("wijkteam".into()),
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
        ),
        consent(
            "c2",
            &[("ouder-2", GiverCapacity::GezagHolder)],
            ConsentRecipient::Oin(WIJKTEAM.into()),
            "vroegtijdige_ondersteuning",
            &["zorgen_thuissituatie"],
        ),
    ];
    let mut withdrawn = school_signal();
    withdrawn.basis.consents[0].withdrawn = true;
    let mut expired = school_signal();
    expired.now = NOW + 200 * DAY;
    let mut not_yet = school_signal();
    not_yet.now = NOW - 60 * DAY;
    let mut wrong_recipient = school_signal();
    wrong_recipient.basis.consents[0].recipients =
        vec![ConsentRecipient::Oin(WIJKTEAM_OTHER.into())];
    let mut wrong_purpose = school_signal();
    wrong_purpose.basis.consents[0].purposes = vec!["casusafstemming".into()];
    let mut extra_category = school_signal();
    extra_category
        .categories
        .push("signalen_huiselijk_geweld".into());
    let mut not_a_holder = school_signal();
    not_a_holder.basis.consents[0].givers[1].person = "stiefvader".into();
    let mut child14_alone = school_signal();
    child14_alone.subject.age = Age::Years(14);
    child14_alone.basis.consents[0].givers = vec![ConsentGiver {
        person: "kind".into(),
        capacity: GiverCapacity::Subject,
    }];
    let mut pupil16_alone = child14_alone.clone();
    pupil16_alone.subject.age = Age::Years(16);
    // Facts recorded with the consent are what the floor judges: a 15-year-old's lone consent
    // does not pass because the sender says 16...
    let mut recorded15 = child14_alone.clone();
    recorded15.basis.consents[0].facts = Some(SubjectFacts {
        age: Age::Years(15),
        gezag_holders: vec!["ouder-1".into(), "ouder-2".into()],
    });
    let mut claims16 = recorded15.clone();
    claims16.subject.age = Age::Years(16);
    // ...nor when the sender says nothing (judged as recorded: 15 needs the parents)...
    let mut claims_nothing = recorded15.clone();
    claims_nothing.subject = SubjectFacts {
        age: Age::Unknown,
        gezag_holders: vec![],
    };
    // ...and two recorded holders of gezag are not one because the sender says so.
    let mut two_recorded = school_signal();
    two_recorded.basis.consents[0].facts = Some(two_recorded.subject.clone());
    let mut claims_one_holder = two_recorded.clone();
    claims_one_holder.subject.gezag_holders = vec!["ouder-1".into()];
    let mut recorded_facts_agree = two_recorded.clone();
    recorded_facts_agree.subject.age = Age::Band(AgeBand::Under12);
    let mut pupil16_parents_only = school_signal();
    pupil16_parents_only.subject.age = Age::Band(AgeBand::From16To17);
    let mut age_unknown = school_signal();
    age_unknown.subject.age = Age::Unknown;
    let mut gezag_unknown = school_signal();
    gezag_unknown.subject.gezag_holders.clear();
    let mut no_consent = school_signal();
    no_consent.basis.consents.clear();
    let mut wrong_role = school_signal();
    wrong_role.actor.role = "conciërge".into();
    let mut to_woning = school_signal();
    to_woning.recipient.sector = "woningcorporatie".into();
    to_woning.recipient.oin = WONING.into();
    let mut health = school_signal();
    health.categories = vec!["gezondheid".into()];
    let mut typo_sector = school_signal();
    typo_sector.recipient.sector = "wijkteem".into();
    let mut bad_oin = school_signal();
    bad_oin.actor.oin = "123".into();
    // A consent names who may disclose under it: the school's, presented by the school...
    let mut own_discloser = school_signal();
    own_discloser.basis.consents[0].disclosers = vec![SCHOOL.into()];
    // ...not by another organisation of the same sector that learned its id.
    let mut other_discloser = own_discloser.clone();
    other_discloser.actor.oin = "00000001111111110091".into();

    run(vec![
        ("both parents in one record", school_signal(), None),
        (
            "both parents in two records (OIN and sector)",
            two_records,
            None,
        ),
        ("16-year-old consents alone", pupil16_alone, None),
        (
            "recorded 15, the sender says 16",
            claims16,
            Some(ReasonCode::FactsContradictConsent),
        ),
        (
            "recorded 15, the sender says nothing",
            claims_nothing,
            Some(ReasonCode::ConsentMissingGezagHolder),
        ),
        (
            "two holders recorded, the sender says one",
            claims_one_holder,
            Some(ReasonCode::FactsContradictConsent),
        ),
        (
            "the sender agrees with the record",
            recorded_facts_agree,
            None,
        ),
        (
            "only one of two gezag holders",
            one_parent,
            Some(ReasonCode::ConsentMissingGezagHolder),
        ),
        ("the school presents its own consent", own_discloser, None),
        (
            "another school presents the school's consent",
            other_discloser,
            Some(ReasonCode::ConsentNotForDiscloser),
        ),
        ("withdrawn", withdrawn, Some(ReasonCode::ConsentWithdrawn)),
        ("expired", expired, Some(ReasonCode::ConsentExpired)),
        (
            "not yet valid",
            not_yet,
            Some(ReasonCode::ConsentNotYetValid),
        ),
        (
            "consent for another wijkteam",
            wrong_recipient,
            Some(ReasonCode::ConsentWrongRecipient),
        ),
        (
            "consent for another purpose",
            wrong_purpose,
            Some(ReasonCode::ConsentWrongPurpose),
        ),
        (
            "category not consented",
            extra_category,
            Some(ReasonCode::ConsentCategoryNotCovered),
        ),
        (
            "giver without gezag",
            not_a_holder,
            Some(ReasonCode::ConsentMissingGezagHolder),
        ),
        (
            "a 14-year-old's consent alone",
            child14_alone,
            Some(ReasonCode::ConsentMissingGezagHolder),
        ),
        (
            "16-17: parents instead of the young person",
            pupil16_parents_only,
            Some(ReasonCode::ConsentMissingSubject),
        ),
        (
            "age unknown",
            age_unknown,
            Some(ReasonCode::SubjectAgeUnknown),
        ),
        (
            "gezag unknown",
            gezag_unknown,
            Some(ReasonCode::GezagHoldersUnknown),
        ),
        ("no consent at all", no_consent, Some(ReasonCode::NoBasis)),
        (
            "role not in sector",
            wrong_role,
            Some(ReasonCode::UnknownRole),
        ),
        (
            "wrong recipient sector",
            to_woning,
            Some(ReasonCode::NoFlow),
        ),
        (
            "health data from school",
            health,
            Some(ReasonCode::CategoryNotAllowed),
        ),
        (
            "typo in sector",
            typo_sector,
            Some(ReasonCode::UnknownSector),
        ),
        ("malformed OIN", bad_oin, Some(ReasonCode::BadOin)),
    ]);
}

#[test]
fn missing_parent_is_named_in_both_languages() {
    let mut r = school_signal();
    r.basis.consents[0].givers.truncate(1);
    let d = sample().decide(&r);
    let reason = d
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::ConsentMissingGezagHolder)
        .unwrap();
    assert_eq!(
        reason.nl,
        "toestemming van een ouder met gezag (ouder-2) ontbreekt voor categorie zorgen_thuissituatie"
    );
    assert_eq!(
        reason.en,
        "consent of a parent with gezag (ouder-2) is missing for category zorgen_thuissituatie"
    );
    assert_eq!(reason.rule, "floor:consent-minors");
}

#[test]
fn one_gezag_holder_suffices_when_convenant_says_so() {
    let text = SAMPLE_CONVENANT.replace(
        "consent_requires_all_gezag_holders = true",
        "consent_requires_all_gezag_holders = false",
    );
    let p = parse("one.toml", &text).unwrap().compile();
    let mut r = school_signal();
    r.basis.consents[0].givers.truncate(1);
    assert!(p.decide(&r).is_allowed());
    r.basis.consents[0].givers[0].person = "buurman".into();
    assert!(!p.decide(&r).is_allowed());
}

#[test]
fn allowed_decision_carries_rules_and_obligations() {
    let d = sample().decide(&school_signal());
    assert!(d.is_allowed());
    let rules: Vec<String> = d.rules.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        rules,
        vec![
            "flow:school-wijkteam-toestemming".to_string(),
            "basis:toestemming".into(),
            "floor:consent".into()
        ]
    );
    assert_eq!(d.retain_until, Some(NOW + 365 * DAY / 2), "P6M");
    assert_eq!(d.consents_relied_on, ConsentSet::from_indices([0]));
    assert!(d.obligations.is_empty(), "{:?}", d.obligations);
    assert!(d.policy_version.starts_with("2025.1+fnv1a64:"));
}

// ------------------------------------------------------------------ flow 2: meldcode -> VT

fn gp_report(to: &str) -> DecisionRequest {
    let purpose = if to == "veilig_thuis" {
        "melding_veilig_thuis"
    } else {
        "vroegtijdige_ondersteuning"
    };
    let mut r = req(
        "huisarts",
        "huisarts",
        to,
        purpose,
        &["signalen_huiselijk_geweld", "gezondheid"],
    );
    r.subject.age = Age::Years(4);
    r.basis.legal = legal("meldrecht", meldcode_evidence());
    r
}

#[test]
fn flow2_meldcode_to_veilig_thuis() {
    let mut steps_missing = gp_report("veilig_thuis");
    steps_missing
        .basis
        .legal
        .as_mut()
        .unwrap()
        .evidence
        .meldcode_steps_completed = vec![1, 2];
    let mut no_afweging = gp_report("veilig_thuis");
    no_afweging
        .basis
        .legal
        .as_mut()
        .unwrap()
        .evidence
        .afwegingskader = None;
    let mut no_suspicion = gp_report("veilig_thuis");
    no_suspicion
        .basis
        .legal
        .as_mut()
        .unwrap()
        .evidence
        .afwegingskader = Some(Afwegingskader::GeenVermoeden);
    let mut no_reason = gp_report("veilig_thuis");
    no_reason
        .basis
        .legal
        .as_mut()
        .unwrap()
        .evidence
        .client_informed = Some(ClientInformed::No {
        reason: "  ".into(),
    });
    let mut informed_unknown = gp_report("veilig_thuis");
    informed_unknown
        .basis
        .legal
        .as_mut()
        .unwrap()
        .evidence
        .client_informed = None;
    let mut told = gp_report("veilig_thuis");
    told.basis.legal.as_mut().unwrap().evidence.client_informed = Some(ClientInformed::Yes);
    let mut from_school = gp_report("veilig_thuis");
    from_school.actor = Actor {
        oin: SCHOOL.into(),
        sector: "school".into(),
        role: "aandachtsfunctionaris".into(),
    };
    let mut from_opvang = gp_report("veilig_thuis");
    from_opvang.actor = Actor {
        oin: OPVANG.into(),
        sector: "vrouwenopvang".into(),
        role: "medewerker_opvang".into(),
    };
    let to_wijkteam = gp_report("wijkteam");
    let mut to_wijkteam_same_purpose = gp_report("wijkteam");
    to_wijkteam_same_purpose.purpose = "melding_veilig_thuis".into();
    // To the wijkteam it needs consent with an art. 9 ground: explicit consent works...
    let mut consent_explicit = req(
        "huisarts",
        "huisarts",
        "wijkteam",
        "vroegtijdige_ondersteuning",
        &["gezondheid"],
    );
    consent_explicit.basis.consents = vec![both_parents(
        "vroegtijdige_ondersteuning",
        "wijkteam",
        &["gezondheid"],
    )];
    consent_explicit.basis.consents[0].explicit = true;
    // ...not-explicit consent does not.
    let mut consent_plain = consent_explicit.clone();
    consent_plain.basis.consents[0].explicit = false;
    // Health data at 12-15 needs parents and child.
    let mut teen_parents_only = consent_explicit.clone();
    teen_parents_only.subject.age = Age::Years(13);
    let mut teen_both = teen_parents_only.clone();
    teen_both.basis.consents.push(consent(
        "c-kind",
        &[("kind", GiverCapacity::Subject)],
        ConsentRecipient::Sector("wijkteam".into()),
        "vroegtijdige_ondersteuning",
        &["gezondheid"],
    ));
    teen_both.basis.consents[1].explicit = true;
    // A 13-year-old, non-health data: parents alone are enough.
    let mut teen_nonhealth = req(
        "huisarts",
        "huisarts",
        "wijkteam",
        "vroegtijdige_ondersteuning",
        &["zorgen_thuissituatie"],
    );
    teen_nonhealth.subject.age = Age::Years(13);
    teen_nonhealth.basis.consents = vec![both_parents(
        "vroegtijdige_ondersteuning",
        "wijkteam",
        &["zorgen_thuissituatie"],
    )];

    run(vec![
        (
            "GP reports with health data",
            gp_report("veilig_thuis"),
            None,
        ),
        ("client told", told, None),
        ("school reports", from_school, None),
        ("vrouwenopvang (extra sector) reports", from_opvang, None),
        (
            "steps 3-4 missing",
            steps_missing,
            Some(ReasonCode::MeldcodeStepsIncomplete),
        ),
        (
            "no afwegingskader",
            no_afweging,
            Some(ReasonCode::EvidenceMissing),
        ),
        (
            "afwegingskader: no suspicion",
            no_suspicion,
            Some(ReasonCode::MeldcodeNoSuspicion),
        ),
        (
            "not informed, no reason",
            no_reason,
            Some(ReasonCode::ClientInformedReasonMissing),
        ),
        (
            "informed unknown",
            informed_unknown,
            Some(ReasonCode::EvidenceMissing),
        ),
        (
            "meldcode towards the wijkteam",
            to_wijkteam,
            Some(ReasonCode::MeldrechtOnlyToVeiligThuis),
        ),
        (
            "meldcode towards the wijkteam, melding purpose",
            to_wijkteam_same_purpose,
            Some(ReasonCode::MeldrechtOnlyToVeiligThuis),
        ),
        ("explicit consent to wijkteam", consent_explicit, None),
        (
            "health data without art. 9 ground",
            consent_plain,
            Some(ReasonCode::ConsentNotExplicit),
        ),
        (
            "health data at 13, parents only",
            teen_parents_only,
            Some(ReasonCode::ConsentMissingSubject),
        ),
        ("health data at 13, parents and child", teen_both, None),
        ("non-health data at 13, parents", teen_nonhealth, None),
    ]);
}

#[test]
fn veilig_thuis_cannot_use_meldrecht() {
    let mut r = req(
        "veilig_thuis",
        "vt_medewerker",
        "veilig_thuis",
        "melding_veilig_thuis",
        &["zorgen_thuissituatie"],
    );
    r.basis.legal = legal("meldrecht", meldcode_evidence());
    let d = sample().decide(&r);
    assert!(!d.is_allowed());
    assert!(
        d.has_reason(ReasonCode::BasisWrongSender),
        "{:?}",
        codes(&d)
    );
}

// ------------------------------------------------------------------ flow 3: police zorgmelding

#[test]
fn flow3_police_zorgmelding() {
    let ok = || {
        let mut r = req(
            "politie",
            "wijkagent",
            "veilig_thuis",
            "zorgmelding_politie",
            &[
                "incidentgegevens",
                "betrokken_personen",
                "aanwezigheid_kinderen",
            ],
        );
        r.basis.legal = legal(
            "wpg_zorgmelding",
            Evidence {
                registration_number: Some("PL0900-2025123456".into()),
                ..Evidence::default()
            },
        );
        r
    };
    let mut no_number = ok();
    no_number
        .basis
        .legal
        .as_mut()
        .unwrap()
        .evidence
        .registration_number = None;
    let mut health = ok();
    health.categories.push("gezondheid".into());
    let mut to_wijkteam = ok();
    to_wijkteam.recipient = Recipient {
        oin: WIJKTEAM.into(),
        sector: "wijkteam".into(),
    };
    let mut school_uses_wpg = ok();
    school_uses_wpg.actor = Actor {
        oin: SCHOOL.into(),
        sector: "school".into(),
        role: "ib_er".into(),
    };
    school_uses_wpg.purpose = "melding_veilig_thuis".into();
    school_uses_wpg.categories = vec!["zorgen_thuissituatie".into()];
    let mut wrong_purpose = ok();
    wrong_purpose.purpose = "casusafstemming".into();
    run(vec![
        ("zorgmelding", ok(), None),
        (
            "no registration number",
            no_number,
            Some(ReasonCode::EvidenceMissing),
        ),
        ("health data", health, Some(ReasonCode::CategoryNotAllowed)),
        ("police to wijkteam", to_wijkteam, Some(ReasonCode::NoFlow)),
        (
            "school on the Wpg",
            school_uses_wpg,
            Some(ReasonCode::BasisWrongSender),
        ),
        (
            "wrong purpose",
            wrong_purpose,
            Some(ReasonCode::PurposeNotAllowed),
        ),
    ]);
}

// ------------------------------------------------------------------ flow 4: VT handover

fn handover() -> DecisionRequest {
    let mut r = req(
        "veilig_thuis",
        "vt_medewerker",
        "wijkteam",
        "overdracht_hulpverlening",
        &["melding_samenvatting", "aanwezigheid_kinderen"],
    );
    r.basis.legal = legal(
        "vt_wettelijke_taak",
        Evidence {
            case_reference: Some("VT-2025-0042".into()),
            client_informed: Some(ClientInformed::Yes),
            ..Evidence::default()
        },
    );
    r.basis.consents = vec![both_parents(
        "overdracht_hulpverlening",
        "wijkteam",
        &["melding_samenvatting", "aanwezigheid_kinderen"],
    )];
    r.received_for = Some("zorgmelding_politie".into());
    r
}

#[test]
fn flow4_veilig_thuis_handover() {
    let mut family_refuses = handover();
    family_refuses.basis.consents.clear();
    let mut family_withdrew = handover();
    family_withdrew.basis.consents[0].withdrawn = true;
    let mut consent_only = handover();
    consent_only.basis.legal = None;
    let mut no_case = handover();
    no_case
        .basis
        .legal
        .as_mut()
        .unwrap()
        .evidence
        .case_reference = None;
    let mut repurposed = handover();
    repurposed.received_for = Some("vroegsignalering_schulden".into());
    run(vec![
        ("handover with family consent", handover(), None),
        (
            "family does not consent (scenario 7)",
            family_refuses,
            Some(ReasonCode::ConsentRequiredByFlow),
        ),
        (
            "family withdrew",
            family_withdrew,
            Some(ReasonCode::ConsentWithdrawn),
        ),
        (
            "consent without the statutory task",
            consent_only,
            Some(ReasonCode::BasisNotAllowedForFlow),
        ),
        (
            "no case reference",
            no_case,
            Some(ReasonCode::EvidenceMissing),
        ),
        (
            "data received for another purpose",
            repurposed,
            Some(ReasonCode::PurposeChangeNotAllowed),
        ),
    ]);
}

#[test]
fn handover_obliges_family_letter_unless_exempted() {
    let p = sample();
    let d = p.decide(&handover());
    assert!(
        d.obligations.contains(&Obligation::InformSubject),
        "{:?}",
        d.obligations
    );
    let mut r = handover();
    r.inform_exemption = Some("acute onveiligheid".into());
    let d = p.decide(&r);
    assert!(d.obligations.contains(&Obligation::InformSubjectExempted {
        reason: "acute onveiligheid".into()
    }));
    assert!(!d.obligations.contains(&Obligation::InformSubject));
}

// ------------------------------------------------------------------ flow 5 (DOMAIN rules): rent arrears

fn arrears() -> DecisionRequest {
    let mut r = req(
        "woningcorporatie",
        "wijkconsulent",
        "wijkteam",
        "vroegsignalering_schulden",
        &["betalingsachterstand"],
    );
    r.subject.age = Age::Band(AgeBand::Adult);
    r.basis.legal = legal(
        "wgs_vroegsignalering",
        Evidence {
            payment_reminder_sent: Some(true),
            ..Evidence::default()
        },
    );
    r
}

#[test]
fn flow5_rent_arrears() {
    let mut with_health = arrears();
    with_health.categories.push("gezondheid".into());
    let mut with_neglect = arrears();
    with_neglect
        .categories
        .push("vermoeden_verwaarlozing_kinderen".into());
    let mut no_reminder = arrears();
    no_reminder
        .basis
        .legal
        .as_mut()
        .unwrap()
        .evidence
        .payment_reminder_sent = None;
    // Neglect needs consent: the adult tenant's, for the support purpose.
    let mut neglect_with_consent = req(
        "woningcorporatie",
        "wijkconsulent",
        "wijkteam",
        "vroegtijdige_ondersteuning",
        &["vermoeden_verwaarlozing_kinderen", "betalingsachterstand"],
    );
    neglect_with_consent.subject.age = Age::Years(34);
    neglect_with_consent.basis.consents = vec![consent(
        "c-huurder",
        &[("huurder", GiverCapacity::Subject)],
        ConsentRecipient::Sector("wijkteam".into()),
        "vroegtijdige_ondersteuning",
        &["vermoeden_verwaarlozing_kinderen", "betalingsachterstand"],
    )];
    // ...or a meldcode report to Veilig Thuis instead.
    let mut neglect_to_vt = req(
        "woningcorporatie",
        "wijkconsulent",
        "veilig_thuis",
        "melding_veilig_thuis",
        &["vermoeden_verwaarlozing_kinderen"],
    );
    neglect_to_vt.basis.legal = legal("meldrecht", meldcode_evidence());
    let mut neglect_wgs_other_purpose = arrears();
    neglect_wgs_other_purpose.purpose = "vroegtijdige_ondersteuning".into();
    let mut wgs_from_school = arrears();
    wgs_from_school.actor = Actor {
        oin: SCHOOL.into(),
        sector: "school".into(),
        role: "ib_er".into(),
    };
    run(vec![
        ("arrears signal without consent", arrears(), None),
        (
            "arrears plus health",
            with_health,
            Some(ReasonCode::CategoryNotAllowed),
        ),
        (
            "arrears plus neglect",
            with_neglect,
            Some(ReasonCode::CategoryNotAllowed),
        ),
        (
            "no payment reminder",
            no_reminder,
            Some(ReasonCode::EvidenceMissing),
        ),
        (
            "neglect with the tenant's consent",
            neglect_with_consent,
            None,
        ),
        ("neglect to VT under the meldcode", neglect_to_vt, None),
        (
            "Wgs basis for support purpose",
            neglect_wgs_other_purpose,
            Some(ReasonCode::BasisNotAllowedForFlow),
        ),
        (
            "school on the Wgs",
            wgs_from_school,
            Some(ReasonCode::BasisWrongSender),
        ),
    ]);
}

#[test]
fn rent_arrears_with_health_is_denied_even_when_flow_would_list_it() {
    // A convenant cannot add health data to the debt-prevention flow: the floor refuses to load it.
    let text = SAMPLE_CONVENANT.replace(
        "categories = [\"betalingsachterstand\"]\nbases = [\"wgs_vroegsignalering\", \"toestemming\"]",
        "categories = [\"betalingsachterstand\", \"gezondheid\"]\nbases = [\"wgs_vroegsignalering\"]",
    );
    assert_ne!(text, SAMPLE_CONVENANT);
    let err = parse("x.toml", &text).unwrap_err();
    assert!(
        err.iter().any(|d| d.code == "FLOOR_ART9_GROUND_MISSING"),
        "{err}"
    );
}

// ------------------------------------------------------------------ flow 5: maatregel answer

#[test]
fn flow_maatregel_answer() {
    let ok = || {
        let mut r = req(
            "jeugdbescherming",
            "jeugdbeschermer",
            "wijkteam",
            "maatregel_afstemming",
            &["maatregel_bestaan"],
        );
        r.recipient_involved = true;
        r.basis.legal = legal(
            "jeugdwet_informatie",
            Evidence {
                maatregel_reference: Some("OTS-123".into()),
                ..Evidence::default()
            },
        );
        r
    };
    let mut not_involved = ok();
    not_involved.recipient_involved = false;
    let mut more = ok();
    more.categories.push("zorgen_thuissituatie".into());
    run(vec![
        ("involved wijkteam", ok(), None),
        (
            "wijkteam not involved (scenario 5)",
            not_involved,
            Some(ReasonCode::RecipientNotInvolved),
        ),
        (
            "more than the minimal answer",
            more,
            Some(ReasonCode::CategoryNotAllowed),
        ),
    ]);
    let d = sample().decide(&ok());
    assert!(
        d.obligations
            .contains(&Obligation::NotifySender { oin: GI.into() })
    );
    assert_eq!(d.retain_until, Some(NOW + 90 * DAY));
}

// ------------------------------------------------------------------ flow 6: involvement

#[test]
fn flow_involvement_between_parties() {
    let ok = || {
        let mut r = req(
            "vrouwenopvang",
            "medewerker_opvang",
            "wijkteam",
            "casusafstemming",
            &["betrokkenheid"],
        );
        r.subject.age = Age::Band(AgeBand::Adult);
        r.basis.consents = vec![consent(
            "c-moeder",
            &[("moeder", GiverCapacity::Subject)],
            ConsentRecipient::Sector("wijkteam".into()),
            "casusafstemming",
            &["betrokkenheid"],
        )];
        r
    };
    let mut parent_for_adult = ok();
    parent_for_adult.basis.consents[0].givers[0].capacity = GiverCapacity::GezagHolder;
    let mut to_police = ok();
    to_police.recipient = Recipient {
        oin: POLITIE.into(),
        sector: "politie".into(),
    };
    run(vec![
        ("opvang tells wijkteam", ok(), None),
        (
            "adult: a parent cannot consent",
            parent_for_adult,
            Some(ReasonCode::ConsentMissingSubject),
        ),
        (
            "involvement to police",
            to_police,
            Some(ReasonCode::PurposeNotAllowed),
        ),
    ]);
    let d = sample().decide(&ok());
    assert!(d.obligations.contains(&Obligation::ConfirmInWriting));
}

// ------------------------------------------------------------------ vital interest, parties

#[test]
fn vital_interest_and_closed_parties() {
    let mut r = req(
        "huisarts",
        "huisarts",
        "politie",
        "acuut_gevaar",
        &["gezondheid"],
    );
    r.basis.legal = legal(
        "vitaal_belang",
        Evidence {
            vital_interest_reason: Some("dreiging met wapen".into()),
            subject_unable_to_consent: Some(true),
            ..Evidence::default()
        },
    );
    let p = sample();
    assert!(p.decide(&r).is_allowed());
    let mut no_reason = r.clone();
    no_reason
        .basis
        .legal
        .as_mut()
        .unwrap()
        .evidence
        .vital_interest_reason = None;
    assert!(p.decide(&no_reason).has_reason(ReasonCode::EvidenceMissing));

    // Pin Veilig Thuis to one OIN: others of that sector are no longer parties.
    let text = SAMPLE_CONVENANT.replace(
        "name = \"Veilig Thuis Voorbeeld\"\nsector = \"veilig_thuis\"",
        &format!("name = \"Veilig Thuis Voorbeeld\"\nsector = \"veilig_thuis\"\noin = \"{VT}\""),
    );
    assert_ne!(text, SAMPLE_CONVENANT);
    let closed = parse("closed.toml", &text).unwrap().compile();
    let mut report = gp_report("veilig_thuis");
    assert!(closed.decide(&report).is_allowed());
    report.recipient.oin = "00000009999999990005".into();
    assert!(
        closed
            .decide(&report)
            .has_reason(ReasonCode::PartyNotInConvenant)
    );
    assert!(!closed.is_party("veilig_thuis", "00000009999999990005"));
    assert!(closed.is_party("school", "00000009999999990005"));
}

#[test]
fn lookups_for_the_server() {
    let p = sample();
    assert_eq!(
        p.retention_for("vroegtijdige_ondersteuning"),
        Some(365 * 86_400 / 2),
        "P6M is half a year"
    );
    assert_eq!(p.retention_for("maatregel_afstemming"), Some(90 * 86_400));
    assert_eq!(p.retention_for("nope"), None);
    assert_eq!(p.recidive_window_secs(), 365 * 86_400, "P12M is a year");
    assert!(p.is_known_sector("vrouwenopvang"));
    assert!(!p.is_known_sector("ggz"));
    assert!(p.is_known_category("betalingsachterstand"));
    assert_eq!(p.is_art9_category("gezondheid"), Some(true));
    assert_eq!(
        p.roles_for_sector("school").unwrap(),
        ["ib_er", "aandachtsfunctionaris", "zorgcoordinator"]
    );
    assert_eq!(p.basis_kind("meldrecht"), Some(BasisKind::Meldcode));
    assert!(p.version().starts_with("2025.1+fnv1a64:"));
}

#[test]
fn explanations() {
    let c = parse("sample.toml", SAMPLE_CONVENANT).unwrap();
    let p = c.compile();
    let md = explain::markdown(&c);
    assert!(md.contains("### vt-overdracht-wijkteam"));
    assert!(md.contains("| gezondheid | yes |"));
    let q = explain::question(
        &p,
        "huisarts",
        "wijkteam",
        "vroegtijdige_ondersteuning",
        "gezondheid",
    );
    assert!(q.contains("flow `huisarts-wijkteam-toestemming`"), "{q}");
    assert!(q.contains("explicit"), "{q}");
    let q = explain::question(
        &p,
        "huisarts",
        "wijkteam",
        "melding_veilig_thuis",
        "gezondheid",
    );
    assert!(q.starts_with("May") && q.contains("No: no flow"), "{q}");
    let q = explain::question(&p, "huisarts", "ggz", "x", "y");
    assert!(q.contains("does not know sector `ggz`"), "{q}");

    // HTML escapes convenant text.
    let text = SAMPLE_CONVENANT.replace(
        "name = \"Voorbeeldconvenant",
        "name = \"<script>alert('x')</script> & Voorbeeldconvenant",
    );
    let c = parse("x.toml", &text).unwrap();
    let html = explain::html(&c);
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp;"));
}
