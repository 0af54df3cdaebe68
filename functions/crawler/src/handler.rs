//! One invocation: `StartCrawler`, then (when asked to wait) `GetCrawler` until the crawler is
//! READY again, its last crawl's status and metrics, and the tables and partition counts of
//! the catalog database it writes.
//!
//! "Already running" is success: a scheduled start that finds a crawl in progress has nothing
//! left to do. A crawler that does not exist, or that the role may not start, is a
//! configuration error worth failing the invocation for (and alarming on); so is a last crawl
//! that FAILED, since then the catalog did not learn the lake's new partitions.

use crate::config::CrawlerConfig;
use aws_sdk_glue::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_glue::primitives::DateTimeFormat;
use aws_sdk_glue::types::{Crawler, CrawlerState, LastCrawlStatus};
use aws_sdk_glue::Client;
use serde::Serialize;
use std::time::{Duration, Instant};
use stockstream_lambda::backoff::Backoff;
pub use stockstream_lambda::event::ScheduledEvent;

/// Time kept back from the Lambda deadline when waiting: reading metrics and listing tables
/// and partitions after the crawl still has to fit.
pub const WAIT_MARGIN: Duration = Duration::from_secs(10);

/// How long to wait for the crawl: the configured wait, but never past the invocation's
/// deadline (`remaining`, when known) minus [`WAIT_MARGIN`].
pub fn wait_budget(setting: Duration, remaining: Option<Duration>) -> Duration {
    match remaining {
        Some(r) => setting.min(r.saturating_sub(WAIT_MARGIN)),
        None => setting,
    }
}

/// What `StartCrawler` answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new crawl started.
    Started,
    /// A crawl was already in progress (`CrawlerRunningException`).
    AlreadyRunning,
}

/// The invocation's result, logged as one JSON line and returned to Lambda.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The crawler.
    pub crawler: String,
    /// Started, or already running.
    pub outcome: Outcome,
    /// The schedule's time, from the event.
    pub scheduled_at: Option<String>,
    /// The wait for the crawl, when one was asked for.
    pub wait: Option<WaitReport>,
    /// The catalog database's tables after a finished crawl, when `GLUE_DATABASE` is set.
    pub tables: Option<Vec<TableReport>>,
    /// Things that did not fail the invocation but deserve a look.
    pub warnings: Vec<String>,
}

/// How the wait for the crawl ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaitReport {
    /// True when the crawler was READY again within the budget.
    pub finished: bool,
    /// The crawler's state at the last poll (`READY`, `RUNNING`, `STOPPING`).
    pub state: String,
    /// `GetCrawler` calls made.
    pub polls: u32,
    /// Time spent waiting, milliseconds.
    pub waited_ms: u64,
    /// The last crawl, as `GetCrawler` reports it.
    pub last_crawl: Option<LastCrawl>,
    /// `GetCrawlerMetrics` for the crawler.
    pub metrics: Option<Metrics>,
}

/// The crawler's last crawl.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastCrawl {
    /// `SUCCEEDED`, `CANCELLED` or `FAILED`.
    pub status: String,
    /// Glue's error message, for a failed crawl.
    pub message: Option<String>,
    /// When it started (RFC 3339).
    pub started_at: Option<String>,
    /// Where its log is (CloudWatch log group and stream).
    pub log: Option<String>,
}

/// What the last crawl changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Tables created.
    pub tables_created: i32,
    /// Tables updated (new partitions or columns).
    pub tables_updated: i32,
    /// Tables deleted.
    pub tables_deleted: i32,
    /// Duration of the last crawl, seconds.
    pub last_runtime_seconds: f64,
}

/// One table of the catalog database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableReport {
    /// Table name.
    pub name: String,
    /// Its S3 location.
    pub location: Option<String>,
    /// Its partition columns (`year`, …).
    pub partition_keys: Vec<String>,
    /// Partitions the catalog holds.
    pub partitions: u64,
}

/// Why the invocation failed, with what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrawlerError {
    /// `EntityNotFoundException` for the crawler.
    #[error("Glue crawler {crawler:?} not found ({detail}); check CRAWLER_NAME and that the function runs in the crawler's account and region")]
    CrawlerNotFound {
        /// The crawler name.
        crawler: String,
        /// Glue's message.
        detail: String,
    },
    /// `EntityNotFoundException` for the catalog database.
    #[error("Glue database {database:?} not found ({detail}); check GLUE_DATABASE")]
    DatabaseNotFound {
        /// The database name.
        database: String,
        /// Glue's message.
        detail: String,
    },
    /// The role may not call the action.
    #[error("access denied: the function's role may not call glue:{action} on {target} ({detail}); grant it in the role's policy")]
    AccessDenied {
        /// The Glue action (`StartCrawler`).
        action: &'static str,
        /// What it was called on.
        target: String,
        /// Glue's message.
        detail: String,
    },
    /// The crawl ran and failed.
    #[error("the last crawl of Glue crawler {crawler:?} FAILED: {message}{log}")]
    CrawlFailed {
        /// The crawler name.
        crawler: String,
        /// Glue's error message.
        message: String,
        /// `; log: …` when Glue names the log stream, else empty.
        log: String,
    },
    /// Any other Glue error.
    #[error("glue:{action} on {target} failed: {detail}")]
    Glue {
        /// The Glue action.
        action: &'static str,
        /// What it was called on.
        target: String,
        /// The SDK's description of the error.
        detail: String,
    },
}

/// `code: message` of a service error, else the SDK's full description (timeouts,
/// connection errors, …).
fn detail<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (e.code(), e.message()) {
        (Some(code), Some(msg)) => format!("{code}: {msg}"),
        (Some(code), None) => code.to_string(),
        _ => DisplayErrorContext(e).to_string(),
    }
}

/// Access denied, or a generic Glue error, for `action` on `target`.
fn glue_error<E, R>(action: &'static str, target: &str, e: SdkError<E, R>) -> CrawlerError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let detail = detail(&e);
    if matches!(e.code(), Some("AccessDeniedException" | "AccessDenied")) {
        CrawlerError::AccessDenied {
            action,
            target: target.to_string(),
            detail,
        }
    } else {
        CrawlerError::Glue {
            action,
            target: target.to_string(),
            detail,
        }
    }
}

fn crawler_target(name: &str) -> String {
    format!("crawler {name:?}")
}

/// Starts the crawler; waits up to `budget` (zero: not at all) polling with `backoff`; and
/// reports the crawl and, with a database configured, its tables.
pub async fn handle(
    glue: &Client,
    config: &CrawlerConfig,
    event: &ScheduledEvent,
    backoff: Backoff,
    budget: Duration,
) -> Result<Summary, CrawlerError> {
    let name = config.crawler_name.as_str();
    let outcome = match glue.start_crawler().name(name).send().await {
        Ok(_) => Outcome::Started,
        Err(e) => match e.as_service_error() {
            Some(s) if s.is_crawler_running_exception() => Outcome::AlreadyRunning,
            Some(s) if s.is_entity_not_found_exception() => {
                return Err(CrawlerError::CrawlerNotFound {
                    crawler: name.to_string(),
                    detail: detail(&e),
                })
            }
            _ => return Err(glue_error("StartCrawler", &crawler_target(name), e)),
        },
    };
    let mut summary = Summary {
        crawler: name.to_string(),
        outcome,
        scheduled_at: event.time.clone(),
        wait: None,
        tables: None,
        warnings: vec![],
    };
    if budget.is_zero() {
        return Ok(summary);
    }

    let waited = wait_until_ready(glue, name, backoff, budget).await?;
    let mut report = WaitReport {
        finished: waited.finished,
        state: waited.state,
        polls: waited.polls,
        waited_ms: waited.elapsed.as_millis() as u64,
        last_crawl: None,
        metrics: None,
    };
    if !report.finished {
        summary.warnings.push(format!(
            "crawler still {} after waiting {} s; tables not listed",
            report.state,
            waited.elapsed.as_secs()
        ));
        summary.wait = Some(report);
        return Ok(summary);
    }
    if let Some(info) = waited.crawler.as_ref().and_then(Crawler::last_crawl) {
        let log = match (info.log_group(), info.log_stream()) {
            (Some(g), Some(s)) => Some(format!("{g} {s}")),
            (Some(g), None) => Some(g.to_string()),
            _ => None,
        };
        let status = info.status().map(|s| s.as_str().to_string());
        if info.status() == Some(&LastCrawlStatus::Failed) {
            return Err(CrawlerError::CrawlFailed {
                crawler: name.to_string(),
                message: info
                    .error_message()
                    .unwrap_or("(Glue gave no message)")
                    .to_string(),
                log: log.map(|l| format!("; log: {l}")).unwrap_or_default(),
            });
        }
        if info.status() == Some(&LastCrawlStatus::Cancelled) {
            summary
                .warnings
                .push("the last crawl was CANCELLED".to_string());
        }
        report.last_crawl = Some(LastCrawl {
            status: status.unwrap_or_else(|| "UNKNOWN".into()),
            message: info.error_message().map(str::to_string),
            started_at: info
                .start_time()
                .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()),
            log,
        });
    }
    // Metrics are informational: a role without glue:GetCrawlerMetrics (or an emulator
    // without the call) should not fail a crawl that succeeded.
    match glue
        .get_crawler_metrics()
        .crawler_name_list(name)
        .send()
        .await
    {
        Ok(out) => {
            report.metrics = out
                .crawler_metrics_list()
                .iter()
                .find(|m| m.crawler_name() == Some(name))
                .map(|m| Metrics {
                    tables_created: m.tables_created(),
                    tables_updated: m.tables_updated(),
                    tables_deleted: m.tables_deleted(),
                    last_runtime_seconds: m.last_runtime_seconds(),
                })
        }
        Err(e) => summary.warnings.push(format!(
            "glue:GetCrawlerMetrics on {name:?}: {}",
            detail(&e)
        )),
    }
    summary.wait = Some(report);
    if let Some(db) = &config.database {
        summary.tables = Some(tables(glue, db).await?);
    }
    Ok(summary)
}

/// The end of a wait.
struct Waited {
    finished: bool,
    state: String,
    polls: u32,
    elapsed: Duration,
    crawler: Option<Crawler>,
}

/// Polls `GetCrawler` until READY or `budget` is spent; the last poll happens at the budget.
async fn wait_until_ready(
    glue: &Client,
    name: &str,
    backoff: Backoff,
    budget: Duration,
) -> Result<Waited, CrawlerError> {
    let started = Instant::now();
    let mut waited = Waited {
        finished: false,
        state: "RUNNING".into(),
        polls: 0,
        elapsed: Duration::ZERO,
        crawler: None,
    };
    for delay in backoff.delays() {
        let elapsed = started.elapsed();
        if elapsed >= budget {
            break;
        }
        tokio::time::sleep(delay.min(budget - elapsed)).await;
        let out =
            glue.get_crawler()
                .name(name)
                .send()
                .await
                .map_err(|e| match e.as_service_error() {
                    Some(s) if s.is_entity_not_found_exception() => CrawlerError::CrawlerNotFound {
                        crawler: name.to_string(),
                        detail: detail(&e),
                    },
                    _ => glue_error("GetCrawler", &crawler_target(name), e),
                })?;
        waited.polls += 1;
        let crawler = out.crawler;
        let state = crawler.as_ref().and_then(|c| c.state().cloned());
        waited.state = state
            .as_ref()
            .map_or("UNKNOWN", CrawlerState::as_str)
            .to_string();
        waited.crawler = crawler;
        if state == Some(CrawlerState::Ready) {
            waited.finished = true;
            break;
        }
    }
    waited.elapsed = started.elapsed();
    Ok(waited)
}

/// Every table of `database` with its partition count, sorted by name.
async fn tables(glue: &Client, database: &str) -> Result<Vec<TableReport>, CrawlerError> {
    let target = format!("database {database:?}");
    let mut out = vec![];
    let mut pages = glue
        .get_tables()
        .database_name(database)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| match e.as_service_error() {
            Some(s) if s.is_entity_not_found_exception() => CrawlerError::DatabaseNotFound {
                database: database.to_string(),
                detail: detail(&e),
            },
            _ => glue_error("GetTables", &target, e),
        })?;
        for t in page.table_list() {
            out.push(TableReport {
                name: t.name().to_string(),
                location: t
                    .storage_descriptor()
                    .and_then(|s| s.location())
                    .map(str::to_string),
                partition_keys: t
                    .partition_keys()
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect(),
                partitions: 0,
            });
        }
    }
    for t in out.iter_mut().filter(|t| !t.partition_keys.is_empty()) {
        let target = format!("table {database}.{}", t.name);
        let mut pages = glue
            .get_partitions()
            .database_name(database)
            .table_name(&t.name)
            .exclude_column_schema(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| glue_error("GetPartitions", &target, e))?;
            t.partitions += page.partitions().len() as u64;
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_stops_short_of_the_lambda_deadline() {
        let s = Duration::from_secs;
        assert_eq!(wait_budget(s(0), Some(s(300))), s(0));
        assert_eq!(wait_budget(s(120), Some(s(300))), s(120));
        assert_eq!(wait_budget(s(600), Some(s(300))), s(290));
        assert_eq!(wait_budget(s(600), Some(s(5))), s(0));
        assert_eq!(wait_budget(s(60), None), s(60));
    }
}
