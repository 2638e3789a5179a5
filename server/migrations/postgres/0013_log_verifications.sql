-- What the disclosure log's checks verified, and when (issue 21, item 1; docs/OPERATIONS.md,
-- "The log's checks"). One row per kind of check: 'startup' (the last start-up check of any
-- instance) and 'full' (the last `signaalhub log verify` that passed). Each says: the entries
-- [0, tree_size) were found to match their tiles and the signed checkpoint of that size, whose
-- root is `root`. The start-up check re-hashes only the entries after the larger of the two
-- sizes, and checks that the tiles still give `root` at that size. A record, not a trust
-- anchor: someone who can write to the database can change it as well as the log, and then only
-- `log verify` (which never reads this table) finds what was changed (docs/SECURITY.md).
CREATE TABLE log_verifications (
    kind             TEXT PRIMARY KEY NOT NULL CHECK (kind IN ('startup', 'full')),
    tree_size        BIGINT NOT NULL,
    root             BYTEA NOT NULL,
    -- Entries this check re-hashed (all of them for 'full'; those since the previous check for
    -- 'startup').
    entries_checked  BIGINT NOT NULL,
    verified_at      BIGINT NOT NULL
);
