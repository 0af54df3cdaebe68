//! The insight library: named insights, each one SQL text that Athena (Trino), DataFusion and
//! DuckDB run the same way (the rules are in the SQL files' style: explicit frames, no integer
//! division, `NULLS LAST`, …), and the one safe way to give them parameters.
//!
//! The SQL texts carry named markers (`:from`, `:to`, `:scan_from`, `:year_from`,
//! `:year_to`, `:symbol_filter`, the data-quality thresholds of [`QUALITY`], and the
//! correlation's `:benchmark`, `:pairs`, `:pair_candidates` and `:full_matrix`, the latter
//! also choosing the daily or the per-symbol form of `moving_averages` and `volume_anomalies`),
//! only in WHERE clauses because Athena allows parameters
//! nowhere else. [`bind`] turns them into positional placeholders (`?` for Athena and DuckDB,
//! `$n` for DataFusion) and returns the values to bind, so user input never becomes SQL
//! text: symbols and dates are checked by [`Params::new`] and then only ever bound.
//!
//! [`runner`] runs the suite on any engine (Athena in the Lambda, DataFusion locally).
//!
//! What several insights share is written once, in `sql/fragments/`, and [`compose`]d into
//! each insight's text where a line `-- @include: NAME` stands: every insight's `base` CTE
//! (`fragments/base.sql`) and the CTEs of the two data-quality insights
//! (`fragments/quality.sql`). The composed text is still one whole statement, because Athena
//! runs one statement and the lake has no views; it is what every engine receives.

pub mod runner;

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::LazyLock;

/// Calendar days of data read before the report window: enough for a 200-trading-day moving
/// average and a one-year return at the window's first day.
pub const LOOKBACK_DAYS: i64 = 400;

/// Most symbols one report may name: the `correlation` insight reports every pair of a named
/// list (1,225 pairs for 50), where a report of every symbol gets each symbol's correlation
/// to a benchmark and the most and least correlated pairs instead. Each symbol is one
/// execution parameter on Athena (the API takes that many; its console only 25 in all).
pub const MAX_SYMBOLS: usize = 50;

/// Most rows `volume_anomalies` returns for a report of every symbol: the anomalies of
/// largest |z|. A named list of symbols ([`Params::named_list`]) gets every one. Written as a
/// number in the SQL text (`rn <= 100`), which a test keeps equal to this.
pub const ANOMALY_ROWS: u32 = 100;

/// Pairs of each side (most and least correlated) a report lists by default.
pub const DEFAULT_PAIRS: u32 = 10;

/// Most pairs of each side a report may ask for.
pub const MAX_PAIRS: u32 = 100;

/// Symbols of each end of the benchmark ranking (the most and the least correlated to the
/// benchmark) among which `correlation` computes pair statistics, when the report covers
/// every symbol (`:pair_candidates`): at most 200 candidates, 19,900 pairs, whatever the
/// size of the lake. A lake of at most twice this many symbols gets every pair.
pub const PAIR_CANDIDATES: u32 = 100;

/// One named insight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insight {
    /// Stable name (`period_returns`), also the CSV file name.
    pub name: &'static str,
    /// Title for the report.
    pub title: &'static str,
    /// One sentence for the report.
    pub description: &'static str,
    /// Output columns, in order.
    pub columns: Vec<&'static str>,
    /// The SQL text with named markers.
    pub sql: &'static str,
}

/// The thresholds of the data-quality insights (`data_quality`, `quality_issues`), bound as
/// parameters like the window, so the SQL text holds no number to keep in step with the docs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityThresholds {
    /// A day is a trading day when at least this share of the lake's symbols (with a bar in
    /// the window) have a bar that day; a symbol without one is missing it (`:trading_day_share`).
    pub trading_day_share: f64,
    /// A run of at least this many consecutive bars with volume and the same close is stale
    /// (`:stale_bars`).
    pub stale_bars: u32,
    /// A daily log return beyond ± this is implausible and listed for review (`:max_move`).
    pub max_move: f64,
    /// Most rows `quality_issues` lists of each kind; its `kind_total` still counts all
    /// (`:quality_rows`).
    pub rows_per_kind: u32,
}

/// The thresholds the reports use.
pub const QUALITY: QualityThresholds = QualityThresholds {
    trading_day_share: 0.5,
    stale_bars: 5,
    max_move: 0.25,
    rows_per_kind: 25,
};

const SOURCES: [&str; 10] = [
    include_str!("sql/latest_close.sql"),
    include_str!("sql/period_returns.sql"),
    include_str!("sql/top_movers.sql"),
    include_str!("sql/volatility.sql"),
    include_str!("sql/moving_averages.sql"),
    include_str!("sql/volume_anomalies.sql"),
    include_str!("sql/max_drawdown.sql"),
    include_str!("sql/correlation.sql"),
    include_str!("sql/data_quality.sql"),
    include_str!("sql/quality_issues.sql"),
];

/// The shared pieces of insight SQL, by the name their `-- @include: NAME` lines give
/// (`sql/fragments/NAME.sql`; `functions/local/tests/check_sql.py` reads them from there).
pub const FRAGMENTS: [(&str, &str); 2] = [
    ("base", include_str!("sql/fragments/base.sql")),
    ("quality", include_str!("sql/fragments/quality.sql")),
];

/// The insights' composed texts, built once: [`Insight::sql`] borrows from here.
static TEXTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|src| {
            compose(src, &FRAGMENTS).unwrap_or_else(|e| {
                let first = src.lines().next().unwrap_or_default();
                panic!("bundled insight SQL ({first}): {e}")
            })
        })
        .collect()
});

/// Every insight, in report order.
pub fn all() -> Vec<Insight> {
    TEXTS
        .iter()
        .map(|sql| parse(sql).unwrap_or_else(|e| panic!("bundled insight SQL: {e}")))
        .collect()
}

/// Why an insight text and its fragments do not compose: a bug in the SQL files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// `-- @include: NAME` with no fragment of that name.
    #[error("line {line} of {within}: no fragment named {name:?}")]
    Unknown {
        /// The name the marker gives.
        name: String,
        /// `the insight` or the fragment holding the marker.
        within: String,
        /// 1-based line of the marker in that text.
        line: usize,
    },
    /// A fragment included a second time (also how an include cycle shows).
    #[error("line {line} of {within}: fragment {name:?} is already included")]
    Repeated {
        /// The fragment's name.
        name: String,
        /// `the insight` or the fragment holding the marker.
        within: String,
        /// 1-based line of the marker in that text.
        line: usize,
    },
    /// `@include` in a line that is not a whole marker line: it would reach the engine.
    #[error("line {line} of {within}: `@include` outside a `-- @include: NAME` line: {text:?}")]
    Stray {
        /// The line, trimmed.
        text: String,
        /// `the insight` or the fragment holding it.
        within: String,
        /// 1-based line in that text.
        line: usize,
    },
}

/// The fragment name of a marker line: the whole line, leading and trailing blanks aside, is
/// `-- @include: NAME`, the name of lower-case letters, digits and `_`.
fn include_marker(line: &str) -> Option<&str> {
    let name = line.trim().strip_prefix("-- @include: ")?;
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    ok.then_some(name)
}

/// Replaces each marker line of `text` by the fragment it names, less the fragment's header
/// (its leading lines that start with `--`, up to a marker line), the fragment's own markers
/// replaced likewise. Every other byte is copied, so the insight's header stays at the top.
/// Each fragment may be included once per text; an unknown name or a stray `@include` is an
/// error.
pub fn compose(text: &str, fragments: &[(&str, &str)]) -> Result<String, ComposeError> {
    fn expand<'f>(
        text: &str,
        within: &str,
        fragments: &[(&'f str, &'f str)],
        used: &mut Vec<&'f str>,
        out: &mut String,
    ) -> Result<(), ComposeError> {
        for (n, line) in text.split_inclusive('\n').enumerate() {
            let Some(name) = include_marker(line) else {
                if line.contains("@include") {
                    return Err(ComposeError::Stray {
                        text: line.trim().to_string(),
                        within: within.to_string(),
                        line: n + 1,
                    });
                }
                out.push_str(line);
                continue;
            };
            let Some(&(key, fragment)) = fragments.iter().find(|(k, _)| *k == name) else {
                return Err(ComposeError::Unknown {
                    name: name.to_string(),
                    within: within.to_string(),
                    line: n + 1,
                });
            };
            if used.contains(&key) {
                return Err(ComposeError::Repeated {
                    name: key.to_string(),
                    within: within.to_string(),
                    line: n + 1,
                });
            }
            used.push(key);
            let mut body = fragment;
            while body.starts_with("--")
                && include_marker(body.lines().next().unwrap_or("")).is_none()
            {
                body = body.split_once('\n').map_or("", |(_, rest)| rest);
            }
            expand(body, &format!("fragment {key:?}"), fragments, used, out)?;
            if line.ends_with('\n') && !out.ends_with('\n') {
                out.push('\n');
            }
        }
        Ok(())
    }
    let mut out = String::with_capacity(text.len() + 4096);
    expand(text, "the insight", fragments, &mut Vec::new(), &mut out)?;
    Ok(out)
}

/// The insight called `name`.
pub fn by_name(name: &str) -> Option<Insight> {
    all().into_iter().find(|i| i.name == name)
}

/// Reads the `-- key: value` header of an insight's SQL text.
pub fn parse(sql: &'static str) -> Result<Insight, String> {
    let get = |key: &str| -> Result<&'static str, String> {
        sql.lines()
            .take_while(|l| l.starts_with("--"))
            .find_map(|l| {
                l.trim_start_matches('-')
                    .trim()
                    .strip_prefix(key)
                    .and_then(|r| r.strip_prefix(':'))
            })
            .map(str::trim)
            .ok_or_else(|| format!("header lacks `-- {key}:`"))
    };
    let name = get("name")?;
    let title = get("title")?;
    let description = get("description")?;
    let columns = get("columns")?.split(',').map(str::trim).collect();
    Ok(Insight {
        name,
        title,
        description,
        columns,
        sql,
    })
}

/// What a report covers, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// First day of the report window.
    pub from: NaiveDate,
    /// Last day of the report window.
    pub to: NaiveDate,
    /// Symbols to report on; empty means every symbol in the lake.
    pub symbols: Vec<String>,
    /// The symbol (an index) every symbol's returns are correlated with; `None` means the
    /// equal-weight mean of the report's symbols each day (`:benchmark`, empty for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark: Option<String>,
    /// How many of the most and of the least correlated pairs the report lists when it
    /// covers every symbol (`:pairs`).
    #[serde(default = "default_pairs")]
    pub pairs: u32,
    /// Symbols of each end of the benchmark ranking among which pairs are computed when the
    /// report covers every symbol (`:pair_candidates`); [`PAIR_CANDIDATES`] unless a test or
    /// benchmark sets another.
    #[serde(default = "default_pair_candidates")]
    pub pair_candidates: u32,
}

fn default_pairs() -> u32 {
    DEFAULT_PAIRS
}

fn default_pair_candidates() -> u32 {
    PAIR_CANDIDATES
}

/// A parameter that cannot be used, with what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// `from` after `to`.
    #[error("the window starts {from} after it ends {to}")]
    Reversed {
        /// Start given.
        from: NaiveDate,
        /// End given.
        to: NaiveDate,
    },
    /// A date that is not `YYYY-MM-DD`.
    #[error("{which} date {text:?} is not a date (YYYY-MM-DD)")]
    BadDate {
        /// `from` or `to`.
        which: &'static str,
        /// As given.
        text: String,
    },
    /// A symbol with characters no ticker has (quotes, spaces, semicolons, …).
    #[error("symbol {0:?} is not a ticker (1–20 of A–Z, a–z, 0–9, ^ . _ = -)")]
    BadSymbol(String),
    /// A symbol the lake does not hold.
    #[error("symbol {symbol:?} is not in the lake (known: {known})")]
    UnknownSymbol {
        /// As given.
        symbol: String,
        /// Some known symbols, for the message.
        known: String,
    },
    /// Too many symbols.
    #[error("{0} symbols given; at most {MAX_SYMBOLS} (a named list gets its full correlation matrix; leave the list empty for every symbol's correlation to the benchmark and the most and least correlated pairs)")]
    TooMany(usize),
    /// A number of pairs outside 1..=[`MAX_PAIRS`].
    #[error("{0} correlation pairs asked; from 1 to {MAX_PAIRS}")]
    BadPairs(u32),
    /// A candidate count outside 1..=2,500.
    #[error("{0} pair candidates asked; from 1 to 2500")]
    BadCandidates(u32),
}

/// True for the characters tickers use (`^HSI`, `BRK.B`, `000001.SS`, `EURUSD=X`).
fn is_ticker(s: &str) -> bool {
    (1..=20).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"^._=-".contains(&b))
}

/// A symbol is a ticker and, when the lake's symbols are `known`, one of them.
fn check_symbol(s: &str, known: Option<&[String]>) -> Result<(), ParamError> {
    if !is_ticker(s) {
        return Err(ParamError::BadSymbol(s.to_string()));
    }
    if let Some(known) = known {
        if !known.iter().any(|k| k == s) {
            let mut list = known
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if known.len() > 10 {
                list.push_str(", …");
            }
            return Err(ParamError::UnknownSymbol {
                symbol: s.to_string(),
                known: list,
            });
        }
    }
    Ok(())
}

impl Params {
    /// Checks a report window and symbol list. `known`, when given, is the lake's symbols;
    /// a symbol outside it is an error rather than an empty report.
    pub fn new(
        from: NaiveDate,
        to: NaiveDate,
        symbols: Vec<String>,
        known: Option<&[String]>,
    ) -> Result<Params, ParamError> {
        if from > to {
            return Err(ParamError::Reversed { from, to });
        }
        if symbols.len() > MAX_SYMBOLS {
            return Err(ParamError::TooMany(symbols.len()));
        }
        let mut out: Vec<String> = vec![];
        for s in symbols {
            check_symbol(&s, known)?;
            if !out.contains(&s) {
                out.push(s);
            }
        }
        Ok(Params {
            from,
            to,
            symbols: out,
            benchmark: None,
            pairs: DEFAULT_PAIRS,
            pair_candidates: PAIR_CANDIDATES,
        })
    }

    /// Sets the correlation's benchmark symbol (`None`: the equal-weight mean), checked as
    /// the report's symbols are: a ticker, and in `known` (the lake's symbols) when given.
    pub fn with_benchmark(
        mut self,
        benchmark: Option<String>,
        known: Option<&[String]>,
    ) -> Result<Params, ParamError> {
        let benchmark = benchmark
            .map(|b| b.trim().to_string())
            .filter(|b| !b.is_empty());
        if let Some(b) = &benchmark {
            check_symbol(b, known)?;
        }
        self.benchmark = benchmark;
        Ok(self)
    }

    /// Sets how many of the most and of the least correlated pairs to list (1..=[`MAX_PAIRS`]).
    pub fn with_pairs(mut self, pairs: u32) -> Result<Params, ParamError> {
        if !(1..=MAX_PAIRS).contains(&pairs) {
            return Err(ParamError::BadPairs(pairs));
        }
        self.pairs = pairs;
        Ok(self)
    }

    /// Sets the symbols of each end of the benchmark ranking that pairs are computed among
    /// (1 to 2,500).
    pub fn with_pair_candidates(mut self, n: u32) -> Result<Params, ParamError> {
        if !(1..=2_500).contains(&n) {
            return Err(ParamError::BadCandidates(n));
        }
        self.pair_candidates = n;
        Ok(self)
    }

    /// Parses `YYYY-MM-DD` for `which` (`from`/`to`).
    pub fn date(which: &'static str, text: &str) -> Result<NaiveDate, ParamError> {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| ParamError::BadDate {
            which,
            text: text.to_string(),
        })
    }

    /// True for a named list of symbols (at most [`MAX_SYMBOLS`]), false for every symbol
    /// (`:full_matrix`): a named list gets the correlation's full matrix, the daily series of
    /// `moving_averages` and every volume anomaly; every symbol gets the benchmark ranking,
    /// one `moving_averages` row per symbol and the [`ANOMALY_ROWS`] strongest anomalies.
    pub fn named_list(&self) -> bool {
        !self.symbols.is_empty()
    }

    /// First day of data the insights read.
    pub fn scan_from(&self) -> NaiveDate {
        self.from - Duration::days(LOOKBACK_DAYS)
    }
}

/// Placeholder style of the engine that runs the SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// `?`, bound by position: Athena (execution parameters) and DuckDB.
    Question,
    /// `$1`, `$2`, …: DataFusion.
    Dollar,
}

/// SQL text with positional placeholders and the values to bind, all strings (dates are
/// `CAST(? AS DATE)` in the SQL, the partition column is a string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// The SQL text.
    pub sql: String,
    /// One value per placeholder, in order.
    pub values: Vec<String>,
}

/// A marker the SQL text uses that [`bind`] does not know: a bug in an insight file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMarker(pub String);

impl fmt::Display for UnknownMarker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown SQL parameter marker :{}", self.0)
    }
}

impl std::error::Error for UnknownMarker {}

/// Replaces the named markers of `sql` by placeholders and collects their values. Quoted
/// strings, quoted identifiers, comments and `::` casts are copied untouched.
pub fn bind(sql: &str, params: &Params, style: Placeholders) -> Result<Bound, UnknownMarker> {
    let scan_from = params.scan_from();
    let value = |name: &str| -> Option<String> {
        Some(match name {
            "from" => params.from.to_string(),
            "to" => params.to.to_string(),
            "scan_from" => scan_from.to_string(),
            "year_from" => scan_from.year().to_string(),
            "year_to" => params.to.year().to_string(),
            "trading_day_share" => QUALITY.trading_day_share.to_string(),
            "stale_bars" => QUALITY.stale_bars.to_string(),
            "max_move" => QUALITY.max_move.to_string(),
            "quality_rows" => QUALITY.rows_per_kind.to_string(),
            "benchmark" => params.benchmark.clone().unwrap_or_default(),
            "pairs" => params.pairs.to_string(),
            "pair_candidates" => params.pair_candidates.to_string(),
            "full_matrix" => u8::from(params.named_list()).to_string(),
            _ => return None,
        })
    };
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 64);
    let mut values = vec![];
    let placeholder = |out: &mut String, v: String, values: &mut Vec<String>| {
        values.push(v);
        match style {
            Placeholders::Question => out.push('?'),
            Placeholders::Dollar => {
                out.push('$');
                out.push_str(&values.len().to_string());
            }
        }
    };
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        if b.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
            }
            b':' if b.get(i + 1) == Some(&b':') => i += 2,
            b':' if b
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') =>
            {
                let start = i + 1;
                let mut end = start;
                while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
                    end += 1;
                }
                let name = &sql[start..end];
                out.push_str(&sql[copied..i]);
                if name == "symbol_filter" {
                    if params.symbols.is_empty() {
                        out.push_str("TRUE");
                    } else {
                        out.push_str("symbol IN (");
                        for (k, s) in params.symbols.iter().enumerate() {
                            if k > 0 {
                                out.push_str(", ");
                            }
                            placeholder(&mut out, s.clone(), &mut values);
                        }
                        out.push(')');
                    }
                } else {
                    let v = value(name).ok_or_else(|| UnknownMarker(name.to_string()))?;
                    placeholder(&mut out, v, &mut values);
                }
                i = end;
                copied = end;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied.min(sql.len())..]);
    Ok(Bound { sql: out, values })
}

/// A bound value as Athena's `ExecutionParameters` wants it: SQL literal text, strings in
/// single quotes with quotes doubled.
pub fn athena_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn params(symbols: &[&str]) -> Params {
        Params::new(
            d("2021-01-01"),
            d("2021-06-30"),
            symbols.iter().map(|s| s.to_string()).collect(),
            None,
        )
        .unwrap()
    }

    #[test]
    fn every_bundled_insight_has_a_header_and_binds() {
        let all = all();
        assert_eq!(all.len(), 10);
        let mut names: Vec<_> = all.iter().map(|i| i.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 10, "names are unique");
        for i in &all {
            assert!(!i.columns.is_empty() && !i.title.is_empty(), "{}", i.name);
            let b = bind(i.sql, &params(&["HSI", "N225"]), Placeholders::Dollar).unwrap();
            assert!(!b.sql.contains(":from") && !b.sql.contains(":symbol_filter"));
            let n = b.sql.matches('$').count();
            assert_eq!(n, b.values.len(), "{}", i.name);
            assert!(b.sql.contains(&format!("${n}")));
            assert!(!i.sql.trim_end().ends_with(';'), "{}", i.name);
            assert!(!i.sql.contains("@include"), "{} keeps a marker", i.name);
            assert!(i.sql.starts_with(&format!("-- name: {}\n", i.name)));
        }
    }

    #[test]
    fn every_fragment_is_included_and_base_is_the_same_everywhere() {
        let (_, base) = FRAGMENTS[0];
        let base = base.split_once("\n    --").unwrap().1;
        for (name, _) in FRAGMENTS {
            let marker = format!("-- @include: {name}");
            let users = SOURCES
                .iter()
                .chain(FRAGMENTS.iter().map(|(_, f)| f))
                .filter(|src| src.lines().any(|l| l.trim() == marker))
                .count();
            assert!(users > 0, "fragment {name} is included nowhere");
        }
        // `volume_anomalies` sums each day's bars, so it de-duplicates per bar (symbol, ts)
        // rather than keeping `base`'s one bar per day; the same records win (the latest
        // kafka_timestamp, then partition and offset).
        let per_bar = "ORDER BY ts ASC NULLS LAST, kafka_timestamp DESC NULLS LAST,\n                         kafka_partition DESC NULLS LAST, kafka_offset DESC NULLS LAST";
        for i in all() {
            if i.name == "volume_anomalies" {
                assert!(
                    !i.sql.contains(base) && i.sql.contains(per_bar),
                    "{}",
                    i.name
                );
            } else {
                assert!(i.sql.contains(base), "{} has the shared base", i.name);
            }
        }
    }

    #[test]
    fn composing_replaces_marker_lines_and_refuses_what_would_reach_the_engine() {
        let frags = [
            ("a", "-- fragment header, left out\n  x AS (1),\n"),
            ("b", "    -- @include: a\n  y AS (2),\n"),
            ("loop", "-- @include: loop\n"),
        ];
        assert_eq!(
            compose(
                "-- name: t\nWITH\n  -- @include: b\nz AS (3)\nSELECT 1",
                &frags
            ),
            Ok("-- name: t\nWITH\n  x AS (1),\n  y AS (2),\nz AS (3)\nSELECT 1".into())
        );
        assert_eq!(
            compose("SELECT 1\n-- @include: nope\n", &frags),
            Err(ComposeError::Unknown {
                name: "nope".into(),
                within: "the insight".into(),
                line: 2
            })
        );
        assert_eq!(
            compose("-- @include: b\n-- @include: a\n", &frags),
            Err(ComposeError::Repeated {
                name: "a".into(),
                within: "the insight".into(),
                line: 2
            })
        );
        assert!(matches!(
            compose("-- @include: loop\n", &frags),
            Err(ComposeError::Repeated { within, line: 1, .. }) if within == "fragment \"loop\""
        ));
        for stray in [
            "WITH base AS ( -- @include: base\n",
            "-- @include:base\n",
            "-- @include: Base\n",
            "/* @include: a */\n",
        ] {
            assert!(
                matches!(
                    compose(stray, &frags),
                    Err(ComposeError::Stray { line: 1, .. })
                ),
                "{stray:?}"
            );
        }
    }

    #[test]
    fn binding_numbers_placeholders_and_skips_strings_and_comments() {
        let sql = "SELECT ':to', \"a:b\" -- :from\n/* :to */ FROM t WHERE x = :from AND y::int > 0 AND :symbol_filter AND z <= :to";
        let b = bind(sql, &params(&["A", "B"]), Placeholders::Dollar).unwrap();
        assert_eq!(
            b.sql,
            "SELECT ':to', \"a:b\" -- :from\n/* :to */ FROM t WHERE x = $1 AND y::int > 0 AND symbol IN ($2, $3) AND z <= $4"
        );
        assert_eq!(b.values, ["2021-01-01", "A", "B", "2021-06-30"]);
        let q = bind(sql, &params(&[]), Placeholders::Question).unwrap();
        assert!(q.sql.ends_with("x = ? AND y::int > 0 AND TRUE AND z <= ?"));
        assert_eq!(q.values, ["2021-01-01", "2021-06-30"]);
    }

    #[test]
    fn correlation_settings_bind_as_values() {
        let sql = "WHERE s <> :benchmark AND rn <= CAST(:pairs AS BIGINT) \
                   AND k <= CAST(:pair_candidates AS BIGINT) AND CAST(:full_matrix AS INTEGER) = 1";
        let p = params(&[]);
        let b = bind(sql, &p, Placeholders::Question).unwrap();
        assert_eq!(b.values, ["", "10", &PAIR_CANDIDATES.to_string(), "0"]);
        let p = params(&["S1", "S2"])
            .with_benchmark(Some("HSI".into()), None)
            .unwrap()
            .with_pairs(3)
            .unwrap();
        let b = bind(sql, &p, Placeholders::Dollar).unwrap();
        assert_eq!(b.values, ["HSI", "3", &PAIR_CANDIDATES.to_string(), "1"]);
        // A report written before these settings existed still reads.
        let old: Params =
            serde_json::from_str(r#"{"from":"2021-01-01","to":"2021-06-30","symbols":[]}"#)
                .unwrap();
        assert_eq!((old.benchmark, old.pairs), (None, DEFAULT_PAIRS));
    }

    #[test]
    fn a_named_list_chooses_the_daily_forms_and_every_symbol_the_bounded_ones() {
        let sql = "WHERE CAST(:full_matrix AS INTEGER) = 1 OR rn <= 100";
        let all = params(&[]);
        assert!(!all.named_list());
        assert_eq!(
            bind(sql, &all, Placeholders::Question).unwrap().values,
            ["0"]
        );
        let named = params(&["S1"]);
        assert!(named.named_list());
        assert_eq!(
            bind(sql, &named, Placeholders::Dollar).unwrap().values,
            ["1"]
        );
        for name in ["moving_averages", "volume_anomalies"] {
            let i = by_name(name).unwrap();
            assert!(
                i.sql.contains("CAST(:full_matrix AS INTEGER) = 1 OR "),
                "{name}"
            );
        }
        let bound = format!("CAST(:full_matrix AS INTEGER) = 1 OR rn <= {ANOMALY_ROWS}\n");
        assert!(by_name("volume_anomalies").unwrap().sql.contains(&bound));
    }

    #[test]
    fn scan_window_and_partition_years_cover_the_lookback() {
        let p = params(&[]);
        let b = bind(
            "WHERE year BETWEEN :year_from AND :year_to AND d >= :scan_from",
            &p,
            Placeholders::Question,
        )
        .unwrap();
        assert_eq!(b.values, ["2019", "2021", "2019-11-28"]);
    }

    #[test]
    fn unknown_markers_are_bugs_not_text() {
        assert_eq!(
            bind("WHERE a = :nope", &params(&[]), Placeholders::Question),
            Err(UnknownMarker("nope".into()))
        );
    }

    #[test]
    fn bad_parameters_are_refused_with_a_reason() {
        let known = vec!["HSI".to_string(), "N225".to_string()];
        let e = Params::new(d("2021-02-01"), d("2021-01-01"), vec![], None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the window starts 2021-02-01 after it ends 2021-01-01"
        );
        for evil in [
            "HSI' OR '1'='1",
            "HSI; DROP TABLE bars",
            "a b",
            "",
            "x\u{2019}",
            "HSI)--",
        ] {
            let e = Params::new(d("2021-01-01"), d("2021-02-01"), vec![evil.into()], None);
            assert_eq!(e, Err(ParamError::BadSymbol(evil.into())), "{evil:?}");
        }
        let e = Params::new(
            d("2021-01-01"),
            d("2021-02-01"),
            vec!["IXIC".into()],
            Some(&known),
        );
        assert_eq!(
            e.unwrap_err().to_string(),
            "symbol \"IXIC\" is not in the lake (known: HSI, N225)"
        );
        let many = |n: usize| (0..n).map(|i| format!("S{i}")).collect::<Vec<_>>();
        assert_eq!(
            Params::new(d("2021-01-01"), d("2021-02-01"), many(51), None),
            Err(ParamError::TooMany(51))
        );
        assert!(ParamError::TooMany(51).to_string().starts_with(
            "51 symbols given; at most 50 (a named list gets its full correlation matrix"
        ));
        assert_eq!(
            Params::new(d("2021-01-01"), d("2021-02-01"), many(50), None)
                .unwrap()
                .symbols
                .len(),
            50
        );
        let p = params(&[]);
        assert_eq!(p.clone().with_pairs(0), Err(ParamError::BadPairs(0)));
        assert_eq!(p.clone().with_pairs(101), Err(ParamError::BadPairs(101)));
        assert_eq!(p.clone().with_pairs(100).unwrap().pairs, 100);
        assert_eq!(
            p.clone().with_benchmark(Some("HSI'--".into()), None),
            Err(ParamError::BadSymbol("HSI'--".into()))
        );
        assert_eq!(
            p.clone()
                .with_benchmark(Some("IXIC".into()), Some(&known))
                .unwrap_err()
                .to_string(),
            "symbol \"IXIC\" is not in the lake (known: HSI, N225)"
        );
        let b = p.clone().with_benchmark(Some(" HSI ".into()), Some(&known));
        assert_eq!(b.unwrap().benchmark.as_deref(), Some("HSI"));
        assert_eq!(
            p.with_benchmark(Some("".into()), None).unwrap().benchmark,
            None
        );
        assert!(matches!(
            Params::date("from", "2021-13-01"),
            Err(ParamError::BadDate { which: "from", .. })
        ));
        assert_eq!(athena_literal("O'Neil"), "'O''Neil'");
        let ok = Params::new(
            d("2021-01-01"),
            d("2021-01-01"),
            vec!["^HSI".into(), "^HSI".into()],
            None,
        )
        .unwrap();
        assert_eq!(ok.symbols, ["^HSI"], "duplicates dropped");
    }
}
