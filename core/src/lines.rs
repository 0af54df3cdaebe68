//! Streams a file as raw lines, keeping what error messages need: the 1-based line number
//! and the byte offset where the line starts.
//!
//! Memory stays at one line whatever the file size. A UTF-8 byte-order mark at the start is
//! dropped, and both `\n` and `\r\n` endings are accepted (the CR never reaches a field).
//! Fields are split here too ([`Fields`]), with RFC 4180 quoting inside one line; a quoted field that
//! runs past the end of its line is reported, not joined to the next one, because OHLCV
//! exports never legitimately contain line breaks inside a field.

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

/// A line whose quoting is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteError;

/// The fields of one line, stored back to back in one reused buffer so that splitting a
/// line allocates nothing once the buffers have grown to the widest line.
#[derive(Debug, Default, Clone)]
pub struct Fields {
    text: String,
    ends: Vec<usize>,
}

impl Fields {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the line had no fields (never after a successful split).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Field `i`, trimmed (quoted fields keep their inner spaces).
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// All fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.get(i))
    }

    fn push(&mut self, field: &str) {
        self.text.push_str(field);
        self.ends.push(self.text.len());
    }

    /// Splits one line into trimmed fields, replacing the previous content.
    pub fn split(&mut self, line: &str, delimiter: u8) -> Result<(), QuoteError> {
        self.text.clear();
        self.ends.clear();
        if !line.as_bytes().contains(&b'"') {
            for f in line.split(delimiter as char) {
                self.push(f.trim());
            }
            return Ok(());
        }
        let mut field = String::new();
        let mut chars = line.chars().peekable();
        let mut quoted = false;
        let mut was_quoted = false;
        while let Some(c) = chars.next() {
            if quoted {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        field.push('"');
                        chars.next();
                    } else {
                        quoted = false;
                    }
                } else {
                    field.push(c);
                }
            } else if c == '"' && field.trim().is_empty() && !was_quoted {
                field.clear();
                quoted = true;
                was_quoted = true;
            } else if c as u32 == delimiter as u32 {
                self.push(if was_quoted { &field } else { field.trim() });
                field.clear();
                was_quoted = false;
            } else if was_quoted && !c.is_whitespace() {
                // Text after a closing quote: `"12"3`.
                return Err(QuoteError);
            } else if !was_quoted {
                field.push(c);
            }
        }
        if quoted {
            return Err(QuoteError);
        }
        self.push(if was_quoted { &field } else { field.trim() });
        Ok(())
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

    #[test]
    fn splits_plain_and_quoted_fields() {
        let mut f = Fields::default();
        let all = |f: &Fields| f.iter().map(str::to_string).collect::<Vec<_>>();
        f.split(" a , b,,c ", b',').unwrap();
        assert_eq!(all(&f), ["a", "b", "", "c"]);
        f.split(r#""S&P, 500",1,"say ""hi""",  "x" "#, b',')
            .unwrap();
        assert_eq!(all(&f), ["S&P, 500", "1", r#"say "hi""#, "x"]);
        f.split("a;b", b';').unwrap();
        assert_eq!(all(&f), ["a", "b"]);
        assert_eq!(f.split(r#""open,1"#, b','), Err(QuoteError));
        assert_eq!(f.split(r#""1"2,3"#, b','), Err(QuoteError));
    }
}
