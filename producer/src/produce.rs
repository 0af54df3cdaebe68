//! The `produce` and `validate` commands: read → validate → encode → send, with rejects,
//! pacing, progress, checkpoints and a summary.
//!
//! A run is a few stages, one private submodule each:
//! - `input`: every input resolved (header, symbol, day/month order) before anything is sent,
//!   and a reader over each, fresh or resumed at a checkpoint;
//! - `read_stage`: a thread that parses, validates and encodes rows into `batch`es of packed
//!   rows, writing rejected rows to the `rejects` file;
//! - `send`: the send loop, with pacing, checkpoints and the final drain;
//! - `native`: the send loop's per-row produce call and delivery reports, straight to
//!   librdkafka;
//! - `outcome`: the [`Summary`] of what the run did, and [`InputInfo`] per input.
//!
//! This module joins them: [`produce`] and [`validate`] check the config, resolve the inputs,
//! run the stages and turn the summary into an outcome. The errors are in [`crate::error`].

mod batch;
mod input;
mod native;
mod outcome;
mod read_stage;
mod rejects;
mod send;

pub use crate::error::RunError;
pub use outcome::{InputInfo, Summary};

use crate::checkpoint::Checkpoint;
use crate::config::{InputConfig, ProduceConfig};
use crate::error::{Error, ErrorKind};
use crate::kafka::{self, Context};
use crate::pacing::Pacer;
use crate::progress::{Counts, Progress};
use crate::tracker::Tracker;
use input::{open_reader, sources};
use rdkafka::producer::Producer;
use send::{Kafka, Run};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use stockstream_core::reader::Item;

/// `validate`: read and check, write rejects, send nothing.
pub fn validate(config: &InputConfig, stop: &AtomicBool) -> Result<Summary, RunError> {
    let start = Instant::now();
    config.check()?;
    let srcs = sources(config, None)?;
    let mut rejects = rejects::open(&config.rejects, false)?;
    let mut summary = Summary {
        rejects_file: config.rejects.clone(),
        inputs: srcs.iter().map(|s| s.info.clone()).collect(),
        ..Default::default()
    };
    for src in &srcs {
        let mut reader = open_reader(src, None)?;
        let mut progress = Progress::new(config.progress, &src.name, src.len, 0);
        let mut n = 0u64;
        while let Some(item) = reader.next_item().map_err(Error::from)? {
            if let Item::Rejected(r) = item {
                rejects
                    .write(&r)
                    .map_err(|cause| ErrorKind::WriteRejects { cause })?;
            }
            n += 1;
            if n.is_multiple_of(4096) {
                let s = reader.stats();
                progress.update(Counts {
                    rows: s.rows,
                    rejected: s.rejected,
                    delivered: 0,
                    bytes: reader.position(),
                });
                if stop.load(Ordering::Relaxed) {
                    summary.interrupted = true;
                    break;
                }
            }
        }
        progress.finish();
        summary.files += 1;
        summary.add_read(&src.name, reader.stats());
        if summary.interrupted {
            break;
        }
    }
    summary.seconds = start.elapsed().as_secs_f64();
    summary.print("validate");
    summary.write_json(config.summary_json.as_deref())?;
    if summary.interrupted {
        return Err(RunError::Interrupted);
    }
    summary.check_rejects_limit(config.max_rejects)?;
    Ok(summary)
}

/// `produce`: the full run. Always flushes what was sent and saves the checkpoint before
/// returning, whatever the outcome.
///
/// `config` is checked again ([`ProduceConfig::check`]), so a config built by hand is held to
/// the command line's rules.
pub fn produce(config: &ProduceConfig, stop: &AtomicBool) -> Result<Summary, RunError> {
    let start = Instant::now();
    config.check()?;
    let srcs = sources(&config.input, config.source_name.as_deref())?;
    let topic = config.kafka.topic.as_str();
    let rejects_path = &config.input.rejects;
    let mut checkpoint = match &config.checkpoint {
        Some(p) => Some(
            Checkpoint::load(p, topic, rejects_path)
                .map_err(Error::from)?
                .unwrap_or_else(|| Checkpoint::new(topic, rejects_path)),
        ),
        None => None,
    };
    let resuming = checkpoint.as_ref().is_some_and(|c| !c.sources.is_empty());
    let rejects = rejects::open(rejects_path, resuming)?;

    let producer: Kafka = kafka::producer_config(config)
        .create_with_context(Context {
            tracker: Mutex::new(Tracker::default()),
        })
        .map_err(|cause| ErrorKind::CreateProducer { cause })?;
    let timeout = Duration::from_secs(30);
    let start_marks: BTreeMap<i32, i64> = kafka::watermarks(producer.client(), topic, timeout)
        .map_err(Error::from)?
        .into_iter()
        .map(|(p, (_, high))| (p, high))
        .collect();

    let mut summary = Summary {
        rejects_file: rejects_path.clone(),
        inputs: srcs.iter().map(|s| s.info.clone()).collect(),
        ..Default::default()
    };
    let mut run = Run {
        config,
        producer: &producer,
        stop,
        pacer: Pacer::new(config.pacing),
        checkpoint: checkpoint.as_mut(),
        rejects: Some(rejects),
        summary: &mut summary,
    };
    let result = run.all(&srcs, &start_marks);
    summary.missing = summary.count_missing();
    summary.seconds = start.elapsed().as_secs_f64();
    summary.print("produce");
    summary.write_json(config.input.summary_json.as_deref())?;
    result?;
    if summary.interrupted {
        return Err(RunError::Interrupted);
    }
    if summary.failed > 0 || summary.missing > 0 || summary.aborted.is_some() {
        return Err(RunError::Undelivered {
            missing: summary.missing,
            why: summary.aborted.clone().unwrap_or_default(),
        });
    }
    summary.check_rejects_limit(config.input.max_rejects)?;
    Ok(summary)
}
