-- Veilig Thuis's information requests (issue 19, item 4): a question sealed to the organisation
-- asked, about a melding under assessment, and the answer sealed to Veilig Thuis, bound to the
-- request (or a decline with a reason). Idempotent on (vt_oin, request_id); one answer each.
CREATE TABLE information_requests (
    vt_oin                  TEXT NOT NULL,
    request_id              TEXT NOT NULL,
    request_hash            BYTEA NOT NULL,
    content_digest          BYTEA NOT NULL,
    melding_id              TEXT NOT NULL,
    recipient_oin           TEXT NOT NULL,
    subjects                TEXT NOT NULL,
    categories              TEXT NOT NULL,
    case_reference          TEXT NOT NULL,
    question                BYTEA,
    basis                   BYTEA NOT NULL,
    role                    TEXT NOT NULL,
    professional            TEXT NOT NULL,
    requested_at            BIGINT NOT NULL,
    state                   TEXT NOT NULL CHECK (state IN ('open', 'answered', 'declined')),
    answer                  BYTEA,
    answer_digest           BYTEA,
    answer_categories       TEXT NOT NULL DEFAULT '[]',
    answer_basis            BYTEA,
    decline_reason          TEXT NOT NULL DEFAULT '',
    answered_role           TEXT NOT NULL DEFAULT '',
    answered_professional   TEXT NOT NULL DEFAULT '',
    answered_at             BIGINT,
    retain_until            BIGINT NOT NULL,
    erased_at               BIGINT,
    PRIMARY KEY (vt_oin, request_id)
);
CREATE INDEX information_requests_recipient ON information_requests (recipient_oin, requested_at);
CREATE INDEX information_requests_vt ON information_requests (vt_oin, requested_at);
CREATE INDEX information_requests_expiry ON information_requests (retain_until) WHERE erased_at IS NULL;
