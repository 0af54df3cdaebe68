//! The Kafka message format: version 2 is written, versions 1 and 2 are read.
//!
//! One bar per message. The **key** is the symbol, UTF-8, in both versions: Kafka's default
//! partitioner hashes the key, so every bar of a symbol lands in one partition and keeps its
//! order there. The first byte of the value tells the versions apart: `{` is version 1, `2`
//! is version 2; anything else is refused ([`DecodeError`]), never guessed at.
//!
//! ## Version 2 (written)
//!
//! - **value**: ASCII text, twelve comma-separated fields in this order, no quoting, no
//!   escapes, no trailing newline:
//!   `2,<line>,<symbol>,<date>[T<time>],<open>,<high>,<low>,<close>,<adj_close>,<volume>,<close_usd>,<source>`,
//!   e.g. `2,2,HSI,1986-12-31,2568.300049,2568.300049,2568.300049,2568.300049,2568.300049,0,333.87900637,indexProcessed.csv`.
//!   - `line`: the 1-based line number in the source, decimal.
//!   - `date` is ISO `YYYY-MM-DD`; intraday bars add `T` and the time (`T09:30:00`, with a
//!     fraction when there is one).
//!   - Prices are written as serde_json writes them (shortest round-trip form), so the value
//!     read back is bit-for-bit the value parsed from the CSV (float noise such as
//!     `335.90698726000005` included). `volume` is a decimal integer.
//!   - An absent optional value (`adj_close`, `volume`, `close_usd`) is an empty field. A
//!     non-finite price is written as an empty field too, as version 1 writes `null`: it
//!     reads back as absent for an optional field and is refused for a required one
//!     (`open`, `high`, `low`, `close`), again as version 1 does. The producer never sends
//!     one (the reader rejects such rows).
//!   - `source` (file name or S3 URI, UTF-8) comes last and runs to the end of the value, so
//!     it may contain commas.
//! - **headers**: none.
//!
//! The provenance travels in the value because headers cost every client on every message:
//! librdkafka allocates a header list and each header, and frees them after delivery, which
//! measured as the difference between the producer being slower and faster than a client
//! sending the raw CSV lines (BENCHMARKS.md). The value is also about the size of the CSV
//! line it comes from, where version 1's JSON was nearly twice that.
//!
//! A symbol the text cannot carry plainly (a comma, a quote, a control character or
//! non-ASCII) is sent as version 1 instead, with its headers ([`encode_message_into`] says
//! which it wrote).
//!
//! ## Version 1 (read; written only as that fallback)
//!
//! - **value**: a JSON object,
//!   `{"v":1,"symbol":"HSI","date":"1986-12-31","open":2568.300049,"high":…,"low":…,"close":…,
//!   "adj_close":…,"volume":0,"close_usd":333.87900637}`. `time` (`"09:30:00"`) appears only on
//!   intraday bars; `adj_close`, `volume` and `close_usd` only when the source has them; floats
//!   as in version 2, a non-finite one as `null`.
//! - **headers**: `source` (file name or S3 URI) and `line` (1-based line number in that
//!   source, decimal), read by [`provenance`].
//!
//! Topics written before version 2, and the sample events in `events/`, hold version 1; they
//! still decode, with their provenance ([`message_provenance`] reads whichever a message
//! has). A consumer must reject a version it does not know rather than guess; a new field or
//! a changed layout makes a new version.

use crate::date::iso_date_bytes;
use crate::record::Bar;
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use serde_json::ser::{CompactFormatter, Formatter};
use std::fmt;

/// The format version written by this library ([`encode_message_into`]).
pub const FORMAT_VERSION: u32 = 2;
/// The JSON version: still read, and still written where v2 cannot carry a bar (see
/// [`encode_message_into`]) or where JSON is wanted ([`encode_value`]).
pub const V1: u32 = 1;
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
    /// A text (v2) value that does not follow the layout, or a value that is neither JSON
    /// (v1) nor text (v2): what is wrong, in words.
    Malformed(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Json(e) => write!(f, "value is not a v1 bar: {e}"),
            DecodeError::Version(v) => write!(
                f,
                "unsupported message version {v} (this build reads 1 and {FORMAT_VERSION})"
            ),
            DecodeError::Date(t) => write!(f, "date/time {t:?} is not ISO 8601"),
            DecodeError::Malformed(why) => write!(f, "value is not a bar: {why}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Writes the version 1 JSON value of `bar` into `out`, replacing its content (the producer
/// writes version 2, [`encode_message`]; this is its fallback, and the JSON the sink's JSON
/// lines embed).
pub fn encode_value(bar: &Bar, out: &mut Vec<u8>) {
    out.clear();
    encode_value_into(bar, out);
}

/// Appends the version 1 JSON value of `bar` to `out`.
///
/// Daily bars whose symbol needs no JSON escape are written field by field, with serde_json's
/// own number formatting, so the bytes are those the private `encode_value_serde` writes
/// without its per-field dispatch (this was once per row on the producer's hot path, and still
/// is on the sink's JSON lines). Anything else goes through serde.
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
        v: V1,
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

/// How [`encode_message_into`] wrote a bar, and so whether the message needs headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Written {
    /// Version 2: the provenance is in the value; send no headers.
    V2,
    /// Version 1 (the symbol cannot be written plainly): send the `source` and `line`
    /// headers.
    V1,
}

impl Written {
    /// True when the message must carry the `source` and `line` headers.
    pub fn needs_headers(self) -> bool {
        self == Written::V1
    }
}

/// Appends the value of `bar`, read at `line` of `source`, to `out`: version 2 (provenance
/// inside) when the symbol can be written plainly, else version 1 JSON, whose provenance
/// goes in headers. The answer says which.
pub fn encode_message_into(bar: &Bar, source: &str, line: u64, out: &mut Vec<u8>) -> Written {
    if !bar.symbol.bytes().all(plain_symbol_byte) {
        encode_value_into(bar, out);
        return Written::V1;
    }
    out.reserve(120 + source.len());
    out.extend_from_slice(b"2,");
    let _ = CompactFormatter.write_u64(out, line);
    out.push(b',');
    out.extend_from_slice(bar.symbol.as_bytes());
    out.push(b',');
    out.extend_from_slice(&iso_date_bytes(bar.date));
    if let Some(t) = bar.time {
        use std::io::Write as _;
        let _ = write!(out, "T{t}");
    }
    for x in [bar.open, bar.high, bar.low, bar.close] {
        out.push(b',');
        write_f64_v2(out, Some(x));
    }
    out.push(b',');
    write_f64_v2(out, bar.adj_close);
    out.push(b',');
    if let Some(n) = bar.volume {
        let _ = CompactFormatter.write_u64(out, n);
    }
    out.push(b',');
    write_f64_v2(out, bar.close_usd);
    out.push(b',');
    out.extend_from_slice(source.as_bytes());
    Written::V2
}

/// [`encode_message_into`], replacing the content of `out`.
pub fn encode_message(bar: &Bar, source: &str, line: u64, out: &mut Vec<u8>) -> Written {
    out.clear();
    encode_message_into(bar, source, line, out)
}

/// Symbol bytes a v2 value carries as they are: printable ASCII except the field separator
/// and the quote (which would make the value look like quoted CSV to a human or a tool).
fn plain_symbol_byte(c: u8) -> bool {
    (0x20..0x7f).contains(&c) && c != b',' && c != b'"'
}

/// A v2 number field: serde_json's float form when present and finite, else nothing (an
/// empty field), as v1 writes `null`.
fn write_f64_v2(out: &mut Vec<u8>, x: Option<f64>) {
    if let Some(x) = x.filter(|x| x.is_finite()) {
        let _ = CompactFormatter.write_f64(out, x);
    }
}

/// Decodes a value of either version; a v2 value's provenance is dropped (see
/// [`decode_message`]).
pub fn decode_value(bytes: &[u8]) -> Result<Bar, DecodeError> {
    decode_message(bytes).map(|(bar, _)| bar)
}

/// Decodes a value of either version: the bar, and the provenance when the value carries it
/// (version 2; a version 1 message carries it in headers, see [`message_provenance`]).
pub fn decode_message(bytes: &[u8]) -> Result<(Bar, Option<Provenance>), DecodeError> {
    if let Some(fields) = bytes.strip_prefix(b"2,") {
        return decode_v2(fields).map(|(bar, p)| (bar, Some(p)));
    }
    match bytes.first() {
        Some(b'{') => decode_v1(bytes).map(|bar| (bar, None)),
        Some(b'0'..=b'9') => {
            let digits = bytes.iter().take_while(|c| c.is_ascii_digit()).count();
            let version = std::str::from_utf8(&bytes[..digits])
                .ok()
                .and_then(|v| v.parse::<u32>().ok());
            match (version, bytes.get(digits), bytes[0]) {
                (Some(v), Some(b','), b'1'..=b'9') if v > FORMAT_VERSION => {
                    Err(DecodeError::Version(v))
                }
                _ => Err(malformed(
                    "a text value starts with its version and a comma (\"2,\")",
                )),
            }
        }
        Some(_) => Err(malformed(
            "neither a JSON object (version 1) nor text starting \"2,\" (version 2)",
        )),
        None => Err(malformed("empty value")),
    }
}

/// Where a message came from: its v2 value's provenance, else its `source` and `line`
/// headers (v1); `None` when neither has it.
pub fn message_provenance<'a>(
    value: Option<&[u8]>,
    headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Option<Provenance> {
    match value.map(decode_message) {
        Some(Ok((_, Some(p)))) => Some(p),
        _ => provenance(headers),
    }
}

/// The fields of a v2 value after `2,`.
fn decode_v2(b: &[u8]) -> Result<(Bar, Provenance), DecodeError> {
    const NAMES: [&str; 10] = [
        "line",
        "symbol",
        "date",
        "open",
        "high",
        "low",
        "close",
        "adj_close",
        "volume",
        "close_usd",
    ];
    let mut f: [&[u8]; 10] = [&[]; 10];
    let mut rest = b;
    for (i, slot) in f.iter_mut().enumerate() {
        let Some(end) = rest.iter().position(|&c| c == b',') else {
            return Err(malformed(format!(
                "{} fields, a version 2 value has 12 (the last, source, may be empty)",
                i + 2
            )));
        };
        *slot = &rest[..end];
        rest = &rest[end + 1..];
    }
    let line = v2_u64(f[0]).ok_or_else(|| bad_field(NAMES[0], f[0]))?;
    let symbol = std::str::from_utf8(f[1]).map_err(|_| malformed("symbol is not UTF-8"))?;
    let (date_text, time_text) = match f[2].iter().position(|&c| c == b'T') {
        Some(t) => (&f[2][..t], Some(&f[2][t + 1..])),
        None => (f[2], None),
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let date = std::str::from_utf8(date_text)
        .ok()
        .and_then(iso_date)
        .ok_or_else(|| DecodeError::Date(text(f[2])))?;
    let time = time_text
        .map(|t| {
            std::str::from_utf8(t)
                .ok()
                .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M:%S%.f").ok())
                .ok_or_else(|| DecodeError::Date(text(f[2])))
        })
        .transpose()?;
    let required = |i: usize| -> Result<f64, DecodeError> {
        if f[i].is_empty() {
            return Err(malformed(format!("{} is empty", NAMES[i])));
        }
        v2_f64(f[i]).ok_or_else(|| bad_field(NAMES[i], f[i]))
    };
    let optional = |i: usize| -> Result<Option<f64>, DecodeError> {
        if f[i].is_empty() {
            return Ok(None);
        }
        v2_f64(f[i])
            .map(Some)
            .ok_or_else(|| bad_field(NAMES[i], f[i]))
    };
    let volume = if f[8].is_empty() {
        None
    } else {
        Some(v2_u64(f[8]).ok_or_else(|| bad_field(NAMES[8], f[8]))?)
    };
    let bar = Bar {
        symbol: symbol.to_string(),
        date,
        time,
        open: required(3)?,
        high: required(4)?,
        low: required(5)?,
        close: required(6)?,
        adj_close: optional(7)?,
        volume,
        close_usd: optional(9)?,
    };
    let source = std::str::from_utf8(rest).map_err(|_| malformed("source is not UTF-8"))?;
    Ok((
        bar,
        Provenance {
            source: source.to_string(),
            line,
        },
    ))
}

fn malformed(why: impl Into<String>) -> DecodeError {
    DecodeError::Malformed(why.into())
}

fn bad_field(name: &str, text: &[u8]) -> DecodeError {
    malformed(format!(
        "{name} {:?} is not a number",
        String::from_utf8_lossy(text)
    ))
}

/// A v2 unsigned integer: decimal digits only, fitting a `u64`.
fn v2_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// A v2 float: `-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?` (what serde_json writes, and nothing
/// Rust's parser also takes, such as `inf` or `+1`), finite, correctly rounded.
fn v2_f64(b: &[u8]) -> Option<f64> {
    let mut r = Cursor { b, at: 0 };
    if r.b.first() == Some(&b'-') {
        r.at = 1;
    }
    if r.digits() == 0 {
        return None;
    }
    r.fraction_and_exponent()?;
    if r.at != b.len() {
        return None;
    }
    let x: f64 = std::str::from_utf8(b).ok()?.parse().ok()?;
    x.is_finite().then_some(x)
}

/// Decodes a version 1 JSON value.
fn decode_v1(bytes: &[u8]) -> Result<Bar, DecodeError> {
    if let Some(bar) = decode_canonical(bytes) {
        return Ok(bar);
    }
    let w: WireIn = serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))?;
    if w.v == FORMAT_VERSION {
        return Err(malformed(
            "a JSON value says version 2, which is text (\"2,…\"), not JSON",
        ));
    }
    if w.v != V1 {
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

    /// A number's optional `\.[0-9]+` and `[eE][+-]?[0-9]+` after its integer digits, as
    /// both versions write them; `None` for a dot or an exponent without digits.
    fn fraction_and_exponent(&mut self) -> Option<()> {
        if self.tag(b".").is_some() && self.digits() == 0 {
            return None;
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
        Some(())
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
        self.fraction_and_exponent()?;
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

/// Where a message came from: in a v2 value, or in a v1 message's headers.
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
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            decode_value(br#"{"v":1,"symbol":"X"}"#),
            Err(DecodeError::Json(_))
        ));
        let v3 = br#"{"v":3,"symbol":"X","date":"2020-01-01","open":1,"high":1,"low":1,"close":1}"#;
        assert_eq!(decode_value(v3), Err(DecodeError::Version(3)));
        let v2_json = &String::from_utf8_lossy(v3).replace("\"v\":3", "\"v\":2");
        assert!(matches!(
            decode_value(v2_json.as_bytes()),
            Err(DecodeError::Malformed(m)) if m.contains("text")
        ));
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

    fn v2(text: &str) -> Result<(Bar, Option<Provenance>), DecodeError> {
        decode_message(text.as_bytes())
    }

    fn prov(source: &str, line: u64) -> Option<Provenance> {
        Some(Provenance {
            source: source.into(),
            line,
        })
    }

    #[test]
    fn v2_layout_is_stable() {
        let mut out = vec![];
        let w = encode_message(&bar(), "indexProcessed.csv", 2, &mut out);
        assert_eq!(w, Written::V2);
        assert!(!w.needs_headers());
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "2,2,HSI,1987-01-06,2583.899902,2583.899902,2583.899902,2583.899902,2583.899902,0,335.90698726000005,indexProcessed.csv"
        );
        assert_eq!(
            v2(std::str::from_utf8(&out).unwrap()),
            Ok((bar(), prov("indexProcessed.csv", 2)))
        );

        let mut b = bar();
        b.symbol = "000001.SS".into();
        b.time = NaiveTime::from_hms_milli_opt(9, 30, 0, 250);
        b.adj_close = None;
        b.volume = None;
        b.close_usd = None;
        b.low = -1.5;
        let src = "s3://bucket/a,b/ünï.csv";
        let w = encode_message(&b, src, 18_446_744_073_709_551_615, &mut out);
        assert_eq!(w, Written::V2);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "2,18446744073709551615,000001.SS,1987-01-06T09:30:00.250,2583.899902,2583.899902,-1.5,2583.899902,,,,s3://bucket/a,b/ünï.csv"
        );
        assert_eq!(decode_message(&out), Ok((b, prov(src, u64::MAX))));
    }

    #[test]
    fn symbols_the_text_cannot_carry_are_sent_as_v1_with_headers() {
        let mut out = vec![];
        for sym in ["A,B", "A\"B", "tab\t", "Ünï", "\u{7f}", "new\nline"] {
            let mut b = bar();
            b.symbol = sym.into();
            let w = encode_message(&b, "a.csv", 3, &mut out);
            assert_eq!(w, Written::V1, "{sym:?}");
            assert!(w.needs_headers());
            let mut v1 = vec![];
            encode_value(&b, &mut v1);
            assert_eq!(out, v1, "{sym:?}");
            assert_eq!(decode_message(&out), Ok((b, None)));
            let headers = [("source", &b"a.csv"[..]), ("line", b"3")];
            assert_eq!(message_provenance(Some(&out), headers), prov("a.csv", 3));
        }
        // Spaces, quotes' cousins and punctuation other than the comma are plain.
        for sym in ["BRK B", "^GSPC", "EURUSD=X", "A'B", ""] {
            let mut b = bar();
            b.symbol = sym.into();
            assert_eq!(
                encode_message(&b, "a.csv", 3, &mut out),
                Written::V2,
                "{sym:?}"
            );
            assert_eq!(decode_message(&out), Ok((b, prov("a.csv", 3))));
        }
    }

    #[test]
    fn provenance_comes_from_the_v2_value_else_the_headers() {
        let mut out = vec![];
        let _ = encode_message(&bar(), "x.csv", 5, &mut out);
        let headers = [("source", &b"a.csv"[..]), ("line", b"42")];
        assert_eq!(message_provenance(Some(&out), []), prov("x.csv", 5));
        assert_eq!(message_provenance(Some(&out), headers), prov("x.csv", 5));
        encode_value(&bar(), &mut out);
        assert_eq!(message_provenance(Some(&out), headers), prov("a.csv", 42));
        assert_eq!(message_provenance(Some(&out), []), None);
        assert_eq!(message_provenance(None, headers), prov("a.csv", 42));
        assert_eq!(
            message_provenance(Some(b"2,garbage"), headers),
            prov("a.csv", 42)
        );
    }

    #[test]
    fn non_finite_prices_read_back_as_v1_reads_them() {
        let mut b = bar();
        b.adj_close = Some(f64::NAN);
        b.close_usd = Some(f64::INFINITY);
        let (mut text, mut json) = (vec![], vec![]);
        let _ = encode_message(&b, "a.csv", 2, &mut text);
        encode_value(&b, &mut json);
        let (from_text, _) = decode_message(&text).unwrap();
        let from_json = decode_value(&json).unwrap();
        assert_eq!((from_text.adj_close, from_text.close_usd), (None, None));
        assert_eq!(from_text, from_json);
        b.open = f64::NEG_INFINITY;
        let _ = encode_message(&b, "a.csv", 2, &mut text);
        encode_value(&b, &mut json);
        assert_eq!(
            decode_message(&text),
            Err(DecodeError::Malformed("open is empty".into()))
        );
        assert!(matches!(decode_value(&json), Err(DecodeError::Json(_))));
    }

    #[test]
    fn malformed_v2_values_are_refused_with_what_is_wrong() {
        let good = "2,7,HSI,2020-01-02,1,2,0.5,1.5,1.25,10,0.2,a.csv";
        assert!(v2(good).is_ok());
        let malformed = |t: &str| match v2(t) {
            Err(DecodeError::Malformed(m)) => m,
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(malformed(""), "empty value");
        assert!(malformed("hello").contains("neither a JSON object"));
        assert!(malformed("2").contains("\"2,\""));
        assert!(malformed("1,7,HSI").contains("\"2,\""));
        assert!(
            malformed("02,7,HSI").contains("\"2,\""),
            "a leading zero is not 2"
        );
        assert!(malformed("2,").contains("2 fields"));
        assert!(malformed("2,7,HSI,2020-01-02,1,2,0.5,1.5,1.25,10,0.2").contains("11 fields"));
        assert_eq!(
            malformed(&good.replace(",7,", ",,")),
            "line \"\" is not a number"
        );
        assert_eq!(
            malformed(&good.replace(",7,", ",-7,")),
            "line \"-7\" is not a number"
        );
        assert_eq!(
            malformed(&good.replace(",7,", ",18446744073709551616,")),
            "line \"18446744073709551616\" is not a number"
        );
        assert_eq!(malformed(&good.replace(",1,2,", ",,2,")), "open is empty");
        assert_eq!(malformed(&good.replace(",1.5,", ",,")), "close is empty");
        for bad in [
            "inf", "NaN", "+1", "1.", ".5", "1e", "1e400", "1,5", " 1", "0x1", "1_0",
        ] {
            let m = malformed(&good.replace(",2,0.5,", &format!(",{bad},0.5,")));
            assert!(m.starts_with("high \"") || bad == "1,5", "{bad}: {m}");
        }
        for bad in ["1.5", "-1", "1e3", "18446744073709551616"] {
            assert_eq!(
                malformed(&good.replace(",10,", &format!(",{bad},"))),
                format!("volume {bad:?} is not a number")
            );
        }
        for bad in [
            "2020-02-30",
            "2020-1-02",
            "2020-01-02T",
            "2020-01-02T25:00:00",
            "2020-01-02 09:30:00",
            "x",
        ] {
            assert_eq!(
                v2(&good.replace("2020-01-02", bad)),
                Err(DecodeError::Date(bad.into())),
                "{bad}"
            );
        }
        let mut bytes = good.as_bytes().to_vec();
        bytes.push(0xff);
        assert_eq!(
            decode_message(&bytes),
            Err(DecodeError::Malformed("source is not UTF-8".into()))
        );
        assert_eq!(v2("3,7,HSI"), Err(DecodeError::Version(3)));
        assert_eq!(
            v2("3,7,HSI").unwrap_err().to_string(),
            "unsupported message version 3 (this build reads 1 and 2)"
        );
        // Numbers serde_json writes and Rust's parser reads, all accepted.
        for ok in [
            "-0.0",
            "1e21",
            "1e-7",
            "5e-324",
            "1.7976931348623157e308",
            "2.5E+3",
        ] {
            let (b, _) = v2(&good.replace(",2,0.5,", &format!(",{ok},0.5,"))).unwrap();
            assert_eq!(b.high, ok.parse::<f64>().unwrap(), "{ok}");
        }
    }

    fn finite() -> impl proptest::strategy::Strategy<Value = f64> {
        use proptest::prelude::*;
        prop_oneof![
            any::<u64>()
                .prop_map(f64::from_bits)
                .prop_filter("finite", |x| x.is_finite()),
            (0u32..10_000_000, 0u32..7).prop_map(|(n, e)| f64::from(n) / 10f64.powi(e as i32)),
        ]
    }

    fn any_bar(
        symbol: impl proptest::strategy::Strategy<Value = String>,
    ) -> impl proptest::strategy::Strategy<Value = Bar> {
        use proptest::prelude::*;
        let date = (0i32..=9999, 1u32..=366)
            .prop_filter_map("a date", |(y, d)| NaiveDate::from_yo_opt(y, d));
        let time = proptest::option::of(prop_oneof![
            (0u32..24, 0u32..60, 0u32..60)
                .prop_map(|(h, m, s)| NaiveTime::from_hms_opt(h, m, s).unwrap()),
            (0u32..86_400, 0u32..1_000_000_000).prop_map(|(s, n)| {
                NaiveTime::from_num_seconds_from_midnight_opt(s, n).unwrap()
            }),
        ]);
        (
            symbol,
            date,
            time,
            [finite(), finite(), finite(), finite()],
            proptest::option::of(finite()),
            proptest::option::of(any::<u64>()),
            proptest::option::of(finite()),
        )
            .prop_map(
                |(symbol, date, time, [open, high, low, close], adj_close, volume, close_usd)| {
                    Bar {
                        symbol,
                        date,
                        time,
                        open,
                        high,
                        low,
                        close,
                        adj_close,
                        volume,
                        close_usd,
                    }
                },
            )
    }

    fn same_bits(a: &Bar, b: &Bar) -> bool {
        let bits = |b: &Bar| {
            (
                [b.open, b.high, b.low, b.close].map(f64::to_bits),
                [b.adj_close, b.close_usd].map(|x| x.map(f64::to_bits)),
            )
        };
        (&a.symbol, a.date, a.time, a.volume) == (&b.symbol, b.date, b.time, b.volume)
            && bits(a) == bits(b)
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any bar with a plainly written symbol comes back from v2 bit for bit, with the
            /// provenance it was sent with (sources with commas and any Unicode included).
            #[test]
            fn v2_round_trips_any_bar_and_provenance(
                bar in any_bar("[ -+\\--~&&[^\"]]{0,12}"),
                source in proptest::collection::vec(
                    prop_oneof![Just(','), any::<char>()],
                    0..40,
                ).prop_map(|c| c.into_iter().collect::<String>()),
                line in any::<u64>(),
            ) {
                let mut out = vec![];
                prop_assert_eq!(encode_message(&bar, &source, line, &mut out), Written::V2);
                prop_assert!(out.is_ascii() || !source.is_ascii());
                let (back, p) = decode_message(&out).unwrap();
                prop_assert!(same_bits(&back, &bar), "{:?} != {:?}", back, bar);
                prop_assert_eq!(p, prov(&source, line));
            }

            /// Any symbol: v2 when every byte is plain, else exactly the v1 JSON (its provenance
            /// then in headers); both decode to the same bar.
            #[test]
            fn symbols_choose_the_version(bar in any_bar(any::<String>()), line in 0u64..1000) {
                let (mut out, mut v1) = (vec![], vec![]);
                let w = encode_message(&bar, "a,b.csv", line, &mut out);
                prop_assert_eq!(w == Written::V2, bar.symbol.bytes().all(plain_symbol_byte));
                let (back, p) = decode_message(&out).unwrap();
                prop_assert!(same_bits(&back, &bar));
                if w == Written::V1 {
                    encode_value(&bar, &mut v1);
                    prop_assert_eq!(&out, &v1);
                    prop_assert_eq!(p, None);
                } else {
                    prop_assert_eq!(p, prov("a,b.csv", line));
                }
            }

            /// A v1 JSON value still decodes to the bar, its provenance read from the headers.
            #[test]
            fn v1_messages_still_decode_with_their_headers(bar in any_bar(any::<String>()), line in any::<u64>()) {
                let mut out = vec![];
                encode_value(&bar, &mut out);
                let (back, p) = decode_message(&out).unwrap();
                prop_assert!(same_bits(&back, &bar));
                prop_assert_eq!(p, None);
                let line_text = line.to_string();
                let headers = [("source", &b"old.csv"[..]), ("line", line_text.as_bytes())];
                prop_assert_eq!(message_provenance(Some(&out), headers), prov("old.csv", line));
            }

            /// Cut or altered anywhere, a v2 value decodes or is refused; it never panics.
            #[test]
            fn damaged_v2_values_never_panic(
                bar in any_bar("[A-Z.^]{0,6}"),
                cut in any::<proptest::sample::Index>(),
                at in any::<proptest::sample::Index>(),
                byte in any::<u8>(),
            ) {
                let mut out = vec![];
                let _ = encode_message(&bar, "a.csv", 9, &mut out);
                let _ = decode_message(&out[..cut.index(out.len() + 1)]);
                let i = at.index(out.len());
                out[i] = byte;
                let _ = decode_message(&out);
            }
        }
    }
}
