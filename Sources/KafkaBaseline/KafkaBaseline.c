#include "KafkaBaseline.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
    (void)rk;
    kafka_baseline_result *result = opaque;
    if (message->err) result->failed++;
    else result->delivered++;
}

int kafka_baseline_produce(const char *const *properties, size_t property_count,
                           const char *topic, long count, size_t size,
                           const char *const *header_names, const size_t *header_sizes, size_t header_count,
                           kafka_baseline_result *result, char *error, size_t error_size) {
    memset(result, 0, sizeof(*result));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < property_count; i++) {
        char name[256];
        const char *eq = strchr(properties[i], '=');
        if (!eq || (size_t)(eq - properties[i]) >= sizeof(name)) {
            snprintf(error, error_size, "bad property '%s'", properties[i]);
            rd_kafka_conf_destroy(conf);
            return -1;
        }
        memcpy(name, properties[i], (size_t)(eq - properties[i]));
        name[eq - properties[i]] = '\0';
        if (rd_kafka_conf_set(conf, name, eq + 1, error, error_size) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            return -1;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, result);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, error_size);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    char *payload = malloc(size ? size : 1);
    memset(payload, 'x', size);
    size_t largest_header = 1;
    for (size_t h = 0; h < header_count; h++)
        if (header_sizes[h] > largest_header) largest_header = header_sizes[h];
    char *header_value = malloc(largest_header);
    memset(header_value, 'h', largest_header);
    char keys[1024][8];
    for (int i = 0; i < 1024; i++) snprintf(keys[i], sizeof(keys[i]), "k%d", i);

    double start = now_seconds();
    for (long i = 0; i < count; i++) {
        const char *key = keys[i % 1024];
        /* As the engine's producer does: a header list per message, handed over on success. */
        rd_kafka_headers_t *headers = NULL;
        if (header_count > 0) {
            headers = rd_kafka_headers_new(header_count);
            for (size_t h = 0; h < header_count; h++)
                rd_kafka_header_add(headers, header_names[h], -1, header_value, (ssize_t)header_sizes[h]);
        }
        for (;;) {
            rd_kafka_resp_err_t err = headers
                ? rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(payload, size),
                                    RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END)
                : rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(payload, size), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                snprintf(error, error_size, "produce failed: %s", rd_kafka_err2str(err));
                if (headers) rd_kafka_headers_destroy(headers);
                free(header_value);
                free(payload);
                rd_kafka_destroy(rk);
                return -1;
            }
            rd_kafka_poll(rk, 10);
        }
        if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    result->seconds = now_seconds() - start;
    free(header_value);
    free(payload);
    rd_kafka_destroy(rk);
    return 0;
}
