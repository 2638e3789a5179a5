-- Involvement is earned (issue "Access that holds at every seam", item 5): an organisation
-- involved with a person (or the GI responsible for a maatregel about the person) confirms that
-- another organisation has contact with the person; that organisation may then register its
-- involvement until `valid_until`. The subject is a pseudonym (moved by the re-key).
CREATE TABLE involvement_confirmations (
    confirmation_id   TEXT PRIMARY KEY NOT NULL,
    subject           TEXT NOT NULL,
    org_oin           TEXT NOT NULL,
    confirmed_by_oin  TEXT NOT NULL,
    confirmed_at      BIGINT NOT NULL,
    valid_until       BIGINT NOT NULL
);
CREATE INDEX involvement_confirmations_org ON involvement_confirmations (org_oin, subject);
