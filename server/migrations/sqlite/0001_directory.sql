-- Directory of participating organisations, their published keys, and hub metadata.
CREATE TABLE organizations (
    oin            TEXT PRIMARY KEY NOT NULL,
    name           TEXT NOT NULL,
    sector         TEXT NOT NULL,
    region         TEXT NOT NULL,
    contact_point  TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    token_issuer   TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX organizations_sector ON organizations (sector, region);

CREATE TABLE organization_expertise (
    oin  TEXT NOT NULL REFERENCES organizations (oin) ON DELETE CASCADE,
    tag  TEXT NOT NULL,
    PRIMARY KEY (oin, tag)
);
CREATE INDEX organization_expertise_tag ON organization_expertise (tag);

-- usage: 'token' (JWT verification, Ed25519 SPKI DER), 'encryption' (X25519 raw), 'signing' (Ed25519 raw).
CREATE TABLE organization_keys (
    oin         TEXT NOT NULL REFERENCES organizations (oin) ON DELETE CASCADE,
    usage       TEXT NOT NULL CHECK (usage IN ('token', 'encryption', 'signing')),
    key_id      TEXT NOT NULL,
    algorithm   TEXT NOT NULL,
    public_key  BLOB NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT,
    PRIMARY KEY (oin, usage, key_id)
);

-- Counters other instances poll: 'directory_generation' changes with every directory write.
CREATE TABLE hub_meta (
    key    TEXT PRIMARY KEY NOT NULL,
    value  BIGINT NOT NULL
);
INSERT INTO hub_meta (key, value) VALUES ('directory_generation', 1);
