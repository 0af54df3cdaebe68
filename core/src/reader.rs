//! Turns a CSV stream into accepted bars and rejected rows, one row at a time.
//!
//! The first non-blank line is the header ([`Layout`]). Blank lines and rows whose cells are
//! all empty are skipped and counted. Every other line yields exactly one [`Item`]: an
//! [`Accepted`] bar or a [`Reject`] with its reason, so `rows = accepted + rejected` always
//! holds and nothing vanishes.
//!
//! Before reading, [`scan_date_order`] looks at the date column of a file's start to decide
//! its day/month order ([`crate::date_order`]), and [`read_layout`] reads only the header (to
//! know whether the file names its symbol).
//!
//! Lines come from [`LineReader`] (line numbers, byte offsets, BOM and CRLF); each line's
//! fields are split by [`fields`], which runs csv-core, the RFC 4180 state machine of the
//! `csv` crate, one line at a time. csv-core replaced a hand-written splitter after a
//! benchmark in one run showed it as fast or faster on the producer's input
//! (`core/benches/csv_reader.rs`, figures in `BENCHMARKS.md`, "CSV reader"); a line at a
//! time, not `csv::Reader`, so that checkpoints keep their byte offsets and a quote left open
//! rejects its own line instead of swallowing the rest of the file.

use crate::date::{parse_date_time, parse_time, DateOrder};
use crate::date_order::{FileOrder, OrderCounts, OrderRefusal, Tally};
use crate::layout::{sniff_delimiter, Column, Layout, LayoutError};
use crate::lines::LineReader;
use crate::record::Bar;
use crate::reject::Reject;
use crate::symbols::{normalise, Symbols};
use crate::validate::{parse_volume, validate, Problem, Warnings};
use std::collections::BTreeMap;
use std::io::{self, BufRead};
use std::sync::Arc;

pub mod fields;

use fields::Fields;

/// How to read one source.
#[derive(Debug, Clone, Default)]
pub struct ReaderConfig {
    /// Name recorded with every bar and reject (file name, S3 URI).
    pub source: String,
    /// Symbol for files without a symbol column (from a flag, or the file name); normalised
    /// like the symbol column's values.
    pub default_symbol: Option<String>,
    /// Day/month order for ambiguous numeric dates: the file's order when it was decided
    /// ([`scan_date_order`]); `Auto` rejects each ambiguous date.
    pub date_order: DateOrder,
    /// When set, symbols outside this list are rejected.
    pub known_symbols: Option<Arc<Symbols>>,
}

/// A row that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The bar.
    pub bar: Bar,
    /// 1-based line number in the source.
    pub line: u64,
    /// Byte offset of the line.
    pub offset: u64,
    /// Notable but legal features.
    pub warnings: Warnings,
}

/// What one data line became.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A valid bar.
    Accepted(Accepted),
    /// A rejected row with its reason.
    Rejected(Reject),
}

/// Running counts for one or more sources.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReadStats {
    /// Data rows seen (header and blank rows excluded).
    pub rows: u64,
    /// Rows accepted.
    pub accepted: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Blank or all-empty rows skipped.
    pub blank: u64,
    /// Rejects by problem code.
    pub rejects_by_code: BTreeMap<String, u64>,
    /// Warnings by code (a row may carry several).
    pub warnings_by_code: BTreeMap<String, u64>,
}

impl ReadStats {
    /// Adds another run's counts to these.
    pub fn merge(&mut self, other: &ReadStats) {
        self.rows += other.rows;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.blank += other.blank;
        for (k, v) in &other.rejects_by_code {
            *self.rejects_by_code.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.warnings_by_code {
            *self.warnings_by_code.entry(k.clone()).or_default() += v;
        }
    }
}

/// A fatal problem with a source as a whole (as opposed to one bad row).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Reading failed.
    #[error("{source_name}: {error}")]
    Io {
        /// The source.
        source_name: String,
        /// The I/O error.
        #[source]
        error: io::Error,
    },
    /// The header cannot be used.
    #[error("{source_name} line {line}: {error}")]
    Header {
        /// The source.
        source_name: String,
        /// Header line number.
        line: u64,
        /// What is wrong with it.
        error: LayoutError,
    },
    /// The header is not UTF-8 or has broken quotes.
    #[error("{source_name} line {line}: header is unreadable ({what})")]
    BadHeader {
        /// The source.
        source_name: String,
        /// Header line number.
        line: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// The source has no header row (it is empty or blank).
    #[error("{source_name}: no header row (the file is empty)")]
    Empty {
        /// The source.
        source_name: String,
    },
    /// No symbol column and no default symbol.
    #[error("{source_name}: no symbol column in the header and no default symbol; pass one (e.g. --symbol) or name the file after the symbol")]
    NoSymbol {
        /// The source.
        source_name: String,
    },
}

/// Streaming reader of bars.
pub struct BarReader<R> {
    lines: LineReader<R>,
    layout: Option<Layout>,
    fields: Fields,
    config: ReaderConfig,
    stats: ReadStats,
}

fn normal_config(mut config: ReaderConfig) -> ReaderConfig {
    if let Some(s) = &config.default_symbol {
        config.default_symbol = Some(normalise(s).into_owned());
    }
    config
}

impl<R: BufRead> BarReader<R> {
    /// Reads `input` from its start.
    pub fn new(input: R, config: ReaderConfig) -> Self {
        let config = normal_config(config);
        Self {
            lines: LineReader::new(input),
            layout: None,
            fields: Fields::default(),
            config,
            stats: ReadStats::default(),
        }
    }

    /// Continues after a checkpoint: `input` is positioned at byte `offset`, just after line
    /// `lines_before`; `layout` is the header layout read earlier from the same file.
    pub fn resume(
        input: R,
        config: ReaderConfig,
        layout: Layout,
        lines_before: u64,
        offset: u64,
        stats: ReadStats,
    ) -> Self {
        let config = normal_config(config);
        Self {
            lines: LineReader::resume(input, lines_before, offset),
            layout: Some(layout),
            fields: Fields::default(),
            config,
            stats,
        }
    }

    /// Counts so far.
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    /// The header layout, once read.
    pub fn layout(&self) -> Option<&Layout> {
        self.layout.as_ref()
    }

    /// Byte offset where the next line starts.
    pub fn position(&self) -> u64 {
        self.lines.position()
    }

    /// Number of the last line read.
    pub fn line_number(&self) -> u64 {
        self.lines.line_number()
    }

    /// The source name.
    pub fn source(&self) -> &str {
        &self.config.source
    }

    /// Reads up to and including the header row (if not read yet) and returns its layout.
    pub fn read_header(&mut self) -> Result<&Layout, ReadError> {
        while self.layout.is_none() {
            let line = self.lines.next_line().map_err(|error| ReadError::Io {
                source_name: self.config.source.clone(),
                error,
            })?;
            let Some(line) = line else {
                return Err(ReadError::Empty {
                    source_name: self.config.source.clone(),
                });
            };
            let text = line.text.map_err(|_| ReadError::BadHeader {
                source_name: self.config.source.clone(),
                line: line.number,
                what: "not UTF-8",
            })?;
            if !text.trim().is_empty() {
                let layout = header_layout(text, line.number, &mut self.fields, &self.config)?;
                self.layout = Some(layout);
            }
        }
        Ok(self.layout.as_ref().expect("set above"))
    }

    /// The next accepted bar or reject; `None` at end of input.
    pub fn next_item(&mut self) -> Result<Option<Item>, ReadError> {
        loop {
            let source = &self.config.source;
            let line = match self.lines.next_line() {
                Ok(Some(l)) => l,
                Ok(None) if self.layout.is_none() => {
                    return Err(ReadError::Empty {
                        source_name: source.clone(),
                    })
                }
                Ok(None) => return Ok(None),
                Err(error) => {
                    return Err(ReadError::Io {
                        source_name: source.clone(),
                        error,
                    })
                }
            };
            let (number, offset) = (line.number, line.offset);
            let Some(layout) = &self.layout else {
                let text = line.text.map_err(|_| ReadError::BadHeader {
                    source_name: source.clone(),
                    line: number,
                    what: "not UTF-8",
                })?;
                if !text.trim().is_empty() {
                    self.layout =
                        Some(header_layout(text, number, &mut self.fields, &self.config)?);
                }
                continue;
            };
            let reject = |raw: String, problem: Problem| Reject {
                source: source.clone(),
                line: number,
                offset,
                code: problem.code().to_string(),
                reason: problem.to_string(),
                raw,
            };
            let text = match line.text {
                Ok(t) => t,
                Err(bytes) => {
                    let raw = String::from_utf8_lossy(bytes).into_owned();
                    let r = reject(raw, Problem::NotUtf8);
                    return Ok(Some(self.count_reject(r)));
                }
            };
            if text.trim().is_empty() {
                self.stats.blank += 1;
                continue;
            }
            if self.fields.split(text, layout.delimiter).is_err() {
                let r = reject(text.to_string(), Problem::BrokenQuotes);
                return Ok(Some(self.count_reject(r)));
            }
            if self.fields.iter().all(str::is_empty) {
                self.stats.blank += 1;
                continue;
            }
            match parse_row(&self.fields, layout, &self.config) {
                Ok(bar) => match validate(&bar, self.config.known_symbols.as_deref()) {
                    Ok(warnings) => {
                        self.stats.rows += 1;
                        self.stats.accepted += 1;
                        for w in warnings.iter() {
                            *self
                                .stats
                                .warnings_by_code
                                .entry(w.code().to_string())
                                .or_default() += 1;
                        }
                        return Ok(Some(Item::Accepted(Accepted {
                            bar,
                            line: number,
                            offset,
                            warnings,
                        })));
                    }
                    Err(p) => {
                        let r = reject(text.to_string(), p);
                        return Ok(Some(self.count_reject(r)));
                    }
                },
                Err(p) => {
                    let r = reject(text.to_string(), p);
                    return Ok(Some(self.count_reject(r)));
                }
            }
        }
    }

    fn count_reject(&mut self, r: Reject) -> Item {
        self.stats.rows += 1;
        self.stats.rejected += 1;
        *self
            .stats
            .rejects_by_code
            .entry(r.code.clone())
            .or_default() += 1;
        Item::Rejected(r)
    }
}

fn header_layout(
    text: &str,
    number: u64,
    fields: &mut Fields,
    config: &ReaderConfig,
) -> Result<Layout, ReadError> {
    let layout = parse_header(text, number, fields, &config.source)?;
    if layout.position(Column::Symbol).is_none() && config.default_symbol.is_none() {
        return Err(ReadError::NoSymbol {
            source_name: config.source.clone(),
        });
    }
    Ok(layout)
}

fn parse_header(
    text: &str,
    number: u64,
    fields: &mut Fields,
    source: &str,
) -> Result<Layout, ReadError> {
    let d = sniff_delimiter(text);
    fields.split(text, d).map_err(|_| ReadError::BadHeader {
        source_name: source.to_string(),
        line: number,
        what: "broken quotes",
    })?;
    Layout::from_header(fields.iter(), d).map_err(|error| ReadError::Header {
        source_name: source.to_string(),
        line: number,
        error,
    })
}

/// Reads lines up to the header and returns its layout.
fn next_header<R: BufRead>(
    lines: &mut LineReader<R>,
    fields: &mut Fields,
    source: &str,
) -> Result<Layout, ReadError> {
    loop {
        let line = lines.next_line().map_err(|error| ReadError::Io {
            source_name: source.to_string(),
            error,
        })?;
        let Some(line) = line else {
            return Err(ReadError::Empty {
                source_name: source.to_string(),
            });
        };
        let text = line.text.map_err(|_| ReadError::BadHeader {
            source_name: source.to_string(),
            line: line.number,
            what: "not UTF-8",
        })?;
        if !text.trim().is_empty() {
            return parse_header(text, line.number, fields, source);
        }
    }
}

/// Reads only the header of `input` (named `source` in errors).
pub fn read_layout(input: impl BufRead, source: &str) -> Result<Layout, ReadError> {
    next_header(&mut LineReader::new(input), &mut Fields::default(), source)
}

/// Most bytes of a file's start whose dates decide its order, when they can: enough for tens
/// of thousands of rows (a day-first file shows a day above 12 within its first month).
pub const SCAN_BYTES: u64 = 8 << 20;

/// How far [`scan_date_order`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanLimit {
    /// The first `n` bytes and no further: a line that reaches byte `n` is not looked at.
    /// For a source of which only the start is at hand (an object in S3); the decision is
    /// the same every time, and the rest of the source is never read.
    Strict(u64),
    /// At least the lines of the first `n` bytes; past them, on while the dates read so far
    /// are ambiguous and undecided, to the end if need be. For a local file: one cheap pass
    /// over the date column of its start, and a file is refused for lack of a deciding date
    /// only when the whole file has none.
    UntilDecided(u64),
}

/// What [`scan_date_order`] found.
#[derive(Debug, Clone)]
pub struct OrderScan {
    /// The header layout.
    pub layout: Layout,
    /// The file's order, or why its dates do not settle it.
    pub decision: Result<FileOrder, OrderRefusal>,
    /// Bytes read (header included).
    pub bytes: u64,
    /// Data lines looked at.
    pub lines: u64,
    /// True when the scan reached the end of the input.
    pub to_end: bool,
    /// The dates behind the decision, by shape.
    pub counts: OrderCounts,
}

/// Reads the header and the date column of `input`'s start and decides the file's day/month
/// order from its dates ([`crate::date_order`]). Rows that cannot be split or have no date
/// are skipped here (they are rejected when the file is read).
///
/// A file decided from its start and contradicted later (a month-first date in a day-first
/// file past the scanned bytes) is not refused after the fact: that row is rejected when read,
/// with a reason saying it contradicts the file's order ([`crate::date::DateError::WrongOrder`]).
pub fn scan_date_order(
    input: impl BufRead,
    source: &str,
    limit: ScanLimit,
) -> Result<OrderScan, ReadError> {
    let (cap, strict) = match limit {
        ScanLimit::Strict(n) => (n, true),
        ScanLimit::UntilDecided(n) => (n, false),
    };
    let mut lines = LineReader::new(input.take(if strict { cap } else { u64::MAX }));
    let mut fields = Fields::default();
    let layout = next_header(&mut lines, &mut fields, source)?;
    let date = layout.position(Column::Date);
    let mut tally = Tally::default();
    let mut seen = 0u64;
    let mut to_end = false;
    loop {
        let line = lines.next_line().map_err(|error| ReadError::Io {
            source_name: source.to_string(),
            error,
        })?;
        let Some(line) = line else {
            to_end = true;
            break;
        };
        let number = line.number;
        let split = line
            .text
            .is_ok_and(|text| fields.split(text, layout.delimiter).is_ok());
        if strict && lines.position() >= cap {
            // This line may be cut at the cap: the bytes after it are not ours to read.
            break;
        }
        seen += 1;
        if let (true, Some(i)) = (split, date) {
            if i < fields.len() && !is_absent(fields.get(i)) {
                tally.add(number, fields.get(i));
            }
        }
        if !strict && lines.position() >= cap && !tally.wants_more() {
            break;
        }
    }
    Ok(OrderScan {
        layout,
        decision: tally.decision_after(to_end),
        counts: tally.counts().clone(),
        bytes: lines.position(),
        lines: seen,
        to_end,
    })
}

/// Cells that mean "no value" in real exports (Yahoo writes `null`).
fn is_absent(cell: &str) -> bool {
    cell.is_empty()
        || cell.eq_ignore_ascii_case("null")
        || cell.eq_ignore_ascii_case("n/a")
        || cell.eq_ignore_ascii_case("na")
        || cell == "-"
}

fn cell<'a>(fields: &'a Fields, layout: &Layout, c: Column) -> Option<&'a str> {
    layout
        .position(c)
        .map(|i| fields.get(i))
        .filter(|s| !is_absent(s))
}

fn required_price(fields: &Fields, layout: &Layout, c: Column) -> Result<f64, Problem> {
    let text = cell(fields, layout, c).ok_or(Problem::Missing(c))?;
    number(text, c)
}

fn optional_price(fields: &Fields, layout: &Layout, c: Column) -> Result<Option<f64>, Problem> {
    cell(fields, layout, c).map(|t| number(t, c)).transpose()
}

fn number(text: &str, column: Column) -> Result<f64, Problem> {
    text.parse::<f64>().map_err(|_| Problem::BadNumber {
        column,
        text: text.to_string(),
    })
}

/// Parses the cells of one row into a bar (validation comes after).
fn parse_row(fields: &Fields, layout: &Layout, config: &ReaderConfig) -> Result<Bar, Problem> {
    if fields.len() != layout.width {
        return Err(Problem::FieldCount {
            expected: layout.width,
            found: fields.len(),
        });
    }
    let symbol = match layout.position(Column::Symbol) {
        Some(i) => match normalise(fields.get(i)) {
            s if s.is_empty() => return Err(Problem::MissingSymbol),
            s => s.into_owned(),
        },
        None => config.default_symbol.clone().unwrap_or_default(),
    };
    let date_text = cell(fields, layout, Column::Date).ok_or(Problem::Missing(Column::Date))?;
    let bad_date = |error| Problem::BadDate {
        column: Column::Date,
        text: date_text.to_string(),
        error,
    };
    let (date, mut time) = parse_date_time(date_text, config.date_order).map_err(bad_date)?;
    if let Some(t) = cell(fields, layout, Column::Time) {
        let t = parse_time(t).map_err(|error| Problem::BadDate {
            column: Column::Time,
            text: t.to_string(),
            error,
        })?;
        time = (t != chrono::NaiveTime::MIN).then_some(t).or(time);
    }
    Ok(Bar {
        symbol,
        date,
        time,
        open: required_price(fields, layout, Column::Open)?,
        high: required_price(fields, layout, Column::High)?,
        low: required_price(fields, layout, Column::Low)?,
        close: required_price(fields, layout, Column::Close)?,
        adj_close: optional_price(fields, layout, Column::AdjClose)?,
        volume: cell(fields, layout, Column::Volume)
            .map(parse_volume)
            .transpose()?,
        close_usd: optional_price(fields, layout, Column::CloseUsd)?,
    })
}

/// Reads a whole source into memory; for tests and small files.
pub fn read_all(
    input: impl BufRead,
    config: ReaderConfig,
) -> Result<(Vec<Item>, ReadStats), ReadError> {
    let mut r = BarReader::new(input, config);
    let mut items = vec![];
    while let Some(item) = r.next_item()? {
        items.push(item);
    }
    Ok((items, r.stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_time_cell_is_named_as_the_time() {
        let data = "Date,Time,Open,High,Low,Close\n2020-01-02,25:00,1,1,1,1\n";
        let cfg = ReaderConfig {
            source: "t.csv".into(),
            default_symbol: Some("X".into()),
            ..Default::default()
        };
        let (items, _) = read_all(data.as_bytes(), cfg).unwrap();
        let [Item::Rejected(r)] = &items[..] else {
            panic!("{items:?}")
        };
        assert_eq!(r.reason, r#"time "25:00": unrecognised time format"#);
        assert_eq!((r.line, r.code.as_str()), (2, "bad_date"));
    }
}
