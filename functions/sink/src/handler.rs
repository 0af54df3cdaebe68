//! One invocation: a Kafka trigger event in, every record stored or quarantined, a summary
//! out. The Lambda `main` (to come) and the local trigger both call [`handle`].
//!
//! Partitions are committed one after another. If one fails, the invocation fails and
//! Lambda retries the whole event; partitions committed before the failure then find their
//! records already stored and skip them, so the retry is safe.

use crate::commit::{CommitError, Entry, Outcome, Sink};
use crate::encode::Encoder;
use crate::layout::Layout;
use crate::store::Store;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use stockstream_core::ingest::ingest;
use stockstream_core::kafka_event::KafkaEvent;
use stockstream_core::symbols::Symbols;

/// Settings of the sink, validated once at start-up.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// Key prefix of the bars table (`lake/bars`).
    pub prefix: String,
    /// Partition folders.
    pub layout: Layout,
    /// When set, bars of other symbols are quarantined.
    pub known_symbols: Option<Arc<Symbols>>,
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
    let sink = Sink {
        store,
        encoder,
        layout: config.layout,
        prefix: config.prefix.clone(),
    };
    // Group by the records' own topic and partition (the map key is only a label).
    let mut by_partition: BTreeMap<(&str, i32), Vec<Entry>> = BTreeMap::new();
    let mut summary = Summary::default();
    for r in event.records() {
        summary.records_in += 1;
        let entry = ingest(r, config.known_symbols.as_deref());
        by_partition
            .entry((r.topic.as_str(), r.partition))
            .or_default()
            .push(entry);
    }
    summary.partitions = by_partition.len() as u64;
    for ((topic, partition), entries) in by_partition {
        let outcome = sink.commit(topic, partition, entries).await?;
        summary.add(&outcome);
    }
    Ok(summary)
}
