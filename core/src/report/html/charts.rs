//! Each insight's chart, drawn by `svg` from the insight's result: bars for top movers,
//! volatility, drawdown and completeness, and a small chart per symbol for moving averages.
//! Where a chart would not help (the issue listing; moving averages of every symbol, one row
//! each) a line of totals stands in its place. Charts find their columns by name and are left
//! out, not broken, when a column is missing or there are no rows: the table under them still
//! shows what there is.

use super::{by_symbol, completeness, per_symbol, COMPLETENESS_SHOWN, MA_CHARTS};
use crate::report::format::{self, escape};
use crate::report::palette::{COMPLETENESS, DRAWDOWN, GAIN, LOSS, VOLATILITY};
use crate::report::svg::{self, Bar, BarChart, Day, Legend, Swatch};
use crate::report::{number, text, InsightResult};
use chrono::NaiveDate;
use std::fmt::Write as _;

/// The kinds of `quality_issues`, in the order the report explains them, with their names.
const QUALITY_KINDS: [(&str, &str); 4] = [
    ("missing_day", "missing trading days"),
    ("stale_run", "stale runs"),
    ("restatement", "restated bars"),
    ("implausible_move", "implausible moves"),
];

/// The chart (or charts) of an insight that has one.
pub(super) fn charts(out: &mut String, r: &InsightResult, named: bool) {
    let single = match r.name.as_str() {
        "top_movers" => top_movers_chart(r),
        "volatility" => volatility_chart(r),
        "max_drawdown" => drawdown_chart(r),
        "data_quality" => completeness_chart(r),
        "quality_issues" => {
            quality_totals(out, r);
            None
        }
        "moving_averages" if per_symbol(r, named) => {
            moving_average_standing(out, r);
            None
        }
        "moving_averages" => {
            moving_average_charts(out, r);
            None
        }
        _ => None,
    };
    if let Some(svg) = single {
        let _ = writeln!(out, "<figure class=\"chart-card\">{svg}</figure>");
    }
}

fn top_movers_chart(r: &InsightResult) -> Option<String> {
    let mut moves = by_symbol(r, "ret");
    // Largest gain on top down to the largest loss: gainers and losers read as one ranking.
    moves.sort_by(|a, b| b.1.total_cmp(&a.1));
    let bars = moves
        .into_iter()
        .map(|(label, value)| {
            let gain = value >= 0.0;
            Bar {
                text: format::signed_percent(value),
                label,
                value,
                class: if gain { "gain" } else { "loss" },
                colour: if gain { GAIN } else { LOSS },
            }
        })
        .collect();
    svg::bar_chart(&BarChart {
        insight: &r.name,
        title: "Return from first to last trading day in the window",
        bars,
        legend: vec![
            Legend {
                label: "Gainers",
                colour: GAIN,
                shape: Swatch::Block,
            },
            Legend {
                label: "Losers",
                colour: LOSS,
                shape: Swatch::Block,
            },
        ],
    })
}

fn volatility_chart(r: &InsightResult) -> Option<String> {
    let mut vols = by_symbol(r, "annual_vol");
    vols.sort_by(|a, b| b.1.total_cmp(&a.1));
    svg::bar_chart(&BarChart {
        insight: &r.name,
        title: "Annualised volatility of daily log returns",
        bars: vols
            .into_iter()
            .map(|(label, value)| Bar {
                text: format::percent(value),
                label,
                value,
                class: "volatility",
                colour: VOLATILITY,
            })
            .collect(),
        legend: vec![],
    })
}

fn drawdown_chart(r: &InsightResult) -> Option<String> {
    let mut falls = by_symbol(r, "max_drawdown");
    falls.sort_by(|a, b| a.1.total_cmp(&b.1));
    svg::bar_chart(&BarChart {
        insight: &r.name,
        title: "Largest fall from a running peak within the window",
        bars: falls
            .into_iter()
            .map(|(label, value)| Bar {
                text: format::percent(value),
                label,
                value,
                class: "drawdown",
                colour: DRAWDOWN,
            })
            .collect(),
        legend: vec![],
    })
}

fn completeness_chart(r: &InsightResult) -> Option<String> {
    let shown: Vec<(String, f64)> = completeness(r)
        .into_iter()
        .take(COMPLETENESS_SHOWN)
        .collect();
    svg::bar_chart(&BarChart {
        insight: &r.name,
        title: "Bars present of the trading days expected, least complete first",
        bars: shown
            .into_iter()
            .map(|(label, value)| Bar {
                text: format::percent(value),
                label,
                value,
                class: "completeness",
                colour: COMPLETENESS,
            })
            .collect(),
        legend: vec![],
    })
}

/// How many issues of each kind were found, and how many the listing shows.
fn quality_totals(out: &mut String, r: &InsightResult) {
    let (Some(kind), Some(total), Some(rank)) =
        (r.column("kind"), r.column("kind_total"), r.column("rank"))
    else {
        return;
    };
    let mut parts = vec![];
    for (name, what) in QUALITY_KINDS {
        let rows: Vec<&Vec<serde_json::Value>> = r
            .rows
            .iter()
            .filter(|row| text(row.get(kind)).as_deref() == Some(name))
            .collect();
        let found = rows
            .iter()
            .filter_map(|row| number(row.get(total)))
            .fold(0.0, f64::max);
        let listed = rows
            .iter()
            .filter_map(|row| number(row.get(rank)))
            .fold(0.0, f64::max);
        parts.push(if listed < found {
            format!(
                "{} {what} (the first {} listed)",
                format::whole(found),
                format::whole(listed)
            )
        } else {
            format!("{} {what}", format::whole(found))
        });
    }
    let _ = writeln!(
        out,
        "<p class=\"quality-totals\">Found: {}.</p>",
        escape(&parts.join(" · "))
    );
}

/// One small chart per symbol, in the order the symbols first appear, at most [`MA_CHARTS`].
fn moving_average_charts(out: &mut String, r: &InsightResult) {
    let (Some(sym), Some(date)) = (r.column("symbol"), r.column("trade_date")) else {
        return;
    };
    let (price, ma50, ma200, signal) = (
        r.column("price"),
        r.column("ma50"),
        r.column("ma200"),
        r.column("signal"),
    );
    let get = |row: &[serde_json::Value], c: Option<usize>| c.and_then(|c| number(row.get(c)));
    let mut order: Vec<String> = vec![];
    let mut series: std::collections::HashMap<String, Vec<Day>> = Default::default();
    for row in &r.rows {
        let (Some(symbol), Some(day)) = (
            text(row.get(sym)),
            text(row.get(date)).and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
        ) else {
            continue;
        };
        let days = series.entry(symbol.clone()).or_insert_with(|| {
            order.push(symbol);
            vec![]
        });
        days.push(Day {
            date: day,
            price: get(row, price),
            ma50: get(row, ma50),
            ma200: get(row, ma200),
            signal: signal.and_then(|c| text(row.get(c))),
        });
    }
    let mut svgs = vec![];
    for symbol in &order {
        let days = series
            .get_mut(symbol)
            .expect("every ordered symbol has days");
        days.sort_by_key(|d| d.date);
        if let Some(svg) = svg::moving_average_chart(&r.name, symbol, days) {
            svgs.push(svg);
        }
    }
    if svgs.is_empty() {
        return;
    }
    let total = svgs.len();
    out.push_str("<div class=\"chart-grid\">\n");
    for svg in svgs.into_iter().take(MA_CHARTS) {
        let _ = writeln!(out, "<figure class=\"chart-card small\">{svg}</figure>");
    }
    out.push_str("</div>\n");
    if total > MA_CHARTS {
        let _ = writeln!(
            out,
            "<p class=\"note\">Charts for the first {MA_CHARTS} of {total} symbols; the table and the CSV file <code>{}</code> cover all.</p>",
            escape(&r.csv_file_name())
        );
    }
}

/// What one row per symbol of `moving_averages` (a report of every symbol) says in all: how
/// many symbols stand with the 50-day average above the 200-day one, and how many crossed.
fn moving_average_standing(out: &mut String, r: &InsightResult) {
    let (Some(ma50), Some(ma200), Some(last)) =
        (r.column("ma50"), r.column("ma200"), r.column("last_cross"))
    else {
        return;
    };
    let (mut above, mut below, mut golden, mut death) = (0usize, 0usize, 0usize, 0usize);
    for row in &r.rows {
        match (number(row.get(ma50)), number(row.get(ma200))) {
            (Some(a), Some(b)) if a > b => above += 1,
            (Some(a), Some(b)) if a < b => below += 1,
            _ => {}
        }
        match text(row.get(last)).as_deref() {
            Some("golden_cross") => golden += 1,
            Some("death_cross") => death += 1,
            _ => {}
        }
    }
    let _ = writeln!(
        out,
        "<p class=\"quality-totals\">{} symbols on their last day: {} with the 50-day average above the 200-day, {} below. Latest cross in the window: {} golden, {} death. One row per symbol; a report naming at most {} symbols gets each one's daily series and chart.</p>",
        format::whole(r.rows.len() as f64),
        format::whole(above as f64),
        format::whole(below as f64),
        format::whole(golden as f64),
        format::whole(death as f64),
        crate::insights::MAX_SYMBOLS,
    );
}

#[cfg(test)]
mod tests {
    use super::super::tests::{charts_of, report, result};
    use super::*;
    use crate::report::html::to_html;
    use serde_json::{json, Value};

    #[test]
    fn charts_are_skipped_when_columns_are_missing_or_rows_are_empty() {
        let renamed = result(
            "top_movers",
            &["symbol", "return"],
            vec![vec![json!("A"), json!(0.1)]],
        );
        let empty = result("max_drawdown", &["symbol", "max_drawdown"], vec![]);
        let html = to_html(&report(vec![renamed, empty]));
        assert_eq!(charts_of(&html, "top_movers"), 0);
        assert_eq!(charts_of(&html, "max_drawdown"), 0);
        assert!(html.contains("No rows"));
        // The table still shows what there is.
        assert!(html.contains("<td class=\"sym\">A</td>"));
    }

    #[test]
    fn top_movers_are_green_up_and_red_down_largest_gain_first() {
        let movers = result(
            "top_movers",
            &["side", "rank", "symbol", "ret"],
            vec![
                vec![json!("gainer"), json!(1), json!("B"), json!(0.3)],
                vec![json!("gainer"), json!(2), json!("A"), json!(0.1)],
                vec![json!("loser"), json!(1), json!("C"), json!(-0.2)],
            ],
        );
        let html = to_html(&report(vec![movers]));
        assert_eq!(html.matches(r#"class="bar gain""#).count(), 2);
        assert_eq!(html.matches(r#"class="bar loss""#).count(), 1);
        let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
        let order: Vec<usize> = [">B<", ">A<", ">C<"]
            .iter()
            .map(|s| svg.find(s).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]));
        assert!(html.contains("Top gainer") && html.contains("Top loser"));
        assert!(html.contains(r#"<span class="badge gain">Gainer</span>"#));
    }

    fn ma_rows(symbols: usize, days: usize) -> Vec<Vec<Value>> {
        let mut rows = vec![];
        for s in 0..symbols {
            for k in 0..days {
                let date =
                    NaiveDate::from_ymd_opt(2021, 1, 4).unwrap() + chrono::Duration::days(k as i64);
                let signal = if k == 10 {
                    json!("golden_cross")
                } else {
                    json!(null)
                };
                rows.push(vec![
                    json!(format!("S{s:02}")),
                    json!(date.to_string()),
                    json!(100.0 + k as f64),
                    json!(100.0),
                    json!(99.0),
                    signal,
                ]);
            }
        }
        rows
    }

    #[test]
    fn moving_averages_chart_each_symbol_up_to_the_limit_and_shorten_the_table() {
        let cols = ["symbol", "trade_date", "price", "ma50", "ma200", "signal"];
        // A named list of symbols: each one's daily series.
        let mut named = report(vec![result("moving_averages", &cols, ma_rows(14, 30))]);
        named.params.symbols = (0..14).map(|s| format!("S{s:02}")).collect();
        let html = to_html(&named);
        assert_eq!(charts_of(&html, "moving_averages"), MA_CHARTS);
        assert!(html.contains("Charts for the first 12 of 14 symbols"));
        assert_eq!(html.matches(r#"class="series "#).count(), 3 * MA_CHARTS);
        // 14 crosses and 14 latest days, of 420 rows.
        assert!(
            html.contains("Showing 28 of 420 rows"),
            "{}",
            &html[html.find("Showing").unwrap_or(0)..][..80]
        );
        assert!(html.contains("<code>moving_averages.csv</code>"));
        assert_eq!(
            html.matches("<span class=\"badge gain\">Golden cross</span>")
                .count(),
            14
        );
        assert!(html
            .contains("14 <span class=\"unit\">golden</span> 0 <span class=\"unit\">death</span>"));
    }
}
