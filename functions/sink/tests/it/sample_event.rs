//! The project's sample Kafka batch (real rows) through ingest and the commit protocol into
//! a local directory: the rows land once, in year folders, with their provenance, and a
//! second delivery of the same event changes nothing; a batch mixing message format
//! versions 1 and 2 lands every row with its source and line.

use pollster::block_on;
use std::path::PathBuf;
use stockstream_core::ingest::ingest;
use stockstream_core::kafka_event::{KafkaEvent, KafkaRecord};
use stockstream_sink::commit::{Entry, Sink};
use stockstream_sink::encode::{bar_of, read_json_rows, JsonLines};
use stockstream_sink::layout::Layout;
use stockstream_store::{LocalDir, Store};

fn repo() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    )
    .join("../..")
}

#[test]
fn sample_batch_lands_once_in_year_folders() {
    let text = std::fs::read_to_string(repo().join("events/sink-kafka-batch.json")).unwrap();
    let event: KafkaEvent = serde_json::from_str(&text).unwrap();
    let entries: Vec<Entry> = event.records().map(|r| ingest(r, None)).collect();
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(dir.path());
    let sink = Sink {
        store: &store,
        encoder: &JsonLines,
        layout: Layout::Year,
        prefix: "lake/bars".into(),
    };
    let first = block_on(sink.commit("stock-bars", 0, entries.clone())).unwrap();
    assert_eq!(
        (first.rows, first.quarantined, first.already_stored),
        (50, 0, 0)
    );
    // The first 50 rows run from 1986-12-31 to 1987-03: two year folders, one object each.
    let keys = block_on(store.list("lake/bars/year=")).unwrap();
    assert_eq!(
        keys,
        [
            "lake/bars/year=1986/stock-bars-0-00000000000000000100.jsonl",
            "lake/bars/year=1987/stock-bars-0-00000000000000000101.jsonl",
        ]
    );
    assert_eq!(first.objects_written, 2);

    let again = block_on(sink.commit("stock-bars", 0, entries)).unwrap();
    assert_eq!((again.already_stored, again.objects_written), (50, 0));
    assert_eq!(block_on(store.list("lake/bars/year=")).unwrap(), keys);

    let mut lines = vec![];
    for key in &keys {
        let (bytes, _) = block_on(store.get(key)).unwrap().unwrap();
        for row in read_json_rows(&bytes).unwrap() {
            assert_eq!(row.source.as_deref(), Some("indexProcessed_head.csv"));
            assert_eq!(bar_of(&row).unwrap().symbol, "HSI");
            lines.push((row.offset, row.line.unwrap()));
        }
    }
    lines.sort();
    assert_eq!(lines.len(), 50);
    assert_eq!(lines[0], (100, 2));
    assert_eq!(lines[49], (149, 51));
}

#[test]
fn a_batch_of_v1_and_v2_records_lands_each_row_with_its_source_and_line() {
    let text = std::fs::read_to_string(repo().join("events/sink-kafka-batch.json")).unwrap();
    let v1: KafkaEvent = serde_json::from_str(&text).unwrap();
    // Every third record as the producer sends it today (v2: provenance in the value, no
    // headers), from a source whose name has a comma; the rest as the sample has them (v1).
    let records: Vec<KafkaRecord> = v1
        .records()
        .enumerate()
        .map(|(i, r)| {
            if i % 3 != 0 {
                return r.clone();
            }
            let row = ingest(r, None).unwrap();
            let line = row.line.unwrap();
            let v2 = KafkaRecord::produced(
                &r.topic,
                r.partition,
                r.offset,
                r.timestamp,
                &row.bar,
                "drop/a,b.csv",
                line,
            );
            assert!(v2.headers.0.is_empty());
            v2
        })
        .collect();
    let entries: Vec<Entry> = records.iter().map(|r| ingest(r, None)).collect();
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(dir.path());
    let sink = Sink {
        store: &store,
        encoder: &JsonLines,
        layout: Layout::Year,
        prefix: "lake/bars".into(),
    };
    let s = block_on(sink.commit("stock-bars", 0, entries)).unwrap();
    assert_eq!((s.rows, s.quarantined), (50, 0));
    let mut rows = vec![];
    for key in block_on(store.list("lake/bars/year=")).unwrap() {
        let (bytes, _) = block_on(store.get(&key)).unwrap().unwrap();
        for row in read_json_rows(&bytes).unwrap() {
            rows.push((row.offset, row.source.clone().unwrap(), row.line.unwrap()));
        }
    }
    rows.sort();
    assert_eq!(rows.len(), 50);
    for (i, (offset, source, line)) in rows.into_iter().enumerate() {
        let want = if i % 3 == 0 {
            "drop/a,b.csv"
        } else {
            "indexProcessed_head.csv"
        };
        assert_eq!(
            (offset, source.as_str(), line),
            (100 + i as i64, want, i as u64 + 2)
        );
    }
}
