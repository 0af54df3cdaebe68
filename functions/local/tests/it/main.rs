//! The local runner's integration tests, one test binary (DataFusion is linked once, not four
//! times) with a module per subject:
//!
//! - [`cli`]: `stockstream-local` commands from the command line (rejects, exit codes);
//! - [`crawler`]: the local crawler over a lake the real sink wrote;
//! - [`engine`]: the local engine computing a CTE read twice once;
//! - [`insights_crosscheck`]: every insight on DataFusion, DuckDB and Trino, equal to 1e-9,
//!   and figures computed independently from the CSV rows (`.ci/test`);
//! - [`pipeline`]: `stockstream-local demo` end to end, on the embedded broker and on Apache
//!   Kafka with moto, with redrives, re-created topics and the fault test of a three-node
//!   cluster (`.ci/test`);
//! - [`common`]: lakes for the tests, written by the real sink.

mod cli;
mod common;
mod crawler;
mod engine;
mod insights_crosscheck;
mod pipeline;
