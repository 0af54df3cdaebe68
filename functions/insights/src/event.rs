//! The scheduled event and the report parameters it implies.
//!
//! An EventBridge schedule delivers the "Scheduled Event" envelope; its `time` is when the
//! rule fired, and the report ends the day before (the last complete trading day). A rule's
//! or a hand-made invocation's `detail` may override `from`, `to`, `symbols`, and the
//! correlation's `benchmark` (a symbol, or "" for the equal-weight mean) and `pairs`, e.g. to
//! re-run a past report; every value goes through [`Params::new`] / [`Params::date`], the
//! same checks as the local runner's flags, so nothing unchecked reaches the SQL.

use crate::config::InsightsConfig;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::Value;
use stockstream_core::insights::Params;
pub use stockstream_lambda::event::ScheduledEvent;

/// A report parameter that cannot be used, with what was wrong and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad report parameter: {0}")]
pub struct BadParameter(pub String);

fn bad(text: impl Into<String>) -> BadParameter {
    BadParameter(text.into())
}

/// The fields `detail` may carry.
const DETAIL_FIELDS: [&str; 5] = ["from", "to", "symbols", "benchmark", "pairs"];

/// The report's window and symbols: `to` is the day before the event's time (or `now`),
/// `from` is `config.days` before `to`, the symbols are the configured ones; `detail`
/// overrides any of them.
pub fn params(
    event: &ScheduledEvent,
    config: &InsightsConfig,
    now: DateTime<Utc>,
) -> Result<Params, BadParameter> {
    let fired = match &event.time {
        None => now,
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map_err(|_| bad(format!("event time {t:?} is not an RFC 3339 time")))?
            .with_timezone(&Utc),
    };
    let detail = match &event.detail {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => return Err(bad(format!("event detail must be an object, not {other}"))),
    };
    if let Some(unknown) = detail.keys().find(|k| !DETAIL_FIELDS.contains(&k.as_str())) {
        return Err(bad(format!(
            "event detail has an unknown field {unknown:?} (known: {})",
            DETAIL_FIELDS.join(", ")
        )));
    }
    let date = |which: &'static str| -> Result<Option<NaiveDate>, BadParameter> {
        match detail.get(which) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Params::date(which, s)
                .map(Some)
                .map_err(|e| bad(format!("event detail: {e}"))),
            Some(other) => Err(bad(format!(
                "event detail: {which} must be a YYYY-MM-DD string, not {other}"
            ))),
        }
    };
    let to = date("to")?.unwrap_or(fired.date_naive() - Duration::days(1));
    let from = date("from")?.unwrap_or(to - Duration::days(i64::from(config.days)));
    let symbols = match detail.get("symbols") {
        None | Some(Value::Null) => config.symbols.clone(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_string()),
                other => Err(bad(format!(
                    "event detail: symbols must be strings, not {other}"
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(bad(format!(
                "event detail: symbols must be a list of strings or a comma-separated string, not {other}"
            )))
        }
    };
    let benchmark = match detail.get("benchmark") {
        None | Some(Value::Null) => config.benchmark.clone(),
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(bad(format!(
                "event detail: benchmark must be a symbol string (\"\" for the equal-weight mean), not {other}"
            )))
        }
    };
    let pairs = match detail.get("pairs") {
        None | Some(Value::Null) => config.pairs,
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                bad(format!(
                    "event detail: pairs must be a whole number, not {v}"
                ))
            })?,
    };
    Params::new(from, to, symbols, None)
        .and_then(|p| p.with_benchmark(benchmark, None))
        .and_then(|p| p.with_pairs(pairs))
        .map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> InsightsConfig {
        InsightsConfig {
            workgroup: "wg".into(),
            database: "db".into(),
            output: None,
            bucket: "b".into(),
            prefix: "reports".into(),
            days: 365,
            symbols: vec!["HSI".into()],
            benchmark: Some("HSI".into()),
            pairs: 10,
            insight_deadline: None,
            reports_topic: None,
            link_days: 7,
        }
    }

    fn sample() -> ScheduledEvent {
        stockstream_lambda::testing::sample_event("insights-scheduled")
    }

    fn d(s: &str) -> NaiveDate {
        Params::date("to", s).unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_schedule_reports_the_year_to_yesterday() {
        let e = sample();
        assert_eq!(e.detail_type.as_deref(), Some("Scheduled Event"));
        let p = params(&e, &config(), now()).unwrap();
        assert_eq!(
            (p.from, p.to, p.symbols),
            (d("2025-11-25"), d("2026-11-25"), vec!["HSI".to_string()])
        );
        // Without a time (a hand-made `{}` invocation) the clock decides.
        let p = params(&ScheduledEvent::default(), &config(), now()).unwrap();
        assert_eq!(p.to, d("2029-12-31"));
    }

    #[test]
    fn detail_overrides_are_checked() {
        let mut e = sample();
        e.detail =
            Some(json!({"from": "2021-01-04", "to": "2021-06-30", "symbols": ["N225", "^HSI"]}));
        let p = params(&e, &config(), now()).unwrap();
        assert_eq!((p.from, p.to), (d("2021-01-04"), d("2021-06-30")));
        assert_eq!(p.symbols, ["N225", "^HSI"]);
        e.detail = Some(json!({"to": "2021-06-30", "symbols": "N225, IXIC"}));
        let p = params(&e, &config(), now()).unwrap();
        assert_eq!((p.from, p.to), (d("2020-06-30"), d("2021-06-30")));
        assert_eq!(p.symbols, ["N225", "IXIC"]);
        e.detail = Some(json!({"symbols": []}));
        let p = params(&e, &config(), now()).unwrap();
        assert!(p.symbols.is_empty());
        assert_eq!(
            (p.benchmark.as_deref(), p.pairs),
            (Some("HSI"), 10),
            "configured"
        );
        e.detail = Some(json!({"benchmark": "", "pairs": 3}));
        let p = params(&e, &config(), now()).unwrap();
        assert_eq!((p.benchmark, p.pairs), (None, 3), "the equal-weight mean");
        e.detail = Some(json!({"benchmark": "N225"}));
        assert_eq!(
            params(&e, &config(), now()).unwrap().benchmark.as_deref(),
            Some("N225")
        );

        let cases = [
            (json!({"to": "2021-02-30"}), "bad report parameter: event detail: to date \"2021-02-30\" is not a date (YYYY-MM-DD)"),
            (json!({"from": "2022-01-01", "to": "2021-01-01"}), "bad report parameter: the window starts 2022-01-01 after it ends 2021-01-01"),
            (json!({"symbols": ["HSI' OR '1'='1"]}), "bad report parameter: symbol \"HSI' OR '1'='1\" is not a ticker (1–20 of A–Z, a–z, 0–9, ^ . _ = -)"),
            (json!({"symbols": [1]}), "bad report parameter: event detail: symbols must be strings, not 1"),
            (json!({"form": "2021-01-01"}), "bad report parameter: event detail has an unknown field \"form\" (known: from, to, symbols, benchmark, pairs)"),
            (json!({"pairs": 0}), "bad report parameter: 0 correlation pairs asked; from 1 to 100"),
            (json!({"pairs": "ten"}), "bad report parameter: event detail: pairs must be a whole number, not \"ten\""),
            (json!({"benchmark": 1}), "bad report parameter: event detail: benchmark must be a symbol string (\"\" for the equal-weight mean), not 1"),
            (json!({"benchmark": "HSI;"}), "bad report parameter: symbol \"HSI;\" is not a ticker (1–20 of A–Z, a–z, 0–9, ^ . _ = -)"),
            (json!({"to": 20210101}), "bad report parameter: event detail: to must be a YYYY-MM-DD string, not 20210101"),
            (json!("x"), "bad report parameter: event detail must be an object, not \"x\""),
        ];
        for (detail, want) in cases {
            e.detail = Some(detail);
            assert_eq!(params(&e, &config(), now()).unwrap_err().to_string(), want);
        }
        let e = ScheduledEvent {
            time: Some("yesterday".into()),
            ..sample()
        };
        assert_eq!(
            params(&e, &config(), now()).unwrap_err().to_string(),
            "bad report parameter: event time \"yesterday\" is not an RFC 3339 time"
        );
    }
}
