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
//! `tests/it/exactly_once.rs` checks this under random cuts, duplicates and injected failures.
//!
//! Objects wholly below `next_offset` are never read again, which is what lets
//! [`crate::compact`] merge and delete them; objects `ahead` of the state stay for adoption.
//!
//! **Gaps.** Lambda gives up on a batch after its retries (it goes to the on-failure
//! destination) and delivers the next one. A batch that starts above `next_offset`
//! therefore leaves a *gap*, recorded in the state as `[next_offset, first)` before any
//! object of the batch is written (so a retry that starts lower, inside the given-up batch,
//! finds the open end where this attempt left it). Objects an
//! interrupted attempt of the given-up batch wrote there are listed when the gap is
//! recorded (and again whenever a batch reaches into a gap, since a redrive may be cut
//! elsewhere than its interrupted attempt), and their ranges kept as `stored` spans. Records that fall in a gap
//! are written like new ones (the redrive of the failed batch), under names ending
//! `.redrive.<ext>` that compaction leaves alone (so an interrupted redrive can adopt them);
//! the gap shrinks by each committed batch's range, so a second redrive finds them stored.
//! `next_offset` keeps its meaning for compaction: what lies below it is never adopted
//! again. Gap tracking assumes a partition's offsets are consecutive (no transactions, no
//! compacted topic), which the producer's idempotent, non-transactional writes give; a hole
//! is recorded as a gap that no redrive fills, which costs nothing but its `OffsetGaps` count.
//!
//! **Offset regressions.** State is keyed by topic and partition. A re-created topic (or a
//! new cluster) starts its offsets again, below `next_offset`, and its records would look
//! stored. A re-delivery carries exactly the timestamp of the record it repeats, and every
//! committed record's timestamp is in `max_timestamp`; so a record in a committed range with
//! a newer timestamp cannot be a re-delivery. Such a batch fails, naming the setting that
//! starts a new state namespace ([`crate::handler::SinkConfig::state_namespace`]). State
//! written before this check existed has no timestamps below `timestamps_from`; records there
//! are not judged.

use crate::encode::{encode_quarantine, read_quarantine, Encoder};
use crate::lake_key::{object_key, parse_name, state_key, ObjectName, QUARANTINE, REDRIVE};
use crate::layout::Layout;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use stockstream_core::ingest::{LakeRow, Quarantined};
use stockstream_store::{Created, Store, StoreError};

/// What one record became.
pub type Entry = Result<LakeRow, Box<Quarantined>>;

/// A record and its Kafka timestamp (epoch ms), when known.
pub type Stamped = (Entry, Option<i64>);

fn offset_of(e: &Entry) -> i64 {
    match e {
        Ok(r) => r.offset,
        Err(q) => q.offset,
    }
}

/// Commit state of one topic-partition.
///
/// Earlier versions wrote `next_offset` and `ahead` only; the other fields default to "no
/// gaps, no timestamps", which reads such state exactly as before, and an earlier version
/// reading this state ignores them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionState {
    /// Every record below this offset is stored, except in `gaps`.
    pub next_offset: i64,
    /// Per folder: records from `next_offset` up to this offset (inclusive) are stored too.
    #[serde(default)]
    pub ahead: BTreeMap<String, i64>,
    /// Missing ranges below `next_offset`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Gap>,
    /// Newest Kafka timestamp of any committed record at or above `timestamps_from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_timestamp: Option<i64>,
    /// Lowest offset whose record's timestamp is counted in `max_timestamp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamps_from: Option<i64>,
}

/// Offsets `[from, to)` not stored yet: a batch Lambda gave up on, waiting for its redrive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// First missing offset.
    pub from: i64,
    /// First offset after the gap.
    pub to: i64,
    /// Parts stored nevertheless (objects an interrupted attempt wrote).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stored: Vec<Span>,
}

/// In `folder`, every record with an offset in `[from, through]` is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Partition folder (or `quarantine`).
    pub folder: String,
    /// First offset.
    pub from: i64,
    /// Last offset.
    pub through: i64,
}

/// What the sink does with a record that cannot be a re-delivery below the committed end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Regressions {
    /// Fail the batch (the default): its records would otherwise be dropped as stored.
    #[default]
    Fail,
    /// Count it as stored: only where the same input is known to come again under the same
    /// offsets (the local demo's embedded broker, guarded by the input's fingerprint).
    TreatAsStored,
}

/// How one commit treats the state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitOptions {
    /// Offset regressions.
    pub regressions: Regressions,
}

/// A part of the offset space not (wholly) stored: a gap, or the open end.
#[derive(Debug, Clone)]
struct Region {
    from: i64,
    to: Option<i64>,
    stored: Vec<Span>,
}

impl Region {
    fn contains(&self, o: i64) -> bool {
        self.from <= o && self.to.is_none_or(|t| o < t)
    }

    fn covers(&self, folder: &str, o: i64) -> bool {
        self.stored
            .iter()
            .any(|s| s.folder == folder && s.from <= o && o <= s.through)
    }

    /// The region cut to `[from, to)`, with the spans that still matter there.
    fn piece(&self, from: i64, to: Option<i64>) -> Region {
        let stored = self
            .stored
            .iter()
            .filter(|s| s.through >= from && to.is_none_or(|t| s.from < t))
            .map(|s| Span {
                folder: s.folder.clone(),
                from: s.from.max(from),
                through: s.through,
            })
            .collect();
        Region { from, to, stored }
    }
}

impl PartitionState {
    fn regions(&self) -> Vec<Region> {
        let mut v: Vec<Region> = self
            .gaps
            .iter()
            .map(|g| Region {
                from: g.from,
                to: Some(g.to),
                stored: g.stored.clone(),
            })
            .collect();
        v.push(Region {
            from: self.next_offset,
            to: None,
            stored: self
                .ahead
                .iter()
                .map(|(f, &a)| Span {
                    folder: f.clone(),
                    from: self.next_offset,
                    through: a,
                })
                .collect(),
        });
        v
    }

    fn set_regions(&mut self, mut regions: Vec<Region>) {
        let tail = regions.pop().expect("the open end is always there");
        self.gaps = regions
            .into_iter()
            .filter(|r| r.to.is_some_and(|t| r.from < t))
            .map(|r| Gap {
                from: r.from,
                to: r.to.expect("bounded"),
                stored: r.stored,
            })
            .collect();
        self.next_offset = tail.from;
        self.ahead.clear();
        // Spans of the open end start at or before it (an adopted object starts inside its
        // batch), so they read as `ahead`.
        for s in tail.stored.iter().filter(|s| s.from <= tail.from) {
            let a = self.ahead.entry(s.folder.clone()).or_insert(s.through);
            *a = (*a).max(s.through);
        }
    }
}

/// `regions` with what a listing `found` (objects of interrupted attempts) recorded as stored,
/// wherever it lies.
fn with_found(mut regions: Vec<Region>, found: &[Span]) -> Vec<Region> {
    for r in regions.iter_mut() {
        for s in found {
            if r.contains(s.from) {
                r.stored.push(s.clone());
            } else if s.from < r.from && s.through >= r.from {
                r.stored.push(Span {
                    folder: s.folder.clone(),
                    from: r.from,
                    through: s.through,
                });
            }
        }
    }
    regions
}

/// `regions` without the committed range `[first, last]`; what the batch wrote or adopted
/// (`covered`: folder, first and last offset of each object) is kept where it reaches past.
fn subtract(regions: Vec<Region>, first: i64, last: i64, covered: &[Span]) -> Vec<Region> {
    let mut out = vec![];
    for r in regions {
        let r_end = r.to.unwrap_or(i64::MAX);
        if last < r.from || first >= r_end {
            out.push(r);
            continue;
        }
        if r.from < first {
            out.push(r.piece(r.from, Some(first)));
        }
        if last + 1 < r_end {
            out.push(r.piece(last + 1, r.to));
        }
    }
    for r in out.iter_mut().filter(|r| r.from > last) {
        for s in covered.iter().filter(|s| s.through >= r.from) {
            r.stored.push(Span {
                folder: s.folder.clone(),
                from: s.from.max(r.from),
                through: s.through,
            });
        }
    }
    out
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
    /// Gaps opened: the batch started above the committed end (a batch given up before it).
    pub gaps_opened: u64,
    /// Records newly stored inside a recorded gap (a redrive).
    pub gap_records: u64,
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
    /// Records below the committed end that cannot be re-deliveries: the topic was deleted
    /// and re-created, or the cluster replaced. Nothing of the partition's batch is stored.
    #[error(
        "{topic}-{partition}: offset regression: {records} record(s) at committed offsets (first: offset {offset}, \
         timestamp {timestamp}) are newer than anything stored for this partition (newest: {max_timestamp}; \
         committed up to {end}), so they are new records, not re-deliveries: the topic was re-created \
         or the cluster replaced. Nothing of this batch was stored. Stop the producer, then start a new \
         state namespace for the new topic or cluster: set SINK_STATE_NAMESPACE on the sink function \
         (`stockstream-local sink --state-namespace NAME`) and redrive the batches that failed meanwhile \
         (docs/operations.md, SinkOffsetRegression)"
    )]
    OffsetRegression {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// First offending offset.
        offset: i64,
        /// Its timestamp.
        timestamp: i64,
        /// Newest timestamp stored.
        max_timestamp: i64,
        /// End of the committed range.
        end: i64,
        /// Offending records.
        records: u64,
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
    /// Commits the records one invocation received for `topic`/`partition`, in any order,
    /// judging regressions by the rows' own Kafka timestamps (quarantined records carry none).
    pub async fn commit(
        &self,
        topic: &str,
        partition: i32,
        entries: Vec<Entry>,
    ) -> Result<Outcome, CommitError> {
        let stamped = entries
            .into_iter()
            .map(|e| {
                let t = e.as_ref().ok().map(|r| r.kafka_timestamp_ms);
                (e, t)
            })
            .collect();
        self.commit_stamped(topic, partition, stamped, CommitOptions::default())
            .await
    }

    /// Commits records with their Kafka timestamps. `topic` names the keys (state and
    /// objects); the handler prefixes it with the state namespace.
    pub async fn commit_stamped(
        &self,
        topic: &str,
        partition: i32,
        mut entries: Vec<Stamped>,
        options: CommitOptions,
    ) -> Result<Outcome, CommitError> {
        entries.sort_by_key(|(e, _)| offset_of(e));
        entries.dedup_by_key(|(e, _)| offset_of(e));
        let mut out = Outcome {
            records: entries.len() as u64,
            ..Default::default()
        };
        let (Some(first), Some(last)) = (
            entries.first().map(|(e, _)| offset_of(e)),
            entries.last().map(|(e, _)| offset_of(e)),
        ) else {
            return Ok(out);
        };
        let skey = state_key(&self.prefix, topic, partition);
        let (state, tag) = match self.store.get(&skey).await? {
            // A partition's offsets start at 0: a first batch above it follows batches given
            // up on (or expired), and opens a gap for their redrive.
            None => (
                PartitionState {
                    timestamps_from: Some(0),
                    ..Default::default()
                },
                None,
            ),
            Some((bytes, tag)) => {
                let s = serde_json::from_slice(&bytes).map_err(|e| CommitError::Corrupt {
                    key: skey.clone(),
                    error: e.to_string(),
                })?;
                (s, Some(tag))
            }
        };
        let mut regions = state.regions();
        // Committed before timestamps were kept: records below the end then are not judged.
        let judged_from = state.timestamps_from.unwrap_or(state.next_offset);

        // Records in a committed range that cannot be re-deliveries.
        if let (Regressions::Fail, Some(max)) = (options.regressions, state.max_timestamp) {
            let newer: Vec<(i64, i64)> = entries
                .iter()
                .filter_map(|(e, t)| Some((offset_of(e), (*t)?)))
                .filter(|&(o, t)| {
                    t > max && o >= judged_from && !regions.iter().any(|r| r.contains(o))
                })
                .collect();
            if let Some(&(offset, timestamp)) = newer.first() {
                return Err(CommitError::OffsetRegression {
                    topic: topic.to_string(),
                    partition,
                    offset,
                    timestamp,
                    max_timestamp: max,
                    end: state.next_offset,
                    records: newer.len() as u64,
                });
            }
        }

        // A batch past the end: the batches between were given up, and one that reaches
        // into a gap is a redrive. Either may meet objects of interrupted attempts that the
        // state does not know, cut elsewhere: they are listed (rarely: only then) and their
        // records count as stored.
        let opening = first > state.next_offset;
        let touched: Vec<(i64, Option<i64>)> = regions
            .iter()
            .filter(|r| r.to.is_some() && r.from <= last && r.to.is_some_and(|t| first < t))
            .map(|r| (r.from, r.to))
            .chain(opening.then_some((state.next_offset, None)))
            .collect();
        let found = if touched.is_empty() {
            vec![]
        } else {
            self.written_in(topic, partition, &touched).await?
        };
        let mut tag = tag;
        if opening {
            out.gaps_opened = 1;
            let tail = regions.pop().expect("the open end");
            regions.extend([tail.piece(tail.from, Some(first)), tail.piece(first, None)]);
            // The gap is committed before any object is written. Otherwise a retry that
            // starts lower (the consumer went back into the given-up batch) would meet the
            // objects of this attempt in the open end under names of other first records,
            // and store their records again.
            let mut opened = state.clone();
            opened.set_regions(with_found(regions.clone(), &found));
            opened.timestamps_from = Some(judged_from);
            let bytes = serde_json::to_vec(&opened).expect("state serialises");
            if !self.store.put_if_match(&skey, &bytes, tag.as_ref()).await? {
                return Err(CommitError::Conflict { key: skey });
            }
            tag = match self.store.get(&skey).await? {
                Some((b, t)) if b == bytes => Some(t),
                _ => return Err(CommitError::Conflict { key: skey }),
            };
        }
        let mut adopted = vec![false; found.len()];

        // Group what the state does not cover yet by folder (and gap or end), in offset order.
        let mut groups: BTreeMap<(String, Option<i64>), Group> = BTreeMap::new();
        for (e, _) in &entries {
            let folder = match e {
                Ok(r) => self.layout.folder(r),
                Err(_) => QUARANTINE.to_string(),
            };
            let o = offset_of(e);
            let Some(region) = regions
                .iter()
                .find(|r| r.contains(o))
                .filter(|r| !r.covers(&folder, o))
            else {
                out.already_stored += 1;
                continue;
            };
            // Written by an interrupted attempt the state does not know: adopted.
            if let Some(i) = found
                .iter()
                .position(|s| s.folder == folder && s.from <= o && o <= s.through)
            {
                match e {
                    Ok(_) => out.rows += 1,
                    Err(q) => {
                        out.quarantined += 1;
                        *out.quarantine_reasons.entry(q.code.clone()).or_default() += 1;
                    }
                }
                if !adopted[i] {
                    adopted[i] = true;
                    out.objects_adopted += 1;
                }
                continue;
            }
            let in_gap = region.to.is_some();
            if in_gap {
                out.gap_records += 1;
            }
            // One object per folder and region: an object that spanned two gaps would be
            // missed by the listing of the second (it finds objects by their first offset).
            let gap = region.to.map(|_| region.from);
            let g = groups.entry((folder, gap)).or_insert_with(|| match e {
                Ok(_) => Group::Rows(vec![]),
                Err(_) => Group::Quarantine(vec![]),
            });
            match (g, e) {
                (Group::Rows(v), Ok(r)) => v.push(r),
                (Group::Quarantine(v), Err(q)) => v.push(q),
                _ => unreachable!("a folder holds rows or quarantine, never both"),
            }
        }

        let mut covered: Vec<Span> = vec![];
        for ((folder, gap), group) in groups {
            let in_gap = gap.is_some();
            match &group {
                Group::Rows(r) => out.rows += r.len() as u64,
                Group::Quarantine(q) => {
                    out.quarantined += q.len() as u64;
                    for x in q {
                        *out.quarantine_reasons.entry(x.code.clone()).or_default() += 1;
                    }
                }
            }
            let from = group.offsets()[0];
            let through = self
                .write_group(topic, partition, &folder, in_gap, group, &mut out)
                .await?;
            covered.push(Span {
                folder,
                from,
                through,
            });
        }

        let mut next = state.clone();
        next.set_regions(subtract(with_found(regions, &found), first, last, &covered));
        let newest = entries.iter().filter_map(|(_, t)| *t).max();
        next.max_timestamp = state.max_timestamp.max(newest);
        next.timestamps_from = Some(judged_from);
        if next != state || tag.is_none() {
            let bytes = serde_json::to_vec(&next).expect("state serialises");
            if !self.store.put_if_match(&skey, &bytes, tag.as_ref()).await? {
                return Err(CommitError::Conflict { key: skey });
            }
        }
        Ok(out)
    }

    /// Spans of this partition's objects whose first offset lies in one of `ranges`
    /// (`[from, to)`, `None`: open): what interrupted attempts wrote there.
    async fn written_in(
        &self,
        topic: &str,
        partition: i32,
        ranges: &[(i64, Option<i64>)],
    ) -> Result<Vec<Span>, CommitError> {
        let prefix = format!("{}/", self.prefix.trim_end_matches('/'));
        let stream = format!("{topic}-{partition}");
        let mut out = vec![];
        for key in self.store.list(&prefix).await? {
            let Some((folder, name)) = key[prefix.len()..].rsplit_once('/') else {
                continue;
            };
            let Some(ObjectName::Sink {
                stream: s,
                first,
                ext,
                ..
            }) = parse_name(name)
            else {
                continue;
            };
            let wanted = ranges
                .iter()
                .any(|&(from, to)| from <= first && to.is_none_or(|t| first < t));
            if s != stream || !wanted {
                continue;
            }
            let corrupt = |error: String| CommitError::Corrupt {
                key: key.clone(),
                error,
            };
            let bytes = self
                .store
                .get(&key)
                .await?
                .map(|(b, _)| b)
                .unwrap_or_default();
            let through = if folder == QUARANTINE && ext == "jsonl" {
                read_quarantine(&bytes)
                    .map_err(corrupt)?
                    .iter()
                    .map(|q| q.offset)
                    .max()
            } else if ext == self.encoder.extension() {
                Some(self.encoder.max_offset(&bytes).map_err(corrupt)?)
            } else {
                None
            };
            if let Some(through) = through {
                out.push(Span {
                    folder: folder.to_string(),
                    from: first,
                    through,
                });
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
        in_gap: bool,
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
            // Into a gap: a name compaction does not merge, so a retry can still adopt it.
            let ext = if in_gap {
                format!("{REDRIVE}.{ext}")
            } else {
                ext.to_string()
            };
            let key = object_key(&self.prefix, folder, topic, partition, first, &ext);
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
