//! The S3 store against a real S3 API (the moto server that `.ci/test` starts on 127.0.0.1,
//! address in `STOCKSTREAM_TEST_S3_ENDPOINT`): conditional writes are honoured, and a batch
//! stored through S3 gives the same objects and rows as through the local directory, and so
//! does compaction; and compaction's S3 lock lets one run at a time.

use std::path::PathBuf;
use stockstream_core::ingest::ingest;
use stockstream_core::kafka_event::KafkaEvent;
use stockstream_sink::commit::{Entry, Sink};
use stockstream_sink::compact::{CompactOutcome, Compactor, LockedRun};
use stockstream_sink::handler::{handle, SinkConfig};
use stockstream_sink::layout::Layout;
use stockstream_sink::lock::{Holder, Lock, S3Objects, FUNCTION_TIMEOUT, LEASE_MARGIN};
use stockstream_sink::parquet_file::{self, Parquet};
use stockstream_store::s3::S3;
use stockstream_store::{LocalDir, Store};

use stockstream_store::moto::{bucket, s3 as client};

#[tokio::test]
#[ignore = "needs the moto server (.ci/test)"]
async fn conditional_writes_are_honoured() {
    let c = client();
    let s3 = S3::new(c.clone(), bucket(&c, "contract").await);
    stockstream_store::contract(&s3).await;
    let (_, tag) = s3.get("a/b.txt").await.unwrap().unwrap();
    assert!(
        !s3.put_if_match("s.json", b"4", Some(&tag)).await.unwrap(),
        "another object's tag"
    );
}

fn repo() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    )
    .join("../..")
}

#[tokio::test]
#[ignore = "needs the moto server (.ci/test)"]
async fn same_objects_and_rows_as_the_local_directory() {
    let text = std::fs::read_to_string(repo().join("events/sink-kafka-batch.json")).unwrap();
    let event: KafkaEvent = serde_json::from_str(&text).unwrap();
    let config = SinkConfig {
        prefix: "lake/bars".into(),
        layout: Layout::Year,
        known_symbols: None,
        state_namespace: None,
        regressions: Default::default(),
    };
    let enc = Parquet { ingest_time_ms: 1 };
    let c = client();
    let s3 = S3::new(c.clone(), bucket(&c, "lake").await);
    let dir = tempfile::tempdir().unwrap();
    let local = LocalDir::new(dir.path());
    let a = handle(&event, &s3, &enc, &config).await.unwrap();
    let b = handle(&event, &local, &enc, &config).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(a.rows_written, 50);
    let keys = s3.list("lake/").await.unwrap();
    assert_eq!(keys, local.list("lake/").await.unwrap());
    for key in keys.iter().filter(|k| k.ends_with(".parquet")) {
        let (x, _) = s3.get(key).await.unwrap().unwrap();
        let (y, _) = local.get(key).await.unwrap().unwrap();
        assert_eq!(
            parquet_file::rows(&x).unwrap(),
            parquet_file::rows(&y).unwrap(),
            "{key}"
        );
    }
    // Delivered again through S3: nothing new.
    let again = handle(&event, &s3, &enc, &config).await.unwrap();
    assert_eq!((again.already_stored, again.objects_written), (50, 0));
}

/// Five trigger batches of ten records, then compaction: what it did, the keys, the rows.
async fn fill_and_compact<S: Store>(
    store: &S,
    rows: &[Entry],
) -> (
    CompactOutcome,
    Vec<String>,
    Vec<(i64, stockstream_core::Bar)>,
) {
    let sink = Sink {
        store,
        encoder: &Parquet { ingest_time_ms: 1 },
        layout: Layout::Year,
        prefix: "lake/bars".into(),
    };
    for chunk in rows.chunks(10) {
        sink.commit("stock-bars", 0, chunk.to_vec()).await.unwrap();
    }
    let before = store.list("lake/bars/year=").await.unwrap().len() as u64;
    let c = Compactor {
        store,
        prefix: "lake/bars".into(),
        target_rows: 1000,
    };
    let o = c.run().await.unwrap();
    assert!(
        o.objects_merged >= 2 && before - o.objects_merged + o.objects_written < before,
        "{o:?}"
    );
    let keys = store.list("lake/").await.unwrap();
    assert!(!keys.iter().any(|k| k.contains("_compaction")), "{keys:?}");
    let mut got = vec![];
    for key in keys.iter().filter(|k| k.ends_with(".parquet")) {
        let (bytes, _) = store.get(key).await.unwrap().unwrap();
        got.extend(parquet_file::rows(&bytes).unwrap());
    }
    got.sort_by_key(|(o, _)| *o);
    (o, keys, got)
}

/// Compaction through S3 makes the same merges as in a local directory, and keeps the rows.
#[tokio::test]
#[ignore = "needs the moto server (.ci/test)"]
async fn compaction_merges_the_same_way_on_s3() {
    let text = std::fs::read_to_string(repo().join("events/sink-kafka-batch.json")).unwrap();
    let event: KafkaEvent = serde_json::from_str(&text).unwrap();
    let rows: Vec<Entry> = event.records().map(|r| ingest(r, None)).collect();
    let c = client();
    let s3 = S3::new(c.clone(), bucket(&c, "compact").await);
    let dir = tempfile::tempdir().unwrap();
    let local = LocalDir::new(dir.path());
    let on_s3 = fill_and_compact(&s3, &rows).await;
    let on_disk = fill_and_compact(&local, &rows).await;
    assert_eq!(on_s3, on_disk);
    assert_eq!(on_s3.2.len(), 50, "every row once");
}

/// Every row of the lake, in offset order.
async fn lake_rows(store: &S3) -> Vec<(i64, stockstream_core::Bar)> {
    let mut got = vec![];
    for key in store.list("lake/").await.unwrap() {
        if key.ends_with(".parquet") {
            let (bytes, _) = store.get(&key).await.unwrap().unwrap();
            got.extend(parquet_file::rows(&bytes).unwrap());
        }
    }
    got.sort_by_key(|(o, _)| *o);
    got
}

/// Two compactions at once through the S3 lock: one compacts, the other finds the lock held
/// and does nothing; a stale lock (a killed run's) is taken over; the rows never change.
#[tokio::test]
#[ignore = "needs the moto server (.ci/test)"]
async fn one_compaction_at_a_time_through_the_s3_lock() {
    let text = std::fs::read_to_string(repo().join("events/sink-kafka-batch.json")).unwrap();
    let event: KafkaEvent = serde_json::from_str(&text).unwrap();
    let rows: Vec<Entry> = event.records().map(|r| ingest(r, None)).collect();
    let c = client();
    let b = bucket(&c, "lock").await;
    let s3 = S3::new(c.clone(), b.clone());
    let objects = S3Objects::new(c.clone(), b.clone());
    let sink = Sink {
        store: &s3,
        encoder: &Parquet { ingest_time_ms: 1 },
        layout: Layout::Year,
        prefix: "lake/bars".into(),
    };
    let (first, second) = rows.split_at(30);
    for chunk in first.chunks(10) {
        sink.commit("stock-bars", 0, chunk.to_vec()).await.unwrap();
    }
    let before = lake_rows(&s3).await;
    let lock = Lock {
        objects: &objects,
        key: "_locks/compaction".into(),
        lease: FUNCTION_TIMEOUT + LEASE_MARGIN,
    };
    let compactor = Compactor {
        store: &s3,
        prefix: "lake/bars".into(),
        target_rows: 1000,
    };
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let (a, b2) = tokio::join!(
        compactor.run_locked(&lock, "run-a", now),
        compactor.run_locked(&lock, "run-b", now)
    );
    let mut runs = [("run-a", a.unwrap()), ("run-b", b2.unwrap())];
    runs.sort_by_key(|(_, r)| matches!(r, LockedRun::Skipped { .. }));
    let [(winner, compacted), (_, skipped)] = runs;
    let LockedRun::Compacted {
        outcome,
        lock: how,
        stale_holder,
    } = compacted
    else {
        panic!("neither run compacted: {skipped:?}");
    };
    assert!(outcome.objects_merged >= 2, "{outcome:?}");
    assert_eq!((how, stale_holder), ("taken", None));
    let LockedRun::Skipped { lock_held_by } = skipped else {
        panic!("both runs compacted: {skipped:?}");
    };
    assert_eq!(
        (lock_held_by.owner.as_str(), lock_held_by.taken_at),
        (winner, now)
    );
    assert_eq!(objects_lock(&c, &b).await, None, "released");
    assert_eq!(lake_rows(&s3).await, before, "the same rows");

    // A run killed by its timeout left its lock; 20 minutes later it is stale.
    for chunk in second.chunks(10) {
        sink.commit("stock-bars", 0, chunk.to_vec()).await.unwrap();
    }
    let before = lake_rows(&s3).await;
    let killed = Holder {
        owner: "killed".into(),
        taken_at: now - chrono::Duration::minutes(20),
    };
    c.put_object()
        .bucket(&b)
        .key("_locks/compaction")
        .body(serde_json::to_vec(&killed).unwrap().into())
        .send()
        .await
        .unwrap();
    let r = compactor.run_locked(&lock, "run-c", now).await.unwrap();
    let LockedRun::Compacted {
        outcome,
        lock: how,
        stale_holder,
    } = r
    else {
        panic!("stale lock not taken over: {r:?}");
    };
    assert_eq!((how, stale_holder), ("taken over", Some(killed)));
    assert!(outcome.objects_merged >= 2, "{outcome:?}");
    assert_eq!(objects_lock(&c, &b).await, None, "released");
    assert_eq!(lake_rows(&s3).await, before, "the same rows");
    assert_eq!(before.len(), 50, "every row once");

    // A live lock (taken a minute ago) is left alone, and so is the lake.
    let live = Holder {
        owner: "live".into(),
        taken_at: now - chrono::Duration::minutes(1),
    };
    c.put_object()
        .bucket(&b)
        .key("_locks/compaction")
        .body(serde_json::to_vec(&live).unwrap().into())
        .send()
        .await
        .unwrap();
    let keys = s3.list("lake/").await.unwrap();
    let r = compactor.run_locked(&lock, "run-d", now).await.unwrap();
    assert_eq!(
        r,
        LockedRun::Skipped {
            lock_held_by: live.clone()
        }
    );
    assert_eq!(s3.list("lake/").await.unwrap(), keys);
    assert_eq!(
        objects_lock(&c, &b).await,
        Some(live),
        "not released by another run"
    );
}

/// What the lock object says, if it exists.
async fn objects_lock(c: &aws_sdk_s3::Client, bucket: &str) -> Option<Holder> {
    let s3 = S3::new(c.clone(), bucket);
    let (bytes, _) = s3.get("_locks/compaction").await.unwrap()?;
    Some(serde_json::from_slice(&bytes).unwrap())
}
