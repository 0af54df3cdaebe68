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
use stockstream_lambda::event::ScheduledEvent;
use stockstream_lambda::start::Level;
use stockstream_lambda::Function;
use stockstream_sink::compact::{Compactor, LockedRun, DEFAULT_TARGET_ROWS};
use stockstream_sink::config::LambdaConfig;
use stockstream_sink::lock::{self, Lock, S3Objects, FUNCTION_TIMEOUT, LEASE_MARGIN};
use stockstream_store::s3::S3;

const COMPACT: Function = Function {
    name: "compact",
    locally: "run `stockstream-local compact`",
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let ((config, lock_key), aws) = COMPACT
        .start(|get| {
            let config = LambdaConfig::from_env(get)?;
            let key = lock::check_key(get("COMPACTION_LOCK_KEY"), &config.sink.prefix)?;
            Ok::<_, stockstream_lambda::config::ConfigError>((config, key))
        })
        .await;
    let store = S3::from_sdk(&aws, config.bucket.clone());
    let objects = S3Objects::from(store.clone());
    let lock = Lock {
        objects: &objects,
        key: lock_key,
        lease: FUNCTION_TIMEOUT + LEASE_MARGIN,
    };
    let (store, config, lock) = (&store, &config, &lock);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ScheduledEvent>| async move {
            let c = Compactor {
                store,
                prefix: config.sink.prefix.clone(),
                target_rows: DEFAULT_TARGET_ROWS,
            };
            let id = &event.context.request_id;
            let result = c
                .run_locked(
                    lock,
                    id,
                    chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()),
                )
                .await;
            match &result {
                Ok(o @ LockedRun::Compacted { .. }) => COMPACT.log(
                    Level::Info,
                    "compaction run",
                    id,
                    serde_json::json!({ "outcome": o }),
                ),
                Ok(LockedRun::Skipped { lock_held_by }) => COMPACT.log(
                    Level::Info,
                    format!(
                        "compaction skipped: the lock {} is held by run {} since {}",
                        lock.key, lock_held_by.owner, lock_held_by.taken_at
                    ),
                    id,
                    serde_json::json!({ "lock_held_by": lock_held_by }),
                ),
                Err(e) => COMPACT.log(
                    Level::Error,
                    e,
                    id,
                    serde_json::json!({ "prefix": config.sink.prefix }),
                ),
            }
            Ok::<LockedRun, lambda_runtime::Error>(result?)
        },
    ))
    .await
}
