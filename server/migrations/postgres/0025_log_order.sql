-- Feedback and information requests keep the log index of the entry that recorded them, so that
-- two sent in the same second list in the order they were made (not by their ids).
ALTER TABLE melding_feedback ADD COLUMN log_index BIGINT;
ALTER TABLE information_requests ADD COLUMN log_index BIGINT;
