"""Benchmark peers for the producer: the same file, sent by other stacks.

  peers.py confluent BROKERS TOPIC FILE   raw lines, no parsing, confluent-kafka with the same
                                          reliability settings as ours (idempotent, acks=all,
                                          lz4, linger 20 ms, 1 MB batches, 4 MiB queue)
  peers.py original  BROKERS TOPIC FILE   the original project's stack: kafka-python, each row
                                          a dict serialised as JSON, no key (its sleep removed)

Each prints one JSON line: {"peer": ..., "rows": N}. The driver times the whole process.
"""
import csv
import json
import sys


def confluent(brokers: str, topic: str, path: str) -> int:
    from confluent_kafka import Producer

    failed = []

    def on_delivery(err, _msg):
        if err is not None:
            failed.append(err)

    p = Producer({
        "bootstrap.servers": brokers,
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": "lz4",
        "linger.ms": 20,
        "batch.size": 1000000,
        # Our default queue since issue 19 (it was 16 MiB for both before): the same bound on
        # both sides; the peer was not slower with it in a quick A/B.
        "queue.buffering.max.kbytes": 4096,
    })
    rows = 0
    with open(path, "rb") as f:
        next(f)  # header
        for line in f:
            while True:
                try:
                    p.produce(topic, value=line.rstrip(b"\r\n"), on_delivery=on_delivery)
                    break
                except BufferError:
                    p.poll(0.02)
            rows += 1
            if rows % 1000 == 0:
                p.poll(0)
    p.flush()
    if failed:
        raise SystemExit(f"{len(failed)} deliveries failed: {failed[0]}")
    return rows


def original(brokers: str, topic: str, path: str) -> int:
    from kafka import KafkaProducer

    p = KafkaProducer(
        bootstrap_servers=brokers.split(","),
        value_serializer=lambda v: json.dumps(v).encode("utf-8"),
    )
    rows = 0
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            p.send(topic, value=row)
            rows += 1
    p.flush()
    p.close()
    return rows


if __name__ == "__main__":
    kind, brokers, topic, path = sys.argv[1:5]
    n = {"confluent": confluent, "original": original}[kind](brokers, topic, path)
    print(json.dumps({"peer": kind, "rows": n}))
