-- Veilig Thuis's whole chain (issue 19, items 1 and 2).
-- Every melding can be triaged: a police zorgmelding or a signal sent to Veilig Thuis under the
-- meldcode. Triages, family refusals and handovers refer to the melding by its reference:
-- "zm_…" for a zorgmelding, "signal/<sender OIN>/<signal id>" for a signal (ids::MeldingRef).
ALTER TABLE triages RENAME COLUMN zorgmelding_id TO melding_id;
ALTER TABLE family_declines RENAME COLUMN zorgmelding_id TO melding_id;
ALTER TABLE handovers RENAME COLUMN zorgmelding_id TO melding_id;

-- The triagist decides: one decision per triage, which may differ from the advice (then with a
-- reason code from the hub's list). A triage without a row here follows its advice.
CREATE TABLE triage_decisions (
    triage_id     TEXT PRIMARY KEY NOT NULL,
    melding_id    TEXT NOT NULL,
    vt_oin        TEXT NOT NULL,
    decision      TEXT NOT NULL,
    reason        TEXT NOT NULL,
    role          TEXT NOT NULL,
    professional  TEXT NOT NULL,
    decided_at    BIGINT NOT NULL
);

-- The decision a handover followed (JOINT_VISIT or WIJKTEAM_ALONE; '' for one made before
-- decisions were recorded, which followed its advice).
ALTER TABLE handovers ADD COLUMN decision TEXT NOT NULL DEFAULT '';
