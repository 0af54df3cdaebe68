//! The insights Lambda: wiring only. Reads its settings once, builds the Athena, S3 and (with
//! `REPORTS_TOPIC_ARN`) SNS clients once, and hands every scheduled event to
//! [`stockstream_insights::handler::handle`]. One JSON log line per invocation carries the
//! answer and each insight's status. The invocation fails only when every insight failed, or
//! the report could not be written or announced.

use chrono::{DateTime, Utc};
use lambda_runtime::{service_fn, LambdaEvent};
use std::time::{Instant, SystemTime};
use stockstream_insights::athena::Athena;
use stockstream_insights::backoff::Backoff;
use stockstream_insights::config::InsightsConfig;
use stockstream_insights::event::ScheduledEvent;
use stockstream_insights::handler::{handle, query_deadline, Output};
use stockstream_insights::notify::{link_days, Notifier, MAX_LINK_DAYS};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        eprintln!(
            "insights: AWS_LAMBDA_RUNTIME_API is not set, so this is not running inside AWS Lambda. \
             Deploy it with the SAM template, or invoke it locally with `cargo lambda watch`."
        );
        std::process::exit(2);
    }
    let config = match InsightsConfig::from_env(|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("insights: bad configuration: {e}");
            std::process::exit(2);
        }
    };
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let athena = Athena {
        client: aws_sdk_athena::Client::new(&aws),
        workgroup: config.workgroup.clone(),
        database: config.database.clone(),
        output: config.output.clone(),
        backoff: Backoff::ATHENA,
    };
    let s3_conf = aws_sdk_s3::config::Builder::from(&aws)
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::standard().with_max_attempts(5))
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(s3_conf);
    let notifier = config.reports_topic.as_ref().map(|topic| Notifier {
        sns: aws_sdk_sns::Client::new(&aws),
        topic_arn: topic.clone(),
        link_days: config.link_days,
    });
    if link_days(config.link_days) < config.link_days {
        println!(
            "{}",
            serde_json::json!({"level": "warn", "message": format!("REPORT_LINK_DAYS is {}; report links are signed for {MAX_LINK_DAYS} days, S3's limit", config.link_days)})
        );
    }
    let (athena, s3, notifier, config) = (&athena, &s3, notifier.as_ref(), &config);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ScheduledEvent>| async move {
            // A deadline already past is unknown (see `query_deadline`), not zero time.
            let remaining = event
                .context
                .deadline()
                .duration_since(SystemTime::now())
                .ok();
            let deadline = query_deadline(Instant::now(), remaining);
            let request_id = &event.context.request_id;
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
                    println!(
                        "{}",
                        serde_json::json!({"level": "info", "message": "report published", "request_id": request_id, "output": p.output, "params": p.report.params, "insights": insights})
                    );
                    Ok::<Output, lambda_runtime::Error>(p.output)
                }
                Err(e) => {
                    println!(
                        "{}",
                        serde_json::json!({"level": "error", "message": e.to_string(), "request_id": request_id})
                    );
                    Err(e.into())
                }
            }
        },
    ))
    .await
}
