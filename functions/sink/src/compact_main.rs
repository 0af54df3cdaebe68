//! The compaction Lambda: wiring only. On a schedule (apart from the insight run), merges the
//! lake's small committed objects per partition folder with [`Compactor`]; one JSON log line
//! carries what it did. It reads the sink's settings (`SINK_BUCKET`, `SINK_PREFIX`) and merges
//! into objects of up to [`DEFAULT_TARGET_ROWS`] rows. The template runs one at a time
//! (reserved concurrency 1): two compactors on one table could each merge the same objects.
//!
//! A run cut short by the Lambda timeout loses nothing: each merge is logged first, and the
//! next run finishes or rolls back the one in flight before it plans more.

use lambda_runtime::{service_fn, LambdaEvent};
use stockstream_sink::compact::{CompactOutcome, Compactor, DEFAULT_TARGET_ROWS};
use stockstream_sink::config::LambdaConfig;
use stockstream_sink::s3::S3;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        eprintln!(
            "compact: AWS_LAMBDA_RUNTIME_API is not set, so this is not running inside AWS Lambda. \
             Deploy it with the SAM template; locally, run `stockstream-local compact`."
        );
        std::process::exit(2);
    }
    let config = match LambdaConfig::from_env(|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("compact: bad configuration: {e}");
            std::process::exit(2);
        }
    };
    let store = S3::from_env(config.bucket.clone()).await;
    let (store, config) = (&store, &config);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let c = Compactor {
                store,
                prefix: config.sink.prefix.clone(),
                target_rows: DEFAULT_TARGET_ROWS,
            };
            let result = c.run().await;
            match &result {
                Ok(o) => println!(
                    "{}",
                    serde_json::json!({"level": "info", "message": "compaction run", "request_id": event.context.request_id, "outcome": o})
                ),
                Err(e) => println!(
                    "{}",
                    serde_json::json!({"level": "error", "message": e.to_string(), "request_id": event.context.request_id, "prefix": config.sink.prefix})
                ),
            }
            Ok::<CompactOutcome, lambda_runtime::Error>(result?)
        },
    ))
    .await
}
