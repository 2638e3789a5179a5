-- Retention: when a record's personal data was erased (NULL while it is kept). The sweeper finds
-- expired records by retain_until and marks them here in the same transaction as their
-- `erased` log entry; the row stays as a tombstone with the metadata the log refers to.
ALTER TABLE signals ADD COLUMN erased_at BIGINT;
ALTER TABLE consents ADD COLUMN erased_at BIGINT;
CREATE INDEX signals_retention ON signals (retain_until) WHERE erased_at IS NULL;
CREATE INDEX consents_retention ON consents (retain_until) WHERE erased_at IS NULL;
