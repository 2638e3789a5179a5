-- Who may disclose under a consent (issue "Access that holds at every seam", item 3): a JSON
-- array of OINs, by default the recording organisation. '[]' for consents recorded before: any
-- sender may present those, as before.
ALTER TABLE consents ADD COLUMN disclosers TEXT NOT NULL DEFAULT '[]';
