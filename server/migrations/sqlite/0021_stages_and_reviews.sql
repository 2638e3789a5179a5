-- Stages and review moments (issue 19, item 7): where a melding stands at Veilig Thuis, with the
-- review it planned; the review moment of a safety plan version; a handover left unanswered.
-- A review that falls due is told once through the notification stream (review_state
-- 'planned' -> 'reminded', in the same transaction as its log entry and notification).
CREATE TABLE melding_stages (
    vt_oin          TEXT NOT NULL,
    melding_id      TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    stage           TEXT NOT NULL,
    review_at       BIGINT,
    review_state    TEXT CHECK (review_state IN ('planned', 'reminded', 'superseded', 'erased')),
    subjects        TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    role            TEXT NOT NULL,
    professional    TEXT NOT NULL,
    set_at          BIGINT NOT NULL,
    PRIMARY KEY (vt_oin, melding_id, seq)
);
CREATE INDEX melding_stages_due ON melding_stages (review_at) WHERE review_state = 'planned';

ALTER TABLE safety_plans ADD COLUMN review_at BIGINT;
ALTER TABLE safety_plans ADD COLUMN review_state TEXT;
CREATE INDEX safety_plans_due ON safety_plans (review_at) WHERE review_state = 'planned';

-- When Veilig Thuis was told that the delivered handover is still unanswered.
ALTER TABLE handovers ADD COLUMN unanswered_notified_at BIGINT;
CREATE INDEX handovers_unanswered ON handovers (updated_at) WHERE state = 'delivered' AND unanswered_notified_at IS NULL;

-- What a reminder concerns (a melding or a handover).
ALTER TABLE notifications ADD COLUMN reference TEXT;
