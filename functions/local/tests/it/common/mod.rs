//! Lakes for the tests, written by the real sink: the shared real data, and generated data.
#![allow(dead_code)]

use pollster::block_on;
use std::path::{Path, PathBuf};
use stockstream_core::generate::{write_csv, GenConfig};
use stockstream_core::ingest::ingest;
use stockstream_core::kafka_event::KafkaRecord;
use stockstream_core::reader::{read_all, Item, ReaderConfig};
use stockstream_core::Bar;
use stockstream_sink::commit::{Entry, Sink};
use stockstream_sink::layout::Layout;
use stockstream_sink::parquet_file::Parquet;
use stockstream_store::LocalDir;

pub fn repo() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    )
    .join("../..")
}

/// Bars of a CSV, in file order.
pub fn bars_of(csv: &[u8], source: &str) -> Vec<(u64, Bar)> {
    let cfg = ReaderConfig {
        source: source.into(),
        ..Default::default()
    };
    let (items, _) = read_all(csv, cfg).unwrap();
    items
        .into_iter()
        .map(|i| match i {
            Item::Accepted(a) => (a.line, a.bar),
            Item::Rejected(r) => panic!("test data row rejected: {r:?}"),
        })
        .collect()
}

/// The shared real data (5,693 rows of HSI).
pub fn real_bars() -> Vec<(u64, Bar)> {
    let csv = std::fs::read(repo().join("producer/data/indexProcessed_head.csv")).unwrap();
    bars_of(&csv, "indexProcessed_head.csv")
}

/// Generated bars: `symbols` symbols over `days` trading days from 2019-01-01.
pub fn generated_bars(symbols: usize, days: usize) -> Vec<(u64, Bar)> {
    let config = GenConfig {
        symbols,
        days,
        start: chrono::NaiveDate::from_ymd_opt(2019, 1, 1).unwrap(),
        seed: 7,
        ..GenConfig::default()
    };
    let mut csv = vec![];
    write_csv(&config, &mut csv).unwrap();
    bars_of(&csv, "generated.csv")
}

/// Writes `bars` into `bucket/lake/bars` through the sink as one Kafka partition in batches
/// of 1,000, then sends the first `replayed` bars again under new offsets (a CSV dropped
/// twice), which the insights must count once.
pub fn write_lake(bucket: &Path, bars: &[(u64, Bar)], replayed: usize) {
    let all: Vec<(String, u64, Bar)> = bars
        .iter()
        .chain(bars.iter().take(replayed))
        .map(|(line, bar)| ("test.csv".to_string(), *line, bar.clone()))
        .collect();
    write_records(bucket, &all);
}

/// The Kafka offset (and timestamp − 1,764,115,200,000 ms) [`write_records`] gives the
/// `k`-th record it sends.
pub fn offset_of(k: usize) -> i64 {
    k as i64
}

/// Writes `records` (source file, line, bar) into `bucket/lake/bars` through the sink, in this
/// order, as one Kafka partition (offset and Kafka timestamp increase by one per record) in
/// batches of 1,000.
pub fn write_records(bucket: &Path, records: &[(String, u64, Bar)]) {
    let records: Vec<KafkaRecord> = records
        .iter()
        .enumerate()
        .map(|(i, (source, line, bar))| {
            KafkaRecord::produced(
                "stock-bars",
                0,
                offset_of(i),
                1_764_115_200_000 + offset_of(i),
                bar,
                source,
                *line,
            )
        })
        .collect();
    let store = LocalDir::new(bucket);
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
}
