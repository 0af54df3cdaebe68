//! The core's integration tests, one test binary with a module per subject:
//!
//! - [`csv_variations`]: CSV reading against fixture files shaped like real exports;
//! - [`kafka_events`]: the public sample Kafka trigger events, parsed;
//! - [`report_render`]: the report's JSON, CSV and HTML from a realistic sample;
//! - [`report_screenshot`]: that HTML as headless Chromium draws it (`.ci/test`).

mod csv_variations;
mod kafka_events;
mod report_render;
mod report_screenshot;
