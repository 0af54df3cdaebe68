//! The crawler Lambda: on a schedule, starts the Glue crawler that turns the lake's new
//! partition folders into catalog partitions, so Athena sees the data the sink wrote.
//!
//! - [`config`]: the settings, read once from the environment and checked at start;
//! - [`handler`]: start the crawler, optionally wait for it (polling with the shared
//!   [`stockstream_lambda::backoff::Backoff`], which tests set to zero), and summarise what it found.
//!
//! A crawler that is already running counts as success: the schedule's purpose (a crawl
//! happens) is met, and Glue refuses a second concurrent run anyway.
#![deny(missing_docs)]

pub mod config;
pub mod handler;
