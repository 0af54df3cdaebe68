//! The Kafka trigger event: AWS's public samples parse with our types, the project's own
//! sample event (`events/sink-kafka-batch.json`, real rows as the producer sent them in
//! message format version 1) stays in step with the code that builds it and ingests back to
//! the CSV's bars, and records of both versions ingest alike, with their provenance.

use std::path::{Path, PathBuf};
use stockstream_core::ingest::ingest;
use stockstream_core::kafka_event::{KafkaEvent, KafkaRecord};
use stockstream_core::message::encode_value;
use stockstream_core::reader::{read_all, Item, ReaderConfig};

fn repo() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    )
    .parent()
    .unwrap()
    .to_path_buf()
}

fn load(path: &Path) -> KafkaEvent {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn aws_self_managed_sample_parses_exactly() {
    let e = load(
        &repo().join("core/tests/fixtures/events/aws-lambda-devguide-selfmanagedkafka-event.json"),
    );
    assert_eq!(e.event_source, "SelfManagedKafka");
    assert_eq!(e.event_source_arn, None);
    assert_eq!(e.len(), 1);
    let r = &e.records["mytopic-0"][0];
    assert_eq!(
        (r.topic.as_str(), r.partition, r.offset),
        ("mytopic", 0, 15)
    );
    assert_eq!(r.timestamp, 1_545_084_650_987, "no millisecond lost");
    assert_eq!(r.value_bytes().unwrap().unwrap(), b"Hello, this is a test.");
    let key = r.key_bytes().unwrap().unwrap();
    assert!(
        std::str::from_utf8(&key).is_err(),
        "the sample key is binary"
    );
    assert_eq!(
        r.headers.0,
        [("headerKey".to_string(), b"headerValue".to_vec())]
    );
    // Not a bar: quarantined with its value kept.
    let q = ingest(r, None).unwrap_err();
    assert_eq!((q.code.as_str(), q.offset), ("not_a_bar", 15));
    assert_eq!(q.raw_bytes().unwrap(), b"Hello, this is a test.");
}

#[test]
fn aws_msk_sample_parses() {
    let e = load(&repo().join("core/tests/fixtures/events/rust-runtime-example-kafka-event.json"));
    assert_eq!(e.event_source, "aws:kafka");
    assert!(e
        .event_source_arn
        .as_deref()
        .unwrap()
        .starts_with("arn:aws:kafka:"));
    let r = e.records().next().unwrap();
    assert_eq!(r.timestamp, 1_595_035_749_700);
    assert_eq!(ingest(r, None).unwrap_err().code, "not_a_bar");
}

/// The project's sample sink event: the first 50 real rows, as the producer sent them in
/// message format version 1 (JSON value, `source`/`line` headers) to partition 0 of
/// `stock-bars` (offsets 100..150, one millisecond apart). It stays version 1 on purpose:
/// topics written before version 2 hold such records, and the sink must keep reading them.
fn sample_sink_event() -> KafkaEvent {
    let csv = repo().join("producer/data/indexProcessed_head.csv");
    let f = std::io::BufReader::new(std::fs::File::open(&csv).unwrap());
    let cfg = ReaderConfig {
        source: "indexProcessed_head.csv".into(),
        ..Default::default()
    };
    let (items, _) = read_all(f, cfg).unwrap();
    let mut value = vec![];
    let records = items.iter().take(50).enumerate().map(|(i, item)| {
        let Item::Accepted(a) = item else {
            panic!("real rows are valid")
        };
        encode_value(&a.bar, &mut value);
        KafkaRecord::new(
            "stock-bars",
            0,
            100 + i as i64,
            1_764_115_200_000 + i as i64,
            Some(a.bar.symbol.as_bytes()),
            Some(&value),
            vec![
                ("source".into(), b"indexProcessed_head.csv".to_vec()),
                ("line".into(), a.line.to_string().into_bytes()),
            ],
        )
    });
    KafkaEvent::self_managed("127.0.0.1:9092", records.collect::<Vec<_>>())
}

#[test]
fn project_sample_event_is_current_and_ingests_to_the_csv_rows() {
    let path = repo().join("events/sink-kafka-batch.json");
    let built = sample_sink_event();
    if std::env::var_os("STOCKSTREAM_UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&built).unwrap() + "\n").unwrap();
    }
    let committed = load(&path);
    assert_eq!(
        committed, built,
        "regenerate with STOCKSTREAM_UPDATE_FIXTURES=1"
    );

    let rows: Vec<_> = committed
        .records()
        .map(|r| ingest(r, None).unwrap())
        .collect();
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0].bar.date.to_string(), "1986-12-31");
    assert_eq!(rows[0].line, Some(2));
    assert_eq!(rows[49].line, Some(51));
    assert_eq!(rows[49].offset, 149);
    assert!(rows
        .iter()
        .all(|r| r.source.as_deref() == Some("indexProcessed_head.csv")));
    assert_eq!(rows[3].bar.close_usd, Some(335.90698726000005));
}

#[test]
fn v1_and_v2_records_in_one_event_ingest_alike_with_their_provenance() {
    let v1 = load(&repo().join("events/sink-kafka-batch.json"));
    let mut records = vec![];
    let mut expected = vec![];
    for (i, r) in v1.records().enumerate() {
        let row = ingest(r, None).unwrap();
        let (source, line) = (row.source.clone().unwrap(), row.line.unwrap());
        if i % 2 == 0 {
            records.push(r.clone());
        } else {
            // What the producer sends today: provenance in the value, no headers.
            let p = KafkaRecord::produced(
                &r.topic,
                r.partition,
                r.offset,
                r.timestamp,
                &row.bar,
                &source,
                line,
            );
            assert!(p.headers.0.is_empty(), "a v2 record has no headers");
            assert!(p.value_bytes().unwrap().unwrap().starts_with(b"2,"));
            records.push(p);
        }
        expected.push((row.bar, Some(source), Some(line), r.offset));
    }
    // A source with commas and non-ASCII, and a symbol v2 cannot carry (sent as v1 with
    // headers).
    let mut odd = expected[0].0.clone();
    for (k, (symbol, source)) in [("HSI", "s3://drop/a,b/ünï.csv"), ("A,B", "x.csv")]
        .into_iter()
        .enumerate()
    {
        odd.symbol = symbol.into();
        let offset = 150 + k as i64;
        let r = KafkaRecord::produced("stock-bars", 0, offset, 0, &odd, source, 7 + k as u64);
        assert_eq!(r.headers.0.is_empty(), k == 0);
        records.push(r);
        expected.push((odd.clone(), Some(source.into()), Some(7 + k as u64), offset));
    }
    let event = KafkaEvent::self_managed("127.0.0.1:9092", records);
    let got: Vec<_> = event
        .records()
        .map(|r| {
            let row = ingest(r, None).unwrap();
            (row.bar, row.source, row.line, row.offset)
        })
        .collect();
    assert_eq!(got, expected);
}
