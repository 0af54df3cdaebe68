//! The lake's key grammar, written and read in this one module: the sink names its objects
//! and state here, compaction reads which objects are the sink's, which are merged and which
//! are hidden, and the local crawler reads partition folders with the same rules.
//!
//! Under a table prefix (`lake/bars`):
//!
//! | key | what |
//! |---|---|
//! | `{folder}/{topic}-{partition}-{first:020}.{ext}` | a group of rows the sink wrote (`folder` is `year=YYYY` or `year=YYYY/month=MM`) |
//! | `{folder}/{topic}-{partition}-{first:020}.redrive.{ext}` | the same, written into a gap (a redrive; compaction leaves it for adoption) |
//! | `{folder}/compacted-{hash:016x}-{rows}.parquet` | a merge of committed objects |
//! | `quarantine/{topic}-{partition}-{first:020}.jsonl` | rejected records with their reasons |
//! | `_sink_state/{topic}-{partition}.json` | a partition's commit state |
//! | `_compaction/{folder}/{merged name}.json` | a merge's manifest, written before the merge |
//!
//! Folder and file names starting with `_` or `.` are hidden: not data, not partitions (Glue
//! and Athena skip them too); neither is `quarantine`, whose rows are not bars.
//!
//! An object's name depends only on the first record of its group, never on where Lambda cut
//! the batch: that is what lets a retry find what an earlier attempt wrote.

/// Folder of quarantined records (JSON lines), beside the data.
pub const QUARANTINE: &str = "quarantine";
/// Folder of the partitions' commit state.
pub const STATE: &str = "_sink_state";
/// Folder of the merge manifests.
pub const MANIFESTS: &str = "_compaction";
/// Marks the names of objects written into a gap: `…-{first}.redrive.{ext}`.
pub const REDRIVE: &str = "redrive";
/// Start of a merged object's name.
const MERGED: &str = "compacted-";

/// Object key of a group: `{prefix}/{folder}/{topic}-{partition}-{first_offset:020}.{ext}`.
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
    format!("{}{topic}-{partition}.json", state_dir(prefix))
}

/// The folder of every partition's state, with its trailing slash.
pub fn state_dir(prefix: &str) -> String {
    format!("{}/{STATE}/", prefix.trim_end_matches('/'))
}

/// The stream (`{topic}-{partition}`) whose state `key` is, if it is a state key.
pub fn state_stream<'k>(prefix: &str, key: &'k str) -> Option<&'k str> {
    let dir = state_dir(prefix);
    key.strip_prefix(dir.as_str())?.strip_suffix(".json")
}

/// File name of a merge of `rows` rows from the sources hashed to `hash`.
pub fn merged_name(hash: u64, rows: usize) -> String {
    format!("{MERGED}{hash:016x}-{rows}.parquet")
}

/// Key of the manifest of the merge `name` in `folder`.
pub fn manifest_key(prefix: &str, folder: &str, name: &str) -> String {
    format!("{}{folder}/{name}.json", manifests_dir(prefix))
}

/// The folder of the merge manifests, with its trailing slash.
pub fn manifests_dir(prefix: &str) -> String {
    format!("{}/{MANIFESTS}/", prefix.trim_end_matches('/'))
}

/// What an object's file name says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectName<'n> {
    /// Written by the sink.
    Sink {
        /// `{topic}-{partition}`, as its state is named.
        stream: &'n str,
        /// Kafka partition.
        partition: i32,
        /// First offset of the group.
        first: i64,
        /// Written into a gap (`.redrive.{ext}`).
        redrive: bool,
        /// Extension after the offset (and `redrive.`): `parquet`, `jsonl`.
        ext: &'n str,
    },
    /// Written by compaction, with its row count.
    Merged {
        /// Rows in the object.
        rows: usize,
    },
}

/// Reads a file name; `None` for names neither the sink nor compaction writes.
pub fn parse_name(name: &str) -> Option<ObjectName<'_>> {
    if let Some(rest) = name.strip_prefix(MERGED) {
        let (_, rows) = rest.strip_suffix(".parquet")?.rsplit_once('-')?;
        return Some(ObjectName::Merged {
            rows: rows.parse().ok()?,
        });
    }
    // The topic may hold `-` and `.`; the offset is the last `-`-separated part, 20 digits,
    // and what follows its first `.` is the extension.
    let (stream, rest) = name.rsplit_once('-')?;
    let (first, ext) = rest.split_once('.')?;
    if first.len() != 20 || !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (_, partition) = stream.rsplit_once('-')?;
    let (redrive, ext) = match ext.strip_prefix(REDRIVE).and_then(|e| e.strip_prefix('.')) {
        Some(e) => (true, e),
        None => (false, ext),
    };
    Some(ObjectName::Sink {
        stream,
        partition: partition.parse().ok()?,
        first: first.parse().ok()?,
        redrive,
        ext,
    })
}

/// A folder or file name that is not data: `_…` (state, manifests) or `.…` (temporary files).
pub fn is_hidden(name: &str) -> bool {
    name.starts_with('_') || name.starts_with('.')
}

/// Whether a folder of the table holds no bars (hidden, or the quarantine).
pub fn is_not_data(folder_name: &str) -> bool {
    is_hidden(folder_name) || folder_name == QUARANTINE
}

/// The data folder and file name of a Parquet key under `prefix/`; `None` for state,
/// manifests, quarantine and hidden files.
pub fn data_object<'k>(prefix: &str, key: &'k str) -> Option<(&'k str, &'k str)> {
    let rel = key
        .strip_prefix(prefix.trim_end_matches('/'))?
        .strip_prefix('/')?;
    let (folder, name) = rel.rsplit_once('/')?;
    let data = !folder.split('/').any(is_not_data) && !is_hidden(name);
    (data && name.ends_with(".parquet")).then_some((folder, name))
}

/// The `key=value` pairs of a partition folder path (`year=2001/month=03`), or what is wrong
/// with it.
pub fn partition_values(folder: &str) -> Result<Vec<(&str, &str)>, String> {
    folder
        .split('/')
        .filter(|f| !f.is_empty())
        .map(|f| {
            f.split_once('=')
                .ok_or_else(|| format!("folder {f:?} is not a key=value partition"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sink_reads_back_the_names_it_writes() {
        let key = object_key(
            "lake/bars/",
            "year=2001",
            "stock.bars-eu",
            3,
            1234,
            "parquet",
        );
        assert_eq!(
            key,
            "lake/bars/year=2001/stock.bars-eu-3-00000000000000001234.parquet"
        );
        let (folder, name) = data_object("lake/bars", &key).unwrap();
        assert_eq!(folder, "year=2001");
        assert_eq!(
            parse_name(name),
            Some(ObjectName::Sink {
                stream: "stock.bars-eu-3",
                partition: 3,
                first: 1234,
                redrive: false,
                ext: "parquet"
            })
        );
        let redrive = object_key("p", "quarantine", "ns~bars", 0, 7, "redrive.jsonl");
        let name = redrive.rsplit_once('/').unwrap().1;
        assert_eq!(
            parse_name(name),
            Some(ObjectName::Sink {
                stream: "ns~bars-0",
                partition: 0,
                first: 7,
                redrive: true,
                ext: "jsonl"
            })
        );
        assert_eq!(
            parse_name(&merged_name(0x00ff00ff00ff00ff, 250_000)),
            Some(ObjectName::Merged { rows: 250_000 })
        );
        assert_eq!(parse_name("extra.parquet"), None);
        assert_eq!(
            parse_name("stock-bars-0-12.jsonl"),
            None,
            "offsets have 20 digits"
        );
        assert_eq!(parse_name("stock-bars-x-00000000000000000012.jsonl"), None);
    }

    #[test]
    fn state_and_manifests_are_hidden_and_read_back() {
        let s = state_key("lake/bars", "ns~bars", 2);
        assert_eq!(s, "lake/bars/_sink_state/ns~bars-2.json");
        assert_eq!(state_stream("lake/bars/", &s), Some("ns~bars-2"));
        assert_eq!(
            state_stream("lake/bars", "lake/bars/year=2001/x.json"),
            None
        );
        let m = manifest_key("lake/bars", "year=2001", &merged_name(1, 2));
        assert!(m.starts_with(&manifests_dir("lake/bars")), "{m}");
        for hidden in [
            m.as_str(),
            s.as_str(),
            "lake/bars/quarantine/x.parquet",
            "lake/bars/year=2001/.x.parquet.1.tmp",
            "lake/bars/year=2001/x.jsonl",
            "other/year=2001/x.parquet",
        ] {
            assert_eq!(data_object("lake/bars", hidden), None, "{hidden}");
        }
        assert_eq!(
            data_object("lake/bars", "lake/bars/year=2001/month=02/x.parquet"),
            Some(("year=2001/month=02", "x.parquet"))
        );
    }

    #[test]
    fn partition_folders_are_key_value_pairs() {
        assert_eq!(
            partition_values("year=2001/month=02").unwrap(),
            [("year", "2001"), ("month", "02")]
        );
        assert_eq!(partition_values("").unwrap(), []);
        assert_eq!(
            partition_values("2001").unwrap_err(),
            "folder \"2001\" is not a key=value partition"
        );
    }
}
