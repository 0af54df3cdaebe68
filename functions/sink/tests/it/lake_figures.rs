//! The lake's size figures (BENCHMARKS.md), checked against their targets. Sizes and counts
//! are deterministic for the generator's data, so this is a test, not a timing.
//!
//! 250,000 generated rows (100 symbols × 2,500 trading days, a live-feed order), delivered to
//! one partition in Lambda's largest batches (10,000 records), written as Parquet in year
//! folders. Targets: ≤ 200 objects per million rows (the original wrote one object per
//! row), and stored bytes ≤ 25% of the same rows as JSON lines.

use pollster::block_on;
use stockstream_core::generate::{write_csv, GenConfig};
use stockstream_core::ingest::ingest;
use stockstream_core::kafka_event::KafkaRecord;
use stockstream_core::message::encode_value;
use stockstream_core::reader::{read_all, Item, ReaderConfig};
use stockstream_sink::commit::{Entry, Sink};
use stockstream_sink::layout::Layout;
use stockstream_sink::parquet_file::Parquet;
use stockstream_store::{LocalDir, Store};

#[test]
#[ignore = "a few seconds in release, longer in debug; run by .ci/test"]
fn objects_and_bytes_per_row() {
    let config = GenConfig {
        symbols: 100,
        days: 2500,
        ..GenConfig::default()
    };
    let mut csv = vec![];
    write_csv(&config, &mut csv).unwrap();
    let (items, _) = read_all(&csv[..], ReaderConfig::default()).unwrap();
    let mut value = vec![];
    let mut json_lines_bytes = 0u64;
    let records: Vec<KafkaRecord> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let Item::Accepted(a) = item else {
                panic!("generated rows are valid")
            };
            encode_value(&a.bar, &mut value);
            json_lines_bytes += value.len() as u64 + 1;
            KafkaRecord::new(
                "bars",
                0,
                i as i64,
                0,
                Some(a.bar.symbol.as_bytes()),
                Some(&value),
                vec![],
            )
        })
        .collect();
    let rows = records.len() as u64;
    assert_eq!(rows, 250_000);

    let dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(dir.path());
    let sink = Sink {
        store: &store,
        encoder: &Parquet { ingest_time_ms: 0 },
        layout: Layout::Year,
        prefix: "lake/bars".into(),
    };
    let mut objects = 0;
    let mut bytes = 0;
    for batch in records.chunks(10_000) {
        let entries: Vec<Entry> = batch.iter().map(|r| ingest(r, None)).collect();
        let out = block_on(sink.commit("bars", 0, entries)).unwrap();
        objects += out.objects_written;
        bytes += out.bytes_written;
    }
    let keys = block_on(store.list("lake/bars/year=")).unwrap();
    assert_eq!(keys.len() as u64, objects);

    let per_million = objects as f64 * 1e6 / rows as f64;
    let ratio = bytes as f64 / json_lines_bytes as f64;
    println!(
        "lake figures: {rows} rows -> {objects} objects ({per_million:.0} per million rows), \
         {bytes} bytes Parquet = {:.1} bytes/row vs {:.1} bytes/row as JSON lines ({:.1}%)",
        bytes as f64 / rows as f64,
        json_lines_bytes as f64 / rows as f64,
        ratio * 100.0
    );
    assert!(
        per_million <= 200.0,
        "{per_million} objects per million rows"
    );
    assert!(
        ratio <= 0.25,
        "Parquet is {:.1}% of JSON lines",
        ratio * 100.0
    );
}
