-- Feedback to the melder (issue 19, item 3): Veilig Thuis tells the professional who reported
-- what it did with the melding — an outcome code and, optionally, a note sealed to the melder.
-- Only ever to the melder of that melding; decided by the convenant (purpose
-- terugkoppeling_melder) and logged as a disclosure. Idempotent on (vt_oin, feedback_id).
CREATE TABLE melding_feedback (
    vt_oin          TEXT NOT NULL,
    feedback_id     TEXT NOT NULL,
    request_hash    BLOB NOT NULL,
    content_digest  BLOB,
    melding_id      TEXT NOT NULL,
    melder_oin      TEXT NOT NULL,
    subjects        TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    note            BLOB,
    basis           BLOB NOT NULL,
    role            TEXT NOT NULL,
    professional    TEXT NOT NULL,
    sent_at         BIGINT NOT NULL,
    retain_until    BIGINT NOT NULL,
    erased_at       BIGINT,
    PRIMARY KEY (vt_oin, feedback_id)
);
CREATE INDEX melding_feedback_melding ON melding_feedback (melding_id, sent_at);
