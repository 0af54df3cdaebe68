//! The `summary` command: what a topic holds, read back from Kafka.
//!
//! Used by the main job to show the result, and by tests as an independent check of
//! exactly-once delivery: each symbol lives in one partition, and rows of one source are sent
//! in line order, so within a partition the lines of each (source, symbol) must strictly
//! increase. A duplicate or a reordering breaks that and is counted, in constant memory per
//! symbol.

use crate::config::KafkaConfig;
use crate::kafka::{self, TopicError};
use rdkafka::Message;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use stockstream_core::message::{decode_message, provenance};

/// Per-symbol figures.
#[derive(Debug, Default, Serialize)]
pub struct SymbolSummary {
    /// Messages.
    pub messages: u64,
    /// Earliest trading day.
    pub first_date: Option<String>,
    /// Latest trading day.
    pub last_date: Option<String>,
    /// Partitions the symbol was found in (one, unless keys were mixed up).
    pub partitions: Vec<i32>,
}

/// What the topic holds.
#[derive(Debug, Default, Serialize)]
pub struct TopicSummary {
    /// Topic name.
    pub topic: String,
    /// Messages read.
    pub messages: u64,
    /// Messages per partition.
    pub partitions: BTreeMap<i32, u64>,
    /// Messages per source.
    pub sources: BTreeMap<String, u64>,
    /// Figures per symbol.
    pub symbols: BTreeMap<String, SymbolSummary>,
    /// Values that did not decode as bars (v1 or v2).
    pub decode_errors: u64,
    /// Messages whose key is not the symbol in the value.
    pub key_mismatches: u64,
    /// Messages without provenance: a v1 value without `source`/`line` headers.
    pub missing_provenance: u64,
    /// Lines that did not strictly increase per (source, symbol): duplicates or reordering.
    pub order_violations: u64,
    /// The first violation, described.
    pub first_violation: Option<String>,
}

/// Reads the whole topic (up to its end at the start of the call) and summarises it; gives
/// up when the end is not reached within `timeout`.
pub fn summarise(config: &KafkaConfig, timeout: Duration) -> Result<TopicSummary, TopicError> {
    let cfg = kafka::reader_config(config);
    let mut s = TopicSummary {
        topic: config.topic.clone(),
        ..Default::default()
    };
    let mut last_line: BTreeMap<(String, String), u64> = BTreeMap::new();
    kafka::read_range(&cfg, &config.topic, &BTreeMap::new(), timeout, |m| {
        s.messages += 1;
        *s.partitions.entry(m.partition()).or_default() += 1;
        let (bar, in_value) = match m.payload().map(decode_message) {
            Some(Ok(b)) => b,
            _ => {
                s.decode_errors += 1;
                return;
            }
        };
        if m.key() != Some(bar.symbol.as_bytes()) {
            s.key_mismatches += 1;
        }
        let date = bar.date.to_string();
        let sym = s.symbols.entry(bar.symbol.clone()).or_default();
        sym.messages += 1;
        if sym.first_date.as_ref().is_none_or(|d| &date < d) {
            sym.first_date = Some(date.clone());
        }
        if sym.last_date.as_ref().is_none_or(|d| &date > d) {
            sym.last_date = Some(date);
        }
        if !sym.partitions.contains(&m.partition()) {
            sym.partitions.push(m.partition());
        }
        let Some(p) = in_value.or_else(|| provenance(kafka::headers(m))) else {
            s.missing_provenance += 1;
            return;
        };
        *s.sources.entry(p.source.clone()).or_default() += 1;
        let key = (p.source, bar.symbol);
        if let Some(&prev) = last_line.get(&key) {
            if p.line <= prev {
                s.order_violations += 1;
                if s.first_violation.is_none() {
                    s.first_violation = Some(format!(
                        "{} line {} ({}) at partition {} offset {} came after line {prev}",
                        key.0,
                        p.line,
                        key.1,
                        m.partition(),
                        m.offset()
                    ));
                }
            }
        }
        last_line.insert(key, p.line);
    })?;
    Ok(s)
}

impl TopicSummary {
    /// Prints the summary as text.
    pub fn print(&self) {
        println!("topic {}: {} messages", self.topic, self.messages);
        let parts: Vec<String> = self
            .partitions
            .iter()
            .map(|(p, n)| format!("{p}:{n}"))
            .collect();
        println!("  partitions  {}", parts.join(" "));
        for (src, n) in &self.sources {
            println!("  source      {src}: {n} messages");
        }
        println!("  symbols     {}", self.symbols.len());
        for (sym, v) in self.symbols.iter().take(20) {
            println!(
                "    {sym:<12} {:>9} bars  {} .. {}  partition {:?}",
                v.messages,
                v.first_date.as_deref().unwrap_or("-"),
                v.last_date.as_deref().unwrap_or("-"),
                v.partitions
            );
        }
        if self.symbols.len() > 20 {
            println!("    … and {} more", self.symbols.len() - 20);
        }
        println!(
            "  checks      decode_errors={} key_mismatches={} missing_provenance={} order_violations={}",
            self.decode_errors, self.key_mismatches, self.missing_provenance, self.order_violations
        );
        if let Some(v) = &self.first_violation {
            println!("  first violation: {v}");
        }
    }
}
