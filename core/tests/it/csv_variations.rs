//! CSV reading against fixture FILES shaped like real exports (`tests/fixtures/`), and every
//! validation rule on a crafted bad-rows file.
//!
//! Every test checks exact counts, values, line numbers and reject codes, and every test also
//! checks each item's byte offset (and each reject's raw text) against an independent split of
//! the fixture's bytes. The fixtures are byte-exact (see `tests/fixtures/.gitattributes`); tests
//! whose point is a byte-level feature (BOM, CRLF, invalid UTF-8) assert that the feature is
//! really in the file, so a fixture "cleaned up" by an editor fails loudly instead of passing
//! for the wrong reason.

use chrono::{NaiveDate, NaiveTime};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::sync::Arc;
use stockstream_core::date::DateOrder;
use stockstream_core::date_order::{FileOrder, OrderRefusal, RefusalKind};
use stockstream_core::generate::{write_csv, GenConfig};
use stockstream_core::layout::{Column, LayoutError};
use stockstream_core::reader::{
    read_all, scan_date_order, Accepted, BarReader, Item, ReadError, ReadStats, ReaderConfig,
    ScanLimit, SCAN_BYTES,
};
use stockstream_core::reject::Reject;
use stockstream_core::symbols::Symbols;
use stockstream_core::validate::Warning;
use stockstream_core::Bar;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn fixture_path(name: &str) -> PathBuf {
    std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    )
    .join("tests")
    .join("fixtures")
    .join(name)
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn open_fixture(name: &str) -> BufReader<File> {
    BufReader::new(File::open(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}")))
}

/// A config naming the fixture as the source.
fn config(name: &str) -> ReaderConfig {
    ReaderConfig {
        source: name.to_string(),
        ..ReaderConfig::default()
    }
}

/// Each line of a file as (byte offset, text), split independently of the crate's
/// `LineReader`: a leading UTF-8 BOM is skipped, lines end at `\n` with an optional `\r`
/// before it, and non-UTF-8 bytes are decoded lossily. Line `n` is at index `n - 1`.
fn file_lines(bytes: &[u8]) -> Vec<(u64, String)> {
    let mut out = vec![];
    let mut start = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    while start < bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |p| start + p);
        let line = &bytes[start..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        out.push((start as u64, String::from_utf8_lossy(line).into_owned()));
        start = end + 1;
    }
    out
}

/// Reads a fixture with `read_all`, then checks what must hold for every file: one item per
/// data row, `rows = accepted + rejected`, the counts agree with the items, every item's
/// offset is where its line starts in the file, and every reject's `raw` is its line's text
/// and names the fixture as its source.
fn read_fixture(name: &str, config: ReaderConfig) -> (Vec<Item>, ReadStats) {
    let (items, stats) = read_all(open_fixture(name), config.clone())
        .unwrap_or_else(|e| panic!("reading {name}: {e}"));
    assert_eq!(
        stats.rows,
        stats.accepted + stats.rejected,
        "{name}: {stats:?}"
    );
    assert_eq!(items.len() as u64, stats.rows, "{name}");
    assert_eq!(accepted(&items).len() as u64, stats.accepted, "{name}");
    assert_eq!(rejects(&items).len() as u64, stats.rejected, "{name}");
    assert_eq!(
        stats.rejects_by_code.values().sum::<u64>(),
        stats.rejected,
        "{name}: {stats:?}"
    );
    let lines = file_lines(&fixture_bytes(name));
    for item in &items {
        let (line, offset) = match item {
            Item::Accepted(a) => (a.line, a.offset),
            Item::Rejected(r) => {
                let (_, text) = &lines[r.line as usize - 1];
                assert_eq!(&r.raw, text, "{name} line {}: raw", r.line);
                assert_eq!(r.source, config.source, "{name} line {}: source", r.line);
                (r.line, r.offset)
            }
        };
        assert_eq!(
            offset,
            lines[line as usize - 1].0,
            "{name} line {line}: offset"
        );
    }
    (items, stats)
}

fn accepted(items: &[Item]) -> Vec<&Accepted> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Accepted(a) => Some(a),
            Item::Rejected(_) => None,
        })
        .collect()
}

fn rejects(items: &[Item]) -> Vec<&Reject> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Rejected(r) => Some(r),
            Item::Accepted(_) => None,
        })
        .collect()
}

/// Line numbers of the accepted rows.
fn accepted_lines(items: &[Item]) -> Vec<u64> {
    accepted(items).iter().map(|a| a.line).collect()
}

/// (line number, code) of every reject, in file order.
fn reject_codes(items: &[Item]) -> Vec<(u64, &str)> {
    rejects(items)
        .iter()
        .map(|r| (r.line, r.code.as_str()))
        .collect()
}

fn dates(items: &[Item]) -> Vec<NaiveDate> {
    accepted(items).iter().map(|a| a.bar.date).collect()
}

fn symbols(items: &[Item]) -> Vec<&str> {
    accepted(items)
        .iter()
        .map(|a| a.bar.symbol.as_str())
        .collect()
}

fn warnings(a: &Accepted) -> Vec<Warning> {
    a.warnings.iter().collect()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// The accepted bar read from `line`.
fn bar_at(items: &[Item], line: u64) -> &Bar {
    &accepted(items)
        .into_iter()
        .find(|a| a.line == line)
        .unwrap_or_else(|| panic!("line {line} was not accepted"))
        .bar
}

/// The reject for `line`.
fn reject_at(items: &[Item], line: u64) -> &Reject {
    rejects(items)
        .into_iter()
        .find(|r| r.line == line)
        .unwrap_or_else(|| panic!("line {line} was not rejected"))
}

// ---------------------------------------------------------------------------------------------
// 1. The seed data set's own layout
// ---------------------------------------------------------------------------------------------

/// `seed_head.csv`: the first 10 lines of `indexProcessed_head.csv` (header + 9 flat,
/// zero-volume bars of 1986-12-31 … 1987-01-13), then three later real rows of the same file:
/// 1987-10-12 (not flat, zero volume) and 2001-07-09/10 (the first rows with volume).
#[test]
fn seed_layout_values_parse_bit_exact() {
    let name = "seed_head.csv";
    let (items, stats) = read_fixture(name, config(name));
    assert_eq!(stats.rows, 12);
    assert_eq!(stats.accepted, 12);
    assert_eq!(stats.blank, 0);
    assert_eq!(accepted_lines(&items), (2..=13).collect::<Vec<_>>());
    assert_eq!(
        stats.warnings_by_code,
        counts(&[("flat_bar", 9), ("zero_volume", 10)])
    );

    assert_eq!(
        *bar_at(&items, 2),
        Bar {
            symbol: "HSI".into(),
            date: d(1986, 12, 31),
            time: None,
            open: 2568.300049,
            high: 2568.300049,
            low: 2568.300049,
            close: 2568.300049,
            adj_close: Some(2568.300049),
            volume: Some(0),
            close_usd: Some(333.87900637),
        }
    );

    // The float noise of the source survives to the last bit.
    let b = bar_at(&items, 5);
    assert_eq!(b.date, d(1987, 1, 6));
    let usd = b.close_usd.unwrap();
    assert_eq!(usd.to_bits(), 335.906_987_260_000_05_f64.to_bits());
    assert_ne!(usd.to_bits(), 335.906_987_26_f64.to_bits());
    assert_eq!(usd.to_string(), "335.90698726000005");

    // Every price cell prints back exactly as written (shortest round-trip formatting), which
    // checks both the column mapping and that no digit was lost.
    let lines = file_lines(&fixture_bytes(name));
    for a in accepted(&items) {
        let cells: Vec<&str> = lines[a.line as usize - 1].1.split(',').collect();
        let b = &a.bar;
        let got = [
            b.symbol.clone(),
            b.date.to_string(),
            b.open.to_string(),
            b.high.to_string(),
            b.low.to_string(),
            b.close.to_string(),
            b.adj_close.unwrap().to_string(),
            format!("{}.0", b.volume.unwrap()),
            b.close_usd.unwrap().to_string(),
        ];
        assert_eq!(got.to_vec(), cells, "line {}", a.line);
    }

    // Warnings per row: flat and zero-volume early bars, then neither.
    for line in 2..=10 {
        let a = accepted(&items)[line - 2];
        assert_eq!(
            warnings(a),
            [Warning::ZeroVolume, Warning::FlatBar],
            "line {line}"
        );
    }
    let a = accepted(&items)[9];
    assert_eq!((a.line, a.bar.date), (11, d(1987, 10, 12)));
    assert_eq!(warnings(a), [Warning::ZeroVolume]);
    let a = accepted(&items)[10];
    assert_eq!(a.bar.volume, Some(257_038_800));
    assert_eq!(a.bar.close_usd, Some(1649.7883597000002));
    assert_eq!(warnings(a), []);
}

// ---------------------------------------------------------------------------------------------
// 2. Other header names, cases and column orders
// ---------------------------------------------------------------------------------------------

/// Kaggle "S&P 500 stock data" (`all_stocks_5yr.csv`): lower case, symbol last as `Name`.
#[test]
fn kaggle_sp500_lower_case_with_symbol_last() {
    let name = "kaggle_sp500.csv";
    let (items, stats) = read_fixture(name, config(name));
    assert_eq!((stats.rows, stats.accepted), (4, 4));
    assert_eq!(symbols(&items), ["AAL", "AAL", "AAPL", "AAPL"]);
    assert_eq!(
        dates(&items),
        [d(2013, 2, 8), d(2013, 2, 11), d(2013, 2, 8), d(2013, 2, 11)]
    );
    assert_eq!(
        *bar_at(&items, 4),
        Bar {
            symbol: "AAPL".into(),
            date: d(2013, 2, 8),
            time: None,
            open: 67.7142,
            high: 68.4014,
            low: 66.8928,
            close: 67.8542,
            adj_close: None,
            volume: Some(158_168_416),
            close_usd: None,
        }
    );
    assert!(stats.warnings_by_code.is_empty(), "{stats:?}");
}

/// Upper-case vendor names (`TIMESTAMP`, `ADJ_CLOSE`, `Ticker`) in a shuffled order, with an
/// extra column the reader does not use.
#[test]
fn vendor_upper_case_names_in_another_order() {
    let name = "vendor_upper.csv";
    let mut reader = BarReader::new(open_fixture(name), config(name));
    let mut items = vec![];
    while let Some(item) = reader.next_item().unwrap() {
        items.push(item);
    }
    let layout = reader.layout().expect("header read");
    assert_eq!(layout.position(Column::Date), Some(0));
    assert_eq!(layout.position(Column::Close), Some(1));
    assert_eq!(layout.position(Column::Open), Some(4));
    assert_eq!(layout.position(Column::AdjClose), Some(6));
    assert_eq!(layout.position(Column::Symbol), Some(7));
    assert_eq!(layout.ignored, ["Exchange"]);
    assert_eq!((reader.stats().rows, reader.stats().accepted), (3, 3));
    assert_eq!(accepted_lines(&items), [2, 3, 4]);
    assert_eq!(symbols(&items), ["AAPL", "MSFT", "AAPL"]);
    assert_eq!(
        *bar_at(&items, 2),
        Bar {
            symbol: "AAPL".into(),
            date: d(2020, 1, 31),
            time: None,
            open: 320.93,
            high: 322.68,
            low: 308.29,
            close: 309.51,
            adj_close: Some(307.65),
            volume: Some(49_897_096),
            close_usd: None,
        }
    );
    let msft = bar_at(&items, 3);
    assert_eq!(
        (msft.open, msft.high, msft.low, msft.close, msft.adj_close),
        (172.21, 172.40, 169.58, 170.23, Some(168.44))
    );
}

/// Tab-separated, `Symbol`, `Trade Date`, `Open Price` … `Vol`.
#[test]
fn tab_separated_with_long_names() {
    let name = "symbol_tab.tsv";
    let mut reader = BarReader::new(open_fixture(name), config(name));
    let first = reader.next_item().unwrap().expect("a row");
    assert_eq!(reader.layout().unwrap().delimiter, b'\t');
    let Item::Accepted(a) = first else {
        panic!("{first:?}")
    };
    assert_eq!(
        a.bar,
        Bar {
            symbol: "N225".into(),
            date: d(2020, 1, 31),
            time: None,
            open: 23311.35,
            high: 23411.90,
            low: 23114.44,
            close: 23205.18,
            adj_close: None,
            volume: Some(820_000_000),
            close_usd: None,
        }
    );
    let Some(Item::Accepted(b)) = reader.next_item().unwrap() else {
        panic!()
    };
    assert_eq!(
        (b.line, b.bar.date, b.bar.close),
        (3, d(2020, 2, 3), 22971.94)
    );
    assert!(reader.next_item().unwrap().is_none());
}

/// `Ticker` and `Symbol` both name the symbol: the file is refused rather than one of them
/// being picked silently.
#[test]
fn two_symbol_columns_are_refused() {
    let name = "duplicate_symbol_header.csv";
    let err = read_all(open_fixture(name), config(name)).unwrap_err();
    match &err {
        ReadError::Header {
            source_name,
            line,
            error: LayoutError::Duplicate { column, names },
        } => {
            assert_eq!((source_name.as_str(), *line), (name, 1));
            assert_eq!(*column, Column::Symbol);
            assert_eq!(names, &("Ticker".to_string(), "Symbol".to_string()));
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 3. No symbol column (Yahoo Finance download)
// ---------------------------------------------------------------------------------------------

#[test]
fn yahoo_without_symbol_column_uses_default_symbol() {
    let name = "yahoo_no_symbol.csv";
    let cfg = ReaderConfig {
        default_symbol: Some("^GSPC".into()),
        ..config(name)
    };
    let (items, stats) = read_fixture(name, cfg);
    assert_eq!((stats.rows, stats.accepted, stats.rejected), (4, 3, 1));
    assert_eq!(symbols(&items), ["^GSPC"; 3]);
    assert_eq!(accepted_lines(&items), [2, 3, 5]);
    assert_eq!(
        *bar_at(&items, 2),
        Bar {
            symbol: "^GSPC".into(),
            date: d(2020, 3, 16),
            time: None,
            open: 2508.590088,
            high: 2562.979980,
            low: 2380.939941,
            close: 2386.129883,
            adj_close: Some(2386.129883),
            // Above u32::MAX.
            volume: Some(7_781_540_000),
            close_usd: None,
        }
    );
    // Yahoo writes `null` in every cell for a day without data.
    assert_eq!(reject_codes(&items), [(4, "missing_field")]);
    let r = reject_at(&items, 4);
    assert_eq!(r.reason, "open is empty");
    assert_eq!(r.raw, "2020-03-18,null,null,null,null,null,null");
    assert_eq!(stats.rejects_by_code, counts(&[("missing_field", 1)]));
}

#[test]
fn yahoo_without_symbol_column_or_default_is_refused() {
    let name = "yahoo_no_symbol.csv";
    let err = read_all(open_fixture(name), config(name)).unwrap_err();
    assert!(
        matches!(&err, ReadError::NoSymbol { source_name } if source_name == name),
        "{err:?}"
    );
    assert!(err.to_string().contains("no symbol column"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// 4. BOM + CRLF, and the known-symbols list
// ---------------------------------------------------------------------------------------------

/// Asserts the bytes are BOM + CRLF throughout (no bare LF).
fn assert_bom_crlf(name: &str, bytes: &[u8], crlf_lines: usize) {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{name} lost its BOM");
    let lf = bytes.iter().filter(|&&b| b == b'\n').count();
    let crlf = bytes.windows(2).filter(|w| w == b"\r\n").count();
    assert_eq!((lf, crlf), (crlf_lines, crlf_lines), "{name}: line endings");
}

/// `bom_crlf.csv`: the seed layout written by a Windows tool: BOM, CRLF, the symbol of the
/// last row quoted, and no line break after the last row.
#[test]
fn bom_and_crlf_never_reach_a_field() {
    let name = "bom_crlf.csv";
    let bytes = fixture_bytes(name);
    assert_bom_crlf(name, &bytes, 4);
    assert!(!bytes.ends_with(b"\n"), "last row has no terminator");

    let (items, stats) = read_fixture(name, config(name));
    assert_eq!((stats.rows, stats.accepted, stats.blank), (4, 4, 0));
    assert_eq!(symbols(&items), ["HSI", "N225", "XYZ", "000001.SS"]);
    // Line 2 starts after BOM (3 bytes) + header (56) + CRLF (2).
    assert_eq!(accepted(&items)[0].offset, 61);
    let hsi = bar_at(&items, 2);
    assert_eq!(hsi.volume, Some(257_038_800));
    // The last column of a CRLF line: parsed without its CR.
    assert_eq!(hsi.close_usd, Some(1649.7883597000002));
    let last = bar_at(&items, 5);
    assert_eq!(
        (last.date, last.close, last.volume, last.close_usd),
        (d(2001, 7, 10), 2205.4, Some(0), Some(266.5))
    );
    assert_eq!(
        stats.warnings_by_code,
        counts(&[("zero_volume", 2)]),
        "N225 and 000001.SS have volume 0"
    );
}

/// `indexInfo.csv`: a byte copy of the data set's index list (BOM, CRLF, 14 indices).
#[test]
fn index_info_symbols() {
    let name = "indexInfo.csv";
    assert_bom_crlf(name, &fixture_bytes(name), 15);
    let known = Symbols::read(open_fixture(name)).unwrap();
    assert_eq!(known.len(), 14);
    let all = [
        "NYA",
        "IXIC",
        "HSI",
        "000001.SS",
        "N225",
        "N100",
        "399001.SZ",
        "GSPTSE",
        "NSEI",
        "GDAXI",
        "KS11",
        "SSMI",
        "TWII",
        "J203.JO",
    ];
    assert_eq!(known, Symbols::from_iter(all));
    // Neither the header nor another column leaked in.
    for not_a_symbol in ["Index", "\u{feff}Region", "Region", "HKD", "Hong Kong"] {
        assert!(!known.contains(not_a_symbol), "{not_a_symbol:?}");
    }
    // Lookups compare normal forms (trimmed, upper case); the equality above shows no CR was
    // stored.
    assert!(known.contains("j203.jo") && known.contains("J203.JO\r"));
}

#[test]
fn unknown_symbols_are_rejected_with_the_known_list() {
    let known = Arc::new(Symbols::read(open_fixture("indexInfo.csv")).unwrap());
    let name = "bom_crlf.csv";
    let cfg = ReaderConfig {
        known_symbols: Some(known),
        ..config(name)
    };
    let (items, stats) = read_fixture(name, cfg);
    assert_eq!((stats.rows, stats.accepted, stats.rejected), (4, 3, 1));
    assert_eq!(symbols(&items), ["HSI", "N225", "000001.SS"]);
    assert_eq!(reject_codes(&items), [(4, "unknown_symbol")]);
    let r = reject_at(&items, 4);
    assert_eq!(r.reason, r#"symbol "XYZ" is not in the known-symbols list"#);
    // Exactly the line, without its CR.
    assert_eq!(r.raw, "XYZ,2001-07-09,10.0,11.0,9.0,10.5,10.5,100,10.5");
    assert_eq!(stats.rejects_by_code, counts(&[("unknown_symbol", 1)]));
}

// ---------------------------------------------------------------------------------------------
// 5. Blank lines and all-empty rows
// ---------------------------------------------------------------------------------------------

/// `blank_lines.csv`, lines 3, 5, 6, 7, 9 and 11 are blank: empty, `,,,,,,,,`, spaces only,
/// quoted empties `"","",,,,,,,` and a short `,,,,` (all empty, so blank rather than a
/// field-count error), then an empty last line. Line 10 is a bad row after the blanks.
#[test]
fn blank_and_all_empty_rows_are_skipped_and_counted() {
    let name = "blank_lines.csv";
    let (items, stats) = read_fixture(name, config(name));
    assert_eq!(stats.blank, 6);
    assert_eq!((stats.rows, stats.accepted, stats.rejected), (4, 3, 1));
    assert_eq!(accepted_lines(&items), [2, 4, 8]);
    assert_eq!(
        dates(&items),
        [d(2001, 7, 9), d(2001, 7, 10), d(2001, 7, 11)]
    );
    assert_eq!(bar_at(&items, 8).open, 12625.4502);
    assert_eq!(reject_codes(&items), [(10, "bad_number")]);
    assert_eq!(
        reject_at(&items, 10).reason,
        r#"open "abc" is not a number"#
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Empty cells
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_optional_cells_are_none_and_empty_required_cells_reject() {
    let name = "empty_cells.csv";
    let (items, stats) = read_fixture(name, config(name));
    assert_eq!((stats.rows, stats.accepted, stats.rejected), (6, 3, 3));
    assert_eq!(accepted_lines(&items), [2, 3, 6]);

    // Adj Close and Volume empty.
    let a = accepted(&items)[0];
    assert_eq!((a.bar.adj_close, a.bar.volume), (None, None));
    assert_eq!(a.bar.close_usd, Some(1649.7883597000002));
    assert_eq!(warnings(a), [Warning::NoVolume]);
    // CloseUSD empty.
    let a = accepted(&items)[1];
    assert_eq!(a.bar.close_usd, None);
    assert_eq!(a.bar.volume, Some(134_407_800));
    assert_eq!(warnings(a), []);
    // Cells holding only spaces are empty too.
    let a = accepted(&items)[2];
    assert_eq!((a.bar.adj_close, a.bar.volume), (None, None));
    assert_eq!(warnings(a), [Warning::NoVolume]);

    assert_eq!(
        reject_codes(&items),
        [
            (4, "missing_field"),
            (5, "missing_field"),
            (7, "missing_field")
        ]
    );
    assert_eq!(reject_at(&items, 4).reason, "open is empty");
    assert_eq!(reject_at(&items, 5).reason, "date is empty");
    assert_eq!(reject_at(&items, 7).reason, "close is empty");
    assert_eq!(stats.rejects_by_code, counts(&[("missing_field", 3)]));
    assert_eq!(stats.warnings_by_code, counts(&[("no_volume", 2)]));
}

// ---------------------------------------------------------------------------------------------
// 7. Date formats
// ---------------------------------------------------------------------------------------------

/// The dates of `dates_dmy.csv` and `dates_mdy.csv` (closes 101 … 105 on lines 2 … 6).
fn feb_dates() -> Vec<NaiveDate> {
    vec![
        d(2020, 1, 31),
        d(2020, 2, 3),
        d(2020, 2, 4),
        d(2020, 2, 12),
        d(2020, 2, 13),
    ]
}

fn with_order(name: &str, date_order: DateOrder) -> (Vec<Item>, ReadStats) {
    read_fixture(
        name,
        ReaderConfig {
            date_order,
            ..config(name)
        },
    )
}

#[test]
fn day_first_file_with_dmy() {
    let (items, stats) = with_order("dates_dmy.csv", DateOrder::Dmy);
    assert_eq!((stats.rows, stats.accepted), (5, 5));
    assert_eq!(dates(&items), feb_dates());
    let closes: Vec<f64> = accepted(&items).iter().map(|a| a.bar.close).collect();
    assert_eq!(closes, [101.0, 102.0, 103.0, 104.0, 105.0]);
}

#[test]
fn month_first_file_with_mdy() {
    let (items, stats) = with_order("dates_mdy.csv", DateOrder::Mdy);
    assert_eq!((stats.rows, stats.accepted), (5, 5));
    assert_eq!(dates(&items), feb_dates());
}

/// In `Auto` mode only dates with a part above 12 are read; the others are rejected, not
/// guessed.
#[test]
fn ambiguous_dates_with_auto_are_rejected() {
    for name in ["dates_dmy.csv", "dates_mdy.csv"] {
        let (items, stats) = with_order(name, DateOrder::Auto);
        assert_eq!(
            (stats.rows, stats.accepted, stats.rejected),
            (5, 2, 3),
            "{name}"
        );
        assert_eq!(accepted_lines(&items), [2, 6], "{name}");
        assert_eq!(dates(&items), [d(2020, 1, 31), d(2020, 2, 13)], "{name}");
        assert_eq!(
            reject_codes(&items),
            [(3, "bad_date"), (4, "bad_date"), (5, "bad_date")],
            "{name}"
        );
        for r in rejects(&items) {
            assert!(r.reason.contains("ambiguous"), "{name}: {}", r.reason);
        }
        assert_eq!(stats.rejects_by_code, counts(&[("bad_date", 3)]));
    }
    let (items, _) = with_order("dates_dmy.csv", DateOrder::Auto);
    assert_eq!(
        reject_at(&items, 3).reason,
        r#"date "03/02/2020": ambiguous day/month order (set the date order to dmy or mdy)"#
    );
}

/// An order that contradicts the text is an error where the text proves it, never a swap.
#[test]
fn month_first_file_read_day_first() {
    let (items, _) = with_order("dates_mdy.csv", DateOrder::Dmy);
    assert_eq!(reject_codes(&items), [(2, "bad_date"), (6, "bad_date")]);
    assert_eq!(
        reject_at(&items, 2).reason,
        r#"date "01/31/2020": is month-first (its second part is above 12), but the file's dates are read day-first"#
    );
    assert_eq!(
        dates(&items),
        [d(2020, 3, 2), d(2020, 4, 2), d(2020, 12, 2)]
    );
}

/// `31-Jan-2020`, `"Jan 31, 2020"` (quoted: it holds the delimiter), `3 Feb 2020`,
/// `"February 4, 2020"`, `05-FEB-2020`, `31 AUGUST 2020`.
#[test]
fn month_names() {
    let name = "dates_month_names.csv";
    let (items, stats) = read_fixture(name, config(name));
    assert_eq!(
        (stats.rows, stats.accepted),
        (6, 6),
        "{:?}",
        reject_codes(&items)
    );
    assert_eq!(
        dates(&items),
        [
            d(2020, 1, 31),
            d(2020, 1, 31),
            d(2020, 2, 3),
            d(2020, 2, 4),
            d(2020, 2, 5),
            d(2020, 8, 31)
        ]
    );
    // The quoted comma did not shift the columns.
    let b = bar_at(&items, 3);
    assert_eq!((b.open, b.close, b.volume), (100.0, 102.0, Some(1000)));
}

#[test]
fn compact_dates() {
    let name = "dates_compact.csv";
    let (items, _) = read_fixture(name, config(name));
    assert_eq!(dates(&items), [d(2020, 1, 31), d(2020, 2, 3)]);
    assert_eq!(reject_codes(&items), [(4, "bad_date")]);
    assert_eq!(
        reject_at(&items, 4).reason,
        r#"date "20200230": no such calendar day"#
    );
}

/// A European export: semicolons and `DD.MM.YYYY`.
#[test]
fn semicolons_and_dotted_day_first_dates() {
    let name = "dates_semicolon_dotted.csv";
    let (items, stats) = with_order(name, DateOrder::Dmy);
    assert_eq!((stats.rows, stats.accepted), (3, 3));
    assert_eq!(
        dates(&items),
        [d(2020, 1, 31), d(2020, 2, 3), d(2020, 2, 4)]
    );
    assert_eq!(
        *bar_at(&items, 3),
        Bar {
            symbol: "GDAXI".into(),
            date: d(2020, 2, 3),
            time: None,
            open: 12982.07,
            high: 13076.78,
            low: 12937.42,
            close: 13045.19,
            adj_close: None,
            volume: Some(89_000_000),
            close_usd: None,
        }
    );
}

fn t(h: u32, m: u32, s: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, s).unwrap()
}

/// Intraday bars with separate `Date` and `Time` columns.
#[test]
fn intraday_date_and_time_columns() {
    let name = "intraday_date_time.csv";
    let (items, stats) = read_fixture(name, config(name));
    assert_eq!((stats.rows, stats.accepted, stats.rejected), (4, 3, 1));
    let times: Vec<_> = accepted(&items).iter().map(|a| a.bar.time).collect();
    assert_eq!(
        times,
        [
            Some(t(9, 30, 0)),
            Some(t(9, 31, 0)),
            Some(NaiveTime::from_hms_milli_opt(15, 59, 0, 500).unwrap())
        ]
    );
    assert_eq!(symbols(&items), ["AAPL"; 3]);
    assert_eq!(
        bar_at(&items, 2).timestamp(),
        d(2020, 1, 31).and_time(t(9, 30, 0))
    );
    assert_eq!(reject_codes(&items), [(5, "bad_date")]);
    assert!(
        reject_at(&items, 5)
            .reason
            .contains("unrecognised time format"),
        "{}",
        reject_at(&items, 5).reason
    );
}

/// One `Datetime` column (yfinance intraday style), no symbol column. UTC (`Z`, `+00:00`) is
/// accepted; another offset is rejected because bars carry exchange-local wall time.
#[test]
fn intraday_combined_datetime_column() {
    let name = "intraday_datetime.csv";
    let cfg = ReaderConfig {
        default_symbol: Some("AAPL".into()),
        ..config(name)
    };
    let (items, stats) = read_fixture(name, cfg);
    assert_eq!((stats.rows, stats.accepted, stats.rejected), (4, 3, 1));
    let stamps: Vec<_> = accepted(&items).iter().map(|a| a.bar.timestamp()).collect();
    let day = d(2020, 1, 31);
    assert_eq!(
        stamps,
        [
            day.and_time(t(9, 30, 0)),
            day.and_time(t(9, 31, 0)),
            day.and_time(t(9, 32, 0))
        ]
    );
    assert_eq!(bar_at(&items, 3).close, 321.65);
    assert_eq!(reject_codes(&items), [(5, "bad_date")]);
    assert_eq!(
        reject_at(&items, 5).reason,
        r#"date "2020-01-31 09:33:00-05:00": time zone offsets other than UTC are not supported"#
    );
}

// ---------------------------------------------------------------------------------------------
// 8. One row per defect: `bad_rows.csv`
// ---------------------------------------------------------------------------------------------

/// What each line of `bad_rows.csv` is for: (line, reject code or `None` when the row is
/// accepted, the defect). Line 1 is the seed-layout header. The producer's bad-input test
/// reuses this fixture, so change both together.
const BAD_ROWS: &[(u64, Option<&str>, &str)] = &[
    (2, None, "good row (real 2001-07-09 HSI bar)"),
    (3, Some("bad_number"), "Open is `abc`"),
    (4, Some("not_finite"), "Open is `NaN`"),
    (5, Some("not_positive"), "Open is 0"),
    (6, Some("not_positive"), "Close is -12550"),
    (
        7,
        None,
        "good row with Volume 0.0: zero_volume warning only",
    ),
    (8, Some("low_above_high"), "Low 12600 above High 12400"),
    (9, Some("outside_range"), "Open 12700 above High 12600"),
    (10, Some("outside_range"), "Close 12300 below Low 12400"),
    (11, None, "good row"),
    (12, Some("negative_volume"), "Volume -1000"),
    (13, Some("fractional_volume"), "Volume 1000.5"),
    (14, Some("bad_date"), "Date `not-a-date`"),
    (15, Some("bad_date"), "Date 2021-02-30 does not exist"),
    (16, Some("field_count"), "8 fields (CloseUSD missing)"),
    (17, Some("field_count"), "10 fields (trailing `extra`)"),
    (
        18,
        Some("broken_quotes"),
        "quote opened before the date is never closed",
    ),
    (19, Some("missing_symbol"), "Index cell empty"),
    (20, Some("not_utf8"), "byte 0xFF in the symbol (`HS\\xFF`)"),
    (21, None, "good row"),
];

#[test]
fn bad_rows_each_defect_has_its_code() {
    let name = "bad_rows.csv";
    let bytes = fixture_bytes(name);
    // The invalid byte must really be there, once.
    assert_eq!(bytes.iter().filter(|&&b| b == 0xFF).count(), 1);
    assert!(std::str::from_utf8(&bytes).is_err());
    let lines = file_lines(&bytes);
    assert_eq!(lines.len(), 21);
    assert_eq!(lines[0].1, stockstream_core::generate::SEED_HEADER);

    let (items, stats) = read_fixture(name, config(name));

    let expected_rejects: Vec<(u64, &str)> = BAD_ROWS
        .iter()
        .filter_map(|(line, code, _)| code.map(|c| (*line, c)))
        .collect();
    let expected_accepted: Vec<u64> = BAD_ROWS
        .iter()
        .filter(|(_, code, _)| code.is_none())
        .map(|(line, _, _)| *line)
        .collect();
    assert_eq!(reject_codes(&items), expected_rejects);
    assert_eq!(accepted_lines(&items), expected_accepted);
    assert_eq!(expected_accepted, [2, 7, 11, 21]);

    assert_eq!(stats.rows, 20);
    assert_eq!(stats.accepted, 4);
    assert_eq!(stats.rejected, 16);
    assert_eq!(stats.rows, stats.accepted + stats.rejected);
    assert_eq!(stats.blank, 0);
    assert_eq!(
        stats.rejects_by_code,
        counts(&[
            ("bad_date", 2),
            ("bad_number", 1),
            ("broken_quotes", 1),
            ("field_count", 2),
            ("fractional_volume", 1),
            ("low_above_high", 1),
            ("missing_symbol", 1),
            ("negative_volume", 1),
            ("not_finite", 1),
            ("not_positive", 2),
            ("not_utf8", 1),
            ("outside_range", 2),
        ])
    );
    assert_eq!(stats.warnings_by_code, counts(&[("zero_volume", 1)]));
    let zero = accepted(&items)[1];
    assert_eq!((zero.line, zero.bar.volume), (7, Some(0)));
    assert_eq!(warnings(zero), [Warning::ZeroVolume]);

    // raw is the line as in the file (read_fixture checked every reject against the file);
    // spot-check two by hand, the non-UTF-8 one decoded lossily.
    assert_eq!(
        reject_at(&items, 20).raw,
        "HS\u{FFFD},2001-07-31,12500,12600,12400,12550,12550,1000,1630"
    );
    assert_eq!(
        reject_at(&items, 18).raw,
        r#"HSI,"2001-07-27,12500,12600,12400,12550,12550,1000,1630"#
    );

    // Reasons name the field and the value.
    let reasons: Vec<(u64, &str)> = [3, 6, 8, 9, 10, 12, 13, 15, 16, 17, 19]
        .into_iter()
        .map(|l| (l, reject_at(&items, l).reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (3, r#"open "abc" is not a number"#),
            (6, "close -12550 is not a positive price"),
            (8, "low 12600 is above high 12400"),
            (9, "open 12700 is outside low..high (12400..12600)"),
            (10, "close 12300 is outside low..high (12400..12600)"),
            (12, "volume -1000 is negative"),
            (13, "volume 1000.5 is not a whole number"),
            (15, r#"date "2021-02-30": no such calendar day"#),
            (16, "expected 9 fields as in the header, found 8"),
            (17, "expected 9 fields as in the header, found 10"),
            (19, "symbol is empty"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Streaming a generated file
// ---------------------------------------------------------------------------------------------

#[test]
fn streams_a_generated_file_one_item_at_a_time() {
    let gen = GenConfig {
        symbols: 50,
        days: 2000,
        ..GenConfig::default()
    };
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let written = write_csv(&gen, file.as_file_mut()).unwrap();
    file.as_file_mut().flush().unwrap();
    assert_eq!(written, 100_000);
    let len = std::fs::metadata(file.path()).unwrap().len();

    let input = BufReader::new(File::open(file.path()).unwrap());
    let mut reader = BarReader::new(input, config("generated.csv"));
    let mut n: u64 = 0;
    let mut last_offset = 0;
    let mut last_date = NaiveDate::MIN;
    while let Some(item) = reader.next_item().unwrap() {
        let Item::Accepted(a) = item else {
            panic!("generated rows are all valid: {item:?}")
        };
        // By-date order: 50 symbols per day, in symbol order; line numbers follow the header.
        assert_eq!(a.line, n + 2);
        assert_eq!(a.bar.symbol, format!("S{:05}", n % 50));
        assert!(a.offset > last_offset && a.bar.date >= last_date);
        if n.is_multiple_of(50) {
            assert!(n == 0 || a.bar.date > last_date);
        } else {
            assert_eq!(a.bar.date, last_date);
        }
        last_offset = a.offset;
        last_date = a.bar.date;
        n += 1;
        // Counts are kept as the stream goes, not at the end.
        assert_eq!(reader.stats().accepted, n);
    }
    assert_eq!(n, 100_000);
    assert_eq!(reader.line_number(), 100_001);
    assert_eq!(reader.position(), len);
    let stats = reader.stats();
    assert_eq!(
        (stats.rows, stats.accepted, stats.rejected, stats.blank),
        (100_000, 100_000, 0, 0)
    );
    // 2000 weekdays from Monday 2000-01-03: 400 whole weeks, the last day a Friday.
    assert_eq!(last_date, d(2007, 8, 31));
}

// ---------------------------------------------------------------------------------------------
// 10. A file's day/month order, decided once for the whole file
// ---------------------------------------------------------------------------------------------

/// What `auto` does in the producer: decide the order from the file's dates (scanning at least
/// `cap` bytes), then read the whole file with it; or refuse, reading no row.
fn read_auto(bytes: &[u8], cap: u64) -> Result<(Vec<Item>, ReadStats, FileOrder), OrderRefusal> {
    let scan = scan_date_order(bytes, "auto.csv", ScanLimit::UntilDecided(cap)).unwrap();
    let order = scan.decision?;
    let cfg = ReaderConfig {
        date_order: order.date_order(),
        ..config("auto.csv")
    };
    let (items, stats) = read_all(bytes, cfg).unwrap();
    Ok((items, stats, order))
}

/// A generated file (seed layout, ISO dates) with its dates rewritten by `format`.
fn generated_with_dates(
    gen: &GenConfig,
    format: impl Fn(NaiveDate) -> String,
) -> (Vec<u8>, Vec<NaiveDate>) {
    let mut iso = vec![];
    write_csv(gen, &mut iso).unwrap();
    let text = String::from_utf8(iso).unwrap();
    let mut out = String::new();
    let mut want = vec![];
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out.push_str(line);
        } else {
            let (sym, rest) = line.split_once(',').unwrap();
            let (date, rest) = rest.split_once(',').unwrap();
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
            want.push(date);
            out.push_str(&format!("{sym},{},{rest}", format(date)));
        }
        out.push('\n');
    }
    (out.into_bytes(), want)
}

fn dmy(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn mdy(d: NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

#[test]
fn the_date_fixtures_decide_their_own_order() {
    for (name, order) in [
        ("dates_dmy.csv", FileOrder::DayFirst),
        ("dates_mdy.csv", FileOrder::MonthFirst),
        ("dates_semicolon_dotted.csv", FileOrder::DayFirst),
        ("seed_head.csv", FileOrder::NotNeeded),
        ("kaggle_sp500.csv", FileOrder::NotNeeded),
        ("dates_month_names.csv", FileOrder::NotNeeded),
    ] {
        let (items, stats, got) = read_auto(&fixture_bytes(name), SCAN_BYTES).unwrap();
        assert_eq!(got, order, "{name}");
        if name.starts_with("dates_") {
            assert_eq!(
                (stats.rejected, items.len() as u64),
                (0, stats.rows),
                "{name}"
            );
        }
    }
    // The day-first fixture lands whole, where reading row by row rejects 3 of 5.
    let (items, _, _) = read_auto(&fixture_bytes("dates_dmy.csv"), SCAN_BYTES).unwrap();
    assert_eq!(dates(&items), feb_dates());
}

/// Several thousand day-first rows (every day 1–12 of every month is ambiguous on its own)
/// land whole, with the right dates; the same rows month-first too.
#[test]
fn a_day_first_file_of_thousands_of_rows_lands_whole() {
    let gen = GenConfig {
        symbols: 3,
        days: 2000,
        ..GenConfig::default()
    };
    for (format, order) in [
        (dmy as fn(NaiveDate) -> String, FileOrder::DayFirst),
        (mdy, FileOrder::MonthFirst),
    ] {
        let (bytes, want) = generated_with_dates(&gen, format);
        assert_eq!(want.len(), 6000);
        let (items, stats, got) = read_auto(&bytes, SCAN_BYTES).unwrap();
        assert_eq!(got, order);
        assert_eq!((stats.rows, stats.accepted), (6000, 6000));
        assert_eq!(dates(&items), want);
        // Row by row, about 40% of them would have been rejected as ambiguous.
        let (_, per_row) = read_all(&bytes[..], config("x.csv")).unwrap();
        assert!(per_row.rejected > 2000, "{per_row:?}");
    }
}

/// One month-first date in a day-first file: the file is refused, naming the lines.
#[test]
fn a_mixed_order_file_is_refused_with_the_lines_that_disagree() {
    let gen = GenConfig {
        symbols: 2,
        days: 3000,
        ..GenConfig::default()
    };
    let (bytes, _) = generated_with_dates(&gen, dmy);
    let mut text = String::from_utf8(bytes).unwrap();
    // The last row is month-first (the file is far below the scan's 8 MiB, so it is seen).
    text.push_str("S00000,01/31/2020,10,11,9,10,10,100,1.3\n");
    let last_line = text.lines().count() as u64;
    let r = read_auto(text.as_bytes(), SCAN_BYTES).unwrap_err();
    assert_eq!(r.kind, RefusalKind::Conflict);
    assert_eq!(r.counts.month_first, 1);
    assert_eq!(r.counts.first_month_first, [last_line]);
    assert!(r.counts.day_first > 1000, "{:?}", r.counts);
    // Weekdays from 2000-01-03, two symbols a day: the 13th is on lines 18 and 19.
    assert_eq!(r.counts.first_day_first, [18, 19, 20]);
    let msg = r.to_string();
    assert!(
        msg.contains(&format!("1 only month-first (first on line {last_line})")),
        "{msg}"
    );
}

#[test]
fn a_file_of_only_ambiguous_dates_is_refused() {
    let text = "Symbol,Date,Open,High,Low,Close\nX,03/04/2020,1,1,1,1\nX,2020-04-05,1,1,1,1\nX,06/04/2020,1,1,1,1\n";
    let r = read_auto(text.as_bytes(), SCAN_BYTES).unwrap_err();
    assert_eq!(r.kind, RefusalKind::Undecided);
    assert_eq!(
        (
            r.counts.ambiguous,
            r.counts.neutral,
            &r.counts.first_ambiguous[..]
        ),
        (2, 1, &[2, 4][..])
    );
}

/// A local file's scan reads on past its cap while the dates are undecided, and stops at the
/// cap once they are decided (or need no decision); a strict scan never reads past its cap,
/// nor looks at a line cut by it.
#[test]
fn scan_limits() {
    let mut text = String::from("Symbol,Date,Open,High,Low,Close\n");
    // 01/01 reads the same either way; 02/01 … 12/01 do not.
    for day in 2..=12 {
        text.push_str(&format!("X,{day:02}/01/2020,1,1,1,1\n"));
    }
    let decider = text.lines().count() as u64 + 1;
    text.push_str("X,13/01/2020,1,1,1,1\n");
    text.push_str("X,01/14/2020,1,1,1,1\n"); // contradicts, after the decider
    let bytes = text.as_bytes();

    let s = scan_date_order(bytes, "t.csv", ScanLimit::UntilDecided(40)).unwrap();
    assert_eq!(s.decision, Ok(FileOrder::DayFirst));
    assert_eq!(
        (s.lines, s.to_end),
        (12, false),
        "stopped at the first deciding date"
    );
    assert_eq!(s.counts.first_day_first, [decider]);

    let s = scan_date_order(bytes, "t.csv", ScanLimit::UntilDecided(1 << 20)).unwrap();
    assert_eq!(s.decision.as_ref().unwrap_err().kind, RefusalKind::Conflict);
    assert!(s.to_end);

    let s = scan_date_order(bytes, "t.csv", ScanLimit::Strict(200)).unwrap();
    assert_eq!(
        s.decision.as_ref().unwrap_err().kind,
        RefusalKind::Undecided
    );
    assert!(s.bytes <= 200 && !s.to_end, "{s:?}");

    // Read with the order decided from its start, the contradicting row is rejected, and
    // says why.
    let cfg = ReaderConfig {
        date_order: DateOrder::Dmy,
        default_symbol: None,
        ..config("t.csv")
    };
    let (items, stats) = read_all(bytes, cfg).unwrap();
    assert_eq!((stats.accepted, stats.rejected), (12, 1));
    assert_eq!(
        reject_at(&items, decider + 1).reason,
        r#"date "01/14/2020": is month-first (its second part is above 12), but the file's dates are read day-first"#
    );

    // A header error is the reader's own.
    let e = scan_date_order(
        &b"Symbol,Date,Open,Close\n"[..],
        "p.csv",
        ScanLimit::Strict(99),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("p.csv line 1: header has no column for high, low"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// 11. Symbols as tickers
// ---------------------------------------------------------------------------------------------

#[test]
fn symbol_cells_are_trimmed_and_upper_cased_and_checked_in_that_form() {
    let text = "Symbol,Date,Open,High,Low,Close\n hsi ,2020-01-02,1,1,1,1\n\"  n225\",2020-01-02,1,1,1,1\nxyz,2020-01-02,1,1,1,1\n\" \",2020-01-02,1,1,1,1\n";
    let known = Arc::new(Symbols::read(open_fixture("indexInfo.csv")).unwrap());
    let cfg = ReaderConfig {
        known_symbols: Some(known),
        ..config("t.csv")
    };
    let (items, _) = read_all(text.as_bytes(), cfg).unwrap();
    assert_eq!(symbols(&items), ["HSI", "N225"]);
    assert_eq!(
        reject_codes(&items),
        [(4, "unknown_symbol"), (5, "missing_symbol")]
    );
    assert_eq!(
        reject_at(&items, 4).reason,
        r#"symbol "XYZ" is not in the known-symbols list"#
    );
    // A default symbol is normalised the same way.
    let cfg = ReaderConfig {
        default_symbol: Some(" gspc ".into()),
        ..config("yahoo_no_symbol.csv")
    };
    let (items, _) = read_fixture("yahoo_no_symbol.csv", cfg);
    assert_eq!(symbols(&items), ["GSPC"; 3]);
}

// ---------------------------------------------------------------------------------------------
// 12. Property: day-first and month-first files are read whole and right, or refused
// ---------------------------------------------------------------------------------------------

/// Found by the property test below: a month-first file whose first date reads the same
/// either way (`04/04/2018`) and whose next is ambiguous. A scan that stopped after the first
/// date called the order "not needed" and the reader then rejected the second row: a partial
/// ingest. Now the scan goes on while it has seen order-dependent dates but none deciding,
/// and refuses the file when they never decide.
#[test]
fn a_day_equal_to_its_month_does_not_end_the_scan() {
    let text = "Symbol,Date,Open,High,Low,Close,Volume\nABC,04/04/2018,10,12,9,11,100\nABC,04/05/2018,10,12,9,11,100\n";
    let r = read_auto(text.as_bytes(), 0).unwrap_err();
    assert_eq!(r.kind, RefusalKind::Undecided);
    let decided = format!("{text}ABC,04/13/2018,10,12,9,11,100\n");
    let (items, stats, order) = read_auto(decided.as_bytes(), 0).unwrap();
    assert_eq!(
        (stats.rows, stats.rejected, order),
        (3, 0, FileOrder::MonthFirst)
    );
    assert_eq!(dates(&items)[1], d(2018, 4, 5));
}

mod date_order_property {
    use super::*;
    use proptest::prelude::*;

    /// A file of `days` consecutive calendar days from `start`, each date written in `order`
    /// with `sep`, and the dates it holds.
    fn file(start: NaiveDate, days: usize, day_first: bool, sep: char) -> (String, Vec<NaiveDate>) {
        let mut text = String::from("Symbol,Date,Open,High,Low,Close,Volume\n");
        let mut want = vec![];
        for i in 0..days {
            let d = start + chrono::Duration::days(i as i64);
            let f = if day_first {
                format!("%d{sep}%m{sep}%Y")
            } else {
                format!("%m{sep}%d{sep}%Y")
            };
            text.push_str(&format!("ABC,{},10,12,9,11,100\n", d.format(&f)));
            want.push(d);
        }
        (text, want)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn read_whole_and_right_never_partially(
            start_days in 0i64..9000,
            days in 1usize..120,
            day_first: bool,
            sep in prop::sample::select(vec!['/', '.', '-']),
            cap in 0u64..3000,
        ) {
            let start = d(2000, 1, 1) + chrono::Duration::days(start_days);
            let (text, want) = file(start, days, day_first, sep);
            let decides = want.iter().any(|d| {
                use chrono::Datelike;
                d.day() > 12
            });
            let all_same = want.iter().all(|d| {
                use chrono::Datelike;
                d.day() == d.month()
            });
            match read_auto(text.as_bytes(), cap) {
                Ok((items, stats, order)) => {
                    // Whole: every row, no reject; right: the dates as written.
                    prop_assert_eq!(stats.rows, days as u64);
                    prop_assert_eq!(stats.rejected, 0);
                    prop_assert_eq!(dates(&items), want);
                    let expected = if decides {
                        if day_first { FileOrder::DayFirst } else { FileOrder::MonthFirst }
                    } else {
                        FileOrder::NotNeeded
                    };
                    prop_assert_eq!(order, expected);
                    prop_assert!(decides || all_same);
                }
                Err(r) => {
                    // Refused only when no date could decide.
                    prop_assert!(!decides, "{}", r);
                    prop_assert_eq!(r.kind, RefusalKind::Undecided);
                }
            }
        }

        #[test]
        fn one_date_in_the_other_order_refuses_the_file(
            start_days in 0i64..9000,
            days in 13usize..120,
            day_first: bool,
            at in any::<prop::sample::Index>(),
        ) {
            use chrono::Datelike;
            let start = d(2000, 1, 1) + chrono::Duration::days(start_days);
            let (text, want) = file(start, days, day_first, '/');
            prop_assume!(want.iter().any(|d| d.day() > 12));
            // Rewrite one row whose day is above 12 the other way round.
            let candidates: Vec<usize> = (0..days).filter(|&i| want[i].day() > 12).collect();
            let i = candidates[at.index(candidates.len())];
            let other = if day_first { "%m/%d/%Y" } else { "%d/%m/%Y" };
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines[i + 1] = format!("ABC,{},10,12,9,11,100", want[i].format(other));
            let text = lines.join("\n") + "\n";
            let kept_deciders = candidates.len() > 1;
            match read_auto(text.as_bytes(), u64::MAX) {
                Err(r) => {
                    prop_assert!(kept_deciders);
                    prop_assert_eq!(r.kind, RefusalKind::Conflict);
                    let lines = if day_first {
                        &r.counts.first_month_first
                    } else {
                        &r.counts.first_day_first
                    };
                    prop_assert_eq!(&lines[..], &[i as u64 + 2][..]);
                }
                // With its only deciding date flipped, the file is read the other way: still
                // whole, and every date readable that way.
                Ok((_, stats, _)) => {
                    prop_assert!(!kept_deciders);
                    prop_assert_eq!(stats.rejected, 0);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 13. Quoting through the reader (csv-core splits the fields)
// ---------------------------------------------------------------------------------------------

/// RFC 4180 quoting in whole rows, and the reader's stricter rules on top of csv-core (which
/// never refuses a line): a quote left open rejects its own line only, text after a closing
/// quote is broken quoting, whitespace around a quoted cell is allowed.
#[test]
fn quoted_cells_and_broken_quotes_through_the_reader() {
    let data = concat!(
        "Index,Date,Open,High,Low,Close,Adj Close,Volume,CloseUSD\r\n",
        "\"HSI\",\"2001-07-09\",\"12,5\",12,12,12,12,1000,1\r\n",
        "\"HSI\",\"2001-07-09\",\"1\"\"2\",12,12,12,12,1000,1\r\n",
        "  \"HSI\" ,\"2001-07-10\", \"12.5\"  ,13,12,12.5,12.5,\"1000\",1.6\r\n",
        "HSI,\"2001-07-11\"x,12,12,12,12,12,1000,1\r\n",
        "HSI,\"2001-07-12,12,12,12,12,12,1000,1\r\n",
        "HSI,2001-07-13,12,12,12,12,12,1000,\"1\r\n",
        "HSI,2001-07-16,12,13,11,12,12,1000,1\n",
    );
    let lines = [0u64, 58, 104, 150, 210, 251, 290, 329];
    for (i, offset) in lines.iter().enumerate().skip(1) {
        assert_eq!(
            data.as_bytes()[*offset as usize - 1],
            b'\n',
            "line {} starts at {offset}",
            i + 1
        );
    }
    let (items, stats) = read_all(data.as_bytes(), config("quoted.csv")).unwrap();
    assert_eq!((stats.rows, stats.accepted, stats.rejected), (7, 2, 5));
    assert_eq!(
        reject_codes(&items),
        [
            (2, "bad_number"),
            (3, "bad_number"),
            (5, "broken_quotes"),
            (6, "broken_quotes"),
            (7, "broken_quotes"),
        ]
    );
    // The delimiter and a doubled quote inside quotes are data, so the row keeps its width.
    assert_eq!(
        reject_at(&items, 2).reason,
        r#"open "12,5" is not a number"#
    );
    assert_eq!(
        reject_at(&items, 3).reason,
        r#"open "1\"2" is not a number"#
    );
    // Whitespace around quoted cells is dropped; quoted numbers are numbers.
    let bar = bar_at(&items, 4);
    assert_eq!(
        (bar.symbol.as_str(), bar.open, bar.volume),
        ("HSI", 12.5, Some(1000))
    );
    // An open quote rejects its line, with the line as it is in the file, and the next line
    // is read on its own.
    let r = reject_at(&items, 6);
    assert_eq!(
        (r.raw.as_str(), r.offset, r.source.as_str()),
        ("HSI,\"2001-07-12,12,12,12,12,12,1000,1", 251, "quoted.csv")
    );
    assert_eq!(reject_at(&items, 7).offset, 290);
    assert_eq!(accepted_lines(&items), [4, 8]);
    assert_eq!(accepted(&items)[1].offset, 329);
}
