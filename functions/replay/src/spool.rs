//! The object on local disk: the producer reads files (it seeks to resume and reads the
//! header again), so the function streams the object into a file under `/tmp`, one network
//! chunk at a time. Memory stays flat whatever the object's size; the disk needs the
//! object's size (the template sizes the function's ephemeral storage).
//!
//! A resumed invocation downloads only what the producer will read: the head of the object
//! (up to its first line break, for the header) and everything from the checkpoint's offset.
//! The file gets the object's full length with a hole in between, which the producer seeks
//! over (and which costs no disk).

use aws_sdk_s3::Client;
use std::path::Path;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

/// Most bytes fetched for the header of a resumed file. The first `HEAD_MAX` bytes of the
/// local file are therefore always the object's own, in every invocation; the day/month order
/// is decided from them and nothing further ([`crate::replay`]).
pub const HEAD_MAX: u64 = 1 << 20;

/// A download that failed.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// S3 refused or failed (after the client's retries), or the object changed meanwhile.
    #[error("downloading s3://{bucket}/{key}: {detail}")]
    S3 {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// What S3 said.
        detail: String,
    },
    /// The local file could not be written.
    #[error("writing {path}: {error}")]
    Disk {
        /// File.
        path: String,
        /// Cause.
        #[source]
        error: std::io::Error,
    },
}

/// Downloads `s3://bucket/key` (version `etag`, `size` bytes) to `path`; with `resume_at`,
/// only its head and the bytes from that offset. Returns the bytes downloaded.
pub async fn spool(
    client: &Client,
    bucket: &str,
    key: &str,
    etag: &str,
    size: u64,
    path: &Path,
    resume_at: Option<u64>,
) -> Result<u64, SpoolError> {
    let disk = |error| SpoolError::Disk {
        path: path.display().to_string(),
        error,
    };
    let mut file = tokio::fs::File::create(path).await.map_err(disk)?;
    file.set_len(size).await.map_err(disk)?;
    let ranges: Vec<(u64, u64)> = match resume_at {
        None | Some(0) => vec![(0, size)],
        Some(at) => {
            let head = HEAD_MAX.min(at).min(size);
            vec![(0, head), (at.min(size), size)]
        }
    };
    let mut total = 0;
    for (from, to) in ranges {
        if from >= to {
            continue;
        }
        file.seek(std::io::SeekFrom::Start(from))
            .await
            .map_err(disk)?;
        let fail = |detail: String| SpoolError::S3 {
            bucket: bucket.to_string(),
            key: key.to_string(),
            detail,
        };
        let out = client
            .get_object()
            .bucket(bucket)
            .key(key)
            .if_match(etag)
            .range(format!("bytes={from}-{}", to - 1))
            .send()
            .await
            .map_err(|e| fail(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?;
        let mut body = out.body;
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| fail(format!("reading the body: {e}")))?
        {
            file.write_all(&chunk).await.map_err(disk)?;
            total += chunk.len() as u64;
        }
    }
    file.flush().await.map_err(disk)?;
    Ok(total)
}
