//! The EventBridge "Scheduled Event" that the compaction, crawler and insights functions
//! receive from their schedules. Every field is optional, so a hand-made invocation (`{}`,
//! `sam local invoke` with a partial event) works too.

use serde::Deserialize;
use serde_json::Value;

/// The parts of a "Scheduled Event" the functions read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ScheduledEvent {
    /// Event id.
    #[serde(default)]
    pub id: Option<String>,
    /// `Scheduled Event` for a schedule rule.
    #[serde(default, rename = "detail-type")]
    pub detail_type: Option<String>,
    /// When the schedule fired (RFC 3339); the invocation's clock when absent.
    #[serde(default)]
    pub time: Option<String>,
    /// `{}` from a schedule; a rule's input or a hand-made invocation may carry settings
    /// (the insights function reads `from`, `to`, `symbols`).
    #[serde(default)]
    pub detail: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_events_parse_and_so_does_an_empty_one() {
        for name in [
            "compact-scheduled",
            "crawler-scheduled",
            "insights-scheduled",
        ] {
            let path = format!("{}/../../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap();
            let e: ScheduledEvent = serde_json::from_str(&text).unwrap();
            assert_eq!(e.detail_type.as_deref(), Some("Scheduled Event"), "{path}");
            assert!(e.time.is_some(), "{path}");
            assert!(e.id.is_some(), "{path}");
        }
        let e: ScheduledEvent = serde_json::from_str("{}").unwrap();
        assert_eq!(e, ScheduledEvent::default());
        let e: ScheduledEvent =
            serde_json::from_str(r#"{"detail": {"from": "2020-01-02"}}"#).unwrap();
        assert_eq!(e.detail.unwrap()["from"], "2020-01-02");
    }
}
