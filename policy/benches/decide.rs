//! A policy decision versus sealing 4 KB with AES-256-GCM (ring): the hub's policy check must be a
//! small fraction of the cryptography every signal needs anyway. Target: decision < 0.1 x seal.
//!
//! Run: `cargo bench -p signaalhub-policy`. Plain `harness = false` bench: interleaved rounds of
//! batches, medians per operation, so both sides see the same machine noise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use signaalhub_policy::*;

const NOW: i64 = 1_760_000_000;
const ROUNDS: usize = 41;
const BATCH: usize = 2_000;

fn school_request() -> DecisionRequest {
    DecisionRequest {
        actor: Actor {
            oin: "00000001111111110001".into(),
            sector: "school".into(),
            role: "ib_er".into(),
        },
        recipient: Recipient {
            oin: "00000001111111110004".into(),
            sector: "wijkteam".into(),
        },
        purpose: "vroegtijdige_ondersteuning".into(),
        categories: vec!["zorgen_thuissituatie".into()],
        subject: SubjectFacts {
            age: Age::Years(9),
            gezag_holders: vec!["ouder-1".into(), "ouder-2".into()],
        },
        basis: PresentedBasis {
            legal: None,
            consents: vec![ConsentRecord {
                id: "c-1".into(),
                givers: vec![
                    ConsentGiver {
                        person: "ouder-1".into(),
                        capacity: GiverCapacity::GezagHolder,
                    },
                    ConsentGiver {
                        person: "ouder-2".into(),
                        capacity: GiverCapacity::GezagHolder,
                    },
                ],
                recipients: vec![ConsentRecipient::Sector("wijkteam".into())],
                disclosers: vec![],
                facts: None,
                purposes: vec!["vroegtijdige_ondersteuning".into()],
                categories: vec!["zorgen_thuissituatie".into()],
                valid_from: NOW - 86_400,
                valid_until: NOW + 180 * 86_400,
                withdrawn: false,
                explicit: false,
            }],
        },
        recipient_involved: false,
        received_for: None,
        inform_exemption: None,
        now: NOW,
    }
}

fn meldcode_request() -> DecisionRequest {
    let mut r = school_request();
    r.actor = Actor {
        oin: "00000001111111110002".into(),
        sector: "huisarts".into(),
        role: "huisarts".into(),
    };
    r.recipient = Recipient {
        oin: "00000001111111110005".into(),
        sector: "veilig_thuis".into(),
    };
    r.purpose = "melding_veilig_thuis".into();
    r.categories = vec!["signalen_huiselijk_geweld".into(), "gezondheid".into()];
    r.basis = PresentedBasis {
        legal: Some(LegalBasisRecord {
            basis: "meldrecht".into(),
            evidence: Evidence {
                meldcode_steps_completed: vec![1, 2, 3, 4],
                afwegingskader: Some(Afwegingskader::StructureleOnveiligheid),
                client_informed: Some(ClientInformed::No {
                    reason: "gevaar voor het kind".into(),
                }),
                ..Evidence::default()
            },
        }),
        consents: Vec::new(),
    };
    r
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let policy = parse("sample.toml", SAMPLE_CONVENANT)
        .expect("sample")
        .compile();
    let requests = [school_request(), meldcode_request()];
    for r in &requests {
        assert!(
            policy.decide(r).is_allowed(),
            "bench requests must be allowed: {:?}",
            policy.decide(r).reasons
        );
    }
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());
    let mut buf = vec![0x5au8; 4096];

    let (mut decide_ns, mut seal_ns) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let t = Instant::now();
        for i in 0..BATCH {
            let d = policy.decide(black_box(&requests[i & 1]));
            let _ = black_box(&d);
        }
        let d = t.elapsed().as_nanos() as f64 / BATCH as f64;
        let t = Instant::now();
        for i in 0..BATCH {
            let mut nonce = [0u8; 12];
            nonce[..8].copy_from_slice(&((round * BATCH + i) as u64).to_le_bytes());
            let tag = key
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(b"signal-id|purpose"),
                    black_box(&mut buf),
                )
                .unwrap();
            let _ = black_box(tag);
        }
        let s = t.elapsed().as_nanos() as f64 / BATCH as f64;
        if round > 0 {
            // Round 0 warms caches and the CPU frequency.
            decide_ns.push(d);
            seal_ns.push(s);
        }
    }
    // Each kind of request alone, for the record (the target is judged on the mix above).
    for (name, r) in [("consent", &requests[0]), ("meldcode", &requests[1])] {
        let mut v = Vec::new();
        for _ in 0..ROUNDS {
            let t = Instant::now();
            for _ in 0..BATCH {
                let d = policy.decide(black_box(r));
                let _ = black_box(&d);
            }
            v.push(t.elapsed().as_nanos() as f64 / BATCH as f64);
        }
        println!("  {name} decision alone: median {:.0} ns", median(&mut v));
    }
    let ratios: Vec<f64> = decide_ns.iter().zip(&seal_ns).map(|(d, s)| d / s).collect();
    let (d, s) = (median(&mut decide_ns), median(&mut seal_ns));
    let mut ratios = ratios;
    let r = median(&mut ratios);
    println!("policy decision (allowed, consent + meldcode mix): median {d:.0} ns");
    println!("AES-256-GCM seal 4096 bytes (ring):               median {s:.0} ns");
    println!("ratio decision / seal: median {r:.3} (target < 0.1)");
}
