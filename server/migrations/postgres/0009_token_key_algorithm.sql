-- Token keys may be Ed25519, RSA (2048-4096 bits) or EC P-256 (docs/SECURITY.md, "Token keys and
-- algorithm pinning"). Stored form: an Ed25519 key as its raw 32 bytes (unchanged), an RSA or
-- P-256 key as its DER SubjectPublicKeyInfo. The hub derives the key's one JWT algorithm from
-- those bytes; the `algorithm` column records the same name for people reading the database:
-- 'EdDSA', 'RS256' or 'ES256' for token keys. Existing token rows (all Ed25519, written as
-- 'Ed25519') keep their key bytes and are renamed to the JWT algorithm they are pinned to.
UPDATE organization_keys SET algorithm = 'EdDSA' WHERE usage = 'token' AND algorithm = 'Ed25519';
