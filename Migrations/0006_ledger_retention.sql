-- Ledgers stay bounded: the worker prunes rows older than LEDGER_RETENTION in small
-- batches. BRIN indexes on the insertion-ordered time columns find old rows cheaply and
-- cost next to nothing on the hot path's inserts.
CREATE INDEX worker_alerts_sent_published_at_brin ON worker_alerts_sent USING brin (published_at);
CREATE INDEX worker_ticks_completed_completed_at_brin ON worker_ticks_completed USING brin (completed_at);
