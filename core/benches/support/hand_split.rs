//! The hand-written field splitter the CSV reader used before csv-core
//! (`stockstream_core::reader::fields`): kept only as the peer of the `csv_reader` benchmark
//! and as the reference of the reader's property test (`reader::fields`), which checks that
//! csv-core, with the reader's rules on top, splits every line as this did.

// Each of the two includers uses part of it.
#![allow(dead_code)]

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
