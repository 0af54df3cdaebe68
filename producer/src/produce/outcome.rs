//! What a `produce` or `validate` run did: the [`Summary`] printed at the end (and written as
//! JSON with `--summary-json`), the [`InputInfo`] of each input, and the `--max-rejects` check
//! that turns a summary into an exit status.
//!
//! Kept apart from the stages that fill it, because it is the run's user-facing report: the
//! text and JSON here are what operators and tests read.

use crate::error::{Error, ErrorKind, RunError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use stockstream_core::date_order::OrderCounts;
use stockstream_core::reader::ReadStats;

/// What a run did, printed at the end and optionally written as JSON.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Files read (or skipped as already complete).
    pub files: u64,
    /// How each input is read: its symbol and day/month order.
    pub inputs: Vec<InputInfo>,
    /// Reader counts over all files.
    pub read: ReadStats,
    /// Rejected rows per input file, by reason code (files without rejects are left out).
    pub rejects_by_file: BTreeMap<String, BTreeMap<String, u64>>,
    /// Rows acknowledged by Kafka in this run.
    pub delivered: u64,
    /// Rows a previous, interrupted run had already delivered.
    pub already_in_topic: u64,
    /// Rows that were sent and failed.
    pub failed: u64,
    /// Accepted rows that are not in Kafka at the end (failed, or never sent because the run
    /// stopped early).
    pub missing: u64,
    /// Delivery failures by reason.
    pub failures: BTreeMap<String, u64>,
    /// Rows delivered per partition in this run.
    pub per_partition: BTreeMap<i32, u64>,
    /// True when stopped by SIGINT/SIGTERM.
    pub interrupted: bool,
    /// Set when Kafka refused rows for good and the run stopped early.
    pub aborted: Option<String>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Rejects file.
    pub rejects_file: PathBuf,
}

impl Summary {
    /// Adds one file's reader counts: to the totals, and its rejects to the per-file table.
    pub(crate) fn add_read(&mut self, source: &str, stats: &ReadStats) {
        self.read.merge(stats);
        if stats.rejected > 0 {
            let per = self.rejects_by_file.entry(source.to_string()).or_default();
            for (code, n) in &stats.rejects_by_code {
                *per.entry(code.clone()).or_default() += n;
            }
        }
    }

    /// Accepted rows not (yet) in Kafka.
    pub(crate) fn count_missing(&self) -> u64 {
        self.read
            .accepted
            .saturating_sub(self.delivered + self.already_in_topic)
    }

    /// The `--max-rejects` limit: an error when more rows than `max` were rejected.
    pub(crate) fn check_rejects_limit(&self, max: Option<u64>) -> Result<(), RunError> {
        match max {
            Some(max) if self.read.rejected > max => Err(RunError::TooManyRejects {
                rejected: self.read.rejected,
                max,
            }),
            _ => Ok(()),
        }
    }

    /// Prints the human-readable summary to stdout.
    pub fn print(&self, verb: &str) {
        let r = &self.read;
        let rate = r.rows as f64 / self.seconds.max(1e-9);
        println!(
            "stockstream-producer {verb}: {} in {:.2}s",
            if self.interrupted {
                "interrupted"
            } else {
                "finished"
            },
            self.seconds
        );
        println!("  files       {}", self.files);
        for i in self.inputs.iter().take(20) {
            println!("  input       {}", i.describe());
        }
        if self.inputs.len() > 20 {
            println!("  input       … and {} more", self.inputs.len() - 20);
        }
        println!(
            "  rows        {} (accepted {}, rejected {}; {} blank lines skipped)",
            r.rows, r.accepted, r.rejected, r.blank
        );
        let join = |m: &BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        if !r.warnings_by_code.is_empty() {
            println!("  warnings    {}", join(&r.warnings_by_code));
        }
        if r.rejected > 0 {
            println!(
                "  rejects     {}  -> {}",
                join(&r.rejects_by_code),
                self.rejects_file.display()
            );
            if self.rejects_by_file.len() > 1 {
                for (file, codes) in self.rejects_by_file.iter().take(20) {
                    let n: u64 = codes.values().sum();
                    println!("    {file}: {n} ({})", join(codes));
                }
            }
        }
        if verb == "produce" {
            println!(
                "  delivered   {} this run, {} already in the topic, {} failed, {} missing",
                self.delivered, self.already_in_topic, self.failed, self.missing
            );
            if !self.failures.is_empty() {
                println!("  failures    {}", join(&self.failures));
            }
            if let Some(why) = &self.aborted {
                println!("  stopped     {why}");
            }
        }
        if verb == "validate" || self.delivered > 0 {
            println!("  throughput  {rate:.0} rows/s");
        }
    }

    /// Writes the summary as JSON to `path`, if given (`--summary-json`).
    pub(crate) fn write_json(&self, path: Option<&Path>) -> Result<(), Error> {
        let Some(p) = path else {
            return Ok(());
        };
        serde_json::to_vec_pretty(self)
            .map_err(std::io::Error::from)
            .and_then(|json| fs::write(p, json))
            .map_err(|cause| {
                ErrorKind::WriteSummary {
                    path: p.to_path_buf(),
                    cause,
                }
                .into()
            })
    }
}

/// How one input is read, as the summary reports it.
#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    /// The source name (each row's `source`).
    pub source: String,
    /// The ticker given to every row when the file has no symbol column.
    pub symbol: Option<String>,
    /// Where the symbol comes from: `column`, `--symbol` or `file name`.
    pub symbol_from: &'static str,
    /// The day/month order the file is read with: `dmy`, `mdy`, or `auto` when no date needs
    /// one.
    pub date_order: &'static str,
    /// True when the order was decided from the file's dates (`--date-order auto`).
    pub date_order_decided: bool,
    /// The dates the decision was made from (with `auto`).
    pub date_counts: Option<OrderCounts>,
}

impl InputInfo {
    fn describe(&self) -> String {
        let symbol = match &self.symbol {
            None => "symbols from its symbol column".to_string(),
            Some(s) => format!("symbol {s} (from the {})", self.symbol_from),
        };
        let dates = match (&self.date_counts, self.date_order) {
            (Some(c), "dmy") => format!(
                "dates day-first (decided: {} dates read only day-first, none month-first)",
                c.day_first
            ),
            (Some(c), "mdy") => format!(
                "dates month-first (decided: {} dates read only month-first, none day-first)",
                c.month_first
            ),
            (Some(_), _) => "dates need no day/month order".to_string(),
            (None, order) => format!("dates read {order} (--date-order)"),
        };
        format!("{}: {symbol}; {dates}", self.source)
    }
}
