//! Rows to object bytes, and back far enough to recover what an object holds.
//!
//! The commit protocol needs two things of an encoding: bytes for a group of rows, and the
//! highest Kafka offset inside an existing object (to adopt an object an interrupted attempt
//! wrote). [`JsonLines`] is the first encoding (and the quarantine's); the Parquet encoder
//! comes next behind the same trait.

use serde::{Deserialize, Serialize};
use stockstream_core::ingest::{LakeRow, Quarantined};
use stockstream_core::message::{decode_value, encode_value};

/// An object format for lake rows.
pub trait Encoder {
    /// File extension of the objects (`parquet`, `jsonl`).
    fn extension(&self) -> &'static str;
    /// Encodes rows (in offset order) into one object.
    fn encode(&self, rows: &[&LakeRow]) -> Vec<u8>;
    /// Highest Kafka offset in an object this encoder wrote.
    fn max_offset(&self, bytes: &[u8]) -> Result<i64, String>;
}

/// One lake row as a JSON line: provenance fields, then the bar in the message format.
#[derive(Debug, Serialize, Deserialize)]
pub struct JsonRow {
    /// Kafka topic.
    pub topic: String,
    /// Kafka partition.
    pub partition: i32,
    /// Kafka offset.
    pub offset: i64,
    /// Kafka timestamp, epoch ms.
    pub kafka_timestamp_ms: i64,
    /// Producer's source (in the v2 value, or the v1 header).
    pub source: Option<String>,
    /// Producer's line (in the v2 value, or the v1 header).
    pub line: Option<u64>,
    /// The bar, as in the Kafka message.
    pub bar: serde_json::Value,
}

/// JSON lines, one [`JsonRow`] per line.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLines;

impl Encoder for JsonLines {
    fn extension(&self) -> &'static str {
        "jsonl"
    }

    fn encode(&self, rows: &[&LakeRow]) -> Vec<u8> {
        let mut out = vec![];
        let mut value = vec![];
        for r in rows {
            encode_value(&r.bar, &mut value);
            let row = JsonRow {
                topic: r.topic.clone(),
                partition: r.partition,
                offset: r.offset,
                kafka_timestamp_ms: r.kafka_timestamp_ms,
                source: r.source.clone(),
                line: r.line,
                bar: serde_json::from_slice(&value).expect("our own JSON"),
            };
            serde_json::to_writer(&mut out, &row).expect("to a Vec");
            out.push(b'\n');
        }
        out
    }

    fn max_offset(&self, bytes: &[u8]) -> Result<i64, String> {
        read_json_rows(bytes)?
            .iter()
            .map(|r| r.offset)
            .max()
            .ok_or_else(|| "object has no rows".to_string())
    }
}

/// Reads back a [`JsonLines`] object.
pub fn read_json_rows(bytes: &[u8]) -> Result<Vec<JsonRow>, String> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice::<JsonRow>(l).map_err(|e| e.to_string()))
        .collect()
}

/// Decodes the bar of a [`JsonRow`].
pub fn bar_of(row: &JsonRow) -> Result<stockstream_core::Bar, String> {
    decode_value(row.bar.to_string().as_bytes()).map_err(|e| e.to_string())
}

/// Quarantine objects: one [`Quarantined`] JSON object per line.
pub fn encode_quarantine(items: &[&Quarantined]) -> Vec<u8> {
    let mut out = vec![];
    for q in items {
        serde_json::to_writer(&mut out, q).expect("to a Vec");
        out.push(b'\n');
    }
    out
}

/// Reads back a quarantine object.
pub fn read_quarantine(bytes: &[u8]) -> Result<Vec<Quarantined>, String> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).map_err(|e| e.to_string()))
        .collect()
}
