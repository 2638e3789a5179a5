-- Police zorgmeldingen: one row per incident (police OIN + registration number), its fragments
-- (each an opaque envelope with provenance), and a subject index for recidive and households.
CREATE TABLE zorgmeldingen (
    zorgmelding_id      TEXT PRIMARY KEY NOT NULL,
    police_oin          TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    recipient_oin       TEXT NOT NULL,
    purpose             TEXT NOT NULL,
    subjects            TEXT NOT NULL,
    version             BIGINT NOT NULL,
    delivered_version   BIGINT NOT NULL DEFAULT 0,
    -- 1 + the log index of the latest entry that changed the melding: grows in commit order.
    cursor              BIGINT NOT NULL,
    -- The cursor of its first fragment: orders meldingen by when they began.
    created_cursor      BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    completed_at        BIGINT,
    retain_until        BIGINT NOT NULL,
    UNIQUE (police_oin, registration_number)
);
CREATE INDEX zorgmeldingen_inbox ON zorgmeldingen (recipient_oin, cursor);

CREATE TABLE zorgmelding_fragments (
    police_oin          TEXT NOT NULL,
    fragment_id         TEXT NOT NULL,
    zorgmelding_id      TEXT NOT NULL REFERENCES zorgmeldingen (zorgmelding_id),
    sequence            BIGINT NOT NULL,
    kind                TEXT NOT NULL,
    request_hash        BLOB NOT NULL,
    envelope            BLOB,
    categories          TEXT NOT NULL,
    subjects            TEXT NOT NULL,
    basis               BLOB NOT NULL,
    author_role         TEXT NOT NULL,
    author_professional TEXT NOT NULL,
    received_at         BIGINT NOT NULL,
    retain_until        BIGINT NOT NULL,
    PRIMARY KEY (police_oin, fragment_id),
    UNIQUE (zorgmelding_id, sequence)
);

CREATE TABLE zorgmelding_subjects (
    subject         TEXT NOT NULL,
    zorgmelding_id  TEXT NOT NULL,
    PRIMARY KEY (subject, zorgmelding_id)
);

-- Veilig Thuis triage of a melding (answers as codes; the advice as its code).
CREATE TABLE triages (
    triage_id       TEXT PRIMARY KEY NOT NULL,
    zorgmelding_id  TEXT NOT NULL,
    vt_oin          TEXT NOT NULL,
    answers         TEXT NOT NULL,
    acute           BOOLEAN NOT NULL,
    case_reference  TEXT NOT NULL,
    advice          TEXT NOT NULL,
    earlier_reports BIGINT NOT NULL,
    role            TEXT NOT NULL,
    professional    TEXT NOT NULL,
    recorded_at     BIGINT NOT NULL,
    -- The log index of its entry: orders triages in commit order (the latest counts).
    log_index       BIGINT NOT NULL
);
CREATE INDEX triages_melding ON triages (zorgmelding_id, log_index);

CREATE TABLE family_declines (
    zorgmelding_id  TEXT PRIMARY KEY NOT NULL,
    declined_by     TEXT NOT NULL,
    recorded_by_oin TEXT NOT NULL,
    recorded_at     BIGINT NOT NULL
);

-- Handovers from Veilig Thuis to a wijkteam: metadata, the family letter, and the re-sealed
-- envelopes (opaque to the hub).
CREATE TABLE handovers (
    sender_oin          TEXT NOT NULL,
    handover_id         TEXT NOT NULL,
    request_hash        BLOB NOT NULL,
    zorgmelding_id      TEXT NOT NULL,
    recipient_oin       TEXT NOT NULL,
    subjects            TEXT NOT NULL,
    subject_facts       TEXT NOT NULL,
    categories          TEXT NOT NULL,
    purpose             TEXT NOT NULL,
    basis               BLOB NOT NULL,
    received_for        TEXT NOT NULL,
    advice              TEXT NOT NULL,
    triage_id           TEXT NOT NULL,
    vt_contact          TEXT NOT NULL,
    wijkteam_contact    TEXT NOT NULL,
    letter              TEXT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'withheld')),
    reasons             TEXT NOT NULL DEFAULT '[]',
    consent_ids         TEXT NOT NULL DEFAULT '[]',
    sender_role         TEXT NOT NULL,
    sender_professional TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    retain_until        BIGINT NOT NULL,
    PRIMARY KEY (sender_oin, handover_id)
);
CREATE INDEX handovers_recipient ON handovers (recipient_oin, created_at);
CREATE INDEX handovers_melding ON handovers (zorgmelding_id);

CREATE TABLE handover_envelopes (
    sender_oin   TEXT NOT NULL,
    handover_id  TEXT NOT NULL,
    position     BIGINT NOT NULL,
    envelope     BLOB NOT NULL,
    PRIMARY KEY (sender_oin, handover_id, position)
);
