"""Insight benchmark: the whole suite on DataFusion (ours) vs DuckDB, same files, same run.

A generated lake of SYMBOLS x DAYS rows (default 1,000 x 10,000 = 10 million, 1986-2024),
written by the sink's commit in trigger-sized batches, then compacted as the scheduled
compaction does (one object per year folder; `--no-compact` keeps the sink's objects, one per
batch and year), and crawled. Two suites:
- "last year, every symbol": the report a user schedules (partition pruning reads two years);
- "full history, 20 symbols": every partition, filtered by symbol.
Each engine runs the 8 insights of a suite back to back; median of the repeats (of the suite,
and of each insight, printed below it); both engines use both cores. DuckDB runs the same bound SQL (`?`) over
`read_parquet(…, hive_partitioning = true, hive_types_autocast = false)`, as the cross-check
test does. Then the bytes DataFusion read for a one-month query vs the same query on the
whole table (partition pruning at work).

Each engine's peak RSS is reported: DataFusion's `suite` process (its `VmHWM`, both suites),
and this Python process, which runs DuckDB (its `VmHWM` after each suite). So is each
insight's row count (the largest table of the report).

`--intraday` generates one-minute bars instead (default 500 symbols x 60 trading days x
`--minutes` 390 = 11.7 million rows from 2024-01-02, about three months), written in the
sink's `month` layout (`year=/month=` folders), as a deployment fed live would be; the
scheduled report ("last year, every symbol") then covers every row of the lake.

The run fails when the engines return different row counts, for the suite or for any one
insight. Each suite line also gives the time per million rows of the lake, to compare sizes.

`--only correlation` times only the named insights (comma-separated) on both engines;
`--benchmark SYMBOL` gives the correlation insight a benchmark symbol instead of the
equal-weight mean; `--suites last-year` skips the "full history" suite.

usage: bench.py LAKE_BENCH_BIN WORKDIR [--symbols N] [--days N] [--repeats R] [--no-compact]
                [--only NAMES] [--benchmark SYMBOL] [--suites all|last-year]
                [--intraday [--minutes N]]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import duckdb


def peak_rss_kb():
    """This process's peak resident set size in kB (`VmHWM`), or 0 where there is no /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("workdir")
    ap.add_argument("--symbols", type=int, help="default 1,000 (daily), 500 (intraday)")
    ap.add_argument("--days", type=int, help="default 10,000 (daily), 60 (intraday)")
    ap.add_argument("--intraday", action="store_true")
    ap.add_argument("--minutes", type=int, default=390,
                    help="one-minute bars per trading day with --intraday")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-compact", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--benchmark", default="")
    ap.add_argument("--suites", choices=["all", "last-year"], default="all")
    a = ap.parse_args()
    a.symbols = a.symbols or (500 if a.intraday else 1000)
    a.days = a.days or (60 if a.intraday else 10_000)
    os.environ["LAKE_BENCH_ONLY"] = a.only
    if a.benchmark:
        os.environ["LAKE_BENCH_BENCHMARK"] = a.benchmark
    if a.intraday:
        bucket = os.path.join(a.workdir, f"lake-intraday-{a.symbols}x{a.days}x{a.minutes}")
        make = ["make-intraday-lake", bucket, str(a.symbols), str(a.days), str(a.minutes)]
    else:
        bucket = os.path.join(a.workdir, f"lake-{a.symbols}x{a.days}")
        make = ["make-lake", bucket, str(a.symbols), str(a.days)]
    subprocess.run([a.bin, *make], check=True)
    if not a.no_compact:
        # A compacted copy, so both lakes stay cached.
        raw, bucket = bucket, bucket + "-compacted"
        if not os.path.isdir(bucket):
            shutil.copytree(raw, bucket + ".tmp")
            os.rename(bucket + ".tmp", bucket)
        print("compaction:", run([a.bin, "compact", bucket]).strip())
    catalog = json.load(open(os.path.join(bucket, "_catalog", "catalog.json")))
    parts = catalog["tables"]["bars"]["partitions"]
    rows = sum(p["rows"] for p in parts.values())
    size = sum(p["bytes"] for p in parts.values())
    # One `*` per partition folder level: `year=YYYY`, or `year=YYYY/month=MM`.
    levels = len(catalog["tables"]["bars"]["partition_keys"])
    con = duckdb.connect()
    glob = os.path.join(bucket, "lake", "bars", *["*"] * levels, "*.parquet")
    con.execute("CREATE VIEW bars AS SELECT * FROM read_parquet("
                f"'{glob}', hive_partitioning = true, hive_types_autocast = false)")
    to = con.execute("SELECT CAST(max(trade_date) AS VARCHAR) FROM bars").fetchone()[0]
    first = con.execute("SELECT CAST(min(trade_date) AS VARCHAR) FROM bars").fetchone()[0]
    y, m, d = map(int, to.split("-"))
    year_ago = f"{y - 1:04d}-{m:02d}-{min(d, 28):02d}"
    twenty = ",".join(f"S{i:05d}" for i in range(0, a.symbols, max(1, a.symbols // 20)))[:20 * 7 - 1]
    suites = [("last year, every symbol", year_ago, to, "all"),
              ("full history, 20 symbols", first, to, twenty)]
    if a.suites == "last-year":
        suites = suites[:1]
    objects = sum(1 for d, _, fs in os.walk(os.path.join(bucket, "lake", "bars"))
                  for f in fs if f.endswith(".parquet") and "/_" not in d)
    print(f"lake: {rows:,} rows, {len(parts)} partitions, {objects} objects, "
          f"{size / 1e6:.0f} MB Parquet; {first}..{to}")
    results = []
    for label, frm, until, syms in suites:
        jobs = json.loads(run([a.bin, "jobs", frm, until, syms]))
        ours = json.loads(run([a.bin, "suite", bucket, frm, until, syms, str(a.repeats)]))
        times, each = [], {j["name"]: [] for j in jobs}
        rows_each = {}
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            n = 0
            for j in jobs:
                t = time.perf_counter()
                k = len(con.execute(j["sql"], j["values"]).fetchall())
                each[j["name"]].append(time.perf_counter() - t)
                n += k
                rows_each[j["name"]] = k
            times.append(time.perf_counter() - t0)
        duck_s = statistics.median(times)
        if n != ours["rows"]:
            raise SystemExit(f"{label}: DuckDB returned {n} rows, DataFusion {ours['rows']}")
        differ = {k: (v, ours["rows_each"][k]) for k, v in rows_each.items()
                  if v != ours["rows_each"][k]}
        if differ:
            raise SystemExit(f"{label}: row counts differ (DuckDB, DataFusion): {differ}")
        ratio = ours["median_s"] / duck_s
        per = {name: {"datafusion_s": round(ours["each_s"][name], 3),
                      "duckdb_s": round(statistics.median(t), 3)} for name, t in each.items()}
        for name in per:
            per[name]["rows"] = rows_each[name]
        duck_rss = peak_rss_kb()
        largest = max(rows_each.items(), key=lambda kv: kv[1])
        results.append({"suite": label, "datafusion_s": round(ours["median_s"], 3),
                        "duckdb_s": round(duck_s, 3), "ratio_to_duckdb": round(ratio, 2),
                        "datafusion_s_per_million_rows": round(ours["median_s"] / rows * 1e6, 3),
                        "duckdb_s_per_million_rows": round(duck_s / rows * 1e6, 3),
                        "rows_out": n, "largest_table": {largest[0]: largest[1]},
                        "datafusion_peak_rss_mb": round(ours.get("peak_rss_kb", 0) / 1024),
                        "duckdb_peak_rss_mb": round(duck_rss / 1024), "insights": per})
        print(f"{label:<26} DataFusion {ours['median_s']:7.2f} s   DuckDB {duck_s:7.2f} s   "
              f"ratio {ratio:.2f} (target <= 1.0)")
        print(f"  per million rows of the lake: DataFusion {ours['median_s'] / rows * 1e6:.3f} s, "
              f"DuckDB {duck_s / rows * 1e6:.3f} s")
        print(f"  peak RSS: DataFusion {ours.get('peak_rss_kb', 0) / 1024:,.0f} MB, DuckDB (this "
              f"process) {duck_rss / 1024:,.0f} MB; largest table {largest[0]}, {largest[1]:,} rows")
        for name, t in per.items():
            print(f"  {name:<24} DataFusion {t['datafusion_s']:7.3f} s   DuckDB "
                  f"{t['duckdb_s']:7.3f} s   ratio {t['datafusion_s'] / max(t['duckdb_s'], 1e-9):.2f}"
                  f"   {t['rows']:>7,} rows")
    month_from = f"{y:04d}-{m:02d}-01"
    b = json.loads(run([a.bin, "bytes", bucket, month_from, to]))
    share = b["window_bytes"] / max(1, b["full_bytes"])
    print(f"one-month query read {b['window_bytes'] / 1e6:.1f} MB, full scan "
          f"{b['full_bytes'] / 1e6:.1f} MB ({share:.1%})")
    print(json.dumps({"rows": rows, "intraday": a.intraday, "partitions": len(parts),
                      "objects": objects,
                      "compacted": not a.no_compact, "parquet_mb": round(size / 1e6),
                      "suites": results, "month_bytes": b["window_bytes"],
                      "full_bytes": b["full_bytes"], "month_share": round(share, 4)}))


if __name__ == "__main__":
    sys.exit(main())
