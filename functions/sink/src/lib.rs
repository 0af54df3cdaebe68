//! The sink behind the Kafka trigger: batches of records become objects in a partitioned
//! lake, each valid record exactly once however Lambda retries, and every bad record in a
//! quarantine prefix with its reason.
//!
//! Modules, in the order a batch meets them:
//! - [`layout`]: which lake partition (Hive `key=value/` folder) a row belongs to;
//! - [`lake_key`]: the key grammar (objects, merges, quarantine, state, manifests, hidden
//!   folders), written and parsed in one place;
//! - [`encode`]: turning a group of rows into an object's bytes (the [`Encoder`] trait, JSON
//!   lines for quarantine and tests);
//! - [`parquet_file`]: the lake's encoder, Parquet with the types Athena and Glue expect;
//! - the storage it writes through (create-if-absent, compare-and-swap) is
//!   [`stockstream_store`]'s `Store`: S3, a local directory or memory;
//! - [`commit`]: the exactly-once protocol that ties them together;
//! - [`compact`]: merging a folder's small committed objects into larger sorted ones, run
//!   on a schedule apart from the trigger;
//! - [`handler`]: one invocation (an event in, a [`handler::Summary`] out), and [`metrics`],
//!   that summary in CloudWatch's embedded metric format;
//! - [`redrive`]: the events of failed batches saved by the trigger, fed back to the handler.
//!
//! The Lambda binary (`src/main.rs`, settings in [`config`]) only wires these together.
//!
//! [`Encoder`]: encode::Encoder
#![deny(missing_docs)]

pub mod commit;
pub mod compact;
pub mod config;
pub mod encode;
pub mod handler;
pub mod lake_key;
pub mod layout;
pub mod lock;
pub mod metrics;
pub mod parquet_file;
pub mod redrive;
