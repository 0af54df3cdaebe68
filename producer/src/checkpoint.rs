//! The checkpoint file: per source, the last [`Snapshot`] whose rows are all in Kafka.
//!
//! Written atomically (temporary file, fsync, rename) so a crash leaves the old or the new
//! checkpoint, never half of one. It names the topic and rejects file it belongs to, and the
//! input's size, so resuming against a different topic or a changed file is refused instead
//! of silently skipping or duplicating rows.

use crate::tracker::Snapshot;
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

/// Why a checkpoint cannot be used or written; each names the checkpoint file.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file exists but cannot be read.
    #[error("reading checkpoint {}: {cause}", path.display())]
    Read {
        /// The checkpoint file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The file is not a checkpoint.
    #[error("checkpoint {} is not valid: {cause}", path.display())]
    Invalid {
        /// The checkpoint file.
        path: PathBuf,
        /// What the JSON parser found.
        cause: serde_json::Error,
    },
    /// The file has another layout version.
    #[error("checkpoint {} has version {found}, expected {CHECKPOINT_VERSION}", path.display())]
    Version {
        /// The checkpoint file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// The file belongs to a run to another topic.
    #[error(
        "checkpoint {} belongs to topic {found:?}, not {expected:?}; use another checkpoint file",
        path.display()
    )]
    Topic {
        /// The checkpoint file.
        path: PathBuf,
        /// Its topic.
        found: String,
        /// This run's topic.
        expected: String,
    },
    /// The file belongs to a run with another rejects file.
    #[error(
        "checkpoint {} was written with rejects file {}, not {}; pass the same --rejects to resume",
        path.display(),
        found.display(),
        expected.display()
    )]
    Rejects {
        /// The checkpoint file.
        path: PathBuf,
        /// Its rejects file.
        found: PathBuf,
        /// This run's rejects file.
        expected: PathBuf,
    },
    /// The temporary file cannot be written.
    #[error("writing {}: {cause}", path.display())]
    Write {
        /// The temporary file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The temporary file cannot replace the checkpoint.
    #[error("replacing {}: {cause}", path.display())]
    Replace {
        /// The checkpoint file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
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
    pub fn load(
        path: &Path,
        topic: &str,
        rejects: &Path,
    ) -> Result<Option<Checkpoint>, CheckpointError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(cause) => {
                return Err(CheckpointError::Read {
                    path: path.to_path_buf(),
                    cause,
                })
            }
        };
        let c: Checkpoint =
            serde_json::from_str(&text).map_err(|cause| CheckpointError::Invalid {
                path: path.to_path_buf(),
                cause,
            })?;
        if c.version != CHECKPOINT_VERSION {
            return Err(CheckpointError::Version {
                path: path.to_path_buf(),
                found: c.version,
            });
        }
        if c.topic != topic {
            return Err(CheckpointError::Topic {
                path: path.to_path_buf(),
                found: c.topic,
                expected: topic.to_string(),
            });
        }
        if c.rejects != rejects {
            return Err(CheckpointError::Rejects {
                path: path.to_path_buf(),
                found: c.rejects,
                expected: rejects.to_path_buf(),
            });
        }
        Ok(Some(c))
    }

    /// Writes the checkpoint atomically.
    pub fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        let tmp = path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            serde_json::to_writer_pretty(&mut f, self)?;
            f.write_all(b"\n")?;
            f.sync_all()
        };
        write().map_err(|cause| CheckpointError::Write {
            path: tmp.clone(),
            cause,
        })?;
        fs::rename(&tmp, path).map_err(|cause| CheckpointError::Replace {
            path: path.to_path_buf(),
            cause,
        })
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
        let e = Checkpoint::load(&path, "t", rejects).unwrap_err();
        assert!(matches!(e, CheckpointError::Invalid { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with(&format!("checkpoint {} is not valid: ", path.display())),
            "{e}"
        );
    }
}
