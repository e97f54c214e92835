-- The page lookup first asks whether the ledger holds any row of the job between the
-- page's earliest and latest due time (one step of the key: job, due time, item); only
-- then does it probe item by item. A page of a window nothing was recorded for (a fresh
-- window, the common case) costs one probe instead of one per item. What a concurrent
-- run of the same window recorded meanwhile is in that range, so it is still found.
CREATE OR REPLACE FUNCTION worker_alerts_sent_lookup(
    job text, item_ids text[], due_ats timestamptz[], window_start timestamptz, window_end timestamptz
) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $function$
DECLARE
    earliest timestamptz;
    latest timestamptz;
BEGIN
    SELECT min(d), max(d) INTO earliest, latest FROM unnest(due_ats) AS d;
    IF earliest IS NULL THEN
        RETURN;
    END IF;
    PERFORM FROM worker_alerts_sent s
    WHERE s.job_name = job AND s.due_at >= earliest AND s.due_at <= latest
    LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
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
