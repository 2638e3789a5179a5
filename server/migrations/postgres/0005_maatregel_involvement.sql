-- Step 5: the maatregel register, the involvement register with cases (casusregie), the safety
-- plan (sealed; the hub keeps metadata only) and per-organisation notifications.
-- Subjects are HMAC pseudonyms only; no BSN, no content.

-- Child protection measures, registered by the jeugdbescherming sector.
CREATE TABLE maatregelen (
    maatregel_id        TEXT PRIMARY KEY,
    subject             TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('ots', 'voogdij', 'machtiging_uithuisplaatsing', 'jeugdreclassering')),
    starts_at           BIGINT NOT NULL,
    ends_at             BIGINT,
    responsible_oin     TEXT NOT NULL,
    contact_point       TEXT NOT NULL,
    registered_by_oin   TEXT NOT NULL,
    registered_by       TEXT NOT NULL,
    registered_role     TEXT NOT NULL,
    registered_at       BIGINT NOT NULL,
    ended_at            BIGINT,
    -- Set when ended: ended_at + the retention of purpose maatregel_afstemming.
    retain_until        BIGINT
);
CREATE INDEX maatregelen_subject ON maatregelen (subject);
CREATE INDEX maatregelen_retention ON maatregelen (retain_until) WHERE retain_until IS NOT NULL;

-- A case: the organisations involved with one person or household. `merged_into` points to the
-- case that absorbed this one when a registration joined two cases; `created_seq` (the register
-- lock's version when it was formed) orders cases exactly, even within one second.
CREATE TABLE cases (
    case_id             TEXT PRIMARY KEY,
    created_at          BIGINT NOT NULL,
    created_seq         BIGINT NOT NULL,
    coordinator_oin     TEXT,
    coordinator_since   BIGINT,
    plan_version        BIGINT NOT NULL DEFAULT 0,
    merged_into         TEXT
);

-- Involvements: who is involved with whom (no reason, no content). `basis` is the encoded
-- signaalhub.v1.Basis the organisation presented for telling others.
CREATE TABLE involvements (
    involvement_id      TEXT PRIMARY KEY,
    subject             TEXT NOT NULL,
    org_oin             TEXT NOT NULL,
    contact_professional TEXT NOT NULL,
    role                TEXT NOT NULL,
    registered_by       TEXT NOT NULL,
    basis               BYTEA NOT NULL,
    subject_facts       TEXT NOT NULL,
    started_at          BIGINT NOT NULL,
    registered_at       BIGINT NOT NULL,
    ended_at            BIGINT,
    -- Set when ended: ended_at + the retention of purpose casusafstemming. The retention sweeper
    -- erases the row (and its persons) after this time.
    retain_until        BIGINT,
    case_id             TEXT
);
CREATE UNIQUE INDEX involvements_active ON involvements (org_oin, subject) WHERE ended_at IS NULL;
CREATE INDEX involvements_subject ON involvements (subject);
CREATE INDEX involvements_case ON involvements (case_id);
CREATE INDEX involvements_retention ON involvements (retain_until) WHERE retain_until IS NOT NULL;

-- The persons an involvement covers: its subject and the household members it declared
-- (pseudonyms). Two involvements match when these sets meet.
CREATE TABLE involvement_persons (
    involvement_id      TEXT NOT NULL,
    person              TEXT NOT NULL,
    PRIMARY KEY (involvement_id, person)
);
CREATE INDEX involvement_persons_person ON involvement_persons (person);

-- One row whose update serialises registrations and endings across hub instances, so that two
-- organisations registering at once always see each other.
CREATE TABLE involvement_lock (
    id                  BIGINT PRIMARY KEY,
    version             BIGINT NOT NULL
);
INSERT INTO involvement_lock (id, version) VALUES (1, 0);

CREATE TABLE coordinator_proposals (
    proposal_id         TEXT PRIMARY KEY,
    case_id             TEXT NOT NULL,
    proposed_oin        TEXT NOT NULL,
    proposed_by_oin     TEXT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'declined', 'superseded')),
    created_at          BIGINT NOT NULL,
    decided_at          BIGINT
);
CREATE INDEX coordinator_proposals_case ON coordinator_proposals (case_id);

-- Safety plan versions: the sealed envelope (opaque to the hub) and which agreement concerns whom.
CREATE TABLE safety_plans (
    case_id             TEXT NOT NULL,
    version             BIGINT NOT NULL,
    author_oin          TEXT NOT NULL,
    author_professional TEXT NOT NULL,
    envelope            BYTEA NOT NULL,
    sealed_to           TEXT NOT NULL,
    agreements          TEXT NOT NULL,
    published_at        BIGINT NOT NULL,
    retain_until        BIGINT NOT NULL,
    PRIMARY KEY (case_id, version)
);
CREATE INDEX safety_plans_retention ON safety_plans (retain_until);

CREATE TABLE safety_plan_confirmations (
    case_id             TEXT NOT NULL,
    version             BIGINT NOT NULL,
    agreement_id        TEXT NOT NULL,
    oin                 TEXT NOT NULL,
    professional        TEXT NOT NULL,
    confirmed_at        BIGINT NOT NULL,
    PRIMARY KEY (case_id, version, agreement_id, oin)
);

-- Notifications per organisation. `cursor` is 1 + the log index of the entry recording the act
-- towards that organisation: assigned under the log's sequencing lock, so cursors grow in commit
-- order and a reader never skips a late commit.
CREATE TABLE notifications (
    recipient_oin       TEXT NOT NULL,
    cursor              BIGINT NOT NULL,
    kind                TEXT NOT NULL,
    at                  BIGINT NOT NULL,
    actor_oin           TEXT NOT NULL,
    actor_professional  TEXT NOT NULL,
    case_id             TEXT,
    maatregel_id        TEXT,
    involvement_id      TEXT,
    proposal_id         TEXT,
    plan_version        BIGINT,
    summary_nl          TEXT NOT NULL,
    retain_until        BIGINT NOT NULL,
    PRIMARY KEY (recipient_oin, cursor)
);
CREATE INDEX notifications_retention ON notifications (retain_until);
