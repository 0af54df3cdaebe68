#!/usr/bin/env python3
"""Run one insight SQL file on DuckDB over a local lake and print the result as JSON.

Usage:
    check_sql.py LAKE_DIR SQL_FILE PARAMS
    check_sql.py --bound LAKE_DIR < jobs.json     (SQL already bound by the Rust binder)
    check_sql.py --compose SQL_FILE               (print the composed text, nothing run)

SQL_FILE is composed as core/src/insights/mod.rs composes it: a line `-- @include: NAME` is
replaced by `fragments/NAME.sql` next to SQL_FILE, less that fragment's header (its leading
`--` lines up to a marker line) and with its own markers composed; a fragment twice, an
unknown name or `@include` in any other line is an error.

PARAMS is JSON text, `@path` to a JSON file, or `-` for standard input:
    {"year_from": "2019", "year_to": "2021", "scan_from": "2019-11-18",
     "from": "2020-12-23", "to": "2021-06-30", "symbols": ["AAA", "BBB"]}
An empty or missing `symbols` list means every symbol. The correlation's settings default
as the Rust `Params` does: `benchmark` "" (the equal-weight mean), `pairs` 10,
`pair_candidates` 100, and `full_matrix` "1" when `symbols` is given, else "0" (it also
picks the daily or per-symbol form of `moving_averages` and `volume_anomalies`).

The named markers of the SQL (`:year_from`, `:year_to`, `:scan_from`, `:from`, `:to`,
`:symbol_filter`, the data-quality thresholds, the correlation's `:benchmark`, `:pairs`,
`:pair_candidates`, `:full_matrix`) are turned into positional `?` by a small lexer that skips '...' strings,
"..." identifiers and -- / /* */ comments, the way the Rust binder does. `:symbol_filter`
becomes `symbol IN (?, ...)` or `TRUE`. Every marker must stand in a WHERE clause (an Athena
limit), which is checked too.

`bars` is a DuckDB view over `LAKE_DIR/*/*.parquet` with the Hive partition column `year`
kept as a string. Output (one JSON document on stdout):
    {"name": ..., "columns": [...], "rows": [[...], ...]}
Dates are ISO strings, timestamps ISO with milliseconds (`2025-11-26T00:00:00.000`); NaN and infinities become null. Exit status 2 on a
usage or SQL-file error, 1 when the query fails.
"""
import datetime
import decimal
import json
import math
import os
import re
import sys

HEADER_KEYS = ("name", "title", "description", "columns")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Clause keywords that open a new clause at their parenthesis depth.
_CLAUSES = {"select", "from", "where", "group", "having", "order", "on", "using", "limit",
            "offset", "over", "partition", "rows", "range", "window", "qualify", "union",
            "except", "intersect", "values"}


class SqlError(Exception):
    pass


def parse_header(sql):
    """The `-- key: value` lines at the top of the file, `columns` split on commas."""
    header = {}
    for line in sql.splitlines():
        s = line.strip()
        if not s:
            continue
        if not s.startswith("--"):
            break
        m = re.match(r"--\s*([a-z_]+)\s*:\s*(.*)$", s)
        if m and m.group(1) in HEADER_KEYS:
            header[m.group(1)] = m.group(2).strip()
    missing = [k for k in HEADER_KEYS if not header.get(k)]
    if missing:
        raise SqlError("header lacks " + ", ".join(missing))
    header["columns"] = [c.strip() for c in header["columns"].split(",")]
    return header


_INCLUDE = re.compile(r"-- @include: ([a-z0-9_]+)")


def compose(text, fragments_dir, within="the insight", used=None):
    """The text with each `-- @include: NAME` line replaced by the fragment NAME (see the
    usage): what the Rust `compose` returns, byte for byte."""
    used = set() if used is None else used
    out = []
    for n, line in enumerate(re.split(r"(?<=\n)", text), start=1):
        if not line:
            continue
        m = _INCLUDE.fullmatch(line.strip())
        if not m:
            if "@include" in line:
                raise SqlError(f"line {n} of {within}: `@include` outside a "
                               f"`-- @include: NAME` line: {line.strip()!r}")
            out.append(line)
            continue
        name = m.group(1)
        path = os.path.join(fragments_dir, name + ".sql")
        if not os.path.isfile(path):
            raise SqlError(f"line {n} of {within}: no fragment named {name!r} ({path})")
        if name in used:
            raise SqlError(f"line {n} of {within}: fragment {name!r} is already included")
        used.add(name)
        with open(path, encoding="utf-8") as f:
            body = f.read()
        while body.startswith("--") and not _INCLUDE.fullmatch(body.split("\n", 1)[0].strip()):
            body = body.split("\n", 1)[1] if "\n" in body else ""
        out.append(compose(body, fragments_dir, f"fragment {name!r}", used))
        if line.endswith("\n") and not out[-1].endswith("\n"):
            out.append("\n")
    return "".join(out)


def read_insight(sql_file):
    """The insight file composed with its fragments (`fragments/` beside it)."""
    with open(sql_file, encoding="utf-8") as f:
        text = f.read()
    return compose(text, os.path.join(os.path.dirname(os.path.abspath(sql_file)), "fragments"))


def tokens(sql):
    """Yield (kind, text, start, end): kind is 'skip' (string, quoted identifier, comment,
    whitespace), 'marker' (`:name`), 'word', 'open', 'close' or 'other'."""
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "'" or c == '"':
            j = i + 1
            while True:
                j = sql.find(c, j)
                if j < 0:
                    raise SqlError(f"unterminated {c} at offset {i}")
                if j + 1 < n and sql[j + 1] == c:  # doubled quote inside
                    j += 2
                    continue
                break
            yield ("skip", sql[i:j + 1], i, j + 1)
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            yield ("skip", sql[i:j], i, j)
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            if j < 0:
                raise SqlError(f"unterminated comment at offset {i}")
            yield ("skip", sql[i:j + 2], i, j + 2)
            i = j + 2
        elif sql.startswith("::", i):  # a cast, never a marker
            yield ("other", "::", i, i + 2)
            i += 2
        elif c == ":" and _IDENT.match(sql, i + 1):
            m = _IDENT.match(sql, i + 1)
            yield ("marker", m.group(0), i, m.end())
            i = m.end()
        elif c.isalpha() or c == "_":
            m = _IDENT.match(sql, i)
            yield ("word", m.group(0), i, m.end())
            i = m.end()
        elif c == "(":
            yield ("open", c, i, i + 1)
            i += 1
        elif c == ")":
            yield ("close", c, i, i + 1)
            i += 1
        else:
            yield ("other", c, i, i + 1)
            i += 1


def check_markers_in_where(sql):
    """Raise SqlError if a marker is not inside a WHERE clause.

    Tracks, for each parenthesis depth, the last clause keyword seen; a marker's clause is
    the nearest one at its depth or, failing that, in the enclosing parentheses."""
    stack = [None]
    for kind, text, start, _ in tokens(sql):
        if kind == "open":
            stack.append(None)
        elif kind == "close":
            if len(stack) > 1:
                stack.pop()
        elif kind == "word" and text.lower() in _CLAUSES:
            stack[-1] = text.lower()
        elif kind == "marker":
            clause = next((c for c in reversed(stack) if c is not None), None)
            if clause != "where":
                line = sql.count("\n", 0, start) + 1
                raise SqlError(f":{text} on line {line} is in {clause or 'no'} clause, not WHERE")


def bind(sql, params):
    """Return (sql with positional `?`, list of values) for the named markers."""
    symbols = list(params.get("symbols") or [])
    params = {"benchmark": "", "pairs": "10", "pair_candidates": "100",
              "full_matrix": "1" if symbols else "0", **params}
    out, values, pos = [], [], 0
    for kind, text, start, end in tokens(sql):
        if kind != "marker":
            continue
        out.append(sql[pos:start])
        pos = end
        if text == "symbol_filter":
            if symbols:
                out.append("symbol IN (" + ", ".join("?" for _ in symbols) + ")")
                values.extend(str(s) for s in symbols)
            else:
                out.append("TRUE")
        else:
            if text not in params or params[text] is None:
                raise SqlError(f"no value for :{text}")
            out.append("?")
            values.append(str(params[text]))
    out.append(sql[pos:])
    return "".join(out), values


def bars_view_sql(lake):
    path = lake.rstrip("/") + "/*/*.parquet"
    lit = "'" + path.replace("'", "''") + "'"
    return ("CREATE OR REPLACE VIEW bars AS SELECT * FROM read_parquet("
            f"{lit}, hive_partitioning = true, hive_types_autocast = false)")


def jsonable(v):
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, datetime.datetime):
        # Milliseconds, as the local engine and the lake's timestamp(3) columns have them.
        return v.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d" % (v.microsecond // 1000)
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    return v


def prepare(sql_text, params):
    """Check the file and bind its markers: (header, bound sql, values)."""
    header = parse_header(sql_text)
    check_markers_in_where(sql_text)
    bound, values = bind(sql_text, params)
    return header, bound, values


def execute(lake, bound, values):
    """Run bound SQL on DuckDB with `bars` over the lake: (columns, rows)."""
    import duckdb  # imported here so the lexer can be used without DuckDB

    con = duckdb.connect()
    try:
        con.execute(bars_view_sql(lake))
        cur = con.execute(bound, values)
        columns = [d[0] for d in cur.description]
        rows = [[jsonable(v) for v in row] for row in cur.fetchall()]
    finally:
        con.close()
    return columns, rows


def load_params(arg):
    if arg == "-":
        return json.load(sys.stdin)
    if arg.startswith("@"):
        with open(arg[1:], encoding="utf-8") as f:
            return json.load(f)
    return json.loads(arg)


def run_bound(lake):
    """`--bound LAKE`: jobs from stdin, already bound by the Rust binder, one DuckDB session.

    Input: [{"text": raw SQL with markers, "sql": bound SQL with ?, "values": [...]}, ...].
    Each raw text is checked for markers outside WHERE. Output: one JSON list of
    {"columns": [...], "rows": [...]} or {"error": "..."} per job.
    """
    import duckdb

    jobs = json.load(sys.stdin)
    con = duckdb.connect()
    con.execute(bars_view_sql(lake))
    out = []
    for job in jobs:
        try:
            check_markers_in_where(job["text"])
            cur = con.execute(job["sql"], job["values"])
            out.append({"columns": [d[0] for d in cur.description],
                        "rows": [[jsonable(v) for v in row] for row in cur.fetchall()]})
        except Exception as e:  # reported per job; the caller fails the test
            out.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "--bound":
        return run_bound(argv[2])
    if len(argv) == 3 and argv[1] == "--compose":
        try:
            sys.stdout.write(read_insight(argv[2]))
        except (SqlError, OSError) as e:
            print(f"check_sql: {argv[2]}: {e}", file=sys.stderr)
            return 2
        return 0
    if len(argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    _, lake, sql_file, params_arg = argv
    try:
        sql_text = read_insight(sql_file)
        header, bound, values = prepare(sql_text, load_params(params_arg))
    except (SqlError, OSError, ValueError) as e:
        print(f"check_sql: {sql_file}: {e}", file=sys.stderr)
        return 2
    try:
        columns, rows = execute(lake, bound, values)
    except Exception as e:  # the engine's own error
        print(f"check_sql: {sql_file}: query failed: {e}", file=sys.stderr)
        return 1
    if columns != header["columns"]:
        print(f"check_sql: {sql_file}: header columns {header['columns']} "
              f"but the query returns {columns}", file=sys.stderr)
        return 2
    json.dump({"name": header["name"], "columns": columns, "rows": rows}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
