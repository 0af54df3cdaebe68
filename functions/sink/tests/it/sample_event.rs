//! The project's sample Kafka batch (real rows) through ingest and the commit protocol into
//! a local directory: the rows land once, in year folders, with their provenance, and a
//! second delivery of the same event changes nothing.

use pollster::block_on;
use std::path::PathBuf;
use stockstream_core::ingest::ingest;
use stockstream_core::kafka_event::KafkaEvent;
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
