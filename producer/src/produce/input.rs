//! The inputs, resolved before anything is read or sent: each file's header, symbol and
//! day/month order ([`sources`]), and a reader over it, fresh or resumed at a checkpoint
//! ([`open_reader`]).
//!
//! Resolving every file first is what lets a bad file refuse the whole run before a single row
//! of any file reaches Kafka.

use super::outcome::InputInfo;
use crate::config::InputConfig;
use crate::error::{Error, ErrorKind};
use crate::tracker::Snapshot;
use std::fs::{self, File};
use std::io::{BufReader, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use stockstream_core::date::DateOrder;
use stockstream_core::layout::Column;
use stockstream_core::reader::{
    read_layout, scan_date_order, BarReader, ReaderConfig, ScanLimit, SCAN_BYTES,
};
use stockstream_core::symbols::{normalise, ticker_from_file_name, Symbols};

/// One input file, resolved.
pub(crate) struct Source {
    /// The file.
    pub(crate) path: PathBuf,
    /// Its source name (each row's `source`, checkpoint key).
    pub(crate) name: String,
    /// How its rows are read.
    pub(crate) config: ReaderConfig,
    /// Its size when resolved.
    pub(crate) len: u64,
    /// How it is read, for the summary.
    pub(crate) info: InputInfo,
}

fn order_name(o: DateOrder) -> &'static str {
    match o {
        DateOrder::Auto => "auto",
        DateOrder::Dmy => "dmy",
        DateOrder::Mdy => "mdy",
    }
}

fn open(path: &std::path::Path) -> Result<File, Error> {
    File::open(path).map_err(|cause| {
        ErrorKind::Open {
            path: path.to_path_buf(),
            cause,
        }
        .into()
    })
}

/// Resolves every input before anything is read or sent: its header, its symbol (the
/// column, `--symbol`, or the ticker its file name starts with) and, with `--date-order auto`,
/// its day/month order. A file whose dates disagree on the order, or none of whose dates
/// decides it, refuses the whole run here, before a single row is sent.
///
/// The order comes from a scan of the date column of the file's start ([`SCAN_BYTES`]),
/// extended to the end only while its dates are all ambiguous: a cheap pass for any file size,
/// and deterministic, so a resumed run decides the same way. A row past the scanned part that
/// contradicts the decided order is rejected on its own, saying so.
///
/// `input` is taken as checked ([`InputConfig::check`]).
pub(crate) fn sources(
    input: &InputConfig,
    source_name: Option<&str>,
) -> Result<Vec<Source>, Error> {
    let flag_symbol = input.symbol.as_deref().map(|s| normalise(s).into_owned());
    let known = match &input.known_symbols {
        Some(p) => {
            let f = File::open(p).map_err(|cause| ErrorKind::OpenKnownSymbols {
                path: p.clone(),
                cause,
            })?;
            let s =
                Symbols::read(BufReader::new(f)).map_err(|cause| ErrorKind::ReadKnownSymbols {
                    path: p.clone(),
                    cause,
                })?;
            if s.is_empty() {
                return Err(ErrorKind::NoKnownSymbols { path: p.clone() }.into());
            }
            Some(Arc::new(s))
        }
        None => None,
    };
    let mut out = vec![];
    for path in &input.files {
        let meta = fs::metadata(path).map_err(|cause| ErrorKind::Input {
            path: path.clone(),
            cause,
        })?;
        if !meta.is_file() {
            return Err(ErrorKind::NotAFile { path: path.clone() }.into());
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let name = source_name.map(str::to_string).unwrap_or(file_name.clone());
        let input_file = || open(path).map(|f| BufReader::with_capacity(1 << 16, f));
        let (layout, date_order, date_counts) = match input.date_order {
            DateOrder::Auto => {
                let limit = match input.date_scan_limit {
                    Some(n) => ScanLimit::Strict(n),
                    None => ScanLimit::UntilDecided(SCAN_BYTES),
                };
                let scan = scan_date_order(input_file()?, &name, limit)?;
                let order = scan
                    .decision
                    .map_err(|refusal| ErrorKind::DateOrderRefused {
                        source_name: name.clone(),
                        refusal,
                    })?;
                (scan.layout, order.date_order(), Some(scan.counts))
            }
            given => (read_layout(input_file()?, &name)?, given, None),
        };
        let (symbol, symbol_from) = if layout.position(Column::Symbol).is_some() {
            (None, "column")
        } else if let Some(s) = &flag_symbol {
            (Some(s.clone()), "--symbol")
        } else {
            let ticker =
                ticker_from_file_name(&file_name).map_err(|cause| ErrorKind::NoSymbol {
                    source_name: name.clone(),
                    cause,
                })?;
            (Some(ticker), "file name")
        };
        out.push(Source {
            path: path.clone(),
            config: ReaderConfig {
                source: name.clone(),
                default_symbol: symbol.clone(),
                date_order,
                known_symbols: known.clone(),
            },
            info: InputInfo {
                source: name.clone(),
                symbol,
                symbol_from,
                date_order: order_name(date_order),
                date_order_decided: date_counts.is_some(),
                date_counts,
            },
            name,
            len: meta.len(),
        });
    }
    Ok(out)
}

/// A reader over `src`: from its start, or, with a checkpoint `resume`, from the line after
/// the snapshot (the header is read again from the start to know the columns).
pub(crate) fn open_reader(
    src: &Source,
    resume: Option<&Snapshot>,
) -> Result<BarReader<BufReader<File>>, Error> {
    let Some(snap) = resume.filter(|s| s.lines_before > 0) else {
        return Ok(BarReader::new(
            BufReader::with_capacity(1 << 16, open(&src.path)?),
            src.config.clone(),
        ));
    };
    let mut head = BarReader::new(BufReader::new(open(&src.path)?), src.config.clone());
    let layout = head.read_header()?.clone();
    let mut f = open(&src.path)?;
    f.seek(SeekFrom::Start(snap.offset))
        .map_err(|cause| ErrorKind::Seek {
            path: src.path.clone(),
            offset: snap.offset,
            cause,
        })?;
    Ok(BarReader::resume(
        BufReader::with_capacity(1 << 16, f),
        src.config.clone(),
        layout,
        snap.lines_before,
        snap.offset,
        snap.stats.clone(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn input(files: &[&Path]) -> InputConfig {
        InputConfig::new(files.iter().map(|f| f.to_path_buf()).collect())
    }

    fn error(input: &InputConfig) -> Error {
        match sources(input, None) {
            Ok(_) => panic!("resolved"),
            Err(e) => e,
        }
    }

    #[test]
    fn inputs_resolve_their_symbol_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let msft = dir.path().join("msft-2020.csv");
        fs::write(&msft, "Date,Open,High,Low,Close\n13/01/2020,1,2,1,2\n").unwrap();
        let indexed = dir.path().join("prices.csv");
        fs::write(
            &indexed,
            "Index,Date,Open,High,Low,Close\nX,2020-01-02,1,2,1,2\n",
        )
        .unwrap();
        let srcs = sources(&input(&[&msft, &indexed]), None).unwrap();
        let info: Vec<_> = srcs.iter().map(|s| &s.info).collect();
        assert_eq!(info[0].symbol.as_deref(), Some("MSFT"));
        assert_eq!(info[0].symbol_from, "file name");
        assert_eq!(
            (info[0].date_order, info[0].date_order_decided),
            ("dmy", true)
        );
        assert_eq!(
            (info[1].symbol.as_deref(), info[1].symbol_from),
            (None, "column")
        );
        assert_eq!(srcs[1].name, "prices.csv");
        assert_eq!(srcs[1].len, fs::metadata(&indexed).unwrap().len());
    }

    #[test]
    fn errors_say_which_file_and_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.csv");
        let e = error(&input(&[&missing]));
        assert!(
            matches!(e.kind(), ErrorKind::Input { path, .. } if path == &missing),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .starts_with(&format!("cannot read input {}: ", missing.display())),
            "{e}"
        );

        let e = error(&input(&[dir.path()]));
        assert!(matches!(e.kind(), ErrorKind::NotAFile { .. }), "{e:?}");

        let unnamed = dir.path().join("2020-prices.csv");
        fs::write(&unnamed, "Date,Open,High,Low,Close\n2020-01-02,1,2,1,2\n").unwrap();
        let e = error(&input(&[&unnamed]));
        assert!(
            matches!(e.kind(), ErrorKind::NoSymbol { source_name, .. } if source_name == "2020-prices.csv")
        );
        assert!(e.to_string().ends_with("; pass --symbol"), "{e}");

        let known = dir.path().join("known.txt");
        fs::write(&known, "").unwrap();
        let mut i = input(&[&unnamed]);
        i.known_symbols = Some(known.clone());
        let e = error(&i);
        assert_eq!(
            e.to_string(),
            format!("known-symbols file {} lists no symbols", known.display())
        );
    }
}
