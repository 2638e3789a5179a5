-- Becoming casusregisseur needs acceptance by the other involved parties (issue "Access that
-- holds at every seam", item 5): the parties that accepted an open proposal so far, as a JSON
-- array of OINs. A proposal takes effect when every active party but the proposer accepted.
ALTER TABLE coordinator_proposals ADD COLUMN accepted_by TEXT NOT NULL DEFAULT '[]';
