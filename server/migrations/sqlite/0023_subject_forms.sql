-- While a pseudonym re-key runs (issue 21, item 3), a signal or handover written under the
-- newest key version also records its persons' older stored forms (pseudonyms only; the hub has
-- the BSN at that moment and computes every version), so that a lookup by the stored (newer)
-- pseudonym — is the recipient involved? — is an index lookup instead of a scan of every older
-- involvement. The rows are dropped when the re-key raises the floor.
CREATE TABLE subject_forms (
    form            TEXT NOT NULL,
    older           TEXT NOT NULL,
    older_version   BIGINT NOT NULL,
    PRIMARY KEY (form, older)
);
