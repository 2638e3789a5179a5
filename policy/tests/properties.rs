//! Properties of the policy that must hold for every input, not just the examples.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use proptest::prelude::*;
use signaalhub_policy::*;

const SECTORS: [&str; 8] = [
    "school",
    "politie",
    "huisarts",
    "woningcorporatie",
    "wijkteam",
    "veilig_thuis",
    "jeugdbescherming",
    "vrouwenopvang",
];
const PURPOSES: [&str; 4] = ["steun", "melding", "schuld", "afstemming"];
const CATEGORIES: [&str; 4] = ["zorgen", "gezondheid", "achterstand", "maatregel"];
const BASES: [&str; 8] = [
    "toestemming",
    "toestemming_zonder_art9",
    "meldrecht",
    "wpg",
    "vt",
    "wgs",
    "jeugdwet",
    "vitaal",
];

fn role_of(sector: &str) -> String {
    format!("rol_{sector}")
}

/// A convenant declaring everything, with the given flows (from, to, purpose, cats, bases).
fn convenant_text(flows: &[GenFlow], all_gezag: bool) -> String {
    let mut s = format!(
        "[convenant]\nname = \"gen\"\nversion = \"1\"\nconsent_requires_all_gezag_holders = {all_gezag}\n\n"
    );
    for sec in SECTORS {
        s += &format!("[sectors.{sec}]\nroles = [\"{}\"]\n", role_of(sec));
        if sec == "vrouwenopvang" {
            s += "extra = true\n";
        }
    }
    for p in PURPOSES {
        s += &format!("[purposes.{p}]\nretention = \"P6M\"\n");
    }
    for c in CATEGORIES {
        s += &format!("[categories.{c}]\nart9 = {}\n", c == "gezondheid");
    }
    s += "[bases.toestemming]\nkind = \"consent\"\nstatute = \"s\"\nart9 = true\n";
    s += "[bases.toestemming_zonder_art9]\nkind = \"consent\"\nstatute = \"s\"\n";
    s += "[bases.meldrecht]\nkind = \"meldcode\"\nstatute = \"s\"\nart9 = true\n";
    s += "[bases.wpg]\nkind = \"wpg_zorgmelding\"\nstatute = \"s\"\n";
    s += "[bases.vt]\nkind = \"veilig_thuis_taak\"\nstatute = \"s\"\nart9 = true\n";
    s += "[bases.wgs]\nkind = \"wgs_vroegsignalering\"\nstatute = \"s\"\n";
    s += "[bases.jeugdwet]\nkind = \"jeugdwet_informatie\"\nstatute = \"s\"\n";
    s += "[bases.vitaal]\nkind = \"vitaal_belang\"\nstatute = \"s\"\nart9 = true\n";
    for (from, to, purpose, cats, bases, also) in flows {
        let cats: Vec<String> = cats
            .iter()
            .map(|c| format!("\"{}\"", CATEGORIES[*c]))
            .collect();
        let bases: Vec<String> = bases.iter().map(|b| format!("\"{}\"", BASES[*b])).collect();
        s += &format!(
            "[[flows]]\nfrom = \"{}\"\nto = \"{}\"\npurpose = \"{}\"\ncategories = [{}]\nbases = [{}]\nalso_requires_consent = {also}\n",
            SECTORS[*from],
            SECTORS[*to],
            PURPOSES[*purpose],
            cats.join(", "),
            bases.join(", ")
        );
    }
    s
}

fn flow_strategy() -> impl Strategy<Value = GenFlow> {
    (
        0..SECTORS.len(),
        0..SECTORS.len(),
        0..PURPOSES.len(),
        proptest::collection::vec(0..CATEGORIES.len(), 1..3),
        proptest::collection::vec(0..BASES.len(), 0..3),
        any::<bool>(),
    )
}

fn evidence_strategy() -> impl Strategy<Value = Evidence> {
    (
        proptest::collection::vec(1u8..=5, 0..5),
        prop_oneof![
            Just(None),
            Just(Some(Afwegingskader::AcuteOnveiligheid)),
            Just(Some(Afwegingskader::GeenVermoeden)),
        ],
        prop_oneof![
            Just(None),
            Just(Some(ClientInformed::Yes)),
            Just(Some(ClientInformed::No {
                reason: String::new()
            })),
            Just(Some(ClientInformed::No {
                reason: "gevaar".into()
            })),
        ],
        any::<bool>(),
    )
        .prop_map(|(steps, afw, informed, all)| Evidence {
            meldcode_steps_completed: steps,
            afwegingskader: afw,
            client_informed: informed,
            registration_number: all.then(|| "PL-1".into()),
            case_reference: all.then(|| "VT-1".into()),
            payment_reminder_sent: Some(all),
            maatregel_reference: all.then(|| "OTS-1".into()),
            vital_interest_reason: all.then(|| "gevaar".into()),
            subject_unable_to_consent: Some(all),
            reporter_may_be_named: Some(all),
        })
}

fn consent_strategy() -> impl Strategy<Value = ConsentRecord> {
    (
        proptest::collection::vec((0usize..4, any::<bool>()), 1..3),
        0..SECTORS.len(),
        proptest::collection::vec(0..PURPOSES.len(), 1..3),
        proptest::collection::vec(0..CATEGORIES.len(), 1..4),
        -100i64..100,
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(0usize..4, 0..2),
        proptest::option::of((0u8..20, 1usize..3)),
    )
        .prop_map(
            |(givers, to, purposes, cats, shift, withdrawn, explicit, disclosers, facts)| {
                ConsentRecord {
                    id: format!("c{shift}"),
                    givers: givers
                        .into_iter()
                        .map(|(p, subject)| ConsentGiver {
                            person: ["ouder-1", "ouder-2", "kind", "buur"][p].into(),
                            capacity: if subject {
                                GiverCapacity::Subject
                            } else {
                                GiverCapacity::GezagHolder
                            },
                        })
                        .collect(),
                    recipients: vec![ConsentRecipient::Sector(SECTORS[to].into())],
                    // Empty (a consent from before disclosers were kept), or one or two organisations
                    // that may or may not be the sender.
                    disclosers: disclosers
                        .into_iter()
                        .map(|d| [SCHOOL, HUISARTS, WIJKTEAM, VT][d].into())
                        .collect(),
                    // Facts recorded with the consent, agreeing with the request or not.
                    facts: facts.map(|(age, holders)| SubjectFacts {
                        age: Age::Years(age),
                        gezag_holders: ["ouder-1", "ouder-2"][..holders]
                            .iter()
                            .map(|h| h.to_string())
                            .collect(),
                    }),
                    purposes: purposes.into_iter().map(|p| PURPOSES[p].into()).collect(),
                    categories: cats.into_iter().map(|c| CATEGORIES[c].into()).collect(),
                    valid_from: NOW + shift * DAY - 50 * DAY,
                    valid_until: NOW + shift * DAY + 50 * DAY,
                    withdrawn,
                    explicit,
                }
            },
        )
}

/// A request over the generated convenant's vocabulary.
fn request_strategy() -> impl Strategy<Value = DecisionRequest> {
    (
        (0..SECTORS.len(), 0..SECTORS.len(), 0..PURPOSES.len()),
        proptest::collection::vec(0..CATEGORIES.len(), 1..3),
        prop_oneof![Just(Age::Unknown), (0u8..30).prop_map(Age::Years)],
        proptest::option::of((0..BASES.len(), evidence_strategy())),
        proptest::collection::vec(consent_strategy(), 0..3),
        any::<bool>(),
    )
        .prop_map(
            |((from, to, purpose), cats, age, legal, consents, involved)| {
                let (f, t) = (SECTORS[from], SECTORS[to]);
                DecisionRequest {
                    actor: Actor {
                        oin: SCHOOL.into(),
                        sector: f.into(),
                        role: role_of(f),
                    },
                    recipient: Recipient {
                        oin: WIJKTEAM.into(),
                        sector: t.into(),
                    },
                    purpose: PURPOSES[purpose].into(),
                    categories: cats.into_iter().map(|c| CATEGORIES[c].into()).collect(),
                    subject: SubjectFacts {
                        age,
                        gezag_holders: vec!["ouder-1".into(), "ouder-2".into()],
                    },
                    basis: PresentedBasis {
                        legal: legal.map(|(b, evidence)| LegalBasisRecord {
                            basis: BASES[b].into(),
                            evidence,
                        }),
                        consents,
                    },
                    recipient_involved: involved,
                    received_for: None,
                    inform_exemption: None,
                    now: NOW,
                }
            },
        )
}

type GenFlow = (usize, usize, usize, Vec<usize>, Vec<usize>, bool);

/// Remove what the floor forbids, so most generated convenants load and decisions get exercised.
fn sanitize(flows: &[GenFlow]) -> Vec<GenFlow> {
    flows
        .iter()
        .cloned()
        .map(|(from, to, purpose, cats, bases, also)| {
            let (f, t) = (SECTORS[from], SECTORS[to]);
            let mut bases: Vec<usize> = bases
                .into_iter()
                .filter(|b| match BASES[*b] {
                    "meldrecht" => t == "veilig_thuis" && f != "veilig_thuis",
                    "wpg" => f == "politie",
                    "vt" => f == "veilig_thuis",
                    "wgs" => f == "woningcorporatie",
                    "jeugdwet" => f == "jeugdbescherming",
                    _ => true,
                })
                .collect();
            let art9_basis = bases
                .iter()
                .any(|b| matches!(BASES[*b], "toestemming" | "meldrecht" | "vt" | "vitaal"));
            if bases.is_empty() || (cats.contains(&1) && !art9_basis) {
                bases.push(0);
            }
            (from, to, purpose, cats, bases, also)
        })
        .collect()
}

/// Knobs that turn a flow of the convenant into a request aimed at it (with perturbations).
#[derive(Debug, Clone)]
struct Aim {
    flow: prop::sample::Index,
    cat_mask: u8,
    basis: prop::sample::Index,
    evidence: Evidence,
    full_evidence: bool,
    consent_givers: Vec<(usize, bool)>,
    consent_flags: (bool, bool, bool, bool),
    use_legal: bool,
    use_consent: bool,
    age: Age,
    involved: bool,
    wrong_sector: Option<usize>,
}

fn aim_strategy() -> impl Strategy<Value = Aim> {
    (
        (
            any::<prop::sample::Index>(),
            any::<u8>(),
            any::<prop::sample::Index>(),
        ),
        (evidence_strategy(), any::<bool>()),
        prop_oneof![
            Just(vec![(0usize, false), (1usize, false)]),
            Just(vec![(0usize, false), (1usize, false), (2usize, true)]),
            Just(vec![(2usize, true)]),
            proptest::collection::vec((0usize..4, any::<bool>()), 1..3),
        ],
        (
            prop::bool::weighted(0.2),
            prop::bool::weighted(0.8),
            prop::bool::weighted(0.2),
            prop::bool::weighted(0.2),
        ),
        (any::<bool>(), any::<bool>()),
        prop_oneof![Just(Age::Unknown), (0u8..30).prop_map(Age::Years)],
        any::<bool>(),
        proptest::option::weighted(0.2, 0..SECTORS.len()),
    )
        .prop_map(
            |(
                (flow, cat_mask, basis),
                (evidence, full_evidence),
                consent_givers,
                consent_flags,
                (use_legal, use_consent),
                age,
                involved,
                wrong_sector,
            )| Aim {
                flow,
                cat_mask,
                basis,
                evidence,
                full_evidence,
                consent_givers,
                consent_flags,
                use_legal,
                use_consent,
                age,
                involved,
                wrong_sector,
            },
        )
}

fn aimed_request(flows: &[GenFlow], a: &Aim) -> DecisionRequest {
    let (from, to, purpose, cats, bases, _) = &flows[a.flow.index(flows.len())];
    let (f, t) = (SECTORS[*from], SECTORS[a.wrong_sector.unwrap_or(*to)]);
    let mut chosen: Vec<&str> = cats
        .iter()
        .enumerate()
        .filter(|(i, _)| a.cat_mask & (1 << (i % 8)) != 0)
        .map(|(_, c)| CATEGORIES[*c])
        .collect();
    if chosen.is_empty() {
        chosen.push(CATEGORIES[cats[0]]);
    }
    if a.cat_mask & 0x80 != 0 {
        chosen.push("gezondheid");
    }
    let evidence = if a.full_evidence {
        Evidence {
            meldcode_steps_completed: vec![1, 2, 3, 4],
            afwegingskader: Some(Afwegingskader::StructureleOnveiligheid),
            client_informed: Some(ClientInformed::Yes),
            ..a.evidence.clone()
        }
    } else {
        a.evidence.clone()
    };
    let (withdrawn, explicit, expired, other_purpose) = a.consent_flags;
    let consent = ConsentRecord {
        id: "c".into(),
        givers: a
            .consent_givers
            .iter()
            .map(|(p, subject)| ConsentGiver {
                person: ["ouder-1", "ouder-2", "kind", "buur"][*p].into(),
                capacity: if *subject {
                    GiverCapacity::Subject
                } else {
                    GiverCapacity::GezagHolder
                },
            })
            .collect(),
        recipients: vec![ConsentRecipient::Sector(t.into())],
        disclosers: vec![],
        facts: None,
        purposes: vec![if other_purpose {
            "elders".into()
        } else {
            PURPOSES[*purpose].into()
        }],
        categories: chosen.iter().map(|c| c.to_string()).collect(),
        valid_from: NOW - DAY,
        valid_until: if expired { NOW } else { NOW + DAY },
        withdrawn,
        explicit,
    };
    DecisionRequest {
        actor: Actor {
            oin: SCHOOL.into(),
            sector: f.into(),
            role: role_of(f),
        },
        recipient: Recipient {
            oin: WIJKTEAM.into(),
            sector: t.into(),
        },
        purpose: PURPOSES[*purpose].into(),
        categories: chosen.iter().map(|c| c.to_string()).collect(),
        subject: SubjectFacts {
            age: a.age,
            gezag_holders: vec!["ouder-1".into(), "ouder-2".into()],
        },
        basis: PresentedBasis {
            legal: a.use_legal.then(|| LegalBasisRecord {
                basis: BASES[bases[a.basis.index(bases.len())]].into(),
                evidence,
            }),
            consents: if a.use_consent {
                vec![consent]
            } else {
                Vec::new()
            },
        },
        recipient_involved: a.involved,
        received_for: None,
        inform_exemption: None,
        now: NOW,
    }
}

/// The statutory floor, restated independently of the implementation, for an allowed decision.
fn assert_floor(p: &Policy, r: &DecisionRequest, d: &Decision) {
    if !d.is_allowed() {
        assert!(!d.reasons.is_empty(), "a denial always has a reason");
        return;
    }
    assert!(
        r.basis.legal.is_some() || !r.basis.consents.is_empty(),
        "allowed without a basis: {r:?}"
    );
    let used = |name: &str| d.rules.iter().any(|x| **x == *format!("basis:{name}"));
    let consent_used = d.rules.iter().any(|x| &**x == "floor:consent");
    let legal_kind = r.basis.legal.as_ref().and_then(|l| p.basis_kind(&l.basis));
    let legal_used = r.basis.legal.as_ref().is_some_and(|l| used(&l.basis));
    assert!(
        legal_used || consent_used,
        "allowed on no basis: {:?}",
        d.rules
    );
    if legal_used {
        let ev = &r.basis.legal.as_ref().unwrap().evidence;
        match legal_kind.unwrap() {
            BasisKind::Meldcode => {
                assert_eq!(
                    r.recipient.sector, "veilig_thuis",
                    "meldrecht only to Veilig Thuis"
                );
                assert_ne!(r.actor.sector, "veilig_thuis");
                for step in 1..=4 {
                    assert!(ev.meldcode_steps_completed.contains(&step));
                }
                assert!(matches!(
                    ev.afwegingskader,
                    Some(a) if a != Afwegingskader::GeenVermoeden
                ));
                match &ev.client_informed {
                    Some(ClientInformed::Yes) => {}
                    Some(ClientInformed::No { reason }) => assert!(!reason.trim().is_empty()),
                    None => panic!("meldcode without client_informed"),
                }
            }
            BasisKind::WpgZorgmelding => assert_eq!(r.actor.sector, "politie"),
            BasisKind::VeiligThuisTask => assert_eq!(r.actor.sector, "veilig_thuis"),
            BasisKind::WgsVroegsignalering => assert_eq!(r.actor.sector, "woningcorporatie"),
            BasisKind::JeugdwetInformatie => {
                assert_eq!(r.actor.sector, "jeugdbescherming");
                assert!(r.recipient_involved);
            }
            BasisKind::VeiligThuisInformation => {
                assert_eq!(r.recipient.sector, "veilig_thuis");
                assert_ne!(r.actor.sector, "veilig_thuis");
                assert!(
                    ev.case_reference
                        .as_deref()
                        .is_some_and(|c| !c.trim().is_empty())
                );
            }
            BasisKind::Consent | BasisKind::VitalInterest => {}
        }
    }
    let art9 = r
        .categories
        .iter()
        .any(|c| p.is_art9_category(c) == Some(true));
    if art9 {
        let legal_art9 = legal_used
            && matches!(
                legal_kind,
                Some(
                    BasisKind::Meldcode
                        | BasisKind::VeiligThuisTask
                        | BasisKind::VitalInterest
                        | BasisKind::VeiligThuisInformation
                )
            );
        let consent_art9 = consent_used
            && used("toestemming")
            && r.basis.consents.iter().any(|c| c.explicit && !c.withdrawn);
        assert!(
            legal_art9 || consent_art9,
            "art. 9 data without an art. 9 ground: {r:?} {d:?}"
        );
    }
    if consent_used {
        // Some valid, covering, non-withdrawn consent must exist for every category.
        for cat in &r.categories {
            assert!(
                r.basis.consents.iter().any(|c| !c.withdrawn
                    && c.valid_from <= r.now
                    && r.now < c.valid_until
                    && c.categories.contains(cat)
                    && c.purposes.contains(&r.purpose)),
                "consent route without a valid consent for {cat}"
            );
        }
        match r.subject.age.band() {
            None => panic!("consent judged without knowing the age"),
            Some(AgeBand::Adult | AgeBand::From16To17) => {
                assert!(r.basis.consents.iter().any(|c| {
                    c.givers
                        .iter()
                        .any(|g| g.capacity == GiverCapacity::Subject)
                }))
            }
            Some(_) => assert!(r.basis.consents.iter().any(|c| {
                c.givers.iter().any(|g| {
                    g.capacity == GiverCapacity::GezagHolder
                        && r.subject.gezag_holders.contains(&g.person)
                })
            })),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Nothing is allowed without a basis, whatever the convenant and request.
    #[test]
    fn nothing_without_a_basis(
        raw in proptest::collection::vec(flow_strategy(), 1..8),
        aim in aim_strategy(),
    ) {
        let flows = sanitize(&raw);
        let p = parse("gen.toml", &convenant_text(&flows, true)).unwrap().compile();
        let mut r = aimed_request(&flows, &aim);
        r.basis = PresentedBasis::default();
        let d = p.decide(&r);
        prop_assert!(!d.is_allowed());
        prop_assert!(d.has_reason(ReasonCode::NoBasis) || !d.reasons.is_empty());
    }

    /// Withdrawing a consent never enlarges what is allowed.
    #[test]
    fn withdrawal_never_enlarges(
        raw in proptest::collection::vec(flow_strategy(), 1..8),
        aim in aim_strategy(),
        extra in proptest::collection::vec(consent_strategy(), 0..3),
        which in any::<prop::sample::Index>(),
        all_gezag in any::<bool>(),
    ) {
        let flows = sanitize(&raw);
        let p = parse("gen.toml", &convenant_text(&flows, all_gezag)).unwrap().compile();
        let mut r = aimed_request(&flows, &aim);
        r.basis.consents.extend(extra);
        let before = p.decide(&r).is_allowed();
        if !r.basis.consents.is_empty() {
            let i = which.index(r.basis.consents.len());
            r.basis.consents[i].withdrawn = true;
        }
        let after = p.decide(&r).is_allowed();
        prop_assert!(!after || before, "withdrawal enlarged: {:?}", r);
    }

    /// No convenant, however written, allows what the floor forbids; and one that tries to
    /// (meldrecht beyond Veilig Thuis, art. 9 data without an art. 9 basis) does not load.
    #[test]
    fn no_convenant_goes_below_the_floor(
        raw in proptest::collection::vec(flow_strategy(), 1..10),
        clean in any::<bool>(),
        aims in proptest::collection::vec(aim_strategy(), 1..16),
        requests in proptest::collection::vec(request_strategy(), 0..4),
        all_gezag in any::<bool>(),
    ) {
        let flows = if clean { sanitize(&raw) } else { raw };
        let text = convenant_text(&flows, all_gezag);
        let meldrecht_elsewhere = flows.iter().any(|(from, to, _, _, bases, _)| {
            bases.contains(&2) && (SECTORS[*to] != "veilig_thuis" || SECTORS[*from] == "veilig_thuis")
        });
        let art9_unfounded = flows.iter().any(|(_, _, _, cats, bases, _)| {
            cats.contains(&1)
                && !bases.is_empty()
                && !bases.iter().any(|b| matches!(BASES[*b], "toestemming" | "meldrecht" | "vt" | "vitaal"))
        });
        match parse("gen.toml", &text) {
            Ok(c) => {
                prop_assert!(!meldrecht_elsewhere, "meldrecht beyond Veilig Thuis was accepted");
                prop_assert!(!art9_unfounded, "art. 9 data without an art. 9 basis was accepted");
                let p = c.compile();
                for a in &aims {
                    let r = aimed_request(&flows, a);
                    assert_floor(&p, &r, &p.decide(&r));
                }
                for r in &requests {
                    assert_floor(&p, r, &p.decide(r));
                }
            }
            Err(d) => {
                prop_assert!(!clean, "a sanitised convenant must load: {d}");
                prop_assert!(!d.is_empty());
            }
        }
    }

    /// The sample convenant too, with requests over its own vocabulary.
    #[test]
    fn sample_respects_the_floor(
        from in 0..SECTORS.len(),
        to in 0..SECTORS.len(),
        r in request_strategy(),
    ) {
        let p = sample();
        let mut r = r;
        r.actor.sector = SECTORS[from].into();
        r.actor.role = p.roles_for_sector(SECTORS[from]).unwrap()[0].clone();
        r.recipient.sector = SECTORS[to].into();
        assert_floor(p, &r, &p.decide(&r));
    }

    /// Parsing never panics on arbitrary text.
    #[test]
    fn parse_never_panics(s in "\\PC{0,400}") {
        let _ = parse("fuzz.toml", &s);
    }

    /// Nor on a mutated real convenant (closer to what people actually write).
    #[test]
    fn parse_never_panics_on_mutations(cut in 0usize..20_000, len in 0usize..40, insert in "[\\[\\]=\"a-z0-9_., \n]{0,12}") {
        let src = SAMPLE_CONVENANT;
        let start = cut % src.len();
        let mut end = (start + len).min(src.len());
        let mut start = start;
        while !src.is_char_boundary(start) { start -= 1; }
        while !src.is_char_boundary(end) { end -= 1; }
        let mutated = format!("{}{}{}", &src[..start], insert, &src[end.max(start)..]);
        if let Ok(c) = parse("m.toml", &mutated) {
            // Whatever loads still compiles and decides without panicking.
            let p = c.compile();
            let _ = p.decide(&req("school", "ib_er", "wijkteam", "vroegtijdige_ondersteuning", &["zorgen_thuissituatie"]));
        }
    }
}

/// The generators above must actually reach allowed decisions by both routes, or the floor
/// properties would pass vacuously.
#[test]
fn generators_reach_allowed_decisions() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut consent_allowed, mut legal_allowed, mut denied) = (0, 0, 0);
    for _ in 0..200 {
        let raw = proptest::collection::vec(flow_strategy(), 1..8)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let flows = sanitize(&raw);
        let p = parse("gen.toml", &convenant_text(&flows, true))
            .unwrap()
            .compile();
        for _ in 0..20 {
            let aim = aim_strategy().new_tree(&mut runner).unwrap().current();
            let r = aimed_request(&flows, &aim);
            let d = p.decide(&r);
            assert_floor(&p, &r, &d);
            if !d.is_allowed() {
                denied += 1;
            } else if d.rules.iter().any(|x| &**x == "floor:consent") {
                consent_allowed += 1;
            } else {
                legal_allowed += 1;
            }
        }
    }
    assert!(
        consent_allowed > 20,
        "consent route reached {consent_allowed} times"
    );
    assert!(
        legal_allowed > 20,
        "legal route reached {legal_allowed} times"
    );
    assert!(denied > 100);
}
