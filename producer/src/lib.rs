//! The producer as a library: the `stockstream-producer` binary is a thin `main` over it, the
//! one-machine pipeline (`stockstream-local demo`) runs the same [`produce::produce`]
//! in-process, and the replay function runs it on files dropped in S3.
//!
//! Map of the modules, in the order a run meets them:
//!
//! - [`cli`]: the command line's flags as clap parses them (the raw, low-level arguments).
//! - [`config`]: the validated settings the library takes, from the flags or built directly.
//! - [`produce`]: the `produce` and `validate` commands, one submodule per stage of a run.
//! - [`pacing`]: when the next row may be sent (`--rate`, `--replay-speed`).
//! - [`progress`]: the progress bar or log lines of a long run.
//! - [`tracker`]: which rows Kafka has acknowledged, and which snapshot is safe to resume from.
//! - [`checkpoint`]: the file that lets an interrupted run resume without sending twice.
//! - [`kafka`]: client settings, delivery reports, topic metadata and a topic-range reader.
//! - [`summary`]: the `summary` command: read a topic back and check what it holds.
//! - [`error`]: typed errors saying what and where, and the outcomes behind exit statuses.
#![deny(missing_docs)]

pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod error;
pub mod kafka;
pub mod pacing;
pub mod produce;
pub mod progress;
pub mod summary;
pub mod tracker;

pub use config::{InputConfig, KafkaConfig, ProduceConfig};
pub use error::{Error, ErrorKind, RunError};

use clap::Parser;
use cli::{Cli, Command, GenOrder};
use std::fs::File;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use stockstream_core::generate::{self, GenConfig, Order};

/// Runs the command line `args` (program name first) and maps the outcome to the documented
/// exit status. The binary's `main` and `stockstream-local produce` both call it.
///
/// The flags are parsed by clap, then converted once into the library's validated configs;
/// a setting that cannot work exits with status 1, naming its flag.
pub fn run_cli<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::parse_from(args);
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            eprintln!("error: cannot install signal handler: {e}");
            return ExitCode::from(1);
        }
    }
    let outcome = match cli.command {
        Command::Produce(a) => ProduceConfig::try_from(&*a)
            .map_err(RunError::from)
            .and_then(|c| produce::produce(&c, &stop).map(|_| ())),
        Command::Validate(a) => InputConfig::try_from(&a)
            .map_err(RunError::from)
            .and_then(|c| produce::validate(&c, &stop).map(|_| ())),
        Command::Generate(a) => run_generate(&a).map_err(RunError::from),
        Command::Summary(a) => {
            summary::summarise(
                &KafkaConfig::from(&a.kafka),
                Duration::from_secs(a.timeout_secs),
            )
            .map(|s| {
                if a.json {
                    // Only string and integer map keys: serialising cannot fail.
                    let json = serde_json::to_string_pretty(&s).expect("summary serialises");
                    println!("{json}");
                } else {
                    s.print();
                }
            })
            .map_err(|e| RunError::Fatal(Error::from(e)))
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_status())
        }
    }
}

fn run_generate(a: &cli::GenerateArgs) -> Result<(), Error> {
    let config = GenConfig {
        symbols: a.symbols,
        days: a.days,
        start: a.start,
        seed: a.seed,
        order: match a.order {
            GenOrder::ByDate => Order::ByDate,
            GenOrder::BySymbol => Order::BySymbol,
        },
    };
    if a.output.as_os_str() == "-" {
        generate::write_csv(&config, std::io::stdout().lock()).map_err(|cause| {
            ErrorKind::WriteOutput {
                target: "standard output".into(),
                cause,
            }
        })?;
    } else {
        let f = File::create(&a.output).map_err(|cause| ErrorKind::CreateOutput {
            path: a.output.clone(),
            cause,
        })?;
        let rows = generate::write_csv(&config, f).map_err(|cause| ErrorKind::WriteOutput {
            target: a.output.display().to_string(),
            cause,
        })?;
        eprintln!("wrote {rows} rows to {}", a.output.display());
    }
    Ok(())
}
