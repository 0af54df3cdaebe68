//! The crawler's integration tests, one test binary with a module per subject:
//! [`glue_mock`] (canned Glue answers), [`glue_moto`] (Glue's API on moto, `.ci/test`) and
//! [`bootstrap`] (the binary outside Lambda, and its settings checked at start).

mod bootstrap;
mod glue_mock;
mod glue_moto;
