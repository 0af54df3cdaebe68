//! The insights function's settings, read once from the environment at start-up and validated
//! there, so a misconfigured function fails its first cold start with a clear message instead
//! of running eight queries that cannot work.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `ATHENA_WORKGROUP` | workgroup the queries run in (required) | — |
//! | `ATHENA_DATABASE` | Glue database of the lake's tables (required) | — |
//! | `ATHENA_OUTPUT` | `s3://` URL for query results; the workgroup may enforce its own | — |
//! | `REPORT_BUCKET` | bucket the report is written to (required) | — |
//! | `REPORT_PREFIX` | key prefix of the reports | `reports` |
//! | `REPORT_DAYS` | length of the report window, ending yesterday | `365` |
//! | `REPORT_SYMBOLS` | comma-separated symbols (at most 50, each pair's correlation reported); empty means every symbol | — |
//! | `BENCHMARK_SYMBOL` | symbol (an index in the lake) each symbol's returns are correlated with; empty: the equal-weight mean | — |
//! | `CORRELATION_PAIRS` | most and least correlated pairs listed, each (1 to 100) | `10` |
//! | `INSIGHT_DEADLINE_SECONDS` | longest one insight's query may run | — (the invocation's time) |
//! | `REPORTS_TOPIC_ARN` | SNS topic told of each report (summary and link); empty: nobody is told | — |
//! | `REPORT_LINK_DAYS` | days the report's presigned link lasts; more than 7 (S3's limit) is signed for 7 | `7` |

use chrono::NaiveDate;
use std::time::Duration;
use stockstream_core::insights::{Params, DEFAULT_PAIRS, MAX_PAIRS};
pub use stockstream_lambda::config::ConfigError;

/// Everything the handler needs besides its clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightsConfig {
    /// Athena workgroup.
    pub workgroup: String,
    /// Catalog database.
    pub database: String,
    /// Query result location, when the function sets one.
    pub output: Option<String>,
    /// Report bucket.
    pub bucket: String,
    /// Report key prefix, without slashes at either end.
    pub prefix: String,
    /// Days in the report window before its last day.
    pub days: u32,
    /// Symbols to report on (checked tickers); empty means all.
    pub symbols: Vec<String>,
    /// The correlation's benchmark symbol (a checked ticker); `None`: the equal-weight mean.
    pub benchmark: Option<String>,
    /// Most and least correlated pairs to list.
    pub pairs: u32,
    /// Longest run of one insight's query.
    pub insight_deadline: Option<Duration>,
    /// SNS topic the report's message goes to, when set.
    pub reports_topic: Option<String>,
    /// Days the report's link should last, as given (signed for at most 7).
    pub link_days: u32,
}

/// Longest report window: a century is certainly a typo beyond it.
const MAX_DAYS: u32 = 36_500;

fn err(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::new(variable, problem)
}

impl InsightsConfig {
    /// Reads the settings through `get` (the process environment in `main`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let value = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let required = |k: &'static str, what: &str| {
            value(k).ok_or_else(|| err(k, format!("is not set; {what}")))
        };
        let workgroup = required("ATHENA_WORKGROUP", "name the Athena workgroup")?;
        let database = required("ATHENA_DATABASE", "name the Glue database of the lake")?;
        let output = match value("ATHENA_OUTPUT") {
            None => None,
            Some(o) => {
                let bucket = o
                    .strip_prefix("s3://")
                    .map(|r| r.split('/').next().unwrap_or(""));
                if bucket.is_none_or(str::is_empty) {
                    return Err(err(
                        "ATHENA_OUTPUT",
                        format!("{o:?} is not an s3:// URL (s3://bucket/prefix/)"),
                    ));
                }
                Some(o)
            }
        };
        let bucket = required("REPORT_BUCKET", "name the bucket the reports go to")?;
        if bucket.contains('/') || bucket.contains(' ') {
            return Err(err(
                "REPORT_BUCKET",
                format!("{bucket:?} is not a bucket name (no slashes or spaces; put paths in REPORT_PREFIX)"),
            ));
        }
        let prefix = get("REPORT_PREFIX").unwrap_or_else(|| "reports".into());
        let prefix = prefix.trim().trim_matches('/').to_string();
        if prefix.is_empty() {
            return Err(err(
                "REPORT_PREFIX",
                "is empty; reports need their own prefix",
            ));
        }
        let days = match value("REPORT_DAYS") {
            None => 365,
            Some(d) => match d.parse::<u32>() {
                Ok(n) if n <= MAX_DAYS => n,
                _ => {
                    return Err(err(
                        "REPORT_DAYS",
                        format!("{d:?} is not a whole number of days from 0 to {MAX_DAYS}"),
                    ))
                }
            },
        };
        let symbols: Vec<String> = value("REPORT_SYMBOLS")
            .map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        // The same checks a report's parameters get, once, at start.
        let any_day = NaiveDate::default();
        let any = Params::new(any_day, any_day, symbols, None)
            .map_err(|e| err("REPORT_SYMBOLS", e.to_string()))?;
        let symbols = any.symbols.clone();
        let benchmark = any
            .clone()
            .with_benchmark(value("BENCHMARK_SYMBOL"), None)
            .map_err(|e| err("BENCHMARK_SYMBOL", e.to_string()))?
            .benchmark;
        let pairs = match value("CORRELATION_PAIRS") {
            None => DEFAULT_PAIRS,
            Some(n) => n
                .parse::<u32>()
                .ok()
                .and_then(|n| any.clone().with_pairs(n).ok())
                .map(|p| p.pairs)
                .ok_or_else(|| {
                    err(
                        "CORRELATION_PAIRS",
                        format!("{n:?} is not a whole number from 1 to {MAX_PAIRS}"),
                    )
                })?,
        };
        let insight_deadline = match value("INSIGHT_DEADLINE_SECONDS") {
            None => None,
            Some(s) => match s.parse::<u64>() {
                Ok(n) if (1..=900).contains(&n) => Some(Duration::from_secs(n)),
                _ => {
                    return Err(err(
                        "INSIGHT_DEADLINE_SECONDS",
                        format!("{s:?} is not a whole number of seconds from 1 to 900"),
                    ))
                }
            },
        };
        let reports_topic = match value("REPORTS_TOPIC_ARN") {
            None => None,
            Some(arn) => {
                // arn:partition:sns:region:account:name
                let parts: Vec<&str> = arn.split(':').collect();
                let ok = parts.len() == 6
                    && parts[0] == "arn"
                    && parts[2] == "sns"
                    && parts.iter().all(|p| !p.is_empty());
                if !ok {
                    return Err(err(
                        "REPORTS_TOPIC_ARN",
                        format!(
                            "{arn:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
                        ),
                    ));
                }
                Some(arn)
            }
        };
        let link_days = match value("REPORT_LINK_DAYS") {
            None => 7,
            Some(d) => match d.parse::<u32>() {
                Ok(n) if (1..=MAX_DAYS).contains(&n) => n,
                _ => {
                    return Err(err(
                        "REPORT_LINK_DAYS",
                        format!(
                            "{d:?} is not a whole number of days from 1 to {MAX_DAYS} (a link lasts 7 at most)"
                        ),
                    ))
                }
            },
        };
        Ok(InsightsConfig {
            workgroup,
            database,
            output,
            bucket,
            prefix,
            days,
            symbols,
            benchmark,
            pairs,
            insight_deadline,
            reports_topic,
            link_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stockstream_lambda::config::pairs as env;

    const BASE: [(&str, &str); 3] = [
        ("ATHENA_WORKGROUP", "stockstream"),
        ("ATHENA_DATABASE", "stockstream_lake"),
        ("REPORT_BUCKET", "reports-bucket"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        BASE.iter().chain(extra).copied().collect()
    }

    #[test]
    fn defaults_and_overrides() {
        let c = InsightsConfig::from_env(env(&BASE)).unwrap();
        assert_eq!(
            c,
            InsightsConfig {
                workgroup: "stockstream".into(),
                database: "stockstream_lake".into(),
                output: None,
                bucket: "reports-bucket".into(),
                prefix: "reports".into(),
                days: 365,
                symbols: vec![],
                benchmark: None,
                pairs: 10,
                insight_deadline: None,
                reports_topic: None,
                link_days: 7,
            }
        );
        let c = InsightsConfig::from_env(env(&with(&[
            ("ATHENA_OUTPUT", "s3://athena-results/stockstream/"),
            ("REPORT_PREFIX", "/r/daily/"),
            ("REPORT_DAYS", "30"),
            ("REPORT_SYMBOLS", " HSI, N225,,HSI "),
            ("INSIGHT_DEADLINE_SECONDS", "120"),
            (
                "REPORTS_TOPIC_ARN",
                " arn:aws:sns:eu-west-1:123456789012:reports ",
            ),
            ("REPORT_LINK_DAYS", "3"),
            ("BENCHMARK_SYMBOL", " ^HSI "),
            ("CORRELATION_PAIRS", "25"),
        ])))
        .unwrap();
        assert_eq!((c.benchmark.as_deref(), c.pairs), (Some("^HSI"), 25));
        assert_eq!(
            c.output.as_deref(),
            Some("s3://athena-results/stockstream/")
        );
        assert_eq!((c.prefix.as_str(), c.days), ("r/daily", 30));
        assert_eq!(c.symbols, ["HSI", "N225"], "trimmed, deduplicated");
        assert_eq!(c.insight_deadline, Some(Duration::from_secs(120)));
        assert_eq!(
            c.reports_topic.as_deref(),
            Some("arn:aws:sns:eu-west-1:123456789012:reports")
        );
        assert_eq!(c.link_days, 3);
        // Beyond S3's limit is accepted as asked; the link is signed for 7 (notify::link_days).
        let c = InsightsConfig::from_env(env(&with(&[("REPORT_LINK_DAYS", "30")]))).unwrap();
        assert_eq!(c.link_days, 30);
    }

    #[test]
    fn errors_name_the_variable() {
        let e = InsightsConfig::from_env(env(&[])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ATHENA_WORKGROUP: is not set; name the Athena workgroup"
        );
        for missing in ["ATHENA_WORKGROUP", "ATHENA_DATABASE", "REPORT_BUCKET"] {
            let pairs: Vec<_> = BASE
                .iter()
                .filter(|(k, _)| *k != missing)
                .copied()
                .collect();
            let e = InsightsConfig::from_env(env(&pairs)).unwrap_err();
            assert_eq!(e.variable, missing);
            assert!(e.problem.starts_with("is not set"), "{e}");
        }
        let cases = [
            ("ATHENA_OUTPUT", "athena-results/x"),
            ("ATHENA_OUTPUT", "s3:///x"),
            ("REPORT_BUCKET", "bucket/reports"),
            ("REPORT_PREFIX", "//"),
            ("REPORT_DAYS", "-1"),
            ("REPORT_DAYS", "a year"),
            ("REPORT_SYMBOLS", "HSI,N225'--"),
            ("INSIGHT_DEADLINE_SECONDS", "0"),
            ("INSIGHT_DEADLINE_SECONDS", "1m"),
            ("REPORTS_TOPIC_ARN", "reports"),
            (
                "REPORTS_TOPIC_ARN",
                "arn:aws:sqs:eu-west-1:123456789012:reports",
            ),
            ("REPORTS_TOPIC_ARN", "arn:aws:sns:eu-west-1::reports"),
            ("REPORT_LINK_DAYS", "0"),
            ("REPORT_LINK_DAYS", "a week"),
            ("BENCHMARK_SYMBOL", "HSI OR 1=1"),
            ("CORRELATION_PAIRS", "0"),
            ("CORRELATION_PAIRS", "101"),
            ("CORRELATION_PAIRS", "ten"),
        ];
        for (k, v) in cases {
            let pairs: Vec<_> = BASE
                .iter()
                .filter(|(b, _)| *b != k)
                .copied()
                .chain([(k, v)])
                .collect();
            let e = InsightsConfig::from_env(env(&pairs)).unwrap_err();
            assert_eq!(e.variable, k, "{v}");
        }
        let e =
            InsightsConfig::from_env(env(&with(&[("REPORT_SYMBOLS", "HSI; DROP")]))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "REPORT_SYMBOLS: symbol \"HSI; DROP\" is not a ticker (1–20 of A–Z, a–z, 0–9, ^ . _ = -)"
        );
    }
}
