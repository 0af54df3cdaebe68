//! The list of symbols a deployment accepts, read from the data set's `indexInfo.csv`
//! (`Region,Exchange,Index,Currency`, with a BOM and CRLF endings) or any CSV whose header
//! names a symbol column, or a plain one-symbol-per-line file.
//!
//! Symbols are tickers: compared and sent in one normal form, trimmed and upper-cased
//! ([`normalise`]), so `msft`, ` MSFT ` and `MSFT` are one symbol, one Kafka key and one
//! partition. A file without a symbol column takes its ticker from its name
//! ([`ticker_from_file_name`]).

use crate::layout::{sniff_delimiter, Column};
use crate::lines::LineReader;
use crate::reader::fields::Fields;
use std::borrow::Cow;
use std::collections::HashSet;
use std::io::{self, BufRead};

/// The normal form of a symbol: surrounding spaces trimmed, letters upper-cased. Borrows when
/// the text is already normal (the common case, once per row).
pub fn normalise(symbol: &str) -> Cow<'_, str> {
    let s = symbol.trim();
    if s.chars().any(char::is_lowercase) {
        Cow::Owned(s.to_uppercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// A file name that does not start with a ticker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the file name {name:?} does not start with a ticker (letters, digits and dots starting with \
     a letter, as MSFT in msft-2000-2020.csv, or an exchange code such as 0700.HK)"
)]
pub struct NoTicker {
    /// The file name.
    pub name: String,
}

/// The ticker a file name starts with: `msft-2000-2020.csv` and `MSFT_daily.csv` → `MSFT`,
/// `BRK.B.csv` → `BRK.B`, `0700.HK.csv` → `0700.HK`, `^GSPC.csv` → `^GSPC`.
///
/// The ticker is the leading run of letters, digits and dots (after an optional `^`, Yahoo's
/// index prefix), ending at `-`, `_`, a space or any other character, or at the `.csv`
/// (`.tsv`, `.txt`) extension. It must start with a letter, or be digits with an exchange
/// suffix (`000001.SS`): `2020-prices.csv` gives `2020`, which is a year, not a ticker.
pub fn ticker_from_file_name(file_name: &str) -> Result<String, NoTicker> {
    let name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let lower = name.to_ascii_lowercase();
    let stem = [".csv", ".tsv", ".txt"]
        .iter()
        .find(|ext| lower.ends_with(*ext))
        .map_or(name, |ext| &name[..name.len() - ext.len()]);
    let (caret, rest) = match stem.strip_prefix('^') {
        Some(rest) => ("^", rest),
        None => ("", stem),
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .unwrap_or(rest.len());
    let run = rest[..end].trim_end_matches('.');
    let starts_with_letter = run.starts_with(|c: char| c.is_ascii_alphabetic());
    let exchange_code = run.rsplit_once('.').is_some_and(|(code, exchange)| {
        !code.is_empty()
            && code.bytes().all(|b| b.is_ascii_digit())
            && !exchange.is_empty()
            && exchange.bytes().all(|b| b.is_ascii_alphabetic())
    });
    if starts_with_letter || exchange_code {
        Ok(format!("{caret}{}", run.to_ascii_uppercase()))
    } else {
        Err(NoTicker {
            name: name.to_string(),
        })
    }
}

/// A set of known symbols, in normal form ([`normalise`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Symbols(HashSet<String>);

impl Symbols {
    /// True if `symbol` is known; compares normal forms, so `hsi` matches `HSI`.
    pub fn contains(&self, symbol: &str) -> bool {
        self.0.contains(normalise(symbol).as_ref())
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
                        set.insert(normalise(fields.get(i)).into_owned());
                    }
                }
                None => {
                    set.insert(normalise(text).into_owned());
                }
            }
        }
        Ok(Symbols(set))
    }
}

impl<S: Into<String>> FromIterator<S> for Symbols {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Symbols(
            iter.into_iter()
                .map(|s| {
                    let s: String = s.into();
                    normalise(&s).into_owned()
                })
                .collect(),
        )
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
    fn symbols_are_compared_in_normal_form() {
        let s = Symbols::read(" aapl \nMsft\n".as_bytes()).unwrap();
        assert_eq!(s, Symbols::from_iter(["AAPL", "MSFT"]));
        assert!(s.contains("msft") && s.contains(" AAPL") && !s.contains("IBM"));
        assert_eq!(normalise(" brk.b "), "BRK.B");
        assert!(matches!(normalise("HSI"), Cow::Borrowed("HSI")));
    }

    #[test]
    fn tickers_from_file_names() {
        for (name, ticker) in [
            ("msft-2000-2020.csv", "MSFT"),
            ("MSFT_daily.csv", "MSFT"),
            ("AAPL.csv", "AAPL"),
            ("aapl prices.CSV", "AAPL"),
            ("BRK.B.csv", "BRK.B"),
            ("BRK.B_2020.csv", "BRK.B"),
            ("0700.HK.csv", "0700.HK"),
            ("000001.SS.csv", "000001.SS"),
            ("^GSPC.csv", "^GSPC"),
            ("data/in/ibm.tsv", "IBM"),
            ("NVDA", "NVDA"),
        ] {
            assert_eq!(ticker_from_file_name(name).as_deref(), Ok(ticker), "{name}");
        }
        for name in [
            "2020-prices.csv",
            "2020.csv",
            "2020.01.csv",
            "_x.csv",
            "-.csv",
            ".csv",
            "",
        ] {
            assert!(ticker_from_file_name(name).is_err(), "{name}");
        }
        assert_eq!(
            ticker_from_file_name("2020-prices.csv")
                .unwrap_err()
                .to_string(),
            "the file name \"2020-prices.csv\" does not start with a ticker (letters, digits and \
             dots starting with a letter, as MSFT in msft-2000-2020.csv, or an exchange code such \
             as 0700.HK)"
        );
    }

    #[test]
    fn plain_list() {
        let s = Symbols::read("AAPL\nMSFT\n\n".as_bytes()).unwrap();
        assert_eq!(s, Symbols::from_iter(["AAPL", "MSFT"]));
    }
}
