"""The broker's own CPU per record, measured from /proc while confluent-kafka produces
and reads records shaped like the alerts (value size, key, the five headers), with the
engine's producer settings. Run by scripts/bench-broker; prints one line per round."""
import argparse
import os
import threading
import time
import uuid

TICKS = os.sysconf("SC_CLK_TCK")


def broker_seconds(name):
    """CPU-seconds of every process named `name` (and of its ended children)."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        if text[text.index("(") + 1:text.rindex(")")] != name:
            continue
        fields = text[text.rindex(")") + 2:].split()
        total += sum(int(field) for field in fields[11:15])
    return total / TICKS


def main():
    parser = argparse.ArgumentParser(prog="scripts/bench-broker", description=__doc__)
    parser.add_argument("--records", type=int, default=100_000, help="records per phase (100000)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds (2)")
    parser.add_argument("--partitions", type=int, default=12, help="partitions of each topic (12, as the alerts topic)")
    parser.add_argument("--process", default="tansu", help="the broker's process name (tansu: the local stack's)")
    args = parser.parse_args()
    if args.records < 1 or args.rounds < 1 or args.partitions < 1:
        parser.error("--records, --rounds and --partitions must be at least 1")
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    value = b"x" * 430
    headers = [("alert-id", b"a" * 60), ("job-name", b"event-reminder"), ("schema-version", b"1"),
               ("content-type", b"application/json"), ("traceparent", b"0" * 55)]
    created = []

    def topic():
        name = "bench-broker-" + uuid.uuid4().hex[:8]
        admin.create_topics([NewTopic(name, args.partitions, 1)])[name].result()
        created.append(name)
        return name

    def produce(name):
        producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
        for index in range(args.records):
            while True:
                try:
                    producer.produce(name, value, key=f"user-{index % 10000}".encode(), headers=headers)
                    break
                except BufferError:
                    producer.poll(0.01)
            if index % 1000 == 0:
                producer.poll(0)
        if producer.flush(60) != 0:
            raise SystemExit("records still undelivered after 60 s")

    def consume(name, ready):
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-broker-" + uuid.uuid4().hex[:6],
                             "auto.offset.reset": "earliest", "fetch.wait.max.ms": 5, "enable.auto.commit": False,
                             "log_level": 3})
        # Ready once the group has given it the partitions, so that the records produced
        # next are read as they come.
        consumer.subscribe([name], on_assign=lambda _consumer, _partitions: ready.set())
        read, deadline = 0, time.monotonic() + 300
        while read < args.records:
            if time.monotonic() > deadline:
                raise SystemExit(f"read {read} of {args.records} records in 300 s")
            read += sum(1 for message in consumer.consume(10000, 0.1) if not message.error())
        consumer.close()

    def per_record(seconds):
        return f"{seconds / args.records * 1e6:.1f} µs"

    try:
        for round_number in range(1, args.rounds + 1):
            first = topic()
            start = broker_seconds(args.process)
            produce(first)
            produced = broker_seconds(args.process)
            consume(first, threading.Event())
            read = broker_seconds(args.process)
            second = topic()
            ready = threading.Event()
            reader = threading.Thread(target=consume, args=(second, ready))
            before = broker_seconds(args.process)
            reader.start()
            if not ready.wait(120):
                raise SystemExit("the reader got no partitions within 120 s")
            produce(second)
            reader.join()
            both = broker_seconds(args.process)
            print(f"round {round_number}: the broker's CPU per record: produced {per_record(produced - start)}, "
                  f"read afterwards {per_record(read - produced)}, produced while a reader follows {per_record(both - before)} "
                  f"({args.records} records of 561 B with 5 headers, {args.partitions} partitions)", flush=True)
    finally:
        if created:
            for future in admin.delete_topics(created).values():
                try:
                    future.result()
                except Exception as error:  # a topic left behind is named, not fatal
                    print(f"topic not deleted: {error}")


if __name__ == "__main__":
    main()
