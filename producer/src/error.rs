//! What can go wrong, typed: [`RunError`] is a run's outcome when it is not a success (each
//! kind has its own exit status), and [`Error`] is the fatal kind, whose [`ErrorKind`] says
//! what failed and where (the file, the line, the topic and partition).
//!
//! Every message is whole on its own: the underlying error's text is part of it, because the
//! binary, the replay function and the demo each print one line. The underlying errors stay in
//! the variants' fields for callers that match on them; they are deliberately not also
//! reported as [`std::error::Error::source`], which would print them twice in a reporter that
//! walks the chain.

use crate::checkpoint::CheckpointError;
use crate::config::ConfigError;
use crate::kafka::TopicError;
use rdkafka::error::KafkaError;
use std::io;
use std::path::PathBuf;
use std::time::Duration;
use stockstream_core::date_order::OrderRefusal;
use stockstream_core::reader::ReadError;
use stockstream_core::symbols::NoTicker;

/// Outcomes that map to their own exit status.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Some accepted rows are not in Kafka (exit status 3).
    #[error("{missing} accepted rows were not delivered{}", if why.is_empty() { String::new() } else { format!(" ({why})") })]
    Undelivered {
        /// How many.
        missing: u64,
        /// Why the run stopped early, if it did.
        why: String,
    },
    /// Rejects above the limit (exit status 4).
    #[error("{rejected} rows rejected, more than --max-rejects {max}")]
    TooManyRejects {
        /// Rejected rows.
        rejected: u64,
        /// The limit.
        max: u64,
    },
    /// Stopped by a signal (exit status 130).
    #[error("interrupted")]
    Interrupted,
    /// The run could not go on (exit status 1).
    #[error(transparent)]
    Fatal(Error),
}

/// Anything that makes an [`Error`] is a fatal outcome.
impl<E> From<E> for RunError
where
    Error: From<E>,
{
    fn from(e: E) -> Self {
        RunError::Fatal(Error::from(e))
    }
}

impl RunError {
    /// The documented exit status of this outcome.
    pub fn exit_status(&self) -> u8 {
        match self {
            RunError::Fatal(_) => 1,
            RunError::Undelivered { .. } => 3,
            RunError::TooManyRejects { .. } => 4,
            RunError::Interrupted => 130,
        }
    }
}

/// A fatal error: the run stops (after flushing what it sent and saving its checkpoint).
/// [`Error::kind`] says what went wrong.
///
/// Boxed, so that the `Result`s of the hot path stay small whatever the error carries.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(Box<ErrorKind>);

impl Error {
    /// What went wrong, and where.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }
}

impl<E> From<E> for Error
where
    ErrorKind: From<E>,
{
    fn from(e: E) -> Self {
        Error(Box::new(ErrorKind::from(e)))
    }
}

/// The kinds of [`Error`], each with what failed and where.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// A setting that cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An input file cannot be found or its metadata read.
    #[error("cannot read input {}: {cause}", path.display())]
    Input {
        /// The input.
        path: PathBuf,
        /// Why.
        cause: io::Error,
    },
    /// An input is a directory or something else that is not a file.
    #[error("input {} is not a file", path.display())]
    NotAFile {
        /// The input.
        path: PathBuf,
    },
    /// An input file cannot be opened.
    #[error("opening {}: {cause}", path.display())]
    Open {
        /// The input.
        path: PathBuf,
        /// Why.
        cause: io::Error,
    },
    /// A resumed input cannot be positioned at its checkpoint.
    #[error("{}: cannot seek to byte {offset} to resume: {cause}", path.display())]
    Seek {
        /// The input.
        path: PathBuf,
        /// The checkpoint's byte offset.
        offset: u64,
        /// Why.
        cause: io::Error,
    },
    /// A source as a whole cannot be read (its header, an I/O error); says the source and line.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The `--known-symbols` file cannot be opened.
    #[error("opening known-symbols file {}: {cause}", path.display())]
    OpenKnownSymbols {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: io::Error,
    },
    /// The `--known-symbols` file cannot be read.
    #[error("reading known-symbols file {}: {cause}", path.display())]
    ReadKnownSymbols {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: io::Error,
    },
    /// The `--known-symbols` file names no symbol, so every row would be rejected.
    #[error("known-symbols file {} lists no symbols", path.display())]
    NoKnownSymbols {
        /// The file.
        path: PathBuf,
    },
    /// With `--date-order auto`, the file's dates do not settle its day/month order.
    #[error(
        "{source_name}: refused, nothing sent: {refusal}. Pass --date-order dmy (day first) or \
         --date-order mdy (month first) to read it one way; rows that do not fit that order are \
         then rejected one by one"
    )]
    DateOrderRefused {
        /// The source.
        source_name: String,
        /// What its dates showed.
        refusal: OrderRefusal,
    },
    /// No symbol column, no `--symbol`, and a file name that is not a ticker.
    #[error("{source_name}: no symbol column in the header, and {cause}; pass --symbol")]
    NoSymbol {
        /// The source.
        source_name: String,
        /// Why the file name gives no ticker.
        cause: NoTicker,
    },
    /// The rejects file cannot be opened.
    #[error("opening rejects file {}: {cause}", path.display())]
    OpenRejects {
        /// The rejects file.
        path: PathBuf,
        /// Why.
        cause: io::Error,
    },
    /// The rejects file cannot be cut back to a resumed checkpoint's length.
    #[error("truncating rejects file {} to the checkpoint's {len} bytes: {cause}", path.display())]
    TruncateRejects {
        /// The rejects file.
        path: PathBuf,
        /// The length recorded in the checkpoint.
        len: u64,
        /// Why.
        cause: io::Error,
    },
    /// A rejected row cannot be written to the rejects file.
    #[error("writing rejects: {cause}")]
    WriteRejects {
        /// Why.
        cause: io::Error,
    },
    /// The checkpoint file cannot be read, belongs to another run, or cannot be written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The input is not the file the checkpoint was written for.
    #[error(
        "{} changed since the checkpoint ({then} bytes then, {now} now); use a new checkpoint file",
        path.display()
    )]
    InputChanged {
        /// The input.
        path: PathBuf,
        /// Its size in the checkpoint.
        then: u64,
        /// Its size now.
        now: u64,
    },
    /// librdkafka refused the producer's settings.
    #[error("creating Kafka producer (check the -X settings): {cause}")]
    CreateProducer {
        /// Why.
        cause: KafkaError,
    },
    /// The topic cannot be described or read.
    #[error(transparent)]
    Topic(#[from] TopicError),
    /// A resumed run could not find which rows an interrupted run had already delivered.
    #[error("scanning the topic for rows of {source_name} sent before the interruption: {cause}")]
    ResumeScan {
        /// The source being resumed.
        source_name: String,
        /// Why.
        cause: TopicError,
    },
    /// Rows sent were neither acknowledged nor failed in time.
    #[error("{source_name}: {in_flight} rows still unacknowledged after {timeout:?}: {cause}")]
    Unacknowledged {
        /// The source.
        source_name: String,
        /// Rows still in flight.
        in_flight: usize,
        /// How long the flush waited.
        timeout: Duration,
        /// The flush's error.
        cause: KafkaError,
    },
    /// The `--summary-json` file cannot be written.
    #[error("writing {}: {cause}", path.display())]
    WriteSummary {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: io::Error,
    },
    /// `generate` cannot create its output file.
    #[error("creating {}: {cause}", path.display())]
    CreateOutput {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: io::Error,
    },
    /// `generate` cannot write its output.
    #[error("writing {target}: {cause}")]
    WriteOutput {
        /// The file, or `standard output`.
        target: String,
        /// Why.
        cause: io::Error,
    },
}
