//! The invocation handler on fixture events: the project's sample batch of real rows and
//! AWS's public sample (whose value is not a bar), into a local directory.

use pollster::block_on;
use std::path::PathBuf;
use stockstream_core::kafka_event::KafkaEvent;
use stockstream_sink::encode::read_quarantine;
use stockstream_sink::handler::{handle, SinkConfig};
use stockstream_sink::layout::Layout;
use stockstream_sink::metrics::emf_line;
use stockstream_sink::parquet_file::Parquet;
use stockstream_sink::store::{LocalDir, Store};

fn repo() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    )
    .join("../..")
}

fn event(path: &str) -> KafkaEvent {
    serde_json::from_str(&std::fs::read_to_string(repo().join(path)).unwrap()).unwrap()
}

fn config() -> SinkConfig {
    SinkConfig {
        prefix: "lake/bars".into(),
        layout: Layout::Year,
        known_symbols: None,
    }
}

#[test]
fn sample_batch_then_its_redelivery() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(dir.path());
    let enc = Parquet { ingest_time_ms: 0 };
    let e = event("events/sink-kafka-batch.json");
    let s = block_on(handle(&e, &store, &enc, &config())).unwrap();
    assert_eq!(
        (s.records_in, s.rows_written, s.quarantined, s.partitions),
        (50, 50, 0, 1)
    );
    assert_eq!(s.objects_written, 2, "1986 and 1987");
    assert!(s.bytes_written > 0);
    let again = block_on(handle(&e, &store, &enc, &config())).unwrap();
    assert_eq!(
        (
            again.already_stored,
            again.rows_written,
            again.objects_written
        ),
        (50, 0, 0)
    );

    let line: serde_json::Value =
        serde_json::from_str(&emf_line(&s, "StockStream", "sink", 1_764_115_200_000)).unwrap();
    assert_eq!(
        line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "StockStream"
    );
    assert_eq!(
        line["_aws"]["CloudWatchMetrics"][0]["Metrics"][1]["Name"],
        "RowsWritten"
    );
    assert_eq!(line["RowsWritten"], 50);
    assert_eq!(line["FunctionName"], "sink");
}

#[test]
fn records_that_are_not_bars_are_quarantined_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(dir.path());
    let e = event("core/tests/fixtures/events/aws-lambda-devguide-selfmanagedkafka-event.json");
    let s = block_on(handle(
        &e,
        &store,
        &Parquet { ingest_time_ms: 0 },
        &config(),
    ))
    .unwrap();
    assert_eq!((s.records_in, s.rows_written, s.quarantined), (1, 0, 1));
    assert_eq!(s.quarantine_reasons["not_a_bar"], 1);
    let keys = block_on(store.list("lake/bars/")).unwrap();
    let q: Vec<&String> = keys.iter().filter(|k| k.contains("/quarantine/")).collect();
    assert_eq!(
        q,
        ["lake/bars/quarantine/mytopic-0-00000000000000000015.jsonl"]
    );
    let (bytes, _) = block_on(store.get(q[0])).unwrap().unwrap();
    let items = read_quarantine(&bytes).unwrap();
    assert_eq!(items[0].raw_bytes().unwrap(), b"Hello, this is a test.");
    assert!(
        items[0].reason.contains("not a v1 bar"),
        "{}",
        items[0].reason
    );
}
