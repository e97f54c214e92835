-- DLQ triage. `error_fingerprint` is the row's error message with its variable parts
-- (numbers, ids, timestamps, quoted values) masked by the engine (ErrorFingerprint):
-- stored when the mirror writes the row, so grouping 100,000 rows by it is one scan of
-- a column and no per-row text processing at query time. Rows written before this
-- migration are filled in by `proactivity migrate` (in Swift, the same function), which
-- the partial index finds without scanning the table.
-- `parked_at` marks a transient failure that failed again after its last allowed
-- automatic replay: the automatic reprocessing no longer touches it; an operator does.
ALTER TABLE worker_dlq
    ADD COLUMN error_fingerprint text,
    ADD COLUMN parked_at         timestamptz;
CREATE INDEX worker_dlq_error_fingerprint_idx ON worker_dlq (error_fingerprint);
CREATE INDEX worker_dlq_fingerprint_missing_idx ON worker_dlq (id) WHERE error_fingerprint IS NULL AND error_message IS NOT NULL;
CREATE INDEX worker_dlq_parked_idx ON worker_dlq (id) WHERE parked_at IS NOT NULL AND processed_at IS NULL;
