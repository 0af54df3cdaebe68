//! Where rows go: one Hive-style partition folder per trading year
//! (`bars/year=2001/`), one object per batch, partition and folder (named in
//! [`crate::lake_key`]).
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
