//! The report as one self-contained HTML5 page for people: inline CSS and SVG, no script, no
//! font, image or link from outside, so the file opens offline, from a mail attachment or an
//! S3 download alike, and prints.
//!
//! Layout: a header (window, symbols, engine, time), a summary (what ran, the headline
//! figures, contents), then one section per insight in suite order with its chart and table;
//! a failed insight shows its error in a red box.
//!
//! This module is the page itself: its frame (masthead, one section per insight, rejected
//! rows, footer), the limits on how much of a result it shows, and the readings of a result
//! that more than one part of the page makes. The parts are modules of their own, since each
//! is read and changed on its own:
//!
//! - [`summary`](mod@summary): the headline figures, the data-completeness card and the contents;
//! - [`charts`](mod@charts): each insight's chart, or the line of totals that stands in for one;
//! - [`table`](mod@table): each insight's table, shortened to the rows that matter, and its cells;
//! - `style.css`: the page's style, inlined into the page.

mod charts;
mod summary;
mod table;

use super::format::{self, escape};
use super::{number, text, InsightResult, Report};
use charts::charts;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use summary::summary;
use table::table;

/// Most rows a table shows. Longer results are shortened to the rows that matter, with a
/// note pointing to the CSV, which has them all: a page of 5,000 rows helps nobody.
const TABLE_ROWS: usize = 40;

/// Most moving-average charts, one per symbol: more small charts than this are not read.
const MA_CHARTS: usize = 12;

/// Most symbols the completeness card and chart name, the least complete first.
const COMPLETENESS_SHOWN: usize = 20;

/// The report as an HTML5 page.
pub fn to_html(report: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let window = format!(
        "{} – {}",
        format::day(&report.params.from.to_string()),
        format::day(&report.params.to.to_string())
    );
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<title>StockStream insight report · {}</title>",
        escape(&window)
    );
    let _ = writeln!(out, "<style>\n{CSS}</style>\n</head>\n<body>");
    masthead(&mut out, report, &window);
    out.push_str("<main>\n");
    summary(&mut out, report, &window);
    let named = report.params.named_list();
    for result in &report.insights {
        section(&mut out, result, named);
    }
    rejects(&mut out, &report.rejects);
    out.push_str("</main>\n");
    let _ = writeln!(
        out,
        "<footer><p>StockStream insight report, {} engine, generated {}. Returns, moving averages, \
         volatility and drawdowns use the adjusted close where the source gives one. Every \
         insight's full result is in its own CSV file, named after the insight, and in the JSON \
         report. For information only; not investment advice.</p></footer>",
        escape(&report.engine),
        escape(&format::timestamp(&report.generated_at)),
    );
    out.push_str("</body>\n</html>\n");
    out
}

/// The page's header: the window, the symbols, the engine and when the report was made.
fn masthead(out: &mut String, report: &Report, window: &str) {
    let (symbols, asked) = symbols(report);
    let symbols_text = if asked {
        symbols.join(", ")
    } else if symbols.is_empty() {
        "All in the lake".to_string()
    } else {
        format!("All in the lake ({} found)", symbols.len())
    };
    let _ = write!(
        out,
        r#"<header class="masthead"><div class="wrap">
<p class="brand">StockStream</p>
<h1>Market insight report</h1>
<dl class="facts">
<div><dt>Window</dt><dd>{}</dd></div>
<div class="symbols"><dt>Symbols</dt><dd>{}</dd></div>
<div><dt>Engine</dt><dd>{}</dd></div>
<div><dt>Generated</dt><dd><time datetime="{}">{}</time></dd></div>
</dl>
</div></header>
"#,
        escape(window),
        escape(&symbols_text),
        escape(&report.engine),
        escape(&report.generated_at),
        escape(&format::timestamp(&report.generated_at)),
    );
}

/// The symbols the report covers: those asked for, else those found in the results.
fn symbols(report: &Report) -> (Vec<String>, bool) {
    if !report.params.symbols.is_empty() {
        return (report.params.symbols.clone(), true);
    }
    let mut found = BTreeSet::new();
    for r in report.insights.iter().filter(|r| r.succeeded()) {
        if let Some(c) = r.column("symbol") {
            found.extend(r.rows.iter().filter_map(|row| text(row.get(c))));
        }
    }
    (found.into_iter().collect(), false)
}

/// One insight's section. `named`: the report names its symbols (then `moving_averages` is
/// each symbol's daily series, else one row per symbol).
fn section(out: &mut String, r: &InsightResult, named: bool) {
    let failed = !r.succeeded();
    let _ = writeln!(
        out,
        "<section class=\"panel insight{}\" id=\"{}\">",
        if failed { " failed" } else { "" },
        escape(&anchor(&r.name))
    );
    let meta = if failed {
        format!(
            "<span class=\"chip bad\">failed</span> after {}",
            elapsed_text(r.elapsed_ms)
        )
    } else {
        format!(
            "{} · {} · <code>{}</code>",
            rows_text(r.rows.len()),
            elapsed_text(r.elapsed_ms),
            escape(&r.csv_file_name())
        )
    };
    let _ = writeln!(
        out,
        "<div class=\"section-head\"><h2>{}</h2><p class=\"meta\">{meta}</p></div>\n<p class=\"description\">{}</p>",
        escape(&r.title),
        escape(&r.description)
    );
    if let Some(error) = &r.error {
        let _ = writeln!(
            out,
            "<div class=\"failed-box\" role=\"alert\"><p class=\"failed-title\">Failed: this insight did not run, so this report has no results for it.</p><pre class=\"error\">{}</pre></div>",
            escape(error)
        );
    } else if r.rows.is_empty() {
        out.push_str("<p class=\"empty\">No rows: nothing in this window met this insight's conditions.</p>\n");
    } else {
        charts(out, r, named);
        table(out, r, named);
    }
    out.push_str("</section>\n");
}

fn elapsed_text(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

fn rows_text(n: usize) -> String {
    match n {
        0 => "no rows".to_string(),
        1 => "1 row".to_string(),
        n => format!("{} rows", format::whole(n as f64)),
    }
}

/// The `id` of an insight's section: its name with anything but `[A-Za-z0-9_-]` replaced.
fn anchor(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("insight-{safe}")
}

/// The rows that never reached the lake, per input file and reason (nothing when none are
/// known).
fn rejects(out: &mut String, files: &[super::FileRejects]) {
    if files.is_empty() {
        return;
    }
    let total: u64 = files.iter().map(|f| f.rejected()).sum();
    let _ = write!(
        out,
        "<section class=\"panel insight\" id=\"rejects\">\n<div class=\"section-head\"><h2>Rejected rows</h2></div>\n\
         <p class=\"description\">{} row(s) of the input never reached the lake; each is kept with \
         its reason in the rejects file beside the input (<code>stockstream-local rejects</code> \
         summarises it).</p>\n<div class=\"table-wrap\"><table class=\"data\"><thead><tr>\
         <th scope=\"col\">file</th><th scope=\"col\" class=\"num\">rejected</th><th scope=\"col\">why</th>\
         </tr></thead>\n<tbody>\n",
        total
    );
    for f in files {
        let why: Vec<String> = f
            .reasons
            .iter()
            .map(|(code, n)| format!("{} × {}", n, escape(code)))
            .collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&f.file),
            f.rejected(),
            why.join(", ")
        );
    }
    out.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// Rows of `result` as (symbol, value of `column`), skipping nulls.
fn by_symbol(result: &InsightResult, column: &str) -> Vec<(String, f64)> {
    let (Some(s), Some(v)) = (result.column("symbol"), result.column(column)) else {
        return vec![];
    };
    result
        .rows
        .iter()
        .filter_map(|row| Some((text(row.get(s))?, number(row.get(v))?)))
        .collect()
}

/// Each symbol's completeness (bars present of the trading days expected), least complete
/// first, then by symbol.
fn completeness(r: &InsightResult) -> Vec<(String, f64)> {
    let mut all = by_symbol(r, "completeness");
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    all
}

/// True when `moving_averages` is one row per symbol (a report of every symbol, its SQL's
/// per-symbol form) rather than daily series (a named list, or a report from before).
fn per_symbol(r: &InsightResult, named: bool) -> bool {
    let (Some(sym), Some(_)) = (r.column("symbol"), r.column("last_cross")) else {
        return false;
    };
    let mut seen = std::collections::HashSet::new();
    !named && r.rows.iter().all(|row| seen.insert(text(row.get(sym))))
}

/// The page's style. Colours of data come from the SVG attributes (see `palette`); table text
/// uses darker shades so the chart colours stay unique on the page.
const CSS: &str = include_str!("style.css");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::Params;
    use chrono::NaiveDate;
    use serde_json::{json, Value};

    // `result`, `report` and `charts_of` serve the tests of `summary`, `charts` and `table` too.

    pub(super) fn result(name: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> InsightResult {
        InsightResult {
            name: name.into(),
            title: format!("Title of {name}"),
            description: format!("Description of {name}."),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
            error: None,
            elapsed_ms: 1234,
        }
    }

    pub(super) fn report(insights: Vec<InsightResult>) -> Report {
        Report {
            generated_at: "2026-11-26T10:00:00Z".into(),
            engine: "DataFusion".into(),
            params: Params {
                from: NaiveDate::from_ymd_opt(2021, 1, 4).unwrap(),
                to: NaiveDate::from_ymd_opt(2021, 6, 30).unwrap(),
                symbols: vec![],
                benchmark: None,
                pairs: 10,
                pair_candidates: 100,
            },
            insights,
            rejects: vec![],
        }
    }

    pub(super) fn charts_of(html: &str, insight: &str) -> usize {
        html.matches(&format!(r#"<svg class="chart" data-insight="{insight}""#))
            .count()
    }

    #[test]
    fn a_page_has_header_summary_and_sections() {
        let vol = result(
            "volatility",
            &["symbol", "n_returns", "daily_vol", "annual_vol"],
            vec![
                vec![json!("HSI"), json!(124), json!(0.011), json!(0.1746)],
                vec![json!("N225"), json!(124), json!(null), json!(null)],
            ],
        );
        let html = to_html(&report(vec![vol]));
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("4 Jan 2021 – 30 Jun 2021"));
        assert!(html.contains("All in the lake (2 found)"));
        assert!(html.contains("26 Nov 2026, 10:00 UTC"));
        assert!(html.contains(r#"id="insight-volatility""#));
        assert_eq!(charts_of(&html, "volatility"), 1);
        assert_eq!(
            html.matches(r#"class="bar volatility""#).count(),
            1,
            "null has no bar"
        );
        assert!(html.contains(">17.46%<"));
        assert!(html.contains("Most volatile"));
        assert!(!html.contains("<script"));
        assert!(
            !html.contains("http:") && !html.contains("https:"),
            "no external URL"
        );
    }

    #[test]
    fn a_failed_insight_shows_its_escaped_error_and_nothing_else() {
        let mut bad = result("top_movers", &[], vec![]);
        bad.error = Some("boom <script>alert(1)</script> & \"x\"".into());
        let html = to_html(&report(vec![bad]));
        assert!(html.contains(r#"class="failed-box""#));
        assert!(html.contains("boom &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
        assert!(!html.contains("<script"));
        assert_eq!(charts_of(&html, "top_movers"), 0);
        assert!(html.contains("1 failed"));
    }

    #[test]
    fn an_intraday_restatement_shows_which_minute_and_counts_as_a_bar() {
        // The columns of the SQL text itself, so a column added there is rendered here.
        let issues = crate::insights::by_name("quality_issues").unwrap();
        let row = |cells: &[(&str, Value)]| -> Vec<Value> {
            issues
                .columns
                .iter()
                .map(|c| {
                    cells
                        .iter()
                        .find(|(name, _)| name == c)
                        .map_or(Value::Null, |(_, v)| v.clone())
                })
                .collect()
        };
        let version = |v: u64, status: &str| {
            row(&[
                ("kind", json!("restatement")),
                ("rank", json!(1)),
                ("kind_total", json!(1)),
                ("symbol", json!("AAPL")),
                ("trade_date", json!("2021-03-01")),
                ("bar_time", json!("09:45")),
                ("version", json!(v)),
                ("status", json!(status)),
            ])
        };
        let missing = row(&[
            ("kind", json!("missing_day")),
            ("rank", json!(1)),
            ("kind_total", json!(1)),
            ("symbol", json!("AAPL")),
            ("trade_date", json!("2021-03-02")),
        ]);
        let rows = vec![missing, version(1, "kept"), version(2, "superseded")];
        let html = to_html(&report(vec![result(
            "quality_issues",
            &issues.columns,
            rows,
        )]));
        assert!(html.contains("<th scope=\"col\">Bar time</th>"), "{html}");
        assert_eq!(html.matches("<td>09:45</td>").count(), 2, "{html}");
        assert!(html.contains("1 restated bars"), "{html}");
    }

    #[test]
    fn rejected_rows_are_listed_per_file_and_reason_escaped() {
        let mut r = report(vec![]);
        assert!(
            !to_html(&r).contains("Rejected rows"),
            "no section without rejects"
        );
        r.rejects = vec![super::super::FileRejects {
            file: "<bad>.csv".into(),
            reasons: [
                ("bad_number".to_string(), 3),
                ("high_below_low".to_string(), 2),
            ]
            .into_iter()
            .collect(),
        }];
        let html = to_html(&r);
        assert!(html.contains("Rejected rows"));
        assert!(html.contains("5 row(s) of the input never reached the lake"));
        assert!(
            html.contains("<td>&lt;bad&gt;.csv</td><td class=\"num\">5</td>"),
            "{html}"
        );
        assert!(html.contains("3 × bad_number, 2 × high_below_low"));
    }
}
