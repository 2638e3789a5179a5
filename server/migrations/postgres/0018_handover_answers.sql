-- Handovers with an answer (issue 19, item 5): the receiving wijkteam accepts a delivered
-- handover, asks Veilig Thuis a question (sealed to Veilig Thuis; the hub keeps the envelope
-- only), or returns it with a reason code. One row per answer, in order; ACCEPTED and RETURNED
-- end the conversation.
CREATE TABLE handover_answers (
    sender_oin    TEXT NOT NULL,
    handover_id   TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    answer        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    question_id   TEXT,
    question      BYTEA,
    role          TEXT NOT NULL,
    professional  TEXT NOT NULL,
    answered_at   BIGINT NOT NULL,
    PRIMARY KEY (sender_oin, handover_id, seq)
);
