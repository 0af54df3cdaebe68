//! Deterministic synthetic bars in the seed layout
//! (`Index,Date,Open,High,Low,Close,Adj Close,Volume,CloseUSD`), or intraday bars in the same
//! layout with a `Time` column after the date ([`write_intraday_csv`]), which the reader takes
//! as the start of each bar's interval.
//!
//! Tests and benchmarks need millions of rows without shipping them, and need the *same*
//! rows on every machine: the generator uses its own small PRNG (SplitMix64) rather than a
//! crate whose stream may change between versions. Prices follow a geometric random walk per
//! symbol; every generated row passes validation (high and low bracket open and close after
//! formatting, since rounding to six decimals is monotone).

use crate::date::iso_date;
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Timelike, Weekday};
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

/// The bars of one trading day, for [`write_intraday_csv`]: `bars_per_day` bars of
/// `interval_minutes` each, the first starting at `first_bar`.
///
/// A separate value rather than a field of [`GenConfig`], so that code building a
/// `GenConfig` literal (the producer's `generate` command) keeps compiling and keeps writing
/// daily bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intraday {
    /// Bars per symbol and trading day (390 one-minute bars is a US session).
    pub bars_per_day: u32,
    /// Length of each bar, in minutes.
    pub interval_minutes: u32,
    /// Start of the day's first bar (exchange-local wall time, as the reader keeps it).
    pub first_bar: NaiveTime,
}

impl Intraday {
    /// A US equity session of one-minute bars: 09:30 to 16:00, 390 bars.
    pub fn us_minutes() -> Self {
        Intraday {
            bars_per_day: 390,
            interval_minutes: 1,
            first_bar: NaiveTime::from_hms_opt(9, 30, 0).expect("valid time"),
        }
    }

    /// The start of every bar of a day, in order; an error when there are none, or when a bar
    /// would start at midnight (the reader takes a midnight time for a daily bar) or on the
    /// next day.
    pub fn times(&self) -> io::Result<Vec<NaiveTime>> {
        let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
        if self.bars_per_day == 0 || self.interval_minutes == 0 {
            return Err(invalid(format!(
                "intraday bars: {} bars of {} minutes is no bar at all",
                self.bars_per_day, self.interval_minutes
            )));
        }
        let first = i64::from(self.first_bar.num_seconds_from_midnight());
        let last = first + i64::from(self.bars_per_day - 1) * i64::from(self.interval_minutes) * 60;
        if first == 0 || last >= 86_400 {
            return Err(invalid(format!(
                "intraday bars: {} bars of {} minutes from {} must start after midnight and \
                 end within the day",
                self.bars_per_day, self.interval_minutes, self.first_bar
            )));
        }
        Ok((0..self.bars_per_day)
            .map(|k| {
                self.first_bar + Duration::minutes(i64::from(k) * i64::from(self.interval_minutes))
            })
            .collect())
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

    /// One bar: `date`, with `time` for an intraday bar. A day's walk step, spread over
    /// `per_day` bars: drift and variance per bar are the day's over `per_day`, volume the
    /// day's over `per_day`. `news` is the day's volume multiple when the caller drew it
    /// once for the whole day (intraday), else drawn here for this bar. With `per_day` 1 and
    /// no time, the draws and the text are those of the daily generator before intraday bars
    /// existed, so a seed still gives the same daily file.
    fn write_row(
        &mut self,
        date: NaiveDate,
        time: Option<NaiveTime>,
        per_day: u32,
        news: Option<f64>,
        line: &mut String,
    ) {
        let per_day = f64::from(per_day);
        let vol = self.vol / per_day.sqrt();
        let drift = self.drift / per_day;
        let r = &mut self.rng;
        let open = self.close * (1.0 + r.normal() * vol * 0.2);
        let close = open * (drift + r.normal() * vol).exp();
        let high = open.max(close) * (1.0 + r.unit() * vol);
        let low = open.min(close) * (1.0 - r.unit() * vol * 0.9);
        let news = news.unwrap_or_else(|| news_multiple(r));
        let volume = (self.base_volume / per_day * (0.5 + r.unit()) * news).round();
        self.close = close;
        use std::fmt::Write as _;
        line.clear();
        line.push_str(&self.symbol);
        line.push(',');
        iso_date(date, line);
        if let Some(t) = time {
            let _ = write!(line, ",{:02}:{:02}", t.hour(), t.minute());
        }
        let _ = writeln!(
            line,
            ",{open:.6},{high:.6},{low:.6},{close:.6},{close:.6},{volume:.1},{}",
            close * self.fx
        );
    }
}

/// About one day in 150 is a news day with 3–8× the usual volume, as real volume series have
/// (and as the volume-anomaly insight needs to find something); 1 on other days.
fn news_multiple(r: &mut Rng) -> f64 {
    if r.unit() < 1.0 / 150.0 {
        3.0 + 5.0 * r.unit()
    } else {
        1.0
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

/// The intraday layout's header line: the seed layout with a `Time` column.
pub const INTRADAY_HEADER: &str = "Index,Date,Time,Open,High,Low,Close,Adj Close,Volume,CloseUSD";

/// Writes the header and `symbols × days` daily rows; returns the number of rows written.
pub fn write_csv(config: &GenConfig, out: impl Write) -> io::Result<u64> {
    write_bars(config, None, out)
}

/// Writes the header ([`INTRADAY_HEADER`]) and `symbols × days × bars_per_day` intraday rows;
/// returns the number of rows written. In [`Order::ByDate`] every symbol's bar of one
/// interval comes before the next interval (a live feed); in [`Order::BySymbol`] one
/// symbol's every bar, day after day. Each symbol's walk has the daily generator's drift and
/// volatility per day, spread over the day's bars, and a news day raises every bar's volume.
pub fn write_intraday_csv(config: &GenConfig, day: &Intraday, out: impl Write) -> io::Result<u64> {
    write_bars(config, Some(day), out)
}

fn write_bars(config: &GenConfig, intraday: Option<&Intraday>, out: impl Write) -> io::Result<u64> {
    // A daily bar is a day of one bar without a time.
    let times: Vec<Option<NaiveTime>> = match intraday {
        Some(day) => day.times()?.into_iter().map(Some).collect(),
        None => vec![None],
    };
    let per_day = times.len() as u32;
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    writeln!(
        out,
        "{}",
        if intraday.is_some() {
            INTRADAY_HEADER
        } else {
            SEED_HEADER
        }
    )?;
    let mut walks: Vec<Walk> = (0..config.symbols)
        .map(|i| Walk::new(i, config.seed))
        .collect();
    // Intraday, the news multiple is drawn once per symbol and day, at its first bar.
    let mut news: Vec<Option<f64>> = vec![None; walks.len()];
    let mut line = String::with_capacity(128);
    let mut rows = 0u64;
    let mut bar = |w: &mut Walk, news: &mut Option<f64>, date, k: usize, out: &mut dyn Write| {
        if intraday.is_some() && k == 0 {
            *news = Some(news_multiple(&mut w.rng));
        }
        w.write_row(date, times[k], per_day, *news, &mut line);
        rows += 1;
        out.write_all(line.as_bytes())
    };
    match config.order {
        Order::ByDate => {
            for date in trading_days(config.start, config.days) {
                for k in 0..times.len() {
                    for (w, n) in walks.iter_mut().zip(&mut news) {
                        bar(w, n, date, k, &mut out)?;
                    }
                }
            }
        }
        Order::BySymbol => {
            for (w, n) in walks.iter_mut().zip(&mut news) {
                for date in trading_days(config.start, config.days) {
                    for k in 0..times.len() {
                        bar(w, n, date, k, &mut out)?;
                    }
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

    /// The bars of one intraday CSV, read back by the project's reader.
    fn read_intraday(c: &GenConfig, day: &Intraday) -> Vec<crate::record::Bar> {
        let mut v = vec![];
        let written = write_intraday_csv(c, day, &mut v).unwrap();
        let (items, stats) = read_all(&v[..], ReaderConfig::default()).unwrap();
        assert_eq!(stats.rows, written);
        assert_eq!(stats.accepted, written, "{:?}", stats.rejects_by_code);
        items
            .into_iter()
            .map(|i| match i {
                Item::Accepted(a) => a.bar,
                other => panic!("not a bar: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn intraday_rows_read_back_as_minute_bars_of_each_symbol_and_day() {
        let c = GenConfig {
            symbols: 3,
            days: 4,
            // A Friday: the third and fourth trading days are after a weekend.
            start: NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(),
            ..GenConfig::default()
        };
        let bars = read_intraday(&c, &Intraday::us_minutes());
        assert_eq!(bars.len(), 3 * 4 * 390);
        let days = [(3, 1), (3, 4), (3, 5), (3, 6)]
            .map(|(m, d)| NaiveDate::from_ymd_opt(2024, m, d).unwrap());
        let open = NaiveTime::from_hms_opt(9, 30, 0).unwrap();
        // By date: interval after interval, every symbol in each.
        for (i, b) in bars.iter().enumerate() {
            let (day, minute, symbol) = (i / (390 * 3), i / 3 % 390, i % 3);
            assert_eq!(b.symbol, format!("S{symbol:05}"), "row {i}");
            assert_eq!(b.date, days[day], "row {i}");
            assert_eq!(
                b.time,
                Some(open + Duration::minutes(minute as i64)),
                "row {i}"
            );
        }
        assert_eq!(
            bars.last().unwrap().timestamp(),
            days[3].and_hms_opt(15, 59, 0).unwrap()
        );
        // Each bar opens near the previous bar's close: one walk through the day, not a
        // daily bar repeated.
        let s0: Vec<_> = bars.iter().filter(|b| b.symbol == "S00000").collect();
        let jumps = s0
            .windows(2)
            .map(|w| (w[1].open / w[0].close - 1.0).abs())
            .fold(0.0, f64::max);
        assert!(jumps < 0.01, "largest open-to-previous-close gap {jumps}");
    }

    #[test]
    fn intraday_by_symbol_and_other_intervals() {
        let c = GenConfig {
            symbols: 2,
            days: 2,
            order: Order::BySymbol,
            ..GenConfig::default()
        };
        let hourly = Intraday {
            bars_per_day: 7,
            interval_minutes: 60,
            first_bar: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        };
        let bars = read_intraday(&c, &hourly);
        assert_eq!(bars.len(), 2 * 2 * 7);
        let first_symbol: Vec<_> = bars[..14].iter().map(|b| b.symbol.as_str()).collect();
        assert_eq!(first_symbol, ["S00000"; 14]);
        let hours: Vec<u32> = bars[..7].iter().map(|b| b.time.unwrap().hour()).collect();
        assert_eq!(hours, [10, 11, 12, 13, 14, 15, 16]);
        assert_eq!(bars[7].date, c.start + Duration::days(1));
    }

    #[test]
    fn intraday_days_that_leave_the_day_are_refused() {
        let c = GenConfig::default();
        let at = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        for (bars, minutes, first) in [
            (390, 1, at(0)),
            (25, 60, at(1)),
            (0, 1, at(9)),
            (1, 0, at(9)),
        ] {
            let day = Intraday {
                bars_per_day: bars,
                interval_minutes: minutes,
                first_bar: first,
            };
            let err = write_intraday_csv(&c, &day, &mut vec![]).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{day:?}: {err}");
        }
        // The last bar may start late in the day: 23:00 + 59 minutes.
        let late = Intraday {
            bars_per_day: 60,
            interval_minutes: 1,
            first_bar: at(23),
        };
        let one_day = GenConfig {
            symbols: 2,
            days: 1,
            ..c
        };
        assert_eq!(
            write_intraday_csv(&one_day, &late, &mut vec![]).unwrap(),
            2 * 60
        );
    }

    #[test]
    fn daily_and_intraday_files_differ_only_where_they_should() {
        // The daily file keeps the seed layout; the intraday one adds a Time column.
        let c = GenConfig {
            symbols: 1,
            days: 1,
            ..GenConfig::default()
        };
        let daily = String::from_utf8(generate(&c)).unwrap();
        assert_eq!(daily.lines().next(), Some(SEED_HEADER));
        assert_eq!(daily.lines().count(), 2);
        let mut v = vec![];
        write_intraday_csv(&c, &Intraday::us_minutes(), &mut v).unwrap();
        let intraday = String::from_utf8(v).unwrap();
        assert_eq!(intraday.lines().next(), Some(INTRADAY_HEADER));
        assert!(intraday
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("S00000,2000-01-03,09:30,"));
    }
}
