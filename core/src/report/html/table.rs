//! Each insight's table: which rows it shows (all of a short result; of a long one the rows
//! that matter, in the order worth reading, with a note pointing to the CSV, which has them
//! all) and each cell formatted for its column: signed and coloured returns, grouped numbers,
//! dates for people, badges for signals.

use super::{per_symbol, TABLE_ROWS};
use crate::report::format::{self, escape, Kind};
use crate::report::{number, text, InsightResult};
use std::fmt::Write as _;

/// One insight's table: the rows [`shown_rows`] picks, and a note when it left some out.
pub(super) fn table(out: &mut String, r: &InsightResult, named: bool) {
    let kinds: Vec<Kind> = r.columns.iter().map(|c| format::kind(c)).collect();
    out.push_str("<div class=\"table-wrap\"><table class=\"data\"><thead><tr>");
    for (c, k) in r.columns.iter().zip(&kinds) {
        let _ = write!(
            out,
            "<th scope=\"col\"{}>{}</th>",
            if format::is_numeric(*k) {
                " class=\"num\""
            } else {
                ""
            },
            escape(&format::label(c))
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    let (rows, shortened) = shown_rows(r, named);
    for &i in &rows {
        out.push_str("<tr>");
        for (k, (column, kind)) in r.columns.iter().zip(&kinds).enumerate() {
            cell(out, column, *kind, r.rows[i].get(k));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    if let Some(what) = shortened {
        let _ = writeln!(
            out,
            "<p class=\"note\">Showing {} of {} rows: {}. The full data is in the CSV file <code>{}</code>.</p>",
            format::whole(rows.len() as f64),
            format::whole(r.rows.len() as f64),
            escape(&what),
            escape(&r.csv_file_name())
        );
    }
}

/// The rows a table shows, in the order shown (result order but for a per-symbol
/// `moving_averages`), and what they are when not all of them.
fn shown_rows(r: &InsightResult, named: bool) -> (Vec<usize>, Option<String>) {
    let n = r.rows.len();
    if r.name == "moving_averages" && per_symbol(r, named) {
        if let Some(mut idx) = latest_crosses_first(r) {
            if n <= TABLE_ROWS {
                return (idx, None);
            }
            idx.truncate(TABLE_ROWS);
            return (
                idx,
                Some(format!(
                    "the {TABLE_ROWS} symbols of the most recent golden or death crosses"
                )),
            );
        }
    }
    // The issue listing is bounded by its SQL (a few dozen rows of each kind) and is read
    // whole: its kinds would otherwise hide each other.
    if n <= TABLE_ROWS || r.name == "quality_issues" {
        return ((0..n).collect(), None);
    }
    let strongest = |column: &str| -> Option<Vec<usize>> {
        let c = r.column(column)?;
        let mut idx: Vec<(usize, f64)> = (0..n)
            .filter_map(|i| Some((i, number(r.rows[i].get(c))?.abs())))
            .collect();
        idx.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut keep: Vec<usize> = idx.into_iter().take(TABLE_ROWS).map(|(i, _)| i).collect();
        keep.sort_unstable();
        Some(keep)
    };
    let picked = match r.name.as_str() {
        "moving_averages" => r.column("symbol").map(|sym| {
            // Every cross, and each symbol's latest day (its current standing).
            let mut keep = vec![false; n];
            let mut last: std::collections::HashMap<String, usize> = Default::default();
            for (i, row) in r.rows.iter().enumerate() {
                if let Some(s) = text(row.get(sym)) {
                    last.insert(s, i);
                }
                if r.column("signal")
                    .is_some_and(|c| text(row.get(c)).is_some())
                {
                    keep[i] = true;
                }
            }
            for i in last.into_values() {
                keep[i] = true;
            }
            let mut idx: Vec<usize> = (0..n).filter(|&i| keep[i]).collect();
            // Thousands of symbols or crosses would make the short table long again.
            if idx.len() > 3 * TABLE_ROWS {
                idx.drain(..idx.len() - 3 * TABLE_ROWS);
            }
            (
                idx,
                "every golden and death cross and each symbol's latest day".to_string(),
            )
        }),
        "correlation" => r.column("kind").map(|kind| correlation_rows(r, kind)),
        "volume_anomalies" => strongest("z").map(|idx| {
            let k = idx.len();
            (
                idx,
                format!("the {k} days furthest from normal volume (largest |z|)"),
            )
        }),
        _ => None,
    };
    let (idx, what) =
        picked.unwrap_or_else(|| ((0..TABLE_ROWS).collect(), format!("the first {TABLE_ROWS}")));
    (idx, Some(what))
}

/// The rows of a per-symbol `moving_averages` result by its latest cross, the most recent
/// first, symbols without one after (each group by symbol).
fn latest_crosses_first(r: &InsightResult) -> Option<Vec<usize>> {
    let date = r.column("last_cross_date")?;
    let sym = r.column("symbol")?;
    let mut idx: Vec<usize> = (0..r.rows.len()).collect();
    idx.sort_by(|&a, &b| {
        let (da, db) = (text(r.rows[a].get(date)), text(r.rows[b].get(date)));
        let by_date = match (&da, &db) {
            (Some(x), Some(y)) => y.cmp(x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        by_date.then_with(|| text(r.rows[a].get(sym)).cmp(&text(r.rows[b].get(sym))))
    });
    Some(idx)
}

/// The rows of a long `correlation` table worth reading (its rows come ranked, benchmark
/// rows first): every most and least correlated pair, the symbols most and least
/// correlated to the benchmark, and of a full matrix the pairs of strongest correlation.
fn correlation_rows(r: &InsightResult, kind: usize) -> (Vec<usize>, String) {
    let of = |k: &str| -> Vec<usize> {
        (0..r.rows.len())
            .filter(|&i| text(r.rows[i].get(kind)).as_deref() == Some(k))
            .collect()
    };
    let ends = TABLE_ROWS / 4;
    let bench = of("benchmark");
    let mut keep: Vec<usize> = if bench.len() > 2 * ends {
        bench[..ends]
            .iter()
            .chain(&bench[bench.len() - ends..])
            .copied()
            .collect()
    } else {
        bench.clone()
    };
    keep.extend(of("most"));
    keep.extend(of("least"));
    let mut matrix: Vec<(usize, f64)> = of("pair")
        .into_iter()
        .filter_map(|i| Some((i, number(r.rows[i].get(r.column("correlation")?))?.abs())))
        .collect();
    let from_matrix = matrix.len().min(TABLE_ROWS);
    matrix.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    keep.extend(matrix.iter().take(TABLE_ROWS).map(|(i, _)| *i));
    keep.sort_unstable();
    let mut what = vec![];
    if bench.len() > 2 * ends {
        what.push(format!(
            "the {ends} symbols most and the {ends} least correlated to the benchmark"
        ));
    } else if !bench.is_empty() {
        what.push("every symbol against the benchmark".to_string());
    }
    if keep
        .iter()
        .any(|&i| text(r.rows[i].get(kind)).as_deref() == Some("most"))
    {
        what.push("the most and least correlated pairs".to_string());
    }
    if from_matrix > 0 {
        what.push(format!(
            "the {from_matrix} pairs with the strongest correlation, either sign"
        ));
    }
    (keep, what.join("; "))
}

/// One table cell, formatted for its column.
fn cell(out: &mut String, column: &str, kind: Kind, value: Option<&serde_json::Value>) {
    let numeric = format::is_numeric(kind);
    let Some(raw) = text(value) else {
        let _ = write!(
            out,
            "<td class=\"null{}\">—</td>",
            if numeric { " num" } else { "" }
        );
        return;
    };
    let (class, html) = match kind {
        _ if numeric => match number(value) {
            Some(v) => {
                let sign = match kind {
                    Kind::Return | Kind::PriceChange if v > 0.0 => " pos",
                    Kind::Return | Kind::PriceChange if v < 0.0 => " neg",
                    _ => "",
                };
                (format!("num{sign}"), escape(&format::value(kind, v)))
            }
            None => ("num".to_string(), escape(&raw)),
        },
        Kind::Signal | Kind::Side => {
            let tone = match raw.as_str() {
                "golden_cross" | "gainer" | "kept" => "gain",
                "death_cross" | "loser" => "loss",
                _ => "neutral",
            };
            (
                String::new(),
                format!(
                    "<span class=\"badge {tone}\">{}</span>",
                    escape(&format::badge_text(&raw))
                ),
            )
        }
        _ if column == "symbol" || column.starts_with("symbol_") => {
            ("sym".to_string(), escape(&raw))
        }
        _ if column == "as_of" || column.ends_with("_date") => {
            ("date".to_string(), escape(&format::day(&raw)))
        }
        _ => match value.and_then(|v| v.as_f64()) {
            Some(v) => ("num".to_string(), escape(&format::value(kind, v))),
            None => (String::new(), escape(&raw)),
        },
    };
    if class.is_empty() {
        let _ = write!(out, "<td>{html}</td>");
    } else {
        let _ = write!(out, "<td class=\"{class}\">{html}</td>");
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{charts_of, report, result};
    use super::*;
    use crate::report::html::to_html;
    use chrono::NaiveDate;
    use serde_json::{json, Value};

    #[test]
    fn moving_averages_of_every_symbol_list_the_latest_crosses_first_without_charts() {
        let cols = [
            "symbol",
            "trade_date",
            "price",
            "ma50",
            "ma200",
            "signal",
            "last_cross_date",
            "last_cross",
        ];
        // One row per symbol (the SQL's order, by symbol): S00..S59; every third crossed,
        // S00 earliest, golden for even symbols and death for odd ones.
        let rows: Vec<Vec<Value>> = (0..60)
            .map(|s| {
                let crossed = s % 3 == 0;
                let day = NaiveDate::from_ymd_opt(2021, 1, 4).unwrap() + chrono::Duration::days(s);
                let kind = if s % 2 == 0 {
                    "golden_cross"
                } else {
                    "death_cross"
                };
                vec![
                    json!(format!("S{s:02}")),
                    json!("2021-06-30"),
                    json!(100.0),
                    json!(if s % 2 == 0 { 101.0 } else { 99.0 }),
                    json!(100.0),
                    json!(null),
                    if crossed {
                        json!(day.to_string())
                    } else {
                        json!(null)
                    },
                    if crossed { json!(kind) } else { json!(null) },
                ]
            })
            .collect();
        let r = result("moving_averages", &cols, rows);
        let (shown, what) = shown_rows(&r, false);
        assert_eq!(shown.len(), TABLE_ROWS);
        // The 20 crossed symbols, the latest (S57) first, then the others by symbol.
        let crossed: Vec<usize> = (0..60).rev().filter(|s| s % 3 == 0).collect();
        assert_eq!(&shown[..20], &crossed[..]);
        assert_eq!(
            shown[20..],
            [1, 2, 4, 5, 7, 8, 10, 11, 13, 14, 16, 17, 19, 20, 22, 23, 25, 26, 28, 29]
        );
        assert!(what
            .unwrap()
            .contains("most recent golden or death crosses"));
        // A short result is shown whole, in the same order.
        let few = result("moving_averages", &cols, r.rows[..6].to_vec());
        assert_eq!(shown_rows(&few, false), (vec![3, 0, 1, 2, 4, 5], None));

        let html = to_html(&report(vec![r]));
        assert_eq!(charts_of(&html, "moving_averages"), 0);
        assert!(html.contains(
            "60 symbols on their last day: 30 with the 50-day average above the 200-day, 30 below. \
             Latest cross in the window: 10 golden, 10 death."
        ));
        assert!(html.contains("Showing 40 of 60 rows"));
        assert!(html.contains(
            "10 <span class=\"unit\">golden</span> 10 <span class=\"unit\">death</span>"
        ));
        assert!(html.contains("latest cross per symbol"));
        assert_eq!(
            html.matches("<span class=\"badge loss\">Death cross</span>")
                .count(),
            10
        );
    }

    #[test]
    fn other_long_tables_keep_the_strongest_or_first_rows() {
        let columns = [
            "kind",
            "rank",
            "symbol_a",
            "symbol_b",
            "n_days",
            "correlation",
        ];
        let row = |kind: &str, k: usize, c: f64| {
            vec![
                json!(kind),
                json!(k + 1),
                json!(format!("A{k}")),
                json!("B"),
                json!(100),
                json!(c),
            ]
        };
        // A full matrix of a named list: the strongest pairs, either sign.
        let pairs: Vec<Vec<Value>> = (0..60)
            .map(|k| row("pair", k, (k as f64 - 30.0) / 31.0))
            .collect();
        let corr = result("correlation", &columns, pairs);
        let (rows, what) = shown_rows(&corr, false);
        assert_eq!(rows.len(), TABLE_ROWS);
        assert!(what.unwrap().contains("strongest"));
        assert!(
            !rows.contains(&30),
            "correlation 0 is not among the strongest"
        );
        assert!(rows.contains(&0) && rows.contains(&59));
        // Every symbol against the benchmark, then the most and least pairs: both ends of
        // the benchmark ranking and every pair.
        let mut all: Vec<Vec<Value>> = (0..500)
            .map(|k| row("benchmark", k, 1.0 - k as f64 / 250.0))
            .collect();
        all.extend((0..10).map(|k| row("most", k, 0.9 - k as f64 / 100.0)));
        all.extend((0..10).map(|k| row("least", k, -0.9 + k as f64 / 100.0)));
        let corr = result("correlation", &columns, all);
        let (rows, what) = shown_rows(&corr, false);
        let ends = TABLE_ROWS / 4;
        let want: Vec<usize> = (0..ends).chain(500 - ends..520).collect();
        assert_eq!(rows, want);
        assert_eq!(
            what.unwrap(),
            format!(
                "the {ends} symbols most and the {ends} least correlated to the benchmark; \
                 the most and least correlated pairs"
            )
        );
        let plain = result(
            "latest_close",
            &["symbol"],
            (0..50).map(|k| vec![json!(k)]).collect(),
        );
        let (rows, what) = shown_rows(&plain, false);
        assert_eq!(rows, (0..TABLE_ROWS).collect::<Vec<_>>());
        assert_eq!(what.unwrap(), "the first 40");
    }

    #[test]
    fn cells_are_formatted_for_their_columns() {
        let mut out = String::new();
        cell(&mut out, "ret_1m", Kind::Return, Some(&json!(-0.0312)));
        cell(&mut out, "volume", Kind::Whole, Some(&json!(48123456)));
        cell(&mut out, "close", Kind::Price, Some(&json!(null)));
        cell(
            &mut out,
            "trade_date",
            Kind::Plain,
            Some(&json!("2021-06-30")),
        );
        cell(&mut out, "symbol", Kind::Plain, Some(&json!("S&P<500>")));
        cell(&mut out, "price", Kind::Price, Some(&json!("n/a")));
        assert_eq!(
            out,
            "<td class=\"num neg\">-3.12%</td><td class=\"num\">48,123,456</td><td class=\"null num\">—</td>\
             <td class=\"date\">30 Jun 2021</td><td class=\"sym\">S&amp;P&lt;500&gt;</td><td class=\"num\">n/a</td>"
        );
    }
}
