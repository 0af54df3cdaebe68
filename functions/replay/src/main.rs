//! The replay Lambda: wiring only. Reads its settings once, builds the S3 client once, and
//! hands every S3 event to [`stockstream_replay::handler::handle`]. One JSON log line per
//! invocation carries what was replayed. An error fails the invocation; Lambda's retry
//! resumes from the checkpoint, so no row is sent twice.

use lambda_runtime::{service_fn, LambdaEvent};
use std::path::PathBuf;
use stockstream_lambda::start::{deadline, Level, WITH_CARGO_LAMBDA};
use stockstream_lambda::Function;
use stockstream_replay::config::ReplayConfig;
use stockstream_replay::event::S3Event;
use stockstream_replay::handler::{handle, Outcome};
use stockstream_replay::secrets::fetch;

const REPLAY: Function = Function {
    name: "replay",
    locally: WITH_CARGO_LAMBDA,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let (mut config, aws) = REPLAY.start(|get| ReplayConfig::from_env(get)).await;
    let s3 = stockstream_store::client::s3(&aws, None);
    // The Kafka credentials and CA, once per cold start (the trigger's own secrets).
    if config.security.sasl.is_some() || config.security.ca_secret_arn.is_some() {
        let sm = aws_sdk_secretsmanager::Client::new(&aws);
        config.access = REPLAY.configured(fetch(&sm, &config.security).await);
    }
    let work = PathBuf::from("/tmp/stockstream-replay");
    let (s3, config, work) = (&s3, &config, &work);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        let until = deadline(&event.context);
        let out: Outcome = handle(
            s3,
            config,
            &event.payload,
            until,
            &event.context.request_id,
            work,
        )
        .await?;
        REPLAY.log(
            Level::Info,
            "replayed",
            &event.context.request_id,
            serde_json::json!({ "outcome": out }),
        );
        Ok::<Outcome, lambda_runtime::Error>(out)
    }))
    .await
}
