//! StockStream's functional core: everything between "bytes of a CSV file" and "bytes of a
//! Kafka message", with no network or cloud client in sight.
//!
//! The producer, the Lambda functions and the local runner all share these types, so a record
//! means the same thing everywhere it travels. Map of the modules, in pipeline order:
//!
//! - [`lines`]: streams a file as raw lines with line numbers and byte offsets (constant memory).
//! - [`layout`]: the header row, with the many column spellings of OHLCV exports mapped to one.
//! - [`date`]: the date and time formats found in real exports, with an explicit day/month order.
//! - [`date_order`]: a file's day/month order, decided once from its unambiguous dates.
//! - [`record`]: the typed bar ([`Bar`]) a row becomes.
//! - [`validate`]: the rules a bar must pass, and the warnings that are counted but not fatal.
//! - [`reader`]: joins the above into one iterator of accepted bars and rejected rows.
//! - [`reject`]: the rejects file (JSON lines with source, line, raw row and reason).
//! - [`message`]: the versioned Kafka message format (key, value, headers).
//! - [`kafka_event`]: the event a Lambda Kafka trigger delivers (and the local trigger builds).
//! - [`ingest`]: its records become lake rows with their provenance, or quarantined with why.
//! - [`insights`]: the insight SQL Athena, DataFusion and DuckDB run alike, and its parameters.
//! - [`report`]: what one run of the insights found, rendered as JSON, CSV and an HTML page.
//! - [`symbols`]: tickers (normal form, from a file name) and the known symbols (`indexInfo.csv`).
//! - [`generate`]: deterministic synthetic data in the seed layout, for tests and benchmarks.
#![deny(missing_docs)]

pub mod date;
pub mod date_order;
pub mod generate;
pub mod ingest;
pub mod insights;
pub mod kafka_event;
pub mod layout;
pub mod lines;
pub mod message;
pub mod reader;
pub mod record;
pub mod reject;
pub mod report;
pub mod symbols;
pub mod validate;

pub use record::Bar;
