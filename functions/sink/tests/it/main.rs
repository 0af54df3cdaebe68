//! The sink's integration tests, one test binary (one link on CI) with a module per subject:
//!
//! - [`exactly_once`]: the commit protocol's property tests (random cuts, re-deliveries,
//!   injected failures, compaction and redrives between deliveries);
//! - [`handler`]: one invocation from a Kafka event to objects, quarantine and summary;
//! - [`sample_event`]: the sample event of `events/` through the handler;
//! - [`lake_readers`], [`lake_figures`]: the lake's Parquet read back by other readers, and
//!   its size figures;
//! - [`s3_moto`]: the S3 store and compaction lock against moto (`.ci/test`);
//! - [`bootstrap`]: the binaries outside Lambda, and all five functions under the Lambda
//!   Runtime API emulator (`.ci/test`).

mod bootstrap;
mod exactly_once;
mod handler;
mod lake_figures;
mod lake_readers;
mod s3_moto;
mod sample_event;
