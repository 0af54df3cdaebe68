//! The invocation summary as CloudWatch metrics, in the embedded metric format: one JSON
//! log line that CloudWatch turns into metrics without any API call from the function.

use crate::handler::Summary;
use serde_json::{json, Value};

/// Metric names and their values, in the order they are declared.
fn metrics(s: &Summary) -> [(&'static str, u64); 6] {
    [
        ("RecordsIn", s.records_in),
        ("RowsWritten", s.rows_written),
        ("Quarantined", s.quarantined),
        ("AlreadyStored", s.already_stored),
        ("ObjectsWritten", s.objects_written),
        ("BytesWritten", s.bytes_written),
    ]
}

/// One EMF log line for `summary`, at `timestamp_ms`, in `namespace`, with the function name
/// as the only dimension.
pub fn emf_line(summary: &Summary, namespace: &str, function: &str, timestamp_ms: i64) -> String {
    let declared: Vec<Value> = metrics(summary)
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
    let mut line = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["FunctionName"]],
                "Metrics": declared,
            }],
        },
        "FunctionName": function,
    });
    for (name, value) in metrics(summary) {
        line[name] = json!(value);
    }
    line.to_string()
}
