"""Independent read-back of a StockStream topic with the confluent-kafka client.

Reads every partition of TOPIC from the beginning to its end and prints one JSON object per message (partition, offset, key, headers, decoded value), in
partition/offset order. Used by the producer's integration tests to check that a client
other than ours sees the same messages and decodes the same values: a version 2 value (text,
core/src/message.rs) is split here, independently of our decoder, into the keys of a
version 1 JSON value plus "line" and "source".

usage: read_back.py BROKERS TOPIC
"""
import json
import sys
import time

from confluent_kafka import Consumer, TopicPartition


def decode(value: bytes) -> dict:
    if value.startswith(b"{"):
        return json.loads(value)
    text = value.decode("utf-8")
    f = text.split(",", 11)
    if len(f) != 12 or f[0] != "2":
        raise SystemExit(f"not a version 2 value: {text!r}")
    date, _, clock = f[3].partition("T")
    out = {"v": 2, "line": int(f[1]), "symbol": f[2], "date": date, "source": f[11]}
    if clock:
        out["time"] = clock
    for name, x in zip(["open", "high", "low", "close", "adj_close"], f[4:9]):
        if x:
            out[name] = float(x)
    if f[9]:
        out["volume"] = int(f[9])
    if f[10]:
        out["close_usd"] = float(f[10])
    return out


def main() -> int:
    brokers, topic = sys.argv[1], sys.argv[2]
    c = Consumer({
        "bootstrap.servers": brokers,
        "group.id": f"stockstream-readback-{time.time_ns()}",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    })
    md = c.list_topics(topic, timeout=30)
    parts = sorted(md.topics[topic].partitions)
    ends = {}
    tps = []
    for p in parts:
        low, high = c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
        tps.append(TopicPartition(topic, p, low))
        if high > low:
            ends[p] = high
    c.assign(tps)
    out = []
    deadline = time.time() + 120
    # Done when every partition reached the high watermark it had at the start.
    while ends and time.time() < deadline:
        m = c.poll(0.1)
        if m is None:
            continue
        if m.error():
            raise SystemExit(f"read error: {m.error()}")
        p, o = m.partition(), m.offset()
        if p in ends and o + 1 >= ends[p]:
            del ends[p]
        out.append({
            "partition": p,
            "offset": o,
            "key": m.key().decode("utf-8"),
            "headers": {k: v.decode("utf-8") for k, v in (m.headers() or [])},
            "value": decode(m.value()),
        })
    c.close()
    if ends:
        raise SystemExit(f"partitions {sorted(ends)} did not reach their end")
    out.sort(key=lambda r: (r["partition"], r["offset"]))
    for r in out:
        print(json.dumps(r, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
