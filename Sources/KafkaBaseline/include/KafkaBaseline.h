#ifndef PROACTIVITY_KAFKA_BASELINE_H
#define PROACTIVITY_KAFKA_BASELINE_H

#include <stddef.h>

/// The outcome of one baseline run.
typedef struct {
    long delivered;      ///< messages acknowledged by the broker
    long failed;         ///< messages whose delivery report carried an error
    double seconds;      ///< from the first produce call until the last report
} kafka_baseline_result;

/// Produces `count` messages of `size` bytes (keys "k0".."k1023", round robin) to
/// `topic` with a plain librdkafka loop (rd_kafka_producev + rd_kafka_poll, retrying on
/// a full queue, then rd_kafka_flush), using the given `property=value` settings. Each
/// message carries `header_count` headers named `header_names`, with values of
/// `header_sizes` bytes (none when `header_count` is 0).
/// Returns 0 on success, or -1 with a reason in `error` (of `error_size` bytes).
int kafka_baseline_produce(const char *const *properties, size_t property_count,
                           const char *topic, long count, size_t size,
                           const char *const *header_names, const size_t *header_sizes, size_t header_count,
                           kafka_baseline_result *result, char *error, size_t error_size);

#endif
