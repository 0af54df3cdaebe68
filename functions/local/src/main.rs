//! `stockstream-local`: StockStream on one machine. `demo` runs the whole path (producer →
//! Kafka → trigger → sink → lake → crawl → insights → report) with an embedded broker and a
//! local directory as the bucket unless told otherwise; each stage also runs on its own
//! (`produce`, `sink`, `compact`, `crawl`, `insights`), against real brokers and S3 when given;
//! `redrive` feeds failed batches saved by Lambda's trigger back through the sink.
//!
//! Exit status: 0 done (some insights may have failed, as the report says), 1 an error or
//! every insight failed, 2 a usage or parameter error; `produce` keeps the producer's codes.

mod rejects;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use stockstream_local::bucket::Bucket;
use stockstream_local::pipeline::{self, DemoOptions, InsightOptions, SinkOptions, UsageError};
use stockstream_local::trigger::{TriggerConfig, Until};
use stockstream_sink::handler::{check_namespace, SinkConfig};
use stockstream_sink::layout::Layout;

#[derive(Parser)]
#[command(
    version,
    about = "StockStream on one machine: the whole pipeline, or any stage of it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole pipeline, from CSV to report (embedded broker and a local bucket by default).
    Demo(DemoArgs),
    /// The producer: stream CSV files into Kafka (the flags of `stockstream-producer produce`).
    #[command(disable_help_flag = true)]
    Produce {
        /// Passed to `stockstream-producer produce`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The sink behind a local Kafka trigger: drain a topic into the lake.
    Sink(SinkArgs),
    /// Feed failed batches saved by Lambda's Kafka trigger (its S3 on-failure records) back
    /// through the sink: their records fill the gaps they left, exactly once.
    Redrive {
        #[command(flatten)]
        bucket: BucketArgs,
        /// The failure records: s3://BUCKET/PREFIX (the same --s3-endpoint) or a directory.
        #[arg(long)]
        failures: String,
        /// Key prefix of the bars table in the bucket.
        #[arg(long, default_value = "lake/bars")]
        prefix: String,
        /// Partition folders.
        #[arg(long, value_enum, default_value = "year")]
        layout: LayoutArg,
        /// The sink's state namespace (its SINK_STATE_NAMESPACE), if set.
        #[arg(long, env = "SINK_STATE_NAMESPACE")]
        state_namespace: Option<String>,
    },
    /// Merge the table's small committed objects into larger sorted ones, per partition.
    Compact {
        #[command(flatten)]
        bucket: BucketArgs,
        /// Key prefix of the table in the bucket.
        #[arg(long, default_value = "lake/bars")]
        prefix: String,
        /// Most rows per merged object.
        #[arg(long, default_value_t = stockstream_sink::compact::DEFAULT_TARGET_ROWS)]
        target_rows: usize,
    },
    /// Catalog the lake: tables, columns and Hive partitions, from the Parquet footers.
    Crawl {
        #[command(flatten)]
        bucket: BucketArgs,
        /// Folder of tables inside the bucket.
        #[arg(long, default_value = "lake")]
        target: String,
        /// Catalog database name.
        #[arg(long, default_value = "stockstream")]
        database: String,
    },
    /// Run the insight suite on the catalogued lake and write the report.
    Insights {
        #[command(flatten)]
        bucket: BucketArgs,
        /// First day of the report window (YYYY-MM-DD); default one year before --to.
        #[arg(long)]
        from: Option<String>,
        /// Last day of the report window (YYYY-MM-DD); default the lake's last trading day.
        #[arg(long)]
        to: Option<String>,
        /// Symbols to report on, comma-separated (at most 50; their correlation is the full
        /// matrix); default all.
        #[arg(long, value_delimiter = ',')]
        symbols: Vec<String>,
        /// The symbol (an index in the lake, e.g. HSI) every symbol's returns are correlated
        /// with; default the equal-weight mean of the report's symbols.
        #[arg(long)]
        benchmark: Option<String>,
        /// How many of the most and of the least correlated pairs to list (1 to 100).
        #[arg(long, default_value_t = stockstream_core::insights::DEFAULT_PAIRS)]
        pairs: u32,
        /// Table to read.
        #[arg(long, default_value = "bars")]
        table: String,
        /// Folder of reports inside the bucket.
        #[arg(long, default_value = "reports")]
        reports_prefix: String,
    },
    /// Summarise what was turned away, by reason and by file: the producer's rejects files
    /// and the sink's quarantine folder in the bucket.
    Rejects {
        /// The producer's rejects files (JSON lines, its --rejects).
        #[arg(value_name = "REJECTS_FILE")]
        files: Vec<PathBuf>,
        /// The bucket whose quarantine to read: a directory or s3://NAME.
        #[arg(long, env = "STOCKSTREAM_BUCKET")]
        bucket: Option<String>,
        /// S3 API endpoint for an s3:// bucket (moto, MinIO); default AWS.
        #[arg(long, env = "STOCKSTREAM_S3_ENDPOINT")]
        s3_endpoint: Option<String>,
        /// Where an s3:// bucket is mirrored to be read.
        #[arg(
            long,
            env = "STOCKSTREAM_MIRROR",
            default_value = "stockstream-demo/state/mirror"
        )]
        mirror: PathBuf,
        /// Key prefix of the table in the bucket; its quarantine is PREFIX/quarantine/.
        #[arg(long, default_value = "lake/bars")]
        prefix: String,
        /// Print the summary as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Where the lake is.
#[derive(Args, Clone)]
struct BucketArgs {
    /// A directory standing in for the bucket, or s3://NAME.
    #[arg(long, env = "STOCKSTREAM_BUCKET")]
    bucket: String,
    /// S3 API endpoint for s3:// buckets (moto, MinIO); default AWS. Credentials and region
    /// come from the usual AWS variables and files.
    #[arg(long, env = "STOCKSTREAM_S3_ENDPOINT")]
    s3_endpoint: Option<String>,
    /// Where an s3:// lake is mirrored for the local crawler and engine.
    #[arg(
        long,
        env = "STOCKSTREAM_MIRROR",
        default_value = "stockstream-demo/state/mirror"
    )]
    mirror: PathBuf,
}

impl BucketArgs {
    async fn open(&self) -> anyhow::Result<Bucket> {
        Bucket::open(&self.bucket, self.s3_endpoint.as_deref(), &self.mirror).await
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum LayoutArg {
    /// `year=YYYY/`
    Year,
    /// `year=YYYY/month=MM/`
    Month,
}

/// How the local trigger batches and retries, and how the sink writes.
#[derive(Args, Clone)]
struct TriggerArgs {
    /// Consumer group (the Lambda mapping's ConsumerGroupId).
    #[arg(long, env = "STOCKSTREAM_GROUP", default_value = "stockstream-sink")]
    group: String,
    /// Most records per invocation (BatchSize).
    #[arg(long, default_value_t = 1000)]
    batch_size: usize,
    /// Batching window in milliseconds (MaximumBatchingWindowInSeconds × 1000).
    #[arg(long, default_value_t = 500)]
    window_ms: u64,
    /// Attempts per batch before the trigger stops with the batch uncommitted.
    #[arg(long, default_value_t = 5)]
    max_attempts: u32,
    /// Keep running (a long-lived trigger) instead of stopping once every partition is read
    /// to the end it had.
    #[arg(long)]
    follow: bool,
    /// With --follow: stop once caught up and nothing arrived for this many milliseconds.
    #[arg(long, requires = "follow")]
    idle_ms: Option<u64>,
    /// Key prefix of the bars table in the bucket.
    #[arg(long, default_value = "lake/bars")]
    prefix: String,
    /// Partition folders.
    #[arg(long, value_enum, default_value = "year")]
    layout: LayoutArg,
    /// Start a new state namespace (a re-created topic, a new cluster): the sink's
    /// SINK_STATE_NAMESPACE; exactly once within it.
    #[arg(long, env = "SINK_STATE_NAMESPACE")]
    state_namespace: Option<String>,
    /// Testing: fail one write to the lake in N (pseudo-randomly), to exercise the retry path.
    #[arg(long, env = "STOCKSTREAM_INJECT_WRITE_FAILURES", hide = true)]
    inject_write_failures: Option<u64>,
}

fn namespace(name: &Option<String>) -> anyhow::Result<Option<String>> {
    let name = name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = name {
        check_namespace(n).map_err(|e| UsageError(format!("--state-namespace: {e}")))?;
    }
    Ok(name.map(String::from))
}

fn layout(l: LayoutArg) -> Layout {
    match l {
        LayoutArg::Year => Layout::Year,
        LayoutArg::Month => Layout::Month,
    }
}

impl TriggerArgs {
    fn options(
        &self,
        brokers: &str,
        topic: &str,
        extra: &[(String, String)],
    ) -> anyhow::Result<SinkOptions> {
        let mut t = TriggerConfig::new(brokers, topic);
        t.group_id = self.group.clone();
        t.batch_size = self.batch_size.max(1);
        t.window = Duration::from_millis(self.window_ms);
        t.max_attempts = self.max_attempts.max(1);
        t.until = match (self.follow, self.idle_ms) {
            (false, _) => Until::CaughtUp,
            (true, Some(ms)) => Until::Quiet(Duration::from_millis(ms)),
            (true, None) => Until::Stopped,
        };
        t.client = extra.to_vec();
        Ok(SinkOptions {
            trigger: t,
            sink: SinkConfig {
                prefix: self.prefix.trim_matches('/').to_string(),
                layout: layout(self.layout),
                known_symbols: None,
                state_namespace: namespace(&self.state_namespace)?,
                regressions: Default::default(),
            },
            fail_every: self.inject_write_failures,
        })
    }
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE"))
}

#[derive(Args)]
struct SinkArgs {
    #[command(flatten)]
    bucket: BucketArgs,
    /// Kafka bootstrap servers.
    #[arg(short, long, env = "STOCKSTREAM_BROKERS")]
    brokers: String,
    /// Topic to drain.
    #[arg(short, long, env = "STOCKSTREAM_TOPIC", default_value = "stock-bars")]
    topic: String,
    #[command(flatten)]
    trigger: TriggerArgs,
    /// Extra librdkafka setting (security, SASL), repeatable: -X security.protocol=SASL_SSL.
    #[arg(short = 'X', value_parser = parse_kv)]
    extra: Vec<(String, String)>,
}

#[derive(Args)]
struct DemoArgs {
    /// CSV files to stream; default the bundled real data (5,693 daily bars of the HSI index).
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Symbol list to check rows against (default: the bundled data's own list).
    #[arg(long)]
    known_symbols: Option<PathBuf>,
    /// Kafka bootstrap servers; default an embedded broker (librdkafka's mock cluster).
    #[arg(short, long, env = "STOCKSTREAM_BROKERS")]
    brokers: Option<String>,
    /// Topic (created when missing).
    #[arg(short, long, env = "STOCKSTREAM_TOPIC", default_value = "stock-bars")]
    topic: String,
    /// Partitions of a topic the demo creates.
    #[arg(long, default_value_t = 6)]
    partitions: i32,
    /// The bucket: a directory or s3://NAME; default DIR/bucket.
    #[arg(long, env = "STOCKSTREAM_BUCKET")]
    bucket: Option<String>,
    /// S3 API endpoint for an s3:// bucket (moto, MinIO); default AWS.
    #[arg(long, env = "STOCKSTREAM_S3_ENDPOINT")]
    s3_endpoint: Option<String>,
    /// Working directory: bundled data, producer state and rejects, S3 mirror, default bucket.
    #[arg(long, env = "STOCKSTREAM_DEMO_DIR", default_value = "stockstream-demo")]
    dir: PathBuf,
    #[command(flatten)]
    trigger: TriggerArgs,
    /// Extra librdkafka setting for producer and trigger, repeatable.
    #[arg(short = 'X', value_parser = parse_kv)]
    extra: Vec<(String, String)>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Produce { args } = &cli.command {
        // The producer keeps its own flags, runtime and exit codes.
        let mut argv = vec!["stockstream-producer".to_string(), "produce".to_string()];
        argv.extend(args.iter().cloned());
        return stockstream_producer::run_cli(argv);
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            eprintln!("stockstream-local: cannot install a signal handler: {e}");
            return ExitCode::from(1);
        }
    }
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match rt.block_on(run(cli.command, stop)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stockstream-local: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

async fn run(command: Command, stop: Arc<AtomicBool>) -> anyhow::Result<ExitCode> {
    match command {
        Command::Produce { .. } => unreachable!("handled in main"),
        Command::Demo(a) => {
            let options = DemoOptions {
                files: a.files,
                known_symbols: a.known_symbols,
                brokers: a.brokers,
                topic: a.topic,
                partitions: a.partitions,
                bucket: a.bucket,
                s3_endpoint: a.s3_endpoint,
                dir: a.dir,
                sink: a.trigger.options("", "", &[])?,
                kafka: a.extra,
            };
            let summary = pipeline::demo(&options, stop).await?;
            summary.print();
            Ok(all_failed(summary.insights_ok))
        }
        Command::Sink(a) => {
            let bucket = a.bucket.open().await?;
            let o = a.trigger.options(&a.brokers, &a.topic, &a.extra)?;
            pipeline::sink(&bucket, &o, stop).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Redrive {
            bucket,
            failures,
            prefix,
            layout: l,
            state_namespace,
        } => {
            let config = SinkConfig {
                prefix: prefix.trim_matches('/').to_string(),
                layout: layout(l),
                known_symbols: None,
                state_namespace: namespace(&state_namespace)?,
                regressions: Default::default(),
            };
            let lake = bucket.open().await?;
            let records = pipeline::read_failures(&failures, bucket.s3_endpoint.as_deref()).await?;
            let o = pipeline::redrive(&lake, &records, &config).await?;
            println!("{}", serde_json::to_string(&o)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Compact {
            bucket,
            prefix,
            target_rows,
        } => {
            let bucket = bucket.open().await?;
            let o = pipeline::compact_stage(&bucket, &prefix, target_rows).await?;
            println!("{}", serde_json::to_string(&o)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Crawl {
            bucket,
            target,
            database,
        } => {
            let bucket = bucket.open().await?;
            pipeline::crawl_stage(&bucket, &target, &database).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Insights {
            bucket,
            from,
            to,
            symbols,
            benchmark,
            pairs,
            table,
            reports_prefix,
        } => {
            let bucket = bucket.open().await?;
            let o = InsightOptions {
                from,
                to,
                symbols,
                benchmark,
                pairs: Some(pairs),
                table,
                reports_prefix,
                // The producer's rejects are the demo's to show; this command has none.
                rejects: vec![],
            };
            let w = pipeline::insights_stage(&bucket, &o, chrono::Utc::now()).await?;
            let ok = w
                .report
                .insights
                .iter()
                .filter(|r| r.error.is_none())
                .count();
            println!("{}", w.html.display());
            eprintln!(
                "insights: {} of {} ran, report in {}",
                ok,
                w.report.insights.len(),
                w.location
            );
            Ok(all_failed(ok))
        }
        Command::Rejects {
            files,
            bucket,
            s3_endpoint,
            mirror,
            prefix,
            json,
        } => {
            if files.is_empty() && bucket.is_none() {
                return Err(UsageError(
                    "give rejects files, --bucket for the sink's quarantine, or both".into(),
                )
                .into());
            }
            let mut summary = rejects::Summary::default();
            rejects::read_rejects_files(&mut summary, &files)?;
            if let Some(spec) = bucket {
                let bucket = Bucket::open(&spec, s3_endpoint.as_deref(), &mirror).await?;
                let root = bucket.local_view().await?;
                rejects::read_quarantine_folder(&mut summary, &root, &prefix)?;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print!("{}", rejects::table(&summary));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn all_failed(ok: usize) -> ExitCode {
    if ok == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
