-- The family's rights (issue 20, items 1 and 3).
--
-- A disclosure whose decision says "inform the family" (a flow with `inform_subject`) leaves an
-- obligation of the disclosing organisation, written in the transaction that sequences the
-- disclosure's log entry; it is closed by a recorded information act (letter, conversation,
-- digital message; the date) or a recorded exemption with its ground code. One per disclosure
-- entry (keyed by its log index). No subject, no text: the entry at log_idx says whom it concerns.
CREATE TABLE inform_obligations (
    log_idx                 BIGINT NOT NULL PRIMARY KEY,
    org_oin                 TEXT NOT NULL,
    event                   TEXT NOT NULL,
    reference               TEXT NOT NULL DEFAULT '',
    recipient_oin           TEXT NOT NULL DEFAULT '',
    purpose                 TEXT NOT NULL DEFAULT '',
    created_at              BIGINT NOT NULL,
    state                   TEXT NOT NULL CHECK (state IN ('OPEN', 'INFORMED', 'EXEMPTED')),
    act                     TEXT NOT NULL DEFAULT '',
    informed_on             BIGINT,
    ground                  TEXT NOT NULL DEFAULT '',
    closed_role             TEXT NOT NULL DEFAULT '',
    closed_professional     TEXT NOT NULL DEFAULT '',
    closed_at               BIGINT,
    overdue_notified_at     BIGINT
);
CREATE INDEX inform_obligations_org ON inform_obligations (org_oin, state, log_idx);
CREATE INDEX inform_obligations_due ON inform_obligations (created_at) WHERE state = 'OPEN' AND overdue_notified_at IS NULL;

-- A request of the family about their data at one organisation (objection, correction,
-- restriction, erasure; AVG art. 16-18, 21), recorded by that organisation or its privacy
-- officer, decided with a reason code. `scope` holds the log indices of the organisation's
-- disclosures about the person the request covers (JSON list); `recorded_idx` the index of the
-- entry that recorded it (whose subjects say whom it concerns). No subject, no text at rest.
CREATE TABLE family_requests (
    org_oin                 TEXT NOT NULL,
    request_id              TEXT NOT NULL,
    kind                    TEXT NOT NULL CHECK (kind IN ('OBJECTION', 'CORRECTION', 'RESTRICTION', 'ERASURE')),
    received_on             BIGINT NOT NULL,
    scope                   TEXT NOT NULL,
    recorded_idx            BIGINT NOT NULL,
    recorded_role           TEXT NOT NULL,
    recorded_professional   TEXT NOT NULL,
    recorded_at             BIGINT NOT NULL,
    state                   TEXT NOT NULL CHECK (state IN ('OPEN', 'GRANTED', 'REFUSED')),
    decision_reason         TEXT NOT NULL DEFAULT '',
    decided_role            TEXT NOT NULL DEFAULT '',
    decided_professional    TEXT NOT NULL DEFAULT '',
    decided_at              BIGINT,
    PRIMARY KEY (org_oin, request_id)
);
CREATE INDEX family_requests_org ON family_requests (org_oin, recorded_at);

-- A granted request told to an organisation that received the data (AVG art. 19): which of its
-- deliveries it concerns (references, JSON list), when told, and its acknowledgement.
CREATE TABLE family_request_notices (
    org_oin                 TEXT NOT NULL,
    request_id              TEXT NOT NULL,
    recipient_oin           TEXT NOT NULL,
    kind                    TEXT NOT NULL,
    refs                    TEXT NOT NULL,
    notified_at             BIGINT NOT NULL,
    acknowledged_at         BIGINT,
    acknowledged_role       TEXT NOT NULL DEFAULT '',
    acknowledged_professional TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_oin, request_id, recipient_oin)
);
CREATE INDEX family_request_notices_recipient ON family_request_notices (recipient_oin, notified_at);
