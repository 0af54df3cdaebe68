//! The event Lambda hands a function behind a Kafka trigger, and the same event built
//! locally (the local trigger wraps its batches in it, so the sink cannot tell them apart).
//!
//! Shape (self-managed Kafka, `eventSource: "SelfManagedKafka"`; the MSK variant
//! `"aws:kafka"` adds `eventSourceArn`): `records` maps `"<topic>-<partition>"` to records
//! with `topic`, `partition`, `offset`, `timestamp` (epoch ms), `timestampType`, base64 `key`
//! and `value` (either may be absent), and `headers` as a list of `{name: [byte, …]}`.
//!
//! Our own types rather than `aws_lambda_events`: its 1.2 release types header bytes as
//! `i8`, so a byte above 127 written as a positive number fails to parse, and it can lose a
//! millisecond of the timestamp. Here a header byte may be written signed (-128..=127, as
//! Java's `byte` prints) or unsigned (0..=255), and timestamps stay integers.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// A Kafka trigger event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KafkaEvent {
    /// `SelfManagedKafka` or `aws:kafka`.
    pub event_source: String,
    /// The MSK cluster's ARN (MSK only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source_arn: Option<String>,
    /// Comma-separated bootstrap servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_servers: Option<String>,
    /// Records by `"<topic>-<partition>"`.
    pub records: BTreeMap<String, Vec<KafkaRecord>>,
}

/// One Kafka record of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KafkaRecord {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// Record timestamp, epoch milliseconds.
    pub timestamp: i64,
    /// `CREATE_TIME` or `LOG_APPEND_TIME` (these two without an allocation per record).
    #[serde(default, deserialize_with = "timestamp_type")]
    pub timestamp_type: Cow<'static, str>,
    /// Base64 key, absent for keyless records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Base64 value, absent for tombstones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Headers in record order.
    #[serde(default)]
    pub headers: Headers,
}

/// The usual timestamp type of a record.
pub const CREATE_TIME: &str = "CREATE_TIME";
/// The timestamp type of a topic whose broker stamps records.
pub const LOG_APPEND_TIME: &str = "LOG_APPEND_TIME";

/// A record's `timestampType`, the two known values shared rather than allocated.
fn timestamp_type<'de, D: Deserializer<'de>>(d: D) -> Result<Cow<'static, str>, D::Error> {
    struct Kind;
    impl de::Visitor<'_> for Kind {
        type Value = Cow<'static, str>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a timestamp type")
        }
        fn visit_str<E: de::Error>(self, t: &str) -> Result<Self::Value, E> {
            Ok(match t {
                CREATE_TIME => Cow::Borrowed(CREATE_TIME),
                LOG_APPEND_TIME => Cow::Borrowed(LOG_APPEND_TIME),
                _ => Cow::Owned(t.to_string()),
            })
        }
    }
    d.deserialize_str(Kind)
}

/// What ingesting a record reads of it (see [`KafkaRecord::view`]).
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// Record timestamp, epoch milliseconds.
    pub timestamp: i64,
    /// Base64 value.
    pub value: Option<&'a str>,
    /// Headers.
    pub headers: &'a Headers,
}

/// Record headers: `(name, bytes)` pairs, in order, names may repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, Vec<u8>)>);

impl Headers {
    /// `(name, value)` pairs, for [`crate::message::provenance`].
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

/// A header's bytes from the JSON text of its list: each a byte as Lambda writes it, signed
/// like Java's `byte` (-128..=127) or unsigned (0..=255).
fn header_bytes(text: &str) -> Result<Vec<u8>, String> {
    let not_a_list = || format!("expected a list of header bytes, found {text}");
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let bytes = text.as_bytes();
    let mut i = 0;
    let skip_space = |i: &mut usize| {
        while *i < bytes.len() && is_space(bytes[*i]) {
            *i += 1;
        }
    };
    skip_space(&mut i);
    if bytes.get(i) != Some(&b'[') {
        return Err(not_a_list());
    }
    i += 1;
    let mut out = Vec::with_capacity(bytes.len() / 3);
    skip_space(&mut i);
    if bytes.get(i) == Some(&b']') {
        return Ok(out);
    }
    loop {
        // One integer (serde_json has checked the number grammar; a fraction or an
        // exponent stops the digits and is refused below).
        let number = i;
        let negative = bytes.get(i) == Some(&b'-');
        i += usize::from(negative);
        let start = i;
        let mut v: i64 = 0;
        while let Some(d @ b'0'..=b'9') = bytes.get(i) {
            // Held below overflow: anything past 255 is refused, quoting its text.
            v = (v * 10 + i64::from(d - b'0')).min(1 << 20);
            i += 1;
        }
        if i == start {
            return Err(not_a_list());
        }
        let v = if negative { -v } else { v };
        out.push(match v {
            -128..=-1 => v as i8 as u8,
            0..=255 => v as u8,
            _ => {
                let v = &text[number..i];
                return Err(format!("header byte {v} is outside -128..=255"));
            }
        });
        skip_space(&mut i);
        match bytes.get(i) {
            Some(b',') => {
                i += 1;
                skip_space(&mut i);
            }
            Some(b']') => return Ok(out),
            _ => return Err(not_a_list()),
        }
    }
}

impl<'de> Deserialize<'de> for Headers {
    /// Streams the `[{name: [bytes…]}, …]` list straight into pairs: a 10,000-record
    /// event has 20,000 headers, so no intermediate maps or vectors.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// One header's bytes. serde_json hands over the list's text (`&RawValue`, after
        /// checking it is JSON) and [`header_bytes`] reads the numbers: element by element
        /// through serde this was 17% of the sink's handler. Borrowing needs the event's
        /// bytes in memory (`from_slice`/`from_str`, as Lambda's runtime parses it).
        struct ByteList;
        impl<'de> de::DeserializeSeed<'de> for ByteList {
            type Value = Vec<u8>;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<u8>, D::Error> {
                let raw = <&serde_json::value::RawValue>::deserialize(d)?;
                header_bytes(raw.get()).map_err(de::Error::custom)
            }
        }
        struct Pairs;
        impl<'de> de::Visitor<'de> for Pairs {
            type Value = Vec<(String, Vec<u8>)>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of single-entry header maps")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(2));
                while seq.next_element_seed(OneMap(&mut out))?.is_some() {}
                Ok(out)
            }
        }
        /// One `{name: [bytes…]}` map, its pairs appended to the list (Lambda writes one
        /// entry per map; more are kept, in the map's order).
        struct OneMap<'a>(&'a mut Vec<(String, Vec<u8>)>);
        impl<'de> de::DeserializeSeed<'de> for OneMap<'_> {
            type Value = ();
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_map(self)
            }
        }
        impl<'de> de::Visitor<'de> for OneMap<'_> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a header map")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
                while let Some(k) = m.next_key::<String>()? {
                    let v = m.next_value_seed(ByteList)?;
                    self.0.push((k, v));
                }
                Ok(())
            }
        }
        d.deserialize_seq(Pairs).map(Headers)
    }
}

impl Serialize for Headers {
    /// Written as Lambda writes them (signed bytes), so any reader of the real events also
    /// reads the ones we build.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Bytes<'a>(&'a [u8]);
        impl Serialize for Bytes<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for b in self.0 {
                    seq.serialize_element(&(*b as i8))?;
                }
                seq.end()
            }
        }
        struct One<'a>(&'a str, &'a [u8]);
        impl Serialize for One<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(self.0, &Bytes(self.1))?;
                m.end()
            }
        }
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            seq.serialize_element(&One(k, v))?;
        }
        seq.end()
    }
}

/// Base64 as Lambda's (Java) decoder reads it: nonzero trailing bits and missing padding are
/// accepted. AWS's own sample event has such a key (`…1234==`).
pub const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A field that is not valid base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotBase64 {
    /// `key` or `value`.
    pub field: &'static str,
    /// The decoder's complaint.
    pub error: String,
}

impl fmt::Display for NotBase64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {} is not base64: {}", self.field, self.error)
    }
}

impl std::error::Error for NotBase64 {}

fn decode(field: &'static str, text: Option<&str>) -> Result<Option<Vec<u8>>, NotBase64> {
    text.map(|t| {
        LENIENT_BASE64.decode(t).map_err(|e| NotBase64 {
            field,
            error: e.to_string(),
        })
    })
    .transpose()
}

impl KafkaRecord {
    /// Builds a record from raw bytes (base64-encodes key and value).
    pub fn new(
        topic: &str,
        partition: i32,
        offset: i64,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: Vec<(String, Vec<u8>)>,
    ) -> Self {
        KafkaRecord {
            topic: topic.to_string(),
            partition,
            offset,
            timestamp,
            timestamp_type: Cow::Borrowed(CREATE_TIME),
            key: key.map(|k| STANDARD.encode(k)),
            value: value.map(|v| STANDARD.encode(v)),
            headers: Headers(headers),
        }
    }

    /// The record the producer writes for `bar`, read at `line` of `source`: keyed by the
    /// symbol, the value in the current message format (v2, provenance inside, no headers;
    /// or v1 with `source`/`line` headers for a symbol v2 cannot carry). For tests and
    /// benchmarks that build events as the producer would.
    pub fn produced(
        topic: &str,
        partition: i32,
        offset: i64,
        timestamp: i64,
        bar: &crate::record::Bar,
        source: &str,
        line: u64,
    ) -> Self {
        use crate::message::{encode_message, HEADER_LINE, HEADER_SOURCE};
        let mut value = Vec::with_capacity(128);
        let headers = if encode_message(bar, source, line, &mut value).needs_headers() {
            vec![
                (HEADER_SOURCE.to_string(), source.as_bytes().to_vec()),
                (HEADER_LINE.to_string(), line.to_string().into_bytes()),
            ]
        } else {
            vec![]
        };
        Self::new(
            topic,
            partition,
            offset,
            timestamp,
            Some(bar.symbol.as_bytes()),
            Some(&value),
            headers,
        )
    }

    /// The key's bytes.
    pub fn key_bytes(&self) -> Result<Option<Vec<u8>>, NotBase64> {
        decode("key", self.key.as_deref())
    }

    /// The value's bytes.
    pub fn value_bytes(&self) -> Result<Option<Vec<u8>>, NotBase64> {
        decode("value", self.value.as_deref())
    }

    /// The fields [`crate::ingest`] reads.
    pub fn view(&self) -> RecordView<'_> {
        RecordView {
            topic: &self.topic,
            partition: self.partition,
            offset: self.offset,
            timestamp: self.timestamp,
            value: self.value.as_deref(),
            headers: &self.headers,
        }
    }
}

/// Decodes a base64 value into `out` (replacing its content, keeping its allocation), as
/// [`KafkaRecord::value_bytes`] would; `Ok(false)` when there is no value.
///
/// Values Lambda sends are canonical (padded, zero trailing bits), so a vectorised strict
/// decoder reads them first (base64 decoding was 5% of the sink's handler); anything it
/// refuses goes to [`LENIENT_BASE64`], which accepts a superset and decodes every string
/// both accept to the same bytes, so what is accepted and what it decodes to is unchanged.
pub fn decode_value_into(text: Option<&str>, out: &mut Vec<u8>) -> Result<bool, NotBase64> {
    out.clear();
    match text {
        None => Ok(false),
        Some(t) if base64_simd::STANDARD.decode_append(t, out).is_ok() => Ok(true),
        Some(t) => {
            // A refused string may have left part of its bytes behind.
            out.clear();
            LENIENT_BASE64
                .decode_vec(t, out)
                .map(|()| true)
                .map_err(|e| NotBase64 {
                    field: "value",
                    error: e.to_string(),
                })
        }
    }
}

impl KafkaEvent {
    /// An event of self-managed Kafka records, grouped by topic and partition as Lambda does.
    pub fn self_managed(
        bootstrap_servers: &str,
        records: impl IntoIterator<Item = KafkaRecord>,
    ) -> Self {
        let mut map: BTreeMap<String, Vec<KafkaRecord>> = BTreeMap::new();
        for r in records {
            map.entry(format!("{}-{}", r.topic, r.partition))
                .or_default()
                .push(r);
        }
        KafkaEvent {
            event_source: "SelfManagedKafka".to_string(),
            event_source_arn: None,
            bootstrap_servers: Some(bootstrap_servers.to_string()),
            records: map,
        }
    }

    /// Every record, by topic-partition key, then in the order given.
    pub fn records(&self) -> impl Iterator<Item = &KafkaRecord> {
        self.records.values().flatten()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.values().map(Vec::len).sum()
    }

    /// True when the event holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bytes_signed_or_unsigned() {
        let json = r#"[{"a":[104,-1,255,0]},{"b":[]},{"a":[1]}]"#;
        let h: Headers = serde_json::from_str(json).unwrap();
        assert_eq!(
            h.0,
            vec![
                ("a".to_string(), vec![104, 255, 255, 0]),
                ("b".to_string(), vec![]),
                ("a".to_string(), vec![1]),
            ]
        );
        // Written back the way Lambda writes them: signed.
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"[{"a":[104,-1,-1,0]},{"b":[]},{"a":[1]}]"#
        );
        assert!(serde_json::from_str::<Headers>(r#"[{"a":[256]}]"#).is_err());
        assert!(serde_json::from_str::<Headers>(r#"[{"a":[-129]}]"#).is_err());
    }

    #[test]
    fn header_bytes_are_read_from_any_json_spacing_and_refused_when_not_bytes() {
        let json = "[ {\"a\" : [ 104 ,\n-1,\t255 , 0 ] } , {\"b\":[ ]} ]";
        let h: Headers = serde_json::from_slice(json.as_bytes()).unwrap();
        assert_eq!(
            h.0,
            vec![("a".into(), vec![104, 255, 255, 0]), ("b".into(), vec![])]
        );
        for (bad, says) in [
            (
                r#"[{"a":[1.5]}]"#,
                "expected a list of header bytes, found [1.5]",
            ),
            (r#"[{"a":"hi"}]"#, "expected a list of header bytes"),
            (r#"[{"a":[[1]]}]"#, "expected a list of header bytes"),
            (r#"[{"a":[1,"2"]}]"#, "expected a list of header bytes"),
            (
                r#"[{"a":[1000]}]"#,
                "header byte 1000 is outside -128..=255",
            ),
            (
                r#"[{"a":[-300]}]"#,
                "header byte -300 is outside -128..=255",
            ),
        ] {
            let e = serde_json::from_str::<Headers>(bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    /// Lambda's runtime parses the event through `serde_path_to_error`; the borrowed
    /// header text must survive that wrapper, and a bad byte must be located.
    #[test]
    fn headers_parse_as_the_lambda_runtime_parses_events() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../events/sink-kafka-batch.json"
        ))
        .unwrap();
        let de = &mut serde_json::Deserializer::from_slice(text.as_bytes());
        let e: KafkaEvent = serde_path_to_error::deserialize(de).unwrap();
        let direct: KafkaEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(e, direct);
        assert!(e
            .records
            .values()
            .flatten()
            .any(|r| !r.headers.0.is_empty()));
        assert!(e.records().all(|r| r.timestamp_type == CREATE_TIME));
        let other = text.replace("\"CREATE_TIME\"", "\"SOME_OTHER_TIME\"");
        let e: KafkaEvent = serde_json::from_str(&other).unwrap();
        assert!(e.records().all(|r| r.timestamp_type == "SOME_OTHER_TIME"));
        let bad = text.replacen("\"headers\": [", "\"headers\": [{\"x\": [999]},", 1);
        let de = &mut serde_json::Deserializer::from_slice(bad.as_bytes());
        let err = serde_path_to_error::deserialize::<_, KafkaEvent>(de).unwrap_err();
        assert!(err.to_string().contains("header byte 999"), "{err}");
        assert!(err.path().to_string().contains("headers"), "{}", err.path());
    }

    #[test]
    fn any_list_of_bytes_reads_back_as_written() {
        use proptest::prelude::*;
        let lists = proptest::collection::vec(
            (-128i64..=255, prop_oneof![Just(""), Just(" "), Just("\n ")]),
            0..40,
        );
        proptest::test_runner::TestRunner::default()
            .run(&lists, |items| {
                let text: Vec<String> =
                    items.iter().map(|(v, sp)| format!("{sp}{v}{sp}")).collect();
                let json = format!("[{{\"h\":[{}]}}]", text.join(","));
                let h: Headers = serde_json::from_str(&json).unwrap();
                let want: Vec<u8> = items.iter().map(|(v, _)| *v as i8 as u8).collect();
                prop_assert_eq!(&h.0[0].1, &want);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn built_records_round_trip_exactly() {
        let r = KafkaRecord::new(
            "bars",
            3,
            42,
            1_545_084_650_987,
            Some(b"HSI"),
            Some(b"{\"v\":1}"),
            vec![("line".into(), b"17".to_vec()), ("x".into(), vec![200, 0])],
        );
        let e = KafkaEvent::self_managed("127.0.0.1:9092", [r.clone()]);
        let text = serde_json::to_string(&e).unwrap();
        let back: KafkaEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.records["bars-3"][0].timestamp, 1_545_084_650_987);
        assert_eq!(r.value_bytes().unwrap().unwrap(), b"{\"v\":1}");
        assert_eq!(r.key_bytes().unwrap().unwrap(), b"HSI");
        let mut bad = r;
        bad.value = Some("not base64!".into());
        assert_eq!(bad.value_bytes().unwrap_err().field, "value");
    }

    #[test]
    fn values_decode_into_a_reused_buffer() {
        let r = KafkaRecord::new("bars", 3, 42, 0, None, Some(b"{\"v\":1}"), vec![]);
        let mut out = vec![9];
        assert_eq!(decode_value_into(r.value.as_deref(), &mut out), Ok(true));
        assert_eq!(out, b"{\"v\":1}");
        assert_eq!(decode_value_into(None, &mut out), Ok(false));
        let mut bad = r;
        bad.value = Some("not base64!".into());
        assert_eq!(
            decode_value_into(bad.value.as_deref(), &mut out),
            Err(bad.value_bytes().unwrap_err())
        );
    }

    /// The vectorised first try must not change what is accepted or what it decodes to:
    /// unpadded, nonzero-trailing-bit, truncated and foreign strings included.
    #[test]
    fn the_fast_decoder_accepts_and_decodes_as_the_lenient_one() {
        use proptest::prelude::*;
        let alphabet = "[A-Za-z0-9+/=]{0,40}|[ -~]{0,12}";
        let mut runner = proptest::test_runner::TestRunner::default();
        let strings = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200).prop_map(|b| STANDARD.encode(b)),
            proptest::collection::vec(any::<u8>(), 1..60).prop_map(|b| {
                let mut t = STANDARD.encode(b);
                t.truncate(t.trim_end_matches('=').len());
                t
            }),
            alphabet.prop_map(|t| t.to_string()),
        ];
        runner
            .run(&strings, |t| {
                let mut out = b"left over".to_vec();
                let fast = decode_value_into(Some(&t), &mut out).map(|_| out.clone());
                let lenient = LENIENT_BASE64.decode(&t).map_err(|e| NotBase64 {
                    field: "value",
                    error: e.to_string(),
                });
                prop_assert_eq!(fast, lenient, "{:?}", t);
                Ok(())
            })
            .unwrap();
    }
}
