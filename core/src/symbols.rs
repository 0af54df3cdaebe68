//! The list of symbols a deployment accepts, read from the data set's `indexInfo.csv`
//! (`Region,Exchange,Index,Currency`, with a BOM and CRLF endings) or any CSV whose header
//! names a symbol column, or a plain one-symbol-per-line file.

use crate::layout::{sniff_delimiter, Column};
use crate::lines::{Fields, LineReader};
use std::collections::HashSet;
use std::io::{self, BufRead};

/// A set of known symbols.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Symbols(HashSet<String>);

impl Symbols {
    /// True if `symbol` is known.
    pub fn contains(&self, symbol: &str) -> bool {
        self.0.contains(symbol)
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Reads a symbols file. With a header naming a symbol column (`Index`, `Symbol`, `Ticker`,
    /// …) that column is used; otherwise each non-blank line is one symbol.
    pub fn read(input: impl BufRead) -> io::Result<Symbols> {
        let mut lines = LineReader::new(input);
        let mut fields = Fields::default();
        let mut column: Option<(usize, u8)> = None;
        let mut set = HashSet::new();
        let mut first = true;
        while let Some(line) = lines.next_line()? {
            let text = line.text.map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("symbols file line {} is not UTF-8", line.number),
                )
            })?;
            if text.trim().is_empty() {
                continue;
            }
            if first {
                first = false;
                let d = sniff_delimiter(text);
                let _ = fields.split(text, d);
                if let Some(i) = fields
                    .iter()
                    .position(|c| Column::from_header(c) == Some(Column::Symbol))
                {
                    column = Some((i, d));
                    continue;
                }
            }
            match column {
                Some((i, d)) => {
                    if fields.split(text, d).is_ok()
                        && i < fields.len()
                        && !fields.get(i).is_empty()
                    {
                        set.insert(fields.get(i).to_string());
                    }
                }
                None => {
                    set.insert(text.trim().to_string());
                }
            }
        }
        Ok(Symbols(set))
    }
}

impl<S: Into<String>> FromIterator<S> for Symbols {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Symbols(iter.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_info_with_bom_and_crlf() {
        let data = "\u{feff}Region,Exchange,Index,Currency\r\nHong Kong,Hong Kong Stock Exchange,HSI,HKD\r\nChina,Shanghai Stock Exchange,000001.SS,CNY\r\n";
        let s = Symbols::read(data.as_bytes()).unwrap();
        assert_eq!(s.len(), 2);
        assert!(s.contains("HSI") && s.contains("000001.SS"));
    }

    #[test]
    fn plain_list() {
        let s = Symbols::read("AAPL\nMSFT\n\n".as_bytes()).unwrap();
        assert_eq!(s, Symbols::from_iter(["AAPL", "MSFT"]));
    }
}
