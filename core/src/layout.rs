//! The header row: which column holds which field.
//!
//! OHLCV exports agree on little beyond the idea. Yahoo writes `Date,Open,High,Low,Close,Adj
//! Close,Volume`, the seed data set `Index,Date,…,CloseUSD`, Kaggle's S&P 500 set puts `Name`
//! last, vendors use `Ticker`, `Symbol`, `timestamp`, `vol`, `adjclose`, upper case, semicolons.
//! Names are compared after lower-casing and dropping spaces, underscores, dots and dashes, so
//! `Adj Close`, `adj_close` and `ADJCLOSE` are one column. Unknown columns are ignored (and
//! listed, so a user can see what was not read).

use std::fmt;

/// A field of [`crate::Bar`] that a column can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// Ticker, index code or instrument name.
    Symbol,
    /// Date, or date and time in one cell.
    Date,
    /// Time of day, when it has its own column.
    Time,
    /// Opening price.
    Open,
    /// High price.
    High,
    /// Low price.
    Low,
    /// Closing price.
    Close,
    /// Adjusted close.
    AdjClose,
    /// Traded volume.
    Volume,
    /// Close in US dollars (seed data set).
    CloseUsd,
}

impl Column {
    /// Every column, in the seed layout's order.
    pub const ALL: [Column; 10] = [
        Column::Symbol,
        Column::Date,
        Column::Time,
        Column::Open,
        Column::High,
        Column::Low,
        Column::Close,
        Column::AdjClose,
        Column::Volume,
        Column::CloseUsd,
    ];

    /// Recognises a header cell.
    pub fn from_header(name: &str) -> Option<Column> {
        let key: String = name
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '.' | '-' | '"' | '\u{feff}'))
            .flat_map(char::to_lowercase)
            .collect();
        Some(match key.as_str() {
            "symbol" | "ticker" | "name" | "index" | "code" | "instrument" | "sym" | "stock" => {
                Column::Symbol
            }
            "date" | "day" | "datetime" | "timestamp" | "tradedate" | "tradingday" => Column::Date,
            "time" => Column::Time,
            "open" | "o" | "openprice" => Column::Open,
            "high" | "h" | "highprice" => Column::High,
            "low" | "l" | "lowprice" => Column::Low,
            "close" | "c" | "last" | "closeprice" | "price" => Column::Close,
            "adjclose" | "adjustedclose" | "adjclosed" | "closeadj" => Column::AdjClose,
            "volume" | "vol" | "v" | "qty" => Column::Volume,
            "closeusd" => Column::CloseUsd,
            _ => return None,
        })
    }

    /// The name used in messages and error texts.
    pub fn name(self) -> &'static str {
        match self {
            Column::Symbol => "symbol",
            Column::Date => "date",
            Column::Time => "time",
            Column::Open => "open",
            Column::High => "high",
            Column::Low => "low",
            Column::Close => "close",
            Column::AdjClose => "adj_close",
            Column::Volume => "volume",
            Column::CloseUsd => "close_usd",
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where each known field sits in a row of this file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Field delimiter found in the header: `,`, `;`, `\t` or `|`.
    pub delimiter: u8,
    /// Number of columns in the header; every data row must have as many.
    pub width: usize,
    /// Index of each known column, by [`Column`] discriminant order of [`Column::ALL`].
    positions: [Option<usize>; 10],
    /// Header cells that matched no field.
    pub ignored: Vec<String>,
}

/// A header the reader cannot work with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutError {
    /// A required field has no column.
    Missing {
        /// The fields that are missing.
        missing: Vec<Column>,
        /// The header as read, to show the user.
        header: Vec<String>,
    },
    /// Two columns map to the same field (`Close` and `Last`).
    Duplicate {
        /// The field.
        column: Column,
        /// The two header cells.
        names: (String, String),
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::Missing { missing, header } => {
                let m: Vec<_> = missing.iter().map(|c| c.name()).collect();
                write!(
                    f,
                    "header has no column for {} (header was: {})",
                    m.join(", "),
                    header.join(", ")
                )
            }
            LayoutError::Duplicate { column, names } => write!(
                f,
                "columns {:?} and {:?} both look like the {column} field",
                names.0, names.1
            ),
        }
    }
}

impl std::error::Error for LayoutError {}

fn index_of(c: Column) -> usize {
    Column::ALL.iter().position(|x| *x == c).expect("in ALL")
}

/// Guesses the delimiter from the header line: the most frequent of `,` `;` tab `|`.
pub fn sniff_delimiter(header: &str) -> u8 {
    [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| (header.bytes().filter(|b| b == d).count(), *d == b','))
        .unwrap_or(b',')
}

impl Layout {
    /// Builds the layout from header cells. The symbol column is optional here; the reader
    /// decides whether a fallback symbol is available.
    pub fn from_header<'a>(
        cells: impl IntoIterator<Item = &'a str>,
        delimiter: u8,
    ) -> Result<Layout, LayoutError> {
        let mut positions = [None; 10];
        let mut names: [Option<String>; 10] = Default::default();
        let mut ignored = vec![];
        let mut header = vec![];
        for (i, cell) in cells.into_iter().enumerate() {
            header.push(cell.to_string());
            match Column::from_header(cell) {
                Some(c) => {
                    let k = index_of(c);
                    if let Some(prev) = &names[k] {
                        return Err(LayoutError::Duplicate {
                            column: c,
                            names: (prev.clone(), cell.to_string()),
                        });
                    }
                    positions[k] = Some(i);
                    names[k] = Some(cell.to_string());
                }
                None => ignored.push(cell.to_string()),
            }
        }
        let missing: Vec<Column> = [
            Column::Date,
            Column::Open,
            Column::High,
            Column::Low,
            Column::Close,
        ]
        .into_iter()
        .filter(|c| positions[index_of(*c)].is_none())
        .collect();
        if !missing.is_empty() {
            return Err(LayoutError::Missing { missing, header });
        }
        Ok(Layout {
            delimiter,
            width: header.len(),
            positions,
            ignored,
        })
    }

    /// Column index of a field in this file, if present.
    pub fn position(&self, c: Column) -> Option<usize> {
        self.positions[index_of(c)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(header: &str) -> Result<Layout, LayoutError> {
        let d = sniff_delimiter(header);
        Layout::from_header(header.split(d as char).map(str::trim), d)
    }

    #[test]
    fn seed_layout() {
        let l = layout("Index,Date,Open,High,Low,Close,Adj Close,Volume,CloseUSD").unwrap();
        assert_eq!(l.position(Column::Symbol), Some(0));
        assert_eq!(l.position(Column::AdjClose), Some(6));
        assert_eq!(l.position(Column::CloseUsd), Some(8));
        assert_eq!(l.width, 9);
        assert!(l.ignored.is_empty());
    }

    #[test]
    fn other_names_cases_orders_and_delimiters() {
        let l = layout("date;OPEN;HIGH;LOW;CLOSE;VOLUME;Name").unwrap();
        assert_eq!(l.delimiter, b';');
        assert_eq!(l.position(Column::Symbol), Some(6));
        assert_eq!(l.position(Column::Volume), Some(5));
        let l = layout("Ticker\ttimestamp\to\th\tl\tc\tvol\tadj_close\tExchange").unwrap();
        assert_eq!(l.delimiter, b'\t');
        assert_eq!(l.position(Column::AdjClose), Some(7));
        assert_eq!(l.ignored, ["Exchange"]);
        let l = layout("Date,Time,Open,High,Low,Close").unwrap();
        assert_eq!(l.position(Column::Time), Some(1));
        assert_eq!(l.position(Column::Symbol), None);
    }

    #[test]
    fn missing_and_duplicate_columns_are_named() {
        let e = layout("Symbol,Date,Open,Close").unwrap_err();
        assert_eq!(
            e.to_string(),
            "header has no column for high, low (header was: Symbol, Date, Open, Close)"
        );
        let e = layout("Date,Open,High,Low,Close,Last").unwrap_err();
        assert!(
            matches!(
                e,
                LayoutError::Duplicate {
                    column: Column::Close,
                    ..
                }
            ),
            "{e}"
        );
    }
}
