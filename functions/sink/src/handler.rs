//! One invocation: a Kafka trigger event in, every record stored or quarantined, a summary
//! out. The Lambda `main` (`src/main.rs`) and the local trigger both call [`handle`].
//!
//! Partitions are committed one after another. If one fails, the invocation fails and
//! Lambda retries the whole event; partitions committed before the failure then find their
//! records already stored and skip them, so the retry is safe.

use crate::commit::{CommitError, CommitOptions, Outcome, Regressions, Sink, Stamped};
use crate::encode::Encoder;
use crate::layout::Layout;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use stockstream_core::ingest::ingest_view;
use stockstream_core::kafka_event::{KafkaEvent, RecordView};
use stockstream_core::symbols::Symbols;
use stockstream_store::Store;

/// Settings of the sink, validated once at start-up.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// Key prefix of the bars table (`lake/bars`).
    pub prefix: String,
    /// Partition folders.
    pub layout: Layout,
    /// When set, bars of other symbols are quarantined.
    pub known_symbols: Option<Arc<Symbols>>,
    /// The state namespace: `None` keys state and objects by topic and partition (as
    /// always); a name starts a new exactly-once state for a re-created topic or a new
    /// cluster, keyed `{name}~{topic}-{partition}`, whose offsets may restart at 0.
    pub state_namespace: Option<String>,
    /// What to do with offsets that went backwards (see [`Regressions`]).
    pub regressions: Regressions,
}

/// Why a state namespace name is refused: it becomes part of object names.
pub fn check_namespace(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(format!(
            "{name:?} is not a state namespace: use 1 to 64 letters, digits, '.', '_' or '-'"
        ));
    }
    Ok(())
}

impl SinkConfig {
    /// The name that keys a topic's state and objects: the topic, or `{namespace}~{topic}`.
    pub fn stream_name(&self, topic: &str) -> String {
        match &self.state_namespace {
            Some(ns) => format!("{ns}~{topic}"),
            None => topic.to_string(),
        }
    }
}

/// What one invocation did, logged as one JSON line and sent as metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Records in the event.
    pub records_in: u64,
    /// Valid rows newly stored.
    pub rows_written: u64,
    /// Records newly quarantined.
    pub quarantined: u64,
    /// Records stored by an earlier delivery (retries, redeliveries).
    pub already_stored: u64,
    /// Objects written.
    pub objects_written: u64,
    /// Objects adopted from an interrupted attempt.
    pub objects_adopted: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Quarantined records by reason code.
    pub quarantine_reasons: BTreeMap<String, u64>,
    /// Topic-partitions in the event.
    pub partitions: u64,
    /// Gaps opened: a batch started above a partition's committed end, because Lambda gave
    /// up on the batch before it (it is in the failure destination, to be redriven).
    pub offset_gaps: u64,
    /// Records stored into a recorded gap (redriven).
    pub gap_records: u64,
}

impl Summary {
    /// Adds another invocation's counts (the local trigger's running total); `partitions`
    /// keeps the largest.
    pub fn merge(&mut self, other: &Summary) {
        self.records_in += other.records_in;
        self.rows_written += other.rows_written;
        self.quarantined += other.quarantined;
        self.already_stored += other.already_stored;
        self.objects_written += other.objects_written;
        self.objects_adopted += other.objects_adopted;
        self.bytes_written += other.bytes_written;
        self.offset_gaps += other.offset_gaps;
        self.gap_records += other.gap_records;
        for (code, n) in &other.quarantine_reasons {
            *self.quarantine_reasons.entry(code.clone()).or_default() += n;
        }
        self.partitions = self.partitions.max(other.partitions);
    }

    fn add(&mut self, o: &Outcome) {
        self.rows_written += o.rows;
        self.quarantined += o.quarantined;
        self.already_stored += o.already_stored;
        self.objects_written += o.objects_written;
        self.objects_adopted += o.objects_adopted;
        self.bytes_written += o.bytes_written;
        self.offset_gaps += o.gaps_opened;
        self.gap_records += o.gap_records;
        for (code, n) in &o.quarantine_reasons {
            *self.quarantine_reasons.entry(code.clone()).or_default() += n;
        }
    }
}

/// Stores every record of `event`.
pub async fn handle<S: Store, E: Encoder>(
    event: &KafkaEvent,
    store: &S,
    encoder: &E,
    config: &SinkConfig,
) -> Result<Summary, CommitError> {
    handle_records(event.records().map(|r| r.view()), store, encoder, config).await
}

async fn handle_records<'a, S: Store, E: Encoder>(
    records: impl Iterator<Item = RecordView<'a>>,
    store: &S,
    encoder: &E,
    config: &SinkConfig,
) -> Result<Summary, CommitError> {
    let sink = Sink {
        store,
        encoder,
        layout: config.layout,
        prefix: config.prefix.clone(),
    };
    // Group by the records' own topic and partition (the map key is only a label).
    let mut by_partition: BTreeMap<(&str, i32), Vec<Stamped>> = BTreeMap::new();
    let mut summary = Summary::default();
    // One buffer for every record's decoded value.
    let mut value = Vec::new();
    for r in records {
        summary.records_in += 1;
        let entry = ingest_view(r, config.known_symbols.as_deref(), &mut value);
        by_partition
            .entry((r.topic, r.partition))
            .or_default()
            .push((entry, Some(r.timestamp)));
    }
    summary.partitions = by_partition.len() as u64;
    let options = CommitOptions {
        regressions: config.regressions,
    };
    for ((topic, partition), entries) in by_partition {
        let name = config.stream_name(topic);
        let outcome = sink
            .commit_stamped(&name, partition, entries, options)
            .await?;
        summary.add(&outcome);
    }
    Ok(summary)
}
