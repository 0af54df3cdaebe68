//! The checkpoint file: per source, the last [`Snapshot`] whose rows are all in Kafka.
//!
//! Written atomically (temporary file, fsync, rename) so a crash leaves the old or the new
//! checkpoint, never half of one. It names the topic and rejects file it belongs to, and the
//! input's size, so resuming against a different topic or a changed file is refused instead
//! of silently skipping or duplicating rows.

use crate::tracker::Snapshot;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Version of the checkpoint layout.
pub const CHECKPOINT_VERSION: u32 = 1;

/// Progress of one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceState {
    /// Size of the input when the run started (a changed file is not resumed).
    pub file_len: u64,
    /// True once every row was delivered.
    pub complete: bool,
    /// Where to resume.
    pub snapshot: Snapshot,
}

/// The whole checkpoint file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Layout version.
    pub version: u32,
    /// Topic the rows went to.
    pub topic: String,
    /// Rejects file the snapshot lengths refer to.
    pub rejects: PathBuf,
    /// Progress by source name.
    pub sources: BTreeMap<String, SourceState>,
}

impl Checkpoint {
    /// An empty checkpoint for a run.
    pub fn new(topic: &str, rejects: &Path) -> Self {
        Checkpoint {
            version: CHECKPOINT_VERSION,
            topic: topic.to_string(),
            rejects: rejects.to_path_buf(),
            sources: BTreeMap::new(),
        }
    }

    /// Loads `path` if it exists, checking it belongs to this topic and rejects file.
    pub fn load(path: &Path, topic: &str, rejects: &Path) -> Result<Option<Checkpoint>> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e).with_context(|| format!("reading checkpoint {}", path.display()))
            }
        };
        let c: Checkpoint = serde_json::from_str(&text)
            .with_context(|| format!("checkpoint {} is not valid", path.display()))?;
        if c.version != CHECKPOINT_VERSION {
            bail!(
                "checkpoint {} has version {}, expected {CHECKPOINT_VERSION}",
                path.display(),
                c.version
            );
        }
        if c.topic != topic {
            bail!(
                "checkpoint {} belongs to topic {:?}, not {topic:?}; use another checkpoint file",
                path.display(),
                c.topic
            );
        }
        if c.rejects != rejects {
            bail!(
                "checkpoint {} was written with rejects file {}, not {}; pass the same --rejects to resume",
                path.display(),
                c.rejects.display(),
                rejects.display()
            );
        }
        Ok(Some(c))
    }

    /// Writes the checkpoint atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("tmp");
        let mut f = fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
        serde_json::to_writer_pretty(&mut f, self)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stockstream_core::reader::ReadStats;

    #[test]
    fn save_load_and_refuse_mismatches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ckpt");
        let rejects = Path::new("r.jsonl");
        assert_eq!(Checkpoint::load(&path, "t", rejects).unwrap(), None);
        let mut c = Checkpoint::new("t", rejects);
        c.sources.insert(
            "a.csv".into(),
            SourceState {
                file_len: 99,
                complete: false,
                snapshot: Snapshot {
                    lines_before: 5,
                    offset: 80,
                    rejects_len: 0,
                    stats: ReadStats::default(),
                    scan_from: BTreeMap::from([(0, 3)]),
                },
            },
        );
        c.save(&path).unwrap();
        assert_eq!(Checkpoint::load(&path, "t", rejects).unwrap(), Some(c));
        let e = Checkpoint::load(&path, "other", rejects).unwrap_err();
        assert!(e.to_string().contains("belongs to topic \"t\""), "{e}");
        let e = Checkpoint::load(&path, "t", Path::new("x.jsonl")).unwrap_err();
        assert!(e.to_string().contains("pass the same --rejects"), "{e}");
        fs::write(&path, "{").unwrap();
        assert!(Checkpoint::load(&path, "t", rejects).is_err());
    }
}
