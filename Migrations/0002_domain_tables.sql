-- What the built-in jobs read: calendar events and tasks.
CREATE TABLE events (
    id         bigserial PRIMARY KEY,
    user_id    text        NOT NULL,
    title      text        NOT NULL,
    starts_at  timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_starts_at_idx ON events (starts_at);
CREATE INDEX events_user_id_idx ON events (user_id);

CREATE TABLE tasks (
    id         bigserial PRIMARY KEY,
    user_id    text        NOT NULL,
    title      text        NOT NULL,
    due_at     timestamptz NOT NULL,
    status     text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_open_due_at_idx ON tasks (due_at) WHERE status = 'open';
CREATE INDEX tasks_user_id_idx ON tasks (user_id);
