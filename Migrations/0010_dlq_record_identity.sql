-- A DLQ record's coordinates (topic, partition, offset) do not name it for ever: a topic
-- deleted and created again (a cluster rebuilt or migrated, a broker that lost its state)
-- starts its offsets at 0 again. Keyed by coordinates alone, the mirror took a new dead
-- letter at an old record's coordinates for a redelivery of the old one and wrote no row.
-- A record is now named by its coordinates and a SHA-256 digest of its timestamp, key,
-- value and headers: a redelivery (same record) still finds its row, a record of a later
-- incarnation of the topic gets one of its own. Rows mirrored before this migration have
-- no digest (NULL never conflicts), so each keeps its row and none blocks a new one.
ALTER TABLE worker_dlq
    ADD COLUMN dlq_record_digest bytea,
    ADD COLUMN dlq_timestamp     timestamptz;
ALTER TABLE worker_dlq DROP CONSTRAINT worker_dlq_record_key;
ALTER TABLE worker_dlq ADD CONSTRAINT worker_dlq_record_key UNIQUE (dlq_topic, dlq_partition, dlq_offset, dlq_record_digest);
