#!/usr/bin/env python3
"""Run bound insight SQL on Trino (Athena engine v3's engine) over a local lake, print JSON.

Usage:
    check_trino.py [--bound] LAKE_DIR < jobs.json

The jobs are those of `check_sql.py --bound` (the SQL bound by the Rust binder with
`Placeholders::Question`): [{"text": raw SQL with markers, "sql": bound SQL with ?,
"values": [...]}, ...]. Output is the same too: one JSON list of {"columns": [...],
"rows": [...]} or {"error": "..."} per job, cells converted by check_sql's `jsonable` (dates
ISO strings, NaN and infinities null).

Needs a running server (`.ci/trino start`) at STOCKSTREAM_TRINO_URL (default
http://127.0.0.1:$STOCKSTREAM_TRINO_PORT, port 19680) with the `hive` catalog it configures
(file metastore, local file system). The script creates a schema of its own with the
external table `bars` over LAKE_DIR as the template's Glue table defines it (the sink's
Parquet columns, the `year` partition key a string, `LAKE_DIR/year=YYYY/*.parquet`), finds
the partitions with `system.sync_partition_metadata` (the crawler's job), runs every job
and drops the table and schema again (metadata only: the table is external).

Each job runs as Athena runs it: the `?` text is prepared and executed with the values as
string literals (`EXECUTE ... USING '2021-01-01', ...`, as the insights Lambda's
ExecutionParameters), not spliced into the SQL. Exit status 2 on a usage error, 1 when the
table cannot be set up; a failing job is reported in its entry.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_sql import check_markers_in_where, jsonable  # noqa: E402

# The Glue table's columns (template.yaml BarsTable; functions/sink/src/parquet_file.rs),
# Hive type names as Trino spells them, then the partition key.
COLUMNS = [
    ("symbol", "varchar"),
    ("trade_date", "date"),
    ("ts", "timestamp(3)"),
    ("open", "double"),
    ("high", "double"),
    ("low", "double"),
    ("close", "double"),
    ("adj_close", "double"),
    ("volume", "bigint"),
    ("close_usd", "double"),
    ("kafka_topic", "varchar"),
    ("kafka_partition", "integer"),
    ("kafka_offset", "bigint"),
    ("kafka_timestamp", "timestamp(3)"),
    ("source", "varchar"),
    ("line", "bigint"),
    ("ingest_time", "timestamp(3)"),
    ("year", "varchar"),
]
# Longest one statement may run on the server, and one HTTP request may wait.
MAX_RUN_TIME = "10m"
REQUEST_TIMEOUT_S = 60


def server_url():
    url = os.environ.get("STOCKSTREAM_TRINO_URL")
    if url:
        return url
    return "http://127.0.0.1:%s" % os.environ.get("STOCKSTREAM_TRINO_PORT", "19680")


def connect(schema):
    import trino
    from urllib.parse import urlparse

    u = urlparse(server_url())
    return trino.dbapi.connect(
        host=u.hostname,
        port=u.port or 80,
        http_scheme=u.scheme or "http",
        user="stockstream",
        catalog="hive",
        schema=schema,
        source="check_trino",
        session_properties={"query_max_run_time": MAX_RUN_TIME},
        request_timeout=REQUEST_TIMEOUT_S,
        # PREPARE + EXECUTE ... USING: what Athena does with ExecutionParameters.
        legacy_prepared_statements=True,
    )


def run(cur, sql, params=None):
    cur.execute(sql, params) if params else cur.execute(sql)
    return cur.fetchall()


def table_ddl(schema, lake):
    cols = ",\n  ".join(f"{name} {typ}" for name, typ in COLUMNS)
    location = "local://" + os.path.abspath(lake)
    return (f"CREATE TABLE {schema}.bars (\n  {cols}\n) WITH (\n"
            f"  external_location = '{location}',\n"
            "  format = 'PARQUET',\n"
            "  partitioned_by = ARRAY['year']\n)")


def run_bound(lake):
    jobs = json.load(sys.stdin)
    schema = "check_%d_%d" % (os.getpid(), int(time.time()))
    con = connect(schema)
    cur = con.cursor()
    created = []
    try:
        try:
            run(cur, f"CREATE SCHEMA hive.{schema}")
            created.append(f"DROP SCHEMA IF EXISTS hive.{schema}")
            run(cur, table_ddl(schema, lake))
            created.append(f"DROP TABLE IF EXISTS {schema}.bars")
            run(cur, f"CALL system.sync_partition_metadata('{schema}', 'bars', 'FULL')")
        except Exception as e:
            print(f"check_trino: cannot set up the bars table over {lake}: {e}", file=sys.stderr)
            return 1
        out = []
        for job in jobs:
            try:
                check_markers_in_where(job["text"])
                rows = run(cur, job["sql"], list(job["values"]))
                out.append({"columns": [d[0] for d in cur.description],
                            "rows": [[jsonable(v) for v in row] for row in rows]})
            except Exception as e:  # reported per job; the caller fails the test
                out.append({"error": f"{type(e).__name__}: {e}"})
        json.dump(out, sys.stdout)
        sys.stdout.write("\n")
        return 0
    finally:
        for stmt in reversed(created):
            try:
                run(cur, stmt)
            except Exception as e:
                print(f"check_trino: {stmt}: {e}", file=sys.stderr)
        con.close()


def main(argv):
    args = argv[1:]
    if args and args[0] == "--bound":
        args = args[1:]
    if len(args) != 1 or not os.path.isdir(args[0]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return run_bound(args[0])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
