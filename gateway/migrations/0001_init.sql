-- The gateway's own store: what it received (still sealed), what it sent, its audit log (NEN 7513)
-- and its inbox cursor. No BSN and no plaintext is ever written here: received envelopes are
-- opened when a professional looks at one, and that look is logged in `audit`.
CREATE TABLE received (
    sender_oin      TEXT    NOT NULL,
    signal_id       TEXT    NOT NULL,
    cursor          INTEGER NOT NULL,
    purpose         TEXT    NOT NULL,
    categories      TEXT    NOT NULL, -- JSON list of convenant names
    urgency         INTEGER NOT NULL,
    basis           TEXT    NOT NULL, -- JSON list of basis references (consent:<id>, legal:<name>)
    sent_at         INTEGER,
    retain_until    INTEGER,
    envelope        BLOB    NOT NULL, -- the sealed envelope as the hub delivered it
    received_at     INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    PRIMARY KEY (sender_oin, signal_id)
);
CREATE INDEX received_by_cursor ON received (cursor);

CREATE TABLE sent (
    signal_id    TEXT    PRIMARY KEY,
    recipients   TEXT    NOT NULL, -- JSON list of OINs
    purpose      TEXT    NOT NULL,
    categories   TEXT    NOT NULL, -- JSON list
    sent_at      INTEGER NOT NULL,
    sent_by      TEXT    NOT NULL, -- the professional
    retain_until INTEGER
);

CREATE TABLE audit (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    professional TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    object       TEXT    NOT NULL
);
CREATE INDEX audit_by_professional ON audit (professional, at);

CREATE TABLE state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
