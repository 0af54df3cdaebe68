//! One compactor at a time: a lease held in one S3 object (`COMPACTION_LOCK_KEY`).
//!
//! Compaction is safe to repeat but not to run twice at once (two runs could merge the same
//! objects; see [`crate::compact`]). Reserved concurrency would serialise the Lambda, but it
//! takes from the account's pool and throttles a manual run instead of saying why. So the run
//! takes a lock object first, using only S3's conditional requests:
//!
//! - **take**: `PutObject` with `If-None-Match: *`; the body names the owner (the Lambda
//!   request id) and the time it was taken ([`Holder`]);
//! - **held by another**: the object exists and is younger than the lease: the run stops
//!   and says who holds it;
//! - **take over**: the object is older than the lease (its owner was killed, e.g. by the
//!   Lambda timeout, before releasing): `PutObject` with `If-Match: <the stale ETag>`, so of
//!   two runs finding the same stale lock only one wins;
//! - **release**: `DeleteObject` with `If-Match: <our ETag>`: a lock taken over meanwhile is
//!   never deleted by its former owner.
//!
//! The lease must be longer than the longest run: the function's timeout (900 s) plus
//! [`LEASE_MARGIN`] for clock differences between Lambda hosts. A run cannot outlive its
//! timeout, so a lock older than that has no live owner.
//!
//! S3's answers are mapped here, in the one place that sends these requests: 412 (the
//! precondition failed), 409 (a concurrent conditional request won) and 404 (the object went
//! away under an `If-Match`) all mean "someone else got there first", never an error.
//! (The conditional requests need `s3:GetObject`, `s3:PutObject` and `s3:DeleteObject` on the
//! key.) The [`Store`](stockstream_store::Store) trait has create-if-absent and compare-and-swap
//! but no conditional delete and does not return the new ETag, hence this small trait.

use crate::config::ConfigError;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;
use stockstream_store::s3::{failed, S3};
use stockstream_store::{Etag, Store, StoreError};

/// Lambda's longest timeout, and the compaction function's.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(900);

/// Added to the timeout before a lock counts as stale: clocks of two hosts may differ.
pub const LEASE_MARGIN: Duration = Duration::from_secs(60);

/// Checks the lock's key, the value of `COMPACTION_LOCK_KEY` (read by the compaction's
/// `main`, not the sink's): a full key in the lake's bucket, outside the table's prefix
/// `table` (where readers would take it for data).
pub fn check_key(value: Option<String>, table: &str) -> Result<String, ConfigError> {
    let problem = |problem: String| ConfigError::new("COMPACTION_LOCK_KEY", problem);
    let key = value
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            problem(
                "is not set; give the lock object's key in the bucket (_locks/compaction)".into(),
            )
        })?;
    let table = table.trim_matches('/');
    if key.starts_with('/') || key.ends_with('/') || key.contains("//") {
        return Err(problem(format!(
            "{key:?} is not an object key (no leading, trailing or double slash)"
        )));
    }
    if key == table || key.starts_with(&format!("{table}/")) {
        return Err(problem(format!(
            "{key:?} is inside the table's prefix {table:?}; keep the lock out of the data"
        )));
    }
    Ok(key)
}

/// Who holds the lock, as written in the lock object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The run that took it (a Lambda request id).
    pub owner: String,
    /// When it was taken (the owner's clock).
    pub taken_at: DateTime<Utc>,
}

/// What the lock object says, judged at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// A live owner holds it.
    Held(Holder),
    /// Older than the lease (or unreadable, e.g. written by hand): may be taken over.
    Stale(Option<Holder>),
}

/// Judges a lock object's body at `now` with a lease of `lease` (pure).
pub fn judge(body: &[u8], now: DateTime<Utc>, lease: Duration) -> State {
    match serde_json::from_slice::<Holder>(body) {
        Ok(h) => {
            let age = now.signed_duration_since(h.taken_at);
            // A negative age (the owner's clock ahead of ours) is a young lock.
            if age.to_std().is_ok_and(|a| a > lease) {
                State::Stale(Some(h))
            } else {
                State::Held(h)
            }
        }
        Err(_) => State::Stale(None),
    }
}

/// The conditional object operations a lock needs; S3 is [`S3Objects`].
#[allow(async_fn_in_trait)]
pub trait LockObjects {
    /// The object's bytes and ETag, or `None` if absent.
    async fn read(&self, key: &str) -> Result<Option<(Vec<u8>, Etag)>, StoreError>;
    /// Creates the object unless it exists; its new ETag, or `None` if it existed.
    async fn create(&self, key: &str, bytes: &[u8]) -> Result<Option<Etag>, StoreError>;
    /// Replaces the object if it still has `etag`; the new ETag, or `None` if it changed or
    /// is gone.
    async fn replace(
        &self,
        key: &str,
        bytes: &[u8],
        etag: &Etag,
    ) -> Result<Option<Etag>, StoreError>;
    /// Deletes the object if it still has `etag`; false if it changed or is gone.
    async fn delete_if(&self, key: &str, etag: &Etag) -> Result<bool, StoreError>;
}

/// A lock that this run holds; give it back with [`Lock::release`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// What the lock object says.
    pub holder: Holder,
    etag: Etag,
}

/// What [`Lock::acquire`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    /// The lock was free and is ours.
    Taken(Lease),
    /// The lock was stale and is ours now; `stale` is what it said (if readable).
    TakenOver {
        /// Ours.
        lease: Lease,
        /// The previous holder.
        stale: Option<Holder>,
    },
    /// Another run holds it.
    Held(Holder),
}

/// Why the lock could not be judged.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The lock kept changing under us (taken, released, taken again) for every attempt.
    #[error("{key}: the lock changed hands during every attempt to take it")]
    Contended {
        /// The lock's key.
        key: String,
    },
}

/// Attempts to take the lock when it changes between our requests.
const ATTEMPTS: usize = 3;

/// The lock object `key` in `objects`, with a lease of `lease`.
pub struct Lock<'a, O> {
    /// Where the lock object lives.
    pub objects: &'a O,
    /// Its key.
    pub key: String,
    /// How long a holder may keep it before it counts as stale.
    pub lease: Duration,
}

impl<O: LockObjects> Lock<'_, O> {
    /// Takes the lock for `owner` at `now`, or says who holds it.
    pub async fn acquire(&self, owner: &str, now: DateTime<Utc>) -> Result<Acquired, LockError> {
        let holder = Holder {
            owner: owner.to_string(),
            taken_at: now,
        };
        let body = serde_json::to_vec(&holder).expect("a holder serialises");
        for _ in 0..ATTEMPTS {
            if let Some(etag) = self.objects.create(&self.key, &body).await? {
                return Ok(Acquired::Taken(Lease { holder, etag }));
            }
            // Released between our two requests: try to create it again.
            let Some((current, stale_tag)) = self.objects.read(&self.key).await? else {
                continue;
            };
            match judge(&current, now, self.lease) {
                State::Held(h) => return Ok(Acquired::Held(h)),
                State::Stale(stale) => {
                    if let Some(etag) = self.objects.replace(&self.key, &body, &stale_tag).await? {
                        let lease = Lease { holder, etag };
                        return Ok(Acquired::TakenOver { lease, stale });
                    }
                    // Another run took it over first: look again.
                }
            }
        }
        Err(LockError::Contended {
            key: self.key.clone(),
        })
    }

    /// Gives the lock back; false if it was no longer ours (taken over as stale).
    pub async fn release(&self, lease: Lease) -> Result<bool, LockError> {
        Ok(self.objects.delete_if(&self.key, &lease.etag).await?)
    }
}

/// A bucket's objects for [`Lock`].
#[derive(Debug, Clone)]
pub struct S3Objects {
    /// The sink's S3 store: reads and error mapping are its own; the conditional writes and
    /// delete the lock needs go through its client.
    store: S3,
}

impl S3Objects {
    /// Objects of `bucket` through `client`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Objects {
            store: S3::new(client, bucket),
        }
    }
}

impl From<S3> for S3Objects {
    /// The lock's objects in the store's bucket, through its client.
    fn from(store: S3) -> Self {
        S3Objects { store }
    }
}

fn status<E>(e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

/// 412, 409 and 404 answer a conditional request: another run got there first.
fn lost<E>(e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    matches!(status(e), Some(412 | 409 | 404))
}

fn etag(tag: Option<&str>) -> Etag {
    Etag(tag.unwrap_or_default().to_string())
}

impl LockObjects for S3Objects {
    async fn read(&self, key: &str) -> Result<Option<(Vec<u8>, Etag)>, StoreError> {
        self.store.get(key).await
    }

    async fn create(&self, key: &str, bytes: &[u8]) -> Result<Option<Etag>, StoreError> {
        let put = self
            .store
            .client()
            .put_object()
            .bucket(self.store.bucket())
            .key(key)
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await;
        match put {
            Ok(o) => Ok(Some(etag(o.e_tag()))),
            Err(e) if lost(&e) => Ok(None),
            Err(e) => Err(failed(key, e)),
        }
    }

    async fn replace(
        &self,
        key: &str,
        bytes: &[u8],
        tag: &Etag,
    ) -> Result<Option<Etag>, StoreError> {
        let put = self
            .store
            .client()
            .put_object()
            .bucket(self.store.bucket())
            .key(key)
            .content_type("application/json")
            .if_match(&tag.0)
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await;
        match put {
            Ok(o) => Ok(Some(etag(o.e_tag()))),
            Err(e) if lost(&e) => Ok(None),
            Err(e) => Err(failed(key, e)),
        }
    }

    async fn delete_if(&self, key: &str, tag: &Etag) -> Result<bool, StoreError> {
        let del = self
            .store
            .client()
            .delete_object()
            .bucket(self.store.bucket())
            .key(key)
            .if_match(&tag.0)
            .send()
            .await;
        match del {
            Ok(_) => Ok(true),
            Err(e) if lost(&e) => Ok(false),
            Err(e) => Err(failed(key, e)),
        }
    }
}

/// Lock objects in memory, for tests (ETags count the writes).
#[derive(Debug, Default)]
pub struct MemoryObjects {
    objects: Mutex<BTreeMap<String, (Vec<u8>, Etag)>>,
    writes: Mutex<u64>,
}

impl MemoryObjects {
    fn next_tag(&self) -> Etag {
        let mut n = self.writes.lock().expect("lock");
        *n += 1;
        Etag(format!("\"{n}\""))
    }

    /// Writes an object unconditionally (a test's stale or hand-made lock).
    pub fn put(&self, key: &str, bytes: &[u8]) {
        let tag = self.next_tag();
        let mut o = self.objects.lock().expect("lock");
        o.insert(key.to_string(), (bytes.to_vec(), tag));
    }
}

impl LockObjects for MemoryObjects {
    async fn read(&self, key: &str) -> Result<Option<(Vec<u8>, Etag)>, StoreError> {
        Ok(self.objects.lock().expect("lock").get(key).cloned())
    }

    async fn create(&self, key: &str, bytes: &[u8]) -> Result<Option<Etag>, StoreError> {
        let tag = self.next_tag();
        let mut o = self.objects.lock().expect("lock");
        if o.contains_key(key) {
            return Ok(None);
        }
        o.insert(key.to_string(), (bytes.to_vec(), tag.clone()));
        Ok(Some(tag))
    }

    async fn replace(
        &self,
        key: &str,
        bytes: &[u8],
        etag: &Etag,
    ) -> Result<Option<Etag>, StoreError> {
        let tag = self.next_tag();
        let mut o = self.objects.lock().expect("lock");
        match o.get(key) {
            Some((_, t)) if t == etag => {
                o.insert(key.to_string(), (bytes.to_vec(), tag.clone()));
                Ok(Some(tag))
            }
            _ => Ok(None),
        }
    }

    async fn delete_if(&self, key: &str, etag: &Etag) -> Result<bool, StoreError> {
        let mut o = self.objects.lock().expect("lock");
        match o.get(key) {
            Some((_, t)) if t == etag => {
                o.remove(key);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;

    const LEASE: Duration = Duration::from_secs(960);

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn lock(objects: &MemoryObjects) -> Lock<'_, MemoryObjects> {
        Lock {
            objects,
            key: "_locks/compaction".into(),
            lease: LEASE,
        }
    }

    #[test]
    fn the_key_is_required_and_outside_the_table() {
        let get = |v: &str| Some(v.to_string());
        assert_eq!(
            check_key(get(" _locks/compaction "), "lake/bars").unwrap(),
            "_locks/compaction"
        );
        for bad in [
            "",
            "/_locks/c",
            "_locks/",
            "a//b",
            "lake/bars/_lock",
            "lake/bars",
        ] {
            let e = check_key(get(bad), "lake/bars/").unwrap_err();
            assert_eq!(e.variable, "COMPACTION_LOCK_KEY", "{bad}");
        }
        let e = check_key(None, "lake/bars").unwrap_err();
        assert!(
            e.to_string().starts_with("COMPACTION_LOCK_KEY: is not set"),
            "{e}"
        );
    }

    #[test]
    fn a_lock_is_stale_only_after_the_lease() {
        let h = Holder {
            owner: "a".into(),
            taken_at: at("2026-11-28T03:00:00Z"),
        };
        let body = serde_json::to_vec(&h).unwrap();
        let judged = |now| judge(&body, at(now), LEASE);
        assert_eq!(judged("2026-11-28T03:16:00Z"), State::Held(h.clone()));
        assert_eq!(
            judged("2026-11-28T03:16:01Z"),
            State::Stale(Some(h.clone()))
        );
        assert_eq!(
            judged("2026-11-28T02:59:00Z"),
            State::Held(h),
            "the owner's clock ahead"
        );
        assert_eq!(
            judge(b"hand-made", at("2026-11-28T03:00:00Z"), LEASE),
            State::Stale(None)
        );
    }

    #[test]
    fn one_holder_at_a_time_and_release_frees_it() {
        let objects = MemoryObjects::default();
        let l = lock(&objects);
        let now = at("2026-11-28T03:00:00Z");
        let Acquired::Taken(a) = block_on(l.acquire("a", now)).unwrap() else {
            panic!("free lock not taken");
        };
        let held = block_on(l.acquire("b", now)).unwrap();
        assert_eq!(held, Acquired::Held(a.holder.clone()));
        assert!(block_on(l.release(a)).unwrap());
        assert!(matches!(
            block_on(l.acquire("b", now)).unwrap(),
            Acquired::Taken(_)
        ));
    }

    #[test]
    fn a_stale_lock_is_taken_over_once_and_its_owner_cannot_release_it() {
        let objects = MemoryObjects::default();
        let l = lock(&objects);
        let t0 = at("2026-11-28T03:00:00Z");
        let Acquired::Taken(old) = block_on(l.acquire("killed", t0)).unwrap() else {
            panic!("free lock not taken");
        };
        let later = at("2026-11-28T03:17:00Z");
        let Acquired::TakenOver { lease, stale } = block_on(l.acquire("b", later)).unwrap() else {
            panic!("stale lock not taken over");
        };
        assert_eq!(stale, Some(old.holder.clone()));
        assert_eq!(lease.holder.owner, "b");
        assert_eq!(
            block_on(l.acquire("c", later)).unwrap(),
            Acquired::Held(lease.holder.clone()),
            "taken over once"
        );
        assert!(
            !block_on(l.release(old)).unwrap(),
            "no longer the old owner's"
        );
        assert!(block_on(l.release(lease)).unwrap());
    }

    #[test]
    fn an_unreadable_lock_is_taken_over() {
        let objects = MemoryObjects::default();
        objects.put("_locks/compaction", b"by hand");
        let got = block_on(lock(&objects).acquire("a", at("2026-11-28T03:00:00Z"))).unwrap();
        assert!(
            matches!(got, Acquired::TakenOver { stale: None, .. }),
            "{got:?}"
        );
    }
}
