//! `stockstream-local rejects`: what was turned away, for review. Two places hold it: the
//! producer's rejects files (JSON lines of [`Reject`]: rows of a CSV that failed validation,
//! with their file, line and the raw text) and the sink's quarantine folder in the bucket
//! (`<prefix>/quarantine/…`, JSON lines of [`Quarantined`]: Kafka records that could not
//! become lake rows). Both are summarised by reason code and by file, as a table or JSON.
//!
//! A quarantined record carries its Kafka topic, partition and offset but not the CSV file it
//! came from (that is a header the record may not even have had), so the quarantine is
//! grouped by the quarantine object that holds it.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use stockstream_core::ingest::Quarantined;
use stockstream_core::reject::Reject;

/// How many of one reason, and one example of its human-readable text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Rows or records with this code.
    pub count: u64,
    /// The reason text of the first one seen.
    pub example: String,
}

/// One file's share: how many, by reason code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct File {
    /// Rows or records from this file.
    pub count: u64,
    /// Counts by reason code.
    pub by_reason: BTreeMap<String, u64>,
}

/// One kind of rejects (the producer's or the sink's), summarised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Group {
    /// Rows or records in all.
    pub total: u64,
    /// By reason code.
    pub by_reason: BTreeMap<String, Reason>,
    /// By file: the CSV source of a producer reject, the quarantine object of a sink record.
    pub by_file: BTreeMap<String, File>,
    /// Files read.
    pub files_read: Vec<String>,
    /// Lines that were not a reject or quarantined record, as `file:line: error`.
    pub unreadable: Vec<String>,
}

impl Group {
    fn add(&mut self, file: &str, code: &str, reason: &str) {
        self.total += 1;
        let r = self.by_reason.entry(code.to_string()).or_default();
        r.count += 1;
        if r.example.is_empty() {
            r.example = reason.to_string();
        }
        let f = self.by_file.entry(file.to_string()).or_default();
        f.count += 1;
        *f.by_reason.entry(code.to_string()).or_default() += 1;
    }
}

/// The producer's rejects and the sink's quarantine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// From the producer's rejects files.
    pub producer: Group,
    /// From the sink's quarantine folder.
    pub quarantine: Group,
}

/// Reads JSON lines of `T` from `bytes`, handing each to `each`; a line that does not parse
/// is listed in `unreadable` rather than failing the summary.
fn lines<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    name: &str,
    unreadable: &mut Vec<String>,
    mut each: impl FnMut(T),
) {
    for (k, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<T>(line) {
            Ok(v) => each(v),
            Err(e) => unreadable.push(format!("{name}:{}: {e}", k + 1)),
        }
    }
}

/// Adds the producer's rejects files to `summary.producer`.
pub fn read_rejects_files(summary: &mut Summary, files: &[PathBuf]) -> std::io::Result<()> {
    for path in files {
        let bytes = std::fs::read(path).map_err(|e| {
            std::io::Error::new(e.kind(), format!("rejects file {}: {e}", path.display()))
        })?;
        let name = path.display().to_string();
        let g = &mut summary.producer;
        g.files_read.push(name.clone());
        let mut unreadable = vec![];
        lines(&bytes, &name, &mut unreadable, |r: Reject| {
            g.add(&r.source, &r.code, &r.reason)
        });
        g.unreadable.extend(unreadable);
    }
    Ok(())
}

/// Adds every object under `root/prefix/quarantine` to `summary.quarantine`; file names are
/// keys relative to `root` (the bucket). A missing folder is an empty quarantine.
pub fn read_quarantine_folder(
    summary: &mut Summary,
    root: &Path,
    prefix: &str,
) -> std::io::Result<()> {
    let folder = root.join(prefix.trim_matches('/')).join("quarantine");
    let mut objects = vec![];
    let mut todo = vec![folder];
    while let Some(dir) = todo.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                objects.push(path);
            }
        }
    }
    objects.sort();
    for path in objects {
        let key = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(&path)?;
        let g = &mut summary.quarantine;
        g.files_read.push(key.clone());
        let mut unreadable = vec![];
        lines(&bytes, &key, &mut unreadable, |q: Quarantined| {
            g.add(&key, &q.code, &q.reason)
        });
        g.unreadable.extend(unreadable);
    }
    Ok(())
}

/// Most files listed per group in the table (the JSON has them all).
const FILES_SHOWN: usize = 20;

/// The summary as a plain-text table.
pub fn table(summary: &Summary) -> String {
    let mut out = String::new();
    for (title, unit, file_kind, g) in [
        ("producer rejects", "rows", "source file", &summary.producer),
        (
            "sink quarantine",
            "records",
            "quarantine object",
            &summary.quarantine,
        ),
    ] {
        let _ = writeln!(
            out,
            "{title}: {} {unit} from {} file(s) read",
            g.total,
            g.files_read.len()
        );
        if g.total > 0 {
            let _ = writeln!(out, "  by reason");
            let width = g.by_reason.keys().map(String::len).max().unwrap_or(0);
            let mut reasons: Vec<_> = g.by_reason.iter().collect();
            reasons.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
            for (code, r) in reasons {
                let _ = writeln!(
                    out,
                    "    {code:<width$}  {:>8}  e.g. {}",
                    r.count, r.example
                );
            }
            let _ = writeln!(out, "  by {file_kind}");
            let mut files: Vec<_> = g.by_file.iter().collect();
            files.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
            let width = files
                .iter()
                .take(FILES_SHOWN)
                .map(|f| f.0.len())
                .max()
                .unwrap_or(0);
            for (name, f) in files.iter().take(FILES_SHOWN) {
                let codes: Vec<String> = f
                    .by_reason
                    .iter()
                    .map(|(c, n)| format!("{c}={n}"))
                    .collect();
                let _ = writeln!(
                    out,
                    "    {name:<width$}  {:>8}  {}",
                    f.count,
                    codes.join(" ")
                );
            }
            if files.len() > FILES_SHOWN {
                let _ = writeln!(
                    out,
                    "    … and {} more (--json lists all)",
                    files.len() - FILES_SHOWN
                );
            }
        }
        for u in g.unreadable.iter().take(5) {
            let _ = writeln!(out, "  unreadable line {u}");
        }
        if g.unreadable.len() > 5 {
            let _ = writeln!(
                out,
                "  … and {} more unreadable lines",
                g.unreadable.len() - 5
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_reason_and_file_and_keeps_bad_lines_apart() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.jsonl");
        std::fs::write(
            &file,
            concat!(
                r#"{"source":"a.csv","line":3,"offset":40,"code":"bad_date","reason":"no date","raw":"x"}"#,
                "\n",
                r#"{"source":"b.csv","line":9,"offset":90,"code":"bad_date","reason":"other","raw":"y"}"#,
                "\n\nnot json\n"
            ),
        )
        .unwrap();
        let mut s = Summary::default();
        read_rejects_files(&mut s, &[file]).unwrap();
        read_quarantine_folder(&mut s, dir.path(), "lake/bars").unwrap();
        assert_eq!(s.producer.total, 2);
        assert_eq!(s.producer.by_reason["bad_date"].count, 2);
        assert_eq!(s.producer.by_reason["bad_date"].example, "no date");
        assert_eq!(s.producer.by_file["b.csv"].by_reason["bad_date"], 1);
        assert_eq!(s.producer.unreadable.len(), 1);
        assert!(s.producer.unreadable[0].ends_with("r.jsonl:4: expected ident at line 1 column 2"));
        assert_eq!(s.quarantine, Group::default(), "no folder, no records");
    }
}
