//! The pipeline's stages as functions: the sink behind the local trigger, compaction, the
//! crawler, the insights, and [`demo`], which runs the producer and then all of them. The CLI
//! (`main.rs`) only parses flags and prints; the end-to-end tests call the same binary.

use crate::bucket::Bucket;
use crate::catalog::{crawl, load, CrawlSummary, CATALOG_KEY};
use crate::engine::Engine;
use crate::suite;
use crate::trigger::{self, TriggerConfig, TriggerStats};
use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;
use stockstream_core::insights::{self, Params};
use stockstream_core::report::{FileRejects, Report};
use stockstream_producer::ProduceConfig;
use stockstream_sink::compact::{CompactOutcome, Compactor};
use stockstream_sink::handler::{handle, SinkConfig, Summary};
use stockstream_sink::metrics::emf_error_line;
use stockstream_sink::parquet_file::Parquet;

/// The bundled real data (the first 5,693 rows of the "Stock Exchange Data" set) and its
/// symbol list, built into the binary so the demo runs from anywhere.
pub const BUNDLED: [(&str, &str); 2] = [
    (
        "indexProcessed_head.csv",
        include_str!("../../../producer/data/indexProcessed_head.csv"),
    ),
    (
        "indexInfo.csv",
        include_str!("../../../producer/data/indexInfo.csv"),
    ),
];

/// A mistake in the user's flags or parameters (exit status 2), as opposed to a failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// How the sink stage runs.
#[derive(Debug, Clone)]
pub struct SinkOptions {
    /// The trigger's settings.
    pub trigger: TriggerConfig,
    /// Table prefix and layout.
    pub sink: SinkConfig,
    /// Fail every n-th write (fault injection).
    pub fail_every: Option<u64>,
}

/// Runs the local trigger in front of the sink handler until the topic is drained.
pub async fn sink(bucket: &Bucket, o: &SinkOptions, stop: Arc<AtomicBool>) -> Result<TriggerStats> {
    let store = Arc::new(bucket.store(o.fail_every));
    let rt = tokio::runtime::Handle::current();
    let (cfg, sink_cfg) = (o.trigger.clone(), o.sink.clone());
    let s = Arc::clone(&store);
    let outcome = tokio::task::spawn_blocking(move || {
        let mut last_report = Instant::now();
        trigger::run(
            &cfg,
            &stop,
            |event, _attempt| {
                let encoder = Parquet {
                    ingest_time_ms: Utc::now().timestamp_millis(),
                };
                rt.block_on(handle(event, &*s, &encoder, &sink_cfg))
                    .map_err(|e| {
                        // The metric line the Lambda logs for the same failure.
                        let now = Utc::now().timestamp_millis();
                        if let Some(line) = emf_error_line(&e, "StockStream", "stockstream-local", now) {
                            eprintln!("{line}");
                        }
                        e.to_string()
                    })
            },
            |stats| {
                if last_report.elapsed().as_secs_f64() >= 1.0 {
                    last_report = Instant::now();
                    eprintln!(
                        "  sink: {} batches, {} records, {} rows written, {} quarantined, {} already stored",
                        stats.batches,
                        stats.records,
                        stats.sink.rows_written,
                        stats.sink.quarantined,
                        stats.sink.already_stored
                    );
                }
            },
        )
    })
    .await
    .context("the trigger thread panicked")?;
    let stats = outcome?;
    eprintln!(
        "sink: {} batches ({} invocations, {} failed and retried{}), {} records: {} rows written, {} quarantined, {} already stored; {} objects, {} bytes",
        stats.batches,
        stats.invocations,
        stats.failed_invocations,
        if store.injected() > 0 {
            format!(", {} injected write failures", store.injected())
        } else {
            String::new()
        },
        stats.records,
        stats.sink.rows_written,
        stats.sink.quarantined,
        stats.sink.already_stored,
        stats.sink.objects_written,
        stats.sink.bytes_written
    );
    Ok(stats)
}

/// What a redrive did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RedriveSummary {
    /// Failure records read.
    pub failure_records: u64,
    /// The sink's counts over all of them.
    pub sink: Summary,
}

/// Where saved failure records are: `s3://BUCKET[/PREFIX]` or a local directory.
pub async fn read_failures(spec: &str, endpoint: Option<&str>) -> Result<Vec<(String, Vec<u8>)>> {
    let Some(rest) = spec.strip_prefix("s3://") else {
        let root = PathBuf::from(spec);
        if !root.is_dir() {
            bail!(UsageError(format!(
                "--failures {spec:?} is neither s3://BUCKET/PREFIX nor a directory"
            )));
        }
        return crate::bucket::walk(&root)?
            .into_iter()
            .map(|p| {
                let bytes =
                    std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
                Ok((p.display().to_string(), bytes))
            })
            .collect();
    };
    let (name, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let client = stockstream_store::client::from_env(endpoint).await;
    let mut keys = vec![];
    let mut pages = client
        .list_objects_v2()
        .bucket(name)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            anyhow::anyhow!(
                "listing {spec}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        })?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(String::from)),
        );
    }
    let mut out = vec![];
    for key in keys {
        let bytes = crate::bucket::download(&client, name, &key).await?;
        out.push((format!("s3://{name}/{key}"), bytes));
    }
    Ok(out)
}

/// Feeds saved failure records (Lambda's on-failure records with their payloads) through the
/// sink handler, in name order: the records of each failed batch land in the gap it left,
/// exactly once; a second redrive changes nothing.
pub async fn redrive(
    bucket: &Bucket,
    failures: &[(String, Vec<u8>)],
    config: &SinkConfig,
) -> Result<RedriveSummary> {
    let store = bucket.store(None);
    let mut out = RedriveSummary::default();
    for (name, bytes) in failures {
        let event = stockstream_sink::redrive::failed_event(bytes)
            .with_context(|| format!("failure record {name}"))?;
        let encoder = Parquet {
            ingest_time_ms: Utc::now().timestamp_millis(),
        };
        let s = handle(&event, &store, &encoder, config)
            .await
            .with_context(|| format!("redriving {name}"))?;
        eprintln!(
            "redrive: {name}: {} records: {} rows written ({} into gaps), {} quarantined, {} already stored",
            s.records_in, s.rows_written, s.gap_records, s.quarantined, s.already_stored
        );
        out.failure_records += 1;
        out.sink.merge(&s);
    }
    Ok(out)
}

/// Catalogs the lake (for S3, its mirror) and, for S3, uploads the catalog.
pub async fn crawl_stage(bucket: &Bucket, target: &str, database: &str) -> Result<CrawlSummary> {
    let dir = bucket.local_view().await?;
    let s = crawl(&dir, target, database)?;
    let at = bucket.upload(CATALOG_KEY).await?;
    eprintln!(
        "crawl: {} table(s) {:?}, {} partition(s) ({} new, {} removed), {} footer(s) read, new columns {:?}; catalog {} ({at})",
        s.tables.len(),
        s.tables,
        s.partitions,
        s.partitions_added,
        s.partitions_removed,
        s.files_read,
        s.columns_added,
        if s.catalog_written { "updated" } else { "unchanged" }
    );
    Ok(s)
}

/// Merges the small committed objects of the table under `prefix` (see
/// [`stockstream_sink::compact`]). Writes go straight to the bucket, never through injected
/// faults: those exercise the trigger.
pub async fn compact_stage(
    bucket: &Bucket,
    prefix: &str,
    target_rows: usize,
) -> Result<CompactOutcome> {
    let store = bucket.store(None);
    let c = Compactor {
        store: &store,
        prefix: prefix.to_string(),
        target_rows,
    };
    let o = c
        .run()
        .await
        .with_context(|| format!("compacting {prefix} in {}", bucket.describe()))?;
    eprintln!(
        "compact: {} object(s) merged into {} in {} folder(s), {} rows, {} -> {} bytes; {} left for the sink (not yet committed){}",
        o.objects_merged,
        o.objects_written,
        o.folders,
        o.rows,
        o.bytes_before,
        o.bytes_after,
        o.uncommitted,
        if o.recovered > 0 {
            format!("; finished {} interrupted merge(s)", o.recovered)
        } else {
            String::new()
        }
    );
    Ok(o)
}

/// What the insights stage reports on.
#[derive(Debug, Clone, Default)]
pub struct InsightOptions {
    /// First day; default one year before `to`.
    pub from: Option<String>,
    /// Last day; default the lake's last trading day.
    pub to: Option<String>,
    /// Symbols; default all.
    pub symbols: Vec<String>,
    /// The correlation's benchmark symbol; default the equal-weight mean.
    pub benchmark: Option<String>,
    /// Most and least correlated pairs to list; default [`insights::DEFAULT_PAIRS`].
    pub pairs: Option<u32>,
    /// Table.
    pub table: String,
    /// Rows the producer refused, per input file, shown in the report (the demo knows them).
    pub rejects: Vec<FileRejects>,
    /// Folder of reports in the bucket.
    pub reports_prefix: String,
}

/// A written report.
#[derive(Debug, Clone)]
pub struct Written {
    /// The report.
    pub report: Report,
    /// `report.html` on this machine.
    pub html: PathBuf,
    /// The report folder in the bucket (the same folder for a directory bucket).
    pub location: String,
}

/// Runs the insight suite on the catalogued lake and writes the report under
/// `reports_prefix/YYYY-MM-DD/HHMMSSZ/` (uploaded for S3).
pub async fn insights_stage(
    bucket: &Bucket,
    o: &InsightOptions,
    now: DateTime<Utc>,
) -> Result<Written> {
    let dir = bucket.local_view().await?;
    let catalog = load(&dir)?;
    if !catalog.tables.contains_key(&o.table) {
        return Err(UsageError(format!(
            "table {:?} is not in the catalog of {}; run `stockstream-local crawl` first",
            o.table,
            bucket.describe()
        ))
        .into());
    }
    let engine = Engine::new(&dir, &catalog).await?;
    let params = params(&engine, o).await?;
    eprintln!(
        "insights: {}..{} on {}",
        params.from,
        params.to,
        if params.symbols.is_empty() {
            "every symbol".to_string()
        } else {
            params.symbols.join(", ")
        }
    );
    let report = suite::run_all(
        &engine,
        &params,
        now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        |r| match &r.error {
            None => eprintln!(
                "  {:<18} {:>6} rows  {:>6} ms",
                r.name,
                r.rows.len(),
                r.elapsed_ms
            ),
            Some(e) => eprintln!("  {:<18} FAILED: {e}", r.name),
        },
    )
    .await;
    let report = Report {
        rejects: o.rejects.clone(),
        ..report
    };
    let rel = format!(
        "{}/{}/{}",
        o.reports_prefix.trim_matches('/'),
        now.format("%Y-%m-%d"),
        now.format("%H%M%SZ")
    );
    let local = dir.join(&rel);
    write_report(&local, &report)?;
    let location = bucket.upload(&rel).await?;
    Ok(Written {
        report,
        html: local.join("report.html"),
        location,
    })
}

/// The window and symbols: flags checked, defaults from the lake.
async fn params(engine: &Engine, o: &InsightOptions) -> Result<Params> {
    let usage = |e: String| anyhow::Error::from(UsageError(e));
    let to = match &o.to {
        Some(t) => Params::date("to", t).map_err(|e| usage(e.to_string()))?,
        None => {
            let Some(last) = suite::last_day(engine, &o.table).await? else {
                return Err(usage(format!("table {} holds no rows", o.table)));
            };
            Params::date("to", &last).context("the lake's last day")?
        }
    };
    let from = match &o.from {
        Some(f) => Params::date("from", f).map_err(|e| usage(e.to_string()))?,
        None => to - Duration::days(365),
    };
    let known = if o.symbols.is_empty() && o.benchmark.is_none() {
        None
    } else {
        Some(suite::symbols(engine, &o.table).await?)
    };
    Params::new(from, to, o.symbols.clone(), known.as_deref())
        .and_then(|p| p.with_benchmark(o.benchmark.clone(), known.as_deref()))
        .and_then(|p| p.with_pairs(o.pairs.unwrap_or(insights::DEFAULT_PAIRS)))
        .map_err(|e| usage(e.to_string()))
}

/// Writes the report's files ([`stockstream_core::report::files`]: one CSV per insight,
/// `report.json`, `report.html`) into `dir`.
pub fn write_report(dir: &Path, report: &Report) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for f in stockstream_core::report::files(report) {
        let path = dir.join(&f.name);
        std::fs::write(&path, f.body).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Everything the demo needs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// CSV files to stream; empty: the bundled real data.
    pub files: Vec<PathBuf>,
    /// Symbol list the producer checks rows against; with the bundled data, its own list.
    pub known_symbols: Option<PathBuf>,
    /// Kafka brokers; `None`: an embedded broker (librdkafka's mock cluster).
    pub brokers: Option<String>,
    /// Topic (created when missing).
    pub topic: String,
    /// Partitions of a topic the demo creates.
    pub partitions: i32,
    /// `s3://NAME` or a directory; `None`: `<dir>/bucket`.
    pub bucket: Option<String>,
    /// S3 API endpoint (moto, MinIO).
    pub s3_endpoint: Option<String>,
    /// Working directory: bundled data, producer state, rejects, S3 mirror, default bucket.
    pub dir: PathBuf,
    /// Sink settings (the trigger's brokers and topic are filled in by the demo).
    pub sink: SinkOptions,
    /// Extra Kafka client settings for the producer and the trigger.
    pub kafka: Vec<(String, String)>,
}

/// What the demo did, printed at the end and written as `summary.json` next to the report.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    /// Broker used (`embedded` or the bootstrap servers).
    pub brokers: String,
    /// Bucket used.
    pub bucket: String,
    /// Rows read from the CSV files.
    pub rows_read: u64,
    /// Rows the producer rejected (kept in `rejects_file` with their reasons).
    pub rejected: u64,
    /// The producer's rejects file.
    pub rejects_file: PathBuf,
    /// Rows delivered to Kafka in this run.
    pub delivered: u64,
    /// Rows an earlier run had already delivered.
    pub already_in_topic: u64,
    /// The trigger and sink.
    pub sink: TriggerStats,
    /// What compaction merged before the crawl.
    pub compacted: CompactOutcome,
    /// Lake partitions after the crawl.
    pub partitions: u64,
    /// Insights that ran, and how many there are.
    pub insights_ok: usize,
    /// Insights in the report.
    pub insights: usize,
    /// The report folder (local path or `s3://…`).
    pub report: String,
    /// `report.html` on this machine.
    pub report_html: PathBuf,
    /// Wall time.
    pub seconds: f64,
}

/// Fingerprint of the inputs, for the embedded broker's guard (see [`demo`]).
fn fingerprint(files: &[PathBuf], topic: &str, partitions: i32) -> Result<String> {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (topic, partitions).hash(&mut h);
    for f in files {
        let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        (f.file_name(), bytes).hash(&mut h);
    }
    Ok(format!("{:016x}", h.finish()))
}

/// The whole path on one machine: producer → Kafka → local trigger → sink → lake → crawl →
/// insights → report.
///
/// With real brokers the producer keeps a checkpoint in `dir/state`, so a second run sends
/// nothing and the trigger, resuming from its group's offsets, finds nothing new. The
/// embedded broker forgets its topic when the demo ends: a second run sends the same rows
/// again, they get the same offsets (one producer, same keys, same order), and the sink
/// recognises them as stored. That only holds for the same input, so the demo records the
/// input's fingerprint and refuses a different input on the same lake.
pub async fn demo(o: &DemoOptions, stop: Arc<AtomicBool>) -> Result<DemoSummary> {
    let t0 = Instant::now();
    let state = o.dir.join("state");
    std::fs::create_dir_all(&state).with_context(|| format!("creating {}", state.display()))?;
    let (files, known) = if o.files.is_empty() {
        let data = o.dir.join("data");
        std::fs::create_dir_all(&data)?;
        for (name, text) in BUNDLED {
            let p = data.join(name);
            if std::fs::read_to_string(&p).ok().as_deref() != Some(text) {
                std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
            }
        }
        (
            vec![data.join(BUNDLED[0].0)],
            Some(o.known_symbols.clone().unwrap_or(data.join(BUNDLED[1].0))),
        )
    } else {
        (o.files.clone(), o.known_symbols.clone())
    };
    let bucket_spec = o
        .bucket
        .clone()
        .unwrap_or_else(|| o.dir.join("bucket").display().to_string());
    let bucket = Bucket::open(
        &bucket_spec,
        o.s3_endpoint.as_deref(),
        &state.join("mirror"),
    )
    .await?;

    // 1. The broker.
    let mock;
    let (brokers, embedded) = match &o.brokers {
        Some(b) => {
            ensure_topic(b, &o.topic, o.partitions, &o.kafka).await?;
            (b.clone(), false)
        }
        None => {
            mock = rdkafka::mocking::MockCluster::new(1).context("starting the embedded broker")?;
            mock.create_topic(&o.topic, o.partitions, 1)
                .context("creating the topic on the embedded broker")?;
            (mock.bootstrap_servers(), true)
        }
    };
    eprintln!(
        "== 1/5 broker: {} (topic {}, {} partitions)",
        if embedded {
            format!("embedded ({brokers})")
        } else {
            brokers.clone()
        },
        o.topic,
        o.partitions
    );
    if embedded {
        let fp = fingerprint(&files, &o.topic, o.partitions)?;
        let guard = state.join("embedded-input.txt");
        match std::fs::read_to_string(&guard) {
            Ok(old) if old.trim() != fp => bail!(UsageError(format!(
                "the lake in {} was filled from other input through the embedded broker, whose offsets restart with each run; \
                 use a new --dir (or --bucket), or real --brokers",
                bucket.describe()
            ))),
            _ => std::fs::write(&guard, &fp)?,
        }
    }

    // 2. The producer.
    eprintln!("== 2/5 producer: {} file(s) to {}", files.len(), o.topic);
    let mut config = ProduceConfig::new(brokers.clone(), o.topic.clone(), files.clone());
    let rejects = state.join("rejects.jsonl");
    config.input.rejects = rejects.clone();
    if !embedded {
        config.checkpoint = Some(state.join("producer.checkpoint.json"));
    }
    config.input.known_symbols = known.clone();
    config.kafka.extra = o.kafka.clone();
    let stop_p = Arc::clone(&stop);
    let produced = tokio::task::spawn_blocking(move || {
        stockstream_producer::produce::produce(&config, &stop_p)
    })
    .await
    .context("the producer thread panicked")?
    .map_err(|e| anyhow::anyhow!("producer: {e}"))?;

    // 3. The sink, behind the local trigger.
    eprintln!(
        "== 3/5 sink: local Kafka trigger (group {}) into {}",
        o.sink.trigger.group_id,
        bucket.describe()
    );
    let mut sink_o = o.sink.clone();
    if embedded {
        // The embedded broker restarts its offsets with each run, under new timestamps: the
        // same input (checked above by its fingerprint) comes again, which the sink would
        // otherwise refuse as an offset regression.
        sink_o.sink.regressions = stockstream_sink::commit::Regressions::TreatAsStored;
    }
    sink_o.trigger.brokers = brokers.clone();
    sink_o.trigger.topic = o.topic.clone();
    sink_o.trigger.client.extend(o.kafka.iter().cloned());
    let sunk = sink(&bucket, &sink_o, Arc::clone(&stop)).await?;

    // 4. Compaction (one object per year instead of one per batch) and the crawler.
    eprintln!("== 4/5 compact and crawl");
    let compacted = compact_stage(
        &bucket,
        &sink_o.sink.prefix,
        stockstream_sink::compact::DEFAULT_TARGET_ROWS,
    )
    .await?;
    let crawled = crawl_stage(&bucket, "lake", "stockstream").await?;

    // 5. The insights and the report.
    eprintln!("== 5/5 insights");
    let written = insights_stage(
        &bucket,
        &InsightOptions {
            table: "bars".into(),
            reports_prefix: "reports".into(),
            rejects: produced
                .rejects_by_file
                .iter()
                .map(|(file, reasons)| FileRejects {
                    file: file.clone(),
                    reasons: reasons.clone(),
                })
                .collect(),
            ..Default::default()
        },
        Utc::now(),
    )
    .await?;
    let ok = written
        .report
        .insights
        .iter()
        .filter(|r| r.error.is_none())
        .count();
    let summary = DemoSummary {
        brokers: if embedded { "embedded".into() } else { brokers },
        bucket: bucket.describe(),
        rows_read: produced.read.rows,
        rejected: produced.read.rejected,
        rejects_file: rejects,
        delivered: produced.delivered,
        already_in_topic: produced.already_in_topic,
        sink: sunk,
        compacted,
        partitions: crawled.partitions,
        insights_ok: ok,
        insights: written.report.insights.len(),
        report: written.location.clone(),
        report_html: written.html.clone(),
        seconds: t0.elapsed().as_secs_f64(),
    };
    let json = written.html.with_file_name("summary.json");
    std::fs::write(&json, serde_json::to_vec_pretty(&summary)?)
        .with_context(|| format!("writing {}", json.display()))?;
    Ok(summary)
}

/// Creates the topic when the brokers do not have it (StockStream never relies on auto-creation).
async fn ensure_topic(
    brokers: &str,
    topic: &str,
    partitions: i32,
    extra: &[(String, String)],
) -> Result<()> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::config::ClientConfig;
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers);
    for (k, v) in extra {
        c.set(k, v);
    }
    let admin: AdminClient<DefaultClientContext> =
        c.create().context("creating the Kafka admin client")?;
    let md = admin
        .inner()
        .fetch_metadata(Some(topic), std::time::Duration::from_secs(10))
        .with_context(|| format!("cannot reach the brokers {brokers}"))?;
    let exists = md
        .topics()
        .iter()
        .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty());
    if exists {
        return Ok(());
    }
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let res = admin
        .create_topics([&new], &AdminOptions::new())
        .await
        .with_context(|| format!("creating topic {topic}"))?;
    for r in res {
        match r {
            Ok(_) => {}
            Err((_, rdkafka::error::RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, e)) => bail!("creating topic {t} on {brokers}: {e}"),
        }
    }
    // The controller has the topic now; the broker that answers the producer's metadata
    // request may learn of it a moment later (and then says "unknown topic"). Ready means
    // every partition has a leader in the metadata.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let md = admin
            .inner()
            .fetch_metadata(Some(topic), std::time::Duration::from_secs(10))
            .with_context(|| format!("cannot reach the brokers {brokers}"))?;
        let ready = md.topics().iter().any(|t| {
            t.name() == topic
                && t.error().is_none()
                && t.partitions().len() == partitions as usize
                && t.partitions()
                    .iter()
                    .all(|p| p.leader() >= 0 && p.error().is_none())
        });
        if ready {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            bail!("topic {topic} was created on {brokers} but its {partitions} partition(s) have no leader after 30 s");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

impl DemoSummary {
    /// The closing lines of the demo.
    pub fn print(&self) {
        let s = &self.sink.sink;
        println!("StockStream demo finished in {:.1} s", self.seconds);
        println!("  broker      {}", self.brokers);
        println!("  bucket      {}", self.bucket);
        println!(
            "  rows        {} read, {} rejected (-> {}), {} delivered to Kafka ({} already there)",
            self.rows_read,
            self.rejected,
            self.rejects_file.display(),
            self.delivered,
            self.already_in_topic
        );
        println!(
            "  lake        {} records consumed in {} batches: {} rows written, {} quarantined, {} already stored; {} objects, {} bytes",
            self.sink.records,
            self.sink.batches,
            s.rows_written,
            s.quarantined,
            s.already_stored,
            s.objects_written,
            s.bytes_written
        );
        println!(
            "  compaction  {} objects merged into {} ({} -> {} bytes)",
            self.compacted.objects_merged,
            self.compacted.objects_written,
            self.compacted.bytes_before,
            self.compacted.bytes_after
        );
        println!("  catalog     {} partition(s)", self.partitions);
        println!(
            "  insights    {} of {} ran",
            self.insights_ok, self.insights
        );
        println!("  report      {}", self.report);
        println!("  open        {}", self.report_html.display());
    }
}
