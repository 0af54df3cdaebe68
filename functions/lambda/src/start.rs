//! How a Lambda binary starts and reports: the same few steps in every function, here once.
//!
//! 1. [`Function::guard`]: outside Lambda (`AWS_LAMBDA_RUNTIME_API` unset) the binary says so
//!    in one sentence and exits 2, instead of the runtime's connection error. The bootstrap
//!    tests and CI check this sentence ([`NOT_IN_LAMBDA`]).
//! 2. The settings, read once; a bad one exits 2 with its message
//!    ([`Function::configured`]): the first cold start fails loudly, not every invocation.
//! 3. The shared SDK configuration (region, credentials) for the function's clients.
//!
//! Per invocation, [`time_left`] turns the runtime's deadline into a duration, and
//! [`Function::log`] prints the one JSON line CloudWatch keeps.

use std::fmt::Display;
use std::time::{Duration, Instant, SystemTime};

/// The sentence every function prints when started outside Lambda.
pub const NOT_IN_LAMBDA: &str =
    "AWS_LAMBDA_RUNTIME_API is not set, so this is not running inside AWS Lambda.";

/// A Lambda function's name and how to run it without Lambda.
#[derive(Debug, Clone, Copy)]
pub struct Function {
    /// Prefix of its messages (`sink`, `compact`, …).
    pub name: &'static str,
    /// What to do locally instead, ending the guard's message ("invoke it locally with
    /// `cargo lambda watch`").
    pub locally: &'static str,
}

/// How the functions that run only in Lambda are run locally.
pub const WITH_CARGO_LAMBDA: &str = "invoke it locally with `cargo lambda watch`";

/// A log line's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Normal progress.
    Info,
    /// Something to look at, the function goes on.
    Warn,
    /// The invocation failed.
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

impl Function {
    /// The guard's message.
    pub fn not_in_lambda(&self) -> String {
        format!(
            "{}: {NOT_IN_LAMBDA} Deploy it with the SAM template, or {}.",
            self.name, self.locally
        )
    }

    /// Exits 2 with [`Function::not_in_lambda`] unless the Lambda Runtime API is there.
    pub fn guard(&self) {
        if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
            eprintln!("{}", self.not_in_lambda());
            std::process::exit(2);
        }
    }

    /// The settings, or exit 2 with "NAME: bad configuration: …".
    pub fn configured<T, E: Display>(&self, settings: Result<T, E>) -> T {
        settings.unwrap_or_else(|e| {
            eprintln!("{}: bad configuration: {e}", self.name);
            std::process::exit(2)
        })
    }

    /// The start of every `main`: the guard, the settings read from the process environment
    /// by `read` (or exit 2), and the SDK configuration for the clients.
    pub async fn start<T, E: Display>(
        &self,
        read: impl FnOnce(&dyn Fn(&str) -> Option<String>) -> Result<T, E>,
    ) -> (T, aws_config::SdkConfig) {
        self.guard();
        let settings = self.configured(read(&|k| std::env::var(k).ok()));
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        (settings, aws)
    }

    /// One JSON log line: `level`, `message`, `request_id` and the fields of `fields` (an
    /// object; anything else is kept under `detail`).
    pub fn log_line(
        &self,
        level: Level,
        message: impl Display,
        request_id: &str,
        fields: serde_json::Value,
    ) -> String {
        let mut line = match fields {
            serde_json::Value::Object(m) => m,
            serde_json::Value::Null => serde_json::Map::new(),
            other => serde_json::Map::from_iter([("detail".to_string(), other)]),
        };
        line.insert("level".into(), level.as_str().into());
        line.insert("message".into(), message.to_string().into());
        if !request_id.is_empty() {
            line.insert("request_id".into(), request_id.into());
        }
        serde_json::Value::Object(line).to_string()
    }

    /// Prints [`Function::log_line`] to standard output (CloudWatch Logs).
    pub fn log(
        &self,
        level: Level,
        message: impl Display,
        request_id: &str,
        fields: serde_json::Value,
    ) {
        println!("{}", self.log_line(level, message, request_id, fields));
    }
}

/// Time left before the invocation's deadline. `None` when the deadline is already past at
/// the start: Lambda gives the whole timeout, so that is a local emulator's placeholder
/// (`cargo lambda watch` sends ten minutes after the epoch), and the time is unknown.
pub fn time_left(context: &lambda_runtime::Context) -> Option<Duration> {
    context.deadline().duration_since(SystemTime::now()).ok()
}

/// The invocation's deadline on the monotonic clock, when known (see [`time_left`]).
pub fn deadline(context: &lambda_runtime::Context) -> Option<Instant> {
    time_left(context).map(|left| Instant::now() + left)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SINK: Function = Function {
        name: "sink",
        locally: WITH_CARGO_LAMBDA,
    };

    #[test]
    fn the_guard_says_where_it_runs_and_what_to_do() {
        assert_eq!(
            SINK.not_in_lambda(),
            "sink: AWS_LAMBDA_RUNTIME_API is not set, so this is not running inside AWS Lambda. \
             Deploy it with the SAM template, or invoke it locally with `cargo lambda watch`."
        );
    }

    #[test]
    fn log_lines_carry_level_message_request_and_fields() {
        let line = SINK.log_line(
            Level::Info,
            "batch stored",
            "req-1",
            serde_json::json!({"summary": {"rows": 3}}),
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "info");
        assert_eq!(v["message"], "batch stored");
        assert_eq!(v["request_id"], "req-1");
        assert_eq!(v["summary"]["rows"], 3);
        let v: serde_json::Value =
            serde_json::from_str(&SINK.log_line(Level::Warn, "w", "", serde_json::json!(5)))
                .unwrap();
        assert_eq!(v["detail"], 5);
        assert!(v.get("request_id").is_none());
    }

    #[test]
    fn a_deadline_in_the_past_is_unknown_not_zero() {
        let mut ctx = lambda_runtime::Context::default();
        ctx.deadline = 600_000; // cargo lambda watch's placeholder
        assert_eq!(time_left(&ctx), None);
        assert!(deadline(&ctx).is_none());
        let now_ms = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        ctx.deadline = now_ms + 60_000;
        let left = time_left(&ctx).unwrap();
        assert!(
            left > Duration::from_secs(50) && left <= Duration::from_secs(60),
            "{left:?}"
        );
    }
}
