//! What makes a row acceptable, and what is merely worth counting.
//!
//! A rejected row is never repaired: the [`Problem`] says exactly what was wrong so the user
//! can fix the source. Warnings ([`Warning`]) flag rows that are legal but unusual (the seed
//! data has no volume before 2001, and flat early bars) and are counted, not rejected.

use crate::date::DateError;
use crate::layout::Column;
use crate::record::Bar;
use crate::symbols::Symbols;
use std::fmt;

/// Why a row was rejected.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The line is not valid UTF-8.
    NotUtf8,
    /// A quoted field is not closed, or text follows a closing quote.
    BrokenQuotes,
    /// The row has a different number of fields than the header.
    FieldCount {
        /// Fields in the header.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// A required field is empty.
    Missing(Column),
    /// A numeric field does not parse as a number.
    BadNumber {
        /// Which field.
        column: Column,
        /// The cell as written.
        text: String,
    },
    /// The date, date-time or time cell could not be read.
    BadDate {
        /// [`Column::Date`] or [`Column::Time`].
        column: Column,
        /// The cell as written.
        text: String,
        /// What was wrong with it.
        error: DateError,
    },
    /// A price is NaN or infinite.
    NotFinite(Column),
    /// A price is zero or negative.
    NotPositive {
        /// Which field.
        column: Column,
        /// The value.
        value: f64,
    },
    /// Low is above high.
    LowAboveHigh {
        /// Low price.
        low: f64,
        /// High price.
        high: f64,
    },
    /// Open or close lies outside [low, high].
    OutsideRange {
        /// Open or close.
        column: Column,
        /// Its value.
        value: f64,
        /// Low price.
        low: f64,
        /// High price.
        high: f64,
    },
    /// Volume below zero.
    NegativeVolume(f64),
    /// Volume with a fractional part (volumes are whole units here).
    FractionalVolume(f64),
    /// The symbol cell is empty and the file gives no default.
    MissingSymbol,
    /// The symbol is not in the known-symbols list.
    UnknownSymbol(String),
}

impl Problem {
    /// A stable short code, used to count rejects by kind and to filter rejects files.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::NotUtf8 => "not_utf8",
            Problem::BrokenQuotes => "broken_quotes",
            Problem::FieldCount { .. } => "field_count",
            Problem::Missing(_) => "missing_field",
            Problem::BadNumber { .. } => "bad_number",
            Problem::BadDate { .. } => "bad_date",
            Problem::NotFinite(_) => "not_finite",
            Problem::NotPositive { .. } => "not_positive",
            Problem::LowAboveHigh { .. } => "low_above_high",
            Problem::OutsideRange { .. } => "outside_range",
            Problem::NegativeVolume(_) => "negative_volume",
            Problem::FractionalVolume(_) => "fractional_volume",
            Problem::MissingSymbol => "missing_symbol",
            Problem::UnknownSymbol(_) => "unknown_symbol",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotUtf8 => write!(f, "line is not valid UTF-8"),
            Problem::BrokenQuotes => write!(f, "unbalanced or misplaced quote"),
            Problem::FieldCount { expected, found } => {
                write!(
                    f,
                    "expected {expected} fields as in the header, found {found}"
                )
            }
            Problem::Missing(c) => write!(f, "{c} is empty"),
            Problem::BadNumber { column, text } => write!(f, "{column} {text:?} is not a number"),
            Problem::BadDate {
                column,
                text,
                error,
            } => write!(f, "{column} {text:?}: {error}"),
            Problem::NotFinite(c) => write!(f, "{c} is not a finite number"),
            Problem::NotPositive { column, value } => {
                write!(f, "{column} {value} is not a positive price")
            }
            Problem::LowAboveHigh { low, high } => write!(f, "low {low} is above high {high}"),
            Problem::OutsideRange {
                column,
                value,
                low,
                high,
            } => write!(f, "{column} {value} is outside low..high ({low}..{high})"),
            Problem::NegativeVolume(v) => write!(f, "volume {v} is negative"),
            Problem::FractionalVolume(v) => write!(f, "volume {v} is not a whole number"),
            Problem::MissingSymbol => write!(f, "symbol is empty"),
            Problem::UnknownSymbol(s) => write!(f, "symbol {s:?} is not in the known-symbols list"),
        }
    }
}

/// Legal but notable features of an accepted row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Warning {
    /// Volume present and zero.
    ZeroVolume,
    /// The source has no volume for this row.
    NoVolume,
    /// Open, high, low and close are all equal (often a placeholder in old data).
    FlatBar,
}

impl Warning {
    /// Every warning, for iterating a [`Warnings`] set.
    pub const ALL: [Warning; 3] = [Warning::ZeroVolume, Warning::NoVolume, Warning::FlatBar];

    /// Stable short code used in summaries.
    pub fn code(self) -> &'static str {
        match self {
            Warning::ZeroVolume => "zero_volume",
            Warning::NoVolume => "no_volume",
            Warning::FlatBar => "flat_bar",
        }
    }
}

/// A small set of warnings (a bit per [`Warning`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Warnings(u8);

impl Warnings {
    /// Adds a warning.
    pub fn insert(&mut self, w: Warning) {
        self.0 |= 1 << w as u8;
    }

    /// True if `w` is set.
    pub fn contains(self, w: Warning) -> bool {
        self.0 & (1 << w as u8) != 0
    }

    /// The warnings set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Warning> {
        Warning::ALL.into_iter().filter(move |w| self.contains(*w))
    }
}

fn price(column: Column, value: f64) -> Result<(), Problem> {
    if !value.is_finite() {
        Err(Problem::NotFinite(column))
    } else if value <= 0.0 {
        Err(Problem::NotPositive { column, value })
    } else {
        Ok(())
    }
}

/// Checks a parsed bar against the rules; returns its warnings when it passes.
pub fn validate(bar: &Bar, known: Option<&Symbols>) -> Result<Warnings, Problem> {
    if bar.symbol.is_empty() {
        return Err(Problem::MissingSymbol);
    }
    if let Some(known) = known {
        if !known.contains(&bar.symbol) {
            return Err(Problem::UnknownSymbol(bar.symbol.clone()));
        }
    }
    price(Column::Open, bar.open)?;
    price(Column::High, bar.high)?;
    price(Column::Low, bar.low)?;
    price(Column::Close, bar.close)?;
    if let Some(v) = bar.adj_close {
        price(Column::AdjClose, v)?;
    }
    if let Some(v) = bar.close_usd {
        price(Column::CloseUsd, v)?;
    }
    if bar.low > bar.high {
        return Err(Problem::LowAboveHigh {
            low: bar.low,
            high: bar.high,
        });
    }
    for (column, value) in [(Column::Open, bar.open), (Column::Close, bar.close)] {
        if value < bar.low || value > bar.high {
            return Err(Problem::OutsideRange {
                column,
                value,
                low: bar.low,
                high: bar.high,
            });
        }
    }
    let mut w = Warnings::default();
    match bar.volume {
        None => w.insert(Warning::NoVolume),
        Some(0) => w.insert(Warning::ZeroVolume),
        Some(_) => {}
    }
    if bar.open == bar.high && bar.high == bar.low && bar.low == bar.close {
        w.insert(Warning::FlatBar);
    }
    Ok(w)
}

/// Reads a volume cell: a whole, non-negative number (`0.0` and `1.5e6` are whole).
pub fn parse_volume(text: &str) -> Result<u64, Problem> {
    if let Ok(v) = text.parse::<u64>() {
        return Ok(v);
    }
    let v: f64 = text.parse().map_err(|_| Problem::BadNumber {
        column: Column::Volume,
        text: text.to_string(),
    })?;
    if !v.is_finite() {
        Err(Problem::NotFinite(Column::Volume))
    } else if v < 0.0 {
        Err(Problem::NegativeVolume(v))
    } else if v.fract() != 0.0 {
        Err(Problem::FractionalVolume(v))
    } else if v >= u64::MAX as f64 {
        Err(Problem::BadNumber {
            column: Column::Volume,
            text: text.to_string(),
        })
    } else {
        Ok(v as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn bar() -> Bar {
        Bar {
            symbol: "HSI".into(),
            date: NaiveDate::from_ymd_opt(2001, 7, 9).unwrap(),
            time: None,
            open: 10.0,
            high: 12.0,
            low: 9.0,
            close: 11.0,
            adj_close: Some(11.0),
            volume: Some(100),
            close_usd: Some(1.43),
        }
    }

    #[test]
    fn a_good_bar_passes_without_warnings() {
        assert_eq!(validate(&bar(), None), Ok(Warnings::default()));
    }

    #[test]
    fn each_rule() {
        let check = |f: fn(&mut Bar)| {
            let mut b = bar();
            f(&mut b);
            validate(&b, None).unwrap_err().code()
        };
        assert_eq!(check(|b| b.open = f64::NAN), "not_finite");
        assert_eq!(check(|b| b.high = f64::INFINITY), "not_finite");
        assert_eq!(check(|b| b.low = 0.0), "not_positive");
        assert_eq!(check(|b| b.close = -1.0), "not_positive");
        assert_eq!(check(|b| b.adj_close = Some(-3.0)), "not_positive");
        assert_eq!(check(|b| b.close_usd = Some(f64::NAN)), "not_finite");
        assert_eq!(check(|b| b.low = 13.0), "low_above_high");
        assert_eq!(check(|b| b.open = 12.5), "outside_range");
        assert_eq!(check(|b| b.close = 8.5), "outside_range");
        assert_eq!(check(|b| b.symbol.clear()), "missing_symbol");
    }

    #[test]
    fn outside_range_message_names_the_field() {
        let mut b = bar();
        b.close = 8.5;
        assert_eq!(
            validate(&b, None).unwrap_err().to_string(),
            "close 8.5 is outside low..high (9..12)"
        );
    }

    #[test]
    fn known_symbols() {
        let known = Symbols::from_iter(["HSI", "N225"]);
        assert!(validate(&bar(), Some(&known)).is_ok());
        let mut b = bar();
        b.symbol = "XXX".into();
        assert_eq!(
            validate(&b, Some(&known)),
            Err(Problem::UnknownSymbol("XXX".into()))
        );
    }

    #[test]
    fn warnings_are_counted_not_rejected() {
        let mut b = bar();
        b.volume = Some(0);
        b.open = 9.0;
        b.high = 9.0;
        b.close = 9.0;
        let w = validate(&b, None).unwrap();
        assert_eq!(
            w.iter().collect::<Vec<_>>(),
            [Warning::ZeroVolume, Warning::FlatBar]
        );
        b.volume = None;
        assert!(validate(&b, None).unwrap().contains(Warning::NoVolume));
    }

    #[test]
    fn volumes() {
        assert_eq!(parse_volume("0.0"), Ok(0));
        assert_eq!(parse_volume("1234"), Ok(1234));
        assert_eq!(parse_volume("1.5e6"), Ok(1_500_000));
        assert_eq!(parse_volume("-5").unwrap_err().code(), "negative_volume");
        assert_eq!(
            parse_volume("10.5").unwrap_err().code(),
            "fractional_volume"
        );
        assert_eq!(parse_volume("lots").unwrap_err().code(), "bad_number");
        assert_eq!(parse_volume("NaN").unwrap_err().code(), "not_finite");
    }
}
