-- A job run now by an operator (`proactivity jobs run`, `POST /jobs/{job}/run`): one row
-- per tick of the run, who asked and from where. The tick's id carries the run id
-- (`job@slot~manual-RUN`), so a manual run never takes the place of the slot's scheduled
-- tick; these rows are its audit trail.
CREATE TABLE worker_manual_runs (
    tick_id        text PRIMARY KEY,
    run_id         uuid        NOT NULL,
    job_name       text        NOT NULL,
    slot           timestamptz NOT NULL,
    shard          integer     NOT NULL,
    requested_by   text        NOT NULL,
    requested_host text        NOT NULL,
    requested_via  text        NOT NULL CHECK (requested_via IN ('cli', 'http')),
    requested_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX worker_manual_runs_job_slot_idx ON worker_manual_runs (job_name, slot);
