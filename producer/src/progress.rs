//! Progress on long runs: a bar on a terminal, a log line every few seconds elsewhere
//! (systemd, CI), nothing when asked. Writes to stderr so stdout stays for the summary.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Progress display (`--progress`; clap reads the variants' names and docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// Bar on a terminal, log lines otherwise.
    Auto,
    /// Always a progress bar.
    Bar,
    /// Plain log lines every few seconds.
    Log,
    /// Nothing until the summary.
    Off,
}

/// Counts shown while a file is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// Rows read so far (this run).
    pub rows: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Rows acknowledged by Kafka.
    pub delivered: u64,
    /// Bytes of the file read.
    pub bytes: u64,
}

enum Display {
    Bar(ProgressBar),
    Log { last: Instant, every: Duration },
    Off,
}

/// Progress for one file.
pub struct Progress {
    display: Display,
    name: String,
    total: u64,
    start: Instant,
    start_bytes: u64,
}

impl Progress {
    /// Progress for a file `name` of `total` bytes, starting at `start_bytes` (resume).
    pub fn new(mode: ProgressMode, name: &str, total: u64, start_bytes: u64) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let display = match mode {
            ProgressMode::Off => Display::Off,
            ProgressMode::Bar => Display::Bar(bar(name, total, start_bytes)),
            ProgressMode::Auto if tty => Display::Bar(bar(name, total, start_bytes)),
            ProgressMode::Auto | ProgressMode::Log => Display::Log {
                last: Instant::now(),
                every: Duration::from_secs(5),
            },
        };
        Progress {
            display,
            name: name.to_string(),
            total,
            start: Instant::now(),
            start_bytes,
        }
    }

    /// Updates the display (cheap; call every few thousand rows).
    pub fn update(&mut self, c: Counts) {
        let elapsed = self.start.elapsed().as_secs_f64().max(1e-9);
        let rate = c.rows as f64 / elapsed;
        match &mut self.display {
            Display::Off => {}
            Display::Bar(b) => {
                b.set_position(c.bytes);
                b.set_message(format!(
                    "{} rows  {:.0} rows/s  {} rejected  {} delivered",
                    c.rows, rate, c.rejected, c.delivered
                ));
            }
            Display::Log { last, every } => {
                if last.elapsed() >= *every {
                    *last = Instant::now();
                    eprintln!("{}", self.log_line(c, elapsed, rate));
                }
            }
        }
    }

    fn log_line(&self, c: Counts, elapsed: f64, rate: f64) -> String {
        let done = c.bytes.saturating_sub(self.start_bytes) as f64;
        let left = self.total.saturating_sub(c.bytes) as f64;
        let pct = if self.total == 0 {
            100.0
        } else {
            c.bytes as f64 * 100.0 / self.total as f64
        };
        let eta = if done > 0.0 {
            left * elapsed / done
        } else {
            f64::NAN
        };
        format!(
            "progress {}: {pct:.1}% rows={} rows/s={rate:.0} rejected={} delivered={} eta={eta:.0}s",
            self.name, c.rows, c.rejected, c.delivered
        )
    }

    /// Removes the bar.
    pub fn finish(&mut self) {
        if let Display::Bar(b) = &self.display {
            b.finish_and_clear();
        }
    }
}

fn bar(name: &str, total: u64, start: u64) -> ProgressBar {
    let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(4));
    b.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {percent:>3}% {msg} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    b.set_prefix(name.to_string());
    b.set_position(start);
    b.reset_eta();
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_line_reports_percent_rate_rejects_and_eta() {
        let p = Progress::new(ProgressMode::Log, "big.csv", 1000, 0);
        let line = p.log_line(
            Counts {
                rows: 400,
                rejected: 3,
                delivered: 390,
                bytes: 250,
            },
            2.0,
            200.0,
        );
        // A quarter of the bytes in 2 s: 6 s to go.
        assert_eq!(
            line,
            "progress big.csv: 25.0% rows=400 rows/s=200 rejected=3 delivered=390 eta=6s"
        );
    }

    #[test]
    fn resumed_runs_estimate_from_this_run_only() {
        let p = Progress::new(ProgressMode::Off, "big.csv", 1000, 500);
        let c = Counts {
            rows: 10,
            rejected: 0,
            delivered: 10,
            bytes: 750,
        };
        assert!(p.log_line(c, 5.0, 2.0).ends_with("eta=5s"));
    }
}
