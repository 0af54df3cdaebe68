//! The validated settings a run takes: [`ProduceConfig`] for `produce`, [`InputConfig`] for
//! `validate`, [`KafkaConfig`] for anything that connects to Kafka.
//!
//! Flags are parsed in two stages, as ripgrep does: clap fills the raw flag structs of
//! [`crate::cli`], and those are converted once, here, into these types, which the rest of the
//! library takes. Callers that are not a command line (the replay function, the one-machine
//! demo) build these types directly from [`ProduceConfig::new`] instead of writing argv for
//! clap to parse back. Every check that needs no I/O happens in [`ProduceConfig::check`] (and
//! [`InputConfig::check`]), run by the conversion and again by [`crate::produce::produce`], so
//! a config built by hand is held to the same rules; the errors name the flag.

use crate::cli::{InputArgs, KafkaArgs, ProduceArgs, ValidateArgs};
use crate::pacing::Pacing;
use crate::progress::ProgressMode;
use std::path::PathBuf;
use stockstream_core::date::DateOrder;
use stockstream_core::symbols::normalise;

/// Default `--topic`.
pub const DEFAULT_TOPIC: &str = "stock-bars";
/// Default `--rejects` file.
pub const DEFAULT_REJECTS: &str = "stockstream-rejects.jsonl";
/// Default `--compression`.
pub const DEFAULT_COMPRESSION: &str = "lz4";
/// Default `--linger-ms`: rows are keyed by symbol, so a batch per partition fills more
/// slowly than with unkeyed data; 20 ms still makes batches of a few hundred KB at full
/// speed, and the rows waiting for a batch fit the queue below.
pub const DEFAULT_LINGER_MS: u32 = 20;
/// Default `--batch-bytes`.
pub const DEFAULT_BATCH_BYTES: u32 = 1_000_000;
/// Default `--queue-kb`: bounds the producer's memory for rows waiting to be delivered.
///
/// Every row waiting is touched again by librdkafka when it is batched, acknowledged and
/// freed, with its header list beside it when it has one (about 600 bytes a row in all,
/// measured when every row had headers). At 16 MiB of values that was some 50 MB, more than
/// the cache, and each touch went to memory; at 4 MiB (about 20,000 rows) the producer used
/// about a tenth less CPU on a million rows. That is still a few lingers' worth of rows at
/// full speed: a broker far away (tens of ms per acknowledgement) may want more.
pub const DEFAULT_QUEUE_KB: u32 = 4_096;
/// Default `--delivery-timeout-ms`.
pub const DEFAULT_DELIVERY_TIMEOUT_MS: u32 = 120_000;

/// A setting that cannot work, found before anything is read or sent. Each names its flag.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// `--source-name` with several input files.
    #[error("--source-name names one file, but {files} were given")]
    SourceNameForManyFiles {
        /// How many input files were given.
        files: usize,
    },
    /// `--symbol` that is empty once trimmed.
    #[error("--symbol is empty")]
    EmptySymbol,
    /// `--rate` or `--replay-speed` that is zero, negative or not finite.
    #[error("--rate and --replay-speed must be positive numbers")]
    Pacing {
        /// The pacing asked for.
        pacing: Pacing,
    },
}

/// Where and how to connect to Kafka.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma separated (`--brokers`).
    pub brokers: String,
    /// Topic to write to or read from (`--topic`).
    pub topic: String,
    /// `security.protocol` (`--security-protocol`).
    pub security_protocol: Option<String>,
    /// `sasl.mechanism` (`--sasl-mechanism`).
    pub sasl_mechanism: Option<String>,
    /// `sasl.username` (`--sasl-username`).
    pub sasl_username: Option<String>,
    /// `sasl.password` (`--sasl-password`).
    pub sasl_password: Option<String>,
    /// `ssl.ca.location` (`--ssl-ca-location`).
    pub ssl_ca_location: Option<PathBuf>,
    /// Any other librdkafka settings, applied last (`-X KEY=VALUE`).
    pub extra: Vec<(String, String)>,
}

impl KafkaConfig {
    /// Plain connection settings: no security, no extra librdkafka settings.
    pub fn new(brokers: impl Into<String>, topic: impl Into<String>) -> Self {
        KafkaConfig {
            brokers: brokers.into(),
            topic: topic.into(),
            security_protocol: None,
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: None,
            ssl_ca_location: None,
            extra: vec![],
        }
    }
}

impl From<&KafkaArgs> for KafkaConfig {
    fn from(k: &KafkaArgs) -> Self {
        KafkaConfig {
            brokers: k.brokers.clone(),
            topic: k.topic.clone(),
            security_protocol: k.security_protocol.clone(),
            sasl_mechanism: k.sasl_mechanism.clone(),
            sasl_username: k.sasl_username.clone(),
            sasl_password: k.sasl_password.clone(),
            ssl_ca_location: k.ssl_ca_location.clone(),
            extra: k.extra.clone(),
        }
    }
}

/// How input rows are read, checked and reported (`produce` and `validate` alike).
#[derive(Debug, Clone, PartialEq)]
pub struct InputConfig {
    /// CSV files to read, in order.
    pub files: Vec<PathBuf>,
    /// Symbol for files without a symbol column (`--symbol`); else the file name's ticker.
    pub symbol: Option<String>,
    /// File of the only symbols accepted (`--known-symbols`).
    pub known_symbols: Option<PathBuf>,
    /// How numeric dates are read (`--date-order`).
    pub date_order: DateOrder,
    /// With [`DateOrder::Auto`], decide from the first this many bytes only
    /// (`--date-scan-limit`).
    pub date_scan_limit: Option<u64>,
    /// Where rejected rows go (`--rejects`).
    pub rejects: PathBuf,
    /// Fail when more rows than this are rejected (`--max-rejects`).
    pub max_rejects: Option<u64>,
    /// Progress display (`--progress`).
    pub progress: ProgressMode,
    /// Also write the run summary as JSON here (`--summary-json`).
    pub summary_json: Option<PathBuf>,
}

impl InputConfig {
    /// The defaults of the command line for `files`.
    pub fn new(files: Vec<PathBuf>) -> Self {
        InputConfig {
            files,
            symbol: None,
            known_symbols: None,
            date_order: DateOrder::Auto,
            date_scan_limit: None,
            rejects: PathBuf::from(DEFAULT_REJECTS),
            max_rejects: None,
            progress: ProgressMode::Auto,
            summary_json: None,
        }
    }

    /// The checks that need no I/O.
    pub fn check(&self) -> Result<(), ConfigError> {
        match &self.symbol {
            Some(s) if normalise(s).is_empty() => Err(ConfigError::EmptySymbol),
            _ => Ok(()),
        }
    }
}

impl TryFrom<&InputArgs> for InputConfig {
    type Error = ConfigError;

    fn try_from(a: &InputArgs) -> Result<Self, ConfigError> {
        let c = InputConfig {
            files: a.files.clone(),
            symbol: a.symbol.clone(),
            known_symbols: a.known_symbols.clone(),
            date_order: a.date_order,
            date_scan_limit: a.date_scan_limit,
            rejects: a.rejects.clone(),
            max_rejects: a.max_rejects,
            progress: a.progress,
            summary_json: a.summary_json.clone(),
        };
        c.check()?;
        Ok(c)
    }
}

impl TryFrom<&ValidateArgs> for InputConfig {
    type Error = ConfigError;

    fn try_from(a: &ValidateArgs) -> Result<Self, ConfigError> {
        InputConfig::try_from(&a.input)
    }
}

/// Everything a `produce` run needs. Build it from the flags (`TryFrom<&ProduceArgs>`) or
/// from [`ProduceConfig::new`] and its public fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ProduceConfig {
    /// The input files and how they are read.
    pub input: InputConfig,
    /// The cluster and topic.
    pub kafka: KafkaConfig,
    /// How fast rows are sent (`--rate`, `--replay-speed`).
    pub pacing: Pacing,
    /// Start over at the end of the input until interrupted (`--loop`).
    pub repeat: bool,
    /// Checkpoint file, for resuming without duplicates (`--checkpoint`).
    pub checkpoint: Option<PathBuf>,
    /// `compression.type` (`--compression`).
    pub compression: String,
    /// `linger.ms` (`--linger-ms`).
    pub linger_ms: u32,
    /// `batch.size` in bytes (`--batch-bytes`).
    pub batch_bytes: u32,
    /// `queue.buffering.max.kbytes` (`--queue-kb`).
    pub queue_kb: u32,
    /// `message.timeout.ms` (`--delivery-timeout-ms`).
    pub delivery_timeout_ms: u32,
    /// The `source` recorded with every row (its provenance) instead of the file name; one
    /// file only (`--source-name`).
    pub source_name: Option<String>,
}

impl ProduceConfig {
    /// The defaults of the command line: `files` to `topic` on `brokers`, unpaced, with lz4,
    /// no checkpoint, the default rejects file and automatic progress.
    pub fn new(brokers: impl Into<String>, topic: impl Into<String>, files: Vec<PathBuf>) -> Self {
        ProduceConfig {
            input: InputConfig::new(files),
            kafka: KafkaConfig::new(brokers, topic),
            pacing: Pacing::Unlimited,
            repeat: false,
            checkpoint: None,
            compression: DEFAULT_COMPRESSION.to_string(),
            linger_ms: DEFAULT_LINGER_MS,
            batch_bytes: DEFAULT_BATCH_BYTES,
            queue_kb: DEFAULT_QUEUE_KB,
            delivery_timeout_ms: DEFAULT_DELIVERY_TIMEOUT_MS,
            source_name: None,
        }
    }

    /// The checks that need no I/O; the first failure is returned.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.source_name.is_some() && self.input.files.len() > 1 {
            return Err(ConfigError::SourceNameForManyFiles {
                files: self.input.files.len(),
            });
        }
        self.input.check()?;
        match self.pacing {
            Pacing::Unlimited => Ok(()),
            Pacing::Rate(x) | Pacing::Replay(x) if x > 0.0 && x.is_finite() => Ok(()),
            pacing => Err(ConfigError::Pacing { pacing }),
        }
    }
}

impl TryFrom<&ProduceArgs> for ProduceConfig {
    type Error = ConfigError;

    fn try_from(a: &ProduceArgs) -> Result<Self, ConfigError> {
        let pacing = match (a.rate, a.replay_speed) {
            (None, None) => Pacing::Unlimited,
            (Some(r), _) => Pacing::Rate(r),
            (None, Some(s)) => Pacing::Replay(s),
        };
        let c = ProduceConfig {
            input: InputConfig::try_from(&a.input)?,
            kafka: KafkaConfig::from(&a.kafka),
            pacing,
            repeat: a.repeat,
            checkpoint: a.checkpoint.clone(),
            compression: a.compression.clone(),
            linger_ms: a.linger_ms,
            batch_bytes: a.batch_bytes,
            queue_kb: a.queue_kb,
            delivery_timeout_ms: a.delivery_timeout_ms,
            source_name: a.source_name.clone(),
        };
        c.check()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn produce_args(argv: &[&str]) -> ProduceArgs {
        let mut full = vec!["p", "produce"];
        full.extend_from_slice(argv);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Produce(a) => *a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn new_has_the_command_lines_defaults() {
        let parsed = ProduceConfig::try_from(&produce_args(&["-b", "h:1", "a.csv"])).unwrap();
        let built = ProduceConfig::new("h:1", DEFAULT_TOPIC, vec!["a.csv".into()]);
        assert_eq!(parsed, built);
    }

    #[test]
    fn flags_reach_the_config() {
        let c = ProduceConfig::try_from(&produce_args(&[
            "-b",
            "h:1",
            "-t",
            "t",
            "--rate",
            "50",
            "--symbol",
            "msft",
            "--date-order",
            "dmy",
            "--date-scan-limit",
            "100",
            "--security-protocol",
            "SASL_SSL",
            "--sasl-mechanism",
            "SCRAM-SHA-512",
            "--sasl-username",
            "app",
            "--sasl-password",
            "secret",
            "--ssl-ca-location",
            "/etc/ca.pem",
            "--checkpoint",
            "c.json",
            "--linger-ms",
            "7",
            "--source-name",
            "s3://b/k",
            "-X",
            "acks=1",
            "a.csv",
        ]))
        .unwrap();
        assert_eq!(c.kafka.topic, "t");
        assert_eq!(c.pacing, Pacing::Rate(50.0));
        assert_eq!(c.input.symbol.as_deref(), Some("msft"));
        assert_eq!(c.input.date_order, DateOrder::Dmy);
        assert_eq!(c.input.date_scan_limit, Some(100));
        assert_eq!(c.checkpoint, Some(PathBuf::from("c.json")));
        assert_eq!(c.linger_ms, 7);
        assert_eq!(c.source_name.as_deref(), Some("s3://b/k"));
        assert_eq!(c.kafka.extra, [("acks".to_string(), "1".to_string())]);
        assert_eq!(c.kafka.security_protocol.as_deref(), Some("SASL_SSL"));
        assert_eq!(c.kafka.sasl_mechanism.as_deref(), Some("SCRAM-SHA-512"));
        assert_eq!(c.kafka.sasl_username.as_deref(), Some("app"));
        assert_eq!(c.kafka.sasl_password.as_deref(), Some("secret"));
        assert_eq!(c.kafka.ssl_ca_location, Some(PathBuf::from("/etc/ca.pem")));
        let c = ProduceConfig::try_from(&produce_args(&[
            "-b",
            "h:1",
            "--replay-speed",
            "86400",
            "a.csv",
        ]))
        .unwrap();
        assert_eq!(c.pacing, Pacing::Replay(86400.0));
    }

    #[test]
    fn bad_settings_name_their_flag() {
        let e = |argv: &[&str]| {
            ProduceConfig::try_from(&produce_args(argv))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e(&["-b", "h:1", "--source-name", "x", "a.csv", "b.csv"]),
            "--source-name names one file, but 2 were given"
        );
        assert_eq!(
            e(&["-b", "h:1", "--symbol", "  ", "a.csv"]),
            "--symbol is empty"
        );
        for pace in [
            "--rate=0",
            "--rate=-1",
            "--replay-speed=inf",
            "--replay-speed=NaN",
        ] {
            assert_eq!(
                e(&["-b", "h:1", pace, "a.csv"]),
                "--rate and --replay-speed must be positive numbers",
                "{pace}"
            );
        }
    }

    #[test]
    fn a_config_built_by_hand_is_checked_the_same_way() {
        let mut c = ProduceConfig::new("h:1", "t", vec!["a.csv".into(), "b.csv".into()]);
        assert_eq!(c.check(), Ok(()));
        c.pacing = Pacing::Rate(f64::NAN);
        assert!(matches!(c.check(), Err(ConfigError::Pacing { .. })));
        c.pacing = Pacing::Unlimited;
        c.source_name = Some("s".into());
        assert_eq!(
            c.check(),
            Err(ConfigError::SourceNameForManyFiles { files: 2 })
        );
    }
}
