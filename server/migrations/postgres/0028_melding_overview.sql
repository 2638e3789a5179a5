-- Veilig Thuis's overview of its meldingen (issue 18; TriageService.ListMeldingen): one row per
-- melding delivered to a Veilig Thuis — a police zorgmelding (from its first fragment) or a
-- meldcode signal (once delivered) — with what the list filters and sorts on, kept in the
-- transactions that change it (delivery, a new stage; erased with the melding). A page is one
-- index range: due reviews first (review_key = the current stage's planned review, earliest
-- first), then the meldingen without a review, newest first (arrival_key = -received_at).
-- No persons, no professionals: ids, times and the stage only.
CREATE TABLE vt_meldingen (
    vt_oin       TEXT NOT NULL,
    -- "zm_…" or "signal/<sender OIN>/<signal id>" (ids::MeldingRef).
    melding_id   TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('zorgmelding', 'signal')),
    received_at  BIGINT NOT NULL,
    arrival_key  BIGINT NOT NULL,
    -- The stage now (TRIAGE until one is recorded).
    stage        TEXT NOT NULL,
    -- The review planned with the stage now, or 9223372036854775807 when none is.
    review_key   BIGINT NOT NULL,
    PRIMARY KEY (vt_oin, melding_id)
);
CREATE INDEX vt_meldingen_order ON vt_meldingen (vt_oin, review_key, arrival_key, melding_id);
CREATE INDEX vt_meldingen_stage ON vt_meldingen (vt_oin, stage, review_key, arrival_key, melding_id);

-- The meldingen already there.
INSERT INTO vt_meldingen (vt_oin, melding_id, kind, received_at, arrival_key, stage, review_key)
    SELECT recipient_oin, zorgmelding_id, 'zorgmelding', created_at, -created_at, 'TRIAGE', 9223372036854775807
    FROM zorgmeldingen WHERE erased_at IS NULL;
INSERT INTO vt_meldingen (vt_oin, melding_id, kind, received_at, arrival_key, stage, review_key)
    SELECT d.recipient_oin, 'signal/' || s.sender_oin || '/' || s.signal_id, 'signal', s.created_at, -s.created_at, 'TRIAGE', 9223372036854775807
    FROM deliveries d JOIN signals s ON s.sender_oin = d.sender_oin AND s.signal_id = d.signal_id
    WHERE d.state IN ('delivered', 'acknowledged') AND s.purpose IN ('melding_veilig_thuis', 'acuut_gevaar')
      AND s.erased_at IS NULL;
UPDATE vt_meldingen SET
    stage = (SELECT m.stage FROM melding_stages m WHERE m.vt_oin = vt_meldingen.vt_oin
             AND m.melding_id = vt_meldingen.melding_id ORDER BY m.seq DESC LIMIT 1),
    review_key = COALESCE((SELECT m.review_at FROM melding_stages m WHERE m.vt_oin = vt_meldingen.vt_oin
             AND m.melding_id = vt_meldingen.melding_id AND m.review_state IN ('planned', 'reminded')
             AND m.seq = (SELECT MAX(n.seq) FROM melding_stages n WHERE n.vt_oin = m.vt_oin AND n.melding_id = m.melding_id)),
             9223372036854775807)
    WHERE EXISTS (SELECT 1 FROM melding_stages m WHERE m.vt_oin = vt_meldingen.vt_oin AND m.melding_id = vt_meldingen.melding_id);
