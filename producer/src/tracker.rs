//! Which rows are safely in Kafka, and from where a later run may resume.
//!
//! Rows are sent in line order, but acknowledgements arrive per partition, out of line
//! order. The tracker keeps the lines in flight and a queue of reader [`Snapshot`]s; a
//! snapshot becomes the checkpoint once every line before it is acknowledged. With the
//! snapshot it records, per partition, the offset after the last row acknowledged *when the
//! snapshot was taken*: rows read after the snapshot were not yet sent, so Kafka appends them
//! after those offsets, and a resumed run finds them by scanning only from there.

use std::collections::{BTreeMap, VecDeque};
use stockstream_core::reader::ReadStats;

/// Reader state just before a line: enough to restart reading there.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// Lines fully handled before this point (the next line read is `lines_before + 1`).
    pub lines_before: u64,
    /// Byte offset of the next line.
    pub offset: u64,
    /// Length of the rejects file at this point.
    pub rejects_len: u64,
    /// Reader counts up to this point.
    pub stats: ReadStats,
    /// Per partition, where rows after this point can first appear.
    pub scan_from: BTreeMap<i32, i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    InFlight,
    Delivered,
    Failed,
}

/// Delivery bookkeeping for one source.
#[derive(Debug, Default)]
pub struct Tracker {
    in_flight: VecDeque<(u64, State)>,
    pending: VecDeque<Snapshot>,
    next_offset: BTreeMap<i32, i64>,
    /// Rows acknowledged by the broker in this run.
    pub delivered: u64,
    /// Rows that failed for good in this run.
    pub failed: u64,
    /// Failure reasons and their counts.
    pub failures: BTreeMap<String, u64>,
    /// Rows accepted per partition in this run.
    pub per_partition: BTreeMap<i32, u64>,
}

impl Tracker {
    /// A tracker whose scan origins start at `scan_from` (the topic's end at start-up, or a
    /// resumed checkpoint's).
    pub fn new(scan_from: BTreeMap<i32, i64>) -> Self {
        Tracker {
            next_offset: scan_from,
            ..Default::default()
        }
    }

    /// A row was handed to the producer.
    pub fn sent(&mut self, line: u64) {
        debug_assert!(self.in_flight.back().is_none_or(|(l, _)| *l < line));
        self.in_flight.push_back((line, State::InFlight));
    }

    fn mark(&mut self, line: u64, state: State) {
        if let Ok(i) = self.in_flight.binary_search_by_key(&line, |(l, _)| *l) {
            self.in_flight[i].1 = state;
        }
        while let Some((_, State::Delivered)) = self.in_flight.front() {
            self.in_flight.pop_front();
        }
    }

    /// The broker acknowledged `line` at `partition`/`offset`.
    pub fn delivered(&mut self, line: u64, partition: i32, offset: i64) {
        self.delivered += 1;
        *self.per_partition.entry(partition).or_default() += 1;
        let next = self.next_offset.entry(partition).or_insert(0);
        *next = (*next).max(offset + 1);
        self.mark(line, State::Delivered);
    }

    /// Delivery of `line` failed for good.
    pub fn failed(&mut self, line: u64, reason: String) {
        self.failed += 1;
        *self.failures.entry(reason).or_default() += 1;
        self.mark(line, State::Failed);
    }

    /// Rows sent and not yet acknowledged or failed.
    pub fn in_flight(&self) -> usize {
        self.in_flight
            .iter()
            .filter(|(_, s)| *s == State::InFlight)
            .count()
    }

    /// Records reader state before line `snap.lines_before + 1`; call only between sends.
    pub fn snapshot(&mut self, mut snap: Snapshot) {
        snap.scan_from = self.next_offset.clone();
        self.pending.push_back(snap);
    }

    /// The latest snapshot all of whose earlier lines are acknowledged, if a newer one than
    /// last time became ready. Snapshots before a failed row never become ready.
    pub fn take_committable(&mut self) -> Option<Snapshot> {
        let first_open = self.in_flight.front().map(|(l, _)| *l);
        let mut ready = None;
        while let Some(s) = self.pending.front() {
            if first_open.is_some_and(|l| l <= s.lines_before) {
                break;
            }
            ready = self.pending.pop_front();
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(lines_before: u64) -> Snapshot {
        Snapshot {
            lines_before,
            offset: lines_before * 10,
            rejects_len: 0,
            stats: ReadStats::default(),
            scan_from: BTreeMap::new(),
        }
    }

    #[test]
    fn checkpoint_waits_for_every_earlier_line() {
        let mut t = Tracker::new(BTreeMap::from([(0, 100), (1, 50)]));
        t.snapshot(snap(1)); // header read
        t.sent(2);
        t.sent(3);
        t.snapshot(snap(3));
        t.sent(4);
        t.snapshot(snap(4));
        assert_eq!(t.take_committable().unwrap().lines_before, 1);
        t.delivered(3, 1, 50); // out of order: line 2 still open
        assert_eq!(t.take_committable(), None);
        t.delivered(2, 0, 100);
        let s = t.take_committable().unwrap();
        assert_eq!(s.lines_before, 3);
        // Scan origins are those at snapshot time: line 4 had not been sent.
        assert_eq!(s.scan_from, BTreeMap::from([(0, 100), (1, 50)]));
        t.delivered(4, 0, 101);
        t.snapshot(snap(5));
        assert_eq!(t.take_committable().unwrap().lines_before, 5);
        t.sent(6);
        t.snapshot(snap(6));
        let s = t.take_committable();
        assert_eq!(s, None, "line 6 is in flight");
        t.delivered(6, 1, 60);
        let s = t.take_committable().unwrap();
        assert_eq!(s.scan_from, BTreeMap::from([(0, 102), (1, 51)]));
        assert_eq!(t.delivered, 4);
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn a_failed_row_holds_the_checkpoint_back() {
        let mut t = Tracker::new(BTreeMap::new());
        t.sent(2);
        t.sent(3);
        t.snapshot(snap(3));
        t.failed(2, "Message timed out".into());
        t.delivered(3, 0, 7);
        assert_eq!(t.take_committable(), None);
        assert_eq!(t.failed, 1);
        assert_eq!(t.failures["Message timed out"], 1);
    }
}
