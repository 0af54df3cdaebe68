//! The insights Lambda: wiring only. Reads its settings once, builds the Athena, S3 and (with
//! `REPORTS_TOPIC_ARN`) SNS clients once, and hands every scheduled event to
//! [`stockstream_insights::handler::handle`]. One JSON log line per invocation carries the
//! answer and each insight's status. The invocation fails only when every insight failed, or
//! the report could not be written or announced.

// The suite's future (the core runner over Athena's polling, inside the handler) nests
// deeper than the compiler's default limit for computing its layout.
#![recursion_limit = "256"]

use chrono::{DateTime, Utc};
use lambda_runtime::{service_fn, LambdaEvent};
use std::time::{Instant, SystemTime};
use stockstream_insights::athena::Athena;
use stockstream_insights::config::InsightsConfig;
use stockstream_insights::event::ScheduledEvent;
use stockstream_insights::handler::{handle, query_deadline, Output};
use stockstream_insights::notify::{link_days, Notifier, MAX_LINK_DAYS};
use stockstream_lambda::backoff::Backoff;
use stockstream_lambda::start::{time_left, Level, WITH_CARGO_LAMBDA};
use stockstream_lambda::Function;

const INSIGHTS: Function = Function {
    name: "insights",
    locally: WITH_CARGO_LAMBDA,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let (config, aws) = INSIGHTS.start(|get| InsightsConfig::from_env(get)).await;
    let athena = Athena {
        client: aws_sdk_athena::Client::new(&aws),
        workgroup: config.workgroup.clone(),
        database: config.database.clone(),
        output: config.output.clone(),
        backoff: Backoff::ATHENA,
    };
    let s3 = stockstream_store::client::s3(&aws, None);
    let notifier = config.reports_topic.as_ref().map(|topic| Notifier {
        sns: aws_sdk_sns::Client::new(&aws),
        topic_arn: topic.clone(),
        link_days: config.link_days,
    });
    if link_days(config.link_days) < config.link_days {
        let warning = format!(
            "REPORT_LINK_DAYS is {}; report links are signed for {MAX_LINK_DAYS} days, S3's limit",
            config.link_days
        );
        INSIGHTS.log(Level::Warn, warning, "", serde_json::Value::Null);
    }
    let (athena, s3, notifier, config) = (&athena, &s3, notifier.as_ref(), &config);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ScheduledEvent>| async move {
            let deadline = query_deadline(Instant::now(), time_left(&event.context));
            let id = &event.context.request_id;
            match handle(&event.payload, athena, s3, notifier, config, deadline, DateTime::<Utc>::from(SystemTime::now())).await {
                Ok(p) => {
                    let insights: Vec<_> = p
                        .report
                        .insights
                        .iter()
                        .map(|r| {
                            serde_json::json!({"name": r.name, "rows": r.rows.len(), "elapsed_ms": r.elapsed_ms, "error": r.error})
                        })
                        .collect();
                    INSIGHTS.log(Level::Info, "report published", id, serde_json::json!({"output": p.output, "params": p.report.params, "insights": insights}));
                    Ok::<Output, lambda_runtime::Error>(p.output)
                }
                Err(e) => {
                    INSIGHTS.log(Level::Error, &e, id, serde_json::Value::Null);
                    Err(e.into())
                }
            }
        },
    ))
    .await
}
