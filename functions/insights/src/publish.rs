//! The report's files and where they go: `{prefix}/{YYYY-MM-DD}/{HHMMSS}Z/` in the report
//! bucket (the run's UTC time, so a re-run never overwrites an earlier report), holding
//! `report.html`, `report.json` and one `<insight>.csv` per insight — the same files the
//! local runner writes to disk.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Utc};
use stockstream_core::report::{files, Report};

/// The report's folder (key prefix, no trailing slash) for a run at `at`.
pub fn folder(prefix: &str, at: DateTime<Utc>) -> String {
    format!("{prefix}/{}", at.format("%Y-%m-%d/%H%M%SZ"))
}

/// Writing a file failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("writing the report to {url} failed: {detail}")]
pub struct PublishError {
    /// `s3://bucket/key` of the file.
    pub url: String,
    /// The SDK's description.
    pub detail: String,
}

/// Writes every file of `report` under `folder` in `bucket`; returns the `s3://` URL of
/// `report.html`.
pub async fn publish(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    folder: &str,
    report: &Report,
) -> Result<String, PublishError> {
    let mut html = String::new();
    for f in files(report) {
        let key = format!("{folder}/{}", f.name);
        let url = format!("s3://{bucket}/{key}");
        s3.put_object()
            .bucket(bucket)
            .key(&key)
            .content_type(f.content_type)
            .body(ByteStream::from(f.body.into_bytes()))
            .send()
            .await
            .map_err(|e| PublishError {
                url: url.clone(),
                detail: match (e.code(), e.message()) {
                    (Some(code), Some(msg)) => format!("{code}: {msg}"),
                    _ => DisplayErrorContext(&e).to_string(),
                },
            })?;
        html = url;
    }
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stockstream_core::insights::Params;
    use stockstream_core::report::InsightResult;

    #[test]
    fn folder_is_the_runs_utc_date_and_time() {
        let at = DateTime::parse_from_rfc3339("2026-11-26T06:00:07+02:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(folder("reports", at), "reports/2026-11-26/040007Z");
    }

    #[test]
    fn one_csv_per_insight_then_json_then_html() {
        let one = |name: &str| InsightResult {
            name: name.into(),
            title: name.into(),
            description: String::new(),
            columns: vec!["symbol".into()],
            rows: vec![vec![serde_json::json!("HSI")]],
            error: None,
            elapsed_ms: 1,
        };
        let report = Report {
            generated_at: "2026-11-26T04:00:07Z".into(),
            engine: "Athena".into(),
            params: Params::new(
                Params::date("from", "2021-01-01").unwrap(),
                Params::date("to", "2021-12-31").unwrap(),
                vec![],
                None,
            )
            .unwrap(),
            insights: vec![one("latest_close"), one("volatility")],
            rejects: vec![],
        };
        let f = files(&report);
        let names: Vec<_> = f
            .iter()
            .map(|f| (f.name.as_str(), f.content_type))
            .collect();
        assert_eq!(
            names,
            [
                ("latest_close.csv", "text/csv"),
                ("volatility.csv", "text/csv"),
                ("report.json", "application/json"),
                ("report.html", "text/html; charset=utf-8"),
            ]
        );
        assert_eq!(f[0].body, "symbol\r\nHSI\r\n");
        assert!(f[3].body.contains("<html"), "{}", &f[3].body[..100]);
    }
}
