-- Same id, other content, is a conflict (docs/ENVELOPE.md, "Content digest"): every record stored
-- under a client-chosen id keeps the sender's content digest of its envelope(s)
-- (`EnvelopeBinding.content_digest`: an HMAC only the sender can compute, opaque to the hub), and
-- a safety plan version also the hash of its publishing request's metadata. A retry with the same
-- metadata and digest is answered as the first time; another digest is ALREADY_EXISTS. Rows
-- stored before this migration have NULL: a retry of those cannot be told from other content.
ALTER TABLE signals ADD COLUMN content_digest BLOB;
ALTER TABLE zorgmelding_fragments ADD COLUMN content_digest BLOB;
-- A handover: its envelopes' digests in the request's order, concatenated (32 bytes each).
ALTER TABLE handovers ADD COLUMN content_digest BLOB;
ALTER TABLE safety_plans ADD COLUMN request_hash BLOB;
ALTER TABLE safety_plans ADD COLUMN content_digest BLOB;
