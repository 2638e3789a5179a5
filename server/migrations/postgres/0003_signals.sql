-- Signals: the sealed envelope (opaque to the hub) and the metadata the policy decides on.
CREATE TABLE signals (
    sender_oin      TEXT NOT NULL,
    signal_id       TEXT NOT NULL,
    request_hash    BYTEA NOT NULL,
    envelope        BYTEA,
    purpose         TEXT NOT NULL,
    categories      TEXT NOT NULL,
    urgency         BIGINT NOT NULL,
    basis           BYTEA NOT NULL,
    subjects        TEXT NOT NULL,
    subject_facts   TEXT NOT NULL,
    sender_role     TEXT NOT NULL,
    sender_professional TEXT NOT NULL,
    received_for    TEXT,
    inform_exemption TEXT,
    created_at      BIGINT NOT NULL,
    retain_until    BIGINT NOT NULL,
    PRIMARY KEY (sender_oin, signal_id)
);

-- One row per recipient. `cursor` is 1 + the log index of the signal_sent entry: assigned under the
-- log's sequencing lock, so cursors grow in commit order and a reader never skips a late commit.
CREATE TABLE deliveries (
    recipient_oin   TEXT NOT NULL,
    sender_oin      TEXT NOT NULL,
    signal_id       TEXT NOT NULL,
    cursor          BIGINT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'acknowledged', 'withheld', 'withdrawn')),
    reasons         TEXT NOT NULL DEFAULT '[]',
    consent_ids     TEXT NOT NULL DEFAULT '[]',
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (recipient_oin, sender_oin, signal_id)
);
CREATE INDEX deliveries_inbox ON deliveries (recipient_oin, cursor);
CREATE INDEX deliveries_signal ON deliveries (sender_oin, signal_id);

-- Which pending deliveries rely on which consent, so a withdrawal finds them at once.
CREATE TABLE delivery_consents (
    consent_id      TEXT NOT NULL,
    recipient_oin   TEXT NOT NULL,
    sender_oin      TEXT NOT NULL,
    signal_id       TEXT NOT NULL,
    PRIMARY KEY (consent_id, recipient_oin, sender_oin, signal_id)
);
