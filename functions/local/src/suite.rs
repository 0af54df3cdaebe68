//! The insight suite on the local engine: every insight of the core library, bound with
//! `$n` placeholders, run on DataFusion; one failing insight is reported as failed and does
//! not stop the others.

use crate::engine::{Engine, EngineError};
use std::time::Instant;
use stockstream_core::insights::{self, bind, Insight, Params, Placeholders};
use stockstream_core::report::{InsightResult, Report};

/// Runs one insight.
pub async fn run_one(engine: &Engine, insight: &Insight, params: &Params) -> InsightResult {
    let t0 = Instant::now();
    let outcome = async {
        let bound = bind(insight.sql, params, Placeholders::Dollar)
            .map_err(|e| EngineError::Query(e.to_string()))?;
        let rows = engine.query(&bound.sql, &bound.values).await?;
        if rows.columns != insight.columns {
            return Err(EngineError::Query(format!(
                "returned columns {:?}, expected {:?}",
                rows.columns, insight.columns
            )));
        }
        Ok(rows.rows)
    }
    .await;
    let (rows, error) = match outcome {
        Ok(rows) => (rows, None),
        Err(e) => (vec![], Some(e.to_string())),
    };
    InsightResult {
        name: insight.name.to_string(),
        title: insight.title.to_string(),
        description: insight.description.to_string(),
        columns: insight.columns.iter().map(|c| c.to_string()).collect(),
        rows,
        error,
        elapsed_ms: t0.elapsed().as_millis() as u64,
    }
}

/// Runs every insight, in order, telling `progress` about each result as it comes.
pub async fn run_all(
    engine: &Engine,
    params: &Params,
    generated_at: String,
    mut progress: impl FnMut(&InsightResult),
) -> Report {
    let mut results = vec![];
    for insight in insights::all() {
        let r = run_one(engine, &insight, params).await;
        progress(&r);
        results.push(r);
    }
    Report {
        generated_at,
        engine: "DataFusion".into(),
        params: params.clone(),
        insights: results,
    }
}

/// The lake's symbols, sorted (to check a report's symbols against).
pub async fn symbols(engine: &Engine, table: &str) -> Result<Vec<String>, EngineError> {
    let rows = engine
        .query(
            &format!("SELECT DISTINCT symbol FROM {table} ORDER BY symbol"),
            &[],
        )
        .await?;
    Ok(rows
        .rows
        .into_iter()
        .filter_map(|r| r.into_iter().next()?.as_str().map(str::to_string))
        .collect())
}

/// The lake's last trading day, `None` when it is empty.
pub async fn last_day(engine: &Engine, table: &str) -> Result<Option<String>, EngineError> {
    let rows = engine
        .query(
            &format!("SELECT CAST(max(trade_date) AS VARCHAR) FROM {table}"),
            &[],
        )
        .await?;
    Ok(rows
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.as_str().map(str::to_string)))
}
