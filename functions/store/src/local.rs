//! A local directory as the bucket: the embedded default of the local runner, with the
//! lake's layout, so the same files can be uploaded to S3 or read by DuckDB as they are.

use crate::{content_tag, Created, Etag, Store, StoreError};
use std::path::{Path, PathBuf};

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
