//! The replay handler against the moto S3 server and the local broker (both started by
//! `.ci/test`, addresses in `STOCKSTREAM_TEST_S3_ENDPOINT` and `STOCKSTREAM_TEST_BROKERS`):
//! a CSV put to S3 under a key that needs URL encoding, the S3 event handed to the handler,
//! and the topic read back with an independent consumer: every valid row exactly once, with
//! the S3 URI as its source, and the rejects under the rejects prefix with their reasons.
//! Then a file replayed in slices too short to finish (as a file too large for one
//! invocation is): each invocation writes a continuation, the next resumes, and the topic
//! still holds every row once.

use aws_sdk_s3::primitives::ByteStream;
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use stockstream_core::reader::{read_all, Item, ReaderConfig};
use stockstream_producer::kafka::read_range;
use stockstream_replay::config::ReplayConfig;
use stockstream_replay::event::S3Event;
use stockstream_replay::handler::handle;
use stockstream_replay::replay::{continue_key, replay_object};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run with .ci/test (it starts Kafka and moto)")
    })
}

fn s3() -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(env("STOCKSTREAM_TEST_S3_ENDPOINT"))
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "moto",
        ))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

fn unique(name: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{n}")
}

fn create_topic(topic: &str, partitions: u32) {
    let repo = std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    )
    .join("../..");
    let st = std::process::Command::new(repo.join(".ci/broker"))
        .args(["create-topic", topic, &partitions.to_string()])
        .status()
        .unwrap();
    assert!(st.success(), "creating topic {topic}");
}

/// Every message of `topic` up to its high watermarks: source → line → count. Read with the
/// producer library's range reader (itself checked against confluent-kafka in the producer's
/// tests), not the replay code under test.
fn read_topic(topic: &str) -> BTreeMap<String, BTreeMap<u64, u32>> {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", env("STOCKSTREAM_TEST_BROKERS"))
        .set("group.id", unique("replay-test-reader"))
        .set("enable.auto.commit", "false");
    let mut out: BTreeMap<String, BTreeMap<u64, u32>> = BTreeMap::new();
    read_range(
        &cfg,
        topic,
        &BTreeMap::new(),
        Duration::from_secs(60),
        |m| {
            let (mut source, mut line) = (None, None);
            for h in m.headers().unwrap().iter() {
                let v = String::from_utf8_lossy(h.value.unwrap()).to_string();
                match h.key {
                    "source" => source = Some(v),
                    "line" => line = Some(v.parse::<u64>().unwrap()),
                    _ => {}
                }
            }
            assert!(m.key().is_some(), "keyed by symbol");
            *out.entry(source.unwrap())
                .or_default()
                .entry(line.unwrap())
                .or_default() += 1;
        },
    )
    .unwrap();
    out
}

fn config(topic: &str) -> ReplayConfig {
    ReplayConfig::from_env(|k| match k {
        "KAFKA_BROKERS" => Some(env("STOCKSTREAM_TEST_BROKERS")),
        "KAFKA_TOPIC" => Some(topic.to_string()),
        _ => None,
    })
    .unwrap()
}

/// The CSV: the real data's first 1,500 rows, then rows the validator rejects.
fn csv_with_rejects() -> Vec<u8> {
    let repo = std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    )
    .join("../..");
    let real = std::fs::read_to_string(repo.join("producer/data/indexProcessed_head.csv")).unwrap();
    let mut text: String = real.lines().take(1501).map(|l| format!("{l}\n")).collect();
    text.push_str("HSI,2009-01-02,abc,1,1,1,1,100,1\n");
    text.push_str("HSI,2009-01-05,10,9,11,10,10,100,1\n");
    text.push_str("HSI,not-a-date,10,11,9,10,10,100,1\n");
    text.into_bytes()
}

fn accepted_lines(csv: &[u8]) -> (Vec<u64>, u64) {
    let (items, stats) = read_all(csv, ReaderConfig::default()).unwrap();
    let lines = items
        .into_iter()
        .filter_map(|i| match i {
            Item::Accepted(a) => Some(a.line),
            Item::Rejected(_) => None,
        })
        .collect();
    (lines, stats.rejected)
}

/// Drops `csv` into the bucket, as a user's upload would.
async fn put_csv(c: &aws_sdk_s3::Client, bucket: &str, key: &str, csv: &[u8]) {
    c.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(csv.to_vec()))
        .send()
        .await
        .unwrap();
}

fn put_event(bucket: &str, encoded_key: &str) -> S3Event {
    serde_json::from_value(serde_json::json!({"Records": [{
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": encoded_key, "size": 1}}
    }]}))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local broker and moto (.ci/test)"]
async fn a_dropped_csv_arrives_in_kafka_once_with_its_rejects_kept() {
    let c = s3();
    let bucket = unique("replay");
    c.create_bucket().bucket(&bucket).send().await.unwrap();
    let topic = unique("replay-bars");
    create_topic(&topic, 3);
    let csv = csv_with_rejects();
    let key = "drop/2026 prices (HSI).csv";
    put_csv(&c, &bucket, key, &csv).await;
    let cfg = config(&topic);
    let work = tempfile::tempdir().unwrap();
    let event = put_event(&bucket, "drop/2026+prices+%28HSI%29.csv");

    let out = handle(&c, &cfg, &event, None, work.path()).await.unwrap();
    assert_eq!(out.objects.len(), 1);
    let r = &out.objects[0];
    let (lines, rejected) = accepted_lines(&csv);
    assert_eq!(rejected, 3);
    assert!(r.complete && !r.continued);
    assert_eq!(r.delivered, lines.len() as u64);
    assert_eq!(r.rejected, 3);
    let source = format!("s3://{bucket}/{key}");
    assert_eq!(r.source, source);

    // Rejects: one JSON line per rejected row, with its line and reason.
    let rkey = format!("rejects/{key}.rejects.jsonl");
    let body = c
        .get_object()
        .bucket(&bucket)
        .key(&rkey)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap();
    let rejects = String::from_utf8(body.into_bytes().to_vec()).unwrap();
    let rejected_lines: Vec<u64> = rejects
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(!v["reason"].as_str().unwrap().is_empty());
            assert_eq!(v["source"], source.as_str());
            v["line"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(
        rejected_lines,
        vec![1502, 1503, 1504],
        "the three bad rows after the header and 1,500 good rows"
    );

    // The same event again (S3 delivers at least once): nothing is sent twice.
    let again = handle(&c, &cfg, &event, None, work.path()).await.unwrap();
    assert!(again.objects[0].already_replayed);

    let topic_rows = read_topic(&topic);
    let got = &topic_rows[&source];
    assert_eq!(got.len(), lines.len(), "every valid row arrived");
    assert!(got.values().all(|n| *n == 1), "no row arrived twice");
    assert_eq!(got.keys().copied().collect::<Vec<_>>(), lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local broker and moto (.ci/test)"]
async fn a_file_too_large_for_one_invocation_continues_until_done_without_duplicates() {
    let c = s3();
    let bucket = unique("replay-big");
    c.create_bucket().bucket(&bucket).send().await.unwrap();
    let topic = unique("replay-big-bars");
    create_topic(&topic, 2);
    let generated = stockstream_core::generate::GenConfig {
        symbols: 200,
        days: 2000,
        seed: 11,
        ..Default::default()
    };
    let mut csv = vec![];
    stockstream_core::generate::write_csv(&generated, &mut csv).unwrap();
    let key = "drop/generated.csv";
    put_csv(&c, &bucket, key, &csv).await;
    let cfg = config(&topic);
    let work = tempfile::tempdir().unwrap();
    let (lines, _) = accepted_lines(&csv);

    // Short slices: each invocation stops, checkpoints and writes a continuation; the
    // continuation object's event starts the next, whose producer first scans the topic after
    // its checkpoint (to its high watermark) for rows already sent.
    let mut invocations = 0;
    let mut continued = 0;
    loop {
        invocations += 1;
        assert!(
            invocations < 60,
            "no progress after {invocations} invocations"
        );
        let r = if invocations == 1 {
            replay_object(
                &c,
                &cfg,
                &bucket,
                key,
                Instant::now() + Duration::from_millis(1500),
                work.path(),
            )
            .await
            .unwrap()
        } else {
            let ev = put_event(&bucket, &continue_key(&cfg, key));
            let mut cfg2 = cfg.clone();
            cfg2.deadline = Duration::from_secs(5);
            handle(
                &c,
                &cfg2,
                &ev,
                Some(
                    Instant::now()
                        + Duration::from_millis(1500)
                        + stockstream_replay::handler::RESERVE,
                ),
                work.path(),
            )
            .await
            .unwrap()
            .objects
            .remove(0)
        };
        if r.continued {
            continued += 1;
        }
        if r.complete {
            break;
        }
    }
    assert!(
        continued >= 2,
        "the file took several invocations ({continued} continuations)"
    );
    let got = &read_topic(&topic)[&format!("s3://{bucket}/{key}")];
    assert_eq!(got.len(), lines.len(), "every row arrived");
    assert!(got.values().all(|n| *n == 1), "no row arrived twice");
}

/// The generated seed-layout file `gen` as an investor's download: no symbol column, dates
/// day first (`31/01/2020`).
fn day_first_download(gen: &stockstream_core::generate::GenConfig) -> String {
    let mut iso = vec![];
    stockstream_core::generate::write_csv(gen, &mut iso).unwrap();
    let mut out = String::new();
    for (i, line) in String::from_utf8(iso).unwrap().lines().enumerate() {
        let (_, rest) = line.split_once(',').unwrap();
        if i == 0 {
            out.push_str(rest);
        } else {
            let (date, rest) = rest.split_once(',').unwrap();
            let (y, md) = date.split_once('-').unwrap();
            let (m, d) = md.split_once('-').unwrap();
            out.push_str(&format!("{d}/{m}/{y},{rest}"));
        }
        out.push('\n');
    }
    out
}

/// With `auto`, a day-first object (named after its ticker) lands whole; one whose dates
/// disagree is refused before any row is sent, and the invocation says why without failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local broker and moto (.ci/test)"]
async fn date_order_auto_day_first_object_lands_whole_and_mixed_one_is_refused() {
    let c = s3();
    let bucket = unique("replay-dmy");
    c.create_bucket().bucket(&bucket).send().await.unwrap();
    let topic = unique("replay-dmy-bars");
    create_topic(&topic, 2);
    let cfg = config(&topic);
    let work = tempfile::tempdir().unwrap();
    let gen = stockstream_core::generate::GenConfig {
        symbols: 1,
        days: 3000,
        ..Default::default()
    };
    let day_first = day_first_download(&gen);
    put_csv(&c, &bucket, "drop/msft_daily.csv", day_first.as_bytes()).await;
    // A month-first row near the start of an otherwise day-first object.
    let mut lines: Vec<&str> = day_first.lines().collect();
    lines.insert(40, "01/31/2020,10,11,9,10,10,100,1.3");
    let mixed = lines.join("\n") + "\n";
    put_csv(&c, &bucket, "drop/msft-mixed.csv", mixed.as_bytes()).await;

    let out = handle(
        &c,
        &cfg,
        &put_event(&bucket, "drop/msft_daily.csv"),
        None,
        work.path(),
    )
    .await
    .unwrap();
    let r = &out.objects[0];
    assert_eq!(r.refused, None);
    assert!(r.complete);
    assert_eq!((r.rows, r.rejected, r.delivered), (3000, 0, 3000));

    let out = handle(
        &c,
        &cfg,
        &put_event(&bucket, "drop/msft-mixed.csv"),
        None,
        work.path(),
    )
    .await
    .unwrap();
    let r = &out.objects[0];
    let why = r.refused.as_deref().expect("refused");
    assert!(
        why.contains("refused, nothing sent: its dates disagree on the day/month order"),
        "{why}"
    );
    assert!(
        why.contains("1 only month-first (first on line 41)"),
        "{why}"
    );
    assert!(!r.complete && r.delivered == 0);

    let topic_rows = read_topic(&topic);
    let got = &topic_rows[&format!("s3://{bucket}/drop/msft_daily.csv")];
    assert_eq!(got.len(), 3000);
    assert!(got.values().all(|n| *n == 1));
    assert_eq!(
        topic_rows.len(),
        1,
        "nothing of the mixed object: {topic_rows:?}"
    );
}
