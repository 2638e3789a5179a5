-- Storage per signal and per log entry (issue 21, item 4; docs/BENCHMARKS.md, "Storage per signal
-- and per entry"). The SQLite migration of this number stores the key-only tables `WITHOUT
-- ROWID` and makes `log_entries.idx` and `log_checkpoints.tree_size` the rowid, so SQLite no longer
-- keeps each of those rows twice. PostgreSQL never did: a `BIGINT PRIMARY KEY` is the key of
-- one index beside the heap, and it has no clustered table to move the key-only rows into (a heap
-- row plus its index entry is its only layout). Nothing changes here; tables, columns and index
-- names stay the same on both stores.
SELECT 1;
