//! Text for people: HTML escaping, numbers with thousands separators, percentages, and how
//! each known column is labelled and formatted.

use chrono::{DateTime, NaiveDate};
use std::fmt::Write as _;

/// Escapes text for HTML and SVG content and for quoted attribute values alike. Every piece of
/// data (symbols, error messages, even insight names) goes through here: a report is built
/// from data and must never run or render markup from it.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newlines are invalid in HTML; show them.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `v` with `decimals` decimals and a comma every three integer digits (`-28,827.95`). A value
/// that rounds to zero has no minus sign.
pub(crate) fn fixed(v: f64, decimals: usize) -> String {
    let digits = format!("{:.*}", decimals, v.abs());
    let (int, frac) = digits.split_once('.').unwrap_or((&digits, ""));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if v < 0.0 && digits.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        out.push('-');
    }
    for (k, ch) in int.chars().enumerate() {
        if k > 0 && (int.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// A fraction as a percentage with two decimals (`0.1234` → `12.34%`).
pub(crate) fn percent(v: f64) -> String {
    format!("{}%", fixed(v * 100.0, 2))
}

/// A return as a percentage with its sign (`+12.34%`, `-3.10%`, `0.00%`).
pub(crate) fn signed_percent(v: f64) -> String {
    with_sign(percent(v))
}

/// A price: two decimals with thousands separators.
pub(crate) fn price(v: f64) -> String {
    fixed(v, 2)
}

/// A whole quantity (volume, count) with thousands separators.
pub(crate) fn whole(v: f64) -> String {
    fixed(v, 0)
}

/// Prefixes `+` to a formatted positive number.
fn with_sign(s: String) -> String {
    if s.starts_with('-') || s.trim_start_matches(['0', '.', ',', '%']).is_empty() {
        s
    } else {
        format!("+{s}")
    }
}

/// How a column's values read best.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A return or change as a fraction: signed percent, coloured by sign.
    Return,
    /// A fraction without a direction (volatility, drawdown): percent.
    Percent,
    /// A price level: two decimals.
    Price,
    /// A price change: signed, two decimals, coloured by sign.
    PriceChange,
    /// Volumes and counts: whole numbers with separators.
    Whole,
    /// A statistic (z-score, correlation): two decimals.
    Stat,
    /// A moving-average cross (`golden_cross`/`death_cross`): a badge.
    Signal,
    /// Gainer or loser: a badge.
    Side,
    /// Anything else: as it is (numbers in a general format).
    Plain,
}

/// The kind of a column, by the names the insight SQL files use.
pub(crate) fn kind(column: &str) -> Kind {
    match column {
        "ret" | "day_change_pct" => Kind::Return,
        c if c.starts_with("ret_") => Kind::Return,
        "daily_vol" | "annual_vol" | "max_drawdown" | "completeness" => Kind::Percent,
        "log_return" => Kind::Return,
        "price" | "close" | "prev_close" | "ma50" | "ma200" => Kind::Price,
        c if c.ends_with("_price") => Kind::Price,
        "day_change" => Kind::PriceChange,
        "volume" | "mean_volume" | "stddev_volume" | "rank" | "kind_total" | "bars" => Kind::Whole,
        "expected_days" | "missing_days" | "stale_runs" | "restated_days" => Kind::Whole,
        "implausible_moves" => Kind::Whole,
        c if c.starts_with("n_") => Kind::Whole,
        "z" | "correlation" => Kind::Stat,
        "signal" | "last_cross" => Kind::Signal,
        "side" | "kind" | "status" => Kind::Side,
        _ => Kind::Plain,
    }
}

/// True for kinds shown right-aligned in tables.
pub(crate) fn is_numeric(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Return | Kind::Percent | Kind::Price | Kind::PriceChange | Kind::Whole | Kind::Stat
    )
}

/// A number formatted for its kind.
pub(crate) fn value(kind: Kind, v: f64) -> String {
    match kind {
        Kind::Return => signed_percent(v),
        Kind::Percent => percent(v),
        Kind::Price => price(v),
        Kind::PriceChange => with_sign(price(v)),
        Kind::Whole => whole(v),
        Kind::Stat => fixed(v, 2),
        Kind::Signal | Kind::Side | Kind::Plain => general(v),
    }
}

/// A number of unknown meaning: whole numbers with separators, others to four decimals.
fn general(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        whole(v)
    } else {
        let s = fixed(v, 4);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The table heading of a column.
pub(crate) fn label(column: &str) -> String {
    let known = match column {
        "symbol" => "Symbol",
        "trade_date" => "Date",
        "close" => "Close",
        "prev_date" => "Previous day",
        "prev_close" => "Previous close",
        "day_change" => "Change",
        "day_change_pct" => "Change %",
        "as_of" => "As of",
        "ret_1m" => "1M return",
        "ret_3m" => "3M return",
        "ret_1y" => "1Y return",
        "ret_ytd" => "YTD return",
        "side" => "Side",
        "rank" => "Rank",
        "first_date" => "First day",
        "first_price" => "First price",
        "last_date" => "Last day",
        "last_price" => "Last price",
        "ret" => "Return",
        "n_returns" => "Daily returns",
        "daily_vol" => "Daily volatility",
        "annual_vol" => "Annual volatility",
        "price" => "Price",
        "ma50" => "50-day MA",
        "ma200" => "200-day MA",
        "signal" => "Signal",
        "volume" => "Volume",
        "n_prior" => "Prior days",
        "mean_volume" => "Mean volume",
        "stddev_volume" => "Std. dev. volume",
        "z" => "z-score",
        "max_drawdown" => "Max drawdown",
        "peak_date" => "Peak",
        "peak_price" => "Peak price",
        "trough_date" => "Trough",
        "trough_price" => "Trough price",
        "recovery_date" => "Recovered",
        "symbol_a" => "Symbol A",
        "symbol_b" => "Symbol B",
        "n_days" => "Common days",
        "correlation" => "Correlation",
        "benchmark" => "Benchmark",
        "most" => "Most correlated",
        "least" => "Least correlated",
        "pair" => "Pair",
        other => {
            let spaced = other.replace('_', " ");
            let mut chars = spaced.chars();
            return match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            };
        }
    };
    known.to_string()
}

/// A signal or side value for people (`golden_cross` → `Golden cross`).
pub(crate) fn badge_text(value: &str) -> String {
    label(value)
}

/// A day as `4 Jan 2021`; other text unchanged.
pub(crate) fn day(text: &str) -> String {
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(d) => d.format("%-d %b %Y").to_string(),
        Err(_) => text.to_string(),
    }
}

/// An RFC 3339 time as `26 Nov 2026, 10:00 UTC`; other text unchanged.
pub(crate) fn timestamp(text: &str) -> String {
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => t.to_utc().format("%-d %b %Y, %H:%M UTC").to_string(),
        Err(_) => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_quotes_and_controls() {
        assert_eq!(
            escape(r#"<script>alert('x') & "y"</script>"#),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(escape("a\u{0}b\tc"), "a\\u{0}b\tc");
        assert_eq!(escape("HSI"), "HSI");
    }

    #[test]
    fn numbers_have_separators_and_no_negative_zero() {
        assert_eq!(fixed(28827.954, 2), "28,827.95");
        assert_eq!(fixed(-1234567.0, 0), "-1,234,567");
        assert_eq!(fixed(999.999, 2), "1,000.00");
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(fixed(12.0, 0), "12");
        assert_eq!(fixed(123456.0, 0), "123,456");
        assert_eq!(whole(48_123_456.4), "48,123,456");
        assert_eq!(price(0.5), "0.50");
    }

    #[test]
    fn percentages_have_two_decimals_and_returns_a_sign() {
        assert_eq!(percent(0.123456), "12.35%");
        assert_eq!(percent(-0.3), "-30.00%");
        assert_eq!(signed_percent(0.05), "+5.00%");
        assert_eq!(signed_percent(-0.05), "-5.00%");
        assert_eq!(signed_percent(0.00001), "0.00%");
        assert_eq!(signed_percent(12.5), "+1,250.00%");
        assert_eq!(value(Kind::PriceChange, 3.5), "+3.50");
        assert_eq!(value(Kind::Stat, -1.23456), "-1.23");
        assert_eq!(value(Kind::Plain, 2.5), "2.5");
        assert_eq!(value(Kind::Plain, 1e6), "1,000,000");
    }

    #[test]
    fn columns_of_the_sql_files_have_kinds_and_labels() {
        assert_eq!(kind("ret_ytd"), Kind::Return);
        assert_eq!(kind("annual_vol"), Kind::Percent);
        assert_eq!(kind("max_drawdown"), Kind::Percent);
        assert_eq!(kind("trough_price"), Kind::Price);
        assert_eq!(kind("volume"), Kind::Whole);
        assert_eq!(kind("n_days"), Kind::Whole);
        assert_eq!(kind("symbol"), Kind::Plain);
        for insight in crate::insights::all() {
            for c in insight.columns {
                assert!(!label(c).contains('_'), "{c} has a label");
            }
        }
        assert_eq!(label("odd_new_column"), "Odd new column");
        assert_eq!(badge_text("golden_cross"), "Golden cross");
    }

    #[test]
    fn dates_and_times_read_naturally() {
        assert_eq!(day("2021-01-04"), "4 Jan 2021");
        assert_eq!(day("soon"), "soon");
        assert_eq!(timestamp("2026-11-26T10:00:00Z"), "26 Nov 2026, 10:00 UTC");
        assert_eq!(
            timestamp("2026-11-26T12:30:00+02:00"),
            "26 Nov 2026, 10:30 UTC"
        );
        assert_eq!(timestamp("yesterday"), "yesterday");
    }
}
