//! Where rows go: one Hive-style partition folder per trading year
//! (`bars/year=2001/`), one object per batch, partition and folder.
//!
//! Year folders keep the object count small when history is replayed (a batch of 10,000
//! daily rows spanning 40 years writes at most 40 objects, where month folders would write
//! up to 480) while letting Athena skip whole years. The choice is a [`Layout`] value so a
//! deployment can move to months when its data is mostly live.

use chrono::Datelike;
use stockstream_core::ingest::LakeRow;

/// How rows are grouped into partition folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// `year=YYYY`.
    #[default]
    Year,
    /// `year=YYYY/month=MM`.
    Month,
}

/// Name of the folder holding quarantined records (JSON lines), beside the data.
pub const QUARANTINE: &str = "quarantine";

impl Layout {
    /// The partition folder of a row, relative to the table folder.
    pub fn folder(self, row: &LakeRow) -> String {
        let d = row.bar.date;
        match self {
            Layout::Year => format!("year={:04}", d.year()),
            Layout::Month => format!("year={:04}/month={:02}", d.year(), d.month()),
        }
    }
}

/// Object key of a group: `{prefix}/{folder}/{topic}-{partition}-{first_offset:020}.{ext}`.
///
/// The name depends only on the first record of the group, never on where Lambda cut the
/// batch, which is what lets a retry find what an earlier attempt wrote.
pub fn object_key(
    prefix: &str,
    folder: &str,
    topic: &str,
    partition: i32,
    first_offset: i64,
    ext: &str,
) -> String {
    let prefix = prefix.trim_end_matches('/');
    format!("{prefix}/{folder}/{topic}-{partition}-{first_offset:020}.{ext}")
}

/// Key of a partition's commit state.
pub fn state_key(prefix: &str, topic: &str, partition: i32) -> String {
    let prefix = prefix.trim_end_matches('/');
    format!("{prefix}/_sink_state/{topic}-{partition}.json")
}
