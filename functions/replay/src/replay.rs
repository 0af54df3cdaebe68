//! One object: from its checkpoint (if any) to Kafka, until done or out of time.
//!
//! The producer does the work ([`stockstream_producer::produce::produce`]): parsing,
//! validation, the message format (provenance `source` = `s3://bucket/key` and `line`),
//! rejects with reasons, and checkpoints that record which rows are surely in Kafka and from
//! which offsets a resumed run scans the topic for rows delivered after the checkpoint. So a
//! resumed run (the next invocation, or Lambda's retry after a crash) sends nothing twice.
//!
//! Around it, the function keeps the producer's files in S3:
//! - `<state>/checkpoints/<key>.json`: the ETag of the object and the producer's checkpoint;
//! - `<rejects>/<key>.rejects.jsonl`: the rejected rows with their line and reason;
//! - `<state>/continue/<key>.json`: written when time ran out before the end of the file. It
//!   is an `ObjectCreated` event for the function itself (the template routes that prefix to
//!   it), so the next invocation picks up at the checkpoint. A large file is replayed over as
//!   many invocations as it needs, never cut off silently;
//! - `<state>/locks/<digest>/<etag>.json`: the object version's lock ([`crate::lock`]): one
//!   invocation at a time replays it, the continuation carries the lock's owner to the next,
//!   and a duplicate event or a second drop of the same bytes sends nothing.
//!
//! Before producing, the object's start decides its day/month order (the producer's rule,
//! [`stockstream_core::date_order`]), from its first [`HEAD_MAX`] bytes only: those are on
//! local disk in every invocation, resumed or not, so every invocation decides the same way.
//! An object whose start does not settle the order (its dates disagree, or all read either
//! way), or that has no symbol column and a key whose file name gives no ticker, is refused
//! before anything is sent: [`Replayed::refused`] says why, and the invocation succeeds, since
//! a retry would refuse it again.

use crate::config::ReplayConfig;
use crate::lock::{Lock, LockError, Taken};
use crate::spool::{spool, SpoolError, HEAD_MAX};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use stockstream_core::date::DateOrder;
use stockstream_core::layout::Column;
use stockstream_core::reader::{scan_date_order, ScanLimit};
use stockstream_core::symbols::ticker_from_file_name;
use stockstream_producer::checkpoint::Checkpoint;
use stockstream_producer::produce::{produce, RunError};
use stockstream_producer::progress::ProgressMode;
use stockstream_producer::ProduceConfig;

/// What replaying one object did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Replayed {
    /// `s3://bucket/key`.
    pub source: String,
    /// Rows read in this invocation.
    pub rows: u64,
    /// Rows rejected in this invocation (kept under the rejects prefix).
    pub rejected: u64,
    /// Rows delivered to Kafka in this invocation.
    pub delivered: u64,
    /// Rows found already in Kafka (an earlier, interrupted invocation sent them).
    pub already_in_topic: u64,
    /// Bytes downloaded.
    pub bytes_downloaded: u64,
    /// True once every row of the object is in Kafka or rejected.
    pub complete: bool,
    /// True when time ran out and a continuation was written.
    pub continued: bool,
    /// True when the object had been replayed completely before (nothing was sent).
    pub already_replayed: bool,
    /// Set when another invocation holds the object's lock (it is replaying it): its owner.
    /// Nothing was sent; that invocation, or its continuation, finishes the object.
    pub held_by: Option<String>,
    /// The rejects object, when there are rejects.
    pub rejects: Option<String>,
    /// Set when the object was refused before anything was sent, with the reason (its dates
    /// do not settle the day/month order, or no symbol can be found for it).
    pub refused: Option<String>,
}

/// Why an object could not be replayed (the invocation fails and Lambda retries it).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// S3 refused or failed.
    #[error("{what} s3://{bucket}/{key}: {detail}")]
    S3 {
        /// What was being done.
        what: &'static str,
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// What S3 said.
        detail: String,
    },
    /// The download failed.
    #[error(transparent)]
    Spool(#[from] SpoolError),
    /// Local files.
    #[error("{0}")]
    Local(String),
    /// The object's lock could not be read or written.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The producer stopped (a bad header, Kafka unreachable or refusing rows). Its checkpoint
    /// was saved first, so the retry resumes.
    #[error("s3://{bucket}/{key}: {error}")]
    Produce {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The producer's error.
        error: String,
    },
}

/// The state object: which version of the object the checkpoint belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// The object's ETag when replay started.
    pub etag: String,
    /// The producer's checkpoint.
    pub checkpoint: Checkpoint,
}

/// A continuation: the object to resume, and the owner of its lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continuation {
    /// Bucket.
    pub bucket: String,
    /// Key of the CSV object.
    pub key: String,
    /// Its ETag.
    pub etag: String,
    /// The lock's owner, which the next invocation takes on (absent in continuations written
    /// before the lock existed: the next invocation then takes the lock as its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// Who is replaying: the owner of the object's lock and the end of its lease (when Lambda
/// stops the invocation, so nothing is sent after it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The invocation's request id, or the owner a continuation carries.
    pub owner: String,
    /// The lease's end.
    pub lease_until: SystemTime,
}

/// Keys of the objects kept for `key`.
pub fn state_key(c: &ReplayConfig, key: &str) -> String {
    format!("{}/checkpoints/{key}.json", c.state_prefix)
}

/// Key of the rejects object of `key`.
pub fn rejects_key(c: &ReplayConfig, key: &str) -> String {
    format!("{}/{key}.rejects.jsonl", c.rejects_prefix)
}

/// Key of the continuation object of `key`.
pub fn continue_key(c: &ReplayConfig, key: &str) -> String {
    format!("{}/continue/{key}.json", c.state_prefix)
}

fn s3_err<E: std::error::Error + 'static>(
    what: &'static str,
    bucket: &str,
    key: &str,
) -> impl FnOnce(aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> ReplayError
{
    let (bucket, key) = (bucket.to_string(), key.to_string());
    move |e| ReplayError::S3 {
        what,
        bucket,
        key,
        detail: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
    }
}

async fn get_bytes(
    client: &Client,
    bucket: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, ReplayError> {
    match client.get_object().bucket(bucket).key(key).send().await {
        Ok(o) => {
            let b = o.body.collect().await.map_err(|e| ReplayError::S3 {
                what: "reading",
                bucket: bucket.into(),
                key: key.into(),
                detail: e.to_string(),
            })?;
            Ok(Some(b.into_bytes().to_vec()))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
        Err(e) => Err(s3_err("reading", bucket, key)(e)),
    }
}

async fn put(
    client: &Client,
    bucket: &str,
    key: &str,
    body: ByteStream,
    kind: &str,
) -> Result<(), ReplayError> {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type(kind)
        .body(body)
        .send()
        .await
        .map_err(s3_err("writing", bucket, key))?;
    Ok(())
}

fn local(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ReplayError {
    let path = path.display().to_string();
    move |e| ReplayError::Local(format!("{what} {path}: {e}"))
}

/// A private work folder for one object under `root` (the checkpoint records the rejects
/// file's path, so the name must be the same in every invocation).
fn work_dir(root: &Path, bucket: &str, key: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (bucket, key).hash(&mut h);
    root.join(format!("{:016x}", h.finish()))
}

/// Replays `s3://bucket/key` until done or `until`, under the object's lock taken for
/// `claim`, working under `work_root` (`/tmp` on Lambda).
pub async fn replay_object(
    client: &Client,
    c: &ReplayConfig,
    bucket: &str,
    key: &str,
    until: Instant,
    claim: &Claim,
    work_root: &Path,
) -> Result<Replayed, ReplayError> {
    let source = format!("s3://{bucket}/{key}");
    let head = client
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(s3_err("reading", bucket, key))?;
    let etag = head.e_tag().unwrap_or_default().to_string();
    let size = head.content_length().unwrap_or_default().max(0) as u64;

    let lock = Lock::new(
        client,
        &c.state_prefix,
        bucket,
        key,
        &etag,
        &claim.owner,
        claim.lease_until,
    );
    let lock_etag = match lock.take(SystemTime::now()).await? {
        Taken::Held { etag } => etag,
        Taken::Done => {
            return Ok(Replayed {
                source,
                complete: true,
                already_replayed: true,
                ..Default::default()
            })
        }
        Taken::HeldBy(other) => {
            return Ok(Replayed {
                source,
                held_by: Some(other.owner),
                ..Default::default()
            })
        }
    };
    let out = replay_locked(client, c, bucket, key, &etag, size, until, claim, work_root).await;
    match &out {
        // Done: later events for this version answer at once. Continued: the lock stays with
        // its owner, whom the continuation names.
        Ok(r) if r.complete => {
            lock.finish(&lock_etag, true).await?;
        }
        Ok(r) if r.continued => {}
        // Refused, or failed: the lease ends, so a retry or a new event decides afresh.
        _ => {
            let _ = lock.finish(&lock_etag, false).await;
        }
    }
    out
}

/// [`replay_object`] with the lock held.
#[allow(clippy::too_many_arguments)]
async fn replay_locked(
    client: &Client,
    c: &ReplayConfig,
    bucket: &str,
    key: &str,
    etag: &str,
    size: u64,
    until: Instant,
    claim: &Claim,
    work_root: &Path,
) -> Result<Replayed, ReplayError> {
    let source = format!("s3://{bucket}/{key}");
    let etag = etag.to_string();

    let dir = work_dir(work_root, bucket, key);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(local("creating", &dir))?;
    let name = key.rsplit('/').next().unwrap_or("input.csv");
    let (csv, ckpt, rejects) = (
        dir.join(name),
        dir.join("checkpoint.json"),
        dir.join("rejects.jsonl"),
    );

    // The checkpoint of this version of the object, if an invocation started it.
    let skey = state_key(c, key);
    let state: Option<State> = match get_bytes(client, bucket, &skey).await? {
        Some(b) => serde_json::from_slice(&b).map_err(|e| {
            ReplayError::Local(format!(
                "s3://{bucket}/{skey} is not a replay checkpoint: {e}"
            ))
        })?,
        None => None,
    };
    let state = state.filter(|s| s.etag == etag);
    let resume = state
        .as_ref()
        .and_then(|s| s.checkpoint.sources.get(&source));
    if resume.is_some_and(|s| s.complete) {
        return Ok(Replayed {
            source,
            complete: true,
            already_replayed: true,
            ..Default::default()
        });
    }
    let resume_at = resume.map(|s| s.snapshot.offset);
    if let Some(s) = &state {
        // The producer checks the checkpoint against its rejects file's path.
        let mut cp = s.checkpoint.clone();
        cp.rejects = rejects.clone();
        cp.save(&ckpt)
            .map_err(|e| ReplayError::Local(format!("{e:#}")))?;
        let rkey = rejects_key(c, key);
        let old = get_bytes(client, bucket, &rkey).await?.unwrap_or_default();
        std::fs::write(&rejects, old).map_err(local("writing", &rejects))?;
    }
    let downloaded = spool(client, bucket, key, &etag, size, &csv, resume_at).await?;
    if let Some(why) = refusal(&csv, &source, name)? {
        let _ = std::fs::remove_file(&csv);
        return Ok(Replayed {
            source,
            bytes_downloaded: downloaded,
            refused: Some(why),
            ..Default::default()
        });
    }

    // Produce on a blocking thread; a timer asks it to stop (it flushes and checkpoints).
    let stop = Arc::new(AtomicBool::new(false));
    // The producer's settings, built as a value: nothing (the password included) passes
    // through argv, and the producer checks them as it does its flags.
    let mut config = ProduceConfig::new(c.brokers.clone(), c.topic.clone(), vec![csv.clone()]);
    config.input.rejects = rejects.clone();
    config.checkpoint = Some(ckpt.clone());
    config.source_name = Some(source.clone());
    config.input.date_order = DateOrder::Auto;
    config.input.date_scan_limit = Some(HEAD_MAX);
    config.input.progress = ProgressMode::Log;
    let access = &c.access;
    config.kafka.security_protocol = access.protocol.clone();
    if let Some(l) = &access.sasl {
        config.kafka.sasl_mechanism = Some(l.mechanism.clone());
        config.kafka.sasl_username = Some(l.username.clone());
        config.kafka.sasl_password = Some(l.password.clone());
    }
    if let Some(pem) = &access.ca_pem {
        config.kafka.extra.push(("ssl.ca.pem".into(), pem.clone()));
    }
    let timer_stop = Arc::clone(&stop);
    let timer = tokio::spawn(async move {
        tokio::time::sleep_until(tokio::time::Instant::from_std(until)).await;
        timer_stop.store(true, Ordering::Relaxed);
    });
    let stop_p = Arc::clone(&stop);
    let outcome = tokio::task::spawn_blocking(move || produce(&config, &stop_p))
        .await
        .map_err(|e| ReplayError::Local(format!("the producer thread failed: {e}")))?;
    timer.abort();

    // Whatever happened, keep what the producer recorded.
    let cp_bytes = std::fs::read(&ckpt).ok();
    let checkpoint: Option<Checkpoint> = cp_bytes
        .as_deref()
        .and_then(|b| serde_json::from_slice(b).ok());
    if let Some(cp) = &checkpoint {
        let body = serde_json::to_vec_pretty(&State {
            etag: etag.clone(),
            checkpoint: cp.clone(),
        })
        .expect("state serialises");
        put(
            client,
            bucket,
            &skey,
            ByteStream::from(body),
            "application/json",
        )
        .await?;
    }
    let has_rejects = std::fs::metadata(&rejects)
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    let rkey = rejects_key(c, key);
    if has_rejects {
        let body = ByteStream::from_path(&rejects)
            .await
            .map_err(|e| ReplayError::Local(format!("reading {}: {e}", rejects.display())))?;
        put(client, bucket, &rkey, body, "application/x-ndjson").await?;
    }
    let _ = std::fs::remove_file(&csv);
    let mut r = Replayed {
        source: source.clone(),
        bytes_downloaded: downloaded,
        rejects: has_rejects.then(|| format!("s3://{bucket}/{rkey}")),
        ..Default::default()
    };
    let summary = match outcome {
        Ok(s) => {
            r.complete = true;
            s
        }
        Err(RunError::Interrupted) => {
            let cont = Continuation {
                bucket: bucket.to_string(),
                key: key.to_string(),
                etag: etag.clone(),
                owner: Some(claim.owner.clone()),
            };
            let body = serde_json::to_vec(&cont).expect("continuation serialises");
            put(
                client,
                bucket,
                &continue_key(c, key),
                ByteStream::from(body),
                "application/json",
            )
            .await?;
            r.continued = true;
            // The counts of this invocation are in the checkpoint's snapshot.
            if let Some(s) = checkpoint.as_ref().and_then(|cp| cp.sources.get(&source)) {
                let before = resume.map(|s| s.snapshot.stats.clone()).unwrap_or_default();
                r.rows = s.snapshot.stats.rows - before.rows;
                r.rejected = s.snapshot.stats.rejected - before.rejected;
            }
            return Ok(r);
        }
        Err(e) => {
            return Err(ReplayError::Produce {
                bucket: bucket.to_string(),
                key: key.to_string(),
                error: match e {
                    RunError::Fatal(a) => format!("{a:#}"),
                    other => other.to_string(),
                },
            })
        }
    };
    let before = resume.map(|s| s.snapshot.stats.clone()).unwrap_or_default();
    r.rows = summary.read.rows.saturating_sub(before.rows);
    r.rejected = summary.read.rejected.saturating_sub(before.rejected);
    r.delivered = summary.delivered;
    r.already_in_topic = summary.already_in_topic;
    Ok(r)
}

/// Why the object at `csv` cannot be replayed, if it cannot: its first [`HEAD_MAX`] bytes do
/// not settle its day/month order, or it has no symbol column and `name` gives no ticker.
/// Header problems are left to the producer, which reports them as it does for any file.
fn refusal(csv: &Path, source: &str, name: &str) -> Result<Option<String>, ReplayError> {
    let f = std::fs::File::open(csv).map_err(local("reading", csv))?;
    let scan = match scan_date_order(
        std::io::BufReader::new(f),
        source,
        ScanLimit::Strict(HEAD_MAX),
    ) {
        Ok(scan) => scan,
        Err(_) => return Ok(None),
    };
    if let Err(r) = scan.decision {
        return Ok(Some(format!(
            "{source}: refused, nothing sent: {r} (decided from the object's first {} KiB)",
            HEAD_MAX >> 10
        )));
    }
    if scan.layout.position(Column::Symbol).is_none() {
        if let Err(e) = ticker_from_file_name(name) {
            return Ok(Some(format!(
                "{source}: refused, nothing sent: no symbol column in the header, and {e}"
            )));
        }
    }
    Ok(None)
}

/// The time an invocation may spend producing: the configured deadline, and the Lambda
/// deadline less a reserve for flushing and saving (`reserve`).
pub fn budget(
    c: &ReplayConfig,
    started: Instant,
    lambda_deadline: Option<Instant>,
    reserve: Duration,
) -> Instant {
    let mine = started + c.deadline;
    match lambda_deadline {
        Some(d) => mine.min(d.checked_sub(reserve).unwrap_or(started)),
        None => mine,
    }
}
