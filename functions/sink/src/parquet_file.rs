//! The lake's Parquet files: one complete file per group of rows, written in memory.
//!
//! Types chosen so Athena, Glue, DuckDB and pyarrow read the files without help:
//! `trade_date` DATE, `ts` and `kafka_timestamp` TIMESTAMP in milliseconds (Athena cannot read
//! nanoseconds), prices DOUBLE, `volume` BIGINT, `symbol` STRING. The Hive partition column
//! (`year`) lives in the path, not in the file. Provenance columns (`kafka_topic`,
//! `kafka_partition`, `kafka_offset`, `kafka_timestamp`, `source`, `line`, `ingest_time`)
//! trace every row back to its Kafka record and CSV line.
//!
//! Rows are sorted by symbol and time inside a file, so dictionary and run-length encoding
//! and the row groups' min/max statistics work well; zstd compresses the rest.

use crate::encode::Encoder;
use arrow_array::builder::{
    Date32Builder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use std::sync::Arc;
use stockstream_core::ingest::LakeRow;

/// Rows per row group; a Lambda batch (≤ 10,000 records) is one group.
const ROW_GROUP: usize = 128 * 1024;

/// The file schema.
pub fn schema() -> SchemaRef {
    let ms = || DataType::Timestamp(TimeUnit::Millisecond, None);
    Arc::new(Schema::new(vec![
        Field::new("symbol", DataType::Utf8, false),
        Field::new("trade_date", DataType::Date32, false),
        Field::new("ts", ms(), false),
        Field::new("open", DataType::Float64, false),
        Field::new("high", DataType::Float64, false),
        Field::new("low", DataType::Float64, false),
        Field::new("close", DataType::Float64, false),
        Field::new("adj_close", DataType::Float64, true),
        Field::new("volume", DataType::Int64, true),
        Field::new("close_usd", DataType::Float64, true),
        Field::new("kafka_topic", DataType::Utf8, false),
        Field::new("kafka_partition", DataType::Int32, false),
        Field::new("kafka_offset", DataType::Int64, false),
        Field::new("kafka_timestamp", ms(), false),
        Field::new("source", DataType::Utf8, true),
        Field::new("line", DataType::Int64, true),
        Field::new("ingest_time", ms(), false),
    ]))
}

/// Parquet with zstd, dictionaries and statistics.
#[derive(Debug, Clone, Copy)]
pub struct Parquet {
    /// When the rows were ingested (epoch ms), passed in rather than read from the clock.
    pub ingest_time_ms: i64,
}

fn days_since_epoch(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid")).num_days() as i32
}

impl Parquet {
    /// The record batch of `rows`, sorted by symbol, time and offset.
    pub fn batch(&self, rows: &[&LakeRow]) -> RecordBatch {
        // Each row's time computed once, not at every comparison.
        let mut keyed: Vec<(NaiveDateTime, &LakeRow)> =
            rows.iter().map(|r| (r.bar.timestamp(), *r)).collect();
        keyed.sort_by(|(ta, a), (tb, b)| {
            (&a.bar.symbol, ta, a.offset).cmp(&(&b.bar.symbol, tb, b.offset))
        });
        let n = keyed.len();
        let mut symbol = StringBuilder::with_capacity(n, n * 8);
        let mut date = Date32Builder::with_capacity(n);
        let mut ts = TimestampMillisecondBuilder::with_capacity(n);
        let mut prices: [Float64Builder; 4] =
            std::array::from_fn(|_| Float64Builder::with_capacity(n));
        let mut adj = Float64Builder::with_capacity(n);
        let mut volume = Int64Builder::with_capacity(n);
        let mut usd = Float64Builder::with_capacity(n);
        let mut topic = StringBuilder::with_capacity(n, n * 8);
        let mut partition = Int32Builder::with_capacity(n);
        let mut offset = Int64Builder::with_capacity(n);
        let mut kts = TimestampMillisecondBuilder::with_capacity(n);
        let mut source = StringBuilder::with_capacity(n, n * 16);
        let mut line = Int64Builder::with_capacity(n);
        let mut ingest = TimestampMillisecondBuilder::with_capacity(n);
        for (t, r) in keyed {
            let b = &r.bar;
            symbol.append_value(&b.symbol);
            date.append_value(days_since_epoch(b.date));
            ts.append_value(t.and_utc().timestamp_millis());
            for (builder, v) in prices.iter_mut().zip([b.open, b.high, b.low, b.close]) {
                builder.append_value(v);
            }
            adj.append_option(b.adj_close);
            volume.append_option(b.volume.map(|v| v as i64));
            usd.append_option(b.close_usd);
            topic.append_value(&r.topic);
            partition.append_value(r.partition);
            offset.append_value(r.offset);
            kts.append_value(r.kafka_timestamp_ms);
            source.append_option(r.source.as_deref());
            line.append_option(r.line.map(|l| l as i64));
            ingest.append_value(self.ingest_time_ms);
        }
        let [mut open, mut high, mut low, mut close] = prices;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(symbol.finish()),
            Arc::new(date.finish()),
            Arc::new(ts.finish()),
            Arc::new(open.finish()),
            Arc::new(high.finish()),
            Arc::new(low.finish()),
            Arc::new(close.finish()),
            Arc::new(adj.finish()),
            Arc::new(volume.finish()),
            Arc::new(usd.finish()),
            Arc::new(topic.finish()),
            Arc::new(partition.finish()),
            Arc::new(offset.finish()),
            Arc::new(kts.finish()),
            Arc::new(source.finish()),
            Arc::new(line.finish()),
            Arc::new(ingest.finish()),
        ];
        RecordBatch::try_new(schema(), columns).expect("columns match the schema")
    }

    /// Writer settings shared by the sink's objects and compaction's merged ones.
    pub(crate) fn properties() -> WriterProperties {
        let level = ZstdLevel::try_new(3).expect("valid level");
        let mut b = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .set_created_by("stockstream-sink".to_string());
        // Prices are nearly random in their low mantissa bytes but alike in sign, exponent
        // and high bytes: splitting the bytes into streams lets zstd find that.
        // Offsets, lines and times rise steadily within a symbol: delta encoding stores them
        // in a few bits each.
        for f in schema().fields() {
            let encoding = match f.data_type() {
                DataType::Float64 => Encoding::BYTE_STREAM_SPLIT,
                DataType::Int64 | DataType::Timestamp(..) if f.name() != "volume" => {
                    Encoding::DELTA_BINARY_PACKED
                }
                _ => continue,
            };
            let col = ColumnPath::from(f.name().as_str());
            b = b
                .set_column_dictionary_enabled(col.clone(), false)
                .set_column_encoding(col, encoding);
        }
        b.build()
    }
}

impl Encoder for Parquet {
    fn extension(&self) -> &'static str {
        "parquet"
    }

    fn encode(&self, rows: &[&LakeRow]) -> Vec<u8> {
        write(&self.batch(rows))
    }

    fn max_offset(&self, bytes: &[u8]) -> Result<i64, String> {
        let offsets = read_column_i64(bytes, "kafka_offset")?;
        offsets
            .into_iter()
            .max()
            .ok_or_else(|| "file has no rows".to_string())
    }
}

/// A Parquet file of one record batch (any schema), with the lake's writer settings.
pub fn write(batch: &RecordBatch) -> Vec<u8> {
    let mut out = Vec::with_capacity(batch.num_rows() * 40 + 4096);
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(Parquet::properties()))
        .expect("valid schema");
    w.write(batch).expect("write to memory");
    w.close().expect("close in memory");
    out
}

/// Reads every batch of a Parquet file.
pub fn read(bytes: &[u8]) -> Result<Vec<RecordBatch>, String> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(bytes))
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e| e.to_string())?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

fn read_column_i64(bytes: &[u8], name: &str) -> Result<Vec<i64>, String> {
    let mut out = vec![];
    for b in read(bytes)? {
        let col = b
            .column_by_name(name)
            .ok_or_else(|| format!("no column {name}"))?
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| format!("column {name} is not BIGINT"))?
            .clone();
        out.extend(col.iter().flatten());
    }
    Ok(out)
}

/// A row read back from a lake file: its Kafka offset and its bar.
pub fn rows(bytes: &[u8]) -> Result<Vec<(i64, stockstream_core::Bar)>, String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Date32Type, Float64Type, Int64Type, TimestampMillisecondType};
    let mut out = vec![];
    for b in read(bytes)? {
        let col = |name: &str| {
            b.column_by_name(name)
                .ok_or_else(|| format!("no column {name}"))
        };
        let symbol = col("symbol")?.as_string::<i32>().clone();
        let date = col("trade_date")?.as_primitive::<Date32Type>().clone();
        let ts = col("ts")?
            .as_primitive::<TimestampMillisecondType>()
            .clone();
        let f = |name: &str| -> Result<_, String> {
            Ok(col(name)?.as_primitive::<Float64Type>().clone())
        };
        let (open, high, low, close, adj, usd) = (
            f("open")?,
            f("high")?,
            f("low")?,
            f("close")?,
            f("adj_close")?,
            f("close_usd")?,
        );
        let volume = col("volume")?.as_primitive::<Int64Type>().clone();
        let offset = col("kafka_offset")?.as_primitive::<Int64Type>().clone();
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid");
        for i in 0..b.num_rows() {
            let day = epoch + chrono::Duration::days(date.value(i) as i64);
            let t = chrono::DateTime::from_timestamp_millis(ts.value(i))
                .ok_or("bad ts")?
                .naive_utc();
            let opt = |a: &arrow_array::Float64Array| (!a.is_null(i)).then(|| a.value(i));
            out.push((
                offset.value(i),
                stockstream_core::Bar {
                    symbol: symbol.value(i).to_string(),
                    date: day,
                    time: (t.time() != chrono::NaiveTime::MIN).then(|| t.time()),
                    open: open.value(i),
                    high: high.value(i),
                    low: low.value(i),
                    close: close.value(i),
                    adj_close: opt(&adj),
                    volume: (!volume.is_null(i)).then(|| volume.value(i) as u64),
                    close_usd: opt(&usd),
                },
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stockstream_core::ingest::ingest;
    use stockstream_core::kafka_event::KafkaEvent;

    fn sample_rows() -> Vec<LakeRow> {
        let path = format!(
            "{}/../../events/sink-kafka-batch.json",
            std::env::var("CARGO_MANIFEST_DIR")
                .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests")
        );
        let e: KafkaEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        e.records().map(|r| ingest(r, None).unwrap()).collect()
    }

    #[test]
    fn round_trip_keeps_every_value_and_the_declared_types() {
        let rows = sample_rows();
        let refs: Vec<&LakeRow> = rows.iter().collect();
        let enc = Parquet {
            ingest_time_ms: 1_764_115_300_000,
        };
        let bytes = enc.encode(&refs);
        assert_eq!(&bytes[..4], b"PAR1");
        let batches = read(&bytes).unwrap();
        let s = batches[0].schema();
        assert_eq!(
            s.field_with_name("trade_date").unwrap().data_type(),
            &DataType::Date32
        );
        assert_eq!(
            s.field_with_name("ts").unwrap().data_type(),
            &DataType::Timestamp(TimeUnit::Millisecond, None)
        );
        assert_eq!(
            s.field_with_name("volume").unwrap().data_type(),
            &DataType::Int64
        );
        assert!(
            s.field_with_name("year").is_err(),
            "the partition column lives in the path"
        );
        let mut back = super::rows(&bytes).unwrap();
        back.sort_by_key(|(o, _)| *o);
        let want: Vec<(i64, stockstream_core::Bar)> =
            rows.iter().map(|r| (r.offset, r.bar.clone())).collect();
        assert_eq!(back, want);
        assert_eq!(enc.max_offset(&bytes), Ok(149));
        // Sorted by symbol and time inside the file.
        let dates = batches[0]
            .column_by_name("trade_date")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow_array::Date32Array>()
            .unwrap()
            .clone();
        assert!(dates.values().windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn compact_compared_with_json_lines() {
        let rows = sample_rows();
        let refs: Vec<&LakeRow> = rows.iter().collect();
        let parquet = Parquet { ingest_time_ms: 0 }.encode(&refs).len();
        let json = crate::encode::JsonLines.encode(&refs).len();
        // Small files carry a fixed footer; even at 50 rows Parquet is well under JSON.
        assert!(parquet * 2 < json, "parquet {parquet} bytes vs json {json}");
    }
}
