"""Sink benchmark: our handler vs. the peers a Python Lambda author would reach for.

One generated event of real-shaped bars (10,000 records by default, one bad value in 200),
the same run, the same machine:
- ours: `sink_bench run` (Rust; from the event's bytes to Parquet objects in memory, through
  the exactly-once commit), median of the repeats, single-threaded;
- python: json.loads of the event, then per record base64 + decoding the value (message format
  version 2 is comma-separated text, split here; version 1 is JSON) + the same validation,
  pyarrow.Table.from_pylist and pyarrow.parquet.write_table (zstd level 3) per partition and
  year folder, rejects as JSON lines — what a Python Lambda would do;
- duckdb: the handler a DuckDB user would write: json.loads of the event and base64 of each
  value, decoded as above, into newline-delimited JSON, then read_json over those records with the same
  validation in SQL and COPY … TO Parquet (zstd) partitioned by Kafka partition and year.
  DuckDB may use every core; ours uses one. The COPY alone (decoding done beforehand, DuckDB's
  best case) is timed and printed too.
Then the peak RSS of one `sink_bench once` process on a ~6 MB event (the Lambda's
largest synchronous payload), which must stay under 96 MB to fit a 128 MB function.

Prints one line per contender and a JSON summary; BENCHMARKS.md keeps the ratios.

usage: bench.py SINK_BENCH_BIN WORKDIR [--records N] [--repeats R] [--rss-mb 6]
"""
import argparse
import base64
import binascii
import datetime as dt
import io
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA = pa.schema([
    ("symbol", pa.string()), ("trade_date", pa.date32()), ("ts", pa.timestamp("ms")),
    ("open", pa.float64()), ("high", pa.float64()), ("low", pa.float64()),
    ("close", pa.float64()), ("adj_close", pa.float64()), ("volume", pa.int64()),
    ("close_usd", pa.float64()), ("kafka_topic", pa.string()), ("kafka_partition", pa.int32()),
    ("kafka_offset", pa.int64()), ("kafka_timestamp", pa.timestamp("ms")),
    ("source", pa.string()), ("line", pa.int64()), ("ingest_time", pa.timestamp("ms")),
])
PRICES = ("open", "high", "low", "close")
EPOCH = dt.datetime(1970, 1, 1)


def decode_value(raw: bytes) -> dict:
    """A message value as a dict with version 1's keys (core/src/message.rs): version 1 is
    JSON; version 2 is text, split here, and adds "line" and "source"."""
    if raw[:1] == b"{":
        return json.loads(raw)
    f = raw.decode("utf-8").split(",", 11)
    if len(f) != 12 or f[0] != "2":
        raise ValueError("not a bar")
    date, _, clock = f[3].partition("T")
    v = {"v": 2, "line": int(f[1]), "symbol": f[2], "date": date, "source": f[11]}
    for name, x in zip(("open", "high", "low", "close", "adj_close"), f[4:9]):
        v[name] = float(x) if x else None
    v["volume"] = int(f[9]) if f[9] else None
    v["close_usd"] = float(f[10]) if f[10] else None
    return v


def validate(v: dict) -> str | None:
    """The core library's rules; returns a reason code or None."""
    if v.get("v") not in (1, 2):
        return "unsupported_version"
    if not isinstance(v.get("symbol"), str) or not v["symbol"]:
        return "missing_symbol"
    for c in PRICES + ("adj_close", "close_usd"):
        x = v.get(c)
        if x is None and c not in PRICES:
            continue
        if not isinstance(x, (int, float)) or not math.isfinite(x):
            return "not_finite"
        if x <= 0:
            return "not_positive"
    if v["low"] > v["high"]:
        return "low_above_high"
    for c in ("open", "close"):
        if v[c] < v["low"] or v[c] > v["high"]:
            return "outside_range"
    vol = v.get("volume")
    if vol is not None and (not isinstance(vol, int) or vol < 0):
        return "bad_number"
    return None


def python_handler(event_bytes: bytes, ingest_ms: int) -> dict:
    event = json.loads(event_bytes)
    groups: dict[tuple, list] = {}
    rejects: dict[int, list] = {}
    ingest = EPOCH + dt.timedelta(milliseconds=ingest_ms)
    for records in event["records"].values():
        for r in records:
            reason = None
            try:
                v = decode_value(base64.b64decode(r["value"], validate=True))
                if not isinstance(v, dict):
                    reason = "not_a_bar"
                else:
                    reason = validate(v)
                    if reason is None:
                        day = dt.date.fromisoformat(v["date"])
            except (binascii.Error, ValueError, KeyError, TypeError):
                reason = reason or "not_a_bar"
            if reason is not None:
                rejects.setdefault(r["partition"], []).append(json.dumps({
                    "topic": r["topic"], "partition": r["partition"], "offset": r["offset"],
                    "code": reason, "raw_value": r["value"]}))
                continue
            # Provenance: in a v2 value, else in a v1 record's headers.
            headers = {k: bytes(b).decode() for h in r.get("headers", []) for k, b in h.items()}
            if "source" in v:
                headers = {"source": v["source"], "line": v["line"]}
            groups.setdefault((r["partition"], day.year), []).append({
                "symbol": v["symbol"], "trade_date": day,
                "ts": dt.datetime.combine(day, dt.time()),
                "open": v["open"], "high": v["high"], "low": v["low"], "close": v["close"],
                "adj_close": v.get("adj_close"), "volume": v.get("volume"),
                "close_usd": v.get("close_usd"), "kafka_topic": r["topic"],
                "kafka_partition": r["partition"], "kafka_offset": r["offset"],
                "kafka_timestamp": EPOCH + dt.timedelta(milliseconds=r["timestamp"]),
                "source": headers.get("source"),
                "line": int(headers["line"]) if "line" in headers else None,
                "ingest_time": ingest,
            })
    out = {}
    rows = 0
    for key, group in groups.items():
        group.sort(key=lambda row: (row["symbol"], row["ts"]))
        buf = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(group, schema=SCHEMA), buf,
                       compression="zstd", compression_level=3)
        out[key] = buf.getvalue()
        rows += len(group)
    for p, lines in rejects.items():
        out[("quarantine", p)] = ("\n".join(lines) + "\n").encode()
    return {"rows": rows, "quarantined": sum(map(len, rejects.values())), "objects": len(out),
            "bytes": sum(map(len, out.values()))}


def decode_for_duckdb(event_bytes: bytes, path: str) -> None:
    """Base64-decodes each value to one JSON line with its Kafka coordinates (not timed)."""
    event = json.loads(event_bytes)
    with open(path, "w") as f:
        for records in event["records"].values():
            for r in records:
                try:
                    v = decode_value(base64.b64decode(r["value"], validate=True))
                except (binascii.Error, ValueError):
                    v = {}
                if not isinstance(v, dict):
                    v = {}
                v.update(kafka_topic=r["topic"], kafka_partition=r["partition"],
                         kafka_offset=r["offset"], kafka_timestamp=r["timestamp"])
                f.write(json.dumps(v) + "\n")


DUCKDB_COPY = """
COPY (
  SELECT symbol, CAST(date AS DATE) AS trade_date, CAST(date AS TIMESTAMP) AS ts,
         open, high, low, close, adj_close, volume, close_usd, kafka_topic, kafka_partition,
         kafka_offset, make_timestamp(kafka_timestamp * 1000) AS kafka_timestamp,
         EXTRACT(YEAR FROM CAST(date AS DATE)) AS year
  FROM read_json('{src}', format = 'newline_delimited', columns = {{
    'v': 'INTEGER', 'symbol': 'VARCHAR', 'date': 'VARCHAR', 'open': 'DOUBLE',
    'high': 'DOUBLE', 'low': 'DOUBLE', 'close': 'DOUBLE', 'adj_close': 'DOUBLE',
    'volume': 'BIGINT', 'close_usd': 'DOUBLE', 'kafka_topic': 'VARCHAR',
    'kafka_partition': 'INTEGER', 'kafka_offset': 'BIGINT', 'kafka_timestamp': 'BIGINT'}})
  WHERE v IN (1, 2) AND symbol <> '' AND open > 0 AND high > 0 AND low > 0 AND close > 0
    AND coalesce(adj_close, 1) > 0 AND coalesce(close_usd, 1) > 0 AND low <= high
    AND open BETWEEN low AND high AND close BETWEEN low AND high
    AND coalesce(volume, 0) >= 0 AND TRY_CAST(date AS DATE) IS NOT NULL
  ORDER BY symbol, ts
) TO '{dst}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (kafka_partition, year), OVERWRITE)
"""


def median_time(fn, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("sink_bench")
    ap.add_argument("workdir")
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--rss-mb", type=float, default=6.0)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    event_path = os.path.join(a.workdir, f"event-{a.records}.json")
    subprocess.run([a.sink_bench, "make-event", event_path, str(a.records)], check=True)
    event_bytes = open(event_path, "rb").read()

    ours = json.loads(subprocess.run([a.sink_bench, "run", event_path, str(a.repeats)],
                                     check=True, capture_output=True, text=True).stdout)
    py_s, py = median_time(lambda: python_handler(event_bytes, 1_764_115_200_000), a.repeats)
    if (py["rows"], py["quarantined"]) != (ours["rows"], ours["quarantined"]):
        raise SystemExit(f"python peer disagrees: {py} vs ours {ours}")

    decoded = os.path.join(a.workdir, "decoded.ndjson")
    decode_for_duckdb(event_bytes, decoded)
    dst = os.path.join(a.workdir, "duckdb-out")
    con = duckdb.connect()
    copy = DUCKDB_COPY.format(src=decoded, dst=dst)
    copy_s, _ = median_time(lambda: con.execute(copy), a.repeats)

    def duckdb_handler():
        decode_for_duckdb(event_bytes, decoded)
        con.execute(copy)
    duck_s, _ = median_time(duckdb_handler, a.repeats)
    duck_rows = con.execute(
        f"SELECT count(*) FROM read_parquet('{dst}/*/*/*.parquet')").fetchone()[0]
    shutil.rmtree(dst)
    if duck_rows != ours["rows"]:
        raise SystemExit(f"duckdb peer wrote {duck_rows} rows, ours {ours['rows']}")

    n = ours["records"]
    result = {
        "records": n, "event_mb": round(len(event_bytes) / 1e6, 2),
        "ours_records_per_s": round(n / ours["median_s"]),
        "python_records_per_s": round(n / py_s),
        "duckdb_records_per_s": round(n / duck_s),
        "vs_python": round(py_s / ours["median_s"], 2),
        "vs_duckdb": round(duck_s / ours["median_s"], 2),
        "duckdb_copy_only_records_per_s": round(n / copy_s),
        "vs_duckdb_copy_only": round(copy_s / ours["median_s"], 2),
        "ours_parquet_bytes": ours["bytes"], "python_bytes": py["bytes"],
    }
    print(f"ours    {result['ours_records_per_s']:>10,} records/s")
    print(f"python  {result['python_records_per_s']:>10,} records/s  ours is {result['vs_python']}x")
    print(f"duckdb  {result['duckdb_records_per_s']:>10,} records/s  ours is {result['vs_duckdb']}x")
    print(f"  (COPY alone, decoding not timed: {result['duckdb_copy_only_records_per_s']:,} "
          f"records/s, ours is {result['vs_duckdb_copy_only']}x)")

    if a.rss_mb > 0:
        per_record = len(event_bytes) / n
        big = os.path.join(a.workdir, f"event-{a.rss_mb}mb.json")
        count = int(a.rss_mb * 1e6 / per_record)
        subprocess.run([a.sink_bench, "make-event", big, str(count)], check=True)
        once = json.loads(subprocess.run([a.sink_bench, "once", big], check=True,
                                         capture_output=True, text=True).stdout)
        rss = once["peak_rss_kib"]
        result.update(rss_event_mb=round(os.path.getsize(big) / 1e6, 2), rss_records=count,
                      peak_rss_mb=round(rss / 1024, 1))
        print(f"peak RSS {result['peak_rss_mb']} MB on a {result['rss_event_mb']} MB event "
              f"({count:,} records); limit 96 MB")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
