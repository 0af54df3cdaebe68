//! The replay Lambda: wiring only. Reads its settings once, builds the S3 client once, and
//! hands every S3 event to [`stockstream_replay::handler::handle`]. One JSON log line per
//! invocation carries what was replayed. An error fails the invocation; Lambda's retry
//! resumes from the checkpoint, so no row is sent twice.

use lambda_runtime::{service_fn, LambdaEvent};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use stockstream_replay::config::ReplayConfig;
use stockstream_replay::event::S3Event;
use stockstream_replay::handler::{handle, Outcome};
use stockstream_replay::secrets::fetch;

/// The invocation's deadline as an `Instant` (Lambda gives epoch milliseconds).
fn deadline(epoch_ms: u64) -> Option<Instant> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_millis() as u64;
    Some(Instant::now() + Duration::from_millis(epoch_ms.checked_sub(now_ms)?))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        eprintln!(
            "replay: AWS_LAMBDA_RUNTIME_API is not set, so this is not running inside AWS Lambda. \
             Deploy it with the SAM template, or invoke it locally with `cargo lambda watch`."
        );
        std::process::exit(2);
    }
    let mut config = match ReplayConfig::from_env(|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("replay: bad configuration: {e}");
            std::process::exit(2);
        }
    };
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::new(&aws);
    // The Kafka credentials and CA, once per cold start (the trigger's own secrets).
    if config.security.sasl.is_some() || config.security.ca_secret_arn.is_some() {
        let sm = aws_sdk_secretsmanager::Client::new(&aws);
        config.access = match fetch(&sm, &config.security).await {
            Ok(a) => a,
            Err(e) => {
                eprintln!("replay: bad configuration: {e}");
                std::process::exit(2);
            }
        };
    }
    let work = PathBuf::from("/tmp/stockstream-replay");
    let (s3, config, work) = (&s3, &config, &work);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        let until = deadline(event.context.deadline);
        let out: Outcome = handle(
            s3,
            config,
            &event.payload,
            until,
            &event.context.request_id,
            work,
        )
        .await?;
        println!(
            "{}",
            serde_json::json!({"level": "info", "message": "replayed", "request_id": event.context.request_id, "outcome": out})
        );
        Ok::<Outcome, lambda_runtime::Error>(out)
    }))
    .await
}
