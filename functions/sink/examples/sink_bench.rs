//! Sink benchmark driver (run by `.ci/bench-sink`; figures in BENCHMARKS.md).
//!
//! `sink_bench make-event OUT RECORDS` writes a self-managed Kafka event of generated,
//! real-shaped bars spread over three partitions, with one bad value in every 200 records
//! (not base64, not JSON, a low above the high) so the quarantine path runs too.
//!
//! `sink_bench run EVENT REPEATS` times the handler from the event's bytes to the stored
//! objects (JSON parse, base64, decode, validate, Parquet encode, commit to an in-memory
//! store) and prints one JSON line with the median time.
//!
//! `sink_bench stages EVENT REPEATS` prints the median time of the event's JSON parse, of
//! decoding and validating its records, and of the whole handler after the parse (profiling).
//!
//! `sink_bench once EVENT` does one such run and prints the process's peak RSS (`VmHWM`,
//! read here because a parent's `wait4` figure includes the parent's own pages when it forked).

use std::time::Instant;
use stockstream_core::generate::{write_csv, GenConfig};
use stockstream_core::kafka_event::{KafkaEvent, KafkaRecord};
use stockstream_core::message::encode_message;
use stockstream_core::reader::{read_all, Item, ReaderConfig};
use stockstream_sink::handler::{handle, SinkConfig, Summary};
use stockstream_sink::layout::Layout;
use stockstream_sink::parquet_file::Parquet;
use stockstream_store::Memory;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["make-event", out, n] => make_event(out, n.parse().expect("RECORDS is a number")),
        ["run", event, repeats] => run(event, repeats.parse().expect("REPEATS is a number")),
        ["stages", event, repeats] => stages(event, repeats.parse().expect("REPEATS is a number")),
        ["once", event] => {
            let bytes = std::fs::read(event).expect("read the event");
            let s = once(&bytes);
            println!(
                "{}",
                serde_json::json!({"rows": s.rows_written, "peak_rss_kib": peak_rss_kib()})
            );
        }
        _ => {
            eprintln!("usage: sink_bench make-event OUT RECORDS | run EVENT REPEATS | once EVENT");
            std::process::exit(2);
        }
    }
}

fn make_event(out: &str, records: usize) {
    let symbols = 40;
    let config = GenConfig {
        symbols,
        days: records.div_ceil(symbols),
        ..GenConfig::default()
    };
    let mut csv = vec![];
    write_csv(&config, &mut csv).expect("generate");
    let reader = ReaderConfig {
        source: "generated.csv".into(),
        ..Default::default()
    };
    let (items, _) = read_all(csv.as_slice(), reader).expect("read generated CSV");
    let mut offsets = [0i64; 3];
    let mut value = vec![];
    let mut out_records = vec![];
    for (i, item) in items.iter().take(records).enumerate() {
        let Item::Accepted(a) = item else {
            panic!("generated rows are valid")
        };
        let partition = (a.bar.symbol.bytes().map(u32::from).sum::<u32>() % 3) as usize;
        // As the producer sends it (message format v2: provenance in the value).
        let mut record = KafkaRecord::produced(
            "stock-bars",
            partition as i32,
            offsets[partition],
            1_764_115_200_000 + i as i64,
            &a.bar,
            "generated.csv",
            a.line,
        );
        offsets[partition] += 1;
        match i % 600 {
            199 => record.value = Some("not base64!".into()),
            399 => {
                record = KafkaRecord::new(
                    &record.topic,
                    record.partition,
                    record.offset,
                    record.timestamp,
                    Some(a.bar.symbol.as_bytes()),
                    Some(b"{\"v\":1,\"symbol\":"),
                    vec![],
                )
            }
            599 => {
                let mut bad = a.bar.clone();
                bad.low = bad.high * 2.0;
                let _ = encode_message(&bad, "generated.csv", a.line, &mut value);
                record = KafkaRecord::new(
                    &record.topic,
                    record.partition,
                    record.offset,
                    record.timestamp,
                    Some(a.bar.symbol.as_bytes()),
                    Some(&value),
                    vec![],
                )
            }
            _ => {}
        }
        out_records.push(record);
    }
    let event = KafkaEvent::self_managed("127.0.0.1:9092", out_records);
    std::fs::write(out, serde_json::to_vec(&event).expect("event as JSON")).expect("write event");
}

fn config() -> SinkConfig {
    SinkConfig {
        prefix: "lake/bars".into(),
        layout: Layout::Year,
        known_symbols: None,
        state_namespace: None,
        regressions: Default::default(),
    }
}

fn encoder() -> Parquet {
    Parquet {
        ingest_time_ms: 1_764_115_200_000,
    }
}

fn once(bytes: &[u8]) -> Summary {
    let event: KafkaEvent = serde_json::from_slice(bytes).expect("a Kafka event");
    let store = Memory::default();
    pollster::block_on(handle(&event, &store, &encoder(), &config())).expect("in-memory store")
}

fn run(event: &str, repeats: usize) {
    let bytes = std::fs::read(event).expect("read the event");
    let mut times = vec![];
    let mut summary = Summary::default();
    for _ in 0..repeats.max(1) {
        let t0 = Instant::now();
        summary = once(&bytes);
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{}",
        serde_json::json!({
            "records": summary.records_in,
            "rows": summary.rows_written,
            "quarantined": summary.quarantined,
            "objects": summary.objects_written,
            "bytes": summary.bytes_written,
            "median_s": median,
            "records_per_s": summary.records_in as f64 / median,
        })
    );
}

/// Median time of each stage of [`once`], for profiling: the event's JSON parse, decoding
/// and validating every record (`ingest`), and the whole handler after the parse.
fn stages(event: &str, repeats: usize) {
    let bytes = std::fs::read(event).expect("read the event");
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mut parse, mut ingest, mut handle_s) = (vec![], vec![], vec![]);
    for _ in 0..repeats.max(1) {
        let t0 = Instant::now();
        let event: KafkaEvent = serde_json::from_slice(&bytes).expect("a Kafka event");
        parse.push(t0.elapsed().as_secs_f64());
        let t0 = Instant::now();
        let n = event
            .records()
            .filter(|r| stockstream_core::ingest::ingest(r, None).is_ok())
            .count();
        ingest.push(t0.elapsed().as_secs_f64());
        assert!(n > 0);
        let t0 = Instant::now();
        let store = Memory::default();
        pollster::block_on(handle(&event, &store, &encoder(), &config())).expect("stored");
        handle_s.push(t0.elapsed().as_secs_f64());
    }
    println!(
        "{}",
        serde_json::json!({
            "parse_s": median(parse),
            "ingest_s": median(ingest),
            "handle_s": median(handle_s),
        })
    );
}

/// Peak resident set size of this process in KiB, from `/proc/self/status`.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM line")
}
