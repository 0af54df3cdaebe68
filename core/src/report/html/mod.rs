//! The report as one self-contained HTML5 page for people: inline CSS and SVG, no script, no
//! font, image or link from outside, so the file opens offline, from a mail attachment or an
//! S3 download alike, and prints.
//!
//! Layout: a header (window, symbols, engine, time), a summary (what ran, the headline
//! figures, contents), then one section per insight in suite order with its chart and table.
//! Charts find their columns by name and are left out, not broken, when a column is missing
//! or there are no rows; a failed insight shows its error in a red box.

use super::format::{self, escape, Kind};
use super::palette::{COMPLETENESS, DRAWDOWN, GAIN, LOSS, VOLATILITY};
use super::svg::{self, Bar, BarChart, Day, Legend, Swatch};
use super::{number, text, InsightResult, Report};
use chrono::NaiveDate;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Most rows a table shows. Longer results are shortened to the rows that matter, with a
/// note pointing to the CSV, which has them all: a page of 5,000 rows helps nobody.
pub(crate) const TABLE_ROWS: usize = 40;

/// Most moving-average charts, one per symbol: more small charts than this are not read.
pub(crate) const MA_CHARTS: usize = 12;

/// Most symbols the completeness card and chart name, the least complete first.
pub(crate) const COMPLETENESS_SHOWN: usize = 20;

/// The kinds of `quality_issues`, in the order the report explains them, with their names.
const QUALITY_KINDS: [(&str, &str); 4] = [
    ("missing_day", "missing trading days"),
    ("stale_run", "stale runs"),
    ("restatement", "restated bars"),
    ("implausible_move", "implausible moves"),
];

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
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");
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

/// The report's insight called `name`, when it ran.
fn ran<'a>(report: &'a Report, name: &str) -> Option<&'a InsightResult> {
    report.insight(name).filter(|r| r.succeeded())
}

fn summary(out: &mut String, report: &Report, window: &str) {
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

/// Each symbol's completeness (bars present of the trading days expected), least complete
/// first, then by symbol.
fn completeness(r: &InsightResult) -> Vec<(String, f64)> {
    let mut all = by_symbol(r, "completeness");
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    all
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

fn rows_text(n: usize) -> String {
    match n {
        0 => "no rows".to_string(),
        1 => "1 row".to_string(),
        n => format!("{} rows", format::whole(n as f64)),
    }
}

fn elapsed_text(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
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

/// The chart (or charts) of an insight that has one.
fn charts(out: &mut String, r: &InsightResult, named: bool) {
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

/// True when `moving_averages` is one row per symbol (a report of every symbol, its SQL's
/// per-symbol form) rather than daily series (a named list, or a report from before).
fn per_symbol(r: &InsightResult, named: bool) -> bool {
    let (Some(sym), Some(_)) = (r.column("symbol"), r.column("last_cross")) else {
        return false;
    };
    let mut seen = std::collections::HashSet::new();
    !named && r.rows.iter().all(|row| seen.insert(text(row.get(sym))))
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

fn table(out: &mut String, r: &InsightResult, named: bool) {
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

/// The page's style. Colours of data come from the SVG attributes (see `palette`); table text
/// uses darker shades so the chart colours stay unique on the page.
const CSS: &str = r#"
:root{--ink:#0f172a;--text:#334155;--muted:#64748b;--line:#e2e8f0;--bg:#f1f5f9;--pos:#15803d;--neg:#b91c1c}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.5 "Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans",system-ui,sans-serif;-webkit-text-size-adjust:100%}
.wrap,main{max-width:1180px;margin:0 auto;padding:0 24px}
.masthead{background:linear-gradient(135deg,#0b1f3a 0%,#163a6b 100%);color:#fff;padding:26px 0 22px}
.brand{margin:0;font-size:12px;font-weight:700;letter-spacing:.16em;text-transform:uppercase;color:#93c5fd}
h1{margin:2px 0 16px;font-size:28px;font-weight:700;letter-spacing:-.01em}
.facts{display:flex;flex-wrap:wrap;gap:10px 44px;margin:0}
.facts dt{font-size:11px;font-weight:600;letter-spacing:.08em;text-transform:uppercase;color:#94a3b8}
.facts dd{margin:2px 0 0;font-size:15px;font-weight:600}
.facts .symbols{max-width:560px}
main{padding-top:22px;padding-bottom:8px}
.panel{background:#fff;border:1px solid var(--line);border-radius:12px;padding:18px 24px 20px;margin:0 0 18px;box-shadow:0 1px 2px rgba(15,23,42,.05)}
h2{margin:0;font-size:19px;font-weight:700;letter-spacing:-.005em}
.summary h2{margin-bottom:4px}
.lead{margin:0 0 14px;color:var(--text);font-size:15px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px}
.card{border:1px solid var(--line);border-radius:10px;padding:10px 12px;background:#f8fafc}
.card .k{font-size:11px;font-weight:600;letter-spacing:.05em;text-transform:uppercase;color:var(--muted);white-space:nowrap}
.card .v{font-size:20px;font-weight:700;margin-top:2px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.card .v .unit{font-size:12px;font-weight:600;color:var(--muted)}
.card .s{font-size:12px;color:var(--muted)}
.contents{display:flex;flex-wrap:wrap;gap:6px 8px;margin-top:14px}
.contents a{display:inline-flex;align-items:center;gap:6px;padding:3px 6px 3px 12px;border:1px solid var(--line);border-radius:999px;color:var(--ink);text-decoration:none;font-size:13px;background:#fff}
.contents a:hover{border-color:#94a3b8}
.chip{display:inline-block;padding:0 8px;border-radius:999px;background:#f1f5f9;color:var(--muted);font-size:11.5px;font-weight:600}
.chip.bad{background:#fee2e2;color:#991b1b}
.section-head{display:flex;align-items:baseline;justify-content:space-between;gap:6px 16px;flex-wrap:wrap}
.meta{margin:0;color:var(--muted);font-size:12px}
.description{margin:2px 0 12px;color:var(--text)}
code{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.92em;background:#f1f5f9;border-radius:4px;padding:0 4px}
figure{margin:0 0 14px}
svg.chart{display:block;width:100%;height:auto;overflow:visible}
svg.chart text{fill:var(--text);font-size:12px}
svg.chart .chart-title{fill:var(--ink);font-size:14px;font-weight:700}
svg.chart .tick{fill:var(--muted);font-size:11px}
svg.chart .label{fill:var(--ink);font-size:13px;font-weight:600}
svg.chart .legend{fill:var(--text)}
svg.chart .headline{font-size:13px;font-weight:700;fill:var(--ink)}
svg.chart .headline .pos{fill:var(--pos)}
svg.chart .headline .neg{fill:var(--neg)}
.chart-grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:12px 16px;margin:0 0 14px}
.chart-grid figure{margin:0;border:1px solid var(--line);border-radius:10px;padding:8px 10px 2px}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:10px}
table.data{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
table.data th{background:#f8fafc;color:var(--muted);font-size:11px;font-weight:700;letter-spacing:.05em;text-transform:uppercase;text-align:left;padding:7px 12px;border-bottom:1px solid var(--line);white-space:nowrap}
table.data td{padding:5px 12px;border-bottom:1px solid #f1f5f9;white-space:nowrap}
table.data tbody tr:last-child td{border-bottom:0}
table.data tbody tr:nth-child(even){background:#fbfcfe}
table.data .num{text-align:right}
td.sym{font-weight:600}
td.null{color:#cbd5e1}
.pos{color:var(--pos)}
.neg{color:var(--neg)}
.badge{display:inline-block;padding:0 9px;border-radius:999px;font-size:12px;font-weight:600}
.badge.gain{background:#dcfce7;color:#166534}
.badge.loss{background:#fee2e2;color:#991b1b}
.badge.neutral{background:#f1f5f9;color:var(--text)}
.card.quality{grid-column:1/-1}
.completeness{display:flex;flex-wrap:wrap;gap:2px 18px;margin:4px 0 2px;padding:0;list-style:none;font-size:14px;font-variant-numeric:tabular-nums}
.completeness .sym{font-weight:600}
.quality-totals{margin:0 0 10px;color:var(--text)}
.note,.empty{margin:8px 0 0;font-size:12.5px;color:var(--muted)}
.failed-box{border:1px solid #fecaca;border-left:5px solid #b91c1c;border-radius:8px;background:#fef2f2;padding:12px 16px;color:#7f1d1d}
.failed-title{margin:0;font-weight:700}
.failed-box pre{margin:8px 0 0;padding:10px 12px;background:#fff;border:1px solid #fecaca;border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere;font:12.5px/1.45 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;color:#7f1d1d}
footer{max-width:1180px;margin:0 auto;padding:4px 24px 32px;color:var(--muted);font-size:12px}
@media (max-width:820px){.chart-grid{grid-template-columns:1fr}.wrap,main{padding:0 12px}.panel{padding:14px}}
@media print{body{background:#fff}.panel{box-shadow:none;break-inside:avoid}.masthead{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::Params;
    use serde_json::{json, Value};

    fn result(name: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> InsightResult {
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

    fn report(insights: Vec<InsightResult>) -> Report {
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

    fn charts_of(html: &str, insight: &str) -> usize {
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
