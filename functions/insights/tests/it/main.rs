//! The insights function's integration tests, one test binary with a module per subject:
//! [`athena_mock`] (canned Athena answers), [`athena_moto`] (Athena, S3 and SNS on moto,
//! `.ci/test`) and [`bootstrap`] (the binary outside Lambda, and its settings checked at
//! start).

mod athena_mock;
mod athena_moto;
mod bootstrap;
