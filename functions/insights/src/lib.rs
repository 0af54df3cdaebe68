//! The insights Lambda: on a schedule, runs every insight of
//! [`stockstream_core::insights::all`] on Athena and publishes the report (HTML, JSON, one CSV
//! per insight) to S3 — the cloud twin of `stockstream-local insights` on DataFusion.
//!
//! - [`config`]: the settings, read once from the environment and checked at start;
//! - [`event`]: the scheduled event, and the report window and symbols it implies;
//! - [`athena`]: one insight on Athena: start, poll (with the shared
//!   [`stockstream_lambda::backoff::Backoff`], zero in tests), page through typed results;
//! - [`publish`]: the report's files and where they go in S3;
//! - [`notify`]: the message to the report's readers (summary and presigned link) on SNS;
//! - [`handler`]: the whole invocation.
//!
//! One failing insight is reported as failed and does not stop the others; the invocation
//! fails only when every insight failed (then something is wrong with the setup, not with
//! one query).
#![deny(missing_docs)]

pub mod athena;
pub mod config;
pub mod event;
pub mod handler;
pub mod notify;
pub mod publish;
