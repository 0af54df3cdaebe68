//! The crawler Lambda: wiring only. Reads its settings once, builds the Glue client once, and
//! hands every scheduled event to [`stockstream_crawler::handler::handle`]. One JSON log line
//! per invocation carries the summary. An error fails the invocation, so the schedule's
//! failure metric (and any alarm on it) sees a missing crawler or a failed crawl.

use lambda_runtime::{service_fn, LambdaEvent};
use stockstream_crawler::config::CrawlerConfig;
use stockstream_crawler::handler::{handle, wait_budget, ScheduledEvent, Summary};
use stockstream_lambda::backoff::Backoff;
use stockstream_lambda::start::{time_left, Level, WITH_CARGO_LAMBDA};
use stockstream_lambda::Function;

const CRAWLER: Function = Function {
    name: "crawler",
    locally: WITH_CARGO_LAMBDA,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let (config, aws) = CRAWLER.start(|get| CrawlerConfig::from_env(get)).await;
    let glue = aws_sdk_glue::Client::new(&aws);
    let (glue, config) = (&glue, &config);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ScheduledEvent>| async move {
            let budget = wait_budget(config.wait, time_left(&event.context));
            let result = handle(glue, config, &event.payload, Backoff::CRAWLER, budget).await;
            let id = &event.context.request_id;
            match &result {
                Ok(summary) => CRAWLER.log(
                    Level::Info,
                    "crawler run",
                    id,
                    serde_json::json!({ "summary": summary }),
                ),
                Err(e) => CRAWLER.log(
                    Level::Error,
                    e,
                    id,
                    serde_json::json!({ "crawler": config.crawler_name }),
                ),
            }
            Ok::<Summary, lambda_runtime::Error>(result?)
        },
    ))
    .await
}
