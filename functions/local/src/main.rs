//! `stockstream-local`: the pipeline's AWS-side stages on one machine. A directory stands in
//! for the bucket; `crawl` is the Glue crawler's twin, `insights` runs the insight suite on
//! DataFusion (Athena's twin) and writes the report under `reports/` in that directory.
//!
//! Exit status: 0 done (some insights may have failed, as the report says), 1 an error or
//! every insight failed, 2 a usage or parameter error.

use anyhow::Context;
use chrono::{Duration, Utc};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use stockstream_core::insights::Params;
use stockstream_core::report::{to_csv, to_html, to_json, Report};
use stockstream_local::catalog::{crawl, load};
use stockstream_local::engine::Engine;
use stockstream_local::suite;

#[derive(Parser)]
#[command(
    version,
    about = "StockStream's local crawler and insights (DataFusion)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Catalog the lake: tables, columns and Hive partitions, from the Parquet footers.
    Crawl {
        /// Directory standing in for the bucket.
        #[arg(long, env = "STOCKSTREAM_BUCKET_DIR")]
        bucket: PathBuf,
        /// Folder of tables inside the bucket.
        #[arg(long, default_value = "lake")]
        target: String,
        /// Catalog database name.
        #[arg(long, default_value = "stockstream")]
        database: String,
    },
    /// Run the insight suite on the catalogued lake and write the report.
    Insights {
        /// Directory standing in for the bucket.
        #[arg(long, env = "STOCKSTREAM_BUCKET_DIR")]
        bucket: PathBuf,
        /// First day of the report window (YYYY-MM-DD); default one year before --to.
        #[arg(long)]
        from: Option<String>,
        /// Last day of the report window (YYYY-MM-DD); default the lake's last trading day.
        #[arg(long)]
        to: Option<String>,
        /// Symbols to report on, comma-separated; default all.
        #[arg(long, value_delimiter = ',')]
        symbols: Vec<String>,
        /// Table to read.
        #[arg(long, default_value = "bars")]
        table: String,
        /// Folder of reports inside the bucket.
        #[arg(long, default_value = "reports")]
        reports_prefix: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match rt.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stockstream-local: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Crawl {
            bucket,
            target,
            database,
        } => {
            let s = crawl(&bucket, &target, &database)?;
            eprintln!(
                "crawl: {} table(s) {:?}, {} partition(s) ({} new, {} removed), {} footer(s) read, new columns {:?}; catalog {}",
                s.tables.len(),
                s.tables,
                s.partitions,
                s.partitions_added,
                s.partitions_removed,
                s.files_read,
                s.columns_added,
                if s.catalog_written { "updated" } else { "unchanged" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Insights {
            bucket,
            from,
            to,
            symbols,
            table,
            reports_prefix,
        } => {
            let catalog = load(&bucket)?;
            if !catalog.tables.contains_key(&table) {
                eprintln!(
                    "stockstream-local: table {table:?} is not in the catalog of {}; run `stockstream-local crawl` first",
                    bucket.display()
                );
                return Ok(ExitCode::from(2));
            }
            let engine = Engine::new(&bucket, &catalog).await?;
            let params = match params(&engine, &table, from, to, symbols).await? {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("stockstream-local: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let now = Utc::now();
            let report = run_suite(
                &engine,
                &params,
                now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            )
            .await;
            let dir = bucket
                .join(&reports_prefix)
                .join(now.format("%Y-%m-%d").to_string())
                .join(now.format("%H%M%SZ").to_string());
            write_report(&dir, &report)?;
            let failed = report.insights.iter().filter(|r| r.error.is_some()).count();
            println!("{}", dir.join("report.html").display());
            eprintln!(
                "insights: {} of {} ran, report in {}",
                report.insights.len() - failed,
                report.insights.len(),
                dir.display()
            );
            Ok(if failed == report.insights.len() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

/// The window and symbols: flags checked, defaults from the lake.
async fn params(
    engine: &Engine,
    table: &str,
    from: Option<String>,
    to: Option<String>,
    symbols: Vec<String>,
) -> anyhow::Result<Result<Params, String>> {
    let to = match to {
        Some(t) => match Params::date("to", &t) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e.to_string())),
        },
        None => {
            let Some(last) = suite::last_day(engine, table).await? else {
                return Ok(Err(format!("table {table} holds no rows")));
            };
            Params::date("to", &last).context("the lake's last day")?
        }
    };
    let from = match from {
        Some(f) => match Params::date("from", &f) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e.to_string())),
        },
        None => to - Duration::days(365),
    };
    let known = if symbols.is_empty() {
        None
    } else {
        Some(suite::symbols(engine, table).await?)
    };
    Ok(Params::new(from, to, symbols, known.as_deref()).map_err(|e| e.to_string()))
}

async fn run_suite(engine: &Engine, params: &Params, generated_at: String) -> Report {
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
    let mut report = Report {
        generated_at,
        engine: "DataFusion".into(),
        params: params.clone(),
        insights: vec![],
    };
    for insight in stockstream_core::insights::all() {
        let r = suite::run_one(engine, &insight, params).await;
        match &r.error {
            None => eprintln!(
                "  {:<18} {:>6} rows  {:>6} ms",
                r.name,
                r.rows.len(),
                r.elapsed_ms
            ),
            Some(e) => eprintln!("  {:<18} FAILED: {e}", r.name),
        }
        report.insights.push(r);
    }
    report
}

/// Writes `report.html`, `report.json` and one CSV per insight into `dir`.
fn write_report(dir: &Path, report: &Report) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut files = vec![
        ("report.html".to_string(), to_html(report)),
        ("report.json".to_string(), to_json(report)),
    ];
    for r in &report.insights {
        files.push((format!("{}.csv", r.name), to_csv(r)));
    }
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
