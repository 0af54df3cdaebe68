//! The invocation summary as CloudWatch metrics, in the embedded metric format: one JSON
//! log line that CloudWatch turns into metrics without any API call from the function.

//!
//! Names and the dimension are those `template.yaml`'s alarms and dashboard read: namespace
//! `METRICS_NAMESPACE`, dimension `Function` = the function's name.

use crate::commit::CommitError;
use crate::handler::Summary;
use serde_json::{json, Value};

/// Metric names and their values, in the order they are declared.
fn metrics(s: &Summary) -> [(&'static str, u64); 9] {
    [
        ("RecordsIn", s.records_in),
        ("RowsWritten", s.rows_written),
        ("QuarantinedRecords", s.quarantined),
        ("AlreadyStored", s.already_stored),
        ("ObjectsWritten", s.objects_written),
        ("BytesWritten", s.bytes_written),
        ("OffsetGaps", s.offset_gaps),
        ("GapRecordsStored", s.gap_records),
        ("OffsetRegressions", 0),
    ]
}

/// One EMF log line for `summary`, at `timestamp_ms`, in `namespace`, with the function name
/// as the only dimension.
pub fn emf_line(summary: &Summary, namespace: &str, function: &str, timestamp_ms: i64) -> String {
    line(&metrics(summary), namespace, function, timestamp_ms)
}

/// The EMF line for a failed invocation, when its error is one an alarm watches: an offset
/// regression counts 1 in `OffsetRegressions` (each retry of the batch counts again).
pub fn emf_error_line(
    error: &CommitError,
    namespace: &str,
    function: &str,
    timestamp_ms: i64,
) -> Option<String> {
    match error {
        CommitError::OffsetRegression { .. } => Some(line(
            &[("OffsetRegressions", 1)],
            namespace,
            function,
            timestamp_ms,
        )),
        _ => None,
    }
}

fn line(metrics: &[(&str, u64)], namespace: &str, function: &str, timestamp_ms: i64) -> String {
    let declared: Vec<Value> = metrics
        .iter()
        .map(|(name, _)| {
            let unit = if *name == "BytesWritten" {
                "Bytes"
            } else {
                "Count"
            };
            json!({"Name": name, "Unit": unit})
        })
        .collect();
    let mut out = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Function"]],
                "Metrics": declared,
            }],
        },
        "Function": function,
    });
    for (name, value) in metrics {
        out[*name] = json!(value);
    }
    out.to_string()
}
