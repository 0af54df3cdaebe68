//! Command-line flags, parsed once. Every flag of `produce` can also come from the environment
//! (shown in `--help`), so the same binary runs from a terminal, a systemd unit on EC2, or CI.
//!
//! These are the raw flags, checked only as far as clap checks them (types, conflicts);
//! [`crate::config`] converts them once into the validated settings the library takes, so
//! nothing past [`crate::run_cli`] sees a clap type.

use crate::config::{
    DEFAULT_BATCH_BYTES, DEFAULT_COMPRESSION, DEFAULT_DELIVERY_TIMEOUT_MS, DEFAULT_LINGER_MS,
    DEFAULT_QUEUE_KB, DEFAULT_REJECTS, DEFAULT_TOPIC,
};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use stockstream_core::date::DateOrder;

pub use crate::progress::ProgressMode;

/// Streams stock-market CSV files into Kafka, one validated bar per message.
///
/// Each row of the input (Index/Symbol/Ticker, Date, Open, High, Low, Close, Adj Close, Volume,
/// …) becomes a JSON message keyed by its symbol, so every symbol keeps its order in one
/// partition. Rows that fail validation are written to a rejects file with their line and
/// reason, and counted; they are never changed or dropped silently.
///
/// Exit status: 0 every valid row was delivered; 1 a fatal error (unreadable file, bad
/// header, bad settings); 2 bad command line; 3 some rows were not delivered (see the
/// summary; re-run with the same --checkpoint to send only what is missing); 4 more rejects
/// than --max-rejects; 130 interrupted (in-flight rows were flushed and the checkpoint saved).
#[derive(Debug, Parser)]
#[command(name = "stockstream-producer", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read CSV files and send every valid row to a Kafka topic.
    #[command(after_help = PRODUCE_EXAMPLES)]
    Produce(Box<ProduceArgs>),
    /// Read and validate CSV files without sending anything: writes rejects and a summary.
    Validate(ValidateArgs),
    /// Write deterministic synthetic bars in the seed layout (for tests and benchmarks).
    ///
    /// Example: stockstream-producer generate --symbols 500 --days 5000 -o big.csv
    Generate(GenerateArgs),
    /// Read a topic from the beginning to its current end and summarise what it holds.
    ///
    /// Counts messages per partition and symbol, decodes every value, and checks that no
    /// (source, line) pair appears twice and that each symbol's lines arrive in order.
    Summary(SummaryArgs),
}

const PRODUCE_EXAMPLES: &str = "Examples:
  stockstream-producer produce -b 127.0.0.1:9092 -t stock-bars prices.csv
  stockstream-producer produce -b $BROKERS --rate 100 --loop prices.csv       (a demo feed)
  stockstream-producer produce -b $BROKERS --checkpoint run.ckpt big.csv      (resumable)
  stockstream-producer produce -b $BROKERS --security-protocol SASL_SSL \\
      --sasl-mechanism SCRAM-SHA-512 --sasl-username app prices.csv       (password from
      STOCKSTREAM_SASL_PASSWORD)";

/// How input rows are read.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// CSV files to read, in order.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Symbol for files that have no symbol column. Without it, such a file's name gives the
    /// ticker: its leading letters, digits and dots, up to `-`, `_`, a space or `.csv`
    /// (`msft-2000-2020.csv` and `MSFT_daily.csv` → `MSFT`, `BRK.B.csv` → `BRK.B`); a name
    /// that does not start with a ticker (`2020-prices.csv`) is refused. Symbols, here and in
    /// a symbol column, are trimmed and upper-cased.
    #[arg(long, env = "STOCKSTREAM_SYMBOL")]
    pub symbol: Option<String>,

    /// Reject rows whose symbol is not in this file (e.g. the data set's indexInfo.csv, or
    /// one symbol per line).
    #[arg(long, env = "STOCKSTREAM_KNOWN_SYMBOLS", value_name = "FILE")]
    pub known_symbols: Option<PathBuf>,

    /// How to read numeric dates like 03/04/2020. `auto` decides once per file, before
    /// anything is sent, from the file's dates that read only one way (13/04/2020 is day
    /// first): if they agree the whole file is read that way; if they disagree, or every date
    /// reads both ways, the file is refused. `dmy` (day first) or `mdy` (month first) decide
    /// instead, and a row that contradicts them is rejected.
    #[arg(long, env = "STOCKSTREAM_DATE_ORDER", default_value = "auto", value_parser = parse_date_order)]
    pub date_order: DateOrder,

    /// With `--date-order auto`, decide each file's order from its first BYTES only and never
    /// read further (a file they do not decide is refused). Default: the first 8 MiB, read on
    /// through the file only while every date so far is ambiguous. For callers that hold only
    /// the start of a file (the replay function's resumed downloads).
    #[arg(long, value_name = "BYTES")]
    pub date_scan_limit: Option<u64>,

    /// Where rejected rows go (JSON lines: source, line, offset, code, reason, raw row).
    #[arg(
        long,
        env = "STOCKSTREAM_REJECTS",
        default_value = DEFAULT_REJECTS,
        value_name = "FILE"
    )]
    pub rejects: PathBuf,

    /// Fail (exit 4) when more than this many rows are rejected in total.
    #[arg(long, env = "STOCKSTREAM_MAX_REJECTS", value_name = "N")]
    pub max_rejects: Option<u64>,

    /// Progress display: a bar on a terminal, log lines otherwise (`auto`), or forced.
    #[arg(long, env = "STOCKSTREAM_PROGRESS", value_enum, default_value = "auto")]
    pub progress: ProgressMode,

    /// Also write the run summary as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
}

fn parse_date_order(s: &str) -> Result<DateOrder, String> {
    s.parse()
}

/// Where and how to connect to Kafka.
#[derive(Debug, Clone, Args)]
pub struct KafkaArgs {
    /// Bootstrap servers, comma separated (host:port,host:port).
    #[arg(short, long, env = "STOCKSTREAM_BROKERS", value_name = "LIST")]
    pub brokers: String,

    /// Topic to write to or read from. It must exist (StockStream does not rely on
    /// auto-creation; see the README for creating it with several partitions).
    #[arg(short, long, env = "STOCKSTREAM_TOPIC", default_value = DEFAULT_TOPIC)]
    pub topic: String,

    /// `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`.
    #[arg(long, env = "STOCKSTREAM_SECURITY_PROTOCOL")]
    pub security_protocol: Option<String>,

    /// SASL mechanism, e.g. `SCRAM-SHA-512`, `SCRAM-SHA-256` or `PLAIN`.
    #[arg(long, env = "STOCKSTREAM_SASL_MECHANISM")]
    pub sasl_mechanism: Option<String>,

    /// SASL user name.
    #[arg(long, env = "STOCKSTREAM_SASL_USERNAME")]
    pub sasl_username: Option<String>,

    /// SASL password. Prefer the environment variable to keep it out of `ps`.
    #[arg(long, env = "STOCKSTREAM_SASL_PASSWORD", hide_env_values = true)]
    pub sasl_password: Option<String>,

    /// CA certificate file (PEM) for TLS.
    #[arg(long, env = "STOCKSTREAM_SSL_CA_LOCATION", value_name = "FILE")]
    pub ssl_ca_location: Option<PathBuf>,

    /// Any other librdkafka setting, as KEY=VALUE; may be repeated. Applied last.
    #[arg(short = 'X', long = "kafka-config", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub extra: Vec<(String, String)>,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))?;
    Ok((k.trim().to_string(), v.to_string()))
}

/// Flags of `produce`.
#[derive(Debug, Clone, Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub input: InputArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub kafka: KafkaArgs,

    /// Send at most this many rows per second (default: as fast as the broker takes them).
    #[arg(
        long,
        env = "STOCKSTREAM_RATE",
        value_name = "ROWS_PER_SEC",
        conflicts_with = "replay_speed"
    )]
    pub rate: Option<f64>,

    /// Pace rows by their own timestamps, sped up by this factor: 86400 plays one day of
    /// market time per second.
    #[arg(long, env = "STOCKSTREAM_REPLAY_SPEED", value_name = "FACTOR")]
    pub replay_speed: Option<f64>,

    /// Start over at the end of the input, until interrupted (for demos). Not resumable.
    #[arg(long = "loop", env = "STOCKSTREAM_LOOP", conflicts_with = "checkpoint")]
    pub repeat: bool,

    /// Checkpoint file. A run records how far delivery got; a later run with the same file
    /// resumes there and skips rows the topic already holds, so nothing is sent twice.
    #[arg(long, env = "STOCKSTREAM_CHECKPOINT", value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,

    /// Compression: none, gzip, snappy, lz4 or zstd (zstd needs a librdkafka built with it).
    #[arg(long, env = "STOCKSTREAM_COMPRESSION", default_value = DEFAULT_COMPRESSION)]
    pub compression: String,

    /// How long to wait to fill a batch before sending it. Rows are keyed by symbol, so a
    /// batch per partition fills more slowly than with unkeyed data; 20 ms still makes
    /// batches of a few hundred KB at full speed.
    #[arg(long, env = "STOCKSTREAM_LINGER_MS", default_value_t = DEFAULT_LINGER_MS)]
    pub linger_ms: u32,

    /// Largest batch in bytes.
    #[arg(long, env = "STOCKSTREAM_BATCH_BYTES", default_value_t = DEFAULT_BATCH_BYTES)]
    pub batch_bytes: u32,

    /// Memory for rows waiting to be delivered, in KiB; bounds the producer's footprint.
    /// Raise it for a distant broker: rows wait here until acknowledged.
    #[arg(long, env = "STOCKSTREAM_QUEUE_KB", default_value_t = DEFAULT_QUEUE_KB)]
    pub queue_kb: u32,

    /// Give up on a row not acknowledged within this time (it is then counted as failed).
    #[arg(
        long,
        env = "STOCKSTREAM_DELIVERY_TIMEOUT_MS",
        default_value_t = DEFAULT_DELIVERY_TIMEOUT_MS
    )]
    pub delivery_timeout_ms: u32,

    /// Name recorded as each row's `source` (its provenance, with the line). Default: the file
    /// name. Only valid with a single input file.
    #[arg(long, env = "STOCKSTREAM_SOURCE_NAME")]
    pub source_name: Option<String>,
}

/// Flags of `validate`.
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub input: InputArgs,
}

/// Row order of generated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenOrder {
    /// Every symbol for one day, then the next day (a live feed).
    ByDate,
    /// Every day of one symbol, then the next symbol (like the seed file).
    BySymbol,
}

/// Flags of `generate`.
#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Number of symbols (named S00000, S00001, …).
    #[arg(long, default_value_t = 10)]
    pub symbols: usize,
    /// Trading days per symbol (weekdays from --start).
    #[arg(long, default_value_t = 250)]
    pub days: usize,
    /// First day, YYYY-MM-DD.
    #[arg(long, default_value = "2000-01-03")]
    pub start: chrono::NaiveDate,
    /// Random seed; the same seed writes the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Row order.
    #[arg(long, value_enum, default_value = "by-date")]
    pub order: GenOrder,
    /// Output file (`-` for standard output).
    #[arg(short, long, default_value = "-")]
    pub output: PathBuf,
}

/// Flags of `summary`.
#[derive(Debug, Clone, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub kafka: KafkaArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Give up if the topic's end is not reached within this many seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout_secs: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn produce_flags_and_defaults() {
        let cli = Cli::try_parse_from([
            "p",
            "produce",
            "-b",
            "h:1",
            "--rate",
            "50",
            "-X",
            "socket.timeout.ms=5000",
            "a.csv",
            "b.csv",
        ])
        .unwrap();
        let Command::Produce(p) = cli.command else {
            panic!()
        };
        assert_eq!(p.input.files.len(), 2);
        assert_eq!(p.kafka.topic, "stock-bars");
        assert_eq!(p.rate, Some(50.0));
        assert_eq!(
            p.kafka.extra,
            [("socket.timeout.ms".to_string(), "5000".to_string())]
        );
        assert_eq!(p.compression, "lz4");
    }

    #[test]
    fn conflicting_pacing_is_a_usage_error() {
        let e = Cli::try_parse_from([
            "p",
            "produce",
            "-b",
            "h:1",
            "--rate",
            "5",
            "--replay-speed",
            "2",
            "a.csv",
        ])
        .unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
        let e = Cli::try_parse_from([
            "p",
            "produce",
            "-b",
            "h:1",
            "--loop",
            "--checkpoint",
            "c",
            "a.csv",
        ])
        .unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
        let e = Cli::try_parse_from(["p", "produce", "-b", "h:1", "--date-order", "ydm", "a.csv"])
            .unwrap_err();
        assert!(e.to_string().contains("use auto, dmy or mdy"), "{e}");
    }
}
