-- Consents (no BSN: subject is the keyed pseudonym; givers are references, never names).
CREATE TABLE consents (
    consent_id          TEXT PRIMARY KEY NOT NULL,
    subject             TEXT NOT NULL,
    recorded_by_oin     TEXT NOT NULL,
    recorded_by         TEXT NOT NULL,
    givers              TEXT NOT NULL,
    recipients          TEXT NOT NULL,
    purposes            TEXT NOT NULL,
    categories          TEXT NOT NULL,
    valid_from          BIGINT NOT NULL,
    valid_until         BIGINT NOT NULL,
    explicit_consent    BOOLEAN NOT NULL,
    evidence_reference  TEXT,
    subject_facts       TEXT NOT NULL,
    recorded_at         BIGINT NOT NULL,
    withdrawn_at        BIGINT,
    withdrawn_by        TEXT,
    retain_until        BIGINT NOT NULL
);
CREATE INDEX consents_subject ON consents (subject);

-- The disclosure log. `entry` holds the canonical bytes of the leaf (leaf hash = SHA-256(0x00 || entry));
-- no readable personal data is in it. Sequencing happens in the act's transaction (log_state row);
-- integration into tiles and checkpoints happens afterwards, off the commit path.
CREATE TABLE log_state (
    id          INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    size        BIGINT NOT NULL
);
INSERT INTO log_state (id, size) VALUES (1, 0);

-- How far the integrator has folded entries into tiles (its own row, so integration never waits
-- on the sequencing lock that request transactions hold).
CREATE TABLE log_integration (
    id          INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    integrated  BIGINT NOT NULL
);
INSERT INTO log_integration (id, integrated) VALUES (1, 0);

CREATE TABLE log_entries (
    idx         BIGINT PRIMARY KEY NOT NULL,
    entry       BYTEA NOT NULL,
    -- The professional's id at their organisation, outside the leaf so it can be erased with the
    -- rest of the personal data at the end of retention without breaking the log.
    professional TEXT,
    created_at  BIGINT NOT NULL
);

CREATE TABLE log_subject_index (
    subject  TEXT NOT NULL,
    idx      BIGINT NOT NULL,
    PRIMARY KEY (subject, idx)
);

CREATE TABLE log_org_index (
    oin  TEXT NOT NULL,
    idx  BIGINT NOT NULL,
    PRIMARY KEY (oin, idx)
);

CREATE TABLE log_tiles (
    level   BIGINT NOT NULL,
    idx     BIGINT NOT NULL,
    hashes  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE log_checkpoints (
    tree_size   BIGINT PRIMARY KEY NOT NULL,
    note        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
