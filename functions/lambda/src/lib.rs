//! How every StockStream Lambda binary starts, shared so the five `main`s are wiring only.
//!
//! - [`start`]: the guard that refuses to run outside Lambda (one sentence, checked by the
//!   bootstrap tests), settings read once or exit 2, the shared SDK configuration, the
//!   invocation's time left, and the one JSON log line per invocation;
//! - [`config`]: [`config::ConfigError`], naming the environment variable and what is wrong
//!   with it, and [`config::Env`], the readers every function's settings are built from;
//! - [`backoff`]: growing poll intervals (Glue crawls, Athena queries);
//! - [`event`]: the EventBridge "Scheduled Event" the scheduled functions receive;
//! - `testing` (feature `test-support`): the bootstrap tests' start of a built binary, and
//!   the sample events of `events/`.
//!
//! It knows no AWS service: the clients (S3, Glue, Athena, SNS) are built by the functions
//! from the [`aws_config::SdkConfig`] that [`start::Function::start`] loads.

#![deny(missing_docs)]

pub mod backoff;
pub mod config;
pub mod event;
pub mod start;
#[cfg(feature = "test-support")]
pub mod testing;

pub use start::Function;
