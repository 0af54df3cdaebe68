//! Compaction: fewer, larger objects per partition folder.
//!
//! The sink writes one object per trigger batch and folder, so a lake fed for a while holds
//! thousands of small objects (a replayed history of 10 million rows: 1,036 objects of about
//! 430 KB). Every reader pays per object: Athena and DataFusion open each one and read its
//! footer, and Glue samples them. Compaction merges a folder's small objects into objects of
//! up to `target_rows` rows, sorted by symbol and time (so a symbol filter prunes row groups
//! and pages by their statistics), and deletes the sources.
//!
//! It never changes what the lake holds, and it keeps the sink's exactly-once guarantee:
//!
//! - Only *committed* objects are merged: every offset in the object is below its partition's
//!   `next_offset`. The sink never reads those again (a redelivered record below
//!   `next_offset` is skipped by state alone). Objects it may still adopt (`ahead` of the
//!   state, or of a partition without state) are left where they are.
//! - Each merge is logged before it happens: a manifest under `_compaction/` names the
//!   output and its sources; then the output is created (create-if-absent), the sources are
//!   deleted, and the manifest last. A run interrupted anywhere is finished by the next run
//!   before it plans anything: output present, its remaining sources are deleted; output
//!   absent, the manifest is dropped and the sources stay. Between the output's creation and
//!   the sources' deletion a reader may see a row twice; every insight keeps one row per
//!   (symbol, trade_date), so reports do not change.
//! - One compactor at a time per table: [`Compactor::run_locked`] holds the lock object of
//!   [`crate::lock`] while it runs, and a run that finds it held stops at once. Without the
//!   lock, two at once could each merge different sets; a second output with the same name
//!   is refused, not overwritten.
//!
//! A query that lists a folder just before compaction deletes its sources can fail to open a
//! file that is gone; schedule compaction apart from the insight run.

use crate::commit::PartitionState;
use crate::lake_key::{
    data_object, manifest_key, manifests_dir, merged_name, parse_name, state_dir, state_stream,
    ObjectName,
};
use crate::lock::{Acquired, Holder, Lock, LockError, LockObjects};
use crate::parquet_file::{read, write};
use arrow_array::{Array, RecordBatch};
use arrow_ord::sort::{lexsort_to_indices, SortColumn};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use stockstream_store::{Created, Store, StoreError};

/// Rows per merged object unless configured: about 40 MB of Parquet, a few Athena splits.
pub const DEFAULT_TARGET_ROWS: usize = 1_000_000;

/// Merges small committed objects of one table.
pub struct Compactor<'a, S> {
    /// Where the table lives.
    pub store: &'a S,
    /// Key prefix of the table (`lake/bars`).
    pub prefix: String,
    /// Most rows in a merged object. Objects at half of it or more are left alone.
    pub target_rows: usize,
}

/// What a compaction run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CompactOutcome {
    /// Folders where objects were merged.
    pub folders: u64,
    /// Source objects merged (and deleted).
    pub objects_merged: u64,
    /// Merged objects written.
    pub objects_written: u64,
    /// Rows in the merged objects.
    pub rows: u64,
    /// Bytes of the sources.
    pub bytes_before: u64,
    /// Bytes of the merged objects.
    pub bytes_after: u64,
    /// Objects left alone because the sink may still adopt them (not yet committed).
    pub uncommitted: u64,
    /// Merges of an interrupted run that this run finished (or rolled back).
    pub recovered: u64,
}

/// A run under the lock: what it did, or who held the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LockedRun {
    /// This run held the lock and compacted.
    Compacted {
        /// What it did.
        #[serde(flatten)]
        outcome: CompactOutcome,
        /// `taken`, or `taken over` (from a stale lock).
        lock: &'static str,
        /// The stale lock's holder, when this run took it over (and could read it).
        #[serde(skip_serializing_if = "Option::is_none")]
        stale_holder: Option<Holder>,
    },
    /// Another live run holds the lock: this one did nothing.
    Skipped {
        /// Who holds it, and since when.
        lock_held_by: Holder,
    },
}

/// Why compaction stopped. Nothing it leaves behind loses or doubles a row for good; the
/// next run finishes or rolls back the interrupted merge.
#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An object or manifest could not be read.
    #[error("{key} is unreadable: {error}")]
    Corrupt {
        /// Object key.
        key: String,
        /// Why.
        error: String,
    },
    /// The lock could not be taken or released.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The lock was taken over while this run held it: the run outlived its lease.
    #[error("{key}: the lock was taken over during the run (it outlived its lease)")]
    LockLost {
        /// The lock's key.
        key: String,
    },
    /// A merge this run planned already exists: another compactor is running.
    #[error("{key} already exists: is another compaction running on this table?")]
    Concurrent {
        /// The output or manifest key.
        key: String,
    },
}

/// A merge, as logged before it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Manifest {
    /// Key of the merged object.
    output: String,
    /// Keys of the objects merged into it.
    sources: Vec<String>,
}

/// FNV-1a: a name that depends only on the sources, stable across builds.
fn fnv(parts: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Concatenates and sorts by symbol, time, partition and offset (the sink's order in a
/// file). Columns the sort needs must exist.
fn merge(batches: &[RecordBatch]) -> Result<RecordBatch, String> {
    let schema = batches[0].schema();
    let all = arrow_select::concat::concat_batches(&schema, batches).map_err(|e| e.to_string())?;
    let keys = ["symbol", "ts", "kafka_partition", "kafka_offset"];
    let columns = keys
        .iter()
        .map(|k| {
            let values = all
                .column_by_name(k)
                .ok_or_else(|| format!("no column {k}"))?
                .clone();
            Ok(SortColumn {
                values,
                options: None,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let order = lexsort_to_indices(&columns, None).map_err(|e| e.to_string())?;
    arrow_select::take::take_record_batch(&all, &order).map_err(|e| e.to_string())
}

/// A source picked for a merge.
struct Source {
    key: String,
    bytes: u64,
    batches: Vec<RecordBatch>,
}

impl<S: Store> Compactor<'_, S> {
    fn prefix(&self) -> &str {
        self.prefix.trim_end_matches('/')
    }

    /// Finishes interrupted merges, then merges every folder's small committed objects.
    pub async fn run(&self) -> Result<CompactOutcome, CompactError> {
        let mut out = CompactOutcome::default();
        let prefix = self.prefix().to_string();
        let mut keys: BTreeSet<String> = self
            .store
            .list(&format!("{prefix}/"))
            .await?
            .into_iter()
            .collect();
        self.recover(&mut keys, &mut out).await?;
        let committed = self.committed(&keys).await?;

        let mut folders: BTreeMap<&str, Vec<(&str, ObjectName)>> = BTreeMap::new();
        for key in &keys {
            if let Some((folder, name)) = data_object(&prefix, key) {
                if let Some(k) = parse_name(name) {
                    folders.entry(folder).or_default().push((key, k));
                }
            }
        }
        for (folder, objects) in folders {
            let mut picked = vec![];
            for (key, k) in objects {
                match k {
                    ObjectName::Merged { rows } if rows >= self.target_rows / 2 => {}
                    ObjectName::Merged { .. } => picked.push((key, None)),
                    // Written into a gap: left alone, so a retried redrive can adopt it.
                    ObjectName::Sink { redrive: true, .. } => {}
                    ObjectName::Sink { stream, first, .. } => match committed.get(stream) {
                        Some(&next) if first < next => picked.push((key, Some(next))),
                        _ => out.uncommitted += 1,
                    },
                }
            }
            if picked.len() >= 2 && self.merge_folder(folder, picked, &mut out).await? {
                out.folders += 1;
            }
        }
        Ok(out)
    }

    /// [`run`](Self::run) while holding `lock` as `owner` (a Lambda request id) from `now`;
    /// returns at once when another live run holds it. The lock is released even when the
    /// run fails (the next run need not wait for the lease to end).
    pub async fn run_locked<O: LockObjects>(
        &self,
        lock: &Lock<'_, O>,
        owner: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<LockedRun, CompactError> {
        let (lease, stale) = match lock.acquire(owner, now).await? {
            Acquired::Held(lock_held_by) => return Ok(LockedRun::Skipped { lock_held_by }),
            Acquired::Taken(lease) => (lease, None),
            Acquired::TakenOver { lease, stale } => (lease, Some(stale)),
        };
        let result = self.run().await;
        let released = lock.release(lease).await;
        let outcome = result?;
        if !released? {
            return Err(CompactError::LockLost {
                key: lock.key.clone(),
            });
        }
        Ok(LockedRun::Compacted {
            outcome,
            lock: if stale.is_some() {
                "taken over"
            } else {
                "taken"
            },
            stale_holder: stale.flatten(),
        })
    }

    /// Each partition's `next_offset`, by `{topic}-{partition}`.
    async fn committed(
        &self,
        keys: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, i64>, CompactError> {
        let prefix = self.prefix();
        let mut out = BTreeMap::new();
        let dir = state_dir(prefix);
        for key in keys.iter().filter(|k| k.starts_with(&dir)) {
            let Some(name) = state_stream(prefix, key) else {
                continue;
            };
            let Some((bytes, _)) = self.store.get(key).await? else {
                continue;
            };
            let state: PartitionState =
                serde_json::from_slice(&bytes).map_err(|e| CompactError::Corrupt {
                    key: key.clone(),
                    error: e.to_string(),
                })?;
            out.insert(name.to_string(), state.next_offset);
        }
        Ok(out)
    }

    /// Finishes (output written) or rolls back (output absent) each logged merge.
    async fn recover(
        &self,
        keys: &mut BTreeSet<String>,
        out: &mut CompactOutcome,
    ) -> Result<(), CompactError> {
        let dir = manifests_dir(self.prefix());
        let manifests: Vec<String> = keys
            .iter()
            .filter(|k| k.starts_with(&dir))
            .cloned()
            .collect();
        for key in manifests {
            if let Some((bytes, _)) = self.store.get(&key).await? {
                let m: Manifest =
                    serde_json::from_slice(&bytes).map_err(|e| CompactError::Corrupt {
                        key: key.clone(),
                        error: e.to_string(),
                    })?;
                if keys.contains(&m.output) {
                    for s in &m.sources {
                        if keys.remove(s) {
                            self.store.delete(s).await?;
                        }
                    }
                }
            }
            self.store.delete(&key).await?;
            keys.remove(&key);
            out.recovered += 1;
        }
        Ok(())
    }

    /// Merges `picked` (in key order) into objects of at most `target_rows` rows; returns
    /// whether anything was merged. `Some(next)`: a sink object, committed only if all its
    /// offsets are below `next`.
    async fn merge_folder(
        &self,
        folder: &str,
        picked: Vec<(&str, Option<i64>)>,
        out: &mut CompactOutcome,
    ) -> Result<bool, CompactError> {
        let mut merged = false;
        let mut chunk: Vec<Source> = vec![];
        let mut rows = 0;
        for (key, next) in picked {
            let Some((bytes, _)) = self.store.get(key).await? else {
                continue;
            };
            let corrupt = |error: String| CompactError::Corrupt {
                key: key.to_string(),
                error,
            };
            let batches = read(&bytes).map_err(corrupt)?;
            if let Some(next) = next {
                let max = max_offset(&batches).map_err(corrupt)?;
                if max >= next {
                    out.uncommitted += 1;
                    continue;
                }
            }
            let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
            if n >= self.target_rows / 2 {
                // Big enough already (a large trigger batch). Leaving such objects alone keeps
                // every merge above half the target, so a folder ends with at most one small
                // object.
                continue;
            }
            let same_schema = chunk
                .first()
                .and_then(|c| c.batches.first())
                .zip(batches.first())
                .is_none_or(|(a, b)| a.schema() == b.schema());
            if !chunk.is_empty() && (rows + n > self.target_rows || !same_schema) {
                merged |= self
                    .write_merge(folder, std::mem::take(&mut chunk), out)
                    .await?;
                rows = 0;
            }
            rows += n;
            chunk.push(Source {
                key: key.to_string(),
                bytes: bytes.len() as u64,
                batches,
            });
        }
        merged |= self.write_merge(folder, chunk, out).await?;
        Ok(merged)
    }

    /// Logs, writes and applies one merge (two sources or more).
    async fn write_merge(
        &self,
        folder: &str,
        chunk: Vec<Source>,
        out: &mut CompactOutcome,
    ) -> Result<bool, CompactError> {
        if chunk.len() < 2 {
            return Ok(false);
        }
        let batches: Vec<RecordBatch> = chunk.iter().flat_map(|s| s.batches.clone()).collect();
        let sources: Vec<String> = chunk.iter().map(|s| s.key.clone()).collect();
        let batch = merge(&batches).map_err(|error| CompactError::Corrupt {
            key: sources.join(", "),
            error,
        })?;
        let name = merged_name(fnv(&sources), batch.num_rows());
        let prefix = self.prefix();
        let output = format!("{prefix}/{folder}/{name}");
        let manifest_key = manifest_key(prefix, folder, &name);
        let manifest = Manifest {
            output: output.clone(),
            sources: sources.clone(),
        };
        let log = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
        if self.store.put_if_absent(&manifest_key, &log).await? == Created::AlreadyExists {
            return Err(CompactError::Concurrent { key: manifest_key });
        }
        let bytes = write(&batch);
        if self.store.put_if_absent(&output, &bytes).await? == Created::AlreadyExists {
            return Err(CompactError::Concurrent { key: output });
        }
        for s in &sources {
            self.store.delete(s).await?;
        }
        self.store.delete(&manifest_key).await?;
        out.objects_merged += sources.len() as u64;
        out.objects_written += 1;
        out.rows += batch.num_rows() as u64;
        out.bytes_before += chunk.iter().map(|s| s.bytes).sum::<u64>();
        out.bytes_after += bytes.len() as u64;
        Ok(true)
    }
}

fn max_offset(batches: &[RecordBatch]) -> Result<i64, String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    let mut max = None;
    for b in batches {
        let col = b
            .column_by_name("kafka_offset")
            .ok_or("no column kafka_offset")?;
        if col.data_type() != &arrow_schema::DataType::Int64 {
            return Err("column kafka_offset is not BIGINT".into());
        }
        max = max.max(col.as_primitive::<Int64Type>().iter().flatten().max());
    }
    max.ok_or_else(|| "file has no rows".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commit::Sink;
    use crate::layout::Layout;
    use crate::parquet_file::{rows, Parquet};
    use pollster::block_on;
    use stockstream_core::ingest::LakeRow;
    use stockstream_core::validate::Warnings;
    use stockstream_core::Bar;
    use stockstream_store::Memory;

    const PREFIX: &str = "lake/bars";

    fn row(offset: i64, symbol: &str, year: i32, day: u32) -> LakeRow {
        LakeRow {
            bar: Bar {
                symbol: symbol.into(),
                date: chrono::NaiveDate::from_ymd_opt(year, 3, day).unwrap(),
                time: None,
                open: 1.0,
                high: 2.0,
                low: 0.5,
                close: offset as f64,
                adj_close: None,
                volume: Some(offset as u64),
                close_usd: None,
            },
            topic: "stock-bars".into(),
            partition: 0,
            offset,
            kafka_timestamp_ms: offset,
            source: None,
            line: None,
            warnings: Warnings::default(),
        }
    }

    /// Three committed batches in 2001 (symbols interleaved), one in 2002.
    fn lake(store: &Memory) {
        let sink = Sink {
            store,
            encoder: &Parquet { ingest_time_ms: 7 },
            layout: Layout::Year,
            prefix: PREFIX.into(),
        };
        for (k, sym) in ["B", "A", "C"].iter().enumerate() {
            let o = 10 * k as i64;
            let batch = (0..5)
                .map(|i| Ok(row(o + i, sym, 2001, 1 + i as u32)))
                .collect();
            block_on(sink.commit("stock-bars", 0, batch)).unwrap();
        }
        let batch = vec![Ok(row(30, "A", 2002, 1))];
        block_on(sink.commit("stock-bars", 0, batch)).unwrap();
    }

    fn data_keys(store: &Memory) -> Vec<String> {
        store
            .objects()
            .into_keys()
            .filter(|k| data_object(PREFIX, k).is_some())
            .collect()
    }

    fn all_rows(store: &Memory) -> Vec<(i64, Bar)> {
        let mut out: Vec<_> = data_keys(store)
            .iter()
            .flat_map(|k| rows(&store.objects()[k]).unwrap())
            .collect();
        out.sort_by_key(|(o, _)| *o);
        out
    }

    fn compactor(store: &Memory) -> Compactor<'_, Memory> {
        Compactor {
            store,
            prefix: PREFIX.into(),
            target_rows: 100,
        }
    }

    #[test]
    fn a_folder_of_committed_objects_becomes_one_sorted_object_with_the_same_rows() {
        let store = Memory::default();
        lake(&store);
        let before = all_rows(&store);
        assert_eq!(data_keys(&store).len(), 4);
        let o = block_on(compactor(&store).run()).unwrap();
        assert_eq!(
            (o.folders, o.objects_merged, o.objects_written, o.rows),
            (1, 3, 1, 15)
        );
        assert_eq!(o.uncommitted, 0);
        assert_eq!(all_rows(&store), before, "same rows, same values");
        let keys = data_keys(&store);
        assert_eq!(keys.len(), 2, "{keys:?}");
        let merged = keys
            .iter()
            .find(|k| k.contains("year=2001/compacted-"))
            .unwrap();
        assert!(merged.ends_with("-15.parquet"), "{merged}");
        let batches = read(&store.objects()[merged]).unwrap();
        let b = &batches[0];
        use arrow_array::cast::AsArray;
        let symbols: Vec<&str> = b
            .column_by_name("symbol")
            .unwrap()
            .as_string::<i32>()
            .iter()
            .flatten()
            .collect();
        assert!(symbols.windows(2).all(|w| w[0] <= w[1]), "{symbols:?}");
        let ingest = b.column_by_name("ingest_time").unwrap();
        assert_eq!(ingest.null_count(), 0, "provenance kept");
        // No manifest left, and a second run finds nothing to do.
        assert!(!store.objects().keys().any(|k| k.contains("/_compaction/")));
        let again = block_on(compactor(&store).run()).unwrap();
        assert_eq!(again, CompactOutcome::default());
    }

    #[test]
    fn objects_the_sink_may_still_adopt_are_left_alone() {
        let store = Memory::default();
        lake(&store);
        // An attempt that wrote 2001 and 2002 objects and died before moving the state past
        // them (its first write opens the gap 31..40 in the state).
        let sink = Sink {
            store: &store,
            encoder: &Parquet { ingest_time_ms: 7 },
            layout: Layout::Year,
            prefix: PREFIX.into(),
        };
        store.fail_after(Some(3));
        let batch = vec![Ok(row(40, "D", 2001, 9)), Ok(row(41, "D", 2002, 9))];
        assert!(block_on(sink.commit("stock-bars", 0, batch.clone())).is_err());
        store.fail_after(None);
        let ahead = "lake/bars/year=2001/stock-bars-0-00000000000000000040.parquet";
        assert!(store.objects().contains_key(ahead));
        let o = block_on(compactor(&store).run()).unwrap();
        assert_eq!(o.uncommitted, 2, "{o:?}");
        assert!(
            store.objects().contains_key(ahead),
            "still there for the retry to adopt"
        );
        // The retry adopts it; then it is committed and merged.
        let r = block_on(sink.commit("stock-bars", 0, batch)).unwrap();
        assert_eq!(r.objects_adopted, 2);
        let o = block_on(compactor(&store).run()).unwrap();
        assert_eq!((o.objects_merged, o.uncommitted), (4, 0), "{o:?}");
        assert_eq!(all_rows(&store).len(), 18);
    }

    #[test]
    fn a_run_interrupted_at_any_write_is_finished_by_the_next() {
        let store = Memory::default();
        lake(&store);
        let before = all_rows(&store);
        // The run's writes: manifest, output, 3 deletes, manifest delete.
        for crash_at in 0..6 {
            let store = Memory::default();
            lake(&store);
            store.fail_after(Some(crash_at));
            assert!(
                block_on(compactor(&store).run()).is_err(),
                "crash at {crash_at}"
            );
            store.fail_after(None);
            let o = block_on(compactor(&store).run()).unwrap();
            // A crash before the manifest was written leaves nothing to recover.
            assert_eq!(o.recovered, u64::from(crash_at > 0), "crash at {crash_at}");
            assert_eq!(all_rows(&store), before, "crash at {crash_at}");
            assert_eq!(data_keys(&store).len(), 2, "crash at {crash_at}");
            assert!(!store.objects().keys().any(|k| k.contains("/_compaction/")));
        }
    }

    #[test]
    fn a_run_under_a_held_lock_does_nothing_and_a_failed_run_releases_it() {
        use crate::lock::MemoryObjects;
        let store = Memory::default();
        lake(&store);
        let before = store.objects();
        let objects = MemoryObjects::default();
        let lock = Lock {
            objects: &objects,
            key: "_locks/compaction".into(),
            lease: std::time::Duration::from_secs(960),
        };
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let Acquired::Taken(other) = block_on(lock.acquire("other", now)).unwrap() else {
            panic!("free lock not taken");
        };
        let r = block_on(compactor(&store).run_locked(&lock, "me", now)).unwrap();
        assert_eq!(
            r,
            LockedRun::Skipped {
                lock_held_by: other.holder.clone()
            }
        );
        assert_eq!(store.objects(), before, "nothing done");
        assert!(block_on(lock.release(other)).unwrap());
        store.fail_after(Some(0));
        assert!(block_on(compactor(&store).run_locked(&lock, "me", now)).is_err());
        let r = block_on(compactor(&store).run_locked(&lock, "again", now)).unwrap();
        let LockedRun::Compacted {
            outcome,
            lock: how,
            stale_holder,
        } = r
        else {
            panic!("released after the failure, yet {r:?}");
        };
        assert_eq!(
            (outcome.objects_merged, how, stale_holder),
            (3, "taken", None)
        );
        assert_eq!(all_rows(&store).len(), 16);
    }

    #[test]
    fn merged_objects_stay_under_the_target() {
        let store = Memory::default();
        lake(&store);
        let c = Compactor {
            target_rows: 12,
            ..compactor(&store)
        };
        let o = block_on(c.run()).unwrap();
        // Objects of 5 rows: two fit under 12, the third stays alone.
        assert_eq!((o.objects_merged, o.objects_written), (2, 1), "{o:?}");
        assert_eq!(data_keys(&store).len(), 3);
        assert_eq!(all_rows(&store).len(), 16);
    }
}
