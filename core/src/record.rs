//! The record every stage shares: one open/high/low/close/volume bar for one symbol.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// One bar: a symbol's prices over a trading day (or, with `time`, an intraday interval).
///
/// Fields a source may lack are `Option`s rather than zeros, so "no volume reported" and
/// "zero volume" stay different all the way to the lake.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Ticker or index code as written in the source (`HSI`, `000001.SS`, `AAPL`).
    pub symbol: String,
    /// Trading day.
    pub date: NaiveDate,
    /// Start of the interval for intraday bars; `None` for daily bars.
    pub time: Option<NaiveTime>,
    /// First traded price.
    pub open: f64,
    /// Highest traded price.
    pub high: f64,
    /// Lowest traded price.
    pub low: f64,
    /// Last traded price.
    pub close: f64,
    /// Close adjusted for splits and dividends, when the source gives it.
    pub adj_close: Option<f64>,
    /// Units traded, when the source gives it. Whole units: a fractional value is rejected.
    pub volume: Option<u64>,
    /// The seed data set's close converted to US dollars (`CloseUSD`), when present.
    pub close_usd: Option<f64>,
}

impl Bar {
    /// The bar's timestamp: midnight of `date` for daily bars.
    pub fn timestamp(&self) -> NaiveDateTime {
        self.date.and_time(self.time.unwrap_or(NaiveTime::MIN))
    }
}
