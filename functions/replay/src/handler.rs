//! One invocation: every job of the S3 event, in order, within the invocation's time.

use crate::config::ReplayConfig;
use crate::event::{jobs, Job, S3Event};
use crate::replay::{budget, replay_object, Claim, Continuation, ReplayError, Replayed};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

/// Time kept back from the Lambda deadline to flush, checkpoint and write the continuation.
pub const RESERVE: Duration = Duration::from_secs(30);

/// What an invocation did, per object (returned and logged).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    /// Objects replayed (or continued, or found complete).
    pub objects: Vec<Replayed>,
    /// Records skipped, with the reason.
    pub skipped: Vec<String>,
}

/// Handles an S3 event. `lambda_deadline` is the invocation's deadline (none when called
/// from a test or tool); `request_id` the invocation's (it owns the locks it takes);
/// `work_root` the local folder for downloads (`/tmp` on Lambda).
pub async fn handle(
    client: &aws_sdk_s3::Client,
    c: &ReplayConfig,
    event: &S3Event,
    lambda_deadline: Option<Instant>,
    request_id: &str,
    work_root: &Path,
) -> Result<Outcome, ReplayError> {
    let started = Instant::now();
    let until = budget(c, started, lambda_deadline, RESERVE);
    // The lease of the locks taken: until Lambda stops the invocation (without a Lambda
    // deadline, until the producer has had its reserve to flush after `until`).
    let hard_stop = lambda_deadline.unwrap_or(until + RESERVE);
    let lease_until = SystemTime::now() + hard_stop.saturating_duration_since(Instant::now());
    let claim = |owner: Option<String>| Claim {
        owner: owner.unwrap_or_else(|| request_id.to_string()),
        lease_until,
    };
    let jobs = jobs(event, &format!("{}/continue", c.state_prefix))
        .map_err(|e| ReplayError::Local(e.to_string()))?;
    let mut out = Outcome::default();
    for job in jobs {
        match job {
            Job::Skip { object, why } => out.skipped.push(format!("{object}: {why}")),
            Job::Replay { bucket, key } => {
                out.objects.push(
                    replay_object(client, c, &bucket, &key, until, &claim(None), work_root).await?,
                );
            }
            Job::Continue { bucket, key } => {
                let got = client
                    .get_object()
                    .bucket(&bucket)
                    .key(&key)
                    .send()
                    .await
                    .map_err(|e| ReplayError::S3 {
                        what: "reading",
                        bucket: bucket.clone(),
                        key: key.clone(),
                        detail: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
                    })?;
                let bytes = got.body.collect().await.map_err(|e| ReplayError::S3 {
                    what: "reading",
                    bucket: bucket.clone(),
                    key: key.clone(),
                    detail: e.to_string(),
                })?;
                let cont: Continuation =
                    serde_json::from_slice(&bytes.into_bytes()).map_err(|e| {
                        ReplayError::Local(format!(
                            "s3://{bucket}/{key} is not a continuation: {e}"
                        ))
                    })?;
                out.objects.push(
                    replay_object(
                        client,
                        c,
                        &cont.bucket,
                        &cont.key,
                        until,
                        &claim(cont.owner),
                        work_root,
                    )
                    .await?,
                );
            }
        }
    }
    Ok(out)
}
