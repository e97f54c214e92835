-- The worker's memory: which alerts were published (one per job, item and due time)
-- and which ticks were completed (a duplicated or redelivered tick runs once).
CREATE TABLE worker_alerts_sent (
    job_name     text        NOT NULL,
    item_id      text        NOT NULL,
    due_at       timestamptz NOT NULL,
    alert_id     text        NOT NULL,
    tick_id      text        NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_name, item_id, due_at)
);
CREATE INDEX worker_alerts_sent_due_at_idx ON worker_alerts_sent (job_name, due_at);

CREATE TABLE worker_ticks_completed (
    tick_id      text PRIMARY KEY,
    job_name     text        NOT NULL,
    slot         timestamptz NOT NULL,
    alerts       integer     NOT NULL,
    completed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX worker_ticks_completed_slot_idx ON worker_ticks_completed (job_name, slot);
