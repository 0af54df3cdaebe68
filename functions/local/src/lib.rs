//! StockStream on one machine: the twins of the AWS parts, and the pipeline that joins them.
//!
//! - [`trigger`]: the local stand-in for Lambda's self-managed Kafka trigger;
//! - [`bucket`]: the lake's location, a directory or S3 (moto or AWS), and the sink's store
//!   on it;
//! - [`catalog`]: the local crawler (Glue's twin) and the catalog it writes;
//! - [`engine`]: DataFusion over the catalog's tables (Athena's twin), and [`cte`], which
//!   has it compute a CTE read twice only once;
//! - [`suite`]: the insight suite on that engine, into a report;
//! - [`pipeline`]: the stages as functions, and the demo that runs them all.
#![deny(missing_docs)]

pub mod bucket;
pub mod catalog;
pub mod cte;
pub mod engine;
pub mod frames;
pub mod pipeline;
pub mod suite;
pub mod trigger;
pub mod windows;
