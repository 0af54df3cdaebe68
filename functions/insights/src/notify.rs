//! Telling the report's readers: after the report is in S3, one message on the reports topic
//! (`REPORTS_TOPIC_ARN`, an SNS topic readers subscribe to by e-mail or otherwise) with the
//! report's summary and a presigned link to `report.html`.
//!
//! The message is [`message`], a pure function of the report and the link; [`notify`] signs
//! the link and publishes. Two limits of presigned links, said in the message too:
//!
//! - SigV4 allows at most [`MAX_LINK_DAYS`] (7 days); a longer `REPORT_LINK_DAYS` is
//!   clamped to it.
//! - A link works only while the credentials that signed it are valid. The function signs
//!   with its role's temporary credentials, which expire within hours, so the link may stop
//!   working long before its stated expiry (docs/operations.md, "The reports topic").

use aws_sdk_s3::presigning::PresigningConfig;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};
use stockstream_core::report::{InsightResult, Report};

/// The longest a SigV4 presigned URL may last.
pub const MAX_LINK_DAYS: u32 = 7;

/// Longest text of an insight's error in the message (the report has it in full).
const ERROR_CHARS: usize = 160;

/// SNS's limit on a subject.
const SUBJECT_CHARS: usize = 100;

/// Where the messages go and how long their links last.
#[derive(Debug, Clone)]
pub struct Notifier {
    /// The SNS client.
    pub sns: aws_sdk_sns::Client,
    /// ARN of the reports topic.
    pub topic_arn: String,
    /// Days the link should last, as configured (clamped to [`MAX_LINK_DAYS`] when signed).
    pub link_days: u32,
}

/// A presigned link to the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The URL.
    pub url: String,
    /// When the signature expires (at the latest; see the module doc).
    pub expires: DateTime<Utc>,
    /// Days asked for (`REPORT_LINK_DAYS`).
    pub asked_days: u32,
    /// Days it was signed for: `asked_days`, at most [`MAX_LINK_DAYS`].
    pub days: u32,
}

/// The days a link is signed for: those asked for, from 1 to [`MAX_LINK_DAYS`].
pub fn link_days(asked: u32) -> u32 {
    asked.clamp(1, MAX_LINK_DAYS)
}

/// A message for the topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// One line, at most 100 characters (SNS's limit; e-mail subscribers see it as the subject).
    pub subject: String,
    /// Plain text.
    pub body: String,
}

/// Why the readers were not told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// The link could not be signed.
    #[error("signing a link to {url} failed: {detail}")]
    Presign {
        /// `s3://` URL of the report.
        url: String,
        /// Why.
        detail: String,
    },
    /// SNS refused or failed the message.
    #[error("publishing the report's message to {topic} failed: {detail}")]
    Publish {
        /// The topic's ARN.
        topic: String,
        /// The SDK's description.
        detail: String,
    },
}

fn number(r: &InsightResult, row: &[serde_json::Value], column: &str) -> Option<f64> {
    row.get(r.column(column)?)?.as_f64()
}

fn text<'a>(r: &InsightResult, row: &'a [serde_json::Value], column: &str) -> Option<&'a str> {
    row.get(r.column(column)?)?.as_str()
}

fn percent(v: f64) -> String {
    format!("{:+.2}%", v * 100.0)
}

/// A few figures worth a line each: the top gainer and loser, the most volatile symbol.
fn headlines(report: &Report) -> Vec<String> {
    let mut out = vec![];
    if let Some(r) = report.insight("top_movers").filter(|r| r.succeeded()) {
        for (side, label) in [("gainer", "Top gainer"), ("loser", "Top loser")] {
            let first = r.rows.iter().find(|row| {
                text(r, row, "side") == Some(side) && number(r, row, "rank") == Some(1.0)
            });
            if let Some(row) = first {
                let (Some(symbol), Some(ret)) = (text(r, row, "symbol"), number(r, row, "ret"))
                else {
                    continue;
                };
                let mut line = format!("{label}: {symbol} {}", percent(ret));
                if let (Some(a), Some(b)) = (text(r, row, "first_date"), text(r, row, "last_date"))
                {
                    let _ = write!(line, " ({a} to {b})");
                }
                out.push(line);
            }
        }
    }
    if let Some(r) = report.insight("volatility").filter(|r| r.succeeded()) {
        let most = r
            .rows
            .iter()
            .filter_map(|row| Some((text(r, row, "symbol")?, number(r, row, "annual_vol")?)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((symbol, vol)) = most {
            out.push(format!(
                "Most volatile: {symbol}, {:.2}% a year",
                vol * 100.0
            ));
        }
    }
    out
}

/// The first line of an error, shortened.
fn short(error: &str) -> String {
    let line = error.lines().next().unwrap_or_default();
    if line.chars().count() <= ERROR_CHARS {
        return line.to_string();
    }
    let cut: String = line.chars().take(ERROR_CHARS).collect();
    format!("{cut}…")
}

/// The message for `report`, published at `report_url` (`s3://…/report.html`), with `link`.
pub fn message(report: &Report, report_url: &str, link: &Link) -> Message {
    let p = &report.params;
    let total = report.insights.len();
    let failed = report.insights.iter().filter(|r| !r.succeeded()).count();
    let status = match failed {
        0 => format!("{total} insights"),
        f if f == total => format!("all {total} insights FAILED"),
        f => format!("{} of {total} insights, {f} failed", total - f),
    };
    let mut subject = format!("StockStream report {} to {}: {status}", p.from, p.to);
    if subject.chars().count() > SUBJECT_CHARS {
        subject = subject.chars().take(SUBJECT_CHARS).collect();
    }
    let symbols = if p.symbols.is_empty() {
        "every symbol in the lake".to_string()
    } else {
        p.symbols.join(", ")
    };
    let mut b = String::new();
    let _ = writeln!(
        b,
        "StockStream insight report, made {} on {}.\n",
        report.generated_at, report.engine
    );
    let _ = writeln!(b, "Window:  {} to {}", p.from, p.to);
    let _ = writeln!(b, "Symbols: {symbols}\n");
    let lines = headlines(report);
    if !lines.is_empty() {
        let _ = writeln!(b, "Headlines:");
        for l in lines {
            let _ = writeln!(b, "- {l}");
        }
        b.push('\n');
    }
    let _ = writeln!(b, "Insights ({status}):");
    for r in &report.insights {
        match &r.error {
            None => {
                let n = r.rows.len();
                let rows = if n == 1 { "row" } else { "rows" };
                let _ = writeln!(b, "- {} ({}): {n} {rows}", r.title, r.name);
            }
            Some(e) => {
                let _ = writeln!(b, "- {} ({}): FAILED: {}", r.title, r.name, short(e));
            }
        }
    }
    let _ = writeln!(
        b,
        "\nOpen the report (link signed for {} day{}, until {} at the latest):\n{}\n",
        link.days,
        if link.days == 1 { "" } else { "s" },
        link.expires.format("%Y-%m-%d %H:%M UTC"),
        link.url
    );
    if link.asked_days > link.days {
        let _ = writeln!(
            b,
            "REPORT_LINK_DAYS asks for {} days; a presigned S3 link lasts at most {MAX_LINK_DAYS}.",
            link.asked_days
        );
    }
    let _ = writeln!(
        b,
        "The link is signed with the report function's temporary credentials and stops \
         working when they expire, which can be within hours: open it soon. Later, find the \
         report in the bucket: {report_url} (report.json and one CSV per insight beside it)."
    );
    Message { subject, body: b }
}

/// `(bucket, key)` of an `s3://bucket/key` URL.
fn split_s3_url(url: &str) -> Option<(&str, &str)> {
    url.strip_prefix("s3://")?.split_once('/')
}

/// Signs a link to `report_url` (`s3://bucket/key`) valid from `now`, and publishes the
/// message on the topic; returns SNS's message id.
pub async fn notify(
    notifier: &Notifier,
    s3: &aws_sdk_s3::Client,
    report: &Report,
    report_url: &str,
    now: DateTime<Utc>,
) -> Result<String, NotifyError> {
    let presign_error = |detail: String| NotifyError::Presign {
        url: report_url.to_string(),
        detail,
    };
    let (bucket, key) =
        split_s3_url(report_url).ok_or_else(|| presign_error("not an s3:// URL".into()))?;
    let days = link_days(notifier.link_days);
    let valid = Duration::from_secs(u64::from(days) * 86_400);
    let config = PresigningConfig::builder()
        .start_time(SystemTime::from(now))
        .expires_in(valid)
        .build()
        .map_err(|e| presign_error(e.to_string()))?;
    let signed = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .presigned(config)
        .await
        .map_err(|e| presign_error(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?;
    let link = Link {
        url: signed.uri().to_string(),
        expires: now + chrono::Duration::days(i64::from(days)),
        asked_days: notifier.link_days,
        days,
    };
    let m = message(report, report_url, &link);
    let out = notifier
        .sns
        .publish()
        .topic_arn(&notifier.topic_arn)
        .subject(m.subject)
        .message(m.body)
        .send()
        .await
        .map_err(|e| NotifyError::Publish {
            topic: notifier.topic_arn.clone(),
            detail: aws_sdk_sns::error::DisplayErrorContext(&e).to_string(),
        })?;
    Ok(out.message_id().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Report {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/report.json"
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn link(asked_days: u32) -> Link {
        Link {
            url: "https://data.s3.us-east-1.amazonaws.com/reports/2026-11-26/060007Z/report.html?X-Amz-Signature=abc".into(),
            expires: DateTime::parse_from_rfc3339("2026-12-03T06:00:07Z")
                .unwrap()
                .with_timezone(&Utc),
            asked_days,
            days: link_days(asked_days),
        }
    }

    const URL: &str = "s3://data/reports/2026-11-26/060007Z/report.html";

    #[test]
    fn the_message_summarises_the_fixture_report() {
        let m = message(&fixture(), URL, &link(7));
        let want = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/report-message.txt"
        ))
        .unwrap();
        assert_eq!(
            m.subject,
            "StockStream report 2025-11-25 to 2026-11-25: 7 of 8 insights, 1 failed"
        );
        assert_eq!(m.body, want, "the message, in full:\n{}", m.body);
    }

    #[test]
    fn a_link_longer_than_s3_allows_is_clamped_and_the_message_says_so() {
        assert_eq!((link_days(0), link_days(3), link_days(30)), (1, 3, 7));
        let m = message(&fixture(), URL, &link(30));
        assert!(m.body.contains("signed for 7 days"), "{}", m.body);
        assert!(
            m.body.contains(
                "REPORT_LINK_DAYS asks for 30 days; a presigned S3 link lasts at most 7."
            ),
            "{}",
            m.body
        );
        assert!(!message(&fixture(), URL, &link(7)).body.contains("asks for"));
    }

    #[test]
    fn all_failed_and_no_headlines() {
        let mut r = fixture();
        for i in &mut r.insights {
            i.error = Some(format!("{}\nsecond line", "x".repeat(300)));
            i.rows.clear();
        }
        let m = message(&r, URL, &link(1));
        assert!(
            m.subject.ends_with(": all 8 insights FAILED"),
            "{}",
            m.subject
        );
        assert!(m.subject.chars().count() <= 100);
        assert!(!m.body.contains("Headlines"), "{}", m.body);
        assert!(!m.body.contains("second line"));
        assert!(m.body.contains(&format!("FAILED: {}…\n", "x".repeat(160))));
        assert!(m.body.contains("signed for 1 day,"), "{}", m.body);
    }

    #[test]
    fn s3_urls_split_into_bucket_and_key() {
        assert_eq!(
            split_s3_url(URL),
            Some(("data", "reports/2026-11-26/060007Z/report.html"))
        );
        assert_eq!(split_s3_url("https://x/y"), None);
    }
}
