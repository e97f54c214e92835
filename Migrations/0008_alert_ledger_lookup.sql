-- Which items of a page the alert ledger has: the ordinals (1-based) in `item_ids` /
-- `due_ats` of those recorded for `job`. One primary-key probe per item, in a statement
-- planned for this call (EXECUTE ... USING: the values are known to the planner), with
-- `enable_seqscan` off for the call only.
--
-- Why not the planner's choice: a day partition whose statistics were taken while it
-- was small (autovacuum after a few small ticks, or an ANALYZE of the empty partition)
-- looks like a table of a page or two, and a sequential scan is then the cheapest plan
-- for each probe; but a window's own pages are written into that same partition while
-- its tick runs, so each probe read all of them again (a 100,000-item window ran at
-- about 2,000 alerts/s).
--
-- With `window_start` / `window_end` only the window's day partitions are probed
-- (pruned when the statement is planned); with NULL bounds, the whole ledger (items a
-- job's SQL returned outside its window).
CREATE FUNCTION worker_alerts_sent_lookup(
    job text, item_ids text[], due_ats timestamptz[], window_start timestamptz, window_end timestamptz
) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $function$
BEGIN
    RETURN QUERY EXECUTE
        'SELECT page.ordinal '
        'FROM unnest($2, $3) WITH ORDINALITY AS page(item_id, due_at, ordinal) '
        'CROSS JOIN LATERAL ('
        '    SELECT EXISTS ('
        '        SELECT FROM worker_alerts_sent s '
        '        WHERE s.job_name = $1 AND s.item_id = page.item_id AND s.due_at = page.due_at '
        '          AND ($4 IS NULL OR s.due_at >= $4) AND ($5 IS NULL OR s.due_at < $5)'
        '    ) AS sent OFFSET 0'
        ') AS ledger '
        'WHERE ledger.sent'
        USING job, item_ids, due_ats, window_start, window_end;
END
$function$;
