//! The invocation handler on fixture events: the project's sample batch of real rows and
//! AWS's public sample (whose value is not a bar), into a local directory.

use pollster::block_on;
use std::path::PathBuf;
use stockstream_core::kafka_event::KafkaEvent;
use stockstream_sink::encode::read_quarantine;
use stockstream_sink::handler::{handle, SinkConfig};
use stockstream_sink::layout::Layout;
use stockstream_sink::metrics::{emf_error_line, emf_line};
use stockstream_sink::parquet_file::Parquet;
use stockstream_store::{LocalDir, Store};

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
        state_namespace: None,
        regressions: Default::default(),
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
    // What template.yaml's alarms and dashboard read: dimension Function, these names.
    assert_eq!(line["Function"], "sink");
    assert_eq!(
        line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([["Function"]])
    );
    let names: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    for name in [
        "RowsWritten",
        "QuarantinedRecords",
        "OffsetRegressions",
        "OffsetGaps",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
}

/// Every row (offset) in the lake's Parquet objects, with repeats.
fn lake_offsets(dir: &std::path::Path) -> Vec<i64> {
    let store = LocalDir::new(dir);
    let mut out = vec![];
    for k in block_on(store.list("lake/bars/")).unwrap() {
        if k.ends_with(".parquet") {
            let (bytes, _) = block_on(store.get(&k)).unwrap().unwrap();
            out.extend(
                stockstream_sink::parquet_file::rows(&bytes)
                    .unwrap()
                    .into_iter()
                    .map(|(o, _)| o),
            );
        }
    }
    out.sort();
    out
}

/// The sample batch cut in three by offset; returns the parts as events.
fn parts(e: &KafkaEvent, cuts: [i64; 2]) -> [KafkaEvent; 3] {
    let part = |lo: i64, hi: i64| {
        let mut p = e.clone();
        for v in p.records.values_mut() {
            v.retain(|r| lo <= r.offset && r.offset < hi);
        }
        p
    };
    [
        part(i64::MIN, cuts[0]),
        part(cuts[0], cuts[1]),
        part(cuts[1], i64::MAX),
    ]
}

#[test]
fn a_given_up_batch_leaves_a_gap_that_its_redrive_fills_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(dir.path());
    let enc = Parquet { ingest_time_ms: 0 };
    let [a, b, c] = parts(&event("events/sink-kafka-batch.json"), [110, 130]);
    block_on(handle(&a, &store, &enc, &config())).unwrap();
    // Lambda gave up on `b` (it is in the failure destination) and delivers `c`.
    let s = block_on(handle(&c, &store, &enc, &config())).unwrap();
    assert_eq!((s.offset_gaps, s.rows_written), (1, 20));
    let redrive = block_on(handle(&b, &store, &enc, &config())).unwrap();
    assert_eq!(
        (
            redrive.rows_written,
            redrive.gap_records,
            redrive.already_stored
        ),
        (20, 20, 0)
    );
    let twice = block_on(handle(&b, &store, &enc, &config())).unwrap();
    assert_eq!((twice.rows_written, twice.already_stored), (0, 20));
    assert_eq!(lake_offsets(dir.path()), (100..150).collect::<Vec<_>>());
}

#[test]
fn a_recreated_topic_stops_the_sink_and_a_new_namespace_stores_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(dir.path());
    let enc = Parquet { ingest_time_ms: 0 };
    // A topic's first 50 records (offsets 0..50).
    let mut old = event("events/sink-kafka-batch.json");
    for v in old.records.values_mut() {
        for r in v.iter_mut() {
            r.offset -= 100;
        }
    }
    block_on(handle(&old, &store, &enc, &config())).unwrap();
    // The topic deleted and re-created: offsets from 0 again, produced later.
    let mut new = old.clone();
    for v in new.records.values_mut() {
        for r in v.iter_mut() {
            r.timestamp += 3_600_000;
        }
    }
    let before = lake_offsets(dir.path());
    let err = block_on(handle(&new, &store, &enc, &config())).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("offset regression") && msg.contains("SINK_STATE_NAMESPACE"),
        "{msg}"
    );
    let line: serde_json::Value =
        serde_json::from_str(&emf_error_line(&err, "StockStream", "sink", 1).unwrap()).unwrap();
    assert_eq!(line["OffsetRegressions"], 1);
    assert_eq!(line["Function"], "sink");
    assert_eq!(
        lake_offsets(dir.path()),
        before,
        "nothing of the batch stored"
    );
    // A genuine re-delivery of the old records is still just "already stored".
    let again = block_on(handle(&old, &store, &enc, &config())).unwrap();
    assert_eq!(again.already_stored, 50);
    // A new namespace: the new records land once, apart from the old ones' keys.
    let mut ns = config();
    ns.state_namespace = Some("topic-2".into());
    let s = block_on(handle(&new, &store, &enc, &ns)).unwrap();
    assert_eq!((s.rows_written, s.offset_gaps), (50, 0));
    let s = block_on(handle(&new, &store, &enc, &ns)).unwrap();
    assert_eq!(s.already_stored, 50);
    assert_eq!(lake_offsets(dir.path()).len(), 100);
    let keys = block_on(store.list("lake/bars/")).unwrap();
    assert!(
        keys.iter()
            .any(|k| k.ends_with("_sink_state/topic-2~stock-bars-0.json")),
        "{keys:?}"
    );
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
        items[0].reason.contains("not a bar: neither a JSON object"),
        "{}",
        items[0].reason
    );
}
