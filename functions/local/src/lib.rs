//! StockStream on one machine: the twins of the AWS parts that are not Kafka or S3.
//!
//! - [`catalog`]: the local crawler (Glue's twin) and the catalog it writes;
//! - [`engine`]: DataFusion over the catalog's tables (Athena's twin);
//! - [`suite`]: the insight suite on that engine, into a report.
#![deny(missing_docs)]

pub mod catalog;
pub mod engine;
pub mod suite;
