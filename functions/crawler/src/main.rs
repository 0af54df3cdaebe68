//! The crawler Lambda: wiring only. Reads its settings once, builds the Glue client once, and
//! hands every scheduled event to [`stockstream_crawler::handler::handle`]. One JSON log line
//! per invocation carries the summary. An error fails the invocation, so the schedule's
//! failure metric (and any alarm on it) sees a missing crawler or a failed crawl.

use lambda_runtime::{service_fn, LambdaEvent};
use std::time::SystemTime;
use stockstream_crawler::backoff::Backoff;
use stockstream_crawler::config::CrawlerConfig;
use stockstream_crawler::handler::{handle, wait_budget, ScheduledEvent, Summary};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        eprintln!(
            "crawler: AWS_LAMBDA_RUNTIME_API is not set, so this is not running inside AWS Lambda. \
             Deploy it with the SAM template, or invoke it locally with `cargo lambda watch`."
        );
        std::process::exit(2);
    }
    let config = match CrawlerConfig::from_env(|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("crawler: bad configuration: {e}");
            std::process::exit(2);
        }
    };
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let glue = aws_sdk_glue::Client::new(&aws);
    let (glue, config) = (&glue, &config);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ScheduledEvent>| async move {
            // A deadline already past when the invocation starts is not Lambda's (it gives
            // the whole timeout) but a local emulator's placeholder (`cargo lambda watch`
            // sends 600000, ten minutes after the epoch): unknown, so the configured wait.
            let remaining = event
                .context
                .deadline()
                .duration_since(SystemTime::now())
                .ok();
            let budget = wait_budget(config.wait, remaining);
            let result = handle(glue, config, &event.payload, Backoff::CRAWLER, budget).await;
            match &result {
                Ok(summary) => println!(
                    "{}",
                    serde_json::json!({"level": "info", "message": "crawler run", "request_id": event.context.request_id, "summary": summary})
                ),
                Err(e) => println!(
                    "{}",
                    serde_json::json!({"level": "error", "message": e.to_string(), "request_id": event.context.request_id, "crawler": config.crawler_name})
                ),
            }
            Ok::<Summary, lambda_runtime::Error>(result?)
        },
    ))
    .await
}
