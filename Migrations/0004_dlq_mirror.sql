-- worker_dlq mirrors the DLQ topic: every record with the original key, value and
-- headers (bytes, unchanged), where it came from, why it failed, and the DLQ record's
-- own coordinates, unique so that redelivery to the mirror never duplicates a row.
ALTER TABLE worker_dlq
    ADD COLUMN dlq_topic        text,
    ADD COLUMN dlq_partition    integer,
    ADD COLUMN dlq_offset       bigint,
    ADD COLUMN origin_topic     text,
    ADD COLUMN origin_partition integer,
    ADD COLUMN origin_offset    bigint,
    ADD COLUMN origin_timestamp timestamptz,
    ADD COLUMN message_key      bytea,
    ADD COLUMN message_value    bytea,
    ADD COLUMN headers          jsonb,
    ADD COLUMN stage            text,
    ADD COLUMN consumer_group   text,
    ADD COLUMN error_class      text,
    ADD COLUMN attempts         integer,
    ADD COLUMN first_failure_at timestamptz,
    ADD COLUMN last_failure_at  timestamptz,
    ADD COLUMN correlation_id   text;
ALTER TABLE worker_dlq ADD CONSTRAINT worker_dlq_record_key UNIQUE (dlq_topic, dlq_partition, dlq_offset);
CREATE INDEX worker_dlq_error_class_idx ON worker_dlq (error_class);
CREATE INDEX worker_dlq_unprocessed_idx ON worker_dlq (created_at) WHERE processed_at IS NULL;
