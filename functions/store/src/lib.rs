//! Object storage for the lake: the small interface the exactly-once sink, the compaction,
//! the redrive and the local runner write through, its implementations, and the one way the
//! functions build S3 clients.
//!
//! Three operations are enough for exactly-once writes: read an object with a version tag,
//! create an object only if it does not exist (S3 `If-None-Match: *`), and replace an object
//! only if it still has the version we read (S3 `If-Match: <etag>`); listing and deleting
//! serve compaction.
//!
//! - [`Store`], [`Etag`], [`Created`], [`StoreError`]: the interface (this module);
//! - [`s3`]: the S3 implementation, one request per operation;
//! - [`local`]: a local directory as the bucket, the same layout (the embedded default);
//! - [`memory`]: in memory, failing the n-th write on demand (the property tests' fault
//!   injector);
//! - [`client`]: S3 clients for AWS (the functions), and for moto or MinIO (an endpoint),
//!   with one retry policy;
//! - `moto` (feature `test-support`): the test suites' clients for the moto server, and
//!   names no other test of the run uses.
//!
//! It knows nothing of Kafka, rows or Parquet: the sink (`stockstream-sink`) decides what
//! the objects hold.
#![deny(missing_docs)]

pub mod client;
pub mod local;
pub mod memory;
#[cfg(feature = "test-support")]
pub mod moto;
pub mod s3;

pub use local::LocalDir;
pub use memory::Memory;

use std::fmt;
use std::hash::{Hash, Hasher};

/// A version tag of an object (an S3 ETag, or a content hash locally).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Etag(pub String);

/// What a create-if-absent write found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The object did not exist and now holds our bytes.
    Yes,
    /// An object already had that key; nothing was written.
    AlreadyExists,
}

/// A storage failure, with the key it concerns.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage could not be read or written.
    #[error("{key}: {error}")]
    Io {
        /// Object key.
        key: String,
        /// Cause.
        #[source]
        error: std::io::Error,
    },
    /// A remote store (S3) refused or failed, after the client's retries.
    #[error("{key}: {detail}")]
    Remote {
        /// Object key.
        key: String,
        /// What the service said.
        detail: String,
    },
    /// A failure injected by a test.
    #[error("{key}: injected failure")]
    Injected {
        /// Object key.
        key: String,
    },
}

/// The storage interface of the lake's writers.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// The object's bytes and version, or `None` if absent.
    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, Etag)>, StoreError>;
    /// Writes `bytes` under `key` unless the key exists.
    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<Created, StoreError>;
    /// Replaces the object if its version is still `expected` (`None`: it must not exist).
    /// Returns false, writing nothing, when the precondition fails.
    async fn put_if_match(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&Etag>,
    ) -> Result<bool, StoreError>;
    /// Keys under a prefix, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
    /// Removes an object; removing one that is absent succeeds (a retried delete).
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// A version tag from an object's content: what stores without ETags (a directory, memory)
/// compare for compare-and-swap.
pub(crate) fn content_tag(bytes: &[u8]) -> Etag {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    Etag(format!("{:016x}-{}", h.finish(), bytes.len()))
}

impl fmt::Display for Etag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a store against the interface's contract (what the sink's exactly-once protocol
/// relies on): used by this crate's tests and the S3 test against moto.
#[cfg(any(test, feature = "test-support"))]
pub async fn contract(store: &impl Store) {
    assert_eq!(store.get("a/b.txt").await.unwrap(), None);
    assert_eq!(
        store.put_if_absent("a/b.txt", b"one").await.unwrap(),
        Created::Yes
    );
    assert_eq!(
        store.put_if_absent("a/b.txt", b"two").await.unwrap(),
        Created::AlreadyExists
    );
    let (bytes, tag) = store.get("a/b.txt").await.unwrap().unwrap();
    assert_eq!(bytes, b"one", "a create never overwrites");
    assert!(
        !store
            .put_if_match("s.json", b"x", Some(&tag))
            .await
            .unwrap(),
        "a version of an object that does not exist (S3 answers 404)"
    );
    assert!(store.put_if_match("s.json", b"1", None).await.unwrap());
    assert!(
        !store.put_if_match("s.json", b"2", None).await.unwrap(),
        "exists now"
    );
    let (_, t1) = store.get("s.json").await.unwrap().unwrap();
    assert!(store.put_if_match("s.json", b"2", Some(&t1)).await.unwrap());
    assert!(
        !store.put_if_match("s.json", b"3", Some(&t1)).await.unwrap(),
        "stale tag"
    );
    assert_eq!(store.get("s.json").await.unwrap().unwrap().0, b"2");
    assert_eq!(store.list("a/").await.unwrap(), ["a/b.txt"]);
    store.delete("a/b.txt").await.unwrap();
    store.delete("a/b.txt").await.unwrap();
    assert_eq!(store.get("a/b.txt").await.unwrap(), None);
    assert!(store.list("a/").await.unwrap().is_empty());
    store.put_if_absent("a/b.txt", b"one").await.unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;

    #[test]
    fn local_dir_honours_the_contract_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::new(dir.path());
        block_on(contract(&store));
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["b.txt"]);
    }

    #[test]
    fn memory_honours_the_contract_and_fails_on_demand() {
        let store = Memory::default();
        block_on(contract(&store));
        store.fail_after(Some(1));
        block_on(async {
            assert!(store.put_if_absent("x", b"1").await.is_ok());
            assert!(matches!(
                store.put_if_absent("y", b"1").await,
                Err(StoreError::Injected { .. })
            ));
            assert!(
                store.put_if_absent("y", b"1").await.is_ok(),
                "one failure only"
            );
        });
    }
}
