//! The producer as a library: the `stockstream-producer` binary is a thin `main` over it, and
//! the one-machine pipeline (`stockstream-local demo`) runs the same `produce` in-process.
//!
//! Modules: [`cli`] (flags, parsed once), [`produce`] (read → validate → encode → send, with
//! rejects, pacing, progress, checkpoints and a summary), [`summary`] (read a topic back and
//! check it), and their helpers.

pub mod checkpoint;
pub mod cli;
pub mod kafka;
pub mod pacing;
pub mod produce;
pub mod progress;
pub mod summary;
pub mod tracker;

use clap::Parser;
use cli::{Cli, Command, GenOrder};
use produce::RunError;
use std::fs::File;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use stockstream_core::generate::{self, GenConfig, Order};

/// Runs the command line `args` (program name first) and maps the outcome to the documented
/// exit status. The binary's `main` and `stockstream-local produce` both call it.
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
        Command::Produce(a) => produce::produce(&a, &stop).map(|_| ()),
        Command::Validate(a) => produce::validate(&a, &stop).map(|_| ()),
        Command::Generate(a) => run_generate(&a).map_err(RunError::from),
        Command::Summary(a) => summary::summarise(&a)
            .and_then(|s| {
                if a.json {
                    println!("{}", serde_json::to_string_pretty(&s)?);
                } else {
                    s.print();
                }
                Ok(())
            })
            .map_err(RunError::from),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::from(match e {
                RunError::Fatal(_) => 1,
                RunError::Undelivered { .. } => 3,
                RunError::TooManyRejects { .. } => 4,
                RunError::Interrupted => 130,
            })
        }
    }
}

fn chain(e: &RunError) -> String {
    match e {
        RunError::Fatal(a) => format!("{a:#}"),
        other => other.to_string(),
    }
}

fn run_generate(a: &cli::GenerateArgs) -> anyhow::Result<()> {
    use anyhow::Context;
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
        generate::write_csv(&config, std::io::stdout().lock())?;
    } else {
        let f =
            File::create(&a.output).with_context(|| format!("creating {}", a.output.display()))?;
        let rows = generate::write_csv(&config, f)?;
        eprintln!("wrote {rows} rows to {}", a.output.display());
    }
    Ok(())
}
