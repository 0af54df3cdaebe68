//! Streams a file as raw lines, keeping what error messages need: the 1-based line number
//! and the byte offset where the line starts.
//!
//! Memory stays at one line whatever the file size. A UTF-8 byte-order mark at the start is
//! dropped, and both `\n` and `\r\n` endings are accepted (the CR never reaches a field).
//! Fields are split by [`crate::reader::fields`] (csv-core), one line at a time: a quoted
//! field that runs past the end of its line is reported, not joined to the next one, because
//! OHLCV exports never legitimately contain line breaks inside a field.

use std::io::{self, BufRead};

/// One line of the input, borrowed from the reader's buffer.
#[derive(Debug)]
pub struct RawLine<'a> {
    /// 1-based line number in the file.
    pub number: u64,
    /// Byte offset of the line's first byte (after any byte-order mark on line 1).
    pub offset: u64,
    /// The line without its terminator; `Err` holds the bytes when they are not UTF-8.
    pub text: Result<&'a str, &'a [u8]>,
}

/// Reads lines one at a time into a reused buffer.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    number: u64,
    offset: u64,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl<R: BufRead> LineReader<R> {
    /// Reads from the start of `inner`.
    pub fn new(inner: R) -> Self {
        Self::resume(inner, 0, 0)
    }

    /// Continues a reader already positioned at byte `offset`, just before line
    /// `lines_before + 1` (used to resume from a checkpoint).
    pub fn resume(inner: R, lines_before: u64, offset: u64) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(256),
            number: lines_before,
            offset,
        }
    }

    /// Byte offset just past the last line returned: where the next line starts.
    pub fn position(&self) -> u64 {
        self.offset
    }

    /// Number of the last line returned (0 before the first).
    pub fn line_number(&self) -> u64 {
        self.number
    }

    /// The next line, or `None` at end of input.
    pub fn next_line(&mut self) -> io::Result<Option<RawLine<'_>>> {
        self.buf.clear();
        let n = self.inner.read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        let mut start = self.offset;
        self.offset += n as u64;
        self.number += 1;
        let mut bytes = &self.buf[..];
        if start == 0 && bytes.starts_with(BOM) {
            bytes = &bytes[BOM.len()..];
            start = BOM.len() as u64;
        }
        if let Some(rest) = bytes.strip_suffix(b"\n") {
            bytes = rest;
        }
        if let Some(rest) = bytes.strip_suffix(b"\r") {
            bytes = rest;
        }
        Ok(Some(RawLine {
            number: self.number,
            offset: start,
            text: std::str::from_utf8(bytes).map_err(|_| bytes),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> Vec<(u64, u64, String)> {
        let mut r = LineReader::new(bytes);
        let mut out = vec![];
        while let Some(l) = r.next_line().unwrap() {
            out.push((l.number, l.offset, l.text.unwrap().to_string()));
        }
        out
    }

    #[test]
    fn bom_crlf_and_offsets() {
        let got = read_all(b"\xEF\xBB\xBFa,b\r\n1,2\r\n\r\n3,4");
        assert_eq!(
            got,
            vec![
                (1, 3, "a,b".to_string()),
                (2, 8, "1,2".to_string()),
                (3, 13, "".to_string()),
                (4, 15, "3,4".to_string()),
            ]
        );
    }

    #[test]
    fn invalid_utf8_is_reported_with_its_bytes() {
        let mut r = LineReader::new(&b"ok\n\xff\xfe,1\n"[..]);
        assert!(r.next_line().unwrap().unwrap().text.is_ok());
        let bad = r.next_line().unwrap().unwrap();
        assert_eq!(bad.number, 2);
        assert_eq!(bad.text, Err(&b"\xff\xfe,1"[..]));
    }

    #[test]
    fn resume_continues_numbering() {
        let data = b"h\nx\ny\n";
        let mut r = LineReader::resume(&data[4..], 2, 4);
        let l = r.next_line().unwrap().unwrap();
        assert_eq!((l.number, l.offset, l.text.unwrap()), (3, 4, "y"));
    }
}
