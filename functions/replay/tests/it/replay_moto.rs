//! The replay handler against the moto S3 server and the local broker (both started by
//! `.ci/test`, addresses in `STOCKSTREAM_TEST_S3_ENDPOINT` and `STOCKSTREAM_TEST_BROKERS`):
//! a CSV put to S3 under a key that needs URL encoding, the S3 event handed to the handler,
//! and the topic read back with an independent consumer: every valid row exactly once, with
//! the S3 URI as its source, and the rejects under the rejects prefix with their reasons.
//! Then a file replayed in slices too short to finish (as a file too large for one
//! invocation is): each invocation writes a continuation, the next resumes (passing the
//! object's lock, which refuses a duplicate event meanwhile), and the topic still holds every
//! row once. Two concurrent invocations for one object, and a second drop of the same bytes,
//! send its rows once. And the replay produces to a SCRAM-over-TLS listener of a broker of
//! its own (`.ci/broker` with `STOCKSTREAM_BROKER_SASL=1`), with the login and CA read from
//! moto's Secrets Manager as at cold start.

use aws_sdk_s3::primitives::ByteStream;
use rdkafka::{ClientConfig, Message};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};
use stockstream_core::message::message_provenance;
use stockstream_core::reader::{read_all, Item, ReaderConfig};
use stockstream_producer::kafka::read_range;
use stockstream_replay::config::ReplayConfig;
use stockstream_replay::event::S3Event;
use stockstream_replay::handler::handle;
use stockstream_replay::replay::{continue_key, replay_object, Claim};
use stockstream_replay::secrets::fetch;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run with .ci/test (it starts Kafka and moto)")
    })
}

use stockstream_store::moto::{s3, sdk, unique};

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
    read_topic_at(&env("STOCKSTREAM_TEST_BROKERS"), topic)
}

fn read_topic_at(brokers: &str, topic: &str) -> BTreeMap<String, BTreeMap<u64, u32>> {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", brokers)
        .set("group.id", unique("replay-test-reader"))
        .set("enable.auto.commit", "false");
    let mut out: BTreeMap<String, BTreeMap<u64, u32>> = BTreeMap::new();
    read_range(
        &cfg,
        topic,
        &BTreeMap::new(),
        Duration::from_secs(60),
        |m| {
            // Message format v2: the provenance is in the value, and there are no headers.
            assert!(m.headers().is_none(), "no headers");
            let p = message_provenance(m.payload(), []).expect("provenance in the value");
            assert!(m.key().is_some(), "keyed by symbol");
            *out.entry(p.source).or_default().entry(p.line).or_default() += 1;
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

    let out = handle(&c, &cfg, &event, None, "first", work.path())
        .await
        .unwrap();
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
    let again = handle(&c, &cfg, &event, None, "again", work.path())
        .await
        .unwrap();
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
            let r = replay_object(
                &c,
                &cfg,
                &bucket,
                key,
                Instant::now() + Duration::from_millis(1500),
                &Claim {
                    owner: "first".into(),
                    lease_until: SystemTime::now() + Duration::from_secs(60),
                },
                work.path(),
            )
            .await
            .unwrap();
            // S3 delivers the drop's event again while the file is between invocations: the
            // lock is the first invocation's (its continuation carries it), so nothing is sent.
            let other = tempfile::tempdir().unwrap();
            let dup = handle(
                &c,
                &cfg,
                &put_event(&bucket, key),
                None,
                "duplicate",
                other.path(),
            )
            .await
            .unwrap();
            assert_eq!(dup.objects[0].held_by.as_deref(), Some("first"));
            assert_eq!((dup.objects[0].rows, dup.objects[0].delivered), (0, 0));
            r
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
                &format!("continuation-{invocations}"),
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
        "daily",
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
        "mixed",
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

/// Two invocations for one object at once (S3 delivered its event twice): one replays it, the
/// other finds the object's lock held and sends nothing. A second drop of the same bytes (same
/// ETag) later sends nothing either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local broker and moto (.ci/test)"]
async fn two_concurrent_invocations_for_one_object_send_its_rows_once() {
    let c = s3();
    let bucket = unique("replay-twice");
    c.create_bucket().bucket(&bucket).send().await.unwrap();
    let topic = unique("replay-twice-bars");
    create_topic(&topic, 3);
    let cfg = config(&topic);
    let csv = csv_with_rejects();
    let key = "drop/twice.csv";
    put_csv(&c, &bucket, key, &csv).await;
    let event = put_event(&bucket, key);
    // Two Lambda instances: each its own /tmp.
    let (w1, w2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = tokio::join!(
        handle(&c, &cfg, &event, None, "request-a", w1.path()),
        handle(&c, &cfg, &event, None, "request-b", w2.path()),
    );
    let (a, b) = (a.unwrap().objects.remove(0), b.unwrap().objects.remove(0));
    let (lines, _) = accepted_lines(&csv);
    let ((winner, winner_id), loser) = if a.delivered > 0 {
        ((a, "request-a"), b)
    } else {
        ((b, "request-b"), a)
    };
    assert!(winner.complete, "{winner:?}");
    assert_eq!(winner.delivered, lines.len() as u64);
    assert_eq!((loser.rows, loser.delivered), (0, 0), "{loser:?}");
    assert_eq!(
        loser.held_by.as_deref(),
        Some(winner_id),
        "the other invocation found the lock held: {loser:?}"
    );

    // The same bytes dropped again: the same ETag, so the same lock, which says done.
    put_csv(&c, &bucket, key, &csv).await;
    let again = handle(&c, &cfg, &event, None, "request-c", w1.path())
        .await
        .unwrap()
        .objects
        .remove(0);
    assert!(again.already_replayed && again.delivered == 0, "{again:?}");

    let got = &read_topic(&topic)[&format!("s3://{bucket}/{key}")];
    assert_eq!(got.len(), lines.len(), "every row arrived");
    assert!(got.values().all(|n| *n == 1), "no row arrived twice");
}

/// A broker of this test's own with a SASL_SSL listener; stopped when dropped.
struct SaslBroker {
    env: Vec<(String, String)>,
    info: BTreeMap<String, String>,
}

impl SaslBroker {
    fn ci_broker(&self, args: &[&str]) -> std::process::Output {
        let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        std::process::Command::new(repo.join(".ci/broker"))
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("STOCKSTREAM_BROKER_SASL", "1")
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap()
    }

    /// Starts it beside `.ci/test`'s broker: its state under that broker's directory, its
    /// ports 20 above (the fault tests' cluster is 10 above), SASL_SSL at PORT+200.
    fn start() -> Self {
        let port: u16 = env("STOCKSTREAM_BROKER_PORT").parse().unwrap();
        let mut b = SaslBroker {
            env: vec![
                (
                    "STOCKSTREAM_BROKER_DIR".into(),
                    format!("{}/sasl", env("STOCKSTREAM_BROKER_DIR")),
                ),
                ("STOCKSTREAM_BROKER_PORT".into(), (port + 20).to_string()),
            ],
            info: BTreeMap::new(),
        };
        assert!(b.ci_broker(&["start"]).status.success(), "starting it");
        let out = b.ci_broker(&["sasl-info"]);
        assert!(out.status.success());
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let (k, v) = line.split_once('=').unwrap();
            b.info.insert(k.to_string(), v.to_string());
        }
        b
    }

    fn get(&self, k: &str) -> &str {
        &self.info[k]
    }
}

impl Drop for SaslBroker {
    fn drop(&mut self) {
        let _ = self.ci_broker(&["stop"]);
    }
}

/// The replay produces to a SCRAM-SHA-512-over-TLS listener, its login and the CA read from
/// Secrets Manager (moto) in the formats the Kafka trigger uses, as at cold start; the broker
/// verifies the password and the replay the broker's certificate (for 127.0.0.1, signed by
/// the CA of the secret). The bootstrap servers are the SASL_SSL listener's only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local broker and moto (.ci/test)"]
async fn the_replay_produces_to_a_scram_over_tls_listener_with_the_triggers_secrets() {
    let broker = SaslBroker::start();
    let plain = env("STOCKSTREAM_BROKER_PORT").parse::<u16>().unwrap() + 20;
    let topic = unique("replay-sasl-bars");
    let st = broker.ci_broker(&["create-topic", &topic, "2"]);
    assert!(st.status.success(), "creating topic {topic}");

    let sm = aws_sdk_secretsmanager::Client::new(&sdk("us-east-1"));
    let login = sm
        .create_secret()
        .name(unique("AmazonMSK_replay"))
        .secret_string(
            serde_json::json!({
                "username": broker.get("STOCKSTREAM_BROKER_SASL_USERNAME"),
                "password": broker.get("STOCKSTREAM_BROKER_SASL_PASSWORD"),
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let pem = std::fs::read_to_string(broker.get("STOCKSTREAM_BROKER_CA")).unwrap();
    let ca = sm
        .create_secret()
        .name(unique("kafka-root-ca"))
        .secret_string(serde_json::json!({ "certificate": pem }).to_string())
        .send()
        .await
        .unwrap();

    // The function's environment, as the template sets it; then its cold start.
    let sasl_bootstrap = broker.get("STOCKSTREAM_BROKER_SASL_BOOTSTRAP").to_string();
    let vars: BTreeMap<&str, String> = [
        ("KAFKA_BROKERS", sasl_bootstrap.clone()),
        ("KAFKA_TOPIC", topic.clone()),
        ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL".into()),
        ("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512".into()),
        ("KAFKA_SASL_SECRET_ARN", login.arn().unwrap().to_string()),
        ("KAFKA_CA_SECRET_ARN", ca.arn().unwrap().to_string()),
    ]
    .into_iter()
    .collect();
    let mut cfg = ReplayConfig::from_env(|k| vars.get(k).cloned()).unwrap();
    cfg.access = fetch(&sm, &cfg.security).await.unwrap();
    let sasl = cfg.access.sasl.as_ref().unwrap();
    assert_eq!(sasl.username, "stockstream");
    assert_eq!(cfg.access.ca_pem.as_deref(), Some(pem.as_str()));

    let c = s3();
    let bucket = unique("replay-sasl");
    c.create_bucket().bucket(&bucket).send().await.unwrap();
    let csv = csv_with_rejects();
    let key = "drop/secured.csv";
    put_csv(&c, &bucket, key, &csv).await;
    let work = tempfile::tempdir().unwrap();
    let out = handle(
        &c,
        &cfg,
        &put_event(&bucket, key),
        None,
        "sasl",
        work.path(),
    )
    .await
    .unwrap();
    let r = &out.objects[0];
    let (lines, _) = accepted_lines(&csv);
    assert!(r.complete, "{r:?}");
    assert_eq!(r.delivered, lines.len() as u64);

    // Read back through the same broker's PLAINTEXT listener (an independent path).
    let got =
        &read_topic_at(&format!("127.0.0.1:{plain}"), &topic)[&format!("s3://{bucket}/{key}")];
    assert_eq!(got.len(), lines.len(), "every row arrived");
    assert!(got.values().all(|n| *n == 1), "no row arrived twice");
}
