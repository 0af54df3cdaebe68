"""Freshness benchmark: how long a bar takes from the producer to a query that can see it.

A paced feed (`--rate` rows/s, live order: every symbol's bar of a day, then the next day)
goes through the real pipeline on this machine: `stockstream-local produce` → Apache Kafka
(one KRaft node) → `stockstream-local sink` (the local trigger with the Lambda mapping's
batching window `--window-ms` and batch size, in front of the sink handler) → the lake in a
local directory. A row is visible to a query the moment the object holding it exists under the
table's prefix (readers list the folder; the year partition already exists in the catalog
after the first day of a year, so no crawl is needed for daily bars). So, for every row:

    freshness = mtime of the Parquet object that holds it - the row's Kafka CreateTime

(CreateTime is set by the producer when it hands the row to its Kafka client, i.e. the send
time; both clocks are this machine's.) Reports p50/p99/max per (rate, window), the target
check p99 <= window + 1 s, and p99/max over the rows after each partition's first batch (the
first batch also waits out the producer's start).

usage: freshness.py LOCAL_BIN BROKERS WORKDIR [--rate R ...] [--window-ms W ...] [--seconds S]
The broker must be running with its topics creatable by `.ci/broker create-topic`.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import time

import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    k = max(0, min(len(sorted_values) - 1, int(-(-p * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def one_run(a, rate, window_ms, n):
    symbols = 500 if rate >= 5000 else 100
    days = max(1, (rate * a.seconds) // symbols)
    work = os.path.join(a.workdir, f"r{rate}-w{window_ms}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    csv = os.path.join(work, "feed.csv")
    gen = os.path.join(os.path.dirname(a.bin), "stockstream-producer")
    subprocess.run([gen, "generate", "--symbols", str(symbols), "--days", str(days), "-o", csv],
                   check=True, capture_output=True)
    topic = f"fresh-{os.getpid()}-{n}"
    subprocess.run([os.path.join(REPO, ".ci", "broker"), "create-topic", topic, "6"], check=True)
    bucket = os.path.join(work, "bucket")
    sink_log = open(os.path.join(work, "sink.log"), "w")
    # Following the live topic; it stops once caught up and quiet for 4 s after the feed.
    sink = subprocess.Popen(
        [a.bin, "sink", "-b", a.brokers, "-t", topic, "--group", topic, "--bucket", bucket,
         "--mirror", os.path.join(work, "mirror"), "--window-ms", str(window_ms),
         "--batch-size", "10000", "--follow", "--idle-ms", "4000"],
        stdout=subprocess.DEVNULL, stderr=sink_log)
    time.sleep(2)  # the trigger joins its group before the feed starts
    t0 = time.time()
    subprocess.run([a.bin, "produce", "-b", a.brokers, "-t", topic, "--progress", "off",
                    "--rate", str(rate), "--rejects", os.path.join(work, "rejects.jsonl"), csv],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    feed_s = time.time() - t0
    if sink.wait(timeout=600) != 0:
        raise SystemExit(f"sink failed; see {sink_log.name}")
    lat, later = [], []
    for f in glob.glob(os.path.join(bucket, "lake", "bars", "**", "*.parquet"), recursive=True):
        visible_ms = os.stat(f).st_mtime_ns / 1e6
        t = pq.read_table(f, columns=["kafka_timestamp", "kafka_offset"])
        ts = t.column(0).cast("int64").to_pylist()
        waits = [visible_ms - x for x in ts]
        lat.extend(waits)
        # The first batch of each partition (it starts at offset 0) also holds the rows the
        # producer was given before it could send: an idempotent producer first asks the
        # broker for its producer id, which took 0.1-1.2 s here (BENCHMARKS.md).
        if min(t.column(1).to_pylist()) > 0:
            later.extend(waits)
    lat.sort()
    later.sort()
    rows = symbols * days
    if len(lat) != rows:
        raise SystemExit(f"{len(lat)} rows in the lake, {rows} sent")
    p50, p99, mx = percentile(lat, 50), percentile(lat, 99), lat[-1]
    ok = p99 <= window_ms + 1000
    steady = (f"after the first batch: p99 {percentile(later, 99):7.0f} ms  max {later[-1]:7.0f} ms"
              if later else "one batch only")
    print(f"  {rate:>7,} rows/s  window {window_ms:>5} ms  {rows:>8,} rows in {feed_s:5.1f} s   "
          f"p50 {p50:7.0f} ms  p99 {p99:7.0f} ms  max {mx:7.0f} ms   "
          f"p99 <= window + 1 s: {'yes' if ok else 'NO'}   ({steady})", flush=True)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("brokers")
    ap.add_argument("workdir")
    ap.add_argument("--rate", type=int, action="append")
    ap.add_argument("--window-ms", type=int, action="append")
    ap.add_argument("--seconds", type=int, default=15)
    a = ap.parse_args()
    rates = a.rate or [1000, 20000]
    windows = a.window_ms or [1000]
    os.makedirs(a.workdir, exist_ok=True)
    print("freshness, send -> visible in the lake (object written), per row:")
    n = 0
    for w in windows:
        for r in rates:
            n += 1
            one_run(a, r, w, n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
