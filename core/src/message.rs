//! The Kafka message format, version 1.
//!
//! One bar per message:
//!
//! - **key**: the symbol, UTF-8. Kafka's default partitioner hashes the key, so every bar of
//!   a symbol lands in one partition and keeps its order there.
//! - **value**: a JSON object,
//!   `{"v":1,"symbol":"HSI","date":"1986-12-31","open":2568.300049,"high":…,"low":…,"close":…,
//!   "adj_close":…,"volume":0,"close_usd":333.87900637}`. `time` (`"09:30:00"`) appears only on
//!   intraday bars; `adj_close`, `volume` and `close_usd` only when the source has them. Floats
//!   are written in their shortest round-trip form, so the value read back is bit-for-bit the
//!   value parsed from the CSV (float noise such as `335.90698726000005` included).
//! - **headers**: `source` (file name or S3 URI) and `line` (1-based line number in that
//!   source, decimal), so every record in the lake traces back to its file and line. The
//!   version travels in the value (`v`), not in a header: every header costs an allocation in
//!   the client and storage in the broker, on every message.
//!
//! A consumer must reject a `v` it does not know rather than guess; new optional fields may be
//! added within version 1, removing or retyping a field makes version 2.

use crate::date::iso_date_bytes;
use crate::record::Bar;
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use serde_json::ser::{CompactFormatter, Formatter};
use std::fmt;

/// The format version written by this library.
pub const FORMAT_VERSION: u32 = 1;
/// Header: source file or object.
pub const HEADER_SOURCE: &str = "source";
/// Header: 1-based line number in the source.
pub const HEADER_LINE: &str = "line";

#[derive(Serialize)]
struct WireOut<'a> {
    v: u32,
    symbol: &'a str,
    date: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<String>,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    adj_close: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    volume: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    close_usd: Option<f64>,
}

#[derive(Deserialize)]
struct WireIn<'a> {
    v: u32,
    #[serde(borrow)]
    symbol: std::borrow::Cow<'a, str>,
    date: &'a str,
    #[serde(default)]
    time: Option<&'a str>,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    #[serde(default)]
    adj_close: Option<f64>,
    #[serde(default)]
    volume: Option<u64>,
    #[serde(default)]
    close_usd: Option<f64>,
}

/// Why a message value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not JSON, or JSON of the wrong shape (missing field, wrong type).
    Json(String),
    /// A version this library does not read.
    Version(u32),
    /// The date or time is not ISO.
    Date(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Json(e) => write!(f, "value is not a v1 bar: {e}"),
            DecodeError::Version(v) => write!(
                f,
                "unsupported message version {v} (this build reads {FORMAT_VERSION})"
            ),
            DecodeError::Date(t) => write!(f, "date/time {t:?} is not ISO 8601"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Writes the JSON value of `bar` into `out`, replacing its content.
pub fn encode_value(bar: &Bar, out: &mut Vec<u8>) {
    out.clear();
    encode_value_into(bar, out);
}

/// Appends the JSON value of `bar` to `out`.
///
/// Daily bars whose symbol needs no JSON escape (every bar the producer sends from the seed
/// layout) are written field by field, with serde_json's own number formatting, so the bytes
/// are those [`encode_value_serde`] writes without its per-field dispatch: this runs once per
/// row on the producer's hot path. Anything else goes through serde.
pub fn encode_value_into(bar: &Bar, out: &mut Vec<u8>) {
    if bar.time.is_some() || bar.symbol.bytes().any(needs_escape) {
        return encode_value_serde(bar, out);
    }
    let date = iso_date_bytes(bar.date);
    out.reserve(200);
    out.extend_from_slice(br#"{"v":1,"symbol":""#);
    out.extend_from_slice(bar.symbol.as_bytes());
    out.extend_from_slice(br#"","date":""#);
    out.extend_from_slice(&date);
    out.extend_from_slice(br#"","open":"#);
    write_f64(out, bar.open);
    out.extend_from_slice(br#","high":"#);
    write_f64(out, bar.high);
    out.extend_from_slice(br#","low":"#);
    write_f64(out, bar.low);
    out.extend_from_slice(br#","close":"#);
    write_f64(out, bar.close);
    if let Some(x) = bar.adj_close {
        out.extend_from_slice(br#","adj_close":"#);
        write_f64(out, x);
    }
    if let Some(n) = bar.volume {
        out.extend_from_slice(br#","volume":"#);
        let _ = CompactFormatter.write_u64(out, n);
    }
    if let Some(x) = bar.close_usd {
        out.extend_from_slice(br#","close_usd":"#);
        write_f64(out, x);
    }
    out.push(b'}');
}

/// Bytes serde_json escapes inside a string.
fn needs_escape(c: u8) -> bool {
    c < 0x20 || c == b'"' || c == b'\\'
}

/// A float as serde_json writes it: shortest round-trip form, `null` when not finite.
fn write_f64(out: &mut Vec<u8>, x: f64) {
    if x.is_finite() {
        let _ = CompactFormatter.write_f64(out, x);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// [`encode_value_into`] through serde: intraday bars, symbols that need escapes, and the
/// reference the fast path is tested against.
fn encode_value_serde(bar: &Bar, out: &mut Vec<u8>) {
    let date = iso_date_bytes(bar.date);
    let wire = WireOut {
        v: FORMAT_VERSION,
        symbol: &bar.symbol,
        date: std::str::from_utf8(&date).expect("ASCII digits"),
        time: bar.time.map(|t| t.to_string()),
        open: bar.open,
        high: bar.high,
        low: bar.low,
        close: bar.close,
        adj_close: bar.adj_close,
        volume: bar.volume,
        close_usd: bar.close_usd,
    };
    serde_json::to_writer(out, &wire).expect("writing JSON to a Vec cannot fail");
}

/// Decodes a JSON value written by [`encode_value`].
pub fn decode_value(bytes: &[u8]) -> Result<Bar, DecodeError> {
    if let Some(bar) = decode_canonical(bytes) {
        return Ok(bar);
    }
    let w: WireIn = serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))?;
    if w.v != FORMAT_VERSION {
        return Err(DecodeError::Version(w.v));
    }
    let date = iso_date(w.date).ok_or_else(|| DecodeError::Date(w.date.to_string()))?;
    let time = w
        .time
        .map(|t| {
            NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
                .map_err(|_| DecodeError::Date(t.to_string()))
        })
        .transpose()?;
    Ok(Bar {
        symbol: w.symbol.into_owned(),
        date,
        time,
        open: w.open,
        high: w.high,
        low: w.low,
        close: w.close,
        adj_close: w.adj_close,
        volume: w.volume,
        close_usd: w.close_usd,
    })
}

/// The value exactly as [`encode_value`] lays it out (fields in order, no whitespace, no
/// escapes, no `time`), read without serde; `None` for anything else, which
/// [`decode_value`] then reads the general way. Where it answers, the answer is the one the
/// general way gives: numbers follow JSON's grammar and are rounded correctly, as serde_json
/// with `float_roundtrip` does (negative numbers, which serde_json reads as integers when
/// they have no fraction, go the general way).
fn decode_canonical(b: &[u8]) -> Option<Bar> {
    let mut r = Cursor { b, at: 0 };
    r.tag(br#"{"v":1,"symbol":""#)?;
    let start = r.at;
    let len = r.b[start..].iter().position(|&c| c == b'"')?;
    let symbol = &r.b[start..start + len];
    if symbol.iter().any(|&c| c < 0x20 || c == b'\\') {
        return None;
    }
    let symbol = std::str::from_utf8(symbol).ok()?;
    r.at = start + len;
    r.tag(br#"","date":""#)?;
    let date = iso_date(std::str::from_utf8(r.b.get(r.at..r.at + 10)?).ok()?)?;
    r.at += 10;
    r.tag(br#"","open":"#)?;
    let open = r.float()?;
    r.tag(br#","high":"#)?;
    let high = r.float()?;
    r.tag(br#","low":"#)?;
    let low = r.float()?;
    r.tag(br#","close":"#)?;
    let close = r.float()?;
    let adj_close = match r.tag(br#","adj_close":"#) {
        Some(()) => Some(r.float()?),
        None => None,
    };
    let volume = match r.tag(br#","volume":"#) {
        Some(()) => Some(r.integer()?),
        None => None,
    };
    let close_usd = match r.tag(br#","close_usd":"#) {
        Some(()) => Some(r.float()?),
        None => None,
    };
    r.tag(b"}")?;
    if r.at != b.len() {
        return None;
    }
    Some(Bar {
        symbol: symbol.to_string(),
        date,
        time: None,
        open,
        high,
        low,
        close,
        adj_close,
        volume,
        close_usd,
    })
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn tag(&mut self, t: &[u8]) -> Option<()> {
        if self.b[self.at..].starts_with(t) {
            self.at += t.len();
            Some(())
        } else {
            None
        }
    }

    fn digits(&mut self) -> usize {
        let n = self.b[self.at..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        self.at += n;
        n
    }

    /// A non-negative JSON number: `(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn float(&mut self) -> Option<f64> {
        let start = self.at;
        let int = self.digits();
        if int == 0 || (int > 1 && self.b[start] == b'0') {
            return None;
        }
        if self.b.get(self.at) == Some(&b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.b.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.b.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        let text = std::str::from_utf8(&self.b[start..self.at]).ok()?;
        let x: f64 = text.parse().ok()?;
        // serde_json refuses numbers beyond f64's range; leave those to it.
        x.is_finite().then_some(x)
    }

    /// A non-negative JSON integer that fits a `u64`.
    fn integer(&mut self) -> Option<u64> {
        let start = self.at;
        let n = self.digits();
        if n == 0 || (n > 1 && self.b[start] == b'0') {
            return None;
        }
        if matches!(self.b.get(self.at), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.at])
            .ok()?
            .parse()
            .ok()
    }
}

/// Reads `YYYY-MM-DD`, the only date form the message carries; chrono's format-string
/// parser costs more than the rest of a record's decoding.
fn iso_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

/// The message key of a bar: its symbol.
pub fn key(bar: &Bar) -> &[u8] {
    bar.symbol.as_bytes()
}

/// Where a message came from, as carried in its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// Source name.
    pub source: String,
    /// Line number.
    pub line: u64,
}

/// Reads provenance from `(name, value)` header pairs; `None` if either header is missing or
/// the line is not a number.
pub fn provenance<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Option<Provenance> {
    let (mut source, mut line) = (None, None);
    for (name, value) in headers {
        match name {
            HEADER_SOURCE => source = std::str::from_utf8(value).ok().map(str::to_string),
            HEADER_LINE => line = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok()),
            _ => {}
        }
    }
    Some(Provenance {
        source: source?,
        line: line?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_read_strictly() {
        assert_eq!(iso_date("1987-01-06"), NaiveDate::from_ymd_opt(1987, 1, 6));
        assert_eq!(iso_date("2024-02-29"), NaiveDate::from_ymd_opt(2024, 2, 29));
        for bad in [
            "2023-02-29",
            "1987-1-06",
            "1987/01/06",
            "19870106",
            "1987-01-0x",
            "+987-01-06",
            "",
        ] {
            assert_eq!(iso_date(bad), None, "{bad}");
        }
    }

    fn bar() -> Bar {
        Bar {
            symbol: "HSI".into(),
            date: NaiveDate::from_ymd_opt(1987, 1, 6).unwrap(),
            time: None,
            open: 2583.899902,
            high: 2583.899902,
            low: 2583.899902,
            close: 2583.899902,
            adj_close: Some(2583.899902),
            volume: Some(0),
            close_usd: Some(335.90698726000005),
        }
    }

    #[test]
    fn value_layout_is_stable() {
        let mut out = vec![];
        encode_value(&bar(), &mut out);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"v":1,"symbol":"HSI","date":"1987-01-06","open":2583.899902,"high":2583.899902,"low":2583.899902,"close":2583.899902,"adj_close":2583.899902,"volume":0,"close_usd":335.90698726000005}"#
        );
    }

    #[test]
    fn the_fast_encoder_writes_what_serde_writes() {
        let floats = [
            2583.899902,
            335.90698726000005,
            0.0,
            -0.0,
            1e21,
            1e-7,
            123456789012345680.0,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            -1.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut b = bar();
        for (i, &x) in floats.iter().enumerate() {
            b.open = x;
            b.high = floats[(i + 3) % floats.len()];
            b.close_usd = Some(floats[(i + 5) % floats.len()]).filter(|_| i % 3 != 0);
            b.adj_close = Some(x).filter(|_| i % 2 == 0);
            b.volume = [None, Some(0), Some(u64::MAX), Some(12345)][i % 4];
            b.symbol = ["HSI", "000001.SS", "Ünï", "A\"B", "tab\t", "\u{7f}", ""][i % 7].into();
            let (mut fast, mut serde) = (vec![], vec![]);
            encode_value_into(&b, &mut fast);
            encode_value_serde(&b, &mut serde);
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(serde).unwrap()
            );
        }
    }

    #[test]
    fn round_trip_is_exact_including_optionals_and_time() {
        let mut b = bar();
        let mut out = vec![];
        encode_value(&b, &mut out);
        assert_eq!(decode_value(&out), Ok(b.clone()));
        b.time = NaiveTime::from_hms_milli_opt(9, 30, 0, 250);
        b.adj_close = None;
        b.volume = None;
        b.close_usd = None;
        encode_value(&b, &mut out);
        assert!(!std::str::from_utf8(&out).unwrap().contains("volume"));
        assert_eq!(decode_value(&out), Ok(b.clone()));
        // Values whose shortest form is long must still come back bit for bit (serde_json's
        // default float parser is off by one ulp on some of these).
        for x in [
            374.27000000000004,
            3693.9665703054548,
            1649.7883597000002,
            0.1 + 0.2,
        ] {
            b.close = x;
            encode_value(&b, &mut out);
            assert_eq!(
                decode_value(&out).unwrap().close.to_bits(),
                x.to_bits(),
                "{x}"
            );
        }
        encode_value(&b, &mut out);
        assert!(!std::str::from_utf8(&out).unwrap().contains("volume"));
        assert_eq!(decode_value(&out), Ok(b));
    }

    #[test]
    fn the_canonical_reader_agrees_with_serde() {
        let general = |t: &str| -> Result<Bar, DecodeError> {
            // decode_value without its fast path.
            let w: WireIn =
                serde_json::from_str(t).map_err(|e| DecodeError::Json(e.to_string()))?;
            assert_eq!(w.v, 1);
            Ok(Bar {
                symbol: w.symbol.into_owned(),
                date: iso_date(w.date).ok_or_else(|| DecodeError::Date(w.date.into()))?,
                time: None,
                open: w.open,
                high: w.high,
                low: w.low,
                close: w.close,
                adj_close: w.adj_close,
                volume: w.volume,
                close_usd: w.close_usd,
            })
        };
        let mut out = vec![];
        encode_value(&bar(), &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(decode_canonical(text.as_bytes()).is_some());
        let cases = [
            text.clone(),
            text.replace("2583.899902,\"high", "1e3,\"high"),
            text.replace("2583.899902,\"high", "12,\"high"),
            text.replace("2583.899902,\"high", "0.5E-2,\"high"),
            text.replace("2583.899902,\"high", "18446744073709551616123,\"high"),
            text.replace("2583.899902,\"high", "2.5e-400,\"high"),
            text.replace("\"HSI\"", "\"Ünï\""),
            text.replace(",\"volume\":0", ""),
            text.replace(",\"adj_close\":2583.899902", ""),
            text.replace(",\"close_usd\":335.90698726000005", ""),
        ];
        for t in &cases {
            let fast = decode_canonical(t.as_bytes()).unwrap_or_else(|| panic!("{t}"));
            assert_eq!(Ok(fast.clone()), general(t), "{t}");
            assert_eq!(fast.open.to_bits(), general(t).unwrap().open.to_bits());
        }
        // Anything else is left to serde_json (and decoded, or refused, as before).
        for t in [
            text.replace("2583.899902,\"high", "-0,\"high"),
            text.replace("2583.899902,\"high", "01,\"high"),
            text.replace("2583.899902,\"high", "1.,\"high"),
            text.replace("2583.899902,\"high", "1e400,\"high"),
            text.replace("2583.899902,\"high", "\"1\",\"high"),
            text.replace("\"volume\":0", "\"volume\":1.0"),
            text.replace("\"volume\":0", "\"volume\":99999999999999999999"),
            text.replace("\"HSI\"", "\"H\\u0053I\""),
            text.replace("1987-01-06", "1987-02-30"),
            text.replace(",\"open", " ,\"open"),
            format!("{text} "),
            text.replace("\"v\":1", "\"v\":10"),
        ] {
            assert_eq!(decode_canonical(t.as_bytes()), None, "{t}");
        }
    }

    #[test]
    fn decode_errors_are_specific() {
        assert!(matches!(
            decode_value(b"not json"),
            Err(DecodeError::Json(_))
        ));
        assert!(matches!(
            decode_value(br#"{"v":1,"symbol":"X"}"#),
            Err(DecodeError::Json(_))
        ));
        let v2 = br#"{"v":2,"symbol":"X","date":"2020-01-01","open":1,"high":1,"low":1,"close":1}"#;
        assert_eq!(decode_value(v2), Err(DecodeError::Version(2)));
        let bad =
            br#"{"v":1,"symbol":"X","date":"01/02/2020","open":1,"high":1,"low":1,"close":1}"#;
        assert_eq!(
            decode_value(bad),
            Err(DecodeError::Date("01/02/2020".into()))
        );
    }

    #[test]
    fn provenance_from_headers() {
        let h = [("source", &b"a.csv"[..]), ("line", b"42"), ("x", b"y")];
        assert_eq!(
            provenance(h),
            Some(Provenance {
                source: "a.csv".into(),
                line: 42
            })
        );
        assert_eq!(provenance([("source", &b"a.csv"[..])]), None);
    }
}
