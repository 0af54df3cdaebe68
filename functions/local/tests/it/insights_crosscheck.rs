//! Correctness of the insight suite on three engines: on lakes the sink writes from the real
//! data and from generated data (each with a replayed slice that must count once), every
//! insight's DataFusion result equals DuckDB's and Trino's (the engine of Athena v3, with a
//! Hive table over the same Parquet files, the SQL bound as the insights Lambda binds it for
//! Athena) to 1e-9, and a few values equal figures computed here from the CSV rows.
//!
//! Needs the Python tools and the Trino server that `.ci/test` installs and starts
//! (`STOCKSTREAM_PYTHON`, `STOCKSTREAM_TRINO_URL`).

use crate::common::{self, generated_bars, real_bars, repo, write_lake};
use chrono::NaiveDate;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use stockstream_core::insights::{self, bind, Params, Placeholders};
use stockstream_core::Bar;
use stockstream_local::catalog::{crawl, load};
use stockstream_local::engine::Engine;
use stockstream_local::suite::run_all;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Every insight on a peer engine, through its checker script (`check_sql.py` for DuckDB,
/// `check_trino.py` for Trino) in `--bound` mode: the SQL exactly as the Rust binder binds it
/// for Athena (`?` markers, the values as execution parameters), in one process.
fn peer(script: &str, lake: &Path, params: &[Params]) -> Vec<Value> {
    let mut jobs = vec![];
    for p in params {
        for i in insights::all() {
            let b = bind(i.sql, p, Placeholders::Question).unwrap();
            jobs.push(json!({"text": i.sql, "sql": b.sql, "values": b.values}));
        }
    }
    let python = std::env::var("STOCKSTREAM_PYTHON").expect("STOCKSTREAM_PYTHON (set by .ci/test)");
    let mut child = Command::new(python)
        .arg(repo().join("functions/local/tests").join(script))
        .arg("--bound")
        .arg(lake)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&jobs).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{script} failed");
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn same_cell(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => close(x.as_f64().unwrap(), y.as_f64().unwrap()),
        _ => a == b,
    }
}

/// Crawls `bucket`, runs the suite on DataFusion and DuckDB for each params, compares.
/// Returns the DataFusion reports and how many rows were compared.
fn cross_check(bucket: &Path, cases: &[Params]) -> (Vec<stockstream_core::report::Report>, usize) {
    crawl(bucket, "lake", "stockstream").unwrap();
    let catalog = load(bucket).unwrap();
    let rt = rt();
    let engine = rt.block_on(Engine::new(bucket, &catalog)).unwrap();
    let reports: Vec<_> = cases
        .iter()
        .map(|p| rt.block_on(run_all(&engine, p, "2026-11-26T00:00:00Z".into(), |_| {})))
        .collect();
    assert!(
        std::env::var("STOCKSTREAM_TRINO_URL").is_ok(),
        "STOCKSTREAM_TRINO_URL is not set: run with .ci/test (it starts Trino)"
    );
    let lake = bucket.join("lake/bars");
    let mut compared = 0;
    for (engine, script) in [("DuckDB", "check_sql.py"), ("Trino", "check_trino.py")] {
        let results = peer(script, &lake, cases);
        let mut k = 0;
        for (p, report) in cases.iter().zip(&reports) {
            for r in &report.insights {
                let theirs = &results[k];
                k += 1;
                let what = format!(
                    "{} {}..{} {:?} benchmark {:?} pairs {} of {}",
                    r.name, p.from, p.to, p.symbols, p.benchmark, p.pairs, p.pair_candidates
                );
                assert_eq!(r.error, None, "DataFusion: {what}");
                assert!(
                    theirs.get("error").is_none(),
                    "{engine}: {what}: {}",
                    theirs["error"]
                );
                let rows = theirs["rows"].as_array().unwrap();
                assert_eq!(theirs["columns"], json!(r.columns), "{engine}: {what}");
                assert_eq!(r.rows.len(), rows.len(), "{engine}: row count of {what}");
                for (i, (ours, theirs)) in r.rows.iter().zip(rows).enumerate() {
                    let theirs = theirs.as_array().unwrap();
                    for (c, (a, b)) in ours.iter().zip(theirs).enumerate() {
                        assert!(
                            same_cell(a, b),
                            "{what}: row {i} column {}: DataFusion {a} vs {engine} {b}",
                            r.columns[c]
                        );
                    }
                    compared += 1;
                }
            }
        }
    }
    (reports, compared)
}

fn column<'a>(
    report: &'a stockstream_core::report::Report,
    insight: &str,
    col: &str,
) -> Vec<&'a Value> {
    let r = report.insights.iter().find(|r| r.name == insight).unwrap();
    let c = r.columns.iter().position(|n| n == col).unwrap();
    r.rows.iter().map(|row| &row[c]).collect()
}

fn price(b: &Bar) -> f64 {
    b.adj_close.unwrap_or(b.close)
}

/// `check_sql.py` composes an insight file with its fragments as the library does, so its
/// file mode runs the very text Athena receives.
#[test]
#[ignore = "needs the Python tools (.ci/test)"]
fn check_sql_composes_the_insight_files_as_the_library_does() {
    let python = std::env::var("STOCKSTREAM_PYTHON").expect("STOCKSTREAM_PYTHON (set by .ci/test)");
    for i in insights::all() {
        let file = repo().join(format!("core/src/insights/sql/{}.sql", i.name));
        let out = Command::new(&python)
            .arg(repo().join("functions/local/tests/check_sql.py"))
            .arg("--compose")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            i.name,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), i.sql, "{}", i.name);
    }
}

#[test]
#[ignore = "needs the Python tools and Trino (.ci/test)"]
fn real_data_datafusion_equals_duckdb_and_trino_and_independent_figures() {
    let bars = real_bars();
    let dir = tempfile::tempdir().unwrap();
    write_lake(dir.path(), &bars, 300);
    let hsi = vec!["HSI".to_string()];
    let cases = [
        Params::new(d("1990-01-01"), d("1990-12-31"), vec![], None).unwrap(),
        Params::new(d("1997-06-01"), d("1998-12-31"), hsi.clone(), None).unwrap(),
        Params::new(d("2005-01-01"), d("2008-12-31"), hsi, None).unwrap(),
    ];
    let (reports, compared) = cross_check(dir.path(), &cases);
    assert!(compared > 1000, "compared {compared} rows");

    // Independent figures for 1997-06-01..1998-12-31 (the Asian crisis), from the CSV rows.
    let r = &reports[1];
    let (from, to) = (d("1997-06-01"), d("1998-12-31"));
    let in_window: Vec<&Bar> = bars
        .iter()
        .map(|(_, b)| b)
        .filter(|b| b.date >= from && b.date <= to)
        .collect();
    let before = bars
        .iter()
        .map(|(_, b)| b)
        .rfind(|b| b.date < from)
        .unwrap();
    // Volatility: sample stddev of daily log returns, the first from the day before.
    let mut prev = price(before);
    let mut rets = vec![];
    for b in &in_window {
        rets.push((price(b) / prev).ln());
        prev = price(b);
    }
    let n = rets.len() as f64;
    let mean = rets.iter().sum::<f64>() / n;
    let sd = (rets.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let annual = column(r, "volatility", "annual_vol")[0].as_f64().unwrap();
    assert!(
        close(annual, sd * 252f64.sqrt()),
        "{annual} vs {}",
        sd * 252f64.sqrt()
    );
    assert_eq!(column(r, "volatility", "n_returns")[0], &json!(rets.len()));
    // Max drawdown within the window.
    let (mut peak, mut worst) = (f64::MIN, 0.0f64);
    for b in &in_window {
        peak = peak.max(price(b));
        worst = worst.min(price(b) / peak - 1.0);
    }
    let dd = column(r, "max_drawdown", "max_drawdown")[0]
        .as_f64()
        .unwrap();
    assert!(close(dd, worst), "{dd} vs {worst}");
    assert!(worst < -0.4, "the 1997–98 crash is in the data: {worst}");
    // Latest close and its day change.
    let last = in_window.last().unwrap();
    let prev_bar = in_window[in_window.len() - 2];
    assert_eq!(
        column(r, "latest_close", "trade_date")[0],
        &json!(last.date.to_string())
    );
    let change = column(r, "latest_close", "day_change_pct")[0]
        .as_f64()
        .unwrap();
    assert!(close(change, last.close / prev_bar.close - 1.0));
    // Moving averages: one row per trading day, ma200 the mean of the last 200 prices.
    let ma = r
        .insights
        .iter()
        .find(|i| i.name == "moving_averages")
        .unwrap();
    assert_eq!(ma.rows.len(), in_window.len(), "replayed rows counted once");
    let all: Vec<&Bar> = bars
        .iter()
        .map(|(_, b)| b)
        .filter(|b| b.date <= last.date)
        .collect();
    let ma200 = all[all.len() - 200..].iter().map(|b| price(b)).sum::<f64>() / 200.0;
    assert!(close(ma.rows.last().unwrap()[4].as_f64().unwrap(), ma200));
}

#[test]
#[ignore = "needs the Python tools and Trino (.ci/test)"]
fn generated_data_datafusion_equals_duckdb_and_trino() {
    let bars = generated_bars(8, 1100);
    let dir = tempfile::tempdir().unwrap();
    write_lake(dir.path(), &bars, 2000);
    let some = vec![
        "S00001".to_string(),
        "S00004".to_string(),
        "S00006".to_string(),
    ];
    let year = || Params::new(d("2021-01-01"), d("2021-12-31"), vec![], None).unwrap();
    let cases = [
        year(),
        Params::new(d("2020-03-01"), d("2022-03-31"), some, None).unwrap(),
        Params::new(d("2023-06-01"), d("2023-06-30"), vec![], None).unwrap(),
        // The index case: every other symbol against S00002, three pairs of each side.
        year()
            .with_benchmark(Some("S00002".into()), None)
            .unwrap()
            .with_pairs(3)
            .unwrap(),
        // The screen: pairs only among the 2 symbols most and the 2 least correlated to
        // the benchmark.
        year().with_pair_candidates(2).unwrap(),
        // Every day of the data, every symbol: more volume anomalies than a report lists.
        Params::new(d("2019-01-01"), d("2023-12-31"), vec![], None).unwrap(),
    ];
    let (reports, compared) = cross_check(dir.path(), &cases);
    assert!(compared > 1000, "compared {compared} rows");
    let full = &reports[0];
    for name in insights::all().iter().map(|i| i.name) {
        let r = full.insights.iter().find(|r| r.name == name).unwrap();
        // Clean generated data (its replayed records are identical, not restatements) has
        // nothing for the quality listing.
        assert_eq!(
            r.rows.is_empty(),
            name == "quality_issues",
            "{name} on 8 symbols over a year: {:?}",
            r.rows.first()
        );
    }
    assert_eq!(column(&reports[1], "volatility", "symbol").len(), 3);

    // Moving averages of every symbol: one row per symbol, its last day in the window, with
    // its latest cross; a named list keeps every day. Figures from the CSV rows.
    let ma = rows_of(full, "moving_averages");
    let ma_symbols: Vec<&Value> = ma.iter().map(|r| &r["symbol"]).collect();
    let names: Vec<String> = (0..8).map(|i| format!("S{i:05}")).collect();
    let want_symbols: Vec<Value> = names.iter().map(|s| json!(s)).collect();
    assert_eq!(
        ma_symbols,
        want_symbols.iter().collect::<Vec<_>>(),
        "one row per symbol"
    );
    let (from, to) = (d("2021-01-01"), d("2021-12-31"));
    let mut crossed = 0;
    for symbol in &names {
        let mut days: Vec<&Bar> = bars
            .iter()
            .map(|(_, b)| b)
            .filter(|b| &b.symbol == symbol && b.date <= to)
            .collect();
        days.sort_by_key(|b| b.date);
        let prices: Vec<f64> = days.iter().map(|b| price(b)).collect();
        let mean_of_last = |i: usize, n: usize| -> Option<f64> {
            (i + 1 >= n).then(|| prices[i + 1 - n..=i].iter().sum::<f64>() / n as f64)
        };
        let mut latest_cross: Option<(NaiveDate, &str)> = None;
        for (i, day) in days.iter().enumerate().skip(1) {
            if day.date < from {
                continue;
            }
            let now = (mean_of_last(i, 50), mean_of_last(i, 200));
            let before = (mean_of_last(i - 1, 50), mean_of_last(i - 1, 200));
            if let ((Some(a), Some(b)), (Some(pa), Some(pb))) = (now, before) {
                if pa <= pb && a > b {
                    latest_cross = Some((day.date, "golden_cross"));
                } else if pa >= pb && a < b {
                    latest_cross = Some((day.date, "death_cross"));
                }
            }
        }
        let last = days.len() - 1;
        let row = ma.iter().find(|r| r["symbol"] == json!(symbol)).unwrap();
        assert_eq!(
            row["trade_date"],
            json!(days[last].date.to_string()),
            "{symbol}"
        );
        assert!(
            close(row["price"].as_f64().unwrap(), prices[last]),
            "{symbol}"
        );
        for (c, n) in [("ma50", 50), ("ma200", 200)] {
            let want = mean_of_last(last, n).unwrap();
            let got = row[c].as_f64().unwrap();
            assert!(close(got, want), "{symbol} {c}: {got} vs {want}");
        }
        let (cross_date, cross_kind) = match latest_cross {
            Some((day, kind)) => {
                crossed += 1;
                (json!(day.to_string()), json!(kind))
            }
            None => (Value::Null, Value::Null),
        };
        assert_eq!(row["last_cross_date"], cross_date, "{symbol}");
        assert_eq!(row["last_cross"], cross_kind, "{symbol}");
    }
    assert!(crossed > 0, "some symbol crosses in 2021");
    let series = rows_of(&reports[1], "moving_averages");
    assert!(
        series.len() > 3 * 400,
        "a named list keeps every day: {}",
        series.len()
    );
    check_volume_anomalies(&bars, &cases, &reports);

    // Daily log returns of each symbol in a window, from the CSV rows (each return from the
    // symbol's bar before, which may precede the window).
    let returns = |symbol: &str, from: NaiveDate, to: NaiveDate| -> BTreeMap<NaiveDate, f64> {
        let mut days: Vec<&Bar> = bars
            .iter()
            .map(|(_, b)| b)
            .filter(|b| b.symbol == symbol)
            .collect();
        days.sort_by_key(|b| b.date);
        days.windows(2)
            .filter(|w| w[1].date >= from && w[1].date <= to)
            .map(|w| (w[1].date, (price(w[1]) / price(w[0])).ln()))
            .collect()
    };
    let symbols: Vec<String> = (0..8).map(|i| format!("S{i:05}")).collect();

    // The full matrix of a named list, over 2020-03..2022-03 (a window across years, so a
    // day key that dropped the year would pair different days): S00001 with S00004.
    let (from, to) = (d("2020-03-01"), d("2022-03-31"));
    let (a, b) = (returns("S00001", from, to), returns("S00004", from, to));
    let (n, expected) = pearson_on_common_days(&a, &b);
    let matrix = rows_of(&reports[1], "correlation");
    let pairs: Vec<_> = matrix
        .iter()
        .filter(|r| r["kind"] == json!("pair"))
        .collect();
    assert_eq!(pairs.len(), 3, "every pair of three symbols");
    assert!(matrix.iter().all(|r| r["kind"] != json!("most")));
    let row = pairs
        .iter()
        .find(|r| r["symbol_a"] == json!("S00001") && r["symbol_b"] == json!("S00004"))
        .expect("the pair S00001/S00004");
    assert!(n > 400, "{n} common days");
    assert_eq!(row["n_days"], json!(n), "common trading days");
    let got = row["correlation"].as_f64().unwrap();
    assert!(close(got, expected), "correlation {got} vs {expected}");

    // The year report against figures from the CSV rows: each symbol against the
    // equal-weight mean of the day's returns, then every pair, the most and least listed.
    let (from, to) = (d("2021-01-01"), d("2021-12-31"));
    let r: BTreeMap<&str, BTreeMap<NaiveDate, f64>> = symbols
        .iter()
        .map(|s| (s.as_str(), returns(s, from, to)))
        .collect();
    let mean_of = |members: &[&str]| -> BTreeMap<NaiveDate, f64> {
        let mut sums: BTreeMap<NaiveDate, (f64, f64)> = BTreeMap::new();
        for s in members {
            for (day, x) in &r[s] {
                let e = sums.entry(*day).or_default();
                e.0 += x;
                e.1 += 1.0;
            }
        }
        sums.into_iter().map(|(day, (t, n))| (day, t / n)).collect()
    };
    let all: Vec<&str> = symbols.iter().map(String::as_str).collect();
    let mean = mean_of(&all);
    let check_benchmark = |report: &stockstream_core::report::Report,
                           members: &[&str],
                           bench: &BTreeMap<NaiveDate, f64>,
                           label: &str| {
        let rows = rows_of(report, "correlation");
        let got: Vec<_> = rows
            .iter()
            .filter(|r| r["kind"] == json!("benchmark"))
            .collect();
        assert_eq!(got.len(), members.len(), "one benchmark row per symbol");
        let mut want: Vec<(f64, String, usize)> = members
            .iter()
            .map(|s| {
                let (n, c) = pearson_on_common_days(&r[s], bench);
                (c, s.to_string(), n)
            })
            .collect();
        want.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        for (k, (row, (c, s, n))) in got.iter().zip(&want).enumerate() {
            assert_eq!(row["rank"], json!(k + 1));
            assert_eq!(row["symbol_a"], json!(s), "rank {}", k + 1);
            assert_eq!(row["symbol_b"], json!(label));
            assert_eq!(row["n_days"], json!(n));
            let got = row["correlation"].as_f64().unwrap();
            assert!(close(got, *c), "{s}: {got} vs {c}");
        }
        want
    };
    let ranked = check_benchmark(&reports[0], &all, &mean, "equal-weight mean");
    let check_pairs = |report: &stockstream_core::report::Report, members: &[&str], n: usize| {
        let mut every: Vec<(f64, &str, &str)> = vec![];
        for (i, x) in members.iter().enumerate() {
            for y in &members[i + 1..] {
                let (x, y) = if x < y { (*x, *y) } else { (*y, *x) };
                every.push((pearson_on_common_days(&r[x], &r[y]).1, x, y));
            }
        }
        every.sort_by(|p, q| q.0.total_cmp(&p.0).then(p.1.cmp(q.1)).then(p.2.cmp(q.2)));
        let rows = rows_of(report, "correlation");
        for (kind, want) in [
            ("most", every.iter().take(n).collect::<Vec<_>>()),
            ("least", every.iter().rev().take(n).collect()),
        ] {
            let got: Vec<_> = rows.iter().filter(|r| r["kind"] == json!(kind)).collect();
            assert_eq!(got.len(), n.min(every.len()), "{kind}");
            for (row, (c, x, y)) in got.iter().zip(want) {
                assert_eq!((&row["symbol_a"], &row["symbol_b"]), (&json!(x), &json!(y)));
                let got = row["correlation"].as_f64().unwrap();
                assert!(close(got, *c), "{kind} {x}/{y}: {got} vs {c}");
            }
        }
    };
    check_pairs(&reports[0], &all, 10);

    // Against the index S00002: it leaves every other row.
    let others: Vec<&str> = all.iter().copied().filter(|s| *s != "S00002").collect();
    check_benchmark(&reports[3], &others, &r["S00002"], "S00002");
    check_pairs(&reports[3], &others, 3);

    // The screen: only the two symbols at each end of the benchmark ranking are paired.
    let ends: Vec<&str> = ranked[..2]
        .iter()
        .chain(&ranked[6..])
        .map(|(_, s, _)| s.as_str())
        .collect();
    check_pairs(&reports[4], &ends, 6);
}

/// Checks every case's `volume_anomalies` against figures from the CSV rows; returns how many
/// cases had more anomalies than their report lists.
fn check_volume_anomalies(
    bars: &[(u64, Bar)],
    cases: &[Params],
    reports: &[stockstream_core::report::Report],
) -> usize {
    // Volume anomalies from the CSV rows: each traded day's z-score against the symbol's
    // previous 60 traded days (at least 20), |z| >= 3; for every symbol the
    // insights::ANOMALY_ROWS of largest |z| (ties by symbol and day), for a named list all.
    let names: std::collections::BTreeSet<&String> = bars.iter().map(|(_, b)| &b.symbol).collect();
    let anomalies = |p: &Params| -> Vec<(f64, String, NaiveDate)> {
        let mut out = vec![];
        for symbol in names.iter().copied() {
            if p.named_list() && !p.symbols.contains(symbol) {
                continue;
            }
            let mut days: Vec<(NaiveDate, f64)> = bars
                .iter()
                .map(|(_, b)| b)
                .filter(|b| &b.symbol == symbol && b.date <= p.to)
                .filter_map(|b| Some((b.date, b.volume.filter(|v| *v > 0)? as f64)))
                .collect();
            days.sort_by_key(|x| x.0);
            for i in 0..days.len() {
                let prior = &days[i.saturating_sub(60)..i];
                if days[i].0 < p.from || prior.len() < 20 {
                    continue;
                }
                let n = prior.len() as f64;
                let mean = prior.iter().map(|x| x.1).sum::<f64>() / n;
                let sd =
                    (prior.iter().map(|x| (x.1 - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                let z = (days[i].1 - mean) / sd;
                if sd > 0.0 && z.abs() >= 3.0 {
                    out.push((z, symbol.clone(), days[i].0));
                }
            }
        }
        out.sort_by(|a, b| {
            b.0.abs()
                .total_cmp(&a.0.abs())
                .then(a.1.cmp(&b.1))
                .then(a.2.cmp(&b.2))
        });
        out
    };
    let mut capped = 0;
    for (k, report) in reports.iter().enumerate() {
        let p = &cases[k];
        let every = anomalies(p);
        let bound = if p.named_list() {
            every.len()
        } else {
            insights::ANOMALY_ROWS as usize
        };
        let mut want: Vec<&(f64, String, NaiveDate)> = every.iter().take(bound).collect();
        want.sort_by(|a, b| a.1.cmp(&b.1).then(a.2.cmp(&b.2)));
        let rows = rows_of(report, "volume_anomalies");
        assert_eq!(rows.len(), want.len(), "case {k}: anomalies listed");
        for (row, (z, symbol, day)) in rows.iter().zip(want) {
            assert_eq!(row["symbol"], json!(symbol), "case {k}");
            assert_eq!(row["trade_date"], json!(day.to_string()), "case {k}");
            assert!(
                close(row["z"].as_f64().unwrap(), *z),
                "case {k}: {symbol} {day}"
            );
            assert_eq!(
                row["n_anomalies"],
                json!(every.len()),
                "case {k}: all counted"
            );
        }
        if every.len() > rows.len() {
            capped += 1;
        }
    }
    capped
}

/// Pearson correlation of two daily series on the days both have, with that day count.
fn pearson_on_common_days(
    a: &BTreeMap<NaiveDate, f64>,
    b: &BTreeMap<NaiveDate, f64>,
) -> (usize, f64) {
    let both: Vec<(f64, f64)> = a
        .iter()
        .filter_map(|(day, x)| b.get(day).map(|y| (*x, *y)))
        .collect();
    let n = both.len() as f64;
    let (mean_a, mean_b) = (
        both.iter().map(|p| p.0).sum::<f64>() / n,
        both.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let cov: f64 = both.iter().map(|p| (p.0 - mean_a) * (p.1 - mean_b)).sum();
    let var_a: f64 = both.iter().map(|p| (p.0 - mean_a).powi(2)).sum();
    let var_b: f64 = both.iter().map(|p| (p.1 - mean_b).powi(2)).sum();
    (both.len(), cov / (var_a * var_b).sqrt())
}

/// The rows of `insight` in `report` as maps of column name to cell.
fn rows_of(
    report: &stockstream_core::report::Report,
    insight: &str,
) -> Vec<BTreeMap<String, Value>> {
    let r = report.insights.iter().find(|r| r.name == insight).unwrap();
    r.rows
        .iter()
        .map(|row| r.columns.iter().cloned().zip(row.iter().cloned()).collect())
        .collect()
}

#[test]
#[ignore = "needs the Python tools and Trino (.ci/test)"]
fn bounded_volume_anomalies_are_the_strongest_alike_on_three_engines() {
    // 40 symbols over nearly three years: more anomalies than a report of every symbol lists
    // (insights::ANOMALY_ROWS), so the bound and its tie-breaking decide the rows.
    // S00003 trades fifty times its volume on its 300th day, the first day of the third
    // case's window: its score reads the 60 days before the window, which the report scans
    // but does not score.
    let mut bars = generated_bars(40, 700);
    let spike_day = bars
        .iter()
        .filter(|(_, b)| b.symbol == "S00003")
        .nth(299)
        .unwrap()
        .1
        .date;
    for (_, b) in bars.iter_mut() {
        if b.symbol == "S00003" && b.date == spike_day {
            assert!(b.volume.is_some_and(|v| v > 0));
            b.volume = b.volume.map(|v| v * 50);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    write_lake(dir.path(), &bars, 500);
    let some: Vec<String> = ["S00003", "S00017"].iter().map(|s| s.to_string()).collect();
    let cases = [
        Params::new(d("2019-01-01"), d("2021-12-31"), vec![], None).unwrap(),
        Params::new(d("2019-01-01"), d("2021-12-31"), some, None).unwrap(),
        Params::new(spike_day, d("2021-12-31"), vec!["S00003".into()], None).unwrap(),
    ];
    let (reports, _) = cross_check(dir.path(), &cases);
    let capped = check_volume_anomalies(&bars, &cases, &reports);
    assert_eq!(capped, 1, "every symbol's anomalies outnumber the bound");
    let first = &rows_of(&reports[2], "volume_anomalies")[0];
    assert_eq!(
        first["trade_date"],
        json!(spike_day.to_string()),
        "{first:?}"
    );
    assert_eq!(first["n_prior"], json!(60), "{first:?}");
    // Moving averages: one row per symbol for every symbol, daily rows for a named list.
    assert_eq!(rows_of(&reports[0], "moving_averages").len(), 40);
    let named = rows_of(&reports[1], "moving_averages");
    assert!(named.len() > 2 * 600, "{}", named.len());
}

#[test]
#[ignore = "needs the Python tools and Trino (.ci/test)"]
fn injected_quality_issues_are_found_exactly_and_alike_on_three_engines() {
    // Six symbols over 300 trading days from 2019-01-01, every symbol every day; then, by
    // symbol: S00002 misses three days, S00003 holds one close for six days (a stale run of
    // seven bars with the day before), S00004 has one day priced 50% too high (a jump up and
    // back), S00005 has one day restated later from another file with a different close, and
    // S00001 one day re-sent without its volume (a value that becomes null is a restatement
    // too). The first 40 records are also replayed unchanged, which is not a restatement.
    let bars = generated_bars(6, 300);
    let day_of = |k: usize| bars[k * 6].1.date;
    let (from, to) = (day_of(20), day_of(280));
    let gaps = [day_of(100), day_of(101), day_of(150)];
    let mut records: Vec<(String, u64, Bar)> = vec![];
    let stale_close = bars
        .iter()
        .find(|(_, b)| b.symbol == "S00003" && b.date == day_of(199))
        .unwrap()
        .1
        .close;
    for (line, bar) in &bars {
        let mut bar = bar.clone();
        let k = bars.iter().position(|(_, b)| b.date == bar.date).unwrap() / 6;
        if bar.symbol == "S00002" && gaps.contains(&bar.date) {
            continue;
        }
        if bar.symbol == "S00003" && (200..206).contains(&k) {
            bar.open = stale_close;
            bar.high = stale_close;
            bar.low = stale_close;
            bar.close = stale_close;
            bar.adj_close = Some(stale_close);
        }
        if bar.symbol == "S00004" && k == 120 {
            bar.open *= 1.5;
            bar.high *= 1.5;
            bar.low *= 1.5;
            bar.close *= 1.5;
            bar.adj_close = bar.adj_close.map(|p| p * 1.5);
        }
        records.push(("generated.csv".into(), *line, bar));
    }
    let replayed: Vec<_> = records[..40].to_vec();
    records.extend(replayed);
    let (orig_line, original) = bars
        .iter()
        .find(|(_, b)| b.symbol == "S00005" && b.date == day_of(130))
        .cloned()
        .unwrap();
    let mut restated = original.clone();
    restated.close = original.close * 1.01;
    restated.high = original.high.max(restated.close);
    restated.adj_close = Some(restated.close);
    records.push(("restated.csv".into(), 7, restated.clone()));
    let restated_offset = common::offset_of(records.len() - 1);
    let (_, volume_kept) = bars
        .iter()
        .find(|(_, b)| b.symbol == "S00001" && b.date == day_of(140))
        .cloned()
        .unwrap();
    assert!(volume_kept.volume.is_some());
    let volume_lost = Bar {
        volume: None,
        ..volume_kept
    };
    records.push(("restated.csv".into(), 8, volume_lost));
    let original_offset = common::offset_of(
        records
            .iter()
            .position(|(_, _, b)| b.symbol == "S00005" && b.date == day_of(130))
            .unwrap(),
    );

    let dir = tempfile::tempdir().unwrap();
    common::write_records(dir.path(), &records);
    let cases = [
        Params::new(from, to, vec![], None).unwrap(),
        // One symbol: its trading calendar is still the whole lake's.
        Params::new(from, to, vec!["S00002".into()], None).unwrap(),
    ];
    let (reports, compared) = cross_check(dir.path(), &cases);
    assert!(compared > 100, "compared {compared} rows");

    // Independent figures from the records sent: the kept bar of each symbol and day (the
    // last sent), daily log returns over the kept bars.
    let mut kept: BTreeMap<(String, NaiveDate), Bar> = BTreeMap::new();
    for (_, _, b) in &records {
        kept.insert((b.symbol.clone(), b.date), b.clone());
    }
    let mut moves = vec![];
    let mut prev: Option<&Bar> = None;
    for ((_, date), b) in &kept {
        if let Some(p) = prev.filter(|p| p.symbol == b.symbol) {
            let r = (price(b) / price(p)).ln();
            if *date >= from && *date <= to && r.abs() > insights::QUALITY.max_move {
                moves.push((b.symbol.clone(), *date, r));
            }
        }
        prev = Some(b);
    }
    assert_eq!(
        moves
            .iter()
            .map(|m| (m.0.as_str(), m.1))
            .collect::<Vec<_>>(),
        [("S00004", day_of(120)), ("S00004", day_of(121))],
        "the jump up and back, nothing else"
    );

    let issues = rows_of(&reports[0], "quality_issues");
    // Daily bars have no time of day (their `ts` is midnight), and the other kinds are days.
    assert!(issues.iter().all(|r| r["bar_time"].is_null()), "{issues:?}");
    let of_kind = |kind: &str| -> Vec<&BTreeMap<String, Value>> {
        issues.iter().filter(|r| r["kind"] == json!(kind)).collect()
    };
    let missing = of_kind("missing_day");
    let got: Vec<(Value, Value)> = missing
        .iter()
        .map(|r| (r["symbol"].clone(), r["trade_date"].clone()))
        .collect();
    let want: Vec<(Value, Value)> = gaps
        .iter()
        .rev()
        .map(|d| (json!("S00002"), json!(d.to_string())))
        .collect();
    assert_eq!(got, want, "the gaps, latest first");
    assert!(missing
        .iter()
        .all(|r| r["kind_total"] == json!(3) && r["n_bars"] == json!(5)));

    let stale = of_kind("stale_run");
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(stale[0]["symbol"], json!("S00003"));
    assert_eq!(stale[0]["trade_date"], json!(day_of(199).to_string()));
    assert_eq!(stale[0]["end_date"], json!(day_of(205).to_string()));
    assert_eq!(stale[0]["n_bars"], json!(7));
    assert!(close(stale[0]["close"].as_f64().unwrap(), stale_close));

    let jumps = of_kind("implausible_move");
    assert_eq!(jumps.len(), 2, "{jumps:?}");
    for row in &jumps {
        let m = moves
            .iter()
            .find(|m| json!(m.1.to_string()) == row["trade_date"])
            .unwrap();
        assert_eq!(row["symbol"], json!(m.0));
        assert!(close(row["log_return"].as_f64().unwrap(), m.2));
        assert_eq!(row["kind_total"], json!(2));
    }

    let versions = of_kind("restatement");
    assert_eq!(versions.len(), 4, "{versions:?}");
    // The latest day first: S00001's two versions (the null one kept), then S00005's.
    for (row, status) in versions[..2].iter().zip(["kept", "superseded"]) {
        assert_eq!(row["symbol"], json!("S00001"));
        assert_eq!(row["trade_date"], json!(day_of(140).to_string()));
        assert_eq!(row["status"], json!(status));
        assert_eq!(row["volume"].is_null(), status == "kept", "{row:?}");
        assert_eq!(row["kind_total"], json!(2));
    }
    let versions = &versions[2..];
    let expect = [
        (
            1,
            "kept",
            "restated.csv",
            7,
            restated_offset,
            restated.close,
        ),
        (
            2,
            "superseded",
            "generated.csv",
            orig_line,
            original_offset,
            original.close,
        ),
    ];
    for (row, (version, status, source, line, offset, close_value)) in versions.iter().zip(expect) {
        assert_eq!(row["symbol"], json!("S00005"));
        assert_eq!(row["trade_date"], json!(day_of(130).to_string()));
        assert_eq!(row["version"], json!(version));
        assert_eq!(row["status"], json!(status));
        assert_eq!(row["source"], json!(source));
        assert_eq!(row["line"], json!(line));
        assert_eq!(row["kafka_offset"], json!(offset));
        assert!(close(row["close"].as_f64().unwrap(), close_value));
        let arrived = chrono::DateTime::from_timestamp_millis(1_764_115_200_000 + offset)
            .unwrap()
            .naive_utc()
            .format("%Y-%m-%dT%H:%M:%S%.3f")
            .to_string();
        assert_eq!(row["arrived_at"], json!(arrived));
        assert_eq!(row["kind_total"], json!(2));
    }

    // The per-symbol summary: completeness from the gaps, one count per injected issue.
    let days = bars
        .iter()
        .filter(|(_, b)| b.symbol == "S00001" && b.date >= from && b.date <= to)
        .count() as i64;
    let summary = rows_of(&reports[0], "data_quality");
    assert_eq!(summary.len(), 6);
    for row in &summary {
        let symbol = row["symbol"].as_str().unwrap();
        let n = |c: &str| row[c].as_i64().unwrap();
        let gaps_here = if symbol == "S00002" { 3 } else { 0 };
        assert_eq!(n("expected_days"), days, "{symbol}");
        assert_eq!(n("bars"), days - gaps_here, "{symbol}");
        assert_eq!(n("missing_days"), gaps_here, "{symbol}");
        let completeness = row["completeness"].as_f64().unwrap();
        assert!(close(completeness, (days - gaps_here) as f64 / days as f64));
        assert_eq!(n("stale_runs"), i64::from(symbol == "S00003"), "{symbol}");
        assert_eq!(
            n("restated_days"),
            i64::from(symbol == "S00005" || symbol == "S00001"),
            "{symbol}"
        );
        assert_eq!(
            n("implausible_moves"),
            if symbol == "S00004" { 2 } else { 0 },
            "{symbol}"
        );
    }
    let one = rows_of(&reports[1], "data_quality");
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["missing_days"], json!(3), "the lake's calendar");
    assert_eq!(rows_of(&reports[1], "quality_issues").len(), 3);
}

#[test]
#[ignore = "needs the Python tools and Trino (.ci/test)"]
fn intraday_bars_give_restated_bars_and_day_volumes_alike_on_three_engines() {
    // Three symbols over 30 days, six five-minute bars a day from 09:30 (each bar distinct),
    // the first 20 records replayed unchanged, one bar (S00001, day 10, 09:45) restated
    // later from another file, one more bar (S00000, day 12, 10:05:07: an hour of two
    // digits, a minute and a second of one) restated too, and one day's bars (S00002, day 25)
    // with a volume spike. A day holds six or seven different bars, which restate nothing:
    // only a bar sent twice with other values is a restatement, and its `bar_time` says
    // which. A day's volume is the sum of its bars.
    let daily = generated_bars(3, 30);
    let mut records: Vec<(String, u64, Bar)> = vec![];
    for (line, bar) in &daily {
        for k in 0..6u32 {
            let mut b = bar.clone();
            let f = 1.0 + 0.001 * f64::from(k);
            (b.open, b.high, b.low, b.close) = (b.open * f, b.high * f, b.low * f, b.close * f);
            b.adj_close = b.adj_close.map(|p| p * f);
            b.time = chrono::NaiveTime::from_hms_opt(9, 30 + 5 * k, 0);
            records.push(("minutes.csv".into(), line * 10 + u64::from(k), b));
        }
    }
    // S00000's day 12 gets a late bar off the minute, a copy of its 09:55 bar.
    let day12 = daily[12 * 3].1.date;
    let late = chrono::NaiveTime::from_hms_opt(10, 5, 7);
    let (late_line, late_bar) = records
        .iter()
        .find(|(_, _, b)| {
            b.symbol == "S00000"
                && b.date == day12
                && b.time == chrono::NaiveTime::from_hms_opt(9, 55, 0)
        })
        .map(|(_, l, b)| {
            (
                l + 1,
                Bar {
                    time: late,
                    ..b.clone()
                },
            )
        })
        .unwrap();
    records.push(("minutes.csv".into(), late_line, late_bar.clone()));
    // S00002 trades twenty times its usual volume on day 25, in every bar of the day.
    let day25 = daily[25 * 3].1.date;
    for (_, _, b) in records.iter_mut() {
        if b.symbol == "S00002" && b.date == day25 {
            b.volume = b.volume.map(|v| v * 20);
        }
    }
    let spike: u64 = records
        .iter()
        .filter(|(_, _, b)| b.symbol == "S00002" && b.date == day25)
        .map(|(_, _, b)| b.volume.unwrap())
        .sum();
    let replayed: Vec<_> = records[..20].to_vec();
    records.extend(replayed);
    let day10 = daily[10 * 3].1.date;
    let (orig_line, original) = records
        .iter()
        .find(|(_, _, b)| {
            b.symbol == "S00001"
                && b.date == day10
                && b.time == chrono::NaiveTime::from_hms_opt(9, 45, 0)
        })
        .map(|(_, l, b)| (*l, b.clone()))
        .unwrap();
    let mut restated = original.clone();
    restated.close = original.close * 1.01;
    restated.high = original.high.max(restated.close);
    restated.adj_close = Some(restated.close);
    records.push(("restated.csv".into(), 3, restated.clone()));
    let mut late_restated = late_bar.clone();
    late_restated.close = late_bar.close * 0.99;
    late_restated.low = late_bar.low.min(late_restated.close);
    late_restated.adj_close = Some(late_restated.close);
    records.push(("restated.csv".into(), 4, late_restated));

    let dir = tempfile::tempdir().unwrap();
    common::write_records(dir.path(), &records);
    let (from, to) = (daily[0].1.date, daily[daily.len() - 1].1.date);
    let (reports, compared) =
        cross_check(dir.path(), &[Params::new(from, to, vec![], None).unwrap()]);
    assert!(compared > 50, "compared {compared} rows");

    let versions: Vec<_> = rows_of(&reports[0], "quality_issues")
        .into_iter()
        .filter(|r| r["kind"] == json!("restatement"))
        .collect();
    let got: Vec<[Value; 5]> = versions
        .iter()
        .map(|r| ["symbol", "trade_date", "bar_time", "source", "line"].map(|c| r[c].clone()))
        .collect();
    assert_eq!(
        got,
        [
            [
                json!("S00000"),
                json!(day12.to_string()),
                json!("10:05:07"),
                json!("restated.csv"),
                json!(4)
            ],
            [
                json!("S00000"),
                json!(day12.to_string()),
                json!("10:05:07"),
                json!("minutes.csv"),
                json!(late_line)
            ],
            [
                json!("S00001"),
                json!(day10.to_string()),
                json!("09:45"),
                json!("restated.csv"),
                json!(3)
            ],
            [
                json!("S00001"),
                json!(day10.to_string()),
                json!("09:45"),
                json!("minutes.csv"),
                json!(orig_line)
            ],
        ],
        "each restated bar's two versions, kept first, the latest bar first, and nothing else"
    );
    // The day's volume is the sum of its bars, not its last bar's.
    let anomalies = rows_of(&reports[0], "volume_anomalies");
    let got = anomalies
        .iter()
        .find(|r| r["symbol"] == json!("S00002") && r["trade_date"] == json!(day25.to_string()))
        .unwrap_or_else(|| panic!("the spike is an anomaly: {anomalies:?}"));
    assert_eq!(got["volume"], json!(spike));
    let restated_days: Vec<(Value, Value)> = rows_of(&reports[0], "data_quality")
        .iter()
        .map(|r| (r["symbol"].clone(), r["restated_days"].clone()))
        .collect();
    assert_eq!(
        restated_days,
        [
            (json!("S00000"), json!(1)),
            (json!("S00001"), json!(1)),
            (json!("S00002"), json!(0)),
        ],
        "restated bars, however many a day"
    );
}
