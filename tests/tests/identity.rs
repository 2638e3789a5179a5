//! Organisation identity by mutual TLS and professional identity by JWT, end to end, against
//! every configured store backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::{TestHub, now};
use signaalhub_client::{ClientError, HubClient};
use signaalhub_server::devkit::{self, DevCa, Subject};
use signaalhub_server::domain::directory::OrgStatus;
use signaalhub_server::store::testing::backends;
use tonic::Code;

fn expect_status(r: Result<impl std::fmt::Debug, ClientError>, code: Code, needle: &str) {
    match r {
        Err(ClientError::Status(s)) => {
            assert_eq!(s.code(), code, "message: {}", s.message());
            assert!(
                s.message().contains(needle),
                "message {:?} should contain {needle:?}",
                s.message()
            );
        }
        other => panic!("expected {code:?} containing {needle:?}, got {other:?}"),
    }
}

async fn who(
    hub: &TestHub,
    cert: (String, String),
    token: Option<String>,
) -> Result<signaalhub_client::signaalhub_proto::pb::WhoAmIResponse, ClientError> {
    let mut c = HubClient::connect(hub.options(Some(cert), token)).await?;
    c.who_am_i().await
}

#[tokio::test]
async fn happy_path_who_am_i() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut c = hub.client("school").await;
        let me = c.who_am_i().await.unwrap();
        let org = me.organization.unwrap();
        assert_eq!(org.oin, hub.org("school").info.oin);
        assert_eq!(org.sector_name, "school");
        assert_eq!(me.professional, "dev-school");
        assert_eq!(me.roles, vec!["ib_er".to_string()]);
        assert!(me.token_expires_at.unwrap().seconds > now());
        hub.stop().await;
    }
}

#[tokio::test]
async fn no_client_certificate_is_unauthenticated() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let token = hub.token("school", &hub.claims("school"));
        let mut c = HubClient::connect(hub.options(None, Some(token)))
            .await
            .unwrap();
        expect_status(
            c.who_am_i().await,
            Code::Unauthenticated,
            "no client certificate",
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn certificate_from_unknown_ca_is_refused() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let other = DevCa::generate("rogue CA").unwrap();
        let o = hub.org("school");
        let cert = other
            .issue(
                &Subject {
                    common_name: "x".into(),
                    serial_numbers: vec![o.info.oin.clone()],
                },
                &[],
            )
            .unwrap();
        let token = hub.token("school", &hub.claims("school"));
        // The handshake fails: either connecting or the first call reports it.
        let r = who(&hub, cert, Some(token)).await;
        let e = r.expect_err("a certificate from an unknown CA must be refused");
        assert!(
            matches!(e.code(), Code::Unavailable | Code::Unknown),
            "{e:?}"
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn expired_certificate_is_refused() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let o = hub.org("school");
        let cert = hub
            .ca
            .issue_with_validity(
                &Subject {
                    common_name: "x".into(),
                    serial_numbers: vec![o.info.oin.clone()],
                },
                &[],
                devkit::time_ymd(2020, 1, 1),
                devkit::time_ymd(2021, 1, 1),
            )
            .unwrap();
        let token = hub.token("school", &hub.claims("school"));
        let e = who(&hub, cert, Some(token))
            .await
            .expect_err("expired certificate must be refused");
        assert!(
            matches!(e.code(), Code::Unavailable | Code::Unknown),
            "{e:?}"
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn certificate_without_oin_or_with_two_is_unauthenticated() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let token = hub.token("school", &hub.claims("school"));
        let none = hub
            .ca
            .issue(
                &Subject {
                    common_name: "no oin".into(),
                    serial_numbers: vec![],
                },
                &[],
            )
            .unwrap();
        expect_status(
            who(&hub, none, Some(token.clone())).await,
            Code::Unauthenticated,
            "no serialNumber",
        );
        let oin = hub.org("school").info.oin.clone();
        let two = common::cert_with_two_oins(&hub.ca, &oin);
        expect_status(
            who(&hub, two, Some(token.clone())).await,
            Code::Unauthenticated,
            "2 serialNumber",
        );
        let short = hub
            .ca
            .issue(
                &Subject {
                    common_name: "short".into(),
                    serial_numbers: vec!["12345".into()],
                },
                &[],
            )
            .unwrap();
        expect_status(
            who(&hub, short, Some(token)).await,
            Code::Unauthenticated,
            "20 digits",
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn unknown_oin_is_permission_denied() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let cert = hub
            .ca
            .issue(
                &Subject {
                    common_name: "stranger".into(),
                    serial_numbers: vec!["00000001999999999999".into()],
                },
                &[],
            )
            .unwrap();
        let token = hub.token("school", &hub.claims("school"));
        expect_status(
            who(&hub, cert, Some(token)).await,
            Code::PermissionDenied,
            "not registered",
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn suspended_organisation_is_refused_at_once() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut c = hub.client("politie").await;
        c.who_am_i().await.unwrap();
        let oin = hub.org("politie").info.oin.parse().unwrap();
        hub.store
            .set_status(&oin, OrgStatus::Suspended)
            .await
            .unwrap();
        hub.directory.reload().await.unwrap();
        // Same connection, same valid token: refused now.
        expect_status(c.who_am_i().await, Code::PermissionDenied, "suspended");
        // And a new connection too.
        let mut c2 = hub.client("politie").await;
        expect_status(c2.who_am_i().await, Code::PermissionDenied, "suspended");
        // Other organisations are unaffected; the suspended one is no longer listed.
        let mut w = hub.client("wijkteam").await;
        let list = w.list_organizations(Default::default()).await.unwrap();
        assert!(
            list.organizations
                .iter()
                .all(|o| o.sector_name != "politie")
        );
        hub.store.set_status(&oin, OrgStatus::Active).await.unwrap();
        hub.directory.reload().await.unwrap();
        c.who_am_i().await.unwrap();
        hub.stop().await;
    }
}

#[tokio::test]
async fn suspension_by_another_process_is_seen_by_polling() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut c = hub.client("huisarts").await;
        c.who_am_i().await.unwrap();
        // Another process (the `org suspend` CLI, another instance) changes the store only.
        let oin = hub.org("huisarts").info.oin.parse().unwrap();
        hub.store
            .set_status(&oin, OrgStatus::Suspended)
            .await
            .unwrap();
        // The hub polls every 200 ms in tests; wait for the outcome, not for a fixed time.
        let mut refused = false;
        for _ in 0..100 {
            if let Err(e) = c.who_am_i().await {
                assert_eq!(e.code(), Code::PermissionDenied);
                refused = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            refused,
            "suspension was not picked up by the directory poller"
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn token_failures_are_unauthenticated_with_actionable_messages() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let school = hub.org("school").clone();
        let cert = (school.cert_pem.clone(), school.key_pem.clone());

        // Missing token.
        expect_status(
            who(&hub, cert.clone(), None).await,
            Code::Unauthenticated,
            "no bearer token",
        );

        // Expired.
        let mut c = hub.claims("school");
        c["exp"] = (now() - 3600).into();
        expect_status(
            who(&hub, cert.clone(), Some(hub.token("school", &c))).await,
            Code::Unauthenticated,
            "expired",
        );

        // Signed by another organisation's key, claiming this organisation's key id.
        let politie = hub.org("politie");
        let forged = devkit::mint_token(
            &politie.token_pkcs8,
            &school.info.token_key_id,
            &hub.claims("school"),
        )
        .unwrap();
        expect_status(
            who(&hub, cert.clone(), Some(forged)).await,
            Code::Unauthenticated,
            "does not verify",
        );

        // Another organisation's token (its key id is not registered for this organisation).
        let theirs = hub.token("politie", &hub.claims("politie"));
        expect_status(
            who(&hub, cert.clone(), Some(theirs)).await,
            Code::Unauthenticated,
            "no current token key",
        );

        // Another audience.
        let mut c = hub.claims("school");
        c["aud"] = "some-other-service".into();
        expect_status(
            who(&hub, cert.clone(), Some(hub.token("school", &c))).await,
            Code::Unauthenticated,
            "audience",
        );

        // Missing aud (an expected audience alone must not make it optional).
        let mut c = hub.claims("school");
        c.as_object_mut().unwrap().remove("aud");
        expect_status(
            who(&hub, cert.clone(), Some(hub.token("school", &c))).await,
            Code::Unauthenticated,
            "`aud`",
        );

        // Missing sub, iss, exp.
        for claim in ["sub", "iss", "exp"] {
            let mut c = hub.claims("school");
            c.as_object_mut().unwrap().remove(claim);
            expect_status(
                who(&hub, cert.clone(), Some(hub.token("school", &c))).await,
                Code::Unauthenticated,
                &format!("`{claim}`"),
            );
        }

        // Wrong issuer.
        let mut c = hub.claims("school");
        c["iss"] = "https://idp.elsewhere.example".into();
        expect_status(
            who(&hub, cert.clone(), Some(hub.token("school", &c))).await,
            Code::Unauthenticated,
            "issuer",
        );

        // Wrong algorithm: HS256 with the key id of a registered key.
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(school.info.token_key_id.clone());
        let hs = jsonwebtoken::encode(
            &header,
            &hub.claims("school"),
            &jsonwebtoken::EncodingKey::from_secret(b"guessable"),
        )
        .unwrap();
        expect_status(
            who(&hub, cert.clone(), Some(hs)).await,
            Code::Unauthenticated,
            "EdDSA",
        );

        // Token for another organisation than the certificate's, signed with this org's key.
        let mut c = hub.claims("school");
        c["org"] = politie.info.oin.clone().into();
        expect_status(
            who(&hub, cert.clone(), Some(hub.token("school", &c))).await,
            Code::Unauthenticated,
            "client certificate is of organisation",
        );

        // A role that is not a convenant name (free text, a person's name): the whole token is
        // refused, so a name can never travel as a role into a log entry.
        let mut c = hub.claims("school");
        c["roles"] = serde_json::json!(["ib_er", "Piet Bakker"]);
        expect_status(
            who(&hub, cert.clone(), Some(hub.token("school", &c))).await,
            Code::Unauthenticated,
            "role names of the convenant",
        );

        // Garbage.
        expect_status(
            who(&hub, cert.clone(), Some("not-a-jwt".into())).await,
            Code::Unauthenticated,
            "well-formed",
        );

        // No secret in any message: the token itself is never echoed.
        let t = hub.token("school", &{
            let mut c = hub.claims("school");
            c["aud"] = "x".into();
            c
        });
        match who(&hub, cert.clone(), Some(t.clone())).await {
            Err(ClientError::Status(s)) => assert!(!s.message().contains(&t[..20])),
            other => panic!("{other:?}"),
        }
        hub.stop().await;
    }
}

#[tokio::test]
async fn retired_token_key_stops_verifying_at_once() {
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut c = hub.client("wijkteam").await;
        c.who_am_i().await.unwrap();
        let o = hub.org("wijkteam");
        hub.store
            .retire_key(
                &o.info.oin.parse().unwrap(),
                signaalhub_server::domain::directory::KeyUsage::Token,
                &o.info.token_key_id,
            )
            .await
            .unwrap();
        hub.directory.reload().await.unwrap();
        // The verified-token cache must not keep a retired key's token alive.
        expect_status(
            c.who_am_i().await,
            Code::Unauthenticated,
            "no current token key",
        );
        hub.stop().await;
    }
}

/// A key pair an identity provider would hold, made at test time by the `openssl` CLI (no
/// private key is ever committed): the private key (PKCS#8 PEM) and the public key (SPKI PEM).
struct IdpKey {
    private_pem: Vec<u8>,
    public_pem: Vec<u8>,
    public_file: std::path::PathBuf,
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("these tests make their keys with the `openssl` CLI: install openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `genpkey_args` e.g. `["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]`.
fn idp_key(dir: &std::path::Path, name: &str, genpkey_args: &[&str]) -> IdpKey {
    let private = format!("{name}.key.pem");
    let public = format!("{name}.pub.pem");
    let mut args = vec!["genpkey"];
    args.extend_from_slice(genpkey_args);
    args.extend_from_slice(&["-out", &private]);
    openssl(dir, &args);
    openssl(dir, &["pkey", "-in", &private, "-pubout", "-out", &public]);
    IdpKey {
        private_pem: std::fs::read(dir.join(&private)).unwrap(),
        public_pem: std::fs::read(dir.join(&public)).unwrap(),
        public_file: dir.join(public),
    }
}

fn rsa_key(dir: &std::path::Path, name: &str, bits: u32) -> IdpKey {
    let opt = format!("rsa_keygen_bits:{bits}");
    idp_key(dir, name, &["-algorithm", "RSA", "-pkeyopt", &opt])
}

fn p256_key(dir: &std::path::Path, name: &str) -> IdpKey {
    idp_key(
        dir,
        name,
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    )
}

/// Registers `key` as a token key of `sector` the way `signaalhub org add-key --usage token`
/// does (PEM SPKI through admin::read_public_key), and reloads the directory.
async fn register_token_key(hub: &TestHub, sector: &str, kid: &str, key: &IdpKey) {
    use signaalhub_server::domain::directory::{KeyUsage, OrgKey};
    let public_key =
        signaalhub_server::admin::read_public_key(KeyUsage::Token, &key.public_file).unwrap();
    hub.store
        .add_key(&OrgKey {
            oin: hub.org(sector).info.oin.parse().unwrap(),
            usage: KeyUsage::Token,
            key_id: kid.into(),
            public_key,
            created_at: 0,
            retired_at: None,
        })
        .await
        .unwrap();
    hub.directory.reload().await.unwrap();
}

fn sign(
    alg: jsonwebtoken::Algorithm,
    kid: &str,
    claims: &serde_json::Value,
    key: &jsonwebtoken::EncodingKey,
) -> String {
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn rsa_signer(k: &IdpKey) -> jsonwebtoken::EncodingKey {
    jsonwebtoken::EncodingKey::from_rsa_pem(&k.private_pem).unwrap()
}

fn ec_signer(k: &IdpKey) -> jsonwebtoken::EncodingKey {
    jsonwebtoken::EncodingKey::from_ec_pem(&k.private_pem).unwrap()
}

/// A token with a hand-written header and signature part (for `alg` values the JWT library
/// will not write, such as `none`).
fn raw_token(header: &serde_json::Value, claims: &serde_json::Value, signature: &str) -> String {
    use base64::Engine;
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    format!("{}.{}.{signature}", b64(header), b64(claims))
}

#[tokio::test]
async fn rs256_and_es256_tokens_from_an_identity_provider_key_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let rsa = rsa_key(dir.path(), "entra", 2048);
    let ec = p256_key(dir.path(), "keycloak");
    for b in backends() {
        let hub = TestHub::start(b).await;
        register_token_key(&hub, "school", "entra-rs256", &rsa).await;
        register_token_key(&hub, "school", "keycloak-es256", &ec).await;
        let school = hub.org("school").clone();
        let cert = (school.cert_pem.clone(), school.key_pem.clone());
        let claims = hub.claims("school");
        for token in [
            sign(
                jsonwebtoken::Algorithm::RS256,
                "entra-rs256",
                &claims,
                &rsa_signer(&rsa),
            ),
            sign(
                jsonwebtoken::Algorithm::ES256,
                "keycloak-es256",
                &claims,
                &ec_signer(&ec),
            ),
            // The organisation's Ed25519 key keeps working next to them.
            hub.token("school", &claims),
        ] {
            // Twice: the second answer comes from the verified-token cache.
            for _ in 0..2 {
                let me = who(&hub, cert.clone(), Some(token.clone())).await.unwrap();
                assert_eq!(me.professional, "dev-school");
                assert_eq!(me.roles, vec!["ib_er".to_string()]);
            }
        }
        // A retired RSA key stops verifying at once, cache or not.
        hub.store
            .retire_key(
                &school.info.oin.parse().unwrap(),
                signaalhub_server::domain::directory::KeyUsage::Token,
                "entra-rs256",
            )
            .await
            .unwrap();
        hub.directory.reload().await.unwrap();
        let t = sign(
            jsonwebtoken::Algorithm::RS256,
            "entra-rs256",
            &claims,
            &rsa_signer(&rsa),
        );
        expect_status(
            who(&hub, cert.clone(), Some(t)).await,
            Code::Unauthenticated,
            "no current token key",
        );
        hub.stop().await;
    }
}

#[tokio::test]
async fn algorithm_confusion_is_refused() {
    use jsonwebtoken::{Algorithm, EncodingKey};
    let dir = tempfile::tempdir().unwrap();
    let rsa = rsa_key(dir.path(), "entra", 2048);
    let ec = p256_key(dir.path(), "keycloak");
    let other_rsa = rsa_key(dir.path(), "attacker", 2048);
    for b in backends() {
        let hub = TestHub::start(b).await;
        register_token_key(&hub, "school", "entra-rs256", &rsa).await;
        register_token_key(&hub, "school", "keycloak-es256", &ec).await;
        let school = hub.org("school").clone();
        let ed_kid = school.info.token_key_id.clone();
        let cert = (school.cert_pem.clone(), school.key_pem.clone());
        let claims = hub.claims("school");
        let refused = |token: String, needle: &'static str| {
            let cert = cert.clone();
            let hub = &hub;
            async move {
                expect_status(
                    who(hub, cert, Some(token)).await,
                    Code::Unauthenticated,
                    needle,
                )
            }
        };

        // The RS256 key's public key as an HS256 secret: as the PEM text, as the SPKI DER, and
        // as the bytes the hub stores; the Ed25519 key's raw bytes likewise.
        let spki_der: Vec<u8> = rustls::pki_types::pem::PemObject::from_pem_slice(&rsa.public_pem)
            .map(|k: rustls::pki_types::SubjectPublicKeyInfoDer<'static>| k.to_vec())
            .unwrap();
        let keys = hub
            .store
            .list_keys(Some(&school.info.oin.parse().unwrap()))
            .await
            .unwrap();
        let stored = |kid: &str| {
            keys.iter()
                .find(|k| k.key_id == kid)
                .unwrap()
                .public_key
                .clone()
        };
        assert_eq!(
            stored("entra-rs256"),
            spki_der,
            "RSA keys are stored as their SPKI DER"
        );
        for (kid, secret) in [
            ("entra-rs256", rsa.public_pem.clone()),
            ("entra-rs256", spki_der.clone()),
            ("keycloak-es256", ec.public_pem.clone()),
            ("keycloak-es256", stored("keycloak-es256")),
            (ed_kid.as_str(), stored(&ed_kid)),
        ] {
            for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
                let t = sign(alg, kid, &claims, &EncodingKey::from_secret(&secret));
                refused(t, "is not accepted").await;
            }
        }

        // `alg: none` (any spelling), with and without a signature part.
        for alg in ["none", "None", "NONE"] {
            for sig in ["", "AAAA"] {
                let t = raw_token(
                    &serde_json::json!({"alg": alg, "typ": "JWT", "kid": "entra-rs256"}),
                    &claims,
                    sig,
                );
                refused(t, "is not accepted").await;
            }
        }
        // No `alg` at all.
        refused(
            raw_token(&serde_json::json!({"kid": "entra-rs256"}), &claims, ""),
            "no `alg`",
        )
        .await;

        // Each key with another accepted algorithm's header, signed by a key of that algorithm:
        // the header never picks the algorithm, and the message does not say the key's own.
        for (kid, alg, signer, key_alg) in [
            (
                "keycloak-es256",
                Algorithm::RS256,
                rsa_signer(&rsa),
                "ES256",
            ),
            ("entra-rs256", Algorithm::ES256, ec_signer(&ec), "RS256"),
            (ed_kid.as_str(), Algorithm::ES256, ec_signer(&ec), "EdDSA"),
            (ed_kid.as_str(), Algorithm::RS256, rsa_signer(&rsa), "EdDSA"),
            (
                "entra-rs256",
                Algorithm::EdDSA,
                EncodingKey::from_ed_der(&school.token_pkcs8),
                "RS256",
            ),
        ] {
            let t = sign(alg, kid, &claims, &signer);
            match who(&hub, cert.clone(), Some(t)).await {
                Err(ClientError::Status(s)) => {
                    assert_eq!(s.code(), Code::Unauthenticated, "{}", s.message());
                    assert!(
                        s.message()
                            .contains("is not the algorithm registered for key"),
                        "{}",
                        s.message()
                    );
                    assert!(
                        !s.message().contains(key_alg),
                        "leaks the key's algorithm: {}",
                        s.message()
                    );
                }
                other => panic!("{kid} with {alg:?}: expected UNAUTHENTICATED, got {other:?}"),
            }
        }

        // The right algorithm but another key (an attacker's RSA key under the IdP's kid).
        let t = sign(
            Algorithm::RS256,
            "entra-rs256",
            &claims,
            &rsa_signer(&other_rsa),
        );
        refused(t, "does not verify").await;
        // Other RSA and EC algorithms than the pinned ones.
        for alg in ["RS384", "RS512", "PS256", "ES384"] {
            let t = raw_token(
                &serde_json::json!({"alg": alg, "typ": "JWT", "kid": "entra-rs256"}),
                &claims,
                "AAAA",
            );
            refused(t, "is not accepted").await;
        }

        // After all that, the genuine tokens still pass.
        let t = sign(Algorithm::RS256, "entra-rs256", &claims, &rsa_signer(&rsa));
        who(&hub, cert.clone(), Some(t)).await.unwrap();
        hub.stop().await;
    }
}

#[tokio::test]
async fn token_key_registration_checks_type_and_size() {
    use signaalhub_server::admin::read_public_key;
    use signaalhub_server::domain::directory::{KeyUsage, OrgKey};
    let dir = tempfile::tempdir().unwrap();
    let err = |k: &IdpKey| {
        read_public_key(KeyUsage::Token, &k.public_file)
            .unwrap_err()
            .to_string()
    };

    let short = rsa_key(dir.path(), "short", 1024);
    let e = err(&short);
    assert!(e.contains("1024 bits is too short"), "{e}");
    assert!(e.contains("at least 2048"), "{e}");
    let e = err(&idp_key(
        dir.path(),
        "p384",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    ));
    assert!(e.contains("P-384") && e.contains("P-256"), "{e}");
    let e = err(&idp_key(dir.path(), "ed448", &["-algorithm", "ED448"]));
    assert!(e.contains("Ed448 key is not accepted"), "{e}");
    let e = err(&idp_key(dir.path(), "x25519", &["-algorithm", "X25519"]));
    assert!(e.contains("X25519 key is not accepted"), "{e}");
    // A private key file, or the PKCS#1 form of an RSA public key: told what to run instead.
    let ok = rsa_key(dir.path(), "ok", 2048);
    let private = dir.path().join("ok.key.pem");
    let e = read_public_key(KeyUsage::Token, &private)
        .unwrap_err()
        .to_string();
    assert!(e.contains("private key") && e.contains("-pubout"), "{e}");
    openssl(
        dir.path(),
        &[
            "rsa",
            "-pubin",
            "-in",
            "ok.pub.pem",
            "-RSAPublicKey_out",
            "-out",
            "ok.pkcs1.pem",
        ],
    );
    let e = read_public_key(KeyUsage::Token, &dir.path().join("ok.pkcs1.pem"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("RSA PUBLIC KEY") && e.contains("openssl rsa"),
        "{e}"
    );
    // 2048 and 4096 bits are fine; the Ed25519 form stays the raw 32 bytes.
    assert!(read_public_key(KeyUsage::Token, &ok.public_file).is_ok());
    let big = rsa_key(dir.path(), "big", 4096);
    assert!(read_public_key(KeyUsage::Token, &big.public_file).is_ok());
    let ed = idp_key(dir.path(), "ed", &["-algorithm", "ED25519"]);
    assert_eq!(
        read_public_key(KeyUsage::Token, &ed.public_file)
            .unwrap()
            .len(),
        32
    );

    // The store refuses token key bytes of no accepted type, whatever path they came by.
    for b in backends() {
        let hub = TestHub::start(b).await;
        let mut short_spki: Vec<u8> =
            rustls::pki_types::pem::PemObject::from_pem_slice(&short.public_pem)
                .map(|k: rustls::pki_types::SubjectPublicKeyInfoDer<'static>| k.to_vec())
                .unwrap();
        for bad in [vec![0u8; 31], std::mem::take(&mut short_spki)] {
            let r = hub
                .store
                .add_key(&OrgKey {
                    oin: hub.org("school").info.oin.parse().unwrap(),
                    usage: KeyUsage::Token,
                    key_id: "bad".into(),
                    public_key: bad,
                    created_at: 0,
                    retired_at: None,
                })
                .await;
            assert!(
                matches!(r, Err(signaalhub_server::store::StoreError::Invalid(_))),
                "{r:?}"
            );
        }
        hub.stop().await;
    }
}
