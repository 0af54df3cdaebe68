//! One way to run the insight suite, whatever the engine: bind each insight's SQL in the
//! engine's placeholder style, run it before a deadline, check its columns, and turn any
//! failure into that insight's `error` so the others still run. The insights Lambda
//! implements [`Engine`] with Athena, the local runner with DataFusion; the report they fill
//! is the same.

use super::{all, bind, Insight, Params, Placeholders};
use crate::report::{InsightResult, Report};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A query's answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Column names.
    pub columns: Vec<String>,
    /// Data rows: null, a number or a string per cell (dates as `YYYY-MM-DD`).
    pub rows: Vec<Vec<Value>>,
}

/// An engine that runs one bound SQL text.
#[allow(async_fn_in_trait)]
pub trait Engine {
    /// Its name in the report (`Athena`, `DataFusion`).
    const NAME: &'static str;
    /// The placeholders its SQL takes.
    const PLACEHOLDERS: Placeholders;
    /// Runs `sql` with `values` bound to its placeholders, stopping at `deadline` when given;
    /// an error says what the engine answered.
    async fn query(
        &self,
        sql: &str,
        values: &[String],
        deadline: Option<Instant>,
    ) -> Result<Rows, String>;
}

/// How long the suite may take.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// No insight starts after this, and none runs past it.
    pub deadline: Option<Instant>,
    /// The longest one insight may run.
    pub per_insight: Option<Duration>,
}

/// The result of `insight` with `rows`, or failed with `error`.
fn result(
    insight: &Insight,
    outcome: Result<Vec<Vec<Value>>, String>,
    elapsed: Duration,
) -> InsightResult {
    let (rows, error) = match outcome {
        Ok(rows) => (rows, None),
        Err(e) => (vec![], Some(e)),
    };
    InsightResult {
        name: insight.name.to_string(),
        title: insight.title.to_string(),
        description: insight.description.to_string(),
        columns: insight.columns.iter().map(|c| c.to_string()).collect(),
        rows,
        error,
        elapsed_ms: elapsed.as_millis() as u64,
    }
}

/// Runs one insight; any failure becomes the result's `error`.
pub async fn run_one<E: Engine>(
    engine: &E,
    insight: &Insight,
    params: &Params,
    deadline: Option<Instant>,
) -> InsightResult {
    let t0 = Instant::now();
    let outcome = async {
        let bound = bind(insight.sql, params, E::PLACEHOLDERS)
            .map_err(|e| format!("binding the SQL: {e}"))?;
        let rows = engine.query(&bound.sql, &bound.values, deadline).await?;
        if rows.columns != insight.columns {
            return Err(format!(
                "returned columns {:?}, expected {:?}",
                rows.columns, insight.columns
            ));
        }
        Ok(rows.rows)
    }
    .await;
    result(insight, outcome, t0.elapsed())
}

/// Runs every insight in order, each within `limits`, telling `progress` about each result
/// as it comes; an insight reached after the deadline is reported as not run.
pub async fn run_all<E: Engine>(
    engine: &E,
    params: &Params,
    generated_at: String,
    limits: Limits,
    mut progress: impl FnMut(&InsightResult),
) -> Report {
    let mut results = vec![];
    for insight in all() {
        let now = Instant::now();
        let r = match limits.deadline {
            Some(d) if now >= d => result(
                &insight,
                Err("not run: the invocation's time ran out before it started".into()),
                Duration::ZERO,
            ),
            _ => {
                let own = match (limits.deadline, limits.per_insight) {
                    (Some(d), Some(p)) => Some(d.min(now + p)),
                    (d, p) => d.or(p.map(|p| now + p)),
                };
                run_one(engine, &insight, params, own).await
            }
        };
        progress(&r);
        results.push(r);
    }
    Report {
        generated_at,
        engine: E::NAME.into(),
        params: params.clone(),
        insights: results,
        rejects: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Answers every query with the columns of the insight whose text it is, one row, except
    /// the insight named `fail`, whose query fails; remembers what it was given.
    struct Canned {
        fail: &'static str,
        seen: RefCell<Vec<(String, usize)>>,
    }

    impl Engine for Canned {
        const NAME: &'static str = "Canned";
        const PLACEHOLDERS: Placeholders = Placeholders::Question;
        async fn query(
            &self,
            sql: &str,
            values: &[String],
            _deadline: Option<Instant>,
        ) -> Result<Rows, String> {
            let insight = all()
                .into_iter()
                .find(|i| sql.starts_with(&format!("-- name: {}\n", i.name)))
                .ok_or("unknown SQL")?;
            self.seen
                .borrow_mut()
                .push((insight.name.to_string(), values.len()));
            if insight.name == self.fail {
                return Err("engine says no".into());
            }
            Ok(Rows {
                columns: insight.columns.iter().map(|c| c.to_string()).collect(),
                rows: vec![vec![Value::from(1)]],
            })
        }
    }

    /// Runs a future that never waits (the canned engine answers at once).
    fn ready<T>(f: impl std::future::Future<Output = T>) -> T {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(f).poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("the canned engine never waits"),
        }
    }

    fn params() -> Params {
        Params::new(
            Params::date("from", "2021-01-01").unwrap(),
            Params::date("to", "2021-12-31").unwrap(),
            vec![],
            None,
        )
        .unwrap()
    }

    #[test]
    fn every_insight_runs_bound_and_one_failure_stops_no_other() {
        let engine = Canned {
            fail: "volatility",
            seen: RefCell::new(vec![]),
        };
        let mut progress = vec![];
        let report = ready(run_all(
            &engine,
            &params(),
            "t".into(),
            Limits::default(),
            |r| progress.push(r.name.clone()),
        ));
        assert_eq!(report.engine, "Canned");
        assert_eq!(report.insights.len(), all().len());
        assert_eq!(progress.len(), all().len());
        for r in &report.insights {
            if r.name == "volatility" {
                assert_eq!(r.error.as_deref(), Some("engine says no"));
                assert!(r.rows.is_empty());
            } else {
                assert_eq!(r.error, None, "{}", r.name);
                assert_eq!(r.rows.len(), 1);
            }
        }
        // Every text went with its bound values, `?` style: none empty.
        assert!(engine.seen.borrow().iter().all(|(_, n)| *n > 0));
    }

    #[test]
    fn past_the_deadline_nothing_runs_and_each_insight_says_so() {
        let engine = Canned {
            fail: "",
            seen: RefCell::new(vec![]),
        };
        let past = Limits {
            deadline: Some(Instant::now()),
            per_insight: None,
        };
        let report = ready(run_all(&engine, &params(), "t".into(), past, |_| {}));
        assert!(engine.seen.borrow().is_empty());
        assert!(report.insights.iter().all(|r| r.error.as_deref()
            == Some("not run: the invocation's time ran out before it started")));
    }
}
