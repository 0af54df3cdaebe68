//! Dates and times as real exports write them.
//!
//! ISO (`2020-01-31`), compact (`20200131`), slashed or dotted European and US forms
//! (`31/01/2020`, `01/31/2020`, `31.01.2020`) and month names (`31-Jan-2020`, `Jan 31, 2020`)
//! are all accepted. Numeric day/month forms are ambiguous when both parts are ≤ 12, so the
//! order is an explicit setting ([`DateOrder`]); in `Auto` mode an ambiguous date is rejected
//! rather than guessed, because a guess silently moves a bar to another day. A whole file's
//! order is decided from its unambiguous dates in [`crate::date_order`], which then reads the
//! file with `Dmy` or `Mdy`.

use chrono::{NaiveDate, NaiveTime};
use std::fmt;
use std::str::FromStr;

/// How to read numeric dates whose first two parts could be either day or month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// Accept only unambiguous dates (year first, a part above 12, or a month name).
    #[default]
    Auto,
    /// Day first: `31/01/2020`.
    Dmy,
    /// Month first: `01/31/2020`.
    Mdy,
}

impl FromStr for DateOrder {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "dmy" | "day-first" => Ok(Self::Dmy),
            "mdy" | "month-first" => Ok(Self::Mdy),
            other => Err(format!(
                "unknown date order {other:?}: use auto, dmy or mdy"
            )),
        }
    }
}

/// Why a date or time text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// Not any of the supported shapes.
    Unrecognised,
    /// Both leading parts are ≤ 12 and no order was given.
    Ambiguous,
    /// Right shape, but no such day (e.g. 2021-02-30).
    NoSuchDay,
    /// The date is a real day only in the other day/month order (`01/31/2020` read day
    /// first): it contradicts the order the file is read with.
    WrongOrder {
        /// The order the date was read with ([`DateOrder::Dmy`] or [`DateOrder::Mdy`]).
        read_as: DateOrder,
    },
    /// A two-digit year: which century is a guess.
    TwoDigitYear,
    /// A time with a UTC offset other than zero; bars carry exchange-local wall time.
    Offset,
    /// A time that is not `HH:MM[:SS[.fff]]`.
    BadTime,
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unrecognised => "unrecognised date format",
            Self::Ambiguous => "ambiguous day/month order (set the date order to dmy or mdy)",
            Self::NoSuchDay => "no such calendar day",
            Self::WrongOrder {
                read_as: DateOrder::Mdy,
            } => "is day-first (its first part is above 12), but the file's dates are read month-first",
            Self::WrongOrder { .. } => {
                "is month-first (its second part is above 12), but the file's dates are read day-first"
            }
            Self::TwoDigitYear => "two-digit year",
            Self::Offset => "time zone offsets other than UTC are not supported",
            Self::BadTime => "unrecognised time format",
        })
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_from_name(s: &str) -> Option<u32> {
    if s.len() < 3 || !s.is_ascii() {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let i = MONTHS.iter().position(|m| lower.starts_with(m))?;
    // Accept "Jan", "January", "Sept" but not "Janx".
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ][i];
    (full.starts_with(lower.as_str()) || lower == "sept").then_some(i as u32 + 1)
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn ymd(y: &str, m: u32, d: u32) -> Result<NaiveDate, DateError> {
    if y.len() != 4 {
        return Err(if y.len() == 2 {
            DateError::TwoDigitYear
        } else {
            DateError::Unrecognised
        });
    }
    let y = num(y).ok_or(DateError::Unrecognised)? as i32;
    NaiveDate::from_ymd_opt(y, m, d).ok_or(DateError::NoSuchDay)
}

/// Parses a date alone (no time part).
pub fn parse_date(text: &str, order: DateOrder) -> Result<NaiveDate, DateError> {
    let s = text.trim();
    // Compact YYYYMMDD.
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        let m = num(&s[4..6]).unwrap_or(0);
        let d = num(&s[6..8]).unwrap_or(0);
        return ymd(&s[0..4], m, d);
    }
    // "Jan 31, 2020" / "January 31 2020".
    if s.as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic())
    {
        let parts: Vec<&str> = s.split([' ', ',']).filter(|p| !p.is_empty()).collect();
        if let [mon, d, y] = parts[..] {
            let m = month_from_name(mon).ok_or(DateError::Unrecognised)?;
            let d = num(d).ok_or(DateError::Unrecognised)?;
            return ymd(y, m, d);
        }
        return Err(DateError::Unrecognised);
    }
    let sep = s
        .bytes()
        .find(|b| matches!(b, b'-' | b'/' | b'.' | b' '))
        .ok_or(DateError::Unrecognised)?;
    let parts: Vec<&str> = s.split(sep as char).collect();
    let [a, b, c] = parts[..] else {
        return Err(DateError::Unrecognised);
    };
    if a.len() == 4 {
        // Year first is never day-last in practice: YYYY-MM-DD.
        let m = num(b).ok_or(DateError::Unrecognised)?;
        let d = num(c).ok_or(DateError::Unrecognised)?;
        return ymd(a, m, d);
    }
    let first = num(a).ok_or(DateError::Unrecognised)?;
    if let Some(m) = month_from_name(b) {
        // 31-Jan-2020, 31 Jan 2020.
        return ymd(c, m, first);
    }
    let second = num(b).ok_or(DateError::Unrecognised)?;
    if c.len() == 2 {
        return Err(DateError::TwoDigitYear);
    }
    let (d, m) = match order {
        DateOrder::Dmy | DateOrder::Mdy => {
            let (d, m) = if order == DateOrder::Dmy {
                (first, second)
            } else {
                (second, first)
            };
            // A month above 12 whose swap is a real day: the text proves the other order.
            if m > 12 && d <= 12 && ymd(c, d, m).is_ok() {
                return Err(DateError::WrongOrder { read_as: order });
            }
            (d, m)
        }
        DateOrder::Auto => match (first > 12, second > 12) {
            (true, false) => (first, second),
            (false, true) => (second, first),
            (false, false) if first == second => (first, second),
            (false, false) => return Err(DateError::Ambiguous),
            (true, true) => return Err(DateError::NoSuchDay),
        },
    };
    ymd(c, m, d)
}

/// Parses `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff`, with an optional `Z` or `+00:00` suffix.
pub fn parse_time(text: &str) -> Result<NaiveTime, DateError> {
    let mut s = text.trim();
    if let Some(rest) = s.strip_suffix('Z') {
        s = rest;
    } else if s.len() > 6 {
        let (head, tail) = s.split_at(s.len() - 6);
        let b = tail.as_bytes();
        if (b[0] == b'+' || b[0] == b'-') && b[3] == b':' {
            if tail != "+00:00" && tail != "-00:00" {
                return Err(DateError::Offset);
            }
            s = head;
        }
    }
    for fmt in ["%H:%M:%S%.f", "%H:%M"] {
        if let Ok(t) = NaiveTime::parse_from_str(s, fmt) {
            return Ok(t);
        }
    }
    Err(DateError::BadTime)
}

/// Parses a date that may carry a time (`2020-01-31 09:30:00`, `2020-01-31T09:30`).
///
/// Returns `None` for the time when the text has none, or when it is exactly midnight written
/// as part of a daily export (`2020-01-31 00:00:00`), which some tools append to every date.
pub fn parse_date_time(
    text: &str,
    order: DateOrder,
) -> Result<(NaiveDate, Option<NaiveTime>), DateError> {
    let s = text.trim();
    // A `T` joins date and time only after a digit: "31 AUGUST 2020" has a `T` too.
    let split = s
        .find('T')
        .filter(|&i| i >= 8 && s.as_bytes()[i - 1].is_ascii_digit())
        .or_else(|| {
            // A space followed by something with a colon is a time; "Jan 31, 2020" has spaces too.
            s.rfind(' ').filter(|&i| s[i + 1..].contains(':'))
        });
    match split {
        None => Ok((parse_date(s, order)?, None)),
        Some(i) => {
            let date = parse_date(&s[..i], order)?;
            let time = parse_time(&s[i + 1..])?;
            Ok((date, (time != NaiveTime::MIN).then_some(time)))
        }
    }
}

/// The ISO `YYYY-MM-DD` bytes of a date, without allocating (this runs once per row).
pub fn iso_date_bytes(d: NaiveDate) -> [u8; 10] {
    use chrono::Datelike;
    let yy = d.year().clamp(0, 9999) as u32;
    let (m, day) = (d.month(), d.day());
    let digit = |v: u32| b'0' + v as u8;
    [
        digit(yy / 1000),
        digit(yy / 100 % 10),
        digit(yy / 10 % 10),
        digit(yy % 10),
        b'-',
        digit(m / 10),
        digit(m % 10),
        b'-',
        digit(day / 10),
        digit(day % 10),
    ]
}

/// Appends a date as ISO `YYYY-MM-DD`.
pub fn iso_date(d: NaiveDate, out: &mut String) {
    out.push_str(std::str::from_utf8(&iso_date_bytes(d)).expect("ASCII digits"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn iso_and_compact_forms() {
        assert_eq!(
            parse_date("1986-12-31", DateOrder::Auto),
            Ok(d(1986, 12, 31))
        );
        assert_eq!(
            parse_date("1986/12/31", DateOrder::Auto),
            Ok(d(1986, 12, 31))
        );
        assert_eq!(
            parse_date("1986.12.31", DateOrder::Auto),
            Ok(d(1986, 12, 31))
        );
        assert_eq!(parse_date("19861231", DateOrder::Auto), Ok(d(1986, 12, 31)));
        assert_eq!(parse_date(" 2020-1-2 ", DateOrder::Auto), Ok(d(2020, 1, 2)));
    }

    #[test]
    fn day_month_order_is_explicit_when_ambiguous() {
        assert_eq!(
            parse_date("03/04/2020", DateOrder::Auto),
            Err(DateError::Ambiguous)
        );
        assert_eq!(parse_date("03/04/2020", DateOrder::Dmy), Ok(d(2020, 4, 3)));
        assert_eq!(parse_date("03/04/2020", DateOrder::Mdy), Ok(d(2020, 3, 4)));
        // Unambiguous either way in auto mode.
        assert_eq!(
            parse_date("31/01/2020", DateOrder::Auto),
            Ok(d(2020, 1, 31))
        );
        assert_eq!(
            parse_date("01/31/2020", DateOrder::Auto),
            Ok(d(2020, 1, 31))
        );
        assert_eq!(parse_date("05.05.2020", DateOrder::Auto), Ok(d(2020, 5, 5)));
        // An explicit order that contradicts the text is an error, not a swap.
        assert_eq!(
            parse_date("01/31/2020", DateOrder::Dmy),
            Err(DateError::WrongOrder {
                read_as: DateOrder::Dmy
            })
        );
        assert_eq!(
            parse_date("31/01/2020", DateOrder::Mdy),
            Err(DateError::WrongOrder {
                read_as: DateOrder::Mdy
            })
        );
        // No such day either way: not a question of order.
        assert_eq!(
            parse_date("02/30/2020", DateOrder::Dmy),
            Err(DateError::NoSuchDay)
        );
        assert_eq!(
            parse_date("31/02/2020", DateOrder::Dmy),
            Err(DateError::NoSuchDay)
        );
    }

    #[test]
    fn month_names() {
        assert_eq!(
            parse_date("31-Jan-2020", DateOrder::Auto),
            Ok(d(2020, 1, 31))
        );
        assert_eq!(
            parse_date("31 January 2020", DateOrder::Auto),
            Ok(d(2020, 1, 31))
        );
        assert_eq!(
            parse_date("Jan 31, 2020", DateOrder::Auto),
            Ok(d(2020, 1, 31))
        );
        assert_eq!(
            parse_date("Sept 1 2020", DateOrder::Auto),
            Ok(d(2020, 9, 1))
        );
        assert_eq!(
            parse_date("Janx 1 2020", DateOrder::Auto),
            Err(DateError::Unrecognised)
        );
    }

    #[test]
    fn bad_dates_say_why() {
        assert_eq!(
            parse_date("2021-02-30", DateOrder::Auto),
            Err(DateError::NoSuchDay)
        );
        assert_eq!(
            parse_date("31/01/20", DateOrder::Auto),
            Err(DateError::TwoDigitYear)
        );
        assert_eq!(
            parse_date("yesterday", DateOrder::Auto),
            Err(DateError::Unrecognised)
        );
        assert_eq!(
            parse_date("", DateOrder::Auto),
            Err(DateError::Unrecognised)
        );
        assert_eq!(
            parse_date("2020-13-01", DateOrder::Auto),
            Err(DateError::NoSuchDay)
        );
    }

    #[test]
    fn date_times() {
        let t = |h, m, s| NaiveTime::from_hms_opt(h, m, s).unwrap();
        assert_eq!(
            parse_date_time("2020-01-31 09:30:00", DateOrder::Auto),
            Ok((d(2020, 1, 31), Some(t(9, 30, 0))))
        );
        assert_eq!(
            parse_date_time("2020-01-31T09:30Z", DateOrder::Auto),
            Ok((d(2020, 1, 31), Some(t(9, 30, 0))))
        );
        assert_eq!(
            parse_date_time("2020-01-31 00:00:00", DateOrder::Auto),
            Ok((d(2020, 1, 31), None))
        );
        assert_eq!(
            parse_date_time("Jan 31, 2020", DateOrder::Auto),
            Ok((d(2020, 1, 31), None))
        );
        // The `T` of AUGUST is not a date/time separator.
        assert_eq!(
            parse_date_time("31 AUGUST 2020", DateOrder::Auto),
            Ok((d(2020, 8, 31), None))
        );
        assert_eq!(
            parse_date_time("2020-01-31 09:30:00-05:00", DateOrder::Auto),
            Err(DateError::Offset)
        );
        assert_eq!(
            parse_date_time("2020-01-31 25:30", DateOrder::Auto),
            Err(DateError::BadTime)
        );
    }

    #[test]
    fn iso_formatting_round_trips() {
        let mut s = String::new();
        iso_date(d(987, 3, 9), &mut s);
        assert_eq!(s, "0987-03-09");
        s.clear();
        iso_date(d(2010, 1, 11), &mut s);
        assert_eq!(parse_date(&s, DateOrder::Auto), Ok(d(2010, 1, 11)));
    }
}
