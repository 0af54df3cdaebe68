//! The reader stage: one thread parses, validates and encodes rows, writes rejects, and hands
//! the sender batches of rows ([`Stage::Rows`]) with a reader [`Snapshot`] after every few
//! ([`Stage::Snapshot`]).
//!
//! Parsing and encoding run beside the sending, not before it, so a file streams in constant
//! memory at the broker's speed. The channel keeps the stages' order, which is what lets a
//! snapshot stand for "every row before me was handed over".

use super::batch::RowBatch;
use crate::error::{Error, ErrorKind};
use crate::tracker::Snapshot;
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::sync::mpsc::{Receiver, SyncSender};
use stockstream_core::reader::{BarReader, Item};
use stockstream_core::reject::RejectWriter;

/// What the reader stage hands the sender.
pub(crate) enum Stage {
    /// Rows to send, in line order.
    Rows(RowBatch),
    /// Reader state after every row sent before it.
    Snapshot(Snapshot),
}

/// What the reader stage reports when it ends.
pub(crate) struct ReadOutcome {
    /// True when the file was read to its end.
    pub(crate) reached_end: bool,
    /// Accepted rows not sent because the topic already holds them.
    pub(crate) skipped: u64,
}

/// The reader's state now: where a later run resumes reading if every row before it is
/// delivered. The scan origins are filled in by the tracker.
pub(crate) fn snapshot(
    reader: &BarReader<BufReader<File>>,
    rejects: &RejectWriter<File>,
) -> Snapshot {
    Snapshot {
        lines_before: reader.line_number(),
        offset: reader.position(),
        rejects_len: rejects.bytes_written(),
        stats: reader.stats().clone(),
        scan_from: BTreeMap::new(),
    }
}

/// The reader stage: parse, validate, write rejects, encode, and hand over batches of rows
/// with a snapshot after every few batches. Stops early when the sender hangs up.
pub(crate) fn read_stage(
    source: &str,
    reader: &mut BarReader<BufReader<File>>,
    rejects: &mut RejectWriter<File>,
    skip: &HashSet<u64>,
    tx: SyncSender<Stage>,
    pool: Receiver<RowBatch>,
) -> Result<ReadOutcome, Error> {
    let mut out = ReadOutcome {
        reached_end: false,
        skipped: 0,
    };
    let mut batch = RowBatch::default();
    let mut batches = 0u64;
    let mut lines = 0u64;
    loop {
        let item = reader.next_item()?;
        let end = item.is_none();
        match item {
            None => {}
            Some(Item::Rejected(r)) => rejects
                .write(&r)
                .map_err(|cause| ErrorKind::WriteRejects { cause })?,
            Some(Item::Accepted(a)) if skip.contains(&a.line) => out.skipped += 1,
            Some(Item::Accepted(a)) => batch.push(source, a.line, &a.bar),
        }
        lines += 1;
        if batch.len() >= RowBatch::ROWS || end || lines.is_multiple_of(8192) {
            if batch.len() > 0 {
                let next = pool.try_recv().map(|mut b| {
                    b.clear();
                    b
                });
                let full = std::mem::replace(&mut batch, next.unwrap_or_default());
                if tx.send(Stage::Rows(full)).is_err() {
                    return Ok(out);
                }
                batches += 1;
            }
            let due = end || batches.is_multiple_of(4) || lines.is_multiple_of(8192);
            if due && tx.send(Stage::Snapshot(snapshot(reader, rejects))).is_err() {
                return Ok(out);
            }
        }
        if end {
            out.reached_end = true;
            return Ok(out);
        }
    }
}
