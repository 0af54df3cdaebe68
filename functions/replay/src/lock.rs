//! One replay per object version: a lock object per bucket, key and ETag, taken by a
//! conditional write, so a duplicate notification (S3 delivers at least once), a second drop
//! of the same bytes or two invocations racing for one object send its rows once.
//!
//! The lock lives at `<state>/locks/<sha256 of "bucket/key">/<etag>.json` (a digest, so any
//! key fits S3's 1,024-byte key limit) and holds its owner, a lease and whether the object is
//! done. Rules:
//! - **Take**: create it with `If-None-Match: *`. Of two racing invocations exactly one
//!   succeeds; the other finds it held and sends nothing.
//! - **Owner**: the invocation's request id. A continuation (a file that needs several
//!   invocations) carries the owner, so the next invocation passes its own lock; so does a
//!   Lambda retry of the same invocation.
//! - **Lease**: until the holder's Lambda deadline (Lambda stops the process there, so no
//!   row is sent after it) plus [`SKEW`]. An expired lease may be taken over with
//!   `If-Match` on the lock's ETag (one taker wins): the holder crashed or its continuation is
//!   late, and the taker resumes from the shared checkpoint, which never sends a row twice
//!   when runs do not overlap. A failed invocation ends its lease at once, so Lambda's retry
//!   takes over without waiting.
//! - **Done**: once the object is complete the lock says so, and every later event for that
//!   version is answered "already replayed" without reading the object.
//!
//! S3 answers a lost race with 412 (or 409 for concurrent conditional writes); both are
//! answers here, not errors.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Allowance for clocks that differ between Lambda hosts.
pub const SKEW: Duration = Duration::from_secs(10);

/// The lock object's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRecord {
    /// `s3://bucket/key`.
    pub source: String,
    /// The object's ETag.
    pub etag: String,
    /// Who holds it (a request id).
    pub owner: String,
    /// End of the lease, epoch milliseconds.
    pub lease_until_ms: u64,
    /// The object is replayed completely.
    pub done: bool,
}

/// What taking the lock found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// This invocation holds it; `etag` is the lock object's ETag, for the next conditional write.
    Held {
        /// The lock object's ETag.
        etag: String,
    },
    /// Another invocation holds an unexpired lease.
    HeldBy(LockRecord),
    /// The object version is done.
    Done,
}

/// A lock request failed (S3 refused or failed; the invocation fails and is retried).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the replay lock s3://{bucket}/{key}: {detail}")]
pub struct LockError {
    /// Bucket.
    pub bucket: String,
    /// Key of the lock object.
    pub key: String,
    /// What S3 said.
    pub detail: String,
}

/// Key of the lock of `s3://bucket/key` at `etag`, under `state_prefix`.
pub fn lock_key(state_prefix: &str, bucket: &str, key: &str, etag: &str) -> String {
    let digest = Sha256::digest(format!("{bucket}/{key}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let etag: String = etag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("{state_prefix}/locks/{hex}/{etag}.json")
}

/// Epoch milliseconds of `t`.
pub fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The object lock of one object version.
pub struct Lock<'a> {
    client: &'a Client,
    bucket: String,
    key: String,
    record: LockRecord,
}

fn status<E>(
    e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

impl<'a> Lock<'a> {
    /// The lock of `s3://bucket/object` at `etag` (kept under `state_prefix`), for `owner`
    /// with a lease until `lease_until`.
    pub fn new(
        client: &'a Client,
        state_prefix: &str,
        bucket: &str,
        object: &str,
        etag: &str,
        owner: &str,
        lease_until: SystemTime,
    ) -> Self {
        Lock {
            client,
            bucket: bucket.to_string(),
            key: lock_key(state_prefix, bucket, object, etag),
            record: LockRecord {
                source: format!("s3://{bucket}/{object}"),
                etag: etag.to_string(),
                owner: owner.to_string(),
                lease_until_ms: epoch_ms(lease_until + SKEW),
                done: false,
            },
        }
    }

    /// Key of the lock object.
    pub fn key(&self) -> &str {
        &self.key
    }

    fn fail(&self, detail: String) -> LockError {
        LockError {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            detail,
        }
    }

    /// Writes `record`: as a new object (`if_match` none) or over the lock object with ETag
    /// `if_match`. `Ok(None)`: another writer was first.
    async fn write(
        &self,
        record: &LockRecord,
        if_match: Option<&str>,
    ) -> Result<Option<String>, LockError> {
        let body = serde_json::to_vec(record).expect("lock record serialises");
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .body(ByteStream::from(body));
        req = match if_match {
            Some(e) => req.if_match(e),
            None => req.if_none_match("*"),
        };
        match req.send().await {
            Ok(out) => Ok(Some(out.e_tag().unwrap_or_default().to_string())),
            Err(e) if matches!(status(&e), Some(412 | 409)) => Ok(None),
            // If-Match on an object deleted meanwhile.
            Err(e) if if_match.is_some() && status(&e) == Some(404) => Ok(None),
            Err(e) => Err(self.fail(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())),
        }
    }

    /// The lock object and its ETag, if it exists.
    async fn read(&self) -> Result<Option<(LockRecord, String)>, LockError> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
        {
            Ok(o) => {
                let etag = o.e_tag().unwrap_or_default().to_string();
                let bytes = o
                    .body
                    .collect()
                    .await
                    .map_err(|e| self.fail(e.to_string()))?;
                let r = serde_json::from_slice(&bytes.into_bytes())
                    .map_err(|e| self.fail(format!("not a replay lock: {e}")))?;
                Ok(Some((r, etag)))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(self.fail(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())),
        }
    }

    /// Takes the lock at time `now` (see the module doc for the rules).
    pub async fn take(&self, now: SystemTime) -> Result<Taken, LockError> {
        // A few rounds: each lost race means another writer changed the lock meanwhile.
        for _ in 0..5 {
            if let Some(etag) = self.write(&self.record, None).await? {
                return Ok(Taken::Held { etag });
            }
            let Some((held, etag)) = self.read().await? else {
                continue;
            };
            if held.done {
                return Ok(Taken::Done);
            }
            if held.owner != self.record.owner && held.lease_until_ms > epoch_ms(now) {
                return Ok(Taken::HeldBy(held));
            }
            // Our own lock (a continuation or a retry) or an expired lease: renew or take over.
            if let Some(etag) = self.write(&self.record, Some(&etag)).await? {
                return Ok(Taken::Held { etag });
            }
        }
        Err(self.fail("the lock changed five times while taking it".into()))
    }

    /// Marks the object version done (`done`) or ends the lease (not done: a failed
    /// invocation, so that its retry need not wait). `etag` is the ETag [`Lock::take`]
    /// returned. Returns false when the lock was taken over meanwhile.
    pub async fn finish(&self, etag: &str, done: bool) -> Result<bool, LockError> {
        let record = LockRecord {
            done,
            lease_until_ms: if done { self.record.lease_until_ms } else { 0 },
            ..self.record.clone()
        };
        Ok(self.write(&record, Some(etag)).await?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_short_stable_and_per_version() {
        // sha256("b/drop/a.csv"), fixed: every version of the binary must name the same lock.
        let k = lock_key("replay", "b", "drop/a.csv", "\"0f1e\"");
        assert_eq!(k, "replay/locks/2920cb7169fd02667684f78ce0bebf58c7df3dae384b6ff09fb1ec0c7c9f23ce/0f1e.json");
        assert_eq!(k.split('/').nth(2).unwrap().len(), 64);
        let long = "drop/".to_string() + &"x".repeat(1010) + ".csv";
        assert!(lock_key("replay", "b", &long, "\"abc-12\"").len() < 200);
        assert_ne!(
            lock_key("replay", "b", "drop/a.csv", "\"1\""),
            lock_key("replay", "b", "drop/a.csv", "\"2\"")
        );
        assert_ne!(
            lock_key("replay", "b1", "drop/a.csv", "\"1\""),
            lock_key("replay", "b2", "drop/a.csv", "\"1\"")
        );
        assert!(lock_key("replay", "b", "k", "\"abc-12\"").ends_with("/abc-12.json"));
    }
}
