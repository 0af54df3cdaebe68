//! The send loop: [`Run`] drives the sources one after another, sends what the reader stage
//! hands over (paced, polling the producer so delivery reports keep flowing), records
//! checkpoints as rows are acknowledged, and drains what is in flight before it returns.
//!
//! One thread sends and polls, so delivery reports are handled between rows and while it
//! waits (for pacing or a full queue): there is no locking on the hot path beyond an
//! uncontended mutex. A resumed source first scans the topic for rows the interrupted run had
//! already delivered, so nothing is sent twice.

use super::batch::RowBatch;
use super::input::{open_reader, Source};
use super::native::Native;
use super::outcome::Summary;
use super::read_stage::{read_stage, snapshot, Stage};
use super::rejects;
use crate::checkpoint::{Checkpoint, SourceState};
use crate::config::ProduceConfig;
use crate::error::{Error, ErrorKind};
use crate::kafka::{self, Context};
use crate::pacing::Pacer;
use crate::progress::{Counts, Progress};
use crate::tracker::{Snapshot, Tracker};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::Message as _;
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::{Duration, Instant};
use stockstream_core::message;
use stockstream_core::reject::RejectWriter;

/// Stages in the channel from the reader to the sender.
const STAGES: usize = 8;
/// Empty batches waiting for the reader: at least every batch that can exist at once (those
/// in the stage channel, one being filled, one being sent).
const POOL: usize = STAGES + 4;

/// The producer, with delivery reports going to its [`Tracker`].
pub(crate) type Kafka = BaseProducer<Context>;

/// One `produce` run in progress.
pub(crate) struct Run<'a> {
    /// The settings.
    pub(crate) config: &'a ProduceConfig,
    /// The producer.
    pub(crate) producer: &'a Kafka,
    /// Set by SIGINT/SIGTERM (or the replay function's timer): stop after flushing.
    pub(crate) stop: &'a AtomicBool,
    /// When the next row may go.
    pub(crate) pacer: Pacer,
    /// The checkpoint, with `--checkpoint`.
    pub(crate) checkpoint: Option<&'a mut Checkpoint>,
    /// Taken by the reader stage while a file is read.
    pub(crate) rejects: Option<RejectWriter<File>>,
    /// What the run did so far.
    pub(crate) summary: &'a mut Summary,
}

impl Run<'_> {
    /// Sends every source in order (again and again with `--loop`) until done or stopped.
    pub(crate) fn all(
        &mut self,
        srcs: &[Source],
        start_marks: &BTreeMap<i32, i64>,
    ) -> Result<(), Error> {
        loop {
            for src in srcs {
                let outcome = self.one(src, start_marks);
                // Whatever happened, wait for what was sent and record it.
                let reached_end = matches!(outcome, Ok(true));
                let flushed = self.drain(src, reached_end);
                outcome?;
                flushed?;
                if self.summary.interrupted || self.summary.aborted.is_some() {
                    return Ok(());
                }
            }
            if !self.config.repeat {
                return Ok(());
            }
            self.pacer.restart();
        }
    }

    fn tracker(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.producer
            .context()
            .tracker
            .lock()
            .expect("tracker lock")
    }

    fn save_checkpoint(
        &mut self,
        src: &Source,
        snap: Snapshot,
        complete: bool,
    ) -> Result<(), Error> {
        let (Some(c), Some(path)) = (
            self.checkpoint.as_deref_mut(),
            self.config.checkpoint.as_deref(),
        ) else {
            return Ok(());
        };
        c.sources.insert(
            src.name.clone(),
            SourceState {
                file_len: src.len,
                complete,
                snapshot: snap,
            },
        );
        Ok(c.save(path)?)
    }

    /// Rows of `src` after the checkpoint that an interrupted run had already delivered.
    fn already_delivered(&self, src: &Source, snap: &Snapshot) -> Result<HashSet<u64>, Error> {
        let mut found = HashSet::new();
        let cfg = kafka::reader_config(&self.config.kafka);
        kafka::read_range(
            &cfg,
            &self.config.kafka.topic,
            &snap.scan_from,
            Duration::from_secs(120),
            |m| {
                if let Some(p) = message::message_provenance(m.payload(), kafka::headers(m)) {
                    if p.source == src.name && p.line > snap.lines_before {
                        found.insert(p.line);
                    }
                }
            },
        )
        .map_err(|cause| ErrorKind::ResumeScan {
            source_name: src.name.clone(),
            cause,
        })?;
        Ok(found)
    }

    /// Sends one source; true when it was read to its end.
    fn one(&mut self, src: &Source, start_marks: &BTreeMap<i32, i64>) -> Result<bool, Error> {
        let state = self
            .checkpoint
            .as_ref()
            .and_then(|c| c.sources.get(&src.name))
            .cloned();
        if let Some(s) = &state {
            if s.file_len != src.len {
                return Err(ErrorKind::InputChanged {
                    path: src.path.clone(),
                    then: s.file_len,
                    now: src.len,
                }
                .into());
            }
            if s.complete {
                eprintln!(
                    "{}: already delivered completely (checkpoint); skipping",
                    src.name
                );
                self.summary.files += 1;
                self.summary.add_read(&src.name, &s.snapshot.stats);
                self.summary.already_in_topic += s.snapshot.stats.accepted;
                return Ok(false);
            }
        }
        let resume = state.as_ref().map(|s| &s.snapshot);
        let skip = match resume {
            Some(snap) => self.already_delivered(src, snap)?,
            None => HashSet::new(),
        };
        if let Some(snap) = resume {
            // Rejects written after the checkpoint will be written again: drop them.
            self.rejects = Some(rejects::resume_at(
                &self.config.input.rejects,
                snap.rejects_len,
            )?);
            eprintln!(
                "{}: resuming after line {} ({} rows already in the topic after that point)",
                src.name,
                snap.lines_before,
                skip.len()
            );
        }
        let base = resume
            .map(|s| s.scan_from.clone())
            .unwrap_or_else(|| start_marks.clone());
        *self.tracker() = Tracker::new(base);
        let mut reader = open_reader(src, resume)?;
        let before = resume.map(|s| s.stats.accepted).unwrap_or(0);
        self.summary.already_in_topic += before;
        let first = snapshot(
            &reader,
            self.rejects.as_ref().expect("rejects writer between files"),
        );
        self.save_checkpoint(src, first.clone(), false)?;
        self.tracker().snapshot(first);
        let mut rejects = self.rejects.take().expect("rejects writer between files");

        // Two stages: a reader thread parses, validates, encodes and writes rejects; this
        // thread paces and sends. The channel keeps their order, so a snapshot the reader
        // emits after a batch follows that batch here too.
        let (tx, rx) = mpsc::sync_channel::<Stage>(STAGES);
        // Emptied batches go back to the reader through a bounded channel: its slots are
        // allocated once, where an unbounded one allocates a block every few dozen sends.
        // More batches than the two channels hold never exist, so the pool never fills.
        let (pool_tx, pool_rx) = mpsc::sync_channel::<RowBatch>(POOL);
        let (read, sent) = std::thread::scope(|scope| {
            let reader = &mut reader;
            let skip = &skip;
            let rejects = &mut rejects;
            let handle =
                scope.spawn(move || read_stage(&src.name, reader, rejects, skip, tx, pool_rx));
            let sent = self.send_stage(src, rx, pool_tx);
            (handle.join().expect("reader thread panicked"), sent)
        });
        self.rejects = Some(rejects);
        self.summary.files += 1;
        self.summary.add_read(&src.name, reader.stats());
        let read = read?;
        self.summary.already_in_topic += read.skipped;
        sent?;
        Ok(read.reached_end && !self.summary.interrupted && self.summary.aborted.is_none())
    }

    /// Sends what the reader stage produces, in order, until it ends or the run stops.
    fn send_stage(
        &mut self,
        src: &Source,
        rx: Receiver<Stage>,
        pool: SyncSender<RowBatch>,
    ) -> Result<(), Error> {
        let start = self.tracker().delivered;
        let mut progress = Progress::new(self.config.input.progress, &src.name, src.len, 0);
        let native = Native::new(self.producer, &self.config.kafka.topic)
            .map_err(|cause| ErrorKind::CreateProducer { cause })?;
        let paced = !self.pacer.unlimited();
        let mut line_text = LineNumber::default();
        let mut last_commit = Instant::now();
        let mut n = 0u64;
        for stage in rx {
            if self.stop.load(Ordering::Relaxed) {
                self.summary.interrupted = true;
            }
            if self.summary.interrupted || self.summary.aborted.is_some() {
                break;
            }
            let batch = match stage {
                Stage::Snapshot(snap) => {
                    let counts = Counts {
                        rows: snap.stats.rows,
                        rejected: snap.stats.rejected,
                        delivered: self.tracker().delivered - start,
                        bytes: snap.offset,
                    };
                    self.tracker().snapshot(snap);
                    if last_commit.elapsed() >= Duration::from_millis(500) {
                        last_commit = Instant::now();
                        self.commit(src, false)?;
                        progress.update(counts);
                    }
                    continue;
                }
                Stage::Rows(b) => b,
            };
            for i in 0..batch.len() {
                let (line, ts, key, value, needs_headers) = batch.get(i);
                if paced {
                    if let Some(at) = self.pacer.deadline(ts, Instant::now()) {
                        // Interrupted while waiting: this row was read, and a checkpoint may
                        // already count it, so it is sent now and the loop stops after it.
                        if !self.wait_until(&native, at) {
                            self.summary.interrupted = true;
                        }
                    }
                }
                // A v2 value carries its provenance; only a v1 fallback needs headers.
                let headers: &[(&str, &[u8])] = if needs_headers {
                    &[
                        (message::HEADER_SOURCE, src.name.as_bytes()),
                        (message::HEADER_LINE, line_text.format(line)),
                    ]
                } else {
                    &[]
                };
                self.tracker().sent(line);
                loop {
                    match native.produce(key, value, headers, line) {
                        Ok(()) => break,
                        Err(RDKafkaErrorCode::QueueFull) => {
                            // Wait for a delivery report to make room, not longer.
                            native.poll(Duration::from_millis(10));
                        }
                        Err(code) => {
                            // A fatal producer error (e.g. authorization): stop, and count
                            // the row as failed; what was read is reported, not lost.
                            let e = KafkaError::MessageProduction(code);
                            let why =
                                format!("{} line {line}: Kafka refused the row: {e}", src.name);
                            self.tracker().failed(line, e.to_string());
                            self.summary.aborted = Some(why);
                            break;
                        }
                    }
                }
                n += 1;
                if n.is_multiple_of(1024) {
                    native.poll(Duration::ZERO);
                }
                if self.summary.interrupted || self.summary.aborted.is_some() {
                    break;
                }
            }
            let _ = pool.try_send(batch);
        }
        native.poll(Duration::ZERO);
        progress.finish();
        Ok(())
    }

    /// Polls (serving delivery reports) until `at`; false if interrupted meanwhile.
    fn wait_until(&self, native: &Native<'_>, at: Instant) -> bool {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return false;
            }
            let now = Instant::now();
            if now >= at {
                return true;
            }
            native.poll((at - now).min(Duration::from_millis(100)));
        }
    }

    fn commit(&mut self, src: &Source, complete: bool) -> Result<(), Error> {
        let ready = self.tracker().take_committable();
        match ready {
            Some(snap) => self.save_checkpoint(src, snap, complete),
            None => Ok(()),
        }
    }

    /// Waits for every row in flight, then records the final checkpoint and counts.
    fn drain(&mut self, src: &Source, reached_end: bool) -> Result<(), Error> {
        let timeout = Duration::from_millis(self.config.delivery_timeout_ms as u64 + 5_000);
        let flushed = self.producer.flush(timeout);
        let (in_flight, failed) = {
            let t = self.tracker();
            (t.in_flight(), t.failed)
        };
        let complete = reached_end && in_flight == 0 && failed == 0;
        self.commit(src, complete)?;
        {
            let producer = self.producer;
            let mut t = producer.context().tracker.lock().expect("tracker lock");
            self.summary.delivered += t.delivered;
            self.summary.failed += t.failed + t.in_flight() as u64;
            for (k, v) in std::mem::take(&mut t.failures) {
                *self.summary.failures.entry(k).or_default() += v;
            }
            for (k, v) in std::mem::take(&mut t.per_partition) {
                *self.summary.per_partition.entry(k).or_default() += v;
            }
            *t = Tracker::default();
        }
        flushed.map_err(|cause| {
            ErrorKind::Unacknowledged {
                source_name: src.name.clone(),
                in_flight,
                timeout,
                cause,
            }
            .into()
        })
    }
}

/// A line number's decimal digits, written without allocating (the `line` header of a v1
/// row).
#[derive(Default)]
struct LineNumber([u8; 20]);

impl LineNumber {
    fn format(&mut self, mut n: u64) -> &[u8] {
        let mut at = self.0.len();
        loop {
            at -= 1;
            self.0[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                return &self.0[at..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LineNumber;

    #[test]
    fn line_numbers_are_decimal() {
        let mut l = LineNumber::default();
        for n in [0, 1, 9, 10, 42, 1_000_000, u64::MAX] {
            assert_eq!(l.format(n), n.to_string().as_bytes());
        }
    }
}
