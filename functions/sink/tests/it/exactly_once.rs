//! Exactly-once property of the sink's commit protocol: whatever the delivery schedule —
//! batches cut anywhere, retried with other cuts, records delivered again after success,
//! failures injected between any two writes — the store ends with every valid record in
//! exactly one data object and every bad record in exactly one quarantine object. The same
//! holds with compaction runs (themselves interrupted at any write) between the deliveries,
//! and when Lambda gives up on batches (leaving gaps) that are redriven later, in any order
//! and more than once. Re-deliveries never count as offset regressions.

use chrono::NaiveDate;
use pollster::block_on;
use proptest::prelude::*;
use std::collections::BTreeMap;
use stockstream_core::generate::Rng;
use stockstream_core::ingest::{LakeRow, Quarantined};
use stockstream_core::validate::Warnings;
use stockstream_core::Bar;
use stockstream_sink::commit::{CommitOptions, Entry, Sink};
use stockstream_sink::compact::Compactor;
use stockstream_sink::encode::{bar_of, read_json_rows, read_quarantine, Encoder, JsonLines};
use stockstream_sink::layout::Layout;
use stockstream_sink::parquet_file::{self, Parquet};
use stockstream_store::{Memory, Store};

const PREFIX: &str = "lake/bars";

/// A partition's log: offsets with gaps, rows over several years, some bad records.
fn log(n: usize, seed: u64) -> Vec<Entry> {
    let mut rng = Rng::new(seed);
    let mut offset = (rng.next_u64() % 50) as i64;
    (0..n)
        .map(|i| {
            offset += 1 + (rng.next_u64() % 3) as i64;
            if rng.unit() < 0.1 {
                return Err(Box::new(Quarantined {
                    topic: "bars".into(),
                    partition: 0,
                    offset,
                    code: "not_a_bar".into(),
                    reason: "test".into(),
                    raw_value: Some(format!("raw-{i}")),
                }));
            }
            let year = 1990 + (rng.next_u64() % 4) as i32;
            let close = 100.0 + i as f64;
            Ok(LakeRow {
                bar: Bar {
                    symbol: format!("S{}", i % 3),
                    date: NaiveDate::from_ymd_opt(year, 1 + (i % 12) as u32, 1 + (i % 28) as u32)
                        .unwrap(),
                    time: None,
                    open: close,
                    high: close + 1.0,
                    low: close - 1.0,
                    close,
                    adj_close: Some(close),
                    volume: Some(i as u64),
                    close_usd: None,
                },
                topic: "bars".into(),
                partition: 0,
                offset,
                kafka_timestamp_ms: 1_700_000_000_000 + offset,
                source: Some("t.csv".into()),
                line: Some(i as u64 + 2),
                warnings: Warnings::default(),
            })
        })
        .collect()
}

fn offset(e: &Entry) -> i64 {
    match e {
        Ok(r) => r.offset,
        Err(q) => q.offset,
    }
}

/// Every row in the store's data objects (offset, bar, key), whatever their encoding.
fn stored_rows(store: &Memory) -> Vec<(i64, Bar, String)> {
    let mut out = vec![];
    for (key, bytes) in store.objects() {
        if key.contains("/_sink_state/")
            || key.contains("/quarantine/")
            || key.contains("/_compaction/")
        {
            continue;
        }
        if key.ends_with(".parquet") {
            for (offset, bar) in parquet_file::rows(&bytes).unwrap() {
                out.push((offset, bar, key.clone()));
            }
        } else {
            for r in read_json_rows(&bytes).unwrap() {
                out.push((r.offset, bar_of(&r).unwrap(), key.clone()));
            }
        }
    }
    out
}

/// Checks the store holds each valid record once (with its values) and each bad one once.
fn assert_exactly_once(store: &Memory, log: &[Entry]) {
    let mut rows: BTreeMap<i64, usize> = BTreeMap::new();
    let mut bad: BTreeMap<i64, usize> = BTreeMap::new();
    for (offset_, bar, key) in stored_rows(store) {
        let want = log.iter().find(|e| offset(e) == offset_).unwrap();
        let Ok(want) = want else {
            panic!("bad record {offset_} stored as a row")
        };
        assert_eq!(bar, want.bar, "values of offset {offset_}");
        assert!(
            key.contains(&format!("year={}", want.bar.date.format("%Y"))),
            "{key}"
        );
        *rows.entry(offset_).or_default() += 1;
    }
    for (key, bytes) in store.objects() {
        if key.contains("/quarantine/") {
            for q in read_quarantine(&bytes).unwrap() {
                *bad.entry(q.offset).or_default() += 1;
            }
        }
    }
    let want_rows: Vec<i64> = log.iter().filter(|e| e.is_ok()).map(offset).collect();
    let want_bad: Vec<i64> = log.iter().filter(|e| e.is_err()).map(offset).collect();
    assert_eq!(
        rows.keys().copied().collect::<Vec<_>>(),
        want_rows,
        "every valid record stored"
    );
    assert_eq!(
        bad.keys().copied().collect::<Vec<_>>(),
        want_bad,
        "every bad record quarantined"
    );
    assert!(
        rows.values().all(|&n| n == 1),
        "a row stored twice: {rows:?}"
    );
    assert!(
        bad.values().all(|&n| n == 1),
        "a bad record quarantined twice: {bad:?}"
    );
}

/// Compaction of the test table into objects of at most `target_rows` rows.
fn compactor(store: &Memory, target_rows: usize) -> Compactor<'_, Memory> {
    Compactor {
        store,
        prefix: PREFIX.into(),
        target_rows,
    }
}

/// Plays a random delivery schedule until Lambda's position reaches the end of the log.
/// With `compact_to`, compaction runs now and then between deliveries, some interrupted by a
/// failed write, and once more, uninterrupted, at the end.
fn deliver(
    log: &[Entry],
    seed: u64,
    max_cut: usize,
    encoder: &impl Encoder,
    compact_to: Option<usize>,
) -> Memory {
    deliver_giving_up(log, seed, max_cut, encoder, compact_to, false)
}

/// [`deliver`], where with `give_up` Lambda sometimes gives up on a failed batch and moves
/// on (the batch goes to the failure destination); at the end every given-up batch is
/// redriven, in random order, failing and retried like any delivery, and then all once more.
fn deliver_giving_up(
    log: &[Entry],
    seed: u64,
    max_cut: usize,
    encoder: &impl Encoder,
    compact_to: Option<usize>,
    give_up: bool,
) -> Memory {
    let store = Memory::default();
    let sink = Sink {
        store: &store,
        encoder,
        layout: Layout::Year,
        prefix: PREFIX.into(),
    };
    let mut rng = Rng::new(seed ^ 0xDEAD_BEEF);
    let mut pos = 0;
    let mut steps = 0;
    let mut given_up: Vec<Vec<Entry>> = vec![];
    while pos < log.len() {
        steps += 1;
        assert!(steps < 10_000, "no progress");
        let cut = 1 + (rng.next_u64() as usize % max_cut);
        let end = (pos + cut).min(log.len());
        // Sometimes records already stored come again at the front of the batch.
        let again = if rng.unit() < 0.2 {
            (rng.next_u64() as usize % 5).min(pos)
        } else {
            0
        };
        let mut batch: Vec<Entry> = log[pos - again..end].to_vec();
        if rng.unit() < 0.3 {
            batch.reverse(); // the sink must not rely on the order within a batch
        }
        let fail = rng.unit() < 0.35;
        store.fail_after(fail.then(|| rng.next_u64() as usize % 6));
        match block_on(sink.commit("bars", 0, batch.clone())) {
            Ok(_) => pos = end, // Lambda moves on
            Err(e) => {
                assert!(fail, "{e}");
                if give_up && rng.unit() < 0.4 {
                    given_up.push(batch); // to the failure destination, and on
                    pos = end;
                }
                // and otherwise retries from `pos`, maybe cut otherwise
            }
        }
        store.fail_after(None);
        if let Some(target) = compact_to.filter(|_| rng.unit() < 0.3) {
            let fail = rng.unit() < 0.5;
            store.fail_after(fail.then(|| rng.next_u64() as usize % 8));
            let r = block_on(compactor(&store, target).run());
            store.fail_after(None);
            assert!(r.is_ok() || fail, "{r:?}");
        }
    }
    // The redrive: each saved batch until it succeeds, in random order, then all again.
    for round in 0..2 {
        let mut order: Vec<usize> = (0..given_up.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.next_u64() as usize % (i + 1));
        }
        for i in order {
            loop {
                let fail = round == 0 && rng.unit() < 0.35;
                store.fail_after(fail.then(|| rng.next_u64() as usize % 6));
                let r = block_on(sink.commit("bars", 0, given_up[i].clone()));
                store.fail_after(None);
                match r {
                    Ok(o) => {
                        if round == 1 {
                            assert_eq!(
                                o.already_stored, o.records,
                                "a second redrive stores nothing"
                            );
                        }
                        break;
                    }
                    Err(e) => assert!(fail, "{e}"),
                }
                if let Some(target) = compact_to.filter(|_| rng.unit() < 0.3) {
                    block_on(compactor(&store, target).run()).unwrap();
                }
            }
        }
    }
    if let Some(target) = compact_to {
        block_on(compactor(&store, target).run()).unwrap();
    }
    store
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_schedule_stores_each_record_exactly_once(
        n in 1usize..200,
        log_seed in any::<u64>(),
        schedule_seed in any::<u64>(),
        max_cut in 1usize..60,
    ) {
        let log = log(n, log_seed);
        let store = deliver(&log, schedule_seed, max_cut, &JsonLines, None);
        assert_exactly_once(&store, &log);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// The same with the lake's real encoding, read back from the Parquet files.
    #[test]
    fn any_schedule_stores_each_record_exactly_once_in_parquet(
        n in 1usize..150,
        log_seed in any::<u64>(),
        schedule_seed in any::<u64>(),
        max_cut in 1usize..40,
    ) {
        let log = log(n, log_seed);
        let store = deliver(&log, schedule_seed, max_cut, &Parquet { ingest_time_ms: 1 }, None);
        assert_exactly_once(&store, &log);
    }

    /// And with compaction merging committed objects between deliveries.
    #[test]
    fn compaction_between_deliveries_keeps_each_record_exactly_once(
        n in 1usize..150,
        log_seed in any::<u64>(),
        schedule_seed in any::<u64>(),
        max_cut in 1usize..40,
        target in 2usize..60,
    ) {
        let log = log(n, log_seed);
        let store = deliver(&log, schedule_seed, max_cut, &Parquet { ingest_time_ms: 1 }, Some(target));
        assert_exactly_once(&store, &log);
        let keys = block_on(store.list(PREFIX)).unwrap();
        prop_assert!(!keys.iter().any(|k| k.contains("/_compaction/")), "{keys:?}");
        // Every folder is down to merged objects of at least target/2 rows, or one small one
        // (at the end all is committed, so nothing is held back).
        let mut small: BTreeMap<String, usize> = BTreeMap::new();
        for (key, bytes) in store.objects() {
            if key.ends_with(".parquet") && parquet_file::rows(&bytes).unwrap().len() < target / 2 {
                *small.entry(key.rsplit_once('/').unwrap().0.to_string()).or_default() += 1;
            }
        }
        prop_assert!(small.values().all(|&n| n <= 1), "{small:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    /// Batches Lambda gave up on leave gaps; their redrive (any order, twice) fills them.
    #[test]
    fn given_up_batches_redriven_later_are_stored_exactly_once(
        n in 1usize..200,
        log_seed in any::<u64>(),
        schedule_seed in any::<u64>(),
        max_cut in 1usize..60,
    ) {
        let log = log(n, log_seed);
        let store = deliver_giving_up(&log, schedule_seed, max_cut, &JsonLines, None, true);
        assert_exactly_once(&store, &log);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// The same in Parquet, with compaction between deliveries and redrives.
    #[test]
    fn given_up_batches_redriven_with_compaction_between(
        n in 1usize..150,
        log_seed in any::<u64>(),
        schedule_seed in any::<u64>(),
        max_cut in 1usize..40,
        target in 2usize..60,
    ) {
        let log = log(n, log_seed);
        let store = deliver_giving_up(&log, schedule_seed, max_cut, &Parquet { ingest_time_ms: 1 }, Some(target), true);
        assert_exactly_once(&store, &log);
    }

    /// A re-created topic: records at committed offsets with newer timestamps fail the batch
    /// and change nothing; re-deliveries of what is stored never do.
    #[test]
    fn a_recreated_topic_is_refused_and_redeliveries_are_not(
        n in 2usize..120,
        log_seed in any::<u64>(),
        schedule_seed in any::<u64>(),
        max_cut in 1usize..40,
        from in any::<prop::sample::Index>(),
        len in 1usize..30,
    ) {
        let log = log(n, log_seed);
        let store = deliver(&log, schedule_seed, max_cut, &JsonLines, None);
        let sink = Sink { store: &store, encoder: &JsonLines, layout: Layout::Year, prefix: PREFIX.into() };
        let i = from.index(n);
        let slice = &log[i..(i + len).min(n)];
        let again = block_on(sink.commit("bars", 0, slice.to_vec())).unwrap();
        prop_assert_eq!(again.already_stored, slice.len() as u64);
        let before = store.objects();
        // The same offsets, produced a day later into a new topic of the same name.
        let recreated: Vec<Entry> = slice.iter().cloned().map(|e| e.map(|mut r| {
            r.kafka_timestamp_ms += 86_400_000;
            r
        })).collect();
        let r = block_on(sink.commit("bars", 0, recreated.clone()));
        if recreated.iter().any(|e| e.is_ok()) {
            let e = r.unwrap_err().to_string();
            prop_assert!(e.contains("offset regression") && e.contains("SINK_STATE_NAMESPACE"), "{}", e);
            prop_assert_eq!(store.objects(), before);
        }
        // In a new namespace (keyed apart), every record is stored once.
        let fresh = block_on(sink.commit_stamped(
            "ns2~bars",
            0,
            recreated.iter().cloned().map(|e| (e, Some(1))).collect(),
            CommitOptions::default(),
        ))
        .unwrap();
        prop_assert_eq!(fresh.rows + fresh.quarantined, recreated.len() as u64);
    }
}

/// A crash at every possible write of a first attempt, then a retry cut shorter than the
/// first attempt (so the retry meets objects reaching past its own batch).
#[test]
fn a_crash_at_any_write_then_a_shorter_retry() {
    let log = log(60, 7);
    for crash_at in 0..12 {
        let store = Memory::default();
        let sink = Sink {
            store: &store,
            encoder: &JsonLines,
            layout: Layout::Year,
            prefix: PREFIX.into(),
        };
        store.fail_after(Some(crash_at));
        let first = block_on(sink.commit("bars", 0, log.clone()));
        store.fail_after(None);
        if first.is_ok() {
            assert_exactly_once(&store, &log);
            continue;
        }
        for chunk in log.chunks(7) {
            block_on(sink.commit("bars", 0, chunk.to_vec())).unwrap();
        }
        // And the whole log once more: all of it is already stored.
        let again = block_on(sink.commit("bars", 0, log.clone())).unwrap();
        assert_eq!(again.already_stored, 60);
        assert_eq!(again.objects_written, 0);
        assert_exactly_once(&store, &log);
        let listed = block_on(store.list(PREFIX)).unwrap();
        assert!(listed.iter().any(|k| k.contains("year=")), "{listed:?}");
    }
}

/// An object under a name the sink would use but holding earlier offsets (a stray copy) is
/// reported, not adopted, and never loops.
#[test]
fn a_foreign_object_under_a_sink_name_is_an_error() {
    use stockstream_sink::lake_key::object_key;
    let log = log(5, 3);
    let Ok(first) = &log[0] else {
        panic!("seed 3 starts with a valid row")
    };
    let key = object_key(
        PREFIX,
        &Layout::Year.folder(first),
        "bars",
        0,
        first.offset,
        "jsonl",
    );
    let mut stray = first.clone();
    stray.offset -= 1;
    let store = Memory::default();
    block_on(store.put_if_absent(&key, &JsonLines.encode(&[&stray]))).unwrap();
    let sink = Sink {
        store: &store,
        encoder: &JsonLines,
        layout: Layout::Year,
        prefix: PREFIX.into(),
    };
    let err = block_on(sink.commit("bars", 0, log))
        .unwrap_err()
        .to_string();
    assert!(err.contains("below its own first offset"), "{err}");
}

/// Schedules the property test once found wrong, kept as plain tests:
/// - a retry that starts below an interrupted attempt which had opened a gap (the consumer
///   went back into the given-up batch) stored that attempt's records again under other
///   names, until opening a gap was committed before any object;
/// - a retry that spanned two adjacent gaps wrote one object across both, which the redrive
///   of the second gap (listing objects by their first offset) did not find.
#[test]
fn schedules_once_found_wrong_store_each_record_once() {
    for (n, log_seed, schedule_seed, max_cut) in [
        (46, 5835262195694965796, 4079698926216419706, 4),
        (144, 5166639826085217260, 16190390051281467830, 4),
    ] {
        let log = log(n, log_seed);
        let store = deliver_giving_up(&log, schedule_seed, max_cut, &JsonLines, None, true);
        assert_exactly_once(&store, &log);
    }
}
