//! The local stand-in for Lambda's self-managed Kafka trigger (the event source mapping).
//!
//! It does what the real trigger does, so the sink handler meets the same conditions here as
//! on AWS:
//! - joins a consumer group and starts where the group left off (from the earliest record the
//!   first time, `StartingPosition: TRIM_HORIZON`);
//! - cuts batches by record count, by payload size (Lambda's 6 MB cap) and by a batching
//!   window that starts with the batch's first record;
//! - wraps each batch in the same `SelfManagedKafka` event (records keyed `topic-partition`,
//!   base64 key and value, headers as byte lists) and invokes the handler;
//! - when the handler fails, retries the whole batch with backoff and commits nothing; only
//!   after success are the batch's offsets committed, so a crash or a stop redelivers the
//!   uncommitted records (at least once; the sink makes the writes exactly once).
//!
//! Unlike Lambda it stops by itself when asked to ([`Until`]): by default once every partition
//! is read up to the high watermark it had (the end of the replicated log, exact on Kafka);
//! following a live topic, once caught up and quiet for a while, or never.

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{BorrowedMessage, Headers as _};
use rdkafka::{Message, Offset, Timestamp, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use stockstream_core::kafka_event::{KafkaEvent, KafkaRecord, CREATE_TIME, LOG_APPEND_TIME};
use stockstream_sink::handler::Summary;

/// Lambda's cap on an invocation payload.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// When the trigger stops by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Once every partition is read to its high watermark: a drain of what the topic holds.
    CaughtUp,
    /// Following a live topic: once caught up and nothing arrived for this long.
    Quiet(Duration),
    /// Never (a long-running trigger, like Lambda's); only the `stop` flag ends it.
    Stopped,
}

/// How the trigger reads and batches.
#[derive(Debug, Clone)]
pub struct TriggerConfig {
    /// Bootstrap servers.
    pub brokers: String,
    /// The one topic (a Lambda mapping has exactly one).
    pub topic: String,
    /// Consumer group (`ConsumerGroupId`).
    pub group_id: String,
    /// Most records per invocation (`BatchSize`).
    pub batch_size: usize,
    /// Most payload bytes per invocation (the event's JSON, approximately).
    pub max_payload_bytes: usize,
    /// How long a batch may wait for more records (`MaximumBatchingWindowInSeconds`).
    pub window: Duration,
    /// Attempts per batch before the trigger gives up and stops (records stay uncommitted).
    pub max_attempts: u32,
    /// First retry delay; doubled per attempt, capped at 5 s.
    pub retry_delay: Duration,
    /// When to stop by itself.
    pub until: Until,
    /// Extra client settings (security, SASL), as `librdkafka` names them.
    pub client: Vec<(String, String)>,
}

impl TriggerConfig {
    /// Lambda's defaults for a self-managed Kafka mapping where it has them, a batch size
    /// that suits the sink (fewer, larger objects), and a stop once the topic is drained.
    pub fn new(brokers: &str, topic: &str) -> Self {
        TriggerConfig {
            brokers: brokers.to_string(),
            topic: topic.to_string(),
            group_id: "stockstream-sink".to_string(),
            batch_size: 1000,
            max_payload_bytes: MAX_PAYLOAD_BYTES,
            window: Duration::from_millis(500),
            max_attempts: 5,
            retry_delay: Duration::from_millis(200),
            until: Until::CaughtUp,
            client: vec![],
        }
    }
}

/// What the trigger did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TriggerStats {
    /// Batches delivered successfully.
    pub batches: u64,
    /// Records in those batches.
    pub records: u64,
    /// Handler invocations, retries included.
    pub invocations: u64,
    /// Invocations that failed (and were retried).
    pub failed_invocations: u64,
    /// The sink's summaries, added up.
    pub sink: Summary,
    /// Next offset per partition after the last committed batch.
    pub committed: BTreeMap<i32, i64>,
}

/// Why the trigger stopped early.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// The broker or the topic is not usable.
    #[error("{0}")]
    Kafka(String),
    /// A batch failed every attempt; its records are not committed and will be redelivered.
    #[error("batch of {records} records ({range}) failed {attempts} times, last: {last}; nothing of it was committed, a re-run redelivers it")]
    BatchFailed {
        /// Records in the batch.
        records: usize,
        /// Partitions and offsets, e.g. `p0:100-199 p2:40-80`.
        range: String,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: String,
        /// What was done before.
        stats: Box<TriggerStats>,
    },
}

fn kafka_err(what: &str) -> impl FnOnce(rdkafka::error::KafkaError) -> TriggerError + '_ {
    move |e| TriggerError::Kafka(format!("{what}: {e}"))
}

/// The consumer's settings: a group member that commits by hand after each batch.
pub fn consumer_config(c: &TriggerConfig) -> ClientConfig {
    let mut cc = ClientConfig::new();
    cc.set("bootstrap.servers", &c.brokers)
        .set("group.id", &c.group_id)
        .set("client.id", "stockstream-local-trigger")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("allow.auto.create.topics", "false")
        .set("enable.partition.eof", "false")
        // A trigger that crashed holds its partitions until its session times out; 10 s
        // (not the client's 45 s) lets a restarted one take them over promptly.
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000");
    for (k, v) in &c.client {
        cc.set(k, v);
    }
    cc
}

/// Converts a consumed message to an event record, as Lambda encodes it.
pub fn record_of(m: &BorrowedMessage<'_>) -> KafkaRecord {
    let headers = m
        .headers()
        .map(|h| {
            h.iter()
                .map(|h| (h.key.to_string(), h.value.unwrap_or_default().to_vec()))
                .collect()
        })
        .unwrap_or_default();
    let (timestamp, kind) = match m.timestamp() {
        Timestamp::CreateTime(t) => (t, CREATE_TIME),
        Timestamp::LogAppendTime(t) => (t, LOG_APPEND_TIME),
        Timestamp::NotAvailable => (0, "NO_TIMESTAMP_TYPE"),
    };
    let mut r = KafkaRecord::new(
        m.topic(),
        m.partition(),
        m.offset(),
        timestamp,
        m.key(),
        m.payload(),
        headers,
    );
    r.timestamp_type = kind.into();
    r
}

/// Approximate size of a record in the event's JSON: base64 grows bytes by 4/3, headers are
/// lists of decimal bytes (up to 4 characters each), plus the fixed fields.
fn json_size(r: &KafkaRecord) -> usize {
    let headers: usize = r
        .headers
        .pairs()
        .map(|(k, v)| k.len() + 8 + v.len() * 4)
        .sum();
    160 + r.topic.len()
        + r.key.as_ref().map_or(0, String::len)
        + r.value.as_ref().map_or(0, String::len)
        + headers
}

/// A batch being filled.
#[derive(Default)]
struct Batch {
    records: Vec<KafkaRecord>,
    bytes: usize,
    started: Option<Instant>,
}

impl Batch {
    fn range(&self) -> String {
        let mut by_part: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
        for r in &self.records {
            let e = by_part.entry(r.partition).or_insert((r.offset, r.offset));
            e.0 = e.0.min(r.offset);
            e.1 = e.1.max(r.offset);
        }
        by_part
            .iter()
            .map(|(p, (a, b))| format!("p{p}:{a}-{b}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Runs the trigger until [`Until`] says (or `stop` is set, or a batch fails for good).
///
/// `invoke` is the function: it gets the event and the attempt number (1 first) and returns
/// the sink's summary or an error message. `progress` is told after every batch.
pub fn run(
    config: &TriggerConfig,
    stop: &AtomicBool,
    mut invoke: impl FnMut(&KafkaEvent, u32) -> Result<Summary, String>,
    mut progress: impl FnMut(&TriggerStats),
) -> Result<TriggerStats, TriggerError> {
    let consumer: BaseConsumer = consumer_config(config)
        .create()
        .map_err(kafka_err("creating the consumer"))?;
    let timeout = Duration::from_secs(10);
    let md = consumer
        .fetch_metadata(Some(&config.topic), timeout)
        .map_err(|e| {
            TriggerError::Kafka(format!(
                "cannot reach the brokers {} to describe topic {:?}: {e}",
                config.brokers, config.topic
            ))
        })?;
    let partitions: Vec<i32> = md
        .topics()
        .iter()
        .filter(|t| t.name() == config.topic && t.error().is_none())
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        return Err(TriggerError::Kafka(format!(
            "topic {:?} does not exist on {} (topics are not auto-created; create it first)",
            config.topic, config.brokers
        )));
    }
    consumer
        .subscribe(&[&config.topic])
        .map_err(kafka_err("subscribing"))?;

    let bootstrap = config.brokers.clone();
    let mut stats = TriggerStats::default();
    let mut batch = Batch::default();
    // Next offset to read per partition, as far as this run knows.
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    let mut last_message = Instant::now();
    let mut last_caught_up_check = Instant::now() - Duration::from_secs(60);
    // When the caught-up check first failed, of the failures in a row.
    let mut failing_since: Option<Instant> = None;
    let started = Instant::now();
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        let wait = match batch.started {
            Some(t) => config.window.saturating_sub(t.elapsed()),
            None => Duration::from_millis(100),
        };
        let mut full = false;
        if !stopping {
            match consumer.poll(wait.max(Duration::from_millis(1))) {
                Some(Ok(m)) => {
                    let r = record_of(&m);
                    drop(m);
                    last_message = Instant::now();
                    next.insert(r.partition, r.offset + 1);
                    let size = json_size(&r);
                    if !batch.records.is_empty() && batch.bytes + size > config.max_payload_bytes {
                        // This record starts the next batch: deliver the current one first.
                        deliver(
                            config,
                            &bootstrap,
                            &consumer,
                            &mut batch,
                            &mut stats,
                            &mut invoke,
                        )?;
                        progress(&stats);
                        last_message = Instant::now();
                    }
                    batch.started.get_or_insert_with(Instant::now);
                    batch.bytes += size;
                    batch.records.push(r);
                    full = batch.records.len() >= config.batch_size;
                }
                Some(Err(e)) => {
                    // Transient client errors (a broker restarting) are retried by librdkafka.
                    eprintln!("trigger: consumer: {e}");
                }
                None => {}
            }
        }
        let window_over = batch.started.is_some_and(|t| t.elapsed() >= config.window);
        if !batch.records.is_empty() && (full || window_over || stopping) {
            deliver(
                config,
                &bootstrap,
                &consumer,
                &mut batch,
                &mut stats,
                &mut invoke,
            )?;
            progress(&stats);
            // A quiet period counts from here: while the handler ran (and retried), the
            // consumer was not asked for records, so their absence says nothing yet.
            last_message = Instant::now();
        }
        if stopping {
            return Ok(stats);
        }
        let may_stop = match config.until {
            Until::CaughtUp => true,
            Until::Quiet(quiet) => last_message.elapsed() >= quiet,
            Until::Stopped => false,
        };
        if !may_stop || !batch.records.is_empty() {
            continue;
        }
        if last_caught_up_check.elapsed() < Duration::from_millis(200) {
            continue;
        }
        last_caught_up_check = Instant::now();
        match caught_up(&consumer, &config.topic, &partitions, &next) {
            Ok(true) => return Ok(stats),
            Ok(false) => failing_since = None,
            // A coordinator or leader moving (a broker restarting, the offsets topic being
            // created for a first group) answers with a retriable error: ask again next
            // round, and give up only when it lasts.
            Err(e) => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_secs(60) {
                    return Err(e);
                }
                if since.elapsed() < Duration::from_millis(250) {
                    eprintln!("trigger: {e}; asking again");
                }
            }
        }
        if started.elapsed() > Duration::from_secs(60)
            && consumer.assignment().map(|a| a.count()).unwrap_or(0) == 0
        {
            return Err(TriggerError::Kafka(format!(
                "no partition of {:?} was assigned to group {:?} within 60 s (is another consumer of the group running?)",
                config.topic, config.group_id
            )));
        }
    }
}

/// True when every partition has been read to its high watermark, counting partitions this
/// run read nothing from as caught up only if the group's committed offset is at the end.
fn caught_up(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: &[i32],
    next: &BTreeMap<i32, i64>,
) -> Result<bool, TriggerError> {
    let timeout = Duration::from_secs(5);
    let mut unknown = TopicPartitionList::new();
    for p in partitions {
        if !next.contains_key(p) {
            unknown.add_partition(topic, *p);
        }
    }
    let committed: BTreeMap<i32, i64> = if unknown.count() > 0 {
        consumer
            .committed_offsets(unknown, timeout)
            .map_err(kafka_err("reading the group's committed offsets"))?
            .elements()
            .iter()
            .map(|e| match e.offset() {
                Offset::Offset(o) => (e.partition(), o),
                _ => (e.partition(), -1),
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    let mut ends = vec![];
    for p in partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, *p, timeout)
            .map_err(kafka_err("reading the partitions' watermarks"))?;
        let at = match next.get(p) {
            Some(o) => *o,
            None => match committed.get(p) {
                Some(o) if *o >= 0 => *o,
                _ => low,
            },
        };
        if at < high {
            return Ok(false);
        }
        ends.push(format!("p{p}:{at}"));
    }
    eprintln!("trigger: caught up with {topic} ({})", ends.join(" "));
    Ok(true)
}

/// Invokes the handler with the batch until it succeeds (then commits) or attempts run out.
fn deliver(
    config: &TriggerConfig,
    bootstrap: &str,
    consumer: &BaseConsumer,
    batch: &mut Batch,
    stats: &mut TriggerStats,
    invoke: &mut impl FnMut(&KafkaEvent, u32) -> Result<Summary, String>,
) -> Result<(), TriggerError> {
    let done = std::mem::take(batch);
    let range = done.range();
    let n = done.records.len();
    let mut ends: BTreeMap<i32, i64> = BTreeMap::new();
    for r in &done.records {
        let e = ends.entry(r.partition).or_insert(r.offset + 1);
        *e = (*e).max(r.offset + 1);
    }
    let event = KafkaEvent::self_managed(bootstrap, done.records);
    let mut delay = config.retry_delay;
    let mut attempt = 0;
    let summary = loop {
        attempt += 1;
        stats.invocations += 1;
        match invoke(&event, attempt) {
            Ok(s) => break s,
            Err(e) => {
                stats.failed_invocations += 1;
                if attempt >= config.max_attempts.max(1) {
                    return Err(TriggerError::BatchFailed {
                        records: n,
                        range,
                        attempts: attempt,
                        last: e,
                        stats: Box::new(stats.clone()),
                    });
                }
                eprintln!(
                    "trigger: batch {range} failed (attempt {attempt}), retrying in {delay:?}: {e}"
                );
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    };
    let mut tpl = TopicPartitionList::new();
    for (p, o) in &ends {
        tpl.add_partition_offset(&config.topic, *p, Offset::Offset(*o))
            .map_err(kafka_err("building the commit"))?;
    }
    if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
        // The batch is stored; a redelivery after a failed commit is skipped by the sink.
        eprintln!("trigger: committing offsets failed ({e}); the batch may be redelivered");
    }
    stats.committed.extend(ends);
    stats.batches += 1;
    stats.records += n as u64;
    stats.sink.merge(&summary);
    Ok(())
}
