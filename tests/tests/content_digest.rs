//! Same id, other content, is a conflict; the same content re-sealed is a retry — for every RPC
//! that stores a sealed envelope under a client-chosen id (SendSignal, SubmitFragment, HandOver,
//! PublishSafetyPlan), on every store backend, tried as a confused or hostile client would:
//! re-sealing (a new HPKE encapsulation, a new `created_at_unix`), changing the payload under a
//! used id, changing the metadata, altering the digest after signing, leaving the digest out.
//! docs/ENVELOPE.md, "Content digest".
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::involvement_flow::{case_consent, plan, plan_request, register};
use common::zorgmelding_flow::*;
use common::{TestHub, now, violations};
use ring::signature::{Ed25519KeyPair, KeyPair};
use signaalhub_client::ClientError;
use signaalhub_client::envelope::{self, signing_input};
use signaalhub_client::involvement::Agreement;
use signaalhub_client::signaalhub_proto::{basis_reference, pb};
use signaalhub_server::store::testing::backends;
use tokio_stream::StreamExt;
use tonic::Code;

const PURPOSE: &str = "vroegtijdige_ondersteuning";
const CATEGORY: &str = "zorgen_thuissituatie";
const PAYLOAD: &[u8] = b"Leerling (9) is al weken stil en heeft blauwe plekken.";
const OTHER: &[u8] = b"Leerling (9) vertelt dat hij thuis wordt geslagen.";

/// Seals `payload` as `from` to `to`, bound to `id` and sealed at `created_at`.
#[allow(clippy::too_many_arguments)]
fn seal_at(
    hub: &TestHub,
    from: &str,
    to: &[envelope::RecipientKey],
    id: &str,
    purpose: &str,
    categories: &[String],
    basis: &pb::Basis,
    created_at: i64,
    payload: &[u8],
) -> pb::Envelope {
    let binding = pb::EnvelopeBinding {
        signal_id: id.into(),
        purpose: purpose.into(),
        categories: categories.to_vec(),
        basis_reference: basis_reference(basis),
        created_at_unix: created_at,
        content_digest: Vec::new(), // seal sets it
    };
    envelope::seal(payload, binding, &sender(hub, from), to).unwrap()
}

/// Signs `env` again with `from`'s signing key: what a client that builds envelopes itself (or
/// tampers with its own) would send.
fn resign(hub: &TestHub, from: &str, env: &mut pb::Envelope) {
    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&hub.org(from).signing_pkcs8).unwrap();
    assert_eq!(
        pair.public_key().as_ref(),
        sender(hub, from).public_key().as_slice()
    );
    env.signature = pair.sign(&signing_input(env)).as_ref().to_vec();
}

/// The digest changed after sealing (not re-signed): a tampered envelope.
fn altered_digest(env: &mut pb::Envelope) {
    env.binding.as_mut().unwrap().content_digest[0] ^= 1;
}

/// The digest left out, signed without it: a client that does not compute one.
fn without_digest(hub: &TestHub, from: &str, env: &mut pb::Envelope) {
    env.binding.as_mut().unwrap().content_digest.clear();
    resign(hub, from, env);
}

fn digest(env: Option<&pb::Envelope>) -> Vec<u8> {
    env.unwrap()
        .binding
        .as_ref()
        .unwrap()
        .content_digest
        .clone()
}

fn fields(e: ClientError) -> Vec<String> {
    violations(e).into_iter().map(|(f, _)| f).collect()
}

/// `ALREADY_EXISTS` naming `id`, never the content.
fn id_taken(e: ClientError, id: &str, content: &[u8]) -> String {
    assert_eq!(e.code(), Code::AlreadyExists, "{e}");
    let m = e.to_string();
    assert!(m.contains(id), "{m}");
    let text = String::from_utf8_lossy(content);
    assert!(!m.contains(text.as_ref()), "{m}");
    m
}

/// A missing digest: refused on its field, saying how to compute it.
fn digest_required(e: ClientError) {
    let v = violations(e);
    let (_, why) = v
        .iter()
        .find(|(f, _)| f == "envelope.binding.content_digest")
        .unwrap_or_else(|| panic!("{v:?}"));
    for needle in ["32-byte", "HMAC-SHA256", "HKDF-SHA256", "seed", "seal"] {
        assert!(why.contains(needle), "{needle:?} missing in {why}");
    }
}

async fn school_signal(
    hub: &TestHub,
    id: &str,
    basis: &pb::Basis,
    created_at: i64,
    payload: &[u8],
) -> pb::SendSignalRequest {
    let to = recipient_key(hub, "school", "wijkteam").await;
    let categories = vec![CATEGORY.to_string()];
    pb::SendSignalRequest {
        signal_id: id.into(),
        envelope: Some(seal_at(
            hub,
            "school",
            &[to],
            id,
            PURPOSE,
            &categories,
            basis,
            created_at,
            payload,
        )),
        recipient_oins: vec![hub.org("wijkteam").info.oin.clone()],
        subject_bsns: vec![CHILD.into()],
        purpose: PURPOSE.into(),
        categories,
        urgency: pb::Urgency::Normal as i32,
        basis: Some(basis.clone()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_signal_is_a_retry_only_with_the_same_content() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let basis = hub.both_parents_consent(CHILD).await;
        let mut school = hub.client("school").await;
        let oin = hub.org("school").info.oin.clone();
        let first_req = school_signal(&hub, "sig-d", &basis, now(), PAYLOAD).await;
        let first = school.send_signal(first_req.clone()).await.unwrap();
        assert!(!first.duplicate, "{b}");
        let log = hub.store.log_size().await.unwrap();
        let stored = hub.store.get_signal(&oin, "sig-d").await.unwrap().unwrap();
        assert_eq!(
            stored.content_digest,
            Some(digest(first_req.envelope.as_ref()))
        );

        // Re-sealed a minute later: another encapsulation and timestamp, the same content.
        let again_req = school_signal(&hub, "sig-d", &basis, now() - 60, PAYLOAD).await;
        let (e1, e2) = (
            first_req.envelope.as_ref().unwrap(),
            again_req.envelope.as_ref().unwrap(),
        );
        assert_ne!(e1.sealed_keys[0].enc, e2.sealed_keys[0].enc);
        assert_ne!(e1.ciphertext, e2.ciphertext);
        assert_ne!(
            e1.binding.as_ref().unwrap().created_at_unix,
            e2.binding.as_ref().unwrap().created_at_unix
        );
        let again = school.send_signal(again_req).await.unwrap();
        assert!(again.duplicate, "{b}");
        assert_eq!(again.signal_id, first.signal_id);
        assert_eq!(again.deliveries, first.deliveries, "{b}: the first answer");
        assert!(again.decisions.is_empty());
        assert_eq!(
            hub.store.log_size().await.unwrap(),
            log,
            "{b}: nothing logged"
        );
        let kept = hub.store.get_signal(&oin, "sig-d").await.unwrap().unwrap();
        assert_eq!(
            kept.envelope, stored.envelope,
            "{b}: the first envelope is kept"
        );

        // Other content under the used id and the same metadata: refused, nothing stored.
        let other = school_signal(&hub, "sig-d", &basis, now(), OTHER).await;
        let m = id_taken(school.send_signal(other).await.unwrap_err(), "sig-d", OTHER);
        assert!(m.contains("content"), "{m}");
        // The same content with other metadata: refused too.
        let mut urgent = school_signal(&hub, "sig-d", &basis, now(), PAYLOAD).await;
        urgent.urgency = pb::Urgency::High as i32;
        id_taken(
            school.send_signal(urgent).await.unwrap_err(),
            "sig-d",
            PAYLOAD,
        );
        // A digest altered after signing: the signature check refuses it under a new id, and
        // under the used id it is other content.
        let mut forged = school_signal(&hub, "sig-e", &basis, now(), OTHER).await;
        altered_digest(forged.envelope.as_mut().unwrap());
        assert_eq!(
            fields(school.send_signal(forged).await.unwrap_err()),
            vec!["envelope.signature"],
            "{b}"
        );
        let mut forged = school_signal(&hub, "sig-d", &basis, now(), PAYLOAD).await;
        altered_digest(forged.envelope.as_mut().unwrap());
        id_taken(
            school.send_signal(forged).await.unwrap_err(),
            "sig-d",
            PAYLOAD,
        );
        // Forged to the first digest over other content, re-signed: the hub cannot tell (only
        // the sender's key computes digests) but stores nothing new either.
        let mut copied = school_signal(&hub, "sig-d", &basis, now(), OTHER).await;
        copied
            .envelope
            .as_mut()
            .unwrap()
            .binding
            .as_mut()
            .unwrap()
            .content_digest = stored.content_digest.clone().unwrap();
        resign(&hub, "school", copied.envelope.as_mut().unwrap());
        assert!(school.send_signal(copied).await.unwrap().duplicate);
        // No digest at all: refused on the field, saying how to compute it.
        for id in ["sig-d", "sig-f"] {
            let mut bare = school_signal(&hub, id, &basis, now(), PAYLOAD).await;
            without_digest(&hub, "school", bare.envelope.as_mut().unwrap());
            digest_required(school.send_signal(bare).await.unwrap_err());
        }

        assert_eq!(
            hub.store.log_size().await.unwrap(),
            log,
            "{b}: nothing logged"
        );
        let kept = hub.store.get_signal(&oin, "sig-d").await.unwrap().unwrap();
        assert_eq!(kept.envelope, stored.envelope);
        assert_eq!(kept.content_digest, stored.content_digest);
        for id in ["sig-e", "sig-f"] {
            assert!(hub.store.get_signal(&oin, id).await.unwrap().is_none());
        }
        // The wijkteam receives the first content, once.
        let mut wijkteam = hub.client("wijkteam").await;
        let mut inbox = wijkteam.stream_inbox(0).await.unwrap();
        let item = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.next())
            .await
            .expect("an inbox item within 10 s")
            .unwrap()
            .unwrap();
        assert_eq!(item.signal_id, "sig-d");
        let env = item.envelope.unwrap();
        let key = wijkteam
            .signing_key(&env.sender_oin, &env.sender_signing_key_id)
            .await
            .unwrap();
        assert_eq!(
            envelope::open(&env, &hub.secrets("wijkteam"), &key).unwrap(),
            PAYLOAD
        );
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(700), inbox.next())
                .await
                .is_err(),
            "{b}: nothing else in the inbox"
        );
        // A signal stored before the hub kept digests (as migration 0011 leaves older rows):
        // a retry cannot be told from other content, so it is refused, saying so.
        assert_eq!(
            hub.sql("UPDATE signals SET content_digest = NULL WHERE signal_id = 'sig-d'")
                .await,
            1
        );
        let again = school_signal(&hub, "sig-d", &basis, now(), PAYLOAD).await;
        let m = id_taken(
            school.send_signal(again).await.unwrap_err(),
            "sig-d",
            PAYLOAD,
        );
        assert!(m.contains("before the hub kept content digests"), "{m}");
        hub.stop().await;
    }
}

fn police_fragment(
    hub: &TestHub,
    to: &envelope::RecipientKey,
    id: &str,
    created_at: i64,
    payload: &[u8],
) -> pb::SubmitFragmentRequest {
    let categories = vec!["incidentgegevens".to_string()];
    let basis = wpg(REG);
    pb::SubmitFragmentRequest {
        registration_number: REG.into(),
        fragment_id: id.into(),
        kind: pb::FragmentKind::Incident as i32,
        recipient_oin: hub.org("veilig_thuis").info.oin.clone(),
        subject_bsns: vec![MOTHER.into(), FATHER.into()],
        categories: categories.clone(),
        envelope: Some(seal_at(
            hub,
            "politie",
            std::slice::from_ref(to),
            id,
            "zorgmelding_politie",
            &categories,
            &basis,
            created_at,
            payload,
        )),
        basis: Some(basis),
        acting_role: String::new(),
    }
}

/// The case: a zorgmelding fragment resent with the same id and metadata but other
/// content was accepted as "a retry: nothing was added".
#[tokio::test]
async fn a_fragment_resent_with_other_content_is_a_conflict() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut politie = hub.client("politie").await;
        let police = hub.org("politie").info.oin.clone();
        let to = recipient_key(&hub, "politie", "veilig_thuis").await;
        let first_req = police_fragment(&hub, &to, "frag-d", now(), INCIDENT);
        let first = politie.submit_fragment(first_req.clone()).await.unwrap();
        assert!(!first.duplicate);
        let log = hub.store.log_size().await.unwrap();
        let stored = hub
            .store
            .get_fragment(&police, "frag-d")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.content_digest,
            Some(digest(first_req.envelope.as_ref()))
        );

        // A network retry, re-sealed: the first answer, nothing added.
        let again = politie
            .submit_fragment(police_fragment(&hub, &to, "frag-d", now() - 90, INCIDENT))
            .await
            .unwrap();
        assert!(again.duplicate, "{b}");
        assert_eq!(
            (
                again.zorgmelding_id.as_str(),
                again.sequence,
                again.fragment_count
            ),
            (first.zorgmelding_id.as_str(), 1, 1)
        );
        assert_eq!(hub.store.log_size().await.unwrap(), log);

        // Same id, same metadata, other content: ALREADY_EXISTS, not "a retry".
        let other = police_fragment(&hub, &to, "frag-d", now(), PERSONS);
        let m = id_taken(
            politie.submit_fragment(other).await.unwrap_err(),
            "frag-d",
            PERSONS,
        );
        assert!(m.contains("content"), "{m}");
        // Tampered and bare digests.
        let mut forged = police_fragment(&hub, &to, "frag-e", now(), PERSONS);
        altered_digest(forged.envelope.as_mut().unwrap());
        assert_eq!(
            fields(politie.submit_fragment(forged).await.unwrap_err()),
            vec!["envelope.signature"]
        );
        let mut forged = police_fragment(&hub, &to, "frag-d", now(), INCIDENT);
        altered_digest(forged.envelope.as_mut().unwrap());
        id_taken(
            politie.submit_fragment(forged).await.unwrap_err(),
            "frag-d",
            INCIDENT,
        );
        let mut bare = police_fragment(&hub, &to, "frag-f", now(), PERSONS);
        without_digest(&hub, "politie", bare.envelope.as_mut().unwrap());
        digest_required(politie.submit_fragment(bare).await.unwrap_err());

        assert_eq!(
            hub.store.log_size().await.unwrap(),
            log,
            "{b}: nothing logged"
        );
        let fragments = hub.store.fragments_of(&first.zorgmelding_id).await.unwrap();
        assert_eq!(fragments.len(), 1, "{b}");
        assert_eq!(fragments[0].envelope, stored.envelope);
        // Veilig Thuis opens the first content.
        let mut vt = hub.client("veilig_thuis").await;
        let melding = vt.get_zorgmelding(&first.zorgmelding_id).await.unwrap();
        let env = melding.fragments[0].envelope.as_ref().unwrap();
        let dir = vt.get_organization(&police).await.unwrap();
        assert_eq!(
            envelope::open(
                env,
                &hub.secrets("veilig_thuis"),
                &signing_key(&dir, &env.sender_signing_key_id)
            )
            .unwrap(),
            INCIDENT
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_handover_is_a_retry_only_with_the_same_envelopes() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let melding = triaged(&hub).await;
        let consents = family_consent(&hub, &HANDOVER_CATEGORIES).await;
        let mut vt = hub.client("veilig_thuis").await;
        let vt_oin = hub.org("veilig_thuis").info.oin.clone();
        let first_req = handover_request(&hub, &melding, "ho-d", consents.clone()).await;
        let first = vt.hand_over(first_req.clone()).await.unwrap();
        assert!(!first.duplicate);
        let log = hub.store.log_size().await.unwrap();
        let stored = hub
            .store
            .get_handover(&vt_oin, "ho-d")
            .await
            .unwrap()
            .unwrap();
        let digests: Vec<u8> = first_req
            .envelopes
            .iter()
            .flat_map(|e| digest(Some(e)))
            .collect();
        assert_eq!(digests.len(), 3 * 32);
        assert_eq!(stored.content_digest, Some(digests));
        let envelopes = hub.store.handover_envelopes(&vt_oin, "ho-d").await.unwrap();

        // Re-sealed (every envelope anew): the first answer, nothing added.
        let again_req = handover_request(&hub, &melding, "ho-d", consents.clone()).await;
        assert_ne!(again_req.envelopes, first_req.envelopes);
        let again = vt.hand_over(again_req.clone()).await.unwrap();
        assert!(again.duplicate, "{b}");
        assert_eq!(again.handover, first.handover, "{b}: the first answer");
        assert_eq!(hub.store.log_size().await.unwrap(), log);

        // One envelope with other content: ALREADY_EXISTS.
        let to = recipient_key(&hub, "veilig_thuis", "wijkteam").await;
        let basis = again_req.basis.clone().unwrap();
        let mut other = again_req.clone();
        other.envelopes[1] = seal_at(
            &hub,
            "veilig_thuis",
            std::slice::from_ref(&to),
            "ho-d.2",
            "overdracht_hulpverlening",
            &other.categories,
            &basis,
            now(),
            OTHER,
        );
        let m = id_taken(vt.hand_over(other).await.unwrap_err(), "ho-d", OTHER);
        assert!(m.contains("content"), "{m}");
        // The same envelopes in another order: other metadata (their ids), ALREADY_EXISTS.
        let mut shuffled = again_req.clone();
        shuffled.envelopes.swap(0, 2);
        id_taken(vt.hand_over(shuffled).await.unwrap_err(), "ho-d", INCIDENT);
        // Tampered and bare digests.
        let mut forged = handover_request(&hub, &melding, "ho-e", consents.clone()).await;
        altered_digest(&mut forged.envelopes[2]);
        assert_eq!(
            fields(vt.hand_over(forged).await.unwrap_err()),
            vec!["envelope.signature"]
        );
        let mut bare = handover_request(&hub, &melding, "ho-f", consents.clone()).await;
        without_digest(&hub, "veilig_thuis", &mut bare.envelopes[0]);
        digest_required(vt.hand_over(bare).await.unwrap_err());

        assert_eq!(
            hub.store.log_size().await.unwrap(),
            log,
            "{b}: nothing logged"
        );
        assert_eq!(
            hub.store.handover_envelopes(&vt_oin, "ho-d").await.unwrap(),
            envelopes
        );
        for id in ["ho-e", "ho-f"] {
            assert!(hub.store.get_handover(&vt_oin, id).await.unwrap().is_none());
        }
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_safety_plan_version_is_a_retry_only_with_the_same_content() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let consent = case_consent(&hub, "wijkteam", CHILD).await;
        register(&hub, "wijkteam", CHILD, &[], Some(&consent)).await;
        let case_id = register(&hub, "jeugdbescherming", CHILD, &[], Some(&consent))
            .await
            .case
            .unwrap()
            .case_id;
        let w_oin = hub.org("wijkteam").info.oin.clone();
        let mut wijkteam = hub.client("wijkteam").await;
        let mut content = plan();
        content.agreements = vec![Agreement {
            id: "a1".into(),
            who: "De wijkcoach".into(),
            what: "komt elke week op huisbezoek".into(),
            by_when: None,
            party_oins: vec![w_oin.clone()],
            concerns_family: true,
        }];
        let c = &mut wijkteam;
        let first_req =
            plan_request(&hub, c, "wijkteam", &case_id, 1, &content, &consent, now()).await;
        let first = c
            .publish_safety_plan_response(first_req.clone())
            .await
            .unwrap();
        assert!(!first.duplicate, "{b}");
        let stored = hub.store.get_plan(&case_id, 1).await.unwrap().unwrap();
        assert_eq!(
            stored.content_digest,
            Some(digest(first_req.envelope.as_ref()))
        );
        assert!(stored.request_hash.is_some());

        // Every request is built first: building one reads the case (a logged read).
        let again_req = plan_request(
            &hub,
            c,
            "wijkteam",
            &case_id,
            1,
            &content,
            &consent,
            now() - 120,
        )
        .await;
        let mut other = content.clone();
        other.agreements[0].what = "belt elke week".into();
        let other_content =
            plan_request(&hub, c, "wijkteam", &case_id, 1, &other, &consent, now()).await;
        let mut other = content.clone();
        other.agreements[0].party_oins.clear();
        let other_meta =
            plan_request(&hub, c, "wijkteam", &case_id, 1, &other, &consent, now()).await;
        let mut forged =
            plan_request(&hub, c, "wijkteam", &case_id, 2, &content, &consent, now()).await;
        altered_digest(forged.envelope.as_mut().unwrap());
        let mut bare =
            plan_request(&hub, c, "wijkteam", &case_id, 2, &content, &consent, now()).await;
        without_digest(&hub, "wijkteam", bare.envelope.as_mut().unwrap());
        let mut gi = hub.client("jeugdbescherming").await;
        let gi_v1 = plan_request(
            &hub,
            &mut gi,
            "jeugdbescherming",
            &case_id,
            1,
            &content,
            &consent,
            now(),
        )
        .await;
        let log = hub.store.log_size().await.unwrap();

        // Re-sealed two minutes later: the first answer, nothing added, nobody told again.
        let c = &mut wijkteam;
        assert_ne!(again_req.envelope, first_req.envelope);
        let again = c.publish_safety_plan_response(again_req).await.unwrap();
        assert!(again.duplicate, "{b}");
        assert_eq!(again.plan, first.plan, "{b}: the first answer");
        assert_eq!(hub.store.log_size().await.unwrap(), log);

        // Other agreement text under the same version and metadata: ALREADY_EXISTS.
        let e = c
            .publish_safety_plan_response(other_content)
            .await
            .unwrap_err();
        let m = id_taken(e, &case_id, b"belt elke week");
        assert!(m.contains("safety plan version 1"), "{m}");
        // Other metadata (the agreement no longer concerns the wijkteam): ALREADY_EXISTS.
        let e = c
            .publish_safety_plan_response(other_meta)
            .await
            .unwrap_err();
        id_taken(e, &case_id, b"komt elke week op huisbezoek");
        // Tampered and bare digests (version 2 is new).
        assert_eq!(
            fields(c.publish_safety_plan_response(forged).await.unwrap_err()),
            vec!["envelope.signature"]
        );
        digest_required(c.publish_safety_plan_response(bare).await.unwrap_err());
        // Another party's publication of that version is stale, as before (not a retry).
        let e = gi.publish_safety_plan_response(gi_v1).await.unwrap_err();
        assert_eq!(e.code(), Code::Aborted, "{b}: {e}");

        assert_eq!(
            hub.store.log_size().await.unwrap(),
            log,
            "{b}: nothing logged"
        );
        assert!(hub.store.get_plan(&case_id, 2).await.unwrap().is_none());
        let kept = hub.store.get_plan(&case_id, 0).await.unwrap().unwrap();
        assert_eq!((kept.version, &kept.envelope), (1, &stored.envelope));
        // Version 2 done properly is published.
        let v2 = plan_request(&hub, c, "wijkteam", &case_id, 2, &content, &consent, now()).await;
        let r = c.publish_safety_plan_response(v2.clone()).await.unwrap();
        assert!(!r.duplicate);
        assert_eq!(r.plan.unwrap().version, 2);
        // A version published before the hub kept request hashes and digests (as migration 0011
        // leaves older rows): a retry cannot be told from other content.
        assert_eq!(
            hub.sql("UPDATE safety_plans SET request_hash = NULL, content_digest = NULL WHERE version = 2")
                .await,
            1
        );
        let e = c.publish_safety_plan_response(v2).await.unwrap_err();
        let m = id_taken(e, &case_id, b"komt elke week op huisbezoek");
        assert!(m.contains("before the hub kept content digests"), "{m}");
        hub.stop().await;
    }
}
