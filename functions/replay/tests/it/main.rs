//! The replay function's integration tests, one test binary with a module per subject:
//! [`replay_moto`] (drops on moto S3 streamed into Apache Kafka, `.ci/test`) and
//! [`bootstrap`] (the binary outside Lambda, and its settings checked at start).

mod bootstrap;
mod replay_moto;
