//! The replay function: a CSV dropped into S3 streams into Kafka through the producer's own
//! pipeline (parsing, validation, message format, rejects, checkpoints), with `source` =
//! the object's `s3://` URI.
//!
//! Modules: [`config`] (settings from the environment), [`event`] (the S3 notification and
//! the continuation event, with URL-decoded keys), [`spool`] (the object streamed to local
//! disk in fixed-size chunks, never whole in memory), [`replay`] (one object: checkpoint in,
//! produce until done or out of time, checkpoint, rejects and, if unfinished, a continuation
//! out); [`lock`] (one invocation at a time per object version, and never twice);
//! [`secrets`] (the Kafka credentials and CA from Secrets Manager, read at cold start);
//! [`handler`] (one invocation: every object of the event within its time).
#![deny(missing_docs)]

pub mod config;
pub mod event;
pub mod handler;
pub mod lock;
pub mod replay;
pub mod secrets;
pub mod spool;
