//! Deterministic synthetic bars in the seed layout
//! (`Index,Date,Open,High,Low,Close,Adj Close,Volume,CloseUSD`).
//!
//! Tests and benchmarks need millions of rows without shipping them, and need the *same*
//! rows on every machine: the generator uses its own small PRNG (SplitMix64) rather than a
//! crate whose stream may change between versions. Prices follow a geometric random walk per
//! symbol; every generated row passes validation (high and low bracket open and close after
//! formatting, since rounding to six decimals is monotone).

use crate::date::iso_date;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use std::io::{self, Write};

/// Row order of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// All symbols for one day, then the next day: what a live feed looks like.
    #[default]
    ByDate,
    /// All days of one symbol, then the next symbol: what the seed file looks like.
    BySymbol,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Number of symbols.
    pub symbols: usize,
    /// Number of trading days (weekdays) per symbol.
    pub days: usize,
    /// First trading day (moved forward to a weekday).
    pub start: NaiveDate,
    /// PRNG seed; the same seed gives the same file.
    pub seed: u64,
    /// Row order.
    pub order: Order,
}

impl Default for GenConfig {
    fn default() -> Self {
        Self {
            symbols: 10,
            days: 250,
            start: NaiveDate::from_ymd_opt(2000, 1, 3).expect("valid date"),
            seed: 42,
            order: Order::ByDate,
        }
    }
}

/// SplitMix64: tiny, fast, and fixed forever.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

struct Walk {
    symbol: String,
    close: f64,
    drift: f64,
    vol: f64,
    fx: f64,
    base_volume: f64,
    rng: Rng,
}

impl Walk {
    fn new(i: usize, seed: u64) -> Walk {
        let mut rng = Rng::new(seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        Walk {
            symbol: format!("S{i:05}"),
            close: 10.0 + rng.unit() * 4990.0,
            drift: 0.0002 + rng.normal() * 0.0002,
            vol: 0.005 + rng.unit() * 0.025,
            fx: [1.0, 0.13, 0.0075, 0.15, 1.1][i % 5],
            base_volume: 1e5 + rng.unit() * 5e7,
            rng,
        }
    }

    fn write_row(&mut self, date: NaiveDate, line: &mut String) {
        let r = &mut self.rng;
        let open = self.close * (1.0 + r.normal() * self.vol * 0.2);
        let close = open * (self.drift + r.normal() * self.vol).exp();
        let high = open.max(close) * (1.0 + r.unit() * self.vol);
        let low = open.min(close) * (1.0 - r.unit() * self.vol * 0.9);
        // About one day in 150 is a news day with 3–8× the usual volume, as real volume
        // series have (and as the volume-anomaly insight needs to find something).
        let news = if r.unit() < 1.0 / 150.0 {
            3.0 + 5.0 * r.unit()
        } else {
            1.0
        };
        let volume = (self.base_volume * (0.5 + r.unit()) * news).round();
        self.close = close;
        use std::fmt::Write as _;
        line.clear();
        line.push_str(&self.symbol);
        line.push(',');
        iso_date(date, line);
        let _ = writeln!(
            line,
            ",{open:.6},{high:.6},{low:.6},{close:.6},{close:.6},{volume:.1},{}",
            close * self.fx
        );
    }
}

fn trading_days(start: NaiveDate, n: usize) -> impl Iterator<Item = NaiveDate> {
    let mut d = start;
    std::iter::from_fn(move || {
        while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            d += Duration::days(1);
        }
        let out = d;
        d += Duration::days(1);
        Some(out)
    })
    .take(n)
}

/// The seed layout's header line.
pub const SEED_HEADER: &str = "Index,Date,Open,High,Low,Close,Adj Close,Volume,CloseUSD";

/// Writes the header and `symbols × days` rows; returns the number of rows written.
pub fn write_csv(config: &GenConfig, out: impl Write) -> io::Result<u64> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    writeln!(out, "{SEED_HEADER}")?;
    let mut walks: Vec<Walk> = (0..config.symbols)
        .map(|i| Walk::new(i, config.seed))
        .collect();
    let mut line = String::with_capacity(128);
    let mut rows = 0u64;
    match config.order {
        Order::ByDate => {
            for date in trading_days(config.start, config.days) {
                for w in &mut walks {
                    w.write_row(date, &mut line);
                    out.write_all(line.as_bytes())?;
                    rows += 1;
                }
            }
        }
        Order::BySymbol => {
            for w in &mut walks {
                for date in trading_days(config.start, config.days) {
                    w.write_row(date, &mut line);
                    out.write_all(line.as_bytes())?;
                    rows += 1;
                }
            }
        }
    }
    out.flush()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{read_all, Item, ReaderConfig};

    fn generate(c: &GenConfig) -> Vec<u8> {
        let mut v = vec![];
        write_csv(c, &mut v).unwrap();
        v
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let c = GenConfig::default();
        assert_eq!(generate(&c), generate(&c));
        let other = GenConfig {
            seed: 7,
            ..c.clone()
        };
        assert_ne!(generate(&c), generate(&other));
    }

    #[test]
    fn every_generated_row_is_valid_and_ordered() {
        let c = GenConfig {
            symbols: 7,
            days: 300,
            ..GenConfig::default()
        };
        let bytes = generate(&c);
        let (items, stats) = read_all(&bytes[..], ReaderConfig::default()).unwrap();
        assert_eq!(stats.rows, 2100);
        assert_eq!(stats.accepted, 2100, "{:?}", stats.rejects_by_code);
        let Item::Accepted(first) = &items[0] else {
            panic!()
        };
        let Item::Accepted(second) = &items[1] else {
            panic!()
        };
        assert_eq!(
            first.bar.date, second.bar.date,
            "by-date order interleaves symbols"
        );
        assert_ne!(first.bar.symbol, second.bar.symbol);
        // 2000-01-03 is a Monday; no weekend dates appear.
        for item in &items {
            let Item::Accepted(a) = item else { panic!() };
            assert!(!matches!(a.bar.date.weekday(), Weekday::Sat | Weekday::Sun));
        }
    }

    #[test]
    fn by_symbol_order() {
        let c = GenConfig {
            symbols: 2,
            days: 3,
            order: Order::BySymbol,
            ..GenConfig::default()
        };
        let text = String::from_utf8(generate(&c)).unwrap();
        let syms: Vec<&str> = text.lines().skip(1).map(|l| &l[..6]).collect();
        assert_eq!(
            syms,
            ["S00000", "S00000", "S00000", "S00001", "S00001", "S00001"]
        );
    }
}
