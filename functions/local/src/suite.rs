//! The insight suite on the local engine: DataFusion as a [`runner::Engine`] (`$n`
//! placeholders, no deadline), so the core's one runner binds and runs every insight; one
//! failing insight is reported as failed and does not stop the others.

use crate::engine::{Engine, EngineError};
use std::time::Instant;
use stockstream_core::insights::runner::{self, Limits, Rows};
use stockstream_core::insights::{Params, Placeholders};
use stockstream_core::report::{InsightResult, Report};

impl runner::Engine for Engine {
    const NAME: &'static str = "DataFusion";
    const PLACEHOLDERS: Placeholders = Placeholders::Dollar;

    /// [`Engine::query`]; a local run has no deadline.
    async fn query(
        &self,
        sql: &str,
        values: &[String],
        _deadline: Option<Instant>,
    ) -> Result<Rows, String> {
        Engine::query(self, sql, values)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Runs every insight, in order, telling `progress` about each result as it comes.
pub async fn run_all(
    engine: &Engine,
    params: &Params,
    generated_at: String,
    progress: impl FnMut(&InsightResult),
) -> Report {
    runner::run_all(engine, params, generated_at, Limits::default(), progress).await
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
