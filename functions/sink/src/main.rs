//! The sink Lambda: wiring only. Reads its settings once, builds the S3 client once, and
//! hands every Kafka trigger event to [`stockstream_sink::handler::handle`]. One JSON log
//! line per invocation carries the summary and CloudWatch metrics (embedded metric format).
//! An error fails the invocation, so Lambda retries the batch; bad records never do.

use lambda_runtime::{service_fn, LambdaEvent};
use stockstream_core::kafka_event::KafkaEvent;
use stockstream_lambda::start::{Level, WITH_CARGO_LAMBDA};
use stockstream_lambda::Function;
use stockstream_sink::config::LambdaConfig;
use stockstream_sink::handler::{handle, Summary};
use stockstream_sink::metrics::{emf_error_line, emf_line};
use stockstream_sink::parquet_file::Parquet;
use stockstream_store::s3::S3;

const SINK: Function = Function {
    name: "sink",
    locally: WITH_CARGO_LAMBDA,
};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let (config, aws) = SINK.start(|get| LambdaConfig::from_env(get)).await;
    let store = S3::from_sdk(&aws, config.bucket.clone());
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "sink".into());
    let (store, config, function) = (&store, &config, &function);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<KafkaEvent>| async move {
            let encoder = Parquet {
                ingest_time_ms: now_ms(),
            };
            let summary: Summary = match handle(&event.payload, store, &encoder, &config.sink).await
            {
                Ok(s) => s,
                Err(e) => {
                    // The error fails the invocation (Lambda retries, then the failure
                    // destination); an alarm-worthy one is counted first.
                    if let Some(line) =
                        emf_error_line(&e, &config.metrics_namespace, function, now_ms())
                    {
                        println!("{line}");
                    }
                    return Err(e.into());
                }
            };
            SINK.log(
                Level::Info,
                "batch stored",
                &event.context.request_id,
                serde_json::json!({ "summary": summary }),
            );
            println!(
                "{}",
                emf_line(&summary, &config.metrics_namespace, function, now_ms())
            );
            Ok::<Summary, lambda_runtime::Error>(summary)
        },
    ))
    .await
}
