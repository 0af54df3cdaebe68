//! The local crawler: the Glue crawler's twin for a lake in a local directory.
//!
//! It walks each table folder under a target (`lake/bars/…`), reads only the Parquet footers
//! (never the data), finds the Hive partitions (`year=2001/`), and writes a catalog of tables,
//! columns, partition keys and partitions that the local engine registers. Like Glue with
//! "update the table definition" and "log" deletions, a re-run is idempotent (same catalog,
//! file left untouched when nothing changed), new columns are merged in after the known ones
//! and never dropped, and partitions that vanished are removed.
//!
//! Skipped like the template's crawler exclusions: folders starting with `_` or `.` (the
//! sink's commit state), the `quarantine` folder, and files that are not `.parquet`.

use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::parquet_to_arrow_schema;
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use stockstream_sink::lake_key;

/// Where the catalog of a bucket lives, relative to the bucket's root.
pub const CATALOG_KEY: &str = "_catalog/catalog.json";

/// A Glue-like catalog: one database of tables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// Database name.
    pub database: String,
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
}

/// One table: a folder of Parquet files, partitioned Hive-style.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Folder, relative to the bucket root (`lake/bars`).
    pub location: String,
    /// Columns stored in the files, in Glue's type names.
    pub columns: Vec<Column>,
    /// Partition keys, outermost first (`year`); their type is `string`.
    pub partition_keys: Vec<String>,
    /// Partitions by folder (`year=2001`).
    pub partitions: BTreeMap<String, Partition>,
}

/// A column and its Glue type (`string`, `date`, `timestamp`, `double`, `bigint`, `int`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Name.
    pub name: String,
    /// Glue/Hive type name.
    #[serde(rename = "type")]
    pub kind: String,
}

/// One partition folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// Values of the partition keys, in key order.
    pub values: Vec<String>,
    /// Parquet files.
    pub files: u64,
    /// Rows, from the footers.
    pub rows: u64,
    /// Bytes of the files.
    pub bytes: u64,
}

/// What a crawl changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CrawlSummary {
    /// Tables found.
    pub tables: Vec<String>,
    /// Tables new to the catalog.
    pub tables_created: u64,
    /// Partitions found in all.
    pub partitions: u64,
    /// Partitions new to the catalog.
    pub partitions_added: u64,
    /// Partitions gone from the lake, removed from the catalog.
    pub partitions_removed: u64,
    /// `table.column` names new to the catalog.
    pub columns_added: Vec<String>,
    /// Parquet footers read.
    pub files_read: u64,
    /// True when the catalog file was written.
    pub catalog_written: bool,
}

/// Why a crawl failed: always names the file or folder.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// A file or folder could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        error: std::io::Error,
    },
    /// A `.parquet` file whose footer is not Parquet.
    #[error("{path}: not a readable Parquet file: {error}")]
    Parquet {
        /// Path.
        path: PathBuf,
        /// Cause.
        error: String,
    },
    /// Files of one table disagree.
    #[error("{path}: {problem}")]
    Inconsistent {
        /// File or folder.
        path: PathBuf,
        /// What disagrees.
        problem: String,
    },
    /// The catalog file exists but cannot be read.
    #[error("{path}: not a catalog: {error}")]
    BadCatalog {
        /// Path.
        path: PathBuf,
        /// Cause.
        error: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CrawlError + '_ {
    move |error| CrawlError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// The Glue type name of an Arrow type, or `None` for types the lake does not use.
pub fn glue_type(t: &DataType) -> Option<&'static str> {
    Some(match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string",
        DataType::Date32 => "date",
        DataType::Timestamp(_, _) => "timestamp",
        DataType::Float64 => "double",
        DataType::Float32 => "float",
        DataType::Int64 => "bigint",
        DataType::Int32 => "int",
        DataType::Int16 => "smallint",
        DataType::Int8 => "tinyint",
        DataType::Boolean => "boolean",
        _ => return None,
    })
}

/// The Arrow type the local engine reads a Glue type as (timestamps in ms, as the sink
/// writes them and as Athena reads Parquet).
pub fn arrow_type(glue: &str) -> Option<DataType> {
    Some(match glue {
        "string" => DataType::Utf8,
        "date" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Millisecond, None),
        "double" => DataType::Float64,
        "float" => DataType::Float32,
        "bigint" => DataType::Int64,
        "int" => DataType::Int32,
        "smallint" => DataType::Int16,
        "tinyint" => DataType::Int8,
        "boolean" => DataType::Boolean,
        _ => return None,
    })
}

/// Reads the catalog of a bucket; an empty catalog when there is none yet.
pub fn load(bucket: &Path) -> Result<Catalog, CrawlError> {
    let path = bucket.join(CATALOG_KEY);
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| CrawlError::BadCatalog {
            path,
            error: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Catalog::default()),
        Err(e) => Err(CrawlError::Io { path, error: e }),
    }
}

/// Crawls every table folder under `bucket/target` (`lake`) into database `database`, and
/// writes the catalog when it changed.
pub fn crawl(bucket: &Path, target: &str, database: &str) -> Result<CrawlSummary, CrawlError> {
    let mut catalog = load(bucket)?;
    let before = catalog.clone();
    catalog.database = database.to_string();
    let mut summary = CrawlSummary::default();
    let root = bucket.join(target);
    let mut tables = vec![];
    for entry in fs::read_dir(&root).map_err(io(&root))? {
        let entry = entry.map_err(io(&root))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !lake_key::is_not_data(&name) {
            tables.push(name);
        }
    }
    tables.sort();
    for name in tables {
        let location = format!("{}/{name}", target.trim_end_matches('/'));
        let found = scan_table(&bucket.join(&location), &mut summary)?;
        let Some(found) = found else { continue };
        let table = catalog.tables.entry(name.clone()).or_default();
        if table.location.is_empty() {
            summary.tables_created += 1;
        }
        table.location = location;
        for c in found.columns {
            if !table.columns.iter().any(|k| k.name == c.name) {
                summary.columns_added.push(format!("{name}.{}", c.name));
                table.columns.push(c);
            }
        }
        table.partition_keys = found.partition_keys;
        summary.partitions += found.partitions.len() as u64;
        summary.partitions_added += found
            .partitions
            .keys()
            .filter(|k| !table.partitions.contains_key(*k))
            .count() as u64;
        summary.partitions_removed += table
            .partitions
            .keys()
            .filter(|k| !found.partitions.contains_key(*k))
            .count() as u64;
        table.partitions = found.partitions;
        summary.tables.push(name);
    }
    if catalog != before {
        let path = bucket.join(CATALOG_KEY);
        let dir = path.parent().expect("catalog key has a folder");
        fs::create_dir_all(dir).map_err(io(dir))?;
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(&catalog).expect("catalog as JSON");
        fs::write(&tmp, text + "\n").map_err(io(&tmp))?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        summary.catalog_written = true;
    }
    Ok(summary)
}

struct Found {
    columns: Vec<Column>,
    partition_keys: Vec<String>,
    partitions: BTreeMap<String, Partition>,
}

/// Scans one table folder; `None` when it holds no Parquet file.
fn scan_table(dir: &Path, summary: &mut CrawlSummary) -> Result<Option<Found>, CrawlError> {
    let mut files = vec![];
    walk(dir, dir, &mut files)?;
    files.sort();
    let mut found = Found {
        columns: vec![],
        partition_keys: vec![],
        partitions: BTreeMap::new(),
    };
    let mut keys: Option<Vec<String>> = None;
    for (folders, path) in files {
        let folder = folders.join("/");
        let pairs = match lake_key::partition_values(&folder) {
            Ok(p) => p,
            Err(problem) => return Err(CrawlError::Inconsistent { path, problem }),
        };
        let these: Vec<String> = pairs.iter().map(|(k, _)| k.to_string()).collect();
        let values: Vec<String> = pairs.iter().map(|(_, v)| v.to_string()).collect();
        match &keys {
            None => keys = Some(these),
            Some(k) if *k != these => {
                return Err(CrawlError::Inconsistent {
                    path,
                    problem: format!("partition keys {these:?} differ from {k:?}"),
                })
            }
            Some(_) => {}
        }
        let (columns, rows, bytes) = footer(&path)?;
        summary.files_read += 1;
        for c in columns {
            match found.columns.iter().find(|k| k.name == c.name) {
                Some(k) if k.kind != c.kind => {
                    return Err(CrawlError::Inconsistent {
                        path,
                        problem: format!(
                            "column {} is {} here but {} in other files",
                            c.name, c.kind, k.kind
                        ),
                    })
                }
                Some(_) => {}
                None => found.columns.push(c),
            }
        }
        let p = found.partitions.entry(folders.join("/")).or_default();
        p.values = values;
        p.files += 1;
        p.rows += rows;
        p.bytes += bytes;
    }
    if found.partitions.is_empty() {
        return Ok(None);
    }
    found.partition_keys = keys.unwrap_or_default();
    Ok(Some(found))
}

/// Collects `(partition folders, path)` of every `.parquet` file under `dir`.
fn walk(table: &Path, dir: &Path, out: &mut Vec<(Vec<String>, PathBuf)>) -> Result<(), CrawlError> {
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if lake_key::is_not_data(&name) {
            continue;
        }
        if path.is_dir() {
            walk(table, &path, out)?;
        } else if name.ends_with(".parquet") {
            let rel = path.parent().and_then(|p| p.strip_prefix(table).ok());
            let folders = rel
                .map(|r| {
                    r.components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            out.push((folders, path));
        }
    }
    Ok(())
}

/// Columns, rows and size of one Parquet file, from its footer.
fn footer(path: &Path) -> Result<(Vec<Column>, u64, u64), CrawlError> {
    let file = fs::File::open(path).map_err(io(path))?;
    let bytes = file.metadata().map_err(io(path))?.len();
    let bad = |error: String| CrawlError::Parquet {
        path: path.to_path_buf(),
        error,
    };
    let reader = SerializedFileReader::new(file).map_err(|e| bad(e.to_string()))?;
    let meta = reader.metadata().file_metadata();
    let schema = parquet_to_arrow_schema(meta.schema_descr(), meta.key_value_metadata())
        .map_err(|e| bad(e.to_string()))?;
    let mut columns = vec![];
    for f in schema.fields() {
        let kind = glue_type(f.data_type()).ok_or_else(|| {
            bad(format!(
                "column {} has type {} that the lake does not use",
                f.name(),
                f.data_type()
            ))
        })?;
        columns.push(Column {
            name: f.name().clone(),
            kind: kind.to_string(),
        });
    }
    Ok((columns, meta.num_rows().max(0) as u64, bytes))
}
