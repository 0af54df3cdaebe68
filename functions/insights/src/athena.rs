//! One insight on Athena: bind its parameters, start the query, poll until it ends or its
//! deadline passes, and page through the results into typed JSON cells.
//!
//! Parameters travel as `ExecutionParameters` (SQL literal text from
//! [`athena_literal`]), never spliced into the SQL. Athena returns every cell as text
//! (`VarCharValue`, absent for NULL) with the column types in `ResultSetMetadata.ColumnInfo`;
//! [`typed`] turns a cell into the number, string, boolean or null the report's renderers
//! expect, the same values DataFusion gives the local twin. A query that goes back to QUEUED
//! (Athena retries transient failures itself) is simply polled on.

use aws_sdk_athena::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};
use aws_sdk_athena::Client;
use serde_json::{Number, Value};
use std::time::{Duration, Instant};
use stockstream_core::insights::runner::{Engine, Rows};
use stockstream_core::insights::{athena_literal, Placeholders};
use stockstream_lambda::backoff::Backoff;

/// Where and how queries run.
#[derive(Debug, Clone)]
pub struct Athena {
    /// The Athena client.
    pub client: Client,
    /// Workgroup.
    pub workgroup: String,
    /// Catalog database of the lake's tables.
    pub database: String,
    /// `s3://` result location; `None` leaves it to the workgroup.
    pub output: Option<String>,
    /// Intervals between `GetQueryExecution` polls.
    pub backoff: Backoff,
}

/// Why a query gave no rows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// An Athena API call failed.
    #[error("athena:{action} failed: {detail}")]
    Api {
        /// The action (`StartQueryExecution`).
        action: &'static str,
        /// The SDK's description.
        detail: String,
    },
    /// The query ended FAILED or CANCELLED.
    #[error("query {id} {state}: {reason}")]
    Ended {
        /// Query execution id.
        id: String,
        /// `FAILED` or `CANCELLED`.
        state: String,
        /// Athena's `StateChangeReason`.
        reason: String,
    },
    /// The deadline passed first; the query was stopped.
    #[error("timed out after {secs} s; query {id} {stopped}")]
    TimedOut {
        /// Query execution id.
        id: String,
        /// Seconds the query ran.
        secs: u64,
        /// `stopped`, or why stopping failed.
        stopped: String,
    },
    /// The results are not what the insight declares.
    #[error("query {id}: {problem}")]
    Results {
        /// Query execution id.
        id: String,
        /// What is wrong.
        problem: String,
    },
}

fn api<E, R>(action: &'static str) -> impl FnOnce(SdkError<E, R>) -> QueryError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |e| QueryError::Api {
        action,
        detail: match (e.code(), e.message()) {
            (Some(code), Some(msg)) => format!("{code}: {msg}"),
            _ => DisplayErrorContext(&e).to_string(),
        },
    }
}

/// One cell as JSON, by its Athena type: varchar → string; double, float, real, decimal →
/// number; bigint, integer, smallint, tinyint → integer; boolean → bool; date →
/// `YYYY-MM-DD` string; other types (timestamp, arrays, …) → their text. A missing or empty
/// `VarCharValue` is null (Athena's NULL), and so is a NaN or infinite double, which JSON
/// cannot hold.
pub fn typed(text: Option<&str>, athena_type: &str) -> Result<Value, String> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(Value::Null);
    };
    let ty = athena_type.trim().to_ascii_lowercase();
    let base = ty.split('(').next().unwrap_or_default().trim();
    let not = |what: &str| format!("{text:?} is not {what}");
    Ok(match base {
        "double" | "float" | "real" | "decimal" => {
            let v: f64 = text.trim().parse().map_err(|_| not("a number"))?;
            Number::from_f64(v).map_or(Value::Null, Value::Number)
        }
        "bigint" | "integer" | "int" | "smallint" | "tinyint" => {
            Value::from(text.trim().parse::<i64>().map_err(|_| not("an integer"))?)
        }
        "boolean" => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(not("a boolean")),
        },
        "date" => {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| not("a date"))?;
            Value::String(text.to_string())
        }
        _ => Value::String(text.to_string()),
    })
}

impl Athena {
    /// Runs `sql` with `values` bound to its `?` placeholders, stopping it at `deadline`.
    pub async fn query(
        &self,
        sql: &str,
        values: &[String],
        deadline: Instant,
    ) -> Result<Rows, QueryError> {
        let started = Instant::now();
        let parameters: Vec<String> = values.iter().map(|v| athena_literal(v)).collect();
        let out = self
            .client
            .start_query_execution()
            .query_string(sql)
            .work_group(&self.workgroup)
            .query_execution_context(
                QueryExecutionContext::builder()
                    .database(&self.database)
                    .build(),
            )
            .set_result_configuration(
                self.output
                    .as_ref()
                    .map(|o| ResultConfiguration::builder().output_location(o).build()),
            )
            // Athena refuses an empty list: omit it for a query without parameters.
            .set_execution_parameters((!parameters.is_empty()).then_some(parameters))
            .send()
            .await
            .map_err(api("StartQueryExecution"))?;
        let id = out
            .query_execution_id()
            .ok_or(QueryError::Api {
                action: "StartQueryExecution",
                detail: "no QueryExecutionId in the answer".into(),
            })?
            .to_string();
        let mut delays = self.backoff.delays();
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(self.stop(&id, started).await);
            }
            let delay = delays.next().unwrap_or(self.backoff.max);
            tokio::time::sleep(delay.min(deadline - now)).await;
            let out = self
                .client
                .get_query_execution()
                .query_execution_id(&id)
                .send()
                .await
                .map_err(api("GetQueryExecution"))?;
            let status = out.query_execution().and_then(|q| q.status());
            match status.and_then(|s| s.state()) {
                Some(QueryExecutionState::Succeeded) => break,
                Some(state @ (QueryExecutionState::Failed | QueryExecutionState::Cancelled)) => {
                    let reason = status
                        .and_then(|s| s.state_change_reason())
                        .or_else(|| {
                            status
                                .and_then(|s| s.athena_error())
                                .and_then(|e| e.error_message())
                        })
                        .unwrap_or("(Athena gave no reason)");
                    return Err(QueryError::Ended {
                        id,
                        state: state.as_str().to_string(),
                        reason: reason.to_string(),
                    });
                }
                // QUEUED, RUNNING (also after going back to QUEUED), or a state this SDK
                // does not know yet: poll on until the deadline.
                _ => {}
            }
        }
        self.results(&id).await
    }

    /// Stops a query that ran out of time; the insight's error says how long it ran.
    async fn stop(&self, id: &str, started: Instant) -> QueryError {
        let stopped = match self
            .client
            .stop_query_execution()
            .query_execution_id(id)
            .send()
            .await
        {
            Ok(_) => "stopped".to_string(),
            Err(e) => format!("could not be stopped ({})", api("StopQueryExecution")(e)),
        };
        QueryError::TimedOut {
            id: id.to_string(),
            secs: (started.elapsed().as_millis() as u64 + 500) / 1000,
            stopped,
        }
    }

    /// Every page of a finished query's results: the first row of the first page is the
    /// header, the column types come with the first page.
    async fn results(&self, id: &str) -> Result<Rows, QueryError> {
        let problem = |p: String| QueryError::Results {
            id: id.to_string(),
            problem: p,
        };
        let mut columns: Option<Vec<String>> = None;
        let mut types: Vec<String> = vec![];
        let mut rows = vec![];
        let mut next: Option<String> = None;
        loop {
            let page = self
                .client
                .get_query_results()
                .query_execution_id(id)
                .max_results(1000)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(api("GetQueryResults"))?;
            let set = page.result_set();
            let mut page_rows = set.map(|s| s.rows()).unwrap_or_default().iter();
            if columns.is_none() {
                types = set
                    .and_then(|s| s.result_set_metadata())
                    .map(|m| {
                        m.column_info()
                            .iter()
                            .map(|c| c.r#type().to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                let header: Vec<String> = page_rows
                    .next()
                    .ok_or_else(|| problem("no header row in the results".into()))?
                    .data()
                    .iter()
                    .map(|d| d.var_char_value().unwrap_or_default().to_string())
                    .collect();
                if types.len() != header.len() {
                    return Err(problem(format!(
                        "the header has {} columns but the column metadata {}",
                        header.len(),
                        types.len()
                    )));
                }
                columns = Some(header);
            }
            for row in page_rows {
                let n = rows.len() + 1;
                let data = row.data();
                let cells = types
                    .iter()
                    .enumerate()
                    .map(|(k, ty)| {
                        typed(data.get(k).and_then(|d| d.var_char_value()), ty).map_err(|e| {
                            problem(format!(
                                "row {n}, column {}: {e} ({ty})",
                                columns.as_ref().map_or("?", |c| c[k].as_str())
                            ))
                        })
                    })
                    .collect::<Result<Vec<Value>, _>>()?;
                rows.push(cells);
            }
            next = page.next_token().map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        Ok(Rows {
            columns: columns.unwrap_or_default(),
            rows,
        })
    }
}

impl Engine for Athena {
    const NAME: &'static str = "Athena";
    const PLACEHOLDERS: Placeholders = Placeholders::Question;

    /// [`Athena::query`]; without a deadline, Lambda's longest run (15 minutes).
    async fn query(
        &self,
        sql: &str,
        values: &[String],
        deadline: Option<Instant>,
    ) -> Result<Rows, String> {
        let deadline = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(900));
        Athena::query(self, sql, values, deadline)
            .await
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_are_typed_by_the_column_type() {
        let ok = |t: Option<&str>, ty: &str| typed(t, ty).unwrap();
        assert_eq!(ok(Some("HSI"), "varchar"), json!("HSI"));
        assert_eq!(ok(Some("0.1"), "double"), json!(0.1));
        assert_eq!(ok(Some("-3.5"), "real"), json!(-3.5));
        assert_eq!(ok(Some("2.50"), "decimal(10,2)"), json!(2.5));
        assert_eq!(ok(Some("1e-3"), "float"), json!(0.001));
        assert_eq!(ok(Some("124"), "bigint"), json!(124));
        assert!(ok(Some("124"), "bigint").is_i64(), "an integer, not 124.0");
        assert_eq!(ok(Some("-7"), "integer"), json!(-7));
        assert_eq!(ok(Some("3"), "smallint"), json!(3));
        assert_eq!(ok(Some("1"), "tinyint"), json!(1));
        assert_eq!(ok(Some("true"), "boolean"), json!(true));
        assert_eq!(ok(Some("false"), "boolean"), json!(false));
        assert_eq!(ok(Some("2021-06-30"), "date"), json!("2021-06-30"));
        assert_eq!(
            ok(Some("2021-06-30 00:00:00.000"), "timestamp"),
            json!("2021-06-30 00:00:00.000")
        );
        assert_eq!(ok(Some("1"), "VARCHAR"), json!("1"), "text stays text");
        for ty in ["varchar", "double", "bigint", "boolean", "date"] {
            assert_eq!(ok(None, ty), Value::Null, "{ty}");
            assert_eq!(ok(Some(""), ty), Value::Null, "{ty}");
        }
        assert_eq!(ok(Some("NaN"), "double"), Value::Null);
        assert_eq!(ok(Some("Infinity"), "double"), Value::Null);
        assert_eq!(
            typed(Some("abc"), "double").unwrap_err(),
            "\"abc\" is not a number"
        );
        assert_eq!(
            typed(Some("1.5"), "bigint").unwrap_err(),
            "\"1.5\" is not an integer"
        );
        assert!(typed(Some("yes"), "boolean").is_err());
        assert!(typed(Some("2021-02-30"), "date").is_err());
    }
}
