//! End to end: `stockstream-local demo`, the README's main command, from CSV files to a report.
//!
//! - embedded defaults (no services): the bundled real data in, a report out, the lake holding
//!   exactly the CSV's rows (compacted to one object per year), and a second run changing
//!   nothing;
//! - the local broker (Apache Kafka, `STOCKSTREAM_TEST_BROKERS`) and the moto S3 server
//!   (`STOCKSTREAM_TEST_S3_ENDPOINT`), both started by `.ci/test`: the real data and a file of
//!   bad rows in, the rejects accounted for, the lake and report in the S3 bucket, and a second
//!   run changing nothing;
//! - faults: writes to the lake fail (injected) while the trigger runs on Kafka; the trigger
//!   retries, and when it gives up, a re-run redelivers; the lake still holds each row once.
//!
//! The lake is read back with the `parquet` crate (not the engine under test) and compared
//! row by row with what the core reader accepts from the same CSV files.

use arrow_array::{Array, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use stockstream_core::reader::{read_all, Item, ReaderConfig};
use stockstream_core::symbols::Symbols;
use stockstream_store::moto::{s3, unique};

mod faults;

fn repo() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    )
    .join("../..")
}

fn real_csv() -> PathBuf {
    repo().join("producer/data/indexProcessed_head.csv")
}

fn bad_csv() -> PathBuf {
    repo().join("core/tests/fixtures/bad_rows.csv")
}

fn known() -> PathBuf {
    repo().join("producer/data/indexInfo.csv")
}

/// One lake row's values, exactly (floats by their bits), keyed by (source, line).
type Values = (String, i32, u64, u64, u64, u64, Option<u64>, Option<i64>);

/// What the reader accepts from `files` with the bundled symbol list: (source, line) → values,
/// and the number of rejected rows.
fn expected(files: &[PathBuf]) -> (BTreeMap<(String, i64), Values>, u64) {
    let symbols = Arc::new(
        Symbols::read(std::io::BufReader::new(
            std::fs::File::open(known()).unwrap(),
        ))
        .unwrap(),
    );
    accepted_rows(files, Some(symbols))
}

/// What the reader accepts from `files` (checked against `known` symbols when given):
/// (source, line) → values, and the number of rejected rows.
fn accepted_rows(
    files: &[PathBuf],
    known: Option<Arc<Symbols>>,
) -> (BTreeMap<(String, i64), Values>, u64) {
    let mut rows = BTreeMap::new();
    let mut rejected = 0;
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let cfg = ReaderConfig {
            source: name.clone(),
            known_symbols: known.clone(),
            ..Default::default()
        };
        let (items, stats) = read_all(
            std::io::BufReader::new(std::fs::File::open(f).unwrap()),
            cfg,
        )
        .unwrap();
        rejected += stats.rejected;
        for i in items {
            if let Item::Accepted(a) = i {
                let b = a.bar;
                let days = (b.date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
                    .num_days() as i32;
                rows.insert(
                    (name.clone(), a.line as i64),
                    (
                        b.symbol,
                        days,
                        b.open.to_bits(),
                        b.high.to_bits(),
                        b.low.to_bits(),
                        b.close.to_bits(),
                        b.adj_close.map(f64::to_bits),
                        b.volume.map(|v| v as i64),
                    ),
                );
            }
        }
    }
    (rows, rejected)
}

fn parquet_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with('_') || name.starts_with('.') || name == "quarantine" {
            continue;
        }
        if p.is_dir() {
            parquet_files(&p, out);
        } else if name.ends_with(".parquet") {
            out.push(p);
        }
    }
}

fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> &'a T {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("column {name}"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("type of {name}"))
}

/// Every row of the lake table under `bucket/lake/bars`, keyed by (source, line); panics if a
/// key appears twice (a duplicate in the lake).
fn lake_rows(bucket: &Path) -> BTreeMap<(String, i64), Values> {
    let mut files = vec![];
    parquet_files(&bucket.join("lake/bars"), &mut files);
    let mut rows = BTreeMap::new();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let b = batch.unwrap();
            let (sym, date) = (
                col::<StringArray>(&b, "symbol"),
                col::<Date32Array>(&b, "trade_date"),
            );
            let f64s: Vec<&Float64Array> = ["open", "high", "low", "close", "adj_close"]
                .iter()
                .map(|n| col::<Float64Array>(&b, n))
                .collect();
            let (vol, src, line) = (
                col::<Int64Array>(&b, "volume"),
                col::<StringArray>(&b, "source"),
                col::<Int64Array>(&b, "line"),
            );
            for i in 0..b.num_rows() {
                let key = (src.value(i).to_string(), line.value(i));
                let v = (
                    sym.value(i).to_string(),
                    date.value(i),
                    f64s[0].value(i).to_bits(),
                    f64s[1].value(i).to_bits(),
                    f64s[2].value(i).to_bits(),
                    f64s[3].value(i).to_bits(),
                    (!f64s[4].is_null(i)).then(|| f64s[4].value(i).to_bits()),
                    (!vol.is_null(i)).then(|| vol.value(i)),
                );
                assert!(
                    rows.insert(key.clone(), v).is_none(),
                    "{key:?} is in the lake twice ({})",
                    f.display()
                );
            }
        }
    }
    rows
}

/// An order-independent checksum of the values (for the log; equality is checked row by row).
fn checksum(rows: &BTreeMap<(String, i64), Values>) -> u64 {
    use std::hash::{Hash, Hasher};
    rows.iter().fold(0u64, |acc, r| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        r.hash(&mut h);
        acc.wrapping_add(h.finish())
    })
}

fn assert_lake_is(bucket: &Path, files: &[PathBuf]) -> usize {
    let (want, _) = expected(files);
    let got = lake_rows(bucket);
    assert_eq!(
        got.len(),
        want.len(),
        "rows in the lake vs rows the CSV files hold"
    );
    for (k, v) in &want {
        assert_eq!(got.get(k), Some(v), "row {k:?}");
    }
    assert_eq!(checksum(&got), checksum(&want));
    got.len()
}

fn demo(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stockstream-local"));
    c.arg("demo").arg("--dir").arg(dir).args(args);
    c.env_remove("STOCKSTREAM_BROKERS")
        .env_remove("STOCKSTREAM_BUCKET")
        .env_remove("STOCKSTREAM_S3_ENDPOINT");
    for (k, v) in envs {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    println!("{}", String::from_utf8_lossy(&out.stdout));
    out
}

fn summary_of(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let html = stdout
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("open")
                .map(|p| PathBuf::from(p.trim()))
        })
        .expect("the demo prints the report's path");
    let html_text = std::fs::read_to_string(&html).unwrap();
    assert!(html_text.contains("<svg"), "the report has charts");
    serde_json::from_slice(&std::fs::read(html.with_file_name("summary.json")).unwrap()).unwrap()
}

/// Relative paths and sizes of the files under `dir` (reports and catalog aside): what a
/// second run must not change.
fn snapshot(dir: &Path) -> BTreeSet<(String, u64)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<(String, u64)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                out.insert((rel, p.metadata().unwrap().len()));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, &dir.join("lake"), &mut out);
    out
}

#[test]
fn embedded_demo_streams_the_bundled_data_into_a_report_and_a_rerun_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let first = summary_of(&demo(dir.path(), &[], &[]));
    let bucket = dir.path().join("bucket");
    let rows = assert_lake_is(&bucket, &[real_csv()]);
    assert_eq!(rows, 5693);
    assert_eq!(first["rows_read"], 5693);
    assert_eq!(first["rejected"], 0);
    assert_eq!(first["delivered"], 5693);
    assert_eq!(first["sink"]["records"], 5693);
    assert_eq!(first["sink"]["sink"]["rows_written"], 5693);
    assert_eq!(first["insights_ok"], first["insights"]);
    assert!(
        first["partitions"].as_u64().unwrap() >= 20,
        "one partition per year"
    );
    // Compaction left one object per year folder (all of them are far below its target).
    assert!(first["compacted"]["objects_merged"].as_u64().unwrap() >= 2);
    let mut files = vec![];
    parquet_files(&bucket.join("lake/bars"), &mut files);
    let folders: BTreeSet<_> = files
        .iter()
        .map(|f| f.parent().unwrap().to_path_buf())
        .collect();
    assert_eq!(files.len(), folders.len(), "{files:?}");
    let before = snapshot(&bucket);

    let second = summary_of(&demo(dir.path(), &[], &[]));
    assert_eq!(second["sink"]["sink"]["rows_written"], 0);
    assert_eq!(second["sink"]["sink"]["already_stored"], 5693);
    assert_eq!(second["compacted"]["objects_merged"], 0);
    assert_eq!(snapshot(&bucket), before, "a second run wrote to the lake");
    assert_lake_is(&bucket, &[real_csv()]);
}

#[test]
fn embedded_demo_refuses_other_input_on_a_lake_it_filled() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.csv");
    let text = std::fs::read_to_string(real_csv()).unwrap();
    std::fs::write(
        &small,
        text.lines().take(200).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let k = known();
    let args = [
        "--known-symbols",
        k.to_str().unwrap(),
        small.to_str().unwrap(),
    ];
    summary_of(&demo(dir.path(), &args, &[]));
    let out = demo(dir.path(), &[], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("filled from other input"));
}

fn services() -> Option<(String, String)> {
    match (std::env::var("STOCKSTREAM_TEST_BROKERS"), std::env::var("STOCKSTREAM_TEST_S3_ENDPOINT")) {
        (Ok(b), Ok(s)) => Some((b, s)),
        _ => panic!("STOCKSTREAM_TEST_BROKERS / STOCKSTREAM_TEST_S3_ENDPOINT are not set: run with .ci/test (it starts Kafka and moto)"),
    }
}

/// Downloads every object of the bucket into `to`; returns key → size.
async fn download(c: &aws_sdk_s3::Client, bucket: &str, to: &Path) -> BTreeMap<String, i64> {
    let mut keys = BTreeMap::new();
    let mut pages = c.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(p) = pages.next().await {
        for o in p.unwrap().contents() {
            keys.insert(o.key().unwrap().to_string(), o.size().unwrap_or_default());
        }
    }
    for k in keys.keys() {
        let body = stockstream_local::bucket::download(c, bucket, k)
            .await
            .unwrap();
        let p = to.join(k);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    keys
}

#[test]
#[ignore = "needs the local broker and moto (.ci/test)"]
fn demo_on_kafka_and_moto_lands_every_valid_row_once_and_a_rerun_changes_nothing() {
    let (brokers, endpoint) = services().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = s3();
    let bucket = unique("stockstream-e2e");
    rt.block_on(c.create_bucket().bucket(&bucket).send())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("e2e-bars");
    let (real, bad, k) = (real_csv(), bad_csv(), known());
    let s3_bucket = format!("s3://{bucket}");
    let group = unique("e2e-group");
    let args = [
        "--brokers",
        &brokers,
        "--topic",
        &topic,
        "--group",
        &group,
        "--partitions",
        "3",
        "--bucket",
        &s3_bucket,
        "--s3-endpoint",
        &endpoint,
        "--known-symbols",
        k.to_str().unwrap(),
        real.to_str().unwrap(),
        bad.to_str().unwrap(),
    ];
    let creds = [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let first = summary_of(&demo(dir.path(), &args, &creds));
    let files = [real.clone(), bad.clone()];
    let (want, rejected) = expected(&files);
    assert!(
        rejected >= 10,
        "the bad-rows file has its rejects ({rejected})"
    );
    assert_eq!(first["rejected"], rejected);
    assert_eq!(
        first["rows_read"].as_u64().unwrap(),
        want.len() as u64 + rejected
    );
    assert_eq!(first["delivered"].as_u64().unwrap(), want.len() as u64);
    assert_eq!(
        first["sink"]["sink"]["rows_written"].as_u64().unwrap(),
        want.len() as u64
    );
    assert_eq!(first["sink"]["sink"]["quarantined"], 0);
    // Every reject is in the rejects file with its reason.
    let rejects = std::fs::read_to_string(first["rejects_file"].as_str().unwrap()).unwrap();
    assert_eq!(rejects.lines().count() as u64, rejected);
    assert!(rejects.lines().all(|l| l.contains("\"reason\"")));

    let got = tempfile::tempdir().unwrap();
    let keys = rt.block_on(download(&c, &bucket, got.path()));
    assert_lake_is(got.path(), &files);
    assert!(
        keys.keys()
            .any(|k| k.starts_with("reports/") && k.ends_with("/report.html")),
        "report in the bucket"
    );
    assert!(keys.contains_key("_catalog/catalog.json"));
    assert!(first["report"]
        .as_str()
        .unwrap()
        .starts_with(&format!("s3://{bucket}/reports/")));
    // The report says which file's rows were rejected and why: the rejects file's own
    // counts by source and code.
    let mut by_file: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for l in rejects.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        *by_file
            .entry(v["source"].as_str().unwrap().to_string())
            .or_default()
            .entry(v["code"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let json_key = keys
        .keys()
        .find(|k| k.starts_with("reports/") && k.ends_with("/report.json"))
        .unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(got.path().join(json_key)).unwrap()).unwrap();
    let in_report: BTreeMap<String, BTreeMap<String, u64>> = report["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let reasons = serde_json::from_value(f["reasons"].clone()).unwrap();
            (f["file"].as_str().unwrap().to_string(), reasons)
        })
        .collect();
    assert_eq!(
        in_report, by_file,
        "rejects per file and reason in report.json"
    );
    assert_eq!(in_report.len(), 1, "only the bad-rows file has rejects");
    let html = std::fs::read_to_string(
        got.path()
            .join(json_key.replace("report.json", "report.html")),
    )
    .unwrap();
    assert!(
        html.contains("Rejected rows"),
        "the report's rejects section"
    );
    assert!(html.contains(&format!("{rejected} row(s) of the input")));
    let lake = |keys: &BTreeMap<String, i64>| -> BTreeMap<String, i64> {
        keys.iter()
            .filter(|(k, _)| k.starts_with("lake/"))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    };

    let second = summary_of(&demo(dir.path(), &args, &creds));
    assert_eq!(
        second["delivered"], 0,
        "the producer's checkpoint says everything was sent"
    );
    assert_eq!(
        second["sink"]["records"], 0,
        "the group's offsets say everything was consumed"
    );
    let again = tempfile::tempdir().unwrap();
    let keys2 = rt.block_on(download(&c, &bucket, again.path()));
    assert_eq!(lake(&keys2), lake(&keys), "a second run changed the lake");
    assert_lake_is(again.path(), &files);
}

#[test]
#[ignore = "needs the local broker and moto (.ci/test)"]
fn injected_write_failures_are_retried_and_the_lake_holds_each_row_once() {
    let (brokers, _) = services().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("bucket");
    let topic = unique("fault-bars");
    let real = real_csv();
    let b = bucket.to_str().unwrap();
    let group = unique("fault-group");
    let base = [
        "--brokers",
        &brokers,
        "--topic",
        &topic,
        "--group",
        &group,
        "--partitions",
        "3",
        "--bucket",
        b,
        "--batch-size",
        "250",
    ];
    // One write in 8 fails: batches fail part-way (some objects written, state not moved),
    // and Lambda-style retries of the whole batch finish them.
    let mut args = base.to_vec();
    args.extend(["--max-attempts", "20"]);
    args.push(real.to_str().unwrap());
    let s = summary_of(&demo(
        dir.path(),
        &args,
        &[("STOCKSTREAM_INJECT_WRITE_FAILURES", "8")],
    ));
    assert!(
        s["sink"]["failed_invocations"].as_u64().unwrap() > 0,
        "failures were injected"
    );
    assert_eq!(s["sink"]["sink"]["rows_written"], 5693);
    assert_lake_is(&bucket, std::slice::from_ref(&real));
}

#[test]
#[ignore = "needs the local broker and moto (.ci/test)"]
fn a_trigger_that_gives_up_leaves_its_batch_for_the_next_run() {
    let (brokers, _) = services().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("bucket");
    let topic = unique("giveup-bars");
    let real = real_csv();
    let b = bucket.to_str().unwrap();
    let group = unique("giveup-group");
    // The producer's default batching: the group's committed offsets fall inside stored
    // record batches, and the re-run's consumer must resume from the exact record.
    let mut args = vec![
        "--brokers",
        &brokers,
        "--topic",
        &topic,
        "--group",
        &group,
        "--partitions",
        "3",
        "--bucket",
        b,
        "--batch-size",
        "300",
    ];
    args.push(real.to_str().unwrap());
    // One attempt per batch and one write in 5 failing: the trigger stops mid-topic with a
    // batch half written and uncommitted.
    let mut failing = args.clone();
    failing.extend(["--max-attempts", "1"]);
    let out = demo(
        dir.path(),
        &failing,
        &[("STOCKSTREAM_INJECT_WRITE_FAILURES", "5")],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("failed 1 times") && err.contains("a re-run redelivers it"),
        "{err}"
    );
    let partial = lake_rows(&bucket).len();
    assert!(
        partial < 5693,
        "the first run stopped early ({partial} rows)"
    );
    // The re-run (no faults) resumes from the group's offsets; the half-written batch comes
    // again, cut differently, and is completed without duplicates.
    let s = summary_of(&demo(dir.path(), &args, &[]));
    assert_eq!(s["delivered"], 0);
    assert!(
        s["sink"]["records"].as_u64().unwrap() > 0,
        "the re-run consumed the rest"
    );
    assert_lake_is(&bucket, std::slice::from_ref(&real));
}

/// The first `n` data rows of the bundled CSV after `skip`, as a file named `name`.
fn csv_slice(dir: &Path, name: &str, skip: usize, n: usize) -> PathBuf {
    let text = std::fs::read_to_string(real_csv()).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let body: Vec<&str> = lines.skip(skip).take(n).collect();
    let p = dir.join(name);
    std::fs::write(&p, format!("{header}\n{}\n", body.join("\n"))).unwrap();
    p
}

fn local(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_stockstream-local"))
        .args(args)
        .env_remove("STOCKSTREAM_BUCKET")
        .env_remove("SINK_STATE_NAMESPACE")
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn ci_broker(args: &[&str]) {
    let out = Command::new(repo().join(".ci/broker"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        ".ci/broker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue "no silent loss": a topic deleted and re-created under a live lake starts its
/// offsets again. The sink stops with the regression message and metric, storing nothing;
/// with a new state namespace every new row lands once, beside the old ones.
#[test]
#[ignore = "needs the local broker (.ci/test)"]
fn a_recreated_topic_stops_the_sink_and_a_new_namespace_lands_every_row_once() {
    let (brokers, _) = services().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("bucket");
    let b = bucket.to_str().unwrap();
    let topic = unique("recreated-bars");
    let old = csv_slice(dir.path(), "old.csv", 0, 300);
    let new = csv_slice(dir.path(), "new.csv", 300, 200);
    let k = known();
    let rejects = dir.path().join("rejects.jsonl");
    let produce = |file: &Path| {
        let out = local(&[
            "produce",
            "-b",
            &brokers,
            "-t",
            &topic,
            "--known-symbols",
            k.to_str().unwrap(),
            "--rejects",
            rejects.to_str().unwrap(),
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "produce failed");
    };
    let sink = |group: &str, extra: &[&str]| {
        let mut args = vec![
            "sink",
            "--bucket",
            b,
            "-b",
            &brokers,
            "-t",
            &topic,
            "--group",
            group,
            "--max-attempts",
            "2",
            "--batch-size",
            "120",
        ];
        args.extend(extra);
        local(&args)
    };
    ci_broker(&["create-topic", &topic, "1"]);
    produce(&old);
    assert!(sink(&unique("g1"), &[]).status.success());
    assert_lake_is(&bucket, std::slice::from_ref(&old));
    let before = lake_rows(&bucket);

    ci_broker(&["delete-topic", &topic]);
    ci_broker(&["create-topic", &topic, "1"]);
    produce(&new);
    // The trigger of the new topic (a new mapping: its own group, from the start).
    let group = unique("g2");
    let out = sink(&group, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("offset regression") && err.contains("SINK_STATE_NAMESPACE"),
        "{err}"
    );
    assert!(
        err.contains(r#""OffsetRegressions":1"#),
        "the metric line: {err}"
    );
    assert_eq!(
        lake_rows(&bucket),
        before,
        "nothing dropped into the old state, nothing written"
    );

    let out = sink(&group, &["--state-namespace", "topic-2"]);
    assert!(out.status.success());
    assert_lake_is(&bucket, &[old.clone(), new.clone()]);
    // Running again changes nothing.
    let out = sink(&unique("g3"), &["--state-namespace", "topic-2"]);
    assert!(out.status.success());
    assert_lake_is(&bucket, &[old, new]);
}

/// A store that fails every write after the first `left`.
struct Failing<'a, S> {
    inner: &'a S,
    left: std::sync::atomic::AtomicUsize,
}

impl<S: stockstream_store::Store> stockstream_store::Store for Failing<'_, S> {
    async fn get(
        &self,
        key: &str,
    ) -> Result<Option<(Vec<u8>, stockstream_store::Etag)>, stockstream_store::StoreError> {
        self.inner.get(key).await
    }
    async fn put_if_absent(
        &self,
        key: &str,
        bytes: &[u8],
    ) -> Result<stockstream_store::Created, stockstream_store::StoreError> {
        self.spend(key)?;
        self.inner.put_if_absent(key, bytes).await
    }
    async fn put_if_match(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&stockstream_store::Etag>,
    ) -> Result<bool, stockstream_store::StoreError> {
        self.spend(key)?;
        self.inner.put_if_match(key, bytes, expected).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, stockstream_store::StoreError> {
        self.inner.list(prefix).await
    }
    async fn delete(&self, key: &str) -> Result<(), stockstream_store::StoreError> {
        self.spend(key)?;
        self.inner.delete(key).await
    }
}

impl<S> Failing<'_, S> {
    fn spend(&self, key: &str) -> Result<(), stockstream_store::StoreError> {
        use std::sync::atomic::Ordering;
        if self.left.load(Ordering::SeqCst) == 0 {
            return Err(stockstream_store::StoreError::Injected { key: key.into() });
        }
        self.left.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Issue "no silent loss": a batch the sink fails on goes, after Lambda's retries, to the S3
/// failure destination (written here as Lambda writes it), the next batch leaves a gap, and
/// `stockstream-local redrive` puts the batch's rows in the lake exactly once, however often
/// it runs.
#[test]
#[ignore = "needs moto (.ci/test)"]
fn a_failed_batch_in_the_failure_bucket_is_redriven_into_its_gap_once() {
    use stockstream_core::kafka_event::KafkaEvent;
    use stockstream_sink::handler::{handle, SinkConfig};
    use stockstream_sink::parquet_file::Parquet;
    let (_, endpoint) = services().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = s3();
    let (lake, failures) = (unique("lake"), unique("failures"));
    for b in [&lake, &failures] {
        rt.block_on(c.create_bucket().bucket(b).send()).unwrap();
    }
    let text = std::fs::read_to_string(repo().join("events/sink-kafka-batch.json")).unwrap();
    let event: KafkaEvent = serde_json::from_str(&text).unwrap();
    let part = |lo: i64, hi: i64| {
        let mut p = event.clone();
        for v in p.records.values_mut() {
            v.retain(|r| lo <= r.offset && r.offset < hi);
        }
        p
    };
    let (a, b, later) = (part(100, 110), part(110, 130), part(130, 150));
    let config = SinkConfig {
        prefix: "lake/bars".into(),
        layout: stockstream_sink::layout::Layout::Year,
        known_symbols: None,
        state_namespace: None,
        regressions: Default::default(),
    };
    let store = stockstream_store::s3::S3::new(c.clone(), lake.clone());
    let enc = Parquet { ingest_time_ms: 1 };
    rt.block_on(handle(&a, &store, &enc, &config)).unwrap();
    // Batch b fails on every attempt: S3 refuses its writes.
    for _ in 0..3 {
        let failing = Failing {
            inner: &store,
            left: 0.into(),
        };
        assert!(rt.block_on(handle(&b, &failing, &enc, &config)).is_err());
    }
    // Lambda gives up: the invocation record, payload as an escaped JSON string, into the
    // failure bucket; then the next batch.
    let record = serde_json::json!({
        "requestContext": {
            "requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:sink",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 3
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-11-28T10:00:00.000Z",
        "KafkaBatchInfo": {
            "batchSize": 20,
            "bootstrapServers": "b-1:9092",
            "payloadSize": 9000,
            "recordsInfo": {"stock-bars-0": {
                "firstRecordOffset": "110", "lastRecordOffset": "129",
                "firstRecordTimestamp": "2025-11-26T00:00:00.000Z",
                "lastRecordTimestamp": "2025-11-26T00:00:00.000Z"
            }}
        },
        "payload": serde_json::to_string(&b).unwrap(),
    });
    let key = "aws/lambda/4f2c1d7e-mapping/stock-bars-0/2026/11/28/2026-11-28T10.00.00-1b2c.json";
    rt.block_on(
        c.put_object()
            .bucket(&failures)
            .key(key)
            .body(record.to_string().into_bytes().into())
            .send(),
    )
    .unwrap();
    let s = rt.block_on(handle(&later, &store, &enc, &config)).unwrap();
    assert_eq!((s.offset_gaps, s.rows_written), (1, 20));

    let lake_url = format!("s3://{lake}");
    let failures_url = format!("s3://{failures}/aws/lambda/");
    let mirror = tempfile::tempdir().unwrap();
    let redrive = || {
        let out = Command::new(env!("CARGO_BIN_EXE_stockstream-local"))
            .args(["redrive", "--bucket", &lake_url, "--s3-endpoint", &endpoint])
            .args(["--failures", &failures_url, "--mirror"])
            .arg(mirror.path())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env_remove("SINK_STATE_NAMESPACE")
            .output()
            .unwrap();
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "redrive failed");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = redrive();
    assert_eq!(first["failure_records"], 1);
    assert_eq!(first["sink"]["rows_written"], 20);
    assert_eq!(first["sink"]["gap_records"], 20);
    let second = redrive();
    assert_eq!(second["sink"]["rows_written"], 0);
    assert_eq!(second["sink"]["already_stored"], 20);

    // The lake: offsets 100..150, each once.
    let got = tempfile::tempdir().unwrap();
    rt.block_on(download(&c, &lake, got.path()));
    let mut files = vec![];
    parquet_files(&got.path().join("lake"), &mut files);
    let mut offsets: Vec<i64> = files
        .iter()
        .flat_map(|f| {
            stockstream_sink::parquet_file::rows(&std::fs::read(f).unwrap())
                .unwrap()
                .into_iter()
                .map(|(o, _)| o)
        })
        .collect();
    offsets.sort();
    assert_eq!(offsets, (100..150).collect::<Vec<_>>());
}
