/// The jobs the engine ships with. They are ordinary ``JobDefinition`` values: a jobs
/// file can override any of them by name (e.g. to enable `daily-brief`). Their queries
/// need no ORDER BY: the worker reads every job's rows in due order, which an index on
/// the due column gives without a sort. The reminders build their payload as JSON text
/// from numbers and constants, cast to `json` (checked, never rebuilt): a third of what
/// `jsonb_build_object` costs PostgreSQL per row; text values would need `to_json(…)`
/// to be escaped.
public enum BuiltInJobs {
    /// Calendar events starting within the next 60 minutes, every 5 minutes.
    public static let eventReminder = JobDefinition(
        name: "event-reminder", schedule: .interval(seconds: 300), windowSeconds: 3600,
        sql: """
            SELECT e.id::text AS item_id, e.user_id, e.title, e.starts_at AS due_at,
                   ('{"kind":"event","event_id":' || e.id || '}')::json AS payload
            FROM events e
            WHERE e.starts_at >= :window_start AND e.starts_at < :window_end
            """)

    /// Open tasks due within the next 90 minutes, every 5 minutes.
    public static let taskReminder = JobDefinition(
        name: "task-reminder", schedule: .interval(seconds: 300), windowSeconds: 5400,
        sql: """
            SELECT t.id::text AS item_id, t.user_id, t.title, t.due_at AS due_at,
                   ('{"kind":"task","task_id":' || t.id || '}')::json AS payload
            FROM tasks t
            WHERE t.status = 'open' AND t.due_at >= :window_start AND t.due_at < :window_end
            """)

    /// One alert per user with the day's events and open tasks, daily at 07:00 UTC
    /// (set the time and zone in a jobs file). Off by default.
    public static let dailyBrief = JobDefinition(
        name: "daily-brief", schedule: .cron(try! CronExpression("0 7 * * *"), timeZone: .gmt), windowSeconds: 86_400,
        catchUpGraceSeconds: 0, enabled: false,
        sql: """
            WITH day_events AS (
                SELECT user_id, jsonb_agg(jsonb_build_object('title', title, 'starts_at', starts_at) ORDER BY starts_at) AS items
                FROM events WHERE starts_at >= :window_start AND starts_at < :window_end GROUP BY user_id),
            day_tasks AS (
                SELECT user_id, jsonb_agg(jsonb_build_object('title', title, 'due_at', due_at) ORDER BY due_at) AS items
                FROM tasks WHERE status = 'open' AND due_at >= :window_start AND due_at < :window_end GROUP BY user_id)
            SELECT 'brief:' || u.user_id AS item_id, u.user_id,
                   format('Your day: %s events, %s tasks',
                          coalesce(jsonb_array_length(e.items), 0), coalesce(jsonb_array_length(t.items), 0)) AS title,
                   :window_start AS due_at,
                   jsonb_build_object('events', coalesce(e.items, '[]'::jsonb), 'tasks', coalesce(t.items, '[]'::jsonb)) AS payload
            FROM (SELECT user_id FROM day_events UNION SELECT user_id FROM day_tasks) u
            LEFT JOIN day_events e ON e.user_id = u.user_id
            LEFT JOIN day_tasks t ON t.user_id = u.user_id
            """)

    /// All built-in jobs.
    public static let all = [eventReminder, taskReminder, dailyBrief]
}
