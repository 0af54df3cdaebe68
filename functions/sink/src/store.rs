//! The storage interface the sink needs, and two implementations.
//!
//! Three operations are enough for exactly-once writes: read an object with a version tag,
//! create an object only if it does not exist (S3 `If-None-Match: *`), and replace an object
//! only if it still has the version we read (S3 `If-Match: <etag>`). The S3 implementation
//! (to come) maps them one to one; [`LocalDir`] is the embedded default with the same layout,
//! and [`Memory`] serves tests, with failures injected on demand.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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

/// The sink's view of object storage.
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

fn content_tag(bytes: &[u8]) -> Etag {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    Etag(format!("{:016x}-{}", h.finish(), bytes.len()))
}

/// A local directory as the bucket: key `a/b.parquet` is the file `<root>/a/b.parquet`.
///
/// Creates are atomic (written to a temporary file, then hard-linked into place, which fails
/// if the name exists), so readers never see half an object. Compare-and-swap is safe for one
/// writer per key at a time, which the Kafka trigger guarantees per partition.
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalDir { root: root.into() }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn io(key: &str) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
        move |error| StoreError::Io {
            key: key.to_string(),
            error,
        }
    }

    fn temp_for(path: &Path) -> PathBuf {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
    }

    fn write_temp(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = Self::temp_for(path);
        std::fs::write(&tmp, bytes)?;
        Ok(tmp)
    }
}

impl Store for LocalDir {
    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, Etag)>, StoreError> {
        match std::fs::read(self.path(key)) {
            Ok(bytes) => {
                let tag = content_tag(&bytes);
                Ok(Some((bytes, tag)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Self::io(key)(e)),
        }
    }

    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<Created, StoreError> {
        let path = self.path(key);
        let tmp = Self::write_temp(&path, bytes).map_err(Self::io(key))?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(Created::Yes),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Created::AlreadyExists),
            Err(e) => Err(Self::io(key)(e)),
        }
    }

    async fn put_if_match(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&Etag>,
    ) -> Result<bool, StoreError> {
        let current = self.get(key).await?.map(|(_, t)| t);
        if current.as_ref() != expected {
            return Ok(false);
        }
        let path = self.path(key);
        let tmp = Self::write_temp(&path, bytes).map_err(Self::io(key))?;
        std::fs::rename(&tmp, &path).map_err(Self::io(key))?;
        Ok(true)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
            let entries = match std::fs::read_dir(dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let path = entry.path();
                if entry.file_type()?.is_dir() {
                    walk(&path, root, out)?;
                } else if !entry.file_name().to_string_lossy().starts_with('.') {
                    let rel = path.strip_prefix(root).expect("under root");
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
            Ok(())
        }
        let mut out = vec![];
        walk(&self.root, &self.root, &mut out).map_err(Self::io(prefix))?;
        out.retain(|k| k.starts_with(prefix));
        out.sort();
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match std::fs::remove_file(self.path(key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Self::io(key)(e)),
            _ => Ok(()),
        }
    }
}

/// An in-memory store for tests; can fail the n-th write from now.
#[derive(Debug, Default)]
pub struct Memory {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
    fail_in: Mutex<Option<usize>>,
}

impl Memory {
    /// The next `n` writes succeed and the one after fails (`None`: no failure).
    pub fn fail_after(&self, n: Option<usize>) {
        *self.fail_in.lock().expect("lock") = n;
    }

    fn check(&self, key: &str) -> Result<(), StoreError> {
        let mut f = self.fail_in.lock().expect("lock");
        match *f {
            Some(0) => {
                *f = None;
                Err(StoreError::Injected {
                    key: key.to_string(),
                })
            }
            Some(n) => {
                *f = Some(n - 1);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Every object, by key.
    pub fn objects(&self) -> BTreeMap<String, Vec<u8>> {
        self.objects.lock().expect("lock").clone()
    }
}

impl Store for Memory {
    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, Etag)>, StoreError> {
        Ok(self
            .objects
            .lock()
            .expect("lock")
            .get(key)
            .map(|b| (b.clone(), content_tag(b))))
    }

    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<Created, StoreError> {
        self.check(key)?;
        let mut o = self.objects.lock().expect("lock");
        if o.contains_key(key) {
            return Ok(Created::AlreadyExists);
        }
        o.insert(key.to_string(), bytes.to_vec());
        Ok(Created::Yes)
    }

    async fn put_if_match(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&Etag>,
    ) -> Result<bool, StoreError> {
        self.check(key)?;
        let mut o = self.objects.lock().expect("lock");
        if o.get(key).map(|b| content_tag(b)).as_ref() != expected {
            return Ok(false);
        }
        o.insert(key.to_string(), bytes.to_vec());
        Ok(true)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .objects
            .lock()
            .expect("lock")
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.check(key)?;
        self.objects.lock().expect("lock").remove(key);
        Ok(())
    }
}

impl fmt::Display for Etag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;

    fn contract(store: &impl Store) {
        block_on(async {
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
            assert!(!store
                .put_if_match("s.json", b"x", Some(&tag))
                .await
                .unwrap());
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
        });
    }

    #[test]
    fn local_dir_honours_the_contract_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::new(dir.path());
        contract(&store);
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["b.txt"]);
    }

    #[test]
    fn memory_honours_the_contract_and_fails_on_demand() {
        let store = Memory::default();
        contract(&store);
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
