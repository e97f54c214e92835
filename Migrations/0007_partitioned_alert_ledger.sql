-- The alert ledger, partitioned by due time: one partition per UTC day.
--
-- Every tick probes the ledger once per row and writes a row per alert. In one big
-- table both cost more as the ledger grows (a 10-million-row ledger doubled them); a
-- window's rows fall into one day's partition, whose index stays small and hot.
-- Retention drops whole partitions instead of deleting rows.
--
-- Rows outside every daily partition (a tick for a slot older than the retention, or
-- for a day not created yet) go to the DEFAULT partition. A day's partition is added by
-- worker_alerts_sent_add_partition, which moves that day's rows out of the default first.
ALTER TABLE worker_alerts_sent RENAME TO worker_alerts_sent_before_0007;
ALTER TABLE worker_alerts_sent_before_0007 RENAME CONSTRAINT worker_alerts_sent_pkey TO worker_alerts_sent_before_0007_pkey;
DROP INDEX IF EXISTS worker_alerts_sent_published_at_brin;

CREATE TABLE worker_alerts_sent (
    job_name     text        NOT NULL,
    item_id      text        NOT NULL,
    due_at       timestamptz NOT NULL,
    tick_id      text        NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_name, item_id, due_at)
) PARTITION BY RANGE (due_at);
CREATE TABLE worker_alerts_sent_default PARTITION OF worker_alerts_sent DEFAULT;

-- Adds the partition of one UTC day (worker_alerts_sent_YYYYMMDD) next to the ledger
-- in its schema, unless it exists; moves that day's rows out of the default partition.
-- Returns whether it added one. Concurrent callers wait for each other.
CREATE FUNCTION worker_alerts_sent_add_partition(day date) RETURNS boolean
LANGUAGE plpgsql AS $function$
DECLARE
    ledger regclass := 'worker_alerts_sent'::regclass;
    namespace text;
    partition text := 'worker_alerts_sent_' || to_char(day, 'YYYYMMDD');
    lower_bound timestamptz := day::timestamp AT TIME ZONE 'UTC';
    upper_bound timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
    SELECT n.nspname INTO namespace FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ledger;
    PERFORM pg_advisory_xact_lock(hashtext(namespace || '.worker_alerts_sent partitions'));
    IF to_regclass(format('%I.%I', namespace, partition)) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS)', namespace, partition, ledger);
    EXECUTE format(
        'WITH moved AS (DELETE FROM %I.worker_alerts_sent_default WHERE due_at >= $1 AND due_at < $2 RETURNING *) '
        'INSERT INTO %I.%I SELECT * FROM moved', namespace, namespace, partition)
        USING lower_bound, upper_bound;
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
        ledger, namespace, partition, lower_bound, upper_bound);
    RETURN true;
END
$function$;

-- Partitions for yesterday to three days ahead, and for each day of the last 31 that
-- has rows; the worker's pruner keeps them ahead of time and drops old ones.
DECLARE
    first_day date := (now() AT TIME ZONE 'UTC')::date - 1;
    oldest date;
BEGIN
    SELECT min((due_at AT TIME ZONE 'UTC')::date) INTO oldest FROM worker_alerts_sent_before_0007
    WHERE due_at >= now() - interval '31 days';
    first_day := least(first_day, coalesce(oldest, first_day));
    PERFORM worker_alerts_sent_add_partition(day::date)
    FROM generate_series(first_day::timestamp, ((now() AT TIME ZONE 'UTC')::date + 3)::timestamp, interval '1 day') AS day;
END;

INSERT INTO worker_alerts_sent (job_name, item_id, due_at, tick_id, published_at)
SELECT job_name, item_id, due_at, tick_id, published_at FROM worker_alerts_sent_before_0007;
DROP TABLE worker_alerts_sent_before_0007;
