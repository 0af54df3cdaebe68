//! Rejected rows, kept with everything needed to find and fix them.
//!
//! The rejects file is JSON lines, one object per rejected row:
//! `{"source":"prices.csv","line":17,"offset":1042,"code":"outside_range","reason":"close 8.5 is
//! outside low..high (9..12)","raw":"HSI,2001-07-09,…"}`. `raw` is the line exactly as read
//! (lossily decoded when it was not UTF-8), so the file can be fixed and replayed.

use serde::{Deserialize, Serialize};
use std::io::{self, Write};

/// One rejected row or record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    /// Where the row came from (file name, S3 URI, topic).
    pub source: String,
    /// 1-based line number in the source.
    pub line: u64,
    /// Byte offset of the line in the source.
    pub offset: u64,
    /// Stable short code of the problem ([`crate::validate::Problem::code`]).
    pub code: String,
    /// Human-readable reason.
    pub reason: String,
    /// The row as read.
    pub raw: String,
}

/// Appends rejects as JSON lines.
///
/// Each reject is written with a single `write_all` of a complete line, so a crash leaves
/// whole lines only; a run resumed from a checkpoint truncates the file back to the length
/// recorded with that checkpoint ([`RejectWriter::bytes_written`]).
pub struct RejectWriter<W> {
    out: W,
    written: u64,
    line: Vec<u8>,
}

impl<W: Write> RejectWriter<W> {
    /// Writes to `out`, which already holds `existing` bytes.
    pub fn new(out: W, existing: u64) -> Self {
        Self {
            out,
            written: existing,
            line: Vec::with_capacity(256),
        }
    }

    /// Appends one reject.
    pub fn write(&mut self, reject: &Reject) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, reject)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.written += self.line.len() as u64;
        Ok(())
    }

    /// Total length of the output so far, including what it held before.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_round_trip() {
        let r = Reject {
            source: "a.csv".into(),
            line: 3,
            offset: 40,
            code: "bad_number".into(),
            reason: "open \"x\" is not a number".into(),
            raw: "HSI,2020-01-01,x,\"1\"".into(),
        };
        let mut w = RejectWriter::new(Vec::new(), 0);
        w.write(&r).unwrap();
        w.write(&r).unwrap();
        let text = String::from_utf8(w.out.clone()).unwrap();
        assert_eq!(w.bytes_written(), text.len() as u64);
        let back: Vec<Reject> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(back, vec![r.clone(), r]);
    }
}
