//! The CSV reader's field splitting: csv-core (`reader::fields`, what the reader uses) against
//! the hand-written splitter it replaced (`support/hand_split.rs`), in one run on one
//! generated file.
//!
//! ```sh
//! cargo bench -p stockstream-core --bench csv_reader -- --rows 5000000 --repeats 5
//! ```
//!
//! The file is the generator's seed layout (100 symbols, by date), written to a temporary
//! folder and read through `BufReader<File>` as the producer reads it. Three measures, each
//! repeated, the two parsers alternating which goes first, medians reported:
//!
//! - `split`: lines and fields only ([`LineReader`] and the splitter), the parser's own cost;
//! - `rows`: the same plus what the reader does with each row's cells (symbol normal form,
//!   date, six numbers, volume, validation), the producer's read path less its bookkeeping;
//! - `reader`: the real [`BarReader`] (csv-core), for scale: what the producer's reading
//!   stage costs per row.
//!
//! Printed: rows/s per parser and the ratio csv-core / hand (above 1: csv-core is faster),
//! by the wall clock and by the thread's CPU time (steadier when other work shares the cores).

#[path = "support/hand_split.rs"]
mod hand_split;

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Instant;
use stockstream_core::date::{parse_date_time, DateOrder};
use stockstream_core::generate::{write_csv, GenConfig};
use stockstream_core::layout::{sniff_delimiter, Column, Layout};
use stockstream_core::lines::LineReader;
use stockstream_core::reader::{fields, BarReader, Item, ReaderConfig};
use stockstream_core::symbols::normalise;
use stockstream_core::validate::{parse_volume, validate};
use stockstream_core::Bar;

/// The two splitters behind one face.
trait Split {
    fn split(&mut self, line: &str, delimiter: u8) -> bool;
    fn len(&self) -> usize;
    fn get(&self, i: usize) -> &str;
}

impl Split for hand_split::Fields {
    fn split(&mut self, line: &str, delimiter: u8) -> bool {
        hand_split::Fields::split(self, line, delimiter).is_ok()
    }
    fn len(&self) -> usize {
        hand_split::Fields::len(self)
    }
    fn get(&self, i: usize) -> &str {
        hand_split::Fields::get(self, i)
    }
}

impl Split for fields::Fields {
    fn split(&mut self, line: &str, delimiter: u8) -> bool {
        fields::Fields::split(self, line, delimiter).is_ok()
    }
    fn len(&self) -> usize {
        fields::Fields::len(self)
    }
    fn get(&self, i: usize) -> &str {
        fields::Fields::get(self, i)
    }
}

/// Lines and fields only; returns (rows, a checksum of field lengths).
fn split_only<S: Split + Default>(path: &Path) -> (u64, u64) {
    let mut lines = LineReader::new(BufReader::new(File::open(path).expect("open the CSV")));
    let mut fields = S::default();
    let (mut rows, mut sum) = (0u64, 0u64);
    let mut delimiter = None;
    while let Some(line) = lines.next_line().expect("read the CSV") {
        let text = line.text.expect("generated CSV is UTF-8");
        let d = *delimiter.get_or_insert_with(|| sniff_delimiter(text));
        assert!(fields.split(text, d), "generated rows split");
        sum += (0..fields.len())
            .map(|i| fields.get(i).len() as u64)
            .sum::<u64>();
        rows += 1;
    }
    (rows - 1, sum)
}

fn cell<'a, S: Split>(f: &'a S, layout: &Layout, c: Column) -> Option<&'a str> {
    layout
        .position(c)
        .map(|i| f.get(i))
        .filter(|s| !s.is_empty())
}

fn price<S: Split>(f: &S, layout: &Layout, c: Column) -> f64 {
    cell(f, layout, c)
        .and_then(|t| t.parse().ok())
        .expect("a price")
}

/// Lines, fields and what the reader does with a row's cells; returns (rows, accepted).
fn rows<S: Split + Default>(path: &Path) -> (u64, u64) {
    let mut lines = LineReader::new(BufReader::new(File::open(path).expect("open the CSV")));
    let mut fields = S::default();
    let header = lines.next_line().expect("read").expect("a header");
    let header = header.text.expect("UTF-8");
    let d = sniff_delimiter(header);
    assert!(fields.split(header, d));
    let layout = Layout::from_header((0..fields.len()).map(|i| fields.get(i)), d).expect("seed");
    let (mut rows, mut accepted) = (0u64, 0u64);
    while let Some(line) = lines.next_line().expect("read the CSV") {
        let text = line.text.expect("generated CSV is UTF-8");
        assert!(fields.split(text, d) && fields.len() == layout.width);
        let symbol = normalise(cell(&fields, &layout, Column::Symbol).expect("symbol"));
        let date = cell(&fields, &layout, Column::Date).expect("date");
        let (date, time) = parse_date_time(date, DateOrder::Auto).expect("ISO date");
        let bar = Bar {
            symbol: symbol.into_owned(),
            date,
            time,
            open: price(&fields, &layout, Column::Open),
            high: price(&fields, &layout, Column::High),
            low: price(&fields, &layout, Column::Low),
            close: price(&fields, &layout, Column::Close),
            adj_close: Some(price(&fields, &layout, Column::AdjClose)),
            volume: cell(&fields, &layout, Column::Volume).map(|v| parse_volume(v).expect("vol")),
            close_usd: Some(price(&fields, &layout, Column::CloseUsd)),
        };
        accepted += u64::from(validate(&bar, None).is_ok());
        rows += 1;
    }
    (rows, accepted)
}

/// The real reader; returns (rows, accepted).
fn reader(path: &Path) -> (u64, u64) {
    let input = BufReader::new(File::open(path).expect("open the CSV"));
    let config = ReaderConfig {
        source: "bench.csv".into(),
        ..ReaderConfig::default()
    };
    let mut r = BarReader::new(input, config);
    let mut accepted = 0u64;
    while let Some(item) = r.next_item().expect("read the CSV") {
        accepted += u64::from(matches!(item, Item::Accepted(_)));
    }
    (r.stats().rows, accepted)
}

/// This thread's time on a CPU so far (Linux `schedstat`, nanoseconds): on a shared machine
/// it moves less than the wall clock when other work takes the cores.
fn cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Rows per wall-clock second and per CPU second (0 where unknown), and `f`'s result.
fn timed(f: impl FnOnce() -> (u64, u64)) -> ((f64, f64), (u64, u64)) {
    let (cpu, t) = (cpu_ns(), Instant::now());
    let out = f();
    let wall = t.elapsed().as_secs_f64();
    let cpu = match (cpu, cpu_ns()) {
        (Some(a), Some(b)) if b > a => out.0 as f64 / ((b - a) as f64 / 1e9),
        _ => 0.0,
    };
    ((out.0 as f64 / wall, cpu), out)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn main() {
    // `cargo bench` passes `--bench`; only our flags are read.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows_wanted = arg(&args, "--rows", 5_000_000);
    let repeats = arg(&args, "--repeats", 5).max(1);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("bench.csv");
    let gen = GenConfig {
        symbols: 100,
        days: (rows_wanted as usize).div_ceil(100),
        ..GenConfig::default()
    };
    let mut out = BufWriter::new(File::create(&path).expect("create the CSV"));
    let written = write_csv(&gen, &mut out).expect("write the CSV");
    out.flush().expect("write the CSV");
    drop(out);
    let bytes = std::fs::metadata(&path).expect("stat").len();
    println!(
        "csv_reader: {written} rows, {:.0} MB, seed layout, {repeats} repeats, medians",
        bytes as f64 / 1e6
    );
    // One untimed pass so that every timed pass reads from the page cache.
    split_only::<fields::Fields>(&path);

    type Pair = (
        &'static str,
        fn(&Path) -> (u64, u64),
        fn(&Path) -> (u64, u64),
    );
    let pairs: [Pair; 2] = [
        (
            "split",
            split_only::<hand_split::Fields>,
            split_only::<fields::Fields>,
        ),
        ("rows", rows::<hand_split::Fields>, rows::<fields::Fields>),
    ];
    for (what, hand, ours) in pairs {
        let (mut h, mut c) = (vec![], vec![]);
        for r in 0..repeats {
            // Alternate which parser goes first.
            let (first, second) = if r % 2 == 0 {
                (hand, ours)
            } else {
                (ours, hand)
            };
            let (a, out_a) = timed(|| first(&path));
            let (b, out_b) = timed(|| second(&path));
            assert_eq!(
                out_a, out_b,
                "{what}: both parsers see the same rows and fields"
            );
            assert_eq!(out_a.0, written, "{what}: every row");
            let (hr, cr) = if r % 2 == 0 { (a, b) } else { (b, a) };
            h.push(hr);
            c.push(cr);
        }
        for (clock, pick) in [("wall", 0), ("cpu", 1)] {
            let rate = |v: &[(f64, f64)]| median(v.iter().map(|x| [x.0, x.1][pick]).collect());
            let (hm, cm) = (rate(&h), rate(&c));
            println!(
                "{what:>6} {clock:>4}: hand {hm:>10.0} rows/s   csv-core {cm:>10.0} rows/s   \
                 ratio csv-core/hand {:.3}",
                cm / hm
            );
        }
    }
    let per: Vec<(f64, f64)> = (0..repeats)
        .map(|_| {
            let (rate, out) = timed(|| reader(&path));
            assert_eq!(out, (written, written), "reader: every row accepted");
            rate
        })
        .collect();
    println!(
        "reader wall: BarReader (csv-core) {:>10.0} rows/s; cpu {:>10.0} rows/s",
        median(per.iter().map(|x| x.0).collect()),
        median(per.iter().map(|x| x.1).collect())
    );
}
