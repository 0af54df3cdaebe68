//! One invocation: the report parameters from the event, every insight on Athena, the report
//! to S3, a message to its readers on the reports topic (when one is set), and a small answer
//! pointing at it.
//!
//! The report is written, and its readers told, even when every insight failed (it says why
//! each one did), and then the invocation fails too, so the schedule's error metric sees a
//! broken setup (a missing table, a workgroup without permissions) rather than a run of empty
//! reports. A message that cannot be published fails the invocation as well: the report is
//! in S3, but nobody was told.

use crate::athena::Athena;
use crate::config::InsightsConfig;
use crate::event::{params, BadParameter, ScheduledEvent};
use crate::notify::{notify, Notifier, NotifyError};
use crate::publish::{folder, publish, PublishError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::{Duration, Instant};
use stockstream_core::insights::runner::{run_all, Limits};
use stockstream_core::report::Report;

/// Time kept back from the Lambda deadline for writing the report after the last query.
pub const REPORT_MARGIN: Duration = Duration::from_secs(15);

/// Lambda's longest timeout: the time left when the deadline is unknown.
pub const LAMBDA_MAX_TIMEOUT: Duration = Duration::from_secs(900);

/// The instant the queries must be done by: `remaining` (the invocation's time left, from
/// the context deadline) minus [`REPORT_MARGIN`], from `now`. `None` is a deadline that
/// had passed when the invocation started, which Lambda never sends but a local emulator
/// may (`cargo lambda watch` sends 600000, ten minutes after the epoch): the longest time
/// Lambda gives is assumed instead of no time at all.
pub fn query_deadline(now: Instant, remaining: Option<Duration>) -> Instant {
    now + remaining
        .unwrap_or(LAMBDA_MAX_TIMEOUT)
        .saturating_sub(REPORT_MARGIN)
}

/// The invocation's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Output {
    /// `s3://bucket/…/report.html`.
    pub report: String,
    /// Insights that ran.
    pub succeeded: usize,
    /// Insights that failed.
    pub failed: usize,
    /// SNS's id of the message to the readers, when a topic is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// The answer and the report it points at (for the log line and tests).
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// What Lambda returns.
    pub output: Output,
    /// The report written.
    pub report: Report,
}

/// Why the invocation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsightsError {
    /// A report parameter from the event is not usable.
    #[error(transparent)]
    BadParameter(#[from] BadParameter),
    /// The report could not be written.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The report was written but its readers were not told.
    #[error("{error} (the report is at {report})")]
    Notify {
        /// `s3://` URL of the report.
        report: String,
        /// Why.
        error: NotifyError,
    },
    /// No insight ran.
    #[error("all {total} insights failed (report at {report}); first: {first}: {error}")]
    AllFailed {
        /// Number of insights.
        total: usize,
        /// `s3://` URL of the report that lists the errors.
        report: String,
        /// The first insight's name.
        first: String,
        /// Its error.
        error: String,
    },
}

/// Runs the suite for `event`, publishes the report and tells `notifier`'s topic (if any);
/// `now` is the run's time (names the report's folder, starts the link's validity),
/// `deadline` the time the queries must end by.
pub async fn handle(
    event: &ScheduledEvent,
    athena: &Athena,
    s3: &aws_sdk_s3::Client,
    notifier: Option<&Notifier>,
    config: &InsightsConfig,
    deadline: Instant,
    now: DateTime<Utc>,
) -> Result<Published, InsightsError> {
    let params = params(event, config, now)?;
    let generated_at = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let limits = Limits {
        deadline: Some(deadline),
        per_insight: config.insight_deadline,
    };
    let report = run_all(athena, &params, generated_at, limits, |_| {}).await;
    let url = publish(s3, &config.bucket, &folder(&config.prefix, now), &report).await?;
    let message_id = match notifier {
        None => None,
        Some(n) => Some(notify(n, s3, &report, &url, now).await.map_err(|error| {
            InsightsError::Notify {
                report: url.clone(),
                error,
            }
        })?),
    };
    let failed = report.insights.iter().filter(|r| !r.succeeded()).count();
    let output = Output {
        report: url,
        succeeded: report.insights.len() - failed,
        failed,
        message_id,
    };
    if output.succeeded == 0 {
        let first = report.insights.first();
        return Err(InsightsError::AllFailed {
            total: report.insights.len(),
            report: output.report,
            first: first.map(|r| r.name.clone()).unwrap_or_default(),
            error: first.and_then(|r| r.error.clone()).unwrap_or_default(),
        });
    }
    Ok(Published { output, report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_stop_short_of_the_lambda_deadline() {
        let t = Instant::now();
        let s = Duration::from_secs;
        assert_eq!(query_deadline(t, Some(s(900))), t + s(885));
        assert_eq!(query_deadline(t, Some(s(10))), t, "no time: nothing runs");
        assert_eq!(
            query_deadline(t, None),
            t + s(885),
            "unknown: Lambda's longest"
        );
    }
}
