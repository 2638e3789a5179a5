-- Pseudonym key versions (docs/OPERATIONS.md, "Rotating the pseudonym key"). Stored subject
-- pseudonyms of version 1 are bare hex; later versions carry a `v<n>:` prefix.
-- pseudonym_version: the key version new records are written with (raised when an instance starts
-- with a newer key ring; an instance whose ring is older refuses to start or to serve).
-- pseudonym_floor: the lowest version the store may still hold (raised by a finished re-key).
-- pseudonym_check_<n> rows (added at start) hold a check value of each key, so that a changed key
-- file is refused instead of silently orphaning every record.
INSERT INTO hub_meta (key, value) VALUES ('pseudonym_version', 1);
INSERT INTO hub_meta (key, value) VALUES ('pseudonym_floor', 1);
