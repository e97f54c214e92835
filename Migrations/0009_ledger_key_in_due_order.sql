-- The alert ledger's key in due order: (job_name, due_at, item_id) instead of
-- (job_name, item_id, due_at). Same rows, same uniqueness; what changes is where a
-- window's rows sit in each day partition's index. A window is read in due order, so
-- its pages are looked up and then written in due order too: with due time second in
-- the key, one page's rows are neighbours in the index, and a later window's lie after
-- an earlier one's. With the item id second, each row went to a place of its own
-- among all the job's rows of that day. Measured on a day partition already holding
-- 500,000 rows of the job, 100,000 rows in pages of 2,000: the writes took 190 ms
-- instead of 550 ms, one lookup per row 193 ms instead of 431-649 ms.
--
-- Rebuilding the index locks the ledger for as long as it runs (4 s for 10 million
-- rows on the local stack): workers wait meanwhile.
ALTER TABLE worker_alerts_sent DROP CONSTRAINT worker_alerts_sent_pkey;
ALTER TABLE worker_alerts_sent ADD PRIMARY KEY (job_name, due_at, item_id);
