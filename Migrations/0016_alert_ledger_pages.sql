-- The alert ledger as one row per recorded page instead of one row per alert.
--
-- A worker records its alerts page by page (up to 2,000 at a time) after the broker
-- acknowledged them. One row per alert cost PostgreSQL a heap tuple, a key entry and
-- their WAL for every alert: about 160 ms per 100,000 alerts, 160 bytes of disk and 230
-- of WAL each. One row per page holds the page's item ids and due times as two arrays
-- (stored compressed out of line): one tuple and one key entry per page.
--
-- A page row never spans two UTC days (the worker splits a page at midnight), so the
-- ledger is still partitioned by day, on `first_due`, and retention still drops whole
-- days. The key (job, last due, first due) finds the pages whose due range meets a
-- given range; it carries `items`, so the number of alerts a partition holds is summed
-- from the key alone.
--
-- There is no uniqueness: the same item recorded twice (two runs of one tick at once,
-- during a rebalance) is harmless, since whether an item was alerted is the question
-- the ledger answers.
CREATE TABLE worker_alert_pages (
    job_name     text          NOT NULL,
    first_due    timestamptz   NOT NULL,
    last_due     timestamptz   NOT NULL,
    tick_id      text          NOT NULL,
    published_at timestamptz   NOT NULL DEFAULT now(),
    items        integer       NOT NULL,
    item_ids     text[]        NOT NULL,
    due_ats      timestamptz[] NOT NULL,
    CONSTRAINT worker_alert_pages_shape CHECK (
        items > 0 AND cardinality(item_ids) = items AND cardinality(due_ats) = items AND first_due <= last_due
        AND (first_due AT TIME ZONE 'UTC')::date = (last_due AT TIME ZONE 'UTC')::date)
) PARTITION BY RANGE (first_due);
CREATE TABLE worker_alert_pages_default PARTITION OF worker_alert_pages DEFAULT;
CREATE INDEX worker_alert_pages_due ON worker_alert_pages (job_name, last_due, first_due) INCLUDE (items);

-- Adds the partition of one UTC day (worker_alert_pages_YYYYMMDD) next to the ledger in
-- its schema, unless it exists; moves that day's pages out of the default partition.
-- Returns whether it added one. Concurrent callers wait for each other.
--
-- It and worker_alert_pages_drop_partition run with their owner's rights (the role that
-- migrated): creating, attaching and dropping a partition takes the ledger's owner, and
-- the engine's role need not be it. Only roles granted EXECUTE may call them.
CREATE FUNCTION worker_alert_pages_add_partition(day date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $function$
DECLARE
    ledger regclass := 'worker_alert_pages'::regclass;
    namespace text;
    partition text := 'worker_alert_pages_' || to_char(day, 'YYYYMMDD');
    lower_bound timestamptz := day::timestamp AT TIME ZONE 'UTC';
    upper_bound timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
    SELECT n.nspname INTO namespace FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ledger;
    PERFORM pg_advisory_xact_lock(hashtext(namespace || '.worker_alert_pages partitions'));
    IF to_regclass(format('%I.%I', namespace, partition)) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', namespace, partition, ledger);
    EXECUTE format(
        'WITH moved AS (DELETE FROM %I.worker_alert_pages_default WHERE first_due >= $1 AND first_due < $2 RETURNING *) '
        'INSERT INTO %I.%I SELECT * FROM moved', namespace, namespace, partition)
        USING lower_bound, upper_bound;
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
        ledger, namespace, partition, lower_bound, upper_bound);
    RETURN true;
END
$function$;

-- Drops one day partition of the ledger (a table worker_alert_pages_YYYYMMDD attached to
-- it, nothing else) and returns the alerts it held.
CREATE FUNCTION worker_alert_pages_drop_partition(partition regclass) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $function$
DECLARE
    alerts bigint;
BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'worker_alert_pages'::regclass AND i.inhrelid = partition
          AND c.relname ~ '^worker_alert_pages_[0-9]{8}$'
    ) THEN
        RAISE EXCEPTION '% is not a day partition of the alert ledger', partition;
    END IF;
    EXECUTE format('SELECT coalesce(sum(items), 0) FROM %s', partition) INTO alerts;
    EXECUTE format('DROP TABLE %s', partition);
    RETURN alerts;
END
$function$;
REVOKE EXECUTE ON FUNCTION worker_alert_pages_add_partition(date), worker_alert_pages_drop_partition(regclass) FROM PUBLIC;

-- Which items of a page the ledger has: the ordinals (1-based) in `item_ids` / `due_ats`
-- of those recorded for `job`. First one step of the key: does any page of the job meet
-- the page's due range? (A fresh window's page, the common case, costs that alone.)
-- Then the items of the pages that do are read into a hash and the page's items looked
-- up in it. Only the days from the page's earliest due time on are searched: a recorded
-- page that reaches that time starts on its day. Planned for the call's values
-- (EXECUTE ... USING), with `enable_seqscan` off: a day partition analyzed while small
-- must not be scanned whole while the window's own pages are written into it.
CREATE FUNCTION worker_alert_pages_lookup(job text, item_ids text[], due_ats timestamptz[]) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $function$
DECLARE
    earliest timestamptz;
    latest timestamptz;
    first_day timestamptz;
BEGIN
    SELECT min(d), max(d) INTO earliest, latest FROM unnest(due_ats) AS d;
    IF earliest IS NULL THEN
        RETURN;
    END IF;
    first_day := date_trunc('day', earliest AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    PERFORM FROM worker_alert_pages p
    WHERE p.job_name = job AND p.last_due >= earliest AND p.first_due <= latest AND p.first_due >= first_day
    LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE
        'SELECT page.ordinal '
        'FROM unnest($2, $3) WITH ORDINALITY AS page(item_id, due_at, ordinal) '
        'WHERE (page.item_id, page.due_at) IN ('
        '    SELECT sent.item_id, sent.due_at '
        '    FROM worker_alert_pages p CROSS JOIN LATERAL unnest(p.item_ids, p.due_ats) AS sent(item_id, due_at) '
        '    WHERE p.job_name = $1 AND p.last_due >= $4 AND p.first_due <= $5 AND p.first_due >= $6 '
        '      AND sent.due_at >= $4 AND sent.due_at <= $5)'
        USING job, item_ids, due_ats, earliest, latest, first_day;
END
$function$;

-- Partitions for yesterday to three days ahead, and for each day of the last 31 that
-- has alerts; the worker's pruner keeps them ahead of time and drops old ones.
DECLARE
    first_day date := (now() AT TIME ZONE 'UTC')::date - 1;
    oldest date;
BEGIN
    SELECT min((due_at AT TIME ZONE 'UTC')::date) INTO oldest FROM worker_alerts_sent
    WHERE due_at >= now() - interval '31 days';
    first_day := least(first_day, coalesce(oldest, first_day));
    PERFORM worker_alert_pages_add_partition(day::date)
    FROM generate_series(first_day::timestamp, ((now() AT TIME ZONE 'UTC')::date + 3)::timestamp, interval '1 day') AS day;
END;

-- The alerts recorded so far, as pages of up to 2,000 per job, tick and UTC day.
INSERT INTO worker_alert_pages (job_name, first_due, last_due, tick_id, published_at, items, item_ids, due_ats)
SELECT job_name, min(due_at), max(due_at), tick_id, max(published_at), count(*)::int,
       array_agg(item_id ORDER BY due_at, item_id), array_agg(due_at ORDER BY due_at, item_id)
FROM (
    SELECT job_name, item_id, due_at, tick_id, published_at, (due_at AT TIME ZONE 'UTC')::date AS day,
           (row_number() OVER (PARTITION BY job_name, tick_id, (due_at AT TIME ZONE 'UTC')::date ORDER BY due_at, item_id) - 1) / 2000 AS page
    FROM worker_alerts_sent
) AS alert
GROUP BY job_name, tick_id, day, page;

DROP FUNCTION worker_alerts_sent_lookup(text, text[], timestamptz[], timestamptz, timestamptz);
DROP FUNCTION worker_alerts_sent_add_partition(date);
DROP TABLE worker_alerts_sent;

-- One row per alert, for people reading the ledger (it is read-only; its filters run
-- after every page of the job is unfolded, so `explain` searches the pages instead).
CREATE VIEW worker_alerts_sent AS
SELECT p.job_name, sent.item_id, sent.due_at, p.tick_id, p.published_at
FROM worker_alert_pages p CROSS JOIN LATERAL unnest(p.item_ids, p.due_ats) AS sent(item_id, due_at);
