//! The local crawler on a lake the sink wrote from the real data: tables, columns, Hive
//! partitions and row counts from the footers; idempotent re-runs; new columns merged and
//! kept; vanished partitions removed; clear errors naming the file.

use crate::common::{real_bars, write_lake};
use arrow_array::{ArrayRef, Date32Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use stockstream_local::catalog::{crawl, load, CATALOG_KEY};
use stockstream_local::engine::Engine;

fn count(bucket: &Path, sql: &str) -> serde_json::Value {
    let catalog = load(bucket).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let e = Engine::new(bucket, &catalog).await.unwrap();
        e.query(sql, &[]).await.unwrap().rows[0][0].clone()
    })
}

fn write_extra_file(path: &Path) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("symbol", DataType::Utf8, false),
        Field::new("trade_date", DataType::Date32, false),
        Field::new("exchange", DataType::Utf8, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["NEW"])),
        Arc::new(Date32Array::from(vec![21915])),
        Arc::new(StringArray::from(vec!["XNYS"])),
    ];
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w =
        ArrowWriter::try_new(fs::File::create(path).unwrap(), schema.clone(), None).unwrap();
    w.write(&RecordBatch::try_new(schema, cols).unwrap())
        .unwrap();
    w.close().unwrap();
}

#[test]
fn crawl_finds_partitions_is_idempotent_and_merges_columns() {
    let bars = real_bars();
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path();
    write_lake(bucket, &bars, 0);
    // Noise the crawler must skip, as the template's exclusions do.
    fs::create_dir_all(bucket.join("lake/bars/quarantine")).unwrap();
    fs::write(bucket.join("lake/bars/quarantine/x.jsonl"), "{}\n").unwrap();
    assert!(bucket.join("lake/bars/_sink_state").is_dir());

    let s = crawl(bucket, "lake", "stockstream").unwrap();
    assert_eq!(s.tables, ["bars"]);
    assert_eq!((s.tables_created, s.catalog_written), (1, true));
    let years: std::collections::BTreeSet<i32> = bars
        .iter()
        .map(|(_, b)| chrono::Datelike::year(&b.date))
        .collect();
    assert_eq!(s.partitions as usize, years.len());
    assert_eq!(s.partitions_added, s.partitions);
    let c = load(bucket).unwrap();
    let t = &c.tables["bars"];
    assert_eq!(t.location, "lake/bars");
    assert_eq!(t.partition_keys, ["year"]);
    assert_eq!(t.partitions.values().map(|p| p.rows).sum::<u64>(), 5693);
    let p1990 = &t.partitions["year=1990"];
    assert_eq!(p1990.values, ["1990"]);
    assert_eq!(
        p1990.rows as usize,
        bars.iter()
            .filter(|(_, b)| b.date.to_string().starts_with("1990"))
            .count()
    );
    let kinds: Vec<(&str, &str)> = t
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.kind.as_str()))
        .collect();
    assert_eq!(
        &kinds[..3],
        [
            ("symbol", "string"),
            ("trade_date", "date"),
            ("ts", "timestamp")
        ]
    );
    assert!(kinds.contains(&("volume", "bigint")) && kinds.contains(&("close", "double")));
    assert_eq!(count(bucket, "SELECT count(*) FROM bars"), 5693);

    // Nothing changed: same catalog, file not rewritten.
    let before = fs::read(bucket.join(CATALOG_KEY)).unwrap();
    let mtime = fs::metadata(bucket.join(CATALOG_KEY))
        .unwrap()
        .modified()
        .unwrap();
    let again = crawl(bucket, "lake", "stockstream").unwrap();
    assert_eq!(
        (
            again.catalog_written,
            again.partitions_added,
            again.tables_created
        ),
        (false, 0, 0)
    );
    assert_eq!(fs::read(bucket.join(CATALOG_KEY)).unwrap(), before);
    assert_eq!(
        fs::metadata(bucket.join(CATALOG_KEY))
            .unwrap()
            .modified()
            .unwrap(),
        mtime
    );

    // A new partition whose file has a new column: both added, nothing lost.
    write_extra_file(&bucket.join("lake/bars/year=2030/extra.parquet"));
    let s = crawl(bucket, "lake", "stockstream").unwrap();
    assert_eq!(
        (s.partitions_added, s.columns_added.clone()),
        (1, vec!["bars.exchange".to_string()])
    );
    let c = load(bucket).unwrap();
    assert_eq!(c.tables["bars"].columns.last().unwrap().name, "exchange");
    assert_eq!(c.tables["bars"].columns.len(), 18);
    assert_eq!(
        count(bucket, "SELECT count(*) FROM bars WHERE year = '2030'"),
        1
    );
    assert_eq!(count(bucket, "SELECT count(exchange) FROM bars"), 1);

    // The partition goes away: removed from the catalog, the column stays.
    fs::remove_dir_all(bucket.join("lake/bars/year=2030")).unwrap();
    let s = crawl(bucket, "lake", "stockstream").unwrap();
    assert_eq!(s.partitions_removed, 1);
    let c = load(bucket).unwrap();
    assert!(!c.tables["bars"].partitions.contains_key("year=2030"));
    assert_eq!(
        c.tables["bars"].columns.len(),
        18,
        "columns are merged, not lost"
    );
}

#[test]
fn bad_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path();
    fs::create_dir_all(bucket.join("lake/bars/year=2001")).unwrap();
    fs::write(
        bucket.join("lake/bars/year=2001/broken.parquet"),
        b"not parquet",
    )
    .unwrap();
    let e = crawl(bucket, "lake", "stockstream")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("year=2001/broken.parquet") && e.contains("not a readable Parquet file"),
        "{e}"
    );

    fs::remove_file(bucket.join("lake/bars/year=2001/broken.parquet")).unwrap();
    write_extra_file(&bucket.join("lake/bars/misc/extra.parquet"));
    let e = crawl(bucket, "lake", "stockstream")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("misc/extra.parquet") && e.contains("not a key=value partition"),
        "{e}"
    );

    let e = crawl(&bucket.join("nowhere"), "lake", "stockstream")
        .unwrap_err()
        .to_string();
    assert!(e.contains("nowhere/lake"), "{e}");
}
