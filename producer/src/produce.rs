//! The `produce` and `validate` commands: read → validate → encode → send, with rejects,
//! pacing, progress, checkpoints and a summary.
//!
//! One thread does everything. Kafka delivery reports are handled when this thread polls the
//! producer, which it does between rows and while it waits (for pacing or a full queue), so
//! there is no locking on the hot path beyond an uncontended mutex.

use crate::checkpoint::{Checkpoint, SourceState};
use crate::cli::{InputArgs, ProduceArgs, ValidateArgs};
use crate::kafka::{self, Context};
use crate::pacing::{Pacer, Pacing};
use crate::progress::{Counts, Progress};
use crate::tracker::{Snapshot, Tracker};
use anyhow::{bail, Context as _, Result};
use chrono::NaiveDateTime;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stockstream_core::date::DateOrder;
use stockstream_core::date_order::OrderCounts;
use stockstream_core::layout::Column;
use stockstream_core::message::{self, encode_value_into};
use stockstream_core::reader::{
    read_layout, scan_date_order, BarReader, Item, ReadStats, ReaderConfig, ScanLimit, SCAN_BYTES,
};
use stockstream_core::reject::RejectWriter;
use stockstream_core::symbols::{normalise, ticker_from_file_name, Symbols};
use stockstream_core::Bar;

/// What a run did, printed at the end and optionally written as JSON.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Files read (or skipped as already complete).
    pub files: u64,
    /// How each input is read: its symbol and day/month order.
    pub inputs: Vec<InputInfo>,
    /// Reader counts over all files.
    pub read: ReadStats,
    /// Rejected rows per input file, by reason code (files without rejects are left out).
    pub rejects_by_file: BTreeMap<String, BTreeMap<String, u64>>,
    /// Rows acknowledged by Kafka in this run.
    pub delivered: u64,
    /// Rows a previous, interrupted run had already delivered.
    pub already_in_topic: u64,
    /// Rows that were sent and failed.
    pub failed: u64,
    /// Accepted rows that are not in Kafka at the end (failed, or never sent because the run
    /// stopped early).
    pub missing: u64,
    /// Delivery failures by reason.
    pub failures: BTreeMap<String, u64>,
    /// Rows delivered per partition in this run.
    pub per_partition: BTreeMap<i32, u64>,
    /// True when stopped by SIGINT/SIGTERM.
    pub interrupted: bool,
    /// Set when Kafka refused rows for good and the run stopped early.
    pub aborted: Option<String>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Rejects file.
    pub rejects_file: PathBuf,
}

impl Summary {
    /// Adds one file's reader counts: to the totals, and its rejects to the per-file table.
    fn add_read(&mut self, source: &str, stats: &ReadStats) {
        self.read.merge(stats);
        if stats.rejected > 0 {
            let per = self.rejects_by_file.entry(source.to_string()).or_default();
            for (code, n) in &stats.rejects_by_code {
                *per.entry(code.clone()).or_default() += n;
            }
        }
    }

    /// Accepted rows not (yet) in Kafka.
    fn count_missing(&self) -> u64 {
        self.read
            .accepted
            .saturating_sub(self.delivered + self.already_in_topic)
    }

    /// Prints the human-readable summary to stdout.
    pub fn print(&self, verb: &str) {
        let r = &self.read;
        let rate = r.rows as f64 / self.seconds.max(1e-9);
        println!(
            "stockstream-producer {verb}: {} in {:.2}s",
            if self.interrupted {
                "interrupted"
            } else {
                "finished"
            },
            self.seconds
        );
        println!("  files       {}", self.files);
        for i in self.inputs.iter().take(20) {
            println!("  input       {}", i.describe());
        }
        if self.inputs.len() > 20 {
            println!("  input       … and {} more", self.inputs.len() - 20);
        }
        println!(
            "  rows        {} (accepted {}, rejected {}; {} blank lines skipped)",
            r.rows, r.accepted, r.rejected, r.blank
        );
        let join = |m: &BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        if !r.warnings_by_code.is_empty() {
            println!("  warnings    {}", join(&r.warnings_by_code));
        }
        if r.rejected > 0 {
            println!(
                "  rejects     {}  -> {}",
                join(&r.rejects_by_code),
                self.rejects_file.display()
            );
            if self.rejects_by_file.len() > 1 {
                for (file, codes) in self.rejects_by_file.iter().take(20) {
                    let n: u64 = codes.values().sum();
                    println!("    {file}: {n} ({})", join(codes));
                }
            }
        }
        if verb == "produce" {
            println!(
                "  delivered   {} this run, {} already in the topic, {} failed, {} missing",
                self.delivered, self.already_in_topic, self.failed, self.missing
            );
            if !self.failures.is_empty() {
                println!("  failures    {}", join(&self.failures));
            }
            if let Some(why) = &self.aborted {
                println!("  stopped     {why}");
            }
        }
        if verb == "validate" || self.delivered > 0 {
            println!("  throughput  {rate:.0} rows/s");
        }
    }

    fn write_json(&self, path: Option<&Path>) -> Result<()> {
        if let Some(p) = path {
            fs::write(p, serde_json::to_vec_pretty(self)?)
                .with_context(|| format!("writing {}", p.display()))?;
        }
        Ok(())
    }
}

/// One input file, resolved.
struct Source {
    path: PathBuf,
    name: String,
    config: ReaderConfig,
    len: u64,
    info: InputInfo,
}

/// How one input is read, as the summary reports it.
#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    /// The source name (`source` header).
    pub source: String,
    /// The ticker given to every row when the file has no symbol column.
    pub symbol: Option<String>,
    /// Where the symbol comes from: `column`, `--symbol` or `file name`.
    pub symbol_from: &'static str,
    /// The day/month order the file is read with: `dmy`, `mdy`, or `auto` when no date needs
    /// one.
    pub date_order: &'static str,
    /// True when the order was decided from the file's dates (`--date-order auto`).
    pub date_order_decided: bool,
    /// The dates the decision was made from (with `auto`).
    pub date_counts: Option<OrderCounts>,
}

impl InputInfo {
    fn describe(&self) -> String {
        let symbol = match &self.symbol {
            None => "symbols from its symbol column".to_string(),
            Some(s) => format!("symbol {s} (from the {})", self.symbol_from),
        };
        let dates = match (&self.date_counts, self.date_order) {
            (Some(c), "dmy") => format!(
                "dates day-first (decided: {} dates read only day-first, none month-first)",
                c.day_first
            ),
            (Some(c), "mdy") => format!(
                "dates month-first (decided: {} dates read only month-first, none day-first)",
                c.month_first
            ),
            (Some(_), _) => "dates need no day/month order".to_string(),
            (None, order) => format!("dates read {order} (--date-order)"),
        };
        format!("{}: {symbol}; {dates}", self.source)
    }
}

fn order_name(o: DateOrder) -> &'static str {
    match o {
        DateOrder::Auto => "auto",
        DateOrder::Dmy => "dmy",
        DateOrder::Mdy => "mdy",
    }
}

/// Resolves every input before anything is read or sent: its header, its symbol (the
/// column, `--symbol`, or the ticker its file name starts with) and, with `--date-order auto`,
/// its day/month order. A file whose dates disagree on the order, or none of whose dates
/// decides it, refuses the whole run here, before a single row is sent.
///
/// The order comes from a scan of the date column of the file's start ([`SCAN_BYTES`]),
/// extended to the end only while its dates are all ambiguous: a cheap pass for any file size,
/// and deterministic, so a resumed run decides the same way. A row past the scanned part that
/// contradicts the decided order is rejected on its own, saying so.
fn sources(input: &InputArgs, source_name: Option<&str>) -> Result<Vec<Source>> {
    if source_name.is_some() && input.files.len() > 1 {
        bail!(
            "--source-name names one file, but {} were given",
            input.files.len()
        );
    }
    let flag_symbol = match input.symbol.as_deref().map(normalise) {
        Some(s) if s.is_empty() => bail!("--symbol is empty"),
        s => s.map(|s| s.into_owned()),
    };
    let known = match &input.known_symbols {
        Some(p) => {
            let f = File::open(p)
                .with_context(|| format!("opening known-symbols file {}", p.display()))?;
            let s = Symbols::read(BufReader::new(f))
                .with_context(|| format!("reading known-symbols file {}", p.display()))?;
            if s.is_empty() {
                bail!("known-symbols file {} lists no symbols", p.display());
            }
            Some(Arc::new(s))
        }
        None => None,
    };
    let mut out = vec![];
    for path in &input.files {
        let meta =
            fs::metadata(path).with_context(|| format!("cannot read input {}", path.display()))?;
        if !meta.is_file() {
            bail!("input {} is not a file", path.display());
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let name = source_name.map(str::to_string).unwrap_or(file_name.clone());
        let input_file = || -> Result<BufReader<File>> {
            let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
            Ok(BufReader::with_capacity(1 << 16, f))
        };
        let (layout, date_order, date_counts) = match input.date_order {
            DateOrder::Auto => {
                let limit = match input.date_scan_limit {
                    Some(n) => ScanLimit::Strict(n),
                    None => ScanLimit::UntilDecided(SCAN_BYTES),
                };
                let scan = scan_date_order(input_file()?, &name, limit)?;
                let order = scan.decision.map_err(|refusal| {
                    anyhow::anyhow!(
                        "{name}: refused, nothing sent: {refusal}. Pass --date-order dmy (day \
                         first) or --date-order mdy (month first) to read it one way; rows that \
                         do not fit that order are then rejected one by one"
                    )
                })?;
                (scan.layout, order.date_order(), Some(scan.counts))
            }
            given => (read_layout(input_file()?, &name)?, given, None),
        };
        let (symbol, symbol_from) = if layout.position(Column::Symbol).is_some() {
            (None, "column")
        } else if let Some(s) = &flag_symbol {
            (Some(s.clone()), "--symbol")
        } else {
            let ticker = ticker_from_file_name(&file_name).map_err(|e| {
                anyhow::anyhow!("{name}: no symbol column in the header, and {e}; pass --symbol")
            })?;
            (Some(ticker), "file name")
        };
        out.push(Source {
            path: path.clone(),
            config: ReaderConfig {
                source: name.clone(),
                default_symbol: symbol.clone(),
                date_order,
                known_symbols: known.clone(),
            },
            info: InputInfo {
                source: name.clone(),
                symbol,
                symbol_from,
                date_order: order_name(date_order),
                date_order_decided: date_counts.is_some(),
                date_counts,
            },
            name,
            len: meta.len(),
        });
    }
    Ok(out)
}

fn open_reader(src: &Source, resume: Option<&Snapshot>) -> Result<BarReader<BufReader<File>>> {
    let open = || File::open(&src.path).with_context(|| format!("opening {}", src.path.display()));
    let Some(snap) = resume.filter(|s| s.lines_before > 0) else {
        return Ok(BarReader::new(
            BufReader::with_capacity(1 << 16, open()?),
            src.config.clone(),
        ));
    };
    let mut head = BarReader::new(BufReader::new(open()?), src.config.clone());
    let layout = head.read_header()?.clone();
    let mut f = open()?;
    f.seek(SeekFrom::Start(snap.offset))?;
    Ok(BarReader::resume(
        BufReader::with_capacity(1 << 16, f),
        src.config.clone(),
        layout,
        snap.lines_before,
        snap.offset,
        snap.stats.clone(),
    ))
}

/// Opens the rejects file: emptied for a new run, appended to when a checkpoint is resumed
/// (earlier files' rejects stay; a resumed file truncates back to its checkpoint).
fn open_rejects(path: &Path, keep: bool) -> Result<(File, u64)> {
    let mut options = OpenOptions::new();
    if keep {
        options.create(true).append(true);
    } else {
        options.create(true).write(true).truncate(true);
    }
    let f = options
        .open(path)
        .with_context(|| format!("opening rejects file {}", path.display()))?;
    let len = f.metadata()?.len();
    Ok((f, len))
}

fn check_rejects_limit(input: &InputArgs, s: &Summary) -> Result<(), RunError> {
    match input.max_rejects {
        Some(max) if s.read.rejected > max => Err(RunError::TooManyRejects {
            rejected: s.read.rejected,
            max,
        }),
        _ => Ok(()),
    }
}

/// Outcomes that map to their own exit status.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Some accepted rows are not in Kafka.
    #[error("{missing} accepted rows were not delivered{}", if why.is_empty() { String::new() } else { format!(" ({why})") })]
    Undelivered {
        /// How many.
        missing: u64,
        /// Why the run stopped early, if it did.
        why: String,
    },
    /// Rejects above the limit.
    #[error("{rejected} rows rejected, more than --max-rejects {max}")]
    TooManyRejects {
        /// Rejected rows.
        rejected: u64,
        /// The limit.
        max: u64,
    },
    /// Stopped by a signal.
    #[error("interrupted")]
    Interrupted,
    /// Anything else.
    #[error(transparent)]
    Fatal(#[from] anyhow::Error),
}

/// `validate`: read and check, write rejects, send nothing.
pub fn validate(args: &ValidateArgs, stop: &AtomicBool) -> Result<Summary, RunError> {
    let start = Instant::now();
    let srcs = sources(&args.input, None)?;
    let (file, len) = open_rejects(&args.input.rejects, false)?;
    let mut rejects = RejectWriter::new(file, len);
    let mut summary = Summary {
        rejects_file: args.input.rejects.clone(),
        inputs: srcs.iter().map(|s| s.info.clone()).collect(),
        ..Default::default()
    };
    for src in &srcs {
        let mut reader = open_reader(src, None)?;
        let mut progress = Progress::new(args.input.progress, &src.name, src.len, 0);
        let mut n = 0u64;
        while let Some(item) = reader.next_item().map_err(anyhow::Error::from)? {
            if let Item::Rejected(r) = item {
                rejects.write(&r).context("writing rejects")?;
            }
            n += 1;
            if n.is_multiple_of(4096) {
                let s = reader.stats();
                progress.update(Counts {
                    rows: s.rows,
                    rejected: s.rejected,
                    delivered: 0,
                    bytes: reader.position(),
                });
                if stop.load(Ordering::Relaxed) {
                    summary.interrupted = true;
                    break;
                }
            }
        }
        progress.finish();
        summary.files += 1;
        summary.add_read(&src.name, reader.stats());
        if summary.interrupted {
            break;
        }
    }
    summary.seconds = start.elapsed().as_secs_f64();
    summary.print("validate");
    summary.write_json(args.input.summary_json.as_deref())?;
    if summary.interrupted {
        return Err(RunError::Interrupted);
    }
    check_rejects_limit(&args.input, &summary)?;
    Ok(summary)
}

type Kafka = BaseProducer<Context>;

/// Rows ready to send, packed into a few reused buffers: one allocation per batch, not per
/// row, on the hot path between the reader and the sender.
#[derive(Default)]
struct RowBatch {
    lines: Vec<u64>,
    times: Vec<NaiveDateTime>,
    keys: Vec<u8>,
    key_ends: Vec<usize>,
    values: Vec<u8>,
    value_ends: Vec<usize>,
}

impl RowBatch {
    const ROWS: usize = 1024;

    fn clear(&mut self) {
        self.lines.clear();
        self.times.clear();
        self.keys.clear();
        self.key_ends.clear();
        self.values.clear();
        self.value_ends.clear();
    }

    fn len(&self) -> usize {
        self.lines.len()
    }

    fn push(&mut self, line: u64, bar: &Bar) {
        self.lines.push(line);
        self.times.push(bar.timestamp());
        self.keys.extend_from_slice(message::key(bar));
        self.key_ends.push(self.keys.len());
        encode_value_into(bar, &mut self.values);
        self.value_ends.push(self.values.len());
    }

    fn get(&self, i: usize) -> (u64, NaiveDateTime, &[u8], &[u8]) {
        let k0 = if i == 0 { 0 } else { self.key_ends[i - 1] };
        let v0 = if i == 0 { 0 } else { self.value_ends[i - 1] };
        (
            self.lines[i],
            self.times[i],
            &self.keys[k0..self.key_ends[i]],
            &self.values[v0..self.value_ends[i]],
        )
    }
}

/// What the reader stage hands the sender.
enum Stage {
    /// Rows to send, in line order.
    Rows(RowBatch),
    /// Reader state after every row sent before it.
    Snapshot(Snapshot),
}

/// What the reader stage reports when it ends.
struct ReadOutcome {
    reached_end: bool,
    skipped: u64,
}

fn snapshot(reader: &BarReader<BufReader<File>>, rejects: &RejectWriter<File>) -> Snapshot {
    Snapshot {
        lines_before: reader.line_number(),
        offset: reader.position(),
        rejects_len: rejects.bytes_written(),
        stats: reader.stats().clone(),
        scan_from: BTreeMap::new(),
    }
}

/// The reader stage: parse, validate, write rejects, encode, and hand over batches of rows
/// with a snapshot after every few batches. Stops early when the sender hangs up.
fn read_stage(
    reader: &mut BarReader<BufReader<File>>,
    rejects: &mut RejectWriter<File>,
    skip: &HashSet<u64>,
    tx: SyncSender<Stage>,
    pool: Receiver<RowBatch>,
) -> Result<ReadOutcome> {
    let mut out = ReadOutcome {
        reached_end: false,
        skipped: 0,
    };
    let mut batch = RowBatch::default();
    let mut batches = 0u64;
    let mut lines = 0u64;
    loop {
        let item = reader.next_item()?;
        let end = item.is_none();
        match item {
            None => {}
            Some(Item::Rejected(r)) => rejects.write(&r).context("writing rejects")?,
            Some(Item::Accepted(a)) if skip.contains(&a.line) => out.skipped += 1,
            Some(Item::Accepted(a)) => batch.push(a.line, &a.bar),
        }
        lines += 1;
        if batch.len() >= RowBatch::ROWS || end || lines.is_multiple_of(8192) {
            if batch.len() > 0 {
                let next = pool.try_recv().map(|mut b| {
                    b.clear();
                    b
                });
                let full = std::mem::replace(&mut batch, next.unwrap_or_default());
                if tx.send(Stage::Rows(full)).is_err() {
                    return Ok(out);
                }
                batches += 1;
            }
            let due = end || batches.is_multiple_of(4) || lines.is_multiple_of(8192);
            if due && tx.send(Stage::Snapshot(snapshot(reader, rejects))).is_err() {
                return Ok(out);
            }
        }
        if end {
            out.reached_end = true;
            return Ok(out);
        }
    }
}

/// `produce`: the full run. Always flushes what was sent and saves the checkpoint before
/// returning, whatever the outcome.
pub fn produce(args: &ProduceArgs, stop: &AtomicBool) -> Result<Summary, RunError> {
    let start = Instant::now();
    let srcs = sources(&args.input, args.source_name.as_deref())?;
    let pacing = match (args.rate, args.replay_speed) {
        (Some(r), _) if r > 0.0 && r.is_finite() => Pacing::Rate(r),
        (None, Some(s)) if s > 0.0 && s.is_finite() => Pacing::Replay(s),
        (None, None) => Pacing::Unlimited,
        _ => {
            return Err(
                anyhow::anyhow!("--rate and --replay-speed must be positive numbers").into(),
            )
        }
    };
    let topic = args.kafka.topic.as_str();
    let mut checkpoint = match &args.checkpoint {
        Some(p) => Some(
            Checkpoint::load(p, topic, &args.input.rejects)?
                .unwrap_or_else(|| Checkpoint::new(topic, &args.input.rejects)),
        ),
        None => None,
    };
    let resuming = checkpoint.as_ref().is_some_and(|c| !c.sources.is_empty());
    let (file, len) = open_rejects(&args.input.rejects, resuming)?;
    let rejects = RejectWriter::new(file, len);

    let producer: Kafka = kafka::producer_config(args)
        .create_with_context(Context {
            tracker: Mutex::new(Tracker::default()),
        })
        .context("creating Kafka producer (check the -X settings)")?;
    let timeout = Duration::from_secs(30);
    let start_marks: BTreeMap<i32, i64> = kafka::watermarks(producer.client(), topic, timeout)?
        .into_iter()
        .map(|(p, (_, high))| (p, high))
        .collect();

    let mut summary = Summary {
        rejects_file: args.input.rejects.clone(),
        inputs: srcs.iter().map(|s| s.info.clone()).collect(),
        ..Default::default()
    };
    let mut run = Run {
        args,
        producer: &producer,
        stop,
        pacer: Pacer::new(pacing),
        checkpoint: checkpoint.as_mut(),
        rejects: Some(rejects),
        summary: &mut summary,
    };
    let result = run.all(&srcs, &start_marks);
    summary.missing = summary.count_missing();
    summary.seconds = start.elapsed().as_secs_f64();
    summary.print("produce");
    summary.write_json(args.input.summary_json.as_deref())?;
    result?;
    if summary.interrupted {
        return Err(RunError::Interrupted);
    }
    if summary.failed > 0 || summary.missing > 0 || summary.aborted.is_some() {
        return Err(RunError::Undelivered {
            missing: summary.missing,
            why: summary.aborted.clone().unwrap_or_default(),
        });
    }
    check_rejects_limit(&args.input, &summary)?;
    Ok(summary)
}

struct Run<'a> {
    args: &'a ProduceArgs,
    producer: &'a Kafka,
    stop: &'a AtomicBool,
    pacer: Pacer,
    checkpoint: Option<&'a mut Checkpoint>,
    /// Taken by the reader stage while a file is read.
    rejects: Option<RejectWriter<File>>,
    summary: &'a mut Summary,
}

impl Run<'_> {
    fn all(&mut self, srcs: &[Source], start_marks: &BTreeMap<i32, i64>) -> Result<()> {
        loop {
            for src in srcs {
                let outcome = self.one(src, start_marks);
                // Whatever happened, wait for what was sent and record it.
                let reached_end = matches!(outcome, Ok(true));
                let flushed = self.drain(src, reached_end);
                outcome?;
                flushed?;
                if self.summary.interrupted || self.summary.aborted.is_some() {
                    return Ok(());
                }
            }
            if !self.args.repeat {
                return Ok(());
            }
            self.pacer.restart();
        }
    }

    fn tracker(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.producer
            .context()
            .tracker
            .lock()
            .expect("tracker lock")
    }

    fn save_checkpoint(&mut self, src: &Source, snap: Snapshot, complete: bool) -> Result<()> {
        let (Some(c), Some(path)) = (
            self.checkpoint.as_deref_mut(),
            self.args.checkpoint.as_deref(),
        ) else {
            return Ok(());
        };
        c.sources.insert(
            src.name.clone(),
            SourceState {
                file_len: src.len,
                complete,
                snapshot: snap,
            },
        );
        c.save(path)
    }

    /// Rows of `src` after the checkpoint that an interrupted run had already delivered.
    fn already_delivered(&self, src: &Source, snap: &Snapshot) -> Result<HashSet<u64>> {
        let mut found = HashSet::new();
        let cfg = kafka::reader_config(&self.args.kafka);
        kafka::read_range(
            &cfg,
            &self.args.kafka.topic,
            &snap.scan_from,
            Duration::from_secs(120),
            |m| {
                if let Some(p) = message::provenance(kafka::headers(m)) {
                    if p.source == src.name && p.line > snap.lines_before {
                        found.insert(p.line);
                    }
                }
            },
        )
        .with_context(|| {
            format!(
                "scanning the topic for rows of {} sent before the interruption",
                src.name
            )
        })?;
        Ok(found)
    }

    /// Sends one source; true when it was read to its end.
    fn one(&mut self, src: &Source, start_marks: &BTreeMap<i32, i64>) -> Result<bool> {
        let state = self
            .checkpoint
            .as_ref()
            .and_then(|c| c.sources.get(&src.name))
            .cloned();
        if let Some(s) = &state {
            if s.file_len != src.len {
                bail!(
                    "{} changed since the checkpoint ({} bytes then, {} now); use a new checkpoint file",
                    src.path.display(),
                    s.file_len,
                    src.len
                );
            }
            if s.complete {
                eprintln!(
                    "{}: already delivered completely (checkpoint); skipping",
                    src.name
                );
                self.summary.files += 1;
                self.summary.add_read(&src.name, &s.snapshot.stats);
                self.summary.already_in_topic += s.snapshot.stats.accepted;
                return Ok(false);
            }
        }
        let resume = state.as_ref().map(|s| &s.snapshot);
        let skip = match resume {
            Some(snap) => self.already_delivered(src, snap)?,
            None => HashSet::new(),
        };
        if let Some(snap) = resume {
            // Rejects written after the checkpoint will be written again: drop them.
            let f = OpenOptions::new()
                .write(true)
                .open(&self.args.input.rejects)?;
            f.set_len(snap.rejects_len)?;
            self.rejects = Some(RejectWriter::new(
                OpenOptions::new()
                    .append(true)
                    .open(&self.args.input.rejects)?,
                snap.rejects_len,
            ));
            eprintln!(
                "{}: resuming after line {} ({} rows already in the topic after that point)",
                src.name,
                snap.lines_before,
                skip.len()
            );
        }
        let base = resume
            .map(|s| s.scan_from.clone())
            .unwrap_or_else(|| start_marks.clone());
        *self.tracker() = Tracker::new(base);
        let mut reader = open_reader(src, resume)?;
        let before = resume.map(|s| s.stats.accepted).unwrap_or(0);
        self.summary.already_in_topic += before;
        let first = snapshot(
            &reader,
            self.rejects.as_ref().expect("rejects writer between files"),
        );
        self.save_checkpoint(src, first.clone(), false)?;
        self.tracker().snapshot(first);
        let mut rejects = self.rejects.take().expect("rejects writer between files");

        // Two stages: a reader thread parses, validates, encodes and writes rejects; this
        // thread paces and sends. The channel keeps their order, so a snapshot the reader
        // emits after a batch follows that batch here too.
        let (tx, rx) = mpsc::sync_channel::<Stage>(8);
        let (pool_tx, pool_rx) = mpsc::channel::<RowBatch>();
        let (read, sent) = std::thread::scope(|scope| {
            let reader = &mut reader;
            let skip = &skip;
            let rejects = &mut rejects;
            let handle = scope.spawn(move || read_stage(reader, rejects, skip, tx, pool_rx));
            let sent = self.send_stage(src, rx, pool_tx);
            (handle.join().expect("reader thread panicked"), sent)
        });
        self.rejects = Some(rejects);
        self.summary.files += 1;
        self.summary.add_read(&src.name, reader.stats());
        let read = read?;
        self.summary.already_in_topic += read.skipped;
        sent?;
        Ok(read.reached_end && !self.summary.interrupted && self.summary.aborted.is_none())
    }

    /// Sends what the reader stage produces, in order, until it ends or the run stops.
    fn send_stage(
        &mut self,
        src: &Source,
        rx: Receiver<Stage>,
        pool: Sender<RowBatch>,
    ) -> Result<()> {
        let start = self.tracker().delivered;
        let mut progress = Progress::new(self.args.input.progress, &src.name, src.len, 0);
        let topic = self.args.kafka.topic.as_str();
        let mut line_text = String::with_capacity(20);
        let mut last_commit = Instant::now();
        let mut n = 0u64;
        for stage in rx {
            if self.stop.load(Ordering::Relaxed) {
                self.summary.interrupted = true;
            }
            if self.summary.interrupted || self.summary.aborted.is_some() {
                break;
            }
            let batch = match stage {
                Stage::Snapshot(snap) => {
                    let counts = Counts {
                        rows: snap.stats.rows,
                        rejected: snap.stats.rejected,
                        delivered: self.tracker().delivered - start,
                        bytes: snap.offset,
                    };
                    self.tracker().snapshot(snap);
                    if last_commit.elapsed() >= Duration::from_millis(500) {
                        last_commit = Instant::now();
                        self.commit(src, false)?;
                        progress.update(counts);
                    }
                    continue;
                }
                Stage::Rows(b) => b,
            };
            for i in 0..batch.len() {
                let (line, ts, key, value) = batch.get(i);
                if let Some(at) = self.pacer.deadline(ts, Instant::now()) {
                    // Interrupted while waiting: this row was read, and a checkpoint may
                    // already count it, so it is sent now and the loop stops after it.
                    if !self.wait_until(at) {
                        self.summary.interrupted = true;
                    }
                }
                line_text.clear();
                let _ = write!(line_text, "{line}");
                let headers = OwnedHeaders::new_with_capacity(2)
                    .insert(Header {
                        key: message::HEADER_SOURCE,
                        value: Some(src.name.as_str()),
                    })
                    .insert(Header {
                        key: message::HEADER_LINE,
                        value: Some(line_text.as_str()),
                    });
                let mut record = BaseRecord::with_opaque_to(topic, line as usize)
                    .key(key)
                    .payload(value)
                    .headers(headers);
                self.tracker().sent(line);
                loop {
                    match self.producer.send(record) {
                        Ok(()) => break,
                        Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                            record = r;
                            self.producer.poll(Duration::from_millis(10));
                        }
                        Err((e, _)) => {
                            // A fatal producer error (e.g. authorization): stop, and count
                            // the row as failed; what was read is reported, not lost.
                            let why =
                                format!("{} line {line}: Kafka refused the row: {e}", src.name);
                            self.tracker().failed(line, e.to_string());
                            self.summary.aborted = Some(why);
                            break;
                        }
                    }
                }
                n += 1;
                if n.is_multiple_of(1024) {
                    self.producer.poll(Duration::ZERO);
                }
                if self.summary.interrupted || self.summary.aborted.is_some() {
                    break;
                }
            }
            let _ = pool.send(batch);
        }
        progress.finish();
        Ok(())
    }

    /// Polls (serving delivery reports) until `at`; false if interrupted meanwhile.
    fn wait_until(&self, at: Instant) -> bool {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return false;
            }
            let now = Instant::now();
            if now >= at {
                return true;
            }
            self.producer
                .poll((at - now).min(Duration::from_millis(100)));
        }
    }

    fn commit(&mut self, src: &Source, complete: bool) -> Result<()> {
        let ready = self.tracker().take_committable();
        match ready {
            Some(snap) => self.save_checkpoint(src, snap, complete),
            None => Ok(()),
        }
    }

    /// Waits for every row in flight, then records the final checkpoint and counts.
    fn drain(&mut self, src: &Source, reached_end: bool) -> Result<()> {
        let timeout = Duration::from_millis(self.args.delivery_timeout_ms as u64 + 5_000);
        let flushed = self.producer.flush(timeout);
        let (in_flight, failed) = {
            let t = self.tracker();
            (t.in_flight(), t.failed)
        };
        let complete = reached_end && in_flight == 0 && failed == 0;
        self.commit(src, complete)?;
        {
            let producer = self.producer;
            let mut t = producer.context().tracker.lock().expect("tracker lock");
            self.summary.delivered += t.delivered;
            self.summary.failed += t.failed + t.in_flight() as u64;
            for (k, v) in std::mem::take(&mut t.failures) {
                *self.summary.failures.entry(k).or_default() += v;
            }
            for (k, v) in std::mem::take(&mut t.per_partition) {
                *self.summary.per_partition.entry(k).or_default() += v;
            }
            *t = Tracker::default();
        }
        flushed.with_context(|| {
            format!(
                "{}: {in_flight} rows still unacknowledged after {timeout:?}",
                src.name
            )
        })
    }
}
