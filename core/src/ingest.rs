//! From a Kafka record to a lake row, or to quarantine.
//!
//! The sink turns every record of a trigger event into exactly one of:
//! - a [`LakeRow`]: the validated bar plus where it came from (topic, partition, offset,
//!   Kafka timestamp, and the producer's `source`/`line` when present, from the value (v2)
//!   or the headers (v1)), so any row in the lake traces back to its Kafka record and its
//!   CSV line;
//! - a [`Quarantined`] record: topic, partition, offset, the raw bytes and the reason, written
//!   to the quarantine prefix as a JSON line. Bad input never fails the batch and never
//!   vanishes.

use crate::kafka_event::{decode_value_into, KafkaRecord, RecordView, LENIENT_BASE64};
use crate::message::{decode_message, provenance, DecodeError};
use crate::record::Bar;
use crate::symbols::Symbols;
use crate::validate::{validate, Warnings};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// A bar ready for the lake, with its provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct LakeRow {
    /// The bar.
    pub bar: Bar,
    /// Kafka topic.
    pub topic: String,
    /// Kafka partition.
    pub partition: i32,
    /// Kafka offset.
    pub offset: i64,
    /// Kafka record timestamp, epoch ms.
    pub kafka_timestamp_ms: i64,
    /// The producer's `source` (in the v2 value, or the v1 header).
    pub source: Option<String>,
    /// The producer's `line` (in the v2 value, or the v1 header).
    pub line: Option<u64>,
    /// Validation warnings (zero volume, …).
    pub warnings: Warnings,
}

/// A record that cannot become a lake row, kept with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantined {
    /// Kafka topic.
    pub topic: String,
    /// Kafka partition.
    pub partition: i32,
    /// Kafka offset.
    pub offset: i64,
    /// Stable short code: `not_base64`, `no_value`, `not_a_bar`, `unsupported_version`,
    /// `bad_date`, or a validation code (`outside_range`, …).
    pub code: String,
    /// Human-readable reason.
    pub reason: String,
    /// The value exactly as received (base64, as in the event), so nothing is lost.
    pub raw_value: Option<String>,
}

/// Decodes and validates one record. `known` rejects unknown symbols when given.
pub fn ingest(record: &KafkaRecord, known: Option<&Symbols>) -> Result<LakeRow, Box<Quarantined>> {
    ingest_view(record.view(), known, &mut Vec::new())
}

/// [`ingest`] of a record's fields, decoding the base64 value into `buf` (its content is
/// replaced; pass the same buffer for every record of a batch so it is allocated once).
pub fn ingest_view(
    record: RecordView<'_>,
    known: Option<&Symbols>,
    buf: &mut Vec<u8>,
) -> Result<LakeRow, Box<Quarantined>> {
    let quarantine = |code: &str, reason: String| {
        Box::new(Quarantined {
            topic: record.topic.to_string(),
            partition: record.partition,
            offset: record.offset,
            code: code.to_string(),
            reason,
            raw_value: record.value.map(str::to_string),
        })
    };
    match decode_value_into(record.value, buf) {
        Err(e) => return Err(quarantine("not_base64", e.to_string())),
        Ok(false) => return Err(quarantine("no_value", "record has no value".to_string())),
        Ok(true) => {}
    }
    let (bar, in_value) = decode_message(buf).map_err(|e| {
        let code = match e {
            DecodeError::Json(_) | DecodeError::Malformed(_) => "not_a_bar",
            DecodeError::Version(_) => "unsupported_version",
            DecodeError::Date(_) => "bad_date",
        };
        quarantine(code, e.to_string())
    })?;
    let warnings = validate(&bar, known).map_err(|p| quarantine(p.code(), p.to_string()))?;
    let (mut source, mut line) = (None, None);
    if let Some(p) = in_value.or_else(|| provenance(record.headers.pairs())) {
        source = Some(p.source);
        line = Some(p.line);
    }
    Ok(LakeRow {
        bar,
        topic: record.topic.to_string(),
        partition: record.partition,
        offset: record.offset,
        kafka_timestamp_ms: record.timestamp,
        source,
        line,
        warnings,
    })
}

impl Quarantined {
    /// The raw value's bytes, if it was base64 (for inspecting a quarantine file).
    pub fn raw_bytes(&self) -> Option<Vec<u8>> {
        self.raw_value
            .as_deref()
            .and_then(|v| LENIENT_BASE64.decode(v).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::encode_value;
    use chrono::NaiveDate;

    fn bar() -> Bar {
        Bar {
            symbol: "HSI".into(),
            date: NaiveDate::from_ymd_opt(2001, 7, 9).unwrap(),
            time: None,
            open: 10.0,
            high: 12.0,
            low: 9.0,
            close: 11.0,
            adj_close: None,
            volume: Some(0),
            close_usd: None,
        }
    }

    fn record(value: Option<&[u8]>) -> KafkaRecord {
        KafkaRecord::new(
            "bars",
            1,
            7,
            1_700_000_000_123,
            Some(b"HSI"),
            value,
            vec![
                ("source".into(), b"a.csv".to_vec()),
                ("line".into(), b"9".to_vec()),
            ],
        )
    }

    #[test]
    fn a_good_record_keeps_its_provenance() {
        let mut v = vec![];
        encode_value(&bar(), &mut v);
        let row = ingest(&record(Some(&v)), None).unwrap();
        assert_eq!(row.bar, bar());
        assert_eq!(
            (row.topic.as_str(), row.partition, row.offset),
            ("bars", 1, 7)
        );
        assert_eq!(row.kafka_timestamp_ms, 1_700_000_000_123);
        assert_eq!((row.source.as_deref(), row.line), (Some("a.csv"), Some(9)));
        assert!(row.warnings.contains(crate::validate::Warning::ZeroVolume));
    }

    #[test]
    fn a_v2_record_carries_its_provenance_in_the_value() {
        let mut v = vec![];
        let _ = crate::message::encode_message(&bar(), "b,c.csv", 12, &mut v);
        let mut r = record(Some(&v));
        r.headers.0.clear();
        let row = ingest(&r, None).unwrap();
        assert_eq!(row.bar, bar());
        assert_eq!(
            (row.source.as_deref(), row.line),
            (Some("b,c.csv"), Some(12))
        );
        // The value wins over stray headers.
        let row = ingest(&record(Some(&v)), None).unwrap();
        assert_eq!(
            (row.source.as_deref(), row.line),
            (Some("b,c.csv"), Some(12))
        );
    }

    #[test]
    fn every_kind_of_bad_record_is_quarantined_with_its_bytes() {
        let code = |r: &KafkaRecord| ingest(r, None).unwrap_err().code;
        let mut not_b64 = record(None);
        not_b64.value = Some("%%%".into());
        assert_eq!(code(&not_b64), "not_base64");
        assert_eq!(code(&record(None)), "no_value");
        assert_eq!(code(&record(Some(b"Hello"))), "not_a_bar");
        assert_eq!(code(&record(Some(br#"{"v":1,"symbol":"X"}"#))), "not_a_bar");
        let v3 = br#"{"v":3,"symbol":"X","date":"2020-01-01","open":1,"high":1,"low":1,"close":1}"#;
        assert_eq!(code(&record(Some(v3))), "unsupported_version");
        assert_eq!(code(&record(Some(b"3,9,X"))), "unsupported_version");
        assert_eq!(code(&record(Some(b"2,9,X"))), "not_a_bar");
        assert_eq!(
            code(&record(Some(b"2,9,HSI,2001-13-09,10,12,9,11,,0,,a.csv"))),
            "bad_date"
        );
        let mut b = bar();
        b.close = 13.0;
        let mut v = vec![];
        encode_value(&b, &mut v);
        let q = ingest(&record(Some(&v)), None).unwrap_err();
        assert_eq!(q.code, "outside_range");
        assert_eq!((q.partition, q.offset), (1, 7));
        assert_eq!(q.raw_bytes().unwrap(), v, "the raw value is kept");
        let known = Symbols::from_iter(["N225"]);
        let mut v = vec![];
        encode_value(&bar(), &mut v);
        assert_eq!(
            ingest(&record(Some(&v)), Some(&known)).unwrap_err().code,
            "unknown_symbol"
        );
    }
}
