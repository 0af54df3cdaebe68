//! The insight report: what one run of the insight suite found, as JSON (machine-readable),
//! CSV (one file per insight) and a self-contained HTML page with inline SVG charts that
//! opens offline. Pure rendering; the runners (Athena, DataFusion) fill a [`Report`] and the
//! callers store the files.

use crate::insights::Params;
use serde::{Deserialize, Serialize};

/// One run of the insight suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// When the report was made, RFC 3339 UTC (`2026-11-26T10:00:00Z`).
    pub generated_at: String,
    /// Engine that ran the SQL: `Athena` or `DataFusion`.
    pub engine: String,
    /// The window and symbols.
    pub params: Params,
    /// Results, in suite order.
    pub insights: Vec<InsightResult>,
    /// Rows refused before the lake, per input file, when the runner knows them (the local
    /// demo, from its producer run); empty otherwise, and then absent from the JSON.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejects: Vec<FileRejects>,
}

/// The rows of one input file that never reached the lake, counted by reason code (the
/// rejects file beside the input keeps each row with its reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRejects {
    /// The input file, as the producer named it.
    pub file: String,
    /// Rejected rows by reason code (`bad_number`, `high_below_low`, …).
    pub reasons: std::collections::BTreeMap<String, u64>,
}

impl FileRejects {
    /// All rejected rows of the file.
    pub fn rejected(&self) -> u64 {
        self.reasons.values().sum()
    }
}

/// The result of one insight: rows, or the error that stopped it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightResult {
    /// Insight name (`period_returns`).
    pub name: String,
    /// Title.
    pub title: String,
    /// One sentence.
    pub description: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows; each cell is null, a number, or a string (dates as `YYYY-MM-DD`).
    pub rows: Vec<Vec<serde_json::Value>>,
    /// Why the insight failed; `None` when it ran.
    pub error: Option<String>,
    /// Wall time of the query, milliseconds.
    pub elapsed_ms: u64,
}

mod csv;
mod format;
mod html;
pub mod palette;
mod svg;

pub use csv::to_csv;
pub use html::to_html;

/// The whole report as pretty JSON: the machine-readable copy, and the one
/// `serde_json::from_str::<Report>` reads back unchanged (`float_roundtrip` keeps every bit).
pub fn to_json(report: &Report) -> String {
    // Cannot fail: every map key is a string and a `serde_json::Value` holds no NaN.
    serde_json::to_string_pretty(report).expect("a Report always serializes")
}

/// One file of a report, as every runner stores it (the insights Lambda in S3, the local
/// runner on disk): the same names and bodies everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFile {
    /// File name inside the report's folder.
    pub name: String,
    /// HTTP content type, so a browser opens the HTML and the CSVs download.
    pub content_type: &'static str,
    /// The text.
    pub body: String,
}

/// The report's files: one `<insight>.csv` per insight, `report.json`, and `report.html`
/// last, so that a runner storing them in this order shows the page that links the others
/// only once they are in place.
pub fn files(report: &Report) -> Vec<ReportFile> {
    let mut out: Vec<ReportFile> = report
        .insights
        .iter()
        .map(|r| ReportFile {
            name: r.csv_file_name(),
            content_type: "text/csv",
            body: to_csv(r),
        })
        .collect();
    out.push(ReportFile {
        name: "report.json".into(),
        content_type: "application/json",
        body: to_json(report),
    });
    out.push(ReportFile {
        name: "report.html".into(),
        content_type: "text/html; charset=utf-8",
        body: to_html(report),
    });
    out
}

impl Report {
    /// The result called `name`, if the suite produced one.
    pub fn insight(&self, name: &str) -> Option<&InsightResult> {
        self.insights.iter().find(|i| i.name == name)
    }
}

impl InsightResult {
    /// Position of the column called `name`. Renderers find columns by name, never by
    /// position, so an insight whose SELECT gains or reorders columns still renders.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// True when the insight ran (it may still have no rows).
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }

    /// The file name of this insight's CSV (`period_returns.csv`).
    pub fn csv_file_name(&self) -> String {
        format!("{}.csv", self.name)
    }
}

/// A cell as a number: JSON numbers, and numeric text too, since Athena returns every value
/// as text and a runner that passes it through unconverted should still get its charts.
pub(crate) fn number(cell: Option<&serde_json::Value>) -> Option<f64> {
    match cell? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|v| v.is_finite())
}

/// A cell as text (numbers as serde_json prints them); `None` for null.
pub(crate) fn text(cell: Option<&serde_json::Value>) -> Option<String> {
    match cell? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::json;

    fn report() -> Report {
        Report {
            generated_at: "2026-11-26T10:00:00Z".into(),
            engine: "DataFusion".into(),
            params: Params {
                from: NaiveDate::from_ymd_opt(2021, 1, 4).unwrap(),
                to: NaiveDate::from_ymd_opt(2021, 6, 30).unwrap(),
                symbols: vec!["HSI".into()],
                benchmark: None,
                pairs: 10,
                pair_candidates: 100,
            },
            insights: vec![InsightResult {
                name: "volatility".into(),
                title: "Volatility".into(),
                description: "How much prices move.".into(),
                columns: vec!["symbol".into(), "n_returns".into(), "annual_vol".into()],
                rows: vec![
                    vec![json!("HSI"), json!(124), json!(0.1 + 0.2)],
                    vec![json!("N225"), json!(3), json!(null)],
                ],
                error: None,
                elapsed_ms: 812,
            }],
            rejects: vec![],
        }
    }

    #[test]
    fn json_is_pretty_and_round_trips_exactly() {
        let r = report();
        let text = to_json(&r);
        assert!(text.contains("\n  \"engine\": \"DataFusion\""), "{text}");
        assert!(text.contains("0.30000000000000004"));
        assert_eq!(serde_json::from_str::<Report>(&text).unwrap(), r);
    }

    #[test]
    fn columns_and_cells_are_found_by_name() {
        let r = report();
        let v = r.insight("volatility").unwrap();
        assert_eq!(v.column("annual_vol"), Some(2));
        assert_eq!(v.column("max_drawdown"), None);
        assert!(r.insight("correlation").is_none());
        assert_eq!(v.csv_file_name(), "volatility.csv");
        assert_eq!(number(v.rows[0].get(1)), Some(124.0));
        assert_eq!(number(v.rows[1].get(2)), None);
        assert_eq!(
            number(Some(&json!(" 1.5 "))),
            Some(1.5),
            "Athena-style text"
        );
        assert_eq!(number(Some(&json!("HSI"))), None);
        assert_eq!(number(Some(&json!("NaN"))), None);
        assert_eq!(number(None), None);
        assert_eq!(text(v.rows[0].get(2)).unwrap(), "0.30000000000000004");
        assert_eq!(text(v.rows[1].get(2)), None);
    }
}
