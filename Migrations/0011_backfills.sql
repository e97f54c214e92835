-- A worker refuses a tick whose window starts before what the alert ledger still
-- remembers (LEDGER_RETENTION): it cannot know which of that window's items were alerted,
-- so running it could send old reminders again. An operator who means to run such a tick
-- says so here (`proactivity jobs backfill`): one row per tick, who asked, from where and
-- why. A tick written to the topic by anyone else is still refused; these rows are the
-- audit trail of every backfill.
CREATE TABLE worker_backfills (
    tick_id        text PRIMARY KEY,
    job_name       text        NOT NULL,
    slot           timestamptz NOT NULL,
    requested_by   text        NOT NULL,
    requested_host text        NOT NULL,
    reason         text        NOT NULL,
    requested_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX worker_backfills_job_slot_idx ON worker_backfills (job_name, slot);
