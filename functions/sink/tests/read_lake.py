"""Reads a StockStream lake with two independent engines and prints what each sees.

usage: read_lake.py LAKE_TABLE_DIR

Prints one JSON object: {"duckdb": [...rows...], "pyarrow": [...rows...]}, each row with the
Hive partition column `year` as the engine derived it from the path. Used by the sink's
tests to check that other readers need no help with our files.
"""
import datetime
import json
import sys

import duckdb
import pyarrow.dataset as ds

COLUMNS = ["kafka_offset", "symbol", "trade_date", "ts", "open", "high", "low", "close",
           "adj_close", "volume", "close_usd", "source", "line", "year"]


def plain(v):
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    if isinstance(v, datetime.date):
        return v.isoformat()
    return v


def main() -> int:
    root = sys.argv[1]
    con = duckdb.connect()
    rel = con.execute(
        f"SELECT {', '.join(COLUMNS)} FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true) "
        "ORDER BY kafka_offset"
    )
    duck = [dict(zip(COLUMNS, map(plain, r))) for r in rel.fetchall()]
    table = ds.dataset(root, format="parquet", partitioning="hive").to_table(columns=COLUMNS)
    arrow = sorted((dict((k, plain(v)) for k, v in r.items()) for r in table.to_pylist()),
                   key=lambda r: r["kafka_offset"])
    types = {f.name: str(f.type) for f in table.schema}
    print(json.dumps({"duckdb": duck, "pyarrow": arrow, "pyarrow_types": types}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
