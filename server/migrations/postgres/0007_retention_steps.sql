-- Retention for the records of steps 4 and 5: when a record's personal data was erased (NULL
-- while it is kept). The sweeper finds expired records by retain_until (a triage by its melding's)
-- and marks them here in the same transaction as their `erased` log entry; each row stays as a
-- tombstone with the metadata the log and other rows refer to.
ALTER TABLE zorgmeldingen ADD COLUMN erased_at BIGINT;
ALTER TABLE zorgmelding_fragments ADD COLUMN erased_at BIGINT;
ALTER TABLE triages ADD COLUMN erased_at BIGINT;
ALTER TABLE handovers ADD COLUMN erased_at BIGINT;
ALTER TABLE maatregelen ADD COLUMN erased_at BIGINT;
ALTER TABLE involvements ADD COLUMN erased_at BIGINT;
ALTER TABLE safety_plans ADD COLUMN erased_at BIGINT;
ALTER TABLE notifications ADD COLUMN erased_at BIGINT;
CREATE INDEX zorgmeldingen_expiry ON zorgmeldingen (retain_until) WHERE erased_at IS NULL;
CREATE INDEX zorgmelding_fragments_expiry ON zorgmelding_fragments (retain_until) WHERE erased_at IS NULL;
CREATE INDEX triages_expiry ON triages (zorgmelding_id) WHERE erased_at IS NULL;
CREATE INDEX handovers_expiry ON handovers (retain_until) WHERE erased_at IS NULL;
CREATE INDEX maatregelen_expiry ON maatregelen (retain_until) WHERE erased_at IS NULL AND retain_until IS NOT NULL;
CREATE INDEX involvements_expiry ON involvements (retain_until) WHERE erased_at IS NULL AND retain_until IS NOT NULL;
CREATE INDEX safety_plans_expiry ON safety_plans (retain_until) WHERE erased_at IS NULL;
CREATE INDEX notifications_expiry ON notifications (retain_until) WHERE erased_at IS NULL;
