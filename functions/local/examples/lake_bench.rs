//! Insight benchmark driver (run by `.ci/bench-insights`; figures in BENCHMARKS.md).
//!
//! - `lake_bench make-lake BUCKET SYMBOLS DAYS` writes a generated lake through the sink's
//!   commit (batches of 10,000 records in live-feed order, as the trigger delivers them) and
//!   crawls it; it does nothing when the catalog already holds that many rows. Daily bars
//!   from 1986, in `year=` folders.
//! - `lake_bench make-intraday-lake BUCKET SYMBOLS DAYS MINUTES` does the same with MINUTES
//!   one-minute bars per symbol and trading day from 09:30 (390 is a US session), from
//!   2024-01-02, in `year=/month=` folders (the sink's `month` layout, meant for live data).
//! - `lake_bench compact BUCKET` merges the lake's small objects (one per trigger batch and
//!   year) as the scheduled compaction does, and crawls again; prints what it merged.
//! - `lake_bench jobs FROM TO SYMBOLS` prints the suite's SQL bound with `?` for DuckDB.
//! - `lake_bench suite BUCKET FROM TO SYMBOLS REPEATS` times the whole suite on DataFusion
//!   (median of the repeats, and each insight's median and row count) and prints one JSON
//!   line, with the process's peak RSS (`VmHWM`).
//! - `lake_bench bytes BUCKET FROM TO` prints the bytes DataFusion's Parquet scan read for a
//!   query over the window and for the same query over the whole table.
//! - `lake_bench sql BUCKET SQL` runs one query three times and prints its times (and, with
//!   `LAKE_BENCH_ROWS` set, its first 20 rows as JSON).
//!
//! SYMBOLS is a comma-separated list, or `all`. `jobs` and `suite` run only the insights
//! named in `LAKE_BENCH_ONLY` (comma-separated) when it is set, and bind the correlation's
//! benchmark from `LAKE_BENCH_BENCHMARK` (default the equal-weight mean).

use std::path::Path;
use std::time::Instant;
use stockstream_core::generate::{write_csv, write_intraday_csv, GenConfig, Intraday};
use stockstream_core::ingest::ingest;
use stockstream_core::insights::{self, bind, Params, Placeholders};
use stockstream_core::kafka_event::KafkaRecord;
use stockstream_core::reader::{BarReader, Item, ReaderConfig};
use stockstream_local::bucket::Bucket;
use stockstream_local::catalog::{crawl, load};
use stockstream_local::engine::Engine;
use stockstream_local::pipeline::compact_stage;
use stockstream_sink::commit::{Entry, Sink};
use stockstream_sink::compact::DEFAULT_TARGET_ROWS;
use stockstream_sink::layout::Layout;
use stockstream_sink::parquet_file::Parquet;
use stockstream_store::LocalDir;

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    match a.as_slice() {
        ["make-lake", bucket, symbols, days] => {
            let config = GenConfig {
                symbols: symbols.parse().unwrap(),
                days: days.parse().unwrap(),
                start: chrono::NaiveDate::from_ymd_opt(1986, 1, 1).unwrap(),
                ..GenConfig::default()
            };
            let rows = (config.symbols * config.days) as u64;
            make_lake(Path::new(bucket), rows, Layout::Year, |out| {
                write_csv(&config, out)
            })
        }
        ["make-intraday-lake", bucket, symbols, days, minutes] => {
            let config = GenConfig {
                symbols: symbols.parse().unwrap(),
                days: days.parse().unwrap(),
                start: chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
                ..GenConfig::default()
            };
            let day = Intraday {
                bars_per_day: minutes.parse().unwrap(),
                ..Intraday::us_minutes()
            };
            let rows = (config.symbols * config.days) as u64 * u64::from(day.bars_per_day);
            make_lake(Path::new(bucket), rows, Layout::Month, |out| {
                write_intraday_csv(&config, &day, out)
            })
        }
        ["compact", bucket] => rt.block_on(async {
            let bucket = Path::new(bucket);
            let dir = Bucket::Dir(bucket.to_path_buf());
            let o = compact_stage(&dir, "lake/bars", DEFAULT_TARGET_ROWS)
                .await
                .unwrap();
            crawl(bucket, "lake", "stockstream").unwrap();
            println!("{}", serde_json::to_string(&o).unwrap());
        }),
        ["jobs", from, to, symbols] => {
            let p = params(from, to, symbols);
            let jobs: Vec<_> = selected()
                .iter()
                .map(|i| {
                    let b = bind(i.sql, &p, Placeholders::Question).unwrap();
                    serde_json::json!({"name": i.name, "text": i.sql, "sql": b.sql, "values": b.values})
                })
                .collect();
            println!("{}", serde_json::to_string(&jobs).unwrap());
        }
        ["suite", bucket, from, to, symbols, repeats] => rt.block_on(async {
            let bucket = Path::new(bucket);
            let engine = Engine::new(bucket, &load(bucket).unwrap()).await.unwrap();
            let p = params(from, to, symbols);
            let all = selected();
            let mut times = vec![];
            let mut each: Vec<Vec<f64>> = vec![vec![]; all.len()];
            let mut rows_each = vec![0usize; all.len()];
            let mut rows = 0;
            for _ in 0..repeats.parse::<usize>().unwrap() {
                let t0 = Instant::now();
                rows = 0;
                for (k, i) in all.iter().enumerate() {
                    let b = bind(i.sql, &p, Placeholders::Dollar).unwrap();
                    let t = Instant::now();
                    let n = engine.query(&b.sql, &b.values).await.unwrap().rows.len();
                    each[k].push(t.elapsed().as_secs_f64());
                    rows += n;
                    rows_each[k] = n;
                }
                times.push(t0.elapsed().as_secs_f64());
            }
            let each: serde_json::Map<String, serde_json::Value> = all
                .iter()
                .zip(each)
                .map(|(i, t)| (i.name.to_string(), median(t).into()))
                .collect();
            let rows_each: serde_json::Map<String, serde_json::Value> = all
                .iter()
                .zip(rows_each)
                .map(|(i, n)| (i.name.to_string(), n.into()))
                .collect();
            println!(
                "{}",
                serde_json::json!({"median_s": median(times), "rows": rows, "each_s": each,
                                   "rows_each": rows_each, "peak_rss_kb": peak_rss_kb()})
            );
        }),
        ["sql", bucket, sql] => rt.block_on(async {
            let bucket = Path::new(bucket);
            let engine = Engine::new(bucket, &load(bucket).unwrap()).await.unwrap();
            for _ in 0..3 {
                let t = Instant::now();
                let result = engine.query(sql, &[]).await.unwrap();
                let rows = result.rows.len();
                eprintln!("{rows} rows in {:.3} s", t.elapsed().as_secs_f64());
                if std::env::var_os("LAKE_BENCH_ROWS").is_some() {
                    for r in result.rows.iter().take(20) {
                        println!("{}", serde_json::to_string(r).unwrap());
                    }
                }
            }
        }),
        ["explain", bucket, name, from, to, symbols] => rt.block_on(async {
            let bucket = Path::new(bucket);
            let engine = Engine::new(bucket, &load(bucket).unwrap()).await.unwrap();
            let p = params(from, to, symbols);
            let i = insights::by_name(name).expect("an insight name");
            let b = bind(i.sql, &p, Placeholders::Dollar).unwrap();
            for q in ["EXPLAIN ", "", "EXPLAIN ", ""] {
                let t = Instant::now();
                engine
                    .query(&format!("{q}{}", b.sql), &b.values)
                    .await
                    .unwrap();
                eprintln!("{q:<9} {:.3} s", t.elapsed().as_secs_f64());
            }
            let plan = engine
                .query(&format!("EXPLAIN ANALYZE {}", b.sql), &b.values)
                .await
                .unwrap();
            for row in plan.rows {
                for v in row {
                    println!("{}", v.as_str().unwrap_or_default());
                }
            }
        }),
        ["bytes", bucket, from, to] => rt.block_on(async {
            let bucket = Path::new(bucket);
            let engine = Engine::new(bucket, &load(bucket).unwrap()).await.unwrap();
            let p = params(from, to, "all");
            let window = "SELECT symbol, min(low), max(high), sum(volume) FROM bars \
                          WHERE year BETWEEN :year_to AND :year_to \
                          AND trade_date BETWEEN CAST(:from AS DATE) AND CAST(:to AS DATE) \
                          GROUP BY symbol";
            let full = "SELECT symbol, min(low), max(high), sum(volume) FROM bars GROUP BY symbol";
            let b = bind(window, &p, Placeholders::Dollar).unwrap();
            let w = scanned(&engine, &b.sql, &b.values).await;
            let f = scanned(&engine, full, &[]).await;
            println!(
                "{}",
                serde_json::json!({"window_bytes": w, "full_bytes": f})
            );
        }),
        _ => {
            eprintln!("usage: see the doc comment of functions/local/examples/lake_bench.rs");
            std::process::exit(2);
        }
    }
}

/// The insights to run: all, or those `LAKE_BENCH_ONLY` names.
fn selected() -> Vec<insights::Insight> {
    let only = std::env::var("LAKE_BENCH_ONLY").unwrap_or_default();
    let names: Vec<&str> = only.split(',').filter(|n| !n.is_empty()).collect();
    let all = insights::all();
    for n in &names {
        assert!(all.iter().any(|i| i.name == *n), "no insight named {n}");
    }
    all.into_iter()
        .filter(|i| names.is_empty() || names.contains(&i.name))
        .collect()
}

fn params(from: &str, to: &str, symbols: &str) -> Params {
    let symbols = if symbols == "all" {
        vec![]
    } else {
        symbols.split(',').map(str::to_string).collect()
    };
    Params::new(
        Params::date("from", from).unwrap(),
        Params::date("to", to).unwrap(),
        symbols,
        None,
    )
    .unwrap()
    .with_benchmark(std::env::var("LAKE_BENCH_BENCHMARK").ok(), None)
    .unwrap()
}

/// The process's peak resident set size in kB (`VmHWM` of `/proc/self/status`; 0 elsewhere).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Sum of `bytes_scanned` over the Parquet scans of `EXPLAIN ANALYZE`.
async fn scanned(engine: &Engine, sql: &str, values: &[String]) -> u64 {
    let plan = engine
        .query(&format!("EXPLAIN ANALYZE {sql}"), values)
        .await
        .unwrap();
    let text: String = plan
        .rows
        .iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    if std::env::var_os("LAKE_BENCH_PLAN").is_some() {
        eprintln!("{text}");
    }
    text.match_indices("bytes_scanned=")
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            let num: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let unit = rest[num.len()..].trim_start().chars().next();
            parse_size(&num, unit)
        })
        .sum()
}

/// `1234`, `12.5 K`, `3.1 M` (DataFusion's metric display) as bytes.
fn parse_size(num: &str, unit: Option<char>) -> u64 {
    let mult = match unit {
        Some('K') => 1e3,
        Some('M') => 1e6,
        Some('G') => 1e9,
        _ => 1.0,
    };
    (num.parse::<f64>().unwrap_or(0.0) * mult) as u64
}

/// Writes the CSV that `generate` writes (`want` rows) through the sink's commit into
/// `bucket` in `layout`, and crawls; nothing when the catalog already holds `want` rows in
/// that layout's partition keys.
fn make_lake(
    bucket: &Path,
    want: u64,
    layout: Layout,
    generate: impl FnOnce(std::io::BufWriter<std::fs::File>) -> std::io::Result<u64>,
) {
    let keys = match layout {
        Layout::Year => 1,
        Layout::Month => 2,
    };
    if let Ok(c) = load(bucket) {
        if let Some(t) = c.tables.get("bars") {
            if t.partitions.values().map(|p| p.rows).sum::<u64>() == want
                && t.partition_keys.len() == keys
            {
                eprintln!("lake of {want} rows already there");
                return;
            }
        }
    }
    let _ = std::fs::remove_dir_all(bucket.join("lake"));
    let csv = bucket.join("generated.csv");
    std::fs::create_dir_all(bucket).unwrap();
    let written = generate(std::io::BufWriter::new(
        std::fs::File::create(&csv).unwrap(),
    ))
    .unwrap();
    assert_eq!(written, want, "rows generated into {}", csv.display());
    let input = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&csv).unwrap());
    let mut reader = BarReader::new(
        input,
        ReaderConfig {
            source: "generated.csv".into(),
            ..Default::default()
        },
    );
    let store = LocalDir::new(bucket);
    let sink = Sink {
        store: &store,
        encoder: &Parquet {
            ingest_time_ms: 1_764_115_200_000,
        },
        layout,
        prefix: "lake/bars".into(),
    };
    let mut offset = 0i64;
    let mut batch = vec![];
    let t0 = Instant::now();
    loop {
        let item = reader.next_item().unwrap();
        if let Some(Item::Accepted(a)) = &item {
            let r = KafkaRecord::produced(
                "stock-bars",
                0,
                offset,
                1_764_115_200_000,
                &a.bar,
                "generated.csv",
                a.line,
            );
            offset += 1;
            batch.push(ingest(&r, None));
        }
        if batch.len() == 10_000 || (item.is_none() && !batch.is_empty()) {
            let entries: Vec<Entry> = std::mem::take(&mut batch);
            pollster::block_on(sink.commit("stock-bars", 0, entries)).unwrap();
            if offset % 1_000_000 == 0 {
                eprintln!("  {offset} rows in {:.0?}", t0.elapsed());
            }
        }
        if item.is_none() {
            break;
        }
    }
    std::fs::remove_file(&csv).unwrap();
    assert_eq!(
        offset as u64,
        want,
        "rows of {} the reader accepted",
        csv.display()
    );
    crawl(bucket, "lake", "stockstream").unwrap();
    eprintln!(
        "lake of {offset} rows written and crawled in {:.0?}",
        t0.elapsed()
    );
}
