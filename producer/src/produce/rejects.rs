//! The rejects file's life over runs: emptied by a new run, appended to by a resumed one, and
//! cut back to a checkpoint's length when a file is resumed, so every rejected row appears in
//! it exactly once however often the run was interrupted.

use crate::error::{Error, ErrorKind};
use std::fs::{File, OpenOptions};
use std::path::Path;
use stockstream_core::reject::RejectWriter;

/// Opens the rejects file: emptied for a new run, appended to when a checkpoint is resumed
/// (earlier files' rejects stay; a resumed file truncates back to its checkpoint).
pub(crate) fn open(path: &Path, keep: bool) -> Result<RejectWriter<File>, Error> {
    let fail = |cause| ErrorKind::OpenRejects {
        path: path.to_path_buf(),
        cause,
    };
    let mut options = OpenOptions::new();
    if keep {
        options.create(true).append(true);
    } else {
        options.create(true).write(true).truncate(true);
    }
    let f = options.open(path).map_err(fail)?;
    let len = f.metadata().map_err(fail)?.len();
    Ok(RejectWriter::new(f, len))
}

/// Reopens the rejects file for a resumed source: rejects written after the checkpoint will
/// be written again as the rows are read again, so the file is cut back to `len` first.
pub(crate) fn resume_at(path: &Path, len: u64) -> Result<RejectWriter<File>, Error> {
    let fail = |cause| ErrorKind::TruncateRejects {
        path: path.to_path_buf(),
        len,
        cause,
    };
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_len(len))
        .map_err(fail)?;
    let f = OpenOptions::new().append(true).open(path).map_err(fail)?;
    Ok(RejectWriter::new(f, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn a_new_run_empties_the_file_a_resumed_one_cuts_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        fs::write(&path, "old\n").unwrap();
        let w = open(&path, false).unwrap();
        assert_eq!((w.bytes_written(), fs::read(&path).unwrap().len()), (0, 0));

        fs::write(&path, "kept\nlater\n").unwrap();
        let w = open(&path, true).unwrap();
        assert_eq!(w.bytes_written(), 11, "appends after what is there");

        let w = resume_at(&path, 5).unwrap();
        assert_eq!(w.bytes_written(), 5);
        assert_eq!(fs::read_to_string(&path).unwrap(), "kept\n");

        let Err(e) = resume_at(&dir.path().join("none.jsonl"), 5) else {
            panic!("resumed a rejects file that does not exist");
        };
        assert!(
            matches!(e.kind(), ErrorKind::TruncateRejects { len: 5, .. }),
            "{e:?}"
        );
    }
}
