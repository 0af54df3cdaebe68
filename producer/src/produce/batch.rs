//! [`RowBatch`]: encoded rows packed for the hand-off from the reader stage to the sender.
//!
//! The hot path moves millions of rows between two threads; packing them into a few reused
//! buffers costs one allocation per batch, not per row, and the sender hands empty batches
//! back for reuse.

use chrono::NaiveDateTime;
use stockstream_core::message::{self, encode_message_into};
use stockstream_core::Bar;

/// Rows ready to send, packed into a few reused buffers: one allocation per batch, not per
/// row, on the hot path between the reader and the sender.
#[derive(Default)]
pub(crate) struct RowBatch {
    lines: Vec<u64>,
    times: Vec<NaiveDateTime>,
    keys: Vec<u8>,
    key_ends: Vec<usize>,
    values: Vec<u8>,
    value_ends: Vec<usize>,
    /// Per row: true when the value is v1 and the row needs the provenance headers.
    headers: Vec<bool>,
}

impl RowBatch {
    /// Rows per batch: enough to amortise the channel, few enough to keep both stages busy.
    pub(crate) const ROWS: usize = 1024;

    /// Empties the batch, keeping its buffers for reuse.
    pub(crate) fn clear(&mut self) {
        self.lines.clear();
        self.times.clear();
        self.keys.clear();
        self.key_ends.clear();
        self.values.clear();
        self.value_ends.clear();
        self.headers.clear();
    }

    /// Rows in the batch.
    pub(crate) fn len(&self) -> usize {
        self.lines.len()
    }

    /// Adds the row at `line` of `source`: its timestamp (for pacing), key and encoded value.
    pub(crate) fn push(&mut self, source: &str, line: u64, bar: &Bar) {
        self.lines.push(line);
        self.times.push(bar.timestamp());
        self.keys.extend_from_slice(message::key(bar));
        self.key_ends.push(self.keys.len());
        let written = encode_message_into(bar, source, line, &mut self.values);
        self.value_ends.push(self.values.len());
        self.headers.push(written.needs_headers());
    }

    /// Row `i`: its line, timestamp, key, value, and whether it needs the provenance
    /// headers (a v1 value).
    pub(crate) fn get(&self, i: usize) -> (u64, NaiveDateTime, &[u8], &[u8], bool) {
        let k0 = if i == 0 { 0 } else { self.key_ends[i - 1] };
        let v0 = if i == 0 { 0 } else { self.value_ends[i - 1] };
        (
            self.lines[i],
            self.times[i],
            &self.keys[k0..self.key_ends[i]],
            &self.values[v0..self.value_ends[i]],
            self.headers[i],
        )
    }
}
