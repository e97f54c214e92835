-- Which definition of a job ran (`proactivity explain`): every version of a job's
-- definition a worker ran (schedule, window, shards, severity, timeout and its SQL),
-- named by the SHA-256 of its canonical JSON, and on every audit row the version it ran
-- with. A changed jobs file shows as a new digest from the first tick run with it.
CREATE TABLE worker_job_definitions (
    definition_digest text PRIMARY KEY,
    job_name          text        NOT NULL,
    definition        jsonb       NOT NULL,
    first_seen_at     timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE worker_job_events ADD COLUMN definition_digest text;
