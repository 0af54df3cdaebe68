//! Exactly-once writes under at-least-once delivery.
//!
//! Lambda delivers a partition's records in order, one invocation at a time, but retries a
//! failed batch whole and may cut the retry differently; a record can arrive again after it
//! was stored. The sink keeps, per topic-partition, a small state object updated only by
//! compare-and-swap:
//!
//! - `next_offset`: every record below it is stored (or quarantined);
//! - `ahead[folder]`: in that folder, every record up to this offset is stored too (objects an
//!   earlier attempt wrote past the point where its batch was later cut).
//!
//! A batch keeps the records that state does not cover, groups them by partition folder,
//! and writes each group with create-if-absent under a name made of its first offset. If the
//! name is taken, an interrupted attempt wrote that group from the same starting record:
//! the object holds every record of the folder from there to its own last offset, so it is
//! adopted and only records past it are written (under a name starting at the first of
//! them). Then the state moves to the batch's last offset + 1 with the folders' coverage.
//! A crash between any two writes leaves either the old state (and objects a retry adopts)
//! or the new one; no record is stored twice and none is skipped. The property test in
//! `tests/exactly_once.rs` checks this under random cuts, duplicates and injected failures.
//!
//! Objects wholly below `next_offset` are never read again, which is what lets
//! [`crate::compact`] merge and delete them; objects `ahead` of the state stay for adoption.

use crate::encode::{encode_quarantine, read_quarantine, Encoder};
use crate::layout::{object_key, state_key, Layout, QUARANTINE};
use crate::store::{Created, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use stockstream_core::ingest::{LakeRow, Quarantined};

/// What one record became.
pub type Entry = Result<LakeRow, Box<Quarantined>>;

fn offset_of(e: &Entry) -> i64 {
    match e {
        Ok(r) => r.offset,
        Err(q) => q.offset,
    }
}

/// Commit state of one topic-partition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionState {
    /// Every record below this offset is stored.
    pub next_offset: i64,
    /// Per folder: records up to this offset (inclusive) are stored as well.
    #[serde(default)]
    pub ahead: BTreeMap<String, i64>,
}

/// Counts for one committed batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Records in the batch (after dropping exact repeats within it).
    pub records: u64,
    /// Records already stored by an earlier delivery, skipped.
    pub already_stored: u64,
    /// Valid rows newly stored (written or adopted).
    pub rows: u64,
    /// Records newly quarantined.
    pub quarantined: u64,
    /// Newly quarantined records by reason code.
    pub quarantine_reasons: BTreeMap<String, u64>,
    /// Objects written.
    pub objects_written: u64,
    /// Objects found written by an interrupted attempt and adopted.
    pub objects_adopted: u64,
    /// Bytes written.
    pub bytes_written: u64,
}

/// Why a batch could not be committed; the invocation should fail so Lambda retries.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The state object changed under us (another writer on the same partition).
    #[error("{key} changed during the batch (another writer?); retrying is safe")]
    Conflict {
        /// State key.
        key: String,
    },
    /// An existing object or state could not be read.
    #[error("{key} is unreadable: {error}")]
    Corrupt {
        /// Object key.
        key: String,
        /// Why.
        error: String,
    },
}

/// Writes batches of one table into a store.
pub struct Sink<'a, S, E> {
    /// Where objects go.
    pub store: &'a S,
    /// How rows are encoded.
    pub encoder: &'a E,
    /// Partition folders.
    pub layout: Layout,
    /// Key prefix of the table (`lake/bars`).
    pub prefix: String,
}

enum Group<'e> {
    Rows(Vec<&'e LakeRow>),
    Quarantine(Vec<&'e Quarantined>),
}

impl Group<'_> {
    fn offsets(&self) -> Vec<i64> {
        match self {
            Group::Rows(r) => r.iter().map(|r| r.offset).collect(),
            Group::Quarantine(q) => q.iter().map(|q| q.offset).collect(),
        }
    }

    /// The part of the group after `offset`.
    fn after(&self, offset: i64) -> Self {
        match self {
            Group::Rows(r) => {
                Group::Rows(r.iter().copied().filter(|x| x.offset > offset).collect())
            }
            Group::Quarantine(q) => {
                Group::Quarantine(q.iter().copied().filter(|x| x.offset > offset).collect())
            }
        }
    }

    fn len(&self) -> usize {
        self.offsets().len()
    }
}

impl<S: Store, E: Encoder> Sink<'_, S, E> {
    /// Commits the records one invocation received for `topic`/`partition`, in any order.
    pub async fn commit(
        &self,
        topic: &str,
        partition: i32,
        mut entries: Vec<Entry>,
    ) -> Result<Outcome, CommitError> {
        entries.sort_by_key(offset_of);
        entries.dedup_by_key(|e| offset_of(e));
        let mut out = Outcome {
            records: entries.len() as u64,
            ..Default::default()
        };
        let Some(last) = entries.last().map(offset_of) else {
            return Ok(out);
        };
        let skey = state_key(&self.prefix, topic, partition);
        let (state, tag) = match self.store.get(&skey).await? {
            None => (PartitionState::default(), None),
            Some((bytes, tag)) => {
                let s = serde_json::from_slice(&bytes).map_err(|e| CommitError::Corrupt {
                    key: skey.clone(),
                    error: e.to_string(),
                })?;
                (s, Some(tag))
            }
        };

        // Group what the state does not cover yet by folder, in offset order.
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        for e in &entries {
            let folder = match e {
                Ok(r) => self.layout.folder(r),
                Err(_) => QUARANTINE.to_string(),
            };
            let o = offset_of(e);
            if o < state.next_offset || state.ahead.get(&folder).is_some_and(|&a| o <= a) {
                out.already_stored += 1;
                continue;
            }
            let g = groups.entry(folder).or_insert_with(|| match e {
                Ok(_) => Group::Rows(vec![]),
                Err(_) => Group::Quarantine(vec![]),
            });
            match (g, e) {
                (Group::Rows(v), Ok(r)) => v.push(r),
                (Group::Quarantine(v), Err(q)) => v.push(q),
                _ => unreachable!("a folder holds rows or quarantine, never both"),
            }
        }

        let mut covered: BTreeMap<String, i64> = BTreeMap::new();
        for (folder, group) in groups {
            match &group {
                Group::Rows(r) => out.rows += r.len() as u64,
                Group::Quarantine(q) => {
                    out.quarantined += q.len() as u64;
                    for x in q {
                        *out.quarantine_reasons.entry(x.code.clone()).or_default() += 1;
                    }
                }
            }
            let through = self
                .write_group(topic, partition, &folder, group, &mut out)
                .await?;
            covered.insert(folder, through);
        }

        let mut next = state.clone();
        next.next_offset = state.next_offset.max(last + 1);
        for (folder, through) in covered {
            let a = next.ahead.entry(folder).or_insert(through);
            *a = (*a).max(through);
        }
        next.ahead.retain(|_, a| *a >= next.next_offset);
        if next != state {
            let bytes = serde_json::to_vec(&next).expect("state serialises");
            if !self.store.put_if_match(&skey, &bytes, tag.as_ref()).await? {
                return Err(CommitError::Conflict { key: skey });
            }
        }
        Ok(out)
    }

    /// Writes a group (adopting what an interrupted attempt wrote); returns the highest
    /// offset now stored for the folder.
    async fn write_group(
        &self,
        topic: &str,
        partition: i32,
        folder: &str,
        mut group: Group<'_>,
        out: &mut Outcome,
    ) -> Result<i64, CommitError> {
        let mut through = i64::MIN;
        while group.len() > 0 {
            let offsets = group.offsets();
            let (first, last) = (offsets[0], *offsets.last().expect("non-empty"));
            let (bytes, ext) = match &group {
                Group::Rows(r) => (self.encoder.encode(r), self.encoder.extension()),
                Group::Quarantine(q) => (encode_quarantine(q), "jsonl"),
            };
            let key = object_key(&self.prefix, folder, topic, partition, first, ext);
            match self.store.put_if_absent(&key, &bytes).await? {
                Created::Yes => {
                    out.objects_written += 1;
                    out.bytes_written += bytes.len() as u64;
                    return Ok(through.max(last));
                }
                Created::AlreadyExists => {
                    out.objects_adopted += 1;
                    let existing = self
                        .store
                        .get(&key)
                        .await?
                        .map(|(b, _)| b)
                        .unwrap_or_default();
                    let corrupt = |error: String| CommitError::Corrupt {
                        key: key.clone(),
                        error,
                    };
                    let max = match &group {
                        Group::Rows(_) => self.encoder.max_offset(&existing).map_err(corrupt)?,
                        Group::Quarantine(_) => read_quarantine(&existing)
                            .map_err(corrupt)?
                            .iter()
                            .map(|q| q.offset)
                            .max()
                            .ok_or_else(|| CommitError::Corrupt {
                                key: key.clone(),
                                error: "empty quarantine object".into(),
                            })?,
                    };
                    if max < first {
                        // Named for `first`, it must hold `first`: something else wrote it.
                        return Err(CommitError::Corrupt {
                            key,
                            error: format!(
                                "holds offsets up to {max}, below its own first offset {first}"
                            ),
                        });
                    }
                    through = through.max(max);
                    group = group.after(max);
                }
            }
        }
        Ok(through)
    }
}
