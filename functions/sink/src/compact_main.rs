//! The compaction Lambda: wiring only. On a schedule (apart from the insight run), merges the
//! lake's small committed objects per partition folder with [`Compactor`]; one JSON log line
//! carries what it did. It reads the sink's settings (`SINK_BUCKET`, `SINK_PREFIX`) and merges
//! into objects of up to [`DEFAULT_TARGET_ROWS`] rows.
//!
//! One run at a time: each run holds the S3 lock object `COMPACTION_LOCK_KEY` (a key in
//! `SINK_BUCKET`, see [`stockstream_sink::lock`]) while it compacts. An invocation that finds
//! the lock held by a live run succeeds without doing anything and says who holds it; a lock
//! older than the function's timeout plus a margin is taken over.
//!
//! A run cut short by the Lambda timeout loses nothing: each merge is logged first, and the
//! next run finishes or rolls back the one in flight before it plans more.

use lambda_runtime::{service_fn, LambdaEvent};
use stockstream_sink::compact::{Compactor, LockedRun, DEFAULT_TARGET_ROWS};
use stockstream_sink::config::LambdaConfig;
use stockstream_sink::lock::{self, Lock, S3Objects, FUNCTION_TIMEOUT, LEASE_MARGIN};
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
    let get = |k: &str| std::env::var(k).ok();
    let (config, lock_key) = match LambdaConfig::from_env(get)
        .and_then(|c| lock::check_key(get("COMPACTION_LOCK_KEY"), &c.sink.prefix).map(|k| (c, k)))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("compact: bad configuration: {e}");
            std::process::exit(2);
        }
    };
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let conf = aws_sdk_s3::config::Builder::from(&aws)
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::standard().with_max_attempts(5))
        .build();
    let client = aws_sdk_s3::Client::from_conf(conf);
    let store = S3::new(client.clone(), config.bucket.clone());
    let objects = S3Objects::new(client, config.bucket.clone());
    let lock = Lock {
        objects: &objects,
        key: lock_key,
        lease: FUNCTION_TIMEOUT + LEASE_MARGIN,
    };
    let (store, config, lock) = (&store, &config, &lock);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let c = Compactor {
                store,
                prefix: config.sink.prefix.clone(),
                target_rows: DEFAULT_TARGET_ROWS,
            };
            let request_id = &event.context.request_id;
            let result = c.run_locked(lock, request_id, chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())).await;
            let line = match &result {
                Ok(o @ LockedRun::Compacted { .. }) => serde_json::json!({"level": "info", "message": "compaction run", "request_id": request_id, "outcome": o}),
                Ok(LockedRun::Skipped { lock_held_by }) => serde_json::json!({"level": "info", "message": format!("compaction skipped: the lock {} is held by run {} since {}", lock.key, lock_held_by.owner, lock_held_by.taken_at), "request_id": request_id, "lock_held_by": lock_held_by}),
                Err(e) => serde_json::json!({"level": "error", "message": e.to_string(), "request_id": request_id, "prefix": config.sink.prefix}),
            };
            println!("{line}");
            Ok::<LockedRun, lambda_runtime::Error>(result?)
        },
    ))
    .await
}
