//! Replay's memory on large files (see BENCHMARKS.md and `.ci/bench-replay`):
//!
//! - `replay_rss generate FILE SYMBOLS DAYS` writes a generated CSV in the seed layout;
//! - `replay_rss upload ENDPOINT BUCKET KEY FILE` creates the bucket and puts the file
//!   (streamed from disk);
//! - `replay_rss run ENDPOINT BUCKET KEY BROKERS TOPIC WORKDIR` hands the S3 event of that
//!   object to the replay handler, as Lambda would, and prints one JSON line: rows, delivered,
//!   rejected, seconds, and the process's peak RSS (`VmHWM`).
//!
//! Each step is its own process, so the peak RSS of `run` is the replay's alone.

use aws_sdk_s3::primitives::ByteStream;
use std::time::Instant;
use stockstream_replay::config::ReplayConfig;
use stockstream_replay::event::S3Event;
use stockstream_replay::handler::handle;

fn client(endpoint: &str) -> aws_sdk_s3::Client {
    let aws = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
            aws_sdk_s3::config::Credentials::new("test", "test", None, None, "bench"),
        ))
        .build();
    stockstream_store::client::s3(&aws, Some(endpoint))
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM line")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a: Vec<String> = std::env::args().collect();
    match a.get(1).map(String::as_str) {
        Some("generate") => {
            let config = stockstream_core::generate::GenConfig {
                symbols: a[3].parse().expect("SYMBOLS"),
                days: a[4].parse().expect("DAYS"),
                ..Default::default()
            };
            let f = std::io::BufWriter::new(std::fs::File::create(&a[2]).expect("FILE"));
            let rows = stockstream_core::generate::write_csv(&config, f).expect("writing");
            println!("{{\"rows\": {rows}}}");
        }
        Some("upload") => {
            let c = client(&a[2]);
            let _ = c.create_bucket().bucket(&a[3]).send().await;
            let body = ByteStream::from_path(&a[5]).await.expect("FILE");
            c.put_object()
                .bucket(&a[3])
                .key(&a[4])
                .body(body)
                .send()
                .await
                .expect("upload");
        }
        Some("run") => {
            let c = client(&a[2]);
            let (bucket, key, brokers, topic) = (&a[3], &a[4], a[5].clone(), a[6].clone());
            let cfg = ReplayConfig::from_env(|k| match k {
                "KAFKA_BROKERS" => Some(brokers.clone()),
                "KAFKA_TOPIC" => Some(topic.clone()),
                _ => None,
            })
            .expect("config");
            let event: S3Event = serde_json::from_value(serde_json::json!({"Records": [{
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key}}
            }]}))
            .expect("event");
            let t0 = Instant::now();
            let out = handle(&c, &cfg, &event, None, "bench", std::path::Path::new(&a[7]))
                .await
                .expect("replay");
            let r = &out.objects[0];
            println!(
                "{}",
                serde_json::json!({
                    "rows": r.rows, "delivered": r.delivered, "rejected": r.rejected,
                    "complete": r.complete, "bytes_downloaded": r.bytes_downloaded,
                    "seconds": t0.elapsed().as_secs_f64(), "peak_rss_kb": vm_hwm_kb(),
                })
            );
        }
        _ => {
            eprintln!("usage: replay_rss generate FILE SYMBOLS DAYS | upload ENDPOINT BUCKET KEY FILE | run ENDPOINT BUCKET KEY BROKERS TOPIC WORKDIR");
            std::process::exit(2);
        }
    }
}
