//! The local engine: DataFusion over the catalog's tables, running the same insight SQL text
//! that Athena runs (bound with `$n` placeholders instead of `?`).
//!
//! Each catalog table becomes a listing table over its folder with the partition keys as
//! string columns, so a `year BETWEEN …` filter skips whole folders as Athena's partition
//! pruning does.

use crate::catalog::{arrow_type, Catalog};
use crate::cte;
use crate::windows::WholeWindows;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    TimestampMillisecondType, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::datasource::MemTable;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::scalar::ScalarValue;
use datafusion::sql::parser::Statement as DfStatement;
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A query's failure, with the engine's message.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A catalog table that cannot be registered.
    #[error("table {table}: {problem}")]
    Table {
        /// Table name.
        table: String,
        /// What is wrong.
        problem: String,
    },
    /// DataFusion refused or failed the query.
    #[error("{0}")]
    Query(String),
}

impl From<datafusion::error::DataFusionError> for EngineError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        EngineError::Query(e.to_string())
    }
}

/// The Arrow type the engine reads a catalog column as: the catalog's type, but strings as
/// `Utf8View`, as DataFusion itself reads Parquet strings when it infers the schema.
///
/// Views make copying and comparing short strings cheap: the `correlation` self-join copies
/// and compares two symbols for each of its ~263 million candidate pairs on the 10M-row
/// benchmark lake, and groups ~131 million pairs by them. With plain `Utf8` the query took
/// ~13 s; with views ~10 s (BENCHMARKS.md).
fn engine_type(glue: &str) -> Option<DataType> {
    arrow_type(glue).map(|t| match t {
        DataType::Utf8 => DataType::Utf8View,
        t => t,
    })
}

/// A query result: column names and rows of JSON cells (dates as `YYYY-MM-DD`), as every
/// engine of the insight runner answers.
pub use stockstream_core::insights::runner::Rows;

/// DataFusion with the catalog's tables registered.
pub struct Engine {
    ctx: SessionContext,
}

impl Engine {
    /// Registers every table of `catalog`, whose locations are relative to `bucket`.
    pub async fn new(bucket: &Path, catalog: &Catalog) -> Result<Engine, EngineError> {
        // DataFusion's own `DATAFUSION_*` variables (e.g.
        // `DATAFUSION_EXECUTION_TARGET_PARTITIONS`) tune the engine without a rebuild.
        let mut config = SessionConfig::from_env()
            .map_err(|e| EngineError::Query(format!("DATAFUSION_* settings: {e}")))?
            .with_information_schema(false);
        // Data hashed by symbol is already partitioned for a grouping or window by symbol
        // and day: DataFusion takes it so only from 4 partitions up, and on 2 cores it
        // re-hashed 549K rows and aggregated them in two stages for `volume_anomalies`'
        // day volumes (BENCHMARKS.md). Its own variable still wins.
        if std::env::var_os("DATAFUSION_OPTIMIZER_SUBSET_REPARTITION_THRESHOLD").is_none() {
            config.options_mut().optimizer.subset_repartition_threshold = 1;
        }
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(WholeWindows))
            .build();
        let ctx = SessionContext::new_with_state(state);
        for (name, table) in &catalog.tables {
            let bad = |problem: String| EngineError::Table {
                table: name.clone(),
                problem,
            };
            let mut fields = vec![];
            for c in &table.columns {
                let t = engine_type(&c.kind)
                    .ok_or_else(|| bad(format!("column {} has unknown type {}", c.name, c.kind)))?;
                fields.push(Field::new(&c.name, t, true));
            }
            let dir = bucket.join(&table.location);
            let dir = dir
                .canonicalize()
                .map_err(|e| bad(format!("{}: {e}", dir.display())))?;
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet")
                .with_table_partition_cols(
                    table
                        .partition_keys
                        .iter()
                        .map(|k| (k.clone(), DataType::Utf8))
                        .collect(),
                );
            let url = format!("{}/", dir.display());
            ctx.register_listing_table(
                name.as_str(),
                &url,
                options,
                Some(Arc::new(Schema::new(fields))),
                None,
            )
            .await?;
        }
        Ok(Engine { ctx })
    }

    /// Runs `sql` with `$1…$n` bound to `values` (strings). A CTE the text reads more than
    /// once is computed once, into memory, first (see [`crate::cte`]).
    pub async fn query(&self, sql: &str, values: &[String]) -> Result<Rows, EngineError> {
        let state = self.ctx.state();
        let dialect = state.config().options().sql_parser.dialect;
        let statement = match state.sql_to_statement(sql, &dialect)? {
            DfStatement::Statement(s) => *s,
            other => return rows(self.frame(&state, other, values).await?).await,
        };
        static TAG: AtomicU64 = AtomicU64::new(0);
        let split = cte::split(statement, TAG.fetch_add(1, Ordering::Relaxed));
        let mut tables = Tables(&self.ctx, vec![]);
        for step in split.steps {
            let df = self
                .frame(&state, DfStatement::Statement(Box::new(step.query)), values)
                .await?;
            let schema = Arc::new(df.schema().as_arrow().clone());
            let batches = df.collect().await?;
            // Spread over the session's partitions, so what reads it keeps both cores busy.
            let n = state.config().target_partitions().max(1);
            let mut parts = vec![vec![]; n];
            for (i, b) in batches.into_iter().enumerate() {
                parts[i % n].push(b);
            }
            let table = MemTable::try_new(schema, parts)?;
            self.ctx
                .register_table(step.table.as_str(), Arc::new(table))?;
            tables.1.push(step.table);
        }
        let statement = DfStatement::Statement(Box::new(split.statement));
        rows(self.frame(&state, statement, values).await?).await
    }

    /// `statement` planned in `state` and bound to `values`, ready to run.
    async fn frame(
        &self,
        state: &SessionState,
        statement: DfStatement,
        values: &[String],
    ) -> Result<DataFrame, EngineError> {
        let df = self
            .ctx
            .execute_logical_plan(state.statement_to_plan(statement).await?)
            .await?;
        if values.is_empty() {
            return Ok(df);
        }
        let params: Vec<ScalarValue> = values
            .iter()
            .map(|v| ScalarValue::Utf8(Some(v.clone())))
            .collect();
        Ok(df.with_param_values(params)?)
    }
}

/// Runs `df` into rows of JSON cells.
async fn rows(df: DataFrame) -> Result<Rows, EngineError> {
    let columns = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let batches = df.collect().await?;
    let mut rows = vec![];
    for b in &batches {
        append_rows(b, &mut rows)?;
    }
    Ok(Rows { columns, rows })
}

/// The memory tables of one query's computed CTEs, dropped from the session when it ends,
/// however it ends.
struct Tables<'a>(&'a SessionContext, Vec<String>);

impl Drop for Tables<'_> {
    fn drop(&mut self) {
        for t in &self.1 {
            let _ = self.0.deregister_table(t.as_str());
        }
    }
}

fn append_rows(batch: &RecordBatch, rows: &mut Vec<Vec<Value>>) -> Result<(), EngineError> {
    let start = rows.len();
    rows.extend((0..batch.num_rows()).map(|_| Vec::with_capacity(batch.num_columns())));
    for col in batch.columns() {
        for (i, row) in rows[start..].iter_mut().enumerate() {
            row.push(cell(col, i)?);
        }
    }
    Ok(())
}

fn float(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// One cell as JSON: numbers exact, NaN and infinities as null, dates ISO.
fn cell(a: &ArrayRef, i: usize) -> Result<Value, EngineError> {
    if a.is_null(i) {
        return Ok(Value::Null);
    }
    Ok(match a.data_type() {
        DataType::Utf8 => Value::from(a.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => Value::from(a.as_string::<i64>().value(i)),
        DataType::Utf8View => Value::from(a.as_string_view().value(i)),
        DataType::Float64 => float(a.as_primitive::<Float64Type>().value(i)),
        DataType::Float32 => float(f64::from(a.as_primitive::<Float32Type>().value(i))),
        DataType::Int64 => Value::from(a.as_primitive::<Int64Type>().value(i)),
        DataType::Int32 => Value::from(a.as_primitive::<Int32Type>().value(i)),
        DataType::Int16 => Value::from(a.as_primitive::<Int16Type>().value(i)),
        DataType::Int8 => Value::from(a.as_primitive::<Int8Type>().value(i)),
        DataType::UInt64 => Value::from(a.as_primitive::<UInt64Type>().value(i)),
        DataType::UInt32 => Value::from(a.as_primitive::<UInt32Type>().value(i)),
        DataType::Boolean => Value::from(a.as_boolean().value(i)),
        DataType::Date32 => Value::from(
            a.as_primitive::<Date32Type>()
                .value_as_date(i)
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
        DataType::Timestamp(TimeUnit::Millisecond, _) => Value::from(
            a.as_primitive::<TimestampMillisecondType>()
                .value_as_datetime(i)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string())
                .unwrap_or_default(),
        ),
        // A timestamp the SQL made (`CAST(NULL AS TIMESTAMP)` in a UNION widens the lake's
        // milliseconds to nanoseconds): shown in milliseconds like the lake's own.
        DataType::Timestamp(_, zone) => {
            let ms = datafusion::arrow::compute::cast(
                &a.slice(i, 1),
                &DataType::Timestamp(TimeUnit::Millisecond, zone.clone()),
            )
            .map_err(|e| EngineError::Query(e.to_string()))?;
            return cell(&ms, 0);
        }
        DataType::Dictionary(_, _) => {
            let s = arrow_cast_string(a, i)?;
            Value::from(s)
        }
        other => {
            return Err(EngineError::Query(format!(
                "result column of type {other} is not supported"
            )))
        }
    })
}

fn arrow_cast_string(a: &ArrayRef, i: usize) -> Result<String, EngineError> {
    let s = datafusion::arrow::compute::cast(&a.slice(i, 1), &DataType::Utf8)
        .map_err(|e| EngineError::Query(e.to_string()))?;
    Ok(s.as_string::<i32>().value(0).to_string())
}
