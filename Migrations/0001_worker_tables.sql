-- The audit trail of every job execution and the dead-letter table (the seed's columns).
CREATE TABLE worker_job_events (
    id              bigserial PRIMARY KEY,
    job_name        text        NOT NULL,
    status          text        NOT NULL,
    scheduled_at    timestamptz,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    runtime_seconds double precision,
    payload         jsonb,
    error_message   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    tick_id         text,
    correlation_id  text
);
CREATE INDEX worker_job_events_job_name_idx ON worker_job_events (job_name);
CREATE INDEX worker_job_events_scheduled_at_idx ON worker_job_events (scheduled_at);
CREATE INDEX worker_job_events_created_at_idx ON worker_job_events (created_at);
CREATE INDEX worker_job_events_tick_id_idx ON worker_job_events (tick_id);

CREATE TABLE worker_dlq (
    id            bigserial PRIMARY KEY,
    job_name      text,
    payload       jsonb,
    error_message text,
    scheduled_for timestamptz,
    retry_count   integer     NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz
);
CREATE INDEX worker_dlq_job_name_idx ON worker_dlq (job_name);
CREATE INDEX worker_dlq_created_at_idx ON worker_dlq (created_at);
CREATE INDEX worker_dlq_processed_at_idx ON worker_dlq (processed_at);
