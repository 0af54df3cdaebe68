//! Failed batches fed back: the records Lambda's Kafka trigger saved when it gave up.
//!
//! After its retries, the trigger writes each failed invocation to the on-failure
//! destination and moves on; the sink records the skipped offsets as a gap (see
//! [`crate::commit`]). An S3 destination receives one JSON object per failed invocation:
//! `requestContext` (condition, approximate invoke count), `responseContext`, `version`,
//! `timestamp`, `KafkaBatchInfo` (topics, partitions, first and last offsets), and `payload`,
//! the original invocation event. The Lambda guide ("Capturing discarded batches for Amazon
//! MSK and self-managed Apache Kafka event sources") shows `payload` as an escaped JSON
//! string; an embedded object is accepted too. SQS and SNS destinations carry no payload.
//!
//! Feeding the payload to [`crate::handler::handle`] stores the gap's records exactly once;
//! a second redrive finds them stored.

use stockstream_core::kafka_event::KafkaEvent;

/// Why a failure record cannot be redriven.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RedriveError(pub String);

/// The original event of one saved failure record (the bytes of the S3 object).
pub fn failed_event(bytes: &[u8]) -> Result<KafkaEvent, RedriveError> {
    let doc: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| RedriveError(format!("not a JSON failure record: {e}")))?;
    let payload = match doc.get("payload") {
        Some(serde_json::Value::String(text)) => serde_json::from_str(text),
        Some(v @ serde_json::Value::Object(_)) => serde_json::from_value(v.clone()),
        _ => {
            return Err(RedriveError(
                "holds no payload (an SQS or SNS failure record keeps only offsets: re-read \
                 them from Kafka while it keeps them)"
                    .into(),
            ))
        }
    };
    payload.map_err(|e| RedriveError(format!("its payload is not a Kafka trigger event: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"eventSource":"SelfManagedKafka","bootstrapServers":"b:9092","records":{"t-0":[{"topic":"t","partition":0,"offset":5,"timestamp":1,"timestampType":"CREATE_TIME","value":"e30=","headers":[]}]}}"#;

    #[test]
    fn payload_as_escaped_string_or_object() {
        let as_string = serde_json::json!({
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": "2026-11-28T10:00:00.000Z",
            "KafkaBatchInfo": {"batchSize": 1},
            "payload": EVENT,
        });
        let e = failed_event(as_string.to_string().as_bytes()).unwrap();
        assert_eq!(e.records["t-0"][0].offset, 5);
        let mut as_object = as_string.clone();
        as_object["payload"] = serde_json::from_str(EVENT).unwrap();
        assert_eq!(failed_event(as_object.to_string().as_bytes()).unwrap(), e);
    }

    #[test]
    fn records_without_payload_are_refused_with_the_reason() {
        let e = failed_event(br#"{"version":"1.0","KafkaBatchInfo":{}}"#).unwrap_err();
        assert!(e.0.contains("no payload"), "{e}");
        assert!(failed_event(b"not json").is_err());
    }
}
