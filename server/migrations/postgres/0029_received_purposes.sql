-- What each organisation received data about a person for (issue 21: costs that do not grow with
-- the log). A disclosure on consent passes on data the sender received for other purposes, and
-- the floor's purpose limitation judges it against each of them (flows/policy.rs,
-- `received_purposes`). They were read from every log entry about the person in which the
-- sender took part: O(entries) per send. This index keeps one row per (person, recipient,
-- purpose) of a delivered disclosure (signal_delivered, zorgmelding_delivered,
-- handover_delivered), written with the entry in the same transaction (`sequence_log`); the
-- re-key and a reference's merge move it with the log's subject index. Pseudonyms, OINs and
-- convenant purpose names only.
CREATE TABLE log_received_purposes (
    subject        TEXT NOT NULL,
    recipient_oin  TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    PRIMARY KEY (subject, recipient_oin, purpose)
);

-- The deliveries already in the log, under the subject index's (current) pseudonyms.
INSERT INTO log_received_purposes (subject, recipient_oin, purpose)
    SELECT DISTINCT s.subject, j ->> 'recipient_oin', j ->> 'purpose'
    FROM log_entries e
    JOIN log_subject_index s ON s.idx = e.idx
    CROSS JOIN LATERAL (SELECT convert_from(e.entry, 'UTF8')::jsonb AS j) x
    WHERE j ->> 'event' IN ('signal_delivered', 'zorgmelding_delivered', 'handover_delivered')
      AND j ->> 'recipient_oin' IS NOT NULL
      AND j ->> 'purpose' IS NOT NULL
    ON CONFLICT DO NOTHING;
