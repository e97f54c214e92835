-- The page lookup learns the tick's window, so that items a job's SQL returned outside
-- it (overdue ones, typically) no longer widen the due range whose recorded pages are
-- unfolded.
--
-- Before, a page's lookup unfolded every recorded page of the job between the page's
-- earliest and latest due time. One overdue item a week old among 1,999 items of the
-- window unfolded the week's pages: 2.7-3.3 s for a page over 1.6 million recorded
-- alerts, against 15-20 ms without it.
--
-- Now the lookup first counts, from the key alone (it carries `items`), the alerts
-- recorded in the page's due range, up to 50 per item of the page. Up to that, unfolding
-- them is the cheaper way and the lookup does it as before. Beyond it, each item outside
-- the window is looked up on its own, in the pages of its day whose due range holds it
-- (`array_positions` in the page's item ids, then the due time at those positions:
-- about 0.1 ms an item), and only the items inside the window are looked up by
-- unfolding the pages of their range. Figures are in docs/pipeline.md.
DROP FUNCTION worker_alert_pages_lookup(text, text[], timestamptz[]);

-- Which items of a page the ledger has: the ordinals (1-based) in `item_ids` / `due_ats`
-- of those recorded for `job`; `window_start` and `window_end` bound the tick's window
-- (end excluded). Planned for the call's values (EXECUTE ... USING) with `enable_seqscan`
-- off: a day partition analyzed while small must not be scanned whole while the window's
-- own pages are written into it.
CREATE FUNCTION worker_alert_pages_lookup(
    job text, item_ids text[], due_ats timestamptz[], window_start timestamptz, window_end timestamptz
) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $function$
DECLARE
    -- The items of the recorded pages that meet the due range [$4, $5], from the day of
    -- $4 on ($6: a recorded page never spans two days), read into a hash in which the
    -- page's items are looked up.
    unfolded CONSTANT text :=
        'SELECT page.ordinal '
        'FROM unnest($2, $3) WITH ORDINALITY AS page(item_id, due_at, ordinal) '
        'WHERE (page.item_id, page.due_at) IN ('
        '    SELECT sent.item_id, sent.due_at '
        '    FROM worker_alert_pages p CROSS JOIN LATERAL unnest(p.item_ids, p.due_ats) AS sent(item_id, due_at) '
        '    WHERE p.job_name = $1 AND p.last_due >= $4 AND p.first_due <= $5 AND p.first_due >= $6 '
        '      AND sent.due_at >= $4 AND sent.due_at <= $5)';
    -- Unfolding more recorded alerts than this costs more than looking the page's items
    -- up one by one.
    unfold_limit CONSTANT bigint := 50 * cardinality(item_ids);
    earliest timestamptz;
    latest timestamptz;
    recorded bigint;
BEGIN
    SELECT min(d), max(d) INTO earliest, latest FROM unnest(due_ats) AS d;
    IF earliest IS NULL THEN
        RETURN;
    END IF;
    -- A page of a fresh window, the common case, costs this step of the key alone.
    SELECT coalesce(sum(recorded_page.items), 0) INTO recorded FROM (
        SELECT p.items FROM worker_alert_pages p
        WHERE p.job_name = job AND p.last_due >= earliest AND p.first_due <= latest
          AND p.first_due >= date_trunc('day', earliest AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        LIMIT unfold_limit) AS recorded_page;
    IF recorded = 0 THEN
        RETURN;
    END IF;
    IF recorded <= unfold_limit THEN
        RETURN QUERY EXECUTE unfolded
            USING job, item_ids, due_ats, earliest, latest, date_trunc('day', earliest AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
        RETURN;
    END IF;

    RETURN QUERY
    SELECT item.ordinal
    FROM unnest(item_ids, due_ats) WITH ORDINALITY AS item(item_id, due_at, ordinal)
    CROSS JOIN LATERAL (SELECT date_trunc('day', item.due_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS start) AS day
    WHERE (item.due_at < window_start OR item.due_at >= window_end)
      AND EXISTS (
          SELECT FROM worker_alert_pages p
          WHERE p.job_name = job AND p.last_due >= item.due_at AND p.last_due < day.start + interval '1 day'
            AND p.first_due <= item.due_at AND p.first_due >= day.start
            AND item.due_at = ANY (SELECT p.due_ats[i] FROM unnest(array_positions(p.item_ids, item.item_id)) AS i));

    SELECT min(d), max(d) INTO earliest, latest FROM unnest(due_ats) AS d WHERE d >= window_start AND d < window_end;
    IF earliest IS NOT NULL THEN
        RETURN QUERY EXECUTE unfolded
            USING job, item_ids, due_ats, earliest, latest, date_trunc('day', earliest AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    END IF;
END
$function$;
