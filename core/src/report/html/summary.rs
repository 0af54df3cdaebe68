//! The summary at the top of the page: how many insights ran, the headline figures (top
//! gainer and loser, most volatile, deepest drawdown, moving-average crosses, unusual volume),
//! the data-completeness card and the contents. Unlike a section, which reads one insight,
//! the summary reads several; a card whose insight failed or is absent is left out.

use super::{anchor, by_symbol, completeness, per_symbol, rows_text, symbols, COMPLETENESS_SHOWN};
use crate::report::format::{self, escape};
use crate::report::{number, text, InsightResult, Report};
use std::fmt::Write as _;

/// The report's insight called `name`, when it ran.
fn ran<'a>(report: &'a Report, name: &str) -> Option<&'a InsightResult> {
    report.insight(name).filter(|r| r.succeeded())
}

/// The summary panel: the lead sentence, the headline cards, the data-completeness card and
/// the contents.
pub(super) fn summary(out: &mut String, report: &Report, window: &str) {
    let total = report.insights.len();
    let failed: Vec<&InsightResult> = report.insights.iter().filter(|r| !r.succeeded()).collect();
    let (symbols, _) = symbols(report);
    out.push_str("<section class=\"panel summary\" aria-label=\"Summary\">\n<h2>Summary</h2>\n");
    let _ = write!(
        out,
        "<p class=\"lead\">{} symbol{} over {}. {} of {} insights ran",
        symbols.len(),
        if symbols.len() == 1 { "" } else { "s" },
        escape(window),
        total - failed.len(),
        total
    );
    if failed.is_empty() {
        out.push_str(".</p>\n");
    } else {
        let names: Vec<String> = failed.iter().map(|r| escape(&r.title)).collect();
        let _ = writeln!(
            out,
            "; <strong class=\"neg\">{} failed</strong> ({}), shown in red below.</p>",
            failed.len(),
            names.join(", ")
        );
    }

    out.push_str("<div class=\"cards\">\n");
    let card = |out: &mut String, key: &str, value: &str, class: &str, sub: &str| {
        let _ = writeln!(
            out,
            "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v {class}\">{value}</div><div class=\"s\">{sub}</div></div>",
            escape(key)
        );
    };
    let status_class = if failed.is_empty() { "" } else { "neg" };
    card(
        out,
        "Insights",
        &format!("{} of {}", total - failed.len(), total),
        status_class,
        &if failed.is_empty() {
            "all ran".to_string()
        } else {
            format!("{} failed", failed.len())
        },
    );
    if let Some(r) = ran(report, "top_movers") {
        let moves = by_symbol(r, "ret");
        let best = moves
            .iter()
            .filter(|m| m.1 > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let worst = moves
            .iter()
            .filter(|m| m.1 < 0.0)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((s, v)) = best {
            card(
                out,
                "Top gainer",
                &escape(s),
                "",
                &format!(
                    "<span class=\"pos\">{}</span> return",
                    format::signed_percent(*v)
                ),
            );
        }
        if let Some((s, v)) = worst {
            card(
                out,
                "Top loser",
                &escape(s),
                "",
                &format!(
                    "<span class=\"neg\">{}</span> return",
                    format::signed_percent(*v)
                ),
            );
        }
    }
    if let Some(r) = ran(report, "volatility") {
        let vols = by_symbol(r, "annual_vol");
        if let Some((s, v)) = vols.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
            card(
                out,
                "Most volatile",
                &escape(s),
                "",
                &format!("{} annualised", format::percent(*v)),
            );
        }
    }
    if let Some(r) = ran(report, "max_drawdown") {
        let falls = by_symbol(r, "max_drawdown");
        if let Some((s, v)) = falls
            .iter()
            .filter(|f| f.1 < 0.0)
            .min_by(|a, b| a.1.total_cmp(&b.1))
        {
            card(
                out,
                "Max drawdown",
                &escape(s),
                "",
                &format!(
                    "<span class=\"neg\">{}</span> from peak",
                    format::percent(*v)
                ),
            );
        }
    }
    if let Some(r) = ran(report, "moving_averages") {
        // A named list has every day's signal; a report of every symbol one row per symbol,
        // with the kind of its latest cross in the window.
        let (column, note) = if per_symbol(r, report.params.named_list()) {
            ("last_cross", "latest cross per symbol, 50- vs 200-day MA")
        } else {
            ("signal", "50- vs 200-day MA")
        };
        if let Some(sig) = r.column(column) {
            let signals: Vec<String> = r.rows.iter().filter_map(|row| text(row.get(sig))).collect();
            let golden = signals.iter().filter(|s| *s == "golden_cross").count();
            let death = signals.iter().filter(|s| *s == "death_cross").count();
            card(
                out,
                "MA crosses",
                &format!("{golden} <span class=\"unit\">golden</span> {death} <span class=\"unit\">death</span>"),
                "",
                note,
            );
        }
    }
    if let Some(r) = ran(report, "volume_anomalies") {
        // The SQL lists the strongest of a report of every symbol and counts them all.
        let listed = r.rows.len();
        let n = r
            .column("n_anomalies")
            .and_then(|c| {
                r.rows
                    .iter()
                    .filter_map(|row| number(row.get(c)))
                    .reduce(f64::max)
            })
            .map_or(listed, |t| t as usize)
            .max(listed);
        let days = if n == 1 {
            "day at 3σ or more".to_string()
        } else {
            "days at 3σ or more".to_string()
        };
        let note = if listed < n {
            format!(
                "{days}, the {} strongest listed",
                format::whole(listed as f64)
            )
        } else {
            days
        };
        card(out, "Unusual volume", &format::whole(n as f64), "", &note);
    }
    out.push_str("</div>\n");
    if let Some(r) = ran(report, "data_quality") {
        completeness_card(out, r);
    }

    out.push_str("<nav class=\"contents\" aria-label=\"Contents\">\n");
    for r in &report.insights {
        let chip = if !r.succeeded() {
            "<span class=\"chip bad\">failed</span>".to_string()
        } else {
            format!("<span class=\"chip\">{}</span>", rows_text(r.rows.len()))
        };
        let _ = writeln!(
            out,
            "<a href=\"#{}\">{} {chip}</a>",
            escape(&anchor(&r.name)),
            escape(&r.title)
        );
    }
    out.push_str("</nav>\n</section>\n");
}

/// The summary's data-quality card: the completeness of every symbol (the least complete
/// [`COMPLETENESS_SHOWN`] when there are more), and the issues found.
fn completeness_card(out: &mut String, r: &InsightResult) {
    let all = completeness(r);
    if all.is_empty() {
        return;
    }
    let total = |column: &str| -> f64 {
        r.column(column)
            .map(|c| r.rows.iter().filter_map(|row| number(row.get(c))).sum())
            .unwrap_or(0.0)
    };
    let issues: Vec<String> = [
        ("missing_days", "missing days"),
        ("stale_runs", "stale runs"),
        ("restated_days", "restated bars"),
        ("implausible_moves", "implausible moves"),
    ]
    .iter()
    .map(|(c, what)| format!("{} {what}", format::whole(total(c))))
    .collect();
    let _ = write!(
        out,
        "<div class=\"card quality\"><div class=\"k\">Data completeness</div><ul class=\"completeness\">"
    );
    for (symbol, v) in all.iter().take(COMPLETENESS_SHOWN) {
        let class = if *v < 1.0 { " class=\"neg\"" } else { "" };
        let _ = write!(
            out,
            "<li><span class=\"sym\">{}</span> <span{class}>{}</span></li>",
            escape(symbol),
            escape(&format::percent(*v))
        );
    }
    out.push_str("</ul>");
    let more = if all.len() > COMPLETENESS_SHOWN {
        format!(
            "the {COMPLETENESS_SHOWN} least complete of {} symbols; ",
            all.len()
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "<div class=\"s\">{more}bars present of trading days expected · {}</div></div>",
        escape(&issues.join(", "))
    );
}

#[cfg(test)]
mod tests {
    use super::super::tests::{report, result};
    use crate::report::html::to_html;
    use serde_json::json;

    #[test]
    fn bounded_volume_anomalies_count_every_one_in_the_card() {
        let cols = [
            "symbol",
            "trade_date",
            "volume",
            "n_prior",
            "mean_volume",
            "stddev_volume",
            "z",
            "n_anomalies",
        ];
        let rows = (0..3)
            .map(|k| {
                vec![
                    json!(format!("S{k}")),
                    json!("2021-03-01"),
                    json!(1000),
                    json!(60),
                    json!(100.0),
                    json!(10.0),
                    json!(90.0 - k as f64),
                    json!(250),
                ]
            })
            .collect();
        let html = to_html(&report(vec![result("volume_anomalies", &cols, rows)]));
        assert!(
            html.contains("days at 3σ or more, the 3 strongest listed"),
            "{html}"
        );
        assert!(html.contains(">250<"));
    }
}
