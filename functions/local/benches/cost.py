"""What the pipeline costs on AWS: bytes the scheduled report scans, and the monthly bill.

Two commands (standard library only; figures and method in BENCHMARKS.md, section "Cost:
bytes scanned per report and the monthly bill"):

    cost.py measure LAKE_BENCH_BIN WORKDIR [--lake 1000x2000 --lake 1000x5000] [--sql-dir DIR]
                    [--keep]
    cost.py [tables]

`measure` builds each generated lake (SYMBOLS x DAYS trading days from 1986, written by the
sink's commit in trigger-sized batches: `lake_bench make-lake`), compacts it as the scheduled
compaction does (`lake_bench compact`, timed), and runs the insights Lambda's default report
on it: REPORT_DAYS = 365 (template.yaml), every symbol, the window ending on the lake's last
day. Each insight text of SQL_DIR (default core/src/insights/sql; composed with its fragments
and bound as the Rust binder does, through functions/local/tests/check_sql.py, the markers
written as literals) runs once under `EXPLAIN ANALYZE` on DataFusion (`lake_bench sql`), and
the `bytes_scanned` of its Parquet scans are summed, as `lake_bench bytes` does. It prints one
JSON document: per lake, the rows and stored bytes of the year partitions the report reads
(from the crawler's catalog), and per insight the bytes scanned. The lakes are deleted after
unless `--keep`.

`tables` (the default) prints the per-report figures on Athena terms and the monthly cost at
1M and 100M rows a day, from the constants below: each one is a measured figure (with the
BENCHMARKS.md section it comes from), a setting of template.yaml, a cited price, or a stated
assumption.
"""
import argparse
import datetime
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))

# --------------------------------------------------------------------------------- measure

REPORT_DAYS = 365    # template.yaml ReportDays (default), functions/insights/src/config.rs
LOOKBACK_DAYS = 400  # core/src/insights/mod.rs LOOKBACK_DAYS: data read before the window
# core/src/insights/mod.rs QUALITY and Params defaults (no benchmark symbol, 10 pairs,
# 100 pair candidates, every symbol so no full matrix).
MARKERS = {"trading_day_share": "0.5", "stale_bars": "5", "max_move": "0.25",
           "quality_rows": "25", "benchmark": "", "pairs": "10", "pair_candidates": "100",
           "full_matrix": "0"}
# Report order (core/src/insights/mod.rs SOURCES).
INSIGHTS = ["latest_close", "period_returns", "top_movers", "volatility", "moving_averages",
            "volume_anomalies", "max_drawdown", "correlation", "data_quality",
            "quality_issues"]


def report_params(to):
    """The scheduled report's markers for a window ending on `to` (a date)."""
    frm = to - datetime.timedelta(days=REPORT_DAYS)
    scan_from = frm - datetime.timedelta(days=LOOKBACK_DAYS)
    return {**MARKERS, "from": frm.isoformat(), "to": to.isoformat(),
            "scan_from": scan_from.isoformat(), "year_from": str(scan_from.year),
            "year_to": str(to.year)}


def bind_literals(sql, params, tokens):
    """`sql` with each `:marker` replaced by its value as a string literal (the Rust binder
    passes every value as a string too) and `:symbol_filter` by TRUE (every symbol)."""
    out, pos = [], 0
    for kind, text, start, end in tokens(sql):
        if kind != "marker":
            continue
        out.append(sql[pos:start])
        pos = end
        if text == "symbol_filter":
            out.append("TRUE")
        else:
            out.append("'" + params[text].replace("'", "''") + "'")
    out.append(sql[pos:])
    return "".join(out)


def scanned(plan_text):
    """Sum of `bytes_scanned=` over a DataFusion plan's metrics (`1234`, `12.5 K`, `3.1 M`)."""
    total = 0.0
    for m in re.finditer(r"bytes_scanned=([0-9.]+)\s*([KMG]?)", plan_text):
        total += float(m.group(1)) * {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}[m.group(2)]
    return int(total)


def measure(a):
    sys.path.insert(0, os.path.join(ROOT, "functions", "local", "tests"))
    import check_sql  # composes and tokenizes the insight SQL as the Rust code does

    sql_dir = a.sql_dir or os.path.join(ROOT, "core", "src", "insights", "sql")
    texts = {n: check_sql.read_insight(os.path.join(sql_dir, n + ".sql")) for n in INSIGHTS}
    os.makedirs(a.workdir, exist_ok=True)
    lakes = []
    for spec in a.lake:
        symbols, days = (int(x) for x in spec.split("x"))
        bucket = os.path.join(a.workdir, f"lake-{symbols}x{days}")
        t = time.perf_counter()
        subprocess.run([a.bin, "make-lake", bucket, str(symbols), str(days)], check=True)
        make_s = time.perf_counter() - t
        t = time.perf_counter()
        out = subprocess.run([a.bin, "compact", bucket], check=True, capture_output=True,
                             text=True).stdout
        compact_s = time.perf_counter() - t
        compaction = json.loads(out.strip().splitlines()[-1])
        catalog = json.load(open(os.path.join(bucket, "_catalog", "catalog.json")))
        parts = catalog["tables"]["bars"]["partitions"]
        objects = sum(1 for d, _, fs in os.walk(os.path.join(bucket, "lake", "bars"))
                      for f in fs if f.endswith(".parquet") and "/_" not in d)
        last = max(parts)  # "year=YYYY"; the lake's last day is in it
        to = last_day(a.bin, bucket, last)
        params = report_params(to)
        read = {k: v for k, v in parts.items()
                if params["year_from"] <= k.split("=")[1] <= params["year_to"]}
        per = {}
        for name in INSIGHTS:
            sql = "EXPLAIN ANALYZE " + bind_literals(texts[name], params, check_sql.tokens)
            t = time.perf_counter()
            run = subprocess.run([a.bin, "sql", bucket, sql], check=True, capture_output=True,
                                 text=True, env={**os.environ, "LAKE_BENCH_ROWS": "1"})
            plans = [json.loads(l) for l in run.stdout.splitlines() if l.startswith("[")]
            counts = {scanned("\n".join(str(v) for v in p)) for p in plans}
            if len(counts) != 1:
                raise SystemExit(f"{name}: bytes_scanned differs between runs: {counts}")
            per[name] = counts.pop()
            print(f"  {spec} {name:<18} {per[name] / 1e6:9.2f} MB scanned "
                  f"({(time.perf_counter() - t) / 3:.2f} s a run)", file=sys.stderr)
        lakes.append({
            "lake": spec, "rows": sum(p["rows"] for p in parts.values()),
            "partitions": len(parts), "objects_after_compaction": objects,
            "parquet_bytes": sum(p["bytes"] for p in parts.values()),
            "make_lake_s": round(make_s, 1), "compact_s": round(compact_s, 1),
            "compaction": compaction, "window": {k: params[k] for k in
                                                 ("from", "to", "scan_from", "year_from",
                                                  "year_to")},
            "read_partitions": sorted(read), "read_rows": sum(p["rows"] for p in read.values()),
            "read_parquet_bytes": sum(p["bytes"] for p in read.values()),
            "bytes_scanned": per, "bytes_scanned_total": sum(per.values())})
        if not a.keep:
            shutil.rmtree(bucket)
    print(json.dumps({"sql_dir": sql_dir, "lakes": lakes}, indent=1))


def last_day(binary, bucket, partition):
    """The lake's last trade_date (it is in the last year partition)."""
    year = partition.split("=")[1]
    run = subprocess.run(
        [binary, "sql", bucket,
         f"SELECT CAST(max(trade_date) AS VARCHAR) FROM bars WHERE year = '{year}'"],
        check=True, capture_output=True, text=True, env={**os.environ, "LAKE_BENCH_ROWS": "1"})
    return datetime.date.fromisoformat(json.loads(run.stdout.splitlines()[0])[0])


# ---------------------------------------------------------------------------------- tables
#
# Measured inputs. "Cost section" = BENCHMARKS.md, "Cost: bytes scanned per report and the
# monthly bill" (`cost.py measure`, 2026-11-28, SQL of commit e4f5c22, compacted lakes of
# 1,000 x 2,000 and 1,000 x 5,000 generated daily bars).

# Bytes DataFusion's Parquet scans read per row of the year partitions the report reads
# (bytes_scanned / rows of those partitions), the larger of the two lakes (Cost section).
SCANNED_PER_READ_ROW = {
    "latest_close": 6.619, "period_returns": 13.044, "top_movers": 13.044,
    "volatility": 13.044, "moving_averages": 13.044, "volume_anomalies": 6.092,
    "max_drawdown": 13.044, "correlation": 65.221, "data_quality": 49.607,
    "quality_issues": 55.400,
}
# Compacted Parquet bytes per row: 89,133,301 B / 2,000,000 rows and 223,099,754 B /
# 5,000,000 rows (Cost section; 447 MB / 10M rows in "Insights: DataFusion vs DuckDB").
COMPACTED_BYTES_PER_ROW = 44.6
# The sink's objects before compaction ("Sink: the lake's size": 45.1 stored bytes per row).
SINK_BYTES_PER_ROW = 45.1
# The sink handler, one thread: 258,729 records/s ("Sink: handler throughput and memory"),
# so 38.7 ms of CPU per 10,000-record batch; peak RSS 27.1 MB on a 6 MB event.
SINK_RECORDS_PER_CPU_S = 258_729
# Full 10,000-record batches of one partition make 136 objects per million rows (1.36 per
# batch: a batch of daily bars touches one or two year folders; "Sink: the lake's size").
OBJECTS_PER_FULL_BATCH_ONE_PARTITION = 1.36
# Compaction wall time on this 2-core machine, process start and local crawl included:
# 4.2 s for 2,000,000 rows (207 objects), 17.8 s for 5,000,000 rows (518 objects), the
# larger per row taken (Cost section; the 10M lake took 15 s in "Insights").
COMPACT_S_PER_MILLION_ROWS = 17.8 / 5

# template.yaml settings (defaults).
SINK_MEMORY_MB, COMPACT_MEMORY_MB, CRAWLER_FN_MEMORY_MB, INSIGHTS_MEMORY_MB = 512, 2048, 128, 256
BATCH_SIZE, BATCHING_WINDOW_S = 10_000, 30           # SinkBatchSize, SinkBatchingWindowSeconds
TOPIC_PARTITIONS = 6                                  # KafkaTopicPartitions
CRAWLER_WAIT_S, INSIGHTS_TIMEOUT_S = 300, 300         # CrawlerWaitSeconds, insights Timeout
NONCURRENT_DAYS = 30                                  # NoncurrentVersionRetentionDays
ATHENA_CUTOFF = 1 << 30                               # AthenaBytesScannedCutoff (1 GiB)
ALARMS, DASHBOARDS = 15, 1                            # AWS::CloudWatch::Alarm / ::Dashboard
SINK_CUSTOM_METRICS = 9                               # functions/sink/src/metrics.rs, 1 dimension
MIN_POLLERS = 1                                       # ProvisionedPollerConfig MinimumPollers
COMPACT_TARGET_ROWS = 1_000_000                       # compact.rs DEFAULT_TARGET_ROWS
# Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB
# (https://docs.aws.amazon.com/lambda/latest/dg/resource-model.html).
MB_PER_VCPU = 1769
LOCAL_CORES = 2

# Prices, us-east-1, on demand, no free tier (sources and dates in BENCHMARKS.md).
LAMBDA_GB_S = 0.0000166667       # x86, first 6 billion GB-s a month
LAMBDA_REQUEST = 0.20 / 1e6
S3_GB_MONTH = 0.023              # S3 Standard, first 50 TB
S3_PUT = 0.005 / 1000            # PUT, COPY, POST, LIST
S3_GET = 0.0004 / 1000           # GET, SELECT and others
ATHENA_PER_TIB = 5.0             # per TB scanned, rounded up to the MB, 10 MB minimum a query
ATHENA_MIN_MB = 10
GLUE_DPU_HOUR = 0.44             # crawler, billed per second, 10-minute minimum a run
GLUE_MIN_MINUTES = 10
SNS_PUBLISH = 0.50 / 1e6
SNS_EMAIL = 2.00 / 100_000
CW_ALARM, CW_DASHBOARD, CW_METRIC, CW_LOG_GB = 0.10, 3.00, 0.30, 0.50

# Assumptions.
TRADING_DAYS_PER_YEAR = 252
TRADING_DAYS_PER_MONTH = TRADING_DAYS_PER_YEAR / 12   # rows arrive on 21 days a month
DAYS_PER_MONTH = 365.25 / 12                          # schedules fire every day: 30.44 runs
SESSION_S = 390 * 60                                  # rows arrive over a 6.5-hour session
HISTORY_MONTHS = 12                                   # lake storage after a year of data
CRAWLER_DPUS = 1                                      # not published; at least 1 (a floor)
GIB = 1 << 30


def report_rows_factor(report_days=365):
    """Trading days of data in the year partitions one report reads, on average: from
    1 January of the year of `to - report_days - LOOKBACK_DAYS` to `to`, with `to`
    anywhere in the year (a compacted object is sorted by symbol, so a date filter inside
    a year folder skips little: the measured bytes are per row of the folders read)."""
    span = report_days + LOOKBACK_DAYS + 365.25 / 2
    return span / 365.25 * TRADING_DAYS_PER_YEAR


def athena_billed_mb(scanned_bytes):
    return max(ATHENA_MIN_MB, math.ceil(scanned_bytes / (1 << 20)))


def report(read_rows, cutoff=None):
    """Per insight (bytes scanned, MB billed) for a report over `read_rows` rows; with a
    cutoff, a query that would scan more is cancelled there (and billed for it)."""
    out = {}
    for name in INSIGHTS:
        b = SCANNED_PER_READ_ROW[name] * read_rows
        if cutoff is not None:
            b = min(b, cutoff)
        out[name] = (b, athena_billed_mb(b))
    return out


def dollars_mb(mb):
    return mb / (1 << 20) * ATHENA_PER_TIB


def fmt_bytes(b):
    """Binary units, as Athena's MB and TB are taken here (the template's cutoff is 1 GiB)."""
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= size:
            return f"{b / size:,.1f} {unit}"
    return f"{b:,.0f} B"


def monthly(rows_per_day):
    """Line items of one month at `rows_per_day` (on trading days): (item, formula, $)."""
    lines = []
    rows_month = rows_per_day * TRADING_DAYS_PER_MONTH
    # Sink: a batch is cut by the window at a low rate, by BatchSize at a high one.
    rate = rows_per_day / SESSION_S
    per_batch = min(BATCH_SIZE, rate * BATCHING_WINDOW_S)
    batches_month = rows_month / per_batch
    vcpu = SINK_MEMORY_MB / MB_PER_VCPU
    sink_s = per_batch / SINK_RECORDS_PER_CPU_S / vcpu
    gb_s = batches_month * sink_s * SINK_MEMORY_MB / 1024
    lines.append((
        "Lambda sink (512 MB)",
        f"{batches_month:,.0f} invocations ({per_batch:,.0f} records each) x "
        f"{sink_s * 1000:.0f} ms (CPU time at {SINK_RECORDS_PER_CPU_S:,} records/s on "
        f"{vcpu:.2f} vCPU) = {gb_s:,.0f} GB-s",
        batches_month * LAMBDA_REQUEST + gb_s * LAMBDA_GB_S))
    # Sink S3 requests (commit.rs): per batch and partition, one state GET, one object PUT
    # per folder and one state PUT; every batch is taken to hold all 6 partitions.
    parts = TOPIC_PARTITIONS
    puts = batches_month * parts * 2
    gets = batches_month * parts
    lines.append((
        "S3 requests, sink",
        f"{batches_month:,.0f} batches x {parts} partitions x (1 object + 1 state PUT; "
        f"1 state GET) = {puts:,.0f} PUT, {gets:,.0f} GET",
        puts * S3_PUT + gets * S3_GET))
    objects_day = rows_per_day / per_batch * parts
    # Compaction: daily; reads each sink object, writes merged objects of up to 1M rows
    # with a manifest each, lists the folders (1,000 keys a page).
    merged_day = max(1, math.ceil(rows_per_day / COMPACT_TARGET_ROWS))
    c_puts = TRADING_DAYS_PER_MONTH * (2 * merged_day + math.ceil(objects_day / 1000))
    c_gets = TRADING_DAYS_PER_MONTH * objects_day
    lines.append((
        "S3 requests, compaction",
        f"{TRADING_DAYS_PER_MONTH:.0f} days x ({objects_day:,.0f} object GETs; "
        f"{merged_day:,} merged object(s) + manifest(s), LIST pages)",
        c_puts * S3_PUT + c_gets * S3_GET))
    c_s = rows_per_day / 1e6 * COMPACT_S_PER_MILLION_ROWS * LOCAL_CORES / (
        COMPACT_MEMORY_MB / MB_PER_VCPU)
    c_gbs = TRADING_DAYS_PER_MONTH * c_s * COMPACT_MEMORY_MB / 1024
    lines.append((
        "Lambda compaction (2 GB)",
        f"{TRADING_DAYS_PER_MONTH:.0f} runs x {c_s:,.0f} s ({COMPACT_S_PER_MILLION_ROWS:.2f} s "
        f"per M rows here, x 2 cores / {COMPACT_MEMORY_MB / MB_PER_VCPU:.2f} vCPU) = "
        f"{c_gbs:,.0f} GB-s",
        DAYS_PER_MONTH * LAMBDA_REQUEST + c_gbs * LAMBDA_GB_S))
    sched_gbs = DAYS_PER_MONTH * (CRAWLER_WAIT_S * CRAWLER_FN_MEMORY_MB
                                  + INSIGHTS_TIMEOUT_S * INSIGHTS_MEMORY_MB) / 1024
    lines.append((
        "Lambda crawler and insights functions",
        f"{DAYS_PER_MONTH:.1f} runs each, at most 300 s x 128 MB and 300 s x 256 MB "
        f"(their wait and timeout: a ceiling) = {sched_gbs:,.0f} GB-s",
        2 * DAYS_PER_MONTH * LAMBDA_REQUEST + sched_gbs * LAMBDA_GB_S))
    lake_gb = rows_month * HISTORY_MONTHS * COMPACTED_BYTES_PER_ROW / GIB
    lines.append((
        f"S3 storage, lake after {HISTORY_MONTHS} months",
        f"{rows_month * HISTORY_MONTHS:,.0f} rows x {COMPACTED_BYTES_PER_ROW} B = "
        f"{lake_gb:,.1f} GB (+{lake_gb / HISTORY_MONTHS:,.2f} GB each further month)",
        lake_gb * S3_GB_MONTH))
    noncurrent_gb = rows_per_day * TRADING_DAYS_PER_MONTH / DAYS_PER_MONTH * NONCURRENT_DAYS \
        * SINK_BYTES_PER_ROW / GIB
    lines.append((
        "S3 storage, compacted-away versions",
        f"{NONCURRENT_DAYS} days of sink objects ({SINK_BYTES_PER_ROW} B/row) = "
        f"{noncurrent_gb:,.2f} GB",
        noncurrent_gb * S3_GB_MONTH))
    read_rows = rows_per_day * report_rows_factor()
    rep = report(read_rows)
    mb = sum(m for _, m in rep.values())
    scanned = sum(b for b, _ in rep.values())
    lines.append((
        "Athena, daily report (cutoff raised)",
        f"{DAYS_PER_MONTH:.1f} reports x {fmt_bytes(scanned)} "
        f"({read_rows:,.0f} rows read x {sum(SCANNED_PER_READ_ROW.values()):.0f} B, "
        f"10 queries, 10 MB minimum each)",
        DAYS_PER_MONTH * dollars_mb(mb)))
    capped = report(read_rows, ATHENA_CUTOFF)
    over = sum(1 for n in INSIGHTS if SCANNED_PER_READ_ROW[n] * read_rows > ATHENA_CUTOFF)
    lines.append((
        "  (Athena with the default 1 GiB cutoff)",
        f"{over} of 10 queries cancelled at 1 GiB each: "
        + ("no report" if over == 10 else f"{10 - over} complete"),
        DAYS_PER_MONTH * dollars_mb(sum(m for _, m in capped.values()))))
    glue = DAYS_PER_MONTH * CRAWLER_DPUS * GLUE_MIN_MINUTES / 60 * GLUE_DPU_HOUR
    lines.append((
        "Glue crawler (none with partition projection)",
        f"{DAYS_PER_MONTH:.1f} crawls x {CRAWLER_DPUS} DPU x {GLUE_MIN_MINUTES}-minute "
        f"minimum (a floor: DPUs and duration not measured)",
        glue))
    lines.append((
        "SNS (one report message a day, one e-mail subscriber)",
        f"{DAYS_PER_MONTH:.1f} publishes + {DAYS_PER_MONTH:.1f} e-mails",
        DAYS_PER_MONTH * (SNS_PUBLISH + SNS_EMAIL)))
    lines.append((
        "CloudWatch alarms, dashboard, sink metrics",
        f"{ALARMS} alarms x $0.10 + {DASHBOARDS} dashboard x $3 + "
        f"{SINK_CUSTOM_METRICS} metrics x $0.30 (logs not included)",
        ALARMS * CW_ALARM + DASHBOARDS * CW_DASHBOARD + SINK_CUSTOM_METRICS * CW_METRIC))
    return lines


def tables():
    print("### Per report, on Athena terms (the scheduled report, ReportDays = 365)\n")
    per_row = sum(SCANNED_PER_READ_ROW.values())
    print(f"Rows read per report = rows a day x {report_rows_factor():.1f} trading days "
          "(the year folders from the lookback's start to the window's end, on average). "
          f"The report scans {per_row:.1f} B per row read: "
          f"{fmt_bytes(per_row * TRADING_DAYS_PER_YEAR)} per symbol-year of daily bars in "
          f"the folders read, {fmt_bytes(per_row * report_rows_factor())} per symbol and "
          f"report. With ReportDays = 30 the folders read still span "
          f"{report_rows_factor(30):.1f} trading days on average (the 400-day lookback), so a "
          f"report reads {report_rows_factor(30) / report_rows_factor():.0%} as much.\n")
    print("Each cell: bytes scanned → MB billed (MiB rounded up, 10 MB minimum a query).\n")
    cases = [("1,000 symbols, daily bars", 1000), ("5,000 symbols, daily bars", 5000),
             ("1M rows a day", 1_000_000), ("100M rows a day", 100_000_000)]
    print("| insight | B per row read | " + " | ".join(c for c, _ in cases) + " |")
    print("|---|---|" + "---|" * len(cases))
    reps = [report(r * report_rows_factor()) for _, r in cases]
    for name in INSIGHTS:
        cells = [f"{fmt_bytes(r[name][0])} → {r[name][1]:,} MB" for r in reps]
        print(f"| {name} | {SCANNED_PER_READ_ROW[name]:.1f} | " + " | ".join(cells) + " |")
    tot = [(sum(b for b, _ in r.values()), sum(m for _, m in r.values())) for r in reps]
    print(f"| **report** | {sum(SCANNED_PER_READ_ROW.values()):.1f} | "
          + " | ".join(f"**{fmt_bytes(b)} → {m:,} MB: ${dollars_mb(m):,.4f}**" for b, m in tot)
          + " |")
    print()
    for label, rows in (("1M rows a day", 1_000_000), ("100M rows a day", 100_000_000)):
        lines = monthly(rows)
        print(f"### {label}\n")
        print("| item | formula (measured inputs) | $/month |")
        print("|---|---|---|")
        total = 0.0
        for item, formula, usd in lines:
            if not item.startswith("  "):
                total += usd
            print(f"| {item.strip()} | {formula} | {usd:,.2f} |")
        print(f"| **total** | without the trigger's pollers, Kafka, network, logs | "
              f"**{total:,.2f}** |\n")
    epu_hours = MIN_POLLERS * 24 * DAYS_PER_MONTH
    print(f"Not in the totals: the trigger's provisioned pollers ({epu_hours:,.0f} "
          "event-poller-unit hours a month at the minimum of 1; price not found), "
          "CloudWatch Logs ingestion ($0.50/GB, volume not measured), the Kafka cluster, "
          "data transfer, and the S3 GETs Athena makes when it reads the lake.")
    return 0



def main(argv):
    if len(argv) > 1 and argv[1] == "measure":
        ap = argparse.ArgumentParser(prog="cost.py measure")
        ap.add_argument("bin")
        ap.add_argument("workdir")
        ap.add_argument("--lake", action="append")
        ap.add_argument("--sql-dir")
        ap.add_argument("--keep", action="store_true")
        a = ap.parse_args(argv[2:])
        a.lake = a.lake or ["1000x2000", "1000x5000"]
        return measure(a)
    if len(argv) == 1 or argv[1:] == ["tables"]:
        return tables()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
