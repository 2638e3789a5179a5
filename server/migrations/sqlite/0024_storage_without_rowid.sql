-- Storage per signal and per log entry (issue 21, item 4; docs/BENCHMARKS.md, "Storage per signal
-- and per entry"). Content is unchanged; only how SQLite lays the rows out.
--
-- 1. `log_entries` and `log_checkpoints` declared their key `BIGINT PRIMARY KEY`, which SQLite
--    does not take as the rowid: every row was stored under a hidden rowid and its key again in an
--    automatic index. As `INTEGER PRIMARY KEY` the key is the rowid: one b-tree.
-- 2. Tables whose rows are nothing but their composite primary key (the log's subject and
--    organisation indexes, a delivery's consents, a zorgmelding's subjects, an involvement's
--    persons, the re-key's older forms) kept each row twice: in the rowid table and in the
--    primary key's automatic index. `WITHOUT ROWID` keeps them once, ordered by the key, which is
--    how every query reads them. (`deliveries` is not changed: its two other indexes would end
--    in its three-column key instead of a rowid, which costs what dropping the automatic index
--    saves; measured.)
--
-- Each table is rebuilt with its data (create, copy, drop, rename) and its indexes recreated.

CREATE TABLE log_entries_new (
    idx         INTEGER PRIMARY KEY NOT NULL,
    entry       BLOB NOT NULL,
    -- The professional's id at their organisation, outside the leaf so it can be erased with the
    -- rest of the personal data at the end of retention without breaking the log.
    professional TEXT,
    created_at  BIGINT NOT NULL
);
INSERT INTO log_entries_new (idx, entry, professional, created_at)
    SELECT idx, entry, professional, created_at FROM log_entries ORDER BY idx;
DROP TABLE log_entries;
ALTER TABLE log_entries_new RENAME TO log_entries;
-- The rowid is every index's last column, and here it is `idx`: (professional) orders as
-- (professional, idx) did, without storing idx twice.
CREATE INDEX log_entries_professional ON log_entries (professional);

CREATE TABLE log_checkpoints_new (
    tree_size   INTEGER PRIMARY KEY NOT NULL,
    note        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
INSERT INTO log_checkpoints_new (tree_size, note, created_at)
    SELECT tree_size, note, created_at FROM log_checkpoints ORDER BY tree_size;
DROP TABLE log_checkpoints;
ALTER TABLE log_checkpoints_new RENAME TO log_checkpoints;

CREATE TABLE log_subject_index_new (
    subject  TEXT NOT NULL,
    idx      BIGINT NOT NULL,
    PRIMARY KEY (subject, idx)
) WITHOUT ROWID;
INSERT INTO log_subject_index_new (subject, idx) SELECT subject, idx FROM log_subject_index;
DROP TABLE log_subject_index;
ALTER TABLE log_subject_index_new RENAME TO log_subject_index;

CREATE TABLE log_org_index_new (
    oin  TEXT NOT NULL,
    idx  BIGINT NOT NULL,
    PRIMARY KEY (oin, idx)
) WITHOUT ROWID;
INSERT INTO log_org_index_new (oin, idx) SELECT oin, idx FROM log_org_index;
DROP TABLE log_org_index;
ALTER TABLE log_org_index_new RENAME TO log_org_index;

CREATE TABLE delivery_consents_new (
    consent_id      TEXT NOT NULL,
    recipient_oin   TEXT NOT NULL,
    sender_oin      TEXT NOT NULL,
    signal_id       TEXT NOT NULL,
    PRIMARY KEY (consent_id, recipient_oin, sender_oin, signal_id)
) WITHOUT ROWID;
INSERT INTO delivery_consents_new (consent_id, recipient_oin, sender_oin, signal_id)
    SELECT consent_id, recipient_oin, sender_oin, signal_id FROM delivery_consents;
DROP TABLE delivery_consents;
ALTER TABLE delivery_consents_new RENAME TO delivery_consents;

CREATE TABLE zorgmelding_subjects_new (
    subject         TEXT NOT NULL,
    zorgmelding_id  TEXT NOT NULL,
    PRIMARY KEY (subject, zorgmelding_id)
) WITHOUT ROWID;
INSERT INTO zorgmelding_subjects_new (subject, zorgmelding_id)
    SELECT subject, zorgmelding_id FROM zorgmelding_subjects;
DROP TABLE zorgmelding_subjects;
ALTER TABLE zorgmelding_subjects_new RENAME TO zorgmelding_subjects;

CREATE TABLE involvement_persons_new (
    involvement_id      TEXT NOT NULL,
    person              TEXT NOT NULL,
    PRIMARY KEY (involvement_id, person)
) WITHOUT ROWID;
INSERT INTO involvement_persons_new (involvement_id, person)
    SELECT involvement_id, person FROM involvement_persons;
DROP TABLE involvement_persons;
ALTER TABLE involvement_persons_new RENAME TO involvement_persons;
CREATE INDEX involvement_persons_person ON involvement_persons (person);

CREATE TABLE subject_forms_new (
    form            TEXT NOT NULL,
    older           TEXT NOT NULL,
    older_version   BIGINT NOT NULL,
    PRIMARY KEY (form, older)
) WITHOUT ROWID;
INSERT INTO subject_forms_new (form, older, older_version)
    SELECT form, older, older_version FROM subject_forms;
DROP TABLE subject_forms;
ALTER TABLE subject_forms_new RENAME TO subject_forms;
