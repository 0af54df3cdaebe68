//! Where the lake lives: a local directory (the default) or an S3 bucket (AWS, or a local S3
//! API such as moto, through `--s3-endpoint`).
//!
//! The sink writes to either through the same [`Store`] interface it uses on Lambda. The
//! crawler and the query engine read local files, so for an S3 bucket they work on a mirror:
//! [`Bucket::local_view`] brings the lake and catalog down (only objects whose ETag changed)
//! and [`Bucket::upload`] sends the catalog and reports back. On AWS the Glue crawler and
//! Athena read S3 directly; the mirror only serves this one-machine twin.

use anyhow::{bail, Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use stockstream_store::s3::S3;
use stockstream_store::{Created, Etag, LocalDir, Store, StoreError};

/// Prefixes the crawler and engine need locally.
const MIRRORED: [&str; 2] = ["lake/", "_catalog/"];

/// A lake location.
#[derive(Debug, Clone)]
pub enum Bucket {
    /// A directory standing in for the bucket.
    Dir(PathBuf),
    /// An S3 bucket, with a local mirror for the crawler and engine.
    S3 {
        /// Client (endpoint and credentials resolved).
        client: aws_sdk_s3::Client,
        /// Bucket name.
        name: String,
        /// Mirror directory.
        mirror: PathBuf,
    },
}

/// The bytes of `s3://bucket/key`, with the key named in any error.
pub async fn download(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Vec<u8>> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "downloading s3://{bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        })?;
    Ok(out
        .body
        .collect()
        .await
        .with_context(|| format!("reading s3://{bucket}/{key}"))?
        .into_bytes()
        .to_vec())
}

impl Bucket {
    /// `s3://name` (checked to exist) or a directory path. `mirror_root` holds S3 mirrors.
    pub async fn open(spec: &str, endpoint: Option<&str>, mirror_root: &Path) -> Result<Self> {
        let Some(rest) = spec.strip_prefix("s3://") else {
            if endpoint.is_some() {
                bail!("--s3-endpoint is set but --bucket {spec:?} is a directory; write s3://NAME for a bucket");
            }
            return Ok(Bucket::Dir(PathBuf::from(spec)));
        };
        let name = rest.trim_end_matches('/');
        if name.is_empty() || name.contains('/') {
            bail!("--bucket {spec:?}: write s3://NAME (the lake's prefixes are fixed: lake/, _catalog/, reports/)");
        }
        let client = stockstream_store::client::from_env(endpoint).await;
        client
            .head_bucket()
            .bucket(name)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "bucket {name:?} is not reachable{}: {}",
                    endpoint.map(|e| format!(" at {e}")).unwrap_or_default(),
                    aws_sdk_s3::error::DisplayErrorContext(&e)
                )
            })?;
        Ok(Bucket::S3 {
            client,
            name: name.to_string(),
            mirror: mirror_root.join(name),
        })
    }

    /// `s3://name` or the directory.
    pub fn describe(&self) -> String {
        match self {
            Bucket::Dir(d) => d.display().to_string(),
            Bucket::S3 { name, .. } => format!("s3://{name}"),
        }
    }

    /// The sink's store on this bucket, failing one write in `fail_every` (pseudo-randomly)
    /// when set: fault injection for tests and demonstrations of the retry path.
    pub fn store(&self, fail_every: Option<u64>) -> LakeStore {
        let inner = match self {
            Bucket::Dir(d) => Inner::Dir(LocalDir::new(d)),
            Bucket::S3 { client, name, .. } => Inner::S3(S3::new(client.clone(), name.clone())),
        };
        LakeStore {
            inner,
            fail_every,
            writes: AtomicU64::new(0),
            injected: AtomicU64::new(0),
        }
    }

    /// A directory holding the lake and catalog: the bucket itself, or the mirror brought up
    /// to date.
    pub async fn local_view(&self) -> Result<PathBuf> {
        match self {
            Bucket::Dir(d) => Ok(d.clone()),
            Bucket::S3 {
                client,
                name,
                mirror,
            } => {
                for prefix in MIRRORED {
                    sync_down(client, name, prefix, mirror).await?;
                }
                Ok(mirror.clone())
            }
        }
    }

    /// Sends the files under `local_view()/rel` to the bucket (nothing for a directory).
    /// Returns the location of `rel` in the bucket.
    pub async fn upload(&self, rel: &str) -> Result<String> {
        let (client, name, mirror) = match self {
            Bucket::Dir(d) => return Ok(d.join(rel).display().to_string()),
            Bucket::S3 {
                client,
                name,
                mirror,
            } => (client, name, mirror),
        };
        let root = mirror.join(rel);
        let files = if root.is_file() {
            vec![root.clone()]
        } else {
            walk(&root)?
        };
        for f in files {
            let key = f
                .strip_prefix(mirror)
                .expect("under the mirror")
                .to_string_lossy()
                .replace('\\', "/");
            let body = ByteStream::from_path(&f)
                .await
                .with_context(|| format!("reading {}", f.display()))?;
            let mut put = client.put_object().bucket(name).key(&key).body(body);
            if let Some(t) = content_type(&key) {
                put = put.content_type(t);
            }
            put.send().await.map_err(|e| {
                anyhow::anyhow!(
                    "uploading s3://{name}/{key}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(&e)
                )
            })?;
        }
        Ok(format!("s3://{name}/{rel}"))
    }
}

fn content_type(key: &str) -> Option<&'static str> {
    match key.rsplit('.').next()? {
        "html" => Some("text/html; charset=utf-8"),
        "json" => Some("application/json"),
        "csv" => Some("text/csv; charset=utf-8"),
        _ => None,
    }
}

/// Every file under `dir`, sorted by path.
pub(crate) fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// What the mirror holds: key → ETag, so unchanged objects are not downloaded again.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    objects: BTreeMap<String, String>,
}

/// Brings `mirror/prefix…` in line with `s3://bucket/prefix…`: downloads new and changed
/// objects, removes files whose objects are gone.
async fn sync_down(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    mirror: &Path,
) -> Result<()> {
    let manifest_path = mirror.join(format!(".mirror-{}.json", prefix.trim_end_matches('/')));
    let mut manifest: Manifest = std::fs::read(&manifest_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let mut seen = BTreeMap::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            anyhow::anyhow!(
                "listing s3://{bucket}/{prefix}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        })?;
        for o in page.contents() {
            let (Some(key), Some(tag)) = (o.key(), o.e_tag()) else {
                continue;
            };
            seen.insert(key.to_string(), tag.to_string());
        }
    }
    for (key, tag) in &seen {
        let path = mirror.join(key);
        if manifest.objects.get(key) == Some(tag) && path.exists() {
            continue;
        }
        let bytes = download(client, bucket, key).await?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        manifest.objects.insert(key.clone(), tag.clone());
    }
    let gone: Vec<String> = manifest
        .objects
        .keys()
        .filter(|k| !seen.contains_key(*k))
        .cloned()
        .collect();
    for key in gone {
        let _ = std::fs::remove_file(mirror.join(&key));
        manifest.objects.remove(&key);
    }
    std::fs::create_dir_all(mirror).with_context(|| format!("creating {}", mirror.display()))?;
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest)?)
        .with_context(|| format!("writing {}", manifest_path.display()))?;
    Ok(())
}

#[derive(Debug)]
enum Inner {
    Dir(LocalDir),
    S3(S3),
}

/// The sink's store for a [`Bucket`], with optional injected write failures.
#[derive(Debug)]
pub struct LakeStore {
    inner: Inner,
    fail_every: Option<u64>,
    writes: AtomicU64,
    injected: AtomicU64,
}

impl LakeStore {
    /// Write failures injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    fn maybe_fail(&self, key: &str) -> Result<(), StoreError> {
        let n = self.writes.fetch_add(1, Ordering::Relaxed) + 1;
        // Pseudo-random but repeatable: a fixed stride would fall in step with a batch's
        // writes and fail every retry at the same write.
        let mut z = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z ^= z >> 31;
        match self.fail_every {
            Some(k) if k > 0 && z.is_multiple_of(k) => {
                self.injected.fetch_add(1, Ordering::Relaxed);
                Err(StoreError::Injected {
                    key: key.to_string(),
                })
            }
            _ => Ok(()),
        }
    }
}

impl Store for LakeStore {
    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, Etag)>, StoreError> {
        match &self.inner {
            Inner::Dir(s) => s.get(key).await,
            Inner::S3(s) => s.get(key).await,
        }
    }

    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<Created, StoreError> {
        self.maybe_fail(key)?;
        match &self.inner {
            Inner::Dir(s) => s.put_if_absent(key, bytes).await,
            Inner::S3(s) => s.put_if_absent(key, bytes).await,
        }
    }

    async fn put_if_match(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&Etag>,
    ) -> Result<bool, StoreError> {
        self.maybe_fail(key)?;
        match &self.inner {
            Inner::Dir(s) => s.put_if_match(key, bytes, expected).await,
            Inner::S3(s) => s.put_if_match(key, bytes, expected).await,
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        match &self.inner {
            Inner::Dir(s) => s.list(prefix).await,
            Inner::S3(s) => s.list(prefix).await,
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.maybe_fail(key)?;
        match &self.inner {
            Inner::Dir(s) => s.delete(key).await,
            Inner::S3(s) => s.delete(key).await,
        }
    }
}
