//! Output check: a lake written by the sink from the real data is read by DuckDB and pyarrow,
//! with the Hive partitions, and both return exactly the CSV's rows and values.
//!
//! Needs the Python tools that `.ci/test` installs (`STOCKSTREAM_PYTHON`).

use pollster::block_on;
use std::path::PathBuf;
use std::process::Command;
use stockstream_core::ingest::ingest;
use stockstream_core::kafka_event::KafkaRecord;
use stockstream_core::reader::{read_all, Item, ReaderConfig};
use stockstream_core::Bar;
use stockstream_sink::commit::{Entry, Sink};
use stockstream_sink::layout::Layout;
use stockstream_sink::parquet_file::Parquet;
use stockstream_store::LocalDir;

fn repo() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    )
    .join("../..")
}

fn real_bars() -> Vec<(u64, Bar)> {
    let f = std::fs::File::open(repo().join("producer/data/indexProcessed_head.csv")).unwrap();
    let cfg = ReaderConfig {
        source: "indexProcessed_head.csv".into(),
        ..Default::default()
    };
    let (items, _) = read_all(std::io::BufReader::new(f), cfg).unwrap();
    items
        .into_iter()
        .map(|i| match i {
            Item::Accepted(a) => (a.line, a.bar),
            Item::Rejected(r) => panic!("real data row rejected: {r:?}"),
        })
        .collect()
}

#[test]
#[ignore = "needs the Python tools (.ci/test)"]
fn duckdb_and_pyarrow_read_the_lake_as_written() {
    let bars = real_bars();
    assert_eq!(bars.len(), 5693);
    // As the producer would send them: one partition, offsets from 0, in batches of 1,000.
    let records: Vec<KafkaRecord> = bars
        .iter()
        .enumerate()
        .map(|(i, (line, bar))| {
            KafkaRecord::produced(
                "stock-bars",
                0,
                i as i64,
                1_764_115_200_000 + i as i64,
                bar,
                "indexProcessed_head.csv",
                *line,
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(dir.path());
    let sink = Sink {
        store: &store,
        encoder: &Parquet {
            ingest_time_ms: 1_764_115_300_000,
        },
        layout: Layout::Year,
        prefix: "lake/bars".into(),
    };
    for chunk in records.chunks(1000) {
        let entries: Vec<Entry> = chunk.iter().map(|r| ingest(r, None)).collect();
        block_on(sink.commit("stock-bars", 0, entries)).unwrap();
    }

    let python = std::env::var("STOCKSTREAM_PYTHON").expect("STOCKSTREAM_PYTHON (set by .ci/test)");
    let out = Command::new(python)
        .arg(repo().join("functions/sink/tests/read_lake.py"))
        .arg(dir.path().join("lake/bars"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for engine in ["duckdb", "pyarrow"] {
        let rows = seen[engine].as_array().unwrap();
        assert_eq!(rows.len(), 5693, "{engine}");
        for (i, ((line, bar), row)) in bars.iter().zip(rows).enumerate() {
            let ctx = format!("{engine} offset {i}");
            assert_eq!(row["kafka_offset"], i as i64, "{ctx}");
            assert_eq!(row["symbol"], bar.symbol.as_str(), "{ctx}");
            assert_eq!(row["trade_date"], bar.date.to_string(), "{ctx}");
            assert_eq!(row["ts"], format!("{}T00:00:00", bar.date), "{ctx}");
            assert_eq!(
                row["year"].to_string().trim_matches('"'),
                bar.date.format("%Y").to_string(),
                "{ctx}"
            );
            for (name, v) in [
                ("open", bar.open),
                ("high", bar.high),
                ("low", bar.low),
                ("close", bar.close),
            ] {
                assert_eq!(row[name].as_f64(), Some(v), "{ctx} {name}");
            }
            assert_eq!(row["adj_close"].as_f64(), bar.adj_close, "{ctx}");
            assert_eq!(row["close_usd"].as_f64(), bar.close_usd, "{ctx}");
            assert_eq!(row["volume"].as_u64(), bar.volume, "{ctx}");
            assert_eq!(row["line"].as_u64(), Some(*line), "{ctx}");
            assert_eq!(row["source"], "indexProcessed_head.csv", "{ctx}");
        }
    }
    let types = &seen["pyarrow_types"];
    assert_eq!(types["trade_date"], "date32[day]");
    assert_eq!(types["ts"], "timestamp[ms]");
    assert_eq!(types["volume"], "int64");
    assert_eq!(types["symbol"], "string");
}
