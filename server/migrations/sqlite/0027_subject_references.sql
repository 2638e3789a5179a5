-- Subjects without a BSN (issue 20, item 4): a reference the hub issued to an organisation for a
-- person whose BSN is not known (a shelter client, an undocumented child), `SH-` + 13 letters.
-- The reference is never stored in clear: only its pseudonym (made like a BSN's, in its own
-- domain; moved on by the re-key like every subject pseudonym). Merged once with the person's
-- BSN by the organisation that was issued it: every stored record under the reference then names
-- the BSN's pseudonym (the merge moves them, in one transaction with its log entry).
CREATE TABLE subject_references (
    pseudonym               TEXT NOT NULL PRIMARY KEY,
    org_oin                 TEXT NOT NULL,
    issued_at               BIGINT NOT NULL,
    merged_at               BIGINT,
    merged_role             TEXT NOT NULL DEFAULT '',
    merged_professional     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX subject_references_org ON subject_references (org_oin, issued_at);
